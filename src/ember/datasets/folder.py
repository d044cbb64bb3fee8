"""Datasets read from a folder per class: DatasetFolder and ImageFolder (torchvision.datasets.folder).

The layout is `root/<class name>/**/<file>`: every subfolder of root is a class, the
classes are sorted by name and numbered from 0 (`class_to_idx`), and every file under a
class folder (subfolders included, links followed) whose name passes the filter is a
sample `(path, class index)`. Files are listed in sorted order, so the samples, and
therefore the indices, are the same on every machine. A sample is read only when the
dataset is indexed, by `loader(path)`.

Images are decoded by Pillow, an optional dependency: ember imports without it, and
`pil_loader` (ImageFolder's default loader) raises an ImportError saying how to install
it. It returns a PIL image in RGB, as torchvision's does; ember's transforms read PIL
images as arrays of their pixels, so `transforms.ToTensor()` and the augmentations apply.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ember.datasets.vision import VisionDataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename: str, extensions: str | tuple[str, ...]) -> bool:
    """Whether `filename` ends, ignoring case, with `extensions` (one suffix or several)."""
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename: str) -> bool:
    """Whether `filename` has one of the image extensions in IMG_EXTENSIONS."""
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory: str | Path) -> tuple[list[str], dict[str, int]]:
    """The class names (the subfolders of `directory`, sorted) and the index of each.

    Raises FileNotFoundError when `directory` has no subfolder.
    """
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(
    directory: str | Path,
    class_to_idx: dict[str, int] | None = None,
    extensions: str | tuple[str, ...] | None = None,
    is_valid_file: Callable[[str], bool] | None = None,
    allow_empty: bool = False,
) -> list[tuple[str, int]]:
    """The samples `(path, class index)` of the class folders of `directory`.

    Files are chosen either by their extension or by `is_valid_file(path)`: exactly one of
    the two must be given. `class_to_idx` defaults to `find_classes(directory)`. A class
    without any valid file, its folder missing included, is a FileNotFoundError unless
    `allow_empty`, which skips it.
    """
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        suffixes = extensions

        def is_valid_file(path: str) -> bool:
            return has_file_allowed_extension(path, suffixes)

    samples = []
    found = set()
    for name in sorted(class_to_idx):
        index = class_to_idx[name]
        class_dir = os.path.join(directory, name)
        if not os.path.isdir(class_dir):
            continue
        for folder, _, filenames in sorted(os.walk(class_dir, followlinks=True)):
            for filename in sorted(filenames):
                path = os.path.join(folder, filename)
                if is_valid_file(path):
                    samples.append((path, index))
                    found.add(name)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        message = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            listed = extensions if isinstance(extensions, str) else ", ".join(extensions)
            message += f"Supported extensions are: {listed}"
        raise FileNotFoundError(message)
    return samples


class DatasetFolder(VisionDataset):
    """Samples stored as `root/<class>/**/<file>`, read by `loader(path)` (torchvision
    DatasetFolder).

    Attributes: `classes` (sorted names), `class_to_idx`, `samples` (a list of
    `(path, class index)`), `targets` (the class index of each sample) and `extensions`.
    `ds[i]` is `(transform(loader(path)), target_transform(class index))`. Subclasses may
    override `find_classes` and `make_dataset` to read another layout.
    """

    def __init__(
        self,
        root: str | Path,
        loader: Callable[[str], Any],
        extensions: tuple[str, ...] | None = None,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        is_valid_file: Callable[[str], bool] | None = None,
        allow_empty: bool = False,
    ) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(
            self.root,
            class_to_idx=class_to_idx,
            extensions=extensions,
            is_valid_file=is_valid_file,
            allow_empty=allow_empty,
        )
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.samples = samples
        self.targets = [target for _, target in samples]

    @staticmethod
    def make_dataset(
        directory: str | Path,
        class_to_idx: dict[str, int],
        extensions: tuple[str, ...] | None = None,
        is_valid_file: Callable[[str], bool] | None = None,
        allow_empty: bool = False,
    ) -> list[tuple[str, int]]:
        """The samples of `directory` (see the module function `make_dataset`); here
        `class_to_idx` is required."""
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory: str | Path) -> tuple[list[str], dict[str, int]]:
        """The classes of `directory` and their indices (see the module function `find_classes`)."""
        return find_classes(directory)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self) -> int:
        return len(self.samples)


def pil_loader(path: str | Path) -> Any:
    """The image at `path` decoded by Pillow and converted to RGB (a PIL image).

    Raises ImportError, saying how to install Pillow, when it is missing.
    """
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(
            f"Reading the image {path} needs Pillow, which is not installed: run `pip install pillow`, "
            "or pass your own `loader=` (a function from a path to an image, e.g. a uint8 NumPy array)."
        ) from e
    with open(path, "rb") as f:  # closed here: Pillow would otherwise keep the file open
        return Image.open(f).convert("RGB")


def default_loader(path: str | Path) -> Any:
    """The image at `path` as ImageFolder reads it by default: `pil_loader(path)`."""
    return pil_loader(path)


class ImageFolder(DatasetFolder):
    """Images stored as `root/<class>/**/<image file>` (torchvision ImageFolder).

    A DatasetFolder whose files are those with an image extension (IMG_EXTENSIONS), unless
    `is_valid_file` chooses them, and whose default loader decodes them with Pillow into
    RGB PIL images. `imgs` is the same list as `samples`.
    """

    def __init__(
        self,
        root: str | Path,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        loader: Callable[[str], Any] = default_loader,
        is_valid_file: Callable[[str], bool] | None = None,
        allow_empty: bool = False,
    ) -> None:
        super().__init__(
            root,
            loader,
            IMG_EXTENSIONS if is_valid_file is None else None,
            transform=transform,
            target_transform=target_transform,
            is_valid_file=is_valid_file,
            allow_empty=allow_empty,
        )
        self.imgs = self.samples
