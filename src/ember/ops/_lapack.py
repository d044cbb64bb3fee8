"""numpy.linalg on arrays, with PyTorch's errors: the forwards of ops/decomp.py, and what
ember.linalg needs outside a graph (the `_ex` functions, matrix_rank).

numpy.linalg says only "Singular matrix" for a whole batch. The functions here catch that
and raise `LinAlgError` with PyTorch's message: which batch element failed (each matrix is
retried, on the error path only), the first zero pivot of the LU factorization, or the
order of the first leading minor that is not positive-definite. Also here: the matrix
exponential, which NumPy does not have.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember import _meta


class LinAlgError(RuntimeError):
    """A matrix is singular, or not positive-definite, where the op needs it to be
    (torch.linalg.LinAlgError). A RuntimeError, as PyTorch's is."""

    __module__ = "ember.linalg"


# ---- NumPy's failures, in PyTorch's words ------------------------------------------------------


def batch_element(a: np.ndarray, fails: Any) -> tuple[str, np.ndarray]:
    """("(Batch element i): ", matrix i) for the first matrix of a batch on which `fails`
    is true, or ("", a) for a single matrix."""
    if a.ndim == 2:
        return "", a
    flat = a.reshape((-1,) + a.shape[-2:])
    for i, m in enumerate(flat):
        if fails(m):
            return f"(Batch element {i}): ", m
    return "", flat[0]  # not reached: NumPy refused one of them


def singular(m: np.ndarray) -> bool:
    try:
        np.linalg.inv(m)
    except np.linalg.LinAlgError:
        return True
    return False


def _size(x: np.ndarray) -> np.ndarray:
    """LAPACK's measure of an entry for pivoting: |x|, and |Re x| + |Im x| for a complex x
    (BLAS's izamax), which picks other pivots than |x| would."""
    return np.abs(x.real) + np.abs(x.imag) if x.dtype.kind == "c" else np.abs(x)


def zero_pivot(m: np.ndarray) -> int:
    """The 1-based position of the first zero pivot of m's LU factorization with partial
    pivoting (LAPACK's `info`); the smallest pivot if rounding made none exactly zero."""
    u = m.astype(np.complex128 if m.dtype.kind == "c" else np.float64)
    n = u.shape[0]
    pivots = np.zeros(n, u.dtype)
    for k in range(n):
        p = k + int(np.argmax(_size(u[k:, k])))
        u[[k, p]] = u[[p, k]]
        pivots[k] = u[k, k]
        if u[k, k] == 0:
            return k + 1
        u[k + 1 :, k:] -= np.outer(u[k + 1 :, k] / u[k, k], u[k, k:])
    return int(np.argmin(np.abs(pivots))) + 1


def lu_array(a: np.ndarray) -> tuple:
    """LAPACK's getrf on a batch of (m, n) matrices: (LU, pivots, info). LU packs L (unit
    lower triangular, its diagonal not stored) below the diagonal and U on and above it;
    pivots are LAPACK's 1-based int32 row swaps (row i was swapped with row pivots[i] - 1 at
    step i); info is 0, or the 1-based position of the first zero pivot (the factorization
    goes on past it, as LAPACK's does). Partial pivoting takes the first largest entry in
    LAPACK's measure (`_size`)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    if a.__class__ is _meta.MetaArray:  # no values to factor: meta results of their shapes
        batch = a.shape[:-2]
        return (
            _meta.empty(a.shape, a.dtype),
            _meta.empty(batch + (k,), np.int32),
            _meta.empty(batch, np.int32),
        )
    lu = np.array(a, dtype=a.dtype, order="C", copy=True)
    flat = lu.reshape(math.prod(a.shape[:-2]), m, n)
    pivots = np.zeros((len(flat), k), np.int32)
    info = np.zeros(len(flat), np.int32)
    rows = np.arange(len(flat))
    for j in range(k):
        p = j + np.argmax(_size(flat[:, j:, j]), axis=1)
        pivots[:, j] = p + 1
        swap = flat[rows, p].copy()
        flat[rows, p] = flat[:, j]
        flat[:, j] = swap
        pivot = flat[:, j, j]
        zero = pivot == 0
        info[(info == 0) & zero] = j + 1
        with np.errstate(divide="ignore", invalid="ignore"):
            factors = np.where(zero[:, None], 0, flat[:, j + 1 :, j] / np.where(zero, 1, pivot)[:, None])
        flat[:, j + 1 :, j] = factors
        flat[:, j + 1 :, j + 1 :] -= factors[:, :, None] * flat[:, j, None, j + 1 :]
    batch = a.shape[:-2]
    return lu, pivots.reshape(batch + (k,)), info.reshape(batch)


def permutation_of(pivots: np.ndarray, m: int, dtype: np.dtype) -> np.ndarray:
    """P with A = P L U, from LAPACK's pivots (a batch of them) for matrices of m rows."""
    if pivots.__class__ is _meta.MetaArray:  # meta pivots (of a meta A): a meta P
        return _meta.empty(pivots.shape[:-1] + (m, m), dtype)
    flat = pivots.reshape(math.prod(pivots.shape[:-1]), pivots.shape[-1]) - 1
    perm = np.tile(np.arange(m), (len(flat), 1))
    rows = np.arange(len(flat))
    for j in range(flat.shape[1]):
        a, b = perm[rows, j].copy(), perm[rows, flat[:, j]].copy()
        perm[rows, j], perm[rows, flat[:, j]] = b, a
    # row i of P^T A is row perm[i] of A: P^T is the identity's rows in perm's order
    eye = np.eye(m, dtype=dtype)
    return np.swapaxes(eye[perm], -1, -2).reshape(pivots.shape[:-1] + (m, m))


