"""Small synthetic datasets for first experiments, in the spirit of sklearn.datasets.make_*.

Each generator returns `(x, y)` tensors (x float32, y int64 labels or float32 targets), or a
TensorDataset with `as_dataset=True`. Randomness comes from `seed` when given, else from
`generator`, else from ember's default generator (so ember.manual_seed reproduces it).
"""

from __future__ import annotations

import numpy as np

from ember import random as _random
from ember._tensor import Tensor
from ember.utils.data.dataset import TensorDataset

Data = tuple[Tensor, Tensor] | TensorDataset


def numpy_rng(generator: _random.Generator | None = None, seed: int | None = None) -> np.random.Generator:
    """The NumPy generator to draw from: a fresh one for `seed`, else the ember generator's."""
    if seed is not None:
        return np.random.Generator(np.random.PCG64(seed))
    return _random.rng(generator)


def _finish(x: np.ndarray, y: np.ndarray, as_dataset: bool) -> Data:
    xt = Tensor(np.ascontiguousarray(x, dtype=np.float32))
    yt = Tensor(y.astype(np.int64) if y.dtype.kind in "iub" else np.ascontiguousarray(y, dtype=np.float32))
    return TensorDataset(xt, yt) if as_dataset else (xt, yt)


def _check_n(n: int) -> None:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of samples must be a positive integer, got {n!r}")


def make_linear(
    n: int = 1000,
    *,
    generator: _random.Generator | None = None,
    seed: int | None = None,
    as_dataset: bool = False,
) -> Data:
    """x ~ N(0, I) in 2-D and y = A x with A = [[0, -1], [1, 0]] (a quarter turn): a
    regression that one nn.Linear(2, 2) without bias fits exactly."""
    _check_n(n)
    x = numpy_rng(generator, seed).standard_normal((n, 2))
    y = x @ np.array([[0.0, -1.0], [1.0, 0.0]]).T
    return _finish(x, y, as_dataset)


def make_quadratic(
    num_train: int = 60_000,
    num_val: int = 10_000,
    *,
    generator: _random.Generator | None = None,
    seed: int | None = None,
    as_dataset: bool = False,
) -> tuple[Data, Data]:
    """The "synth" task: x ~ N(0, I) in 2-D, label 1 where x^T Q x > 0.6 with
    Q = [[1, 0.5], [1, 0.2]], else 0. Returns ((x_train, y_train), (x_val, y_val)), or two
    TensorDatasets; not linearly separable, so it needs a hidden layer."""
    _check_n(num_train)
    _check_n(num_val)
    x = numpy_rng(generator, seed).standard_normal((num_train + num_val, 2))
    q = np.einsum("bi,ij,bj->b", x, np.array([[1.0, 0.5], [1.0, 0.2]]), x)
    y = (q > 0.6).astype(np.int64)
    return (
        _finish(x[:num_train], y[:num_train], as_dataset),
        _finish(x[num_train:], y[num_train:], as_dataset),
    )


def make_regression(
    n: int = 1000,
    *,
    weights: tuple[float, float] = (2.0, -3.4),
    bias: float = 4.2,
    noise: float = 0.01,
    generator: _random.Generator | None = None,
    seed: int | None = None,
    as_dataset: bool = False,
) -> Data:
    """x ~ N(0, I) in 2-D and y = x w + b + noise * N(0, 1); y has shape (n, 1), the shape of
    nn.Linear(2, 1)'s output (sklearn's make_regression gives (n,))."""
    _check_n(n)
    rng = numpy_rng(generator, seed)
    x = rng.standard_normal((n, 2))
    y = x @ np.asarray(weights, dtype=np.float64) + bias + noise * rng.standard_normal(n)
    return _finish(x, y[:, None], as_dataset)


def make_classification(
    n: int = 1000,
    n_features: int = 2,
    n_classes: int = 2,
    *,
    class_sep: float = 2.0,
    generator: _random.Generator | None = None,
    seed: int | None = None,
    as_dataset: bool = False,
) -> Data:
    """Gaussian blobs: one unit-variance cluster per class around centres drawn from
    N(0, class_sep^2 I); classes are balanced and the rows shuffled."""
    _check_n(n)
    if n_classes < 2 or n_features < 1:
        raise ValueError(f"need n_classes >= 2 and n_features >= 1, got {n_classes} and {n_features}")
    rng = numpy_rng(generator, seed)
    centres = class_sep * rng.standard_normal((n_classes, n_features))
    y = rng.permutation(np.arange(n) % n_classes)
    x = centres[y] + rng.standard_normal((n, n_features))
    return _finish(x, y, as_dataset)


def make_moons(
    n: int = 1000,
    *,
    noise: float = 0.1,
    generator: _random.Generator | None = None,
    seed: int | None = None,
    as_dataset: bool = False,
) -> Data:
    """Two interleaving half circles (class 0 on top, class 1 below), plus Gaussian noise;
    rows shuffled."""
    _check_n(n)
    rng = numpy_rng(generator, seed)
    n_top = n - n // 2
    t_top, t_bottom = np.linspace(0, np.pi, n_top), np.linspace(0, np.pi, n // 2)
    top = np.stack([np.cos(t_top), np.sin(t_top)], 1)
    bottom = np.stack([1 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)], 1)
    x = np.concatenate([top, bottom]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n_top, np.int64), np.ones(n // 2, np.int64)])
    order = rng.permutation(n)
    return _finish(x[order], y[order], as_dataset)


def make_spirals(
    n: int = 1000,
    n_classes: int = 2,
    *,
    noise: float = 0.2,
    generator: _random.Generator | None = None,
    seed: int | None = None,
    as_dataset: bool = False,
) -> Data:
    """Interleaved spiral arms, one per class, growing from the centre to radius 1; the
    angle gets Gaussian noise of standard deviation `noise` (radians). Rows shuffled."""
    _check_n(n)
    if n_classes < 2:
        raise ValueError(f"need n_classes >= 2, got {n_classes}")
    rng = numpy_rng(generator, seed)
    y = np.arange(n) % n_classes
    radius = np.empty(n)
    for k in range(n_classes):
        radius[y == k] = np.linspace(0.0, 1.0, int(np.sum(y == k)))
    angle = 4.0 * radius + 2 * np.pi * y / n_classes + noise * rng.standard_normal(n)
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], 1)
    order = rng.permutation(n)
    return _finish(x[order], y[order], as_dataset)
