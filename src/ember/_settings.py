"""Process-wide settings with PyTorch's names: threads, matmul precision, determinism and
the default device.

ember computes with NumPy on the CPU, so most of these have little to change: each call is
checked as PyTorch checks it and its value recorded, so that the matching getter reports
it. Where NumPy has an equivalent it is used: `set_num_threads` limits the BLAS library's
threads through `threadpoolctl` when that is installed. See docs/differences.md.
"""

from __future__ import annotations

import builtins
import os
import warnings
from typing import Any

from ember import _tensor
from ember._tensor import device as _device
from ember._tensor import known_device

_threads: list = [None]  # set_num_threads's value; None until it is called
_interop_threads: list = [None]
_matmul_precision = ["highest"]
_deterministic = [False, False]  # (mode, warn_only)


def _check_thread_count(name: str, n: Any) -> None:
    if not isinstance(n, int) or isinstance(n, builtins.bool):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may run on
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Use n threads for the parallel work within an op (torch.set_num_threads): in ember,
    the BLAS library's matrix products, limited through threadpoolctl when it is installed;
    otherwise the value is only recorded and reported by get_num_threads."""
    _check_thread_count("set_num_threads", n)
    _threads[0] = n
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=n, user_api="blas")


def get_num_threads() -> int:
    """The threads used within an op (torch.get_num_threads): set_num_threads's value, or
    the number of cores this process may use."""
    return _threads[0] if _threads[0] is not None else _cpu_count()


def set_num_interop_threads(n: int) -> None:
    """The threads for running independent ops in parallel (torch.set_num_interop_threads).
    ember runs ops one after another, so the value is only recorded; as in PyTorch, it can
    be set once."""
    _check_thread_count("set_num_interop_threads", n)
    if _interop_threads[0] is not None:
        raise RuntimeError(
            "Error: cannot set number of interop threads after parallel work has started or "
            "set_num_interop_threads called"
        )
    _interop_threads[0] = n


def get_num_interop_threads() -> int:
    return _interop_threads[0] if _interop_threads[0] is not None else _cpu_count()


def set_float32_matmul_precision(precision: str) -> None:
    """'highest', 'high' or 'medium' (torch.set_float32_matmul_precision). PyTorch may then
    use TF32 or bfloat16 internally on GPUs; NumPy's float32 products are always computed in
    float32, so ember records the value only. Another string warns and changes nothing."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in ("highest", "high", "medium"):
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            "set_float32_matmul_precision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _matmul_precision[0] = precision


def get_float32_matmul_precision() -> str:
    return _matmul_precision[0]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms only (torch.use_deterministic_algorithms). Every
    ember op is deterministic already (NumPy on the CPU), so nothing ever warns or raises;
    the setting is recorded for the functions that report it."""
    for name, value in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(value, builtins.bool):
            raise TypeError(
                f"use_deterministic_algorithms(): argument '{name}' must be bool, not {type(value).__name__}"
            )
    _deterministic[:] = [mode, warn_only]


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic[0]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _deterministic[1]


def set_deterministic_debug_mode(debug_mode: int | str) -> None:
    """0 / 'default', 1 / 'warn' or 2 / 'error': use_deterministic_algorithms off, on with
    warn_only, on (torch.set_deterministic_debug_mode)."""
    names = {"default": 0, "warn": 1, "error": 2}
    if isinstance(debug_mode, str):
        if debug_mode not in names:
            raise RuntimeError(
                "invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                f"but got {debug_mode}"
            )
        debug_mode = names[debug_mode]
    elif not isinstance(debug_mode, int) or isinstance(debug_mode, builtins.bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    return 0 if not _deterministic[0] else 1 if _deterministic[1] else 2


def set_default_device(device: Any) -> None:
    """The device factories create tensors on (torch.set_default_device): 'cpu' (or None)
    or 'meta', the devices ember has; another raises ember's device error."""
    _tensor.default_device[0] = _tensor.CPU if device is None else known_device(device)


def get_default_device() -> _device:
    return _tensor.default_device[0]


_warn_always = [False]


def set_warn_always(b: bool) -> None:
    """Whether warnings PyTorch gives once are given every time (torch.set_warn_always);
    recorded and reported: ember's warnings go through Python's warnings module, whose
    filters decide."""
    _warn_always[0] = bool(b)


def is_warn_always_enabled() -> bool:
    return _warn_always[0]


def set_flush_denormal(mode: bool) -> bool:
    """Flush denormal numbers to zero (torch.set_flush_denormal): NumPy gives no such switch,
    so ember cannot, and returns False, as PyTorch does where the CPU does not support it."""
    return False
