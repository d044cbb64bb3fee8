"""Automatic mixed precision (torch.amp): `autocast` and `GradScaler`, so that training loops
written for mixed precision run unchanged.

ember has no reduced-precision kernels: inside `autocast` operations compute in their inputs'
own dtype, and the `GradScaler` does PyTorch's bookkeeping (scaling, unscaling, skipping the
steps with inf or NaN gradients, growing and backing off the scale) on float32 gradients.
"""

from ember.amp.autocast_mode import (
    autocast,
    clear_autocast_cache,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_cache_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from ember.amp.grad_scaler import GradScaler

__all__ = [
    "GradScaler",
    "autocast",
    "clear_autocast_cache",
    "custom_bwd",
    "custom_fwd",
    "get_autocast_dtype",
    "is_autocast_available",
    "is_autocast_cache_enabled",
    "is_autocast_enabled",
    "set_autocast_cache_enabled",
    "set_autocast_dtype",
    "set_autocast_enabled",
]
