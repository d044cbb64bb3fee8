"""Sparse COO and CSR tensors (ember.sparse) against PyTorch: construction, printing,
conversions, products, reductions, gradients (to the dense operand and to the values), the
errors of dense operations, and a small GCN training loop."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import assert_close, requires_torch

IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]  # (0, 2) twice: an uncoalesced tensor
VAL = [3.0, 4.0, 5.0, 1.0]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's beta and invariant-check warnings
        yield


def _pair(requires_grad: bool = False, dtype: str = "float32"):
    import torch

    mine = ember.sparse_coo_tensor(
        IDX, ember.tensor(VAL, dtype=getattr(ember, dtype)), (2, 3), requires_grad=requires_grad
    )
    theirs = torch.sparse_coo_tensor(
        IDX, torch.tensor(VAL, dtype=getattr(torch, dtype)), (2, 3), requires_grad=requires_grad
    )
    return mine, theirs


def _same_sparse(mine, theirs) -> None:
    assert mine.layout._name == str(theirs.layout).split(".")[1]
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert str(mine.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert_close(mine.to_dense(), theirs.to_dense())


def _repr(t) -> str:
    return repr(t).replace("torch.", "ember.")


# ---- construction, metadata, printing --------------------------------------------------------


@requires_torch
def test_metadata_matches_torch() -> None:
    import torch

    mine, theirs = _pair(requires_grad=True)
    for name in ("is_sparse", "is_sparse_csr", "requires_grad", "is_leaf", "ndim"):
        assert getattr(mine, name) == getattr(theirs, name), name
    for name in ("sparse_dim", "dense_dim", "_nnz", "is_coalesced", "dim", "numel"):
        assert getattr(mine, name)() == getattr(theirs, name)(), name
    assert mine.layout is ember.sparse_coo and mine.shape == ember.Size([2, 3]) and mine.grad_fn is None
    inferred = ember.sparse_coo_tensor(IDX, VAL)
    assert tuple(inferred.shape) == tuple(torch.sparse_coo_tensor(IDX, VAL).shape)
    assert ember.sparse_coo_tensor([[0, 1], [1, 0]], [1, 2]).dtype is ember.int64
    assert ember.sparse_coo_tensor([[0, 1], [2, 0]], VAL[:2], is_coalesced=True).is_coalesced()
    assert not ember.ones(2).is_sparse and ember.ones(2).layout is ember.strided


@requires_torch
def test_printing_matches_torch() -> None:
    import torch

    mine, theirs = _pair(requires_grad=True)
    assert repr(mine) == _repr(theirs)
    assert repr(mine.detach().coalesce()) == _repr(theirs.detach().coalesce())
    m64, t64 = _pair(dtype="float64")
    assert repr(m64) == _repr(t64)
    empty = ember.sparse_coo_tensor(ember.zeros(2, 0, dtype=ember.int64), ember.zeros(0), (2, 3))
    assert repr(empty) == _repr(
        torch.sparse_coo_tensor(torch.zeros(2, 0, dtype=torch.long), torch.zeros(0), (2, 3))
    )
    dense = np.array([[0.0, 1.5], [0, 0], [2, 3]], np.float32)
    assert repr(ember.tensor(dense).to_sparse(1)) == _repr(torch.tensor(dense).to_sparse(1))
    assert repr(ember.tensor(dense).to_sparse_csr()) == _repr(torch.tensor(dense).to_sparse_csr())
    assert repr(ember.sparse_coo_tensor([[0, 1], [1, 0]], [1, 2])) == _repr(
        torch.sparse_coo_tensor([[0, 1], [1, 0]], [1, 2])
    )


@requires_torch
def test_coalesce_indices_values_to_dense() -> None:
    mine, theirs = _pair()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        mine.values()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        mine.indices()
    assert_close(mine._values(), theirs._values())
    assert_close(mine._indices(), theirs._indices())
    mc, tc = mine.coalesce(), theirs.coalesce()
    assert mc.is_coalesced() and mc._nnz() == tc._nnz()
    assert_close(mc.indices(), tc.indices())
    assert_close(mc.values(), tc.values())
    assert_close(mine.to_dense(), theirs.to_dense())
    assert mc.coalesce() is mc


@requires_torch
def test_dense_to_sparse_and_back() -> None:
    import torch

    data = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]], np.float32)
    x, tx = ember.tensor(data), torch.tensor(data)
    s, ts = x.to_sparse(), tx.to_sparse()
    assert s.is_coalesced() and ts.is_coalesced()
    assert_close(s.indices(), ts.indices())
    csr, tcsr = x.to_sparse_csr(), tx.to_sparse_csr()
    assert csr.layout is ember.sparse_csr and csr.is_sparse_csr and not csr.is_sparse
    assert_close(csr.crow_indices(), tcsr.crow_indices())
    assert_close(csr.col_indices(), tcsr.col_indices())
    assert_close(csr.values(), tcsr.values())
    _same_sparse(csr.to_sparse(), tcsr.to_sparse())
    _same_sparse(s.to_sparse_csr(), ts.to_sparse_csr())
    _same_sparse(x.to_sparse(layout=ember.sparse_csr), tx.to_sparse(layout=torch.sparse_csr))
    made = ember.sparse_csr_tensor([0, 2, 3], [0, 2, 1], [1.0, 2.0, 3.0], (2, 3))
    _same_sparse(made, torch.sparse_csr_tensor([0, 2, 3], [0, 2, 1], [1.0, 2.0, 3.0], (2, 3)))
    assert x.to_dense() is x


@requires_torch
def test_to_sparse_of_a_0d_tensor_and_sparse_dim_0() -> None:
    """A 0-d tensor converts (np.nonzero refused its 0-d mask); sparse_dim=0 of a tensor with
    dimensions is refused as PyTorch refuses it, not with NumPy's error."""
    import torch

    for v in (3.0, 0.0):
        x, tx = ember.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        s, ts = x.to_sparse(), tx.to_sparse()
        assert repr(s) == _repr(ts)
        (s.to_dense() * 3).backward()
        (ts.to_dense() * 3).backward()
        assert_close(x.grad, tx.grad)
    with pytest.raises(RuntimeError, match="sparse_dim argument must be in >0"):
        ember.ones(2, 2).to_sparse(0)


