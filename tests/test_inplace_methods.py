"""The in-place Tensor methods (`x.cos_()`, `x.clamp_min_(0)`, `x.addmm_(a, b)`, ...) against
PyTorch: one table drives the values and dtypes, the integer-tensor cases, the version
counter and the gradients through an in-place op on a tensor in the graph."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

# name: (input shape, input range, operands). An operand is a shape (a tensor drawn from
# the same range), a number, or ("kw", name, value) for a keyword argument.
_SQ = (3, 3)
_UNIT = (0.1, 0.9)
_WIDE = (-2.0, 2.0)
_ABOVE_ONE = (1.5, 3.0)

INPLACE: dict[str, tuple] = {
    # one-argument functions
    **{
        n: (_SQ, _UNIT, ())
        for n in """cos sin tan acos arccos asin arcsin atan arctan cosh sinh asinh arcsinh atanh
        arctanh exp2 expm1 log1p log2 log10 rsqrt sign sgn deg2rad rad2deg logical_not abs absolute
        neg negative exp log sqrt sigmoid tanh relu square reciprocal ceil round floor trunc frac
        """.split()
    },
    "acosh": (_SQ, _ABOVE_ONE, ()),
    "arccosh": (_SQ, _ABOVE_ONE, ()),
    # two-argument functions, with a tensor operand that broadcasts
    **{
        n: (_SQ, _WIDE, ((3,),))
        for n in """clamp_min clamp_max copysign hypot eq ne not_equal lt less le less_equal gt greater
        ge greater_equal logical_and logical_or logical_xor add sub subtract mul multiply div divide
        true_divide atan2 fmod remainder""".split()
    },
    "heaviside": (_SQ, _WIDE, ((3,),)),
    "pow": (_SQ, _ABOVE_ONE, ((3,),)),
    "float_power": (_SQ, _ABOVE_ONE, ((3,),)),
    "clamp_min_number": (_SQ, _WIDE, (0.5,)),
    "div_floor": (_SQ, _WIDE, ((3,), ("kw", "rounding_mode", "floor"))),
    "lerp": (_SQ, _WIDE, ((3, 3), 0.3)),
    "addcmul": (_SQ, _WIDE, ((3, 3), (3,))),
    "addcdiv": (_SQ, _ABOVE_ONE, ((3, 3), (3,))),
    # with dims and matrices
    "cumsum": (_SQ, _WIDE, (1,)),
    "tril": (_SQ, _WIDE, ()),
    "triu": (_SQ, _WIDE, (1,)),
    "renorm": (_SQ, _WIDE, (2, 0, 1.0)),
    "addmm": (_SQ, _WIDE, ((3, 4), (4, 3))),
    "addmv": ((3,), _WIDE, ((3, 4), (4,))),
    "baddbmm": ((2, 3, 3), _WIDE, ((2, 3, 4), (2, 4, 3))),
}

# table rows named other than their method
_METHOD = {"clamp_min_number": "clamp_min_", "div_floor": "div_"}

# PyTorch's heaviside has no gradient (its backward raises)
_NO_GRADIENT = {"heaviside"}

# PyTorch 2.13 has no derivative for these in-place forms: compare with its out-of-place op
_TORCH_OUT_OF_PLACE = {"acosh", "arccosh", "asinh", "arcsinh", "atanh", "arctanh"}

# PyTorch 2.13 records no node for these in-place forms, so the gradient flows through them
# as if they were the identity; ember's is zero, as for their out-of-place forms
# (docs/differences.md)
_ZERO_GRADIENT = {"logical_not", "logical_and", "logical_or", "logical_xor"}


def _method(row: str) -> str:
    return _METHOD.get(row, row + "_")


def _call(lib: Any, row: str, np_dtype: Any, requires_grad: bool = False, seed: int = 0) -> tuple:
    """(leaves, result): the row's method called on a non-leaf made from a leaf, in lib."""
    shape, (low, high), operands = INPLACE[row]
    rng = np.random.default_rng(seed)

    def leaf(s: tuple) -> Any:
        data = rng.uniform(low, high, s)
        if np.dtype(np_dtype).kind == "i":
            data = np.round(data * 2)
        return lib.tensor(data.astype(np_dtype), requires_grad=requires_grad)

    x = leaf(shape)
    leaves = [x]
    args, kwargs = [], {}
    for op in operands:
        if isinstance(op, tuple) and op and op[0] == "kw":
            kwargs[op[1]] = op[2]
        elif isinstance(op, tuple):
            leaves.append(leaf(op))
            args.append(leaves[-1])
        else:
            args.append(op)
    y = x * 1 if requires_grad else x
    if requires_grad and lib is not ember and row in _TORCH_OUT_OF_PLACE:
        y = getattr(y, row)(*args, **kwargs)
        return leaves, y, y
    return leaves, y, getattr(y, _method(row))(*args, **kwargs)


def test_every_inplace_form_of_an_ember_method_exists() -> None:
    """For each method n of ember's Tensor whose in-place form torch.Tensor has, ember has
    it too, except the shape-changing ones (docs/differences.md)."""
    torch = pytest.importorskip("torch")
    missing = {
        n + "_"
        for n in dir(torch.Tensor)
        if not n.startswith("_")
        and hasattr(torch.Tensor, n + "_")
        and callable(getattr(ember.Tensor, n, None))
        and not hasattr(ember.Tensor, n + "_")
    }
    assert missing <= {"squeeze_", "unsqueeze_", "t_", "transpose_", "swapaxes_", "swapdims_"}


