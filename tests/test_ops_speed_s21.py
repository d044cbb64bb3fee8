"""Ops made faster (the slowest of bench/ops.py's sweep): the same values, gradients and
behaviour as PyTorch after the change, and, where a faster method could change the bits of
a float32 result, the same bits as before.

Tensor.unfold became a view of its input (as PyTorch's), not an indexed copy: writing
through a window reaches the input, and its gradient adds each window back in place.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import requires_torch
from ember.autograd import gradcheck, gradgradcheck

_G = np.random.default_rng(21)


def _pair(a: np.ndarray, grad: bool = False) -> tuple:
    """The same array as an ember and a torch tensor."""
    import torch

    return ember.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _np(t) -> np.ndarray:
    return t.detach().numpy()


# ---- Tensor.unfold: a view ----------------------------------------------------------------

UNFOLDS = [  # (shape, dimension, size, step): overlapping, touching, gapped windows, edges
    ((4, 10), 1, 4, 3),
    ((4, 10), 1, 4, 1),
    ((4, 10), 1, 2, 3),
    ((4, 10), -1, 10, 1),
    ((4, 10), 0, 2, 2),
    ((3, 5, 6), 1, 3, 1),
    ((3, 5, 6), 2, 1, 1),
    ((3, 5, 6), 0, 0, 1),
    ((2, 0, 4), 2, 2, 1),
    ((), 0, 1, 1),
    ((), -1, 0, 2),
]


@requires_torch
@pytest.mark.parametrize("shape, dim, size, step", UNFOLDS)
def test_unfold_values_strides_and_gradient_as_torch(shape, dim, size, step) -> None:
    import torch

    a = _G.standard_normal(shape).astype(np.float32)
    e, t = _pair(a, grad=True)
    ye, yt = e.unfold(dim, size, step), t.unfold(dim, size, step)
    assert ye.shape == yt.shape and ye.stride() == yt.stride()
    np.testing.assert_array_equal(_np(ye), _np(yt))
    assert ye._base is e and ye.grad_fn.name() == yt.grad_fn.name() == "UnfoldBackward0"
    w = _G.standard_normal(tuple(yt.shape)).astype(np.float32)
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


@requires_torch
def test_unfold_saved_attributes_as_torch() -> None:
    e, t = _pair(np.zeros((4, 10), np.float32), grad=True)
    ne, nt = e.unfold(-1, 4, 3).grad_fn, t.unfold(-1, 4, 3).grad_fn
    for name in ("_saved_dimension", "_saved_size", "_saved_step", "_saved_self_sym_sizes"):
        assert getattr(ne, name) == getattr(nt, name), name


def test_unfold_writes_reach_the_base(T) -> None:
    base = T.arange(12.0).reshape(3, 4).clone()
    windows = base.unfold(1, 2, 2)
    windows[1, 0, 1] = -1.0
    windows[:, 1].mul_(10)
    assert base.tolist() == [[0, 1, 20, 30], [4, -1, 60, 70], [8, 9, 100, 110]]
    assert windows._base is base and windows._version == base._version
    assert windows.unfold(0, 2, 1)._base is base  # a view of a view has the first one's base


def test_unfold_inplace_through_the_view_is_recorded(T) -> None:
    leaf = T.arange(8.0, requires_grad=True)
    x = leaf.clone()
    x.unfold(0, 3, 3).mul_(T.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert x.grad_fn.name().endswith("CopySlices")
    (x * x).sum().backward()
    # d/dleaf of (leaf * w)^2 = 2 * leaf * w^2, w = 1 outside the windows
    w = np.array([1, 2, 3, 4, 5, 6, 1, 1], np.float32)
    np.testing.assert_allclose(leaf.grad.numpy(), 2 * np.arange(8) * w**2)


def test_unfold_of_a_leaf_refuses_inplace(T) -> None:
    leaf = T.ones(6, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        leaf.unfold(0, 2, 2).add_(1)


def test_unfold_backward_runs_twice(T) -> None:
    x = T.ones(2, 7, requires_grad=True)
    y = (x.unfold(1, 3, 1) * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [[4.0, 8.0, 12.0, 12.0, 12.0, 8.0, 4.0]] * 2


@requires_torch
@pytest.mark.parametrize("shape, size, step", [((), 2, 1), ((5,), -1, 1), ((5,), -1, 0)])
def test_unfold_errors_as_torch(shape, size, step) -> None:
    """A 0-d tensor's message names dimension 0 (not None); a negative size is PyTorch's
    RuntimeError, not NumPy's ValueError from as_strided."""
    import torch

    messages = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as caught:
            lib.zeros(shape).unfold(0, size, step)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


