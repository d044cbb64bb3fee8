"""Packed sequences (nn.utils.rnn) against PyTorch: PackedSequence, pack_padded_sequence,
pad_packed_sequence, pack_sequence, unpack_sequence, unpad_sequence (values, batch sizes,
permutations, gradients, round trips, errors), and RNN, LSTM and GRU run on a
PackedSequence with the same weights (packed output, h_n and c_n, gradients of the input,
the initial states and every parameter)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import requires_torch

pytestmark = requires_torch

ern = ember.nn.utils.rnn


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy()


def _both(array: np.ndarray) -> tuple[Any, Any]:
    import torch

    return ember.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _same_packed(e: Any, t: Any, **tol: float) -> None:
    """Two PackedSequences hold the same data, batch sizes and permutations."""
    np.testing.assert_allclose(_np(e.data), _np(t.data), **tol)
    np.testing.assert_array_equal(e.batch_sizes.numpy(), t.batch_sizes.numpy())
    assert e.batch_sizes.dtype == ember.int64
    for mine, theirs in ((e.sorted_indices, t.sorted_indices), (e.unsorted_indices, t.unsorted_indices)):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


# ---- packing and padding -------------------------------------------------------------------

CASES = [
    ([5, 3, 3, 1], True),
    ([2, 5, 2, 4], False),
    ([3, 5, 5, 1], False),  # ties keep their order
    ([1, 1, 1, 1], False),
    ([5, 4, 3, 2], False),  # already sorted, but asked to sort
]


@pytest.mark.parametrize("lengths,enforce_sorted", CASES)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_pack_padded_then_pad_matches_torch(lengths, enforce_sorted, batch_first, as_tensor):
    import torch

    rng = np.random.default_rng(len(lengths) + sum(lengths))
    x = rng.normal(size=(4, 6, 3) if batch_first else (6, 4, 3))
    xe, xt = _both(x)
    le = ember.tensor(lengths) if as_tensor else lengths
    lt = torch.tensor(lengths) if as_tensor else lengths
    pe = ern.pack_padded_sequence(xe, le, batch_first=batch_first, enforce_sorted=enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(
        xt, lt, batch_first=batch_first, enforce_sorted=enforce_sorted
    )
    _same_packed(pe, pt)
    for out_first, total in ((False, None), (True, None), (batch_first, 8)):
        ye, lengths_e = ern.pad_packed_sequence(
            pe, batch_first=out_first, padding_value=-3.0, total_length=total
        )
        yt, lengths_t = torch.nn.utils.rnn.pad_packed_sequence(
            pt, batch_first=out_first, padding_value=-3.0, total_length=total
        )
        np.testing.assert_array_equal(_np(ye), _np(yt))
        np.testing.assert_array_equal(lengths_e.numpy(), lengths_t.numpy())
        assert lengths_e.dtype == ember.int64
    # gradient of a weighting of the padded result flows back through both gathers
    w = rng.normal(size=tuple(yt.shape))
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy())


def test_round_trip_gives_back_the_valid_steps():
    x = ember.randn(4, 3, 2)
    lengths = [2, 4, 1]
    padded, got = ern.pad_packed_sequence(ern.pack_padded_sequence(x, lengths, enforce_sorted=False))
    assert got.tolist() == lengths
    mask = np.arange(4)[:, None] < np.array(lengths)[None, :]
    np.testing.assert_array_equal(_np(padded), np.where(mask[..., None], x.numpy(), 0.0))


@pytest.mark.parametrize("trailing", [(), (2,), (2, 3)])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_match_torch(trailing, enforce_sorted):
    import torch

    rng = np.random.default_rng(1)
    sizes = (4, 3, 1) if enforce_sorted else (2, 4, 1, 3)
    arrays = [rng.normal(size=(n, *trailing)) for n in sizes]
    es = [ember.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    pe = ern.pack_sequence(es, enforce_sorted=enforce_sorted)
    pt = torch.nn.utils.rnn.pack_sequence(ts, enforce_sorted=enforce_sorted)
    _same_packed(pe, pt)
    ue, ut = ern.unpack_sequence(pe), torch.nn.utils.rnn.unpack_sequence(pt)
    assert len(ue) == len(ut)
    for a, b, original in zip(ue, ut, arrays):
        np.testing.assert_array_equal(_np(a), _np(b))
        np.testing.assert_array_equal(_np(a), original)
    weights = [rng.normal(size=a.shape) for a in arrays]
    sum((a * ember.tensor(w)).sum() for a, w in zip(ue, weights)).backward()
    sum((b * torch.tensor(w)).sum() for b, w in zip(ut, weights)).backward()
    for e, t in zip(es, ts):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_matches_torch(batch_first):
    import torch

    x = np.random.default_rng(2).normal(size=(3, 5, 2) if batch_first else (5, 3, 2))
    lengths = [5, 2, 4]
    mine = ern.unpad_sequence(ember.tensor(x), ember.tensor(lengths), batch_first=batch_first)
    theirs = torch.nn.utils.rnn.unpad_sequence(
        torch.tensor(x), torch.tensor(lengths), batch_first=batch_first
    )
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(_np(a), _np(b))
    assert ern.unpad_sequence(ember.tensor(x), lengths, batch_first=batch_first)[1].shape == (2, 2)


def test_packing_is_twice_differentiable():
    lengths = [1, 3, 2]

    def through(x: Any) -> Any:
        packed = ern.pack_padded_sequence(x, lengths, enforce_sorted=False)
        squashed = packed._replace(data=ember.tanh(packed.data) ** 2)
        return ern.pad_packed_sequence(squashed, padding_value=0.5)[0]

    x = ember.randn(3, 3, 2, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(through, (x,))
    assert ember.autograd.gradgradcheck(through, (x,))


def test_packed_sequence_is_a_named_tuple_with_conversions():
    import torch

    pe = ern.pack_sequence([ember.ones(3, 2), ember.ones(1, 2)], enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_sequence([torch.ones(3, 2), torch.ones(1, 2)], enforce_sorted=False)
    assert repr(pe).replace("ember", "torch") == repr(pt)
    assert isinstance(pe, tuple) and pe._fields == pt._fields
    data, batch_sizes, sorted_indices, unsorted_indices = pe
    assert data is pe.data and batch_sizes.tolist() == [2, 1, 1]
    assert pe.is_cuda is False and pe.is_pinned() is False and pe.pin_memory() is pe
    assert pe.to(ember.float32) is pe and pe.float() is pe and pe.cpu() is pe
    for method, dtype in [
        ("double", ember.float64),
        ("half", ember.float16),
        ("long", ember.int64),
        ("int", ember.int32),
        ("short", ember.int16),
        ("char", ember.int8),
        ("byte", ember.uint8),
    ]:
        converted = getattr(pe, method)()
        assert isinstance(converted, ern.PackedSequence) and converted.data.dtype == dtype
        assert converted.batch_sizes is pe.batch_sizes and converted.sorted_indices is pe.sorted_indices
    assert pe.to(ember.float64).data.dtype == ember.float64
    with pytest.raises(RuntimeError, match="cuda"):
        pe.cuda()
    # made by hand: the inverse permutation is filled in, or the old (data, batch_sizes) pair
    by_hand = ern.PackedSequence(ember.ones(3), ember.tensor([2, 1]), ember.tensor([1, 0]))
    assert by_hand.unsorted_indices.tolist() == [1, 0]
    assert ern.PackedSequence((ember.ones(3), ember.tensor([2, 1]))).batch_sizes.tolist() == [2, 1]
    with pytest.raises(AssertionError, match="length 2"):
        ern.PackedSequence(ember.ones(3))
    assert ern.invert_permutation(ember.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert ern.invert_permutation(None) is None


def _raises_like_torch(call: Any, kind: type, fragment: str) -> None:
    """ember and torch raise the same exception type, both with the message fragment."""
    import torch

    for lib in (ember, torch):
        with pytest.raises(kind, match=fragment):
            call(lib)


def test_errors_match_torch():
    x = np.zeros((4, 3, 2), dtype=np.float32)

    def pack(lengths: Any, **kw: Any) -> Any:
        return lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(x), lengths, **kw)

    _raises_like_torch(pack([2, 3, 1]), RuntimeError, "must be sorted in decreasing order")
    _raises_like_torch(pack([3, 0, 1], enforce_sorted=False), RuntimeError, "greater than 0")
    _raises_like_torch(pack([0, 0, 0]), RuntimeError, "greater than 0")
    _raises_like_torch(pack([3, 2]), RuntimeError, r"Expected `len\(lengths\)` to be equal to batch_size")
    _raises_like_torch(pack([[3, 2, 1]]), RuntimeError, "should be a 1D CPU int64 tensor")
    _raises_like_torch(
        lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(0, 3, 2), [1, 1, 1]),
        RuntimeError,
        "Cannot pack empty tensors",
    )
    _raises_like_torch(
        lambda lib: lib.nn.utils.rnn.pack_sequence([lib.ones(2), lib.ones(3)]), RuntimeError, "sorted"
    )
    _raises_like_torch(lambda lib: lib.nn.utils.rnn.pack_sequence([]), RuntimeError, "empty list")
    _raises_like_torch(
        lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
            lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(x), [3, 2, 1]), total_length=2
        ),
        ValueError,
        "total_length=2 and max sequence length being 3",
    )
    # PyTorch reads past the input's end here; ember says what is wrong
    with pytest.raises(RuntimeError, match="length 9 does not fit in the input's 4 time steps"):
        ern.pack_padded_sequence(ember.tensor(x), [9, 3, 1])
    with pytest.raises(RuntimeError, match="got 2 lengths for a batch of 3"):
        ern.unpad_sequence(ember.tensor(x), [2, 1])


# ---- RNN, LSTM and GRU on packed sequences -------------------------------------------------


def _layer_pair(mode: str, dtype: str, **kwargs: Any) -> tuple[Any, Any]:
    """The same layer in ember and torch, ember's weights loaded from torch's state_dict."""
    import torch

    t = getattr(torch.nn, mode)(3, 5, **kwargs).to(getattr(torch, dtype))
    e = getattr(ember.nn, mode)(3, 5, **kwargs).to(getattr(ember, dtype))
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return e, t


def _as_list(state: Any) -> list:
    return list(state) if isinstance(state, tuple) else [state]


# (num_layers, bidirectional, enforce_sorted, batch_first, initial states given)
CONFIGS = [
    (1, False, True, False, False),
    (1, True, False, True, True),
    (2, False, False, False, True),
    (2, True, True, True, False),
    (2, True, False, False, True),
]


def _check_packed_layer(mode: str, config: tuple, dtype: str = "float64", **kwargs: Any) -> None:
    """Run the ember and torch layers on the same packed batch and compare the packed output,
    h_n (and c_n), and the gradients of a weighting of both with respect to the padded input,
    the initial states and every parameter."""
    import torch

    layers, bidirectional, enforce_sorted, batch_first, with_states = config
    e, t = _layer_pair(
        mode, dtype, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first, **kwargs
    )
    rng = np.random.default_rng(layers * 10 + bidirectional)
    lengths = [6, 6, 4, 2, 1] if enforce_sorted else [4, 6, 2, 6, 1]
    x = rng.normal(size=(5, 6, 3) if batch_first else (6, 5, 3)).astype(dtype)
    xe, xt = _both(x)
    pe = ern.pack_padded_sequence(xe, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(
        xt, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted
    )
    stacks = layers * (2 if bidirectional else 1)
    sizes = [kwargs.get("proj_size") or 5, 5] if mode == "LSTM" else [5]
    states = (
        [_both(rng.normal(size=(stacks, 5, size)).astype(dtype)) for size in sizes] if with_states else []
    )
    if not states:
        oe, he = e(pe)
        ot, ht = t(pt)
    elif mode == "LSTM":
        oe, he = e(pe, tuple(s for s, _ in states))
        ot, ht = t(pt, tuple(s for _, s in states))
    else:
        oe, he = e(pe, states[0][0])
        ot, ht = t(pt, states[0][1])
    tol = dict(rtol=1e-9, atol=1e-11) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    assert isinstance(oe, ern.PackedSequence)
    _same_packed(oe, ot, **tol)
    he, ht = _as_list(he), _as_list(ht)
    for a, b in zip(he, ht):
        np.testing.assert_allclose(_np(a), _np(b), **tol)

    w = rng.normal(size=tuple(ot.data.shape)).astype(dtype)
    ws = [rng.normal(size=tuple(h.shape)).astype(dtype) for h in ht]
    loss_e = (oe.data * ember.tensor(w)).sum() + sum((h * ember.tensor(v)).sum() for h, v in zip(he, ws))
    loss_t = (ot.data * torch.tensor(w)).sum() + sum((h * torch.tensor(v)).sum() for h, v in zip(ht, ws))
    loss_e.backward()
    loss_t.backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), **tol)
    for se, st in states:
        np.testing.assert_allclose(se.grad.numpy(), st.grad.numpy(), **tol)
    theirs = dict(t.named_parameters())
    for name, p in e.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs[name].grad.numpy(), err_msg=name, **tol)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_packed_layers_match_torch(mode, config):
    _check_packed_layer(mode, config)


@pytest.mark.parametrize("config", [CONFIGS[1], CONFIGS[4]])
def test_packed_lstm_with_projections_matches_torch(config):
    _check_packed_layer("LSTM", config, proj_size=3)


def test_packed_float32_and_relu_match_torch():
    _check_packed_layer("LSTM", CONFIGS[4], dtype="float32", proj_size=2)
    _check_packed_layer("RNN", CONFIGS[2], dtype="float32", nonlinearity="relu")
    _check_packed_layer("GRU", CONFIGS[3], bias=False)


@pytest.mark.parametrize("mode", ["GRU", "LSTM"])
def test_packed_run_is_each_sequence_run_alone(mode):
    """Each sequence's output and final state are those of the layer run on it alone: the
    padding is never seen, and the reverse direction starts at the sequence's own end."""
    layer = getattr(ember.nn, mode)(3, 4, num_layers=2, bidirectional=True, dtype=ember.float64)
    sequences = [ember.randn(n, 3, dtype=ember.float64) for n in (2, 5, 3)]
    packed_out, packed_state = layer(ern.pack_sequence(sequences, enforce_sorted=False))
    outputs = ern.unpack_sequence(packed_out)
    for i, s in enumerate(sequences):
        out, state = layer(s)
        np.testing.assert_allclose(_np(outputs[i]), _np(out), rtol=1e-12, atol=1e-14)
        for a, b in zip(_as_list(packed_state), _as_list(state)):
            np.testing.assert_allclose(_np(a[:, i]), _np(b), rtol=1e-12, atol=1e-14)


