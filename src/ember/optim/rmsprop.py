"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.optim._fused import add_scaled, addcmul, lerp_
from ember.optim.optimizer import (
    Optimizer,
    ParamsT,
    _advance,
    _check,
    _check_flags,
    _new_step,
    grad_dtypes,
    refuse_other_grad_dtypes,
)


class RMSprop(Optimizer):
    """RMSprop (torch.optim.RMSprop).

    For each parameter p with gradient g (-g when `maximize`):

        g <- g + weight_decay * p
        v <- alpha * v + (1 - alpha) * g²
        a <- alpha * a + (1 - alpha) * g     and  d = sqrt(v - a²) + eps   if centered
                                                  d = sqrt(v) + eps        otherwise
        b <- momentum * b + g / d   and  p <- p - lr * b                   if momentum > 0
        p <- p - lr * g / d                                                otherwise

    State per parameter: 'step', 'square_avg' (v), 'momentum_buffer' (b, with momentum)
    and 'grad_avg' (a, when centered).
    """

    _sparse_error = "RMSprop does not support sparse gradients"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check(lr >= 0.0, "learning rate", lr)
        _check(eps >= 0.0, "epsilon value", eps)
        _check(momentum >= 0.0, "momentum value", momentum)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        _check(alpha >= 0.0, "alpha value", alpha)
        _check_flags(differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        if grad_dtypes and group["centered"]:
            refuse_other_grad_dtypes(group)
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered = group["centered"]
        state = self.state
        for p, data, g in self._params_with_grad(group):
            p_state = state[p]
            if not p_state:
                p_state["step"] = _new_step()
                p_state["square_avg"] = Tensor(np.zeros_like(data))
                if momentum > 0:
                    p_state["momentum_buffer"] = Tensor(np.zeros_like(data))
                if centered:
                    p_state["grad_avg"] = Tensor(np.zeros_like(data))
            _advance(p_state["step"])
            if weight_decay != 0:
                g = add_scaled(g, data, weight_decay)
            v = p_state["square_avg"]._data
            v *= alpha
            addcmul(v, g, g, 1 - alpha, out=v)
            if centered:
                a = p_state["grad_avg"]._data
                lerp_(a, g, 1 - alpha)
                denom = np.sqrt(addcmul(v, a, a, -1))
            else:
                denom = np.sqrt(v)
            denom += eps
            if momentum > 0:
                b = p_state["momentum_buffer"]._data
                b *= momentum
                b += g / denom
                add_scaled(data, b, -lr, out=data)
            else:
                update = g * lr
                update /= denom
                data -= update
            p._version_cell[0] += 1
