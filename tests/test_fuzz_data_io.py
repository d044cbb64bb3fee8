"""Regressions found by differential fuzzing of data loading and saving against PyTorch 2.13."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember.utils import data as D


def _torch_data():
    import torch
    import torch.utils.data as TD

    return torch, TD


# default_collate -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, "2.5", b"2", [2.0], np.array([2.0]), 1j])
def test_collate_float_batch_rejects_non_numbers(bad):
    # np.array(batch, float64) turned None into NaN and "2.5" into 2.5 silently
    with pytest.raises(TypeError, match="real number"):
        D.default_collate([1.0, bad])


@requires_torch
@pytest.mark.parametrize(
    "batch",
    [
        [1.0, 2, True, np.float32(3), np.array(4.0), 2**70],
        [np.float32(1), 2.0],
        [np.int64(1), 2.0],
        [np.array(1.0, np.float32), 2.0],
        [np.ones(2, np.float32), [3.0, 4.0]],
    ],
)
def test_collate_mixed_python_and_numpy_like_torch(batch):
    # a Python float among NumPy values is float32, as torch.as_tensor makes it (was float64)
    torch, TD = _torch_data()
    expected = TD.default_collate(batch)
    got = D.default_collate(batch)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("bad, error", [(None, RuntimeError), ("a", TypeError)])
def test_collate_numpy_batch_with_non_number_raises_type_error(bad, error):
    # was KeyError: 'O'; PyTorch's errors: "Could not infer dtype of NoneType", "invalid data type"
    with pytest.raises(error):
        D.default_collate([np.float32(1), bad])


@pytest.mark.parametrize("other", [np.ones(2), 1])
def test_collate_tensor_batch_with_other_type_names_it(other):
    with pytest.raises(TypeError, match=f"element 1 .* got {type(other).__name__}"):  # was AttributeError
        D.default_collate([ember.ones(2), other])


# DataLoader arguments ------------------------------------------------------------------


def test_prefetch_factor_negative_or_zero_raises():
    ds = D.TensorDataset(ember.arange(4))
    with pytest.raises(ValueError, match="non-negative"):
        D.DataLoader(ds, num_workers=1, prefetch_factor=-1)
    with pytest.raises(ValueError, match="greater than 0"):  # was an empty loader, silently
        D.DataLoader(ds, num_workers=1, prefetch_factor=0)


# datasets and samplers -----------------------------------------------------------------


class _Range(D.Dataset):
    def __init__(self, n, offset=0):
        self.n, self.offset = n, offset

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.offset + i


class _Batched(_Range):
    def __getitems__(self, indices):
        return [("batched", self.offset + i) for i in indices]


@requires_torch
def test_stack_dataset_getitems_like_torch():
    torch, TD = _torch_data()
    results = []
    for mod in (D, TD):
        tup = mod.StackDataset(_Range(4), _Batched(4, 10))
        named = mod.StackDataset(a=_Range(4), b=_Batched(4, 10))
        results.append((tup.__getitems__([3, 0]), named.__getitems__([1])))
    assert results[0] == results[1]
    loader = D.DataLoader(D.StackDataset(a=_Range(4), b=_Batched(4, 10)), batch_size=3, collate_fn=list)
    assert next(iter(loader)) == [{"a": i, "b": ("batched", 10 + i)} for i in range(3)]


def test_stack_dataset_getitems_checks_nested_size():
    class Short(_Range):
        def __getitems__(self, indices):
            return []

    with pytest.raises(ValueError, match="Expected 2, got 0"):
        D.StackDataset(_Range(3), Short(3)).__getitems__([0, 1])


def test_chain_dataset_len_of_map_style_dataset_raises():
    with pytest.raises(AssertionError, match="only supports IterableDataset"):  # was the sum of lengths
        len(D.ChainDataset([_Range(2)]))


@pytest.mark.parametrize("lengths", [[-1, 6], [1.5, 1.5], [0.5, 0.6]])
def test_random_split_rejects_negative_or_fractional_lengths(lengths):
    # [-1, 6] gave overlapping splits of 4 and 1; [1.5, 1.5] of a 2-sample dataset gave [1, 1]
    n = 5 if lengths[0] == -1 else 2 if lengths[0] == 1.5 else 0
    with pytest.raises(ValueError):
        D.random_split(_Range(n), lengths)


def test_random_split_whole_float_lengths_still_work():
    assert [len(s) for s in D.random_split(_Range(5), [2.0, 3.0])] == [2, 3]


@pytest.mark.parametrize("replacement", [False, True])
def test_random_sampler_empty_source_raises(replacement):
    sampler = D.RandomSampler([], replacement=replacement, num_samples=np.int64(3))
    with pytest.raises(ValueError, match="empty data_source"):  # was no indices, though len() == 3
        list(sampler)


# ember.save / ember.load -----------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("legacy", [False, True])
def test_loading_a_torch_save_file_reads_it(tmp_path, legacy):
    # ember.load refused torch.save files; it now reads them without running code
    # (tests/test_torch_format.py)
    torch, _ = _torch_data()
    path = tmp_path / "weights.pt"
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=not legacy)
    assert ember.load(path)["w"].tolist() == [1.0, 1.0]


def _patch_central_directory(data: bytes, entry: int, offset: int, value: bytes) -> bytes:
    """data with `value` written at `offset` into the entry-th central directory record."""
    start = -1
    for _ in range(entry + 1):
        start = data.index(b"PK\x01\x02", start + 1)
    return data[: start + offset] + value + data[start + offset + len(value) :]


@pytest.mark.parametrize(
    ("entry", "offset", "value"),
    [
        (0, 6, bytes([98, 0])),  # version needed to extract 9.8: NotImplementedError when opened
        (1, 8, bytes([1, 0])),  # data/0.npy flagged as encrypted: RuntimeError when read
        (0, 8, bytes([1, 0])),  # index.json flagged as encrypted
        (1, 10, bytes([99, 0])),  # an unknown compression method: NotImplementedError when read
    ],
)
def test_damaged_zip_directory_raises_naming_the_file(tmp_path, entry, offset, value):
    path = tmp_path / "model.emb"
    ember.save({"w": ember.ones(3)}, path)
    path.write_bytes(_patch_central_directory(path.read_bytes(), entry, offset, value))
    with pytest.raises(RuntimeError, match=r"model\.emb"):  # zipfile's own error did not name it
        ember.load(path)


# worker processes ----------------------------------------------------------------------


class _StopsAtOne(D.Dataset):
    def __len__(self):
        return 3

    def __getitem__(self, i):
        if i == 1:
            raise StopIteration
        return i


@pytest.mark.parametrize("num_workers", [0, 1, 2])
def test_stop_iteration_in_map_dataset_ends_the_epoch_with_or_without_workers(num_workers):
    # torch ends the epoch in both modes; ember's workers took it for the end of an iterable
    # dataset and went on with the next indices ([0, 2])
    loader = D.DataLoader(_StopsAtOne(), batch_size=1, num_workers=num_workers)
    assert [b.tolist() for b in loader] == [[0]]


def test_forked_copy_of_a_loader_iterator_does_not_shut_down_its_workers(monkeypatch):
    import os

    it = iter(D.DataLoader(D.TensorDataset(ember.arange(6)), batch_size=2, num_workers=1))
    real_pid = os.getpid()
    # a worker forked for another loader inherits this iterator; its __del__ there must not
    # tell these workers to stop nor join processes that are not its children
    monkeypatch.setattr(os, "getpid", lambda: real_pid + 1)
    it.__del__()
    monkeypatch.undo()
    assert not it._closed and all(p.is_alive() for p in it._workers)
    assert [b[0].tolist() for b in it] == [[0, 1], [2, 3], [4, 5]]


@requires_torch
def test_save_and_load_take_torchs_signatures(tmp_path):
    import inspect
    import pickle

    torch, _ = _torch_data()
    for ours, theirs in ((ember.save, torch.save), (ember.load, torch.load)):
        ours_params = inspect.signature(ours).parameters
        theirs_params = inspect.signature(theirs).parameters
        assert list(ours_params) == list(theirs_params)
        assert [p.kind for p in ours_params.values()] == [p.kind for p in theirs_params.values()]
    path = tmp_path / "w.pt"
    ember.save({"w": ember.ones(2)}, path, pickle, 4, _use_new_zipfile_serialization=True)
    # torch.load's third positional argument is pickle_module (it was taken for weights_only)
    loaded = ember.load(path, "cpu", pickle, weights_only=True, mmap=False, encoding="latin1")
    assert loaded["w"].tolist() == [1.0, 1.0]


# transforms ------------------------------------------------------------------------------


@pytest.mark.parametrize("batched", [False, True])
def test_to_tensor_of_uint8_gives_the_default_dtype(batched):
    # torchvision: img.to(dtype=torch.get_default_dtype()).div(255); ember gave float32 always
    from ember import transforms

    pics = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)
    old = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    try:
        t = transforms.ToTensor()
        out = t._apply_batch(pics) if batched else t(pics[0])
    finally:
        ember.set_default_dtype(old)
    assert out.dtype == ember.float64
    expected = pics.transpose(0, 3, 1, 2).astype(np.float64) / 255
    np.testing.assert_array_equal(out.numpy(), expected if batched else expected[0])
    assert transforms.ToTensor()(pics[0]).dtype == ember.float32


def test_save_through_a_symlink_writes_its_target(tmp_path):
    # torch.save opens the path, so it writes the file a symlink points to; ember's atomic
    # rename replaced the symlink itself with a new file and left the target as it was
    target = tmp_path / "run" / "ckpt.pt"
    target.parent.mkdir()
    ember.save({"v": 1}, target)
    link = tmp_path / "latest.pt"
    link.symlink_to(target)
    ember.save({"v": 2}, link)
    assert link.is_symlink()
    assert ember.load(target) == {"v": 2}
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_save_over_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "private.pt"
    ember.save({"v": 1}, path)
    path.chmod(0o600)
    ember.save({"v": 2}, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert ember.load(path) == {"v": 2}


@requires_torch
def test_subset_getitems_uses_the_datasets_like_torch():
    # a Subset of a dataset with __getitems__ read it sample by sample through __getitem__
    torch, TD = _torch_data()
    got = D.Subset(_Batched(6, 10), [5, 3, 1]).__getitems__([2, 0])
    assert (
        got
        == TD.Subset(_Batched(6, 10), [5, 3, 1]).__getitems__([2, 0])
        == [("batched", 11), ("batched", 15)]
    )
    assert D.Subset(_Range(6, 10), [5, 3, 1]).__getitems__([2, 0]) == [11, 15]
    loader = D.DataLoader(D.Subset(_Batched(6, 10), [5, 3]), batch_size=2, collate_fn=list)
    assert next(iter(loader)) == [("batched", 15), ("batched", 13)]


def test_subset_subclass_overriding_getitem_is_used_by_the_loader():
    class Doubled(D.Subset):
        def __getitem__(self, idx):
            return 2 * super().__getitem__(idx)

    assert Doubled(_Range(6), [4, 2]).__getitems__([0, 1]) == [8, 4]
    assert next(iter(D.DataLoader(Doubled(_Range(6), [4, 2]), batch_size=2, collate_fn=list))) == [8, 4]
