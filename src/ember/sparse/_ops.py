"""Operations on sparse tensors: differentiable operations on their values.

Each result is computed from `values` with dense ops (gathers, products, `index_add`) or, for
the sparse-dense product, one op of its own (`SparseMm`), so the gradient of a sparse input
is the gradient of its values: sparse, with its pattern.
"""

from __future__ import annotations

import builtins
import numbers
import operator
from typing import Any

import numpy as np

from ember import dtypes
from ember._tensor import Tensor
from ember.dtypes import int64
from ember.ops import _dual
from ember.ops.elementwise import Op
from ember.ops.reduction import normalize_dim, normalize_dims
from ember.sparse._tensor import (
    _LAYOUT_NAMES,
    SparseTensor,
    _flat,
    _new,
    named,
    sparse_coo,
    sparse_csc,
    sparse_csr,
)


def _like_layout(result: SparseTensor, layout: Any) -> SparseTensor:
    if layout is sparse_csr:
        return result.to_sparse_csr()
    return result.to_sparse_csc() if layout is sparse_csc else result


def _kind(input: SparseTensor) -> str:
    """The name of a compressed tensor's layout in messages: CSR or CSC."""
    return "CSC" if input.layout is sparse_csc else "CSR"


def _no_csc(input: SparseTensor, op: str) -> None:
    """PyTorch's error for the operations it runs on CSR tensors but not on CSC ones."""
    if input.layout is sparse_csc:
        raise RuntimeError(f"{op}: unsupported tensor layout: SparseCsc (convert with .to_sparse_csr())")


def _check_same_size(a: Tensor, b: Tensor, op: str) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(
            f"{op}: expected sizes of 'self' and 'other' to match, but {list(a.shape)} != {list(b.shape)}"
        )


# ---- products ------------------------------------------------------------------------------


def _add_rows(src: np.ndarray, rows: np.ndarray, n: int, order: np.ndarray | None) -> np.ndarray:
    """zeros((n, k)) with src[i] added into row rows[i]. `order` sorts rows (None: sorted
    already); then each run of equal rows is one np.add.reduceat sum, which is many times
    faster than np.add.at's element-by-element scatter."""
    if order is not None:
        src, rows = src[order], rows[order]
    out = np.zeros((n, *src.shape[1:]), src.dtype)
    if rows.size:
        starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
        out[rows[starts]] = np.add.reduceat(src, starts, axis=0)
    return out


class SparseMm(Op):
    """The values (nnz,) of a sparse (n, m) matrix at (rows, cols), times a dense (m, k) one:
    each value scales a row of dense, and the scaled rows add up in the result's rows.

    The gradient of the values is the product of the output's gradient and dense at each
    stored position; that of dense is the transposed product, the same op with rows and cols
    swapped (recorded under create_graph, so second derivatives work). The order that sorts
    cols is computed there, only when dense needs its gradient: as long as the product itself
    for a few columns."""

    @staticmethod
    def forward(ctx, values, dense, rows, cols, n, by_row):
        ctx.save_for_backward(values, dense)
        ctx.pattern = rows, cols, dense.shape[0], by_row
        return _add_rows(values[:, None] * dense[cols], rows, n, by_row)

    @staticmethod
    def backward(ctx, grad):
        values, dense = ctx.saved_tensors
        rows, cols, m, by_row = ctx.pattern
        d_values, d_dense = ctx._edges[:2]
        if d_values is not None:
            d_values = _dual.sum(grad[rows] * dense[cols], 1, keepdims=False)
        if d_dense is not None:
            by_col = np.argsort(cols, kind="stable")
            if isinstance(grad, np.ndarray):
                d_dense = _add_rows(values[:, None] * grad[rows], cols, m, by_col)
            else:
                d_dense = SparseMm.apply(values, grad, cols, rows, m, by_col)
        return d_values, d_dense, None, None, None, None


def _spmm(sparse: SparseTensor, dense: Tensor, name: str | None = None) -> Tensor:
    """sparse (n, m) @ dense (m, k) or (m,): each stored value scales a row of dense, and the
    scaled rows add up in the rows of the result."""
    if not isinstance(dense, Tensor):
        raise TypeError(f"mm: expected a Tensor as the second operand, got {type(dense).__name__}")
    if sparse._data.ndim != 2 or sparse.dense_dim():
        raise RuntimeError(
            f"mm: the sparse operand must be 2-D without dense dimensions, got size {tuple(sparse.shape)} "
            f"with {sparse.dense_dim()} dense dimension(s)"
        )
    if dense._data.ndim not in (1, 2):
        raise RuntimeError(f"mm: expected a 1-D or 2-D dense operand, got {dense._data.ndim}-D")
    (n, m), shape = sparse.shape, tuple(dense.shape)
    if shape[0] != m:
        cols = "x".join(map(str, shape))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{m} and {cols})")
    if dense._data.dtype != sparse._vals._data.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {sparse.dtype} != {dense.dtype}"
        )
    vector = dense._data.ndim == 1
    if vector:
        dense = dense.unsqueeze(1)
    rows, cols = sparse._idx
    by_row = None if sparse._coalesced else np.argsort(rows, kind="stable")
    out = SparseMm.apply(sparse._vals, dense, rows, cols, n, by_row)
    out = out.squeeze(1) if vector else out
    return out if name is None else named(out, "MvBackward0" if vector and name == "MmBackward0" else name)


def mm(mat1: Tensor, mat2: Tensor, reduce: str | None = None) -> Tensor:
    """The matrix product of a sparse and a dense (or sparse) matrix (torch.sparse.mm): dense
    for a dense mat2, sparse for a sparse one. The gradient of a sparse operand is sparse, with
    its (coalesced) pattern."""
    if reduce not in (None, "sum"):
        raise NotImplementedError(f"sparse.mm: ember supports reduce='sum' only, got {reduce!r}")
    return _product(mat1, mat2, "SparseAddmmBackward0")


