"""ember.autograd.graph (saved-tensor hooks, multi-tensor gradient hooks, Node, GradientEdge,
increment_version) and the small torch.autograd names (Variable, is_tensor_like,
set_multithreading_enabled, the anomaly_mode and variable modules), run in ember and in torch
side by side (the `T` fixture) where the behaviour is the same."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import assert_close

# ---- saved_tensors_hooks ---------------------------------------------------------------------


def test_pack_runs_when_saved_unpack_when_read(T):
    a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    calls = []

    def pack(t):
        calls.append("pack")
        return t

    def unpack(t):
        calls.append("unpack")
        return t

    with T.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = a * a  # Mul saves both factors
        assert calls == ["pack", "pack"]
        z = a.exp().sum()  # exp saves its output
        assert calls == ["pack"] * 3
    y.sum().backward()
    assert calls == ["pack"] * 3 + ["unpack"] * 2  # after the block too
    assert_close(a.grad, 2 * a.detach())
    z.backward()
    assert calls.count("unpack") == 3


def test_pack_of_leaf_input_is_the_leaf(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    with T.autograd.graph.saved_tensors_hooks(lambda t: seen.append(t) or t, lambda t: t):
        a.sin()
    assert seen[0] is a


def test_unpacked_value_is_what_backward_uses(T):
    a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with T.autograd.graph.saved_tensors_hooks(lambda t: t * 10, lambda t: t / 5):
        y = (a * a).sum()  # both factors come back doubled
    y.backward()
    assert_close(a.grad, 4 * a.detach())


def test_nothing_packed_without_recording(T):
    calls = []
    with T.autograd.graph.saved_tensors_hooks(lambda t: calls.append(1) or t, lambda t: t):
        x = T.tensor([1.0, 2.0])
        x * x  # requires no grad: nothing saved
        with T.no_grad():
            T.tensor([1.0], requires_grad=True).exp()
    assert calls == []


def test_hooks_nest_innermost_wins(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    with T.autograd.graph.saved_tensors_hooks(lambda t: calls.append("outer") or t, lambda t: t):
        with T.autograd.graph.saved_tensors_hooks(lambda t: calls.append("inner") or t, lambda t: t):
            a.exp()
        a.exp()
    assert calls == ["inner", "outer"]


def test_packed_copy_survives_in_place_change(T):
    """With a pack hook that copies, an in-place change after saving does not raise, and
    backward uses the saved values (PyTorch checks no versions when hooks are used)."""
    a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
        b = a * 1
        c = b * b
        with T.no_grad():
            b.mul_(2)
    c.sum().backward()
    assert_close(a.grad, 2 * a.detach())

    # a leaf changed in place: create_graph uses the saved copy too, not the leaf's new values
    x = T.tensor([1.0, 2.0], requires_grad=True)
    with T.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        y = (x * x * x).sum()
    with T.no_grad():
        x.mul_(10)
    (g,) = T.autograd.grad(y, x, create_graph=True)
    assert_close(g, T.tensor([3.0, 12.0]))
    (gg,) = T.autograd.grad(g.sum(), x)
    assert_close(gg, T.tensor([6.0, 12.0]))


def test_allow_mutation_on_saved_tensors():
    a = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with ember.autograd.graph.allow_mutation_on_saved_tensors():
        b = a * 1
        c = b.sin()
        with ember.no_grad():
            b.add_(5)
        c.sum().backward()
    assert_close(a.grad, np.cos([1.0, 2.0, 3.0]))


def test_unpack_must_return_a_tensor(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 5):
        y = a * a
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        y.sum().backward()


def test_hooks_with_user_function_and_create_graph(T):
    class Cube(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    a = T.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    with T.autograd.graph.saved_tensors_hooks(lambda t: calls.append(1) or t, lambda t: t):
        y = Cube.apply(a).sum() + (a.exp() * a).sum()
    (g,) = T.autograd.grad(y, a, create_graph=True)
    (gg,) = T.autograd.grad(g.sum(), a)
    x = a.detach()
    assert_close(g, 3 * x * x + x.exp() * (1 + x))
    assert_close(gg, 6 * x + x.exp() * (2 + x))
    assert len(calls) == 4

    # a pack hook that copies: the unpacked copy takes the saved tensor's place in the graph
    # (a leaf, and the output of another node), or the second derivative misses its terms
    with T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
        y = Cube.apply(a)
        z = Cube.apply(a * 2)
    loss = (y * y).sum() + z.sum()  # a^6 + 8 a^3
    (g,) = T.autograd.grad(loss, a, create_graph=True)
    (gg,) = T.autograd.grad(g.sum(), a)
    assert_close(g, 6 * x**5 + 24 * x * x)
    assert_close(gg, 30 * x**4 + 48 * x)


def test_freed_graph_still_raises_with_hooks(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = (a * a).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="second time"):
            y.backward()


def test_hooks_leave_no_trace_after_the_block():
    """The descriptor is swapped in only while a block is open: afterwards the class attribute
    is the plain default again, and new nodes are of the op's own class."""
    from ember.autograd.function import Function
    from ember.ops.elementwise import Mul

    a = ember.tensor([1.0, 2.0], requires_grad=True)
    with ember.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        assert not isinstance(Function.__dict__["_saved"], tuple)
        inside = a * a
    assert Function.__dict__["_saved"] == ()
    assert type((a * a).grad_fn) is Mul
    assert isinstance(inside.grad_fn, Mul) and inside.grad_fn.name() == "MulBackward0"


