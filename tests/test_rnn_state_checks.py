"""The initial state `hx` of RNN, LSTM, GRU and their cells, in every bad form (a tuple
where a tensor is expected and the reverse, tuples of the wrong length, wrong shapes,
batched/unbatched mismatches, wrong dtypes, proj_size's shapes, packed inputs): ember
raises PyTorch's exception type where PyTorch raises, and computes PyTorch's result where
it computes one. Each case runs in both, with the same weights."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from conftest import requires_torch

pytestmark = requires_torch

torch = pytest.importorskip("torch")

IN, HID, PROJ = 3, 4, 2
_rng = np.random.default_rng(0)


def _a(*shape, dtype=np.float32):
    return _rng.standard_normal(shape).astype(dtype)


def _layer_cases():
    cases = []
    for kind in ("RNN", "GRU", "LSTM"):
        for batch_first, bidirectional, layers in ((False, False, 1), (True, False, 2), (False, True, 1)):
            stacks = layers * (2 if bidirectional else 1)
            kwargs = dict(
                input_size=IN,
                hidden_size=HID,
                num_layers=layers,
                batch_first=batch_first,
                bidirectional=bidirectional,
            )
            x3 = _a(2, 5, IN) if batch_first else _a(5, 2, IN)
            x2 = _a(5, IN)
            h, hu = _a(stacks, 2, HID), _a(stacks, HID)
            forms = {
                "good": (x3, (h, _a(stacks, 2, HID)) if kind == "LSTM" else h),
                "good_unbatched": (x2, (hu, _a(stacks, HID)) if kind == "LSTM" else hu),
                "tuple1": (x3, (h,)),
                "tuple2": (x3, (h, h)),
                "tuple3": (x3, (h, h, h)),
                "list1": (x3, [h]),
                "list2": (x3, [h, h]),
                "empty_tuple": (x3, ()),
                "tensor": (x3, h),
                "tensor_unbatched": (x2, hu),
                "layers": (x3, _a(stacks + 1, 2, HID)),
                "batch": (x3, _a(stacks, 3, HID)),
                "hidden": (x3, _a(stacks, 2, HID + 1)),
                "2d_for_3d": (x3, _a(2, HID)),
                "3d_for_2d": (x2, h),
                "1d": (x3, _a(HID)),
                "float64": (x3, _a(stacks, 2, HID, dtype=np.float64)),
                "float64_unbatched": (x2, _a(stacks, HID, dtype=np.float64)),
                "int64": (x3, np.zeros((stacks, 2, HID), np.int64)),
                "number": (x3, 0.0),
                "none_in_tuple": (x3, (None,)),
                "none_pair": (x3, (None, None)),
                "unbatched_tuple1": (x2, (hu,)),
                "c_hidden": (x3, (h, _a(stacks, 2, HID + 1))),
                "h_hidden": (x3, (_a(stacks, 2, HID + 1), h)),
                "c_batch": (x3, (h, _a(stacks, 3, HID))),
                "mixed_rank": (x3, (h, _a(2, HID))),
                "mixed_rank_unbatched": (x2, (hu, h)),
                "c_float64": (x3, (h, _a(stacks, 2, HID, dtype=np.float64))),
                "h_float64": (x3, (_a(stacks, 2, HID, dtype=np.float64), h)),
                "h_none": (x3, (None, h)),
            }
            tag = f"{kind}-bf{int(batch_first)}-bi{int(bidirectional)}-L{layers}"
            cases += [(f"{tag}-{name}", kind, kwargs, x, hx) for name, (x, hx) in forms.items()]
    x3 = _a(5, 2, IN)
    projected = {
        "good": (_a(1, 2, PROJ), _a(1, 2, HID)),
        "h_of_hidden_size": (_a(1, 2, HID), _a(1, 2, HID)),
        "c_of_proj_size": (_a(1, 2, PROJ), _a(1, 2, PROJ)),
        "swapped": (_a(1, 2, HID), _a(1, 2, PROJ)),
        "tensor": _a(1, 2, PROJ),
    }
    kwargs = dict(input_size=IN, hidden_size=HID, proj_size=PROJ)
    cases += [(f"LSTM-proj-{name}", "LSTM", kwargs, x3, hx) for name, hx in projected.items()]
    cases.append(
        ("LSTM-proj-unbatched-h_of_hidden_size", "LSTM", kwargs, _a(5, IN), (_a(1, HID), _a(1, HID)))
    )
    return cases


def _cell_cases():
    cases = []
    for kind in ("RNNCell", "GRUCell", "LSTMCell"):
        x2, x1 = _a(2, IN), _a(IN)
        h, hu = _a(2, HID), _a(HID)
        good = (h, _a(2, HID)) if kind == "LSTMCell" else h
        forms = {
            "good": (x2, good),
            "good_unbatched": (x1, (hu, _a(HID)) if kind == "LSTMCell" else hu),
            "tuple1": (x2, (h,)),
            "tuple2": (x2, (h, h)),
            "tuple3": (x2, (h, h, h)),
            "tuple3_unbatched": (x1, (hu, hu, hu)),
            "list1": (x2, [h]),
            "list2": (x2, [h, h]),
            "empty_tuple": (x2, ()),
            "tensor": (x2, h),
            "tensor_unbatched": (x1, _a(2, HID)),
            "batch": (x2, _a(3, HID)),
            "hidden": (x2, _a(2, HID + 1)),
            "1d_for_2d": (x2, hu),
            "2d_for_1d": (x1, h),
            "3d": (x2, _a(1, 2, HID)),
            "0d": (x2, np.float32(1.0)),
            "float64": (x2, _a(2, HID, dtype=np.float64)),
            "int64": (x2, np.zeros((2, HID), np.int64)),
            "number": (x2, 0.0),
            "none_in_tuple": (x2, (None,)),
            "none_pair": (x2, (None, None)),
            "c_hidden": (x2, (h, _a(2, HID + 1))),
            "c_batch": (x2, (h, _a(3, HID))),
            "c_float64": (x2, (h, _a(2, HID, dtype=np.float64))),
            "h_float64": (x2, (_a(2, HID, dtype=np.float64), h)),
            "mixed_rank": (x2, (h, hu)),
            "input_float64": (_a(2, IN, dtype=np.float64), good),
            "empty_batch": (_a(0, IN), (_a(0, HID), _a(0, HID)) if kind == "LSTMCell" else _a(0, HID)),
            "input_3d": (_a(1, 2, IN), good),
            "input_features": (_a(2, IN + 1), good),
            "h_none": (x2, (None, h)),
        }
        kwargs = dict(input_size=IN, hidden_size=HID)
        cases += [(f"{kind}-{name}", kind, kwargs, x, hx) for name, (x, hx) in forms.items()]
    return cases


def _pair(kind, kwargs):
    """The torch module and an ember one with its weights."""
    torch.manual_seed(0)
    reference = getattr(torch.nn, kind)(**kwargs)
    module = getattr(ember.nn, kind)(**kwargs)
    module.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    return module, reference


def _as(lib, value):
    if isinstance(value, (np.ndarray, np.generic)):
        return lib.tensor(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_as(lib, v) for v in value)
    return value


def _run(module, lib, x, hx):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return module(_as(lib, x), _as(lib, hx))
    except Exception as error:  # noqa: BLE001 - compared with torch's
        return error


def _flat(result):
    if isinstance(result, (tuple, list)):
        return [t for part in result for t in _flat(part)]
    return [result]


def _compare(kind, kwargs, x, hx):
    module, reference = _pair(kind, kwargs)
    got, want = _run(module, ember, x, hx), _run(reference, torch, x, hx)
    if isinstance(want, Exception) or isinstance(got, Exception):
        assert type(got).__name__ == type(want).__name__, f"ember: {got!r}\ntorch: {want!r}"
        return got
    got, want = _flat(got), _flat(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-5, atol=1e-6)
    return None


_DROPPED = {"LSTMCell-tuple3_unbatched"}  # PyTorch drops the third state: test_dropped_states_raise


@pytest.mark.parametrize(
    "case", [c for c in _layer_cases() + _cell_cases() if c[0] not in _DROPPED], ids=lambda case: case[0]
)
def test_state_forms_like_torch(case):
    name, kind, kwargs, x, hx = case
    _compare(kind, kwargs, x, hx)


def _packed(lib, sequences, enforce_sorted):
    if enforce_sorted:
        sequences = sorted(sequences, key=lambda s: -s.shape[0])
    return lib.nn.utils.rnn.pack_sequence([lib.tensor(s) for s in sequences], enforce_sorted=enforce_sorted)


_SEQUENCES = [_a(4, IN), _a(2, IN), _a(3, IN)]
_h = _a(1, 3, HID)
_PACKED_FORMS = {
    "tensor": _h,
    "tuple1": (_h,),
    "tuple2": (_h, _h),
    "2d": _a(3, HID),
    "2d_pair": (_a(3, HID), _a(3, HID)),
    "float64": _h.astype(np.float64),
    "float64_pair": (_h.astype(np.float64), _h),
    "batch": _a(1, 2, HID),
    "batch_pair": (_a(1, 2, HID), _a(1, 2, HID)),
    "none_in": (None, _h),
    "number": 1.0,
    "list2": [_h, _h],
    "4d": _a(2, 1, 3, HID),
}


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("form", list(_PACKED_FORMS))
def test_packed_state_forms_like_torch(kind, enforce_sorted, form):
    module, reference = _pair(kind, dict(input_size=IN, hidden_size=HID))
    hx = _PACKED_FORMS[form]
    results = []
    for lib, m in ((ember, module), (torch, reference)):
        try:
            output, _ = m(_packed(lib, _SEQUENCES, enforce_sorted), _as(lib, hx))
            results.append(output.data.detach().numpy())
        except Exception as error:  # noqa: BLE001 - compared with torch's
            results.append(error)
    got, want = results
    if isinstance(want, Exception) or isinstance(got, Exception):
        assert type(got).__name__ == type(want).__name__, f"ember: {got!r}\ntorch: {want!r}"
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_dropped_states_raise():
    """PyTorch keeps the first two of three states (or the first two rows of one tensor for
    an LSTMCell) with an unbatched input and drops the rest silently; ember raises, as
    PyTorch does for the batched input."""
    cell = ember.nn.LSTMCell(IN, HID)
    with pytest.raises(RuntimeError, match=r"LSTMCell: hx must be a tuple \(h, c\) of two tensors"):
        cell(ember.randn(IN), (ember.randn(HID),) * 3)
    with pytest.raises(RuntimeError, match="got one tensor of shape"):
        cell(ember.randn(IN), ember.randn(3, HID))
    lstm = ember.nn.LSTM(IN, HID)
    with pytest.raises(RuntimeError, match="got a tuple of 3"):
        lstm(ember.randn(5, IN), (ember.randn(1, HID),) * 3)
    h, c = cell(ember.randn(IN), ember.randn(2, HID))  # two rows pass for (h, c), as in PyTorch
    assert h.shape == c.shape == (HID,)


@pytest.mark.parametrize(
    "kind, x, hx, error, words",
    [
        (
            "GRU",
            (5, 2, IN),
            ("tensor", (1, 2, HID)),
            AttributeError,
            ["GRU", "(1, batch, 4)", "pass h_0 itself"],
        ),
        ("RNN", (5, IN), ("tensor", (1, HID)), AttributeError, ["RNN", "(1, 4)", "got a tuple"]),
        (
            "GRUCell",
            (2, IN),
            ("tensor", (2, HID)),
            AttributeError,
            ["GRUCell", "(batch, 4) or (4,)", "pass h_0"],
        ),
        (
            "LSTM",
            (5, 2, IN),
            ("one", (1, 2, HID)),
            IndexError,
            ["LSTM", "(h_0, c_0)", "one tensor of shape [1, 2, 4]"],
        ),
        (
            "LSTM",
            (5, 2, IN),
            ("f64", (1, 2, HID)),
            RuntimeError,
            ["LSTM", "hx[0]", "float64", ".to(ember.float32)"],
        ),
        (
            "LSTMCell",
            (2, IN),
            ("one", (2, HID)),
            TypeError,
            ["LSTMCell", "(h, c)", "each of shape (batch, 4) or (4,)"],
        ),
    ],
)
def test_messages_name_the_module_the_shapes_and_the_fix(kind, x, hx, error, words):
    module = getattr(ember.nn, kind)(IN, HID)
    form, shape = hx
    state = ember.randn(*shape)
    value = {"tensor": (state,), "one": state, "f64": (state.double(), state)}[form]
    with pytest.raises(error) as caught:
        module(ember.randn(*x), value)
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))
