"""Start N processes running one function and wait for them (torch.multiprocessing.spawn).

Process i runs `fn(i, *args)`. If one of them fails, the parent stops the others and
raises: a `ProcessRaisedException` whose message holds the child's traceback when the
child raised, a `ProcessExitedException` with the exit code or signal when it died
otherwise (`sys.exit(3)`, killed). A child reports its traceback through a file of its
own in the temporary directory (a one-shot message that cannot fill a pipe and block),
which the parent reads and removes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

__all__ = [
    "ProcessContext",
    "ProcessException",
    "ProcessExitedException",
    "ProcessRaisedException",
    "SpawnContext",
    "spawn",
    "start_processes",
]


class ProcessException(Exception):
    """A process started by spawn/start_processes failed: `error_index` is its index i,
    `error_pid` its process id."""

    def __init__(self, msg: str, error_index: int, error_pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.error_pid = msg, error_index, error_pid

    def __reduce__(self) -> tuple:
        return type(self), (self.msg, self.error_index, self.error_pid)


class ProcessRaisedException(ProcessException):
    """The process's function raised; the message ends with the child's traceback."""


class ProcessExitedException(ProcessException):
    """The process ended with a non-zero exit code (`exit_code`) or was killed by a signal
    (`exit_code` is minus its number, `signal_name` its name, e.g. "SIGKILL")."""

    def __init__(
        self, msg: str, error_index: int, error_pid: int, exit_code: int, signal_name: str | None = None
    ) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self) -> tuple:
        return type(self), (self.msg, self.error_index, self.error_pid, self.exit_code, self.signal_name)


def _interrupt_when_orphaned() -> None:
    """Ask Linux to send this process SIGINT when its parent dies (prctl PR_SET_PDEATHSIG),
    so that a non-daemonic child does not run on alone; elsewhere, nothing."""
    if sys.platform != "linux":
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGINT))  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run(fn: Callable[..., Any], i: int, args: tuple, error_file: str) -> None:
    """The body of process i: fn(i, *args); an exception's traceback goes to error_file and
    the process exits with status 1. Ctrl-C (the parent stopping it, or dying) is a quiet
    exit."""
    _interrupt_when_orphaned()
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        with open(error_file, "w", encoding="utf-8") as f:
            f.write(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The processes start_processes(join=False) started: `processes`, `pids()`, and
    `join()` to wait for them."""

    def __init__(self, processes: list, error_files: list[str]) -> None:
        self.processes = processes
        self.error_files = error_files
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self) -> list[int]:
        return [int(p.pid) for p in self.processes]

    def _join_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for p in self.processes:
            p.join(max(0.0, deadline - time.monotonic()))

    def join(self, timeout: float | None = None, grace_period: float | None = None) -> bool:
        """Wait (at most timeout seconds) until a process ends; True once all have ended
        successfully, False while some still run. When one has failed, the others get
        grace_period seconds to end, are then terminated (SIGTERM, then SIGKILL after
        another grace period, 30 s if none was given), and the failure is raised as a
        ProcessRaisedException or ProcessExitedException."""
        if not self.sentinels:
            return True
        from multiprocessing.connection import wait  # imported when used: ember's import stays light

        ready = wait(list(self.sentinels), timeout=timeout)
        failed = None
        for sentinel in ready:
            index = self.sentinels.pop(sentinel)
            self.processes[index].join()
            if self.processes[index].exitcode != 0:
                failed = index
                break
        if failed is None:
            if not self.sentinels:
                self._remove_error_files()
            return not self.sentinels
        self._stop_all(grace_period)
        self._raise_failure(failed)
        return False  # not reached

    def _stop_all(self, grace_period: float | None) -> None:
        if grace_period is not None:
            self._join_all(grace_period)
        for p in self.processes:
            if p.is_alive():
                p.terminate()
        self._join_all(30 if grace_period is None else grace_period)
        for p in self.processes:
            if p.is_alive():
                p.kill()
            p.join()
        self.sentinels.clear()

    def _raise_failure(self, index: int) -> None:
        process = self.processes[index]
        try:
            with open(self.error_files[index], encoding="utf-8") as f:
                trace = f.read()
        except OSError:
            trace = None
        self._remove_error_files()
        if trace is not None:
            msg = f"\n\n-- Process {index} terminated with the following error:\n{trace}"
            raise ProcessRaisedException(msg, index, process.pid)
        code = process.exitcode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"<Unknown signal {-code}>"
            raise ProcessExitedException(
                f"process {index} terminated with signal {name}", index, process.pid, code, name
            )
        raise ProcessExitedException(
            f"process {index} terminated with exit code {code}", index, process.pid, code
        )

    def _remove_error_files(self) -> None:
        for path in self.error_files:
            try:
                os.unlink(path)
            except OSError:
                pass


class SpawnContext(ProcessContext):
    """ProcessContext's old name (deprecated in PyTorch since 1.4)."""

    def __init__(self, processes: list, error_files: list[str]) -> None:
        warnings.warn("SpawnContext is renamed to ProcessContext since 1.4 release.", stacklevel=2)
        super().__init__(processes, error_files)


def _error_file() -> str:
    """A path in the temporary directory that no file has yet: the child creates it only
    when it has a traceback to report."""
    import tempfile

    fd, path = tempfile.mkstemp(prefix="ember-errorfile-", suffix=".txt")
    os.close(fd)
    os.unlink(path)
    return path


def start_processes(
    fn: Callable[..., Any],
    args: tuple = (),
    nprocs: int = 1,
    join: bool = True,
    daemon: bool = False,
    start_method: str = "spawn",
) -> ProcessContext | None:
    """Start nprocs processes by start_method ("spawn", "fork" or "forkserver"), process i
    running fn(i, *args) (torch.multiprocessing.start_processes). With join (the default),
    wait for all of them and return None, raising as ProcessContext.join does if one fails;
    otherwise return the ProcessContext at once."""
    ctx = multiprocessing.get_context(start_method)
    processes, error_files = [], []
    for i in range(nprocs):
        error_file = _error_file()
        process = ctx.Process(target=_run, args=(fn, i, args, error_file), daemon=daemon)
        process.start()
        processes.append(process)
        error_files.append(error_file)
    context = ProcessContext(processes, error_files)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(
    fn: Callable[..., Any],
    args: tuple = (),
    nprocs: int = 1,
    join: bool = True,
    daemon: bool = False,
    start_method: str = "spawn",
) -> ProcessContext | None:
    """start_processes with the "spawn" start method (torch.multiprocessing.spawn): fn must
    be importable by the children (defined at the top level of a module). Another
    start_method warns (FutureWarning) and is ignored, as in PyTorch; use start_processes."""
    if start_method != "spawn":
        warnings.warn(
            f"This method only supports start_method=spawn (got: {start_method}).\n"
            "To use a different start_method use:\n\t\t ember.multiprocessing.start_processes(...)",
            FutureWarning,
            stacklevel=2,
        )
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
