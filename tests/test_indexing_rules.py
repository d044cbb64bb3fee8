"""x[index] and x[index] = v follow PyTorch's rules, not NumPy's: integers (and 0-d integer
tensors) select first, so the dims of the tensor indexes stay where PyTorch puts them; a uint8
tensor is a mask; x[[]] is empty; a negative step is an error. Each case is compared with PyTorch:
values, gradient (repeated indices add up), and assignment."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

SHAPE = (2, 3, 4, 5)


def _t(T: Any, v: Any, dtype: Any = None) -> Any:
    return T.tensor(v, dtype=dtype)


# Each case builds the index in framework T.
CASES = {
    "int, slice, list": lambda T: (0, slice(None), [0, 1]),
    "0-d tensor, slice, list": lambda T: (_t(T, 1), slice(None), [0, 1]),
    "0-d int32 tensor, slice, list": lambda T: (_t(T, 1, T.int32), slice(None), [0, 1]),
    "list, int, list": lambda T: ([0, 1], 0, [0, 1]),
    "list, slice, int, list": lambda T: ([0, 1], slice(None), 0, [0, 1]),
    "slice, list, slice, int": lambda T: (slice(None), [0, 1], slice(None), 0),
    "slice, tensor, ..., tensor": lambda T: (slice(1, None), _t(T, [2, 0]), ..., _t(T, [3, 1])),
    "tensor, empty ..., tensor": lambda T: (0, slice(1, None), _t(T, [2, 0]), ..., _t(T, [3, 1])),
    "tensor, ..., tensor": lambda T: (_t(T, [0, 1]), ..., _t(T, [3, 1])),
    "tensor, None, tensor": lambda T: (_t(T, [0, 1]), None, _t(T, [0, 1])),
    "None, list, int, None, int": lambda T: (None, [-1], 0, None, 0),
    "int, ..., list": lambda T: (1, ..., [0, 1]),
    "int, slice, None, list": lambda T: (1, slice(None), None, [0, 2]),
    "int, slice, list of one": lambda T: (0, slice(None), [1]),
    "int, slice from 1, list": lambda T: (1, slice(1, None), [0, 3]),
    "True, slice, list": lambda T: (True, slice(None), [0, 1]),
    "list, True, list": lambda T: ([0, 1], True, [0, 1]),
    "int, True, list": lambda T: (0, True, [0, 1]),
    "0-d bool tensor, slice, list": lambda T: (_t(T, True), slice(None), [0, 1]),
    "2-d mask, int": lambda T: (_t(T, [[True, False, True], [False, True, True]]), 0),
    "int, mask, slice, list": lambda T: (0, _t(T, [True, False, True]), slice(None), [1, 2]),
    "int, mask, list": lambda T: (0, _t(T, [True, False, True]), [1, 2]),
    "2-d list, slice, int, list": lambda T: ([[0], [1]], slice(None), 0, [0, 1, 2]),
    "..., int, list": lambda T: (..., 0, [0, 1]),
    "list, ..., int": lambda T: ([0, 1], ..., 0),
    "int, list, ..., list": lambda T: (0, [0, 1], ..., [0, 1]),
    "repeats, int": lambda T: ([1, 1, 0, 1], slice(None), 2),
    "int, repeats, slice, repeats": lambda T: (1, [2, 2, 0], slice(None), [4, 4, 1]),
    "empty list": lambda T: [],
    "nested empty list": lambda T: [[]],
    "list in a list": lambda T: [[0, 1]],
    "two lists in a list": lambda T: [[0, 1], [1, 0]],
    "tensors in a list": lambda T: [_t(T, [0, 1]), _t(T, [1, 0])],
    "int and slice in a list": lambda T: [0, slice(None)],
    "0-d tensor in a list": lambda T: [_t(T, 1)],
    "uint8 mask": lambda T: _t(T, [1, 0], T.uint8),
    "0-d uint8": lambda T: _t(T, 1, T.uint8),
    "0-d tensor": lambda T: _t(T, 1),
    "numpy integer": lambda T: (np.int64(1), slice(None), [0, 1]),
    "True": lambda T: True,
    "False": lambda T: False,
    "list of bools": lambda T: [True, False],
}


def _run(T: Any, index: Any) -> tuple:
    """x[index] for a float64 x that requires grad, the gradient of a weighted sum of it, the
    values after x[index] = v (v constant, then v requiring grad) and v's gradient."""
    x = T.arange(float(np.prod(SHAPE)), dtype=T.float64).reshape(SHAPE).requires_grad_()
    out = x[index]
    w = T.arange(float(out.numel()), dtype=T.float64).reshape(out.shape) + 1
    (grad,) = T.autograd.grad((out * w).sum(), x)

    y = T.zeros(SHAPE, dtype=T.float64)
    y[index] = -w
    v = w.clone().requires_grad_()
    z = x * 1
    z[index] = v * 2
    gx, gv = T.autograd.grad((z * (x + 1)).sum(), (x, v), allow_unused=True, materialize_grads=True)
    return out, grad, y, z, gx, gv


