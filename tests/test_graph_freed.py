"""A graph that backward has freed, and the layout of leaf gradients, compared with torch.

A second backward through a graph without retain_graph raises in PyTorch exactly where a
node on the way saved a tensor that the first pass freed; nodes that save nothing (add,
sum, a slice) run again. ember's nodes that keep a value on ctx rather than among their
saved tensors (an index, a mask) must free it too, or the second pass silently adds the
gradient again. Then saved-tensor hooks that copy: backward must read what the unpack hook
gives, not a form of the value kept elsewhere. Last, a contiguous leaf gets a contiguous
gradient, whatever order its op computed it in.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from conftest import outcome, requires_torch
from ember.autograd import gradcheck, gradgradcheck
from test_saved_attributes import OP_TABLE

_G = np.random.default_rng(0)
X = _G.standard_normal((3, 4)).astype(np.float32)
P = _G.uniform(0.1, 0.9, (3, 4)).astype(np.float32)
IMG = _G.standard_normal((1, 2, 5, 5)).astype(np.float32)


def _twice(make, T, retain: bool = False, grad: bool = False) -> tuple:
    """Run `make(T, x)` on a fresh leaf x, backward twice (the first retaining the graph
    when `retain`; autograd.grad when `grad`): ("ok", x's gradient) or ("raise", error)."""
    x = T.tensor(_input(make), requires_grad=True)
    y = make(T, x).sum()  # (a product with weights would save them: its node would raise)

    def second(T):
        if grad:
            return T.autograd.grad(y, x)[0].numpy().copy()
        y.backward()
        return x.grad.numpy().copy()

    if grad:
        T.autograd.grad(y, x, retain_graph=retain)
    else:
        y.backward(retain_graph=retain)
    return outcome(T, second)


def _input(make) -> np.ndarray:
    return IMG if getattr(make, "image", False) else X


def _image(fn):
    fn.image = True
    return fn


# ops whose node saved something: the second pass raises in both
SAVES = {
    "index_select": lambda T, x: x.index_select(1, T.tensor([0, 2, 2])),
    "getitem[list]": lambda T, x: x[[0, 2, 0]],
    "getitem[slice, tensor]": lambda T, x: x[:, T.tensor([1, 3])],
    "getitem[mask]": lambda T, x: x[x > 0],
    "masked_select": lambda T, x: x.masked_select(x > 0),
    "take": lambda T, x: x.take(T.tensor([0, 5, 11])),
    "einsum[constant operand]": lambda T, x: T.einsum("ij,jk->ik", x, T.ones(4, 2)),
    "repeat_interleave[tensor]": lambda T, x: x.repeat_interleave(T.tensor([1, 0, 2]), 0),
    "repeat_interleave[0-d tensor]": lambda T, x: x.repeat_interleave(T.tensor(2), 1),
    "sort": lambda T, x: x.sort(1).values,
    "cummax": lambda T, x: x.cummax(0).values,
    "median[dim]": lambda T, x: x.median(1).values,
    "max[0-d, dim]": lambda T, x: x[0, 0].max(0).values.reshape(1),
    "nansum": lambda T, x: x.nansum(0),
    "nan_to_num": lambda T, x: x.nan_to_num(),
    "sgn": lambda T, x: x.sgn(),
    "avg_pool2d": _image(lambda T, x: T.nn.functional.avg_pool2d(x, 2)),
    "avg_pool1d": _image(lambda T, x: T.nn.functional.avg_pool1d(x[0], 2)),
    "adaptive_avg_pool2d": _image(lambda T, x: T.nn.functional.adaptive_avg_pool2d(x, 3)),
    "pad[reflect]": _image(lambda T, x: T.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect")),
    "pad[replicate]": _image(lambda T, x: T.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate")),
    "pad[circular]": _image(lambda T, x: T.nn.functional.pad(x, (1, 1, 1, 1), mode="circular")),
    "rfft": lambda T, x: T.fft.rfft(x).real,
    "complex": lambda T, x: T.view_as_real(T.complex(x, x * 2)),
    "index_put": lambda T, x: x.index_put((T.tensor([0, 2]),), T.ones(2, 4)),
    "setitem[tensor]": lambda T, x: _set(x * 1, T.tensor([0, 2]), x[:2] * 3),
    "setitem[mask]": lambda T, x: _set(x * 1, x > 0, 5.0),
    "fft[real]": lambda T, x: T.fft.fft(x).real,
    "ifft[real]": lambda T, x: T.fft.ifft(x).imag,
    # PyTorch's CopySlices releases its view function: it raises whatever the op saved
    "setitem[slice]": lambda T, x: _set(x + 0, slice(1, 3), x[:2] + 1),
    "add_[view]": lambda T, x: _inplace_on_view(x + 0),
}


def _inplace_on_view(a):
    a[1:].add_(1)
    return a


def _set(a, index, value):
    a[index] = value
    return a


# ops whose node saved no tensor: the second pass accumulates again in both
SAVES_NOTHING = {
    "add": lambda T, x: x + x,
    "neg": lambda T, x: -x,
    "slice": lambda T, x: x[1:, ::2],
    "select": lambda T, x: x[1],
    "diagonal": lambda T, x: x.diagonal(),
    "unfold": lambda T, x: x.unfold(1, 2, 1),
    "sum": lambda T, x: x.sum(0),
    "interpolate[nearest]": _image(lambda T, x: T.nn.functional.interpolate(x, scale_factor=2)),
    "irfft": lambda T, x: T.fft.irfft(x),
    # a product with a number that torch's node keeps as a Scalar (MulBackward1, ...)
    "deg2rad": lambda T, x: T.deg2rad(x),
    "rad2deg": lambda T, x: x.rad2deg(),
    "lerp": lambda T, x: T.lerp(x, x.detach().flip(0), 0.3),
    "trapezoid": lambda T, x: T.trapezoid(x),
    "trapezoid[dx]": lambda T, x: T.trapezoid(x, dx=2.5, dim=0),
    "cumulative_trapezoid": lambda T, x: T.cumulative_trapezoid(x, dx=2),
    "add[alpha]": lambda T, x: T.add(x, x.flip(0), alpha=2.5),
    "sub[alpha]": lambda T, x: T.sub(x.detach(), x, alpha=-2),
    "rsub[alpha]": lambda T, x: T.rsub(x, 1.0, alpha=3),
    "add_[alpha]": lambda T, x: (x + 0).add_(x.flip(0), alpha=0.5),
    "addmm[beta]": lambda T, x: T.addmm(x, T.ones(3, 2), T.ones(2, 4), beta=2.5),
    "addmv[beta]": lambda T, x: T.addmv(x[0], T.ones(4, 2), T.ones(2), beta=-1),
    "baddbmm[beta]": lambda T, x: T.baddbmm(x, T.ones(1, 3, 2), T.ones(1, 2, 4), beta=0.5),
    "addr[beta]": lambda T, x: T.addr(x, T.ones(3), T.ones(4), beta=3),
    "einsum[one operand]": lambda T, x: T.einsum("ij->j", x),
    "einsum[ii->i]": lambda T, x: T.einsum("ii->i", x[:, :3]),
    "adaptive_avg_pool2d[1]": _image(lambda T, x: T.nn.functional.adaptive_avg_pool2d(x, 1)),
    "adaptive_avg_pool1d[1]": _image(lambda T, x: T.nn.functional.adaptive_avg_pool1d(x[0], 1)),
    "adaptive_avg_pool3d[1]": _image(lambda T, x: T.nn.functional.adaptive_avg_pool3d(x, 1)),
    "copy_": lambda T, x: T.zeros(3, 4).copy_(x + 1),
    "fill_": lambda T, x: (x + 0).fill_(2.0) + x,
    "setitem[...]": lambda T, x: _set(x + 0, ..., x + 1),
    "select_scatter": lambda T, x: T.select_scatter(x, x[0] + 1, 0, 1),
    "slice_scatter": lambda T, x: T.slice_scatter(x, x[:, :2] + 1, 1, 0, 4, 2),
    "diagonal_scatter": lambda T, x: T.diagonal_scatter(x, x[0, :3] + 1, 1),
    "fft2[real]": lambda T, x: T.fft.fft2(x).real,
    "ifftn[real]": lambda T, x: T.fft.ifftn(x).imag,
    "repeat_interleave": lambda T, x: x.repeat_interleave(2, 1),
    "repeat_interleave[flat]": lambda T, x: T.repeat_interleave(x, 3),
}


@requires_torch
@pytest.mark.parametrize("name", list(SAVES) + list(SAVES_NOTHING))
@pytest.mark.parametrize("grad", [False, True], ids=["backward", "autograd.grad"])
def test_second_backward_raises_where_torch_does(name: str, grad: bool) -> None:
    import torch

    make = SAVES.get(name) or SAVES_NOTHING[name]
    e, t = _twice(make, ember, grad=grad), _twice(make, torch, grad=grad)
    assert e[0] == t[0] == ("raise" if name in SAVES else "ok"), (e, t)
    if e[0] == "raise":
        assert "backward through the graph a second time" in str(e[1])
    else:
        np.testing.assert_allclose(e[1], t[1], rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("name", [name for name in SAVES if name != "sgn"])
def test_retain_graph_allows_the_second_backward(name: str) -> None:
    import torch

    e, t = _twice(SAVES[name], ember, retain=True), _twice(SAVES[name], torch, retain=True)
    assert e[0] == t[0] == "ok"
    np.testing.assert_allclose(e[1], t[1], rtol=1e-5, atol=1e-6)


def test_retain_graph_sgn_accumulates_zeros() -> None:
    # torch 2.13 raises "ZeroTensors are immutable" on the second pass (its sgn gradient of a
    # real tensor is a ZeroTensor, stored as .grad and then added to in place): a torch bug,
    # not copied (docs/differences.md)
    kind, grad = _twice(SAVES["sgn"], ember, retain=True)
    assert kind == "ok" and not grad.any()


# 0-d inputs are left out: sort, cummax, median, mode of a 0-d tensor are a clone in ember, a
# node that saved its indices in torch (docs/differences.md)
@requires_torch
@pytest.mark.parametrize("spec", OP_TABLE, ids=lambda s: s.name)
@settings(
    max_examples=1, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_op_table_second_backward_like_torch(spec, data) -> None:
    """Every differentiable op of tests/op_table*.py raises on a second backward exactly
    where torch does, and computes the same gradient where both allow it."""
    import torch

    shapes, kwargs = spec.case(data.draw, max(1, spec.min_side), max(4, spec.min_side))
    if any(len(s) == 0 for s in shapes):
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31), label="seed"))
    arrays = [spec.domain_of(k)(rng, s, k) for k, s in enumerate(shapes)]
    wanted = range(len(arrays)) if spec.grad_inputs is None else spec.grad_inputs
    found = []
    for T in (ember, torch):
        xs = [T.tensor(a.astype(np.float32), requires_grad=k in wanted) for k, a in enumerate(arrays)]
        kw = {k: T.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        out = spec.call(T, *xs, **kw)
        out = out[0] if isinstance(out, (tuple, list)) else out
        if not out.requires_grad:
            return
        y = out.sum()
        y.backward()

        def again(T, y=y, xs=xs):
            y.backward()
            return [None if x.grad is None else x.grad.numpy().copy() for x in xs]

        found.append(outcome(T, again))
    (e_kind, e_value), (t_kind, t_value) = found
    assert e_kind == t_kind, (e_value, t_value)
    if e_kind == "ok":
        for a, b in zip(e_value, t_value):
            if b is not None:
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True)
    else:
        assert "second time" in str(e_value)


@requires_torch
def test_freed_index_keeps_the_attributes_that_describe_it() -> None:
    """After backward, an index node's saved index raises, its dim and sizes stay (torch's)."""
    import torch

    for T in (ember, torch):
        x = T.ones(3, 4, requires_grad=True)
        y = x.index_select(1, T.tensor([0, 2]))
        z = x[:, T.tensor([1, 3])]
        (y.sum() + z.sum()).backward()
        assert y.grad_fn._saved_dim == 1 and tuple(y.grad_fn._saved_self_sym_sizes) == (3, 4)
        assert tuple(z.grad_fn._saved_self_sym_sizes) == (3, 4)
        with pytest.raises(RuntimeError, match="second time"):
            y.grad_fn._saved_index
        with pytest.raises(RuntimeError, match="second time"):
            z.grad_fn._saved_indices


@requires_torch
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_of_a_0d_tensor_shows_its_attributes(keepdim: bool) -> None:
    """max/min(dim) of a 0-d tensor: the node shows its (empty) sizes, dim 0 and the call's
    keepdim, before and after backward, as torch's (it raised AttributeError)."""
    import torch

    for T in (ember, torch):
        for op in (T.max, T.min):
            y = op(T.tensor(2.0, requires_grad=True), 0, keepdim=keepdim).values
            for when in "before", "after backward":
                node = y.grad_fn
                shown = (tuple(node._saved_self_sym_sizes), node._saved_dim, node._saved_keepdim)
                assert shown == ((), 0, keepdim), (T.__name__, when, shown)
                if when == "before":
                    y.backward()


def test_kept_index_nodes_still_differentiate_twice() -> None:
    """The nodes that keep their index (unfold, nearest interpolation) give right first and
    second derivatives."""
    x = ember.tensor(_G.standard_normal((2, 5)), requires_grad=True)
    assert gradcheck(lambda t: t.unfold(1, 2, 2) ** 2, (x,))
    assert gradgradcheck(lambda t: t.unfold(1, 3, 1) ** 2, (x,))
    img = ember.tensor(_G.standard_normal((1, 1, 2, 3)), requires_grad=True)
    assert gradgradcheck(lambda t: ember.nn.functional.interpolate(t, scale_factor=2) ** 2, (img,))


# ---- saved-tensor hooks that copy: backward uses the unpacked value -------------------------------


def _scatter_reduce(reduce: str):
    def run(T, change: bool) -> np.ndarray:
        x = T.tensor(P, requires_grad=True)
        src = T.tensor(P[::-1].copy() * 2, requires_grad=True)
        i = T.tensor([[0, 1, 2, 0], [1, 2, 0, 1], [2, 0, 1, 2]])
        with T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            y = x.scatter_reduce(0, i, src, reduce, include_self=reduce != "mean")
        if change:
            i.copy_(T.tensor([[1, 1, 1, 1]] * 3))
        (y * T.arange(12.0).reshape(3, 4)).sum().backward()
        return np.concatenate([x.grad.numpy().ravel(), src.grad.numpy().ravel()])

    return run


def _bce(which: str):
    def run(T, change: bool) -> np.ndarray:
        F = T.nn.functional
        x = T.tensor(P, requires_grad=True)
        t = T.tensor(P[::-1].copy())
        w, pw = T.tensor(P * 3), T.tensor(P[0] * 2)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            if which == "bce[weight]":
                y = F.binary_cross_entropy(x, t, weight=w)
            elif which == "bce_logits[weight]":
                y = F.binary_cross_entropy_with_logits(x, t, weight=w)
            else:
                y = F.binary_cross_entropy_with_logits(x, t, pos_weight=pw)
        if change:
            with T.no_grad():
                w.mul_(0)
                pw.mul_(0)
        y.backward()
        return x.grad.numpy().ravel()

    return run


def _adaptive_max(nd: int):
    def run(T, change: bool) -> np.ndarray:
        shape = {1: (2, 7), 2: (1, 2, 5, 5), 3: (1, 1, 4, 4, 4)}[nd]
        x = T.tensor(np.random.default_rng(1).standard_normal(shape).astype(np.float32), requires_grad=True)
        pool = getattr(T.nn.functional, f"adaptive_max_pool{nd}d")
        with T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            y, idx = pool(x, 3 if nd < 3 else 2, return_indices=True)
        if change:
            idx.zero_()
        (y * T.arange(float(y.numel())).reshape(y.shape)).sum().backward()
        return x.grad.numpy().ravel()

    return run


COPYING_HOOKS = {
    "scatter_reduce[amax]": _scatter_reduce("amax"),
    "scatter_reduce[prod]": _scatter_reduce("prod"),
    "scatter_reduce[mean]": _scatter_reduce("mean"),
    "bce[weight]": _bce("bce[weight]"),
    "bce_logits[weight]": _bce("bce_logits[weight]"),
    "bce_logits[pos_weight]": _bce("bce_logits[pos_weight]"),
    "adaptive_max_pool1d": _adaptive_max(1),
    "adaptive_max_pool2d": _adaptive_max(2),
    "adaptive_max_pool3d": _adaptive_max(3),
}


@requires_torch
@pytest.mark.parametrize("name", list(COPYING_HOOKS))
def test_copying_pack_hook_keeps_the_forward_gradient(name: str) -> None:
    """Changing the saved value in place after forward does not move the gradient when a
    pack hook copied it (the version check is the hooks' then), and both agree."""
    import torch

    run = COPYING_HOOKS[name]
    for T in (ember, torch):
        np.testing.assert_allclose(run(T, True), run(T, False), rtol=1e-6)
    np.testing.assert_allclose(run(ember, False), run(torch, False), rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("name", ["bce_logits[pos_weight]", "adaptive_max_pool2d"])
def test_unpack_hook_value_is_what_backward_uses(name: str) -> None:
    """An unpack hook that gives another value changes the gradient in both the same way."""
    import torch

    found = []
    for T in (ember, torch):
        x = T.tensor(P, requires_grad=True)

        def unpack(t, T=T):
            return t * 0 if t.dtype == T.int64 else t * 2  # indices all 0, weights doubled

        with T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), unpack):
            if name == "bce_logits[pos_weight]":
                y = T.nn.functional.binary_cross_entropy_with_logits(x, x.detach(), pos_weight=T.ones(4) * 3)
            else:
                y = T.nn.functional.adaptive_max_pool2d(x[None], 2)
        (y * T.arange(float(y.numel())).reshape(y.shape)).sum().backward()
        found.append(x.grad.numpy())
    np.testing.assert_allclose(found[0], found[1], rtol=1e-5, atol=1e-6)


def test_saved_weights_changed_in_place_still_raise() -> None:
    x = ember.tensor(P, requires_grad=True)
    w = ember.tensor(P)
    y = ember.nn.functional.binary_cross_entropy_with_logits(x, x.detach(), pos_weight=w)
    w.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_scatter_reduce_second_derivative() -> None:
    x = ember.tensor(_G.standard_normal((3, 4)), requires_grad=True)
    src = ember.tensor(_G.standard_normal((3, 4)), requires_grad=True)
    i = ember.tensor([[0, 1, 2, 0], [1, 2, 0, 1], [2, 0, 1, 2]])
    for reduce in ("sum", "mean", "amax"):
        assert gradgradcheck(lambda a, b, r=reduce: a.scatter_reduce(0, i, b, r) ** 2, (x, src))


# ---- the layout of a leaf's gradient ------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("alpha", [1, 2.5, -1])
def test_index_add_source_gradient_is_contiguous(dim: int, alpha: float) -> None:
    import torch

    for T in (ember, torch):
        x = T.ones(4, 3, 5, requires_grad=True)
        n = x.shape[dim]
        src = T.ones(*[2 if d == dim % 3 else s for d, s in enumerate(x.shape)], requires_grad=True)
        y = x.index_add(dim, T.tensor([n - 1, 0]), src, alpha=alpha)
        (y * T.arange(float(y.numel())).reshape(y.shape)).sum().backward()
        assert src.grad.is_contiguous() and x.grad.is_contiguous()
        assert src.grad.view(-1).shape == (src.numel(),)
