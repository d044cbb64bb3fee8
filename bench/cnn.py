"""CNN training steps: ember vs PyTorch vs the same algorithm written by hand in NumPy.

Two networks, batch 64, 28x28 single-channel input, SGD(lr=0.01), log_softmax + nll_loss:

* mnist: PyTorch's examples/mnist Net: Conv2d(1,32,3), ReLU, Conv2d(32,64,3), ReLU,
  max_pool2d(2), Dropout(0.25), flatten, Linear(9216,128), ReLU, Dropout(0.5), Linear(128,10);
* lenet: Conv2d(1,6,5,padding=2), ReLU, MaxPool2d(2), Conv2d(6,16,5), ReLU, MaxPool2d(2),
  flatten, Linear(400,120), ReLU, Linear(120,84), ReLU, Linear(84,10).

The NumPy version is what ember does without a framework around it: NCHW tensors,
im2col with a strided view and one GEMM per convolution, hand-derived backward. So
ember / NumPy is the price of the framework, and ember / PyTorch the price of NumPy.

Timing: the three run in one process, in interleaved rounds; each figure is the median over
rounds of a round's mean step time. Memory: each framework trains in a fresh subprocess;
the figure is the peak RSS (VmHWM) minus the RSS just before the first step.

glibc's allocator settings change these figures (DESIGN.md): compare a plain run with one under
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=2147483647:glibc.malloc.trim_threshold=2147483647
(the header says which setting the figures used).

Run: .venv/bin/python bench/cnn.py [--rounds 7] [--steps 3] [--nets mnist lenet] [--no-memory]
     [--threads 2] [--clock wall|cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from numpy.lib.stride_tricks import as_strided

import ember
import ember.nn
import ember.nn.functional as EF
import ember.optim

try:
    import torch
except ImportError:  # the bench still compares ember with NumPy
    torch = None

BATCH, LR = 64, 0.01

# ---- ember and PyTorch: the same code, two namespaces --------------------------------------------


def build(nn, net: str):
    """The network, from the layers of `nn` (ember.nn or torch.nn)."""
    if net == "mnist":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, 1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3, 1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
            nn.Flatten(),
            nn.Linear(9216, 128),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(128, 10),
            nn.LogSoftmax(dim=1),
        )
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
        nn.LogSoftmax(dim=1),
    )


def framework_step(T, F, optim, net: str, x: np.ndarray, y: np.ndarray):
    model = build(T.nn, net)
    opt = optim.SGD(model.parameters(), lr=LR)
    xt, yt = T.from_numpy(x), T.from_numpy(y)

    def step() -> float:
        opt.zero_grad()
        loss = F.nll_loss(model(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ---- hand-written NumPy ----------------------------------------------------------------------------


def im2col(x, k, pad):
    """(N, C, H, W) -> (C*k*k, N*Ho*Wo): the windows side by side, one copy."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, w = x.shape
    ho, wo = h - k + 1, w - k + 1
    sn, sc, sh, sw = x.strides
    view = as_strided(x, (c, k, k, n, ho, wo), (sc, sh, sw, sn, sh, sw), writeable=False)
    return view.reshape(c * k * k, n * ho * wo), (n, ho, wo)