@requires_torch
def test_unfold_double_backward_node_as_torch() -> None:
    import torch

    names = []
    for lib in (ember, torch):
        x = lib.arange(10.0, requires_grad=True)
        (g,) = lib.autograd.grad((x.unfold(0, 4, 3) ** 2).sum(), x, create_graph=True)
        names.append(g.grad_fn.name())
    assert names == ["UnfoldBackwardBackward0"] * 2


@requires_torch
@pytest.mark.parametrize("op", ["mul_", "add_"])
def test_unfold_overlapping_inplace_gradient_counts_each_element_once(op) -> None:
    """In-place through overlapping windows changes each shared element once in ember; its
    gradient did count once per window (x.grad [3, 6, 6, 6, 3] for mul_(3)), through the
    view's own backward. Now the gradient reaches each element once, as PyTorch's."""
    grads = []
    for lib in (ember, __import__("torch")):
        x = lib.arange(1.0, 6.0, requires_grad=True)
        b = x * 1
        getattr(b.unfold(0, 2, 1), op)(3.0)
        (b * lib.arange(5.0)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


@pytest.mark.parametrize("shape, dim, size, step", [((7,), 0, 3, 1), ((3, 8), 1, 4, 1), ((8, 3), 0, 5, 2)])
def test_unfold_overlapping_inplace_gradcheck(shape, dim, size, step) -> None:
    """Per-window operands through overlapping windows: the value NumPy wrote last to each
    shared element is the one that counts, and the gradients follow it (gradcheck's numbers
    come from those values)."""
    x = ember.tensor(_G.standard_normal(shape), requires_grad=True)
    w = ember.tensor(_G.standard_normal(tuple(x.unfold(dim, size, step).shape)), requires_grad=True)

    def multiplied(x, w):
        b = x * 1
        b.unfold(dim, size, step).mul_(w)
        return b

    def copied(x, w):
        b = x.mT * 1 if x.ndim == 2 else x * 1  # a non-contiguous base too
        b.mT.unfold(dim, size, step).copy_(w * 2) if x.ndim == 2 else b.unfold(dim, size, step).copy_(w * 2)
        return b

    assert gradcheck(multiplied, (x, w)) and gradcheck(copied, (x, w))
    assert gradgradcheck(multiplied, (x, w))


@pytest.mark.parametrize("dtype", [ember.float16, ember.float32, ember.float64])
def test_unfold_overlapping_copy_gradient_reaches_the_values_kept(dtype) -> None:
    """copy_ of distinct values into overlapping windows: exactly the source elements whose
    value is now in the base get a gradient (for every dtype: the mask is found by writing
    positions as the forward wrote values)."""
    x = ember.zeros(3, 9, dtype=dtype, requires_grad=True)
    b = x * 1
    src = ember.arange(1.0, 1.0 + 3 * 4 * 6, dtype=dtype).reshape(3, 4, 6).requires_grad_()
    b.unfold(1, 6, 1).copy_(src)
    b.sum().backward()
    kept = np.isin(src.detach().numpy(), b.detach().numpy())
    np.testing.assert_array_equal(src.grad.numpy(), kept.astype(src.grad.numpy().dtype))
    assert x.grad.numpy().sum() == 0


@pytest.mark.parametrize("shape, dim, size, step", [u for u in UNFOLDS if 0 not in u[0]])
def test_unfold_gradcheck_and_second_derivative(shape, dim, size, step) -> None:
    x = ember.tensor(_G.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda t: t.unfold(dim, size, step) ** 2, (x,))
    assert gradgradcheck(lambda t: t.unfold(dim, size, step) ** 2, (x,))


@requires_torch
@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=3),
    st.data(),
)
def test_unfold_any_geometry_as_torch(shape, data) -> None:
    import torch

    a = _G.standard_normal(shape).astype(np.float32)
    e, t = _pair(a, grad=True)
    source_e, source_t = (e.mT, t.mT) if len(shape) > 1 else (e, t)  # strided, not contiguous
    dim = data.draw(st.integers(0, len(shape) - 1))
    size = data.draw(st.integers(0, source_t.shape[dim]))
    step = data.draw(st.integers(1, 4))
    ye, yt = source_e.unfold(dim, size, step), source_t.unfold(dim, size, step)
    np.testing.assert_array_equal(_np(ye), _np(yt))
    w = _G.standard_normal(tuple(yt.shape)).astype(np.float32)
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


