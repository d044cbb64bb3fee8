"""The least Python an autograd can run, on core.py's per-sample linear regression.

`Tape` below is a complete autograd for the five operations that loop uses and nothing
else: each operator computes with NumPy, appends its output to one global list, and
backward walks the list newest first. It has none of what makes a framework safe to use:
no checks of shapes, dtypes or grad mode, no version counters for in-place changes, no
views, hooks, higher-order gradients or graphs other than the one on the list. So its
time is a floor for any autograd written in Python on NumPy, and ember's ratio to it is
the price of everything ember checks and supports. The target for this loop
(ember <= 0.25 x PyTorch) can be read against the floor's own ratio to PyTorch.

Rounds are interleaved and medians reported, as in core.py.

Run: .venv/bin/python bench/floor.py [--rounds N]
"""

from __future__ import annotations

import argparse
import gc
import statistics

import numpy as np
from core import linreg, time_it

import ember

try:
    import torch

    torch.set_num_threads(1)
except ImportError:
    torch = None

_TAPE: list = []  # every recorded output, oldest first


class Tape:
    """A value, its gradient, and how it was made: `op` and its operands `a`, `b`."""

    __slots__ = ("data", "grad", "op", "a", "b")

    def __init__(self, data, op=None, a=None, b=None):
        self.data, self.grad, self.op, self.a, self.b = data, None, op, a, b
        if op is not None:
            _TAPE.append(self)

    def __mul__(self, other):
        return Tape(self.data * other.data, "mul", self, other)

    def __add__(self, other):
        return Tape(self.data + other.data, "add", self, other)

    def __sub__(self, other):
        return Tape(self.data - other.data, "sub", self, other)

    def __pow__(self, p):
        return Tape(self.data**p, "pow", self, p)

    def sum(self):
        return Tape(np.add.reduce(self.data, None), "sum", self)

    def backward(self):
        self.grad = np.ones_like(self.data)
        for t in reversed(_TAPE):
            g, a, b = t.grad, t.a, t.b
            if g is None:
                continue
            if t.op == "mul":
                _accumulate(a, g * b.data)
                _accumulate(b, g * a.data)
            elif t.op == "add":
                _accumulate(a, g)
                _accumulate(b, g)
            elif t.op == "sub":
                _accumulate(a, g)
                _accumulate(b, -g)
            elif t.op == "pow":
                _accumulate(a, g * b * a.data ** (b - 1))
            else:  # sum
                _accumulate(a, np.broadcast_to(g, a.data.shape))
        _TAPE.clear()


def _accumulate(t: Tape, g: np.ndarray) -> None:
    if g.shape != t.data.shape:  # this loop broadcasts only a 1-element bias
        g = g.reshape(t.data.shape)
    t.grad = g if t.grad is None else t.grad + g


def tape_linreg():
    """core.linreg's loop, written for Tape."""
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(200, 2)).astype(np.float32)
    ys = (xs @ np.array([2.0, -3.4], np.float32) + 4.2).astype(np.float32)
    X = [Tape(r) for r in xs]
    Y = [Tape(np.asarray(v)) for v in ys]
    lr = np.float32(0.01)

    def run():
        w, b = Tape(np.zeros(2, np.float32)), Tape(np.zeros(1, np.float32))
        for _ in range(10):
            for x, y in zip(X, Y):
                loss = ((x * w).sum() + b - y) ** 2
                w.grad = b.grad = None
                loss.sum().backward()
                w.data -= lr * w.grad
                b.data -= lr * b.grad
        return w.data, b.data

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    gc.freeze()  # as core.py: torch's import-time objects out of the collector's walks
    fns = {"ember": linreg(ember), "tape": tape_linreg()} | ({"torch": linreg(torch)} if torch else {})
    w, b = fns["tape"]()
    assert np.allclose(w, [2.0, -3.4], atol=0.01) and np.allclose(b, [4.2], atol=0.01), (w, b)
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(args.rounds):
        for k, fn in fns.items():
            samples[k].append(time_it(fn, 1))
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"linear regression, medians of {args.rounds} interleaved rounds (s)")
    print("  " + "  ".join(f"{k} {v:.3f}" for k, v in med.items()))
    ratios = [f"ember/tape {med['ember'] / med['tape']:.2f}"]
    if torch:
        ratios += [
            f"tape/torch {med['tape'] / med['torch']:.2f}",
            f"ember/torch {med['ember'] / med['torch']:.2f}",
        ]
    print("  " + "  ".join(ratios))


if __name__ == "__main__":
    main()
