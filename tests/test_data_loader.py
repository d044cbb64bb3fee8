"""DataLoader and default_collate, compared with torch.utils.data on the same datasets."""

from __future__ import annotations

import collections
import os
import signal
import time

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember.utils.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    default_collate,
    default_convert,
    get_worker_info,
)

Point = collections.namedtuple("Point", "x y")


@pytest.fixture
def deadline():
    """Fail instead of hanging: worker tests must finish within 60 s."""

    def _expired(signum, frame):
        raise TimeoutError("test took longer than 60 s (a DataLoader hang?)")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def _same(a, b) -> None:
    """An ember batch and a torch batch: same structure, shapes, dtypes and values."""
    if hasattr(b, "numpy"):
        assert _dtype_name(a) == _dtype_name(b)
        assert_close(a, b, rtol=0, atol=0)
    elif isinstance(b, dict):
        assert type(a) is type(b) and a.keys() == b.keys()
        for key in b:
            _same(a[key], b[key])
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b


class Records(Dataset):
    """Samples with every kind of leaf default_collate handles."""

    def __init__(self, n: int = 10) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return {
            "image": np.full((2, 3), i, dtype=np.float32),
            "label": i % 3,
            "weight": i / 2,
            "flag": i % 2 == 0,
            "name": f"item{i}",
            "point": Point(np.int32(i), np.float64(-i)),
            "pair": (i, [i + 1, np.arange(i, i + 2)]),
        }


class Squares(Dataset):
    def __len__(self) -> int:
        return 23

    def __getitem__(self, i: int):
        return np.array([i, i * i], dtype=np.int64), float(i)


def _data(n: int = 100):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 5)).astype(np.float32), rng.integers(0, 10, n)


# ---- default_collate ------------------------------------------------------------------------


@requires_torch
def test_collate_nested_structures_match_torch():
    from torch.utils.data import default_collate as torch_collate

    samples = [Records()[i] for i in range(4)]
    _same(default_collate(samples), torch_collate(samples))


@requires_torch
@pytest.mark.parametrize(
    "samples",
    [
        [1, 2, 3],
        [1.5, 2.0],
        [True, False],
        [np.float32(1), np.float32(2)],
        [(1, 2.0), (3, 4.0)],
        [[1, 2], [3, 4]],
        # the dtype comes from every element, not the first: 2.5 must not become 2
        [1, 2.5],
        [True, 1],
        [True, 2.5],
        [2, True],
        [(1, "s"), (2, "t")],  # strings inside a sample stay the tuple zip made
        # PyTorch's promotion, not NumPy's: float32 with int64 is float32
        [np.float32(1), np.int64(2)],
        [np.ones(2, np.float32), np.ones(2, np.int64)],
        [np.ones(2, np.int32), np.ones(2, np.float32)],
    ],
)
def test_collate_leaves_match_torch(samples):
    from torch.utils.data import default_collate as torch_collate

    _same(default_collate(samples), torch_collate(samples))


@requires_torch
def test_collate_tensors_of_mixed_dtypes_promote_as_torch():
    import torch
    from torch.utils.data import default_collate as torch_collate

    for dtypes in [("float32", "int64"), ("int32", "float32"), ("bool", "int64"), ("float64", "float32")]:
        arrays = [np.ones(3, dtypes[0]), np.arange(3).astype(dtypes[1])]
        ours = default_collate([ember.from_numpy(a) for a in arrays])
        _same(ours, torch_collate([torch.from_numpy(a) for a in arrays]))


def test_collate_python_numbers_dtypes():
    assert default_collate([1.0, 2.0]).dtype == ember.float64  # as torch: Python floats are doubles
    assert default_collate([1, 2]).dtype == ember.int64
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_collate_ragged_names_shapes():
    with pytest.raises(RuntimeError, match=r"\[3\] at entry 0 and \[4\] at entry 1"):
        default_collate([ember.zeros(3), ember.zeros(4)])
    with pytest.raises(RuntimeError, match=r"\[2, 2\] at entry 0 and \[3, 2\] at entry 2"):
        default_collate([np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((3, 2))])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])


