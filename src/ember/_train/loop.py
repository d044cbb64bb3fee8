"""The training loop behind `ember train`: epochs with a progress bar, validation, test,
checkpoints (also on Ctrl-C), curves and a summary."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ember
from ember import nn, optim
from ember._progress import progress_bar
from ember._train.data import Task
from ember.nn import functional as F
from ember.utils.data import DataLoader, TensorDataset


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)


def loss_fn(task: Task, output: ember.Tensor, target: ember.Tensor) -> ember.Tensor:
    if task.classification:
        return F.cross_entropy(output, target)
    return F.mse_loss(output, target)


def evaluate(
    model: nn.Module, task: Task, data: TensorDataset, batch_size: int = 1000
) -> tuple[float, float]:
    """Mean loss and accuracy (classification) or mean squared error (regression)."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with ember.no_grad():
        for x, y in DataLoader(data, batch_size=batch_size):
            out = model(x)
            total_loss += loss_fn(task, out, y).item() * len(y)
            if task.classification:
                correct += int((out.argmax(1) == y).sum().item())
            count += len(y)
    model.train()
    mean_loss = total_loss / max(count, 1)
    return mean_loss, (correct / max(count, 1) if task.classification else mean_loss)


def make_optimizer(
    name: str, params: Any, lr: float, momentum: float, weight_decay: float
) -> optim.Optimizer:
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "adadelta": optim.Adadelta}[name]
    return cls(params, lr=lr, weight_decay=weight_decay)


def make_scheduler(name: str, opt: optim.Optimizer, epochs: int, steps_per_epoch: int) -> Any:
    """Schedulers are stepped once per epoch, except onecycle (once per batch)."""
    if name == "none":
        return None
    if name == "step":
        return optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    if name == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    if name == "onecycle":
        max_lr = opt.param_groups[0]["lr"]
        return optim.lr_scheduler.OneCycleLR(
            opt, max_lr=max_lr, epochs=epochs, steps_per_epoch=steps_per_epoch
        )
    raise ValueError(f"unknown scheduler {name!r}")


