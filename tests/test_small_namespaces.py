"""ember.compiler, ember.__future__, ember.types and ember.futures against PyTorch's: the
compiler's functions behave as eager code without a compiler sees them in PyTorch (the
decorated functions compute the same, the queries say False, the settings read back); the
__future__ flags and what overwriting parameters on conversion does to a module; the type
aliases; futures' results, errors, callbacks and gathering."""

from __future__ import annotations

import inspect
import threading
import typing
import warnings
from collections.abc import Callable

import numpy as np
import pytest

import ember
from conftest import requires_torch

# ---- ember.compiler ---------------------------------------------------------------------------


@requires_torch
def test_compiler_has_torch_compilers_public_functions() -> None:
    import torch

    assert sorted(torch.compiler.__all__) == sorted(ember.compiler.__all__)
    for name in torch.compiler.__all__:
        theirs, ours = getattr(torch.compiler, name), getattr(ember.compiler, name)
        if name in ("compile", "config") or not inspect.isfunction(theirs):
            continue
        a, b = inspect.signature(ours).parameters, inspect.signature(theirs).parameters
        assert list(a) == list(b), name
        assert [p.default for p in a.values()] == [p.default for p in b.values()], name


def test_compiler_compile_is_ember_compile() -> None:
    assert ember.compiler.compile is ember.compile
    model = ember.nn.Linear(2, 2)
    assert ember.compiler.compile(model) is model


@requires_torch
@pytest.mark.parametrize("T", ["ember", "torch"], indirect=True)
def test_eager_code_sees_no_compiler(T) -> None:
    c = T.compiler
    assert (c.is_compiling(), c.is_dynamo_compiling(), c.is_exporting()) == (False, False, False)
    assert c.reset() is None and c.cudagraph_mark_step_begin() is None
    assert c.save_cache_artifacts() is None

    def f(x):
        return x * 2 + 1

    x = T.arange(3.0)
    results = [
        c.disable(f)(x),
        c.disable(recursive=False)(f)(x),
        c.disable(reason="slow")(f)(x),
        c.allow_in_graph(f)(x),
        c.assume_constant_result(f)(x),
        c.nested_compile_region(f)(x),
        c.nested_compile_region()(f)(x),
        c.set_stance("force_eager")(f)(x),
    ]
    for r in results:
        assert r.tolist() == [1.0, 3.0, 5.0]
    assert c.allow_in_graph([abs, len]) == [abs, len]
    with pytest.raises(AssertionError, match="callable"):
        c.allow_in_graph(3)
    with pytest.raises(AssertionError, match="callable"):
        c.disable(3)


@requires_torch
@pytest.mark.parametrize("T", ["ember", "torch"], indirect=True)
def test_compiler_settings_read_back(T) -> None:
    c = T.compiler
    assert c.get_default_backend() == "inductor"
    c.set_default_backend("eager")
    assert c.get_default_backend() == "eager"
    c.set_default_backend(None)
    assert c.get_default_backend() == "inductor"
    assert "eager" not in c.list_backends() and "eager" in c.list_backends(exclude_tags=None)
    assert c.set_enable_guard_collectives(True) is False
    assert c.set_enable_guard_collectives(False) is True
    with c.set_stance("force_eager"):
        pass
    c.set_stance("force_eager")
    c.set_stance("default")
    with pytest.raises(RuntimeError, match="non-default stance cannot have force_backend set"):
        c.set_stance("force_eager", force_backend="eager")
    copy = c.config.get_config_copy()
    assert copy["job_id"] is None and copy["cache_key_tag"] == ""
    c.config.job_id = "run-1"
    assert c.config.job_id == "run-1"
    c.config.job_id = None
    with pytest.raises(AttributeError, match="does not exist"):
        c.config.no_such_setting = 1
    with pytest.raises(AttributeError, match="does not exist"):
        c.config.no_such_setting


@requires_torch
@pytest.mark.parametrize("T", ["ember", "torch"], indirect=True)
def test_substitute_in_graph(T) -> None:
    def original(x, y=1):
        return x + y

    def polyfill(x, y=1):
        raise AssertionError("the stand-in is for compiled code only")

    assert T.compiler.substitute_in_graph(original)(polyfill)(2, y=3) == 5
    with pytest.raises(TypeError, match="Signature mismatch"):
        T.compiler.substitute_in_graph(original)(lambda x: x)

    def other(x, y=1):
        return x - y

    assert T.compiler.substitute_in_graph(other, skip_signature_check=True)(lambda x: -x)(4) == 3
    with pytest.raises(TypeError, match="substitute_in_graph expects a function"):
        T.compiler.substitute_in_graph(3)


