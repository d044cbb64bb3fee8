"""grad_fn.next_functions of cat, stack, max(dim), gather, where and the losses list what
PyTorch lists: the tensor arguments, not the dim, index, condition or options (found by
differential testing)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import requires_torch

GRAPHS = {
    "cat([x, b])": lambda T, x: T.cat([x, T.ones(3, 2)]),
    "cat([b, x], 1)": lambda T, x: T.cat([T.ones(3, 2), x], 1),
    "stack([x, b])": lambda T, x: T.stack([x, T.ones(3, 2)]),
    "x.max(1)": lambda T, x: x.max(1).values,
    "x.min(1, keepdim=True)": lambda T, x: x.min(1, keepdim=True)[0],
    "gather": lambda T, x: x.gather(1, T.tensor([[0], [1], [0]])),
    "where(c, x, 0.)": lambda T, x: T.where(x > 0, x, 0.0),
    "where(c, x, b)": lambda T, x: T.where(x > 0, x, T.ones(3, 2)),
    "nll_loss": lambda T, x: T.nn.functional.nll_loss(x, T.tensor([0, 1, 0])),
    "nll_loss weighted": lambda T, x: T.nn.functional.nll_loss(x, T.tensor([0, 1, 0]), weight=T.ones(2)),
    "binary_cross_entropy": lambda T, x: T.nn.functional.binary_cross_entropy(x.sigmoid(), T.ones(3, 2) / 2),
    "bce_with_logits": lambda T, x: T.nn.functional.binary_cross_entropy_with_logits(
        x, T.ones(3, 2), weight=T.ones(2), pos_weight=T.ones(2)
    ),
    "bce target requires grad": lambda T, x: T.nn.functional.binary_cross_entropy_with_logits(
        T.ones(3, 2), x.sigmoid()
    ),
    "x - 1, 2 * x, 1 + x": lambda T, x: (x - 1) + 2 * x + (1 + x),
}


def _structure(node: Any) -> Any:
    """(name, [children]) down to the leaves, as a student prints next_functions."""
    if node is None:
        return None
    return node.name().split("::")[-1], [_structure(n) for n, _ in node.next_functions]


@requires_torch
@pytest.mark.parametrize("name", list(GRAPHS))
def test_next_functions_list_what_torch_lists(name: str) -> None:
    import torch

    graphs = []
    for T in (ember, torch):
        x = T.tensor([[0.5, -1.0], [2.0, 0.3], [-0.2, 0.1]], requires_grad=True)
        graphs.append(_structure(GRAPHS[name](T, x).grad_fn))
    assert graphs[0] == graphs[1]


def test_the_listed_edges_still_carry_the_gradients() -> None:
    x = ember.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([[1.0, 2.0]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda x, b: (
            ember.cat([x, b]).max(1).values * ember.stack([x[0], b[0]]).gather(1, ember.tensor([[1], [0]]))
        ),
        (x, b),
    )


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda T, x: 1 - x, "RsubBackward1"),
        (lambda T, x: 2.5 - x, "RsubBackward1"),
        (lambda T, x: 2**x, "PowBackward2"),
        (lambda T, x: T.tensor(2.0) ** x, "PowBackward1"),
        (lambda T, x: x - 1, "SubBackward0"),
    ],
)
def test_number_on_the_left_lists_what_pytorch_lists(make, name):
    torch = pytest.importorskip("torch", reason="compares with PyTorch")

    def run(T: Any) -> tuple[list, np.ndarray]:
        x = T.tensor([0.5, 2.0], requires_grad=True)
        y = make(T, x)
        assert y.grad_fn.name() == name
        entries = [(type(fn).__name__ if fn is not None else None, nr) for fn, nr in y.grad_fn.next_functions]
        y.sum().backward()
        return entries, x.grad.numpy()

    (mine, my_grad), (theirs, their_grad) = run(ember), run(torch)
    assert mine == theirs
    np.testing.assert_allclose(my_grad, their_grad, rtol=1e-6)
