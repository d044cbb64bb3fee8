"""Sparse gradients of dense tensors: what `embedding(..., sparse=True)` makes, and how the
engine stores and adds them.

An embedding looks up a few rows of a large table, so its weight's gradient is zero outside
those rows. With `sparse=True` the backward returns it as a COO tensor instead of a dense
one: one entry per looked-up index, in the order of the input (padding entries left out),
uncoalesced (an index looked up twice has two entries), the layout PyTorch gives. Such a
gradient reaches the engine as a `SparseTensor` where a dense op's is an ndarray, and only
the engine's rare paths meet it (see autograd/engine.py): a leaf stores it as `.grad`; a
second gradient for the same leaf is added as PyTorch's AccumulateGrad adds it (sparse into
sparse stays sparse, in place; sparse into dense and dense into sparse give a dense
gradient); a node (a weight that is not a leaf) gets it dense, since the dense ops' backward
formulas compute on arrays.

`seen[0]` turns True when the first sparse gradient is stored: from then on the optimizers
check each gradient's layout (optim/optimizer.py), which they skip while no sparse gradient
exists in the process.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember._layout import sparse_grads_seen as seen
from ember._tensor import Tensor
from ember.autograd.function import _plain_tensor
from ember.sparse._tensor import SparseTensor, _new, named, sparse_coo


def from_rows(shape: tuple, index: np.ndarray, rows: Any) -> SparseTensor:
    """The COO gradient of a (num_embeddings, dim) weight whose rows `index` receive `rows`
    (one row per entry, an ndarray, or a Tensor under create_graph), uncoalesced as
    PyTorch's (its flag is set only for fewer than two entries)."""
    idx = np.asarray(index, dtype=np.int64).reshape(1, -1)
    if isinstance(rows, Tensor):
        values = named(rows, "SparseCooTensorWithDimsAndTensorsBackward0")
    else:
        values = _plain_tensor(rows)
    return _new(sparse_coo, shape, values, idx, idx.shape[1] < 2)


def own(g: SparseTensor, handed_out: set) -> SparseTensor:
    """A sparse gradient for a leaf's `.grad`: the one the backward made, unless another leaf
    already holds it (then a copy)."""
    if id(g) in handed_out:
        g = g.clone()
    handed_out.add(id(g))
    seen[0] = True
    return g


def dense(g: Any) -> Any:
    """A sparse gradient made dense, for a node (an ndarray; a Tensor under create_graph)."""
    if not isinstance(g, SparseTensor):
        return g
    d = g.to_dense()
    return d if d.requires_grad else d._data


def plus(a: Any, b: Any) -> Any:
    """The sum of two gradients of one tensor, either of them sparse (the engine's sum of
    the gradients that reach a hooked leaf, or autograd.grad's input): sparse when both
    are, else dense."""
    a_sparse, b_sparse = isinstance(a, SparseTensor), isinstance(b, SparseTensor)
    if a_sparse and b_sparse:
        return _concat(a, b)
    if a_sparse or b_sparse:
        s, d = (a, b) if a_sparse else (b, a)
        return _dense_plus(d._data if isinstance(d, Tensor) and not d.requires_grad else d, s)
    return a + b


def accumulate(t: Tensor, g: Any, handed_out: set) -> None:
    """Add gradient g into t.grad (which exists), one of them sparse, as PyTorch's
    AccumulateGrad: sparse into sparse in place (the entries of both), sparse into dense in
    place, dense into sparse as a new dense tensor; under create_graph, out of place."""
    old = t._grad
    if old.grad_fn is not None or (isinstance(g, Tensor) and g.requires_grad):
        t._grad = old + g if not isinstance(old, SparseTensor) or isinstance(g, SparseTensor) else g + old
        return
    if isinstance(g, Tensor) and not isinstance(g, SparseTensor):
        g = g._data
    if isinstance(old, SparseTensor):
        if isinstance(g, SparseTensor):
            assign(old, _concat(old, g))
        else:
            t._grad = _plain_tensor(_dense_plus(g, old))
        return
    old._data = _dense_plus(old._data, g)  # a dense .grad keeps its Tensor, as PyTorch's +=


