"""Arithmetic edge rules compared with PyTorch: clamp's gradient with tensor bounds, bool
dtypes of `**` and square, bool subtraction and other bool errors, in-place float results on
integer tensors, and `t == None`."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import assert_close, requires_torch

NAN = float("nan")

# every combination of input, min and max among 0, 1, 2 and NaN: ties, min > max, NaNs
_GRID = np.array(list(itertools.product([0.0, 1.0, 2.0, NAN], repeat=3))).T


def _clamp_grads(T: Any, bounds: str) -> list:
    x, lo, hi = (T.tensor(v, dtype=T.float64, requires_grad=True) for v in _GRID)
    if bounds == "broadcast min":
        lo = T.tensor([1.0], dtype=T.float64, requires_grad=True)
    a = None if bounds == "max only" else lo
    b = None if bounds == "min only" else hi
    out = T.clamp(x, a, b)
    inputs = [t for t in (x, a, b) if t is not None]
    w = T.arange(1.0, 1.0 + out.numel(), dtype=T.float64)
    return [out, *T.autograd.grad((out * w).sum(), inputs)]


@requires_torch
@pytest.mark.parametrize("bounds", ["min and max", "min only", "max only", "broadcast min"])
def test_clamp_tensor_bounds_gradient_matches_torch(bounds: str) -> None:
    """input keeps the whole gradient at a tie (maximum/minimum would split it)."""
    import torch

    got, want = _clamp_grads(ember, bounds), _clamp_grads(torch, bounds)
    nan_out = np.isnan(want[0].detach().numpy())
    for i, (g, w) in enumerate(zip(got, want)):
        g, w = g.detach().numpy(), w.detach().numpy()
        if i == len(got) - 1 and bounds in ("min and max", "broadcast min"):
            # documented difference: where the result is NaN, PyTorch still gives max a
            # gradient when input > max or max < min; ember gives none
            g, w = g[~nan_out], w[~nan_out]
        np.testing.assert_allclose(g, w, equal_nan=True)


def test_clamp_tie_goes_to_input() -> None:
    x = ember.tensor([0.0, 1.0, 2.0], requires_grad=True)
    lo, hi = ember.zeros(3, requires_grad=True), ember.ones(3, requires_grad=True)
    ember.clamp(x, lo, hi).sum().backward()
    assert x.grad.tolist() == [1, 1, 0] and lo.grad.tolist() == [0, 0, 0] and hi.grad.tolist() == [0, 0, 1]


def test_clamp_tensor_bounds_gradcheck() -> None:
    x = ember.tensor([-1.0, 0.3, 0.7, 3.0], dtype=ember.float64, requires_grad=True)
    lo = ember.tensor([0.0, 0.0, 0.5, 0.0], dtype=ember.float64, requires_grad=True)
    hi = ember.tensor([1.0, 1.0, 0.6, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b, c: ember.clamp(a, b, c), (x, lo, hi))


@requires_torch
def test_clamp_tensor_bounds_dtypes_match_torch() -> None:
    import torch

    def cases(T: Any) -> list:
        i = T.tensor([1, 5, 9])
        return [
            T.clamp(i, T.tensor([2]), T.tensor([6])),
            T.clamp(i, T.tensor([2.0]), None),
            T.clamp(T.ones(2), T.tensor([2]), None),
            T.clamp(i, max=T.tensor(4.5)),
        ]

    for g, w in zip(cases(ember), cases(torch)):
        assert str(g.dtype).split(".")[1] == str(w.dtype).split(".")[1]
        assert_close(g, w)


# ---- bool operands -------------------------------------------------------------------------------

BOOL_CASES = {
    "bool ** int": lambda T, b: b**2,
    "bool ** True": lambda T, b: b**True,
    "bool ** False": lambda T, b: b**False,
    "bool.square()": lambda T, b: b.square(),
    "int ** bool": lambda T, b: 2**b,
    "bool ** float": lambda T, b: b**2.5,
    "bool ** int tensor": lambda T, b: b ** T.tensor([1, 2]),
    "bool.sign()": lambda T, b: b.sign(),
    "bool.sgn()": lambda T, b: b.sgn(),
    "bool // int": lambda T, b: b // 2,
    "bool % int": lambda T, b: b % 2,
    "bool * bool": lambda T, b: b * b,
}


@requires_torch
@pytest.mark.parametrize("name", BOOL_CASES)
def test_bool_results_match_torch(name: str) -> None:
    import torch

    got = BOOL_CASES[name](ember, ember.tensor([True, False]))
    want = BOOL_CASES[name](torch, torch.tensor([True, False]))
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    assert got.tolist() == want.tolist()


BOOL_ERRORS = {
    "bool - 1": (lambda T, b: b - 1, RuntimeError, "with a bool tensor is not supported"),
    "1 - bool": (lambda T, b: 1 - b, RuntimeError, "with a bool tensor is not supported"),
    "True - float": (lambda T, b: True - T.ones(2), RuntimeError, "with a bool tensor is not supported"),
    "float - True": (lambda T, b: T.ones(2) - True, RuntimeError, "with a bool tensor is not supported"),
    "float - bool": (lambda T, b: T.ones(2) - b, RuntimeError, "with a bool tensor is not supported"),
    "bool - bool": (lambda T, b: b - b, RuntimeError, "with two bool tensors is not supported"),
    "sub(bool, bool)": (lambda T, b: T.sub(b, b), RuntimeError, "with two bool tensors"),
    "sub(bool, 1, alpha=2)": (lambda T, b: T.sub(b, 1, alpha=2), RuntimeError, "with a bool tensor"),
    "float.sub_(bool)": (lambda T, b: T.ones(2).sub_(b), RuntimeError, "with a bool tensor"),
    "bool ** -1": (lambda T, b: b**-1, RuntimeError, "Integers to negative integer powers"),
    "bool ** bool": (lambda T, b: b**b, NotImplementedError, '"pow" not implemented'),
    "bool // bool": (lambda T, b: b // b, NotImplementedError, "not implemented for 'Bool'"),
    "bool % bool": (lambda T, b: b % b, NotImplementedError, "not implemented for 'Bool'"),
    "bool.abs()": (lambda T, b: b.abs(), NotImplementedError, "not implemented for 'Bool'"),
    "bool.floor()": (lambda T, b: b.floor(), NotImplementedError, "not implemented for 'Bool'"),
    "bool.ceil()": (lambda T, b: b.ceil(), NotImplementedError, "not implemented for 'Bool'"),
    "bool.round()": (lambda T, b: b.round(), NotImplementedError, "not implemented for 'Bool'"),
    "bool.relu()": (lambda T, b: b.relu(), RuntimeError, "Boolean inputs not supported for relu"),
    "bool.square_()": (lambda T, b: b.square_(), RuntimeError, "can't be cast to the desired output type"),
}


@pytest.mark.parametrize("name", BOOL_ERRORS)
def test_bool_errors_match_torch(name: str, T: Any) -> None:
    fn, error, message = BOOL_ERRORS[name]
    with pytest.raises(error, match=message):
        fn(T, T.tensor([True, False]))


def test_bool_minus_message_is_torchs() -> None:
    with pytest.raises(RuntimeError) as info:
        ember.tensor([True]) - 1
    assert str(info.value) == (
        "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
        "invert a mask, use the `~` or `logical_not()` operator instead."
    )


# ---- in-place float results on integer tensors ----------------------------------------------------

FLOAT_INPLACE = ["exp_", "log_", "sqrt_", "sigmoid_", "tanh_", "reciprocal_"]


@pytest.mark.parametrize("name", FLOAT_INPLACE)
def test_float_inplace_on_int_tensor_raises(name: str, T: Any) -> None:
    a = T.tensor([1, 4])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        getattr(a, name)()
    assert a.tolist() == [1, 4]


@pytest.mark.parametrize("name", ["abs_", "neg_", "relu_", "square_", "ceil_", "round_"])
def test_int_inplace_that_stays_int_works(name: str, T: Any) -> None:
    a = T.tensor([1, -4])
    getattr(a, name)()
    assert a.tolist() == getattr(T.tensor([1, -4]), name[:-1])().tolist()


def test_inplace_float_on_int_tensor_raises_for_written_back_ops(T: Any) -> None:
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        T.tensor([1, 4]).fmod_(1.5)


# ---- comparison with None ---------------------------------------------------------------------------


def test_compare_with_none(T: Any) -> None:
    t = T.tensor([1, 2])
    assert (t == None) is False  # noqa: E711
    assert (t != None) is True  # noqa: E711
    assert (None == t) is False  # noqa: E711
    assert (t == 1).tolist() == [True, False]


SMALL_INT_CASES = {
    "uint8 + -1": lambda T, x: x + (-1),
    "uint8 * -1": lambda T, x: x * -1,
    "-1 + uint8": lambda T, x: -1 + x,
    "uint8 + 300": lambda T, x: x + 300,
    "uint8 - 256": lambda T, x: x - 256,
    "int8 + 200": lambda T, x: x.to(T.int8) + 200,
    "uint8 < -1": lambda T, x: x < -1,
    "uint8 == 300": lambda T, x: x == 300,
    "full_like -1": lambda T, x: T.full_like(x, -1),
    "fill_ -1": lambda T, x: x.clone().fill_(-1),
    "masked_fill -1": lambda T, x: x.masked_fill(x > 1, -1),
    "clamp(-2, 2)": lambda T, x: x.clamp(-2, 2),
    "full 300 as uint8": lambda T, x: T.full((2,), 300, dtype=T.uint8),
    "x[0] = -1": lambda T, x: (x.__setitem__(0, -1), x)[1],
    "x += -1": lambda T, x: x.__iadd__(-1),
    "mul_(-1)": lambda T, x: x.mul_(-1),
    "sub_(300)": lambda T, x: x.sub_(300),
}


@requires_torch
@pytest.mark.parametrize("name", list(SMALL_INT_CASES))
def test_python_ints_outside_a_small_integer_dtype_wrap_as_torch(name):
    """uint8 + (-1): PyTorch casts the number to uint8 (255) where NumPy 2 raises OverflowError."""
    import torch

    call = SMALL_INT_CASES[name]
    results = []
    for T in (torch, ember):
        try:
            out = call(T, T.tensor([1, 2], dtype=T.uint8))
            results.append((out.tolist(), str(out.dtype).split(".")[-1]))
        except RuntimeError as e:
            results.append(("RuntimeError", "overflow" in str(e)))
    assert results[0] == results[1]


# ---- promotion with 0-d tensors and Python numbers (found by differential fuzzing) ----------------


def _same_result(got: Any, want: Any) -> None:
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    g, w = got.detach().numpy(), want.detach().numpy()
    np.testing.assert_allclose(g, w, rtol=1e-6, equal_nan=True)
    assert (np.signbit(g) == np.signbit(w)).all()  # -0.0 and 0.0 too


FLOAT_RESULT_CASES = {
    # each integer operand becomes a float by itself: -4 stays -4, not uint8's 252
    "uint8 / int8 0-d": lambda T: T.tensor([0, 3, 11], dtype=T.uint8) / T.tensor(-4, dtype=T.int8),
    "int16 0-d / uint8": lambda T: T.tensor(-6, dtype=T.int16) / T.tensor([0, 2], dtype=T.uint8),
    "true_divide int8 by int64 0-d": lambda T: T.true_divide(T.tensor([9], dtype=T.int8), T.tensor(300)),
    "atan2 uint8, int32 0-d": lambda T: T.atan2(T.tensor([0, 1], dtype=T.uint8), T.tensor(-8, dtype=T.int32)),
    "copysign uint8, int8 0-d": lambda T: T.copysign(
        T.tensor([0, 9], dtype=T.uint8), T.tensor(-4, dtype=T.int8)
    ),
    "xlogy int64 0-d, uint8": lambda T: T.xlogy(T.tensor(-5), T.tensor([6], dtype=T.uint8)),
}


@requires_torch
@pytest.mark.parametrize("name", list(FLOAT_RESULT_CASES))
def test_integer_operands_of_float_results_are_converted_one_by_one(name: str) -> None:
    import torch

    _same_result(FLOAT_RESULT_CASES[name](ember), FLOAT_RESULT_CASES[name](torch))


PROMOTION_CASES = {
    "0-d int32 >> 2": lambda T: T.tensor(9, dtype=T.int32) >> 2,
    "0-d int8 << 1": lambda T: T.tensor(-9, dtype=T.int8) << 1,
    "1 >> 0-d int16": lambda T: 1 >> T.tensor(3, dtype=T.int16),
    "result_type(bool, 2)": lambda T: T.zeros(1, dtype=T.result_type(T.tensor([True]), 2)),
    "ldexp by 0-d float64": lambda T: T.ldexp(T.tensor([1.0, 2.0]), T.tensor(2.0, dtype=T.float64)),
    "dist with an int tensor": lambda T: T.dist(T.tensor([1.0, 2.0]), T.tensor([1, 5]), 0.5),
}


@requires_torch
@pytest.mark.parametrize("name", list(PROMOTION_CASES))
def test_promotion_with_0d_tensors_and_numbers_matches_torch(name: str) -> None:
    import torch

    _same_result(PROMOTION_CASES[name](ember), PROMOTION_CASES[name](torch))


ALPHA_CASES = {
    "int16 + alpha * bool": lambda T: T.add(T.tensor([5], dtype=T.int16), T.tensor([True]), alpha=2),
    "bool + alpha * bool": lambda T: T.add(T.tensor([True, False]), T.tensor([True, True]), alpha=2),
    "bool + 0 * bool": lambda T: T.add(T.tensor([True, False]), T.tensor([True, True]), alpha=0),
    "bool + alpha * True": lambda T: T.add(T.tensor([True, False]), True, alpha=2),
    "uint8 + 300 * int16": lambda T: T.add(
        T.tensor([1, 2], dtype=T.uint8), T.tensor([1, 2], dtype=T.int16), alpha=300
    ),
    "uint8 - (-1) * 2": lambda T: T.sub(T.tensor([1, 2], dtype=T.uint8), 2, alpha=-1),
    "int16.add_(bool, alpha=3)": lambda T: T.tensor([1, 2], dtype=T.int16).add_(
        T.tensor([True, False]), alpha=3
    ),
    "float64.add_(int64, alpha=1.5)": lambda T: T.zeros(1, dtype=T.float64).add_(
        T.tensor([2**40 + 1]), alpha=0.5
    ),
}


@requires_torch
@pytest.mark.parametrize("name", list(ALPHA_CASES))
def test_alpha_takes_no_part_in_promotion(name: str) -> None:
    import torch

    _same_result(ALPHA_CASES[name](ember), ALPHA_CASES[name](torch))


ALPHA_ERRORS = {
    "int + float alpha": (
        lambda T: T.add(T.tensor([1]), T.tensor([True]), alpha=1.5),
        "must not be a floating point",
    ),
    "int.sub_(float alpha)": (
        lambda T: T.tensor([1]).sub_(T.tensor([1]), alpha=0.5),
        "must not be a floating point",
    ),
    "int + bool alpha": (
        lambda T: T.add(T.tensor([1]), T.tensor([1]), alpha=True),
        "Boolean alpha only supported",
    ),
    "uint8 + 300 * uint8": (
        lambda T: T.add(T.ones(1, dtype=T.uint8), T.ones(1, dtype=T.uint8), alpha=300),
        "overflow",
    ),
}


@pytest.mark.parametrize("name", list(ALPHA_ERRORS))
def test_alpha_errors_match_torch(name: str, T: Any) -> None:
    fn, message = ALPHA_ERRORS[name]
    with pytest.raises(RuntimeError, match=message):
        fn(T)


INTEGER_INPLACE = {
    "uint8 += int16": lambda T, x: x.__iadd__(T.tensor([-1, 300], dtype=T.int16)),
    "uint8.sub_(int64)": lambda T, x: x.sub_(T.tensor([5, -7])),
    "uint8 *= 0-d int32": lambda T, x: x.__imul__(T.tensor(-2, dtype=T.int32)),
    "uint8.remainder_(int8)": lambda T, x: x.remainder_(T.tensor([2, -3], dtype=T.int8)),
    "uint8 |= int32": lambda T, x: x.__ior__(T.tensor([6, -9], dtype=T.int32)),
    "uint8.clamp_(min=int16)": lambda T, x: x.clamp_(min=T.tensor([-5, 9], dtype=T.int16)),
    "uint8 >>= int8": lambda T, x: x.__irshift__(T.tensor([1, 2], dtype=T.int8)),
    "uint8.floor_divide_(int64 0-d)": lambda T, x: x.floor_divide_(T.tensor(2)),
}


@requires_torch
@pytest.mark.parametrize("name", list(INTEGER_INPLACE))
def test_inplace_integer_results_wrap_into_any_integer_dtype(name: str) -> None:
    """uint8 += int16: the int16 result is cast back into uint8, as PyTorch casts it (NumPy's
    same_kind casting refuses a signed result for an unsigned output)."""
    import torch

    got = INTEGER_INPLACE[name](ember, ember.tensor([7, 8], dtype=ember.uint8))
    want = INTEGER_INPLACE[name](torch, torch.tensor([7, 8], dtype=torch.uint8))
    _same_result(got, want)


def test_inplace_still_refuses_float_into_int_and_int_into_bool(T: Any) -> None:
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        T.tensor([1, 2], dtype=T.uint8).add_(T.tensor([0.5, 1.0]))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        T.tensor([True]).add_(T.tensor([2]))


@requires_torch
def test_clamp_tensor_bounds_compare_in_the_common_dtype() -> None:
    """uint8 clamped to a 0-d int64 -5: the bound is uint8's 251, as in PyTorch."""
    import torch

    for make in (
        lambda T: T.clamp(T.tensor([8, 8], dtype=T.uint8), min=T.tensor(-5)),
        lambda T: T.clamp_min(T.tensor([8, 8], dtype=T.uint8), T.tensor(-5)),
        lambda T: T.clamp(T.tensor([1, -5], dtype=T.int8), min=T.tensor([True, False])),
    ):
        _same_result(make(ember), make(torch))


