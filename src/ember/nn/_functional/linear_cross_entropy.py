"""linear_cross_entropy: a linear layer's logits and their cross-entropy in one call
(torch.nn.functional.linear_cross_entropy).

It is composed of the two fused nodes ember already has, `F.linear` (one matmul per
gradient) and `F.cross_entropy` (log-softmax and NLL in one stable node), so the values,
gradients and second derivatives are theirs. PyTorch's `options` select a chunked
computation that never holds the whole (N, C) logits; its results are those of the plain
computation up to rounding, so ember accepts the options and computes the plain way.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np

from ember._tensor import Tensor
from ember.nn._functional.layers import linear
from ember.nn._functional.loss import cross_entropy

if TYPE_CHECKING:
    from ember.nn.modules.linear_cross_entropy_options import LinearCrossEntropyOptions


def linear_cross_entropy(
    input: Tensor,
    linear_weight: Tensor,
    target: Tensor,
    *,
    linear_bias: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: LinearCrossEntropyOptions | None = None,
) -> Tensor:
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...)
    (torch.nn.functional.linear_cross_entropy).

    input (in_features,) or (N, in_features); linear_weight (C, in_features), or
    (C, d1, ..., dK, in_features) for a K-dimensional loss, whose logits (N, C, d1, ..., dK)
    are scored against a target (N, d1, ..., dK) of class indices, or class probabilities
    of the logits' shape. ignore_index None means -100 for class indices; it must stay
    None for probabilities. The other arguments are cross_entropy's; options (PyTorch's
    chunking settings) do not change what ember computes.
    """
    if input.ndim not in (1, 2):
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.ndim}")
    batch, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), got "
            f"{in_features} and {linear_weight.shape[-1]}, respectively"
        )
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(
            f"expected linear_bias shape {(num_classes, *out_features)}, got {tuple(linear_bias.shape)}"
        )
    if out_features and not batch:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires "
            f"batched input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}"
        )
    logits_shape = (*batch, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    if options is not None:
        _warn_unchunkable(options, target, reduction, label_smoothing, out_features, linear_bias)
    if out_features:  # one linear map onto C * d1 * ... * dK logits, then the logits' shape
        width = math.prod(out_features, start=num_classes)
        linear_weight = linear_weight.reshape(width, in_features)
        linear_bias = None if linear_bias is None else linear_bias.reshape(width)
    logits = linear(input, linear_weight, linear_bias)
    if out_features:
        logits = logits.reshape(logits_shape)
    return cross_entropy(
        logits,
        target,
        weight=weight,
        ignore_index=-100 if ignore_index is None else ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
    )


def _warn_unchunkable(
    options: LinearCrossEntropyOptions,
    target: Tensor,
    reduction: str,
    label_smoothing: float,
    out_features: tuple[int, ...],
    linear_bias: Tensor | None,
) -> None:
    """PyTorch warns that it ignores its options where its chunked computation does not
    apply; ember warns in the same cases, so that the same programs warn."""
    if reduction in ("mean", "sum", "none") and label_smoothing == 0.0:
        if target._data.dtype == np.int64 and not out_features:
            return
    warnings.warn(
        "linear_cross_entropy: `options` ignored; the chunked computation needs reduction in "
        "{'mean', 'sum', 'none'}, label_smoothing == 0, an int64 target and out_features == (). "
        f"Got reduction={reduction!r}, label_smoothing={label_smoothing}, target.dtype={target.dtype}, "
        f"out_features={out_features}, linear_bias.shape="
        f"{None if linear_bias is None else tuple(linear_bias.shape)}.",
        stacklevel=3,
    )
