"""Functions of square matrices and decompositions: inverse, determinants, solve, Cholesky,
QR, eigh, SVD, pseudo-inverse, powers and exponential.

Each checks its arguments as PyTorch does (a float or complex dtype, at least 2 dims, square
where it must be, with the op and the shapes in the message) and applies one node of
ops/decomp.py; a matrix that is singular or not positive-definite raises
`ember.linalg.LinAlgError`, never NumPy's error. The functions without a prefix are the
top-level ones and Tensor methods (`ember.det`, `x.inverse()`, `ember.svd` with its old V
convention); `ember.linalg` (ember/linalg.py) names the same work PyTorch's way.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ember import _meta, dtypes
from ember._stacklevel import outside_ember
from ember._tensor import Tensor
from ember.ops import _lapack, decomp
from ember.ops.api.arith import where
from ember.ops.api.products import matmul
from ember.ops.api.shape import squeeze, tril, triu, unsqueeze
from ember.return_types import return_type


def scalar_name(x: Tensor) -> str:
    """PyTorch's name of x's dtype in its messages: Float, Long, ..."""
    return dtypes.scalar_type_name(x._data.dtype)


def check_matrix(
    A: Any, op: str, square: bool = True, name: str = "A", complex: bool = True, products: bool = False
) -> Tensor:
    """A as a checked batch of (square) float or complex matrices, or PyTorch's error. An op
    not written for complex matrices yet passes complex=False: NotImplementedError for them;
    one made of matrix products only (matrix_power) passes products=True, and takes integer,
    bool and float16 matrices too, as PyTorch's matmul does."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(A).__name__}")
    data = A._data
    if data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if (data.dtype.kind not in "fcV" and not (products and data.dtype.kind in "biu")) or (
        data.dtype.kind == "c" and not complex
    ):
        if data.dtype.kind == "c":
            raise NotImplementedError(
                f"{op}: ember's linear algebra has no complex matrices yet (got {scalar_name(A)})"
            )
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got {scalar_name(A)}"
        )
    if data.dtype == np.float16 and not products:  # LAPACK has no half precision; PyTorch refuses it too
        raise RuntimeError(f"{op}: Low precision dtypes not supported. Got Half")
    if square and data.shape[-1] != data.shape[-2]:
        raise RuntimeError(
            f"{op}: {name} must be batches of square matrices, but they are "
            f"{data.shape[-2]} by {data.shape[-1]} matrices"
        )
    return A


def _same_dtype(A: Tensor, B: Tensor, op: str) -> None:
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(
            f"{op}: Expected A and B to have the same dtype, but found A of type {scalar_name(A)} "
            f"and B of type {scalar_name(B)} instead"
        )


