"""Timing small pieces of code, as PyTorch's benchmark recipes do (torch.utils.benchmark):
`Timer` runs a statement many times and returns a `Measurement` (its times, median, IQR,
and a summary in PyTorch's layout), and `Compare` prints many measurements as one table,
rows by sub_label and thread count, columns by description.

The statement is timed with `timeit` on the wall clock, in blocks of `number` runs, so
that the clock's own cost is negligible. A statement's text sees `globals` (by default
none but `torch`, which is ember, so `"torch.ones(3)"` runs); `setup` runs once before.
`num_threads` is passed to ember.set_num_threads for the measurement (which limits
NumPy's BLAS threads when threadpoolctl is installed).
"""

from __future__ import annotations

import collections
import contextlib
import enum
import math
import textwrap
import timeit as _timeit
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

__all__ = ["Compare", "Language", "Measurement", "TaskSpec", "Timer", "select_unit", "trim_sigfig"]

_IQR_WARN = 0.1  # an IQR above this share of the median: "system fluctuation"
_IQR_GROSS_WARN = 0.5  # above this: "significant environmental influence"
_MIN_CONFIDENCE = 25e-9  # no time is known better than this, whatever the spread
_MAX_SIGFIGS = 4
_UNITS = (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1.0))


class Language(enum.Enum):
    """The statement's language (torch.utils.benchmark.Language): ember times Python."""

    PYTHON = 0
    CPP = 1


def select_unit(t: float) -> tuple[str, float]:
    """The unit ("ns", "us", "ms" or "s") in which `t` seconds reads as 1 to 999, and its scale."""
    exponent = math.floor(math.log10(t) / 3) if t > 0 else -3
    unit, scale = _UNITS[min(max(exponent + 3, 0), 3)]
    return unit, scale


def trim_sigfig(x: float, n: int) -> float:
    """`x` rounded to `n` significant figures (3.14159, 2 -> 3.1)."""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    scale = 10.0 ** (math.ceil(math.log10(abs(x))) - n)
    return float(np.round(x / scale) * scale)


class TaskSpec:
    """What a Timer measures (torch.utils.benchmark.TaskSpec): the statement, its setup,
    and the labels a table groups it by. Equal specs are merged by `Measurement.merge`."""

    _FIELDS = ("stmt", "setup", "global_setup", "label", "sub_label", "description", "env", "num_threads")

    def __init__(
        self,
        stmt: str,
        setup: str,
        global_setup: str = "",
        label: str | None = None,
        sub_label: str | None = None,
        description: str | None = None,
        env: str | None = None,
        num_threads: int = 1,
    ) -> None:
        self.stmt, self.setup, self.global_setup = stmt, setup, global_setup
        self.label, self.sub_label, self.description = label, sub_label, description
        self.env, self.num_threads = env, num_threads

    def _key(self) -> tuple:
        return tuple(getattr(self, f) for f in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskSpec) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def title(self) -> str:
        """The label (or else the statement), with the sub_label after a colon."""
        suffix = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + suffix
        if "\n" not in self.stmt:
            return self.stmt + suffix
        return f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self) -> str:
        if self.setup in ("", "pass"):
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        """The title, description and setup, one per line, as a Measurement's repr shows them."""
        parts = [p for p in (self.title, self.description or "", self.setup_str()) if p]
        return "\n".join(p + "\n" if "\n" in p else p for p in parts)