def test_collate_unsupported_types():
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="<U1"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_collate_keeps_graph_when_samples_require_grad():
    a = ember.ones(2, requires_grad=True)
    batch = default_collate([a, a * 2])
    batch.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


class Tags(list):
    """A list subclass: default_collate and default_convert keep the type, as PyTorch does."""


@requires_torch
def test_collate_keeps_mutable_container_types_and_namedtuple_string_fields_as_torch():
    from torch.utils.data import default_collate as torch_collate
    from torch.utils.data import default_convert as torch_convert

    batches = [
        # a defaultdict is copied and updated (its factory kept), not rebuilt as a plain dict
        [collections.defaultdict(list, a=1), collections.defaultdict(list, a=2)],
        [Tags([1, 2.0]), Tags([3, 4.0])],
        # a namedtuple's field of strings stays the tuple zip makes, as a tuple's does
        [Point("a", 1.0), Point("b", 2.0)],
    ]
    for samples in batches:
        ours, theirs = default_collate(samples), torch_collate(samples)
        assert type(ours) is type(theirs)
        _same(ours, theirs)
        for sample in samples:
            ours, theirs = default_convert(sample), torch_convert(sample)
            assert type(ours) is type(theirs)
            _same(ours, theirs)
    batch = default_collate([collections.defaultdict(list, a=1), collections.defaultdict(list, a=2)])
    assert batch.default_factory is list and batch["missing"] == []


@requires_torch
def test_default_convert_matches_torch():
    from torch.utils.data import default_convert as torch_convert

    for data in [np.arange(3), (np.float64(1.0), "s"), {"a": np.ones(2, np.float32)}, Point(np.int64(1), 2)]:
        _same(default_convert(data), torch_convert(data))


# ---- batches compared with torch --------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize(
    "batch_size,drop_last", [(1, False), (16, False), (16, True), (100, False), (7, True)]
)
def test_tensor_dataset_batches_match_torch(batch_size, drop_last):
    import torch

    x, y = _data()
    ours = DataLoader(
        TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=batch_size, drop_last=drop_last
    )
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    batches = list(ours)
    assert len(batches) == len(theirs)
    for a, b in zip(batches, theirs):
        _same(a, b)


@requires_torch
@pytest.mark.parametrize("num_workers", [0, 2])
def test_map_dataset_batches_match_torch(num_workers, deadline):
    import torch

    kwargs = dict(batch_size=4, num_workers=num_workers)
    ours = list(DataLoader(Records(), **kwargs))
    theirs = list(torch.utils.data.DataLoader(Records(), **kwargs))
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        _same(a, b)


@requires_torch
def test_no_auto_batching_matches_torch():
    import torch

    ours = list(DataLoader(Squares(), batch_size=None))
    theirs = list(torch.utils.data.DataLoader(Squares(), batch_size=None))
    assert len(ours) == len(theirs) == 23
    for a, b in zip(ours, theirs):
        _same(a, b)


def _stream_class(base: type, worker_info) -> type:
    class Stream(base):
        """0..n-1, split between workers by get_worker_info as the PyTorch docs show."""

        def __init__(self, n: int) -> None:
            self.n = n

        def __iter__(self):
            info = worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(start, self.n, step))

        def __len__(self) -> int:
            return self.n

    return Stream


Stream = _stream_class(IterableDataset, get_worker_info)


