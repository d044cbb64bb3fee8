"""SparseTensor: a tensor stored as the positions and values of its specified elements.

A COO tensor of shape (*sparse_shape, *dense_shape) holds an int64 array `indices` of shape
(sparse_dim, nnz) and a dense Tensor `values` of shape (nnz, *dense_shape): element
`indices[:, k]` of the sparse dimensions is `values[k]`, every other element is zero, and an
index that occurs several times (an uncoalesced tensor) stands for the sum of its values. A
CSR tensor (2-D) holds the same values in row order, with `crow_indices` (where each row's
values start) and `col_indices`; a CSC tensor holds them in column order, with
`ccol_indices` and `row_indices`. Both keep the (2, nnz) row and column indices in that
order, so that every operation is written once, for COO: a CSC tensor is the CSR tensor of
its transpose, `t()` swaps the two rows of indices and the layout, and moves no value.

Autograd goes through `values`, an ordinary dense Tensor: every sparse operation is composed
of differentiable dense operations on it (gather, index_add, products), so gradients, and
second derivatives, come from the ops that already exist. A sparse leaf (`requires_grad=True`)
is a sparse tensor whose values are a leaf; its `.grad` is built from theirs, sparse with the
tensor's (coalesced) pattern, as torch.sparse.mm gives it.

Where a dense tensor has its ndarray (`_data`), a sparse one has a `_SparseData`: its shape and
dtype answer the metadata questions (`shape`, `dtype`, `numel()`), and anything that would
compute with it raises `SparseUnsupportedError`. So a dense operation handed a sparse tensor
fails with a clear error instead of a wrong result, without any dense operation testing for
sparse inputs.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from ember import _format, _layout, dtypes
from ember._tensor import Tensor
from ember.ops.elementwise import Op

sparse_coo = _layout.sparse_coo
sparse_csr = _layout.sparse_csr
sparse_csc = _layout.sparse_csc
_LAYOUT_NAMES = {
    sparse_coo: "Sparse",
    sparse_csr: "SparseCsr",
    sparse_csc: "SparseCsc",
}  # PyTorch's, in messages
SparseUnsupportedError = _layout.SparseUnsupportedError


class _SparseData:
    """A sparse tensor's stand-in for the ndarray of a dense one: metadata only."""

    __slots__ = ("shape", "dtype", "layout")

    def __init__(self, shape: tuple, dtype: np.dtype, layout: _layout.layout) -> None:
        self.shape, self.dtype, self.layout = shape, dtype, layout

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        name = _called_function()
        raise SparseUnsupportedError(
            f"{name + '()' if name else 'this operation'} does not support sparse tensors "
            f"(layout={self.layout!r}, size={tuple(self.shape)}): convert with .to_dense() first, "
            "or use the sparse functions (ember.sparse.mm, ember.sparse.sum, ember.sparse.softmax, ...)"
        )

    __array__ = __array_ufunc__ = __array_function__ = __getitem__ = __setitem__ = _refuse
    __iter__ = __len__ = __float__ = __int__ = __bool__ = _refuse
    # Python looks operators up on the type, past __getattr__ (`x._data ** 2` in pow)
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __matmul__ = __rmatmul__ = _refuse
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _refuse
    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __invert__ = _refuse
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _refuse  # no silent `x._data == 0`
    __hash__ = object.__hash__

    def __getattr__(self, name: str) -> Any:
        self._refuse()


# the names of ember's inner functions, which are no function of the public API
_INNER = frozenset("op apply apply_one forward general method function wrapper call inner wrapped".split())


def _called_function() -> str | None:
    """The name of the ember function the user called, for the error a sparse tensor raises
    in dense code: the outermost frame of ember's code whose function has a public name.
    Only this error path pays for the walk."""
    frame, name = sys._getframe(2), None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module != "ember" and not module.startswith("ember."):
            break
        code = frame.f_code.co_name
        if code in _INNER:  # a function made by a factory may know its public name
            label = frame.f_locals.get("name")
            code = label if isinstance(label, str) and label.isidentifier() else code
        if not code.startswith(("_", "<")) and code not in _INNER:
            name = code
        frame = frame.f_back
    return name


