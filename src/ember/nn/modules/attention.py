"""nn.MultiheadAttention: its parameters, and its input in the batch-first layout handed to
`attend`, the computation F.multi_head_attention_forward shares (projections, heads, masks,
attention). Parameter names, shapes, order and initialisation are PyTorch's, so state
dicts load in either direction.
"""

from __future__ import annotations

from typing import Any

from ember import creation
from ember._tensor import Tensor
from ember.nn import init
from ember.nn._functional.multi_head_attention import attend, shape_check
from ember.nn.module import Module
from ember.nn.modules.linear import Linear
from ember.nn.parameter import Parameter


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under another name, as MultiheadAttention's out_proj is in PyTorch (where the
    name keeps quantization tools from swapping it); it prints with this name."""


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

    def _check(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None,
        attn_mask: Tensor | None,
    ) -> bool:
        """PyTorch's shape checks (AssertionError, as its own); returns whether batched."""
        batched = shape_check(query, key, value, key_padding_mask, attn_mask, self.num_heads)
        if query.shape[-1] != self.embed_dim:
            raise AssertionError(
                f"was expecting embedding dimension of {self.embed_dim}, but got {query.shape[-1]}"
            )
        # PyTorch's order: with one packed projection, key and value must agree in shape
        # (AssertionError), and features of another size fail in the projection (RuntimeError)
        if self._qkv_same_embed_dim and key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise (RuntimeError if self._qkv_same_embed_dim else AssertionError)(
                f"MultiheadAttention: key and value must have {self.kdim} and {self.vdim} features, "
                f"got key {list(key.shape)} and value {list(value.shape)}"
            )
        if key.shape[:-1] != value.shape[:-1]:
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
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
        # Work batch first: (N, L, E), whatever the layout asked for, keeping self-attention's
        # one tensor one tensor (its projection is then one product).
        if not batched:
            same = (query is key, key is value)
            query = query.unsqueeze(0)
            key = query if same[0] else key.unsqueeze(0)
            value = key if same[1] else value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            same = (query is key, key is value)
            query = query.transpose(0, 1)
            key = query if same[0] else key.transpose(0, 1)
            value = key if same[1] else value.transpose(0, 1)
        separate = (
            None if self._qkv_same_embed_dim else (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        )
        out, weights = attend(
            query,
            key,
            value,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            separate,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout if self.training else 0.0,
            self.out_proj.weight,
            self.out_proj.bias,
            key_padding_mask,
            attn_mask,
            average_attn_weights,
            seq_first=batched and not self.batch_first,  # (L, N, E), contiguous as PyTorch's
        )
        if not batched:
            out, weights = out.squeeze(0), weights.squeeze(0)
        return out, (weights if need_weights else None)

    def merge_masks(
        self, attn_mask: Tensor | None, key_padding_mask: Tensor | None, query: Tensor
    ) -> tuple[Tensor | None, int | None]:
        """The masks of a (batch, seq, embed) self-attention query as one, and its type:
        key_padding_mask (batch, seq) alone is type 1; attn_mask, (seq, seq) or
        (batch*heads, seq, seq), is expanded to (batch, heads, seq, seq) and added to the
        padding mask if there is one, type 2; (None, None) without masks
        (torch.nn.MultiheadAttention.merge_masks)."""
        if attn_mask is None:
            return key_padding_mask, (None if key_padding_mask is None else 1)
        batch, seq = query.shape[0], query.shape[1]
        if attn_mask.ndim == 3:
            merged = attn_mask.reshape(batch, -1, seq, seq)
        else:
            merged = attn_mask.reshape(1, 1, seq, seq).expand(batch, self.num_heads, seq, seq)
        if key_padding_mask is not None:
            merged = merged + key_padding_mask.reshape(batch, 1, 1, seq).expand(batch, self.num_heads, 1, seq)
        return merged, 2


__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]