@requires_torch
@pytest.mark.parametrize("num_workers,drop_last", [(0, False), (0, True), (2, False), (2, True)])
def test_iterable_dataset_matches_torch(num_workers, drop_last, deadline):
    import torch

    TorchStream = _stream_class(torch.utils.data.IterableDataset, torch.utils.data.get_worker_info)
    kwargs = dict(batch_size=4, num_workers=num_workers, drop_last=drop_last)
    ours = [b.tolist() for b in DataLoader(Stream(21), **kwargs)]
    theirs = [b.tolist() for b in torch.utils.data.DataLoader(TorchStream(21), **kwargs)]
    assert ours == theirs
    assert len(DataLoader(Stream(21), **kwargs)) == len(
        torch.utils.data.DataLoader(TorchStream(21), **kwargs)
    )


# ---- options ------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(num_workers=-1),
        dict(timeout=-1),
        dict(prefetch_factor=2),
        dict(persistent_workers=True),
        dict(shuffle=True, sampler=[0, 1]),
        dict(batch_sampler=[[0, 1]], batch_size=2),
        dict(batch_sampler=[[0, 1]], shuffle=True),
        dict(batch_sampler=[[0, 1]], drop_last=True),
        dict(batch_size=None, drop_last=True),
    ],
)
def test_exclusive_options_raise_like_torch(kwargs):
    import torch

    with pytest.raises(ValueError) as theirs:
        torch.utils.data.DataLoader(Squares(), **kwargs)
    with pytest.raises(ValueError) as ours:
        DataLoader(Squares(), **kwargs)
    assert str(ours.value).split()[:3] == str(theirs.value).split()[:3]


@pytest.mark.parametrize("option", ["shuffle", "sampler", "batch_sampler"])
def test_iterable_dataset_rejects_sampling_options(option):
    value = {"shuffle": True, "sampler": [0], "batch_sampler": [[0]]}[option]
    with pytest.raises(ValueError, match=f"expected unspecified {option} option"):
        DataLoader(Stream(3), **{option: value})


@requires_torch
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(batch_size=None, drop_last=True),
        dict(batch_size=0),
        dict(batch_size=True),
        dict(batch_size=2, drop_last=1),
        dict(sampler=False),
    ],
)
def test_iterable_dataset_checks_batching_options_like_torch(kwargs):
    # PyTorch builds a BatchSampler for an iterable dataset too (never iterated), which checks
    # batch_size and drop_last; ember batched anyway, or failed on iteration
    import torch

    TorchStream = _stream_class(torch.utils.data.IterableDataset, torch.utils.data.get_worker_info)
    with pytest.raises(ValueError) as theirs:
        torch.utils.data.DataLoader(TorchStream(5), **kwargs)
    with pytest.raises(ValueError) as ours:
        DataLoader(Stream(5), **kwargs)
    assert str(ours.value).split()[:3] == str(theirs.value).split()[:3]


def test_accepted_options_and_frozen_attributes():
    loader = DataLoader(
        Squares(), batch_size=5, pin_memory=True, pin_memory_device="", timeout=3, in_order=True
    )
    assert len(loader) == 5 and loader.pin_memory
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3


def test_custom_sampler_and_batch_sampler():
    assert [b[1].tolist() for b in DataLoader(Squares(), batch_size=2, sampler=[5, 1, 4])] == [
        [5.0, 1.0],
        [4.0],
    ]
    loader = DataLoader(Squares(), batch_sampler=[[3, 2], [9]])
    assert [b[1].tolist() for b in loader] == [[3.0, 2.0], [9.0]]


# ---- the batch path -----------------------------------------------------------------------


def _as_lists(batches):
    return [[t.tolist() for t in batch] for batch in batches]


def test_tensor_dataset_batch_path_equals_per_sample_path():
    x, y = _data(50)
    ds = TensorDataset(ember.tensor(x), ember.tensor(y))
    fast = DataLoader(ds, batch_size=8)
    slow = DataLoader(ds, batch_size=8, collate_fn=lambda batch: default_collate(batch))
    assert _as_lists(fast) == _as_lists(slow)
    sub = Subset(ds, [4, 9, 1, 30, 2])
    assert _as_lists(DataLoader(sub, batch_size=2)) == _as_lists(
        DataLoader(sub, batch_size=2, collate_fn=lambda b: default_collate(b))
    )
    assert ds._batch_fetcher() is not None and sub._batch_fetcher() is not None


