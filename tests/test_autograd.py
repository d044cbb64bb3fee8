"""The engine: each test is named after the bug it prevents."""

from __future__ import annotations

import gc
import pickle
import weakref

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember.autograd import Function, gradcheck


def test_course_example_e_equals_a_plus_b_times_b_plus_one():
    a = ember.tensor(2.0, requires_grad=True)
    b = ember.tensor(1.0, requires_grad=True)
    e = (a + b) * (b + 1)
    assert repr(e) == "tensor(6., grad_fn=<MulBackward0>)"
    e.backward()
    assert a.grad.item() == 2 and b.grad.item() == 5
    assert repr(e.grad) == "tensor(1.)"  # the root keeps its own gradient (documented)


def test_graph_is_inspectable_through_next_functions():
    x, w1, w2 = (ember.tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    y = x + w1 + w2
    assert y.grad_fn.name() == "AddBackward0"
    (inner, _), (leaf, _) = y.grad_fn.next_functions
    assert inner.name() == "AddBackward0"
    assert leaf.name() == "torch::autograd::AccumulateGrad" and leaf.variable is w2
    assert inner.next_functions[0][0].variable is x
    const = ember.tensor([1.0, 2.0]) + w1
    assert const.grad_fn.next_functions[0] == (None, 0)


@requires_torch
def test_next_functions_of_a_hand_written_loss_match_torch():
    import torch

    def structure(T):
        x = T.tensor([[2.0, 3.0]])
        w = T.tensor([[-1.0], [1.2]], requires_grad=True)
        loss = ((x @ w - T.tensor([[0.2]])) ** 2).sum() / 2 + w.mean() * 0.1 - (-w).exp().sum()
        probs = (x.t() * w).reshape(1, 2).softmax(1).clamp(0.01, 0.99)[:, 1:]
        loss = loss + probs.log().sum() + w.transpose(0, 1).flip(1).sum(0).prod()

        def walk(node):  # (name, [children]) down to the leaves, as a student prints it
            if node is None:
                return None
            name = type(node).__name__ if hasattr(node, "variable") else node.name()
            return name.split("::")[-1], [walk(n) for n, _ in node.next_functions]

        return walk(loss.grad_fn)

    assert structure(ember) == structure(torch)


def test_course_loss_gradient_only_for_w():
    x = ember.tensor([[2.0, 3.0]])
    w = ember.tensor([[-1.0], [1.2]], requires_grad=True)
    y = ember.tensor([[0.2]])
    loss = ((x @ w - y) ** 2).sum()
    loss.backward()
    assert_close(w.grad, np.array([[5.6], [8.4]], np.float32))
    assert x.grad is None


def test_reused_nonleaf_diamond_sums_both_paths():
    x = ember.tensor(3.0, requires_grad=True)
    h = x * x  # reused twice below
    y = h * 2 + h.exp() * 0 + h
    y.backward()
    assert x.grad.item() == pytest.approx(3 * 2 * 3.0)


def test_reused_leaf_accumulates_within_one_pass():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x * x * x).sum().backward()
    assert_close(x.grad, 3 * np.array([1.0, 4.0], np.float32))


def test_grads_accumulate_across_backward_calls():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert_close(x.grad, np.array([5.0, 5.0], np.float32))


def test_deep_chain_no_recursion():
    x = ember.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 0.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_broadcast_bias_grad():
    x = ember.ones(4, 3)
    b = ember.zeros(3, requires_grad=True)
    c = ember.zeros(4, 1, requires_grad=True)
    (x + b + c).sum().backward()
    assert b.grad.shape == (3,) and c.grad.shape == (4, 1)
    assert_close(b.grad, np.full(3, 4.0, np.float32))
    assert_close(c.grad, np.full((4, 1), 3.0, np.float32))


def test_leaf_grads_are_not_aliased():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([1.0, 2.0], requires_grad=True)
    (a + b).sum().backward()  # Add hands the same array to both inputs
    a.grad.mul_(10)
    assert_close(b.grad, np.ones(2, np.float32))
    s = ember.tensor([1.0, 2.0], requires_grad=True)
    s.sum().backward()  # the gradient of sum is a broadcast (read-only) view
    s.grad.add_(1)
    assert_close(s.grad, np.full(2, 2.0, np.float32))


