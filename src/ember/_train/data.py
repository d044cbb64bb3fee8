"""The datasets `ember train` knows: each loaded as tensors, split into train/validation/test.

Every loader returns a `Task` with float32 inputs already scaled the usual way for that
dataset (so the DataLoader's fast TensorDataset path applies) and int64 labels, or float32
targets for the regression set `linear`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ember import datasets
from ember._tensor import Tensor
from ember.utils.data import TensorDataset


@dataclass
class Task:
    """What the trainer needs to know about a dataset."""

    name: str
    train: TensorDataset
    test: TensorDataset
    input_shape: tuple  # one sample's shape
    n_outputs: int
    classification: bool = True


def _tensors(x: np.ndarray, y: np.ndarray) -> TensorDataset:
    x = Tensor(np.ascontiguousarray(x, dtype=np.float32))
    y = Tensor(y.astype(np.int64)) if y.dtype.kind in "iub" else Tensor(y.astype(np.float32))
    return TensorDataset(x, y)


def _digits(root: str | None, seed: int) -> Task:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise RuntimeError(
            "the digits dataset comes with scikit-learn: pip install 'ember[examples]'"
        ) from None
    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]  # 1×8×8 images in [0, 1]
    y = bunch.target
    order = np.random.default_rng(0).permutation(len(y))  # a fixed 80/20 train/test split
    cut = int(0.8 * len(y))
    tr, te = order[:cut], order[cut:]
    return Task("digits", _tensors(x[tr], y[tr]), _tensors(x[te], y[te]), (1, 8, 8), 10)


def _mnist(root: str | None, seed: int, fashion: bool = False) -> Task:
    cls = datasets.FashionMNIST if fashion else datasets.MNIST
    mean, std = (0.2860, 0.3530) if fashion else (0.1307, 0.3081)
    parts = []
    for train in (True, False):
        ds = cls(root, train=train, download=root is None)
        x = (ds.data.numpy().astype(np.float32) / 255.0 - mean) / std
        parts.append(_tensors(x[:, None], ds.targets.numpy()))
    return Task("fashion-mnist" if fashion else "mnist", parts[0], parts[1], (1, 28, 28), 10)


def _raisin(root: str | None, seed: int) -> Task:
    train, test = (
        datasets.Raisin(root, train=part, download=root is None, standardize=True) for part in (True, False)
    )
    to_ds = lambda ds: TensorDataset(ds.data, ds.targets)  # noqa: E731
    return Task("raisin", to_ds(train), to_ds(test), (7,), 2)


def _synth(root: str | None, seed: int) -> Task:
    (xtr, ytr), (xte, yte) = datasets.make_quadratic(seed=seed)
    return Task("synth", TensorDataset(xtr, ytr), TensorDataset(xte, yte), (2,), 2)


def _linear(root: str | None, seed: int) -> Task:
    xtr, ytr = datasets.make_linear(1000, seed=seed)
    xte, yte = datasets.make_linear(1000, seed=seed + 1)
    return Task("linear", TensorDataset(xtr, ytr), TensorDataset(xte, yte), (2,), 2, classification=False)


def _spirals(root: str | None, seed: int) -> Task:
    xtr, ytr = datasets.make_spirals(2000, seed=seed)
    xte, yte = datasets.make_spirals(1000, seed=seed + 1)
    return Task("spirals", TensorDataset(xtr, ytr), TensorDataset(xte, yte), (2,), 2)


LOADERS = {
    "digits": _digits,
    "mnist": _mnist,
    "fashion-mnist": lambda root, seed: _mnist(root, seed, fashion=True),
    "raisin": _raisin,
    "synth": _synth,
    "linear": _linear,
    "spirals": _spirals,
}


def load_task(name: str, root: str | Path | None, seed: int) -> Task:
    """Load a dataset by its `--dataset` name; RuntimeError with a clear message if it can't."""
    return LOADERS[name](None if root is None else str(root), seed)
