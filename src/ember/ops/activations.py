"""Activation functions and the affine map of a Linear layer: the ops an MLP is made of.

relu, sigmoid and tanh live in `ember.ops.elementwise`; these are the ones
`ember.nn.functional` adds. Each backward is the derivative written under its forward;
the formulas use operators and `_dual` helpers so that they also run on Tensors when the
engine differentiates a backward again (create_graph=True).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember.autograd.function import edge_meta
from ember.autograd.saved import constant, field, saved_input
from ember.ops import _dual
from ember.ops.elementwise import Op, sigmoid_array

_SQRT_HALF = math.sqrt(0.5)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_TANH_GELU_K = math.sqrt(2 / math.pi)


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)) without overflow: exp only ever sees -|x| (arrays or Tensors)."""
    if not _dual.is_array(x):
        return x.sigmoid()
    return sigmoid_array(x)


def softplus(x: Any) -> Any:
    """log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): finite for any x (arrays or Tensors)."""
    if _dual.is_array(x):
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    # one node whose derivative is sigmoid: composed of relu and abs, its slope at 0 would be
    # 0 + 0, not 1/2. Past 40, log1p(exp(x)) rounds to x in float32 and float64 alike.
    return Softplus.apply(x, 1.0, 40.0)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, accurate to the precision of x's dtype (NumPy has none).

    Near zero, the series erf(x) = 2/sqrt(pi) exp(-x^2) sum_n x (2x^2)^n / (1*3*...*(2n+1)),
    whose terms are all positive (no cancellation); in the tails, Laplace's continued
    fraction for erfc. Past |x| = 6, erf is +-1 to double precision.

    The series takes the same number of terms for every element (`_SERIES_TERMS`, enough
    for the largest |x| it serves), so that an element's result depends on its value only.
    (It used to stop when the slowest element of the array had converged, which gave an
    element other last bits in another batch.)
    """
    a = np.abs(x).astype(np.float64)
    out = np.where(np.isnan(a), a, 1.0)  # nan stays nan; the rest is overwritten below, or is +-1
    near = a < _SERIES_TOP
    xs = a[near]
    term, total, two_x2 = xs.copy(), xs.copy(), 2 * xs * xs
    for n in range(1, _SERIES_TERMS[x.dtype == np.float64] + 1):
        term *= two_x2
        term *= 1 / (2 * n + 1)
        total += term
    out[near] = _TWO_OVER_SQRT_PI * np.exp(-xs * xs) * total
    tail = (a >= _SERIES_TOP) & (a < 6.0)
    out[tail] = 1 - erfc_tail(a[tail], 30 if x.dtype == np.float64 else 15)
    return np.copysign(out, x).astype(x.dtype, copy=False)


def _series_terms(top: float, tolerance: float) -> int:
    """How many terms after the first make the series' remainder smaller than `tolerance`
    times its sum for every x in [0, top). Term n over the first is (2x^2)^n / (3*5*...*(2n+1)),
    largest at x = top; once the next ratio q = 2x^2 / (2n+3) is below 1, the remainder is at
    most term n times q / (1 - q)."""
    ratio, n = 1.0, 0
    while True:
        n += 1
        ratio *= 2 * top * top / (2 * n + 1)
        q = 2 * top * top / (2 * n + 3)
        if q < 1 and ratio * q / (1 - q) < tolerance:
            return n


_SERIES_TOP = 2.5  # the series below, the continued fraction above
# the series' terms for a float32 or smaller x (a remainder below a 64th of float32's
# precision) and for a float64 one (a quarter of float64's): 29 and 39
_SERIES_TERMS = (
    _series_terms(_SERIES_TOP, np.finfo(np.float32).eps / 64),
    _series_terms(_SERIES_TOP, np.finfo(np.float64).eps / 4),
)


def laplace_denominator(a: np.ndarray, terms: int) -> np.ndarray:
    """a + (1/2)/(a + 1/(a + (3/2)/(a + ...))) to `terms` fractions, for float64 a > 0: the
    denominator of Laplace's continued fraction erfc(a) = exp(-a^2)/sqrt(pi) / (...), summed
    from the inside out (all terms positive, so no cancellation)."""
    frac = np.zeros_like(a)
    for k in range(terms, 0, -1):
        frac = (k / 2) / (a + frac)
    return a + frac


def erfc_tail(a: np.ndarray, terms: int) -> np.ndarray:
    """erfc(a) = 1 - erf(a) for float64 a >= 2.5, by Laplace's continued fraction."""
    return np.exp(-a * a) / math.sqrt(math.pi) / laplace_denominator(a, terms)


