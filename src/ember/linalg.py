"""ember.linalg: linear algebra with PyTorch's names (torch.linalg).

The matrix functions and decompositions are written in ops/api/matrix.py (checks) and
ops/decomp.py (one node each, with a backward derived by hand); this module names them as
torch.linalg does and adds what is composed of them: the vector and matrix norms, lstsq,
matrix_rank, cond, multi_dot, vecdot. Every function batches over leading dims and takes
float32, float64, complex64 or complex128; gradients, second ones included, flow through
all but matrix_rank and the LDL^T functions (as in PyTorch).

    w = ember.linalg.solve(X.T @ X, X.T @ y)    # the normal equations of a linear regression
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ember import _meta, dtypes
from ember._tensor import Tensor
from ember.ops import _lapack
from ember.ops._lapack import LinAlgError
from ember.ops.api import factor, matrix
from ember.ops.api.arith import abs as _abs
from ember.ops.api.arith import isnan as _isnan
from ember.ops.api.arith import sign as _sign
from ember.ops.api.arith import where as _where
from ember.ops.api.arrange import diagonal as _diagonal
from ember.ops.api.factor import householder_product
from ember.ops.api.matrix import (
    det,
    inv,
    inv_ex,
    matrix_exp,
    matrix_power,
    pinv,
    solve,
)
from ember.ops.api.products import cross as _cross
from ember.ops.api.products import matmul
from ember.ops.api.reduce import amax, amin
from ember.ops.api.reduce import cumprod as _cumprod
from ember.ops.api.shape import cat as _cat
from ember.ops.api.shape import permute, squeeze, unsqueeze
from ember.ops.reduction import LinalgVectorNorm, normalize_dim, normalize_dims
from ember.return_types import return_type

__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eig",
    "eigvals",
    "eigh",
    "eigvalsh",
    "householder_product",
    "inv",
    "inv_ex",
    "ldl_factor",
    "ldl_factor_ex",
    "ldl_solve",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matmul",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_ex",
    "solve_triangular",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
    "vander",
    "vecdot",
    "vector_norm",
]


# ---- decompositions, under their torch.linalg names ------------------------------------------------


def slogdet(A: Tensor) -> Any:
    """(sign, logabsdet) of each square matrix: det = sign * exp(logabsdet), without the
    overflow of det itself (torch.linalg.slogdet)."""
    return matrix._slogdet(A, "linalg_slogdet")


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L with A = L L^H, lower triangular, for Hermitian (real: symmetric) positive-definite A
    (only its lower triangle is read); U = L^H if upper, from A's upper triangle
    (torch.linalg.cholesky). LinAlgError otherwise."""
    return matrix.cholesky_factor(A, upper)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> Any:
    """(L, info) (torch.linalg.cholesky_ex): info is 0, or the order of the first leading
    minor that is not positive-definite, without raising unless check_errors. L is NaN for
    such a matrix here (PyTorch's holds a partial factorization) and, if any fails, carries
    no gradient."""
    matrix.check_matrix(A, "linalg.cholesky_ex")

    def read(m: np.ndarray) -> np.ndarray:  # the triangle that is read, as a lower one
        return m.conj().T if upper else m

    def each(m: np.ndarray) -> np.ndarray:
        lower = np.linalg.cholesky(read(m))
        return lower.conj().T if upper else lower

    return matrix.with_info(
        "linalg_cholesky_ex",
        A,
        lambda a: cholesky(a, upper=upper),
        check_errors,
        lambda m: _lapack.not_positive_definite(read(m)),
        lambda m: _lapack.failing_minor(read(m)),
        each,
    )


def qr(A: Tensor, mode: str = "reduced") -> Any:
    """(Q, R) with A = Q R, Q with orthonormal columns, R upper triangular (torch.linalg.qr).
    mode 'reduced': Q (m, k), R (k, n) with k = min(m, n); 'complete': Q (m, m); 'r': R
    alone, Q empty and no gradient."""
    return return_type("linalg_qr")(*matrix._qr(A, mode))


