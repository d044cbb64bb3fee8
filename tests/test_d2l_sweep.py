"""The Dive into Deep Learning book's PyTorch code, and more of pytorch/examples, run with
`import ember as torch`: each gap they found as a regression test, and condensed versions of
the book's programs compared with PyTorch."""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pytest

import ember
from conftest import requires_torch

# ---- NumPy's argument names: y_hat.argmax(axis=1), A.sum(axis=1, keepdims=True) ------------


@requires_torch
@pytest.mark.parametrize(
    "call",
    [
        lambda T, x: x.argmax(axis=1),
        lambda T, x: x.sum(axis=1, keepdims=True),
        lambda T, x: x.sum(axis=[0, 1]),
        lambda T, x: x.mean(axis=0),
        lambda T, x: x.cumsum(axis=0),
        lambda T, x: x.max(axis=1).values,
        lambda T, x: x.softmax(axis=-1),
        lambda T, x: T.sum(x, axis=0, keepdims=True),
        lambda T, x: T.argmin(x, axis=1),
        lambda T, x: T.cat([x, x], axis=0),
        lambda T, x: T.stack([x, x], axis=1),
        lambda T, x: x.unsqueeze(axis=0),
        lambda T, x: T.std(x, axis=1, keepdims=True),
    ],
)
def test_axis_and_keepdims_name_dim_and_keepdim(call) -> None:
    import torch

    data = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    expected = call(torch, torch.from_numpy(data)).numpy()
    np.testing.assert_allclose(call(ember, ember.tensor(data)).numpy(), expected, rtol=1e-5)


def test_numpy_names_keep_gradients_signatures_and_pickling() -> None:
    x = ember.arange(6.0, requires_grad=True).reshape(2, 3)
    x.sum(axis=1, keepdims=True).pow(2).sum().backward()
    assert x.grad is None  # a non-leaf; its leaf has the gradient
    leaf = ember.ones(2, 3, requires_grad=True)
    (leaf * 2).mean(axis=0).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), np.full((2, 3), 1.0))
    import inspect

    assert list(inspect.signature(ember.Tensor.sum).parameters)[:3] == ["input", "dim", "keepdim"]
    assert pickle.loads(pickle.dumps(ember.sum)) is ember.sum
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        ember.ones(2).sum(dim=0, axis=0)
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        ember.ones(2).sum(0, axis=0)


# ---- vision_transformer: `from torch.hub import tqdm` ---------------------------------------


def test_hub_tqdm_is_tqdm_or_a_plain_bar_with_its_calls(capsys) -> None:
    from ember import hub
    from ember._progress import _TextBar

    try:
        import tqdm
    except ImportError:
        assert hub.tqdm is _TextBar
    else:
        assert hub.tqdm is tqdm.tqdm
    bar = _TextBar([1, 2, 3], desc="EPOCH[TRAIN]1/1")
    assert len(bar) == 3
    seen = []
    for item in bar:
        seen.append(item)
        bar.set_postfix({"Loss": f"{0.5:6f}"})
    assert seen == [1, 2, 3] and bar.n == 3
    assert "EPOCH[TRAIN]1/1" in capsys.readouterr().err
    assert list(_TextBar(range(2), disable=True)) == [0, 1]
    assert capsys.readouterr().err == ""
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        hub.nothing  # noqa: B018


# ---- condensed programs of the book, from the same initial values in both libraries --------


def _weights(*shape: int, seed: int = 0, scale: float = 0.1) -> np.ndarray:
    return (np.random.default_rng(seed + sum(shape)).normal(size=shape) * scale).astype(np.float32)


