"""PyTorch's tutorials and recipes run with `import ember as torch`: one regression test per
gap they found, and condensed versions of the programs (synthetic data, few steps), compared
with PyTorch from the same weights and inputs."""

from __future__ import annotations

import pytest

import ember
from conftest import requires_torch
from ember import nn

# ---- the tensors tutorial: `torch.device('cuda')` is named on a machine without one --------


@requires_torch
@pytest.mark.parametrize("name", ["cpu", "cpu:0", "cuda", "cuda:1", "mps", "meta"])
def test_any_device_type_can_be_named(name: str) -> None:
    import torch

    d, t = ember.device(name), torch.device(name)
    assert (repr(d), str(d), d.type, d.index) == (repr(t), str(t), t.type, t.index)
    assert ember.device(d) == d and hash(ember.device(name)) == hash(d)


def test_unknown_or_badly_indexed_devices_raise_as_pytorch() -> None:
    with pytest.raises(RuntimeError, match="device type at start of device string: foo"):
        ember.device("foo")
    with pytest.raises(RuntimeError, match="Invalid device string: 'cuda:x'"):
        ember.device("cuda:x")
    assert ember.device("cuda") != ember.device("cpu") and ember.device("cuda:0") != ember.device("cuda")


def test_a_named_cuda_device_raises_only_when_used() -> None:
    cuda = ember.device("cuda")
    assert not (ember.cuda.is_available() & (cuda.index is not None))  # the tutorial's line
    for use in (
        lambda: ember.zeros(2, device=cuda),
        lambda: ember.ones(2).to(cuda),
        lambda: ember.ones(2).cuda(),
        lambda: nn.Linear(2, 2).to(cuda),
        lambda: ember.set_default_device(cuda),
    ):
        with pytest.raises(RuntimeError, match="ember runs on the CPU only; device 'cuda'"):
            use()


# ---- changing_default_device and reasoning_about_shapes: `with torch.device(...)` ----------


def test_device_as_a_context_manager() -> None:
    with ember.device("cpu") as d:
        layer = nn.Linear(2, 3)
        assert d == ember.device("cpu") and layer.weight.device == ember.zeros(1).device == d
    with pytest.raises(RuntimeError, match="CPU only"), ember.device("cuda:0"):
        pass
