"""Matrix products and softmax."""

from __future__ import annotations

from typing import Any

from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.ops import fused, linalg
from ember.ops.api.arith import _binary
from ember.ops.api.reduce import _float_for_reduction
from ember.ops.api.shape import unsqueeze
from ember.ops.linalg import einsum  # noqa: F401  (public)
from ember.ops.reduction import normalize_dims

_grad_state = grad_mode._state

# ---- products ------------------------------------------------------------------------------


def matmul(input: Tensor, other: Tensor) -> Tensor:
    a, b = _binary(input, other)
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and {len(sb)}D"
        )
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(sa)} and {_shape_str(sb)})"
        )
    if len(sa) == 2 and len(sb) == 2:
        return linalg.Mm.apply(a, b)
    try:
        return linalg.Matmul.apply(a, b)
    except ValueError:
        raise RuntimeError(
            f"matmul: batch dimensions of {list(sa)} and {list(sb)} cannot be broadcast"
        ) from None


def _shape_str(s: tuple) -> str:
    return "x".join(str(n) for n in s)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2D tensors, got {input.ndim}D and {mat2.ndim}D")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 and batch2 must be 3D tensors, got {input.ndim}D and {mat2.ndim}D")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {list(input.shape)} and {list(mat2.shape)}")
    return matmul(input, mat2)


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src [{other.shape[0]}] to have the same number "
            f"of elements, but got {input.shape[0]} and {other.shape[0]} elements respectively"
        )
    return matmul(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return unsqueeze(input, 1) * unsqueeze(vec2, 0)


ger = outer


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    (d,) = normalize_dims(dim, input._data.ndim, "softmax")
    return fused.Softmax.apply(_float_for_reduction(input, "softmax"), d)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    (d,) = normalize_dims(dim, input._data.ndim, "log_softmax")
    return fused.LogSoftmax.apply(_float_for_reduction(input, "log_softmax"), d)
