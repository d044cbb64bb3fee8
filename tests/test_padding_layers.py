"""F.pad's reflect, replicate and circular modes; Conv1d/2d/3d with those padding modes; the
padding layers (ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad);
PixelShuffle, PixelUnshuffle, ChannelShuffle, Softmax2d, Fold and Unfold. Compared with
PyTorch on the same data: values, gradients, dtypes, reprs, state_dict keys and errors;
gradcheck and gradgradcheck in float64."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F

MODES = ["reflect", "replicate", "circular"]
TOL = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-12)}


def _run_both(e_fn: Any, t_fn: Any, data: np.ndarray, seed: int = 1) -> tuple:
    """e_fn on an ember tensor and t_fn on a torch tensor of `data`; the outputs and the
    input gradients of a random weighting of the outputs."""
    import torch

    xe, xt = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ye, yt = e_fn(xe), t_fn(xt)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert str(ye.dtype) == str(yt.dtype).replace("torch", "ember")
    if yt.numel():
        g = np.random.default_rng(seed).normal(size=tuple(yt.shape)).astype(data.dtype)
        ye.backward(ember.tensor(g))
        yt.backward(torch.tensor(g))
        return ye, yt, xe.grad, xt.grad
    return ye, yt, None, None


def _compare(e_fn: Any, t_fn: Any, shape: tuple, dtype: str = "float32", tol: tuple | None = None) -> None:
    data = np.random.default_rng(0).normal(size=shape).astype(dtype)
    ye, yt, ge, gt = _run_both(e_fn, t_fn, data)
    assert_close(ye, yt, *(tol or TOL[dtype]))
    if gt is not None:
        assert_close(ge, gt, *(tol or TOL[dtype]))


def _same_error(e_call: Any, t_call: Any) -> Exception:
    """Both calls raise, the same exception type; ember's error is returned."""
    with pytest.raises(Exception) as theirs:
        t_call()
    with pytest.raises(type(theirs.value)) as ours:
        e_call()
    return ours.value


# ---- F.pad ---------------------------------------------------------------------------------

# (input shape, pad): every rank each mode takes, batched and unbatched, with negative widths
PAD_CASES = [
    ((3, 5), (2, 1)),
    ((2, 3, 5), (0, 4)),
    ((2, 3, 5), (-1, 3)),
    ((2, 3, 5), (3, -2)),
    ((2, 3, 5), (-3, 2)),
    ((2, 3, 5), (-4, 1)),
    ((2, 3, 5), (-2, -1)),
    ((2, 4, 5), (1, 2, 3, 0)),
    ((1, 2, 4, 5), (-1, 2, 1, -2)),
    ((1, 2, 4, 5), (0, 0, -2, 2)),
    ((2, 3, 4, 5), (1, 1, 2, 2, 1, 0)),
    ((1, 2, 3, 4, 5), (2, -1, -1, 2, 1, 1)),
    ((0, 3, 5), (2, 2)),
    ((1, 3, 5), (-2, -3)),  # the padded dimension comes out empty
]


@requires_torch
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("shape", "widths"), PAD_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pad_modes_match_torch(mode, shape, widths, dtype):
    import torch

    if (shape, widths) == ((1, 3, 5), (-2, -3)) and mode != "circular":
        widths = (-2, -2)  # reflect and replicate refuse an empty result in 1-d; checked below
    _compare(
        lambda x: F.pad(x, widths, mode=mode),
        lambda x: torch.nn.functional.pad(x, widths, mode=mode),
        shape,
        dtype,
    )


@requires_torch
@pytest.mark.parametrize("mode", MODES)
def test_pad_modes_match_torch_for_every_small_width(mode):
    """Every pair of widths from -3 to 3 of a dimension of 4, in 1-d, and its errors."""
    import torch

    x = np.arange(8.0).reshape(2, 4)
    for widths in itertools.product(range(-3, 5), repeat=2):
        before, after = widths
        kept = 4 - max(-before, 0) - max(-after, 0)
        if mode == "circular" and max(widths) > kept and 4 + before + after > 0:
            continue  # PyTorch reads memory it never wrote there (below)
        try:
            expected = torch.nn.functional.pad(torch.tensor(x), widths, mode=mode)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                F.pad(ember.tensor(x), widths, mode=mode)
            continue
        assert_close(F.pad(ember.tensor(x), widths, mode=mode), expected)


