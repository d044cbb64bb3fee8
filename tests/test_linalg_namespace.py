"""ember.linalg and the top-level matrix functions (det, inverse, svd, ...), compared with
PyTorch: values, dtypes and gradients on random well-conditioned matrices, batched and not,
in float32 and float64; gradcheck and second derivatives (gradgradcheck) in float64; the
errors PyTorch raises; and the course's closed-form linear regression."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import assert_close, requires_torch
from ember.autograd import gradcheck, gradgradcheck

L = ember.linalg
inf = math.inf


def _matrix(rng: Any, *shape: int, kind: str = "square") -> np.ndarray:
    """A random matrix (batch) that is well conditioned for `kind`: 'square' (diagonally
    dominated), 'spd' (symmetric positive-definite), 'sym' (symmetric, distinct
    eigenvalues) or 'any' (rectangular, distinct singular values)."""
    a = rng.normal(size=shape)
    n = shape[-1]
    if kind == "square":
        return a + 3 * np.eye(n)
    if kind == "spd":
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    if kind == "sym":
        return a + np.swapaxes(a, -1, -2) + np.diag(np.arange(n) * 2.0)
    return a


def _outputs(result: Any) -> list:
    return list(result) if isinstance(result, tuple) else [result]


# name: (function of the module, ember or torch, and the inputs; input kinds).
# Decompositions are compared through quantities that do not depend on the sign (or, for
# eigenvectors, the direction) LAPACK happens to choose: v * v, U diag(S) Vh, and so on.
CASES: dict[str, tuple] = {
    "inv": (lambda m, a: m.linalg.inv(a), [("square", 3, 3)]),
    "inv_batched": (lambda m, a: m.linalg.inv(a), [("square", 2, 3, 3)]),
    "inverse": (lambda m, a: m.inverse(a), [("square", 4, 4)]),
    "det": (lambda m, a: m.linalg.det(a), [("square", 2, 3, 3)]),
    "det_method": (lambda m, a: a.det(), [("square", 3, 3)]),
    "slogdet": (lambda m, a: tuple(m.linalg.slogdet(a)), [("any", 2, 3, 3)]),
    "logdet": (lambda m, a: m.logdet(a), [("spd", 2, 3, 3)]),
    "solve": (lambda m, a, b: m.linalg.solve(a, b), [("square", 3, 3), ("any", 3, 2)]),
    "solve_vector": (lambda m, a, b: m.linalg.solve(a, b), [("square", 2, 3, 3), ("any", 2, 3)]),
    "solve_1d": (lambda m, a, b: m.linalg.solve(a, b), [("square", 2, 3, 3), ("any", 3)]),
    "solve_broadcast": (lambda m, a, b: m.linalg.solve(a, b), [("square", 3, 3), ("any", 2, 3, 4)]),
    "solve_right": (lambda m, a, b: m.linalg.solve(a, b, left=False), [("square", 3, 3), ("any", 2, 3)]),
    "cholesky": (lambda m, a: m.linalg.cholesky(a), [("spd", 2, 3, 3)]),
    "cholesky_upper": (lambda m, a: m.linalg.cholesky(a, upper=True), [("spd", 3, 3)]),
    "cholesky_top": (lambda m, a: m.cholesky(a), [("spd", 4, 4)]),
    "cholesky_solve": (
        lambda m, b, a: m.cholesky_solve(b, m.linalg.cholesky(a)),
        [("any", 3, 2), ("spd", 3, 3)],
    ),
    "cholesky_inverse": (lambda m, a: m.cholesky_inverse(m.linalg.cholesky(a)), [("spd", 3, 3)]),
    "qr": (lambda m, a: tuple(m.linalg.qr(a)), [("any", 4, 3)]),
    "qr_wide": (lambda m, a: tuple(m.linalg.qr(a)), [("any", 2, 3, 5)]),
    "qr_complete": (lambda m, a: tuple(m.linalg.qr(a, mode="complete")), [("any", 3, 3)]),
    "qr_top": (lambda m, a: tuple(m.qr(a)), [("any", 4, 3)]),
    "eigh": (lambda m, a: (lambda w, v: (w, v * v))(*m.linalg.eigh(a)), [("sym", 2, 4, 4)]),
    "eigh_upper": (lambda m, a: (lambda w, v: (w, v * v))(*m.linalg.eigh(a, UPLO="U")), [("sym", 3, 3)]),
    "eigh_not_symmetric": (lambda m, a: m.linalg.eigh(a)[0], [("any", 3, 3)]),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(a), [("sym", 4, 4)]),
    "svd_reduced": (
        lambda m, a: (lambda u, s, vh: (u * u, s, vh * vh, (u * s.unsqueeze(-2)) @ vh))(
            *m.linalg.svd(a, full_matrices=False)
        ),
        [("any", 2, 4, 3)],
    ),
    "svd_wide": (
        lambda m, a: (lambda u, s, vh: (u * u, s, vh * vh))(*m.linalg.svd(a, full_matrices=False)),
        [("any", 3, 5)],
    ),
    "svd_full": (lambda m, a: (lambda u, s, vh: (u[:, :3] * u[:, :3], s))(*m.linalg.svd(a)), [("any", 4, 3)]),
    "svd_top": (lambda m, a: (lambda u, s, v: (u * u, s, v * v))(*m.svd(a)), [("any", 4, 3)]),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), [("any", 2, 3, 4)]),
    "pinv": (lambda m, a: m.linalg.pinv(a), [("any", 2, 4, 3)]),
    "pinv_hermitian": (lambda m, a: m.linalg.pinv(a, hermitian=True), [("sym", 3, 3)]),
    "pinverse": (lambda m, a: m.pinverse(a), [("any", 3, 5)]),
    "lstsq": (lambda m, a, b: m.linalg.lstsq(a, b).solution, [("any", 5, 3), ("any", 5, 2)]),
    "lstsq_vector": (lambda m, a, b: m.linalg.lstsq(a, b).solution, [("any", 2, 5, 3), ("any", 2, 5)]),
    "matrix_power": (lambda m, a: m.linalg.matrix_power(a, 5), [("square", 2, 3, 3)]),
    "matrix_power_negative": (lambda m, a: m.matrix_power(a, -2), [("square", 3, 3)]),
    "matrix_power_zero": (lambda m, a: a.matrix_power(0) * a, [("square", 3, 3)]),
    "matrix_exp": (lambda m, a: m.linalg.matrix_exp(a), [("any", 2, 3, 3)]),
    "matrix_exp_scaled": (lambda m, a: m.matrix_exp(4 * a), [("any", 4, 4)]),
    "norm_default": (lambda m, a: m.linalg.norm(a), [("any", 2, 3, 4)]),
    "norm_vector": (lambda m, a: m.linalg.norm(a, 3, dim=1, keepdim=True), [("any", 2, 3, 4)]),
    "norm_matrix": (lambda m, a: m.linalg.norm(a, "nuc"), [("any", 3, 4)]),
    "norm_matrix_inf": (lambda m, a: m.linalg.norm(a, inf, dim=(2, 0)), [("any", 2, 3, 4)]),
    "vector_norm_inf": (lambda m, a: m.linalg.vector_norm(a, -inf, dim=(0, 2)), [("any", 2, 3, 4)]),
    "vector_norm_0": (lambda m, a: m.linalg.vector_norm(a, 0, dim=-1), [("any", 2, 3)]),
    "vector_norm_half": (lambda m, a: m.linalg.vector_norm(a, 0.5), [("any", 2, 3)]),
    "vector_norm_empty_dim": (lambda m, a: m.linalg.vector_norm(a, 3, dim=()), [("any", 2, 3)]),
    "vector_norm_inf_empty_dim": (lambda m, a: m.linalg.vector_norm(a, inf, dim=[]), [("any", 2, 3)]),
    "cond": (lambda m, a: m.linalg.cond(a), [("square", 2, 3, 3)]),
    # torch.linalg.cond(a, 1) itself fails in backward (an in-place change to inv's output)
    "cond_1": (
        lambda m, a: (
            m.linalg.cond(a, 1) if m is ember else m.linalg.norm(a, 1) * m.linalg.norm(m.linalg.inv(a), 1)
        ),
        [("square", 3, 3)],
    ),
    "cross": (lambda m, a, b: m.linalg.cross(a, b), [("any", 2, 3), ("any", 2, 3)]),
    "vecdot": (lambda m, a, b: m.linalg.vecdot(a, b, dim=0), [("any", 3, 2), ("any", 3, 2)]),
    "multi_dot": (
        lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]),
        [("any", 3), ("any", 3, 6), ("any", 6, 2), ("any", 2)],
    ),
    "diagonal": (lambda m, a: m.linalg.diagonal(a, offset=1), [("any", 2, 3, 4)]),
}
for order in ("fro", "nuc", inf, -inf, 1, -1, 2, -2):
    CASES[f"matrix_norm_{order}"] = (lambda m, a, o=order: m.linalg.matrix_norm(a, o), [("any", 2, 4, 3)])


def _inputs(rng: Any, kinds: list) -> list[np.ndarray]:
    return [_matrix(rng, *shape, kind=kind) for kind, *shape in kinds]


@requires_torch
@pytest.mark.filterwarnings("ignore:torch.(cholesky|qr) is deprecated")
@pytest.mark.parametrize("name", sorted(CASES, key=str))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_and_gradients_match_torch(name: str, dtype: str) -> None:
    import torch

    fn, kinds = CASES[name]
    arrays = [a.astype(dtype) for a in _inputs(np.random.default_rng(len(name)), kinds)]
    es = [ember.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    e_out, t_out = _outputs(fn(ember, *es)), _outputs(fn(torch, *ts))
    assert len(e_out) == len(t_out)
    tol = {"rtol": 1e-9, "atol": 1e-10} if dtype == "float64" else {"rtol": 2e-4, "atol": 2e-5}
    rng = np.random.default_rng(0)
    e_total, t_total = 0, 0
    for e, t in zip(e_out, t_out):
        assert e.dtype == getattr(ember, str(t.dtype).split(".")[1]), name
        assert tuple(e.shape) == tuple(t.shape), name
        assert_close(e, t.detach(), **tol)
        if t.requires_grad:
            w = rng.normal(size=tuple(t.shape)).astype(dtype)
            e_total = e_total + (e * ember.tensor(w)).sum()
            t_total = t_total + (t * torch.tensor(w)).sum()
    e_total.backward()
    t_total.backward()
    for a, b in zip(es, ts):
        expected = b.grad if b.grad is not None else torch.zeros_like(b)
        got = a.grad if a.grad is not None else ember.zeros_like(a)
        assert_close(got, expected, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)


# Functions of inputs that gradcheck perturbs freely: symmetric inputs are symmetrized
# inside, so that a perturbation of one triangle moves the matrix the function reads.
def _sym(a: Any) -> Any:
    return a + a.mT


GRADCHECK: dict[str, tuple] = {
    "inv": (lambda a: L.inv(a), [("square", 2, 3, 3)]),
    "det": (lambda a: L.det(a), [("square", 2, 3, 3)]),
    "slogdet": (lambda a: L.slogdet(a).logabsdet, [("square", 3, 3)]),
    "solve": (lambda a, b: L.solve(a, b), [("square", 3, 3), ("any", 2, 3, 2)]),
    "cholesky": (lambda a: L.cholesky(_sym(a), upper=True), [("spd", 2, 3, 3)]),
    "qr": (lambda a: tuple(L.qr(a)), [("any", 4, 3)]),
    "qr_wide": (lambda a: tuple(L.qr(a, mode="complete")), [("any", 3, 5)]),
    "eigh": (lambda a: (lambda w, v: (w, v * v))(*L.eigh(_sym(a))), [("sym", 3, 3)]),
    "svd": (lambda a: (lambda u, s, vh: (u * u, s, vh * vh))(*L.svd(a, False)), [("any", 4, 3)]),
    "svd_wide": (lambda a: (lambda u, s, vh: (u * u, s, vh * vh))(*L.svd(a, False)), [("any", 3, 4)]),
    "pinv": (lambda a: L.pinv(a), [("any", 3, 4)]),
    "pinv_hermitian": (lambda a: L.pinv(_sym(a), hermitian=True), [("sym", 3, 3)]),
    "lstsq": (lambda a, b: L.lstsq(a, b).solution, [("any", 5, 3), ("any", 5, 2)]),
    "matrix_exp": (lambda a: L.matrix_exp(3 * a), [("any", 3, 3)]),
    "matrix_power": (lambda a: L.matrix_power(a, -3), [("square", 3, 3)]),
    "matrix_norm_nuc": (lambda a: L.matrix_norm(a, "nuc"), [("any", 4, 3)]),
    "matrix_norm_-2": (lambda a: L.matrix_norm(a, -2), [("any", 4, 3)]),
    "cond": (lambda a: L.cond(a, inf), [("square", 3, 3)]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck_and_second_derivatives(name: str) -> None:
    fn, kinds = GRADCHECK[name]
    inputs = [ember.tensor(a, requires_grad=True) for a in _inputs(np.random.default_rng(3), kinds)]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


@requires_torch
def test_second_derivatives_match_torch() -> None:
    """The gradient of a function of the gradient: Hessian-vector products through inv,
    det, eigh and svd, as PyTorch computes them."""
    import torch

    rng = np.random.default_rng(5)
    a = _matrix(rng, 3, 3, kind="sym")
    fns = [
        lambda m, x: m.linalg.inv(x).sum(),
        lambda m, x: m.linalg.det(x),
        lambda m, x: (m.linalg.eigvalsh(x) ** 3).sum(),
        lambda m, x: m.linalg.svdvals(x)[0],
        lambda m, x: m.linalg.matrix_exp(x).sum(),
    ]
    for fn in fns:
        e, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        (ge,) = ember.autograd.grad(fn(ember, e), e, create_graph=True)
        (gt,) = torch.autograd.grad(fn(torch, t), t, create_graph=True)
        assert_close(ge, gt.detach(), rtol=1e-9, atol=1e-10)
        (ge * ge).sum().backward()
        (gt * gt).sum().backward()
        assert_close(e.grad, t.grad, rtol=1e-8, atol=1e-9)


@requires_torch
def test_normal_equations_of_the_course() -> None:
    """The closed-form linear regression: w = (X^T X)^-1 X^T y, by solve, by inv and by lstsq."""
    import torch

    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 3)).astype(np.float32)
    y = (x @ np.array([[2.0], [-1.0], [0.5]]) + 0.1 * rng.normal(size=(100, 1))).astype(np.float32)
    X, Y = ember.tensor(x), ember.tensor(y)
    Xt, Yt = torch.tensor(x), torch.tensor(y)
    w = ember.linalg.solve(X.T @ X, X.T @ Y)
    assert w.dtype == ember.float32
    assert_close(w, torch.linalg.solve(Xt.T @ Xt, Xt.T @ Yt), rtol=1e-5, atol=1e-6)
    assert_close(
        ember.linalg.inv(X.T @ X) @ X.T @ Y, torch.linalg.inv(Xt.T @ Xt) @ Xt.T @ Yt, rtol=1e-4, atol=1e-5
    )
    assert_close(ember.linalg.lstsq(X, Y).solution, torch.linalg.lstsq(Xt, Yt).solution, rtol=1e-4, atol=1e-5)
    assert_close(ember.linalg.norm(X @ w - Y), torch.linalg.norm(Xt @ torch.tensor(w.numpy()) - Yt))


@requires_torch
def test_named_tuples_and_extra_fields_match_torch() -> None:
    import torch

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(5, 2)), rng.normal(size=(5, 3))
    for driver in (None, "gels", "gelsy", "gelsd", "gelss"):
        e = ember.linalg.lstsq(ember.tensor(a), ember.tensor(b), driver=driver)
        t = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        assert e._fields == ("solution", "residuals", "rank", "singular_values")
        for x, y in zip(e, t):
            assert x.dtype == getattr(ember, str(y.dtype).split(".")[1])
            assert_close(x, y, rtol=1e-9, atol=1e-10)
    square = ember.tensor(rng.normal(size=(3, 3)))
    assert ember.linalg.slogdet(square)._fields == ("sign", "logabsdet")
    assert ember.slogdet(square)._fields == ("sign", "logabsdet")
    assert ember.linalg.eigh(square)._fields == ("eigenvalues", "eigenvectors")
    assert ember.linalg.svd(square)._fields == ("U", "S", "Vh")
    assert ember.svd(square)._fields == ("U", "S", "V")
    assert ember.linalg.qr(square)._fields == ("Q", "R")
    singular = np.array([[[1.0, 2], [2, 4]], [[1, 0], [0, 1]]])
    e, t = ember.linalg.inv_ex(ember.tensor(singular)), torch.linalg.inv_ex(torch.tensor(singular))
    assert e._fields == ("inverse", "info")
    assert_close(e.info, t.info)
    assert e.info.dtype == ember.int32
    assert_close(e.inverse[1], t.inverse[1])
    not_pd = np.array([[[4.0, 0], [0, 1]], [[1, 2], [2, 1]]])
    e, t = ember.linalg.cholesky_ex(ember.tensor(not_pd)), torch.linalg.cholesky_ex(torch.tensor(not_pd))
    assert e._fields == ("L", "info")
    assert_close(e.info, t.info)
    assert_close(e.L[0], t.L[0])
    for hermitian in (False, True):
        m = np.diag([3.0, 1e-20, 1.0])
        e = ember.linalg.matrix_rank(ember.tensor(m), hermitian=hermitian)
        assert e.dtype == ember.int64 and e.item() == torch.linalg.matrix_rank(torch.tensor(m)).item() == 2
    assert ember.svd(square, compute_uv=False).U.shape == (3, 3)
    assert ember.linalg.qr(square, mode="r").Q.shape == (0,)


@requires_torch
def test_top_level_functions_and_methods_are_torchs() -> None:
    import torch

    for name in ("det", "logdet", "slogdet", "inverse", "pinverse", "cholesky", "cholesky_solve",
                 "cholesky_inverse", "matrix_power", "matrix_exp", "svd", "qr"):  # fmt: skip
        assert hasattr(torch, name) and hasattr(ember, name), name
        assert hasattr(torch.Tensor, name) and hasattr(ember.Tensor, name), name
    for name in ember.linalg.__all__:
        assert hasattr(torch.linalg, name), name
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)
    a = ember.tensor([[2.0, 1.0], [1.0, 3.0]])
    assert_close(a.inverse(), torch.tensor([[2.0, 1.0], [1.0, 3.0]]).inverse())
    assert_close(a.matrix_power(2), a @ a)


def _raises(exc: type, match: str, fn: Any, *args: Any, **kwargs: Any) -> None:
    with pytest.raises(exc, match=match) as info:
        fn(*args, **kwargs)
    assert not isinstance(info.value, np.linalg.LinAlgError)


def test_errors_are_pytorchs() -> None:
    e = ember
    ints = e.ones(3, 3, dtype=e.int64)
    _raises(
        RuntimeError,
        r"linalg.inv: A must be batches of square matrices, but they are 2 by 3",
        L.inv,
        e.ones(2, 3),
    )
    _raises(RuntimeError, r"linalg.inv: The input tensor A must have at least 2 dimensions", L.inv, e.ones(3))
    for fn in (L.inv, L.det, L.slogdet, L.cholesky, L.eigh, L.svd, L.qr, L.matrix_exp, ember.inverse):
        _raises(RuntimeError, "Expected a floating point or complex tensor as input. Got Long", fn, ints)
    _raises(RuntimeError, "Got Half", L.inv, e.ones(2, 2, dtype=e.float16))
    _raises(RuntimeError, "linalg.vector_norm: Expected a floating point", L.vector_norm, ints)
    _raises(RuntimeError, r"linalg.pinv: .* 2 dimensions", L.pinv, e.ones(3))
    _raises(RuntimeError, r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x1\)",
            L.solve, e.eye(3), e.ones(4))  # fmt: skip
    _raises(RuntimeError, "same dtype", L.solve, e.eye(3), e.ones(3, dtype=e.float64))
    _raises(RuntimeError, "unrecognized mode 'x'", L.qr, e.ones(3, 2), mode="x")
    _raises(RuntimeError, "Expected UPLO argument to be 'L' or 'U', but got X", L.eigh, e.eye(2), UPLO="X")
    _raises(RuntimeError, "Order 3 not supported", L.matrix_norm, e.ones(3, 3), 3)
    _raises(RuntimeError, "dims must be different", L.matrix_norm, e.ones(3, 3), dim=(0, 0))
    _raises(RuntimeError, "must be 1D or 2D. Got 3D", L.norm, e.ones(2, 2, 2), 2)
    _raises(RuntimeError, "expected at least 2 tensors", L.multi_dot, [e.ones(3)])
    _raises(RuntimeError, r"tensors 0 and 1 with shapes \[3, 2\] and \[3, 2\] cannot be multiplied",
            L.multi_dot, [e.ones(3, 2), e.ones(3, 2)])  # fmt: skip
    _raises(RuntimeError, "input.size\\(-2\\) should match", L.lstsq, e.ones(5, 2), e.ones(4, 3))
    _raises(TypeError, "must be Number", L.vector_norm, e.ones(3), "fro")
    _raises(
        RuntimeError, r"equation XA = B \(3x3 and 3x2\)", L.solve, e.ones(2, 3, 3), e.ones(3, 2), left=False
    )
    _raises(RuntimeError, r"input.dim\(\) must be greater or equal", L.lstsq, e.ones(5, 3), e.ones(2, 5, 2))
    _raises(RuntimeError, r"the dtype of the input \(Double\) should be convertible without narrowing",
            L.norm, e.ones(3, dtype=e.float64), dtype=e.float32)  # fmt: skip


def test_singular_and_not_positive_definite_raise_linalg_error() -> None:
    zeros, batch = ember.zeros(3, 3), ember.eye(3).repeat(4, 1, 1)
    batch[2] = 0
    cases = [
        (
            L.inv,
            (zeros,),
            r"^linalg.inv: The diagonal element 1 is zero, the inversion could not be completed",
        ),
        (L.inv, (batch,), r"^linalg.inv: \(Batch element 2\): The diagonal element 1 is zero"),
        (L.matrix_power, (zeros, -1), "^linalg.inv: The diagonal element"),
        (
            L.solve,
            (zeros, ember.ones(3)),
            "^torch.linalg.solve: The solver failed because the input matrix is singular",
        ),
        (L.solve, (batch, ember.ones(3)), r"^torch.linalg.solve: \(Batch element 2\): The solver failed"),
        (
            L.cholesky,
            (-ember.eye(3),),
            r"not positive-definite \(the leading minor of order 1 is not positive-definite\)",
        ),
        (L.cholesky, (ember.tensor([[1.0, 2.0], [2.0, 1.0]]),), "the leading minor of order 2"),
        (
            L.cholesky,
            (-batch,),
            r"^linalg.cholesky: \(Batch element 0\): The factorization could not be completed",
        ),
        (L.inv_ex, (zeros,), "The diagonal element 1 is zero"),
    ]
    for fn, args, match in cases:
        kwargs = {"check_errors": True} if fn is L.inv_ex else {}
        _raises(L.LinAlgError, match, fn, *args, **kwargs)
    # the message of PyTorch for the same matrix
    matrix = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    _raises(L.LinAlgError, "The diagonal element 3 is zero", L.inv, ember.tensor(matrix))


def test_non_finite_matrices_raise_linalg_error_not_numpys() -> None:
    """A NaN makes LAPACK's SVD and eigh fail and its Cholesky stop (NumPy's lets the NaN
    through); an infinite entry can make the SVD loop forever: PyTorch's errors instead."""
    nan = ember.full((2, 3, 3), float("nan"))
    infinite = ember.eye(3)
    infinite[0, 0] = inf
    for fn in (L.svd, L.svdvals, L.pinv, L.matrix_rank, L.cond, L.matrix_norm):
        for x in (nan, infinite):
            _raises(
                L.LinAlgError,
                "input matrix contained non-finite values",
                fn,
                *((x, "nuc") if fn is L.matrix_norm else (x,)),
            )
    _raises(L.LinAlgError, r"^linalg.svd: \(Batch element 0\): The algorithm failed", L.svd, nan)
    _raises(L.LinAlgError, "failed to converge because the input matrix is ill-conditioned", L.eigh, nan)
    _raises(L.LinAlgError, "the leading minor of order 1 is not positive-definite", L.cholesky, nan)
    assert L.cholesky_ex(nan).info.tolist() == [1, 1]
    assert ember.isnan(L.eigvalsh(infinite)).all()
    assert ember.isnan(L.matrix_exp(infinite)).all()


