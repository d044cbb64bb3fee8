"""Batching sequences of different lengths for the recurrent layers (torch.nn.utils.rnn).

Two layouts hold a batch of sequences of lengths L_0, ..., L_{B-1}:

* padded: one (T, B, *) tensor ((B, T, *) with batch_first), T the longest length, the
  steps after a sequence's end filled with a padding value;
* packed (PackedSequence): only the valid steps, time step by time step. The sequences are
  first ordered by decreasing length, so at step t the sequences still running are the
  first batch_sizes[t] of that order, and `data` holds step 0 of each of them, then step 1
  of each sequence still running, and so on: sum(L_i) rows, no padding.

The recurrent layers take a PackedSequence and run, at step t, only the batch_sizes[t]
rows still active. Packing and unpadding are one gather each (index_select with an index
worked out in NumPy from the lengths), so gradients flow back from the packed data to the
padded tensor and the other way, and second derivatives come for free.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from ember import creation, dtypes
from ember._tensor import Tensor
from ember.nn import functional as F
from ember.ops.api.indexing import index_select
from ember.ops.api.shape import cat, stack

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


def _long(values: Any) -> Tensor:
    """A CPU int64 tensor of `values` (batch sizes, lengths, permutations)."""
    return Tensor(np.asarray(values, dtype=np.int64))


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation q with q[p[i]] = i, or None for None (torch.nn.utils.rnn.invert_permutation):
    turns a PackedSequence's sorted_indices into its unsorted_indices."""
    if permutation is None:
        return None
    p = np.asarray(permutation._data if isinstance(permutation, Tensor) else permutation)
    inverse = np.empty_like(p, dtype=np.int64)
    inverse[p] = np.arange(p.size)
    return _long(inverse)


# The four fields as a plain named tuple; PackedSequence adds the constructor and conversions.
_PackedSequenceFields = namedtuple(
    "PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"]
)


