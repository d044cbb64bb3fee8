"""Shared test helpers: PyTorch for comparisons (skipped with a reason when absent) and
the location of the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_TORCH = False

requires_torch = pytest.mark.skipif(
    not HAVE_TORCH, reason="PyTorch is not installed (pip install -e '.[test]' installs torch==2.13.0)"
)

DATA_ROOT = Path(
    os.environ.get("EMBER_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)


def shared_data(name: str) -> Path:
    """A folder of ../shared/data, or skip the test with the reason."""
    path = DATA_ROOT / name
    if not path.exists():
        pytest.skip(f"shared data folder {path} is absent")
    return path


@pytest.fixture(params=["ember", "torch"])
def T(request):
    """The framework a program runs in: ember, or torch (skipped when absent); a test that
    takes `T` runs once with each."""
    if request.param == "torch":
        if not HAVE_TORCH:
            pytest.skip("PyTorch is not installed (pip install -e '.[test]' installs torch==2.13.0)")
        import torch

        return torch
    import ember

    return ember


@pytest.fixture(autouse=True)
def _no_torch_function_dispatch() -> None:
    """Each test starts without __torch_function__'s wrappers, as a program that never
    defined a Tensor subclass: defining one (a test module at collection, or an earlier
    test) swaps them in for good (ember/overrides.py), and the whole suite would otherwise
    run through them. A test that needs them defines its subclass inside the test."""
    from ember import overrides

    if overrides._Swapped.functions_for_good or overrides._installed():
        overrides._swap_out_for_tests()


@pytest.fixture(autouse=True)
def _seed() -> None:
    import ember

    ember.manual_seed(0)
    np.random.seed(0)
    if HAVE_TORCH:  # the weights of torch's modules in comparisons: no flaky draw
        import torch

        torch.manual_seed(0)


@pytest.fixture
def unwarned_default_tensor_type():
    """set_default_tensor_type as if never called (it warns once per process, as PyTorch's),
    and the default dtype it sets restored afterwards."""
    import ember
    from ember import _legacy

    saved, dtype = _legacy._warned_default_tensor_type[0], ember.get_default_dtype()
    _legacy._warned_default_tensor_type[0] = False
    yield
    _legacy._warned_default_tensor_type[0] = saved
    ember.set_default_dtype(dtype)


def assert_close(actual, expected, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Compare an ember tensor (or array) with a torch tensor (or array)."""
    a = actual.detach().numpy() if hasattr(actual, "detach") else np.asarray(actual)
    e = expected.detach().numpy() if hasattr(expected, "detach") else np.asarray(expected)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def outcome(T, call) -> tuple:
    """("ok", call(T)) or ("raise", the exception): what a framework did with a call, for
    tests that compare ember's behaviour with torch's, errors included."""
    try:
        return "ok", call(T)
    except Exception as error:  # noqa: BLE001 - the exception is the outcome compared
        return "raise", error


def _described(value):
    """A tensor as (layout, shape, dtype, values as a dense array), or the value itself."""
    if hasattr(value, "layout") and hasattr(value, "shape"):
        layout = str(value.layout).split(".")[-1]
        dense = value.to_dense() if layout != "strided" else value
        dense = dense.detach()
        values = dense
        if not dense.is_floating_point() and not dense.dtype.is_complex:
            values = dense.double()
        return layout, tuple(value.shape), str(value.dtype).split(".")[-1], values.resolve_conj().numpy()
    return value


def assert_sparse_call_as_torch(call) -> None:
    """call(torch) and call(ember) raise alike (ember's exception an instance of torch's
    class), or give the same layout, shape, dtype and values: the check of the sparse case
    tables, which compare dense and sparse results and errors with PyTorch's."""
    import warnings

    import torch

    import ember

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's "Sparse CSR tensor support is in beta state"
        t_kind, t_value = outcome(torch, call)
    e_kind, e_value = outcome(ember, call)
    if t_kind == "raise":
        assert e_kind == "raise", f"PyTorch raises {t_value!r}; ember computes {_described(e_value)}"
        # ember's SparseUnsupportedError is a NotImplementedError, as PyTorch's "Could not run"
        assert isinstance(e_value, type(t_value)), f"PyTorch raises {t_value!r}, ember {e_value!r}"
        return
    assert e_kind == "ok", f"PyTorch computes; ember raises {e_value!r}"
    expected, got = _described(t_value), _described(e_value)
    if not (isinstance(expected, tuple) and len(expected) == 4 and isinstance(expected[3], np.ndarray)):
        assert type(got) is type(expected) and got == expected
        return
    assert got[:3] == expected[:3], f"PyTorch gives {expected[:3]}, ember {got[:3]}"
    np.testing.assert_allclose(got[3], expected[3], rtol=1e-6, atol=1e-6, equal_nan=True)