def test_backward_refuses_what_pytorch_refuses() -> None:
    a = ember.randn(4, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="depends on Q, which is not computed when mode='r'"):
        L.qr(a, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        L.qr(a, mode="complete").Q.sum().backward()


def test_det_gradient_of_a_singular_matrix_is_its_cofactors() -> None:
    """The derivative of det is the matrix of cofactors, also where det is 0 (it is a
    polynomial). PyTorch 2.13 returns zeros there (docs/differences.md)."""
    m = np.array([[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]], [[1.0, 0, 0], [0, 0, 0], [0, 0, 2]]])
    cofactors = [[[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]], [[0, 0, 0], [0, 2, 0], [0, 0, 0]]]
    x = ember.tensor(m, requires_grad=True)
    L.det(x).sum().backward()
    assert_close(x.grad, np.array(cofactors), rtol=1e-9, atol=1e-12)
    assert gradcheck(L.det, [ember.tensor(m, requires_grad=True)])


def test_float32_stays_float32_and_nothing_is_recorded_without_grad() -> None:
    a = ember.randn(2, 3, 3) + 3 * ember.eye(3)
    for out in (L.inv(a), L.det(a), L.matrix_exp(a), L.pinv(a), L.svdvals(a), L.norm(a), L.cond(a)):
        assert out.dtype == ember.float32 and out.grad_fn is None
    assert L.slogdet(a).sign.dtype == ember.float32
    with ember.no_grad():
        assert L.inv(a.requires_grad_()).grad_fn is None