def eigh(A: Tensor, UPLO: str = "L") -> Any:
    """(eigenvalues, eigenvectors) of each Hermitian (real: symmetric) matrix, eigenvalues
    real and ascending, read from its lower (UPLO='L') or upper triangle
    (torch.linalg.eigh). The gradient assumes distinct eigenvalues; eigenvectors are
    defined up to sign (a phase, complex), so only sign-free uses of them have a gradient
    that means something, and a loss that depends on a complex phase raises PyTorch's
    error."""
    return return_type("linalg_eigh")(*matrix._eigh(A, UPLO, "linalg.eigh"))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues, real and ascending, of each Hermitian (real: symmetric) matrix
    (torch.linalg.eigvalsh)."""
    return matrix._eigh(A, UPLO, "linalg.eigvalsh")[0]


def _eig(A: Tensor, op: str) -> Any:
    from ember.autograd.function import apply
    from ember.ops.decomp import LinalgEig

    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(A).__name__}")
    data = A._data
    if data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if data.dtype.kind not in "fcV" or data.dtype == np.float16:
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got {matrix.scalar_name(A)}"
        )
    if data.shape[-1] != data.shape[-2]:
        raise RuntimeError(
            f"{op}: A must be batches of square matrices, but they are {data.shape[-2]} by {data.shape[-1]} matrices"
        )
    return apply(LinalgEig, A)


def eig(A: Tensor) -> Any:
    """(eigenvalues, eigenvectors) of each square matrix, both complex: A V = V diag(L), each
    eigenvector of norm 1 (torch.linalg.eig). The gradient assumes distinct eigenvalues and a
    loss that does not depend on the eigenvectors' phases (else PyTorch's error)."""
    return return_type("linalg_eig")(*_eig(A, "linalg.eig"))


def eigvals(A: Tensor) -> Tensor:
    """The eigenvalues of each square matrix, complex (torch.linalg.eigvals)."""
    return _eig(A, "linalg.eigvals")[0]


def _no_driver(driver: Any, op: str) -> None:
    if driver is not None:
        raise RuntimeError(
            f"{op}: keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER backend."
        )


def svd(A: Tensor, full_matrices: bool = True, *, driver: Any = None) -> Any:
    """(U, S, Vh) with A = U diag(S) Vh, S descending (torch.linalg.svd). The gradient is for
    distinct singular values; with full_matrices, the columns of U (rows of Vh) beyond
    min(m, n) get none, as in PyTorch."""
    _no_driver(driver, "torch.linalg.svd")
    return return_type("linalg_svd")(*matrix._svd(A, full_matrices))


def svdvals(A: Tensor, *, driver: Any = None) -> Tensor:
    """The singular values of each matrix, descending (torch.linalg.svdvals)."""
    _no_driver(driver, "torch.linalg.svdvals")
    return matrix._svd(A, False, "linalg.svdvals")[1]


# ---- least squares and rank ---------------------------------------------------------------------------


def _singular_values(A: Tensor, hermitian: bool) -> np.ndarray:
    """The singular values of each matrix as an array (no gradient), largest first."""
    a = A._data
    if hermitian:
        return np.sort(np.abs(_lapack.eigh_array(a, compute_v=False)), -1)[..., ::-1]
    return _lapack.svd_array(a, False, compute_uv=False)


def matrix_rank(
    A: Tensor, tol: Any = None, hermitian: bool = False, *, atol: Any = None, rtol: Any = None
) -> Tensor:
    """The number of singular values above max(atol, rtol * the largest), as int64
    (torch.linalg.matrix_rank); rtol defaults to eps * max(m, n) unless a positive atol is
    given. `tol`, by position, is PyTorch's older form of atol (matrix_rank(A, tol, hermitian))."""
    matrix.check_matrix(A, "torch.linalg.matrix_rank", square=hermitian, name="input")
    if tol is not None:
        atol, rtol = tol, 0.0 if rtol is None else rtol
    A = matrix.tolerance_batch(A, atol, rtol)
    s = _singular_values(A, hermitian)
    a_tol, r_tol = matrix.tolerances(A, atol, rtol, "torch.linalg.matrix_rank")
    cutoff = np.maximum(a_tol, r_tol * s[..., :1])
    return Tensor(_meta.asarray((s > cutoff).sum(-1), np.int64))


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> Any:
    """(solution, residuals, rank, singular_values): the X minimizing ||A X - B|| for each
    matrix, the least-norm one if A has dependent columns (torch.linalg.lstsq).

    ember computes X as pinv(A) @ B, whatever the driver (rcond is pinv's rtol), so the
    gradient is that of the pseudo-inverse; the other fields are filled as the driver fills
    them in PyTorch: rank for all but 'gels', singular values for 'gelsd' and 'gelss', the
    squared residuals of each column for m > n and full rank with any driver but 'gelsy'
    (the default). A field that is not computed is an empty tensor."""
    op = "torch.linalg.lstsq"
    matrix.check_matrix(A, op, square=False)
    if not isinstance(B, Tensor):
        raise TypeError(f"{op}(): argument 'B' must be Tensor, not {type(B).__name__}")
    if A.is_meta or B.is_meta:  # as PyTorch, which has no meta kernel for it
        raise NotImplementedError(
            "aten::linalg_lstsq.out: attempted to run this operator with Meta tensors, but there "
            "was no fake impl or Meta kernel registered"
        )
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(
            f"{op}: Expected input and other to have the same dtype, but got input's dtype "
            f"{matrix.scalar_name(A)} and other's dtype {matrix.scalar_name(B)}"
        )
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError(f"{op}: parameter `driver` should be one of ({', '.join(_DRIVERS)})")
    if not 0 <= A._data.ndim - B._data.ndim <= 1:
        raise RuntimeError(
            f"{op}: input.dim() must be greater or equal to other.dim() and (input.dim() - other.dim()) <= 1"
        )
    vector = B._data.ndim == A._data.ndim - 1
    rhs = unsqueeze(B, -1) if vector else B
    if rhs._data.ndim < 2 or rhs._data.shape[-2] != A._data.shape[-2]:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size(-2)")
    solution = matmul(pinv(A, rtol=rcond), rhs)
    m, n = A._data.shape[-2:]
    empty = Tensor(np.zeros((0,), A._data.real.dtype))  # residuals and singular values are real
    rank = Tensor(np.zeros((0,), np.int64))
    if driver != "gels":
        rank = matrix_rank(A, rtol=rcond)
    singular_values = Tensor(_singular_values(A, False)) if driver in ("gelsd", "gelss") else empty
    residuals = empty
    full_rank = driver == "gels" or bool((rank._data == n).all())
    if driver != "gelsy" and m > n and full_rank:
        error = matmul(A, solution) - rhs
        residuals = ((_abs(error) if error._data.dtype.kind == "c" else error) ** 2).sum(-2)
    if vector:
        solution = squeeze(solution, -1)
    return return_type("linalg_lstsq")(solution, residuals, rank, singular_values)


