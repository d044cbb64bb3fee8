"""ember.multiprocessing: shared-memory tensors across fork and spawn children, queues and
pools, the reductions, spawn/start_processes and their errors, sharing strategies, and no
leaked shared memory. The children's functions are in multiprocessing_children.py."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import re
import sys
import time
import warnings
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest

import ember
import ember.multiprocessing as mp
import multiprocessing_children as kids
from conftest import requires_torch

START_METHODS = multiprocessing.get_all_start_methods()
needs_fork = pytest.mark.skipif(
    "fork" not in START_METHODS, reason="the fork start method is unavailable here"
)
needs_spawn = pytest.mark.skipif(
    "spawn" not in START_METHODS, reason="the spawn start method is unavailable here"
)
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="descriptor passing and /proc are Linux's")


def _shm_names() -> set[str]:
    if not os.path.isdir("/dev/shm"):
        return set()
    return {n for n in os.listdir("/dev/shm") if n.startswith("ember_")}


@pytest.fixture(autouse=True)
def _no_leaks():
    """Every test leaves /dev/shm as it found it, and the sharing strategy at its default."""
    before = _shm_names()
    strategy = mp.get_sharing_strategy()
    yield
    mp.set_sharing_strategy(strategy)
    if _shm_names() != before:
        gc.collect()  # slow with torch loaded: only when a block may wait for the collector
        assert _shm_names() == before


def _roundtrip(obj):
    """What a process receives when obj is sent through a multiprocessing queue or pipe."""
    return ForkingPickler.loads(ForkingPickler.dumps(obj))


def _same_memory(a, b) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


# ---- the namespace ----------------------------------------------------------------------


def test_standard_library_names_are_reexported():
    for name in multiprocessing.__all__:
        assert getattr(mp, name) is getattr(multiprocessing, name), name
        assert name in mp.__all__
    assert ember.multiprocessing is mp


@requires_torch
def test_torch_multiprocessing_names_exist():
    import torch.multiprocessing as tmp

    missing = [n for n in tmp.__all__ if not hasattr(mp, n)]
    missing += [
        n for n in ("ProcessContext", "ProcessException", "SpawnContext", "reductions") if not hasattr(mp, n)
    ]
    assert not missing


@requires_torch
def test_sharing_strategies_as_torch():
    import torch.multiprocessing as tmp

    assert mp.get_all_sharing_strategies() == tmp.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() == tmp.get_sharing_strategy()
    for new in sorted(mp.get_all_sharing_strategies()):
        mp.set_sharing_strategy(new)
        assert mp.get_sharing_strategy() == new
    with pytest.raises(AssertionError, match=re.escape("invalid sharing strategy 'shm', expected one of {")):
        mp.set_sharing_strategy("shm")


def test_process_exceptions_pickle():
    e = pickle.loads(pickle.dumps(mp.ProcessExitedException("m", 1, 22, -9, "SIGKILL")))
    assert (e.msg, e.error_index, e.error_pid, e.exit_code, e.signal_name) == ("m", 1, 22, -9, "SIGKILL")
    r = pickle.loads(pickle.dumps(mp.ProcessRaisedException("trace", 0, 5)))
    assert isinstance(r, mp.ProcessException) and str(r) == "trace" and r.error_pid == 5


# ---- share_memory_ and the reductions, in one process -------------------------------------


@requires_torch
def test_share_memory_flags_as_torch():
    import torch

    for T in (ember, torch):
        x = T.arange(6.0)
        assert not x.is_shared() and not x.untyped_storage().is_shared()
        assert x.share_memory_() is x and x.is_shared() and x.untyped_storage().is_shared()
        e = T.zeros(0).share_memory_()
        assert e.is_shared()
        base = T.arange(6.0)
        view = base[2:4]
        view.share_memory_()
        assert view.is_shared() and base.is_shared()
        view[0] = 100  # the view is still a view of its base
        assert base.tolist() == [0.0, 1.0, 100.0, 3.0, 4.0, 5.0]


@pytest.mark.parametrize(
    "dtype", ["float16", "float32", "float64", "complex64", "int8", "int64", "uint8", "bool"]
)
def test_share_memory_keeps_values_and_roundtrip_shares(dtype):
    x = ember.tensor(np.arange(-3, 9).reshape(3, 4) % 5).to(getattr(ember, dtype))
    expected = x.tolist()
    x.share_memory_()
    assert x.tolist() == expected and x.dtype == getattr(ember, dtype)
    y = _roundtrip(x)
    assert y.dtype == x.dtype and y.shape == x.shape and y.tolist() == expected
    assert y.is_shared() and _same_memory(x, y)
    y[0, 0] = 1
    assert x[0, 0].item() == 1


def test_roundtrip_keeps_strides_offsets_and_shared_views():
    base = ember.arange(24.0).reshape(4, 6)
    t, part, zero_d = base.t(), base[1:, 1::2], base[2, 3]
    got = _roundtrip((t, part, zero_d))  # one message: its tensors share memory on arrival
    assert [g.stride() for g in got] == [t.stride(), part.stride(), zero_d.stride()]
    assert [g.tolist() for g in got] == [t.tolist(), part.tolist(), zero_d.tolist()]
    got[0][3, 2] = -1  # base[2, 3], as seen through the other two received tensors
    assert got[2].item() == -1 and got[1][1, 1].item() == -1 and t[3, 2].item() == -1
    # base (a view of arange's result, as t is) moves into the same block when it is shared
    # in turn (PyTorch moves it at once: see docs/differences.md)
    assert not base.is_shared() and base.share_memory_()[2, 3].item() == -1
    again = _roundtrip(base)  # sent separately: still the same memory
    assert _same_memory(again, got[1])


def test_roundtrip_parameters_buffers_and_requires_grad():
    p = ember.nn.Parameter(ember.ones(2))
    p.grad = ember.ones(2)
    q = _roundtrip(p)
    assert type(q) is ember.nn.Parameter and q.requires_grad and q.grad is None and _same_memory(p, q)
    frozen = _roundtrip(ember.nn.Parameter(ember.ones(2), requires_grad=False))
    assert not frozen.requires_grad
    b = _roundtrip(ember.nn.Buffer(ember.ones(2), persistent=False))
    assert type(b) is ember.nn.Buffer and b.persistent is False and b.is_shared()
    leaf = _roundtrip(ember.ones(2, requires_grad=True))
    assert leaf.requires_grad and leaf.is_leaf


def test_zero_dim_gradient_shares():
    # the engine gives a 0-d gradient as a NumPy scalar, which cannot be weakly referenced
    g = ember.tensor(3.0, requires_grad=True)
    (g * g).backward()
    got = _roundtrip(g.grad)
    assert got.item() == 6.0 and got.is_shared() and g.grad.is_shared() and _same_memory(got, g.grad)


@requires_torch
def test_nonleaf_requiring_grad_is_refused_as_torch():
    import torch

    messages = []
    for T in (ember, torch):
        y = T.ones(2, requires_grad=True) * 2
        with pytest.raises(RuntimeError) as info:
            ForkingPickler.dumps(y)
        messages.append(str(info.value))
        assert _roundtrip(y.detach()).tolist() == [2.0, 2.0]
    assert messages[0] == messages[1]


def test_plain_pickle_still_copies():
    x = ember.ones(3).share_memory_()
    y = pickle.loads(pickle.dumps(x))
    assert not y.is_shared() and not _same_memory(x, y)


def test_storages_share():
    s = ember.arange(4, dtype=ember.int32).untyped_storage()
    assert not s.is_shared() and s.share_memory_() is s and s.is_shared()
    r = _roundtrip(s)
    assert r.is_shared() and r.data_ptr() == s.data_ptr() and r.tolist() == s.tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        typed = ember.ones(2).storage()
    assert not typed.is_shared() and typed.share_memory_().is_shared()


def test_module_share_memory_moves_parameters_grads_and_buffers():
    model = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.BatchNorm1d(2))
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    model(ember.randn(4, 3)).sum().backward()
    weight = model[0].weight
    assert model.share_memory() is model
    assert model[0].weight is weight  # in place: the optimizer still holds the parameters
    assert all(p.is_shared() and p.grad.is_shared() for p in model.parameters())
    assert all(b.is_shared() for b in model.buffers())
    before = weight.detach().clone()
    opt.step()
    assert weight.is_shared() and not ember.equal(weight.detach(), before)


@linux_only
def test_file_descriptor_strategy_leaves_no_file_and_closes_descriptors():
    def block_fds():  # this process's descriptors of ember's memfd blocks
        names = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                names.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:  # the descriptor listdir itself used
                pass
        return sum(name.startswith("/memfd:ember-shared") for name in names)

    gc.collect()  # blocks of earlier tests that wait for the collector
    before = block_fds()
    x = ember.ones(1000).share_memory_()
    y = _roundtrip(x)
    assert not _shm_names() and block_fds() > before
    del x, y  # freed when the last tensor goes: no garbage collection needed
    deadline = time.monotonic() + 10
    while block_fds() != before and time.monotonic() < deadline:
        time.sleep(0.01)  # multiprocessing's descriptor server closes its copy after sending it
    assert block_fds() == before


def test_file_system_strategy_names_a_file_until_freed():
    mp.set_sharing_strategy("file_system")
    x = ember.arange(5.0).t().share_memory_()
    names = _shm_names()
    assert len(names) == 1
    y = _roundtrip(x)
    y[0] = 9
    assert x[0].item() == 9
    del x, y
    assert not _shm_names()


def test_file_system_message_outlives_the_senders_tensor():
    # as in PyTorch, a tensor put on a queue may be dropped by the sender at once: the
    # message holds a name of its own, which the receiver takes over
    mp.set_sharing_strategy("file_system")
    message = ForkingPickler.dumps(ember.arange(3.0))  # the tensor and its block are freed
    assert len(_shm_names()) == 1  # the message's name
    y = ForkingPickler.loads(message)
    assert y.tolist() == [0.0, 1.0, 2.0] and y.is_shared()
    assert len(_shm_names()) == 1  # now the receiver's
    z = _roundtrip(y)  # sent on by the receiver, and back: one block
    z[0] = 5
    assert y[0].item() == 5 and len(_shm_names()) == 1
    del y, z
    assert not _shm_names()
    ForkingPickler.dumps(ember.ones(2))  # never received: removed when the sender exits
    assert len(_shm_names()) == 1
    mp._memory._at_exit()  # what this process's exit runs
    assert not _shm_names()


# ---- child processes ----------------------------------------------------------------------


@needs_fork
def test_fork_children_share_what_was_shared_before():
    ctx = mp.get_context("fork")
    shared, private = ember.zeros(3).share_memory_(), ember.zeros(3)
    p = ctx.Process(target=kids.add_one, args=(shared, private))
    p.start()
    p.join()
    assert p.exitcode == 0
    assert shared.tolist() == [1.0, 1.0, 1.0]
    assert private.tolist() == [0.0, 0.0, 0.0]  # the child wrote its copy-on-write copy, as in PyTorch


@needs_fork
def test_fork_queue_both_directions():
    ctx = mp.get_context("fork")
    queue, seen, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    p = ctx.Process(target=kids.check_parent_writes, args=(queue, seen, done))
    p.start()
    t = queue.get(timeout=30)  # made in the child after the fork
    t.fill_(5)
    done.set()
    assert seen.get(timeout=30) == [5.0, 5.0, 5.0]
    p.join()
    # a tensor sent to a running child (not inherited): the child's writes come back
    queue, done = ctx.Queue(), ctx.Event()
    p = ctx.Process(target=kids.receive_and_double, args=(queue, done))
    p.start()
    x = ember.arange(3.0)
    queue.put(x)
    assert done.wait(30)
    p.join()
    assert x.is_shared() and x.tolist() == [0.0, 2.0, 4.0]


@needs_fork
def test_receiving_after_the_sender_exited_says_why():
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    p = ctx.Process(target=kids.put_and_exit, args=(queue,))
    p.start()
    p.join()
    with pytest.raises(RuntimeError, match="sender must stay alive"):
        queue.get(timeout=30)


@needs_fork
def test_pool_results_arrive_in_shared_memory():
    with mp.get_context("fork").Pool(2) as pool:
        out = pool.map(kids.square, [ember.tensor([1.0, 2.0]), ember.tensor([3.0])])
    assert [o.tolist() for o in out] == [[1.0, 4.0], [9.0]]
    assert all(o.is_shared() for o in out)


@needs_spawn
def test_spawn_children_share_process_args_and_queues():
    ctx = mp.get_context("spawn")
    shared, unshared = ember.zeros(2).share_memory_(), ember.arange(2.0)
    queue, done = ctx.Queue(), ctx.Event()
    p = ctx.Process(target=kids.add_one_and_reply, args=(shared, unshared, queue, done))
    p.start()  # pickles the arguments: unshared moves to shared memory, as in PyTorch
    back, made = queue.get(timeout=60)
    done.set()
    p.join()
    assert p.exitcode == 0
    assert shared.tolist() == [1.0, 1.0] and _same_memory(back, shared)
    assert unshared.is_shared() and unshared.tolist() == [1.0, 2.0]
    assert made.is_shared() and made.tolist() == [7.0, 7.0]


@needs_fork
def test_file_system_names_made_while_exiting_are_removed():
    # the feeder thread of a queue sends while its process exits: the names it makes then
    # were left in /dev/shm, never received (the fixture checks)
    mp.set_sharing_strategy("file_system")
    ctx = mp.get_context("fork")
    for _ in range(3):
        p = ctx.Process(target=kids.put_many_and_exit, args=(ctx.Queue(),))
        p.start()
        p.join()
        assert p.exitcode == 0


@pytest.mark.skipif(
    "forkserver" not in START_METHODS, reason="the forkserver start method is unavailable here"
)
def test_forkserver_child_removes_the_name_it_received():
    # a forkserver child clears multiprocessing's finalizers after unpickling its arguments:
    # the name of a block it received then was left in /dev/shm
    mp.set_sharing_strategy("file_system")
    ctx = mp.get_context("forkserver")
    t = ember.zeros(2)
    p = ctx.Process(target=kids.add_one, args=(t,))
    p.start()
    p.join()
    assert p.exitcode == 0 and t.tolist() == [1.0, 1.0]
    assert len(_shm_names()) == 1  # the parent's own; the fixture checks it goes with t


def _hogwild_data():
    ember.manual_seed(0)
    x = ember.randn(64, 4)
    y = x @ ember.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.25
    model = ember.nn.Linear(4, 1)
    model.share_memory()
    return model, x, y


def _loss(model, x, y) -> float:
    with ember.no_grad():
        return ember.nn.functional.mse_loss(model(x), y).item()


@needs_fork
def test_hogwild_with_forked_processes():
    model, x, y = _hogwild_data()
    before = _loss(model, x, y)
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=kids.hogwild_train, args=(rank, model, x, y, 40)) for rank in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0, 0]
    assert _loss(model, x, y) < 1e-3 * before  # the parent's model was trained by the children


@needs_spawn
def test_spawn_runs_hogwild_and_ranks():
    model, x, y = _hogwild_data()
    before = _loss(model, x, y)
    assert mp.spawn(kids.hogwild_train, args=(model, x, y, 40), nprocs=2) is None
    assert _loss(model, x, y) < 1e-3 * before


def test_spawn_warns_about_another_start_method():
    with pytest.warns(FutureWarning, match="only supports start_method=spawn"):
        assert mp.spawn(kids.write_rank, nprocs=0, start_method="fork") is None


@needs_fork
def test_start_processes_fork_ranks():
    t = ember.zeros(3).share_memory_()
    assert mp.start_processes(kids.write_rank, args=(t,), nprocs=3, start_method="fork") is None
    assert t.tolist() == [10.0, 11.0, 12.0]


@needs_fork
def test_child_exception_is_raised_with_its_traceback():
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.start_processes(kids.fail_at_one, nprocs=2, start_method="fork")
    e = info.value
    assert e.error_index == 1 and isinstance(e.error_pid, int)
    text = str(e)
    assert text.startswith("\n\n-- Process 1 terminated with the following error:\nTraceback")
    assert "ValueError: child 1 went wrong" in text and "fail_at_one" in text


@needs_fork
@pytest.mark.parametrize(
    "fn,args,message,code,signal_name",
    [
        (kids.exit_with, (3,), "process 0 terminated with exit code 3", 3, None),
        (kids.kill_self, (), "process 0 terminated with signal SIGKILL", -9, "SIGKILL"),
    ],
)
def test_child_exit_is_raised(fn, args, message, code, signal_name):
    with pytest.raises(mp.ProcessExitedException, match=f"^{message}$") as info:
        mp.start_processes(fn, args=args, nprocs=1, start_method="fork")
    assert (info.value.exit_code, info.value.signal_name, info.value.error_index) == (code, signal_name, 0)


@needs_fork
def test_process_context_join_with_timeout():
    ctx = mp.get_context("fork")
    event = ctx.Event()
    context = mp.start_processes(kids.wait_for, args=(event,), nprocs=2, join=False, start_method="fork")
    assert isinstance(context, mp.ProcessContext) and len(context.pids()) == 2
    assert context.join(timeout=0.05) is False
    event.set()
    while not context.join(timeout=30):
        pass
    assert context.join() is True and all(p.exitcode == 0 for p in context.processes)
    assert not any(os.path.exists(f) for f in context.error_files)
