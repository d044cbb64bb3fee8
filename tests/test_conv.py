"""Convolution ops and layers: values and gradients against PyTorch, float64 gradcheck
(also of the gradient itself, for create_graph), error messages, layer reprs and init."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember.autograd.functional import gradcheck, gradgradcheck
from ember.nn.modules.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d
from ember.ops import conv as F


def _arrays(*shapes, dtype=np.float32):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) if s is not None else None for s in shapes]


def compare_with_torch(name: str, arrays: list, kwargs: dict, atol: float = 1e-5) -> None:
    """Run F.<name> in ember and torch.nn.functional.<name> on the same arrays (None: no
    tensor) and compare the outputs and the gradients of every input."""
    import torch

    ours = [None if a is None else ember.tensor(a, requires_grad=True) for a in arrays]
    theirs = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    y = getattr(F, name)(*ours, **kwargs)
    yt = getattr(torch.nn.functional, name)(*theirs, **kwargs)
    assert_close(y, yt, rtol=1e-5, atol=atol)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(np.float32)
    y.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        if a is not None:
            assert a.grad.dtype == ember.float32
            assert_close(a.grad, b.grad, rtol=1e-5, atol=atol)


# (input shape, weight shape, bias?, options): every option of conv2d, alone and mixed
CONV2D_CASES = [
    ((2, 3, 7, 7), (4, 3, 3, 3), True, {}),
    ((2, 3, 8, 9), (4, 3, 3, 3), True, {"stride": 2}),
    ((2, 3, 8, 9), (4, 3, 3, 3), True, {"stride": (2, 1)}),
    ((2, 3, 7, 6), (4, 3, 3, 3), True, {"padding": 1}),
    ((2, 3, 7, 6), (4, 3, 3, 2), True, {"padding": (2, 1), "stride": (1, 2)}),
    ((2, 3, 7, 6), (4, 3, 3, 3), True, {"padding": "same"}),
    ((2, 3, 7, 6), (4, 3, 2, 4), True, {"padding": "same", "dilation": (2, 1)}),  # asymmetric padding
    ((2, 3, 7, 6), (4, 3, 3, 3), True, {"padding": "valid"}),
    ((2, 3, 9, 9), (4, 3, 3, 3), True, {"dilation": 2, "padding": 1}),
    ((2, 4, 6, 7), (6, 2, 3, 3), True, {"groups": 2}),
    ((2, 4, 6, 7), (8, 1, 3, 3), True, {"groups": 4, "padding": 1}),  # depthwise, multiplier 2
    ((1, 3, 5, 11), (2, 3, 1, 4), False, {"stride": 3}),  # batch 1, no bias, 1x4 kernel
    ((3, 5, 13, 11), (2, 5, 5, 3), True, {"stride": (3, 2), "padding": (2, 0), "dilation": (1, 2)}),
    ((4, 6, 6), (4, 2, 3, 3), True, {"groups": 2}),  # unbatched input
]


@requires_torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on its own padded copy
@pytest.mark.parametrize("xs, ws, bias, kwargs", CONV2D_CASES)
def test_conv2d_matches_torch(xs, ws, bias, kwargs) -> None:
    x, w, b = _arrays(xs, ws, (ws[0],) if bias else None)
    compare_with_torch("conv2d", [x, w, b], kwargs)


@requires_torch
@pytest.mark.parametrize(
    "xs, ws, kwargs",
    [
        ((2, 3, 10), (4, 3, 3), {}),
        ((2, 3, 10), (4, 3, 3), {"stride": 2, "padding": 1}),
        ((2, 4, 9), (4, 2, 4), {"padding": "same", "dilation": 3, "groups": 2}),
        ((3, 9), (5, 3, 2), {"stride": 2}),  # unbatched
    ],
)
def test_conv1d_matches_torch(xs, ws, kwargs) -> None:
    x, w, b = _arrays(xs, ws, (ws[0],))
    compare_with_torch("conv1d", [x, w, b], kwargs)


@requires_torch
def test_conv3d_matches_torch() -> None:
    x, w, b = _arrays((2, 2, 4, 5, 6), (3, 2, 2, 3, 2), (3,))
    compare_with_torch("conv3d", [x, w, b], {"stride": (1, 2, 1), "padding": 1})


@requires_torch
@pytest.mark.parametrize(
    "xs, ws, bias, kwargs",
    [
        ((2, 3, 4, 5), (3, 2, 3, 3), True, {}),
        ((2, 3, 4, 5), (3, 2, 3, 3), True, {"stride": 2}),
        ((2, 3, 4, 5), (3, 2, 3, 2), True, {"stride": (2, 3), "padding": 1, "output_padding": (1, 2)}),
        ((2, 4, 3, 3), (4, 3, 3, 3), False, {"groups": 2, "stride": 2, "padding": (0, 1)}),
        ((1, 2, 5, 4), (2, 3, 2, 3), True, {"dilation": 2, "output_padding": 1}),  # output_padding < dilation
        ((2, 3, 3), (2, 3, 2, 2), True, {"stride": 2}),  # unbatched
    ],
)
def test_conv_transpose2d_matches_torch(xs, ws, bias, kwargs) -> None:
    x, w, b = _arrays(xs, ws, (ws[1] * kwargs.get("groups", 1),) if bias else None)
    compare_with_torch("conv_transpose2d", [x, w, b], kwargs)


@requires_torch
def test_conv_transpose1d_matches_torch() -> None:
    x, w, b = _arrays((2, 4, 6), (4, 3, 3), (6,))
    compare_with_torch("conv_transpose1d", [x, w, b], {"stride": 3, "padding": 1, "groups": 2})


@requires_torch
@pytest.mark.parametrize(
    "kwargs",
    [{"kernel_size": 2}, {"kernel_size": (2, 3), "stride": (1, 2), "padding": 1, "dilation": (2, 1)}],
)
def test_unfold_matches_torch(kwargs) -> None:
    (x,) = _arrays((2, 3, 6, 7))
    compare_with_torch("unfold", [x], kwargs)


@requires_torch
def test_fold_matches_torch() -> None:
    (cols,) = _arrays((2, 3 * 2 * 3, 4 * 4))  # blocks of a 5x7 image, stride (1, 2), padding (0, 1)
    compare_with_torch(
        "fold", [cols], {"output_size": (5, 7), "kernel_size": (2, 3), "stride": (1, 2), "padding": (0, 1)}
    )


def _double(*shapes):
    return [ember.tensor(a, requires_grad=True) for a in _arrays(*shapes, dtype=np.float64)]


def test_conv2d_gradcheck_and_double_backward() -> None:
    x, w, b = _double((2, 4, 5, 6), (6, 2, 3, 2), (6,))

    def f(x, w, b):
        return F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_conv_transpose2d_gradcheck_and_double_backward() -> None:
    x, w, b = _double((2, 4, 3, 2), (4, 3, 3, 2), (6,))

    def f(x, w, b):
        return F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_conv1d_unfold_fold_gradcheck() -> None:
    x, w, img, cols = _double((2, 2, 7), (3, 2, 3), (1, 2, 4, 5), (1, 8, 12))
    assert gradcheck(lambda x, w: F.conv1d(x, w, padding="same", dilation=2), (x, w))
    assert gradgradcheck(lambda x: F.unfold(x, 2, padding=1, stride=2), (img,))
    assert gradgradcheck(lambda c: F.fold(c, (4, 5), 2), (cols,))


def test_second_backward_with_retain_graph_recomputes_the_columns() -> None:
    x, w = (ember.tensor(a, requires_grad=True) for a in _arrays((2, 3, 5, 5), (4, 3, 3, 3)))
    y = F.conv2d(x, w).sum()
    y.backward(retain_graph=True)
    first = w.grad.numpy().copy(), x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first[0], rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first[1], rtol=1e-6)


@requires_torch
def test_two_live_graphs_never_share_an_im2col_buffer() -> None:
    import torch

    x1, x2, w, g1, g2 = _arrays((2, 3, 6, 6), (2, 3, 6, 6), (4, 3, 3, 3), (2, 4, 4, 4), (2, 4, 4, 4))
    ours = ember.tensor(w, requires_grad=True)
    y1, y2 = F.conv2d(ember.tensor(x1), ours), F.conv2d(ember.tensor(x2), ours)  # both graphs alive
    (y1 * ember.tensor(g1)).sum().backward()
    y3 = F.conv2d(ember.tensor(x1), ours)  # takes the buffer the first backward gave back
    (y2 * ember.tensor(g2)).sum().backward()
    (y3 * ember.tensor(g2)).sum().backward()
    theirs = torch.tensor(w, requires_grad=True)
    for x, g in [(x1, g1), (x2, g2), (x1, g2)]:
        (torch.nn.functional.conv2d(torch.tensor(x), theirs) * torch.tensor(g)).sum().backward()
    assert_close(ours.grad, theirs.grad, atol=1e-5)


def test_empty_batch() -> None:
    x = ember.zeros(0, 3, 5, 5, requires_grad=True)
    w = ember.ones(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert y.shape == (0, 4, 5, 5)
    y.sum().backward()
    assert x.grad.shape == x.shape and not w.grad.numpy().any()


def test_conv_keeps_float32_and_builds_no_graph_without_grad() -> None:
    x, w = (ember.tensor(a) for a in _arrays((2, 3, 5, 5), (4, 3, 3, 3)))
    y = F.conv2d(x, w)
    assert y.dtype == ember.float32 and y.grad_fn is None
    w.requires_grad_()
    with ember.no_grad():
        assert F.conv2d(x, w).grad_fn is None
    assert F.conv2d(x, w).grad_fn.name() == "ConvolutionBackward0"


# ---- errors, with PyTorch's wording ---------------------------------------------------------------


def _t(*shape, dtype=ember.float32):
    return ember.zeros(*shape, dtype=dtype)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: F.conv2d(_t(64, 3, 28, 28), _t(32, 1, 3, 3)),
            r"Given groups=1, weight of size \[32, 1, 3, 3\], expected input\[64, 3, 28, 28\] to have 1 "
            r"channels, but got 3 channels instead",
        ),
        (
            lambda: F.conv2d(_t(2, 3), _t(3, 1, 3, 3)),
            r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[2, 3\]",
        ),
        (
            lambda: F.conv1d(_t(2, 1, 5, 5), _t(3, 1, 3)),
            r"input to conv1d, but got input of size: \[2, 1, 5, 5\]",
        ),
        (
            lambda: F.conv2d(_t(2, 1, 5, 5), _t(3, 1, 3)),
            r"Expected 4D weight for conv2d, but got weight of size \[3, 1, 3\]",
        ),
        (
            lambda: F.conv2d(_t(2, 2, 5, 5), _t(3, 1, 3, 3), groups=2),
            r"Given groups=2, expected weight to be divisible by 2 at dimension 0",
        ),
        (
            lambda: F.conv2d(_t(2, 1, 2, 2), _t(3, 1, 3, 3)),
            r"Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel size can't",
        ),
        (lambda: F.conv2d(_t(2, 1, 5, 5), _t(3, 1, 3, 3), stride=0), "non-positive stride is not supported"),
        (lambda: F.conv2d(_t(2, 1, 5, 5), _t(3, 1, 3, 3), padding=-1), "negative padding is not supported"),
        (
            lambda: F.conv2d(_t(2, 1, 5, 5), _t(3, 1, 3, 3), dilation=0),
            "non-positive dilation is not supported",
        ),
        (lambda: F.conv2d(_t(2, 1, 5, 5), _t(3, 1, 3, 3), groups=0), "non-positive groups is not supported"),
        (
            lambda: F.conv2d(_t(2, 1, 5, 5), _t(3, 1, 3, 3), padding="same", stride=2),
            "padding='same' is not supported for strided convolutions",
        ),
        (lambda: F.conv2d(_t(2, 1, 5, 5), _t(3, 1, 3, 3), padding="foo"), "Invalid padding string: 'foo'"),
        (
            lambda: F.conv2d(_t(2, 1, 5, 5), _t(3, 1, 3, 3), stride=(1, 1, 1)),
            r"expected stride to be a single integer value or a list of 2 values",
        ),
        (
            lambda: F.conv2d(_t(2, 1, 5, 5), _t(3, 1, 3, 3), bias=_t(4)),
            r"expected bias to be 1-dimensional with 3 elements, but got bias of size \[4\] instead",
        ),
        (
            lambda: F.conv2d(_t(2, 1, 5, 5, dtype=ember.float64), _t(3, 1, 3, 3)),
            r"Input type \(Double\) and weight type \(Float\) should be the same",
        ),
        (
            lambda: F.conv_transpose2d(_t(2, 3, 5, 5), _t(2, 1, 3, 3)),
            r"Given transposed=1, weight of size \[2, 1, 3, 3\], expected input\[2, 3, 5, 5\] to have 2 channels",
        ),
        (
            lambda: F.conv_transpose2d(_t(2, 3, 5, 5), _t(3, 1, 3, 3), output_padding=1),
            "output padding must be smaller than either stride or dilation",
        ),
        (
            lambda: F.fold(_t(2, 5, 9), (4, 4), 2),
            r"Expected size of input's dimension 1 to be divisible by the product of kernel_size",
        ),
        (
            lambda: F.fold(_t(2, 12, 10), (4, 4), 2),
            r"calculated number of sliding blocks 3 \* 3 = 9, but got input.size\(2\)=10",
        ),
        (lambda: F.unfold(_t(2, 3), 2), r"Only 3D or 4D input Tensors are supported \(got \[2, 3\]\)"),
        # an empty spatial dimension, even padded, is refused; an empty batch is not
        (
            lambda: F.conv2d(_t(2, 1, 0, 5), _t(3, 1, 1, 1), padding=1),
            r"Only zero batch or zero channel inputs are supported, but got input shape: \[2, 1, 0, 5\]",
        ),
        (
            lambda: F.conv_transpose1d(_t(2, 0), _t(2, 1, 1), padding=1),
            r"Only zero batch or zero channel inputs are supported, but got input shape: \[1, 2, 1, 0\]",
        ),
    ],
)
def test_errors_name_the_op_and_the_shapes(call, message) -> None:
    with pytest.raises(RuntimeError, match=message):
        call()


# ---- layers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer, text",
    [
        (lambda: Conv2d(1, 32, 3), "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))"),
        (
            lambda: Conv2d(1, 32, (3, 5), stride=2, padding=1, dilation=2, bias=False),
            "Conv2d(1, 32, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), bias=False)",
        ),
        (
            lambda: Conv2d(2, 4, 3, padding="same", groups=2),
            "Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=2)",
        ),
        (lambda: Conv1d(2, 4, 3, padding=(1,)), "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=(1,))"),
        (lambda: Conv3d(2, 4, 3), "Conv3d(2, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1))"),
        (
            lambda: ConvTranspose2d(2, 4, 3, stride=2, output_padding=1),
            "ConvTranspose2d(2, 4, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))",
        ),
        (
            lambda: ConvTranspose1d(2, 4, 3, groups=2, bias=False),
            "ConvTranspose1d(2, 4, kernel_size=(3,), stride=(1,), groups=2, bias=False)",
        ),
    ],
)
def test_layer_repr_is_pytorchs(layer, text) -> None:
    assert repr(layer()) == text


def test_default_init_is_kaiming_uniform_with_fan_in_bound() -> None:
    conv = Conv2d(8, 16, 3, groups=2)
    assert conv.weight.shape == (16, 4, 3, 3) and conv.bias.shape == (16,)
    bound = 1 / math.sqrt(4 * 3 * 3)  # kaiming_uniform_(a=sqrt(5)) gives exactly 1/sqrt(fan_in)
    for p in (conv.weight, conv.bias):
        values = p.detach().numpy()
        assert values.dtype == np.float32 and p.requires_grad
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.8 * bound
    assert ConvTranspose2d(4, 6, 3, groups=2).weight.shape == (4, 3, 3, 3)
    assert Conv2d(1, 2, 3, bias=False).bias is None
    assert [name for name, _ in Conv2d(1, 2, 3).named_parameters()] == ["weight", "bias"]


def test_layer_argument_errors() -> None:
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        Conv2d(4, 3, 3, groups=0)
    with pytest.raises(ValueError, match="Invalid padding string 'foo'"):
        Conv2d(3, 4, 3, padding="foo")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        Conv2d(3, 4, 3, padding_mode="foo")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        ConvTranspose2d(3, 4, 3, padding_mode="reflect")


@requires_torch
def test_layers_match_torch_with_the_same_weights() -> None:
    import torch

    (x,) = _arrays((2, 4, 7, 6))
    for ours, theirs in [
        (
            Conv2d(4, 6, (3, 2), stride=2, padding="valid", groups=2),
            torch.nn.Conv2d(4, 6, (3, 2), stride=2, padding="valid", groups=2),
        ),
        (Conv2d(4, 6, 3, padding="same", dilation=2), torch.nn.Conv2d(4, 6, 3, padding="same", dilation=2)),
        (
            ConvTranspose2d(4, 2, 3, stride=2, padding=1),
            torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1),
        ),
    ]:
        with torch.no_grad():
            theirs.weight.copy_(torch.from_numpy(ours.weight.detach().numpy()))
            theirs.bias.copy_(torch.from_numpy(ours.bias.detach().numpy()))
        assert_close(ours(ember.tensor(x)), theirs(torch.tensor(x)), atol=1e-5)
    up = ConvTranspose2d(4, 2, 3, stride=2)
    assert up(ember.tensor(x), output_size=(16, 14)).shape == (2, 2, 16, 14)
    with pytest.raises(ValueError, match=r"requested an output size of \(17, 14\), but valid sizes range"):
        up(ember.tensor(x), output_size=(17, 14))


@requires_torch
def test_mnist_example_network_trains_like_torch() -> None:
    """PyTorch's examples/mnist Net (without dropout, on 8 small images): same losses step by step."""
    import torch

    import ember.optim

    def net(nn):
        convs = [nn.Conv2d(1, 8, 3, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 1), nn.ReLU(), nn.MaxPool2d(2)]
        head = [nn.Flatten(), nn.Linear(16 * 5 * 5, 32), nn.ReLU(), nn.Linear(32, 10), nn.LogSoftmax(dim=1)]
        return nn.Sequential(*convs, *head)

    ours, theirs = net(ember.nn), net(torch.nn)
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy()))
    (x,) = _arrays((8, 1, 14, 14))
    y = np.arange(8) % 10
    opt, opt_t = ember.optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(3):
        loss = ember.nn.functional.nll_loss(ours(ember.tensor(x)), ember.tensor(y))
        loss_t = torch.nn.functional.nll_loss(theirs(torch.tensor(x)), torch.tensor(y))
        np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-5)
        opt.zero_grad()
        opt_t.zero_grad()
        loss.backward()
        loss_t.backward()
        opt.step()
        opt_t.step()