def _product(mat1: Tensor, mat2: Tensor, name: str) -> Tensor:
    """mat1 @ mat2 where one or both are sparse; also what ember.mm, ember.matmul and `@` run
    for a sparse operand (their node is then MmBackward0, as in PyTorch)."""
    if name == "BmmBackward0" and isinstance(mat1, SparseTensor) and not isinstance(mat2, SparseTensor):
        return _bmm(mat1, mat2)
    if isinstance(mat1, SparseTensor) and isinstance(mat2, SparseTensor):
        compressed = (sparse_csr, sparse_csc)
        if (mat1.layout is sparse_coo) != (mat2.layout is sparse_coo):  # refused, as in PyTorch
            first = mat2 if name == "SparseAddmmBackward0" else mat1  # the sum's term, as PyTorch's
            raise RuntimeError(
                f"addmm: computation on CPU is not implemented for {_LAYOUT_NAMES[first.layout]} + "
                f"{_LAYOUT_NAMES[mat1.layout]} @ {_LAYOUT_NAMES[mat2.layout]} (a COO and a compressed "
                "tensor: convert both to one layout)"
            )
        both = mat1.layout in compressed and mat2.layout in compressed  # the product of two is CSR
        return _like_layout(_spmm(mat1, mat2.to_dense()).to_sparse(), sparse_csr if both else sparse_coo)
    if isinstance(mat1, SparseTensor):
        return _spmm(mat1, mat2, name)
    if isinstance(mat2, SparseTensor):
        # (mat2^T @ mat1^T)^T, mat2 transposed in COO form
        out = _spmm(transpose(mat2.to_sparse_coo(), 0, 1), mat1.t()).t()
        return out if name is None else named(out, name)
    return mat1.mm(mat2)


def _bmm(batch1: SparseTensor, batch2: Tensor) -> Tensor:
    """ember.bmm of a (b, n, m) COO tensor without dense dimensions and a dense (b, m, k) one:
    one sparse-dense product per matrix of the batch, stacked."""
    from ember.ops.api.shape import stack

    if batch1.layout is not sparse_coo or batch1.dense_dim():
        raise RuntimeError(
            f"bmm_sparse: Tensor 'self' must have 0 dense dims, but has {batch1.dense_dim()} (and be COO)"
        )
    products = [_spmm(select(batch1, 0, b), batch2[b]) for b in range(batch1.shape[0])]
    return named(stack(products), "BmmBackward0")


def addmm(mat: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1.0, alpha: Any = 1.0) -> Tensor:
    """beta * mat + alpha * (mat1 @ mat2) for a sparse mat1 (torch.sparse.addmm)."""
    product = _product(mat1, mat2, None)
    if alpha != 1:
        product = product * alpha
    return named(product + (mat if beta == 1 else mat * beta), "SparseAddmmBackward0")


def smm(input: SparseTensor, mat: Tensor) -> SparseTensor:
    """sparse @ dense, returned as a sparse tensor of the nonzero results (torch.smm)."""
    return _spmm(_sparse_arg(input, "smm"), mat).to_sparse()


def hspmm(mat1: SparseTensor, mat2: Tensor) -> SparseTensor:
    """sparse @ dense as a hybrid COO tensor of the rows mat1 touches (torch.hspmm)."""
    product = _spmm(_sparse_arg(mat1, "hspmm"), mat2)
    rows = np.unique(mat1._idx[0])
    return _new(sparse_coo, product.shape, product.index_select(0, Tensor(rows)), rows.reshape(1, -1), True)


def sspaddmm(
    input: SparseTensor, mat1: SparseTensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1
) -> SparseTensor:
    """beta * input + alpha * (mat1 @ mat2), sparse: input's entries, then the product's
    (torch.sspaddmm)."""
    return add(_sparse_arg(input, "sspaddmm") * beta, smm(mat1, mat2) * alpha)


def _sparse_arg(x: Any, op: str) -> SparseTensor:
    if not isinstance(x, SparseTensor):
        raise RuntimeError(f"{op}: expected a sparse tensor, got a {type(x).__name__} with layout strided")
    return x


# ---- reductions and normalizations ------------------------------------------------------------


def sum(input: SparseTensor, dim: Any = None, dtype: Any = None) -> Tensor:
    """The sum of a sparse tensor's elements over `dim` (all by default) (torch.sparse.sum):
    dense when every sparse dimension is summed, else sparse and coalesced."""
    if _sparse_arg(input, "sparse.sum").layout is sparse_csc:
        raise RuntimeError("coalesce expected sparse coordinate tensor layout but got SparseCsc (sparse.sum)")
    input = input.to_sparse_coo()
    values = input._vals if dtype is None else input._vals.to(dtype)
    if dim is None:
        return values.sum()
    dims = normalize_dims(dim, input._data.ndim, "sparse.sum")
    sd = input.sparse_dim()
    dense_dims = tuple(d - sd + 1 for d in dims if d >= sd)
    if dense_dims:
        values = values.sum(dense_dims)
    keep = [d for d in range(sd) if d not in dims]
    if not keep:
        return values.sum(0)
    shape = [input.shape[d] for d in keep] + [
        n for d, n in enumerate(input.shape) if d >= sd and d not in dims
    ]
    result = _new(sparse_coo, tuple(shape), values, input._idx[keep], False).coalesce()
    result._vals = named(result._vals, "SparseSumBackward0")
    return result


