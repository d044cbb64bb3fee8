"""torch.cpu.amp, which PyTorch keeps for old code and deprecates for torch.amp: the same
classes bound to 'cpu', each warning with PyTorch's FutureWarning."""

from __future__ import annotations

import warnings

from ember import amp, dtypes


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"`torch.cpu.amp.{old}` is deprecated. Please use `torch.amp.{new}` instead.", FutureWarning, 3
    )


class autocast(amp.autocast):  # noqa: N801 (PyTorch's name)
    """`amp.autocast('cpu', ...)` with a FutureWarning (torch.cpu.amp.autocast). The default
    dtype is bfloat16, as PyTorch's, in which ember computes with ml_dtypes installed (see
    `ember.amp.autocast`)."""

    def __init__(
        self, enabled: bool = True, dtype: dtypes.dtype = dtypes.bfloat16, cache_enabled: bool = True
    ) -> None:
        _deprecated("autocast(args...)", "autocast('cpu', args...)")
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    """`amp.GradScaler('cpu', ...)` with a FutureWarning (torch.cpu.amp.GradScaler)."""

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        _deprecated("GradScaler(args...)", "GradScaler('cpu', args...)")
        super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