class Erf(Op):
    """erf as an op, so that GELU's derivative can itself be differentiated."""

    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _TWO_OVER_SQRT_PI * _dual.unary("exp", -(x * x))


def _normal_cdf(x: Any) -> Any:
    if _dual.is_array(x):
        return 0.5 * (1 + erf(x * _SQRT_HALF))
    return 0.5 * (1 + Erf.apply(x * _SQRT_HALF))


# ---- activations ----------------------------------------------------------------------


def _gelu_approximate(tanh: bool) -> str:
    """gelu's `approximate` argument, from the flag its node keeps."""
    return "tanh" if tanh else "none"


def _linear_sizes(node: Any) -> tuple:
    """(input's shape, weight's shape) of a Linear node, from its edges or its output."""
    e0, e1 = node._edges[0], node._edges[1]
    out = node._shape
    if e0 is not None:
        x = edge_meta(e0)[0]
        w = edge_meta(e1)[0] if e1 is not None else (out[-1], x[-1])
    else:
        w = edge_meta(e1)[0]
        x = out[:-1] + (w[1],)
    return tuple(x), tuple(w)


class LeakyRelu(Op):
    saved_attributes = {"self": saved_input(0), "negative_slope": field("slope")}

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xv = _dual.value(x)
        slope = np.where(xv > 0, 1, ctx.slope).astype(xv.dtype, copy=False)
        return _dual.keep(grad, slope, x), None  # x: as PyTorch's node, see _dual.keep


class Elu(Op):
    """scale * x for x > 0, scale * alpha * (exp(input_scale * x) - 1) otherwise.

    ELU has scale = input_scale = 1; SELU and CELU are the same function with other
    constants, as in PyTorch, whose one elu kernel serves all three.
    """

    saved_attributes = {
        "self": saved_input(0),
        "alpha": field("alpha"),
        "scale": field("scale"),
        "input_scale": field("input_scale"),
    }

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.save_for_backward(x)
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        # min(x, 0): exp of the positive entries is never used, so never let it overflow
        negative = (scale * alpha) * np.expm1(np.minimum(x, 0) * input_scale)
        return np.where(x > 0, x * scale, negative).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # for x <= 0, d/dx scale alpha (e^(input_scale x) - 1) = scale alpha input_scale e^(input_scale x),
        # from exp itself: from the output (y + scale alpha) it would lose digits to cancellation.
        # exp sees min(x, 0), never overflowing; on a Tensor as -relu(-x), whose slope at 0 is
        # 0, so that the second derivative at 0 is PyTorch's 0
        negative_part = np.minimum(x, 0) if _dual.is_array(x) else -(-x).relu()
        slope = (ctx.scale * ctx.alpha * ctx.input_scale) * _dual.unary(
            "exp", negative_part * ctx.input_scale
        )
        # x <= 0 and not x > 0, so that a NaN gets the slope of the positive side (as PyTorch)
        return _dual.where(_dual.value(x) <= 0, grad * slope, grad * ctx.scale), None, None, None


class Gelu(Op):
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses tanh for Phi."""

    saved_attributes = {"self": saved_input(0), "approximate": field("tanh", _gelu_approximate)}

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.tanh = approximate == "tanh"
        if ctx.tanh:
            return 0.5 * x * (1 + np.tanh(_TANH_GELU_K * (x + 0.044715 * x * x * x)))
        return x * _normal_cdf(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.tanh:
            t = _dual.unary("tanh", _TANH_GELU_K * (x + 0.044715 * x * x * x))
            inner = _TANH_GELU_K * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner), None
        # d/dx x Phi(x) = Phi(x) + x phi(x), phi the normal density
        density = _dual.unary("exp", -0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return grad * (_normal_cdf(x) + x * density), None


class Silu(Op):
    """x * sigmoid(x) (also called swish)."""

    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * sigmoid(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = sigmoid(x)
        return grad * s * (1 + x * (1 - s))


class Softplus(Op):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (as PyTorch)."""

    saved_attributes = {"self": saved_input(0), "beta": field("beta"), "threshold": field("threshold")}

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        z = x * beta
        # the min keeps exp finite in the entries the where discards
        return np.where(z > threshold, x, np.log1p(np.exp(np.minimum(z, threshold))) / beta)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        z = x * ctx.beta
        return _dual.where(z > ctx.threshold, grad, grad * sigmoid(z)), None, None


class Hardtanh(Op):
    """clamp(x, min_val, max_val); unlike clamp, no gradient at the bounds themselves (as PyTorch)."""

    saved_attributes = {"self": saved_input(0), "min_val": field("lo"), "max_val": field("hi")}

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = min_val, max_val
        return np.clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xv = _dual.value(x)
        # the gradient passes except at and beyond the bounds (so at a NaN too, as PyTorch)
        outside = (xv <= ctx.lo) | (xv >= ctx.hi)
        return _dual.keep(grad, ~outside, x), None, None  # x: as PyTorch's node, see _dual.keep


