"""Differences from PyTorch 2.13 listed in docs/differences.md (its first half) that were
checked again in the nineteenth session and removed in code: each case is compared with
torch where torch is installed."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from conftest import assert_close, requires_torch

# ---- class weights of the classification losses --------------------------------------------


@requires_torch
@pytest.mark.parametrize(
    "call",
    [
        lambda T, w: T.nn.functional.cross_entropy(T.zeros(3, 2), T.tensor([0, 1, 1]), weight=w),
        lambda T, w: T.nn.functional.cross_entropy(
            T.zeros(3, 2), T.tensor([0, 1, 1]), weight=w, label_smoothing=0.1
        ),
        lambda T, w: T.nn.functional.cross_entropy(T.zeros(3, 2, 2), T.zeros(3, 2, dtype=T.long), weight=w),
        lambda T, w: T.nn.functional.cross_entropy(
            T.zeros(3, 2, 2, 2), T.zeros(3, 2, 2, dtype=T.long), weight=w
        ),
        lambda T, w: T.nn.functional.nll_loss(T.zeros(2), T.tensor(1), weight=w),
        lambda T, w: T.nn.functional.nll_loss(T.zeros(3, 2), T.tensor([0, 1, 1]), weight=w),
        lambda T, w: T.nn.CrossEntropyLoss(weight=w)(T.zeros(3, 2, requires_grad=True), T.tensor([0, 1, 0])),
    ],
)
def test_class_index_losses_refuse_a_weight_that_requires_grad(call):
    import torch

    with pytest.raises(RuntimeError) as expected:
        call(torch, torch.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError) as got:
        call(ember, ember.ones(2, requires_grad=True))
    # PyTorch's message (naming its kernel, nll_loss_forward or nll_loss2d_forward), and the fix
    assert str(got.value).startswith(str(expected.value).rstrip("."))
    with ember.no_grad():  # without recording, the weight is a constant, as in PyTorch
        call(ember, ember.ones(2, requires_grad=True))


@requires_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("shape", [(3, 4), (4,), (2, 4, 3)])
def test_cross_entropy_with_probabilities_differentiates_the_class_weight(reduction, label_smoothing, shape):
    import torch

    rng = np.random.default_rng(0)
    x, t, w = rng.normal(size=shape), rng.random(shape), rng.random(4)
    g = rng.random(shape[:1] + shape[2:] if len(shape) > 1 else ()) if reduction == "none" else 1.0
    results = []
    for T in (ember, torch):
        xs, ws = T.tensor(x, requires_grad=True), T.tensor(w, requires_grad=True)
        loss = T.nn.functional.cross_entropy(
            xs, T.tensor(t), weight=ws, reduction=reduction, label_smoothing=label_smoothing
        )
        (loss * T.tensor(g)).sum().backward()
        results.append((loss, xs.grad, ws.grad))
    for got, expected in zip(*results):
        assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_cross_entropy_weight_gradient_passes_gradcheck():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    w = ember.rand(4, dtype=ember.float64, requires_grad=True)
    t = ember.rand(3, 4, dtype=ember.float64).softmax(1)
    assert ember.autograd.gradcheck(lambda x, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1), (x, w))
    assert ember.autograd.gradgradcheck(lambda x, w: F.cross_entropy(x, t, weight=w), (x, w))


# ---- resize_ of a view reads the base's memory from the view's start -----------------------


@requires_torch
@pytest.mark.parametrize(
    "make, size",
    [
        (lambda T: T.arange(6.0)[::2], (4,)),
        (lambda T: T.arange(6.0).reshape(2, 3).t(), (2, 2)),
        (lambda T: T.arange(6.0).reshape(2, 3).t(), (3,)),
        (lambda T: T.arange(12.0).reshape(3, 4)[1:, 1:3], (5,)),
        (lambda T: T.arange(12.0).reshape(3, 4)[1], (2, 3)),
        (lambda T: T.arange(12.0).reshape(3, 4).t().clone(), (5,)),
    ],
)
def test_resize_reads_the_storage_as_pytorch(make, size):
    import torch

    got, expected = make(ember).resize_(size), make(torch).resize_(size)
    assert got.tolist() == expected.tolist()


# ---- Module: to_empty(recurse=False), a load post-hook that returns a value ----------------


@pytest.mark.parametrize("T", ["ember", pytest.param("torch", marks=requires_torch)])
def test_to_empty_without_recursion_leaves_the_submodules(T):
    lib = ember if T == "ember" else __import__("torch")
    outer = lib.nn.Sequential(lib.nn.Linear(2, 2))
    outer.register_parameter("scale", lib.nn.Parameter(lib.ones(3)))
    kept = outer[0].weight.detach().clone()
    assert outer.to_empty(device="cpu", recurse=False) is outer
    assert outer.scale.shape == (3,) and isinstance(outer.scale, lib.nn.Parameter)
    assert outer[0].weight.tolist() == kept.tolist()  # the submodule was not touched


@requires_torch
def test_a_load_post_hook_returning_a_value_raises_pytorchs_assertion():
    import torch

    errors = []
    for lib in (ember, torch):
        model = lib.nn.Linear(2, 2)
        model.register_load_state_dict_post_hook(lambda module, keys: keys)
        with pytest.raises(AssertionError) as info:
            model.load_state_dict(model.state_dict())
        errors.append(str(info.value))
    assert errors[0] == errors[1]


# ---- out= of the functions with several results: PyTorch's *_out named tuples --------------


@requires_torch
@pytest.mark.parametrize(
    "call",
    [
        lambda T, x, o: T.max(x, 1, out=o),
        lambda T, x, o: T.sort(x, out=o),
        lambda T, x, o: T.topk(x, 2, out=o),
        lambda T, x, o: T.kthvalue(x, 1, out=o),
        lambda T, x, o: T.median(x, 1, out=o),
        lambda T, x, o: T.cummax(x, 1, out=o),
    ],
)
def test_out_forms_return_pytorchs_out_named_tuples(call):
    import torch

    results = []
    for T in (ember, torch):
        x = T.arange(12.0).reshape(3, 4)
        out = (T.empty(0), T.empty(0, dtype=T.long))
        result = call(T, x, out)
        assert result.values is out[0] and result.indices is out[1]
        results.append(result)
    assert type(results[0]).__name__ == type(results[1]).__name__  # max_out, sort_out, ...
    assert repr(results[0]).split("(")[0] == repr(results[1]).split("(")[0].replace("torch.", "ember.")


def test_out_named_tuple_of_a_matrix_function_keeps_its_fields():
    result = ember.linalg.slogdet(ember.eye(2), out=(ember.empty(0), ember.empty(0)))
    assert type(result).__name__ == "linalg_slogdet_out" and result.logabsdet.item() == 0.0


# ---- the deprecated torch.cholesky and torch.qr warn as PyTorch's do ------------------------


@requires_torch
@pytest.mark.parametrize("name", ["cholesky", "qr"])
def test_deprecated_cholesky_and_qr_warn_with_pytorchs_message(name):
    import warnings

    import torch

    messages = []
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            getattr(lib, name)(lib.eye(2))
        messages.append([str(w.message) for w in caught if issubclass(w.category, UserWarning)])
    assert len(messages[1]) == 1
    assert messages[1][0].startswith(f"torch.{name} is deprecated in favor of torch.linalg.{name}")
    # PyTorch warns once per process (so not here if an earlier test called it); its message
    # ends with where its C++ code triggered it
    assert all(m.startswith(messages[1][0]) for m in messages[0])


# ---- torch.triplet_margin_loss takes any margin, as PyTorch's top-level op -----------------


@requires_torch
@pytest.mark.parametrize("margin", [-1.0, 0.0, 0.5])
@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_top_level_triplet_margin_loss_takes_any_margin(margin, reduction):
    import torch

    rng = np.random.default_rng(1)
    a, p, n = (rng.normal(size=(4, 3)) for _ in range(3))
    got = ember.triplet_margin_loss(
        ember.tensor(a), ember.tensor(p), ember.tensor(n), margin, 2.0, 1e-6, False, reduction
    )
    expected = torch.triplet_margin_loss(
        torch.tensor(a), torch.tensor(p), torch.tensor(n), margin, 2.0, 1e-6, False, reduction
    )
    assert_close(got, expected, rtol=1e-12, atol=1e-12)
    if margin <= 0:  # the functional form still refuses it, as PyTorch's
        with pytest.raises(ValueError, match="margin must be greater than 0"):
            F.triplet_margin_loss(ember.tensor(a), ember.tensor(p), ember.tensor(n), margin=margin)


# ---- heaviside records a node whose backward raises, as PyTorch's NotImplemented -----------


@requires_torch
def test_heaviside_of_inputs_requiring_grad_records_pytorchs_not_implemented_node():
    import torch

    for lib in (ember, torch):
        x = lib.tensor([0.5, -1.0, 0.0], requires_grad=True)
        y = lib.heaviside(x, lib.tensor([0.25]))
        assert y.requires_grad and y.tolist() == [1.0, 0.0, 0.25]
        assert y.grad_fn.name() == "torch::autograd::NotImplemented"
        assert "grad_fn=<NotImplemented>" in repr(y)
        with pytest.raises(RuntimeError, match="derivative for aten::heaviside"):
            (y * x).sum().backward()
        assert not lib.heaviside(x.detach(), lib.tensor([0.25])).requires_grad
