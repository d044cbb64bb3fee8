"""nn.init's deprecated names without the trailing underscore (nn.init.normal, ...): they
work as the in-place functions and warn as PyTorch's do."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember import nn

torch = pytest.importorskip("torch")

pytestmark = requires_torch


@pytest.mark.parametrize(
    "old,args",
    [
        ("uniform", ()),
        ("normal", ()),
        ("constant", (0.5,)),
        ("eye", ()),
        ("xavier_uniform", ()),
        ("xavier_normal", ()),
        ("kaiming_uniform", ()),
        ("kaiming_normal", ()),
        ("orthogonal", ()),
        ("sparse", (0.5,)),
    ],
)
def test_init_deprecated_aliases_warn_and_work(old, args):
    t = ember.zeros(6, 4)
    with pytest.warns(
        FutureWarning, match=rf"`nn.init.{old}` is now deprecated in favor of `nn.init.{old}_`"
    ):
        assert getattr(nn.init, old)(t, *args) is t
    with pytest.warns(FutureWarning):
        getattr(torch.nn.init, old)(torch.zeros(6, 4), *args)
    assert getattr(nn.init, old).__name__ == old
    if old in ("constant", "eye"):
        ref = torch.zeros(6, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(torch.nn.init, old)(ref, *args)
        np.testing.assert_array_equal(t.numpy(), ref.numpy())


def test_init_dirac_alias_with_groups():
    t = ember.zeros(4, 2, 3)
    with pytest.warns(FutureWarning, match="nn.init.dirac_"):
        nn.init.dirac(t, 2)
    np.testing.assert_array_equal(t.numpy(), torch.nn.init.dirac_(torch.zeros(4, 2, 3), 2).numpy())
