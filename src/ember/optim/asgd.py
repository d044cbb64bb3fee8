"""ASGD: stochastic gradient descent that also keeps a running average of the iterates."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.optim._fused import add_scaled
from ember.optim.optimizer import Optimizer, ParamsT, _advance, _check, _check_flags, _new_step


class ASGD(Optimizer):
    """Averaged stochastic gradient descent (torch.optim.ASGD).

    For each parameter p with gradient g (-g when `maximize`), at step t = 1, 2, ...,
    with eta (the current step size, lr at first) and mu (the averaging weight, 1 at first):

        g <- g + weight_decay * p
        p <- p * (1 - lambd * eta) - eta * g
        ax <- p                      if mu == 1
        ax <- ax + mu * (p - ax)     otherwise
        eta <- lr / (1 + lambd * lr * t) ** alpha
        mu <- 1 / max(1, t - t0)

    The parameters follow the SGD iterates; the average is in the state, 'ax': from step
    t0 + 2 on, it is the mean of the iterates since that step. State per
    parameter: 'step', 'eta', 'mu' (0-d float32 tensors) and 'ax'.
    """

    _sparse_error = "ASGD does not support sparse gradients"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check(lr >= 0.0, "learning rate", lr)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        _check_flags(differentiable)
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        lambd = float(group["lambd"])
        alpha = float(group["alpha"])
        t0 = float(group["t0"])
        weight_decay = float(group["weight_decay"])
        state = self.state
        for p, data, g in self._params_with_grad(group):
            p_state = state[p]
            if not p_state:
                p_state["step"] = _new_step()
                p_state["eta"] = Tensor(np.array(lr, dtype=np.float32))
                p_state["mu"] = Tensor(np.ones((), dtype=np.float32))
                p_state["ax"] = Tensor(np.zeros_like(data))
            step = _advance(p_state["step"])
            if weight_decay != 0:
                g = add_scaled(g, data, weight_decay)
            eta_data, mu_data = p_state["eta"]._data, p_state["mu"]._data
            eta = float(eta_data)  # as in PyTorch, eta and mu are used at float32 precision
            data *= 1 - lambd * eta
            add_scaled(data, g, -eta, out=data)
            ax = p_state["ax"]._data
            mu = float(mu_data)
            if mu != 1:
                diff = data - ax
                diff *= mu
                ax += diff
            else:
                ax[...] = data
            # rounded to float32 even where a loaded state dict made eta and mu float64 (it casts
            # them to the parameter's dtype), as PyTorch's as_tensor of the new values does
            eta_data[...] = np.float32(lr / ((1 + lambd * lr * step) ** alpha))
            mu_data[...] = np.float32(1 / max(1, step - t0))
            p._version_cell[0] += 1
