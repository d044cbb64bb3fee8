"""A tensor that an op needs for its backward, changed in place between forward and backward
(`i.add_(1)`, `w[0] = 3`, `idx.zero_()`): ember must never give a silently wrong gradient.

PyTorch raises "one of the variables needed for gradient computation has been modified by an
inplace operation" in each case below: its node saves the tensor with its version. ember does
the same where the node saves the tensor with ctx.save_for_backward ("raise"), and where a
node keeps its own copy of an index instead (indexing and the index ops, docs/differences.md)
gives the gradient of the computation the forward did ("copy"). Before the eighteenth
session every "raise" case below gave a wrong gradient without an error: the node kept the
tensor's array on ctx by reference, outside the version check.

Each case runs in ember and, where it is installed, in PyTorch, which must raise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import HAVE_TORCH

INPLACE = "modified by an inplace operation"

_G = np.random.default_rng(0)
X43 = _G.standard_normal((4, 3)).astype(np.float32)
SRC = _G.standard_normal((2, 3)).astype(np.float32)
PROB = _G.uniform(0.1, 0.9, (3, 4)).astype(np.float32)
TARGET = _G.uniform(0.1, 0.9, (3, 4)).astype(np.float32)
LOGITS = _G.standard_normal((3, 4)).astype(np.float32)
POSITIVE = _G.uniform(0.5, 2.0, (4,)).astype(np.float32)
A33 = np.array([[7.0, 8, 10], [1, 2, 3], [4, 5, 6]], np.float32)  # pivots 1, 2, 3
IMAGE = _G.standard_normal((1, 2, 4, 4)).astype(np.float32)


def _change(T: Any, t: Any, through_view: bool) -> None:
    """Change t in place, as a user may between forward and backward: integers move to other
    valid indices, booleans flip, floats change."""
    with T.no_grad():
        v = t.view(-1) if through_view else t
        if t.dtype == T.bool:
            v.logical_not_()
        elif t.dtype.is_floating_point:
            v.mul_(-2.0).add_(0.5)
        else:  # every entry equal to the largest becomes the smallest, the others the largest
            v.copy_(T.where(v == t.max(), t.min(), t.max()))


def _scatter_reduce(reduce: str) -> tuple:
    def build(T):
        return [
            T.tensor(X43, requires_grad=True),
            T.tensor([[0, 1, 0], [2, 0, 1]]),
            T.tensor(SRC, requires_grad=True),
        ]

    return build, lambda T, x, i, s: x.scatter_reduce(0, i, s, reduce), 1


def _indices_output(op) -> tuple:
    """A case whose kept tensor is the op's second output, the indices (changed: output 1)."""
    return (lambda T: [T.tensor(X43, requires_grad=True)]), op, "out1"


def _bce(T):
    return [T.tensor(PROB, requires_grad=True), T.tensor(TARGET), T.tensor(POSITIVE)]


def _bce_logits(T):
    return [
        T.tensor(LOGITS, requires_grad=True),
        T.tensor(TARGET),
        T.tensor(POSITIVE),
        T.tensor(POSITIVE[::-1].copy()),
    ]


def _running_stats(T):
    x = T.tensor(X43.astype(np.float64), requires_grad=True)
    w = T.tensor(POSITIVE[:3].astype(np.float64), requires_grad=True)
    return [x, T.tensor([0.1, -0.2, 0.3], dtype=T.float64), T.tensor([1.0, 2.0, 0.5], dtype=T.float64), w]


def _batch_norm_eval(T, x, mean, var, w):
    # the second derivative reads the running mean (the first does not)
    y = T.nn.functional.batch_norm(x, mean, var, w, training=False)
    (gw,) = T.autograd.grad((y**2).sum(), w, create_graph=True)
    return gw


def _index_put(accumulate: bool) -> tuple:
    def build(T):
        return [T.tensor(X43, requires_grad=True), T.tensor([0, 2]), T.tensor(SRC, requires_grad=True)]

    return build, lambda T, x, i, v: x.index_put((i,), v, accumulate=accumulate), 1


def _one_index(op, index: list) -> tuple:
    def build(T):
        return [T.tensor(X43, requires_grad=True), T.tensor(index)]

    return build, op, 1


