"""Causal attention biases that are passed as attn_mask without being materialized
(torch.nn.attention.bias): `causal_upper_left(L, S)` keeps key j for query i when j <= i,
as is_causal=True does; `causal_lower_right(L, S)` aligns the diagonal with the last key,
keeping j <= i + S - L, as for queries that continue a cached key sequence.

A `CausalBias` is a Tensor (an empty one, as in PyTorch) that scaled_dot_product_attention
recognises: it then calls `_attend`, which computes attention with is_causal=True or with
the lower-right mask built as a bool tensor. PyTorch's bias overrides __torch_function__;
ember's is swapped in only once a user's class takes part (ember/overrides.py), so this
one method is the hook.
"""

from __future__ import annotations

import enum
import warnings

import numpy as np

from ember._tensor import Tensor
from ember.nn._functional.attention import scaled_dot_product_attention

__all__ = ["CausalBias", "CausalVariant", "causal_lower_right", "causal_upper_left"]


class CausalVariant(enum.IntEnum):
    """Where the causal triangle is anchored (torch.nn.attention.bias.CausalVariant):
    UPPER_LEFT keeps key j for query i when j <= i; LOWER_RIGHT when j <= i + S - L."""

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias(Tensor):
    """A causal mask for scaled_dot_product_attention, described by its variant and the
    two sequence lengths (torch.nn.attention.bias.CausalBias). Build it with
    causal_upper_left or causal_lower_right."""

    __slots__ = ("seq_len_kv", "seq_len_q", "variant")

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {type(variant).__name__}")
        super().__init__(np.empty(0, dtype=np.float32))
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            warnings.warn(
                "Lower right causal bias will produce NaNs in the output when seq_len_q > seq_len_kv!",
                stacklevel=2,
            )

    def _materialize(self, device: object = None) -> Tensor:
        """The (seq_len_q, seq_len_kv) bool mask, True where attention is allowed."""
        offset = 0 if self.variant == CausalVariant.UPPER_LEFT else self.seq_len_kv - self.seq_len_q
        return Tensor(np.tri(self.seq_len_q, self.seq_len_kv, offset, dtype=np.bool_))

    def _attend(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        dropout_p: float,
        is_causal: bool,
        scale: float | None,
        enable_gqa: bool,
    ) -> Tensor:
        """scaled_dot_product_attention with this bias as its mask."""
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        if self.seq_len_q == self.seq_len_kv or self.variant == CausalVariant.UPPER_LEFT:
            mask, is_causal = None, True
        else:
            mask = self._materialize()
        return scaled_dot_product_attention(
            query, key, value, mask, dropout_p, is_causal, scale=scale, enable_gqa=enable_gqa
        )

    def __repr__(self) -> str:
        return repr(self._materialize())


def causal_upper_left(*size: int) -> CausalBias:
    """The causal bias anchored at the first query and key (as is_causal=True), for
    size = (seq_len_q, seq_len_kv) (torch.nn.attention.bias.causal_upper_left)."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    return CausalBias(CausalVariant.UPPER_LEFT, *size)


def causal_lower_right(*size: int) -> CausalBias:
    """The causal bias anchored at the last query and key, for size = (seq_len_q,
    seq_len_kv) (torch.nn.attention.bias.causal_lower_right)."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    return CausalBias(CausalVariant.LOWER_RIGHT, *size)