class Trainer:
    """Holds what one run needs; `fit()` trains and returns the summary dict."""

    def __init__(
        self, args: Any, task: Task, model: nn.Module, train: TensorDataset, val: TensorDataset | None
    ):
        self.args, self.task, self.model = args, task, model
        self.train_data, self.val_data = train, val
        g = ember.Generator().manual_seed(args.seed)
        self.loader = DataLoader(
            train, batch_size=args.batch_size, shuffle=True, generator=g, num_workers=args.workers
        )
        self.opt = make_optimizer(
            args.optimizer, model.parameters(), args.lr, args.momentum, args.weight_decay
        )
        self.scheduler = make_scheduler(args.scheduler, self.opt, args.epochs, len(self.loader))
        self.history = History()
        self.writer = None
        if args.tensorboard:
            from ember.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(args.tensorboard)
        self.start_epoch = 1
        self.out = sys.stderr if args.json else sys.stdout

    def say(self, text: str) -> None:
        if not self.args.quiet:
            print(text, file=self.out, flush=True)

    # ---- checkpoints ---------------------------------------------------------------------------

    def checkpoint(self, epoch: int) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "epoch": epoch,
            "history": vars(self.history),
            "dataset": self.task.name,
        }

    def save(self, epoch: int, path: str | None = None) -> str | None:
        path = path or self.args.save
        if path:
            ember.save(self.checkpoint(epoch), path)
        return path

    def resume(self, path: str) -> None:
        state = ember.load(path)
        if state.get("dataset") != self.task.name:
            raise ValueError(
                f"checkpoint {path} was trained on {state.get('dataset')!r}, not {self.task.name!r}"
            )
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.history = History(**{k: list(v) for k, v in state["history"].items()})
        self.start_epoch = int(state["epoch"]) + 1
        self.say(f"resumed from {path} after epoch {state['epoch']}")

    def log(self, epoch: int, metric: str) -> None:
        """The epoch's losses, validation metric and learning rate, for TensorBoard."""
        if self.writer is None:
            return
        history = self.history
        self.writer.add_scalar("Loss/train", history.train_loss[-1], epoch)
        if self.val_data is not None:
            self.writer.add_scalar("Loss/val", history.val_loss[-1], epoch)
            self.writer.add_scalar(f"{metric}/val", history.val_metric[-1], epoch)
        self.writer.add_scalar("lr", self.opt.param_groups[0]["lr"], epoch)

    # ---- the loop -----------------------------------------------------------------------------

    def train_epoch(self, epoch: int) -> float:
        model, opt, task = self.model, self.opt, self.task
        total, seen = 0.0, 0
        bar = (
            None
            if self.args.quiet
            else progress_bar(len(self.loader), f"epoch {epoch}/{self.args.epochs}", "batch")
        )
        started = time.perf_counter()
        try:
            for x, y in self.loader:
                loss = loss_fn(task, model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if self.args.scheduler == "onecycle":
                    self.scheduler.step()
                value = loss.item()
                if not math.isfinite(value):
                    raise FloatingPointError(f"the loss became {value} in epoch {epoch}; try a smaller --lr")
                total += value * len(y)
                seen += len(y)
                if bar is not None:
                    bar.update(1)
                    if hasattr(bar, "set_postfix") and bar.n % 20 == 0:
                        rate = seen / (time.perf_counter() - started)
                        bar.set_postfix(loss=f"{total / seen:.4f}", samples_s=f"{rate:,.0f}", refresh=False)
        finally:
            if bar is not None:
                bar.close()
        return total / max(seen, 1)

    def fit(self) -> dict:
        args, task = self.args, self.task
        metric = "accuracy" if task.classification else "mse"
        started = time.perf_counter()
        epoch = self.start_epoch - 1
        try:
            for epoch in range(self.start_epoch, args.epochs + 1):
                t0 = time.perf_counter()
                train_loss = self.train_epoch(epoch)
                self.history.train_loss.append(train_loss)
                line = f"epoch {epoch:3d}  train loss {train_loss:.4f}"
                if self.val_data is not None:
                    val_loss, val_metric = evaluate(self.model, task, self.val_data)
                    self.history.val_loss.append(val_loss)
                    self.history.val_metric.append(val_metric)
                    line += f"  val loss {val_loss:.4f}  val {metric} {val_metric:.4f}"
                self.log(epoch, metric)
                if self.scheduler is not None and args.scheduler != "onecycle":
                    self.scheduler.step()
                self.say(line + f"  {time.perf_counter() - t0:.2f}s")
                self.save(epoch)
        except KeyboardInterrupt:
            path = self.save(epoch - 1, self.args.save or "ember-interrupted.ckpt")
            self.say(f"\ninterrupted: checkpoint of epoch {epoch - 1} saved to {path}")
            raise
        finally:
            if self.writer is not None:
                self.writer.close()
        test_loss, test_metric = evaluate(self.model, task, task.test)
        seconds = time.perf_counter() - started
        self.say(f"test {metric} {test_metric:.4f}  (test loss {test_loss:.4f}, {seconds:.1f}s)")
        if args.save:
            self.say(f"checkpoint saved to {args.save}")
        plot = None
        if args.plot:
            plot = plot_history(self.history, args.plot, metric)
            self.say(f"curves saved to {plot}")
        return {
            "dataset": task.name,
            "model": args.model,
            "epochs": args.epochs,
            f"test_{metric}": test_metric,
            "test_loss": test_loss,
            "train_loss": self.history.train_loss[-1] if self.history.train_loss else None,
            "val_loss": self.history.val_loss[-1] if self.history.val_loss else None,
            f"val_{metric}": self.history.val_metric[-1] if self.history.val_metric else None,
            "seconds": round(seconds, 3),
            "checkpoint": args.save,
            "plot": plot,
            "history": vars(self.history),
        }


def plot_history(history: History, path: str, metric: str) -> str:
    """Loss and validation-metric curves per epoch, as a PNG (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install 'ember[examples]'") from None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = range(1, len(history.train_loss) + 1)
    ax1.plot(epochs, history.train_loss, label="train")
    if history.val_loss:
        ax1.plot(epochs, history.val_loss, label="validation")
    ax1.set(xlabel="epoch", ylabel="loss", title="loss")
    ax1.legend()
    if history.val_metric:
        ax2.plot(epochs, history.val_metric, color="tab:green")
    ax2.set(xlabel="epoch", ylabel=metric, title=f"validation {metric}")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)