def test_gradient_keeps_the_tensor_dtype():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ember.tensor([1.0, 2.0], dtype=ember.float64)
    (x * y).sum().backward()
    assert x.grad.dtype == ember.float32


def test_implicit_gradient_of_a_one_element_root_has_its_shape() -> None:
    """backward() without gradient works on any one-element tensor: the root's gradient
    is ones of its shape and dtype, and the leaves get owned, writable arrays."""
    x = ember.tensor([[2.0]], dtype=ember.float64, requires_grad=True)
    y = x * 3.0
    y.retain_grad()
    y.backward()
    assert y.grad.shape == (1, 1) and y.grad.dtype == ember.float64 and y.grad.item() == 1.0
    assert x.grad.tolist() == [[3.0]]
    x.grad.add_(1.0)  # the leaf's gradient is its own
    leaf = ember.tensor(5.0, requires_grad=True)
    leaf.backward()
    leaf.grad.mul_(2.0)
    assert leaf.grad.item() == 2.0


@pytest.mark.parametrize("given", [False, True])
def test_root_that_retains_its_gradient_gets_it_once(given: bool) -> None:
    """ember gives a root its gradient, and so does retain_grad(): not twice (it was 2)."""
    x = ember.tensor([2.0], requires_grad=True)
    y = x * 3.0
    y.retain_grad()
    gradient = ember.tensor([0.5]) if given else None
    y.backward(gradient)
    assert y.grad.tolist() == [0.5 if given else 1.0]
    assert x.grad.tolist() == [1.5 if given else 3.0]
    if given:
        y.grad.add_(1.0)  # the root's gradient is a copy, not the caller's tensor
        assert gradient.tolist() == [0.5]


def test_backward_twice_raises_unless_retained():
    x = ember.tensor(2.0, requires_grad=True)
    y = x.exp()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * np.exp(2.0), rel=1e-6)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def _arrays_kept_by_graph(root: ember.Tensor) -> int:
    """Bytes of the arrays that the graph's nodes still hold in their own attributes."""
    seen, stack, total = set(), [root.grad_fn], 0
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or isinstance(node, ember.Tensor):
            continue
        seen.add(id(node))
        total += sum(
            v.nbytes for k, v in vars(node).items() if not k.startswith("_") and isinstance(v, np.ndarray)
        )
        stack += [e[0] if isinstance(e, tuple) else e for e in node._edges]
    return total


def test_backward_frees_what_ops_kept_for_it():
    """A loss kept after backward (`losses.append(loss)`) keeps its graph's nodes, as in
    PyTorch, but not the activation-sized arrays that BatchNorm, max pooling and the fused
    losses keep for their backward; a second backward says the graph was freed."""
    nn, F = ember.nn, ember.nn.functional
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 13 * 13, 10),
    )
    x, y = ember.randn(16, 1, 28, 28), ember.randint(0, 10, (16,))
    for loss_fn in (F.cross_entropy, lambda z, t: F.nll_loss(z.log_softmax(1), t, weight=ember.ones(10))):
        loss = loss_fn(model(x), y)
        kept_before = _arrays_kept_by_graph(loss)
        assert kept_before > 16 * 4 * 26 * 26 * 4  # at least BatchNorm's normalised input
        loss.backward()
        assert _arrays_kept_by_graph(loss) < 1024  # the targets' indices, no activations
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()
    model.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward(retain_graph=True)
    first = [p.grad.clone() for p in model.parameters()]
    loss.backward()  # retained: everything is still there, and the gradients double
    for p, g in zip(model.parameters(), first):
        assert_close(p.grad, 2 * g)


def test_nonscalar_backward_needs_gradient():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        y.backward()
    y.backward(ember.tensor([1.0, 10.0]))
    assert_close(x.grad, np.array([2.0, 20.0], np.float32))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ember.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.tensor(1.0).backward()


def test_requires_grad_on_integer_tensor_raises():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2]).requires_grad_()


def test_retain_grad_on_nonleaf():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    k = x * 4
    (h * h + k).sum().backward()
    assert_close(h.grad, 2 * np.array([3.0, 6.0], np.float32))
    assert k.grad is None and h.retains_grad and not k.retains_grad


def test_create_graph_gives_second_derivative():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    assert_close(g, 3 * np.array([1.0, 4.0], np.float32))
    g.sum().backward()
    assert_close(x.grad, 6 * np.array([1.0, 2.0], np.float32))