# ---- signed zeros and bool operands (found by differential fuzzing) ---------------------------------


SIGNED_ZERO_CASES = {
    "0-d bool ** True": lambda T: T.tensor(False) ** True,
    "maximum(0.0, -0.0)": lambda T: T.maximum(T.tensor([0.0, -0.0]), T.tensor([-0.0, 0.0])),
    "minimum(0.0, -0.0)": lambda T: T.minimum(T.tensor([0.0, -0.0]), T.tensor([-0.0, 0.0])),
    # a zero remainder has the dividend's sign (PyTorch takes it from fmod)
    "remainder zeros": lambda T: T.remainder(
        T.tensor([6.0, -7.0, -0.0, 0.0]), T.tensor([1.0, 1.0, 1.0, -1.0])
    ),
    "number % tensor": lambda T: T.remainder(-0.0, T.tensor([1.0, -1.0])),
}


@requires_torch
@pytest.mark.parametrize("name", list(SIGNED_ZERO_CASES))
def test_signed_zeros_and_0d_bool_results_match_torch(name: str) -> None:
    import torch

    _same_result(SIGNED_ZERO_CASES[name](ember), SIGNED_ZERO_CASES[name](torch))


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, b: T.fmod(b, b),
        lambda T, b: T.div(b, b, rounding_mode="trunc"),
        lambda T, b: T.div(b, b, rounding_mode="floor"),
    ],
)
def test_bool_only_division_raises_as_torch(fn: Any, T: Any) -> None:
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        fn(T, T.tensor([True, False]))