# ---- norms ----------------------------------------------------------------------------------------------


def _float_input(x: Any, dtype: Any, op: str) -> Tensor:
    """x, a float or complex tensor, in `dtype` if given: a wider dtype of its kind, never a
    narrower one. A complex x stays complex (its norms are real all the same), except for
    vector_norm, which needs only its magnitudes."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument must be Tensor, not {type(x).__name__}")
    kind = x._data.dtype.kind
    if kind not in "fcV":
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got {matrix.scalar_name(x)}"
        )
    if dtype is not None:
        wanted = dtypes.to_numpy_dtype(dtype)
        if kind == "c" and wanted.kind != "c":
            raise RuntimeError(
                f"{op}: dtype should be complex for complex inputs, but got {dtypes.scalar_type_name(wanted)}"
            )
        if kind != "c" and wanted.kind == "c":
            raise RuntimeError(
                f"{op}: dtype should be real for real inputs, but got {dtypes.scalar_type_name(wanted)}"
            )
        if kind != "c" and wanted.kind not in "fV":
            raise RuntimeError(
                f"{op}: dtype should be floating point or complex, but got {dtypes.scalar_type_name(wanted)}"
            )
        if wanted.itemsize < x._data.dtype.itemsize:
            raise RuntimeError(
                f"{op}: the dtype of the input ({matrix.scalar_name(x)}) should be convertible without "
                f"narrowing to the specified dtype ({dtypes.scalar_type_name(wanted)})"
            )
        x = x.to(dtype)
    if kind == "c" and op == "linalg.vector_norm":
        return _abs(x)  # the norm of complex numbers is that of their magnitudes (a real tensor)
    return x


def vector_norm(
    x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """(sum |x|^ord)^(1/ord) over dim, all elements by default (torch.linalg.vector_norm);
    ord inf and -inf are the largest and smallest |x|, ord 0 counts the non-zeros."""
    if isinstance(ord, Tensor) and ord.ndim == 0 and not ord.requires_grad:
        ord = ord.item()  # a 0-d tensor is a Number, as PyTorch's argument parser takes it
    if isinstance(ord, str) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(
            f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not {type(ord).__name__}"
        )
    x = _float_input(x, dtype, "linalg.vector_norm")
    given = dim  # shown by the node as the call named it (`[]` as (), None as None)
    if dim is not None and not isinstance(dim, int) and len(dim) == 0:
        dim = None  # an empty dim is every dim, as in PyTorch
    dims = () if dim is None else dim  # amax and amin: () is every dim
    if ord < 0 or ord == math.inf:
        _check_identity(x, dim, ord)
    if ord == math.inf:
        return amax(_abs(x), dims, keepdim)
    if ord == -math.inf:
        return amin(_abs(x), dims, keepdim)
    axes = normalize_dims(dim, x._data.ndim, "linalg.vector_norm")  # None: all of them
    if ord == 0:  # sign(|x|) is 1 where x != 0 (and NaN counts), and its gradient 0, as PyTorch's
        return _where(_isnan(x), 1.0, _sign(_abs(x))).sum(axes, keepdim)
    named = (
        None
        if given is None
        else tuple(d % max(1, x._data.ndim) for d in ((given,) if isinstance(given, int) else given))
    )
    return LinalgVectorNorm.apply(x, float(ord), axes, keepdim, named)


def _check_identity(x: Tensor, dim: Any, ord: Any) -> None:
    """PyTorch's error for a norm without an identity (a negative or infinite order) over no
    elements."""
    if dim is None or x._data.ndim == 0:  # a 0-d tensor has its one element along dim 0 or -1
        if x._data.size == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {ord:g} norm on an empty tensor because the "
                "operation does not have an identity"
            )
        return
    for d in (dim,) if isinstance(dim, int) else dim:
        if x._data.shape[normalize_dim(d, x._data.ndim, "linalg.vector_norm")] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {ord:g} norm on the dimension {d} because this "
                "dimension is empty and the operation does not have an identity"
            )


_MATRIX_ORDS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def matrix_norm(
    A: Tensor, ord: Any = "fro", dim: Sequence[int] = (-2, -1), keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """A matrix norm over the two dims `dim` (torch.linalg.matrix_norm): 'fro' (Frobenius),
    'nuc' (sum of singular values), 2 / -2 (largest / smallest singular value), 1 / -1
    (largest / smallest column sum of |A|), inf / -inf (largest / smallest row sum)."""
    op = "linalg.matrix_norm"
    if isinstance(A, Tensor) and A._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {dim if isinstance(dim, int) else tuple(dim)}")
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"{op}: Order {ord} not supported.")
    A = _float_input(A, dtype, op)
    ndim = A._data.ndim
    rows, cols = normalize_dim(dim[0], ndim, op), normalize_dim(dim[1], ndim, op)
    if rows == cols:
        raise RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if A._data.size == 0 and ord in ("nuc", 1, 2, math.inf):  # of no elements: 0, as in PyTorch
        return _abs(A).sum((rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        order = [i for i in range(ndim) if i not in (rows, cols)] + [rows, cols]
        s = matrix._svd(permute(A, tuple(order)), False, op)[1]
        # amax/amin, not s[..., 0]: equal singular values share the gradient, as in PyTorch
        # (so that it does not depend on which of their vectors the SVD returned)
        result = s.sum(-1) if ord == "nuc" else amax(s, -1) if ord == 2 else amin(s, -1)
        if keepdim:
            for d in sorted((rows, cols)):
                result = unsqueeze(result, d)
        return result
    # 1: the largest sum over rows of |A| (a column sum); inf: the largest sum over columns
    summed, kept = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = _abs(A).sum(summed, True)
    result = (amax if ord > 0 else amin)(sums, kept, True)
    return result if keepdim else squeeze(squeeze(result, max(rows, cols)), min(rows, cols))


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """A vector or matrix norm (torch.linalg.norm): over one dim (or all of a 1-D input) a
    vector norm, over two dims (or a 2-D input, when ord is given) a matrix norm; with
    neither ord nor dim, the 2-norm of all elements."""
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    if dim is not None and len(dim) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A._data.ndim not in (1, 2):
            raise RuntimeError(
                f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A._data.ndim}D."
            )
        dim = tuple(range(A._data.ndim))
    if isinstance(ord, str) or len(dim) == 2:
        return matrix_norm(A, ord, dim[0] if len(dim) == 1 else dim, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number ||A|| ||A^-1|| in the norm p (torch.linalg.cond): for None and 2
    the ratio of the largest to the smallest singular value (-2: its inverse), otherwise
    matrix_norm(A, p) * matrix_norm(inv(A), p) for square A, inf for a singular one (as
    PyTorch's, whose inverse is infinite there), which keeps no gradient."""
    op = "linalg.cond"
    if p not in (None,) + _MATRIX_ORDS:
        raise RuntimeError(f"{op} got an invalid norm type: {p}")
    if p in (None, 2, -2):
        s = svdvals(matrix.check_matrix(A, op, square=False))
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    matrix.check_matrix(A, op)
    try:
        return matrix_norm(A, p) * matrix_norm(inv(A), p)
    except LinAlgError:
        pass
    a = A._data
    singular = _lapack.lu_array(a)[2] != 0
    safe = _where(Tensor(singular[..., None, None]), Tensor(np.eye(a.shape[-1], dtype=a.dtype)), A)
    return _where(Tensor(singular), math.inf, matrix_norm(A, p) * matrix_norm(inv(safe), p))


