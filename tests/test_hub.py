"""ember.hub and ember.utils.model_zoo: downloads by URL into a cache, tested offline with
file:// URLs; load, list and help refuse to run a repository's code."""

from __future__ import annotations

import hashlib
import inspect
import os
import zipfile

import pytest

import ember
from conftest import requires_torch
from ember import hub
from ember.datasets import _download


@pytest.fixture(autouse=True)
def _fresh_hub_dir(monkeypatch):
    monkeypatch.setattr(hub, "_hub_dir", None)
    for name in ("EMBER_HOME", "TORCH_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _no_network(monkeypatch):
    def fetch(*args, **kwargs):
        raise AssertionError("downloaded although the file was cached")

    monkeypatch.setattr(_download, "_fetch", fetch)


def test_get_dir_follows_ember_home_then_torch_home_then_the_cache(monkeypatch, tmp_path):
    assert hub.get_dir() == os.path.expanduser(os.path.join("~/.cache", "ember", "hub"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == str(tmp_path / "xdg" / "ember" / "hub")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert hub.get_dir() == str(tmp_path / "torch" / "hub")
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "ember"))
    assert hub.get_dir() == str(tmp_path / "ember" / "hub")
    hub.set_dir(tmp_path / "mine")
    assert hub.get_dir() == str(tmp_path / "mine")
    hub.set_dir("~/x")
    assert hub.get_dir() == os.path.expanduser("~/x")


def test_download_url_to_file_checks_the_hash_prefix(tmp_path):
    source = tmp_path / "src.bin"
    source.write_bytes(b"weights" * 100)
    digest = _sha256(source)
    target = tmp_path / "out" / "w.bin"
    hub.download_url_to_file(source.as_uri(), str(target), hash_prefix=digest[:8], progress=False)
    assert target.read_bytes() == source.read_bytes()
    bad = tmp_path / "out" / "bad.bin"
    with pytest.raises(RuntimeError, match=f'invalid hash value \\(expected "0000", got "{digest}"\\)'):
        hub.download_url_to_file(source.as_uri(), str(bad), hash_prefix="0000", progress=False)
    assert sorted(p.name for p in target.parent.iterdir()) == ["w.bin"]  # no partial file left


def test_load_state_dict_from_url_caches_and_checks_the_name_hash(tmp_path, monkeypatch):
    state = {"weight": ember.arange(6.0).reshape(2, 3), "bias": ember.zeros(2)}
    staged = tmp_path / "staged.pt"
    ember.save(state, staged)
    named = tmp_path / "remote" / f"net-{_sha256(staged)[:10]}.pt"
    named.parent.mkdir()
    staged.rename(named)
    hub.set_dir(tmp_path / "hub")
    loaded = hub.load_state_dict_from_url(named.as_uri(), check_hash=True, progress=False)
    assert loaded["weight"].tolist() == state["weight"].tolist()
    cached = tmp_path / "hub" / "checkpoints" / named.name
    assert cached.exists()
    _no_network(monkeypatch)
    assert hub.load_state_dict_from_url(named.as_uri(), map_location="cpu")["bias"].tolist() == [0.0, 0.0]


def test_a_wrong_hash_in_the_name_leaves_nothing_cached(tmp_path):
    remote = tmp_path / "net-deadbeef.pt"
    ember.save({"w": ember.ones(1)}, remote)
    model_dir = tmp_path / "models"
    with pytest.raises(RuntimeError, match="invalid hash value"):
        hub.load_state_dict_from_url(
            remote.as_uri(), model_dir=str(model_dir), check_hash=True, progress=False
        )
    assert list(model_dir.iterdir()) == []
    # without check_hash the same file loads
    assert hub.load_state_dict_from_url(remote.as_uri(), model_dir=str(model_dir), progress=False)[
        "w"
    ].tolist() == [1.0]


@requires_torch
def test_a_torch_checkpoint_and_file_name(tmp_path):
    import torch

    theirs = torch.nn.Linear(3, 2)
    remote = tmp_path / "linear.pth"
    torch.save(theirs.state_dict(), remote)
    ours = ember.nn.Linear(3, 2)
    state = hub.load_state_dict_from_url(
        remote.as_uri(), model_dir=str(tmp_path / "m"), file_name="renamed.pth", progress=False
    )
    ours.load_state_dict(state)
    assert (tmp_path / "m" / "renamed.pth").exists()
    assert ours.weight.tolist() == theirs.weight.tolist()


def test_a_zip_holding_one_checkpoint_is_unpacked(tmp_path):
    # how old torchvision weights were published: a zip of one .pth file
    inner = tmp_path / "inner.pth"
    ember.save({"w": ember.full((2,), 3.0)}, inner)
    remote = tmp_path / "packed.zip"
    with zipfile.ZipFile(remote, "w") as archive:
        archive.write(inner, "../../inner.pth")  # a member name must not escape model_dir
    model_dir = tmp_path / "deep" / "models"
    loaded = hub.load_state_dict_from_url(remote.as_uri(), model_dir=str(model_dir), progress=False)
    assert loaded["w"].tolist() == [3.0, 3.0]
    assert sorted(p.name for p in model_dir.iterdir()) == ["inner.pth", "packed.zip"]


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (hub.load, ("pytorch/vision", "resnet18")),
        (hub.list, ("pytorch/vision",)),
        (hub.help, ("pytorch/vision", "resnet18")),
    ],
)
def test_hub_functions_that_run_repository_code_refuse(call, args):
    with pytest.raises(NotImplementedError, match="does not run downloaded code.*load_state_dict_from_url"):
        call(*args)


def test_model_zoo_load_url_is_the_hub_function():
    import ember.utils.model_zoo as model_zoo

    assert model_zoo.load_url is hub.load_state_dict_from_url
    assert ember.hub is hub


@requires_torch
def test_signatures_match_torch_hub():
    import torch.hub

    for name in ("load_state_dict_from_url", "download_url_to_file", "get_dir", "set_dir"):
        ours, theirs = inspect.signature(getattr(hub, name)), inspect.signature(getattr(torch.hub, name))
        assert list(ours.parameters) == list(theirs.parameters), name
        assert [p.default for p in ours.parameters.values()] == [
            p.default for p in theirs.parameters.values()
        ], name
