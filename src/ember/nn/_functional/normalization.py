"""Normalization: layer_norm, batch_norm and group_norm (one fused node each), instance_norm
(group_norm with one channel per group, or batch_norm with running statistics), normalize,
and the distances built on norms (cosine_similarity, pairwise_distance).

Why fused: composed from mean, var, sub, div, mul and add, a normalization layer builds
about eight nodes whose backward walks the same arrays eight times. As one node, its
backward is the closed form: for y = xhat * w + b with xhat = (x - mean) * rstd and the
statistics taken over the same elements,

    dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = dy * w.

When the statistics are constants (batch_norm in eval mode) it is just dx = rstd * gh.
(The ops live here, next to their only callers.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.autograd.function import bump_below_the_check
from ember.autograd.grad_mode import no_grad
from ember.autograd.saved import field, saved_input
from ember.dtypes import scalar_type_name, to_numpy_dtype
from ember.ops import _dual
from ember.ops.api.arith import result_type
from ember.ops.api.arrange import broadcast_tensors
from ember.ops.api.reduce import norm
from ember.ops.api.shape import pad
from ember.ops.elementwise import Op


def _standardize(x: Any, axes: tuple, eps: float) -> tuple:
    """(xhat, rstd, mean, biased variance) over axes, statistics kept as size-1 dims.

    Two passes (the mean, then the squares around it), so that a large offset costs no
    precision; on arrays, or on Tensors when a backward is itself differentiated.
    """
    n = int(np.prod([x.shape[a] for a in axes]))
    mean = _dual.sum(x, axes) / n
    centered = x - mean
    var = _dual.sum(centered * centered, axes) / n
    rstd = (var + eps) ** -0.5
    return centered * rstd, rstd, mean, var


def _input_grad(gh: Any, xhat: Any, rstd: Any, axes: tuple, batch_stats: bool) -> Any:
    if not batch_stats:
        return gh * rstd
    n = int(np.prod([gh.shape[a] for a in axes]))
    return (gh - _dual.sum(gh, axes) / n - xhat * (_dual.sum(gh * xhat, axes) / n)) * rstd


class LayerNorm(Op):
    """Normalize over the trailing dimensions `axes`, then scale and shift elementwise."""

    saved_attributes = {
        "input": saved_input(0),
        "weight": saved_input(1),
        "normalized_shape": lambda node: tuple(node._shape[a] for a in node.axes),
    }

    _intermediates = ("xhat", "rstd")

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps):
        xhat, rstd, _, _ = _standardize(x, axes, eps)
        ctx.save_for_backward(x, weight)
        ctx.xhat, ctx.rstd, ctx.axes, ctx.eps = xhat, rstd, axes, eps
        # without weight, a copy: an in-place change of y must not reach the saved xhat
        y = xhat * weight if weight is not None else xhat.copy()
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        dx, dw, db = ctx._edges[:3]
        if _dual.is_array(grad):
            xhat, rstd = ctx.xhat, ctx.rstd
        else:  # create_graph: the statistics recomputed as ops, so that they are differentiated too
            xhat, rstd, _, _ = _standardize(x, ctx.axes, ctx.eps)
        gh = grad * weight if weight is not None else grad
        gx = _input_grad(gh, xhat, rstd, ctx.axes, True) if dx is not None else None
        # the engine sums the leading (batch) dimensions of these back to the weight's shape
        return gx, (grad * xhat if dw is not None else None), (grad if db is not None else None), None, None


def _batch_statistics(x: np.ndarray, axes: tuple) -> tuple:
    """(x - mean, mean, sum of squared deviations) over axes, statistics kept as size-1 dims,
    computed as PyTorch's CPU batch norm computes them: a float32 input is summed in float64
    and each statistic rounded once to float32, so that the running statistics built from
    them agree with PyTorch's bit for bit (a float32 sum would be off by an ulp in about
    half of the channels)."""
    n = int(np.prod([x.shape[a] for a in axes]))
    wide = np.float64 if x.dtype == np.float32 else None
    mean = (np.add.reduce(x, axes, dtype=wide, keepdims=True) / n).astype(x.dtype, copy=False)
    centered = x - mean
    squares = np.add.reduce(centered * centered, axes, dtype=wide, keepdims=True).astype(x.dtype, copy=False)
    return centered, mean, squares


class BatchNorm(Op):
    """Normalize each channel (axis 1) with the batch's statistics (running_mean None) or
    the given running ones; outputs y and the batch mean and sum of squared deviations from
    it, which the caller uses to update its running statistics."""

    saved_attributes = {
        "input": saved_input(0),
        "weight": saved_input(1),
        "eps": field("eps"),
        "training": field("batch_stats"),
    }

    _intermediates = ("xhat", "rstd", "mean")

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        ctx.batch_stats = running_mean is None
        if ctx.batch_stats:
            centered, mean, squares = _batch_statistics(x, axes)
            rstd = (squares / x.dtype.type(x.size // x.shape[1]) + eps) ** -0.5
            xhat = centered * rstd
        else:
            # a copy of the running mean, which create_graph's backward reads: changing the
            # running statistics in place before backward (a training-mode forward updates
            # them) leaves the gradient the forward's. PyTorch saves the tensors; its error
            # there would be a false one after a training forward, whose update ember counts
            # as a change (for views of the buffers) and PyTorch's kernel does not.
            mean, squares = running_mean.reshape(shape).copy(), running_var.reshape(shape)
            rstd = (squares + eps) ** -0.5
            xhat = (x - mean) * rstd
        ctx.save_for_backward(x, weight)
        ctx.xhat, ctx.rstd, ctx.mean, ctx.axes, ctx.eps, ctx.shape = xhat, rstd, mean, axes, eps, shape
        y = xhat * weight.reshape(shape) if weight is not None else xhat.copy()
        if bias is not None:
            y += bias.reshape(shape)
        mean, squares = mean.reshape(-1), squares.reshape(-1)
        ctx.mark_non_differentiable(mean, squares)
        return y, mean, squares

    @staticmethod
    def backward(ctx, grad, _grad_mean, _grad_var):
        x, weight = ctx.saved_tensors
        dx, dw, db = ctx._edges[:3]
        axes = ctx.axes
        if _dual.is_array(grad):
            xhat, rstd = ctx.xhat, ctx.rstd
        elif ctx.batch_stats:  # create_graph: the statistics recomputed as ops
            xhat, rstd, _, _ = _standardize(x, axes, ctx.eps)
        else:
            rstd = ctx.rstd
            xhat = (x - ctx.mean) * rstd
        gh = grad * weight.reshape(ctx.shape) if weight is not None else grad
        gx = _input_grad(gh, xhat, rstd, axes, ctx.batch_stats) if dx is not None else None
        gw = _dual.sum(grad * xhat, axes, keepdims=False) if dw is not None else None
        gb = _dual.sum(grad, axes, keepdims=False) if db is not None else None
        return gx, gw, gb, None, None, None


class GroupNorm(Op):
    """Normalize each sample's channels in `groups` groups (C/groups consecutive channels and
    all their positions together), then scale and shift each channel."""

    _intermediates = ("xhat", "rstd")

    @staticmethod
    def forward(ctx, x, weight, bias, groups, eps):
        n, c = x.shape[:2]
        channel = (1, c) + (1,) * (x.ndim - 2)  # the shape that broadcasts a per-channel vector
        grouped = (n, groups, math.prod(x.shape[1:]) // groups)
        xhat, rstd, _, _ = _standardize(x.reshape(grouped), (2,), eps)
        ctx.save_for_backward(x, weight)
        ctx.xhat, ctx.rstd, ctx.eps, ctx.channel, ctx.grouped = xhat, rstd, eps, channel, grouped
        y = xhat.reshape(x.shape)
        y = y * weight.reshape(channel) if weight is not None else y.copy()
        if bias is not None:
            y += bias.reshape(channel)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        dx, dw, db = ctx._edges[:3]
        if _dual.is_array(grad):
            xhat, rstd = ctx.xhat, ctx.rstd
        else:  # create_graph: the statistics recomputed as ops
            xhat, rstd, _, _ = _standardize(x.reshape(ctx.grouped), (2,), ctx.eps)
        gh = grad * weight.reshape(ctx.channel) if weight is not None else grad
        gx = None
        if dx is not None:
            gx = _input_grad(gh.reshape(ctx.grouped), xhat, rstd, (2,), True).reshape(x.shape)
        axes = (0,) + tuple(range(2, x.ndim))  # all but the channels
        gw = _dual.sum(grad * xhat.reshape(x.shape), axes, keepdims=False) if dw is not None else None
        gb = _dual.sum(grad, axes, keepdims=False) if db is not None else None
        return gx, gw, gb, None, None


def _check_dtypes(op: str, input: Tensor, **tensors: Tensor | None) -> None:
    """PyTorch refuses to normalize a float64 input with float32 parameters (or the reverse)
    rather than compute in one of the two."""
    dtype = input._data.dtype
    for name, t in tensors.items():
        if t is not None and t._data.dtype != dtype:
            raise RuntimeError(
                f"mixed dtype (CPU): all inputs must share same datatype. ({op}: input is "
                f"{input.dtype}, {name} is {t.dtype}; convert the input with .float(), or the "
                "module with .double())"
            )


def _is_int(value: Any) -> bool:
    """An int, a NumPy integer or a 0-d integer tensor, and not a bool: what PyTorch takes as
    an element of a "tuple of ints"."""
    if isinstance(value, Tensor):
        return value._data.ndim == 0 and value._data.dtype.kind in "iu"
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def shape_tuple(normalized_shape: Sequence[int] | int) -> tuple:
    """The normalized_shape of a LayerNorm or RMSNorm layer as a tuple of ints: the layers, as
    PyTorch's, also take a single int n for (n,)."""
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
        return (int(normalized_shape),)
    shape = tuple(normalized_shape)
    for i, n in enumerate(shape):
        if not _is_int(n):
            raise TypeError(
                f"normalized_shape must be a tuple of ints, but found element of type {type(n).__name__} at pos {i}"
            )
    return tuple(int(n) for n in shape)