def _groups(input: SparseTensor, dim: int) -> tuple[np.ndarray, int]:
    """For each stored element, the number of its slice along dim among the slices that hold
    an element (numbered by the other sparse indices), and how many such slices there are:
    as many as nnz at most, where numbering every slice could be the product of the sizes."""
    others = [d for d in range(input.sparse_dim()) if d != dim]
    if not others:
        return np.zeros(input._nnz(), np.int64), 1
    shape = tuple(input.shape[d] for d in others)
    slices, group = np.unique(_flat(input._idx[others], shape), return_inverse=True)
    return group.reshape(-1).astype(np.int64), len(slices)


def _softmax(input: SparseTensor, dim: int, dtype: Any, log: bool, op: str) -> SparseTensor:
    layout = _sparse_arg(input, op).layout
    if layout is sparse_csc:
        raise NotImplementedError(f"{op}: a CSC tensor has no sparse {op} in PyTorch (use .to_sparse_csr())")
    c = input.to_sparse_coo().coalesce()
    values = c._vals if dtype is None else c._vals.to(dtype)
    if values._data.dtype.kind != "f":
        raise NotImplementedError(f'"{op}" not implemented for {values.dtype} (pass dtype=ember.float32)')
    dim = normalize_dim(dim, c._data.ndim, op)
    sd = c.sparse_dim()
    if dim >= sd:  # along a dense dimension: an ordinary softmax of the values
        f = values.log_softmax if log else values.softmax
        return _like_layout(_new(sparse_coo, c.shape, f(dim - sd + 1), c._idx, True), layout)
    group, count = _groups(c, dim)
    # unspecified elements count as -inf, not 0: each slice is normalized over its stored values
    top = np.full((count, *values.shape[1:]), -np.inf, values._data.dtype)
    np.maximum.at(top, group, values._data)
    g = Tensor(group)
    shifted = values - Tensor(top[group])  # a constant shift, for stability
    e = shifted.exp()
    total = e.new_zeros((count, *values.shape[1:])).index_add(0, g, e).index_select(0, g)
    out = shifted - total.log() if log else e / total
    out = named(out, "SparseLogSoftmaxBackward0" if log else "SparseSoftmaxBackward0")
    return _like_layout(_new(sparse_coo, c.shape, out, c._idx, True), layout)


def softmax(input: SparseTensor, dim: int, dtype: Any = None) -> SparseTensor:
    """Softmax along dim over the specified elements only (unspecified ones count as -inf, so
    they stay unspecified) (torch.sparse.softmax)."""
    return _softmax(input, dim, dtype, False, "softmax")


def log_softmax(input: SparseTensor, dim: int, dtype: Any = None) -> SparseTensor:
    """log of sparse.softmax, computed stably (torch.sparse.log_softmax)."""
    return _softmax(input, dim, dtype, True, "log_softmax")


def spdiags(diagonals: Tensor, offsets: Tensor, shape: tuple, layout: Any = None) -> SparseTensor:
    """A sparse (m, n) matrix with row k of diagonals on diagonal offsets[k] (0 the main one,
    positive above): element (i, i + offset) is diagonals[k, i + offset] (torch.sparse.spdiags)."""
    if diagonals._data.ndim != 2:
        raise RuntimeError(f"spdiags: expected a 2-D diagonals tensor, got {diagonals._data.ndim}-D")
    offs = np.asarray(offsets._data if isinstance(offsets, Tensor) else offsets).reshape(-1)
    if len(offs) != diagonals.shape[0]:
        raise RuntimeError(
            f"spdiags: the number of diagonals ({diagonals.shape[0]}) must equal the number of offsets ({len(offs)})"
        )
    if len(np.unique(offs)) != len(offs):
        raise RuntimeError("spdiags: offsets must be unique")
    m, n = (int(s) for s in shape)
    length = diagonals.shape[1]
    which, rows, cols = [], [], []
    for k, off in enumerate(offs.tolist()):
        i = np.arange(max(0, -off), min(m, n - off), dtype=np.int64)
        i = i[i + off < length]
        which.append(np.full(len(i), k, np.int64))
        rows.append(i)
        cols.append(i + off)
    which, rows, cols = (np.concatenate(parts) for parts in (which, rows, cols))
    values = diagonals[Tensor(which), Tensor(cols)]
    result = _new(sparse_coo, (m, n), values, np.stack([rows, cols]).reshape(2, -1), False)
    if layout is not None and layout is not sparse_coo:
        return (
            _like_layout(result, layout)
            if layout in (sparse_csr, sparse_csc)
            else _unsupported_layout(layout)
        )
    return result


def _unsupported_layout(layout: Any) -> Any:
    raise NotImplementedError(
        f"ember supports the sparse_coo, sparse_csr and sparse_csc layouts, not {layout}"
    )


# ---- elementwise ---------------------------------------------------------------------------


def add(input: SparseTensor, other: Any, *, alpha: Any = 1, name: str = "AddBackward0") -> SparseTensor:
    """sparse + alpha * sparse: the entries of both (summed per index when both are coalesced)."""
    if not isinstance(other, SparseTensor):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    _check_same_size(input, other, "add")
    layout = input.layout
    if sparse_csc in (layout, other.layout) and (layout is not other.layout or name != "AddBackward0"):
        # PyTorch adds two CSC tensors (alpha included) and nothing else with one
        raise RuntimeError(
            f"{'add' if name == 'AddBackward0' else 'sub'}: unsupported tensor layout: SparseCsc (a "
            f"{layout} and a {other.layout} tensor)"
        )
    a, b = input.to_sparse_coo(), other.to_sparse_coo()
    if a.sparse_dim() != b.sparse_dim():
        raise RuntimeError(f"add: the sparse dimensions differ ({a.sparse_dim()} and {b.sparse_dim()})")
    bv = b._vals if alpha == 1 else b._vals * alpha
    values = _cat(a._vals, bv)
    result = _new(sparse_coo, a.shape, values, np.concatenate([a._idx, b._idx], axis=1), False)
    if a._coalesced and b._coalesced or layout is not sparse_coo:
        result = result.coalesce()
    result._vals = named(result._vals, name)
    return _like_layout(result, layout)