class PackedSequence(_PackedSequenceFields):
    """A batch of sequences of different lengths without padding (torch.nn.utils.rnn.PackedSequence).

    A named tuple (data, batch_sizes, sorted_indices, unsorted_indices): `data` is (sum of
    the lengths, *), the valid steps time step by time step; `batch_sizes[t]` is how many
    sequences are longer than t; `sorted_indices[k]` is the position in the original batch
    of the k-th longest sequence (None when the batch was already sorted), and
    `unsorted_indices` its inverse. Made by pack_padded_sequence and pack_sequence rather
    than by hand; PackedSequence(data, batch_sizes, sorted_indices) fills in the inverse.
    """

    __slots__ = ()

    def __new__(
        cls,
        data: Tensor | tuple[Tensor, Tensor],
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            # PackedSequence((data, batch_sizes)), as the old API's pair.
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    # ember has one device, so only the dtype of `data` ever changes; batch_sizes and the
    # permutations stay int64.

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same sequences with `data` converted as Tensor.to does; self when nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self.to("cuda", *args, **kwargs)  # raises: ember runs on the CPU

    def cpu(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self.to("cpu")

    def pin_memory(self) -> PackedSequence:
        """self: ember's tensors live in ordinary memory, which is all there is to pin."""
        return self

    def is_pinned(self) -> bool:
        return False

    @property
    def is_cuda(self) -> bool:
        return False

    def double(self) -> PackedSequence:
        return self.to(dtypes.float64)

    def float(self) -> PackedSequence:
        return self.to(dtypes.float32)

    def half(self) -> PackedSequence:
        return self.to(dtypes.float16)

    def long(self) -> PackedSequence:
        return self.to(dtypes.int64)

    def int(self) -> PackedSequence:
        return self.to(dtypes.int32)

    def short(self) -> PackedSequence:
        return self.to(dtypes.int16)

    def char(self) -> PackedSequence:
        return self.to(dtypes.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtypes.uint8)


def _lengths_array(lengths: Tensor | Sequence[int]) -> np.ndarray:
    """lengths (a list or a tensor of any dtype) as a 1-D int64 array, as PyTorch converts them."""
    values = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
    if values.ndim != 1:
        raise RuntimeError(
            f"'lengths' argument should be a 1D CPU int64 tensor, but got {values.ndim}D cpu Long tensor"
        )
    return values.astype(np.int64)


def _packed_positions(batch_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of packed data, its time step t and its rank k in the sorted batch."""
    steps = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    starts = np.cumsum(batch_sizes) - batch_sizes  # the first row of each step
    return steps, np.arange(steps.size) - np.repeat(starts, batch_sizes)


def pack_padded_sequence(
    input: Tensor,
    lengths: Tensor | Sequence[int],
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded (T, B, *) batch, or (B, T, *) with batch_first, of sequences of the
    given lengths into a PackedSequence (torch.nn.utils.rnn.pack_padded_sequence).

    With enforce_sorted the lengths must already decrease; otherwise the sequences are
    sorted here (longest first, ties kept in order) and the PackedSequence remembers the
    permutation, so that pad_packed_sequence and the recurrent layers' h_n give the
    sequences back in the original order. Steps past a sequence's length are dropped.
    Differentiable with respect to input.
    """
    lengths_np = _lengths_array(lengths)
    if input.ndim < 2:
        raise IndexError(
            f"pack_padded_sequence: Dimension out of range (expected to be in range of [-1, 0], but got 1): "
            f"the input must be (T, B, *) or (B, T, *), got shape {list(input.shape)}"
        )
    steps_dim, batch_dim = (1, 0) if batch_first else (0, 1)
    batch, steps = input.shape[batch_dim], input.shape[steps_dim]
    if lengths_np.size != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths_np.size} (batch_size={batch})"
        )
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if enforce_sorted:
        if np.any(np.diff(lengths_np) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                "if you do not need ONNX exportability."
            )
        order = np.arange(batch)
    else:
        order = np.argsort(-lengths_np, kind="stable")
    if lengths_np.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if lengths_np.max() > steps:
        raise RuntimeError(
            f"pack_padded_sequence: a sequence of length {lengths_np.max()} does not fit in the input's "
            f"{steps} time steps (input shape {list(input.shape)}, batch_first={batch_first})"
        )

    sorted_lengths = lengths_np[order]
    # batch_sizes[t] = how many sequences are longer than t
    batch_sizes = (sorted_lengths[None, :] > np.arange(sorted_lengths[0])[:, None]).sum(1)
    t, k = _packed_positions(batch_sizes)
    b = order[k]  # the column of the input each packed row comes from
    rows = b * steps + t if batch_first else t * batch + b
    data = index_select(input.reshape(batch * steps, *input.shape[2:]), 0, rows)
    sorted_indices = None if enforce_sorted else _long(order)
    return PackedSequence(data, _long(batch_sizes), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo pack_padded_sequence: return (padded, lengths), padded of shape (T, B, *), or
    (B, T, *) with batch_first, T the longest length or total_length, in the batch's
    original order, and lengths a CPU int64 tensor in that order
    (torch.nn.utils.rnn.pad_packed_sequence). Differentiable with respect to the data."""
    data = sequence.data
    batch_sizes = np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    longest = batch_sizes.size
    if total_length is not None:
        if total_length < longest:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {longest}"
            )
        longest = total_length
    batch = int(batch_sizes[0])
    # column of the output for the k-th longest sequence: sorted_indices[k], the inverse of
    # unsorted_indices (the output's column j holds the unsorted_indices[j]-th longest)
    unsorted = sequence.unsorted_indices
    column = np.arange(batch) if unsorted is None else np.asarray(invert_permutation(unsorted)._data)
    t, k = _packed_positions(batch_sizes)
    b = column[k]
    # every position of the output reads a row of data, or the extra padding row past its end
    rows = np.full(batch * longest, data.shape[0], dtype=np.int64)
    rows[b * longest + t if batch_first else t * batch + b] = np.arange(data.shape[0])
    padding = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    padded = index_select(cat([data, padding], 0), 0, rows)
    shape = (batch, longest) if batch_first else (longest, batch)
    sorted_lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    lengths = np.empty(batch, dtype=np.int64)
    lengths[column] = sorted_lengths
    return padded.reshape(*shape, *data.shape[1:]), _long(lengths)


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
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
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


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    """Split a padded (T, B, *) batch, or (B, T, *) with batch_first, into the list of its B
    sequences, the i-th cut to lengths[i] steps (torch.nn.utils.rnn.unpad_sequence).
    Unlike PyTorch's, the input is left as it was (PyTorch transposes it in place)."""
    lengths_np = _lengths_array(lengths)
    batch_dim = 0 if batch_first else 1
    if lengths_np.size != padded_sequences.shape[batch_dim]:
        raise RuntimeError(
            f"unpad_sequence: got {lengths_np.size} lengths for a batch of {padded_sequences.shape[batch_dim]} "
            f"sequences (input shape {list(padded_sequences.shape)}, batch_first={batch_first})"
        )
    if batch_first:
        return [padded_sequences[i, :n] for i, n in enumerate(lengths_np.tolist())]
    return [padded_sequences[:n, i] for i, n in enumerate(lengths_np.tolist())]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors of shape (L_i, *) (torch.nn.utils.rnn.pack_sequence): pad_sequence
    then pack_padded_sequence. With enforce_sorted the lengths must decrease."""
    sequences = list(sequences)
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of the sequences in a PackedSequence, in their original order, each of its
    own length (torch.nn.utils.rnn.unpack_sequence)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