class Measurement:
    """The times of one statement (torch.utils.benchmark.Measurement): `raw_times` of
    blocks of `number_per_run` runs each; `times` per run, their `median`, `mean` and
    `iqr`, in seconds. Unknown attributes are read from `task_spec` (`m.label`,
    `m.num_threads`)."""

    def __init__(
        self, number_per_run: int, raw_times: list[float], task_spec: TaskSpec, metadata: dict | None = None
    ) -> None:
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec
        self.metadata = metadata
        self._stats: tuple | None = None

    def __getattr__(self, name: str) -> Any:
        if name in TaskSpec._FIELDS:
            return getattr(self.task_spec, name)
        raise AttributeError(f"'Measurement' object has no attribute '{name}'")

    @property
    def times(self) -> list[float]:
        """Seconds per run, one per block."""
        return [t / self.number_per_run for t in self.raw_times]

    def _statistics(self) -> tuple:
        """(sorted times, median, mean, 25th and 75th percentiles), computed once."""
        if self._stats is None:
            ordered = sorted(self.times)
            a = np.array(ordered, dtype=np.float64)
            q25, median, q75 = np.quantile(a, [0.25, 0.5, 0.75])
            self._stats = (tuple(ordered), float(median), float(a.mean()), float(q25), float(q75))
        return self._stats

    @property
    def median(self) -> float:
        return self._statistics()[1]

    @property
    def mean(self) -> float:
        return self._statistics()[2]

    @property
    def iqr(self) -> float:
        """The interquartile range of the times per run, in seconds."""
        _, _, _, q25, q75 = self._statistics()
        return q75 - q25

    @property
    def significant_figures(self) -> int:
        """How many digits of the median the spread of the middle half of the times supports
        (from 1 to 4): a 90 % confidence interval of that half's mean, against the median."""
        ordered, median = self._statistics()[:2]
        n = len(ordered)
        middle = np.array(ordered[n // 4 : math.ceil(3 * n / 4)], dtype=np.float64)
        interval = max(1.645 * float(middle.std()) / math.sqrt(len(middle)), _MIN_CONFIDENCE)
        return min(max(math.floor(math.log10(median / interval)), 1), _MAX_SIGFIGS)

    def meets_confidence(self, threshold: float = _IQR_WARN) -> bool:
        """Whether the IQR is below `threshold` of the median."""
        return self.iqr / self.median < threshold

    @property
    def _warnings(self) -> list[str]:
        if self.meets_confidence(_IQR_WARN):
            return []
        why = (
            "This suggests significant environmental influence."
            if not self.meets_confidence(_IQR_GROSS_WARN)
            else "This could indicate system fluctuation."
        )
        share = self.iqr / self.median * 100
        return [
            f"  WARNING: Interquartile range is {share:.1f}% of the median measurement.\n           {why}"
        ]

    @property
    def has_warnings(self) -> bool:
        return bool(self._warnings)

    @property
    def title(self) -> str:
        return self.task_spec.title

    @property
    def env(self) -> str:
        return "Unspecified env" if self.task_spec.env is None else self.task_spec.env

    @property
    def as_row_name(self) -> str:
        return self.task_spec.sub_label or self.task_spec.stmt or "[Unknown]"

    def __repr__(self) -> str:
        ordered, median, _, q25, q75 = self._statistics()
        n = len(ordered)
        unit, scale = select_unit(median)
        threads = self.task_spec.num_threads
        lines = [object.__repr__(self), self.task_spec.summarize()]
        lines.append(f"  {'Median: ' if n > 1 else ''}{median / scale:.2f} {unit}")
        if n >= 4:
            lines.append(
                f"  IQR:    {(q75 - q25) / scale:.2f} {unit} ({q25 / scale:.2f} to {q75 / scale:.2f})"
            )
        lines.append(
            f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
            f"{'per measurement,' if n > 1 else ','} {threads} thread{'s' if threads > 1 else ''}"
        )
        lines += self._warnings
        return "\n".join(lines).strip()

    @staticmethod
    def merge(measurements: Iterable[Measurement]) -> list[Measurement]:
        """One Measurement per distinct task, pooling the per-run times of its replicates."""
        grouped: dict[TaskSpec, list[float]] = collections.defaultdict(list)
        for m in measurements:
            grouped[m.task_spec].extend(m.times)
        return [Measurement(1, times, spec) for spec, times in grouped.items()]


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    from ember._settings import get_num_threads, set_num_threads

    before = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


class Timer:
    """Time the statement `stmt` after running `setup` once (torch.utils.benchmark.Timer).
    `globals` are the names the statement sees (`torch` is ember unless given); `label`,
    `sub_label`, `description` and `env` name it in Compare's table; `num_threads` is set
    with ember.set_num_threads while it runs. As in PyTorch, `stmt` is a string."""

    def __init__(
        self,
        stmt: str = "pass",
        setup: str = "pass",
        global_setup: str = "",
        timer: Callable[[], float] = _timeit.default_timer,
        globals: dict[str, Any] | None = None,  # noqa: A002 - PyTorch's name
        label: str | None = None,
        sub_label: str | None = None,
        description: str | None = None,
        env: str | None = None,
        num_threads: int = 1,
        language: Language | str = Language.PYTHON,
    ) -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"Timer: ember times Python statements only, not {language!r}")
        import ember

        self._globals = dict(globals or {})
        self._globals.setdefault("torch", ember)
        stmt, setup = textwrap.dedent(stmt).strip() or "pass", textwrap.dedent(setup).strip() or "pass"
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = TaskSpec(stmt, setup, global_setup, label, sub_label, description, env, num_threads)

    def _timeit(self, number: int) -> float:
        return self._timer.timeit(number=int(number))

    def _measurement(self, number: int, times: list[float]) -> Measurement:
        return Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def timeit(self, number: int = 1000000) -> Measurement:
        """One block of `number` runs, after a warm-up of a hundredth of it."""
        with _threads(self._task_spec.num_threads):
            self._timeit(max(number // 100, 2))
            return self._measurement(number, [self._timeit(number)])

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback: Callable[[int, float], None] | None = None) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _block_size(self, min_run_time: float) -> int:
        """Runs per block: a power of ten large enough that the clock's own cost is below a
        ten-thousandth of a block and a block takes a thousandth of `min_run_time`."""
        with _threads(self._task_spec.num_threads):
            overhead = float(np.median([self._timeit(0) for _ in range(5)]))
            number = 1
            while True:
                taken = self._timeit(number)
                if (overhead <= 1e-4 * taken and taken >= min_run_time / 1000) or taken > min_run_time:
                    return number
                if number * 10 > 2**31 - 1:
                    return number
                number *= 10

    def _loop(
        self,
        number: int,
        done: Callable[[list[float]], bool],
        min_run_time: float,
        max_run_time: float | None = None,
        callback: Callable[[int, float], None] | None = None,
    ) -> list[float]:
        times: list[float] = []
        total = 0.0
        with _threads(self._task_spec.num_threads):
            while True:
                spent = self._timeit(number)
                times.append(spent)
                total += spent
                if callback is not None:
                    callback(number, spent)
                if total >= min_run_time and done(times):
                    break
                if max_run_time is not None and total > max_run_time:
                    break
        return times

    def blocked_autorange(
        self, callback: Callable[[int, float], None] | None = None, min_run_time: float = 0.2
    ) -> Measurement:
        """Blocks of a fixed number of runs (see `_block_size`) until `min_run_time` seconds
        are spent; `callback(number, seconds)` after each block."""
        number = self._block_size(min_run_time)
        return self._measurement(
            number, self._loop(number, lambda times: True, min_run_time, callback=callback)
        )

    def adaptive_autorange(
        self,
        threshold: float = 0.1,
        *,
        min_run_time: float = 0.01,
        max_run_time: float = 10.0,
        callback: Callable[[int, float], None] | None = None,
    ) -> Measurement:
        """Blocks until there are more than three and their IQR is below `threshold` of the
        median (after at least `min_run_time` seconds, at most about `max_run_time`)."""
        number = self._block_size(0.05)

        def done(times: list[float]) -> bool:
            return len(times) > 3 and self._measurement(number, times).meets_confidence(threshold)

        return self._measurement(number, self._loop(number, done, min_run_time, max_run_time, callback))


class Colorize(enum.Enum):
    """How Compare colours its cells: not, by column, or by row."""

    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


_BEST, _GOOD, _BAD, _VERY_BAD = "\033[92m\033[1m", "\033[34m\033[1m", "\033[2m\033[91m", "\033[31m\033[1m"
_END = "\033[0m\033[0m"


class Compare:
    """A table of measurements (torch.utils.benchmark.Compare): one per label, a row per
    thread count and sub_label (or statement), a column per description; each cell the
    median, in one unit per table. `print()` prints it."""

    def __init__(self, results: list[Measurement]) -> None:
        self._results: list[Measurement] = []
        self.extend_results(results)
        self._trim = False
        self._colorize = Colorize.NONE
        self._highlight = False

    def extend_results(self, results: list[Measurement]) -> None:
        """Add measurements to the table."""
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        """Print each cell with only the digits its spread supports."""
        self._trim = True

    def colorize(self, rowwise: bool = False) -> None:
        """Colour each cell against the best of its column (or, rowwise, of its row)."""
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self) -> None:
        """Mark cells whose IQR is large with "(! XX%)"."""
        self._highlight = True

    def __str__(self) -> str:
        tables: dict = collections.defaultdict(list)
        for m in Measurement.merge(self._results):
            tables[m.label].append(m)
        return "\n".join(self._table(ms) for ms in tables.values())

    def print(self) -> None:
        print(str(self))

    def _table(self, results: list[Measurement]) -> str:
        unit, scale = select_unit(min(r.median for r in results))
        rows = list(dict.fromkeys((r.num_threads, r.env, r.as_row_name) for r in results))
        rows.sort(key=lambda key: key[:2])  # by threads and env, the statements in order
        columns = list(dict.fromkeys(r.description for r in results))
        cell = {((r.num_threads, r.env, r.as_row_name), r.description): r for r in results}
        envs = {r.env for r in results}
        env_width = max(len(e) for e in envs) if len(envs) > 1 else 0
        formats = []  # per column: the number format its cells share, and whether it marks spreads
        for c in columns:
            ms = [cell[(k, c)] for k in rows if (k, c) in cell]
            leading = [math.ceil(math.log10(m.median / scale)) for m in ms]
            decimals = (
                min(max(m.significant_figures - d, 0) for m, d in zip(ms, leading)) if self._trim else 1
            )
            width = max(leading) + decimals + (1 if decimals else 0)
            formats.append((width, decimals, self._highlight and any(m.has_warnings for m in ms)))

        def number(m: Measurement | None, fmt: tuple[int, int, bool]) -> str:
            width, decimals, marks = fmt
            if m is None:
                return " " * (len(f"{1:>{width}.{decimals}f}") + (7 if marks else 0))
            value = m.median / scale
            if self._trim:
                value = trim_sigfig(value, m.significant_figures)
            text = f"{value:>{width}.{decimals}f}"
            if marks:
                text += f"{f' (! {m.iqr / m.median * 100:.0f}%)' if m.has_warnings else '':>7}"
            return text

        strings = [["", *[c or "" for c in columns]]]
        previous_env = None
        for k in rows:
            env = f"({k[1]})" if env_width and k[1] != previous_env else ""
            previous_env = k[1]
            strings.append(
                ["  " + env.ljust(env_width + 4) + k[2]]
                + [number(cell.get((k, c)), f) for c, f in zip(columns, formats)]
            )
        widths = [max(len(s[i]) for s in strings) for i in range(len(strings[0]))]
        lines = ["  |  ".join(s.center(w) for s, w in zip(strings[0], widths))]
        overall = len(lines[0])
        previous_threads = None
        for k, s in zip(rows, strings[1:]):
            if k[0] != previous_threads:
                lines.append(f"{k[0]} threads: ".ljust(overall, "-"))
                previous_threads = k[0]
            parts = [s[0].ljust(widths[0])]
            for c, text, width in zip(columns, s[1:], widths[1:]):
                text = text.center(width)
                m = cell.get((k, c))
                if self._colorize is not Colorize.NONE and m is not None:
                    text = self._colour(text, m, k, c, rows, columns, cell)
                parts.append(text)
            lines.append("  |  ".join(parts))
        label = results[0].label or ""
        out = [f"[{(' ' + label + ' ').center(overall - 2, '-')}]", *lines]
        english = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[unit]
        out += ["", f"Times are in {english}s ({unit})."]
        if self._highlight and any(r.has_warnings for r in results):
            out.append("(! XX%) Measurement has high variance, where XX is the IQR / median * 100.")
        return "\n".join(out) + "\n"

    def _colour(
        self, text: str, m: Measurement, key: tuple, column: Any, rows: list, columns: list, cell: dict
    ) -> str:
        if self._colorize is Colorize.ROWWISE:
            best = min(cell[(key, c)].median for c in columns if (key, c) in cell)
        else:  # the best of the column among the rows of the same thread count
            best = min(cell[(k, column)].median for k in rows if k[0] == key[0] and (k, column) in cell)
        value = m.median
        if value <= best * 1.01 or value <= best + 100e-9:
            return _BEST + text + _END
        if value <= best * 1.1:
            return _GOOD + text + _END
        if value >= best * 5:
            return _VERY_BAD + text + _END
        if value >= best * 2:
            return _BAD + text + _END
        return text