# ---- products and their gradients ---------------------------------------------------------------


@requires_torch
def test_sparse_mm_gradients_reach_dense_and_sparse_leaf() -> None:
    import torch

    mine, theirs = _pair(requires_grad=True)
    d = np.arange(6, dtype=np.float32).reshape(3, 2)
    md, td = ember.tensor(d, requires_grad=True), torch.tensor(d, requires_grad=True)
    out, tout = ember.sparse.mm(mine, md), torch.sparse.mm(theirs, td)
    assert_close(out, tout)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    assert_close(md.grad, td.grad)
    g, tg = mine.grad, theirs.grad
    assert g.layout is ember.sparse_coo and g.is_coalesced()
    assert_close(g.indices(), tg.coalesce().indices())
    assert_close(g.values(), tg.coalesce().values())
    mine.grad = None
    assert mine.grad is None


@requires_torch
def test_mm_matmul_operator_spmm_addmm() -> None:
    import torch

    mine, theirs = _pair()
    d = np.arange(6, dtype=np.float32).reshape(3, 2)
    md, td = ember.tensor(d), torch.tensor(d)
    assert_close(ember.mm(mine, md), torch.mm(theirs, td))
    assert_close(ember.matmul(mine, md), torch.matmul(theirs, td))
    assert_close(mine @ md, theirs @ td)
    assert_close(ember.spmm(mine, md), torch.spmm(theirs, td))
    assert_close(ember.matmul(mine, md[:, 0]), torch.matmul(theirs, td[:, 0]))
    ones = np.ones((2, 2), np.float32)
    assert_close(
        ember.addmm(ember.tensor(ones), mine, md, beta=2, alpha=0.5),
        torch.addmm(torch.tensor(ones), theirs, td, beta=2, alpha=0.5),
    )
    assert_close(
        ember.sparse.addmm(ember.tensor(ones), mine, md, beta=2, alpha=0.5),
        torch.sparse.addmm(torch.tensor(ones), theirs, td, beta=2, alpha=0.5),
    )
    assert_close(ember.tensor(ones) @ mine, torch.tensor(ones) @ theirs)
    assert_close(ember.mm(ember.tensor(ones), mine), torch.mm(torch.tensor(ones), theirs))
    # a CSR right operand (transposing it would make a CSC tensor, which ember lacks)
    mcsr, tcsr = mine.coalesce().to_sparse_csr(), theirs.coalesce().to_sparse_csr()
    assert_close(ember.tensor(ones) @ mcsr, torch.tensor(ones) @ tcsr)
    assert_close(ember.mm(ember.tensor(ones), mcsr), torch.mm(torch.tensor(ones), tcsr))
    _same_sparse(ember.smm(mine, md), torch.smm(theirs, td))
    _same_sparse(ember.hspmm(mine, md), torch.hspmm(theirs, td))
    mc, tc = mine.coalesce(), theirs.coalesce()
    sq = np.ones((3, 3), np.float32)
    _same_sparse(ember.sspaddmm(mc, mc, ember.tensor(sq)), torch.sspaddmm(tc, tc, torch.tensor(sq)))
    _same_sparse(ember.sparse.mm(mine, mine.t()), torch.sparse.mm(theirs, theirs.t()))
    sq_csr, tsq_csr = ember.tensor(sq).to_sparse_csr(), torch.tensor(sq).to_sparse_csr()
    _same_sparse(sq_csr @ sq_csr, tsq_csr @ tsq_csr)  # CSR, not COO
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        ember.sparse.mm(mine, ember.ones(2, 2))
    with pytest.raises(RuntimeError, match="dtype"):
        ember.mm(mine, ember.ones(3, 2, dtype=ember.float64))


