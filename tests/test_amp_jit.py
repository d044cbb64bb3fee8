"""Mixed precision and TorchScript's entry points, compared with PyTorch: autocast's state,
nesting, decorator and checks (ember computes in the inputs' own dtype inside it); the
GradScaler's scales, skipped steps and parameters over a training run with injected inf and
NaN gradients, its errors and state dict; the deprecated torch.cpu.amp and torch.cuda.amp
spellings; and torch.jit's functions, which hand back what they are given."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import requires_torch


@pytest.fixture(autouse=True)
def _fresh_autocast_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees ember's one-time "computes in the inputs' dtype" warning afresh."""
    monkeypatch.setattr(ember.amp.autocast_mode, "_told", [False])


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _warnings_of(fn: Any, *args: Any, **kwargs: Any) -> list[tuple[type, str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args, **kwargs)
    return [(w.category, str(w.message)) for w in caught]


def _enter(T: Any, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """autocast's state inside a region made with these arguments."""
    with T.autocast(*args, **kwargs):
        return T.is_autocast_enabled(args[0] if args else kwargs["device_type"]), T.get_autocast_dtype("cpu")


# ---------------------------------------------------------------- autocast


def _names(T: Any) -> dict[str, Any]:
    return {"float16": T.float16, "float32": T.float32, "float64": T.float64}


def test_autocast_state_and_nesting_as_pytorch(T):
    assert T.autocast is T.amp.autocast
    assert not T.is_autocast_enabled("cpu") and not T.is_autocast_enabled()
    with T.autocast("cpu", dtype=T.float16) as region:
        assert isinstance(region, T.autocast)
        assert T.is_autocast_enabled("cpu") and T.get_autocast_dtype("cpu") == T.float16
        assert not T.is_autocast_enabled()  # no argument: CUDA's state
        with T.autocast("cpu", enabled=False):
            assert not T.is_autocast_enabled("cpu") and T.get_autocast_dtype("cpu") == T.float16
        assert T.is_autocast_enabled("cpu")
        with T.autocast(device_type="cpu:0", dtype=T.float16):
            assert T.is_autocast_enabled("cpu")
    assert not T.is_autocast_enabled("cpu")
    assert T.amp.is_autocast_available("cpu") and T.amp.is_autocast_available("cuda:1")
    assert not T.amp.is_autocast_available("meta")
    T.set_autocast_enabled("cpu", True)
    assert T.is_autocast_enabled("cpu")
    T.set_autocast_enabled("cpu", False)
    assert T.is_autocast_cache_enabled()
    assert T.get_autocast_dtype("cuda") == T.float16
    assert T.get_autocast_dtype("cpu") == T.bfloat16


def test_autocast_as_a_decorator_and_exceptions_restore_the_state(T):
    @T.autocast("cpu", dtype=T.float16)
    def inside(x: int) -> tuple[int, bool]:
        return x + 1, T.is_autocast_enabled("cpu")

    assert _quiet(inside, 2) == (3, True) and inside.__name__ == "inside"
    assert not T.is_autocast_enabled("cpu")
    with pytest.raises(KeyError):
        with T.autocast("cpu", dtype=T.float16):
            raise KeyError("x")
    assert not T.is_autocast_enabled("cpu")
    with pytest.raises(TypeError, match="requires a callable, but got int"):
        T.autocast("cpu", dtype=T.float16)(3)


def test_a_recursive_function_decorated_with_autocast_restores_the_state():
    """Each call enters a region of its own. (PyTorch 2.13 reuses one region object for
    every call, so a recursive call overwrites the state saved by the outer one and autocast
    stays on after the function returns.)"""

    @ember.autocast("cpu", dtype=ember.float16)
    def inside(depth: int) -> list[bool]:
        with ember.autocast("cpu", enabled=depth % 2 == 0):
            here = ember.is_autocast_enabled("cpu")
        return [here] + (inside(depth - 1) if depth else [])

    assert _quiet(inside, 3) == [False, True, False, True]
    assert not ember.is_autocast_enabled("cpu")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_autocast_to_an_unsupported_cpu_dtype_warns_and_disables(dtype, T):
    warned = _warnings_of(_enter, T, "cpu", dtype=_names(T)[dtype])
    assert [c for c, _ in warned] == [UserWarning]
    assert "In CPU autocast, but the target dtype is not supported. Disabling autocast." in warned[0][1]
    assert _quiet(_enter, T, "cpu", dtype=_names(T)[dtype]) == (False, _names(T)[dtype])


def test_autocast_on_cuda_warns_and_disables(T):
    warned = _warnings_of(_enter, T, "cuda")
    assert [c for c, _ in warned] == [UserWarning] and "CUDA is not available" in warned[0][1]
    assert _quiet(_enter, T, "cuda")[0] is False
    assert _quiet(_enter, T, "cuda", dtype=T.float16)[0] is False


@pytest.mark.parametrize("device", ["cuda:0", "mps", "xpu", "hpu"])
def test_autocast_on_other_devices_warns_and_disables(device):
    """No device but the CPU exists; PyTorch 2.13 without them enables these regions."""
    warned = _warnings_of(_enter, ember, device)
    assert [c for c, _ in warned] == [
        UserWarning
    ] and "is not available (ember runs on the CPU only)" in warned[0][1]
    assert _quiet(_enter, ember, device)[0] is False


def test_autocast_errors_as_pytorch(T):
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        T.autocast(0)
    for fn in (T.autocast, T.is_autocast_enabled, T.get_autocast_dtype):
        with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, .* device string: gpu"):
            fn("gpu")
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'meta'"):
        T.autocast("meta", dtype=T.float16)
    with pytest.raises(RuntimeError, match="Invalid device string: 'cpu:x'"):
        T.amp.is_autocast_available("cpu:x")
    with pytest.raises(TypeError, match="must be str, not int"):
        T.get_autocast_dtype(1)


def test_ember_computes_in_the_inputs_dtype_inside_autocast_and_says_so():
    a = ember.randn(3, 4)
    b = ember.randn(4, 2, dtype=ember.float64)
    model = ember.nn.Linear(4, 2)
    outside = (a @ a.T, model(a), a.double() @ b)
    warned = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ember.autocast("cpu", dtype=ember.float16):
            inside = (a @ a.T, model(a), a.double() @ b)
        with ember.autocast("cpu"):  # said once only
            pass
        warned = [str(w.message) for w in caught]
    assert len(warned) == 1 and "compute in their inputs' own dtype" in warned[0] and "float16" in warned[0]
    for x, y in zip(inside, outside):
        assert x.dtype == y.dtype and np.array_equal(x.detach().numpy(), y.detach().numpy())
    assert inside[0].dtype == ember.float32 and inside[2].dtype == ember.float64
    # a disabled region does not warn
    ember.amp.autocast_mode._told[0] = False
    assert _warnings_of(_enter, ember, "cpu", enabled=False) == []


def _function(T: Any, **fwd_options: Any) -> tuple[Any, list]:
    """A custom Function whose forward and backward record the autocast state they ran with."""
    seen = []

    class Double(T.autograd.Function):
        @staticmethod
        @T.amp.custom_fwd(device_type="cpu", **fwd_options)
        def forward(ctx, x):
            seen.append(("forward", T.is_autocast_enabled("cpu"), x.dtype))
            return x * 2

        @staticmethod
        @T.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            seen.append(("backward", T.is_autocast_enabled("cpu"), grad.dtype))
            return grad * 2

    return Double, seen


@pytest.mark.parametrize("cast", [None, "float32", "float16"])
def test_custom_fwd_and_custom_bwd_as_pytorch(cast, T):
    """The state forward and backward run with, the dtypes they see and return."""
    options = {} if cast is None else {"cast_inputs": _names(T)[cast]}
    Double, seen = _function(T, **options)
    x = T.tensor([1.0, -2.0, 0.5], requires_grad=True)
    with T.autocast("cpu", dtype=T.float16):
        y = Double.apply(x)
    y.sum().backward()
    out = Double.apply(x)  # outside a region: no cast, no change of state
    seen = [(where, on, str(dtype).split(".")[1]) for where, on, dtype in seen]
    expected = {  # the same in PyTorch and ember
        None: ([("forward", True, "float32"), ("backward", True, "float32")], "float32"),
        "float32": ([("forward", False, "float32"), ("backward", False, "float32")], "float32"),
        "float16": ([("forward", False, "float16"), ("backward", False, "float16")], "float16"),
    }[cast]
    assert (seen[:2], str(y.dtype).split(".")[1]) == expected
    assert seen[2] == ("forward", False, "float32") and out.dtype == T.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        T.amp.custom_fwd(device_type=None)


# ---------------------------------------------------------------- GradScaler


def _train(T: Any, dtype: str, optimizer: str, inject: tuple = (2, 5), clip_at: tuple = (3,), **scaler_args):
    """Eight steps of a small model under a GradScaler, with an inf or NaN gradient injected
    at the steps in `inject` and unscale_ + clipping at those in `clip_at`: the scale, growth
    tracker, step result and parameters after each step, and the final state dict."""
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=s).astype(dtype) for s in [(3, 4), (3,), (2, 3)]]
    model = T.nn.Sequential(T.nn.Linear(4, 3), T.nn.Tanh(), T.nn.Linear(3, 2, bias=False)).to(
        getattr(T, dtype)
    )
    with T.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(T.tensor(w))
    if optimizer == "sgd":
        opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = T.optim.Adam(model.parameters(), lr=0.01)
    scaler = T.amp.GradScaler("cpu", **scaler_args)
    history = []
    for step in range(8):
        x = T.tensor(rng.normal(size=(5, 4)).astype(dtype))
        y = T.tensor(rng.normal(size=(5, 2)).astype(dtype))
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        scaler.scale(loss).backward()
        if step in inject:
            model[0].weight.grad[0, 1] = float("inf") if step % 2 else float("nan")
        if step in clip_at:
            scaler.unscale_(opt)
            T.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        result = scaler.step(opt)
        scaler.update()
        params = [p.detach().numpy().copy() for p in model.parameters()]
        history.append((scaler.get_scale(), scaler._get_growth_tracker(), result, params))
    return history, scaler.state_dict()


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize(
    "scaler_args",
    [
        {"init_scale": 2.0**10, "growth_factor": 1.7, "backoff_factor": 0.3, "growth_interval": 2},
        {"growth_interval": 3},
        {"init_scale": 3e38, "growth_interval": 1},  # growing would overflow float32: the scale is kept
    ],
)
def test_grad_scaler_training_run_matches_pytorch(dtype, optimizer, scaler_args):
    import torch

    mine, my_state = _train(ember, dtype, optimizer, **scaler_args)
    theirs, their_state = _train(torch, dtype, optimizer, **scaler_args)
    tol = {"float32": (1e-6, 1e-7), "float64": (1e-12, 1e-14)}[dtype]
    for step, (a, b) in enumerate(zip(mine, theirs)):
        assert a[:3] == b[:3], f"step {step}: scale, growth tracker, step result {a[:3]} != {b[:3]}"
        for p, q in zip(a[3], b[3]):
            np.testing.assert_allclose(p, q, rtol=tol[0], atol=tol[1])
    assert my_state == their_state
    # the injected steps were skipped: the parameters stayed as they were
    for step in (2, 5):
        for p, q in zip(mine[step][3], mine[step - 1][3]):
            np.testing.assert_array_equal(p, q)


