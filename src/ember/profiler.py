"""The profiler of PyTorch's performance tutorials (torch.profiler): `profile` with
schedules over training steps, `record_function`, `tensorboard_trace_handler`.

It records with ember.autograd.profiler (which says what an event is and why profiling
costs nothing when off); this module adds the step schedule: a `profile` told
`schedule=schedule(wait=1, warmup=1, active=3)` records only the active steps that
`prof.step()` marks, and hands each finished cycle to `on_trace_ready`.
"""

from __future__ import annotations

import enum
import json
import os
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from ember.autograd import profiler as _legacy
from ember.autograd.profiler import record_function
from ember.autograd.profiler_util import EventList, chrome_trace

__all__ = [
    "ProfilerAction",
    "ProfilerActivity",
    "itt",
    "profile",
    "record_function",
    "schedule",
    "supported_activities",
    "tensorboard_trace_handler",
]


class ProfilerActivity(enum.Enum):
    """What a profile records (torch.profiler.ProfilerActivity). ember records CPU
    activity; the device kinds are accepted with a warning, as PyTorch does on a machine
    without them."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What a schedule asks of a step (torch.profiler.ProfilerAction)."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def supported_activities() -> set[ProfilerActivity]:
    """The activities ember can record: the CPU."""
    return {ProfilerActivity.CPU}


def schedule(
    *, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0, skip_first_wait: int = 0
) -> Callable[[int], ProfilerAction]:
    """The step -> ProfilerAction function of a profiling cycle (torch.profiler.schedule):
    after `skip_first` steps, each cycle waits `wait` steps, warms up for `warmup`, records
    `active` (the last one RECORD_AND_SAVE, when the cycle's trace is handed on), for
    `repeat` cycles (0: until the profile ends). `skip_first_wait` drops the first cycle's
    wait."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} (need >= 0), "
            f"active={active} (need > 0), repeat={repeat} (need >= 0), skip_first={skip_first} (need >= 0)."
        )
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait  # the first cycle starts at its warmup
        if repeat > 0 and step >= repeat * cycle:
            return ProfilerAction.NONE
        phase = step % cycle
        if phase < wait:
            return ProfilerAction.NONE
        if phase < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if phase < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def tensorboard_trace_handler(
    dir_name: str, worker_name: str | None = None, use_gzip: bool = False, use_python_export: bool = False
) -> Callable[[Any], None]:
    """An `on_trace_ready` that writes each cycle's Chrome trace into `dir_name` as
    `<worker_name>.<time in ns>.pt.trace.json` (`.gz` with use_gzip), the files
    TensorBoard's profiler plugin reads; `worker_name` defaults to "<host>_<pid>"."""

    def handler(prof: Any) -> None:
        try:
            os.makedirs(dir_name, exist_ok=True)
        except OSError as e:
            raise RuntimeError("Can't create directory: " + dir_name) from e
        import socket

        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{name}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, file_name))

    return handler


class _Itt:
    """torch.profiler.itt: Intel ITT annotations for VTune. ember emits none: `is_available()`
    is False and the annotations do nothing."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def mark(msg: str) -> None:
        return None

    @staticmethod
    def range_push(msg: str) -> None:
        return None

    @staticmethod
    def range_pop() -> None:
        return None

    @staticmethod
    def range(msg: str, *args: Any, **kwargs: Any) -> _legacy.emit_itt:
        return _legacy.emit_itt()


itt = _Itt()


class profile:
    """Profile the ops, backward nodes and `record_function` blocks of a region
    (torch.profiler.profile), as a `with` block or with start()/stop(). With a `schedule`,
    call `prof.step()` after each training step: only the steps the schedule marks RECORD
    are recorded (each as a `ProfilerStep#N` event), and `on_trace_ready(prof)` is called at
    the end of each cycle. Without one, everything between start and stop is recorded.
    Afterwards: `key_averages().table(sort_by="cpu_time_total")`, `events()`,
    `export_chrome_trace(path)`."""

    def __init__(
        self,
        *,
        activities: Iterable[ProfilerActivity] | None = None,
        schedule: Callable[[int], ProfilerAction] | None = None,
        on_trace_ready: Callable[..., Any] | None = None,
        record_shapes: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_flops: bool = False,
        with_modules: bool = False,
        experimental_config: Any = None,
        execution_trace_observer: Any = None,
        acc_events: bool = False,
        use_cuda: bool | None = None,
        custom_trace_id_callback: Callable[[], str] | None = None,
        post_processing_timeout_s: float | None = None,
    ) -> None:
        activities = set(activities) if activities is not None else supported_activities()
        if use_cuda or activities - supported_activities():
            warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
        self.activities = activities & supported_activities()
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.on_trace_ready = on_trace_ready
        self.record_steps = schedule is not None
        self.schedule = schedule if schedule is not None else _always_record
        self.step_num = 0
        self.current_action = self.schedule(0)
        if self.current_action == ProfilerAction.DEVICE_STOPPED:
            raise ValueError(
                "ProfilerAction.DEVICE_STOPPED is set internally by the "
                "profiler and must not be returned by a user-provided schedule"
            )
        self.profiler: _legacy.profile | None = None
        self._step_block: record_function | None = None
        self._cycle_warned = False

    # ---- recording ----------------------------------------------------------------------

    def _start_trace(self) -> None:
        if self.profiler is not None and not self.acc_events and not self._cycle_warned:
            warnings.warn(
                "Warning: Profiler clears events at the end of each cycle. Only events from the "
                "current cycle will be reported. To keep events across cycles, set acc_events=True.",
                stacklevel=4,
            )
            self._cycle_warned = True
        previous = self.profiler.function_events if self.acc_events and self.profiler is not None else None
        self.profiler = _legacy.profile(
            record_shapes=self.record_shapes,
            with_flops=self.with_flops,
            profile_memory=self.profile_memory,
            with_stack=self.with_stack,
            with_modules=self.with_modules,
            acc_events=self.acc_events,
        )
        self.profiler.function_events = previous
        self.profiler.__enter__()

    def _stop_trace(self) -> None:
        if self.profiler is not None and self.profiler._entered:
            self.profiler.__exit__(None, None, None)

    def _trace_ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _transit(self, before: ProfilerAction | None, after: ProfilerAction | None) -> None:
        """Start and stop recording as the schedule moves from `before` to `after` (None:
        the profile's start or stop)."""
        recording = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if before == ProfilerAction.RECORD_AND_SAVE:  # the cycle ends, whatever comes next
            self._stop_trace()
            self._trace_ready()
            if after in recording:
                self._start_trace()
        elif before in recording:
            if after in (ProfilerAction.NONE, ProfilerAction.WARMUP):
                warnings.warn(f"Incorrect schedule: RECORD followed by {after.name}", stacklevel=3)
            if after not in recording:
                self._stop_trace()
                if after is None:
                    self._trace_ready()
        elif after in recording:
            self._start_trace()
        elif before == ProfilerAction.WARMUP and after == ProfilerAction.NONE:
            warnings.warn("Incorrect schedule: WARMUP followed by NONE", stacklevel=3)

    def start(self) -> None:
        """Begin profiling (what entering the `with` block does)."""
        self._transit(None, self.current_action)
        if self.record_steps:
            self._step_block = record_function(f"ProfilerStep#{self.step_num}")
            self._step_block.__enter__()

    def stop(self) -> None:
        """End profiling; a cycle still recording is handed to `on_trace_ready`."""
        if self._step_block is not None:
            self._step_block.__exit__(None, None, None)
            self._step_block = None
        self._transit(self.current_action, None)

    def step(self) -> None:
        """Mark the end of a training step: the schedule decides what the next one does."""
        if self._step_block is not None:
            self._step_block.__exit__(None, None, None)
            self._step_block = None
        before = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(before, self.current_action)
        if self.record_steps:
            self._step_block = record_function(f"ProfilerStep#{self.step_num}")
            self._step_block.__enter__()

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ---- results ------------------------------------------------------------------------

    def events(self) -> EventList:
        """Every event of the last recorded cycle (all cycles with acc_events=True)."""
        if self.profiler is None or self.profiler.function_events is None:
            return EventList()
        return self.profiler.function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0) -> EventList:
        """The events averaged per name, with `.table()` (see EventList.key_averages)."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path: str) -> None:
        """Write the recorded events to `path` as a Chrome trace (JSON; gzipped when the
        name ends in .gz)."""
        base = (
            self.profiler._recorder.epoch_ns if self.profiler is not None and self.profiler._recorder else 0
        )
        trace = chrome_trace(self.events(), base)
        if path.endswith(".gz"):
            import gzip

            with gzip.open(path, "wt") as f:
                json.dump(trace, f)
        else:
            with open(path, "w") as f:
                json.dump(trace, f)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Write the recorded stacks (with_stack=True) in flamegraph.pl's input format."""
        self.events().export_stacks(path, metric)
