"""The operators' fast path (ops/fastpath.py) against the general Function.apply: the same
values, node, saved values, gradients of first and second order, and in-place checks."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd.function import apply, apply_one
from ember.ops import elementwise as ew
from ember.ops import reduction
from ember.ops.api import arith

UNARY = [
    (ew.Exp, ember.exp),
    (ew.Expm1, ember.expm1),
    (ew.Log, ember.log),
    (ew.Log1P, ember.log1p),
    (ew.Sqrt, ember.sqrt),
    (ew.Sin, ember.sin),
    (ew.Cos, ember.cos),
    (ew.Tanh, ember.tanh),
    (ew.Neg, ember.neg),
    (ew.Abs, ember.abs),
]
BINARY = [(ew.Add, arith.add_op), (ew.Sub, arith.sub_op), (ew.Mul, arith.mul)]


def _ids(case):
    return case[0].__name__


def _data(shape=(3, 4), dtype=np.float32, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape).astype(dtype)


def _operand(kind: str, data: np.ndarray):
    """(leaf, operand): the operand is the leaf itself, a node's output, a view of one, or a
    tensor that needs no gradient."""
    leaf = ember.tensor(data, requires_grad=kind != "constant")
    if kind in ("leaf", "constant"):
        return leaf, leaf
    inner = leaf * 1.5
    return leaf, (inner if kind == "nonleaf" else inner[:])


def _node_state(y):
    """What the node records, comparable across the two paths."""
    node = y.grad_fn
    if node is None:
        return None
    nexts = [type(n).__name__ if n is not None else None for n, _ in node.next_functions]
    saved = [np.asarray(s).copy() for s in node._saved]
    return node.name(), nexts, node._sources, saved, node._shape, node._dtype


def _compare(make_fast, make_general):
    """Run both paths from fresh inputs; compare outputs, nodes and the gradients of
    (y * y).sum(), with create_graph, and a second-order gradient."""
    results = []
    for make in (make_fast, make_general):
        y, leaves_now = make()
        state = _node_state(y)
        grads = second = None
        needs = [t for t in leaves_now if t.requires_grad]
        if y.requires_grad and needs:
            first = ember.autograd.grad((y * y).sum(), needs, create_graph=True)
            grads = [g.detach().numpy().copy() for g in first]
            second = [
                g.numpy().copy() if g is not None else None
                for g in ember.autograd.grad(sum(g.sum() for g in first), needs, allow_unused=True)
            ]
        results.append((y.detach().numpy().copy(), y.dtype, y.requires_grad, state, grads, second))
    (v1, d1, r1, s1, g1, h1), (v2, d2, r2, s2, g2, h2) = results
    np.testing.assert_array_equal(v1, v2)
    assert (d1, r1) == (d2, r2)
    if s1 is None or s2 is None:
        assert s1 is s2
    else:
        assert s1[:3] == s2[:3] and s1[4:] == s2[4:]
        assert len(s1[3]) == len(s2[3])
        for a, b in zip(s1[3], s2[3]):
            np.testing.assert_array_equal(a, b)
    for x1, x2 in ((g1, g2), (h1, h2)):
        assert (x1 is None) == (x2 is None)
        for a, b in zip(x1 or [], x2 or []):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["leaf", "nonleaf", "view", "constant"])
@pytest.mark.parametrize("case", UNARY, ids=_ids)
def test_unary_matches_apply(case, kind):
    cls, fast = case
    data = _data()

    def make(entry):
        def run():
            leaf, x = _operand(kind, data)
            return entry(x), [leaf]

        return run

    _compare(make(fast), make(lambda x: apply(cls, x)))


@pytest.mark.parametrize("shape,dtype", [((), np.float32), ((5,), np.float64)])
@pytest.mark.parametrize("case", UNARY, ids=_ids)
def test_unary_0d_and_float64(case, shape, dtype):
    cls, fast = case
    data = _data(shape, dtype)

    def make(entry):
        def run():
            x = ember.tensor(data, requires_grad=True)
            return entry(x), [x]

        return run

    _compare(make(fast), make(lambda x: apply(cls, x)))


OPERANDS = [
    ("leaf", "number"),
    ("nonleaf", "int"),
    ("view", "number"),
    ("constant", "number"),
    ("leaf", "leaf"),
    ("nonleaf", "constant"),
    ("constant", "leaf"),
    ("view", "nonleaf"),
    ("constant", "constant"),
]


@pytest.mark.parametrize("kinds", OPERANDS, ids=lambda k: "-".join(k))
@pytest.mark.parametrize("case", BINARY, ids=_ids)
def test_binary_matches_apply(case, kinds):
    """Both operands' kinds, and a Python number, which the general path receives as the
    0-d array of the tensor's dtype that the fast path makes of it."""
    cls, fast = case
    ka, kb = kinds
    a_data, b_data = _data(seed=1), _data((4,), seed=2)  # b broadcasts against a
    number = 0.7 if kb == "number" else 3

    def make(entry, as_array):
        def run():
            leaf_a, a = _operand(ka, a_data)
            if kb in ("number", "int"):
                b, leaves = (np.array(number, np.float32) if as_array else number), [leaf_a]
            else:
                leaf_b, b = _operand(kb, b_data)
                leaves = [leaf_a, leaf_b]
            return entry(a, b), leaves

        return run

    _compare(make(fast, False), make(lambda a, b: apply(cls, a, b), True))


