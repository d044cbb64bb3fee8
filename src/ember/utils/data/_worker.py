"""Worker processes for DataLoader(num_workers > 0).

The main process keeps the sampler. It sends numbered tasks (lists of indices) round-robin
to the workers' index queues, at most prefetch_factor per worker ahead, and puts the results
that come back on one shared queue in order again. A worker pickles its own result, so that a
value that cannot be pickled becomes an error message instead of a lost batch; an exception
comes back as its traceback text and is raised again in the main process. While waiting, the
main process checks that every worker is alive, so a worker that dies raises an error
instead of hanging the loop.
"""

from __future__ import annotations

import itertools
import os
import pickle
import queue
import random
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from ember import random as _random
from ember.utils.data.dataset import IterableDataset

_POLL_S = 0.1  # how often a waiting process checks on the other side
_JOIN_S = 1.0  # how long shutdown waits for a worker before terminating it


class WorkerInfo:
    """What `get_worker_info()` returns inside a worker: id, num_workers, seed and dataset."""

    def __init__(self, id: int, num_workers: int, seed: int, dataset: Any) -> None:  # noqa: A002
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset!r})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """Inside a DataLoader worker, its WorkerInfo; None in the main process (torch get_worker_info)."""
    return _worker_info


class _VerbatimMessage(str):
    """A KeyError message that prints as written, not as a quoted repr."""

    def __repr__(self) -> str:
        return str(self)


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process as its traceback text."""

    def __init__(self, where: str) -> None:
        exc_type, exc, tb = sys.exc_info()
        self.exc_type = exc_type
        self.where = where
        self.text = "".join(traceback.format_exception(exc_type, exc, tb))

    def reraise(self) -> None:
        message = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            message = _VerbatimMessage(message)
        try:
            exc = self.exc_type(message)
        except Exception:  # an exception type whose constructor wants other arguments
            raise RuntimeError(message) from None
        raise exc


class _WorkerDone:
    """An iterable dataset's copy in worker `worker_id` is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class _Reset:
    """Start a new epoch: an iterable dataset's worker restarts its iterator."""


