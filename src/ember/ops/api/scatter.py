"""scatter_reduce (sum, prod, mean, amax, amin of the values sent to each place) and the
scatters of a whole slice: select_scatter, slice_scatter, diagonal_scatter; put / put_.

scatter_reduce's value is computed with NumPy's unbuffered `ufunc.at`; its gradient is
linear in the incoming gradient with weights fixed by the forward (each element's share of
its place's result), so one node, `ScatterReduce`, serves the five reductions. The slice
scatters are a clone with the slice assigned, so their gradients are those of the
assignment.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ember import dtypes
from ember._stacklevel import outside_ember
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.views import CopySlices
from ember.ops import _dual
from ember.ops._add_at import add_at, ufunc_at
from ember.ops.api import arrange, convert, indexing, shape
from ember.ops.elementwise import Op
from ember.ops.reduction import normalize_dim
from ember.ops.shape import _along_axis

_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


class ScatterReduce(Op):
    """input with src reduced into it along dim (ScatterReduceBackward0). The gradient of
    x is grad * w_x and of each src element grad[its place] * w_src: for sum 1, for mean one
    over the count, for amax / amin shared evenly among the elements equal to the result,
    for prod the product of the others."""

    _not_tensor_inputs = (2, 3, 4, 5, 6)  # next_functions lists input and src, as PyTorch's

    @staticmethod
    def forward(ctx, x, src, index, out, weights, dim, reduce):
        # x and src are arguments for the node's edges; scatter_reduce computed the value.
        # Backward reads the index from the saved tensors, as PyTorch's: changed in place
        # before backward it raises rather than send the gradient to the new places, and
        # under saved-tensor hooks backward uses what the unpack hook gives.
        ctx.save_for_backward(index)
        (ctx.w_x, ctx.w_src), ctx.dim, ctx.reduce = weights, dim, reduce
        ctx.src_shape = src.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.reduce == "prod" and isinstance(grad, Tensor):
            raise NotImplementedError(
                "scatter_reduce: the second derivative of reduce='prod' is not implemented in ember"
            )
        index = np.asarray(_dual.value(ctx.saved_tensors[0]))  # (see forward)
        full = _along_axis(index.reshape(1) if index.ndim == 0 else index, ctx.dim)
        g_src = grad[full] * ctx.w_src
        if g_src.shape != ctx.src_shape:  # only src's leading region was scattered
            pad = [(0, n - m) for n, m in zip(ctx.src_shape, g_src.shape)]
            if isinstance(g_src, Tensor):
                for d, (_, extra) in enumerate(pad):
                    if extra:
                        zeros = np.zeros(g_src.shape[:d] + (extra,) + g_src.shape[d + 1 :], g_src._data.dtype)
                        g_src = shape.cat([g_src, Tensor(zeros)], d)
            else:
                g_src = np.pad(g_src, pad)
        return grad * ctx.w_x, g_src, None, None, None, None, None

    def name(self) -> str:
        return "ScatterReduceBackward0"


class ScatterWithReduce(Op):
    """scatter's reduce='add' / 'multiply' form, computed by the caller. PyTorch gives it no
    derivative: its node (`NotImplemented`) records the op so that a backward through it
    raises rather than treating the result as a constant; the inputs that require grad
    follow the value, which is the first argument and no edge."""

    _not_tensor_inputs = (0,)  # next_functions lists only the inputs that require grad, as PyTorch's

    @staticmethod
    def forward(ctx, out, *inputs):
        return out

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::scatter is not implemented")

    def name(self) -> str:
        return "torch::autograd::NotImplemented"


_warned_tensor_reduce = [False]  # PyTorch warns once per process


def scatter_with_reduce(input: Tensor, d: int, idx: np.ndarray, src: Any, reduce: str) -> Tensor:
    """scatter(input, d, idx, src, reduce=...) once scatter has checked the shapes and the
    range: each sent value added to ('add') or multiplied into ('multiply') its place,
    repeated places receiving all of theirs. src is a tensor of input's dtype or a value
    already converted to it. A tensor src warns, once, that the form is deprecated."""
    if isinstance(src, Tensor):
        if not _warned_tensor_reduce[0]:
            _warned_tensor_reduce[0] = True
            warnings.warn(
                "scatter()'s reduce argument with a Tensor src is deprecated, as in PyTorch: use "
                "scatter_reduce(), which also offers 'mean', 'amax' and 'amin'.",
                UserWarning,
                stacklevel=outside_ember(),  # the user's line, whichever form called
            )
        values = src._data[tuple(slice(0, n) for n in idx.shape)]
    else:  # a value converted as PyTorch converts it (2.5 into an int64 tensor: 2)
        values = np.asarray(src).astype(input._data.dtype)
    out = input._data.copy()
    ufunc_at(np.add if reduce == "add" else np.multiply, out, _along_axis(idx, d), values)
    if not grad_mode._state[0]:
        return Tensor(out)
    wanting = [t for t in (input, src) if isinstance(t, Tensor) and t.requires_grad]
    return ScatterWithReduce.apply(out, *wanting) if wanting else Tensor(out)


def _fill_for(reduce: str, np_dtype: np.dtype) -> Any:
    """What a place starts from when include_self is False: the reduction's identity."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if np_dtype.kind in "fV":
        return -np.inf if reduce == "amax" else np.inf
    if np_dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(np_dtype)
    return info.min if reduce == "amax" else info.max