def _functional_shape(op: str, normalized_shape: Any) -> tuple:
    """The normalized_shape of F.layer_norm or F.rms_norm: a tuple, list or Size of ints only,
    as in PyTorch, whose functional forms (unlike its layers) refuse a single int."""
    if normalized_shape.__class__ is tuple and normalized_shape:  # (n,) or a layer's: the common case
        for n in normalized_shape:
            if n.__class__ is not int:
                break
        else:
            return normalized_shape
    if not isinstance(normalized_shape, (tuple, list)):  # Size is a tuple
        raise TypeError(
            f"{op}(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            f"{type(normalized_shape).__name__} (a single dimension n is written (n,))"
        )
    for i, n in enumerate(normalized_shape):
        if not _is_int(n):
            raise TypeError(
                f"{op}(): argument 'normalized_shape' (position 2) must be tuple of ints, but found "
                f"element of type {type(n).__name__} at pos {i}"
            )
    shape = tuple(int(n) for n in normalized_shape)
    if not shape:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
            "element, but got normalized_shape = []"
        )
    return shape


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the last len(normalized_shape) dimensions (torch.nn.functional.layer_norm)."""
    shape = _functional_shape("layer_norm", normalized_shape)
    k = len(shape)
    s = input._data.shape
    if s[len(s) - k :] != shape or len(s) < k:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*, {', '.join(map(str, shape))}], "
            f"but got input of size {list(s)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != shape:
            raise RuntimeError(
                f"layer_norm: {name} of shape {list(t.shape)} must have normalized_shape {list(shape)}"
            )
    _check_dtypes("layer_norm", input, weight=weight, bias=bias)  # first, as PyTorch
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(
            f'"layer_norm" not implemented for {input.dtype} input (convert it with .float())'
        )
    return LayerNorm.apply(input, weight, bias, tuple(range(len(s) - k, len(s))), eps)


def _check_per_channel(op: str, input: Tensor, mismatch: Any, **per_channel: Tensor | None) -> int:
    """The number of channels C of an (N, C, *) input, once each tensor of per_channel that is
    given has shape (C,) (else RuntimeError with mismatch(name, tensor, C)), the input is a
    float tensor, and all of them share its dtype."""
    s = input._data.shape
    if len(s) < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C, *), got {list(s)}")
    c = s[1]
    for name, t in per_channel.items():
        if t is not None and t._data.shape != (c,):
            raise RuntimeError(mismatch(name, t, c))
    # which check comes first is PyTorch's: group_norm's dtypes, batch and instance norm's kernel
    if op == "group_norm":
        _check_dtypes(op, input, **per_channel)
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(
            f'"{op}" not implemented for {input.dtype} input (convert it with .float())'
        )
    _check_dtypes(op, input, **per_channel)
    return c


def _check_running_pair(running_mean: Tensor | None, running_var: Tensor | None) -> None:
    # one running statistic without the other would be updated alone (PyTorch refuses it)
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")


def _update_running(
    running_mean: Tensor | None, running_var: Tensor | None, mean: Any, var: Any, momentum: float
) -> None:
    """Move each running statistic that is given towards the batch's, in place:
    r = momentum b + (1 - momentum) r (var is the unbiased variance, as PyTorch keeps),
    rounded as PyTorch's CPU kernel rounds: momentum and 1 - momentum in the statistic's
    dtype, and the variance's sum in float64."""
    for running, batch, wide in ((running_mean, mean, False), (running_var, var, True)):
        if running is not None:
            running._data[...] = _moved(running._data, batch, momentum, wide)
            bump_below_the_check(running)


