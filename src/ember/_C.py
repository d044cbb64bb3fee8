"""The few names of PyTorch's `torch._C` that Python programs use directly: switching
`__torch_function__` off, and the handler with which a Tensor subclass opts out of it
(see ember.overrides)."""

from ember._tensor import _disabled_torch_function_impl
from ember.overrides import DisableTorchFunction, DisableTorchFunctionSubclass, _is_torch_function_enabled

__all__ = [
    "DisableTorchFunction",
    "DisableTorchFunctionSubclass",
    "_disabled_torch_function_impl",
    "_is_torch_function_enabled",
]
