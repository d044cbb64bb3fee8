"""Max and average pooling (torch.nn.functional.max_pool2d, avg_pool2d, and their 1-d and 3-d forms).

A pooling window reads one element per kernel offset, and the element that offset
reads in every window is a strided slice of the (padded) input. So pooling is a loop
over the kernel offsets (kh*kw of them in 2-d), each step one vectorised operation on
output-sized arrays: a running maximum (remembering which offset won) or a running sum.
The backward is the same loop in reverse, adding the gradient into the slices.

Pooling works on the last 1, 2 or 3 dimensions whatever the leading ones, so unbatched
inputs (C, H, W) need no special case, and the 1-d, 2-d and 3-d forms differ only in
their signatures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ember import _meta
from ember._tensor import Tensor
from ember.autograd.saved import field_tensor
from ember.dtypes import scalar_type_name
from ember.ops import _dual
from ember.ops.elementwise import Op, truncated_quotient
from ember.ops.im2col import Window, pad

# ---- the array kernels -------------------------------------------------------------------------


def _max(x: np.ndarray, win: Window) -> tuple[np.ndarray, np.ndarray]:
    """The window maxima and, for each, the number of the kernel offset that holds it.

    Ties keep the first offset and NaN wins (the last NaN), as in PyTorch. Only plain
    ufuncs: a masked copy (np.copyto with where=, arr[mask] = n) is ~10x slower on random masks.
    Padding never wins: -inf, or the smallest value of an integer dtype; a window whose
    elements all equal that value points at its first element, as PyTorch's does.
    """
    floating = x.dtype.kind in "fV"
    fill = -np.inf if floating else np.iinfo(x.dtype).min
    xp = pad(x, win, fill)
    best = arg = None
    for number, (_, slices) in enumerate(win.offsets()):
        values = xp[(Ellipsis,) + slices]
        if best is None:
            best = values.copy()
            arg = _meta.zeros(best.shape, np.uint8 if math.prod(win.kernel) <= 256 else np.int32, like=best)
            continue
        better = np.greater(values, best)
        np.maximum(best, values, out=best)  # propagates NaN
        # the last offset that improved on the running maximum is the winner
        np.maximum(arg, better * arg.dtype.type(number), out=arg)
    if floating and np.isnan(best).any():  # rare: point the windows holding NaN at their last NaN
        for number, (_, slices) in enumerate(win.offsets()):
            arg = np.where(np.isnan(xp[(Ellipsis,) + slices]), arg.dtype.type(number), arg)
    if any(win.pad_lo) and (best == fill).any():  # rare: a tie with the padding before the input
        stuck = best == fill
        inside = pad(np.ones(win.size, dtype=bool), win, False)  # True on the input, False on padding
        for number, (_, slices) in reversed(list(enumerate(win.offsets()))):  # the first one wins
            arg = np.where(stuck & inside[slices], arg.dtype.type(number), arg)
    return best, arg


def _overlapping(win: Window) -> bool:
    return any(s < d * (k - 1) + 1 for k, s, d in zip(win.kernel, win.stride, win.dilation))


def _route(g: np.ndarray, arg: np.ndarray, win: Window) -> np.ndarray:
    """Max pooling's backward: each window's gradient goes to the element that won."""
    gp = _meta.zeros(g.shape[: -len(win.size)] + win.padded, g.dtype, like=g)
    overlapping = _overlapping(win)
    for number, (_, slices) in enumerate(win.offsets()):
        target = gp[(Ellipsis,) + slices]
        if overlapping:
            target += g * (arg == number)
        else:  # each input element belongs to one window at most: write, don't add
            np.multiply(g, arg == number, out=target)
    return gp[(Ellipsis,) + win.crop()]


def _pick(x: np.ndarray, arg: np.ndarray, win: Window) -> np.ndarray:
    """The adjoint of _route: the element of x at each window's winning offset."""
    xp = pad(x, win)
    out = _meta.zeros(arg.shape, x.dtype, like=x)
    for number, (_, slices) in enumerate(win.offsets()):
        np.copyto(out, xp[(Ellipsis,) + slices], where=arg == number)
    return out


def _average(x: np.ndarray, win: Window, divisor: Any) -> np.ndarray:
    """Sum over each window (zero padding), divided by `divisor` (a number or an array).
    An integer (int64) sum is divided as C divides, truncating toward zero, as PyTorch's
    integer average pooling does (a mean of -2.5 gives -2, of 1.75 gives 1)."""
    xp = pad(x, win)
    total = None
    for _, slices in win.offsets():
        values = xp[(Ellipsis,) + slices]
        if total is None:
            total = values.copy()
        else:
            np.add(total, values, out=total)
    if total.dtype.kind in "fV":
        total /= divisor
        return total
    return truncated_quotient(total, divisor)


