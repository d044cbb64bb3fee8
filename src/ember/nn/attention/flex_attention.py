"""Attention whose scores a user's functions modify and mask
(torch.nn.attention.flex_attention), computed densely as PyTorch computes it without
torch.compile:

    scores = (query @ key^T) * scale                              (B, H, L, S)
    scores = where(mask_mod(b, h, q_idx, kv_idx), score_mod(scores, b, h, q_idx, kv_idx), -inf)
    output = softmax(scores) @ value, with 0 for a query whose every key is masked

PyTorch calls score_mod and mask_mod once per element under vmap, with 0-d index tensors.
ember calls each once, with index tensors shaped to broadcast: b (B, 1, 1, 1), h
(1, H, 1, 1), q_idx (1, 1, L, 1), kv_idx (1, 1, 1, S). Element-wise code (comparisons,
arithmetic, where, indexing a tensor with the indices) means the same either way, and
gradients flow through score_mod into the scores and into any tensor it captured.

A `BlockMask` records which (Q_BLOCK_SIZE x KV_BLOCK_SIZE) blocks of the mask hold any
allowed position, which PyTorch's compiled kernels use to skip work; the dense computation,
PyTorch's as ember's, only calls its mask_mod.
"""

from __future__ import annotations

import inspect
import itertools
import math
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple, TypedDict

import numpy as np

import ember
from ember._tensor import Tensor, cpu_only
from ember.ops.api.products import matmul

__all__ = [
    "AuxOutput",
    "AuxRequest",
    "BlockMask",
    "FlexKernelOptions",
    "and_masks",
    "create_block_mask",
    "create_mask",
    "flex_attention",
    "noop_mask",
    "or_masks",
]

_DEFAULT_BLOCK = 128

ScoreMod = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]
MaskMod = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]


class FlexKernelOptions(TypedDict, total=False):
    """Tuning options of PyTorch's compiled flex_attention kernels (block sizes, stages,
    backend, ...). ember's dense computation accepts and ignores them."""

    BACKEND: str
    PRESCALE_QK: bool
    ROWS_GUARANTEED_SAFE: bool
    BLOCKS_ARE_CONTIGUOUS: bool
    WRITE_DQ: bool
    FORCE_USE_FLEX_ATTENTION: bool
    BLOCK_M: int
    BLOCK_N: int
    num_warps: int
    num_stages: int


class AuxRequest(NamedTuple):
    """Which statistics flex_attention should return besides the output
    (torch.nn.attention.flex_attention.AuxRequest)."""

    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """The statistics asked for with AuxRequest, per query: the log-sum-exp of its scores
    and its largest score (natural logarithm; -inf for a query with every key masked)."""

    lse: Tensor | None = None
    max_scores: Tensor | None = None


def noop_mask(batch: Tensor, head: Tensor, token_q: Tensor, token_kv: Tensor) -> Tensor:
    """The mask_mod that allows every position."""
    return ember.ones((), dtype=ember.bool)


