"""ctc_loss: the connectionist temporal classification loss (torch.nn.functional.ctc_loss).

The arguments are checked and brought to one layout here: log_probs (T, N, C), targets
padded to (N, S), the lengths as int64 arrays. The forward-backward recursion and its
gradient are one node in ember.ops.ctc; the reduction is composed after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.nn._functional.loss import _reduction
from ember.ops.ctc import CTCLoss


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """The CTC loss of log-probabilities (T, N, C) (or (T, C) unbatched) against targets
    (torch.nn.functional.ctc_loss).

    log_probs are expected to come from log_softmax over the classes; targets are padded
    (N, S) or all concatenated in one 1-D tensor, of classes other than `blank`;
    input_lengths and target_lengths (tensors or sequences of ints, one per sample) say how
    many frames and labels of each sample count. reduction='mean' divides each sample's loss
    by its target length (at least 1), then averages over the batch, as PyTorch;
    zero_infinity replaces the infinite losses of impossible alignments (and their
    gradients) by zeros.
    """
    reduction = _reduction(None, None, reduction)
    if log_probs._data.dtype.kind not in "fV":
        raise NotImplementedError(
            f'"ctc_loss" not implemented for {log_probs.dtype} log_probs (convert them with .float())'
        )
    unbatched = log_probs.dim() == 2
    if log_probs.dim() not in (2, 3):
        raise RuntimeError(
            f"ctc_loss: expected log_probs of shape (T, N, C) or (T, C), got {list(log_probs.shape)}"
        )
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    t_max, n, c = lp.shape
    if lp.numel() == 0:
        raise RuntimeError(f"log_probs tensor must not be empty (ctc_loss got shape {list(log_probs.shape)})")
    if not 0 <= blank < c:
        raise RuntimeError(f"blank must be in label range (blank={blank} for {c} classes)")
    input_lengths = _lengths(input_lengths, "input_lengths", n)
    target_lengths = _lengths(target_lengths, "target_lengths", n)
    for name, values in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
        if values.size and values.min() < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {values.min()}")
    if input_lengths.size and input_lengths.max() > t_max:
        raise RuntimeError(
            f"Expected input_lengths to have value at most {t_max}, but got value {input_lengths.max()}"
        )
    padded = _padded_targets(targets, target_lengths, n, unbatched)
    if padded.size and (padded.min() < 0 or padded.max() >= c):
        raise RuntimeError(
            f"ctc_loss: targets must be classes in [0, {c}), got {padded.min()}..{padded.max()}"
        )
    losses = CTCLoss.apply(lp, padded, input_lengths, target_lengths, blank, zero_infinity)
    if unbatched:
        losses = losses.squeeze(0)
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        divisor = Tensor(np.maximum(target_lengths, 1).astype(lp._data.dtype))
        return (losses / (divisor.squeeze(0) if unbatched else divisor)).mean()
    return losses


def _lengths(values: Any, name: str, n: int) -> np.ndarray:
    """One length per sample as an int64 array (a tensor, a sequence or, unbatched, an int)."""
    data = values._data if isinstance(values, Tensor) else np.asarray(values)
    if data.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss: {name} must hold integers, got {data.dtype}")
    data = data.astype(np.int64).reshape(-1)
    if data.size != n:
        raise RuntimeError(f"{name} must be of size batch_size ({n} samples, got {data.size} lengths)")
    return data


def _padded_targets(targets: Tensor, target_lengths: np.ndarray, n: int, unbatched: bool) -> np.ndarray:
    """The targets as an (N, S) array: 1-D targets of a batch are the concatenation of every
    sample's labels and are cut at the target lengths; padded ones must hold them."""
    data = targets._data if isinstance(targets, Tensor) else np.asarray(targets)
    data = data.astype(np.int64)
    s_max = int(target_lengths.max()) if target_lengths.size else 0
    if unbatched:  # one sample's labels, padded or not
        data = data.reshape(1, -1)
    if data.ndim == 1:  # concatenated
        total = int(target_lengths.sum())
        if data.shape[0] != total:
            raise RuntimeError(
                f"Expected tensor to have size {total} at dimension 0, but got size {data.shape[0]} for "
                "argument #2 'targets' (concatenated targets must hold sum(target_lengths) labels)"
            )
        padded = np.zeros((n, s_max), dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(target_lengths)[:-1]))
        for i in range(n):
            padded[i, : target_lengths[i]] = data[starts[i] : starts[i] + target_lengths[i]]
        return padded
    if data.ndim != 2 or data.shape[0] != n:
        raise RuntimeError(
            f"ctc_loss: expected targets of shape (N, S) or (sum(target_lengths),), got {list(data.shape)}"
        )
    if data.shape[1] < s_max:
        raise RuntimeError(
            f"Expected tensor to have size at least {s_max} at dimension 1, but got size {data.shape[1]} "
            "for argument #2 'targets' (the padded targets are shorter than the longest target length)"
        )
    # labels past each target length are padding: only their layout matters, not their values
    keep = np.arange(s_max) < target_lengths[:, None]
    return np.where(keep, data[:, :s_max], 0)
