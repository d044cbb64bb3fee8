"""Resizing layers: Upsample, UpsamplingNearest2d, UpsamplingBilinear2d (torch.nn.Upsample, ...)."""

from __future__ import annotations

from typing import Any

from ember._tensor import Tensor
from ember.nn.module import Module
from ember.ops import resize


class Upsample(Module):
    """Resize (N, C, ...) input to `size`, or by `scale_factor`, with F.interpolate's modes (torch.nn.Upsample)."""

    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        # PyTorch keeps the factors as floats: Upsample(scale_factor=2) shows scale_factor=2.0
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return resize.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour resize of (N, C, H, W) input (torch.nn.UpsamplingNearest2d)."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear resize of (N, C, H, W) input with align_corners=True (torch.nn.UpsamplingBilinear2d)."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
