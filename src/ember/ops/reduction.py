"""Reductions over dimensions: sum, mean, prod, max/min, var, logsumexp, norm.

`dim` is an int, a tuple of ints or None (all dimensions); `keepdim` keeps the reduced
dimensions with size 1. Every backward first restores the reduced dimensions
(`_keep_shape`) and then broadcasts back to the input shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember import _meta
from ember.autograd.saved import (
    field,
    ints,
    keeps_dims,
    saved_input,
    saved_output,
)
from ember.ops import _dual
from ember.ops.elementwise import Op, row_major


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """Turn dim (None, int, sequence) into a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    rank = max(ndim, 1)
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(
                f"{op}(): Dimension out of range (expected to be in range of "
                f"[{-rank}, {rank - 1}], but got {d})"
            )
        out.append(d % rank if ndim else 0)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}(): dim {list(dims)} appears multiple times in the list of dims")
    return tuple(sorted(out)) if ndim else ()


def normalize_dim(dim: Any, ndim: int, op: str, scalar_ok: bool = True) -> int | None:
    """One dim as a non-negative axis; None for a 0-d tensor, where dims 0 and -1 mean "no axis".

    Ops that need a real axis (narrow, split, select...) pass scalar_ok=False and reject 0-d
    tensors with PyTorch's message.
    """
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    if ndim == 0 and not scalar_ok:
        raise RuntimeError(f"{op}() cannot be applied to a 0-dim tensor.")
    dims = normalize_dims(dim, ndim, op)
    return dims[0] if dims else None


