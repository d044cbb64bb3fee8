"""A user's autograd.Function follows PyTorch's rules: gradients that never arrived are
materialized as zeros (unless ctx.set_materialize_grads(False)), ctx.needs_input_grad is
known inside forward, and backward must return None for inputs that are not tensors. Each
program runs in ember and, when it is installed, in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch


def _two_outputs(T, materialize: bool, seen: list):
    """y = 2x and z = 3x, as one node whose backward records the gradients it was given."""

    class TwoOutputs(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            if not materialize:
                ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, gy, gz):
            seen.append((gy, gz))
            grad = gy * 2 if gy is not None else None
            if gz is not None:
                grad = gz * 3 if grad is None else grad + gz * 3
            return grad

    return TwoOutputs


def _arr(t):
    return None if t is None else np.array(t.detach().numpy())


@pytest.mark.parametrize("materialize", [True, False])
def test_unused_output_gets_zeros_unless_materialize_is_off(T, materialize):
    seen: list = []
    x = T.tensor([1.0, -2.0], requires_grad=True)
    y, _ = _two_outputs(T, materialize, seen).apply(x)
    (y * y).sum().backward()
    ((gy, gz),) = seen
    assert_close(_arr(gy), np.array([4.0, -8.0], np.float32))
    if materialize:
        assert_close(_arr(gz), np.zeros(2, np.float32))
        assert gz.dtype == T.float32
    else:
        assert gz is None
    assert_close(_arr(x.grad), np.array([8.0, -16.0], np.float32))


def test_materialized_zeros_keep_each_outputs_dtype_and_non_tensors_get_none(T):
    seen: list = []

    class Mixed(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            index = T.tensor([1, 0])
            ctx.mark_non_differentiable(index)
            return x * 2, index, 7

        @staticmethod
        def backward(ctx, g, g_index, g_seven):
            seen.append((g_index, g_seven))
            return g * 2

    x = T.tensor([1.0, 2.0], requires_grad=True)
    y, index, seven = Mixed.apply(x)
    assert seven == 7 and not isinstance(seven, T.Tensor)  # handed back as it is
    assert not index.requires_grad
    y.sum().backward()
    ((g_index, g_seven),) = seen
    assert g_index.dtype == T.int64 and _arr(g_index).tolist() == [0, 0]
    assert g_seven is None


def test_backward_reached_only_by_none_still_runs(T):
    calls: list = []

    class Identity(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            calls.append(_arr(g))
            return g

    class Blocks(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return None

    x = T.tensor([1.0, 2.0], requires_grad=True)
    Blocks.apply(Identity.apply(x)).sum().backward()
    assert len(calls) == 1
    assert_close(calls[0], np.zeros(2, np.float32))  # materialized, as PyTorch does
    assert_close(_arr(x.grad), np.zeros(2, np.float32))


def test_materialized_gradient_with_create_graph_gives_the_same_second_derivative(T):
    class SquareAndCube(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x, x * x * x

        @staticmethod
        def backward(ctx, g2, g3):
            (x,) = ctx.saved_tensors
            return g2 * 2 * x + g3 * 3 * x * x

    x = T.tensor([1.5, -0.5], dtype=T.float64, requires_grad=True)
    square, _ = SquareAndCube.apply(x)
    (g,) = T.autograd.grad(square.sum(), x, create_graph=True)
    (gg,) = T.autograd.grad(g.sum(), x)
    assert_close(_arr(g), np.array([3.0, -1.0]))
    assert_close(_arr(gg), np.array([2.0, 2.0]))


def test_needs_input_grad_is_known_inside_forward(T):
    seen: list = []

    class Scaled(T.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            seen.append(("forward", ctx.needs_input_grad))
            return a * b * scale

        @staticmethod
        def backward(ctx, g):
            seen.append(("backward", ctx.needs_input_grad))
            return g * 2, None, None

    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor([3.0, 4.0])
    Scaled.apply(a, b, 2.0).sum().backward()
    with T.no_grad():  # it follows requires_grad, whatever the grad mode
        Scaled.apply(a, b, 2.0)
    Scaled.apply(b, b, 2.0)
    assert seen == [
        ("forward", (True, False, False)),
        ("backward", (True, False, False)),
        ("forward", (True, False, False)),
        ("forward", (False, False, False)),
    ]


def _gradient_for(T, position: int, value):
    """A Function of (x, k) or (k, x) whose backward returns `value` for the non-tensor k."""

    class Gives(T.autograd.Function):
        @staticmethod
        def forward(ctx, first, second):
            return first * second

        @staticmethod
        def backward(ctx, g):
            return (g, value) if position == 1 else (value, g)

    return Gives


@pytest.mark.parametrize("position", [0, 1])
def test_gradient_for_a_non_tensor_input_raises(T, position):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    args = (x, 2.0) if position == 1 else (2.0, x)
    Gives = _gradient_for(T, position, T.ones(2))
    with pytest.raises(
        RuntimeError,
        match=f"GivesBackward returned a gradient different than None at position {position + 1}, "
        "but the corresponding forward input was not a Variable",
    ):
        Gives.apply(*args).sum().backward()


def test_gradient_for_a_tensor_that_needs_none_is_dropped(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    constant = T.tensor([3.0, 4.0])
    _gradient_for(T, 1, T.ones(2)).apply(x, constant).sum().backward()
    assert_close(_arr(x.grad), np.array([1.0, 1.0], np.float32))
    assert constant.grad is None


def test_next_functions_list_the_tensor_arguments_only(T):
    class Scale(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, y):
            ctx.k = k
            return x * k + y

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None, g

    x = T.ones(2, requires_grad=True)
    (leaf, _), constant = Scale.apply(x, 2.0, T.ones(2)).grad_fn.next_functions  # 2.0 is not listed
    assert leaf.variable is x and constant == (None, 0)


def test_number_of_gradients_must_match_the_inputs(T):
    class TooFew(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g

    class ExtraNones(TooFew):
        @staticmethod
        def backward(ctx, g):
            return g * 2, None, None

    class ExtraGradient(TooFew):
        @staticmethod
        def backward(ctx, g):
            return g, None, g

    x = T.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError, match=r"TooFewBackward returned an incorrect number of gradients \(expected 2, got 1\)"
    ):
        TooFew.apply(x, 2.0).sum().backward()
    ExtraNones.apply(x, 2.0).sum().backward()  # extra Nones are allowed
    assert_close(_arr(x.grad), np.array([2.0, 2.0], np.float32))
    with pytest.raises(RuntimeError, match=r"\(expected 2, got 3\)"):
        ExtraGradient.apply(x, 2.0).sum().backward()


def test_non_tensor_outputs_are_handed_back_unchanged(T):
    class WithArray(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, np.array([1, 2]), None

        @staticmethod
        def backward(ctx, g, g_array, g_none):
            assert g_array is None and g_none is None
            return g * 2

    x = T.tensor([1.0, 2.0], requires_grad=True)
    for outputs in (WithArray.apply(x), WithArray.apply(T.tensor([1.0]))):
        assert isinstance(outputs[0], T.Tensor) and isinstance(outputs[1], np.ndarray)
        assert outputs[2] is None
    WithArray.apply(x)[0].sum().backward()
    assert_close(_arr(x.grad), np.array([2.0, 2.0], np.float32))


@pytest.mark.parametrize("name", ["_shape", "_dtype", "_seq", "_edges"])
def test_forward_storing_under_a_name_of_the_node_raises(name: str) -> None:
    """ember's ctx is the node: a value a user's forward keeps under one of the node's own
    names would be overwritten before backward reads it, a silently wrong gradient."""

    class Scale(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            setattr(ctx, name, x.shape)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(RuntimeError, match=f"forward set ctx.{name}: ember's ctx is the graph node"):
        Scale.apply(ember.ones(2, requires_grad=True))


def _double_in_place(lib):
    class Double_(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(y)
            x.mul_(2).add_(y)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2, g

    return Double_


@requires_torch
def test_mark_dirty_returns_the_input_itself_with_this_node_as_its_history():
    import torch

    results = []
    for lib in (ember, torch):
        w = lib.ones(3, requires_grad=True)
        y = lib.full((3,), 0.5, requires_grad=True)
        x = w * 3
        out = _double_in_place(lib).apply(x, y)
        assert out is x
        (x * x).sum().backward()  # through x itself, whose history is now the node
        results.append((x, w.grad, y.grad))
    for e, t in zip(*results):
        assert_close(e, t)
    with ember.no_grad():
        z = ember.ones(2)
        assert _double_in_place(ember).apply(z, ember.zeros(2)) is z and z.tolist() == [2, 2]


def test_mark_dirty_refuses_a_leaf_that_requires_grad_and_a_view():
    Double_ = _double_in_place(ember)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        Double_.apply(ember.ones(2, requires_grad=True), ember.ones(2))
    base = ember.ones(2, 2, requires_grad=True) * 1
    with pytest.raises(NotImplementedError, match="mark_dirty on a view"):
        Double_.apply(base[0], ember.ones(2))