def _cat(a: Tensor, b: Tensor) -> Tensor:
    from ember.ops.api.shape import cat

    return cat([a, b])


def mul(input: SparseTensor, other: Any) -> SparseTensor:
    """sparse * number, sparse * dense (of a size they broadcast to; a CSR tensor takes its own
    size only and a CSC one no tensor, as in PyTorch), or sparse * sparse (the indices both
    specify): a sparse result (the entries of the broadcast sparse tensor, each times the
    dense element at its place)."""
    layout = input.layout
    if isinstance(other, numbers.Number) or (
        isinstance(other, Tensor) and not isinstance(other, SparseTensor) and other._data.ndim == 0
    ):
        return _new(layout, input.shape, input._vals * other, input._idx, input._coalesced)
    if not isinstance(other, Tensor):
        return NotImplemented
    if layout is sparse_csc:
        raise RuntimeError("Expected result Tensor to be of format CSR (mul of a CSC tensor by a tensor)")
    a = input.to_sparse_coo().coalesce()
    if isinstance(other, SparseTensor):
        _check_same_size(input, other, "mul")
        b = other.to_sparse_coo().coalesce()
        sparse_shape = a._sparse_shape()
        _, ia, ib = np.intersect1d(
            _flat(a._idx, sparse_shape), _flat(b._idx, sparse_shape), return_indices=True
        )
        values = a._vals.index_select(0, Tensor(ia.astype(np.int64))) * b._vals.index_select(
            0, Tensor(ib.astype(np.int64))
        )
        return _like_layout(_new(sparse_coo, a.shape, values, a._idx[:, ia], True), layout)
    if layout is not sparse_coo and tuple(other.shape) != tuple(input.shape):
        raise RuntimeError(
            f"sparse_mask(): operands have incompatible sizes; self has size {list(other.shape)} but "
            f"mask has size {list(input.shape)} (a {layout} tensor multiplies a dense tensor of its "
            "own size only)"
        )
    shape = _broadcast(input, other)
    if shape != tuple(input.shape):
        a = _expand(a, shape)
    if tuple(other.shape) != shape:
        other = other.expand(shape)
    picked = other[tuple(Tensor(row) for row in a._idx)]
    return _like_layout(_new(sparse_coo, shape, a._vals * picked, a._idx, True), layout)


def _broadcast(input: SparseTensor, other: Tensor) -> tuple:
    """The shape a sparse tensor and a dense one broadcast to (PyTorch's error when they do not)."""
    a, b = tuple(other.shape), tuple(input.shape)
    n = builtins.max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    for d in range(n - 1, -1, -1):
        if a[d] != b[d] and a[d] != 1 and b[d] != 1:
            raise RuntimeError(
                f"The size of tensor a ({a[d]}) must match the size of tensor b ({b[d]}) at non-singleton "
                f"dimension {d} (a sparse tensor of size {list(input.shape)} times a dense one of size "
                f"{list(other.shape)})"
            )
    return tuple(x if y == 1 else y for x, y in zip(a, b))


def _expand(input: SparseTensor, shape: tuple) -> SparseTensor:
    """A coalesced COO tensor broadcast to `shape`: new leading dimensions are sparse ones, and
    each entry is repeated along every sparse dimension of size 1 that grows (PyTorch 2.13
    leaves such a dimension unrepeated, a wrong product); dense dimensions of size 1 broadcast
    when the values are multiplied. The result is coalesced."""
    lead = len(shape) - input._data.ndim
    sd = input.sparse_dim()
    idx = np.concatenate([np.zeros((lead, input._nnz()), np.int64), input._idx])
    take = np.arange(input._nnz(), dtype=np.int64)
    sizes = (1,) * lead + tuple(input.shape[:sd])
    for d in range(lead + sd):
        n = shape[d]
        if sizes[d] == 1 and n != 1:
            count = idx.shape[1]
            idx = np.repeat(idx, n, axis=1)
            idx[d] = np.tile(np.arange(n, dtype=np.int64), count)
            take = np.repeat(take, n)
    order = np.argsort(_flat(idx, shape[: lead + sd]), kind="stable")
    values = input._vals.index_select(0, Tensor(take[order]))
    return _new(sparse_coo, shape[: lead + sd] + tuple(input.shape[sd:]), values, idx[:, order], True)


def div(input: SparseTensor, other: Any, *, rounding_mode: str | None = None) -> SparseTensor:
    """sparse / number (or 0-d tensor), rounded as rounding_mode says: zeros stay zeros, so
    only the values are divided."""
    _no_csc(input, "div")
    if isinstance(other, numbers.Number) or (
        isinstance(other, Tensor) and not isinstance(other, SparseTensor) and other._data.ndim == 0
    ):
        if rounding_mode is None:  # each entry divided, repeated ones too: their sum is divided
            return _new(input.layout, input.shape, input._vals / other, input._idx, input._coalesced)
        # rounding is not linear: it rounds the sums of repeated entries, as PyTorch's (which
        # coalesces first); a CSR tensor has none
        c = input.coalesce() if input.layout is sparse_coo else input
        values = c._vals.div(other, rounding_mode=rounding_mode)
        return _new(c.layout, c.shape, values, c._idx, c._coalesced)
    raise RuntimeError(
        "Sparse division requires a scalar or zero-dim dense tensor divisor (got shape "
        f"{list(getattr(other, 'shape', ()))} for divisor)"
    )


