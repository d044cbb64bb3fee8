"""VGG 11/13/16/19, with or without batch norm (torchvision.models.vgg).

`features` is a stack of 3 x 3 convolutions (padding 1, each followed by ReLU, and by a
batch norm before it in the `_bn` variants) with a 2 x 2 max pool ("M") after each of five
groups; then an adaptive average pool to 7 x 7 and three linear layers with dropout. The
configurations A, B, D, E are those of the VGG paper (11, 13, 16 and 19 weight layers).
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
from ember.nn.modules.linear import Linear
from ember.nn.modules.normalization import BatchNorm2d
from ember.nn.modules.pooling import AdaptiveAvgPool2d, MaxPool2d

__all__ = [
    "VGG",
    "make_layers",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
]

# output channels of each convolution, "M" for a max pool
cfgs: dict[str, list[str | int]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M"] + [256] * 4 + ["M"] + [512] * 4 + ["M"] + [512] * 4 + ["M"],
}


class VGG(Module):
    """A VGG network around its convolutional `features` (torchvision.models.VGG).

    `init_weights` draws the convolutions He-normal (fan out), the linear layers N(0, 0.01)
    and zeroes the biases; `dropout` is the probability of the classifier's two dropouts.
    """

    def __init__(
        self, features: Module, num_classes: int = 1000, init_weights: bool = True, dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.features = features
        self.avgpool = AdaptiveAvgPool2d((7, 7))
        self.classifier = Sequential(
            Linear(512 * 7 * 7, 4096),
            ReLU(True),
            Dropout(p=dropout),
            Linear(4096, 4096),
            ReLU(True),
            Dropout(p=dropout),
            Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, Conv2d):
                    init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        init.constant_(m.bias, 0)
                elif isinstance(m, BatchNorm2d):
                    init.constant_(m.weight, 1)
                    init.constant_(m.bias, 0)
                elif isinstance(m, Linear):
                    init.normal_(m.weight, 0, 0.01)
                    init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


def make_layers(cfg: list[str | int], batch_norm: bool = False) -> Sequential:
    """The `features` of a VGG from a configuration: channel counts and "M" for max pools."""
    layers: list[Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(Conv2d(in_channels, int(v), kernel_size=3, padding=1))
        if batch_norm:
            layers.append(BatchNorm2d(int(v)))
        layers.append(ReLU(inplace=True))
        in_channels = int(v)
    return Sequential(*layers)


def _vgg(name: str, cfg: str, batch_norm: bool, weights: Any, kwargs: dict[str, Any]) -> VGG:
    check_weights(name, weights, kwargs, stacklevel=4)
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


@register_model
def vgg11(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-11, configuration A (torchvision.models.vgg11); `kwargs` go to VGG."""
    return _vgg("vgg11", "A", False, weights, kwargs)


@register_model
def vgg11_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-11 with batch norm (torchvision.models.vgg11_bn); `kwargs` go to VGG."""
    return _vgg("vgg11_bn", "A", True, weights, kwargs)


@register_model
def vgg13(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-13, configuration B (torchvision.models.vgg13); `kwargs` go to VGG."""
    return _vgg("vgg13", "B", False, weights, kwargs)


@register_model
def vgg13_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-13 with batch norm (torchvision.models.vgg13_bn); `kwargs` go to VGG."""
    return _vgg("vgg13_bn", "B", True, weights, kwargs)


@register_model
def vgg16(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-16, configuration D (torchvision.models.vgg16); `kwargs` go to VGG."""
    return _vgg("vgg16", "D", False, weights, kwargs)


@register_model
def vgg16_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-16 with batch norm (torchvision.models.vgg16_bn); `kwargs` go to VGG."""
    return _vgg("vgg16_bn", "D", True, weights, kwargs)


@register_model
def vgg19(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-19, configuration E (torchvision.models.vgg19); `kwargs` go to VGG."""
    return _vgg("vgg19", "E", False, weights, kwargs)


@register_model
def vgg19_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:
    """VGG-19 with batch norm (torchvision.models.vgg19_bn); `kwargs` go to VGG."""
    return _vgg("vgg19_bn", "E", True, weights, kwargs)
