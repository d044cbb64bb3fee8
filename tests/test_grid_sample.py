"""F.affine_grid, F.grid_sample and F.interpolate's bicubic and area modes and antialias,
compared with PyTorch: values and gradients in float32 and float64 over random inputs and
grids reaching outside [-1, 1], every mode, padding and align_corners; double backward;
gradcheck in float64; warnings and errors; the model of the Spatial Transformer tutorial."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F

TOL = {"float64": (1e-10, 1e-12), "float32": (1e-4, 2e-5)}


def _value_and_grads(T: Any, fn: Any, arrays: list, weight: np.ndarray) -> list:
    """fn(*arrays) in framework T, and the gradients of sum(weight * output) to each array."""
    tensors = [T.tensor(a, requires_grad=True) for a in arrays]
    y = fn(T, *tensors)
    (y * T.tensor(weight)).sum().backward()
    return [y] + [t.grad for t in tensors]


def _compare(fn: Any, arrays: list, dtype: str, seed: int = 0) -> None:
    import torch

    arrays = [a.astype(dtype) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.no_grad():
            shape = fn(torch, *[torch.tensor(a) for a in arrays]).shape
        weight = np.random.default_rng(seed).normal(size=tuple(shape)).astype(dtype)
        expected = _value_and_grads(torch, fn, arrays, weight)
        actual = _value_and_grads(ember, fn, arrays, weight)
    rtol, atol = TOL[dtype]
    for a, e in zip(actual, expected):
        assert a.dtype == (ember.float32 if dtype == "float32" else ember.float64)
        assert_close(a, e, rtol=rtol, atol=atol)


# --- grid_sample ------------------------------------------------------------------------------

MODES = ["bilinear", "nearest", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_grid_sample_2d_matches_torch(mode: str, padding_mode: str, align_corners: bool, dtype: str) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4, 5))
    grid = rng.uniform(-1.7, 1.7, size=(2, 3, 6, 2))  # beyond [-1, 1]: the padding matters

    def fn(T, x, g):
        return T.nn.functional.grid_sample(x, g, mode, padding_mode, align_corners)

    _compare(fn, [x, grid], dtype)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d_matches_torch(mode: str, padding_mode: str, align_corners: bool, dtype: str) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 2, 3, 4, 5))
    grid = rng.uniform(-1.5, 1.5, size=(2, 2, 3, 2, 3))

    def fn(T, x, g):
        return T.nn.functional.grid_sample(x, g, mode, padding_mode, align_corners)

    _compare(fn, [x, grid], dtype)


@requires_torch
def test_grid_sample_far_outside_and_upsampling_grid() -> None:
    """A grid far outside (many reflections) and one denser than the input."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1, 2, 3, 3))
    grid = rng.uniform(-9, 9, size=(1, 8, 8, 2))
    for mode, padding_mode in itertools.product(MODES, PADDINGS):

        def fn(T, x, g, mode=mode, padding_mode=padding_mode):
            return T.nn.functional.grid_sample(x, g, mode, padding_mode, align_corners=False)

        _compare(fn, [x, grid], "float64")


def test_grid_sample_identity_grid_returns_input() -> None:
    x = ember.randn(2, 3, 4, 5)
    theta = ember.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]).repeat(2, 1, 1)
    for align_corners in (False, True):
        grid = F.affine_grid(theta, x.shape, align_corners=align_corners)
        for mode in MODES:
            y = F.grid_sample(x, grid, mode=mode, align_corners=align_corners)
            np.testing.assert_allclose(y.numpy(), x.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding_mode", PADDINGS)
def test_grid_sample_gradcheck(mode: str, padding_mode: str) -> None:
    rng = np.random.default_rng(4)
    for align_corners in (False, True):
        x = ember.tensor(rng.normal(size=(1, 1, 3, 4)), requires_grad=True)
        grid = ember.tensor(rng.uniform(-1.3, 1.3, size=(1, 2, 2, 2)), requires_grad=True)

        def fn(x, g, align_corners=align_corners):
            return F.grid_sample(x, g, mode, padding_mode, align_corners)

        assert gradcheck(fn, (x, grid))
        if align_corners:  # the second derivatives once per mode and padding
            assert gradgradcheck(fn, (x, grid))


def test_grid_sample_3d_gradcheck() -> None:
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.normal(size=(1, 1, 2, 3, 3)), requires_grad=True)
    grid = ember.tensor(rng.uniform(-1.2, 1.2, size=(1, 2, 1, 2, 3)), requires_grad=True)
    for padding_mode in PADDINGS:

        def fn(x, g, padding_mode=padding_mode):
            return F.grid_sample(x, g, "bilinear", padding_mode, True)

        assert gradcheck(fn, (x, grid))
        if padding_mode == "reflection":
            assert gradgradcheck(fn, (x, grid))


