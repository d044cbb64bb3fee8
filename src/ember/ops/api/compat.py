"""Methods PyTorch's tensors have for kinds of tensor ember has not (lazy conjugation and
negation, pinned memory, devices), answered as PyTorch answers them for a tensor on the CPU,
the complex-number methods (from ops/api/complex.py), and a few other names for existing work (dsplit, narrow_copy,
unsafe_split, adjoint, mH). Code written for any tensor runs unchanged on ember's.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ember import _meta, dtypes
from ember._layout import SparseUnsupportedError, sparse_form
from ember._tensor import Tensor
from ember.ops.api import arrange, convert, products, shape
from ember.ops.api.complex import (  # noqa: F401  (attach() reads them from globals())
    angle,
    conj,
    conj_physical,
    conj_physical_,
    imag,
    is_complex,
    is_conj,
    is_neg,
    isreal,
    real,
    resolve_conj,
    resolve_neg,
)

# ---- a real tensor on the CPU ----------------------------------------------------------------


def get_device(input: Tensor) -> int:
    """-1, PyTorch's number for the CPU (torch.Tensor.get_device)."""
    return -1


def _is_pinned(self: Tensor, device: Any = None) -> bool:
    return False


def _pin_memory(self: Tensor, device: Any = None) -> Tensor:
    """The tensor itself: page-locked memory only speeds copies to a GPU."""
    return self


def _share_memory_(self: Tensor) -> Tensor:
    """Move the tensor's memory into shared memory (torch.Tensor.share_memory_): see
    ember/multiprocessing/reductions.py, imported here when first used because that package
    registers Parameter's reduction, and nn is not imported yet when Tensor's methods are."""
    from ember.multiprocessing.reductions import share_memory_

    return share_memory_(self)


