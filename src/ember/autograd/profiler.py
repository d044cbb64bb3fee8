"""Where a step's time goes: the profiler's recording, and its legacy API
(torch.autograd.profiler).

What is timed. Every op is a `Function` (autograd/function.py), so the profiler times
ops by their `forward` and nodes by their `backward`: an op's event is named after its
class (`Mul`, `Matmul`, `Linear`) and a backward node's after `grad_fn.name()`
(`MulBackward0`), where PyTorch names its kernels (`aten::mul`). The operators' fast path
(ops/fastpath.py) runs its ufunc without calling forward: its event times that ufunc.
Optimizers' steps are events as in PyTorch (`Optimizer.step#SGD.step`), modules' forwards
with `with_modules=True` (`nn.Module: Linear`), and any block a user names with
`record_function`.

Costing nothing when off. None of this is checked on the hot path: while a profile
records, `_Instruments.install` replaces each Function class's `forward` and `backward`,
the fast path's ufuncs (cells of its closures) and two of its functions, and each
optimizer class's `step` with timed versions, and puts them back on exit. A program that never profiles runs exactly the code
it ran before. The price is paid while profiling: each timed call costs a few
microseconds more, which lands in its parent's self time.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.autograd.function import Function
from ember.autograd.profiler_util import EventList, FunctionEvent, FunctionEventAvg, chrome_trace

__all__ = [
    "EventList",
    "FunctionEvent",
    "FunctionEventAvg",
    "emit_itt",
    "emit_nvtx",
    "profile",
    "record_function",
]

_clock = time.perf_counter_ns
_recording: list = [None]  # the _Recorder of the running profile, or None
_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# with_flops: 2 * m * k * n for the ops that multiply matrices (their first two inputs)
_MATMULS = frozenset({"Matmul", "Mm", "Bmm", "Linear"})


class _Recorder:
    """The events of one recording: an open stack per thread, so that each event knows its
    parent; each event is kept in the order it began."""

    def __init__(self, record_shapes: bool, profile_memory: bool, with_stack: bool, with_flops: bool) -> None:
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.events: list[FunctionEvent] = []
        self.open: dict[int, list[FunctionEvent]] = {}
        self.start_ns = _clock()
        self.epoch_ns = time.time_ns()  # the wall-clock start, for traces

    def begin(self, name: str, args: tuple = (), user: bool = False) -> FunctionEvent:
        thread = threading.get_native_id()
        shapes = [_shape(a) for a in args] if self.record_shapes or self.with_flops else None
        event = FunctionEvent(
            id=len(self.events),
            name=name,
            thread=thread,
            start_us=0.0,
            end_us=0.0,
            input_shapes=shapes if self.record_shapes else None,
            stack=_user_stack() if self.with_stack else None,
            flops=_flops(name, shapes) if self.with_flops else 0,
            is_user_annotation=user,
        )
        stack = self.open.setdefault(thread, [])
        if stack:
            event.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(event)
        stack.append(event)
        self.events.append(event)
        event.start_us = (_clock() - self.start_ns) / 1000
        return event

    def end(self, event: FunctionEvent, result: Any = None, inputs: tuple = ()) -> None:
        event.end_us = (_clock() - self.start_ns) / 1000
        if self.profile_memory:
            if event.cpu_children:  # what was allocated inside it: its children's (as PyTorch counts it)
                event.cpu_memory_usage = sum(c.cpu_memory_usage for c in event.cpu_children)
            elif result is not None:
                event.cpu_memory_usage = _allocated(result, [_array(a) for a in inputs])
        stack = self.open.get(event.thread)
        while stack and stack.pop() is not event:  # an exception skipped inner ends
            pass

    def finish(self) -> None:
        """Close what is still open (a block left by an exception), at the current time."""
        now = (_clock() - self.start_ns) / 1000
        for stack in self.open.values():
            for event in stack:
                event.end_us = now
        self.open.clear()


def _shape(a: Any) -> list:
    if isinstance(a, (np.ndarray, Tensor)):
        return list(a.shape)
    return []


def _array(a: Any) -> Any:
    return a._data if isinstance(a, Tensor) else a


def _allocated(result: Any, inputs: list) -> int:
    """Bytes of new memory in an op's result: its arrays, less those that are views of an input."""
    result = _array(result)
    if isinstance(result, np.generic):
        return result.nbytes
    if isinstance(result, np.ndarray):
        shared = any(isinstance(a, np.ndarray) and np.may_share_memory(result, a) for a in inputs)
        return 0 if shared else result.nbytes
    if isinstance(result, (tuple, list)):
        return sum(_allocated(r, inputs) for r in result)
    return 0


