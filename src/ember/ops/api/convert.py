"""dtype conversion, copies and in-place operations."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import dtypes
from ember import random as _random
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.ops import elementwise as ew
from ember.ops.api import arith
from ember.ops.api.arith import (
    _check_fits,
    _check_inplace_leaf,
    _check_sub,
    _record_inplace,
    _tensor_of,
    _wants_grad,
    add,
    clamp,
    div,
    floor,
    mul,
    sub,
    where,
)
from ember.ops.api.indexing import masked_fill

_grad_state = grad_mode._state

# ---- dtype conversion and copies --------------------------------------------------------


class ToCopy(ew.Op):
    """x.to(dtype) (ToCopyBackward0): the gradient is cast back to the input's dtype."""

    @staticmethod
    def forward(ctx, x, np_dtype):
        return x.astype(np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None  # the engine casts to the input dtype


class Clone(ew.Op):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def to(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Convert the dtype (`x.to(ember.float64)`, `x.to(other)`); devices other than cpu raise."""
    target = kwargs.get("dtype")
    for a in args + tuple(v for k, v in kwargs.items() if k == "device"):
        if isinstance(a, Tensor):
            target = a.dtype
        elif isinstance(a, dtypes.dtype) or (isinstance(a, type) and a in (float, int, bool)):
            target = a
        elif isinstance(a, np.dtype):
            target = dtypes.from_numpy_dtype(a)
        elif a is not None:
            from ember._tensor import device

            device(a)  # raises for anything but the CPU
    if target is None:
        return input
    np_dtype = dtypes.to_numpy_dtype(target)
    if np_dtype == input._data.dtype:
        return input
    if np_dtype.kind != "f":
        return Tensor(input._data.astype(np_dtype))
    return ToCopy.apply(input, np_dtype)


def type_(input: Tensor, dtype: Any = None) -> Any:
    if dtype is None:
        return f"ember.{_TYPE_NAMES.get(input._data.dtype.name, 'Tensor')}"
    return to(input, dtype)


_TYPE_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "bool": "BoolTensor",
    "uint8": "ByteTensor",
    "float16": "HalfTensor",
}


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    return Clone.apply(input)


def detach(input: Tensor) -> Tensor:
    return input.detach()


def numel(input: Tensor) -> int:
    return input.numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


# ---- in-place operations -----------------------------------------------------------------


def _inplace(ufunc: Any, out_of_place: Any, name: str, check: Any = None) -> Any:
    def op(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
        if check is not None:
            check(input, other)
        if alpha != 1:
            dtypes.to_element(alpha, input._data.dtype)  # alpha must fit, as in PyTorch
            other = other * alpha
        _check_inplace_leaf(input)
        if _grad_state[0] and (input._requires_grad or _wants_grad(other)):
            return _record_inplace(input, lambda x: out_of_place(x, other))
        value = other._data if isinstance(other, Tensor) else other
        if isinstance(value, np.generic):
            value = value.item()
        value = dtypes.wrap_int(value, input._data.dtype)  # uint8 += -1 wraps, as in PyTorch
        try:
            ufunc(input._data, value, out=input._data, casting="same_kind")
        except np._core._exceptions._UFuncOutputCastingError:  # type: ignore[attr-defined]
            wanted = out_of_place(input.detach(), other.detach() if isinstance(other, Tensor) else other)
            raise RuntimeError(
                f"{name}: result type {wanted.dtype} can't be cast to the desired output type {input.dtype}"
            ) from None
        except ValueError:
            raise RuntimeError(
                f"{name}: output with shape {list(input._data.shape)} doesn't match the broadcast "
                f"shape of the inputs ({list(input._data.shape)} and {list(np.shape(value))})"
            ) from None
        input._version[0] += 1
        return input

    op.__name__ = op.__qualname__ = name
    return op


add_ = _inplace(np.add, add, "add_")
sub_ = _inplace(np.subtract, sub, "sub_", check=_check_sub)
mul_ = _inplace(np.multiply, mul, "mul_")
div_ = _inplace(np.true_divide, div, "div_")


def _inplace_unary(compute: Any, out_of_place: Any, input: Tensor) -> Tensor:
    _check_inplace_leaf(input)
    if _grad_state[0] and input._requires_grad:
        return _record_inplace(input, out_of_place)
    input._data[...] = compute(input._data)
    input._version[0] += 1
    return input


def _replaced(x: Tensor, value: Any) -> Tensor:
    """`value` (a number or a tensor that broadcasts to x) in x's shape and dtype, recorded
    as replacing x: x's gradient is zero, value's the sum over its copies. The out-of-place
    form of fill_ and copy_; with where, because x * 0 + value gives nan where x is inf."""
    if isinstance(value, Tensor) and value._data.dtype != x._data.dtype:
        value = value.to(x.dtype)
    return where(Tensor(np.zeros(x._data.shape, bool)), x, value)


def zero_(input: Tensor) -> Tensor:
    return fill_(input, 0)


def fill_(input: Tensor, value: Any) -> Tensor:
    """Set every element to value (a number, or a 0-d tensor, whose gradient is the sum)."""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value._data.ndim} dimensions."
            )
        if _grad_state[0] and _wants_grad(value):
            _check_inplace_leaf(input)
            return _record_inplace(input, lambda x: _replaced(x, value))
        value = value._data.astype(input._data.dtype)  # a tensor is cast (wraps), not checked
    else:
        value = dtypes.to_element(value, input._data.dtype)
    return _inplace_unary(lambda a: value, lambda x: _replaced(x, value), input)


def clamp_(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    if input._data.dtype.kind in "iub" and any(
        isinstance(v, float) or (isinstance(v, Tensor) and v._data.dtype.kind == "f") for v in (min, max)
    ):
        raise RuntimeError(
            f"clamp_: result type Float can't be cast to the desired output type {input.dtype}"
        )
    # clamp's own rules for the bounds (an int bound must fit an integer dtype), on the array
    return _inplace_unary(lambda a: clamp(Tensor(a), min, max)._data, lambda x: clamp(x, min, max), input)


clip_ = clamp_


def floor_(input: Tensor) -> Tensor:
    return _inplace_unary(np.floor, floor, input)


def _unary_inplace(out_of_place: Any, name: str) -> Any:
    """x.exp_() and its kin: the out-of-place op, written back into x."""

    def compute(input: Tensor, a: np.ndarray) -> np.ndarray:
        result = out_of_place(Tensor(a))
        _check_fits(input, result, name)  # exp_ of an integer tensor is an error, not a truncation
        return result._data

    def op(input: Tensor) -> Tensor:
        return _inplace_unary(lambda a: compute(input, a), out_of_place, input)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In-place {name[:-1]} (torch.Tensor.{name})."
    return op


abs_ = _unary_inplace(arith.abs, "abs_")
neg_ = _unary_inplace(arith.neg, "neg_")
exp_ = _unary_inplace(arith.exp, "exp_")
log_ = _unary_inplace(arith.log, "log_")
sqrt_ = _unary_inplace(arith.sqrt, "sqrt_")
sigmoid_ = _unary_inplace(arith.sigmoid, "sigmoid_")
tanh_ = _unary_inplace(arith.tanh, "tanh_")
relu_ = _unary_inplace(arith.relu, "relu_")
square_ = _unary_inplace(arith.square, "square_")
reciprocal_ = _unary_inplace(arith.reciprocal, "reciprocal_")
ceil_ = _unary_inplace(arith.ceil, "ceil_")
round_ = _unary_inplace(arith.round, "round_")


def uniform_(input: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with samples from the uniform distribution on [a, b) (torch.Tensor.uniform_)."""
    sample = _random.rng(generator).uniform(a, b, input._data.shape).astype(input._data.dtype)
    return _inplace_unary(lambda _: sample, lambda x: _replaced(x, Tensor(sample)), input)


def normal_(input: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with samples from a normal distribution (torch.Tensor.normal_)."""
    sample = _random.rng(generator).normal(mean, std, input._data.shape).astype(input._data.dtype)
    return _inplace_unary(lambda _: sample, lambda x: _replaced(x, Tensor(sample)), input)


def type_as(input: Tensor, other: Tensor) -> Tensor:
    return to(input, other.dtype)


def copy_(input: Tensor, src: Any) -> Tensor:
    """Copy src's values into input (broadcasting), keeping input's dtype."""
    src = _tensor_of(src)
    _check_inplace_leaf(input)
    if _grad_state[0] and (input._requires_grad or _wants_grad(src)):
        return _record_inplace(input, lambda x: _replaced(x, src))
    try:
        np.copyto(input._data, src._data, casting="unsafe")
    except ValueError:
        raise RuntimeError(
            f"copy_: the source shape {list(src.shape)} cannot be broadcast to {list(input.shape)}"
        ) from None
    input._version[0] += 1
    return input


def masked_fill_(input: Tensor, mask: Any, value: Any) -> Tensor:
    _check_inplace_leaf(input)
    if _grad_state[0] and (input._requires_grad or _wants_grad(value)):
        return _record_inplace(input, lambda x: masked_fill(x, mask, value))
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    value = value.item() if isinstance(value, Tensor) else value
    input._data[np.broadcast_to(m, input._data.shape)] = dtypes.to_element(value, input._data.dtype)
    input._version[0] += 1
    return input
