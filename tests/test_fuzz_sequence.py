"""Regressions found by differential fuzzing of the sequence layers (recurrent layers,
attention, the Transformer layers, embeddings) against PyTorch: each test is the smallest
case of a discrepancy that random configurations turned up, compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

pytestmark = requires_torch


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_bag_max_norm_renormalizes_every_input_row(mode, padding_idx):
    # PyTorch renormalizes the rows of the whole input, padding_idx's row included; ember
    # left the padding row as it was
    import torch

    w = np.array([[3.0, 0.0], [0.0, 4.0], [1.0, 1.0], [0.0, 5.0]], dtype=np.float32)
    idx = np.array([0, 1, 2, 3])
    offsets = np.array([0, 2])
    tw = torch.tensor(w.copy(), requires_grad=True)
    ew = ember.tensor(w.copy(), requires_grad=True)
    args = dict(max_norm=1.0, mode=mode, padding_idx=padding_idx)
    t = torch.nn.functional.embedding_bag(torch.tensor(idx), tw, torch.tensor(offsets), **args)
    e = ember.nn.functional.embedding_bag(ember.tensor(idx), ew, ember.tensor(offsets), **args)
    assert_close(e, t)
    assert_close(ew, tw)
    assert np.abs(ew.detach().numpy()[1]).max() == pytest.approx(1.0)  # the padding row too
    t.sum().backward()
    e.sum().backward()
    assert_close(ew.grad, tw.grad)


def test_embedding_bag_module_max_norm_with_padding_idx():
    import torch

    w = np.array([[3.0, 0.0], [0.0, 4.0], [1.0, 1.0]], dtype=np.float32)
    tm = torch.nn.EmbeddingBag(3, 2, max_norm=1.0, padding_idx=1, mode="sum")
    em = ember.nn.EmbeddingBag(3, 2, max_norm=1.0, padding_idx=1, mode="sum")
    tm.load_state_dict({"weight": torch.tensor(w)})
    em.load_state_dict({"weight": ember.tensor(w)})
    idx = [[0, 1], [1, 2]]
    assert_close(em(ember.tensor(idx)), tm(torch.tensor(idx)))
    assert_close(em.weight, tm.weight)


@pytest.mark.parametrize("layer", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_transformer_layer_activation_module_is_the_last_child(layer):
    # PyTorch sets self.activation after the norms and dropouts: a Module activation is the
    # last child, so named_modules(), repr and parameters() (an optimizer's order) agree
    import torch

    tm = getattr(torch.nn, layer)(4, 2, 6, 0.0, activation=torch.nn.PReLU())
    em = getattr(ember.nn, layer)(4, 2, 6, 0.0, activation=ember.nn.PReLU())
    assert [n for n, _ in em.named_children()] == [n for n, _ in tm.named_children()]
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert list(em.state_dict()) == list(tm.state_dict())
    assert repr(em) == repr(tm)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(input_size=0, hidden_size=4), ValueError),
        (dict(input_size=-2, hidden_size=4), ValueError),
        (dict(input_size=3.0, hidden_size=4), TypeError),
        (dict(input_size=3, hidden_size=4, bias=1), TypeError),
        (dict(input_size=3, hidden_size=4, batch_first=None), TypeError),
    ],
)
@pytest.mark.parametrize("layer", ["RNN", "LSTM", "GRU"])
def test_recurrent_layer_checks_its_arguments(layer, kwargs, error):
    # PyTorch refuses an input_size that is not a positive int and a bias or batch_first
    # that is not a bool; ember built the layer (and failed later, or never)
    import torch

    with pytest.raises(error) as expected:
        getattr(torch.nn, layer)(**kwargs)
    with pytest.raises(error) as got:
        getattr(ember.nn, layer)(**kwargs)
    assert str(got.value) == str(expected.value)


def test_multihead_attention_empty_batch():
    # reshape(n, -1, ...) cannot infer -1 from an empty batch; PyTorch returns empty results
    import torch

    tm = torch.nn.MultiheadAttention(4, 2)
    em = ember.nn.MultiheadAttention(4, 2)
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.zeros((3, 0, 4), dtype=np.float32)
    t_out, t_w = tm(torch.tensor(x), torch.tensor(x), torch.tensor(x))
    e_out, e_w = em(ember.tensor(x), ember.tensor(x), ember.tensor(x))
    assert tuple(e_out.shape) == tuple(t_out.shape) == (3, 0, 4)
    assert tuple(e_w.shape) == tuple(t_w.shape) == (0, 3, 3)


@pytest.mark.parametrize("batched", [True, False])
def test_multihead_attention_refuses_a_4d_attn_mask_with_an_assertion(batched):
    import torch

    shape = (3, 2, 4) if batched else (3, 4)
    results = []
    for lib in (torch, ember):
        x = lib.ones(*shape)
        with pytest.raises(AssertionError) as info:
            lib.nn.MultiheadAttention(4, 2)(x, x, x, attn_mask=lib.zeros(2, 2, 3, 3))
        results.append(str(info.value))
    assert results[0] == results[1]


def _mha_functional_case(batched, separate, extras, seed):
    """Random arguments for multi_head_attention_forward, as (torch args, ember args, the
    torch tensors that require grad, their ember twins)."""
    import torch

    rng = np.random.default_rng(seed)
    E, H, N, L, S = 6, 3, 2, 3, 4
    kd, vd = (5, 2) if separate else (E, E)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    seq = (lambda s, d: (s, N, d)) if batched else (lambda s, d: (s, d))
    values = dict(query=arr(*seq(L, E)), key=arr(*seq(S, kd)), value=arr(*seq(S, vd)))
    values.update(in_proj_bias=arr(3 * E), out_proj_weight=arr(E, E), out_proj_bias=arr(E))
    if separate:
        values.update(q_proj_weight=arr(E, E), k_proj_weight=arr(E, kd), v_proj_weight=arr(E, vd))
    else:
        values["in_proj_weight"] = arr(3 * E, E)
    if "bias_kv" in extras:
        values.update(bias_k=arr(1, 1, E), bias_v=arr(1, 1, E))
    if "static" in extras:
        heads = N * H if batched else H
        values.update(static_k=arr(heads, 5, E // H), static_v=arr(heads, 5, E // H))
    keys = 5 if "static" in extras else S
    masks = {}
    if "masks" in extras:
        if "static" not in extras:  # PyTorch wants it (L, S) and (L, 5) at once
            masks["attn_mask"] = rng.random((L, S)) < 0.3
        masks["key_padding_mask"] = arr(*((N, keys) if batched else (keys,)))
    ts = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    es = {k: ember.tensor(v, requires_grad=True) for k, v in values.items()}
    ts.update({k: torch.tensor(v) for k, v in masks.items()})
    es.update({k: ember.tensor(v) for k, v in masks.items()})
    options = dict(
        embed_dim_to_check=E,
        num_heads=H,
        add_zero_attn="zero_attn" in extras,
        dropout_p=0.5,
        training=False,
        use_separate_proj_weight=separate,
        average_attn_weights="per_head" not in extras,
    )
    for lib_args in (ts, es):
        lib_args.setdefault("in_proj_weight", None)
        lib_args.setdefault("bias_k", None)
        lib_args.setdefault("bias_v", None)
    return {**ts, **options}, {**es, **options}, list(values)


@pytest.mark.parametrize(
    "batched, separate, extras",
    [
        (True, False, ()),
        (False, False, ("masks",)),
        (True, True, ("masks", "bias_kv", "zero_attn")),
        (False, True, ("per_head", "zero_attn")),
        (True, False, ("static", "masks", "per_head")),
        (False, False, ("static", "zero_attn")),
    ],
)
def test_multi_head_attention_forward_matches_torch(batched, separate, extras):
    import torch

    t_args, e_args, names = _mha_functional_case(batched, separate, extras, seed=len(extras))
    t_out, t_w = torch.nn.functional.multi_head_attention_forward(**t_args)
    e_out, e_w = ember.nn.functional.multi_head_attention_forward(**e_args)
    assert_close(e_out, t_out, atol=1e-5)
    assert_close(e_w, t_w, atol=1e-6)
    g = np.random.default_rng(0).standard_normal(tuple(t_out.shape)).astype(np.float32)
    ((t_out * torch.tensor(g)).sum() + t_w.sum()).backward()
    ((e_out * ember.tensor(g)).sum() + e_w.sum()).backward()
    for name in names:
        t_grad, e_grad = t_args[name].grad, e_args[name].grad
        if t_grad is None:  # key and value when static_k and static_v replace them
            assert e_grad is None or not e_grad.numpy().any(), name
        else:
            assert_close(e_grad, t_grad, rtol=1e-4, atol=1e-5)


def test_multi_head_attention_forward_need_weights_false_and_self_attention():
    import torch

    t_args, e_args, _ = _mha_functional_case(True, False, ("masks",), seed=3)
    for args in (t_args, e_args):
        args["key"] = args["value"] = args["query"]
        args["attn_mask"] = args["attn_mask"][:, :3]
        args["key_padding_mask"] = args["key_padding_mask"][:, :3]
    t_out, t_w = torch.nn.functional.multi_head_attention_forward(**t_args, need_weights=False)
    e_out, e_w = ember.nn.functional.multi_head_attention_forward(**e_args, need_weights=False)
    assert t_w is None and e_w is None
    assert_close(e_out, t_out, atol=1e-5)


def test_multi_head_attention_forward_is_the_module_computation():
    # MultiheadAttention (batch_first) and the functional form with its weights agree
    m = ember.nn.MultiheadAttention(4, 2, kdim=3, vdim=5, add_bias_kv=True, batch_first=True).eval()
    q, k, v = ember.randn(2, 3, 4), ember.randn(2, 6, 3), ember.randn(2, 6, 5)
    out, w = m(q, k, v, average_attn_weights=False)
    f_out, f_w = ember.nn.functional.multi_head_attention_forward(
        q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), 4, 2, None, m.in_proj_bias,
        m.bias_k, m.bias_v, False, 0.0, m.out_proj.weight, m.out_proj.bias, training=False,
        use_separate_proj_weight=True, q_proj_weight=m.q_proj_weight, k_proj_weight=m.k_proj_weight,
        v_proj_weight=m.v_proj_weight, average_attn_weights=False,
    )  # fmt: skip
    assert_close(f_out.transpose(0, 1), out.detach().numpy())
    assert_close(f_w, w.detach().numpy())


def test_multi_head_attention_forward_gradcheck():
    rng = np.random.default_rng(1)

    def t(*shape):
        return ember.tensor(rng.standard_normal(shape), dtype=ember.float64, requires_grad=True)

    q, k, v = t(3, 2, 4), t(5, 2, 4), t(5, 2, 4)
    w, b, wo, bo, bk, bv = t(12, 4), t(12), t(4, 4), t(4), t(1, 1, 4), t(1, 1, 4)
    mask = ember.tensor(rng.standard_normal((3, 5)), dtype=ember.float64)

    def f(q, k, v, w, b, wo, bo, bk, bv):
        out, weights = ember.nn.functional.multi_head_attention_forward(
            q, k, v, 4, 2, w, b, bk, bv, True, 0.0, wo, bo, attn_mask=mask, average_attn_weights=False
        )
        return out, weights

    assert ember.autograd.gradcheck(f, (q, k, v, w, b, wo, bo, bk, bv))


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(embed_dim_to_check=5), AssertionError, "was expecting embedding dimension of 5"),
        (dict(in_proj_weight=None), AssertionError, "in_proj_weight is None"),
        (dict(use_separate_proj_weight=True), AssertionError, "q_proj_weight is None"),
        (dict(is_causal=True), RuntimeError, "Need attn_mask"),
        (dict(bias_k="ones"), AssertionError, "bias_k is set but"),
        (dict(static_k="bad heads"), AssertionError, "expecting static_k.size\\(0\\) of 6, but got 5"),
        (
            dict(bias_k="ones", bias_v="ones", static_k="ok"),
            AssertionError,
            "bias cannot be added to static key",
        ),
    ],
)
def test_multi_head_attention_forward_errors(change, error, message):
    import torch

    for lib in (torch, ember):
        args = dict(
            query=lib.ones(3, 2, 6), key=lib.ones(4, 2, 6), value=lib.ones(4, 2, 6), embed_dim_to_check=6,
            num_heads=3, in_proj_weight=lib.ones(18, 6), in_proj_bias=None, bias_k=None, bias_v=None,
            add_zero_attn=False, dropout_p=0.0, out_proj_weight=lib.ones(6, 6), out_proj_bias=None,
        )  # fmt: skip
        for name, value in change.items():
            if value == "ones":
                value = lib.ones(1, 1, 6)
            elif value == "ok":
                value = lib.ones(6, 4, 2)
            elif value == "bad heads":
                value = lib.ones(5, 4, 2)
            args[name] = value
        with pytest.raises(error, match=message):
            lib.nn.functional.multi_head_attention_forward(**args)


@pytest.mark.parametrize("query_dtype", ["float64", "float16"])
def test_sdpa_takes_a_float32_mask_for_any_query(query_dtype):
    # PyTorch accepts a bool mask, one of the query's dtype, or a float32 one; ember refused
    # the float32 mask of a float64 or float16 query
    import torch

    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 4)).astype(query_dtype) for _ in range(3))
    mask = rng.standard_normal((3, 3)).astype(np.float32)
    t = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (q, k, v)), attn_mask=torch.tensor(mask)
    )
    e = ember.nn.functional.scaled_dot_product_attention(
        *(ember.tensor(a) for a in (q, k, v)), attn_mask=ember.tensor(mask)
    )
    assert str(e.dtype) == f"ember.{query_dtype}" and str(t.dtype) == f"torch.{query_dtype}"
    assert_close(e, t, atol=2e-3 if query_dtype == "float16" else 1e-6)


def test_sdpa_float32_mask_gradient_for_a_float64_query():
    q, k, v = (
        ember.tensor(np.random.default_rng(i).standard_normal((3, 2)), requires_grad=True) for i in range(3)
    )
    mask = ember.tensor(
        np.random.default_rng(3).standard_normal((3, 3)).astype(np.float32), requires_grad=True
    )
    out = ember.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    out.sum().backward()
    assert mask.grad is not None and mask.grad.dtype == ember.float32
    assert ember.autograd.gradcheck(
        lambda q, k, v: ember.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask.detach()),
        (q, k, v),
    )


@pytest.mark.parametrize("mask_dtype", ["float64", "float16"])
@pytest.mark.parametrize("which", ["attn_mask", "key_padding_mask"])
def test_multihead_attention_refuses_a_float_mask_of_another_dtype(mask_dtype, which):
    # a float64 mask made the float32 scores float64 and failed deep inside matmul; a
    # float16 one was used silently. PyTorch refuses both (a float32 mask of a float64
    # query is taken, as scaled_dot_product_attention takes it)
    import torch

    shape = (3, 3) if which == "attn_mask" else (2, 3)
    for lib in (torch, ember):
        m = lib.nn.MultiheadAttention(4, 2)
        x = lib.ones(3, 2, 4)
        mask = lib.zeros(*shape, dtype=getattr(lib, mask_dtype))
        with pytest.raises(RuntimeError):
            m(x, x, x, need_weights=False, **{which: mask})
    m = ember.nn.MultiheadAttention(4, 2, dtype=ember.float64)
    x = ember.ones(3, 2, 4, dtype=ember.float64)
    out, w = m(x, x, x, **{which: ember.zeros(*shape)})
    assert out.dtype == w.dtype == ember.float64


@pytest.mark.parametrize("attn", [None, "2d", "3d"])
@pytest.mark.parametrize("padding", [None, "bool", "float"])
def test_multihead_attention_merge_masks(attn, padding):
    import torch

    rng = np.random.default_rng(0)
    N, L, H = 2, 3, 2
    masks = {}
    if attn == "2d":
        masks["attn_mask"] = rng.standard_normal((L, L)).astype(np.float32)
    elif attn == "3d":
        masks["attn_mask"] = rng.standard_normal((N * H, L, L)).astype(np.float32)
    if padding == "bool":
        masks["key_padding_mask"] = rng.random((N, L)) < 0.5
    elif padding == "float":
        masks["key_padding_mask"] = rng.standard_normal((N, L)).astype(np.float32)
    query = np.zeros((N, L, 4), dtype=np.float32)
    t_mask, t_type = torch.nn.MultiheadAttention(4, H, batch_first=True).merge_masks(
        masks.get("attn_mask") if attn is None else torch.tensor(masks["attn_mask"]),
        None if padding is None else torch.tensor(masks["key_padding_mask"]),
        torch.tensor(query),
    )
    e_mask, e_type = ember.nn.MultiheadAttention(4, H, batch_first=True).merge_masks(
        None if attn is None else ember.tensor(masks["attn_mask"]),
        None if padding is None else ember.tensor(masks["key_padding_mask"]),
        ember.tensor(query),
    )
    assert e_type == t_type
    if t_mask is None:
        assert e_mask is None
    else:
        assert_close(e_mask, t_mask)


def test_pad_sequence_unknown_padding_side_raises_runtime_error():
    import torch

    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="Expected padding_side to be one of left or right"):
            lib.nn.utils.rnn.pad_sequence([lib.ones(2, 3)], padding_side="middle")


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_with_hidden_size_zero(cell):
    # PyTorch's cells accept hidden_size=0 and return empty states; ember's LSTM and GRU
    # steps split the gates by size 0, which gave one piece instead of four or two
    import torch

    t_out = getattr(torch.nn, cell)(3, 0)(torch.ones(2, 3))
    e_out = getattr(ember.nn, cell)(3, 0)(ember.ones(2, 3))
    t_out = t_out if isinstance(t_out, tuple) else (t_out,)
    e_out = e_out if isinstance(e_out, tuple) else (e_out,)
    assert [tuple(o.shape) for o in e_out] == [tuple(o.shape) for o in t_out] == [(2, 0)] * len(t_out)