def test_nodes_are_named_as_pytorchs_and_empty_matrices_work() -> None:
    a = (ember.randn(3, 3) + 3 * ember.eye(3)).requires_grad_()
    names = {
        "LinalgInvExBackward0": L.inv(a),
        "LinalgDetBackward0": L.det(a),
        "LinalgSlogdetBackward0": L.slogdet(a).logabsdet,
        "LinalgSolveExBackward0": L.solve(a, ember.ones(3)).grad_fn.next_functions[0][0],
        "LinalgCholeskyExBackward0": L.cholesky(a @ a.mT),
        "LinalgQrBackward0": L.qr(a).Q,
        "LinalgEighBackward0": L.eigh(a).eigenvalues,
        "LinalgSvdBackward0": L.svd(a).S,
        "LinalgPinvBackward0": L.pinv(a),
        "LinalgMatrixExpBackward0": L.matrix_exp(a),
    }
    for name, out in names.items():
        assert (out if not isinstance(out, ember.Tensor) else out.grad_fn).name() == name
    for shape in ((0, 0), (2, 0, 0), (0, 3, 3)):
        x = ember.zeros(*shape, requires_grad=True)
        (L.det(x).sum() + L.inv(x).sum() + L.slogdet(x).logabsdet.sum()).backward()
        assert x.grad.shape == shape
    assert L.det(ember.zeros(0, 0)).item() == 1.0


