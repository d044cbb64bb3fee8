"""Matrix functions and decompositions: inverse, determinants, solve, Cholesky, QR, eigh, SVD,
pseudo-inverse, matrix exponential. Each forward is one numpy.linalg call (batched over the
leading dims); each backward is derived by hand from the differential of the factorization
and written with operators and the helpers below, so that it runs on arrays in an ordinary
backward and records a graph under create_graph=True. The derivations are in docs/design.md
("Matrix functions").

The NumPy side (PyTorch's errors for singular matrices, the matrix exponential) is
ops/_lapack.py. A backward that needs the inverse of a matrix, or a solve, calls `_inv` / `_solve`: NumPy on
arrays, the `LinalgInvEx` / `LinalgSolveEx` nodes on Tensors, so that second derivatives go
through them too. The classes are named after PyTorch's nodes (`LinalgSvdBackward0`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import _meta
from ember.ops import _dual
from ember.ops._lapack import (
    LinAlgError,
    cholesky_array,
    eigh_array,
    expm_array,
    inv_array,
    permutation_of,
    solve_array,
    svd_array,
)
from ember.ops.elementwise import Op
from ember.ops.shape import Cat

# ---- helpers that work on arrays and on Tensors (see ops/_dual.py) ---------------------------


def _inv(a: Any) -> Any:
    return inv_array(a) if _dual.is_array(a) else LinalgInvEx.apply(a)


def _solve(a: Any, b: Any) -> Any:
    """a^-1 b for a matrix b (never a vector)."""
    if _dual.is_array(a) and _dual.is_array(b):
        return solve_array(a, b)
    return LinalgSolveEx.apply(a, b)


def _eye(n: int, like: Any) -> np.ndarray:
    return np.eye(n, dtype=_dual.value(like).dtype)


def _diag_embed(v: Any) -> Any:
    """The batch of diagonal matrices with v on the diagonal."""
    n = v.shape[-1]
    return v.reshape(tuple(v.shape) + (1,)) * _eye(n, v)


def _cat(parts: list, axis: int) -> Any:
    if all(_dual.is_array(p) for p in parts):
        return np.concatenate(parts, axis=axis)
    return Cat.apply(axis % len(parts[0].shape), *parts)  # (Cat takes a dim counted from the front)


def _is_complex(x: Any) -> bool:
    return _dual.value(x).dtype.kind == "c"


def _conj(x: Any) -> Any:
    """The conjugate of a complex x, x itself for a real one (no copy)."""
    if not _is_complex(x):
        return x
    return np.conj(x) if _dual.is_array(x) else x.conj()


def _mh(x: Any) -> Any:
    """x^H, the conjugate transpose (x^T for a real x)."""
    return _conj(x.mT)


def _phase_free(m: Any, who: str, what: str, atol: float) -> None:
    """PyTorch's error where a loss depends on the phases of complex singular vectors or
    eigenvectors, which the factorization does not determine: the imaginary part of the
    diagonal of V^H G_V (in PyTorch's form) is then not zero. PyTorch's tolerance is
    absolute (measured: 1e-2 for eig and eigh, 5e-3 for the svd's J + K). Checked on the
    values of Tensors too (create_graph), as PyTorch checks there."""
    m = _dual.value(m)
    if not _dual.is_array(m) or m.dtype.kind != "c":  # (a meta array has no values to check)
        return
    if np.any(np.abs(np.diagonal(m, 0, -2, -1).imag) > atol):
        raise RuntimeError(
            f"{who}: The {what} in the complex case are specified up to multiplication by e^{{i phi}}. "
            + (
                "The specified loss function depends on this quantity, so it is ill-defined."
                if who.startswith("linalg")
                else "The specified loss function depends on this phase term, making it ill-defined."
            )
        )


def _complex_like(x: Any, like: Any) -> Any:
    """A real x (the gradient of real eigenvalues or singular values) made complex where
    `like` is: ember's matmul of Tensors, unlike NumPy's, takes one dtype (create_graph)."""
    return x * (1 + 0j) if _is_complex(like) and not _is_complex(x) else x


def _imag_diagonal(x: Any) -> Any:
    """The imaginary part of the diagonal of each matrix of x."""
    return (np.diagonal(x, 0, -2, -1) if _dual.is_array(x) else x.diagonal(0, -2, -1)).imag


def _add(a: Any, b: Any) -> Any:
    """a + b where either may be None (an output that received no gradient)."""
    return b if a is None else a if b is None else a + b


# ---- inverse, determinants, solve ----------------------------------------------------------------


class LinalgInvEx(Op):
    """A^-1. From A A^-1 = I: d(A^-1) = -A^-1 dA A^-1, so
    the gradient is -A^-T G A^-T."""

    @staticmethod
    def forward(ctx, a):
        out = inv_array(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -(out.mT @ grad @ out.mT)


class LinalgDet(Op):
    """det(A), computed by LU. d det = det tr(A^-1 dA), the derivative
    of slogdet times det: the gradient is G det A^-T, the matrix of cofactors, which the SVD
    gives for a singular A (`_cofactors_by_svd`). Under create_graph, det A^-T goes through
    the inverse's node; a batch holding a singular matrix goes through the SVD's, as
    PyTorch does, since det A^-T has no value there to differentiate."""

    @staticmethod
    def forward(ctx, a):
        det = _meta.asarray(np.linalg.det(a))  # (a meta A: np.asarray made a CPU det)
        ctx.save_for_backward(a, det)
        return det

    @staticmethod
    def backward(ctx, grad):
        a, det = ctx.saved_tensors
        g = grad.reshape(tuple(grad.shape) + (1, 1))
        if _dual.is_array(a):
            return g * _cofactors(a, det)
        if (_dual.value(det) != 0).all():
            try:
                return g * det.reshape(tuple(det.shape) + (1, 1)) * _inv(a).mT
            except LinAlgError:  # a zero pivot in the inverse's LU that det's did not meet
                pass
        return g * _cofactors_by_svd(*LinalgSvd.apply(a, False))


def _cofactors(a: np.ndarray, det: np.ndarray) -> np.ndarray:
    """The matrix of cofactors of each matrix in an array a (det its determinants):
    det(A) A^-T where A is invertible, `_cofactors_by_svd` where it is not."""
    n = a.shape[-1]
    if a.size == 0:
        return np.zeros_like(a)
    flat, dets = a.reshape(-1, n, n), det.reshape(-1)
    out = np.empty_like(flat)
    ok = dets != 0
    if ok.any():
        out[ok] = dets[ok, None, None] * np.linalg.inv(flat[ok]).mT
    if not ok.all():
        out[~ok] = _cofactors_by_svd(*svd_array(flat[~ok], False))
    return out.reshape(a.shape)


def _cofactors_by_svd(u: Any, s: Any, vh: Any) -> Any:
    """The cofactors of A = U S V^H, singular or not, without an inverse: det(U) det(V^H)
    U diag(the product of the other singular values) V^H, with conjugated U and V^H for a
    complex A (the cofactors are adj(A)^T). On arrays for det's gradient, and as a graph
    (U, S, V^H from LinalgSvd's node) for its second derivative. det(U) det(V^H) is +-1 (a
    phase for a complex A) and constant where the SVD is smooth; the products are of S with
    ones on the diagonal, which prod's gradient handles at a zero singular value. The second
    derivative comes through LinalgSvd's backward: finite where the singular values are
    distinct (as PyTorch's: NaN where two are equal)."""
    signs = np.linalg.det(_dual.value(u)) * np.linalg.det(_dual.value(vh))
    k = s.shape[-1]
    eye = _eye(k, s)
    shape = tuple(s.shape[:-1]) + (1, k)
    others = (s.reshape(shape) * (1 - eye) + eye).prod(-1)
    return signs.reshape(signs.shape + (1, 1)) * ((_conj(u) * others.reshape(shape)) @ _conj(vh))


class LinalgSlogdet(Op):
    """(sign, log|det A|). d log|det A| = tr(A^-1 dA): the gradient
    is G A^-T; a real sign is piecewise constant, so its gradient is 0.

    For a complex A, log det A = log|det A| + i theta with sign = e^{i theta}, and
    d log det A = tr(A^-1 dA) again. In the engine's form of gradients (see
    autograd/engine.py), dL = Re(g_r dr + g_s ds) with ds = i sign dtheta, which is
    Re(z d log det A) for z = g_r + i Im(g_s sign): the gradient is z A^-T."""

    @staticmethod
    def forward(ctx, a):
        sign, logabsdet = np.linalg.slogdet(a)
        sign = _meta.asarray(sign)  # saved as the output it is, for create_graph
        ctx.save_for_backward(a, sign)
        return sign, _meta.asarray(logabsdet)

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        a, sign = ctx.saved_tensors
        z = grad_logabsdet
        if grad_sign is not None and _is_complex(sign):
            turn = (grad_sign * sign).imag * 1j
            z = turn if z is None else z + turn
        if z is None:
            return _dual.zeros_like(a)
        return z.reshape(tuple(z.shape) + (1, 1)) * _inv(a).mT


class LinalgSolveEx(Op):
    """X = A^-1 B for a batch of matrices B, batch dims broadcast.
    From A X = B: A dX = dB - dA X, so G_B = A^-T G and G_A = -G_B X^T."""

    @staticmethod
    def forward(ctx, a, b):
        x = solve_array(a, b)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        gb = _solve(a.mT, grad)
        ga = -(gb @ x.mT) if ctx._edges[0] is not None else None
        return ga, gb


# ---- factorizations ------------------------------------------------------------------------------


class LinalgLuFactorEx(Op):
    """The packed LU factorization A = P L U of square or rectangular A (m x n, k = min(m, n)),
    computed by the caller (`lu_array`, which also gives the pivots) and passed in with the
    pivots, from which backward builds P.

    For the square k x k corner (L1, U1 its factors), from P^T dA = dL U + L dU:
    X = L1^-1 (P^T dA)_1 U1^-1 = L1^-1 dL1 + dU1 U1^-1, the first term strictly lower
    triangular (unit diagonal) and the second upper. With G_L and G_U the parts of the
    packed gradient below and on-and-above the diagonal, G_1 = L1^-T M U1^-T with
    M = tril(L1^T G_L1, -1) + triu(G_U1 U1^T) for square A. The rest of a rectangular A is
    solved from the corner's factors, and its gradient enters M through them
    (docs/design.md, "Matrix functions"): wide (m < n), U2 = L^-1 (P^T A)_2, so
    G_2 = L^-T G_U2 and M gains -tril(G_U2 U2^T, -1); tall (m > n), L2 = (P^T A)_2 U^-1,
    so G_2 = G_L2 U^-T and M gains -triu(L2^T G_L2). The gradient is P [G_1 G_2].
    """

    _intermediates = ("pivots",)

    @staticmethod
    def forward(ctx, a, lu, pivots):
        # a copy: the caller returns the pivots array as a tensor, which the user may change
        # in place (PyTorch's node saves it and raises then)
        ctx.pivots = pivots.copy()
        ctx.save_for_backward(lu)
        return lu

    @staticmethod
    def backward(ctx, grad):
        (lu,) = ctx.saved_tensors
        m, n = lu.shape[-2:]
        k = min(m, n)
        corner, g_corner = lu[..., :k, :k], grad[..., :k, :k]
        _check_pivots(_dual.value(corner))
        lower = _dual.tri(corner, -1, upper=False) + _eye(k, lu)
        upper = _dual.tri(corner, 0, upper=True)
        below = _dual.tri(lower.mT @ _dual.tri(g_corner, -1, upper=False), -1, upper=False)
        above = _dual.tri(g_corner, 0, upper=True) @ upper.mT
        if m > n:  # tall: the rows below the corner are L2
            above = above - lu[..., k:, :].mT @ grad[..., k:, :]
        elif m < n:  # wide: the columns right of the corner are U2
            below = below - _dual.tri(grad[..., :, k:] @ lu[..., :, k:].mT, -1, upper=False)
        inner = below + _dual.tri(above, 0, upper=True)
        x = _solve(upper, _solve(lower.mT, inner).mT).mT  # L1^-T inner U1^-T
        if m > n:
            x = _cat([x, _solve(upper, grad[..., k:, :].mT).mT], -2)  # G_L2 U^-T
        elif m < n:
            x = _cat([x, _solve(lower.mT, grad[..., :, k:])], -1)  # L^-T G_U2
        p = permutation_of(ctx.pivots, m, _dual.value(lu).dtype)
        return (x.mT @ p.mT).mT, None, None  # P x


def _check_pivots(corner: Any) -> None:
    """The LU gradient solves with U's square corner: a zero on its diagonal (a zero pivot)
    leaves it undefined. PyTorch's triangular solves then give NaN (infinities times
    zeros); ember raises, naming the op, where the general solve inside backward named
    linalg.solve."""
    if not _dual.is_array(corner):  # (a meta array has no values to check)
        return
    zero = np.diagonal(corner, 0, -2, -1) == 0
    if zero.any():
        b, i = divmod(int(np.flatnonzero(zero)[0]), zero.shape[-1])
        raise LinAlgError(
            f"linalg.lu_factor: {f'(Batch element {b}): ' if zero.ndim > 1 else ''}the gradient of "
            f"the LU factorization is not defined at a zero pivot (U[{i}, {i}] = 0), where "
            "PyTorch's is NaN"
        )


class LinalgCholeskyEx(Op):
    """A = L L^H for a Hermitian (real: symmetric) positive-definite A, L lower triangular,
    reading A's lower triangle; `upper` returns U = L^H, reading the upper one (as PyTorch's
    LAPACK call does).

    From dA = dL L^H + L dL^H: L^-1 dA L^-H = P + P^H with P = L^-1 dL lower triangular, so
    P is the lower triangle of L^-1 dA L^-H with its diagonal halved. The gradient is then
    L^-H S L^-1 with S the lower triangle of L^H G_L, its diagonal halved, plus the
    conjugate transpose of its strict lower triangle: symmetric for a real A, as PyTorch's
    is; for a complex A, S's diagonal is complex and the gradient is PyTorch's, not
    Hermitian. Written in PyTorch's form of complex gradients (the engine's conjugated, see
    autograd/engine.py), hence the conjugations around it.
    """

    @staticmethod
    def forward(ctx, a, upper):
        lower = cholesky_array(_mh(a) if upper else a)  # LAPACK's uplo='U' reads the upper triangle
        ctx.upper = upper
        out = _mh(lower).copy() if upper else lower  # C order (copy keeps a meta array meta)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        grad = _conj(grad)
        lower, g = (_mh(out), _mh(grad)) if ctx.upper else (out, grad)
        p = _dual.tri(_mh(lower) @ g, 0, upper=False)
        s = 0.5 * (p + _mh(_dual.tri(p, -1, upper=False)))
        # L^-H S L^-1 as two solves: Y = L^-H S, then (L^-H Y^H)^H = Y L^-1
        y = _solve(_mh(lower), s)
        return _conj(_mh(_solve(_mh(lower), _mh(y)))), None


def _qr_grad(q: Any, r: Any, gq: Any, gr: Any) -> Any:
    """The gradient of A = Q R (m >= n, Q with orthonormal columns, R upper triangular with
    a real diagonal), in PyTorch's form of complex gradients.

    With X = Q^H dA R^-1: Q^H dQ is skew-Hermitian and dR R^-1 upper triangular with a real
    diagonal, and they sum to X, so Q^H dQ = tril(X, -1) - tril(X, -1)^H + i Im(diag X).
    Substituting in <G_Q, dQ> + <G_R, dR> (the real inner product Re tr(G^H dX)) gives
    G_A = (G_Q + Q N) R^-H with M = G_R R^H - Q^H G_Q and N its strict upper triangle
    mirrored to the lower one, plus the real part of its diagonal."""
    m = None
    if gr is not None:
        m = gr @ _mh(r)
    if gq is not None:
        m = _add(m, -(_mh(q) @ gq))
    upper = _dual.tri(m, 1, upper=True)
    diagonal = _dual.tri(m, 0, upper=True) - upper
    n = upper + _mh(upper) + (0.5 * (diagonal + _mh(diagonal)) if _is_complex(m) else diagonal)
    b = _add(gq, q @ n)
    return _mh(_solve(r, _mh(b)))  # b R^-H


class CholeskyTriangle(Op):
    """The triangle of a Cholesky factor that cholesky_solve and cholesky_inverse read (the
    lower one, or the upper if `upper`); the other may hold anything and is never read.

    The gradient passes through whole: PyTorch's gradient of those functions is that of
    (L L^H)^-1 taken as a function of a full matrix L, at L, so its unused triangle gets
    a gradient too. Passing it through here gives PyTorch's numbers for a triangular L
    (first and second derivatives), and for one with something in the other triangle the
    same numbers as for its triangle (PyTorch's gradient reads the other triangle there).
    """

    @staticmethod
    def forward(ctx, a, upper):
        return np.triu(a) if upper else np.tril(a)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class LinalgQr(Op):
    """A = Q R; mode is 'reduced', 'complete' or 'r' (R alone, no gradient). For m < n,
    A = [X Y] with X = Q R_1 square and Y = Q R_2: X takes the square case's gradient with
    G_Q + Y G_R2^H for G_Q, and G_Y = Q G_R2. The backward works in PyTorch's form of
    complex gradients (see _qr_grad)."""

    @staticmethod
    def forward(ctx, a, mode):
        ctx.mode = mode
        if mode == "r":
            r = np.linalg.qr(a, mode="r")
            ctx.save_for_backward(r)
            return np.zeros((0,), a.dtype), r
        q, r = np.linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        gq, gr = (None if g is None else _conj(g) for g in (gq, gr))  # PyTorch's form
        saved = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                "through linalg.qr."
            )
        q, r = saved
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
            )
        if m >= n:
            return _conj(_qr_grad(q, r, gq, gr)), None
        axis = len(r.shape) - 1
        r1, r2 = r[..., :m], r[..., m:]
        gr1 = gr2 = None
        if gr is not None:
            gr1, gr2 = gr[..., :m], gr[..., m:]
            gq = _add(gq, (q @ r2) @ _mh(gr2))  # Y = Q R_2
        gx = _qr_grad(q, r1, gq, gr1)
        gy = q @ gr2 if gr2 is not None else _dual.zeros_like(r2)
        return _conj(_cat([gx, gy], axis)), None


class LinalgEigh(Op):
    """Eigenvalues (ascending, real) and orthonormal eigenvectors of a Hermitian (real:
    symmetric) matrix, read from its lower (UPLO='L') or upper triangle.

    From A V = V diag(w) and V^H V = I: dw = diag(V^H dA V) and V^H dV = F o (V^H dA V),
    F_ij = 1 / (w_j - w_i) off the diagonal. So G_A = V (diag(G_w) + F o skew(V^H G_V)) V^H
    with skew(M) = (M - M^H) / 2 (F is antisymmetric too); the result is Hermitian.
    Distinct eigenvalues only: where two are equal, F is infinite. In PyTorch's form of
    complex gradients, where a loss that depends on the eigenvectors' phases raises
    PyTorch's error (the imaginary diagonal of V^H G_V).
    """

    @staticmethod
    def forward(ctx, a, uplo):
        w, v = eigh_array(a, uplo)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        inner = None
        if gv is not None:
            n = w.shape[-1]
            vtgv = _mh(v) @ _conj(gv)
            _phase_free(vtgv, "linalg_eigh_backward", "eigenvectors", 1e-2)
            gaps = w.reshape(tuple(w.shape[:-1]) + (1, n)) - w.reshape(tuple(w.shape) + (1,))
            gaps = gaps + _eye(n, w)  # the diagonal of (M - M^H) is 0 (or raised): divide it by 1
            inner = 0.5 * (vtgv - _mh(vtgv)) / gaps
        if gw is not None:
            inner = _add(inner, _complex_like(_diag_embed(gw), v))
        return _conj(v @ inner @ _mh(v)), None


class LinalgEig(Op):
    """Eigenvalues and eigenvectors of a general square matrix, complex: A V = V diag(L), each
    eigenvector of norm 1 with its largest component real (LAPACK's geev, as PyTorch).

    In PyTorch's convention (gradients dL/dx + i dL/dy; the engine passes their conjugates,
    see autograd/engine.py) the gradient is G_A = V^-H (diag(G_L) + (V^H G_V - V^H V
    Re(diag(V^H G_V))) / conj(E)) V^H with E_ij = L_j - L_i off the diagonal, and its real
    part for a real A. Eigenvectors are defined up to a phase each, so a loss that depends on
    the phase has no gradient: PyTorch's error. Distinct eigenvalues only. No second
    derivative (under create_graph the backward raises).
    """

    @staticmethod
    def forward(ctx, a):
        if a.__class__ is not _meta.MetaArray and not np.isfinite(a).all():  # (meta: no values)
            raise RuntimeError("linalg.eig: input tensor should not contain infs or NaNs.")
        values, vectors = np.linalg.eig(a)
        complex_dtype = np.result_type(a.dtype, np.complex64)
        values, vectors = values.astype(complex_dtype, copy=False), vectors.astype(complex_dtype, copy=False)
        ctx.save_for_backward(values, vectors)
        ctx.real_input = a.dtype.kind != "c"
        return values, vectors

    @staticmethod
    def backward(ctx, g_values, g_vectors):
        if not all(g is None or _dual.is_array(g) for g in (g_values, g_vectors)):
            raise NotImplementedError("linalg.eig: ember has no second derivative of eig (create_graph=True)")
        values, vectors = ctx.saved_tensors
        n = values.shape[-1]
        eye = np.eye(n)
        vh = np.conj(vectors.mT)
        grad = np.zeros(vectors.shape, vectors.dtype)
        if g_vectors is not None:
            vhgv = vh @ np.conj(g_vectors)  # PyTorch's form of the gradient
            _phase_free(vhgv, "linalg_eig_backward", "eigenvectors", 1e-2)
            diagonal = np.diagonal(vhgv, axis1=-2, axis2=-1)
            grad = vhgv - (vh @ vectors) * diagonal.real[..., None, :]
            gaps = np.conj(values[..., None, :] - values[..., :, None]) + eye
            grad = grad / gaps * (1 - eye)
        if g_values is not None:
            grad = grad + np.conj(g_values)[..., None, :] * eye
        grad = np.linalg.solve(vh, grad @ vh)
        return grad.real if ctx.real_input else np.conj(grad)


class LinalgSvd(Op):
    """A = U diag(S) Vh, S descending (and real).

    With k = min(m, n), J = U^H G_U, K = V^H G_V and E_ij = S_j^2 - S_i^2 (1 on the diagonal),
    the square part of the gradient is U [((J - J^H) S + S (K - K^H)) / E + diag(G_S)] Vh,
    from differentiating A^H A V = V S^2 and A A^H U = U S^2. For m > n, U's columns leave
    the column space of A's span: + (I - U U^H) G_U S^-1 Vh; for m < n likewise with V. With
    full_matrices, the extra columns of U (rows of Vh) are not determined by A and their
    gradients are dropped, as PyTorch drops them. Distinct singular values only.

    Complex: written in PyTorch's form of gradients. Each pair of singular vectors is fixed
    up to a common phase e^{i phi}: a loss that depends on it (Im diag(J + K) not zero)
    raises PyTorch's error; otherwise the phase adds i Im(J_ii - K_ii) / (2 S_i) to the
    diagonal.
    """

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = svd_array(a, full_matrices)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        k = s.shape[-1]
        m, n = u.shape[-2], vh.shape[-1]
        u, vh = u[..., :k], vh[..., :k, :]
        gu = _conj(gu[..., :k]) if gu is not None else None
        gvh = _conj(gvh[..., :k, :]) if gvh is not None else None
        if gu is None and gvh is None:  # svdvals: the singular values alone
            return _conj(u @ _complex_like(_diag_embed(gs), u) @ vh), None
        s_row = s.reshape(tuple(s.shape[:-1]) + (1, k))
        s_col = s.reshape(tuple(s.shape) + (1,))
        gaps = s_row * s_row - s_col * s_col + _eye(k, s)
        inner = j = kk = None
        if gu is not None:
            j = _mh(u) @ gu
            inner = (j - _mh(j)) * s_row
        if gvh is not None:
            kk = vh @ _mh(gvh)
            inner = _add(inner, s_col * (kk - _mh(kk)))
        inner = inner / gaps
        if gs is not None:
            inner = inner + _diag_embed(gs)
        if _is_complex(u):
            phases = _add(j, None if kk is None else -kk)  # J - K: its diagonal is the phase's
            _phase_free(_add(j, kk), "svd_backward", "singular vectors", 5e-3)
            inner = inner + _diag_embed(_imag_diagonal(phases) * 0.5j / s)
        ga = u @ inner @ vh
        if m > n and gu is not None:
            gu_s = gu / s_row
            ga = ga + (gu_s - u @ (_mh(u) @ gu_s)) @ vh
        elif m < n and gvh is not None:
            s_gvh = gvh / s_col
            ga = ga + u @ (s_gvh - (s_gvh @ _mh(vh)) @ vh)
        return _conj(ga), None


# ---- pseudo-inverse, matrix exponential ------------------------------------------------------------


class LinalgPinv(Op):
    """The Moore-Penrose pseudo-inverse P of A, dropping the singular values (or, hermitian,
    the eigenvalues in absolute value) not above max(atol, rtol * the largest)
    (torch.linalg.pinv, which PyTorch differentiates through its SVD).

    The gradient is the derivative of the pseudo-inverse for a constant rank (Golub and
    Pereyra): dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P, whose adjoint needs
    neither the SVD nor distinct singular values; written in PyTorch's form of complex
    gradients."""

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        if hermitian:
            w, v = eigh_array(a, op="linalg.pinv")
            size = np.abs(w)
            kept = size > np.maximum(atol, rtol * size.max(-1, keepdims=True, initial=0))
            p = (v * (kept / np.where(kept, w, 1))[..., None, :]) @ _mh(v)
        else:
            u, s, vh = svd_array(a, False, op="linalg.pinv")
            kept = s > np.maximum(atol, rtol * s[..., :1])
            p = (_mh(vh) * (kept / np.where(kept, s, 1))[..., None, :]) @ _mh(u)
        p = p.astype(a.dtype, copy=False)
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, grad):
        a, p = ctx.saved_tensors
        grad = _conj(grad)
        ga = -(_mh(p) @ grad @ _mh(p))
        y = _mh(grad) @ (p @ _mh(p))
        ga = ga + (y - a @ (p @ y))  # (I - A P) G^H P P^H
        y = (_mh(p) @ p) @ _mh(grad)
        ga = ga + (y - (y @ p) @ a)  # P^H P G^H (I - P A)
        return _conj(ga), None, None, None


class LinalgMatrixExp(Op):
    """exp(A) = sum A^k / k!. Its gradient is the derivative of exp
    at A^T in the direction G, which is the upper-right block of exp([[A^T, G], [0, A^T]])
    (the block-triangular identity of Mathias, 1996): one more exponential, of twice the size,
    and itself differentiable."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return expm_array(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        n, axis = a.shape[-1], len(grad.shape) - 1
        at = a.mT
        zeros = np.zeros(tuple(grad.shape), _dual.value(grad).dtype)
        block = _cat([_cat([at, grad], axis), _cat([zeros, at], axis)], axis - 1)
        exp = expm_array(block) if _dual.is_array(block) else LinalgMatrixExp.apply(block)
        return exp[..., :n, n:]
