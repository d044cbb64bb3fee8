"""The three multiply-adds of the optimizers, rounded as PyTorch's kernels round them.

PyTorch computes `add(y, x, alpha=a)`, `addcmul` and `lerp` on float32 with a fused
multiply-add: y + a*x is rounded once, not twice. NumPy has no fused multiply-add, and
the one-bit differences add up: a small model trained by per-sample SGD drifts away from
PyTorch's numbers within an epoch. The product of two float32 numbers is exact in
float64, so computing there and rounding once to float32 reproduces the fused result.

That detour costs about four times as much memory traffic, so it is taken for small
float32 arrays only (at most EXACT_MAX_SIZE elements: the models of a course, the biases
of larger ones), where a step costs Python overhead anyway. Larger arrays are computed in
float32, one rounding per operation, and agree with PyTorch to float32 precision (their
matrix products differ from PyTorch's in the last bits anyway). float64 arrays always
take the float64 path, rounded twice.

On a vector of at most FEW elements (a bias, the weights of a course's linear regression)
the same float64 computation runs on Python floats, which are float64: one list
comprehension costs about half of three NumPy calls there, and gives the same bits.
"""

from __future__ import annotations

import numpy as np

EXACT_MAX_SIZE = 4096
FEW = 8  # up to this many elements (a bias, a course's weight vector), add_scaled uses Python floats

_FLOAT32 = np.dtype(np.float32)


def _exact(y: np.ndarray) -> bool:
    # `is` first, since comparing dtypes costs more; == for float32 dtypes that are not
    # NumPy's own object (an unpickled array's, for one)
    dtype = y.dtype
    return (dtype is _FLOAT32 or dtype == _FLOAT32) and y.size <= EXACT_MAX_SIZE


def _round(exact: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    if out is None:
        return exact.astype(np.float32)
    out[...] = exact  # one rounding; np.copyto's dispatch costs twice as much on small arrays
    return out


_FACTORS: dict[float, np.ndarray] = {}


def _factor(alpha: float) -> np.ndarray:
    """alpha rounded to float32, the precision PyTorch's kernels compute in, as a 0-d float64
    array: a float32 array times it is computed in float64, where the product is exact.
    (NumPy handles a 0-d array faster than a Python number, and without a dtype argument.)

    Memoised: np.float32 costs about as much as a small array's update, and an optimizer
    passes the same few factors (lr, momentum) every step. Zeros are not stored, since 0.0
    and -0.0 are one key."""
    factor = _FACTORS.get(alpha)
    if factor is None:
        factor = np.array(np.float32(alpha), np.float64)
        if alpha:
            if len(_FACTORS) >= 1024:  # a scheduler makes a new lr every step
                _FACTORS.clear()
            _FACTORS[alpha] = factor
    return factor


def add_scaled(y: np.ndarray, x: np.ndarray, alpha: float, out: np.ndarray | None = None) -> np.ndarray:
    """y + alpha * x, rounded once (torch.add(y, x, alpha=alpha)); in place when out is y."""
    if alpha == 1:
        return np.add(y, x, out=out)
    dtype = y.dtype  # _exact(y) and _round, inline: each call costs as much as a small array's op
    if (dtype is _FLOAT32 or dtype == _FLOAT32) and y.size <= EXACT_MAX_SIZE:
        factor = _FACTORS.get(alpha)
        if factor is None:
            factor = _factor(alpha)  # PyTorch first rounds alpha to float32
        if y.ndim == 1 and y.size <= FEW and x.shape == y.shape:
            # Python floats are float64 too: the same two roundings in one comprehension,
            # which costs about half of the three NumPy calls below on a few elements
            f = float(factor)
            values = [b + f * a for b, a in zip(y.tolist(), x.tolist())]
            if out is None:
                return np.array(values, np.float32)
            out[:] = values
            return out
        exact = x * factor
        exact += y
        if out is None:
            return exact.astype(np.float32)
        out[...] = exact
        return out
    if dtype.kind == "V":
        # bfloat16 (ml_dtypes), as PyTorch's kernel: alpha rounded to bfloat16, y + alpha * x
        # in float32 (where that product of two bfloat16 numbers is exact), rounded once.
        # (`x * alpha` on the bfloat16 array itself would be a float32 result, and so the sum.)
        exact = x.astype(_FLOAT32) * _FLOAT32.type(np.float32(alpha).astype(dtype))
        exact += y
        if out is None:
            return exact.astype(dtype)
        out[...] = exact
        return out
    return np.add(y, x * alpha, out=out)


def addcmul(
    y: np.ndarray, x1: np.ndarray, x2: np.ndarray, value: float, out: np.ndarray | None = None
) -> np.ndarray:
    """y + value * x1 * x2 (torch.addcmul): value * x1 is rounded, the multiply-add is fused."""
    scaled = x1 if value == 1 else x1 * value
    if _exact(y):
        exact = np.multiply(scaled, x2, dtype=np.float64)
        exact += y
        return _round(exact, out)
    return np.add(y, scaled * x2, out=out)


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start <- start + weight * (end - start) in place (torch.Tensor.lerp_).

    Like PyTorch, weights of 0.5 and more interpolate from the end, end - (1 - weight) *
    (end - start), which is exact at weight 1.
    """
    if start.dtype is not _FLOAT32 and start.dtype.kind == "V":
        # bfloat16 (ml_dtypes), as PyTorch's kernel: in float32, with the weight a float32 (not
        # rounded to bfloat16 as add_scaled's alpha is), the result rounded once
        wide = start.astype(_FLOAT32)
        lerp_(wide, end.astype(_FLOAT32), weight)
        start[...] = wide
        return
    w = float(_factor(weight)) if start.dtype == _FLOAT32 else weight  # float64 keeps its weight
    diff = end - start
    if w < 0.5:
        add_scaled(start, diff, w, out=start)
    else:
        add_scaled(end, diff, -(1 - w), out=start)