class _SparseNode(Op):
    """The identity, recorded as the node PyTorch's sparse operation makes, so that grad_fn
    names and printed tensors read as PyTorch's (`CoalesceBackward0`, `ToDenseBackward0`)."""

    torch_name = ""

    def name(self) -> str:
        return self.torch_name

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, grad):
        return grad


_NODES: dict[str, type] = {}


def named(t: Tensor, name: str) -> Tensor:
    """t itself, or, when it requires grad, t behind a node named `name` (PyTorch's name)."""
    if not t.requires_grad:
        return t
    node = _NODES.get(name)
    if node is None:
        node = _NODES[name] = type(name, (_SparseNode,), {"torch_name": name})
    return node.apply(t)


def _new(
    layout: _layout.layout, shape: tuple, values: Tensor, indices: np.ndarray, coalesced: bool
) -> SparseTensor:
    """A sparse tensor from checked parts (indices: int64 (sparse_dim, nnz), in COO form)."""
    t = SparseTensor.__new__(SparseTensor)
    t._data = _SparseData(tuple(shape), values._data.dtype, layout)
    t._requires_grad = False  # the values carry the graph (see the module docstring)
    t._grad = None
    t._out_nr = 0
    t._version_cell = [0]
    t._hooks = None
    t._base = None
    t._idx, t._vals, t._coalesced = indices, values, coalesced
    return t


def _flat(indices: np.ndarray, sparse_shape: tuple) -> np.ndarray:
    """Each element's position in the flattened sparse dimensions."""
    if indices.shape[1] == 0 or indices.shape[0] == 0:  # no elements, or no sparse dimensions
        return np.zeros(indices.shape[1], np.int64)
    return np.ravel_multi_index(tuple(indices), sparse_shape).astype(np.int64)


def _csr_rows(crow: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(crow) - 1, dtype=np.int64), np.diff(crow))


def _compressed(positions: np.ndarray, n: int) -> np.ndarray:
    """crow_indices (ccol_indices) from each element's row (column): where each one's run starts."""
    return np.concatenate([[0], np.cumsum(np.bincount(positions, minlength=n))]).astype(np.int64)


def _column_order(idx: np.ndarray) -> np.ndarray:
    """The order that sorts (2, nnz) indices by column, then row: a CSC tensor's order."""
    return np.lexsort((idx[0], idx[1]))


