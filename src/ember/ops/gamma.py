"""The gamma function's family: lgamma, digamma, polygamma and the Hurwitz zeta function.

NumPy has none of them, and ember depends on NumPy alone, so each is computed here in
float64 (whatever the input's dtype; the result is cast back), from textbook series:

* the Hurwitz zeta function zeta(s, q) = sum_k (q + k)^-s, by summing the first terms
  until q + k is large and adding the Euler-Maclaurin tail with Bernoulli numbers;
* lgamma: Stirling's series for x >= 8; below, the recurrence lgamma(x + 1) = lgamma(x) +
  log(x) brings x into [1.5, 2.5], where the Taylor series about 2 (whose coefficients are
  zeta(k) - 1) converges fast and keeps full relative precision at the root x = 2 (and, by
  log1p, at x = 1);
* digamma: the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic
  series; around its only positive root the Taylor series about that root;
* polygamma(n >= 1, x) = (-1)^(n+1) n! zeta(n + 1, x).
Negative arguments go through the reflection formulas, with sin(pi x) and cot(pi x)
computed after reducing x by whole periods, which is exact.

Each op is a Function whose backward is the next function of the family (lgamma' =
digamma, digamma' = polygamma(1), polygamma(n)' = polygamma(n + 1)), applied as an op
when the backward is recorded (create_graph), so derivatives of any order exist.
"""

from __future__ import annotations

import functools
import math
from decimal import Decimal
from typing import Any

import numpy as np

from ember.ops import _dual
from ember.ops.elementwise import Op

# B_2, B_4, ..., B_26: the Bernoulli numbers of the asymptotic series
_BERNOULLI = [
    1 / 6,
    -1 / 30,
    1 / 42,
    -1 / 30,
    5 / 66,
    -691 / 2730,
    7 / 6,
    -3617 / 510,
    43867 / 798,
    -174611 / 330,
    854513 / 138,
    -236364091 / 2730,
    8553103 / 6,
]
_EULER_GAMMA = 0.57721566490153286061
_HALF_LOG_2PI = 0.91893853320467274178

# The positive root of digamma, split into a double and what the double misses, so that
# x - root is exact to about 1e-32 near the root.
_ROOT = "1.46163214496836234126265954232572132846819620400644635129598840859878644"
_ROOT_HI = float(_ROOT)
_ROOT_LO = float(Decimal(_ROOT) - Decimal(_ROOT_HI))


def _hurwitz(s: Any, q: np.ndarray) -> np.ndarray:
    """zeta(s, q) = sum_{k >= 0} (q + k)^-s for float64 q > 0 (inf allowed) and s > 1, a number
    or an array of q's shape.

    The terms are summed while q + k < s + 10; from there, a = q + k, the Euler-Maclaurin
    formula gives the rest: a^(1-s)/(s-1) + a^-s/2 + sum_j B_2j/(2j)! s(s+1)...(s+2j-2)
    a^(-s-2j+1). With a >= s + 10, twelve of its terms leave an error below 1e-17."""
    start = s + 10.0
    a = q.copy()
    total = np.zeros_like(q)
    # for large s the first terms are all there is: an element stops where the rest of the
    # sum, below a^-s (1 + a / (s - 1)), is under 1e-17 of the total (s = 1e300 would
    # otherwise take 1e300 steps); it gets no Euler-Maclaurin tail
    done = np.zeros(q.shape, bool)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        while True:
            low = (a < start) & ~done
            if not low.any():
                break
            term = np.where(low, a**-s, 0.0)
            total += term
            a += low
            rest = a**-s * (1 + a / (s - 1))
            done |= low & (rest <= 1e-17 * total)
    inv = 1.0 / a
    tail = a ** (1 - s) / (s - 1) + 0.5 * a**-s
    # the correction terms, the largest first
    power = a**-s * inv  # a^(-s-1)
    rising = s  # s(s+1)...(s+2j-2)
    factorial = 2.0  # (2j)!
    for j, b in enumerate(_BERNOULLI[:12], start=1):
        tail += b / factorial * rising * power
        rising = rising * (s + 2 * j - 1) * (s + 2 * j)
        factorial *= (2 * j + 1) * (2 * j + 2)
        power = power * inv * inv
    return np.where(done, total, total + tail)


