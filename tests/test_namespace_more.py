"""Namespace utilities and Tensor methods added with ops/api/more.py and ember/_settings.py,
compared with PyTorch: process-wide settings (threads, matmul precision, determinism,
default device, anomaly mode), tests of tensors (is_nonzero, is_signed, typename, ...), the
in-place view changes (t_, transpose_, squeeze_, ...) with their gradients, and the small
functions composed of existing ops, values and gradients."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import ember
from conftest import requires_torch
from ember import _settings


def _outcome(fn: Any) -> str:
    try:
        result = fn()
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return repr(result).replace("torch", "ember")


# ---- process-wide settings -------------------------------------------------------------------


@pytest.fixture
def restore_settings():
    """Put every setting back after the test (they are process-wide)."""
    saved = (
        list(_settings._threads),
        list(_settings._interop_threads),
        list(_settings._matmul_precision),
        list(_settings._deterministic),
        ember.is_anomaly_enabled(),
        ember.is_anomaly_check_nan_enabled(),
    )
    yield
    _settings._threads[:], _settings._interop_threads[:] = saved[0], saved[1]
    _settings._matmul_precision[:], _settings._deterministic[:] = saved[2], saved[3]
    ember.set_anomaly_enabled(saved[4], saved[5])
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=None, user_api="blas")  # back to the library's own count


@requires_torch
@pytest.mark.parametrize(
    "call",
    [
        "set_num_threads(0)",
        "set_num_threads(-1)",
        "set_num_threads(1.5)",
        "set_num_threads('2')",
        "set_num_threads(True)",
        "set_num_interop_threads(0)",
        "set_float32_matmul_precision(3)",
        "use_deterministic_algorithms(1)",
        "use_deterministic_algorithms('x')",
        "set_deterministic_debug_mode('x')",
        "set_deterministic_debug_mode(5)",
        "set_deterministic_debug_mode(1.0)",
        "set_anomaly_enabled()",
    ],
)
def test_setting_errors_as_torch(call: str) -> None:
    import torch

    expected = _outcome(lambda: eval("torch." + call, {"torch": torch}))
    got = _outcome(lambda: eval("ember." + call, {"ember": ember}))
    if call.startswith("use_deterministic"):  # PyTorch names its internal function
        expected = expected.replace("_set_deterministic_algorithms", "use_deterministic_algorithms")
        expected = expected.replace(" (position 1)", "")
    if call == "set_anomaly_enabled()":  # PyTorch's C function words it otherwise
        assert got.startswith("TypeError") and "enabled" in got
        return
    assert got == expected


def test_num_threads(restore_settings: None) -> None:
    assert ember.get_num_threads() >= 1 and ember.get_num_interop_threads() >= 1
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return
    blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert all(n == 1 for n in blas)  # NumPy's BLAS is limited too


def test_num_interop_threads_set_once(restore_settings: None) -> None:
    _settings._interop_threads[0] = None
    ember.set_num_interop_threads(3)
    assert ember.get_num_interop_threads() == 3
    with pytest.raises(RuntimeError, match="cannot set number of interop threads"):
        ember.set_num_interop_threads(2)


@requires_torch
def test_matmul_precision_and_determinism_as_torch(restore_settings: None) -> None:
    import torch

    def script(T: Any) -> list:
        seen = [T.get_float32_matmul_precision()]
        T.set_float32_matmul_precision("high")
        seen.append(T.get_float32_matmul_precision())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            T.set_float32_matmul_precision("low")  # warns, changes nothing
        seen += [T.get_float32_matmul_precision(), [str(w.category) for w in caught]]
        T.set_float32_matmul_precision("highest")
        for args, kwargs in [((True,), {"warn_only": True}), ((True,), {}), ((False,), {"warn_only": True})]:
            T.use_deterministic_algorithms(*args, **kwargs)
            seen.append(
                (
                    T.are_deterministic_algorithms_enabled(),
                    T.is_deterministic_algorithms_warn_only_enabled(),
                    T.get_deterministic_debug_mode(),
                )
            )
        for mode in ("warn", "error", 0, 1, "default"):
            T.set_deterministic_debug_mode(mode)
            seen.append((T.are_deterministic_algorithms_enabled(), T.get_deterministic_debug_mode()))
        return seen

    assert script(ember) == script(torch)


@requires_torch
def test_default_device(restore_settings: None) -> None:
    import torch

    for d in ("cpu", ember.device("cpu"), None):
        ember.set_default_device(d)
        assert repr(ember.get_default_device()) == repr(torch.get_default_device())
    with pytest.raises(RuntimeError, match="CPU only"):
        ember.set_default_device("cuda")
    assert str(ember.get_default_device()) == "cpu"


@requires_torch
def test_anomaly_enabled_as_torch(restore_settings: None) -> None:
    import torch

    def script(T: Any, detect: Any) -> list:
        seen = []
        for args in ((True,), (True, False), (False,), (False, True)):
            T.set_anomaly_enabled(*args)
            seen.append((T.is_anomaly_enabled(), T.is_anomaly_check_nan_enabled()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with detect(check_nan=False):
                seen.append((T.is_anomaly_enabled(), T.is_anomaly_check_nan_enabled()))
        seen.append((T.is_anomaly_enabled(), T.is_anomaly_check_nan_enabled()))
        return seen

    assert script(ember, ember.autograd.detect_anomaly) == script(torch, torch.autograd.detect_anomaly)
    assert ember.autograd.is_anomaly_enabled() is ember.is_anomaly_enabled()


def test_set_anomaly_enabled_checks_nan(restore_settings: None) -> None:
    x = ember.tensor([0.0], requires_grad=True)
    ember.set_anomaly_enabled(True)
    with pytest.raises(RuntimeError, match="nan"):
        (x.sqrt() * 0).sum().backward()  # 0 * inf in SqrtBackward0
    ember.set_anomaly_enabled(True, check_nan=False)  # on, but checking nothing
    x.grad = None
    (x.sqrt() * 0).sum().backward()
    ember.set_anomaly_enabled(False)


# ---- tests of a tensor -----------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize(
    "expr",
    [
        "T.is_nonzero(T.tensor([0.]))",
        "T.is_nonzero(T.tensor(1.5))",
        "T.is_nonzero(T.tensor([[3]]))",
        "T.is_nonzero(T.tensor([float('nan')]))",
        "T.is_nonzero(T.tensor([1, 2]))",
        "T.is_nonzero(T.tensor([]))",
        "T.is_nonzero(1)",
        "T.tensor([True]).is_nonzero()",
        "T.is_same_size(T.zeros(2, 3), T.zeros(2, 3, dtype=T.int64))",
        "T.is_same_size(T.zeros(2, 3), T.zeros(3, 2))",
        "T.zeros(2).is_same_size(T.zeros(2))",
        "T.is_same_size(T.zeros(2), [1, 2])",
        "[T.is_signed(T.zeros(1, dtype=d)) for d in (T.float32, T.float16, T.float64, T.int8, T.uint8, T.bool, T.int64)]",
        "T.zeros(1).is_signed()",
        "T.scalar_tensor(3)",
        "T.scalar_tensor(3.5, dtype=T.float64)",
        "T.scalar_tensor(True)",
        "T.scalar_tensor(3, dtype=T.int64)",
        "T.scalar_tensor(3.7, dtype=T.int64)",
        "T.scalar_tensor(3.0, requires_grad=True)",
        "T.scalar_tensor(T.tensor(2))",
        "T.scalar_tensor(T.tensor([2, 3]))",
        "T.scalar_tensor([2])",
        "T.scalar_tensor(3, device='cpu')",
        "T.typename(T.tensor([1.]))",
        "T.typename(T.tensor([1]))",
        "[T.typename(T.zeros(1, dtype=d)) for d in (T.float64, T.float16, T.int8, T.int16, T.int32, T.uint8, T.bool)]",
        "T.typename(T.nn.Linear(1, 1))",
        "T.typename(T.nn.Parameter(T.zeros(1)))",
        "T.typename(3)",
        "T.typename('abc')",
    ],
)
def test_tensor_tests_as_torch(expr: str) -> None:
    import torch

    assert _outcome(lambda: eval(expr, {"T": ember})) == _outcome(lambda: eval(expr, {"T": torch}))


def test_scalar_tensor_checks_the_value() -> None:
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.scalar_tensor(300, dtype=ember.uint8)
    assert ember.scalar_tensor(2.0, dtype=ember.float64).dtype == ember.float64