# ---- inverse and determinants -------------------------------------------------------------------


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix in A (torch.linalg.inv); LinAlgError if one is singular."""
    return decomp.LinalgInvEx.apply(check_matrix(A, "linalg.inv"))


def inverse(input: Tensor) -> Tensor:
    """The inverse of each square matrix (torch.inverse, torch.linalg.inv's old name)."""
    return inv(input)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> Any:
    """(inverse, info) (torch.linalg.inv_ex): info is 0 for an invertible matrix and the
    position of the first zero pivot of its LU factorization otherwise, without raising
    unless check_errors. The inverse of a singular matrix is NaN here (PyTorch's holds
    whatever its LU left) and, if any matrix is singular, carries no gradient."""
    check_matrix(A, "linalg.inv_ex")
    return with_info(
        "linalg_inv_ex", A, inv, check_errors, _lapack.singular, _lapack.zero_pivot, np.linalg.inv
    )


def with_info(
    name: str,
    A: Tensor,
    op: Callable[[Tensor], Tensor],
    check_errors: bool,
    fails: Callable[[np.ndarray], bool],
    info_of: Callable[[np.ndarray], int],
    each: Callable[[np.ndarray], np.ndarray],
) -> Any:
    """(result, info) of a torch.linalg.*_ex function: `op(A)` and zeros when every matrix of
    the batch succeeds. Otherwise (unless check_errors, which lets op's LinAlgError through)
    each matrix on its own: `each(m)` where it succeeds; NaN and `info_of(m)` where `fails(m)`.
    Such a result carries no gradient."""
    batch = A._data.shape[:-2]
    pack = return_type(name)
    try:
        return pack(op(A), Tensor(_meta.zeros(batch, np.int32, A._data)))  # (meta for a meta A)
    except _lapack.LinAlgError:
        if check_errors:
            raise
    n = A._data.shape[-1]
    flat = A._data.reshape(-1, n, n)
    out, info = np.empty_like(flat), np.zeros(len(flat), np.int32)
    for i, m in enumerate(flat):
        if fails(m):
            out[i], info[i] = np.nan, info_of(m)
        else:
            out[i] = each(m)
    return pack(Tensor(out.reshape(A._data.shape)), Tensor(info.reshape(batch)))


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix in A (torch.det, torch.linalg.det)."""
    return decomp.LinalgDet.apply(check_matrix(A, "linalg.det"))


def _slogdet(A: Tensor, name: str) -> Any:
    sign, logabsdet = decomp.LinalgSlogdet.apply(check_matrix(A, "linalg.slogdet"))
    return return_type(name)(sign, logabsdet)


def slogdet(input: Tensor) -> Any:
    """(sign, logabsdet): the sign of det and log|det|, finite where det itself would
    overflow (torch.slogdet; torch.linalg.slogdet is the same with another tuple name)."""
    return _slogdet(input, "slogdet")


def logdet(input: Tensor) -> Tensor:
    """log(det(input)): NaN where det < 0, -inf where det = 0 (torch.logdet). For a complex
    matrix the complex logarithm, log|det| + i arg(det)."""
    sign, logabsdet = _slogdet(input, "slogdet")
    if input._data.dtype.kind == "c":
        return where(sign == 0, complex(-np.inf, np.nan), logabsdet + sign.angle() * 1j)
    return where(sign < 0, float("nan"), logabsdet)


# ---- solving ---------------------------------------------------------------------------------------


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (X A = B if not left), for square A (torch.linalg.solve). B is a batch of
    vectors when it is 1-D or has A's shape without its last dim, else a batch of matrices;
    batch dims broadcast. LinAlgError if A is singular."""
    op = "linalg.solve"
    check_matrix(A, op)
    if not isinstance(B, Tensor):
        raise TypeError(f"{op}(): argument 'B' must be Tensor, not {type(B).__name__}")
    _same_dtype(A, B, op)
    a, b = A._data, B._data
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if vector and not left:
        raise RuntimeError(
            f"{op}: Vector broadcasting of the left hand side is not supported for left=False. "
            "In this case linalg.solve is equivalent to B / A.squeeze(-1)"
        )
    rhs = unsqueeze(B, -1) if vector else B
    n, (rows, cols) = a.shape[-1], rhs._data.shape[-2:]
    if (rows if left else cols) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{op}: Incompatible shapes of A and B for the equation {equation} ({n}x{n} and {rows}x{cols})"
        )
    try:
        np.broadcast_shapes(a.shape[:-2], rhs._data.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"{op}: the batch dimensions of A {list(a.shape)} and B {list(b.shape)} cannot be broadcast"
        ) from None
    if not left:  # X A = B is A^T X^T = B^T
        return decomp.LinalgSolveEx.apply(A.mT, rhs.mT).mT
    x = decomp.LinalgSolveEx.apply(A, rhs)
    return squeeze(x, -1) if vector else x


# ---- Cholesky --------------------------------------------------------------------------------------


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """The Cholesky factor of each Hermitian positive-definite matrix: L with input = L L^H,
    or U = L^H if upper, read from the upper triangle (torch.cholesky; otherwise only the lower
    triangle of input is read).
    LinAlgError if a matrix is not positive-definite. Deprecated in PyTorch, which warns:
    linalg.cholesky replaces it."""
    warnings.warn(
        "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
        "PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\n"
        "and\nU = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\n"
        "This transform will produce equivalent results for all valid (symmetric positive definite) inputs.",
        UserWarning,
        stacklevel=outside_ember(),
    )
    return cholesky_factor(input, upper)


