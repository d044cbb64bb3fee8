"""Adafactor: Adam-like steps with a factored second moment, for memory-bound training."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.optim._fused import add_scaled, lerp_
from ember.optim.optimizer import Optimizer, ParamsT, _advance, _new_step, _refuse_complex


def _rms(a: np.ndarray) -> float:
    """The root mean square of the elements, as a Python float (||a|| / sqrt(numel))."""
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64)))) / math.sqrt(a.size)


def _mean_square(g: np.ndarray, axis: int) -> np.ndarray:
    """The mean of g² along axis, kept as a size-1 dim, in g's dtype."""
    return np.square(np.sqrt(np.sum(g * g, axis=axis, keepdims=True))) / g.dtype.type(g.shape[axis])


class Adafactor(Optimizer):
    """Adafactor (torch.optim.Adafactor), with PyTorch's choices for lr and eps1.

    For each parameter p with gradient g (-g when `maximize`), at step t = 1, 2, ...:

        beta2_t <- 1 - t**beta2_decay            (the running averages' decay grows with t)
        rho <- min(lr, 1 / sqrt(t))
        alpha <- max(eps2, RMS(p)) * rho         (a step relative to the parameter's size)
        p <- p * (1 - lr * weight_decay)
        matrices (dim > 1): R <- lerp(R, mean of g² over the last dim, 1 - beta2_t)
                            C <- lerp(C, mean of g² over the next-to-last dim, 1 - beta2_t)
                            V <- R C / max(mean(R), eps1)      (a rank-1 estimate of E[g²])
        vectors:            V <- lerp(V, g², 1 - beta2_t)
        u <- g / sqrt(max(V, eps1²))
        p <- p - alpha * u / max(1, RMS(u) / d)  (updates clipped to RMS d)

    A matrix keeps only one row and one column of statistics, not a full copy like Adam's
    second moment. eps1 None is the machine epsilon of the parameter's dtype. State per
    parameter: 'step', and 'row_var' and 'col_var' (matrices) or 'variance' (vectors).
    """

    _sparse_error = "Adafactor does not support sparse gradients"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        _refuse_complex(group, "Adafactor")
        lr = float(group["lr"])
        beta2_decay = float(group["beta2_decay"])
        eps1_option, eps2 = group["eps"]
        d = float(group["d"])
        weight_decay = float(group["weight_decay"])
        for p, data, g in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = _new_step()
                if g.ndim > 1:
                    state["row_var"] = Tensor(np.zeros(g.shape[:-1] + (1,), dtype=g.dtype))
                    state["col_var"] = Tensor(np.zeros(g.shape[:-2] + (1,) + g.shape[-1:], dtype=g.dtype))
                else:
                    state["variance"] = Tensor(np.zeros_like(g))
            eps1 = float(np.finfo(data.dtype).eps) if eps1_option is None else float(eps1_option)
            step = _advance(state["step"])
            weight = step**beta2_decay  # 1 - beta2_t, the weight of the new statistics
            rho = min(lr, 1 / step**0.5)
            alpha = max(eps2, _rms(data)) * rho
            if weight_decay != 0:
                data *= 1 - lr * weight_decay
            if g.ndim > 1:
                row_var, col_var = state["row_var"]._data, state["col_var"]._data
                lerp_(row_var, _mean_square(g, -1), weight)
                lerp_(col_var, _mean_square(g, -2), weight)
                # the outer product of the row and column statistics, normalised by the mean row
                var_estimate = row_var @ col_var
                var_estimate /= np.maximum(row_var.mean(axis=-2, keepdims=True), data.dtype.type(eps1))
            else:
                variance = state["variance"]._data
                lerp_(variance, g * g, weight)
                var_estimate = variance.copy()
            # eps1 squared, since the square root is taken after
            update = 1 / np.sqrt(np.maximum(var_estimate, data.dtype.type(eps1 * eps1)))
            update *= g
            denom = max(1.0, _rms(update) / d)
            add_scaled(data, update, -alpha / denom, out=data)
            p._version_cell[0] += 1
