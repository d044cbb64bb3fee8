"""The masked reductions and normalizations of torch.masked, on dense tensors.

Each function takes `mask=`, a bool tensor that broadcasts to the input (other dtypes are
cast to bool): True marks the elements that take part. The masked-out elements are
replaced by the identity of the operation (0 for sums, 1 for products, -inf for maxima and
softmax, +inf for minima and softmin, NaN for the median) and the ordinary operation runs
on the result. So a reduction over a slice that is wholly masked out gives that identity
(or NaN for mean, var and std, whose counts are zero), a masked-out element of a
normalization's output gets the value the identity gives it (0 for softmax), and gradients
reach only the masked-in elements, as in PyTorch, whose torch.masked is built the same way.
Without a mask each function is its ordinary counterpart.

Everything is composed of differentiable ember ops (`where`, the reductions, softmax), so
the gradients, and second derivatives, are theirs. As in PyTorch, `dtype` is the dtype of
the result (the input's by default, int64 for the sums and products of bool and small
integer inputs), and an argmax or argmin is returned in the input's dtype unless `dtype`
says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import ember  # the public functions, looked up when called, after ember/__init__.py has run
from ember import dtypes
from ember._tensor import Tensor

__all__ = [
    "amax",
    "amin",
    "argmax",
    "argmin",
    "cumprod",
    "cumsum",
    "log_softmax",
    "logaddexp",
    "logsumexp",
    "mean",
    "median",
    "norm",
    "normalize",
    "prod",
    "softmax",
    "softmin",
    "std",
    "sum",
    "var",
]

DimOrDims = int | Sequence[int] | None

# the dtypes whose sums and products PyTorch widens to int64 by default
_WIDENED = {np.dtype(np.bool_), np.dtype(np.uint8), np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.int32)}


def _dims(dim: DimOrDims, ndim: int) -> tuple[int, ...]:
    """dim as a sorted tuple of non-negative dims; None or () mean every dim."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    rank = max(ndim, 1)
    found: list[int] = []
    for d in (dim,) if isinstance(dim, int) else dim:
        if d >= rank or d < -rank:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {d})"
            )
        if d % rank in found:  # (1, -1) of a 2-d input too
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        found.append(d % rank)
    return tuple(sorted(found))


def _input_mask(op: str, input: Tensor, mask: Any) -> Tensor:
    """mask broadcast to input's shape, as bool."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked.{op}(): mask must be a Tensor, got {type(mask).__name__}")
    if mask.shape != input.shape:
        if mask.ndim > input.ndim:
            raise IndexError(
                f"masked.{op}(): the mask must broadcast to the input, but the mask has more dims "
                f"({tuple(mask.shape)}) than the input ({tuple(input.shape)})"
            )
        mask = ember.broadcast_to(mask, input.shape)
    return mask if mask.dtype == dtypes.bool else mask.to(dtypes.bool)


def _identity(op: str, input: Tensor, ord: float = 2.0) -> float | int | bool:
    """The value that leaves op's result unchanged when included."""
    kind = input._data.dtype.kind
    if kind == "b" and op not in ("sum", "cumsum", "prod", "cumprod"):
        # PyTorch defines no bool identity for these (and its argmax refuses bools anyway)
        raise NotImplementedError(
            f"masked.{op}(): no identity of {op} on {input.dtype} input, to fill the mask with"
        )
    if op in ("sum", "cumsum", "norm"):
        return math.inf if op == "norm" and ord == -math.inf else 0
    if op in ("prod", "cumprod"):
        return 1
    if op in ("amax", "argmax", "logsumexp", "logaddexp"):
        return -math.inf if kind in "fcV" else np.iinfo(input._data.dtype).min
    if op in ("amin", "argmin"):
        return math.inf if kind in "fcV" else np.iinfo(input._data.dtype).max
    if op == "median":
        return math.nan
    raise NotImplementedError(f"masked: no identity for {op}")


def _fill(op: str, input: Tensor, mask: Any, ord: float = 2.0) -> Tensor:
    """input with its masked-out elements replaced by op's identity (input itself without
    a mask); the gradient flows to the masked-in elements only."""
    if mask is None:
        return input
    keep = _input_mask(op, input, mask)
    identity = ember.tensor(_identity(op, input, ord), dtype=input.dtype)
    return ember.where(keep, input, identity)


def _sum_dtype(input: Tensor, dtype: Any) -> Any:
    if dtype is not None:
        return dtype
    return dtypes.int64 if input._data.dtype in _WIDENED else input.dtype


# ---- reductions ---------------------------------------------------------------------------------