def _is_shared(self: Tensor) -> bool:
    """Whether the tensor's memory is shared memory (torch.Tensor.is_shared)."""
    from ember.multiprocessing.reductions import is_shared

    return is_shared(self)


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (torch.adjoint): for a real tensor the
    transpose, a view; for a complex one a new tensor (ember has no lazy conjugation). Of a
    0-d tensor, PyTorch's deprecated conj; of a vector, PyTorch's error."""
    if input._data.ndim < 2:
        if input._data.ndim == 1:
            raise RuntimeError(
                "tensor.adjoint() is only supported on matrices or batches of matrices. Got 1-D tensor."
            )
        warnings.warn(
            "adjoint() is deprecated on 0-D tensors. Consider using x.conj().", UserWarning, stacklevel=2
        )
        return conj(input)
    return conj(shape.transpose(input, -2, -1))


def _mH(self: Tensor) -> Tensor:
    if self._data.ndim < 2:
        raise RuntimeError(
            f"tensor.mH is only supported on matrices or batches of matrices. Got {self._data.ndim}-D tensor."
        )
    return adjoint(self)


def _H(self: Tensor) -> Tensor:
    if self._data.ndim != 2:
        hint = ". For batches of matrices, consider using tensor.mH" if self._data.ndim > 2 else "."
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {self._data.ndim}-D tensor{hint}"
        )
    return adjoint(self)


# ---- other names for existing work ---------------------------------------------------------


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """narrow, copied rather than a view (torch.narrow_copy)."""
    try:
        return convert.clone(shape.narrow(input, dim, start, length))
    except SparseUnsupportedError:
        return sparse_form("narrow_copy", (input, dim, start, length))


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    """tensor_split along dim 2 of an input of 3 or more dims; sections must divide evenly
    (torch.dsplit)."""
    if input._data.ndim < 3:
        raise RuntimeError(
            "torch.dsplit requires a tensor with at least 3 dimension, but got a tensor with "
            f"{input._data.ndim} dimensions!"
        )
    return arrange._split_evenly(input, indices_or_sections, 2, "dsplit")


def unsafe_split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """split (torch.unsafe_split: PyTorch's pieces skip the view checks; ember's in-place
    changes of split's pieces are allowed anyway)."""
    return shape.split(tensor, split_size_or_sections, dim)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """chunk (torch.unsafe_chunk)."""
    return shape.chunk(input, chunks, dim)


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """outer's old name (torch.ger)."""
    return products.outer(input, vec2)


def unsafe_split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:
    """split with sizes (torch.unsafe_split_with_sizes)."""
    return shape.split(input, list(split_sizes), dim)


def fill(input: Tensor, value: Any) -> Tensor:
    """A tensor of input's shape and dtype filled with value (torch.fill)."""
    return convert.fill_(convert.clone(input), value)


def detach_(input: Tensor) -> Tensor:
    """input.detach_() (torch.detach_)."""
    return input.detach_()


def is_storage(obj: Any) -> bool:
    """Whether obj is a storage, UntypedStorage or TypedStorage (torch.is_storage)."""
    from ember._storage import TypedStorage, UntypedStorage

    return isinstance(obj, (UntypedStorage, TypedStorage))


def _check_aliasable(obj: Any) -> None:
    """Raise PyTorch's errors for asarray(obj, copy=False) of an object whose memory a tensor
    cannot share: a NumPy scalar, or a Python number or sequence (anything that is not a
    tensor, an array or a buffer)."""
    if isinstance(obj, (Tensor, np.ndarray)):
        return
    if isinstance(obj, np.generic):
        raise RuntimeError(
            "can't alias NumPy scalars. Either remove copy=False or transform it in a ndarray. "
        )
    if not _is_buffer(obj) and not hasattr(obj, "__array_interface__"):
        raise ValueError("can't alias arbitrary sequence into a tensor.")


def _is_buffer(obj: Any) -> bool:
    """Whether obj is a plain buffer (bytes, bytearray, array.array, memoryview...), which
    asarray reads as raw bytes; tensors, arrays and NumPy scalars are read as themselves."""
    if isinstance(obj, (Tensor, np.ndarray, np.generic)) or hasattr(obj, "__array_interface__"):
        return False
    try:
        memoryview(obj)
    except TypeError:
        return False
    return True


def asarray(
    obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None, requires_grad: bool = False
) -> Tensor:
    """obj as a tensor, sharing memory with a tensor or NumPy array when it can and copy is
    not True (torch.asarray); copy=False raises where a copy is needed. A buffer (bytes,
    bytearray, array.array, ...) is read as its raw bytes grouped into elements of dtype
    (by default the default dtype), whatever its own format, as PyTorch reads it."""
    from ember import creation

    if _is_buffer(obj):
        np_dtype = dtypes.to_numpy_dtype(dtype if dtype is not None else dtypes.get_default_dtype())
        nbytes = memoryview(obj).nbytes
        if nbytes == 0:  # PyTorch makes no empty tensor of a buffer
            raise ValueError("both buffer length (0) and count (-1) must not be 0")
        if nbytes % np_dtype.itemsize:
            raise ValueError(
                f"buffer length ({nbytes} bytes) after offset (0 bytes) must be a multiple of element "
                f"size ({np_dtype.itemsize})"
            )
        raw = np.frombuffer(obj, np_dtype)
        obj = raw if raw.flags.writeable else raw.copy()  # shares a writable buffer's memory
    if isinstance(obj, Tensor) and (dtype is None or dtypes.to_numpy_dtype(dtype) == obj._data.dtype):
        out = convert.clone(obj) if copy else obj
    elif copy:
        out = creation.tensor(obj._data if isinstance(obj, Tensor) else obj, dtype=dtype, device=device)
    else:
        if copy is False:
            _check_aliasable(obj)
        out = creation.as_tensor(obj, dtype=dtype, device=device)
        source = obj._data if isinstance(obj, Tensor) else obj
        if copy is False and isinstance(source, np.ndarray) and not np.shares_memory(out._data, source):
            raise ValueError(
                f"can't alias tensor with dtype '{dtypes.scalar_type_name(source.dtype)}' into dtype "
                f"'{dtypes.scalar_type_name(out._data.dtype)}'. (asarray: a copy is needed, and copy=False)"
            )
    if requires_grad and not out.requires_grad:
        out.requires_grad_()
    return out


def empty_strided(
    size: Any,
    stride: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    **kwargs: Any,
) -> Tensor:
    """An uninitialised tensor of that size whose elements are `stride` elements apart
    (torch.empty_strided), a view of a buffer just large enough."""
    from ember import creation

    meta = creation._on_meta(device)  # (a device ember lacks raises)
    np_dtype = dtypes.to_numpy_dtype(dtype if dtype is not None else dtypes.get_default_dtype())
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape: size {list(size)} and stride {list(stride)}"
        )
    if meta:  # no buffer: a meta array that reports these strides
        data = _meta.empty(size, np_dtype)
        data._steps = tuple(int(s) for s in stride)
        return Tensor(data, requires_grad=requires_grad)
    extent = 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    buffer = np.empty(extent, np_dtype)
    data = np.lib.stride_tricks.as_strided(buffer, size, tuple(s * buffer.itemsize for s in stride))
    return Tensor(data, requires_grad=requires_grad)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """Deprecated (torch.chain_matmul): the product of the matrices, bracketed to cost the
    fewest multiplications; ember.linalg.multi_dot."""
    from ember import linalg

    if len(matrices) == 1:
        return matrices[0]
    return linalg.multi_dot(list(matrices))


