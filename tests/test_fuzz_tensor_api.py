"""Regressions found by differential fuzzing of the less common torch.* and Tensor functions
(sorting, counting, scattering, creation, ...) against PyTorch: each test is the smallest case
of a discrepancy that random shapes, dtypes and values turned up."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch

pytestmark = requires_torch


def _same(e, t) -> None:
    """Same dtype, shape and values, to the bit."""
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize(
    "args",
    [
        (0, 10.5),
        (-8.4, 4, 1.33),
        (8.6, -7, -9),
        (0.5, 3.7, 1.9),
        (-14.68, -5.4, 3.7),
        (-1.5, 2.5, 1),
        (0.1, 4.04, 1.59),
    ],
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8"])
def test_arange_of_floats_into_an_integer_dtype_truncates_first(args, dtype):
    # PyTorch truncates start and step to integers before counting up (and, for int64, end
    # too before counting the elements): arange(0, 10.5, dtype=long) has 10 elements, not 11
    import torch

    _same(ember.arange(*args, dtype=getattr(ember, dtype)), torch.arange(*args, dtype=getattr(torch, dtype)))


def test_arange_int64_step_that_truncates_to_zero_raises():
    import torch

    with pytest.raises(ValueError, match="step must be nonzero"):
        torch.arange(0, 6.3, 0.583, dtype=torch.int64)
    with pytest.raises(ValueError, match="step must be nonzero"):
        ember.arange(0, 6.3, 0.583, dtype=ember.int64)
    _same(ember.arange(0, 6.3, 0.583, dtype=ember.int32), torch.arange(0, 6.3, 0.583, dtype=torch.int32))
    with pytest.raises(RuntimeError, match="unsupported range"):
        ember.arange(0, float("inf"))


@pytest.mark.parametrize(
    "args",
    [
        (-5, 1, 10),
        (0.7, 10.9, 7),
        (-0.7, -10, 7),
        (-7, 4.0, 34),
        (6.334, -9, 37),
        (-2, -5.56, 19),
        (0, 10, 20),
    ],
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16"])
def test_linspace_into_an_integer_dtype_as_pytorch(args, dtype):
    # the bounds are truncated first and each point is start + step * i (first half) or
    # end - step * (steps - 1 - i) (second half), rounded once; np.linspace differs
    import torch

    _same(
        ember.linspace(*args, dtype=getattr(ember, dtype)), torch.linspace(*args, dtype=getattr(torch, dtype))
    )


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_linspace_floats_to_the_bit(dtype):
    import torch

    rng = np.random.default_rng(0)
    for _ in range(200):
        start, end = np.round(rng.standard_normal(2) * 5, 3).tolist()
        steps = int(rng.integers(2, 40))
        _same(
            ember.linspace(start, end, steps, dtype=getattr(ember, dtype)),
            torch.linspace(start, end, steps, dtype=getattr(torch, dtype)),
        )


def test_linspace_bounds_outside_an_unsigned_dtype():
    import torch

    _same(ember.linspace(3.67, -3, 4, dtype=ember.uint8), torch.linspace(3.67, -3, 4, dtype=torch.uint8))
    for T in (torch, ember):
        with pytest.raises(RuntimeError, match="without overflow"):
            T.linspace(8.82, -3.53, 2, dtype=T.uint8)
        with pytest.raises(RuntimeError, match="without overflow"):
            T.linspace(-2.6, 5, 1, dtype=T.uint8)
    _same(ember.linspace(-2.6, 5, 0, dtype=ember.uint8), torch.linspace(-2.6, 5, 0, dtype=torch.uint8))


@pytest.mark.parametrize(
    "args",
    [(-0.8, 1.78, 11), (-5, 5.0, 7), (1.116, -1.72, 7), (6, -5.15, 4), (2.7, 5, 1), (3.888, -3.74, 11)],
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "float64"])
def test_logspace_as_pytorch(args, dtype):
    # integer dtypes truncate the bounds first (logspace(-0.8, 1.78, 11, dtype=int32) starts
    # at 10 ** 0 = 1); the powers are taken in float64
    import torch

    e = ember.logspace(*args, dtype=getattr(ember, dtype))
    t = torch.logspace(*args, dtype=getattr(torch, dtype))
    if dtype.startswith("float"):
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
        assert e.dtype == getattr(ember, dtype)
    else:
        _same(e, t)
    _same(
        ember.logspace(0, 3, 4, base=2, dtype=ember.int64), torch.logspace(0, 3, 4, base=2, dtype=torch.int64)
    )


@pytest.mark.parametrize(
    "x, source, alpha",
    [
        ([1, 2, 3], [1, 1, 1], 0.5),
        ([1, 2, 3], [1, 1, 1], 2.7),
        ([True, False, False], [True, True, False], 2),
    ],
)
def test_index_add_alpha_converted_to_an_integer_or_bool_input_dtype(x, source, alpha):
    # ember multiplied first, so ints with alpha=0.5 became float and bools int64; PyTorch
    # converts alpha to input's dtype (0.5 adds nothing to ints)
    import torch

    i = [0, 1, 1]
    t = torch.index_add(torch.tensor(x), 0, torch.tensor(i), torch.tensor(source), alpha=alpha)
    _same(ember.index_add(ember.tensor(x), 0, ember.tensor(i), ember.tensor(source), alpha=alpha), t)
    _same(ember.tensor(x).index_add_(0, ember.tensor(i), ember.tensor(source), alpha=alpha), t)


@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_amax_amin_of_bools_without_self(reduce):
    # the identity of amax/amin was looked up with np.iinfo, which refuses bool
    import torch

    x, i, s = [True, False, False], [0, 1, 1], [False, True, False]
    for include_self in (True, False):
        _same(
            ember.scatter_reduce(
                ember.tensor(x), 0, ember.tensor(i), ember.tensor(s), reduce, include_self=include_self
            ),
            torch.scatter_reduce(
                torch.tensor(x), 0, torch.tensor(i), torch.tensor(s), reduce, include_self=include_self
            ),
        )


def test_integer_division_by_zero_of_an_empty_tensor_divides_nothing():
    # ember raised ZeroDivisionError when the divisor had a zero even if the result was empty
    import torch

    for T in (torch, ember):
        z, u, b = T.zeros(0, dtype=T.int64), T.zeros(4, 0, 3, dtype=T.uint8), T.tensor([True, False, True])
        assert (z // 0).shape == (0,) and T.fmod(z, 0).shape == (0,) and T.remainder(z, 0).shape == (0,)
        for rounding_mode in ("floor", "trunc"):
            assert T.div(u, b, rounding_mode=rounding_mode).shape == (4, 0, 3)
        assert T.fmod(u, b).shape == (4, 0, 3) and T.remainder(u, b).shape == (4, 0, 3)
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            T.tensor([5]) // 0
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            T.fmod(T.tensor([5]), T.tensor([0]))


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_linear_gradient_in_q(name):
    # the linear interpolation weight q * (n - 1) - floor(...) depends on q; ember gave q no
    # gradient (None) where PyTorch gives (above - below) * (n - 1)
    import torch

    nan = float("nan")
    rows = [[3.0, 1.0, nan, 10.0], [1.0, 2.0, 3.0, 4.5]]
    grads = []
    for T in (ember, torch):
        x = T.tensor(rows, dtype=T.float64, requires_grad=True)
        q = T.tensor([0.3, 0.9, 1.0, 0.0], dtype=T.float64, requires_grad=True)
        y = getattr(T, name)(x, q, dim=-1, keepdim=True)
        w = T.arange(y.numel(), dtype=T.float64).reshape(y.shape)
        grads.append([g.detach().numpy() for g in T.autograd.grad((y * w).sum(), [x, q])])
    for e, t in zip(*grads):
        np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)
    x = ember.tensor([[3.0, 1.0, 7.0, 10.0], [1.0, 2.0, 3.0, 4.5]], dtype=ember.float64)
    q = ember.tensor([0.3, 0.55], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda q: getattr(ember, name)(x, q, dim=1), (q,))


@pytest.mark.parametrize("dims", [2, ([1, 2], [0, 1]), ([1], [0])])
def test_tensordot_over_an_empty_dimension(dims):
    # reshape(-1, 0) raised "shape '[-1, 0]' is invalid" when a contracted size was 0
    import torch

    a, b = np.random.randn(2, 0, 1), np.random.randn(0, 1, 3)
    results = []
    for T in (ember, torch):
        x, y = T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True)
        r = T.tensordot(x, y, dims)
        r.sum().backward()
        results.append((r, x.grad, y.grad))
    for e, t in zip(*results):
        _same(e.detach(), t.detach())


@pytest.mark.parametrize(
    "make",
    [
        lambda T: [T.tensor(1), T.tensor(2.5)],
        lambda T: [T.tensor(1), 2.5],
        lambda T: [T.tensor(1, dtype=T.uint8), T.tensor(1, dtype=T.int8)],
        lambda T: [T.tensor(1, dtype=T.int8), 300],
        lambda T: [[T.tensor(1.5, dtype=T.float64)], [2]],
        lambda T: [T.tensor(1.0, dtype=T.float16), 2],
        lambda T: [[T.tensor(1), 2], [3, T.tensor(4.5)]],
    ],
)
def test_tensor_of_a_list_holding_tensors_promotes_as_pytorch(make):
    # the elements were stacked by NumPy, whose int64 + float32 is float64; PyTorch's is float32
    import torch

    _same(ember.tensor(make(ember)), torch.tensor(make(torch)))


@pytest.mark.parametrize(
    "data", [2**63, [1, 2**63], [[1, 2], [3, 2**63]], [True, 2**63], [2**64], -(2**63) - 1]
)
def test_tensor_of_an_int_beyond_int64_raises(data):
    # NumPy made 2**63 a uint64 (wrapped to -2**63 by the cast to int64) and [1, 2**63] float64
    import torch

    for T in (torch, ember):
        with pytest.raises(ValueError, match="Overflow"):
            T.tensor(data)
    _same(ember.tensor(data, dtype=ember.float64), torch.tensor(data, dtype=torch.float64))
    _same(ember.tensor([1.5, 2**63]), torch.tensor([1.5, 2**63]))
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.full((1,), 2**63)


@pytest.mark.parametrize(
    "values, bins, bounds",
    [
        ([0.04, 0.9, 0.94, 0.04, 0.59], 10, (0.0, 1.0)),
        ([1.2, 0.6, 0.0, 0.1, 0.3, 1.6, 1.8, 1.0, 1.9, 1.4, 1.1, 0.5, 1.3, 0.7, 1.7], 10, (0.0, 1.0)),
        ([0.04, 0.58, 0.69, 0.76, 0.23, 0.94], 5, None),
        ([0.92], 10, None),
        ([0.7], 2, None),
    ],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_and_histogram_bins_of_elements_on_an_edge(values, bins, bounds, dtype):
    # PyTorch bins elements against edges computed by linspace in the input's dtype (and
    # histc by a division in that dtype); NumPy's float64 edges put some elements that lie on
    # an edge into the neighbouring bin
    import torch

    e, t = (
        ember.tensor(values, dtype=getattr(ember, dtype)),
        torch.tensor(values, dtype=getattr(torch, dtype)),
    )
    _same(ember.histc(e, bins, *(bounds or (0, 0))), torch.histc(t, bins, *(bounds or (0, 0))))
    for density in (False, True):
        he = ember.histogram(e, bins, range=bounds, weight=e, density=density)
        ht = torch.histogram(t, bins, range=bounds, weight=t, density=density)
        _same(he.bin_edges, ht.bin_edges)
        np.testing.assert_allclose(he.hist.numpy(), ht.hist.numpy(), rtol=1e-6)
        assert he.hist.dtype == e.dtype
    _same(ember.histogram(e, bins).hist, torch.histogram(t, bins).hist)


def test_histogram_with_fewer_than_two_edges_raises():
    import torch

    for T in (torch, ember):
        with pytest.raises(RuntimeError, match="bins must be > 0"):
            T.histogram(T.tensor([1.0, 2.0]), T.tensor([1.0]))


EINSUM_CASES = [
    ("ij,jk", (2, 1), (3, 4)),  # j of size 1 broadcasts: its gradient had shape (1, 4)
    ("...ij,...jk->...ik", (2, 1, 2, 3), (5, 3, 4)),
    ("...ij,...jk", (2, 1, 2, 3), (5, 3, 4)),
    ("...ij->ij", (2, 2, 3)),
    ("i...->...", (2, 3, 4)),
    ("...,...->...", (3,), (2, 1)),
    ("ii->i", (3, 3)),
    ("ii", (3, 3)),
    ("iij->j", (3, 3, 2)),
    ("iji->ij", (3, 2, 3)),
    ("iii->i", (2, 2, 2)),
    ("...ii->...i", (2, 3, 3)),
    ("b...,b...->b", (2, 3), (2, 3)),
    ("a...b,a...b->a...", (2, 3, 4, 5), (2, 1, 4, 5)),
    ("iij,jk->ik", (3, 3, 2), (1, 4)),
    ("ij,...->...ij", (2, 3), (4,)),
]


@pytest.mark.parametrize("equation, shapes", [(case[0], case[1:]) for case in EINSUM_CASES])
def test_einsum_ellipsis_diagonals_and_broadcast_letters(equation, shapes):
    # '...' and a letter repeated in one operand raised NotImplementedError; a letter of size
    # 1 broadcast against a larger one gave a gradient of the wrong shape
    import torch

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    results = []
    for T in (ember, torch):
        xs = [T.tensor(a, requires_grad=True) for a in arrays]
        out = T.einsum(equation, *xs)
        w = T.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)))
        results.append([out.detach()] + list(T.autograd.grad((out * w).sum(), xs)))
    for e, t in zip(*results):
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-10, atol=1e-10)
    xs = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(lambda *t: ember.einsum(equation, *t), xs)
    assert ember.autograd.gradgradcheck(lambda *t: ember.einsum(equation, *t), xs)


def test_einsum_diagonal_of_unequal_sizes_raises():
    import torch

    for T in (torch, ember):
        with pytest.raises(RuntimeError, match="repeated for operand 0 but the sizes don't match, 3 != 2"):
            T.einsum("ii->i", T.ones(2, 3))


def test_diff_of_order_zero_ignores_prepend_and_append():
    import torch

    x, p = [1, 4, 9], [0]
    t = torch.diff(torch.tensor(x), 0, prepend=torch.tensor(p), append=torch.tensor(p))
    _same(ember.diff(ember.tensor(x), 0, prepend=ember.tensor(p), append=ember.tensor(p)), t)
    _same(
        ember.diff(ember.tensor(x), 2, prepend=ember.tensor(p)),
        torch.diff(torch.tensor(x), 2, prepend=torch.tensor(p)),
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda T: [np.array([1.0, 2.0]), np.array([3, 4])],
        lambda T: [np.array([1.0, 2.0], dtype=np.float32), np.array([3, 4])],
        lambda T: [2.5, np.float64(1.5)],
        lambda T: [[2.5, 1], [np.float64(1.5), 2]],
        lambda T: [np.float16(1.5), np.int64(2)],
        lambda T: [np.int8(1), np.uint8(2)],
        lambda T: [np.float32(1.5), 2],
        lambda T: [np.int8(100), 300],
    ],
)
def test_tensor_of_a_list_holding_numpy_objects_promotes_as_pytorch(make):
    # NumPy's promotion of the whole list, then float64 -> float32 unless the first number
    # was an np.float64: [2.5, np.float64(1.5)] and a list of float64 arrays became float32
    import torch

    _same(ember.tensor(make(ember)), torch.tensor(make(torch)))


@pytest.mark.parametrize("size", [(-1,), (2, -1)])
def test_eye_of_a_negative_size_raises_runtime_error(size):
    # NumPy's ValueError('negative dimensions are not allowed') came through
    import torch

    for T in (torch, ember):
        with pytest.raises(RuntimeError, match="must be greater or equal to 0, got -1"):
            T.eye(*size)


@pytest.mark.parametrize("value", [7, 0, 2.5])
def test_fill_diagonal_of_a_bool_tensor(value):
    # where(mask, 7, bool tensor) is int64, which the in-place form refused to store
    import torch

    _same(
        ember.zeros(3, 2, dtype=ember.bool).fill_diagonal_(value),
        torch.zeros(3, 2, dtype=torch.bool).fill_diagonal_(value),
    )


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_an_empty_integer_tensor_raises(name):
    # NumPy's "cannot convert float NaN to integer" came through; PyTorch returns an
    # arbitrary number (int64: -2**63, uint8: 0), a float tensor NaN in both
    with pytest.raises(RuntimeError, match=f"{name}\\(\\): an empty int64 tensor has no median"):
        getattr(ember, name)(ember.zeros(0, 3, dtype=ember.int64))
    assert np.isnan(getattr(ember, name)(ember.zeros(0, 3)).item())


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_nanmean_with_an_integer_dtype_raises(dtype):
    # the input was converted to ints and then divided: a float result, the dtype ignored
    import torch

    for T in (torch, ember):
        with pytest.raises(RuntimeError, match="Optional dtype must be either a floating point"):
            T.nanmean(T.tensor([1.0, 2.0]), 0, dtype=getattr(T, dtype))


def test_as_tensor_of_a_tensor_with_another_dtype_keeps_the_graph():
    # as_tensor(x, dtype=float64) made a new leaf from x's values: x got no gradient
    import torch

    grads = []
    for T in (ember, torch):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = T.as_tensor(x, dtype=T.float64)
        assert y.dtype == T.float64 and y.requires_grad
        (y * T.tensor([3.0, 4.0], dtype=T.float64)).sum().backward()
        grads.append(x.grad)
        assert T.as_tensor(x, dtype=T.float32) is x and T.as_tensor(x) is x
    _same(*grads)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "bool"])
def test_bincount_weights_dtype(dtype):
    # float16 weights gave a float16 result; PyTorch keeps float32 and makes the rest float64
    import torch

    x, w = [1, 3, 1], [1, 0, 1]
    _same(
        ember.bincount(ember.tensor(x), ember.tensor(w).to(getattr(ember, dtype))),
        torch.bincount(torch.tensor(x), torch.tensor(w).to(getattr(torch, dtype))),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda T, x: T.gather(x, 1, T.tensor([[0], [0], [0]])),
        lambda T, x: T.scatter(x, 1, T.tensor([[0], [0], [0]]), 1.0),
        lambda T, x: T.scatter_add(x, 1, T.tensor([[0, 1]]), T.ones(1, 1)),
        lambda T, x: T.scatter_reduce(x, 1, T.tensor([[0, 1]]), T.ones(1, 1), "sum"),
        lambda T, x: T.roll(x, (1, 2)),
    ],
)
def test_index_larger_than_input_or_src_and_unaligned_roll_raise(call):
    # NumPy raised an IndexError, or broadcast the index against src (scatter_add) or rolled
    # by the sum of the shifts (roll without dims); PyTorch raises a RuntimeError
    import torch

    for T in (torch, ember):
        with pytest.raises(RuntimeError, match="no larger|must align"):
            call(T, T.arange(6.0).reshape(2, 3))


def test_tile_takes_dims_by_keyword():
    import torch

    _same(ember.tile(ember.tensor([[1, 2]]), dims=(2, 1)), torch.tile(torch.tensor([[1, 2]]), dims=(2, 1)))
    _same(ember.tensor([[1, 2]]).tile(dims=(2,)), torch.tensor([[1, 2]]).tile(dims=(2,)))


def test_histogram_is_a_tensor_method():
    import torch

    e, t = (
        ember.tensor([3.0, 1.0, 2.0, 5.0]).histogram(bins=2),
        torch.tensor([3.0, 1.0, 2.0, 5.0]).histogram(bins=2),
    )
    _same(e.hist, t.hist)
    _same(e.bin_edges, t.bin_edges)


def test_histogram_without_bins_takes_100_as_torch():
    import torch

    values = np.random.default_rng(0).standard_normal(50)
    e, t = ember.tensor(values).histogram(), torch.histogram(torch.tensor(values))
    _same(e.hist, t.hist)
    _same(e.bin_edges, t.bin_edges)
    assert len(ember.histogram(ember.tensor(values)).hist) == 100
