"""DLPack exchange (ember.utils.dlpack, Tensor.__dlpack__): memory shared with PyTorch and
NumPy both ways, and a tensor that requires grad refused as PyTorch refuses it."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch


@requires_torch
def test_memory_is_shared_with_pytorch_both_ways():
    import torch

    t = torch.arange(4.0)
    e = ember.from_dlpack(t)
    t[0] = 9
    assert e.tolist() == [9, 1, 2, 3] and e.dtype == ember.float32
    back = torch.from_dlpack(e)
    e.add_(1)
    assert back.tolist() == [10, 2, 3, 4]
    capsule = torch.utils.dlpack.to_dlpack(t)
    assert ember.utils.dlpack.from_dlpack(capsule).tolist() == [10, 2, 3, 4]  # e, back and t: one memory
    strided = ember.from_dlpack(torch.arange(6.0).reshape(2, 3).t())
    assert strided.shape == (3, 2) and strided.tolist() == [[0, 3], [1, 4], [2, 5]]


def test_numpy_and_capsules():
    e = ember.arange(3, dtype=ember.int64)
    a = np.from_dlpack(e)
    e[1] = 7
    assert a.tolist() == [0, 7, 2]
    assert e.__dlpack_device__() == (1, 0)
    assert ember.utils.dlpack.from_dlpack(ember.utils.dlpack.to_dlpack(e)).tolist() == [0, 7, 2]
    assert ember.from_dlpack(np.ones((2, 2), np.float64)).dtype == ember.float64


def test_a_tensor_that_requires_grad_is_not_exported():
    w = ember.ones(2, requires_grad=True)
    with pytest.raises(BufferError, match="require gradient"):
        np.from_dlpack(w)
    assert np.from_dlpack(w.detach()).tolist() == [1, 1]


def test_default_generator_is_the_global_one():
    ember.manual_seed(3)
    first = ember.utils.data.random_split(range(10), [5, 5], generator=ember.default_generator)[0].indices
    ember.manual_seed(3)
    assert ember.utils.data.random_split(range(10), [5, 5])[0].indices == first
