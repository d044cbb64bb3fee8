"""optimizer.step(): ember vs PyTorch on the parameters of an MLP.

Two sets of parameters, each with a gradient already in place, so that only the step is timed:

* mnist: the MLP 784-256-128-10 (6 tensors, 235 146 floats), where the arithmetic dominates;
* tiny: an MLP 4-8-8-1 (6 tensors, 121 floats), where the per-step Python overhead is all
  there is (ember's small-array path also reproduces PyTorch's fused rounding, see
  ember/optim/_fused.py).

Timing: ember and PyTorch alternate in rounds; each figure is the median over rounds of a
round's mean step time, in microseconds. PyTorch runs single-tensor loops on the CPU
(foreach is off for CPU tensors), the same algorithm as ember's, with --threads threads (2).

Run: .venv/bin/python bench/optim.py [--rounds 9] [--steps 200] [--optimizers SGD Adam] [--threads 2]
     [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

import ember
import ember.optim

try:
    import torch
except ImportError:  # ember alone still gets timed
    torch = None

NETS = {"mnist": [784, 256, 128, 10], "tiny": [4, 8, 8, 1]}
SETTINGS = {
    "SGD": {"lr": 0.01},
    "SGD+momentum": {"lr": 0.01, "momentum": 0.9},
    "Adam": {"lr": 1e-3},
    "AdamW": {"lr": 1e-3},
    "RMSprop": {"lr": 1e-3},
}


def _arrays(sizes: list[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(0)
    shapes = [s for a, b in zip(sizes, sizes[1:]) for s in ((b, a), (b,))]
    params = [rng.standard_normal(s, dtype=np.float32) * 0.05 for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32) * 1e-3 for s in shapes]
    return params, grads


def make_step(T, name: str, sizes: list[int]):
    """An optimizer of library T over fresh parameters with gradients; returns its step()."""
    params, grads = _arrays(sizes)
    tensors = []
    for p, g in zip(params, grads):
        t = T.tensor(p, requires_grad=True)
        t.grad = T.tensor(g)
        tensors.append(t)
    cls = getattr(T.optim, name.split("+")[0])
    return cls(tensors, **SETTINGS[name]).step


def time_step(step, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--optimizers", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--nets", nargs="+", default=list(NETS), choices=list(NETS))
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's intra-op threads")
    parser.add_argument("--json", metavar="PATH", help="also write the medians to this JSON file")
    args = parser.parse_args()
    if torch is not None:
        torch.set_num_threads(args.threads)
    libs = {"ember": ember} | ({"torch": torch} if torch is not None else {})
    print(f"optimizer.step() in µs, median of {args.rounds} rounds x {args.steps} steps")
    print(f"{'net':6s} {'optimizer':13s} {'ember':>9s} {'torch':>9s} {'ember/torch':>12s}")
    results: dict[str, dict[str, dict[str, float]]] = {}
    for net in args.nets:
        for name in args.optimizers:
            steps = {lib: make_step(T, name, NETS[net]) for lib, T in libs.items()}
            for step in steps.values():  # warm-up: creates the state
                step()
            times: dict[str, list[float]] = {lib: [] for lib in libs}
            for _ in range(args.rounds):
                for lib, step in steps.items():
                    times[lib].append(time_step(step, args.steps))
            mine = statistics.median(times["ember"])
            results.setdefault(net, {})[name] = {lib: statistics.median(t) for lib, t in times.items()}
            if "torch" in times:
                theirs = statistics.median(times["torch"])
                print(f"{net:6s} {name:13s} {mine:9.1f} {theirs:9.1f} {mine / theirs:12.2f}")
            else:
                print(f"{net:6s} {name:13s} {mine:9.1f} {'-':>9s} {'-':>12s}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": args.rounds, "steps": args.steps, "step_us": results}, f, indent=1)


if __name__ == "__main__":
    main()
