"""Convolution: conv1d/2d/3d and their transposes (torch.nn.functional).

A convolution is fused into one node (ConvolutionBackward0, as in PyTorch) with a
hand-written backward, because it dominates a CNN's training step: the forward is
im2col plus one GEMM per group; the backward is two GEMMs (weight and input gradient)
plus col2im. During an ordinary backward the formulas run on arrays and reuse the
im2col matrix of the forward; with create_graph=True the same formulas are written with
the Im2col/Col2im nodes and matmul, so that gradients of gradients work too.

unfold/fold (ember.ops.im2col), pooling (ember.ops.pool), adaptive pooling and
interpolation (ember.ops.resize) are re-exported here, so that ember.nn.functional finds
every convolution-style function in one module.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ember import _bfloat16
from ember._tensor import Tensor
from ember.autograd.grad_mode import is_grad_enabled
from ember.autograd.saved import constant, field, saved_input
from ember.ops import _dual
from ember.ops.elementwise import Op
from ember.ops.im2col import (
    Col2im,
    Im2col,
    Window,
    channels_first,
    channels_last,
    check_geometry,
    check_window_fits,
    col2im,
    fold,  # noqa: F401  (re-exported, as below, for ember.nn.functional)
    give_buffer,
    im2col,
    ntuple,
    take_buffer,
    unfold,  # noqa: F401
    window,
)
from ember.ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d  # noqa: F401
from ember.ops.resize import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    interpolate,
)


def _matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """One matrix product per group; for a single group a plain 2-D product, which measured
    up to 25% faster than NumPy's stacked matmul when an operand is transposed."""
    if a.shape[0] == 1:
        return np.matmul(a[0], b[0], out=None if out is None else out[0])[None]
    return np.matmul(a, b, out=out)


def _bias_grad(g2: Any) -> Any:
    """Sum of the (groups, C/groups, N*P) gradient over batch and positions: the bias gradient."""
    return _dual.sum(g2, 2, keepdims=False).reshape(-1)


