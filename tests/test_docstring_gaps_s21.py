"""Gaps that PyTorch's own docstring examples found (tests/test_torch_docstring_examples.py),
each as a direct regression test compared with PyTorch."""

from __future__ import annotations

import pytest

import ember
from conftest import requires_torch

# ---- testing.assert_close: complex and bfloat16 tensors take their dtype's tolerance ---------


@requires_torch
@pytest.mark.parametrize("dtype", ["complex64", "complex128", "bfloat16"])
@pytest.mark.parametrize("step", [1e-6, 1e-3, 4e-3, 3e-2])
def test_assert_close_tolerance_of_complex_and_bfloat16_is_torchs(dtype: str, step: float) -> None:
    import torch

    def outcome(T):
        a = (
            T.tensor([1.0 + 1j, 2.0 - 0.5j, -3.0j])
            if dtype.startswith("complex")
            else T.tensor([1.0, 2.0, -3.0])
        )
        a = a.to(getattr(T, dtype))
        b = (a.float() + step if dtype == "bfloat16" else a + step).to(getattr(T, dtype))
        try:
            T.testing.assert_close(a, b)
        except AssertionError as exc:
            return str(exc).splitlines()[:3]  # the last digits of the differences may differ
        return None

    assert outcome(ember) == outcome(torch)


def test_assert_close_of_complex_ffts_passes() -> None:
    x = ember.rand(10, 10, dtype=ember.complex64)
    two_ffts = ember.fft.fft(ember.fft.fft(x, dim=0), dim=1)
    ember.testing.assert_close(ember.fft.fft2(x), two_ffts, check_stride=False)
