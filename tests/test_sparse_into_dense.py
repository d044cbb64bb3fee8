"""A sparse tensor added into a dense one, compared with PyTorch 2.13: `dense.add_(sparse)`,
`dense += sparse`, `dense.sub_(sparse)` and `ember.add(dense, sparse, alpha=)` for COO, CSR
and CSC tensors (sub refuses the compressed layouts, as PyTorch's), with dtypes, sizes,
repeated indices, views and autograd; and the products of a COO and a compressed tensor,
which PyTorch refuses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import outcome, requires_torch

torch = pytest.importorskip("torch")


def S(T: Any, layout: str = "coo", dtype: str = "float32") -> Any:
    """A (2, 3) sparse tensor; the COO one uncoalesced, with index (0, 1) twice."""
    coo = T.sparse_coo_tensor(T.tensor([[0, 1, 0], [1, 2, 1]]), T.tensor([1.0, 2.0, 3.0]), (2, 3))
    coo = coo.to(getattr(T, dtype))
    if layout == "coo":
        return coo
    return coo.coalesce().to_sparse_csr() if layout == "csr" else coo.coalesce().to_sparse_csc()


def _iadd(T: Any, layout: str) -> Any:
    x = T.ones(2, 3)
    x += S(T, layout)
    return x


def _isub(T: Any, layout: str) -> Any:
    x = T.ones(2, 3)
    x -= S(T, layout)
    return x


CASES = {
    "add_": lambda T, lay: T.ones(2, 3).add_(S(T, lay)),
    "add_ alpha": lambda T, lay: T.ones(2, 3).add_(S(T, lay), alpha=-0.5),
    "sub_": lambda T, lay: T.ones(2, 3).sub_(S(T, lay)),
    "sub_ alpha": lambda T, lay: T.ones(2, 3).sub_(S(T, lay), alpha=2),
    "+=": _iadd,
    "-=": _isub,
    "add": lambda T, lay: T.add(T.ones(2, 3), S(T, lay), alpha=3),
    "sub": lambda T, lay: T.sub(T.ones(2, 3), S(T, lay)),
    "-": lambda T, lay: T.ones(2, 3) - S(T, lay),
    "float64 += float32": lambda T, lay: T.ones(2, 3, dtype=T.float64).add_(S(T, lay)),
    "float32 += float64": lambda T, lay: T.ones(2, 3).add_(S(T, lay, "float64")),
    "int32 += int64 alpha": lambda T, lay: T.ones(2, 3, dtype=T.int32).add_(S(T, lay, "int64"), alpha=2),
    "int64 += float32": lambda T, lay: T.ones(2, 3, dtype=T.int64).add_(S(T, lay)),
    "float32 += complex64": lambda T, lay: T.ones(2, 3).add_(S(T, lay, "complex64")),
    "complex64 += float32 alpha 1j": lambda T, lay: T.ones(2, 3, dtype=T.complex64).add_(S(T, lay), alpha=1j),
    "bool += bool": lambda T, lay: T.zeros(2, 3, dtype=T.bool).add_(S(T, lay, "bool")),
    "bool -= bool": lambda T, lay: T.zeros(2, 3, dtype=T.bool).sub_(S(T, lay, "bool")),
    "other size": lambda T, lay: T.ones(2, 4).add_(S(T, lay), alpha=2),
    "broadcast size": lambda T, lay: T.ones(1, 3).add_(S(T, lay)),
    "0-d": lambda T, lay: T.ones(()).add_(S(T, lay)),
    "uint8 -= uint8": lambda T, lay: T.ones(2, 3, dtype=T.uint8).sub_(S(T, lay, "uint8")),
    "uint8 -= uint8 alpha": lambda T, lay: T.ones(2, 3, dtype=T.uint8).sub_(S(T, lay, "uint8"), alpha=2),
    "transposed dense": lambda T, lay: T.ones(3, 2).t().add_(S(T, lay)),
}


# PyTorch's add_ of a compressed tensor raises where its COO form computes: for a dense tensor
# of another dtype ("output with shape [2, 3] doesn't match the broadcast shape [1, 2, 3]") and
# for a non-contiguous one ("out argument must be contiguous"); ember computes these as the COO
# form does (docs/differences.md)
TORCH_REFUSES = {"float32 += float64", "int32 += int64 alpha", "transposed dense"}


@requires_torch
@pytest.mark.parametrize("layout", ["coo", "csr", "csc"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch(case: str, layout: str) -> None:
    got = outcome(ember, lambda T: CASES[case](T, layout))
    want = outcome(torch, lambda T: CASES[case](T, layout))
    if layout != "coo" and case in TORCH_REFUSES:
        assert want[0] == "raise"
        want = outcome(torch, lambda T: CASES[case](T, "coo"))
    assert got[0] == want[0], (got, want)
    if want[0] == "raise":
        assert type(got[1]) is type(want[1]), (got, want)
        return
    result, expected = got[1], want[1]
    assert result.layout is ember.strided
    assert str(result.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    np.testing.assert_allclose(result.numpy(), expected.numpy())


def test_in_place_keeps_the_tensor_and_bumps_its_version() -> None:
    x = ember.zeros(2, 3)
    y = x[:, 1:]  # a view sees the change
    version = x._version_cell[0]
    assert x.add_(S(ember), alpha=2) is x
    assert x._version_cell[0] == version + 1
    np.testing.assert_array_equal(y.numpy(), [[8.0, 0.0], [0.0, 4.0]])
    row = x[1]
    row.sub_(ember.sparse_coo_tensor(ember.tensor([[0]]), ember.tensor([5.0]), (3,)))
    np.testing.assert_array_equal(x.numpy(), [[0.0, 8.0, 0.0], [-5.0, 0.0, 4.0]])


@requires_torch
def test_manual_sgd_step_with_a_sparse_gradient() -> None:
    """`p.data.add_(p.grad, alpha=-lr)` for an embedding's sparse (uncoalesced) gradient."""
    weight = np.arange(10, dtype=np.float32).reshape(5, 2)
    index = [[1, 3, 1]]
    grad = [[0.5, 1.0], [2.0, 3.0], [0.25, 0.125]]
    out = []
    for T in (ember, torch):
        p = T.tensor(weight, requires_grad=True)
        p.grad = T.sparse_coo_tensor(T.tensor(index), T.tensor(grad), (5, 2))
        p.data.add_(p.grad, alpha=-0.1)
        with T.no_grad():
            p.add_(p.grad.coalesce(), alpha=0.3)
        assert p.is_leaf and p.grad_fn is None
        out.append(p.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


def _leaf_add_(T: Any) -> Any:
    return T.ones(2, 3, requires_grad=True).add_(S(T))


@requires_torch
def test_in_place_on_a_leaf_that_requires_grad_raises() -> None:
    assert type(outcome(ember, _leaf_add_)[1]) is type(outcome(torch, _leaf_add_)[1]) is RuntimeError


@requires_torch
@pytest.mark.parametrize("op", ["add_", "sub_"])
@pytest.mark.parametrize("dense_grad", [True, False])
def test_gradients_of_the_recorded_in_place_form(op: str, dense_grad: bool) -> None:
    results = []
    for T in (ember, torch):
        w = T.tensor([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]], requires_grad=dense_grad)
        values = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        sparse = T.sparse_coo_tensor(T.tensor([[0, 1, 0], [1, 2, 1]]), values, (2, 3))
        y = w * 2
        getattr(y, op)(sparse, alpha=1.5)
        assert y.requires_grad and y.grad_fn.name() == ("AddBackward0" if op == "add_" else "SubBackward0")
        (y * T.arange(6.0).reshape(2, 3)).sum().backward()
        results.append((values.grad.numpy(), None if w.grad is None else w.grad.numpy(), y.detach().numpy()))
    for got, want in zip(results[0], results[1], strict=True):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_allclose(got, want)


