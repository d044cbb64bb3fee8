"""Image classification models with torchvision's architectures (torchvision.models).

ResNet (18, 34, 50, 101, 152), ResNeXt-50 32x4d, Wide ResNet-50-2, VGG (11, 13, 16, 19,
with and without batch norm), AlexNet, SqueezeNet 1.0 / 1.1 and MobileNetV2. Each builder
takes torchvision's arguments (`num_classes`, `dropout`, `zero_init_residual`, ...) and
builds the same modules under the same names, so `print(model)` matches torchvision's and
a torchvision state dict loads with `strict=True`. Initial weights are drawn as
torchvision draws them, from ember's generator. There are no pretrained weights: `weights`
must be None.
"""

from ember.models._api import get_model, get_model_builder, list_models
from ember.models.alexnet import AlexNet, alexnet
from ember.models.mobilenetv2 import InvertedResidual, MobileNetV2, mobilenet_v2
from ember.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    wide_resnet50_2,
)
from ember.models.squeezenet import Fire, SqueezeNet, squeezenet1_0, squeezenet1_1
from ember.models.vgg import (
    VGG,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)

__all__ = [
    "AlexNet",
    "BasicBlock",
    "Bottleneck",
    "Fire",
    "InvertedResidual",
    "MobileNetV2",
    "ResNet",
    "SqueezeNet",
    "VGG",
    "alexnet",
    "get_model",
    "get_model_builder",
    "list_models",
    "mobilenet_v2",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "squeezenet1_0",
    "squeezenet1_1",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "wide_resnet50_2",
]
