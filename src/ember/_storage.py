"""Storages: the memory a tensor's elements live in (torch.UntypedStorage, torch.TypedStorage).

A tensor is a NumPy array, and views share memory with the array they were cut from; the
storage is that first array's memory, as bytes. `x.untyped_storage()` wraps it, so
`a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()` tells whether two
tensors share memory, writing a byte writes the tensors, and `t.set_(storage)` makes a
tensor of it. `x.storage()` is the deprecated typed form (elements instead of bytes).

Unlike PyTorch, each call returns a new wrapper object (compare data_ptr(), not identity),
and a storage cannot be resized. A tensor whose memory is not one block (a NumPy view of
strided memory made outside ember) has no storage: untyped_storage() raises.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def _root(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory array looks at: its bases followed to the last ndarray,
    through the helper objects NumPy's as_strided puts between them."""
    root = array
    while True:
        base = root.base
        if base is not None and not isinstance(base, np.ndarray):
            base = getattr(base, "base", None)
        if not isinstance(base, np.ndarray):
            return root
        root = base


def _bytes_of(array: np.ndarray) -> np.ndarray:
    """The memory of array's owner as a 1-d uint8 array sharing it."""
    root = _root(array)
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        raise NotImplementedError(
            f"untyped_storage: the memory of this tensor (shape {list(array.shape)}) is a strided view "
            "of memory ember does not own as one block; call .contiguous() first"
        )
    return root.ravel(order="K").view(np.uint8)


class UntypedStorage:
    """The bytes of a tensor's memory (torch.UntypedStorage): size() and nbytes() count them,
    data_ptr() is their address, indexing reads and writes them as ints in [0, 256)."""

    __slots__ = ("_bytes",)

    def __init__(self, size_or_data: Any = 0) -> None:
        if isinstance(size_or_data, np.ndarray) and size_or_data.dtype == np.uint8 and size_or_data.ndim == 1:
            self._bytes = size_or_data  # shares it (internal use)
        elif isinstance(size_or_data, int):
            self._bytes = np.zeros(size_or_data, np.uint8)
        else:
            self._bytes = np.array(list(size_or_data), np.uint8)

    @property
    def device(self) -> Any:
        from ember._tensor import device

        return device("cpu")

    @property
    def is_cuda(self) -> bool:
        return False

    def data_ptr(self) -> int:
        """The address of the first byte."""
        return self._bytes.__array_interface__["data"][0]

    def nbytes(self) -> int:
        return self._bytes.size

    def size(self) -> int:
        """The number of bytes."""
        return self._bytes.size

    def __len__(self) -> int:
        return self._bytes.size

    def element_size(self) -> int:
        return 1

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return UntypedStorage(self._bytes[index])
        return int(self._bytes[index])

    def __setitem__(self, index: Any, value: Any) -> None:
        self._bytes[index] = value

    def tolist(self) -> list:
        return self._bytes.tolist()

    def clone(self) -> UntypedStorage:
        """A copy in new memory."""
        return UntypedStorage(self._bytes.copy())

    def fill_(self, value: int) -> UntypedStorage:
        self._bytes[...] = value
        return self

    def untyped(self) -> UntypedStorage:
        return self

    def cpu(self) -> UntypedStorage:
        return self

    def is_shared(self) -> bool:
        """Whether these bytes are shared memory (see ember.multiprocessing)."""
        from ember.multiprocessing import _memory

        return _memory.segment_of(self._bytes) is not None

    def share_memory_(self) -> UntypedStorage:
        """Move these bytes into shared memory, unless they are there already. Unlike
        PyTorch's, tensors already made of this storage keep the old memory (ember has no
        storage object that tensors point to): share the tensor instead, or make tensors of
        the storage afterwards (`t.set_(storage)`)."""
        from ember.multiprocessing import _memory

        if _memory.segment_of(self._bytes) is None:
            self._bytes = _memory.to_shared(self._bytes)
        return self

    def is_pinned(self, device: Any = "cuda") -> bool:
        return False

    def __repr__(self) -> str:
        values = "".join(f" {v}\n" for v in self._bytes.tolist())
        return f"{values}[ember.storage.UntypedStorage(device=cpu) of size {self._bytes.size}]"


class TypedStorage:
    """A storage read as elements of a dtype (torch.TypedStorage, deprecated in PyTorch for
    UntypedStorage): size() counts elements, indexing gives Python numbers."""

    __slots__ = ("_untyped_storage", "dtype")

    def __init__(self, untyped: UntypedStorage, dtype: Any) -> None:
        self._untyped_storage, self.dtype = untyped, dtype

    @property
    def device(self) -> Any:
        return self._untyped_storage.device

    def _elements(self) -> np.ndarray:
        data = self._untyped_storage._bytes
        item = self.dtype.itemsize
        return data[: data.size // item * item].view(self.dtype.numpy)

    def untyped(self) -> UntypedStorage:
        return self._untyped_storage

    def is_shared(self) -> bool:
        return self._untyped_storage.is_shared()

    def share_memory_(self) -> TypedStorage:
        """UntypedStorage.share_memory_ of the bytes underneath."""
        self._untyped_storage.share_memory_()
        return self

    def data_ptr(self) -> int:
        return self._untyped_storage.data_ptr()

    def nbytes(self) -> int:
        return self._untyped_storage.nbytes()

    def element_size(self) -> int:
        return self.dtype.itemsize

    def size(self) -> int:
        """The number of elements."""
        return self._elements().size

    def __len__(self) -> int:
        return self.size()

    def __getitem__(self, index: Any) -> Any:
        values = self._elements()[index]
        return values.tolist() if isinstance(index, slice) else values.item()

    def __setitem__(self, index: Any, value: Any) -> None:
        self._elements()[index] = value

    def tolist(self) -> list:
        return self._elements().tolist()

    def __repr__(self) -> str:
        values = "".join(f" {v}\n" for v in self._elements().tolist())
        return f"{values}[ember.storage.TypedStorage(dtype={self.dtype}, device=cpu) of size {self.size()}]"


def untyped_storage(self: Any) -> UntypedStorage:
    """The bytes of the memory this tensor's elements live in (torch.Tensor.untyped_storage)."""
    return UntypedStorage(_bytes_of(self._data))


def storage(self: Any) -> TypedStorage:
    """untyped_storage() read as elements of this tensor's dtype (torch.Tensor.storage, deprecated)."""
    warnings.warn(
        "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only "
        "storage class. To access UntypedStorage directly, use tensor.untyped_storage() instead of "
        "tensor.storage()",
        UserWarning,
        stacklevel=2,
    )
    return TypedStorage(untyped_storage(self), self.dtype)


def elements_of(source: UntypedStorage | TypedStorage, np_dtype: np.dtype) -> np.ndarray:
    """A storage's memory as a 1-d array of np_dtype (for Tensor.set_), sharing it."""
    data = source.untyped()._bytes
    return data[: data.size // np_dtype.itemsize * np_dtype.itemsize].view(np_dtype)
