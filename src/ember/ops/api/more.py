"""Small functions and methods PyTorch programs call: tests of a tensor (is_nonzero,
is_signed, typename), scalar_tensor, the in-place view changes (t_, transpose_, squeeze_,
unsqueeze_), and compositions of existing ops (ravel, fliplr, vdot, addr, addbmm, diagflat,
trapezoid, vander, the window functions, ...), whose gradients are those of the ops they
are made of.
"""

from __future__ import annotations

import builtins
import numbers
from typing import Any

import numpy as np

from ember import dtypes
from ember._tensor import Tensor
from ember.autograd import grad_mode, views
from ember.ops.api import shape
from ember.ops.api.convert import type_

_grad_state = grad_mode._state

# ---- tests of a tensor ---------------------------------------------------------------------


def _tensor_argument(fn: str, name: str, position: int, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{fn}(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}"
        )


def is_nonzero(input: Tensor) -> bool:
    """Whether a one-element tensor is not zero (torch.is_nonzero)."""
    _tensor_argument("is_nonzero", "input", 1, input)
    if input._data.size == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input._data.size > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return builtins.bool(input._data.reshape(()) != 0)


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether two tensors have the same shape (torch.is_same_size)."""
    _tensor_argument("is_same_size", "input", 1, input)
    _tensor_argument("is_same_size", "other", 2, other)
    return input._data.shape == other._data.shape


def is_signed(input: Tensor) -> bool:
    """Whether the dtype holds negative numbers: floats and signed integers (torch.is_signed)."""
    return input._data.dtype.kind in "fi"


def typename(obj: Any) -> str:
    """A tensor's type name ('ember.FloatTensor'), or any object's module and name
    (torch.typename)."""
    if isinstance(obj, Tensor):
        return type_(obj)
    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return name if module in ("", "builtins") else f"{module}.{name}"


def scalar_tensor(
    s: Any,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    pin_memory: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A 0-d tensor holding the number s, of the default dtype unless another is given, even
    for an int (torch.scalar_tensor)."""
    from ember._tensor import device as _device

    if device is not None:
        _device(device)
    if isinstance(s, Tensor) and s._data.size == 1:
        s = s._data.item()
    if not isinstance(s, numbers.Number):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not {type(s).__name__}")
    np_dtype = dtypes.to_numpy_dtype(dtype if dtype is not None else dtypes.get_default_dtype())
    value = dtypes.to_element(s, np_dtype)
    return Tensor(np.array(value).astype(np_dtype), requires_grad=requires_grad)


# ---- in-place view changes: t_, transpose_, swapdims_, swapaxes_, squeeze_, unsqueeze_ -------


def _view_change(out_of_place: Any, name: str) -> Any:
    """`x.<name>(*args)`: x takes the shape and strides of `out_of_place(x, *args)`, a view of
    the same memory, and that view's place in the graph; its version counter moves on, so
    nodes that saved x raise, as in PyTorch. A base stays a base (its node becomes the view
    op of its old node); a view stays a view of its base, one view op further along."""

    def op(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if _grad_state[0]:
            views.current(input)
            base = input._base
            if input.grad_fn is None and input._requires_grad:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation. "
                    f"(Use the out-of-place form, x = x.{name[:-1]}(...), or wrap it in `with ember.no_grad():`.)"
                )
            if base is not None and base.grad_fn is None and base._requires_grad:
                raise RuntimeError(
                    "a view of a leaf Variable that requires grad is being used in an in-place "
                    "operation. (Use the out-of-place form, or clone() the view.)"
                )
            if base is not None and input._view_fn is None and base._requires_grad:
                views.no_grad_view_error()
        result = out_of_place(input, *args, **kwargs)  # checks the dims; a recorded view op
        input._data = result._data
        if input._base is None:
            if result._requires_grad:
                views.take_node(input, result)
        else:
            parent = input._view_fn
            if parent is not None and _grad_state[0]:
                input._view_fn = lambda t: out_of_place(parent(t), *args, **kwargs)
            else:
                input._view_fn = None
            views.take_node(input, result)
        input._version[0] += 1
        input._view_at = input._version[0]
        return input

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In-place {name[:-1]}: changes this tensor's shape (torch.Tensor.{name})."
    return op


def _t(input: Tensor) -> Tensor:
    if input._data.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return shape.t(input)


t_ = _view_change(_t, "t_")
transpose_ = _view_change(shape.transpose, "transpose_")
swapdims_ = _view_change(shape.swapdims, "swapdims_")
swapaxes_ = _view_change(shape.swapaxes, "swapaxes_")
squeeze_ = _view_change(shape.squeeze, "squeeze_")
unsqueeze_ = _view_change(shape.unsqueeze, "unsqueeze_")
