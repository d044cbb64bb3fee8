"""erfc's accuracy where 1 - erf(x) would cancel, and ember.norm's orders, dims, keepdim and
dtype against PyTorch (values and gradients)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

# ---- erfc ----------------------------------------------------------------------------------------


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