def _spread(g: np.ndarray, win: Window, divisor: Any) -> np.ndarray:
    """The adjoint of _average: each window's gradient / divisor added to its elements."""
    share = g / divisor
    gp = _meta.zeros(g.shape[: -len(win.size)] + win.padded, g.dtype, like=g)
    for _, slices in win.offsets():
        target = gp[(Ellipsis,) + slices]
        np.add(target, share, out=target)
    return gp[(Ellipsis,) + win.crop()]


# ---- the graph nodes: each backward is its partner's forward -------------------------------------


def _pool_name(kind: str) -> Callable[[Any], str]:
    """The node name of a pooling, by its dims: PyTorch pools 1-d inputs with its 2-d kernel
    (between an unsqueeze and a squeeze), so a 1-d pooling is named as its 2-d node. An
    average pooling made by adaptive_avg_pool (no `args`) is named as PyTorch's."""

    def name(node: Any) -> str:
        full = kind if node.args is not None else "Adaptive" + kind
        return full.format(max(2, len(node.win.size)))

    return name


def _pool_arg(i: int, name: str) -> Callable[[Any], Any]:
    """Argument i of the call (kernel_size, stride, padding, dilation, ceil_mode, ...), as
    the 2-d or 3-d node PyTorch records saves it: a 1-d pooling's sizes get a leading 1
    (padding 0), an unset stride is ()."""

    def get(node: Any) -> Any:
        if node.args is None:  # adaptive_avg_pool's node: PyTorch's saves none of these
            raise AttributeError(f"'{node.name()}' object has no attribute '_saved_{name}'")
        value = node.args[i]
        if len(node.win.size) == 1 and isinstance(value, tuple):  # a 1-d pooling
            if i == 1 and not value:  # PyTorch's 1-d forms pass the kernel as the stride
                value = node.win.kernel
            return (0 if i == 2 else 1,) + value
        return value

    return get


_POOL_ARGS = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")


class MaxPool(Op):
    """Max pooling (MaxPool2DWithIndicesBackward0, MaxPool3DWithIndicesBackward0); with_indices
    also returns PyTorch's flat indices. `args`: the call's (kernel_size, stride, padding,
    dilation, ceil_mode), for the saved attributes."""

    _intermediates = ("arg",)
    saved_attributes = {
        **{name: _pool_arg(i, name) for i, name in enumerate(_POOL_ARGS)},
        "result1": field_tensor("arg", lambda node, arg: _flat_indices(arg, node.win, True)),
    }
    name = _pool_name("MaxPool{}DWithIndicesBackward0")

    @staticmethod
    def forward(ctx, x, win, with_indices, args=None):
        y, arg = _max(x, win)
        ctx.arg, ctx.win, ctx.args = arg, win, args
        if not with_indices:
            return y
        indices = _flat_indices(arg, win)
        ctx.mark_non_differentiable(indices)
        return y, indices

    @staticmethod
    def backward(ctx, grad, *unused):
        if _dual.is_array(grad):
            return _route(grad, ctx.arg, ctx.win), None, None, None
        return MaxRoute.apply(grad, ctx.arg, ctx.win), None, None, None


class MaxRoute(Op):
    """Max pooling's backward as a node, for create_graph; its backward picks the winners."""

    _intermediates = ("arg",)

    @staticmethod
    def forward(ctx, g, arg, win):
        ctx.arg, ctx.win = arg, win
        return _route(g, arg, win)

    @staticmethod
    def backward(ctx, grad):
        if _dual.is_array(grad):
            return _pick(grad, ctx.arg, ctx.win), None, None
        return MaxPick.apply(grad, ctx.arg, ctx.win), None, None


class MaxPick(Op):
    """The winners of a max pooling, read from another tensor (MaxRoute's adjoint)."""

    _intermediates = ("arg",)

    @staticmethod
    def forward(ctx, x, arg, win):
        ctx.arg, ctx.win = arg, win
        return _pick(x, arg, win)

    @staticmethod
    def backward(ctx, grad):
        if _dual.is_array(grad):
            return _route(grad, ctx.arg, ctx.win), None, None
        return MaxRoute.apply(grad, ctx.arg, ctx.win), None, None


