"""The profiler's results: events, their averages, and the tables and traces made of them
(torch.autograd.profiler_util).

A `FunctionEvent` is one timed call (an op's forward, a node's backward, a module's
forward, a `record_function` block), with the events that ran inside it as its children:
its self time is its total time less theirs. `EventList.key_averages()` sums the events
of one name (and input shapes, or stack) into a `FunctionEventAvg`; `EventList.table()`
prints either kind in PyTorch's layout. Times are in microseconds, memory in bytes, as in
PyTorch.
"""

from __future__ import annotations

import json
import os
from typing import Any

_SPACING = 2
_COLUMN = 12  # the width of every numeric column
# table(sort_by=...) takes PyTorch's names; the device ones have no events on the CPU
_SORT_KEYS = {
    "cpu_time",
    "cpu_time_total",
    "self_cpu_time_total",
    "cpu_memory_usage",
    "self_cpu_memory_usage",
    "count",
    "flops",
    "cuda_time",
    "cuda_time_total",
    "self_cuda_time_total",
    "device_time",
    "device_time_total",
    "self_device_time_total",
    "cuda_memory_usage",
    "self_cuda_memory_usage",
    "device_memory_usage",
    "self_device_memory_usage",
}


def _format_time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_share(us: float, total: float) -> str:
    return "NaN" if total == 0 else f"{us * 100.0 / total:.2f}%"


def _format_memory(nbytes: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


class _Times:
    """The time strings and zero device figures that events and averages share."""

    cuda_time_total = self_cuda_time_total = device_time_total = self_device_time_total = 0.0
    cuda_memory_usage = self_cuda_memory_usage = device_memory_usage = self_device_memory_usage = 0
    cuda_time = device_time = 0.0
    is_async = is_remote = is_legacy = False
    node_id = -1
    overload_name = ""

    @property
    def cpu_time(self) -> float:
        """Mean CPU time per call, in microseconds."""
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    @property
    def cpu_time_str(self) -> str:
        return _format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self) -> str:
        return _format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self) -> str:
        return _format_time(self.self_cpu_time_total)


class FunctionEvent(_Times):
    """One timed call: `name`, start and end in microseconds since the profile began,
    `input_shapes` (when shapes were recorded), the bytes its outputs allocated
    (`cpu_memory_usage`), its `cpu_children` and `cpu_parent` (torch's FunctionEvent)."""

    count = 1

    def __init__(
        self,
        id: int,  # noqa: A002 - PyTorch's name
        name: str,
        thread: int,
        start_us: float,
        end_us: float,
        input_shapes: list | None = None,
        cpu_memory_usage: int = 0,
        stack: list | None = None,
        flops: int = 0,
        is_user_annotation: bool = False,
    ) -> None:
        self.id = id
        self.name = self.key = name
        self.thread = thread
        self.start_us, self.end_us = start_us, end_us
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.cpu_memory_usage = cpu_memory_usage
        self.stack = stack if stack is not None else []
        self.flops = flops
        self.is_user_annotation = is_user_annotation
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.device_type = "CPU"

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    def __repr__(self) -> str:
        return (
            f"<FunctionEvent id={self.id} name={self.name} cpu_time={self.cpu_time_str} "
            f"start_us={self.start_us:.3f} end_us={self.end_us:.3f} "
            f"cpu_children={[c.id for c in self.cpu_children]} thread={self.thread} "
            f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>"
        )


