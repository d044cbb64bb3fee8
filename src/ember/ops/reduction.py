"""Reductions over dimensions: sum, mean, prod, max/min, var, logsumexp, norm.

`dim` is an int, a tuple of ints or None (all dimensions); `keepdim` keeps the reduced
dimensions with size 1. Every backward first restores the reduced dimensions
(`_keep_shape`) and then broadcasts back to the input shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.ops import _dual
from ember.ops.elementwise import Op


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """Turn dim (None, int, sequence) into a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    rank = max(ndim, 1)
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(
                f"{op}(): Dimension out of range (expected to be in range of "
                f"[{-rank}, {rank - 1}], but got {d})"
            )
        out.append(d % rank if ndim else 0)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}(): dim {list(dims)} appears multiple times in the list of dims")
    return tuple(sorted(out)) if ndim else ()


def _keep_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Op):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return _dual.expand(grad.reshape(_keep_shape(ctx.shape, ctx.axes)), ctx.shape), None, None


class Mean(Op):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        ctx.count = int(np.prod([x.shape[a] for a in axes]))
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        g = grad.reshape(_keep_shape(ctx.shape, ctx.axes)) / ctx.count
        return _dual.expand(g, ctx.shape), None, None


class Prod(Op):
    @staticmethod
    def forward(ctx, x, axis, keepdim):
        y = np.prod(x, axis=axis, keepdims=keepdim)
        ctx.save_for_backward(x, y)
        ctx.keep = np.prod(x, axis=axis, keepdims=True).shape
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g, y = grad.reshape(ctx.keep), y.reshape(ctx.keep)
        if _dual.is_array(x) and not (x == 0).any():
            return g * y / x, None, None
        return g * _product_of_others(x, ctx.axis), None, None


def _product_of_others(x: Any, axis: Any) -> Any:
    """For each element, the product of the others along axis (exact with zeros).

    Cumulative products from the left and from the right, multiplied. Computed on the
    array: with create_graph it is treated as a constant (first derivative only).
    """
    xd = x if _dual.is_array(x) else x.detach().numpy()
    flat = xd.reshape(-1) if axis is None else np.moveaxis(xd, axis, -1)
    ones = np.ones_like(flat[..., :1])
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    rev = np.flip(flat, -1)
    right = np.flip(np.cumprod(np.concatenate([ones, rev[..., :-1]], axis=-1), axis=-1), -1)
    others = left * right
    return others.reshape(xd.shape) if axis is None else np.moveaxis(others, -1, axis)


class Amax(Op):
    """max/min values over dims; the gradient is shared equally among tied maxima."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, is_max):
        y = (x.max if is_max else x.min)(axis=axes, keepdims=keepdim)
        ctx.save_for_backward(x, y)
        ctx.axes = axes
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        y = y.reshape(_keep_shape(x.shape, ctx.axes))
        mask = x == y
        count = _dual.sum(mask, ctx.axes, keepdims=True)
        return grad.reshape(y.shape) * mask / count, None, None, None


class MaxDim(Op):
    """max/min along one dim with indices; the gradient goes to the index chosen."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, is_max):
        idx = (np.argmax if is_max else np.argmin)(x, axis=dim, keepdims=True)
        values = np.take_along_axis(x, idx, axis=dim)
        ctx.shape, ctx.dim, ctx.idx = x.shape, dim, idx
        if not keepdim:
            values, idx = values.squeeze(dim), idx.squeeze(dim)
        ctx.mark_non_differentiable(idx)
        return values, idx

    @staticmethod
    def backward(ctx, grad, _grad_idx):
        index = _along_axis_index(ctx.idx, ctx.dim)
        return _dual.index_add(ctx.shape, index, grad.reshape(ctx.idx.shape), grad.dtype), None, None, None


def _along_axis_index(idx: np.ndarray, dim: int) -> tuple:
    """The fancy index that addresses take_along_axis(x, idx, dim) positions in x."""
    grids = np.indices(idx.shape, sparse=True)
    return tuple(idx if i == dim else g for i, g in enumerate(grids))


class Var(Op):
    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        centered = x - x.mean(axis=axes, keepdims=True)
        n = int(np.prod([x.shape[a] for a in axes]))
        ctx.save_for_backward(x)
        ctx.axes, ctx.n, ctx.denom = axes, n, max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = (centered * centered).sum(axis=axes, keepdims=keepdim) / ctx.denom
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        centered = x - _dual.sum(x, ctx.axes) / ctx.n
        g = grad.reshape(_keep_shape(x.shape, ctx.axes))
        return g * 2 * centered / ctx.denom, None, None, None


class LogSumExp(Op):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        # subtract the max so exp never overflows; a -inf max (all -inf) is replaced by 0
        m = x.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        y = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        y = y if keepdim else y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))
        ctx.save_for_backward(x, y)
        ctx.axes = axes
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        keep = _keep_shape(x.shape, ctx.axes)
        return grad.reshape(keep) * _dual.unary("exp", x - y.reshape(keep)), None, None