def sum(  # noqa: A001 (torch's name)
    input: Tensor,
    dim: DimOrDims = None,
    *,
    keepdim: bool | None = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """The sum of the masked-in elements over dim (every dim by default); 0 where a slice
    is wholly masked out (torch.masked.sum)."""
    dims = _dims(dim, input.ndim)
    return ember.sum(_fill("sum", input, mask), dims, bool(keepdim), dtype=_sum_dtype(input, dtype))


def prod(
    input: Tensor,
    dim: DimOrDims = None,
    *,
    keepdim: bool | None = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """The product of the masked-in elements over dim; 1 where a slice is wholly masked
    out (torch.masked.prod)."""
    dims = _dims(dim, input.ndim)
    result = _fill("prod", input, mask).to(_sum_dtype(input, dtype))
    for d in reversed(dims):
        result = result.prod(dim=d, keepdim=bool(keepdim))
    return result


def amax(
    input: Tensor,
    dim: DimOrDims = None,
    *,
    keepdim: bool | None = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """The largest masked-in element over dim; -inf (the dtype's minimum for integers)
    where a slice is wholly masked out (torch.masked.amax)."""
    filled = _fill("amax", input, mask)
    return ember.amax(filled, _dims(dim, filled.ndim), bool(keepdim)).to(dtype or input.dtype)


def amin(
    input: Tensor,
    dim: DimOrDims = None,
    *,
    keepdim: bool | None = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """The smallest masked-in element over dim; +inf (the dtype's maximum for integers)
    where a slice is wholly masked out (torch.masked.amin)."""
    filled = _fill("amin", input, mask)
    return ember.amin(filled, _dims(dim, filled.ndim), bool(keepdim)).to(dtype or input.dtype)


def argmax(
    input: Tensor,
    dim: int | None = None,
    *,
    keepdim: bool | None = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """The index of the largest masked-in element along dim (in the flattened input when
    dim is None), in dtype, the input's by default (torch.masked.argmax)."""
    return ember.argmax(_fill("argmax", input, mask), dim, bool(keepdim)).to(dtype or input.dtype)


def argmin(
    input: Tensor,
    dim: int | None = None,
    *,
    keepdim: bool | None = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """The index of the smallest masked-in element along dim, in dtype, the input's by
    default (torch.masked.argmin)."""
    return ember.argmin(_fill("argmin", input, mask), dim, bool(keepdim)).to(dtype or input.dtype)


def _float_dtype(op: str, input: Tensor, dtype: Any) -> Any:
    chosen = input.dtype if dtype is None else dtype
    if dtypes.to_numpy_dtype(chosen).kind not in "fcV":
        source = "Input" if dtype is None else "Optional"
        raise ValueError(
            f"{op}(): Could not infer output dtype. {source} dtype must be either a floating point "
            f"or complex dtype. Got: {chosen}"
        )
    return chosen


def _count(op: str, input: Tensor, dim: DimOrDims, keepdim: bool, mask: Tensor | None) -> Tensor:
    """The number of masked-in elements over dim, int64."""
    dims = _dims(dim, input.ndim)
    if mask is None:
        return sum(ember.ones(input.shape, dtype=dtypes.int64), dims, keepdim=keepdim)
    return ember.sum(_input_mask(op, input, mask), dims, keepdim, dtype=dtypes.int64)


def mean(
    input: Tensor,
    dim: DimOrDims = None,
    *,
    keepdim: bool | None = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """The mean of the masked-in elements over dim; NaN where a slice is wholly masked out
    (torch.masked.mean). The input (or dtype) must be floating point or complex."""
    dtype = _float_dtype("mean", input, dtype)
    total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=mask)
    return ember.divide(total, _count("mean", input, dim, bool(keepdim), mask))


def median(
    input: Tensor, dim: int = -1, *, keepdim: bool = False, dtype: Any = None, mask: Tensor | None = None
) -> Tensor:
    """The median of the masked-in elements along dim, NaNs ignored as by nanmedian; NaN
    where a slice is wholly masked out, which an integer input refuses
    (torch.masked.median)."""
    d = _dims(dim, input.ndim)[0]
    is_float = input.is_floating_point()
    values = input if is_float else input.to(dtypes.float32)
    output = ember.nanmedian(_fill("median", values, mask), d, keepdim).values
    if is_float:
        return output
    if bool(ember.isnan(output).any()):
        raise ValueError("masked median expects no fully masked out rows if dtype is not floating point")
    return output.to(dtype or input.dtype)


def logsumexp(
    input: Tensor,
    dim: DimOrDims = None,
    *,
    keepdim: bool = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """log(sum(exp(x))) over the masked-in elements along dim; -inf where a slice is
    wholly masked out (torch.masked.logsumexp)."""
    dims = _dims(dim, input.ndim)
    return ember.logsumexp(_fill("logsumexp", input, mask), dims, keepdim).to(dtype or input.dtype)


def logaddexp(
    input: Tensor,
    other: Tensor,
    *,
    dtype: Any = None,
    input_mask: Tensor | None = None,
    other_mask: Tensor | None = None,
) -> Tensor:
    """log(exp(input) + exp(other)) elementwise, a masked-out element of either taken as
    -inf, so that it adds nothing (torch.masked.logaddexp)."""
    a = _fill("logaddexp", input, input_mask)
    b = _fill("logaddexp", other, other_mask)
    return ember.logaddexp(a, b).to(dtype or input.dtype)


def norm(
    input: Tensor,
    ord: float | None = 2.0,
    dim: DimOrDims = None,
    *,
    keepdim: bool | None = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """The vector ord-norm of the masked-in elements over dim (torch.masked.norm); 0 where
    a slice is wholly masked out, except for ord=-inf, whose identity is +inf."""
    filled = _fill("norm", input, mask, 2.0 if ord is None else ord)
    dims = _dims(dim, input.ndim)
    return ember.linalg.vector_norm(
        filled, 2.0 if ord is None else ord, dims, bool(keepdim), dtype=dtype or input.dtype
    )


def _std_var(
    op: str,
    input: Tensor,
    dim: DimOrDims,
    unbiased: bool | None,
    correction: float | None,
    keepdim: bool | None,
    dtype: Any,
    mask: Tensor | None,
) -> Tensor:
    """The variance about the masked-in mean, divided by max(count - correction, 0)."""
    if unbiased is not None and correction is not None:
        # an AssertionError, the type PyTorch raises
        raise AssertionError(f"masked.{op}(): Only one of unbiased and correction may be given")
    delta = 1.0 if unbiased is None else float(unbiased)
    if correction is not None:
        delta = float(correction)
    if dtype is None:
        dtype = input.dtype if input._data.dtype.kind in "fcV" else dtypes.float32
    compute = dtype if dtypes.to_numpy_dtype(dtype).kind in "fcV" else dtypes.float32
    count = _count(op, input, dim, True, mask)
    centred = ember.subtract(
        input, ember.divide(sum(input, dim, keepdim=True, dtype=dtype, mask=mask), count)
    )
    total = sum(centred * centred.conj(), dim, keepdim=keepdim, dtype=compute, mask=mask)
    if not keepdim:
        count = count.reshape(total.shape)
    if delta != 0:
        real = np.finfo(dtypes.to_numpy_dtype(compute)).dtype  # float32 for complex64
        count = ember.clamp(count.to(dtypes.from_numpy_dtype(real)) - delta, min=0)
    output = ember.divide(total, count).to(dtype)
    return ember.sqrt(output) if op == "std" else output


def var(
    input: Tensor,
    dim: DimOrDims = None,
    unbiased: bool | None = None,
    *,
    correction: float | None = None,
    keepdim: bool | None = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """The variance of the masked-in elements over dim, with Bessel's correction unless
    unbiased=False or another correction is given; NaN (or inf) where too few elements
    are masked in (torch.masked.var)."""
    return _std_var("var", input, dim, unbiased, correction, keepdim, dtype, mask)


def std(
    input: Tensor,
    dim: DimOrDims = None,
    unbiased: bool | None = None,
    *,
    correction: int | None = None,
    keepdim: bool | None = False,
    dtype: Any = None,
    mask: Tensor | None = None,
) -> Tensor:
    """The standard deviation of the masked-in elements over dim, the square root of
    masked var (torch.masked.std)."""
    return _std_var("std", input, dim, unbiased, correction, keepdim, dtype, mask)


# ---- normalizations: the output has the input's shape ---------------------------------------


def softmax(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """softmax along dim over the masked-in elements; masked-out elements get 0, and a
    wholly masked-out slice NaN (torch.masked.softmax)."""
    d = _dims(dim, input.ndim)[0]
    return ember.nn.functional.softmax(_fill("amax", input, mask), d, dtype=dtype or input.dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """log_softmax along dim over the masked-in elements; masked-out elements get -inf
    (torch.masked.log_softmax)."""
    d = _dims(dim, input.ndim)[0]
    return ember.nn.functional.log_softmax(_fill("amax", input, mask), d, dtype=dtype or input.dtype)


def softmin(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """softmin along dim over the masked-in elements; masked-out elements get 0
    (torch.masked.softmin)."""
    d = _dims(dim, input.ndim)[0]
    return ember.nn.functional.softmin(_fill("amin", input, mask), d, dtype=dtype or input.dtype)


def normalize(
    input: Tensor, ord: float, dim: int, *, eps: float = 1e-12, dtype: Any = None, mask: Tensor | None = None
) -> Tensor:
    """input divided by the ord-norm of its masked-in elements along dim (at least eps);
    masked-out elements become 0 (torch.masked.normalize)."""
    dtype = dtype or input.dtype
    filled = _fill("sum", input, mask)
    size = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    return ember.divide(filled, ember.maximum(size, ember.full((), eps, dtype=size.dtype)))


def cumsum(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """The running sums along dim, masked-out elements adding 0 (torch.masked.cumsum)."""
    dtype = dtype or input.dtype
    d = _dims(dim, input.ndim)[0]
    return ember.cumsum(_fill("cumsum", input, mask), d, dtype=dtype).to(dtype)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """The running products along dim, masked-out elements multiplying by 1
    (torch.masked.cumprod)."""
    dtype = dtype or input.dtype
    d = _dims(dim, input.ndim)[0]
    return ember.cumprod(_fill("cumprod", input, mask), d, dtype=dtype).to(dtype)