class Hardsigmoid(Op):
    """relu6(x + 3) / 6: 0 up to -3, 1 from +3, the line x/6 + 1/2 between."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xv = _dual.value(x)
        # slope 1/6 strictly inside (-3, 3): 0 at the kinks themselves, as PyTorch
        inside = ((xv > -3) & (xv < 3)).astype(xv.dtype)
        return _dual.keep(grad, inside / 6, x)  # x: as PyTorch's node, see _dual.keep


class Hardswish(Op):
    """x * relu6(x + 3) / 6: 0 up to -3, x from +3, x (x + 3) / 6 between."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xv = _dual.value(x)
        # PyTorch's choice at the kinks: slope 0 at -3 and 1 at +3 (and 1 at a NaN)
        slope = _dual.where(xv < 3, x / 3 + 0.5, 1.0)
        return _dual.keep(grad * slope, ~(xv <= -3), x)


class Mish(Op):
    """x * tanh(softplus(x))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.tanh(softplus(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = _dual.unary("tanh", softplus(x))
        # d/dx x t = t + x (1 - t^2) softplus'(x), and softplus' = sigmoid
        return grad * (t + x * sigmoid(x) * (1 - t * t))


class Threshold(Op):
    """x where x > threshold, value elsewhere (torch.threshold)."""

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        # x <= threshold and not x > threshold: a NaN stays NaN, as in PyTorch
        return np.where(x <= threshold, value, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _dual.keep(grad, ~(_dual.value(x) <= ctx.threshold), x), None, None


def _shrunk(x: np.ndarray, lambd: float) -> np.ndarray:
    """Where hardshrink and softshrink are 0: -lambd <= x <= lambd (so not at a NaN)."""
    return (x >= -lambd) & (x <= lambd)


class Hardshrink(Op):
    """x where |x| > lambd, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, lambd):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        return np.where(_shrunk(x, lambd), 0, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _dual.keep(grad, ~_shrunk(_dual.value(x), ctx.lambd), x), None


class Softshrink(Op):
    """x moved lambd towards 0, and 0 where |x| <= lambd: x - clamp(x, -lambd, lambd)."""

    @staticmethod
    def forward(ctx, x, lambd):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        return x - np.clip(x, -lambd, lambd)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _dual.keep(grad, ~_shrunk(_dual.value(x), ctx.lambd), x), None


class Prelu(Op):
    """x for x > 0, weight * x otherwise; weight broadcasts against x (one slope, or one per
    channel), and the engine sums its gradient back to weight's shape."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        return np.where(x > 0, x, weight * x)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        dx, dw = ctx._edges
        positive = _dual.value(x) > 0
        gx = _dual.where(positive, grad, grad * weight) if dx is not None else None
        gw = _dual.keep(grad * x, ~positive) if dw is not None else None
        return gx, gw


# ---- the affine map of nn.Linear -------------------------------------------------------


def _transposed(weight: Any) -> Any:
    return weight.t()


class Linear(Op):
    """x @ W^T + b as one node.

    It dominates an MLP's training step, and composed (transpose, matmul, add) it would
    build three nodes and let the engine sum the bias gradient by unbroadcasting; here
    the three gradients are one matmul each and one sum:
    dx = g @ W, dW = g^T @ x and db = sum of g, with leading dimensions flattened.
    """

    # PyTorch records nn.Linear on a batch as addmm(bias, input, weight.t()), and shows that
    # node's names: mat1 is the input, mat2 the weight transposed (docs/differences.md)
    saved_attributes = {
        "mat1": saved_input(0),
        "mat2": saved_input(1, view=_transposed),
        "alpha": constant(1),
        "beta": constant(1),
        "mat1_sym_sizes": lambda node: _linear_sizes(node)[0],
        "mat2_sym_sizes": lambda node: _linear_sizes(node)[1][::-1],
    }

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        y = x @ weight.T
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        dx, dw, db = ctx._edges
        gx = grad @ weight if dx is not None else None
        if grad.ndim != 2:  # leading dimensions flattened into one; a 1-D input is a batch of one
            rows = math.prod(x.shape[:-1])  # not -1, which a dimension of size 0 makes ambiguous
            grad, x = grad.reshape(rows, grad.shape[-1]), x.reshape(rows, x.shape[-1])
        gw = grad.T @ x if dw is not None else None
        gb = _dual.sum(grad, 0, keepdims=False) if db is not None else None
        return gx, gw, gb