# name -> (build(T) -> tensors, op(T, *tensors) -> output(s), which tensor is changed: an
# argument's position or "out<k>", and "raise" or "copy")
CASES = {
    **{
        f"scatter_reduce[{r}]": (*_scatter_reduce(r), "raise")
        for r in ("sum", "prod", "mean", "amax", "amin")
    },
    "binary_cross_entropy[weight]": (
        _bce,
        lambda T, x, t, w: T.nn.functional.binary_cross_entropy(x, t, weight=w),
        2,
        "raise",
    ),
    "binary_cross_entropy_with_logits[weight]": (
        _bce_logits,
        lambda T, x, t, w, pw: T.nn.functional.binary_cross_entropy_with_logits(
            x, t, weight=w, pos_weight=pw
        ),
        2,
        "raise",
    ),
    "binary_cross_entropy_with_logits[pos_weight]": (
        _bce_logits,
        lambda T, x, t, w, pw: T.nn.functional.binary_cross_entropy_with_logits(
            x, t, weight=w, pos_weight=pw
        ),
        3,
        "raise",
    ),
    "igamma[a]": (
        lambda T: [T.tensor(POSITIVE), T.tensor(POSITIVE[::-1].copy(), requires_grad=True)],
        lambda T, a, x: T.special.gammainc(a, x),
        0,
        "raise",
    ),
    "igammac[a]": (
        lambda T: [T.tensor(POSITIVE), T.tensor(POSITIVE[::-1].copy(), requires_grad=True)],
        lambda T, a, x: T.special.gammaincc(a, x),
        0,
        "raise",
    ),
    "batch_norm[eval, running_mean, create_graph]": (_running_stats, _batch_norm_eval, 1, "copy"),
    "batch_norm[eval, running_var, create_graph]": (_running_stats, _batch_norm_eval, 2, "copy"),
    "max[dim]": (*_indices_output(lambda T, x: T.max(x, 1)), "raise"),
    "min[dim, keepdim]": (*_indices_output(lambda T, x: T.min(x, 0, keepdim=True)), "raise"),
    "sort": (*_indices_output(lambda T, x: T.sort(x, 1)), "raise"),
    "topk": (*_indices_output(lambda T, x: T.topk(x, 2, 1)), "raise"),
    "kthvalue": (*_indices_output(lambda T, x: T.kthvalue(x, 2, 1)), "raise"),
    "kthvalue[keepdim]": (*_indices_output(lambda T, x: T.kthvalue(x, 2, 0, keepdim=True)), "raise"),
    "median[dim]": (*_indices_output(lambda T, x: T.median(x, 1)), "raise"),
    "nanmedian[dim]": (*_indices_output(lambda T, x: T.nanmedian(x, 0)), "raise"),
    "mode": (
        lambda T: [T.tensor([[1.0, 1, 2], [2, 3, 3], [0, 5, 5], [4, 4, 4]], requires_grad=True)],
        lambda T, x: T.mode(x, 1),
        "out1",
        "raise",
    ),
    "cummax": (*_indices_output(lambda T, x: T.cummax(x, 1)), "raise"),
    "cummin": (*_indices_output(lambda T, x: T.cummin(x, 0)), "raise"),
    "adaptive_max_pool1d": (
        *_indices_output(lambda T, x: T.nn.functional.adaptive_max_pool1d(x, 2, True)),
        "raise",
    ),
    "adaptive_max_pool2d": (
        lambda T: [T.tensor(IMAGE, requires_grad=True)],
        lambda T, x: T.nn.functional.adaptive_max_pool2d(x, 3, True),
        "out1",
        "raise",
    ),
    # kept by copy: the gradient stays the forward's (PyTorch raises)
    "lu_factor[pivots]": (
        lambda T: [T.tensor(A33, requires_grad=True)],
        lambda T, a: T.linalg.lu_factor(a),
        "out1",
        "copy",
    ),
    "index_put": (*_index_put(False), "copy"),
    "index_put[accumulate]": (*_index_put(True), "copy"),
    "index_put_": (
        lambda T: [T.tensor(X43, requires_grad=True), T.tensor([0, 2]), T.tensor(SRC, requires_grad=True)],
        lambda T, x, i, v: (x * 1).index_put_((i,), v),
        1,
        "copy",
    ),
    "getitem[tensor]": (*_one_index(lambda T, x, i: x[i], [0, 2, 2]), "copy"),
    "index_select": (*_one_index(lambda T, x, i: x.index_select(0, i), [0, 2, 2]), "copy"),
    "take": (*_one_index(lambda T, x, i: T.take(x, i), [0, 5, 11]), "copy"),
    "index_add": (
        lambda T: [T.tensor(X43, requires_grad=True), T.tensor([0, 2]), T.tensor(SRC, requires_grad=True)],
        lambda T, x, i, s: x.index_add(0, i, s),
        1,
        "copy",
    ),
    "index_reduce": (
        lambda T: [T.tensor(X43, requires_grad=True), T.tensor([0, 2]), T.tensor(SRC, requires_grad=True)],
        lambda T, x, i, s: x.index_reduce(0, i, s, "prod"),
        1,
        "copy",
    ),
    "put": (
        lambda T: [
            T.tensor(X43, requires_grad=True),
            T.tensor([0, 7]),
            T.tensor(SRC[0, :2], requires_grad=True),
        ],
        lambda T, x, i, s: x.put(i, s),
        1,
        "copy",
    ),
    "masked_fill": (
        lambda T: [T.tensor(X43, requires_grad=True), T.tensor(X43 > 0)],
        lambda T, x, m: x.masked_fill(m, 0.0),
        1,
        "copy",
    ),
    "where": (
        lambda T: [T.tensor(X43 > 0), T.tensor(X43, requires_grad=True)],
        lambda T, c, x: T.where(c, x, 2 * x),
        0,
        "copy",
    ),
    "masked_scatter": (
        lambda T: [
            T.tensor(X43, requires_grad=True),
            T.tensor(X43 > 0),
            T.tensor(X43.ravel(), requires_grad=True),
        ],
        lambda T, x, m, s: x.masked_scatter(m, s),
        1,
        "copy",
    ),
    "embedding_bag": (
        lambda T: [T.tensor(X43, requires_grad=True), T.tensor([0, 2, 2, 3, 1]), T.tensor([0, 2])],
        lambda T, w, i, o: T.nn.functional.embedding_bag(i, w, o, mode="max"),
        1,
        "copy",
    ),
    "max_unpool1d": (
        lambda T: [T.tensor(SRC[None], requires_grad=True), T.tensor([[[0, 3, 5], [1, 2, 4]]])],
        lambda T, y, i: T.nn.functional.max_unpool1d(y, i, 2),
        1,
        "copy",
    ),
    "multi_margin_loss": (
        lambda T: [T.tensor(X43, requires_grad=True), T.tensor([0, 2, 1, 2])],
        lambda T, x, t: T.nn.functional.multi_margin_loss(x, t),
        1,
        "copy",
    ),
}


