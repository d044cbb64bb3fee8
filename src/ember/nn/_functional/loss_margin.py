"""Margin and embedding losses (torch.nn.functional.margin_ranking_loss, triplet_margin_loss,
multi_margin_loss, ...).

Each is composed from differentiable ops, in the order PyTorch computes it, so that the
gradients are PyTorch's, kinks included. Two kinds of kink occur, and PyTorch treats them
differently:

- the ranking, embedding and triplet losses clamp with clamp_min(0), whose gradient passes
  where the clamped value is exactly 0 (`x >= 0`);
- multi_margin_loss and multilabel_margin_loss have hand-written kernels in PyTorch that
  count a margin only where it is violated strictly (`x > 0`): relu's gradient, 0 at 0.

The losses whose target only selects a branch (hinge, cosine embedding) give it no
gradient; those where PyTorch refuses a gradient to an argument (soft_margin_loss's target,
multi_margin_loss's weight) refuse it with PyTorch's error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from ember._tensor import Tensor
from ember.dtypes import scalar_type_name
from ember.nn._functional.activation import logsigmoid, relu
from ember.nn._functional.loss import _broadcast, _not_differentiable, _reduce, _reduction
from ember.nn._functional.normalization import pairwise_distance
from ember.ops.api.arith import clamp_min, minimum
from ember.ops.elementwise import where

# ---- argument checks ----------------------------------------------------------------------------


def _check_triplet(
    op: str, margin: float, anchor: Tensor, positive: Tensor, negative: Tensor, check_margin: bool = True
) -> None:
    """The checks of both triplet losses: a positive margin (not checked by PyTorch's
    top-level torch.triplet_margin_loss), and inputs of one ndim."""
    if check_margin and margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin} ({op})")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
            f"{negative.ndim}D inputs ({op}: shapes {list(anchor.shape)}, {list(positive.shape)}, "
            f"{list(negative.shape)})"
        )


# ---- ranking and embedding losses -------------------------------------------------------------


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -target * (input1 - input2) + margin): target 1 asks input1 to rank above input2
    by margin, -1 below (torch.nn.functional.margin_ranking_loss)."""
    reduction = _reduction(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {list(input1.shape)}, input2: {list(input2.shape)}, target: {list(target.shape)} "
        )
    _broadcast("margin_ranking_loss", input1=input1.shape, input2=input2.shape, target=target.shape)
    return _reduce(clamp_min(-target * (input1 - input2) + margin, 0), reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """input where target is 1, max(0, margin - input) where target is -1
    (torch.nn.functional.hinge_embedding_loss); input is usually a distance.

    As in PyTorch, a target that is neither 1 nor -1 takes both terms."""
    reduction = _reduction(size_average, reduce, reduction)
    _broadcast("hinge_embedding_loss", input=input.shape, target=target.shape)
    zero: float = 0.0
    if input._data.dtype.kind in "biu":
        # PyTorch computes in the integer type, the margin truncated to it, and has no mean
        if reduction == "mean":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating point or "
                f"complex dtype. Got: {scalar_type_name(input._data.dtype)} (hinge_embedding_loss: "
                "convert the input with .float())"
            )
        margin, zero = int(margin), 0
    below_margin = where(target != 1, clamp_min(margin - input, 0), zero)
    return _reduce(below_margin + where(target != -1, input, zero), reduction)


# PyTorch's cosine_embedding_loss adds this to each squared norm, so that a zero vector gives
# a cosine of 0 rather than 0/0.
_COSINE_EPS = 1e-12


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where target is -1, the
    cosine along the last dimension (torch.nn.functional.cosine_embedding_loss). Inputs are
    (N, D) with target (N,), or (D,) with a 0-d target."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.ndim > 1:
        raise RuntimeError(
            "0D or 1D target tensor expected, multi-target not supported "
            f"(cosine_embedding_loss: target {list(target.shape)})"
        )
    expected = 2 if target.ndim == 1 else 1
    if input1.ndim != expected or input2.ndim != expected:
        raise RuntimeError(
            f"{target.ndim}D target tensor expects {expected}D input tensors, but found inputs with "
            f"sizes {list(input1.shape)} and {list(input2.shape)}. (cosine_embedding_loss)"
        )
    rows = _broadcast("cosine_embedding_loss", input1=input1.shape, input2=input2.shape)[:-1]
    _broadcast("cosine_embedding_loss", **{"the inputs' rows": rows, "target": target.shape})
    dim = target.ndim
    dot = (input1 * input2).sum(dim)
    squares1 = (input1 * input1).sum(dim) + _COSINE_EPS
    squares2 = (input2 * input2).sum(dim) + _COSINE_EPS
    cos = dot / (squares1 * squares2).sqrt()
    similar = where(target == 1, 1 - cos, 0.0)
    dissimilar = where(target == -1, clamp_min(cos - margin, 0), 0.0)
    return _reduce(similar + dissimilar, reduction)


