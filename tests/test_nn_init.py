"""ember.nn.init: fan and gain formulas equal PyTorch's, the draws have the right statistics."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember import nn
from ember.nn import init

SHAPES = [(20, 30), (16, 3, 5, 5), (8, 4, 7), (1, 1)]


@requires_torch
@pytest.mark.parametrize("shape", SHAPES)
def test_fan_in_and_fan_out_equal_torch(shape):
    import torch

    ours = init._calculate_fan_in_and_fan_out(ember.empty(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


@requires_torch
@pytest.mark.parametrize(
    "args",
    [
        ("linear",),
        ("conv2d",),
        ("sigmoid",),
        ("tanh",),
        ("relu",),
        ("leaky_relu",),
        ("leaky_relu", 0.2),
        ("selu",),
    ],
)
def test_calculate_gain_equals_torch(args):
    import torch

    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))


@requires_torch
@pytest.mark.parametrize(
    "action",
    [
        lambda lib: lib.nn.init.calculate_gain("foo"),
        lambda lib: lib.nn.init.calculate_gain("leaky_relu", "a"),
        lambda lib: lib.nn.init.kaiming_uniform_(lib.ones(3, 3), mode="fan_avg"),
        lambda lib: lib.nn.init.xavier_uniform_(lib.ones(3)),
        lambda lib: lib.nn.init.eye_(lib.ones(3)),
        lambda lib: lib.nn.init.orthogonal_(lib.ones(3)),
        lambda lib: lib.nn.init.dirac_(lib.ones(3, 3)),
        lambda lib: lib.nn.init.dirac_(lib.ones(2, 2, 3, 3, 3, 3)),
    ],
)
def test_errors_match_torch(action):
    import torch

    with pytest.raises(Exception) as theirs:
        action(torch)
    with pytest.raises(Exception) as ours:
        action(ember)
    assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


def test_uniform_and_normal_statistics():
    t = ember.empty(200, 300)
    assert init.uniform_(t, -2.0, 3.0) is t
    a = t.numpy()
    assert a.min() >= -2.0 and a.max() < 3.0 and abs(a.mean() - 0.5) < 0.02
    init.normal_(t, mean=1.0, std=0.5)
    assert abs(t.numpy().mean() - 1.0) < 0.01 and abs(t.numpy().std() - 0.5) < 0.01
    assert t.dtype == ember.float32


def test_constant_zeros_ones_and_eye():
    t = ember.empty(3, 4, dtype=ember.float64)
    assert np.all(init.constant_(t, 2.5).numpy() == 2.5)
    assert np.all(init.zeros_(t).numpy() == 0) and np.all(init.ones_(t).numpy() == 1)
    assert np.array_equal(init.eye_(t).numpy(), np.eye(3, 4))
    assert t.dtype == ember.float64


@requires_torch
@pytest.mark.parametrize(
    "shape, groups",
    [
        ((4, 2, 3), 1),
        ((2, 4, 3), 1),
        ((4, 2, 3, 3), 2),
        ((6, 3, 4, 5), 3),
        ((2, 3, 4, 5, 6), 1),
        ((4, 2, 3), -1),
    ],
)
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_dirac_equals_torch(shape, groups, dtype):
    import torch

    theirs = torch.nn.init.dirac_(torch.full(shape, 7, dtype=getattr(torch, dtype)), groups)
    t = ember.full(shape, 7, dtype=getattr(ember, dtype))
    assert init.dirac_(t, groups) is t and t.dtype == getattr(ember, dtype)
    assert np.array_equal(t.numpy(), theirs.numpy())


def test_dirac_makes_a_convolution_pass_its_input_through():
    conv = nn.Conv2d(3, 6, 3, padding=1, groups=3, bias=False)
    init.dirac_(conv.weight, groups=3)
    x = ember.randn(2, 3, 5, 5)
    assert np.array_equal(conv(x).detach().numpy()[:, ::2], x.numpy())
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups .*5 output channels, groups=2"):
        init.dirac_(ember.empty(5, 2, 3), groups=2)


@pytest.mark.parametrize("shape", [(256, 128), (64, 32, 3, 3)])
def test_xavier_bounds_and_std(shape):
    t = ember.empty(*shape)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(t)
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    a = init.xavier_uniform_(t, gain=2.0).numpy()
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.95 * bound
    a = init.xavier_normal_(t).numpy()
    assert abs(a.std() / math.sqrt(2.0 / (fan_in + fan_out)) - 1) < 0.05


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity", ["relu", "leaky_relu", "tanh"])
def test_kaiming_bounds_and_std(mode, nonlinearity):
    t = ember.empty(128, 64, 3, 3)
    fan = init._calculate_correct_fan(t, mode)
    std = init.calculate_gain(nonlinearity, 0.1) / math.sqrt(fan)
    a = init.kaiming_uniform_(t, a=0.1, mode=mode, nonlinearity=nonlinearity).numpy()
    bound = math.sqrt(3.0) * std
    assert np.abs(a).max() <= bound * (1 + 1e-6) and np.abs(a).max() > 0.95 * bound
    a = init.kaiming_normal_(t, a=0.1, mode=mode, nonlinearity=nonlinearity).numpy()
    assert abs(a.std() / std - 1) < 0.05


def test_trunc_normal_stays_in_bounds():
    t = ember.empty(100_000)
    a = init.trunc_normal_(t, mean=0.5, std=1.0, a=-0.5, b=1.0).numpy()
    assert a.min() >= -0.5 and a.max() <= 1.0
    a = init.trunc_normal_(t, std=0.02).numpy()  # the ViT default: bounds far outside, plain N(0, 0.02²)
    assert abs(a.std() - 0.02) < 0.001


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (4, 3, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    t = init.orthogonal_(ember.empty(*shape), gain=2.0)
    flat = t.numpy().reshape(shape[0], -1).astype(np.float64) / 2.0
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)


def test_generator_makes_draws_reproducible():
    first = (
        init.kaiming_uniform_(ember.empty(5, 5), generator=ember.Generator().manual_seed(3)).numpy().copy()
    )
    again = init.kaiming_uniform_(ember.empty(5, 5), generator=ember.Generator().manual_seed(3)).numpy()
    assert np.array_equal(first, again)
    ember.manual_seed(7)
    a = init.normal_(ember.empty(4)).numpy().copy()
    ember.manual_seed(7)
    assert np.array_equal(a, init.normal_(ember.empty(4)).numpy())


def test_init_on_a_parameter_keeps_it_a_leaf_and_counts_the_change():
    p = nn.Parameter(ember.empty(3, 3))
    version = p._version
    init.xavier_uniform_(p)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    assert p._version == version + 1


def test_zero_element_tensor_warns_and_is_left_alone():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = init.kaiming_uniform_(ember.empty(0, 3))
    assert t.shape == (0, 3) and "zero-element" in str(caught[0].message)


def test_linear_default_init_is_bounded_by_one_over_sqrt_fan_in():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) too
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(b).max() <= bound


@requires_torch
def test_sparse_zeros_the_same_count_per_column_and_errors_as_torch() -> None:
    import torch

    mine, theirs = ember.empty(10, 4), torch.empty(10, 4)
    nn.init.sparse_(mine, 0.3, std=0.5)
    torch.nn.init.sparse_(theirs, 0.3, std=0.5)
    assert (mine == 0).sum(0).tolist() == (theirs == 0).sum(0).tolist() == [3, 3, 3, 3]
    assert 0.2 < float(mine[mine != 0].std()) < 1.0
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.sparse_(ember.empty(3, 4, 5), 0.5)
