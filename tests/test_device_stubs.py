"""The CPU-only answers to PyTorch's device questions (torch.accelerator, torch.backends) and
torch.compile as the identity, so that code written for PyTorch's quickstart runs unchanged."""

from __future__ import annotations

import pytest

import ember
from conftest import requires_torch


@requires_torch
def test_accelerator_answers_as_pytorch_without_one():
    import torch

    for name in ("is_available", "current_accelerator", "device_count"):
        assert getattr(ember.accelerator, name)() == getattr(torch.accelerator, name)()
    for name in ("current_device_index", "synchronize"):
        with pytest.raises(RuntimeError, match="none is available"):
            getattr(ember.accelerator, name)()
        with pytest.raises(RuntimeError, match="none is available"):
            getattr(torch.accelerator, name)()


def test_quickstart_device_line_picks_the_cpu():
    torch = ember
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
    assert device == "cpu"
    assert ember.nn.Linear(2, 2).to(device)(ember.ones(1, 2)).shape == (1, 2)


def test_backends_flags():
    assert not ember.backends.mps.is_available() and not ember.backends.mps.is_built()
    assert not ember.backends.cudnn.is_available()
    before = ember.backends.cudnn.benchmark
    ember.backends.cudnn.benchmark = True
    ember.backends.cudnn.benchmark = before


def test_compile_is_the_identity():
    model = ember.nn.Linear(3, 2)
    assert ember.compile(model) is model
    assert ember.compile(model, mode="max-autotune", fullgraph=True) is model

    @ember.compile
    def double(x):
        return x * 2

    @ember.compile(dynamic=True)
    def triple(x):
        return x * 3

    assert double(ember.ones(2)).tolist() == [2.0, 2.0]
    assert triple(ember.ones(2)).tolist() == [3.0, 3.0]
