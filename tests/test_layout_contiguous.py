"""Results laid out as PyTorch's: where PyTorch's result is contiguous, `.view(n, -1)` on it
is common code (`x.grad.view(n, -1).norm(dim=1)`, `F.unfold(x, k).view(...)`), so ember's
must be contiguous too, or the view raises 'view size is not compatible'.

A sweep of the op tables (tests/op_table*.py) and of nn.functional found these places; each
test runs in ember and in PyTorch (the `T` fixture), which must agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

_G = np.random.default_rng(0)
IMAGE = _G.standard_normal((2, 3, 6, 6)).astype(np.float32)
MATRIX = _G.standard_normal((4, 3)).astype(np.float32)

# the gradient of the input reaches the leaf in another layout in ember's backward
_LEAF_GRADS = {
    "conv2d": (IMAGE, lambda T, x: T.nn.functional.conv2d(x, T.ones(4, 3, 3, 3))),
    "conv_transpose2d": (IMAGE, lambda T, x: T.nn.functional.conv_transpose2d(x, T.ones(3, 2, 3, 3))),
    "interpolate[bilinear]": (
        IMAGE,
        lambda T, x: T.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
    ),
    "transpose": (MATRIX, lambda T, x: x.t() * 2),
    "permute": (IMAGE, lambda T, x: x.permute(3, 1, 0, 2).exp()),
    "einsum[ij->ji]": (MATRIX, lambda T, x: T.einsum("ij->ji", x)),
    "index_add[source]": (
        MATRIX,
        lambda T, x: T.zeros(5, 3).index_add(0, T.tensor([0, 2, 2, 4]), x),
    ),
}


def _weighted(T: Any, y: Any) -> Any:
    w = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)
    return (y * T.tensor(w)).sum()


@pytest.mark.parametrize("name", list(_LEAF_GRADS))
def test_leaf_gradient_is_contiguous(T, name: str) -> None:
    # PyTorch's AccumulateGrad gives a contiguous leaf a contiguous .grad whatever the layout
    # its backward computed; ember stored the backward's array as it came (a transpose)
    values, op = _LEAF_GRADS[name]
    x = T.tensor(values, requires_grad=True)
    _weighted(T, op(T, x)).backward()
    assert x.grad.is_contiguous()
    assert x.grad.view(x.shape[0], -1).shape == (x.shape[0], x[0].numel())


@pytest.mark.parametrize("name", ["conv2d", "transpose"])
def test_leaf_gradient_is_contiguous_under_create_graph(T, name: str) -> None:
    values, op = _LEAF_GRADS[name]
    x = T.tensor(values, requires_grad=True)
    _weighted(T, op(T, x)).backward(create_graph=True)
    assert x.grad.is_contiguous()
    x.grad.view(-1)


@pytest.mark.parametrize(
    "op",
    [
        lambda T, x: T.nn.functional.unfold(x, 2),
        lambda T, x: T.nn.functional.unfold(x[0], 3, padding=1, stride=2),
        lambda T, x: T.nn.functional.fold(T.nn.functional.unfold(x, 2), (6, 6), 2),
        lambda T, x: T.nn.functional.fold(x.reshape(2, 12, 9), (4, 4), 2),
        lambda T, x: T.nn.functional.fold(x[0].reshape(12, 9), (4, 4), 2),
    ],
    ids=["unfold", "unfold[unbatched]", "fold(unfold)", "fold", "fold[unbatched]"],
)
def test_unfold_and_fold_results_are_contiguous(T, op) -> None:
    # they returned a permuted view (unfold) and col2im's (N, C, ...) view of a (C, N, ...)
    # buffer (fold), which .view() refused
    x = T.tensor(IMAGE, requires_grad=True)
    y = op(T, x)
    assert y.is_contiguous()
    _weighted(T, y.view(-1)).backward()
    assert x.grad.is_contiguous()


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_output_is_laid_out_as_torch(T, batch_first: bool) -> None:
    # PyTorch computes in (L, N, E): its default (sequence-first) output is contiguous, and
    # a batch_first one a transpose of it. ember computes batch first and returned the
    # sequence-first output as a transpose, which .view() refused.
    T.manual_seed(0)
    mha = T.nn.MultiheadAttention(8, 2, batch_first=batch_first)
    x = T.tensor(_G.standard_normal((3, 2, 8)).astype(np.float32))
    out, _ = mha(x, x, x)
    if not batch_first:
        assert out.is_contiguous()
        out.view(-1)
    out_f, _ = T.nn.functional.multi_head_attention_forward(
        x, x, x, 8, 2, mha.in_proj_weight, mha.in_proj_bias, None, None, False, 0.0,
        mha.out_proj.weight, mha.out_proj.bias,
    )  # fmt: skip
    assert out_f.is_contiguous()
