"""utils.data.DistributedSampler against torch's with explicit num_replicas and rank."""

from __future__ import annotations

import pytest

import ember
from conftest import requires_torch
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset


@requires_torch
@pytest.mark.parametrize("n", [0, 1, 7, 10, 12])
@pytest.mark.parametrize("replicas", [1, 3, 4, 13])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_indices_match_torch(n, replicas, drop_last):
    import torch.utils.data as tud

    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        ref = tud.DistributedSampler(
            data, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last
        )
        assert list(ours) == list(ref) and len(ours) == len(ref)
        assert (ours.num_samples, ours.total_size) == (ref.num_samples, ref.total_size)


@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_shares_partition_one_permutation(drop_last):
    n, replicas = 10, 3
    shares = [
        list(DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=5, drop_last=drop_last))
        for r in range(replicas)
    ]
    assert len({len(s) for s in shares}) == 1
    everything = [i for s in shares for i in s]
    if drop_last:  # 9 distinct indices, none repeated
        assert len(everything) == 9 and len(set(everything)) == 9
    else:  # all 10, two of them twice (the padding repeats the permutation's start)
        assert len(everything) == 12 and set(everything) == set(range(n))
    sampler = DistributedSampler(range(n), num_replicas=replicas, rank=0, seed=5, drop_last=drop_last)
    assert list(sampler) == shares[0]  # seed + epoch fixes the order, the global RNG plays no part
    ember.manual_seed(123)
    assert list(sampler) == shares[0]
    sampler.set_epoch(1)
    assert sampler.epoch == 1 and list(sampler) != shares[0]
    other_seed = DistributedSampler(range(n), num_replicas=replicas, rank=0, seed=6, drop_last=drop_last)
    assert list(other_seed) != shares[0]


def test_defaults_errors_and_data_loader():
    sampler = DistributedSampler(range(5))
    assert (sampler.num_replicas, sampler.rank, sampler.shuffle, sampler.seed) == (1, 0, True, 0)
    assert sorted(sampler) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="Invalid rank 3, rank should be in the interval \\[0, 2\\]"):
        DistributedSampler(range(5), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(5), num_replicas=3, rank=-1)
    with pytest.raises(ValueError, match="num_replicas should be a positive integer"):
        DistributedSampler(range(5), num_replicas=0, rank=0)
    ds = TensorDataset(ember.arange(10))
    loader = DataLoader(
        ds, batch_size=2, sampler=DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    )
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]