def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """input with each element of src reduced into the place index names along dim
    (torch.scatter_reduce): reduce is 'sum', 'prod', 'mean', 'amax' or 'amin'; with
    include_self=False the places that receive values forget input's. Integer means round
    down."""
    if reduce not in _UFUNCS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if src._data.dtype != input._data.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if input._data.ndim == 0:  # a vector of one element, as in PyTorch
        vector = indexing._as_vector(src)
        flat = index.reshape(-1) if isinstance(index, Tensor) else idx.reshape(-1)  # a view: its version
        call = lambda v: scatter_reduce(v, 0, flat, vector, reduce, include_self=include_self)  # noqa: E731
        return indexing._on_scalar(input, dim, "scatter_reduce", call)
    d = normalize_dim(dim, input._data.ndim, "scatter_reduce", scalar_ok=False)
    idx, src = indexing._scatter_shapes(idx, input, d, src, "scatter_reduce")
    indexing._check_range(idx, input, d, "scatter_reduce")
    x, s = input._data, src._data
    full = _along_axis(idx, d)
    region = tuple(slice(0, n) for n in idx.shape)
    values = s[region]
    hit = np.zeros(x.shape, np.bool_)
    hit[full] = True
    count = np.zeros(x.shape, np.int64)
    add_at(count, full, np.ones(full[0].shape, np.int64))
    out = x.copy()
    if not include_self:
        out[hit] = _fill_for(reduce, x.dtype)
    ufunc_at(_UFUNCS[reduce], out, full, values)
    if reduce == "mean":
        divisor = np.where(hit, count + include_self, 1)
        out = (out // divisor if x.dtype.kind in "iu" else out / divisor).astype(x.dtype)
    if not (grad_mode._state[0] and (input.requires_grad or src.requires_grad)):
        return Tensor(out)
    weights = _weights(reduce, x, values, out, hit, full, count, include_self)
    return ScatterReduce.apply(input, src, index, out, weights, d, reduce)


def _weights(
    reduce: str,
    x: np.ndarray,
    values: np.ndarray,
    out: np.ndarray,
    hit: np.ndarray,
    full: tuple,
    count: np.ndarray,
    include_self: bool,
) -> tuple:
    """Each element's share of its place's result: (w_x, w_src)."""
    keep = np.where(hit, 1.0 if include_self else 0.0, 1.0)  # places not hit are x itself
    if reduce == "sum":
        return keep.astype(x.dtype), np.ones_like(values)
    if reduce == "mean":
        total = np.where(hit, count + include_self, 1).astype(x.dtype)
        return (keep / total).astype(x.dtype), (1 / total[full]).astype(x.dtype)
    if reduce in ("amax", "amin"):
        x_ties = np.where(hit, include_self & (x == out), True)
        src_ties = values == out[full]
        ties = x_ties.astype(np.int64)
        add_at(ties, full, src_ties)
        return (x_ties / np.maximum(ties, 1)).astype(x.dtype), (src_ties / ties[full]).astype(x.dtype)
    # prod: the product of the other factors of each place, zeros counted apart so that a
    # single zero's gradient is the product of the rest
    zeros = np.where(hit, include_self & (x == 0), x == 0).astype(np.int64)
    add_at(zeros, full, values == 0)
    nonzero = np.where(hit & include_self & (x != 0), x, 1).astype(x.dtype)
    nonzero[~hit] = 1
    ufunc_at(np.multiply, nonzero, full, np.where(values == 0, 1, values))

    def others(v: np.ndarray, z: np.ndarray, p: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(z == 0, p / np.where(v == 0, 1, v), np.where((z == 1) & (v == 0), p, 0))

    w_x = np.where(hit, others(x, zeros, nonzero) if include_self else 0, 1)
    return w_x.astype(x.dtype), others(values, zeros[full], nonzero[full]).astype(x.dtype)


scatter_reduce_ = convert._inplace_form(scatter_reduce, "scatter_reduce_")


def index_reduce(
    input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """input with each slice source.select(dim, i) reduced into input.select(dim, index[i])
    (torch.index_reduce): reduce is 'prod', 'mean', 'amax' or 'amin'. scatter_reduce with
    the index repeated across the other dims, so it shares its gradient."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(
            f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}."
        )
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.ndim > 1:
        raise IndexError(
            f"index_reduce_(): Index is supposed to be a vector, but got dim: {idx.ndim} with type: "
            f"{dtypes.scalar_type_name(idx.dtype)} and size: {list(idx.shape)}"
        )
    d = normalize_dim(dim, input._data.ndim, "index_reduce", scalar_ok=False)
    s, x = source._data.shape, input._data.shape
    if len(s) != len(x) or any(a != b for i, (a, b) in enumerate(zip(s, x)) if i != d) or s[d] != idx.size:
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. "
            f"Got self.shape = {list(x)} source.shape = {list(s)}"
        )
    if idx.size and (idx.min() < -x[d] or idx.max() >= x[d]):
        raise IndexError("index out of range in self")
    along = np.mod(idx.reshape(-1), x[d]).reshape((-1,) + (1,) * (len(s) - 1 - d))
    full_index = Tensor(np.broadcast_to(along, s).astype(np.int64))
    return scatter_reduce(input, d, full_index, source, reduce, include_self=include_self)


index_reduce_ = convert._inplace_form(index_reduce, "index_reduce_")


# ---- scattering a whole slice ----------------------------------------------------------------


def _assigned(input: Tensor, src: Tensor, view: Any, op: str) -> Tensor:
    """A copy of input whose part `view(copy)` is src (of exactly that part's shape)."""
    out = convert.clone(input)
    part = view(out)
    if tuple(part.shape) != tuple(src.shape):
        raise RuntimeError(
            f"{op}: expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(part.shape)}"
        )
    part.copy_(src)
    node = out.grad_fn
    if node.__class__ is CopySlices:
        # PyTorch's *ScatterBackward0 nodes save no tensor, so backward may run again: this
        # CopySlices keeps its view function when the graph is freed (others free it)
        node._intermediates = ()
    return out


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of input with input.select(dim, index) replaced by src (torch.select_scatter)."""
    return _assigned(input, src, lambda t: shape.select(t, dim, index), "select_scatter")


def slice_scatter(
    input: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None, step: int = 1
) -> Tensor:
    """A copy of input with the slice start:end:step along dim replaced by src
    (torch.slice_scatter)."""
    d = normalize_dim(dim, input._data.ndim, "slice_scatter", scalar_ok=False)
    key = (slice(None),) * d + (slice(start, end, step),)
    return _assigned(input, src, lambda t: t[key], "slice_scatter")


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of input with its diagonal (offset, dim1, dim2) replaced by src
    (torch.diagonal_scatter)."""
    return _assigned(input, src, lambda t: arrange.diagonal(t, offset, dim1, dim2), "diagonal_scatter")


def as_strided_scatter(
    input: Tensor, src: Tensor, size: Any, stride: Any, storage_offset: int | None = None
) -> Tensor:
    """A copy of input with the elements that input.as_strided(size, stride, storage_offset)
    views replaced by src (torch.as_strided_scatter). The gradient of input is zero at those
    elements; PyTorch 2.13's is the reverse, zero everywhere else (docs/differences.md)."""
    return _assigned(
        input, src, lambda t: shape.as_strided(t, size, stride, storage_offset), "as_strided_scatter"
    )


# ---- put ---------------------------------------------------------------------------------


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of input with the elements at the flat indices `index` (of input seen as 1-d,
    negative counting from the end) set to source's, or increased by them (torch.put)."""
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise IndexError(
            "put_(): Expected a long tensor for index, but got " + dtypes.scalar_type_name(idx.dtype)
        )
    if source._data.dtype != input._data.dtype:  # checked first, as in PyTorch
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{dtypes.scalar_type_name(input._data.dtype)} and source.dtype = "
            f"{dtypes.scalar_type_name(source._data.dtype)} (convert source with .to(x.dtype))"
        )
    if idx.size != source._data.size:
        raise IndexError(
            f"put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source._data.size}, index.numel() = {idx.size}"
        )
    n = input._data.size
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.min() if idx.min() < -n else idx.max()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    flat = shape.reshape(convert.clone(input), -1)
    flat = flat.index_put((Tensor(idx.reshape(-1).astype(np.int64)),), shape.reshape(source, -1), accumulate)
    return shape.reshape(flat, tuple(input.shape))


put_ = convert._inplace_form(put, "put_")
