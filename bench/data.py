"""DataLoader throughput: ember vs PyTorch on the same data, batches per second.

Cases (batch 64, shuffle=True, one full epoch each):

* tensor: TensorDataset over the same 60000 x 784 float32 and 60000 int64 arrays. ember
  gathers a batch with one fancy-indexing call per tensor; PyTorch indexes sample by
  sample and stacks.
* mnist: MNIST-shaped uint8 images through ToTensor + Normalize. ember's MNIST reads
  whole batches when the transforms are its own deterministic ones (`mnist-batch`); with
  `mnist-sample` it is forced through per-sample __getitem__ + default_collate (a custom
  collate_fn), as PyTorch always does. PyTorch runs an equivalent map-style dataset
  (torchvision is not needed): from_numpy(img).float().div(255), sub(mean).div(std).
  Uses ../shared/data/mnist when present, else random images of the same shape.

The loaders run in one process in interleaved rounds; each figure is the median over rounds.
The default allocator settings are used (no GLIBC_TUNABLES), and torch uses 2 threads.

Run: .venv/bin/python bench/data.py [--rounds 5] [--cases tensor mnist] [--workers 0] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

import ember
from ember import datasets, transforms
from ember.utils.data import DataLoader, TensorDataset, default_collate

try:
    import torch
    import torch.utils.data as torch_data

    torch.set_num_threads(2)
except ImportError:
    torch = None

BATCH = 64
MEAN, STD = 0.1307, 0.3081
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def epoch_rate(loader) -> float:
    """Batches per second over one epoch."""
    start, n = time.perf_counter(), 0
    for _batch in loader:
        n += 1
    return n / (time.perf_counter() - start)


def mnist_images() -> tuple[np.ndarray, np.ndarray, str]:
    try:
        ds = datasets.MNIST(SHARED)
        return ds.data.numpy(), ds.targets.numpy(), "MNIST training images"
    except RuntimeError:
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (60_000, 28, 28), dtype=np.uint8)
        return images, rng.integers(0, 10, 60_000), "random uint8 images (MNIST absent)"


class ArrayMNIST(datasets.MNIST):
    """ember's MNIST over arrays already in memory (same __getitem__ and batch path)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform) -> None:
        self.root, self.train, self.transform, self.target_transform = "<memory>", True, transform, None
        self.data, self.targets = ember.from_numpy(images), ember.from_numpy(labels.astype(np.int64))


def torch_mnist_dataset(images: np.ndarray, labels: np.ndarray):
    class TorchMNIST(torch_data.Dataset):
        """What torchvision's MNIST + ToTensor + Normalize compute per sample, without PIL."""

        def __len__(self) -> int:
            return len(images)

        def __getitem__(self, i: int):
            x = torch.from_numpy(images[i]).unsqueeze(0).float().div(255)
            return x.sub(MEAN).div(STD), int(labels[i])

    return TorchMNIST()


def build(cases: list[str], workers: int) -> tuple[dict, str]:
    loaders, note = {}, ""
    kwargs = dict(batch_size=BATCH, shuffle=True, num_workers=workers)
    if "tensor" in cases:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((60_000, 784), dtype=np.float32)
        y = rng.integers(0, 10, 60_000)
        loaders["tensor ember"] = DataLoader(
            TensorDataset(ember.from_numpy(x), ember.from_numpy(y)), **kwargs
        )
        if torch is not None:
            dataset = torch_data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
            loaders["tensor torch"] = torch_data.DataLoader(dataset, **kwargs)
    if "mnist" in cases:
        images, labels, note = mnist_images()
        tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
        ds = ArrayMNIST(images, labels, tf)
        loaders["mnist-batch ember"] = DataLoader(ds, **kwargs)
        loaders["mnist-sample ember"] = DataLoader(ds, collate_fn=lambda b: default_collate(b), **kwargs)
        if torch is not None:
            loaders["mnist torch"] = torch_data.DataLoader(torch_mnist_dataset(images, labels), **kwargs)
    return loaders, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", nargs="+", default=["tensor", "mnist"], choices=["tensor", "mnist"])
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="also write the medians to this JSON file")
    args = parser.parse_args()
    loaders, note = build(args.cases, args.workers)
    rates: dict[str, list[float]] = {name: [] for name in loaders}
    for _ in range(args.rounds):
        for name, loader in loaders.items():
            rates[name].append(epoch_rate(loader))
    print(
        f"batch {BATCH}, shuffle, num_workers={args.workers}, {args.rounds} rounds (median), default allocator"
    )
    if note:
        print(f"mnist data: {note}")
    medians = {name: statistics.median(r) for name, r in rates.items()}
    for name, rate in medians.items():
        print(f"  {name:20s} {rate:9.0f} batches/s   ({60_000 / BATCH / rate:6.3f} s/epoch)")
    pairs = [("tensor ember", "tensor torch"), ("mnist-batch ember", "mnist torch")]
    for ours, theirs in pairs + [("mnist-sample ember", "mnist torch")]:
        if ours in medians and theirs in medians:
            print(f"  {ours} / {theirs}: {medians[ours] / medians[theirs]:.1f}x")
    if args.json:
        figures = {"batch": BATCH, "workers": args.workers, "rounds": args.rounds, "mnist_data": note}
        with open(args.json, "w") as f:
            json.dump(figures | {"batches_per_s": medians}, f, indent=1)


if __name__ == "__main__":
    main()