def test_grad_scaler_scale_outputs_as_pytorch(T):
    scaler = T.amp.GradScaler("cpu", init_scale=4.0)
    assert scaler.get_scale() == 4.0 and scaler.is_enabled()
    x = T.tensor(2.0, requires_grad=True)
    nested = scaler.scale([x, (x * 2, [x])])
    assert type(nested) is list and type(nested[1]) is tuple and type(nested[1][1]) is list
    assert [float(nested[0]), float(nested[1][0]), float(nested[1][1][0])] == [8.0, 16.0, 8.0]
    assert [float(v) for v in scaler.scale(iter([x, x]))] == [8.0, 8.0]
    assert scaler.scale(T.tensor([1, 2])).dtype == T.float32
    assert scaler.scale(T.tensor([1.0], dtype=T.float64)).dtype == T.float64
    assert scaler.scale(T.tensor([1.0], dtype=T.float16)).dtype == T.float16
    scaler.scale(x).backward()
    assert float(x.grad) == 4.0
    for bad in (3.0, [x, 3.0]):
        with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
            list(scaler.scale(bad))


def _one_step(T: Any, **scaler_args: Any) -> tuple[Any, Any, Any]:
    p = T.nn.Parameter(T.tensor([1.0, 2.0]))
    opt = T.optim.SGD([p], lr=0.1)
    scaler = T.amp.GradScaler("cpu", **scaler_args)
    scaler.scale((p**2).sum()).backward()
    return p, opt, scaler


