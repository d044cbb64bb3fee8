"""`ember train`: train a model on a dataset and report (also `python -m ember train`).

    ember train                              # the 8x8 digits, an MLP, about 10 s
    ember train --dataset mnist --data-root ../shared/data
    ember train -D mnist --model cnn --epochs 3 --plot curves.png --save mnist.ckpt

Each dataset has its own defaults (model, widths, optimizer, epochs, ...); every flag
overrides them. The flags of the course's train_mlp.py (-D, -l, -e, -b) work as aliases.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import ember

DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": dict(hidden="256", activation="relu", epochs=20, batch_size=32, lr=1e-3, optimizer="adam"),
    "mnist": dict(
        hidden="256,128",
        activation="relu",
        epochs=10,
        batch_size=64,
        lr=1e-3,
        optimizer="adam",
        scheduler="cosine",
    ),
    "fashion-mnist": dict(
        hidden="256,128",
        activation="relu",
        epochs=10,
        batch_size=64,
        lr=1e-3,
        optimizer="adam",
        scheduler="cosine",
    ),
    "raisin": dict(hidden="16", activation="tanh", epochs=60, batch_size=32, lr=1e-2, optimizer="adam"),
    "synth": dict(
        hidden="8", activation="sigmoid", epochs=20, batch_size=128, lr=0.5, optimizer="sgd", val_fraction=0.0
    ),
    "linear": dict(hidden="16", activation="relu", epochs=60, batch_size=32, lr=1e-2, optimizer="adam"),
    "spirals": dict(hidden="64,64", activation="tanh", epochs=150, batch_size=64, lr=1e-2, optimizer="adam"),
}
# PyTorch's examples/mnist recipe for the CNN
CNN_DEFAULTS = dict(epochs=14, batch_size=64, lr=1.0, optimizer="adadelta", scheduler="step")
COMMON = dict(
    model="mlp", momentum=0.0, weight_decay=0.0, scheduler="none", seed=0, val_fraction=0.1, workers=0
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """One clear line and exit code 2, as argparse does, for every bad argument."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ember", description="ember: a deep-learning framework on NumPy with PyTorch's API."
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    p = sub.add_parser(
        "train",
        help="train a model on a dataset and report its accuracy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-D", "--dataset", choices=sorted(DEFAULTS), default="digits")
    p.add_argument(
        "--data-root", help="folder with the dataset's files (default: $EMBER_DATA or ~/.cache/ember)"
    )
    p.add_argument("--model", choices=["mlp", "cnn"])
    p.add_argument("--hidden", help="hidden widths of the MLP, e.g. 256,128")
    p.add_argument("--activation", choices=["relu", "tanh", "sigmoid"])
    p.add_argument("-e", "--epochs", type=int)
    p.add_argument("-b", "--batch-size", type=int)
    p.add_argument("-l", "--lr", type=float, help="learning rate")
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop", "adadelta"])
    p.add_argument("--momentum", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--scheduler", choices=["none", "step", "cosine", "onecycle"])
    p.add_argument("--seed", type=int)
    p.add_argument("--val-fraction", type=float, help="fraction of the training set held out for validation")
    p.add_argument("--workers", type=int, help="DataLoader worker processes")
    p.add_argument("--save", metavar="PATH", help="write a checkpoint after every epoch")
    p.add_argument("--resume", metavar="PATH", help="continue from a checkpoint")
    p.add_argument("--plot", metavar="PATH", help="save loss and accuracy curves as a PNG")
    p.add_argument(
        "--tensorboard", metavar="DIR", help="log the curves for TensorBoard (tensorboard --logdir DIR)"
    )
    p.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    return parser


def resolve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Fill unset flags from the dataset's defaults and check every value."""
    defaults = dict(COMMON, **DEFAULTS[args.dataset])
    if (args.model or defaults["model"]) == "cnn":
        defaults.update(CNN_DEFAULTS)
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    checks = [
        (args.lr > 0, f"--lr must be positive, got {args.lr}"),
        (args.epochs >= 1, f"--epochs must be at least 1, got {args.epochs}"),
        (args.batch_size >= 1, f"--batch-size must be at least 1, got {args.batch_size}"),
        (0 <= args.val_fraction < 1, f"--val-fraction must be in [0, 1), got {args.val_fraction}"),
        (args.momentum >= 0, f"--momentum must be non-negative, got {args.momentum}"),
        (args.weight_decay >= 0, f"--weight-decay must be non-negative, got {args.weight_decay}"),
        (args.workers >= 0, f"--workers must be non-negative, got {args.workers}"),
    ]
    for ok, message in checks:
        if not ok:
            parser.error(message)
    try:
        args.hidden_sizes = [int(h) for h in str(args.hidden).split(",") if h.strip()]
    except ValueError:
        parser.error(f"--hidden must be comma-separated integers like 256,128, got {args.hidden!r}")
    if any(h < 1 for h in args.hidden_sizes):
        parser.error(f"--hidden widths must be positive, got {args.hidden}")
    if args.data_root is not None and not Path(args.data_root).is_dir():
        parser.error(f"--data-root {args.data_root} is not a folder")
    if args.resume is not None and not Path(args.resume).is_file():
        parser.error(f"--resume {args.resume}: no such file")
    return args


def train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    from ember._train.data import load_task
    from ember._train.loop import Trainer
    from ember._train.models import build
    from ember.utils.data import random_split

    ember.manual_seed(args.seed)
    try:
        task = load_task(args.dataset, args.data_root, args.seed)
    except (RuntimeError, OSError) as e:
        parser.error(" ".join(str(e).split()) or repr(e))  # one line, however long the message
    try:
        model = build(args.model, task.input_shape, task.n_outputs, args.hidden_sizes, args.activation)
    except ValueError as e:
        parser.error(str(e))
    train_data, val_data = task.train, None
    if args.val_fraction > 0:
        n_val = max(1, int(round(len(task.train) * args.val_fraction)))
        split = random_split(
            task.train, [len(task.train) - n_val, n_val], generator=ember.Generator().manual_seed(args.seed)
        )
        train_data, val_data = (_materialise(part) for part in split)
    trainer = Trainer(args, task, model, train_data, val_data)
    if args.resume:
        try:
            trainer.resume(args.resume)
        except (RuntimeError, ValueError, KeyError) as e:
            parser.error(f"--resume {args.resume}: {e}")
    if not args.quiet:
        n_params = sum(p.numel() for p in model.parameters())
        print(
            f"{task.name}: {len(train_data)} train, {len(val_data) if val_data else 0} validation, "
            f"{len(task.test)} test samples; {args.model} with {n_params:,} parameters; "
            f"{args.optimizer} lr {args.lr}",
            file=trainer.out,
        )
    return trainer.fit()


def _materialise(subset: Any) -> Any:
    """A Subset of a TensorDataset as a TensorDataset of its rows (one gather, then fast batches)."""
    from ember.utils.data import TensorDataset

    index = ember.tensor(list(subset.indices))
    return TensorDataset(*(t[index] for t in subset.dataset.tensors))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "train":
        parser.print_help()
        return 2
    train_parser = parser._subparsers._group_actions[0].choices["train"]  # type: ignore[union-attr]
    args = resolve(args, train_parser)
    try:
        summary = train(args, train_parser)
    except KeyboardInterrupt:
        return 130
    except FloatingPointError as e:
        print(f"ember train: error: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
