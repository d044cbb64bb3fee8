"""RAdam: Adam whose adaptive step is switched on only once its variance estimate is reliable."""

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


class RAdam(Optimizer):
    """Rectified Adam (torch.optim.RAdam).

    For each parameter p with gradient g (-g when `maximize`), at step t = 1, 2, ...:

        p <- p * (1 - lr * weight_decay)   if decoupled_weight_decay
        g <- g + weight_decay * p          otherwise
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g²
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        if rho_t > 5 (the variance of the adaptive rate is finite):
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            p <- p - lr * m / (1 - beta1**t) * sqrt(1 - beta2**t) / (sqrt(v) + eps) * r
        else (the first few steps: plain momentum SGD with bias correction):
            p <- p - lr * m / (1 - beta1**t)

    State per parameter: 'step' (0-d float32 tensor), 'exp_avg' (m) and 'exp_avg_sq' (v).
    """

    _sparse_error = "RAdam does not support sparse gradients"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
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
        _check_flags(differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
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
        decoupled = group["decoupled_weight_decay"]
        rho_inf = 2 / (1 - beta2) - 1
        state = self.state
        for p, data, g in self._params_with_grad(group):
            p_state = state[p]
            if not p_state:
                p_state["step"] = _new_step()
                p_state["exp_avg"] = Tensor(np.zeros_like(data))
                p_state["exp_avg_sq"] = Tensor(np.zeros_like(data))
            step = _advance(p_state["step"])
            if weight_decay != 0:
                if decoupled:
                    data *= 1 - lr * weight_decay
                else:
                    g = add_scaled(g, data, weight_decay)
            m = p_state["exp_avg"]._data
            v = p_state["exp_avg_sq"]._data
            lerp_(m, g, 1 - beta1)
            v *= beta2
            addcmul(v, g, g, 1 - beta2, out=v)
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            rho_t = rho_inf - 2 * step * beta2**step / bias_correction2
            # the same sequence of roundings as PyTorch: (m / bc1) * lr, then the factors
            update = m / bias_correction1
            update *= lr
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                denom = np.sqrt(v)
                denom += eps
                update *= bias_correction2**0.5 / denom
                update *= rect
            data -= update
            p._version_cell[0] += 1
