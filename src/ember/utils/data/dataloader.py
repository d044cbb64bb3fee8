"""DataLoader: batches from a dataset, in the main process or in worker processes.

The loader turns a sampler's indices into batches: a BatchSampler groups indices, a
fetcher reads the samples and a collate function stacks them. With the default collate_fn,
a dataset that offers a batch path (TensorDataset, Subset of one, MNIST with its standard
transforms) is read with one fancy-indexing call per tensor instead of a loop over samples.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

import numpy as np

from ember import random as _random
from ember.utils.data._collate import default_collate, default_convert
from ember.utils.data._worker import MultiProcessIter
from ember.utils.data.dataset import Dataset, IterableDataset
from ember.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


class _InfiniteConstantSampler(Sampler):
    """The index sampler of an iterable dataset: the dataset itself decides what comes next."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


class _IterableFetcher:
    """Reads the next sample, or the next batch_size samples, from a dataset's iterator."""

    def __init__(
        self,
        dataset: IterableDataset,
        auto_collation: bool,
        collate_fn: Callable,
        batch_size: Any,
        drop_last: bool,
    ) -> None:
        self.iterator = iter(dataset)
        self.auto_collation, self.collate_fn = auto_collation, collate_fn
        self.batch_size, self.drop_last = batch_size, drop_last
        self.ended = False

    def __call__(self, _indices: Any) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            try:
                return self.collate_fn(next(self.iterator))
            except StopIteration:
                self.ended = True
                raise
        batch = list(itertools.islice(self.iterator, self.batch_size))
        if len(batch) < self.batch_size:
            self.ended = True
            if not batch or self.drop_last:
                raise StopIteration
        return self.collate_fn(batch)


def make_fetcher(
    is_iterable: bool,
    auto_collation: bool,
    collate_fn: Callable,
    batch_size: Any,
    drop_last: bool,
    dataset: Any,
) -> Callable[[Any], Any]:
    """A function from what the index sampler yields to a batch (or a sample)."""
    if is_iterable:
        return _IterableFetcher(dataset, auto_collation, collate_fn, batch_size, drop_last)
    if not auto_collation:
        return lambda index: collate_fn(dataset[index])
    batch_path = getattr(dataset, "_batch_fetcher", None)
    fast = batch_path() if batch_path is not None and collate_fn is default_collate else None
    if fast is not None:

        def fetch(indices: Any) -> Any:
            positions = np.asarray(indices)
            if positions.dtype.kind not in "iu":
                # a float (or bool) index from a custom sampler: each sample's own indexing
                # raises PyTorch's error, where casting would pick other samples silently
                return collate_fn([dataset[i] for i in indices])
            return fast(positions)

        return fetch
    getitems = getattr(dataset, "__getitems__", None)
    if getitems is not None:
        return lambda indices: collate_fn(getitems(indices))
    return lambda indices: collate_fn([dataset[i] for i in indices])


class _SingleProcessIter:
    """Iterates a DataLoader in the calling process."""

    def __init__(self, loader: DataLoader) -> None:
        loader._draw_base_seed()
        self._fetch = make_fetcher(*loader._fetcher_args(), loader.dataset)
        self._indices = iter(loader._index_sampler)
        self._length = loader._length_or_none()

    def __iter__(self) -> _SingleProcessIter:
        return self

    def __next__(self) -> Any:
        return self._fetch(next(self._indices))

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("this DataLoader has no len(): its dataset has none")
        return self._length


_FROZEN_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


def _warn_pin_memory(pin_memory_device: str) -> None:
    """PyTorch's warnings, on each new iterator, that pin_memory=True does nothing without an
    accelerator (ember has none); stacklevel 3 names the caller's `for` or `iter()` line."""
    if pin_memory_device:
        warnings.warn(
            "pin_memory_device is deprecated, the current accelerator will be used as the device,"
            f"ignore pin_memory_device='{pin_memory_device}'.",
            stacklevel=3,
        )
    warnings.warn(
        "'pin_memory' argument is set as true but no accelerator is found, "
        "then device pinned memory won't be used.",
        stacklevel=3,
    )


_T_co = TypeVar("_T_co", covariant=True)  # the type of a batch: DataLoader[Tensor]


class DataLoader(Generic[_T_co]):
    """Iterate over a dataset in batches (torch.utils.data.DataLoader).

    Same arguments, defaults and errors as PyTorch. `pin_memory` and `pin_memory_device`
    are accepted and do nothing (ember runs on the CPU), with PyTorch's warning that says
    so. Worker processes (`num_workers > 0`) use the standard library's multiprocessing,
    with the fork start method where the platform has it; batches arrive in sampler order
    (in_order=False is accepted and changes nothing).
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: _random.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing. "
                "Let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if num_workers > 0 and prefetch_factor == 0:
            # torch asserts when iterating; no task would ever be sent, so the loader would be empty
            raise ValueError(
                "prefetch_factor must be greater than 0 with worker processes (it is the number of "
                "batches each worker loads ahead); leave it None for the default, 2"
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            for name, value, given in (
                ("shuffle", shuffle, shuffle not in (None, False)),
                ("sampler", sampler, sampler is not None),
                ("batch_sampler", batch_sampler, batch_sampler is not None),
            ):
                if given:
                    raise ValueError(
                        f"DataLoader with IterableDataset: expected unspecified {name} option, but got "
                        f"{name}={value}"
                    )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                    "and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )
        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            else:
                sampler = (
                    RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
                )
        if batch_size is not None and batch_sampler is None:
            # for an iterable dataset too, as PyTorch: it is never iterated (the dataset's own
            # iterator gives the samples), but it checks batch_size and drop_last
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else default_convert)
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = 2 if num_workers > 0 and prefetch_factor is None else prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._iterator: MultiProcessIter | None = None
        self._initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FROZEN_AFTER_INIT and getattr(self, "_initialized", False):
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._is_iterable and self.batch_size is not None)

    @property
    def _index_sampler(self) -> Iterable:
        if self._is_iterable or not self._auto_collation:
            return self.sampler
        return self.batch_sampler

    def _fetcher_args(self) -> tuple:
        return (self._is_iterable, self._auto_collation, self.collate_fn, self.batch_size, self.drop_last)

    def _draw_base_seed(self) -> int:
        """The seed that worker i uses (base + i); drawn in every mode so that the random
        stream, and so the shuffling order, does not depend on num_workers."""
        return int(_random.rng(self.generator).integers(2**62))

    def _mp_context(self) -> Any:
        ctx = self.multiprocessing_context
        if ctx is None:
            methods = multiprocessing.get_all_start_methods()
            return multiprocessing.get_context("fork" if "fork" in methods else None)
        return multiprocessing.get_context(ctx) if isinstance(ctx, str) else ctx

    def _worker_fetcher(self) -> Callable[[Any], Callable]:
        return functools.partial(make_fetcher, *self._fetcher_args())

    def _length_or_none(self) -> int | None:
        try:
            return len(self)
        except TypeError:
            return None

    def __iter__(self) -> Iterator[Any]:
        if self.pin_memory:
            _warn_pin_memory(self.pin_memory_device)
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if not self.persistent_workers:
            return MultiProcessIter(self)
        if self._iterator is None:
            self._iterator = MultiProcessIter(self)
        else:
            self._iterator.reset(self)
        return self._iterator

    def __len__(self) -> int:
        if self._is_iterable:
            n = len(self.dataset)  # TypeError when the dataset has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)  # type: ignore[arg-type]
