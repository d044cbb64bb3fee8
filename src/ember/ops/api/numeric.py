"""Numerical helpers with PyTorch's names: integration by the trapezoidal rule, the
Vandermonde matrix, unravel_index, the window functions of signal processing, the
deprecated `range`, histogram and the finite-difference `gradient`.

The trapezoids, vander and gradient are composed of differentiable ops (slices, sums,
cumprod, products by fixed weights), so their gradients come from those; the windows,
unravel_index and histogram are constants, computed in float64 with NumPy and rounded once
to the requested dtype.
"""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any

import numpy as np

from ember import _meta, _spacing, dtypes
from ember._stacklevel import outside_ember
from ember._tensor import Tensor
from ember.autograd.function import apply_one
from ember.creation import _range_bounds, _range_count, _to_int64, _to_single
from ember.ops.api import arith, reduce, shape
from ember.ops.elementwise import MulScalar
from ember.ops.reduction import normalize_dim

# ---- the trapezoidal rule --------------------------------------------------------------------


def _float(y: Tensor) -> Tensor:
    return y if y._data.dtype.kind in "fcV" else y.to(dtypes.get_default_dtype())


def _along(t: Tensor, dim: int, part: slice) -> Tensor:
    """t[..., part, ...] with part on dim (empty where t has no samples there)."""
    return t[(slice(None),) * dim + (part,)]


def _trapezoids(name: str, y: Tensor, x: Any, dx: Any, dim: int) -> Tensor:
    """The area of each trapezoid between neighbouring samples along dim."""
    if y._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(
            f"{name}(): x must be a Tensor (give a constant spacing as dx=...), not {type(x).__name__}"
        )
    d = normalize_dim(dim, y._data.ndim, name)
    n = y._data.shape[d]
    y = _float(y)
    pairs = arith.add(_along(y, d, slice(1, None)), _along(y, d, slice(None, -1)))
    if x is None:
        half = (1 if dx is None else dx) / 2
        if half.__class__ is float:  # MulBackward1, which saves no tensor, as PyTorch's
            return apply_one(MulScalar, pairs, half)
        return arith.mul(pairs, half)
    xd = x._data.ndim
    if xd == 1:
        if x._data.shape[0] != n:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        widths = shape.reshape(arith.sub(x[1:], x[:-1]), (-1,) + (1,) * (y._data.ndim - 1 - d))
    else:
        xdim = d - y._data.ndim + xd  # x's dims line up with y's last ones
        if x._data.shape[xdim] != n:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        widths = arith.sub(_along(x, xdim, slice(1, None)), _along(x, xdim, slice(None, -1)))
    return arith.mul(arith.mul(_float(widths), pairs), 0.5)


def trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The integral of y along dim by the trapezoidal rule, with sample points x (a tensor)
    or a constant spacing dx (default 1) (torch.trapezoid)."""
    return reduce.sum(_trapezoids("trapezoid", y, x, dx, dim), dim)


def trapz(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """trapezoid's older name (torch.trapz)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The running integrals of trapezoid, one fewer than the samples along dim
    (torch.cumulative_trapezoid)."""
    return reduce.cumsum(_trapezoids("cumulative_trapezoid", y, x, dx, dim), dim)


# ---- vander, unravel_index ---------------------------------------------------------------


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-d x: column j is x ** (N - 1 - j), or x ** j when
    increasing (torch.vander). Built by cumprod, so its gradient exists where x is 0."""
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._data.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x._data.dtype.kind in "bu" or (x._data.dtype.kind == "i" and x._data.dtype != np.int64):
        x = x.to(dtypes.int64)  # PyTorch's vander of integers is int64
    columns = [Tensor(_meta.full((x._data.shape[0], min(n, 1)), 1, x._data.dtype, x._data))]  # on x's device
    if n > 1:
        columns.append(reduce.cumprod(shape.expand(shape.unsqueeze(x, 1), -1, n - 1), 1))
    out = shape.cat(columns, 1)
    return out if increasing else shape.flip(out, [1])


