"""Regressions found by differential fuzzing of higher-order gradients against PyTorch:
second and third derivatives (create_graph=True), checked against PyTorch and against
finite differences of the first derivative in float64."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

pytestmark = requires_torch


def _exp_function(lib):
    """A user Function that saves its output for backward, as the docs' Exp example does."""

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    return Exp


def test_user_function_saved_output_second_derivative():
    # The output a user Function saved came back from saved_tensors detached under
    # create_graph, so the second derivative lost the terms through it: half of PyTorch's
    # here, with no error.
    import torch

    x0 = np.array([0.3, -0.5, 1.1])
    results = []
    for lib in (torch, ember):
        x = lib.tensor(x0, requires_grad=True)
        y = _exp_function(lib).apply(x * 2)
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (k,) = lib.autograd.grad(h.sum(), x)
        results.append((g, h, k))
    for e, t in zip(results[1], results[0]):
        assert_close(e, t, rtol=1e-12, atol=0)

    def first(x):
        return ember.autograd.grad(_exp_function(ember).apply(x).sum(), x, create_graph=True)[0]

    assert ember.autograd.gradcheck(first, (ember.tensor(x0, requires_grad=True),))


def test_user_function_saved_output_attached_in_backward():
    # under create_graph, the saved output requires grad and its node is the Function's own
    seen = []

    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * x
            ctx.save_for_backward(x, y)
            return y, x.sign()

        @staticmethod
        def backward(ctx, gy, gs):
            x, y = ctx.saved_tensors
            seen.append((y.requires_grad, y.grad_fn))
            return 2 * gy * y / x

    x = ember.tensor([1.5, -2.0], dtype=ember.float64, requires_grad=True)
    y, _ = Square.apply(x)
    (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
    assert seen[-1] == (True, y.grad_fn)
    (h,) = ember.autograd.grad(g.sum(), x)
    assert_close(g, 2 * x.detach())
    assert_close(h, np.full(2, 2.0))
    y, _ = Square.apply(x)
    y.sum().backward()  # an ordinary backward: no graph, as before
    assert seen[-1] == (False, None)


def test_user_function_saved_non_differentiable_output_stays_constant():
    class SortValues(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            v, i = x.sort()
            ctx.mark_non_differentiable(i)
            ctx.save_for_backward(i)
            return v, i

        @staticmethod
        def backward(ctx, gv, gi):
            (i,) = ctx.saved_tensors
            assert not i.requires_grad
            return ember.zeros_like(gv).scatter(0, i, gv)

    x = ember.tensor([0.5, -1.0, 2.0], dtype=ember.float64, requires_grad=True)
    v, _ = SortValues.apply(x)
    (g,) = ember.autograd.grad((v**3).sum(), x, create_graph=True)
    (h,) = ember.autograd.grad(g.sum(), x)
    assert_close(g, 3 * x.detach() ** 2)
    assert_close(h, 6 * x.detach())


def _square_once(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            assert not lib.is_grad_enabled()  # the backward itself is never recorded
            return 2 * x * grad

    return Square


def test_once_differentiable_first_derivative_and_double_backward_error():
    # ember.autograd.function.once_differentiable was missing (AttributeError)
    import torch

    x0 = np.array([1.0, -2.0, 0.5])
    for lib in (torch, ember):
        square = _square_once(lib)
        x = lib.tensor(x0, requires_grad=True)
        square.apply(x).sum().backward()
        assert_close(x.grad, 2 * x0)
        # the gradient arriving does not require grad: a plain result, as in PyTorch
        (g,) = lib.autograd.grad(square.apply(x).sum(), x, create_graph=True)
        assert not g.requires_grad
        # it does: the result requires grad, and a second backward through it raises
        x.grad = None
        (square.apply(x) ** 2).sum().backward(create_graph=True)
        assert_close(x.grad, 4 * x0**3)
        assert x.grad.requires_grad
        with pytest.raises(RuntimeError, match="differentiate twice a function that was marked with @once"):
            x.grad.sum().backward()


def test_once_differentiable_several_outputs_and_none():
    class MulAdd(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k):
            ctx.save_for_backward(x, y)
            return x * y + k

        @staticmethod
        @ember.autograd.function.once_differentiable
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y, grad * x, None

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ember.tensor([3.0, -1.0], requires_grad=True)
    gx, gy = ember.autograd.grad((MulAdd.apply(x, y, 2.0) ** 2).sum(), (x, y), create_graph=True)
    assert_close(gx, 2 * (np.array([3.0, -2.0]) + 2) * np.array([3.0, -1.0]))
    assert gx.requires_grad and gy.requires_grad
    # the error node hangs on fresh leaves, as PyTorch's: backward reaches it and raises,
    # while grad with respect to x and y runs only what leads to them, which it does not
    with pytest.raises(RuntimeError, match="once_differentiable"):
        (gx.sum() + gy.sum()).backward()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        ember.autograd.grad(gx.sum() + gy.sum(), (x, y))


def test_grad_is_grads_batched_matches_torch():
    # autograd.grad(..., is_grads_batched=True) raised TypeError: the rows of a Jacobian,
    # and their derivatives under create_graph, in one call
    import torch

    x0, w0 = np.array([0.3, -1.2, 0.8]), np.array([[0.5, -0.1, 0.9], [1.5, 0.2, -0.7]])
    results = []
    for lib in (torch, ember):
        x = lib.tensor(x0, requires_grad=True)
        w = lib.tensor(w0, requires_grad=True)
        unused = lib.tensor(1.0, requires_grad=True)
        y = (w @ x).tanh() * x.sum()
        jx, jw, ju = lib.autograd.grad(
            y,
            (x, w, unused),
            grad_outputs=lib.eye(2, dtype=lib.float64),
            create_graph=True,
            allow_unused=True,
            is_grads_batched=True,
        )
        assert ju is None and jx.shape == (2, 3) and jw.shape == (2, 2, 3)
        second = lib.autograd.grad((jx**2).sum() + jw.sum(), (x, w))
        results.append((jx, jw, *second))
    for e, t in zip(results[1], results[0]):
        assert_close(e, t, rtol=1e-12, atol=1e-14)


def test_grad_is_grads_batched_errors_and_frees_the_graph():
    import torch

    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="we interpret the first dimension of each grad_output"):
            lib.autograd.grad(x.sin(), x, lib.ones(2), is_grads_batched=True)
        y = x.exp()
        (j,) = lib.autograd.grad(y, x, lib.eye(2), is_grads_batched=True)
        assert_close(j, np.diag(np.exp([1.0, 2.0])))
        with pytest.raises(RuntimeError, match="second time"):
            lib.autograd.grad(y, x, lib.ones(2))


def test_grad_materialize_grads_rules():
    # materialize_grads=True with allow_unused=False raised nothing (torch: ValueError), and
    # its zeros did not require grad under create_graph
    import torch

    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        z = lib.tensor([3.0], requires_grad=True)
        with pytest.raises(ValueError, match="allow_unused to be True or not passed"):
            lib.autograd.grad((x * x).sum(), (x, z), allow_unused=False, materialize_grads=True)
        gx, gz = lib.autograd.grad((x * x).sum(), (x, z), materialize_grads=True, create_graph=True)
        assert gz.requires_grad and gx.requires_grad
        assert_close(gz, np.zeros(1))
        gx, gz = lib.autograd.grad((x * x).sum(), (x, z), materialize_grads=True)
        assert not gz.requires_grad
        with pytest.raises(RuntimeError, match="Tensor at index 1 appears to not have been used"):
            lib.autograd.grad((x * x).sum(), (x, z))


def test_grad_dict_inputs():
    import torch

    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor(3.0, requires_grad=True)
        g = lib.autograd.grad((x * w).sum(), {"x": x, "w": w})
        assert list(g) == ["x", "w"]
        assert_close(g["x"], np.array([3.0, 3.0]))
        assert_close(g["w"], np.array(3.0))


def test_gradgradcheck_takes_torch_arguments():
    # gradgradcheck(func, inputs, grad_outputs) and gradcheck's torch keywords raised TypeError
    import torch

    for lib in (torch, ember):
        x = lib.tensor([0.5, 2.0], dtype=lib.float64, requires_grad=True)
        go = lib.tensor([1.0, -3.0], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradgradcheck(lambda a: a.sin() * a, (x,), (go,))
        assert lib.autograd.gradgradcheck(lambda a: a.exp(), x, grad_outputs=go, atol=1e-5, rtol=1e-3)
        assert lib.autograd.gradcheck(lambda a: a.tanh(), (x,), nondet_tol=0.0, fast_mode=True)
        assert lib.autograd.gradcheck(
            lambda a: a.tanh(), (x,), check_undefined_grad=False, check_batched_grad=False
        )


def test_gradgradcheck_checks_the_derivative_in_the_incoming_gradient():
    # a backward whose value is right but which treats the incoming gradient as a constant:
    # its second derivative misses the term through grad_outputs
    class Scale(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, grad):
            return grad.detach() * 3

    x = ember.tensor([0.5, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(Scale.apply, (x,))
    assert not ember.autograd.gradgradcheck(Scale.apply, (x,), raise_exception=False)
    assert ember.autograd.gradgradcheck(lambda a: a * 3, (x,))


def test_gradcheck_fails_a_detached_result_that_depends_on_the_input():
    # gradcheck skipped outputs that do not require grad, so a function whose result was
    # detached passed; PyTorch requires its numerical gradient to be zero then
    import torch

    for lib in (torch, ember):
        x = lib.tensor([0.5, 2.0], dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="Numerical gradient for function expected to be zero"):
            lib.autograd.gradcheck(lambda a: a.detach() * 2, (x,))
        assert lib.autograd.gradcheck(lambda a: (a.detach() > 5).double(), (x,))


def _sin_scaled(lib):
    """PyTorch 2's style of Function: forward without ctx, then setup_context."""

    class SinScaled(lib.autograd.Function):
        @staticmethod
        def forward(x, k, shift=0.0):
            return x.sin() * k + shift

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k, shift = inputs
            ctx.save_for_backward(x, output)
            ctx.k = k

        @staticmethod
        def backward(ctx, grad):
            x, out = ctx.saved_tensors
            return grad * x.cos() * ctx.k + 0 * out, None, None

    return SinScaled


def test_function_with_setup_context_matches_torch():
    # a Function with setup_context (forward without ctx) failed: forward got ctx too
    import torch

    x0 = np.array([0.3, -1.1, 2.0])
    results = []
    for lib in (torch, ember):
        fn = _sin_scaled(lib)
        x = lib.tensor(x0, requires_grad=True)
        y = fn.apply(x, 2.0, shift=1.0)
        (g,) = lib.autograd.grad((y**2).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        results.append((y, g, h, fn.apply(x, 3.0)))  # setup_context gets the default shift too
    for e, t in zip(results[1], results[0]):
        assert_close(e, t, rtol=1e-12, atol=1e-14)


def test_func_jvp_matches_torch():
    # ember.func.jvp was missing (AttributeError)
    import torch

    x0, v0 = np.array([0.3, -1.1, 2.0]), np.array([1.0, 0.5, -2.0])
    results = []
    for lib in (torch, ember):

        def f(x, lib=lib):
            return (x**3).sum() * x.sin().prod()

        x, v = lib.tensor(x0), lib.tensor(v0)
        out, jv = lib.func.jvp(lambda a: (a.sin() * a.sum(), {"k": a * 2}), (x,), (v,))
        _, hv = lib.func.jvp(lib.func.grad(f), (x,), (v,))  # Hessian-vector product
        outer = lib.tensor(x0, requires_grad=True)
        (g,) = lib.autograd.grad(lib.func.jvp(lambda a: a.exp() * a, (outer,), (v,))[1].sum(), outer)
        results.append((out[0], out[1]["k"], jv[0], jv[1]["k"], hv, g))
        with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
            lib.func.jvp(f, x, v)
    for e, t in zip(results[1], results[0]):
        assert_close(e, t, rtol=1e-12, atol=1e-14)


def test_std_second_derivative_at_a_constant_slice_is_zero_not_nan():
    # where the std is 0 its gradient is 0 (PyTorch's choice), but the second derivative
    # came out NaN there: the masked elements still divided by the zero std (inf * 0)
    import torch

    x0 = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    v0 = np.array([0.7, -1.3])
    results = []
    for lib in (torch, ember):
        x = lib.tensor(x0, requires_grad=True)
        (g,) = lib.autograd.grad((x.std(1) * lib.tensor(v0)).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(x0[::-1].copy())).sum(), x)
        results.append((g, h))
    for e, t in zip(results[1], results[0]):
        assert_close(e, t, rtol=1e-12, atol=1e-15)
    x = ember.tensor(x0, requires_grad=True)
    (g,) = ember.autograd.grad((x.std(1, keepdim=True) * x).sum(), x, create_graph=True)
    (h,) = ember.autograd.grad(g.sum(), x)
    assert np.isfinite(h.numpy()).all()
    assert_close(h[0], np.zeros(3))
    y = ember.tensor(x0[1:] * 1.5, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a: a.std(1) * a.std(1, unbiased=False), (y,))


def _third_derivative_error(fn, x0, seed=0):
    """max |analytic - numerical| of the third derivative of fn, contracted with random
    vectors, the numerical one from central differences of ember's second derivative."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(fn(ember.tensor(x0)).shape)
    u, w = rng.standard_normal(x0.shape), rng.standard_normal(x0.shape)

    def second(a, create_graph):
        x = ember.tensor(a, requires_grad=True)
        (g,) = ember.autograd.grad((fn(x) * ember.tensor(v)).sum(), x, create_graph=True)
        (h,) = ember.autograd.grad((g * ember.tensor(u)).sum(), x, create_graph=create_graph)
        return x, h

    x, h = second(x0, True)
    (analytic,) = ember.autograd.grad((h * ember.tensor(w)).sum(), x)
    numeric = np.zeros_like(x0)
    eps = 1e-5
    for k in np.ndindex(x0.shape):
        plus, minus = x0.copy(), x0.copy()
        plus[k] += eps
        minus[k] -= eps
        diff = second(plus, False)[1].numpy() - second(minus, False)[1].numpy()
        numeric[k] = (diff * w).sum() / (2 * eps)
    return np.abs(analytic.numpy() - numeric).max()


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: ember.nn.functional.layer_norm(x, (4,)),
        lambda x: ember.nn.functional.batch_norm(x, None, None, training=True),
        lambda x: ember.nn.functional.instance_norm(x.reshape(2, 2, 3)),
    ],
    ids=["layer_norm", "batch_norm", "instance_norm"],
)
def test_norm_third_derivatives_match_finite_differences(fn):
    # PyTorch 2.13's third derivatives of these are wrong (docs/differences.md); ember's hold
    x0 = np.random.default_rng(1).uniform(-2, 2, (3, 4))
    assert _third_derivative_error(fn, x0) < 1e-6


def test_conv_transpose_with_output_padding_has_a_second_derivative():
    # PyTorch 2.13 raises in this double backward; ember's is checked by finite differences
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.uniform(-1, 1, (1, 2, 3, 3)), requires_grad=True)
    w = ember.tensor(rng.uniform(-1, 1, (2, 2, 2, 3)), requires_grad=True)

    def f(x, w):
        return ember.nn.functional.conv_transpose2d(
            x, w, stride=2, padding=(1, 0), output_padding=(0, 1)
        ).tanh()

    assert ember.autograd.gradgradcheck(f, (x, w))


def test_vmap_out_dims_out_of_range_raises_index_error():
    import torch

    for lib in (torch, ember):
        x = lib.ones(4, 3, 2)
        for out_dim in (3, -4):
            with pytest.raises(IndexError):
                lib.func.vmap(lambda a: a, out_dims=out_dim)(x)