def _round(input: SparseTensor, *, decimals: int = 0) -> SparseTensor:
    """round of each element (half to even); PyTorch has no sparse form with decimals."""
    if decimals:
        raise NotImplementedError("round(): decimals is not supported for sparse tensors, as in PyTorch")
    return _on_values(input, lambda values: values.round())


def transpose(input: SparseTensor, dim0: int, dim1: int, name: str = "TransposeBackward0") -> SparseTensor:
    """The sparse tensor with two sparse dimensions swapped. A CSR tensor transposed is CSC
    and a CSC one CSR, as in PyTorch: the two rows of indices swap, and no value moves (the
    row order of one is the column order of the other)."""
    nd = input._data.ndim
    d0, d1 = normalize_dim(dim0, nd, "transpose"), normalize_dim(dim1, nd, "transpose")
    if input.layout is not sparse_coo:
        if d0 == d1:
            return input
        flipped = sparse_csc if input.layout is sparse_csr else sparse_csr
        shape = tuple(input.shape)[::-1]
        return _new(flipped, shape, named(input._vals, name), input._idx[::-1].copy(), flipped is sparse_csr)
    sd = input.sparse_dim()
    if (d0 < sd) != (d1 < sd):
        raise RuntimeError(f"transpose(): cannot swap a sparse dimension with a dense one ({d0} and {d1})")
    shape = list(input.shape)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    if d0 >= sd:
        values = input._vals.transpose(d0 - sd + 1, d1 - sd + 1)
        return _new(sparse_coo, tuple(shape), named(values, name), input._idx, input._coalesced)
    idx = input._idx.copy()
    idx[[d0, d1]] = idx[[d1, d0]]
    return _new(sparse_coo, tuple(shape), named(input._vals, name), idx, d0 == d1 and input._coalesced)


def t(input: SparseTensor) -> SparseTensor:
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return input if input._data.ndim < 2 else transpose(input, 0, 1, "TBackward0")


def _reflected(self: SparseTensor, other: Any, op: str) -> Tensor:
    """`other + sparse` and `other - sparse`: a dense tensor of the same size gives a dense
    result, as in PyTorch; a number or a tensor that only broadcasts raises, as PyTorch's
    add does, rather than giving a dense result that PyTorch never computes."""
    if op == "sub" and self.layout is not sparse_coo:  # dense - compressed: PyTorch refuses both
        raise RuntimeError(
            f"unsupported tensor layout: {_LAYOUT_NAMES[self.layout]} (dense - sparse takes a COO tensor: "
            "convert with .to_sparse_coo())"
        )
    if isinstance(other, Tensor) and not isinstance(other, SparseTensor):
        if tuple(other.shape) == tuple(self.shape):
            dense = self.to_dense()
            return other + dense if op == "add" else other - dense
        raise RuntimeError(
            f"{op}: expected 'self' and 'other' to have same size, but self has size "
            f"{list(other.shape)} while other has size {list(self.shape)} (a dense tensor and a "
            "sparse one are added only when their sizes are equal)"
        )
    raise RuntimeError(
        f"{op}(sparse, dense) is not supported: a number added to a sparse tensor would make it "
        "dense. Use sparse.to_dense() first."
    )


def pow(input: SparseTensor, exponent: Any) -> SparseTensor:  # noqa: A001  (torch's name)
    """Each specified element to the power `exponent`, a nonzero number: the unspecified
    zeros stay zeros (as in PyTorch, also for a negative exponent). The tensor is coalesced
    first, since a power of a sum is not the sum of the powers."""
    _coo_only(input, "pow")
    if isinstance(exponent, Tensor) or not isinstance(exponent, numbers.Number):
        raise NotImplementedError(
            "pow: a sparse tensor is raised to a number only, not to a tensor "
            f"(got {type(exponent).__name__})"
        )
    if exponent == 0:
        raise RuntimeError(
            "pow: cannot raise to zeroth power on sparse tensor; it would make the result tensor dense"
        )
    kind = input._vals._data.dtype.kind
    needed = "c" if isinstance(exponent, complex) else "f" if isinstance(exponent, float) else "i"
    if "biufc".index(needed) > "biufc".index(kind) and not (kind == "b" and needed == "i"):
        # the result keeps the values' dtype in PyTorch, which cannot hold a float power of ints
        names = {"i": "Long", "f": "Float", "c": "ComplexFloat"}
        raise RuntimeError(
            f"result type {names[needed]} can't be cast to the desired output type "
            f"{dtypes.scalar_type_name(input._vals._data.dtype)} (pow of a sparse tensor keeps its dtype: "
            "convert it with .float() first)"
        )
    if kind == "b":
        raise RuntimeError(
            "result type Long can't be cast to the desired output type Bool (pow of a sparse tensor "
            "keeps its dtype: convert it with .long() first)"
        )
    c = input.coalesce()
    return _new(sparse_coo, c.shape, c._vals**exponent, c._idx, True)


def _rpow(self: SparseTensor, base: Any) -> Tensor:
    raise NotImplementedError(
        "pow: a number raised to a sparse tensor would be dense (base ** 0 = 1 everywhere); "
        "use base ** sparse.to_dense()"
    )


