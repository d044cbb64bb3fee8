"""ember.profiler and ember.autograd.profiler: what is recorded, the table's layout against
PyTorch's, schedules and traces, and that nothing stays swapped in after a profile."""

from __future__ import annotations

import gzip
import json
import os
import warnings

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember import nn
from ember.autograd.function import Function
from ember.ops import fastpath
from ember.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule


def _model() -> nn.Module:
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def _names(prof) -> list[str]:
    return [e.name for e in prof.events()]


def _header(table: str) -> list[str]:
    """The column titles of a profiler table (its second line, split on 2+ spaces)."""
    line = table.splitlines()[1]
    return [t for t in (s.strip() for s in line.split("  ")) if t]


def test_ops_and_backward_nodes_are_recorded_with_parents() -> None:
    x = ember.randn(3, 4, requires_grad=True)
    with profile() as prof:
        with record_function("forward"):
            y = (x * 2).tanh().sum()
        y.backward()
    names = _names(prof)
    assert names[:4] == ["forward", "Mul", "Tanh", "Sum"]
    assert {"SumBackward0", "TanhBackward0", "MulBackward0"} <= set(names)
    block = prof.events()[0]
    assert [c.name for c in block.cpu_children] == ["Mul", "Tanh", "Sum"]
    assert all(c.cpu_parent is block for c in block.cpu_children)
    assert block.cpu_time_total >= sum(c.cpu_time_total for c in block.cpu_children)
    assert block.self_cpu_time_total == pytest.approx(
        block.cpu_time_total - sum(c.cpu_time_total for c in block.cpu_children)
    )


def test_no_grad_and_general_path_ops_are_recorded() -> None:
    x = ember.randn(2, 3)
    i = ember.arange(6).reshape(2, 3)
    with profile() as prof, ember.no_grad():
        x.exp()
        x @ x.T
        i + i  # integers: the general path, Add's forward
        x**2
    assert _names(prof) == ["Exp", "Permute", "Mm", "Add", "Pow"]


def test_instrumentation_is_removed_after_the_profile() -> None:
    from ember.ops.elementwise import Elementwise, Mul

    before = {
        c: (c.__dict__.get("forward"), c.__dict__.get("backward")) for c in (Mul, Elementwise, nn.Linear)
    }
    ufuncs = [op.__closure__[op.__code__.co_freevars.index("ufunc")].cell_contents for op, _ in fastpath.made]
    total, power = fastpath.total, fastpath.power
    with pytest.raises(ValueError), profile(with_modules=True):
        ember.ones(2) * 3
        raise ValueError("leave the block by an exception")
    assert {c: (c.__dict__.get("forward"), c.__dict__.get("backward")) for c in before} == before
    assert [
        op.__closure__[op.__code__.co_freevars.index("ufunc")].cell_contents for op, _ in fastpath.made
    ] == ufuncs
    assert all(isinstance(u, np.ufunc) for u in ufuncs)
    assert (fastpath.total, fastpath.power) == (total, power)
    from ember.nn import _hooks

    assert not _hooks._global_forward_pre_hooks and not _hooks._global_forward_hooks


def test_record_function_as_decorator_and_outside_a_profile() -> None:
    @record_function("step")
    def step(x):
        return x + 1

    assert step(ember.ones(1)).item() == 2.0  # no profile: runs as is
    with profile() as prof:
        step(ember.ones(1))
    assert _names(prof) == ["step", "Add"]
    assert prof.events()[0].is_user_annotation


def test_user_function_forward_and_backward_named_after_the_class() -> None:
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with profile() as prof:
        Cube.apply(x).sum().backward()
    names = _names(prof)
    assert "Cube" in names and "CubeBackward" in names
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


def test_modules_shapes_memory_and_flops() -> None:
    model = _model()
    x = ember.randn(3, 4)
    with profile(record_shapes=True, profile_memory=True, with_modules=True, with_flops=True) as prof:
        model(x)
    linear = [e for e in prof.events() if e.name == "Linear"]
    assert [e.input_shapes for e in linear] == [[[3, 4], [8, 4], [8]], [[3, 8], [2, 8], [2]]]
    assert [e.flops for e in linear] == [2 * 3 * 4 * 8, 2 * 3 * 8 * 2]
    assert [e.cpu_memory_usage for e in linear] == [3 * 8 * 4, 3 * 2 * 4]
    # an event with events inside counts what they allocated, and its self memory is the rest
    top = prof.events()[0]
    assert top.name == "nn.Module: Sequential"
    assert top.cpu_memory_usage == sum(e.cpu_memory_usage for e in prof.events() if not e.cpu_children)
    assert all(e.self_cpu_memory_usage >= 0 for e in prof.events())
    modules = [e.name for e in prof.events() if e.name.startswith("nn.Module")]
    assert modules == ["nn.Module: Sequential", "nn.Module: Linear", "nn.Module: ReLU", "nn.Module: Linear"]
    averages = prof.key_averages()
    assert {a.key: a.count for a in averages}["nn.Module: Linear"] == 2
    by_shape = prof.key_averages(group_by_input_shape=True)
    assert sum(a.key == "Linear" for a in by_shape) == 2
    table = averages.table(sort_by="self_cpu_time_total", row_limit=3)
    assert "Total FLOPs" in _header(table) and "CPU Mem" in _header(table)
    assert len(table.splitlines()) == 3 + 3 + 2


