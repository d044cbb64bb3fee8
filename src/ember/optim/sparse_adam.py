"""SparseAdam: Adam that updates only the rows a sparse gradient names.

An embedding trained with `nn.Embedding(sparse=True)` gets a gradient that specifies the
few rows looked up in a step (ember/sparse/_grad.py). Adam's moment estimates decay every
element every step, which would make each step cost the whole table; SparseAdam decays and
updates only the specified rows, so a row's moments stand still in the steps that do not
name it (the algorithm differs from Adam's there, as in PyTorch).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember._layout import strided
from ember._tensor import Tensor
from ember.optim.optimizer import Optimizer, ParamsT, _check, _check_betas

_DENSE = "SparseAdam does not support dense gradients, please consider Adam instead"


class SparseAdam(Optimizer):
    """SparseAdam (torch.optim.SparseAdam): Adam for sparse gradients.

    For each parameter p with a sparse gradient g (-g when `maximize`), summed per index, at
    step t = 1, 2, ... and only on the rows i that g specifies:

        m[i] <- m[i] + (1 - beta1) * (g[i] - m[i])
        v[i] <- v[i] + (1 - beta2) * (g[i]² - v[i])
        p[i] <- p[i] - lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m[i] / (sqrt(v[i]) + eps)

    State per parameter: 'step' (a Python int, as PyTorch's), 'exp_avg' (m) and
    'exp_avg_sq' (v), dense. A dense gradient raises, and so does a sparse or complex parameter.
    """

    _sparse_error = None  # sparse gradients are what it steps

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        _check(0.0 < lr, "learning rate", lr)
        _check(0.0 < eps, "epsilon value", eps)
        _check_betas(betas)
        if not isinstance(params, Tensor):
            params = list(params)
            _check_dense(params)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        """No sparse gradient exists (see Optimizer.step): any gradient is dense, and refused."""
        if any(p._grad is not None for p in group["params"]):
            raise RuntimeError(_DENSE)

    def _update_group_checked(self, group: dict[str, Any]) -> None:
        params = [p for p in group["params"] if p._grad is not None]
        if any(p._grad.layout is strided for p in params):
            raise RuntimeError(_DENSE)
        for p in params:
            self._sparse_update(p, group)

    def _sparse_update(self, p: Tensor, group: dict[str, Any]) -> None:
        from ember.sparse import _grad as sparse_grad

        state = self.state[p]
        if not state:
            state["step"] = 0
            state["exp_avg"] = Tensor(np.zeros_like(p._data))
            state["exp_avg_sq"] = Tensor(np.zeros_like(p._data))
        state["step"] += 1
        step = state["step"]
        g = p._grad
        if group["maximize"]:
            g = sparse_grad.scaled(g, -1.0)
        where, values = sparse_grad.coalesced_rows(g)
        if values.size == 0:  # nothing specified: no row moves (the step still counts)
            return
        beta1, beta2 = group["betas"]
        # each quantity rounded where PyTorch's tensor operations round it
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        m_old = m[where]
        m_change = (values - m_old) * (1 - beta1)
        m[where] = m_old + m_change
        v_old = v[where]
        v_change = (values * values - v_old) * (1 - beta2)
        v[where] = v_old + v_change
        denom = np.sqrt(v_change + v_old)
        denom += group["eps"]
        step_size = group["lr"] * math.sqrt(1 - beta2**step) / (1 - beta1**step)
        p._data[where] += -step_size * ((m_change + m_old) / denom)
        p._version_cell[0] += 1


def _check_dense(params: list) -> None:
    """PyTorch's errors for sparse or complex parameters, naming each one's [group, index]."""
    groups = params if params and isinstance(params[0], dict) else [{"params": params}]
    sparse, complex_ = [], []
    for i, group in enumerate(groups):
        members = group["params"]
        members = [members] if isinstance(members, Tensor) else list(members)
        group["params"] = members  # an iterator is read once
        for j, p in enumerate(members):
            p = p[1] if isinstance(p, tuple) else p
            if isinstance(p, Tensor) and p.layout is not strided:
                sparse.append([i, j])
            elif isinstance(p, Tensor) and p._data.dtype.kind == "c":
                complex_.append([i, j])
    if sparse:
        raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense parameter tensors")
    if complex_:
        raise ValueError(
            f"Complex params at indices {complex_}: SparseAdam does not support complex parameters"
        )
