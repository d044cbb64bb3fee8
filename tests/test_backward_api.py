"""The entry points of a backward pass, as in PyTorch: Tensor.backward(inputs=...), and
leaves' gradients under create_graph. Each program runs in ember and, when it is installed,
in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import HAVE_TORCH, assert_close


@pytest.fixture(params=["ember", "torch"])
def T(request):
    """The framework a program runs in: ember, or torch (skipped when absent)."""
    if request.param == "torch":
        if not HAVE_TORCH:
            pytest.skip("PyTorch is not installed (pip install -e '.[test]' installs torch==2.13.0)")
        import torch

        return torch
    return ember


def _arr(t):
    return None if t is None else np.array(t.detach().numpy())


# ---- Tensor.backward(inputs=...) ---------------------------------------------------------


def test_backward_inputs_gives_a_nonleaf_its_grad(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    w = T.tensor(3.0, requires_grad=True)
    h = x * w
    y = (h * h).sum()
    y.backward(inputs=[h, w], retain_graph=True)
    assert x.grad is None
    assert_close(_arr(w.grad), np.array(30.0, np.float32))
    assert_close(_arr(_nonleaf_grad(T, h)), np.array([6.0, 12.0], np.float32))
    y.backward(inputs=[h])  # accumulates, as a leaf's .grad does
    assert_close(_arr(_nonleaf_grad(T, h)), np.array([12.0, 24.0], np.float32))


def _nonleaf_grad(T, t):
    if T is ember:
        return t.grad
    import warnings

    with warnings.catch_warnings():  # PyTorch warns on reading a non-leaf's .grad
        warnings.simplefilter("ignore")
        return t.grad


def test_backward_inputs_root_itself(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward(inputs=[y])
    assert x.grad is None
    assert_close(_arr(_nonleaf_grad(T, y)), np.array(1.0, np.float32))


def test_backward_inputs_without_the_root_leaves_the_root_grad_alone(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward(inputs=x)  # a single tensor is accepted too
    assert_close(_arr(x.grad), np.array([2.0, 2.0], np.float32))
    assert _nonleaf_grad(T, y) is None  # ember's root .grad extra applies without inputs only


def test_backward_inputs_unused_leaf_keeps_none(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    z = T.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward(inputs=[z])
    assert z.grad is None and x.grad is None


# ---- create_graph: each leaf's .grad is its own tensor -------------------------------------


def test_create_graph_leaf_grads_are_not_the_same_tensor(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor([3.0, 4.0], requires_grad=True)
    ((a + b) ** 2).sum().backward(create_graph=True)
    assert a.grad is not b.grad
    ga, gb = a.grad, b.grad
    assert_close(_arr(ga), np.array([8.0, 12.0], np.float32))
    a.grad = b.grad = None
    (ga * gb).sum().backward()  # d/da of (2(a+b))^2 summed = 8(a+b)
    assert_close(_arr(a.grad), np.array([32.0, 48.0], np.float32))
    assert_close(_arr(b.grad), np.array([32.0, 48.0], np.float32))


def test_create_graph_changing_one_grad_leaves_the_other(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward(create_graph=True)
    assert not a.grad.requires_grad  # constant gradients: nothing to record
    with T.no_grad():
        a.grad.mul_(10)
    assert_close(_arr(b.grad), np.ones(2, np.float32))


def test_create_graph_leaf_root_grad_is_a_copy_of_the_given_gradient(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    g = T.tensor([1.0, 1.0], requires_grad=True)
    a.backward(g, create_graph=True)
    assert a.grad is not g and a.grad.requires_grad
    (a.grad * T.tensor([2.0, 3.0])).sum().backward()  # the copy is recorded: g gets a gradient
    assert_close(_arr(g.grad), np.array([2.0, 3.0], np.float32))