@requires_torch
def test_every_norm_order_and_dims_as_torch() -> None:
    """linalg.norm, vector_norm and matrix_norm for every order, several dims and keepdim:
    the same values and gradients as PyTorch, or an error where PyTorch raises one."""
    import torch

    a = np.random.default_rng(0).normal(size=(2, 3, 4))
    orders = [None, "fro", "nuc", inf, -inf, 0, 1, -1, 2, -2, 3, 0.5]
    dims = [None, 0, -1, (1, 2), (2, 0), (0, 1, 2)]

    def same(name: str, first: bool, *args: Any) -> None:
        e, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        fn_e, fn_t = getattr(ember.linalg, name), getattr(torch.linalg, name)
        try:
            expected = fn_t(t[0] if first else t, *args)
        except (RuntimeError, IndexError) as error:
            with pytest.raises(type(error)):
                fn_e(e[0] if first else e, *args)
            return
        got = fn_e(e[0] if first else e, *args)
        assert_close(got, expected.detach(), rtol=1e-10, atol=1e-12)
        w = np.random.default_rng(1).normal(size=tuple(expected.shape))
        (got * ember.tensor(w)).sum().backward()
        (expected * torch.tensor(w)).sum().backward()
        assert_close(e.grad, t.grad if t.grad is not None else torch.zeros_like(t), rtol=1e-9, atol=1e-12)

    for order in orders:
        for dim in dims:
            for keepdim in (False, True):
                same("norm", False, order, dim, keepdim)
                same("norm", True, order, dim, keepdim)
                if order not in (None, "fro", "nuc"):
                    same("vector_norm", False, order, dim, keepdim)
                if order is not None and isinstance(dim, tuple) and len(dim) == 2:
                    same("matrix_norm", False, order, dim, keepdim)


