"""The pooling and dropout functions that PyTorch also has at its top level (torch.max_pool2d,
torch.dropout, ...), with the signatures they have there; ember/__init__.py exports them.

They differ from their torch.nn.functional namesakes: max pooling has no return_indices
(the *_with_indices names return the indices), torch.adaptive_max_pool1d always returns
(values, indices), and the dropouts take (input, p, train), all three required.
"""

from __future__ import annotations

from typing import Any

from ember._tensor import Tensor
from ember.nn._functional import layers
from ember.ops import pool, resize

# ---- pooling -----------------------------------------------------------------------------------


def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = (),
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> Tensor:
    """1-D max pooling (torch.max_pool1d); stride () means kernel_size."""
    return pool.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d_with_indices(
    input: Tensor,
    kernel_size: Any,
    stride: Any = (),
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> tuple:
    """1-D max pooling's values and indices (torch.max_pool1d_with_indices)."""
    return pool.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = (),
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> Tensor:
    """2-D max pooling (torch.max_pool2d)."""
    return pool.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = (),
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> Tensor:
    """3-D max pooling (torch.max_pool3d)."""
    return pool.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = (),
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling (torch.avg_pool1d)."""
    return pool.avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a given length (torch.adaptive_avg_pool1d)."""
    return resize.adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple:
    """Max pooling to a given length: (values, indices) (torch.adaptive_max_pool1d)."""
    return resize.adaptive_max_pool1d(input, output_size, True)


# ---- dropout -----------------------------------------------------------------------------------


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.dropout: F.dropout(input, p, training=train)."""
    return layers.dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.dropout_: dropout in place."""
    return layers.dropout(input, p, train, inplace=True)


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.feature_dropout: whole channels of (N, C, *) input zeroed."""
    return layers.feature_dropout(input, p, train)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.feature_dropout_: feature_dropout in place."""
    return layers.feature_dropout(input, p, train, inplace=True)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.alpha_dropout: F.alpha_dropout(input, p, training=train)."""
    return layers.alpha_dropout(input, p, train)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.alpha_dropout_: alpha_dropout in place."""
    return layers.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.feature_alpha_dropout: F.feature_alpha_dropout(input, p, training=train)."""
    return layers.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.feature_alpha_dropout_: feature_alpha_dropout in place."""
    return layers.feature_alpha_dropout(input, p, train, inplace=True)
