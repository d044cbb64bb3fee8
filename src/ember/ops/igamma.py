"""The regularized incomplete gamma functions P(a, x) = gamma(a, x) / Gamma(a) (igamma) and
Q(a, x) = 1 - P(a, x) (igammac), computed in float64 without SciPy.

For x < a + 1 the power series P = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a+1) ... (a+n))
converges quickly; beyond, Q is computed from its continued fraction
Q = x^a e^-x / Gamma(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / ...)),
evaluated by the modified Lentz method. Each of P and Q is taken directly from whichever
converges, so that neither is 1 minus a number close to 1.

The derivative in x is the gamma density x^(a-1) e^-x / Gamma(a) (with the opposite sign
for Q); PyTorch has none in a, and neither has torch.igamma here. The one place ember
differentiates P in a, Gamma.cdf and the gamma draws' gradient, builds on `tail` below
(ember/distributions/_incomplete_gamma.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import _meta
from ember.ops import _dual
from ember.ops.elementwise import Op
from ember.ops.gamma import _taylor_about_2, lgamma

_EPS = np.finfo(np.float64).eps
_TINY = 1e-300
# a series term this far below the sum changes it no more, nor do the terms after it
# (they shrink at least geometrically)
_SERIES_STOP = 1e-17
_MAX_TERMS = 100000


def _series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_n x^n / ((a+1) ... (a+n)), from 1, until the terms stop counting."""
    term = np.ones_like(x)
    total = term.copy()
    k = a.copy()
    for _ in range(_MAX_TERMS):
        k += 1
        term *= x / k
        total += term
        if not np.any(term > total * _SERIES_STOP):  # (a NaN never gets there: it stops too)
            break
    return total


def _continued_fraction(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...)) by the modified Lentz method, each
    element kept from the step that leaves it unchanged (after which d * c can wobble by
    an ulp or two, so that waiting for all steps to be 1 at once might never end)."""
    b = x + 1 - a
    c = np.full_like(x, 1 / _TINY)
    d = 1 / b
    value = d.copy()
    done = np.zeros(x.shape, dtype=bool)
    for n in range(1, _MAX_TERMS):
        an = -n * (n - a)
        b = b + 2
        d = an * d + b
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1 / d
        step = np.where(done, 1.0, d * c)
        value *= step
        done |= ~(np.abs(step - 1) > _EPS)  # NaN too: it would never settle
        if done.all():
            break
    return value


def tail(a: np.ndarray, x: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """P(a, x) where `upper` is False and Q(a, x) where it is True, for float64 arrays of one
    shape with a > 0 and x > 0 finite, each straight from its series or fraction. With
    upper = x >= a + 1 this is the smaller of the two, to full relative precision."""
    out = np.empty_like(x)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        log_power = a * np.log(x) - x
        low = ~upper
        if low.any():
            al = a[low]
            # 1 / Gamma(a + 1) as such below a = 1, where lgamma(a) is large and a + 1 is
            # nearly exact; as 1 / (a Gamma(a)) above, where rounding a + 1 would move lgamma
            small_a = al < 1
            log_gamma = np.where(small_a, lgamma(al + 1), lgamma(al))
            front = np.exp(log_power[low] - log_gamma) / np.where(small_a, 1.0, al)
            out[low] = front * _series(al, x[low])
        if upper.any():
            au = a[upper]
            out[upper] = np.exp(log_power[upper] - lgamma(au)) * _continued_fraction(au, x[upper])
    return out


def _upper_small_a(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Q(a, x) for 0 < a < 1 and 0 < x < a + 1, where P is near 1 and 1 - P would lose Q's
    digits (Q(1e-300, 0.77) is 3e-301, and 1 - P gave -2e-16). With
    gamma(a, x) = x^a sum_n (-x)^n / (n! (a + n)) and u = x^a / Gamma(1 + a):
    Q = 1 - u - u T, T = sum_(n >= 1) (-x)^n a / (n! (a + n)), and 1 - u = -expm1(a log x -
    lgamma(1 + a)); lgamma(1 + a) is lgamma(2 + a) - log1p(a), the former by its Taylor series
    about 2 below a = 1/2, where forming 1 + a would round a away."""
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        taylor = np.polyval(_taylor_about_2(), np.minimum(a, 0.5)) - np.log1p(a)
        log_u = a * np.log(x) - np.where(a < 0.5, taylor, lgamma(a + 1))
        term = np.ones_like(x)
        total = np.zeros_like(x)
        for n in range(1, 40):  # x < 2: the terms x^n / n! are below 1e-17 by n = 30
            term = term * -x / n
            total += term * a / (a + n)
        return -np.expm1(log_u) - np.exp(log_u) * total


