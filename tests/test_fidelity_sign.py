"""The sign in the gradients of abs, the 1-norm and l1_loss is PyTorch's: 0 at NaN (NumPy's
sign gives NaN there), found by differential testing against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

nan = float("nan")
VALUES = [nan, 0.0, -0.0, -1.5, 2.0]

CASES = {
    "abs": lambda T, x: x.abs().sum(),
    "abs_": lambda T, x: (x * 1).abs_().sum(),
    "norm1": lambda T, x: x.norm(p=1),
    "dist1": lambda T, x: T.dist(x, T.zeros(5, dtype=T.float64), 1),
    "l1_loss": lambda T, x: T.nn.functional.l1_loss(x, T.ones(5, dtype=T.float64)),
    "l1_loss target": lambda T, x: T.nn.functional.l1_loss(T.ones(5, dtype=T.float64), x),
}


@requires_torch
@pytest.mark.parametrize("name", list(CASES))
def test_gradient_through_sign_is_zero_at_nan(name: str) -> None:
    import torch

    grads = []
    for T in (ember, torch):
        x = T.tensor(VALUES, dtype=T.float64, requires_grad=True)
        CASES[name](T, x).backward()
        grads.append(x.grad)
    assert_close(*grads)
    assert not np.isnan(grads[0].numpy()).any()


@requires_torch
def test_abs_of_a_0d_nan_and_its_second_derivative() -> None:
    import torch

    for T in (ember, torch):
        x = T.tensor(nan, requires_grad=True)
        (g,) = T.autograd.grad(x.abs(), x, create_graph=True)
        assert g.item() == 0.0
    e = ember.tensor(VALUES, dtype=ember.float64, requires_grad=True)
    t = torch.tensor(VALUES, dtype=torch.float64, requires_grad=True)
    (ge,) = ember.autograd.grad(e.abs().sum(), e, create_graph=True)
    (gt,) = torch.autograd.grad(t.abs().sum(), t, create_graph=True)
    assert_close(ge, gt)


@requires_torch
def test_sign_and_sgn_agree_with_torch_at_nan_and_signed_zero() -> None:
    import torch

    for fn in ("sign", "sgn"):
        e = getattr(ember.tensor(VALUES), fn)()
        t = getattr(torch.tensor(VALUES), fn)()
        assert_close(e, t)
        assert np.signbit(e.numpy()).tolist() == np.signbit(t.numpy()).tolist()
    assert ember.tensor([0, -3, 2]).sign().tolist() == torch.tensor([0, -3, 2]).sign().tolist()


def test_abs_gradcheck_away_from_zero() -> None:
    x = ember.tensor([-1.5, 0.7, 2.0, -0.3], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: t.abs(), (x,))
    assert ember.autograd.gradcheck(lambda t: t.norm(p=1), (x,))