def test_sparse_addmm_of_a_dense_mat1_and_sparse_mat2_that_require_grad() -> None:
    """addmm names its node itself (None to the product): the dense @ sparse branch made a
    node class named None, a TypeError, when the result required grad."""
    s = ember.sparse_coo_tensor(IDX, VAL, (2, 3))
    x = ember.ones(2, 2, requires_grad=True)
    out = ember.sparse.addmm(ember.zeros(2, 3), x, s)
    assert out.grad_fn.name() == "SparseAddmmBackward0"
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), s.to_dense().sum(1).expand(2, 2).numpy())


def test_sparse_mm_sorts_the_columns_only_for_the_dense_gradient(monkeypatch) -> None:
    """The order of the columns serves the dense operand's gradient only; computed in every
    forward, it took most of a product's time without grad (89 ms where the product needs 20,
    for 10**6 elements and one column)."""
    sorts = []

    def argsort(a, *args, **kwargs):
        sorts.append(len(a))
        return original(a, *args, **kwargs)

    original = np.argsort
    s = ember.sparse_coo_tensor(IDX, VAL, (2, 3)).coalesce()
    dense = ember.arange(6.0).reshape(3, 2)
    monkeypatch.setattr(np, "argsort", argsort)
    out = s @ dense
    assert not sorts
    dense.requires_grad_()
    (s @ dense).sum().backward()
    assert sorts
    np.testing.assert_array_equal(dense.grad.numpy(), s.to_dense().numpy().sum(0)[:, None].repeat(2, 1))
    np.testing.assert_array_equal(out.numpy(), s.to_dense().numpy() @ dense.detach().numpy())


def test_gradcheck_through_values() -> None:
    idx = ember.tensor(IDX)
    values = ember.tensor(VAL, dtype=ember.float64, requires_grad=True)
    dense = ember.randn(3, 2, dtype=ember.float64, requires_grad=True)

    def product(v, d):
        return ember.sparse.mm(ember.sparse_coo_tensor(idx, v, (2, 3)), d)

    def softmax(v):
        return ember.sparse.softmax(ember.sparse_coo_tensor(idx, v, (2, 3)), 1).to_dense()

    def to_dense(v):
        return (ember.sparse_coo_tensor(idx, v, (2, 3)).t() * 3.0).to_dense()

    assert ember.autograd.gradcheck(product, (values, dense))
    assert ember.autograd.gradgradcheck(product, (values, dense))
    assert ember.autograd.gradcheck(softmax, (values,))
    assert ember.autograd.gradcheck(to_dense, (values,))


@requires_torch
def test_autograd_grad_and_backward_inputs_take_a_sparse_tensor() -> None:
    """A sparse tensor is in the graph through its values: autograd.grad(out, s) said s was
    not used in the graph, and backward(inputs=[s]) silently gave s no gradient."""
    import torch

    grads = []
    for lib in (ember, torch):
        s = lib.sparse_coo_tensor(IDX, VAL, (2, 3), dtype=lib.float64, requires_grad=True)
        d = lib.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
        gs, gd = lib.autograd.grad((lib.sparse.mm(s, d) ** 2).sum(), (s, d), create_graph=True)
        assert gs.layout is lib.sparse_coo and gs.requires_grad
        (gdd,) = lib.autograd.grad(lib.sparse.sum(gs), d)  # through the sparse gradient
        lib.sparse.mm(s, d).sum().backward(inputs=[s])
        assert d.grad is None
        grads.append((gs.to_dense(), gdd, s.grad.to_dense()))
    for mine, theirs in zip(*grads):
        assert_close(mine, theirs)


