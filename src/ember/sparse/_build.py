"""Making sparse tensors: from indices and values, from CSR or CSC parts, from a dense tensor."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember import _tensor, creation
from ember._tensor import Tensor
from ember.sparse._tensor import (
    SparseTensor,
    _column_order,
    _csr_rows,
    _flat,
    _new,
    named,
    sparse_coo,
    sparse_csc,
    sparse_csr,
)


def _index_array(x: Any, name: str) -> np.ndarray:
    """Indices as int64; like PyTorch, float or bool ones are converted, but (unlike it) a
    float that is not a whole number is refused rather than truncated."""
    arr = x._data if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
        raise RuntimeError(f"{name} must be whole numbers (an int64 tensor), got {arr.ravel()[:6].tolist()}")
    if arr.dtype.kind not in "iubf":
        raise RuntimeError(f"{name} must be an int64 tensor, got {arr.dtype}")
    return arr.astype(np.int64)


def _values(values: Any, dtype: Any, requires_grad: bool) -> Tensor:
    if not isinstance(values, Tensor):
        values = creation.tensor(values, dtype=dtype)
    elif dtype is not None:
        values = values.to(dtype)
    if values._data.ndim == 0:  # one value, as PyTorch takes it
        values = values.reshape(1)
    if requires_grad and not values.requires_grad:
        return Tensor(values._data, requires_grad=True)  # same memory, a leaf of its own
    return named(values, "SparseCooTensorWithDimsAndTensorsBackward0")


def _sizes(size: Any) -> tuple:
    size = tuple(int(n) for n in size)
    if any(n < 0 for n in size):
        raise RuntimeError(f"sparse tensor sizes must be non-negative, got {list(size)}")
    return size


def _check_size(size: Any, sparse_dim: int, dense_shape: tuple) -> tuple:
    size = _sizes(size)
    if len(size) != sparse_dim + len(dense_shape):
        raise RuntimeError(
            f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
            f"sparse_dim = {sparse_dim}, dense_dim = {len(dense_shape)}"
        )
    if size[sparse_dim:] != dense_shape:
        raise RuntimeError(
            f"values has incorrect size, expected {list(size[:0]) + [-1] + list(size[sparse_dim:])}, "
            f"got {[-1, *dense_shape]}"
        )
    return size


def sparse_coo_tensor(
    indices: Any,
    values: Any,
    size: Any = None,
    *,
    dtype: Any = None,
    device: Any = None,
    pin_memory: bool | None = False,
    requires_grad: bool = False,
    check_invariants: bool | None = None,
    is_coalesced: bool | None = None,
) -> SparseTensor:
    """A sparse COO tensor whose element `indices[:, k]` is `values[k]` and every other element
    zero (torch.sparse_coo_tensor). indices: (sparse_dim, nnz) integers; values: (nnz,
    *dense_shape); size defaults to the smallest that holds the indices. Gradients reach
    `values` (or, with requires_grad=True, the new tensor as a leaf).

    Unlike PyTorch, whose checks are off by default, indices outside `size` are refused, and so
    is is_coalesced=True for indices that are not sorted and distinct."""
    if device is not None:
        _tensor.cpu_only(device)
    idx = _index_array(indices, "indices")
    if idx.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(idx.shape)}")
    vals = _values(values, dtype, requires_grad)
    nnz = vals._data.shape[0]
    if idx.shape[1] != nnz:
        raise RuntimeError(
            f"indices and values must have same nnz, but got nnz from indices: {idx.shape[1]}, nnz from values: {nnz}"
        )
    dense_shape = tuple(vals._data.shape[1:])
    if size is None:
        size = tuple(int(n) + 1 for n in idx.max(axis=1)) if idx.shape[1] else (0,) * len(idx)
        size += dense_shape
    size = _check_size(size, len(idx), dense_shape)
    for d in range(len(idx)):
        if idx.shape[1] and (idx[d].min() < 0 or idx[d].max() >= size[d]):
            bad = idx[d].min() if idx[d].min() < 0 else idx[d].max()
            raise RuntimeError(
                f"size is inconsistent with indices: for dim {d}, size is {size[d]} but found index {bad}"
            )
    if is_coalesced and np.any(np.diff(_flat(idx, size[: len(idx)])) <= 0):
        # the products trust the flag (each row's values in one run): refuse a false one, as
        # PyTorch does with check_invariants=True, rather than give wrong sums
        raise RuntimeError("cannot set is_coalesced to true if indices correspond to uncoalesced COO tensor")
    return _new(sparse_coo, size, vals, idx, bool(is_coalesced))


def sparse_csr_tensor(
    crow_indices: Any,
    col_indices: Any,
    values: Any,
    size: Any = None,
    *,
    dtype: Any = None,
    device: Any = None,
    pin_memory: bool | None = False,
    requires_grad: bool = False,
    check_invariants: bool | None = None,
) -> SparseTensor:
    """A 2-D sparse CSR tensor (torch.sparse_csr_tensor): row i's values are
    values[crow_indices[i]:crow_indices[i + 1]], in the columns col_indices gives."""
    return _compressed_tensor(
        sparse_csr, crow_indices, col_indices, values, size, dtype, device, requires_grad
    )


def sparse_csc_tensor(
    ccol_indices: Any,
    row_indices: Any,
    values: Any,
    size: Any = None,
    *,
    dtype: Any = None,
    device: Any = None,
    pin_memory: bool | None = False,
    requires_grad: bool = False,
    check_invariants: bool | None = None,
) -> SparseTensor:
    """A 2-D sparse CSC tensor (torch.sparse_csc_tensor): column j's values are
    values[ccol_indices[j]:ccol_indices[j + 1]], in the rows row_indices gives."""
    return _compressed_tensor(
        sparse_csc, ccol_indices, row_indices, values, size, dtype, device, requires_grad
    )


def sparse_compressed_tensor(
    compressed_indices: Any,
    plain_indices: Any,
    values: Any,
    size: Any = None,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    pin_memory: bool | None = False,
    requires_grad: bool = False,
    check_invariants: bool | None = None,
) -> SparseTensor:
    """A CSR or CSC tensor, as `layout` says (torch.sparse_compressed_tensor): compressed_indices
    are crow_indices or ccol_indices, plain_indices col_indices or row_indices."""
    if layout not in (sparse_csr, sparse_csc):
        raise NotImplementedError(
            f"sparse_compressed_tensor: ember makes layout=ember.sparse_csr or ember.sparse_csc tensors, "
            f"got {layout} (BSR and BSC are not there)"
        )
    return _compressed_tensor(
        layout, compressed_indices, plain_indices, values, size, dtype, device, requires_grad
    )


def _compressed_tensor(
    layout: Any,
    compressed_indices: Any,
    plain_indices: Any,
    values: Any,
    size: Any,
    dtype: Any,
    device: Any,
    requires_grad: bool,
) -> SparseTensor:
    """A CSR tensor from its parts, or a CSC one as the CSR tensor of its transpose: the
    compressed indices run over rows (columns), the plain ones give columns (rows)."""
    if device is not None:
        _tensor.cpu_only(device)
    csr = layout is sparse_csr
    outer, inner, lines, across = (
        ("crow_indices", "col_indices", "row", "columns")
        if csr
        else ("ccol_indices", "row_indices", "column", "rows")
    )
    starts, plain = _index_array(compressed_indices, outer), _index_array(plain_indices, inner)
    vals = _values(values, dtype, requires_grad)
    if starts.ndim != 1 or plain.ndim != 1 or vals._data.ndim != 1:
        raise RuntimeError(
            f"ember supports 2-D {'CSR' if csr else 'CSC'} tensors without batch or dense dimensions: "
            f"{outer}, {inner} and values must be 1-D, got {starts.ndim}-D, {plain.ndim}-D and {vals._data.ndim}-D"
        )
    if len(plain) != len(vals._data):
        raise RuntimeError(
            f"{inner} and values must have the same length, got {len(plain)} and {len(vals._data)}"
        )
    if len(starts) == 0 or starts[0] != 0 or starts[-1] != len(plain) or np.any(np.diff(starts) < 0):
        raise RuntimeError(
            f"{outer} must start at 0, never decrease and end at nnz ({len(plain)}), got {starts.tolist()}"
        )
    if size is None:
        n_plain = int(plain.max()) + 1 if len(plain) else 0
        size = (len(starts) - 1, n_plain) if csr else (n_plain, len(starts) - 1)
    size = _sizes(size)
    n_outer, n_plain = (size if csr else size[::-1]) if len(size) == 2 else (-1, -1)
    if n_outer != len(starts) - 1:
        raise RuntimeError(
            f"size {size} does not match {outer} of length {len(starts)} (expected {len(starts) - 1} {lines}s)"
        )
    if len(plain) and (plain.min() < 0 or plain.max() >= n_plain):
        raise RuntimeError(f"{inner} must lie in [0, {n_plain}), got {plain.min()}..{plain.max()}")
    lines_of = _csr_rows(starts)
    order = np.lexsort((plain, lines_of))
    if not np.array_equal(order, np.arange(len(plain))) or len(
        np.unique(_flat(np.stack([lines_of, plain]), (n_outer, n_plain)))
    ) != len(plain):
        raise RuntimeError(
            f"{inner} must be sorted and distinct within each {lines} (in [0, {n_plain}) {across})"
        )
    idx = np.stack([lines_of, plain] if csr else [plain, lines_of]).reshape(2, -1)
    return _new(layout, size, vals, idx, csr)


def to_sparse(
    input: Tensor,
    sparse_dim: int | None = None,
    *,
    layout: Any = None,
    blocksize: Any = None,
    dense_dim: Any = None,
) -> SparseTensor:
    """The dense tensor as a sparse COO tensor (or CSR, CSC: layout=ember.sparse_csr,
    sparse_csc) of its nonzero elements (torch.Tensor.to_sparse); gradients flow back to the
    dense tensor."""
    if layout is sparse_csr:
        return to_sparse_csr(input)
    if layout is sparse_csc:
        return to_sparse_csc(input)
    if layout is not None and layout is not sparse_coo:
        raise NotImplementedError(
            f"ember: conversion to layout {layout} is not supported (sparse_coo, sparse_csr and sparse_csc are)"
        )
    nd, given = input._data.ndim, sparse_dim
    sparse_dim = nd if sparse_dim is None else int(sparse_dim)
    if not 0 <= sparse_dim <= nd:
        raise RuntimeError(f"sparse_dim must be in [0, {nd}], got {sparse_dim}")
    if sparse_dim == 0 and nd:
        raise RuntimeError("dense_to_sparse: sparse_dim argument must be in >0 when self.dim()>0")
    data = input._data
    nonzero = data != 0
    if sparse_dim == 0:  # a 0-d tensor: one value, or none when it is zero
        idx = np.zeros((0, int(nonzero)), np.int64)
        values = input.unsqueeze(0)[: int(nonzero)]
    else:
        if sparse_dim < nd:
            # (the dense dims' size spelt out: -1 cannot be inferred beside a 0)
            nonzero = nonzero.reshape(*data.shape[:sparse_dim], math.prod(data.shape[sparse_dim:])).any(
                axis=-1
            )
        idx = np.stack(np.nonzero(nonzero)).astype(np.int64).reshape(sparse_dim, -1)
        values = input[tuple(Tensor(row) for row in idx)]
    name = "ToSparseBackward1" if given is None else "ToSparseBackward0"  # PyTorch's two overloads
    return _new(sparse_coo, input.shape, named(values, name), idx, True)


def to_sparse_coo(input: Tensor) -> SparseTensor:
    return to_sparse(input)


def to_sparse_csr(input: Tensor, dense_dim: int | None = None) -> SparseTensor:
    """A 2-D dense tensor as a CSR tensor of its nonzero elements."""
    if input._data.ndim != 2:
        raise RuntimeError(f"to_sparse_csr: ember converts 2-D tensors only, got {input._data.ndim}-D")
    if dense_dim:
        raise RuntimeError(
            f"dense_to_sparse_csr: dense_dim argument must be in [0,0] range, but {dense_dim} is given"
        )
    idx = np.stack(np.nonzero(input._data)).astype(np.int64).reshape(2, -1)  # in row order
    values = named(input[tuple(Tensor(row) for row in idx)], "ToSparseCsrBackward0")
    return _new(sparse_csr, input.shape, values, idx, True)


def to_sparse_csc(input: Tensor, dense_dim: int | None = None) -> SparseTensor:
    """A 2-D dense tensor as a CSC tensor of its nonzero elements, in column order."""
    if input._data.ndim != 2:
        raise RuntimeError(f"to_sparse_csc: ember converts 2-D tensors only, got {input._data.ndim}-D")
    if dense_dim:
        raise RuntimeError(
            f"dense_to_sparse_csc: dense_dim argument must be in [0,0] range, but {dense_dim} is given"
        )
    idx = np.stack(np.nonzero(input._data)).astype(np.int64).reshape(2, -1)
    idx = idx[:, _column_order(idx)]
    values = named(input[tuple(Tensor(row) for row in idx)], "ToSparseCscBackward0")
    return _new(sparse_csc, input.shape, values, idx, False)


def to_dense(input: Tensor, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
    """A dense tensor is its own dense form."""
    return input if dtype is None else input.to(dtype)


def attach(cls: type) -> None:
    """The conversions of dense tensors to sparse ones, as Tensor methods."""
    cls.to_sparse = to_sparse
    cls.to_sparse_coo = to_sparse_coo
    cls.to_sparse_csr = to_sparse_csr
    cls.to_sparse_csc = to_sparse_csc
    cls.to_dense = to_dense