class AvgPool(Op):
    """Average pooling (AvgPool2DBackward0, AvgPool3DBackward0); its backward spreads each
    gradient over its window. `args`: the call's (kernel_size, stride, padding, ceil_mode,
    count_include_pad, divisor_override), for the saved attributes."""

    saved_attributes = {
        name: _pool_arg(i, name)
        for i, name in enumerate(
            ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
        )
    }
    name = _pool_name("AvgPool{}DBackward0")
    # PyTorch's node saves the input, which this backward does not need; the divisor is freed
    # with the graph instead, so that a second backward raises as there
    _intermediates = ("divisor",)

    @staticmethod
    def forward(ctx, x, win, divisor, args=None):
        ctx.win, ctx.divisor, ctx.args = win, divisor, args
        return _average(x, win, divisor)

    @staticmethod
    def backward(ctx, grad):
        if _dual.is_array(grad):
            return _spread(grad, ctx.win, ctx.divisor), None, None, None
        return AvgSpread.apply(grad, ctx.win, ctx.divisor, ctx.args), None, None, None


class AvgSpread(Op):
    """Average pooling's backward as a node, for create_graph; its backward is AvgPool, given
    the pooling's `args` so that it is named and shows its attributes as the pooling's."""

    @staticmethod
    def forward(ctx, g, win, divisor, args):
        ctx.win, ctx.divisor, ctx.args = win, divisor, args
        return _spread(g, win, divisor)

    @staticmethod
    def backward(ctx, grad):
        if _dual.is_array(grad):
            return _average(grad, ctx.win, ctx.divisor), None, None, None
        return AvgPool.apply(grad, ctx.win, ctx.divisor, ctx.args), None, None, None


def _flat_indices(arg: np.ndarray, win: Window, as_2d: bool = False) -> np.ndarray:
    """PyTorch's return_indices: the position of each maximum in its flattened input plane;
    `as_2d`: a 1-d pooling's with the dim of size 1 its 2-d node has (the saved result1)."""
    if as_2d and len(win.size) == 1:
        return _flat_indices(arg, win)[..., None, :]
    if arg.__class__ is not np.ndarray:  # meta: its shape (the CPU positions below would mix devices)
        return _meta.empty(arg.shape, np.int64)
    offsets = np.unravel_index(arg, win.kernel)
    flat = np.zeros(arg.shape, dtype=np.int64)
    nd = len(win.size)
    for dim, (n, s, d, lo, out, off) in enumerate(
        zip(win.size, win.stride, win.dilation, win.pad_lo, win.out, offsets)
    ):
        start = (np.arange(out) * s - lo).reshape((out,) + (1,) * (nd - dim - 1))
        flat = flat * n + start + off.astype(np.int64) * d
    return flat


# ---- the public functions ----------------------------------------------------------------------


