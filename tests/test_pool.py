"""Pooling and nearest interpolation: values, indices and gradients against PyTorch,
float64 gradcheck (and double backward), error messages, layer reprs."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember.autograd.functional import gradcheck, gradgradcheck
from ember.nn.modules.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from ember.ops import conv as F


def _array(*shape, dtype=np.float32):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


def compare_with_torch(name: str, x: np.ndarray, *args, **kwargs) -> None:
    """F.<name>(x, ...) in ember and in torch.nn.functional: output and input gradient."""
    import torch

    ours, theirs = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = getattr(F, name)(ours, *args, **kwargs)
    yt = getattr(torch.nn.functional, name)(theirs, *args, **kwargs)
    assert_close(y, yt)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(np.float32)
    y.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    assert ours.grad.dtype == ember.float32
    assert_close(ours.grad, theirs.grad, atol=1e-5)


MAX_POOL2D_CASES = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((2, 3, 9, 7), {"kernel_size": 2}),  # odd sizes: the last row/column is dropped
    ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),  # overlapping windows
    ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ((2, 3, 10, 9), {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0), "dilation": (2, 3)}),
    ((2, 3, 10, 9), {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True}),
    ((3, 6, 5), {"kernel_size": 2, "stride": 1}),  # unbatched
]


@requires_torch
@pytest.mark.parametrize("shape, kwargs", MAX_POOL2D_CASES)
def test_max_pool2d_matches_torch(shape, kwargs) -> None:
    compare_with_torch("max_pool2d", _array(*shape), **kwargs)


@requires_torch
@pytest.mark.parametrize("shape, kwargs", MAX_POOL2D_CASES)
def test_max_pool2d_indices_match_torch(shape, kwargs) -> None:
    import torch

    x = _array(*shape)
    _, idx = F.max_pool2d(ember.tensor(x), return_indices=True, **kwargs)
    _, idx_t = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kwargs)
    assert idx.dtype == ember.int64 and not idx.requires_grad
    np.testing.assert_array_equal(idx.numpy(), idx_t.numpy())


@requires_torch
def test_max_pool_ties_send_the_gradient_to_the_first_maximum() -> None:
    x = np.zeros((1, 2, 5, 5), np.float32)
    x[0, 1, 1:3, 1:4] = 1.0
    compare_with_torch("max_pool2d", x, 2)
    compare_with_torch("max_pool2d", x, 3, stride=1, padding=1)  # overlapping windows share winners


@requires_torch
def test_max_pool_propagates_nan_and_routes_its_gradient_like_torch() -> None:
    x = np.arange(36, dtype=np.float32).reshape(1, 1, 6, 6)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[0, 0, 4, 4] = np.nan  # two NaN in one window: the last wins
    compare_with_torch("max_pool2d", x, 2)
    compare_with_torch("max_pool2d", x, 3, stride=1, padding=1)


def test_pooling_accepts_an_empty_batch() -> None:
    assert F.max_pool2d(ember.zeros(0, 3, 4, 4), 2).shape == (0, 3, 2, 2)
    assert F.avg_pool2d(ember.zeros(0, 3, 4, 4), 2).shape == (0, 3, 2, 2)
    # an empty batch to an output size with a 0 in it (PyTorch's shapes)
    assert F.adaptive_avg_pool1d(ember.zeros(0, 2, 3), 0).shape == (0, 2, 0)
    assert F.adaptive_avg_pool2d(ember.zeros(0, 2, 3, 2), (0, 5)).shape == (0, 2, 0, 5)
    assert F.adaptive_max_pool2d(ember.zeros(0, 2, 3, 2), 0).shape == (0, 2, 0, 0)


@requires_torch
@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 3, 9), {"kernel_size": 2}),
        ((2, 3, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 1, "ceil_mode": True}),
    ],
)
def test_max_pool1d_matches_torch(shape, kwargs) -> None:
    compare_with_torch("max_pool1d", _array(*shape), **kwargs)


@requires_torch
@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 3, 8, 8), {"kernel_size": 2}),
        ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
        ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
        ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
        (
            (2, 3, 9, 7),
            {"kernel_size": (3, 2), "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
        ),
        ((2, 3, 9, 7), {"kernel_size": 2, "divisor_override": 3}),
        ((3, 6, 5), {"kernel_size": 2, "stride": 1}),  # unbatched
    ],
)
def test_avg_pool2d_matches_torch(shape, kwargs) -> None:
    compare_with_torch("avg_pool2d", _array(*shape), **kwargs)


@requires_torch
def test_avg_pool1d_matches_torch() -> None:
    compare_with_torch("avg_pool1d", _array(2, 3, 10), 3, stride=2, padding=1, count_include_pad=False)


@requires_torch
@pytest.mark.parametrize(
    "shape, size",
    [
        ((2, 3, 8, 6), (4, 3)),
        ((2, 3, 8, 6), 1),
        ((2, 3, 7, 10), (3, 4)),
        ((2, 3, 7, 10), (None, 3)),
        ((3, 5, 5), 2),
    ],
)
def test_adaptive_avg_pool2d_matches_torch(shape, size) -> None:
    compare_with_torch("adaptive_avg_pool2d", _array(*shape), size)


@requires_torch
@pytest.mark.parametrize("size", [5, 3])
def test_adaptive_avg_pool1d_matches_torch(size) -> None:
    compare_with_torch("adaptive_avg_pool1d", _array(2, 3, 10), size)


@requires_torch
@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 3, 4, 5), {"scale_factor": 2}),
        ((2, 3, 4, 5), {"scale_factor": 1.7}),
        ((2, 3, 4, 5), {"scale_factor": (0.5, 2.5)}),
        ((2, 3, 4, 5), {"scale_factor": 1.7, "recompute_scale_factor": True}),
        ((2, 3, 7, 5), {"size": (3, 11)}),
        ((2, 3, 7, 5), {"size": 4, "mode": "nearest-exact"}),
        ((2, 3, 7), {"size": 12}),
        ((1, 2, 3, 4, 5), {"scale_factor": (2, 1, 0.6)}),
        # PyTorch's 2-d kernel copies a size it keeps and halves the index where it doubles
        ((2, 3, 2, 5), {"scale_factor": (2.4, 1.1)}),
        ((2, 3, 5, 3), {"scale_factor": (1.3, 2.2)}),
    ],
)
def test_interpolate_nearest_matches_torch(shape, kwargs) -> None:
    compare_with_torch("interpolate", _array(*shape), **kwargs)


def test_interpolate_nearest_scale_factor_uses_the_scale_in_1d_and_3d() -> None:
    # PyTorch's 1-d and 3-d forward use the scale (2 -> 4 with 2.4 copies 0, 0, 0, 1), and
    # ember's gradient is that forward's; PyTorch 2.13's backward takes index o // 2 there
    x = ember.tensor([[[1.0, 2.0]]])
    assert F.interpolate(x, scale_factor=2.4).tolist() == [[[1.0, 1.0, 1.0, 2.0]]]
    for shape, scale in (((1, 1, 2), 2.4), ((1, 1, 3), 1.3), ((1, 1, 2, 2, 3), (2.4, 1.3, 1.2))):
        x = ember.tensor(_array(*shape, dtype=np.float64), requires_grad=True)
        assert gradcheck(lambda t, scale=scale: F.interpolate(t, scale_factor=scale), (x,))


@requires_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_max_pool_window_of_minus_inf_points_at_its_first_element(nd: int, dtype: str) -> None:
    # the left padding ties with -inf (or an integer dtype's minimum): PyTorch, and now
    # ember, pick the window's first input element, which gets the gradient
    import torch

    low = -np.inf if dtype == "float64" else np.iinfo(np.int64).min
    x = np.array([low, low, 1, low, 3], dtype=dtype).reshape((1,) * (nd + 1) + (5,))
    kwargs = {"kernel_size": (1,) * (nd - 1) + (3,), "stride": 1, "padding": (0,) * (nd - 1) + (1,)}
    if nd == 1 and dtype == "int64":
        return  # PyTorch has no integer max_pool1d with indices
    name = f"max_pool{nd}d"
    y, i = getattr(ember.nn.functional, name)(ember.tensor(x), return_indices=True, **kwargs)
    yt, it = getattr(torch.nn.functional, name)(torch.tensor(x), return_indices=True, **kwargs)
    assert i.tolist() == it.tolist() and y.tolist() == yt.tolist()
    if dtype == "float64":
        ours, theirs = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        getattr(ember.nn.functional, name)(ours, **kwargs).sum().backward()
        getattr(torch.nn.functional, name)(theirs, **kwargs).sum().backward()
        assert ours.grad.tolist() == theirs.grad.tolist()


@pytest.mark.parametrize(
    "pool",
    [
        lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
        lambda x: F.max_pool2d(x, (2, 3), 1, dilation=(2, 1)),
        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda x: F.adaptive_avg_pool2d(x, (2, 4)),
        lambda x: F.interpolate(x, scale_factor=1.5),
    ],
)
def test_pool_gradcheck_and_double_backward(pool) -> None:
    x = ember.tensor(_array(2, 2, 5, 6, dtype=np.float64), requires_grad=True)
    assert gradcheck(pool, (x,))
    assert gradgradcheck(pool, (x,))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: F.max_pool2d(ember.zeros(2, 3), 2),
            RuntimeError,
            r"Expected 3D \(unbatched\) or 4D \(batched\) non-empty input to max_pool2d, but got input of size: \[2, 3\]",
        ),
        (
            lambda: F.max_pool2d(ember.zeros(2, 3, 4, 4), 3, padding=2),
            RuntimeError,
            "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1",
        ),
        (
            lambda: F.max_pool2d(ember.zeros(2, 3, 9, 9), 3, padding=2, dilation=2),
            RuntimeError,
            "pad should be smaller than or equal to half of kernel size, but got pad=2 and kernel_size=3",
        ),
        (
            lambda: F.max_pool1d(ember.zeros(2, 3, 9), 2, padding=2, dilation=3),
            RuntimeError,
            "pad should be smaller than or equal to half of kernel size",
        ),
        (
            lambda: F.max_pool2d(ember.zeros(2, 3, 1, 1), 2),
            RuntimeError,
            r"Given input size: \(3x1x1\). Calculated output size: \(3x0x0\). Output size is too small",
        ),
        (
            lambda: F.avg_pool2d(ember.zeros(2, 3, 4, 4), 0),
            RuntimeError,
            "kernel_size must be greater than zero",
        ),
        (
            lambda: F.avg_pool2d(ember.zeros(2, 3, 4, 4), 2, stride=0),
            RuntimeError,
            "stride should be greater than zero",
        ),
        (
            lambda: F.adaptive_avg_pool2d(ember.zeros(2, 3), 2),
            RuntimeError,
            r"adaptive_avg_pool2d\(\): Expected 3D or 4D tensor, but got \[2, 3\]",
        ),
        (
            lambda: F.interpolate(ember.zeros(2, 3, 4, 4)),
            ValueError,
            "either size or scale_factor should be defined",
        ),
        (
            lambda: F.interpolate(ember.zeros(2, 3, 4, 4), size=2, scale_factor=2),
            ValueError,
            "only one of size or scale_factor should be defined",
        ),
        (
            lambda: F.interpolate(ember.zeros(2, 3, 4, 4), size=(2, 3, 4)),
            ValueError,
            "Input and output must have the same number of spatial dimensions",
        ),
        (
            lambda: F.interpolate(ember.zeros(2, 3, 4, 4), size=2, mode="cubic"),
            NotImplementedError,
            r"Only 3D, 4D and 5D input Tensors supported \(got 4D\) .* \(got cubic\)",
        ),
        (
            lambda: F.interpolate(ember.zeros(2, 3, 4, 4), size=2, align_corners=True),
            ValueError,
            "align_corners option can only be set with the interpolating modes",
        ),
    ],
)
def test_errors_name_the_op_and_the_shapes(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    "layer, text",
    [
        (lambda: MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
        (
            lambda: MaxPool2d((2, 3), stride=1, padding=1, dilation=2, return_indices=True, ceil_mode=True),
            "MaxPool2d(kernel_size=(2, 3), stride=1, padding=1, dilation=2, ceil_mode=True)",
        ),
        (lambda: MaxPool1d(2), "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
        (lambda: AvgPool2d(2), "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
        (lambda: AvgPool2d(3, 2, 1, True, False, 5), "AvgPool2d(kernel_size=3, stride=2, padding=1)"),
        (lambda: AvgPool1d(2), "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"),
        (lambda: AdaptiveAvgPool2d((5, None)), "AdaptiveAvgPool2d(output_size=(5, None))"),
        (lambda: AdaptiveAvgPool1d(3), "AdaptiveAvgPool1d(output_size=3)"),
    ],
)
def test_layer_repr_is_pytorchs(layer, text) -> None:
    assert repr(layer()) == text


@requires_torch
def test_layers_match_torch() -> None:
    import torch

    x = _array(2, 3, 7, 9)
    for ours, theirs in [
        (MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
        (
            AvgPool2d(2, count_include_pad=False, padding=1),
            torch.nn.AvgPool2d(2, count_include_pad=False, padding=1),
        ),
        (AdaptiveAvgPool2d((3, None)), torch.nn.AdaptiveAvgPool2d((3, None))),
    ]:
        assert_close(ours(ember.tensor(x)), theirs(torch.tensor(x)))
    y, idx = MaxPool2d(2, return_indices=True)(ember.tensor(x))
    yt, idx_t = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    assert_close(y, yt)
    np.testing.assert_array_equal(idx.numpy(), idx_t.numpy())
    x1 = _array(2, 3, 9)
    for ours, theirs in [
        (MaxPool1d(2), torch.nn.MaxPool1d(2)),
        (AvgPool1d(3, 2), torch.nn.AvgPool1d(3, 2)),
        (AdaptiveAvgPool1d(4), torch.nn.AdaptiveAvgPool1d(4)),
    ]:
        assert_close(ours(ember.tensor(x1)), theirs(torch.tensor(x1)))
