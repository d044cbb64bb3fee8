"""A leaf's AccumulateGrad node (`next_functions`, `autograd.graph.get_gradient_edge`): its
identity, name and `.variable`, and its pre-hooks and hooks, in the order PyTorch runs them
around the tensor hooks and post-accumulate hooks; each program runs in ember and in torch
(the `T` fixture) or side by side."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import ember
from conftest import requires_torch


def _acc(T, x):
    return x.view_as(x).grad_fn.next_functions[0][0]


def test_node_of_a_leaf(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    acc = _acc(T, x)
    assert type(acc).__name__ == "AccumulateGrad"
    assert acc.name() == "torch::autograd::AccumulateGrad"
    assert acc.variable is x
    assert acc.next_functions == ()
    assert acc.metadata == {}
    acc.metadata["k"] = 1
    assert _acc(T, x) is acc and _acc(T, x).metadata == {"k": 1}
    assert isinstance(acc, T.autograd.graph.Node)
    edge = T.autograd.graph.get_gradient_edge(x)
    assert edge.node is acc and edge.output_nr == 0
    with pytest.raises(RuntimeError, match="does not require gradients"):
        T.autograd.graph.get_gradient_edge(T.ones(2))


def test_hooks_outlive_the_node_object():
    # ember keeps an AccumulateGrad's hooks with the leaf; PyTorch loses them when nothing
    # holds the node any more (docs/differences.md)
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    _acc(ember, x).register_prehook(lambda g: (g[0] * 10,))
    gc.collect()
    assert id(x) not in ember.autograd.function._accumulators  # the node itself is gone
    (x * x).sum().backward()
    assert x.grad.tolist() == [20.0, 40.0]


def _order_program(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    acc = _acc(T, x)
    log = []

    def pre(grads):
        log.append(("pre", grads[0].tolist()))
        return (grads[0] * 10,)

    def post(grad_inputs, grad_outputs):
        log.append(("post", len(grad_inputs), grad_outputs[0].tolist()))

    h_pre = acc.register_prehook(pre)
    h_post = acc.register_hook(post)
    x.register_hook(lambda g: log.append(("tensor", g.tolist())))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("post_acc", t.grad.tolist())))
    (x * x).sum().backward()
    log.append(("grad", x.grad.tolist()))
    (x * 3).sum().backward()  # accumulates onto the stored gradient
    log.append(("grad", x.grad.tolist()))
    # autograd.grad stores nothing: the node's hooks do not run, the tensor's do
    (g,) = T.autograd.grad((x * x).sum(), x)
    log.append(("autograd.grad", g.tolist()))
    # backward(inputs=...) stores: they run
    (x * 2).sum().backward(inputs=[x])
    log.append(("grad", x.grad.tolist()))
    h_pre.remove()
    h_post.remove()
    x.grad = None
    (x * x).sum().backward()
    log.append(("grad", x.grad.tolist()))
    return log


@requires_torch
def test_hook_order_and_effect_as_torch():
    import torch

    assert _order_program(ember) == _order_program(torch)


def _edge_cases_program(T):
    out = []
    w = T.tensor([1.0, 2.0], requires_grad=True)
    keep = [T.autograd.graph.get_gradient_edge(w).node]  # torch drops the hooks of a node let go
    keep[-1].register_prehook(lambda g: (None,))
    (w * 2).sum().backward()
    out.append(w.grad)
    # a leaf that is the root itself
    r = T.tensor(3.0, requires_grad=True)
    keep.append(_acc(T, r))
    keep[-1].register_prehook(lambda g: (g[0] + 1,))
    r.backward()
    out.append(r.grad.item())
    # a hook that returns the wrong number of values
    v = T.tensor([1.0], requires_grad=True)
    keep.append(_acc(T, v))
    keep[-1].register_prehook(lambda g: (g[0], g[0]))
    with pytest.raises(RuntimeError, match="incorrect number of values"):
        (v * 2).sum().backward()
    u = T.tensor([1.0], requires_grad=True)
    keep.append(_acc(T, u))
    keep[-1].register_hook(lambda gi, go: (go[0],))
    with pytest.raises(RuntimeError, match="incorrect number of values"):
        (u * 2).sum().backward()
    return out


@requires_torch
def test_edge_cases_as_torch():
    import torch

    e, t = _edge_cases_program(ember), _edge_cases_program(torch)
    assert e[0] is None and t[0] is None
    assert e[1] == t[1] == 2.0


def _complex_program(T):
    z = T.tensor([1.0 + 1.0j, -2.0 + 0.5j], requires_grad=True)
    acc = _acc(T, z)
    seen = []
    acc.register_prehook(lambda g: (seen.append(g[0].detach().clone()), (g[0] * 1j,))[1])
    acc.register_hook(lambda gi, go: seen.append(go[0].detach().clone()))
    (z * (2 + 1j)).abs().sum().backward()
    return [s.numpy() for s in seen] + [z.grad.numpy()]


@requires_torch
def test_complex_gradients_shown_as_torch():
    import torch

    for a, b in zip(_complex_program(ember), _complex_program(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@requires_torch
def test_prehook_under_create_graph_as_torch():
    import torch

    def run(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        acc = _acc(T, x)
        acc.register_prehook(lambda g: (g[0] * 2,))
        (x**3).sum().backward(create_graph=True)
        first = x.grad.detach().clone()
        (g2,) = T.autograd.grad(x.grad.sum(), x)
        return first.tolist(), g2.tolist()

    assert run(ember) == run(torch)


def test_gradient_edge_as_autograd_grad_input():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    edge = ember.autograd.graph.get_gradient_edge(x)
    (g,) = ember.autograd.grad((x * x).sum(), edge)
    assert g.tolist() == [2.0, 4.0]


def _backward_to_edges(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    w = T.tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    loss = (y * y).sum()
    edge = T.autograd.graph.get_gradient_edge(x)
    loss.backward(inputs=edge, retain_graph=True)  # one edge
    first = (x.grad.tolist(), w.grad)
    T.autograd.backward(loss, inputs=[edge, T.autograd.graph.get_gradient_edge(y)])
    return first, x.grad.tolist(), w.grad


@requires_torch
def test_backward_inputs_take_gradient_edges_as_torch():
    import torch

    assert _backward_to_edges(ember) == _backward_to_edges(torch)


@requires_torch
def test_prehook_changing_size_or_type_raises_as_torch():
    # ember summed an expanded replacement into the gradient, silently
    import torch

    for T in (ember, torch):
        for hook, message in [
            (lambda g: (g[0].expand(3, 2),), "has changed the size of value"),
            (lambda g: (g[0].reshape(1, 2),), "has changed the size of value"),
            (lambda g: (g[0].double(),), "has changed the type of value"),
        ]:
            x = T.tensor([1.0, 2.0], requires_grad=True)
            acc = _acc(T, x)
            acc.register_prehook(hook)
            with pytest.raises(RuntimeError, match=message):
                (x * x).sum().backward()


@requires_torch
def test_node_prehook_of_an_op_changing_size_or_type_raises_as_torch():
    # the same check for an op's node (ember conformed the replacement, or failed later)
    import torch

    for T in (ember, torch):
        for hook, message in [
            (lambda g: (g[0].double(),), "has changed the type of value"),
            (lambda g: (g[0].sum(),), "has changed the size of value"),
        ]:
            w = T.tensor([1.0, 2.0], requires_grad=True)
            h = w * 2
            h.grad_fn.register_prehook(hook)
            with pytest.raises(RuntimeError, match=message):
                (h * h).sum().backward()
