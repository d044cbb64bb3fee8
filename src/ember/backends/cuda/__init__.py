"""torch.backends.cuda for a CPU-only ember: the switches training scripts flip at the top
(`torch.backends.cuda.matmul.allow_tf32 = True`, `enable_flash_sdp(False)`) run unchanged.

The matmul flags change nothing: ember's products are NumPy's float32 ones. The attention
switches are the ones `nn.attention.sdpa_kernel` sets, as in PyTorch, where both act on one
global set of allowed kernels: turning off the math and flash kernels makes
`scaled_dot_product_attention` raise PyTorch's "no viable backend" error in ember too.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

from ember.backends.cuda import matmul

__all__ = [
    "cudnn_sdp_enabled",
    "enable_cudnn_sdp",
    "enable_flash_sdp",
    "enable_math_sdp",
    "enable_mem_efficient_sdp",
    "flash_sdp_enabled",
    "is_built",
    "math_sdp_enabled",
    "matmul",
    "mem_efficient_sdp_enabled",
    "sdp_kernel",
]


def is_built() -> bool:
    """Always False: ember is not built with CUDA (torch.backends.cuda.is_built)."""
    return False


def _allowed(name: str) -> bool:
    from ember.nn._functional.attention import _BACKENDS, SDPBackend

    return SDPBackend[name] in _BACKENDS.enabled


def _allow(name: str, enabled: bool) -> None:
    from ember.nn._functional.attention import _BACKENDS, SDPBackend

    kernel = SDPBackend[name]
    _BACKENDS.set(_BACKENDS.enabled | {kernel} if enabled else _BACKENDS.enabled - {kernel})


def flash_sdp_enabled() -> bool:
    """Whether scaled_dot_product_attention may use the flash kernel (torch.backends.cuda.flash_sdp_enabled)."""
    return _allowed("FLASH_ATTENTION")


def enable_flash_sdp(enabled: bool) -> None:
    """Allow or forbid the flash kernel (torch.backends.cuda.enable_flash_sdp)."""
    _allow("FLASH_ATTENTION", enabled)


def mem_efficient_sdp_enabled() -> bool:
    """Whether the memory-efficient kernel is allowed (torch.backends.cuda.mem_efficient_sdp_enabled)."""
    return _allowed("EFFICIENT_ATTENTION")


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """Allow or forbid the memory-efficient kernel (torch.backends.cuda.enable_mem_efficient_sdp)."""
    _allow("EFFICIENT_ATTENTION", enabled)


def math_sdp_enabled() -> bool:
    """Whether the math kernel is allowed (torch.backends.cuda.math_sdp_enabled)."""
    return _allowed("MATH")


def enable_math_sdp(enabled: bool) -> None:
    """Allow or forbid the math kernel (torch.backends.cuda.enable_math_sdp)."""
    _allow("MATH", enabled)


def cudnn_sdp_enabled() -> bool:
    """Whether the cuDNN kernel is allowed (torch.backends.cuda.cudnn_sdp_enabled)."""
    return _allowed("CUDNN_ATTENTION")


def enable_cudnn_sdp(enabled: bool) -> None:
    """Allow or forbid the cuDNN kernel (torch.backends.cuda.enable_cudnn_sdp)."""
    _allow("CUDNN_ATTENTION", enabled)


@contextlib.contextmanager
def sdp_kernel(
    enable_flash: bool = True,
    enable_math: bool = True,
    enable_mem_efficient: bool = True,
    enable_cudnn: bool = True,
) -> Iterator[dict]:
    """The kernels allowed inside a block, by flags (torch.backends.cuda.sdp_kernel, which
    PyTorch deprecates for `nn.attention.sdpa_kernel` and warns about); the previous set is
    restored on leaving it."""
    from ember.nn._functional.attention import _BACKENDS

    warnings.warn(
        "`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be "
        "removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with "
        "updated signature.",
        FutureWarning,
        stacklevel=3,
    )
    previous = _BACKENDS.enabled
    for name, enabled in (
        ("FLASH_ATTENTION", enable_flash),
        ("MATH", enable_math),
        ("EFFICIENT_ATTENTION", enable_mem_efficient),
        ("CUDNN_ATTENTION", enable_cudnn),
    ):
        _allow(name, enabled)
    try:
        yield {}
    finally:
        _BACKENDS.set(previous)
