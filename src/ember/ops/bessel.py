"""The Bessel functions of torch.special that ops/specfun.py lacks: J0, J1, Y0, Y1, K0, K1
(and K0, K1 scaled by e^x), the spherical j0 and the Airy function Ai. One Function each,
as in elementwise.py; each computes in float64 and casts back to the input's dtype.

* J0, J1, Y0, Y1 by their power series up to x = 2; from 2 to 25 by Miller's backward
  recurrence J_(k-1) = (2k/x) J_k - J_(k+1), started at k = 80 and normalised by
  J0 + 2 (J2 + J4 + ...) = 1, with Y0 and Y1 from Neumann's series in the same J_k;
  beyond, by Hankel's asymptotic series (its smallest term, near k = 2x, is below e^-50),
  with cos(x - pi/4) written as (cos x + sin x) / sqrt 2, so that no rounding of x - pi/4
  enters the phase.
* K0, K1 by their power series up to x = 1; from 1 to 25 by the trapezoidal rule on
  e^x K_v(x) = integral over t >= 0 of exp(-2x sinh^2(t/2)) cosh(vt), whose error falls
  like exp(-pi^2 / h) for an integrand analytic in a strip (step h = 0.1, 50 nodes);
  beyond, by the asymptotic series, as for the Hankel series.
* Ai from -10.5 to 11.25 by Taylor series about the nearest of 175 anchors k/8: Ai'' = x Ai
  gives the coefficients by a three-term recurrence, and the anchors' Ai and Ai' come once
  from the Maclaurin series summed in 80-digit decimal arithmetic. Beyond, by the
  asymptotic series in zeta = (2/3)|x|^(3/2), oscillating for x < 0.
"""

from __future__ import annotations

import decimal
import functools
import math
from typing import Any

import numpy as np

from ember.ops import _dual
from ember.ops.elementwise import Op

_EULER = 0.57721566490153286061
_TWO_OVER_PI = 2 / math.pi
_SQRT_HALF = math.sqrt(0.5)
_SQRT_PI = math.sqrt(math.pi)
_SERIES_LIMIT = 2.0  # J, Y: power series below
_MILLER_START = 80
_HANKEL_LIMIT = 25.0  # J, Y, K: asymptotic series above


def _asymptotic_terms(order: float, z: np.ndarray, terms: int = 60) -> list[np.ndarray]:
    """The terms a_k(order) / z^k of Hankel's expansions, a_k = prod_(j <= k) (4 order^2 -
    (2j - 1)^2) / (k! 8^k), for z >= 25, where they fall below 1e-20 before they grow."""
    mu = 4.0 * order * order
    term = np.ones_like(z)
    out = [term]
    for k in range(1, terms):
        term = term * (mu - (2 * k - 1) ** 2) / (8 * k * z)
        out.append(term)
    return out


