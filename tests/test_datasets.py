"""ember.datasets: the IDX reader, MNIST on small files, tabular CSVs, synthetic generators."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

import ember
from conftest import shared_data
from ember import datasets, transforms
from ember.utils.data import DataLoader, default_collate

MNIST_TRANSFORM = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])


def idx_bytes(arr: np.ndarray) -> bytes:
    """An IDX file: 0x0000, type code, rank, big-endian dims, big-endian data."""
    code = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}
    header = bytes([0, 0, code[arr.dtype.type], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = idx_bytes(arr)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def small_mnist(n: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def write_mnist(folder: Path, train_n: int = 12, test_n: int = 5, gz: bool = True) -> dict:
    arrays = {}
    for prefix, n in (("train", train_n), ("t10k", test_n)):
        images, labels = small_mnist(n, seed=n)
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        arrays[prefix] = (images, labels)
    return arrays


# ---- IDX ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_read_idx_round_trip(tmp_path, dtype, name):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    out = datasets.read_idx(write_idx(tmp_path / name, arr))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.shape == (2, 3, 4)
    assert (out == arr).all()


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_rejects_corrupt_files(tmp_path, gz):
    good = idx_bytes(np.zeros((3, 4, 4), np.uint8))
    cases = {
        "magic": b"\x01\x02" + good[2:],
        "typecode": good[:2] + b"\x07" + good[3:],
        "header": good[:9],
        "truncated": good[:-5],
        "trailing": good + b"\x00",
        "empty": b"",
    }
    messages = {
        "magic": "bad IDX magic number 0x0102",
        "typecode": "bad IDX magic",
        "header": "truncated header",
        "truncated": "truncated: its header announces 3 x 4 x 4 values",
        "trailing": "unexpected bytes",
        "empty": "bad IDX magic",
    }
    for case, data in cases.items():
        path = tmp_path / (f"{case}.idx.gz" if gz else f"{case}.idx")
        path.write_bytes(gzip.compress(data) if gz else data)
        with pytest.raises(RuntimeError, match=messages[case]) as info:
            datasets.read_idx(path)
        assert str(path) in str(info.value)


def test_read_idx_rejects_broken_gzip(tmp_path):
    path = tmp_path / "x.idx.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((50, 50), np.uint8)))[:-20])
    with pytest.raises(RuntimeError, match=r"x\.idx\.gz is corrupt: cannot be read"):
        datasets.read_idx(path)
    path.write_bytes(b"not gzip at all")
    with pytest.raises(RuntimeError, match="is corrupt"):
        datasets.read_idx(path)


# ---- MNIST on small files --------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["MNIST/raw", "mnist", "."])
def test_mnist_finds_files_in_each_layout(tmp_path, layout):
    arrays = write_mnist(tmp_path / layout, gz=layout != ".")
    train = datasets.MNIST(tmp_path, train=True)
    test = datasets.MNIST(str(tmp_path), train=False)
    assert len(train) == 12 and len(test) == 5
    assert train.data.dtype == ember.uint8 and train.data.shape == (12, 28, 28)
    assert train.targets.dtype == ember.int64 and train.targets.tolist() == arrays["train"][1].tolist()
    img, target = train[3]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    assert (img == arrays["train"][0][3]).all() and target == int(arrays["train"][1][3])
    img[:] = 0  # a copy: the dataset is not changed through it
    assert (train.data.numpy()[3] == arrays["train"][0][3]).all()


def test_mnist_default_root_is_ember_data(tmp_path, monkeypatch):
    write_mnist(tmp_path / "mnist")
    monkeypatch.setenv("EMBER_DATA", str(tmp_path))
    ds = datasets.MNIST(train=False)
    assert len(ds) == 5 and ds.root == str(tmp_path)


def test_mnist_missing_files_explain_where_to_put_them(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found") as info:
        datasets.MNIST(tmp_path)
    text = str(info.value)
    assert "train-images-idx3-ubyte.gz" in text and str(tmp_path / "MNIST" / "raw") in text
    assert "download=True" in text


def test_mnist_rejects_mismatched_files(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(11, np.uint8))
    with pytest.raises(RuntimeError, match="labels of shape \\(11,\\) for 12 images"):
        datasets.MNIST(tmp_path)


def test_mnist_transforms_and_repr(tmp_path):
    write_mnist(tmp_path)
    ds = datasets.MNIST(tmp_path, transform=MNIST_TRANSFORM, target_transform=lambda y: y + 100)
    x, y = ds[0]
    assert x.shape == (1, 28, 28) and x.dtype == ember.float32 and y >= 100
    text = repr(ds)
    assert text.startswith("Dataset MNIST\n    Number of datapoints: 12\n")
    assert "Split: Train" in text and "Normalize(mean=(0.1307,), std=(0.3081,))" in text
    assert datasets.MNIST.classes[0] == "0 - zero" and ds.class_to_idx["9 - nine"] == 9
    assert datasets.FashionMNIST.classes[9] == "Ankle boot"


@pytest.mark.parametrize(
    "transform", [None, MNIST_TRANSFORM, transforms.Compose([transforms.ToTensor(), transforms.Flatten()])]
)
def test_mnist_batch_path_equals_per_sample_path(tmp_path, transform):
    write_mnist(tmp_path, train_n=20)
    ds = datasets.MNIST(tmp_path, transform=transform)
    assert ds._batch_fetcher() is not None
    fast = list(DataLoader(ds, batch_size=8))
    slow = list(DataLoader(ds, batch_size=8, collate_fn=lambda batch: default_collate(batch)))
    for (xf, yf), (xs, ys) in zip(fast, slow):
        assert xf.dtype == xs.dtype and xf.shape == xs.shape
        assert xf.numpy().tobytes() == xs.numpy().tobytes() and yf.tolist() == ys.tolist()
    augmented = datasets.MNIST(tmp_path, transform=transforms.RandomHorizontalFlip())
    assert augmented._batch_fetcher() is None


def test_mnist_data_can_be_replaced(tmp_path):
    write_mnist(tmp_path)
    ds = datasets.MNIST(tmp_path)
    ds.data, ds.targets = ds.data[:4], ds.targets[:4]  # a common way to train on a subset
    assert len(ds) == 4 and len(list(DataLoader(ds, batch_size=3))) == 2


def test_fashion_mnist_uses_its_own_folder(tmp_path):
    write_mnist(tmp_path / "FashionMNIST" / "raw", train_n=7)
    write_mnist(tmp_path / "MNIST" / "raw", train_n=9)
    assert len(datasets.FashionMNIST(tmp_path)) == 7 and len(datasets.MNIST(tmp_path)) == 9


def test_shared_mnist_counts():
    root = shared_data("mnist").parent
    train = datasets.MNIST(root, train=True, transform=MNIST_TRANSFORM)
    test = datasets.MNIST(root, train=False)
    assert len(train) == 60_000 and len(test) == 10_000
    counts = np.bincount(train.targets.numpy(), minlength=10)
    assert counts[0] == 5923 and counts.sum() == 60_000
    assert np.bincount(test.targets.numpy())[0] == 980
    x, y = train[0]
    assert x.shape == (1, 28, 28) and y == 5
    assert x[0, 0, 0].item() == pytest.approx((0 - 0.1307) / 0.3081)  # background pixels


# ---- tabular --------------------------------------------------------------------------------


def _write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_dataset_classes_and_features(tmp_path):
    path = _write_csv(tmp_path / "t.csv", "a,b,label,c\n1,2,dog,3\n4,5,cat,6\n7,8,dog,9\n\n")
    ds = datasets.CSVDataset(path, target="label")
    assert ds.feature_names == ["a", "b", "c"] and ds.classes == ["cat", "dog"]
    assert ds.data.dtype == ember.float32 and ds.data.tolist()[1] == [4.0, 5.0, 6.0]
    assert ds.targets.dtype == ember.int64 and ds.targets.tolist() == [1, 0, 1]
    first = datasets.CSVDataset(path, target=2, features=["c", 0], classes="first-seen")
    assert first.classes == ["dog", "cat"] and first.targets.tolist() == [0, 1, 0]
    assert first.data.tolist()[0] == [3.0, 1.0]
    explicit = datasets.CSVDataset(path, target="label", classes=["dog", "cat"])
    assert explicit.class_to_idx == {"dog": 0, "cat": 1}
    x, y = ds[0]
    assert x.tolist() == [1.0, 2.0, 3.0] and y.item() == 1 and y.dtype == ember.int64


def test_csv_dataset_numeric_targets_and_errors(tmp_path):
    ints = datasets.CSVDataset(_write_csv(tmp_path / "i.csv", "x,y\n1,0\n2,1\n"))
    assert ints.targets.dtype == ember.int64 and ints.classes is None
    floats = datasets.CSVDataset(_write_csv(tmp_path / "f.csv", "x,y\n1,0.5\n2,1.5\n"))
    assert floats.targets.dtype == ember.float32
    assert [b[1].dtype for b in DataLoader(floats, batch_size=2)] == [ember.float32]
    with pytest.raises(ValueError, match=r"bad\.csv, line 3, column 'x': 'oops' is not a number"):
        datasets.CSVDataset(_write_csv(tmp_path / "bad.csv", "x,y\n1,0\noops,1\n"))
    with pytest.raises(ValueError, match="line 2: 3 fields, the header has 2"):
        datasets.CSVDataset(_write_csv(tmp_path / "ragged.csv", "x,y\n1,0,5\n"))
    with pytest.raises(KeyError, match="no column 'z'"):
        datasets.CSVDataset(tmp_path / "i.csv", target="z")
    with pytest.raises(ValueError, match=r"labels \['b'\] are not in classes"):
        datasets.CSVDataset(_write_csv(tmp_path / "c.csv", "x,y\n1,a\n2,b\n"), classes=["a"])


def test_train_test_split_standardises_on_training_rows(tmp_path):
    rows = "\n".join(f"{i},{i * i},{'ab'[i % 2]}" for i in range(20))
    ds = datasets.CSVDataset(_write_csv(tmp_path / "s.csv", "u,v,k\n" + rows + "\n"))
    train, test = ds.train_test_split(test_size=0.25, standardize=True, seed=0)
    assert len(train) == 15 and len(test) == 5
    np.testing.assert_allclose(train.data.numpy().mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(train.data.numpy().std(0), 1, atol=1e-6)
    assert train.scaler is test.scaler
    raw_train, raw_test = ds.train_test_split(test_size=0.25, seed=0)  # the same rows, unscaled
    mean, std = raw_train.data.numpy().mean(0), raw_train.data.numpy().std(0)
    np.testing.assert_allclose(test.data.numpy(), (raw_test.data.numpy() - mean) / std, rtol=1e-5, atol=1e-6)
    again, _ = ds.train_test_split(test_size=0.25, standardize=True, seed=0)
    assert again.data.tolist() == train.data.tolist()
    with pytest.raises(ValueError, match="already standardised"):
        datasets.CSVDataset(tmp_path / "s.csv", standardize=True).train_test_split(standardize=True)


def test_train_test_split_function():
    x, y = ember.arange(10), np.arange(10) * 2
    x_train, x_test, y_train, y_test = datasets.train_test_split(x, y, test_size=0.3, seed=1)
    assert len(x_train) == 7 and len(y_test) == 3 and (y_test == x_test.numpy() * 2).all()
    assert sorted(x_train.tolist() + x_test.tolist()) == list(range(10))
    assert datasets.train_test_split([1, 2, 3, 4], test_size=1, shuffle=False) == [[1, 2, 3], [4]]
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        datasets.train_test_split(x, y[:5])


def test_shared_raisin():
    root = shared_data("raisin").parent
    full = datasets.Raisin(root)
    assert len(full) == 900 and full.data.shape == (900, 7) and full.classes == ["Kecimen", "Besni"]
    assert full.targets.tolist()[:1] == [0] and full.targets.numpy().sum() == 450
    assert full.feature_names[0] == "Area" and full.data.tolist()[0][0] == 87524.0
    train = datasets.Raisin(root, train=True, standardize=True)
    test = datasets.Raisin(root, train=False, standardize=True)
    assert len(train) == 720 and len(test) == 180
    np.testing.assert_allclose(train.data.numpy().mean(0), 0, atol=1e-5)
    assert np.abs(test.data.numpy().mean(0)).max() > 1e-4  # fitted on the training rows only
    both = np.concatenate([train.targets.numpy(), test.targets.numpy()])
    assert np.bincount(both).tolist() == [450, 450]


def test_raisin_missing_explains_where_to_put_the_csv(tmp_path):
    with pytest.raises(RuntimeError, match="Put Raisin_Dataset.csv"):
        datasets.Raisin(tmp_path)


# ---- synthetic ------------------------------------------------------------------------------


def test_make_linear_and_regression():
    x, y = datasets.make_linear(seed=0)
    assert x.shape == (1000, 2) and x.dtype == ember.float32
    np.testing.assert_allclose(y.numpy(), np.stack([-x.numpy()[:, 1], x.numpy()[:, 0]], 1))
    x, y = datasets.make_regression(50, noise=0.0, seed=0)
    np.testing.assert_allclose(y.numpy()[:, 0], x.numpy() @ [2.0, -3.4] + 4.2, rtol=1e-5)
    assert y.shape == (50, 1)


def test_make_quadratic_is_the_synth_task():
    (x, y), (xv, yv) = datasets.make_quadratic(seed=0)
    assert x.shape == (60_000, 2) and xv.shape == (10_000, 2) and y.dtype == ember.int64
    q = np.einsum(
        "bi,ij,bj->b", x.numpy().astype(np.float64), [[1, 0.5], [1, 0.2]], x.numpy().astype(np.float64)
    )
    assert ((q > 0.6) == y.numpy().astype(bool)).mean() > 0.999
    train, val = datasets.make_quadratic(100, 10, seed=0, as_dataset=True)
    assert len(train) == 100 and len(val) == 10


@pytest.mark.parametrize("make", [datasets.make_classification, datasets.make_moons, datasets.make_spirals])
def test_classification_generators(make):
    x, y = make(seed=3)
    assert x.shape == (1000, 2) and x.dtype == ember.float32 and y.dtype == ember.int64
    assert np.bincount(y.numpy()).tolist() == [500, 500]
    again, _ = make(seed=3)
    assert again.tolist() == x.tolist()
    ember.manual_seed(4)
    a, _ = make()
    ember.manual_seed(4)
    b, _ = make()
    assert a.tolist() == b.tolist()
    ds = make(10, as_dataset=True)
    assert len(ds) == 10 and len(list(DataLoader(ds, batch_size=4))) == 3
