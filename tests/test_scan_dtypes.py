"""cumsum and cumprod asked for a bool result: PyTorch has no bool scan and raises; NumPy
would run one with `or`/`and`, which ember did, silently."""

from __future__ import annotations

import pytest

import ember
from conftest import requires_torch


@requires_torch
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("values", [[True, False, True], [1, 0, 2], [0.5, 0.0, 2.0]])
def test_a_bool_scan_raises_as_in_torch(name, values):
    import torch

    with pytest.raises(NotImplementedError) as theirs:
        getattr(torch, name)(torch.tensor(values), 0, dtype=torch.bool)
    with pytest.raises(NotImplementedError) as ours:
        getattr(ember, name)(ember.tensor(values), 0, dtype=ember.bool)
    assert str(ours.value) == str(theirs.value)
    # without dtype a bool input is scanned as int64, in both
    got = getattr(ember, name)(ember.tensor([True, False, True]), 0)
    want = getattr(torch, name)(torch.tensor([True, False, True]), 0)
    assert got.tolist() == want.tolist() and str(got.dtype)[6:] == str(want.dtype)[6:]
