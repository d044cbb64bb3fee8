"""CIFAR-10 / CIFAR-100 from small synthetic files in the official binary format."""

from __future__ import annotations

import hashlib
import io
import tarfile
import urllib.error

import numpy as np
import pytest

import ember
from ember import transforms as T
from ember.datasets import CIFAR10, CIFAR100, _download
from ember.utils.data import DataLoader


def _records(n: int, label_bytes: int, seed: int, classes: int = 10) -> tuple[bytes, np.ndarray, np.ndarray]:
    """n records: label byte(s), then the R, G and B planes; returns the bytes, HWC images, labels."""
    rng = np.random.default_rng(seed)
    planes = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, classes, (n, label_bytes), dtype=np.uint8)
    raw = np.concatenate([labels, planes.reshape(n, -1)], axis=1).tobytes()
    return raw, planes.transpose(0, 2, 3, 1), labels[:, -1].astype(np.int64)


def _write_cifar10(folder, counts=(2, 1, 3, 1, 2), test=3):
    folder.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = [], []
    for i, n in enumerate(counts, start=1):
        raw, images, labels = _records(n, 1, seed=i)
        (folder / f"data_batch_{i}.bin").write_bytes(raw)
        train_images.append(images)
        train_labels.append(labels)
    raw, test_images, test_labels = _records(test, 1, seed=99)
    (folder / "test_batch.bin").write_bytes(raw)
    return np.concatenate(train_images), np.concatenate(train_labels), test_images, test_labels


def test_cifar10_reads_binary_records(tmp_path):
    images, labels, test_images, test_labels = _write_cifar10(tmp_path / "cifar-10-batches-bin")
    ds = CIFAR10(tmp_path, train=True)
    assert len(ds) == 9 and ds.data.shape == (9, 32, 32, 3) and ds.data.dtype == np.uint8
    assert np.array_equal(ds.data, images) and ds.targets == labels.tolist()
    assert isinstance(ds.targets, list) and isinstance(ds.targets[0], int)
    img, target = ds[4]
    assert isinstance(img, np.ndarray) and img.shape == (32, 32, 3) and target == labels[4]
    test = CIFAR10(str(tmp_path), train=False)
    assert np.array_equal(test.data, test_images) and test.targets == test_labels.tolist()
    assert ds.classes[:3] == ["airplane", "automobile", "bird"] and len(ds.classes) == 10
    assert ds.class_to_idx["truck"] == 9


def test_cifar10_pixel_layout(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    _write_cifar10(folder)
    record = np.zeros(3073, np.uint8)
    record[0] = 7
    record[1 + 0 * 1024 + 1 * 32 + 2] = 10  # red at row 1, column 2
    record[1 + 1 * 1024 + 5] = 20  # green at row 0, column 5
    record[1 + 2 * 1024 + 31 * 32 + 31] = 30  # blue at the last pixel
    (folder / "test_batch.bin").write_bytes(record.tobytes())
    ds = CIFAR10(tmp_path, train=False, transform=T.ToTensor())
    img, target = ds[0]
    assert target == 7 and img.shape == (3, 32, 32)
    assert ds.data[0, 1, 2, 0] == 10 and ds.data[0, 0, 5, 1] == 20 and ds.data[0, 31, 31, 2] == 30
    assert float(img[0, 1, 2]) == pytest.approx(10 / 255) and float(img[2, 31, 31]) == pytest.approx(30 / 255)


def test_cifar10_files_in_root_and_transforms(tmp_path):
    _write_cifar10(tmp_path)  # directly in root
    ds = CIFAR10(tmp_path, transform=T.Compose([T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)]))
    x, _ = ds[0]
    assert x.shape == (3, 32, 32) and float(x.min()) >= -1 and float(x.max()) <= 1
    ds.target_transform = lambda t: t + 100
    assert ds[0][1] == ds.targets[0] + 100
    text = repr(CIFAR10(tmp_path, transform=T.ToTensor()))
    assert text.startswith("Dataset CIFAR10\n    Number of datapoints: 9\n    Root location: ")
    assert "Split: Train" in text and "Transform: ToTensor()" in text


