"""ember.testing against torch.testing: assert_close passes and fails on the same inputs
with the same exception type and message (element counts, greatest differences and their
indices, the item of a container), make_tensor's ranges, dtypes and errors, and the
deprecated assert_allclose."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import requires_torch

NAN, INF = float("nan"), float("inf")

# each case runs with T = torch and T = ember; T.testing.assert_close must behave the same
CASES = {
    "close": lambda T: T.testing.assert_close(T.tensor([1.0, 2.0]), T.tensor([1.0, 2.000001])),
    "float32": lambda T: T.testing.assert_close(T.tensor([1.0, 2.0, 3.0]), T.tensor([1.0, 2.5, 3.1])),
    "2d_index": lambda T: T.testing.assert_close(
        T.tensor([[1.0, 2.0], [3.0, 4.0]]), T.tensor([[1.0, 2.0], [3.0, 4.5]])
    ),
    "float64": lambda T: T.testing.assert_close(
        T.tensor([1.0, 2.0], dtype=T.float64), T.tensor([1.0, 2.0 + 1e-6], dtype=T.float64)
    ),
    "float16": lambda T: T.testing.assert_close(
        T.tensor([1.0, 2.0], dtype=T.float16), T.tensor([1.0, 2.01], dtype=T.float16)
    ),
    "int_equal": lambda T: T.testing.assert_close(T.tensor([1, 2, 3]), T.tensor([1, 2, 4])),
    "uint8_no_wrap": lambda T: T.testing.assert_close(
        T.tensor([1, 2], dtype=T.uint8), T.tensor([3, 0], dtype=T.uint8)
    ),
    "int8_no_wrap": lambda T: T.testing.assert_close(
        T.tensor([1, 2], dtype=T.int8), T.tensor([-128, 0], dtype=T.int8)
    ),
    "bool": lambda T: T.testing.assert_close(T.tensor([True]), T.tensor([False])),
    "bool_same": lambda T: T.testing.assert_close(T.tensor([True, False]), T.tensor([True, False])),
    "int_with_tolerance": lambda T: T.testing.assert_close(
        T.tensor([[1, 5]]), T.tensor([[1, 2]]), rtol=0.1, atol=1
    ),
    "dtype": lambda T: T.testing.assert_close(T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0], dtype=T.float64)),
    "shape": lambda T: T.testing.assert_close(T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0, 3.0])),
    "no_check_dtype": lambda T: T.testing.assert_close(
        T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0000001], dtype=T.float64), check_dtype=False
    ),
    "no_check_dtype_int": lambda T: T.testing.assert_close(
        T.tensor([1.0, 2.5]), T.tensor([1, 2]), check_dtype=False
    ),
    "stride": lambda T: T.testing.assert_close(T.zeros(2, 2).t(), T.zeros(2, 2), check_stride=True),
    "scalar_tensor": lambda T: T.testing.assert_close(T.tensor(1.0), T.tensor(2.0)),
    "scalar_int_tensor": lambda T: T.testing.assert_close(T.tensor(3), T.tensor(4)),
    "scalar_rel_inf": lambda T: T.testing.assert_close(T.tensor(3.0), T.tensor(0.0)),
    "nan": lambda T: T.testing.assert_close(T.tensor([0.0, 1.0, NAN]), T.tensor([0.0, 1.0, 1.0])),
    "nan_nan": lambda T: T.testing.assert_close(T.tensor([NAN]), T.tensor([NAN])),
    "equal_nan": lambda T: T.testing.assert_close(T.tensor([NAN]), T.tensor([NAN]), equal_nan=True),
    "inf": lambda T: T.testing.assert_close(T.tensor([INF]), T.tensor([INF])),
    "inf_signs": lambda T: T.testing.assert_close(T.tensor([INF]), T.tensor([-INF])),
    "rel_zero_expected": lambda T: T.testing.assert_close(T.tensor([0.0, 2.0]), T.tensor([1e-3, 0.0])),
    "matched_not_counted": lambda T: T.testing.assert_close(
        T.tensor([1000.0, 0]), T.tensor([1000.001, 1e-4])
    ),
    "matched_rel": lambda T: T.testing.assert_close(T.tensor([0.0, 3.0]), T.tensor([0.0, -1.0])),
    "exact": lambda T: T.testing.assert_close(T.tensor([1.0, 2.0]), T.tensor([1.0, 2.1]), rtol=0, atol=0),
    "given_tolerances": lambda T: T.testing.assert_close(
        T.tensor([1.0, 2.0]), T.tensor([1.0, 2.5]), rtol=0.1, atol=0.1
    ),
    "atol_only_zero_rtol": lambda T: T.testing.assert_close(
        T.tensor([1.0, 2.0]), T.tensor([1.0, 2.5]), rtol=0, atol=1e-3
    ),
    "rtol_without_atol": lambda T: T.testing.assert_close(T.tensor([1.0]), T.tensor([1.0]), rtol=1e-3),
    "atol_without_rtol": lambda T: T.testing.assert_close(T.tensor([1.0]), T.tensor([1.0]), atol=1e-3),
    "msg": lambda T: T.testing.assert_close(T.tensor([1.0, 2.0]), T.tensor([1.0, 2.1]), msg="custom"),
    "msg_callable": lambda T: T.testing.assert_close(
        T.tensor([1.0, 2.0]), T.tensor([1.0, 2.1]), msg=lambda m: "X" + m
    ),
    "requires_grad": lambda T: T.testing.assert_close(
        T.tensor([1.0, 2.0], requires_grad=True), T.tensor([1.0, 2.1])
    ),
    "empty": lambda T: T.testing.assert_close(T.tensor([], dtype=T.float32), T.tensor([])),
    "float": lambda T: T.testing.assert_close(1.0, 1.1),
    "int": lambda T: T.testing.assert_close(1, 2),
    "int_float": lambda T: T.testing.assert_close(1, 1.0),
    "int_float_no_dtype": lambda T: T.testing.assert_close(1, 1.0, check_dtype=False),
    "int_float_differ": lambda T: T.testing.assert_close(1, 1.5, check_dtype=False),
    "bools": lambda T: T.testing.assert_close(True, False),
    "numpy_scalar": lambda T: T.testing.assert_close(np.float32(1.0), np.float32(1.1)),
    "float_nan": lambda T: T.testing.assert_close(NAN, NAN),
    "float_equal_nan": lambda T: T.testing.assert_close(NAN, NAN, equal_nan=True),
    "float_msg": lambda T: T.testing.assert_close(1.0, 1.1, msg="hi"),
    "none": lambda T: T.testing.assert_close(None, None),
    "none_mismatch": lambda T: T.testing.assert_close(None, 1),
    "list": lambda T: T.testing.assert_close([1.0, 2.0], [1.0, 2.1]),
    "list_length": lambda T: T.testing.assert_close([1.0, 2.0], [1.0, 2.0, 3]),
    "tuple_list": lambda T: T.testing.assert_close((T.tensor([1.0]),), [T.tensor([1.0])]),
    "dict": lambda T: T.testing.assert_close({"a": T.tensor(1.0)}, {"a": T.tensor(2.0)}),
    "dict_keys": lambda T: T.testing.assert_close({"a": T.tensor(1.0)}, {"b": T.tensor(2.0)}),
    "nested": lambda T: T.testing.assert_close([[1.0, 2.0], {"a": 3.0}], [[1.0, 2.0], {"a": 3.5}]),
    "numpy_arrays": lambda T: T.testing.assert_close(np.array([1.0]), np.array([1.1])),
    "numpy_0d": lambda T: T.testing.assert_close(np.array(1.0), np.array(1.1)),
    "tensor_number": lambda T: T.testing.assert_close(T.tensor(1.5), 1.5),
    "tensor_list": lambda T: T.testing.assert_close(T.tensor([1.0]), [1.0]),
    "strings": lambda T: T.testing.assert_close("a", "a"),
    "subclass": lambda T: T.testing.assert_close(T.nn.Parameter(T.tensor([1.0, 2.0])), T.tensor([1.0, 2.0])),
    "no_subclass": lambda T: T.testing.assert_close(
        T.nn.Parameter(T.tensor([1.0, 2.0])), T.tensor([1.0, 2.0]), allow_subclasses=False
    ),
}


def _outcome(T: Any, case: Any) -> str:
    try:
        case(T)
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return "passed"


@requires_torch
@pytest.mark.parametrize("name", list(CASES))
def test_assert_close_as_torch(name: str) -> None:
    import torch

    expected = _outcome(torch, CASES[name]).replace("torch.", "ember.")
    expected = expected.replace("'ember.Tensor'", "'ember._tensor.Tensor'")
    assert _outcome(ember, CASES[name]) == expected


def test_assert_close_message_fragments() -> None:
    with pytest.raises(AssertionError) as info:
        ember.testing.assert_close(ember.tensor([1.0, 2.0, 3.0]), ember.tensor([1.0, 2.5, 3.1]))
    message = str(info.value)
    assert "Mismatched elements: 2 / 3 (66.7%)" in message
    assert "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)" in message
    with pytest.raises(TypeError, match="No comparison pair"):
        ember.testing.assert_close(ember.tensor([1.0]), np.array([1.0], np.float32))


def test_make_tensor_ranges_and_dtypes() -> None:
    mt = ember.testing.make_tensor
    for dtype, low, high in [
        (ember.float32, -9, 9),
        (ember.float64, -9, 9),
        (ember.float16, -9, 9),
        (ember.int64, -9, 9),
        (ember.int8, -9, 9),
        (ember.uint8, 0, 9),
    ]:
        x = mt(4000, dtype=dtype, device="cpu")
        assert x.dtype == dtype and x.shape == (4000,)
        assert low <= x.min().item() <= low + 1 and high - 1 <= x.max().item() <= high
    b = mt(100, dtype=ember.bool, device="cpu")
    assert b.dtype == ember.bool and set(b.tolist()) == {True, False}
    assert set(mt(2000, dtype=ember.int64, device="cpu", low=2.5, high=4.5).tolist()) == {3, 4}
    u = mt(2000, dtype=ember.uint8, device="cpu", low=-5, high=300)  # clamped to the dtype's range
    assert u.min().item() == 0 and u.max().item() == 255
    f = mt(2000, dtype=ember.float32, device="cpu", low=-1e40, high=1e40)
    assert bool(ember.isfinite(f).all()) and f.abs().max().item() > 1e38
    big = mt(100, dtype=ember.int64, device="cpu", low=-(2**63))
    assert big.min().item() < -(2**62)
    x = mt(2, 3, dtype=ember.float32, device="cpu", low=0.5, high=1.0)
    assert x.shape == (2, 3) and 0.5 <= x.min().item() and x.max().item() <= 1.0
    assert mt((2, 3), dtype=ember.float32, device="cpu").shape == (2, 3)
    assert mt([2, 3], dtype=ember.float32, device="cpu").shape == (2, 3)
    assert mt((), dtype=ember.float32, device="cpu").shape == ()


def test_make_tensor_options() -> None:
    mt = ember.testing.make_tensor
    x = mt(3, dtype=ember.float32, device="cpu", requires_grad=True)
    assert x.requires_grad and x.is_leaf
    n = mt(3, 4, dtype=ember.int64, device="cpu", noncontiguous=True)
    assert not n.is_contiguous() and n.stride() == (8, 2) and n.shape == (3, 4)
    assert mt(1, dtype=ember.int64, device="cpu", noncontiguous=True).is_contiguous()
    z = mt(2000, dtype=ember.int64, device="cpu", low=-1, high=2, exclude_zero=True)
    assert set(z.tolist()) == {-1, 1}
    with pytest.warns(FutureWarning):
        t = mt(3, dtype=ember.float32, device="cpu", low=0, high=0, exclude_zero=True)
    assert t.tolist() == [ember.finfo(ember.float32).tiny] * 3
    assert mt(3, dtype=ember.int64, device="cpu", low=2, high=3).tolist() == [2, 2, 2]


@requires_torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {"dtype": "float32", "low": 3, "high": 2},
        {"dtype": "float32", "low": NAN},
        {"dtype": "int64", "low": 2, "high": 2},
        {"dtype": "int64", "requires_grad": True},
        {"dtype": "bool", "low": 5, "high": 7},
    ],
)
def test_make_tensor_errors_as_torch(kwargs: dict) -> None:
    import torch

    kwargs = dict(kwargs)
    name = kwargs.pop("dtype")
    with pytest.raises(ValueError) as t_info:
        torch.testing.make_tensor(3, dtype=getattr(torch, name), device="cpu", **kwargs)
    with pytest.raises(ValueError) as e_info:
        ember.testing.make_tensor(3, dtype=getattr(ember, name), device="cpu", **kwargs)
    assert str(e_info.value) == str(t_info.value).replace("torch.", "ember.")


def test_make_tensor_needs_dtype_device_and_the_cpu() -> None:
    with pytest.raises(TypeError, match="device"):
        ember.testing.make_tensor(3, dtype=ember.float32)
    with pytest.raises(RuntimeError, match="CPU only"):
        ember.testing.make_tensor(3, dtype=ember.float32, device="cuda")


@requires_torch
@pytest.mark.parametrize(
    "args",
    [
        ([1.0, 2.0], [1.0, 2.00001]),  # within assert_allclose's looser float32 tolerance
        ([1.0, 2.0], [1.0, 2.1]),
        ([1.0, NAN], [1.0, NAN]),  # NaNs are equal by default
        ([1, 2], [1.0, 2.0]),  # expected takes actual's dtype
        (1.5, 1.5),
    ],
)
def test_assert_allclose_as_torch(args: tuple) -> None:
    import torch

    def run(T: Any) -> str:
        a, e = args
        a = T.tensor(a) if isinstance(a, list) else a
        with pytest.warns(FutureWarning):
            return _outcome(T, lambda T: T.testing.assert_allclose(a, e))

    assert run(ember) == run(torch).replace("torch.", "ember.")


def test_assert_allclose_tolerances_given() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ember.testing.assert_allclose(ember.tensor([1.0]), ember.tensor([1.05]), rtol=0.1, atol=0)
        with pytest.raises(AssertionError, match="custom"):
            ember.testing.assert_allclose(ember.tensor([1.0]), [2.0], msg="custom")
