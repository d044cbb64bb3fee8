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