def test_as_sparse_gradcheck_takes_sparse_inputs_and_outputs() -> None:
    """as_sparse_gradcheck returned gradcheck as it was, which perturbs its inputs densely:
    a sparse input raised SparseUnsupportedError. It checks through the values now."""
    f64 = ember.float64
    s = ember.sparse_coo_tensor(IDX, VAL, (2, 3), dtype=f64, requires_grad=True)
    dense = ember.randn(3, 2, dtype=f64, requires_grad=True)
    gradcheck = ember.sparse.as_sparse_gradcheck(ember.autograd.gradcheck)
    assert gradcheck(lambda s, d: ember.sparse.mm(s, d), (s, dense))
    assert gradcheck(lambda s: (ember.sparse.softmax(s, 1), s.sum()), [s])  # sparse and dense outputs
    assert gradcheck(lambda s: s @ s.to_sparse_coo().t().to_dense(), (s.coalesce().to_sparse_csr(),))
    assert ember.sparse.as_sparse_gradcheck(ember.autograd.gradgradcheck)(ember.sparse.mm, (s, dense))

    class WrongBackward(ember.autograd.Function):
        @staticmethod
        def forward(ctx, v):
            return v * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    def wrong(s):
        return ember.sparse_coo_tensor(s._indices(), WrongBackward.apply(s._vals), (2, 3))

    assert not gradcheck(wrong, (s,), raise_exception=False)


@requires_torch
def test_dense_to_sparse_gradient_flows_back() -> None:
    import torch

    data = np.array([[0.0, 1.0], [2.0, 0.0]], np.float32)
    x, tx = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    s, ts = x.to_sparse(), tx.to_sparse()
    assert not s.is_leaf and s.requires_grad
    w = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    ember.sparse.mm(s, ember.tensor(w)).sum().backward()
    torch.sparse.mm(ts, torch.tensor(w)).sum().backward()
    assert_close(x.grad, tx.grad)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 5),
    m=st.integers(1, 5),
    k=st.integers(1, 4),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 99),
)
def test_sparse_mm_equals_dense_product(n: int, m: int, k: int, density: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = (rng.random((n, m)) * (rng.random((n, m)) < density)).astype(np.float32)
    b = rng.standard_normal((m, k)).astype(np.float32)
    out = ember.tensor(a).to_sparse() @ ember.tensor(b)
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ember.tensor(a).to_sparse_csr().to_dense().numpy(), a)


# ---- elementwise, reductions, softmax ----------------------------------------------------------


@requires_torch
def test_elementwise_matches_torch() -> None:
    import torch

    mine, theirs = _pair()
    idx2, val2 = [[1, 0], [1, 0]], [7.0, 8.0]
    m2 = ember.sparse_coo_tensor(idx2, val2, (2, 3))
    t2 = torch.sparse_coo_tensor(idx2, val2, (2, 3))
    dense = np.arange(6, dtype=np.float32).reshape(2, 3)
    _same_sparse(mine + m2, theirs + t2)
    sum_c, tsum_c = mine.coalesce() + m2.coalesce(), theirs.coalesce() + t2.coalesce()
    assert sum_c.is_coalesced() == tsum_c.is_coalesced()
    _same_sparse(sum_c, tsum_c)
    _same_sparse(mine - m2, theirs - t2)
    _same_sparse(mine.add(m2, alpha=2), theirs.add(t2, alpha=2))
    _same_sparse(mine * 2, theirs * 2)
    _same_sparse(2 * mine, 2 * theirs)
    _same_sparse(mine / 2, theirs / 2)
    _same_sparse(-mine, -theirs)
    _same_sparse(mine * ember.tensor(dense), theirs * torch.tensor(dense))
    _same_sparse(ember.tensor(dense) * mine, torch.tensor(dense) * theirs)
    _same_sparse(mine * m2, theirs * t2)
    _same_sparse(mine.t(), theirs.t())
    _same_sparse(mine.transpose(0, 1), theirs.transpose(0, 1))
    _same_sparse(mine.relu(), theirs.relu())
    _same_sparse(mine.double(), theirs.double())
    _same_sparse(
        ember.tensor(dense).sparse_mask(mine.coalesce()), torch.tensor(dense).sparse_mask(theirs.coalesce())
    )
    assert_close(ember.tensor(dense) + mine, torch.tensor(dense) + theirs)
    assert_close(ember.tensor(dense) - mine, torch.tensor(dense) - theirs)
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        mine + ember.tensor(dense)
    with pytest.raises(RuntimeError, match="to match"):
        mine + ember.sparse_coo_tensor(IDX, VAL, (2, 4))


