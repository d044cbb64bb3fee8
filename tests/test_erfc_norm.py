"""erfc's accuracy where 1 - erf(x) would cancel, and ember.norm's orders, dims, keepdim and
dtype against PyTorch (values and gradients)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

# ---- erfc ----------------------------------------------------------------------------------------


def test_erf_of_an_element_does_not_depend_on_the_rest_of_the_tensor() -> None:
    # the series used to run until the slowest element of the array converged, so a value
    # near 2.5 alone and the same value next to others could differ in the last bit
    x = np.random.default_rng(3).uniform(2.0, 2.5, 2000).astype(np.float32)
    batch = ember.erf(ember.tensor(x)).numpy()
    alone = np.array([ember.erf(ember.tensor(x[i : i + 1])).numpy()[0] for i in range(len(x))])
    np.testing.assert_array_equal(alone, batch)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_is_correctly_rounded_on_a_sample(dtype: type) -> None:
    x = np.concatenate([np.random.default_rng(4).uniform(-7, 7, 20000), [0.0, -0.0, 2.5, -2.5, 6.0]])
    x = x.astype(dtype)
    exact = np.array([math.erf(float(v)) for v in x])
    got = ember.erf(ember.tensor(x)).numpy()
    if dtype is np.float32:
        np.testing.assert_array_equal(got, exact.astype(np.float32))
    else:
        np.testing.assert_allclose(got, exact, rtol=4e-15, atol=0)
    assert np.isnan(ember.erf(ember.tensor([np.nan])).item())
    assert ember.erf(ember.tensor([np.inf, -np.inf])).tolist() == [1.0, -1.0]


@requires_torch
def test_erfc_relative_error_on_a_dense_grid() -> None:
    """Within a few ulps of PyTorch's erfc over [-6, 27] in float64; it was 2e-12 near 2.5."""
    import torch

    x = np.linspace(-6.0, 27.0, 40001)
    got = ember.erfc(ember.tensor(x)).numpy()
    want = torch.special.erfc(torch.tensor(x)).numpy()
    normal = want > np.finfo(np.float64).tiny  # past 26.5 the result is subnormal
    assert np.max(np.abs(got - want)[normal] / want[normal]) < 1.5e-15
    assert np.all(np.abs(got - want)[~normal] <= 1e-323)


def test_erfc_where_one_minus_erf_cancelled() -> None:
    x = ember.tensor([2.4581939799331103, 0.75, 1.5, 2.999, 3.0], dtype=ember.float64)
    want = [math.erfc(v) for v in x.tolist()]  # CPython's erfc, to about 1e-16 here
    assert_close(ember.erfc(x), np.array(want), rtol=1e-15, atol=0)
    assert ember.erfc(x)[0].item() == pytest.approx(5.081723593997e-4, rel=1e-12)


def test_erf_and_erfc_agree_and_edges() -> None:
    x = ember.tensor(np.linspace(-6.0, 6.0, 4001))
    assert np.max(np.abs((ember.erf(x) + ember.erfc(x)).numpy() - 1)) < 2e-15  # a few ulps of 1 and 2
    edges = ember.erfc(ember.tensor([math.inf, -math.inf, math.nan, 0.0, 30.0, 1e300], dtype=ember.float64))
    assert edges[:2].tolist() == [0.0, 2.0] and math.isnan(edges[2].item())
    assert edges[3:].tolist() == [1.0, 0.0, 0.0]
    assert ember.erfc(ember.tensor([2.5])).dtype == ember.float32


@requires_torch
def test_erfc_first_and_second_derivatives() -> None:
    import torch

    data = [-1.5, 0.3, 0.7, 2.4581939799331103, 4.0]
    xe = ember.tensor(data, dtype=ember.float64, requires_grad=True)
    xt = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    (ge,) = ember.autograd.grad(ember.erfc(xe).sum(), xe, create_graph=True)
    (gt,) = torch.autograd.grad(torch.erfc(xt).sum(), xt, create_graph=True)
    assert_close(ge, gt.detach(), rtol=1e-14, atol=1e-300)
    ge.sum().backward()
    gt.sum().backward()
    assert_close(xe.grad, xt.grad, rtol=1e-14, atol=1e-300)


# ---- norm ----------------------------------------------------------------------------------------

_ORDERS = [None, "fro", "nuc", 2, 1, 3.5, 0, 0.5, -1, math.inf, -math.inf]
_DIMS = [None, (), 0, -1, (0, 1), (1, 2), (0, 1, 2)]


@requires_torch
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)])
def test_norm_orders_dims_keepdim_against_torch(shape: tuple) -> None:
    """Every order with every dim and keepdim: the same value and gradient as torch.norm,
    or an error in both."""
    import torch

    data = np.random.default_rng(0).normal(size=shape)
    w_rng = np.random.default_rng(1)
    for p, dim, keepdim in itertools.product(_ORDERS, _DIMS, (False, True)):
        if isinstance(dim, tuple) and dim and max(dim) >= len(shape):
            continue
        xt = torch.tensor(data, requires_grad=True)
        xe = ember.tensor(data, requires_grad=True)
        try:
            t = torch.norm(xt, p, dim, keepdim)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                ember.norm(xe, p, dim, keepdim)
            continue
        e = xe.norm(p, dim, keepdim)
        assert tuple(e.shape) == tuple(t.shape), (p, dim, keepdim)
        assert_close(e, t.detach(), rtol=1e-12, atol=1e-12)
        w = w_rng.normal(size=tuple(t.shape))
        (t * torch.tensor(w)).sum().backward()
        (e * ember.tensor(w)).sum().backward()
        # p=0: a zero gradient, which one side or the other may leave as None
        grad = xe.grad if xe.grad is not None else ember.zeros_like(xe)
        expected = xt.grad if xt.grad is not None else torch.zeros_like(xt)
        assert_close(grad, expected, rtol=1e-10, atol=1e-12)


@requires_torch
def test_norm_nuclear_and_dtype() -> None:
    import torch

    assert ember.norm(ember.ones(2, 2), "nuc").item() == pytest.approx(2.0)
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    for p in ("fro", "nuc", 2, 0.5):
        e = ember.norm(ember.tensor(x), p, dtype=ember.float64)
        t = torch.norm(torch.tensor(x), p, dtype=torch.float64)
        assert e.dtype == ember.float64
        assert_close(e, t, rtol=1e-12, atol=0)
    with pytest.raises(RuntimeError, match="Expected a floating point"):
        ember.norm(ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="Order abc not supported"):
        ember.norm(ember.ones(2, 2), "abc")
