"""Regression tests for the ops made faster after bench/ops.py's sweep (twentieth session):
each rewritten op's values and gradients against PyTorch, on the inputs where the old code
and the new one could differ (negative bases, ties, repeated indices, edges)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import assert_close, requires_torch
from ember.autograd import gradcheck

pytestmark = requires_torch


def _both(array: np.ndarray, grad: bool = True):
    """The same data as an ember tensor and a torch tensor, both requiring grad if asked."""
    import torch

    return ember.tensor(array, requires_grad=grad), torch.tensor(array, requires_grad=grad)


def _bits(a) -> np.ndarray:
    a = np.asarray(a.detach().numpy() if hasattr(a, "detach") else a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


# --- x ** p for a number p -----------------------------------------------------------
SIGNED = np.concatenate([np.linspace(-3, 3, 601), [0.0, -0.0, np.inf, -np.inf, 1e-30, -1e-30, 1e20, -1e20]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [3, 3.0, -2, -0.5])
def test_pow_special_exponents_bit_for_bit(dtype, p):
    """3, -2 and -0.5 are products and a square root in PyTorch: the same bits here."""
    x = SIGNED.astype(dtype)
    a, b = _both(x, grad=False)
    with np.errstate(invalid="ignore"):
        got, want = (a**p).numpy(), (b**p).numpy()
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(got)
    assert np.array_equal(_bits(got[ok]), _bits(want[ok]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [4, 5, -1, -3, -4, 7, 1, 0, 2.0, -5.0])
def test_pow_whole_exponents_of_negative_bases(dtype, p):
    """Whole exponents of negative bases: the sign of odd powers, zeros and infinities
    signed as in PyTorch, values within an ulp, and the gradient."""
    x = SIGNED.astype(dtype)
    a, b = _both(x)
    ya, yb = a**p, b**p
    got, want = ya.detach().numpy(), yb.detach().numpy()
    assert np.array_equal(np.signbit(got), np.signbit(want))
    assert np.array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=2 * np.finfo(dtype).eps, atol=0)
    weight = np.where(np.abs(x) < 10, 1.0, 0.0).astype(dtype)  # gradients of finite values
    (ya * ember.tensor(weight)).sum().backward()
    import torch

    (yb * torch.tensor(weight)).sum().backward()
    assert_close(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [5, -3, -2])
def test_pow_of_a_0d_tensor(dtype, p):
    """A 0-d base: NumPy gives scalars there, which copysign's out= refused (x ** 5, and the
    backward of x ** -2, which raises x to -3, raised TypeError)."""
    a, b = _both(np.array(-2.0, dtype))
    ya, yb = a**p, b**p
    ya.backward()
    yb.backward()
    assert ya.item() == yb.item()
    assert a.grad.item() == b.grad.item()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pow_huge_int_exponent_sign_as_torch(dtype):
    """2 ** 53 + 1 is raised as the float 2 ** 53, an even power: the sign is that power's."""
    a, b = _both(np.array([-2.0, -1.0, -0.5], dtype), grad=False)
    assert np.array_equal((a ** (2**53 + 1)).numpy(), (b ** (2**53 + 1)).numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [3, 4, -1, 0.5])
def test_pow_backward_bit_for_bit(dtype, p):
    """The backward multiplies as PyTorch's pow_backward, grad * (p * x ** (p - 1)): where
    x ** (p - 1) has PyTorch's bits, so has the gradient ((grad * p) * ... rounds apart)."""
    x = np.random.default_rng(0).standard_normal(2000).astype(dtype)
    x = np.abs(x) if p == 0.5 else x
    g = np.random.default_rng(1).standard_normal(2000).astype(dtype)
    a, b = _both(x)
    import torch

    (a**p).backward(ember.tensor(g))
    (b**p).backward(torch.tensor(g))
    assert np.array_equal(_bits(a.grad), _bits(b.grad))


@pytest.mark.parametrize("p", [3, 4, -3])
def test_pow_gradcheck(p):
    x = ember.tensor(np.linspace(-2, 2, 7) + 0.05, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: t**p, (x,))