def test_last_node_of_a_block_keeps_only_what_pack_returned():
    """The originals a node saved are dropped once packed, for the last node of a block as
    well (a pack hook that offloads must not leave the original held until backward)."""
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    packed = []
    with ember.autograd.graph.saved_tensors_hooks(
        lambda t: packed.append(t.clone()) or len(packed) - 1, packed.__getitem__
    ):
        with ember.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            inner = (a * 3).sin()  # the inner block's last node
        outer = (a * 2).sin()  # the outer block's last node
    assert [v is None for v in inner.grad_fn._saved + outer.grad_fn._saved] == [True, True]
    (inner + outer).sum().backward()
    assert_close(a.grad, 3 * (a.detach() * 3).cos() + 2 * (a.detach() * 2).cos())


def test_save_on_cpu(T):
    a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with T.autograd.graph.save_on_cpu(pin_memory=False):
        y = (a * a.exp()).sum()
    y.backward()
    x = a.detach()
    assert_close(a.grad, x.exp() * (1 + x))


def test_disable_saved_tensors_hooks(T):
    graph = T.autograd.graph
    with graph.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        with pytest.raises(RuntimeError, match="not while"):
            with graph.disable_saved_tensors_hooks("not while hooks are on"):
                pass
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t):  # usable again
        pass


# ---- register_multi_grad_hook ----------------------------------------------------------------