@requires_torch
@pytest.mark.parametrize("order", [0.5, 0.3, -0.5, -1, -2.5, 1.5, 3])
def test_vector_norm_gradient_at_zero_elements_as_torch(order: float) -> None:
    """Below order 1, |x|^(order-1) is infinite at a zero element: PyTorch gives 0 there
    (and everywhere for a negative order, whose norm a zero makes 0), not NaN."""
    import torch

    a = np.array([[1.0, 0.0, 0.5], [0.0, 0.0, 0.0], [1.0, 2.0, 0.5], [-1.0, 0.0, 2.0]])
    e, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    got, expected = ember.linalg.vector_norm(e, order, -1), torch.linalg.vector_norm(t, order, -1)
    assert_close(got, expected.detach(), rtol=1e-12, atol=0)
    w = np.array([1.0, -2.0, 0.5, 3.0])
    (got * ember.tensor(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    assert_close(e.grad, t.grad, rtol=1e-12, atol=0)
    assert gradgradcheck(
        lambda x: ember.linalg.vector_norm(x, order, 1), (ember.tensor(a[2:3] + 0.1, requires_grad=True),)
    )


@settings(max_examples=15, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), max_size=2),
    n=st.integers(1, 5),
    k=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_inverse_solve_and_det_agree_on_any_batch(batch: list, n: int, k: int, seed: int) -> None:
    """A X = B, A A^-1 = I and det = sign * exp(logabsdet) on random batches of matrices."""
    rng = np.random.default_rng(seed)
    a = ember.tensor(_matrix(rng, *batch, n, n))
    b = ember.tensor(rng.normal(size=(*batch, n, k)))
    x = L.solve(a, b)
    assert x.shape == b.shape
    assert_close(a @ x, b.numpy(), rtol=1e-9, atol=1e-9)
    assert_close(a @ L.inv(a), np.broadcast_to(np.eye(n), a.shape), rtol=1e-9, atol=1e-9)
    sign, logabsdet = L.slogdet(a)
    assert_close(L.det(a), (sign * logabsdet.exp()).numpy(), rtol=1e-9, atol=1e-12)


# ---- norms of NaN and of no elements (found by differential fuzzing) ---------------------------


@requires_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.linalg.vector_norm(m.tensor([float("nan"), 0.0, 1.0, -float("inf")]), 0),  # NaN is not 0
        lambda m: m.linalg.vector_norm(m.tensor([[float("nan"), 0.0], [0.0, 0.0]]), 0, dim=1),
        lambda m: m.linalg.matrix_norm(m.zeros(1, 0), 1),
        lambda m: m.linalg.matrix_norm(m.zeros(0, 3), inf),
        lambda m: m.linalg.matrix_norm(m.zeros(3, 2, 0), 2),
        lambda m: m.linalg.matrix_norm(m.zeros(2, 0), "nuc", keepdim=True),
        lambda m: m.linalg.vector_norm(m.zeros(3, 0), 2, dim=1),
    ],
)
def test_norms_of_nan_and_of_empty_match_torch(make: Any) -> None:
    import torch

    got, want = make(ember), make(torch)
    assert got.shape == want.shape
    assert_close(got, want)


