"""Matrix products and softmax."""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any

import numpy as np

from ember import _bfloat16, dtypes
from ember._layout import SparseUnsupportedError
from ember._stacklevel import outside_ember
from ember._tensor import Tensor
from ember.autograd.function import apply_one
from ember.ops import fused, linalg
from ember.ops.api.arith import _tensor_of
from ember.ops.api.arrange import broadcast_shapes, broadcast_tensors
from ember.ops.api.shape import (
    permute,
    reshape,
    select,
    stack,
    unsqueeze,
)
from ember.ops.elementwise import MulScalar, Where
from ember.ops.linalg import einsum  # noqa: F401  (public)
from ember.ops.reduction import normalize_dim

# ---- products ------------------------------------------------------------------------------


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy's rules for 1-D operands and broadcast batches (torch.matmul)."""
    return _matmul(input, other, None)


def _matmul(input: Any, other: Any, node: Any) -> Tensor:
    a, b = _tensor_of(input), _tensor_of(other)
    sa, sb = a._data.shape, b._data.shape
    if a._data.dtype != b._data.dtype and not _bfloat16.autocast[0]:  # PyTorch does not promote here
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
    except SparseUnsupportedError:
        # a sparse operand: found here, where the dense product refused it, so that dense
        # products pay nothing for sparse ones (a try costs nothing until something is raised)
        from ember.sparse import _ops

        return _ops._product(a, b, "BmmBackward0" if node is linalg.Bmm else "MmBackward0")


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
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(
            f'"{op}_kernel_impl" not implemented for {input.dtype} (pass dtype=ember.float32 or call .float())'
        )
    return input


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """exp(x) / exp(x).sum(dim), computed stably (torch.softmax)."""
    input = _softmax_input(input, dtype, "softmax")
    return apply_one(fused.Softmax, input, normalize_dim(dim, input._data.ndim, "softmax"))


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """x - logsumexp(x, dim), computed stably (torch.log_softmax)."""
    input = _softmax_input(input, dtype, "log_softmax")
    return apply_one(fused.LogSoftmax, input, normalize_dim(dim, input._data.ndim, "log_softmax"))


# ---- more products ---------------------------------------------------------------------------


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Sum of products over the last `dims` dims of a and the first of b, or over the listed pairs
    of dims (torch.tensordot)."""
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, got {da} and {db}")
    da = [normalize_dim(d, na, "tensordot", scalar_ok=False) for d in da]
    db = [normalize_dim(d, nb, "tensordot", scalar_ok=False) for d in db]
    for i, j in zip(da, db):
        if a._data.shape[i] != b._data.shape[j]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a._data.shape[i]} in dim {i} "
                f"and second has size {b._data.shape[j]} in dim {j}"
            )
    free_a = [i for i in range(na) if i not in da]
    free_b = [j for j in range(nb) if j not in db]
    k = math.prod(a._data.shape[i] for i in da)
    rows, cols = (tuple(a._data.shape[i] for i in free_a), tuple(b._data.shape[j] for j in free_b))
    # the sizes are spelled out: -1 cannot be inferred where a contracted size is 0
    left = reshape(permute(a, free_a + da), (math.prod(rows), k))
    right = reshape(permute(b, db + free_b), (k, math.prod(cols)))
    out_shape = rows + cols
    return reshape(matmul(left, right), out_shape)


def _scaled_sum(input: Tensor, product: Tensor, beta: Any, alpha: Any, op: str) -> Tensor:
    """beta * input + alpha * product; with beta == 0 input is ignored (nan and inf included)."""
    input = _tensor_of(input)
    try:
        shape = broadcast_shapes(input._data.shape, product._data.shape)
    except RuntimeError:
        shape = None
    if shape != product._data.shape:
        raise RuntimeError(
            f"{op}: the input of shape {list(input._data.shape)} cannot be broadcast to the "
            f"product's shape {list(product._data.shape)}"
        )
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # input stays in the graph, with a zero gradient, as in PyTorch
        return product + Where.apply(np.True_, 0.0, input) if input.requires_grad else product
    if beta == 1:
        return product + input
    if (beta.__class__ is float or beta.__class__ is int) and input._data.dtype.kind in "fV":
        return product + apply_one(MulScalar, input, beta)  # beta kept as a number, as PyTorch's
    return product + input * beta


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2) (torch.addmm)."""
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"addmm: expected 2D matrices, got {mat1.ndim}D and {mat2.ndim}D")
    return _scaled_sum(input, _matmul(mat1, mat2, linalg.Mm), beta, alpha, "addmm")


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat @ vec) (torch.addmv)."""
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"addmv: expected a 2D matrix and a 1D vector, got {mat.ndim}D and {vec.ndim}D")
    return _scaled_sum(input, _matmul(mat, vec, linalg.Matmul), beta, alpha, "addmv")


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2) for batches of matrices (torch.baddbmm)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha, "baddbmm")


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along dim (by default the first dim of size 3), broadcasting the
    other dims (torch.cross)."""
    input, other = _tensor_of(input), _tensor_of(other)
    if input.ndim != other.ndim:
        raise RuntimeError(
            f"linalg.cross: inputs must have the same number of dimensions (shapes {list(input.shape)} "
            f"and {list(other.shape)})"
        )
    a, b = broadcast_tensors(input, other)
    shape = a._data.shape
    if dim is None:
        warnings.warn(
            "Using cross without specifying the dim arg is deprecated (as in PyTorch): pass dim; "
            "the first dimension of size 3 is used",
            UserWarning,
            stacklevel=outside_ember(),
        )
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input (shape {list(shape)})")
    d = normalize_dim(dim, len(shape), "cross", scalar_ok=False)
    if shape[d] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {d} must have length 3. "
            f"Got {input.shape[d] if input.ndim == len(shape) else shape[d]} and "
            f"{other.shape[d] if other.ndim == len(shape) else shape[d]}"
        )
    if input._data.dtype == np.bool_:  # PyTorch refuses it before comparing the dtypes
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    if input._data.dtype != other._data.dtype:  # PyTorch promotes neither way, complex and real included
        raise RuntimeError(
            f"expected scalar type {dtypes.scalar_type_name(input._data.dtype)} but found "
            f"{dtypes.scalar_type_name(other._data.dtype)}"
        )
    a0, a1, a2 = (select(a, d, i) for i in range(3))
    b0, b1, b2 = (select(b, d, i) for i in range(3))
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product: every element of input times the whole of other, laid out in blocks (torch.kron)."""
    a, b = _tensor_of(input), _tensor_of(other)
    n = builtins.max(a._data.ndim, b._data.ndim)
    sa = (1,) * (n - a._data.ndim) + a._data.shape
    sb = (1,) * (n - b._data.ndim) + b._data.shape
    wide_a = reshape(a, tuple(x for s in sa for x in (s, 1)))
    wide_b = reshape(b, tuple(x for s in sb for x in (1, s)))
    return reshape(wide_a * wide_b, tuple(x * y for x, y in zip(sa, sb)))