def _from_scratch(T) -> list:
    """Linear and softmax regression, an RNN with gradient clipping, Adam and batch norm, all
    written by hand as the book does, with NumPy's argument names where the book uses them."""
    results = []
    features = T.tensor(_weights(40, 2, scale=1.0))
    labels = (T.matmul(features, T.tensor([2, -3.4])) + 4.2).reshape((-1, 1))
    w, b = T.zeros((2, 1), requires_grad=True), T.zeros(1, requires_grad=True)
    for i in range(0, 40, 10):
        X, y = features[i : i + 10], labels[i : i + 10]
        loss = (T.matmul(X, w) + b - y.reshape(-1, 1)) ** 2 / 2
        loss.sum().backward()
        with T.no_grad():
            for param in (w, b):
                param -= 0.03 * param.grad / 10
                param.grad.zero_()
    results += w.reshape(-1).tolist() + b.tolist()

    W = T.tensor(_weights(2, 3), requires_grad=True)
    y = T.tensor([0, 2, 1, 2])
    X = features[:4]
    X_exp = T.exp(T.matmul(X, W))
    y_hat = X_exp / X_exp.sum(axis=1, keepdims=True)
    loss = -T.log(y_hat[list(range(len(y_hat))), y])
    loss.mean().backward()
    accuracy = float((y_hat.argmax(axis=1).type(y.dtype) == y).type(y.dtype).sum())
    results += W.grad.reshape(-1).tolist() + [accuracy]

    vocab, hiddens = 6, 5
    params = [
        T.tensor(a) for a in (_weights(vocab, hiddens), _weights(hiddens, hiddens), _weights(hiddens, vocab))
    ]
    params += [T.zeros(hiddens), T.zeros(vocab)]
    for param in params:
        param.requires_grad_(True)
    W_xh, W_hh, W_hq, b_h, b_q = params
    tokens = T.tensor([[0, 3, 5, 1], [2, 2, 4, 0]])
    inputs = T.nn.functional.one_hot(tokens.T, vocab).type(T.float32)
    (H,) = (T.zeros((2, hiddens)),)
    outputs = []
    for X in inputs:
        H = T.tanh(T.mm(X, W_xh) + T.mm(H, W_hh) + b_h)
        outputs.append(T.mm(H, W_hq) + b_q)
    target = T.tensor([[3, 5, 1, 2], [2, 4, 0, 1]]).T.reshape(-1)
    loss = T.nn.CrossEntropyLoss()(T.cat(outputs, dim=0), target.long()).mean()
    loss.backward()
    norm = T.sqrt(sum(T.sum(p.grad**2) for p in params))
    if norm > 0.1:
        for param in params:
            param.grad[:] *= 0.1 / norm
    results += [loss.item(), math.exp(loss.item())] + W_hh.grad.reshape(-1).tolist()

    p = T.tensor([[0.5], [-0.3]], requires_grad=True)
    v, s = T.zeros((2, 1)), T.zeros((2, 1))
    for t in range(1, 4):
        loss = ((T.matmul(features[:5], p) - labels[:5]) ** 2 / 2).mean()
        loss.backward()
        with T.no_grad():
            v[:] = 0.9 * v + 0.1 * p.grad
            s[:] = 0.999 * s + 0.001 * T.square(p.grad)
            p[:] -= 0.01 * (v / (1 - 0.9**t)) / (T.sqrt(s / (1 - 0.999**t)) + 1e-6)
        p.grad.data.zero_()
    results += p.reshape(-1).tolist()

    X = T.tensor(_weights(2, 3, 4, 4, scale=1.0), requires_grad=True)
    mean = X.mean(dim=(0, 2, 3), keepdim=True)
    var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    moving_var = 0.9 * T.ones((1, 3, 1, 1)) + 0.1 * var
    Y = (X - mean) / T.sqrt(var + 1e-5)
    (Y**3 * T.arange(3.0).reshape(1, 3, 1, 1)).sum().backward()
    results += moving_var.data.reshape(-1).tolist() + [X.grad.abs().sum().item()]
    return results


@requires_torch
def test_the_books_from_scratch_programs_match_torch() -> None:
    np.testing.assert_allclose(_from_scratch(ember), _from_scratch(__import__("torch")), rtol=2e-5, atol=1e-6)


def _sequence_mask(T, X, valid_len, value=0):
    mask = T.arange(X.size(1), dtype=T.float32)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X


