"""Special, hyperbolic and inverse trigonometric functions, and more binary math (atan2, hypot,
fmod, logaddexp, xlogy, copysign): one Function subclass each, as in elementwise.py."""

from __future__ import annotations

import functools

import numpy as np

from ember import _meta
from ember.autograd.saved import field, saved_input, saved_output
from ember.ops import _dual
from ember.ops.activations import _TWO_OVER_SQRT_PI, erf, laplace_denominator
from ember.ops.elementwise import Floor, Op

# ---- more math functions: error function, hyperbolic and inverse trigonometric -------------

_LN2 = float(np.log(2.0))


def _exp_minus_square(a: np.ndarray) -> np.ndarray:
    """exp(-a^2) for float64 a, without the error of rounding a^2: a relative error e in a^2
    is one of a^2 * e in exp(-a^2), 700 ulps at a = 26. a * a is split exactly into
    hi + lo (Veltkamp's halves of a, Dekker's product), and exp(-lo) is 1 - lo."""
    hi = a * a
    c = 134217729.0 * a  # 2^27 + 1: splits a into halves of 26 bits, whose products are exact
    a_hi = c - (c - a)
    a_lo = a - a_hi
    lo = ((a_hi * a_hi - hi) + 2 * a_hi * a_lo) + a_lo * a_lo
    return np.exp(-hi) * (1 - lo)


def _erfc_fraction(a: np.ndarray, terms: int) -> np.ndarray:
    """erfc(a) for float64 a > 0 by Laplace's continued fraction, with exp(-a^2) to full
    precision. It converges slowly near 0: 50 terms are enough from a = 3 on, about 1000 at
    a = 0.5."""
    return _exp_minus_square(a) / np.sqrt(np.pi) / laplace_denominator(a, terms)


# erfc on [0.5, 3), where 1 - erf(x) cancels, is a Taylor series around the nearest anchor
# x0 = k/32 (|x - x0| <= 1/64), whose derivatives are those of exp(-x^2): Hermite
# polynomials. The anchors' values come from the continued fraction with many terms, once.
_ANCHOR_STEP = 1 / 32
_MIDDLE_LOW, _MIDDLE_HIGH = 0.5, 3.0


@functools.cache
def _erfc_anchors() -> tuple[np.ndarray, np.ndarray]:
    """(erfc(x0), 2/sqrt(pi) exp(-x0^2)) at the anchors x0 = 0.5, 0.5 + 1/32, ..., 3."""
    x0 = np.arange(_MIDDLE_LOW, _MIDDLE_HIGH + _ANCHOR_STEP, _ANCHOR_STEP)  # x0^2 is exact
    return _erfc_fraction(x0, 2000), _TWO_OVER_SQRT_PI * np.exp(-x0 * x0)


def _erfc_middle(a: np.ndarray) -> np.ndarray:
    """erfc(a) for float64 a in [0.5, 3): with h = a - x0,
    erfc(x0 + h) = erfc(x0) - 2/sqrt(pi) exp(-x0^2) h sum_m H_m(x0) (-h)^m / (m + 1)!,
    as d^n/dx^n exp(-x^2) = (-1)^n H_n(x) exp(-x^2). The terms fall by about 2 x0 |h| / m
    (< 0.1 / m), so 12 of them reach the last bit; the sum changes erfc(x0) by under 10 %."""
    values, slopes = _erfc_anchors()
    k = np.rint((a - _MIDDLE_LOW) / _ANCHOR_STEP).astype(np.intp)
    x0 = _MIDDLE_LOW + k * _ANCHOR_STEP
    h = a - x0  # exact: a and x0 are within 1/64 of each other
    h_prev, h_m = np.ones_like(a), 2 * x0  # H_0, H_1
    coef = -h / 2  # (-h)^m / (m + 1)! for m = 1
    total = 1.0 + h_m * coef
    for m in range(1, 12):
        h_prev, h_m = h_m, 2 * x0 * h_m - 2 * m * h_prev  # H_{m+1}
        coef = coef * -h / (m + 2)
        total = total + h_m * coef
    return values[k] - slopes[k] * h * total


