"""MNIST and Fashion-MNIST, read from the original IDX files (torchvision.datasets.MNIST).

The whole split is decoded once into one uint8 array (`data`, N x 28 x 28) and an int64
array of labels (`targets`). `ds[i]` is `(transform(image), target)` where the image is a
uint8 28 x 28 NumPy array: ember has no PIL, and its ToTensor takes arrays (torchvision
hands PIL images to the transform). With no transform, or the usual deterministic ones
(ToTensor, Normalize, Flatten and a Compose of them) and no target_transform, a DataLoader
with the default collate_fn reads whole batches with one indexing call instead of a loop
over samples; the batches are identical.

Files are looked up, as `name` or `name.gz`, in root/MNIST/raw (torchvision's layout),
root/mnist and root itself; downloads go to root/MNIST/raw, since MNIST and Fashion-MNIST
share file names.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.datasets._download import default_root, download
from ember.transforms import batch_transform
from ember.utils.data.dataset import BatchFetcher, Dataset

_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _corrupt(path: Path, why: str) -> RuntimeError:
    return RuntimeError(f"{path} is corrupt: {why}. Delete it and download it again.")


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) into an array of its dtype and shape.

    The format: two zero bytes, a type code, the number of dimensions, each dimension as a
    big-endian uint32, then the values in C order. The magic number, the dimensions and
    the amount of data are all checked; any mismatch raises RuntimeError naming the file.
    """
    path = Path(path)
    try:
        with (gzip.open if path.name.endswith(".gz") else open)(path, "rb") as f:
            magic = f.read(4)
            if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in _IDX_TYPES or magic[3] == 0:
                raise _corrupt(
                    path, f"bad IDX magic number 0x{magic.hex()} (expected 0x0000, a type code, a rank)"
                )
            ndim = magic[3]
            raw_dims = f.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise _corrupt(path, f"truncated header ({4 + len(raw_dims)} of {4 + 4 * ndim} bytes)")
            dims = struct.unpack(f">{ndim}I", raw_dims)
            dtype = np.dtype(_IDX_TYPES[magic[2]])
            out = np.empty(dims, dtype)
            view, filled = memoryview(out).cast("B"), 0
            while filled < out.nbytes and (n := f.readinto(view[filled:])):
                filled += n
            if filled < out.nbytes:
                shape = " x ".join(map(str, dims))
                raise _corrupt(
                    path,
                    f"truncated: its header announces {shape} values ({out.nbytes} bytes), found {filled} bytes",
                )
            if f.read(1):
                raise _corrupt(
                    path, f"unexpected bytes after the {out.nbytes} bytes of data its header announces"
                )
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        if isinstance(e, FileNotFoundError):
            raise
        raise _corrupt(path, f"cannot be read ({e})") from e
    return out if dtype.isnative else out.astype(dtype.newbyteorder("="))


class MNIST(Dataset):
    """The MNIST digits: 60 000 training and 10 000 test images of 28 x 28 (torchvision MNIST).

    `root` defaults to $EMBER_DATA, else ~/.cache/ember. `download=True` fetches the missing
    files, trying each mirror in turn and checking each file's md5.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    # md5 of the uncompressed content: recompressed copies are accepted too
    resources = {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    }
    content_md5 = True
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]

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
        prefix = "train" if train else "t10k"
        images_path = self._find(f"{prefix}-images-idx3-ubyte")
        labels_path = self._find(f"{prefix}-labels-idx1-ubyte")
        if images_path is None or labels_path is None:
            raise RuntimeError(
                f"Dataset not found. {self._where_to_put()} Or use download=True to download it."
            )
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise RuntimeError(
                f"{images_path} holds {images.dtype} data of shape {images.shape}, not N x H x W uint8 images"
            )
        if labels.ndim != 1 or len(labels) != len(images):
            raise RuntimeError(
                f"{labels_path} holds labels of shape {labels.shape} for {len(images)} images in {images_path}"
            )
        self.data = Tensor(images)
        self.targets = Tensor(labels.astype(np.int64))

    @property
    def raw_folder(self) -> str:
        return str(Path(self.root) / type(self).__name__ / "raw")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def _search_dirs(self) -> list[Path]:
        return [Path(self.raw_folder), Path(self.root) / type(self).__name__.lower(), Path(self.root)]

    def _find(self, name: str) -> Path | None:
        for folder in self._search_dirs():
            for candidate in (folder / name, folder / f"{name}.gz"):
                if candidate.is_file():
                    return candidate
        return None

    def _where_to_put(self) -> str:
        folders = ", ".join(str(d) for d in self._search_dirs())
        files = ", ".join(f"{name}.gz" for name in self.resources)
        return f"Put the files {files} (compressed or not) in one of: {folders}."

    def download(self) -> None:
        """Download the files that are not already present into raw_folder."""
        failures = []
        for name, md5 in self.resources.items():
            if self._find(name) is not None:
                continue
            urls = [f"{mirror}{name}.gz" for mirror in self.mirrors]
            try:
                download(urls, Path(self.raw_folder) / f"{name}.gz", md5, content_md5=self.content_md5)
            except RuntimeError as e:
                failures.append(str(e))
        if failures:
            raise RuntimeError(
                f"{type(self).__name__}: download failed.\n" + "\n".join(failures) + "\n"
                f"Without internet access, download the files elsewhere. {self._where_to_put()}"
            )

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = self.data._data[index].copy()
        target = int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def _batch_fetcher(self) -> BatchFetcher | None:
        return image_batch_fetcher(self, MNIST.__getitem__, self.data._data, self.targets._data)

    def __repr__(self) -> str:
        return dataset_repr(self)


def image_batch_fetcher(
    ds: Any, own_getitem: Callable[..., Any], images: np.ndarray, targets: np.ndarray
) -> BatchFetcher | None:
    """The DataLoader's read of a whole batch of an image dataset at once: its transform
    applied to the batch of images, when the transform can be (`batch_transform`). None,
    for item by item, when a subclass overrides `own_getitem` or there is a target
    transform."""
    if type(ds).__getitem__ is not own_getitem or ds.target_transform is not None:
        return None
    apply = batch_transform(ds.transform)
    if apply is None:
        return None

    def fetch(indices: np.ndarray) -> list[Tensor]:
        x = apply(images[indices])
        return [x if isinstance(x, Tensor) else Tensor(x), Tensor(targets[indices])]

    return fetch


def dataset_repr(ds: Any) -> str:
    """torchvision's dataset repr: name, size, root, split and the transforms."""
    lines = [
        f"Dataset {type(ds).__name__}",
        f"    Number of datapoints: {len(ds)}",
        f"    Root location: {ds.root}",
        f"    Split: {'Train' if ds.train else 'Test'}",
    ]
    for label, t in (("Transform", ds.transform), ("Target transform", ds.target_transform)):
        if t is not None:
            body = repr(t).splitlines()
            lines.append(f"    {label}: {body[0]}")
            lines += [" " * (len(label) + 6) + line for line in body[1:]]
    return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: clothing images in MNIST's format (torchvision FashionMNIST).

    Only the md5 of the published .gz files is known, so that is what is checked.
    """

    mirrors = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ]
    resources = {
        "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    content_md5 = False
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