@requires_torch
@pytest.mark.parametrize("row", sorted(INPLACE))
def test_inplace_value_dtype_version_and_identity(row: str) -> None:
    import torch

    dtype = np.float64 if row == "float_power" else np.float32
    _, x_e, r_e = _call(ember, row, dtype)
    _, x_t, r_t = _call(torch, row, dtype)
    assert r_e is x_e  # the method returns the tensor it changed
    assert x_e._version == x_t._version == 1
    assert str(x_e.dtype).split(".")[1] == str(x_t.dtype).split(".")[1]
    assert_close(x_e, x_t.detach(), rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("row", sorted(INPLACE))
def test_inplace_on_an_integer_tensor_as_pytorch(row: str) -> None:
    """An integer result is written; a float one raises, in both (PyTorch's message)."""
    import torch

    try:
        _, x_t, _ = _call(torch, row, np.int64)
    except (RuntimeError, NotImplementedError, TypeError) as e:
        with pytest.raises((RuntimeError, TypeError)) as got:
            _call(ember, row, np.int64)
        if "can't be cast to the desired output type" in str(e):
            assert "can't be cast to the desired output type Long" in str(got.value)
        return
    _, x_e, _ = _call(ember, row, np.int64)
    assert x_e.dtype == ember.int64
    assert_close(x_e, x_t)


@requires_torch
@pytest.mark.parametrize("row", sorted(set(INPLACE) - _NO_GRADIENT))
def test_gradient_through_inplace_on_a_non_leaf(row: str) -> None:
    """x -> y = x * 1 -> y.<op>_(operands) -> weighted sum: every leaf's gradient as torch's."""
    import torch

    leaves_e, y_e, _ = _call(ember, row, np.float64, requires_grad=True)
    leaves_t, y_t, _ = _call(torch, row, np.float64, requires_grad=True)
    assert y_e.requires_grad and y_t.requires_grad
    w = np.random.default_rng(1).normal(size=tuple(y_t.shape))
    (y_e * ember.tensor(w)).sum().backward()
    (y_t * torch.tensor(w)).sum().backward()
    for a, b in zip(leaves_e, leaves_t):
        expected = b.grad
        if expected is None or expected._is_zerotensor() or row in _ZERO_GRADIENT:
            expected = torch.zeros_like(b)
        assert_close(a.grad if a.grad is not None else ember.zeros_like(a), expected, rtol=1e-9, atol=1e-12)


@requires_torch
def test_gradient_through_inplace_on_a_view_of_a_non_leaf() -> None:
    import torch

    def run(lib: Any) -> Any:
        x = lib.tensor([[0.2, 0.4], [0.6, 0.8]], dtype=lib.float64, requires_grad=True)
        y = x * 2
        y[0].cos_()
        y[:, 1].hypot_(lib.tensor([0.5, 1.5], dtype=lib.float64))
        (y * lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)).sum().backward()
        return y.detach(), x.grad

    for a, b in zip(run(ember), run(torch)):
        assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_inplace_on_a_leaf_that_requires_grad_raises() -> None:
    x = ember.ones(3, requires_grad=True)
    for call in (lambda: x.cos_(), lambda: x.clamp_min_(0.5), lambda: x.hypot_(ember.ones(3))):
        with pytest.raises(
            RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"
        ):
            call()
    with ember.no_grad():
        x.cos_()  # the optimizer's case
    assert_close(x, np.cos(np.ones(3)))


def test_float_result_into_an_integer_tensor_raises_pytorchs_message() -> None:
    x = ember.ones(3, dtype=ember.int64)
    for call in (lambda: x.cos_(), lambda: x.clamp_min_(0.5), lambda: x.div_(2), lambda: x.exp_()):
        with pytest.raises(
            RuntimeError, match="result type Float can't be cast to the desired output type Long"
        ):
            call()
    assert x._version_cell[0] == 0 and x.tolist() == [1, 1, 1]  # nothing was written
    with pytest.raises(
        RuntimeError, match="float_power_ has dtype Float but the operation's result requires"
    ):
        ember.ones(2).float_power_(2)


@pytest.mark.parametrize(
    "call",
    [
        lambda F, t: F.elu_(t, 0.5),
        lambda F, t: F.celu_(t, 2.0),
        lambda F, t: F.selu_(t),
        lambda F, t: F.hardtanh_(t, -0.5, 0.2),
        lambda F, t: F.leaky_relu_(t, 0.2),
        lambda F, t: F.threshold_(t, 0.1, -3.0),
    ],
)
def test_functional_inplace_activations_as_torch(T, call) -> None:
    # torch.nn.functional's elu_, celu_, selu_, hardtanh_, leaky_relu_ and threshold_ were
    # missing from ember's F
    x = T.tensor([-1.0, 0.05, 0.5], dtype=T.float64, requires_grad=True)
    y = x * 1
    assert call(T.nn.functional, y) is y
    y.sum().backward()
    expected = call(T.nn.functional, T.tensor([-1.0, 0.05, 0.5], dtype=T.float64))
    assert y.tolist() == expected.tolist()
    assert x.grad is not None
