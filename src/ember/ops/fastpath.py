"""The operators' fast path: an elementwise op recorded in one Python call.

On small tensors a training loop's time goes to Python, not to NumPy. The general way to
run an op, operator -> `apply_one` -> `forward` -> `save_for_backward`, is four Python
calls plus bookkeeping for every case (which arguments are Tensors, where each saved value
came from), and each call costs about as much as NumPy's work on a few numbers. For the
ops whose forward is one NumPy ufunc (`Elementwise` in ops/elementwise.py: `+`, `-`, `*`,
`exp`, `tanh`, ...), the functions made here do all of it in the operator's own call: run
the ufunc, build the node, and keep what the op's `saves` names, with the version each
kept tensor had (for the in-place check).

Two more ops are just as common in a course's loops but are not one ufunc: `loss.sum()`
and `x ** 2`. `total` and `power` repeat the two lines of their forward (Sum's with
`axes=None`, and Pow's).

Only the plain case is handled here: float tensors of one dtype, or a float tensor and a
Python number. Everything else (integers, promotion, a Tensor subclass as an operand of
`+ - *`, a view whose base changed) goes to the general path, which gives the same
result; tests/test_fastpath.py compares the two node for node. What a node records is
thus written in two places, here and in autograd/function.py (`apply_one`, `_output`,
`_track_saved`): change them together.
"""

from __future__ import annotations

from typing import Any

from numpy import add, asanyarray, ndarray  # global names: CPython 3.11 reads numpy's attributes slowly

from ember._layout import SparseUnsupportedError, sparse_form
from ember._tensor import Tensor
from ember.autograd.function import (
    _FIRST_OUTPUT,
    _FLOAT32,
    _IN_ORDER,
    _SECOND_INPUT,
    _SHAPES,
    _grad_state,
    _intern_shape,
    _new_object,
    _next_seq,
    _unrecorded,
    apply_one,
)
from ember.ops.elementwise import FACTORS, INPUT, OUTPUT, Pow, scalar_power
from ember.ops.reduction import Sum

# Each function made here, with its op class: the profiler (autograd/profiler.py) swaps the
# ufunc in its closure for a timed one while it records, so that these calls stay unchecked.
made: list[tuple[Any, Any]] = []


def unary(cls: Any, general: Any) -> Any:
    """The function `cls(input)` for an Elementwise op of one tensor; `general(input)`
    handles what the fast path does not."""
    ufunc, saves = cls.ufunc, cls.saves

    def op(input: Any) -> Tensor:
        x = input._data
        dtype = x.dtype
        if (dtype is not _FLOAT32 and dtype.kind != "f") or (
            input._base is not None and input._version_cell[0] != input._view_at
        ):
            return general(input)
        if not (_grad_state[0] and input._requires_grad):
            try:
                return _unrecorded(ufunc(x))
            except SparseUnsupportedError:  # a sparse tensor (whose values carry the graph)
                return sparse_form(op.__name__, (input,))
        ctx = cls()
        fn = input.grad_fn
        ctx._edges = (input if fn is None else fn if fn._n_outputs == 1 else (fn, input._out_nr),)
        y = ufunc(x)
        out = _result(ctx, y)
        if saves is OUTPUT:
            ctx._saved = (y,)
            ctx._sources = _FIRST_OUTPUT
            ctx._versions, ctx._version_at = out._version_cell, 0
        elif saves is INPUT:
            ctx._saved = (x,)
            ctx._sources = _IN_ORDER[1]
            ctx._versions, ctx._version_at = input._version_cell, input._version_cell[0]
        return out

    made.append((op, cls))
    return op


