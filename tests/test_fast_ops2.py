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
@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_cummax_of_a_non_contiguous_input_matches_torch(layout: str) -> None:
    import torch

    x = _running_input("float32")
    x = x.transpose(2, 0, 1) if layout == "transposed" else x[:, ::2, 1:]
    for dim in range(3):
        got = ember.cummax(ember.tensor(x), dim)
        want = torch.cummax(torch.tensor(x), dim)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


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
