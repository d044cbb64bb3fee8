"""torch.cuda.amp, which PyTorch keeps for old code and deprecates for torch.amp: the same
classes bound to 'cuda', each warning with PyTorch's FutureWarning. There is no CUDA, so the
autocast region and the GradScaler then warn again and disable themselves, as PyTorch's do on
a machine without a GPU: a loop written with them runs in float32 without scaling."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ember import amp, dtypes


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"`torch.cuda.amp.{old}` is deprecated. Please use `torch.amp.{new}` instead.", FutureWarning, 3
    )


class autocast(amp.autocast):  # noqa: N801 (PyTorch's name)
    """`amp.autocast('cuda', ...)` with a FutureWarning (torch.cuda.amp.autocast); disabled on ember."""

    def __init__(
        self, enabled: bool = True, dtype: dtypes.dtype = dtypes.float16, cache_enabled: bool = True
    ) -> None:
        _deprecated("autocast(args...)", "autocast('cuda', args...)")
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    """`amp.GradScaler('cuda', ...)` with a FutureWarning (torch.cuda.amp.GradScaler); disabled
    on ember, so it passes everything through."""

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        _deprecated("GradScaler(args...)", "GradScaler('cuda', args...)")
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


def custom_fwd(fwd: Callable[..., Any] | None = None, *, cast_inputs: dtypes.dtype | None = None) -> Any:
    """`amp.custom_fwd(device_type='cuda')` with a FutureWarning (torch.cuda.amp.custom_fwd)."""
    _deprecated("custom_fwd(args...)", "custom_fwd(args..., device_type='cuda')")
    return amp.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd: Callable[..., Any] | None = None) -> Any:
    """`amp.custom_bwd(device_type='cuda')` with a FutureWarning (torch.cuda.amp.custom_bwd)."""
    _deprecated("custom_bwd(args...)", "custom_bwd(args..., device_type='cuda')")
    return amp.custom_bwd(bwd, device_type="cuda")
