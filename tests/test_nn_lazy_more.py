"""nn.Buffer, nn.DataParallel, the lazy modules and the remaining layers, compared with
PyTorch: registration and state_dict keys, reprs, shapes and initialisation bounds, values
and gradients with the same weights, and errors."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy()


# ---- nn.Buffer ---------------------------------------------------------------------------


def _buffer_model(lib: Any) -> Any:
    """A module with a persistent and a non-persistent buffer assigned as nn.Buffers."""
    m = lib.nn.Module()
    m.weight = lib.nn.Parameter(lib.ones(1))
    m.kept = lib.nn.Buffer(lib.ones(2))
    m.scratch = lib.nn.Buffer(lib.zeros(3), persistent=False)
    return m


@requires_torch
def test_buffer_assignment_registers_like_torch() -> None:
    import torch

    e, t = _buffer_model(ember), _buffer_model(torch)
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight", "kept"]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()] == ["kept", "scratch"]
    assert e._non_persistent_buffers_set == t._non_persistent_buffers_set == {"scratch"}
    assert [n for n, _ in e.named_parameters()] == ["weight"]
    # a plain tensor assigned to a buffer's name keeps it a buffer, with its persistence
    e.scratch, t.scratch = ember.ones(4), torch.ones(4)
    assert e._non_persistent_buffers_set == t._non_persistent_buffers_set == {"scratch"}
    # a Buffer assigned again decides the persistence anew
    e.scratch, t.scratch = nn.Buffer(ember.ones(4)), torch.nn.Buffer(torch.ones(4))
    assert e._non_persistent_buffers_set == t._non_persistent_buffers_set == set()
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(nn.Buffer(ember.ones(2))) == repr(torch.nn.Buffer(torch.ones(2)))
    assert isinstance(e.kept, ember.Tensor) and isinstance(e.kept, nn.Buffer)


def test_buffer_shares_memory_and_keeps_requires_grad() -> None:
    t = ember.ones(3)
    b = nn.Buffer(t)
    t.add_(1)
    assert _np(b).tolist() == [2.0, 2.0, 2.0]
    assert not b.requires_grad
    assert nn.Buffer(ember.ones(1, requires_grad=True)).requires_grad
    assert nn.Buffer().shape == (0,)
    assert nn.Buffer(ember.ones(1), persistent=False).persistent is False


def test_buffer_errors_and_copies() -> None:
    m = nn.Module()
    m.x = 1
    with pytest.raises(KeyError, match="attribute 'x' already exists"):
        m.x = nn.Buffer(ember.ones(1))
    m.w = nn.Parameter(ember.ones(1))
    with pytest.raises(TypeError, match="as parameter 'w'"):
        m.w = nn.Buffer(ember.ones(1))
    m.lin = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="as child module 'lin'"):
        m.lin = nn.Buffer(ember.ones(1))
    with pytest.raises(TypeError, match="nn.Buffer expects a Tensor"):
        nn.Buffer([1.0, 2.0])
    m.b = nn.Buffer(ember.ones(2), persistent=False)
    clone = copy.deepcopy(m)
    assert clone.b.persistent is False and clone._non_persistent_buffers_set == {"b"}
    clone.b.add_(1)
    assert _np(m.b).tolist() == [1.0, 1.0]


# ---- DataParallel ------------------------------------------------------------------------


@requires_torch
def test_data_parallel_is_a_pass_through() -> None:
    import torch

    e = nn.DataParallel(nn.Linear(3, 2), device_ids=[0, 1], output_device=0, dim=0)
    t = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict()) == ["module.weight", "module.bias"]
    assert e.device_ids == t.device_ids == []
    e.module.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.module.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    assert_close(_np(e(ember.tensor(x))), t(torch.tensor(x)).detach().numpy())
    assert isinstance(e.module, nn.Linear)
    # a checkpoint of the wrapped model loads into a wrapped one
    other = nn.DataParallel(nn.Linear(3, 2))
    other.load_state_dict(e.state_dict())
    assert_close(_np(other.module.weight), _np(e.module.weight))
    assert nn.parallel.DataParallel is nn.DataParallel


def test_distributed_data_parallel_raises_clearly() -> None:
    with pytest.raises(ValueError, match="process group has not been initialized"):
        nn.parallel.DistributedDataParallel(nn.Linear(1, 1))