def _hankel(order: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(J, Y) of order 0 or 1 for x > 25: sqrt(2 / (pi x)) (P cos c - Q sin c, P sin c + Q cos c),
    c = x - (2 order + 1) pi / 4, P and Q the even and odd terms with alternating signs."""
    terms = _asymptotic_terms(order, x)
    p = sum(t * (-1) ** (k // 2) for k, t in enumerate(terms) if k % 2 == 0)
    q = sum(t * (-1) ** (k // 2) for k, t in enumerate(terms) if k % 2 == 1)
    c, s = np.cos(x), np.sin(x)
    if order == 0:  # cos(x - pi/4), sin(x - pi/4)
        cc, sc = (c + s) * _SQRT_HALF, (s - c) * _SQRT_HALF
    else:  # cos(x - 3 pi/4), sin(x - 3 pi/4)
        cc, sc = (s - c) * _SQRT_HALF, -(s + c) * _SQRT_HALF
    amplitude = np.sqrt(_TWO_OVER_PI / x)
    return amplitude * (p * cc - q * sc), amplitude * (p * sc + q * cc)


def _jy_series(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """J0, J1, Y0, Y1 for 0 < x <= 2 by their power series in t = x^2/4 (about 20 terms)."""
    t = x * x / 4
    log_half = np.log(x) - math.log(2.0)  # not log(x / 2): x / 2 may underflow
    term0 = np.ones_like(x)  # (-t)^k / (k!)^2
    term1 = np.ones_like(x)  # (-t)^k / (k! (k + 1)!)
    j0, j1s, y0s, y1s = term0.copy(), term1.copy(), np.zeros_like(x), -2 * _EULER + term1
    harmonic = 0.0
    for k in range(1, 26):
        term0 = term0 * -t / (k * k)
        term1 = term1 * -t / (k * (k + 1))
        harmonic += 1.0 / k
        j0 += term0
        j1s += term1
        y0s -= harmonic * term0
        y1s += (2 * harmonic + 1.0 / (k + 1) - 2 * _EULER) * term1
    j1 = x / 2 * j1s
    y0 = _TWO_OVER_PI * ((log_half + _EULER) * j0 + y0s)
    # psi(k + 1) + psi(k + 2) = H_k + H_(k+1) - 2 gamma; the loop added it term by term
    with np.errstate(over="ignore", divide="ignore"):
        y1 = -_TWO_OVER_PI / x + _TWO_OVER_PI * log_half * j1 - x / (2 * math.pi) * y1s
    return j0, j1, y0, y1


def _jy_miller(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """J0, J1, Y0, Y1 for 2 <= x <= 25: Miller's backward recurrence from k = 80 (J_80(25)
    is 1e-24 of J0's scale), normalised by J0 + 2 sum J_2k = 1; then Neumann's series
    Y0 = (2/pi) ((log(x/2) + gamma) J0 - 2 sum (-1)^k J_2k / k) and
    Y1 = -2/(pi x) J0 + (2/pi) ((log(x/2) + gamma - 1) J1 - sum (-1)^k (2k+1) J_(2k+1) / (k (k+1)))."""
    upper = np.zeros_like(x)  # J_(k+1)
    current = np.full_like(x, 1e-30)  # J_k, unnormalised
    norm = np.zeros_like(x)
    y0_sum = np.zeros_like(x)
    y1_sum = np.zeros_like(x)
    two_over_x = 2 / x
    for k in range(_MILLER_START, 0, -1):  # current is J_k
        if k % 2 == 0:
            m = k // 2
            norm += current
            y0_sum += (-1) ** m * current / m
        elif k > 1:
            m = (k - 1) // 2
            y1_sum += (-1) ** m * (2 * m + 1) / (m * (m + 1)) * current
        upper, current = current, k * two_over_x * current - upper
    # now current is J0 and upper J1, unnormalised
    scale = 1 / (current + 2 * norm)
    j0, j1 = current * scale, upper * scale
    log_term = np.log(x / 2) + _EULER
    y0 = _TWO_OVER_PI * (log_term * j0 - 2 * y0_sum * scale)
    y1 = -_TWO_OVER_PI / x * j0 + _TWO_OVER_PI * ((log_term - 1) * j1 - y1_sum * scale)
    return j0, j1, y0, y1


def _jy(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """J0, J1, Y0, Y1 of float64 a = |x| (flattened), each region by its method."""
    a = np.abs(x)
    out = [np.full_like(a, np.nan) for _ in range(4)]
    regions = ((a > 0) & (a < _SERIES_LIMIT), (a >= _SERIES_LIMIT) & (a <= _HANKEL_LIMIT))
    for region, method in zip(regions, (_jy_series, _jy_miller)):
        values = method(a[region])
        for o, v in zip(out, values):
            o[region] = v
    far = (a > _HANKEL_LIMIT) & np.isfinite(a)
    j0, y0 = _hankel(0, a[far])
    j1, y1 = _hankel(1, a[far])
    for o, v in zip(out, (j0, j1, y0, y1)):
        o[far] = v
    zero = a == 0
    out[0][zero], out[1][zero], out[2][zero], out[3][zero] = 1.0, 0.0, -np.inf, -np.inf
    return tuple(out)


def bessel(x: np.ndarray, which: str) -> np.ndarray:
    """j0, j1, y0 or y1 of an array, in its dtype: J0 is even, J1 odd, Y0 and Y1 are nan for
    x < 0; all four are nan at +-inf, as in PyTorch."""
    with np.errstate(all="ignore"):
        flat = x.astype(np.float64).reshape(-1)
        values = dict(zip(("j0", "j1", "y0", "y1"), _jy(flat)))
        out = values[which]
        if which == "j1":
            out = np.where(np.signbit(flat), -out, out)  # J1 is odd (and -0.0 gives -0.0)
        elif which in ("y0", "y1"):
            out[flat < 0] = np.nan
        return out.reshape(x.shape).astype(x.dtype)


# ---- K0 and K1 ---------------------------------------------------------------------------

_K_SERIES_LIMIT = 1.0
_STEP = 0.1
_NODES = np.arange(50) * _STEP  # exp(-2 sinh^2(t/2)) at t = 4.9: below 1e-21 of the sum


def _k_series(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """K0, K1 for 0 < x <= 1: with t = x^2/4 and H_k the harmonic numbers,
    K0 = -(log(x/2) + gamma) I0 + sum H_k t^k / (k!)^2,
    K1 = 1/x + log(x/2) I1 - (x/4) sum (H_k + H_(k+1) - 2 gamma) t^k / (k! (k+1)!)."""
    t = x * x / 4
    log_half = np.log(x) - math.log(2.0)
    term0 = np.ones_like(x)
    term1 = np.ones_like(x)
    i0, i1s, k0s, k1s = term0.copy(), term1.copy(), np.zeros_like(x), (1 - 2 * _EULER) * term1
    harmonic = 0.0
    for k in range(1, 20):
        term0 = term0 * t / (k * k)
        term1 = term1 * t / (k * (k + 1))
        harmonic += 1.0 / k
        i0 += term0
        i1s += term1
        k0s += harmonic * term0
        k1s += (2 * harmonic + 1.0 / (k + 1) - 2 * _EULER) * term1
    k0 = -(log_half + _EULER) * i0 + k0s
    with np.errstate(over="ignore", divide="ignore"):
        k1 = 1 / x + log_half * x / 2 * i1s - x / 4 * k1s
    return k0, k1


def _k_scaled_trapezoid(x: np.ndarray, order: float) -> np.ndarray:
    """e^x K_order(x) for 1 <= x <= 25 by the trapezoidal rule (see the module's docstring)."""
    total = np.full_like(x, 0.5)
    for t in _NODES[1:]:
        total += np.exp(-2 * x * math.sinh(t / 2) ** 2) * math.cosh(order * t)
    return total * _STEP


def _k_scaled_asymptotic(x: np.ndarray, order: float) -> np.ndarray:
    """e^x K_order(x) for x > 25: sqrt(pi / (2x)) sum a_k(order) / x^k."""
    return np.sqrt(math.pi / (2 * x)) * sum(_asymptotic_terms(order, x))


def modified_bessel_k(x: np.ndarray, order: int, scaled: bool) -> np.ndarray:
    """K0 or K1 of an array (times e^x when scaled), in its dtype: inf at 0, nan for x < 0,
    0 at +inf."""
    with np.errstate(all="ignore"):
        a = x.astype(np.float64).reshape(-1)
        out = np.full_like(a, np.nan)
        near = (a > 0) & (a <= _K_SERIES_LIMIT)
        k = _k_series(a[near])[order]
        out[near] = k * np.exp(a[near]) if scaled else k
        for region, method in (
            ((a > _K_SERIES_LIMIT) & (a <= _HANKEL_LIMIT), _k_scaled_trapezoid),
            ((a > _HANKEL_LIMIT) & (a < np.inf), _k_scaled_asymptotic),
        ):
            z = a[region]
            value = method(z, order)
            out[region] = value if scaled else value * np.exp(-z)
        out[a == 0] = np.inf
        out[a == np.inf] = 0.0
        return out.reshape(x.shape).astype(x.dtype)


# ---- Airy Ai ---------------------------------------------------------------------------------

_AIRY_STEP = 0.125
_AIRY_LOW, _AIRY_HIGH = -10.5, 11.25
# Ai(0) and Ai'(0), 1 / (3^(2/3) Gamma(2/3)) and -1 / (3^(1/3) Gamma(1/3)), to 45 digits
_AI0 = "0.355028053887817239260063186004183176397979174"
_AIP0 = "-0.258819403792806798405183560189203963479091138"


@functools.cache
def _airy_anchors() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x0, Ai(x0), Ai'(x0)) at x0 = -10.5, -10.375, ..., 11.25: the Maclaurin series, whose
    coefficients follow from Ai'' = x Ai ((k + 2)(k + 1) a_(k+2) = a_(k-1)), summed in decimal
    arithmetic with 80 digits; the terms reach 1e10 where Ai is 1e-11, a loss of 21 digits."""
    x0 = np.arange(_AIRY_LOW, _AIRY_HIGH + _AIRY_STEP / 2, _AIRY_STEP)
    with decimal.localcontext() as context:
        context.prec = 80
        coefficients = [decimal.Decimal(_AI0), decimal.Decimal(_AIP0), decimal.Decimal(0)]
        for k in range(1, 240):
            coefficients.append(coefficients[k - 1] / ((k + 2) * (k + 1)))
        values, slopes = [], []
        for anchor in x0:
            z = decimal.Decimal(float(anchor))  # exact: multiples of 1/8
            value = slope = decimal.Decimal(0)
            power = decimal.Decimal(1)  # z^k
            for k, a in enumerate(coefficients):
                if k:
                    slope += k * a * power
                    power *= z
                value += a * power
            values.append(float(value))
            slopes.append(float(slope))
    return x0, np.array(values), np.array(slopes)


def _airy_taylor(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ai and Ai' for x in [-10.5, 11.25]: Taylor series about the nearest anchor x0, with
    h = x - x0 (|h| <= 1/16), whose coefficients satisfy (k + 2)(k + 1) c_(k+2) =
    x0 c_k + c_(k-1); 25 terms reach the last bit (each is under 0.25 times the one before)."""
    x0s, values, slopes = _airy_anchors()
    index = np.rint((x - _AIRY_LOW) / _AIRY_STEP).astype(np.intp)
    x0 = x0s[index]
    h = x - x0
    c_prev2, c_prev, c = np.zeros_like(x), values[index], slopes[index]  # c_(-1), c_0, c_1
    value = c_prev + c * h
    slope = c.copy()
    power = h.copy()  # h^k for the current c_k (k = 1)
    previous_power = np.ones_like(x)
    for k in range(0, 24):  # c_(k+2) from c_k and c_(k-1)
        c_next = (x0 * c_prev + c_prev2) / ((k + 2) * (k + 1))
        c_prev2, c_prev, c = c_prev, c, c_next
        previous_power, power = power, power * h
        value += c * power
        slope += (k + 2) * c * previous_power
    return value, slope


def _airy_u(terms: int) -> list[float]:
    """The coefficients u_k of Ai's asymptotic series, (2k+1)(2k+3)...(6k-1) / (216^k k!)."""
    out = [1.0]
    for k in range(1, terms):
        out.append(out[-1] * (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216 * k))
    return out


_U = _airy_u(40)
_V = [1.0] + [-(6 * k + 1) / (6 * k - 1) * u for k, u in enumerate(_U) if k]


def _airy_far(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ai and Ai' for |x| beyond the anchors, from the series in 1/zeta, zeta = (2/3)|x|^(3/2)
    >= 22.7 (smallest term below e^-45)."""
    a = np.abs(x)
    zeta = 2 / 3 * a * np.sqrt(a)
    quarter = np.sqrt(np.sqrt(a))
    powers = [np.ones_like(a)]
    for _ in range(1, len(_U)):
        powers.append(powers[-1] / zeta)
    value, slope = np.zeros_like(a), np.zeros_like(a)
    positive = x > 0
    if positive.any():
        zp = zeta[positive]
        su = sum((-1) ** k * u * p[positive] for k, (u, p) in enumerate(zip(_U, powers)))
        sv = sum((-1) ** k * v * p[positive] for k, (v, p) in enumerate(zip(_V, powers)))
        decay = np.exp(-zp) / (2 * _SQRT_PI)
        value[positive] = decay / quarter[positive] * su
        slope[positive] = -decay * quarter[positive] * sv
    negative = ~positive
    if negative.any():
        zn = zeta[negative]
        pn = [p[negative] for p in powers]
        even_u = sum((-1) ** (k // 2) * _U[k] * pn[k] for k in range(0, len(_U), 2))
        odd_u = sum((-1) ** (k // 2) * _U[k] * pn[k] for k in range(1, len(_U), 2))
        even_v = sum((-1) ** (k // 2) * _V[k] * pn[k] for k in range(0, len(_V), 2))
        odd_v = sum((-1) ** (k // 2) * _V[k] * pn[k] for k in range(1, len(_V), 2))
        s, c = np.sin(zn), np.cos(zn)
        sin_phase, cos_phase = (s + c) * _SQRT_HALF, (c - s) * _SQRT_HALF  # of zeta + pi/4
        q = quarter[negative]
        value[negative] = (sin_phase * even_u - cos_phase * odd_u) / (_SQRT_PI * q)
        slope[negative] = -q / _SQRT_PI * (cos_phase * even_v + sin_phase * odd_v)
    return value, slope


def airy(x: np.ndarray, derivative: bool = False) -> np.ndarray:
    """Ai(x) (or Ai'(x)) of an array, in its dtype; nan at +-inf, as in PyTorch."""
    with np.errstate(all="ignore"):
        a = x.astype(np.float64).reshape(-1)
        out = np.full_like(a, np.nan)
        near = (a >= _AIRY_LOW) & (a <= _AIRY_HIGH)
        out[near] = _airy_taylor(a[near])[derivative]
        far = np.isfinite(a) & ~near
        out[far] = _airy_far(a[far])[derivative]
        return out.reshape(x.shape).astype(x.dtype)


# ---- the spherical Bessel function j0 -------------------------------------------------------


def spherical_j(x: np.ndarray, order: int) -> np.ndarray:
    """sin(x)/x (order 0) or its negated derivative (sin x - x cos x)/x^2 (order 1), by
    their Taylor series where |x| < 1/2; j0 is 0 at +-inf, as in PyTorch."""
    with np.errstate(all="ignore"):
        a = x.astype(np.float64).reshape(-1)
        if order == 0:
            out = np.sin(a) / a
        else:
            out = (np.sin(a) - a * np.cos(a)) / (a * a)
        small = np.abs(a) < 0.5
        s = a[small]
        square = s * s
        # order 0: sum (-1)^k x^2k / (2k+1)!; order 1: sum (-1)^k x^(2k+1) (2k+2) / (2k+3)!
        term = np.ones_like(s) if order == 0 else s / 3
        total = term.copy()
        for k in range(1, 10):
            if order == 0:
                term = term * -square / ((2 * k) * (2 * k + 1))
            else:
                term = term * -square / (2 * k * (2 * k + 3))
            total += term
        out[small] = total
        out[np.isinf(a)] = 0.0
        return out.reshape(x.shape).astype(x.dtype)


# ---- the ops ---------------------------------------------------------------------------------


def _of(cls: Any, x: Any) -> Any:
    """cls's function of x: computed on an array, recorded as an op on a Tensor (create_graph),
    so that derivatives of any order exist."""
    return cls.compute(x) if _dual.is_array(x) else cls.apply(x)


def _tiny(x: Any) -> np.ndarray:
    v = _dual.value(x)
    return np.abs(v) <= np.finfo(v.dtype).eps


def _over_x(y: Any, x: Any, at_zero: float) -> Any:
    """y / x, with at_zero where |x| is below epsilon (x replaced by 1 there first, so that no
    inf or nan enters a second derivative)."""
    tiny = _tiny(x)
    return _dual.where(tiny, at_zero, y / _dual.where(tiny, 1.0, x))


class _Unary(Op):
    """An op y = f(x) whose `compute` takes and returns an array; `slope(x, y)` is dy/dx,
    written with _of so that it is itself differentiable."""

    @staticmethod
    def forward(ctx, x):
        y = ctx.compute(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * ctx.slope(x, y)


class BesselJ0(_Unary):
    compute = staticmethod(lambda x: bessel(x, "j0"))
    slope = staticmethod(lambda x, y: -_of(BesselJ1, x))


class BesselJ1(_Unary):
    """J1' = J0 - J1/x (1/2 at 0)."""

    compute = staticmethod(lambda x: bessel(x, "j1"))
    slope = staticmethod(lambda x, y: _of(BesselJ0, x) - _over_x(y, x, 0.5))


class BesselY0(_Unary):
    compute = staticmethod(lambda x: bessel(x, "y0"))
    slope = staticmethod(lambda x, y: -_of(BesselY1, x))


class BesselY1(_Unary):
    """Y1' = Y0 - Y1/x."""

    compute = staticmethod(lambda x: bessel(x, "y1"))
    slope = staticmethod(lambda x, y: _of(BesselY0, x) - y / x)


class ModifiedBesselK0(_Unary):
    compute = staticmethod(lambda x: modified_bessel_k(x, 0, False))
    slope = staticmethod(lambda x, y: -_of(ModifiedBesselK1, x))


class ModifiedBesselK1(_Unary):
    """K1' = -K0 - K1/x."""

    compute = staticmethod(lambda x: modified_bessel_k(x, 1, False))
    slope = staticmethod(lambda x, y: -_of(ModifiedBesselK0, x) - y / x)


class ScaledModifiedBesselK0(_Unary):
    """(e^x K0)' = e^x K0 - e^x K1."""

    compute = staticmethod(lambda x: modified_bessel_k(x, 0, True))
    slope = staticmethod(lambda x, y: y - _of(ScaledModifiedBesselK1, x))


class ScaledModifiedBesselK1(_Unary):
    """(e^x K1)' = e^x K1 (1 - 1/x) - e^x K0."""

    compute = staticmethod(lambda x: modified_bessel_k(x, 1, True))
    slope = staticmethod(lambda x, y: y - y / x - _of(ScaledModifiedBesselK0, x))


class AiryAi(_Unary):
    compute = staticmethod(lambda x: airy(x))
    slope = staticmethod(lambda x, y: _of(AiryAiPrime, x))


class AiryAiPrime(_Unary):
    """Ai', for Ai's gradient: its own derivative is x Ai(x)."""

    compute = staticmethod(lambda x: airy(x, derivative=True))
    slope = staticmethod(lambda x, y: x * _of(AiryAi, x))


class SphericalBesselJ0(_Unary):
    """j0' = -j1, the spherical Bessel function of order 1."""

    compute = staticmethod(lambda x: spherical_j(x, 0))
    slope = staticmethod(lambda x, y: -_of(SphericalBesselJ1, x))


class SphericalBesselJ1(_Unary):
    """j1, for j0's gradient: j1' = j0 - 2 j1 / x (1/3 at 0, where j1 / x is 1/3)."""

    compute = staticmethod(lambda x: spherical_j(x, 1))
    slope = staticmethod(lambda x, y: _of(SphericalBesselJ0, x) - 2 * _over_x(y, x, 1 / 3))
