"""Futures under PyTorch's names (torch.futures): a `Future` holds a result (or an
exception) that becomes available later; `then` and `add_done_callback` chain work on it,
and `collect_all` and `wait_all` gather several.

In PyTorch they carry the results of asynchronous work (RPC, `torch.jit.fork`, collective
communication). ember runs everything eagerly in the calling thread (`ember.jit.fork`
calls its function at once), so its futures are mostly completed as soon as they exist,
but they are real ones: a Future that another thread completes wakes the threads that
`wait()` on it, and the callbacks run in the thread that completes it, or at once when it
is already complete.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
S = TypeVar("S")

__all__ = ["Future", "collect_all", "wait_all"]


class Future(Generic[T]):
    """A result to come (torch.futures.Future): completed once, by set_result or
    set_exception; wait() blocks until then and returns the result or raises the exception."""

    def __init__(self, *, devices: list[Any] | None = None) -> None:
        if devices:
            from ember._tensor import cpu_only

            for d in devices:
                cpu_only(d)
        self._done = threading.Condition()
        self._completed = False
        self._result: Any = None
        self._exception: BaseException | None = None
        self._callbacks: list[Callable[[Future[T]], Any]] = []

    def __repr__(self) -> str:
        state = "pending" if not self._completed else "failed" if self._exception is not None else "done"
        return f"<ember.futures.Future ({state}) at {id(self):#x}>"

    def done(self) -> bool:
        """Whether the future is complete, with a result or an exception."""
        return self._completed

    def wait(self) -> T:
        """Blocks until the future is complete, then returns its result or raises its
        exception."""
        with self._done:
            self._done.wait_for(lambda: self._completed)
        return self.value()

    def value(self) -> T:
        """The result of a complete future (its exception raised instead, if it failed),
        without waiting."""
        if not self._completed:
            raise RuntimeError(
                "Future.value(): the future is not complete yet; call wait() to block until it is"
            )
        if self._exception is not None:
            raise self._exception
        return self._result

    def set_result(self, result: T) -> None:
        """Completes the future with result, waking its waiters and running its callbacks."""
        self._complete(result, None)

    def set_exception(self, result: BaseException) -> None:
        """Completes the future with an exception, which wait() and value() then raise."""
        if not isinstance(result, BaseException):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        self._complete(None, result)

    def _complete(self, result: Any, exception: BaseException | None) -> None:
        with self._done:
            if self._completed:
                raise RuntimeError(
                    "Attempting to mark a completed Future as complete again. Note that a Future "
                    "can only be marked completed once."
                )
            self._result, self._exception, self._completed = result, exception, True
            callbacks, self._callbacks = self._callbacks, []
            self._done.notify_all()
        for callback in callbacks:
            callback(self)

    def then(self, callback: Callable[[Future[T]], S]) -> Future[S]:
        """A new future completed with callback(self) once this one is complete; if the
        callback raises, the new future fails with a RuntimeError naming the error."""
        chained: Future[S] = Future()

        def run(fut: Future[T]) -> None:
            try:
                value = callback(fut)
            except Exception as error:
                failure = RuntimeError(
                    f"Got the following error when running the callback: {type(error).__name__}: {error}"
                )
                failure.__cause__ = error
                chained.set_exception(failure)
            else:
                chained.set_result(value)

        self._on_completion(run)
        return chained

    def add_done_callback(self, callback: Callable[[Future[T]], None]) -> None:
        """Runs callback(self) once the future is complete (at once if it is). Its result
        is dropped; an error it raises is reported as a warning, not raised, as PyTorch
        logs it: use then() to handle errors."""

        def run(fut: Future[T]) -> None:
            try:
                callback(fut)
            except Exception as error:
                warnings.warn(
                    f"Got the following error when running the callback: {type(error).__name__}: {error}",
                    RuntimeWarning,
                    stacklevel=2,
                )

        self._on_completion(run)

    def _on_completion(self, run: Callable[[Future[T]], None]) -> None:
        with self._done:
            if not self._completed:
                self._callbacks.append(run)
                return
        run(self)


def collect_all(futures: list[Future]) -> Future[list[Future]]:
    """A future completed with the list of the given futures once all of them are
    complete (torch.futures.collect_all); it fails with the first failure among them."""
    together: Future[list[Future]] = Future()
    futures = list(futures)
    remaining = [len(futures)]
    lock = threading.Lock()

    def finish() -> None:
        failed = next((f._exception for f in futures if f._exception is not None), None)
        if failed is not None:
            together.set_exception(failed)
        else:
            together.set_result(futures)

    def one_done(_: Future) -> None:
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            finish()

    if not futures:
        together.set_result([])
    for fut in futures:
        fut._on_completion(one_done)
    return together


def wait_all(futures: list[Future]) -> list:
    """The results of the given futures, waiting for each (torch.futures.wait_all); the
    first failure among them is raised."""
    return [fut.wait() for fut in collect_all(futures).wait()]
