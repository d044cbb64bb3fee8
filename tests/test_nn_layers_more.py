"""GroupNorm, InstanceNorm1d/2d, AdaptiveMaxPool1d/2d, Upsample and F.interpolate's linear
modes, compared with PyTorch with the same weights: values, input and parameter gradients
(float32 and float64), running statistics, reprs, state_dict keys and errors; gradcheck in
float64."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F


def _copy_state(e_mod: Any, t_mod: Any) -> None:
    """torch's parameters and buffers (random-ised so that they matter) into the ember module."""
    import torch

    with torch.no_grad():
        for p in t_mod.parameters():
            p.copy_(torch.randn_like(p))
    e_mod.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t_mod.state_dict().items()})


def _compare(e_mod: Any, t_mod: Any, shape: tuple, dtype: str, steps: int = 1, seed: int = 0) -> None:
    """Outputs, input gradients and parameter gradients of a random weighting of the
    outputs, then the buffers, ember against torch, over `steps` calls."""
    import torch

    tol = {"float64": (1e-9, 1e-10), "float32": (1e-4, 1e-5)}[dtype]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        data = (rng.normal(size=shape) * 2 + 0.5).astype(dtype)
        xe, xt = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        ye, yt = e_mod(xe), t_mod(xt)
        assert tuple(ye.shape) == tuple(yt.shape)
        assert str(ye.dtype) == str(yt.dtype).replace("torch", "ember")
        assert_close(ye, yt, *tol)
        w = rng.normal(size=tuple(yt.shape)).astype(dtype)
        (ye * ember.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        assert_close(xe.grad, xt.grad, *tol)
    for (name, pe), (_, pt) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        assert_close(pe.grad, pt.grad, *tol), name
    for (name, be), (_, bt) in zip(e_mod.named_buffers(), t_mod.named_buffers()):
        assert_close(be, bt, *tol), name


def _twins(name: str, *args: Any, dtype: str = "float32", **kwargs: Any) -> tuple:
    import torch

    t_mod = getattr(torch.nn, name)(*args, **kwargs)
    e_mod = getattr(nn, name)(*args, **kwargs)
    if dtype == "float64":
        t_mod, e_mod = t_mod.double(), e_mod.double()
    return e_mod, t_mod


def _raises(fn_e: Any, fn_t: Any) -> Exception:
    """Both raise the same exception type; ember's exception is returned for its message."""
    with pytest.raises(Exception) as te:
        fn_t()
    with pytest.raises(type(te.value)) as ee:
        fn_e()
    return ee.value


# ---- GroupNorm ------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "groups, channels, shape, kwargs",
    [
        (2, 4, (3, 4), {}),
        (3, 6, (2, 6, 5), {}),
        (1, 4, (2, 4, 3, 3), {}),
        (4, 4, (2, 4, 3, 2), {"eps": 1e-3}),
        (2, 6, (2, 6, 4), {"affine": False}),
        (2, 6, (2, 6, 2, 3), {"bias": False}),
    ],
)
def test_group_norm_matches_torch(groups: int, channels: int, shape: tuple, kwargs: dict, dtype: str) -> None:
    e_mod, t_mod = _twins("GroupNorm", groups, channels, dtype=dtype, **kwargs)
    _copy_state(e_mod, t_mod)
    _compare(e_mod, t_mod, shape, dtype)


@requires_torch
def test_group_norm_repr_state_dict_and_init() -> None:
    import torch

    for args, kwargs in [((2, 4), {}), ((3, 6), {"eps": 1e-3, "affine": False}), ((1, 2), {"bias": False})]:
        e_mod, t_mod = nn.GroupNorm(*args, **kwargs), torch.nn.GroupNorm(*args, **kwargs)
        assert repr(e_mod) == repr(t_mod)
        assert list(e_mod.state_dict()) == list(t_mod.state_dict())
        for (ne, pe), (nt, pt) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
            assert ne == nt
            assert_close(pe, pt)