def test_backward_create_graph_then_grad_of_grad():
    x = ember.tensor(0.5, requires_grad=True)
    y = x.tanh()
    y.backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    (second,) = ember.autograd.grad(first, x)
    t = np.tanh(0.5)
    assert second.item() == pytest.approx(-2 * t * (1 - t * t), rel=1e-5)


@requires_torch
def test_third_derivative_matches_torch():
    import torch

    def third(T):
        x = T.tensor([0.3, -1.2, 2.0], requires_grad=True)
        y = (x.sin() * x.exp() + x.sigmoid() * x**2).sum()
        (g1,) = T.autograd.grad(y, x, create_graph=True)
        (g2,) = T.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = T.autograd.grad(g2.sum(), x)
        return g3

    assert_close(third(ember), third(torch), rtol=1e-4, atol=1e-5)


def test_autograd_grad_does_not_touch_dot_grad_and_allow_unused():
    x = ember.tensor(1.0, requires_grad=True)
    z = ember.tensor(1.0, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        ember.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = ember.autograd.grad(y, [x, z], allow_unused=True)
    assert gx.item() == 2 and gz is None and x.grad is None


def test_grad_of_nonleaf_input():
    x = ember.tensor(2.0, requires_grad=True)
    h = x * 3
    y = h * h
    (gh,) = ember.autograd.grad(y, h)
    assert gh.item() == 12.0


def test_backward_inputs_restricts_accumulation():
    a = ember.tensor(1.0, requires_grad=True)
    b = ember.tensor(1.0, requires_grad=True)
    (a * b * 3).backward(inputs=[a])
    assert a.grad.item() == 3 and b.grad is None


def test_no_grad_modes():
    x = ember.tensor(1.0, requires_grad=True)
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        y = x * 2
        with ember.enable_grad():
            z = x * 2
    assert y.grad_fn is None and not y.requires_grad and z.requires_grad

    @ember.no_grad()
    def f(t):
        return t * 2

    assert f(x).grad_fn is None and ember.is_grad_enabled()
    with ember.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
    ember.set_grad_enabled(False)
    assert not ember.is_grad_enabled()
    ember.set_grad_enabled(True)
    with ember.inference_mode():
        assert (x * 2).grad_fn is None


def test_inplace_change_of_saved_tensor_is_detected():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    w = ember.tensor([3.0, 4.0])
    y = (x * w).sum()
    w.add_(1)  # Mul saved w for x's gradient
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_change_of_saved_output_under_no_grad_is_detected():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    with ember.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_change_of_a_saved_weight_after_linear_is_detected():
    # Linear saves its first two inputs (x, weight) of three: the "save my first inputs" path
    x = ember.randn(4, 3)
    layer = ember.nn.Linear(3, 2)
    loss = layer(x).sum()
    with ember.no_grad():
        layer.weight.mul_(2)  # an optimizer step before backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_inplace_change_of_either_of_two_saved_tensors_is_detected():
    for which in (0, 1):
        a = ember.tensor([1.0, 2.0], requires_grad=True) * 1
        b = ember.tensor([3.0, 4.0], requires_grad=True) * 1
        y = (a * b).sum()
        with ember.no_grad():
            (a, b)[which].add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


@pytest.mark.parametrize("op", [lambda a, b: a % 0.3, lambda a, b: ember.fmod(a, 0.3), lambda a, b: a % b])
def test_remainder_keeps_its_operands_only_for_the_divisors_gradient(op):
    # a % 0.3 (and fmod) has gradient 1 for a: PyTorch saves nothing, so changing a in place
    # afterwards is fine; ember kept a and raised "modified by an inplace operation"
    a = ember.tensor([0.2, 0.7], requires_grad=True) * 1
    b = ember.tensor([0.3, 0.4])
    y = op(a, b)
    a.mul_(2)
    y.sum().backward()
    b.requires_grad_()
    y = a % b
    with ember.no_grad():
        a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize(
    "op",
    [
        lambda a, w: a @ w,
        lambda a, w: a[0] @ w,
        lambda a, w: ember.mm(a, w),
        lambda a, w: ember.addmm(a, a, w),
        lambda a, w: ember.einsum("ij,jk->ik", a, w),
    ],
)
def test_a_product_keeps_an_operand_only_for_the_other_operands_gradient(op):
    # a's gradient reads w and w's reads a: with w frozen, PyTorch keeps no a, so changing a
    # in place after the product is fine; ember kept both and raised
    for frozen in ("w", "a"):
        a = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=frozen == "w") * 1
        w = ember.tensor([[0.5, -1.0], [2.0, 1.0]], requires_grad=frozen == "a") * 1
        y = op(a, w)
        (a if frozen == "w" else w).mul_(2)
        y.sum().backward()
    a = ember.ones(2, 2, requires_grad=True) * 1
    w = ember.ones(2, 2, requires_grad=True) * 1
    y = op(a, w)
    a.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@requires_torch