# ---- triplet losses -----------------------------------------------------------------------------


def _triplet(
    distance: Callable[[Tensor, Tensor], Tensor],
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float,
    swap: bool,
) -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)); with swap, d(a, n) is the smaller of d(a, n) and
    d(p, n) (Balntas et al., 2016: the positive may be the harder anchor)."""
    dist_pos = distance(anchor, positive)
    dist_neg = distance(anchor, negative)
    if swap:
        dist_neg = minimum(dist_neg, distance(positive, negative))
    return clamp_min(margin + dist_pos - dist_neg, 0)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, margin + ||a - p|| - ||a - n||), the distances pairwise_distance's (p-norm of the
    difference plus eps, over the last dimension) (torch.nn.functional.triplet_margin_loss)."""
    reduction = _reduction(size_average, reduce, reduction)
    return _triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction, True)


def _triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float,
    p: float,
    eps: float,
    swap: bool,
    reduction: str,
    check_margin: bool,
) -> Tensor:
    """triplet_margin_loss; check_margin False for the top-level form, which takes any margin."""
    _check_triplet("triplet_margin_loss", margin, anchor, positive, negative, check_margin)
    _broadcast("triplet_margin_loss", anchor=anchor.shape, positive=positive.shape, negative=negative.shape)
    distance = functools.partial(pairwise_distance, p=p, eps=eps)
    return _reduce(_triplet(distance, anchor, positive, negative, margin, swap), reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """triplet_margin_loss with any distance, pairwise_distance by default
    (torch.nn.functional.triplet_margin_with_distance_loss)."""
    reduction = _reduction(None, None, reduction)
    _check_triplet("triplet_margin_with_distance_loss", margin, anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    return _reduce(_triplet(distance, anchor, positive, negative, margin, swap), reduction)


# ---- multi-class and multi-label margins ------------------------------------------------------


def _scores(input: Tensor, op: str) -> tuple[Tensor, int]:
    """input as (N, C) scores, and N; PyTorch takes (N, C), (C,) or a 0-d score (one class)."""
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(
            f"{op}: not implemented for '{scalar_type_name(input._data.dtype)}'; it takes floating point "
            "scores (use input.float())"
        )
    s = input.shape
    if not (len(s) == 2 and s[1] != 0 or len(s) == 1 and s[0] != 0 or len(s) == 0):
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(s)} ({op})"
        )
    x = input.reshape(1, -1) if len(s) < 2 else input
    return x, x.shape[0]


def _no_half(input: Tensor, op: str, kernel: str) -> None:
    """PyTorch's CPU kernels of the class-index margin losses take float32 and float64 only:
    float16 scores raise its NotImplementedError, once the shapes are checked."""
    if input._data.dtype == np.float16:
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for 'Half' ({op} takes float32 or float64 scores: use input.float())"
        )


def _long_target(target: Tensor, op: str) -> np.ndarray:
    t = target._data
    if t.dtype != np.int64:
        raise RuntimeError(
            f"expected scalar type Long but found {scalar_type_name(t.dtype)} ({op}: the target holds "
            "class indices; convert it with target.long())"
        )
    return t


def _per_sample(loss: Tensor, reduction: str, unbatched: bool) -> Tensor:
    """The reduction of one loss per sample, a 0-d 'none' for an unbatched input. The mean of
    an empty batch is nan, as any mean of nothing (PyTorch's kernels return uninitialised
    memory there: docs/differences.md)."""
    if reduction == "none" and unbatched:
        return loss.reshape(())
    return _reduce(loss, reduction)


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """sum over classes j != y of max(0, margin - x[y] + x[j])^p, divided by the number of
    classes, per sample, weight[y] scaling it (torch.nn.functional.multi_margin_loss). target
    holds one class index y per sample; p is 1 or 2."""
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError(f"only p == 1 and p == 2 supported (multi_margin_loss: got p={p})")
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"weight must be one-dimensional (multi_margin_loss: got {list(weight.shape)})")
    op = "multi_margin_loss"
    x, n = _scores(input, op)
    n_classes = x.shape[1]
    if target.ndim > 1 or target._data.size != n:
        raise RuntimeError(
            f"{op}: target tensor should be 1-D with size equal to the number of input samples (batch "
            f"size). Expected target size [{n}], but got {list(target.shape)}. Input has shape "
            f"{list(input.shape)}."
        )
    if n:  # an empty batch never reaches PyTorch's kernel
        _no_half(input, op, "multi_margin_loss_cpu_kernel")
    t = _long_target(target, op).reshape(n)
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        raise RuntimeError(f"target out of range ({op}: class indices must be in [0, {n_classes}))")
    if weight is not None:
        _not_differentiable(weight, op, "weight")
        if weight._data.size != n_classes:
            raise RuntimeError(
                f"inconsistent weight size, expected {n_classes} but got {list(weight.shape)} ({op}: one "
                "weight per class)"
            )
        if weight._data.dtype != x._data.dtype:
            raise RuntimeError(
                f"expected scalar type {scalar_type_name(x._data.dtype)} but found "
                f"{scalar_type_name(weight._data.dtype)} ({op}: convert the weight with .to(input.dtype))"
            )
    rows = np.arange(n)
    # relu: a margin met exactly (0) has no gradient, as in PyTorch's kernel
    violation = relu(margin - x.gather(1, Tensor(t[:, None])) + x)
    if p == 2:
        violation = violation * violation
    others = np.ones(x.shape, dtype=x._data.dtype)
    others[rows, t] = 0  # the target class is no competitor of itself
    if weight is not None:
        others *= weight._data[t][:, None]
    loss = (violation * others).sum(1) / n_classes
    return _per_sample(loss, reduction, target.ndim == 0)


