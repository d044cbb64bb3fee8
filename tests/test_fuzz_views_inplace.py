"""Regressions found by a differential fuzzer of random short programs mixing views,
in-place ops and autograd (run in ember and in PyTorch, comparing every intermediate
value, error, grad_fn name and gradient). Each test is the smallest program of one
discrepancy; it runs in both frameworks where PyTorch is installed, and otherwise checks
the values PyTorch gives, written out."""

from __future__ import annotations

import numpy as np
import pytest

import ember


def _frameworks() -> list:
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        return [ember]
    return [ember, torch]


def _arr(t) -> np.ndarray | None:
    return None if t is None else np.array(t.detach().numpy())


def _same(programs: list, expected: list) -> None:
    """Every framework's results equal the expected ones (PyTorch's, written out)."""
    for results in programs:
        assert len(results) == len(expected)
        for got, want in zip(results, expected):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ---- a 0-d gradient summed from two paths ---------------------------------------------------


def _zero_dim_grads(T):
    a = T.tensor(2.0, dtype=T.float64, requires_grad=True)
    (a * 3).backward()
    (a * 3).backward()  # accumulated into a.grad: NumPy made a read-only scalar of the sum
    a.grad.zero_()
    first = _arr(a.grad)
    b = a * 1
    b.retain_grad()
    T.where(b > 0, b, b).backward()  # two gradients meet at b's node: summed in the engine
    b.grad.mul_(4)
    return [first, _arr(a.grad), _arr(b.grad)]


def test_zero_dim_gradient_summed_twice_stays_a_writable_tensor():
    # was: a 0-d .grad accumulated twice held a NumPy scalar, so zero_() (and
    # zero_grad(set_to_none=False)) raised; a 0-d retained gradient summed from two paths
    # crashed backward with AttributeError
    _same([_zero_dim_grads(T) for T in _frameworks()], [0.0, 1.0, 4.0])


def test_zero_dim_leaf_gradient_survives_zero_grad_without_set_to_none():
    p = ember.nn.Parameter(ember.tensor(1.5, dtype=ember.float64))
    opt = ember.optim.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad(set_to_none=False)
        (p * p).backward()
        (p * 2).backward()
        opt.step()
    assert isinstance(p.grad._data, np.ndarray) and p.grad._data.flags.writeable


# ---- the old base's gradient where a view was overwritten ------------------------------------


def _nan_in_overwritten_region(T):
    x = T.tensor([-2.0, 0.5, 3.0], dtype=T.float64, requires_grad=True)
    y = x * 1
    y[1:].mul_(2)
    y[0].fill_(-1.0)  # y's node: CopySlices; sqrt's gradient at y[0] is NaN
    y.sqrt().sum().backward()
    return [_arr(x.grad)]


def test_overwritten_region_gets_zero_gradient_even_where_it_is_nan():
    # was NaN: CopySlices multiplied the gradient by a 0/1 mask (NaN * 0 = NaN) where the
    # old base's elements were overwritten; they get exactly 0, as in PyTorch
    _same([_nan_in_overwritten_region(T) for T in _frameworks()], [[0.0, 1.0, 6**-0.5]])


def _nan_in_overwritten_complex_region(T):
    a = T.tensor([1 + 1j, 2.0, 3.0], dtype=T.complex128, requires_grad=True)
    x = a * 1
    x[1] = 0.0  # CopySlices of a complex base; sqrt's gradient at 0 is NaN
    x.sqrt().sum().abs().backward()
    return [_arr(a.grad)]


def test_overwritten_region_of_a_complex_base_gets_zero_gradient():
    # was NaN at a[1]: the complex CopySlices backward still multiplied by the 0/1 mask
    want = [[0.35797956652125695 + 0.22051604306691575j, 0.0, 0.2850153562567615 + 0.0458211744847804j]]
    _same([_nan_in_overwritten_complex_region(T) for T in _frameworks()], want)


# ---- x[basic index] = value writes the region as a view, as in PyTorch ----------------------


def _set_rows_of_expanded(T):
    base = T.tensor([[1.0], [2.0], [3.0]], dtype=T.float64)
    x = base.expand(2, 3, 1)
    x[1:2] += T.full((1, 3, 1), 7.0, dtype=T.float64)  # the written row has distinct elements
    x[1:2] = T.full((1, 3, 1), 5.0, dtype=T.float64)
    return [_arr(base)]


def test_setitem_of_a_row_of_an_expanded_tensor_writes_that_row():
    # was refused: ember checked the whole expand()ed tensor for repeated elements, PyTorch
    # only the region written
    _same([_set_rows_of_expanded(T) for T in _frameworks()], [[[5.0], [5.0], [5.0]]])