class SparseTensor(Tensor):
    """A sparse COO, CSR or CSC tensor (torch.Tensor with layout torch.sparse_coo, sparse_csr
    or sparse_csc).

    Made by `ember.sparse_coo_tensor`, `ember.sparse_csr_tensor`, `ember.sparse_csc_tensor`
    or `Tensor.to_sparse()`;
    see the module docstring for how it is stored and differentiated."""

    __slots__ = ("_idx", "_vals", "_coalesced")

    # ---- state ---------------------------------------------------------------------------

    @property
    def layout(self) -> _layout.layout:
        return self._data.layout

    @property
    def is_sparse(self) -> bool:
        return self._data.layout is sparse_coo

    @property
    def is_sparse_csr(self) -> bool:
        return self._data.layout is sparse_csr

    @property
    def grad_fn(self) -> Any:
        return self._vals.grad_fn

    @property
    def requires_grad(self) -> bool:
        return self._vals.requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self._vals.grad_fn is not None:
            self._vals.requires_grad = flag  # raises PyTorch's error for a non-leaf
        if bool(flag) != self._vals.requires_grad:
            values = Tensor(self._vals._data)  # the same memory, a leaf of its own
            values.requires_grad = flag
            self._vals = values

    @property
    def data(self) -> SparseTensor:
        """A sparse tensor sharing this one's indices and values, outside the graph."""
        return _new(self.layout, self.shape, Tensor(self._vals._data), self._idx, self._coalesced)

    @data.setter
    def data(self, value: Any) -> None:
        if not isinstance(value, SparseTensor) or value.layout is not self.layout:
            raise RuntimeError(
                f"data of a {self.layout} tensor can be set only to a tensor of the same layout, "
                f"got {getattr(value, 'layout', type(value).__name__)}"
            )
        self._data, self._idx, self._coalesced = value._data, value._idx, value._coalesced
        self._vals._data = value._vals._data  # the same leaf (its grad and hooks stay), new values

    @property
    def is_leaf(self) -> bool:
        return self._vals.grad_fn is None

    @property
    def grad(self) -> SparseTensor | None:
        """The gradient, sparse with this tensor's coalesced pattern (torch.sparse.mm's), in
        its layout: a CSR (CSC) leaf's is CSR (CSC), as PyTorch gives a CSR leaf."""
        g = self._vals.grad if self._vals.grad_fn is None else None
        return None if g is None else self._grad_of_values(g.detach())

    def _grad_of_values(self, g: Tensor) -> SparseTensor:
        """A gradient of the values as this tensor's: sparse, with its coalesced pattern (also
        what autograd.grad returns for a sparse input)."""
        if self.layout is not sparse_coo:  # compressed: each element once, in the tensor's order
            return _new(self.layout, self.shape, g, self._idx, self._coalesced)
        if self._coalesced:
            return _new(sparse_coo, self.shape, g, self._idx, True)
        # every copy of a repeated index got the same gradient (the sum's): keep one
        uniq, first = np.unique(_flat(self._idx, self._sparse_shape()), return_index=True)
        idx = np.stack(np.unravel_index(uniq, self._sparse_shape())).astype(np.int64)
        values = g.index_select(0, Tensor(first.astype(np.int64)))
        return _new(sparse_coo, self.shape, values, idx.reshape(len(self._idx), -1), True)

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            raise RuntimeError("ember: a sparse tensor's grad can only be set to None")
        self._vals.grad = None

    def _sparse_shape(self) -> tuple:
        return tuple(self._data.shape[: len(self._idx)])

    def sparse_dim(self) -> int:
        return len(self._idx)

    def dense_dim(self) -> int:
        return self._data.ndim - len(self._idx)

    def _nnz(self) -> int:
        return int(self._vals._data.shape[0])

    def is_coalesced(self) -> bool:
        if self.layout is not sparse_coo:
            raise RuntimeError(
                f"is_coalesced expected sparse coordinate tensor layout but got {_LAYOUT_NAMES[self.layout]}"
            )
        return self._coalesced

    def _coalesced_(self, flag: bool) -> SparseTensor:
        self._coalesced = bool(flag)
        return self

    def indices(self) -> Tensor:
        """The (sparse_dim, nnz) positions of a coalesced COO tensor."""
        self._need(sparse_coo, "indices")
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return Tensor(self._idx)

    def values(self) -> Tensor:
        """The (nnz, *dense_shape) values of a coalesced COO tensor or a CSR or CSC tensor; gradients
        flow through them to the sparse tensor."""
        if self.layout is sparse_coo and not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return named(self._vals, "ValuesBackward0")

    def _indices(self) -> Tensor:
        self._need(sparse_coo, "_indices")
        return Tensor(self._idx)

    def _values(self) -> Tensor:
        """The raw values, outside the graph as in PyTorch (values() is differentiable)."""
        self._need(sparse_coo, "_values")
        return self._vals.detach()

    def crow_indices(self) -> Tensor:
        """Where each row's values start in `values()` (nrows + 1 of them) of a CSR tensor."""
        self._need(sparse_csr, "crow_indices")
        return Tensor(_compressed(self._idx[0], self._data.shape[0]))

    def col_indices(self) -> Tensor:
        """The column of each value of a CSR tensor."""
        self._need(sparse_csr, "col_indices")
        return Tensor(self._idx[1].copy())

    def ccol_indices(self) -> Tensor:
        """Where each column's values start in `values()` (ncols + 1 of them) of a CSC tensor."""
        self._need(sparse_csc, "ccol_indices")
        return Tensor(_compressed(self._idx[1], self._data.shape[1]))

    def row_indices(self) -> Tensor:
        """The row of each value of a CSC tensor."""
        self._need(sparse_csc, "row_indices")
        return Tensor(self._idx[0].copy())

    def _need(self, layout: _layout.layout, op: str) -> None:
        if self.layout is not layout:
            name = {sparse_coo: "sparse", sparse_csr: "sparse CSR", sparse_csc: "sparse CSC"}[layout]
            raise RuntimeError(
                f"{op}(): expected a {name} tensor (layout {layout}), got layout {self.layout}"
            )

    # ---- conversions ---------------------------------------------------------------------

    def coalesce(self) -> SparseTensor:
        """The same tensor with each index once (repeated ones summed), indices sorted."""
        self._need(sparse_coo, "coalesce")
        if self._coalesced:
            return self
        sparse_shape = self._sparse_shape()
        uniq, inverse = np.unique(_flat(self._idx, sparse_shape), return_inverse=True)
        idx = np.stack(np.unravel_index(uniq, sparse_shape)).astype(np.int64).reshape(len(self._idx), -1)
        zeros = self._vals.new_zeros((len(uniq), *self._vals.shape[1:]))
        values = zeros.index_add(0, Tensor(inverse.reshape(-1).astype(np.int64)), self._vals)
        return _new(sparse_coo, self.shape, named(values, "CoalesceBackward0"), idx, True)

    def to_dense(self, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
        """The dense tensor, zeros where nothing is specified (repeated indices summed)."""
        sparse_shape = self._sparse_shape()
        rows = math.prod(sparse_shape)
        flat = Tensor(_flat(self._idx, sparse_shape))
        dense = self._vals.new_zeros((rows, *self._vals.shape[1:])).index_add(0, flat, self._vals)
        dense = named(dense.reshape(self.shape), "ToDenseBackward0")
        return dense if dtype is None else dense.to(dtype)

    def to_sparse(
        self,
        sparse_dim: int | None = None,
        *,
        layout: Any = None,
        blocksize: Any = None,
        dense_dim: Any = None,
    ) -> SparseTensor:
        if layout is None or layout is sparse_coo:
            return self.to_sparse_coo()
        if layout is sparse_csr:
            return self.to_sparse_csr()
        if layout is sparse_csc:
            return self.to_sparse_csc()
        raise NotImplementedError(
            f"ember: conversion to layout {layout} is not supported (sparse_coo, sparse_csr and sparse_csc are)"
        )

    def to_sparse_coo(self) -> SparseTensor:
        if self.layout is sparse_coo:
            return self
        # a CSC tensor's entries stay in column order: uncoalesced, as PyTorch gives them
        values = named(self._vals, "ToSparseBackward1")
        return _new(sparse_coo, self.shape, values, self._idx, self.layout is sparse_csr)

    def to_sparse_csr(self, dense_dim: int | None = None) -> SparseTensor:
        if self.layout is sparse_csr:
            return self
        if self._data.ndim != 2 or self.dense_dim():
            raise RuntimeError(
                f"to_sparse_csr: only 2-D sparse tensors without dense dimensions convert to CSR, got size {tuple(self.shape)}"
            )
        if dense_dim is not None:
            raise RuntimeError(
                "to_sparse_csr: conversion of a sparse tensor with dense_dim argument given is not supported"
            )
        c = self.to_sparse_coo().coalesce()
        return _new(sparse_csr, self.shape, named(c._vals, "ToSparseCsrBackward0"), c._idx, True)

    def to_sparse_csc(self, dense_dim: int | None = None) -> SparseTensor:
        """The same 2-D tensor in CSC form: its elements in column order."""
        if self.layout is sparse_csc:
            return self
        if self._data.ndim != 2 or self.dense_dim():
            raise RuntimeError(
                f"to_sparse_csc: only 2-D sparse tensors without dense dimensions convert to CSC, got size {tuple(self.shape)}"
            )
        if dense_dim is not None:
            raise RuntimeError(
                "to_sparse_csc: conversion of a sparse tensor with dense_dim argument given is not supported"
            )
        c = self.to_sparse_coo().coalesce()
        order = _column_order(c._idx)
        values = named(c._vals.index_select(0, Tensor(order.astype(np.int64))), "ToSparseCscBackward0")
        return _new(sparse_csc, self.shape, values, c._idx[:, order], False)

    def detach(self) -> SparseTensor:
        return _new(self.layout, self.shape, self._vals.detach(), self._idx, self._coalesced)

    def detach_(self) -> SparseTensor:
        """This tensor taken out of the graph in place (its values detached)."""
        if self._vals.grad_fn is not None or self._vals.requires_grad:
            self._vals = self._vals.detach()
        return self

    def clone(self, *, memory_format: Any = None) -> SparseTensor:
        return _new(self.layout, self.shape, self._vals.clone(), self._idx.copy(), self._coalesced)

    def copy_(self, src: Any, non_blocking: bool = False) -> SparseTensor:
        """Take the elements of `src`, a sparse tensor of this size and layout (what
        load_state_dict does to a sparse buffer), in this tensor's dtype. As in PyTorch, a
        dense source raises, and CSR and CSC tensors must have the same number of elements."""
        from ember.autograd import grad_mode

        if not isinstance(src, SparseTensor):
            raise RuntimeError(
                "copy_() between dense and sparse Tensors is not implemented! Found self type = "
                f"{self.layout} and src type = {getattr(src, 'layout', type(src).__name__)}"
            )
        if src.shape != self.shape or src.layout is not self.layout:
            raise RuntimeError(
                f"copy_: a {src.layout} tensor of size {list(src.shape)} into a {self.layout} tensor "
                f"of size {list(self.shape)}"
            )
        if self.layout is not sparse_coo and src._idx.shape[1] != self._idx.shape[1]:
            raise RuntimeError(
                "torch.copy_: only sparse compressed tensors with the same number of specified "
                "elements are supported."
            )
        if grad_mode._state[0] and (self.requires_grad or src.requires_grad):
            raise RuntimeError(
                "copy_ of sparse tensors is not recorded in the graph in ember: run it under "
                "ember.no_grad(), as load_state_dict does"
            )
        values = Tensor(src._vals._data.astype(self._vals._data.dtype, copy=True))
        values.requires_grad = self.requires_grad
        self._idx, self._vals, self._coalesced = src._idx.copy(), values, src._coalesced
        self._version_cell[0] += 1
        return self

    def to(self, *args: Any, **kwargs: Any) -> SparseTensor:
        values = self._vals.to(*args, **kwargs)
        return (
            self
            if values is self._vals
            else _new(self.layout, self.shape, values, self._idx, self._coalesced)
        )

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        if dtype is None:
            name = self._vals.type().split(".")[-1]
            return f"ember.sparse.{name}"
        return self.to(dtype)

    def numpy(self, force: bool = False) -> np.ndarray:
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    def is_contiguous(self, memory_format: Any = None) -> bool:
        raise RuntimeError("sparse tensors do not have is_contiguous")

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (
            _rebuild,
            (
                self.layout._name,
                self._idx,
                self._vals._data,
                tuple(self.shape),
                self._coalesced,
                self.requires_grad,
            ),
        )

    def __deepcopy__(self, memo: dict) -> SparseTensor:
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment"
            )
        t = _rebuild(
            self.layout._name,
            self._idx.copy(),
            self._vals._data.copy(),
            tuple(self.shape),
            self._coalesced,
            self.requires_grad,
        )
        memo[id(self)] = t
        return t

    def __repr__(self) -> str:
        return _repr(self)

    # ---- Python numbers --------------------------------------------------------------------

    def _as_dense_scalar(self) -> Tensor:
        """The dense form, whose conversions to a Python number then apply (their size checks
        and errors, and the warning for a tensor in the graph). PyTorch converts a COO
        tensor only: its compressed layouts have no scalar kernel. A tensor of another number
        of elements than one, of any layout, gets the dense size errors from a zero-stride
        stand-in of its size (`if s:` must not make a large tensor dense to refuse it)."""
        if self._data.size != 1:
            return Tensor(np.broadcast_to(np.zeros((), self._data.dtype), self._data.shape))
        if self.layout is not sparse_coo:
            layout = "SparseCsrCPU"  # the dispatch key of every compressed layout
            raise SparseUnsupportedError(
                f"Could not run 'aten::_local_scalar_dense' with arguments from the '{layout}' backend "
                f"(a {self.layout} tensor has no Python number: convert it with .to_sparse_coo() or "
                ".to_dense() first)"
            )
        return self.to_dense()

    def item(self) -> Any:
        """The one element of a one-element COO tensor as a Python number (0 when it is not
        specified; repeated entries summed)."""
        return Tensor.item(self._as_dense_scalar())

    def __bool__(self) -> bool:
        return Tensor.__bool__(self._as_dense_scalar())

    def __float__(self) -> float:
        return Tensor.__float__(self._as_dense_scalar())

    def __int__(self) -> int:
        return Tensor.__int__(self._as_dense_scalar())

    def __complex__(self) -> complex:
        return Tensor.__complex__(self._as_dense_scalar())

    def __index__(self) -> int:
        return Tensor.__index__(self._as_dense_scalar())