# --- np.add.at through flat positions (ember.ops._add_at) ----------------------------
@st.composite
def _at_cases(draw):
    """An output array, an index into it (rows, rows with negatives, index tuples, masks,
    slices with arrays) with repeats, and values of the indexed shape."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["rows", "negative rows", "tuple", "mask", "slice+array"]))
    n = shape[0]
    if kind == "rows":
        index = rng.integers(0, n, draw(st.integers(0, 9)))
    elif kind == "negative rows":
        index = rng.integers(-n, n, (2, draw(st.integers(1, 4))))
    elif kind == "tuple":
        m = draw(st.integers(1, 12))
        index = tuple(rng.integers(0, k, m) for k in shape)
    elif kind == "mask":
        index = rng.random(shape) > 0.5
    else:
        index = (slice(None), rng.integers(0, shape[1], 6)) if len(shape) > 1 else rng.integers(0, n, 3)
    out = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4, shape)
    values = rng.standard_normal(out[index].shape) * 10.0 ** rng.integers(-3, 4, out[index].shape)
    return out.astype(np.float32), index, values.astype(np.float32)


@settings(max_examples=150, deadline=None)
@given(_at_cases(), st.sampled_from(["add", "maximum", "multiply"]))
def test_ufunc_at_same_bits_as_numpy(case, name):
    """ufunc_at adds (or takes maxima, products) in NumPy's order: the same bits as ufunc.at."""
    from unittest import mock

    from ember.ops import _add_at

    out, index, values = case
    ufunc = getattr(np, name)
    want = out.copy()
    ufunc.at(want, index, values)
    with mock.patch.object(_add_at, "MIN_VALUES", 0):  # the flat positions even for these few
        _add_at.ufunc_at(ufunc, out, index, values)
    assert np.array_equal(_bits(out), _bits(want))


def test_add_at_of_few_values_calls_numpy_directly(monkeypatch):
    """A few values (the backward of x[i] on a small x) go straight to np.add.at, whose
    general loop costs less there than making the flat positions (1.4 us against 10 us)."""
    from ember.ops import _add_at

    def refuse(*args):
        raise AssertionError("flat positions made for 12 values")

    monkeypatch.setattr(_add_at, "_flat_positions", refuse)
    out, want = np.zeros((10, 4)), np.zeros((10, 4))
    _add_at.add_at(out, np.array([1, 3, 3]), np.ones((3, 4)))
    np.add.at(want, np.array([1, 3, 3]), np.ones((3, 4)))
    assert np.array_equal(out, want)


def test_add_at_out_of_range_raises_as_numpy():
    from ember.ops._add_at import add_at

    with pytest.raises(IndexError):
        add_at(np.zeros((3, 2)), np.array([0, 3]), np.ones((2, 2)))


def _grads(T, fn, arrays, grad_mask):
    tensors = [T.tensor(a, requires_grad=g) for a, g in zip(arrays, grad_mask)]
    out = fn(T, *tensors)
    weight = np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(np.float32)
    (out * T.tensor(weight)).sum().backward()
    return [out.detach().numpy()] + [t.grad.numpy() for t, g in zip(tensors, grad_mask) if g]


def _compare(fn, arrays, grad_mask, rtol=1e-6, atol=1e-6):
    import torch

    for got, want in zip(_grads(ember, fn, arrays, grad_mask), _grads(torch, fn, arrays, grad_mask)):
        assert_close(got, want, rtol=rtol, atol=atol)


R = np.random.default_rng(7)
X = R.standard_normal((6, 5)).astype(np.float32)
REPEATED = np.array([0, 5, 5, 2, -1, 0, 0])
SCATTER_INDEX = R.integers(0, 5, (6, 4))
GATHER_INDEX = R.integers(0, 6, (9, 5))


