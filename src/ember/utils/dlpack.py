"""DLPack, the zero-copy exchange of arrays between libraries (torch.utils.dlpack):
`ember.from_dlpack(x)` views a PyTorch tensor, a NumPy array or a JAX array's memory as an
ember Tensor, and `np.from_dlpack(t)` or `torch.from_dlpack(t)` views an ember Tensor's.

    t = torch.arange(4.0)
    e = ember.from_dlpack(t)    # the same memory: t[0] = 9 shows in e
    back = torch.from_dlpack(e)

Only CPU memory is exchanged. As in PyTorch, `t.__dlpack__()` (and so np.from_dlpack and
torch.from_dlpack of t) refuses a tensor that requires grad, whose graph could not follow
it: detach() it first; `to_dlpack(t)` exports its data.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from ember._tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]


class _Capsule:
    """A bare DLPack capsule (what to_dlpack returns) dressed as an exporter for NumPy."""

    def __init__(self, capsule: Any) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)  # kDLCPU


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A Tensor on the memory of `ext_tensor`: any object with __dlpack__ (a PyTorch, NumPy
    or JAX array on the CPU) or a DLPack capsule (torch.from_dlpack)."""
    if hasattr(ext_tensor, "__dlpack__"):
        if hasattr(ext_tensor, "__dlpack_device__"):
            ext_tensor.__dlpack_device__()  # asked first, as PyTorch does: a meta tensor raises here
        return Tensor(np.from_dlpack(ext_tensor))
    versioned = _is_capsule(ext_tensor, b"dltensor_versioned")  # before NumPy renames it "used_..."
    array = np.from_dlpack(_Capsule(ext_tensor))
    # a versioned capsule (to_dlpack's) says itself whether its memory may be written
    return Tensor(array if versioned else np.asarray(_Writable(array)))


_is_capsule = ctypes.pythonapi.PyCapsule_IsValid
_is_capsule.argtypes, _is_capsule.restype = (ctypes.py_object, ctypes.c_char_p), ctypes.c_int


class _Writable:
    """An unversioned capsule's array made writable. DLPack's unversioned kind (torch's
    to_dlpack gives one) has no read-only flag, so NumPy marks its array read-only; a
    producer never exports read-only memory that way (NumPy refuses to), and PyTorch writes
    through such a tensor: this view of the same memory does too, keeping the array (and so
    the capsule's memory) alive as its base. A versioned capsule carries the flag, which is
    kept: a tensor on read-only memory (np.frombuffer of bytes) stays read-only."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        interface = dict(array.__array_interface__)
        interface["data"] = (interface["data"][0], False)  # (address, read-only)
        self.__array_interface__ = interface


def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule of the tensor's memory (torch.utils.dlpack.to_dlpack). A versioned
    (DLPack 1.0) capsule, which says whether the memory may be written: NumPy, and so
    from_dlpack, takes the memory of an unversioned one as read-only, so that
    `from_dlpack(to_dlpack(t))[0] = 1` would fail where PyTorch writes into t. PyTorch's
    from_dlpack reads both kinds. Unlike `__dlpack__`, it exports a tensor that requires
    grad (its data, as PyTorch's to_dlpack does)."""
    return tensor.detach().__dlpack__(max_version=(1, 0))
