"""FakeData: random images with random labels, for running a training script without its
data (torchvision.datasets.FakeData; the ImageNet example of pytorch/examples uses it for
`--dummy`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ember.utils.data.dataset import Dataset


class FakeData(Dataset):
    """`size` random images of shape `image_size` (C, H, W) with labels in [0, num_classes)
    (torchvision.datasets.FakeData).

    Item i is the same on every read: it is drawn from a generator seeded with
    `i + random_offset`, which leaves ember's global generator untouched. As torchvision
    hands a PIL image to the transform, the image is a uint8 array as ember's image datasets
    give: H x W for one channel, else H x W x C, so `transforms.ToTensor()` turns it into a
    C x H x W float tensor in [0, 1]. The label is a Python int.
    """

    def __init__(
        self,
        size: int = 1000,
        image_size: Sequence[int] = (3, 224, 224),
        num_classes: int = 10,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        random_offset: int = 0,
    ) -> None:
        if len(image_size) != 3:
            raise ValueError(f"FakeData: image_size must be (C, H, W), got {tuple(image_size)}")
        self.size = size
        self.image_size = tuple(image_size)
        self.num_classes = num_classes
        self.transform = transform
        self.target_transform = target_transform
        self.random_offset = random_offset

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if not -self.size <= index < self.size:
            raise IndexError(f"{type(self).__name__} index out of range")
        index %= self.size
        rng = np.random.Generator(np.random.PCG64(index + self.random_offset))
        channels, height, width = self.image_size
        img: Any = rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)
        if channels == 1:
            img = img[:, :, 0]
        target: Any = int(rng.integers(0, self.num_classes))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        for label, t in (("Transform", self.transform), ("Target transform", self.target_transform)):
            if t is not None:
                body = repr(t).splitlines()
                lines.append(f"    {label}: {body[0]}")
                lines += [" " * (len(label) + 6) + line for line in body[1:]]
        return "\n".join(lines)
