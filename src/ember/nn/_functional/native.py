"""The functions PyTorch exposes at its top level under their ATen names and signatures
(torch.embedding, torch.kl_div, torch.convolution, torch.native_layer_norm, torch.grid_sampler,
...), written over their ember.nn.functional counterparts; ember/__init__.py exports them.

What sets them apart from the functional forms:

- the losses take `reduction` as ATen's integer (0 none, 1 mean, 2 sum), not a string;
- embedding takes the weight first; embedding_bag returns four tensors;
- grid_sampler takes its modes as integers (0 bilinear, 1 nearest, 2 bicubic; 0 zeros,
  1 border, 2 reflection);
- the native_* normalizations also return the statistics they computed (mean and the
  reciprocal standard deviation), as tensors outside the graph: they are what a backward
  would save, not values to differentiate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.nn._functional import embedding_bag as _bag
from ember.nn._functional import layers, loss, loss_ctc, normalization, shuffle
from ember.ops import conv, sample
from ember.ops.api.reduce import norm

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(op: str, reduction: Any) -> str:
    """ATen's reduction enum as the functional forms' string."""
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(f"{op}(): argument 'reduction' must be int, not {type(reduction).__name__}")
    if reduction not in (0, 1, 2):
        raise ValueError(f"{op}: {reduction} is not a valid reduction (0 none, 1 mean, 2 sum)")
    return _REDUCTIONS[reduction]


# ---- embeddings ---------------------------------------------------------------------------


def embedding(
    weight: Tensor,
    indices: Tensor,
    padding_idx: int = -1,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """weight[indices], the rows looked up (torch.embedding: F.embedding with the weight
    first; a negative padding_idx means none)."""
    pad = None if padding_idx < 0 else padding_idx
    return layers.embedding(indices, weight, pad, None, 2.0, scale_grad_by_freq, sparse)


def embedding_renorm_(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> Tensor:
    """Scale, in place and outside the graph, the rows of weight that indices name whose
    norm_type-norm exceeds max_norm down to max_norm; return weight (torch.embedding_renorm_)."""
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    with no_grad():
        layers._renorm_rows(weight, idx.reshape(-1), max_norm, norm_type)
    return weight


def embedding_bag(
    weight: Tensor,
    indices: Tensor,
    offsets: Tensor,
    scale_grad_by_freq: bool = False,
    mode: int = 0,
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The bags of F.embedding_bag (mode 0 sum, 1 mean, 2 max) and the bookkeeping PyTorch
    returns with them: (output, offset2bag, bag_size, max_indices), where offset2bag is each
    index's bag, bag_size each bag's number of (non-padding) indices (zeros in mode sum) and
    max_indices, in mode max, the row each maximum came from (bag_size again in mode mean,
    zeros in mode sum) (torch.embedding_bag)."""
    if mode not in (0, 1, 2):
        raise ValueError(f"embedding_bag: mode must be 0 (sum), 1 (mean) or 2 (max), got {mode}")
    if indices.ndim != 1:  # PyTorch's kernel misreads them (it can crash); F.embedding_bag takes 2-D bags
        raise RuntimeError(
            f"embedding_bag: indices must be 1-D with offsets here, got shape {list(indices.shape)}; "
            "F.embedding_bag takes 2-D bags of equal size"
        )
    out = _bag.embedding_bag(
        indices,
        weight,
        offsets,
        None,
        2,
        scale_grad_by_freq,
        ("sum", "mean", "max")[mode],
        sparse,
        per_sample_weights,
        include_last_offset,
        padding_idx,
    )
    idx = indices._data.astype(np.int64)
    starts = offsets._data.astype(np.int64)
    bags = out.shape[0]
    offset2bag = np.searchsorted(starts[:bags], np.arange(len(idx)), side="right") - 1
    counted = idx != (-1 if padding_idx is None else padding_idx % weight.shape[0])
    bag_size = np.bincount(offset2bag[counted], minlength=bags).astype(np.int64)
    if mode == 0:  # a sum keeps no counts: PyTorch returns zeros
        zeros = np.zeros(len(starts), np.int64)
        return out, Tensor(offset2bag.astype(np.int64)), Tensor(zeros), Tensor(zeros.copy())
    if mode == 1:
        return out, Tensor(offset2bag.astype(np.int64)), Tensor(bag_size), Tensor(bag_size.copy())
    rows = weight._data[idx]
    max_indices = np.zeros(out.shape, np.int64)
    for b in range(bags):
        members = np.nonzero((offset2bag == b) & counted)[0]
        if members.size:
            max_indices[b] = idx[members[np.argmax(rows[members], axis=0)]]
    return out, Tensor(offset2bag.astype(np.int64)), Tensor(bag_size), Tensor(max_indices)


# ---- losses with ATen's integer reduction -------------------------------------------------
# (default 0, no reduction, as PyTorch 2.13's Python functions have it; see loss_toplevel.py)


