"""NAdam: Adam with Nesterov momentum and a warming-up momentum schedule."""

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
    _check_betas,
    _check_flags,
    _new_step,
    grad_dtypes,
    refuse_other_grad_dtypes,
)


class NAdam(Optimizer):
    """NAdam (torch.optim.NAdam).

    For each parameter p with gradient g (-g when `maximize`), at step t = 1, 2, ...:

        p <- p * (1 - lr * weight_decay)   if decoupled_weight_decay
        g <- g + weight_decay * p          otherwise
        mu_t = beta1 * (1 - 0.5 * 0.96**(t * momentum_decay))
        P_t = mu_1 * ... * mu_t
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g²
        d = sqrt(v / (1 - beta2**t)) + eps
        p <- p - lr * (1 - mu_t) / (1 - P_t) * g / d - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / d

    State per parameter: 'step', 'mu_product' (P_t, a 0-d float32 tensor), 'exp_avg' (m)
    and 'exp_avg_sq' (v).
    """

    _sparse_error = "NAdam does not support sparse gradients"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check(lr >= 0.0, "learning rate", lr)
        _check(eps >= 0.0, "epsilon value", eps)
        _check_betas(betas)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        _check(momentum_decay >= 0.0, "momentum_decay value", momentum_decay)
        _check_flags(differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,  # as given: PyTorch keeps a list a list here (Adam makes a tuple)
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        if grad_dtypes:
            refuse_other_grad_dtypes(group)
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        momentum_decay = float(group["momentum_decay"])
        decoupled = group["decoupled_weight_decay"]
        state = self.state
        for p, data, g in self._params_with_grad(group):
            p_state = state[p]
            if not p_state:
                p_state["step"] = _new_step()
                p_state["mu_product"] = Tensor(np.ones((), dtype=np.float32))
                p_state["exp_avg"] = Tensor(np.zeros_like(data))
                p_state["exp_avg_sq"] = Tensor(np.zeros_like(data))
            step = _advance(p_state["step"])
            if weight_decay != 0:
                if decoupled:
                    data *= 1 - lr * weight_decay
                else:
                    g = add_scaled(g, data, weight_decay)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            # PyTorch keeps the product in float32; rounding it the same way keeps the steps equal
            mu_product = p_state["mu_product"]._data
            mu_product *= mu
            product = float(mu_product)
            m = p_state["exp_avg"]._data
            v = p_state["exp_avg_sq"]._data
            lerp_(m, g, 1 - beta1)
            v *= beta2
            addcmul(v, g, g, 1 - beta2, out=v)
            denom = np.sqrt(v / (1 - beta2**step))
            denom += eps
            update = g * (lr * (1.0 - mu) / (1.0 - product))
            update /= denom
            data -= update
            update = m * (lr * mu_next / (1.0 - product * mu_next))
            update /= denom
            data -= update
            p._version_cell[0] += 1