@requires_torch
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's deprecation of uint8 masks and list-as-tuple
@pytest.mark.parametrize("name", CASES)
def test_index_matches_torch(name: str) -> None:
    import torch

    got, want = _run(ember, CASES[name](ember)), _run(torch, CASES[name](torch))
    for g, w in zip(got, want):
        assert_close(g, w)


def _random_index(rng: np.random.Generator, shape: tuple) -> list:
    """A random index for shape, as (kind, value) parts that _build turns into either framework's."""
    parts, dim, ellipsis = [], 0, False
    while dim < len(shape):
        n, c = shape[dim], rng.random()
        if c < 0.2:
            parts.append(("int", int(rng.integers(-n, n))))
        elif c < 0.28:
            parts.append(("0-d", int(rng.integers(-n, n))))
        elif c < 0.45:
            parts.append(("slice", slice(int(rng.integers(-n, n)), None, int(rng.integers(1, 3)))))
        elif c < 0.55:
            parts.append(("slice", slice(None)))
        elif c < 0.62:
            parts.append(("None", None))
            continue
        elif c < 0.8:
            k = int(rng.integers(1, 4))
            parts.append((str(rng.choice(["tensor", "list"])), rng.integers(-n, n, k).tolist()))
        elif c < 0.86:
            parts.append(("mask", (rng.random(n) < 0.5).tolist()))
        elif c < 0.9:
            parts.append(("bool", bool(rng.random() < 0.8)))
            continue
        elif not ellipsis:
            ellipsis = True
            parts.append(("...", ...))
            dim += int(rng.integers(0, len(shape) - dim + 1))
            continue
        else:
            parts.append(("slice", slice(None)))
        dim += 1
    return parts


def _build(T: Any, parts: list) -> tuple:
    made = {"tensor": lambda v: T.tensor(v), "0-d": lambda v: T.tensor(v), "mask": lambda v: T.tensor(v)}
    return tuple(made[kind](v) if kind in made else v for kind, v in parts)


@requires_torch
def test_random_indexes_match_torch() -> None:
    """800 seeded random indexes mixing every kind of item: same values, gradients and
    assignments as PyTorch, or the same kind of error."""
    import torch

    rng = np.random.default_rng(1)
    for _ in range(800):
        parts = _random_index(rng, SHAPE)
        try:
            want = _run(torch, _build(torch, parts))
        except (IndexError, RuntimeError):
            with pytest.raises((IndexError, RuntimeError)):
                _run(ember, _build(ember, parts))
            continue
        got = _run(ember, _build(ember, parts))
        try:
            for g, w in zip(got, want):
                assert_close(g, w)
        except AssertionError as e:
            raise AssertionError(f"index {parts}: {e}") from None


def test_int_then_list_keeps_the_list_dim_in_place() -> None:
    x = ember.arange(24).reshape(2, 3, 4)
    assert x[0, :, [0, 1]].tolist() == [[0, 1], [4, 5], [8, 9]]
    assert x[1:, ember.tensor([2, 0]), ..., ember.tensor([3, 1])].tolist() == [[23, 13]]


def test_setitem_int_then_list() -> None:
    y = ember.zeros(2, 3, 4)
    y[0, :, [0, 1]] = ember.ones(3, 2)
    assert y.sum().item() == 6 and y[0, :, :2].tolist() == [[1, 1]] * 3


def test_repeated_indices_accumulate_after_a_select() -> None:
    x = ember.zeros(2, 3, dtype=ember.float64, requires_grad=True)
    x[1, [0, 0, 2]].sum().backward()
    assert x.grad.tolist() == [[0, 0, 0], [2, 0, 1]]


