"""Tensor methods of older PyTorch code and of memory sharing: the deprecated copying
`resize` and `resize_as`, `set_` and `is_set_to` (a tensor made to use another's memory),
`as_subclass`, `map2_`, `module_load`, and the removed `volatile` and `reinforce`, which
answer as PyTorch 2.13 does (a warning and False; an error pointing to
torch.distributions). The storages themselves are in ember/_storage.py.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ember import _storage
from ember._tensor import Tensor
from ember.ops import shape as shape_ops
from ember.ops.api import compat, convert, shape

# ---- the deprecated copying resizes --------------------------------------------------------


def resize(input: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """input reshaped to sizes, which must hold as many elements; differentiable, and
    deprecated in PyTorch, which warns (torch.Tensor.resize; the in-place resize_ may change
    the number of elements)."""
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    return _resized(input, shape._shape_arg(sizes))


def resize_as(input: Tensor, the_template: Tensor, *, memory_format: Any = None) -> Tensor:
    """resize to the_template's shape (torch.Tensor.resize_as, deprecated)."""
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    return _resized(input, tuple(the_template.shape))


def _resized(input: Tensor, size: tuple) -> Tensor:
    n = int(np.prod(size))
    if n != input._data.size:
        wanted = "x".join(str(s) for s in size)
        raise RuntimeError(
            f"requested resize to {wanted} ({n} elements in total), but the given tensor has a size of "
            f"{'x'.join(str(s) for s in input._data.shape)} ({input._data.size} elements). autograd's "
            "resize can only change the shape of a given tensor, while preserving the number of elements. "
            "Use resize_ outside autograd to change the number of elements."
        )
    return shape_ops.View.apply(convert.contiguous(input), size)


# ---- sharing memory: set_ and is_set_to ----------------------------------------------------


def set_(
    input: Tensor,
    source: Any = None,
    storage_offset: int | None = None,
    size: Any = None,
    stride: Any = (),
) -> Tensor:
    """Make input use source's memory, in place (torch.Tensor.set_). Source is a tensor of
    input's dtype (input becomes its elements, same shape, shared memory) or a storage (input
    becomes its elements, 1-d); with storage_offset, size and stride, input becomes that window
    of the memory, counted in elements. With no argument, an empty tensor. Outside autograd,
    as in PyTorch."""
    if input._requires_grad and input.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    dtype = input._data.dtype
    window = storage_offset is not None or size is not None
    if source is None:
        data = np.zeros(0, dtype)
    elif isinstance(source, (_storage.UntypedStorage, _storage.TypedStorage)):
        if isinstance(source, _storage.TypedStorage) and source.dtype.numpy != dtype:
            raise RuntimeError(
                f"Could not set tensor of type {source.dtype} to a tensor of type {input.dtype} "
                "(the storage is typed as another dtype; pass its .untyped())"
            )
        data = _storage.elements_of(source, dtype)
        if window:
            data = _window(data, storage_offset or 0, (data.size,) if size is None else tuple(size), stride)
    elif isinstance(source, Tensor):
        if source._data.dtype != dtype:
            raise RuntimeError(
                f"Could not set tensor of type {source.dtype} to a tensor of type {input.dtype} (set_ needs "
                "the same dtype; convert the source with .to() first)"
            )
        data = source._data
        if window:
            size = tuple(source.shape) if size is None else tuple(size)
            data = shape.as_strided(source.detach(), size, _strides(size, stride), storage_offset)._data
    else:
        raise TypeError(f"set_(): source must be a Tensor or a storage, not {type(source).__name__}")
    input._data = data
    input._version_cell[0] += 1
    return input


def _strides(size: tuple, stride: Any) -> tuple:
    """The given strides, or a C-order tensor's for size."""
    return tuple(stride) if stride else tuple(int(np.prod(size[k + 1 :])) for k in range(len(size)))


