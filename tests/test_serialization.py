"""ember.save / ember.load: round trips, atomic saves, and clean failures on bad files."""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import nn
from ember.serialization import load, save


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Linear(5, 2))


def test_tensor_round_trip_keeps_values_dtype_and_shape(tmp_path):
    for t in (
        ember.randn(3, 4),
        ember.arange(6).reshape(2, 3),
        ember.tensor([True, False]),
        ember.tensor(2.5, dtype=ember.float64),
        ember.zeros(0, 3),
        ember.ones(2, 2, dtype=ember.float16),
        ember.randn(4, 3).T,  # a non-contiguous view
    ):
        path = tmp_path / "t.pt"
        save(t, path)
        back = load(path)
        assert isinstance(back, ember.Tensor) and back.dtype == t.dtype and back.shape == t.shape
        assert np.array_equal(back.numpy(), t.numpy())


def test_state_dict_round_trip_restores_the_model(tmp_path):
    model = mlp()
    model.train()
    model(ember.randn(8, 6))  # moves the BatchNorm running statistics
    model.eval()
    save(model.state_dict(), tmp_path / "model.pt")
    state = load(tmp_path / "model.pt")
    assert isinstance(state, OrderedDict) and list(state) == list(model.state_dict())
    assert state["2.num_batches_tracked"].dtype == ember.int64 and state["2.num_batches_tracked"].item() == 1
    fresh = mlp().eval()
    fresh.load_state_dict(state)
    x = ember.randn(4, 6)
    assert np.array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_nested_python_values_round_trip(tmp_path):
    obj = {
        "epoch": 3,
        "lr": 0.1,
        "name": "run-1",
        "done": False,
        "missing": None,
        "inf": math.inf,
        "shape": ember.Size([2, 3]),
        "dtype": ember.float64,
        "history": [1.5, 2.5],
        "pair": (1, "a"),
        "state": {0: {"momentum_buffer": ember.ones(2)}, 1: {"step": ember.tensor(4.0)}},
        (1, 2): "tuple key",
        "array": np.arange(3, dtype=np.int32),
    }
    save(obj, tmp_path / "ckpt.pt")
    back = load(tmp_path / "ckpt.pt")
    assert set(back) == set(obj) and type(back) is dict
    for key in ("epoch", "lr", "name", "done", "missing", "inf", "history", "pair", (1, 2)):
        assert back[key] == obj[key] and type(back[key]) is type(obj[key])
    assert back["shape"] == ember.Size([2, 3]) and isinstance(back["shape"], ember.Size)
    assert back["dtype"] is ember.float64
    assert np.array_equal(back["state"][0]["momentum_buffer"].numpy(), np.ones(2, np.float32))
    assert back["array"].dtype == np.int32


def test_nan_survives(tmp_path):
    save({"loss": math.nan}, tmp_path / "n.pt")
    assert math.isnan(load(tmp_path / "n.pt")["loss"])


def test_shared_tensors_are_stored_once_and_parameters_stay_parameters(tmp_path):
    p = nn.Parameter(ember.randn(3))
    frozen = ember.ones(2)
    save({"a": p, "b": p, "c": frozen}, tmp_path / "s.pt")
    with zipfile.ZipFile(tmp_path / "s.pt") as archive:
        assert sorted(n for n in archive.namelist() if n.endswith(".npy")) == ["data/0.npy", "data/1.npy"]
    back = load(tmp_path / "s.pt")
    assert back["a"] is back["b"] and isinstance(back["a"], nn.Parameter) and back["a"].requires_grad
    assert not isinstance(back["c"], nn.Parameter) and not back["c"].requires_grad


def test_file_objects_and_str_paths(tmp_path):
    buffer = io.BytesIO()
    save({"w": ember.ones(2)}, buffer)
    buffer.seek(0)
    assert load(buffer)["w"].tolist() == [1.0, 1.0]
    path = str(tmp_path / "plain.pt")
    save([1, 2], path)
    assert load(path, map_location="cpu", weights_only=True) == [1, 2]
    with open(path, "rb") as f:
        assert load(f) == [1, 2]


def test_the_archive_is_an_index_plus_npy_files(tmp_path):
    save({"w": ember.ones(2, 2)}, tmp_path / "x.pt")
    with zipfile.ZipFile(tmp_path / "x.pt") as archive:
        index = json.loads(archive.read("index.json"))
        arr = np.load(io.BytesIO(archive.read("data/0.npy")), allow_pickle=False)
    assert index["format"] == "ember-checkpoint" and index["root"]["dict"][0][0] == "w"
    assert arr.shape == (2, 2)


def test_saving_unsupported_objects_fails_clearly(tmp_path):
    with pytest.raises(TypeError, match="save a model's state_dict"):
        save(mlp(), tmp_path / "model.pt")
    with pytest.raises(TypeError, match="cannot store"):
        save({"f": lambda: 0}, tmp_path / "f.pt")
    assert not list(tmp_path.iterdir())  # no file and no temporary left behind


def test_truncated_checkpoint_raises_naming_the_file(tmp_path):
    path = tmp_path / "model.pt"
    save(mlp().state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError, match="model.pt"):
        load(path)


def test_corrupted_bytes_inside_raise_naming_the_file(tmp_path):
    path = tmp_path / "model.pt"
    save({"w": ember.zeros(1000)}, path)
    data = bytearray(path.read_bytes())
    start = data.find(b"\x93NUMPY")
    data[start + 200 : start + 260] = b"\xff" * 60  # inside the array: the zip CRC catches it
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="model.pt"):
        load(path)


@pytest.mark.parametrize(
    "content",
    [
        b"just some text, not a checkpoint",
        b"",
        "zip without index",
        "zip with a foreign index",
        "zip with a pickled array",
    ],
)
def test_foreign_files_raise_a_clear_error(tmp_path, content):
    path = tmp_path / "foreign.bin"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with zipfile.ZipFile(path, "w") as archive:
            if content == "zip without index":
                archive.writestr("other.txt", "hello")
            elif content == "zip with a foreign index":
                archive.writestr("index.json", json.dumps({"format": "something-else"}))
            else:
                index = {"format": "ember-checkpoint", "version": 1, "root": {"ndarray": 0}}
                archive.writestr("index.json", json.dumps(index))
                buffer = io.BytesIO()
                np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
                archive.writestr("data/0.npy", buffer.getvalue())
    with pytest.raises(RuntimeError, match="foreign.bin"):
        load(path)


def test_interrupted_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    save({"version": 1, "w": ember.ones(3)}, path)
    before = path.read_bytes()

    real_save = np.save
    calls = []

    def failing_save(file, arr, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the first array is written, the disk "fills up" on the second
            file.write(b"\x93NUMPY partial")
            raise OSError("No space left on device")
        real_save(file, arr, **kwargs)

    monkeypatch.setattr(np, "save", failing_save)
    with pytest.raises(OSError, match="No space left"):
        save({"version": 2, "w": ember.zeros(3), "b": ember.zeros(2)}, path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert load(path)["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # the temporary file is gone


def test_save_to_a_new_path_has_ordinary_permissions(tmp_path):
    path = Path(tmp_path) / "new.pt"
    save(ember.ones(1), path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_save_into_a_missing_folder_raises_like_torch(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .*missing does not exist"):
        save(ember.ones(1), tmp_path / "missing" / "x.pt")


def test_map_location_other_than_cpu_raises(tmp_path):
    save(ember.ones(1), tmp_path / "x.pt")
    with pytest.raises(RuntimeError, match="CPU only"):
        load(tmp_path / "x.pt", map_location="cuda:0")