def cholesky_factor(input: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky without its deprecation warning: linalg.cholesky, cholesky_ex and the
    distributions, which PyTorch does not warn about."""
    return decomp.LinalgCholeskyEx.apply(check_matrix(input, "linalg.cholesky"), bool(upper))


def _solve_triangular(A: Tensor, B: Tensor, upper: bool, left: bool, unitriangular: bool, op: str) -> Tensor:
    """linalg.solve_triangular and triangular_solve: solve() of the triangle of A (ones on
    its diagonal if unitriangular), so that the gradient reaches that triangle only."""
    check_matrix(A, op)
    if not isinstance(B, Tensor):
        raise TypeError(f"{op}(): argument 'B' must be Tensor, not {type(B).__name__}")
    if B._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    _same_dtype(A, B, op)  # (PyTorch casts B to A's dtype, dropping a complex B's imaginary part)
    n = A._data.shape[-1]
    rows, cols = B._data.shape[-2:]
    if (rows if left else cols) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{op}: Incompatible shapes of A and B for the equation {equation} ({n}x{n} and {rows}x{cols})"
        )
    if unitriangular:
        off = triu(A, 1) if upper else tril(A, -1)
        T = off + Tensor(np.eye(n, dtype=A._data.dtype))
    else:
        T = triu(A) if upper else tril(A)
    return solve(T, B, left=left)


def triangular_solve(
    b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False, unitriangular: bool = False
) -> Any:
    """(solution, cloned_coefficient): X with A X = b, or A^T X = b if transpose, for
    triangular A, and a copy of A (torch.triangular_solve, deprecated in PyTorch for
    linalg.solve_triangular, whose arguments are the other way round)."""
    warnings.warn(
        "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular and will be "
        "removed in a future PyTorch release. X = torch.triangular_solve(B, A).solution should be "
        "replaced with X = torch.linalg.solve_triangular(A, B).",
        UserWarning,
        stacklevel=outside_ember(),
    )
    coefficient = A.mT if transpose else A
    upper = upper != transpose  # the transpose of an upper triangle is a lower one
    X = _solve_triangular(coefficient, b, upper, True, unitriangular, "triangular_solve")
    return return_type("triangular_solve")(X, A.clone())


# ---- LU: the factorization, its unpacking and solves (fourteenth session) -------------------


def lu_factor_ex(A: Tensor, op: str, pivot: bool = True, check_errors: bool = False) -> tuple:
    """(LU, pivots, info) of torch.linalg.lu_factor_ex and the functions built on it: LU
    packed, LAPACK's 1-based int32 pivots, info 0 or the first zero pivot's position."""
    check_matrix(A, op, square=False)
    if not pivot:
        raise RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU")
    lu, pivots, info = _lapack.lu_array(A._data)
    if check_errors:
        check_pivots(info, op)
    return decomp.LinalgLuFactorEx.apply(A, lu, pivots), Tensor(pivots), Tensor(info)


def check_pivots(info: np.ndarray, op: str) -> None:
    """PyTorch's LinAlgError for the first matrix of the batch (flat index) with a zero
    pivot, info (1-based) its position."""
    if not info.any():
        return
    i = int(np.flatnonzero(info)[0])
    k = int(info.reshape(-1)[i])
    raise _lapack.LinAlgError(
        f"{op}: {f'(Batch element {i}): ' if info.ndim else ''}U[{k},{k}] is zero and using it on "
        "lu_solve would result in a division by zero. If you still want to perform the "
        "factorization, consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"
    )


def lu_unpack(
    LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True
) -> Any:
    """(P, L, U) with A = P L U from a packed LU and its pivots (torch.lu_unpack): L unit
    lower triangular, U upper, P a permutation matrix. An output not asked for is empty."""
    data = LU_data._data
    m, n = data.shape[-2:]
    k = min(m, n)
    empty = Tensor(np.empty((0,), data.dtype))
    L = U = empty
    if unpack_data:
        L = tril(LU_data[..., :, :k], -1) + Tensor(np.eye(m, k, dtype=data.dtype))
        U = triu(LU_data[..., :k, :])
    P = Tensor(_lapack.permutation_of(LU_pivots._data, m, data.dtype)) if unpack_pivots else empty
    return return_type("lu_unpack")(P, L, U)


def lu_solve_factored(LU: Tensor, pivots: Tensor, B: Tensor, left: bool, adjoint: bool, op: str) -> Tensor:
    """X with A X = B (X A = B if not left; A^H in place of A if adjoint) for A = P L U given
    packed: two triangular solves and the permutation, so gradients reach LU and B."""
    check_matrix(LU, op, name="LU")
    if not isinstance(B, Tensor):
        raise TypeError(f"{op}(): argument 'B' must be Tensor, not {type(B).__name__}")
    P, L, U = lu_unpack(LU, pivots)
    if not left:  # X A = B is A^H X^H = B^H
        return lu_solve_factored(LU, pivots, B.mH, True, not adjoint, op).mH
    if adjoint:  # U^H L^H P^T X = B
        y = _solve_triangular(U.mH, B, False, True, False, op)
        return P @ _solve_triangular(L.mH, y, True, True, True, op)
    y = _solve_triangular(L, P.mT @ B, False, True, True, op)
    return _solve_triangular(U, y, True, True, False, op)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> Any:
    """(LU, pivots), or (LU, pivots, infos) with get_infos (torch.lu, deprecated in PyTorch
    for linalg.lu_factor and linalg.lu_factor_ex)."""
    warnings.warn(
        "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will "
        "be removed in a future PyTorch release.",
        UserWarning,
        stacklevel=2,
    )
    # no error at a zero pivot, with get_infos or without: PyTorch 2.13 raises none either
    LU, pivots, info = lu_factor_ex(A, "torch.lu", pivot)
    return return_type("_lu_with_info")(LU, pivots, info) if get_infos else (LU, pivots)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """X with A X = b for A = P L U given packed (torch.lu_solve, deprecated in PyTorch for
    linalg.lu_solve, whose arguments come in another order)."""
    warnings.warn(
        "torch.lu_solve is deprecated in favor of torch.linalg.lu_solve and will be removed in a future "
        "PyTorch release. X = torch.lu_solve(B, LU, pivots) should be replaced with "
        "X = torch.linalg.lu_solve(LU, pivots, B).",
        UserWarning,
        stacklevel=outside_ember(),
    )
    return lu_solve_factored(LU_data, LU_pivots, b, True, False, "torch.lu_solve")


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """X with (L L^H) X = B, given the Cholesky factor L (U = L^H if upper) (torch.cholesky_solve).
    Only L's lower (upper) triangle is read; see decomp.CholeskyTriangle for its gradient."""
    check_matrix(L, "cholesky_solve", name="L")
    check_matrix(B, "cholesky_solve", square=False, name="B")
    _same_dtype(L, B, "cholesky_solve")
    factor = decomp.CholeskyTriangle.apply(L, bool(upper))
    lower = factor.mH if upper else factor
    return solve(lower.mH, solve(lower, B))


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """(L L^H)^-1 from the Cholesky factor L (U = L^H if upper) (torch.cholesky_inverse).
    Only L's lower (upper) triangle is read; see decomp.CholeskyTriangle for its gradient."""
    check_matrix(L, "cholesky_inverse", name="L")
    factor = decomp.CholeskyTriangle.apply(L, bool(upper))
    lower_inv = inv(factor.mH if upper else factor)
    return matmul(lower_inv.mH, lower_inv)


# ---- QR, eigh, SVD -----------------------------------------------------------------------------------


def _qr(A: Tensor, mode: str) -> Any:
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'"
        )
    return decomp.LinalgQr.apply(check_matrix(A, "linalg.qr", square=False), mode)