def _window(elements: np.ndarray, offset: int, size: tuple, stride: Any) -> np.ndarray:
    """The elements at offset + sum_k i_k * stride_k of a 1-d array, as a view, bounds checked."""
    stride = _strides(size, stride)
    needed = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    if offset < 0 or needed > elements.size:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset} need "
            f"{needed} elements, but the storage holds {elements.size}"
        )
    item = elements.itemsize
    return np.lib.stride_tricks.as_strided(elements[offset:], size, tuple(s * item for s in stride))


def is_set_to(input: Tensor, tensor: Tensor) -> bool:
    """True if the two tensors are the same elements of the same memory: same start, shape,
    strides and dtype (torch.Tensor.is_set_to)."""
    a, b = input._data, tensor._data
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and a.strides == b.strides
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def as_subclass(input: Tensor, cls: type) -> Tensor:
    """input as an instance of cls, a subclass of Tensor: the same memory, and in the graph
    as an alias of input, so gradients reach input (torch.Tensor.as_subclass)."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(
            "Creating a Tensor subclass from a class that does not inherit from Tensor is not possible. "
            "Make sure your class inherits from Tensor."
        )
    alias = shape_ops.View.apply(input, input._data.shape)
    out = cls.__new__(cls)
    for slot in Tensor.__slots__:
        if slot != "__weakref__":
            setattr(out, slot, getattr(alias, slot))
    return out


def map2_(input: Tensor, x: Tensor, y: Tensor, callable: Any) -> Tensor:  # noqa: A002  (PyTorch's name)
    """Replace each element a by callable(a, b, c), b and c the matching elements of x and y
    broadcast to input's shape, in place (torch.Tensor.map2_); slow, and outside autograd."""
    compat._no_grad_for("map2_", input)
    for name, t in (("x", x), ("y", y)):
        if t._data.dtype != input._data.dtype:
            raise TypeError(
                f"map2_: expected {convert.type_(input)} for argument '{name}' (got {convert.type_(t)})"
            )
    bs, cs = (np.broadcast_to(t._data, input._data.shape).ravel().tolist() for t in (x, y))
    values = [callable(a, b, c) for a, b, c in zip(input._data.ravel().tolist(), bs, cs)]
    input._data[...] = np.asarray(values).reshape(input._data.shape).astype(input._data.dtype)
    input._version_cell[0] += 1
    return input


def module_load(input: Tensor, other: Tensor, assign: bool = False) -> Tensor:
    """What load_state_dict puts in place of this parameter or buffer given the state dict's
    value `other`: other itself, detached, with assign=True; else this tensor with other's
    values copied in, detached (torch.Tensor.module_load); load_state_dict calls it under
    no_grad, as a parameter that requires grad cannot be written in place otherwise."""
    if assign:
        return other.detach()
    return input.copy_(other).detach()


# ---- removed in PyTorch, answered as PyTorch answers -------------------------------------------


def _volatile(self: Tensor) -> bool:
    warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2)
    return False


def _set_volatile(self: Tensor, value: Any) -> None:
    warnings.warn(
        "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
        UserWarning,
        stacklevel=2,
    )


def reinforce(self: Tensor, reward: Any) -> None:
    """Removed from PyTorch: raises, pointing to ember.distributions (torch.Tensor.reinforce)."""
    raise RuntimeError(
        "reinforce() was removed.\nUse ember.distributions instead: sample an action from a "
        "distribution (dist = Categorical(probs); action = dist.sample()) and backpropagate "
        "-dist.log_prob(action) * reward."
    )


def attach(cls: type) -> None:
    """The methods and properties of this module on Tensor."""
    for name in "resize resize_as set_ is_set_to as_subclass map2_ module_load reinforce".split():
        setattr(cls, name, globals()[name])
    cls.untyped_storage, cls.storage = _storage.untyped_storage, _storage.storage
    cls.volatile = property(_volatile, _set_volatile)
    cls.name = property(lambda self: None)  # a tensor's name: PyTorch's is None unless named tensors
