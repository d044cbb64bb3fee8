"""embedding_bag: the sum, mean or max of the embedding rows of each bag of indices, without
building the (entries, dim) tensor of looked-up rows that embedding(...).sum(1) would keep
for its backward.

A batch of bags is given either as a 2-D input (one bag per row, all the same length) or as
a 1-D input cut into bags by `offsets` (bag b holds input[offsets[b]:offsets[b + 1]]). Both
are flattened here into one list of entries with the bag each belongs to; entries equal to
padding_idx are left out (they count neither in a sum nor in a mean's divisor), and an
empty bag gives a row of zeros.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import _meta, _spacing
from ember._tensor import Tensor
from ember.nn._functional.layers import _renorm_rows
from ember.ops import _dual
from ember.ops._add_at import add_at, ufunc_at
from ember.ops.elementwise import Op

_MODES = ("sum", "mean", "max")


class EmbeddingBag(Op):
    """out[b] = reduction over the entries e of bag b of weight[index[e]] (times
    per_sample_weights[e] in sum mode).

    `index` and `bag` are the entries kept (padding left out); `kept` their positions in the
    flattened input, where per_sample_weights and its gradient live. In mean mode each entry
    weighs 1 / (entries in its bag); in max mode each output element comes from one entry
    (the first one holding the maximum), which alone receives its gradient.
    """

    @staticmethod
    def forward(ctx, weight, per_sample_weights, index, bag, kept, n_bags, mode, freq, sparse, fused):
        ctx.save_for_backward(weight, per_sample_weights)
        ctx.index, ctx.bag, ctx.kept, ctx.freq, ctx.winner = index, bag, kept, freq, None
        ctx.sparse = sparse
        if mode == "max":
            return _max(ctx, weight, index, bag, n_bags)
        counts = np.bincount(bag, minlength=n_bags)
        ctx.scale = None  # the gradient's factor for each entry: 1, its sample weight, 1 / bag size
        if per_sample_weights is not None:
            ctx.scale = per_sample_weights[kept]
        elif mode == "mean":
            ctx.scale = (1.0 / counts[bag]).astype(weight.dtype)
        out = _sums(weight, index, bag, counts, None if per_sample_weights is None else ctx.scale, fused)
        if mode == "mean":  # the sum divided by the bag's size, as PyTorch's (not a sum of scaled rows)
            np.divide(out, np.maximum(counts, 1).astype(out.dtype)[:, None], out=out)
        return out

    @staticmethod
    def backward(ctx, grad):
        weight, per_sample_weights = ctx.saved_tensors
        dw, dpsw = ctx._edges[:2]
        nothing = (None,) * 8
        if ctx.winner is not None:  # max: each output element's gradient to its winning row
            b, col = ctx.filled
            gw = _dual.index_add(weight.shape, (ctx.winner, col), grad[b, col], grad.dtype)
            return (gw if dw is not None else None, None, *nothing)
        per_entry = grad[ctx.bag]  # (entries, dim): the gradient of each entry's bag
        gw = gpsw = None
        if dw is not None:
            g = per_entry
            if per_sample_weights is not None:  # the saved tensor: a Tensor under create_graph
                g = g * per_sample_weights[ctx.kept][:, None]
            elif ctx.scale is not None:
                g = g * ctx.scale[:, None]
            if ctx.sparse:  # one row per entry, as embedding(sparse=True) gives (ember/sparse/_grad.py)
                from ember.sparse._grad import from_rows

                if ctx.freq is not None:
                    raise RuntimeError(
                        "embedding_backward: scale_grad_by_freq not supported with sparse gradients"
                    )
                gw = from_rows(tuple(weight.shape), ctx.index, g)  # g: a new array (or Tensor)
            else:
                if ctx.freq is not None:
                    g = g / ctx.freq[:, None]
                gw = _dual.index_add(weight.shape, ctx.index, g, grad.dtype)
        if dpsw is not None:
            g = _dual.sum(per_entry * weight[ctx.index], 1, keepdims=False)
            gpsw = _dual.index_add(per_sample_weights.shape, ctx.kept, g, grad.dtype)
        return (gw, gpsw, *nothing)


def _sums(
    weight: np.ndarray, index: np.ndarray, bag: np.ndarray, counts: np.ndarray, scale: Any, fused: bool
) -> np.ndarray:
    """The sum over each bag's entries (sorted by bag) of weight[index] (times scale), added
    from 0 in the entries' order, as PyTorch's kernel adds them; `fused`: each weighted row
    added with one rounding (an fma), as PyTorch's float32 kernel without padding_idx does.

    Adding a place at a time (the first entry of every bag, then the second, ...) into the
    bags' rows avoids the (entries, dim) temporaries of np.add.at (the rows, the flat
    positions), whose fresh pages cost more than the adding; it takes a NumPy call per
    place, so long bags (more than about an element per 1000 of the rows) go to add_at, which
    gives the same sums; fused ones only past 1024 places, as add_at cannot fuse."""
    out = np.zeros((len(counts), weight.shape[1]), dtype=weight.dtype)
    places = int(counts.max()) if counts.size else 0
    if places * 1000 > max(len(bag), 1) * weight.shape[1] and (not fused or places > 1024):
        rows = weight[index]
        add_at(out, bag, rows if scale is None else rows * scale[:, None])
        return out
    if places and counts.min() == places:  # bags of one length: each place is a column
        table = index.reshape(len(counts), places).T.copy()
        factors = None if scale is None else scale.reshape(len(counts), places).T[..., None].copy()
        for j in range(places):
            rows = weight.take(table[j], axis=0)
            if fused:
                out[...] = _fma_rows(rows, factors[j], out)
                continue
            if factors is not None:
                rows *= factors[j]
            out += rows
        return out
    # the bags longest first (stable), so that the bags still adding at place j are the
    # first going[j] rows: a slice of `sums`, where out[bags] was a gather and a scatter
    order = np.argsort(-counts, kind="stable")
    going = len(counts) - np.searchsorted(np.sort(counts), np.arange(places), side="right")
    starts = (np.cumsum(counts) - counts)[order]
    sums = out[order]
    for j in range(places):
        m = going[j]
        entries = starts[:m] + j
        rows = weight.take(index[entries], axis=0)
        if fused:
            sums[:m] = _fma_rows(rows, scale[entries, None], sums[:m])
            continue
        if scale is not None:
            rows *= scale[entries, None]
        sums[:m] += rows
    out[order] = sums
    return out


def _fma_rows(rows: np.ndarray, factors: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """rows * factors + sums with one rounding to float32 (fmaf), for float32 arrays; factors
    broadcasts against rows. The product of two float32 is exact in float64, so the float64
    sum is the exact one rounded once; rounding that again to float32 gives fmaf's result
    unless the float64 sum fell on a float32 tie (a midpoint between two float32, whose low
    29 bits are 1 followed by zeros, or any value in float32's subnormal range, where the
    spacing differs), where the exact sum may have been on either side: those few (a rough
    1 in 10^8) go through _spacing.fma_single's exact emulation. Three times fewer passes
    than fma_single on every element, with the same bits."""
    wide = rows.astype(np.float64)
    wide *= factors
    wide += sums
    out = wide.astype(np.float32)
    suspect = (wide.view(np.int64) & _LOW_29) == _HALF_29
    suspect |= np.abs(wide) < _FLOAT32_TINY
    if suspect.any():
        factors = np.broadcast_to(factors, rows.shape)
        out[suspect] = _spacing.fma_single(rows[suspect], factors[suspect], sums[suspect])
    return out


# the bits a float64 has below float32's last one, and their value on a float32 midpoint
_LOW_29, _HALF_29 = (1 << 29) - 1, 1 << 28
_FLOAT32_TINY = 2.0**-126  # float32's smallest normal number


def _max(ctx: Any, weight: np.ndarray, index: np.ndarray, bag: np.ndarray, n_bags: int) -> np.ndarray:
    """The maximum of each (bag, column) as PyTorch's kernel finds it: the bag's first entry,
    replaced by each later one that is greater. So a NaN first stays (nothing is greater),
    a NaN later is passed over, and of equal values (0.0 and -0.0 too) the first is kept;
    that entry (the winner) alone gets the gradient. An empty bag gives zeros."""
    counts = np.bincount(bag, minlength=n_bags)
    places = int(counts.max()) if counts.size else 0
    if places * 1000 > max(len(bag), 1) * weight.shape[1]:  # long bags: one pass over all entries
        first = _first_maxima(weight, index, bag, counts)
    else:  # a place at a time, the bags sorted longest first (see _sums)
        order = np.argsort(-counts, kind="stable")
        going = len(counts) - np.searchsorted(np.sort(counts), np.arange(places), side="right")
        starts = (np.cumsum(counts) - counts)[order]
        best = np.zeros((n_bags, weight.shape[1]), weight.dtype)
        won = np.full(best.shape, -1)
        for j in range(places):
            m = going[j]
            entries = starts[:m] + j
            rows = weight.take(index[entries], axis=0)
            greater = True if j == 0 else rows > best[:m]
            np.copyto(best[:m], rows, where=greater)
            np.copyto(won[:m], entries[:, None], where=greater)
        first = np.empty_like(won)
        first[order] = won
    ctx.filled = np.nonzero(first >= 0)  # (bags, columns) that have a winner
    ctx.winner = index[first[ctx.filled]]
    out = np.zeros((n_bags, weight.shape[1]), dtype=weight.dtype)
    out[ctx.filled] = weight[ctx.winner, ctx.filled[1]]
    return out


def _first_maxima(weight: np.ndarray, index: np.ndarray, bag: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For each (bag, column), the entry _max's running comparison ends on (-1 in an empty
    bag), found for all entries at once: the first entry equal to the bag's largest value
    that is not NaN, or the bag's first entry where that is NaN."""
    rows = weight[index]
    best = np.full((len(counts), weight.shape[1]), -np.inf, weight.dtype)
    ufunc_at(np.fmax, best, bag, rows)  # fmax: NaN passed over
    none = len(index)
    first = np.full(best.shape, none)
    ufunc_at(np.minimum, first, bag, np.where(rows == best[bag], np.arange(none)[:, None], none))
    bags = np.flatnonzero(counts)
    starts = (np.cumsum(counts) - counts)[bags]
    leading_nan = np.isnan(rows[starts])
    first[bags] = np.where(leading_nan, starts[:, None], first[bags])
    return np.where(first < none, first, -1)


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """The sum, mean or max of weight's rows over each bag of indices, (bags, dim)
    (torch.nn.functional.embedding_bag).

    input is (B, L), B bags of L indices, or 1-D, cut into bags at `offsets` (the last
    offset marks the end of the input when include_last_offset is set). per_sample_weights,
    of input's shape and in sum mode only, weigh the rows; entries equal to padding_idx are
    left out; max_norm renormalizes the rows of weight that input names (padding_idx
    included) in place, as embedding.
    """
    idx = _indices(input, "input")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if mode not in _MODES:
        raise ValueError(f"mode has to be one of sum, mean or max (got {mode!r})")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode={mode!r})"
            )
        if tuple(per_sample_weights.shape) != idx.shape:
            raise ValueError(
                f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}) is not None, "
                f"then it must have the same shape as the input ({list(idx.shape)})"
            )
        if per_sample_weights.dtype != weight.dtype:
            raise RuntimeError(
                f"embedding_bag: per_sample_weights ({per_sample_weights.dtype}) must have the "
                f"dtype of weight ({weight.dtype})"
            )
    if (weight.is_meta or idx.__class__ is not np.ndarray) and (idx.ndim == 2 or offsets is not None):
        return _meta_bags(weight, idx, offsets, include_last_offset)
    bag, n_bags = _bags(idx, offsets, include_last_offset)
    idx = idx.reshape(-1)
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        pos = int(np.flatnonzero((idx < 0) | (idx >= n))[0])
        raise RuntimeError(
            f"Index {pos} of input takes value {idx[pos]} which is not in the valid range [0, {n})"
        )
    keep = bag >= 0
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise RuntimeError(
                f"padding_idx must be within the number of embeddings, -{n} through {n - 1}, but got {padding_idx}"
            )
        keep &= idx != padding_idx % n
    if max_norm is not None:
        # every index of the input, padding and entries past the last offset included, as
        # PyTorch renormalizes the rows of its whole input
        _renorm_rows(weight, idx, max_norm, norm_type)
    kept = np.flatnonzero(keep)
    index, bag = idx[kept].astype(np.intp), bag[kept]
    freq = None
    if scale_grad_by_freq:
        freq = np.bincount(index, minlength=n)[index].astype(weight._data.dtype)
    psw = None if per_sample_weights is None else per_sample_weights.reshape(-1)
    # PyTorch's float32 kernel without padding (fbgemm's) fuses a weighted row's product and sum
    fused = psw is not None and padding_idx is None and weight._data.dtype == np.float32
    return EmbeddingBag.apply(weight, psw, index, bag, kept, n_bags, mode, freq, bool(sparse), fused)