def select(input: SparseTensor, dim: int, index: int) -> Tensor:
    """The slice at `index` of dimension `dim` (torch.select): sparse while sparse
    dimensions remain, else the dense sum of the values at that position. A CSR tensor
    gives a COO slice, as in PyTorch. Gradients flow to the values (PyTorch has no
    gradient for this on sparse tensors)."""
    shape = tuple(input.shape)
    d = normalize_dim(dim, len(shape), "select")
    size = shape[d]
    index = operator.index(index)  # an int, a NumPy integer or a 0-d integer tensor
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(shape)} at dimension {d}"
        )
    index %= size
    c = input.to_sparse_coo()
    sd = c.sparse_dim()
    rest = shape[:d] + shape[d + 1 :]
    if d >= sd:  # a dense dimension: every element keeps its position
        values = c._vals.select(d - sd + 1, index)
        return _new(sparse_coo, rest, named(values, "SelectBackward0"), c._idx, c._coalesced)
    rows = np.flatnonzero(c._idx[d] == index)
    values = c._vals.index_select(0, Tensor(rows.astype(np.int64)))
    if sd == 1:  # no sparse dimension left: the dense value there, repeats summed
        return named(values.sum(0, dtype=values.dtype), "SelectBackward0")  # int32, bool, ... kept
    idx = np.delete(c._idx[:, rows], d, axis=0)
    return _new(sparse_coo, rest, named(values, "SelectBackward0"), idx, c._coalesced)


