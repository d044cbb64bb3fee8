"""The faster paths of the twenty-third session, against PyTorch: cummax/cummin and the ops
that pick elements along a dim (one flat take forward, one flat add.at backward, in
ember/ops/reduction.py) and embedding_bag's sums (ember/nn/_functional/embedding_bag.py)."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import ember
from conftest import requires_torch

# ---- cummax / cummin and the picked ops --------------------------------------------------------


def _running_input(dtype: str) -> np.ndarray:
    """Ties, NaNs, signed zeros and infinities among random values, (4, 6, 7)."""
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, (4, 6, 7)).astype(np.float64)
    x[0, 1, 2] = x[2, 3, 0] = np.nan
    x[1, :, 3] = [0.0, -0.0, 0.0, -0.0, 0.0, -0.0]
    x[3, 2, :2] = [np.inf, -np.inf]
    return x.astype(dtype)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "bool"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_values_and_indices_match_torch(dtype: str, dim: int, name: str) -> None:
    import torch

    x = _running_input("float64")
    x = (x > 0) if dtype == "bool" else np.nan_to_num(x) if dtype[0] in "ib" else x.astype(dtype)
    got = getattr(ember, name)(ember.tensor(x), dim)
    want = getattr(torch, name)(torch.tensor(x), dim)
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    values = got.values.numpy()
    assert values.dtype == want.values.numpy().dtype
    # bit for bit: the sign of a zero is the picked element's
    np.testing.assert_array_equal(np.signbit(values), np.signbit(want.values.numpy()))
    np.testing.assert_array_equal(values, want.values.numpy())


@requires_torch
@pytest.mark.parametrize("layout", ["transposed", "strided", "expanded"])
@pytest.mark.parametrize("name", ["cummax", "max", "sort", "topk", "median"])
def test_picked_ops_of_a_non_contiguous_input_match_torch(layout: str, name: str) -> None:
    import torch

    # the view is taken in each library (ember.tensor of a strided NumPy array copies it
    # to a contiguous one), so that the fallback to take_along_axis and the gradient's
    # flat positions in the base's shape are what is compared
    x = _running_input("float32")
    views = {
        "transposed": lambda t: t.permute(2, 0, 1),
        "strided": lambda t: t[:, ::2, 1:],
        "expanded": lambda t: t[:1].expand(3, 6, 7),
    }
    ops = {
        "cummax": lambda T, v, d: T.cummax(v, d),
        "max": lambda T, v, d: T.max(v, d),
        "sort": lambda T, v, d: T.sort(v, dim=d, stable=True),
        "topk": lambda T, v, d: T.topk(v, 2, d),
        "median": lambda T, v, d: T.median(v, d),
    }
    for dim in (0, 1, -1):
        results = []
        for T in (ember, torch):
            a = T.tensor(x, requires_grad=True)
            v = views[layout](a)
            assert not v.is_contiguous()
            if T is torch and layout == "expanded":
                v = v.contiguous()  # PyTorch's median of a stride-0 dim reads garbage (2.13)
            values, indices = ops[name](T, v, dim)
            g = T.arange(values.numel(), dtype=T.float32).reshape(tuple(values.shape))
            (values * g).sum().backward()
            results.append((values.detach().numpy(), indices.numpy(), a.grad.numpy()))
        # which of tied elements a median or top-k picks is PyTorch's choice: values only
        if name in ("cummax", "max", "sort"):
            for got, want in zip(results[0], results[1]):
                np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(results[0][0], results[1][0])


def test_cummax_of_bfloat16_picks_the_latest_extreme() -> None:
    x = _running_input("float32")
    got = ember.cummax(ember.tensor(x).to(ember.bfloat16), 2)
    want = ember.cummax(ember.tensor(x), 2)
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    assert got.values.dtype == ember.bfloat16
    bits = got.values._data
    assert bits.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(bits.astype(np.float32), want.values.numpy())


@requires_torch
@pytest.mark.parametrize(
    ("op", "ties"),
    [
        (lambda T, x: T.cummax(x, 1).values, True),
        (lambda T, x: T.cummin(x, 0).values, True),
        (lambda T, x: T.sort(x, dim=2, stable=True).values, True),
        (lambda T, x: T.topk(x, 3, 1).values, False),
        (lambda T, x: T.max(x, 2).values, True),
        (lambda T, x: T.min(x, 0, keepdim=True).values, True),
        (lambda T, x: T.median(x, 1).values, False),
        (lambda T, x: T.kthvalue(x, 2, 2).values, False),
    ],
)
def test_picked_gradients_match_torch(op, ties: bool) -> None:
    import torch

    rng = np.random.default_rng(1)
    # ties, where a running extreme repeats and a maximum is shared, for the ops whose
    # choice among ties PyTorch documents (topk's and kthvalue's is not: distinct values)
    x = rng.integers(-2, 3, (3, 5, 4)).astype(np.float64)
    if not ties:
        x = rng.permutation(60).reshape(3, 5, 4) * 1.0
    results = []
    for T in (ember, torch):
        a = T.tensor(x, requires_grad=True)
        out = op(T, a)
        g = T.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)))
        (out * g).sum().backward()
        results.append((out.detach().numpy(), a.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@requires_torch
def test_cummax_double_backward_matches_torch() -> None:
    import torch

    x = np.random.default_rng(2).standard_normal((4, 6))
    results = []
    for T in (ember, torch):
        a = T.tensor(x, requires_grad=True)
        (ga,) = T.autograd.grad((T.cummax(a, 1).values ** 3).sum(), a, create_graph=True)
        (gga,) = T.autograd.grad((ga**2).sum(), a)
        results.append((ga.detach().numpy(), gga.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_cummax_of_empty_and_zero_dimensional_inputs() -> None:
    empty = ember.cummax(ember.ones(3, 0), 1)
    assert tuple(empty.values.shape) == (3, 0) and empty.indices.dtype == ember.int64
    scalar = ember.cummin(ember.tensor(2.5), 0)
    assert scalar.values.item() == 2.5 and scalar.indices.item() == 0
    meta = ember.cummax(ember.empty(2, 3, device="meta"), 1)
    assert meta.values.device.type == "meta" and tuple(meta.indices.shape) == (2, 3)


# ---- embedding_bag: bags of many lengths, and the fused products of per_sample_weights --------


def _bags_of_many_lengths(seed: int) -> tuple:
    """(indices, weight, offsets, per_sample_weights): bags of random lengths, empty ones too."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    weight = rng.standard_normal((50, 16)).astype(np.float32)
    offsets = np.sort(rng.integers(0, n + 1, int(rng.integers(1, 20))))
    offsets[0] = 0
    return rng.integers(0, 50, n), weight, offsets, rng.standard_normal(n).astype(np.float32)


