"""Special, hyperbolic and inverse trigonometric functions, and more binary math (atan2, hypot,
fmod, logaddexp, xlogy, copysign): one Function subclass each, as in elementwise.py."""

from __future__ import annotations

import numpy as np

from ember.ops import _dual
from ember.ops.activations import _TWO_OVER_SQRT_PI, erf, erfc_tail
from ember.ops.elementwise import Floor, Op

# ---- more math functions: error function, hyperbolic and inverse trigonometric -------------

_LN2 = float(np.log(2.0))


def _erfc(x: np.ndarray) -> np.ndarray:
    """1 - erf(x), keeping its relative precision where it is tiny (large x)."""
    a = x.astype(np.float64)
    out = np.array(1 - erf(a))
    tail = a >= 2.5
    out[tail] = erfc_tail(a[tail], 40)
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
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _dual.unary("cosh", x)


class Cosh(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _dual.unary("sinh", x)


class Asin(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / _dual.unary("sqrt", 1 - x * x)


class Acos(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad / _dual.unary("sqrt", 1 - x * x)


class Atan(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x * x)


class Asinh(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / _dual.unary("sqrt", x * x + 1)


class Acosh(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / _dual.unary("sqrt", x * x - 1)


class Atanh(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 - x * x)


class Exp2(Op):
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
    """Replace nan and infinities; the gradient passes where x was finite, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        finite = np.isfinite(x)
        ctx.finite = finite.astype(x.dtype)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.finite, None, None, None


# ---- more binary math -----------------------------------------------------------------------


class Atan2(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx._edges
        g = grad / (a * a + b * b)
        return (g * b if da is not None else None), (-g * a if db is not None else None)


class Hypot(Op):
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
        ctx.save_for_backward(a, b)
        return np.fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx._edges
        gb = None
        if db is not None:
            gb = -grad * _dual.unary("trunc", a / b)
        return (grad if da is not None else None), gb


class LogAddExp(Op):
    """log(exp(a) + exp(b)). The gradient to a is a's share of the sum, exp(a - y)."""

    combine, power = np.logaddexp, "exp"

    @staticmethod
    def forward(ctx, a, b):
        y = ctx.combine(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        da, db = ctx._edges
        ga = grad * _dual.unary(ctx.power, a - y) if da is not None else None
        gb = grad * _dual.unary(ctx.power, b - y) if db is not None else None
        return ga, gb


class LogAddExp2(LogAddExp):
    """The same in base 2, log2(2^a + 2^b): a's share is 2^(a - y)."""

    combine, power = np.logaddexp2, "exp2"


class Xlogy(Op):
    """x * log(y), defined as 0 where x == 0 (unless y is nan). `log` names the logarithm and
    `pole` where it is -inf: SpecialXlog1Py (x * log1p(y), pole at y = -1) is this class with
    the two changed."""

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

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a)
        ctx.b_sign = np.copysign(1, b).astype(np.result_type(a, b), copy=False)
        return np.copysign(a, b)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * _dual.unary("sign", a) * ctx.b_sign, _dual.zeros_like(grad)  # b: zeros, as in PyTorch
