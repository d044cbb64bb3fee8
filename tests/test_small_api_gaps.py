"""Small API gaps closed against PyTorch 2.13: scatter's reduce='add' / 'multiply' form
(values, dtypes, errors, its gradient-less node, the once-only deprecation warning) and
set_default_tensor_type's once-only warning."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import requires_torch
from ember.ops.api import scatter as scatter_module


@pytest.fixture
def unwarned_scatter_reduce():
    """scatter's tensor-src reduce form as if never used: it warns once per process."""
    saved = scatter_module._warned_tensor_reduce[0]
    scatter_module._warned_tensor_reduce[0] = False
    yield
    scatter_module._warned_tensor_reduce[0] = saved


def _outcome(fn: Any) -> Any:
    """The result as a NumPy array (with its dtype's name), or the error's type."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fn()
    except (RuntimeError, TypeError, IndexError) as e:
        return type(e).__name__
    return r.detach().numpy().copy(), str(r.dtype).split(".")[-1]


def _same(got: Any, expected: Any) -> None:
    if isinstance(expected, str):
        assert got == expected
        return
    assert not isinstance(got, str), got
    assert got[1] == expected[1]
    np.testing.assert_array_equal(got[0], expected[0])


_DTYPES = ["float32", "float64", "int64", "int32", "uint8", "bool", "complex64", "float16"]


@requires_torch
@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    dtype=st.sampled_from(_DTYPES),
    reduce=st.sampled_from(["add", "multiply"]),
    tensor_src=st.booleans(),
    inplace=st.booleans(),
    data=st.data(),
)
def test_scatter_reduce_form_matches_torch(
    shape: list, dtype: str, reduce: str, tensor_src: bool, inplace: bool, data: Any
) -> None:
    import torch

    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    index_shape = [
        data.draw(st.integers(0, n)) if i != d else data.draw(st.integers(0, 5)) for i, n in enumerate(shape)
    ]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    index = rng.integers(0, shape[d], index_shape)
    x = (rng.integers(-3, 4, shape) if dtype != "uint8" else rng.integers(0, 4, shape)).astype(dtype)
    src_shape = [n + data.draw(st.integers(0, 1)) for n in index_shape]
    src = (
        rng.integers(0, 4, src_shape).astype(dtype)
        if tensor_src
        else data.draw(st.sampled_from([2, 1.5, True]))
    )

    def run(T: Any) -> Any:
        a = T.tensor(x)
        s = T.tensor(src) if tensor_src else src
        if inplace:
            return a.scatter_(dim, T.tensor(index), s, reduce=reduce)
        return T.scatter(a, dim, T.tensor(index), s, reduce=reduce)

    _same(_outcome(lambda: run(ember)), _outcome(lambda: run(torch)))


@requires_torch
@pytest.mark.parametrize(
    "expr",
    [
        "T.scatter(T.ones(3, 4), 0, i, s, reduce='add')",
        "T.ones(3, 4).scatter(0, i, s, reduce='multiply')",
        "T.ones(3, 4).scatter(0, i, value=2.0, reduce='multiply')",
        "T.ones(3, 4).scatter_(0, i, value=2.0, reduce='add')",
        "T.ones(3, 4).scatter(-1, i, 3, reduce='add')",
        "(T.ones(3, 4, dtype=T.long) * 3).scatter(0, i, 2.5, reduce='multiply')",
        "T.ones(3, 4, dtype=T.long).scatter(0, i, -2.5, reduce='add')",
        "T.ones(3, 4, dtype=T.bool).scatter(0, i, s > 4, reduce='multiply')",
        "T.zeros(()).scatter(0, T.tensor([0, 0]), T.tensor([3.0, 4.0]), reduce='add')",
        "T.ones(()).scatter(0, T.tensor([0, 0]), 3.0, reduce='multiply')",
        "T.zeros(5).scatter_(0, T.tensor([1, 1, 1]), T.tensor([1.0, 2.0, 3.0]), reduce='add')",
        "T.ones(3, 4).scatter(0, i, s, reduce='sum')",
        "T.ones(3, 4).scatter(0, i, 2.0, reduce='mean')",
        "T.ones(3, 4).scatter(0, i, s, reduce=1)",
        "T.ones(3, 4).scatter(0, i, s.double(), reduce='add')",
        "T.ones(3, 4).scatter(0, i.float(), 2.0, reduce='add')",
        "T.ones(3, 4).scatter(0, i, s[:1, :1], reduce='add')",
        "T.ones(3, 4).scatter(2, i, s, reduce='add')",
        "T.ones(3, 4).scatter(0, T.tensor([[5]]), s, reduce='add')",
        "T.ones(3, 4, dtype=T.int8).scatter(0, i, 200, reduce='add')",
        "T.ones(3, 4).scatter(0, i, 1 + 2j, reduce='add')",
        "T.scatter(T.ones(3, 4), 0, i, s, reduce='add', out=T.empty(3, 4))",
    ],
)
def test_scatter_reduce_cases_as_torch(expr: str) -> None:
    import torch

    def run(T: Any) -> Any:
        i = T.tensor([[0, 1, 2, 0], [1, 1, 0, 0]])
        s = T.arange(1.0, 9.0).reshape(2, 4)
        return _outcome(lambda: eval(expr, {"T": T, "i": i, "s": s}))

    _same(run(ember), run(torch))


@requires_torch
@pytest.mark.parametrize(
    "x_grad, src_grad, value",
    [(True, False, False), (False, True, False), (True, True, False), (True, False, True)],
)
def test_scatter_reduce_form_has_no_derivative(x_grad: bool, src_grad: bool, value: bool) -> None:
    """PyTorch records a NotImplemented node over the inputs that require grad; backward
    through it raises."""
    import torch

    names = {}
    for T in (ember, torch):
        x = T.ones(3, 4, requires_grad=x_grad)
        s = 2.0 if value else T.arange(1.0, 9.0).reshape(2, 4).requires_grad_(src_grad)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = T.scatter(x, 0, T.tensor([[0, 1, 2, 0], [1, 1, 0, 0]]), s, reduce="add")
        fn = y.grad_fn
        names[T] = (fn.name(), len(fn.next_functions), [type(f).__name__ for f, _ in fn.next_functions])
        with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
            y.sum().backward()
        with T.no_grad():
            assert T.scatter(x, 0, T.tensor([[0]]), s, reduce="multiply").grad_fn is None
    assert names[ember] == names[torch]


@requires_torch
def test_scatter_reduce_in_place_under_autograd_as_torch() -> None:
    import torch

    for T in (ember, torch):
        x = T.ones(3, 4, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x.scatter_(0, T.tensor([[0]]), 2.0, reduce="add")
        z = x * 1
        z.scatter_(0, T.tensor([[0, 1]]), 2.0, reduce="multiply")
        assert z.grad_fn.name() == "torch::autograd::NotImplemented"
        assert z.grad_fn.next_functions[0][0].name() == "MulBackward0"
        np.testing.assert_array_equal(z.detach().numpy(), [[2, 1, 1, 1], [1, 2, 1, 1], [1, 1, 1, 1]])


def test_scatter_reduce_tensor_src_warns_once(unwarned_scatter_reduce: None) -> None:
    i = ember.tensor([[0, 1]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.ones(2, 2).scatter(0, i, ember.ones(1, 2), reduce="add")
        ember.ones(2, 2).scatter_(0, i, ember.ones(1, 2), reduce="multiply")
        ember.ones(2, 2).scatter(0, i, 2.0, reduce="add")  # a value never warns
    assert len(caught) == 1
    assert caught[0].category is UserWarning and "deprecated" in str(caught[0].message)
    assert "scatter_reduce" in str(caught[0].message)


@pytest.mark.parametrize("form", ["function", "method", "in place"])
def test_scatter_reduce_warning_names_the_callers_line(unwarned_scatter_reduce: None, form: str) -> None:
    i, src = ember.tensor([[0, 1]]), ember.ones(1, 2)
    call = {
        "function": lambda: ember.scatter(ember.ones(2, 2), 0, i, src, reduce="add"),
        "method": lambda: ember.ones(2, 2).scatter(0, i, src, reduce="add"),
        "in place": lambda: ember.ones(2, 2).scatter_(0, i, src, reduce="add"),
    }[form]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    assert [w.filename for w in caught] == [__file__]


def test_scatter_reduce_value_form_does_not_warn(unwarned_scatter_reduce: None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.ones(2, 2).scatter(0, ember.tensor([[0, 1]]), 2.0, reduce="multiply")


def test_set_default_tensor_type_warns_once(unwarned_default_tensor_type: None) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TypeError, match="only floating-point types"):  # it still counts, as in PyTorch
            ember.set_default_tensor_type(ember.LongTensor)
        ember.set_default_tensor_type(ember.DoubleTensor)
        ember.set_default_tensor_type("torch.FloatTensor")
    assert [str(w.message).split("(")[0] for w in caught] == ["ember.set_default_tensor_type"]
    assert caught[0].category is UserWarning and "deprecated" in str(caught[0].message)
    assert ember.get_default_dtype() == ember.float32