def _dumps(idx: int, data: Any, where: str) -> bytes:
    try:
        return pickle.dumps((idx, data), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        if isinstance(data, ExceptionWrapper):  # an exception class the main process cannot rebuild
            data.exc_type = RuntimeError
        else:
            data = ExceptionWrapper(f"{where} while pickling its batch")
        return pickle.dumps((idx, data), protocol=pickle.HIGHEST_PROTOCOL)


def worker_loop(
    dataset: Any,
    index_queue: Any,
    result_queue: Any,
    make_fetcher: Callable[[Any], Callable],
    seed: int,
    worker_id: int,
    num_workers: int,
    worker_init_fn: Callable[[int], None] | None,
    parent_pid: int,
) -> None:
    """The body of a worker process: answer tasks until told to stop or orphaned."""
    global _worker_info
    where = f"in DataLoader worker process {worker_id}"
    try:
        random.seed(seed)
        np.random.seed(seed % 2**32)
        _random.manual_seed(seed)
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        init_error = fetch = None
        try:
            if worker_init_fn is not None:
                worker_init_fn(worker_id)
            fetch = make_fetcher(dataset)
        except Exception:
            init_error = ExceptionWrapper(where)
        while True:
            try:
                task = index_queue.get(timeout=_POLL_S * 10)
            except queue.Empty:
                if os.getppid() != parent_pid:  # the main process died without telling us
                    break
                continue
            if task is None:
                break
            if isinstance(task, _Reset):
                if init_error is None:
                    fetch = make_fetcher(dataset)
                continue
            idx, indices = task
            if init_error is not None:
                data = init_error
            else:
                try:
                    data = fetch(indices)
                except StopIteration:
                    # the end of an iterable dataset's copy; raised by a map-style dataset's
                    # __getitem__ it ends the epoch in the main process, as without workers
                    data = (
                        _WorkerDone(worker_id)
                        if isinstance(dataset, IterableDataset)
                        else ExceptionWrapper(where)
                    )
                except Exception:
                    data = ExceptionWrapper(where)
            result_queue.put(_dumps(idx, data, where))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the main process reports it
        pass
    result_queue.cancel_join_thread()  # results nobody will read must not keep this process alive


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


class MultiProcessIter:
    """Iterates a DataLoader with worker processes; batches come back in sampler order."""

    def __init__(self, loader: Any) -> None:
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._length = loader._length_or_none()
        ctx = loader._mp_context()
        base_seed = loader._draw_base_seed()
        self._result_queue = ctx.Queue()
        self._index_queues, self._workers = [], []
        self._closed = False
        # a worker forked for another loader inherits this object; only its creator may shut it down
        self._owner_pid = os.getpid()
        for w in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            args = (
                loader.dataset,
                index_queue,
                self._result_queue,
                loader._worker_fetcher(),
                base_seed + w,
                w,
                self._num_workers,
                loader.worker_init_fn,
                os.getpid(),
            )
            process = ctx.Process(target=worker_loop, args=args, daemon=True)
            process.start()
            self._index_queues.append(index_queue)
            self._workers.append(process)
        self._send_idx = 0
        self._begin_epoch(loader)

    def _begin_epoch(self, loader: Any) -> None:
        self._indices = iter(loader._index_sampler)
        self._first_idx = self._rcvd_idx = self._send_idx  # results numbered lower are stale
        self._results: dict[int, Any] = {}
        self._active = [True] * self._num_workers
        self._next_worker = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch * self._num_workers):
            self._send_task()

    def reset(self, loader: Any) -> None:
        """A new epoch on the same (persistent) workers."""
        loader._draw_base_seed()
        for index_queue in self._index_queues:
            index_queue.put(_Reset())
        self._begin_epoch(loader)

    def _send_task(self) -> None:
        if not any(self._active):
            return
        try:
            indices = next(self._indices)
        except StopIteration:
            return
        worker = next(self._next_worker)
        while not self._active[worker]:
            worker = next(self._next_worker)
        self._index_queues[worker].put((self._send_idx, indices))
        self._send_idx += 1

    def __iter__(self) -> MultiProcessIter:
        return self

    def __next__(self) -> Any:
        while True:
            if self._rcvd_idx == self._send_idx:  # nothing in flight and nothing left to send
                if not self._persistent:
                    self._shutdown()
                raise StopIteration
            if self._rcvd_idx in self._results:
                data = self._results.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                self._send_task()
                if isinstance(data, _WorkerDone):
                    continue
                if isinstance(data, ExceptionWrapper):
                    data.reraise()
                return data
            idx, data = self._receive()
            if idx < self._first_idx:
                continue
            if isinstance(data, _WorkerDone):
                self._active[data.worker_id] = False
            self._results[idx] = data

    def _receive(self) -> tuple[int, Any]:
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _POLL_S if deadline is None else max(0.0, min(_POLL_S, deadline - time.monotonic()))
            try:
                return pickle.loads(self._result_queue.get(timeout=wait))
            except queue.Empty:
                pass
            dead = [(w, p) for w, p in enumerate(self._workers) if not p.is_alive()]
            if dead:
                self._shutdown()
                which = ", ".join(f"worker {w} (pid {p.pid}, {_describe_exit(p.exitcode)})" for w, p in dead)
                raise RuntimeError(
                    f"DataLoader {which} exited unexpectedly. It may have been killed (for example for "
                    "lack of memory) or called os._exit; run with num_workers=0 to see the error "
                    "in the main process."
                )
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("this DataLoader has no len(): its dataset has none")
        return self._length

    def _shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        for index_queue in self._index_queues:
            try:
                index_queue.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + _JOIN_S
        for process in self._workers:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join()
        for q in [*self._index_queues, self._result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        if getattr(self, "_workers", None) is not None and getattr(self, "_owner_pid", None) == os.getpid():
            self._shutdown()
