"""Laying out the weights of convolutions in a memory format
(torch.nn.utils.convert_conv2d_weight_memory_format and the 3-d one).

The values never change, only the order of the weight's elements in memory (see
ember._layout): channels_last puts a kernel's input channels next to each other, the
order of NHWC convolution kernels. The weight stays the same Parameter object, so an
optimizer that holds it keeps working.
"""

from __future__ import annotations

from typing import TypeVar

from ember._layout import memory_format as _MemoryFormat
from ember.nn.module import Module
from ember.nn.modules.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]

_ModuleT = TypeVar("_ModuleT", bound=Module)


def _convert(module: Module, memory_format: _MemoryFormat, kinds: tuple[type, ...]) -> None:
    for layer in module.modules():
        if isinstance(layer, kinds):
            layer.weight.data = layer.weight.detach().clone(memory_format=memory_format)


def convert_conv2d_weight_memory_format(module: _ModuleT, memory_format: _MemoryFormat) -> _ModuleT:
    """Lay out the weight of every Conv2d and ConvTranspose2d in module (itself included)
    in memory_format, e.g. ember.channels_last; returns module
    (torch.nn.utils.convert_conv2d_weight_memory_format)."""
    _convert(module, memory_format, (Conv2d, ConvTranspose2d))
    return module


def convert_conv3d_weight_memory_format(module: _ModuleT, memory_format: _MemoryFormat) -> _ModuleT:
    """Lay out the weight of every Conv3d and ConvTranspose3d in module (itself included)
    in memory_format, e.g. ember.channels_last_3d; returns module
    (torch.nn.utils.convert_conv3d_weight_memory_format)."""
    _convert(module, memory_format, (Conv3d, ConvTranspose3d))
    return module
