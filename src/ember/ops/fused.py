"""Fused ops: single nodes for the hot, numerically delicate paths.

softmax and log_softmax could be composed from exp, sum and log, but the composition
overflows for large inputs and builds four nodes; fused, they subtract the row maximum
(exp never sees a positive number) and have a one-line backward.
"""

from __future__ import annotations

import numpy as np

from ember.autograd.saved import field, saved_output
from ember.ops import _dual
from ember.ops.elementwise import Op, row_major


class Softmax(Op):
    saved_attributes = {"result": saved_output(), "dim": field("dim")}

    @staticmethod
    def forward(ctx, x, dim):
        x = row_major(x)  # PyTorch's softmax is row-major whatever x's layout
        e = np.exp(x - x.max(axis=dim, keepdims=True, initial=-np.inf))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # Jacobian-vector product of softmax: y * (g - <g, y>)
        return y * (grad - _dual.sum(grad * y, ctx.dim)), None


class LogSoftmax(Op):
    saved_attributes = {"result": saved_output(), "dim": field("dim")}

    @staticmethod
    def forward(ctx, x, dim):
        x = row_major(x)
        shifted = x - x.max(axis=dim, keepdims=True, initial=-np.inf)
        with np.errstate(divide="ignore"):  # log(0) only for an empty dim: its result is empty too
            y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # d log_softmax: g - softmax * sum(g)
        return grad - _dual.unary("exp", y) * _dual.sum(grad, ctx.dim), None
