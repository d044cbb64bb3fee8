"""Rprop: resilient backpropagation, steps that follow only the sign of the gradient."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.optim.optimizer import Optimizer, ParamsT, _advance, _check, _check_flags, _new_step


class Rprop(Optimizer):
    """Rprop (torch.optim.Rprop).

    Each element of a parameter has its own step size s, which starts at lr. With gradient
    g (-g when `maximize`) and the gradient kept from the previous step g_prev:

        s <- clamp(s * etaplus,  min_step, max_step)   where g * g_prev > 0 (same sign: speed up)
        s <- clamp(s * etaminus, min_step, max_step)   where g * g_prev < 0 (overshot: slow down)
        g <- 0                                         where g * g_prev < 0 (and no move there)
        p <- p - sign(g) * s
        g_prev <- g

    State per parameter: 'step' (0-d float32 tensor), 'prev' (g_prev) and 'step_size' (s).
    """

    _sparse_error = "Rprop does not support sparse gradients"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check(lr >= 0.0, "learning rate", lr)
        _check(0.0 < etas[0] < 1.0 < etas[1], "eta values", f"{etas[0]}, {etas[1]}")
        _check_flags(differentiable)
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        etaminus, etaplus = (float(e) for e in group["etas"])
        step_min, step_max = (float(s) for s in group["step_sizes"])
        state = self.state
        for p, data, g in self._params_with_grad(group):
            p_state = state[p]
            if not p_state:
                p_state["step"] = _new_step()
                p_state["prev"] = Tensor(np.zeros_like(data))
                p_state["step_size"] = Tensor(np.full_like(g, float(group["lr"])))
            _advance(p_state["step"])
            prev = p_state["prev"]._data
            step_size = p_state["step_size"]._data
            product_sign = np.sign(g * prev)
            factor = np.where(product_sign > 0, etaplus, np.where(product_sign < 0, etaminus, 1.0))
            step_size *= factor.astype(step_size.dtype)  # the etas rounded to the parameter's precision
            lo, hi = np.array([step_min, step_max], dtype=step_size.dtype)
            np.clip(step_size, lo, hi, out=step_size)
            g = np.where(product_sign < 0, 0, g).astype(data.dtype, copy=False)
            # exact products (the sign is 0 or ±1): one rounding; a NaN gradient has sign 0, as
            # torch.sign gives it, so it leaves the parameter alone as in PyTorch
            data -= np.nan_to_num(np.sign(g), nan=0.0) * step_size
            prev[...] = g
            p._version_cell[0] += 1
