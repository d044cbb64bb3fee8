"""Regression tests for the ops made faster after bench/ops.py's sweep (twentieth session):
each rewritten op's values and gradients against PyTorch, on the inputs where the old code
and the new one could differ (negative bases, ties, repeated indices, edges)."""

from __future__ import annotations

import numpy as np
import pytest

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


@pytest.mark.parametrize("p", [3, 4, -3])
def test_pow_gradcheck(p):
    x = ember.tensor(np.linspace(-2, 2, 7) + 0.05, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: t**p, (x,))
