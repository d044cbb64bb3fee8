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
from ember.ops.api.convert import type_

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
