"""float() of a tensor that requires grad warns, as PyTorch 2.13 does (with grad mode on, and
for float() only: item(), int() and bool() stay silent); ember's own code (LBFGS) converts
its losses where that warning does not fire, as PyTorch's does."""

from __future__ import annotations

import warnings

import pytest

import ember
from conftest import requires_torch


def _warned(lib, convert, grad_mode=True):
    t = lib.tensor(2.0, requires_grad=True) * 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if grad_mode:
            convert(t)
        else:
            with lib.no_grad():
                convert(t)
    return [str(w.message).splitlines()[0] for w in caught if issubclass(w.category, UserWarning)]


@requires_torch
@pytest.mark.parametrize(
    "convert", [float, int, bool, lambda t: t.item()], ids=["float", "int", "bool", "item"]
)
@pytest.mark.parametrize("grad_mode", [True, False], ids=["grad", "no_grad"])
def test_converting_to_a_number_warns_as_torch(convert, grad_mode):
    import torch

    assert _warned(ember, convert, grad_mode) == _warned(torch, convert, grad_mode)


def test_lbfgs_does_not_warn():
    w = ember.nn.Parameter(ember.ones(3))
    for search in (None, "strong_wolfe"):
        opt = ember.optim.LBFGS([w], max_iter=5, line_search_fn=search)

        def closure(opt=opt):
            opt.zero_grad()
            loss = ((w - 2) ** 2).sum()
            loss.backward()
            return loss

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt.step(closure)
