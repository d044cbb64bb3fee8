"""More of torch.special: the modified Bessel functions i0, i0e, i1, i1e, the scaled
complementary error function erfcx, the normal distribution's log_ndtr and ndtri, xlog1py,
entr and the Hurwitz zeta function. One Function each, as in elementwise.py; each computes
in float64 and casts back to the input's dtype.

* I0 and I1 by their power series sum (x^2/4)^k / (k! (k + n)!) for |x| <= 20 (all terms
  positive, about 35 of them at 20), and beyond by the asymptotic series
  e^x / sqrt(2 pi x) sum_k (-1)^k a_k(n) / x^k, whose smallest term, near k = 2x, is below
  e^(-2x) < 1e-17 there (40 terms are summed).
* erfcx(x) = exp(x^2) erfc(x): Laplace's continued fraction for x >= 1.5 (no exp needed, so
  no underflow), 1 - erf(x) below, and 2 exp(x^2) - erfcx(-x) for x < 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember import _meta
from ember.ops import _dual
from ember.ops.activations import erf, laplace_denominator
from ember.ops.elementwise import Op
from ember.ops.gamma import _factorial, _hurwitz, _poles, polygamma
from ember.ops.special import Xlogy, _erfinv

_SQRT_2 = math.sqrt(2.0)
_SQRT_HALF = math.sqrt(0.5)
_SQRT_2PI = math.sqrt(2 * math.pi)
_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2 / _SQRT_PI
_SERIES_LIMIT = 20.0

# ---- modified Bessel functions of the first kind ---------------------------------------------


def _bessel_i(x: np.ndarray, order: int, scaled: bool) -> np.ndarray:
    """I0 or I1 (order 0 or 1) of x, times exp(-|x|) when scaled."""
    with np.errstate(all="ignore"):
        # flattened: on a 0-d array np.abs returns a NumPy scalar, which the masked
        # assignments below cannot write into
        a = np.abs(x.astype(np.float64).reshape(-1))
        out = a.copy()  # nan stays nan; everything else is overwritten
        near = a <= _SERIES_LIMIT
        t = a[near]
        quarter = t * t / 4
        term = np.ones_like(t) if order == 0 else t / 2
        total = term.copy()
        k = 0
        while (term > 1e-17 * total).any():
            k += 1
            term = term * quarter / (k * (k + order))
            total += term
        out[near] = total * np.exp(-t) if scaled else total

        far = a > _SERIES_LIMIT
        z = a[far]
        mu = 4.0 * order * order
        term = np.ones_like(z)
        total = term.copy()
        for k in range(1, 41):
            term = term * ((2 * k - 1) ** 2 - mu) / (8 * k * z)
            total += term
        result = total / np.sqrt(2 * np.pi * z)
        if not scaled:
            # e^|x| in the input's dtype: it overflows where PyTorch's own computation does
            # (past 88.7 in float32), and inf * 0 gives nan at x = +-inf, as in PyTorch
            result = result * np.exp(z.astype(x.dtype)).astype(np.float64)
        out[far] = result
        if order == 1:
            out = np.copysign(out, x.reshape(-1))  # I1 is odd
        return out.reshape(x.shape).astype(x.dtype)


def _of(cls: Any, order: int, scaled: bool, x: Any) -> Any:
    """The Bessel function `cls` computes, on an array or, as a recorded op, on a Tensor."""
    return _bessel_i(x, order, scaled) if _dual.is_array(x) else cls.apply(x)


class I0(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _bessel_i(x, 0, False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _of(SpecialI1, 1, False, x)


class SpecialI0E(Op):
    """i0e(x) = exp(-|x|) i0(x); its derivative is i1e(x) - sign(x) i0e(x)."""

    @staticmethod
    def forward(ctx, x):
        y = _bessel_i(x, 0, True)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * (_of(SpecialI1E, 1, True, x) - _dual.unary("sign", x) * y)


def _tiny(x: Any) -> np.ndarray:
    """Where |x| is below the dtype's epsilon: there i1(x)/x and i1e(x)/x are 1/2 to working
    precision, and the quotient itself may have lost digits (i1(x) = x/2 may be subnormal)."""
    v = _dual.value(x)
    return np.abs(v) <= np.finfo(v.dtype).eps


def _over_x(y: Any, x: Any, tiny: np.ndarray) -> Any:
    """y / x, with 1/2 where x is tiny (x is replaced by 1 there first, so that no inf or nan
    enters the gradient of a second derivative)."""
    return _dual.where(tiny, 0.5, y / _dual.where(tiny, 1.0, x))


class SpecialI1(Op):
    """i1; its derivative is i0(x) - i1(x)/x (1/2 at 0)."""

    @staticmethod
    def forward(ctx, x):
        y = _bessel_i(x, 1, False)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * (_of(I0, 0, False, x) - _over_x(y, x, _tiny(x)))


class SpecialI1E(Op):
    """i1e(x) = exp(-|x|) i1(x); its derivative is i0e(x) - i1e(x)/x - sign(x) i1e(x)."""

    @staticmethod
    def forward(ctx, x):
        y = _bessel_i(x, 1, True)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        slope = _of(SpecialI0E, 0, True, x) - _over_x(y, x, _tiny(x)) - _dual.unary("sign", x) * y
        return grad * slope


# ---- the error function scaled, and the normal distribution -----------------------------------


def _erfcx_nonnegative(a: np.ndarray) -> np.ndarray:
    """exp(a^2) erfc(a) for float64 a >= 0 (or nan)."""
    out = np.exp(a * a) * (1 - erf(a))  # 1 - erf(a) loses little below 1.5 (erfc(1.5) = 0.03)
    far = a >= 1.5
    # Laplace's continued fraction for erfc(a), without its factor exp(-a^2)
    out[far] = 1 / _SQRT_PI / laplace_denominator(a[far], 80)
    return out


def erfcx(x: np.ndarray) -> np.ndarray:
    """exp(x^2) erfc(x): inf at -inf, 0 at +inf."""
    with np.errstate(all="ignore"):
        a = x.astype(np.float64).reshape(-1)  # 1-d: of a 0-d array, NumPy's ops give scalars
        out = _erfcx_nonnegative(np.abs(a))
        negative = a < 0
        out[negative] = 2 * np.exp(a[negative] ** 2) - out[negative]
        return out.astype(x.dtype).reshape(x.shape)


class SpecialErfcx(Op):
    @staticmethod
    def forward(ctx, x):
        y = erfcx(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * (2 * x * y - _TWO_OVER_SQRT_PI)


def log_ndtr(x: np.ndarray) -> np.ndarray:
    """log of the standard normal CDF, log(erfc(-x / sqrt 2) / 2), without underflow: in the
    lower tail, log erfc(u) = log(erfcx(u)) - u^2."""
    with np.errstate(all="ignore"):
        a = x.astype(np.float64)
        u = -a * _SQRT_HALF
        lower = u > 0
        ul = u[lower]
        out = np.empty_like(a)
        out[lower] = np.log(_erfcx_nonnegative(ul) / 2) - ul * ul
        # upper half: log(1 - erfc(|u|) / 2), erfc(|u|) being accurate where it is tiny
        uu = -u[~lower]
        out[~lower] = np.log1p(-0.5 * _erfcx_nonnegative(uu) * np.exp(-uu * uu))
        return out.astype(x.dtype)


class SpecialLogNdtr(Op):
    @staticmethod
    def forward(ctx, x):
        y = log_ndtr(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        # the normal density over the CDF, exp(-x^2/2 - log_ndtr(x)) / sqrt(2 pi)
        return grad * _dual.unary("exp", -(x * x) / 2 - y) / _SQRT_2PI


def _erfc_inverse(r: np.ndarray) -> np.ndarray:
    """u > 0 with erfc(u) = r, for float64 r in (0, 1/2]: Winitzki's closed-form guess, then
    Newton steps on log erfc(u) = log r, which stay precise however small r is (the slope
    of log erfc(u) is -2/sqrt(pi) / erfcx(u))."""
    ln = np.log(r) + np.log(2 - r)  # log(1 - erf(u)^2), exact for small r
    k = 2 / (np.pi * 0.147) + ln / 2
    u = np.sqrt(np.sqrt(k * k - ln / 0.147) - k)
    log_r = np.log(r)
    for _ in range(5):
        scaled = _erfcx_nonnegative(u)
        u = u + (np.log(scaled) - u * u - log_r) * scaled * (_SQRT_PI / 2)
    return u


def ndtri(p: np.ndarray) -> np.ndarray:
    """The inverse of the standard normal CDF: -inf at 0, inf at 1, nan outside [0, 1].
    Near p = 1/2 it is sqrt(2) erfinv(2p - 1) (2p - 1 is exact there); in the tails,
    -+sqrt(2) erfcinv(2q) with q = min(p, 1 - p), also exact."""
    with np.errstate(all="ignore"):
        a = p.astype(np.float64)
        out = np.where(a == 0, -np.inf, np.where(a == 1, np.inf, np.nan))
        central = np.abs(a - 0.5) <= 0.25
        out[central] = _SQRT_2 * _erfinv(2 * a[central] - 1)
        tails = (a > 0) & (a < 1) & ~central
        at = a[tails]
        u = _erfc_inverse(2 * np.where(at < 0.5, at, 1 - at))
        out[tails] = np.where(at < 0.5, -_SQRT_2, _SQRT_2) * u
        return out.astype(p.dtype)


class SpecialNdtri(Op):
    @staticmethod
    def forward(ctx, p):
        y = ndtri(p)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # 1 / density(y)
        return grad * _SQRT_2PI * _dual.unary("exp", y * y / 2)


# ---- xlog1py, entr ---------------------------------------------------------------------------


class SpecialXlog1Py(Xlogy):
    """x * log1p(y), and 0 where x == 0 unless y is nan: Xlogy with log1p, whose pole is at -1."""

    log, pole = "log1p", -1.0


class SpecialEntr(Op):
    """-x log(x), 0 at 0 and -inf for x < 0; its derivative -(1 + log x) (nan for x < 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(x > 0, -x * np.log(x), np.where(x == 0, 0, -np.inf))
        return np.where(np.isnan(x), x, out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad * -(_dual.unary("log", x) + 1)


# ---- the Hurwitz zeta function ---------------------------------------------------------------


def zeta(s: np.ndarray, q: np.ndarray) -> np.ndarray:
    """zeta(s, q) = sum_k (q + k)^-s, elementwise over the broadcast arrays: inf at s = 1 and
    where q is 0 or a negative integer, nan for s < 1, and for q < 0 unless s is an integer
    (then the sum still converges; it is reached through polygamma's reflection)."""
    dtype = np.result_type(s, q)
    meta = _meta.elementwise(dtype, s, q)
    if meta is not None:
        return meta
    with np.errstate(all="ignore"):
        s64, q64 = np.broadcast_arrays(np.asarray(s, np.float64), np.asarray(q, np.float64))
        out = np.where(s64 == 1, np.inf, np.nan)
        converges = s64 > 1
        positive = converges & (q64 > 0)
        out[positive] = _hurwitz(s64[positive], q64[positive])
        out[converges & _poles(q64)] = np.inf
        negative = converges & (q64 < 0) & ~_poles(q64) & (s64 == np.floor(s64))
        for value in np.unique(s64[negative]):  # zeta(n + 1, q) = (-1)^(n+1) psi^(n)(q) / n!
            n = int(value) - 1
            where = negative & (s64 == value)
            out[where] = (-1) ** (n + 1) * polygamma(n, q64[where]) / _factorial(n)
        return out.astype(dtype)


class SpecialZeta(Op):
    """Forward only: PyTorch defines no derivative for zeta either."""

    @staticmethod
    def forward(ctx, s, q):
        return zeta(s, q)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative for 'zeta' is not implemented.")