# ---- float64 arange: bigger pieces, the same bits --------------------------------------


@pytest.mark.parametrize("start, end, step", [(0.0, 1000.0, 0.01), (-3.0, 7.0, 1e-4), (5.0, -5.0, -0.003)])
def test_float64_arange_keeps_its_bits(start, end, step) -> None:
    from ember import _spacing

    values = ember.arange(start, end, step, dtype=ember.float64).numpy()
    exact = _spacing.arange_floats_exact(start, step, values.size, np.dtype(np.float64))
    np.testing.assert_array_equal(values.view(np.int64), exact.view(np.int64))


@requires_torch
def test_float64_arange_bits_as_torch() -> None:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(ember.get_num_threads())  # the bits depend on the thread count
    try:
        expected = torch.arange(0.0, 1000.0, 0.01, dtype=torch.float64).numpy()
    finally:
        torch.set_num_threads(threads)
    values = ember.arange(0.0, 1000.0, 0.01, dtype=ember.float64).numpy()
    np.testing.assert_array_equal(values.view(np.int64), expected.view(np.int64))


# ---- embedding_bag: bags added a place at a time ---------------------------------------

BAGS = [  # (input shape or 1-D length, offsets, keyword arguments)
    ((16, 7), None, {"mode": "sum"}),
    ((16, 7), None, {"mode": "mean"}),
    ((16, 7), None, {"mode": "max"}),
    ((16, 7), None, {"mode": "sum", "per_sample_weights": True}),
    ((16, 7), None, {"mode": "mean", "padding_idx": 3}),
    (30, [0, 4, 4, 11, 29], {"mode": "sum"}),
    (30, [0, 4, 4, 11, 29], {"mode": "mean", "padding_idx": 2}),
    (30, [0, 4, 4, 11, 29], {"mode": "max"}),
    (30, [0, 4, 4, 11, 29], {"mode": "sum", "per_sample_weights": True, "padding_idx": 1}),
    (30, [0, 4, 11, 30], {"mode": "mean", "include_last_offset": True}),
    (40, [0, 40], {"mode": "sum"}),  # a long bag: add_at
    (40, [0, 40], {"mode": "sum", "per_sample_weights": True}),
]


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape, offsets, kw", BAGS)
def test_embedding_bag_as_torch(shape, offsets, kw, dtype) -> None:
    import torch

    table = _G.standard_normal((10, 5)).astype(dtype)
    index = _G.integers(0, 10, shape)
    index.reshape(-1)[:4] = 3  # a repeated row, and padding where padding_idx is 3
    outs, grads = [], []
    for lib in (ember, torch):
        weight = lib.tensor(table, requires_grad=True)
        args = dict(kw)
        if args.get("per_sample_weights"):
            args["per_sample_weights"] = lib.tensor(
                np.linspace(-1.3, 2.1, index.size).reshape(shape).astype(dtype)
            )
        given = None if offsets is None else lib.tensor(offsets)
        out = lib.nn.functional.embedding_bag(lib.tensor(index), weight, given, **args)
        (out * lib.tensor(np.arange(out.numel()).reshape(out.shape).astype(dtype))).sum().backward()
        outs.append(_np(out))
        grads.append(weight.grad.numpy())
    # the same bits: sums in PyTorch's order, a mean divided, a weighted row fused
    np.testing.assert_array_equal(outs[0], outs[1])
    # the weight's gradient adds a row's contributions in another order than PyTorch's: in
    # float32 that is a few 1e-6 apart (6 of 150 seeds passed 1e-6 in a long weighted bag)
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(grads[0], grads[1], rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_gradcheck(mode) -> None:
    weight = ember.tensor(_G.standard_normal((6, 3)), requires_grad=True)
    index = ember.tensor([1, 2, 2, 5, 0, 1, 3])
    offsets = ember.tensor([0, 3, 3, 5])

    def bags(w, psw=None):
        return ember.nn.functional.embedding_bag(index, w, offsets, mode=mode, per_sample_weights=psw)

    assert gradcheck(bags, (weight,))
    if mode == "sum":
        psw = ember.tensor(_G.standard_normal(7), requires_grad=True)
        assert gradcheck(bags, (weight, psw))
        assert gradgradcheck(bags, (weight, psw))


# ---- einsum: two operands that multiply as matrices go through matmul ------------------

EINSUMS = [
    ("bij,bjk->bik", (3, 4, 5), (3, 5, 2)),
    ("ij,jk->ki", (4, 5), (5, 3)),
    ("ij,j->i", (4, 5), (5,)),
    ("bhqd,bhkd->bhqk", (2, 3, 4, 5), (2, 3, 6, 5)),
    ("abc,cbd->da", (2, 3, 4), (4, 3, 5)),
    ("ij,ij->i", (4, 5), (4, 5)),  # no rows nor columns: einsum's loop
    ("ij,kj->ikj", (4, 5), (3, 5)),  # nothing summed
    ("ij,jk->ik", (4, 1), (5, 3)),  # j broadcast: einsum
]


@requires_torch
@pytest.mark.parametrize("equation, shape_a, shape_b", EINSUMS)
def test_einsum_as_torch(equation, shape_a, shape_b) -> None:
    import torch

    a = _G.standard_normal(shape_a).astype(np.float32)
    b = _G.standard_normal(shape_b).astype(np.float32)
    ea, ta = _pair(a, grad=True)
    eb, tb = _pair(b, grad=True)
    outcome = []
    for lib, x, y in ((ember, ea, eb), (torch, ta, tb)):
        try:
            out = lib.einsum(equation, x, y)
        except RuntimeError:
            outcome.append(None)
            continue
        w = np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape)) / 7
        (out * lib.tensor(w)).sum().backward()
        outcome.append((_np(out), x.grad.numpy(), y.grad.numpy()))
    if outcome[1] is None:
        assert outcome[0] is None
        return
    for mine, theirs in zip(outcome[0], outcome[1]):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("equation, shape_a, shape_b", EINSUMS[:5])
