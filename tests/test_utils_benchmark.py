"""ember.utils.benchmark: Timer's measurements, and Measurement's and Compare's text
against PyTorch's on the same (made-up, so deterministic) times."""

from __future__ import annotations

import re

import pytest

import ember
from conftest import requires_torch
from ember.utils import benchmark

# times per block, seconds: a steady statement, a noisy one, one timed once
_STEADY = [1.00e-3, 1.01e-3, 1.02e-3, 0.99e-3, 1.00e-3, 1.03e-3]
_NOISY = [2.0e-6, 3.5e-6, 2.1e-6, 6.0e-6, 2.2e-6]
_CASES = [
    (
        _STEADY,
        100,
        {"stmt": "x @ x", "setup": "pass", "label": "mm", "sub_label": "[64]", "description": "ember"},
    ),
    (_NOISY, 1, {"stmt": "y = x + 1", "setup": "x = torch.ones(3)"}),
    ([4.2e-5], 1000, {"stmt": "a\nb", "setup": "p\nq", "sub_label": "two lines", "num_threads": 2}),
]


def _spec(module, fields: dict):
    full = {
        "stmt": "pass",
        "setup": "pass",
        "global_setup": "",
        "label": None,
        "sub_label": None,
        "description": None,
        "env": None,
        "num_threads": 1,
    }
    full.update(fields)
    return module.TaskSpec(**full)


def _without_address(text: str) -> str:
    return re.sub(r"^<.*Measurement object at 0x[0-9a-f]+>", "<Measurement>", text)


@requires_torch
@pytest.mark.parametrize("case", range(len(_CASES)))
def test_measurement_as_torch(case) -> None:
    from torch.utils import benchmark as tb

    times, number, fields = _CASES[case]
    raw = [t * number for t in times]
    ours = benchmark.Measurement(number, raw, _spec(benchmark, fields))
    theirs = tb.Measurement(number, raw, _spec(tb, fields))
    for attr in ("median", "mean", "iqr"):
        assert getattr(ours, attr) == pytest.approx(getattr(theirs, attr), rel=1e-12)
    assert ours.times == pytest.approx(theirs.times)
    assert ours.significant_figures == theirs.significant_figures
    assert ours.has_warnings == theirs.has_warnings
    assert (ours.title, ours.as_row_name) == (theirs.title, theirs.as_row_name)
    assert ours.env == fields.get("env", "Unspecified env")  # torch's property misspells task_spec: None
    assert ours.num_threads == theirs.num_threads and ours.label == theirs.label
    assert _without_address(repr(ours)) == _without_address(repr(theirs))
    assert repr(ours).startswith("<ember.utils.benchmark.Measurement object at 0x")


def _results(module) -> list:
    made = []
    for threads in (1, 4):
        for size, scale in (("[16]", 1.0), ("[256]", 9.0)):
            for desc, factor, noise in (("ember", 1.0, 0.0), ("numpy", 0.6, 0.3)):
                times = [scale * factor * 1e-6 * (1 + noise * (i % 3)) * threads**-0.5 for i in range(8)]
                spec = _spec(
                    module,
                    {
                        "stmt": "f(x)",
                        "label": "matmul",
                        "sub_label": size,
                        "description": desc,
                        "num_threads": threads,
                    },
                )
                made.append(module.Measurement(10, [t * 10 for t in times], spec))
    spec = _spec(module, {"stmt": "g(x)", "label": "other", "env": "venv", "description": "ember"})
    made.append(module.Measurement(1, [2e-3, 2.1e-3, 2e-3, 2e-3], spec))
    spec = _spec(module, {"stmt": "g(x)", "label": "other", "env": "system", "description": "ember"})
    made.append(module.Measurement(1, [3e-3, 3e-3, 3e-3, 3e-3], spec))
    return made


@requires_torch
@pytest.mark.parametrize(
    "options", [(), ("trim_significant_figures",), ("highlight_warnings",), ("colorize",)]
)
def test_compare_as_torch(options) -> None:
    from torch.utils import benchmark as tb

    ours, theirs = benchmark.Compare(_results(benchmark)), tb.Compare(_results(tb))
    for option in options:
        getattr(ours, option)()
        getattr(theirs, option)()
    assert str(ours) == str(theirs)


def test_compare_rejects_what_is_not_a_measurement() -> None:
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        benchmark.Compare([1.0])


def test_timer_runs_the_statement_with_globals_and_setup() -> None:
    calls = []
    timer = benchmark.Timer(
        "f()", setup="calls.append('setup')", globals={"f": lambda: calls.append(1), "calls": calls}
    )
    m = timer.timeit(number=20)
    assert calls.count("setup") == 2  # warm-up block and measured block each run setup once
    assert calls.count(1) == 2 + 20  # a warm-up of max(20 // 100, 2), then 20
    assert m.number_per_run == 20 and len(m.raw_times) == 1 and m.times == [m.raw_times[0] / 20]
    m = benchmark.Timer("torch.ones(3) + 1", label="add", num_threads=1).timeit(5)  # torch is ember
    assert m.title == "add" and m.median > 0


def test_blocked_and_adaptive_autorange() -> None:
    seen = []
    m = benchmark.Timer("sum(range(50))").blocked_autorange(
        callback=lambda n, t: seen.append(n), min_run_time=0.02
    )
    assert sum(m.raw_times) >= 0.02 and set(seen) == {m.number_per_run} and len(seen) == len(m.raw_times)
    m = benchmark.Timer("sum(range(50))").adaptive_autorange(
        threshold=0.5, min_run_time=0.01, max_run_time=0.5
    )
    assert len(m.raw_times) > 3 or sum(m.raw_times) > 0.5


def test_timer_errors_as_torch() -> None:
    with pytest.raises(ValueError, match="only a `str` stmt"):
        benchmark.Timer(lambda: None)
    timer = benchmark.Timer("pass")
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        timer.repeat()
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        timer.autorange()


def test_num_threads_is_restored() -> None:
    before = ember.get_num_threads()
    benchmark.Timer("pass", num_threads=1).timeit(3)
    assert ember.get_num_threads() == before


def test_select_unit_and_trim_sigfig() -> None:
    assert benchmark.select_unit(2.5e-7) == ("ns", 1e-9)
    assert benchmark.select_unit(1.1e-6) == ("us", 1e-6)
    assert benchmark.select_unit(0.5) == ("ms", 1e-3)
    assert benchmark.select_unit(12.0) == ("s", 1.0)
    assert benchmark.trim_sigfig(3.14159, 2) == pytest.approx(3.1)
    assert benchmark.trim_sigfig(1234.5, 1) == pytest.approx(1000.0)
