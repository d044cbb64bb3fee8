"""AlexNet, in the single-tower form of "One weird trick" (torchvision.models.alexnet)."""

from __future__ import annotations

from typing import Any

from ember._tensor import Tensor
from ember.models._api import check_weights, register_model
from ember.nn.module import Module
from ember.nn.modules.activation import ReLU
from ember.nn.modules.container import Sequential
from ember.nn.modules.conv import Conv2d
from ember.nn.modules.dropout import Dropout
from ember.nn.modules.linear import Linear
from ember.nn.modules.pooling import AdaptiveAvgPool2d, MaxPool2d

__all__ = ["AlexNet", "alexnet"]


class AlexNet(Module):
    """Five convolutions (11 x 11 stride 4, 5 x 5, three 3 x 3) with three max pools, an
    adaptive average pool to 6 x 6 and three linear layers after dropout
    (torchvision.models.AlexNet). The layers keep PyTorch's default initialisation."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = Sequential(
            Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            ReLU(inplace=True),
            MaxPool2d(kernel_size=3, stride=2),
            Conv2d(64, 192, kernel_size=5, padding=2),
            ReLU(inplace=True),
            MaxPool2d(kernel_size=3, stride=2),
            Conv2d(192, 384, kernel_size=3, padding=1),
            ReLU(inplace=True),
            Conv2d(384, 256, kernel_size=3, padding=1),
            ReLU(inplace=True),
            Conv2d(256, 256, kernel_size=3, padding=1),
            ReLU(inplace=True),
            MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = AdaptiveAvgPool2d((6, 6))
        self.classifier = Sequential(
            Dropout(p=dropout),
            Linear(256 * 6 * 6, 4096),
            ReLU(inplace=True),
            Dropout(p=dropout),
            Linear(4096, 4096),
            ReLU(inplace=True),
            Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


@register_model
def alexnet(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> AlexNet:
    """AlexNet (torchvision.models.alexnet); `kwargs` go to AlexNet."""
    check_weights("alexnet", weights, kwargs)
    return AlexNet(**kwargs)
