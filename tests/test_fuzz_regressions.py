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


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_div_gradient_in_the_divisor_where_its_square_overflows(dtype):
    # d(a/b)/db = -a/b^2 was computed with b * b, which overflows (1e20 in float32) or
    # underflows to 0 (1e-25) where a / b / b is finite; found through gaussian_nll_loss's var
    import torch

    a = np.array([1e30, 1e-30, 3.0, -2.0, 1.0], dtype=dtype)
    b = np.array([1e20, 1e-25, 7.0, 0.5, 1e-30], dtype=dtype)
    grads = []
    for lib in (torch, ember):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        (x / y).sum().backward()
        grads.append((x.grad, y.grad))
    assert_close(grads[1][0], grads[0][0], rtol=1e-6, atol=0)
    assert_close(grads[1][1], grads[0][1], rtol=1e-6, atol=0)

    v = ember.tensor(np.array([2e19, 3.0], dtype=dtype), requires_grad=True)
    tv = torch.tensor(v.detach().numpy(), requires_grad=True)
    diff = np.array([3e19, 1.0], dtype=dtype)
    for lib, var in ((ember, v), (torch, tv)):
        x = lib.tensor(diff, requires_grad=True)
        lib.nn.functional.gaussian_nll_loss(x, lib.zeros(2, dtype=x.dtype), var, reduction="sum").backward()
    assert_close(v.grad, tv.grad, rtol=1e-5, atol=0)


@pytest.mark.parametrize("size", [0, -1])
def test_local_response_norm_refuses_a_window_of_no_channels(size):
    # ember failed with pad's NotImplementedError about cropping; PyTorch raises RuntimeError
    import torch

    x = np.random.randn(1, 3, 2).astype(np.float32)
    with pytest.raises(RuntimeError, match="kernel size should be greater than zero"):
        torch.nn.functional.local_response_norm(torch.tensor(x), size)
    with pytest.raises(RuntimeError, match="kernel size should be greater than zero"):
        ember.nn.functional.local_response_norm(ember.tensor(x), size)
    with pytest.raises(RuntimeError, match="kernel size should be greater than zero"):
        ember.nn.LocalResponseNorm(size)(ember.tensor(x))


@pytest.mark.parametrize("padding_mode", ["border", "reflection"])
@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_grid_gradient_on_the_border_pixels(padding_mode, align_corners):
    # PyTorch counts a position exactly on the first or last pixel as clamped (gradient 0 for
    # the grid there); ember counted it as inside. With align_corners=True the grid values
    # -1 and 1 (the edges of an identity affine_grid) land exactly there; without, -0.75 and
    # 0.75 do for a size of 4
    import torch

    edge = [-1.0, 1.0] if align_corners else [-0.75, 0.75]
    xs = edge + [0.3, -0.2, 3.0, -3.0]
    ys = [-1.0, 1.0, 0.0, 0.5] if align_corners else [-0.75, 0.75, 0.0, 0.5]
    grid = np.array([[[[x, y] for x in xs] for y in ys]])
    x = np.random.randn(1, 2, 4, 4)
    w = np.random.randn(1, 2, len(ys), len(xs))
    grads = []
    for lib in (torch, ember):
        g = lib.tensor(grid, requires_grad=True)
        out = lib.nn.functional.grid_sample(
            lib.tensor(x), g, padding_mode=padding_mode, align_corners=align_corners
        )
        (out * lib.tensor(w)).sum().backward()
        grads.append(g.grad)
    assert_close(grads[1], grads[0], rtol=1e-9, atol=1e-12)
    # a 3-d grid on the border too
    g3 = np.array([[[[[1.0, -1.0, 0.0], [1.0, 1.0, 1.0]]]]])
    grads = []
    for lib in (torch, ember):
        gt = lib.tensor(g3, requires_grad=True)
        x3 = lib.tensor(np.random.RandomState(0).randn(1, 1, 2, 3, 4))
        lib.nn.functional.grid_sample(x3, gt, padding_mode=padding_mode, align_corners=True).sum().backward()
        grads.append(gt.grad)
    assert_close(grads[1], grads[0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_2d_rounds_positions_as_pytorch(mode):
    # PyTorch's 2-d CPU kernel computes the pixel position (g + 1) * (size / 2) - 0.5 as one
    # fused multiply-add: g = 2/3 over 3 rows lands a hair below row 2 (ember had exactly 2),
    # which changes the nearest row and the cell whose slope the grid gradient takes
    import torch

    x = np.random.randn(1, 1, 3, 3)
    grid = np.array([[[[0.0, 2 / 3], [-1 / 3, 2 / 3], [0.6, -0.2]]]])
    res = []
    for lib in (torch, ember):
        g = lib.tensor(grid, requires_grad=True)
        out = lib.nn.functional.grid_sample(lib.tensor(x), g, mode=mode, align_corners=False)
        out.sum().backward()
        res.append((out, g.grad))
    assert_close(res[1][0], res[0][0], rtol=1e-12, atol=1e-12)
    assert_close(res[1][1], res[0][1], rtol=1e-9, atol=1e-12)
