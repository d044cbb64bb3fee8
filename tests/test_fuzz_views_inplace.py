"""Regressions found by a differential fuzzer of random short programs mixing views,
in-place ops and autograd (run in ember and in PyTorch, comparing every intermediate
value, error, grad_fn name and gradient). Each test is the smallest program of one
discrepancy; it runs in both frameworks where PyTorch is installed, and otherwise checks
the values PyTorch gives, written out."""

from __future__ import annotations

import numpy as np

import ember


def _frameworks() -> list:
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        return [ember]
    return [ember, torch]


def _arr(t) -> np.ndarray | None:
    return None if t is None else np.array(t.detach().numpy())


def _same(programs: list, expected: list) -> None:
    """Every framework's results equal the expected ones (PyTorch's, written out)."""
    for results in programs:
        assert len(results) == len(expected)
        for got, want in zip(results, expected):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ---- a 0-d gradient summed from two paths ---------------------------------------------------


def _zero_dim_grads(T):
    a = T.tensor(2.0, dtype=T.float64, requires_grad=True)
    (a * 3).backward()
    (a * 3).backward()  # accumulated into a.grad: NumPy made a read-only scalar of the sum
    a.grad.zero_()
    first = _arr(a.grad)
    b = a * 1
    b.retain_grad()
    T.where(b > 0, b, b).backward()  # two gradients meet at b's node: summed in the engine
    b.grad.mul_(4)
    return [first, _arr(a.grad), _arr(b.grad)]


def test_zero_dim_gradient_summed_twice_stays_a_writable_tensor():
    # was: a 0-d .grad accumulated twice held a NumPy scalar, so zero_() (and
    # zero_grad(set_to_none=False)) raised; a 0-d retained gradient summed from two paths
    # crashed backward with AttributeError
    _same([_zero_dim_grads(T) for T in _frameworks()], [0.0, 1.0, 4.0])


def test_zero_dim_leaf_gradient_survives_zero_grad_without_set_to_none():
    p = ember.nn.Parameter(ember.tensor(1.5, dtype=ember.float64))
    opt = ember.optim.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad(set_to_none=False)
        (p * p).backward()
        (p * 2).backward()
        opt.step()
    assert isinstance(p.grad._data, np.ndarray) and p.grad._data.flags.writeable


# ---- the old base's gradient where a view was overwritten ------------------------------------


def _nan_in_overwritten_region(T):
    x = T.tensor([-2.0, 0.5, 3.0], dtype=T.float64, requires_grad=True)
    y = x * 1
    y[1:].mul_(2)
    y[0].fill_(-1.0)  # y's node: CopySlices; sqrt's gradient at y[0] is NaN
    y.sqrt().sum().backward()
    return [_arr(x.grad)]


def test_overwritten_region_gets_zero_gradient_even_where_it_is_nan():
    # was NaN: CopySlices multiplied the gradient by a 0/1 mask (NaN * 0 = NaN) where the
    # old base's elements were overwritten; they get exactly 0, as in PyTorch
    _same([_nan_in_overwritten_region(T) for T in _frameworks()], [[0.0, 1.0, 6**-0.5]])