def test_pad_values_by_hand():
    x = ember.tensor([[0.0, 1.0, 2.0, 3.0]])
    assert F.pad(x, (2, 1), mode="reflect").tolist() == [[2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0]]
    assert F.pad(x, (2, 1), mode="replicate").tolist() == [[0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 3.0]]
    assert F.pad(x, (2, 1), mode="circular").tolist() == [[2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 0.0]]
    # negative widths: reflect mirrors about the input's own edge, circular wraps what is left
    assert F.pad(x, (-1, 2), mode="reflect").tolist() == [[1.0, 2.0, 3.0, 2.0, 1.0]]
    assert F.pad(x, (-1, 2), mode="circular").tolist() == [[1.0, 2.0, 3.0, 1.0, 2.0]]


def test_pad_circular_wider_than_what_cropping_leaves():
    # PyTorch's result here is memory it never wrote; ember repeats what is left periodically
    x = ember.tensor([[0.0, 1.0, 2.0, 3.0]])
    assert F.pad(x, (3, -2), mode="circular").tolist() == [[1.0, 0.0, 1.0, 0.0, 1.0]]
    with pytest.raises(RuntimeError, match="leaves nothing of dimension 1"):
        F.pad(x, (-4, 4), mode="circular")
    assert F.pad(x, (-4, 0), mode="circular").shape == (1, 0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("widths", [(2, -1), (1, 2, -1, 1), (1, 0, 2, 1, -1, 1)])
def test_pad_gradcheck(mode, widths):
    shape = (2, 3, 4, 5)[3 - len(widths) // 2 :]
    x = ember.tensor(np.random.default_rng(0).normal(size=shape), requires_grad=True)
    fn = lambda a: F.pad(a, widths, mode=mode)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@requires_torch
@pytest.mark.parametrize("mode", MODES)
def test_pad_keeps_integer_dtypes_and_names_nodes_as_torch(mode):
    import torch

    data = np.arange(24).reshape(2, 3, 4)
    assert_close(
        F.pad(ember.tensor(data), (1, 2, 2, 1), mode=mode),
        torch.nn.functional.pad(torch.tensor(data), (1, 2, 2, 1), mode=mode),
    )
    x = ember.zeros(2, 3, 4, requires_grad=True)
    names = {"reflect": "ReflectionPad2DBackward0", "replicate": "ReplicationPad2DBackward0"}
    assert F.pad(x, (1, 1, 1, 1), mode=mode).grad_fn.name() == names.get(mode, "CircularPad2DBackward0")


@requires_torch
@pytest.mark.parametrize("mode", MODES)
def test_pad_errors_match_torch(mode):
    import torch

    def both(shape, widths, dtype="float32", **kwargs):
        return _same_error(
            lambda: F.pad(ember.zeros(*shape, dtype=getattr(ember, dtype)), widths, mode=mode, **kwargs),
            lambda: torch.nn.functional.pad(
                torch.zeros(*shape, dtype=getattr(torch, dtype)), widths, mode=mode, **kwargs
            ),
        )

    assert "Padding length must be divisible by 2" in str(both((2, 3, 4), (1, 2, 3)))
    assert "less than or equal to two times the input dimension" in str(both((2, 3), (1,) * 6))
    assert f'Padding mode "{mode}" doesn\'t take in value argument' in str(both((2, 3), (1, 1), value=1.0))
    for shape, widths in [
        ((4,), (1, 1)),
        ((2, 3), (1, 1, 1, 1)),
        ((1, 2, 3, 4), (1, 1)),
        ((1,) * 6, (1,) * 6),
    ]:
        assert "not supported for" in str(both(shape, widths))
    assert "must be tuple of ints" in str(both((2, 3), (1.0, 1)))
    if mode == "reflect":
        message = str(both((2, 3, 4), (1, 1, 3, 0)))
        assert "Padding size should be less than the corresponding input dimension" in message
        assert "padding (3, 0) at dimension 1 of input [2, 3, 4]" in message
    if mode == "circular":
        assert "wrapping around more than once" in str(both((2, 3, 4), (5, 0)))
        assert "resulting in an empty dimension" in str(both((2, 3, 4), (-3, -2)))
        F.pad(ember.zeros(2, 3, 4, dtype=ember.bool), (1, 1), mode=mode)  # as torch
    else:
        assert "is too small" in str(both((2, 3, 4), (-2, -2)))
        assert "non-zero dimensions" in str(both((2, 0, 4), (1, 1)))
        assert "not implemented for 'Bool'" in str(both((2, 3, 4), (1, 1), dtype="bool"))
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        F.pad(ember.zeros(2, 3), (1, 1), mode="foo")


# ---- convolutions with a padding_mode ------------------------------------------------------

CONV_CASES = [
    ("Conv1d", (2, 3, 7), dict(kernel_size=3, padding=2)),
    ("Conv1d", (3, 7), dict(kernel_size=4, padding="same", dilation=2)),
    ("Conv2d", (2, 3, 6, 5), dict(kernel_size=3, padding=(1, 2), stride=2)),
    ("Conv2d", (2, 3, 6, 5), dict(kernel_size=(2, 3), padding="same", groups=3, bias=False)),
    ("Conv2d", (2, 3, 6, 5), dict(kernel_size=3, padding="valid")),
    ("Conv3d", (1, 3, 4, 5, 4), dict(kernel_size=(2, 3, 3), padding=(1, 1, 2))),
]


@requires_torch
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "shape", "kwargs"), CONV_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_padding_modes_match_torch(mode, name, shape, kwargs, dtype):
    import torch

    t_mod = getattr(torch.nn, name)(3, 6, padding_mode=mode, **kwargs)
    e_mod = getattr(nn, name)(3, 6, padding_mode=mode, **kwargs)
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    assert tuple(e_mod._reversed_padding_repeated_twice) == tuple(t_mod._reversed_padding_repeated_twice)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in t_mod.parameters():
            p.copy_(torch.randn_like(p))
    if dtype == "float64":
        t_mod.double(), e_mod.double()
    e_mod.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t_mod.state_dict().items()})
    tol = {"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)}[dtype]  # sums of products round
    _compare(e_mod, t_mod, shape, dtype, tol)
    for (_, pe), (_, pt) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        assert_close(pe.grad, pt.grad, *tol)


@requires_torch
def test_conv_padding_mode_errors_match_torch():
    import torch

    for name in ["ConvTranspose1d", "ConvTranspose2d"]:
        error = _same_error(
            lambda: getattr(nn, name)(2, 2, 3, padding_mode="reflect"),  # noqa: B023
            lambda: getattr(torch.nn, name)(2, 2, 3, padding_mode="reflect"),  # noqa: B023
        )
        assert f'Only "zeros" padding mode is supported for {name}' in str(error)
    error = _same_error(
        lambda: nn.Conv1d(2, 2, 3, padding=3, padding_mode="reflect")(ember.zeros(2, 3)),
        lambda: torch.nn.Conv1d(2, 2, 3, padding=3, padding_mode="reflect")(torch.zeros(2, 3)),
    )
    assert "Padding size should be less than the corresponding input dimension" in str(error)


# ---- padding layers ------------------------------------------------------------------------

PAD_LAYERS = [
    ("ZeroPad1d", (2, 3, 5), [2, (1, 3)]),
    ("ZeroPad2d", (2, 3, 4), [1, (1, 0, -1, 2), (1, 2)]),
    ("ZeroPad3d", (1, 2, 3, 4), [1, (1, 0, 2, 1, 0, 1)]),
    ("ReflectionPad1d", (2, 3, 5), [2, (1, 3)]),
    ("ReflectionPad2d", (3, 4, 5), [1, (1, 0, 2, 3)]),
    ("ReflectionPad3d", (1, 2, 3, 4, 5), [1, (1, 0, 2, 1, 0, 2)]),
    ("ReplicationPad1d", (3, 5), [2, (1, 6)]),
    ("ReplicationPad2d", (2, 3, 4, 5), [1, (1, 0, 5, 3)]),
    ("ReplicationPad3d", (2, 3, 4, 5), [1, (1, 0, 2, 1, 0, 2)]),
    ("CircularPad1d", (2, 3, 5), [2, (1, 5)]),
    ("CircularPad2d", (3, 4, 5), [1, (-1, 0, 2, 3)]),
    ("CircularPad3d", (1, 2, 3, 4, 5), [1, (1, 0, 2, 1, 0, 2)]),
]


@requires_torch
@pytest.mark.parametrize(("name", "shape", "paddings"), PAD_LAYERS)
def test_padding_layers_match_torch(name, shape, paddings):
    import torch

    for padding in paddings:
        e_mod, t_mod = getattr(nn, name)(padding), getattr(torch.nn, name)(padding)
        assert repr(e_mod) == repr(t_mod)
        assert e_mod.padding == t_mod.padding
        assert list(e_mod.state_dict()) == []
        _compare(e_mod, t_mod, shape)


@requires_torch
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_constant_pad_layers_match_torch(nd):
    import torch

    for padding, value in [(1, 2.5), ((1, 2) * nd, -1), ((2, 1), 0.0)]:
        name = f"ConstantPad{nd}d"
        e_mod, t_mod = getattr(nn, name)(padding, value), getattr(torch.nn, name)(padding, value)
        assert repr(e_mod) == repr(t_mod)
        _compare(e_mod, t_mod, (2, 3, 4, 5)[2 - nd :] if nd < 3 else (1, 2, 3, 4))
    assert isinstance(nn.ZeroPad2d(1), nn.ConstantPad2d) and nn.ZeroPad2d(1).value == 0.0


@requires_torch
def test_padding_layers_check_the_input_rank_as_torch():
    import torch

    for name, shape in [
        ("CircularPad1d", (5,)),
        ("CircularPad2d", (1, 2, 3, 4, 5)),
        ("CircularPad3d", (2, 3, 4)),
    ]:
        error = _same_error(
            lambda: getattr(nn, name)(1)(ember.zeros(*shape)),  # noqa: B023
            lambda: getattr(torch.nn, name)(1)(torch.zeros(*shape)),  # noqa: B023
        )
        assert f"(got {len(shape)}D input)" in str(error)
    for name, shape in [
        ("ReflectionPad1d", (5,)),
        ("ReplicationPad2d", (1, 2, 3, 4, 5)),
        ("ReflectionPad3d", (3, 4)),
    ]:
        error = _same_error(
            lambda: getattr(nn, name)(1)(ember.zeros(*shape)),  # noqa: B023
            lambda: getattr(torch.nn, name)(1)(torch.zeros(*shape)),  # noqa: B023
        )
        assert isinstance(error, (NotImplementedError, RuntimeError))


# ---- pixel and channel shuffling, Softmax2d ------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_shuffles_match_torch(dtype):
    import torch

    tf = torch.nn.functional
    cases = [
        (lambda x: F.pixel_shuffle(x, 2), lambda x: tf.pixel_shuffle(x, 2), (2, 8, 3, 4)),
        (lambda x: ember.pixel_shuffle(x, 3), lambda x: torch.pixel_shuffle(x, 3), (9, 2, 3)),
        (nn.PixelShuffle(2), torch.nn.PixelShuffle(2), (2, 2, 4, 3, 2)),
        (lambda x: F.pixel_unshuffle(x, 2), lambda x: tf.pixel_unshuffle(x, 2), (2, 3, 4, 6)),
        (lambda x: ember.pixel_unshuffle(x, 3), lambda x: torch.pixel_unshuffle(x, 3), (1, 3, 6)),
        (nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2), (2, 1, 2, 4, 2)),
        (lambda x: F.channel_shuffle(x, 2), lambda x: tf.channel_shuffle(x, 2), (2, 6, 3, 2)),
        (lambda x: ember.channel_shuffle(x, 3), lambda x: torch.channel_shuffle(x, 3), (2, 6, 4)),
        (nn.ChannelShuffle(4), torch.nn.ChannelShuffle(4), (1, 8, 2, 1, 2)),
        (nn.Softmax2d(), torch.nn.Softmax2d(), (2, 3, 4, 5)),
        (nn.Softmax2d(), torch.nn.Softmax2d(), (3, 4, 5)),
    ]
    for e_fn, t_fn, shape in cases:
        _compare(e_fn, t_fn, shape, dtype)