def qr(input: Tensor, some: bool = True) -> Any:
    """(Q, R) with input = Q R (torch.qr): reduced if some, else complete. linalg.qr's mode
    replaces `some` in PyTorch, which warns that torch.qr is deprecated."""
    warnings.warn(
        "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
        "release.\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\n"
        "Q, R = torch.qr(A, some)\nshould be replaced with\n"
        "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')",
        UserWarning,
        stacklevel=outside_ember(),
    )
    q, r = _qr(input, "reduced" if some else "complete")
    return return_type("qr")(q, r)


def _eigh(A: Tensor, UPLO: str, op: str) -> Any:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return decomp.LinalgEigh.apply(check_matrix(A, op), UPLO)


def _svd(A: Tensor, full_matrices: bool, op: str = "linalg.svd") -> Any:
    return decomp.LinalgSvd.apply(check_matrix(A, op, square=False), bool(full_matrices))


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> Any:
    """(U, S, V) with input = U diag(S) V^H (torch.svd): note V, not linalg.svd's Vh. Reduced
    if some; without compute_uv, U and V are zero matrices of sizes (m, m) and (n, n)."""
    if not compute_uv:
        s = _svd(input, False)[1]
        shape = input._data.shape
        m, n, batch = shape[-2], shape[-1], shape[:-2]
        zeros_u = Tensor(np.zeros(batch + (m, m), input._data.dtype))
        zeros_v = Tensor(np.zeros(batch + (n, n), input._data.dtype))
        return return_type("svd")(zeros_u, s, zeros_v)
    u, s, vh = _svd(input, not some)
    return return_type("svd")(u, s, vh.mH)


# ---- pseudo-inverse, powers, exponential ---------------------------------------------------------------


def _tolerance(value: Any, batch: tuple, dtype: Any) -> np.ndarray:
    """atol or rtol (a number, or a Tensor broadcasting against the batch) for each matrix, as
    an array of shape batch + (1,), which lines up with the singular values."""
    data = value._data if isinstance(value, Tensor) else np.asarray(value)
    return np.broadcast_to(np.asarray(data, dtype), batch).reshape(batch + (1,))


