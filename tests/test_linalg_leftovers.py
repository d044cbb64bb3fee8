"""The linear-algebra leftovers of the twenty-second session's review, compared with PyTorch:
the Cholesky solves read only the named triangle of the factor; the LU factorization of a
non-square matrix has a gradient; the gradients of svdvals and the nuclear norm at
rank-deficient matrices and repeated singular values; and renorm, cross and cdist of complex
tensors. Each gradient comparison takes the same upstream gradient in both frameworks."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember.autograd import gradcheck, gradgradcheck

_RNG = np.random.default_rng(2223)


def _random(shape: tuple, dtype: Any) -> np.ndarray:
    x = _RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * _RNG.standard_normal(shape)
    return x.astype(dtype)


def _weights(shape: tuple) -> np.ndarray:
    """A fixed upstream gradient of that shape (the last dim holds real and imaginary parts)."""
    return np.cos(np.arange(int(np.prod(shape))) * 0.7 + 0.3).reshape(shape)


def _loss(T: Any, outputs: Any) -> Any:
    total = 0
    for out in outputs if isinstance(outputs, (tuple, list)) else (outputs,):
        if out.is_complex():
            out = T.view_as_real(out)
        total = total + (out * T.tensor(_weights(tuple(out.shape)), dtype=out.dtype)).sum()
    return total


def _values_and_grads(T: Any, fn: Any, arrays: list) -> tuple:
    inputs = [T.tensor(a, requires_grad=True) for a in arrays]
    outputs = fn(T, *inputs)
    _loss(T, outputs).backward()
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    return [o.detach().numpy() for o in outputs], [x.grad.numpy() for x in inputs]


def _same_as_torch(fn: Any, arrays: list, tol: float = 1e-10) -> None:
    import torch

    ours, our_grads = _values_and_grads(ember, fn, arrays)
    theirs, their_grads = _values_and_grads(torch, fn, arrays)
    for a, b in zip(ours + our_grads, theirs + their_grads, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _factor(batch: tuple, n: int, dtype: Any, upper: bool) -> np.ndarray:
    """A Cholesky factor, lower (upper) triangular, with the diagonal well away from zero."""
    a = _random(batch + (n, n), dtype)
    hpd = a @ np.conj(a.swapaxes(-1, -2)) + n * np.eye(n)
    low = np.linalg.cholesky(hpd)
    return np.ascontiguousarray(np.conj(low.swapaxes(-1, -2))) if upper else low


def _with_garbage(factor: np.ndarray, upper: bool) -> np.ndarray:
    """The factor with random numbers in the triangle the Cholesky functions must not read."""
    noise = _random(factor.shape, factor.dtype)
    return factor + (np.tril(noise, -1) if upper else np.triu(noise, 1))


# ---- 1. the Cholesky solves read one triangle of the factor ----------------------------------

CHOLESKY_DTYPES = [np.float64, np.complex128]


@requires_torch
@pytest.mark.parametrize("dtype", CHOLESKY_DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse_of_a_triangular_factor_match_torch(dtype: Any, upper: bool) -> None:
    L = _factor((2,), 3, dtype, upper)
    B = _random((2, 3, 2), dtype)
    _same_as_torch(lambda T, b, f: T.cholesky_solve(b, f, upper=upper), [B, L])
    _same_as_torch(lambda T, f: T.cholesky_inverse(f, upper=upper), [L])


@pytest.mark.parametrize("dtype", CHOLESKY_DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_the_other_triangle_is_never_read(dtype: Any, upper: bool) -> None:
    """Values and gradients with random numbers in the unused triangle are those of the
    clean factor (PyTorch's values are too; its gradient reads that triangle)."""
    L = _factor((2,), 3, dtype, upper)
    B = _random((2, 3, 2), dtype)
    for fn, arrays in [
        (lambda T, b, f: T.cholesky_solve(b, f, upper=upper), [B, L]),
        (lambda T, f: T.cholesky_inverse(f, upper=upper), [L]),
    ]:
        clean = _values_and_grads(ember, fn, arrays)
        dirty = _values_and_grads(ember, fn, arrays[:-1] + [_with_garbage(L, upper)])
        for a, b in zip(clean[0] + clean[1], dirty[0] + dirty[1], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@requires_torch
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_values_with_garbage_match_torch(upper: bool) -> None:
    import torch

    L = _with_garbage(_factor((2,), 4, np.complex128, upper), upper)
    B = _random((2, 4, 3), np.complex128)
    ours = ember.cholesky_solve(ember.tensor(B), ember.tensor(L), upper=upper).numpy()
    theirs = torch.cholesky_solve(torch.tensor(B), torch.tensor(L), upper=upper).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    ours = ember.cholesky_inverse(ember.tensor(L), upper=upper).numpy()
    theirs = torch.cholesky_inverse(torch.tensor(L), upper=upper).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", CHOLESKY_DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_gradients_on_the_triangle_pass_gradcheck(dtype: Any, upper: bool) -> None:
    """On the triangle that is read the gradient is the derivative (the other triangle's is
    PyTorch's convention, a derivative of the full-matrix formula: checked above)."""
    L = ember.tensor(_factor((2,), 3, dtype, upper), requires_grad=True)
    B = ember.tensor(_random((2, 3, 2), dtype), requires_grad=True)

    def tri(f: Any) -> Any:
        return f.triu() if upper else f.tril()

    assert gradcheck(lambda b, f: ember.cholesky_solve(b, tri(f), upper=upper), (B, L))
    assert gradcheck(lambda f: ember.cholesky_inverse(tri(f), upper=upper), (L,))
    assert gradgradcheck(lambda b, f: ember.cholesky_solve(b, tri(f), upper=upper), (B, L))


@requires_torch
@pytest.mark.parametrize("dtype", CHOLESKY_DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_second_derivatives_match_torch(dtype: Any, upper: bool) -> None:
    import torch

    L = _factor((2,), 3, dtype, upper)
    B = _random((2, 3, 2), dtype)
    for fn in (
        lambda T, b, f: T.cholesky_solve(b, f, upper=upper),
        lambda T, b, f: T.cholesky_inverse(f, upper=upper) + b.sum(),
    ):
        results = []
        for T in (ember, torch):
            f = T.tensor(L, requires_grad=True)
            b = T.tensor(B, requires_grad=True)
            (g,) = T.autograd.grad(_loss(T, fn(T, b, f)), f, create_graph=True)
            (gg,) = T.autograd.grad((g * g.conj()).real.sum(), f)
            results.append(gg.numpy())
        np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-10)


@requires_torch
@pytest.mark.parametrize(("b_batch", "l_batch"), [((2, 1), (3,)), ((), (2,)), ((4,), ()), ((1, 3), (2, 1))])
def test_cholesky_solve_broadcasts_batch_dims_as_torch(b_batch: tuple, l_batch: tuple) -> None:
    L = _factor(l_batch, 3, np.float64, False)
    B = _random(b_batch + (3, 2), np.float64)
    _same_as_torch(lambda T, b, f: T.cholesky_solve(b, f), [B, L])


def _triangular(n: int, dtype: Any, upper: bool) -> np.ndarray:
    a = _random((2, n, n), dtype) + 3 * np.eye(n)
    return _with_garbage(np.triu(a) if upper else np.tril(a), upper)


@requires_torch
@pytest.mark.parametrize("dtype", CHOLESKY_DTYPES)
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("unit", [False, True])
def test_triangular_solves_ignore_the_other_triangle_as_torch(dtype: Any, upper: bool, unit: bool) -> None:
    A = _triangular(3, dtype, upper)
    B = _random((2, 3, 2), dtype)
    _same_as_torch(lambda T, a, b: T.linalg.solve_triangular(a, b, upper=upper, unitriangular=unit), [A, B])
    _same_as_torch(
        lambda T, a, b: T.linalg.solve_triangular(a, b.mT, upper=upper, left=False, unitriangular=unit),
        [A, B],
    )
    with pytest.warns(UserWarning):
        _same_as_torch(
            lambda T, b, a: T.triangular_solve(b, a, upper=upper, unitriangular=unit).solution, [B, A]
        )
        _same_as_torch(
            lambda T, b, a: T.triangular_solve(b, a.mT, upper=not upper, transpose=True).solution, [B, A]
        )


@requires_torch
@pytest.mark.parametrize("dtype", CHOLESKY_DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_ex_reads_one_triangle_as_torch(dtype: Any, upper: bool) -> None:
    f = _factor((2,), 3, dtype, upper)
    hpd = np.conj(f.swapaxes(-1, -2)) @ f if upper else f @ np.conj(f.swapaxes(-1, -2))
    _same_as_torch(lambda T, a: T.linalg.cholesky_ex(a, upper=upper)[0], [_with_garbage(hpd, upper)])


# ---- 4. renorm, cross and cdist of complex tensors ---------------------------------------------


@requires_torch
@pytest.mark.parametrize("p", [1.0, 2.0, 3.5, float("inf")])
@pytest.mark.parametrize("dtype", [np.complex128, np.float64])
def test_renorm_of_complex_input_matches_torch(p: float, dtype: Any) -> None:
    x = _random((3, 4, 2), dtype)
    _same_as_torch(lambda T, t: T.renorm(t, p, 1, 1.0), [x])
    _same_as_torch(lambda T, t: T.renorm(t * 1, p, 0, 1.5), [x])


@requires_torch
def test_renorm_of_complex64_and_in_place_match_torch() -> None:
    import torch

    x = _random((3, 4), np.complex64)
    ours = ember.tensor(x)
    theirs = torch.tensor(x)
    ours.renorm_(2, 0, 1.0)
    theirs.renorm_(2, 0, 1.0)
    assert str(ours.dtype) == "ember.complex64"
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


ERRORS = {
    "renorm complex maxnorm": lambda T: T.renorm(T.ones(2, 3, dtype=T.complex64), 2, 0, 1 + 1j),
    "renorm real input, complex maxnorm": lambda T: T.renorm(T.ones(2, 3), 2, 0, 1j),
    "cross complex and real": lambda T: T.cross(T.ones(2, 3, dtype=T.complex64), T.ones(2, 3), dim=1),
    "cross real and complex": lambda T: T.linalg.cross(T.ones(3), T.ones(3, dtype=T.complex128)),
    "cross float and double": lambda T: T.cross(T.ones(3), T.ones(3, dtype=T.float64), dim=0),
    "cross int and long": lambda T: T.cross(T.ones(3, dtype=T.int32), T.ones(3, dtype=T.int64), dim=0),
    "cross bool and bool": lambda T: T.cross(T.ones(2, 3, dtype=T.bool), T.ones(2, 3, dtype=T.bool), dim=1),
    "cross bool and float": lambda T: T.linalg.cross(T.ones(2, 3, dtype=T.bool), T.ones(1, 3)),
    "cross float and bool": lambda T: T.linalg.cross(T.ones(2, 3), T.ones(1, 3, dtype=T.bool)),
    "cross int and float, broadcast": lambda T: T.linalg.cross(T.ones(2, 3, dtype=T.int64), T.ones(1, 3)),
    "cross empty, two dtypes": lambda T: T.linalg.cross(T.ones(0, 3), T.ones(0, 3, dtype=T.float64)),
    "cdist complex x1": lambda T: T.cdist(T.ones(2, 3, dtype=T.complex64), T.ones(2, 3)),
    "cdist complex x2": lambda T: T.cdist(T.ones(2, 3), T.ones(2, 3, dtype=T.complex128)),
    "cdist both complex, p=1": lambda T: T.cdist(
        T.ones(2, 3, dtype=T.complex64), T.ones(2, 3, dtype=T.complex64), p=1.0
    ),
    "cdist long": lambda T: T.cdist(T.ones(2, 3, dtype=T.int64), T.ones(2, 3)),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name: str) -> None:
    import torch

    with pytest.raises(Exception) as theirs:
        ERRORS[name](torch)
    with pytest.raises(type(theirs.value), match=f"^{re.escape(str(theirs.value))}$"):
        ERRORS[name](ember)


# ---- 3. svdvals and the norms at rank-deficient matrices and equal singular values ---------------


def _with_singular_values(s: list, dtype: Any, m: int | None = None) -> np.ndarray:
    """Q1 diag(s) Q2^H for random unitary Q1 (m x m, m >= len(s)) and Q2, so that the SVD's
    vectors are not the unit vectors (where any two LAPACKs agree)."""
    n = len(s)
    m = m or n
    q1 = np.linalg.qr(_random((m, m), dtype))[0][:, :n]
    q2 = np.linalg.qr(_random((n, n), dtype))[0]
    return (q1 * np.array(s)) @ np.conj(q2.T)


@requires_torch
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("s", [[2.0, 2.0, 1.0], [2.0, 1.0, 1.0], [3.0, 3.0, 3.0], [0.0, 0.0, 0.0]])
def test_spectral_norms_at_equal_singular_values_match_torch(dtype: Any, s: list) -> None:
    """The largest (smallest) of equal singular values share the gradient, as amax's ties,
    so that it does not depend on the vectors the SVD chose. The matrices are signed
    permutations of diag(s), whose singular values both LAPACKs find exactly (ties that
    rounding breaks are broken differently by different LAPACKs: docs/differences.md)."""
    perm = np.eye(3)[[2, 0, 1]] * np.array([1.0, -1.0, 1.0])
    A = np.stack([np.diag(s), perm @ np.diag(s)]).astype(dtype)
    for order in (2, -2):
        _same_as_torch(lambda T, a, order=order: T.linalg.matrix_norm(a, order), [A])
        _same_as_torch(lambda T, a, order=order: T.linalg.norm(a, order, dim=(0, 2), keepdim=True), [A])


@requires_torch
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_nuclear_norm_at_equal_singular_values_matches_torch(dtype: Any) -> None:
    """Equal (nonzero) singular values: the sum of u v^H over them is a function of A, so the
    nuclear norm's gradient and svdvals' under equal weights are PyTorch's to 1e-10."""
    for A in (_with_singular_values([2.0, 2.0, 1.0], dtype, 4), _with_singular_values([1.5] * 3, dtype)):
        _same_as_torch(lambda T, a: T.linalg.matrix_norm(a, "nuc"), [A])
        _same_as_torch(lambda T, a: T.linalg.norm(a, "nuc", dim=(-1, -2)), [A])
        _same_as_torch(lambda T, a: T.linalg.svdvals(a).sum(), [A])


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3)])
def test_nuclear_norm_gradient_at_a_rank_deficient_matrix_is_a_subgradient(dtype: Any, shape: tuple) -> None:
    """At a zero singular value the gradient is U V^H with the SVD's choice of vectors for
    it, as PyTorch's (whose LAPACK may choose others: docs/differences.md); any such choice
    is a subgradient: <G, A> = ||A||_* and ||G||_2 <= 1."""
    A = _random((shape[0], 2), dtype) @ _random((2, shape[1]), dtype)
    x = ember.tensor(A, requires_grad=True)
    nuc = ember.linalg.matrix_norm(x, "nuc")
    nuc.backward()
    g = x.grad.numpy()
    np.testing.assert_allclose(np.vdot(g, A).real, nuc.item(), rtol=1e-10)
    assert np.linalg.norm(g, 2) <= 1 + 1e-10