@functools.cache
def _taylor_about_2() -> np.ndarray:
    """The coefficients of lgamma(2 + z) = (1 - gamma) z + sum_k (-1)^k (zeta(k) - 1) z^k / k,
    highest power first (for np.polyval); zeta(k) - 1 is zeta(k, 2)."""
    ks = np.arange(2, 30)
    zeta_minus_1 = np.array([_hurwitz(float(k), np.array([2.0]))[0] for k in ks])
    c = (-1.0) ** ks * zeta_minus_1 / ks
    return np.concatenate([c[::-1], [1 - _EULER_GAMMA, 0.0]])


@functools.cache
def _taylor_about_root() -> np.ndarray:
    """The coefficients of digamma(root + z) = sum_{k >= 1} psi^(k)(root)/k! z^k, highest power
    first; psi^(k)(root)/k! = (-1)^(k+1) zeta(k + 1, root)."""
    ks = np.arange(1, 24)
    c = np.array([(-1.0) ** (k + 1) * _hurwitz(float(k + 1), np.array([_ROOT_HI]))[0] for k in ks])
    return np.concatenate([c[::-1], [0.0]])


def _sin_pi(x: np.ndarray) -> np.ndarray:
    """|sin(pi x)|, exact to rounding even for large x: pi x itself would lose the fraction."""
    return np.abs(np.sin(np.pi * (x - np.round(x))))


def _cot_pi(x: np.ndarray) -> np.ndarray:
    """cot(pi x) for non-integer x, from x reduced to [-1/2, 1/2] (cot has period 1)."""
    r = x - np.round(x)
    return np.where(np.abs(r) == 0.5, 0.0, np.cos(np.pi * r) / np.sin(np.pi * r))


def _poles(x: np.ndarray) -> np.ndarray:
    """Where gamma has a pole: 0 and the negative integers (-inf counts as one)."""
    return (x <= 0) & (x == np.floor(x))


def _horner(coef: np.ndarray, z: np.ndarray) -> np.ndarray:
    """np.polyval(coef, z) for finite z, in place: the same products and sums (so the same
    bits) without polyval's two fresh arrays a coefficient."""
    y = np.full_like(z, coef[0])
    for c in coef[1:]:
        y *= z
        y += c
    return y


def _lgamma_positive(x: np.ndarray) -> np.ndarray:
    """lgamma for finite x > 0."""
    out = np.empty_like(x)
    big = x >= 8
    xb = x[big]
    inv = 1 / xb
    inv2 = inv * inv
    series = np.zeros_like(xb)
    for k in range(8, 0, -1):  # sum B_2k / (2k (2k-1) x^(2k-1)), smallest term first
        series = series * inv2 + _BERNOULLI[k - 1] / (2 * k * (2 * k - 1))
    # x log x - x written as x (log x - 1): no overflow before the result itself overflows
    out[big] = xb * (np.log(xb) - 1) - 0.5 * np.log(xb) + _HALF_LOG_2PI + series * inv

    small = ~big
    xs = x[small]
    coef = _taylor_about_2()
    result = np.empty_like(xs)
    # into [1.5, 2.5] by lgamma(x) = lgamma(x - m) + log((x-1)(x-2)...(x-m)), all factors > 1
    high = xs >= 1.5
    xh = xs[high]
    m = np.maximum(np.ceil(xh - 2.5), 0)
    product = np.ones_like(xh)
    for j in range(1, int(m.max(initial=0)) + 1):  # (m < 7; the factors past m are 1)
        product *= np.where(j <= m, xh - j, 1.0)
    result[high] = _horner(coef, xh - m - 2) + np.log(product)
    # below 1.5: lgamma(x) = lgamma(x + 1) - log(x) (x - 1 is exact there, and log1p keeps
    # lgamma(1) = 0 to full relative precision), or lgamma(x + 2) - log(x (x + 1)) below 0.5
    mid = (xs < 1.5) & (xs >= 0.5)
    z = xs[mid] - 1
    result[mid] = _horner(coef, z) - np.log1p(z)
    low = xs < 0.5
    xl = xs[low]
    result[low] = _horner(coef, xl) - np.log(xl) - np.log1p(xl)
    out[small] = result
    return out


def lgamma(x: np.ndarray) -> np.ndarray:
    """log |Gamma(x)|; +inf at the poles (0, the negative integers) and at +-inf."""
    with np.errstate(all="ignore"):
        a = x.astype(np.float64)
        out = np.where(np.isnan(a), a, np.inf)
        positive = (a > 0) & (a < np.inf)
        out[positive] = _lgamma_positive(a[positive])
        negative = (a < 0) & ~_poles(a)
        xn = a[negative]
        # reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x)
        out[negative] = np.log(np.pi / _sin_pi(xn)) - _lgamma_positive(1 - xn)
        return out.astype(x.dtype, copy=False)


