"""Where ember's per-operation overhead goes, in CPU time (ember only, no PyTorch).

1. the per-op chain of core.py (mul, add, tanh, mul+exp on 10 elements), split into
   forward with a graph, backward, and forward under no_grad (µs per op);
2. the 20 000-op chain of core.py, forward and backward, with the garbage collector on and
   paused (seconds);
3. one training step of a tiny MLP (8-8-8-4, batch 2), where NumPy's work is negligible,
   split into forward with cross-entropy, zero_grad, backward and SGD.step (µs);
4. the same step in ember and in hand-written NumPy, warm and with the caches made cold
   by a few MB of array work before each step, as a large model's kernels do (µs).

Best of several repetitions of time.process_time (CPU time, not wall clock), because the
machines here are shared. Counting instructions is steadier still:

    PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind \\
        --callgrind-out-file=/dev/null .venv/bin/python bench/overhead.py --ops-only N

run for two values of N: the difference in "Collected" over the difference in N * 100 is
the number of instructions per op. `--step-only N` instead runs N tiny-MLP training steps
(ember), and `--step-only N --numpy` the same steps written by hand in NumPy (bench/mlp.py's
NumpyMLP): the difference over the difference in N is instructions per step.
`--linreg-only N` runs N steps of core.py's per-sample linear regression (one sample
each), for instructions per step of that loop; with `--part forward` only the forward pass
and the loss (the graph recorded, then dropped), `--part no-grad` the same under no_grad,
and `--part numpy` the same forward written in NumPy. `--mlp-only N` runs N training steps
of bench/mlp.py's MLP (784-256-128-10, batch 64), and `--mlp-only N --numpy` its
hand-written NumPy step. To see where the MLP's time goes by function, profile those steps
alone (after a warm-up, through perf's control FIFO):

    mkfifo /tmp/perf.ctl
    OPENBLAS_NUM_THREADS=1 perf record -D -1 --control fifo:/tmp/perf.ctl -e cpu-clock \\
        -F 4000 -o perf.data .venv/bin/python bench/overhead.py --mlp-only 6000 --no-gc \\
        --perf-fifo /tmp/perf.ctl
    perf report -i perf.data --sort dso,sym -n

Add `--no-gc` to any of these to switch Python's cyclic garbage
collector off first: where its full passes fall moves with unrelated changes (a few more
names in a module), by 1 to 2 % of the count.

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/overhead.py
         [--ops-only N | --step-only N [--numpy] | --linreg-only N [--part P] | --mlp-only N [--numpy] [--perf-fifo PATH]]
         [--no-gc]
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np

import ember
from ember import nn
from ember.nn import functional as F

clock = time.process_time


def chain_forward(x: ember.Tensor) -> ember.Tensor:
    y = x
    for _ in range(25):
        y = y * 0.9
        y = y + 0.1
        y = y.tanh()
        y = (y * 0.1).exp()
    return y.sum()


def best(fn, reps: int, repeat: int = 9) -> float:
    times = []
    for _ in range(repeat):
        t0 = clock()
        for _ in range(reps):
            fn()
        times.append((clock() - t0) / reps)
    return min(times)


def per_op() -> None:
    x = ember.tensor(np.linspace(-1, 1, 10, dtype=np.float32), requires_grad=True)

    def full():
        chain_forward(x).backward()
        x.grad = None

    def no_grad():
        with ember.no_grad():
            chain_forward(x)

    fwd = best(lambda: chain_forward(x), 300) * 1e4
    total = best(full, 300) * 1e4
    plain = best(no_grad, 300) * 1e4
    print(
        f"per op (us): forward {fwd:.2f}, backward {total - fwd:.2f}, "
        f"forward+backward {total:.2f}, forward under no_grad {plain:.2f}"
    )


def long_chain() -> None:
    def run(n: int = 20000) -> tuple[float, float]:
        y = ember.tensor([1.0, 2.0], requires_grad=True)
        t0 = clock()
        for _ in range(n):
            y = y * 1.0001
        t1 = clock()
        y.sum().backward()
        return t1 - t0, clock() - t1

    for label in ("on", "paused"):
        if label == "paused":
            gc.disable()
        runs = [run() for _ in range(5)]
        gc.enable()
        fwd, bwd = min(r[0] for r in runs), min(r[1] for r in runs)
        print(f"20 000-op chain, GC {label}: forward {fwd:.3f} s, backward {bwd:.3f} s")


def tiny_model() -> nn.Module:
    return nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))


def tiny_step() -> None:
    model = tiny_model()
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = ember.randn(2, 8), ember.tensor([1, 2])
    parts = {"forward+loss": 0.0, "zero_grad": 0.0, "backward": 0.0, "step": 0.0}
    best_parts = None
    for _ in range(5):
        for k in parts:
            parts[k] = 0.0
        n = 1000
        for _ in range(n):
            t0 = clock()
            loss = F.cross_entropy(model(x), y)
            t1 = clock()
            opt.zero_grad()
            t2 = clock()
            loss.backward()
            t3 = clock()
            opt.step()
            t4 = clock()
            for k, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                parts[k] += dt / n
        if best_parts is None or sum(parts.values()) < sum(best_parts.values()):
            best_parts = dict(parts)
    text = ", ".join(f"{k} {v * 1e6:.0f}" for k, v in best_parts.items())
    print(f"tiny MLP step (us): {text}, total {sum(best_parts.values()) * 1e6:.0f}")


def cold_step() -> None:
    """The tiny MLP step in ember and by hand in NumPy, each timed warm (the step right after
    the last) and cold (right after a few MB of array work, as between a large model's
    BLAS calls, which pushes the interpreter's code and objects out of the caches)."""
    from mlp import NumpyMLP  # bench/mlp.py, beside this script

    ember.manual_seed(0)
    x, y = ember.randn(2, 8), ember.tensor([1, 2])
    model = tiny_model()
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    by_hand = NumpyMLP.__new__(NumpyMLP)
    by_hand.params = [p.detach().numpy().copy() for p in tiny_model().parameters()]
    by_hand.bufs = [np.zeros_like(p) for p in by_hand.params]

    def ember_step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    rng = np.random.default_rng(0)
    a, w = rng.random((64, 784), dtype=np.float32), rng.random((256, 784), dtype=np.float32)
    others = [rng.random((256, 784), dtype=np.float32) for _ in range(4)]  # 3 MB

    def evict():
        for o in others:
            o *= np.float32(1.0)
        a @ w.T

    steps = {"ember": ember_step, "numpy": lambda: by_hand.step(x.numpy(), y.numpy())}
    times: dict[tuple[str, bool], list[float]] = {}
    for _ in range(5):
        for name, step in steps.items():
            for cold in (False, True):
                total = 0.0
                for _ in range(300):
                    if cold:
                        evict()
                    t0 = clock()
                    step()
                    total += clock() - t0
                times.setdefault((name, cold), []).append(total / 300 * 1e6)
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    for cold in (False, True):
        e, n = med[("ember", cold)], med[("numpy", cold)]
        label = "cold" if cold else "warm"
        print(
            f"tiny MLP step, {label} (us, median of 5): ember {e:.0f}, NumPy {n:.0f}, ember's extra {e - n:.0f}"
        )


def steps_only(n: int, numpy_version: bool) -> None:
    ember.manual_seed(0)
    x, y = ember.randn(2, 8), ember.tensor([1, 2])
    if numpy_version:
        from mlp import NumpyMLP  # bench/mlp.py, beside this script

        model = NumpyMLP.__new__(NumpyMLP)
        model.params = [p.detach().numpy().copy() for p in tiny_model().parameters()]
        model.bufs = [np.zeros_like(p) for p in model.params]
        for _ in range(n + 3):
            model.step(x.numpy(), y.numpy())
        return
    model = tiny_model()
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for _ in range(n + 3):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def linreg_steps(n: int, part: str = "step") -> None:
    """core.py's linear-regression loop body, n times on one sample; or only a part of it."""
    x, y = ember.tensor([0.5, -1.5]), ember.tensor(2.0)
    w = ember.zeros(2, requires_grad=True)
    b = ember.zeros(1, requires_grad=True)
    opt = ember.optim.SGD([w, b], lr=0.01)
    if part == "numpy":
        xa, ya, wa, ba = x.numpy(), y.numpy(), w.detach().numpy(), b.detach().numpy()
        for _ in range(n + 3):
            np.add.reduce((np.add.reduce(xa * wa, None) + ba - ya) ** 2, None)
        return
    if part != "step":
        with ember.set_grad_enabled(part == "forward"):
            for _ in range(n + 3):
                (((x * w).sum() + b - y) ** 2).sum()
        return
    for _ in range(n + 3):
        loss = ((x * w).sum() + b - y) ** 2
        opt.zero_grad()
        loss.sum().backward()
        opt.step()


def mlp_steps(n: int, numpy_version: bool, perf_fifo: str | None = None) -> None:
    """bench/mlp.py's training step, n times over four batches of its data.

    With `perf_fifo`, the control FIFO of `perf record --control fifo:PATH -D -1`, the
    profile is switched on after 200 warm-up steps and off after the n steps, so that it
    holds the steady state only (not the imports, which differ between the two versions)."""
    from mlp import NumpyMLP, data, ember_model  # bench/mlp.py, beside this script

    xs, ys = data(4 * 64)
    batches = [(xs[i * 64 : (i + 1) * 64], ys[i * 64 : (i + 1) * 64]) for i in range(4)]
    if numpy_version:
        step = NumpyMLP().step
    else:
        step = ember_model()
        batches = [(ember.from_numpy(x), ember.from_numpy(y)) for x, y in batches]
    warm_up = 200 if perf_fifo else 2
    for i in range(warm_up):
        step(*batches[i % 4])
    control = open(perf_fifo, "w", buffering=1) if perf_fifo else None  # noqa: SIM115
    if control:
        control.write("enable\n")
    for i in range(n):
        step(*batches[i % 4])
    if control:
        control.write("disable\n")
        control.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ops-only", type=int, metavar="N", help="only run the per-op chain N times (for valgrind)"
    )
    parser.add_argument(
        "--step-only", type=int, metavar="N", help="only run N tiny-MLP training steps (for valgrind)"
    )
    parser.add_argument(
        "--numpy", action="store_true", help="with --step-only or --mlp-only: the hand-written NumPy step"
    )
    parser.add_argument(
        "--linreg-only", type=int, metavar="N", help="only run N linear-regression steps (for valgrind)"
    )
    parser.add_argument(
        "--part",
        choices=["step", "forward", "no-grad", "numpy"],
        default="step",
        help="with --linreg-only: the whole step, or only its forward (recorded, under no_grad, or in NumPy)",
    )
    parser.add_argument(
        "--mlp-only", type=int, metavar="N", help="only run N steps of bench/mlp.py's MLP (for valgrind)"
    )
    parser.add_argument(
        "--perf-fifo",
        metavar="PATH",
        help="with --mlp-only: perf record's control FIFO, to profile the steps after a warm-up only",
    )
    parser.add_argument("--no-gc", action="store_true", help="switch the cyclic garbage collector off first")
    args = parser.parse_args()
    if args.no_gc:
        gc.disable()
    if args.linreg_only is not None:
        linreg_steps(args.linreg_only, args.part)
        return
    if args.mlp_only is not None:
        mlp_steps(args.mlp_only, args.numpy, args.perf_fifo)
        return
    if args.step_only is not None:
        steps_only(args.step_only, args.numpy)
        return
    if args.ops_only is not None:
        x = ember.tensor(np.linspace(-1, 1, 10, dtype=np.float32), requires_grad=True)
        for _ in range(args.ops_only + 2):
            chain_forward(x).backward()
        return
    per_op()
    long_chain()
    tiny_step()
    cold_step()


if __name__ == "__main__":
    main()