def _concat(a: SparseTensor, b: SparseTensor) -> SparseTensor:
    """a + b: the entries of a, then those of b; coalesced (summed per index) when both
    were, or when the entries outnumber the elements, as PyTorch's sparse add keeps an
    accumulated gradient from growing without bound."""
    if b._nnz() == 0:
        return a
    if a._nnz() == 0:
        return b
    idx = np.concatenate([a._idx, b._idx], axis=1)
    values = Tensor(np.concatenate([a._vals._data, b._vals._data]))
    total = _new(sparse_coo, a.shape, values, idx, False)
    if (a._coalesced and b._coalesced) or total._nnz() > math.prod(a.shape):
        total = total.coalesce()
    return total


def _dense_plus(d: Any, s: SparseTensor) -> Any:
    """dense + sparse as PyTorch adds them (`_entries_into`): an ndarray result; a Tensor
    when d is one, under create_graph."""
    if isinstance(d, Tensor):
        return d + s
    out = np.array(d, dtype=np.result_type(d.dtype, s._vals._data.dtype))
    _entries_into(out, s, 1.0)
    return out


def _entries_into(data: np.ndarray, g: SparseTensor, alpha: float) -> None:
    """data += alpha * g in place, entry by entry in g's order, each entry one fused
    multiply-add, as PyTorch 2.13's dense.add_(sparse) runs (it does not sum repeated
    indices first, which would round differently). Vectorised by occurrence: the first
    entry of every index, then the second, and so on."""
    from ember.optim._fused import add_scaled

    idx, values = g._idx, g._vals._data
    if idx.shape[1] == 0:
        return
    flat = _flat_index(idx, g.shape[: len(idx)])
    order = np.argsort(flat, kind="stable")
    ranked = flat[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    if len(starts) == len(flat):  # each index once: one update
        where = tuple(idx)
        data[where] = add_scaled(data[where], values, alpha)
        return
    occurrence = np.empty(len(flat), np.int64)
    occurrence[order] = np.arange(len(flat)) - np.repeat(starts, np.diff(np.r_[starts, len(flat)]))
    # the entries grouped by occurrence, each group in g's order: one pass over them in all
    # (a frequent index, as a common word's, makes as many groups as it has entries)
    by_occurrence = np.argsort(occurrence, kind="stable")
    lo = 0
    for hi in np.cumsum(np.bincount(occurrence)).tolist():
        pick = by_occurrence[lo:hi]
        lo = hi
        where = tuple(idx[:, pick])
        data[where] = add_scaled(data[where], values[pick], alpha)


def _flat_index(idx: np.ndarray, sparse_shape: tuple) -> np.ndarray:
    if len(idx) == 1:
        return idx[0]
    return np.ravel_multi_index(tuple(idx), sparse_shape)


def coalesced_rows(g: SparseTensor) -> tuple[tuple, np.ndarray]:
    """(the index tuple of each entry, its values) of a sparse gradient summed per index:
    what an optimizer's non-linear update needs (each index once)."""
    c = g.coalesce()
    return tuple(c._idx), c._vals._data


# ---- the optimizers' updates with a sparse gradient ---------------------------------------------


def add_into(data: np.ndarray, g: Any, alpha: float) -> None:
    """data += alpha * g in place, for a sparse or dense gradient g, rounded as PyTorch's
    dense.add_(g, alpha=alpha) (for a sparse g, see _entries_into)."""
    from ember.optim._fused import add_scaled

    if not isinstance(g, SparseTensor):
        add_scaled(data, g._data if isinstance(g, Tensor) else g, alpha, out=data)
        return
    _entries_into(data, g, alpha)


def scaled(g: SparseTensor, factor: float) -> SparseTensor:
    """g * factor, a new sparse tensor with g's entries (PyTorch's sparse mul by a number)."""
    return _new(sparse_coo, g.shape, Tensor(g._vals._data * factor), g._idx, g._coalesced)


def sum_scaled(a: SparseTensor, b: SparseTensor, alpha: float) -> SparseTensor:
    """a + alpha * b for two sparse tensors: the entries of both (see _concat)."""
    return _concat(a, b if alpha == 1 else scaled(b, alpha))


def assign(t: SparseTensor, value: SparseTensor) -> None:
    """Make sparse tensor t hold value's entries (an in-place sparse update of t)."""
    t._idx, t._vals, t._coalesced = value._idx, value._vals, value._coalesced
    t._version_cell[0] += 1