@pytest.mark.parametrize(
    "ord, dim, message",
    [
        (-1, None, "the -1 norm on an empty tensor"),
        (inf, None, "the inf norm on an empty tensor"),
        (-inf, 1, "the -inf norm on the dimension 1"),
        (-0.5, (0, 1), "the -0.5 norm on the dimension 1"),
    ],
)
def test_vector_norm_without_an_identity_refuses_no_elements(ord: Any, dim: Any, message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        L.vector_norm(ember.zeros(3, 0), ord, dim)


# ---- solve_triangular, triangular_solve, tensorinv, tensorsolve, vander (fourteenth session) ----


def _triangular_case(seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(2, 3, 3)) + 3 * np.eye(3), rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 3))


@requires_torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {"upper": True},
        {"upper": False},
        {"upper": True, "unitriangular": True},
        {"upper": False, "unitriangular": True, "left": False},
        {"upper": True, "left": False},
    ],
)
def test_solve_triangular_values_and_gradients_as_torch(kwargs: dict) -> None:
    import torch

    A, B, B_right = _triangular_case()
    rhs = B_right if kwargs.get("left") is False else B
    results = []
    for lib in (ember, torch):
        a = lib.tensor(A, requires_grad=True)
        b = lib.tensor(rhs, requires_grad=True)
        x = lib.linalg.solve_triangular(a, b, **kwargs)
        (x * x).sum().backward()
        results.append((x, a.grad, b.grad))
    for e, t in zip(*results):
        assert_close(e, t, 1e-10, 1e-10)


