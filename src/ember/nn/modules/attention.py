"""nn.MultiheadAttention, composed from linear, reshapes and the attention function.

The heads are computed at once: the projected (N, L, E) query becomes (N, H, L, E/H) by a
reshape and a transpose, every mask is brought to one additive (or bool) mask that
broadcasts to (N, H, L, S), and `attention_weights` (the core of
F.scaled_dot_product_attention) does the rest. Parameter names, shapes, order and
initialisation are PyTorch's, so state dicts load in either direction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import creation
from ember._tensor import Tensor
from ember.nn import functional as F
from ember.nn import init
from ember.nn._functional.attention import attention_weights
from ember.nn.module import Module
from ember.nn.modules.linear import Linear
from ember.nn.parameter import Parameter
from ember.ops.api.products import matmul
from ember.ops.api.shape import cat, split


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under another name, as MultiheadAttention's out_proj is in PyTorch (where the
    name keeps quantization tools from swapping it); it prints with this name."""


def _additive(mask: Tensor | None, dtype: Any, name: str) -> Tensor | None:
    """A bool mask (True = leave out) as 0 / -inf in the query's dtype; a float one as is."""
    if mask is None:
        return None
    if mask._data.dtype == np.bool_:
        return Tensor(np.where(mask._data, -np.inf, 0).astype(dtype))
    if mask._data.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


class MultiheadAttention(Module):
    """Attention over num_heads heads of embed_dim / num_heads features each
    (torch.nn.MultiheadAttention).

    forward(query, key, value) takes (L, N, E) query and (S, N, kdim) / (S, N, vdim) key and
    value ((N, L, E) ... with batch_first, or unbatched (L, E) ...) and returns the (L, N, E)
    output and the attention weights, (N, L, S) averaged over the heads or (N, H, L, S),
    or None when need_weights is False. In key_padding_mask (N, S) and attn_mask (L, S) or
    (N*H, L, S), True leaves a position out; a float mask is added to the scores.

    in_proj_weight (3E, E) holds the query, key and value projections one above the other
    (q_proj_weight, k_proj_weight and v_proj_weight when kdim or vdim differ from E), drawn
    by xavier_uniform_; the biases start at zero, bias_k and bias_v by xavier_normal_.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        like = dict(dtype=dtype, device=device)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty(3 * embed_dim, embed_dim, **like))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(creation.empty(embed_dim, embed_dim, **like))
            self.k_proj_weight = Parameter(creation.empty(embed_dim, self.kdim, **like))
            self.v_proj_weight = Parameter(creation.empty(embed_dim, self.vdim, **like))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, **like))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **like)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty(1, 1, embed_dim, **like))
            self.bias_v = Parameter(creation.empty(1, 1, embed_dim, **like))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The three input projections; self-attention (one tensor for all three) is one product."""
        E = self.embed_dim
        b = (None,) * 3 if self.in_proj_bias is None else split(self.in_proj_bias, E)
        if self._qkv_same_embed_dim:
            if query is key and key is value:
                return split(F.linear(query, self.in_proj_weight, self.in_proj_bias), E, -1)
            w = split(self.in_proj_weight, E)
        else:
            w = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return F.linear(query, w[0], b[0]), F.linear(key, w[1], b[1]), F.linear(value, w[2], b[2])

    def _check(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None,
        attn_mask: Tensor | None,
    ) -> bool:
        """PyTorch's shape checks (AssertionError, as its own); returns whether batched."""
        if query.ndim not in (2, 3):
            raise AssertionError(
                f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor"
            )
        batched = query.ndim == 3
        if key.ndim != query.ndim or value.ndim != query.ndim:
            kind = "batched (3-D)" if batched else "unbatched (2-D)"
            raise AssertionError(
                f"For {kind} `query`, expected `key` and `value` to be {query.ndim}-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if query.shape[-1] != self.embed_dim:
            raise AssertionError(
                f"was expecting embedding dimension of {self.embed_dim}, but got {query.shape[-1]}"
            )
        if key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise AssertionError(
                f"MultiheadAttention: key and value must have {self.kdim} and {self.vdim} features, "
                f"got key {list(key.shape)} and value {list(value.shape)}"
            )
        if key.shape[:-1] != value.shape[:-1]:
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            kind = "batched (3-D)" if batched else "unbatched (2-D)"
            raise AssertionError(
                f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.ndim}-D tensor instead"
            )
        if key_padding_mask is not None:
            seq, batch = (key.shape[1], key.shape[0]) if self.batch_first and batched else key.shape[:2]
            want = (batch, seq) if batched else (key.shape[0],)
            if tuple(key_padding_mask.shape) != want:
                raise AssertionError(
                    f"expecting key_padding_mask shape of {want}, but got {tuple(key_padding_mask.shape)}"
                )
        return batched

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                "method `generate_square_subsequent_mask` to create this mask."
            )
        batched = self._check(query, key, value, key_padding_mask, attn_mask)
        # Work batch first: (N, L, E), whatever the layout asked for.
        if not batched:
            query, key, value = (t.unsqueeze(0) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            same = (query is key, key is value)
            query = query.transpose(0, 1)
            key = query if same[0] else key.transpose(0, 1)
            value = key if same[1] else value.transpose(0, 1)
        q, k, v = self._project(query, key, value)
        n, L, E, H = q.shape[0], q.shape[1], self.embed_dim, self.num_heads
        mask = self._mask(attn_mask, key_padding_mask, q._data.dtype, n, L, k.shape[1])
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(n, 1, E)], 1)
            v = cat([v, self.bias_v.expand(n, 1, E)], 1)
            mask = None if mask is None else F.pad(mask, (0, 1))
        q, k, v = (t.reshape(n, t.shape[1], H, self.head_dim).transpose(1, 2) for t in (q, k, v))
        if self.add_zero_attn:
            zeros = creation.zeros(n, H, 1, self.head_dim, dtype=q.dtype)
            k, v = cat([k, zeros], 2), cat([v, zeros], 2)
            mask = None if mask is None else F.pad(mask, (0, 1))
        dropout_p = self.dropout if self.training else 0.0
        weights = attention_weights(q, k, mask, None, dropout_p)  # (N, H, L, S)
        out = matmul(weights, v).transpose(1, 2).reshape(n, L, E)
        out = self.out_proj(out)
        if not batched:
            out, weights = out.squeeze(0), weights.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        return out, (weights.mean(dim=-3) if average_attn_weights else weights)

    def _mask(
        self, attn_mask: Tensor | None, key_padding_mask: Tensor | None, dtype: Any, n: int, L: int, S: int
    ) -> Tensor | None:
        """attn_mask and key_padding_mask as one additive mask that broadcasts to (N, H, L, S)."""
        mask = _additive(attn_mask, dtype, "attn_mask")
        if mask is not None:
            if mask.ndim == 2:
                if tuple(mask.shape) != (L, S):
                    raise RuntimeError(
                        f"The shape of the 2D attn_mask is {mask.shape}, but should be {(L, S)}."
                    )
            else:  # 3-D, as _check made sure
                want = (n * self.num_heads, L, S)
                if tuple(mask.shape) != want:
                    raise RuntimeError(
                        f"The shape of the 3D attn_mask is {mask.shape}, but should be {want}."
                    )
                mask = mask.reshape(n, self.num_heads, L, S)
        padding = _additive(key_padding_mask, dtype, "key_padding_mask")
        if padding is not None:
            padding = padding.reshape(n, 1, 1, S)
            mask = padding if mask is None else mask + padding
        return mask


__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]