def _cast(dtype: dtypes.dtype) -> Any:
    def method(self: SparseTensor) -> SparseTensor:
        return self.to(dtype)

    return method


# Tensor's float(), half(), long(), ... call the dense `to`, which refuses a sparse tensor
for _name, _dtype in (
    ("float", dtypes.float32),
    ("double", dtypes.float64),
    ("half", dtypes.float16),
    ("long", dtypes.int64),
    ("int", dtypes.int32),
    ("bool", dtypes.bool),
    ("byte", dtypes.uint8),
):
    setattr(SparseTensor, _name, _cast(_dtype))


def _rebuild(
    layout: str, idx: np.ndarray, values: np.ndarray, shape: tuple, coalesced: bool, requires_grad: bool
) -> SparseTensor:
    return _new(getattr(_layout, layout), shape, Tensor(values, requires_grad=requires_grad), idx, coalesced)


# ---- printing ------------------------------------------------------------------------------


def _inner(arr: np.ndarray, indent: int) -> str:
    """An indices/values tensor as PyTorch prints it inside a sparse one, after `indent`
    characters: no suffixes but the size of an empty one."""
    if arr.size == 0:
        return f"tensor([], size={tuple(arr.shape)})"
    shown = arr.astype(np.float32) if arr.dtype == np.float16 else arr
    summarize = arr.size > _format._Options.threshold
    formatter = _format._ComplexFormatter if arr.dtype.kind == "c" else _format._Formatter
    fmt = formatter(_format._summarized(shown) if summarize else shown)
    return "tensor(" + _format._nested(shown, indent + len("tensor("), summarize, fmt) + ")"