def test_tensor_dataset_uses_one_gather_per_batch(monkeypatch):
    calls = []
    original = TensorDataset._batch_fetcher

    def counting(self):
        fetch = original(self)
        return lambda indices: calls.append(len(indices)) or fetch(indices)

    monkeypatch.setattr(TensorDataset, "_batch_fetcher", counting)
    batches = list(DataLoader(TensorDataset(ember.arange(10), ember.arange(10) * 2), batch_size=4))
    assert calls == [4, 4, 2] and batches[2][1].tolist() == [16, 18]


@requires_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda D, ds: D.DataLoader(D.Subset(ds, [1.7, 2.2]), batch_size=2),
        lambda D, ds: D.DataLoader(ds, sampler=[1.7, 2.2], batch_size=2),
        lambda D, ds: D.DataLoader(ds, batch_sampler=[[1.0, 2.0]]),
    ],
)
def test_float_indices_raise_on_the_batch_path_as_torch(make):
    # the one-gather batch path cast indices to int64, so 1.7 silently read sample 1
    import torch

    with pytest.raises(IndexError) as theirs:
        list(make(torch.utils.data, torch.utils.data.TensorDataset(torch.arange(10) * 2)))
    with pytest.raises(IndexError) as ours:
        list(make(ember.utils.data, TensorDataset(ember.arange(10) * 2)))
    assert str(ours.value).split()[:4] == str(theirs.value).split()[:4]


def test_subclass_overriding_getitem_is_respected():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            return tuple(t[i] * 2 for t in self.tensors)

    ds = Doubled(ember.arange(6))
    assert ds._batch_fetcher() is None
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=3)] == [[0, 2, 4], [6, 8, 10]]


# ---- shuffling ----------------------------------------------------------------------------


def _order(loader) -> list[int]:
    return [i for batch in loader for i in batch[1].tolist()]


def test_shuffle_is_reproducible_from_manual_seed_and_generator(deadline):
    ds = TensorDataset(ember.zeros(40, 1), ember.arange(40))
    ember.manual_seed(3)
    first = _order(DataLoader(ds, batch_size=8, shuffle=True))
    ember.manual_seed(3)
    again = _order(DataLoader(ds, batch_size=8, shuffle=True))
    ember.manual_seed(3)
    workers = _order(DataLoader(ds, batch_size=8, shuffle=True, num_workers=2))
    assert first == again == workers and sorted(first) == list(range(40)) and first != list(range(40))
    g = ember.Generator().manual_seed(7)
    a = _order(DataLoader(ds, batch_size=8, shuffle=True, generator=g))
    b = _order(DataLoader(ds, batch_size=8, shuffle=True, generator=ember.Generator().manual_seed(7)))
    assert a == b
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    assert _order(loader) != _order(loader)  # a new permutation every epoch


# ---- worker processes ---------------------------------------------------------------------


class Failing(Dataset):
    def __init__(self, bad: int, error: type = ValueError) -> None:
        self.bad, self.error = bad, error

    def __len__(self) -> int:
        return 16

    def __getitem__(self, i: int):
        if i == self.bad:
            raise self.error(f"sample {i} is broken")
        return i


class Dying(Dataset):
    def __init__(self, how: str) -> None:
        self.how = how

    def __len__(self) -> int:
        return 16

    def __getitem__(self, i: int):
        if i == 9 and get_worker_info() is not None:
            if self.how == "exit":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)
        return i


class Slow(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        time.sleep(5)
        return i


class Unpicklable(Dataset):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int):
        return {"f": lambda: i}


