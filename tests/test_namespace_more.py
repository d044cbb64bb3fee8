"""Namespace utilities and Tensor methods added with ops/api/more.py and ember/_settings.py,
compared with PyTorch: process-wide settings (threads, matmul precision, determinism,
default device, anomaly mode), tests of tensors (is_nonzero, is_signed, typename, ...), the
in-place view changes (t_, transpose_, squeeze_, ...) with their gradients, and the small
functions composed of existing ops, values and gradients."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
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


# ---- in-place view changes -------------------------------------------------------------------

VIEW_CHANGES = [
    ("t_", (2, 3), ()),
    ("t_", (3,), ()),
    ("transpose_", (2, 3, 4), (0, 2)),
    ("transpose_", (2, 3, 4), (-1, 1)),
    ("swapdims_", (2, 3, 4), (0, 1)),
    ("swapaxes_", (2, 3, 4), (2, 0)),
    ("squeeze_", (3, 1, 2, 1), ()),
    ("squeeze_", (3, 1, 2, 1), (1,)),
    ("squeeze_", (3, 1, 2, 1), ((1, 3),)),
    ("squeeze_", (3, 1, 2), (0,)),  # not of size 1: unchanged
    ("unsqueeze_", (2, 3), (0,)),
    ("unsqueeze_", (2, 3), (-1,)),
]


def _version(x: Any) -> int:
    return x._version[0] if isinstance(x._version, list) else x._version  # ember's is a shared list


def _pair(shape: tuple, dtype: str = "float64", seed: int = 0) -> tuple:
    import torch

    data = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    return ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, shape, args", VIEW_CHANGES)
def test_view_change_of_a_non_leaf_as_torch(name: str, shape: tuple, args: tuple, dtype: str) -> None:
    import torch

    outs = []
    for T, a in zip((ember, torch), _pair(shape, dtype)):
        x = a * 2  # a tensor in the graph, its own base
        version = _version(x)
        y = getattr(x, name)(*args)
        assert y is x
        assert _version(x) == version + 1
        w = T.tensor(np.arange(x.numel(), dtype=dtype).reshape(tuple(x.shape)))
        (x.exp() * w).sum().backward()
        outs.append((x, a.grad))
    (xe, ge), (xt, gt) = outs
    assert tuple(xe.shape) == tuple(xt.shape)
    assert_close(xe, xt)
    assert_close(ge, gt)


@requires_torch
@pytest.mark.parametrize("name, shape, args", VIEW_CHANGES)
def test_view_change_of_a_view_as_torch(name: str, shape: tuple, args: tuple) -> None:
    """A view stays a view of its base: an in-place write through it reaches the base, and
    the gradients of both are right."""
    import torch

    outs = []
    for T, a in zip((ember, torch), _pair((2, *shape))):
        base = a * 1
        v = base[1]
        getattr(v, name)(*args)
        v.mul_(3)  # written through the changed view into base[1]
        w = T.tensor(np.arange(base.numel(), dtype="float64").reshape(tuple(base.shape)))
        wv = T.tensor(np.arange(v.numel(), dtype="float64").reshape(tuple(v.shape)))
        ((base * w).sum() + (v.sin() * wv).sum()).backward()
        outs.append((base, v, a.grad))
    for e, t in zip(*outs):
        assert tuple(e.shape) == tuple(t.shape)
        assert_close(e, t)


@requires_torch
def test_view_changes_chained_as_torch() -> None:
    import torch

    outs = []
    for T, a in zip((ember, torch), _pair((2, 1, 3))):
        x = a.clone()
        x.squeeze_(1)
        x.unsqueeze_(0)
        x.transpose_(0, 2)
        x.swapdims_(1, 2)
        w = T.tensor(np.arange(6.0).reshape(tuple(x.shape)))
        (x * x * w).sum().backward()
        outs.append((x, a.grad))
    assert tuple(outs[0][0].shape) == tuple(outs[1][0].shape)
    assert_close(outs[0][1], outs[1][1])


def test_view_change_without_grad_keeps_a_leaf() -> None:
    x = ember.randn(2, 3, requires_grad=True)
    with ember.no_grad():
        x.t_()
    assert x.shape == (3, 2) and x.is_leaf and x.requires_grad and x._version[0] == 1
    c = ember.zeros(2, 3)
    assert c.unsqueeze_(1).shape == (2, 1, 3) and c._base is None
    c.fill_(1)
    assert c.squeeze_().tolist() == [[1.0] * 3] * 2


@requires_torch
@pytest.mark.parametrize(
    "expr, fragment",
    [
        ("T.randn(2, 3, requires_grad=True).t_()", "a leaf Variable that requires grad is being used"),
        ("T.randn(2, 3, requires_grad=True).squeeze_()", "a leaf Variable that requires grad is being used"),
        ("T.randn(2, 3, 4).t_()", "t_() expects a tensor with <= 2 dimensions, but self is 3D"),
        ("T.randn(2, 3).transpose_(0, 5)", "Dimension out of range"),
        ("T.randn(2, 3).swapdims_(-3, 0)", "Dimension out of range"),
        ("T.randn(2, 3).unsqueeze_(5)", "Dimension out of range"),
        ("T.randn(2, 3).squeeze_(4)", "Dimension out of range"),
    ],
)
def test_view_change_errors_as_torch(expr: str, fragment: str) -> None:
    import torch

    for T in (ember, torch):
        with pytest.raises((RuntimeError, IndexError)) as info:
            eval(expr, {"T": T})
        assert fragment in str(info.value), T.__name__
    with pytest.raises(type(info.value)):
        eval(expr, {"T": ember})


def test_view_change_of_a_view_of_a_leaf_raises() -> None:
    a = ember.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        a[0].unsqueeze_(0)
    b = a * 1
    with ember.no_grad():
        v = b[0]
    with pytest.raises(RuntimeError, match="no_grad mode"):
        v.unsqueeze_(0)


@requires_torch
def test_view_change_bumps_the_version_as_torch() -> None:
    """A node that saved the tensor raises at backward, in both (its values did not change,
    but PyTorch counts the change of shape as an in-place change)."""
    import torch

    for T in (ember, torch):
        a = T.randn(2, 3, requires_grad=True)
        h = a.exp()  # saves its output
        h.t_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            h.sum().backward()


def test_views_made_before_a_base_changed_shape() -> None:
    """PyTorch replays such a view with as_strided; ember cannot, and refuses with gradients
    rather than give wrong ones (docs/differences.md). Without gradients the view still
    reads and writes its elements."""
    a = ember.randn(2, 3, requires_grad=True)
    x = a * 1
    row = x[0]
    x.t_()
    with pytest.raises(RuntimeError, match="made before its base's shape was changed in place"):
        row * 2
    c = ember.zeros(2, 3)
    col = c[:, 2]
    c.t_()
    assert (col + 1).tolist() == [1.0, 1.0]
    col.add_(5)
    assert c.tolist() == [[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]]