@requires_torch
def test_sum_softmax_log_softmax_match_torch() -> None:
    import torch

    mine, theirs = _pair(requires_grad=True)
    assert_close(ember.sparse.sum(mine), torch.sparse.sum(theirs))
    assert_close(mine.sum(), theirs.sum())
    for dim in (0, 1):
        _same_sparse(ember.sparse.sum(mine, dim), torch.sparse.sum(theirs, dim))
    assert_close(ember.sparse.sum(mine, (0, 1)), torch.sparse.sum(theirs, (0, 1)))
    assert ember.sparse.sum(mine, dtype=ember.float64).dtype is ember.float64
    for f in ("softmax", "log_softmax"):
        for dim in (0, 1, -1):
            out, tout = getattr(ember.sparse, f)(mine, dim), getattr(torch.sparse, f)(theirs, dim)
            assert out.is_coalesced()
            assert_close(out.values(), tout.coalesce().values(), rtol=1e-5, atol=1e-6)
    w = np.array([[1.0, -2.0, 0.5], [0.3, 1.0, -1.0]], np.float32)
    out = ember.sparse.softmax(mine, 1).to_dense() * ember.tensor(w)
    tout = torch.sparse.softmax(theirs, 1).to_dense() * torch.tensor(w)
    out.sum().backward()
    tout.sum().backward()
    assert_close(mine.grad.to_dense(), theirs.grad.to_dense(), rtol=1e-5, atol=1e-6)


@requires_torch
def test_softmax_of_a_large_sparse_tensor_allocates_per_element() -> None:
    """The slices along dim were numbered over the whole of the other sparse dimensions, and
    a buffer allocated for each: 10**12 of them here (a MemoryError for 3 elements)."""
    import torch

    idx, val, size = [[0, 5, 5], [7, 10**6 - 1, 10**6 - 1], [1, 2, 3]], [1.0, 2.0, 3.0], (10**6, 10**6, 10)
    for f in ("softmax", "log_softmax"):
        out = getattr(ember.sparse, f)(ember.sparse_coo_tensor(idx, val, size), 2)
        tout = getattr(torch.sparse, f)(torch.sparse_coo_tensor(idx, val, size), 2)
        assert_close(out.values(), tout.coalesce().values())


@requires_torch
def test_spdiags_matches_torch() -> None:
    import torch

    diags = np.array([[1.0, 2, 3], [4, 5, 6]], np.float32)
    for offsets, shape in (([0, 1], (3, 3)), ([0, -1], (3, 4)), ([2, -2], (4, 3))):
        mine = ember.sparse.spdiags(ember.tensor(diags), ember.tensor(offsets), shape)
        theirs = torch.sparse.spdiags(torch.tensor(diags), torch.tensor(offsets), shape)
        _same_sparse(mine, theirs)


# ---- errors -----------------------------------------------------------------------------------


def test_dense_operations_refuse_sparse_tensors() -> None:
    s = ember.sparse_coo_tensor(IDX, VAL, (2, 3))
    # (t ** 2, t[0], ember.div(t, 2), t.norm() and ember.cat([t, t]) are sparse operations now:
    # tests/test_sparse_indexing.py and tests/test_sparse_functions.py)
    for op in (ember.exp, lambda t: t.view(6), lambda t: t[0:1], lambda t: t > 0):
        with pytest.raises(NotImplementedError, match="sparse"):
            op(s)
    with pytest.raises(TypeError, match="to_dense"):
        s.numpy()
    with pytest.raises(RuntimeError, match="same nnz"):
        ember.sparse_coo_tensor(IDX, VAL[:3], (2, 3))
    with pytest.raises(RuntimeError, match="inconsistent"):
        ember.sparse_coo_tensor(IDX, VAL, (2, 2))
    with pytest.raises(RuntimeError, match="len\\(size\\)"):
        ember.sparse_coo_tensor(IDX, VAL, (2, 3, 4))
    # no index to check a negative size against: it made a tensor of size (-1, 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        ember.sparse_coo_tensor(ember.zeros(2, 0, dtype=ember.int64), ember.zeros(0), (-1, 3))
    with pytest.raises(RuntimeError, match="non-negative"):
        ember.sparse_csr_tensor([0], [], ember.zeros(0), (0, -2))
    with pytest.raises(RuntimeError, match="whole numbers"):
        ember.sparse_coo_tensor(ember.tensor(IDX).float() + 0.5, VAL, (2, 3))
    assert ember.sparse_coo_tensor(ember.tensor(IDX).float(), VAL, (2, 3))._indices().dtype is ember.int64
    with pytest.raises(RuntimeError, match="crow_indices"):
        ember.sparse_csr_tensor([0, 2, 4], [0, 2, 1], [1.0, 2.0, 3.0], (2, 3))
    assert s.to_sparse_csr().t().layout is ember.sparse_csc  # nineteenth session: CSC exists


