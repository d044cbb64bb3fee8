"""Batching sequences of different lengths for the recurrent layers (torch.nn.utils.rnn)."""

from __future__ import annotations

from collections.abc import Sequence

from ember._tensor import Tensor
from ember.nn import functional as F
from ember.ops.api.shape import stack


def pad_sequence(
    sequences: Tensor | Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack tensors of shape (L_i, *) into one (L, B, *) tensor, or (B, L, *) with batch_first,
    L the longest L_i, padding each with padding_value after its end ('right') or before its
    start ('left') (torch.nn.utils.rnn.pad_sequence). Differentiable: each sequence's gradient
    is its own part of the result's."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    trailing = sequences[0].shape[1:]
    for s in sequences[1:]:
        if s.shape[1:] != trailing:
            raise RuntimeError(
                f"pad_sequence: every sequence must have the trailing shape {list(trailing)} of the first, "
                f"got {list(s.shape)}"
            )
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            # F.pad's widths run from the last dimension back; the sequence dimension is the first
            before, after = (missing, 0) if padding_side == "left" else (0, missing)
            s = F.pad(s, (0, 0) * len(trailing) + (before, after), value=padding_value)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)
