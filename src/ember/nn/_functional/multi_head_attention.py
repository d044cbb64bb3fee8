"""multi_head_attention_forward: the computation of nn.MultiheadAttention with every weight
passed in, composed from linear, reshapes and the core of scaled_dot_product_attention.

The heads are computed at once: the projected (N, L, E) query becomes (N, H, L, E/H) by a
reshape and a transpose, every mask is brought to one additive mask that broadcasts to
(N, H, L, S), and `attention_weights` does the rest. `attend` works batch first, as
MultiheadAttention (which calls it) stores nothing else; the public function takes
PyTorch's sequence-first layout.
"""

from __future__ import annotations

import warnings

import numpy as np

from ember import creation
from ember._stacklevel import outside_ember
from ember._tensor import Tensor
from ember.nn._functional.attention import attention_weights
from ember.nn._functional.layers import linear, pad
from ember.ops.api.products import matmul
from ember.ops.api.shape import cat, split


def _additive(mask: Tensor | None, query: Tensor, name: str) -> Tensor | None:
    """A bool mask (True = leave out) as 0 / -inf in the query's dtype; a float one of the
    query's dtype as is, and a float32 one in the query's dtype (as scaled_dot_product_attention
    takes it; other float dtypes fail in PyTorch too)."""
    if mask is None:
        return None
    dtype = query._data.dtype
    if mask._data.dtype == np.bool_:
        return Tensor(np.where(mask._data, -np.inf, 0).astype(dtype))
    if mask._data.dtype.kind not in "fV":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if mask._data.dtype == dtype:
        return mask
    if mask._data.dtype != np.float32:
        raise RuntimeError(
            f"Expected {name} dtype to be bool or float or to match query dtype, but got "
            f"{name}.dtype: {mask.dtype} and query.dtype: {query.dtype} instead."
        )
    return mask.to(query.dtype)


def shape_check(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    key_padding_mask: Tensor | None,
    attn_mask: Tensor | None,
    num_heads: int,
) -> bool:
    """PyTorch's checks of the number of dimensions (AssertionError, as its own); returns
    whether the input is batched (a 3-D query) rather than unbatched (2-D)."""
    if query.ndim not in (2, 3):
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor"
        )
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(
            f"For {kind} `query`, expected `key` and `value` to be {query.ndim}-D but found "
            f"{key.ndim}-D and {value.ndim}-D tensors respectively"
        )
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(
            f"For {kind} `query`, expected `key_padding_mask` to be `None` or {query.ndim - 1}-D "
            f"but found {key_padding_mask.ndim}-D tensor instead"
        )
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(
                f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.ndim}-D tensor instead"
            )
        expected = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
    return batched


def _combined_mask(
    attn_mask: Tensor | None,
    key_padding_mask: Tensor | None,
    query: Tensor,
    n: int,
    H: int,
    L: int,
    S: int,
    S_keys: int,
) -> Tensor | None:
    """attn_mask, (L, S) or (N*H, L, S), and key_padding_mask, (N, S_keys), as one additive
    mask that broadcasts to (N, H, L, S). S is the key's length, S_keys that of the keys
    attended to, a static key's when one is given (PyTorch checks each mask against one)."""
    if attn_mask is not None and key_padding_mask is not None and attn_mask.dtype != key_padding_mask.dtype:
        # e.g. a float causal mask with a bool padding mask, as PyTorch's translation tutorial
        warnings.warn(
            "Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for both instead.",
            UserWarning,
            stacklevel=outside_ember(),
        )
    mask = _additive(attn_mask, query, "attn_mask")
    if mask is not None:
        if mask.ndim == 2:
            if tuple(mask.shape) != (L, S):
                raise RuntimeError(f"The shape of the 2D attn_mask is {mask.shape}, but should be {(L, S)}.")
        else:
            if tuple(mask.shape) != (n * H, L, S):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {mask.shape}, but should be {(n * H, L, S)}."
                )
            mask = mask.reshape(n, H, L, S)
    padding = _additive(key_padding_mask, query, "key_padding_mask")
    if padding is not None:
        if tuple(padding.shape) != (n, S_keys):
            which, want, got = (
                (0, n, padding.shape[0]) if padding.shape[0] != n else (1, S_keys, padding.shape[1])
            )
            raise AssertionError(f"Expected key_padded_mask.shape[{which}] to be {want}, but got {got}")
        padding = padding.reshape(n, 1, 1, S_keys)
        mask = padding if mask is None else mask + padding
    return mask


def _static(t: Tensor, n: int, H: int, head_dim: int, name: str) -> Tensor:
    """A given (N*H, S, E/H) static key or value as (N, H, S, E/H)."""
    if t.shape[0] != n * H:
        raise AssertionError(f"expecting {name}.size(0) of {n * H}, but got {t.shape[0]}")
    if t.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {t.shape[2]}")
    return t.reshape(n, H, t.shape[1], head_dim)


