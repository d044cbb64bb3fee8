"""The classical orthogonal polynomials of torch.special: Chebyshev's T, U, V, W (and the
shifted ones, of 2x - 1), Hermite's H and He, Laguerre's L and Legendre's P, of degree n.

PyTorch evaluates them element by element in the input's dtype; ember follows its rules so
that the same numbers come out, overflow included (float32 is computed in float32):

* n is truncated to an integer (3.7 is 3, -0.5 is 0); a negative degree gives 0, and so do
  nan, +-inf and degrees beyond int64 (PyTorch's conversion makes them negative);
* the values at the ends of the interval (x = +-1; for the shifted ones 2x - 1 = +-1) are
  the closed forms; Laguerre's is 1 at x = 0;
* for |x| < 1 and n above a small threshold, the Chebyshev polynomials are their
  trigonometric forms, T_n = cos(n t), U_n = sin((n+1) t) / sin t,
  V_n = cos((n+1/2) t) / cos(t/2), W_n = sin((n+1/2) t) / sin(t/2) with t = acos(x);
* otherwise the three-term recurrence runs up to n, and stops early where it has become nan
  (so a huge n past overflow costs nothing; below overflow, as for Legendre's P on [-1, 1],
  it costs n vectorised steps, a few microseconds each);
* Hermite's polynomials are nan above degree 128 in float32 and 512 in float64, PyTorch's
  limits (beyond them every value overflows).

The recurrence is vectorised over the elements still running, whatever their degrees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ember import _meta
from ember.ops import _dual
from ember.ops.elementwise import Op

# the closed forms at the ends, for the four kinds: (value at x = 1, value at x = -1), as
# functions of n (integer arrays)
_ONE = {
    "t": (lambda n: np.ones(n.shape), lambda n: np.where(n % 2 == 0, 1.0, -1.0)),
    "u": (lambda n: n + 1.0, lambda n: np.where(n % 2 == 0, n + 1.0, -(n + 1.0))),
    "v": (lambda n: np.ones(n.shape), lambda n: np.where(n % 2 == 0, 2 * n + 1.0, -(2 * n + 1.0))),
    "w": (lambda n: 2 * n + 1.0, lambda n: np.where(n % 2 == 0, 1.0, -1.0)),
}
# the degree above which |x| < 1 uses the trigonometric form, unshifted and shifted
_TRIG_FROM = {"t": (6, 6), "u": (8, 6), "v": (8, 6), "w": (8, 4)}


def integer_degree(n: np.ndarray) -> np.ndarray:
    """n truncated toward zero as int64; -1 where that conversion is undefined (nan, inf,
    beyond int64), which PyTorch's conversion also makes negative."""
    n = np.asarray(n)
    if n.dtype.kind in "iub":
        return n.astype(np.int64)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(n) & (np.abs(n) < 2.0**63)
        return np.where(ok, np.trunc(np.where(ok, n, 0)), -1).astype(np.int64)


def _recurrence(
    x: np.ndarray, n: np.ndarray, first: np.ndarray, step: Callable[..., np.ndarray], nan_stop: bool = True
) -> np.ndarray:
    """The value at degree n >= 2 of the recurrence q_k = step(k, x, q_(k-1), q_(k-2)),
    q_0 = 1, q_1 = first, for each element; an element stops once q is nan (PyTorch's loop
    does too), and the arrays shrink to the elements still running."""
    out = np.empty_like(x)
    index = np.arange(x.size)
    p, q = np.ones_like(x), first
    k = 2
    while index.size:
        r = step(k, x, q, p)
        p, q = q, r
        done = n <= k
        if nan_stop:
            done |= np.isnan(q)
        if done.any():
            out[index[done]] = q[done]
            keep = ~done
            index, x, n, p, q = index[keep], x[keep], n[keep], p[keep], q[keep]
        k += 1
    return out


