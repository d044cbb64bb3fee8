"""The regularized incomplete gamma functions P(a, x) = gamma(a, x) / Gamma(a) (igamma) and
Q(a, x) = 1 - P(a, x) (igammac), computed in float64 without SciPy.

For x < a + 1 the power series P = x^a e^-x / Gamma(a) * sum_n x^n / (a (a+1) ... (a+n))
converges quickly; beyond, Q is computed from its continued fraction
Q = x^a e^-x / Gamma(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / ...)),
evaluated by the modified Lentz method. Each of P and Q is taken directly from whichever
converges, so that neither is 1 minus a number close to 1.

The derivative in x is the gamma density x^(a-1) e^-x / Gamma(a) (with the opposite sign
for Q); PyTorch has none in a, and neither has ember.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.ops import _dual
from ember.ops.elementwise import Op
from ember.ops.gamma import lgamma

_EPS = np.finfo(np.float64).eps
_TINY = 1e-300


def _series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_n x^n / (a (a+1) ... (a+n)), until the terms stop counting."""
    term = 1 / a
    total = term.copy()
    k = a.copy()
    for _ in range(10000):
        k += 1
        term *= x / k
        total += term
        if np.all(np.abs(term) <= np.abs(total) * _EPS):
            break
    return total


def _continued_fraction(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...)) by the modified Lentz method."""
    b = x + 1 - a
    c = np.full_like(x, 1 / _TINY)
    d = 1 / b
    value = d.copy()
    for n in range(1, 10000):
        an = -n * (n - a)
        b = b + 2
        d = an * d + b
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1 / d
        step = d * c
        value *= step
        if np.all(np.abs(step - 1) <= _EPS):
            break
    return value


def regularized_gamma(a: np.ndarray, x: np.ndarray, upper: bool) -> np.ndarray:
    """P(a, x), or Q(a, x) when upper, elementwise in float64 (NaN for a < 0 or x < 0)."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    ok = (a >= 0) & (x >= 0) & ~((a == 0) & (x == 0))
    # the ends: P(0, x > 0) = 1, P(a, 0) = 0, P(a, inf) = 1
    out[ok & (a == 0)] = 0.0 if upper else 1.0
    out[ok & (a > 0) & (x == 0)] = 1.0 if upper else 0.0
    out[ok & (a > 0) & np.isinf(x) & ~np.isinf(a)] = 0.0 if upper else 1.0
    inner = ok & (a > 0) & (x > 0) & np.isfinite(x) & np.isfinite(a)
    if inner.any():
        ai, xi = a[inner], x[inner]
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            log_front = ai * np.log(xi) - xi - lgamma(ai)
            use_series = xi < ai + 1
            p = np.empty_like(ai)
            q = np.empty_like(ai)
            s = use_series
            if s.any():
                p[s] = np.exp(log_front[s]) * _series(ai[s], xi[s])
                q[s] = 1 - p[s]
            f = ~use_series
            if f.any():
                q[f] = np.exp(log_front[f]) * _continued_fraction(ai[f], xi[f])
                p[f] = 1 - q[f]
        out[inner] = q if upper else p
    return out


def _density(a: Any, x: Any) -> Any:
    """x^(a-1) e^-x / Gamma(a), the derivative of P in x (a Tensor expression under create_graph)."""
    from ember.ops.api import arith, special

    front = np.asarray(a, np.float64) - 1
    if _dual.is_array(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            log_power = np.where(front == 0, 0.0, front * np.log(x))
        return np.exp(log_power - x - lgamma(np.asarray(a, np.float64))).astype(x.dtype)
    from ember._tensor import Tensor

    return arith.exp(
        special.xlogy(Tensor(front.astype(x._data.dtype)), x) - x - lgamma(a).astype(x._data.dtype)
    )


class Igamma(Op):
    """P(a, x) (IgammaBackward0); Igammac below is Q with the same backward, negated."""

    upper = False

    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(x)
        ctx.a = a
        return regularized_gamma(a, x, ctx.upper).astype(np.result_type(a, x))

    @staticmethod
    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            name = "igammac" if ctx.upper else "igamma"
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        (x,) = ctx.saved_tensors
        density = _density(ctx.a, x)
        return None, (-grad * density if ctx.upper else grad * density)


class Igammac(Igamma):
    """Q(a, x) = 1 - P(a, x) (IgammacBackward0)."""

    upper = True
