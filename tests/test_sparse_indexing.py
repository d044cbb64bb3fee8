"""Indexing, select, index_select, pow, sum(keepdim=True) and the reflected + and - of sparse
tensors, against PyTorch, with gradients checked by finite differences (PyTorch has none for
select, index_select and keepdim sums of sparse tensors; ember's come from the values)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

IDX3 = [[0, 1, 1, 1], [1, 0, 2, 0]]  # (1, 0) twice: uncoalesced, with a dense dimension
VAL3 = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's beta warnings
        yield


def _cases(lib):
    """(name, thunk) pairs, each built from lib (torch or ember) alone."""
    s = lib.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
    s3 = lib.sparse_coo_tensor(lib.tensor(IDX3), lib.tensor(VAL3), (2, 3, 2))
    csr = s.to_sparse_csr()
    return [
        ("1 + s", lambda: 1 + s),
        ("1 - s", lambda: 1 - s),
        ("dense - s", lambda: lib.ones(2, 2) - s),
        ("dense + s", lambda: lib.ones(2, 2) + s),
        ("0-d + s", lambda: lib.tensor(1.0) + s),
        ("broadcast + s", lambda: lib.ones(1, 2) + s),
        ("s ** 0", lambda: s**0),
        ("s ** 2.5", lambda: s**2.5),
        ("s ** -1", lambda: s**-1),
        ("s3 ** 2", lambda: s3**2),  # coalesced first: (3 + 7) ** 2, not 9 + 49
        ("s.pow(3)", lambda: s.pow(3)),
        ("2 ** s", lambda: 2**s),
        ("s ** tensor", lambda: s ** lib.tensor(2.0)),
        ("csr ** 2", lambda: csr**2),
        ("sum(1, keepdim)", lambda: s.sum(1, keepdim=True)),
        ("sum(0, keepdim)", lambda: s.sum(0, keepdim=True)),
        ("sum((0, 1), keepdim)", lambda: s.sum((0, 1), keepdim=True)),
        ("s3 sum(2, keepdim)", lambda: s3.sum(2, keepdim=True)),
        ("s3 sum(1, keepdim)", lambda: s3.sum(1, keepdim=True)),
        ("s3 sum((0, 2), keepdim)", lambda: s3.sum((0, 2), keepdim=True)),
        ("s3 sum((0, 1), keepdim)", lambda: s3.sum((0, 1), keepdim=True)),
        ("csr sum(0, keepdim)", lambda: csr.sum(0, keepdim=True)),
        ("csr sum((0, 1), keepdim)", lambda: csr.sum((0, 1), keepdim=True)),
        ("s[-1]", lambda: s[-1]),
        ("s[1, 0]", lambda: s[1, 0]),
        ("s[:, 1]", lambda: s[:, 1]),
        ("s[0:1]", lambda: s[0:1]),
        ("s[5]", lambda: s[5]),
        ("s3[1]", lambda: s3[1]),
        ("s3[1, 2]", lambda: s3[1, 2]),
        ("s3[1, 0]", lambda: s3[1, 0]),
        ("s3[:, 0]", lambda: s3[:, 0]),
        ("s3[1, :, 1]", lambda: s3[1, :, 1]),
        ("s3.select(2, 1)", lambda: s3.select(2, 1)),
        ("s3.select(1, 2)", lambda: s3.select(1, 2)),
        ("s.select(1, -1)", lambda: s.select(1, -1)),
        ("csr[0]", lambda: csr[0]),
        ("csr.select(0, 1)", lambda: csr.select(0, 1)),
        ("index_select(0)", lambda: s.index_select(0, lib.tensor([1, 1, 0]))),
        ("index_select(1)", lambda: s.index_select(1, lib.tensor([1]))),
        ("index_select empty", lambda: s.index_select(0, lib.tensor([], dtype=lib.int64))),
        ("s3 index_select(2)", lambda: s3.index_select(2, lib.tensor([1, 0, 1]))),
        ("s3 index_select(1)", lambda: s3.index_select(1, lib.tensor([0, 0, 2]))),
    ]


def _outcome(lib, thunk):
    try:
        r = thunk()
    except Exception as e:  # noqa: BLE001 (the exception's kind is what is compared)
        kinds = [
            k
            for k in ("IndexError", "RuntimeError", "NotImplementedError", "TypeError")
            if k in {c.__name__ for c in type(e).__mro__}
        ]
        return ("raises", kinds[0])
    dense = r.to_dense() if r.layout is not lib.strided else r
    return (str(r.layout).split(".")[-1], tuple(r.shape), dense.tolist())


@requires_torch
@pytest.mark.parametrize("i", range(len(_cases(ember))))
def test_matches_torch(i: int) -> None:
    import torch

    name, mine = _cases(ember)[i]
    _, theirs = _cases(torch)[i]
    assert _outcome(ember, mine) == _outcome(torch, theirs), name


def test_results_without_torch() -> None:
    s = ember.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
    assert s[1, 0].item() == 3.0 and s[1].layout is ember.sparse_coo
    assert s[:, 1].to_dense().tolist() == [2.0, 0.0]
    assert (s**2).to_dense().tolist() == [[0.0, 4.0], [9.0, 0.0]]
    assert s.sum(1, keepdim=True).shape == (2, 1)
    assert s.to_sparse_csr().sum((0, 1), keepdim=True).layout is ember.sparse_csr  # as torch's
    picked = s.index_select(0, ember.tensor([1, 1, 0]))
    assert picked.to_dense().tolist() == [[3.0, 0.0], [3.0, 0.0], [0.0, 2.0]] and not picked.is_coalesced()
    with pytest.raises(RuntimeError, match="same size"):
        ember.ones(1, 2) + s
    with pytest.raises(RuntimeError, match="not supported"):
        1 + s
    with pytest.raises(RuntimeError, match="zeroth power"):
        s**0
    with pytest.raises(IndexError, match="out of range"):
        s.select(0, 2)
    with pytest.raises(IndexError, match="out of range"):
        s.index_select(0, ember.tensor([2]))
    with pytest.raises(NotImplementedError, match="integers and ':'"):
        s[0:1]
    with pytest.raises(TypeError, match="dim"):
        s.sum(keepdim=True)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_integer_and_bool_sums_are_int64(dtype: str, keepdim: bool) -> None:
    # Tensor.sum of a sparse tensor counts booleans and widens integers to int64, as torch's
    # does, also where the result stays sparse (a bool sum was True, not 2, before)
    values = np.array(VAL3).astype(dtype)
    s = ember.sparse_coo_tensor(ember.tensor(IDX3), ember.tensor(values), (2, 3, 2))
    wide = ember.sparse_coo_tensor(ember.tensor(IDX3), ember.tensor(values.astype(np.int64)), (2, 3, 2))
    for dim in (0, 1, 2, (0, 1)):
        r = s.sum(dim, keepdim=keepdim)
        dense = r.to_dense() if r.layout is not ember.strided else r
        want = np.array(wide.to_dense().tolist()).sum(dim, keepdims=keepdim)  # repeats counted
        assert r.dtype is ember.int64 and dense.tolist() == want.tolist(), dim
    assert s.sum(0, keepdim=keepdim, dtype=ember.int16).dtype is ember.int16


@requires_torch
def test_pow_gradient_matches_torch() -> None:
    import torch

    grads = []
    for lib in (ember, torch):
        a = lib.tensor([[0.0, 2.0], [3.0, 0.5]], dtype=lib.float64, requires_grad=True)
        (a.to_sparse() ** 3).to_dense().sum().backward()
        grads.append(a.grad)
    assert_close(grads[0], grads[1])


WEIGHTS = np.arange(1.0, 7.0).reshape(3, 2)


@pytest.mark.parametrize(
    "fn",
    [
        lambda s: s.select(0, 1).to_dense(),
        lambda s: s[:, 1].to_dense(),
        lambda s: s[1, 0],
        lambda s: s.index_select(0, ember.tensor([1, 1, 0])).to_dense() * ember.tensor(WEIGHTS),
        lambda s: s.index_select(1, ember.tensor([1, 0])).to_dense(),
        lambda s: s.sum(1, keepdim=True).to_dense(),
        lambda s: (s**3).to_dense(),
        lambda s: (ember.ones(2, 2, dtype=ember.float64) - s) * 2,
    ],
)
def test_gradients_by_finite_differences(fn) -> None:
    # no zero in the input, so that to_sparse keeps every position under the perturbations
    a = ember.tensor([[0.7, 2.0], [3.0, 0.5]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: fn(x.to_sparse()), (a,))