def _set_rows_of_expanded_recorded(T):
    a = T.tensor([[1.0], [-2.0], [3.0]], dtype=T.float64, requires_grad=True)
    w = T.tensor([0.5, -1.0, 2.0], dtype=T.float64, requires_grad=True)
    y = a * 1
    x = y.expand(2, 3, 1)
    x[0] = 5.0
    x[1:2] += w.view(1, 3, 1)
    x[0, 1] = w[0] * 3
    (x * T.tensor([[[1.0], [2.0], [3.0]], [[4.0], [5.0], [6.0]]], dtype=T.float64)).sum().backward()
    return [_arr(y), _arr(a.grad), _arr(w.grad)]


def test_setitem_through_an_expanded_tensor_with_autograd():
    # was refused with autograd recording (x[0] = 5.0, x[1:2] += w): the check looked at
    # the whole expand()ed tensor; now the row is a recorded view written in place
    _same(
        [_set_rows_of_expanded_recorded(T) for T in _frameworks()],
        [[[5.5], [1.5], [7.0]], [[0.0], [0.0], [0.0]], [26.0, 0.0, 9.0]],
    )


def _setitem_nodes(T):
    a = T.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=T.float64, requires_grad=True)
    y = a * 2
    y[0] = 7.0
    row = y.grad_fn.name() if T is ember else type(y.grad_fn).__name__
    v0 = y._version
    y[:, 1] = a[:, 0]
    v1 = y._version
    (y * y).sum().backward()
    return row, [np.array([v0, v1]), _arr(y), _arr(a.grad)]


def test_setitem_with_integers_and_slices_is_a_copy_into_a_view():
    # PyTorch records x[0] = v as a copy into the view x[0] (the base's node is CopySlices,
    # one version step); ember recorded a node of its own (SetItemBackward0)
    runs = [_setitem_nodes(T) for T in _frameworks()]
    assert all(name == "CopySlices" for name, _ in runs)
    _same([r for _, r in runs], [[1, 2], [[7.0, 1.0], [6.0, 3.0]], [[2.0, 0.0], [30.0, 0.0]]])


def test_setitem_of_a_single_element_writes_the_tensor():
    # x[0, 0] = v with only integers: NumPy's x[0, 0] is a copied scalar, not a view
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    x[0, 0] = 9.0
    x[1, -1] = ember.tensor(8.0)
    np.testing.assert_array_equal(x.numpy(), [[9.0, 2.0], [3.0, 8.0]])
    assert x._version_cell[0] == 2


def test_setitem_shape_mismatch_names_both_shapes():
    x = ember.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"setitem: a value of shape \[5\] .* indexed shape \[4\]"):
        x[0] = ember.ones(5)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        ember.zeros(3, requires_grad=True)[0] = 1.0


def test_setitem_with_a_mask_or_index_tensor_is_index_put(T):
    a = T.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = a * 1
    y[y < 0] = 0.0
    z = a * 1
    z[T.tensor([0, 2])] = T.tensor([5.0, 6.0])
    names = [t.grad_fn.name() if T is ember else type(t.grad_fn).__name__ for t in (y, z)]
    assert names == ["IndexPutBackward0", "IndexPutBackward0"]


def test_t_records_pytorchs_node(T):
    names = []
    for shape in [(2, 3), (3,), ()]:
        y = T.ones(shape, requires_grad=True).t()
        names.append(y.grad_fn.name() if T is ember else type(y.grad_fn).__name__)
        y.sum().backward()
    y = T.ones(3, requires_grad=True).transpose(0, -1)
    names.append(y.grad_fn.name() if T is ember else type(y.grad_fn).__name__)
    assert names == ["TBackward0"] * 3 + ["TransposeBackward0"]


@pytest.mark.parametrize("T", _frameworks())
def test_transpose_saves_the_dims_named_and_t_none(T):
    # were the moved axes sorted (transpose(2, 0) showed 0, 2; transpose(1, 1) 0, 0), and
    # t()'s TBackward0 showed _saved_dim0/_saved_dim1, which PyTorch's has not
    x = T.ones(2, 3, 4, requires_grad=True)
    dims = [(n._saved_dim0, n._saved_dim1) for n in (x.transpose(2, 0).grad_fn, x.transpose(1, 1).grad_fn)]
    assert dims == [(2, 0), (1, 1)]
    node = x[0].t().grad_fn
    assert not hasattr(node, "_saved_dim0") and not hasattr(node, "_saved_dim1")


@pytest.mark.parametrize("T", _frameworks())
def test_setitem_with_none_in_the_index_is_a_copy_into_a_view(T):
    # was IndexPutBackward0: an index with None is a view too, so the base records CopySlices
    a = T.ones(3, 4, dtype=T.float64, requires_grad=True)
    x = a * 1
    x[None, 1] = T.ones(1, 1, 4, dtype=T.float64) * 5
    (x * T.arange(12.0, dtype=T.float64).reshape(3, 4)).sum().backward()
    assert (x.grad_fn.name() if T is ember else type(x.grad_fn).__name__) == "CopySlices"
    np.testing.assert_array_equal(_arr(a.grad)[1], 0.0)
    np.testing.assert_array_equal(_arr(x)[1], 5.0)


