"""nn.RNN, nn.LSTM, nn.GRU and their cells against PyTorch with the same weights: outputs,
final states, input and parameter gradients, reprs, state_dict keys and errors; gradcheck
of the cells in float64."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

pytestmark = requires_torch


def _pair(name: str, *args: Any, dtype: str = "float64", **kwargs: Any) -> tuple[Any, Any]:
    """The same layer in ember and torch, ember's weights copied from torch's."""
    import torch

    t = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, dtype))
    e = getattr(ember.nn, name)(*args, **kwargs).to(getattr(ember, dtype))
    assert [k for k, _ in e.named_parameters()] == [k for k, _ in t.named_parameters()]
    for (_, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert tuple(pe.shape) == tuple(pt.shape)
        pe.data = ember.tensor(pt.detach().numpy().copy())
    return e, t


def _leaf(array: np.ndarray) -> tuple[Any, Any]:
    import torch

    return ember.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _flatten(out: Any) -> list:
    """The tensors of an output: a tensor, or nested tuples of them."""
    if isinstance(out, tuple):
        return [t for o in out for t in _flatten(o)]
    return [out]


def _check(e: Any, t: Any, inputs: list[np.ndarray], dtype: str = "float64") -> None:
    """Run both layers on the same inputs (the first is x, the rest the initial states),
    then compare every output, and the gradients of a random weighting of all outputs with
    respect to the inputs and the parameters."""
    import torch

    tol = dict(rtol=1e-9, atol=1e-11) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    leaves = [_leaf(a.astype(dtype)) for a in inputs]
    es, ts = [a for a, _ in leaves], [b for _, b in leaves]

    def call(module: Any, args: list) -> Any:
        if len(args) == 1:
            return module(args[0])
        return module(args[0], args[1] if len(args) == 2 else tuple(args[1:]))

    eo, to = _flatten(call(e, es)), _flatten(call(t, ts))
    assert len(eo) == len(to)
    rng = np.random.default_rng(0)
    e_loss, t_loss = 0, 0
    for a, b in zip(eo, to):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype) == str(b.dtype).replace("torch", "ember")
        assert_close(a, b, **tol)
        w = rng.normal(size=tuple(b.shape)).astype(dtype)
        e_loss = e_loss + (a * ember.tensor(w)).sum()
        t_loss = t_loss + (b * torch.tensor(w)).sum()
    e_loss.backward()
    t_loss.backward()
    for a, b in zip(es, ts):
        assert_close(a.grad, b.grad, **tol)
    for (name, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert pe.grad is not None, name
        assert_close(pe.grad, pt.grad, **tol)


def _randn(*shape: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed + len(shape)).normal(size=shape)


# ---- cells -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RNNCell", {}),
        ("RNNCell", {"nonlinearity": "relu", "bias": False}),
        ("LSTMCell", {}),
        ("LSTMCell", {"bias": False}),
        ("GRUCell", {}),
        ("GRUCell", {"bias": False}),
    ],
)
def test_cell_matches_torch(name: str, kwargs: dict, dtype: str) -> None:
    e, t = _pair(name, 3, 5, dtype=dtype, **kwargs)
    states = 2 if name == "LSTMCell" else 1
    _check(e, t, [_randn(4, 3)], dtype)
    e.zero_grad(), t.zero_grad()
    _check(e, t, [_randn(4, 3)] + [_randn(4, 5, seed=k) for k in range(states)], dtype)
    e.zero_grad(), t.zero_grad()
    # Unbatched: a 1-D input and 1-D states.
    _check(e, t, [_randn(3)] + [_randn(5, seed=k) for k in range(states)], dtype)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_gradcheck(name: str) -> None:
    """Gradients with respect to the input, the state and every weight, in float64."""
    cell = getattr(ember.nn, name)(2, 3).double()
    names = [n for n, _ in cell.named_parameters()]
    weights = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in cell.parameters()]
    x = ember.tensor(_randn(2, 2), requires_grad=True)
    h = ember.tensor(_randn(2, 3, seed=5), requires_grad=True)

    def run(x: Any, h: Any, *ws: Any) -> Any:
        # The weights under test take the parameters' places in the module's own dict.
        cell._parameters.update(zip(names, ws))
        if name == "LSTMCell":
            h_next, c_next = cell(x, (h, h * 0.5))
            return h_next * 2 + c_next
        return cell(x, h)

    assert ember.autograd.gradcheck(run, (x, h, *weights))


# ---- multi-layer modules -----------------------------------------------------------------


CASES = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}),
    ("RNN", {"bias": False, "batch_first": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "batch_first": True}),
    ("LSTM", {"bidirectional": True, "num_layers": 2}),
    ("LSTM", {"proj_size": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 3, "num_layers": 2, "bias": False}),
    ("GRU", {}),
    ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("GRU", {"bias": False}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", CASES)
def test_module_matches_torch(name: str, kwargs: dict, dtype: str) -> None:
    e, t = _pair(name, 3, 4, dtype=dtype, **kwargs)
    directions = 2 if kwargs.get("bidirectional") else 1
    stacks = kwargs.get("num_layers", 1) * directions
    h_size = kwargs.get("proj_size") or 4
    sizes = [h_size, 4] if name == "LSTM" else [h_size]
    seq, batch = 5, 2
    x = _randn(batch, seq, 3) if kwargs.get("batch_first") else _randn(seq, batch, 3)
    _check(e, t, [x], dtype)
    for m in (e, t):
        m.zero_grad()
    _check(e, t, [x] + [_randn(stacks, batch, s, seed=k) for k, s in enumerate(sizes)], dtype)
    for m in (e, t):
        m.zero_grad()
    # Unbatched (seq, features) input, with and without initial states.
    _check(e, t, [_randn(seq, 3)], dtype)
    for m in (e, t):
        m.zero_grad()
    _check(e, t, [_randn(seq, 3)] + [_randn(stacks, s, seed=k) for k, s in enumerate(sizes)], dtype)


def test_dropout_between_layers_in_train_mode_only() -> None:
    ember.manual_seed(0)
    lstm = ember.nn.LSTM(3, 4, num_layers=3, dropout=0.5).double()
    x = ember.tensor(_randn(6, 2, 3))
    lstm.eval()
    first, _ = lstm(x)
    assert_close(lstm(x)[0], first)
    lstm.train()
    a, (h, _) = lstm(x)
    b, _ = lstm(x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())  # a fresh mask per call
    # The last layer's output is not dropped: its last step is h_n's last entry.
    assert_close(a[-1], h[-1])
    # p = 1 zeroes the input of every layer after the first: layers 2 and 3 see only biases.
    lstm.dropout = 1.0
    c, _ = lstm(x)
    assert_close(c, lstm(ember.tensor(_randn(6, 2, 3, seed=9)))[0])


def test_parameters_state_dict_and_init_as_torch() -> None:
    import torch

    for name, kwargs in CASES + [("LSTM", {"proj_size": 2, "num_layers": 2, "bidirectional": True})]:
        e = getattr(ember.nn, name)(3, 4, **kwargs)
        t = getattr(torch.nn, name)(3, 4, **kwargs)
        assert list(e.state_dict()) == list(t.state_dict())
        assert [tuple(p.shape) for p in e.parameters()] == [tuple(p.shape) for p in t.parameters()]
        assert [[tuple(p.shape) for p in w] for w in e.all_weights] == [
            [tuple(p.shape) for p in w] for w in t.all_weights
        ]
        e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    for name in ("RNNCell", "LSTMCell", "GRUCell"):
        for bias in (True, False):
            e, t = getattr(ember.nn, name)(3, 4, bias=bias), getattr(torch.nn, name)(3, 4, bias=bias)
            assert list(e.state_dict()) == list(t.state_dict())
            assert [tuple(p.shape) for p in e.parameters()] == [tuple(p.shape) for p in t.parameters()]
    big = ember.nn.GRU(5, 400)
    for p in big.parameters():
        assert p.dtype == ember.float32
        assert p.abs().max().item() <= 1 / 20
        assert p.abs().max().item() > 0.9 / 20


def test_reprs_as_torch() -> None:
    import torch

    modules = [
        ("LSTM", (10, 20), {"num_layers": 2, "batch_first": True}),
        ("RNN", (3, 4), {"nonlinearity": "relu", "bias": False, "dropout": 0.5, "num_layers": 2}),
        ("GRU", (3, 4), {"bidirectional": True}),
        ("LSTM", (3, 4), {"proj_size": 2}),
        ("RNNCell", (3, 4), {"nonlinearity": "relu", "bias": False}),
        ("LSTMCell", (3, 4), {}),
        ("GRUCell", (3, 4), {"bias": False}),
    ]
    for name, args, kwargs in modules:
        e, t = getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert repr(e) == repr(t)
    assert (
        repr(ember.nn.LSTM(10, 20, num_layers=2, batch_first=True))
        == "LSTM(10, 20, num_layers=2, batch_first=True)"
    )


def _error(module: Any, *args: Any) -> tuple[type, str]:
    try:
        module(*args)
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        return type(exc), str(exc)
    return type(None), ""


def test_errors_as_torch() -> None:
    import torch

    def both(name: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        return getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)

    def r(*shape: int) -> np.ndarray:
        return np.zeros(shape, dtype=np.float32)

    calls = [
        ("LSTMCell", [r(2, 5)]),
        ("LSTMCell", [r(2, 3, 3)]),
        ("RNNCell", [r(2, 3, 3)]),
        ("LSTMCell", [r(2, 3), (r(2, 5), r(2, 4))]),
        ("LSTMCell", [r(2, 3), (r(3, 4), r(3, 4))]),
        ("LSTMCell", [r(2, 3), (r(2, 4), r(2, 5))]),
        ("RNNCell", [r(2, 3), r(2, 5)]),
        ("GRUCell", [r(2, 3), r(3, 4)]),
        ("LSTM", [r(5, 2, 6)]),
        ("LSTM", [r(5, 2, 3, 1)]),
        ("RNN", [r(5, 2, 3, 1)]),
        ("LSTM", [r(5, 2, 3), (r(1, 2, 4), r(1, 3, 4))]),
        ("LSTM", [r(5, 2, 3), (r(1, 3, 4), r(1, 2, 4))]),
        ("RNN", [r(5, 2, 3), r(1, 3, 4)]),
        ("GRU", [r(5, 2, 3), r(2, 2, 4)]),
        ("RNN", [r(5, 3), r(1, 3, 4)]),
        ("RNN", [r(5, 2, 3), r(1, 4)]),
        ("LSTM", [r(5, 3), (r(1, 1, 4), r(1, 1, 4))]),
        ("LSTM", [r(5, 2, 3), (r(1, 4), r(1, 4))]),
        ("GRU", [r(5, 3), r(2, 4)]),
        ("RNN", [r(0, 2, 3)]),
    ]
    for name, args in calls:
        e, t = both(name, 3, 4)
        ea = [tuple(ember.tensor(a) for a in x) if isinstance(x, tuple) else ember.tensor(x) for x in args]
        ta = [tuple(torch.tensor(a) for a in x) if isinstance(x, tuple) else torch.tensor(x) for x in args]
        assert _error(e, *ea) == _error(t, *ta), (name, [np.shape(a) for a in args])

    constructors = [
        ("RNN", (3, 4), {"nonlinearity": "sig"}),
        ("LSTM", (3, 4), {"proj_size": 4}),
        ("LSTM", (3, 4), {"proj_size": -1}),
        ("LSTM", (3, 0), {}),
        ("LSTM", (3, 4), {"num_layers": 0}),
        ("LSTM", (3, 4), {"dropout": 1.5}),
        ("LSTM", (3, 4.0), {}),
    ]
    for name, args, kwargs in constructors:
        assert _error(lambda: getattr(ember.nn, name)(*args, **kwargs)) == _error(  # noqa: B023
            lambda: getattr(torch.nn, name)(*args, **kwargs)  # noqa: B023
        )
    e, t = both("LSTM", 3, 4)
    assert (
        _error(e, ember.zeros(5, 2, 3, dtype=ember.float64))[1].replace("ember", "torch")
        == _error(t, torch.zeros(5, 2, 3, dtype=torch.float64))[1]
    )
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ember.nn.LSTM(3, 4, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.nn.LSTM(3, 4, num_layers=2, dropout=0.5)


def test_unbatched_hidden_of_the_wrong_rank_raises_for_a_cell() -> None:
    cell = ember.nn.GRUCell(3, 4)
    with pytest.raises(RuntimeError, match="GRUCell: Expected hidden0 to be 1D for a 1D input, got 2D"):
        cell(ember.zeros(3), ember.zeros(1, 4))
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: sig"):
        ember.nn.RNNCell(3, 4, nonlinearity="sig")(ember.zeros(1, 3))


def test_lstm_trains_on_a_tiny_sequence_task() -> None:
    """A model that must remember the first step of the sequence learns it."""
    ember.manual_seed(0)
    lstm, head = ember.nn.LSTM(1, 8, batch_first=True), ember.nn.Linear(8, 1)
    opt = ember.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.05)
    x = ember.randn(32, 6, 1)
    y = x[:, 0]
    for _ in range(60):
        opt.zero_grad()
        out, _ = lstm(x)
        loss = ember.nn.functional.mse_loss(head(out[:, -1]), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 3)])
def test_pad_sequence_matches_torch(batch_first, side, trailing):
    import torch

    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(n, *trailing)) for n in (3, 1, 4)]
    weights = rng.normal(size=(4, 3, *trailing) if not batch_first else (3, 4, *trailing))
    results = []
    for lib in (ember, torch):
        seqs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = lib.nn.utils.rnn.pad_sequence(
            seqs, batch_first=batch_first, padding_value=-2.0, padding_side=side
        )
        (out * lib.tensor(weights)).sum().backward()
        results.append((out.detach().numpy(), [s.grad.numpy() for s in seqs]))
    (mine, my_grads), (theirs, their_grads) = results
    np.testing.assert_array_equal(mine, theirs)
    for g, h in zip(my_grads, their_grads):
        np.testing.assert_array_equal(g, h)


def test_pad_sequence_errors():
    pad = ember.nn.utils.rnn.pad_sequence
    with pytest.raises(RuntimeError, match="empty list"):
        pad([])
    with pytest.raises(RuntimeError, match="trailing shape"):
        pad([ember.ones(2, 3), ember.ones(1, 4)])
    with pytest.raises(RuntimeError, match="padding_side"):
        pad([ember.ones(2)], padding_side="middle")