def _chebyshev_step(two_x_of: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    def step(k: int, x: np.ndarray, q: np.ndarray, p: np.ndarray) -> np.ndarray:
        return two_x_of(x) * q - p

    return step


_HYPERBOLIC_FROM = 64


def _hyperbolic(kind: str, y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The Chebyshev polynomials for |y| > 1 and n > 64, in closed form rather than by n
    steps of the recurrence (which near y = 1 runs long before it overflows): with
    a = acosh|y|, T_n = cosh(na), U_n = sinh((n+1)a)/sinh(a), V_n = cosh((n+1/2)a)/cosh(a/2),
    W_n = sinh((n+1/2)a)/sinh(a/2), and for y < -1 T_n(y) = (-1)^n T_n(-y), the same for U,
    and V_n(y) = (-1)^n W_n(-y). Where the value overflows, PyTorch's recurrence has reached
    inf - inf: nan (unless the overflow came in its last two steps)."""
    dt = y.dtype
    a = np.arccosh(np.abs(y).astype(np.float64))
    m = n.astype(np.float64)
    kind_here = np.full(y.shape, kind)
    if kind in "vw":  # V and W trade places on the negative side
        kind_here = np.where(y < 0, "w" if kind == "v" else "v", kind)
    with np.errstate(over="ignore", invalid="ignore"):
        value = np.select(
            [kind_here == "t", kind_here == "u", kind_here == "v"],
            [np.cosh(m * a), np.sinh((m + 1) * a) / np.sinh(a), np.cosh((m + 0.5) * a) / np.cosh(a / 2)],
            np.sinh((m + 0.5) * a) / np.sinh(a / 2),
        )
        value = np.where((y < 0) & (n % 2 == 1), -value, value).astype(dt)
    return np.where(np.isinf(value), np.nan, value)


def chebyshev(kind: str, shifted: bool, x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The Chebyshev polynomial of the kind ('t', 'u', 'v', 'w') and integer degree n at x
    (arrays of one shape; x's dtype is the result's)."""
    dt = x.dtype
    one = dt.type(1)
    y = x + x - one if shifted else x  # the shifted polynomials are those of 2x - 1
    out = np.zeros_like(y)
    live = n >= 0
    at_one, at_minus_one = live & (y == 1), live & (y == -1)
    out[at_one] = _ONE[kind][0](n[at_one])
    out[at_minus_one] = _ONE[kind][1](n[at_minus_one])
    live &= ~(at_one | at_minus_one)

    trig = live & (n > _TRIG_FROM[kind][shifted]) & (np.abs(y) < 1)
    yt, nt = y[trig], n[trig].astype(dt)
    t = np.arccos(yt)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "t":
            value = np.cos(nt * t)
        elif kind == "u":
            s = np.sin(t)
            value = np.where(s != 0, np.sin((nt + one) * t) / s, (nt + one) * np.cos((nt + one) * t) / yt)
        elif kind == "v":
            ends = np.where(n[trig] % 2 == 0, 2 * nt + one, -(2 * nt + one))
            value = np.where(np.sin(t / 2) != 1, np.cos((nt + dt.type(0.5)) * t) / np.cos(t / 2), ends)
        else:  # where t/2 rounds to 0; PyTorch's shifted W gives +-1 there, not W(1) = 2n + 1
            ends = np.where(yt > 0, 2 * nt + one, np.where(n[trig] % 2 == 0, one, -one))
            value = np.where(np.cos(t / 2) != 1, np.sin((nt + dt.type(0.5)) * t) / np.sin(t / 2), ends)
    out[trig] = value
    live &= ~trig

    far = live & (n > _HYPERBOLIC_FROM) & (np.abs(y) > 1)
    out[far] = _hyperbolic(kind, y[far], n[far])
    live &= ~far

    first = {"t": y, "u": y + y, "v": y + y - one, "w": y + y + one}[kind]
    out[live & (n == 0)] = 1
    degree_one = live & (n == 1)
    out[degree_one] = first[degree_one]
    rest = live & (n >= 2)
    with np.errstate(over="ignore", invalid="ignore"):
        out[rest] = _recurrence(y[rest], n[rest], first[rest], _chebyshev_step(lambda v: v + v))
    return out


def _hermite_limit(dt: np.dtype) -> int:
    return 128 if dt == np.float32 else 512


def hermite(probabilists: bool, x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Hermite's H_n (physicists', H_(k+1) = 2x H_k - 2k H_(k-1)) or He_n (probabilists',
    He_(k+1) = x He_k - k He_(k-1)) at x; nan above PyTorch's degree limits."""
    dt = x.dtype
    out = np.zeros_like(x)
    out[n == 0] = 1
    first = x if probabilists else x + x
    out[n == 1] = first[n == 1]
    out[n > _hermite_limit(dt)] = np.nan
    rest = (n >= 2) & (n <= _hermite_limit(dt))
    if probabilists:

        def step(k: int, x: np.ndarray, q: np.ndarray, p: np.ndarray) -> np.ndarray:
            return x * q - dt.type(k - 1) * p

    else:

        def step(k: int, x: np.ndarray, q: np.ndarray, p: np.ndarray) -> np.ndarray:
            return (x + x) * q - dt.type(2 * (k - 1)) * p

    with np.errstate(over="ignore", invalid="ignore"):
        out[rest] = _recurrence(x[rest], n[rest], first[rest], step, nan_stop=False)
    return out


def laguerre(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Laguerre's L_n at x: (k + 1) L_(k+1) = (2k + 1 - x) L_k - k L_(k-1); 1 at x = 0."""
    dt = x.dtype
    one = dt.type(1)
    out = np.zeros_like(x)
    out[(n >= 0) & ((x == 0) | (n == 0))] = 1
    first = one - x
    degree_one = (n == 1) & (x != 0)
    out[degree_one] = first[degree_one]

    def step(k: int, x: np.ndarray, q: np.ndarray, p: np.ndarray) -> np.ndarray:
        j = dt.type(k - 1)
        return ((j + j + (one - x)) * q - j * p) / dt.type(k)

    rest = (n >= 2) & (x != 0)
    with np.errstate(over="ignore", invalid="ignore"):
        out[rest] = _recurrence(x[rest], n[rest], first[rest], step)
    return out


def legendre(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Legendre's P_n at x: (k + 1) P_(k+1) = (2k + 1) x P_k - k P_(k-1)."""
    dt = x.dtype
    out = np.zeros_like(x)
    live = n >= 0
    ends = live & (np.abs(x) == 1)
    out[ends] = np.where((x[ends] > 0) | (n[ends] % 2 == 0), 1.0, -1.0)
    live &= ~ends
    out[live & (n == 0)] = 1
    degree_one = live & (n == 1)
    out[degree_one] = x[degree_one]

    def step(k: int, x: np.ndarray, q: np.ndarray, p: np.ndarray) -> np.ndarray:
        j = dt.type(k - 1)
        return ((j + j + dt.type(1)) * x * q - j * p) / dt.type(k)

    rest = live & (n >= 2)
    with np.errstate(over="ignore", invalid="ignore"):
        out[rest] = _recurrence(x[rest], n[rest], x[rest], step)
    return out


_FAMILIES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "chebyshev_polynomial_t": lambda x, n: chebyshev("t", False, x, n),
    "chebyshev_polynomial_u": lambda x, n: chebyshev("u", False, x, n),
    "chebyshev_polynomial_v": lambda x, n: chebyshev("v", False, x, n),
    "chebyshev_polynomial_w": lambda x, n: chebyshev("w", False, x, n),
    "shifted_chebyshev_polynomial_t": lambda x, n: chebyshev("t", True, x, n),
    "shifted_chebyshev_polynomial_u": lambda x, n: chebyshev("u", True, x, n),
    "shifted_chebyshev_polynomial_v": lambda x, n: chebyshev("v", True, x, n),
    "shifted_chebyshev_polynomial_w": lambda x, n: chebyshev("w", True, x, n),
    "hermite_polynomial_h": lambda x, n: hermite(False, x, n),
    "hermite_polynomial_he": lambda x, n: hermite(True, x, n),
    "laguerre_polynomial_l": laguerre,
    "legendre_polynomial_p": legendre,
}


def polynomial(name: str, x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The polynomial `name` (torch.special's name) of degree n at x, broadcast; x and n
    have the result's dtype."""
    meta = _meta.elementwise(x.dtype, x, n)
    if meta is not None:
        return meta
    x, n = np.broadcast_arrays(x, n)
    flat = np.array(x, copy=True).reshape(-1)
    degree = integer_degree(n).reshape(-1)
    return _FAMILIES[name](flat, degree).reshape(x.shape)


class Polynomial(Op):
    """A polynomial of x and the degree n, without a gradient (PyTorch defines none); those
    of Hermite and Chebyshev's T, below, have one in x."""

    family = ""

    @staticmethod
    def forward(ctx, x, n):
        return polynomial(ctx.family, x, n)

    @staticmethod
    def backward(ctx, grad):  # reached only by a second derivative of T, through U
        raise NotImplementedError(f"the derivative for '{ctx.family}' is not implemented.")


class _Differentiable(Op):
    """A polynomial with a gradient in x of the form d/dx P_n = factor * n * Q_(n-1) (0 for
    n <= 0), where Q is the family named `lower`: P itself for Hermite, U for Chebyshev's T.
    No gradient to the degree."""

    family = lower = ""
    factor = 1

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x, n)
        return polynomial(ctx.family, x, n)

    @staticmethod
    def backward(ctx, grad):
        x, n = ctx.saved_tensors
        nv = _dual.value(n)
        degree = integer_degree(nv).astype(nv.dtype)
        below = np.maximum(degree - 1, -1).astype(nv.dtype)
        lower = polynomial(ctx.lower, x, below) if _dual.is_array(x) else op_for(ctx.lower).apply(x, below)
        return grad * (ctx.factor * np.maximum(degree, 0)) * lower, None


class HermiteH(_Differentiable):
    """H_n(x); dH_n/dx = 2n H_(n-1)."""

    family = lower = "hermite_polynomial_h"
    factor = 2


class HermiteHe(_Differentiable):
    """He_n(x); dHe_n/dx = n He_(n-1)."""

    family = lower = "hermite_polynomial_he"


class ChebyshevT(_Differentiable):
    """T_n(x); dT_n/dx = n U_(n-1)(x), and for the shifted T*_n(x) = T_n(2x - 1)
    2n U*_(n-1)(x). U has no derivative (as in PyTorch), so neither has this one: a second
    derivative raises."""

    family = "chebyshev_polynomial_t"
    lower = "chebyshev_polynomial_u"


class ShiftedChebyshevT(ChebyshevT):
    family = "shifted_chebyshev_polynomial_t"
    lower = "shifted_chebyshev_polynomial_u"
    factor = 2


_OPS: dict[str, Any] = {
    "hermite_polynomial_h": HermiteH,
    "hermite_polynomial_he": HermiteHe,
    "chebyshev_polynomial_t": ChebyshevT,
    "shifted_chebyshev_polynomial_t": ShiftedChebyshevT,
}


def op_for(name: str) -> Any:
    """The Function that computes the polynomial `name`."""
    if name not in _OPS:
        _OPS[name] = type(name, (Polynomial,), {"family": name})
    return _OPS[name]
