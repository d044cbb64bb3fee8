"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d (torch.nn.Conv2d, ...)."""

from __future__ import annotations

import math
from typing import Any

from ember import creation
from ember._tensor import Tensor
from ember.nn import init
from ember.nn._functional.layers import pad
from ember.nn.module import Module
from ember.nn.parameter import Parameter
from ember.ops import conv as F

_PADDING_MODES = ("circular", "reflect", "replicate", "zeros")


def _ntuple(value: Any, nd: int) -> tuple:
    """An int repeated nd times; a sequence kept as it is, as PyTorch's layers keep it (a
    kernel_size of the wrong length then fails in the convolution, naming the weight)."""
    if isinstance(value, int):
        return (value,) * nd
    return tuple(value)


class _ConvNd(Module):
    """What every convolution layer shares: arguments, parameters, initialisation, repr."""

    _nd = 2
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        *,
        output_padding: Any = 0,
    ) -> None:
        super().__init__()
        name, nd = type(self).__name__, self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {{{', '.join(map(repr, _PADDING_MODES))}}}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.stride = _ntuple(stride, nd)
        if isinstance(padding, str):
            if self._transposed:
                raise ValueError(f"{name} takes an int or a tuple as padding, not padding='{padding}'")
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding: Any = padding
        else:
            self.padding = _ntuple(padding, nd)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, nd)
        self.dilation = _ntuple(dilation, nd)
        self._reversed_padding_repeated_twice = self._pad_widths()
        self.transposed = self._transposed
        self.output_padding = _ntuple(output_padding, nd)
        self.groups = groups
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _pad_widths(self) -> Any:
        """The padding as F.pad's (left, right) pairs from the last dimension backwards, which
        a padding_mode other than 'zeros' pads the input with; 'same' puts the odd element
        on the right, as the convolution itself does."""
        if not isinstance(self.padding, str):
            return tuple(w for p in reversed(self.padding) for w in (p, p))
        widths = [0, 0] * self._nd
        if self.padding == "same":
            for i, (d, k) in enumerate(zip(reversed(self.dilation), reversed(self.kernel_size))):
                total = d * (k - 1)
                widths[2 * i : 2 * i + 2] = total // 2, total - total // 2
        return widths

    def _padded(self, input: Tensor) -> tuple[Tensor, Any]:
        """The input and the padding to convolve it with. padding_mode 'reflect', 'replicate'
        or 'circular' pads the input here with F.pad, and the convolution then pads nothing,
        as in PyTorch."""
        if self.padding_mode == "zeros":
            return input, self.padding
        return pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), 0

    def reset_parameters(self) -> None:
        """PyTorch's default: weight ~ kaiming_uniform_(a=sqrt(5)), bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        nd = self._nd
        parts = [
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        ]
        if isinstance(self.padding, str) or any(self.padding):
            parts.append(f"padding={self.padding}")
        if self.dilation != (1,) * nd:
            parts.append(f"dilation={self.dilation}")
        if any(self.output_padding):
            parts.append(f"output_padding={self.output_padding}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        if self.bias is None:
            parts.append("bias=False")
        if self.padding_mode != "zeros":
            parts.append(f"padding_mode={self.padding_mode}")
        return ", ".join(parts)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) input; weight (C_out, C_in/groups, k) (torch.nn.Conv1d)."""

    _nd = 1

    def forward(self, input: Tensor) -> Tensor:
        input, padding = self._padded(input)
        return F.conv1d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) input; weight (C_out, C_in/groups, kh, kw) (torch.nn.Conv2d).

    padding: an int, a pair, 'valid' (none) or 'same' (output size = input size, stride 1).
    """

    _nd = 2

    def forward(self, input: Tensor) -> Tensor:
        input, padding = self._padded(input)
        return F.conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) input (torch.nn.Conv3d)."""

    _nd = 3

    def forward(self, input: Tensor) -> Tensor:
        input, padding = self._padded(input)
        return F.conv3d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            output_padding=output_padding,
        )

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple:
        """The output_padding that makes the output `output_size` (which can be ambiguous for stride > 1)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        wanted = tuple(output_size)[-nd:]
        spatial = tuple(input.shape[-nd:])
        smallest = tuple(
            (n - 1) * s - 2 * p + d * (k - 1) + 1
            for n, s, p, d, k in zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size)
        )
        largest = tuple(m + s - 1 for m, s in zip(smallest, self.stride))
        if len(wanted) != nd or any(not lo <= w <= hi for w, lo, hi in zip(wanted, smallest, largest)):
            raise ValueError(
                f"requested an output size of {tuple(output_size)}, but valid sizes range from {list(smallest)} "
                f"to {list(largest)} (for an input of {list(spatial)})"
            )
        return tuple(w - m for w, m in zip(wanted, smallest))


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution; weight (C_in, C_out/groups, k) (torch.nn.ConvTranspose1d)."""

    _nd = 1

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        extra = self._output_padding(input, output_size)
        return F.conv_transpose1d(
            input, self.weight, self.bias, self.stride, self.padding, extra, self.groups, self.dilation
        )


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution ("deconvolution"); weight (C_in, C_out/groups, kh, kw) (torch.nn.ConvTranspose2d).

    forward(input, output_size) picks the output_padding that gives that size.
    """

    _nd = 2

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        extra = self._output_padding(input, output_size)
        return F.conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding, extra, self.groups, self.dilation
        )


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over (N, C_in, D, H, W) input; weight (C_in, C_out/groups, kd, kh, kw)
    (torch.nn.ConvTranspose3d)."""

    _nd = 3

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        extra = self._output_padding(input, output_size)
        return F.conv_transpose3d(
            input, self.weight, self.bias, self.stride, self.padding, extra, self.groups, self.dilation
        )