def test_a_number_over_a_tensor_is_a_reciprocal_times_the_number_as_in_torch():
    # PyTorch records 3 / x as reciprocal(x) * 3, whose node keeps 1 / x and not x: changing
    # x in place afterwards is fine there; ember's DivBackward0 kept x and raised
    import torch

    results = []
    for T in (ember, torch):
        x = T.tensor([0.0, 2.0, -3.0], requires_grad=True)
        y = x * 1
        z = 3 / y
        y.mul_(2)
        z.sum().backward()
        results.append((z.grad_fn.name(), z.grad_fn.next_functions[0][0].name(), z, x.grad))
    (e_node, e_next, e_z, e_grad), (t_node, t_next, t_z, t_grad) = results
    assert (e_node, e_next) == (t_node, t_next) == ("MulBackward0", "ReciprocalBackward0")
    np.testing.assert_array_equal(e_z.detach().numpy(), t_z.detach().numpy())
    np.testing.assert_array_equal(e_grad.numpy(), t_grad.numpy())


def test_node_created_early_and_used_late_waits_for_every_gradient():
    # h is created first but consumed at very different depths: a node must run only
    # after every later node has sent it its gradient (the engine's creation-order heap)
    x = ember.tensor([0.5, -1.0], requires_grad=True)
    h = x.tanh()
    deep = h
    for _ in range(50):
        deep = deep * 1.01
    y = (deep + h * 3 + h.exp()).sum()
    y.backward()
    t = np.tanh(np.array([0.5, -1.0]))
    expected = (1.01**50 + 3 + np.exp(t)) * (1 - t * t)
    assert_close(x.grad, expected.astype(np.float32), atol=1e-5)


def test_outputs_of_a_split_used_at_different_depths_all_reach_the_input():
    x = ember.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = (x * 1).split(2)
    late = b
    for _ in range(10):
        late = late * 2
    (a.sum() + late.sum() + b.sum()).backward()
    assert_close(x.grad, np.array([1, 1, 2**10 + 1, 2**10 + 1], np.float32))


def test_a_newer_producer_displaces_the_next_node_the_engine_holds():
    # y = a * b with b newer than a: the engine first holds a as the next node to run,
    # then b displaces it (a goes to the heap) and must run first, adding to a's gradient
    x = ember.tensor([1.5, -2.0], requires_grad=True)
    a = x * 2
    b = a * 3
    (a * b).sum().backward()  # 12 x**2
    assert_close(x.grad, np.array([36.0, -48.0], np.float32))


def test_the_held_next_node_meets_a_split_output_and_the_heap():
    # a split output (sent through the heap) arrives while a one-output node is held
    x = ember.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    h = x * 1
    p, q = h.split(2)
    y = (p * h[:2]).sum() + (q.exp() + h[2:]).sum()
    y.backward()
    v = np.array([1.0, 2.0, 3.0, 4.0])
    expected = np.concatenate([2 * v[:2], np.exp(v[2:]) + 1])
    assert_close(x.grad, expected.astype(np.float32), rtol=1e-6)


