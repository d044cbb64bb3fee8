"""ember.save and ember.load of sparse tensors (ember.sparse): a state dict holding one (a GCN's
normalised adjacency kept as a buffer) saves and comes back equal, and a damaged entry cannot
make an inconsistent tensor, because load rebuilds it through the checked constructors; and
torch.save files holding sparse tensors load too."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember import nn


def roundtrip(obj):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf), buf


DENSE = [[0.0, 2.0, 0.0], [3.0, 0.0, 4.0]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ember.tensor(DENSE).to_sparse(),
        lambda: ember.tensor(DENSE).to_sparse_csr(),
        lambda: ember.sparse_coo_tensor([[1, 0, 1], [2, 0, 2]], [1.0, 2.0, 3.0], (2, 3)),  # uncoalesced
        lambda: ember.ones(2, 3, dtype=ember.float64).to_sparse(1),  # hybrid: one dense dim
        lambda: ember.tensor(DENSE).to_sparse().requires_grad_(),
    ],
    ids=["coo", "csr", "uncoalesced", "hybrid", "requires-grad"],
)
def test_sparse_tensors_round_trip(make):
    s = make()
    (back, _) = roundtrip({"s": s})
    r = back["s"]
    assert r.layout is s.layout and r.dtype == s.dtype and r.shape == s.shape
    assert (r.sparse_dim(), r.dense_dim(), r.requires_grad) == (
        s.sparse_dim(),
        s.dense_dim(),
        s.requires_grad,
    )
    if s.layout is ember.sparse_coo:
        assert r.is_coalesced() == s.is_coalesced()
        np.testing.assert_array_equal(r._indices().numpy(), s._indices().numpy())
    np.testing.assert_array_equal(r.to_dense().detach().numpy(), s.to_dense().detach().numpy())


def test_a_module_with_a_sparse_buffer_saves_and_loads():
    class GCNLayer(nn.Module):
        def __init__(self, adjacency):
            super().__init__()
            self.linear = nn.Linear(3, 2)
            self.register_buffer("adjacency", adjacency)

        def forward(self, x):
            return ember.sparse.mm(self.adjacency, self.linear(x))

    adjacency = ember.tensor([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.3, 0.0, 0.7]]).to_sparse()
    layer, x = GCNLayer(adjacency), ember.randn(3, 3)
    (state, _) = roundtrip(layer.state_dict())
    other = GCNLayer(ember.zeros(3, 3).to_sparse())
    other.load_state_dict(state)
    np.testing.assert_allclose(other(x).detach().numpy(), layer(x).detach().numpy())


def test_an_index_outside_the_size_in_a_damaged_file_is_refused():
    _, buf = roundtrip({"s": ember.tensor(DENSE).to_sparse()})
    with zipfile.ZipFile(buf) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    index = json.loads(files["index.json"])
    index["root"]["dict"][0][1]["size"] = [1, 1]  # the indices reach row 1 and column 2
    files["index.json"] = json.dumps(index).encode()
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    damaged.seek(0)
    with pytest.raises(RuntimeError, match="inconsistent sparse tensor"):
        ember.load(damaged)


def test_copy_into_a_sparse_tensor_follows_torch():
    a = ember.tensor(DENSE).to_sparse()
    b = ember.zeros(2, 3, dtype=ember.float64).to_sparse()
    assert b.copy_(a) is b and b.dtype == ember.float64
    np.testing.assert_array_equal(b.to_dense().numpy(), np.array(DENSE))
    with pytest.raises(RuntimeError, match="between dense and sparse"):
        b.copy_(ember.ones(2, 3))
    with pytest.raises(RuntimeError, match="same number of specified elements"):
        ember.zeros(2, 3).to_sparse_csr().copy_(a.to_sparse_csr())
    leaf = ember.zeros(2, 3).to_sparse().requires_grad_()
    with pytest.raises(RuntimeError, match="no_grad"):
        leaf.copy_(a)
    with ember.no_grad():
        leaf.copy_(a)
    assert leaf.requires_grad and leaf.is_leaf


def _torch_cases(torch):
    dense = torch.tensor(DENSE)
    return {
        "coo": dense.to_sparse(),
        "csr": dense.to_sparse_csr(),
        "uncoalesced": torch.sparse_coo_tensor([[1, 0, 1], [2, 0, 2]], [1.0, 2.0, 3.0], (2, 3)),
        "hybrid": torch.ones(2, 3, dtype=torch.float64).to_sparse(1),
        "bfloat16": dense.to(torch.bfloat16).to_sparse(),  # values changed after reading
    }


@requires_torch
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("case", ["coo", "csr", "uncoalesced", "hybrid", "bfloat16"])
def test_torch_save_files_with_sparse_tensors_load(tmp_path, legacy, case):
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's beta warning for CSR
        t = _torch_cases(torch)[case]
    path = tmp_path / "sparse.pt"
    torch.save({"s": t, "w": torch.ones(2)}, path, _use_new_zipfile_serialization=not legacy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ember's bfloat16-as-float32 warning (without ml_dtypes)
        r = ember.load(path)["s"]
    assert str(r.layout)[len("ember.") :] == str(t.layout)[len("torch.") :]
    assert r.shape == tuple(t.shape) and (r.sparse_dim(), r.dense_dim()) == (t.sparse_dim(), t.dense_dim())
    if t.layout is torch.sparse_coo:
        assert r.is_coalesced() == t.is_coalesced()
        np.testing.assert_array_equal(r._indices().numpy(), t._indices().numpy())
    np.testing.assert_array_equal(
        r.to_dense().float().numpy() if case == "bfloat16" else r.to_dense().numpy(),
        t.to_dense().float().numpy() if case == "bfloat16" else t.to_dense().numpy(),
    )


def _sparse_pickle(parts: bytes) -> bytes:
    """A torch.save pickle calling _rebuild_sparse_tensor(torch.sparse_coo, <parts>)."""
    layout = b"ctorch.serialization\n_get_layout\nX\x10\x00\x00\x00torch.sparse_coo\x85R"
    return b"\x80\x02ctorch._utils\n_rebuild_sparse_tensor\n" + layout + parts + b"\x86R."


def test_a_crafted_sparse_entry_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "crafted.pt"
    with zipfile.ZipFile(path, "w") as archive:
        # (indices, values, size) given as strings, not tensors
        archive.writestr("c/data.pkl", _sparse_pickle(b"(X\x01\x00\x00\x00aX\x01\x00\x00\x00bK\x02\x85t"))
        archive.writestr("c/byteorder", "little")
    with pytest.raises(RuntimeError, match=r"crafted\.pt.*a sparse tensor from"):
        ember.load(path)


@requires_torch
def test_a_torch_file_with_indices_outside_the_size_is_refused(tmp_path):
    import torch

    path = tmp_path / "outside.pt"
    bad = torch.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (2,), check_invariants=False)
    torch.save(bad, path)
    with pytest.raises(RuntimeError, match=r"outside\.pt.*inconsistent sparse tensor"):
        ember.load(path)