def test_workers_keep_order_and_match_single_process(deadline):
    x, y = _data(103)
    ds = TensorDataset(ember.tensor(x), ember.tensor(y))
    single = _as_lists(DataLoader(ds, batch_size=10))
    for workers, prefetch in [(1, 1), (2, 2), (3, 4)]:
        loader = DataLoader(ds, batch_size=10, num_workers=workers, prefetch_factor=prefetch)
        assert len(loader) == 11
        assert _as_lists(loader) == single


def test_worker_exception_carries_traceback(deadline):
    loader = DataLoader(Failing(bad=6), batch_size=4, num_workers=2)
    with pytest.raises(ValueError) as info:
        list(loader)
    text = str(info.value)
    assert "Caught ValueError in DataLoader worker process 1" in text
    assert "Traceback (most recent call last)" in text and "__getitem__" in text
    assert "sample 6 is broken" in text


def test_worker_keyerror_message_is_readable(deadline):
    with pytest.raises(KeyError) as info:
        list(DataLoader(Failing(bad=1, error=KeyError), batch_size=2, num_workers=1))
    assert "\n" in str(info.value)  # printed as written, not as an escaped repr


@pytest.mark.parametrize("how,status", [("exit", "exit code 3"), ("kill", "killed by signal 9")])
def test_dying_worker_raises_instead_of_hanging(how, status, deadline):
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=rf"DataLoader worker 0 \(pid \d+, {status}\) exited unexpectedly"):
        list(DataLoader(Dying(how), batch_size=4, num_workers=2))
    assert time.monotonic() - start < 20


def test_spawn_start_method(deadline):
    ds = TensorDataset(ember.arange(50), ember.arange(50) * 2)
    loader = DataLoader(ds, batch_size=20, num_workers=2, multiprocessing_context="spawn")
    assert _as_lists(loader) == _as_lists(DataLoader(ds, batch_size=20))


def test_timeout_raises(deadline):
    it = iter(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.3))
    with pytest.raises(RuntimeError, match="timed out after 0.3 seconds"):
        next(it)
    it._shutdown()  # now, rather than whenever the garbage collector gets to it


def test_unpicklable_batch_is_reported(deadline):
    with pytest.raises(Exception, match="pickling its batch"):
        list(DataLoader(Unpicklable(), batch_size=None, num_workers=1))


class Seeds(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        info = get_worker_info()
        return np.array([info.id, info.num_workers, ember.rand(1).item() * 1e6])


def test_worker_info_seeds_and_init_fn(deadline):
    assert get_worker_info() is None
    calls = []
    rows = [b[0].tolist() for b in DataLoader(Seeds(), num_workers=2, worker_init_fn=calls.append)]
    assert [r[:2] for r in rows] == [[0, 2], [1, 2], [0, 2], [1, 2]]
    assert rows[0][2] != rows[1][2]  # each worker has its own random stream
    assert calls == []  # worker_init_fn ran in the workers, not here

    def broken_init(worker_id):
        raise OSError(f"init {worker_id} failed")

    with pytest.raises(OSError, match="init 0 failed"):
        list(DataLoader(Seeds(), num_workers=1, worker_init_fn=broken_init))


def test_persistent_workers_serve_several_epochs(deadline):
    x, y = _data(30)
    ds = TensorDataset(ember.tensor(x), ember.tensor(y))
    loader = DataLoader(ds, batch_size=7, num_workers=2, persistent_workers=True)
    single = _as_lists(DataLoader(ds, batch_size=7))
    first = _as_lists(loader)
    it = iter(loader)
    next(it)  # an abandoned epoch must not leak batches into the next one
    assert first == _as_lists(loader) == single
    workers = loader._iterator._workers
    assert all(p.is_alive() for p in workers)
    stream = DataLoader(Stream(10), batch_size=3, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in stream] == [b.tolist() for b in stream]


def test_workers_are_shut_down_after_the_epoch(deadline):
    loader = DataLoader(TensorDataset(ember.arange(10)), batch_size=3, num_workers=2)
    it = iter(loader)
    workers = list(it._workers)
    list(it)
    assert not any(p.is_alive() for p in workers)
