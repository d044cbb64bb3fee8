"""Gaps against PyTorch 2.13 closed in the nineteenth session: uint8 image resizing in
`interpolate`, `nn.Parameter` of a Tensor subclass, the dtype rules of setitem and its
graph nodes. Each case is compared with torch where torch is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import ember
import ember.nn.functional as F
from conftest import outcome, requires_torch

# ---- (a) interpolate of uint8 images: PyTorch's fixed-point resize, bit for bit -------------


def _image(shape: tuple, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


@requires_torch
@settings(max_examples=80, deadline=None)
@given(
    channels=st.integers(1, 4),
    height=st.integers(1, 24),
    width=st.integers(1, 24),
    mode=st.sampled_from(["bilinear", "bicubic", "bilinear-aa", "bicubic-aa", "lanczos-aa"]),
    align=st.booleans(),
    by_size=st.booleans(),
    sizes=st.tuples(st.integers(1, 40), st.integers(1, 40)),
    factors=st.tuples(st.floats(0.1, 4.0), st.floats(0.1, 4.0)),
    recompute=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_uint8_resize_matches_torch_exactly(
    channels, height, width, mode, align, by_size, sizes, factors, recompute, seed
):
    import torch

    mode, _, aa = mode.partition("-")
    align = None if mode == "lanczos" else align
    if by_size:
        kw = {"size": sizes}
    else:
        assume(math.floor(height * factors[0]) >= 1 and math.floor(width * factors[1]) >= 1)
        kw = {"scale_factor": factors, "recompute_scale_factor": recompute or None}
    x = _image((2, channels, height, width), seed)
    try:
        ref = torch.nn.functional.interpolate(
            torch.from_numpy(x), mode=mode, antialias=bool(aa), align_corners=align, **kw
        )
    except RuntimeError:  # PyTorch's AVX kernel fails an internal assert on a few 1-pixel outputs
        assume(False)
    out = F.interpolate(ember.tensor(x), mode=mode, antialias=bool(aa), align_corners=align, **kw)
    assert out.dtype == ember.uint8 and out.shape == tuple(ref.shape)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


@requires_torch
def test_uint8_resize_large_images_and_upsample_module():
    import torch

    x = _image((1, 3, 61, 47))
    for kw in (
        {"size": (224, 200), "mode": "bicubic"},
        {"size": (13, 9), "mode": "bilinear", "antialias": True},
        {"size": (20, 31), "mode": "bicubic", "antialias": True, "align_corners": True},
        {"scale_factor": 0.37, "mode": "lanczos", "antialias": True},
    ):
        ref = torch.nn.functional.interpolate(torch.from_numpy(x), **kw)
        np.testing.assert_array_equal(F.interpolate(ember.tensor(x), **kw).numpy(), ref.numpy())
    up = ember.nn.Upsample(scale_factor=2.5, mode="bilinear", align_corners=True)(ember.tensor(x))
    ref = torch.nn.Upsample(scale_factor=2.5, mode="bilinear", align_corners=True)(torch.from_numpy(x))
    np.testing.assert_array_equal(up.numpy(), ref.numpy())
    # saturated contrasts push the cubic's overshoot past 0..255: clamped, as PyTorch
    edges = (np.indices((1, 1, 9, 9)).sum(0) % 2 * 255).astype(np.uint8)
    ref = torch.nn.functional.interpolate(torch.from_numpy(edges), size=(20, 17), mode="bicubic")
    np.testing.assert_array_equal(
        F.interpolate(ember.tensor(edges), size=(20, 17), mode="bicubic").numpy(), ref.numpy()
    )


@requires_torch
def test_uint8_resize_to_width_one_resizes_every_row():
    # PyTorch's generic kernel (five channels or more, or a CPU without AVX2) gives every
    # row the first row's value when the output is one pixel wide; its AVX2 kernel (up to
    # four channels) resizes each row, and ember does so whatever the channel count
    import torch

    x = _image((1, 6, 7, 5))
    out = F.interpolate(ember.tensor(x), size=(11, 1), mode="bilinear", antialias=True).numpy()
    for half in (slice(0, 3), slice(3, 6)):
        ref = torch.nn.functional.interpolate(
            torch.from_numpy(x[:, half]), size=(11, 1), mode="bilinear", antialias=True
        )
        np.testing.assert_array_equal(out[:, half], ref.numpy())


def test_uint8_resize_refusals_as_torch():
    x = ember.tensor(_image((1, 2, 4, 4)))
    with pytest.raises(NotImplementedError):  # 1-d linear and 3-d trilinear take floats only
        F.interpolate(x[0], scale_factor=2, mode="linear")
    with pytest.raises(NotImplementedError):
        F.interpolate(x[None], scale_factor=2, mode="trilinear")
    with pytest.raises(NotImplementedError):  # area is an adaptive average pooling: floats only
        F.interpolate(x, scale_factor=2, mode="area")
    with pytest.raises(NotImplementedError):  # other integer dtypes stay refused
        F.interpolate(x.to(ember.int16), scale_factor=2, mode="bilinear")
    assert F.interpolate(x, size=(4, 4), mode="bicubic").numpy().tolist() == x.numpy().tolist()


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
def test_resize_to_the_same_size_returns_a_new_tensor(T, dtype, mode):
    # PyTorch's interpolate never returns its input: writing into the result left the
    # input changed (ember returned the input itself, or a uint8 image on its memory)
    x = T.ones(1, 2, 4, 4, dtype=getattr(T, dtype))
    for kw in ({"size": (4, 4)}, {"scale_factor": 1.1}):
        y = T.nn.functional.interpolate(x, mode=mode, **kw)
        y[0, 0, 0, 0] = 9
        assert y is not x and x[0, 0, 0, 0].item() == 1
    w = T.ones(1, 1, 3, 3, requires_grad=True)
    z = T.nn.functional.interpolate(w, size=(3, 3), mode="bilinear")
    z.mul_(2)  # not w itself, a leaf: in-place is allowed
    z.sum().backward()
    assert w.grad.tolist() == [[[[2.0] * 3] * 3]]


# ---- (b) nn.Parameter of a Tensor subclass keeps the subclass --------------------------------


def _subclass_parameter(T):
    class Scaled(T.Tensor):
        pass

    t = T.ones(2).as_subclass(Scaled)
    return Scaled, t, T.nn.Parameter(t)


def test_parameter_of_a_subclass_is_that_subclass(T):
    Scaled, t, p = _subclass_parameter(T)
    assert type(p) is Scaled and p is not t
    assert isinstance(p, T.nn.Parameter) and p._is_param and p.requires_grad and p.is_leaf
    assert not isinstance(t, T.nn.Parameter) and not t.requires_grad
    assert not isinstance(T.ones(1), T.nn.Parameter) and not isinstance(3, T.nn.Parameter)
    assert repr(p) == "Parameter(Scaled([1., 1.], requires_grad=True))"
    assert repr(t) == "Scaled([1., 1.])"
    frozen = T.nn.Parameter(t, requires_grad=False)
    assert type(frozen) is Scaled and not frozen.requires_grad and isinstance(frozen, T.nn.Parameter)
    p.data.mul_(3)  # the same memory as t
    assert t.tolist() == [3.0, 3.0]
    # a module registers it, and trains it
    m = T.nn.Module()
    m.w = p
    assert list(dict(m.named_parameters())) == ["w"] and m.w is p
    assert list(m.state_dict()) == ["w"]
    opt = T.optim.SGD(m.parameters(), lr=0.5)
    (m.w * 2).sum().backward()
    opt.step()
    assert m.w.tolist() == [2.0, 2.0] and type(m.w) is Scaled
    # plain Parameters and Parameter subclasses are unchanged
    assert type(T.nn.Parameter(T.ones(1))) is T.nn.Parameter
    assert type(T.nn.Parameter(T.nn.Parameter(T.ones(1)))) is T.nn.Parameter

    class Mine(T.nn.Parameter):
        pass

    assert repr(Mine(T.ones(2))) == "Parameter containing:\nParameter(Mine([1., 1.], requires_grad=True))"


def test_parameter_of_a_subclass_deepcopies():
    # PyTorch's default __deepcopy__ refuses a subclass without new_empty; ember copies it,
    # flag included, so that copy.deepcopy(model) works
    import copy

    Scaled, _, p = _subclass_parameter(ember)
    m = ember.nn.Module()
    m.w = p
    m2 = copy.deepcopy(m)
    assert type(m2.w) is Scaled and isinstance(m2.w, ember.nn.Parameter) and m2.w is not p
    assert list(dict(m2.named_parameters())) == ["w"] and m2.w.requires_grad


class _Tagged(ember.Tensor):  # module level: pickle finds the class by its name
    pass


def test_parameter_of_a_subclass_pickles():
    # the class, the parameter flag and other attributes survive pickle (PyTorch's too);
    # it pickled as a plain Tensor, so isinstance(_, Parameter) became false
    import pickle

    p = ember.nn.Parameter(ember.ones(2).as_subclass(_Tagged))
    p.note = "kept"
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is _Tagged and isinstance(q, ember.nn.Parameter) and q.requires_grad
    assert q.note == "kept" and q.tolist() == [1.0, 1.0]
    m = ember.nn.Module()
    m.w = p
    m2 = pickle.loads(pickle.dumps(m))
    assert type(m2.w) is _Tagged and list(dict(m2.named_parameters())) == ["w"]
    plain = pickle.loads(pickle.dumps(ember.ones(2, requires_grad=True)))
    assert type(plain) is ember.Tensor and plain.requires_grad


# ---- (c) setitem's dtype rules: PyTorch's index_put requires equal dtypes ---------------------

_DTYPES = ["float32", "float64", "int64", "int32", "bool", "uint8", "float16", "complex64"]
_VALUES = {
    "tensor": lambda T, d: T.tensor([1, 2], dtype=getattr(T, d)),
    "0-d": lambda T, d: T.tensor(1, dtype=getattr(T, d)),
    "1-element": lambda T, d: T.tensor([[3]], dtype=getattr(T, d)),
}
_FORMS = {
    "slice": lambda T, a, v: a.__setitem__(slice(0, 2), v),
    "integer": lambda T, a, v: a.__setitem__(1, v if v.ndim == 0 else v.reshape(-1)[0]),
    "ellipsis": lambda T, a, v: a.__setitem__(Ellipsis, v if v.numel() == 1 else T.cat([v, v])),
    "index tensor": lambda T, a, v: a.__setitem__(T.tensor([0, 1]), v),
    "index list": lambda T, a, v: a.__setitem__([0, 1], v),
    "bool mask": lambda T, a, v: a.__setitem__(T.tensor([True, True, False, False]), v),
    "mask and slice": lambda T, a, v: a.view(2, 2).__setitem__((T.tensor([True, False]), slice(None)), v),
    "index_put_": lambda T, a, v: a.index_put_((T.tensor([0, 1]),), v),
    "index_put_ mask": lambda T, a, v: a.index_put_((T.tensor([True, True, False, False]),), v),
    "put_": lambda T, a, v: a.put_(T.tensor([0, 1]), v.reshape(-1)),
    "masked_scatter_": lambda T, a, v: a.masked_scatter_(T.tensor([True, True, False, False]), v.reshape(-1)),
}


@requires_torch
@pytest.mark.parametrize("form", list(_FORMS))
def test_setitem_dtype_mismatch_raises_or_casts_as_torch(form):
    import warnings

    import torch

    def run(T, dst, src, kind):
        a = T.zeros(4, dtype=getattr(T, dst))
        _FORMS[form](T, a, _VALUES[kind](T, src))
        return a.tolist()

    for dst in _DTYPES:
        for src in _DTYPES:
            for kind in _VALUES:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # complex to real casts warn in both
                    e, t = (
                        outcome(ember, lambda T, d=dst, s=src, k=kind: run(T, d, s, k)),
                        outcome(torch, lambda T, d=dst, s=src, k=kind: run(T, d, s, k)),
                    )
                assert e[0] == t[0], (form, dst, src, kind, e, t)
                if e[0] == "ok":
                    assert e[1] == t[1], (form, dst, src, kind)
                else:
                    assert type(e[1]) is type(t[1]) or isinstance(e[1], type(t[1])), (
                        form,
                        dst,
                        src,
                        kind,
                        e,
                        t,
                    )


@requires_torch
def test_setitem_values_torch_refuses(T):
    a = T.zeros(2, 3)
    for value in ([1.0, 2.0, 3.0], (1.0, 2.0, 3.0), np.ones(3), np.float32(2.0), np.bool_(True), None, "1"):
        for index in (0, slice(None), T.tensor([0]), T.tensor([True, False])):
            with pytest.raises(TypeError, match="can't assign a"):
                a[index] = value
    for value in (np.float64(2.0), np.int64(3), 2, 2.5, True):  # Python numbers and NumPy integers pass
        a[T.tensor([1])] = value
        a[0] = value
    assert a[1].tolist() == [1.0, 1.0, 1.0]
    m = T.tensor([True, False])
    for call in (
        lambda: a.masked_fill_(m[:, None], [1.0]),
        lambda: a.masked_fill(m[:, None], (1,)),
        lambda: a.index_fill_(0, T.tensor([0]), None),
    ):
        with pytest.raises(TypeError):
            call()
    with pytest.raises(RuntimeError, match="complex"):
        a.index_fill_(0, T.tensor([0]), 1 + 2j)


@requires_torch
def test_setitem_dtype_error_and_gradients():
    a = ember.zeros(4)
    with pytest.raises(
        RuntimeError,
        match="Index put requires the source and destination dtypes match, got Float for the destination and Double",
    ):
        a[ember.tensor([0, 1])] = ember.tensor([1.0, 2.0], dtype=ember.float64)
    with pytest.raises(RuntimeError, match="Index put requires"):
        a[ember.tensor([0, 1])] = ember.ones(2, dtype=ember.float64, requires_grad=True)
    # one value under one mask is a masked_fill: cast, and its gradient reaches the value
    v = ember.tensor(2.0, dtype=ember.float64, requires_grad=True)
    x = ember.zeros(2, 2, requires_grad=True).clone()
    x[ember.tensor([[True, False], [False, True]])] = v
    (x * ember.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert x.dtype == ember.float32 and v.grad.dtype == ember.float64 and v.grad.item() == 5.0


# ---- (d) the nodes setitem records, named and linked as PyTorch's -----------------------------


def _node(fn):
    """grad_fn's name and its next functions' names (CopySlices without torch's prefix: ember
    names it `CopySlices`, see docs/differences.md)."""
    if fn is None:
        return None
    name = fn.name().replace("torch::autograd::CopySlices", "CopySlices")
    return name, [
        None if n is None else n.name().replace("torch::autograd::CopySlices", "CopySlices")
        for n, _ in fn.next_functions
    ]


_SETITEMS = {
    "[...]": (lambda T: Ellipsis, (4, 3)),
    "[:]": (lambda T: slice(None), (4, 3)),
    "[0:9]": (lambda T: slice(0, 9), (4, 3)),
    "[:, :]": (lambda T: (slice(None), slice(None)), (4, 3)),
    "[0]": (lambda T: 0, (3,)),
    "[1:3]": (lambda T: slice(1, 3), (2, 3)),
    "[..., 0]": (lambda T: (Ellipsis, 0), (4,)),
    "[None]": (lambda T: None, (4, 3)),
    "[mask]": (lambda T: T.tensor([True, False, True, False]), (2, 3)),
    "[idx]": (lambda T: T.tensor([0, 2]), (2, 3)),
}


@requires_torch
@pytest.mark.parametrize("form", list(_SETITEMS))
def test_setitem_nodes_match_torch(form):
    import torch

    def nodes(T):
        index, shape = _SETITEMS[form]
        seen = []
        for kind in ("number", "tensor", "grad tensor", "grad 0-d", "grad broadcast", "grad float64"):
            for base_grad in (False, True):
                if kind in ("number", "tensor") and not base_grad:
                    continue
                a = T.zeros(4, 3, requires_grad=True).clone() if base_grad else T.zeros(4, 3)
                value = {
                    "number": lambda: 2.0,
                    "tensor": lambda: T.ones(shape),
                    "grad tensor": lambda: T.ones(shape, requires_grad=True),
                    "grad 0-d": lambda: T.tensor(2.0, requires_grad=True),
                    "grad broadcast": lambda: T.ones((1,) + shape[-1:], requires_grad=True),
                    "grad float64": lambda: T.ones(shape, dtype=T.float64, requires_grad=True),
                }[kind]()
                if kind == "grad float64" and form in ("[mask]", "[idx]"):
                    continue  # an index_put of another dtype raises (tested above)
                a[index(T)] = value
                seen.append((kind, base_grad, _node(a.grad_fn)))
        return seen

    assert nodes(ember) == nodes(torch)


def test_whole_setitem_gradients():
    # x[...] = v and x[:] = v record copy_ (or fill_): x's gradient is 0, v's the sum over
    # its copies, cast to its dtype; double backward through them too
    from ember.autograd import gradcheck, gradgradcheck

    def whole(index, shape):
        def f(x, v):
            y = x * 1.0
            y[index] = v
            return y * y

        x = ember.rand(3, 4, dtype=ember.float64, requires_grad=True)
        v = ember.rand(*shape, dtype=ember.float64, requires_grad=True)
        assert gradcheck(f, (x, v)) and gradgradcheck(f, (x, v))

    for index in (Ellipsis, slice(None), slice(0, 5)):
        for shape in ((3, 4), (4,), (1, 4), ()):
            whole(index, shape)
    x = ember.zeros(2, 3, requires_grad=True).clone()
    v = ember.ones(3, dtype=ember.float64, requires_grad=True)
    x[...] = v
    (x * ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    assert v.grad.dtype == ember.float64 and v.grad.tolist() == [5.0, 7.0, 9.0]
    y = ember.zeros(3, requires_grad=True).clone()
    y.fill_(2.0)
    assert y.grad_fn.name() == "FillBackward2" and len(y.grad_fn.next_functions) == 1


# ---- (e) values with leading size-1 dims: PyTorch's graph, and no extra nodes -----------------


@requires_torch
def test_setitem_leading_ones_values_as_torch(T):
    def graph(fn):
        out = []
        while fn is not None and fn.next_functions:
            out.append(fn.name().replace("torch::autograd::", ""))
            nxt = [n for n, _ in fn.next_functions if n is not None]
            fn = nxt[-1] if nxt else None
        return out

    v = T.ones(1, 1, 2, requires_grad=True)
    a = T.zeros(4, 2, requires_grad=True).clone()
    a[1:3] = v  # viewed without the leading ones, then expanded: one View, one Expand
    assert graph(a.grad_fn) == ["CopySlices", "ExpandBackward0", "ViewBackward0"]
    (a * T.arange(8.0).reshape(4, 2)).sum().backward()
    assert v.grad.tolist() == [[[6.0, 8.0]]]
    for shape in ((2,), (4, 1)):  # x[...] = v, x[:] = v: a View even without leading ones
        for index in (Ellipsis, slice(None)):
            w = T.ones(*shape, requires_grad=True)
            b = T.zeros(4, 2, requires_grad=True).clone()
            b[index] = w
            assert graph(b.grad_fn) == ["CopyBackwards", "ExpandBackward0", "ViewBackward0"]
            b[:, :][index] = w  # into a view: the base's CopySlices over the same two
            assert graph(b.grad_fn) == ["CopySlices", "ExpandBackward0", "ViewBackward0"]
    # a value without grad, and the unrecorded path, take the same shapes
    b = T.zeros(3, requires_grad=True).clone()
    b[...] = T.ones(1, 1, 3)
    b[:] = T.full((1, 3), 2.0)
    assert b.tolist() == [2.0, 2.0, 2.0] and b.grad_fn.name().endswith("CopyBackwards")
    c = T.zeros(4, 2)
    c[1:3] = T.ones(1, 1, 2)
    c[[0, 3]] = T.full((1, 1, 2), 3.0)
    assert c.tolist() == [[3.0, 3.0], [1.0, 1.0], [1.0, 1.0], [3.0, 3.0]]
    with pytest.raises(RuntimeError):
        c[1:3] = T.ones(2, 1, 2)  # a size-2 leading dim is not dropped
    with pytest.raises(RuntimeError):
        c[0] = T.ones(3)


@requires_torch
def test_whole_setitem_of_a_view_with_leading_ones(T):
    # y[...] = v with y a view and v (1, 1, 3, 4) requiring grad: v is viewed without its
    # leading ones before the base's CopySlices, and its gradient has v's own shape
    x = T.zeros(3, 4, requires_grad=True) * 1
    v = T.ones(1, 1, 3, 4, requires_grad=True)
    y = x[:, :]
    y[...] = v
    (x * T.arange(12.0).reshape(3, 4)).sum().backward()
    assert x.grad_fn.name().endswith("CopySlices")
    assert v.grad.shape == (1, 1, 3, 4) and v.grad.reshape(-1).tolist() == list(range(12))
    # into x itself a one-element value stays copy_'s record (not fill_'s: it is not 0-d)
    x = T.zeros(3, 4, requires_grad=True) * 1
    x[...] = T.ones(1, requires_grad=True)
    assert x.grad_fn.name().endswith("CopyBackwards")