def kl_div(input: Tensor, target: Tensor, reduction: int = 0, *, log_target: bool = False) -> Tensor:
    """F.kl_div with the reduction as an integer; 1 (mean) averages over every element, with
    no warning (torch.kl_div)."""
    name = _reduction("kl_div", reduction)
    pointwise = loss.kl_div(input, target, reduction="none", log_target=log_target)
    return pointwise if name == "none" else pointwise.mean() if name == "mean" else pointwise.sum()


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    pos_weight: Tensor | None = None,
    reduction: int = 0,
) -> Tensor:
    """F.binary_cross_entropy_with_logits with the reduction as an integer
    (torch.binary_cross_entropy_with_logits)."""
    name = _reduction("binary_cross_entropy_with_logits", reduction)
    return loss.binary_cross_entropy_with_logits(input, target, weight, reduction=name, pos_weight=pos_weight)


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: int = 0,
    zero_infinity: bool = False,
) -> Tensor:
    """F.ctc_loss with the reduction as an integer (torch.ctc_loss)."""
    name = _reduction("ctc_loss", reduction)
    return loss_ctc.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, name, zero_infinity)


# ---- padding and convolution --------------------------------------------------------------


def constant_pad_nd(input: Tensor, pad: Sequence[int], value: float = 0) -> Tensor:
    """Pad (or, with negative amounts, crop) the last len(pad) // 2 dimensions with value
    (torch.constant_pad_nd, F.pad's constant mode)."""
    return layers.pad(input, pad, "constant", value)


def _int_list(op: str, name: str, value: Any, nd: int) -> tuple:
    if isinstance(value, int) or not all(isinstance(v, int) for v in value):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not {type(value).__name__}")
    if len(value) == 1:
        return tuple(value) * nd
    if len(value) != nd:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {nd} values to match the "
            f"convolution dimensions, but got {name}={list(value)}"
        )
    return tuple(value)


def convolution(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    transposed: bool,
    output_padding: Sequence[int],
    groups: int,
) -> Tensor:
    """The N-d convolution, or transposed convolution, that weight's rank selects: conv1d,
    conv2d or conv3d (or their conv_transpose) with every argument given (torch.convolution)."""
    nd = weight.ndim - 2
    if nd not in (1, 2, 3):
        raise RuntimeError(
            f"convolution: weight should have 3, 4 or 5 dimensions (1-, 2- or 3-d), got {list(weight.shape)}"
        )
    stride, padding, dilation, output_padding = (
        _int_list("convolution", name, value, nd)
        for name, value in (
            ("stride", stride),
            ("padding", padding),
            ("dilation", dilation),
            ("output_padding", output_padding),
        )
    )
    if transposed:
        fn = (conv.conv_transpose1d, conv.conv_transpose2d, conv.conv_transpose3d)[nd - 1]
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    if any(output_padding):
        raise RuntimeError("convolution: output_padding is only supported for transposed convolutions")
    fn = (conv.conv1d, conv.conv2d, conv.conv3d)[nd - 1]
    return fn(input, weight, bias, stride, padding, dilation, groups)


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:
    """A 1-d convolution laid out time, batch, channel: input (T, B, C_in), weight
    (K, C_in, C_out), bias (C_out,), `pad` zeros at both ends of time; returns (T', B, C_out)
    (torch.conv_tbc, fairseq's layout)."""
    if not isinstance(bias, Tensor):
        raise TypeError(f"conv_tbc(): argument 'bias' (position 3) must be Tensor, not {type(bias).__name__}")
    if input.ndim != 3 or weight.ndim != 3 or bias.ndim != 1:
        raise RuntimeError(
            "conv_tbc: input must be 3-D (time, batch, channels), weight 3-D (kernel, in, out) and "
            f"bias 1-D, got {list(input.shape)}, {list(weight.shape)} and {list(bias.shape)}"
        )
    if input.shape[2] != weight.shape[1] or bias.shape[0] != weight.shape[2]:
        raise RuntimeError(
            f"conv_tbc: input has {input.shape[2]} channels and bias {bias.shape[0]} values, but weight "
            f"{list(weight.shape)} expects {weight.shape[1]} and {weight.shape[2]}"
        )
    out = conv.conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, 1, pad)
    return out.permute(2, 0, 1).contiguous()  # contiguous, as PyTorch's


# ---- normalizations returning their statistics --------------------------------------------


