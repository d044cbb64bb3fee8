"""autograd.grad and backward(inputs=...) run only the nodes from which a gradient reaches
an input asked for, as PyTorch's engine does: a branch that leads elsewhere runs no
backward (one without a derivative does not raise) and none of its hooks."""

from __future__ import annotations

import pytest

import ember
from conftest import requires_torch


def _libs():
    import torch

    return (torch, ember)


@requires_torch
def test_a_branch_without_a_derivative_is_not_run():
    for lib in _libs():
        a = lib.tensor([1.0, -2.0], requires_grad=True)
        b = lib.tensor([0.5, 1.0], requires_grad=True)
        y = lib.heaviside(a, lib.tensor([0.5])).sum() + (b * b).sum()
        (gb,) = lib.autograd.grad(y, [b], retain_graph=True)
        assert gb.tolist() == [1.0, 2.0]
        y.backward(inputs=[b])
        assert b.grad.tolist() == [1.0, 2.0] and a.grad is None
        with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
            lib.autograd.grad(y, [a])


@requires_torch
def test_hooks_on_a_branch_that_leads_elsewhere_do_not_run():
    for lib in _libs():
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0], requires_grad=True)
        calls: list = []
        h = a * 3
        h.register_hook(lambda g, calls=calls: calls.append("h"))
        z = h.sum() + (b * b).sum()
        assert lib.autograd.grad(z, [b], retain_graph=True)[0].tolist() == [6.0]
        assert calls == []
        assert lib.autograd.grad(z, [a])[0].tolist() == [3.0, 3.0]
        assert calls == ["h"]


@requires_torch
def test_a_non_leaf_input_is_captured_without_running_its_node():
    for lib in _libs():
        a = lib.tensor([1.0, -2.0], requires_grad=True)
        h = lib.heaviside(a, lib.tensor([0.5]))
        (g,) = lib.autograd.grad((h * 2).sum(), [h])
        assert g.tolist() == [2.0, 2.0]


@requires_torch
def test_the_branch_not_run_is_not_freed():
    results = []
    for lib in _libs():
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0], requires_grad=True)
        y = (a.exp()).sum() + (b * b).sum()
        lib.autograd.grad(y, [b])  # frees the nodes it ran, not exp's
        results.append(lib.autograd.grad(y, [a])[0].tolist())
    assert results[0] == pytest.approx(results[1])


def test_a_long_chain_is_walked_without_recursion():
    x = ember.tensor(1.0, requires_grad=True)
    other = ember.tensor(2.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    (g,) = ember.autograd.grad(y + other, [x])
    assert g.item() == 1.0
