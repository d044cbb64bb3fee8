"""Samplers and the datasets that combine others, compared with torch.utils.data."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)

# ---- deterministic samplers: same index sequences as torch -----------------------------------


@requires_torch
@pytest.mark.parametrize(
    "n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (1, 4, False)]
)
def test_sequential_and_batch_sampler_match_torch(n, batch_size, drop_last):
    from torch.utils.data import BatchSampler as TorchBatchSampler
    from torch.utils.data import SequentialSampler as TorchSequential

    data = list(range(n))
    assert list(SequentialSampler(data)) == list(TorchSequential(data))
    ours = BatchSampler(SequentialSampler(data), batch_size, drop_last)
    theirs = TorchBatchSampler(TorchSequential(data), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert list(BatchSampler([4, 2, 7, 1, 0], 2, drop_last)) == list(
        TorchBatchSampler([4, 2, 7, 1, 0], 2, drop_last)
    )


@requires_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda m, data: m.BatchSampler(data, 0, False),
        lambda m, data: m.BatchSampler(data, True, False),
        lambda m, data: m.BatchSampler(data, 2, 1),
        lambda m, data: m.RandomSampler(data, num_samples=0),
        lambda m, data: m.RandomSampler(data, replacement=1),
        lambda m, data: m.RandomSampler(data[:0]),  # an empty dataset raises when made, not iterated
        lambda m, data: m.DataLoader(data[:0], shuffle=True),
        lambda m, data: m.WeightedRandomSampler([1.0, 2.0], 0),
        lambda m, data: m.WeightedRandomSampler([[1.0, 2.0]], 2),
        lambda m, data: m.WeightedRandomSampler([1.0, 2.0], 2, replacement=0),
    ],
)
def test_invalid_arguments_raise_like_torch(make):
    import torch.utils.data as torch_data

    import ember.utils.data as ember_data

    with pytest.raises((ValueError, TypeError)) as theirs:
        make(torch_data, [1, 2, 3])
    with pytest.raises(theirs.type) as ours:
        make(ember_data, [1, 2, 3])
    assert str(ours.value).split()[:3] == str(theirs.value).split()[:3]


# ---- random samplers: permutations, reproducible from seeds ------------------------------------


def test_random_sampler_is_a_reproducible_permutation():
    data = range(50)
    ember.manual_seed(5)
    first = list(RandomSampler(data))
    ember.manual_seed(5)
    assert list(RandomSampler(data)) == first
    assert sorted(first) == list(range(50)) and first != list(range(50))
    g1, g2 = ember.Generator().manual_seed(1), ember.Generator().manual_seed(1)
    assert list(RandomSampler(data, generator=g1)) == list(RandomSampler(data, generator=g2))


@requires_torch
def test_random_sampler_lengths_match_torch():
    from torch.utils.data import RandomSampler as TorchRandom

    data = range(10)
    for kwargs in [{}, dict(num_samples=25), dict(num_samples=4), dict(replacement=True, num_samples=30)]:
        ours, theirs = RandomSampler(data, **kwargs), TorchRandom(data, **kwargs)
        drawn = list(ours)
        assert len(ours) == len(theirs) == len(drawn) == len(list(theirs))
        assert all(0 <= i < 10 for i in drawn)
    whole = list(RandomSampler(data, num_samples=25))  # two whole permutations, then 5 more
    assert sorted(whole[:10]) == sorted(whole[10:20]) == list(range(10)) and len(set(whole[20:])) == 5


def test_subset_random_sampler_permutes_the_given_indices():
    indices = [3, 9, 12, 40, 41]
    drawn = list(SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(2)))
    assert sorted(drawn) == indices and len(SubsetRandomSampler(indices)) == 5


def test_weighted_random_sampler_follows_weights():
    weights = [0.0, 1.0, 3.0]
    drawn = np.array(list(WeightedRandomSampler(weights, 4000, generator=ember.Generator().manual_seed(0))))
    counts = np.bincount(drawn, minlength=3)
    assert counts[0] == 0 and abs(counts[2] / counts[1] - 3) < 0.4
    unique = list(WeightedRandomSampler(weights, 2, replacement=False))
    assert sorted(unique) == [1, 2]
    # past the non-zero weights, the zero-weight index comes last (torch.multinomial's rule)
    assert sorted(list(WeightedRandomSampler(weights, 3, replacement=False))[:2]) == [1, 2]
    with pytest.raises(RuntimeError, match="without replacement"):
        list(WeightedRandomSampler(weights, 4, replacement=False))
    with pytest.raises(
        RuntimeError, match="invalid multinomial distribution \\(sum of probabilities <= 0\\)"
    ):
        list(WeightedRandomSampler([0.0, 0.0], 1))


# ---- combined datasets ------------------------------------------------------------------


def test_tensor_dataset_and_subset():
    ds = TensorDataset(ember.arange(6), ember.arange(6) * 10)
    assert len(ds) == 6 and [t.item() for t in ds[2]] == [2, 20]
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(ember.zeros(3), ember.zeros(4))
    sub = Subset(ds, [5, 0, 3])
    assert len(sub) == 3 and sub[0][1].item() == 50
    assert sub[[0, 2]][0].tolist() == [5, 3]


@requires_torch
def test_concat_dataset_matches_torch():
    import torch.utils.data as torch_data

    parts = [list(range(3)), list(range(10, 15)), list(range(20, 22))]
    ours, theirs = ConcatDataset(parts), torch_data.ConcatDataset(parts)
    assert len(ours) == len(theirs) == 10 and ours.cumulative_sizes == theirs.cumulative_sizes
    for i in range(-10, 10):
        assert ours[i] == theirs[i]
    with pytest.raises(ValueError, match="absolute value of index"):
        ours[-11]
    with pytest.raises(AssertionError, match="empty"):
        ConcatDataset([])
    assert len(TensorDataset(ember.zeros(2)) + TensorDataset(ember.zeros(3))) == 5


class Count(IterableDataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self) -> int:
        return self.n


def test_chain_and_stack_datasets():
    assert list(ChainDataset([Count(2), Count(3)])) == [0, 1, 0, 1, 2]
    assert list(Count(1) + Count(2)) == [0, 0, 1]
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Count(2)])
    pairs = StackDataset([1, 2], ["a", "b"])
    assert pairs[1] == (2, "b") and len(pairs) == 2
    assert StackDataset(x=[1, 2], y=[3, 4])[0] == {"x": 1, "y": 3}
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset([1], [1, 2])


@requires_torch
@pytest.mark.parametrize("lengths", [[0.5, 0.3, 0.2], [0.33, 0.33, 0.34], [0.7, 0.3], [4, 3, 3], [1.0]])
def test_random_split_lengths_match_torch(lengths):
    import torch.utils.data as torch_data

    data = list(range(10))
    ours = random_split(data, lengths, generator=ember.Generator().manual_seed(0))
    theirs = torch_data.random_split(data, lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == data


def test_random_split_is_reproducible_and_checks_lengths():
    data = list(range(20))
    a = random_split(data, [0.5, 0.5], generator=ember.Generator().manual_seed(3))
    b = random_split(data, [0.5, 0.5], generator=ember.Generator().manual_seed(3))
    assert list(a[0]) == list(b[0]) and list(a[0]) != list(range(10))
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(data, [5, 5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(list(range(2)), [1.0, 0.0])