def regularized_gamma(a: np.ndarray, x: np.ndarray, upper: bool) -> np.ndarray:
    """P(a, x), or Q(a, x) when upper, elementwise in float64 (NaN for a < 0 or x < 0)."""
    meta = _meta.elementwise(np.float64, a, x)
    if meta is not None:
        return meta
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    ok = (a >= 0) & (x >= 0) & ~((a == 0) & (x == 0))
    # the ends: P(0, x > 0) = 1, P(a, 0) = 0, P(a, inf) = 1
    out[ok & (a == 0)] = 0.0 if upper else 1.0
    out[ok & (a > 0) & (x == 0)] = 1.0 if upper else 0.0
    out[ok & (a > 0) & np.isinf(x) & ~np.isinf(a)] = 0.0 if upper else 1.0
    out[ok & np.isinf(a) & np.isfinite(x)] = 1.0 if upper else 0.0  # as PyTorch
    inner = ok & (a > 0) & (x > 0) & np.isfinite(x) & np.isfinite(a)
    if inner.any():
        ai, xi = a[inner], x[inner]
        q_side = xi >= ai + 1  # where Q is the smaller tail, and the one computed
        small = tail(ai, xi, q_side)
        value = np.where(q_side == upper, small, 1 - small)
        if upper:
            near_one = ~q_side & (ai < 1)
            value[near_one] = _upper_small_a(ai[near_one], xi[near_one])
        out[inner] = value
    return out


def gamma_density(a: Any, x: Any) -> np.ndarray:
    """x^(a-1) e^-x / Gamma(a), the Gamma(a, 1) density and the derivative of P in x, in
    float64 (with 0^0 = 1, so that a = 1 gives e^-x at x = 0)."""
    a = np.asarray(a, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_power = np.where(a == 1, 0.0, (a - 1) * np.log(x))
    return np.exp(log_power - x - lgamma(a))


def _density(a: Any, x: Any) -> Any:
    """The derivative of P in x, on arrays, and as a Tensor expression under create_graph."""
    if _dual.is_array(x):
        return gamma_density(a, x).astype(x.dtype)
    from ember._tensor import Tensor
    from ember.ops.api import arith, special

    front = np.asarray(a, np.float64) - 1
    return arith.exp(
        special.xlogy(Tensor(front.astype(x._data.dtype)), x) - x - lgamma(a).astype(x._data.dtype)
    )


class Igamma(Op):
    """P(a, x) (IgammaBackward0); Igammac below is Q with the same backward, negated."""

    upper = False

    @staticmethod
    def forward(ctx, a, x):
        # a is saved, not kept as an attribute, so that changing it in place before backward
        # raises (PyTorch's node saves it) instead of changing the gradient
        ctx.save_for_backward(a, x)
        return regularized_gamma(a, x, ctx.upper).astype(np.result_type(a, x))

    @staticmethod
    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            name = "igammac" if ctx.upper else "igamma"
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        a, x = ctx.saved_tensors
        density = _density(_dual.value(a), x)
        return None, (-grad * density if ctx.upper else grad * density)


class Igammac(Igamma):
    """Q(a, x) = 1 - P(a, x) (IgammacBackward0)."""

    upper = True