@requires_torch
def test_group_norm_errors() -> None:
    import torch

    err = _raises(lambda: nn.GroupNorm(4, 6), lambda: torch.nn.GroupNorm(4, 6))
    assert str(err) == "num_channels (6) must be divisible by num_groups (4)"
    x = np.zeros((2, 6, 5), dtype=np.float32)
    err = _raises(
        lambda: F.group_norm(ember.tensor(x), 4), lambda: torch.nn.functional.group_norm(torch.tensor(x), 4)
    )
    assert "divisible by num_groups" in str(err) and "[2, 6, 5]" in str(err)
    _raises(
        lambda: F.group_norm(ember.zeros(6), 3), lambda: torch.nn.functional.group_norm(torch.zeros(6), 3)
    )
    err = _raises(
        lambda: F.group_norm(ember.tensor(x), 3, ember.ones(5)),
        lambda: torch.nn.functional.group_norm(torch.tensor(x), 3, torch.ones(5)),
    )
    assert "weight of shape [5]" in str(err)
    _raises(
        lambda: nn.GroupNorm(3, 6)(ember.zeros(2, 4, 5)),
        lambda: torch.nn.GroupNorm(3, 6)(torch.zeros(2, 4, 5)),
    )
    _raises(
        lambda: F.group_norm(ember.zeros(2, 6, dtype=ember.int32), 3),
        lambda: torch.nn.functional.group_norm(torch.zeros(2, 6, dtype=torch.int32), 3),
    )
    # one sample whose groups are one channel of one value each: PyTorch refuses it, as
    # it refuses a batch norm of one value per channel (and checks before divisibility)
    for shape, groups in (((1, 2), 2), ((1, 1, 1), 1), ((1, 3), 2)):
        err = _raises(
            lambda shape=shape, groups=groups: F.group_norm(ember.zeros(shape), groups),
            lambda shape=shape, groups=groups: torch.nn.functional.group_norm(torch.zeros(shape), groups),
        )
        assert str(err).startswith("Expected more than 1 value per channel")
    assert F.group_norm(ember.ones(2, 2), 2).shape == (2, 2)  # two samples pass, as in PyTorch


def test_group_norm_gradcheck() -> None:
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.normal(size=(2, 4, 3)), requires_grad=True)
    w = ember.tensor(rng.normal(size=4), requires_grad=True)
    b = ember.tensor(rng.normal(size=4), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    assert gradgradcheck(lambda x: F.group_norm(x, 4), (x,))


# ---- InstanceNorm ---------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name, shape, kwargs",
    [
        ("InstanceNorm1d", (2, 3, 5), {}),
        ("InstanceNorm1d", (3, 4), {}),  # unbatched (C, L)
        ("InstanceNorm1d", (2, 3, 5), {"affine": True}),
        ("InstanceNorm1d", (4, 3, 6), {"affine": True, "track_running_stats": True}),
        ("InstanceNorm2d", (2, 3, 4, 5), {"affine": True}),
        ("InstanceNorm2d", (3, 4, 2), {"track_running_stats": True}),  # unbatched (C, H, W)
        ("InstanceNorm2d", (2, 3, 3, 3), {"affine": True, "track_running_stats": True, "momentum": 0.3}),
        ("InstanceNorm2d", (2, 3, 3, 3), {"track_running_stats": True, "momentum": None}),
    ],
)
def test_instance_norm_matches_torch_in_train_and_eval(
    name: str, shape: tuple, kwargs: dict, dtype: str
) -> None:
    channels = shape[-2] if name == "InstanceNorm1d" else shape[-3]
    e_mod, t_mod = _twins(name, channels, dtype=dtype, **kwargs)
    _copy_state(e_mod, t_mod)
    _compare(e_mod, t_mod, shape, dtype, steps=2)
    e_mod.eval(), t_mod.eval()
    e_mod.zero_grad(), t_mod.zero_grad()
    _compare(e_mod, t_mod, shape, dtype, seed=1)