def _keep_shape(shape: tuple, axes: tuple | None) -> tuple:
    """The shape of a reduction over axes (None: all of them) with its reduced dims kept as 1s."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduced_dims(axes: tuple | None) -> tuple:
    """A reduction's dims as PyTorch saves them; a reduction over everything, recorded with
    no dims, has none (PyTorch's node for it, e.g. SumBackward0, saves no `dim`)."""
    if axes is None:
        raise AttributeError("the node reduced all dimensions: it saved no dim")
    return tuple(axes)


def _reduced_keepdim(node: Any) -> bool:
    """`keepdim` of a reduction over given dims (see `_reduced_dims`)."""
    _reduced_dims(node.axes)
    return keeps_dims(node)


def _var_dims(node: Any) -> tuple | None:
    """var/std's dims as PyTorch saves them: None when the call named none."""
    return None if node.without_dim else tuple(node.axes)


def _var_correction(node: Any) -> int | float | None:
    """var/std's correction as PyTorch saves it: None for a call that named neither dims nor
    a correction (ember cannot tell it from correction=1 without dims, which shows None too)."""
    correction = node.n - node.dof
    return None if node.without_dim and correction == 1 else correction


def _reduced_dim(axis: int | None) -> int:
    """The dim of a reduction over one dim (prod), as `_reduced_dims` for several."""
    if axis is None:
        raise AttributeError("the node reduced all dimensions: it saved no dim")
    return axis


def _reduced_keepdim_of_one(node: Any) -> bool:
    """`keepdim` of a reduction over one given dim (see `_reduced_dim`)."""
    _reduced_dim(node.axis)
    return keeps_dims(node)


class Sum(Op):
    """Sum over `axes`, a tuple, or None for all of them (then without keepdim: the result is
    0-d, and so is every gradient backward receives). The sum has x's dtype: NumPy would sum
    int8 ... int32 as int64, where PyTorch's `sum(dtype=torch.int16)` is int16."""

    saved_attributes = {
        "self_sym_sizes": field("shape"),
        "dim": field("axes", _reduced_dims),
        "keepdim": _reduced_keepdim,
    }

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        if axes is None:  # NumPy gives a scalar for all axes; an array of it is 0-d
            return np.asanyarray(np.add.reduce(x, None, x.dtype))
        # x.sum() without its Python wrapper; row_major: PyTorch reduces into a row-major
        # result whatever x's layout (.view works)
        return row_major(np.add.reduce(x, axes, x.dtype, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        g = grad if grad.ndim == 0 else grad.reshape(_keep_shape(ctx.shape, ctx.axes))
        return _dual.expand(g, ctx.shape), None, None

    def name(self) -> str:
        # PyTorch's two overloads: sum() of everything, and sum(dim, keepdim)
        return "SumBackward0" if self.axes is None else "SumBackward1"


class Mean(Op):
    """Mean over `axes`, a tuple, or None for all of them (`x.mean()`, PyTorch's
    MeanBackward0, where a call that names dims gives MeanBackward1)."""

    saved_attributes = {
        "self_sym_sizes": field("shape"),
        "self_sym_numel": field("shape", math.prod),
        "dim": field("axes", _reduced_dims),
        "keepdim": _reduced_keepdim,
    }

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        ctx.count = x.size if axes is None else math.prod(x.shape[a] for a in axes)
        if ctx.count == 0:  # the mean of nothing is nan, as in PyTorch (without NumPy's warning)
            return np.full(x.sum(axis=axes, keepdims=keepdim).shape, np.nan, x.dtype)
        return row_major(x.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        # with count 0 the input is empty: any divisor gives the same (empty) gradient
        g = grad.reshape(_keep_shape(ctx.shape, ctx.axes)) / max(ctx.count, 1)
        return _dual.expand(g, ctx.shape), None, None

    def name(self) -> str:
        return "MeanBackward0" if self.axes is None else "MeanBackward1"


class Prod(Op):
    """Product over one axis, or None for all of them (PyTorch's ProdBackward0; a call that
    names a dim gives ProdBackward1)."""

    saved_attributes = {
        "self": saved_input(0),
        "result": saved_output(),
        "dim": field("axis", _reduced_dim),
        "keepdim": _reduced_keepdim_of_one,
    }

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        y = row_major(np.prod(x, axis=axis, dtype=x.dtype, keepdims=keepdim))  # in x's dtype, as Sum
        ctx.save_for_backward(x, y)
        ctx.keep = tuple(1 if axis is None or i == axis else n for i, n in enumerate(x.shape))
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g, y = grad.reshape(ctx.keep), y.reshape(ctx.keep)
        if x.size == 1 if ctx.axis is None else x.shape[ctx.axis] == 1:
            # a product of one factor is the factor: its gradient is g, also where x is inf or
            # NaN (g * y / x would be NaN; PyTorch gives NaN there except for a 0-d x)
            return _dual.expand(g, x.shape), None, None
        if not (_dual.value(x) == 0).any():  # y / x is the product of the others
            return g * y / x, None, None
        return g * _product_of_others(x, ctx.axis), None, None

    def name(self) -> str:
        return "ProdBackward0" if self.axis is None else "ProdBackward1"


class ProdOfScalar(Prod):
    """prod(x, dim) of a 0-d x, which has no axis to reduce: Prod's, recorded as PyTorch
    records a call with a dim (ProdBackward1; dim 0, as Max shows a 0-d input's)."""

    saved_attributes = {
        "self": saved_input(0),
        "result": saved_output(),
        "dim": lambda node: 0,
        "keepdim": field("keepdim"),
    }

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.keepdim = keepdim
        return Prod.forward(ctx, x, axis, keepdim)

    def name(self) -> str:
        return "ProdBackward1"


def _product_of_others(x: Any, axis: Any) -> Any:
    """For each element, the product of the others along axis (exact with zeros).

    Cumulative products from the left and from the right, multiplied.
    """
    if not _dual.is_array(x):
        return _recorded_product_of_others(x, axis)
    flat = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
    ones = np.ones_like(flat[..., :1])
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    rev = np.flip(flat, -1)
    right = np.flip(np.cumprod(np.concatenate([ones, rev[..., :-1]], axis=-1), axis=-1), -1)
    others = left * right
    return others.reshape(x.shape) if axis is None else np.moveaxis(others, -1, axis)


def _recorded_product_of_others(x: Any, axis: Any) -> Any:
    """The same products under create_graph, built from recorded ops so that they are
    differentiated again: the running products along the axis, one multiplication per
    position from each side. (A product of the others that held a zero would otherwise
    be a constant, and the second derivative would silently miss its terms.)"""
    from ember.ops.api.shape import stack

    flat = x.reshape(-1) if axis is None else x.transpose(axis, -1)
    columns = _columns(flat, flat.ndim - 1)
    left, right = _products_before(columns), _products_before(columns[::-1])[::-1]
    others = stack([a * b for a, b in zip(left, right)], -1)
    return others.reshape(x.shape) if axis is None else others.transpose(axis, -1)


def _columns(x: Any, axis: int) -> list:
    """The slices of x at each position along axis (Tensors, for the recorded paths)."""
    lead = (slice(None),) * axis
    return [x[lead + (i,)] for i in range(x.shape[axis])]


def _products_before(columns: list) -> list:
    """[1, c0, c0*c1, ...]: for each column, the product of those before it, from recorded
    multiplications."""
    products = [columns[0].new_ones(columns[0].shape)]
    for c in columns[:-1]:
        products.append(products[-1] * c)
    return products


def _equal_or_both_nan(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Where x holds the value y (a maximum, a median): a NaN result comes from the NaNs."""
    return (x == y) | (np.isnan(x) & np.isnan(y))


class Amax(Op):
    """max/min values over dims (None for max()/min() of everything); the gradient is shared
    equally among tied maxima."""

    saved_attributes = {
        "self": saved_input(0),
        "result": saved_output(),
        "dim": field("axes", _reduced_dims),
        "keepdim": _reduced_keepdim,
    }

    _not_tensor_inputs = (1, 2, 3)  # next_functions lists the input only, as PyTorch's

    @staticmethod
    def forward(ctx, x, axes, keepdim, is_max):
        y = row_major((x.max if is_max else x.min)(axis=axes, keepdims=keepdim))
        ctx.save_for_backward(x, y)
        ctx.axes = axes  # None for max()/min() of everything
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = map(_dual.value, ctx.saved_tensors)
        y = y.reshape(_keep_shape(x.shape, ctx.axes))
        mask = _equal_or_both_nan(x, y)
        share = (mask / mask.sum(ctx.axes, keepdims=True)).astype(x.dtype)  # ties share equally
        return _dual.keep(grad.reshape(y.shape), share), None, None, None

    def name(self) -> str:
        if self.axes is None:  # max() or min() of everything: PyTorch's own node for it
            return "MinBackward1" if isinstance(self, Amin) else "MaxBackward1"
        return super().name()


class Amin(Amax):
    """amin and min(): Amax with is_max False (AminBackward0; MinBackward1 for min())."""


class Max(Op):
    """max/min along one dim with indices; the gradient goes to the index chosen."""

    saved_attributes = {
        "self_sym_sizes": field("shape"),
        "dim": lambda node: 0 if node.dim is None else node.dim,  # a 0-d input's dim is 0 or -1
        "keepdim": field("keepdim"),
        "indices": saved_output(1),
    }

    _not_tensor_inputs = (1, 2, 3)  # next_functions lists the input only, as PyTorch's

    @staticmethod
    def forward(ctx, x, dim, keepdim, is_max):
        ctx.dim, ctx.shape, ctx.keepdim = dim, x.shape, keepdim
        if dim is None:  # a 0-d tensor is its own maximum, at index 0
            idx = _meta.zeros((), np.int64, x)  # (on x's device)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)  # shown as _saved_indices, as PyTorch's
            return x.copy(), idx
        idx = (np.argmax if is_max else np.argmin)(x, axis=dim, keepdims=True)
        values = _take_along(x, idx, dim)
        if not keepdim:
            values, idx = values.squeeze(dim), idx.squeeze(dim)
        idx = row_major(idx)
        ctx.mark_non_differentiable(idx)
        # the indices output is saved and backward reads it, as PyTorch's node: changed in
        # place before backward it raises, and a saved-tensor hook's unpacked value is used
        ctx.save_for_backward(idx)
        return row_major(values), idx

    @staticmethod
    def backward(ctx, grad, _grad_idx):
        idx = _dual.value(ctx.saved_tensors[0])  # raises once freed, as PyTorch's, even for 0-d
        if ctx.dim is None:
            return grad, None, None, None  # a Tensor under create_graph
        if idx.ndim < len(ctx.shape):  # keepdim=False: the dim back, as take_along_axis's index
            idx = np.expand_dims(idx, ctx.dim)
        if grad.__class__ is np.ndarray and idx.__class__ is np.ndarray:
            # one 1-D add.at at the flat positions: the additions of _dual.index_add, in the
            # same order (idx's), without its fancy index (a third of the time)
            out = np.zeros(ctx.shape, grad.dtype)
            np.add.at(out.reshape(-1), _flat_positions(ctx.shape, idx, ctx.dim).reshape(-1), grad.reshape(-1))
            return out, None, None, None
        index = _along_axis_index(idx, ctx.dim)
        return _dual.index_add(ctx.shape, index, grad.reshape(idx.shape), grad.dtype), None, None, None


class Min(Max):
    """min along one dim: Max with is_max False (MinBackward0)."""


class Picked(Max):
    """The elements of x at `idx` along `dim`, int64 indices its op found (a median's, a
    sort's): (values, indices) as one node, as PyTorch records each of these ops, with Max's
    backward (the gradient goes to the elements picked, summed where one is picked twice, as
    in cummax). idx has x's dims; keepdim False drops `dim` (of size 1 there) from both. A
    0-d x (dim None, idx None) is its own value, at index 0, as Max's."""

    saved_attributes = Max.saved_attributes

    @staticmethod
    def forward(ctx, x, dim, keepdim, idx):
        if dim is None:
            return Max.forward(ctx, x, None, keepdim, True)
        ctx.dim, ctx.shape, ctx.keepdim = dim, x.shape, keepdim
        values = _take_along(x, idx, dim)
        # the indices returned are a new array object even with keepdim: saved, they are
        # then known as this output (`_saved_indices`), not as the argument idx
        idx = row_major(idx[...] if keepdim else idx.squeeze(dim))
        if not keepdim:
            values = values.squeeze(dim)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)  # changed in place before backward, it raises (see Max)
        return row_major(values), idx


class MedianDim(Picked):
    """median(x, dim) (PyTorch's MedianBackward1; median(x) is Median, MedianBackward0)."""

    def name(self) -> str:
        return "MedianBackward1"


class NanmedianDim(Picked):
    """nanmedian(x, dim) (NanmedianBackward1)."""

    def name(self) -> str:
        return "NanmedianBackward1"


class Mode(Picked):
    """mode(x, dim) (ModeBackward0)."""


class Kthvalue(Picked):
    """kthvalue(x, k, dim) (KthvalueBackward0)."""


class Sort(Picked):
    """sort(x, dim) and msort (SortBackward0): idx orders the whole dim."""

    saved_attributes = {k: v for k, v in Max.saved_attributes.items() if k != "keepdim"}


class SortStable(Sort):
    """sort(x, dim, stable=...): PyTorch's overload with `stable` records SortBackward1."""

    def name(self) -> str:
        return "SortBackward1"


class Topk(Sort):
    """topk(x, k, dim) (TopkBackward0): idx holds the first k of the order."""


class Cummax(Picked):
    """cummax(x, dim) (CummaxBackward0): idx is where each running maximum was; PyTorch's
    node saves the input too, shown as `_saved_self`."""

    saved_attributes = {
        "self": saved_input(0),
        "dim": Max.saved_attributes["dim"],
        "indices": saved_output(1),
    }

    @staticmethod
    def forward(ctx, x, dim, keepdim, idx):
        values, idx = Picked.forward(ctx, x, dim, keepdim, idx)
        ctx.save_for_backward(idx, x)
        return values, idx


class Cummin(Cummax):
    """cummin(x, dim) (CumminBackward0)."""


def _take_along(x: np.ndarray, idx: np.ndarray, dim: int) -> np.ndarray:
    """np.take_along_axis(x, idx, dim) for the non-negative indices an op found: one flat
    take where x is a C-contiguous array, 3 to 4 times faster than take_along_axis's
    broadcast fancy index (which other arrays, a meta one say, still go through)."""
    if x.__class__ is np.ndarray and idx.__class__ is np.ndarray and x.flags.c_contiguous:
        return x.reshape(-1).take(_flat_positions(x.shape, idx, dim))
    return np.take_along_axis(x, idx, axis=dim)


def _flat_positions(shape: tuple, idx: np.ndarray, dim: int) -> np.ndarray:
    """The flat positions, in a C-ordered array of `shape`, of the elements that
    take_along_axis(., idx, dim) picks, in idx's shape (idx has shape's dims, its indices
    are non-negative): idx times the stride along dim plus the offset of each position
    along the other dims, one broadcast add."""
    stride = math.prod(shape[dim + 1 :])
    offsets = 0
    for i, n in enumerate(idx.shape):
        if i != dim and n > 1:
            step = math.prod(shape[i + 1 :])
            offsets = offsets + (np.arange(n) * step).reshape((n,) + (1,) * (idx.ndim - i - 1))
    return (idx * stride if stride != 1 else idx) + offsets


def _along_axis_index(idx: np.ndarray, dim: int) -> tuple:
    """The fancy index that addresses take_along_axis(x, idx, dim) positions in x."""
    grids = np.indices(idx.shape, sparse=True)
    return tuple(idx if i == dim else g for i, g in enumerate(grids))


class Var(Op):
    """Variance over axes, None for var(x) without dim: the two differ in PyTorch's gradient
    where correction >= n, the number of elements reduced (the variance is then inf or nan)."""

    saved_attributes = {
        "self": saved_input(0),
        "dim": _var_dims,
        "keepdim": keeps_dims,
        "correction": _var_correction,
    }

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.without_dim = axes is None or x.ndim == 0
        axes = tuple(range(x.ndim)) if axes is None else axes
        wide = x.astype(np.float32) if x.dtype == np.float16 else x  # as PyTorch: see _var_grad
        centered = wide - wide.mean(axis=axes, keepdims=True)
        n = math.prod(x.shape[a] for a in axes)
        ctx.save_for_backward(x)
        ctx.axes, ctx.n, ctx.dof = axes, n, n - correction
        with np.errstate(divide="ignore", invalid="ignore"):
            y = (centered * centered).sum(axis=axes, keepdims=keepdim) / max(ctx.dof, 0)
        return row_major(y.astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _var_grad(ctx, x, grad.reshape(_keep_shape(x.shape, ctx.axes))), None, None, None


def _var_grad(ctx: Any, x: Any, g: Any) -> Any:
    """d var / dx = 2 (x - mean) / dof, times g (with the reduced dims kept), as PyTorch
    computes it: without dim and dof <= 0 it is inf, and nan where x is its mean (inf * 0).
    A float16 x's mean is summed in float32 (NumPy's mean does), as PyTorch accumulates
    halves: in float16 the sum of a thousand values near 1000 is inf (and the gradient was)."""
    if x.__class__ is np.ndarray and x.dtype == np.float16 and ctx.n:
        centered = x - x.mean(axis=ctx.axes, keepdims=True)
    else:
        centered = x - _dual.sum(x, ctx.axes) / ctx.n
    if ctx.without_dim and ctx.dof <= 0:
        return g * _dual.where(_dual.value(centered) == 0, np.nan, np.inf)
    return g * (2 / ctx.dof if ctx.dof else math.inf) * centered


class Std(Var):
    """sqrt(var) as one node: where the std is 0 (a constant slice) the gradient is 0, as in
    PyTorch, and not d sqrt(v)/dv = 1 / 0 times d var/dx = 0."""

    saved_attributes = {
        "self": saved_input(0),
        "result": saved_output(),
        "dim": _var_dims,
        "keepdim": keeps_dims,
        "correction": _var_correction,
    }

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        y = np.sqrt(Var.forward(ctx, x, axes, correction, keepdim))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        y = y.reshape(_keep_shape(x.shape, ctx.axes))
        nonzero = _dual.value(y) != 0
        # divided by 1 where the std is 0, not by 0: keep discards those elements, but under
        # create_graph an inf there would still make the second derivative inf * 0 = NaN
        safe = y if nonzero.all() else _dual.where(nonzero, y, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = _var_grad(ctx, x, grad.reshape(y.shape) / (2 * safe))
        return _dual.keep(g, nonzero), None, None, None


class VarMean(Var):
    """(var, mean) as one node, PyTorch's VarMeanBackward0: the input's gradient is var's
    plus the mean's (each incoming gradient may be None, for an output left unused)."""

    saved_attributes = {
        "self": saved_input(0),
        "dim": _var_dims,
        "keepdim": keeps_dims,
        "correction": _var_correction,
    }

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        return Var.forward(ctx, x, axes, correction, keepdim), _mean_of(ctx, x, keepdim)

    @staticmethod
    def backward(ctx, grad_var, grad_mean):
        g = None if grad_var is None else Var.backward(ctx, grad_var)[0]
        return _plus_mean_grad(ctx, g, grad_mean), None, None, None


class StdMean(Std):
    """(std, mean) as one node, PyTorch's StdMeanBackward0 (see VarMean and Std)."""

    saved_attributes = {
        "self": saved_input(0),
        "result0": saved_output(0),
        "dim": _var_dims,
        "keepdim": keeps_dims,
        "correction": _var_correction,
    }

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        return Std.forward(ctx, x, axes, correction, keepdim), _mean_of(ctx, x, keepdim)

    @staticmethod
    def backward(ctx, grad_std, grad_mean):
        g = None if grad_std is None else Std.backward(ctx, grad_std)[0]
        return _plus_mean_grad(ctx, g, grad_mean), None, None, None


def _mean_of(ctx: Any, x: np.ndarray, keepdim: bool) -> np.ndarray:
    """The mean over the axes Var.forward kept on ctx; NaN over no elements, as Mean's."""
    if ctx.n == 0:
        return np.full(x.sum(axis=ctx.axes, keepdims=keepdim).shape, np.nan, x.dtype)
    return row_major(x.mean(axis=ctx.axes, keepdims=keepdim))


def _plus_mean_grad(ctx: Any, g: Any, grad_mean: Any) -> Any:
    """g (or nothing) plus the gradient of the mean over ctx.axes, grad_mean / n everywhere."""
    if grad_mean is None:
        return g
    shape = ctx.saved_tensors[0].shape
    share = _dual.expand(grad_mean.reshape(_keep_shape(shape, ctx.axes)) / max(ctx.n, 1), shape)
    return share if g is None else g + share


class LinalgVectorNorm(Op):
    """Vector p-norm over axes (any finite p but 0), named as PyTorch names its node.

    The gradient is sign(x) |x|^(p-1) / y^(p-1) times the incoming one, with PyTorch's
    choices where that is 0/0 or inf * 0: 0 at a zero vector (p >= 1), and 0 at every zero
    element (p < 1, where |x|^(p-1) is infinite; for p < 0 a single zero element makes the
    norm 0, and the whole gradient with it)."""

    saved_attributes = {
        "self": saved_input(0),
        "result": saved_output(),
        "ord": field("p"),
        "dim": field("dim", ints),
        "keepdim": field("keepdim"),
    }

    @staticmethod
    def forward(ctx, x, p, axes, keepdim, dim=None):
        # dim: the call's dims, non-negative, in its order (None for all), for `_saved_dim`
        ctx.p, ctx.keep, ctx.dim, ctx.keepdim = p, _keep_shape(x.shape, axes), dim, keepdim
        if p == 1:
            y = np.abs(x).sum(axis=axes, keepdims=keepdim)
        elif p == 2:
            y = np.sqrt((x * x).sum(axis=axes, keepdims=keepdim))
        else:
            with np.errstate(divide="ignore"):  # p < 0: |0|^p is inf, and the norm 0
                y = (np.abs(x) ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
        y = row_major(np.asanyarray(y))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g, y, p = grad.reshape(ctx.keep), y.reshape(ctx.keep), ctx.p
        if p == 1:
            return g * _dual.sign(x), None, None, None, None  # 0 at NaN, as in PyTorch
        if p < 1:
            # |x|^(p-1) at x = 1 instead of 0, where sign(x) makes the term 0 anyway: no inf * 0
            safe_x = _dual.where(_dual.value(x) == 0, 1.0, x)
            scale = _dual.sign(x) * _dual.unary("abs", safe_x) ** (p - 1) * y ** (1 - p)
            return g * scale, None, None, None, None
        # where y is 0, every x is 0 too: divide by 1 instead, and the gradient is 0
        safe = _dual.where(_dual.value(y) == 0, 1.0, y)
        if p == 2:
            return g * x / safe, None, None, None, None
        scale = _dual.sign(x) * _dual.unary("abs", x) ** (p - 1) / safe ** (p - 1)
        return g * scale, None, None, None, None


class Cumsum(Op):
    saved_attributes = {"dim": field("axis")}

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return row_major(np.cumsum(x, axis=axis, dtype=x.dtype).reshape(x.shape))  # axis None: a 0-d tensor

    @staticmethod
    def backward(ctx, grad):
        # each input adds to every later output: sum the gradient from the end backwards
        if ctx.axis is None:
            return grad, None
        return _reverse_cumsum(grad, ctx.axis), None


def _reversed(axis: int) -> tuple:
    """The index that reverses an array along axis."""
    return (slice(None),) * axis + (slice(None, None, -1),)


def _reverse_cumsum(g: Any, axis: int) -> Any:
    """Sums from each position to the end of the axis (arrays or Tensors)."""
    return _dual.flip(_dual.cumsum(_dual.flip(g, axis), axis), axis)


class Logsumexp(Op):
    saved_attributes = {
        "self": saved_input(0),
        "result": saved_output(),
        "dim": field("axes", _reduced_dims),
        "keepdim": keeps_dims,
    }

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        # subtract the max so exp never overflows; a -inf max (all -inf, or no element) is
        # replaced by 0
        m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):  # log(0) = -inf for an empty or all -inf slice
            y = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        y = row_major(y if keepdim else y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes)))
        ctx.save_for_backward(x, y)
        ctx.axes = axes
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        keep = _keep_shape(x.shape, ctx.axes)
        return grad.reshape(keep) * _dual.unary("exp", x - y.reshape(keep)), None, None


# ---- scans: cumprod, logcumsumexp ------------------------------------------------------------


class Cumprod(Op):
    saved_attributes = {"self": saved_input(0), "result": saved_output(), "dim": field("axis")}

    @staticmethod
    def forward(ctx, x, axis):
        y = row_major(np.cumprod(x, axis=axis, dtype=x.dtype).reshape(x.shape))  # axis None: a 0-d tensor
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        # d y_j / d x_i = y_j / x_i for j >= i: the later gradients, summed, over x_i
        x, y = ctx.saved_tensors
        axis = ctx.axis
        if axis is None or x.shape[axis] == 1:  # y is x: its gradient, even where x is inf or NaN
            return grad, None
        zero = _dual.value(x) == 0
        if not zero.any():
            return _reverse_cumsum(grad * y, axis) / x, None
        if not _dual.is_array(grad):
            return _recorded_cumprod_grad(grad, x, axis), None
        # Exact with zeros: before a slice's first zero the formula above holds; at the first
        # zero the gradient is that of the running products with that zero replaced by 1; after
        # it every output is 0 whatever x_i is.
        seen = np.cumsum(zero, axis=axis)
        before, first = seen == 0, zero & (seen == 1)
        head = _reverse_cumsum(grad * y, axis) / np.where(before, x, 1)
        at_zero = _reverse_cumsum(grad * np.cumprod(np.where(first, 1, x), axis=axis), axis)
        return np.where(before, head, np.where(first, at_zero, 0)), None


def _recorded_cumprod_grad(g: Any, x: Any, axis: int) -> Any:
    """cumprod's gradient from recorded multiplications (under create_graph, input with zeros):
    dx_i = (x_0 ... x_{i-1}) R_i with R_i = g_i + x_{i+1} R_{i+1}. Nothing is divided, so the
    terms through a zero are kept for the next derivative (after a zero, dx_i is 0 but its
    derivative with respect to that zero is not)."""
    from ember.ops.api.shape import stack

    xs, gs = _columns(x, axis), _columns(g, axis)
    r = [gs[-1]]
    for i in range(len(xs) - 2, -1, -1):
        r.append(gs[i] + xs[i + 1] * r[-1])
    return stack([a * b for a, b in zip(_products_before(xs), r[::-1])], axis)


class Logcumsumexp(Op):
    saved_attributes = {"self": saved_input(0), "result": saved_output(), "dim": field("axis")}

    @staticmethod
    def forward(ctx, x, axis):
        # logaddexp adds in log space pairwise: no overflow, no underflow to log(0)
        y = row_major(np.logaddexp.accumulate(x, axis=axis)) if axis is not None else x.copy()
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        # dx_i = sum_{j >= i} g_j exp(x_i - y_j)
        x, y = ctx.saved_tensors
        axis = ctx.axis
        if axis is None or x.shape[axis] == 0:
            return grad, None
        if _dual.is_array(grad):
            return _logcumsumexp_grad(grad, x, y, axis), None
        return _recorded_logcumsumexp_grad(grad, x, y, axis), None


def _logcumsumexp_grad(g: np.ndarray, x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    """Stable on arrays: the positive and negative parts of g summed in log space."""
    reverse = _reversed(axis)
    out = np.zeros_like(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        for sign in (1, -1):
            part = np.log(np.where(sign * g > 0, sign * g, 0)) - y
            tail = np.logaddexp.accumulate(part[reverse], axis=axis)[reverse]
            out += sign * np.exp(x + tail)
    return out


def _recorded_logcumsumexp_grad(g: Any, x: Any, y: Any, axis: int) -> Any:
    """The same gradient from recorded ops: R_i = g_i + exp(y_i - y_{i+1}) R_{i+1}, then
    dx_i = exp(x_i - y_i) R_i. Every factor is at most 1, so it cannot overflow."""
    from ember.ops.api.shape import stack

    gs, ys = _columns(g, axis), _columns(y, axis)
    r = [gs[-1]]
    for i in range(len(gs) - 2, -1, -1):
        r.append(gs[i] + _dual.unary("exp", ys[i] - ys[i + 1]) * r[-1])
    return _dual.unary("exp", x - y) * stack(r[::-1], axis)


class Median(Op):
    """median()/nanmedian() of all elements: the lower of the two middle values. The gradient
    is shared equally among the elements equal to it, as PyTorch does."""

    saved_attributes = {"self": saved_input(0), "result": saved_output()}

    @staticmethod
    def forward(ctx, x, ignore_nan):
        ctx.ignore_nan = ignore_nan
        if x.__class__ is _meta.MetaArray:  # no values to sort or count NaNs of: a 0-d meta result
            y = _meta.empty((), x.dtype)
            ctx.save_for_backward(x, y)
            return y
        flat = np.sort(x.reshape(-1))  # NaNs sort last
        nans = np.isnan(flat).sum() if x.dtype.kind in "fV" else 0
        n = flat.size - nans if ignore_nan else flat.size
        if n == 0 and x.dtype.kind not in "fV":  # PyTorch returns an arbitrary number here
            raise RuntimeError(
                f"{'nanmedian' if ignore_nan else 'median'}(): an empty {x.dtype} tensor has no median"
            )
        if n == 0 or (nans and not ignore_nan):  # empty, all NaN, or a NaN that counts
            y = np.asarray(np.nan, x.dtype)
        else:
            y = np.asarray(flat[(n - 1) // 2])
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = map(_dual.value, ctx.saved_tensors)
        mask = _equal_or_both_nan(x, y)
        return _dual.keep(grad, (mask / max(int(mask.sum()), 1)).astype(x.dtype)), None

    def name(self) -> str:
        return "NanmedianBackward0" if self.ignore_nan else "MedianBackward0"


class Nansum(Op):
    """sum with NaNs counted as 0; their gradient is the incoming gradient times 0 (as PyTorch:
    an infinite incoming gradient gives NaN there)."""

    saved_attributes = {"dim": field("axes", ints), "keepdim": keeps_dims}
    _intermediates = ("keep",)  # stands for the input PyTorch's node saves: freed after backward

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keep = x.shape, axes, ~np.isnan(x)
        return row_major(np.where(ctx.keep, x, 0).sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        g = grad if grad.ndim == 0 else grad.reshape(_keep_shape(ctx.shape, ctx.axes))
        return _dual.expand(g, ctx.shape) * ctx.keep.astype(_dual.value(grad).dtype), None, None
