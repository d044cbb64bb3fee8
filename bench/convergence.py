"""Convergence: the same training in ember and in PyTorch, loss after every step and epoch.

Both frameworks get the same MLP with the same initial weights (drawn once with NumPy and
copied into each), the same batches in the same order, and the same optimizer, so their
curves differ only by floating-point rounding. Two tasks:

* mnist: the first --mnist-samples training images (10 000 by default), flattened and
  normalised; MLP 784-128-64-10 with ReLU; SGD(lr=0.05, momentum=0.9), batch 64, 3
  epochs; evaluated on the 10 000 test images after every epoch (and before the first);
* raisin: the Raisin table's fixed 720/180 split, standardised on the training rows;
  MLP 7-16-2 with tanh; Adam(lr=0.001), batch 32, 30 epochs.

Data come from --data-root (default: $EMBER_SHARED_DATA, else ../shared/data); a task
whose files are absent is skipped with a note. Times are wall-clock seconds per epoch,
for information only (this is not a timing benchmark: see bench/mlp.py).

Run: .venv/bin/python bench/convergence.py [--tasks mnist raisin] [--epochs N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import ember
import ember.nn.functional as EF
from ember import datasets

try:
    import torch
except ImportError:  # ember's curve alone is still worth drawing
    torch = None

MEAN, STD = 0.1307, 0.3081
DEFAULT_ROOT = Path(
    os.environ.get("EMBER_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)

TASKS = {
    "mnist": dict(sizes=(784, 128, 64, 10), activation="relu", optimizer="sgd", lr=0.05, batch=64, epochs=3),
    "raisin": dict(sizes=(7, 16, 2), activation="tanh", optimizer="adam", lr=0.001, batch=32, epochs=30),
}


def load(task: str, root: Path, mnist_samples: int) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) as float32 and int64 arrays."""
    if task == "mnist":
        parts = []
        for train in (True, False):
            ds = datasets.MNIST(root, train=train)
            x = (ds.data.numpy().reshape(len(ds), -1).astype(np.float32) / 255 - MEAN) / STD
            parts += [x.astype(np.float32), ds.targets.numpy().astype(np.int64)]
        return parts[0][:mnist_samples], parts[1][:mnist_samples], parts[2], parts[3]
    parts = []
    for train in (True, False):
        ds = datasets.Raisin(root, train=train, standardize=True)
        parts += [ds.data.numpy().astype(np.float32), ds.targets.numpy().astype(np.int64)]
    return tuple(parts)


def initial_weights(sizes: tuple[int, ...], seed: int) -> list[np.ndarray]:
    """PyTorch's default Linear initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn with NumPy."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        weights.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return weights


def build(T, F, config: dict, weights: list[np.ndarray]):
    """The MLP and its optimizer in framework T (ember or torch), with the given weights."""
    sizes = config["sizes"]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(T.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(T.nn.ReLU() if config["activation"] == "relu" else T.nn.Tanh())
    model = T.nn.Sequential(*layers)
    with T.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(T.from_numpy(w))
    if config["optimizer"] == "sgd":
        opt = T.optim.SGD(model.parameters(), lr=config["lr"], momentum=0.9)
    else:
        opt = T.optim.Adam(model.parameters(), lr=config["lr"])
    return model, opt


def train(T, F, config: dict, data: tuple[np.ndarray, ...], orders: list[np.ndarray], weights: list) -> dict:
    """Train in framework T; the loss of every step, and per epoch the means and test figures."""
    model, opt = build(T, F, config, weights)
    x_train, y_train = T.from_numpy(data[0]), T.from_numpy(data[1])
    x_test, y_test = T.from_numpy(data[2]), T.from_numpy(data[3])

    def evaluate() -> tuple[float, float]:
        with T.no_grad():
            logits = model(x_test)
            loss = F.cross_entropy(logits, y_test).item()
            accuracy = (logits.argmax(1) == y_test).float().mean().item()
        return loss, accuracy

    test_loss, test_acc = evaluate()
    curves: dict = {
        "step_loss": [],
        "epoch_loss": [],
        "test_loss": [test_loss],
        "test_acc": [test_acc],
        "epoch_s": [],
    }
    batch = config["batch"]
    for order in orders:
        start, losses = time.perf_counter(), []
        for i in range(0, len(order), batch):
            index = T.from_numpy(order[i : i + batch])
            opt.zero_grad()
            loss = F.cross_entropy(model(x_train[index]), y_train[index])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        curves["epoch_s"].append(time.perf_counter() - start)
        curves["step_loss"] += losses
        curves["epoch_loss"].append(float(np.mean(losses)))
        test_loss, test_acc = evaluate()
        curves["test_loss"].append(test_loss)
        curves["test_acc"].append(test_acc)
    return curves


def run_task(task: str, root: Path, epochs: int | None, mnist_samples: int, seed: int) -> dict:
    config = dict(TASKS[task])
    if epochs is not None:
        config["epochs"] = epochs
    data = load(task, root, mnist_samples)
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(len(data[0])) for _ in range(config["epochs"])]
    weights = initial_weights(config["sizes"], seed)
    result = {"config": config, "train_samples": len(data[0]), "test_samples": len(data[2])}
    result["ember"] = train(ember, EF, config, data, orders, weights)
    if torch is not None:
        result["torch"] = train(torch, torch.nn.functional, config, data, orders, weights)
        ours, theirs = np.array(result["ember"]["step_loss"]), np.array(result["torch"]["step_loss"])
        result["max_abs_step_loss_diff"] = float(np.abs(ours - theirs).max())
        result["max_rel_step_loss_diff"] = float((np.abs(ours - theirs) / np.abs(theirs)).max())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--epochs", type=int, help="override each task's number of epochs")
    parser.add_argument("--mnist-samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="PyTorch's intra-op threads (more oversubscribe a busy machine)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write every curve to this JSON file")
    args = parser.parse_args()
    if torch is not None:
        torch.set_num_threads(args.threads)
    results: dict = {"skipped": {}}
    for task in args.tasks:
        try:
            results[task] = run_task(task, args.data_root, args.epochs, args.mnist_samples, args.seed)
        except RuntimeError as e:  # the dataset's files are absent
            results["skipped"][task] = str(e).splitlines()[0]
            print(f"{task}: skipped ({results['skipped'][task]})")
            continue
        r = results[task]
        print(f"{task}: {r['train_samples']} training samples, {r['config']}")
        print(
            f"  {'epoch':>5s} "
            + "".join(f"{k + ' loss':>12s} {k + ' test acc':>15s} " for k in ("ember", "torch"))
        )
        for epoch in range(r["config"]["epochs"]):
            row = f"  {epoch + 1:5d} "
            for k in ("ember", "torch"):
                if k in r:
                    row += f"{r[k]['epoch_loss'][epoch]:12.5f} {r[k]['test_acc'][epoch + 1]:15.4f} "
            print(row)
        if "torch" in r:
            print(
                f"  largest difference of a step's loss: {r['max_abs_step_loss_diff']:.2e} "
                f"(relative {r['max_rel_step_loss_diff']:.2e})"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)


if __name__ == "__main__":
    main()
