"""PyTorch's legacy tensor types, `ember.FloatTensor`, `ember.LongTensor` and their kin, still
met in older course code: `torch.FloatTensor([1, 2])`, `torch.LongTensor(3, 4)`,
`isinstance(x, torch.FloatTensor)`, `x.type(torch.DoubleTensor)`,
`torch.set_default_tensor_type(torch.DoubleTensor)`.

Each is a class whose call is the legacy constructor (`Tensor.new` on an empty tensor of its
dtype) and whose isinstance test is a test of the dtype; the tensors made are ordinary
`ember.Tensor`s, as in PyTorch.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ember import dtypes
from ember._tensor import Tensor


class _LegacyTensorType(type):
    """The type of ember.FloatTensor and its kin."""

    dtype: dtypes.dtype

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:  # type: ignore[override]
        from ember.ops.api.more import new

        return new(Tensor(np.empty((0,), cls.dtype.numpy)), *args, device=device)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.numpy

    def __repr__(cls) -> str:
        return f"<class 'ember.{cls.__name__}'>"


def _legacy(name: str, dtype: dtypes.dtype) -> _LegacyTensorType:
    doc = f"The legacy tensor type of dtype {dtype}: `ember.{name}(data)` or `ember.{name}(*sizes)`."
    return _LegacyTensorType(name, (), {"dtype": dtype, "__doc__": doc, "__module__": "ember"})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool)

_BY_NAME = {
    t.__name__: t
    for t in (
        FloatTensor,
        DoubleTensor,
        HalfTensor,
        LongTensor,
        IntTensor,
        ShortTensor,
        CharTensor,
        ByteTensor,
        BoolTensor,
    )
}


def dtype_of(t: Any) -> dtypes.dtype | None:
    """The dtype a legacy type names: the class, or its name ('torch.FloatTensor',
    'ember.FloatTensor', 'FloatTensor'); None for anything else. A CUDA type raises."""
    if isinstance(t, _LegacyTensorType):
        return t.dtype
    if isinstance(t, str):
        if ".cuda." in t:
            raise RuntimeError(f"ember runs on the CPU only; the type {t!r} is not available")
        legacy = _BY_NAME.get(t.rpartition(".")[2])
        if legacy is None:
            raise ValueError(f"invalid type: {t!r}")
        return legacy.dtype
    return None


_warned_default_tensor_type = [False]  # PyTorch warns once per process


def set_default_tensor_type(t: Any) -> None:
    """Deprecated (torch.set_default_tensor_type): the default dtype of a floating legacy
    type or its name. Use ember.set_default_dtype. Warns on the first call only (a call that
    raises included), as PyTorch does."""
    if not _warned_default_tensor_type[0]:
        _warned_default_tensor_type[0] = True
        warnings.warn(
            "ember.set_default_tensor_type() is deprecated, as torch.set_default_tensor_type() is "
            "since PyTorch 2.1: use ember.set_default_dtype() instead.",
            UserWarning,
            stacklevel=2,
        )
    dtype = dtype_of(t)
    if dtype is None:
        raise TypeError(f"set_default_tensor_type expects a tensor type or its name, got {t!r}")
    if not dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    dtypes.set_default_dtype(dtype)
