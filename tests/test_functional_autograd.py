"""ember.autograd.functional's vjp, jvp, jacobian, hessian, vhp and hvp compared with
torch.autograd.functional in float64: values, the nesting of the results (a Tensor or a
tuple, as the caller gave them), create_graph, strict mode's errors, and the checks on v."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

pytestmark = requires_torch

RNG = np.random.default_rng(0)
X = RNG.normal(size=3)
Y = RNG.normal(size=(2, 3))
W1, B1, W2 = RNG.normal(size=(4, 3)), RNG.normal(size=4), RNG.normal(size=(2, 4))


def _fw(name: str) -> Any:
    if name == "torch":
        import torch

        return torch
    return ember


def _tensor(M: Any, data: np.ndarray) -> Any:
    return M.tensor(data, dtype=M.float64)


# The functions differentiated, written once for both frameworks (M is ember or torch).
def poly(M: Any):
    return lambda x: (x**3 - 2 * x**2 + x).sum()


def poly_vec(M: Any):
    return lambda x: x**3 * 2 - x


def mlp(M: Any):
    w1, b1, w2 = _tensor(M, W1), _tensor(M, B1), _tensor(M, W2)
    return lambda x: M.tanh(M.tanh(x @ w1.T + b1) @ w2.T)


def two_in_two_out(M: Any):
    return lambda x, y: (x * y.sum(0), M.tanh(y) * x)


def loss_of_module(M: Any):
    lin = M.nn.Linear(3, 2).double()
    with M.no_grad():
        lin.weight.copy_(_tensor(M, W2[:, :3]))
        lin.bias.copy_(_tensor(M, B1[:2]))
    return lambda x: M.nn.functional.mse_loss(lin(x), M.ones(2, 2, dtype=M.float64))


def _compare(a: Any, b: Any) -> None:
    """Same nesting (Tensor / tuple), same values."""
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b), (type(a), type(b))
        for x, y in zip(a, b):
            _compare(x, y)
    else:
        assert not isinstance(a, tuple), "ember returned a tuple where torch returned a Tensor"
        assert_close(a, b, rtol=1e-9, atol=1e-10)


def _both(call: Any) -> None:
    """Run call(M) in ember and in torch and compare what they return."""
    _compare(call(ember), call(_fw("torch")))


def _v(M: Any, shape: tuple, seed: int = 1) -> Any:
    return _tensor(M, np.random.default_rng(seed).normal(size=shape))


@pytest.mark.parametrize("single", [True, False])
def test_vjp_values_and_structure(single: bool) -> None:
    def call(M: Any):
        F = M.autograd.functional
        x = _tensor(M, X)
        if single:
            return F.vjp(poly_vec(M), x, _v(M, (3,)))
        return F.vjp(mlp(M), (x,), (_v(M, (2,)),))

    _both(call)
    _both(lambda M: M.autograd.functional.vjp(poly(M), _tensor(M, X)))  # v left out: one element
    _both(lambda M: M.autograd.functional.vjp(loss_of_module(M), _tensor(M, Y)))


def test_vjp_two_inputs_two_outputs() -> None:
    _both(
        lambda M: M.autograd.functional.vjp(
            two_in_two_out(M), (_tensor(M, X), _tensor(M, Y)), (_v(M, (3,)), _v(M, (2, 3), 2))
        )
    )


@pytest.mark.parametrize("fn", [poly_vec, mlp, two_in_two_out])
def test_jvp_matches_torch(fn: Any) -> None:
    def call(M: Any):
        F = M.autograd.functional
        if fn is two_in_two_out:
            return F.jvp(fn(M), (_tensor(M, X), _tensor(M, Y)), (_v(M, (3,)), _v(M, (2, 3), 2)))
        return F.jvp(fn(M), _tensor(M, X), _v(M, (3,)))

    _both(call)


@pytest.mark.parametrize("fn", [poly, poly_vec, mlp, two_in_two_out, loss_of_module])
def test_jacobian_matches_torch(fn: Any) -> None:
    def call(M: Any, tuple_in: bool = False):
        F = M.autograd.functional
        if fn is two_in_two_out:
            return F.jacobian(fn(M), (_tensor(M, X), _tensor(M, Y)))
        x = _tensor(M, Y if fn is loss_of_module else X)
        return F.jacobian(fn(M), (x,) if tuple_in else x)

    _both(call)
    _both(lambda M: call(M, tuple_in=True))


def test_jacobian_nesting_for_tuple_outputs() -> None:
    _both(lambda M: M.autograd.functional.jacobian(lambda x: (x * 2, x.sum()), _tensor(M, X)))
    _both(lambda M: M.autograd.functional.jacobian(lambda x: (x * 2,), (_tensor(M, X),)))


def test_jacobian_vectorize_and_forward_mode_give_the_same_numbers() -> None:
    _both(lambda M: M.autograd.functional.jacobian(mlp(M), _tensor(M, X), vectorize=True))
    _both(
        lambda M: M.autograd.functional.jacobian(
            poly_vec(M), _tensor(M, X), vectorize=True, strategy="forward-mode"
        )
    )


@pytest.mark.parametrize("fn", [poly, mlp])
def test_hessian_matches_torch(fn: Any) -> None:
    def call(M: Any):
        f = fn(M)
        g = f if fn is poly else (lambda x: f(x).sum())
        return M.autograd.functional.hessian(g, _tensor(M, X))

    _both(call)
    _both(
        lambda M: M.autograd.functional.hessian(
            lambda x, y: (x * y.sum(0) ** 2).sum(), (_tensor(M, X), _tensor(M, Y))
        )
    )
    _both(lambda M: M.autograd.functional.hessian(lambda x: (x.tanh() * x).sum(), (_tensor(M, X),)))


@pytest.mark.parametrize("name", ["vhp", "hvp"])
def test_vhp_hvp_match_torch(name: str) -> None:
    def call(M: Any, tuple_in: bool):
        fn = getattr(M.autograd.functional, name)
        f = mlp(M)
        x, v = _tensor(M, X), _v(M, (3,))
        return fn(lambda x: f(x).sum(), (x,), (v,)) if tuple_in else fn(lambda x: f(x).sum(), x, v)

    _both(lambda M: call(M, False))
    _both(lambda M: call(M, True))
    _both(lambda M: getattr(M.autograd.functional, name)(lambda x: x.pow(4).sum(), _tensor(M, X[:1]), None))


def test_create_graph_results_are_differentiable() -> None:
    def call(M: Any):
        F = M.autograd.functional
        x = _tensor(M, X).requires_grad_()
        _, g = F.vjp(poly(M), x, create_graph=True)
        h = F.hessian(poly(M), x, create_graph=True)
        _, j = F.jvp(poly_vec(M), x, _v(M, (3,)), create_graph=True)
        assert g.requires_grad and h.requires_grad and j.requires_grad
        return M.autograd.grad((g.sum() + h.sum() + j.sum()), x)

    _both(call)


def test_results_are_detached_without_create_graph() -> None:
    x = ember.tensor(X, requires_grad=True)
    out, g = ember.autograd.functional.vjp(poly(ember), x)
    assert not out.requires_grad and not g.requires_grad
    assert x.grad is None  # the caller's .grad is never touched


@pytest.mark.parametrize("framework", ["ember", "torch"])
def test_independent_output_gives_zeros_or_strict_errors(framework: str) -> None:
    M = _fw(framework)
    F = M.autograd.functional
    x, c = _tensor(M, X), _tensor(M, Y)
    _, g = F.vjp(lambda x: c.sum() + x.sum() * 0, x)
    assert_close(g, np.zeros(3))
    assert_close(F.jacobian(lambda x: c, x), np.zeros((2, 3, 3)))
    cases = [
        (lambda: F.vjp(lambda x: c.sum(), x, strict=True), "does not require gradients"),
        (lambda: F.jacobian(lambda x: c, x, strict=True), "does not require gradients"),
        (lambda: F.hessian(lambda x: x.sum(), x, strict=True), "jacobian of the user-provided function"),
        (lambda: F.hvp(lambda x: x.sum(), x, x, strict=True), "jacobian of the user-provided function"),
        (lambda: F.vjp(lambda x: x * 2, x), "v can only be None"),
        (lambda: F.jvp(lambda x: x * 2, x, M.ones(2, dtype=M.float64)), "v has invalid size"),
        (lambda: F.hessian(lambda x: x, x), "should contain a single element"),
        (lambda: F.jacobian(lambda x: x, x, strict=True, vectorize=True), "not supported together"),
    ]
    for fn, fragment in cases:
        with pytest.raises(RuntimeError, match=fragment):
            fn()
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        F.vjp(lambda x: 3, x)
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        F.vjp(lambda x: x, [x])
    with pytest.raises(NotImplementedError, match="vectorize=True"):
        F.jacobian(lambda x: x, x, strategy="forward-mode")


def test_old_names_are_kept() -> None:
    F = ember.autograd.functional
    for name in ("grad", "backward", "gradcheck", "gradgradcheck", "detect_anomaly"):
        assert callable(getattr(F, name))
