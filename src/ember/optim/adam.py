"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

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
    _check_fused,
    _new_step,
    grad_dtypes,
    refuse_other_grad_dtypes,
)


class Adam(Optimizer):
    """Adam (torch.optim.Adam).

    For each parameter p with gradient g (-g when `maximize`), at step t = 1, 2, ...:

        p <- p * (1 - lr * weight_decay)   if decoupled_weight_decay  (AdamW)
        g <- g + weight_decay * p          otherwise                  (L2 penalty)
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g²
        v_max <- max(v_max, v)             with amsgrad, and v_max is used below instead of v
        p <- p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    State per parameter: 'step' (0-d float32 tensor), 'exp_avg' (m), 'exp_avg_sq' (v) and
    'max_exp_avg_sq' (v_max, with amsgrad).
    """

    _sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check(lr >= 0.0, "learning rate", lr)
        _check(eps >= 0.0, "epsilon value", eps)
        _check_betas(betas)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        _check_flags(differentiable)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)
        _check_fused(fused, foreach)

    def _update_group(self, group: dict[str, Any]) -> None:
        if grad_dtypes:
            refuse_other_grad_dtypes(group)
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        amsgrad, decoupled = group["amsgrad"], group["decoupled_weight_decay"]
        state = self.state
        for p, data, g in self._params_with_grad(group):
            p_state = state[p]
            if not p_state:
                p_state["step"] = _new_step()
                p_state["exp_avg"] = Tensor(np.zeros_like(data))
                p_state["exp_avg_sq"] = Tensor(np.zeros_like(data))
                if amsgrad:
                    p_state["max_exp_avg_sq"] = Tensor(np.zeros_like(data))
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
            if amsgrad:
                v_max = p_state["max_exp_avg_sq"]._data
                np.maximum(v_max, v, out=v_max)
                v = v_max
            step_size = lr / (1 - beta1**step)
            denom = np.sqrt(v)
            denom /= (1 - beta2**step) ** 0.5
            denom += eps
            update = m * step_size
            update /= denom
            data -= update
            p._version_cell[0] += 1


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): `Adam(..., decoupled_weight_decay=True)`.

    The decay shrinks the parameters directly, p <- p * (1 - lr * weight_decay), instead of
    adding weight_decay * p to the gradient, so it is not rescaled by the adaptive
    denominator. The default weight_decay is 1e-2.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