@requires_torch
@pytest.mark.parametrize("T", ["ember", "torch"], indirect=True)
def test_substitute_in_graph_compares_signatures_as_torch(T) -> None:
    """Annotations, a positional-only marker and a polyfill taking (*args, **kwargs) are
    no mismatch in PyTorch; ember compared whole inspect.Signatures and refused them."""

    def original() -> Callable[..., int]:
        """A new function each time: PyTorch registers a function's stand-in only once."""

        def add(a: int, b: int = 2, /, *, c: str = "c") -> int:
            return a + b

        return add

    def annotated(a, b=2, *, c="c"):
        raise AssertionError("the stand-in is for compiled code only")

    def wildcard(*args, **kwargs):
        raise AssertionError("the stand-in is for compiled code only")

    for polyfill in (annotated, wildcard):
        assert T.compiler.substitute_in_graph(original())(polyfill)(1, 3) == 4

    def other_default(a, b=3, *, c="c"):
        return 0

    def other_keyword(a, b=2, *, d="c"):
        return 0

    for polyfill in (other_default, other_keyword):
        with pytest.raises(TypeError, match="Signature mismatch"):
            T.compiler.substitute_in_graph(original())(polyfill)
    with pytest.raises(TypeError, match=r"@substitute_in_graph\(...\) expects a function"):
        T.compiler.substitute_in_graph(original())(3)  # ember returned the original function


def test_set_stance_restores_the_previous_stance() -> None:
    from ember import compiler

    assert compiler._stance[0] == "default"
    seen = []

    @compiler.set_stance("force_eager")
    def f() -> None:
        seen.append(compiler._stance[0])

    assert compiler._stance[0] == "default"
    f()
    with compiler.set_stance("eager_on_recompile"):
        seen.append(compiler._stance[0])
    assert seen == ["force_eager", "eager_on_recompile"] and compiler._stance[0] == "default"


class _Entry:
    """A stand-in for dynamo's GuardEntry with the fields the filters read."""

    def __init__(self, guard_type: str, is_global: bool, value: object = None) -> None:
        self.guard_type, self.is_global, self.value = guard_type, is_global, value


@requires_torch
def test_guard_filters_give_torchs_answers() -> None:
    import torch

    entries = [
        _Entry("TENSOR_MATCH", False, torch.zeros(1)),
        _Entry("TENSOR_MATCH", True, torch.nn.Parameter(torch.zeros(1))),
        _Entry("GLOBAL_STATE", True),
        _Entry("ID_MATCH", False),
    ]
    ours = [
        _Entry(e.guard_type, e.is_global, ember.nn.Parameter(ember.zeros(1)) if e.value is not None else None)
        for e in entries
    ]
    ours[0].value = ember.zeros(1)
    for name in [
        "skip_all_guards_unsafe",
        "skip_guard_on_globals_unsafe",
        "keep_portable_guards_unsafe",
        "keep_tensor_guards_unsafe",
    ]:
        assert getattr(ember.compiler, name)(ours) == getattr(torch.compiler, name)(entries), name
    assert ember.compiler.keep_tensor_guards_unsafe(ours, keep_parameters=True) == [True, True, False, False]


# ---- ember.__future__ --------------------------------------------------------------------------


@pytest.fixture
def future_flags():
    """Each test starts with the flags off and leaves them off, in ember and in torch."""
    modules = [ember.__future__]
    try:
        import torch

        modules.append(torch.__future__)
    except ImportError:  # pragma: no cover
        pass
    yield
    for m in modules:
        m.set_overwrite_module_params_on_conversion(False)
        m.set_swap_module_params_on_conversion(False)


@requires_torch
@pytest.mark.parametrize("T", ["ember", "torch"], indirect=True)
def test_future_flags_read_back(T, future_flags) -> None:
    f = T.__future__
    assert f.get_overwrite_module_params_on_conversion() is False
    assert f.get_swap_module_params_on_conversion() is False
    f.set_overwrite_module_params_on_conversion(True)
    f.set_swap_module_params_on_conversion(True)
    assert f.get_overwrite_module_params_on_conversion() is True
    assert f.get_swap_module_params_on_conversion() is True