@requires_torch
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("mode", ["sum", "weighted", "mean", "max"])
def test_embedding_bag_of_many_lengths_matches_torch_bit_for_bit(seed: int, mode: str) -> None:
    import torch

    idx, weight, offsets, psw = _bags_of_many_lengths(seed)
    results = []
    for T in (ember, torch):
        out = T.nn.functional.embedding_bag(
            T.tensor(idx),
            T.tensor(weight),
            T.tensor(offsets),
            mode="sum" if mode == "weighted" else mode,
            per_sample_weights=T.tensor(psw) if mode == "weighted" else None,
        )
        results.append(out.numpy())
    np.testing.assert_array_equal(results[0].view(np.int32), results[1].view(np.int32))


def test_fused_rows_give_fma_single_bits_on_ties_and_subnormals() -> None:
    from ember import _spacing
    from ember.nn._functional.embedding_bag import _fma_rows

    rng = np.random.default_rng(4)
    # a float64 sum on a float32 midpoint whose exact value is below it: 1 + 2^-23 plus
    # 2^-24 (1 - 2^-46) must round down, where rounding the float64 sum rounds to even (up)
    rows = np.array([[2**-24 * (1 + 2**-23), 2**-25]], np.float32)
    factors = np.array([[1 - 2**-23]], np.float32)
    sums = np.array([[1 + 2**-23, 1]], np.float32)
    np.testing.assert_array_equal(_fma_rows(rows, factors, sums), [[1 + 2**-23, 1]])
    for scale in (1.0, 1e-20, 1e-40, 1e30):  # normal, products near and in float32's subnormals
        rows = (rng.standard_normal((200, 32)) * scale).astype(np.float32)
        factors = rng.standard_normal((200, 1)).astype(np.float32)
        sums = (rng.standard_normal((200, 32)) * scale).astype(np.float32)
        want = _spacing.fma_single(rows, np.broadcast_to(factors, rows.shape), sums)
        np.testing.assert_array_equal(_fma_rows(rows, factors, sums).view(np.int32), want.view(np.int32))
    special = np.array([[np.inf, -np.inf, np.nan, 0.0, -0.0]], np.float32)
    got = _fma_rows(special, np.array([[-0.0]], np.float32), np.array([[1, 1, 1, -0.0, -0.0]], np.float32))
    want = _spacing.fma_single(
        special, np.full(special.shape, -0.0, np.float32), np.array([[1, 1, 1, -0.0, -0.0]], np.float32)
    )
    np.testing.assert_array_equal(got.view(np.int32), want.view(np.int32))