def test_grad_scaler_errors_as_pytorch(T):
    p, opt, scaler = _one_step(T)
    scaler.unscale_(opt)
    np.testing.assert_array_equal(p.grad.numpy(), [2.0, 4.0])  # unscaled in place
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step\\(\\)"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called since the last update"):
        scaler.step(opt)
    scaler.update()
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
        scaler.update()
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: 0.0)
    fresh = T.amp.GradScaler("cpu")
    for call, args in ((fresh.step, (opt,)), (fresh.update, ()), (fresh.unscale_, (opt,))):
        with pytest.raises(AssertionError, match="but _scale is None"):
            call(*args)
    with pytest.raises(AssertionError, match="growth factor must be > 1.0"):
        T.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(AssertionError, match="backoff factor must be < 1.0"):
        T.amp.GradScaler("cpu", backoff_factor=1.0)
    with pytest.raises(AssertionError, match="new_scale should be a float or a 1-element"):
        scaler.update(T.ones(2))
    scaler.update(3.0)
    assert scaler.get_scale() == 3.0
    scaler.update(T.tensor(5.0))
    assert scaler.get_scale() == 5.0
    half = T.nn.Parameter(T.tensor([1.0], dtype=T.float16))
    scaler.scale(half.sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        scaler.step(T.optim.SGD([half], lr=0.1))


def test_grad_scaler_with_two_optimizers(T):
    """Each optimizer skips its step only for its own inf gradients; the scale backs off if
    either had one."""
    a, b = T.nn.Parameter(T.tensor([1.0, 2.0])), T.nn.Parameter(T.tensor([3.0]))
    opt_a, opt_b = T.optim.SGD([a], lr=0.1), T.optim.SGD([b], lr=0.1)
    scaler = T.amp.GradScaler("cpu", init_scale=8.0)
    scaler.scale([(a * a).sum() * float("inf"), (b * b).sum()])[0].backward(retain_graph=True)
    scaler.scale((b * b).sum()).backward()
    assert scaler.step(opt_a) is None
    scaler.step(opt_b)
    scaler.update()
    np.testing.assert_array_equal(a.detach().numpy(), [1.0, 2.0])
    np.testing.assert_allclose(b.detach().numpy(), [3.0 - 0.1 * 6.0], rtol=1e-6)
    assert scaler.get_scale() == 4.0


def test_grad_scaler_needs_gradients_to_check(T):
    p, opt, scaler = _one_step(T)
    idle = T.optim.SGD([T.nn.Parameter(T.ones(2))], lr=0.1)  # its parameter has no gradient
    scaler.unscale_(idle)
    with pytest.raises(AssertionError, match="No inf checks were recorded for this optimizer"):
        scaler.step(idle)
    scaler.step(opt)
    scaler.update()  # the checks of `opt` count
    assert (scaler.get_scale(), scaler._get_growth_tracker()) == (65536.0, 1)
    fresh = T.amp.GradScaler("cpu")
    fresh.scale(T.ones(1))
    fresh.unscale_(idle)
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
        fresh.update()


def test_grad_scaler_step_passes_arguments_and_result(T):
    p, opt, scaler = _one_step(T)

    class Counting(T.optim.SGD):
        def step(self, closure=None, extra=None):
            super().step()
            return ("stepped", extra)

    counting = Counting([p], lr=0.1)
    assert scaler.step(counting, extra=3) == ("stepped", 3)
    scaler.update()
    p.grad = None
    scaler.scale((p * float("inf")).sum()).backward()
    before = p.detach().numpy().copy()
    assert scaler.step(counting, extra=3) is None
    np.testing.assert_array_equal(p.detach().numpy(), before)
    scaler.update()
    assert scaler.get_scale() == 2.0**15 and scaler._get_growth_tracker() == 0


def test_grad_scaler_state_dict_as_pytorch(T):
    p, opt, scaler = _one_step(T, init_scale=256.0, growth_interval=5)
    scaler.step(opt)
    scaler.update()
    state = scaler.state_dict()
    assert state == {
        "scale": 256.0,
        "growth_factor": 2.0,
        "backoff_factor": 0.5,
        "growth_interval": 5,
        "_growth_tracker": 1,
    }
    other = T.amp.GradScaler("cpu")
    other.load_state_dict(state)
    assert other.state_dict() == state and other.get_scale() == 256.0
    started = T.amp.GradScaler("cpu")
    started.scale(T.tensor(1.0))
    started.load_state_dict(dict(state, scale=64.0))
    assert float(started.scale(T.tensor(1.0))) == 64.0 and started._get_growth_tracker() == 1
    with pytest.raises(RuntimeError, match="The source state dict is empty"):
        other.load_state_dict({})
    scaler.set_growth_factor(3.0)
    scaler.set_backoff_factor(0.25)
    scaler.set_growth_interval(7)
    assert (scaler.get_growth_factor(), scaler.get_backoff_factor(), scaler.get_growth_interval()) == (
        3.0,
        0.25,
        7,
    )


def test_disabled_grad_scaler_passes_through_as_pytorch(T):
    for scaler in (T.amp.GradScaler("cpu", enabled=False), _quiet(T.amp.GradScaler)):
        assert not scaler.is_enabled()
        x = T.tensor([1.0, 2.0], requires_grad=True)
        assert scaler.scale(x) is x
        opt = T.optim.SGD([x], lr=0.5)
        x.sum().backward()
        scaler.unscale_(opt)
        assert scaler.step(opt) is None
        scaler.update()
        np.testing.assert_array_equal(x.detach().numpy(), [0.5, 1.5])
        assert (scaler.get_scale(), scaler._get_growth_tracker(), scaler.state_dict()) == (1.0, 0, {})
        scaler.load_state_dict({})
    # PyTorch's default device is "cuda": without one the scaler warns and is disabled
    warned = _warnings_of(T.amp.GradScaler)
    assert [c for c, _ in warned] == [UserWarning]
    assert "GradScaler is enabled, but CUDA is not available" in warned[0][1] and "Disabling." in warned[0][1]


def test_deprecated_cpu_and_cuda_amp_as_pytorch(T):
    warned = _warnings_of(T.cpu.amp.GradScaler, init_scale=8.0)
    assert [c for c, _ in warned] == [
        FutureWarning
    ] and "torch.cpu.amp.GradScaler(args...)` is deprecated" in warned[0][1]
    scaler = _quiet(T.cpu.amp.GradScaler, init_scale=8.0)
    assert isinstance(scaler, T.amp.GradScaler) and scaler.is_enabled() and scaler.get_scale() == 8.0

    warned = _warnings_of(T.cuda.amp.GradScaler)
    assert [c for c, _ in warned] == [FutureWarning, UserWarning]
    assert "torch.cuda.amp.GradScaler(args...)` is deprecated" in warned[0][1]
    assert not _quiet(T.cuda.amp.GradScaler).is_enabled()

    warned = _warnings_of(T.cpu.amp.autocast, dtype=T.float16)
    assert FutureWarning in [c for c, _ in warned]
    assert "torch.cpu.amp.autocast(args...)` is deprecated" in warned[0][1]
    with _quiet(T.cpu.amp.autocast, dtype=T.float16):
        assert T.is_autocast_enabled("cpu")
    assert isinstance(_quiet(T.cpu.amp.autocast), T.amp.autocast)

    warned = _warnings_of(T.cuda.amp.autocast)
    assert [c for c, _ in warned] == [FutureWarning, UserWarning]
    with _quiet(T.cuda.amp.autocast):
        assert not T.is_autocast_enabled("cuda")
    warned = _warnings_of(T.cuda.amp.custom_fwd, lambda ctx, x: x)
    assert [c for c, _ in warned] == [FutureWarning] and "custom_fwd(args...)` is deprecated" in warned[0][1]


def test_the_pytorch_amp_recipe_runs_and_computes_as_without_autocast():
    """PyTorch's AMP recipe, written for torch, on ember: inside autocast ember computes in
    float32, so the run is the plain float32 run."""

    def run(use_amp: bool) -> list[float]:
        torch = ember
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        scaler = torch.amp.GradScaler("cpu", enabled=use_amp)
        data, target = torch.randn(16, 6), torch.randint(0, 3, (16,))
        losses = []
        for _ in range(5):
            with torch.autocast(device_type="cpu", dtype=torch.float16, enabled=use_amp):
                output = net(data)
                loss = torch.nn.functional.cross_entropy(output, target)
            assert output.dtype == torch.float32
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            opt.zero_grad(set_to_none=True)
            losses.append(float(loss))
        return losses

    amp_losses = _quiet(run, True)
    np.testing.assert_allclose(amp_losses, run(False), rtol=1e-6)


# ---------------------------------------------------------------- jit


def test_jit_markers_and_flags_as_pytorch(T):
    assert T.jit.is_scripting() is False and T.jit.is_tracing() is False

    @T.jit.ignore
    def ignored(x):
        return x + 1

    @T.jit.ignore(drop=False)
    def kept(x):
        return x + 2

    @T.jit.unused
    def unused(x):
        return x + 3

    class Net(T.nn.Module):
        @T.jit.export
        def extra(self):
            return 4

        def forward(self, x):
            return x

    assert (ignored(0), kept(0), unused(0), Net().extra()) == (1, 2, 3, 4)
    assert T.jit.annotate(int, 5) == 5
    assert T.jit.wait(T.jit.fork(lambda a, b: a * b, 2, b=3)) == 6
    warned = _warnings_of(T.jit.ignore, True)
    assert [c for c, _ in warned] == [FutureWarning] and "ignore(True) has been deprecated" in warned[0][1]


def test_jit_script_and_trace_hand_back_the_model():
    model = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.ReLU())
    x = ember.randn(4, 3)

    def f(t):
        return t * 2 if float(t.sum()) > 0 else -t  # data-dependent: a trace would fix one branch

    assert ember.jit.script(model) is model
    assert ember.jit.trace(model, x) is model and ember.jit.trace(model, (x,), check_trace=False) is model
    assert ember.jit.trace_module(model, {"forward": x}) is model
    assert ember.jit.trace(f, ember.ones(2)) is f and ember.jit.script(f) is f
    assert ember.jit.freeze(model) is model and ember.jit.optimize_for_inference(model) is model
    assert ember.jit.script_if_tracing(f) is f
    np.testing.assert_array_equal(ember.jit.script(model)(x).detach().numpy(), model(x).detach().numpy())


def test_jit_save_and_load_point_to_state_dicts(tmp_path):
    model = ember.nn.Linear(2, 2)
    for call in (
        lambda: ember.jit.save(ember.jit.script(model), tmp_path / "m.pt"),
        lambda: ember.jit.load("m.pt"),
    ):
        with pytest.raises(NotImplementedError, match="no TorchScript.*state_dict"):
            call()
