"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.optim._fused import add_scaled, lerp_
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


class Adamax(Optimizer):
    """Adamax (torch.optim.Adamax).

    For each parameter p with gradient g (-g when `maximize`), at step t = 1, 2, ...:

        g <- g + weight_decay * p
        m <- beta1 * m + (1 - beta1) * g
        u <- max(beta2 * u, |g| + eps)
        p <- p - lr / (1 - beta1**t) * m / u

    State per parameter: 'step', 'exp_avg' (m) and 'exp_inf' (u).
    """

    _sparse_error = "Adamax does not support sparse gradients"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check(lr >= 0.0, "learning rate", lr)
        _check(eps >= 0.0, "epsilon value", eps)
        _check_betas(betas)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        _check_flags(differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,  # as given: PyTorch keeps a list a list here (Adam makes a tuple)
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        if grad_dtypes:
            refuse_other_grad_dtypes(group)
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        state = self.state
        for p, data, g in self._params_with_grad(group):
            p_state = state[p]
            if not p_state:
                p_state["step"] = _new_step()
                p_state["exp_avg"] = Tensor(np.zeros_like(data))
                p_state["exp_inf"] = Tensor(np.zeros_like(data))
            step = _advance(p_state["step"])
            if weight_decay != 0:
                g = add_scaled(g, data, weight_decay)
            m = p_state["exp_avg"]._data
            u = p_state["exp_inf"]._data
            lerp_(m, g, 1 - beta1)
            u *= beta2
            bound = np.abs(g)
            bound += eps
            np.maximum(u, bound, out=u)
            update = m * (lr / (1 - beta1**step))
            update /= u
            data -= update
            p._version_cell[0] += 1