def test_shuffles_invert_and_give_new_memory():
    x = ember.randn(2, 8, 4, 6)
    assert ember.equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2), x)
    assert ember.equal(F.channel_shuffle(F.channel_shuffle(x, 2), 4), x)
    for y in (F.pixel_shuffle(x, 1), F.pixel_unshuffle(x, 1), F.channel_shuffle(x, 1)):
        y[0, 0, 0, 0] = 100.0  # a factor of 1 still gives a tensor of its own, as in PyTorch
    assert (x.numpy() != 100.0).all()
    z = ember.randn(1, 4, 2, 2, requires_grad=True)
    assert gradcheck(lambda a: F.pixel_shuffle(a, 2), (z.double(),))
    assert gradcheck(lambda a: F.channel_shuffle(a, 2), (z.double(),))


@requires_torch
def test_shuffle_reprs_and_errors_match_torch():
    import torch

    for name, arg in [("PixelShuffle", 3), ("PixelUnshuffle", 2), ("ChannelShuffle", 4)]:
        assert repr(getattr(nn, name)(arg)) == repr(getattr(torch.nn, name)(arg))
    assert repr(nn.Softmax2d()) == repr(torch.nn.Softmax2d())
    cases = [
        ("pixel_shuffle", (6, 3), 2, "at least 3 dimensions"),
        ("pixel_shuffle", (2, 6, 3, 3), 2, "divisible by the square of upscale_factor"),
        ("pixel_shuffle", (2, 8, 3, 3), 0, "positive upscale_factor"),
        ("pixel_shuffle", (2, 8, 3, 3), 2.0, "must be int, not float"),
        ("pixel_unshuffle", (2, 2, 5, 6), 2, "height to be divisible by downscale_factor"),
        ("pixel_unshuffle", (2, 2, 4, 5), 2, "width to be divisible by downscale_factor"),
        ("pixel_unshuffle", (2, 2, 4, 6), -1, "positive downscale_factor"),
        ("channel_shuffle", (2, 6), 2, "expects input with > 2 dims"),
        ("channel_shuffle", (2, 6, 3), 0, "must be positive"),
        ("channel_shuffle", (2, 6, 3), 4, "Got 6 channels and 4 groups"),
    ]
    for fn, shape, arg, fragment in cases:
        error = _same_error(
            lambda: getattr(F, fn)(ember.zeros(*shape), arg),  # noqa: B023
            lambda: getattr(torch.nn.functional, fn)(torch.zeros(*shape), arg),  # noqa: B023
        )
        assert fragment in str(error)
    for shape in [(4, 5), (1, 2, 3, 4, 5)]:
        error = _same_error(
            lambda: nn.Softmax2d()(ember.zeros(*shape)),  # noqa: B023
            lambda: torch.nn.Softmax2d()(torch.zeros(*shape)),  # noqa: B023
        )
        assert "expected input to be 3D or 4D" in str(error)


