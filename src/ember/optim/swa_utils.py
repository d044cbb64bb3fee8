"""Weight averaging (torch.optim.swa_utils): AveragedModel, SWALR and update_bn.

Stochastic Weight Averaging (SWA) keeps the mean of the weights visited late in training;
an exponential moving average (EMA) weights the recent ones more. `AveragedModel` holds a
copy of the model whose parameters (and, with use_buffers, buffers) are that average,
`SWALR` anneals the learning rate to a constant for the averaging phase, and `update_bn`
recomputes the BatchNorm statistics of the averaged weights, which no training step saw.
"""

from __future__ import annotations

import copy
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.creation import tensor
from ember.dtypes import int64
from ember.nn.module import Module
from ember.nn.modules.normalization import _BatchNorm, _InstanceNorm
from ember.optim._fused import lerp_
from ember.optim._schedulers.base import LRScheduler, _per_group
from ember.optim.optimizer import Optimizer

__all__ = [
    "SWALR",
    "AveragedModel",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
    "update_bn",
]

AvgFn = Callable[[Tensor, Tensor, "Tensor | int"], Tensor]
MultiAvgFn = Callable[[Sequence[Tensor], Sequence[Tensor], "Tensor | int"], None]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _lerp_all(averaged: Sequence[Tensor], current: Sequence[Tensor], weight: float) -> None:
    """averaged <- averaged + weight * (current - averaged), in place, rounded as torch's lerp_."""
    for p_avg, p_cur in zip(averaged, current):
        lerp_(p_avg._data, p_cur._data, weight)
        p_avg._version_cell[0] += 1


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """An in-place EMA over lists of tensors: W_ema <- decay * W_ema + (1 - decay) * W_model
    (torch.optim.swa_utils.get_ema_multi_avg_fn)."""
    _check_decay(decay)

    def ema_update(ema_params: Sequence[Tensor], current_params: Sequence[Tensor], _: Any) -> None:
        with no_grad():
            if ema_params[0].is_floating_point():
                _lerp_all(ema_params, current_params, 1 - decay)
            else:  # integer buffers: the float result is truncated back
                for p_ema, p_model in zip(ema_params, current_params):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """An in-place running mean over lists of tensors: W_avg <- W_avg + (W_model - W_avg) / (n + 1),
    n the number of models averaged so far (torch.optim.swa_utils.get_swa_multi_avg_fn)."""

    def swa_update(
        averaged_params: Sequence[Tensor], current_params: Sequence[Tensor], num_averaged: Tensor | int
    ) -> None:
        with no_grad():
            if averaged_params[0].is_floating_point():
                # with n_averaged a tensor (as AveragedModel passes it), PyTorch's weight
                # 1 / (n + 1) is a float32 tensor, float64 parameters included
                _lerp_all(averaged_params, current_params, float(1 / (num_averaged + 1)))
            else:
                for p_avg, p_model in zip(averaged_params, current_params):
                    p_avg.copy_(p_avg + (p_model - p_avg) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """The EMA of one tensor, returned: decay * W_ema + (1 - decay) * W_model
    (torch.optim.swa_utils.get_ema_avg_fn)."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> AvgFn:
    """The running mean of one tensor, returned: W_avg + (W_model - W_avg) / (n + 1)
    (torch.optim.swa_utils.get_swa_avg_fn)."""

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Tensor | int) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of `model` whose parameters are the average of the ones it is given
    (torch.optim.swa_utils.AveragedModel).

    `update_parameters(model)` copies the model's parameters on its first call and averages
    them in afterwards: with `avg_fn(averaged, current, n_averaged)`, which returns one
    averaged tensor, or `multi_avg_fn(averaged_list, current_list, n_averaged)`, which updates
    a list in place (one call per dtype), or by default the equal-weight mean (SWA). Buffers
    are copied from the model, or averaged too with use_buffers=True. Calling the averaged
    model runs the copy; its state_dict holds `n_averaged` and the copy's entries under
    `module.` (avg_fn and multi_avg_fn are not saved).
    """

    def __init__(
        self,
        model: Module,
        device: Any = None,
        avg_fn: AvgFn | None = None,
        multi_avg_fn: MultiAvgFn | None = None,
        use_buffers: bool = False,
    ) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=int64))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Average `model`'s current parameters (and buffers, with use_buffers) into this copy."""
        if self.use_buffers:
            averaged = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            current = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            averaged = list(self.parameters())
            current = list(model.parameters())
        # zip stops at the shorter list, as PyTorch's does
        pairs = [(p_avg.detach(), p_model.detach()) for p_avg, p_model in zip(averaged, current)]
        n_averaged = int(self.n_averaged)
        with no_grad():
            if n_averaged == 0:
                for p_avg, p_model in pairs:
                    p_avg.copy_(p_model)
            elif self.multi_avg_fn is not None:
                # one call per dtype: a list of tensors that share it, as PyTorch groups them
                by_dtype: dict[Any, tuple[list[Tensor], list[Tensor]]] = {}
                for p_avg, p_model in pairs:
                    group = by_dtype.setdefault(p_avg.dtype, ([], []))
                    group[0].append(p_avg)
                    group[1].append(p_model)
                for averaged_group, current_group in by_dtype.values():
                    self.multi_avg_fn(averaged_group, current_group, self.n_averaged)
            else:
                # PyTorch's CPU path: the one-tensor function, the running mean by default
                avg_fn = self.avg_fn if self.avg_fn is not None else get_swa_avg_fn()
                for p_avg, p_model in pairs:
                    p_avg.copy_(avg_fn(p_avg, p_model, self.n_averaged))
            if not self.use_buffers:
                # buffers are not averaged: keep them in sync with the model's
                for b_avg, b_model in zip(self.module.buffers(), model.buffers()):
                    b_avg.detach().copy_(b_model.detach())
            self.n_averaged += 1


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute the running mean and variance of every BatchNorm layer of `model` by one pass
    over `loader` (torch.optim.swa_utils.update_bn).

    Each batch is a tensor, or a list or tuple whose first element is the model's input. The
    statistics are reset and then averaged with equal weights over the batches (momentum
    None); afterwards the layers' momenta and the model's train/eval mode are restored.
    """
    # InstanceNorm derives from _BatchNorm in ember, not in PyTorch: leave it alone, as PyTorch does
    layers = [m for m in model.modules() if isinstance(m, _BatchNorm) and not isinstance(m, _InstanceNorm)]
    if not layers:
        return
    momenta = {}
    for layer in layers:
        layer.reset_running_stats()
        momenta[layer] = layer.momentum
    was_training = model.training
    model.train()
    for layer in layers:
        layer.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for layer, momentum in momenta.items():
        layer.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to its swa_lr over anneal_epochs steps, then keep it there
    (torch.optim.swa_utils.SWALR).

    The annealing ('cos' or 'linear') starts from the lr the group has when the scheduler
    starts, so SWALR can take over from another scheduler: each step recovers that starting
    lr from the group's current one and moves a fraction alpha(t) of the way to swa_lr,
    t = step / anneal_epochs.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | list[float],
        anneal_epochs: int = 10,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        last_epoch: int = -1,
    ) -> None:
        for group, lr in zip(optimizer.param_groups, _per_group("swa_lr", optimizer, swa_lr)):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._anneal_strategy = anneal_strategy
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t: float) -> float:
        """The fraction of the way to swa_lr at t in [0, 1]: t, or (1 - cos(pi t)) / 2."""
        if self._anneal_strategy == "linear":
            return t
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        """The starting lr that annealing by alpha turned into lr."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[float]:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                UserWarning,
                stacklevel=2,
            )
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        start_lrs = [
            self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
            for group in self.optimizer.param_groups
        ]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [
            group["swa_lr"] * alpha + lr * (1 - alpha)
            for group, lr in zip(self.optimizer.param_groups, start_lrs)
        ]
