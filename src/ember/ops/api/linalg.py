"""Products and distances of vectors: inner, mv, dist, cdist, renorm.

All but cdist are composed of differentiable ops (matmul, norm, where), so their gradients,
second derivatives included, are those ops' gradients; cdist is one node (ops/linalg.py).
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes
from ember._tensor import Tensor
from ember.ops import linalg
from ember.ops.api.arith import _tensor_of, mul, sub, where
from ember.ops.api.products import matmul
from ember.ops.api.reduce import norm
from ember.ops.api.shape import reshape
from ember.ops.reduction import normalize_dim


def _check_same_dtype(a: Tensor, b: Tensor, op: str) -> None:
    if a._data.dtype != b._data.dtype:  # PyTorch does not promote in products
        raise RuntimeError(f"{op}(): both inputs should have same dtype, got {a.dtype} and {b.dtype}")


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sums of products over the last dim of both, for every pair of their other indices:
    shape input.shape[:-1] + other.shape[:-1]; a 0-d operand multiplies (torch.inner)."""
    input, other = _tensor_of(input), _tensor_of(other)
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    k = input.shape[-1]
    if other.shape[-1] != k:
        raise RuntimeError(
            "inner() the last dimension must match on both input tensors but got shapes "
            f"{list(input.shape)} and {list(other.shape)}"
        )
    _check_same_dtype(input, other, "inner")
    rows = (math.prod(input.shape[:-1]), k)  # not -1: of a last dim 0, reshape cannot infer it
    product = matmul(reshape(input, rows), reshape(other, (math.prod(other.shape[:-1]), k)).mT)
    return reshape(product, input.shape[:-1] + other.shape[:-1])


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix times vector: (n, m) @ (m,) gives (n,) (torch.mv)."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(
            f"mv(): expected a 2-D matrix and a 1-D vector, got {input.ndim}-D and {vec.ndim}-D"
        )
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"mv(): size mismatch, got mat ({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})"
        )
    return matmul(input, vec)


def _check_float(x: Tensor, op: str, name: str = "input") -> None:
    if x._data.dtype.kind not in "fV":
        raise RuntimeError(f"{op}(): expected a floating point tensor as {name}, got {x.dtype}")


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of input - other, broadcast (torch.dist). For p >= 1, inf and p < 0 this is
    norm(); for 0 <= p < 1 it is the one-row cdist, whose gradient is PyTorch's there."""
    input, other = _tensor_of(input), _tensor_of(other)
    if isinstance(p, Tensor):
        p = p.item()  # a 0-d tensor is a number here, as PyTorch takes it
    difference = sub(input, other)  # promoted as PyTorch's: a float and an int tensor are fine
    if difference._data.dtype.kind == "c":
        from ember.ops.api.complex import complex_abs  # the distance of complex numbers: |input - other|

        difference = complex_abs(difference)
    _check_float(difference, "dist", "input - other")
    if p >= 1 or p < 0:  # a negative p is vector_norm's (sum |d|^p)^(1/p), as in PyTorch
        return norm(difference, p)
    row = reshape(difference, (1, -1))
    return reshape(linalg.Cdist.apply(row, Tensor(np.zeros(row.shape, row._data.dtype)), float(p)), ())


def cdist(
    x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"
) -> Tensor:
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M):
    (..., P, R), batch dims broadcast (torch.cdist). For p = 2, as PyTorch, by a matrix
    product (sqrt(|a|^2 + |b|^2 - 2 a.b): fast, not exact) when compute_mode is
    'use_mm_for_euclid_dist', or the default 'use_mm_for_euclid_dist_if_necessary' and P or
    R is above 25; otherwise from the differences, exactly."""
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.dtype.kind not in "fV":
            raise RuntimeError(
                f"cdist only supports floating-point dtypes, {name} got: {dtypes.scalar_type_name(x._data.dtype)}"
            )
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"cdist(): expected x1 and x2 of the same dtype, got {x1.dtype} and {x2.dtype}")
    try:
        np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"cdist(): the batch dimensions of x1 {list(x1.shape)} and x2 {list(x2.shape)} "
            "cannot be broadcast together"
        ) from None
    mm = p == 2 and (
        compute_mode == "use_mm_for_euclid_dist"
        or (compute_mode == _CDIST_MODES[0] and max(x1.shape[-2], x2.shape[-2]) > 25)
    )
    return linalg.Cdist.apply(x1, x2, math.inf if p == math.inf else float(p), mm)


# torch.cdist's compute_mode values; the first is its default
_CDIST_MODES = (
    "use_mm_for_euclid_dist_if_necessary",
    "use_mm_for_euclid_dist",
    "donot_use_mm_for_euclid_dist",
)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The p-norm distance between every pair of rows i < j of an (N, M) input, in the order
    of the upper triangle read row by row: N (N - 1) / 2 values (torch.pdist). Each pair is
    cdist's, so the gradients at zero distances and ties are PyTorch's."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"pdist only supports floating-point dtypes, got {input.dtype}")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    first, second = np.triu_indices(input.shape[0], 1)
    # pair k is the 1-by-1 distance matrix of rows first[k] and second[k]: a batch of pairs
    pairs = linalg.Cdist.apply(
        input[first].unsqueeze(1), input[second].unsqueeze(1), math.inf if p == math.inf else float(p)
    )
    return pairs.reshape(-1)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice of input along dim whose p-norm exceeds maxnorm scaled down to norm
    maxnorm / (1 + 1e-7 / norm), as PyTorch scales it; the others unchanged (torch.renorm).
    A complex input's norms are those of |x|."""
    if input._data.dtype.kind != "c":
        _check_float(input, "renorm")
    if isinstance(maxnorm, complex) or (isinstance(maxnorm, Tensor) and maxnorm.is_complex()):
        raise RuntimeError("renorm: maxnorm must be real-valued")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    axis = normalize_dim(dim, input.ndim, "renorm")
    size = norm(input, p, tuple(i for i in range(input.ndim) if i != axis), keepdim=True)
    factor = where(size > maxnorm, maxnorm / (size + 1e-7), 1.0)
    return mul(input, factor)