class FunctionEventAvg(_Times):
    """The sum of the events of one key: `count` calls, their total and self times and
    memory (torch's FunctionEventAvg); `cpu_time` is the mean per call."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.flops = 0
        self.input_shapes: list | None = None
        self.stack: list | None = None
        self.cpu_parent: FunctionEvent | None = None
        self.is_user_annotation = False

    def add(self, other: Any) -> FunctionEventAvg:
        """Add an event (or another average) into this one."""
        if self.key is None:
            self.key = other.key
            self.input_shapes, self.stack = other.input_shapes, other.stack
            self.is_user_annotation = other.is_user_annotation
            self.cpu_parent = other.cpu_parent
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.flops += other.flops
        return self

    __iadd__ = add

    def __repr__(self) -> str:
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
            f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes} "
            f"cpu_memory_usage={self.cpu_memory_usage}>"
        )


class EventList(list):
    """A list of events (or of averages) with PyTorch's summaries: `table`,
    `key_averages`, `total_average`, `export_chrome_trace` (torch's EventList)."""

    def __init__(
        self, *args: Any, profile_memory: bool = False, with_flops: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._profile_memory = profile_memory
        self._with_flops = with_flops

    @property
    def self_cpu_time_total(self) -> float:
        """The sum of the events' self times: the time the profile measured, in microseconds."""
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0) -> EventList:
        """One FunctionEventAvg per event name, in order of first appearance; with
        `group_by_input_shape`, per name and input shapes; with `group_by_stack_n`, per name
        and the innermost n frames of the stack (recorded with `with_stack=True`)."""
        averages: dict = {}
        for e in self:
            key = (e.key,)
            if group_by_input_shape:
                key += (str(e.input_shapes),)
            if group_by_stack_n > 0:
                key += tuple(e.stack[:group_by_stack_n])
            avg = averages.get(key)
            if avg is None:
                avg = averages[key] = FunctionEventAvg()
            avg.add(e)
        result = EventList(
            averages.values(), profile_memory=self._profile_memory, with_flops=self._with_flops
        )
        for avg in result:
            if not group_by_input_shape:
                avg.input_shapes = None
            if group_by_stack_n == 0:
                avg.stack = None
            else:
                avg.stack = avg.stack[:group_by_stack_n]
        return result

    def total_average(self) -> FunctionEventAvg:
        """All the events summed into one average, keyed "Total"."""
        total = FunctionEventAvg()
        for e in self:
            total.add(e)
        total.key = "Total"
        return total

    def table(
        self,
        sort_by: str | None = None,
        row_limit: int = 100,
        max_src_column_width: int = 75,
        max_name_column_width: int = 55,
        max_shapes_column_width: int = 80,
        header: str | None = None,
        top_level_events_only: bool = False,
        time_unit: str | None = None,
    ) -> str:
        """The events as PyTorch's profiler table: one row each, sorted by the attribute
        `sort_by` (descending), at most `row_limit` rows; memory columns when the profile
        recorded memory, Input Shapes when it recorded shapes, Source Location when it
        recorded stacks. `time_unit` ("s", "ms" or "us") fixes the unit of every time."""
        return _build_table(
            self,
            sort_by=sort_by,
            row_limit=row_limit,
            max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width,
            header=header,
            top_level_events_only=top_level_events_only,
            time_unit=time_unit,
            profile_memory=self._profile_memory,
            with_flops=self._with_flops,
        )

    def __str__(self) -> str:
        return self.table()

    def export_chrome_trace(self, path: str) -> None:
        """Write the events to `path` as a Chrome trace (JSON), which chrome://tracing,
        Perfetto and TensorBoard's profiler plugin open."""
        with open(path, "w") as f:
            json.dump(chrome_trace(self), f)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Write one line per event with a recorded stack: the frames, outermost first,
        joined by ';', then the event's `metric` in microseconds (the input of
        flamegraph.pl)."""
        with open(path, "w") as f:
            for e in self:
                if e.stack:
                    frames = ";".join(reversed([s.replace(";", ",") for s in e.stack]))
                    f.write(f"{frames};{e.name} {int(getattr(e, metric))}\n")


def chrome_trace(events: list, base_ns: int = 0) -> dict:
    """The Chrome trace of `events`: one complete ("X") event each, its times in
    microseconds from the profile's start (the wall-clock time `base_ns` in the trace's
    baseTimeNanoseconds), its shapes in `args` when recorded."""
    pid = os.getpid()
    trace = [
        {"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": "python"}},
        {"ph": "M", "name": "process_labels", "pid": pid, "tid": 0, "args": {"labels": "CPU"}},
    ]
    for thread in sorted({e.thread for e in events}):
        trace.append(
            {
                "ph": "M",
                "name": "thread_name",
                "pid": pid,
                "tid": thread,
                "args": {"name": f"thread {thread} (python)"},
            }
        )
    for e in events:
        args: dict = {"External id": e.id}
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
        trace.append(
            {
                "ph": "X",
                "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
                "name": e.name,
                "pid": pid,
                "tid": e.thread,
                "ts": e.start_us,
                "dur": e.cpu_time_total,
                "args": args,
            }
        )
    return {
        "schemaVersion": 1,
        "deviceProperties": [],
        "displayTimeUnit": "ms",
        "baseTimeNanoseconds": base_ns,
        "traceEvents": trace,
    }


def _build_table(
    events: list,
    sort_by: str | None,
    row_limit: int,
    max_src_column_width: int | None,
    max_name_column_width: int | None,
    max_shapes_column_width: int | None,
    header: str | None,
    top_level_events_only: bool,
    time_unit: str | None,
    profile_memory: bool,
    with_flops: bool,
) -> str:
    if not events:
        return ""
    if sort_by is not None:
        if sort_by not in _SORT_KEYS:
            raise AttributeError(f"table(): unknown sort_by {sort_by!r}; use one of {sorted(_SORT_KEYS)}")
        events = sorted(events, key=lambda e: getattr(e, sort_by), reverse=True)
    has_shapes = any(e.input_shapes for e in events)
    stacks = [e.stack for e in events if e.stack]

    widths: list[int] = []
    aligns: list[str] = []
    headers: list[str] = []

    def column(title: str, width: int, align: str = ">") -> None:
        headers.append(title)
        widths.append(width)
        aligns.append(align)

    name_width = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_width = min(name_width, max_name_column_width)
    column("Name", name_width)
    for title in ("Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"):
        column(title, _COLUMN)
    if profile_memory:
        column("CPU Mem", _COLUMN)
        column("Self CPU Mem", _COLUMN)
    column("# of Calls", _COLUMN)
    if has_shapes:
        shapes_width = max(len(str(e.input_shapes)) for e in events) + 4
        if max_shapes_column_width is not None:
            shapes_width = min(shapes_width, max_shapes_column_width)
        column("Input Shapes", shapes_width)
    if stacks:
        src_width = max(len(frame) for stack in stacks for frame in stack) + 4
        if max_src_column_width is not None:
            src_width = min(src_width, max_src_column_width)
        column("Source Location", src_width, "<")
    flops = [e.flops for e in events if e.flops > 0] if with_flops else []
    if flops:
        scale, unit = 1, "FLOPs"
        for prefix in ("K", "M", "G", "T", "P"):
            if min(flops) < scale * 1000:
                break
            scale, unit = scale * 1000, prefix + "FLOPs"
        column(f"Total {unit}", _COLUMN)

    def row(values: list) -> str:
        return "".join(f"{v:{a}{w}}" + " " * _SPACING for v, a, w in zip(values, aligns, widths))

    def when(us: float, default: str) -> str:
        scale = {"s": 1e6, "ms": 1e3, "us": 1.0}.get(time_unit or "")
        return default if scale is None else f"{us / scale:.3f}{time_unit}"

    def trim_path(path: str) -> str:
        if len(path) > src_width:
            path = "..." + path[len(path) - src_width + 3 :]
        return path

    separator = "".join("-" * w + " " * _SPACING for w in widths)
    total_self = sum(e.self_cpu_time_total for e in events)
    lines = []
    if header is not None:
        lines += ["=" * (len(separator) - _SPACING), header]
    if top_level_events_only:
        lines += ["=" * (len(separator) - _SPACING), "This report only display top-level ops statistics"]
    lines += [separator, row(headers), separator]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_events_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[: max_name_column_width - 3] + "..."
        values = [
            name,
            _format_share(e.self_cpu_time_total, total_self),
            when(e.self_cpu_time_total, e.self_cpu_time_total_str),
            _format_share(e.cpu_time_total, total_self),
            when(e.cpu_time_total, e.cpu_time_total_str),
            when(e.cpu_time, e.cpu_time_str),
        ]
        if profile_memory:
            values += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        values.append(e.count)
        if has_shapes:
            shapes = str(e.input_shapes)
            if max_shapes_column_width is not None and len(shapes) >= max_shapes_column_width - 3:
                shapes = shapes[: max_shapes_column_width - 3] + "..."
            values.append(shapes)
        if stacks:
            values.append(trim_path(e.stack[0]) if e.stack else "")
        if flops:
            values.append(f"{e.flops / scale:8.3f}" if e.flops > 0 else "--")
        lines.append(row(values))
        if stacks:
            blank = [""] * (len(headers) - 1)
            lines += [row([*blank, trim_path(frame)]) for frame in e.stack[1:]]
            lines.append(row([*blank, ""]))
    lines.append(separator)
    lines.append(f"Self CPU time total: {when(total_self, _format_time(total_self))}")
    return "\n".join(lines) + "\n"
