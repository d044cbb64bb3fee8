"""SqueezeNet 1.0 and 1.1 (torchvision.models.squeezenet).

Built from Fire modules: a 1 x 1 "squeeze" convolution to few channels, then 1 x 1 and
3 x 3 "expand" convolutions side by side, concatenated along the channels. The classifier
is a 1 x 1 convolution to `num_classes` channels averaged over the image, with no linear
layer. Version 1.1 has a smaller first convolution and pools earlier: about 2.4 times
less computation for the same accuracy.
"""

from __future__ import annotations

from typing import Any

from ember._tensor import Tensor
from ember.models._api import check_weights, register_model
from ember.nn import init
from ember.nn.module import Module
from ember.nn.modules.activation import ReLU
from ember.nn.modules.container import Sequential
from ember.nn.modules.conv import Conv2d
from ember.nn.modules.dropout import Dropout
from ember.nn.modules.pooling import AdaptiveAvgPool2d, MaxPool2d
from ember.ops.api.shape import cat

__all__ = ["Fire", "SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


class Fire(Module):
    """Squeeze to `squeeze_planes` (1 x 1), then expand by a 1 x 1 and a 3 x 3 convolution
    whose outputs are concatenated: expand1x1_planes + expand3x3_planes channels."""

    def __init__(
        self, inplanes: int, squeeze_planes: int, expand1x1_planes: int, expand3x3_planes: int
    ) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = ReLU(inplace=True)
        self.expand1x1 = Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = ReLU(inplace=True)
        self.expand3x3 = Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        wide = self.expand1x1_activation(self.expand1x1(x))
        tall = self.expand3x3_activation(self.expand3x3(x))
        return cat([wide, tall], 1)


class SqueezeNet(Module):
    """SqueezeNet (torchvision.models.SqueezeNet): `version` "1_0" or "1_1".

    The convolutions are drawn He-uniform, except the final one, N(0, 0.01); biases start at 0.
    """

    def __init__(self, version: str = "1_0", num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes = num_classes
        pool = lambda: MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
        if version == "1_0":
            self.features = Sequential(
                Conv2d(3, 96, kernel_size=7, stride=2),
                ReLU(inplace=True),
                pool(),
                Fire(96, 16, 64, 64),
                Fire(128, 16, 64, 64),
                Fire(128, 32, 128, 128),
                pool(),
                Fire(256, 32, 128, 128),
                Fire(256, 48, 192, 192),
                Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                pool(),
                Fire(512, 64, 256, 256),
            )
        elif version == "1_1":
            self.features = Sequential(
                Conv2d(3, 64, kernel_size=3, stride=2),
                ReLU(inplace=True),
                pool(),
                Fire(64, 16, 64, 64),
                Fire(128, 16, 64, 64),
                pool(),
                Fire(128, 32, 128, 128),
                Fire(256, 32, 128, 128),
                pool(),
                Fire(256, 48, 192, 192),
                Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256),
            )
        else:
            raise ValueError(f"Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected")
        final_conv = Conv2d(512, num_classes, kernel_size=1)
        self.classifier = Sequential(
            Dropout(p=dropout), final_conv, ReLU(inplace=True), AdaptiveAvgPool2d((1, 1))
        )
        for m in self.modules():
            if isinstance(m, Conv2d):
                if m is final_conv:
                    init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x)).flatten(1)


def _squeezenet(name: str, version: str, weights: Any, kwargs: dict[str, Any]) -> SqueezeNet:
    check_weights(name, weights, kwargs, stacklevel=4)
    return SqueezeNet(version, **kwargs)


@register_model
def squeezenet1_0(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> SqueezeNet:
    """SqueezeNet 1.0 (torchvision.models.squeezenet1_0); `kwargs` go to SqueezeNet."""
    return _squeezenet("squeezenet1_0", "1_0", weights, kwargs)


@register_model
def squeezenet1_1(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> SqueezeNet:
    """SqueezeNet 1.1 (torchvision.models.squeezenet1_1); `kwargs` go to SqueezeNet."""
    return _squeezenet("squeezenet1_1", "1_1", weights, kwargs)
