"""VisionDataset, the base of image datasets (torchvision.datasets.VisionDataset).

It holds what every image dataset has: its `root`, the `transform` applied to a sample,
the `target_transform` applied to its label, and `transforms`, one callable taking and
returning the (sample, target) pair. A dataset is given either `transforms` or the two
separate ones; the separate ones are wrapped in a `StandardTransform`. Subclasses
implement `__getitem__` and `__len__`, and may add lines to the repr with `extra_repr`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ember.utils.data.dataset import Dataset


class VisionDataset(Dataset):
    """The base class of image datasets: root, transform, target_transform and transforms
    (torchvision.datasets.VisionDataset).

    A string `root` has `~` expanded; a Path is kept as given. Passing `transforms`
    together with `transform` or `target_transform` is a ValueError.
    """

    _repr_indent = 4

    def __init__(
        self,
        root: str | Path | None = None,
        transforms: Callable | None = None,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        if isinstance(root, str):
            root = os.path.expanduser(root)
        self.root = root
        separate = transform is not None or target_transform is not None
        if transforms is not None and separate:
            raise ValueError("Only transforms or transform/target_transform can be passed as argument")
        self.transform = transform
        self.target_transform = target_transform
        self.transforms = StandardTransform(transform, target_transform) if separate else transforms

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def extra_repr(self) -> str:
        """Lines that a subclass adds to the repr, after the root (e.g. 'Split: Train')."""
        return ""

    def __repr__(self) -> str:
        # torchvision's layout, kept line for line: the repr of `transforms` is indented
        # only on its first line
        body = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if getattr(self, "transforms", None) is not None:
            body.append(repr(self.transforms))
        return "\n".join([f"Dataset {type(self).__name__}"] + [" " * self._repr_indent + b for b in body])


class StandardTransform:
    """The pair transform made of a sample transform and a target transform, either of
    which may be None (torchvision.datasets.vision.StandardTransform)."""

    def __init__(self, transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def __repr__(self) -> str:
        lines = [type(self).__name__]
        for head, t in (("Transform: ", self.transform), ("Target transform: ", self.target_transform)):
            if t is not None:
                first, *rest = repr(t).splitlines()
                lines += [head + first] + [" " * len(head) + line for line in rest]
        return "\n".join(lines)