@pytest.mark.parametrize("T", _frameworks())
@pytest.mark.parametrize("index", [0, slice(0, 2), (Ellipsis,), [0, 1]])
@pytest.mark.parametrize("value", [None, "1"])
def test_setitem_of_none_or_a_string_raises(T, index, value):
    # was NaN (None) or a parsed number ("1") written silently; PyTorch raises TypeError
    x = T.zeros(3)
    with pytest.raises(TypeError, match="can't assign a"):
        x[T.tensor(index) if isinstance(index, list) else index] = value
    np.testing.assert_array_equal(_arr(x), 0.0)


@pytest.mark.parametrize(
    "op",
    [
        lambda x, i: x.index_select(0, i),
        lambda x, i: x[i],
        lambda x, i: x[:, i],
        lambda x, i: x.gather(1, i.reshape(1, 2).repeat(2, 1)),
        lambda x, i: ember.take(x, i),
        lambda x, i: x.index_add(0, i, ember.ones(2, 2)),
    ],
)
def test_index_changed_in_place_after_forward_leaves_gradient_unchanged(op) -> None:
    # The node kept the index tensor's own array, so `i.add_(1)` between forward and backward
    # changed the gradient silently (PyTorch raises instead). The index is copied now: the
    # gradient is that of the computation the forward did.
    weights = ember.tensor([[1.0, 10.0], [100.0, 1000.0]])
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    expected = ember.autograd.grad((op(x, ember.tensor([0, 0])) * weights).sum(), x)[0]
    i = ember.tensor([0, 0])
    y = op(x, i)
    i.add_(1)
    (y * weights).sum().backward()
    assert x.grad.tolist() == expected.tolist()


@pytest.mark.parametrize("op", [lambda x, m: x.masked_fill(m, 0.0), lambda x, m: ember.where(m, x, 2 * x)])
def test_mask_changed_in_place_after_forward_leaves_gradient_unchanged(op) -> None:
    # masked_fill's mask and where's condition are copied too (see the test above)
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    expected = ember.autograd.grad(op(x, ember.tensor([[True, False]])).sum(), x)[0]
    m = ember.tensor([[True, False]])
    y = op(x, m)
    m.logical_not_()
    y.sum().backward()
    assert x.grad.tolist() == expected.tolist()


_KEPT_INDEX_OPS = {
    "cross_entropy": lambda T, x, i: T.nn.functional.cross_entropy(x, i),
    "cross_entropy_none": lambda T, x, i: T.nn.functional.cross_entropy(x, i, reduction="none").sum(),
    "cross_entropy_weight": lambda T, x, i: T.nn.functional.cross_entropy(
        x, i, weight=T.ones(3, dtype=x.dtype)
    ),
    "cross_entropy_smoothing": lambda T, x, i: T.nn.functional.cross_entropy(x, i, label_smoothing=0.1),
    "cross_entropy_one_sample": lambda T, x, i: T.nn.functional.cross_entropy(x[0], i[:1]),
    "cross_entropy_ignore": lambda T, x, i: T.nn.functional.cross_entropy(x, i, ignore_index=1),
    "nll_loss": lambda T, x, i: T.nn.functional.nll_loss(x, i),
    "nll_loss_weight": lambda T, x, i: T.nn.functional.nll_loss(x, i, weight=T.ones(3, dtype=x.dtype)),
    "embedding": lambda T, x, i: T.nn.functional.embedding(i, x).sum(),
    "embedding_padding": lambda T, x, i: T.nn.functional.embedding(i, x, padding_idx=1).sum(),
}


@pytest.mark.parametrize("T", _frameworks())
@pytest.mark.parametrize("op", sorted(_KEPT_INDEX_OPS))
def test_loss_target_or_embedding_index_changed_in_place_raises(T, op) -> None:
    # These nodes kept the target's or index's own array, so `i.add_(1)` between forward and
    # backward gave the gradient of other targets without an error. They keep it as a saved
    # tensor now: backward raises the in-place error, as PyTorch's does.
    x = T.zeros(2, 3, requires_grad=True)
    i = T.tensor([0, 1])
    loss = _KEPT_INDEX_OPS[op](T, x, i)
    i.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize("op", sorted(set(_KEPT_INDEX_OPS) - {"embedding_padding"}))
def test_loss_target_or_embedding_index_unchanged_still_differentiates_twice(op) -> None:
    # keeping the index as a saved tensor must not disturb backward, nor create_graph (not
    # padding_idx: its row's gradient is zero by definition, which gradcheck would refuse)
    x = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    i = ember.tensor([0, 1])
    assert ember.autograd.gradcheck(lambda x: _KEPT_INDEX_OPS[op](ember, x, i), (x,))
    (g,) = ember.autograd.grad(_KEPT_INDEX_OPS[op](ember, x, i), x, create_graph=True)
    assert g.shape == x.shape
