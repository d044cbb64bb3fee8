"""Losses in the corners where differential testing found ember differing from PyTorch:
reduction='mean' with nothing, or only zero weights, to average over."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

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


# ---- input and target of different float dtypes ----------------------------------------------

PAIRS = [("float32", "float64"), ("float64", "float32"), ("float16", "float32")]
PROBS = [[0.2, 0.7, 0.1], [0.4, 0.9, 0.5]]
TARGETS = [[1.0, 0.0, 0.3], [0.0, 1.0, 0.5]]

PROMOTING = {
    "binary_cross_entropy_with_logits": lambda F, x, t: F.binary_cross_entropy_with_logits(x, t),
    "bce_with_logits weighted": lambda F, x, t: F.binary_cross_entropy_with_logits(
        x, t, weight=x.new_tensor([1.0, 2.0, 0.5]), reduction="sum"
    ),
    "mse_loss": lambda F, x, t: F.mse_loss(x, t),
    "l1_loss": lambda F, x, t: F.l1_loss(x, t, reduction="none"),
    "smooth_l1_loss": lambda F, x, t: F.smooth_l1_loss(x, t),
    "kl_div": lambda F, x, t: F.kl_div(x, t, reduction="batchmean"),
    "cross_entropy probabilities": lambda F, x, t: F.cross_entropy(x, t),
    "cross_entropy probabilities, smoothing": lambda F, x, t: F.cross_entropy(x, t, label_smoothing=0.2),
}


def _mixed(T: Any, name: str, dx: str, dt: str) -> tuple:
    x = T.tensor(PROBS, dtype=getattr(T, dx), requires_grad=True)
    t = T.tensor(TARGETS, dtype=getattr(T, dt), requires_grad=True)
    loss = PROMOTING[name](T.nn.functional, x, t)
    loss.sum().backward()
    return loss, x.grad, t.grad


@requires_torch
@pytest.mark.parametrize("dx,dt", PAIRS)
@pytest.mark.parametrize("name", list(PROMOTING))
def test_losses_of_mixed_float_dtypes_promote_as_torch(name: str, dx: str, dt: str) -> None:
    """The loss has torch's dtype (the target's for the logits BCE, the promoted one for the
    others) and each gradient its own input's dtype."""
    import torch

    ours, theirs = _mixed(ember, name, dx, dt), _mixed(torch, name, dx, dt)
    tol = 2e-3 if "float16" in (dx, dt) else 1e-6
    for e, t in zip(ours, theirs):
        assert str(e.dtype) == str(t.dtype).replace("torch", "ember")
        assert_close(e, t, rtol=tol, atol=tol)


@requires_torch
def test_bce_with_logits_of_a_float64_target_is_float64() -> None:
    import torch

    e = ember.nn.functional.binary_cross_entropy_with_logits(
        ember.tensor([1.0, 2.0]), ember.tensor([1.0, 0.0], dtype=ember.float64)
    )
    t = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0], dtype=torch.float64)
    )
    assert e.dtype == ember.float64 and t.dtype == torch.float64
    # softplus is computed in the input's float32 in both, so the values agree to that precision
    assert abs(e.item() - t.item()) < 1e-7


REFUSING = {
    "binary_cross_entropy": lambda F, x, t, w: F.binary_cross_entropy(x, t),
    "cross_entropy weight": lambda F, x, t, w: F.cross_entropy(x, x.new_tensor([0, 2]).long(), weight=w),
    "nll_loss weight": lambda F, x, t, w: F.nll_loss(x, x.new_tensor([0, 2]).long(), weight=w),
}


@requires_torch
@pytest.mark.parametrize("dx,dt", PAIRS[:2])
@pytest.mark.parametrize("name", list(REFUSING))
def test_losses_that_refuse_mixed_dtypes_raise_as_torch(name: str, dx: str, dt: str) -> None:
    """The same RuntimeError as torch's, which ember's message begins with."""
    import torch

    messages = []
    for T in (ember, torch):
        x = T.tensor(PROBS, dtype=getattr(T, dx), requires_grad=True)
        t = T.tensor(TARGETS, dtype=getattr(T, dt))
        w = T.tensor([1.0, 2.0, 1.0], dtype=getattr(T, dt))
        with pytest.raises(RuntimeError) as info:
            REFUSING[name](T.nn.functional, x, t, w)
        messages.append(str(info.value))
    assert messages[0].startswith(messages[1])


@requires_torch
@pytest.mark.parametrize("dx,dt", PAIRS)
def test_huber_loss_takes_the_input_dtype(dx: str, dt: str) -> None:
    """The loss as torch's, in the input's dtype. torch's backward then fails ("Found dtype
    Double but expected Float"); ember's gives each argument the gradient torch gives when
    the target is first converted, in the argument's own dtype."""
    import torch

    leaves, losses = [], []
    for T, convert in ((ember, False), (torch, True)):
        x = T.tensor(PROBS, dtype=getattr(T, dx), requires_grad=True)
        t = T.tensor(TARGETS, dtype=getattr(T, dt), requires_grad=True)
        losses.append(T.nn.functional.huber_loss(x, t.to(x.dtype) if convert else t, delta=0.5))
        losses[-1].backward()
        leaves.append((x, t))
    assert str(losses[0].dtype).endswith(dx) and str(losses[1].dtype).endswith(dx)
    tol = 2e-3 if "float16" in (dx, dt) else 1e-6
    assert_close(*losses, rtol=tol, atol=tol)
    for e, t in zip(*leaves):
        assert e.grad.dtype == e.dtype
        assert_close(e.grad, t.grad, rtol=tol, atol=tol)


def test_mixed_dtype_losses_gradcheck() -> None:
    x = ember.tensor(PROBS, dtype=ember.float64, requires_grad=True)
    t = ember.tensor(TARGETS, dtype=ember.float64, requires_grad=True)
    for name in ("binary_cross_entropy_with_logits", "cross_entropy probabilities, smoothing"):
        assert ember.autograd.gradcheck(lambda x, t, n=name: PROMOTING[n](ember.nn.functional, x, t), (x, t))
