"""nn.Buffer, nn.DataParallel, the lazy modules and the remaining layers, compared with
PyTorch: registration and state_dict keys, reprs, shapes and initialisation bounds, values
and gradients with the same weights, and errors."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn
from ember.autograd import gradcheck, gradgradcheck


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy()


# ---- nn.Buffer ---------------------------------------------------------------------------


def _buffer_model(lib: Any) -> Any:
    """A module with a persistent and a non-persistent buffer assigned as nn.Buffers."""
    m = lib.nn.Module()
    m.weight = lib.nn.Parameter(lib.ones(1))
    m.kept = lib.nn.Buffer(lib.ones(2))
    m.scratch = lib.nn.Buffer(lib.zeros(3), persistent=False)
    return m


@requires_torch
def test_buffer_assignment_registers_like_torch() -> None:
    import torch

    e, t = _buffer_model(ember), _buffer_model(torch)
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight", "kept"]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()] == ["kept", "scratch"]
    assert e._non_persistent_buffers_set == t._non_persistent_buffers_set == {"scratch"}
    assert [n for n, _ in e.named_parameters()] == ["weight"]
    # a plain tensor assigned to a buffer's name keeps it a buffer, with its persistence
    e.scratch, t.scratch = ember.ones(4), torch.ones(4)
    assert e._non_persistent_buffers_set == t._non_persistent_buffers_set == {"scratch"}
    # a Buffer assigned again decides the persistence anew
    e.scratch, t.scratch = nn.Buffer(ember.ones(4)), torch.nn.Buffer(torch.ones(4))
    assert e._non_persistent_buffers_set == t._non_persistent_buffers_set == set()
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(nn.Buffer(ember.ones(2))) == repr(torch.nn.Buffer(torch.ones(2)))
    assert isinstance(e.kept, ember.Tensor) and isinstance(e.kept, nn.Buffer)


def test_buffer_shares_memory_and_keeps_requires_grad() -> None:
    t = ember.ones(3)
    b = nn.Buffer(t)
    t.add_(1)
    assert _np(b).tolist() == [2.0, 2.0, 2.0]
    assert not b.requires_grad
    assert nn.Buffer(ember.ones(1, requires_grad=True)).requires_grad
    assert nn.Buffer().shape == (0,)
    assert nn.Buffer(ember.ones(1), persistent=False).persistent is False


def test_buffer_errors_and_copies() -> None:
    m = nn.Module()
    m.x = 1
    with pytest.raises(KeyError, match="attribute 'x' already exists"):
        m.x = nn.Buffer(ember.ones(1))
    m.w = nn.Parameter(ember.ones(1))
    with pytest.raises(TypeError, match="as parameter 'w'"):
        m.w = nn.Buffer(ember.ones(1))
    m.lin = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="as child module 'lin'"):
        m.lin = nn.Buffer(ember.ones(1))
    with pytest.raises(AttributeError, match="nn.Buffer takes a Tensor"):
        nn.Buffer([1.0, 2.0])
    m.b = nn.Buffer(ember.ones(2), persistent=False)
    clone = copy.deepcopy(m)
    assert clone.b.persistent is False and clone._non_persistent_buffers_set == {"b"}
    clone.b.add_(1)
    assert _np(m.b).tolist() == [1.0, 1.0]


# ---- DataParallel ------------------------------------------------------------------------


@requires_torch
def test_data_parallel_is_a_pass_through() -> None:
    import torch

    e = nn.DataParallel(nn.Linear(3, 2), device_ids=[0, 1], output_device=0, dim=0)
    t = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict()) == ["module.weight", "module.bias"]
    assert e.device_ids == t.device_ids == []
    e.module.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.module.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    assert_close(_np(e(ember.tensor(x))), t(torch.tensor(x)).detach().numpy())
    assert isinstance(e.module, nn.Linear)
    # a checkpoint of the wrapped model loads into a wrapped one
    other = nn.DataParallel(nn.Linear(3, 2))
    other.load_state_dict(e.state_dict())
    assert_close(_np(other.module.weight), _np(e.module.weight))
    assert nn.parallel.DataParallel is nn.DataParallel


def test_distributed_data_parallel_raises_clearly() -> None:
    with pytest.raises(ValueError, match="process group has not been initialized"):
        nn.parallel.DistributedDataParallel(nn.Linear(1, 1))


# ---- lazy modules ------------------------------------------------------------------------

# (class name, constructor args, input shape, the class it becomes)
_LAZY = [
    ("LazyLinear", (3,), (2, 5), "Linear"),
    ("LazyConv1d", (4, 3), (2, 6, 7), "Conv1d"),
    ("LazyConv2d", (4, 3), (2, 6, 5, 5), "Conv2d"),
    ("LazyConv3d", (2, 2), (1, 4, 3, 4, 3), "Conv3d"),
    ("LazyConvTranspose1d", (4, 3), (2, 6, 7), "ConvTranspose1d"),
    ("LazyConvTranspose2d", (4, 3), (2, 6, 5, 5), "ConvTranspose2d"),
    ("LazyConvTranspose3d", (2, 2), (1, 4, 3, 2, 3), "ConvTranspose3d"),
    ("LazyBatchNorm1d", (), (4, 3), "BatchNorm1d"),
    ("LazyBatchNorm2d", (), (4, 3, 2, 2), "BatchNorm2d"),
    ("LazyBatchNorm3d", (), (2, 3, 2, 2, 2), "BatchNorm3d"),
    ("LazyInstanceNorm1d", (), (2, 3, 5), "InstanceNorm1d"),
    ("LazyInstanceNorm2d", (), (2, 3, 4, 4), "InstanceNorm2d"),
    ("LazyInstanceNorm3d", (), (2, 3, 2, 3, 2), "InstanceNorm3d"),
]


@requires_torch
@pytest.mark.parametrize("name, args, shape, becomes", _LAZY)
def test_lazy_module_initialises_and_becomes_like_torch(
    name: str, args: tuple, shape: tuple, becomes: str
) -> None:
    import torch

    e, t = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(e) == repr(t)
    assert e.has_uninitialized_params() and t.has_uninitialized_params()
    assert {k: repr(v) for k, v in e.state_dict().items()} == {k: repr(v) for k, v in t.state_dict().items()}
    x = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    e(ember.tensor(x)), t(torch.tensor(x))
    assert type(e) is getattr(nn, becomes) and type(t) is getattr(torch.nn, becomes)
    assert repr(e) == repr(t)
    assert not e.has_uninitialized_params() if hasattr(e, "has_uninitialized_params") else True
    assert e._forward_pre_hooks == {}
    e_state, t_state = e.state_dict(), t.state_dict()
    assert list(e_state) == list(t_state)
    assert [tuple(v.shape) for v in e_state.values()] == [tuple(v.shape) for v in t_state.values()]
    assert all(type(p) is nn.Parameter for p in e.parameters())
    # the same weights and statistics give the same outputs and gradients
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn_like(p))
    e.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t.state_dict().items()})
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    assert_close(_np(ye), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    w = np.random.default_rng(2).normal(size=tuple(yt.shape)).astype(np.float32)
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_close(_np(xe.grad), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for pe, pt in zip(e.parameters(), t.parameters()):
        assert_close(_np(pe.grad), pt.grad.numpy(), rtol=1e-4, atol=1e-4)
    for (_, be), (_, bt) in zip(e.named_buffers(), t.named_buffers()):
        assert_close(_np(be), bt.numpy(), rtol=1e-4, atol=1e-5)


def test_lazy_initialisation_bounds() -> None:
    lin = nn.LazyLinear(50)
    lin(ember.zeros(1, 16))
    bound = 1 / np.sqrt(16)
    assert lin.weight.shape == (50, 16) and lin.in_features == 16
    for p in (lin.weight, lin.bias):
        assert np.abs(_np(p)).max() <= bound and np.abs(_np(p)).max() > 0.5 * bound
    conv = nn.LazyConv2d(20, 3, groups=2)
    conv(ember.zeros(1, 8, 5, 5))
    bound = 1 / np.sqrt(4 * 9)  # fan_in = in_channels / groups * kernel area
    assert conv.weight.shape == (20, 4, 3, 3) and conv.in_channels == 8
    assert np.abs(_np(conv.weight)).max() <= bound and np.abs(_np(conv.bias)).max() <= bound
    convt = nn.LazyConvTranspose1d(6, 2, groups=3)
    convt(ember.zeros(9, 4))  # unbatched: channels are dimension 0
    assert convt.weight.shape == (9, 2, 2) and convt.in_channels == 9
    bn = nn.LazyBatchNorm1d()
    bn.eval()
    bn(ember.zeros(2, 5))
    assert _np(bn.weight).tolist() == [1.0] * 5 and _np(bn.bias).tolist() == [0.0] * 5
    assert _np(bn.running_mean).tolist() == [0.0] * 5 and _np(bn.running_var).tolist() == [1.0] * 5


@requires_torch
def test_lazy_optimizer_built_before_first_forward() -> None:
    import torch

    e, t = nn.LazyLinear(2), torch.nn.LazyLinear(2)
    opt_e = ember.optim.SGD(e.parameters(), lr=0.5)
    opt_t = torch.optim.SGD(t.parameters(), lr=0.5)
    x = np.ones((3, 4), dtype=np.float32)
    e(ember.tensor(x)), t(torch.tensor(x))
    e.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t.state_dict().items()})
    for _ in range(2):
        opt_e.zero_grad(), opt_t.zero_grad()
        e(ember.tensor(x)).square().sum().backward()
        t(torch.tensor(x)).square().sum().backward()
        opt_e.step(), opt_t.step()
    assert opt_e.param_groups[0]["params"][0] is e.weight
    assert_close(_np(e.weight), t.weight.detach().numpy())
    assert_close(_np(e.bias), t.bias.detach().numpy())


def test_lazy_state_dict_round_trips() -> None:
    source = nn.LazyConv1d(3, 2)
    source(ember.ones(1, 5, 4))
    target = nn.LazyConv1d(3, 2)
    assert target.load_state_dict(source.state_dict()).missing_keys == []
    # loading materialised the placeholders; the first forward keeps the loaded values
    assert type(target) is nn.LazyConv1d and target.weight.shape == (3, 5, 2)
    target(ember.ones(1, 5, 4))
    assert type(target) is nn.Conv1d and target.in_channels == 5
    assert_close(_np(target.weight), _np(source.weight))
    # an uninitialised state loads into an uninitialised module, not into an initialised one
    fresh = nn.LazyLinear(2)
    assert repr(fresh.load_state_dict(nn.LazyLinear(2).state_dict())) == "<All keys matched successfully>"
    assert fresh.has_uninitialized_params()
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        nn.Linear(3, 2).load_state_dict(nn.LazyLinear(2).state_dict())
    with pytest.raises(RuntimeError, match="Missing key"):
        nn.LazyLinear(2).load_state_dict({"weight": ember.ones(2, 3)})


def test_lazy_dtype_copy_and_errors() -> None:
    m = nn.LazyLinear(2).double()
    m(ember.ones(1, 3, dtype=ember.float64))
    assert m.weight.dtype == ember.float64
    assert nn.LazyLinear(2, dtype=ember.float64).weight.dtype == ember.float64
    lazy = nn.LazyLinear(2, bias=False)
    clone = copy.deepcopy(lazy)
    clone(ember.ones(1, 3))
    assert type(clone) is nn.Linear and type(lazy) is nn.LazyLinear and lazy.has_uninitialized_params()
    assert repr(lazy.weight) == "<UninitializedParameter>"
    assert repr(nn.UninitializedBuffer()) == "<UninitializedBuffer>"
    assert nn.parameter.is_lazy(lazy.weight) and not nn.parameter.is_lazy(clone.weight)
    with pytest.raises(
        RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"
    ):
        nn.LazyConv2d(2, 3)(ember.ones(1, 1, 1, 5, 5))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv1d(4, 3, groups=2)(ember.ones(1, 3, 5))

    class Forgetful(nn.modules.lazy.LazyModuleMixin, nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.UninitializedParameter()

        def initialize_parameters(self, x: Any) -> None:
            pass

        def forward(self, x: Any) -> Any:
            return x

    with pytest.raises(RuntimeError, match="module Forgetful has not been fully initialized"):
        Forgetful()(ember.ones(1))
    with pytest.raises(NotImplementedError, match="initialize_parameters is not implemented"):
        type("NoInit", (nn.modules.lazy.LazyModuleMixin, nn.Module), {})()(ember.ones(1))


# ---- RReLU -------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rrelu_eval_is_leaky_relu_with_the_mean_slope(dtype: str) -> None:
    import torch

    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0], dtype=dtype)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye = nn.functional.rrelu(xe, 0.1, 0.3)
    yt = torch.nn.functional.rrelu(xt, 0.1, 0.3)
    assert_close(_np(ye), yt.detach().numpy())
    ye.sum().backward(), yt.sum().backward()
    assert_close(_np(xe.grad), xt.grad.numpy())
    m, mt = nn.RReLU(0.1, 0.3).eval(), torch.nn.RReLU(0.1, 0.3).eval()
    assert_close(_np(m(ember.tensor(x))), mt(torch.tensor(x)).numpy())
    assert ye.dtype == getattr(ember, dtype)


def test_rrelu_training_draws_slopes_and_their_gradients() -> None:
    ember.manual_seed(0)
    x = np.linspace(-3, 3, 2000).reshape(40, 50)
    xe = ember.tensor(x, requires_grad=True)
    y = nn.RReLU(0.2, 0.4)(xe)  # a new module is in training mode
    y.sum().backward()
    out, grad = _np(y), _np(xe.grad)
    positive = x > 0
    assert np.array_equal(out[positive], x[positive]) and np.all(grad[positive] == 1)
    slopes = out[x < 0] / x[x < 0]
    assert np.all((slopes >= 0.2) & (slopes <= 0.4)) and slopes.std() > 0.03
    assert abs(slopes.mean() - 0.3) < 0.01
    assert_close(grad[x < 0], slopes)  # the gradient is the slope drawn for that element

    # with the draws fixed (the same seed on every call) it is a differentiable function
    def seeded(t: Any) -> Any:
        ember.manual_seed(1)
        return nn.functional.rrelu(t, training=True)

    inputs = ember.tensor([[-1.5, 0.7, -0.2], [2.0, -3.0, 0.4]], dtype=ember.float64, requires_grad=True)
    assert gradcheck(seeded, (inputs,)) and gradgradcheck(seeded, (inputs,))


@requires_torch
def test_rrelu_inplace_repr_and_errors() -> None:
    import torch

    t = ember.tensor([-1.0, 2.0])
    assert nn.functional.rrelu_(t) is t
    assert_close(_np(t), torch.nn.functional.rrelu_(torch.tensor([-1.0, 2.0])).numpy())
    u = ember.tensor([-1.0, 2.0])
    out = nn.functional.rrelu(u, training=True, inplace=True)
    assert out is u and 2.0 == float(u[1]) and -1 / 3 <= float(u[0]) <= -1 / 8
    for args in [(), (0.1, 0.3, True)]:
        assert repr(nn.RReLU(*args)) == repr(torch.nn.RReLU(*args))
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal to the upper bound"):
        nn.functional.rrelu(ember.ones(2), 0.5, 0.1, training=True)
    with pytest.raises(RuntimeError, match="rrelu"):
        nn.functional.rrelu(ember.ones(2, dtype=ember.int64))


# ---- ConvTranspose3d ---------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"stride": 2, "padding": 1, "output_padding": 1},
        {"stride": (1, 2, 2), "groups": 2, "dilation": (2, 1, 1), "bias": False},
    ],
)
def test_conv_transpose3d_matches_torch(dtype: str, kwargs: dict) -> None:
    import torch

    tol = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-10)}[dtype]
    t = torch.nn.ConvTranspose3d(4, 6, (2, 3, 2), **kwargs).to(getattr(torch, dtype))
    e = nn.ConvTranspose3d(4, 6, (2, 3, 2), **kwargs).to(getattr(ember, dtype))
    assert repr(e) == repr(t)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(3).normal(size=(2, 4, 3, 4, 3)).astype(dtype)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    assert_close(_np(ye), yt.detach().numpy(), *tol)
    w = np.random.default_rng(4).normal(size=tuple(yt.shape)).astype(dtype)
    (ye * ember.tensor(w)).sum().backward(), (yt * torch.tensor(w)).sum().backward()
    assert_close(_np(xe.grad), xt.grad.numpy(), *tol)
    assert_close(_np(e.weight.grad), t.weight.grad.numpy(), *tol)
    if t.bias is not None:
        assert_close(_np(e.bias.grad), t.bias.grad.numpy(), *tol)
    # unbatched input, and output_size choosing the output padding
    assert_close(_np(e(xe[0])), t(xt[0]).detach().numpy(), *tol)
    size = tuple(yt.shape[2:])
    assert tuple(e(xe, output_size=size).shape) == tuple(t(xt, output_size=size).shape)


def test_conv_transpose3d_gradcheck_and_errors() -> None:
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.normal(size=(1, 2, 2, 2, 2)), requires_grad=True)
    w = ember.tensor(rng.normal(size=(2, 1, 2, 1, 2)), requires_grad=True)
    b = ember.tensor(rng.normal(size=(2,)), requires_grad=True)

    def f(x: Any, w: Any, b: Any) -> Any:
        return nn.functional.conv_transpose3d(x, w, b, stride=(2, 1, 1), groups=2)

    assert gradcheck(f, (x, w, b)) and gradgradcheck(f, (x, w, b))
    with pytest.raises(RuntimeError, match="expected input.* to have 2 channels, but got 3"):
        nn.functional.conv_transpose3d(ember.ones(1, 3, 2, 2, 2), ember.ones(2, 1, 1, 1, 1))
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose3d'):
        nn.ConvTranspose3d(1, 1, 1, padding_mode="reflect")


# ---- FractionalMaxPool2d/3d --------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "nd, shape, kernel, size",
    [
        (2, (2, 3, 9, 7), (2, 3), {"output_size": (5, 4)}),
        (2, (3, 8, 8), 3, {"output_size": (4, 6)}),  # unbatched
        (2, (1, 2, 10, 10), 2, {"output_ratio": 0.5}),
        (3, (2, 2, 6, 7, 6), (2, 2, 3), {"output_size": (4, 3, 3)}),
        (3, (2, 5, 5, 5), 2, {"output_ratio": (0.5, 0.7, 0.6)}),
    ],
)
def test_fractional_max_pool_matches_torch(
    nd: int, shape: tuple, kernel: Any, size: dict, dtype: str
) -> None:
    import torch

    rng = np.random.default_rng(6)
    x = rng.normal(size=shape).astype(dtype)
    x.reshape(-1)[:4] = x.reshape(-1)[4]  # ties: the first maximum wins, in both
    n = 1 if len(shape) == nd + 1 else shape[0]
    u = rng.random((n, shape[-nd - 1], nd)).astype(dtype)
    cls = f"FractionalMaxPool{nd}d"
    e = getattr(nn, cls)(kernel, return_indices=True, _random_samples=ember.tensor(u), **size)
    t = getattr(torch.nn, cls)(kernel, return_indices=True, _random_samples=torch.tensor(u), **size)
    assert repr(e) == repr(t) and list(e.state_dict()) == list(t.state_dict())
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ye, ie), (yt, it) = e(xe), t(xt)
    assert np.array_equal(_np(ye), yt.detach().numpy())
    assert np.array_equal(_np(ie), it.numpy()) and ie.dtype == ember.int64
    w = rng.normal(size=tuple(yt.shape)).astype(dtype)
    (ye * ember.tensor(w)).sum().backward(), (yt * torch.tensor(w)).sum().backward()
    assert_close(_np(xe.grad), xt.grad.numpy())
    # the functional form, without indices
    f = getattr(nn.functional, f"fractional_max_pool{nd}d")
    ft = getattr(torch.nn.functional, f"fractional_max_pool{nd}d")
    out = size.get("output_size") or tuple(
        int(s * r) for s, r in zip(shape[-nd:], np.broadcast_to(size["output_ratio"], nd))
    )
    assert np.array_equal(
        _np(f(ember.tensor(x), kernel, output_size=out, _random_samples=ember.tensor(u))),
        ft(torch.tensor(x), kernel, output_size=out, _random_samples=torch.tensor(u)).numpy(),
    )


def test_fractional_max_pool_random_windows_and_gradcheck() -> None:
    ember.manual_seed(0)
    x = ember.arange(64.0).reshape(1, 1, 8, 8)
    pool = nn.FractionalMaxPool2d(2, output_size=5)
    outs = {tuple(_np(pool(x)).ravel()) for _ in range(20)}
    assert len(outs) > 1  # new windows on each call
    for out in outs:  # increasing input: each window's maximum is its bottom-right corner
        assert np.all(np.diff(np.array(out).reshape(5, 5), axis=1) > 0)
    u = ember.tensor([[[0.3, 0.6]]], dtype=ember.float64)
    xd = ember.tensor(np.random.default_rng(7).normal(size=(1, 1, 6, 5)), requires_grad=True)

    def f(t: Any) -> Any:
        return nn.functional.fractional_max_pool2d(t, 2, output_size=(4, 3), _random_samples=u)

    assert gradcheck(f, (xd,)) and gradgradcheck(f, (xd,))


def test_fractional_max_pool_errors() -> None:
    with pytest.raises(ValueError, match="requires specifying either an output size, or a pooling ratio"):
        nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio"):
        nn.FractionalMaxPool3d(2, output_size=2, output_ratio=0.5)
    with pytest.raises(ValueError, match=r"output_ratio must be between 0 and 1 \(got 1.5\)"):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    F = nn.functional
    with pytest.raises(ValueError, match="fractional_max_pool2d requires specifying either an output_size"):
        F.fractional_max_pool2d(ember.ones(1, 1, 4, 4), 2)
    with pytest.raises(
        RuntimeError, match=r"fractional_max_pool2d\(\): pool height 2 too large relative to input height 4"
    ):
        F.fractional_max_pool2d(ember.ones(1, 1, 4, 4), 2, output_size=5)
    with pytest.raises(RuntimeError, match=r"fractional_max_pool3d_out\(\): pool time 2 too large"):
        F.fractional_max_pool3d(ember.ones(1, 1, 6, 6, 6), 2, output_size=(5, 4, 4))
    with pytest.raises(RuntimeError, match=r"Expect _random_samples.size\(1\) equals to input channel size"):
        F.fractional_max_pool2d(ember.ones(1, 1, 4, 4), 2, output_size=2, _random_samples=ember.rand(1, 2, 2))
    with pytest.raises(RuntimeError, match="expected 3D or 4D input"):
        F.fractional_max_pool2d(ember.ones(4, 4), 2, output_size=2)


# ---- AdaptiveLogSoftmaxWithLoss ----------------------------------------------------------


def _adaptive_pair(dtype: str, **kwargs: Any) -> tuple[Any, Any]:
    import torch

    args = (8, 20, [4, 10, 15])
    t = torch.nn.AdaptiveLogSoftmaxWithLoss(*args, **kwargs).to(getattr(torch, dtype))
    e = nn.AdaptiveLogSoftmaxWithLoss(*args, **kwargs).to(getattr(ember, dtype))
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn_like(p))
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return e, t


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "target", [[0, 5, 19, 3, 12, 5, 15], [1, 2, 3, 0, 0, 1, 2], [17, 16, 19, 15, 18, 19, 15]]
)
def test_adaptive_log_softmax_matches_torch(dtype: str, target: list) -> None:
    import torch

    tol = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-10)}[dtype]
    e, t = _adaptive_pair(dtype, div_value=2.0, head_bias=True)
    assert repr(e) == repr(t) and list(e.state_dict()) == list(t.state_dict())
    x = np.random.default_rng(8).normal(size=(7, 8)).astype(dtype)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oe, ot = e(xe, ember.tensor(target)), t(xt, torch.tensor(target))
    assert_close(_np(oe.output), ot.output.detach().numpy(), *tol)
    assert_close(_np(oe.loss), ot.loss.detach().numpy(), *tol)
    assert oe._fields == ("output", "loss")
    (oe.loss + oe.output[1]).backward(), (ot.loss + ot.output[1]).backward()
    assert_close(_np(xe.grad), xt.grad.numpy(), *tol)
    for pe, pt in zip(e.parameters(), t.parameters()):
        expected = np.zeros(tuple(pt.shape), dtype) if pt.grad is None else pt.grad.numpy()
        actual = np.zeros(tuple(pe.shape), dtype) if pe.grad is None else _np(pe.grad)
        assert_close(actual, expected, *tol)
    # every class's log-probability, and the prediction
    assert_close(_np(e.log_prob(ember.tensor(x))), t.log_prob(torch.tensor(x)).detach().numpy(), *tol)
    assert np.array_equal(_np(e.predict(ember.tensor(x))), t.predict(torch.tensor(x)).numpy())


@requires_torch
def test_adaptive_log_softmax_predict_unbatched_and_errors() -> None:
    import torch

    e, t = _adaptive_pair("float64")
    x = np.random.default_rng(9).normal(size=(40, 8)) * 3
    for bias in ([0.0] * 7, [-9.0] * 4 + [9.0] * 3):  # shortlist winners, then cluster winners
        with torch.no_grad():
            t.head.weight[:] = 0
            t.head.weight[:, 0] = torch.tensor(bias)
        e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
        xs = np.abs(x)
        assert np.array_equal(_np(e.predict(ember.tensor(xs))), t.predict(torch.tensor(xs)).numpy())
    mixed_e, mixed_t = _adaptive_pair("float64")
    pe, pt = mixed_e.predict(ember.tensor(x)), mixed_t.predict(torch.tensor(x))
    assert np.array_equal(_np(pe), pt.numpy()) and pe.dtype == ember.int64
    # one sample without a batch dimension (torch's predict and log_prob want a batch)
    assert int(mixed_e.predict(ember.tensor(x[0]))) == int(pt[0])
    oe, ot = mixed_e(ember.tensor(x[0]), ember.tensor(12)), mixed_t(torch.tensor(x[0]), torch.tensor(12))
    assert oe.output.shape == () and abs(float(oe.output) - float(ot.output)) < 1e-9
    assert_close(
        _np(mixed_e.log_prob(ember.tensor(x[0]))), mixed_t.log_prob(torch.tensor(x[:1]))[0].detach().numpy()
    )
    m = nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 9\]"):
        m(ember.ones(2, 4), ember.tensor([1, 10]))
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        m(ember.ones(2, 4), ember.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        m(ember.ones(2, 4), ember.tensor([[1, 2]]))
    for cutoffs in ([], [3, 2], [0, 3], [3, 10], [3, 3], [2.5]):
        with pytest.raises(ValueError, match="cutoffs should be a sequence"):
            nn.AdaptiveLogSoftmaxWithLoss(4, 10, cutoffs)


# ---- nn.utils.parametrizations.orthogonal --------------------------------------------------


def _orthogonal_pair(shape: tuple, seed: int = 0, **kwargs: Any) -> tuple[Any, Any]:
    import torch

    w = np.random.default_rng(seed).normal(size=shape)
    e, t = nn.Module(), torch.nn.Module()
    e.weight, t.weight = nn.Parameter(ember.tensor(w)), torch.nn.Parameter(torch.tensor(w))
    nn.utils.parametrizations.orthogonal(e, **kwargs)
    torch.nn.utils.parametrizations.orthogonal(t, **kwargs)
    return e, t


def _is_orthonormal(w: np.ndarray) -> bool:
    m = w if w.shape[-2] >= w.shape[-1] else w.swapaxes(-1, -2)
    return np.allclose(m.swapaxes(-1, -2) @ m, np.eye(m.shape[-1]), atol=1e-10)


@requires_torch
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 3, 3)])
def test_orthogonal_matches_torch(shape: tuple, orthogonal_map: Any) -> None:
    import torch

    e, t = _orthogonal_pair(shape, orthogonal_map=orthogonal_map)
    original_e, original_t = e.parametrizations.weight.original, t.parametrizations.weight.original
    assert_close(_np(original_e), original_t.detach().numpy())
    assert_close(_np(e.weight), t.weight.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert _is_orthonormal(_np(e.weight))
    if shape[-2] == shape[-1]:  # the completing columns of a non-square base are random
        x = np.random.default_rng(1).normal(size=shape)
        (e.weight * ember.tensor(x)).sum().backward()
        (t.weight * torch.tensor(x)).sum().backward()
        assert_close(_np(original_e.grad), original_t.grad.numpy(), rtol=1e-8, atol=1e-10)
    # training moves the original; the weight stays orthogonal
    opt = ember.optim.SGD(e.parameters(), lr=0.3)
    for _ in range(3):
        opt.zero_grad()
        (e.weight * ember.tensor(np.random.default_rng(2).normal(size=shape))).sum().backward()
        opt.step()
    assert _is_orthonormal(_np(e.weight))


@requires_torch
def test_orthogonal_without_trivialization_and_assignment() -> None:
    import torch

    for shape in [(5, 3), (3, 5), (4, 4)]:
        e, t = _orthogonal_pair(shape, seed=3, orthogonal_map="householder", use_trivialization=False)
        assert "base" not in e.parametrizations.weight[0]._buffers
        assert_close(
            _np(e.parametrizations.weight.original), t.parametrizations.weight.original.detach().numpy()
        )
        assert_close(_np(e.weight), t.weight.detach().numpy(), rtol=1e-9, atol=1e-12)
        q = np.linalg.qr(np.random.default_rng(4).normal(size=(max(shape), max(shape))))[0][
            : shape[0], : shape[1]
        ]
        e.weight, t.weight = ember.tensor(q), torch.tensor(q)
        assert_close(_np(e.weight), q, rtol=1e-9, atol=1e-12)
    e, _ = _orthogonal_pair((4, 4), orthogonal_map="cayley", use_trivialization=False)
    with pytest.raises(
        NotImplementedError, match="not possible to assign to the matrix exponential or the Cayley"
    ):
        e.weight = ember.eye(4, dtype=ember.float64)
    # an orthogonal value is kept as it is
    e, _ = _orthogonal_pair((3, 3))
    rotation = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    e.weight = ember.tensor(rotation)
    assert_close(_np(e.weight), rotation, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"Expected a matrix or batch of matrices of shape"):
        e.weight = ember.eye(2, dtype=ember.float64)


def test_orthogonal_errors() -> None:
    orthogonal = nn.utils.parametrizations.orthogonal
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'kernel'"):
        orthogonal(nn.Linear(2, 2), "kernel")
    with pytest.raises(
        ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dimensions"
    ):
        orthogonal(nn.Linear(2, 2), "bias")
    with pytest.raises(
        ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", "householder"'
    ):
        orthogonal(nn.Linear(2, 2), orthogonal_map="qr")
    m = orthogonal(nn.Linear(3, 5))
    assert m.parametrizations.weight[0].orthogonal_map == "householder"
    assert tuple(m(ember.ones(2, 3)).shape) == (2, 5)
