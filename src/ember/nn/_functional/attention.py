"""scaled_dot_product_attention, composed from matmul, softmax, where and dropout.

Attention has no Function of its own: every step is an existing differentiable op, so the
gradients, gradcheck and second derivatives come from theirs. The steps are

    scores  = (query @ key^T) * scale          (..., L, S)
    scores  = masked: -inf where a bool mask is False, or + a float mask
    weights = softmax(scores, dim=-1), 0 on a row with no position left
    weights = dropout(weights, dropout_p)      only when dropout_p > 0
    output  = weights @ value                  (..., L, Ev)

A row whose every position is masked gets zero weights (and so a zero output and zero
gradients), as PyTorch 2.13's CPU attention gives, rather than the NaN of a plain softmax.
"""

from __future__ import annotations

import math

import numpy as np

from ember._tensor import Tensor
from ember.nn._functional.layers import dropout
from ember.ops.api.arith import where
from ember.ops.api.products import matmul, softmax


def _check(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None) -> None:
    """PyTorch's checks and messages, with the shapes named."""
    shapes = (
        f"(scaled_dot_product_attention: query {list(query.shape)}, key {list(key.shape)}, "
        f"value {list(value.shape)})"
    )
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be at least 2 dimensional, but got query.dim: "
            f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead. {shapes}"
        )
    dtypes = {query._data.dtype, key._data.dtype, value._data.dtype}
    if len(dtypes) != 1:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead. {shapes}"
        )
    if query._data.dtype.kind != "f":
        raise RuntimeError(
            f"scaled_dot_product_attention: expected floating-point tensors, got {query.dtype}"
        )
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query and key must have the same embedding size, got "
            f"{query.shape[-1]} and {key.shape[-1]} {shapes}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: key and value must have the same sequence length, got "
            f"{key.shape[-2]} and {value.shape[-2]} {shapes}"
        )
    if attn_mask is not None:
        if attn_mask._data.dtype not in (np.bool_, np.float32, query._data.dtype):
            raise RuntimeError(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                f"attn_mask.dtype: {attn_mask.dtype} and query.dtype: {query.dtype} instead."
            )


def _repeat_heads(query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
    """Grouped-query attention: each key/value head serves query.size(-3) / key.size(-3)
    consecutive query heads."""
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hq % hk or hq % hv:
        raise RuntimeError(
            f"scaled_dot_product_attention(enable_gqa=True): the number of query heads ({hq}) must be "
            f"a multiple of the key heads ({hk}) and of the value heads ({hv})"
        )
    return key.repeat_interleave(hq // hk, -3), value.repeat_interleave(hq // hv, -3)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value over the last two dimensions
    (torch.nn.functional.scaled_dot_product_attention).

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). A bool attn_mask
    keeps the positions where it is True; a float one is added to the scores; both broadcast
    to (..., L, S). is_causal keeps position j for query i when j <= i, with a mask too
    (as PyTorch's CPU flash-attention kernel does; its other kernels refuse). scale defaults to
    1/sqrt(E). Dropout (with probability dropout_p) is applied to the weights whenever
    dropout_p > 0, whatever the module's training mode, as in PyTorch.
    """
    _check(query, key, value, attn_mask)
    if not 0 <= dropout_p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if attn_mask is not None and attn_mask._data.dtype not in (np.bool_, query._data.dtype):
        attn_mask = attn_mask.to(query.dtype)  # a float32 mask serves any query, as in PyTorch
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3:
        key, value = _repeat_heads(query, key, value)
    if is_causal:
        causal = Tensor(np.tril(np.ones((query.shape[-2], key.shape[-2]), dtype=np.bool_)))
        if attn_mask is None:
            attn_mask = causal
        elif attn_mask._data.dtype == np.bool_:
            attn_mask = causal & attn_mask
        else:
            attn_mask = where(causal, attn_mask, -math.inf)
    weights = attention_weights(query, key, attn_mask, scale, dropout_p)
    return matmul(weights, value)


def attention_weights(
    query: Tensor, key: Tensor, attn_mask: Tensor | None, scale: float | None, dropout_p: float
) -> Tensor:
    """softmax(query @ key^T * scale + mask), dropped out with probability dropout_p: the
    (..., L, S) weights that attention multiplies the values by. Shared with
    nn.MultiheadAttention, which returns them; the arguments are not checked here."""
    factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, key.transpose(-2, -1)) * factor
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            scores = where(attn_mask, scores, -math.inf)
        else:
            scores = scores + attn_mask
    # A row with every position at -inf would give 0/0 in softmax: give it a finite row
    # first, then zero weights, so that neither the output nor the gradients see a NaN.
    dead = np.isneginf(scores._data).all(axis=-1, keepdims=True)
    if dead.any():
        dead_t = Tensor(dead)
        weights = softmax(scores.masked_fill(dead_t, 0.0), -1).masked_fill(dead_t, 0.0)
    else:
        weights = softmax(scores, -1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return weights