# ---- Python functions applied element by element -------------------------------------------


def empty_permuted(
    size: Any,
    physical_layout: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    **kwargs: Any,
) -> Tensor:
    """An uninitialised tensor of that size whose dimensions lie in memory in the order
    physical_layout gives, outermost first (torch.empty_permuted): empty_permuted((2, 3, 4),
    (2, 0, 1)) has strides (3, 1, 6)."""
    size, order = tuple(size), tuple(physical_layout)
    if len(size) != len(order):
        raise RuntimeError(
            "Number of dimensions in size does not match the length of the physical_layout; i.e. "
            f"len(size) = {len(size)} is not equal to len(physical_layout) = {len(order)}"
        )
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(f"Duplicate dim not allowed (physical_layout {list(order)} is no permutation)")
    stride, step = [0] * len(size), 1
    for d in reversed(order):
        stride[d], step = step, step * size[d]
    return empty_strided(size, stride, dtype=dtype, device=device, requires_grad=requires_grad)


def frombuffer(
    buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, requires_grad: bool = False
) -> Tensor:
    """A 1-d tensor reading `count` elements of dtype (all, with -1) from an object with the
    buffer protocol (bytes, bytearray, array.array, mmap...), from byte `offset`; it shares the
    buffer's memory (torch.frombuffer)."""
    view = memoryview(buffer).cast("B")
    np_dtype = dtypes.to_numpy_dtype(dtype)
    size, item = len(view), np_dtype.itemsize
    if size == 0 or count == 0:
        raise ValueError(f"both buffer length ({size}) and count ({count}) must not be 0")
    if not 0 <= offset < size:
        raise ValueError(
            f"offset ({offset} bytes) must be non-negative and no greater than buffer length ({size} bytes) minus 1"
        )
    if count < 0:
        if (size - offset) % item:
            raise ValueError(
                f"buffer length ({size - offset} bytes) after offset ({offset} bytes) must be a multiple of "
                f"element size ({item})"
            )
        count = (size - offset) // item
    elif count * item > size - offset:
        raise ValueError(
            f"requested buffer length ({count} * {item} bytes) after offset ({offset} bytes) must not be "
            f"greater than actual buffer length ({size} bytes)"
        )
    data = np.frombuffer(view, dtype=np_dtype, count=count, offset=offset)
    return Tensor(data, requires_grad=requires_grad)