def _outputs(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _run(T: Any, name: str, change: bool, through_view: bool = False) -> list:
    """The gradient of a weighted sum of the op's float outputs, after changing the case's
    kept tensor in place when `change`."""
    build, op, which, _ = CASES[name]
    tensors = build(T)
    outs = _outputs(op(T, *tensors))
    if change:
        _change(T, outs[int(which[3:])] if isinstance(which, str) else tensors[which], through_view)
    weights = np.random.default_rng(1)
    loss = sum(
        (o * T.tensor(weights.standard_normal(tuple(o.shape)), dtype=o.dtype)).sum()
        for o in outs
        if o.requires_grad
    )
    wanted = [t for t in tensors if t.requires_grad]
    return [None if g is None else g.numpy() for g in T.autograd.grad(loss, wanted, allow_unused=True)]


@pytest.mark.parametrize("through_view", [False, True], ids=["tensor", "view"])
@pytest.mark.parametrize("name", list(CASES))
def test_kept_tensor_changed_in_place(name: str, through_view: bool) -> None:
    expected = _run(ember, name, change=False)
    if CASES[name][3] == "raise":
        with pytest.raises(RuntimeError, match=INPLACE):
            _run(ember, name, change=True, through_view=through_view)
    else:
        got = _run(ember, name, change=True, through_view=through_view)
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)
    if HAVE_TORCH:  # the unchanged gradient is PyTorch's, and PyTorch raises after the change
        import torch

        for g, t in zip(expected, _run(torch, name, change=False)):
            np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)
        with pytest.raises(RuntimeError, match=INPLACE):
            _run(torch, name, change=True, through_view=through_view)


