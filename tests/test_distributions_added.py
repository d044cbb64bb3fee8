"""Tests for the additions that complete ember.distributions against torch.distributions
2.13, and for the bugs found on the way."""

from __future__ import annotations

from typing import Any

import pytest

import ember
from conftest import assert_close, requires_torch
from ember.autograd import gradcheck

pytestmark = requires_torch

TOL = {"float32": (2e-4, 2e-5), "float64": (1e-8, 1e-10)}
DTYPES = ["float32", "float64"]


def _torch() -> Any:
    import torch

    return torch


# ---- a bug found on the way -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e"])
def test_modified_bessel_functions_of_a_0d_tensor(name: str) -> None:
    """ember.special.i0/i0e/i1/i1e raised TypeError ("'numpy.float64' object does not support
    item assignment") on a 0-d tensor: VonMises(0.0, 1.0).log_prob needs them there."""
    torch = _torch()
    for v in (0.0, -2.5, 1e-7, 30.0):
        x = ember.tensor(v, dtype=ember.float64, requires_grad=True)
        x_t = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        y, y_t = getattr(ember.special, name)(x), getattr(torch.special, name)(x_t)
        assert y.shape == () and y.dtype == ember.float64
        assert_close(y, y_t, 1e-12, 0)
        y.backward()
        y_t.backward()
        assert_close(x.grad, x_t.grad, 1e-12, 1e-300)
    assert gradcheck(
        getattr(ember.special, name), (ember.tensor(0.7, dtype=ember.float64, requires_grad=True),)
    )