def _exact_float32(x) -> np.float32:
    """The Fraction x rounded once to float32, to nearest, ties to even."""
    from fractions import Fraction

    f = np.float32(float(x))
    near = [np.nextafter(f, np.float32(-np.inf)), f, np.nextafter(f, np.float32(np.inf))]
    near = [q for q in near if np.isfinite(q)]
    return min(near, key=lambda q: (abs(Fraction(float(q)) - x), int(np.float32(q).view(np.int32)) & 1))


def test_fused_rows_are_fmaf_where_double_rounding_would_not_be() -> None:
    from fractions import Fraction

    from ember.nn._functional.embedding_bag import _fma_rows

    # Why redoing the float64 sums that land on a float32 midpoint is enough: the product
    # is exact in float64, so the float64 sum s is the exact x rounded once; every float32
    # midpoint m is a float64, so rounding is monotone about it (x < m gives s <= m, x > m
    # gives s >= m) and s is on x's side of every midpoint unless s = m. Here a * b is just
    # off 2^(e-24) (j * k = -j^2 or about it, below float64's last bit beside c), so a * b + c
    # is within a float64 ulp of the midpoint above c: thousands of sums land on it.
    rng = np.random.default_rng(9)
    n = 3000
    j = rng.integers(1, 300, n).astype(np.float64)
    k = -j + rng.choice([0, 0, 0, 1, -1], n)
    sign = rng.choice([-1.0, 1.0], n)
    e = rng.integers(-140, 100, n).astype(np.float64)  # float32's subnormal range to its top
    c = (sign * rng.integers(2**23, 2**24, n) * 2.0 ** (e - 23)).astype(np.float32)
    a = (2.0 ** (e - 24) * (1 + j * 2.0**-23)).astype(np.float32)
    b = (sign * (1 + k * 2.0**-23) * rng.choice([1.0, 2.0, 0.5], n)).astype(np.float32)
    wide = a.astype(np.float64) * b + c
    got = _fma_rows(a[:, None], b[:, None], c[:, None])[:, 0]
    assert (wide.astype(np.float32) != got).sum() > 100  # plain float64 rounding would miss these
    want = [
        _exact_float32(Fraction(float(p)) * Fraction(float(q)) + Fraction(float(r)))
        for p, q, r in zip(a, b, c)
    ]
    np.testing.assert_array_equal(got.view(np.int32), np.array(want, np.float32).view(np.int32))


@requires_torch
@pytest.mark.parametrize("seed", range(4))
def test_weighted_bags_on_float32_midpoints_match_torch_bit_for_bit(seed: int) -> None:
    import torch

    # rows and weights whose running fused sums fall on float32 midpoints (random normal
    # ones almost never do): a sum rounded twice differs from PyTorch's fma here
    rng = np.random.default_rng(seed)
    values = [1 + 2**-23, 2**-24 * (1 + 2**-23), 2**-25, 1.0, -1.0, 3.0, 2**-24, 1 - 2**-24, 1e-39, 2**23 + 1]
    weight = rng.choice(np.array(values, np.float32), (20, 16))
    psw = rng.choice(np.array([1 - 2**-23, 1.0, 0.5, 1 + 2**-23, -1.0, 2**-24, 3.0], np.float32), 600)
    idx = rng.integers(0, 20, 600)
    offsets = np.sort(rng.integers(0, 601, 40))
    offsets[0] = 0
    results = []
    for T in (ember, torch):
        out = T.nn.functional.embedding_bag(
            T.tensor(idx), T.tensor(weight), T.tensor(offsets), mode="sum", per_sample_weights=T.tensor(psw)
        )
        results.append(out.numpy())
    np.testing.assert_array_equal(results[0].view(np.int32), results[1].view(np.int32))


