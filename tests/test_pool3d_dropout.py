"""3-d pooling, max unpooling, LP pooling, BatchNorm3d/InstanceNorm3d and the dropouts
Dropout1d/3d, AlphaDropout and FeatureAlphaDropout: values, indices and gradients against
PyTorch (float32 and float64, batched and unbatched), gradcheck in float64, reprs and
errors. The dropouts' random masks cannot be PyTorch's: their tests check what a mask
must satisfy (whole channels, the scaling, the mean and variance alpha dropout keeps) and
that the gradient is the scaling of the forward."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F

TOL = {"float32": (1e-5, 1e-5), "float64": (1e-10, 1e-12)}


def _array(*shape: int, dtype: str = "float32", seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def compare_with_torch(name: str, x: np.ndarray, *args: Any, **kwargs: Any) -> None:
    """F.<name>(x, ...) in ember and in torch: the output (and indices), and the input gradient."""
    import torch

    ours, theirs = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = getattr(F, name)(ours, *args, **kwargs)
    yt = getattr(torch.nn.functional, name)(theirs, *args, **kwargs)
    if isinstance(yt, tuple):
        (y, idx), (yt, idx_t) = y, yt
        assert idx.dtype == ember.int64 and not idx.requires_grad
        np.testing.assert_array_equal(idx.numpy(), idx_t.numpy())
    tol = TOL[str(x.dtype)]
    assert y.dtype == ours.dtype
    assert_close(y, yt, *tol)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(x.dtype)
    y.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(ours.grad, theirs.grad, *tol)


# ---- 3-d max and average pooling ------------------------------------------------------------

MAX_POOL3D_CASES = [
    ((2, 2, 4, 4, 4), {"kernel_size": 2}),
    ((2, 2, 5, 4, 3), {"kernel_size": 2}),  # odd sizes: the last slices are dropped
    ((1, 2, 5, 6, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),  # overlapping windows
    ((1, 2, 5, 6, 5), {"kernel_size": (3, 2, 2), "stride": (2, 1, 2), "ceil_mode": True}),
    ((1, 2, 7, 6, 5), {"kernel_size": (2, 3, 2), "stride": 1, "padding": (1, 0, 1), "dilation": (2, 1, 3)}),
    ((2, 5, 4, 6), {"kernel_size": 2, "stride": 1}),  # unbatched
]


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape, kwargs", MAX_POOL3D_CASES)
def test_max_pool3d_values_indices_and_gradients_match_torch(shape, kwargs, dtype) -> None:
    compare_with_torch("max_pool3d", _array(*shape, dtype=dtype), return_indices=True, **kwargs)


@requires_torch
def test_max_pool3d_ties_and_nan_route_like_torch() -> None:
    x = np.zeros((1, 1, 4, 4, 4), np.float32)
    x[0, 0, 1:3, 1:3, 0] = 1.0  # ties: the first maximum wins
    x[0, 0, 3, 3, 3] = x[0, 0, 2, 3, 3] = np.nan  # two NaN in one window: the last one wins
    compare_with_torch("max_pool3d", x, 2, return_indices=True)
    compare_with_torch("max_pool3d", x, 3, stride=1, padding=1, return_indices=True)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 2, 4, 4, 4), {"kernel_size": 2}),
        ((1, 2, 5, 6, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
        ((1, 2, 5, 6, 5), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
        ((1, 2, 5, 6, 5), {"kernel_size": (3, 2, 3), "stride": 2, "padding": 1, "ceil_mode": True}),
        (
            (1, 2, 5, 6, 5),
            {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
        ),
        ((2, 2, 4, 5, 4), {"kernel_size": 2, "divisor_override": 3}),
        ((2, 5, 4, 6), {"kernel_size": 2, "stride": 1}),  # unbatched
    ],
)
def test_avg_pool3d_matches_torch(shape, kwargs, dtype) -> None:
    compare_with_torch("avg_pool3d", _array(*shape, dtype=dtype), **kwargs)


@requires_torch
def test_3d_pooling_of_integers_matches_torch() -> None:
    import torch

    x = np.random.default_rng(0).integers(-9, 9, (1, 2, 4, 5, 4))
    for name, kwargs in [("max_pool3d", {}), ("avg_pool3d", {"padding": 1, "count_include_pad": False})]:
        y = getattr(F, name)(ember.tensor(x), 2, **kwargs)
        yt = getattr(torch.nn.functional, name)(torch.tensor(x), 2, **kwargs)
        assert y.dtype == ember.int64
        np.testing.assert_array_equal(y.numpy(), yt.numpy())


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "shape, size",
    [
        ((2, 2, 4, 6, 4), (2, 3, 1)),  # the sizes divide: an ordinary average pooling
        ((2, 2, 5, 7, 6), (3, 4, 4)),  # they don't: windows of unequal length
        ((2, 2, 5, 7, 6), (None, 3, 4)),
        ((2, 5, 7, 3), 2),  # unbatched
    ],
)
def test_adaptive_pool3d_matches_torch(shape, size, dtype) -> None:
    x = _array(*shape, dtype=dtype)
    compare_with_torch("adaptive_avg_pool3d", x, size)
    compare_with_torch("adaptive_max_pool3d", x, size, return_indices=True)


@requires_torch
def test_adaptive_pool3d_to_an_empty_output_is_empty_as_in_torch() -> None:
    import torch

    x = _array(2, 3, 4, 4, 4)
    for name in ("adaptive_avg_pool3d", "adaptive_max_pool3d"):
        y = getattr(F, name)(ember.tensor(x), (0, 2, 2))
        assert tuple(y.shape) == tuple(getattr(torch.nn.functional, name)(torch.tensor(x), (0, 2, 2)).shape)


@pytest.mark.parametrize(
    "pool",
    [
        lambda x: F.max_pool3d(x, 3, 2, 1, ceil_mode=True),
        lambda x: F.max_pool3d(x, (2, 3, 2), 1, dilation=(2, 1, 1)),
        lambda x: F.avg_pool3d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda x: F.avg_pool3d(x, 2, divisor_override=5),
        lambda x: F.adaptive_avg_pool3d(x, (2, 3, 4)),
        lambda x: F.adaptive_max_pool3d(x, (3, 2, 2)),
    ],
)
def test_pool3d_gradcheck_and_double_backward(pool) -> None:
    x = ember.tensor(_array(1, 2, 4, 5, 5, dtype="float64"), requires_grad=True)
    assert gradcheck(pool, (x,))
    assert gradgradcheck(pool, (x,))


def test_3d_pooling_and_unpooling_accept_an_empty_batch() -> None:
    assert F.max_pool3d(ember.zeros(0, 3, 4, 4, 4), 2).shape == (0, 3, 2, 2, 2)
    assert F.avg_pool3d(ember.zeros(0, 3, 4, 4, 4), 2).shape == (0, 3, 2, 2, 2)
    indices = ember.zeros(0, 2, 2, 2, dtype=ember.int64)
    assert F.max_unpool2d(ember.zeros(0, 2, 2, 2), indices, 2).shape == (0, 2, 4, 4)


# ---- the *_with_indices names and torch's top-level names -------------------------------------


@requires_torch
@pytest.mark.parametrize(
    "name, shape, args",
    [
        ("max_pool1d_with_indices", (2, 3, 9), (3, 2, 1)),
        ("max_pool2d_with_indices", (2, 3, 6, 7), (2,)),
        ("max_pool3d_with_indices", (2, 4, 6, 5), (2, 1)),
        ("adaptive_max_pool1d_with_indices", (2, 3, 9), (4,)),
        ("adaptive_max_pool2d_with_indices", (2, 3, 6, 7), ((3, 2),)),
        ("adaptive_max_pool3d_with_indices", (1, 2, 4, 6, 5), (3,)),
    ],
)
def test_with_indices_names_return_values_and_indices_as_torch(name, shape, args) -> None:
    compare_with_torch(name, _array(*shape), *args)


@requires_torch
def test_top_level_pooling_and_dropout_names_take_torchs_arguments() -> None:
    import torch

    x = _array(2, 3, 8)
    x3 = _array(1, 2, 4, 4, 4)
    calls = [
        ("max_pool1d", x, (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
        ("max_pool2d", _array(2, 3, 4, 6), (2,), {}),
        ("max_pool3d", x3, (2, 1), {}),
        ("avg_pool1d", x, (3, 2, 1, False, False), {}),
        ("adaptive_avg_pool1d", x, (3,), {}),
        ("adaptive_max_pool1d", x, (3,), {}),  # (values, indices), unlike F.adaptive_max_pool1d
        ("max_pool1d_with_indices", x, (2,), {}),
    ]
    for name, data, args, kwargs in calls:
        ours = getattr(ember, name)(ember.tensor(data), *args, **kwargs)
        theirs = getattr(torch, name)(torch.tensor(data), *args, **kwargs)
        assert isinstance(ours, tuple) == isinstance(theirs, tuple), name
        for a, b in zip(ours, theirs) if isinstance(theirs, tuple) else [(ours, theirs)]:
            assert_close(a, b)
    for name in ("dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout"):
        t = ember.tensor(_array(2, 3, 4))
        assert getattr(ember, name)(t, 0.5, False) is t
        assert getattr(ember, name)(input=t, p=0.0, train=True) is t
        with pytest.raises(TypeError):
            getattr(ember, name)(t, 0.5)  # train is required, as in torch
        t = ember.tensor(_array(2, 3, 4))
        assert getattr(ember, name + "_")(t, 1.0, True) is t and not t.numpy().any()


# ---- max unpooling ----------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "nd, shape, kwargs, output_size",
    [
        (1, (2, 3, 9), {"kernel_size": 2}, None),
        (1, (2, 3, 9), {"kernel_size": 2}, (9,)),  # the odd length max pooling dropped
        (1, (3, 8), {"kernel_size": 3, "stride": 2, "padding": 1}, None),  # unbatched
        (2, (2, 3, 5, 6), {"kernel_size": 2}, (2, 3, 5, 7)),  # output_size with N and C
        (2, (2, 3, 6, 6), {"kernel_size": 3, "stride": 1, "padding": 1}, None),  # shared maxima
        (2, (3, 6, 5), {"kernel_size": (2, 3), "stride": (2, 1)}, None),
        (3, (1, 2, 4, 5, 4), {"kernel_size": 2}, (4, 5, 4)),
        (3, (2, 4, 6, 4), {"kernel_size": (2, 3, 2), "stride": 2, "padding": (1, 1, 0)}, (4, 6, 4)),
    ],
)
def test_max_unpool_matches_torch(nd, shape, kwargs, output_size, dtype) -> None:
    import torch

    x = _array(*shape, dtype=dtype)
    pooled, idx = getattr(torch.nn.functional, f"max_pool{nd}d")(
        torch.tensor(x), return_indices=True, **kwargs
    )
    ours = ember.tensor(pooled.numpy(), requires_grad=True)
    theirs = pooled.detach().clone().requires_grad_(True)
    unpool = f"max_unpool{nd}d"
    y = getattr(F, unpool)(ours, ember.tensor(idx.numpy()), output_size=output_size, **kwargs)
    yt = getattr(torch.nn.functional, unpool)(theirs, idx, output_size=output_size, **kwargs)
    assert y.dtype == ours.dtype
    assert_close(y, yt, *TOL[dtype])
    g = _array(*yt.shape, dtype=dtype, seed=1)
    y.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(ours.grad, theirs.grad, *TOL[dtype])
    layer = getattr(nn, f"MaxUnpool{nd}d")(**kwargs)
    assert_close(layer(ours, ember.tensor(idx.numpy()), output_size), yt, *TOL[dtype])


def test_max_unpool_undoes_max_pool_at_the_maxima_and_gradchecks() -> None:
    x = ember.tensor(_array(1, 2, 4, 6, 4, dtype="float64"), requires_grad=True)
    y, idx = F.max_pool3d(x, 2, return_indices=True)
    back = F.max_unpool3d(y, idx, 2)
    assert ember.equal(F.max_pool3d(back, 2), y)
    pooled = y.detach().requires_grad_(True)
    assert gradcheck(lambda t: F.max_unpool3d(t, idx, 2), (pooled,))
    assert gradgradcheck(lambda t: F.max_unpool3d(t, idx, 2), (pooled,))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda y, i: F.max_unpool2d(y, i, 2, output_size=(7, 5)),
            ValueError,
            r"invalid output_size \"\(7, 5\)\" \(dim 0 must be between 2 and 6\)",
        ),
        (
            lambda y, i: F.max_unpool2d(y, i, 2, output_size=(5,)),
            ValueError,
            "output_size should be a sequence containing 2 or 4 elements, but it has a length of '1'",
        ),
        (
            lambda y, i: F.max_unpool2d(y, i * 5, 2),
            RuntimeError,
            r"Found an invalid max index: \d+ \(output volumes are of size 4x4\)",
        ),
        (lambda y, i: F.max_unpool2d(y, -i - 1, 2), RuntimeError, "Found an invalid max index: -"),
        (
            lambda y, i: F.max_unpool2d(y, i[..., :1], 2),
            RuntimeError,
            r"Expected shape of indices to be same as that of the input tensor \(\[1, 2, 2, 2\]\) but got indices tensor with shape: \[1, 2, 2, 1\]",
        ),
        (
            lambda y, i: F.max_unpool2d(y, i.float(), 2),
            RuntimeError,
            "elements in indices should be type int64 but got: Float",
        ),
        (
            lambda y, i: F.max_unpool2d(y[0, 0], i[0, 0], 2),
            RuntimeError,
            "should be a 3d or 4d Tensor, but got a tensor with 2 dimensions",
        ),
        (
            lambda y, i: F.max_unpool3d(y[0], i[0], 2),
            RuntimeError,
            "should be a 4d or 5d Tensor, but got a tensor with 3 dimensions",
        ),
        (
            lambda y, i: F.max_unpool2d(y.long(), i, 2),
            NotImplementedError,
            "\"max_unpool2d\" not implemented for 'Long'",
        ),
    ],
)
def test_max_unpool_errors_are_torchs(call, error, message) -> None:
    y, i = F.max_pool2d(ember.tensor(_array(1, 2, 4, 4)), 2, return_indices=True)
    with pytest.raises(error, match=message):
        call(y, i)


# ---- LP pooling -------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm_type", [1, 2, 3, 1.5, float("inf"), -float("inf")])
def test_lp_pool_matches_torch_on_signed_inputs(norm_type, dtype) -> None:
    x = _array(2, 3, 7, dtype=dtype)
    x[0, 0, 2:4] = 0  # a window whose sum is 0: PyTorch's zero gradient there
    compare_with_torch("lp_pool1d", x, norm_type, 2, ceil_mode=True)  # NaN where PyTorch has them
    compare_with_torch("lp_pool2d", _array(3, 5, 6, dtype=dtype), norm_type, (2, 3), stride=1)
    compare_with_torch(
        "lp_pool3d", _array(1, 2, 5, 4, 5, dtype=dtype), norm_type, 2, stride=(2, 1, 2), ceil_mode=True
    )


@requires_torch
def test_lp_pool_layers_match_torch_and_gradcheck() -> None:
    import torch

    x = np.abs(_array(2, 2, 5, 6, 5, dtype="float64")) + 0.1
    for nd, shape in ((1, (2, 3, 9)), (2, (2, 3, 5, 6)), (3, (2, 2, 5, 6, 5))):
        data = np.abs(_array(*shape, dtype="float64")) + 0.1
        ours, theirs = getattr(nn, f"LPPool{nd}d")(2, 3, 2), getattr(torch.nn, f"LPPool{nd}d")(2, 3, 2)
        assert_close(ours(ember.tensor(data)), theirs(torch.tensor(data)), *TOL["float64"])
    t = ember.tensor(x, requires_grad=True)
    assert gradcheck(lambda v: F.lp_pool3d(v, 2.5, 2, stride=(1, 2, 2)), (t,))
    assert gradgradcheck(lambda v: F.lp_pool3d(v, 2, 3, stride=2, ceil_mode=True), (t,))


# ---- BatchNorm3d and InstanceNorm3d -----------------------------------------------------------


def _norm_twins(name: str, dtype: str, *args: Any, **kwargs: Any) -> tuple:
    import torch

    t_mod = getattr(torch.nn, name)(*args, **kwargs)
    e_mod = getattr(nn, name)(*args, **kwargs)
    if dtype == "float64":
        t_mod, e_mod = t_mod.double(), e_mod.double()
    with torch.no_grad():
        for p in t_mod.parameters():
            p.copy_(torch.randn_like(p))
    e_mod.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t_mod.state_dict().items()})
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    return e_mod, t_mod


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("BatchNorm3d", {}, (3, 4, 3, 4, 2)),
        ("BatchNorm3d", {"momentum": None, "affine": False}, (2, 4, 3, 2, 2)),
        ("BatchNorm3d", {"track_running_stats": False}, (2, 4, 3, 2, 2)),
        ("InstanceNorm3d", {}, (2, 4, 3, 4, 2)),
        ("InstanceNorm3d", {"affine": True, "track_running_stats": True}, (2, 4, 3, 4, 2)),
        ("InstanceNorm3d", {"affine": True, "track_running_stats": True}, (4, 3, 4, 2)),  # unbatched
    ],
)
def test_3d_normalization_matches_torch_in_training_and_eval(name, kwargs, shape, dtype) -> None:
    import torch

    e_mod, t_mod = _norm_twins(name, dtype, 4, **kwargs)
    rng = np.random.default_rng(0)
    for training in (True, True, False):
        e_mod.train(training), t_mod.train(training)
        data = (rng.normal(size=shape) * 2 + 0.5).astype(dtype)
        xe, xt = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        ye, yt = e_mod(xe), t_mod(xt)
        assert_close(ye, yt, 1e-4, 1e-5)
        w = rng.normal(size=shape).astype(dtype)
        (ye * ember.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        assert_close(xe.grad, xt.grad, 1e-4, 1e-5)
    for pe, pt in zip(e_mod.parameters(), t_mod.parameters()):
        assert_close(pe.grad, pt.grad, 1e-4, 1e-5)
    for be, bt in zip(e_mod.buffers(), t_mod.buffers()):
        assert_close(be, bt, 1e-5, 1e-6)


def test_3d_normalization_checks_the_rank() -> None:
    with pytest.raises(ValueError, match=r"expected 5D input \(got 4D input\)"):
        nn.BatchNorm3d(3)(ember.randn(3, 4, 4, 4))
    with pytest.raises(ValueError, match=r"expected 4D or 5D input \(got 3D input\)"):
        nn.InstanceNorm3d(3)(ember.randn(3, 4, 4))


# ---- reprs ------------------------------------------------------------------------------------

REPRS = [
    "MaxPool3d(2)",
    "MaxPool3d((2, 1, 2), stride=1, padding=1, dilation=2, return_indices=True, ceil_mode=True)",
    "AvgPool3d(2)",
    "AvgPool3d(3, 2, 1, True, False, 2)",
    "AdaptiveAvgPool3d((2, None, 3))",
    "AdaptiveMaxPool3d(2, True)",
    "MaxUnpool1d(2)",
    "MaxUnpool2d(3, None, 1)",
    "MaxUnpool3d((2, 1, 2), 1, 0)",
    "LPPool1d(2, 3)",
    "LPPool2d(1.5, (2, 3), 1, True)",
    "LPPool3d(2, 2)",
    "BatchNorm3d(3)",
    "BatchNorm3d(3, momentum=None, affine=False, track_running_stats=False)",
    "InstanceNorm3d(3)",
    "InstanceNorm3d(3, affine=True, track_running_stats=True)",
    "Dropout1d(0.2, True)",
    "Dropout3d()",
    "AlphaDropout()",
    "FeatureAlphaDropout(0.3, True)",
]


@requires_torch
@pytest.mark.parametrize("expression", REPRS)
def test_layer_reprs_are_torchs(expression) -> None:
    import torch

    assert repr(eval(f"nn.{expression}", {"nn": nn})) == repr(eval(f"nn.{expression}", {"nn": torch.nn}))


@requires_torch
def test_3d_pooling_layers_match_torch() -> None:
    import torch

    x = _array(2, 2, 5, 6, 5)
    layers = [
        "MaxPool3d((2, 3, 2), stride=1, padding=1, dilation=(2, 1, 1), return_indices=True, ceil_mode=True)",
        "AvgPool3d(3, 2, 1, True, False)",
        "AvgPool3d(2, divisor_override=3)",
        "AdaptiveAvgPool3d((2, None, 3))",
        "AdaptiveMaxPool3d(2, True)",
        "LPPool3d(2, 2)",
    ]
    for expression in layers:
        ours = eval(f"nn.{expression}", {"nn": nn})(ember.tensor(x))
        theirs = eval(f"nn.{expression}", {"nn": torch.nn})(torch.tensor(x))
        for a, b in zip(ours, theirs) if isinstance(theirs, tuple) else [(ours, theirs)]:
            assert_close(a, b)


# ---- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: F.max_pool3d(ember.zeros(3, 4, 4), 2),
            RuntimeError,
            r"Expected 4D \(unbatched\) or 5D \(batched\) non-empty input to max_pool3d, but got input of size: \[3, 4, 4\]",
        ),
        (
            lambda: F.avg_pool3d(ember.zeros(2, 3, 4, 4, 4), 2, padding=2),
            RuntimeError,
            "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1",
        ),
        (
            lambda: F.max_pool3d(ember.zeros(2, 3, 4, 4, 4), 5),
            RuntimeError,
            r"Given input size: \(3x4x4x4\). Calculated output size: \(3x0x0x0\). Output size is too small",
        ),
        (
            lambda: F.max_pool3d(ember.zeros(2, 3, 4, 4, 4), (2, 2)),
            RuntimeError,
            "max_pool3d: kernel_size must either be a single int, or a tuple of 3 ints",
        ),
        (
            lambda: F.avg_pool3d(ember.zeros(2, 3, 4, 4, 4), 2, stride=0),
            RuntimeError,
            "stride should be greater than zero",
        ),
        (
            lambda: F.max_pool3d(ember.zeros(2, 3, 4, 4, 4), 2, dilation=0),
            RuntimeError,
            "dilation should be greater than zero",
        ),
        (
            lambda: F.avg_pool3d(ember.zeros(2, 3, 4, 4, 4), 2, divisor_override=0),
            RuntimeError,
            "divisor must be not zero",
        ),
        (
            lambda: F.avg_pool3d(ember.zeros(2, 3, 4, 4, 4, dtype=ember.int32), 2),
            NotImplementedError,
            "\"avg_pool3d\" not implemented for 'Int'",
        ),
        (
            lambda: F.max_pool3d(ember.zeros(2, 3, 4, 4, 4, dtype=ember.bool), 2),
            NotImplementedError,
            "\"max_pool3d\" not implemented for 'Bool'",
        ),
        (
            lambda: F.adaptive_avg_pool3d(ember.zeros(3, 4), 2),
            RuntimeError,
            r"adaptive_avg_pool3d\(\): Expected 4D or 5D tensor, but got \[3, 4\]",
        ),
        (
            lambda: F.adaptive_max_pool3d(ember.zeros(3, 4), 2),
            RuntimeError,
            r"adaptive_max_pool3d\(\): Expected 4D or 5D tensor, but got: \[3, 4\]",
        ),
        (
            lambda: F.adaptive_avg_pool3d(ember.zeros(2, 3, 0, 4, 4), 2),
            RuntimeError,
            r"Expected input to have non-zero size for non-batch dimensions, but input has sizes \[2, 3, 0, 4, 4\] with dimension 2 being empty",
        ),
        (
            lambda: F.adaptive_avg_pool3d(ember.zeros(2, 3, 4, 4, 4, dtype=ember.int64), 2),
            NotImplementedError,
            "\"adaptive_avg_pool3d\" not implemented for 'Long'",
        ),
        (lambda: F.lp_pool3d(ember.zeros(3, 5), 2, 2), RuntimeError, "Expected 4D .*or 5D"),
        (lambda: F.lp_pool2d(ember.ones(1, 3, 4, 4), 0, 2), ZeroDivisionError, ""),
        (lambda: nn.Dropout3d(1.5), ValueError, "dropout probability has to be between 0 and 1, but got 1.5"),
        (
            lambda: nn.AlphaDropout(-0.1),
            ValueError,
            "dropout probability has to be between 0 and 1, but got -0.1",
        ),
        (
            lambda: F.alpha_dropout(ember.ones(3), 2.0, True),
            ValueError,
            "dropout probability has to be between 0 and 1, but got 2.0",
        ),
        (
            lambda: F.feature_alpha_dropout(ember.ones(5), 0.5, True),
            RuntimeError,
            "Feature dropout requires at least 2 dimensions in the input",
        ),
        (
            lambda: F.alpha_dropout(ember.arange(4), 0.5, True),
            RuntimeError,
            "result type Float can't be cast to the desired output type Long",
        ),
        (
            lambda: F.alpha_dropout(ember.ones(4, requires_grad=True), 0.5, True, inplace=True),
            RuntimeError,
            "a leaf Variable that requires grad is being used in an in-place operation",
        ),
    ],
)
def test_errors_are_torchs(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


# ---- channel dropout: Dropout1d/3d and F.dropout3d ---------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(4, 6, 3, 2, 3), (6, 3, 2, 3)])  # batched and unbatched
def test_dropout3d_zeroes_whole_channels_and_scales_the_rest(shape, dtype) -> None:
    p = 0.4
    x = ember.tensor(np.abs(_array(*shape, dtype=dtype)) + 1, requires_grad=True)
    y = F.dropout3d(x, p)
    assert y.dtype == x.dtype
    ratio = (y / x).detach().numpy().reshape(shape[:-3] + (-1,))
    # every channel is either all zeros or all 1/(1-p)
    kept = ratio[..., :1] != 0
    assert kept.any() and not kept.all()
    mask = np.broadcast_to(np.where(kept, np.asarray(1 / (1 - p), dtype=dtype), 0), ratio.shape)
    np.testing.assert_allclose(ratio, mask, rtol=1e-6)
    y.backward(ember.ones_like(y))
    np.testing.assert_array_equal(x.grad.numpy().reshape(ratio.shape), mask)  # the gradient is the mask


def test_dropout3d_keeps_a_fraction_1_minus_p_of_the_channels() -> None:
    y = F.dropout3d(ember.ones(50, 40, 1, 2, 1), 0.3)
    kept = (y.numpy()[:, :, 0, 0, 0] != 0).mean()
    assert abs(kept - 0.7) < 0.03


def test_channel_dropout_layers_are_the_identity_in_eval_and_at_p_0() -> None:
    x = ember.randn(2, 3, 4, 4, 4)
    for layer in (nn.Dropout3d(0.5), nn.Dropout1d(0.5), nn.AlphaDropout(0.5), nn.FeatureAlphaDropout(0.5)):
        data = x if not isinstance(layer, nn.Dropout1d) else x[:, :, 0, 0]
        assert layer.eval()(data) is data
        assert type(layer)(0.0)(data) is data
    assert F.dropout3d(x, 0.5, training=False) is x


def test_dropout_p_1_gives_zeros_and_zero_gradient() -> None:
    for f in (F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout):
        x = ember.randn(2, 3, 2, 2, 2, requires_grad=True)
        y = f(x, 1.0, True)
        assert not y.detach().numpy().any()
        y.sum().backward()
        assert not x.grad.numpy().any()
    # p=1 zeroes even an input too small for feature dropout, as PyTorch's check comes later
    assert not F.feature_alpha_dropout(ember.ones(5), 1.0, True).numpy().any()


def test_inplace_dropout_changes_the_input_itself() -> None:
    base = ember.randn(2, 3, 2, 2, 2, requires_grad=True)
    for f in (F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout):
        x = base * 1  # a non-leaf
        before = x.detach().numpy().copy()
        y = f(x, 0.5, True, inplace=True)
        assert y is x and not np.array_equal(x.detach().numpy(), before)
        y.sum().backward()  # the graph goes through the in-place op
    layer = nn.Dropout1d(0.5, inplace=True)
    x = ember.randn(4, 6, 3) * 1
    assert layer(x) is x


@requires_torch
def test_alpha_dropout_layers_ignore_their_inplace_flag_as_torch() -> None:
    import torch

    for name in ("AlphaDropout", "FeatureAlphaDropout"):
        for T, x in ((ember, ember.ones(4, 6, 3)), (torch, torch.ones(4, 6, 3))):
            y = getattr(T.nn, name)(0.5, inplace=True)(x)
            assert y is not x and bool((x == 1).all())


# ---- alpha dropout -----------------------------------------------------------------------------

ALPHA = 1.7580993408473766  # SELU's scale * alpha


def _affine(p: float) -> tuple:
    """a, and the values that kept (a * x + b_kept) and dropped elements take."""
    a = 1 / np.sqrt((ALPHA**2 * p + 1) * (1 - p))
    return a, ALPHA * a * p, ALPHA * a * (p - 1)


@requires_torch
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_alpha_dropout_uses_torchs_affine_map(p) -> None:
    """Infer a and b from PyTorch's own output, then check that ember's is the same map."""
    import torch

    x = _array(4000)
    yt = torch.nn.functional.alpha_dropout(torch.tensor(x), p, True).numpy()
    y = F.alpha_dropout(ember.tensor(x), p, True).numpy()
    a, kept_shift, dropped = _affine(p)
    for out in (yt, y):
        is_dropped = np.isclose(out, dropped, rtol=1e-6, atol=1e-7)
        assert abs(is_dropped.mean() - p) < 0.05
        np.testing.assert_allclose(out[~is_dropped], a * x[~is_dropped] + kept_shift, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("feature", [False, True])
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_keeps_mean_0_and_variance_1(p, feature) -> None:
    x = ember.randn(400, 500)  # N(0, 1), the fixed point of SELU networks
    f = F.feature_alpha_dropout if feature else F.alpha_dropout
    y = f(x.reshape(400, 500, 1, 1) if feature else x, p, True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.03
    s = F.selu(ember.randn(400, 500) * 1.0)  # SELU outputs of N(0, 1) inputs: close to (0, 1)
    ys = F.alpha_dropout(s, p, True).numpy()
    assert abs(ys.mean() - s.numpy().mean()) < 0.03 and abs(ys.var() - s.numpy().var()) < 0.05


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_alpha_dropout_gradient_is_the_scaling_of_its_forward(dtype) -> None:
    p = 0.3
    a, kept_shift, dropped = _affine(p)
    x = ember.tensor(_array(6, 50, dtype=dtype), requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    assert y.dtype == x.dtype
    out = y.detach().numpy()
    keep = ~np.isclose(out, dropped)
    assert keep.any() and not keep.all()
    np.testing.assert_allclose(out[keep], a * x.detach().numpy()[keep] + kept_shift, *TOL[dtype])
    g = _array(6, 50, dtype=dtype, seed=3)
    y.backward(ember.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g * a * keep, *TOL[dtype])


def test_feature_alpha_dropout_drops_whole_channels() -> None:
    p = 0.5
    _, _, dropped = _affine(p)
    x = ember.tensor(_array(8, 10, 3, 4), requires_grad=True)
    y = F.feature_alpha_dropout(x, p, True).detach().numpy().reshape(8, 10, -1)
    is_dropped = np.isclose(y, dropped)
    assert np.all(is_dropped == is_dropped[..., :1])  # a channel is dropped whole, or not at all
    assert 0 < is_dropped.mean() < 1
    layer = nn.FeatureAlphaDropout(p).train()
    assert layer(ember.randn(3, 4)).shape == (3, 4)  # (N, C): one draw per element


def test_alpha_dropout_defaults_to_the_identity_outside_training_as_torch() -> None:
    x = ember.randn(3, 4)
    assert F.alpha_dropout(x) is x and F.feature_alpha_dropout(x, 0.5) is x
    assert F.alpha_dropout(ember.zeros(0, 3), 0.5, True).shape == (0, 3)