@pytest.mark.parametrize(
    "name, fn, arrays, grad_mask",
    [
        ("getitem rows", lambda T, x: x[T.tensor(REPEATED)], [X], [True]),
        ("getitem pairs", lambda T, x: x[T.tensor(REPEATED), T.tensor(REPEATED % 5)], [X], [True]),
        ("getitem mask", lambda T, x: x[x > 0], [X], [True]),
        (
            "index_add",
            lambda T, x, s: x.index_add(0, T.tensor(REPEATED % 6), s, alpha=2),
            [X, R.standard_normal((7, 5)).astype(np.float32)],
            [True, True],
        ),
        (
            "index_add dim 1",
            lambda T, x, s: x.index_add(1, T.tensor([4, 4, 0]), s),
            [X, R.standard_normal((6, 3)).astype(np.float32)],
            [True, True],
        ),
        (
            "scatter_add",
            lambda T, x, s: x.scatter_add(1, T.tensor(SCATTER_INDEX), s),
            [X, R.standard_normal((6, 4)).astype(np.float32)],
            [True, True],
        ),
        (
            "gather",
            lambda T, x: x.gather(0, T.tensor(GATHER_INDEX)),
            [X],
            [True],
        ),
        (
            "embedding",
            lambda T, w: T.nn.functional.embedding(T.tensor([[1, 3, 3], [0, 1, 1]]), w),
            [X],
            [True],
        ),
    ],
)
def test_scatters_values_and_grads(name, fn, arrays, grad_mask):
    _compare(fn, arrays, grad_mask)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_values_and_grads(reduce, include_self):
    rng = np.random.default_rng(3)
    index = rng.integers(0, 4, (6, 4))
    src = np.round(rng.standard_normal((6, 4)), 1).astype(np.float32)  # ties for amax/amin
    _compare(
        lambda T, x, s: x.scatter_reduce(1, T.tensor(index), s, reduce, include_self=include_self),
        [np.round(X, 1), src],
        [True, True],
        rtol=1e-5,
    )


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets", [None, [0, 2, 2, 7]])
def test_embedding_bag_values_and_grads(mode, offsets):
    tokens = np.array([[1, 4, 4, 0], [3, 3, 2, 5]]) if offsets is None else np.array([1, 4, 4, 0, 3, 3, 2, 5])
    args = {} if offsets is None else {"offsets": offsets}

    def fn(T, w):
        extra = {k: T.tensor(v) for k, v in args.items()}
        return T.nn.functional.embedding_bag(T.tensor(tokens), w, mode=mode, **extra)

    _compare(fn, [X], [True])


# --- topk, kthvalue, median by partition -----------------------------------------------
def _stable_order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    return x.shape[axis] - 1 - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.tuples(st.integers(1, 5), st.integers(4, 40)),
    st.sampled_from([0.3, 3.0, 1000.0]),
    st.booleans(),
    st.booleans(),
)
def test_topk_kthvalue_median_pick_the_stable_sorts_elements(seed, shape, scale, nan, transpose):
    """With ties, -0.0 and NaNs, the indices are those of the stable sort, as before."""
    from unittest import mock

    from ember.ops.api import indexing

    with mock.patch.object(indexing, "_partition_pays", lambda x, axis: True):  # even these small ones
        _check_selections(seed, shape, scale, nan, transpose)