def _convert(T, overwrite: bool, swap: bool) -> list:
    """What a conversion to float64 does to a Linear's parameters and gradients, then
    back to float32, with the given flags."""
    T.__future__.set_overwrite_module_params_on_conversion(overwrite)
    T.__future__.set_swap_module_params_on_conversion(swap)
    m = T.nn.Linear(2, 3)
    m(T.ones(4, 2)).sum().backward()
    weight, grad = m.weight, m.weight.grad
    m.double()
    facts = [
        m.weight is weight,
        m.weight.grad is grad,
        str(m.weight.dtype).split(".")[1],
        str(weight.dtype).split(".")[1],
        str(m.weight.grad.dtype).split(".")[1],
        type(m.weight).__name__,
        m.weight.is_leaf,
        m.weight.requires_grad,
        m.weight.grad.requires_grad,
        [n for n, _ in m.named_parameters()],
    ]
    m.bias.requires_grad_(False)
    m.float()
    facts += [str(m.weight.dtype).split(".")[1], m.bias.requires_grad, type(m.bias).__name__]
    return facts


@requires_torch
@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("swap", [False, True])
def test_module_conversion_honours_the_flags(overwrite: bool, swap: bool, future_flags) -> None:
    import torch

    assert _convert(ember, overwrite, swap) == _convert(torch, overwrite, swap)


@requires_torch
def test_overwritten_parameters_leave_the_optimizer_behind(future_flags) -> None:
    import torch

    def run(T) -> tuple:
        T.__future__.set_overwrite_module_params_on_conversion(True)
        T.manual_seed(0)
        m = T.nn.Linear(2, 1)
        with T.no_grad():
            m.weight.fill_(0.5)
            m.bias.fill_(0.0)
        opt = T.optim.SGD(m.parameters(), lr=0.1)
        m.double()
        m(T.ones(1, 2, dtype=T.float64)).sum().backward()
        opt.step()  # the optimizer holds the old float32 parameters, which have no grad
        return m.weight.tolist(), opt.param_groups[0]["params"][0].tolist()

    assert run(ember) == run(torch)


def _load_assigned(T) -> list:
    """What load_state_dict(assign=True) of a float64 state dict does to a module's
    parameters, gradients and buffers under the swap flag."""
    T.__future__.set_swap_module_params_on_conversion(True)
    m = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.BatchNorm1d(2))
    m(T.ones(3, 2)).sum().backward()
    m[0].bias.requires_grad_(False)
    weight, mean = m[0].weight, m[1].running_mean
    state = {k: v.double() * 2 for k, v in m.state_dict().items()}
    m.load_state_dict(state, assign=True)
    state["0.weight"].add_(1)  # the loaded memory is the module's now
    return [
        m[0].weight is weight,
        m[1].running_mean is mean,
        type(m[0].weight).__name__,
        str(m[0].weight.dtype).split(".")[1],
        m[0].weight.grad is None,
        m[0].weight.requires_grad,
        m[0].bias.requires_grad,
        m[0].weight.tolist() == state["0.weight"].tolist(),
    ]


@requires_torch
def test_swap_flag_keeps_the_objects_of_an_assigning_load(future_flags) -> None:
    """Under set_swap_module_params_on_conversion(True), torch swaps the loaded tensors into
    the module's Parameter and buffer objects; ember put the loaded tensors in their place,
    leaving an optimizer built before holding parameters the module no longer has."""
    import torch

    assert _load_assigned(ember) == _load_assigned(torch)


# ---- ember.types ------------------------------------------------------------------------------


@requires_torch
def test_type_aliases_match_torchs() -> None:
    import torch

    for name in ["Number", "_Number", "_bool", "_int", "_float", "_complex", "_str", "_bytes"]:
        assert getattr(ember.types, name) == getattr(torch.types, name), name
    assert ember.types._dtype is ember.dtype and ember.types._device is ember.device
    assert ember.types._layout is ember.layout and ember.types.Size is ember.Size
    assert ember.types.Tensor is ember.Tensor
    assert typing.get_args(ember.types.Device) == (ember.device, str, int, type(None))
    assert typing.get_args(ember.types.FileLike) == typing.get_args(torch.types.FileLike)
    assert isinstance(ember.tensor(1.0).item(), ember.types._Number)
    assert typing.get_args(ember.types._TensorOrTensors)[0] is ember.Tensor
    assert typing.get_args(ember.types._size) == (ember.Size, list[int], tuple[int, ...])

    def f(x: ember.types._TensorOrTensors, d: ember.types.Device = None) -> ember.types.Number:
        return 0

    assert typing.get_type_hints(f)["d"] == ember.types.Device


