"""The entry points of a backward pass, as in PyTorch: autograd.backward with several roots,
Tensor.backward(inputs=...), and leaves' gradients under create_graph. Each program runs in
ember and, when it is installed, in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import assert_close


def _arr(t):
    return None if t is None else np.array(t.detach().numpy())


# ---- autograd.backward: several roots in one pass -----------------------------------------


def test_autograd_backward_with_several_scalar_roots(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor(2.0, requires_grad=True)
    T.autograd.backward([(a * b).sum(), (a * a).sum()])
    assert_close(_arr(a.grad), np.array([4.0, 6.0], np.float32))
    assert_close(_arr(b.grad), np.array(3.0, np.float32))


def test_autograd_backward_with_a_gradient_per_root(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor(2.0, requires_grad=True)
    T.autograd.backward((a * b, a * a), grad_tensors=(T.ones(2), T.tensor([1.0, 10.0])))
    assert_close(_arr(a.grad), np.array([4.0, 42.0], np.float32))
    assert_close(_arr(b.grad), np.array(3.0, np.float32))
    T.autograd.backward(a * b, T.tensor([1.0, 0.0]))  # one tensor, one gradient
    assert_close(_arr(a.grad), np.array([6.0, 42.0], np.float32))


def test_autograd_backward_shared_subgraph_runs_once_per_pass(T):
    x = T.tensor([0.5, -1.0], requires_grad=True)
    h = x.exp()
    T.autograd.backward([h.sum(), (h * h).sum(), x], [None, None, T.ones(2)])
    expected = np.exp([0.5, -1.0]) + 2 * np.exp([1.0, -2.0]) + 1
    assert_close(_arr(x.grad), expected.astype(np.float32))


def test_autograd_backward_create_graph_gives_differentiable_grads(T):
    x = T.tensor([0.5, 2.0], dtype=T.float64, requires_grad=True)
    T.autograd.backward([(x**3).sum(), (x * x).sum()], create_graph=True)
    g = x.grad
    assert g.requires_grad
    (gg,) = T.autograd.grad(g.sum(), x)
    assert_close(_arr(gg), 6 * np.array([0.5, 2.0]) + 2)


def test_autograd_backward_inputs_restrict_the_leaves(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor(2.0, requires_grad=True)
    T.autograd.backward([(a * b).sum(), (a * a).sum()], inputs=[b])
    assert a.grad is None
    assert_close(_arr(b.grad), np.array(3.0, np.float32))


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("fewer gradients", RuntimeError, "got 2 tensors and 1 gradients"),
        ("no grad", RuntimeError, "element 1 of tensors does not require grad and does not have a grad_fn"),
        ("not scalar", RuntimeError, "grad can be implicitly created only for scalar outputs"),
        ("shape", RuntimeError, r"Mismatch in shape: grad_output\[0\] has a shape of "),
        ("number", TypeError, "gradients can be either Tensors or None, but got float"),
        ("empty inputs", RuntimeError, "`inputs` argument to `backward\\(\\)` cannot be empty."),
    ],
)
def test_autograd_backward_errors(T, case, error, message):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    roots = [(a * 2).sum(), a * 3]
    kwargs = {
        "fewer gradients": {"grad_tensors": [None]},
        "no grad": {"tensors": [roots[0], T.tensor(1.0)]},
        "not scalar": {},
        "shape": {"tensors": roots[::-1], "grad_tensors": [T.ones(3), T.tensor(1.0)]},
        "number": {"tensors": roots[:1], "grad_tensors": [2.0]},
        "empty inputs": {"grad_tensors": [None, T.ones(2)], "inputs": []},
    }[case]
    kwargs.setdefault("tensors", roots)
    with pytest.raises(error, match=message):
        T.autograd.backward(**kwargs)


def test_autograd_backward_names_the_root_whose_gradient_has_the_wrong_shape():
    # PyTorch 2.13 fails here with "Boolean value of Tensor with more than one value is
    # ambiguous" (its check breaks for a root after the first); ember names the root.
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError, match=r"grad_output\[1\] has a shape of ember.Size\(\[3\]\) and output\[1\]"
    ):
        ember.autograd.backward([a.sum(), a * 3], [ember.tensor(1.0), ember.ones(3)])


def test_autograd_backward_extra_gradients_are_ignored(T):
    a = T.tensor(1.0, requires_grad=True)
    T.autograd.backward([a * 2], [T.tensor(1.0), T.tensor(5.0)])
    assert_close(_arr(a.grad), np.array(2.0, np.float32))


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("empty inputs", "`inputs` argument to `grad\\(\\)` cannot be empty."),
        ("shape", r"Mismatch in shape: grad_output\[0\] has a shape of "),
        ("fewer gradients", "got 2 tensors and 1 gradients"),
        ("no grad", "element 1 of tensors does not require grad and does not have a grad_fn"),
    ],
)
def test_autograd_grad_checks_its_roots_as_backward_does(T, case, message):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    outputs, inputs, grad_outputs = [a * 3, (a * 2).sum()], [a], [T.ones(2), None]
    if case == "empty inputs":
        inputs = []
    elif case == "shape":
        grad_outputs = [T.ones(3), None]
    elif case == "fewer gradients":
        grad_outputs = [T.ones(2)]
    else:
        outputs[1] = T.tensor(1.0)
    with pytest.raises(RuntimeError, match=message):
        T.autograd.grad(outputs, inputs, grad_outputs)


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
