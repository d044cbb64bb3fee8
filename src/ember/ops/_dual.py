"""Helpers for backward formulas that must run on arrays *and* on Tensors.

A built-in op's backward receives NumPy arrays in an ordinary backward pass, and Tensors
when the engine runs with create_graph=True (so that the backward is itself recorded and
can be differentiated again). Operators (`*`, `/`, `@`, `-`, `**`, `[ ]`, `.reshape`,
`.mT`) mean the same on both; the few operations whose NumPy and ember spellings differ go
through these helpers. On an array each is the plain NumPy call: no cost to ordinary
training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import _meta
from ember.ops._add_at import add_at

# NumPy gives scalars (np.float32, np.bool_) for 0-d results: they count as arrays here
ndarray = (np.ndarray, np.generic)


def is_array(x: Any) -> bool:
    return isinstance(x, ndarray)


def value(x: Any) -> Any:
    """The array itself, or the array inside a Tensor (for tests that must not be recorded)."""
    return x if isinstance(x, ndarray) else x._data


def expand(g: Any, shape: tuple) -> Any:
    """Broadcast g to shape. For arrays, a new array: filling one costs a third of what
    np.broadcast_to's read-only view costs to build, and the engine would copy that view
    anyway before handing it to a leaf."""
    if isinstance(g, ndarray):  # (`ndarray` here is NumPy's arrays and scalars)
        if g.__class__ is _meta.MetaArray:  # no values to fill: a (zero-stride) view
            return np.broadcast_to(g, shape)
        out = np.empty(shape, g.dtype)
        out[...] = g
        return out
    return g.expand(shape)


def sum(g: Any, axis: Any, keepdims: bool = True) -> Any:  # noqa: A001
    if isinstance(g, ndarray):
        return np.add.reduce(g, axis, keepdims=keepdims)  # g.sum() without its Python wrapper
    return g.sum(dim=axis, keepdim=keepdims)


def cumsum(g: Any, axis: int) -> Any:
    return np.cumsum(g, axis=axis) if isinstance(g, ndarray) else g.cumsum(axis)


def flip(g: Any, axis: Any) -> Any:
    """g reversed along axis, an int or a tuple (a Tensor takes no negative-step slice)."""
    return np.flip(g, axis) if isinstance(g, ndarray) else g.flip(axis)


def where(cond: Any, a: Any, b: Any) -> Any:
    if not any(hasattr(v, "_data") for v in (cond, a, b)):
        return np.where(cond, a, b)
    from ember.ops.elementwise import where as t_where

    return t_where(cond, a, b)


def keep(grad: Any, mask: Any, source: Any = None) -> Any:
    """grad where mask holds, 0 elsewhere: the backward of every op that masks (relu, clamp,
    max, ...). mask may also hold weights (0.5 for each of two tied maxima): then grad * mask,
    and still 0 wherever the weight is 0.

    A select, as in PyTorch, and not grad * mask alone: where the mask is 0 an infinite or NaN
    gradient must give 0, not inf * 0 = NaN (`sqrt(relu(x))` at x < 0). On arrays the product
    is 7 times faster than np.where, so it serves whenever grad is all finite, the usual case.

    `source` (create_graph only) is the saved tensor that PyTorch's backward node reads besides
    grad (relu's output, leaky_relu's input): the result depends on it with derivative 0, so
    that a second derivative is zeros, as in PyTorch, and not an error that nothing in it
    requires grad.
    """
    if isinstance(grad, ndarray):
        # logical_and.reduce is .all() without its Python wrapper, on the backward of every relu
        if np.logical_and.reduce(np.isfinite(grad), None):
            return grad * mask
        return np.where(mask, grad, 0) * mask
    from ember.ops.elementwise import Keep

    return Keep.apply(grad, value(mask), source)


def zeros_like(g: Any) -> Any:
    """Zeros of g's shape and dtype: the gradient of a piecewise-constant op (floor, sign), 0
    even where g is inf or NaN, as in PyTorch."""
    return np.zeros_like(g) if isinstance(g, ndarray) else g.new_zeros(g.shape)


def permute(g: Any, axes: tuple) -> Any:
    return np.transpose(g, axes) if isinstance(g, ndarray) else g.permute(axes)


def sign(x: Any) -> Any:
    """The sign of x with sign(NaN) = 0, as torch.sign gives (NumPy gives NaN): the gradient
    of abs and of the 1-norm, which PyTorch writes with sgn, is 0 at NaN, not NaN."""
    if isinstance(x, ndarray):
        s = np.sign(x, out=np.empty_like(x))  # out=: an array even for a 0-d x
        if s.dtype.kind in "fV":
            s[np.isnan(s)] = 0
        return s
    return x.sign()


def unary(name: str, x: Any) -> Any:
    """np.<name>(x) for an array, x.<name>() for a Tensor (cos, sin, exp, sign, ...)."""
    return getattr(np, name)(x) if isinstance(x, ndarray) else getattr(x, name)()


def index_add(shape: tuple, index: Any, g: Any, dtype: Any) -> Any:
    """A zero array of `shape` with g added at `index` (repeated indices add up)."""
    if isinstance(g, ndarray):
        out = _meta.zeros(shape, dtype, like=g)  # a meta gradient gives a meta one
        if _is_basic(index):
            out[index] = g
        else:
            add_at(out, index, g)
        return out
    from ember.ops.shape import IndexAddInto

    return IndexAddInto.apply(g, shape, index)


def _is_basic(index: Any) -> bool:
    """True for indices without integer/boolean arrays: no element can repeat."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer)) for i in items)


def roll(g: Any, shifts: Any, dims: Any) -> Any:
    return np.roll(g, shifts, dims) if isinstance(g, ndarray) else g.roll(shifts, dims)


def tri(g: Any, k: int, upper: bool) -> Any:
    if isinstance(g, ndarray):
        return np.triu(g, k) if upper else np.tril(g, k)
    return g.triu(k) if upper else g.tril(k)
