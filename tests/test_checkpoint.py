"""ember.utils.checkpoint compared with torch.utils.checkpoint: both variants give the
gradients of the plain computation (inputs and parameters, float64), dropout draws the
same mask when the forward is recomputed, autograd.grad and second derivatives work with
use_reentrant=False, checkpoint_sequential, and torch's warnings and errors."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 3))


def _fw(name: str) -> Any:
    if name == "torch":
        import torch

        return torch
    return ember


def _net(M: Any, dropout: float = 0.0):
    rng = np.random.default_rng(1)
    net = M.nn.Sequential(
        M.nn.Linear(3, 4),
        M.nn.Tanh(),
        M.nn.Dropout(dropout),
        M.nn.Linear(4, 4),
        M.nn.Tanh(),
        M.nn.Linear(4, 2),
    ).double()
    with M.no_grad():
        for p in net.parameters():
            p.copy_(M.tensor(rng.normal(size=tuple(p.shape))))
    return net


def _grads(M: Any, net: Any, x: Any) -> list:
    return [x.grad] + [p.grad for p in net.parameters()]


@requires_torch
@pytest.mark.parametrize("use_reentrant", [True, False])
@pytest.mark.parametrize("sequential", [False, True])
def test_gradients_match_torch(use_reentrant: bool, sequential: bool) -> None:
    results = []
    for M in (ember, _fw("torch")):
        net = _net(M)
        x = M.tensor(X, requires_grad=True)
        if sequential:
            out = M.utils.checkpoint.checkpoint_sequential(net, 3, x, use_reentrant=use_reentrant)
        else:
            out = M.utils.checkpoint.checkpoint(net, x, use_reentrant=use_reentrant)
        (out.sin() * 3).sum().backward()
        results.append([out] + _grads(M, net, x))
    for a, b in zip(*results):
        assert_close(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_dropout_mask_is_the_same_when_recomputed(use_reentrant: bool) -> None:
    net = _net(ember, dropout=0.5)
    x = ember.tensor(X, requires_grad=True)
    state = ember.get_rng_state()
    out = ember.utils.checkpoint.checkpoint(net, x, use_reentrant=use_reentrant)
    out.pow(2).sum().backward()
    checkpointed = [out] + _grads(ember, net, x)
    after = ember.get_rng_state()
    net.zero_grad()
    x.grad = None
    ember.set_rng_state(state)
    plain = net(x)
    plain.pow(2).sum().backward()
    assert ember.equal(ember.get_rng_state(), after)  # the recomputation left the generator alone
    for a, b in zip(checkpointed, [plain] + _grads(ember, net, x)):
        assert_close(a, b.detach().numpy(), rtol=1e-12, atol=1e-14)


@requires_torch
def test_non_reentrant_autograd_grad_and_parameters_only() -> None:
    results = []
    for M in (ember, _fw("torch")):
        net = _net(M)
        x = M.tensor(X)  # no input requires grad: the parameters still get gradients
        out = M.utils.checkpoint.checkpoint(net, x, use_reentrant=False)
        assert out.requires_grad
        results.append(M.autograd.grad(out.pow(2).sum(), list(net.parameters())))
        assert all(p.grad is None for p in net.parameters())
    for a, b in zip(*results):
        assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_non_reentrant_second_derivatives() -> None:
    net = _net(ember)
    x = ember.tensor(X[:2], requires_grad=True)
    f = lambda x: ember.utils.checkpoint.checkpoint(net, x, use_reentrant=False)  # noqa: E731
    assert ember.autograd.gradcheck(f, (x,))
    assert ember.autograd.gradgradcheck(f, (x,))
    # the reentrant form refuses autograd.grad (gradcheck's), as PyTorch's does
    with pytest.raises(RuntimeError, match="use_reentrant=True, torch.utils.checkpoint is incompatible"):
        ember.autograd.gradcheck(
            lambda x: ember.utils.checkpoint.checkpoint(net, x, use_reentrant=True), (x,)
        )


def test_keyword_arguments_and_tuple_outputs() -> None:
    def f(a: Any, b: Any, *, scale: float = 1.0) -> tuple:
        return a * b * scale, (a + b).exp()

    a = ember.tensor(X, requires_grad=True)
    b = ember.tensor(X[::-1].copy(), requires_grad=True)
    u, v = ember.utils.checkpoint.checkpoint(f, a, b, scale=2.0, use_reentrant=False)
    (u.sum() + v.sum()).backward()
    ga, gb = a.grad, b.grad
    a.grad = b.grad = None
    u, v = f(a, b, scale=2.0)
    (u.sum() + v.sum()).backward()
    assert_close(ga, a.grad.numpy())
    assert_close(gb, b.grad.numpy())


@requires_torch
@pytest.mark.parametrize("framework", ["ember", "torch"])
def test_warnings_and_errors(framework: str) -> None:
    M = _fw(framework)
    cp = M.utils.checkpoint
    x = M.tensor(X, requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        out = cp.checkpoint(M.sin, x)
    assert out.grad_fn.name() == "CheckpointFunctionBackward"
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        cp.checkpoint_sequential([M.nn.Identity()], 1, x)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = cp.checkpoint(M.sin, M.tensor(X), use_reentrant=True)
    assert not out.requires_grad
    with pytest.raises(ValueError, match="Unexpected keyword arguments"):
        cp.checkpoint(lambda a, k=1: a, x, k=2, use_reentrant=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not cp.checkpoint(M.sin, M.tensor(X), use_reentrant=False).requires_grad


def test_reentrant_checkpoint_inside_a_non_reentrant_one():
    # a plain backward works (the outer node's grad() over its recomputed segment is part
    # of the plain pass, as in PyTorch); a pass given inputs is refused, also from inside a
    # node's backward
    w = ember.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    x = ember.tensor([[1.0, 2.0]], requires_grad=True)
    checkpoint = ember.utils.checkpoint.checkpoint

    def segment(t):
        return (t @ w).tanh()

    def inner(t):
        return checkpoint(segment, t, use_reentrant=True)

    checkpoint(inner, x, use_reentrant=False).sum().backward()
    expected_w, expected_x = w.grad.numpy().copy(), x.grad.numpy().copy()
    w.grad = x.grad = None
    segment(x).sum().backward()
    np.testing.assert_allclose(expected_w, w.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(expected_x, x.grad.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="use_reentrant=True"):
        ember.autograd.grad(checkpoint(inner, x, use_reentrant=False).sum(), x)

    class Outer(ember.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            with ember.enable_grad():
                inner(ember.ones(1, 2, requires_grad=True)).sum().backward()
            return g

    with pytest.raises(RuntimeError, match="use_reentrant=True"):
        ember.autograd.grad(Outer.apply(x).sum(), x)
