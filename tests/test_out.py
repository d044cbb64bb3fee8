"""The out= argument of the functions that take it in PyTorch (ember/_out.py), against torch
2.13: the result is written into out and out is returned, with PyTorch's checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import _out


def arrays(seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((3, 4)) * 0.4 + 0.1).astype(np.float32)
    y = (rng.standard_normal((3, 4)) * 0.4 + 0.2).astype(np.float32)
    return x, y


def unit(a):
    return np.clip(a, -0.9, 0.9)


# name -> arguments as NumPy arrays or plain values (each array becomes a tensor of either library)
UNARY = """abs absolute acos acosh asin asinh atan atanh arccos arcsin arctan arcsinh ceil cos cosh deg2rad
digamma erf erfc erfinv exp exp2 expm1 fix floor frac i0 lgamma log log10 log1p log2 logical_not msort
nan_to_num neg negative rad2deg reciprocal round rsqrt sgn sigmoid sign signbit sin sinc sinh sqrt square
tan tanh trunc isneginf isposinf""".split()
BINARY = """add sub subtract mul multiply div divide true_divide atan2 arctan2 copysign eq ne not_equal ge gt
le lt greater greater_equal less less_equal fmax fmin fmod remainder hypot maximum minimum logaddexp
logaddexp2 nextafter xlogy float_power logical_and logical_or logical_xor floor_divide""".split()
POSITIVE = {"acosh": 1.5, "log": 0, "log10": 0, "log2": 0, "sqrt": 0, "rsqrt": 0, "lgamma": 0, "digamma": 0}


def case(name):
    """The arguments of one call of ember.<name> / torch.<name> (NumPy arrays stand for tensors)."""
    x, y = arrays()
    if name in UNARY:
        if name in ("acos", "asin", "atanh", "arccos", "arcsin", "erfinv"):
            return (unit(x),), {}
        if name in POSITIVE:
            return (np.abs(x) + 0.5 + POSITIVE[name],), {}
        return (x,), {}
    if name in BINARY:
        if name == "float_power":
            return (np.abs(x) + 0.5, y), {}
        if name == "xlogy":
            return (x, np.abs(y) + 0.1), {}
        return (x, y), {}
    m = np.eye(3, dtype=np.float32) * 2 + x[:, :3] * 0.1
    table = {
        "sum": ((x, 1), {}),
        "mean": ((x, 0), {"keepdim": True}),
        "prod": ((x, 1), {}),
        "nansum": ((x, 1), {}),
        "nanmean": ((x, 1), {}),
        "amax": ((x, 1), {}),
        "amin": ((x, 0), {}),
        "logsumexp": ((x, 1), {}),
        "std": ((x, 1), {}),
        "var": ((x, 0), {}),
        "norm": ((x,), {"dim": 1}),
        "cumsum": ((x, 1), {}),
        "cumprod": ((x, 0), {}),
        "logcumsumexp": ((x, 1), {}),
        "argmax": ((x, 1), {}),
        "argmin": ((x,), {}),
        "max": ((x, 1), {}),
        "min": ((x, 0), {}),
        "sort": ((x, 1), {}),
        "topk": ((x, 2), {}),
        "kthvalue": ((x, 2, 1), {}),
        "median": ((x, 1), {}),
        "mode": ((np.round(x), 1), {}),
        "cummax": ((x, 1), {}),
        "aminmax": ((x,), {"dim": 0}),
        "frexp": ((x,), {}),
        "matmul": ((x, y.T), {}),
        "mm": ((x, y.T), {}),
        "bmm": ((x[None], y.T[None]), {}),
        "mv": ((x, y[0]), {}),
        "dot": ((x[0], y[0]), {}),
        "outer": ((x[0], y[0]), {}),
        "addmm": ((x[:, :3], x, y.T[:, :3]), {}),
        "cat": (([x, y], 0), {}),
        "stack": (([x, y], 1), {}),
        "hstack": (([x, y],), {}),
        "vstack": (([x, y],), {}),
        "where": ((x > 0, x, y), {}),
        "clamp": ((x,), {"min": -0.1, "max": 0.2}),
        "lerp": ((x, y, 0.3), {}),
        "tril": ((x,), {}),
        "triu": ((x, 1), {}),
        "diag": ((x,), {}),
        "softmax": ((x, 1), {}),
        "log_softmax": ((x, 0), {}),
        "pow": ((np.abs(x) + 0.5, 2.5), {}),
        "gather": ((x, 1, np.array([[0, 1], [2, 3], [1, 1]])), {}),
        "index_select": ((x, 1, np.array([3, 0])), {}),
        "masked_select": ((x, x > 0), {}),
        "take_along_dim": ((x, np.argsort(x, 1), 1), {}),
        "nonzero": ((x > 0,), {}),
        "kron": ((x[:2, :2], y[:2, :2]), {}),
        "inverse": ((m,), {}),
        "matrix_power": ((m, 3), {}),
        "zeros": (((2, 3),), {}),
        "ones": ((2, 3), {}),
        "full": (((2, 2), 1.5), {}),
        "arange": ((0, 5), {}),
        "linspace": ((0, 1, 5), {}),
        "logspace": ((0, 2, 3), {}),
        "eye": ((3,), {}),
    }
    return table[name]


def call(lib, name, args, kwargs, out=None):
    def conv(a):
        if isinstance(a, np.ndarray):
            return lib.tensor(a)
        if isinstance(a, list):
            return [conv(v) for v in a]
        return a

    args = tuple(conv(a) for a in args)
    fn = getattr(lib, name)
    return fn(*args, **kwargs) if out is None else fn(*args, out=out, **kwargs)


def _sample():
    names = []
    for name in _out.TOP_LEVEL:
        try:
            case(name)
        except KeyError:
            continue
        names.append(name)
    return names


def empty_like_result(lib, result):
    if isinstance(result, tuple):
        return tuple(lib.empty(0, dtype=r.dtype) for r in result)
    return lib.empty(0, dtype=result.dtype)


@requires_torch
@pytest.mark.parametrize("name", _sample())
def test_out_matches_torch(name):
    import torch

    args, kwargs = case(name)
    expected = call(torch, name, args, kwargs)
    out_t = empty_like_result(torch, expected)
    got_t = call(torch, name, args, kwargs, out=out_t)
    plain = call(ember, name, args, kwargs)
    out_e = empty_like_result(ember, plain)
    got_e = call(ember, name, args, kwargs, out=out_e)
    if isinstance(got_t, tuple):
        assert isinstance(got_e, tuple) and len(got_e) == len(got_t)
        for o, g, t in zip(out_e, got_e, got_t):
            assert g is o
            assert_close(g, t)
        return
    assert got_e is out_e
    assert out_e.dtype == plain.dtype
    if name not in ("empty",):
        assert_close(out_e, got_t)


def test_every_listed_function_takes_out():
    import ember.linalg
    import ember.special

    for namespace, names in (
        (ember, _out.TOP_LEVEL),
        (ember.linalg, _out.LINALG),
        (ember.special, _out.SPECIAL),
    ):
        for name in names:
            fn = getattr(namespace, name)
            # (under __torch_function__'s dispatching wrapper once a test defined a subclass)
            fn = getattr(fn, "_torch_function_original", fn)
            assert fn is _out._WRAPPED[fn.__wrapped__], name


def test_methods_and_operators_are_not_wrapped():
    assert not hasattr(ember.Tensor.mul, "__wrapped__")
    assert not hasattr(ember.Tensor.__add__, "__wrapped__")
    with pytest.raises(TypeError):
        ember.ones(2).mul(2, out=ember.empty(2))


def test_the_result_goes_into_out_and_out_is_returned():
    a, b = ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0])
    out = ember.empty(2)
    version = out._version_cell[0]
    assert ember.add(a, b, out=out) is out
    assert out.tolist() == [4.0, 6.0]
    assert out._version_cell[0] > version
    c = ember.ones(3)
    assert ember.mul(c, 2, out=c) is c and c.tolist() == [2.0, 2.0, 2.0]  # out may be an input


def test_an_out_view_writes_through_to_its_base():
    base = ember.zeros(2, 3)
    ember.add(ember.ones(3), 1, out=base[1])
    assert base.tolist() == [[0, 0, 0], [2, 2, 2]]
    with pytest.raises(RuntimeError, match="view of another tensor"):
        ember.add(ember.ones(4), 1, out=base[0])


def test_gradients_and_out_do_not_mix_in_grad_mode():
    a = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add\(\): functions with out=\.\.\. arguments don't support"):
        ember.add(a, a, out=ember.empty(3))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ember.add(ember.ones(3), 1, out=ember.empty(3, requires_grad=True))
    with ember.no_grad():
        out = ember.add(a, a, out=ember.empty(3))
    assert out.tolist() == [2, 2, 2] and not out.requires_grad


def test_writing_into_out_invalidates_a_graph_that_saved_it():
    w = ember.ones(3, requires_grad=True)
    x = ember.tensor([1.0, 2.0, 3.0])
    y = (w * x).sum()  # saves x for w's gradient
    ember.mul(ember.ones(3), 5, out=x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_casts_as_pytorch_allows():
    out = ember.empty(2)
    ember.add(ember.tensor([1, 2]), 1, out=out)  # int64 into float32
    assert out.dtype == ember.float32 and out.tolist() == [2.0, 3.0]
    ember.gt(ember.tensor([1.0, -1.0]), 0, out=out)  # bool into float32
    assert out.tolist() == [1.0, 0.0]
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ember.add(ember.ones(2), 1, out=ember.empty(2, dtype=ember.long))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Bool"):
        ember.add(ember.ones(2), 1, out=ember.empty(2, dtype=ember.bool))


def test_resizing_warns_unless_out_was_empty():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ember.add(ember.ones(2, 2), 1, out=ember.empty(0))
    assert out.shape == (2, 2)
    with pytest.warns(UserWarning, match=r"resized since it had shape \[5\].*required output shape \[2\]"):
        out = ember.add(ember.ones(2), 1, out=ember.empty(5))
    assert out.shape == (2,)


def test_several_results_take_a_tuple_or_list():
    x = ember.tensor([[1.0, 5.0], [7.0, 2.0]])
    values, indices = ember.empty(0), ember.empty(0, dtype=ember.long)
    got = ember.max(x, 1, out=[values, indices])
    assert type(got).__name__ == "max_out" and got.values is values and got.indices is indices
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    with pytest.raises(TypeError, match="tuple or list of 2 tensors"):
        ember.max(x, 1, out=ember.empty(0))
    with pytest.raises(TypeError, match="argument 'out' must be Tensor, not list"):
        ember.exp(x, out=[ember.empty(0)])


def test_factories_take_their_dtype_from_out():
    out = ember.empty(0, dtype=ember.long)
    assert ember.zeros(2, 3, out=out).dtype == ember.long
    assert ember.arange(4, out=out.resize_(0)).tolist() == [0, 1, 2, 3]  # emptied: no resize warning
    assert ember.full((2,), 1.5, out=ember.empty(0, dtype=ember.float64)).dtype == ember.float64
    with pytest.raises(RuntimeError, match=r"dtype Float does not match dtype of out parameter \(Long\)"):
        ember.zeros(2, dtype=ember.float32, out=out)


@requires_torch
def test_the_tensors_tutorial_runs():
    """The out= lines of PyTorch's Tensors tutorial (torch.matmul(..., out=), torch.mul(..., out=))."""
    import torch

    for lib in (ember, torch):
        tensor = lib.ones(4, 4)
        tensor[:, 1] = 0
        y3 = lib.rand_like(tensor)
        lib.matmul(tensor, tensor.T, out=y3)
        z3 = lib.rand_like(tensor)
        lib.mul(tensor, tensor, out=z3)
        if lib is ember:
            ours = (y3.numpy().copy(), z3.numpy().copy())
    assert_close(ember.tensor(ours[0]), y3)
    assert_close(ember.tensor(ours[1]), z3)


