"""The legacy sparse tensor types, `ember.sparse.FloatTensor` and its kin, met in older graph
code: `torch.sparse.FloatTensor(indices, values, shape)` (pygcn's adjacency matrix),
`torch.sparse.FloatTensor(*sizes)` for an empty one, and `isinstance(s, torch.sparse.FloatTensor)`.

Each is a class whose call makes a COO tensor of its dtype and whose isinstance test checks the
layout and the dtype, as ember/_legacy.py does for the dense types.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import creation, dtypes
from ember._tensor import Tensor
from ember.sparse._build import sparse_coo_tensor
from ember.sparse._tensor import SparseTensor, sparse_coo


class _LegacySparseType(type):
    """The type of ember.sparse.FloatTensor and its kin."""

    dtype: dtypes.dtype

    def __call__(cls, *args: Any, device: Any = None) -> SparseTensor:  # type: ignore[override]
        if len(args) >= 2 and isinstance(args[0], Tensor) and isinstance(args[1], Tensor):
            # PyTorch keeps the values' dtype here (DoubleTensor(i, float32 values) is float32);
            # ember gives the type's dtype, which is what the name promises
            size = args[2] if len(args) > 2 else None
            return sparse_coo_tensor(args[0], args[1], size, dtype=cls.dtype, device=device)
        sizes = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
        sizes = tuple(int(n) for n in sizes) or (0,)
        empty = creation.zeros(0, dtype=cls.dtype)
        return sparse_coo_tensor(np.zeros((len(sizes), 0), np.int64), empty, sizes, device=device)

    def __instancecheck__(cls, obj: Any) -> bool:
        return (
            isinstance(obj, SparseTensor) and obj.layout is sparse_coo and obj._data.dtype == cls.dtype.numpy
        )

    def __repr__(cls) -> str:
        return f"<class 'ember.sparse.{cls.__name__}'>"


def _legacy(name: str, dtype: dtypes.dtype) -> _LegacySparseType:
    doc = (
        f"The legacy sparse tensor type of dtype {dtype}: `ember.sparse.{name}(indices, values, size)` "
        f"or `ember.sparse.{name}(*sizes)` (an empty COO tensor)."
    )
    return _LegacySparseType(name, (), {"dtype": dtype, "__doc__": doc, "__module__": "ember.sparse"})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