def test_einsum_matmul_gradcheck(equation, shape_a, shape_b) -> None:
    a = ember.tensor(_G.standard_normal(shape_a), requires_grad=True)
    b = ember.tensor(_G.standard_normal(shape_b), requires_grad=True)
    assert ember.einsum(equation, a, b).is_contiguous()
    assert gradcheck(lambda x, y: ember.einsum(equation, x, y), (a, b))
    assert gradgradcheck(lambda x, y: ember.einsum(equation, x, y), (a, b))


# ---- F.bilinear: two matrix products -----------------------------------------------------


@requires_torch
@pytest.mark.parametrize("lead", [(6,), (2, 3), (0,)])
def test_bilinear_as_torch(lead) -> None:
    import torch

    arrays = [
        _G.standard_normal(lead + (4,)).astype(np.float32),
        _G.standard_normal(lead + (5,)).astype(np.float32),
        _G.standard_normal((3, 4, 5)).astype(np.float32),
        _G.standard_normal(3).astype(np.float32),
    ]
    results = []
    for lib in (ember, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = lib.nn.functional.bilinear(*ts)
        (
            out * lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)).astype(np.float32))
        ).sum().backward()
        results.append([_np(out)] + [t.grad.numpy() for t in ts])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)


def test_bilinear_gradcheck() -> None:
    ts = [ember.tensor(_G.standard_normal(s), requires_grad=True) for s in ((3, 4), (3, 2), (5, 4, 2), (5,))]
    assert gradcheck(ember.nn.functional.bilinear, ts)
    assert gradgradcheck(ember.nn.functional.bilinear, ts)


# ---- grid_sample: non-finite positions as PyTorch's CPU kernels ------------------------


@requires_torch
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_non_finite_positions_as_torch(value, mode, padding_mode, align_corners) -> None:
    import torch

    image = np.arange(1, 21, dtype=np.float32).reshape(1, 1, 4, 5)
    grid = np.array([[[[value, 0.2], [0.1, value], [0.3, -0.6]]]], np.float32)
    outs = [
        _np(
            lib.nn.functional.grid_sample(
                lib.tensor(image), lib.tensor(grid), mode, padding_mode, align_corners
            )
        )
        for lib in (ember, torch)
    ]
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-6)  # NaN where torch's is NaN
    if mode == "bicubic":
        return
    volume = np.arange(1, 61, dtype=np.float32).reshape(1, 1, 3, 4, 5)
    grid3 = np.array([[[[[value, 0.2, 0.3], [0.1, value, -0.4], [0.1, 0.2, value]]]]], np.float32)
    outs = [
        _np(
            lib.nn.functional.grid_sample(
                lib.tensor(volume), lib.tensor(grid3), mode, padding_mode, align_corners
            )
        )
        for lib in (ember, torch)
    ]
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-6)
