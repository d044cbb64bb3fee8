"""Regressions found by differential fuzzing of the losses, nn.init and the small
functionals against PyTorch 2.13."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from conftest import requires_torch


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"),
    [
        (0.0, 1.0, 2.0, 3.0),
        (0.0, 1.0, 10.0, 11.0),
        (0.0, 1.0, -11.0, -10.0),
        (0.0, 1.0, 40.0, 41.0),
        (0.5, 2.0, -1.0, 3.0),
    ],
)
def test_trunc_normal_far_in_a_tail_ends_and_has_the_truncated_moments(mean, std, a, b):
    # drawing again until a value landed in [a, b] never ended for bounds 10 std out
    # (acceptance 1e-23); the inverse CDF gives the truncated normal's moments
    t = ember.empty(20000, dtype=ember.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = ember.nn.init.trunc_normal_(
            t, mean, std, a, b, generator=ember.Generator().manual_seed(0)
        ).numpy()
    assert x.min() >= a and x.max() <= b
    alpha, beta = (a - mean) / std, (b - mean) / std
    if beta < -30 or alpha > 30:  # the tail's limit: an exponential of rate |bound|
        near = alpha if alpha > 0 else -beta
        expected_std = std / near
        expected_mean = a + expected_std if alpha > 0 else b - expected_std
    else:
        grid = np.linspace(alpha, beta, 200001)
        density = np.exp(-(grid**2) / 2)
        expected_mean = mean + std * np.sum(grid * density) / np.sum(density)
        expected_std = std * math.sqrt(
            np.sum(grid**2 * density) / np.sum(density) - ((expected_mean - mean) / std) ** 2
        )
    assert abs(x.mean() - expected_mean) < 5 * expected_std / math.sqrt(x.size)
    assert abs(x.std() - expected_std) < 0.03 * expected_std


@requires_torch
def test_trunc_normal_with_a_above_b_raises_as_torch():
    # it looped forever; PyTorch's uniform_ raises RuntimeError
    import torch

    with pytest.raises(RuntimeError):
        torch.nn.init.trunc_normal_(torch.empty(3), a=2.0, b=-2.0)
    with pytest.raises(RuntimeError, match="trunc_normal_"):
        ember.nn.init.trunc_normal_(ember.empty(3), a=2.0, b=-2.0)


@requires_torch
def test_trunc_normal_warns_when_the_mean_is_far_from_the_bounds():
    import torch

    with pytest.warns(UserWarning, match="more than 2 std"):
        torch.nn.init.trunc_normal_(torch.empty(3), mean=0.0, a=3.0, b=4.0)
    with pytest.warns(UserWarning, match="more than 2 std"):
        ember.nn.init.trunc_normal_(ember.empty(3), mean=0.0, a=3.0, b=4.0)


@requires_torch
@pytest.mark.parametrize("which", ["input", "target"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_kl_div_refuses_integer_tensors_as_torch(which, dtype):
    # an integer target was promoted silently; PyTorch raises "Integral inputs not supported"
    import torch

    def call(lib):
        ints = lib.ones(4, dtype=getattr(lib, dtype))
        floats = lib.ones(4)
        args = (ints, floats) if which == "input" else (floats, ints)
        return lib.nn.functional.kl_div(*args, reduction="sum")

    with pytest.raises(RuntimeError, match="Integral inputs not supported"):
        call(torch)
    with pytest.raises(RuntimeError, match="kl_div: Integral inputs not supported"):
        call(ember)


@requires_torch
def test_bce_with_logits_pos_weight_that_does_not_broadcast_raises_runtime_error():
    # NumPy's ValueError ("objects cannot be broadcast") escaped; PyTorch raises RuntimeError
    import torch

    def call(lib):
        return lib.nn.functional.binary_cross_entropy_with_logits(
            lib.zeros(2, 3), lib.ones(2, 3), pos_weight=lib.ones(2)
        )

    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match="binary_cross_entropy_with_logits: pos_weight of shape"):
        call(ember)