@requires_torch
def test_weighted_bags_of_many_lengths_gradients_match_torch() -> None:
    import torch

    idx, weight, offsets, psw = _bags_of_many_lengths(7)
    results = []
    for T in (ember, torch):
        w, p = T.tensor(weight, requires_grad=True), T.tensor(psw, requires_grad=True)
        out = T.nn.functional.embedding_bag(
            T.tensor(idx), w, T.tensor(offsets), mode="sum", per_sample_weights=p
        )
        (out * T.tensor(np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape)))).sum().backward()
        results.append((w.grad.numpy(), p.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5, atol=1e-3)


@requires_torch
@pytest.mark.parametrize("dim", [1, 16])  # 1: long bags, all entries at once; 16: a place at a time
@pytest.mark.parametrize("seed", range(6))
def test_embedding_bag_max_keeps_torch_first_winner_with_nans_and_signed_zeros(dim: int, seed: int) -> None:
    import torch

    # PyTorch's max takes a bag's first entry and replaces it by each later greater one: a
    # NaN first stays, a NaN later is passed over, and of 0.0 and -0.0 the first is kept
    rng = np.random.default_rng(seed)
    weight = rng.integers(-2, 3, (6, dim)).astype(np.float32)
    weight[rng.random(weight.shape) < 0.2] = np.nan
    zeros = weight == 0
    weight[zeros] = rng.choice([0.0, -0.0], zeros.sum())
    idx = rng.integers(0, 6, (64, 4))
    results = []
    for T in (ember, torch):
        w = T.tensor(weight, requires_grad=True)
        out = T.nn.functional.embedding_bag(T.tensor(idx), w, mode="max")
        (out * T.tensor(np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape)))).sum().backward()
        results.append((out.detach().numpy(), w.grad.numpy()))
    np.testing.assert_array_equal(results[0][0].view(np.int32), results[1][0].view(np.int32))
    np.testing.assert_array_equal(results[0][1], results[1][1])


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("copies", [1, 200])  # 1: all entries at once; 200: a place at a time
def test_embedding_bag_max_of_nan_signed_zero_and_padding_bags_matches_torch(dtype: str, copies: int) -> None:
    import torch

    nan, inf = np.nan, np.inf
    weight = np.array(
        [[nan, 0.0, -inf], [1.0, -0.0, -inf], [nan, -0.0, nan], [2.0, 0.0, -1.0], [nan, nan, nan]], dtype
    )
    # NaN first, NaN later, all NaN, 0.0 then -0.0 and back, -inf only, a padding entry
    # (row 3) first and alone, and an empty bag
    bags = [[0, 1], [1, 0], [2, 4], [4, 2, 0], [1, 3], [3, 1], [3], [3, 1, 0], [], [1, 1]]
    idx = np.concatenate([np.array(b, np.int64) for b in bags * copies])
    offsets = np.cumsum([0] + [len(b) for b in bags * copies])[:-1]
    results = []
    for T in (ember, torch):
        w = T.tensor(weight, requires_grad=True)
        out = T.nn.functional.embedding_bag(T.tensor(idx), w, T.tensor(offsets), mode="max", padding_idx=3)
        g = T.arange(1, out.numel() + 1, dtype=T.float64).reshape(tuple(out.shape)).to(out.dtype)
        (out * g).sum().backward()
        results.append((out.detach().numpy(), w.grad.numpy()))
    got, want = results
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(np.signbit(got[0]), np.signbit(want[0]))
    np.testing.assert_array_equal(got[1], want[1])


@requires_torch
def test_embedding_bag_max_with_empty_bags_and_padding_matches_torch() -> None:
    import torch

    idx, weight, offsets, _ = _bags_of_many_lengths(3)
    offsets = np.concatenate([offsets, [len(idx), len(idx)]])  # two empty bags at the end
    results = []
    for T in (ember, torch):
        w = T.tensor(weight, requires_grad=True)
        out = T.nn.functional.embedding_bag(
            T.tensor(idx), w, T.tensor(offsets), mode="max", padding_idx=int(idx[0])
        )
        out.sum().backward()
        results.append((out.detach().numpy(), w.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


# ---- lgamma's Taylor series by an in-place Horner (ember/ops/gamma.py) -------------------------


def test_lgamma_below_eight_is_math_lgamma() -> None:
    import math

    # every branch: the shifts of 1 to 6 into [1.5, 2.5], the series at x - 1 and at x;
    # absolutely near the roots 1 and 2, where math.lgamma's relative error is large
    x = np.concatenate([np.linspace(1e-6, 8, 40001), [0.5, 1.0, 1.5, 2.0, 2.5, 3.5, 7.999999]])
    want = np.array([math.lgamma(v) for v in x])
    got = ember.lgamma(ember.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    assert got[np.flatnonzero(x == 1.0)[0]] == 0.0 and got[np.flatnonzero(x == 2.0)[0]] == 0.0


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lgamma_and_its_gradient_match_torch(dtype: str) -> None:
    import torch

    x = np.random.default_rng(8).uniform(-9, 12, 4000).astype(dtype)
    a, b = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ember.lgamma(a).sum().backward()
    torch.lgamma(b).sum().backward()
    rtol = {"float32": 2e-6, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(
        ember.lgamma(a).detach().numpy(), torch.lgamma(b).detach().numpy(), rtol=rtol, atol=rtol
    )
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=rtol)
