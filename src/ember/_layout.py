"""Memory formats and layouts (torch.memory_format, torch.layout).

A tensor's elements sit in one NumPy array, whose strides say in which order they are laid
out in memory. PyTorch names the orders a program may ask for: `contiguous_format` (the
last dimension varies fastest), `channels_last` (a 4-d (N, C, H, W) tensor laid out as N, H,
W, C), `channels_last_3d` (the same for 5-d), and `preserve_format` (keep the input's order
when its elements are dense, else contiguous). The values never depend on the order, only
the speed of some operations does, so ember accepts every one and lays out the copies it
makes accordingly. Dense tensors have the layout `strided`; the sparse tensors of
`ember.sparse` have `sparse_coo`, `sparse_csr` or `sparse_csc`. PyTorch's block layouts
(`sparse_bsr`, `sparse_bsc`) exist as names, so that code comparing layouts runs; no tensor
has them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class _Named:
    """One of a few module-level constants, shown, pickled and copied by its name."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"ember.{self._name}"

    def __reduce__(self) -> str:
        return self._name  # pickled and copied as the one module-level object


class memory_format(_Named):  # noqa: N801 (PyTorch's name)
    """An order of a tensor's elements in memory (torch.memory_format)."""


class layout(_Named):  # noqa: N801
    """How a tensor's elements are stored (torch.layout): strided (dense), sparse_coo,
    sparse_csr, sparse_csc."""


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")


# Turned True by the first sparse gradient stored in a dense tensor's .grad (ember/sparse/_grad.py,
# or the .grad setter): until then the optimizers skip checking their gradients' layouts.
sparse_grads_seen = [False]


class SparseUnsupportedError(NotImplementedError):
    """A dense operation was given a sparse tensor (torch's "Could not run ... with arguments
    from the 'SparseCPU' backend"); see ember/sparse/_tensor.py."""


_ORDERS = {channels_last: (4, (0, 2, 3, 1)), channels_last_3d: (5, (0, 2, 3, 4, 1))}


def check_layout(value: Any) -> None:
    """A factory's `layout=` argument: None or strided."""
    if value is not None and value is not strided:
        raise RuntimeError(
            f"this factory makes strided (dense) tensors only; got layout={value!r} (ember.zeros and "
            "ember.empty make empty sparse tensors; make others with ember.sparse_coo_tensor, "
            "ember.sparse_csr_tensor or .to_sparse())"
        )


def check_format(value: Any, op: str) -> memory_format:
    if not isinstance(value, memory_format):
        raise TypeError(f"{op}(): memory_format must be an ember.memory_format, got {type(value).__name__}")
    return value


def _order(arr: np.ndarray, fmt: memory_format) -> tuple:
    """The axes in memory order, slowest first, for channels_last and channels_last_3d."""
    rank, axes = _ORDERS[fmt]
    if arr.ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {fmt._name} format")
    return axes


def is_in(arr: np.ndarray, fmt: memory_format) -> bool:
    """Whether the array is laid out in `fmt` (Tensor.is_contiguous(memory_format=fmt))."""
    if fmt is contiguous_format:
        return bool(arr.flags.c_contiguous)
    if fmt is preserve_format:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    return bool(arr.transpose(_order(arr, fmt)).flags.c_contiguous)


def suggested(arr: np.ndarray) -> memory_format:
    """The format the array's strides follow: channels_last (or _3d) for such strides, else
    contiguous_format (PyTorch's suggest_memory_format)."""
    for fmt, (rank, _) in _ORDERS.items():
        if arr.ndim == rank and not arr.flags.c_contiguous and is_in(arr, fmt):
            return fmt
    return contiguous_format


def _dense(arr: np.ndarray) -> bool:
    """Whether the elements fill one block of memory without gaps or overlaps, in some order."""
    size = arr.itemsize
    for stride, n in sorted((abs(s), n) for s, n in zip(arr.strides, arr.shape) if n != 1):
        if stride != size:
            return False
        size *= n
    return True


def target(arr: np.ndarray, fmt: memory_format) -> memory_format | None:
    """The order a copy of `arr` in format `fmt` needs, or None for NumPy's default (C order)."""
    if fmt is contiguous_format:
        return None
    if fmt is preserve_format:
        return None if arr.flags.c_contiguous or not _dense(arr) else preserve_format
    _order(arr, fmt)  # checks the rank
    return fmt


def copy(arr: np.ndarray, fmt: memory_format | None, like: np.ndarray | None = None) -> np.ndarray:
    """A copy of arr laid out as `fmt` says (None: C order); preserve_format copies the order of
    `like` (arr itself by default)."""
    if fmt is None:
        return arr.copy()
    if fmt is preserve_format:
        out = np.empty_like(arr if like is None else like, dtype=arr.dtype, order="K")
        out[...] = arr
        return out
    axes = _order(arr, fmt)
    # copy(), not np.ascontiguousarray: the same C-order copy, and a meta array's is meta
    return arr.transpose(axes).copy().transpose(np.argsort(axes))


def sparse_form(op: str, args: tuple, kwargs: dict | None = None, key: str | None = None) -> Any:
    """What dense function `op` computes when its dense code refused a sparse argument (it
    raised SparseUnsupportedError): ember.sparse's form of it (registered under `key`, op by
    default), or an error naming `op` where there is none, as in PyTorch. The dense functions
    call it from an `except` clause, so dense calls pay at most the `try`'s one NOP
    (ember/sparse/_functions.py)."""
    from ember.sparse import _functions

    return _functions.call(op, args, kwargs, key)


def holds_sparse(*args: Any) -> bool:
    """Whether one of args is a sparse tensor: its stand-in for an array has a layout (an
    ndarray has none). For the error paths of dense functions, which pay for it only there."""
    return any(getattr(getattr(a, "_data", None), "layout", strided) is not strided for a in args)