def _masked_softmax(T, X, valid_lens):
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = T.repeat_interleave(valid_lens, shape[1])
    X = _sequence_mask(T, X.reshape(-1, shape[-1]), valid_lens.reshape(-1), value=-1e6)
    return T.nn.functional.softmax(X.reshape(shape), dim=-1)


def _seq2seq(T):
    """The book's GRU encoder-decoder with Bahdanau's additive attention, its masked
    softmax cross-entropy (a CrossEntropyLoss subclass), multi-head attention with
    repeat_interleave'd valid lengths, and the sinusoidal positional encoding."""
    nn = T.nn

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.src_embedding, self.tgt_embedding = nn.Embedding(7, 4), nn.Embedding(8, 4)
            self.encoder = nn.GRU(4, 6, 2, dropout=0.0)
            self.decoder = nn.GRU(4 + 6, 6, 2, dropout=0.0)
            self.W_k, self.W_q = nn.LazyLinear(5, bias=False), nn.LazyLinear(5, bias=False)
            self.w_v = nn.LazyLinear(1, bias=False)
            self.heads = nn.ModuleList([nn.LazyLinear(6, bias=False) for _ in range(4)])
            self.ln = nn.LayerNorm(6)
            self.dense = nn.LazyLinear(8)

        def attend(self, queries, keys, values, valid_lens):
            features = T.tanh(self.W_q(queries).unsqueeze(2) + self.W_k(keys).unsqueeze(1))
            weights = _masked_softmax(T, self.w_v(features).squeeze(-1), valid_lens)
            return T.bmm(weights, values)

        def multi_head(self, queries, keys, values, valid_lens, num_heads=2):
            def split(X):
                X = X.reshape(X.shape[0], X.shape[1], num_heads, -1).permute(0, 2, 1, 3)
                return X.reshape(-1, X.shape[2], X.shape[3])

            W_q, W_k, W_v, W_o = self.heads
            q, k, v = split(W_q(queries)), split(W_k(keys)), split(W_v(values))
            scores = T.bmm(q, k.transpose(1, 2)) / math.sqrt(q.shape[-1])
            valid_lens = T.repeat_interleave(valid_lens, repeats=num_heads, dim=0)
            out = T.bmm(_masked_softmax(T, scores, valid_lens), v)
            out = out.reshape(-1, num_heads, out.shape[1], out.shape[2]).permute(0, 2, 1, 3)
            return W_o(out.reshape(out.shape[0], out.shape[1], -1))

        def forward(self, src, tgt, valid_lens):
            enc_outputs, hidden_state = self.encoder(self.src_embedding(src).permute(1, 0, 2))
            enc_outputs = enc_outputs.permute(1, 0, 2)
            outputs = []
            for x in self.tgt_embedding(tgt).permute(1, 0, 2):
                query = T.unsqueeze(hidden_state[-1], dim=1)
                context = self.attend(query, enc_outputs, enc_outputs, valid_lens)
                x = T.cat((context, T.unsqueeze(x, dim=1)), dim=-1)
                out, hidden_state = self.decoder(x.permute(1, 0, 2), hidden_state)
                outputs.append(out)
            outputs = T.cat(outputs, dim=0).permute(1, 0, 2)
            P = T.zeros((1, 20, 6))
            angles = T.arange(20, dtype=T.float32).reshape(-1, 1) / T.pow(
                10000, T.arange(0, 6, 2, dtype=T.float32) / 6
            )
            P[:, :, 0::2], P[:, :, 1::2] = T.sin(angles), T.cos(angles)
            outputs = outputs + P[:, : outputs.shape[1], :]
            outputs = self.ln(self.multi_head(outputs, enc_outputs, enc_outputs, valid_lens) + outputs)
            return self.dense(outputs)

    class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
        def forward(self, pred, label, valid_len):
            weights = _sequence_mask(T, T.ones_like(label), valid_len)
            self.reduction = "none"
            unweighted = super().forward(pred.permute(0, 2, 1), label)
            return (unweighted * weights).mean(dim=1)

    return Model(), MaskedSoftmaxCELoss()