# ---- the losses' float arguments: saved with the inputs, so checked as in PyTorch ----------------

_TARGET_LOSSES = {
    "mse_loss": lambda T, x, t: T.nn.functional.mse_loss(x, t),
    "l1_loss": lambda T, x, t: T.nn.functional.l1_loss(x, t),
    "smooth_l1_loss": lambda T, x, t: T.nn.functional.smooth_l1_loss(x, t, beta=0.5),
    "huber_loss": lambda T, x, t: T.nn.functional.huber_loss(x, t, delta=0.5),
    "kl_div": lambda T, x, t: T.nn.functional.kl_div(x, t, reduction="batchmean"),
    "poisson_nll_loss": lambda T, x, t: T.nn.functional.poisson_nll_loss(x, t),
    "gaussian_nll_loss": lambda T, x, t: T.nn.functional.gaussian_nll_loss(x, t, T.ones_like(t)),
    "binary_cross_entropy": lambda T, x, t: T.nn.functional.binary_cross_entropy(x.sigmoid(), t),
    "binary_cross_entropy_with_logits": lambda T, x, t: T.nn.functional.binary_cross_entropy_with_logits(
        x, t
    ),
    "soft_margin_loss": lambda T, x, t: T.nn.functional.soft_margin_loss(x, t),
    "multilabel_soft_margin_loss": lambda T, x, t: T.nn.functional.multilabel_soft_margin_loss(x, t),
}


def _loss_grad(T: Any, name: str, change: bool) -> Any:
    x = T.tensor(LOGITS, requires_grad=True)
    t = T.tensor(TARGET)
    loss = _TARGET_LOSSES[name](T, x, t)
    if change:
        _change(T, t, through_view=False)
    loss.backward()
    return x.grad.numpy()


@pytest.mark.parametrize("name", list(_TARGET_LOSSES))
def test_loss_target_changed_in_place(name: str) -> None:
    # ember raises where its node needs the target (saved with the input), and otherwise
    # gives the forward's gradient (huber's: masks computed in forward). PyTorch raises but
    # for l1_loss and gaussian_nll_loss, whose target only enters a subtraction.
    expected = _loss_grad(ember, name, change=False)
    try:
        got = _loss_grad(ember, name, change=True)
    except RuntimeError as e:
        assert INPLACE in str(e)
        got = None
    else:
        np.testing.assert_array_equal(got, expected)
    if HAVE_TORCH:
        import torch

        try:
            theirs = _loss_grad(torch, name, change=True)
        except RuntimeError as e:
            assert INPLACE in str(e)
        else:
            assert got is not None, "ember raises where PyTorch gives a gradient"
            np.testing.assert_allclose(got, theirs, rtol=1e-5, atol=1e-6)


# ---- the indices outputs, over shapes ----------------------------------------------------------------

_INDEX_OPS = {
    "max": lambda x, d: x.max(d),
    "min": lambda x, d: x.min(d, keepdim=True),
    "sort": lambda x, d: x.sort(d, descending=True),
    "topk": lambda x, d: x.topk(1, d),
    "kthvalue": lambda x, d: x.kthvalue(1, d),
    "median": lambda x, d: x.median(d),
    "cummax": lambda x, d: x.cummax(d),
}


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    op=st.sampled_from(sorted(_INDEX_OPS)),
    data=st.data(),
)
def test_indices_output_changed_in_place_raises(shape: list, op: str, data: Any) -> None:
    # the values' gradient is unchanged while the indices are left alone, and the indices
    # changed in place (even to the same values) make backward raise
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = ember.tensor(np.random.default_rng(len(shape)).permutation(np.prod(shape)).reshape(shape) * 1.0)
    x.requires_grad_()
    values, indices = _INDEX_OPS[op](x, dim)
    (g,) = ember.autograd.grad(values.sum(), x, retain_graph=True)
    assert g.sum().item() == values.numel()
    indices.add_(0)
    with pytest.raises(RuntimeError, match=INPLACE):
        values.sum().backward()


