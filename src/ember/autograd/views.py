"""Views: tensors that share another tensor's memory, and in-place ops through them.

`x[0]`, `x.view(2, 3)`, `x.T`, `x.narrow(...)`, `x.expand(...)` and the other view ops
return a tensor whose array is a NumPy view of the input's. ember follows PyTorch's rules:

- A view knows its base (`_base`: the tensor that owns the memory, never another view)
  and shares its version counter. So an in-place change through either one is seen by
  every node that saved either.
- An in-place op on a view writes into the base's memory, and the base's history records
  it: the base becomes the output of a `CopySlices` node, "the old base with the view's
  region replaced by the op's result".
- A view remembers how it was made from its base (`_view_fn`). When the base's version
  has moved on since the view's node was made, `refresh` makes the node again from the
  base's current node before the view is used. Otherwise a gradient would flow through
  the base's old history, which no longer made the values the view shows.

A view made under `no_grad` (or `inference_mode`) has no `_view_fn`, and a recorded
in-place op on it raises, as in PyTorch: whether it should join the graph is ambiguous. Of
a base that requires grad, it requires grad too and is a leaf without a node, as in
PyTorch: an op on it in grad mode is recorded, but the gradient that reaches the view goes
nowhere (neither to its `.grad`, nor to its base; `autograd.grad` with respect to it finds
it unused). Its hooks are an `engine.NoGradViewHooks`, which tells the engine so. Once its
base has changed in place, using it in grad mode raises, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ember import _meta
from ember.autograd import engine, function, grad_mode
from ember.autograd.function import Function

_grad_state = grad_mode._state


def as_view(out: Any, source: Any, make: Callable[[Any], Any]) -> Any:
    """Mark `out`, made from `source` by `make`, as a view, if their arrays share memory
    (NumPy copies where a view is impossible: a reshape of scattered data, an integer-array
    index)."""
    if not np.may_share_memory(out._data, source._data) and not _empty_view(out._data, source._data):
        return out
    base = source._base
    parent = source._view_fn if base is not None else None
    if base is None:
        base, fn = source, make
    elif parent is None:
        fn = None
    else:
        fn = lambda t: make(parent(t))  # noqa: E731
    out._base = base
    out._version_cell = source._version_cell
    out._view_at = out._version_cell[0]
    if _grad_state[0]:
        out._view_fn = fn
    else:
        out._view_fn = None
        if source._requires_grad:  # requires grad, but no gradient will reach it
            out._requires_grad = True
            out._hooks = engine.NoGradViewHooks()
    return out


def _empty_view(out: np.ndarray, source: np.ndarray) -> bool:
    """An empty result (x[2:2], x.narrow(0, 1, 0)) shares no memory NumPy can see, but is a
    view all the same, as in PyTorch (a leaf's empty view changed in place raises; changing
    it in place bumps the base's version): it is one when both arrays have the same owner."""
    return out.size == 0 and _owner(out) is _owner(source)


def _owner(a: Any) -> Any:
    while getattr(a, "base", None) is not None:  # as_strided's views go through a DummyArray
        a = a.base
    return a


def current(t: Any) -> Any:
    """t, with its node remade first if it is a view whose base changed since (for the
    places outside Function.apply that read a tensor's place in the graph)."""
    if t._base is not None and t._version_cell[0] != t._view_at:
        refresh(t)
    return t


def refresh(view: Any, used: bool = False) -> None:
    """Remake a view's node from its base's current one (the base changed in place);
    `used`: by an op about to record it, which a view made under no_grad refuses."""
    if view._view_fn is None:
        if view._hooks.__class__ is engine.NoGradViewHooks:
            if not used:  # (its version stays behind: each later use raises, as in PyTorch)
                return
            raise RuntimeError(
                "A view was created in no_grad mode and its base or another view of its base has "
                "been modified inplace with grad mode enabled. Given that this use case is ambiguous "
                "and error-prone, it is forbidden. Make the view again after the change, or make "
                "both the view and its use inside the no_grad block."
            )
        view._view_at = view._version_cell[0]
        return
    view._view_at = view._version_cell[0]
    with grad_mode.enable_grad():
        try:
            result = view._view_fn(view._base)
        except (IndexError, RuntimeError, ValueError):
            result = None
    if result is None or not _same_region(result._data, view._data):
        _unreplayable(view)
        return
    take_node(view, result)


def _same_region(a: np.ndarray, b: np.ndarray) -> bool:
    return (
        a.shape == b.shape
        and a.strides == b.strides
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def _unreplayable(view: Any) -> None:
    """The base's shape changed in place (`t_`, `squeeze_`, ...) after this view was made,
    so replaying how the view was made no longer finds its elements. Without gradients the
    view just stops following its base's history; with them, guessing would give wrong
    gradients, so it raises."""
    if view._base._requires_grad:
        raise RuntimeError(
            f"a view of shape {list(view._data.shape)} was made before its base's shape was "
            "changed in place (t_, transpose_, squeeze_, unsqueeze_), and cannot be used with "
            "autograd since: make the view again after the change, or clone() it before"
        )
    view._view_fn = None
    view.grad_fn, view._out_nr, view._requires_grad = None, 0, False


def take_node(t: Any, result: Any) -> None:
    """Make `t` stand for `result`'s place in the graph (t keeps its own array)."""
    retained = t.retains_grad
    if retained:  # the old node's output is no longer this tensor
        del t.grad_fn._retained[t._out_nr]
    t.grad_fn, t._out_nr, t._requires_grad = result.grad_fn, result._out_nr, result._requires_grad
    if retained:  # retain_grad() follows the tensor to its new node, as in PyTorch
        t.retain_grad()


def stand_in(t: Any) -> Any:
    """A tensor in t's place in the graph that holds a copy of t's values: what a recorded
    in-place op computes from, since the node it makes may keep the values it overwrites.
    The op's checks (`_check_inplace_leaf`) have already made t current."""
    s = function.Tensor(t._data.copy())
    s.grad_fn, s._out_nr, s._requires_grad = t.grad_fn, t._out_nr, t._requires_grad
    return s


def rebase(view: Any, result: Any) -> None:
    """After `result` was written into a view's memory: the base records it (CopySlices)
    and the view becomes that region of the new base."""
    if view._view_fn is None:
        no_grad_view_error()
    base = view._base
    take_node(base, CopySlices.apply(base, result, view._view_fn))
    refresh(view)


def no_grad_view_error() -> None:
    raise RuntimeError(
        "A view was created in no_grad mode and is being modified inplace with grad mode "
        "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. "
        "Make the view and the in-place op both inside the no_grad block (if the change "
        "should not be recorded) or both outside it (if it should)."
    )


class CopySlices(Function):
    """The base of a view after an in-place op on the view: the old base, with the view's
    region replaced by the op's result (PyTorch's CopySlices)."""

    raw = True
    _not_tensor_inputs = (2,)  # next_functions lists the base and the result, as PyTorch's
    # freed with the graph, as PyTorch's CopySlices releases its view function: a second
    # backward through it raises there, whatever the in-place op saved
    _intermediates = ("view_fn",)

    @staticmethod
    def forward(ctx: Any, base: np.ndarray, result: np.ndarray, view_fn: Any) -> np.ndarray:
        ctx.view_fn = view_fn
        return base  # the caller has already written result into the region

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple:
        from ember.ops import _dual  # ops import autograd: not at the top

        # the old base's gradient is the gradient outside the region; the result's, the region
        # (a meta mask for a meta gradient: ember/_meta.py)
        outside = _meta.full(ctx._shape, 1, ctx._dtype, like=_dual.value(grad))
        if outside.dtype.kind == "c":
            return _complex_copy_slices_backward(ctx, grad, outside)
        inside = ctx.view_fn(function.Tensor(outside))._data
        # (a meta region has no memory to share, and its zero strides would read as overlap)
        winners = None if _meta.is_meta(inside) else _winners(ctx.view_fn, ctx._shape, inside)
        inside[...] = 0
        # a complex region of a real base (view_as_complex) reads the gradient in PyTorch's
        # form, conjugated back (see autograd/engine.py)

        # keep, not grad * outside: a NaN or infinite gradient of the overwritten region
        # gives the old base 0 there, as in PyTorch, not NaN
        kept = _dual.keep(grad, outside)
        if isinstance(grad, function.Tensor):  # create_graph: a recorded view of the gradient
            region = ctx.view_fn(grad)
            if winners is not None:
                region = _dual.keep(region, winners)
            return kept, region.conj() if region.is_complex() else region, None
        region = ctx.view_fn(function.Tensor(grad))._data
        if winners is not None:
            region = _dual.keep(region, winners)
        return kept, np.conj(region) if region.dtype.kind == "c" else region, None

    def name(self) -> str:
        return "CopySlices"


def _winners(view_fn: Any, shape: tuple, region: np.ndarray) -> np.ndarray | None:
    """For a region (here of a contiguous base of `shape`) whose elements share memory
    (unfold's overlapping windows): the mask of the elements whose value the in-place op left
    in memory, the last that NumPy's `view[...] = result` wrote to each place. Only those reached the base, so only they get
    the base's gradient; the others' values were overwritten (without the mask, a shared
    element's gradient would count once per window through the view's own backward, while
    the op changed it once). None where no two elements share a place, the usual case."""
    if not _may_overlap(region):
        return None
    places = view_fn(function.Tensor(np.zeros(shape, np.int64)))._data
    order = np.arange(places.size).reshape(places.shape)
    places[...] = order  # as the forward wrote, each place now holds its last writer
    return places == order


def _may_overlap(a: np.ndarray) -> bool:
    """Whether two elements of a may share memory: False only when, with its dims sorted by
    stride, each stride steps past everything the smaller ones reach (any C- or F-ordered
    slice, and unfold with step >= size)."""
    if a.size <= 1:
        return False
    reach = a.itemsize
    for stride, n in sorted((abs(s), n) for s, n in zip(a.strides, a.shape) if n > 1):
        if stride < reach:
            return True
        reach += stride * (n - 1)
    return False


def _complex_copy_slices_backward(ctx: Any, grad: Any, outside: np.ndarray) -> tuple:
    """CopySlices' backward for a complex base, whose region may be one part of each number
    (a `real` or `imag` view): the mask keeps each part apart, and the region's gradient is
    read from PyTorch's form of the gradient (dL/dx + i dL/dy), of which `imag` picks dL/dy,
    then conjugated back if the region is complex (see autograd/engine.py)."""
    from ember.ops import _dual  # ops import autograd: not at the top

    outside += 1j  # ones in both parts
    inside = ctx.view_fn(function.Tensor(outside))._data
    winners = _winners(ctx.view_fn, ctx._shape, inside)
    inside[...] = 0
    # keep, as for a real base: a NaN or infinite part in the overwritten region gives 0
    if isinstance(grad, function.Tensor):  # create_graph: recorded
        kept = _dual.keep(grad.real, outside.real) + _dual.keep(grad.imag, outside.imag) * 1j
        region = ctx.view_fn(grad.conj())
        region = region if winners is None else _dual.keep(region, winners)
        return kept, region.conj() if region.is_complex() else region, None
    kept = _dual.keep(grad.real, outside.real) + 1j * _dual.keep(grad.imag, outside.imag)
    region = ctx.view_fn(function.Tensor(np.conj(grad)))._data
    region = region if winners is None else np.where(winners, region, 0)
    return kept.astype(grad.dtype, copy=False), np.conj(region) if region.dtype.kind == "c" else region, None