def _repr(t: SparseTensor) -> str:
    """PyTorch's printing of a sparse tensor, with 'torch.' read as 'ember.'."""
    values = t._vals._data
    indent = " " * len("tensor(")
    if t.layout is sparse_coo:
        text = "tensor(indices=" + _inner(t._idx, len("tensor(indices=")) + ",\n"
        text += indent + "values=" + _inner(values, len(indent + "values="))
        force_newline = True
    else:
        csr = t.layout is sparse_csr
        outer, inner = ("crow_indices", "col_indices") if csr else ("ccol_indices", "row_indices")
        starts = _compressed(t._idx[0], t.shape[0]) if csr else _compressed(t._idx[1], t.shape[1])
        text = f"tensor({outer}=" + _inner(starts, len(f"tensor({outer}=")) + ",\n"
        text += indent + f"{inner}=" + _inner(t._idx[1 if csr else 0], len(indent + f"{inner}=")) + ",\n"
        text += indent + "values=" + _inner(values, len(indent + "values="))
        force_newline = False
    suffixes = [f"size={tuple(t.shape)}", f"nnz={t._nnz()}"]
    if values.dtype.name not in (
        dtypes.get_default_dtype().name,
        dtypes.default_complex_numpy().name,
        "int64",
        "bool",
    ):
        suffixes.append(f"dtype=ember.{values.dtype.name}")
    suffixes.append(f"layout={t.layout!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    # PyTorch's rule for the suffixes: a new line when the next would pass the line width,
    # and for COO always before the first
    parts, line = [text], len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or line + len(suffix) + 2 > _format._Options.linewidth:
            parts.append(",\n" + indent + suffix)
            line, force_newline = len(indent) + len(suffix), False
        else:
            parts.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(parts) + ")"