# ---- gradients at the edges of the domain ------------------------------------------------------------


@requires_torch
def test_atan2_gradient_at_the_origin_is_zero() -> None:
    import torch

    grads = []
    for T in (ember, torch):
        a = T.tensor([-0.0, 0.0, 1e-30, 0.0, 1.0], requires_grad=True)
        b = T.tensor([0.0, -0.0, 0.0, 0.5, 2.0], requires_grad=True)
        grads.append(T.autograd.grad(T.atan2(a, b).sum(), [a, b]))
    for g, w in zip(*grads):
        assert_close(g, w)
    x = ember.tensor([0.3, -1.2], dtype=ember.float64, requires_grad=True)
    y = ember.tensor([0.7, 0.4], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.atan2, (x, y))
    assert ember.autograd.gradgradcheck(ember.atan2, (x, y))


@requires_torch
@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_gradient_with_an_infinite_operand(name: str) -> None:
    """log(exp(inf) + exp(1)) has gradient 1 to the inf and 0 to the 1 (not inf - inf = NaN)."""
    import torch

    inf = float("inf")
    grads = []
    for T in (ember, torch):
        a = T.tensor([inf, -inf, 1.0, 1e30, inf], dtype=T.float64, requires_grad=True)
        b = T.tensor([1.0, 1.0, inf, 1.0, inf], dtype=T.float64, requires_grad=True)
        grads.append(T.autograd.grad(getattr(T, name)(a, b).sum(), [a, b]))
    for g, w in zip(*grads):
        np.testing.assert_allclose(g.numpy(), w.numpy(), equal_nan=True)
    x = ember.tensor([0.3, -40.0], dtype=ember.float64, requires_grad=True)
    y = ember.tensor([0.7, 2.0], dtype=ember.float64, requires_grad=True)
    fn = getattr(ember, name)
    assert ember.autograd.gradcheck(fn, (x, y))
    assert ember.autograd.gradgradcheck(fn, (x, y))