def and_masks(*mask_mods: MaskMod) -> MaskMod:
    """A mask_mod allowing a position where every one of mask_mods allows it."""
    if not all(callable(m) for m in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def and_mask(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        allowed = ember.ones((), dtype=ember.bool)
        for mask_mod in mask_mods:
            allowed = allowed & mask_mod(b, h, q_idx, kv_idx)
        return allowed

    return and_mask


def or_masks(*mask_mods: MaskMod) -> MaskMod:
    """A mask_mod allowing a position where any one of mask_mods allows it."""
    if not all(callable(m) for m in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def or_mask(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        allowed = ember.zeros((), dtype=ember.bool)
        for mask_mod in mask_mods:
            allowed = allowed | mask_mod(b, h, q_idx, kv_idx)
        return allowed

    return or_mask


def _indices(B: int, H: int, L: int, S: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """b, h, q_idx, kv_idx as int64 tensors that broadcast to (B, H, L, S)."""
    return (
        Tensor(np.arange(B).reshape(B, 1, 1, 1)),
        Tensor(np.arange(H).reshape(1, H, 1, 1)),
        Tensor(np.arange(L).reshape(1, 1, L, 1)),
        Tensor(np.arange(S).reshape(1, 1, 1, S)),
    )


def _dense_mask(mask_mod: MaskMod, B: int, H: int, L: int, S: int) -> np.ndarray:
    """mask_mod evaluated at every (b, h, q_idx, kv_idx): a bool array (B, H, L, S)."""
    allowed = mask_mod(*_indices(B, H, L, S))
    allowed = allowed._data if isinstance(allowed, Tensor) else np.asarray(allowed)
    return np.broadcast_to(allowed.astype(np.bool_, copy=False), (B, H, L, S))


def _is_score_mod(fn: Callable) -> bool:
    """A score_mod takes five positional arguments, a mask_mod four."""
    parameters = inspect.signature(fn).parameters.values()
    positional = [
        p
        for p in parameters
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) == 5


def create_mask(
    mod_fn: ScoreMod | MaskMod, B: int | None, H: int | None, Q_LEN: int, KV_LEN: int, device: Any = None
) -> Tensor:
    """The bool mask (B, H, Q_LEN, KV_LEN) of a mask_mod, or of a score_mod (False where it
    gives -inf to a score of 0) (torch.nn.attention.flex_attention.create_mask). B and H
    None mean 1."""
    B, H = B or 1, H or 1
    if _is_score_mod(mod_fn):
        b, h, q, kv = _indices(B, H, Q_LEN, KV_LEN)
        scores = mod_fn(ember.zeros(B, H, Q_LEN, KV_LEN), b, h, q, kv)
        allowed = np.broadcast_to(~np.isneginf(scores._data), (B, H, Q_LEN, KV_LEN))
    else:
        allowed = _dense_mask(mod_fn, B, H, Q_LEN, KV_LEN)
    return Tensor(np.array(allowed))


def _ordered(blocks: np.ndarray) -> tuple[Tensor, Tensor]:
    """A (B, H, Q_blocks, KV_blocks) 0/1 array as PyTorch's block lists: the number of
    marked blocks of each row, and their column indices first, in increasing order
    (the rest of each row holds the unmarked ones), both int32."""
    counts = blocks.sum(-1).astype(np.int32)
    order = np.argsort(-blocks.astype(np.int8), axis=-1, kind="stable").astype(np.int32)
    return Tensor(counts), Tensor(order)


def _blocks_of(counts: Tensor, indices: Tensor) -> np.ndarray:
    """The inverse of _ordered: the (B, H, Q_blocks, KV_blocks) bool array of marked blocks."""
    columns = np.arange(indices.shape[-1])
    marked = columns < counts._data[..., None]
    dense = np.zeros(indices.shape, dtype=np.bool_)
    np.put_along_axis(dense, indices._data.astype(np.int64), marked, axis=-1)
    return dense


class BlockMask:
    """Which blocks of a (B, H, Q_LEN, KV_LEN) attention mask hold allowed positions, and the
    mask_mod that says which positions within them
    (torch.nn.attention.flex_attention.BlockMask).

    kv_num_blocks / kv_indices list, for each row of query blocks, the key blocks with
    some but not all positions allowed; full_kv_num_blocks / full_kv_indices those with
    all of them allowed (None when create_block_mask was told not to separate them); the
    q_* attributes are the same lists by columns of key blocks.
    """

    def __init__(
        self,
        seq_lengths: tuple[int, int],
        kv_num_blocks: Tensor,
        kv_indices: Tensor,
        full_kv_num_blocks: Tensor | None,
        full_kv_indices: Tensor | None,
        q_num_blocks: Tensor | None,
        q_indices: Tensor | None,
        full_q_num_blocks: Tensor | None,
        full_q_indices: Tensor | None,
        BLOCK_SIZE: tuple[int, int],
        mask_mod: MaskMod,
    ) -> None:
        self.seq_lengths = tuple(seq_lengths)
        self.kv_num_blocks = kv_num_blocks
        self.kv_indices = kv_indices
        self.full_kv_num_blocks = full_kv_num_blocks
        self.full_kv_indices = full_kv_indices
        self.q_num_blocks = q_num_blocks
        self.q_indices = q_indices
        self.full_q_num_blocks = full_q_num_blocks
        self.full_q_indices = full_q_indices
        self.BLOCK_SIZE = tuple(BLOCK_SIZE)
        self.mask_mod = mask_mod
        # the order of PyTorch's deterministic CUDA backward: kept, never computed
        self.dq_write_order = self.dq_write_order_full = self.dq_kv_order = self.dq_kv_order_spt = None

    @classmethod
    def from_kv_blocks(
        cls,
        kv_num_blocks: Tensor,
        kv_indices: Tensor,
        full_kv_num_blocks: Tensor | None = None,
        full_kv_indices: Tensor | None = None,
        BLOCK_SIZE: int | tuple[int, int] = _DEFAULT_BLOCK,
        mask_mod: MaskMod | None = None,
        seq_lengths: tuple[int, int] | None = None,
        compute_q_blocks: bool = True,
        **write_order: Any,
    ) -> BlockMask:
        """A BlockMask from its key-block lists; the query-block lists are derived unless
        compute_q_blocks is False. seq_lengths defaults to the number of blocks times the
        block size. PyTorch's dq_write_order arguments (for its deterministic CUDA
        backward) are accepted and kept."""
        if kv_indices.ndim < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise RuntimeError("full_kv_num_blocks and full_kv_indices must be both provided or omitted")
        block = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else tuple(BLOCK_SIZE)
        q_num = q_idx = full_q_num = full_q_idx = None
        if compute_q_blocks:
            q_num, q_idx = _ordered(np.swapaxes(_blocks_of(kv_num_blocks, kv_indices), -1, -2))
        if compute_q_blocks and full_kv_num_blocks is not None:
            full = np.swapaxes(_blocks_of(full_kv_num_blocks, full_kv_indices), -1, -2)
            full_q_num, full_q_idx = _ordered(full)
        if seq_lengths is None:
            seq_lengths = (kv_indices.shape[-2] * block[0], kv_indices.shape[-1] * block[1])
        mask = cls(
            seq_lengths,
            kv_num_blocks,
            kv_indices,
            full_kv_num_blocks,
            full_kv_indices,
            q_num,
            q_idx,
            full_q_num,
            full_q_idx,
            block,
            mask_mod if mask_mod is not None else noop_mask,
        )
        for name in ("dq_write_order", "dq_write_order_full", "dq_kv_order"):
            setattr(mask, name, write_order.get(name))
        return mask

    def __getitem__(self, index: Any) -> BlockMask:
        """The block mask of some batches, heads or rows of query blocks: index applies to
        the (B, H, Q_blocks) dims of the block lists, an int keeping its dim as a slice of
        one. The result's mask_mod raises if called (it would see the wrong indices), as
        in PyTorch: give it the original's mask_mod, adapted, to use it."""
        index = index if isinstance(index, tuple) else (index,)
        padded = (*index, slice(None), slice(None), slice(None))[:3]
        sizes = self.kv_num_blocks.shape[:3]
        index = tuple(
            (slice(i + n, i + n + 1) if -n <= i < 0 else slice(i, i + 1)) if isinstance(i, int) else i
            for i, n in zip(padded, sizes)
        )
        full = self.full_kv_num_blocks is not None
        return BlockMask.from_kv_blocks(
            self.kv_num_blocks[index],
            self.kv_indices[index],
            self.full_kv_num_blocks[index] if full else None,
            self.full_kv_indices[index] if full else None,
            BLOCK_SIZE=self.BLOCK_SIZE,
            mask_mod=_sliced_mask_mod_error,
            seq_lengths=self.seq_lengths,
        )

    def as_tuple(self, flatten: bool = True) -> tuple:
        """The attributes as one tuple, in PyTorch's order, mask_mod last; with flatten
        False the lengths and the block size stay pairs."""
        lengths, block = (
            (self.seq_lengths, self.BLOCK_SIZE) if flatten else ((self.seq_lengths,), (self.BLOCK_SIZE,))
        )
        return (
            *lengths,
            self.kv_num_blocks,
            self.kv_indices,
            self.full_kv_num_blocks,
            self.full_kv_indices,
            self.q_num_blocks,
            self.q_indices,
            self.full_q_num_blocks,
            self.full_q_indices,
            self.dq_write_order,
            self.dq_write_order_full,
            self.dq_kv_order,
            self.dq_kv_order_spt,
            *block,
            self.mask_mod,
        )

    @property
    def shape(self) -> tuple[int, ...]:
        """(B, H, Q_LEN, KV_LEN)."""
        return tuple(self.kv_indices.shape[:-2]) + self.seq_lengths

    def numel(self) -> int:
        """The number of positions of the mask."""
        return math.prod(self.shape)

    def sparsity(self) -> float:
        """The percentage of the mask's positions that lie in blocks with nothing allowed
        (which the compiled kernels skip)."""
        computed = _blocks_of(self.kv_num_blocks, self.kv_indices)
        if self.full_kv_num_blocks is not None:
            computed = computed | _blocks_of(self.full_kv_num_blocks, self.full_kv_indices)
        # the area of each block within the sequence lengths (PyTorch counts whole blocks,
        # so its sparsity is negative for lengths below one block)
        rows, cols = (
            _block_extent(n, size, count)
            for n, size, count in zip(self.seq_lengths, self.BLOCK_SIZE, computed.shape[-2:])
        )
        area = (computed * rows[:, None] * cols[None, :]).sum()
        return float(100 * (1 - area / self.numel()))

    def to_dense(self) -> Tensor:
        """The (B, H, Q_blocks, KV_blocks) int32 array of blocks with something allowed."""
        dense = _blocks_of(self.kv_num_blocks, self.kv_indices)
        if self.full_kv_num_blocks is not None:
            dense = dense | _blocks_of(self.full_kv_num_blocks, self.full_kv_indices)
        return Tensor(dense.astype(np.int32))

    def to_string(self, grid_size: int | tuple[int, int] = (20, 20), limit: int = 4) -> str:
        """A drawing of the blocks of each (b, h): full squares where every block of a cell
        of the grid is computed, light ones where some are, blanks where none are."""
        dense = self.to_dense()._data
        *batch, n_rows, n_cols = dense.shape
        if grid_size == -1:
            max_rows, max_cols = n_rows, n_cols
        elif isinstance(grid_size, int):
            max_rows = max_cols = grid_size
        else:
            max_rows, max_cols = grid_size
        row_step, col_step = max(1, -(-n_rows // max_rows)), max(1, -(-n_cols // max_cols))
        drawings = []
        for count, index in enumerate(itertools.product(*(range(n) for n in batch))):
            if count == limit:
                drawings += [
                    "...",
                    "To print out more, set BlockMask.to_string(limit=N)",
                    "You can also index (BlockMask[batch, head]) to choose a specific batch or head",
                ]
                break
            grid = dense[index]
            lines = [f"{index}"]
            for r in range(0, n_rows, row_step):
                cells = [grid[r : r + row_step, c : c + col_step].mean() for c in range(0, n_cols, col_step)]
                lines.append("".join(("█" if m == 1 else " " if m == 0 else "░") * 2 for m in cells))
            drawings.append("\n".join(lines) + "\n")
        return "\n".join(drawings)

    def __str__(self) -> str:
        return (
            f"BlockMask(shape={self.shape}, sparsity={self.sparsity():.2f}%, \n{self.to_string().strip()}\n)"
        )

    def __repr__(self) -> str:
        def shape(t: Tensor | None) -> Any:
            return None if t is None else t.shape

        name = getattr(self.mask_mod, "__name__", self.mask_mod)
        return (
            "BlockMask(\n"
            f"    kv_num_blocks={shape(self.kv_num_blocks)},\n"
            f"    kv_indices={shape(self.kv_indices)},\n"
            f"    full_kv_num_blocks={shape(self.full_kv_num_blocks)},\n"
            f"    full_kv_indices={shape(self.full_kv_indices)},\n"
            f"    q_num_blocks={shape(self.q_num_blocks)},\n"
            f"    q_indices={shape(self.q_indices)},\n"
            f"    full_q_num_blocks={shape(self.full_q_num_blocks)},\n"
            f"    full_q_indices={shape(self.full_q_indices)},\n"
            f"    BLOCK_SIZE={self.BLOCK_SIZE},\n"
            f"    shape={self.shape},\n"
            f"    sparsity={self.sparsity():.2f}%,\n"
            f"    mask_mod={name}\n"
            ")"
        )

    def to(self, device: Any) -> BlockMask:
        """The mask itself: ember has only the CPU."""
        cpu_only(device)  # another device raises as for tensors
        return self


def _sliced_mask_mod_error(batch: Tensor, head: Tensor, token_q: Tensor, token_kv: Tensor) -> Tensor:
    """The mask_mod of a sliced BlockMask: calling it is an error."""
    raise RuntimeError(
        "Cannot use mask_mod from a sliced BlockMask. When you slice a BlockMask using [], the "
        "mask_mod attribute is reset: set it from the original BlockMask's mask_mod."
    )


def _block_extent(length: int, size: int, count: int) -> np.ndarray:
    """How many of each of count blocks of size fall within length."""
    starts = np.arange(count) * size
    return np.clip(length - starts, 0, size)


def create_block_mask(
    mask_mod: MaskMod,
    B: int | None,
    H: int | None,
    Q_LEN: int,
    KV_LEN: int,
    device: Any = None,
    BLOCK_SIZE: int | tuple[int, int] = _DEFAULT_BLOCK,
    _compile: bool = False,
    separate_full_blocks: bool = True,
    compute_dq_write_order: bool = False,
    dq_kv_order: bool = True,
) -> BlockMask:
    """The BlockMask of mask_mod over (B, H, Q_LEN, KV_LEN), in blocks of BLOCK_SIZE
    (torch.nn.attention.flex_attention.create_block_mask). B and H None mean 1 (the mask
    then broadcasts over them). The compile and write-order arguments are accepted and
    change nothing."""
    if _is_score_mod(mask_mod):
        raise AssertionError(f"create-block_mask requires a mask_mod function! Got {mask_mod}")
    if not isinstance(dq_kv_order, bool):
        raise ValueError("dq_kv_order must be a bool when using create_block_mask")
    B, H = B or 1, H or 1
    q_block, kv_block = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else BLOCK_SIZE
    allowed = _dense_mask(mask_mod, B, H, Q_LEN, KV_LEN)
    n_q, n_kv = -(-Q_LEN // q_block), -(-KV_LEN // kv_block)
    padded = np.zeros((B, H, n_q * q_block, n_kv * kv_block), dtype=np.int64)
    padded[..., :Q_LEN, :KV_LEN] = allowed
    per_block = padded.reshape(B, H, n_q, q_block, n_kv, kv_block).sum((3, 5))
    if separate_full_blocks:
        full = per_block == q_block * kv_block  # a block past the lengths is never full
        partial, full_lists = (per_block > 0) & ~full, _ordered(full)
    else:
        partial, full_lists = per_block > 0, (None, None)
    return BlockMask.from_kv_blocks(
        *_ordered(partial),
        *full_lists,
        BLOCK_SIZE=(q_block, kv_block),
        mask_mod=mask_mod,
        seq_lengths=(Q_LEN, KV_LEN),
    )


def _check(query: Tensor, key: Tensor, value: Tensor, block_mask: BlockMask | None, enable_gqa: bool) -> None:
    """PyTorch's checks of flex_attention's arguments, with its messages."""
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise NotImplementedError("NYI: query, key, and value must be 4D tensors")
    if (
        query._data.dtype.kind not in "fV"
        or len({query._data.dtype, key._data.dtype, value._data.dtype}) != 1
    ):
        raise ValueError(
            f"Expected query, key, and value to have the same floating dtype, got {query.dtype}, "
            f"{key.dtype} and {value.dtype}"
        )
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            "Expect query and key/value to have the same embedding dimension but got "
            f"E={query.shape[-1]} and E={key.shape[-1]}."
        )
    if key.shape[:-1] != value.shape[:-1]:
        raise ValueError(
            f"Expect key and value to agree in every dimension but the last, got {list(key.shape)} and "
            f"{list(value.shape)}"
        )
    hq, hkv = query.shape[1], key.shape[1]
    if not enable_gqa and hq != hkv:
        raise ValueError(
            "Expect query and key/value to have the same number of heads but got "
            f"Hq={hq} and Hkv={hkv}. Try setting enable_gqa=True for GQA."
        )
    if enable_gqa and hq % hkv:
        raise ValueError(
            f"Expect number of query heads to be a multiple of kv heads for GQA but got Hq={hq} and Hkv={hkv}."
        )
    if query.shape[0] != key.shape[0]:
        if block_mask is None:
            raise ValueError(
                "Expect query and key/value to have the same batch size, or non-none block_mask, but "
                f"got block_mask=None, Bq={query.shape[0]}, and Bkv={key.shape[0]}."
            )
        if key.shape[0] != 1 or block_mask.kv_num_blocks.shape[0] != query.shape[0]:
            raise ValueError(
                "Expect query and key/value to have the same batch size, or block_mask and query to "
                f"have the same batch size, but got Bq={query.shape[0]}, Bkv={key.shape[0]}, "
                f"B_block_mask={block_mask.kv_num_blocks.shape[0]}."
            )
    if block_mask is not None:
        if block_mask.mask_mod is _sliced_mask_mod_error:
            raise RuntimeError("Cannot use mask_mod from a sliced BlockMask")
        mask_q, mask_kv = block_mask.seq_lengths
        length_q, length_kv = query.shape[-2], key.shape[-2]
        if (length_q, length_kv) != (mask_q, mask_kv):
            hint = (
                "As the block mask was created for a smaller length than you're using it for, you likely "
                "need to create a new block mask."
                if length_q > mask_q or length_kv > mask_kv
                else "Create a new block mask with the lengths of query and key."
            )
            raise ValueError(
                f"block_mask was created for block_mask.shape={block_mask.shape} but got "
                f"q_len={length_q} and kv_len={length_kv}. {hint}"
            )


def flex_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    score_mod: ScoreMod | None = None,
    block_mask: BlockMask | None = None,
    scale: float | None = None,
    enable_gqa: bool = False,
    return_lse: bool = False,
    kernel_options: FlexKernelOptions | None = None,
    *,
    return_aux: AuxRequest | None = None,
) -> Tensor | tuple[Tensor, Any]:
    """Attention of query (B, Hq, L, E) over key (B, Hkv, S, E) and value (B, Hkv, S, Ev)
    whose scaled scores score_mod rewrites and block_mask's mask_mod masks
    (torch.nn.attention.flex_attention.flex_attention); see the module's docstring.

    scale defaults to 1/sqrt(E); enable_gqa lets each key/value head serve Hq/Hkv
    consecutive query heads. return_lse (deprecated in PyTorch) also returns the
    log-sum-exp of each query's scores, return_aux=AuxRequest(...) returns an AuxOutput.
    kernel_options are accepted and ignored.
    """
    _check(query, key, value, block_mask, enable_gqa)
    if return_lse and return_aux is not None:
        raise ValueError(
            "Cannot specify both return_lse and return_aux. return_lse is deprecated, please use "
            "return_aux=AuxRequest(lse=True) instead."
        )
    if return_lse:
        warnings.warn(
            "return_lse is deprecated and will be removed in v2.10. Please use "
            "return_aux=AuxRequest(lse=True) instead.",
            FutureWarning,
            stacklevel=2,
        )
    groups = query.shape[1] // key.shape[1]
    if groups > 1:
        key, value = key.repeat_interleave(groups, 1), value.repeat_interleave(groups, 1)
    B, H, L, S = query.shape[0], query.shape[1], query.shape[2], key.shape[2]
    factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    low_precision = query._data.dtype.itemsize < 4  # float16 computes in float32, as PyTorch
    work = (query.float(), key.float()) if low_precision else (query, key)
    scores = matmul(work[0], work[1].transpose(-2, -1)) * factor
    b, h, q_idx, kv_idx = _indices(B, H, L, S)
    if score_mod is not None:
        scores = score_mod(scores, b, h, q_idx, kv_idx).expand(B, H, L, S)
    if block_mask is not None:
        allowed = Tensor(np.ascontiguousarray(_dense_mask(block_mask.mask_mod, B, H, L, S)))
        scores = ember.where(allowed, scores, -math.inf)
    dead = Tensor(np.isneginf(scores._data).all(-1, keepdims=True))  # every key masked
    weights = scores.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)
    output = matmul(weights.to(query.dtype), value)
    want_lse = return_lse or (return_aux is not None and return_aux.lse)
    want_max = return_aux is not None and return_aux.max_scores
    lse = max_scores = None
    if want_lse:  # -inf where every key is masked, without a NaN in its gradient
        lse = scores.masked_fill(dead, 0.0).logsumexp(-1).masked_fill(dead.squeeze(-1), -math.inf)
    if want_max:
        max_scores = scores.amax(-1)
    if return_aux is not None:
        return output, AuxOutput(lse=lse, max_scores=max_scores)
    if return_lse:
        return output, lse
    return output
