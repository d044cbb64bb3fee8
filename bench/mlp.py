"""One epoch of the MLP 784-256-128-10 (ReLU, cross-entropy, SGD momentum 0.9, batch 64)
on MNIST-sized float32 data: ember vs PyTorch vs a hand-written NumPy forward/backward.

Rounds are interleaved (machines here have transient slowdowns) and medians reported.
Memory: peak traced NumPy allocation of one step for ember and hand-written NumPy
(tracemalloc sees NumPy's buffers), and ember's traced memory after 100 and after 2 000
steps (flat means the graph is freed every step).

Run: .venv/bin/python bench/mlp.py [--rounds 5] [--samples 60000] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc

import numpy as np

import ember
from ember import nn
from ember.nn import functional as F

try:
    import torch
except ImportError:
    torch = None

SIZES = (784, 256, 128, 10)


def data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)


def init_weights() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    ws = []
    for i, o in zip(SIZES, SIZES[1:]):
        bound = 1 / np.sqrt(i)
        ws += [
            rng.uniform(-bound, bound, (o, i)).astype(np.float32),
            rng.uniform(-bound, bound, o).astype(np.float32),
        ]
    return ws


class NumpyMLP:
    """The floor for any NumPy framework: forward, backward and SGD with momentum by hand."""

    def __init__(self) -> None:
        self.params = init_weights()
        self.bufs = [np.zeros_like(p) for p in self.params]

    def step(self, x: np.ndarray, y: np.ndarray, lr: float = 0.01, momentum: float = 0.9) -> float:
        w1, b1, w2, b2, w3, b3 = self.params
        h1 = np.maximum(x @ w1.T + b1, 0)
        h2 = np.maximum(h1 @ w2.T + b2, 0)
        logits = h2 @ w3.T + b3
        shifted = logits - logits.max(1, keepdims=True)
        e = np.exp(shifted)
        p = e / e.sum(1, keepdims=True)
        n = len(y)
        loss = -np.log(p[np.arange(n), y]).mean()
        g = p
        g[np.arange(n), y] -= 1
        g /= n
        grads = [None] * 6
        grads[4], grads[5] = g.T @ h2, g.sum(0)
        g = (g @ w3) * (h2 > 0)
        grads[2], grads[3] = g.T @ h1, g.sum(0)
        g = (g @ w2) * (h1 > 0)
        grads[0], grads[1] = g.T @ x, g.sum(0)
        for param, grad, buf in zip(self.params, grads, self.bufs):
            buf *= momentum
            buf += grad
            param -= lr * buf
        return float(loss)


def ember_model():
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    with ember.no_grad():
        for p, w in zip(model.parameters(), init_weights()):
            p.copy_(ember.from_numpy(w))
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()  # a number, as NumpyMLP.step returns: the epoch list keeps no graphs

    return step


def torch_model():
    m = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    with torch.no_grad():
        for p, w in zip(m.parameters(), init_weights()):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)

    def step(x, y):
        loss = torch.nn.functional.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def epoch_runner(kind: str, xs: np.ndarray, ys: np.ndarray, batch: int = 64):
    n = len(xs) // batch
    if kind == "numpy":
        model = NumpyMLP()
        batches = [(xs[i * batch : (i + 1) * batch], ys[i * batch : (i + 1) * batch]) for i in range(n)]
        return lambda: [model.step(x, y) for x, y in batches]
    if kind == "ember":
        step = ember_model()
        batches = [
            (ember.from_numpy(x), ember.from_numpy(y))
            for x, y in ((xs[i * batch : (i + 1) * batch], ys[i * batch : (i + 1) * batch]) for i in range(n))
        ]
        return lambda: [step(x, y) for x, y in batches]
    step = torch_model()
    batches = [
        (torch.from_numpy(x), torch.from_numpy(y))
        for x, y in ((xs[i * batch : (i + 1) * batch], ys[i * batch : (i + 1) * batch]) for i in range(n))
    ]
    return lambda: [step(x, y) for x, y in batches]


def traced_peak(fn, repeat: int = 3) -> int:
    fn()
    tracemalloc.start()
    tracemalloc.reset_peak()
    for _ in range(repeat):
        fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this JSON file")
    args = parser.parse_args()
    xs, ys = data(args.samples)
    kinds = ["ember", "numpy"] + (["torch"] if torch else [])
    if torch:
        torch.set_num_threads(args.torch_threads)
    runners = {k: epoch_runner(k, xs, ys) for k in kinds}
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(args.rounds):
        for k in kinds:
            t0 = time.perf_counter()
            runners[k]()
            times[k].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    # the median of the per-round ratios as well: a slow spell that hits one side of a round
    # moves it less than the ratio of the medians (see core.py)
    paired = {
        k: statistics.median(a / b for a, b in zip(times["ember"], times[k])) for k in kinds if k != "ember"
    }
    print(f"one epoch of {args.samples} samples, batch 64, median of {args.rounds} interleaved rounds")
    print("  " + "  ".join(f"{k} {v:.3f}s" for k, v in med.items()))
    print(
        "  "
        + "  ".join(f"ember/{k} {med['ember'] / med[k]:.2f} (per round {v:.2f})" for k, v in paired.items())
    )

    x1, y1 = xs[:64], ys[:64]
    np_model, step = NumpyMLP(), ember_model()
    ex, ey = ember.from_numpy(x1), ember.from_numpy(y1)
    peak_np = traced_peak(lambda: np_model.step(x1, y1))
    peak_em = traced_peak(lambda: step(ex, ey))
    print(
        f"peak traced memory of a step: ember {peak_em / 1e6:.2f} MB, numpy {peak_np / 1e6:.2f} MB, "
        f"ratio {peak_em / peak_np:.2f}"
    )
    tracemalloc.start()
    for i in range(2000):
        step(ex, ey)
        if i == 99:
            after_100 = tracemalloc.get_traced_memory()[0]
    after_2000 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(
        f"ember traced memory after 100 steps {after_100 / 1e6:.2f} MB, after 2000 {after_2000 / 1e6:.2f} MB"
    )
    if args.json:
        figures = {
            "samples": args.samples,
            "batch": 64,
            "steps_per_epoch": args.samples // 64,
            "rounds": args.rounds,
            "torch_threads": args.torch_threads,
            "epoch_s": med,
            "paired_ratio": paired,
            "peak_step_mb": {"ember": peak_em / 1e6, "numpy": peak_np / 1e6},
            "ember_traced_mb": {"after_100": after_100 / 1e6, "after_2000": after_2000 / 1e6},
        }
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
