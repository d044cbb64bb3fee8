"""The course check: linear regression trained by per-sample SGD gives PyTorch's numbers.

Data: 200 rows, 2 features, x ~ N(0, 1) and y = x @ [2, -3.4] + 4.2 + 0.01 * noise, drawn
after np.random.seed(1); the initial weights are drawn after np.random.seed(1) too. The
model is y = x @ w + b, the loss of one sample (pred - y)**2, optim.SGD with lr 0.01, one
sample per step, 10 epochs; the MSE over the whole set is printed after each epoch.
"""

from __future__ import annotations

import numpy as np

import ember
import ember.optim  # noqa: F401  (until ember/__init__.py imports optim)
from conftest import requires_torch

ROWS, EPOCHS, LR = 200, 10, 0.01


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    np.random.seed(1)
    x = np.random.randn(ROWS, 2)
    y = x @ np.array([2.0, -3.4]) + 4.2 + 0.01 * np.random.randn(ROWS)
    np.random.seed(1)
    w = np.random.randn(2)
    b = np.random.randn()
    return x.astype(np.float32), y.astype(np.float32), w.astype(np.float32), np.float32(b)


def train(lib) -> tuple[list[float], list[float]]:
    """Train with `lib` (ember or torch); return the MSE after each epoch and the final [w1, w2, b]."""
    x_np, y_np, w_np, b_np = _data()
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    w = lib.tensor(w_np, requires_grad=True)
    b = lib.tensor(b_np, requires_grad=True)
    optimizer = lib.optim.SGD([w, b], lr=LR)
    history = []
    for epoch in range(EPOCHS):
        for i in range(ROWS):
            optimizer.zero_grad()
            loss = (x[i] @ w + b - y[i]) ** 2
            loss.backward()
            optimizer.step()
        with lib.no_grad():
            mse = ((x @ w + b - y) ** 2).mean().item()
        print(f"{lib.__name__:6s} epoch {epoch + 1:2d}  mse {mse:.6g}")
        history.append(mse)
    return history, [*w.tolist(), b.item()]


@requires_torch
def test_weights_match_torch_to_the_last_bit():
    """The training is identical: same float32 arithmetic, same rounding of each update."""
    import torch

    (_, mine), (_, theirs) = train(ember), train(torch)
    assert mine == theirs  # Python floats of float32 values: equal only if every bit is


@requires_torch
def test_per_epoch_mse_matches_torch():
    """The MSE over the whole set is a matrix-vector product, which NumPy's BLAS and PyTorch's
    kernel may round differently in the last bit of a row on some CPUs (an AMD EPYC does):
    the readouts agree to 1e-5, relative, and to 6 digits on most machines."""
    import torch

    (mine, _), (theirs, _) = train(ember), train(torch)
    np.testing.assert_allclose(mine, theirs, rtol=1e-5)


def test_learns_the_true_parameters():
    history, (w1, w2, b) = train(ember)
    assert history[-1] < 2e-4 < history[0]
    np.testing.assert_allclose([w1, w2, b], [2.0, -3.4, 4.2], atol=5e-3)
