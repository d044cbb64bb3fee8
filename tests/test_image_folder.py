"""ImageFolder, DatasetFolder, VisionDataset and the folder helpers (torchvision.datasets.folder).

The expected samples, reprs and error messages below are torchvision 0.28's on the same
folder tree, recorded in a scratch run (torchvision is not a test dependency). Tests that
decode images need Pillow, ember's optional image reader, and skip without it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember import transforms as T
from ember.datasets import DatasetFolder, ImageFolder, VisionDataset, folder
from ember.utils.data import DataLoader

# class folder -> files; ".hidden" is a class too, "empty" has no image, notes.txt is no image
LAYOUT = {
    "dog": ["b.png", "a.JPG", "sub/c.png", "notes.txt"],
    "cat": ["z.bmp", "y.ppm"],
    "ant": ["x.png"],
    ".hidden": ["q.png"],
    "empty": [],
}


def _pixels(path: str) -> np.ndarray:
    seed = sum(map(ord, os.path.basename(path)))
    return np.random.default_rng(seed).integers(0, 256, (5, 7, 3), dtype=np.uint8)


@pytest.fixture
def tree(tmp_path):
    image = pytest.importorskip("PIL.Image", reason="Pillow (optional) decodes the images")
    formats = {"png": "PNG", "jpg": "JPEG", "bmp": "BMP", "ppm": "PPM"}
    for cls, files in LAYOUT.items():
        (tmp_path / cls).mkdir()
        for name in files:
            path = tmp_path / cls / name
            path.parent.mkdir(exist_ok=True)
            ext = name.rsplit(".", 1)[1].lower()
            if ext == "txt":
                path.write_text("text")
            else:
                image.fromarray(_pixels(str(path))).save(path, format=formats[ext])
    (tmp_path / "toplevel.png").write_text("not in a class folder")
    return tmp_path


def _relative(samples, root):
    return [(os.path.relpath(p, root), t) for p, t in samples]


def test_image_folder_samples_are_torchvisions(tree):
    ds = ImageFolder(str(tree), allow_empty=True)
    assert ds.classes == [".hidden", "ant", "cat", "dog", "empty"]
    assert ds.class_to_idx == {".hidden": 0, "ant": 1, "cat": 2, "dog": 3, "empty": 4}
    assert _relative(ds.samples, tree) == [
        (".hidden/q.png", 0),
        ("ant/x.png", 1),
        ("cat/y.ppm", 2),
        ("cat/z.bmp", 2),
        ("dog/a.JPG", 3),
        ("dog/b.png", 3),
        ("dog/sub/c.png", 3),
    ]
    assert ds.targets == [0, 1, 2, 2, 3, 3, 3] and ds.imgs is ds.samples
    assert ds.extensions == folder.IMG_EXTENSIONS and len(ds) == 7


def test_items_are_rgb_images_through_the_transforms(tree):
    ds = ImageFolder(tree, allow_empty=True, transform=T.ToTensor(), target_transform=lambda t: t + 10)
    x, y = ds[5]
    assert y == 13 and x.shape == (3, 5, 7) and x.dtype == ember.float32
    expected = _pixels(str(tree / "dog" / "b.png")).transpose(2, 0, 1) / np.float32(255)
    np.testing.assert_array_equal(x.numpy(), expected)
    image, target = ImageFolder(tree, allow_empty=True)[2]  # a PPM file
    assert (type(image).__name__, image.mode, image.size, target) == ("Image", "RGB", (7, 5), 2)
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 3, 5, 7) and yb.tolist() == [10, 11, 12, 12]


def test_empty_class_folder_and_errors_are_torchvisions(tree):
    with pytest.raises(FileNotFoundError) as e:
        ImageFolder(tree)
    assert str(e.value) == (
        "Found no valid file for the classes empty. "
        "Supported extensions are: .jpg, .jpeg, .png, .ppm, .bmp, .pgm, .tif, .tiff, .webp"
    )
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in .*empty."):
        folder.find_classes(tree / "empty")
    both = "Both extensions and is_valid_file cannot be None or not None at the same time"
    with pytest.raises(ValueError, match=both):
        folder.make_dataset(tree)
    with pytest.raises(ValueError, match=both):
        folder.make_dataset(tree, extensions=".png", is_valid_file=len)
    with pytest.raises(ValueError, match="'class_to_index' must have at least one entry"):
        folder.make_dataset(tree, {}, extensions=".png")
    with pytest.raises(FileNotFoundError, match="Supported extensions are: .png, .bmp$"):
        folder.make_dataset(tree, extensions=(".png", ".bmp"))
    with pytest.raises(ValueError, match="The class_to_idx parameter cannot be None."):
        DatasetFolder.make_dataset(tree, None, extensions=".png")


def test_is_valid_file_extensions_and_custom_loader(tree):
    ds = ImageFolder(tree, is_valid_file=lambda p: "a" in os.path.basename(p), allow_empty=True)
    assert _relative(ds.samples, tree) == [("dog/a.JPG", 3)] and ds.extensions is None
    text = DatasetFolder(tree, loader=lambda p: open(p, "rb").read(), extensions=(".txt",), allow_empty=True)
    assert _relative(text.samples, tree) == [("dog/notes.txt", 3)] and text[0] == (b"text", 3)
    assert folder.has_file_allowed_extension("A.PNG", ".png")
    assert folder.has_file_allowed_extension("a.tiff", [".jpg", ".tiff"])
    assert folder.is_image_file("x.webp") and not folder.is_image_file("x.gif")
    samples = folder.make_dataset(str(tree), {"cat": 7, "missing": 1}, extensions="bmp", allow_empty=True)
    assert _relative(samples, tree) == [("cat/z.bmp", 7)]


class _Renamed(DatasetFolder):
    """A subclass reading another layout: every subfolder but "empty", numbered from 100."""

    def find_classes(self, directory):
        names = sorted(n for n in os.listdir(directory) if n not in ("empty", "toplevel.png"))
        return names, {n: 100 + i for i, n in enumerate(names)}


def test_subclass_overrides_find_classes(tree):
    ds = _Renamed(tree, loader=os.path.getsize, extensions=(".png",), allow_empty=True)
    assert ds.class_to_idx == {".hidden": 100, "ant": 101, "cat": 102, "dog": 103}
    assert ds.targets == [100, 101, 103, 103] and ds[0][0] > 0


def test_repr_is_torchvisions(tree):
    transform = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    ds = ImageFolder(str(tree), transform=transform, target_transform=T.ToTensor(), allow_empty=True)
    assert repr(ds) == (
        "Dataset ImageFolder\n"
        "    Number of datapoints: 7\n"
        f"    Root location: {tree}\n"
        "    StandardTransform\n"
        "Transform: Compose(\n"
        "               ToTensor()\n"
        "               Normalize(mean=(0.5,), std=(0.5,))\n"
        "           )\n"
        "Target transform: ToTensor()"
    )
    bare = ImageFolder(str(tree), allow_empty=True)
    assert repr(bare) == f"Dataset ImageFolder\n    Number of datapoints: 7\n    Root location: {tree}"


class _Squares(VisionDataset):
    def __init__(self, n, **kwargs):
        super().__init__("~/squares", **kwargs)
        self.n = n

    def __getitem__(self, i):
        x, y = i * i, i
        return self.transforms(x, y) if self.transforms is not None else (x, y)

    def __len__(self):
        return self.n

    def extra_repr(self):
        return "Split: Train\nKind: squares"


def test_vision_dataset_base():
    ds = _Squares(3, transform=lambda x: x + 1, target_transform=str)
    assert ds.root == os.path.expanduser("~/squares") and ds[2] == (5, "2")
    assert repr(ds).splitlines()[3:6] == ["    Split: Train", "    Kind: squares", "    StandardTransform"]
    paired = _Squares(2, transforms=lambda x, y: (y, x))
    assert paired[1] == (1, 1) and paired.transform is None and paired[0] == (0, 0)
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform can be passed"):
        _Squares(2, transforms=len, transform=len)
    with pytest.raises(NotImplementedError):
        VisionDataset("x")[0]
    assert VisionDataset(None).root is None


def test_loader_without_pillow_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # `from PIL import Image` now fails
    path = tmp_path / "x.png"
    path.write_bytes(b"")
    with pytest.raises(ImportError, match="needs Pillow.*pip install pillow.*loader="):
        folder.default_loader(str(path))


def test_ember_imports_without_pillow():
    code = "import sys; sys.modules['PIL'] = None; import ember; print(ember.datasets.ImageFolder.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ImageFolder"