def _nchw_plus_bias(y: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """y + b as a contiguous (N, C, ...) array, where y is an (N, C, ...) view of the
    (C, N, ...) buffer that the GEMM (or col2im) computed in, and b the bias or None.

    Returned in PyTorch's layout, contiguous NCHW, so that `.view(n, -1)` after a convolution
    works as in PyTorch (the view y would refuse it). The reordering copy is the bias's
    addition, which is a pass over the output anyway; a batch of one is in NCHW order already.
    """
    if y.flags.c_contiguous:
        if b is not None:
            y += b.reshape((-1,) + (1,) * (y.ndim - 2))
        return y
    out = np.empty_like(y, order="C")  # y's kind: a meta array stays meta
    if b is None:
        np.copyto(out, y)
    else:
        np.add(y, b.reshape((-1,) + (1,) * (y.ndim - 2)), out=out)
    return out


def _window_sizes(name: str) -> Callable[[Any], tuple]:
    """One of the sizes a convolution's window keeps (stride, pad_lo, dilation), as a tuple."""
    return lambda win: tuple(int(n) for n in getattr(win, name))


class Convolution(Op):
    """N-d convolution (cross-correlation, like PyTorch) of x with w, plus an optional bias."""

    saved_attributes = {
        "input": saved_input(0),
        "weight": saved_input(1),
        "stride": field("win", _window_sizes("stride")),
        "padding": field("win", _window_sizes("pad_lo")),
        "dilation": field("win", _window_sizes("dilation")),
        "groups": field("groups"),
        "transposed": constant(False),
        "output_padding": field("win", lambda win: (0,) * len(win.stride)),
    }

    @staticmethod
    def forward(ctx, x, w, b, win, groups):
        cols = im2col(x, win, groups, reuse=True)
        w2 = w.reshape(groups, w.shape[0] // groups, -1)
        ctx.save_for_backward(x, w)
        ctx.win, ctx.groups = win, groups
        ctx.cols = cols  # kept for the weight gradient; released by the first backward
        ctx.cols_shape = cols.shape
        return _nchw_plus_bias(channels_last(_matmul(w2, cols), x.shape[0], win.out), b)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        win, groups = ctx.win, ctx.groups
        need_x, need_w, need_b = (e is not None for e in ctx._edges[:3])
        n, c = x.shape[:2]
        w2 = w.reshape(groups, w.shape[0] // groups, -1)
        g2 = channels_first(grad, groups)
        gx = gw = None
        if _dual.is_array(grad):
            cols, ctx.cols = ctx.cols, None
            if need_w:
                cols = im2col(x, win, groups, reuse=True) if cols is None else cols  # a second backward
                gw = _matmul(g2, cols.swapaxes(1, 2)).reshape(w.shape)
            if cols is not None:
                give_buffer(cols)
            if need_x:
                dcols = _matmul(w2.swapaxes(1, 2), g2, out=take_buffer(ctx.cols_shape, g2.dtype, like=g2))
                gx = col2im(dcols, win, n, c)
                give_buffer(dcols)
        else:
            ctx.cols = None
            if need_w:
                gw = (g2 @ Im2col.apply(x, win, groups).mT).reshape(w.shape)
            if need_x:
                gx = Col2im.apply(w2.mT @ g2, win, n, c)
        return gx, gw, _bias_grad(g2) if need_b else None, None, None


def _output_padding(win: Any) -> tuple:
    """A transposed convolution's output_padding: what its output has beyond the size that
    stride, padding, dilation and kernel give (`win.size` is that output's size)."""
    return tuple(
        int(n - ((o - 1) * s - 2 * p + d * (k - 1) + 1))
        for n, o, s, p, d, k in zip(win.size, win.out, win.stride, win.pad_lo, win.dilation, win.kernel)
    )


class ConvTranspose(Op):
    """The transpose (adjoint) of Convolution in x: each input element scatters a weighted kernel.

    `win` describes the convolution that maps this op's output back to its input. PyTorch
    records both with one node, ConvolutionBackward0, `_saved_transposed` telling them apart.
    """

    saved_attributes = {
        **Convolution.saved_attributes,
        "transposed": constant(True),
        "output_padding": field("win", _output_padding),
    }

    def name(self) -> str:
        return "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, win, groups):
        w2 = w.reshape(groups, w.shape[0] // groups, -1)
        y = col2im(
            _matmul(w2.swapaxes(1, 2), channels_first(x, groups)), win, x.shape[0], w.shape[1] * groups
        )
        ctx.save_for_backward(x, w)
        ctx.win, ctx.groups = win, groups
        return _nchw_plus_bias(y, b)  # col2im's result is a view of (C, N, ...), as the GEMM's

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        win, groups = ctx.win, ctx.groups
        need_x, need_w, need_b = (e is not None for e in ctx._edges[:3])
        w2 = w.reshape(groups, w.shape[0] // groups, -1)
        gx = gw = None
        if _dual.is_array(grad):
            cols = im2col(grad, win, groups)
            if need_x:
                gx = channels_last(_matmul(w2, cols), x.shape[0], win.out)
            if need_w:
                gw = _matmul(channels_first(x, groups), cols.swapaxes(1, 2)).reshape(w.shape)
        else:
            cols = Im2col.apply(grad, win, groups)
            if need_x:
                gx = channels_last(w2 @ cols, x.shape[0], win.out)
            if need_w:
                gw = (channels_first(x, groups) @ cols.mT).reshape(w.shape)
        gb = _dual.sum(grad, (0,) + tuple(range(2, grad.ndim)), keepdims=False) if need_b else None
        return gx, gw, gb, None, None


# ---- argument checking, with PyTorch's messages ----------------------------------------------

_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double"}


def _check_input(op: str, input: Any, nd: int) -> bool:
    """Check the rank of a conv/pool input; True when it is unbatched (no N dimension)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got input "
            f"of size: {list(input.shape)}"
        )
    if not input.is_floating_point():
        raise RuntimeError(f"{op}: expected a floating point input, but got {input.dtype}")
    shape = (1,) * (input.ndim == nd + 1) + tuple(input.shape)
    if 0 in shape[2:] and 0 not in shape[:2]:  # an empty batch or no channels is fine, as in PyTorch
        shown = shape[:2] + (1,) * (nd == 1) + shape[2:]  # PyTorch shows a 1-d input as 2-d
        raise RuntimeError(
            f"Only zero batch or zero channel inputs are supported, but got input shape: {list(shown)}"
        )
    return input.ndim == nd + 1


def _check_same_type(input: Tensor, other: Tensor | None, what: str) -> None:
    if other is not None and other._data.dtype != input._data.dtype:
        if _bfloat16.autocast[0]:  # a bfloat16 autocast region: the op casts both (ember/_bfloat16.py)
            return
        a, b = input._data.dtype.name, other._data.dtype.name
        raise RuntimeError(
            f"Input type ({_TYPE_NAMES.get(a, a)}) and {what} type ({_TYPE_NAMES.get(b, b)}) should be the same"
        )


def _padding(padding: Any, nd: int, kernel: tuple, stride: tuple, dilation: tuple) -> tuple[tuple, tuple]:
    """(pad before, pad after) per dimension, from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * nd, (0,) * nd
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        # an odd total padding puts the extra row/column after, as PyTorch does
        total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
        if any(t % 2 for t in total):
            warnings.warn(
                "Using padding='same' with even kernel lengths and odd dilation may require a "
                "zero-padded copy of the input be created",
                UserWarning,
                stacklevel=4,
            )
        return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
    pads = ntuple(padding, nd, "padding")
    return pads, pads


def _check_kernel(op: str, kernel: tuple, weight: Tensor) -> None:
    """A kernel of size 0 would give an output of the bias alone; PyTorch refuses it."""
    if 0 in kernel:
        raise RuntimeError(
            f"kernel size should be greater than zero, but got {' x '.join(map(str, kernel))} "
            f"({op}: weight of size {list(weight.shape)})"
        )


def _check_weight(op: str, weight: Any, nd: int, bias: Any, out_channels: int) -> None:
    if not isinstance(weight, Tensor) or weight.ndim != nd + 2:
        shape = list(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise RuntimeError(f"Expected {nd + 2}D weight for {op}, but got weight of size {shape}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
            f"{out_channels} elements, but got bias of size {list(bias.shape)} instead"
        )


def _conv(
    op: str,
    nd: int,
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> Tensor:
    unbatched = _check_input(op, input, nd)
    if unbatched:
        input = input.unsqueeze(0)
    _check_weight(op, weight, nd, bias, weight.shape[0] if isinstance(weight, Tensor) else 0)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    out_c, in_c_group = weight.shape[:2]
    if out_c % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got "
            f"weight of size {list(weight.shape)} instead"
        )
    if input.shape[1] != in_c_group * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(input.shape)} "
            f"to have {in_c_group * groups} channels, but got {input.shape[1]} channels instead"
        )
    _check_same_type(input, weight, "weight")
    _check_same_type(input, bias, "bias")
    kernel = tuple(weight.shape[2:])
    _check_kernel(op, kernel, weight)
    stride, dilation = ntuple(stride, nd, "stride"), ntuple(dilation, nd, "dilation")
    lo, hi = _padding(padding, nd, kernel, stride, dilation)
    check_geometry(stride, dilation, lo)
    win = window(tuple(input.shape[2:]), kernel, stride, dilation, lo, hi)
    check_window_fits(win)
    out = _convolve(input, weight, bias, win, groups)
    return out.squeeze(0) if unbatched else out


# Without a graph to record, a large batch is convolved in slices: the im2col matrix of
# 1000 MNIST images in the second layer would be 660 MB, and its page faults dominate.
_INFERENCE_COLS_BYTES = 64 * 2**20


def _convolve(input: Tensor, weight: Tensor, bias: Tensor | None, win: Any, groups: int) -> Tensor:
    records = is_grad_enabled() and any(t is not None and t.requires_grad for t in (input, weight, bias))
    n = input.shape[0]
    per_sample = weight[0].numel() * groups * math.prod(win.out) * input._data.itemsize
    chunk = max(1, _INFERENCE_COLS_BYTES // max(per_sample, 1))
    if records or n <= chunk:
        return Convolution.apply(input, weight, bias, win, groups)
    parts = [Convolution.apply(input[i : i + chunk], weight, bias, win, groups) for i in range(0, n, chunk)]
    return Tensor(np.concatenate([p._data for p in parts]))


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution over (N, C, L) or (C, L) input (torch.nn.functional.conv1d)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution over (N, C, H, W) or (C, H, W) input (torch.nn.functional.conv2d)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) input (torch.nn.functional.conv3d)."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(
    op: str,
    nd: int,
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
) -> Tensor:
    unbatched = _check_input(op, input, nd)
    if unbatched:
        input = input.unsqueeze(0)
    out_c = weight.shape[1] * groups if isinstance(weight, Tensor) and weight.ndim > 1 else 0
    _check_weight(op, weight, nd, bias, out_c)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    in_c = weight.shape[0]
    if input.shape[1] != in_c or in_c % groups:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(input.shape)} "
            f"to have {in_c} channels, but got {input.shape[1]} channels instead"
        )
    _check_same_type(input, weight, "weight")
    _check_same_type(input, bias, "bias")
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str ({padding!r})")
    kernel = tuple(weight.shape[2:])
    _check_kernel(op, kernel, weight)
    stride, dilation = ntuple(stride, nd, "stride"), ntuple(dilation, nd, "dilation")
    pads, extra = ntuple(padding, nd, "padding"), ntuple(output_padding, nd, "output_padding")
    check_geometry(stride, dilation, pads)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)) or any(e < 0 for e in extra):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding={list(extra)}, stride={list(stride)}, dilation={list(dilation)}"
        )
    spatial = tuple(input.shape[2:])
    size = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + e + 1
        for n, s, p, d, k, e in zip(spatial, stride, pads, dilation, kernel, extra)
    )
    if any(n <= 0 for n in size):
        raise RuntimeError(
            f"{op}: given input of size {list(input.shape)} and weight of size {list(weight.shape)}, the "
            f"calculated output size {list(size)} is too small"
        )
    win = Window(size, kernel, stride, dilation, pads, pads, spatial)
    out = ConvTranspose.apply(input, weight, bias, win, groups)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """1-D transposed convolution, weight (C_in, C_out/groups, k) (torch.nn.functional.conv_transpose1d)."""
    return _conv_transpose(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """2-D transposed convolution, weight (C_in, C_out/groups, kh, kw) (torch.nn.functional.conv_transpose2d)."""
    return _conv_transpose(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """3-D transposed convolution, weight (C_in, C_out/groups, kd, kh, kw)
    (torch.nn.functional.conv_transpose3d)."""
    return _conv_transpose(
        "conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation
    )