def _check_selections(seed, shape, scale, nan, transpose):
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(shape) * scale).astype(np.float32)
    if nan:
        x.flat[rng.integers(0, x.size, 2)] = np.nan
    x[x == 0] = -0.0 if seed % 2 else 0.0
    if transpose:
        x = x.T
    axis = 1 - transpose
    n = x.shape[axis]
    t = ember.tensor(x)
    for k in {1, 2, n // 4, n // 2, n}:
        if k < 1:
            continue
        for largest in (True, False):
            want = np.take(_stable_order(x, axis, largest), range(k), axis=axis)
            assert np.array_equal(t.topk(k, axis, largest).indices.numpy(), want)
        want = np.take(_stable_order(x, axis, False), k - 1, axis=axis)
        assert np.array_equal(t.kthvalue(k, axis).indices.numpy(), want)
    if not nan:
        want = np.take(_stable_order(x, axis, False), (n - 1) // 2, axis=axis)
        assert np.array_equal(t.median(axis).indices.numpy(), want)


def test_selections_of_small_inputs_sort(monkeypatch):
    """A small input is sorted, not partitioned: the partition's dozen NumPy calls made
    topk(2) of a (4, 8) tensor 78 us against 17 us for the sort."""

    def refuse(*args, **kwargs):
        raise AssertionError("partitioned a (4, 8) array")

    x = ember.tensor(np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32))
    monkeypatch.setattr(np, "partition", refuse)
    values = [x.topk(2, 1).indices, x.kthvalue(2, 1).indices, x.median(1).indices]
    monkeypatch.undo()
    order = np.argsort(x.numpy(), 1, kind="stable")
    assert np.array_equal(values[0].numpy(), order[:, ::-1][:, :2])
    assert np.array_equal(values[1].numpy(), order[:, 1])
    assert np.array_equal(values[2].numpy(), order[:, 3])


@pytest.mark.parametrize("op", ["topk", "kthvalue", "median", "nanmedian"])
def test_selections_against_torch(op):
    """Distinct values (so the chosen indices are unique): values, indices and gradients."""
    x = np.random.default_rng(5).permutation(64 * 40).reshape(64, 40).astype(np.float32) / 7
    call = {
        "topk": lambda T, t: t.topk(5, 1),
        "kthvalue": lambda T, t: t.kthvalue(10, 1, keepdim=True),
        "median": lambda T, t: t.median(0),
        "nanmedian": lambda T, t: t.nanmedian(1),
    }[op]
    (a, b) = _both(x)
    ra, rb = call(ember, a), call(None, b)
    assert np.array_equal(ra.indices.numpy(), rb.indices.numpy())
    assert np.array_equal(ra.values.detach().numpy(), rb.values.detach().numpy())
    w = np.arange(ra.values.numel(), dtype=np.float32).reshape(tuple(ra.values.shape))
    (ra.values * ember.tensor(w)).sum().backward()
    import torch

    (rb.values * torch.tensor(w)).sum().backward()
    assert np.array_equal(a.grad.numpy(), b.grad.numpy())


def test_topk_and_median_of_bfloat16_with_nan():
    """A bfloat16 NaN is a NaN too: topk and median leave the partition to the sort there,
    as for float32 (the partition's checks read only kind 'f' and dropped the NaN)."""
    pytest.importorskip("ml_dtypes")
    import torch

    rows = [[float("nan")] + list(range(1, 12)), list(range(12))]
    a, b = ember.tensor(rows, dtype=ember.bfloat16), torch.tensor(rows, dtype=torch.bfloat16)
    got, want = a.topk(2, 1), b.topk(2, 1)
    assert_close(got.values.float().numpy(), want.values.float().numpy())
    assert got.indices.tolist() == want.indices.tolist()
    row = [[3.0, 3.0, 1.0, 1.0, 2.0, float("nan")]]
    assert np.isnan(ember.tensor(row, dtype=ember.bfloat16).median(1).values.float().item())


# --- grid_sample's forward by one flat gather ----------------------------------------
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grid_sample_forward_against_torch(mode, padding_mode, dtype):
    """Points outside the input, several channels and samples; with zero padding, taps
    outside read zeros even beside an inf pixel, and a NaN point gives NaN in bicubic mode. (Border and
    reflection padding of a NaN point follow PyTorch's CUDA kernel: see _pad.)"""
    import torch

    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 5, 6, 7)).astype(dtype)
    grid = (rng.random((2, 4, 9, 2)) * 3 - 1.5).astype(dtype)
    grid[1, 0, 0] = (-1.2, -1.3)
    if padding_mode == "zeros":
        x[:, :, 0, 0] = np.inf  # an outside tap clamped onto this pixel must still read 0
        if mode == "bicubic":  # bilinear gives 0 there, PyTorch NaN (as before this change)
            grid[0, 0, 0] = np.nan
    args = dict(mode=mode, padding_mode=padding_mode, align_corners=False)
    with np.errstate(invalid="ignore"):
        got = ember.nn.functional.grid_sample(ember.tensor(x), ember.tensor(grid), **args).numpy()
    want = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(grid), **args).numpy()
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert_close(got[ok], want[ok], rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5)


# --- multinomial without a loop over rows ----------------------------------------------
def test_multinomial_with_replacement_draws_as_the_row_by_row_choice():
    """The same uniform numbers in the same order as Generator.choice row by row: the same
    draws as before the rows were vectorized."""
    from ember import random as ember_random

    p = np.random.default_rng(0).random((6, 7))
    p[1, 3] = 0
    ember.manual_seed(3)
    got = ember.tensor(p).multinomial(5, replacement=True).numpy()
    ember.manual_seed(3)
    rng = ember_random.rng(None)
    want = np.array([rng.choice(7, 5, replace=True, p=r / r.sum()) for r in p])
    assert np.array_equal(got, want)
    assert got.dtype == np.int64


