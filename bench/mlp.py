"""One epoch of the MLP 784-256-128-10 (ReLU, cross-entropy, SGD momentum 0.9, batch 64)
on MNIST-sized float32 data: ember vs PyTorch vs a hand-written NumPy forward/backward.

A fourth runner, `tape`, trains the same way through the least autograd Python can run
(floor.py's idea for this MLP): ember's ratio to it is the price of what ember checks and
supports, and its own ratio to the hand-written NumPy is what recording a graph costs at
the least.

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


# ---- the tape: an autograd with no checks at all ------------------------------------------

_TAPE: list = []  # every recorded result, oldest first


class Value:
    """An array, its gradient, and how it was made: `op` and its operands `a`, `b`. It has
    none of what makes a framework safe to use (no checks of shapes, dtypes or grad mode,
    no version counters, hooks, views or modules), which is what makes its time a floor."""

    __slots__ = ("data", "grad", "op", "a", "b")

    def __init__(self, data, op=None, a=None, b=None):
        self.data, self.grad, self.op, self.a, self.b = data, None, op, a, b
        if op is not None:
            _TAPE.append(self)


def tape_linear(x: Value, w: Value, b: Value) -> Value:
    y = x.data @ w.data.T
    y += b.data
    return Value(y, "linear", x, (w, b))


def tape_relu(x: Value) -> Value:
    return Value(np.maximum(x.data, 0), "relu", x)


def tape_cross_entropy(logits: Value, target: np.ndarray) -> Value:
    z = logits.data
    shifted = z - z.max(1, keepdims=True)
    nll = np.log(np.exp(shifted).sum(1)) - shifted[np.arange(len(target)), target]
    return Value(nll.mean(), "xent", logits, target)


def tape_backward(loss: Value) -> None:
    loss.grad = np.float32(1)
    for t in reversed(_TAPE):
        g, a, b = t.grad, t.a, t.b
        if t.op == "xent":
            z = a.data
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(b)), b] -= 1
            p *= g / len(b)
            _accumulate(a, p)
        elif t.op == "relu":
            _accumulate(a, g * (t.data > 0))
        else:  # linear
            w, bias = b
            if a.op is not None:  # the batch itself needs no gradient
                _accumulate(a, g @ w.data)
            _accumulate(w, g.T @ a.data)
            _accumulate(bias, g.sum(0))
    _TAPE.clear()


def _accumulate(v: Value, g: np.ndarray) -> None:
    v.grad = g if v.grad is None else v.grad + g


class TapeMLP:
    """NumpyMLP's step, with the backward found by walking the tape."""

    def __init__(self) -> None:
        self.params = [Value(w) for w in init_weights()]
        self.bufs = [np.zeros_like(p.data) for p in self.params]

    def step(self, x: np.ndarray, y: np.ndarray, lr: float = 0.01, momentum: float = 0.9) -> float:
        w1, b1, w2, b2, w3, b3 = self.params
        h = tape_relu(tape_linear(Value(x), w1, b1))
        h = tape_relu(tape_linear(h, w2, b2))
        loss = tape_cross_entropy(tape_linear(h, w3, b3), y)
        for p in self.params:
            p.grad = None
        tape_backward(loss)
        for p, buf in zip(self.params, self.bufs):
            buf *= momentum
            buf += p.grad
            p.data -= lr * buf
        return float(loss.data)


# ---- ember and PyTorch ------------------------------------------------------------------


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
        return loss.item()  # a number, as NumPyMLP.step returns: the epoch list keeps no graphs

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
    if kind in ("numpy", "tape"):
        model = NumpyMLP() if kind == "numpy" else TapeMLP()
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


def check_tape() -> None:
    """The tape trains as the hand-written step does: the same losses, to float32 rounding."""
    xs, ys = data(192)
    hand, tape = NumpyMLP(), TapeMLP()
    for i in range(3):
        x, y = xs[i * 64 : (i + 1) * 64], ys[i * 64 : (i + 1) * 64]
        a, b = hand.step(x, y), tape.step(x, y)
        assert abs(a - b) < 1e-5, (i, a, b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this JSON file")
    args = parser.parse_args()
    check_tape()
    xs, ys = data(args.samples)
    kinds = ["ember", "numpy", "tape"] + (["torch"] if torch else [])
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
    tape_paired = statistics.median(a / b for a, b in zip(times["tape"], times["numpy"]))
    print(f"  tape/numpy {med['tape'] / med['numpy']:.2f} (per round {tape_paired:.2f})")

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