@requires_torch
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_grid_sample_double_backward_matches_torch(mode: str) -> None:
    import torch

    rng = np.random.default_rng(6)
    x = rng.normal(size=(1, 2, 3, 4))
    grid = rng.uniform(-1.3, 1.3, size=(1, 2, 3, 2))
    results = []
    for T in (ember, torch):
        xs, gs = T.tensor(x, requires_grad=True), T.tensor(grid, requires_grad=True)
        y = T.nn.functional.grid_sample(xs, gs, mode, "reflection", align_corners=False)
        gx, gg = T.autograd.grad((y * y).sum(), (xs, gs), create_graph=True)
        results.append(T.autograd.grad((gx * gx).sum() + (gg**3).sum(), (xs, gs)))
    for a, e in zip(*results):
        assert_close(a, e, rtol=1e-9, atol=1e-9)


@requires_torch
def test_grid_sample_nearest_grid_gradient_is_zero() -> None:
    x = ember.randn(1, 1, 3, 3)
    grid = (ember.rand(1, 2, 2, 2) * 2 - 1).requires_grad_()
    F.grid_sample(x, grid, "nearest", align_corners=True).sum().backward()
    assert grid.grad is not None and not grid.grad.numpy().any()


def test_grid_sample_warns_without_align_corners(T: Any) -> None:
    x, grid = T.zeros(1, 1, 2, 2), T.zeros(1, 1, 1, 2)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        T.nn.functional.grid_sample(x, grid)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        T.nn.functional.affine_grid(T.zeros(1, 2, 3), [1, 1, 2, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        T.nn.functional.grid_sample(x, grid, align_corners=False)
        T.nn.functional.affine_grid(T.zeros(1, 2, 3), [1, 1, 2, 2], align_corners=True)


@pytest.mark.parametrize(
    ("x_shape", "grid_shape", "kwargs", "error", "match"),
    [
        ((1, 1, 2, 2), (1, 1, 1, 2), {"mode": "linear"}, ValueError, "expected mode to be 'bilinear'"),
        ((1, 1, 2, 2), (1, 1, 1, 2), {"padding_mode": "wrap"}, ValueError, "expected padding_mode"),
        ((1, 1, 2, 2), (1, 1, 1, 3), {}, RuntimeError, "expected grid to have size 2 in last dimension"),
        ((1, 1, 2, 2), (2, 1, 1, 2), {}, RuntimeError, "expected grid and input to have same batch size"),
        ((1, 1, 2, 2), (1, 1, 2), {}, RuntimeError, "with same number of dimensions"),
        ((1, 1, 0, 2), (1, 1, 1, 2), {}, RuntimeError, "expected input to have non-empty spatial dimensions"),
        ((1, 1, 2, 2, 2), (1, 1, 1, 1, 3), {"mode": "bicubic"}, RuntimeError, "only supports 4D input"),
    ],
)
def test_grid_sample_errors(T: Any, x_shape, grid_shape, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        T.nn.functional.grid_sample(T.zeros(x_shape), T.zeros(grid_shape), align_corners=False, **kwargs)


def test_grid_sample_integer_input_raises(T: Any) -> None:
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        T.nn.functional.grid_sample(
            T.zeros(1, 1, 2, 2, dtype=T.int64), T.zeros(1, 1, 1, 2), align_corners=False
        )


def test_grid_sample_empty_grid(T: Any) -> None:
    y = T.nn.functional.grid_sample(T.randn(2, 3, 4, 4), T.zeros(2, 0, 5, 2), align_corners=False)
    assert tuple(y.shape) == (2, 3, 0, 5)


def test_grid_sample_nan_positions_as_torch_cpu() -> None:
    """A NaN or infinite position reads as in PyTorch's CPU kernels (docs/differences.md):
    with zeros padding bilinear gives NaN in 2-d and nearest 0; border and reflection clamp
    a NaN coordinate to 0; bicubic gives NaN. The gradients stay finite except for the NaN
    outputs."""
    x = ember.randn(1, 1, 3, 3, requires_grad=True)
    grid = ember.tensor([[[[float("nan"), 0.0], [float("inf"), 0.5], [0.0, 0.0]]]], requires_grad=True)
    for mode, padding_mode in itertools.product(MODES, PADDINGS):
        y = F.grid_sample(x, grid, mode, padding_mode, align_corners=False)
        assert np.isfinite(y[0, 0, 0, 2].item())
        if mode == "bicubic" or (mode == "bilinear" and padding_mode == "zeros"):
            assert np.isnan(y[0, 0, 0, 0].item()) and np.isnan(y[0, 0, 0, 1].item())
            continue
        if padding_mode == "zeros":
            assert y[0, 0, 0, 0].item() == 0.0 and y[0, 0, 0, 1].item() == 0.0
        else:  # x clamped to column 0; y = 0.0 is row 1's centre
            assert y[0, 0, 0, 0].item() == pytest.approx(x[0, 0, 1, 0].item(), rel=1e-6, abs=1e-6)
        y.sum().backward()
        assert np.isfinite(x.grad.numpy()).all() and np.isfinite(grid.grad.numpy()).all()
        x.grad = grid.grad = None


def test_grid_sample_dtype_mismatch_raises(T: Any) -> None:
    with pytest.raises(RuntimeError):
        T.nn.functional.grid_sample(
            T.zeros(1, 1, 2, 2), T.zeros(1, 1, 1, 2, dtype=T.float64), align_corners=False
        )


# --- affine_grid ------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 6), (2, 3, 2, 4, 5), (2, 1, 3, 1, 4)])
def test_affine_grid_matches_torch(size: tuple, align_corners: bool, dtype: str) -> None:
    nd = len(size) - 2
    theta = np.random.default_rng(7).normal(size=(2, nd, nd + 1))

    def fn(T, theta):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the unit-size warning
            return T.nn.functional.affine_grid(theta, size, align_corners=align_corners)

    _compare(fn, [theta], dtype)


def test_affine_grid_gradcheck() -> None:
    theta = ember.tensor(np.random.default_rng(8).normal(size=(2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda t: F.affine_grid(t, [2, 1, 2, 3, 2], align_corners=False), (theta,))


def test_affine_grid_unit_size_warning(T: Any) -> None:
    with pytest.warns(UserWarning, match="unit-size grids when align_corners=True"):
        T.nn.functional.affine_grid(T.zeros(1, 2, 3), [1, 1, 1, 4], align_corners=True)


@pytest.mark.parametrize(
    ("theta_shape", "size", "error", "match"),
    [
        ((1, 3, 3), [1, 1, 2, 2], ValueError, "Expected a batch of 2D affine matrices of shape Nx2x3"),
        ((1, 2, 3), [1, 1, 2, 2, 2], ValueError, "Expected a batch of 3D affine matrices of shape Nx3x4"),
        ((1, 2, 3), [1, 1, 2], NotImplementedError, "affine_grid only supports 4D and 5D sizes"),
        ((1, 2, 3), [1, 1, 0, 2], ValueError, "Expected non-zero, positive output size"),
    ],
)
def test_affine_grid_errors(T: Any, theta_shape, size, error, match) -> None:
    with pytest.raises(error, match=match):
        T.nn.functional.affine_grid(T.zeros(theta_shape), size, align_corners=False)


def test_affine_grid_integer_theta_raises(T: Any) -> None:
    with pytest.raises(ValueError, match="Expected theta to have floating point type"):
        T.nn.functional.affine_grid(T.zeros(1, 2, 3, dtype=T.int64), [1, 1, 2, 2], align_corners=False)


# --- the Spatial Transformer Networks tutorial ------------------------------------------------


def _stn_net(T: Any) -> Any:
    """The tutorial's model: a small classifier whose input first goes through a learned
    affine warp (localization network -> theta -> affine_grid -> grid_sample)."""
    Fn = T.nn.functional

    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = T.nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = T.nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = T.nn.Dropout2d()
            self.fc1 = T.nn.Linear(320, 50)
            self.fc2 = T.nn.Linear(50, 10)
            self.localization = T.nn.Sequential(
                T.nn.Conv2d(1, 8, kernel_size=7),
                T.nn.MaxPool2d(2, stride=2),
                T.nn.ReLU(True),
                T.nn.Conv2d(8, 10, kernel_size=5),
                T.nn.MaxPool2d(2, stride=2),
                T.nn.ReLU(True),
            )
            self.fc_loc = T.nn.Sequential(
                T.nn.Linear(10 * 3 * 3, 32), T.nn.ReLU(True), T.nn.Linear(32, 3 * 2)
            )
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(T.tensor([1, 0, 0, 0, 1, 0], dtype=T.float))

        def stn(self, x):
            xs = self.localization(x)
            xs = xs.view(-1, 10 * 3 * 3)
            theta = self.fc_loc(xs)
            theta = theta.view(-1, 2, 3)
            grid = Fn.affine_grid(theta, x.size())
            return Fn.grid_sample(x, grid)

        def forward(self, x):
            x = self.stn(x)
            x = Fn.relu(Fn.max_pool2d(self.conv1(x), 2))
            x = Fn.relu(Fn.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 320)
            x = Fn.relu(self.fc1(x))
            x = Fn.dropout(x, training=self.training)
            x = self.fc2(x)
            return Fn.log_softmax(x, dim=1)

    return Net()


@requires_torch
def test_spatial_transformer_tutorial_model() -> None:
    """The tutorial's model with torch's weights (the last layer perturbed, so that the warp
    is not the identity): same outputs and gradients in eval mode, and a training step runs."""
    import torch

    torch.manual_seed(0)
    net_t, net_e = _stn_net(torch), _stn_net(ember)
    with torch.no_grad():
        net_t.fc_loc[2].weight.normal_(0, 0.01)
        net_t.fc_loc[2].bias.add_(torch.randn(6) * 0.1)
    net_e.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in net_t.state_dict().items()})
    net_t.eval()
    net_e.eval()
    data = np.random.default_rng(9).normal(size=(4, 1, 28, 28)).astype("float32")
    target = np.array([1, 0, 7, 3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_t = net_t(torch.tensor(data))
        out_e = net_e(ember.tensor(data))
        assert_close(out_e, out_t, rtol=1e-4, atol=1e-5)
        torch.nn.functional.nll_loss(out_t, torch.tensor(target)).backward()
        F.nll_loss(out_e, ember.tensor(target)).backward()
        for p_e, p_t in zip(net_e.parameters(), net_t.parameters()):
            assert_close(p_e.grad, p_t.grad, rtol=1e-3, atol=1e-5)
        net_e.train()
        optimizer = ember.optim.SGD(net_e.parameters(), lr=0.01)
        optimizer.zero_grad()
        loss = F.nll_loss(net_e(ember.tensor(data)), ember.tensor(target))
        loss.backward()
        optimizer.step()
    assert np.isfinite(loss.item())


def test_nn_has_no_module_for_grid_sample() -> None:
    """grid_sample and affine_grid are functions only, in torch as in ember."""
    assert not hasattr(nn, "GridSample") and not hasattr(nn, "AffineGrid")


# --- interpolate: bicubic, area, antialias -----------------------------------------------------

SIZES = [
    {"size": (7, 3)},
    {"size": (2, 9)},
    {"scale_factor": 2.5},
    {"scale_factor": (0.4, 1.7)},
    {"scale_factor": 0.3},
    {"scale_factor": 1.5, "recompute_scale_factor": True},
]


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("mode", ["bicubic", "bilinear"])
def test_interpolate_bicubic_and_antialias_match_torch(
    mode: str, antialias: bool, align_corners: bool, dtype: str
) -> None:
    rng = np.random.default_rng(10)
    x = rng.normal(size=(2, 3, 5, 6))
    for i, sizes in enumerate(SIZES):

        def fn(T, x, sizes=sizes):
            kwargs = dict(mode=mode, align_corners=align_corners, antialias=antialias, **sizes)
            return T.nn.functional.interpolate(x, **kwargs)

        _compare(fn, [x], dtype, seed=i)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(2, 3, 7), (2, 3, 5, 6), (1, 2, 4, 5, 6)])
def test_interpolate_area_matches_torch(shape: tuple, dtype: str) -> None:
    x = np.random.default_rng(11).normal(size=shape)
    nd = len(shape) - 2
    for i, sizes in enumerate(
        [{"size": (3, 4, 2)[:nd]}, {"scale_factor": 0.5}, {"scale_factor": 1.7}, {"size": 2}]
    ):

        def fn(T, x, sizes=sizes):
            return T.nn.functional.interpolate(x, mode="area", **sizes)

        _compare(fn, [x], dtype, seed=i)


def test_interpolate_bicubic_and_antialias_gradcheck() -> None:
    x = ember.tensor(np.random.default_rng(12).normal(size=(1, 2, 5, 4)), requires_grad=True)
    for kwargs in (
        {"mode": "bicubic", "size": (3, 7), "align_corners": False},
        {"mode": "bicubic", "scale_factor": 1.5, "align_corners": True},
        {"mode": "bilinear", "size": (2, 3), "antialias": True},
        {"mode": "bicubic", "size": (2, 6), "antialias": True},
        {"mode": "area", "size": (3, 3)},
    ):
        assert gradcheck(lambda t, kwargs=kwargs: F.interpolate(t, **kwargs), (x,))
        assert gradgradcheck(lambda t, kwargs=kwargs: F.interpolate(t, **kwargs), (x,))


def test_interpolate_same_size_bicubic_is_the_input() -> None:
    x = ember.randn(1, 2, 4, 5)
    for antialias in (False, True):
        y = F.interpolate(x, size=(4, 5), mode="bicubic", align_corners=False, antialias=antialias)
        np.testing.assert_array_equal(y.numpy(), x.numpy())
    # antialiased, a size kept despite a scale_factor is copied, as PyTorch's forward does
    for mode in ("bilinear", "bicubic"):
        y = F.interpolate(x, scale_factor=1.1, mode=mode, antialias=True)
        np.testing.assert_array_equal(y.numpy(), x.numpy())


@requires_torch
def test_interpolate_size_as_a_0d_tensor_matches_torch() -> None:
    import torch

    x = np.arange(9.0).reshape(1, 1, 3, 3)
    ours = F.interpolate(ember.tensor(x), size=ember.tensor(4), mode="bilinear")
    assert_close(
        ours, torch.nn.functional.interpolate(torch.tensor(x), size=torch.tensor(4), mode="bilinear")
    )
    with pytest.raises(TypeError):
        F.interpolate(ember.tensor(x), size=4.0)


@requires_torch
@pytest.mark.parametrize("shape", [(1, 2, 3), (1, 2, 3, 2), (1, 1, 2, 3, 2)])
def test_interpolate_area_to_an_empty_size_matches_torch(shape: tuple) -> None:
    import torch

    x = np.ones(shape, np.float32)
    y = F.interpolate(ember.tensor(x), scale_factor=0.3, mode="area")
    assert y.shape == torch.nn.functional.interpolate(torch.tensor(x), scale_factor=0.3, mode="area").shape


@requires_torch
@pytest.mark.parametrize("mode", ["bicubic", "area"])
def test_upsample_module_with_bicubic_and_area(mode: str) -> None:
    import torch

    kwargs = {"scale_factor": 2, "mode": mode} if mode == "bicubic" else {"size": (2, 3), "mode": mode}
    e_mod, t_mod = nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
    assert repr(e_mod) == repr(t_mod)
    x = np.random.default_rng(13).normal(size=(1, 2, 4, 5)).astype("float32")
    assert_close(e_mod(ember.tensor(x)), t_mod(torch.tensor(x)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("shape", "kwargs", "error", "match"),
    [
        ((1, 1, 4), {"mode": "bicubic"}, NotImplementedError, r"Only 3D, 4D and 5D input .* \(got bicubic\)"),
        ((1, 1, 4, 4, 4), {"mode": "bicubic"}, NotImplementedError, r"\(got bicubic\)"),
        (
            (1, 1, 4, 4),
            {"mode": "area", "align_corners": True},
            ValueError,
            "align_corners option can only be set",
        ),
        ((1, 1, 4), {"mode": "linear", "antialias": True}, ValueError, "Anti-alias option is restricted"),
        ((1, 1, 4, 4), {"mode": "nearest", "antialias": True}, ValueError, "Anti-alias option is restricted"),
        ((1, 1, 4, 4), {"mode": "lanczos"}, ValueError, "Lanczos mode requires antialias=True"),
        (
            (1, 1, 4, 4, 4),
            {"mode": "lanczos", "antialias": True},
            ValueError,
            "Anti-alias option is restricted",
        ),
        ((1, 1, 4, 4), {"mode": "cubic"}, NotImplementedError, r"\(got cubic\)"),
    ],
)
def test_interpolate_mode_errors(T: Any, shape: tuple, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        T.nn.functional.interpolate(
            T.zeros(shape),
            size=2 if len(shape) == 3 else None,
            scale_factor=None if len(shape) == 3 else 0.5,
            **kwargs,
        )


@requires_torch
def test_interpolate_antialias_small_sizes_match_torch() -> None:
    """Sizes of 1 and 2 on either side, align_corners both ways."""
    rng = np.random.default_rng(16)
    cases = itertools.product(["bilinear", "bicubic"], [False, True], [(1, 1), (1, 4), (2, 3), (9, 2)])
    for i, (mode, align_corners, (h, w)) in enumerate(cases):
        for size in [(1, 1), (1, 5), (6, 2)]:

            def fn(T, x, size=size, mode=mode, align_corners=align_corners):
                return T.nn.functional.interpolate(
                    x, size=size, mode=mode, align_corners=align_corners, antialias=True
                )

            _compare(fn, [rng.normal(size=(1, 2, h, w))], "float64", seed=i)


def test_interpolate_antialias_to_width_one_resizes_every_row() -> None:
    """PyTorch 2.13's CPU forward gives every row the first row's value when an antialiased
    resize makes the width 1 (its gradient is right); ember resizes each row, as the
    transposed call does in both."""
    x = ember.arange(8.0).reshape(1, 1, 4, 2)
    y = F.interpolate(x, size=(3, 1), mode="bilinear", antialias=True)
    t = F.interpolate(x.transpose(2, 3), size=(1, 3), mode="bilinear", antialias=True).transpose(2, 3)
    np.testing.assert_allclose(y.numpy(), t.numpy(), rtol=1e-6)
    np.testing.assert_allclose(y.numpy().ravel(), [1.1, 3.5, 5.9], rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_interpolate_lanczos_matches_torch(dtype: str) -> None:
    x = np.random.default_rng(14).normal(size=(2, 3, 9, 7))
    for i, sizes in enumerate(SIZES):

        def fn(T, x, sizes=sizes):
            return T.nn.functional.interpolate(x, mode="lanczos", antialias=True, **sizes)

        _compare(fn, [x], dtype, seed=i)


def test_interpolate_lanczos_gradcheck() -> None:
    x = ember.tensor(np.random.default_rng(15).normal(size=(1, 1, 7, 4)), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, size=(3, 5), mode="lanczos", antialias=True), (x,))


def test_interpolate_lanczos_needs_antialias(T: Any) -> None:
    with pytest.raises(ValueError, match="Lanczos mode does not support align_corners=True"):
        T.nn.functional.interpolate(
            T.zeros(1, 1, 4, 4), size=2, mode="lanczos", antialias=True, align_corners=True
        )
