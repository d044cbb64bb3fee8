"""CIFAR-10 and CIFAR-100, read from the official binary version (torchvision.datasets.CIFAR10/100).

torchvision reads the Python version, whose batches are pickles: unpickling a file can run
code, so ember reads the binary version (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz)
instead. Each of its files is a sequence of fixed-size records: the label byte(s) (CIFAR-100:
the coarse label, then the fine one), then 3072 pixel bytes, the 32 x 32 red plane, then
green, then blue, each row by row.

As in torchvision, `data` is one uint8 NumPy array N x 32 x 32 x 3 (H x W x C), `targets`
a list of ints (CIFAR-100: the fine labels), and `ds[i]` is `(transform(image), target)`
with the image an H x W x C uint8 array (where torchvision gives a PIL image); ToTensor
turns it into 3 x 32 x 32. With only deterministic transforms, a DataLoader reads whole
batches at once (see MNIST).

Files are looked up in root/cifar-10-batches-bin (root/cifar-100-binary), the archive's
own folder, and in root itself; download=True fetches the archive into root, checks its
md5 and extracts the record files (the archive is kept, as torchvision keeps it).
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ember.datasets._download import default_root, download, md5_of
from ember.datasets.mnist import dataset_repr, image_batch_fetcher
from ember.utils.data.dataset import BatchFetcher, Dataset

_PIXELS = 3 * 32 * 32


class CIFAR10(Dataset):
    """CIFAR-10: 50 000 training and 10 000 test colour images of 32 x 32 in 10 classes.

    `root` defaults to $EMBER_DATA, else ~/.cache/ember. `download=True` fetches
    cifar-10-binary.tar.gz from the dataset's page and checks its md5.
    """

    base_folder = "cifar-10-batches-bin"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    filename = "cifar-10-binary.tar.gz"
    tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    extra_files = ["batches.meta.txt"]
    label_bytes = 1  # the label used is the last of these bytes
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(
        self,
        root: str | Path | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        self.root = str(Path(root).expanduser() if root is not None else default_root())
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        names = self.train_list if train else self.test_list
        paths = [self._find(name) for name in names]
        if any(p is None for p in paths):
            raise RuntimeError(
                f"Dataset not found or corrupted. {self._where_to_put()} Or use download=True to download it."
            )
        images, labels = zip(*(self._read(p) for p in paths))
        self.data = np.concatenate(images)
        self.targets = np.concatenate(labels).astype(np.int64).tolist()
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _search_dirs(self) -> list[Path]:
        return [Path(self.root) / self.base_folder, Path(self.root)]

    def _find(self, name: str) -> Path | None:
        for folder in self._search_dirs():
            if (folder / name).is_file():
                return folder / name
        return None

    def _where_to_put(self) -> str:
        names = ", ".join(self.train_list + self.test_list)
        return (
            f"Put {self.filename} (from {self.url}) in {self.root}, or its files {names} "
            f"in one of: {', '.join(str(d) for d in self._search_dirs())}."
        )

    def _read(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        """The images (N x 32 x 32 x 3) and labels of one file of records."""
        record = self.label_bytes + _PIXELS
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size == 0 or raw.size % record:
            raise RuntimeError(
                f"{path} is corrupt: {raw.size} bytes is not a whole number of {record}-byte records "
                f"({self.label_bytes} label byte(s) and {_PIXELS} pixels). Delete it and download it again."
            )
        rows = raw.reshape(-1, record)
        labels = rows[:, self.label_bytes - 1]
        if labels.max() >= len(self.classes):
            raise RuntimeError(
                f"{path} is corrupt: label {int(labels.max())} for {len(self.classes)} classes. "
                "Delete it and download it again."
            )
        planes = rows[:, self.label_bytes :].reshape(-1, 3, 32, 32)
        return np.ascontiguousarray(planes.transpose(0, 2, 3, 1)), labels

    def _check_integrity(self) -> bool:
        return all(self._find(name) is not None for name in self.train_list + self.test_list)

    def download(self) -> None:
        """Fetch the archive into root unless the files (or the archive) are there, then extract it."""
        if self._check_integrity():
            return
        archive = Path(self.root) / self.filename
        if archive.is_file():
            if md5_of(archive) != self.tgz_md5:
                raise RuntimeError(
                    f"{archive} is corrupt (md5 {md5_of(archive)}, expected {self.tgz_md5}). "
                    "Delete it and download it again."
                )
        else:
            try:
                download([self.url], archive, self.tgz_md5)
            except RuntimeError as e:
                raise RuntimeError(
                    f"{type(self).__name__}: download failed.\n{e}\n"
                    f"Without internet access, download the archive elsewhere. {self._where_to_put()}"
                ) from None
        self._extract(archive)

    def _extract(self, archive: Path) -> None:
        """Extract the record files, and nothing else, into root/base_folder."""
        wanted = {
            f"{self.base_folder}/{name}" for name in self.train_list + self.test_list + self.extra_files
        }
        folder = Path(self.root) / self.base_folder
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name not in wanted or not member.isfile():
                    continue
                source = tar.extractfile(member)
                fd, tmp = tempfile.mkstemp(prefix=".extract.", dir=folder)
                try:
                    with os.fdopen(fd, "wb") as out:
                        while chunk := source.read(1 << 20):
                            out.write(chunk)
                    os.replace(tmp, folder / Path(member.name).name)
                finally:
                    Path(tmp).unlink(missing_ok=True)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = self.data[index].copy()
        target = self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def _batch_fetcher(self) -> BatchFetcher | None:
        targets = np.asarray(self.targets, dtype=np.int64)
        return image_batch_fetcher(self, CIFAR10.__getitem__, self.data, targets)

    def __repr__(self) -> str:
        return dataset_repr(self)


class CIFAR100(CIFAR10):
    """CIFAR-100: CIFAR-10's format with 100 classes; targets are the fine labels (torchvision CIFAR100)."""

    base_folder = "cifar-100-binary"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    filename = "cifar-100-binary.tar.gz"
    tgz_md5 = "03b5dce01913d631647c71ecec9e9cb8"
    train_list = ["train.bin"]
    test_list = ["test.bin"]
    extra_files = ["coarse_label_names.txt", "fine_label_names.txt"]
    label_bytes = 2  # the coarse label, then the fine one
    classes = (
        "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus "
        "butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch "
        "crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo "
        "keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse "
        "mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy "
        "porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper "
        "snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television "
        "tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm"
    ).split()
