"""Layers shared by several architectures (torchvision.ops.misc)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ember.nn.module import Module
from ember.nn.modules.activation import ReLU
from ember.nn.modules.container import Sequential
from ember.nn.modules.conv import Conv2d
from ember.nn.modules.normalization import BatchNorm2d


class Conv2dNormActivation(Sequential):
    """A convolution, then a normalisation, then an activation, as one Sequential
    (torchvision.ops.Conv2dNormActivation).

    `padding=None` keeps the size at stride 1 ((kernel_size - 1) // 2 * dilation per side);
    `bias=None` gives the convolution a bias only when there is no norm layer. Passing
    None as `norm_layer` or `activation_layer` leaves that layer out; `inplace` goes to the
    activation (None: not passed).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int] = 3,
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | str | None = None,
        groups: int = 1,
        norm_layer: Callable[..., Module] | None = BatchNorm2d,
        activation_layer: Callable[..., Module] | None = ReLU,
        dilation: int | Sequence[int] = 1,
        inplace: bool | None = True,
        bias: bool | None = None,
    ) -> None:
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                dims = len(kernel_size) if not isinstance(kernel_size, int) else len(dilation)  # type: ignore[arg-type]
                sizes = [kernel_size] * dims if isinstance(kernel_size, int) else list(kernel_size)
                dilations = [dilation] * dims if isinstance(dilation, int) else list(dilation)
                padding = tuple((k - 1) // 2 * d for k, d in zip(sizes, dilations))
        if bias is None:
            bias = norm_layer is None
        layers: list[Module] = [
            Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                dilation=dilation,
                groups=groups,
                bias=bias,
            )
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer() if inplace is None else activation_layer(inplace=inplace))
        super().__init__(*layers)
        self.out_channels = out_channels