def _erfc(x: np.ndarray) -> np.ndarray:
    """erfc(x) to its last bits (relative error in float64 measured in docs/design.md):
    1 - erf(x) where erfc(x) > 0.4 (x < 0.5, so no cancellation), a Taylor series around
    tabulated anchors on [0.5, 3), Laplace's continued fraction on [3, 28), 0 beyond."""
    a = x.astype(np.float64)
    out = np.array(1 - erf(a))
    middle = (a >= _MIDDLE_LOW) & (a < _MIDDLE_HIGH)
    out[middle] = _erfc_middle(a[middle])
    tail = (a >= _MIDDLE_HIGH) & (a < 28.0)
    with np.errstate(under="ignore"):
        out[tail] = _erfc_fraction(a[tail], 50)
    out[a >= 28.0] = 0.0  # below the smallest float64 from 27.3 on (and a * a overflows later)
    return out.astype(x.dtype, copy=False)


def _erfinv(x: np.ndarray) -> np.ndarray:
    """The inverse of erf on (-1, 1): Winitzki's closed-form guess (relative error ~1e-3),
    then Halley steps on erfc(|y|) = 1 - |x|, which keep full precision as |x| nears 1."""
    a = np.abs(x.astype(np.float64))
    inside = a < 1
    t = a[inside]
    ln = np.log1p(-t * t)
    k = 2 / (np.pi * 0.147) + ln / 2
    y = np.sqrt(np.sqrt(k * k - ln / 0.147) - k)
    target = 1 - t  # exact for t >= 0.5
    for _ in range(4):
        slope = _TWO_OVER_SQRT_PI * np.exp(-y * y)
        small = y < 0.5  # near 0, the residual of erf is the precise one
        r = np.where(small, erf(y) - t, target - _erfc(y))
        step = np.divide(r, slope, out=np.zeros_like(r), where=slope > 0)
        y = y - step / (1 + y * step)  # Halley: f''/f' = -2y
    out = np.where(np.isnan(a), a, np.where(a == 1, np.inf, np.nan))
    out[inside] = y
    return np.copysign(out, x).astype(x.dtype, copy=False)


class Erfc(Op):
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erfc(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * -_TWO_OVER_SQRT_PI * _dual.unary("exp", -(x * x))


class Erfinv(Op):
    @staticmethod
    def forward(ctx, x):
        y = _erfinv(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # the inverse function's derivative: 1 / erf'(y)
        return grad / _TWO_OVER_SQRT_PI * _dual.unary("exp", y * y)


class Sinh(Op):
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _dual.unary("cosh", x)


class Cosh(Op):
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _dual.unary("sinh", x)


class Asin(Op):
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / _dual.unary("sqrt", 1 - x * x)


class Acos(Op):
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad / _dual.unary("sqrt", 1 - x * x)


class Atan(Op):
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x * x)


class Asinh(Op):
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / _dual.unary("sqrt", x * x + 1)


class Acosh(Op):
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if _dual.value(x).dtype.kind == "c":  # the principal branch: sqrt(x² - 1) is another one
            return grad / (_dual.unary("sqrt", x - 1) * _dual.unary("sqrt", x + 1))
        return grad / _dual.unary("sqrt", x * x - 1)


class Atanh(Op):
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 - x * x)


