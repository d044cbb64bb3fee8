"""The convolutions, activations and normalizations that PyTorch also has at its top level
(torch.conv2d, torch.selu, torch.batch_norm, ...), with the signatures they have there;
ember/__init__.py exports them (the pooling and dropout ones are in toplevel.py, the losses
in loss_toplevel.py). Most take the arguments of their ember.nn.functional namesakes; the
normalizations take the weight and bias before the running statistics and end with a cudnn
flag, which means nothing here."""

from __future__ import annotations

from typing import Any

from ember._tensor import Tensor
from ember.nn._functional import activation, layers, normalization
from ember.ops import conv

conv1d = conv.conv1d
conv2d = conv.conv2d
conv3d = conv.conv3d
conv_transpose1d = conv.conv_transpose1d
conv_transpose2d = conv.conv_transpose2d
conv_transpose3d = conv.conv_transpose3d
bilinear = layers.bilinear
celu = activation.celu
selu = activation.selu
prelu = activation.prelu
hardshrink = activation.hardshrink
celu_ = activation.celu_
selu_ = activation.selu_
threshold_ = activation.threshold_


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    return activation.threshold(input, threshold, value)


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    generator: Any = None,
) -> Tensor:
    return activation.rrelu(input, lower, upper, training)


def rrelu_(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    generator: Any = None,
) -> Tensor:
    return activation.rrelu(input, lower, upper, training, inplace=True)


def layer_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
    cudnn_enable: bool = True,
) -> Tensor:
    return normalization.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
    cudnn_enabled: bool = True,
) -> Tensor:
    return normalization.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool = True,
) -> Tensor:
    """torch.batch_norm: the weight and bias come before the running statistics."""
    return normalization.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    use_input_stats: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool = True,
) -> Tensor:
    """torch.instance_norm: the weight and bias come before the running statistics."""
    return normalization.instance_norm(
        input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps
    )
