"""Turning a list of samples into a batch: default_collate and default_convert.

A sample is any nesting of tuples, lists, dicts and namedtuples whose leaves are tensors,
NumPy arrays, Python numbers or strings. Collating transposes the nesting (a list of pairs
becomes a pair of batches) and stacks the leaves along a new first dimension, as
torch.utils.data.default_collate does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any

import numpy as np

from ember import dtypes, overrides
from ember._tensor import Tensor
from ember.creation import as_tensor, tensor

_UNSUPPORTED_ARRAY_KINDS = "OSUV"  # object, bytes, unicode and void arrays have no tensor dtype


def _collate_error(found: Any) -> TypeError:
    return TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {found}"
    )


def _as_tensor(arr: np.ndarray) -> Tensor:
    dtypes.from_numpy_dtype(arr.dtype)  # raises the clear TypeError for dtypes ember lacks
    return Tensor(arr)


def _stack(arrays: list[np.ndarray]) -> Tensor:
    first = arrays[0].shape
    if any(a.shape != first for a in arrays):
        i = next(i for i, a in enumerate(arrays) if a.shape != first)
        raise RuntimeError(
            f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
            f"{list(arrays[i].shape)} at entry {i} (default_collate cannot batch samples of different "
            "shapes: pad or crop them to one size, or pass a collate_fn)"
        )
    dtype = arrays[0].dtype
    for a in arrays:
        if a.dtype != dtype:  # PyTorch's promotion (int64 with float32 gives float32), not NumPy's
            dtype = dtypes.promote_numpy(dtype, a.dtype)
    if not first:
        return _as_tensor(np.array(arrays, dtype=dtype))
    # one concatenation of equal shapes is np.stack without its per-array expand_dims
    return _as_tensor(np.concatenate(arrays, dtype=dtype).reshape((len(arrays), *first)))


def _numpy_leaf(a: Any) -> np.ndarray:
    """A sample of a batch that starts with a NumPy array or scalar, as an array: other
    samples convert as torch.as_tensor converts them (a Python float is float32)."""
    if isinstance(a, (np.ndarray, np.generic)):
        return np.asarray(a)
    return as_tensor(a)._data


def _real_number(x: Any) -> float:
    """x as a float for a batch that starts with a Python float; PyTorch's TypeError otherwise."""
    arr = x._data if isinstance(x, Tensor) else x
    if isinstance(arr, (int, float, np.bool_, np.integer, np.floating)) or (
        isinstance(arr, np.ndarray) and arr.ndim == 0 and arr.dtype.kind in "biuf"
    ):
        return float(arr)
    raise TypeError(
        f"must be real number, not {type(x).__name__} (default_collate: a batch that starts with a "
        "float must hold only real numbers)"
    )


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, keeping their nesting (torch default_collate).

    Tensors and arrays are stacked, their dtypes promoted as PyTorch does. A batch that
    starts with a Python float becomes a float64 tensor; one that starts with an int or bool
    becomes what `ember.tensor(batch)` gives (int64, bool, or float32 when a float follows),
    as in PyTorch. Strings stay as given, tuples become lists, and dicts, namedtuples and
    other sequences keep their type: a mutable mapping or sequence (a defaultdict, a list
    subclass) is a copy of the first sample with the batches put in, as PyTorch makes it.
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        try:
            wants_graph = any(t._requires_grad for t in batch)
            arrays = [t._data for t in batch]
        except AttributeError:
            i, found = next((i, t) for i, t in enumerate(batch) if not isinstance(t, Tensor))
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(found).__name__} "
                "(default_collate stacks a batch that starts with a tensor: every sample must hold one)"
            ) from None
        if wants_graph:
            from ember.ops.api.shape import stack  # differentiable, only when a graph is wanted

            return stack(list(batch))
        if any(type(t) is not Tensor and overrides._overrides(type(t)) for t in batch):
            import ember  # a subclass's samples: the stack it dispatches (its own class, as PyTorch's)

            return ember.stack(list(batch))
        return _stack(arrays)
    if isinstance(elem, (str, bytes)):
        return batch  # as given: a list at the top, a tuple inside a sample (PyTorch's zip)
    if isinstance(elem, (np.ndarray, np.generic)):
        if elem.dtype.kind in _UNSUPPORTED_ARRAY_KINDS:
            raise _collate_error(elem.dtype)
        return _stack([_numpy_leaf(a) for a in batch])
    if isinstance(elem, float):
        try:
            arr = np.array(batch)
        except ValueError:  # a sequence among the numbers
            arr = None
        if arr is None or arr.ndim != 1 or arr.dtype.kind not in "biuf":
            # None would become NaN and a string its number: only real numbers, as in PyTorch
            return Tensor(np.array([_real_number(x) for x in batch], dtype=np.float64))
        return Tensor(arr.astype(np.float64, copy=False))
    if isinstance(elem, int):  # bool too: the dtype comes from every element, as torch.tensor(batch)
        return tensor(list(batch))
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        return _rebuild_mapping(elem, collated)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        # each field a tuple, as PyTorch's zip gives it (a field of strings stays a tuple)
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError(
                "each element in list of batch should be of equal size "
                f"(got lengths {sorted({len(sample) for sample in batch})})"
            )
        columns = [default_collate(column) for column in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # tuples become lists, as in PyTorch
        return _rebuild_sequence(elem, columns)
    raise _collate_error(type(elem))


def _rebuild_mapping(elem: Mapping, values: dict) -> Any:
    """A mapping of elem's type holding values: a copy of elem updated with them when it is
    mutable (which keeps a defaultdict's factory), else built from them (a plain dict when
    the type cannot be), as PyTorch does."""
    if type(elem) is dict:
        return values
    if isinstance(elem, MutableMapping):
        clone = copy.copy(elem)
        clone.update(values)
        return clone
    try:
        return type(elem)(values)
    except TypeError:  # a mapping type that cannot be built from a dict
        return values


def _rebuild_sequence(elem: Sequence, items: list) -> Any:
    """A sequence of elem's type holding items, made as _rebuild_mapping makes a mapping."""
    if type(elem) is list:
        return items
    if isinstance(elem, MutableSequence):
        clone = copy.copy(elem)
        for i, item in enumerate(items):
            clone[i] = item
        return clone
    try:
        return type(elem)(items)
    except TypeError:
        return items


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars inside data into tensors, without batching.

    The collate function used when automatic batching is off (`batch_size=None`), as
    torch.utils.data.default_convert.
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in _UNSUPPORTED_ARRAY_KINDS else _as_tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return _as_tensor(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, Mapping):
        return _rebuild_mapping(data, {key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data
