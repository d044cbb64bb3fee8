"""Reductions: sum, mean, max/min (with indices), var/std, logsumexp, norm, all/any."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import _meta, dtypes
from ember._layout import SparseUnsupportedError, sparse_form
from ember._tensor import Tensor
from ember.autograd.function import _FLOAT32, apply_one
from ember.ops import fastpath, reduction
from ember.ops.api.arith import _write_inplace, isnan, logical_not, maximum, minimum
from ember.ops.elementwise import row_major
from ember.ops.reduction import normalize_dim, normalize_dims
from ember.return_types import return_type

# ---- reductions ------------------------------------------------------------------------------


def _float_for_reduction(input: Tensor, op: str) -> Tensor:
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError(
            f"{op}(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype}"
        )
    return input


def _reduced_dims(dim: Any, input: Tensor, op: str) -> tuple[int, ...]:
    """The dims a reduction reduces: an empty dim, () or [], means all of them, as None does
    (PyTorch's rule for sum, mean, var, std, amax...; not for flip, all or any)."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    return normalize_dims(dim, input._data.ndim, op)


def _dims_if_named(dim: Any, keepdim: bool, input: Tensor, op: str) -> tuple[int, ...] | None:
    """The dims for Sum and Mean: None for a call without dims (PyTorch's overload without
    them, SumBackward0 / MeanBackward0), else `_reduced_dims` (SumBackward1...). A dim of None
    passed by name counts as none: ember cannot tell `x.sum(dim=None)` from `x.sum()`."""
    if dim is None and not keepdim:
        return None
    return _reduced_dims(dim, input, op)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    try:
        if dim is None and not keepdim and dtype is None and input._data.dtype is _FLOAT32:
            return fastpath.total(input)  # `loss.sum()`, the commonest: Sum over axis None
        if dtype is not None:
            input = input.to(dtype)
        elif input._data.dtype.kind in "bui":
            input = input.to(dtypes.int64)  # torch sums integers and bools as int64
        return apply_one(reduction.Sum, input, _dims_if_named(dim, keepdim, input, "sum"), keepdim)
    except SparseUnsupportedError:
        return sparse_form("sum", (input, dim, keepdim), {"dtype": dtype})


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    _float_for_reduction(input, "mean")
    return apply_one(reduction.Mean, input, _dims_if_named(dim, keepdim, input, "mean"), keepdim)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "bui":
        input = input.to(dtypes.int64)  # torch multiplies integers and bools as int64
    axis = None if dim is None else normalize_dim(dim, input._data.ndim, "prod")
    node = reduction.ProdOfScalar if dim is not None and axis is None else reduction.Prod
    return apply_one(node, input, axis, keepdim)


def _check_not_empty(input: Tensor, dims: Any, name: str, error: type = RuntimeError) -> None:
    """PyTorch's errors for a max, min, argmax... of no elements, which has no value. `dims`:
    the reduced dims as PyTorch's message names them, or None for all of them."""
    if dims is None:
        if input._data.size == 0:
            hint = "" if error is IndexError else " Specify the reduction dim with the 'dim' argument."
            raise error(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.{hint}")
        return
    for d in dims:
        if input._data.ndim and input._data.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _extreme(input: Tensor, dim: Any, keepdim: bool, is_max: bool, name: str) -> Any:
    if isinstance(dim, Tensor):  # max(a, b): the elementwise form
        return (maximum if is_max else minimum)(input, dim)
    if dim is None:
        _check_not_empty(input, None, name)
        node = reduction.Amax if is_max else reduction.Amin
        return node.apply(input, None, False, is_max)  # PyTorch's MaxBackward1 / MinBackward1
    axis = normalize_dim(dim, input._data.ndim, name)
    _check_not_empty(input, (axis,) if axis is not None else (), name)
    values, indices = (reduction.Max if is_max else reduction.Min).apply(input, axis, keepdim, is_max)
    return return_type(name)(values, indices)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Largest element; with dim, (values, indices); with a tensor, elementwise maximum."""
    dtypes.refuse_complex('"max_all"', input)
    return _extreme(input, dim, keepdim, True, "max")


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    dtypes.refuse_complex('"min_all"', input)
    return _extreme(input, dim, keepdim, False, "min")


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    dtypes.refuse_complex('"max_values_cpu"', input)
    return _amax_or_amin(reduction.Amax, input, dim, keepdim, True, "amax")


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    dtypes.refuse_complex('"min_values_cpu"', input)
    return _amax_or_amin(reduction.Amin, input, dim, keepdim, False, "amin")


def _amax_or_amin(op: Any, input: Tensor, dim: Any, keepdim: bool, is_max: bool, name: str) -> Tensor:
    axes = _reduced_dims(dim, input, name)
    given = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    _check_not_empty(input, given or None, name)  # names the dims as given, as PyTorch does
    return op.apply(input, axes, keepdim, is_max)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    dtypes.refuse_complex("argmax(): does not support complex input", input)
    return _arg_extreme(np.argmax, input, dim, keepdim, "argmax")


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    dtypes.refuse_complex("argmin(): does not support complex input", input)
    return _arg_extreme(np.argmin, input, dim, keepdim, "argmin")


def _arg_extreme(find: Any, input: Tensor, dim: Any, keepdim: bool, name: str) -> Tensor:
    """argmax or argmin (find), as an int64 tensor."""
    if input._data.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:  # the index into the flattened input; keepdim keeps every dim, as size 1
        _check_not_empty(input, None, name, IndexError)
        index = np.asanyarray(find(input._data), dtype=np.int64)  # a meta index stays meta
        return Tensor(index.reshape((1,) * input._data.ndim) if keepdim else index)
    axis = normalize_dim(dim, input._data.ndim, name)
    _check_not_empty(input, (axis,) if axis is not None else (), name)
    return Tensor(np.asanyarray(find(input._data, axis=axis, keepdims=keepdim), dtype=np.int64))


def var(
    input: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
) -> Tensor:
    """Variance; `correction` (or `unbiased`) subtracts from the count, 1 by default (Bessel)."""
    return _spread(reduction.Var, input, dim, unbiased, keepdim, correction, "var")


def std(
    input: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
) -> Tensor:
    """Standard deviation, sqrt(var) (torch.std); its gradient is 0 where it is 0."""
    return _spread(reduction.Std, input, dim, unbiased, keepdim, correction, "std")


def _spread(
    op: Any, input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any, name: str
) -> Tensor:
    """var or std (op) with PyTorch's arguments."""
    if isinstance(dim, bool):  # var(x, False): the old positional `unbiased`
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if input._data.dtype.kind not in "fcV":
        what = name if name.endswith("_mean") else "std and var"
        raise RuntimeError(f"{what} only support floating point and complex dtypes (got {input.dtype})")
    if input._data.dtype.kind == "c":
        # the spread of complex numbers about their mean, |z - mean|², is that of the real
        # parts plus that of the imaginary parts: a real result, as in PyTorch
        from ember.ops.api.complex import imag, real

        v = _spread(reduction.Var, real(input), dim, unbiased, keepdim, correction, name)
        v = v + _spread(reduction.Var, imag(input), dim, unbiased, keepdim, correction, name)
        return v if op is reduction.Var else v.sqrt()
    # None, not all dims, for var(x): PyTorch's gradient differs where correction >= n
    axes = None if dim is None or dim == () or dim == [] else _reduced_dims(dim, input, name)
    return op.apply(input, axes, correction, keepdim)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    axes = normalize_dims(dim, input._data.ndim, "logsumexp")
    dtypes.complex_gap("logsumexp", input)
    if input._data.dtype.kind not in "fV":
        input = input.to(dtypes.get_default_dtype())  # torch gives float32 for integers
    return apply_one(reduction.Logsumexp, input, axes, keepdim)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """A vector or matrix norm (torch.norm), by ember.linalg's: a number p (None is 2) is the
    vector p-norm over dim, all elements by default (over both dims of a 2-tuple: p=2 there
    is the Frobenius norm); 'fro' over at most two dims is the same 2-norm; 'nuc', or 'fro'
    over more dims (which raises), is linalg.matrix_norm over dim, all dims by default."""
    try:
        from ember import linalg  # ember.linalg imports this module

        if isinstance(dim, (int, np.integer)):
            dim = (int(dim),)
        # an empty dim reduces over every dim in the vector norms, as in the other reductions
        vector_dim = None if dim is None or len(dim) == 0 else dim
        if isinstance(p, str):
            if p == "fro" and (dim is None or len(dim) <= 2):
                return linalg.vector_norm(input, 2, vector_dim, keepdim, dtype=dtype)
            if dim is None:
                dim = tuple(range(input._data.ndim))
            return linalg.matrix_norm(input, p, dim, keepdim, dtype=dtype)
        return linalg.vector_norm(input, 2 if p is None else p, vector_dim, keepdim, dtype=dtype)
    except SparseUnsupportedError:
        return sparse_form("norm", (input, p, dim, keepdim, dtype))


def all(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = None if dim is None else normalize_dims(dim, input._data.ndim, "all")
    return _truth(np.all(input._data, axis=axes, keepdims=keepdim), input)


def any(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    try:
        axes = None if dim is None else normalize_dims(dim, input._data.ndim, "any")
        return _truth(np.any(input._data, axis=axes, keepdims=keepdim), input)
    except SparseUnsupportedError:
        return sparse_form("any", (input, dim, keepdim))


def _truth(result: Any, input: Tensor) -> Tensor:
    """all's or any's result: bool, but uint8 for a uint8 input, as PyTorch keeps it; row-major
    whatever the input's layout, as PyTorch's."""
    return Tensor(row_major(np.asanyarray(result, np.uint8 if input._data.dtype == np.uint8 else np.bool_)))


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along dim (torch.cumsum); integers and bools are summed as int64."""
    return _scan(reduction.Cumsum, input, dim, dtype, "cumsum")


def _scan(op: Any, input: Tensor, dim: int, dtype: Any, name: str) -> Tensor:
    """A running sum or product along dim, in `dtype` if given, integers and bools as int64."""
    if dtype is not None:
        input = input.to(dtype)
        if input._data.dtype.kind == "b":  # NumPy would scan with `or` and `and`; PyTorch refuses
            raise NotImplementedError(f"\"{name}_out_cpu\" not implemented for 'Bool'")
    elif input._data.dtype.kind in "bui":
        input = input.to(dtypes.int64)
    return op.apply(input, normalize_dim(dim, input._data.ndim, name))


# ---- scans -----------------------------------------------------------------------------------


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running products along dim (torch.cumprod); integers and bools are multiplied as int64.
    The gradient is exact where the input holds zeros."""
    return _scan(reduction.Cumprod, input, dim, dtype, "cumprod")


def cumprod_(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """In-place cumprod (torch.Tensor.cumprod_): input keeps its dtype."""
    return _write_inplace(input, (), lambda x: cumprod(x, dim, dtype=dtype))


def _running_extreme(input: Tensor, dim: int, is_max: bool, name: str) -> Any:
    axis = normalize_dim(dim, input._data.ndim, name)
    x = input._data
    node = reduction.Cummax if is_max else reduction.Cummin  # one node, as PyTorch's: see sort
    if axis is None or x.size == 0:  # the node gives a copy of x, and indices 0
        return return_type(name)(
            *node.apply(input, axis, True, None if axis is None else np.zeros(x.shape, np.int64))
        )
    running = (np.maximum if is_max else np.minimum).accumulate(x, axis=axis)
    # the last position (so far) holding the running extreme; a NaN stays the extreme once
    # seen (the running extreme is NaN wherever x is)
    hit = (x == running) | np.isnan(x) if x.dtype.kind in "fV" else x == running
    positions = np.arange(x.shape[axis], dtype=np.int64).reshape((-1,) + (1,) * (x.ndim - axis - 1))
    # the position where hit, else 0: hit * positions, twice as fast as np.where (which a
    # meta hit still takes: a CPU array does not join a meta one in a product)
    picked = hit * positions if hit.__class__ is np.ndarray else np.where(hit, positions, 0)
    idx = row_major(np.maximum.accumulate(picked, axis=axis))
    return return_type(name)(*node.apply(input, axis, True, idx))


def cummax(input: Tensor, dim: int) -> Any:
    """(values, indices): the running maximum along dim and where it was (the latest index on
    ties), as torch.cummax."""
    dtypes.refuse_complex('"cummax_cpu"', input)
    return _running_extreme(input, dim, True, "cummax")


def cummin(input: Tensor, dim: int) -> Any:
    """(values, indices): the running minimum along dim (torch.cummin)."""
    dtypes.refuse_complex('"cummin_cpu"', input)
    return _running_extreme(input, dim, False, "cummin")


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(input))) along dim, computed without overflow (torch.logcumsumexp)."""
    dtypes.complex_gap("logcumsumexp", input)
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(f'"logcumsumexp" not implemented for {input.dtype}: use a float tensor')
    return reduction.Logcumsumexp.apply(input, normalize_dim(dim, input._data.ndim, "logcumsumexp"))


# ---- NaN-ignoring and paired reductions -----------------------------------------------------


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """sum treating NaN as 0 (torch.nansum)."""
    _no_complex_nansum(input)
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fV":
        return sum(input, dim, keepdim, dtype=dtype)  # int16 stays int16 with dtype=int16
    return reduction.Nansum.apply(input, _reduced_dims(dim, input, "nansum"), keepdim)


def _no_complex_nansum(input: Tensor) -> None:
    """PyTorch's RuntimeError (not NotImplementedError) for nansum and nanmean of a complex tensor."""
    if input._data.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """mean of the non-NaN elements (torch.nanmean); NaN where there are none."""
    _no_complex_nansum(input)
    if input._data.dtype.kind not in "fV":  # even with a float dtype=, as PyTorch
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {input.dtype}")
    if dtype is not None:
        input = input.to(dtype)
        if input._data.dtype.kind not in "fV":
            raise RuntimeError(
                "nanmean(): could not infer output dtype. Optional dtype must be either a floating "
                f"point or complex dtype. Got: {input.dtype}"
            )
    count = sum(logical_not(isnan(input)), dim, keepdim).to(input.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):  # no non-NaN element: NaN, silently
        return nansum(input, dim, keepdim) / count


def var_mean(
    input: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
) -> tuple[Tensor, Tensor]:
    """(var, mean) over dim, in one call (torch.var_mean)."""
    if isinstance(dim, bool):  # var_mean(x, False): the old positional `unbiased`
        dim, unbiased = None, dim
    return _spread_and_mean(reduction.VarMean, input, dim, unbiased, keepdim, correction, "var_mean")


def std_mean(
    input: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
) -> tuple[Tensor, Tensor]:
    """(std, mean) over dim, in one call (torch.std_mean)."""
    if isinstance(dim, bool):  # std_mean(x, False): the old positional `unbiased`
        dim, unbiased = None, dim
    return _spread_and_mean(reduction.StdMean, input, dim, unbiased, keepdim, correction, "std_mean")


def _spread_and_mean(
    op: Any, input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any, name: str
) -> tuple[Tensor, Tensor]:
    """(var or std, mean) as PyTorch's one node `op`; a complex input, whose spread is the
    sum of its parts' (see _spread), takes the two ops."""
    if input._data.dtype.kind == "c":
        spread = reduction.Var if op is reduction.VarMean else reduction.Std
        return _spread(spread, input, dim, unbiased, keepdim, correction, name[:3]), mean(input, dim, keepdim)
    return _spread(op, input, dim, unbiased, keepdim, correction, name)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """Number of non-zero elements over dim (all by default), as int64 (torch.count_nonzero)."""
    axes = _reduced_dims(dim, input, "count_nonzero")
    return Tensor(
        row_major(
            np.asanyarray(np.count_nonzero(input._data, axis=axes) if axes else input._data != 0, np.int64)
        )
    )


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """(min, max) over dim (all elements by default), as torch.aminmax."""
    dtypes.refuse_complex('"aminmax_cpu"', input)
    if dim is None and input._data.size == 0:
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
        )
    if dim is not None:
        axis = normalize_dim(dim, input._data.ndim, "aminmax")
        if axis is not None and input._data.shape[axis] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {axis} to have non-zero size.")
    d = () if dim is None else dim
    return return_type("aminmax")(amin(input, d, keepdim), amax(input, d, keepdim))


# ---- segment_reduce ---------------------------------------------------------------------------

_SEGMENT_REDUCTIONS = {
    "sum": "sum",
    "mean": "mean",
    "prod": "prod",
    "max": "amax",
    "amax": "amax",
    "min": "amin",
    "amin": "amin",
}
_SEGMENT_FUNCTIONS = {"sum": sum, "mean": mean, "prod": prod, "amax": amax, "amin": amin}
_EMPTY_SEGMENT = {"sum": 0.0, "mean": float("nan"), "prod": 1.0, "amax": -float("inf"), "amin": float("inf")}


def segment_reduce(
    data: Tensor,
    reduce: str,
    *,
    lengths: Tensor | None = None,
    indices: Tensor | None = None,
    offsets: Tensor | None = None,
    axis: int = 0,
    unsafe: bool = False,
    initial: float | None = None,
) -> Tensor:
    """Reduce consecutive segments of data along axis: lengths gives each segment's size (or
    offsets their boundaries, one more than segments), and reduce is sum, mean, prod, max
    (amax) or min (amin). A leading lengths dimension gives each row its own segments. An
    empty segment is `initial`, else the reduction's identity (NaN for mean); `initial`
    also joins every other segment's reduction (torch.segment_reduce). Differentiable."""
    from ember.ops.api.shape import select, split, stack

    op = _SEGMENT_REDUCTIONS.get(reduce)
    if op is None:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    sizes = np.diff(offsets._data, axis=-1) if lengths is None else lengths._data
    if axis != sizes.ndim - 1 and axis != sizes.ndim - 1 - data.ndim:
        raise RuntimeError(f"segment_reduce(): axis must be {sizes.ndim - 1}, the last dimension of lengths")
    axis = sizes.ndim - 1
    if not unsafe and np.any(sizes.sum(-1) != data.shape[axis]):
        raise RuntimeError(
            "segment_reduce(): Expected all rows of lengths along axis to sum to data.size(lengths.dim()-1) when !unsafe."
        )

    def one_row(row: Tensor, row_sizes: np.ndarray) -> Tensor:
        parts = split(row, [int(n) for n in row_sizes], 0) if row_sizes.size else ()
        reduced = []
        for part, n in zip(parts, row_sizes):
            if n == 0:
                fill = _EMPTY_SEGMENT[op] if initial is None else initial
                reduced.append(Tensor(np.full(row.shape[1:], fill, row._data.dtype)))
                continue
            value = _SEGMENT_FUNCTIONS[op](part, 0)
            if initial is not None:
                value = _with_initial(op, value, part, int(n), initial)
            reduced.append(value)
        return stack(reduced, 0) if reduced else Tensor(np.zeros((0, *row.shape[1:]), row._data.dtype))

    lead = sizes.shape[:-1]
    if not lead:
        return one_row(data, sizes)
    rows = []
    for index in np.ndindex(*lead):
        row = data
        for i in index:
            row = select(row, 0, i)
        rows.append(one_row(row, sizes[index]))
    return stack(rows, 0).reshape(*lead, *rows[0].shape)


def _with_initial(op: str, value: Tensor, part: Tensor, n: int, initial: float) -> Tensor:
    """A segment's reduction with `initial` as one more operand (for mean: added to the sum,
    the count unchanged, as PyTorch)."""
    if op == "sum":
        return value + initial
    if op == "prod":
        return value * initial
    if op == "mean":
        return (sum(part, 0) + initial) / n
    start = Tensor(np.full(value.shape, initial, value._data.dtype))
    return maximum(value, start) if op == "amax" else minimum(value, start)


def hash_tensor(input: Tensor, dim: Any = (), *, keepdim: bool = False, mode: int = 0) -> Tensor:
    """A uint64 hash of the elements along dim (all, by default): each element widened to
    float64 or int64 and its 64 bits XORed together (torch.hash_tensor, mode 0, the only one)."""
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    x = input._data
    if x.size == 0 and dim in ((), None, []):
        raise RuntimeError(
            "hash_tensor: Expected reduction dim to be specified for input.numel() == 0. Specify the "
            "reduction dim with the 'dim' argument."
        )
    axes = normalize_dims(dim, x.ndim, "hash_tensor") if dim not in ((), None, []) else tuple(range(x.ndim))
    wide = x.astype(np.float64 if x.dtype.kind in "fV" else np.int64).view(np.uint64)
    return Tensor(_meta.asarray(np.bitwise_xor.reduce(wide, axis=axes, keepdims=keepdim)))
