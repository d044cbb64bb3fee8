"""Fold and Unfold: F.fold and F.unfold as layers (torch.nn.Fold, torch.nn.Unfold). The
arguments are kept as given and checked by the functions at each call, as in PyTorch."""

from __future__ import annotations

from typing import Any

from ember._tensor import Tensor
from ember.nn.module import Module
from ember.ops.im2col import fold, unfold


class Fold(Module):
    """Sum sliding blocks back into an image: (N, C*kh*kw, L) -> (N, C, *output_size)
    (torch.nn.Fold), the inverse movement of Unfold (overlaps add up)."""

    def __init__(
        self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
    ) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


class Unfold(Module):
    """Sliding blocks as columns: (N, C, H, W) -> (N, C*kh*kw, L) (torch.nn.Unfold)."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )
