"""Autocast (torch.autocast, torch.amp.autocast) on a framework without reduced-precision kernels.

In PyTorch, a region under `autocast` runs chosen operations (matrix products, convolutions)
in float16 or bfloat16 to save time and memory on hardware built for it. ember computes with
NumPy, which has bfloat16 only with the package ml_dtypes. With it, a CPU region to bfloat16
computes as PyTorch's (its lists of ops run in bfloat16 and in float32: see
ember/_bfloat16.py, which this module keeps informed through `_sync_bfloat16`). Otherwise
(float16, or no ml_dtypes) ember does not cast: inside an enabled region every operation
computes in the dtype of its inputs, exactly as outside (float32 stays float32), and ember
says so with a warning the first time such a region is entered.

What autocast keeps is its state, because training code reads it: `is_autocast_enabled`,
`get_autocast_dtype`, nesting (`autocast(enabled=False)` inside an enabled region), the
decorator form, and `custom_fwd`/`custom_bwd` for custom autograd Functions. The validation
is PyTorch's: an unknown device type raises, and a dtype the device cannot autocast to warns
and disables the region. Every device but the CPU is absent, so autocast on one of them warns
and disables itself, as PyTorch's CUDA autocast does on a machine without a GPU.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import numpy as np

from ember import dtypes

F = TypeVar("F", bound=Callable[..., Any])

# The device types PyTorch's device strings accept, and those it can autocast on.
_DEVICE_TYPES = (
    "cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, vulkan, "
    "mps, meta, hpu, mtia, privateuseone"
).split(", ")
_AUTOCAST_DEVICES = {"cpu", "cuda", "ipu", "xpu", "maia", "xla", "mps", "hpu", "mtia", "privateuseone"}
# The dtypes a CPU region can autocast to, as PyTorch's (ember casts to bfloat16 only, and
# only with ml_dtypes: otherwise a region computes in its inputs' dtype).
_CPU_DTYPES = (dtypes.bfloat16, dtypes.float16)

# The autocast state of each device type: off, and PyTorch's default dtype, bfloat16 on the
# CPU, XLA, HPU and MAIA and float16 elsewhere. Like the grad mode it is global, not per thread.
_BFLOAT16_DEFAULT = frozenset({"cpu", "xla", "hpu", "maia"})
_enabled: dict[str, bool] = {}
_dtype: dict[str, dtypes.dtype] = {}
_cache_enabled = [True]
_told = [False]  # has the "computes in the inputs' dtype" warning been given?


def _device_type(device_type: Any, fn: str) -> str:
    """The type part of a device string ('cuda:0' -> 'cuda'), with PyTorch's errors."""
    if not isinstance(device_type, str):
        raise TypeError(
            f"{fn}(): argument 'device_type' (position 1) must be str, not {type(device_type).__name__}"
        )
    if not device_type:
        raise RuntimeError("Device string must not be empty")
    name, _, index = device_type.partition(":")
    if name not in _DEVICE_TYPES:
        raise RuntimeError(
            f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: {device_type}"
        )
    if ":" in device_type and not index.isdigit():
        raise RuntimeError(f"Invalid device string: '{device_type}'")
    return name


def is_autocast_available(device_type: str) -> bool:
    """Whether `autocast` accepts this device type (torch.amp.is_autocast_available). As in
    PyTorch this says nothing about whether the device exists: on ember only 'cpu' does, and
    autocast on another type warns and disables itself."""
    return _device_type(device_type, "is_autocast_available") in _AUTOCAST_DEVICES


def _available(device_type: str, fn: str) -> str:
    name = _device_type(device_type, fn)
    if name not in _AUTOCAST_DEVICES:
        raise RuntimeError(f"unknown device type for autocast in {fn}: '{device_type}'")
    return name


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether an enabled autocast region for this device type is active
    (torch.is_autocast_enabled). Without an argument it asks about 'cuda', as PyTorch does,
    so on ember it is then always False. True inside `autocast('cpu')` even though ember
    computes there in the inputs' own dtype (see the module's description)."""
    name = "cuda" if device_type is None else _available(device_type, "is_autocast_enabled")
    return _enabled.get(name, False)


def get_autocast_dtype(device_type: str) -> dtypes.dtype:
    """The dtype autocast on this device type is set to (torch.get_autocast_dtype): bfloat16
    on the CPU, XLA, HPU and MAIA and float16 on other device types, unless a region or
    `set_autocast_dtype` chose another. ember never computes in it: see the module's
    description."""
    name = _available(device_type, "get_autocast_dtype")
    return _dtype.get(name, dtypes.bfloat16 if name in _BFLOAT16_DEFAULT else dtypes.float16)


def set_autocast_enabled(device_type: str, enabled: bool) -> None:
    """Turns autocast for the device type on or off (torch.set_autocast_enabled); prefer
    the `autocast` context manager, which restores the previous state."""
    _enabled[_available(device_type, "set_autocast_enabled")] = bool(enabled)
    _sync_bfloat16()


def set_autocast_dtype(device_type: str, dtype: dtypes.dtype) -> None:
    """Sets the dtype `get_autocast_dtype` reports for the device type (torch.set_autocast_dtype)."""
    _dtype[_available(device_type, "set_autocast_dtype")] = dtype
    _sync_bfloat16()


def _computes_in_bfloat16() -> bool:
    """Whether the CPU's autocast state asks for bfloat16 and ember can compute in it."""
    return (
        _enabled.get("cpu", False)
        and get_autocast_dtype("cpu") is dtypes.bfloat16
        and dtypes.bfloat16_numpy() is not None
    )


def _sync_bfloat16() -> None:
    """Tell ember/_bfloat16.py whether its ops run autocast's bfloat16 casts now (loading it,
    and ml_dtypes, only for a region that computes in bfloat16)."""
    if _computes_in_bfloat16():
        dtypes.enable_bfloat16()
        from ember import _bfloat16

        _bfloat16.autocast[0] = True
    else:
        import sys

        module = sys.modules.get("ember._bfloat16")
        if module is not None:
            module.autocast[0] = False


def is_autocast_cache_enabled() -> bool:
    """Whether autocast would cache casted weights (torch.is_autocast_cache_enabled). ember
    casts nothing, so there is nothing to cache; the flag is kept for code that reads it."""
    return _cache_enabled[0]


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Sets the flag `is_autocast_cache_enabled` reports (torch.set_autocast_cache_enabled)."""
    _cache_enabled[0] = bool(enabled)


def clear_autocast_cache() -> None:
    """Does nothing: ember's autocast keeps no cache (torch.clear_autocast_cache)."""


