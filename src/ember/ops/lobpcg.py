"""LOBPCG: a few of the largest (or smallest) eigenpairs of a symmetric matrix A, or of the
pencil (A, B) with B symmetric positive-definite, without a full eigendecomposition
(Knyazev, "Toward the optimal preconditioned eigensolver", 2001; the convergence test and
the orthonormal basis follow Duersch, Shao, Yang and Gu, "A robust and efficient
implementation of LOBPCG", 2018).

Each step takes the Rayleigh-Ritz approximation of A in the span of three blocks: the
current eigenvector estimates X, their residuals R = A X - B X diag(E) (preconditioned by
iK if given), and the previous step's direction P, the part of the new X outside the old
one. The basis is made B-orthonormal by SVQB (the eigendecomposition of its Gram matrix,
twice, dropping directions that are numerically dependent), so the small eigenproblem is
a standard one. Work is in float64 whatever the input's dtype.

The node's backward is the derivative of k exact eigenpairs of A (see `Lobpcg`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.ops import _dual
from ember.ops.decomp import _solve
from ember.ops.elementwise import Op


def _b_orthonormal(S: np.ndarray, B: np.ndarray | None, drop: float) -> np.ndarray:
    """A B-orthonormal basis of the span of S's columns (SVQB, twice), leaving out the
    directions whose Gram eigenvalue is below `drop` times the largest."""
    for _ in range(2):
        norms = np.sqrt(np.einsum("ij,ij->j", S, S if B is None else B @ S))
        S = S / np.where(norms > 0, norms, 1.0)
        gram = S.T @ S if B is None else S.T @ (B @ S)
        w, v = np.linalg.eigh((gram + gram.T) / 2)
        kept = w > drop * max(w[-1], 0.0)
        S = S @ (v[:, kept] / np.sqrt(w[kept]))
    return S


def _rayleigh_ritz(S: np.ndarray, A: np.ndarray, n: int, largest: bool) -> tuple[np.ndarray, np.ndarray]:
    """The n extreme Ritz pairs of A in the span of the B-orthonormal columns of S: values
    descending if largest, ascending otherwise."""
    small = S.T @ A @ S
    w, z = np.linalg.eigh((small + small.T) / 2)
    if largest:
        w, z = w[::-1], z[:, ::-1]
    return w[:n], S @ z[:, :n]


def lobpcg_array(
    A: np.ndarray,
    B: np.ndarray | None,
    X: np.ndarray,
    iK: np.ndarray | None,
    k: int,
    niter: int,
    tol: float,
    largest: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """(E, X): the k extreme eigenpairs of one matrix A (pencil (A, B)) from the starting
    block X (m, n), n >= k; niter steps at most (-1: until converged)."""
    dtype = A.dtype
    A, X = A.astype(np.float64), X.astype(np.float64)
    B = None if B is None else B.astype(np.float64)
    iK = None if iK is None else iK.astype(np.float64)
    n = X.shape[1]
    drop = np.finfo(np.float64).eps * A.shape[0]
    # the scales of A and B seen by the starting block, for the backward-stable test
    x_norm = np.linalg.norm(X)
    a_norm = np.linalg.norm(A @ X) / x_norm
    b_norm = np.linalg.norm(X if B is None else B @ X) / x_norm
    E, X = _rayleigh_ritz(_b_orthonormal(X, B, drop), A, n, largest)
    P = None
    steps = 0
    while True:
        BX = X if B is None else B @ X
        R = A @ X - BX * E
        error = np.linalg.norm(R, axis=0) / (np.linalg.norm(X, axis=0) * (a_norm + np.abs(E) * b_norm))
        converged = int(np.argmin(error < tol)) if not (error < tol).all() else n
        if converged >= k or steps == niter:
            break
        W = R if iK is None else iK @ R
        blocks = [X, W] if P is None else [X, W, P]
        S = _b_orthonormal(np.concatenate(blocks, axis=1), B, drop)
        E, new = _rayleigh_ritz(S, A, n, largest)
        P = new - X @ (BX.T @ new)  # the step's direction, B-orthogonal to the old X
        X = new
        steps += 1
    return E[:k].astype(dtype), X[:, :k].astype(dtype)


class Lobpcg(Op):
    """(E, X), the k extreme eigenpairs of each symmetric A found by LOBPCG (`run`; the other
    arguments are its own).

    The gradient is that of k exact eigenpairs (the columns of X are orthonormal, the
    values distinct), as PyTorch's: with U = X, from A U = U diag(E), dE = diag(U^T dA U);
    dU has the part U (F o U^T dA U), F_ij = 1 / (E_j - E_i) off the diagonal, inside the
    span of U, and the part (E_i - A)^-1 (I - U U^T) dA u_i outside it, solved on the
    complement of U. Their adjoint is
    G_A = U (diag(G_E) + F o U^T G_U) U^T + sum_i w_i u_i^T with w_i = M_i^-1 (I - U U^T) g_i,
    where M_i = (E_i I - A)(I - U U^T) + U U^T is E_i - A on the complement and the identity
    on U's span. Written with operators and `_solve`, it is differentiable again.

    With B (the generalized problem) the backward raises, as PyTorch's: A's gradient would
    need B's, which is not written, and treating either as a constant would be wrong.
    """

    @staticmethod
    def forward(ctx, a, b, start, ik, k, niter, tol, largest):
        e, x = run(a, b, start, ik, k, niter, tol, largest)
        ctx.generalized = b is not None
        ctx.save_for_backward(a, e, x)
        return e, x

    @staticmethod
    def backward(ctx, grad_e, grad_x):
        if ctx.generalized:
            raise ValueError("lobpcg.backward does not support backward with B != I yet.")
        a, e, u = ctx.saved_tensors
        k, m = e.shape[-1], a.shape[-1]
        inner = None
        if grad_x is not None:
            gaps = e.reshape(tuple(e.shape[:-1]) + (1, k)) - e.reshape(tuple(e.shape) + (1,))
            gaps = gaps + np.eye(k, dtype=_dual.value(e).dtype)  # the diagonal: 0 / 1
            inner = (u.mT @ grad_x) / gaps * (1 - np.eye(k, dtype=_dual.value(e).dtype))
        if grad_e is not None:
            diag = grad_e.reshape(tuple(grad_e.shape) + (1,)) * np.eye(k, dtype=_dual.value(e).dtype)
            inner = diag if inner is None else inner + diag
        ga = u @ inner @ u.mT
        if grad_x is not None:
            eye = np.eye(m, dtype=_dual.value(a).dtype)
            span = u @ u.mT
            complement = eye - span
            # M_i for every i at once: a (..., k, m, m) stack
            shifted = e.reshape(tuple(e.shape) + (1, 1)) * eye - a.reshape(tuple(a.shape[:-2]) + (1, m, m))
            stack = shifted @ complement.reshape(tuple(complement.shape[:-2]) + (1, m, m))
            stack = stack + span.reshape(tuple(span.shape[:-2]) + (1, m, m))
            rhs = (complement @ grad_x).mT.reshape(tuple(grad_x.shape[:-2]) + (k, m, 1))
            w = _solve(stack, rhs).reshape(tuple(grad_x.shape[:-2]) + (k, m)).mT
            ga = ga + w @ u.mT
        return ga, None, None, None, None, None, None, None


def run(
    A: np.ndarray, B: Any, X: np.ndarray, iK: Any, k: int, niter: int, tol: float, largest: bool
) -> tuple:
    """lobpcg_array on each matrix of a batch: A (..., m, m), X (..., m, n); iK (m, m), or one
    per matrix of the batch."""
    m, n = X.shape[-2:]
    batch = A.shape[:-2]
    count = int(np.prod(batch, dtype=np.int64))
    flat_a = A.reshape(count, m, m)
    flat_b = None if B is None else B.reshape(count, m, m)
    flat_x = X.reshape(count, m, n)
    flat_ik = None if iK is None else np.broadcast_to(iK, batch + (m, m)).reshape(count, m, m)
    es = np.empty((count, k), A.dtype)
    xs = np.empty((count, m, k), A.dtype)
    for i in range(count):
        b = None if flat_b is None else flat_b[i]
        ik = None if flat_ik is None else flat_ik[i]
        es[i], xs[i] = lobpcg_array(flat_a[i], b, flat_x[i], ik, k, niter, tol, largest)
    return es.reshape(batch + (k,)), xs.reshape(batch + (m, k))