def test_with_stack_names_the_callers_line(tmp_path) -> None:
    with profile(with_stack=True) as prof:
        ember.ones(2).exp()
    (event,) = prof.events()
    assert event.stack[0].startswith(__file__) and "test_with_stack_names_the_callers_line" in event.stack[0]
    table = prof.key_averages(group_by_stack_n=1).table()
    assert "Source Location" in _header(table)
    path = tmp_path / "stacks.txt"
    prof.export_stacks(str(path))
    (line,) = path.read_text().splitlines()
    frames, count = line.rsplit(" ", 1)
    assert frames.endswith("test_with_stack_names_the_callers_line;Exp") and int(count) >= 0


@requires_torch
@pytest.mark.parametrize(
    "options",
    [{}, {"record_shapes": True}, {"profile_memory": True}, {"record_shapes": True, "profile_memory": True}],
)
def test_table_columns_as_in_torch(options) -> None:
    import torch

    with torch.profiler.profile(**options) as tp:
        with torch.profiler.record_function("block"):
            torch.ones(2, 3) * 2
    with profile(**options) as ep:
        with record_function("block"):
            ember.ones(2, 3) * 2
    group = {"group_by_input_shape": True} if options.get("record_shapes") else {}
    theirs = tp.key_averages(**group).table(sort_by="cpu_time_total")
    ours = ep.key_averages(**group).table(sort_by="cpu_time_total")
    assert _header(ours) == _header(theirs)
    # the same frame: dashed rule, header, rule, rows, rule, total
    for t in (theirs, ours):
        lines = t.splitlines()
        assert set(lines[0].replace(" ", "")) == {"-"} and lines[0] == lines[2] == lines[-2]
        assert lines[-1].startswith("Self CPU time total: ")
    numeric = [len(c) for c in ours.splitlines()[0].split("  ") if c][1:]
    assert set(numeric[:6]) == {12}  # the numeric columns are 12 wide, as torch's


def test_table_row_values_and_units() -> None:
    x = ember.ones(2)
    with profile() as prof:
        for _ in range(3):
            x.exp()
    (avg,) = prof.key_averages()
    assert avg.key == "Exp" and avg.count == 3
    assert avg.cpu_time == pytest.approx(avg.cpu_time_total / 3)
    row = prof.key_averages().table(time_unit="ms").splitlines()[3].split()
    assert row[0] == "Exp" and row[1] == "100.00%" and row[2].endswith("ms") and row[-1] == "3"
    assert prof.key_averages().table(top_level_events_only=True).splitlines()[1].startswith("This report")
    total = prof.key_averages().total_average()
    assert total.key == "Total" and total.count == 3


def test_schedule_matches_torch_actions() -> None:
    s = schedule(wait=1, warmup=1, active=2, repeat=1, skip_first=1)
    got = [s(i).name for i in range(8)]
    assert got == ["NONE", "NONE", "WARMUP", "RECORD", "RECORD_AND_SAVE", "NONE", "NONE", "NONE"]
    with pytest.warns(UserWarning, match="warmup"):
        s = schedule(wait=0, warmup=0, active=1, skip_first_wait=1)
    assert s(0) == ProfilerAction.RECORD_AND_SAVE
    with pytest.raises(AssertionError, match="active=0"):
        schedule(wait=1, warmup=1, active=0)


@requires_torch
def test_schedule_as_torch() -> None:
    import torch

    for kwargs in (
        {"wait": 2, "warmup": 1, "active": 3, "repeat": 2, "skip_first": 1},
        {"wait": 3, "warmup": 1, "active": 1, "skip_first": 2, "skip_first_wait": 1},
    ):
        ours, theirs = schedule(**kwargs), torch.profiler.schedule(**kwargs)
        assert [ours(i).name for i in range(20)] == [theirs(i).name for i in range(20)]