# ---- 2. the LU factorization of a non-square matrix has a gradient --------------------------------

LU_SHAPES = [(5, 3), (3, 5), (2, 4, 3), (2, 3, 4), (4, 1), (1, 4)]


@requires_torch
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("shape", LU_SHAPES)
def test_lu_of_a_rectangular_matrix_matches_torch(dtype: Any, shape: tuple) -> None:
    A = _random(shape, dtype)
    _same_as_torch(lambda T, a: T.linalg.lu(a)[1:], [A])
    _same_as_torch(lambda T, a: T.linalg.lu_factor(a).LU, [A])
    _same_as_torch(lambda T, a: T.linalg.lu_factor_ex(a).LU, [A])
    with pytest.warns(UserWarning):
        _same_as_torch(lambda T, a: T.lu(a)[0], [A])


@requires_torch
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_lu_of_a_rectangular_matrix_second_derivative_matches_torch(dtype: Any) -> None:
    import torch

    for shape in [(4, 3), (3, 4)]:
        A = _random(shape, dtype)
        results = []
        for T in (ember, torch):
            a = T.tensor(A, requires_grad=True)
            (g,) = T.autograd.grad(_loss(T, T.linalg.lu(a)[1:]), a, create_graph=True)
            (gg,) = T.autograd.grad((g * g.conj()).real.sum(), a)
            results.append(gg.numpy())
        np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("shape", [(2, 4, 3), (2, 3, 4)])
