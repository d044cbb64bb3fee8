"""Folding an evaluation-mode BatchNorm into the convolution or linear layer before it
(torch.nn.utils.fuse_conv_bn_eval and friends).

In eval mode BatchNorm is an affine map per channel, y = (x - mean) / sqrt(var + eps) *
gamma + beta, so it composes with the layer before it into one layer: each output
channel's weights are scaled by s = gamma / sqrt(var + eps), and the bias becomes
(b - mean) * s + beta. One layer then does the work of two at inference.
"""

from __future__ import annotations

import copy
from typing import TypeVar

from ember._tensor import Tensor
from ember.creation import ones_like, zeros_like
from ember.nn.modules.conv import _ConvNd
from ember.nn.modules.linear import Linear
from ember.nn.modules.normalization import _BatchNorm
from ember.nn.parameter import Parameter
from ember.ops.api.arith import rsqrt

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]

_ConvT = TypeVar("_ConvT", bound=_ConvNd)
_LinearT = TypeVar("_LinearT", bound=Linear)


def _check_eval(layer: object, bn: _BatchNorm) -> None:
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def fuse_conv_bn_eval(conv: _ConvT, bn: _BatchNorm, transpose: bool = False) -> _ConvT:
    """A new convolution equal to `conv` followed by `bn`, both in eval mode
    (torch.nn.utils.fuse_conv_bn_eval); transpose=True for a ConvTranspose, whose weight
    holds the output channels in its second dim."""
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias, transpose
    )
    return fused


def fuse_conv_bn_weights(
    conv_w: Tensor,
    conv_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor | None,
    bn_b: Tensor | None,
    transpose: bool = False,
) -> tuple[Parameter, Parameter]:
    """The weight and bias of the convolution that equals conv(conv_w, conv_b) then the
    batch norm (bn_rm, bn_rv, bn_eps, bn_w, bn_b) in eval mode, as new Parameters in the
    convolution's dtypes (torch.nn.utils.fuse_conv_bn_weights). A missing bias or affine
    parameter counts as 0 (bias) or 1 (scale)."""
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    if conv_b is None:
        conv_b = zeros_like(bn_rm)
    if bn_w is None:
        bn_w = ones_like(bn_rm)
    if bn_b is None:
        bn_b = zeros_like(bn_rm)
    inv_std = rsqrt(bn_rv + bn_eps)
    # one scale per output channel: dim 0 of a convolution's weight, dim 1 of a transposed one's
    channel_shape = [1, -1] if transpose else [-1, 1]
    scale = (bn_w * inv_std).reshape(channel_shape + [1] * (conv_w.dim() - 2))
    fused_w = (conv_w * scale).to(dtype=weight_dtype)
    fused_b = ((conv_b - bn_rm) * inv_std * bn_w + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w.detach(), conv_w.requires_grad), Parameter(
        fused_b.detach(), conv_b.requires_grad
    )


def fuse_linear_bn_eval(linear: _LinearT, bn: _BatchNorm) -> _LinearT:
    """A new Linear equal to `linear` followed by `bn`, both in eval mode
    (torch.nn.utils.fuse_linear_bn_eval). bn normalises the linear layer's outputs, so its
    num_features is linear.out_features (or 1)."""
    _check_eval(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
            f"got linear.out_features={linear.out_features} and bn.num_features={bn.num_features}"
        )
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    return fused


def fuse_linear_bn_weights(
    linear_w: Tensor,
    linear_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor,
    bn_b: Tensor,
) -> tuple[Parameter, Parameter]:
    """The weight and bias of the Linear that equals linear(linear_w, linear_b) then the
    batch norm in eval mode, as new Parameters (torch.nn.utils.fuse_linear_bn_weights)."""
    weight_dtype = linear_w.dtype
    bias_dtype = linear_b.dtype if linear_b is not None else weight_dtype
    if linear_b is None:
        linear_b = zeros_like(bn_rm)
    scale = bn_w * rsqrt(bn_rv + bn_eps)
    fused_w = linear_w * scale.unsqueeze(-1).to(dtype=weight_dtype)
    fused_b = ((linear_b - bn_rm) * scale + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w.detach(), linear_w.requires_grad), Parameter(
        fused_b.detach(), linear_b.requires_grad
    )
