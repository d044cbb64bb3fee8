"""Adagrad: per-coordinate learning rates from the sum of all past squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.optim._fused import add_scaled, addcmul
from ember.optim.optimizer import (
    Optimizer,
    ParamsT,
    _advance,
    _check,
    _check_flags,
    _check_fused,
    _new_step,
    grad_dtypes,
    refuse_other_grad_dtypes,
)


class Adagrad(Optimizer):
    """Adagrad (torch.optim.Adagrad).

    For each parameter p with gradient g (-g when `maximize`), at step t = 1, 2, ...:

        g <- g + weight_decay * p
        s <- s + g²                          (s starts at initial_accumulator_value)
        p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    State per parameter, created when the optimizer is: 'step' and 'sum' (s).

    A sparse gradient (`nn.Embedding(sparse=True)`) is summed per index and updates only
    those rows of p and s, as in PyTorch; weight decay is refused for it.
    """

    _sparse_error = None  # Adagrad steps sparse gradients (_sparse_update)
    _fused_sparse_error = "`fused` does not support sparse grad or complex param"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check(lr >= 0.0, "learning rate", lr)
        _check(lr_decay >= 0.0, "lr_decay value", lr_decay)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        _check(initial_accumulator_value >= 0.0, "initial_accumulator_value value", initial_accumulator_value)
        _check(eps >= 0.0, "epsilon value", eps)
        _check_flags(differentiable)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        _check_fused(fused, foreach)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Tensor, group: dict[str, Any], like: np.ndarray | None = None) -> dict[str, Any]:
        """The state of `p`, made like `like` (p's array; in a step, the array being updated:
        a complex parameter's real view, whose state Optimizer._complex_step makes complex)."""
        p_state = self.state[p]
        p_state["step"] = _new_step()
        if like is None:
            like = p._data
        value = group["initial_accumulator_value"]
        if like.dtype.kind == "c":  # PyTorch's complex state: the value in both parts
            value = complex(value, value)
        p_state["sum"] = Tensor(np.full_like(like, value))
        return p_state

    def _update_group(self, group: dict[str, Any]) -> None:
        if grad_dtypes and group["fused"]:
            refuse_other_grad_dtypes(group)
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        state = self.state
        for p, data, g in self._params_with_grad(group):
            p_state = state[p] or self._init_state(p, group, data)
            step = _advance(p_state["step"])
            if weight_decay != 0:
                g = add_scaled(g, data, weight_decay)
            clr = lr / (1 + (step - 1) * lr_decay)
            s = p_state["sum"]._data
            addcmul(s, g, g, 1, out=s)
            std = np.sqrt(s)
            std += eps
            update = g * clr
            update /= std
            data -= update
            p._version_cell[0] += 1

    def _sparse_update(self, p: Tensor, group: dict[str, Any]) -> None:
        """One step of p with a sparse gradient, PyTorch's sparse path: each index once (the
        update is not linear in g), s += g² and p -= clr * g / (sqrt(s) + eps) on those rows."""
        from ember.sparse import _grad as sparse_grad

        p_state = self.state[p] or self._init_state(p, group)
        step = _advance(p_state["step"])
        g = p._grad
        if group["maximize"]:
            g = sparse_grad.scaled(g, -1.0)
        if group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        clr = float(group["lr"]) / (1 + (step - 1) * float(group["lr_decay"]))
        where, values = sparse_grad.coalesced_rows(g)
        s = p_state["sum"]._data
        s[where] += values * values
        std = np.sqrt(s[where])
        std += float(group["eps"])
        p._data[where] = add_scaled(p._data[where], values / std, -clr)
        p._version_cell[0] += 1
