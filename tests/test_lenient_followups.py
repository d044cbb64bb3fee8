"""Inputs ember used to accept (or refuse with another exception) where PyTorch 2.13 raises:
each case runs in both frameworks and must give the same exception class, or the same
result. The cases are those docs/differences.md listed as "ember is more lenient"."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import ember
from conftest import outcome, requires_torch


def F(T: Any) -> Any:
    return T.nn.functional


def R(T: Any, *shape: int, dtype: Any = None) -> Any:
    x = T.sin(T.arange(math.prod(shape), dtype=T.float64) * 1.3 + 0.2).reshape(shape)
    return x.to(dtype or T.float32)


def _flat(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_flat(v) for v in value]
    if hasattr(value, "detach") and hasattr(value, "shape"):
        return (tuple(value.shape), str(value.dtype).split(".")[-1], value.detach().double().numpy().tolist())
    if hasattr(value, "shape"):  # a Size
        return tuple(value)
    return value


CASES: dict[str, Any] = {}

# ---- parameters_to_vector views each parameter -------------------------------------------------
CASES |= {
    "parameters_to_vector transposed": lambda T: T.nn.utils.parameters_to_vector([R(T, 2, 3).t()]),
    "parameters_to_vector expanded": lambda T: T.nn.utils.parameters_to_vector([R(T, 1, 3).expand(2, 3)]),
    "parameters_to_vector strided 1-d": lambda T: T.nn.utils.parameters_to_vector([R(T, 6)[::2], R(T, 2, 2)]),
    "parameters_to_vector 0-d": lambda T: T.nn.utils.parameters_to_vector([R(T, 1)[0], R(T, 3)]),
}

# ---- normalized_shape: the layers take an int, the functional forms a sequence only -------------
_SHAPES = {
    "int": lambda T: 3,
    "numpy int": lambda T: np.int64(3),
    "tuple": lambda T: (3,),
    "list": lambda T: [3],
    "Size": lambda T: T.Size([3]),
    "tuple of a numpy int": lambda T: (np.int64(3),),
    "tuple of a 0-d tensor": lambda T: (T.tensor(3),),
    "two dims": lambda T: (2, 3),
    "tuple of a bool": lambda T: (True,),
    "tuple of a float": lambda T: (3.0,),
    "tuple of a list": lambda T: ([3],),
    "float": lambda T: 3.0,
    "str": lambda T: "3",
    "None": lambda T: None,
    "empty": lambda T: [],
    "1-d tensor": lambda T: T.tensor([3]),
    "numpy array": lambda T: np.array([3]),
    "range": lambda T: range(3, 4),
}
for _label, _shape in _SHAPES.items():
    CASES |= {
        f"F.layer_norm {_label}": (lambda s: lambda T: F(T).layer_norm(R(T, 2, 3), s(T)))(_shape),
        f"layer_norm {_label}": (lambda s: lambda T: T.layer_norm(R(T, 2, 3), s(T)))(_shape),
        f"F.rms_norm {_label}": (lambda s: lambda T: F(T).rms_norm(R(T, 2, 3), s(T)))(_shape),
    }
    if _label not in ("1-d tensor", "float", "str", "None"):  # PyTorch's errors there come from iter()
        CASES |= {
            f"LayerNorm {_label}": (lambda s: lambda T: T.nn.LayerNorm(s(T))(R(T, 2, 3)))(_shape),
            f"RMSNorm {_label}": (lambda s: lambda T: T.nn.RMSNorm(s(T))(R(T, 2, 3)))(_shape),
        }
CASES["native_layer_norm int"] = lambda T: T.native_layer_norm(R(T, 2, 3), 3, None, None, 1e-5)
CASES["native_layer_norm list"] = lambda T: T.native_layer_norm(R(T, 2, 3), [3], None, None, 1e-5)
CASES["LayerNorm of True"] = lambda T: T.nn.LayerNorm(True)

# ---- nn.Parameter and nn.Buffer take tensors ---------------------------------------------------
for _label, _data in {
    "list": lambda T: [1.0, 2.0],
    "tuple": lambda T: (1.0, 2.0),
    "float": lambda T: 1.5,
    "numpy array": lambda T: np.ones(2, dtype=np.float32),
}.items():
    CASES[f"Parameter of a {_label}"] = (lambda d: lambda T: T.nn.Parameter(d(T)))(_data)
    CASES[f"Buffer of a {_label}"] = (lambda d: lambda T: T.nn.Buffer(d(T)))(_data)
CASES["Parameter of None"] = lambda T: T.nn.Parameter(None)
CASES["Parameter of a tensor"] = lambda T: T.nn.Parameter(R(T, 2))
CASES["Parameter of an int64 tensor"] = lambda T: T.nn.Parameter(T.ones(2, dtype=T.int64))

# ---- margin losses of float16: PyTorch's CPU kernels have no Half ------------------------------
CASES |= {
    "multi_margin_loss float16": lambda T: F(T).multi_margin_loss(
        R(T, 2, 3, dtype=T.float16), T.tensor([0, 2])
    ),
    "MultiMarginLoss float16": lambda T: T.nn.MultiMarginLoss()(
        R(T, 2, 3, dtype=T.float16), T.tensor([0, 2])
    ),
    "multi_margin_loss float16 target out of range": lambda T: F(T).multi_margin_loss(
        R(T, 2, 3, dtype=T.float16), T.tensor([0, 5])
    ),
    "multi_margin_loss float16 int32 target": lambda T: F(T).multi_margin_loss(
        R(T, 2, 3, dtype=T.float16), T.tensor([0, 1], dtype=T.int32)
    ),
    "multi_margin_loss float16 target size": lambda T: F(T).multi_margin_loss(
        R(T, 2, 3, dtype=T.float16), T.tensor([0, 1, 1])
    ),
    "multi_margin_loss float16 empty batch": lambda T: F(T).multi_margin_loss(
        T.ones(0, 3, dtype=T.float16), T.ones(0, dtype=T.int64), reduction="none"
    ),
    "multi_margin_loss float64": lambda T: F(T).multi_margin_loss(
        R(T, 2, 3, dtype=T.float64), T.tensor([0, 2])
    ),
    "multilabel_margin_loss float16": lambda T: F(T).multilabel_margin_loss(
        R(T, 2, 3, dtype=T.float16), T.tensor([[0, 1, -1], [2, -1, 0]])
    ),
    "multilabel_margin_loss float16 0-d": lambda T: F(T).multilabel_margin_loss(
        T.tensor(0.5, dtype=T.float16), T.tensor(0)
    ),
    "multilabel_margin_loss float16 target out of range": lambda T: F(T).multilabel_margin_loss(
        R(T, 2, 3, dtype=T.float16), T.tensor([[0, 5, -1], [2, -1, 0]])
    ),
    "multilabel_margin_loss float16 int32 target": lambda T: F(T).multilabel_margin_loss(
        R(T, 2, 3, dtype=T.float16), T.tensor([[0, 1, -1], [2, -1, 0]], dtype=T.int32)
    ),
    "multilabel_margin_loss float16 target size": lambda T: F(T).multilabel_margin_loss(
        R(T, 2, 3, dtype=T.float16), T.tensor([[0, 1, -1]])
    ),
}

# ---- nearest interpolation: floats and uint8 only ---------------------------------------------
for _dtype in ["int64", "int32", "int16", "int8", "uint8", "bool", "float16", "float64"]:
    for _nd in (1, 2, 3):
        for _mode in ("nearest", "nearest-exact"):
            CASES[f"interpolate {_mode} {_nd}-d {_dtype}"] = (
                lambda dt, nd, mode: (
                    lambda T: F(T).interpolate(
                        (R(T, 1, 1, *(2,) * nd) > 0).to(getattr(T, dt)), scale_factor=2, mode=mode
                    )
                )
            )(_dtype, _nd, _mode)
    CASES[f"Upsample {_dtype}"] = (
        lambda dt: lambda T: T.nn.Upsample(scale_factor=2)((R(T, 1, 1, 2, 2) > 0).to(getattr(T, dt)))
    )(_dtype)
CASES["interpolate nearest complex64"] = lambda T: F(T).interpolate(
    T.ones(1, 1, 2, 2, dtype=T.complex64), size=3
)

# ---- proj_size: an LSTM's argument only --------------------------------------------------------
for _cls in ("RNN", "GRU"):
    for _p in (0, 2, -1, 4, 2.5, None, "2"):
        CASES[f"{_cls} proj_size={_p!r}"] = (lambda c, p: lambda T: getattr(T.nn, c)(3, 4, proj_size=p))(
            _cls, _p
        )
    CASES[f"{_cls} unknown keyword"] = (lambda c: lambda T: getattr(T.nn, c)(3, 4, projection=2))(_cls)
CASES["GRU float64 positionally"] = lambda T: str(
    T.nn.GRU(3, 4, 1, True, False, 0.0, False, 0, None, T.float64).weight_ih_l0.dtype
)[-7:]
CASES["RNN float64 positionally"] = lambda T: str(
    T.nn.RNN(3, 4, 1, "relu", True, False, 0.0, False, 0, None, T.float64).weight_hh_l0.dtype
)[-7:]
for _p in (0, 2, 3, 4, 5, -1, 2.0, 2.5, True, False, None, "2", (2,), np.int64(2)):
    CASES[f"LSTM proj_size={_p!r}"] = (
        lambda p: lambda T: [tuple(w.shape) for w in T.nn.LSTM(3, 4, proj_size=p).parameters()]
    )(_p)
CASES["LSTM proj_size positionally"] = lambda T: [
    tuple(w.shape) for w in T.nn.LSTM(3, 4, 1, True, False, 0.0, False, 2).parameters()
]
for _cell in ("RNNCell", "GRUCell", "LSTMCell"):
    CASES[f"{_cell} proj_size"] = (lambda c: lambda T: getattr(T.nn, c)(3, 4, proj_size=2))(_cell)


@requires_torch
@pytest.mark.parametrize("name", list(CASES))
def test_as_torch(name: str) -> None:
    import torch

    call = CASES[name]
    torch.manual_seed(0)
    t_kind, t_value = outcome(torch, call)
    e_kind, e_value = outcome(ember, call)
    if t_kind == "raise":
        assert e_kind == "raise", f"PyTorch raises {t_value!r}; ember gives {_flat(e_value)!r:.300}"
        assert type(e_value) is type(t_value), f"PyTorch raises {t_value!r}, ember {e_value!r}"
    else:
        assert e_kind == "ok", f"PyTorch computes; ember raises {e_value!r}"
        if isinstance(t_value, torch.nn.Module):
            return
        _assert_same(_flat(t_value), _flat(e_value))


def _assert_same(expected: Any, got: Any) -> None:
    if isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected)
        for e, g in zip(expected, got):
            _assert_same(e, g)
    elif isinstance(expected, tuple) and len(expected) == 3 and isinstance(expected[1], str):
        assert got[:2] == expected[:2], f"PyTorch gives {expected[:2]}, ember {got[:2]}"
        np.testing.assert_allclose(got[2], expected[2], rtol=1e-3, atol=1e-4)
    else:
        assert got == expected


# ---- ember's own words and the cases PyTorch gets wrong ----------------------------------------


def test_messages_name_the_fix() -> None:
    with pytest.raises(
        TypeError, match=r"layer_norm\(\).*not int \(a single dimension n is written \(n,\)\)"
    ):
        ember.nn.functional.layer_norm(ember.ones(2, 3), 3)
    with pytest.raises(AttributeError, match="nn.Parameter takes a Tensor"):
        ember.nn.Parameter([1.0])
    with pytest.raises(NotImplementedError, match="multi_margin_loss takes float32 or float64"):
        ember.nn.functional.multi_margin_loss(ember.ones(2, 3, dtype=ember.float16), ember.tensor([0, 1]))
    with pytest.raises(NotImplementedError, match="upsample_nearest2d.*'Long'"):
        ember.nn.functional.interpolate(ember.ones(1, 1, 2, 2, dtype=ember.int64), scale_factor=2)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ember.nn.GRU(3, 4, 1, True, False, 0.0, False, 2),
        lambda: ember.nn.RNN(3, 4, 1, "tanh", True, False, 0.0, False, 2),
        lambda: ember.nn.RNNBase("GRU", 3, 4, proj_size=2),
        lambda: ember.nn.RNNBase("RNN_TANH", 3, 4, proj_size=2),
    ],
)
def test_projection_of_rnn_and_gru_refused_when_built(make: Any) -> None:
    """PyTorch builds these (a positional proj_size, or RNNBase's), and their forward then fails
    on the hidden size; ember refuses them at once (docs/differences.md)."""
    with pytest.raises(ValueError, match="only supported for LSTM"):
        make()


def test_parameter_keeps_working_for_tensors() -> None:
    import copy

    p = ember.nn.Parameter(ember.ones(2, 3))
    q = copy.deepcopy(p)
    assert isinstance(q, ember.nn.Parameter) and q.requires_grad and q.shape == (2, 3)
    assert ember.nn.Parameter().shape == (0,)
    v = ember.nn.utils.parameters_to_vector(ember.nn.Linear(3, 2).parameters())
    assert v.shape == (8,)