def test_is_coalesced_true_is_checked() -> None:
    """A false is_coalesced=True would make the products sum a row's values in separate runs
    (row 0 of IDX gave [4, 5], not [16, 20]): refused, as PyTorch's check_invariants does."""
    for idx in (IDX, [[0, 1, 0], [0, 0, 1]]):  # a repeated index; distinct but unsorted
        with pytest.raises(RuntimeError, match="uncoalesced"):
            ember.sparse_coo_tensor(idx, VAL[: len(idx[0])], (2, 3), is_coalesced=True)
    s = ember.sparse_coo_tensor([[0, 0, 1], [0, 2, 1]], [1.0, 2.0, 3.0], (2, 3), is_coalesced=True)
    dense = ember.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal((s @ dense).numpy(), s.to_dense().numpy() @ dense.numpy())


@requires_torch
def test_a_0d_value_is_one_value() -> None:
    """PyTorch takes 0-d values as one; ember refused them with the self-contradicting "nnz
    from indices: 1, nnz from values: 1"."""
    import torch

    v, tv = ember.tensor(2.0, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    s, ts = ember.sparse_coo_tensor([[1]], v, (2,)), torch.sparse_coo_tensor([[1]], tv, (2,))
    assert repr(s) == _repr(ts)
    ember.sparse.sum(s * 3.0).backward()
    torch.sparse.sum(ts * 3.0).backward()
    assert_close(v.grad, tv.grad)
    with pytest.raises(RuntimeError, match="nnz from indices: 2, nnz from values: 1"):
        ember.sparse_coo_tensor([[0, 1]], 1.0, (2,))


def test_pickle_and_deepcopy_keep_the_tensor() -> None:
    import copy
    import pickle

    s = ember.sparse_coo_tensor(IDX, VAL, (2, 3), requires_grad=True)
    for other in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert other.requires_grad and other.layout is ember.sparse_coo
        np.testing.assert_array_equal(other.to_dense().detach().numpy(), s.to_dense().detach().numpy())


# ---- a graph network ----------------------------------------------------------------------------


@requires_torch
def test_gcn_training_matches_torch_losses() -> None:
    """Two graph-convolution layers (pytorch/examples' GCN, condensed): dense features, a
    sparse normalized adjacency, SGD; the losses of a few steps match torch's."""
    import torch

    rng = np.random.default_rng(0)
    n, f, hidden, classes = 30, 8, 16, 3
    a = (rng.random((n, n)) < 0.1).astype(np.float32)
    a = np.maximum(a, a.T) + np.eye(n, dtype=np.float32)
    deg = a.sum(1)
    a = a / np.sqrt(deg[:, None] * deg[None, :])
    idx = np.stack(np.nonzero(a)).astype(np.int64)
    val = a[tuple(idx)].astype(np.float32)
    x = rng.standard_normal((n, f)).astype(np.float32)
    w1 = (rng.standard_normal((f, hidden)) * 0.3).astype(np.float32)
    w2 = (rng.standard_normal((hidden, classes)) * 0.3).astype(np.float32)
    y = rng.integers(0, classes, n)

    def train(lib):
        adj = lib.sparse_coo_tensor(lib.tensor(idx), lib.tensor(val), (n, n)).coalesce()
        feats, target = lib.tensor(x), lib.tensor(y)
        p1, p2 = lib.tensor(w1, requires_grad=True), lib.tensor(w2, requires_grad=True)
        opt = lib.optim.SGD([p1, p2], lr=0.5, momentum=0.9)
        losses = []
        for _ in range(4):
            opt.zero_grad()
            h = lib.relu(lib.sparse.mm(adj, feats @ p1))
            out = lib.spmm(adj, h.mm(p2))
            loss = lib.nn.functional.cross_entropy(out, target)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    np.testing.assert_allclose(train(ember), train(torch), rtol=1e-5)


@requires_torch
def test_sparse_attention_custom_function_matches_torch() -> None:
    """pyGAT's sparse layer, condensed: a custom Function builds a sparse attention matrix in
    forward and multiplies by it (and its transpose) in forward and backward; the same
    attention through sparse.softmax; loss and gradients match torch's."""
    import torch

    def run(lib):
        class SparseProduct(lib.autograd.Function):
            @staticmethod
            def forward(ctx, indices, values, shape, b):
                a = lib.sparse_coo_tensor(indices, values, shape)
                ctx.save_for_backward(a, b)
                ctx.n = shape[0]
                return lib.matmul(a, b)

            @staticmethod
            def backward(ctx, grad_output):
                a, b = ctx.saved_tensors
                grad_dense = grad_output.matmul(b.t())
                edge = a._indices()[0, :] * ctx.n + a._indices()[1, :]
                return None, grad_dense.view(-1)[edge], None, a.t().matmul(grad_output)

        rng = np.random.default_rng(1)
        n, fin, fout = 10, 5, 4
        adj = (rng.random((n, n)) < 0.3).astype(np.float32) + np.eye(n, dtype=np.float32)
        x = lib.tensor(rng.standard_normal((n, fin)).astype(np.float32))
        w = lib.tensor((rng.standard_normal((fin, fout)) * 0.5).astype(np.float32), requires_grad=True)
        a = lib.tensor((rng.standard_normal((1, 2 * fout)) * 0.5).astype(np.float32), requires_grad=True)
        edge = lib.tensor(adj).nonzero().t()
        h = lib.mm(x, w)
        pairs = lib.cat((h[edge[0, :], :], h[edge[1, :], :]), dim=1).t()
        score = -lib.nn.functional.leaky_relu(a.mm(pairs).squeeze(), 0.2)
        weights = lib.exp(score)
        rowsum = SparseProduct.apply(edge, weights, lib.Size([n, n]), lib.ones(size=(n, 1)))
        h_prime = SparseProduct.apply(edge, weights, lib.Size([n, n]), h).div(rowsum)
        attention = lib.sparse.softmax(lib.sparse_coo_tensor(edge, score, (n, n)), 1)
        loss = (h_prime**2).sum() + (lib.sparse.mm(attention, h) * h_prime).sum()
        loss.backward()
        return loss.item(), w.grad.numpy(), a.grad.numpy()

    mine, theirs = run(ember), run(torch)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-5)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-4, atol=1e-5)


