"""Indices with several `...`, which PyTorch accepts (each stands for the dimensions the other
items leave, counted from where it stands), compared with PyTorch: values, gradients, node
names, setitem and the indices it refuses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

E = Ellipsis
INDICES = {
    "[..., ...]": ((2, 3), lambda T: (E, E)),
    "[..., ..., ...]": ((2, 3), lambda T: (E, E, E)),
    "[..., 0, ...]": ((2, 3), lambda T: (E, 0, E)),
    "[0, ..., ...]": ((2, 3), lambda T: (0, E, E)),
    "[..., None, ...]": ((2, 3), lambda T: (E, None, E)),
    "[..., ..., 0, 0]": ((2, 3), lambda T: (E, E, 0, 0)),
    "[..., ..., :]": ((2, 3), lambda T: (E, E, slice(None))),
    "[0, ..., 1, ...]": ((2, 3, 4), lambda T: (0, E, 1, E)),
    "[..., 1:, ...]": ((2, 3, 4), lambda T: (E, slice(1, None), E)),
    "[..., [0, 1], ...]": ((2, 3, 4), lambda T: (E, [0, 1], E)),
    "[..., tensor([2, 0]), ...]": ((2, 3, 4), lambda T: (E, T.tensor([2, 0]), E)),
    "[..., mask, ...]": ((2, 3), lambda T: (E, T.tensor([[True, False, True], [False, True, True]]), E)),
}


def _grid(T: Any, shape: tuple, requires_grad: bool = False) -> Any:
    return T.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape), requires_grad=requires_grad)


@requires_torch
@pytest.mark.parametrize("name", list(INDICES))
def test_several_ellipses_index_as_torch(name: str) -> None:
    import torch

    shape, index = INDICES[name]
    results = []
    for T in (ember, torch):
        x = _grid(T, shape, requires_grad=True)
        out = x[index(T)]
        out.backward(T.ones_like(out) * 2)
        results.append((out, x.grad, out.grad_fn.name()))
    (e, e_grad, e_node), (t, t_grad, t_node) = results
    assert tuple(e.shape) == tuple(t.shape)
    assert_close(e, t)
    assert_close(e_grad, t_grad)
    if t_node in ("SelectBackward0", "SliceBackward0"):
        assert e_node == t_node


@requires_torch
@pytest.mark.parametrize("name", [n for n in INDICES if "None" not in n])
def test_setitem_with_several_ellipses_as_torch(name: str) -> None:
    import torch

    shape, index = INDICES[name]
    results = []
    for T in (ember, torch):
        x = _grid(T, shape)
        x[index(T)] = -1.0
        results.append(x)
    assert_close(*results)


@requires_torch
@pytest.mark.parametrize(
    "index",
    [(E, E, 0), (1, E, E, 2), (E, E, [0])],
    ids=["[..., ..., 0]", "[1, ..., ..., 2]", "[..., ..., [0]]"],
)
def test_an_item_after_a_second_ellipsis_that_is_not_empty_raises_index_error(index: tuple) -> None:
    import torch

    for T in (ember, torch):
        x = _grid(T, (2, 3, 4) if index[0] == 1 else (2, 3))
        with pytest.raises(IndexError):
            x[index]


def test_gradcheck_through_several_ellipses() -> None:
    x = _grid(ember, (2, 3, 4), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: t[0, ..., 1, ...] * t[..., [0, 2], ...].sum(), (x,))