def _stats(x: np.ndarray, axes: tuple, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and 1 / sqrt(biased variance + eps) over axes, kept as size-1 dims."""
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return mean, (1 / np.sqrt(var + eps)).astype(x.dtype)


def native_layer_norm(
    input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None, bias: Tensor | None, eps: float
) -> tuple[Tensor, Tensor, Tensor]:
    """F.layer_norm and its statistics: (output, mean, rstd), the two with the normalized
    dimensions kept as size 1 (torch.native_layer_norm)."""
    out = normalization.layer_norm(input, normalized_shape, weight, bias, eps)
    k = len(normalized_shape)
    mean, rstd = _stats(input._data, tuple(range(input.ndim - k, input.ndim)), eps)
    return out, Tensor(mean), Tensor(rstd)


def native_batch_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """F.batch_norm (updating the running statistics when training) and the batch's
    statistics: (output, save_mean, save_invstd), each (C,) when training and empty otherwise
    (torch.native_batch_norm)."""
    out = normalization.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        empty = np.zeros(0, input._data.dtype)
        return out, Tensor(empty), Tensor(empty.copy())
    mean, rstd = _stats(input._data, (0, *range(2, input.ndim)), eps)
    return out, Tensor(mean.reshape(-1)), Tensor(rstd.reshape(-1))


def batch_norm_update_stats(
    input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, momentum: float
) -> tuple[Tensor, Tensor]:
    """The batch's per-channel mean and biased variance over every dimension but 1, and the
    running statistics moved towards them in place (the variance by its unbiased form), as
    batch_norm in training does (torch.batch_norm_update_stats, SyncBatchNorm's helper)."""
    normalization._check_running_pair(running_mean, running_var)
    x = input._data
    axes = (0, *range(2, x.ndim))
    mean = x.mean(axis=axes)
    var = ((x - mean.reshape(-1, *[1] * (x.ndim - 2))) ** 2).mean(axis=axes)
    count = x.size // x.shape[1]
    normalization._update_running(
        running_mean, running_var, mean, var * (count / max(count - 1, 1)), momentum
    )
    return Tensor(mean.astype(x.dtype)), Tensor(var.astype(x.dtype))


def native_group_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    N: int,
    C: int,
    HxW: int,
    group: int,
    eps: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """F.group_norm and its statistics: (output, mean, rstd), the two (N, group); N, C and HxW
    must describe input's shape (torch.native_group_norm)."""
    if N * C * HxW != input.numel() or input.shape[:2] != (N, C):
        raise RuntimeError(
            f"native_group_norm: N={N}, C={C}, HxW={HxW} do not describe input of shape {list(input.shape)}"
        )
    out = normalization.group_norm(input, group, weight, bias, eps)
    grouped = input._data.reshape(N, group, -1)
    mean, rstd = _stats(grouped, (2,), eps)
    return out, Tensor(mean.reshape(N, group)), Tensor(rstd.reshape(N, group))


def native_dropout(input: Tensor, p: float, train: bool | None) -> tuple[Tensor, Tensor]:
    """Dropout and its mask: (output, keep), keep True where the element was kept; when train
    is False the output is the input and keep is all True (torch.native_dropout)."""
    layers._check_p(p)
    if train is False:
        return input.clone(), Tensor(np.ones(input._data.shape, np.bool_))
    mask = layers._dropout_mask(input, p, input._data.shape)
    return input * mask, Tensor(mask._data != 0)


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The pow-norm of v over every dimension but dim, keeping them as size 1; over all of v
    (a 0-d result) when dim is -1 (torch.norm_except_dim, weight normalization's norm)."""
    if dim == -1:
        return norm(v, pow)
    others = tuple(d for d in range(v.ndim) if d != dim % max(v.ndim, 1))
    if not others:
        return v.abs()
    return norm(v, pow, others, keepdim=True)


def native_channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """F.channel_shuffle (torch.native_channel_shuffle)."""
    return shuffle.channel_shuffle(input, groups)


# ---- sampling grids with integer modes ----------------------------------------------------

_INTERPOLATION = ("bilinear", "nearest", "bicubic")
_PADDING = ("zeros", "border", "reflection")


def grid_sampler(
    input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int, align_corners: bool
) -> Tensor:
    """F.grid_sample with its modes as integers: interpolation 0 bilinear, 1 nearest,
    2 bicubic; padding 0 zeros, 1 border, 2 reflection (torch.grid_sampler)."""
    if interpolation_mode not in (0, 1, 2) or padding_mode not in (0, 1, 2):
        raise ValueError(
            f"grid_sampler: interpolation_mode must be 0, 1 or 2 and padding_mode 0, 1 or 2, got "
            f"{interpolation_mode} and {padding_mode}"
        )
    return sample.grid_sample(
        input, grid, _INTERPOLATION[interpolation_mode], _PADDING[padding_mode], align_corners
    )


def _grid_sampler_nd(nd: int) -> Any:
    def grid_sampler_nd(
        input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int, align_corners: bool
    ) -> Tensor:
        if input.ndim != nd + 2:
            raise RuntimeError(
                f"grid_sampler_{nd}d(): expected {nd + 2}-D input, got input of shape {list(input.shape)}"
            )
        return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)

    grid_sampler_nd.__name__ = grid_sampler_nd.__qualname__ = f"grid_sampler_{nd}d"
    grid_sampler_nd.__doc__ = f"grid_sampler for a {nd + 2}-D input only (torch.grid_sampler_{nd}d)."
    return grid_sampler_nd


grid_sampler_2d = _grid_sampler_nd(2)
grid_sampler_3d = _grid_sampler_nd(3)


def affine_grid_generator(theta: Tensor, size: Sequence[int], align_corners: bool) -> Tensor:
    """F.affine_grid with align_corners required (torch.affine_grid_generator)."""
    return sample.affine_grid(theta, list(size), align_corners)
