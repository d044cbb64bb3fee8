"""Matrix products and softmax."""

from __future__ import annotations

from typing import Any

from ember._tensor import Tensor
from ember.ops import fused, linalg
from ember.ops.api.arith import _tensor_of
from ember.ops.api.shape import unsqueeze
from ember.ops.linalg import einsum  # noqa: F401  (public)
from ember.ops.reduction import normalize_dim

# ---- products ------------------------------------------------------------------------------


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy's rules for 1-D operands and broadcast batches (torch.matmul)."""
    return _matmul(input, other, None)


def _matmul(input: Any, other: Any, node: Any) -> Tensor:
    a, b = _tensor_of(input), _tensor_of(other)
    sa, sb = a._data.shape, b._data.shape
    if a._data.dtype != b._data.dtype:  # PyTorch does not promote in matrix products
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype} "
            f"(matmul of shapes {list(sa)} and {list(sb)})"
        )
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
    if node is None:  # name the node as PyTorch does for the common cases
        node = {(2, 2): linalg.Mm, (1, 1): linalg.Dot}.get((len(sa), len(sb)), linalg.Matmul)
    try:
        return node.apply(a, b)
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
    return _matmul(input, mat2, linalg.Bmm)


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


def _softmax_input(input: Tensor, dtype: Any, op: str) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(
            f'"{op}_kernel_impl" not implemented for {input.dtype} (pass dtype=ember.float32 or call .float())'
        )
    return input


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """exp(x) / exp(x).sum(dim), computed stably (torch.softmax)."""
    input = _softmax_input(input, dtype, "softmax")
    return fused.Softmax.apply(input, normalize_dim(dim, input._data.ndim, "softmax"))


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """x - logsumexp(x, dim), computed stably (torch.log_softmax)."""
    input = _softmax_input(input, dtype, "log_softmax")
    return fused.LogSoftmax.apply(input, normalize_dim(dim, input._data.ndim, "log_softmax"))