def _train_seq2seq(T, model, loss_fn) -> list:
    src = T.tensor([[1, 4, 5, 2, 0], [3, 6, 2, 0, 0]])
    tgt = T.tensor([[1, 7, 3, 2], [5, 2, 0, 0]])
    valid_lens, tgt_lens = T.tensor([4, 3]), T.tensor([4, 2])
    bos = T.tensor([1] * tgt.shape[0]).reshape(-1, 1)
    losses = []
    for _ in range(3):
        model.zero_grad()
        loss = loss_fn(model(src, T.cat([bos, tgt[:, :-1]], 1), valid_lens), tgt, tgt_lens)
        loss.sum().backward()
        T.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        with T.no_grad():  # the book's sgd(params, lr, batch_size)
            for param in model.parameters():
                param -= 0.2 * param.grad / 2
        losses.append(loss.sum().item())
    with T.no_grad():
        losses += model(src, bos, valid_lens).argmax(dim=2).reshape(-1).tolist()
    return losses


@requires_torch
def test_the_books_seq2seq_with_attention_matches_torch() -> None:
    import torch

    torch.manual_seed(0)
    t_model, t_loss = _seq2seq(torch)
    e_model, e_loss = _seq2seq(ember)
    src, tgt, lens = [[1, 4, 5, 2, 0], [3, 6, 2, 0, 0]], [[1, 7, 3, 2], [5, 2, 0, 0]], [4, 3]
    t_model(torch.tensor(src), torch.tensor(tgt), torch.tensor(lens))  # the lazy layers' shapes
    e_model(ember.tensor(src), ember.tensor(tgt), ember.tensor(lens))
    e_model.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t_model.state_dict().items()})
    np.testing.assert_allclose(
        _train_seq2seq(ember, e_model, e_loss), _train_seq2seq(torch, t_model, t_loss), rtol=1e-4, atol=1e-5
    )


# ---- ddp-tutorial-series: the names its scripts import from torch.distributed ---------------


def test_distributed_names_the_ddp_scripts_import(monkeypatch) -> None:
    from ember.distributed import destroy_process_group, get_node_local_rank, is_torchelastic_launched

    with pytest.raises(AssertionError, match="Process group cannot be None"):
        destroy_process_group()
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert is_torchelastic_launched() is False
    with pytest.raises(RuntimeError, match="LOCAL_RANK"):
        get_node_local_rank()
    assert get_node_local_rank(fallback_rank=0) == 0
    monkeypatch.setenv("LOCAL_RANK", "3")
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "job")
    assert get_node_local_rank() == 3 and is_torchelastic_launched() is True


@requires_torch
def test_pin_memory_without_an_accelerator_warns_as_torch() -> None:
    import torch

    for T in (torch, ember):
        loader = T.utils.data.DataLoader(
            T.utils.data.TensorDataset(T.ones(4, 2)), batch_size=2, pin_memory=True
        )
        with pytest.warns(
            UserWarning, match="'pin_memory' argument is set as true but no accelerator"
        ) as record:
            iter(loader)
        if T is ember:
            assert record[0].filename == __file__  # the caller's line, not the library's
        loader.pin_memory_device = "cuda"
        with pytest.warns(UserWarning, match="pin_memory_device is deprecated"):
            list(loader)


# ---- float(l.sum()) of a loss: PyTorch's once-per-process warning ----------------------------


def test_float_of_a_tensor_requiring_grad_warns_once(monkeypatch) -> None:
    from ember import _tensor

    monkeypatch.setattr(_tensor, "_scalar_warning", [False])
    loss = ember.ones(3, requires_grad=True).sum()
    assert int(loss) == 3 and loss.item() == 3.0 and float(ember.ones(())) == 1.0  # no warning
    with pytest.warns(UserWarning, match="requires_grad=True to a scalar") as record:
        assert float(loss) == 3.0
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(loss) == 3.0 and complex(loss) == 3.0  # once per process, as in PyTorch
    monkeypatch.setattr(_tensor, "_scalar_warning", [False])
    with pytest.warns(UserWarning, match="Consider using tensor.detach"):
        complex(loss)