class Exp2(Op):
    saved_attributes = {"result": saved_output()}

    @staticmethod
    def forward(ctx, x):
        y = np.exp2(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * _LN2


class Trunc(Floor):
    @staticmethod
    def forward(ctx, x):
        return np.trunc(x)


class Frac(Op):
    """x - trunc(x): the gradient passes unchanged (trunc's is zero)."""

    @staticmethod
    def forward(ctx, x):
        return x - np.trunc(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class NanToNum(Op):
    """Replace nan and infinities; the gradient passes where x was finite, as in PyTorch.
    The mask stands for the input PyTorch's node saves: freed after backward."""

    _intermediates = ("finite",)

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        finite = np.isfinite(x)
        ctx.finite = finite.astype(x.dtype)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.finite, None, None, None


# ---- more binary math -----------------------------------------------------------------------


class Heaviside(Op):
    """0 where x < 0, 1 where x > 0, values where x == 0. No derivative, as in PyTorch, whose
    node (`NotImplemented`) records the op so that a backward through it raises rather than
    treating the step as a constant."""

    @staticmethod
    def forward(ctx, x, values):
        return _meta.asarray(np.heaviside(x, values), x.dtype)  # a meta input's result stays meta

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::heaviside is not implemented")

    def name(self) -> str:
        return "torch::autograd::NotImplemented"


class Atan2(Op):
    saved_attributes = {"self": saved_input(0), "other": saved_input(1)}

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx._edges
        # where a² + b² is 0 (the origin, or both underflowing) the gradient is 0, as PyTorch
        # defines it, not 0 / 0 = NaN
        r2 = a * a + b * b
        with np.errstate(divide="ignore", invalid="ignore"):
            g = _dual.keep(grad / r2, _dual.value(r2) != 0)
        return (g * b if da is not None else None), (-g * a if db is not None else None)


class Hypot(Op):
    saved_attributes = {"self": saved_input(0), "other": saved_input(1), "result": saved_output()}

    @staticmethod
    def forward(ctx, a, b):
        y = np.hypot(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        da, db = ctx._edges
        g = grad / y
        return (g * a if da is not None else None), (g * b if db is not None else None)


class Fmod(Op):
    """a - trunc(a / b) * b: the remainder with the sign of a (C's fmod)."""

    @staticmethod
    def forward(ctx, a, b):
        if (ctx._edges or (None, None))[1] is not None:  # only b's gradient reads them, as in
            ctx.save_for_backward(a, b)  # PyTorch: else changing a in place after is fine
        return np.fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        da, db = ctx._edges
        gb = None
        if db is not None:
            a, b = ctx.saved_tensors
            gb = -grad * _dual.unary("trunc", a / b)
        return (grad if da is not None else None), gb


class LogAddExp(Op):
    """log(exp(a) + exp(b)). The gradient to a is a's share of the sum, exp(a - y), computed
    as PyTorch does, 1 / (1 + exp(b - a)): that is 1, not exp(inf - inf) = NaN, where a is
    inf and b finite."""

    combine, power = np.logaddexp, "exp"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.combine(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx._edges
        with np.errstate(over="ignore"):
            ga = grad / (1 + _dual.unary(ctx.power, b - a)) if da is not None else None
            gb = grad / (1 + _dual.unary(ctx.power, a - b)) if db is not None else None
        return ga, gb


class LogAddExp2(LogAddExp):
    """The same in base 2, log2(2^a + 2^b): a's share is 2^(a - y)."""

    combine, power = np.logaddexp2, "exp2"


class Xlogy(Op):
    """x * log(y), defined as 0 where x == 0 (unless y is nan). `log` names the logarithm and
    `pole` where it is -inf: SpecialXlog1Py (x * log1p(y), pole at y = -1) is this class with
    the two changed."""

    saved_attributes = {"self": saved_input(0), "other": saved_input(1)}

    log, pole = "log", 0.0

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * getattr(np, ctx.log)(y)
        return np.where((x == 0) & ~np.isnan(y), 0, out).astype(out.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dx, dy = ctx._edges
        gx = gy = None
        if dx is not None:
            # log(y), even where x == 0, but 0 where x == 0 and y is at or past the pole (as PyTorch)
            xv, yv = _dual.value(x), _dual.value(y)
            with np.errstate(divide="ignore", invalid="ignore"):
                gx = grad * _dual.where((xv == 0) & (yv <= ctx.pole), 0.0, _dual.unary(ctx.log, y))
        if dy is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                gy = grad * x / (y - ctx.pole if ctx.pole else y)
        return gx, gy


class Copysign(Op):
    """|a| with the sign of b; the gradient to a is sign(a) times b's sign (of b's sign bit)."""

    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a)
        ctx.b_sign = np.copysign(1, b).astype(np.result_type(a, b), copy=False)
        return np.copysign(a, b)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * _dual.unary("sign", a) * ctx.b_sign, _dual.zeros_like(grad)  # b: zeros, as in PyTorch


class Nextafter(Op):
    """The next float after a towards b. As in PyTorch, a's gradient passes through (the step
    is one ulp) and b's is zeros."""

    @staticmethod
    def forward(ctx, a, b):
        if a.dtype.itemsize == 2:  # float16, bfloat16: see _nextafter_by_bits
            return _nextafter_by_bits(a, b)
        return np.nextafter(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, _dual.zeros_like(grad)


def _nextafter_by_bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """nextafter on a 16-bit float type by its bits: away from zero is the next integer up in
    the magnitude bits, towards zero the one below; from zero, the smallest subnormal with
    b's sign; nan where either is nan, b where a == b (as C's nextafter, and PyTorch; NumPy's
    own float16 loop gives a there: +0 for nextafter(0, -0)). One rule for both 16-bit types,
    tested against PyTorch bit for bit."""
    a, b = np.broadcast_arrays(a, b)
    bits = a.view(np.uint16).astype(np.int32)
    away = (b > a) == (a > 0)  # for a != 0: the step grows the magnitude
    stepped = np.where(away, bits + 1, bits - 1)
    from_zero = np.where(np.signbit(b), 0x8001, 0x0001)
    out = np.where(a == 0, from_zero, stepped).astype(np.uint16).view(a.dtype)
    out = np.where(a == b, b, out)
    return np.where(np.isnan(a) | np.isnan(b), np.array(np.nan, a.dtype), out)


# ---- sinc and logit: ops, for their gradients near 0 and at the ends ---------------------


class Sinc(Op):
    """sin(pi x) / (pi x), 1 at 0. Its derivative, pi (a cos a - sin a) / a^2 with a = pi x,
    cancels for small a (PyTorch's is 0 at x = 1e-9, not -3.3e-9): it is -pi j1(a), the
    spherical Bessel function, which ops/bessel.py computes by its series there."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            a = np.pi * x
            out = np.sin(a) / a
        return np.where(x == 0, 1, out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        from ember.ops import bessel

        (x,) = ctx.saved_tensors
        a = x * np.pi
        j1 = bessel.spherical_j(a, 1) if _dual.is_array(a) else bessel.SphericalBesselJ1.apply(a)
        return grad * j1 * -np.pi


class Logit(Op):
    """log(p / (1 - p)), p clamped to [eps, 1 - eps] first when eps is given. The derivative
    is 1 / (p (1 - p)): inf at 0 and 1 and nan outside [0, 1] without eps (or with a
    negative one); 0 outside [eps, 1 - eps] with it (the clamp's), as in PyTorch."""

    saved_attributes = {"self": saved_input(0), "eps": field("eps")}

    @staticmethod
    def forward(ctx, x, eps):
        ctx.save_for_backward(x)
        ctx.eps = eps  # (kept as given: PyTorch's node shows a negative eps too)
        if eps is None or eps < 0:  # as PyTorch, a negative eps is none: no clamp
            z = x
        else:  # PyTorch's clamp, x < lo ? lo : x > hi ? hi : x (np.clip gives hi for eps > 1/2)
            lo, hi = x.dtype.type(eps), x.dtype.type(1 - eps)
            z = np.where(x < lo, lo, np.where(x > hi, hi, x))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log(z / (1 - z)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        v = _dual.value(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            g = grad / (x * (1 - x))
            if ctx.eps is None or ctx.eps < 0:
                return _dual.where((v < 0) | (v > 1), np.nan, g), None
            return _dual.where((v < ctx.eps) | (v > 1 - ctx.eps), 0.0, g), None