def attend(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    proj_weights: tuple[Tensor, Tensor, Tensor] | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    key_padding_mask: Tensor | None,
    attn_mask: Tensor | None,
    average_attn_weights: bool,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    seq_first: bool = False,
) -> tuple[Tensor, Tensor]:
    """Attention on batch-first (N, L, E) query and (N, S, ·) key and value, checked by the
    caller: the (N, L, E) output and the (N, H, L, S') weights (averaged over the heads to
    (N, L, S') when average_attn_weights is set). proj_weights are the separate q, k and v
    projections, used when in_proj_weight is None. With seq_first the output is (L, N, E),
    contiguous as PyTorch's (laid out so by the heads' merging copy, which is made anyway)."""
    n, L, E = query.shape
    H = num_heads
    head_dim = E // H
    biases = (None,) * 3 if in_proj_bias is None else split(in_proj_bias, E)
    if proj_weights is None and query is key and key is value:  # self-attention: one product
        q, k, v = split(linear(query, in_proj_weight, in_proj_bias), E, -1)
    else:
        weights = split(in_proj_weight, E) if proj_weights is None else proj_weights
        q, k, v = (linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))
    S_keys = k.shape[1] if static_k is None else static_k.shape[1]
    mask = _combined_mask(attn_mask, key_padding_mask, q, n, H, L, k.shape[1], S_keys)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.reshape(1, 1, E).expand(n, 1, E)], 1)
        v = cat([v, bias_v.reshape(1, 1, E).expand(n, 1, E)], 1)
        mask = None if mask is None else pad(mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError(f"{'bias_k' if bias_k is not None else 'bias_v'} is set but the other is None")
    q = q.reshape(n, L, H, head_dim).transpose(1, 2)
    k = _static(static_k, n, H, head_dim, "static_k") if static_k is not None else k
    v = _static(static_v, n, H, head_dim, "static_v") if static_v is not None else v
    if static_k is None:
        k = k.reshape(n, k.shape[1], H, head_dim).transpose(1, 2)
    if static_v is None:
        v = v.reshape(n, v.shape[1], H, head_dim).transpose(1, 2)
    if add_zero_attn:
        zeros = creation.zeros(n, H, 1, head_dim, dtype=q.dtype)
        k, v = cat([k, zeros], 2), cat([v, zeros], 2)
        mask = None if mask is None else pad(mask, (0, 1))
    weights = attention_weights(q, k, mask, None, dropout_p)  # (N, H, L, S)
    out = matmul(weights, v)  # (N, H, L, E/H): the heads merged below, in one copy
    out = out.permute(2, 0, 1, 3).reshape(L, n, E) if seq_first else out.transpose(1, 2).reshape(n, L, E)
    out = linear(out, out_proj_weight, out_proj_bias)
    return out, (weights.mean(dim=-3) if average_attn_weights else weights)


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention with the weights given (torch.nn.functional.multi_head_attention_forward).

    query (L, N, E), key (S, N, kdim) and value (S, N, vdim), or unbatched (L, E) ...;
    returns the (L, N, E) output and the attention weights, (N, L, S) averaged over the
    heads or (N, H, L, S), or None when need_weights is False. Masks and the other
    arguments are nn.MultiheadAttention's; static_k and static_v, (N*H, S, E/H), replace
    the projected key and value. is_causal is a hint that needs attn_mask, which is used.
    """
    batched = shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
            "method `generate_square_subsequent_mask` to create this mask."
        )
    if query.shape[-1] != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {query.shape[-1]}"
        )
    E = query.shape[-1]
    if E % num_heads:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:-1] != value.shape[:-1]:
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:-1]} do not match value's {value.shape[:-1]}"
            )
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        proj_weights = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        proj_weights = None
    # Work batch first, (N, L, E), keeping self-attention's one tensor one tensor.
    same = (query is key, key is value)
    query = query.transpose(0, 1) if batched else query.unsqueeze(0)
    key = query if same[0] else (key.transpose(0, 1) if batched else key.unsqueeze(0))
    value = key if same[1] else (value.transpose(0, 1) if batched else value.unsqueeze(0))
    if key_padding_mask is not None and not batched:
        key_padding_mask = key_padding_mask.unsqueeze(0)
    out, weights = attend(
        query,
        key,
        value,
        num_heads,
        in_proj_weight,
        in_proj_bias,
        proj_weights,
        bias_k,
        bias_v,
        add_zero_attn,
        dropout_p if training else 0.0,
        out_proj_weight,
        out_proj_bias,
        key_padding_mask,
        attn_mask,
        average_attn_weights,
        static_k,
        static_v,
        seq_first=batched,
    )
    out, weights = (out, weights) if batched else (out.squeeze(0), weights.squeeze(0))
    return out, (weights if need_weights else None)