def index_select(input: SparseTensor, dim: int, index: Tensor) -> SparseTensor:
    """The slices at the positions `index` (1-D integers) along `dim`, in that order and as
    often as they are listed (torch.index_select); the result is COO and uncoalesced."""
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' must be Tensor, not {type(index).__name__}")
    if (
        isinstance(index, SparseTensor)
        or index._data.ndim != 1
        or index._data.dtype != np.int64
        or not isinstance(input, SparseTensor)
    ):
        raise IndexError(
            "index_select() argument index must be 1-D strided (non-sparse) long-tensor. (got "
            f"{'a sparse' if isinstance(index, SparseTensor) else 'a'} {index.dtype} tensor of size "
            f"{list(index.shape)}: convert it with .long())"
        )
    if input.layout is not sparse_coo:
        raise NotImplementedError(
            f"index_select: a {_kind(input)} tensor has no index_select, as in PyTorch (convert it with "
            ".to_sparse_coo() first)"
        )
    shape = list(input.shape)
    if not shape:
        raise IndexError("index_select() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, len(shape), "index_select")
    sel = index._data
    if sel.size and (sel.min() < -shape[d] or sel.max() >= shape[d]):
        bad = sel.min() if sel.min() < -shape[d] else sel.max()
        raise IndexError(
            f"index_select(): index contains {bad} that is out of range for tensor of size {shape} "
            f"at dimension {d}"
        )
    sel = sel % shape[d] if shape[d] else sel
    c = input.to_sparse_coo()
    sd = c.sparse_dim()
    shape[d] = len(sel)
    if d >= sd:
        values = c._vals.index_select(d - sd + 1, Tensor(sel))
        return _new(sparse_coo, tuple(shape), named(values, "IndexSelectBackward0"), c._idx, c._coalesced)
    # each stored element k once for every j with sel[j] == its index: the pairs (k, j), found
    # by looking each element's index up in the sorted selection
    order = np.argsort(sel, kind="stable")
    lo = np.searchsorted(sel[order], c._idx[d], "left")
    counts = np.searchsorted(sel[order], c._idx[d], "right") - lo
    k = np.repeat(np.arange(len(counts)), counts)
    within = np.arange(len(k)) - np.repeat(np.cumsum(counts) - counts, counts)
    j = order[np.repeat(lo, counts) + within]
    idx = c._idx[:, k]
    idx[d] = j
    values = c._vals.index_select(0, Tensor(k.astype(np.int64)))
    return _new(sparse_coo, tuple(shape), named(values, "IndexSelectBackward0"), idx, False)


def _no_strides(input: SparseTensor) -> RuntimeError:
    kind = _kind(input)
    return RuntimeError(
        f"Sparse {kind} tensors do not have strides (a {kind} tensor takes None after an integer only)"
    )


def getitem(input: SparseTensor, key: Any) -> Tensor:
    """Indexing as PyTorch allows it on a sparse tensor: integers (also NumPy integers and 0-d
    integer tensors), each a `select`; `:`; None, a new dimension of size 1 (`unsqueeze`); and
    `...` among other items. Slices with bounds, tensors of indices, masks and `s[...]` alone
    raise, as in PyTorch (whose `s[...]` fails for want of strides)."""
    items = key if isinstance(key, tuple) else (key,)
    # by identity: tuple.count and .index would compare a tensor item with == (elementwise)
    ellipses = [i for i, item in enumerate(items) if item is Ellipsis]
    nones = builtins.sum(item is None for item in items)
    if ellipses:
        if len(items) == 1 or len(ellipses) > 1:
            if input.layout is not sparse_coo:
                raise _no_strides(input)
            raise NotImplementedError(
                "ember: a sparse tensor cannot be indexed by '...' alone or twice, as in PyTorch; "
                "index it with integers, ':' and None"
            )
        at = ellipses[0]
        fill = (slice(None),) * (input.dim() - (len(items) - nones - 1))
        items = items[:at] + fill + items[at + 1 :]
    if len(items) - nones > input.dim():
        raise IndexError(f"too many indices for tensor of dimension {input.dim()}")
    result: Tensor = input
    dim = 0
    for item in items:
        if item is None:
            if result.layout is not sparse_coo:  # PyTorch selects first, which gives COO
                raise _no_strides(input)
            result = unsqueeze(result, dim)
            dim += 1
        elif isinstance(item, slice) and item == slice(None):
            dim += 1
        elif _is_integer(item):
            result = select(result, dim, item)
        else:
            raise NotImplementedError(
                f"ember: a sparse tensor is indexed by integers and ':' (and None, and '...' among them) only, "
                "as in PyTorch, "
                f"got {item!r}; convert with .to_dense() first"
            )
    return result


def _is_integer(item: Any) -> bool:
    """An int, a NumPy integer or a 0-d integer tensor (not a bool): an index that selects."""
    if isinstance(item, Tensor):
        return not isinstance(item, SparseTensor) and item._data.ndim == 0 and item._data.dtype.kind in "iu"
    return isinstance(item, (numbers.Integral, np.integer)) and not isinstance(item, (bool, np.bool_))


def unsqueeze(input: SparseTensor, dim: int) -> SparseTensor:
    """A new dimension of size 1 at `dim` (torch.unsqueeze): a sparse one, every element at
    index 0, when it comes at or before the last sparse dimension, else a dense one (COO only,
    as in PyTorch)."""
    if input.layout is not sparse_coo:
        raise NotImplementedError(
            f"unsqueeze: a {_kind(input)} tensor cannot be unsqueezed, as in PyTorch (use .to_sparse_coo())"
        )
    d = normalize_dim(dim, input._data.ndim + 1, "unsqueeze")
    shape = tuple(input.shape[:d]) + (1,) + tuple(input.shape[d:])
    sd = input.sparse_dim()
    if d > sd:
        values = named(input._vals.unsqueeze(d - sd + 1), "UnsqueezeBackward0")
        return _new(sparse_coo, shape, values, input._idx, input._coalesced)
    idx = np.insert(input._idx, d, 0, axis=0)
    return _new(sparse_coo, shape, named(input._vals, "UnsqueezeBackward0"), idx, input._coalesced)


def permute(input: SparseTensor, dims: Any) -> SparseTensor:
    """The dimensions reordered (torch.permute), sparse ones among the sparse ones and dense
    ones among the dense ones (COO only, as in PyTorch)."""
    if input.layout is not sparse_coo:
        raise NotImplementedError(
            f"permute: a {_kind(input)} tensor cannot be permuted in ember (use .to_sparse_coo())"
        )
    n, sd = input._data.ndim, input.sparse_dim()
    dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else tuple(dims)
    if len(dims) != n:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
            f"the desired ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(dims)}"
        )
    order = [normalize_dim(d, n, "permute") for d in dims]
    if len(set(order)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    if sorted(order[:sd]) != list(range(sd)):
        raise RuntimeError(
            "permute(sparse_coo): transpositions between sparse and dense dimensions are not allowed. "
            f"Only transpositions within sparse and dense dimensions are supported (got dims {list(dims)})"
        )
    shape = tuple(input.shape[d] for d in order)
    values = input._vals.permute(0, *(d - sd + 1 for d in order[sd:]))
    identity = order[:sd] == list(range(sd))
    return _new(
        sparse_coo,
        shape,
        named(values, "PermuteBackward0"),
        input._idx[order[:sd]],
        identity and input._coalesced,
    )


def sparse_mask(input: Tensor, mask: SparseTensor) -> SparseTensor:
    """The dense tensor's values at the indices of the sparse `mask` (torch.Tensor.sparse_mask)."""
    _check_same_size(input, _sparse_arg(mask, "sparse_mask"), "sparse_mask")
    # the mask's indices as they are, repeats included (PyTorch's result is then uncoalesced too,
    # and a repeated index counts twice when it is summed or made dense)
    c = mask.to_sparse_coo()
    values = named(input[tuple(Tensor(row) for row in c._idx)], "SparseMaskBackward0")
    return _like_layout(_new(sparse_coo, c.shape, values, c._idx, c._coalesced), mask.layout)


# zero-preserving elementwise functions: applied to the values of the coalesced tensor
_UNARY = """abs neg negative relu sqrt square tanh sin sinh asin asinh atan atanh tan expm1 log1p
sign sgn ceil floor round trunc frac erf erfinv deg2rad rad2deg isnan isinf isposinf isneginf signbit""".split()


def _on_values(input: SparseTensor, f: Any) -> SparseTensor:
    """f applied to the values of the coalesced tensor, for an f that keeps zeros zero; the
    result has input's layout."""
    c = input.to_sparse_coo().coalesce()
    return _like_layout(_new(sparse_coo, c.shape, f(c._vals), c._idx, True), input.layout)


def _unary(name: str) -> Any:
    def method(self: SparseTensor) -> SparseTensor:
        return _on_values(self, lambda values: getattr(values, name)())

    method.__name__ = name
    method.__doc__ = f"{name} of each element; zeros stay zeros, so only the values change."
    return method


# ---- in-place forms ------------------------------------------------------------------------------


def _inplace(self: SparseTensor, result: SparseTensor) -> SparseTensor:
    """self made to hold result's elements: PyTorch's in-place sparse operations replace the
    indices and values, and bump the version. The graph continues through the new values;
    a leaf that requires grad is refused, as every in-place change of one, except under
    no_grad, where it stays a leaf (its values too, when their number is unchanged)."""
    from ember.autograd import grad_mode

    if grad_mode._state[0] and self.requires_grad and self.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(
            f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)} "
            "(an in-place operation keeps the sparse tensor's size)"
        )
    if result._vals._data.dtype != self._vals._data.dtype:
        raise RuntimeError(
            f"result type {dtypes.scalar_type_name(result._vals._data.dtype)} can't be cast to the desired "
            f"output type {dtypes.scalar_type_name(self._vals._data.dtype)}"
        )
    values = result._vals
    if self.requires_grad and self.is_leaf:  # under no_grad: the values stay the same leaf
        if values.shape == self._vals.shape:
            self._vals._data = values._data
            values = self._vals
        else:  # fewer or more elements (zero_, add_): a new leaf of them
            values = Tensor(values._data)
            values.requires_grad = True
    self._idx, self._vals, self._coalesced = result._idx, values, result._coalesced
    self._version_cell[0] += 1
    return self


