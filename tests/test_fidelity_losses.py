"""Losses in the corners where differential testing found ember differing from PyTorch:
reduction='mean' with nothing, or only zero weights, to average over."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import requires_torch

LOGITS = [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [0.0, 1.0, -2.0]]


def _same_nans(e: Any, t: Any) -> None:
    """Equal values with NaN where torch has NaN (signed zeros not compared)."""
    a, b = np.asarray(e.tolist(), dtype=float), np.asarray(t.tolist(), dtype=float)
    assert np.isnan(a).tolist() == np.isnan(b).tolist(), (a, b)
    np.testing.assert_allclose(np.nan_to_num(a), np.nan_to_num(b), rtol=1e-5, atol=1e-6)


def _class_loss(T: Any, name: str, target: list, reduction: str, **options: Any) -> tuple:
    """The loss and the input's gradient, for cross_entropy on logits or nll_loss on
    log-probabilities (a leaf, so that nll_loss's own gradient is seen)."""
    x = T.tensor(LOGITS, requires_grad=True)
    if name == "nll_loss":
        x = T.tensor(np.log(np.full((3, 3), 1 / 3)), dtype=T.float32, requires_grad=True)
    if "weight" in options:
        options["weight"] = T.tensor(options["weight"])
    loss = getattr(T.nn.functional, name)(x, T.tensor(target), reduction=reduction, **options)
    loss.sum().backward()
    return loss, x.grad


CASES = {
    "every target weight 0": ([0, 1, 0], {"weight": [0.0, 0.0, 1.0]}),
    "ignored, the rest weight 0": ([1, 0, 2], {"weight": [0.0, 1.0, 1.0], "ignore_index": 2}),
    "every target ignored": ([1, 1, 1], {"ignore_index": 1}),
    "every target ignored, weighted": ([1, 1, 1], {"ignore_index": 1, "weight": [0.0, 1.0, 1.0]}),
    "weights summing to 1": ([0, 1, 2], {"weight": [0.0, 0.0, 1.0]}),
}


@requires_torch
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(CASES))
def test_class_losses_with_nothing_to_average_match_torch(name: str, reduction: str, case: str) -> None:
    import torch

    target, options = CASES[case]
    loss_e, grad_e = _class_loss(ember, name, target, reduction, **options)
    loss_t, grad_t = _class_loss(torch, name, target, reduction, **options)
    _same_nans(loss_e, loss_t)
    _same_nans(grad_e, grad_t)


@requires_torch
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_label_smoothing_with_zero_weights_matches_torch(reduction: str) -> None:
    import torch

    target, options = CASES["ignored, the rest weight 0"]
    loss_e, grad_e = _class_loss(ember, "cross_entropy", target, reduction, label_smoothing=0.1, **options)
    loss_t, grad_t = _class_loss(torch, "cross_entropy", target, reduction, label_smoothing=0.1, **options)
    _same_nans(loss_e, loss_t)
    _same_nans(grad_e, grad_t)


@requires_torch
def test_zero_weights_in_a_spatial_and_an_unbatched_input() -> None:
    import torch

    x = (np.arange(8.0).reshape(2, 2, 2) / 3).astype(np.float32)
    for name in ("cross_entropy", "nll_loss"):
        grads = []
        for T in (ember, torch):
            xs = T.tensor(x, requires_grad=True)
            getattr(T.nn.functional, name)(
                xs, T.tensor([[0, 0], [0, 1]]), weight=T.tensor([0.0, 0.0])
            ).backward()
            v = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
            getattr(T.nn.functional, name)(v, T.tensor(1), weight=T.tensor([1.0, 0.0, 1.0])).backward()
            grads.append((xs.grad, v.grad))
        for e, t in zip(*grads):
            _same_nans(e, t)


def test_weighted_and_ignored_cross_entropy_gradcheck() -> None:
    x = ember.tensor(LOGITS, dtype=ember.float64, requires_grad=True)
    w = ember.tensor([0.2, 0.0, 1.5], dtype=ember.float64)
    target = ember.tensor([0, 1, 2])
    for fn in (ember.nn.functional.cross_entropy, ember.nn.functional.nll_loss):
        assert ember.autograd.gradcheck(lambda x, fn=fn: fn(x, target, weight=w, ignore_index=2), (x,))
        assert ember.autograd.gradcheck(lambda x, fn=fn: fn(x, target, weight=w, reduction="sum"), (x,))