def _flops(name: str, shapes: list | None) -> int:
    if name not in _MATMULS or not shapes or len(shapes) < 2 or len(shapes[0]) < 1 or len(shapes[1]) < 1:
        return 0
    a, b = shapes[0], shapes[1]
    n = b[0] if name == "Linear" else (b[-1] if len(b) > 1 else 1)  # Linear's weight is (out, in)
    return 2 * int(np.prod(a)) * n


def _user_stack() -> list[str]:
    """The caller's frames outside ember, innermost first, as "file(line): function"."""
    frames = traceback.extract_stack()
    return [
        f"{f.filename}({f.lineno}): {f.name}"
        for f in reversed(frames)
        if not f.filename.startswith(_EMBER_DIR)
    ]


def _timed(call: Callable, name: str | Callable[[tuple], str]) -> Callable:
    """`call` made to record an event named `name` (or `name(args)`) while it runs."""

    @functools.wraps(call)
    def timed(*args: Any, **kwargs: Any) -> Any:
        recorder = _recording[0]
        if recorder is None:  # a thread still inside an op when the profile stopped
            return call(*args, **kwargs)
        inputs = args[1:] if args and isinstance(args[0], Function) else args  # not the ctx
        event = recorder.begin(name if isinstance(name, str) else name(args), inputs)
        result = None
        try:
            result = call(*args, **kwargs)
            return result
        finally:
            recorder.end(event, result, inputs)

    return timed


def _timed_step(step: Callable) -> Callable:
    """An optimizer class's `step` made to record an event, unless it runs as the
    `super().step()` of a subclass's own step (which has the event)."""

    @functools.wraps(step)
    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        recorder = _recording[0]
        if recorder is None or type(self).step is not timed:
            return step(self, *args, **kwargs)
        event = recorder.begin(f"Optimizer.step#{type(self).__name__}.step", user=True)
        try:
            return step(self, *args, **kwargs)
        finally:
            recorder.end(event)

    return timed


def _function_classes() -> list[type]:
    seen: dict = {}
    todo = [Function]
    while todo:
        for sub in type.__subclasses__(todo.pop()):
            if sub not in seen:
                seen[sub] = True
                todo.append(sub)
    return list(seen)


class _Instruments:
    """The timed versions swapped in while a profile records, and how to put back the originals."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def install(self, with_modules: bool) -> None:
        for cls in _function_classes():
            for attr in ("forward", "backward"):
                original = cls.__dict__.get(attr)
                # a node with hooks (autograd/graph.py) has a class whose backward runs its
                # base class's, which is timed: timing both would count the node twice
                if isinstance(original, staticmethod) and not (
                    attr == "backward" and "_hooks_base" in cls.__dict__
                ):
                    self._swap_class(cls, attr, original)
        self._install_fastpath()
        self._install_optimizers()
        if with_modules:
            self._install_modules()

    def _swap_class(self, cls: type, attr: str, original: staticmethod) -> None:
        fn = original.__func__
        if attr == "forward":

            def name(args: tuple) -> str:  # Elementwise.forward serves Mul, Add...: name the node's class
                return type(args[0]).__name__ if args and isinstance(args[0], cls) else cls.__name__

        else:

            def name(args: tuple) -> str:
                return args[0].name() if args and isinstance(args[0], cls) else cls.__name__ + "Backward"

        setattr(cls, attr, staticmethod(_timed(fn, name)))
        self._undo.append(lambda: setattr(cls, attr, original))

    def _install_fastpath(self) -> None:
        from ember.ops import fastpath

        for op, cls in fastpath.made:
            cell = op.__closure__[op.__code__.co_freevars.index("ufunc")]
            ufunc = cell.cell_contents
            cell.cell_contents = _timed(ufunc, cls.__name__)
            self._undo.append(functools.partial(setattr, cell, "cell_contents", ufunc))
        for attr, name in (("total", "Sum"), ("power", "Pow")):
            original = getattr(fastpath, attr)
            setattr(fastpath, attr, _timed(original, name))
            self._undo.append(functools.partial(setattr, fastpath, attr, original))

    def _install_optimizers(self) -> None:
        """`optimizer.step()` as an event named as PyTorch's, `Optimizer.step#SGD.step`: each
        optimizer class's own `step` swapped, as the Functions' forwards are (the global step
        hooks would wrap every step for good)."""
        from ember.optim.optimizer import Optimizer

        classes = [Optimizer]
        while classes:
            cls = classes.pop()
            classes.extend(type.__subclasses__(cls))
            original = cls.__dict__.get("step")
            if callable(original):
                cls.step = _timed_step(original)
                self._undo.append(functools.partial(setattr, cls, "step", original))

    def _install_modules(self) -> None:
        from ember.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

        started: dict[int, list] = {}

        def before(module: Any, args: Any) -> None:
            recorder = _recording[0]
            if recorder is not None:
                event = recorder.begin(f"nn.Module: {type(module).__name__}")
                started.setdefault(id(module), []).append((recorder, event))

        def after(module: Any, args: Any, output: Any) -> None:
            pending = started.get(id(module))
            if pending:
                recorder, event = pending.pop()
                recorder.end(event, output, args)

        for handle in (
            register_module_forward_pre_hook(before),
            register_module_forward_hook(after, always_call=True),
        ):
            self._undo.append(handle.remove)

    def remove(self) -> None:
        while self._undo:
            self._undo.pop()()


_instruments = _Instruments()


def _start(recorder: _Recorder, with_modules: bool) -> None:
    if _recording[0] is not None:
        raise RuntimeError("Profiler is already enabled: ember records one profile at a time")
    try:
        _instruments.install(with_modules)
    except BaseException:
        _instruments.remove()  # never leave half of the timed versions in place
        raise
    _recording[0] = recorder


def _stop(recorder: _Recorder) -> None:
    if _recording[0] is recorder:
        _recording[0] = None
        _instruments.remove()
    recorder.finish()


class record_function:
    """Time a block as one event named `name`, in a context manager or as a decorator
    (torch.autograd.profiler.record_function). Does nothing while no profile records."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._event: tuple | None = None

    def __enter__(self) -> record_function:
        recorder = _recording[0]
        if recorder is not None:
            self._event = (recorder, recorder.begin(self.name, user=True))
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._event is not None:
            recorder, event = self._event
            self._event = None
            recorder.end(event)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapper


