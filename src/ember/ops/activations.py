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

from ember.ops import _dual
from ember.ops.elementwise import Op

_SQRT_HALF = math.sqrt(0.5)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_TANH_GELU_K = math.sqrt(2 / math.pi)


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)) without overflow: exp only ever sees -|x| (arrays or Tensors)."""
    if not _dual.is_array(x):
        return x.sigmoid()
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def softplus(x: Any) -> Any:
    """log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): finite for any x (arrays or Tensors)."""
    if _dual.is_array(x):
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    return x.relu() + x.abs().neg().exp().log1p()


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, accurate to the precision of x's dtype (NumPy has none).

    Near zero, the series erf(x) = 2/sqrt(pi) exp(-x^2) sum_n x (2x^2)^n / (1*3*...*(2n+1)),
    whose terms are all positive (no cancellation); in the tails, Laplace's continued
    fraction for erfc. Past |x| = 6, erf is +-1 to double precision.
    """
    tolerance = np.finfo(x.dtype).eps / 8
    a = np.abs(x).astype(np.float64)
    out = np.where(np.isnan(a), a, 1.0)  # nan stays nan; the rest is overwritten below, or is +-1
    near = a < 2.5
    xs = a[near]
    term, total, two_x2 = xs.copy(), xs.copy(), 2 * xs * xs
    n = 0
    while (term > tolerance * total).any():
        for _ in range(4):  # test for convergence only every few terms: the test costs a term
            n += 1
            term *= two_x2
            term *= 1 / (2 * n + 1)
            total += term
    out[near] = _TWO_OVER_SQRT_PI * np.exp(-xs * xs) * total
    tail = (a >= 2.5) & (a < 6.0)
    out[tail] = 1 - erfc_tail(a[tail], 30 if x.dtype == np.float64 else 15)
    return np.copysign(out, x).astype(x.dtype, copy=False)


def erfc_tail(a: np.ndarray, terms: int) -> np.ndarray:
    """erfc(a) = 1 - erf(a) for float64 a >= 2.5, by Laplace's continued fraction
    exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), summed from the inside out."""
    frac = np.zeros_like(a)
    for k in range(terms, 0, -1):
        frac = (k / 2) / (a + frac)
    return np.exp(-a * a) / math.sqrt(math.pi) / (a + frac)


class Erf(Op):
    """erf as an op, so that GELU's derivative can itself be differentiated."""

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


class LeakyRelu(Op):
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
    @staticmethod
    def forward(ctx, x, alpha):
        # min(x, 0): exp of the positive entries is never used, so never let it overflow
        y = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        # for x <= 0, d/dx alpha (e^x - 1) = alpha e^x = y + alpha
        return _dual.where(x > 0, grad, grad * (y + ctx.alpha)), None


class Gelu(Op):
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses tanh for Phi."""

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


# ---- the affine map of nn.Linear -------------------------------------------------------


class Linear(Op):
    """x @ W^T + b as one node.

    It dominates an MLP's training step, and composed (transpose, matmul, add) it would
    build three nodes and let the engine sum the bias gradient by unbroadcasting; here
    the three gradients are one matmul each and one sum:
    dx = g @ W, dW = g^T @ x and db = sum of g, with leading dimensions flattened.
    """

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
        gw = gb = None
        if dw is not None:
            rows = math.prod(x.shape[:-1])  # not -1, which a dimension of size 0 makes ambiguous
            gw = grad.reshape(rows, grad.shape[-1]).mT @ x.reshape(rows, x.shape[-1])
        if db is not None:
            gb = grad if grad.ndim == 1 else _dual.sum(grad, tuple(range(grad.ndim - 1)), keepdims=False)
        return gx, gw, gb