@pytest.mark.parametrize("transform", [None, T.Compose([T.ToTensor(), T.Normalize((0.5,) * 3, (0.2,) * 3)])])
def test_cifar10_batch_path_equals_per_sample_path(tmp_path, transform):
    _write_cifar10(tmp_path / "cifar-10-batches-bin")
    ds = CIFAR10(tmp_path, transform=transform)
    assert ds._batch_fetcher() is not None
    batches = list(DataLoader(ds, batch_size=4))
    x, y = batches[0]
    expected = [ds[i] for i in range(4)]
    if transform is None:
        assert np.array_equal(x.numpy(), ds.data[:4])
    else:
        assert np.array_equal(x.numpy(), np.stack([e[0].numpy() for e in expected]))
    assert y.dtype == ember.int64 and y.tolist() == [e[1] for e in expected]
    augmented = CIFAR10(tmp_path, transform=T.Compose([T.RandomCrop(32, padding=4), T.ToTensor()]))
    assert augmented._batch_fetcher() is None and next(iter(DataLoader(augmented, batch_size=3)))[
        0
    ].shape == (
        3,
        3,
        32,
        32,
    )


def test_cifar100_fine_labels_and_classes(tmp_path):
    folder = tmp_path / "cifar-100-binary"
    folder.mkdir()
    raw, images, fine = _records(5, 2, seed=1, classes=100)
    (folder / "train.bin").write_bytes(raw)
    raw_test, _, test_fine = _records(2, 2, seed=2, classes=100)
    (folder / "test.bin").write_bytes(raw_test)
    ds = CIFAR100(tmp_path)
    assert np.array_equal(ds.data, images) and ds.targets == fine.tolist()
    assert CIFAR100(tmp_path, train=False).targets == test_fine.tolist()
    assert len(ds.classes) == 100 and ds.classes == sorted(ds.classes) and len(set(ds.classes)) == 100
    assert ds.classes[0] == "apple" and ds.classes[-1] == "worm" and ds.class_to_idx["lion"] == 43


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(
        RuntimeError, match="Dataset not found or corrupted.*cifar-10-binary.tar.gz.*download=True"
    ):
        CIFAR10(tmp_path)
    folder = tmp_path / "cifar-10-batches-bin"
    _write_cifar10(folder)
    (folder / "data_batch_3.bin").write_bytes(b"\0" * 3000)
    with pytest.raises(RuntimeError, match="data_batch_3.bin is corrupt: 3000 bytes is not a whole number"):
        CIFAR10(tmp_path)
    bad = np.zeros(3073, np.uint8)
    bad[0] = 12
    (folder / "test_batch.bin").write_bytes(bad.tobytes())
    with pytest.raises(RuntimeError, match="label 12 for 10 classes"):
        CIFAR10(tmp_path, train=False)


def _archive(tmp_path) -> bytes:
    source = tmp_path / "src" / "cifar-10-batches-bin"
    _write_cifar10(source)
    (source / "batches.meta.txt").write_text("airplane\n")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(source, arcname="cifar-10-batches-bin")
        info = tarfile.TarInfo("../escape.bin")  # members outside the expected ones are never written
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    return buffer.getvalue()


def test_download_fetches_checks_and_extracts(tmp_path, monkeypatch):
    data = _archive(tmp_path)
    urls = []

    def fake_fetch(url, dest, timeout):
        urls.append(url)
        dest.write_bytes(data)

    monkeypatch.setattr(_download, "_fetch", fake_fetch)
    monkeypatch.setattr(CIFAR10, "tgz_md5", hashlib.md5(data).hexdigest())
    root = tmp_path / "root"
    ds = CIFAR10(root, download=True)
    assert urls == ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"] and len(ds) == 9
    assert sorted(p.name for p in (root / "cifar-10-batches-bin").iterdir()) == sorted(
        [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin", "batches.meta.txt"]
    )
    assert not (tmp_path / "escape.bin").exists() and (root / "cifar-10-binary.tar.gz").is_file()
    CIFAR10(root, train=False, download=True)  # present: nothing fetched again
    assert len(urls) == 1


def test_download_errors(tmp_path, monkeypatch):
    def offline(url, dest, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(_download, "_fetch", offline)
    with pytest.raises(
        RuntimeError, match="(?s)CIFAR100: download failed.*no network.*Without internet access"
    ):
        CIFAR100(tmp_path / "r", download=True)
    assert not (tmp_path / "r").exists()
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(b"not the archive")
    with pytest.raises(RuntimeError, match="cifar-10-binary.tar.gz is corrupt \\(md5"):
        CIFAR10(tmp_path, download=True)
