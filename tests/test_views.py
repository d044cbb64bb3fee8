"""Views share their base's memory and version counter; in-place ops through a view write
into the base and are recorded in its history. Each program runs in ember and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch


def _arr(t) -> np.ndarray | None:
    return None if t is None else np.array(t.detach().numpy())


def _leaves(T):
    x = T.tensor([1.0, -2.0, 3.0, 0.5, -1.5, 2.0], requires_grad=True)
    w = T.tensor([0.5, 2.0], requires_grad=True)
    return x, w


def _op_on_view(T, x, w):
    y = x * 2
    y[1:3].mul_(w)  # the region of y that the slice views
    return y, (y * y).sum()


def _view_then_base_changes(T, x, w):
    y = x * 2
    v = y[2:]  # made before y changes
    y.mul_(3)
    return v, (v * v).sum()


def _sibling_views(T, x, w):
    y = x + 1
    a, b = y[:4], y[2:]  # overlap at 2..3
    a[2:].add_(w)
    return b, (b * b).sum()


def _view_of_view(T, x, w):
    y = x * 1.5
    y.view(3, 2)[1].mul_(w)
    return y, (y**3).sum()


def _transposed_view(T, x, w):
    y = x.reshape(2, 3) * 2
    y.t()[0].add_(w)
    return y, (y * y).sum()


def _written_buffer(T, x, w):
    out = T.zeros(3, 2)  # a leaf that does not require grad
    out[0].copy_(w)
    out.narrow(0, 1, 2).copy_(x.reshape(3, 2)[:2] * w)
    return out, (out * out).sum()


def _inplace_activation_on_view(T, x, w):
    y = x * w.sum()
    T.nn.functional.relu(y[::2], inplace=True)
    return y, (y * x).sum()


def _unsqueezed_and_expanded_source(T, x, w):
    y = x.unsqueeze(0) * 1.0
    y.squeeze(0)[:2].sub_(w)
    return y, (y * y).sum()


PROGRAMS = [
    _op_on_view,
    _view_then_base_changes,
    _sibling_views,
    _view_of_view,
    _transposed_view,
    _written_buffer,
    _inplace_activation_on_view,
    _unsqueezed_and_expanded_source,
]


def _run(T, program):
    x, w = _leaves(T)
    value, loss = program(T, x, w)
    loss.backward()
    return _arr(value), _arr(x.grad), _arr(w.grad)


@requires_torch
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__.strip("_"))
def test_inplace_through_views_matches_torch(program) -> None:
    import torch

    for mine, theirs in zip(_run(ember, program), _run(torch, program)):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-6)


@requires_torch
def test_second_derivative_through_copy_slices_matches_torch() -> None:
    import torch

    def run(T):
        x, w = _leaves(T)
        y = x * x
        y[:2].mul_(w)
        (g,) = T.autograd.grad((y * y).sum(), x, create_graph=True)
        g.sum().backward()
        return _arr(g), _arr(x.grad), _arr(w.grad)

    for mine, theirs in zip(run(ember), run(torch)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)


def test_a_view_knows_its_base_and_shares_its_version() -> None:
    x = ember.arange(6.0)
    v = x.view(2, 3)[1]
    assert v._base is x and x.view(6)._base is x and x._base is None
    x.add_(1)
    assert v._version_cell is x._version_cell and x._version_cell[0] == 1
    v.mul_(2)
    assert x._version_cell[0] == 2 and x.tolist() == [1.0, 2.0, 3.0, 8.0, 10.0, 12.0]
    # a copy (integer-array index, a reshape of scattered data) is not a view
    assert x[[0, 1]]._base is None
    assert x.view(2, 3).t().reshape(6)._base is None


def test_copy_slices_names_the_base_node_as_pytorch() -> None:
    y = ember.ones(3, requires_grad=True) * 1
    y[0].mul_(2)
    assert y.grad_fn.name() == "CopySlices"


def test_inplace_on_a_view_of_a_leaf_that_requires_grad_raises() -> None:
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0].mul_(5)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x.view(3, 1)[0] = 2.0
    with ember.no_grad():
        x[0].mul_(5)  # the optimizer's way: allowed, and written through
    assert x.tolist() == [5.0, 1.0, 1.0]


def test_a_view_changed_under_no_grad_is_caught_by_its_saved_base() -> None:
    x = ember.ones(3, requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    with ember.no_grad():
        y[0].zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_inplace_on_an_expanded_view_raises() -> None:
    y = ember.ones(1, 3).expand(2, 3)
    with pytest.raises(RuntimeError, match="single memory location"):
        y.add_(1)
    with pytest.raises(RuntimeError, match="single memory location"):
        y.mul_(ember.ones(2, 3))


def test_view_made_under_no_grad_then_changed_in_place_with_grad_raises() -> None:
    y = ember.ones(3, requires_grad=True) * 1
    with ember.no_grad():
        v = y[:2]
    w = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="created in no_grad mode"):
        v.mul_(w)


def test_recorded_inplace_result_of_another_shape_or_dtype_raises() -> None:
    y = ember.ones(2, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        y += ember.ones(2, 2)
    i = ember.arange(2)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(ember.ones(2, requires_grad=True))


def test_inplace_write_is_seen_through_numpy_and_detach() -> None:
    y = ember.ones(3, requires_grad=True) * 1
    d = y.detach()
    arr = d.numpy()
    y.mul_(ember.full((3,), 4.0, requires_grad=True))
    assert d.tolist() == [4.0, 4.0, 4.0] and arr.tolist() == [4.0, 4.0, 4.0]


VIEWS = {
    "index": lambda y: y[1],
    "column": lambda y: y[:, 1],
    "strided": lambda y: y[::2, 1:],
    "none_ellipsis": lambda y: y[None, ..., 2],
    "T": lambda y: y.T,
    "view": lambda y: y.view(-1),
    "reshape": lambda y: y.reshape(4, 3),
    "flatten": lambda y: y.flatten(),
    "unflatten": lambda y: y.unflatten(1, (2, 2)),
    "narrow": lambda y: y.narrow(1, 1, 2),
    "select": lambda y: y.select(1, 3),
    "unsqueeze": lambda y: y.unsqueeze(1),
    "squeeze": lambda y: y[1:2].squeeze(0),
    "permute": lambda y: y.permute(1, 0),
    "transpose": lambda y: y.transpose(0, 1),
    "movedim": lambda y: y.movedim(0, 1),
    "chunk": lambda y: y.chunk(2, 1)[1],
    "split": lambda y: y.split(2)[1],
    "unbind": lambda y: y.unbind(0)[2],
    "view_of_view": lambda y: y.t()[1:][:, 0],
    "diagonal": lambda y: y.diagonal(1),
    "diagonal_transposed": lambda y: y.t().diagonal(-1),
}


# PyTorch refuses in-place changes to the views split, chunk and unbind return (and to
# their base while they live); ember allows them, with the gradients of the equivalent
# single view, which is what PyTorch runs for them here
IN_TORCH = {
    "chunk": lambda y: y.narrow(1, 2, 2),
    "split": lambda y: y.narrow(0, 2, 1),
    "unbind": lambda y: y.select(0, 2),
}


def _through_view(T, view, change_base: bool):
    x = T.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) / 7, requires_grad=True)
    s = T.tensor(1.5, requires_grad=True)
    y = x * 2
    v = (IN_TORCH.get(view, VIEWS[view]) if T is not ember else VIEWS[view])(y)
    if change_base:
        y.mul_(s)  # v was made before: its node must be remade from y's new one
    else:
        v.mul_(s)  # written into y, recorded in y's history
    loss = (y * y).sum() + (v * x.sum()).sum()
    loss.backward()
    return _arr(y), _arr(v), _arr(x.grad), _arr(s.grad)


@requires_torch
@pytest.mark.parametrize("change_base", [False, True], ids=["change_view", "change_base"])
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_every_view_op_writes_through_and_differentiates_as_torch(view: str, change_base: bool) -> None:
    import torch

    for mine, theirs in zip(_through_view(ember, view, change_base), _through_view(torch, view, change_base)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)


def _replacements(T):
    x = T.tensor([1.0, float("inf"), -2.0], requires_grad=True)
    v = T.tensor(2.5, requires_grad=True)
    s = T.tensor([0.5, 1.5, 3.0], requires_grad=True)
    a = x * 2
    a.fill_(v)  # v's gradient is the sum over the copies
    b = x * 3
    b.copy_(s)
    c = x * 1
    c[1:].fill_(0.25)  # through a view, over the inf
    d = x * 4
    d.copy_(v)  # broadcast from a 0-d tensor
    loss = (a * a).sum() + (b * b).sum() + (c * x.detach().nan_to_num()).sum() + d.sum()
    loss.backward()
    return [_arr(t) for t in (a, b, c, d, x.grad, v.grad, s.grad)]


@requires_torch
def test_fill_and_copy_replace_values_and_route_gradients_as_torch() -> None:
    import torch

    for mine, theirs in zip(_replacements(ember), _replacements(torch)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)


# ---- views whose base changed, read outside Function.apply ---------------------------------


def _stale_view_as_other_operand(T):
    x = T.zeros(3)
    v = x[:2]
    w = T.ones(3, requires_grad=True)
    x.add_(w)  # x joins the graph; v's node is now stale
    y = T.ones(2)
    y.mul_(v)
    (x.sum() + y.sum()).backward()
    return [_arr(w.grad), np.array(y.requires_grad)]


def _stale_view_as_root(T):
    w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    v = x[:2]
    x.mul_(3)
    (g,) = T.autograd.grad(v, w, T.ones(2))
    return [_arr(g), np.array([v.requires_grad, v.is_leaf])]


def _stale_view_as_user_function_input(T):
    class Double(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    v = x[1:]
    x.mul_(3)
    Double.apply(v).sum().backward()
    return [_arr(w.grad)]


@requires_torch
@pytest.mark.parametrize(
    "program",
    [
        _stale_view_as_other_operand,
        _stale_view_as_root,
        _stale_view_as_user_function_input,
    ],
    ids=lambda p: p.__name__.strip("_"),
)
def test_a_view_whose_base_changed_is_current_everywhere_as_in_torch(program) -> None:
    import torch

    for mine, theirs in zip(program(ember), program(torch)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)


def test_inplace_on_a_view_whose_base_changed_is_recorded() -> None:
    # x = [5c, 5c, c], so d(sum x)/dc = 11. (PyTorch 2.13 refuses this program with a
    # "leaf Variable" error; ember records the in-place op on the remade view.)
    x = ember.zeros(3)
    v = x[:2]
    c = ember.tensor(2.0, requires_grad=True)
    x.add_(c)
    v.mul_(5)
    x.sum().backward()
    assert x.tolist() == [10.0, 10.0, 2.0] and c.grad.item() == 11.0


def test_inplace_on_a_no_grad_view_of_a_graph_tensor_raises() -> None:
    w = ember.ones(3, requires_grad=True)
    y = w * 2
    with ember.no_grad():
        v = y[:2]
    with pytest.raises(RuntimeError, match="created in no_grad mode"):
        v.mul_(2)


# ---- copies that must not alias, and in-place operators -------------------------------------


@requires_torch
def test_flip_rot90_diag_and_contiguous_copy_as_in_torch() -> None:
    import torch

    def run(T):
        x = T.tensor([[1.0, 2.0], [3.0, 4.0]])
        x.flip(0).mul_(10)
        T.rot90(x)[0, 0] = 0
        T.diag(x).zero_()
        c = x.t().contiguous()
        c[0, 1] = 0
        return _arr(x), np.array([x.is_contiguous(), x.t().is_contiguous()])

    for mine, theirs in zip(run(ember), run(torch)):
        np.testing.assert_array_equal(mine, theirs)


@requires_torch
def test_augmented_assignments_change_the_tensor_in_place_as_in_torch() -> None:
    import torch

    def run(T):
        x = T.tensor([1.0, 2.0, 3.0])
        alias, view = x, x[:2]
        x **= 2
        x //= 2
        x %= 3
        m = T.tensor([True, False, True])
        mask = m
        m |= T.tensor([False, True, False])
        m &= T.tensor([True, True, False])
        m ^= T.tensor([False, True, False])
        w = T.tensor([1.0, 2.0], requires_grad=True)
        e = T.tensor(2.0, requires_grad=True)
        y = w * 1
        y **= e
        y.sum().backward()
        return [_arr(alias), _arr(view), _arr(mask), _arr(w.grad), _arr(e.grad)]

    for mine, theirs in zip(run(ember), run(torch)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)


def test_a_hook_changing_its_gradient_in_place_leaves_other_leaves_alone() -> None:
    a = ember.ones(2, requires_grad=True)
    b = ember.ones(2, requires_grad=True)
    a.register_hook(lambda g: g.mul_(10))
    (a + b).sum().backward()
    assert a.grad.tolist() == [10.0, 10.0] and b.grad.tolist() == [1.0, 1.0]


@requires_torch
def test_inplace_through_an_expanded_view_where_no_element_repeats_as_in_torch() -> None:
    import torch

    def run(T):
        x = T.ones(3)
        x.expand(1, 3).mul_(2)
        x.expand(2, 3)[0].add_(1)
        x.expand_as(x).mul_(2)
        return _arr(x)

    np.testing.assert_array_equal(run(ember), run(torch))
    with pytest.raises(RuntimeError, match="single memory location"):
        ember.ones(3).expand(2, 3).add_(1)  # zero_() is allowed there, as in PyTorch


def test_view_refuses_to_copy_and_detach__refuses_views_and_int_clamp_refuses_floats() -> None:
    x = ember.ones(2, 3)
    with pytest.raises(RuntimeError, match="Use .reshape"):
        x.t().view(6)
    assert x.t().reshape(6).shape == (6,)
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        x[0].detach_()
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.tensor([1, 2, 3]).clamp_(min=1.5)


@requires_torch
def test_stride_storage_offset_relu6_and_functional_inplace_forms_as_torch() -> None:
    import torch

    def run(T):
        x = T.arange(12.0).reshape(3, 4)
        v = x.t()[1:]
        y = T.tensor([-1.0, 0.5, 7.0])
        T.relu_(y)
        z = T.tensor([0.0, 1.0])
        T.sigmoid_(z)
        T.tanh_(z)
        T.exp_(z)
        six = T.nn.ReLU6(inplace=True)
        return [x.stride(), v.stride(), v.stride(1), v.storage_offset(), x[1:, 2:].storage_offset()], [
            _arr(y),
            _arr(z),
            _arr(T.nn.ReLU6()(T.tensor([-1.0, 3.0, 9.0]))),
            repr(six),
            repr(T.nn.ReLU6()),
        ]

    mine, theirs = run(ember), run(torch)
    assert mine[0] == theirs[0]
    for a, b in zip(mine[1], theirs[1]):
        if isinstance(a, str):
            assert a == b
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [lambda t: t[2:2], lambda t: t.narrow(1, 1, 0), lambda t: t.diagonal(2), lambda t: t[:0].expand(0, 2)],
)
def test_an_empty_view_is_a_view_as_in_torch(T, make) -> None:
    # NumPy sees no shared memory in an empty array; ember took x[2:2] for a copy, so a
    # leaf's empty view changed in place, or a saved base, raised nothing where PyTorch does
    leaf = T.ones(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        make(leaf).mul_(2)
    y = leaf * 1
    s = y.sin()
    make(y).mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()
    z = T.zeros(3, 2)
    v = make(z)
    v.add_(1)
    assert v._base is z


@pytest.mark.parametrize(
    "make",
    [
        lambda T, x: T.cat([x, x]),
        lambda T, x: T.stack([x, x], 1),
        lambda T, x: x.roll(1, 1),
        lambda T, x: x.tril(),
        lambda T, x: x.triu(1),
        lambda T, x: x.repeat(1, 2, 1),
        lambda T, x: x.softmax(2),
        lambda T, x: x.log_softmax(0),
        lambda T, x: x.sum(2),
        lambda T, x: x.mean(2, keepdim=True),
        lambda T, x: x.amax(2),
        lambda T, x: x.max(2)[0],
        lambda T, x: x.prod(2),
        lambda T, x: x.var(2),
        lambda T, x: x.std(2),
        lambda T, x: x.norm(dim=2),
        lambda T, x: x.logsumexp(2),
        lambda T, x: x.nansum(2),
        lambda T, x: x.cumsum(1),
        lambda T, x: x.cumprod(1),
        lambda T, x: x.logcumsumexp(1),
        lambda T, x: x.cummax(1)[0],
        lambda T, x: x.median(2)[0],
        lambda T, x: x.nanmedian(2)[0],
    ],
)
def test_view_of_an_op_on_a_transposed_tensor_as_in_torch(T, make) -> None:
    # these results are row-major in PyTorch whatever the input's layout; NumPy kept the
    # transposed layout, and .view() of them raised
    x = T.arange(24.0, dtype=T.float64).reshape(2, 3, 4).transpose(0, 1).requires_grad_()
    y = make(T, x)
    assert y.is_contiguous()
    flat = y.view(-1)
    (flat * T.arange(float(flat.numel()), dtype=T.float64)).sum().backward()
    assert flat.tolist() == y.reshape(-1).tolist()


def test_view_of_a_boolean_reduction_or_an_index_result_on_a_transposed_tensor(T) -> None:
    x = T.arange(24.0).reshape(2, 3, 4).transpose(0, 1)
    for y in ((x > 2).any(2), (x > 2).all(2), x.count_nonzero(2), x.cummin(1)[1], x.median(2)[1]):
        assert y.is_contiguous()
        assert y.view(-1).tolist() == y.reshape(-1).tolist()


def test_writing_a_number_through_an_expanded_tensor_as_in_torch(T) -> None:
    # PyTorch lets zero_, fill_, masked_fill_ and x[i] = number write through an expand (the
    # repeated elements all get the number); ember refused every write there
    mask = T.tensor([[True, False, False], [False, False, True]])
    for write, expected in (
        (lambda t: t.zero_(), [[0.0, 0.0, 0.0]]),
        (lambda t: t.fill_(2.0), [[2.0, 2.0, 2.0]]),
        (lambda t: t.__setitem__(0, 1.0), [[1.0, 1.0, 1.0]]),
        (lambda t: t.__setitem__(mask, 7.0), [[7.0, 2.0, 7.0]]),
        (lambda t: t.masked_fill_(mask, 7.0), [[7.0, 2.0, 7.0]]),
    ):
        y = T.tensor([[1.0, 2.0, 3.0]])
        write(y.expand(2, 3))
        assert y.tolist() == expected
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        T.tensor([[1.0, 2.0, 3.0]]).expand(2, 3).add_(1)
