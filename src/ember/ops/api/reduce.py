"""Reductions: sum, mean, max/min (with indices), var/std, logsumexp, norm, all/any."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ember import dtypes
from ember._tensor import Tensor
from ember.ops import reduction
from ember.ops.api.arith import abs, maximum, minimum, sqrt
from ember.ops.reduction import normalize_dim, normalize_dims

values_indices = namedtuple("values_indices", ["values", "indices"])

# ---- reductions ------------------------------------------------------------------------------


def _float_for_reduction(input: Tensor, op: str) -> Tensor:
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            f"{op}(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype}"
        )
    return input


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "bui":
        input = input.to(dtypes.int64)  # torch sums integers and bools as int64
    axes = normalize_dims(dim, input._data.ndim, "sum")
    return reduction.Sum.apply(input, axes, keepdim)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    _float_for_reduction(input, "mean")
    axes = normalize_dims(dim, input._data.ndim, "mean")
    return reduction.Mean.apply(input, axes, keepdim)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "bui":
        input = input.to(dtypes.int64)  # torch multiplies integers and bools as int64
    axis = None if dim is None else normalize_dim(dim, input._data.ndim, "prod")
    return reduction.Prod.apply(input, axis, keepdim)


def _extreme(input: Tensor, dim: Any, keepdim: bool, is_max: bool, name: str) -> Any:
    if isinstance(dim, Tensor):  # max(a, b): the elementwise form
        return (maximum if is_max else minimum)(input, dim)
    if input._data.size == 0:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )
    if dim is None:
        node = reduction.Amax if is_max else reduction.Amin
        return node.apply(input, normalize_dims(None, input._data.ndim, name), False, is_max)
    axis = normalize_dim(dim, input._data.ndim, name)
    values, indices = (reduction.Max if is_max else reduction.Min).apply(input, axis, keepdim, is_max)
    return values_indices(values, indices)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Largest element; with dim, (values, indices); with a tensor, elementwise maximum."""
    return _extreme(input, dim, keepdim, True, "max")


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return _extreme(input, dim, keepdim, False, "min")


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    dims = normalize_dims(None if dim == () else dim, input._data.ndim, "amax")
    return reduction.Amax.apply(input, dims, keepdim, True)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    dims = normalize_dims(None if dim == () else dim, input._data.ndim, "amin")
    return reduction.Amin.apply(input, dims, keepdim, False)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    if dim is None:
        return Tensor(np.asarray(np.argmax(input._data), dtype=np.int64))
    axis = normalize_dim(dim, input._data.ndim, "argmax")
    return Tensor(np.asarray(np.argmax(input._data, axis=axis, keepdims=keepdim), dtype=np.int64))


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    if dim is None:
        return Tensor(np.asarray(np.argmin(input._data), dtype=np.int64))
    axis = normalize_dim(dim, input._data.ndim, "argmin")
    return Tensor(np.asarray(np.argmin(input._data, axis=axis, keepdims=keepdim), dtype=np.int64))


def var(
    input: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
) -> Tensor:
    """Variance; `correction` (or `unbiased`) subtracts from the count, 1 by default (Bessel)."""
    if isinstance(dim, bool):  # var(x, False): the old positional `unbiased`
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    _float_for_reduction(input, "var")
    axes = normalize_dims(dim, input._data.ndim, "var")
    return reduction.Var.apply(input, axes, correction, keepdim)


def std(
    input: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
) -> Tensor:
    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    axes = normalize_dims(dim, input._data.ndim, "logsumexp")
    if input._data.dtype.kind != "f":
        input = input.to(dtypes.get_default_dtype())  # torch gives float32 for integers
    return reduction.Logsumexp.apply(input, axes, keepdim)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """Vector p-norm over dim (all elements by default); 'fro' is the 2-norm of all entries."""
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"norm(): expected a floating point tensor as input, got {input.dtype}")
    if p == "fro":
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"norm(): the 'fro' norm takes at most 2 dims, got dim={tuple(dim)}")
        p = 2
    if p in (float("inf"), "inf"):
        return amax(abs(input), () if dim is None else dim, keepdim)
    if not isinstance(p, (int, float)) or p < 1:
        raise NotImplementedError(f"norm(): p={p!r} is not supported (use p >= 1, inf or 'fro')")
    axes = normalize_dims(dim, input._data.ndim, "norm")
    return reduction.LinalgVectorNorm.apply(input, p, axes, keepdim)


def all(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = None if dim is None else normalize_dims(dim, input._data.ndim, "all")
    return Tensor(np.asarray(np.all(input._data, axis=axes, keepdims=keepdim)))


def any(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = None if dim is None else normalize_dims(dim, input._data.ndim, "any")
    return Tensor(np.asarray(np.any(input._data, axis=axes, keepdims=keepdim)))


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along dim (torch.cumsum); integers and bools are summed as int64."""
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "bui":
        input = input.to(dtypes.int64)
    return reduction.Cumsum.apply(input, normalize_dim(dim, input._data.ndim, "cumsum"))
