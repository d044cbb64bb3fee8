"""Datasets: the map-style and iterable protocols, and the usual ways to combine them.

A map-style dataset has `__getitem__(index)` and `__len__`; an iterable dataset has
`__iter__` (torch.utils.data.Dataset / IterableDataset).

ember adds one optional, private method: `_batch_fetcher()` returns a function that maps an
int64 array of indices straight to a collated batch (what default_collate would build from
the samples), or None when the dataset cannot do that. DataLoader uses it with the default
collate_fn, so a TensorDataset batch is one fancy-indexing call per tensor instead of a Python
loop over samples. A subclass that overrides `__getitem__` loses the fast path, so that its
own `__getitem__` is always the one that runs.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from ember import random as _random
from ember._tensor import Tensor

BatchFetcher = Callable[[np.ndarray], Any]

# the type of a sample: `class Pairs(Dataset[tuple[Tensor, int]])`, as in torch's typed code
_T_co = TypeVar("_T_co", covariant=True)


class Dataset(Generic[_T_co]):
    """A map-style dataset: subclasses define `__getitem__` and `__len__` (torch Dataset)."""

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[_T_co]):
    """A dataset read as a stream: subclasses define `__iter__` (torch IterableDataset).

    With worker processes every worker iterates its own copy; split the work with
    `get_worker_info()`, or each sample arrives once per worker.
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


def _overrides_getitem(dataset: Any, base: type) -> bool:
    return type(dataset).__getitem__ is not base.__getitem__


class TensorDataset(Dataset):
    """Samples are the rows of tensors of equal length: `ds[i] == (t[i] for t in tensors)`.

    NumPy arrays are accepted and wrapped without a copy (torch needs tensors).
    """

    def __init__(self, *tensors: Tensor) -> None:
        tensors = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors)
        sizes = [t._data.shape[0] if t._data.ndim else None for t in tensors]
        if not tensors or None in sizes or any(s != sizes[0] for s in sizes):
            raise AssertionError(f"Size mismatch between tensors (sizes along dim 0: {sizes})")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0]._data.shape[0]

    def _batch_fetcher(self) -> BatchFetcher | None:
        if _overrides_getitem(self, TensorDataset) or any(t._requires_grad for t in self.tensors):
            return None
        arrays = [t._data for t in self.tensors]
        return lambda indices: [Tensor(a[indices]) for a in arrays]


class StackDataset(Dataset[_T_co]):
    """Zip datasets of equal length: samples are tuples (positional) or dicts (keywords)."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("StackDataset takes datasets either positionally or as keywords, not both")
        parts = list(args) or list(kwargs.values())
        if not parts:
            raise ValueError("StackDataset needs at least one dataset")
        lengths = {len(d) for d in parts}
        if len(lengths) != 1:
            raise ValueError(f"Size mismatch between datasets (lengths {sorted(lengths)})")
        self._length = lengths.pop()
        self.datasets: tuple | dict = tuple(args) if args else dict(kwargs)

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """The samples at indices, each dataset read with its own __getitems__ when it has one."""
        named = isinstance(self.datasets, dict)
        parts = self.datasets.values() if named else self.datasets
        columns = []
        for d in parts:
            getitems = getattr(d, "__getitems__", None)
            if callable(getitems):
                items = getitems(indices)
                if len(items) != len(indices):
                    raise ValueError(
                        f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(items)}"
                    )
            else:
                items = [d[i] for i in indices]
            columns.append(items)
        if named:
            keys = list(self.datasets)
            return [dict(zip(keys, sample)) for sample in zip(*columns)]
        return [tuple(sample) for sample in zip(*columns)]

    def __len__(self) -> int:
        return self._length


class Subset(Dataset[_T_co]):
    """The samples of `dataset` at `indices`, in that order (torch Subset)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        """The samples at indices, read with the dataset's own __getitems__ when it has one (torch
        Subset.__getitems__). A subclass that overrides __getitem__ has it called per sample
        (torch raises NotImplementedError unless the subclass overrides __getitems__ too)."""
        if _overrides_getitem(self, Subset):
            return [self[i] for i in indices]
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def _batch_fetcher(self) -> BatchFetcher | None:
        inner = getattr(self.dataset, "_batch_fetcher", None)
        inner = inner() if inner is not None and not _overrides_getitem(self, Subset) else None
        if inner is None:
            return None
        positions = np.asarray(self.indices)
        if positions.dtype.kind not in "iu":  # float indices raise per sample, as in PyTorch
            return None
        return lambda indices: inner(positions[indices])


class ConcatDataset(Dataset[_T_co]):
    """Map-style datasets one after the other (torch ConcatDataset)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which == len(self.datasets):
            raise IndexError(f"index {idx} is out of range for a ConcatDataset of length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset[_T_co]):
    """Iterable datasets one after the other (torch ChainDataset)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Whole lengths, or fractions summing to 1 turned into lengths as torch does."""
    total = sum(lengths)
    if not (math.isclose(total, 1) and total <= 1):
        for i, x in enumerate(lengths):
            # torch slices with a negative length (overlapping splits) and fails deep inside
            # randperm for a fractional one; int() would silently truncate it
            if x != int(x) or x < 0:
                raise ValueError(
                    f"random_split: length at index {i} is {x}; lengths must be non-negative integers, "
                    "or fractions that sum to 1"
                )
        return [int(x) for x in lengths]
    for i, frac in enumerate(lengths):
        if not 0 <= frac <= 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
    sizes = [math.floor(n * frac) for frac in lengths]
    for i in range(n - sum(sizes)):  # the remainder goes round-robin, first splits first
        sizes[i % len(sizes)] += 1
    for i, size in enumerate(sizes):
        if size == 0:
            warnings.warn(
                f"Length of split at index {i} is 0. This might result in an empty dataset.",
                stacklevel=3,
            )
    return sizes


def random_split(
    dataset: Dataset, lengths: Sequence[float], generator: _random.Generator | None = None
) -> list[Subset]:
    """Split a dataset into non-overlapping random Subsets of the given lengths or fractions.

    torch.utils.data.random_split; the permutation comes from `generator` (default: the
    generator seeded by ember.manual_seed).
    """
    n = len(dataset)
    sizes = _split_lengths(n, lengths)
    if sum(sizes) != n:
        raise ValueError(
            "Sum of input lengths does not equal the length of the input dataset! "
            f"(lengths {list(lengths)} sum to {sum(sizes)}, the dataset has {n} samples)"
        )
    order = _random.rng(generator).permutation(n).tolist()
    ends = itertools.accumulate(sizes)
    return [Subset(dataset, order[end - size : end]) for end, size in zip(ends, sizes)]