def test_solve_triangular_second_derivatives_and_errors() -> None:
    A, B, _ = _triangular_case(1)
    a = ember.tensor(A[0], requires_grad=True)
    b = ember.tensor(B[0], requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a, b: ember.linalg.solve_triangular(a, b, upper=False), (a, b))
    with pytest.raises(RuntimeError, match="B must have at least 2 dimensions"):
        ember.linalg.solve_triangular(a, b[:, 0], upper=True)
    with pytest.raises(
        RuntimeError, match=r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x3\)"
    ):
        ember.linalg.solve_triangular(a, b.mT, upper=True)


@requires_torch
def test_triangular_solve_is_the_deprecated_form() -> None:
    import torch

    A, B, _ = _triangular_case(2)
    for transpose in (False, True):
        with pytest.warns(UserWarning, match="triangular_solve is deprecated"):
            e = ember.triangular_solve(ember.tensor(B), ember.tensor(A), upper=False, transpose=transpose)
        with warnings.catch_warnings():  # PyTorch warns once per process
            warnings.simplefilter("ignore")
            t = torch.triangular_solve(torch.tensor(B), torch.tensor(A), upper=False, transpose=transpose)
        assert_close(e.solution, t.solution, 1e-10, 1e-10)
        assert_close(e.cloned_coefficient, t.cloned_coefficient)
    with pytest.warns(UserWarning):
        assert ember.tensor(B).triangular_solve(ember.tensor(A)).solution.shape == (2, 3, 4)