def multilabel_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """sum over target classes j and non-target classes k of max(0, 1 - (x[j] - x[k])), divided
    by the number of classes, per sample (torch.nn.functional.multilabel_margin_loss).

    target has the input's shape and lists each sample's classes first, ended by -1 (or by
    the row's end); what follows the first -1 is ignored. A class listed twice counts twice,
    as in PyTorch.
    """
    reduction = _reduction(size_average, reduce, reduction)
    op = "multilabel_margin_loss"
    x, n = _scores(input, op)
    n_classes = x.shape[1]
    if input.ndim <= 1:
        consistent = target.ndim <= 1 and target._data.size == n_classes
    else:
        consistent = target.shape == input.shape
    if not consistent:
        raise RuntimeError(
            f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)} "
            f"({op}: the target has the input's shape)"
        )
    # PyTorch checks the range of a Long target, then the scores' dtype, then the target's
    kernel = "multilabel_margin_loss_forward_out_frame"
    if target._data.dtype != np.int64:
        _no_half(input, op, kernel)
    t = _long_target(target, op).reshape(n, n_classes)
    if t.size and (t.min() < -1 or t.max() >= n_classes):
        raise RuntimeError(
            f"argument #2 'target' is out of range ({op}: class indices must be in [0, {n_classes}), "
            "or -1 to end the list)"
        )
    _no_half(input, op, kernel)
    listed = np.logical_and.accumulate(t >= 0, axis=1)  # the entries before the first -1
    is_target = np.zeros(x.shape, dtype=bool)
    is_target[np.nonzero(listed)[0], t[listed]] = True
    # the listed classes are each row's first `width` entries: gather their scores, (N, width)
    width = int(listed.sum(1).max()) if n else 0
    chosen = x.gather(1, Tensor(np.where(listed[:, :width], t[:, :width], 0)))
    # one margin per (listed class j, class k), (N, width, C), counted where k is no target
    violation = relu(1 - chosen.unsqueeze(2) + x.unsqueeze(1))
    counted = (listed[:, :width, None] & ~is_target[:, None, :]).astype(x._data.dtype)
    loss = (violation * counted).sum((1, 2)) / n_classes
    return _per_sample(loss, reduction, input.ndim <= 1)


# ---- logistic margins ---------------------------------------------------------------------------


def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """log(1 + exp(-target * input)), the logistic loss of labels 1 and -1
    (torch.nn.functional.soft_margin_loss); the loss has the input's shape and dtype.

    Computed as -logsigmoid(target * input), which stays finite where PyTorch's
    log1p(exp(...)) overflows to inf (docs/differences.md)."""
    reduction = _reduction(size_average, reduce, reduction)
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"soft_margin_loss: expected a floating point input, got {input.dtype}")
    if _broadcast("soft_margin_loss", input=input.shape, target=target.shape) != input.shape:
        raise RuntimeError(
            f"soft_margin_loss: target of shape {list(target.shape)} does not broadcast to the input's "
            f"shape {list(input.shape)}"
        )
    _not_differentiable(target, "soft_margin_loss", "target")
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    return _reduce(-logsigmoid(target * input), reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy of logits against 0/1 targets, averaged over the classes (the last
    dimension), one loss per sample (torch.nn.functional.multilabel_soft_margin_loss)."""
    reduction = _reduction(size_average, reduce, reduction, legacy=False)
    if input.ndim == 0:
        raise IndexError(
            "Dimension specified as -1 but tensor has no dimensions (multilabel_soft_margin_loss: "
            "the input needs a class dimension)"
        )
    shapes = {"input": input.shape, "target": target.shape}
    if weight is not None:
        shapes["weight"] = weight.shape
    _broadcast("multilabel_soft_margin_loss", **shapes)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(input.ndim - 1) / input.shape[-1], reduction)
