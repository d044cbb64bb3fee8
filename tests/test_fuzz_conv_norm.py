"""Regressions found by differential fuzzing of the less-common convolution, pooling,
normalization and nn.utils variants against PyTorch 2.13."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.utils.prune as prune
from conftest import requires_torch

pytestmark = requires_torch


@pytest.mark.parametrize("n", ["fro", "nuc", "abc"])
def test_ln_structured_checks_the_norm_when_nothing_is_pruned(n):
    # amount=0.3 of one channel rounds to 0 channels: PyTorch still computes the norm and
    # raises for an order it cannot compute on a 4-d weight; ember returned early
    import torch
    import torch.nn.utils.prune as torch_prune

    with pytest.raises(RuntimeError):
        torch_prune.ln_structured(torch.nn.Conv2d(1, 1, 3), "weight", amount=0.3, n=n, dim=1)
    conv = ember.nn.Conv2d(1, 1, 3)
    with pytest.raises(RuntimeError, match="ln_structured"):
        prune.ln_structured(conv, "weight", amount=0.3, n=n, dim=1)
    assert not prune.is_pruned(conv)


def test_convert_conv_weight_memory_format():
    # torch.nn.utils.convert_conv2d/3d_weight_memory_format were missing
    import torch

    def run(lib):
        model = lib.nn.Sequential(
            lib.nn.Conv2d(3, 4, 3), lib.nn.Sequential(lib.nn.ConvTranspose2d(4, 2, 2), lib.nn.Conv3d(2, 2, 2))
        )
        weight = model[0].weight
        assert lib.nn.utils.convert_conv2d_weight_memory_format(model, lib.channels_last) is model
        assert model[0].weight is weight and weight.requires_grad
        assert model[0].weight.is_contiguous(memory_format=lib.channels_last)
        assert model[1][0].weight.is_contiguous(memory_format=lib.channels_last)
        assert not model[1][1].weight.is_contiguous(memory_format=lib.channels_last_3d)
        lib.nn.utils.convert_conv3d_weight_memory_format(model, lib.channels_last_3d)
        assert model[1][1].weight.is_contiguous(memory_format=lib.channels_last_3d)
        with pytest.raises(RuntimeError, match="rank 5"):
            lib.nn.utils.convert_conv2d_weight_memory_format(model, lib.channels_last_3d)

    run(torch)
    run(ember)


def test_cross_map_lrn2d_repr_default_k():
    import torch

    assert (
        repr(ember.nn.CrossMapLRN2d(3))
        == repr(torch.nn.CrossMapLRN2d(3))
        == ("CrossMapLRN2d(3, alpha=0.0001, beta=0.75, k=1)")
    )
    assert repr(ember.nn.LocalResponseNorm(3)) == repr(torch.nn.LocalResponseNorm(3))


@pytest.mark.parametrize("op", ["batch_norm", "instance_norm"])
@pytest.mark.parametrize("given", ["running_mean", "running_var"])
def test_training_norm_refuses_one_running_statistic_alone(op, given):
    # ember updated the one statistic it was given; PyTorch raises
    import torch

    x = np.random.randn(3, 2, 4)
    for lib in (torch, ember):
        stats = {given: lib.ones(2, dtype=lib.float64)}
        fn = getattr(lib.nn.functional, op)
        kwargs = {"training": True} if op == "batch_norm" else {"use_input_stats": True}
        with pytest.raises(ValueError, match="both be None or neither be None"):
            fn(lib.tensor(x), stats.get("running_mean"), stats.get("running_var"), **kwargs)
        assert stats[given].tolist() == [1.0, 1.0]


def test_instance_norm_checks_spatial_size_before_parameter_shapes():
    # a (N, C) input has no positions to normalize over: PyTorch says so before it looks at
    # the weight; ember complained about the weight's size first (a RuntimeError)
    import torch

    for lib in (torch, ember):
        with pytest.raises(ValueError, match="more than 1 spatial element"):
            lib.nn.functional.instance_norm(lib.ones(2, 5), weight=lib.ones(2))


@pytest.mark.parametrize("op", ["layer_norm", "group_norm", "rms_norm"])
def test_norm_of_integer_input_raises_not_implemented(op):
    # layer_norm raised a RuntimeError where PyTorch (and ember's other norms) raise NotImplementedError
    import torch

    args = {"layer_norm": ((3,),), "group_norm": (1,), "rms_norm": ((3,),)}[op]
    for lib in (torch, ember):
        with pytest.raises(NotImplementedError, match="not implemented for"):
            getattr(lib.nn.functional, op)(lib.ones(2, 3, dtype=lib.int64), *args)


def test_get_total_norm_refuses_integer_tensors():
    # ember returned an integer "norm" (tensor(5) for [3, 4]); PyTorch's vector_norm raises
    import torch

    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor"):
            lib.nn.utils.get_total_norm([lib.tensor([3, 4])])
    assert ember.nn.utils.get_total_norm([ember.tensor([3.0, 4.0])]).item() == 5.0


@pytest.mark.parametrize(
    "cls, shape, momentum",
    [
        ("BatchNorm1d", (4, 3, 5), 0.1),
        ("BatchNorm2d", (5, 3, 6, 7), None),
        ("BatchNorm3d", (2, 3, 3, 4, 5), 0.3),
        ("InstanceNorm1d", (4, 3, 5), 0.1),
        ("InstanceNorm2d", (3, 3, 6, 7), None),
    ],
)
def test_float32_running_statistics_are_pytorchs_bit_for_bit(cls, shape, momentum):
    # ember summed float32 statistics in float32 and rounded the update differently: its
    # running statistics were an ulp off PyTorch's in about half of the channels
    import torch

    kwargs = {"momentum": momentum}
    if cls.startswith("Instance"):
        kwargs["track_running_stats"] = True
    theirs, ours = getattr(torch.nn, cls)(3, **kwargs), getattr(ember.nn, cls)(3, **kwargs)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = (rng.standard_normal(shape) * rng.uniform(0.1, 5) + rng.uniform(-3, 3)).astype(np.float32)
        theirs(torch.tensor(x))
        ours(ember.tensor(x))
    for name in ("running_mean", "running_var"):
        np.testing.assert_array_equal(getattr(ours, name).numpy(), getattr(theirs, name).numpy())
