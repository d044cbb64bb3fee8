"""Attention against PyTorch: F.scaled_dot_product_attention, nn.MultiheadAttention and the
Transformer layers, with the same weights and inputs. Outputs, attention weights, input and
parameter gradients, masks of every kind, reprs, state_dict keys and errors; gradcheck in
float64 of the attention function and of a tiny MultiheadAttention."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from conftest import assert_close, requires_torch


def _randn(*shape: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed + 10 * len(shape)).normal(size=shape)


def _tol(dtype: str) -> dict:
    return dict(rtol=1e-9, atol=1e-11) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)


def _leaves(arrays: list[np.ndarray]) -> tuple[list, list]:
    import torch

    es = [ember.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ts = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    return es, ts


def _backward_both(eo: Any, to: Any, dtype: str) -> None:
    """Backpropagate the same random weighting of both outputs."""
    import torch

    w = np.random.default_rng(7).normal(size=tuple(to.shape)).astype(dtype)
    (eo * ember.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()


# ---- scaled_dot_product_attention ---------------------------------------------------------


def _mask(kind: str, L: int, S: int, dtype: str) -> np.ndarray | None:
    rng = np.random.default_rng(3)
    if kind == "bool":
        keep = rng.random((L, S)) > 0.3
        keep[:, 0] = True  # no row fully masked here; that case has a test of its own
        return keep
    if kind == "float":
        return rng.normal(size=(1, L, S)).astype(dtype)
    if kind == "bool-batched":
        keep = rng.random((2, 1, L, S)) > 0.5
        keep[..., -1] = True
        return keep
    return None


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mask", [None, "bool", "float", "bool-batched", "causal"])
def test_sdpa_matches_torch(dtype: str, mask: str | None) -> None:
    import torch

    L, S = 3, 5
    arrays = [_randn(2, 2, L, 4).astype(dtype), _randn(2, 2, S, 4, seed=2).astype(dtype)]
    arrays.append(_randn(2, 2, S, 6, seed=3).astype(dtype))
    (eq, ek, ev), (tq, tk, tv) = _leaves(arrays)
    m = None if mask == "causal" else _mask(str(mask), L, S, dtype)
    kwargs: dict = {"is_causal": mask == "causal"}
    eo = F.scaled_dot_product_attention(eq, ek, ev, None if m is None else ember.tensor(m), **kwargs)
    to = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, None if m is None else torch.tensor(m), **kwargs
    )
    assert str(eo.dtype) == str(to.dtype).replace("torch", "ember")
    assert_close(eo, to, **_tol(dtype))
    _backward_both(eo, to, dtype)
    for a, b in zip((eq, ek, ev), (tq, tk, tv)):
        assert_close(a.grad, b.grad, **_tol(dtype))


@requires_torch
@pytest.mark.parametrize("mask", ["bool", "float", "bool-batched"])
def test_sdpa_causal_with_a_mask_on_4d_input_matches_torch(mask: str) -> None:
    # PyTorch's CPU flash-attention kernel (4-D input, no dropout, one head size) applies
    # the mask and the causal one together; ember does everywhere, where PyTorch's other
    # kernels raise "Explicit attn_mask should not be set when is_causal=True"
    import torch

    L, S = 3, 5
    arrays = [_randn(2, 2, L, 4), _randn(2, 2, S, 4, seed=2), _randn(2, 2, S, 4, seed=3)]
    (eq, ek, ev), (tq, tk, tv) = _leaves(arrays)
    m = _mask(mask, L, S, "float64")
    m = m[0] if mask == "float" else m  # (L, S): PyTorch's flash kernel takes 2-D or 4-D masks
    eo = F.scaled_dot_product_attention(eq, ek, ev, ember.tensor(m), is_causal=True)
    to = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, torch.tensor(m), is_causal=True)
    assert_close(eo, to, **_tol("float64"))
    _backward_both(eo, to, "float64")
    for a, b in zip((eq, ek, ev), (tq, tk, tv)):
        assert_close(a.grad, b.grad, **_tol("float64"))
    two_d = F.scaled_dot_product_attention(
        eq[0, 0], ek[0, 0], ev[0, 0], ember.tensor(np.broadcast_to(m, (2, 2, L, S))[0, 0]), is_causal=True
    )
    assert_close(two_d, eo[0, 0])


@requires_torch
def test_sdpa_scale_gqa_and_unbatched() -> None:
    import torch

    q, k, v = _randn(1, 4, 3, 2), _randn(1, 2, 3, 2, seed=2), _randn(1, 2, 3, 5, seed=3)
    (eq, ek, ev), (tq, tk, tv) = _leaves([q, k, v])
    eo = F.scaled_dot_product_attention(eq, ek, ev, scale=0.3, enable_gqa=True)
    to = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, scale=0.3, enable_gqa=True)
    assert_close(eo, to, **_tol("float64"))
    _backward_both(eo, to, "float64")
    for a, b in zip((eq, ek, ev), (tq, tk, tv)):
        assert_close(a.grad, b.grad, **_tol("float64"))
    # 2-D query, key and value: one sequence, no batch.
    e2 = F.scaled_dot_product_attention(ember.tensor(q[0, 0]), ember.tensor(k[0, 0]), ember.tensor(v[0, 0]))
    t2 = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(q[0, 0]), torch.tensor(k[0, 0]), torch.tensor(v[0, 0])
    )
    assert_close(e2, t2, **_tol("float64"))


@requires_torch
def test_sdpa_fully_masked_row_is_zero() -> None:
    """PyTorch 2.13 gives a row with no position left zeros (not the NaN of 0/0), and zero
    gradients; so does ember, for bool and -inf float masks alike."""
    import torch

    keep = np.ones((3, 4), dtype=bool)
    keep[1] = False
    for m in (keep, np.where(keep, 0.0, -np.inf)):
        (eq, ek, ev), (tq, tk, tv) = _leaves(
            [_randn(2, 3, 2), _randn(2, 4, 2, seed=2), _randn(2, 4, 2, seed=3)]
        )
        eo = F.scaled_dot_product_attention(eq, ek, ev, ember.tensor(m))
        to = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, torch.tensor(m))
        assert np.all(eo.detach().numpy()[:, 1] == 0)
        assert_close(eo, to, **_tol("float64"))
        _backward_both(eo, to, "float64")
        for a, b in zip((eq, ek, ev), (tq, tk, tv)):
            assert np.isfinite(a.grad.numpy()).all()
            assert_close(a.grad, b.grad, **_tol("float64"))


def test_sdpa_dropout_only_when_p_positive() -> None:
    q, k, v = (ember.tensor(_randn(2, 3, 4, seed=s), dtype=ember.float32) for s in range(3))
    plain = F.scaled_dot_product_attention(q, k, v)
    assert np.array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=0.0).numpy(), plain.numpy())
    ember.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert not np.allclose(dropped.numpy(), plain.numpy())
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0)


def test_sdpa_gradcheck() -> None:
    q = ember.tensor(_randn(2, 3, 2), requires_grad=True)
    k = ember.tensor(_randn(2, 4, 2, seed=2), requires_grad=True)
    v = ember.tensor(_randn(2, 4, 3, seed=3), requires_grad=True)
    bias = ember.tensor(_randn(3, 4, seed=4), requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, b), (q, k, v, bias)
    )
    assert ember.autograd.gradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v)
    )


@requires_torch
@pytest.mark.parametrize(
    "shapes, kwargs",
    [
        (((3,), (4, 3), (4, 3)), {}),
        (((2, 3), (4, 2), (4, 3)), {}),
        (((2, 3), (4, 3), (5, 3)), {}),
        (((2, 3), (4, 3), (4, 3)), {"attn_mask": np.ones((2, 4), dtype=np.int64)}),
        (((2, 3), (4, 3), (4, 3)), {"dropout_p": 1.5}),
    ],
)
def test_sdpa_errors_like_torch(shapes: tuple, kwargs: dict) -> None:
    import torch

    arrays = [np.ones(s, dtype=np.float32) for s in shapes]
    tk = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    ek = {k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with pytest.raises(RuntimeError):
        torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, arrays), **tk)
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(*map(ember.tensor, arrays), **ek)


def test_sdpa_dtype_errors() -> None:
    q = ember.ones(2, 3)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q, q.double())
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ember.zeros(2, 2, dtype=ember.float64))


# ---- nn.MultiheadAttention ----------------------------------------------------------------


def _pair(name: str, *args: Any, dtype: str = "float64", **kwargs: Any) -> tuple[Any, Any]:
    """The same module in ember and torch, in eval mode, ember's weights copied from torch's."""
    import torch

    t = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, dtype)).eval()
    e = getattr(ember.nn, name)(*args, **kwargs).to(getattr(ember, dtype)).eval()
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()
    ]
    e.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t.state_dict().items()})
    return e, t


def _compare_grads(e: Any, t: Any, es: list, ts: list, dtype: str) -> None:
    for a, b in zip(es, ts):
        if b.grad is not None:
            assert_close(a.grad, b.grad, **_tol(dtype))
    for (name, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert pe.grad is not None, name
        assert_close(pe.grad, pt.grad, **_tol(dtype))


MHA_CASES = [
    ({}, {}),
    ({"batch_first": True}, {"need_weights": False}),
    ({"kdim": 3, "vdim": 5}, {"average_attn_weights": False}),
    ({"bias": False, "add_bias_kv": True, "add_zero_attn": True}, {}),
    ({}, {"key_padding_mask": "bool", "attn_mask": "bool"}),
    ({"batch_first": True}, {"key_padding_mask": "float", "attn_mask": "float3d"}),
    ({}, {"attn_mask": "causal", "is_causal": True}),
    ({"add_bias_kv": True}, {"key_padding_mask": "bool", "attn_mask": "float"}),
]


def _mha_masks(kwargs: dict, N: int, H: int, L: int, S: int, dtype: str) -> tuple[dict, dict]:
    """The masks a case names, for ember and for torch."""
    import torch

    rng = np.random.default_rng(5)
    made: dict = {}
    for name, kind in kwargs.items():
        if name == "key_padding_mask":
            pad = rng.random((N, S)) > 0.6
            pad[:, 0] = False  # keep one key per sequence
            made[name] = pad if kind == "bool" else np.where(pad, -1e9, rng.normal(size=(N, S)))
        elif name == "attn_mask":
            if kind == "causal":
                made[name] = np.triu(np.ones((L, S), dtype=bool), 1)
            elif kind == "bool":
                made[name] = (rng.random((L, S)) > 0.7) & (np.arange(S) > 0)
            elif kind == "float":
                made[name] = rng.normal(size=(L, S))
            else:
                made[name] = rng.normal(size=(N * H, L, S))
    made = {k: v if v.dtype == bool else v.astype(dtype) for k, v in made.items()}
    e = dict(kwargs, **{k: ember.tensor(v) for k, v in made.items()})
    t = dict(kwargs, **{k: torch.tensor(v) for k, v in made.items()})
    return e, t


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("init, call", MHA_CASES)
def test_mha_matches_torch(init: dict, call: dict, dtype: str) -> None:
    E, H, N, L, S = 4, 2, 3, 2, 4
    e, t = _pair("MultiheadAttention", E, H, dtype=dtype, **init)
    kdim, vdim = init.get("kdim", E), init.get("vdim", E)
    bf = init.get("batch_first", False)
    shape = (lambda n, s, d: (n, s, d)) if bf else (lambda n, s, d: (s, n, d))
    arrays = [_randn(*shape(N, L, E)), _randn(*shape(N, S, kdim), seed=2), _randn(*shape(N, S, vdim), seed=3)]
    es, ts = _leaves([a.astype(dtype) for a in arrays])
    ek, tk = _mha_masks(call, N, H, L, S, dtype)
    (eo, ew), (to, tw) = e(*es, **ek), t(*ts, **tk)
    assert (ew is None) == (tw is None)
    assert_close(eo, to, **_tol(dtype))
    if tw is not None:
        assert_close(ew, tw, **_tol(dtype))
    _backward_both(eo, to, dtype)
    _compare_grads(e, t, es, ts, dtype)


@requires_torch
def test_mha_self_attention_and_unbatched() -> None:
    """query, key and value the same tensor (one projection), batched and unbatched."""
    e, t = _pair("MultiheadAttention", 4, 2, batch_first=True)
    for shape in ((2, 3, 4), (3, 4)):
        (ex,), (tx,) = _leaves([_randn(*shape)])
        (eo, ew), (to, tw) = e(ex, ex, ex), t(tx, tx, tx)
        assert_close(eo, to, **_tol("float64"))
        assert_close(ew, tw, **_tol("float64"))
        _backward_both(eo, to, "float64")
        _compare_grads(e, t, [ex], [tx], "float64")
        e.zero_grad(), t.zero_grad()


def test_mha_gradcheck() -> None:
    mha = ember.nn.MultiheadAttention(2, 2, add_bias_kv=True).double()
    x = ember.tensor(_randn(2, 1, 2), requires_grad=True)
    kpm = ember.tensor(np.array([[False, True]]))
    params = list(mha.parameters())
    assert ember.autograd.gradcheck(lambda x, *ps: mha(x, x, x, key_padding_mask=kpm)[0], (x, *params))


@requires_torch
@pytest.mark.parametrize(
    "init", [{}, {"kdim": 3, "vdim": 5, "bias": False}, {"add_bias_kv": True, "add_zero_attn": True}]
)
def test_mha_repr_state_dict_and_init(init: dict) -> None:
    import torch

    e, t = ember.nn.MultiheadAttention(6, 3, **init), torch.nn.MultiheadAttention(6, 3, **init)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    for name, p in e.named_parameters():
        if name.endswith("bias") and "proj" in name:
            assert np.all(p.detach().numpy() == 0), name
        elif "proj_weight" in name:  # xavier_uniform_
            bound = np.sqrt(6 / sum(p.shape))
            assert np.abs(p.detach().numpy()).max() <= bound


def test_mha_errors() -> None:
    with pytest.raises(AssertionError, match="divisible"):
        ember.nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match="greater than 0"):
        ember.nn.MultiheadAttention(0, 2)
    mha = ember.nn.MultiheadAttention(4, 2)
    x = ember.ones(3, 2, 4)
    with pytest.raises(AssertionError, match="embedding dimension of 4"):
        mha(ember.ones(3, 2, 5), x, x)
    with pytest.raises(AssertionError, match="3-D"):
        mha(x, x[0], x[0])
    with pytest.raises(AssertionError, match="key_padding_mask shape"):
        mha(x, x, x, key_padding_mask=ember.zeros(3, 2, dtype=ember.bool))
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        mha(x, x, x, attn_mask=ember.zeros(2, 2, dtype=ember.bool))
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        mha(x, x, x, is_causal=True)


# ---- Transformer layers -------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "init, masks",
    [
        ({}, {}),
        ({"batch_first": True, "norm_first": True, "activation": "gelu"}, {"src_key_padding_mask": True}),
        ({"bias": False}, {"src_mask": True}),
    ],
)
def test_encoder_matches_torch(init: dict, masks: dict, dtype: str) -> None:
    import torch

    N, L, D = 2, 3, 4
    torch.manual_seed(0)  # unseeded, about one initialisation in 300 exceeds float32's tolerance
    layer_e, layer_t = _pair("TransformerEncoderLayer", D, 2, 8, dtype=dtype, **init)
    e = ember.nn.TransformerEncoder(layer_e, 2, norm=ember.nn.LayerNorm(D).to(getattr(ember, dtype))).eval()
    t = torch.nn.TransformerEncoder(layer_t, 2, norm=torch.nn.LayerNorm(D), enable_nested_tensor=False)
    t = t.to(getattr(torch, dtype)).eval()
    e.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t.state_dict().items()})
    shape = (N, L, D) if init.get("batch_first") else (L, N, D)
    es, ts = _leaves([_randn(*shape).astype(dtype)])
    ek, tk = {}, {}
    if "src_key_padding_mask" in masks:
        pad = np.array([[False, False, True], [False, True, True]])
        ek["src_key_padding_mask"], tk["src_key_padding_mask"] = ember.tensor(pad), torch.tensor(pad)
    if "src_mask" in masks:
        causal = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=getattr(torch, dtype))
        ek["mask"], tk["mask"] = (
            ember.nn.Transformer.generate_square_subsequent_mask(L, dtype=getattr(ember, dtype)),
            causal,
        )
    eo, to = e(es[0], **ek), t(ts[0], **tk)
    assert_close(eo, to, **_tol(dtype))
    _backward_both(eo, to, dtype)
    _compare_grads(e, t, es, ts, dtype)


@requires_torch
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_inference_zeroes_padded_positions_as_torch(norm_first: bool) -> None:
    # PyTorch's inference path packs right-padded sequences into a nested tensor and
    # unpacks them with 0 at the padded positions (post-norm, batch_first, even nhead)
    import torch

    layer_e, layer_t = _pair("TransformerEncoderLayer", 4, 2, 8, batch_first=True, norm_first=norm_first)
    e = ember.nn.TransformerEncoder(layer_e, 2).double().eval()
    t = torch.nn.TransformerEncoder(layer_t, 2, enable_nested_tensor=not norm_first).double().eval()
    e.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t.state_dict().items()})
    assert e.use_nested_tensor == t.use_nested_tensor == (not norm_first)
    x = _randn(3, 4, 4)
    pad = np.array([[False] * 4, [False, False, True, True], [False, True, True, True]])
    for p in (pad, np.where(pad, -np.inf, 0.0)):
        with torch.no_grad():
            to = t(torch.tensor(x), src_key_padding_mask=torch.tensor(p))
        with ember.no_grad():
            eo = e(ember.tensor(x), src_key_padding_mask=ember.tensor(p))
        assert_close(eo, to, **_tol("float64"))
        assert (np.abs(eo.numpy()[pad]).max() == 0) == (not norm_first)
    # with the gradient recorded, PyTorch takes the ordinary path: no zeros
    eo = e(ember.tensor(x), src_key_padding_mask=ember.tensor(pad))
    assert_close(eo, t(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)), **_tol("float64"))
    assert np.abs(eo.detach().numpy()[pad]).max() > 0


@requires_torch
def test_transformer_matches_torch() -> None:
    import torch

    t = torch.nn.Transformer(4, 2, 1, 2, 8, batch_first=True).double().eval()
    e = ember.nn.Transformer(4, 2, 1, 2, 8, batch_first=True).double().eval()
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    e.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t.state_dict().items()})
    src, tgt = _randn(2, 3, 4), _randn(2, 2, 4, seed=2)
    (es, eg), (ts, tg) = _leaves([src, tgt])
    mask_e = ember.nn.Transformer.generate_square_subsequent_mask(2, dtype=ember.float64)
    mask_t = torch.nn.Transformer.generate_square_subsequent_mask(2, dtype=torch.float64)
    eo, to = e(es, eg, tgt_mask=mask_e), t(ts, tg, tgt_mask=mask_t)
    assert_close(eo, to, **_tol("float64"))
    _backward_both(eo, to, "float64")
    _compare_grads(e, t, [es, eg], [ts, tg], "float64")


def test_transformer_layer_errors_and_init() -> None:
    with pytest.raises(RuntimeError, match="relu/gelu"):
        ember.nn.TransformerEncoderLayer(4, 2, activation="tanh")
    model = ember.nn.Transformer(4, 2, 1, 1, 8)
    with pytest.raises(RuntimeError, match="batch number"):
        model(ember.ones(3, 2, 4), ember.ones(3, 1, 4))
    with pytest.raises(RuntimeError, match="d_model"):
        model(ember.ones(3, 2, 4), ember.ones(3, 2, 5))
    # The layers of a stack are copies, not one layer shared.
    stack = ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(4, 2, 8), 2)
    assert stack.layers[0].linear1.weight is not stack.layers[1].linear1.weight