def test_multinomial_with_replacement_many_categories_and_draws():
    """Many draws from many categories (a WeightedRandomSampler over a dataset) search each
    row: the same draws as Generator.choice, without a categories-by-draws array (30 000 of
    each took 2 s and 900 MB)."""
    import tracemalloc

    from ember import random as ember_random

    p = np.random.default_rng(0).random((2, 20000))
    ember.manual_seed(3)
    tracemalloc.start()
    got = ember.tensor(p).multinomial(20000, replacement=True).numpy()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2**20
    ember.manual_seed(3)
    rng = ember_random.rng(None)
    want = np.array([rng.choice(20000, 20000, replace=True, p=r / r.sum()) for r in p])
    assert np.array_equal(got, want)


def test_multinomial_without_replacement_law():
    """Each position's category frequencies, over 4000 draws of all 3 categories of 16 rows,
    are those of drawing one at a time and renormalizing; zero weights come last; no repeats."""
    w = np.array([0.1, 0.2, 0.7])
    draws = ember.tensor(np.tile(w, (4000, 1))).multinomial(3).numpy()
    assert (np.sort(draws, 1) == np.arange(3)).all()
    first = np.bincount(draws[:, 0], minlength=3) / len(draws)
    np.testing.assert_allclose(first, w, atol=0.03)
    # P(second = j) = sum_i w_i w_j / (1 - w_i)
    second = np.array([sum(w[i] * w[j] / (1 - w[i]) for i in range(3) if i != j) for j in range(3)])
    np.testing.assert_allclose(np.bincount(draws[:, 1], minlength=3) / len(draws), second, atol=0.03)
    assert ember.tensor([0.5, 0.0, 0.0]).multinomial(2).tolist() == [0, 1]  # as PyTorch


@pytest.mark.parametrize(
    "probs, n, replacement",
    [
        ([0.2, -0.1], 1, False),
        ([0.0, 0.0], 1, True),
        ([0.5, 0.5], 3, False),
        ([float("nan"), 1.0], 1, True),
        ([[0.2, 0.8]], 0, True),
        ([[[0.2, 0.8]]], 1, True),
    ],
)
def test_multinomial_errors_as_torch(probs, n, replacement):
    import torch

    with pytest.raises(RuntimeError) as want:
        torch.tensor(probs).multinomial(n, replacement)
    with pytest.raises(RuntimeError) as got:
        ember.tensor(probs).multinomial(n, replacement)
    assert str(got.value) == str(want.value)


# --- mode without a loop over rows -----------------------------------------------------
def _mode_row_by_row(x: np.ndarray) -> np.ndarray:
    """The index mode picked before the rows were vectorized: the last, in the stable
    order, of the first longest run of equal values (NaNs never equal)."""
    out = []
    for row in x.reshape(-1, x.shape[-1]):
        order = np.argsort(row, kind="stable")
        s = row[order]
        starts = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]]))
        lengths = np.diff(np.append(starts, len(row)))
        best = int(np.argmax(lengths))
        out.append(order[starts[best] + lengths[best] - 1])
    return np.array(out).reshape(x.shape[:-1])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 30), st.booleans())
def test_mode_picks_as_the_row_loop(seed, rows, n, nan):
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, (rows, n)).astype(np.float32)
    if nan:
        x[rng.random(x.shape) < 0.2] = np.nan
    result = ember.tensor(x).mode(1)
    assert np.array_equal(result.indices.numpy(), _mode_row_by_row(x))
    assert np.array_equal(result.values.numpy(), x[np.arange(rows), _mode_row_by_row(x)], equal_nan=True)


def test_mode_values_against_torch():
    """The values; PyTorch's index among equal values depends on its kernel (ember's is the
    last in the stable order, as before this change)."""
    x = np.random.default_rng(2).integers(0, 5, (4, 3, 50)).astype(np.float64)
    a, b = _both(x, grad=False)
    assert np.array_equal(a.mode(2).values.numpy(), b.mode(2).values.numpy())
    assert np.array_equal(a.mode(0).values.numpy(), b.mode(0).values.numpy())