def _moved(r: np.ndarray, batch: np.ndarray, momentum: float, wide: bool) -> np.ndarray:
    m = r.dtype.type(momentum)
    kept = (r.dtype.type(1) - m) * r
    if wide and r.dtype == np.float32:
        return (np.float64(m) * batch.astype(np.float64) + kept).astype(r.dtype)
    return m * batch + kept


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel of (N, C), (N, C, L) or (N, C, H, W) input (torch.nn.functional.batch_norm).

    In training, the batch statistics normalize and update running_mean and running_var
    in place: r = (1 - momentum) r + momentum b, with the unbiased variance, as PyTorch.
    """
    if eps < 0 or (training and eps == 0):  # a zero variance would divide by zero
        which = "positive during training" if training else "non-negative"
        raise ValueError(f"batch_norm eps must be {which}, but got {eps}")
    s = input._data.shape
    c = _check_per_channel(
        "batch_norm",
        input,
        lambda name, t, c: (
            f"batch_norm: {name} of shape {list(t.shape)} does not match the {c} channels of input {list(s)}"
        ),
        running_mean=running_mean,
        running_var=running_var,
        weight=weight,
        bias=bias,
    )
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be given when training=False")
        y, _, _ = BatchNorm.apply(input, weight, bias, running_mean._data, running_var._data, eps)
        return y
    count = input._data.size // c if c else 0
    if count == 0:  # an empty batch: an empty result, the running statistics unchanged (PyTorch)
        zeros = np.zeros(c, input._data.dtype)
        y, _, _ = BatchNorm.apply(input, weight, bias, zeros, zeros + 1, eps)
        return y
    if count == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.shape!r}"
        )
    _check_running_pair(running_mean, running_var)
    y, mean, squares = BatchNorm.apply(input, weight, bias, None, None, eps)
    squares = squares._data
    _update_running(running_mean, running_var, mean._data, squares / squares.dtype.type(count - 1), momentum)
    return y


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize (N, C, *) input over groups of C/num_groups channels (torch.nn.functional.group_norm)."""
    s = input._data.shape
    if len(s) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {len(s)}")
    # PyTorch's check, before the one below: the size it names is (N * C // G, G, *spatial)
    if num_groups > 0 and s[0] * s[1] // num_groups * math.prod(s[2:]) == 1:
        size = [s[0] * s[1] // num_groups, num_groups, *s[2:]]
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    if num_groups <= 0 or s[1] % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of "
            f"shape {list(s)} and num_groups={num_groups}"
        )
    _check_per_channel(
        "group_norm",
        input,
        lambda name, t, c: (
            f"Expected {name} to be a vector of size equal to the number of channels in input, but "
            f"got {name} of shape {list(t.shape)} and input of shape {list(s)}"
        ),
        weight=weight,
        bias=bias,
    )
    return GroupNorm.apply(input, weight, bias, num_groups, eps)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel of each sample of (N, C, *) input over its positions
    (torch.nn.functional.instance_norm).

    With use_input_stats, each sample's own statistics normalize (group_norm with one
    channel per group), and running_mean and running_var, when given, move towards their
    average over the batch: r = (1 - momentum) r + momentum mean_n(b), with the unbiased
    variance, as PyTorch. Without, the running statistics normalize, as batch_norm in eval.
    """
    s = input._data.shape
    count = math.prod(s[2:])
    if use_input_stats and count <= 1:  # checked first, as PyTorch's F.instance_norm does
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {input.shape!r}"
        )
    c = _check_per_channel(
        "instance_norm",
        input,
        lambda name, t, c: (
            f"{name} should contain {c} elements not {t.numel()} (instance_norm of input {list(s)})"
        ),
        running_mean=running_mean,
        running_var=running_var,
        weight=weight,
        bias=bias,
    )
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError(
                "Expected running_mean and running_var to be defined when use_input_stats is false"
            )
        # the node copies the running mean it reads, as PyTorch's instance_norm normalizes
        # with running_mean.repeat(n): changing them in place before backward raises nothing
        y, _, _ = BatchNorm.apply(input, weight, bias, running_mean._data, running_var._data, eps)
        return y
    _check_running_pair(running_mean, running_var)
    y = GroupNorm.apply(input, weight, bias, c, eps)
    if s[0] > 0 and running_mean is not None:
        # PyTorch runs a batch norm over the (1, N C, *) input with the running statistics
        # repeated N times, then averages the N updated copies: the same here, with the
        # statistics of batch_norm (bit for bit PyTorch's in float32)
        _, mean, squares = _batch_statistics(input._data.reshape(1, s[0] * c, count), (0, 2))
        dtype = squares.dtype.type
        means, variances = mean.reshape(s[0], c), squares.reshape(s[0], c) / dtype(count - 1)
        for running, batch, wide in ((running_mean, means, False), (running_var, variances, True)):
            running._data[...] = _moved(running._data, batch, momentum, wide).mean(0)
            bump_below_the_check(running)
    return y


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Tensor:
    """input / max(||input||_p, eps) along dim (torch.nn.functional.normalize)."""
    if out is not None:
        raise NotImplementedError("normalize: the out= argument is not supported")
    return input / norm(input, p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 along dim, each norm at least eps
    (torch.nn.functional.cosine_similarity).

    As PyTorch: x1 and x2 are broadcast first, so the norms are those of the broadcast
    tensors; integer inputs take the common floating dtype; each vector is divided by its
    norm before the product (no overflow, and |cos| <= 1); and the clamp at eps is invisible
    to the gradient, which is that of x / ||x|| at the clamped norm.
    """
    common = result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError(
            "expected common dtype to be floating point, yet common dtype is "
            f"{scalar_type_name(to_numpy_dtype(common))} (cosine_similarity: convert the inputs with .float())"
        )
    x1, x2 = (x if x.dtype == common else x.to(common) for x in (x1, x2))
    if x1.shape != x2.shape:
        x1, x2 = broadcast_tensors(x1, x2)
    norm1 = norm(x1, 2, dim, keepdim=True).clone()
    norm2 = norm(x2, 2, dim, keepdim=True).clone()
    with no_grad():
        norm1.clamp_min_(eps)
        norm2.clamp_min_(eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension (torch.nn.functional.pairwise_distance)."""
    return norm(x1 - x2 + eps, p, -1, keepdim)


# ---- RMSNorm and local response normalization -----------------------------------------------


def _root_mean_square(x: Any, axes: tuple, eps: float) -> tuple:
    """(xhat, rstd) with rstd = 1 / sqrt(mean(x^2) + eps) over axes (kept as size-1 dims) and
    xhat = x * rstd; on arrays, or on Tensors when a backward is itself differentiated."""
    n = int(np.prod([x.shape[a] for a in axes]))
    rstd = (_dual.sum(x * x, axes) / n + eps) ** -0.5
    return x * rstd, rstd


class RMSNorm(Op):
    """Divide by the root mean square over the trailing dimensions `axes`, then scale.

    LayerNorm without the centring: with the mean taken as 0, the closed-form backward
    loses its mean(gh) term, dx = rstd * (gh - xhat * mean(gh * xhat)), gh = dy * w.
    """

    _intermediates = ("xhat", "rstd")

    @staticmethod
    def forward(ctx, x, weight, axes, eps):
        xhat, rstd = _root_mean_square(x, axes, eps)
        ctx.save_for_backward(x, weight)
        ctx.xhat, ctx.rstd, ctx.axes, ctx.eps = xhat, rstd, axes, eps
        # without weight, a copy: an in-place change of y must not reach the saved xhat
        return xhat * weight if weight is not None else xhat.copy()

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        dx, dw = ctx._edges[:2]
        axes = ctx.axes
        if _dual.is_array(grad):
            xhat, rstd = ctx.xhat, ctx.rstd
        else:  # create_graph: rstd recomputed as ops, so that it is differentiated too
            xhat, rstd = _root_mean_square(x, axes, ctx.eps)
        gx = None
        if dx is not None:
            gh = grad * weight if weight is not None else grad
            n = int(np.prod([x.shape[a] for a in axes]))
            gx = (gh - xhat * (_dual.sum(gh * xhat, axes) / n)) * rstd
        # the engine sums the leading (batch) dimensions of the weight's gradient
        return gx, (grad * xhat if dw is not None else None), None, None


def rms_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """input / sqrt(mean(input^2) + eps) over the last len(normalized_shape) dimensions, times
    weight (torch.nn.functional.rms_norm); eps=None means the machine epsilon of input's dtype.

    A weight of another float dtype is converted to the input's, and so is the result, as in
    PyTorch (which warns that it cannot use its fused kernel then).
    """
    shape = _functional_shape("rms_norm", normalized_shape)
    k = len(shape)
    s = input._data.shape
    if len(s) < k or s[len(s) - k :] != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*, {', '.join(map(str, shape))}], "
            f"but got input of size {list(s)}"
        )
    if weight is not None and weight._data.shape != shape:
        raise RuntimeError(
            f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
            f"{list(weight.shape)} and normalized_shape = {list(shape)}"
        )
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(
            f'"rms_norm" not implemented for {input.dtype} input (convert it with .float())'
        )
    if weight is not None and weight._data.dtype != input._data.dtype:
        weight = weight.to(input.dtype)
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    return RMSNorm.apply(input, weight, tuple(range(len(s) - k, len(s))), eps)


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """Divide each channel of (N, C, *) input by (k + alpha * mean of the squares of `size`
    neighbouring channels)^beta (torch.nn.functional.local_response_norm).

    The window of channel c runs from c - size // 2 to c + (size - 1) // 2, with zeros past
    the edges that still count in the mean (it always divides by size), as in PyTorch.
    Composed from pad, slices and arithmetic: a rarely used layer, whose gradients of every
    order come from those ops.
    """
    if input.dim() < 3:
        raise ValueError(
            f"Expected 3D or higher dimensionality input (got {input.dim()} dimensions): "
            f"local_response_norm takes (N, C, *) input, got shape {list(input.shape)}"
        )
    if input.numel() == 0:
        return input
    if size <= 0:  # PyTorch's average pooling over the window refuses it
        raise RuntimeError(
            f"local_response_norm: kernel size should be greater than zero, but got size={size}"
        )
    c = input.shape[1]
    # (before, after) zeros on the channel dimension, the one after the batch: pad lists the
    # last dimension first
    widths = [0, 0] * (input.dim() - 2) + [size // 2, (size - 1) // 2]
    squares = pad(input * input, widths)
    window = squares[:, 0:c]
    for j in range(1, size):
        window = window + squares[:, j : j + c]
    return input / (window * (alpha / size) + k) ** beta