def test_packed_lstm_gradcheck():
    layer = ember.nn.LSTM(2, 3, bidirectional=True, proj_size=2, dtype=ember.float64)
    x = ember.randn(4, 3, 2, dtype=ember.float64, requires_grad=True)
    h0 = ember.randn(2, 3, 2, dtype=ember.float64, requires_grad=True)
    c0 = ember.randn(2, 3, 3, dtype=ember.float64, requires_grad=True)

    def run(x: Any, h0: Any, c0: Any) -> tuple:
        out, (h, c) = layer(ern.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False), (h0, c0))
        return out.data, h, c

    assert ember.autograd.gradcheck(run, (x, h0, c0))


def test_packed_layer_with_dropout_trains():
    layer = ember.nn.GRU(3, 4, num_layers=2, dropout=0.5)
    packed = ern.pack_sequence([ember.randn(3, 3), ember.randn(2, 3)])
    out, h = layer(packed)
    assert tuple(out.data.shape) == (5, 4) and tuple(h.shape) == (2, 2, 4)
    out.data.sum().backward()
    assert layer.weight_ih_l0.grad is not None


def test_packed_layer_errors_match_torch():
    x = np.zeros((4, 3, 2), dtype=np.float32)

    def call(name: str, hx: Any = None, data: Any = None, **kw: Any) -> Any:
        def run(lib: Any) -> Any:
            layer = getattr(lib.nn, name)(2, 4, **kw)
            packed = lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(x), [3, 2, 1])
            if data is not None:
                packed = lib.nn.utils.rnn.PackedSequence(data(lib), packed.batch_sizes)
            return layer(packed, hx(lib) if hx else None)

        return run

    _raises_like_torch(
        call("GRU", hx=lambda lib: lib.zeros(3, 4), num_layers=2),
        RuntimeError,
        r"Expected hidden size \(2, 3, 4\)",
    )
    # PyTorch fails on this one inside its kernel ("got an incorrect number of RNN parameters")
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 3, 4\), got \[1, 3, 3\]"):
        call("LSTM", hx=lambda lib: (lib.zeros(1, 3, 4), lib.zeros(1, 3, 3)))(ember)
    _raises_like_torch(
        call("RNN", data=lambda lib: lib.zeros(6, 3, 2)), RuntimeError, "input must have 2 dimensions"
    )
    _raises_like_torch(
        call("RNN", data=lambda lib: lib.zeros(6, 3)),
        RuntimeError,
        "input.size\\(-1\\) must be equal to input_size",
    )
    _raises_like_torch(
        call("GRU", data=lambda lib: lib.zeros(6, 2, dtype=lib.float64)),
        ValueError,
        "does not match weight dtype",
    )
