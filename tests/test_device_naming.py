"""Since `ember.device('cuda')` can be named (as PyTorch's tutorials do), a device check must
call `_tensor.cpu_only`, not build a device and expect it to raise: the factories added in the
same session as that change (sparse, signal windows, futures) each refuse a non-CPU device."""

from __future__ import annotations

import pytest

import ember


@pytest.mark.parametrize(
    "make",
    [
        lambda d: ember.signal.windows.hann(4, device=d),
        lambda d: ember.futures.Future(devices=[d]),
        lambda d: ember.sparse_coo_tensor([[0]], [1.0], (2,), device=d),
        lambda d: ember.sparse_csr_tensor([0, 1], [0], [1.0], (1, 2), device=d),
    ],
    ids=["window", "future", "coo", "csr"],
)
def test_factories_refuse_a_named_accelerator(make):
    assert ember.device("cuda").type == "cuda"  # naming one is fine
    with pytest.raises(RuntimeError, match="CPU only"):
        make("cuda")
    make("cpu")