def _meta_bags(weight: Tensor, idx: Any, offsets: Any, include_last_offset: bool) -> Tensor:
    """embedding_bag's meta result, (bags, dim): the bags are counted from the shapes (the
    values that place them are not there to read). Rows of weight picked by a meta index,
    so that the result is in weight's graph as the real one is."""
    n_bags = (
        idx.shape[0]
        if idx.ndim == 2
        else np.shape(_indices(offsets, "offsets"))[0] - bool(include_last_offset)
    )
    return weight.index_select(0, Tensor(_meta.empty((max(n_bags, 0),), np.int64)))


def _indices(t: Any, name: str) -> np.ndarray:
    """The integer array inside t, which must hold int64 or int32 indices."""
    a = t._data if isinstance(t, Tensor) else np.asarray(t)
    if a.dtype != np.int64 and a.dtype != np.int32:
        raise RuntimeError(
            f"embedding_bag: expected '{name}' to hold indices of one of the following scalar types: "
            f"Long, Int; but got {a.dtype} instead (use .long())"
        )
    return a


def _bags(idx: np.ndarray, offsets: Any, include_last_offset: bool) -> tuple:
    """(the bag of each entry of the flattened input, the number of bags)."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                f"fixed length sequences. However, found offsets of type {type(offsets).__name__}"
            )
        return np.repeat(np.arange(idx.shape[0]), idx.shape[1]), idx.shape[0]
    if idx.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None (or give a 2-D input, one bag per row)")
    given = _indices(offsets, "offsets")
    if given.ndim != 1:
        raise ValueError(f"offsets has to be a 1D Tensor, got shape {list(given.shape)}")
    starts = given
    if include_last_offset:
        if len(starts) == 0:
            raise ValueError(
                "embedding_bag: include_last_offset needs at least one offset (the end of the input)"
            )
        starts = starts[:-1]
    if len(starts) and starts[0] != 0:
        raise RuntimeError(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
            f"position 0. However, got {starts[0]}"
        )
    if len(given) and given[-1] > len(idx):
        raise RuntimeError(
            f"offsets[-1] can not be greater than input's length {len(idx)} but got offsets[-1] of {given[-1]}"
        )
    ends = given[1:] if include_last_offset else np.append(starts[1:], len(idx))
    if np.any(ends < starts):
        raise RuntimeError(f"embedding_bag: offsets must be non-decreasing, got {given.tolist()}")
    # entry i is in the last bag that starts at or before it (an empty bag starts where the next does)
    bag = np.searchsorted(starts, np.arange(len(idx)), side="right") - 1
    if include_last_offset and len(ends):  # entries past the last offset belong to no bag
        bag = np.where(np.arange(len(idx)) < ends[-1], bag, -1)
    return bag, len(starts)