# ---- Fold and Unfold -----------------------------------------------------------------------


@requires_torch
def test_fold_and_unfold_layers_match_torch():
    import inspect

    import torch

    for cls in ("Fold", "Unfold"):
        ours = list(inspect.signature(getattr(nn, cls)).parameters)
        assert ours == list(inspect.signature(getattr(torch.nn, cls)).parameters)
    assert list(inspect.signature(F.fold).parameters) == list(
        inspect.signature(torch.nn.functional.fold).parameters
    )
    assert list(inspect.signature(F.unfold).parameters) == list(
        inspect.signature(torch.nn.functional.unfold).parameters
    )
    for args, kwargs, shape in [
        ((2,), dict(dilation=2, padding=1, stride=(1, 2)), (2, 3, 6, 7)),
        (((2, 3),), {}, (3, 4, 5)),
    ]:
        e_mod, t_mod = nn.Unfold(*args, **kwargs), torch.nn.Unfold(*args, **kwargs)
        assert repr(e_mod) == repr(t_mod)
        _compare(e_mod, t_mod, shape)
    for args, kwargs, shape in [
        (((4, 5), 2), {}, (2, 12, 12)),
        ((5, (2, 3)), dict(stride=2, padding=1), (6, 9)),
    ]:
        e_mod, t_mod = nn.Fold(*args, **kwargs), torch.nn.Fold(*args, **kwargs)
        assert repr(e_mod) == repr(t_mod)
        _compare(e_mod, t_mod, shape)