def test_lu_of_a_rectangular_matrix_passes_gradcheck(dtype: Any, shape: tuple) -> None:
    a = ember.tensor(_random(shape, dtype), requires_grad=True)
    assert gradcheck(lambda x: ember.linalg.lu(x)[1:], (a,))
    assert gradcheck(lambda x: ember.linalg.lu_factor(x).LU, (a,))
    assert gradgradcheck(lambda x: ember.linalg.lu_factor(x).LU, (a,))


# ---- gradcheck perturbs inputs of any layout ------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_gradcheck_perturbs_a_non_contiguous_input(dtype: Any) -> None:
    """gradcheck perturbed a flat reshape of the input's array, a copy when the array is
    transposed or sliced: the numerical Jacobian was zero, so a detached result passed."""
    base = _random((3, 4), dtype)
    for x in (ember.tensor(base.T), ember.tensor(base).T, ember.tensor(base)[:, ::2]):
        x.requires_grad_()
        assert not x._data.flags.c_contiguous
        before = x.detach().numpy().copy()
        assert gradcheck(lambda t: (t * t).sin(), (x,))
        assert gradgradcheck(lambda t: (t * t).sin(), (x,))
        with pytest.raises(ember.autograd.GradcheckError, match="expected to be zero"):
            gradcheck(lambda t: (t * 2).detach(), (x,))
        with pytest.raises(ember.autograd.GradcheckError, match="Jacobian mismatch"):
            gradcheck(lambda t: t * 0 + (t * 2).detach(), (x,))  # analytic 0, numerical 2
        assert np.array_equal(x.detach().numpy(), before)  # each perturbation was undone