@requires_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda T: T.clamp(T.tensor([-0.0, 0.0, -1.0]), min=0),
        lambda T: T.clamp(T.tensor([-0.0, 0.0, 1.0]), max=-0.0),
        lambda T: T.clamp(T.tensor([-0.0, 0.0, 5.0], dtype=T.float64), -0.0, 0.0),
        lambda T: T.tensor([-0.0, 2.0]).clamp_(min=0.0),
    ],
)
def test_clamp_keeps_the_input_at_a_tie(make: Any) -> None:
    """-0.0 clamped to min=0 stays -0.0, as in PyTorch (np.clip may return the bound)."""
    import torch

    _same_result(make(ember), make(torch))


@pytest.mark.parametrize(
    "fn, error",
    [
        (lambda T, b: b.clamp(True, False), NotImplementedError),
        (lambda T, b: b.clamp(min=True), NotImplementedError),
        (lambda T, b: T.clamp_max(b, False), NotImplementedError),
        (lambda T, b: b.clamp(b, b), NotImplementedError),
        (lambda T, b: b.clone().clamp_(0, 1), RuntimeError),  # an int64 result cannot go into bool
    ],
)
def test_bool_clamp_errors_match_torch(fn: Any, error: Any, T: Any) -> None:
    with pytest.raises(error, match="Bool|bool"):
        fn(T, T.tensor([True, False]))