class profile:
    """Record the ops run inside a `with` block (torch.autograd.profiler.profile, the
    legacy API; torch.profiler.profile adds schedules). Afterwards `key_averages().table()`
    prints where the time went, `function_events` lists every event and
    `export_chrome_trace(path)` writes a trace. `use_cuda=True` warns and profiles the CPU
    only: ember has no CUDA device."""

    def __init__(
        self,
        enabled: bool = True,
        *,
        use_cuda: bool = False,
        use_device: str | None = None,
        record_shapes: bool = False,
        with_flops: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_modules: bool = False,
        use_kineto: bool = False,
        use_cpu: bool = True,
        experimental_config: Any = None,
        acc_events: bool = False,
        custom_trace_id_callback: Any = None,
    ) -> None:
        if use_cuda or (use_device is not None and use_device != "cpu"):
            import warnings

            warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.function_events: EventList | None = None
        self._recorder: _Recorder | None = None
        self._entered = False

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self._entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        recorder = _Recorder(self.record_shapes, self.profile_memory, self.with_stack, self.with_flops)
        _start(recorder, self.with_modules)  # raises while another profile records: this one stays unused
        self._recorder = recorder
        self._entered = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.enabled or self._recorder is None:
            return
        _stop(self._recorder)
        events = self._recorder.events
        if self.acc_events and self.function_events is not None:
            events = list(self.function_events) + events
        self.function_events = EventList(
            events, profile_memory=self.profile_memory, with_flops=self.with_flops
        )
        self._entered = False

    def _events(self) -> EventList:
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0) -> EventList:
        """The events averaged per name (see EventList.key_averages)."""
        return self._events().key_averages(group_by_input_shape, group_by_stack_n)

    def total_average(self) -> FunctionEventAvg:
        """Every event summed into one average."""
        return self._events().total_average()

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs: Any) -> str:
        """The table of every event, one row each (see EventList.table)."""
        return self._events().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    @property
    def self_cpu_time_total(self) -> float:
        """The CPU time the profile measured, in microseconds."""
        return self._events().self_cpu_time_total

    def export_chrome_trace(self, path: str) -> None:
        """Write the events to `path` as a Chrome trace (JSON)."""
        trace = chrome_trace(self._events(), self._recorder.epoch_ns if self._recorder else 0)
        with open(path, "w") as f:
            json.dump(trace, f)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Write the recorded stacks (with_stack=True) in flamegraph.pl's input format."""
        self._events().export_stacks(path, metric)

    def __str__(self) -> str:
        return self.table()


class emit_nvtx:
    """torch.autograd.profiler.emit_nvtx: NVTX ranges for NVIDIA's tools. ember has no CUDA
    device, so the block runs unchanged."""

    def __init__(self, enabled: bool = True, record_shapes: bool = False) -> None:
        self.enabled = enabled
        self.record_shapes = record_shapes

    def __enter__(self) -> emit_nvtx:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


class emit_itt(emit_nvtx):
    """torch.autograd.profiler.emit_itt: Intel ITT ranges for VTune. ember emits none, so
    the block runs unchanged."""
