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