@pytest.mark.parametrize("xs, ws, bias, kwargs", CONV2D_CASES)
def test_conv2d_output_is_contiguous_so_view_works(xs, ws, bias, kwargs) -> None:
    # The output was an (N, C, H, W) view of the (C, N, H, W) product, so the common
    # `F.relu(conv(x)).view(n, -1)` raised where PyTorch's contiguous output allows it.
    x, w, b = (None if a is None else ember.tensor(a) for a in _arrays(xs, ws, (ws[0],) if bias else None))
    y = F.conv2d(x, w, b, **kwargs).relu()
    assert y.is_contiguous()
    assert y.view(-1).tolist() == y.reshape(-1).tolist()


@pytest.mark.parametrize(
    "make",
    [
        lambda: F.conv1d(ember.randn(3, 2, 9), ember.randn(4, 2, 3)),
        lambda: F.conv3d(ember.randn(2, 2, 4, 5, 5), ember.randn(4, 1, 2, 2, 3), ember.randn(4), groups=2),
        lambda: ember.conv_tbc(ember.randn(5, 2, 3), ember.randn(3, 3, 4), ember.randn(4)),
        lambda: ember.nn.functional.adaptive_avg_pool3d(ember.randn(2, 3, 5, 4, 4), 2),
        # transposed convolutions returned an (N, C, ...) view of col2im's (C, N, ...) buffer
        lambda: F.conv_transpose1d(ember.randn(3, 2, 9), ember.randn(2, 4, 3)),
        lambda: F.conv_transpose2d(ember.randn(2, 4, 5, 5), ember.randn(4, 3, 3, 3), ember.randn(3), 2, 1),
        lambda: F.conv_transpose2d(
            ember.randn(1, 4, 5, 5), ember.randn(4, 3, 3, 3), ember.randn(3), padding=1
        ),
        lambda: F.conv_transpose3d(ember.randn(2, 2, 3, 3, 3), ember.randn(2, 2, 2, 2, 2), groups=2),
        lambda: ember.nn.ConvTranspose2d(3, 2, 3, stride=2, output_padding=1)(ember.randn(2, 3, 4, 4)),
    ],
)
def test_other_convolution_outputs_are_contiguous(make) -> None:
    y = make()
    assert y.is_contiguous()  # as PyTorch's: .view() of them works
    assert y.view(-1).tolist() == y.reshape(-1).tolist()