@requires_torch
def test_gradcheck_refuses_a_stride_0_input_as_torch() -> None:
    import torch

    with pytest.raises(RuntimeError) as theirs:
        torch.autograd.gradcheck(
            lambda t: t * 2, (torch.ones(3, dtype=torch.float64).expand(2, 3).requires_grad_(),)
        )
    with pytest.raises(RuntimeError, match=f"^{re.escape(str(theirs.value))}$"):
        gradcheck(lambda t: t * 2, (ember.ones(3, dtype=ember.float64).expand(2, 3).requires_grad_(),))
    assert gradcheck(lambda t: t * 2, (ember.ones(1, 3, dtype=ember.float64).expand(1, 3).requires_grad_(),))
    empty = ember.tensor(np.zeros((3, 0)), requires_grad=True)  # NumPy gives it strides (0, 8)
    assert gradcheck(lambda t: t * 2, (empty,))


@requires_torch
@pytest.mark.parametrize("shape", [(3, 3), (1, 3, 3), (2, 2, 3, 3), (2, 3, 4), (2, 4, 3)])
def test_zero_pivot_errors_name_the_batch_element_as_torch(shape: tuple) -> None:
    """lu_factor and lu_factor_ex(check_errors=True) name the batch element, as PyTorch's
    (ember's lu_factor did not, lu_factor_ex said something else); the deprecated lu does
    not raise, as PyTorch 2.13's."""
    import torch

    A = _random(shape, np.float64)
    A[(-1,) * (len(shape) - 2)] = np.outer(np.arange(1.0, shape[-2] + 1), np.ones(shape[-1]))
    for fn in (lambda T, a: T.linalg.lu_factor(a), lambda T, a: T.linalg.lu_factor_ex(a, check_errors=True)):
        with pytest.raises(RuntimeError) as theirs:
            fn(torch, torch.tensor(A))
        with pytest.raises(ember.linalg.LinAlgError, match=f"^{re.escape(str(theirs.value))}$"):
            fn(ember, ember.tensor(A))
    with pytest.warns(UserWarning):
        LU = ember.lu(ember.tensor(A))[0].numpy()
    with warnings.catch_warnings():  # (PyTorch warns once in a process)
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(LU, torch.lu(torch.tensor(A))[0].numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 3), (2, 3, 4)])
def test_lu_gradient_at_a_zero_pivot_raises_naming_lu(shape: tuple) -> None:
    """PyTorch's gradient is NaN there (docs/differences.md); ember's backward raised from the
    solve inside it, naming linalg.solve."""
    A = _random(shape, np.float64)
    A[..., :, 1] = 2 * A[..., :, 0]  # the second pivot is zero in each matrix
    a = ember.tensor(A, requires_grad=True)
    P, L, U = ember.linalg.lu(a)
    where = r"\(Batch element 0\): " if len(shape) > 2 else ""
    message = rf"^linalg.lu_factor: {where}the gradient .* zero pivot \(U\[1, 1\] = 0\)"
    with pytest.raises(ember.linalg.LinAlgError, match=message):
        (L.sum() + U.sum()).backward()