@requires_torch
def test_instance_norm_repr_state_dict_and_warning() -> None:
    import torch

    for name in ("InstanceNorm1d", "InstanceNorm2d"):
        for kwargs in (
            {},
            {"affine": True},
            {"track_running_stats": True, "momentum": None},
            {"affine": True, "bias": False},
        ):
            e_mod, t_mod = getattr(nn, name)(3, **kwargs), getattr(torch.nn, name)(3, **kwargs)
            assert repr(e_mod) == repr(t_mod)
            assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(ember.zeros(2, 4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm1d(4)(ember.zeros(2, 4, 5))


@requires_torch
def test_instance_norm_errors() -> None:
    import torch

    TF = torch.nn.functional
    err = _raises(lambda: F.instance_norm(ember.zeros(2, 3)), lambda: TF.instance_norm(torch.zeros(2, 3)))
    assert "Expected more than 1 spatial element when training" in str(err)
    _raises(lambda: F.instance_norm(ember.zeros(2, 3, 1)), lambda: TF.instance_norm(torch.zeros(2, 3, 1)))
    err = _raises(
        lambda: F.instance_norm(ember.zeros(2, 3, 4), use_input_stats=False),
        lambda: TF.instance_norm(torch.zeros(2, 3, 4), use_input_stats=False),
    )
    assert str(err) == "Expected running_mean and running_var to be defined when use_input_stats is false"
    _raises(
        lambda: F.instance_norm(ember.zeros(2, 3, 4), None, None, ember.ones(4)),
        lambda: TF.instance_norm(torch.zeros(2, 3, 4), None, None, torch.ones(4)),
    )
    _raises(
        lambda: nn.InstanceNorm1d(3)(ember.zeros(2, 3, 4, 5)),
        lambda: torch.nn.InstanceNorm1d(3)(torch.zeros(2, 3, 4, 5)),
    )
    err = _raises(
        lambda: nn.InstanceNorm1d(3, affine=True)(ember.zeros(2, 4, 5)),
        lambda: torch.nn.InstanceNorm1d(3, affine=True)(torch.zeros(2, 4, 5)),
    )
    assert str(err) == "expected input's size at dim=1 to match num_features (3), but got: 4."


def test_instance_norm_gradcheck() -> None:
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
    w = ember.tensor(rng.normal(size=3), requires_grad=True)
    b = ember.tensor(rng.normal(size=3), requires_grad=True)
    fn = lambda x, w, b: F.instance_norm(x, weight=w, bias=b)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))
    rm, rv = ember.tensor(rng.normal(size=3)), ember.tensor(rng.uniform(0.5, 2, size=3))
    assert gradcheck(lambda x, w, b: F.instance_norm(x, rm, rv, w, b, use_input_stats=False), (x, w, b))


# ---- AdaptiveMaxPool1d/2d -------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name, shape, output_size",
    [
        ("AdaptiveMaxPool1d", (2, 3, 8), 4),  # even windows
        ("AdaptiveMaxPool1d", (2, 3, 7), 3),  # uneven, overlapping
        ("AdaptiveMaxPool1d", (3, 5), 9),  # unbatched, more outputs than inputs
        ("AdaptiveMaxPool2d", (2, 3, 5, 7), 3),
        ("AdaptiveMaxPool2d", (2, 2, 6, 5), (4, None)),
        ("AdaptiveMaxPool2d", (3, 7, 4), (2, 3)),  # unbatched
        ("AdaptiveMaxPool2d", (1, 2, 4, 4), 1),  # global
    ],
)
def test_adaptive_max_pool_matches_torch(name: str, shape: tuple, output_size: Any, dtype: str) -> None:
    import torch

    e_mod, t_mod = _twins(name, output_size, dtype=dtype)
    _compare(e_mod, t_mod, shape, dtype)
    data = np.random.default_rng(2).normal(size=shape).astype(dtype)
    data[..., 1] = data[..., 0]  # ties: the first maximum wins
    e_mod, t_mod = _twins(name, output_size, return_indices=True)
    (ye, ie), (yt, it) = e_mod(ember.tensor(data)), t_mod(torch.tensor(data))
    assert_close(ye, yt)
    assert ie.dtype == ember.int64
    np.testing.assert_array_equal(ie.numpy(), it.numpy())


@requires_torch
def test_adaptive_max_pool_nan_ties_and_empty() -> None:
    import torch

    nan = float("nan")
    for row in ([1.0, nan, 2.0, nan, 0.0], [1.0, 3.0, 3.0, 0.0, 3.0], [nan, nan, 1.0, 2.0, 2.0]):
        for size in (1, 2, 3):
            ye, ie = F.adaptive_max_pool1d(ember.tensor([[row]]), size, True)
            yt, it = torch.nn.functional.adaptive_max_pool1d(torch.tensor([[row]]), size, True)
            np.testing.assert_array_equal(ye.numpy(), yt.numpy())
            np.testing.assert_array_equal(ie.numpy(), it.numpy())
    for shape, size in (((0, 3, 4, 7), 2), ((2, 3, 5, 7), 0), ((2, 3, 5, 7), (0, 2))):
        e = F.adaptive_max_pool2d(ember.zeros(*shape), size)
        assert tuple(e.shape) == tuple(
            torch.nn.functional.adaptive_max_pool2d(torch.zeros(*shape), size).shape
        )


