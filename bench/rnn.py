"""LSTM forward + backward, ember against PyTorch: LSTM(32, 64) on a (seq 50, batch 16) input.

Each step runs the layer on the whole sequence and back-propagates the sum of its output
and final states. The two frameworks alternate, round after round, and the medians are
compared, because the machines here have transient slowdowns.

Run: python bench/rnn.py [--rounds 30] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import ember


def make_step(lib: Any, x: np.ndarray) -> Callable[[], None]:
    lib.manual_seed(0)
    lstm = lib.nn.LSTM(32, 64)
    xt = lib.tensor(x, requires_grad=True)

    def step() -> None:
        out, (h, c) = lstm(xt)
        (out.sum() + h.sum() + c.sum()).backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    x = np.random.default_rng(0).normal(size=(50, 16, 32)).astype(np.float32)
    steps = {"ember": make_step(ember, x), "torch": make_step(torch, x)}
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():  # warm-up
        step()
    for _ in range(args.rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"LSTM(32, 64), input (50, 16, 32), forward + backward, median of {args.rounds} rounds")
    for name, m in med.items():
        print(f"  {name:6s} {m * 1e3:7.2f} ms")
    print(f"  ember / torch = {med['ember'] / med['torch']:.2f}")


if __name__ == "__main__":
    main()
