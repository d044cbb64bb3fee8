"""Regressions found by differential fuzzing against PyTorch: each test is the smallest
case of a discrepancy that random configurations turned up, compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

pytestmark = requires_torch


def test_avg_pool3d_refuses_input_smaller_than_kernel():
    # PyTorch's avg_pool3d wants each window inside the unpadded input even where padding
    # would make room (avg_pool2d does not check this)
    import torch

    x = np.random.randn(1, 1, 1, 2, 4).astype(np.float32)
    with pytest.raises(RuntimeError, match="smaller than kernel size"):
        torch.nn.functional.avg_pool3d(torch.tensor(x), 3, 3, 1)
    with pytest.raises(RuntimeError, match="smaller than kernel size"):
        ember.nn.functional.avg_pool3d(ember.tensor(x), 3, 3, 1)
    ok = np.random.randn(1, 1, 3, 3, 3).astype(np.float32)
    assert_close(
        ember.nn.functional.avg_pool3d(ember.tensor(ok), 3, 1, 1),
        torch.nn.functional.avg_pool3d(torch.tensor(ok), 3, 1, 1),
    )