# ---- products and views -----------------------------------------------------------------------------------


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along dim, the last by default (torch.linalg.cross)."""
    return _cross(input, other, dim)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of x and y along dim, other dims broadcast (torch.linalg.vecdot); x
    is conjugated, sum(conj(x) * y), for complex x. x and y share one float or complex
    dtype, as in PyTorch (a real y with a complex x is refused, not promoted)."""
    for name, t in (("x", x), ("y", y)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linalg_vecdot(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if x._data.dtype.kind not in "fcV":
        raise RuntimeError(
            f"linalg.vecdot: Expected a floating point or complex tensor as input. Got {matrix.scalar_name(x)}"
        )
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(
            "linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
            f"{matrix.scalar_name(x)} and y of type {matrix.scalar_name(y)} instead"
        )
    if x._data.dtype.kind == "c":
        x = x.conj()
    return (x * y).sum(dim)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of the matrices of A, over its last two dims by default (torch.linalg.diagonal)."""
    return _diagonal(A, offset, dim1, dim2)


def _chain_order(sizes: list[int]) -> list:
    """The cheapest way to bracket the product of matrices i of shape (sizes[i], sizes[i+1]),
    by dynamic programming over the sub-chains (the matrix-chain problem): a nested pair
    tree of matrix positions."""
    n = len(sizes) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def tree(i: int, j: int) -> Any:
        return i if i == j else (tree(i, split[i][j]), tree(split[i][j] + 1, j))

    return tree(0, n - 1)


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices, bracketed to take the fewest multiplications
    (torch.linalg.multi_dot); the first may be a row vector and the last a column vector,
    given 1-D."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    last = len(tensors) - 1
    for i, t in enumerate(tensors):
        d = t._data.ndim
        if i in (0, last) and d not in (1, 2):
            raise RuntimeError(
                f"multi_dot(): the {'first' if i == 0 else 'last'} tensor must be 1D or 2D but got {d}D"
            )
        if 0 < i < last and d != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {d}D")
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError(
                f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                f"{matrix.scalar_name(tensors[0])} and tensor {i} is {matrix.scalar_name(t)}"
            )
    row, column = tensors[0]._data.ndim == 1, tensors[-1]._data.ndim == 1
    mats = [unsqueeze(tensors[0], 0) if row else tensors[0], *tensors[1:-1]]
    mats.append(unsqueeze(tensors[-1], -1) if column else tensors[-1])
    for i in range(last):
        a, b = mats[i]._data.shape, mats[i + 1]._data.shape
        if a[1] != b[0]:
            shapes = [list(tensors[i]._data.shape), list(tensors[i + 1]._data.shape)]
            raise RuntimeError(
                f"multi_dot(): tensors {i} and {i + 1} with shapes {shapes[0]} and {shapes[1]} cannot be multiplied"
            )
    sizes = [m._data.shape[0] for m in mats] + [mats[-1]._data.shape[1]]

    def product(node: Any) -> Tensor:
        return mats[node] if isinstance(node, int) else matmul(product(node[0]), product(node[1]))

    result = product(_chain_order(sizes))
    if row:
        result = squeeze(result, 0)
    if column:
        result = squeeze(result, -1)
    return result


# ---- triangular systems, tensor equations, Vandermonde (fourteenth session) ---------------------


def solve_triangular(
    A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False
) -> Tensor:
    """X with A X = B (X A = B if not left) for triangular A: only its upper or lower
    triangle is read, and its diagonal is taken as ones if unitriangular
    (torch.linalg.solve_triangular). B is a matrix or a batch of them.

    Composed: solve() of the triangle that A's entries make, so the gradient reaches only
    that triangle, as PyTorch's does. A zero on the diagonal raises LinAlgError, where
    PyTorch returns inf or NaN."""
    return matrix._solve_triangular(A, B, upper, left, unitriangular, "linalg.solve_triangular")


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of A seen as a map from its last dims to its first `ind` dims: the tensor
    X of shape A.shape[ind:] + A.shape[:ind] with tensordot(X, A, ind) the identity
    (torch.linalg.tensorinv)."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    outer, inner = A._data.shape[:ind], A._data.shape[ind:]
    rows, cols = math.prod(outer), math.prod(inner)
    if rows != cols:
        raise RuntimeError(
            f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {cols} != {rows}"
        )
    return inv(A.reshape(rows, cols)).reshape(*inner, *outer)


def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None) -> Tensor:
    """X with tensordot(A, X, X.ndim) == B (torch.linalg.tensorsolve): X has the shape of
    A's trailing dims, after moving `dims` of A to its end."""
    if dims is not None:
        moved = [d % A._data.ndim for d in dims]
        A = permute(A, [d for d in range(A._data.ndim) if d not in moved] + moved)
    leading, trailing = A._data.shape[: B._data.ndim], A._data.shape[B._data.ndim :]
    rows, cols = math.prod(leading), math.prod(trailing)
    if rows != cols or leading != B._data.shape:
        raise RuntimeError(
            f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {cols} != {rows}"
        )
    return solve(A.reshape(rows, cols), B.reshape(rows)).reshape(trailing)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrices of x's last dim, powers increasing: (..., n) -> (..., n, N)
    with column j equal to x ** j (torch.linalg.vander; torch.vander's columns decrease).
    Built by cumprod, so the gradient exists where x is 0; integers and bools give int64."""
    if x._data.ndim == 0:
        raise RuntimeError("N must be greater than 1.")
    n = x._data.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x._data.dtype.kind in "biu":
        x = x.to(dtypes.int64)
    ones = Tensor(np.ones((*x._data.shape, 1), x._data.dtype))
    powers = _cumprod(unsqueeze(x, -1).expand(*x._data.shape, n - 1), -1)
    return _cat([ones, powers], -1)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> Any:
    """(LU, pivots, info): A = P L U with L (unit diagonal, not stored) and U packed in one
    matrix, LAPACK's 1-based int32 pivots, and info 0 or the position of the first zero
    pivot, without raising unless check_errors (torch.linalg.lu_factor_ex). Square or
    rectangular, with a gradient either way."""
    LU, pivots, info = matrix.lu_factor_ex(A, "torch.linalg.lu_factor_ex", pivot, check_errors)
    return return_type("linalg_lu_factor_ex")(LU, pivots, info)


def lu_factor(A: Tensor, *, pivot: bool = True) -> Any:
    """(LU, pivots) of lu_factor_ex, raising for a singular matrix (torch.linalg.lu_factor)."""
    LU, pivots, info = matrix.lu_factor_ex(A, "torch.linalg.lu_factor", pivot, check_errors=True)
    return return_type("linalg_lu_factor")(LU, pivots)


def lu(A: Tensor, *, pivot: bool = True) -> Any:
    """(P, L, U) with A = P L U (torch.linalg.lu): P a permutation matrix, L unit lower
    triangular (m x k), U upper triangular (k x n), k = min(m, n). Singular A is fine."""
    LU, pivots, _ = matrix.lu_factor_ex(A, "torch.linalg.lu", pivot)
    return return_type("linalg_lu")(*matrix.lu_unpack(LU, pivots))


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False) -> Tensor:
    """X with A X = B (X A = B if not left, A^H for A if adjoint) given lu_factor's (LU,
    pivots) (torch.linalg.lu_solve). Gradients reach LU (and through it A) and B."""
    return matrix.lu_solve_factored(LU, pivots, B, left, adjoint, "torch.linalg.lu_solve")


# ---- solve with info, LDL^T (fifteenth session) -------------------------------------------------


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> Any:
    """(result, info) (torch.linalg.solve_ex): solve(A, B, left=left) and, for each matrix
    of A, 0 or the position of the first zero pivot of its LU factorization (LAPACK's
    info), without raising for a singular A unless check_errors. The result is NaN where
    A is singular (PyTorch's holds what its LU solve left, infinities) and, if any A is,
    carries no gradient."""
    pack = return_type("linalg_solve_ex")
    try:
        return pack(solve(A, B, left=left), Tensor(_meta.zeros(A._data.shape[:-2], np.int32, A._data)))
    except LinAlgError as error:
        if check_errors:
            raise LinAlgError(str(error).replace("torch.linalg.solve:", "torch.linalg.solve_ex:")) from None
    a = A._data
    info = _lapack.lu_array(a)[2]
    singular = info != 0
    safe = np.where(singular[..., None, None], np.eye(a.shape[-1], dtype=a.dtype), a)
    x = solve(Tensor(safe), B.detach(), left=left)._data
    vector = B._data.ndim == 1 or (B._data.ndim == a.ndim - 1 and B._data.shape == a.shape[:-1])
    x = np.where(singular.reshape(singular.shape + (1,) * (1 if vector else 2)), np.nan, x)
    return pack(Tensor(x.astype(a.dtype, copy=False)), Tensor(info))


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False) -> Any:
    """(LD, pivots, info): A = P L D L^T P^T for symmetric, possibly indefinite A, read from
    its lower triangle, by LAPACK's sytrf (Bunch-Kaufman pivoting) (torch.linalg.ldl_factor_ex);
    A = P L D L^H P^T by hetrf for a complex Hermitian A if hermitian.
    LD packs L (unit lower triangular, below the diagonal) and the block diagonal D (1x1
    and 2x2 blocks, on and next to the diagonal); pivots are LAPACK's, 1-based, negative
    for the two rows of a 2x2 block; info is 0, or the position of the first zero on D's
    diagonal. `hermitian` matters for complex input only (D's diagonal is then real). Not
    differentiable, as in PyTorch."""
    LD, pivots, info = factor.ldl_factor_ex(A, "torch.linalg.ldl_factor_ex", check_errors, hermitian)
    return return_type("linalg_ldl_factor_ex")(LD, pivots, info)


def ldl_factor(A: Tensor, *, hermitian: bool = False) -> Any:
    """(LD, pivots) of ldl_factor_ex, raising LinAlgError where D is singular
    (torch.linalg.ldl_factor; PyTorch 2.13 fails there with an internal assertion)."""
    LD, pivots, _ = factor.ldl_factor_ex(A, "torch.linalg.ldl_factor", True, hermitian)
    return return_type("linalg_ldl_factor")(LD, pivots)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """X with A X = B given ldl_factor's (LD, pivots) of A, by LAPACK's sytrs (hetrs if
    hermitian) (torch.linalg.ldl_solve); batch dims broadcast. Not differentiable, as in
    PyTorch."""
    return factor.ldl_solve(LD, pivots, B, hermitian)