def _factor_view(case: str) -> tuple:
    """(array, view of its tensor) for a factor reached through a view."""
    return {
        "transposed": (_factor((2,), 4, np.float64, False), lambda f: f.mT),  # upper, not contiguous
        "column slice": (
            np.concatenate([_factor((2,), 4, np.float64, False), _random((2, 4, 2), np.float64)], -1),
            lambda f: f[..., :4],
        ),
        "strided batch": (_factor((4,), 4, np.float64, False), lambda f: f[::2]),
        "expanded": (_factor((), 4, np.float64, True), lambda f: f.expand(2, 4, 4)),
    }[case]


@requires_torch
@pytest.mark.parametrize(
    ("case", "upper"),
    [("transposed", True), ("column slice", False), ("strided batch", False), ("expanded", True)],
)
def test_cholesky_factor_views_under_create_graph_match_torch(case: str, upper: bool) -> None:
    """The factor as a view (transposed, sliced, strided, expanded over the batch):
    values, gradients and second derivatives are PyTorch's."""
    import torch

    base, view = _factor_view(case)
    B = _random((2, 4, 3), np.float64)
    results = {}
    for T in (ember, torch):
        f, b = T.tensor(base, requires_grad=True), T.tensor(B, requires_grad=True)
        for name in ("solve", "inverse"):
            if name == "solve":
                out = T.cholesky_solve(b, view(f), upper=upper)
            else:
                out = T.cholesky_inverse(view(f), upper=upper) + b.sum()
            g_f, g_b = T.autograd.grad(_loss(T, out), (f, b), create_graph=True)
            gg = T.autograd.grad((g_f * g_f).sum() + (g_b * g_b).sum(), (f, b), allow_unused=True)
            arrays = [out.detach().numpy(), g_f.detach().numpy(), g_b.detach().numpy()]
            results.setdefault(name, []).append(arrays + [g.numpy() for g in gg if g is not None])
    for ours, theirs in results.values():
        assert len(ours) == len(theirs)
        for x, y in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10)