def test_negative_step_is_an_error(T: Any) -> None:
    with pytest.raises(ValueError, match="step must be greater than zero"):
        T.arange(4.0)[::-1]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        T.zeros(2, 3)[:, 2:0:-1] = 1.0


def test_empty_list_selects_nothing(T: Any) -> None:
    x = T.ones(3, 2)
    assert tuple(x[[]].shape) == (0, 2) and x[[]].dtype == T.float32


def test_uint8_index_is_a_deprecated_mask(T: Any) -> None:
    x = T.arange(6).reshape(3, 2)
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        assert x[T.tensor([1, 0, 1], dtype=T.uint8)].tolist() == [[0, 1], [4, 5]]


def test_list_holding_lists_is_a_deprecated_tuple(T: Any) -> None:
    x = T.arange(6).reshape(3, 2)
    with pytest.warns(UserWarning, match="Using a non-tuple sequence for multidimensional indexing"):
        assert x[[[0, 2], [1, 0]]].tolist() == [1, 4]


def test_float_index_is_an_error(T: Any) -> None:
    with pytest.raises(IndexError, match="tensors used as indices must be long"):
        T.ones(3)[T.tensor([1.0])]
    with pytest.raises(IndexError, match="only integers, slices"):
        T.ones(3)[1.0]


def test_basic_index_is_a_view_with_torch_node_names() -> None:
    x = ember.zeros(3, 4, requires_grad=True) * 1
    assert x[1].grad_fn.name() == "SelectBackward0"
    assert x[ember.tensor(1)].grad_fn.name() == "SelectBackward0"
    assert x[1:].grad_fn.name() == "SliceBackward0"
    assert x[1, [0, 1]].grad_fn.name() == "IndexBackward0"
    y = ember.zeros(3, 4)
    y[1][2] = 5.0
    assert y[1, 2].item() == 5.0


@pytest.mark.parametrize(
    ("index", "value_shape"),
    [((0,), (1, 3)), ((slice(None),), (1, 1, 2, 3)), ((1, 2), (1,)), ((Ellipsis, None), (1, 2, 3, 1))],
)
def test_setitem_drops_the_values_leading_ones(T: Any, index: tuple, value_shape: tuple) -> None:
    # PyTorch takes a value with more leading size-1 dims than the indexed part; the value's
    # gradient must keep the value's shape (it had the part's, and the engine refused it)
    x = T.arange(6.0, dtype=T.float64).reshape(2, 3).requires_grad_()
    v = (
        T.arange(1.0, 1.0 + float(np.prod(value_shape)), dtype=T.float64)
        .reshape(value_shape)
        .requires_grad_()
    )
    y = x * 1
    y[index] = v * 2
    (y * T.arange(6.0, dtype=T.float64).reshape(2, 3)).sum().backward()
    assert tuple(v.grad.shape) == value_shape
    expected = T.arange(6.0, dtype=T.float64).reshape(2, 3)[index] * 2
    assert v.grad.reshape(-1).tolist() == expected.reshape(-1).tolist()
    assert x.grad[index].abs().sum().item() == 0
    z = T.zeros(2, 3)
    z[index] = T.ones(value_shape)
    assert z[index].sum().item() == float(np.prod(T.zeros(2, 3)[index].shape))


@pytest.mark.parametrize(
    "make",
    [
        lambda T, x: x[:, [0, 2]],
        lambda T, x: x[:, :, [0, 3]],
        lambda T, x: x[:, [0, 1], [0, 2]],
        lambda T, x: x[:, T.tensor([True, False, True])],
        lambda T, x: x.index_select(1, T.tensor([0, 2])),
        lambda T, x: x.repeat_interleave(2, dim=1),
        lambda T, x: x.transpose(0, 1).masked_fill(T.tensor(True), 0.0),
    ],
)
def test_an_advanced_index_copy_is_row_major_so_view_works(T: Any, make: Any) -> None:
    # NumPy puts the indexed dim outermost in memory (x[:, [0, 2]] had strides (4, 8, 1)), so
    # .view() of the result raised where PyTorch's row-major copy takes it
    x = T.arange(24.0, dtype=T.float64).reshape(2, 3, 4).requires_grad_()
    y = make(T, x)
    assert y.is_contiguous()
    flat = y.view(-1)
    (flat * T.arange(float(flat.numel()), dtype=T.float64)).sum().backward()
    assert flat.tolist() == y.reshape(-1).tolist()
    assert x.grad is not None