@requires_torch
def test_adaptive_max_pool_repr_and_errors() -> None:
    import torch

    TF = torch.nn.functional
    for name, args in (
        ("AdaptiveMaxPool1d", (3,)),
        ("AdaptiveMaxPool2d", ((None, 3), True)),
        ("AdaptiveMaxPool2d", (2,)),
    ):
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
    cases = [
        ("adaptive_max_pool2d", (5, 7), 3),
        ("adaptive_max_pool1d", (5,), 3),
        ("adaptive_max_pool2d", (2, 3, 5, 7), (3,)),
        ("adaptive_max_pool1d", (2, 3, 5), (2, 3)),
        ("adaptive_max_pool2d", (2, 3, 0, 7), 2),
    ]
    for op, shape, size in cases:
        _raises(
            lambda op=op, shape=shape, size=size: getattr(F, op)(ember.zeros(*shape), size),
            lambda op=op, shape=shape, size=size: getattr(TF, op)(torch.zeros(*shape), size),
        )
    err = _raises(
        lambda: F.adaptive_max_pool2d(ember.zeros(2, 3, 4, 4, dtype=ember.int32), 2),
        lambda: TF.adaptive_max_pool2d(torch.zeros(2, 3, 4, 4, dtype=torch.int32), 2),
    )
    assert "\"adaptive_max_pool2d\" not implemented for 'Int'" in str(err)


def test_adaptive_max_pool_gradcheck() -> None:
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.permutation(2 * 5 * 7).reshape(2, 5, 7) / 10.0, requires_grad=True)  # no ties
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, (3, 4)), (x,))
    assert gradgradcheck(lambda x: F.adaptive_max_pool2d(x, (3, 4)), (x,))
    assert gradcheck(lambda x: F.adaptive_max_pool1d(x, 4), (x,))


# ---- interpolate's linear modes, Upsample ---------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 3, 5), {"size": 8, "mode": "linear"}),
        ((2, 3, 7), {"scale_factor": 0.6, "mode": "linear", "align_corners": True}),
        ((2, 3, 5, 4), {"scale_factor": 2.5, "mode": "bilinear"}),
        ((2, 3, 5, 4), {"scale_factor": (0.6, 1.7), "mode": "bilinear", "align_corners": True}),
        ((2, 3, 5, 4), {"scale_factor": 1.3, "mode": "bilinear", "recompute_scale_factor": True}),
        ((2, 3, 5, 4), {"scale_factor": 1.3, "mode": "bilinear"}),
        # a size kept despite a scale_factor: PyTorch copies that dimension
        ((2, 3, 5, 4), {"scale_factor": (1.1, 1.2), "mode": "bilinear"}),
        ((2, 3, 4, 5), {"scale_factor": (1.7, 1.1), "mode": "bilinear"}),
        ((2, 3, 3), {"scale_factor": 1.3, "mode": "linear"}),
        ((1, 2, 3, 4, 5), {"scale_factor": (1.2, 2.1, 1.1), "mode": "trilinear"}),
        ((1, 2, 4, 6), {"size": (3, 9), "mode": "bilinear"}),
        ((1, 2, 1, 6), {"size": (3, 1), "mode": "bilinear", "align_corners": True}),
        ((1, 2, 3, 4, 5), {"size": (4, 2, 7), "mode": "trilinear"}),
        ((2, 3, 5, 4), {"scale_factor": 2, "mode": "nearest"}),
        ((2, 3, 5, 4), {"size": (7, 3), "mode": "nearest-exact"}),
    ],
)
def test_upsample_matches_torch(shape: tuple, kwargs: dict, dtype: str) -> None:
    e_mod, t_mod = _twins("Upsample", dtype=dtype, **kwargs)
    _compare(e_mod, t_mod, shape, dtype)


