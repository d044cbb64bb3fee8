"""Reflection, replication and circular padding: F.pad's modes other than 'constant'.

Every element of the result is a copy of an input element. Along each padded dimension,
position j of the result copies input position `index[j]` (computed once per dimension by
`source_index`), and the dimensions are independent, so the forward is one gather per
padded dimension. The backward is the same movement reversed: each position of the
gradient is added to the input position it was copied from, where several (a reflected
border and the interior, a replicated edge) meet.
"""

from __future__ import annotations

import numpy as np

from ember.autograd.function import apply_one
from ember.ops import _dual
from ember.ops.elementwise import Op


def source_index(mode: str, size: int, before: int, after: int) -> np.ndarray:
    """For each position of a dimension of `size` padded by (before, after), the input
    position it copies. A negative width crops. The caller has checked the widths."""
    position = np.arange(-before, size + after)  # in the input's coordinates
    if mode == "reflect":
        # mirror about the first and the last element, which are not repeated: -1 -> 1,
        # size -> size - 2
        last = size - 1
        return last - np.abs(last - np.abs(position))
    if mode == "replicate":
        return np.clip(position, 0, size - 1)
    # circular: the elements that negative widths leave repeat with their own period, so
    # F.pad(x, (-1, 2), 'circular') wraps around x[1:], as PyTorch does
    start = max(-before, 0)
    kept = size - start - max(-after, 0)
    return start + (position - start) % kept if len(position) else position


def _runs(index: np.ndarray) -> list[tuple[int, int, int]]:
    """(first, stop, source) for each stretch of `index` that counts up by one: result
    positions first..stop-1 copy input positions source, source + 1, ..."""
    breaks = (np.flatnonzero(np.diff(index) != 1) + 1).tolist()
    firsts, stops = [0, *breaks], [*breaks, len(index)]
    return [(a, b, int(index[a])) for a, b in zip(firsts, stops) if b > a]


def gather(x, plan):
    """x with each (axis, index, size) of `plan` applied: x.take(index, axis)."""
    for axis, index, _ in plan:
        x = np.take(x, index, axis=axis)
    return x


def scatter(g, plan):
    """The adjoint of gather: each position of g added into the input position it copies.

    The index is a few runs of consecutive positions (the interior, a wrapped block, one
    position per reflected or replicated element), so adding run by run takes a few
    slice additions, where np.add.at would loop over every element."""
    for axis, index, size in reversed(plan):
        out = np.zeros(g.shape[:axis] + (size,) + g.shape[axis + 1 :], g.dtype)
        before = (slice(None),) * axis
        for first, stop, source in _runs(index):
            out[(*before, slice(source, source + stop - first))] += g[(*before, slice(first, stop))]
        g = out
    return g


class PadGather(Op):
    """F.pad(x, pad, mode) for reflect, replicate and circular; `plan` lists (axis, index,
    input size) for each padded dimension and `kind` names the node as PyTorch does
    (ReflectionPad2DBackward0). PyTorch records circular padding as slice copies; here it
    is a node like the others, CircularPad2DBackward0. The plan stands for the input that
    PyTorch's node saves: freed with the graph, so that a second backward raises as there."""

    _intermediates = ("plan",)

    def name(self) -> str:
        return f"{self.kind}Backward0"

    @staticmethod
    def forward(ctx, x, plan, kind):
        ctx.plan, ctx.kind = plan, kind
        return gather(x, plan)

    @staticmethod
    def backward(ctx, grad):
        if _dual.is_array(grad):
            return scatter(grad, ctx.plan), None, None
        return apply_one(PadScatter, grad, ctx.plan, ctx.kind), None, None


class PadScatter(Op):
    """PadGather's backward as a node, for create_graph; its own backward is the gather."""

    def name(self) -> str:
        return f"{self.kind}BackwardBackward0"

    @staticmethod
    def forward(ctx, g, plan, kind):
        ctx.plan, ctx.kind = plan, kind
        return scatter(g, plan)

    @staticmethod
    def backward(ctx, grad):
        if _dual.is_array(grad):
            return gather(grad, ctx.plan), None, None
        return apply_one(PadGather, grad, ctx.plan, ctx.kind), None, None
