"""Named cases for the math ops of tests/op_table_math.py: special values, integer inputs,
errors, aliases, and the in-place forms (values, version counter, leaf checks)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

# ---- special values and precision ---------------------------------------------------------


@requires_torch
def test_erfinv_is_accurate_to_float64() -> None:
    import torch

    x = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), [1 - 1e-12, -1 + 1e-15, 1e-300, 0.5]])
    e = ember.erfinv(ember.tensor(x)).numpy()
    t = torch.erfinv(torch.tensor(x)).numpy()
    np.testing.assert_allclose(e, t, rtol=1e-13, atol=0)


def test_erfinv_inverts_erf() -> None:
    y = np.linspace(-3, 3, 101)  # further out, erf(y) rounds to 1 too closely to be inverted
    back = ember.erfinv(ember.erf(ember.tensor(y))).numpy()
    np.testing.assert_allclose(back, y, rtol=1e-10, atol=1e-15)


@requires_torch
@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv"])
def test_erf_family_special_values(name: str) -> None:
    import torch

    x = [1.0, -1.0, 1.5, -2.0, 0.0, -0.0, float("nan"), float("inf"), float("-inf"), 30.0, -30.0]
    e = getattr(ember, name)(ember.tensor(x, dtype=ember.float64))
    t = getattr(torch, name)(torch.tensor(x, dtype=torch.float64))
    signed = ~np.isnan(t.numpy())
    np.testing.assert_array_equal(np.signbit(e.numpy())[signed], np.signbit(t.numpy())[signed])
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-14, atol=0)


@requires_torch
def test_erfc_keeps_relative_precision_in_the_tail() -> None:
    import torch

    x = np.linspace(2, 26, 49)
    e = ember.erfc(ember.tensor(x)).numpy()
    t = torch.erfc(torch.tensor(x)).numpy()
    np.testing.assert_allclose(e, t, rtol=1e-12)


@requires_torch
def test_xlogy_special_values() -> None:
    import torch

    nan, inf = float("nan"), float("inf")
    xs = [0.0, 0.0, 0.0, 1.0, 2.0, nan, -1.0, 0.0]
    ys = [0.0, nan, -1.0, 0.0, inf, 1.0, 2.0, inf]
    e = ember.xlogy(ember.tensor(xs), ember.tensor(ys))
    t = torch.xlogy(torch.tensor(xs), torch.tensor(ys))
    assert_close(e, t)


@requires_torch
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nan_to_num_defaults_are_the_dtype_extremes(dtype: str) -> None:
    import torch

    x = [float("nan"), float("inf"), float("-inf"), 1.5]
    e = ember.nan_to_num(ember.tensor(x, dtype=getattr(ember, dtype)))
    t = torch.nan_to_num(torch.tensor(x, dtype=getattr(torch, dtype)))
    assert str(e.dtype) == f"ember.{dtype}"
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@requires_torch
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_nan_to_num_replaces_each_part_of_a_complex_number(dtype: str) -> None:
    import torch

    nan, inf = float("nan"), float("inf")
    x = [complex(nan, 1), complex(2, nan), complex(inf, -inf), complex(nan, nan), 1 + 2j]
    for kwargs in ({}, {"nan": 5.0, "posinf": 7.0, "neginf": -7.0}):
        e = ember.tensor(x, dtype=getattr(ember, dtype)).nan_to_num(**kwargs)
        t = torch.tensor(x, dtype=getattr(torch, dtype)).nan_to_num(**kwargs)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
        inplace = ember.tensor(x, dtype=getattr(ember, dtype))
        inplace.nan_to_num_(**kwargs)
        np.testing.assert_array_equal(inplace.numpy(), t.numpy())
    # PyTorch has no derivative for it: recording raises, as there
    with pytest.raises(RuntimeError, match="does not support automatic differentiation"):
        ember.tensor(x, dtype=getattr(ember, dtype), requires_grad=True).nan_to_num()


def test_nan_to_num_gradient_is_zero_where_not_finite() -> None:
    x = ember.tensor([float("nan"), 1.0, float("inf"), 2.0], requires_grad=True)
    x.nan_to_num(posinf=5.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0, 1.0]


@requires_torch
def test_copysign_and_signbit_see_negative_zero() -> None:
    import torch

    a, b = [1.0, 2.0, -3.0, 0.0], [-0.0, 0.0, 1.0, -1.0]
    assert_close(
        ember.copysign(ember.tensor(a), ember.tensor(b)), torch.copysign(torch.tensor(a), torch.tensor(b))
    )
    e = ember.copysign(ember.tensor(a), ember.tensor(b)).numpy()
    assert np.signbit(e).tolist() == [True, False, False, True]
    assert ember.signbit(ember.tensor(b)).tolist() == [True, False, False, True]


@requires_torch
def test_heaviside_takes_values_at_zero() -> None:
    import torch

    x, v = [-1.5, 0.0, 2.0, 0.0], [0.5, 0.25, 0.5, 0.75]
    assert_close(
        ember.heaviside(ember.tensor(x), ember.tensor(v)), torch.heaviside(torch.tensor(x), torch.tensor(v))
    )


# ---- dtypes of results ----------------------------------------------------------------------


def _ints(T: Any) -> Any:
    return T.tensor([[1, -2, 3], [4, 5, -7]])


DTYPE_CASES = {
    "erf(int64)": lambda T: T.erf(_ints(T)),
    "erfinv(bool)": lambda T: T.erfinv(_ints(T) > 0),
    "sinh(int64)": lambda T: T.sinh(_ints(T)),
    "atan(int32)": lambda T: _ints(T).int().atan(),
    "exp2(int64)": lambda T: T.exp2(_ints(T)),
    "atan2(int64, int64)": lambda T: T.atan2(_ints(T), _ints(T)),
    "atan2(float64, float32)": lambda T: T.atan2(T.ones(3, dtype=T.float64), T.ones(3)),
    "xlogy(int64, 2.5)": lambda T: T.xlogy(_ints(T), 2.5),
    "xlogy(2, float32)": lambda T: T.xlogy(2, T.ones(3)),
    "xlogy(int64, int64)": lambda T: T.xlogy(_ints(T).abs(), _ints(T).abs()),
    "copysign(int64, int64)": lambda T: T.copysign(_ints(T), -_ints(T)),
    "copysign(float32, -1)": lambda T: T.copysign(T.ones(3), -1),
    "fmod(int64, 2)": lambda T: T.fmod(_ints(T), 2),
    "fmod(int64, 1.5)": lambda T: T.fmod(_ints(T), 1.5),
    "fmod(float32, int64)": lambda T: T.ones(2, 3).fmod(_ints(T)),
    "trunc(int64)": lambda T: T.trunc(_ints(T)),
    "fix(float64)": lambda T: T.fix(T.tensor([-1.5, 2.5], dtype=T.float64)),
    "deg2rad(int64)": lambda T: T.deg2rad(_ints(T)),
    "rad2deg(float64)": lambda T: T.ones(2, dtype=T.float64).rad2deg(),
    "logit(int64)": lambda T: T.logit(_ints(T), 0.25),
    "sgn(int64)": lambda T: T.sgn(_ints(T)),
    "signbit(int64)": lambda T: T.signbit(_ints(T)),
    "heaviside(int64)": lambda T: T.heaviside(_ints(T), T.tensor(1)),
    "nan_to_num(int64)": lambda T: T.nan_to_num(_ints(T)),
    "float_power(int64, 2)": lambda T: T.float_power(_ints(T), 2),
    "float_power(float32, int64)": lambda T: T.float_power(T.ones(2, 3), _ints(T)),
    "float_power(2, int64)": lambda T: T.float_power(2, _ints(T)),
    "float_power(float32, 0.5)": lambda T: T.ones(3).float_power(0.5),
    "addcmul(int64)": lambda T: T.addcmul(_ints(T), _ints(T), _ints(T), value=2),
    "addcmul(int64, float32)": lambda T: T.addcmul(_ints(T), T.ones(3), T.ones(3)),
    "addcdiv(float32, float32, int64)": lambda T: T.addcdiv(T.ones(3), T.ones(3), _ints(T)),
    "lerp(weight float64 0-d)": lambda T: T.lerp(T.ones(3), T.zeros(3), T.tensor(0.25, dtype=T.float64)),
}


@requires_torch
@pytest.mark.parametrize("name", list(DTYPE_CASES))
def test_result_dtype(name: str) -> None:
    import torch

    e, t = DTYPE_CASES[name](ember), DTYPE_CASES[name](torch)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], f"{name}: {e.dtype} != {t.dtype}"
    assert_close(e, t)


# ---- errors, of PyTorch's types ---------------------------------------------------------------

REJECTED = {
    "frac(int64)": lambda T: T.frac(_ints(T)),
    "hypot(int64)": lambda T: T.hypot(_ints(T), _ints(T)),
    "logaddexp(int64)": lambda T: T.logaddexp(_ints(T), _ints(T)),
    "logaddexp2(int64)": lambda T: T.logaddexp2(_ints(T), _ints(T)),
    "addcdiv(int64)": lambda T: T.addcdiv(T.ones(3), _ints(T), _ints(T)),
    "lerp(int64)": lambda T: T.lerp(_ints(T), _ints(T), 0.5),
    "lerp(float32, float64)": lambda T: T.lerp(T.ones(3), T.ones(3, dtype=T.float64), 0.5),
    "heaviside(float32, float64)": lambda T: T.heaviside(T.ones(3), T.ones(3, dtype=T.float64)),
    "fmod(int64, 0)": lambda T: T.fmod(_ints(T), 0),
    "atan2 shapes": lambda T: T.atan2(T.ones(2), T.ones(3)),
    "hypot shapes": lambda T: T.hypot(T.ones(2, 3), T.ones(2)),
    "lerp shapes": lambda T: T.lerp(T.ones(2), T.ones(3), 0.5),
    "addcmul shapes": lambda T: T.addcmul(T.ones(2), T.ones(3), T.ones(3)),
    "addcdiv shapes": lambda T: T.addcdiv(T.ones(3), T.ones(4), T.ones(3)),
    "heaviside shapes": lambda T: T.heaviside(T.ones(3), T.ones(2)),
    "lerp_ broadcast": lambda T: T.zeros(3).lerp_(T.zeros(2, 3), 0.5),
    "addcmul_ broadcast": lambda T: T.zeros(3).addcmul_(T.zeros(2, 3), T.zeros(3)),
    "atan2_ int": lambda T: _ints(T).atan2_(_ints(T)),
    "fmod_ int by float": lambda T: _ints(T).fmod_(1.5),
    "trunc_ leaf": lambda T: T.ones(3, requires_grad=True).trunc_(),
    "lerp_ leaf": lambda T: T.ones(3, requires_grad=True).lerp_(T.zeros(3), 0.5),
}


@requires_torch
@pytest.mark.parametrize("name", list(REJECTED))
def test_rejected(name: str) -> None:
    """Where PyTorch refuses, ember raises the same exception type."""
    import torch

    with pytest.raises(Exception) as t_err:
        REJECTED[name](torch)
    with pytest.raises(t_err.type):
        REJECTED[name](ember)


def test_errors_name_the_op_and_shapes() -> None:
    with pytest.raises(RuntimeError, match=r"atan2.*\[2\].*\[3\]"):
        ember.atan2(ember.ones(2), ember.ones(3))
    with pytest.raises(RuntimeError, match=r"lerp_.*\[3\].*\[2, 3\]"):
        ember.zeros(3).lerp_(ember.zeros(2, 3), 0.5)
    with pytest.raises(NotImplementedError, match="hypot"):
        ember.hypot(_ints(ember), _ints(ember))
    with pytest.raises(RuntimeError, match="addcdiv"):
        ember.addcdiv(ember.ones(3), _ints(ember), _ints(ember))


# ---- aliases, keyword forms, 0-d and empty tensors -----------------------------------------------


ALIASES = {
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "arctan2": "atan2",
    "fix": "trunc",
}


@pytest.mark.parametrize("alias", list(ALIASES))
def test_aliases_are_the_same_function(alias: str) -> None:
    assert getattr(ember, alias) is getattr(ember, ALIASES[alias])
    assert getattr(ember.Tensor, alias) is getattr(ember.Tensor, ALIASES[alias])


@requires_torch
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
def test_zero_dim_and_empty(shape: tuple) -> None:
    import torch

    for name in ["erf", "erfc", "erfinv", "sinh", "asinh", "trunc", "frac", "exp2", "deg2rad", "sgn"]:
        e = getattr(ember, name)(ember.zeros(shape))
        t = getattr(torch, name)(torch.zeros(shape))
        assert tuple(e.shape) == tuple(t.shape)
        assert_close(e, t)
    assert_close(ember.lerp(ember.zeros(shape), ember.ones(shape), 0.5), torch.full(shape, 0.5))
    assert_close(ember.atan2(ember.ones(shape), ember.ones(shape)), torch.full(shape, np.pi / 4))


@requires_torch
def test_keyword_forms() -> None:
    import torch

    for T in (ember, torch):
        x, a, b = T.ones(3), T.full((3,), 2.0), T.full((3,), 4.0)
        assert T.addcmul(input=x, tensor1=a, tensor2=b, value=0.5).tolist() == [5.0] * 3
        assert T.addcdiv(x, a, b, value=-2).tolist() == [0.0] * 3
        assert T.lerp(input=x, end=b, weight=T.tensor(0.5)).tolist() == [2.5] * 3
        assert T.logit(T.tensor([0.0, 1.0]), eps=0.25).tolist() == pytest.approx([-np.log(3), np.log(3)])
        assert T.nan_to_num(T.tensor([float("nan")]), nan=7.0).tolist() == [7.0]
        assert T.atan2(input=x, other=x).tolist() == pytest.approx([np.pi / 4] * 3)


def test_results_of_non_differentiable_ops_do_not_require_grad() -> None:
    x = ember.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    assert not ember.signbit(x).requires_grad
    # heaviside's result requires grad, as PyTorch's, and a backward through it raises
    # (tests/test_differences_fixed_a.py)
    assert ember.heaviside(x, ember.tensor(0.5)).requires_grad
    assert ember.sgn(x).requires_grad  # like sign: a zero gradient, as in PyTorch
    assert ember.trunc(x).requires_grad


# ---- in-place forms ----------------------------------------------------------------------------

INPLACE = {
    "lerp_": lambda x, o: x.lerp_(o, 0.25),
    "addcmul_": lambda x, o: x.addcmul_(o, o, value=2),
    "addcdiv_": lambda x, o: x.addcdiv_(o, o + 3, value=0.5),
    "trunc_": lambda x, o: x.trunc_(),
    "fix_": lambda x, o: x.fix_(),
    "frac_": lambda x, o: x.frac_(),
    "fmod_": lambda x, o: x.fmod_(o + 3),
    "atan2_": lambda x, o: x.atan2_(o),
    "arctan2_": lambda x, o: x.arctan2_(o),
    "nan_to_num_": lambda x, o: x.nan_to_num_(posinf=1.0),
}


@requires_torch
@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_matches_torch_and_bumps_version(name: str) -> None:
    import torch

    data = np.array([[-1.75, 0.5, float("inf")], [2.25, -3.5, 0.25]], dtype=np.float32)
    other = np.array([0.5, -1.5, 2.0], dtype=np.float32)
    e, t = ember.tensor(data), torch.tensor(data)
    before = e._version_cell[0]
    e_out = INPLACE[name](e, ember.tensor(other))
    INPLACE[name](t, torch.tensor(other))
    assert e_out is e
    assert e._version_cell[0] == before + 1
    assert_close(e, t)


@requires_torch
@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_on_a_non_leaf_is_recorded(name: str) -> None:
    import torch

    data = np.array([[-1.75, 0.5, 1.25], [2.25, -3.5, 0.25]])
    other = np.array([0.5, -1.5, 2.0])
    grads = []
    for T in (ember, torch):
        x = T.tensor(data, requires_grad=True)
        o = T.tensor(other, requires_grad=True)
        y = x * 2
        out = INPLACE[name](y, o)
        assert out is y
        (y * T.tensor(data)).sum().backward()
        grads.append((x.grad, o.grad))
    for e, t in zip(*grads):
        if t is None:
            assert e is None or np.allclose(e.numpy(), 0)
        else:
            assert_close(e, t)


def test_inplace_under_no_grad_writes_into_the_array() -> None:
    x = ember.tensor([0.5, 1.5], requires_grad=True)
    data = x._data
    with ember.no_grad():
        x.lerp_(ember.tensor([1.5, 3.5]), 0.5)
    assert x._data is data
    assert x.tolist() == [1.0, 2.5]
    assert x.requires_grad and x.grad_fn is None


@requires_torch
def test_xlogy_gradients_at_zero_and_negative_points_match_torch() -> None:
    import torch

    xs, ys = [0.0, 0.0, 0.0, 1.0, 0.0, 2.0], [0.0, 2.0, -1.0, 0.0, float("nan"), 3.0]

    def grads(T):
        x = T.tensor(xs, requires_grad=True)
        y = T.tensor(ys, requires_grad=True)
        T.xlogy(x, y).sum().backward()
        return x.grad.numpy(), y.grad.numpy()

    with np.errstate(divide="ignore", invalid="ignore"):
        mine = grads(ember)
    for a, b in zip(mine, grads(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
