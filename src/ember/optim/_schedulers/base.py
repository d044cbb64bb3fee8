"""LRScheduler: the base class that sets each parameter group's 'lr' once per step.

A scheduler remembers `last_epoch` (how many times `step()` ran) and the `base_lrs` it
started from (stored as 'initial_lr' in each parameter group, as PyTorch does). Each
subclass's `get_lr()` computes the next learning rates. Like PyTorch, most schedulers
compute them *recursively* from the group's current lr (so that schedulers can be chained
on one optimizer); `_get_closed_form_lr()` gives the same values from `last_epoch` alone
and is used when `step(epoch)` is called with an explicit epoch. The formulas follow
PyTorch's exactly, operation by operation, so that the sequences agree to the last bit.
"""

from __future__ import annotations

import warnings
from typing import Any

from ember._tensor import Tensor
from ember.optim.optimizer import Optimizer

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available."
)


def _group_values(optimizer: Optimizer, key: str) -> list[Any]:
    """group[key] for each group; a tensor (an lr given as a tensor) is cloned, as PyTorch
    does, so that the list does not change when the scheduler fills that tensor in place."""
    return [_copy(group[key]) for group in optimizer.param_groups]


def _copy(value: Any) -> Any:
    return value.clone() if isinstance(value, Tensor) else value


def _set_group_value(group: dict[str, Any], key: str, value: Any) -> None:
    """Set group[key] to value; a tensor already there is filled in place instead, so that
    whoever holds it sees the new value (torch.optim.lr_scheduler._update_param_group_val)."""
    current = group[key]
    if isinstance(current, Tensor):
        current.fill_(float(value))
    else:
        group[key] = value


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """One value per parameter group: a list or tuple of that length, or a single value repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. {name} has {len(value)} "
                f"values, param_groups has {len(optimizer.param_groups)}."
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


def _count_optimizer_steps(optimizer: Optimizer) -> None:
    """Wrap `optimizer.step` so that the scheduler can warn when it is stepped first."""
    if getattr(optimizer.step, "_counted_by_scheduler", False):
        return
    # the optimizer's own step if it has one, else its class's, looked up at each call: the
    # class's step is wrapped when the first step hook is registered, maybe after this
    own = optimizer.__dict__.get("step")

    def counted_step(*args: Any, **kwargs: Any) -> Any:
        optimizer._opt_called = True
        if own is not None:
            return own(*args, **kwargs)
        return type(optimizer).step(optimizer, *args, **kwargs)

    counted_step._counted_by_scheduler = True  # type: ignore[attr-defined]
    optimizer.step = counted_step  # type: ignore[method-assign]


class LRScheduler:
    """Base class of the learning-rate schedulers (torch.optim.lr_scheduler.LRScheduler).

    Creating a scheduler sets each group's 'initial_lr' (unless `last_epoch` resumes a
    run) and applies the schedule's first value. Call `step()` after `optimizer.step()`.
    """

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _copy(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                        "scheduler with last_epoch >= 0 (load the optimizer's state first, or "
                        "leave last_epoch at -1 for a fresh run)"
                    )
        self.base_lrs: list[float] = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _count_optimizer_steps(optimizer)
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (torch.optim.lr_scheduler.LRScheduler.state_dict)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by `state_dict()`."""
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step()` set, one per parameter group."""
        return self._last_lr

    def get_lr(self) -> list[float]:
        """The next learning rates; called by `step()` (use `get_last_lr()` to read them)."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance the schedule by one step (or jump to `epoch`, deprecated) and set each group's lr."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. You should call "
                "them in the opposite order: `optimizer.step()` before `lr_scheduler.step()`. Failure "
                "to do this will result in skipping the first value of the learning rate schedule.",
                UserWarning,
                stacklevel=2,
            )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            _set_group_value(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer, "lr")

    def _warn_if_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                UserWarning,
                stacklevel=3,
            )


_LRScheduler = LRScheduler
