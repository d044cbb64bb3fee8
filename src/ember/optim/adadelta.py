"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.optim._fused import add_scaled, addcmul
from ember.optim.optimizer import Optimizer, ParamsT, _advance, _check, _check_flags, _new_step


class Adadelta(Optimizer):
    """Adadelta (torch.optim.Adadelta).

    For each parameter p with gradient g (-g when `maximize`):

        g <- g + weight_decay * p
        v <- rho * v + (1 - rho) * g²
        d <- sqrt(u + eps) / sqrt(v + eps) * g
        u <- rho * u + (1 - rho) * d²
        p <- p - lr * d

    State per parameter: 'step', 'square_avg' (v) and 'acc_delta' (u).
    """

    _sparse_error = "Adadelta does not support sparse gradients"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check(lr >= 0.0, "learning rate", lr)
        _check(0.0 <= rho <= 1.0, "rho value", rho)
        _check(eps >= 0.0, "epsilon value", eps)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        _check_flags(differentiable)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        rho = float(group["rho"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        state = self.state
        for p, data, g in self._params_with_grad(group):
            p_state = state[p]
            if not p_state:
                p_state["step"] = _new_step()
                p_state["square_avg"] = Tensor(np.zeros_like(data))
                p_state["acc_delta"] = Tensor(np.zeros_like(data))
            _advance(p_state["step"])
            if weight_decay != 0:
                g = add_scaled(g, data, weight_decay)
            v = p_state["square_avg"]._data
            u = p_state["acc_delta"]._data
            v *= rho
            addcmul(v, g, g, 1 - rho, out=v)
            delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
            u *= rho
            addcmul(u, delta, delta, 1 - rho, out=u)
            add_scaled(data, delta, -lr, out=data)
            p._version_cell[0] += 1