@requires_torch
@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 4),
    cols=st.integers(1, 4),
    nnz=st.integers(0, 8),
    alpha=st.sampled_from([1, -1, 0.5, -0.01, 3]),
    seed=st.integers(0, 2**16),
)
def test_random_uncoalesced_coo(rows: int, cols: int, nnz: int, alpha: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    index = np.stack([rng.integers(0, rows, nnz), rng.integers(0, cols, nnz)])
    values = rng.standard_normal((nnz, 2)).astype(np.float32)  # a hybrid tensor: one dense dim
    dense = rng.standard_normal((rows, cols, 2)).astype(np.float32)
    out = []
    for T in (ember, torch):
        x = T.tensor(dense)
        x.add_(T.sparse_coo_tensor(T.tensor(index), T.tensor(values), (rows, cols, 2)), alpha=alpha)
        out.append(x.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6, atol=1e-6)


def _lib(tensor: Any) -> Any:
    return torch if isinstance(tensor, torch.Tensor) else ember


PRODUCTS = {
    "@": lambda a, b: a @ b,
    "mm": lambda a, b: _lib(a).mm(a, b),
    "matmul": lambda a, b: _lib(a).matmul(a, b),
    "sparse.mm": lambda a, b: _lib(a).sparse.mm(a, b),
}


def _layout(matrix: Any, name: str) -> Any:
    return {"coo": matrix.to_sparse, "csr": matrix.to_sparse_csr, "csc": matrix.to_sparse_csc}[name]()


@requires_torch
@pytest.mark.parametrize("pair", [("coo", "csr"), ("csr", "coo"), ("coo", "csc"), ("csc", "coo")])
@pytest.mark.parametrize("form", list(PRODUCTS))
def test_products_of_coo_and_compressed_raise_as_in_torch(pair: tuple, form: str) -> None:
    messages = []
    for T in (ember, torch):
        a = _layout(T.arange(6.0).reshape(2, 3), pair[0])
        b = _layout(T.arange(12.0).reshape(3, 4), pair[1])
        with pytest.raises(RuntimeError) as info:
            PRODUCTS[form](a, b)
        messages.append(str(info.value).split(" (")[0])
    assert messages[0] == messages[1]


@requires_torch
@pytest.mark.parametrize("op", ["add_", "sub_"])
def test_zero_dim_sparse_into_zero_dim_dense(op: str) -> None:
    """A 0-d COO tensor (no sparse dim) into a 0-d dense one: its values all land there."""

    def run(T: Any) -> Any:
        sparse = T.sparse_coo_tensor(T.zeros(0, 2, dtype=T.int64), T.tensor([5.0, 2.0]), ())
        return getattr(T.ones(()), op)(sparse, alpha=3)

    assert run(ember).item() == run(torch).item()


@requires_torch
def test_cast_error_when_the_values_require_grad() -> None:
    """The recorded form (values requiring grad) checks the cast first, with PyTorch's message."""

    def run(T: Any) -> Any:
        values = T.tensor([1.0, 2.0], requires_grad=True)
        sparse = T.sparse_coo_tensor(T.tensor([[0, 1], [1, 0]]), values, (2, 2))
        return T.zeros(2, 2, dtype=T.int64).add_(sparse)

    with pytest.raises(RuntimeError) as expected:
        run(torch)
    with pytest.raises(
        RuntimeError, match="^Can't convert result type Float to output Long in add operation$"
    ):
        run(ember)
    assert str(expected.value).startswith("Can't convert result type Float to output Long")


@pytest.mark.parametrize("op", ["mul_", "div_"])
def test_mul_and_div_in_place_keep_the_dense_error(op: str) -> None:
    """Only add_ and sub_ have a sparse form: mul_ and div_ (which PyTorch computes) raise the
    dense function's error, not one claiming that PyTorch refuses them too."""
    sparse = ember.tensor([[1.0, 0.0], [0.0, 2.0]]).to_sparse()
    with pytest.raises(NotImplementedError) as caught:  # ember._layout.SparseUnsupportedError
        getattr(ember.ones(2, 2), op)(sparse)
    assert "as in PyTorch" not in str(caught.value)