def _digamma_positive(x: np.ndarray) -> np.ndarray:
    """digamma for finite x > 0."""
    out = np.empty_like(x)
    near = np.abs(x - _ROOT_HI) < 0.25
    out[near] = np.polyval(_taylor_about_root(), (x[near] - _ROOT_HI) - _ROOT_LO)
    rest = ~near
    xr = x[rest].copy()
    # psi(x) = psi(x + 1) - 1/x until x >= 10
    shift = np.zeros_like(xr)
    low = xr < 10
    while low.any():
        shift += np.where(low, 1 / xr, 0.0)
        xr += low
        low = xr < 10
    inv2 = 1 / (xr * xr)
    series = np.zeros_like(xr)
    for k in range(8, 0, -1):  # sum B_2k / (2k x^2k)
        series = series * inv2 + _BERNOULLI[k - 1] / (2 * k)
    out[rest] = np.log(xr) - 0.5 / xr - series * inv2 - shift
    return out


def digamma(x: np.ndarray) -> np.ndarray:
    """d/dx lgamma(x). At 0 it is -inf for +0 and +inf for -0; nan at the negative integers
    and at -inf, as in PyTorch."""
    with np.errstate(all="ignore"):
        a = x.astype(np.float64)
        out = np.where(a == 0, np.copysign(np.inf, -a), np.nan)
        out[a == np.inf] = np.inf
        positive = (a > 0) & (a < np.inf)
        out[positive] = _digamma_positive(a[positive])
        negative = (a < 0) & ~_poles(a)
        xn = a[negative]
        # reflection: psi(1 - x) - psi(x) = pi cot(pi x)
        out[negative] = _digamma_positive(1 - xn) - np.pi * _cot_pi(xn)
        return out.astype(x.dtype, copy=False)


@functools.cache
def _cot_derivative(n: int) -> np.ndarray:
    """The polynomial P_n with d^n/dz^n cot(z) = P_n(cot z), highest power first: P_0(c) = c
    and P_(k+1) = -(1 + c^2) P_k'(c), in exact integers before the conversion."""
    p = [0, 1]  # lowest power first while building
    for _ in range(n):
        dp = [i * p[i] for i in range(1, len(p))] + [0, 0]
        p = [-(dp[i] + (dp[i - 2] if i >= 2 else 0)) for i in range(len(dp))]
    while len(p) > 1 and p[-1] == 0:
        p.pop()
    return np.array([float(c) for c in p[::-1]])


def _factorial(n: int) -> float:
    return float(math.factorial(n)) if n <= 170 else math.inf


def polygamma(n: int, x: np.ndarray) -> np.ndarray:
    """The n-th derivative of digamma. For n >= 1: (-1)^(n+1) inf at the poles (and, as in
    PyTorch, at -inf for n >= 2; nan for n = 1), and +-0 at +inf."""
    if n == 0:
        return digamma(x)
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
    with np.errstate(all="ignore"):
        a = x.astype(np.float64)
        out = np.where(np.isnan(a), a, sign * np.inf)
        if n == 1:
            out[a == -np.inf] = np.nan
        scale = sign * _factorial(n)
        positive = a > 0
        out[positive] = scale * _hurwitz(n + 1.0, a[positive])
        negative = (a < 0) & ~_poles(a)
        xn = a[negative]
        # reflection, differentiated n times: (-1)^n psi^(n)(1-x) - psi^(n)(x) = pi^(n+1) P_n(cot pi x)
        mirrored = -sign * scale * _hurwitz(n + 1.0, 1 - xn)
        out[negative] = mirrored - np.pi ** (n + 1) * np.polyval(_cot_derivative(n), _cot_pi(xn))
        return out.astype(x.dtype, copy=False)


def _polygamma_of(n: int, x: Any) -> Any:
    """polygamma(n, x) on an array, or as a recorded op on a Tensor (create_graph)."""
    return polygamma(n, x) if _dual.is_array(x) else Polygamma.apply(x, n)


class Lgamma(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return lgamma(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _polygamma_of(0, x)


class Digamma(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return digamma(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _polygamma_of(1, x)


class Polygamma(Op):
    """polygamma(n, x) for a Python int n >= 0 (PolygammaBackward0 for every n, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return polygamma(n, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _polygamma_of(ctx.n + 1, x), None
