"""Named cases for the shape, indexing and product ops of tests/op_table_shape.py: errors, in-place
forms, integer and bool inputs, keyword variants."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch


def _ints(T: Any) -> Any:
    return T.tensor([[1, -2, 3], [4, 5, -6], [7, 8, 9]])


# ---- values and dtypes against PyTorch -----------------------------------------------------------

CASES = {
    "trace(int64)": lambda T: _ints(T).trace(),
    "trace(int32)": lambda T: _ints(T).int().trace(),
    "diag(int64)": lambda T: T.diag(_ints(T), 1),
    "diag(bool vector)": lambda T: T.diag(T.tensor([True, False]), -1),
    "diagonal(3-d)": lambda T: T.arange(24).reshape(2, 3, 4).diagonal(1, 2, 0),
    "diag_embed(int)": lambda T: T.diag_embed(T.tensor([[1, 2], [3, 4]]), -1, 0, 2),
    "tile(*dims)": lambda T: T.tensor([1, 2]).tile(2, 2),
    "tile(fewer dims)": lambda T: _ints(T).tile((2,)),
    "masked_select(int)": lambda T: T.masked_select(_ints(T), _ints(T) > 0),
    "take(negative)": lambda T: T.take(_ints(T), T.tensor([[-1, 0], [4, -9]])),
    "take_along_dim(argsort)": lambda T: T.take_along_dim(_ints(T), _ints(T).argsort(1), dim=1),
    "take_along_dim(None)": lambda T: T.take_along_dim(_ints(T), T.tensor([[8, 0]])),
    "meshgrid(list, xy)": lambda T: T.meshgrid([T.arange(2), T.arange(3), T.arange(4)], indexing="xy"),
    "meshgrid(0-d)": lambda T: T.meshgrid(T.tensor(1), T.arange(3), indexing="ij"),
    "tensordot(int)": lambda T: T.tensordot(_ints(T), _ints(T), 1),
    "tensordot(ints as dims)": lambda T: T.tensordot(_ints(T), _ints(T), dims=([0], [1])),
    "addmm(int)": lambda T: T.addmm(_ints(T), _ints(T), _ints(T), beta=2, alpha=3),
    "addmm(nan, beta=0)": lambda T: T.addmm(T.full((2,), float("nan")), T.ones(2, 3), T.ones(3, 2), beta=0),
    "addmv(int)": lambda T: _ints(T)[0].addmv(_ints(T), _ints(T)[1]),
    "baddbmm(method)": lambda T: T.zeros(2, 1, 1).baddbmm(T.ones(2, 1, 3), T.ones(2, 3, 1), alpha=0.5),
    "cross(default dim)": lambda T: T.cross(T.arange(12.0).reshape(4, 3), T.ones(4, 3)),
    "cross(int)": lambda T: T.cross(_ints(T), _ints(T).flip(0), dim=0),
    "cross(broadcast)": lambda T: T.cross(T.arange(6.0).reshape(2, 3), T.tensor([[1.0, 0.0, 2.0]]), dim=1),
    "kron(int, float)": lambda T: T.kron(_ints(T)[:2], T.ones(2)),
    "kron(0-d)": lambda T: T.kron(T.tensor(2.0), T.ones(2, 2)),
    "index_add(int, alpha)": lambda T: _ints(T).index_add(0, T.tensor([0, 0]), _ints(T)[:2], alpha=2),
    "index_copy(dim 1)": lambda T: _ints(T).index_copy(1, T.tensor([2, 0]), _ints(T)[:, :2] * 10),
    "index_fill(bool)": lambda T: (_ints(T) > 0).index_fill(1, T.tensor([1]), True),
    "index_fill(0-d tensor value)": lambda T: T.ones(2, 3).index_fill(-1, T.tensor([0, 2]), T.tensor(5.0)),
    "rot90(k=-1, dims)": lambda T: T.rot90(T.arange(24).reshape(2, 3, 4), -1, [2, 0]),
    "rot90(k=0)": lambda T: T.rot90(_ints(T), 0),
    "diff(bool)": lambda T: T.diff(T.tensor([True, False, False, True])),
    "diff(int, n=2)": lambda T: _ints(T).diff(n=2, dim=0),
    "diff(n beyond size)": lambda T: T.arange(3.0).diff(n=5),
    "diff(prepend, append)": lambda T: T.diff(
        T.tensor([1.0, 4.0]), prepend=T.tensor([0.0]), append=T.tensor([9.0, 10.0])
    ),
    "tensor_split(sections)": lambda T: T.arange(7).tensor_split(3),
    "tensor_split(more sections than elements)": lambda T: T.arange(2).tensor_split(4),
    "tensor_split(indices)": lambda T: T.arange(7).tensor_split([1, -2, 9]),
    "tensor_split(tuple, dim)": lambda T: _ints(T).tensor_split((1,), dim=-1),
    "tensor_split(tensor sections)": lambda T: T.arange(6).tensor_split(T.tensor(4)),
    "hsplit(vector)": lambda T: T.hsplit(T.arange(6), 3),
    "hsplit(matrix indices)": lambda T: T.arange(12).reshape(2, 6).hsplit([1, 4]),
    "vsplit": lambda T: T.arange(12).reshape(4, 3).vsplit(2),
    "column_stack(mixed)": lambda T: T.column_stack([T.arange(2), T.ones(2, 2), T.tensor([7.0, 8.0])]),
    "dstack(mixed)": lambda T: T.dstack([T.ones(2, 3), T.zeros(2, 3, 2)]),
    "dstack(1-d)": lambda T: T.dstack((T.arange(3), T.arange(3))),
    "row_stack": lambda T: T.row_stack([T.arange(3), _ints(T)]),
    "broadcast_tensors(list)": lambda T: T.broadcast_tensors(T.ones(3, 1), T.arange(2)),
    "block_diag(mixed)": lambda T: T.block_diag(T.tensor(1), T.ones(2, 2), T.tensor([2.5, 3.5])),
    "block_diag()": lambda T: T.block_diag(),
    "cartesian_prod(ints)": lambda T: T.cartesian_prod(T.arange(2), T.arange(3), T.tensor([5])),
    "cartesian_prod(one)": lambda T: T.cartesian_prod(T.arange(3)),
    "tril_indices(offset)": lambda T: T.tril_indices(4, 3, -1),
    "triu_indices(dtype)": lambda T: T.triu_indices(3, 5, 2, dtype=T.int32),
    "triu_indices(empty)": lambda T: T.triu_indices(0, 3),
    "unfold(step)": lambda T: T.arange(10).reshape(2, 5).unfold(1, 2, 2),
    "unfold(0-d)": lambda T: T.tensor(3.0).unfold(0, 1, 1),
    "unfold(3-d dim 0)": lambda T: T.arange(24).reshape(4, 3, 2).unfold(0, 3, 1),
}


@requires_torch
@pytest.mark.filterwarnings("ignore:Using (torch.)?cross without specifying the dim")
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name: str) -> None:
    import torch

    make = CASES[name]
    e, t = make(ember), make(torch)
    e_out, t_out = (list(e), list(t)) if isinstance(t, (tuple, list)) else ([e], [t])
    assert len(e_out) == len(t_out)
    for a, b in zip(e_out, t_out):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], f"{name}: {a.dtype} != {b.dtype}"
        assert_close(a, b)


def test_broadcast_shapes() -> None:
    assert ember.broadcast_shapes((2, 1), (3,), 1, ()) == (2, 3)
    assert isinstance(ember.broadcast_shapes((1,)), ember.Size)
    with pytest.raises(RuntimeError, match=r"broadcast"):
        ember.broadcast_shapes((2, 3), (4,))


def test_tensordot_is_not_a_method() -> None:
    assert not hasattr(ember.ones(1), "tensordot")


# ---- errors: the same type as PyTorch's, a message naming the op ------------------------------------

ERRORS = {
    "diag(3-d)": (lambda T: T.diag(T.ones(2, 2, 2)), "diag"),
    "diag(0-d)": (lambda T: T.diag(T.tensor(1.0)), "diag"),
    "diagonal(same dims)": (lambda T: T.diagonal(T.ones(2, 2), 0, 1, -1), "diagonal"),
    "diagonal(1-d)": (lambda T: T.diagonal(T.ones(3)), "range"),
    "trace(vector)": (lambda T: T.trace(T.ones(3)), "trace"),
    "masked_select(int mask)": (lambda T: T.masked_select(T.ones(3), T.tensor([1, 0, 1])), "masked_select"),
    "masked_select(shapes)": (lambda T: T.masked_select(T.ones(3), T.tensor([True, False])), ""),
    "take(out of range)": (lambda T: T.take(T.ones(2, 3), T.tensor([6])), "out of range"),
    "take(float index)": (lambda T: T.take(T.ones(2, 3), T.tensor([1.0])), ""),
    "take_along_dim(ndim)": (lambda T: T.take_along_dim(T.ones(2, 3), T.tensor([0]), dim=1), "dimensions"),
    "meshgrid(2-d)": (lambda T: T.meshgrid(T.ones(2, 2), indexing="ij"), "meshgrid"),
    "meshgrid(dtypes)": (lambda T: T.meshgrid(T.ones(2), T.arange(2), indexing="ij"), "meshgrid"),
    "meshgrid(indexing)": (lambda T: T.meshgrid(T.ones(2), indexing="ji"), "indexing"),
    "tensordot(sizes)": (lambda T: T.tensordot(T.ones(2, 3), T.ones(2, 3), dims=1), "contracted"),
    "tensordot(lists)": (lambda T: T.tensordot(T.ones(2, 3), T.ones(3, 2), dims=([1], [0, 1])), ""),
    "addmm(dtypes)": (lambda T: T.addmm(T.ones(2, 2), T.ones(2, 3), T.ones(3, 2, dtype=T.float64)), "dtype"),
    "addmm(shapes)": (lambda T: T.addmm(T.ones(2, 2), T.ones(2, 3), T.ones(2, 2)), ""),
    "addmm(bias shape)": (lambda T: T.addmm(T.ones(3), T.ones(2, 3), T.ones(3, 2)), ""),
    "addmv(matrix)": (lambda T: T.addmv(T.ones(2), T.ones(2, 3), T.ones(3, 1)), ""),
    "baddbmm(batches)": (lambda T: T.baddbmm(T.ones(2, 1, 1), T.ones(2, 1, 3), T.ones(3, 3, 1)), ""),
    "cross(ndim)": (lambda T: T.cross(T.ones(2, 3), T.ones(3), dim=1), "cross"),
    "cross(size)": (lambda T: T.cross(T.ones(3, 2), T.ones(3, 2), dim=1), "cross"),
    "index_add(dtypes)": (
        lambda T: T.index_add(T.ones(2, 3), 0, T.tensor([0]), T.ones(1, 3, dtype=T.float64)),
        "index_add_",
    ),
    "index_add(source shape)": (
        lambda T: T.index_add(T.ones(2, 3), 0, T.tensor([0]), T.ones(2, 3)),
        "index_add_",
    ),
    "index_copy(float index)": (lambda T: T.index_copy(T.ones(2, 3), 1, T.tensor([0.0]), T.ones(2, 1)), ""),
    "index_fill(out of range)": (lambda T: T.index_fill(T.ones(2, 3), 1, T.tensor([3]), 0.0), ""),
    "index_select-style 2-d index": (
        lambda T: T.index_add(T.ones(2, 3), 0, T.tensor([[0]]), T.ones(1, 3)),
        "",
    ),
    "rot90(same dims)": (lambda T: T.rot90(T.ones(2, 2), 1, [0, 0]), "rotation dims"),
    "rot90(1-d)": (lambda T: T.rot90(T.ones(2)), "dims"),
    "rot90(three dims)": (lambda T: T.rot90(T.ones(2, 2, 2), 1, [0, 1, 2]), "rotation dims"),
    "diff(0-d)": (lambda T: T.diff(T.tensor(1.0)), "one-dimensional"),
    "diff(n < 0)": (lambda T: T.diff(T.ones(3), n=-1), "non-negative"),
    "tensor_split(0 sections)": (lambda T: T.tensor_split(T.ones(3), 0), "sections"),
    "tensor_split(0-d)": (lambda T: T.tensor_split(T.tensor(1.0), 1), ""),
    "hsplit(uneven)": (lambda T: T.hsplit(T.ones(2, 3), 2), "divisible"),
    "vsplit(1-d)": (lambda T: T.vsplit(T.ones(4), 2), "vsplit"),
    "block_diag(3-d)": (lambda T: T.block_diag(T.ones(1, 1, 1)), "block_diag"),
    "unfold(size)": (lambda T: T.ones(2, 3).unfold(1, 4, 1), "maximum size"),
    "unfold(step)": (lambda T: T.ones(2, 3).unfold(1, 2, 0), "step"),
    "unfold(dim)": (lambda T: T.ones(2, 3).unfold(2, 1, 1), ""),
}


@requires_torch
@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name: str) -> None:
    import torch

    make, words = ERRORS[name]
    with pytest.raises(Exception) as t_err:
        make(torch)
    with pytest.raises(t_err.type, match=words or None) as e_err:
        make(ember)
    assert str(e_err.value)


def test_cross_without_dim_warns_as_torch_does() -> None:
    with pytest.warns(UserWarning, match="dim"):
        out = ember.cross(ember.ones(2, 3), ember.ones(2, 3))
    assert out.shape == (2, 3)


def test_meshgrid_warns_only_without_indexing() -> None:
    with pytest.warns(UserWarning, match="indexing"):
        x, y = ember.meshgrid(ember.arange(2), ember.arange(3))
    assert x.shape == (2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.meshgrid(ember.arange(2), ember.arange(3), indexing="ij")
        ember.meshgrid(ember.arange(2), ember.arange(3), indexing="xy")


# ---- in-place forms --------------------------------------------------------------------------------

INPLACE = {
    "index_add_": lambda T, x, s: x.index_add_(0, T.tensor([2, 0, 2]), s, alpha=2),
    "index_copy_": lambda T, x, s: x.index_copy_(0, T.tensor([2, 0, 1]), s),
    "index_fill_": lambda T, x, s: x.index_fill_(1, T.tensor([1]), -1.0),
    "scatter_": lambda T, x, s: x.scatter_(0, T.tensor([[2, 0], [1, 2]]), s[:2]),
    "scatter_(value)": lambda T, x, s: x.scatter_(1, T.tensor([[1], [0]]), value=7.0),
    "scatter_add_": lambda T, x, s: x.scatter_add_(1, T.tensor([[1, 1], [0, 0]]), s[:2]),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_writes_into_the_tensor_and_bumps_version(name: str) -> None:
    x, s = ember.arange(6.0).reshape(3, 2), ember.full((3, 2), 10.0)
    before, data, version = x.detach().numpy().copy(), x._data, x._version_cell[0]
    out = INPLACE[name](ember, x, s)
    assert out is x and x._data is data
    assert x._version_cell[0] > version
    assert not np.array_equal(x.detach().numpy(), before)


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_on_leaf_that_requires_grad_raises(name: str) -> None:
    x = ember.zeros(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        INPLACE[name](ember, x, ember.ones(3, 2))
    with ember.no_grad():
        INPLACE[name](ember, x, ember.ones(3, 2))


@requires_torch
@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_gradients_match_torch(name: str) -> None:
    """In-place on a non-leaf: the gradients reach both the earlier tensor and the source."""
    import torch

    grads = []
    for T in (ember, torch):
        a = T.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
        s = T.tensor(np.linspace(-1, 1, 6).reshape(3, 2), requires_grad=True)
        x = a * 1
        INPLACE[name](T, x, s)
        (x * T.tensor(np.arange(1.0, 7.0).reshape(3, 2))).sum().backward()
        grads.append((a.grad, s.grad))
    for e, t in zip(grads[0], grads[1]):
        if t is None:
            assert e is None or np.allclose(e.numpy(), 0)
        else:
            assert_close(e, t)


def test_index_copy_gives_no_gradient_to_overwritten_elements() -> None:
    x = ember.ones(3, 2, requires_grad=True)
    src = ember.ones(1, 2, requires_grad=True)
    ember.index_copy(x, 0, ember.tensor([1]), src).sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    assert src.grad.tolist() == [[1.0, 1.0]]


def test_inplace_without_grad_makes_result_require_grad_from_source() -> None:
    x = ember.zeros(2, 2)
    src = ember.ones(1, 2, requires_grad=True)
    x.index_add_(0, ember.tensor([1]), src)
    assert x.requires_grad
    x.sum().backward()
    assert src.grad.tolist() == [[1.0, 1.0]]


def test_non_differentiable_results_do_not_require_grad() -> None:
    assert not ember.tril_indices(3, 3).requires_grad
    assert ember.tril_indices(3, 3).dtype == ember.int64
    x = ember.ones(3, requires_grad=True)
    assert not ember.diff(x > 0).requires_grad
    assert ember.take(x, ember.tensor([0])).requires_grad


def test_flatten_with_nothing_to_merge_returns_the_tensor_itself_as_torch() -> None:
    x = ember.ones(3, requires_grad=True)
    y = ember.ones(2, 3)
    assert x.flatten() is x and y.flatten(1, 1) is y and y.flatten(-1) is y
    assert y.flatten() is not y and ember.ones(()).flatten().shape == (1,)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda x: x.split(2), "SplitBackward0"),
        (lambda x: x.chunk(3, 1), "SplitBackward0"),
        (lambda x: x.split([1, 4]), "SplitWithSizesBackward0"),
        (lambda x: x.unbind(1), "UnbindBackward0"),
    ],
)
def test_pieces_are_one_node_with_an_output_each(make, name):
    """split, chunk and unbind record one node with an output per piece, as PyTorch; each
    piece is a view of the input, and the gradient of the pieces used (some unused) is
    written into one array."""
    x = ember.tensor(np.arange(15.0).reshape(5, 3), requires_grad=True)
    y = x * 1
    pieces = make(y)
    assert all(p.grad_fn is pieces[0].grad_fn and p.grad_fn.name() == name for p in pieces)
    assert [p._out_nr for p in pieces] == list(range(len(pieces)))
    assert all(p._base is y for p in pieces)
    (pieces[0].sum() * 2 + pieces[-1].sum() * 3).backward()
    expected = np.zeros((5, 3))
    views = make(ember.from_numpy(expected))  # views of expected: writing them fills it in
    views[0].numpy()[...] += 2
    views[-1].numpy()[...] += 3
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_pieces_second_derivative():
    x = ember.tensor([0.5, 1.0, 2.0, 3.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: (t.chunk(2)[1] ** 3).sum(), (x,))
    assert ember.autograd.gradgradcheck(lambda t: t.unbind()[2] ** 3, (x,))


def test_chunk_of_an_empty_dim_gives_chunks_empty_pieces(T: Any) -> None:
    # ember gave one piece; PyTorch splits a size-0 dim into `chunks` empty pieces
    x = T.zeros(2, 0, requires_grad=True)
    pieces = x.chunk(3, 1)
    assert [tuple(p.shape) for p in pieces] == [(2, 0)] * 3
    sum(p.sum() for p in pieces).backward()
    assert tuple(x.grad.shape) == (2, 0)
    assert len(T.zeros(0).chunk(2)) == 2


def test_chunk_takes_a_numpy_integer_and_refuses_a_float(T: Any) -> None:
    # ember raised "'numpy.int64' object is not iterable"; PyTorch takes any integer
    x = T.zeros(2, 4)
    assert [tuple(p.shape) for p in x.chunk(np.int64(2), 1)] == [(2, 2), (2, 2)]
    with pytest.raises(TypeError):
        x.chunk(2.0)


def test_movedim_with_sequences_of_dims(T: Any) -> None:
    # ember took one dim only ("too many values to unpack" for a tuple)
    x = T.arange(24.0, dtype=T.float64).reshape(2, 3, 4).requires_grad_()
    y = x.movedim((0, 1), (2, 0))
    assert tuple(y.shape) == (3, 4, 2) and y[2, 1, 1].item() == 21.0
    (y * T.arange(24.0, dtype=T.float64).reshape(3, 4, 2)).sum().backward()
    assert x.grad[1, 2, 1].item() == 19.0
    assert tuple(T.movedim(x, [-1, 0], [0, -1]).shape) == (4, 3, 2)
    with pytest.raises(RuntimeError, match="repeated dim in `source`"):
        x.movedim((0, 0), (1, 2))
    with pytest.raises(RuntimeError, match="should contain the same number of dims"):
        x.movedim((0, 1), (0,))