def binary(cls: Any, general: Any, constants: dict, constant: Any) -> Any:
    """The function `input <cls> other` for an Elementwise op of two operands. A Python
    number becomes a 0-d array of the tensor's dtype: `constants` is the table of float32
    ones, `constant(value, dtype)` makes any other. `general(input, other)` handles what
    the fast path does not, and raises the error for shapes that do not broadcast."""
    ufunc, factors = cls.ufunc, cls.saves is FACTORS

    def op(input: Any, other: Any) -> Tensor:
        if input.__class__ is not Tensor:
            return general(input, other)
        x = input._data
        dtype = x.dtype
        if (dtype is not _FLOAT32 and dtype.kind != "f") or (
            input._base is not None and input._version_cell[0] != input._view_at
        ):
            return general(input, other)
        kind = other.__class__
        if kind is Tensor:
            y = other._data
            if y.dtype is not dtype or (other._base is not None and other._version_cell[0] != other._view_at):
                return general(input, other)
            needs_b = other._requires_grad
        elif kind is float or kind is int:
            y = constants.get(other) if dtype is _FLOAT32 else None
            if y is None:
                y = constant(other, dtype)
            needs_b = False
        else:
            return general(input, other)
        needs_a = input._requires_grad
        if not (_grad_state[0] and (needs_a or needs_b)):
            try:
                return _unrecorded(ufunc(x, y))
            except ValueError:
                return general(input, other)
        ctx = cls()
        fn = input.grad_fn
        ea = (input if fn is None else fn if fn._n_outputs == 1 else (fn, input._out_nr)) if needs_a else None
        fn = other.grad_fn if needs_b else None
        eb = (other if fn is None else fn if fn._n_outputs == 1 else (fn, other._out_nr)) if needs_b else None
        ctx._edges = (ea, eb)
        try:
            z = ufunc(x, y)
        except ValueError:  # shapes that do not broadcast: the general path says so
            return general(input, other)
        out = _result(ctx, z)
        if factors:  # Mul: each factor that the other one's gradient needs (see Elementwise)
            if eb is None:
                ctx._saved = (y,)
                ctx._sources = _SECOND_INPUT
                if kind is Tensor:
                    ctx._versions, ctx._version_at = other._version_cell, other._version_cell[0]
            elif ea is None:
                ctx._saved = (x,)
                ctx._sources = _IN_ORDER[1]
                ctx._versions, ctx._version_at = input._version_cell, input._version_cell[0]
            else:
                ctx._saved = (x, y)
                ctx._sources = _IN_ORDER[2]
                ctx._versions = (
                    input._version_cell,
                    input._version_cell[0],
                    other._version_cell,
                    other._version_cell[0],
                )
        return out

    made.append((op, cls))
    return op


def total(input: Any) -> Tensor:
    """`input.sum()` of a float32 tensor, all elements, no keepdim: Sum's node, made here."""
    x = input._data
    if input._base is not None and input._version_cell[0] != input._view_at:
        return apply_one(Sum, input, None, False)
    if not (_grad_state[0] and input._requires_grad):
        return _unrecorded(add.reduce(x, None))
    ctx = Sum()
    fn = input.grad_fn
    ctx._edges = (input if fn is None else fn if fn._n_outputs == 1 else (fn, input._out_nr),)
    ctx.shape, ctx.axes = x.shape, None  # Sum.forward's, for axes None
    return _result(ctx, add.reduce(x, None))


def power(input: Any, p: float) -> Tensor:
    """`input ** p` for a float32 tensor and a Python number: Pow's node, made here."""
    x = input._data
    if input._base is not None and input._version_cell[0] != input._view_at:
        return apply_one(Pow, input, p)
    if not (_grad_state[0] and input._requires_grad):
        return _unrecorded(x**p if p == 2 else scalar_power(x, p))
    ctx = Pow()
    fn = input.grad_fn
    ctx._edges = (input if fn is None else fn if fn._n_outputs == 1 else (fn, input._out_nr),)
    ctx.p = p  # Pow.forward's: the exponent, and the input saved
    out = _result(ctx, x**p if p == 2 else scalar_power(x, p))
    ctx._saved = (x,)
    ctx._sources = _IN_ORDER[1]
    ctx._versions, ctx._version_at = input._version_cell, input._version_cell[0]
    return out


def _result(ctx: Any, y: Any) -> Tensor:
    """The output of a recorded op, `ctx` its grad_fn: `function._output` without its checks,
    since an Elementwise ufunc gives float tensors a float result."""
    data = (
        y if y.__class__ is ndarray else asanyarray(y)
    )  # 0-d results come as scalars; a meta array stays one
    ctx._seq = _next_seq()
    t = _new_object(Tensor)
    t._data = data
    t._requires_grad = True
    t.grad_fn = ctx
    t._grad = t._hooks = t._base = None
    t._out_nr = 0
    t._version_cell = [0]
    shape = data.shape
    interned = _SHAPES.get(shape)
    ctx._shape = interned if interned is not None else _intern_shape(shape)
    ctx._dtype = data.dtype
    return t