def test_multi_grad_hook_all(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor([3.0, 4.0], requires_grad=True)
    seen = []
    handle = T.autograd.graph.register_multi_grad_hook((a, b), lambda grads: seen.append(grads))
    (a * 2).sum().backward()
    assert len(seen) == 1 and seen[0][1] is None
    assert_close(seen[0][0], T.tensor([2.0, 2.0]))
    (a * b).sum().backward()
    assert len(seen) == 2
    assert_close(seen[1][0], b.detach())
    assert_close(seen[1][1], a.detach())
    handle.remove()
    (a * b).sum().backward()
    assert len(seen) == 2


def test_multi_grad_hook_any_and_nonleaf(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    seen = []
    T.autograd.graph.register_multi_grad_hook((a, h), lambda g: seen.append(g), mode="any")
    (h * 2).sum().backward()
    assert len(seen) == 1  # once per pass, with the first gradient computed (h's)
    assert_close(seen[0], T.tensor([2.0, 2.0]))
    with pytest.raises(ValueError, match="Expects mode"):
        T.autograd.graph.register_multi_grad_hook((a,), print, mode="some")


def test_multi_grad_hook_after_a_failed_pass_and_in_a_nested_pass(T):
    # A pass that raises after one hooked gradient leaves nothing behind (its queued call
    # must not fire at the end of a later, unrelated pass), and a backward run inside a
    # backward does not fire the enclosing pass's hook early, with half of its gradients.
    class Boom(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    class Nested(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            z = T.ones(1, requires_grad=True)
            with T.enable_grad():
                T.autograd.grad((z * 2).sum(), z)
            return g

    seen = []
    record = lambda grads: seen.append([None if g is None else g.tolist() for g in grads])  # noqa: E731
    a0 = T.ones(2, requires_grad=True)
    b = T.ones(2, requires_grad=True)
    failing = Boom.apply(b)  # created first: its backward runs after a's hook
    a = a0 * 1
    handle = T.autograd.graph.register_multi_grad_hook((a, b), record)
    with pytest.raises(ValueError, match="boom"):
        ((a * 2).sum() + failing.sum()).backward(retain_graph=True)
    (T.ones(2, requires_grad=True) * 3).sum().backward()
    assert seen == []
    (a * 5).sum().backward()
    assert seen == [[[5.0, 5.0], None]]
    handle.remove()

    seen.clear()
    a0 = T.ones(2, requires_grad=True)
    b0 = T.ones(2, requires_grad=True)
    a = a0 * 1
    inner = Nested.apply(b0)  # runs between b's hook and a's
    b = b0 * 1
    T.autograd.graph.register_multi_grad_hook((a, b), record)
    ((a * 2).sum() + (inner * b).sum()).backward()
    assert seen == [[[2.0, 2.0], [1.0, 1.0]]]


# ---- Node, GradientEdge, increment_version ---------------------------------------------------


def test_node_and_gradient_edge(T):
    graph = T.autograd.graph
    a = T.tensor([1.0, 2.0], requires_grad=True)
    y = a * 2
    assert isinstance(y.grad_fn, graph.Node)
    edge = graph.get_gradient_edge(y)
    assert edge.node is y.grad_fn and edge.output_nr == 0
    leaf_edge = graph.get_gradient_edge(a)
    assert isinstance(leaf_edge.node, graph.Node)
    assert leaf_edge.node.name() == "torch::autograd::AccumulateGrad"
    (g,) = T.autograd.grad((y * y).sum(), edge)
    assert_close(g, 2 * y.detach())
    with pytest.raises(RuntimeError, match="does not require gradients"):
        graph.get_gradient_edge(T.tensor([1.0]))


def test_gradient_edge_of_one_output_of_several():
    a = ember.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    values, _ = a.max(dim=1)
    out = (values * values).sum()
    (g,) = ember.autograd.grad(out, [ember.autograd.graph.get_gradient_edge(values)])
    assert_close(g, 2 * values.detach())


def test_increment_version(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    y = b * b
    T.autograd.graph.increment_version(b)
    assert b._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    T.autograd.graph.increment_version([b, b])
    assert b._version == 3


def test_version_is_an_int_shared_by_views_and_detach(T):
    # the autograd mechanics notes print `x._version`: an int, counting in-place changes of
    # the memory, whichever of the tensors sharing it was changed
    x = T.zeros(4)
    view, alias = x[1:], x.detach()
    assert type(x._version) is int and x._version == 0
    x.add_(1)
    view.mul_(2)
    alias[0] = 5.0
    assert (x._version, view._version, alias._version) == (3, 3, 3)
    assert T.zeros(2)._version == 0 and (x + 1)._version == 0


# ---- the small torch.autograd names ----------------------------------------------------------


def test_variable(T):
    x = T.tensor([1.0, 2.0])
    v = T.autograd.Variable(x)
    assert v is not x and not v.requires_grad and isinstance(x, T.autograd.Variable)
    w = T.autograd.Variable(x, requires_grad=True)
    assert w.requires_grad and not x.requires_grad and w.is_leaf
    assert T.autograd.Variable().shape == (0,)
    with pytest.raises(TypeError, match="Variable data has to be a tensor"):
        T.autograd.Variable([1.0])
    assert T.autograd.variable.Variable is T.autograd.Variable


def test_is_tensor_like_and_multithreading(T):
    assert T.autograd.is_tensor_like(T.tensor([1.0]))
    assert not T.autograd.is_tensor_like(3)
    assert T.autograd.is_multithreading_enabled()
    with T.autograd.set_multithreading_enabled(False):
        assert not T.autograd.is_multithreading_enabled()
    assert T.autograd.is_multithreading_enabled()


def test_anomaly_mode_module(T):
    from importlib import import_module

    module = import_module(f"{T.__name__}.autograd.anomaly_mode")
    assert module.detect_anomaly is T.autograd.detect_anomaly
    assert module.set_detect_anomaly is T.autograd.set_detect_anomaly


def test_node_hooks(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    z = (a * 3).exp()
    seen = []

    def post(grad_inputs, grad_outputs):
        seen.append("post")
        return (grad_inputs[0] * 10,)

    def pre(grad_outputs):
        seen.append("pre")
        return (grad_outputs[0] * 2,)

    h1 = z.grad_fn.register_hook(post)
    h2 = z.grad_fn.register_prehook(pre)
    assert z.grad_fn.metadata == {} and z.grad_fn.name() == "ExpBackward0"
    z.sum().backward(retain_graph=True)
    assert seen == ["pre", "post"]
    x = a.detach()
    assert_close(a.grad, 60 * (3 * x).exp())
    h1.remove()
    h2.remove()
    a.grad = None
    z.sum().backward()
    assert_close(a.grad, 3 * (3 * x).exp())
    m = a * a
    m.grad_fn.register_hook(lambda gi, go: seen.append((len(gi), len(go))))
    m.sum().backward()
    assert seen[-1] == (2, 1)

    class Scale(T.autograd.Function):  # a number among its inputs: no grad_input for it
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    a.grad = None
    s = Scale.apply(a, 3.0)
    s.grad_fn.register_hook(lambda gi, go: seen.append(len(gi)) or (gi[0] + 1,))
    s.sum().backward()
    assert seen[-1] == 1
    assert_close(a.grad, T.tensor([4.0, 4.0]))


def test_node_hook_errors(T):
    q = T.tensor([1.0, 2.0], requires_grad=True) * 2
    q.grad_fn.register_hook(lambda gi, go: 5)
    with pytest.raises(TypeError, match="expected tuple"):
        q.sum().backward()
    q = T.tensor([1.0, 2.0], requires_grad=True) * 2
    q.grad_fn.register_prehook(lambda go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="incorrect number of values"):
        q.sum().backward()


def test_node_hooks_with_saved_tensor_hooks_and_create_graph():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    with ember.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = a * a
    y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    y.grad_fn.register_prehook(lambda go: (go[0] * 3,))
    (g,) = ember.autograd.grad(y.sum(), a, create_graph=True)
    assert_close(g, 12 * a.detach())
    (gg,) = ember.autograd.grad(g.sum(), a)
    assert_close(gg, ember.full((2,), 12.0))