@requires_torch
@pytest.mark.parametrize("name", ["UpsamplingNearest2d", "UpsamplingBilinear2d"])
@pytest.mark.parametrize("kwargs", [{"scale_factor": 2}, {"size": (3, 7)}, {"size": 5}])
def test_upsampling_2d_layers_match_torch(name: str, kwargs: dict) -> None:
    import torch

    e_mod, t_mod = _twins(name, **kwargs)
    assert repr(e_mod) == repr(t_mod)
    assert e_mod.name == t_mod.name and e_mod.align_corners == t_mod.align_corners
    _compare(e_mod, t_mod, (2, 3, 4, 5), "float32")
    assert list(e_mod.state_dict()) == list(t_mod.state_dict()) == []
    for args in (
        {"scale_factor": (2, 3)},
        {"size": (2, 3), "mode": "bilinear"},
        {"scale_factor": 1.5, "mode": "linear"},
    ):
        assert repr(nn.Upsample(**args)) == repr(torch.nn.Upsample(**args))


@requires_torch
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("upsample", {"scale_factor": 2}),
        ("upsample", {"size": (3, 7), "mode": "bilinear", "align_corners": False}),
        ("upsample_nearest", {"scale_factor": 1.5}),
        ("upsample_bilinear", {"size": (6, 3)}),
    ],
)
def test_deprecated_upsample_functions_match_torch(name: str, kwargs: dict) -> None:
    import torch

    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
        ours = getattr(F, name)(ember.tensor(x), **kwargs)
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x), **kwargs)
    assert_close(ours, theirs)


@requires_torch
def test_interpolate_linear_keeps_nan_and_inf_local() -> None:
    import torch

    x = np.arange(10.0).reshape(1, 1, 10)
    x[0, 0, 2], x[0, 0, 7] = np.nan, np.inf
    e = F.interpolate(ember.tensor(x), size=17, mode="linear")
    t = torch.nn.functional.interpolate(torch.tensor(x), size=17, mode="linear")
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12)  # NaN and inf at the same places


@requires_torch
def test_interpolate_errors() -> None:
    import torch

    TF = torch.nn.functional
    cases = [
        ((1, 2, 3, 4), {"scale_factor": 2, "mode": "linear"}),
        ((1, 2, 3), {"scale_factor": 2, "mode": "bilinear"}),
        ((1, 2, 3), {"scale_factor": 2, "mode": "trilinear"}),
        ((3, 3), {"size": 4, "mode": "linear"}),
        ((1, 2, 3), {"scale_factor": 2, "mode": "linear", "antialias": True}),
        ((1, 2, 3, 3), {"size": 4, "mode": "bilinear", "recompute_scale_factor": True}),
        ((1, 2, 3, 3), {"size": 4, "mode": "nearest", "align_corners": True}),
        ((1, 2, 3, 3), {"mode": "bilinear"}),
    ]
    for shape, kwargs in cases:
        _raises(
            lambda shape=shape, kwargs=kwargs: F.interpolate(ember.zeros(*shape), **kwargs),
            lambda shape=shape, kwargs=kwargs: TF.interpolate(torch.zeros(*shape), **kwargs),
        )
    err = _raises(
        lambda: F.interpolate(ember.zeros(1, 2, 3), scale_factor=2, mode="bilinear"),
        lambda: TF.interpolate(torch.zeros(1, 2, 3), scale_factor=2, mode="bilinear"),
    )
    assert str(err) == "Got 3D input, but bilinear mode needs 4D input"
    _raises(
        lambda: F.interpolate(ember.zeros(1, 2, 3, 3, dtype=ember.int32), size=4, mode="bilinear"),
        lambda: TF.interpolate(torch.zeros(1, 2, 3, 3, dtype=torch.int32), size=4, mode="bilinear"),
    )


def test_interpolate_linear_gradcheck() -> None:
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.normal(size=(1, 2, 3, 4)), requires_grad=True)
    for kwargs in ({"scale_factor": 1.7}, {"size": (5, 2), "align_corners": True}):
        fn = lambda x, kwargs=kwargs: F.interpolate(x, mode="bilinear", **kwargs)  # noqa: E731
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))
    x1 = ember.tensor(rng.normal(size=(2, 1, 5)), requires_grad=True)
    assert gradcheck(lambda x: F.interpolate(x, size=3, mode="linear"), (x1,))