def tolerance_batch(A: Tensor, *tolerances: Any) -> Tensor:
    """A expanded to the batch its tolerance tensors broadcast it to, as PyTorch's pinv and
    matrix_rank do (pinv(A, atol=tensor([1e-3])) is a batch of one; a (4, 1) atol with a
    (2, n, n) A gives (4, 2, n, n)): A itself when they broadcast to its batch, or when A
    is empty (PyTorch's result then keeps A's batch)."""
    shapes = [t._data.shape for t in tolerances if isinstance(t, Tensor)]
    batch = A._data.shape[:-2]
    if shapes and A._data.size:
        wider = np.broadcast_shapes(batch, *shapes)
        if wider != batch:
            return A.expand(wider + A._data.shape[-2:])
    return A


def tolerances(
    A: Tensor, atol: Any, rtol: Any, op: str = "torch.linalg.pinv"
) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's rule for the cutoff max(atol, rtol * largest singular value): atol defaults
    to 0; rtol to eps * max(m, n), or to 0 when a positive atol is given without rtol. A
    complex tolerance raises PyTorch's error (casting it would drop its imaginary part)."""
    for name, value in (("atol", atol), ("rtol", rtol)):
        if isinstance(value, Tensor) and value._data.dtype.kind == "c":
            raise RuntimeError(
                f"{op}: {name} tensor of complex type is not supported. Got {scalar_name(value)}"
            )
    data = A._data
    batch = data.shape[:-2]
    real = data.real.dtype  # that of the singular values, real for a complex A
    if not data.size:  # no singular values to cut: PyTorch does not broadcast the tolerances
        a_tol = r_tol = np.zeros(batch + (1,), real)
    else:
        if rtol is None:
            atol_given = atol is not None and (isinstance(atol, Tensor) or atol > 0)
            rtol = 0.0 if atol_given else np.finfo(data.dtype).eps * max(data.shape[-2:])
        a_tol, r_tol = _tolerance(0.0 if atol is None else atol, batch, real), _tolerance(rtol, batch, real)
    return _meta.follow(a_tol, data), _meta.follow(r_tol, data)  # meta beside a meta A's values


def pinv(
    A: Tensor, rcond: Any = None, hermitian: bool = False, *, atol: Any = None, rtol: Any = None
) -> Tensor:
    """The Moore-Penrose pseudo-inverse of each matrix in A (torch.linalg.pinv): singular
    values not above max(atol, rtol * the largest) count as 0; with hermitian, A is taken
    to be symmetric and its eigenvalues are used. `rcond`, by position, is PyTorch's older
    form of rtol (pinv(A, rcond, hermitian)); it does not mix with atol or rtol."""
    if rcond is not None:
        if atol is not None or rtol is not None:
            raise TypeError(
                "linalg_pinv() received an invalid combination of arguments: rcond (the older "
                "overload) with atol or rtol; give rtol alone"
            )
        rtol = rcond
    check_matrix(A, "linalg.pinv", square=hermitian)
    A = tolerance_batch(A, atol, rtol)
    a_tol, r_tol = tolerances(A, atol, rtol)
    return decomp.LinalgPinv.apply(A, a_tol, r_tol, bool(hermitian))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The pseudo-inverse, dropping singular values below rcond times the largest (torch.pinverse)."""
    return pinv(input, rtol=rcond)


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A multiplied by itself n times, by repeated squaring; the identity for n = 0 and
    powers of the inverse for n < 0 (torch.matrix_power, torch.linalg.matrix_power).
    Integer, bool and float16 matrices take n >= 0, as PyTorch's (integer products wrap, as
    its do); their inverse is refused by inv."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    check_matrix(A, "linalg.matrix_power", products=True)  # n < 0: inv's own check refuses them
    if n >= 2 and A._data.dtype.kind == "b":  # PyTorch has no bool matrix product
        kernel = "bmm" if A._data.ndim > 2 else "addmm_impl_cpu_"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if n == 0:
        # the identity, connected to A with a zero gradient, as PyTorch's result is
        identity = np.broadcast_to(np.eye(A._data.shape[-1], dtype=A._data.dtype), A._data.shape)
        return where(Tensor(np.zeros(A._data.shape, bool)), A, Tensor(identity.copy()))
    base = inv(A) if n < 0 else A
    k = abs(int(n))
    if k == 1:
        return base.clone() if n > 0 else base
    result = None
    while k:
        if k & 1:
            result = base if result is None else matmul(result, base)
        k >>= 1
        if k:
            base = matmul(base, base)
    return result


def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) = I + A + A^2/2! + ... of each square matrix (torch.matrix_exp), by scaling
    and squaring with a Pade approximant."""
    return decomp.LinalgMatrixExp.apply(check_matrix(A, "linalg.matrix_exp"))