# --- lgamma: each Taylor branch evaluated only where it is used ---------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lgamma_against_torch(dtype):
    """Every branch: below 0.5, [0.5, 1.5), [1.5, 8), the asymptotic series, reflection,
    poles and infinities; and the gradient (digamma)."""
    x = np.concatenate(
        [np.linspace(-7.5, 12, 391), [1e-30, 0.5, 1.5, 2.5, 8.0, 1e5, 0.0, -1.0, -3.0, np.inf, -np.inf]]
    ).astype(dtype)
    a, b = _both(x, grad=False)
    got, want = ember.lgamma(a).numpy(), b.lgamma().numpy()
    assert np.array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    tol = 1e-6 if dtype == "float32" else 1e-13
    assert_close(got[finite], want[finite], rtol=tol, atol=tol)
    ok = np.isfinite(want) & (x != np.round(x))  # away from the poles
    a, b = _both(x[ok])
    ember.lgamma(a).sum().backward()
    b.lgamma().sum().backward()
    assert_close(a.grad.numpy(), b.grad.numpy(), rtol=1e-5 if dtype == "float32" else 1e-11, atol=1e-6)


# --- gather and scatter_add through flat positions ------------------------------------
@pytest.mark.parametrize("dim", [0, 1, 2])
@pytest.mark.parametrize("transposed", [False, True])
def test_gather_scatter_add_3d_against_torch(dim, transposed, monkeypatch):
    """An index smaller than the input along the other dims, repeated positions, and a
    non-contiguous input (which takes the fancy-index path)."""
    import torch

    from ember.ops import _add_at

    monkeypatch.setattr(_add_at, "MIN_VALUES", 0)  # scatter_add's flat path for these 63

    rng = np.random.default_rng(dim)
    x = rng.standard_normal((4, 5, 6)).astype(np.float32)
    if transposed:
        x = x.transpose(2, 1, 0)
    shape = [2, 3, 3]
    shape[dim] = 7
    index = rng.integers(0, x.shape[dim], shape)
    src = rng.standard_normal(shape).astype(np.float32)
    _compare(lambda T, t: t.gather(dim, T.tensor(index)), [x], [True])
    _compare(lambda T, t, s: t.scatter_add(dim, T.tensor(index), s), [x, src], [True, True])
    # a src larger than the index: PyTorch's backward fails there (docs/differences.md)
    big = rng.standard_normal([n + 1 for n in shape]).astype(np.float32)
    a, b = _both(big)
    got = ember.tensor(x).scatter_add(dim, ember.tensor(index), a)
    want = torch.tensor(x).scatter_add(dim, torch.tensor(index), b)
    assert_close(got.detach().numpy(), want.detach().numpy())
    weight = rng.standard_normal(x.shape).astype(np.float32)
    (got * ember.tensor(weight)).sum().backward()
    expected = np.zeros_like(big)
    grids = list(np.indices(shape, sparse=True))
    grids[dim] = index
    expected[tuple(slice(0, n) for n in shape)] = weight[tuple(grids)]
    assert np.array_equal(a.grad.numpy(), expected)


def test_scatter_add_of_a_small_index_adds_directly(monkeypatch):
    """A small index goes straight to np.add.at: its flat positions cost more than they
    save there (scatter_add of a (3, 2) index took 32 us against 16 before them)."""
    from ember.ops import shape

    def refuse(*args):
        raise AssertionError("flat positions made for 6 values")

    monkeypatch.setattr(shape, "_flat_along", refuse)
    got = ember.zeros(3, 4).scatter_add(1, ember.tensor([[0, 1], [2, 3], [1, 1]]), ember.ones(3, 2))
    assert got.tolist() == [[1, 1, 0, 0], [0, 0, 1, 1], [0, 2, 0, 0]]


# --- found by the sweep: linalg.cholesky warned as the deprecated torch.cholesky -------------
def test_linalg_cholesky_does_not_warn(recwarn):
    a = ember.eye(3) * 2
    ember.linalg.cholesky(a)
    ember.linalg.cholesky_ex(a)
    ember.distributions.MultivariateNormal(ember.zeros(3), a).log_prob(ember.zeros(3))
    assert not [w for w in recwarn if "deprecated" in str(w.message)]
    with pytest.warns(UserWarning, match="torch.cholesky is deprecated"):
        ember.cholesky(a)