# ---- ember.futures -----------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("T", ["ember", "torch"], indirect=True)
def test_future_results_and_chaining(T) -> None:
    Future = T.futures.Future
    f = Future()
    assert not f.done()
    f.set_result(3)
    assert f.done() and f.wait() == 3 and f.value() == 3
    with pytest.raises(RuntimeError, match="can only be marked completed once"):
        f.set_result(4)

    g = Future()
    h = g.then(lambda fut: fut.wait() + 1)
    assert not h.done()
    g.set_result(1)
    assert h.done() and h.wait() == 2
    assert f.then(lambda fut: fut.value() * 10).wait() == 30  # already complete: runs at once

    failing = Future()
    bad = failing.then(lambda fut: 1 / 0)
    failing.set_result(1)
    assert bad.done()
    for get in (bad.wait, bad.value):
        with pytest.raises(
            RuntimeError, match="Got the following error when running the callback: ZeroDivisionError"
        ):
            get()

    err = Future()
    err.set_exception(ValueError("boom"))
    assert err.done()
    with pytest.raises(ValueError, match="boom"):
        err.wait()
    with pytest.raises(RuntimeError, match="ValueError: boom"):
        err.then(lambda fut: fut.value()).wait()
    with pytest.raises(AssertionError, match="not an Exception"):
        Future().set_exception(3)

    calls: list = []
    k = Future()
    k.add_done_callback(lambda fut: calls.append(fut.value()))
    k.set_result(5)
    k.add_done_callback(lambda fut: calls.append(fut.value() + 1))
    assert calls == [5, 6]
    assert Future[int] is not None  # generic, for annotations


def test_future_callback_errors_are_reported_not_raised() -> None:
    f = ember.futures.Future()
    f.add_done_callback(lambda fut: 1 / 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f.set_result(1)
    assert "ZeroDivisionError" in str(caught[0].message)
    with pytest.raises(RuntimeError, match="not complete yet"):
        ember.futures.Future().value()


@requires_torch
@pytest.mark.parametrize("T", ["ember", "torch"], indirect=True)
def test_collect_all_and_wait_all(T) -> None:
    Future, collect_all, wait_all = T.futures.Future, T.futures.collect_all, T.futures.wait_all
    a, b = Future(), Future()
    c = collect_all([a, b])
    assert not c.done()
    a.set_result(1)
    assert not c.done()
    b.set_result(T.ones(2))
    assert c.done() and [f.value() for f in c.wait()][0] == 1
    values = wait_all([a, b])
    assert values[0] == 1 and values[1].tolist() == [1.0, 1.0]
    assert collect_all([]).wait() == [] and wait_all([]) == []

    x, y = Future(), Future()
    x.set_result(1)
    y.set_exception(RuntimeError("lost"))
    with pytest.raises(RuntimeError, match="lost"):
        wait_all([x, y])
    failed = collect_all([x, y])
    assert failed.done()
    with pytest.raises(RuntimeError, match="lost"):
        failed.wait()


def test_wait_blocks_until_another_thread_completes() -> None:
    f = ember.futures.Future()
    done_in = []
    f.add_done_callback(lambda fut: done_in.append(threading.current_thread().name))
    worker = threading.Thread(target=lambda: f.set_result(np.float32(2.5)), name="worker")
    worker.start()
    assert f.wait() == 2.5
    worker.join()
    assert done_in == ["worker"]


def test_jit_fork_returns_a_completed_future() -> None:
    fut = ember.jit.fork(lambda x: x + 1, ember.tensor([1.0]))
    assert isinstance(fut, ember.futures.Future) and fut.done()
    assert ember.jit.Future is ember.futures.Future and "Future" in ember.jit.__all__  # as in torch
    assert ember.jit.wait(fut).tolist() == [2.0]
    assert ember.futures.wait_all([fut])[0].tolist() == [2.0]
