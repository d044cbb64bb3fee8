"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and CircularPad in
1-d, 2-d and 3-d forms (torch.nn.ZeroPad2d, ...), each F.pad with its widths and mode.

`padding` is an int (the same width on every side) or the widths themselves, F.pad's
(left, right, top, bottom, front, back) order, kept as given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ember._tensor import Tensor
from ember.nn._functional.layers import pad
from ember.nn.module import Module


def _widths(padding: Any, n: int) -> tuple:
    """An int as n equal widths, a sequence as a tuple of it (its length is F.pad's to check)."""
    return tuple(padding) if isinstance(padding, Iterable) else (padding,) * n


class _PadNd(Module):
    """A fixed F.pad: `_mode` is its mode and `_nd` the number of dimensions it pads."""

    _mode = "constant"
    _nd = 1

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _widths(padding, 2 * self._nd)

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Padding filled with `value`."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ReflectionPadNd(_PadNd):
    """Padding that mirrors the input about its edge element, which is not repeated: each
    width must be less than the size of its dimension."""

    _mode = "reflect"


class _ReplicationPadNd(_PadNd):
    """Padding with copies of the edge element."""

    _mode = "replicate"


class _CircularPadNd(_PadNd):
    """Padding that wraps the input around, as if it were periodic; the input's rank is
    checked here, with PyTorch's ValueError."""

    _mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (self._nd + 1, self._nd + 2):
            raise ValueError(f"expected {self._nd + 1}D or {self._nd + 2}D input (got {input.dim()}D input)")
        return pad(input, self.padding, "circular")


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dimension of (C, W) or (N, C, W) input (torch.nn.ConstantPad1d)."""

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dimensions of (C, H, W) or (N, C, H, W) input (torch.nn.ConstantPad2d)."""

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dimensions of (C, D, H, W) or (N, C, D, H, W) input (torch.nn.ConstantPad3d)."""

    _nd = 3


class ZeroPad1d(ConstantPad1d):
    """Pads the last dimension of (C, W) or (N, C, W) input with zeros (torch.nn.ZeroPad1d)."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pads the last 2 dimensions of (C, H, W) or (N, C, H, W) input with zeros (torch.nn.ZeroPad2d)."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pads the last 3 dimensions of (C, D, H, W) or (N, C, D, H, W) input with zeros (torch.nn.ZeroPad3d)."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ReflectionPadNd):
    """Pads the last dimension of (C, W) or (N, C, W) input (torch.nn.ReflectionPad1d)."""

    _nd = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Pads the last 2 dimensions of (C, H, W) or (N, C, H, W) input (torch.nn.ReflectionPad2d)."""

    _nd = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pads the last 3 dimensions of (C, D, H, W) or (N, C, D, H, W) input (torch.nn.ReflectionPad3d)."""

    _nd = 3


class ReplicationPad1d(_ReplicationPadNd):
    """Pads the last dimension of (C, W) or (N, C, W) input (torch.nn.ReplicationPad1d)."""

    _nd = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Pads the last 2 dimensions of (C, H, W) or (N, C, H, W) input (torch.nn.ReplicationPad2d)."""

    _nd = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Pads the last 3 dimensions of (C, D, H, W) or (N, C, D, H, W) input (torch.nn.ReplicationPad3d)."""

    _nd = 3


class CircularPad1d(_CircularPadNd):
    """Pads the last dimension of (C, W) or (N, C, W) input (torch.nn.CircularPad1d)."""

    _nd = 1


class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dimensions of (C, H, W) or (N, C, H, W) input (torch.nn.CircularPad2d)."""

    _nd = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dimensions of (C, D, H, W) or (N, C, D, H, W) input (torch.nn.CircularPad3d)."""

    _nd = 3
