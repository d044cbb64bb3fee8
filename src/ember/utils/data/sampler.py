"""Samplers: the order in which a DataLoader visits a dataset's indices.

Random samplers draw from `ember.random.rng(generator)`, so `ember.manual_seed` (or a
Generator passed in) makes the order reproducible. The orders differ from PyTorch's for the
same seed, as all of ember's random numbers do.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

from ember import random as _random
from ember._tensor import Tensor
from ember.creation import multinomial

# what a sampler yields: `class BySize(Sampler[int])`, or Sampler[list[int]] for batches
_T_co = TypeVar("_T_co", covariant=True)


class Sampler(Generic[_T_co]):
    """Base class: an iterable over indices (or lists of indices) of a dataset (torch Sampler)."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


def _check_positive_int(name: str, value: Any) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")


def _check_bool(name: str, value: Any, error: type[Exception]) -> None:
    if not isinstance(value, bool):
        raise error(f"{name} should be a boolean value, but got {name}={value}")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1 (torch SequentialSampler)."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices, or `num_samples` draws with replacement.

    torch RandomSampler; without replacement and with num_samples > len(data_source), whole
    permutations follow one another.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: _random.Generator | None = None,
    ) -> None:
        _check_bool("replacement", replacement, TypeError)
        self.data_source = data_source
        self.replacement = replacement
        # a NumPy integer as a Python int: divmod(np.int64(3), 0) would give (0, 0) silently
        self._num_samples = int(num_samples) if isinstance(num_samples, np.integer) else num_samples
        self.generator = generator
        # as PyTorch, the number actually drawn: an empty dataset raises here, not on iteration
        _check_positive_int("num_samples", self.num_samples)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, wanted = len(self.data_source), self.num_samples
        if n == 0:
            raise ValueError(
                f"RandomSampler cannot draw num_samples={wanted} indices from an empty data_source"
            )
        rng = _random.rng(self.generator)
        if self.replacement:
            yield from rng.integers(0, n, size=wanted).tolist()
            return
        whole, rest = divmod(wanted, n)
        for _ in range(whole):
            yield from rng.permutation(n).tolist()
        if rest:
            yield from rng.permutation(n)[:rest].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, without replacement (torch SubsetRandomSampler)."""

    def __init__(self, indices: Sequence[int], generator: _random.Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in _random.rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices drawn with probabilities proportional to `weights`.

    torch WeightedRandomSampler (weights need not sum to one).
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: _random.Generator | None = None,
    ) -> None:
        _check_positive_int("num_samples", num_samples)
        _check_bool("replacement", replacement, ValueError)
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {w.shape}")
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        # ember.multinomial's draw and errors, as PyTorch's sampler calls torch.multinomial:
        # without replacement, the zero-weight indices come last once the others are used up
        drawn = multinomial(
            Tensor(self.weights), self.num_samples, self.replacement, generator=self.generator
        )
        yield from drawn.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group another sampler's indices into lists of `batch_size` (torch BatchSampler)."""

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        _check_positive_int("batch_size", batch_size)
        _check_bool("drop_last", drop_last, ValueError)
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        it = iter(self.sampler)
        while batch := list(itertools.islice(it, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class DistributedSampler(Sampler):
    """The share of a dataset's indices that one of `num_replicas` processes visits (torch DistributedSampler).

    The (shuffled, when shuffle=True) indices are padded by repeating the first ones until
    they split evenly, or with drop_last=True cut to a multiple of num_replicas; replica
    `rank` takes every num_replicas-th index from position rank. The shuffle is seeded by
    seed + epoch, so every replica draws the same permutation: call `set_epoch` before
    each epoch for a new one. ember runs in one process, so num_replicas and rank default
    to 1 and 0 (torch takes them from the initialised process group); the permutations
    differ from torch's for the same seed.
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        num_replicas = 1 if num_replicas is None else num_replicas
        rank = 0 if rank is None else rank
        if not isinstance(num_replicas, (int, np.integer)) or num_replicas <= 0:
            raise ValueError(
                f"num_replicas should be a positive integer, but got num_replicas={num_replicas}"
            )
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            # cut the tail so that every replica gets the same number of distinct indices
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle, self.seed = shuffle, seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            generator = _random.Generator().manual_seed(self.seed + self.epoch)
            indices = _random.rng(generator).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding > 0:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Make the next shuffle that of this epoch (the same on every replica)."""
        self.epoch = epoch