def ntuple(value: Any, nd: int, name: str, op: str) -> tuple:
    """An int, or a sequence of 1 or nd ints, as a tuple of nd ints (a pooling's kernel_size, ...)."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * nd
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * nd
    if len(values) != nd:
        raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of {nd} ints")
    return values


def kernel_stride_padding(op: str, nd: int, kernel_size: Any, stride: Any, padding: Any) -> tuple:
    """A pooling's (or unpooling's) kernel_size, stride and padding as nd-tuples; stride None
    means kernel_size, as in every pooling."""
    kernel = ntuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None else ntuple(stride, nd, "stride", op)
    return kernel, stride, ntuple(padding, nd, "padding", op)


def check_dtype(op: str, input: Tensor, integers: tuple = (), takes: str = "floating point inputs") -> None:
    """PyTorch's dtypes for a pooling: floating point, and the integer dtypes in `integers`;
    any other raises its NotImplementedError ('"avg_pool2d" not implemented for 'Char'')."""
    dtype = input._data.dtype
    if dtype.kind in "fV" or dtype in integers:
        return
    raise NotImplementedError(
        f"\"{op}\" not implemented for '{scalar_type_name(dtype)}' ({op} takes {takes}, got {input.dtype})"
    )


# max pooling takes every integer dtype; average pooling int64 only (a truncated mean), as PyTorch
_MAX_INTEGERS = tuple(np.dtype(d) for d in (np.int64, np.int32, np.int16, np.int8, np.uint8))
_AVG_INTEGERS = (np.dtype(np.int64),)


def _check_input(op: str, input: Any, nd: int, integers: tuple, takes: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    # only the batch dimension may be empty
    if input.ndim not in (nd + 1, nd + 2) or 0 in input.shape[input.ndim - nd - 1 :]:
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) non-empty input to {op}, but got "
            f"input of size: {list(input.shape)}"
        )
    check_dtype(op, input, integers, takes)


def _pool_window(
    op: str,
    input: Tensor,
    nd: int,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
) -> Window:
    """The Window of a pooling, with PyTorch's output size rule and checks."""
    if stride == [] or stride == ():  # torch.max_pool2d's default: kernel_size, as None
        stride = None
    kernel, stride, pads = kernel_stride_padding(op, nd, kernel_size, stride, padding)
    dilation = ntuple(dilation, nd, "dilation", op)
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got kernel_size={list(kernel)}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: stride should be greater than zero, but got stride={list(stride)}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got dilation={list(dilation)}")
    for p, k, d in zip(pads, kernel, dilation):
        if p < 0 or 2 * p > d * (k - 1) + 1:
            raise RuntimeError(
                f"{op}: pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
        if 2 * p > k:  # PyTorch also bounds it by the kernel itself, whatever the dilation
            raise RuntimeError(
                f"{op}: pad should be smaller than or equal to half of kernel size, but got pad={p} "
                f"and kernel_size={k}"
            )
    size = tuple(input.shape[-nd:])
    out = []
    for n, k, s, p, d in zip(size, kernel, stride, pads, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        o = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:  # the last window must start inside the input
            o -= 1
        out.append(o)
    if min(out) <= 0:
        lead = "x".join(map(str, input.shape[-nd - 1 : -nd]))
        raise RuntimeError(
            f"Given input size: ({lead}x{'x'.join(map(str, size))}). Calculated output size: "
            f"({lead}x{'x'.join(map(str, out))}). Output size is too small"
        )
    # ceil mode may need room past the right padding for the last window
    hi = tuple(
        max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)
        for n, k, s, p, d, o in zip(size, kernel, stride, pads, dilation, out)
    )
    return Window(size, kernel, stride, dilation, pads, hi, tuple(out))


def _max_pool(
    op: str,
    nd: int,
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
) -> Any:
    _check_input(op, input, nd, _MAX_INTEGERS, "floating point and integer (not bool) inputs")
    win = _pool_window(op, input, nd, kernel_size, stride, padding, dilation, ceil_mode)
    given = () if stride is None or stride == [] or stride == () else win.stride
    args = (win.kernel, given, win.pad_lo, win.dilation, bool(ceil_mode))
    return MaxPool.apply(input, win, return_indices, args)


def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """1-D max pooling over (N, C, L) or (C, L) (torch.nn.functional.max_pool1d)."""
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """2-D max pooling over (N, C, H, W) or (C, H, W) (torch.nn.functional.max_pool2d).

    stride defaults to kernel_size; with return_indices, also the flat index of each
    maximum within its H*W plane.
    """
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool3d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W) (torch.nn.functional.max_pool3d).

    stride defaults to kernel_size; with return_indices, also the flat index of each
    maximum within its D*H*W volume.
    """
    return _max_pool(
        "max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def _divisor(win: Window, count_include_pad: bool, divisor_override: int | None, dtype: np.dtype) -> Any:
    """What each window's sum is divided by: its element count, padding included or not."""
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        return divisor_override
    counts = np.ones((), dtype=dtype)
    for n, k, s, lo, o in zip(win.size, win.kernel, win.stride, win.pad_lo, win.out):
        start = np.arange(o) * s - lo
        end = np.minimum(start + k, n + lo)  # windows never count ceil mode's extra cells
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts = np.multiply.outer(counts, (end - start).astype(dtype))
    first = counts.flat[0]
    return int(first) if np.all(counts == first) else counts


def _avg_pool(
    op: str,
    nd: int,
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
) -> Tensor:
    _check_input(op, input, nd, _AVG_INTEGERS, "floating point and int64 inputs")
    win = _pool_window(op, input, nd, kernel_size, stride, padding, 1, ceil_mode)
    if nd == 3 and any(n < k for n, k in zip(win.size, win.kernel)):
        # PyTorch's avg_pool3d (and so lp_pool3d) wants every window to fit in the unpadded
        # input, though padding could make room; 1-d and 2-d average pooling do not check this
        (t, h, w), (kt, kh, kw) = win.size, win.kernel
        raise RuntimeError(
            f"{op}: input image (T: {t} H: {h} W: {w}) smaller than kernel size (kT: {kt} kH: {kh} kW: {kw})"
        )
    divisor = _divisor(win, count_include_pad, divisor_override, input._data.dtype)
    given = () if stride is None or stride == [] or stride == () else win.stride
    args = (win.kernel, given, win.pad_lo, bool(ceil_mode), bool(count_include_pad), divisor_override)
    return AvgPool.apply(input, win, divisor, args)


def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling over (N, C, L) or (C, L) (torch.nn.functional.avg_pool1d)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling over (N, C, H, W) or (C, H, W) (torch.nn.functional.avg_pool2d)."""
    return _avg_pool(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def avg_pool3d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W) (torch.nn.functional.avg_pool3d)."""
    return _avg_pool(
        "avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