def from_file(
    filename: str,
    shared: bool | None = None,
    size: int = 0,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    **kwargs: Any,
) -> Tensor:
    """A 1-d tensor of `size` elements of dtype read from the start of a file, through a
    memory map (torch.from_file): with shared=True its changes are written to the file (made
    as large as needed), otherwise they stay in memory."""
    import os

    np_dtype = dtypes.to_numpy_dtype(dtype if dtype is not None else dtypes.get_default_dtype())
    needed = size * np_dtype.itemsize
    if not shared and not os.path.exists(filename):
        raise RuntimeError(
            f"unable to open file <{filename}> in read-only mode: No such file or directory (2)"
        )
    if shared and (not os.path.exists(filename) or os.path.getsize(filename) < needed):
        with open(filename, "ab") as f:
            f.truncate(needed)
    have = os.path.getsize(filename)
    if have < needed:
        raise RuntimeError(
            f"file <{filename}> size <{have}> is smaller than the required mapping size <{needed}>"
        )
    if size == 0:
        return Tensor(np.zeros(0, np_dtype), requires_grad=requires_grad)
    data = np.memmap(filename, dtype=np_dtype, mode="r+" if shared else "c", shape=(size,))
    return Tensor(data.view(np.ndarray), requires_grad=requires_grad)


def _no_grad_for(name: str, t: Tensor) -> None:
    if t.requires_grad:
        raise RuntimeError(
            f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead."
        )


def apply_(input: Tensor, callable: Any) -> Tensor:  # noqa: A002  (PyTorch's name)
    """Replace each element x by callable(x), a Python function of a number, in place
    (torch.Tensor.apply_); slow, and outside autograd."""
    _no_grad_for("apply_", input)
    values = [callable(v) for v in input._data.ravel().tolist()]
    input._data[...] = np.asarray(values).reshape(input._data.shape).astype(input._data.dtype)
    input._version_cell[0] += 1
    return input


def map_(input: Tensor, tensor: Tensor, callable: Any) -> Tensor:  # noqa: A002
    """Replace each element x by callable(x, y), y the matching element of `tensor`
    broadcast to input's shape, in place (torch.Tensor.map_)."""
    _no_grad_for("map_", input)
    if tensor._data.dtype != input._data.dtype:
        raise TypeError(f"map_: expected {convert.type_(input)} for 'other' (got {convert.type_(tensor)})")
    others = np.broadcast_to(tensor._data, input._data.shape).ravel().tolist()
    values = [callable(a, b) for a, b in zip(input._data.ravel().tolist(), others)]
    input._data[...] = np.asarray(values).reshape(input._data.shape).astype(input._data.dtype)
    input._version_cell[0] += 1
    return input


def _short(self: Tensor) -> Tensor:
    return convert.to(self, dtypes.int16)


def _char(self: Tensor) -> Tensor:
    return convert.to(self, dtypes.int8)


def attach(cls: type) -> None:
    """The methods and properties of this module on Tensor."""
    for (
        name
    ) in """angle is_complex is_conj is_neg conj conj_physical conj_physical_ resolve_conj resolve_neg isreal
    get_device adjoint narrow_copy dsplit unsafe_split unsafe_chunk unsafe_split_with_sizes ger
    apply_ map_""".split():
        setattr(cls, name, globals()[name])
    cls.is_cpu = property(lambda self: not self.is_meta)
    flags = "is_sparse is_sparse_csr is_quantized is_mps is_xpu is_nested is_mkldnn is_xla is_ipu"
    for flag in (flags + " is_maia is_mtia is_vulkan").split():
        setattr(cls, flag, property(lambda self: False))
    cls.real = property(real)
    cls.imag = property(imag)
    cls.mH = property(_mH)
    cls.H = property(_H)
    cls.is_pinned = _is_pinned
    cls.pin_memory = _pin_memory
    cls.share_memory_ = _share_memory_
    cls.is_shared = _is_shared
    cls.const_data_ptr = lambda self: self.data_ptr()  # the first element's address, for reading
    cls.short, cls.char = _short, _char
