"""Core overhead, ember vs PyTorch vs plain NumPy, in one process.

1. per-op: forward+backward of a chain of 100 elementwise ops on a 10-element tensor;
2. per-sample SGD linear regression: 2 features, 200 rows, 10 epochs;
3. a 20 000-op chain built and backpropagated.

Rounds are interleaved and medians reported, because these machines have transient
slowdowns. Two ratios are printed for each case: the ratio of the medians, and the median
of the per-round ratios (ember's time over the other's in the same round), which a slow
spell hitting one side of a round moves less.

Importing torch leaves about 140 000 Python objects that Python's cyclic garbage
collector tracks. ember's graph nodes are Python objects (PyTorch's are C++), so each full
collection while a long ember graph is alive walks torch's objects too, a cost an ember
program does not have. The script therefore calls gc.freeze() after the imports, which
moves the objects that exist then out of the collector's walks; --no-freeze measures
without it.

Run: .venv/bin/python bench/core.py [--rounds N] [--no-freeze] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time

import numpy as np

import ember

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # the bench still runs ember and NumPy
    torch = None


def chain_ops(T, n_ops: int = 100):
    """Forward+backward of n_ops cheap elementwise ops; the mix of mul/add/tanh/exp."""
    x = T.tensor(np.linspace(-1, 1, 10, dtype=np.float32), requires_grad=True)

    def run():
        y = x
        for _ in range(n_ops // 4):
            y = y * 0.9
            y = y + 0.1
            y = y.tanh()
            y = (y * 0.1).exp()
        y.sum().backward()
        x.grad = None

    return run


def chain_numpy(n_ops: int = 100):
    x = np.linspace(-1, 1, 10, dtype=np.float32)

    def run():
        y = x
        saved = []
        for _ in range(n_ops // 4):
            y = y * np.float32(0.9)
            y = y + np.float32(0.1)
            y = np.tanh(y)
            saved.append(y)
            y = np.exp(y * np.float32(0.1))
            saved.append(y)
        g = np.ones_like(y)
        for i in range(n_ops // 4 - 1, -1, -1):
            g = g * saved[2 * i + 1] * np.float32(0.1)
            g = g * (1 - saved[2 * i] ** 2)
            g = g * np.float32(0.9)
        return g

    return run


def linreg(T):
    """Per-sample SGD linear regression, the course's loop."""
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(200, 2)).astype(np.float32)
    ys = (xs @ np.array([2.0, -3.4], np.float32) + 4.2).astype(np.float32)
    X = [T.tensor(r) for r in xs]
    Y = [T.tensor(v) for v in ys]

    def run():
        w = T.zeros(2, requires_grad=True)
        b = T.zeros(1, requires_grad=True)
        opt = T.optim.SGD([w, b], lr=0.01) if hasattr(T, "optim") else None
        for _ in range(10):
            for x, y in zip(X, Y):
                loss = ((x * w).sum() + b - y) ** 2
                if opt is not None:
                    opt.zero_grad()
                    loss.sum().backward()
                    opt.step()
                else:
                    w.grad = b.grad = None
                    loss.sum().backward()
                    with T.no_grad():
                        w -= 0.01 * w.grad
                        b -= 0.01 * b.grad

    return run


def long_chain(T, n: int = 20000):
    def run():
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x
        for _ in range(n):
            y = y * 1.0001
        y.sum().backward()

    return run


def time_it(fn, reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def paired_ratio(mine: list[float], theirs: list[float]) -> float:
    """The median over rounds of ember's time over the other's in the same round. The two
    ran back to back, so a slow spell of the machine that spans a round slows both, and a
    round where it hit only one side is an outlier the median sets aside."""
    return statistics.median(a / b for a, b in zip(mine, theirs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", metavar="PATH", help="also write the medians to this JSON file")
    parser.add_argument(
        "--no-freeze", action="store_true", help="leave torch's import-time objects in the GC's walks"
    )
    args = parser.parse_args()
    if not args.no_freeze:
        gc.freeze()
    sys.setrecursionlimit(10000)

    cases = {
        "per-op (100 ops, us/op)": (
            {"ember": chain_ops(ember), "numpy": chain_numpy()}
            | ({"torch": chain_ops(torch)} if torch else {}),
            50,
            1e6 / 100,
        ),
        "linear regression (s)": (
            {"ember": linreg(ember)} | ({"torch": linreg(torch)} if torch else {}),
            1,
            1.0,
        ),
        "20 000-op chain (s)": (
            {"ember": long_chain(ember)} | ({"torch": long_chain(torch)} if torch else {}),
            1,
            1.0,
        ),
    }
    print(f"ember {ember.__version__}, numpy {np.__version__}, torch {torch.__version__ if torch else '-'}")
    frozen = "no gc.freeze()" if args.no_freeze else "import-time objects frozen (gc.freeze())"
    print(f"medians of {args.rounds} interleaved rounds, {frozen}")
    results: dict[str, dict[str, float]] = {}
    paired: dict[str, float] = {}
    for name, (fns, reps, scale) in cases.items():
        for fn in fns.values():
            fn()  # warm up
        samples: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(args.rounds):
            for k, fn in fns.items():
                samples[k].append(time_it(fn, reps) * scale)
        med = {k: statistics.median(v) for k, v in samples.items()}
        results[name] = med
        parts = [f"{k} {v:.3g}" for k, v in med.items()]
        for other in ("torch", "numpy"):
            if other in med:
                per_round = paired[f"{name}: ember/{other}"] = paired_ratio(samples["ember"], samples[other])
                parts.append(f"ember/{other} {med['ember'] / med[other]:.2f} (per round {per_round:.2f})")
        print(f"{name:28s} " + "  ".join(parts))
    if args.json:
        with open(args.json, "w") as f:
            figures = {
                "rounds": args.rounds,
                "frozen": not args.no_freeze,
                "medians": results,
                "paired": paired,
            }
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