@pytest.mark.parametrize("shape,dtype", [((), np.float32), ((3,), np.float64)])
@pytest.mark.parametrize("case", BINARY, ids=_ids)
def test_binary_0d_and_float64(case, shape, dtype):
    cls, fast = case
    a_data, b_data = _data(shape, dtype, 1), _data(shape, dtype, 2)

    def make(entry):
        def run():
            a = ember.tensor(a_data, requires_grad=True)
            b = ember.tensor(b_data, requires_grad=True)
            return entry(a, b), [a, b]

        return run

    _compare(make(fast), make(lambda a, b: apply(cls, a, b)))


@pytest.mark.parametrize("case", UNARY + BINARY, ids=_ids)
def test_under_no_grad(case):
    cls, fast = case
    x = ember.tensor(_data(), requires_grad=True)
    args = (x,) if cls.ufunc.nin == 1 else (x, x)
    with ember.no_grad():
        y = fast(*args)
    assert not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), apply(cls, *[a.detach() for a in args]).numpy())


def test_other_dtypes_take_the_general_path():
    """Integers promote, mixed float dtypes promote, as in PyTorch."""
    i = ember.tensor([1, 2, 3])
    assert (i * 2).dtype == ember.int64 and (i * 0.5).dtype == ember.float32
    assert ember.exp(i).dtype == ember.float32
    d = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    f = ember.tensor([1.0, 2.0], requires_grad=True)
    (d * f).sum().backward()
    assert (d * f).dtype == ember.float64 and f.grad.dtype == ember.float32
    p = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
    assert (p * 2).grad_fn.name() == "MulBackward0"


def test_shapes_that_do_not_broadcast():
    a = ember.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\[2, 3\].*\[4\]"):
        a * ember.ones(4)
    with pytest.raises(RuntimeError, match=r"\[2, 3\].*\[4\]"):
        a + ember.ones(4, requires_grad=True)


def test_the_version_check():
    """What the fast path's node saved (an output, an input, a factor), changed in place
    before backward, raises; what it did not save may change."""
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    h = x * 2
    y = h.exp()  # saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    h = x * 2
    z = h.log()  # saves its input
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    c = ember.tensor([3.0, 4.0])
    m = x * c  # saves c, which x's gradient needs
    c.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        m.sum().backward()
    h = x * 2
    k = h * 0.7  # saves only the 0.7: h may change
    h.add_(1)
    k.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.4, 1.4], rtol=1e-6)


def test_a_stale_view_is_made_again():
    """A view whose base changed in place since: the general path remakes its node first,
    so the gradient flows through the in-place op."""
    for fast in (ember.exp, lambda v: v * 2.0, lambda v: v + v, lambda v: v.sum(), lambda v: v**2):
        x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
        base = x * 1.0
        v = base[1:]
        base.mul_(3)
        fast(v).sum().backward()
        reference = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
        fast((reference * 3.0)[1:]).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), reference.grad.numpy(), rtol=1e-6)


REDUCING = [
    ("sum", lambda x: x.sum(), lambda x: apply_one(reduction.Sum, x, None, False)),
    ("pow2", lambda x: x**2, lambda x: apply_one(ew.Pow, x, 2)),
    ("pow1.5", lambda x: x**1.5, lambda x: apply_one(ew.Pow, x, 1.5)),
]


@pytest.mark.parametrize("kind", ["leaf", "nonleaf", "view", "constant", "0-d"])
@pytest.mark.parametrize("case", REDUCING, ids=lambda c: c[0])
def test_sum_and_power_match_apply_one(case, kind):
    """`x.sum()` and `x ** p` (fastpath.total and power) against the general path."""
    _, fast, general = case
    data = _data(() if kind == "0-d" else (3, 4))

    def make(entry):
        def run():
            leaf, x = _operand("leaf" if kind == "0-d" else kind, data)
            return entry(x), [leaf]

        return run

    _compare(make(fast), make(general))


def test_sum_and_power_under_no_grad():
    x = ember.tensor(_data(), requires_grad=True)
    with ember.no_grad():
        s, p = x.sum(), x**2
    assert s.grad_fn is None and p.grad_fn is None and s.shape == ()
    np.testing.assert_array_equal(s.numpy(), np.add.reduce(x.detach().numpy(), None))
    np.testing.assert_array_equal(p.numpy(), x.detach().numpy() ** 2)


def test_power_keeps_the_version_check():
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    h = x * 2
    y = h**2  # saves its input
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