def test_node_that_receives_only_none_gradients_is_still_freed():
    class FirstOnly(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, None  # nothing for b, though b requires grad

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    b = x.exp()  # Exp saves its output
    FirstOnly.apply(x, b).sum().backward()
    assert_close(x.grad, np.ones(2, np.float32))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        b.grad_fn.saved_tensors


def test_inplace_on_leaf_that_requires_grad_raises():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 5.0
    with ember.no_grad():
        x.add_(1)  # the optimizer's way
    assert_close(x, np.array([2.0, 3.0], np.float32))


def test_recorded_inplace_on_nonleaf_gives_right_gradient():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y += x  # recorded: y = 2x + x
    y *= x  # 3x^2
    y[0] = y[0] * 0  # first element no longer depends on x
    y.sum().backward()
    assert_close(x.grad, np.array([0.0, 12.0], np.float32))


def test_inplace_op_reading_the_tensor_it_overwrites_raises_as_in_pytorch():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y *= y  # Mul kept y, which the write then changed: PyTorch raises too
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_data_update_pattern_and_version_counter():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    v = p._version_cell[0]
    p.data -= 0.1 * p.grad
    assert_close(p, np.array([0.8, 1.6], np.float32))
    assert p.requires_grad and p.is_leaf
    assert p._version_cell[0] == v  # .data is not tracked, as in PyTorch
    d = p.detach()
    d.add_(1)
    assert p._version_cell[0] == v + 1  # detach shares the counter


class MyReLU(Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


def test_users_own_function_written_like_pytorch():
    x = ember.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    y = MyReLU.apply(x)
    assert repr(y.grad_fn).startswith("<MyReLUBackward object")
    (y * ember.arange(4.0)).sum().backward()
    assert_close(x.grad, np.array([0.0, 1.0, 0.0, 3.0], np.float32))
    x64 = ember.tensor([-1.5, 0.7, 2.0, -0.3], dtype=ember.float64, requires_grad=True)
    assert gradcheck(MyReLU.apply, (x64,))


def test_users_function_with_two_inputs_and_non_tensor_arg():
    class ScaledMul(Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            return a * b * scale

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False, False)
            return g * b * ctx.scale, None, None

    a = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([3.0, 4.0], dtype=ember.float64)
    ScaledMul.apply(a, b, 2.0).sum().backward()
    assert_close(a.grad, np.array([6.0, 8.0]))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_the_op():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt() * 0  # sqrt's backward at 0 is inf; times 0 gives nan
    with ember.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            y.sum().backward()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_set_detect_anomaly_is_a_call_and_a_context_manager():
    from ember.autograd import is_anomaly_enabled, set_detect_anomaly

    x = ember.tensor([0.0, 1.0], requires_grad=True)
    with set_detect_anomaly(True):  # as in PyTorch, also usable in a with block
        assert is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            (x.sqrt() * 0).sum().backward()
    assert not is_anomaly_enabled()  # the previous setting is back
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()


def test_gradcheck_catches_a_wrong_gradient():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2x g

    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    with pytest.raises(ember.autograd.GradcheckError):
        gradcheck(Wrong.apply, (x,))
    assert not gradcheck(Wrong.apply, (x,), raise_exception=False)


def test_leaf_hook_can_change_the_gradient():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.clone()) or g * 2)
    (x * 3).sum().backward()
    assert_close(seen[0], np.full(2, 3.0, np.float32))
    assert_close(x.grad, np.full(2, 6.0, np.float32))