def test_bool_clamp_by_one_tensor_bound_works(T: Any) -> None:
    b = T.tensor([True, False])
    assert b.clamp(min=T.tensor([True, True])).tolist() == [True, True]
    assert b.clamp(0, 1).tolist() == [1, 0]


@requires_torch
@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 4096),
    alpha=st.floats(-10, 10, allow_nan=False, width=32),
    seed=st.integers(0, 2**16),
)
def test_add_and_sub_with_alpha_round_once_as_torch(n, alpha, seed):
    """PyTorch's float kernels compute add/sub with an alpha as one fused multiply-add; so
    does ember when nothing is recorded (a hand-written optimizer's p.data.add_(g, alpha=-lr)),
    to the bit on float32 tensors of up to 4096 elements."""
    import torch

    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    for name in ("add", "sub"):
        got = getattr(ember, name)(ember.tensor(a), ember.tensor(b), alpha=alpha).numpy()
        want = getattr(torch, name)(torch.tensor(a), torch.tensor(b), alpha=alpha).numpy()
        np.testing.assert_array_equal(got, want)
        e, t = ember.tensor(a), torch.tensor(a)
        getattr(e, name + "_")(ember.tensor(b), alpha=alpha)
        getattr(t, name + "_")(torch.tensor(b), alpha=alpha)
        np.testing.assert_array_equal(e.numpy(), t.numpy())


@requires_torch
def test_hand_written_sgd_matches_torch_bit_for_bit():
    """A course's loop: linear regression by per-sample SGD with p.data.add_(p.grad, alpha=-lr)."""
    import torch

    rng = np.random.default_rng(0)
    xs = rng.standard_normal((100, 3)).astype(np.float32)
    ys = (xs @ np.array([2.0, -3.4, 0.5], np.float32) + 4.2).astype(np.float32)
    results = []
    for lib in (ember, torch):
        w = lib.zeros(3, requires_grad=True)
        b = lib.zeros(1, requires_grad=True)
        for x, y in zip(xs, ys):
            loss = ((lib.tensor(x) * w).sum() + b - lib.tensor(y)).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                for p in (w, b):
                    p.add_(p.grad, alpha=-0.01)
                    p.grad.zero_()
        results.append(np.concatenate([w.detach().numpy(), b.detach().numpy()]))
    np.testing.assert_array_equal(results[0], results[1])
    # with the graph recorded, add with an alpha stays differentiable (product, then sum)
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    ember.add(ember.ones(2), x, alpha=3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