@requires_torch
def test_tensorinv_tensorsolve_and_vander_as_torch() -> None:
    import torch

    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 6, 8, 3))
    cases = [
        lambda m: m.linalg.tensorinv(m.tensor(a), ind=2),
        lambda m: m.linalg.tensorsolve(m.tensor(a[:2, :3, :6, 0]), m.tensor(a[:2, :3, 0, 1])),
        lambda m: m.linalg.tensorsolve(
            m.tensor(rng.normal(size=(4, 2, 3, 2, 3))), m.tensor(np.arange(12.0).reshape(4, 3)), dims=(1,)
        ),
        lambda m: m.linalg.vander(m.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]]), N=4),
        lambda m: m.linalg.vander(m.tensor([1, 2, 3], dtype=m.int32)),
    ]
    for make in cases:
        state = rng.bit_generator.state
        e = make(ember)
        rng.bit_generator.state = state
        t = make(torch)
        assert e.dtype.itemsize == t.dtype.itemsize and tuple(e.shape) == tuple(t.shape)
        assert_close(e, t, 1e-8, 1e-8)
    with pytest.raises(
        RuntimeError, match=r"prod\(self.shape\[ind:\]\) == prod\(self.shape\[:ind\]\), but got 16 != 24"
    ):
        ember.linalg.tensorinv(ember.ones(4, 6, 8, 2))
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        ember.linalg.vander(ember.ones(3), N=1)
    x = ember.tensor([0.0, 1.5, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: ember.linalg.vander(x), (x,))


# ---- LU: lu_factor(_ex), lu, lu_unpack, lu_solve (fourteenth session) ----------------------------


@requires_torch
def test_lu_family_values_pivots_and_gradients_as_torch() -> None:
    import torch

    rng = np.random.default_rng(4)
    A, B = rng.normal(size=(2, 4, 4)), rng.normal(size=(2, 4, 3))
    results = []
    for lib in (ember, torch):
        a = lib.tensor(A, requires_grad=True)
        b = lib.tensor(B, requires_grad=True)
        LU, pivots = lib.linalg.lu_factor(a)
        x = lib.linalg.lu_solve(LU, pivots, b)
        x_adjoint = lib.linalg.lu_solve(LU, pivots, b, adjoint=True)
        x_right = lib.linalg.lu_solve(LU, pivots, b.mT, left=False)
        P, L, U = lib.linalg.lu(a)
        loss = (x * x).sum() + (x_adjoint**3).sum() + x_right.sum() + (L * L).sum() + U.sin().sum()
        (loss + (LU * LU).sum()).backward()
        results.append((LU, pivots, x, x_adjoint, x_right, P, L, U, a.grad, b.grad))
    for e, t in zip(*results):
        assert e.dtype.itemsize == t.dtype.itemsize
        assert_close(e, t, 1e-10, 1e-10)


@requires_torch
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (2, 1, 1), (3, 3), (0, 0), (2, 0, 0), (0, 3, 3), (3, 0)])
def test_lu_of_rectangular_and_singular_matrices_as_torch(shape: tuple) -> None:
    import torch

    a = np.random.default_rng(5).normal(size=shape)
    if a.size:
        a[..., 0, :] = 0  # a zero row: singular where square, a zero pivot for LAPACK's info
    e, t = ember.linalg.lu_factor_ex(ember.tensor(a)), torch.linalg.lu_factor_ex(torch.tensor(a))
    for x, y in zip(e, t):
        assert_close(x, y, 1e-12, 1e-12)
    for x, y in zip(ember.linalg.lu(ember.tensor(a)), torch.linalg.lu(torch.tensor(a))):
        assert_close(x, y, 1e-12, 1e-12)
    for x, y in zip(ember.lu_unpack(*e[:2]), torch.lu_unpack(*t[:2])):
        assert_close(x, y, 1e-12, 1e-12)


def test_lu_second_derivatives_errors_and_deprecated_forms() -> None:
    rng = np.random.default_rng(6)
    a = ember.tensor(rng.normal(size=(3, 3)), requires_grad=True)
    b = ember.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a: ember.linalg.lu_factor(a).LU, (a,))
    assert ember.autograd.gradgradcheck(
        lambda a, b: ember.linalg.lu_solve(*ember.linalg.lu_factor(a), b), (a, b)
    )
    with pytest.raises(RuntimeError, match=r"U\[2,2\] is zero"):
        ember.linalg.lu_factor(ember.tensor([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(RuntimeError, match="without pivoting is not implemented"):
        ember.linalg.lu_factor(a, pivot=False)
    with pytest.warns(UserWarning, match="torch.lu is deprecated"):
        LU, pivots, info = ember.lu(a.detach(), get_infos=True)
    assert info.item() == 0
    with pytest.warns(UserWarning, match="torch.lu_solve is deprecated"):
        x = ember.lu_solve(b.detach(), LU, pivots)
    assert_close(x, ember.linalg.solve(a.detach(), b.detach()), 1e-12, 1e-12)