def unravel_index(indices: Tensor, shape_: Any) -> tuple:
    """The coordinates, one int64 tensor per dim of shape, of flat indices into a tensor of
    that shape (torch.unravel_index); indices past either end wrap around."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"expected 'indices' to be a Tensor, but got {type(indices).__name__}")
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    dims = (shape_,) if isinstance(shape_, int) else tuple(shape_)
    if any(d < 0 for d in dims):
        raise ValueError(f"'shape' cannot have negative values, but got {dims}")
    rest = indices._data.astype(np.int64)
    coords = []
    for d in reversed(dims):
        coords.append(np.mod(rest, d) if d else rest * 0)
        rest = np.floor_divide(rest, d) if d else rest
    return tuple(Tensor(_meta.asarray(c, np.int64)) for c in reversed(coords))


# ---- window functions --------------------------------------------------------------------


def _window(
    name: str, window_length: int, periodic: bool, dtype: Any, requires_grad: bool, values: Any
) -> Tensor:
    """values(n, m): the window at positions n of a symmetric window of m points; a periodic
    window is the symmetric one of one point more, without its last point."""
    np_dtype = dtypes.to_numpy_dtype(dtype if dtype is not None else dtypes.get_default_dtype())
    if np_dtype.kind not in "fV":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtypes.from_numpy_dtype(np_dtype)}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if window_length <= 1:
        w = np.ones(window_length)
    else:
        m = window_length + 1 if periodic else window_length
        w = values(np.arange(window_length, dtype=np.float64), m)
    return Tensor(w.astype(np_dtype), requires_grad=requires_grad)


def _cosines(n: np.ndarray, m: int, *coefficients: float) -> np.ndarray:
    """sum_k (-1)^k a_k cos(2 pi k n / (m - 1)): the generalised cosine windows."""
    phase = 2 * math.pi * n / (m - 1)
    return sum((-1) ** k * a * np.cos(k * phase) for k, a in enumerate(coefficients))


def hann_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Hann window, 1/2 - 1/2 cos(2 pi n / (N - 1)) (torch.hann_window)."""
    return _window(
        "hann_window", window_length, periodic, dtype, requires_grad, lambda n, m: _cosines(n, m, 0.5, 0.5)
    )