@requires_torch
@pytest.mark.parametrize(
    "name, args",
    [
        ("linalg.inv", "m"),
        ("linalg.det", "m"),
        ("linalg.qr", "m"),
        ("linalg.vector_norm", "x"),
        ("special.expit", "x"),
        ("special.xlogy", "xy"),
    ],
)
def test_linalg_and_special_take_out(name, args):
    import torch

    x, y = arrays(1)
    m = np.eye(3, dtype=np.float32) * 2 + x[:, :3] * 0.1
    values = {"m": (m,), "x": (x,), "xy": (x, np.abs(y) + 0.1)}[args]
    space, fn = name.split(".")
    expected = getattr(getattr(torch, space), fn)(*map(torch.tensor, values))
    fn_e = getattr(getattr(ember, space), fn)
    if isinstance(expected, tuple):
        out = tuple(ember.empty(0) for _ in expected)
        got = fn_e(*map(ember.tensor, values), out=out)
        for g, o, t in zip(got, out, expected):
            assert g is o
            assert_close(g, t)
    else:
        out = ember.empty(0)
        assert fn_e(*map(ember.tensor, values), out=out) is out
        assert_close(out, expected)


@requires_torch
def test_resize_keeps_elements_in_memory_order():
    import torch

    for shape in [(3, 2), (4,), (0,), (2, 2, 2)]:
        for make in (lambda lib: lib.arange(6.0), lambda lib: lib.arange(6.0).reshape(3, 2).t().contiguous()):
            e, t = make(ember), make(torch)
            e.resize_(shape)
            t.resize_(shape)
            assert e.shape == t.shape
            k = min(6, e.numel())
            assert e.reshape(-1)[:k].tolist() == t.reshape(-1)[:k].tolist()
    e = ember.arange(4.0)
    assert e.resize_(6).tolist() == [0, 1, 2, 3, 0, 0]  # PyTorch leaves the new ones uninitialised
    assert e.resize_as_(ember.ones(2, 3)).shape == (2, 3)
    assert ember.empty(5).resize_(0).shape == (0,)


def test_resize_refuses_gradients_and_invalidates_saved_tensors():
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        ember.ones(3, requires_grad=True).resize_(2)
    w = ember.ones(3, requires_grad=True)
    x = ember.tensor([1.0, 2.0, 3.0])
    y = (w * x).sum()
    x.resize_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_resize_of_a_view_makes_it_a_tensor_of_its_own():
    base = ember.arange(6.0)
    view = base[:4]
    view.resize_(2, 3)
    assert view.tolist() == [[0, 1, 2], [3, 4, 5]]  # the base's memory on from the view's start, as PyTorch
    view.fill_(7)
    assert base.tolist() == [0, 1, 2, 3, 4, 5]


def test_wrapped_functions_pickle_as_themselves():
    """A DataLoader's spawned workers pickle collate_fn=ember.stack and kin."""
    import pickle

    import ember.linalg
    import ember.special

    for fn in (ember.stack, ember.add, ember.arcsin, ember.linalg.inv, ember.special.expit):
        assert pickle.loads(pickle.dumps(fn)) is fn


def test_signatures_show_out():
    import inspect

    import ember.linalg

    assert list(inspect.signature(ember.add).parameters)[-1] == "out"
    assert inspect.signature(ember.linalg.solve).parameters["out"].default is None