def col2im(cols, shape, k, pad):
    n, c, h, w = shape
    ho, wo = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    blocks = cols.reshape(c, k, k, n, ho, wo)
    out = np.zeros((c, n, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            out[:, :, i : i + ho, j : j + wo] += blocks[:, i, j]
    return np.ascontiguousarray(out[:, :, pad : pad + h, pad : pad + w].transpose(1, 0, 2, 3))


class Conv:
    def __init__(self, rng, cin, cout, k, pad=0):
        bound = 1 / np.sqrt(cin * k * k)
        self.w = rng.uniform(-bound, bound, (cout, cin * k * k)).astype(np.float32)
        self.b = rng.uniform(-bound, bound, cout).astype(np.float32)
        self.k, self.pad = k, pad

    def forward(self, x):
        self.shape = x.shape
        self.cols, (n, ho, wo) = im2col(x, self.k, self.pad)
        out = (self.w @ self.cols).reshape(-1, n, ho, wo).transpose(1, 0, 2, 3)
        return out + self.b[:, None, None]

    def backward(self, g, need_input_grad=True):
        g2 = g.transpose(1, 0, 2, 3).reshape(g.shape[1], -1)
        self.gw, self.gb = g2 @ self.cols.T, g2.sum(1)
        self.cols = None
        if need_input_grad:
            return col2im(self.w.T @ g2, self.shape, self.k, self.pad)

    def params(self):
        return [(self.w, self.gw), (self.b, self.gb)]


class Linear:
    def __init__(self, rng, fin, fout):
        bound = 1 / np.sqrt(fin)
        self.w = rng.uniform(-bound, bound, (fout, fin)).astype(np.float32)
        self.b = rng.uniform(-bound, bound, fout).astype(np.float32)

    def forward(self, x):
        self.x = x
        return x @ self.w.T + self.b

    def backward(self, g, need_input_grad=True):
        self.gw, self.gb = g.T @ self.x, g.sum(0)
        return g @ self.w

    def params(self):
        return [(self.w, self.gw), (self.b, self.gb)]


class Relu:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, g, need_input_grad=True):
        return g * self.mask


class MaxPool2:
    def forward(self, x):
        self.shape = x.shape
        parts = [x[:, :, i::2, j::2] for i in range(2) for j in range(2)]
        best, self.arg = parts[0].copy(), np.zeros(parts[0].shape, np.uint8)
        for number, part in enumerate(parts[1:], 1):
            better = part > best
            np.maximum(best, part, out=best)
            np.maximum(self.arg, better * np.uint8(number), out=self.arg)  # no masked writes: slow
        return best

    def backward(self, g, need_input_grad=True):
        gx = np.zeros(self.shape, g.dtype)
        for number in range(4):
            np.multiply(g, self.arg == number, out=gx[:, :, number // 2 :: 2, number % 2 :: 2])
        return gx


class Dropout:
    def __init__(self, rng, p):
        self.rng, self.p = rng, p

    def forward(self, x):
        self.mask = (self.rng.random(x.shape, dtype=np.float32) >= self.p) / np.float32(1 - self.p)
        return x * self.mask

    def backward(self, g, need_input_grad=True):
        return g * self.mask


class Flatten:
    def forward(self, x):
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, g, need_input_grad=True):
        return g.reshape(self.shape)


def numpy_step(net: str, x: np.ndarray, y: np.ndarray):
    rng = np.random.default_rng(0)
    if net == "mnist":
        layers = [
            Conv(rng, 1, 32, 3),
            Relu(),
            Conv(rng, 32, 64, 3),
            Relu(),
            MaxPool2(),
            Dropout(rng, 0.25),
            Flatten(),
            Linear(rng, 9216, 128),
            Relu(),
            Dropout(rng, 0.5),
            Linear(rng, 128, 10),
        ]
    else:
        layers = [
            Conv(rng, 1, 6, 5, pad=2),
            Relu(),
            MaxPool2(),
            Conv(rng, 6, 16, 5),
            Relu(),
            MaxPool2(),
            Flatten(),
            Linear(rng, 400, 120),
            Relu(),
            Linear(rng, 120, 84),
            Relu(),
            Linear(rng, 84, 10),
        ]

    def step() -> float:
        h = x
        for layer in layers:
            h = layer.forward(h)
        shifted = h - h.max(1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
        loss = -logp[np.arange(len(y)), y].mean()
        g = np.exp(logp)
        g[np.arange(len(y)), y] -= 1
        g /= np.float32(len(y))
        for i in range(len(layers) - 1, -1, -1):
            g = layers[i].backward(g, need_input_grad=i > 0)
        for layer in layers:
            for p, gp in getattr(layer, "params", list)():
                p -= np.float32(LR) * gp
        return float(loss)

    return step


# ---- measuring -----------------------------------------------------------------------------------


def make_step(name: str, net: str):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    if name == "numpy":
        return numpy_step(net, x, y)
    if name == "torch":
        torch.manual_seed(0)
        return framework_step(torch, torch.nn.functional, torch.optim, net, x, y)
    ember.manual_seed(0)
    return framework_step(ember, EF, ember.optim, net, x, y)


def memory_kb(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(name: str, net: str, steps: int) -> None:
    step = make_step(name, net)
    before = memory_kb("VmRSS")
    # ru_maxrss would carry the parent's peak across exec; VmHWM is this process's own,
    # and writing 5 to clear_refs resets it to the current RSS
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    for _ in range(steps):
        step()
    print(json.dumps({"peak_mib": (memory_kb("VmHWM") - before) / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=3, help="training steps per framework per round")
    parser.add_argument("--nets", nargs="+", default=["mnist", "lenet"], choices=["mnist", "lenet"])
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads of NumPy and of PyTorch")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="cpu: process CPU time, steadier than wall time on a busy machine (use with --threads 1)",
    )
    parser.add_argument("--memory-child", nargs=2, metavar=("FRAMEWORK", "NET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if os.environ.get("OPENBLAS_NUM_THREADS") != str(args.threads):
        # OpenBLAS reads its thread count once, when NumPy is imported: start again with it set
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    if torch is not None:
        torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    if args.memory_child:
        memory_child(*args.memory_child, steps=5)
        return

    names = ["ember", "numpy"] + (["torch"] if torch is not None else [])
    print(f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '(unset: glibc defaults)')}")
    print(
        f"numpy {np.__version__}"
        + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else "")
    )
    for net in args.nets:
        steps = {name: make_step(name, net) for name in names}
        for step in steps.values():  # warm-up: first-call costs, allocator pools
            step()
        times: dict = {name: [] for name in names}
        for _ in range(args.rounds):
            for name, step in steps.items():
                start = clock()
                for _ in range(args.steps):
                    step()
                times[name].append((clock() - start) / args.steps)
        med = {name: statistics.median(t) for name, t in times.items()}
        print(
            f"\n{net}: seconds per training step ({args.clock} clock, {args.threads} threads; "
            f"median of {args.rounds} rounds x {args.steps} steps)"
        )
        for name in names:
            print(f"  {name:6s} {med[name]:.4f} s   (min {min(times[name]):.4f})")
        print(f"  ember / numpy = {med['ember'] / med['numpy']:.2f}")
        if torch is not None:
            print(f"  ember / torch = {med['ember'] / med['torch']:.2f}")
        if not args.no_memory:
            print(f"{net}: peak memory of training (RSS above the level before the first step)")
            mem = {}
            for name in names:
                out = subprocess.run(
                    [sys.executable, __file__, "--memory-child", name, net, "--threads", str(args.threads)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                mem[name] = json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"]
                print(f"  {name:6s} {mem[name]:7.1f} MiB")
            if torch is not None:
                print(f"  ember / torch = {mem['ember'] / mem['torch']:.2f}")


if __name__ == "__main__":
    main()
