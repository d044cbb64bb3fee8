"""Matrix products: matmul (every shape combination NumPy accepts), mm, bmm, dot, einsum."""

from __future__ import annotations

import numpy as np

from ember.ops import _dual
from ember.ops.elementwise import Op


class Matmul(Op):
    """a @ b. A 1-D operand is promoted to a matrix for the backward, as NumPy does in forward;
    batch dimensions broadcast, and the engine sums them back."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx._edges
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:  # put back the row dimension NumPy removed from the result
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
        if b.ndim == 1:  # and the column dimension
            g = g.reshape(g.shape + (1,))
        ga = gb = None
        if da is not None:
            ga = g @ b2.mT
            if a.ndim == 1:
                ga = _dual.sum(ga, tuple(range(ga.ndim - 1)), keepdims=False) if ga.ndim > 2 else ga
                ga = ga.reshape(a.shape)
        if db is not None:
            gb = a2.mT @ g
            if b.ndim == 1:
                gb = _dual.sum(gb, tuple(range(gb.ndim - 2)), keepdims=False) if gb.ndim > 2 else gb
                gb = gb.reshape(b.shape)
        return ga, gb


class Mm(Matmul):
    """2-D @ 2-D (MmBackward0)."""


class Bmm(Matmul):
    """3-D @ 3-D with equal batch sizes (BmmBackward0)."""


class Dot(Matmul):
    """1-D @ 1-D (DotBackward0)."""


class Einsum(Op):
    """np.einsum for explicit subscripts without '...' or repeated letters in one operand."""

    @staticmethod
    def forward(ctx, equation, *operands):
        ctx.save_for_backward(*operands)
        ctx.equation = equation
        return np.einsum(equation, *operands)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        inputs, output = ctx.equation.split("->")
        subs = inputs.split(",")
        grads: list = [None]
        for i, (s, x) in enumerate(zip(subs, operands)):
            if ctx._edges[i + 1] is None:
                grads.append(None)
                continue
            others = [(subs[j], operands[j]) for j in range(len(subs)) if j != i]
            present = set(output).union(*[set(o) for o, _ in others]) if others else set(output)
            kept = "".join(c for c in s if c in present)
            eq = ",".join([output] + [o for o, _ in others]) + "->" + kept
            g = einsum(eq, grad, *[t for _, t in others])
            if kept != s:  # letters summed away in this operand alone: broadcast back
                g = g.reshape(tuple(x.shape[k] if c in kept else 1 for k, c in enumerate(s)))
                g = _dual.expand(g, x.shape)
            grads.append(g)
        return tuple(grads)


def einsum(equation: str, *operands):
    """Einstein summation (torch.einsum); operands may be arrays or Tensors."""
    equation = equation.replace(" ", "")
    if "..." in equation:
        raise NotImplementedError("einsum: '...' (ellipsis) is not supported by ember yet")
    if "->" not in equation:  # implicit output: letters seen once, in alphabetical order
        letters = equation.replace(",", "")
        equation += "->" + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    for part in equation.split("->")[0].split(","):
        if len(set(part)) != len(part):
            raise NotImplementedError(
                f"einsum: a letter repeated in one operand ({part!r}, a diagonal) is not supported"
            )
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    subscripts = equation.split("->")[0].split(",")
    if len(subscripts) != len(operands):
        raise RuntimeError(
            f"einsum(): the equation {equation!r} names {len(subscripts)} operands, "
            f"but {len(operands)} were provided"
        )
    if all(_dual.is_array(o) for o in operands):
        return np.einsum(equation, *operands)
    try:
        return Einsum.apply(equation, *operands)
    except ValueError:
        shapes = [list(np.shape(o._data if hasattr(o, "_data") else o)) for o in operands]
        raise RuntimeError(
            f"einsum(): operands of shapes {shapes} do not fit the equation {equation!r} "
            "(a letter must have one size in every operand)"
        ) from None