# ---- what the fixes must keep ------------------------------------------------------------------------


def test_scatter_reduce_next_functions_list_input_and_src() -> None:
    x = ember.ones(4, 3, requires_grad=True)
    s = ember.ones(2, 3, requires_grad=True)
    y = x.scatter_reduce(0, ember.tensor([[0, 1, 0], [2, 0, 1]]), s, "amax")
    assert [fn.variable for fn, _ in y.grad_fn.next_functions] == [x, s]


def test_scatter_reduce_of_a_0d_input_checks_its_index() -> None:
    x = ember.tensor(2.0, requires_grad=True)
    i = ember.tensor([0])
    y = x.scatter_reduce(0, i, ember.tensor([3.0], requires_grad=True), "prod")
    i.add_(0)
    with pytest.raises(RuntimeError, match=INPLACE):
        y.backward()


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.scatter_reduce(0, ember.tensor([[0, 1, 0], [2, 0, 1]]), x[:2] * 2, "mean"),
        lambda x: ember.nn.functional.binary_cross_entropy_with_logits(
            x,
            ember.full_like(x, 0.3),
            weight=ember.full((3,), 2.0, dtype=x.dtype),
            pos_weight=ember.ones(3, dtype=x.dtype),
        ),
        lambda x: ember.nn.functional.binary_cross_entropy(
            x.sigmoid(), ember.full_like(x, 0.3), weight=ember.full((3,), 2.0, dtype=x.dtype)
        ),
        lambda x: ember.special.gammainc(ember.full_like(x, 1.5), x.abs() + 0.5),
        lambda x: x.sort(1).values,
        lambda x: x.max(0).values,
        lambda x: x.kthvalue(2, 1).values,
        lambda x: ember.nn.functional.batch_norm(
            x, ember.zeros(3, dtype=x.dtype), ember.ones(3, dtype=x.dtype), training=False
        ),
    ],
)
def test_second_derivatives_of_the_changed_ops(fn) -> None:
    x = ember.tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    assert ember.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("op", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_bce_weight_that_requires_grad_is_refused_as_in_torch(op: str) -> None:
    # PyTorch has no gradient for the weight and refuses one that requires grad
    x = ember.full((3,), 0.5, requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        getattr(ember.nn.functional, op)(x, ember.ones(3), weight=ember.ones(3, requires_grad=True))


# ---- results that must not share the input's memory ----------------------------------------------

_OF_A_0D_TENSOR = {
    "sort": lambda T, x: T.sort(x).values,
    "topk": lambda T, x: T.topk(x, 1).values,
    "cummax": lambda T, x: T.cummax(x, 0).values,
    "cummin": lambda T, x: T.cummin(x, 0).values,
    "median": lambda T, x: T.median(x, 0).values,
    "kthvalue": lambda T, x: T.kthvalue(x, 1, 0).values,
    "mode": lambda T, x: T.mode(x, 0).values,
    "diff[n=0]": lambda T, x: T.diff(x.reshape(1), n=0),
}


@pytest.mark.parametrize("name", list(_OF_A_0D_TENSOR))
def test_values_of_a_0d_tensor_are_a_copy(T, name: str) -> None:
    # these returned a view of the input (diff with n=0 the input itself): changing the input
    # in place changed the result, and the result could not be changed in place at all
    x = T.tensor(2.0, requires_grad=True)
    y = _OF_A_0D_TENSOR[name](T, x)
    with T.no_grad():
        x.add_(1.0)
    assert y.item() == 2.0
    x = T.tensor(2.0, requires_grad=True)
    y = _OF_A_0D_TENSOR[name](T, x)
    y.add_(1.0)
    y.sum().backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("dims", [(2, 0), (1, 0), (-1, 0)])
def test_diag_embed_into_other_dims_is_contiguous(T, dims: tuple) -> None:
    # found by the checker, changing outputs through view(-1): ember returned a permuted
    # view, which view(-1) refused
    y = T.diag_embed(T.ones(2, 3, requires_grad=True), dim1=dims[0], dim2=dims[1])
    assert y.is_contiguous()
    y.view(-1).mul_(2)
    y.sum().backward()


# ---- saved-tensor hooks: backward uses what unpack gives, as PyTorch's -------------------------

_INDEX_READERS = {
    "cross_entropy": lambda T, x, i: T.nn.functional.cross_entropy(x, i),
    "cross_entropy[create_graph]": lambda T, x, i: (
        T.autograd.grad(T.nn.functional.cross_entropy(x, i), x, create_graph=True)[0].pow(2).sum()
    ),
    "nll_loss": lambda T, x, i: T.nn.functional.nll_loss(x, i, reduction="sum"),
    "embedding": lambda T, x, i: (T.nn.functional.embedding(i, x) * T.arange(3.0)).sum(),
}


@pytest.mark.parametrize("name", list(_INDEX_READERS))
def test_index_changed_after_a_copying_pack_hook_keeps_the_forward_gradient(T, name: str) -> None:
    # With hooks the version check is theirs (PyTorch skips it): a pack hook that copies makes
    # the change harmless, and backward must use the unpacked copy. ember's nodes read the
    # target (indices) they kept on ctx, so the change moved the gradient silently.
    def grad(change: bool) -> np.ndarray:
        x = T.tensor(X43[:3], requires_grad=True)
        i = T.tensor([0, 2, 1])
        with T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            loss = _INDEX_READERS[name](T, x, i)
        if change:
            i.copy_(T.tensor([1, 0, 0]))
        loss.backward()
        return x.grad.numpy()

    np.testing.assert_allclose(grad(change=True), grad(change=False), rtol=1e-6)


@pytest.mark.parametrize(
    "name", ["sort", "topk", "kthvalue", "median[dim]", "mode", "cummax", "max[dim]", "min[dim, keepdim]"]
)
def test_indices_output_changed_after_a_copying_pack_hook_keeps_the_forward_gradient(T, name: str) -> None:
    # the same for the indices output of max/min and of the Gather-based ops (see above)
    build, op = CASES[name][:2]

    def grad(change: bool) -> np.ndarray:
        (x,) = build(T)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            values, indices = op(T, x)
        if change:
            _change(T, indices, through_view=False)
        (values * T.arange(float(values.numel())).reshape(values.shape)).sum().backward()
        return x.grad.numpy()

    np.testing.assert_array_equal(grad(change=True), grad(change=False))


def test_batch_norm_eval_then_a_training_forward_then_backward(T) -> None:
    # A training forward updates the running statistics in place; PyTorch's kernel does not
    # count that as a change, so backward of an earlier eval-mode output works. ember counts
    # it (views of the buffers need it): saving the running tensors made it raise there.
    m = T.nn.BatchNorm1d(3)
    x = T.tensor(X43, requires_grad=True)
    m.eval()
    y = m(x)
    m.train()
    m(x * 2)
    y.pow(2).sum().backward()
    assert x.grad.shape == (4, 3)


def test_instance_norm_running_stats_changed_in_place_keep_the_forward_gradient(T) -> None:
    # PyTorch's instance_norm(use_input_stats=False) normalizes with running_mean.repeat(n),
    # a copy: changing the running statistics in place before backward raises nothing and
    # leaves the gradient (the second derivative too) the forward's. ember saved the
    # tensors themselves (0b4a299), so it raised where PyTorch computes.
    def grads(change: bool) -> list:
        x = T.tensor(IMAGE[0].astype(np.float64), requires_grad=True)
        w = T.tensor(POSITIVE[:2].astype(np.float64), requires_grad=True)
        mean, var = T.tensor([0.1, -0.2], dtype=T.float64), T.tensor([1.5, 0.5], dtype=T.float64)
        y = T.nn.functional.instance_norm(x[None], mean, var, weight=w, use_input_stats=False)
        (gx,) = T.autograd.grad((y**3).sum(), x, create_graph=True)
        if change:
            mean.add_(1.0)
            var.mul_(3.0)
        (gw,) = T.autograd.grad((gx**2).sum(), w)
        return [gx.detach().numpy(), gw.numpy()]

    for got, expected in zip(grads(change=True), grads(change=False)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