def test_leaf_flags_conversions_and_layout_names() -> None:
    s = ember.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 2)).requires_grad_()
    assert s.requires_grad and s.is_leaf
    (s.to_dense() * ember.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(s.grad.values().numpy(), [2.0, 3.0])
    assert not s.requires_grad_(False).requires_grad
    with ember.no_grad():
        assert not (s * 2).requires_grad
    module = ember.nn.Module()
    module.register_buffer("adj", s)
    module.double()
    assert module.adj.dtype is ember.float64 and module.adj.layout is ember.sparse_coo
    # half() to byte() ran the dense `to`, which refused a sparse tensor
    for name in ("float", "double", "half", "long", "int", "bool", "byte"):
        assert getattr(s, name)().layout is ember.sparse_coo, name
    assert s.half().dtype is ember.float16 and s.long().dtype is ember.int64
    assert s.type() == "ember.sparse.FloatTensor" and len(s) == 2 and s.numel() == 4
    assert {ember.sparse_csc, ember.sparse_bsr, ember.sparse_bsc}.isdisjoint({ember.strided, s.layout})
    with pytest.raises(RuntimeError, match="sparse_coo_tensor"):
        ember.ones(2, layout=ember.sparse_coo)  # zeros and empty make one
    with pytest.raises(NotImplementedError, match="sparse_bsr"):
        ember.ones(2, 2).to_sparse(layout=ember.sparse_bsr)


def test_optimizers_refuse_a_sparse_parameter() -> None:
    """An optimizer reads the gradient from the `_grad` slot, always None for a sparse tensor
    (its gradient lives on its values): SGD skipped the parameter, silently leaving it as it
    was, and zero_grad never cleared its gradient."""
    s = ember.sparse_coo_tensor(IDX, VAL, (2, 3)).coalesce().requires_grad_()
    for make in (ember.optim.SGD, ember.optim.Adam):
        with pytest.raises(NotImplementedError, match="sparse_coo"):
            make([s], lr=0.1)
    values = s.values().detach().requires_grad_()  # what the message suggests works
    opt = ember.optim.SGD([values], lr=0.1)
    ember.sparse.mm(ember.sparse_coo_tensor(s.indices(), values, (2, 3)), ember.ones(3, 2)).sum().backward()
    opt.step()
    np.testing.assert_allclose(values.detach().numpy(), [3.8, 3.8, 4.8])


@requires_torch
def test_values_that_require_grad_make_a_non_leaf() -> None:
    import torch

    v, tv = ember.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    s = ember.sparse_coo_tensor([[0, 1], [1, 0]], v, (2, 2), requires_grad=True)
    ts = torch.sparse_coo_tensor([[0, 1], [1, 0]], tv, (2, 2), requires_grad=True)
    assert s.is_leaf == ts.is_leaf and s.grad_fn.name() == ts.grad_fn.name()
    ember.sparse.sum(s * 3.0).backward()
    torch.sparse.sum(ts * 3.0).backward()
    assert_close(v.grad, tv.grad)


@requires_torch
def test_legacy_sparse_types() -> None:
    """pygcn builds its adjacency with torch.sparse.FloatTensor(indices, values, shape)."""
    import torch

    i, v = [[0, 1], [1, 0]], [1.0, 2.0]
    mine = ember.sparse.FloatTensor(ember.tensor(i), ember.tensor(v), ember.Size([2, 2]))
    theirs = torch.sparse.FloatTensor(torch.tensor(i), torch.tensor(v), torch.Size([2, 2]))
    assert repr(mine) == _repr(theirs)
    assert repr(ember.sparse.FloatTensor(2, 3)) == _repr(torch.sparse.FloatTensor(2, 3))
    assert isinstance(mine, ember.sparse.FloatTensor) and not isinstance(mine, ember.sparse.DoubleTensor)
    assert not isinstance(ember.ones(2), ember.sparse.FloatTensor)
    assert ember.sparse.DoubleTensor(ember.tensor(i), ember.tensor(v)).dtype is ember.float64


@requires_torch
def test_printing_of_random_wide_and_large_tensors_matches_torch() -> None:
    """Values wrapped at the line width after their indent, the suffixes' line breaks, hybrid
    tensors, int64 values, and summarized (nnz > 1000) indices and values."""
    import torch

    rng = np.random.default_rng(0)
    for trial in range(30):
        shape = tuple(int(s) for s in rng.integers(1, 12, size=rng.integers(1, 4)))
        a = rng.standard_normal(shape) * (rng.random(shape) < 0.4) * 10.0 ** rng.integers(-3, 4)
        a = a.astype(np.float64 if trial % 3 else np.float32)
        if trial % 5 == 0:
            a = (a * 100).astype(np.int64)
        sparse_dim = int(rng.integers(1, len(shape) + 1))
        grad = a.dtype.kind == "f"
        mine = ember.tensor(a).requires_grad_(grad).to_sparse(sparse_dim)
        theirs = torch.tensor(a).requires_grad_(grad).to_sparse(sparse_dim)
        assert repr(mine) == _repr(theirs)
        if len(shape) == 2:
            assert repr(mine.detach().to_dense().to_sparse_csr()) == _repr(
                theirs.detach().to_dense().to_sparse_csr()
            )
    big = np.arange(1, 3001, dtype=np.float32).reshape(50, 60)
    assert repr(ember.tensor(big).to_sparse()) == _repr(torch.tensor(big).to_sparse())
    assert repr(ember.tensor(big).to_sparse_csr()) == _repr(torch.tensor(big).to_sparse_csr())


@requires_torch
def test_sparse_mask_keeps_an_uncoalesced_masks_repeated_indices():
    """PyTorch takes the mask's indices as they are: a repeated index gives a repeated value,
    which counts twice once made dense (ember coalesced the mask first: a silent 1x)."""
    import torch

    got, want = [], []
    for lib, out in ((ember, got), (torch, want)):
        mask = lib.sparse_coo_tensor([[1, 0, 1]], [5.0, 6.0, 7.0], (3,))
        dense = lib.tensor([10.0, 20.0, 30.0], requires_grad=True)
        r = dense.sparse_mask(mask)
        r.to_dense().sum().backward()
        out += [r._indices().tolist(), r._values().tolist(), r.is_coalesced(), r.to_dense().tolist()]
        out += [dense.grad.tolist(), dense.sparse_mask(mask.coalesce()).is_coalesced()]
    assert got == want


def test_data_of_a_sparse_tensor_is_a_detached_sparse_tensor_sharing_memory():
    s = ember.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse().requires_grad_()
    d = s.data
    assert d.layout is ember.sparse_coo and not d.requires_grad and d.shape == s.shape
    d._values().mul_(10)  # shares the values, as PyTorch's .data does
    assert s.to_dense().tolist() == [[0.0, 20.0], [30.0, 0.0]]
    leaf = s._vals
    s.data = ember.tensor([[1.0, 0.0], [0.0, 0.0]]).to_sparse()
    assert s._vals is leaf and s.requires_grad and s.to_dense().tolist() == [[1.0, 0.0], [0.0, 0.0]]
    with pytest.raises(RuntimeError, match="same layout"):
        s.data = ember.ones(2, 2)


def test_number_or_broadcast_plus_sparse_raises() -> None:
    # `1 + s` gave a dense tensor; PyTorch's add refuses it, and a dense tensor that only
    # broadcasts to the sparse one's size
    s = ember.sparse_coo_tensor(IDX, VAL, (2, 3))
    for op in (lambda: 1 + s, lambda: 1.5 - s, lambda: ember.ones(1, 3) + s, lambda: ember.tensor(1.0) - s):
        with pytest.raises(RuntimeError, match="add|sub"):
            op()
    assert_close(ember.ones(2, 3) - s, 1 - s.to_dense())
