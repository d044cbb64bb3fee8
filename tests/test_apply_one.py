"""apply_one, the shortcut for ops whose only Tensor argument is the first, against the
general Function.apply: the same values, graph, gradients and version checks."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd.function import apply, apply_one
from ember.ops import elementwise as ew
from ember.ops import reduction

F32 = np.dtype(np.float32)
C = np.array(0.7, F32)

CASES = [
    (ew.Exp, ()),
    (ew.Tanh, ()),
    (ew.Sigmoid, ()),
    (ew.Relu, ()),
    (ew.Neg, ()),
    (ew.Log, ()),
    (ew.Sqrt, ()),
    (ew.Pow, (2,)),
    (ew.Pow, (1.5,)),
    (ew.Mul, (C,)),
    (ew.Add, (C,)),
    (ew.Sub, (C,)),
    (ew.Div, (C,)),
    (reduction.Sum, ((1,), False)),
    (reduction.Sum, ((0, 1), True)),
    (reduction.Mean, ((0,), False)),
]


def _ids(case):
    cls, rest = case
    return f"{cls.__name__}{list(rest) if rest else ''}"


def _inputs(kind: str):
    """A leaf, a non-leaf, a view of a non-leaf, and a tensor that needs no gradient."""
    data = np.random.default_rng(0).uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    leaf = ember.tensor(data, requires_grad=kind != "constant")
    if kind in ("leaf", "constant"):
        return leaf, leaf
    inner = leaf * 1.5
    return leaf, (inner if kind == "nonleaf" else inner[1:])


@pytest.mark.parametrize("kind", ["leaf", "nonleaf", "view", "constant"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_apply_one_matches_apply(case, kind):
    cls, rest = case
    results = []
    for entry in (apply, apply_one):
        leaf, x = _inputs(kind)
        y = entry(cls, x, *rest)
        assert y.requires_grad == x.requires_grad
        name = y.grad_fn.name() if y.grad_fn is not None else None
        nexts = [type(n).__name__ for n, _ in y.grad_fn.next_functions] if y.grad_fn else []
        grad = None
        if y.requires_grad:
            (y * y).sum().backward()
            grad = leaf.grad.numpy().copy()
        results.append((y.detach().numpy().copy(), name, nexts, grad))
    (v1, n1, e1, g1), (v2, n2, e2, g2) = results
    np.testing.assert_array_equal(v1, v2)
    # apply lists an entry for every argument; apply_one, as PyTorch, none for a number or
    # dims (the exponent of x ** 2, sum's axes), but one for an array operand (Mul's C)
    operands = 1 + sum(isinstance(r, np.ndarray) for r in rest)
    assert n1 == n2 and (not e2 or (len(e2) == operands and e2 == e1[:operands]))
    if g1 is None:
        assert g2 is None
    else:
        np.testing.assert_array_equal(g1, g2)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_apply_one_under_no_grad(case):
    cls, rest = case
    x = ember.tensor(np.linspace(0.5, 2.0, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    with ember.no_grad():
        y = apply_one(cls, x, *rest)
    assert not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), apply(cls, x.detach(), *rest).numpy())


def test_apply_one_keeps_the_version_check():
    """A value apply_one's node saved (its output, its input), changed in place before
    backward, raises; a constant it saved leaves the input free to change."""
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    h = x * 2
    y = apply_one(ew.Exp, h)  # saves its output
    z = apply_one(ew.Mul, h, C)  # saves only the constant: h may change
    w = apply_one(ew.Pow, h, 2)  # saves its input
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.4, 1.4], rtol=1e-6)


def test_apply_one_refreshes_a_stale_view():
    """A view whose base changed in place since it was made: the node is made again first,
    so the gradient flows through the in-place op, as with apply."""
    grads = []
    for entry in (apply, apply_one):
        x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
        base = x * 1.0
        v = base[1:]
        base.mul_(3)
        entry(ew.Exp, v).sum().backward()
        grads.append(x.grad.numpy().copy())
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_allclose(grads[0], [0, 3 * np.exp(6.0), 3 * np.exp(9.0)], rtol=1e-6)
