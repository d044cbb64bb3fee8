"""ResNet, ResNeXt and Wide ResNet (torchvision.models.resnet).

A ResNet is a 7 x 7 stem convolution and a max pool, four stages of residual blocks
(`layer1` ... `layer4`, the first block of stages 2-4 halving the resolution), a global
average pool and a linear classifier. Stages are made of `BasicBlock`s (two 3 x 3
convolutions; resnet18/34) or `Bottleneck`s (1 x 1 down, 3 x 3, 1 x 1 up to four times
the width; resnet50 and deeper). When a block changes the shape, its shortcut is a
strided 1 x 1 convolution and a batch norm (`downsample`). ResNeXt splits each
bottleneck's 3 x 3 convolution into groups; Wide ResNet doubles its width.

The modules, their names and order are torchvision's (the stride of a bottleneck is on
its 3 x 3 convolution, "ResNet v1.5"), so torchvision state dicts load with strict=True
and `print(model)` reads the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ember._tensor import Tensor
from ember.models._api import check_weights, fix_argument, register_model
from ember.nn import init
from ember.nn.module import Module
from ember.nn.modules.activation import ReLU
from ember.nn.modules.container import Sequential
from ember.nn.modules.conv import Conv2d
from ember.nn.modules.linear import Linear
from ember.nn.modules.normalization import BatchNorm2d, GroupNorm
from ember.nn.modules.pooling import AdaptiveAvgPool2d, MaxPool2d

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "wide_resnet50_2",
]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1) -> Conv2d:
    """A 3 x 3 convolution without bias, padded to keep the size (at stride 1)."""
    return Conv2d(
        in_planes,
        out_planes,
        kernel_size=3,
        stride=stride,
        padding=dilation,
        groups=groups,
        bias=False,
        dilation=dilation,
    )


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> Conv2d:
    """A 1 x 1 convolution without bias."""
    return Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(Module):
    """Two 3 x 3 convolutions with batch norm and a shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))) + x)."""

    expansion: int = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[..., Module] | None = None,
    ) -> None:
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        norm_layer = BatchNorm2d if norm_layer is None else norm_layer
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class Bottleneck(Module):
    """1 x 1 to `width` channels, a (grouped) 3 x 3 carrying the stride, 1 x 1 up to
    4 * planes, each with batch norm, plus the shortcut; width = planes * base_width / 64 * groups."""

    expansion: int = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[..., Module] | None = None,
    ) -> None:
        super().__init__()
        norm_layer = BatchNorm2d if norm_layer is None else norm_layer
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class ResNet(Module):
    """A residual network (torchvision.models.ResNet): `block` is BasicBlock or Bottleneck,
    `layers` the number of blocks in each of the four stages.

    `zero_init_residual` starts the last batch norm of every block at weight 0, so each
    block begins as the identity. `groups` and `width_per_group` shape the bottlenecks
    (ResNeXt, Wide ResNet); `replace_stride_with_dilation` (three booleans, for stages 2-4)
    keeps the resolution of a stage and dilates its convolutions instead; `norm_layer`
    replaces BatchNorm2d.
    """

    def __init__(
        self,
        block: type[BasicBlock | Bottleneck],
        layers: Sequence[int],
        num_classes: int = 1000,
        zero_init_residual: bool = False,
        groups: int = 1,
        width_per_group: int = 64,
        replace_stride_with_dilation: Sequence[bool] | None = None,
        norm_layer: Callable[..., Module] | None = None,
    ) -> None:
        super().__init__()
        self._norm_layer = BatchNorm2d if norm_layer is None else norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(
                "replace_stride_with_dilation should be None "
                f"or a 3-element tuple, got {replace_stride_with_dilation}"
            )
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = ReLU(inplace=True)
        self.maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(
            block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0]
        )
        self.layer3 = self._make_layer(
            block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1]
        )
        self.layer4 = self._make_layer(
            block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2]
        )
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.fc = Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (BatchNorm2d, GroupNorm)):
                init.constant_(m.weight, 1)
                init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                last_norm = (
                    m.bn3 if isinstance(m, Bottleneck) else m.bn2 if isinstance(m, BasicBlock) else None
                )
                if last_norm is not None and last_norm.weight is not None:
                    init.constant_(last_norm.weight, 0)

    def _make_layer(
        self,
        block: type[BasicBlock | Bottleneck],
        planes: int,
        blocks: int,
        stride: int = 1,
        dilate: bool = False,
    ) -> Sequential:
        """One stage: `blocks` blocks of `planes`; the first one strides (or, with
        `dilate`, raises the dilation instead) and gets a projection shortcut when needed."""
        norm_layer = self._norm_layer
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        out_planes = planes * block.expansion
        if stride != 1 or self.inplanes != out_planes:
            downsample = Sequential(conv1x1(self.inplanes, out_planes, stride), norm_layer(out_planes))
        shape = dict(groups=self.groups, base_width=self.base_width, norm_layer=norm_layer)
        first = block(self.inplanes, planes, stride, downsample, dilation=previous_dilation, **shape)
        self.inplanes = out_planes
        rest = [block(self.inplanes, planes, dilation=self.dilation, **shape) for _ in range(1, blocks)]
        return Sequential(first, *rest)

    def _forward_impl(self, x: Tensor) -> Tensor:
        # torchvision's name for the body of forward, which some subclasses override
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


def _resnet(
    name: str, block: type[BasicBlock | Bottleneck], layers: list[int], weights: Any, kwargs: dict[str, Any]
) -> ResNet:
    check_weights(name, weights, kwargs, stacklevel=4)
    return ResNet(block, layers, **kwargs)


@register_model
def resnet18(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-18: BasicBlocks 2-2-2-2 (torchvision.models.resnet18); `kwargs` go to ResNet."""
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], weights, kwargs)


@register_model
def resnet34(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-34: BasicBlocks 3-4-6-3 (torchvision.models.resnet34); `kwargs` go to ResNet."""
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], weights, kwargs)


@register_model
def resnet50(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-50: Bottlenecks 3-4-6-3 (torchvision.models.resnet50); `kwargs` go to ResNet."""
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], weights, kwargs)


@register_model
def resnet101(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-101: Bottlenecks 3-4-23-3 (torchvision.models.resnet101); `kwargs` go to ResNet."""
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], weights, kwargs)


@register_model
def resnet152(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNet-152: Bottlenecks 3-8-36-3 (torchvision.models.resnet152); `kwargs` go to ResNet."""
    return _resnet("resnet152", Bottleneck, [3, 8, 36, 3], weights, kwargs)


@register_model
def resnext50_32x4d(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """ResNeXt-50 32x4d: ResNet-50 whose 3 x 3 convolutions have 32 groups of 4 channels per
    64 planes (torchvision.models.resnext50_32x4d)."""
    fix_argument(kwargs, "groups", 32)
    fix_argument(kwargs, "width_per_group", 4)
    return _resnet("resnext50_32x4d", Bottleneck, [3, 4, 6, 3], weights, kwargs)


@register_model
def wide_resnet50_2(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:
    """Wide ResNet-50-2: ResNet-50 with bottlenecks twice as wide (torchvision.models.wide_resnet50_2)."""
    fix_argument(kwargs, "width_per_group", 64 * 2)
    return _resnet("wide_resnet50_2", Bottleneck, [3, 4, 6, 3], weights, kwargs)