class autocast:  # noqa: N801 (PyTorch's name)
    """A region, as a context manager or decorator, where PyTorch runs chosen operations in a
    lower precision (torch.autocast, torch.amp.autocast).

    ember keeps the region's state and PyTorch's checks; a CPU region to bfloat16 computes as
    PyTorch's when ml_dtypes is installed, and any other region computes every operation in
    its inputs' own dtype. `dtype` defaults to `get_autocast_dtype(device_type)` (bfloat16 on the
    CPU). On the CPU, a dtype other than bfloat16 and float16 warns and disables the region,
    as in PyTorch; on any other device type the region warns and is
    disabled, since ember has no such device. `cache_enabled` is kept and has no effect.
    """

    def __init__(
        self,
        device_type: str,
        dtype: dtypes.dtype | None = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        name = _device_type(device_type, "autocast")
        if name not in _AUTOCAST_DEVICES:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled and name == "cuda":
            warnings.warn(
                "CUDA is not available (ember runs on the CPU only). Disabling autocast.", stacklevel=2
            )
            enabled = False
        elif enabled and name != "cpu":
            warnings.warn(
                f"{name.upper()} is not available (ember runs on the CPU only). Disabling autocast.",
                stacklevel=2,
            )
            enabled = False
        elif enabled and self.fast_dtype not in _CPU_DTYPES:
            warnings.warn(
                "In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                "CPU Autocast only supports dtypes of ember.bfloat16, ember.float16 currently.",
                stacklevel=2,
            )
            enabled = False
        self._enabled = bool(enabled)
        self._name = name

    def __enter__(self) -> autocast:
        self._prev = (is_autocast_enabled(self._name), get_autocast_dtype(self._name), _cache_enabled[0])
        _enabled[self._name] = self._enabled
        _dtype[self._name] = self.fast_dtype
        _cache_enabled[0] = bool(self._cache_enabled)
        _sync_bfloat16()
        if self._enabled and not _told[0] and not _computes_in_bfloat16():
            _told[0] = True
            reason = (
                "ember computes bfloat16 only with ml_dtypes installed"
                if self.fast_dtype is dtypes.bfloat16
                else "ember's CPU autocast casts to bfloat16 only"
            )
            warnings.warn(
                f"autocast('{self.device}', dtype={self.fast_dtype}): {reason}, so operations in the "
                "region compute in their inputs' own dtype (float32 stays float32); nothing is cast.",
                stacklevel=2,
            )
        return self

    def __exit__(self, *exc: object) -> None:
        _enabled[self._name], _dtype[self._name], _cache_enabled[0] = self._prev
        _sync_bfloat16()

    def __call__(self, func: F) -> F:
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                "Did you mean to use autocast as a context manager? For example:\n"
                "    with torch.autocast(device_type=...):\n"
                "        output = model(input)"
            )
        settings = (self.device, self.fast_dtype, self._enabled, self._cache_enabled)

        @functools.wraps(func)
        def in_autocast(*args: Any, **kwargs: Any) -> Any:
            # a region of its own per call, so that a recursive call nests correctly; its
            # settings passed the checks already, so making it warns of nothing again
            with autocast(*settings):
                return func(*args, **kwargs)

        return in_autocast  # type: ignore[return-value]


def _cast(value: Any, device_type: str, dtype: dtypes.dtype) -> Any:
    """`value` with its floating-point tensors other than float64 converted to `dtype`, into
    lists, tuples, dicts and other iterables (strings and ndarrays are left alone)."""
    from ember._tensor import Tensor

    if isinstance(value, Tensor):
        eligible = value.is_floating_point() and value.dtype is not dtypes.float64
        return value.to(dtype) if eligible and device_type.split(":")[0] == "cpu" else value
    if isinstance(value, (str, bytes, np.ndarray)):
        return value
    if isinstance(value, Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, Iterable):
        cast = (_cast(v, device_type, dtype) for v in value)
        return type(value)(cast) if isinstance(value, (list, tuple)) else cast
    return value


def custom_fwd(
    fwd: Callable[..., Any] | None = None, *, device_type: str, cast_inputs: dtypes.dtype | None = None
) -> Any:
    """Decorates the `forward` of a custom `autograd.Function` for autocast (torch.amp.custom_fwd).

    It records on `ctx` whether autocast was on, for `custom_bwd`. With `cast_inputs`, inside
    an enabled region, `forward` receives its floating-point tensors (float64 excepted)
    converted to that dtype and runs with autocast off, as in PyTorch: this is a real
    conversion, so `cast_inputs=ember.float16` does compute in float16 (NumPy's).
    """
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        ctx._autocast_dtype = get_autocast_dtype(device_type)
        on = is_autocast_enabled(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = on
            return fwd(ctx, *args, **kwargs)
        ctx._fwd_used_autocast = False
        if not on:
            return fwd(ctx, *args, **kwargs)
        with autocast(device_type, enabled=False):
            return fwd(ctx, *_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))

    return forward


def custom_bwd(bwd: Callable[..., Any] | None = None, *, device_type: str) -> Any:
    """Decorates the `backward` of a custom `autograd.Function` so that it runs with the
    autocast state its `forward` (decorated with `custom_fwd`) ran with (torch.amp.custom_bwd)."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def backward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        with autocast(device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._autocast_dtype):
            return bwd(ctx, *args, **kwargs)

    return backward