def _cholesky_or_none(a: np.ndarray) -> np.ndarray | None:
    """np.linalg.cholesky, or None where LAPACK's Cholesky fails on a matrix of a: NumPy
    raises, or lets a NaN pivot through."""
    try:
        lower = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return None
    return None if np.isnan(np.diagonal(lower, 0, -2, -1)).any() else lower


def not_positive_definite(m: np.ndarray) -> bool:
    """Whether LAPACK's Cholesky fails on m."""
    return _cholesky_or_none(m) is None


def failing_minor(m: np.ndarray) -> int:
    """The order of the first leading minor of m that is not positive-definite (LAPACK's
    `info`): a minor that fails makes every larger one fail, so bisect."""
    lo, hi = 1, m.shape[-1]  # the minor of order hi fails
    while lo < hi:
        mid = (lo + hi) // 2
        if not_positive_definite(m[:mid, :mid]):
            hi = mid
        else:
            lo = mid + 1
    return lo


def inv_array(a: np.ndarray) -> np.ndarray:
    """np.linalg.inv, raising LinAlgError with PyTorch's message for a singular matrix."""
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        where, m = batch_element(a, singular)
        raise LinAlgError(
            f"linalg.inv: {where}The diagonal element {zero_pivot(m)} is zero, the inversion could not "
            "be completed because the input matrix is singular."
        ) from None


def solve_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        where, _ = batch_element(
            np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape[:-1] + (1,))), singular
        )
        raise LinAlgError(
            f"torch.linalg.solve: {where}The solver failed because the input matrix is singular."
        ) from None


def cholesky_array(a: np.ndarray) -> np.ndarray:
    """The lower factor L of a = L L^T, reading only a's lower triangle, as LAPACK does."""
    lower = _cholesky_or_none(a)
    if lower is not None:
        return lower
    where, m = batch_element(a, not_positive_definite)
    raise LinAlgError(
        f"linalg.cholesky: {where}The factorization could not be completed because the input is not "
        f"positive-definite (the leading minor of order {failing_minor(m)} is not "
        "positive-definite)."
    ) from None


def _check_finite(a: np.ndarray, op: str) -> None:
    """Refuse NaN and infinite entries before an SVD or eigendecomposition: LAPACK's SVD can
    loop forever on an infinite entry, and PyTorch refuses them too. (A meta array has no
    values to refuse.)"""
    if a.__class__ is not _meta.MetaArray and not np.isfinite(a).all():
        where, _ = batch_element(a, lambda m: not np.isfinite(m).all())
        raise LinAlgError(
            f"{op}: {where}The algorithm failed to converge because the input matrix contained "
            "non-finite values."
        )


def _not_converged(op: str, why: str = "") -> LinAlgError:
    return LinAlgError(f"{op}: The algorithm failed to converge{why}.")


def svd_array(a: np.ndarray, full_matrices: bool, compute_uv: bool = True, op: str = "linalg.svd") -> Any:
    """np.linalg.svd, refusing non-finite input as PyTorch does."""
    _check_finite(a, op)
    try:
        return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    except np.linalg.LinAlgError:
        raise _not_converged(op) from None


def eigh_array(a: np.ndarray, uplo: str = "L", compute_v: bool = True, op: str = "linalg.eigh") -> Any:
    """np.linalg.eigh (or eigvalsh): an infinite entry gives NaNs, as in PyTorch; a NaN
    raises LinAlgError, as in PyTorch."""
    try:
        return np.linalg.eigh(a, UPLO=uplo) if compute_v else np.linalg.eigvalsh(a, UPLO=uplo)
    except np.linalg.LinAlgError:
        why = " because the input matrix is ill-conditioned or has too many repeated eigenvalues"
        raise _not_converged(op, why) from None


# ---- the matrix exponential -------------------------------------------


# Pade approximant of degree 13 for exp, and the largest 1-norm for which it is accurate to
# double precision (Higham, "The scaling and squaring method for the matrix exponential
# revisited", 2005); larger matrices are scaled by 2^-s and the result squared s times.
_PADE13 = (
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
)
_THETA13 = 5.371920351148152


@np.errstate(over="ignore", invalid="ignore")  # infinite or NaN entries give NaN, silently
def expm_array(a: np.ndarray) -> np.ndarray:
    """exp of each matrix in a, computed in float64 (complex128) and returned in a's dtype."""
    x = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    n = x.shape[-1]
    if x.size == 0:
        return x.astype(a.dtype)
    norm = np.abs(x).sum(-2).max(-1)
    with np.errstate(divide="ignore"):
        steps = np.where(norm > _THETA13, np.ceil(np.log2(norm / _THETA13)), 0)
    steps = np.where(np.isfinite(steps), steps, 0).astype(np.int64)
    x = x / (2.0**steps)[..., None, None]
    b, ident = _PADE13, np.eye(n)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    odd = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * ident)
    even = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * ident
    try:
        r = np.linalg.solve(even - odd, even + odd)
    except np.linalg.LinAlgError:  # only for NaN or infinite entries
        return np.full(a.shape, np.nan, a.dtype)
    for k in range(int(steps.max(initial=0))):
        r = np.where((steps > k)[..., None, None], r @ r, r)
    return r.astype(a.dtype)
