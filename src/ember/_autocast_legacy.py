"""PyTorch's older, per-device spellings of the autocast state (`torch.get_autocast_cpu_dtype()`,
`torch.set_autocast_cpu_enabled(True)`, ...), still met in code written before PyTorch 2.4.

PyTorch 2.13 keeps them, each a thin call of the device-type form (`get_autocast_dtype('cpu')`)
that warns with a DeprecationWarning naming the replacement. The "gpu" ones speak of 'cuda'. `autocast_increment_nesting`/`autocast_decrement_nesting` count
how deeply autocast regions are nested, a count PyTorch uses to clear its cast cache when the
outermost region ends (ember keeps no cache: the count is only reported).
"""

from __future__ import annotations

import warnings

from ember import dtypes
from ember.amp.autocast_mode import (
    get_autocast_dtype,
    is_autocast_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)

__all__ = [
    "autocast_decrement_nesting",
    "autocast_increment_nesting",
    "get_autocast_cpu_dtype",
    "get_autocast_gpu_dtype",
    "get_autocast_ipu_dtype",
    "get_autocast_xla_dtype",
    "is_autocast_cpu_enabled",
    "is_autocast_ipu_enabled",
    "is_autocast_xla_enabled",
    "set_autocast_cpu_dtype",
    "set_autocast_cpu_enabled",
    "set_autocast_gpu_dtype",
    "set_autocast_ipu_dtype",
    "set_autocast_ipu_enabled",
    "set_autocast_xla_dtype",
    "set_autocast_xla_enabled",
]

_nesting = [0]


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"torch.{old} is deprecated. Please use torch.{new} instead.", DeprecationWarning, stacklevel=3
    )


def _checked(dtype: object) -> dtypes.dtype:
    if not isinstance(dtype, dtypes.dtype):
        raise TypeError(f"dtype must be a torch.dtype (got {type(dtype).__name__})")
    return dtype


def get_autocast_cpu_dtype() -> dtypes.dtype:
    """The CPU's autocast dtype; deprecated for `get_autocast_dtype('cpu')`."""
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype: dtypes.dtype) -> None:
    """Sets the CPU's autocast dtype; deprecated for `set_autocast_dtype('cpu', dtype)`."""
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", _checked(dtype))


def is_autocast_cpu_enabled() -> bool:
    """Whether CPU autocast is on; deprecated for `is_autocast_enabled('cpu')`."""
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    """Turns CPU autocast on or off; deprecated for `set_autocast_enabled('cpu', enabled)`."""
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_gpu_dtype() -> dtypes.dtype:
    """CUDA's autocast dtype; deprecated for `get_autocast_dtype('cuda')`."""
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype: dtypes.dtype) -> None:
    """Sets CUDA's autocast dtype; deprecated for `set_autocast_dtype('cuda', dtype)`."""
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", _checked(dtype))


def get_autocast_ipu_dtype() -> dtypes.dtype:
    """The IPU's autocast dtype; deprecated for `get_autocast_dtype('ipu')`."""
    _deprecated("get_autocast_ipu_dtype()", "get_autocast_dtype('ipu')")
    return get_autocast_dtype("ipu")


def set_autocast_ipu_dtype(dtype: dtypes.dtype) -> None:
    """Sets the IPU's autocast dtype; deprecated for `set_autocast_dtype('ipu', dtype)`."""
    _deprecated("set_autocast_ipu_dtype(dtype)", "set_autocast_dtype('ipu', dtype)")
    set_autocast_dtype("ipu", _checked(dtype))


def is_autocast_ipu_enabled() -> bool:
    """Whether IPU autocast is on; deprecated for `is_autocast_enabled('ipu')`."""
    _deprecated("is_autocast_ipu_enabled()", "is_autocast_enabled('ipu')")
    return is_autocast_enabled("ipu")


def set_autocast_ipu_enabled(enabled: bool) -> None:
    """Turns IPU autocast on or off; deprecated for `set_autocast_enabled('ipu', enabled)`."""
    _deprecated("set_autocast_ipu_enabled(enabled)", "set_autocast_enabled('ipu', enabled)")
    set_autocast_enabled("ipu", enabled)


def get_autocast_xla_dtype() -> dtypes.dtype:
    """XLA's autocast dtype; deprecated for `get_autocast_dtype('xla')`."""
    _deprecated("get_autocast_xla_dtype()", "get_autocast_dtype('xla')")
    return get_autocast_dtype("xla")


def set_autocast_xla_dtype(dtype: dtypes.dtype) -> None:
    """Sets XLA's autocast dtype; deprecated for `set_autocast_dtype('xla', dtype)`."""
    _deprecated("set_autocast_xla_dtype(dtype)", "set_autocast_dtype('xla', dtype)")
    set_autocast_dtype("xla", _checked(dtype))


def is_autocast_xla_enabled() -> bool:
    """Whether XLA autocast is on; deprecated for `is_autocast_enabled('xla')`."""
    _deprecated("is_autocast_xla_enabled()", "is_autocast_enabled('xla')")
    return is_autocast_enabled("xla")


def set_autocast_xla_enabled(enabled: bool) -> None:
    """Turns XLA autocast on or off; deprecated for `set_autocast_enabled('xla', enabled)`."""
    _deprecated("set_autocast_xla_enabled(enabled)", "set_autocast_enabled('xla', enabled)")
    set_autocast_enabled("xla", enabled)


def autocast_increment_nesting() -> int:
    """One autocast region deeper: returns the new depth."""
    _nesting[0] += 1
    return _nesting[0]


def autocast_decrement_nesting() -> int:
    """One autocast region shallower: returns the new depth (PyTorch lets it go below 0)."""
    _nesting[0] -= 1
    return _nesting[0]