def _coo_only(self: SparseTensor, op: str) -> None:
    if self.layout is not sparse_coo:
        raise RuntimeError(
            f"{op}: unsupported tensor layout: {_LAYOUT_NAMES[self.layout]} (convert with .to_sparse_coo())"
        )


def _zero_(self: SparseTensor) -> SparseTensor:
    """No element specified any more (torch.Tensor.zero_ of a sparse tensor)."""
    values = named(self._vals[:0], "ZeroBackward0")  # in the graph still, as in PyTorch
    return _inplace(self, _new(self.layout, self.shape, values, self._idx[:, :0], True))


def _add_(self: SparseTensor, other: Any, *, alpha: Any = 1) -> SparseTensor:
    return _inplace(self, add(self, other, alpha=alpha))  # add's layout rules, CSC's included


def _sub_(self: SparseTensor, other: Any, *, alpha: Any = 1) -> SparseTensor:
    _coo_only(self, "sub_")
    return _inplace(self, add(self, other, alpha=-alpha, name="SubBackward0"))


def _div_(self: SparseTensor, other: Any, *, rounding_mode: str | None = None) -> SparseTensor:
    _coo_only(self, "div_")
    return _inplace(self, div(self, other, rounding_mode=rounding_mode))


def _inplace_unary(name: str) -> Any:
    def method(self: SparseTensor) -> SparseTensor:
        return _inplace(self, getattr(self, name)())

    method.__name__ = name + "_"
    method.__doc__ = f"In-place {name}: the values replaced, zeros staying zeros."
    return method


# the in-place forms PyTorch has for sparse tensors (square_ and the predicates have none)
_INPLACE = [
    name for name in _UNARY if name not in ("square", "isnan", "isinf", "isposinf", "isneginf", "signbit")
]


def attach(cls: type) -> None:
    """The operations above as SparseTensor methods and operators (Python tries a subclass's
    reflected operator first, so `dense + sparse` and `dense @ sparse` come here too)."""
    for name in _UNARY:
        setattr(cls, name, _unary(name))
    for name in _INPLACE:
        setattr(cls, name + "_", _inplace_unary(name))
    cls.zero_ = _zero_
    cls.add_ = _add_
    cls.sub_ = _sub_
    cls.mul_ = lambda self, other: _inplace(self, mul(self, other))
    cls.div_ = cls.true_divide_ = _div_
    cls.floor_divide_ = lambda self, other: _div_(self, other, rounding_mode="floor")
    cls.add = cls.__add__ = lambda self, other, *, alpha=1: add(self, other, alpha=alpha)
    cls.__radd__ = lambda self, other: _reflected(self, other, "add")
    cls.sub = cls.__sub__ = lambda self, other, *, alpha=1: add(
        self, other, alpha=-alpha, name="SubBackward0"
    )
    cls.__rsub__ = lambda self, other: _reflected(self, other, "sub")
    cls.pow = cls.__pow__ = pow
    cls.__rpow__ = _rpow
    cls.select = select
    cls.index_select = index_select
    cls.__getitem__ = getitem
    cls.unsqueeze = unsqueeze
    cls.permute = lambda self, *dims: permute(self, dims)
    cls.mul = cls.__mul__ = cls.__rmul__ = mul
    cls.div = cls.__truediv__ = div
    cls.__neg__ = lambda self: _new(self.layout, self.shape, -self._vals, self._idx, self._coalesced)
    cls.mm = cls.matmul = cls.__matmul__ = lambda self, other: _product(self, other, "MmBackward0")
    cls.__rmatmul__ = lambda self, other: _product(other, self, "MmBackward0")
    cls.transpose = transpose
    cls.t = t
    cls.sum = lambda self, dim=None, keepdim=False, dtype=None: _sum_method(self, dim, keepdim, dtype)
    # no softmax or log_softmax methods: PyTorch's refuse sparse tensors (ember.sparse.softmax)
    cls.round = _round


def _sum_method(self: SparseTensor, dim: Any, keepdim: bool, dtype: Any) -> Tensor:
    """Tensor.sum of a sparse tensor: torch.sparse.sum, and with keepdim=True the summed
    dimensions kept with size 1 (sparse ones at index 0). Booleans and integers sum as int64,
    as Tensor.sum does (torch.sparse.sum keeps their dtype where the result is sparse)."""
    if dtype is None and self._vals._data.dtype.kind in "biu":
        dtype = int64
    if self.layout is sparse_csc and dim is not None:
        raise RuntimeError(
            "Currently the only compressed sparse format supported for sum.dim_IntList is CSR, but got "
            "layout SparseCsc"
        )
    if not keepdim:
        return sum(self, dim, dtype) if self.layout is not sparse_csc else self._vals.sum(dtype=dtype)
    if dim is None:
        raise TypeError("sum(): keepdim=True needs the dimensions to sum, dim=...")
    dims = normalize_dims(dim, self._data.ndim, "sum")
    result = sum(self, dims, dtype)
    shape = tuple(1 if d in dims else n for d, n in enumerate(self.shape))
    if not isinstance(result, SparseTensor):  # every sparse dimension summed: dense for COO,
        dense = result.reshape(shape)  # and a CSR tensor gives CSR, as in PyTorch
        return dense.to_sparse_csr() if self.layout is sparse_csr else dense
    sd = self.sparse_dim()
    rows = iter(result._idx)
    zeros = np.zeros(result._idx.shape[1], np.int64)
    idx = np.stack([zeros if d in dims else next(rows) for d in range(sd)])
    values = result._vals
    for d in sorted(d for d in dims if d >= sd):
        values = values.unsqueeze(d - sd + 1)
    kept = _new(sparse_coo, shape, named(values, "SumBackward1"), idx, result._coalesced)
    return _like_layout(kept, self.layout)
