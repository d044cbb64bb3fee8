"""Pooling layers: MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d,
AdaptiveMaxPool1d/2d/3d, MaxUnpool1d/2d/3d and LPPool1d/2d/3d (torch.nn.MaxPool2d, ...).

Each family shares one base class; a layer of it names only its function (`_pool`)."""

from __future__ import annotations

from typing import Any

from ember._tensor import Tensor
from ember.nn._functional import fractional_pool
from ember.nn._functional import pooling as pooling_functions
from ember.nn.module import Module
from ember.ops import pool, resize


class _MaxPoolNd(Module):
    _pool: Any  # pool.max_pool1d, 2d or 3d, as a staticmethod

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        return self._pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """Maximum over sliding windows of (N, C, L) input (torch.nn.MaxPool1d)."""

    _pool = staticmethod(pool.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Maximum over sliding windows of (N, C, H, W) input; stride defaults to kernel_size (torch.nn.MaxPool2d)."""

    _pool = staticmethod(pool.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Maximum over sliding windows of (N, C, D, H, W) input; stride defaults to kernel_size (torch.nn.MaxPool3d)."""

    _pool = staticmethod(pool.max_pool3d)


class _AvgPoolNd(Module):
    """Shared by AvgPool1d/2d/3d: PyTorch's repr."""

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over sliding windows of (N, C, L) input (torch.nn.AvgPool1d)."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        single = lambda v: (v,) if isinstance(v, int) else tuple(v)  # noqa: E731  (PyTorch stores 1-tuples)
        self.kernel_size = single(kernel_size)
        self.stride = single(stride if stride is not None else kernel_size)
        self.padding = single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return pool.avg_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )


class _DivisorAvgPoolNd(_AvgPoolNd):
    """Shared by AvgPool2d/3d, which also take divisor_override."""

    _pool: Any

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return self._pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class AvgPool2d(_DivisorAvgPoolNd):
    """Mean over sliding windows of (N, C, H, W) input; stride defaults to kernel_size (torch.nn.AvgPool2d)."""

    _pool = staticmethod(pool.avg_pool2d)


class AvgPool3d(_DivisorAvgPoolNd):
    """Mean over sliding windows of (N, C, D, H, W) input; stride defaults to kernel_size (torch.nn.AvgPool3d)."""

    _pool = staticmethod(pool.avg_pool3d)


class _AdaptiveAvgPoolNd(Module):
    _pool: Any

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return self._pool(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, L) input to a fixed length (torch.nn.AdaptiveAvgPool1d)."""

    _pool = staticmethod(resize.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, H, W) input to a fixed (H_out, W_out); None keeps a size (torch.nn.AdaptiveAvgPool2d)."""

    _pool = staticmethod(resize.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, D, H, W) input to a fixed (D_out, H_out, W_out); None keeps a
    size (torch.nn.AdaptiveAvgPool3d)."""

    _pool = staticmethod(resize.adaptive_avg_pool3d)


class _AdaptiveMaxPoolNd(Module):
    _pool: Any

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return self._pool(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, L) input to a fixed length (torch.nn.AdaptiveMaxPool1d)."""

    _pool = staticmethod(resize.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, H, W) input to a fixed (H_out, W_out); None keeps a size (torch.nn.AdaptiveMaxPool2d)."""

    _pool = staticmethod(resize.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, D, H, W) input to a fixed (D_out, H_out, W_out); None keeps a size
    (torch.nn.AdaptiveMaxPool3d)."""

    _pool = staticmethod(resize.adaptive_max_pool3d)


class _MaxUnpoolNd(Module):
    """Shared by MaxUnpool1d/2d/3d: kernel_size, stride and padding kept as nd-tuples, as PyTorch."""

    _nd = 0
    _unpool: Any

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = pool.kernel_stride_padding(
            type(self).__name__, self._nd, kernel_size, stride, padding
        )

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return self._unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d: each value put back where its maximum was, zeros
    elsewhere; forward(input, indices, output_size=None) (torch.nn.MaxUnpool1d)."""

    _nd = 1
    _unpool = staticmethod(pooling_functions.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d (torch.nn.MaxUnpool2d)."""

    _nd = 2
    _unpool = staticmethod(pooling_functions.max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d (torch.nn.MaxUnpool3d)."""

    _nd = 3
    _unpool = staticmethod(pooling_functions.max_unpool3d)


class _LPPoolNd(Module):
    """Shared by LPPool1d/2d/3d: the p-norm of each window, (sum of x^p)^(1/p)."""

    _pool: Any

    def __init__(
        self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False
    ) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return self._pool(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """Power-average pooling of (N, C, L) input (torch.nn.LPPool1d)."""

    _pool = staticmethod(pooling_functions.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average pooling of (N, C, H, W) input (torch.nn.LPPool2d)."""

    _pool = staticmethod(pooling_functions.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """Power-average pooling of (N, C, D, H, W) input (torch.nn.LPPool3d)."""

    _pool = staticmethod(pooling_functions.lp_pool3d)


class _FractionalMaxPoolNd(Module):
    """Shared by FractionalMaxPool2d/3d: the arguments, checked as PyTorch checks them."""

    _nd = 2

    def __init__(
        self,
        kernel_size: Any,
        output_size: Any = None,
        output_ratio: Any = None,
        return_indices: bool = False,
        _random_samples: Tensor | None = None,
    ) -> None:
        super().__init__()
        nd, name = self._nd, type(self).__name__
        self.kernel_size = fractional_pool._tuple(kernel_size, nd)
        self.return_indices = return_indices
        # fixed samples (N, C, nd) make the pooling windows the same on every call
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = fractional_pool._tuple(output_size, nd) if output_size is not None else None
        self.output_ratio = fractional_pool._tuple(output_ratio, nd) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max pooling over pseudo-random windows that shrinks (N, C, H, W) input to output_size,
    or output_ratio of its size, which need not divide it (torch.nn.FractionalMaxPool2d)."""

    _nd = 2

    def forward(self, input: Tensor) -> Any:
        return fractional_pool.fractional_max_pool2d(
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            self.return_indices,
            self._random_samples,
        )


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """FractionalMaxPool2d for (N, C, D, H, W) input (torch.nn.FractionalMaxPool3d)."""

    _nd = 3

    def forward(self, input: Tensor) -> Any:
        return fractional_pool.fractional_max_pool3d(
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            self.return_indices,
            self._random_samples,
        )