def test_steps_cycles_and_tensorboard_trace_handler(tmp_path) -> None:
    x = ember.randn(3, requires_grad=True)
    ready = []
    handler = ember.profiler.tensorboard_trace_handler(str(tmp_path), worker_name="w0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with profile(
            schedule=schedule(wait=1, warmup=1, active=2, repeat=2),
            on_trace_ready=lambda p: (ready.append(p.step_num), handler(p)),
        ) as prof:
            for _ in range(9):
                (x * 2).sum().backward()
                prof.step()
    assert ready == [4, 8]  # as torch: step() has counted the step when the cycle ends
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2 and all(f.startswith("w0.") and f.endswith(".pt.trace.json") for f in files)
    trace = json.loads((tmp_path / files[1]).read_text())
    steps = [e["name"] for e in trace["traceEvents"] if e.get("name", "").startswith("ProfilerStep")]
    assert steps == ["ProfilerStep#6", "ProfilerStep#7"]
    ops = [e for e in trace["traceEvents"] if e["ph"] == "X" and e["name"] == "Mul"]
    assert len(ops) == 2 and ops[0]["cat"] == "cpu_op" and ops[0]["dur"] >= 0
    assert {e.name for e in prof.events()} >= {"ProfilerStep#6", "Mul", "MulBackward0"}


def test_start_stop_and_export_chrome_trace(tmp_path) -> None:
    prof = profile(activities=[ProfilerActivity.CPU])
    prof.start()
    ember.ones(2).tanh()
    prof.stop()
    path = str(tmp_path / "trace.json.gz")
    prof.export_chrome_trace(path)
    with gzip.open(path, "rt") as f:
        trace = json.load(f)
    assert [e["name"] for e in trace["traceEvents"] if e["ph"] == "X"] == ["Tanh"]
    assert ember.ones(2).tanh().grad_fn is None  # nothing recorded any more


def test_cuda_activity_warns_and_profiles_the_cpu() -> None:
    with (
        pytest.warns(UserWarning, match="CUDA is not available"),
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof,
    ):
        ember.ones(2).exp()
    assert _names(prof) == ["Exp"]
    assert ember.profiler.supported_activities() == {ProfilerActivity.CPU}
    assert not ember.profiler.itt.is_available()


def test_one_profile_at_a_time() -> None:
    with profile(), pytest.raises(RuntimeError, match="already enabled"), profile():
        pass
    from ember.autograd import profiler as ap

    refused = ap.profile()
    with ap.profile(), pytest.raises(RuntimeError, match="already enabled"), refused:
        pass
    with refused:  # the refused one is not left half entered ("not reentrant")
        ember.ones(2).exp()
    assert [e.name for e in refused.function_events] == ["Exp"]


def test_node_with_hooks_is_one_backward_event() -> None:
    a = ember.ones(3, requires_grad=True)
    y = a * 2
    seen = []
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(1))
    with profile() as prof:
        y.sum().backward()
    assert seen == [1]
    assert _names(prof) == ["Sum", "SumBackward0", "MulBackward0"]


def test_legacy_autograd_profiler() -> None:
    from ember.autograd import profiler as ap

    x = ember.randn(3, requires_grad=True)
    with ap.profile(record_shapes=True) as prof:
        with ap.record_function("loss"):
            loss = (x * x).sum()
        loss.backward()
    assert [e.name for e in prof.function_events][:3] == ["loss", "Mul", "Sum"]
    assert "Input Shapes" in _header(prof.key_averages(group_by_input_shape=True).table())
    assert prof.self_cpu_time_total > 0
    with ap.profile(enabled=False) as off:
        x.exp()
    assert off.function_events is None
    with ap.emit_nvtx(), ap.emit_itt():
        x.exp()
    with pytest.warns(UserWarning, match="CUDA"):
        ap.profile(use_cuda=True)


def test_profile_results_match_unprofiled_results() -> None:
    model = _model()
    x = ember.randn(5, 4)
    expected = model(x).sum()
    expected.backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    with profile(with_modules=True):
        got = model(x).sum()
        got.backward()
    assert got.item() == expected.item()
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)


def test_optimizer_step_event_named_as_torch() -> None:
    model = _model()
    sgd = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    adam = ember.optim.Adam(model.parameters())
    steps = {c: c.__dict__.get("step") for c in (ember.optim.Optimizer, ember.optim.SGD, ember.optim.Adam)}
    with profile() as prof:
        model(ember.randn(2, 4)).sum().backward()
        sgd.step()
        adam.step()
    names = _names(prof)
    assert names[-2:] == ["Optimizer.step#SGD.step", "Optimizer.step#Adam.step"]
    assert {c: c.__dict__.get("step") for c in steps} == steps