def _retained_then_modified(T, how: str) -> tuple:
    x = T.tensor([1.0, -2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    if how == "mul_":
        y.mul_(3)
    elif how == "relu_":
        y.relu_()
    else:
        y[0] = 5.0
    (y * y).sum().backward()
    return y.grad.tolist(), x.grad.tolist(), y.retains_grad


@requires_torch
@pytest.mark.parametrize("how", ["mul_", "relu_", "setitem"])
def test_retain_grad_follows_an_inplace_change_as_in_torch(how: str) -> None:
    """y.grad was the gradient of y's old value (its old node's output)."""
    import torch

    assert _retained_then_modified(ember, how) == _retained_then_modified(torch, how)


@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_given_root_gradient_takes_the_root_dtype(dtype: str) -> None:
    """As in PyTorch: a float64 or int64 gradient= for a float32 root gave a float64 or
    int64 .grad to a float32 leaf."""
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(ember.tensor([1, 1], dtype=getattr(ember, dtype)))
    assert x.grad.dtype == ember.float32 and x.grad.tolist() == [2.0, 2.0]


def _hooked_leaf_runs(T, run: str) -> tuple:
    x = T.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(1) or g.clamp(max=2.0))
    removed = x.register_hook(lambda g: g * 100)
    removed.remove()
    x.register_hook(lambda g: g * 10)
    if run == "backward":
        (x * 2 + x * 3).sum().backward()  # two edges reach x: the hooks see 5, once
        result = x.grad
    else:
        (result,) = T.autograd.grad((x * 2 + x * 3).sum(), x)
    return result.tolist(), len(calls)


@requires_torch
@pytest.mark.parametrize("run", ["backward", "autograd.grad"])
def test_leaf_hooks_see_the_summed_gradient_once_as_in_torch(run: str) -> None:
    """A hook ran once per incoming edge (clamp(4) + clamp(6) = 4, not clamp(10) = 2), and
    autograd.grad skipped the hooks altogether; a removed hook stays removed."""
    import torch

    assert _hooked_leaf_runs(ember, run) == _hooked_leaf_runs(torch, run) == ([20.0, 20.0], 1)


@pytest.mark.parametrize(
    "hook, message",
    [(lambda g: g.sum(), "changed the size"), (lambda g: g.double(), "changed the type")],
)
def test_hook_that_changes_shape_or_dtype_raises(hook, message: str) -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(hook)
    with pytest.raises(RuntimeError, match=message):
        (x * 2).sum().backward()


def test_graph_is_freed_after_backward_and_when_dropped():
    x = ember.tensor(np.ones(1000, np.float32), requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    y.sum().backward()
    assert node._saved is None  # saved arrays released by the pass
    ref = weakref.ref(node)
    gc.disable()
    try:
        del y, node
        assert ref() is None  # no reference cycles: freed without the garbage collector
    finally:
        gc.enable()


def test_is_leaf_and_requires_grad_flags():
    x = ember.tensor(1.0, requires_grad=True)
    y = x * 2
    assert x.is_leaf and not y.is_leaf and y.requires_grad
    assert ember.tensor(1.0).is_leaf
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    y.detach_()
    assert y.is_leaf and y.grad_fn is None


def test_float32_dtype_that_is_not_numpys_own_object():
    """The hot paths test for float32 by identity; an unpickled array's dtype is an equal but
    distinct object, and must be treated as float32 all the same."""
    data = pickle.loads(pickle.dumps(np.array([0.1, -0.3], np.float32)))
    assert data.dtype is not np.dtype(np.float32) and data.dtype == np.float32
    x = ember.from_numpy(data).requires_grad_()
    y = (x * 3.0).tanh() + 1
    assert y.requires_grad and y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 / np.cosh(3 * data) ** 2, rtol=1e-5)


def test_inplace_change_to_an_input_saved_by_a_node_with_several_outputs_raises():
    """batch_norm's node has three outputs and saves its input: changing that input in place
    before backward must raise, as for a one-output node."""
    from ember.nn import functional as F

    x = ember.randn(4, 3, requires_grad=True)
    h = x * 2
    y = F.batch_norm(h, None, None, ember.ones(3, requires_grad=True), None, training=True)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_root_gradient_accumulates_and_is_not_shared_with_a_leaf() -> None:
    """x + 1 hands the root's gradient on unchanged: the root's own .grad and the leaf's
    are still two arrays, and both accumulate over two backward calls."""
    x = ember.tensor([1.0], requires_grad=True)
    y = x + 1.0
    y.backward(retain_graph=True)
    y.backward()
    assert y.grad.tolist() == [2.0] and x.grad.tolist() == [2.0]
    y.grad.add_(1.0)
    assert x.grad.tolist() == [2.0]


def test_number_plus_one_element_tensor_gives_each_its_own_shape() -> None:
    """The per-sample loop's `(x * w).sum() + b`: a 0-d tensor plus one of shape (1,)."""
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([0.5], requires_grad=True)
    s = w.sum()
    s.retain_grad()
    ((s + b) * 3.0).sum().backward()
    assert s.grad.shape == () and s.grad.item() == 3.0
    assert b.grad.tolist() == [3.0] and w.grad.tolist() == [3.0, 3.0]


def test_sum_of_everything_and_its_second_derivative() -> None:
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    s = x.sum()
    assert s.shape == () and s.dtype == ember.float32 and s.grad_fn.name() == "SumBackward0"
    (g,) = ember.autograd.grad(s * s, x, create_graph=True)  # 2 s everywhere
    g.sum().backward()
    assert x.grad.tolist() == [[8.0, 8.0], [8.0, 8.0]]
    assert ember.zeros(0).sum().item() == 0.0 and ember.tensor(3.0).sum().item() == 3.0