def hamming_window(
    window_length: int,
    periodic: bool = True,
    alpha: float = 0.54,
    beta: float = 0.46,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Hamming window, alpha - beta cos(2 pi n / (N - 1)) (torch.hamming_window)."""
    return _window(
        "hamming_window",
        window_length,
        periodic,
        dtype,
        requires_grad,
        lambda n, m: _cosines(n, m, alpha, beta),
    )


def blackman_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Blackman window, 0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))
    (torch.blackman_window)."""
    return _window(
        "blackman_window",
        window_length,
        periodic,
        dtype,
        requires_grad,
        lambda n, m: _cosines(n, m, 0.42, 0.5, 0.08),
    )


def bartlett_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Bartlett (triangular) window, 1 - |2 n / (N - 1) - 1| (torch.bartlett_window)."""
    return _window(
        "bartlett_window",
        window_length,
        periodic,
        dtype,
        requires_grad,
        lambda n, m: 1 - np.abs(2 * n / (m - 1) - 1),
    )


def kaiser_window(
    window_length: int,
    periodic: bool = True,
    beta: float = 12.0,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Kaiser window, I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta), I0 the modified
    Bessel function of order 0 (torch.kaiser_window)."""

    def values(n: np.ndarray, m: int) -> np.ndarray:
        r = 2 * n / (m - 1) - 1
        return np.i0(beta * np.sqrt(np.clip(1 - r * r, 0, None))) / np.i0(beta)

    return _window("kaiser_window", window_length, periodic, dtype, requires_grad, values)


# ---- range -------------------------------------------------------------------------------


def range(  # noqa: A001  (torch's name)
    start: float,
    end: float,
    step: float = 1,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Deprecated (torch.range): start, start + step, ... up to end *included*, in the
    default dtype unless another is given, with PyTorch's count (floor((end - start) / step)
    + 1 in the accumulate type) and values to the bit. Use ember.arange, whose end is
    excluded."""
    warnings.warn(
        "ember.range is deprecated, as torch.range is: its end is included, unlike Python's "
        "range. Use ember.arange, which produces values in [start, end).",
        UserWarning,
        stacklevel=outside_ember(),
    )
    given = dtype if dtype is not None else dtypes.get_default_dtype()
    start, end, step, np_dtype = _range_bounds(start, end, step, "range", "range_cpu", given)
    if np_dtype == np.float16:  # float32 arithmetic, PyTorch's accumulate type for float16
        first, last, by = (np.float32(_to_single(float(v))) for v in (start, end, step))
        count = _range_count(float((last - first) / by + np.float32(1)))
        values = _spacing.range_floats(float(first), float(by), count, np_dtype)
    elif np_dtype.kind in "fV":
        count = _range_count((float(end) - float(start)) / float(step) + 1)
        values = _spacing.range_floats(float(start), float(step), count, np_dtype)
    else:  # the bounds and the step truncated to int64, and the count from them
        first, last, by = _to_int64(start), _to_int64(end), _to_int64(step)
        if by == 0:  # PyTorch divides by zero here and the process dies (SIGFPE)
            raise RuntimeError(f"range: step must be nonzero (the step {step} truncates to 0 for {dtype})")
        count = abs(last - first) // abs(by) + 1
        values = first + by * np.arange(count, dtype=np.int64)
    return Tensor(values.astype(np_dtype), requires_grad=requires_grad)


# ---- histogram, gradient -------------------------------------------------------------------


def histogram(
    input: Tensor,
    bins: Any = 100,
    *,
    range: Any = None,
    weight: Tensor | None = None,
    density: bool = False,  # noqa: A002
) -> Any:
    """Counts (or summed weights) of input's elements in bins: `bins` equal ones (100 when
    not given: PyTorch's documented signature requires bins, its function defaults to 100) over
    `range` (default: the data's minimum and maximum), or the edges given as a 1-d tensor;
    the last bin includes its right edge (torch.histogram). Returns (hist, bin_edges)."""
    from ember import return_types

    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(
            f"\"histogramdd\" not implemented for '{dtypes.scalar_type_name(input._data.dtype)}'"
        )
    from ember.ops.api.stats import linear_bins

    x, np_dtype = input._data.ravel(), input._data.dtype
    w = None if weight is None else weight._data.ravel()
    if isinstance(bins, Tensor):  # the edges themselves: NumPy's bins are PyTorch's
        if bins._data.size < 2:
            raise RuntimeError(
                f"torch.histogram(): bins must be > 0, but got {bins._data.size - 1} for dimension 0"
            )
        edges = bins._data.astype(np_dtype)
        hist = np.histogram(x, edges.astype(np.float64), weights=w)[0]
    else:  # PyTorch's equal bins, which NumPy's edges (computed in float64) can differ from
        lo, hi = _bin_range(x, range, 0)
        kept, which, edges = linear_bins(x, lo, hi, bins, local_search=True)
        hist = np.bincount(which, weights=None if w is None else w[kept], minlength=bins)
    hist = hist.astype(np_dtype)
    if density:
        hist = hist / (hist.sum() * np.diff(edges))
    return return_types.return_type("histogram")(Tensor(hist), Tensor(edges))


def _bin_range(x: np.ndarray, given: Any, dim: int) -> tuple[float, float]:
    """The (lo, hi) that histogram's equal bins span along one dimension: the range given, or
    the data's, (0, 1) for no data; widened by 1/2 each way when lo equals hi (as PyTorch)."""
    lo, hi = (
        (float(v) for v in given)  # unpacking checks that there are two
        if given is not None
        else ((float(x.min()), float(x.max())) if x.size else (0.0, 1.0))
    )
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histogramdd: dimension {dim}'s range [{lo}, {hi}] is not finite")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def histogramdd(
    input: Tensor,
    bins: Any,
    *,
    range: Any = None,
    weight: Tensor | None = None,
    density: bool = False,  # noqa: A002
) -> Any:
    """The D-dimensional histogram of the points in input (*, D): per dimension, `bins`
    equal bins (an int, or one per dimension) over range (lo0, hi0, lo1, hi1, ...; default
    the data's extent) or the edges given as 1-d tensors; each bin includes its left edge,
    the last also its right one (torch.histogramdd). Returns (hist, bin_edges), hist of
    shape (bins_0, ..., bins_{D-1}) and bin_edges a tuple of D tensors."""
    from ember import return_types
    from ember.ops.api.stats import linear_bins

    if input._data.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(
            f"\"histogramdd\" not implemented for '{dtypes.scalar_type_name(input._data.dtype)}'"
        )
    points, np_dtype = input._data.reshape(-1, input._data.shape[-1]), input._data.dtype
    d = points.shape[1]
    per_dim = list(bins) if isinstance(bins, (list, tuple)) else [bins] * d
    if len(per_dim) != d:
        raise RuntimeError(
            "histogramdd: The size of bins must be equal to the innermost dimension of the input."
        )
    if range is not None and len(range) != 2 * d:
        raise RuntimeError(
            f"torch.histogramdd: for a {d}-dimensional histogram range should have {2 * d} elements, "
            f"but got {len(range)}"
        )
    w = None
    if weight is not None:
        if tuple(weight.shape) != input._data.shape[:-1]:
            raise RuntimeError(
                "torch.histogramdd: if weight tensor is provided it should have the same shape as the input "
                "tensor excluding its innermost dimension, but got input with shape "
                f"{list(input._data.shape)} and weight with shape {list(weight.shape)}"
            )
        w = weight._data.reshape(-1)
    inside = np.ones(len(points), np.bool_)
    which, all_edges = [], []
    for k, b in enumerate(per_dim):
        x = points[:, k]
        count = b._data.size - 1 if isinstance(b, Tensor) else int(b)
        if count < 1:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {count} for dimension {k}")
        if isinstance(b, Tensor):
            edges = b._data.astype(np_dtype)
            kept = (x >= edges[0]) & (x <= edges[-1])
            pos = np.minimum(np.searchsorted(edges, x, side="right") - 1, count - 1)
        else:
            lo, hi = _bin_range(x, None if range is None else (range[2 * k], range[2 * k + 1]), k)
            kept, found, edges = linear_bins(x, lo, hi, count, local_search=True)
            pos = np.zeros(len(x), np.int64)
            pos[kept] = found
        inside &= kept
        which.append(pos)
        all_edges.append(edges)
    sizes = tuple(len(e) - 1 for e in all_edges)
    flat = np.ravel_multi_index(tuple(p[inside] for p in which), sizes) if d else np.zeros(0, np.int64)
    hist = np.bincount(flat, weights=None if w is None else w[inside], minlength=int(np.prod(sizes)))
    hist = hist.reshape(sizes).astype(np_dtype)
    if density:
        volume = np.ones(sizes, np_dtype)
        for k, e in enumerate(all_edges):
            volume = volume * np.diff(e).reshape((-1,) + (1,) * (d - k - 1))
        hist = hist / (hist.sum() * volume)
    edges_out = tuple(Tensor(e.astype(np_dtype)) for e in all_edges)
    return return_types.return_type("histogramdd")(Tensor(hist.astype(np_dtype)), edges_out)


def _difference_weights(x: np.ndarray, edge_order: int) -> tuple:
    """Second-order weights (a, b, c) of f[i-1], f[i], f[i+1] for the interior points of
    samples at coordinates x, and the (weights, offsets) of the two edges."""
    hs, hd = x[1:-1] - x[:-2], x[2:] - x[1:-1]
    interior = (-hd / (hs * (hs + hd)), (hd - hs) / (hs * hd), hs / (hd * (hs + hd)))
    if edge_order == 1:
        first = ((-1 / (x[1] - x[0]), 1 / (x[1] - x[0])), 0)
        last = ((-1 / (x[-1] - x[-2]), 1 / (x[-1] - x[-2])), -2)
        return interior, first, last
    d1, d2 = x[1] - x[0], x[2] - x[1]
    first = ((-(2 * d1 + d2) / (d1 * (d1 + d2)), (d1 + d2) / (d1 * d2), -d1 / (d2 * (d1 + d2))), 0)
    d1, d2 = x[-2] - x[-3], x[-1] - x[-2]
    last = ((d2 / (d1 * (d1 + d2)), -(d1 + d2) / (d1 * d2), (2 * d2 + d1) / (d2 * (d1 + d2))), -3)
    return interior, first, last


def _derivative(f: Tensor, d: int, spacing: Any, edge_order: int) -> Tensor:
    """f's derivative along dim d by central differences, one-sided at the two ends."""
    n = f._data.shape[d]
    along = (1,) * (f._data.ndim - 1 - d)  # weights vary along d and broadcast over the rest

    def part(start: int, stop: int | None) -> Tensor:
        return _along(f, d, slice(start, stop))

    def weighted(ws: tuple, offset: int, count: int) -> Tensor:
        total = None
        for k, w in enumerate(ws):
            stop = offset + k + count
            term = arith.mul(part(offset + k, stop if stop != 0 else None), _weights_tensor(w, along, f))
            total = term if total is None else arith.add(total, term)
        return total

    if not isinstance(spacing, Tensor):  # equal steps: the plain differences
        h = float(spacing)
        inner = arith.div(arith.sub(part(2, None), part(0, -2)), 2 * h)
        if edge_order == 1:
            first = arith.div(arith.sub(part(1, 2), part(0, 1)), h)
            last = arith.div(arith.sub(part(n - 1, n), part(n - 2, n - 1)), h)
        else:
            first = weighted((-1.5 / h, 2 / h, -0.5 / h), 0, 1)
            last = weighted((0.5 / h, -2 / h, 1.5 / h), -3, 1)
        return shape.cat([first, inner, last], d)
    x = spacing._data.astype(np.float64)
    interior, (w_first, o_first), (w_last, o_last) = _difference_weights(x, edge_order)
    first = weighted(w_first, o_first, 1)
    last = weighted(w_last, o_last, 1)
    if n == 2:  # no interior point (and `weighted` cannot slice an empty run ending at 0)
        return shape.cat([first, last], d)
    inner = weighted(tuple(w.reshape((-1, *along)) for w in interior), 0, n - 2)
    return shape.cat([first, inner, last], d)


def _weights_tensor(w: Any, along: tuple, f: Tensor) -> Any:
    if np.ndim(w) == 0:
        return float(w)
    return Tensor(_meta.asarray(w, f._data.dtype).reshape((-1, *along)))


def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None, edge_order: int = 1) -> tuple:
    """The derivative of the sampled function input along each dim (or the given ones), by
    second-order central differences inside and first- or second-order (edge_order)
    one-sided ones at the ends (torch.gradient). spacing: one number for every dim, one per
    dim, or one 1-d tensor of sample coordinates per dim. Differentiable in input."""
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got {edge_order}")
    f = _float(input)
    dims = (
        list(builtins.range(f._data.ndim)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    )
    dims = [normalize_dim(d, f._data.ndim, "gradient") for d in dims]
    steps = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if len(steps) != len(dims):
        raise RuntimeError(
            f"torch.gradient expected spacing to be unspecified, a scalar or a list of length {len(dims)}, "
            f"but got a list of length {len(steps)}"
        )
    for d in dims:
        if f._data.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    for s, d in zip(steps, dims):
        if isinstance(s, Tensor) and s._data.ndim != 1:
            raise RuntimeError(
                "torch.gradient expected each element of spacing to have one dimension, but got an "
                f"element with {s._data.ndim} dimensions!"
            )
        if isinstance(s, Tensor) and s._data.shape[0] != f._data.shape[d]:
            raise RuntimeError(
                f"torch.gradient expected the coordinates of dim {d} to be {f._data.shape[d]} values, "
                f"but got {s._data.shape[0]}"
            )
    return tuple(_derivative(f, d, s, edge_order) for s, d in zip(steps, dims))
