"""Fractional max pooling (Graham, 2014): F.fractional_max_pool2d/3d and their _with_indices forms.

The output is `output_size` (or `output_ratio` times the input), which need not divide the
input: the pooling windows (of `kernel_size`) start at pseudo-random, increasing positions,
drawn from one number u in [0, 1) per sample, channel and spatial dimension. With
alpha = (input - kernel) / (output - 1), window i starts at int((i + u) * alpha) - int(u * alpha)
and the last one ends at the input's edge. Passing `_random_samples` (shape (N, C, nd), the
u's; for 2-d ordered (width, height), for 3-d (depth, height, width), as PyTorch reads them)
makes the windows reproducible.

The windows are found in NumPy; the output is then `gather` of the input at the maxima,
an ember op, so gradients (to each maximum, summed where windows overlap) and second
derivatives follow from it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import random
from ember._tensor import Tensor
from ember.ops.api.indexing import gather


def _tuple(value: Any, nd: int) -> tuple:
    if isinstance(value, (int, float)):
        return (value,) * nd
    value = tuple(value)
    return value * nd if len(value) == 1 else value


def _starts(u: np.ndarray, size: int, out: int, kernel: int) -> np.ndarray:
    """The first position of each of the `out` windows, for each u: shape u.shape + (out,).

    Computed in u's floating-point type, as PyTorch does, so that the same u gives the
    same windows in float32 and float64 alike."""
    starts = np.empty(u.shape + (out,), dtype=np.int64)
    if out > 1:
        alpha = u.dtype.type(size - kernel) / u.dtype.type(out - 1)
        i = np.arange(out - 1, dtype=u.dtype)
        u = u[..., None]
        starts[..., :-1] = ((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    starts[..., -1] = size - kernel
    return starts


def _fractional_max_pool(
    name: str,
    nd: int,
    input: Tensor,
    kernel_size: Any,
    output_size: Any,
    output_ratio: Any,
    _random_samples: Tensor | None,
) -> tuple[Tensor, Tensor]:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{name}(): expected {nd + 1}D or {nd + 2}D input, but got input of shape {list(input.shape)}"
        )
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    spatial = tuple(input.shape[-nd:])
    kernel = _tuple(kernel_size, nd)
    if output_size is None:
        output_size = [int(n * r) for n, r in zip(spatial, _tuple(output_ratio, nd))]
    out = _tuple(output_size, nd)
    unbatched = input.ndim == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    n, c = x.shape[0], x.shape[1]
    if _random_samples is None:
        u = random.rng(None).random((n, c, nd)).astype(x._data.dtype)
    else:
        u = np.asarray(_random_samples._data if isinstance(_random_samples, Tensor) else _random_samples)
        if u.ndim != 3 or u.shape[0] != n or u.shape[2] != nd:
            raise RuntimeError(
                f"{name}(): expected _random_samples of shape {[n, c, nd]}, but got {list(u.shape)}"
            )
        if u.shape[1] != c:
            raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
        u = u.astype(x._data.dtype, copy=False)
    # the windows must fit; PyTorch's 3-d check is one element stricter than its 2-d one
    dims, fits, where = (
        (("height", "width"), lambda end, size: end <= size, name)
        if nd == 2
        else (("time", "height", "width"), lambda end, size: end < size, name + "_out")
    )
    for dim, size, o, k in zip(dims, spatial, out, kernel):
        if not fits(o + k - 1, size):
            raise RuntimeError(f"{where}(): pool {dim} {k} too large relative to input {dim} {size}")
    # PyTorch's order of the samples: 2-d (width, height), 3-d (depth, height, width)
    order = (1, 0) if nd == 2 else (0, 1, 2)
    # the flat (per channel) input index of every element of every window, as
    # (N, C, *out, *kernel), built one spatial dimension at a time
    flat = np.zeros((n, c) + (1,) * (2 * nd), dtype=np.int64)
    stride = 1
    for d in reversed(range(nd)):
        starts = _starts(u[:, :, order[d]], spatial[d], out[d], kernel[d])  # (N, C, out_d)
        pos = starts[..., :, None] + np.arange(kernel[d])  # (N, C, out_d, k_d)
        shape = [n, c] + [1] * (2 * nd)
        shape[2 + d], shape[2 + nd + d] = out[d], kernel[d]
        flat = flat + pos.reshape(shape) * stride
        stride *= spatial[d]
    flat = flat.reshape((n, c, int(np.prod(out)), int(np.prod(kernel))))
    values = np.take_along_axis(x._data.reshape(n, c, -1), flat.reshape(n, c, -1), axis=2)
    # the first maximum in window order (and a nan, if any, as in PyTorch)
    best = np.argmax(values.reshape(flat.shape), axis=3)
    indices = np.take_along_axis(flat, best[..., None], axis=3).reshape((n, c) + out)
    output = gather(x.flatten(2), 2, Tensor(indices.reshape(n, c, -1))).reshape((n, c) + out)
    index = Tensor(indices)
    if unbatched:
        return output.squeeze(0), index.squeeze(0)
    return output, index


def fractional_max_pool2d_with_indices(
    input: Tensor,
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """fractional_max_pool2d's output and the flat (H * W) indices of the maxima."""
    return _fractional_max_pool(
        "fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio, _random_samples
    )


def fractional_max_pool2d(
    input: Tensor,
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Any:
    """Max over pseudo-random windows of (N, C, H, W) input, giving `output_size`
    (torch.nn.functional.fractional_max_pool2d)."""
    result = fractional_max_pool2d_with_indices(
        input, kernel_size, output_size, output_ratio, False, _random_samples
    )
    return result if return_indices else result[0]


def fractional_max_pool3d_with_indices(
    input: Tensor,
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """fractional_max_pool3d's output and the flat (D * H * W) indices of the maxima."""
    return _fractional_max_pool(
        "fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio, _random_samples
    )


def fractional_max_pool3d(
    input: Tensor,
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Any:
    """Max over pseudo-random windows of (N, C, D, H, W) input, giving `output_size`
    (torch.nn.functional.fractional_max_pool3d)."""
    result = fractional_max_pool3d_with_indices(
        input, kernel_size, output_size, output_ratio, False, _random_samples
    )
    return result if return_indices else result[0]
