"""Gradients and results at the edges, each compared with PyTorch: inf and NaN upstream
gradients through masking ops, NaN inputs, second derivatives of piecewise-linear ops, std of
a constant, x ** 0, rounded division, integer division by zero, empty reductions, and
zero-sized Linear layers. Each test is named after the bug it prevents."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember.ops import _dual

NAN, INF = float("nan"), float("inf")


def _grads(T: Any, fn: Any, xs: list, upstream: float | None = None) -> list:
    """The gradients of fn(*tensors) for inputs xs, sent `upstream` everywhere (1 by default)."""
    inputs = [T.tensor(x, dtype=T.float64, requires_grad=True) for x in xs]
    out = fn(T, *inputs)
    out.backward(T.full(tuple(out.shape), 1.0 if upstream is None else upstream, dtype=T.float64))
    return [x.grad for x in inputs]


def _compare(fn: Any, xs: list, upstream: float | None = None) -> None:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = _grads(ember, fn, xs, upstream), _grads(torch, fn, xs, upstream)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            assert_close(a, b)  # NaN where torch has NaN, and only there


# ---- A1: a masking backward selects, so an inf or NaN gradient gives 0 where the mask is 0


MASKING = {
    "relu": lambda T, x: x.relu(),
    "relu_": lambda T, x: (x * 1).relu_(),
    "clamp": lambda T, x: x.clamp(-1, 1),
    "clamp_min": lambda T, x: x.clamp(min=0),
    "clamp_max": lambda T, x: x.clamp(max=0),
    "maximum": lambda T, x: T.maximum(x, T.zeros(3, dtype=T.float64)),
    "minimum": lambda T, x: T.minimum(x, T.zeros(3, dtype=T.float64)),
    "max": lambda T, x: x.max(),
    "min": lambda T, x: x.min(),
    "max_dim": lambda T, x: x.max(0).values,
    "median": lambda T, x: x.median(),
    "sign": lambda T, x: x.sign(),
    "floor": lambda T, x: x.floor(),
    "ceil": lambda T, x: x.ceil(),
    "round": lambda T, x: x.round(),
    "trunc": lambda T, x: x.trunc(),
    "scatter": lambda T, x: x.scatter(0, T.tensor([0]), T.tensor([5.0], dtype=T.float64)),
    "leaky_relu": lambda T, x: T.nn.functional.leaky_relu(x, 0.1),
    "hardtanh": lambda T, x: T.nn.functional.hardtanh(x),
    "relu6": lambda T, x: T.nn.functional.relu6(x),
    "pow0": lambda T, x: x**0,
    "copysign": lambda T, x: T.copysign(T.ones(3, dtype=T.float64), x),
}


@requires_torch
@pytest.mark.parametrize("upstream", [NAN, INF, -INF], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", list(MASKING))
def test_masked_gradient_is_zero_not_nan(name: str, upstream: float) -> None:
    _compare(MASKING[name], [[-2.0, 0.5, 3.0]], upstream)


@requires_torch
def test_setitem_overwritten_place_gets_zero_not_nan() -> None:
    def fn(T, x):
        y = x * 1
        y[0] = 5.0
        return y

    _compare(fn, [[-2.0, 0.5, 3.0]], NAN)


@requires_torch
@pytest.mark.parametrize(
    "fn",
    [
        lambda T, d: d.relu().sqrt(),
        lambda T, d: d.clamp(min=0).sqrt(),
        lambda T, d: T.maximum(d, 0 * d).sqrt(),
    ],
    ids=["relu", "clamp", "maximum"],
)
def test_sqrt_of_clamped_distance_has_zero_grad_where_clamped(fn: Any) -> None:
    _compare(lambda T, d: fn(T, d).sum(), [[-1.0, 4.0, 0.25]])


@requires_torch
def test_maximum_gives_no_gradient_to_the_unselected_input() -> None:
    import torch

    for T in (ember, torch):
        x = T.tensor([-1.0, 4.0], requires_grad=True)
        y = T.tensor([1.0, 1.0], requires_grad=True)
        T.maximum(x, y).backward(T.tensor([NAN, 1.0]))
        assert x.grad.tolist() == [0.0, 1.0]
        assert np.isnan(y.grad[0].item()) and y.grad[1].item() == 0.0


def test_amax_gives_zero_to_the_non_maxima_even_for_a_nan_gradient() -> None:
    # PyTorch's amax(dim) multiplies by the mask here (NaN); its max() selects, as ember does
    x = ember.tensor([-2.0, 3.0], requires_grad=True)
    x.amax(0).backward(ember.tensor(NAN))
    assert x.grad[0].item() == 0.0 and np.isnan(x.grad[1].item())


def test_amax_of_nan_input_sends_the_gradient_to_the_nans() -> None:
    # as PyTorch's max(); its amax(dim) gives NaN to every element here
    x = ember.tensor([[1.0, NAN, 3.0]], requires_grad=True)
    x.amax(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0]]


# ---- D: NaN inputs


NAN_INPUT = {
    "max": lambda T, x: x.max(),
    "min": lambda T, x: x.min(),
    "relu": lambda T, x: x.relu(),
    "maximum": lambda T, x: T.maximum(x, T.ones(3, dtype=T.float64)),
    "minimum": lambda T, x: T.minimum(x, T.ones(3, dtype=T.float64)),
    "hardtanh": lambda T, x: T.nn.functional.hardtanh(x),
    "clamp": lambda T, x: x.clamp(-1, 1),
    "median": lambda T, x: x.median(),
}


@requires_torch
@pytest.mark.parametrize("name", list(NAN_INPUT))
def test_nan_input_gradient_matches_torch(name: str) -> None:
    _compare(NAN_INPUT[name], [[1.0, NAN, 3.0]])


@requires_torch
def test_sign_of_nan_is_zero() -> None:
    import torch

    x = [NAN, -2.0, 0.0, 3.0]
    assert_close(ember.tensor(x).sign(), torch.tensor(x).sign())
    assert_close(ember.tensor(x).sgn(), torch.tensor(x).sgn())


# ---- the helper itself


def test_keep_selects_only_when_the_gradient_is_not_finite() -> None:
    g = np.array([1.0, INF, NAN, -INF], dtype=np.float32)
    mask = np.array([True, False, True, False])
    out = _dual.keep(g, mask)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [1.0, 0.0, NAN, 0.0])
    weights = np.array([0.5, 0.0, 1.0, 0.5], dtype=np.float32)
    np.testing.assert_array_equal(_dual.keep(g, weights), [0.5, 0.0, NAN, -INF])
    finite = np.array([1.0, 2.0], dtype=np.float32)
    np.testing.assert_array_equal(_dual.keep(finite, np.array([False, True])), [0.0, 2.0])


# ---- C7: second derivatives through piecewise-linear ops are zeros, not an error


PIECEWISE_LINEAR = {
    "relu": lambda T, x: x.relu(),
    "relu_": lambda T, x: (x * 1).relu_(),
    "leaky_relu": lambda T, x: T.nn.functional.leaky_relu(x, 0.1),
    "hardtanh": lambda T, x: T.nn.functional.hardtanh(x),
    "relu6": lambda T, x: T.nn.functional.relu6(x),
}


@requires_torch
@pytest.mark.parametrize("name", list(PIECEWISE_LINEAR))
def test_second_derivative_of_piecewise_linear_is_zero(name: str) -> None:
    import torch

    results = []
    for T in (ember, torch):
        x = T.tensor([-1.0, 2.0, 0.5], requires_grad=True)
        (g,) = T.autograd.grad(PIECEWISE_LINEAR[name](T, x).sum(), x, create_graph=True)
        assert g.requires_grad
        (h,) = T.autograd.grad(g.sum(), x)
        results.append((g, h))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "hardtanh", "relu6"])
def test_piecewise_linear_passes_gradgradcheck(name: str) -> None:
    x = ember.tensor([-1.5, 0.7, 2.3, -0.4, 7.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x: PIECEWISE_LINEAR[name](ember, x) * x, [x])


@requires_torch
def test_third_derivative_through_relu_is_zero() -> None:
    x = ember.tensor([-1.0, 2.0], requires_grad=True)
    (g,) = ember.autograd.grad(x.relu().sum(), x, create_graph=True)
    (h,) = ember.autograd.grad(g.sum(), x, create_graph=True)
    assert h.tolist() == [0.0, 0.0]


# ---- A3: std of a constant slice, var with correction >= n


@requires_torch
@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: x.std(dim=1),
        lambda T, x: x.std(dim=0, correction=0),
        lambda T, x: T.std_mean(x, dim=1)[0],
        lambda T, x: x[:1, :1].std(correction=0),
        lambda T, x: ((x - x.mean()) / (x[:1].std() + 1e-5)).sum(),
    ],
    ids=["std_dim", "std_correction0", "std_mean", "one_element", "normalise_constant"],
)
def test_std_of_constant_has_zero_gradient(fn: Any) -> None:
    _compare(lambda T, x: fn(T, x).sum(), [[[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]])


@requires_torch
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("correction", [0, 1, 2, 3])
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("x", [[3.0], [3.0, 4.0], [2.0, 2.0], [[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], 5.0])
def test_var_and_std_gradients_match_torch_for_every_correction(
    name: str, correction: int, dim: Any, x: Any
) -> None:
    kw = {"correction": correction} if dim is None else {"correction": correction, "dim": dim}
    _compare(lambda T, t: getattr(t, name)(**kw).sum(), [x])


def test_std_passes_gradcheck_and_gradgradcheck() -> None:
    x = ember.tensor([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: x.std(dim=1), [x])
    assert ember.autograd.gradgradcheck(lambda x: x.std(dim=1, correction=0), [x])


# ---- A4: x ** 0 and x ** x at 0


@requires_torch
@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: x**0,
        lambda T, x: T.pow(x, 0.0),
        lambda T, x: x.pow(x),
        lambda T, x: x.pow(x * 0),
        lambda T, x: x.pow(x - 1),
        lambda T, x: T.pow(x, T.tensor([0.0, -1.0, 2.0], dtype=T.float64)),
    ],
    ids=["int0", "float0", "x_pow_x", "tensor0", "negative_exponent", "mixed"],
)
def test_pow_gradient_at_zero_base_matches_torch(fn: Any) -> None:
    _compare(lambda T, x: fn(T, x).sum(), [[0.0, 2.0, 0.0]])
    _compare(lambda T, x: fn(T, x).sum(), [[0.0, 2.0, 0.5]])


@requires_torch
def test_pow_float32_fast_path_gradient_at_zero() -> None:
    import torch

    for T in (ember, torch):
        x = T.tensor([0.0, 2.0], requires_grad=True)
        (x**0).sum().backward()
        assert x.grad.tolist() == [0.0, 0.0]


def test_pow_tensor_exponent_passes_gradcheck() -> None:
    a = ember.tensor([0.5, 1.7, 2.2], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([-1.3, 0.4, 2.5], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: a**b, [a, b])
    assert ember.autograd.gradgradcheck(lambda a, b: a**b, [a, b])


# ---- A5 and B2: div with rounding_mode


@requires_torch
@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_rounded_div_gradient_is_zero_for_both_inputs(mode: str) -> None:
    _compare(lambda T, x, y: T.div(x, y, rounding_mode=mode), [[1.5, 3.0, -7.0], [2.0, 0.0, 2.0]])
    _compare(lambda T, x, y: T.div(x, y, rounding_mode=mode), [[1.5, 3.0, -7.0], [2.0, 0.0, 2.0]], NAN)


@requires_torch
@pytest.mark.parametrize("mode", ["trunc", "floor"])
@pytest.mark.parametrize(
    "a,b",
    [
        ([7, -7, 16777217, 0, -1], [2, 2, 1, 3, 3]),
        ([7, -7, 5], 2),
        ([7.5, -7.5, 1.0, -1.0, 0.0, -0.5], [2.0, 2.0, 0.0, 0.0, 0.0, 1.0]),
        ([7, -7], 2.5),
    ],
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
def test_rounded_div_values_and_dtype_match_torch(mode: str, a: Any, b: Any, dtype: str) -> None:
    import torch

    results = []
    for T in (ember, torch):
        if isinstance(a[0], float) and dtype != "float32":
            return
        x = T.tensor(a, dtype=getattr(T, dtype))
        y = T.tensor(b, dtype=getattr(T, dtype)) if isinstance(b, list) else b
        results.append(T.div(x, y, rounding_mode=mode))
    ours, theirs = results
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert np.array_equal(np.signbit(ours.numpy()), np.signbit(theirs.numpy()))


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_rounded_integer_div_by_zero_raises(T: Any, mode: str) -> None:
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        T.div(T.tensor([7, 1]), T.tensor([2, 0]), rounding_mode=mode)


def test_div_rejects_unknown_rounding_mode(T: Any) -> None:
    with pytest.raises(RuntimeError, match="rounding_mode to be one of None, 'trunc', or 'floor'"):
        T.div(T.ones(2), 2, rounding_mode="round")


# ---- C3 and C2: integer division by zero, integer ** negative integer


@pytest.mark.parametrize(
    "fn",
    [
        lambda T: T.tensor([7]) // 0,
        lambda T: T.tensor([7]) % 0,
        lambda T: T.tensor([7, 1]) % T.tensor([2, 0]),
        lambda T: 7 // T.tensor([0]),
        lambda T: T.floor_divide(T.tensor([7], dtype=T.int32), T.tensor([0], dtype=T.int32)),
    ],
    ids=["floordiv_scalar", "mod_scalar", "mod_tensor", "rfloordiv", "int32"],
)
def test_integer_division_by_zero_raises(T: Any, fn: Any) -> None:
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(T)


@requires_torch
def test_float_division_by_zero_still_gives_inf() -> None:
    import torch

    for fn in (lambda T: T.tensor([7.0, -1.0, 0.0]) // 0, lambda T: T.tensor([7.0, -1.0, 0.0]) % 0):
        assert_close(fn(ember), fn(torch))


@requires_torch
@pytest.mark.parametrize(
    "fn",
    [
        lambda T: T.tensor([2, 1, -1, -1, 0, 3, -2]) ** T.tensor([-1, -2, -1, -2, -1, 0, -3]),
        lambda T: 2 ** T.tensor([-1, 3]),
        lambda T: T.tensor([2, 1], dtype=T.uint8) ** T.tensor([-1, -1], dtype=T.int8),
        lambda T: T.tensor([3, -1], dtype=T.int32) ** T.tensor([-1, -3]),
    ],
    ids=["mixed", "scalar_base", "uint8_int8", "int32_int64"],
)
def test_integer_power_with_negative_exponent_matches_torch(fn: Any) -> None:
    import torch

    ours, theirs = fn(ember), fn(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ---- B3: an empty dim reduces over every dim


@requires_torch
@pytest.mark.parametrize(
    "name", ["sum", "mean", "var", "std", "nansum", "nanmean", "amax", "amin", "count_nonzero", "norm"]
)
@pytest.mark.parametrize("dim", [(), []], ids=["tuple", "list"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_empty_dim_reduces_over_all_dims(name: str, dim: Any, keepdim: bool) -> None:
    import torch

    kw = {} if name == "count_nonzero" else {"keepdim": keepdim}
    results = [getattr(T, name)(T.arange(6.0).reshape(2, 3), dim=dim, **kw) for T in (ember, torch)]
    assert_close(*results)


@requires_torch
@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_empty_dim_reduces_over_all_dims_in_paired_reductions(name: str) -> None:
    import torch

    ours, theirs = (getattr(T, name)(T.arange(6.0).reshape(2, 3), dim=()) for T in (ember, torch))
    for a, b in zip(ours, theirs):
        assert_close(a, b)


@requires_torch
def test_empty_dim_sum_gradient() -> None:
    _compare(lambda T, x: x.sum(dim=()) * x.mean(dim=[]), [[[1.0, 2.0], [3.0, 5.0]]])


def test_empty_dim_still_means_no_dim_for_flip_and_all(T: Any) -> None:
    x = T.arange(6.0).reshape(2, 3)
    assert x.flip(()).tolist() == x.tolist()
    assert tuple((x > 0).all(dim=()).shape) == (2, 3)


# ---- C1: max/min/argmax/amax over no elements


EMPTY_CASES = {
    "max_dim1": lambda T, x: x.max(1),
    "min_dim1_keepdim": lambda T, x: x.min(1, keepdim=True),
    "max_dim0": lambda T, x: x.max(0),
    "max_all": lambda T, x: x.max(),
    "min_dim_neg": lambda T, x: x.reshape(3, 0).min(-1),
    "argmax_all": lambda T, x: x.argmax(),
    "argmax_dim0": lambda T, x: x.argmax(0),
    "argmin_dim1": lambda T, x: x.argmin(1),
    "amax_dim0": lambda T, x: x.amax(0),
    "amax_dim1": lambda T, x: x.amax(1),
    "amax_all": lambda T, x: x.amax(),
    "amin_dims": lambda T, x: x.amin((1, 0)),
    "amin_neg": lambda T, x: x.reshape(3, 0).amin(-1),
    "aminmax_dim0": lambda T, x: T.aminmax(x, dim=0),
    "aminmax_all": lambda T, x: T.aminmax(x),
    "logsumexp_dim0": lambda T, x: x.logsumexp(0),
}


def _outcome(fn: Any, T: Any) -> Any:
    try:
        out = fn(T, T.zeros(0, 3))
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e)
    outs = out if isinstance(out, tuple) else (out,)
    return [(tuple(o.shape), str(o.dtype).split(".")[-1], o.tolist()) for o in outs]


@requires_torch
@pytest.mark.parametrize("name", list(EMPTY_CASES))
def test_reduction_over_no_elements_matches_torch(name: str) -> None:
    import torch

    assert _outcome(EMPTY_CASES[name], ember) == _outcome(EMPTY_CASES[name], torch)


def test_max_over_non_empty_dim_of_empty_tensor_backward() -> None:
    x = ember.zeros(0, 3, requires_grad=True)
    x.max(1).values.sum().backward()
    assert tuple(x.grad.shape) == (0, 3)


# ---- Linear with zero features


@requires_torch
@pytest.mark.parametrize("features", [(5, 0), (0, 3), (0, 0)])
@pytest.mark.parametrize("batch", [(4,), (2, 0), ()], ids=["batch", "empty_batch", "no_batch"])
def test_linear_with_zero_features_backward(features: tuple, batch: tuple) -> None:
    import torch

    results = []
    for T in (ember, torch):
        T.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: initializing zero-element tensors is a no-op
            layer = T.nn.Linear(*features)
        x = T.ones(*batch, features[0], requires_grad=True)
        layer(x).sum().backward()
        results.append([x.grad, layer.weight.grad, layer.bias.grad])
    for a, b in zip(*results):
        assert_close(a, b)
