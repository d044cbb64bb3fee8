"""Resizing to a requested size: adaptive average and max pooling, and interpolation.

All map each output index to input indices fixed by the sizes alone. When the sizes
divide, adaptive pooling is an ordinary average pooling; otherwise its windows differ in
length, and it is written as one averaging matrix per dimension (y = A_h @ x @ A_w^T),
two matmul nodes (a deviation: there an inf or NaN input reaches every output of its
row or column band, as 0 * inf is NaN). Nearest interpolation picks input rows and
columns: index_select. Adaptive max pooling gathers every window (the shorter ones padded
with a repeat of their last element) into one array and takes its maxima; its backward
adds each gradient at the element that won.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.ops import _dual
from ember.ops.elementwise import Op
from ember.ops.im2col import Window
from ember.ops.pool import AvgPool, check_dtype


def _averaging_matrix(n: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, n): row o averages PyTorch's adaptive window floor(o*n/out) .. ceil((o+1)*n/out)."""
    a = np.zeros((out, n), dtype=dtype)
    for o in range(out):
        start, end = (o * n) // out, -((-(o + 1) * n) // out)
        a[o, start:end] = 1 / (end - start)
    return a


def _adaptive_avg_pool(op: str, nd: int, input: Tensor, output_size: Any) -> Tensor:
    if not isinstance(input, Tensor) or input.ndim not in (nd + 1, nd + 2):
        shape = list(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {shape}")
    check_dtype(op, input)  # floating point only, as in PyTorch
    size = tuple(input.shape[-nd:])
    sizes = (
        (output_size,) * nd
        if isinstance(output_size, (int, np.integer)) or output_size is None
        else output_size
    )
    if len(sizes) != nd:
        raise RuntimeError(
            f"{op}(): output_size must be an int or a tuple of {nd} ints, but got {output_size}"
        )
    out = tuple(n if o is None else int(o) for n, o in zip(size, sizes))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"{op}(): output_size must be positive, but got {list(out)}")
    if all(n % o == 0 for n, o in zip(size, out)):  # equal windows: an ordinary average pooling
        kernel = tuple(n // o for n, o in zip(size, out))
        win = Window(size, kernel, kernel, (1,) * nd, (0,) * nd, (0,) * nd, out)
        return AvgPool.apply(input, win, math.prod(kernel))
    # unequal windows: a linear map per dimension, y = A_h @ x @ A_w^T
    dtype = input._data.dtype
    y = input @ Tensor(_averaging_matrix(size[-1], out[-1], dtype).T)
    if nd == 2:
        y = Tensor(_averaging_matrix(size[0], out[0], dtype)) @ y
    return y


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a given length L_out (torch.nn.functional.adaptive_avg_pool1d)."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a given (H_out, W_out); None keeps that size (torch.nn.functional.adaptive_avg_pool2d)."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def _adaptive_windows(n: int, out: int) -> np.ndarray:
    """(out, k): the input indices of PyTorch's adaptive windows floor(o*n/out) .. ceil((o+1)*n/out),
    k the longest window's length; a shorter window repeats its last index (a repeat never
    changes a maximum, nor which element holds it first)."""
    o = np.arange(out)
    start, end = (o * n) // out, -((-(o + 1) * n) // out)
    k = int((end - start).max())
    return np.minimum(start[:, None] + np.arange(k), end[:, None] - 1)


class AdaptiveMaxPool(Op):
    """Maximum over each adaptive window of the last len(out) dims; also returns each
    maximum's flat index within its input plane (AdaptiveMaxPool2DBackward0)."""

    @staticmethod
    def forward(ctx, x, out):
        nd = len(out)
        size, lead = x.shape[-nd:], x.shape[:-nd]
        plane = math.prod(size)
        # flat[o_1..o_nd, k_1..k_nd]: the flat input index of element k of window o
        flat = np.zeros((1,) * 2 * nd, dtype=np.int64)
        for d, (n, o) in enumerate(zip(size, out)):
            shape = [1] * 2 * nd
            shape[d], shape[nd + d] = o, -1
            flat = flat * n + _adaptive_windows(n, o).reshape(shape)
        flat = flat.reshape(tuple(out) + (-1,))
        values = x.reshape(lead + (plane,))[..., flat]  # (*lead, *out, window)
        arg = np.argmax(values, axis=-1)[..., None]  # the first maximum; NaN counts as one
        if x.dtype.kind == "f" and np.isnan(values).any():  # PyTorch points at the last NaN
            last = values.shape[-1] - 1 - np.argmax(np.isnan(values[..., ::-1]), axis=-1)[..., None]
            arg = np.where(np.isnan(np.take_along_axis(values, arg, -1)), last, arg)
        y = np.take_along_axis(values, arg, -1)[..., 0]
        indices = np.take_along_axis(np.broadcast_to(flat, values.shape), arg, -1)[..., 0]
        ctx.shape, ctx.indices, ctx.nd = x.shape, indices, nd
        ctx.mark_non_differentiable(indices)
        return y, indices

    @staticmethod
    def backward(ctx, grad, _grad_indices):
        plane = math.prod(ctx.shape[-ctx.nd :])
        rows = math.prod(ctx.shape[: -ctx.nd])
        # each gradient added at its maximum's place; windows overlap when the sizes don't divide
        index = (np.arange(rows)[:, None], ctx.indices.reshape(rows, -1))
        g = _dual.index_add((rows, plane), index, grad.reshape(rows, -1), grad.dtype)
        return g.reshape(ctx.shape), None


def _adaptive_max_pool(op: str, nd: int, input: Tensor, output_size: Any, return_indices: bool) -> Any:
    if not isinstance(input, Tensor) or input.ndim not in (nd + 1, nd + 2):
        shape = list(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {shape}")
    check_dtype(op, input)  # floating point only, as in PyTorch
    size = tuple(input.shape[-nd:])
    if 0 in size:
        raise RuntimeError(
            f"{op}(): Expected input to have non-zero size for non-batch dimensions, but input has "
            f"sizes {list(input.shape)} with dimension {input.ndim - nd + size.index(0)} being empty"
        )
    sizes = (
        (output_size,) * nd
        if isinstance(output_size, (int, np.integer)) or output_size is None
        else output_size
    )
    if len(sizes) != nd:
        raise RuntimeError(
            f"{op}(): output_size must be an int or a tuple of {nd} ints, but got {output_size}"
        )
    out = tuple(n if o is None else int(o) for n, o in zip(size, sizes))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{op}(): output_size must not be negative, but got {list(out)}")
    if 0 in out:  # an empty result, as PyTorch gives
        lead = tuple(input.shape[:-nd])
        y = input.reshape(lead + (-1,))[..., :0].reshape(lead + out)
        return (y, Tensor(np.zeros(y.shape, dtype=np.int64))) if return_indices else y
    y, indices = AdaptiveMaxPool.apply(input, out)
    return (y, indices) if return_indices else y


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a given length L_out (torch.nn.functional.adaptive_max_pool1d);
    with return_indices, also the index of each maximum in its input row."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a given (H_out, W_out), None keeping a size (torch.nn.functional.adaptive_max_pool2d);
    with return_indices, also the flat index of each maximum within its H*W plane."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def _nearest_source(n: int, out: int, scale: float | None, exact: bool) -> np.ndarray:
    """The input index each output index copies, computed in float32 like PyTorch's kernel."""
    step = np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(out)
    position = np.arange(out, dtype=np.float32) + np.float32(0.5 if exact else 0.0)
    return np.minimum(np.floor(position * step).astype(np.int64), n - 1)


def interpolate(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dimensions of (N, C, ...) input (torch.nn.functional.interpolate).

    ember implements mode='nearest' and 'nearest-exact'.
    """
    nd = input.ndim - 2
    if nd not in (1, 2, 3):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            f"nearest | nearest-exact (got {mode})"
        )
    if mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not implemented in ember (use 'nearest' or 'nearest-exact')"
        )
    if align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
        )
    if antialias:
        raise NotImplementedError(
            "interpolate: antialias=True is only meaningful for the bilinear and bicubic modes"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError(
            "either size or scale_factor should be defined"
            if size is None
            else "only one of size or scale_factor should be defined"
        )
    spatial = tuple(input.shape[2:])
    if size is not None:
        out = (int(size),) * nd if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
        if len(out) != nd:
            raise ValueError(
                "Input and output must have the same number of spatial dimensions, but got input with "
                f"spatial dimensions of {list(spatial)} and output size of {size}. Please provide input "
                "tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
            )
        scales = (None,) * nd
    else:
        scales = (
            (float(scale_factor),) * nd if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        )
        if len(scales) != nd:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but got input with "
                f"spatial dimensions of {list(spatial)} and scale_factor of shape {scale_factor}."
            )
        out = tuple(math.floor(n * s) for n, s in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    if any(o <= 0 for o in out):
        raise RuntimeError(
            f"interpolate: output size {list(out)} must be positive (input size {list(spatial)})"
        )
    y = input
    for dim, (n, o, s) in enumerate(zip(spatial, out, scales)):
        source = _nearest_source(n, o, s, mode == "nearest-exact")
        if o != n or np.any(source != np.arange(n)):
            y = y.index_select(dim + 2, source)
    return y
