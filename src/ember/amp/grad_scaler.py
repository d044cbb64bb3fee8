"""Loss scaling for mixed-precision training (torch.amp.GradScaler).

In float16, small gradients underflow to zero. A GradScaler multiplies the loss by a large
factor before `backward`, so the gradients are that much larger, and divides them again
before the optimizer uses them; if any gradient came out inf or NaN, the scale was too large:
the step is skipped and the scale shrinks. After `growth_interval` good steps in a row it
grows again. ember computes in float32, where this rarely matters, but the bookkeeping is
PyTorch's exactly, so a training loop written with a scaler runs and gives PyTorch's numbers.

The three calls of one iteration:

    scaler.scale(loss).backward()   # gradients of scale * loss
    scaler.step(optimizer)          # unscales them; steps unless one is inf or NaN
    scaler.update()                 # backs the scale off after a skipped step, or grows it
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ember import dtypes
from ember._tensor import Tensor
from ember.autograd import no_grad


class OptState(enum.Enum):
    """Where one optimizer is in the current iteration."""

    READY = 0  # nothing done yet
    UNSCALED = 1  # its gradients were divided by the scale
    STEPPED = 2  # its step was taken (or skipped)


def _fresh_state() -> dict[str, Any]:
    # found_inf: None until unscale_ has looked at the gradients, and still None if there were none
    return {"stage": OptState.READY, "found_inf": None}


class GradScaler:
    """Scales the loss, unscales the gradients and skips the steps whose gradients are not
    finite (torch.amp.GradScaler).

    `device` is PyTorch's default, "cuda": there is no CUDA, so such a scaler warns and is
    disabled, as PyTorch's is on a machine without a GPU. `GradScaler("cpu")` scales. A
    disabled scaler passes everything through: `scale` returns its input, `step` calls
    `optimizer.step()`, `update` does nothing and `get_scale()` is 1.0.
    """

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._device = device
        self._enabled = enabled
        if enabled and device != "cpu":
            what = "CUDA" if device == "cuda" else f"device {device!r}"
            warnings.warn(
                f"ember.amp.GradScaler is enabled, but {what} is not available (ember runs on the CPU only).  "
                "Disabling.",
                stacklevel=2,
            )
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = init_scale
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        # Made by the first `scale` call: the scale (a float32 scalar tensor, so that
        # `loss * scale` promotes as in PyTorch) and the count of good steps in a row.
        self._scale: Tensor | None = None
        self._growth_tracker: int | None = None
        self._per_optimizer_states: dict[int, dict[str, Any]] = {}

    def _state(self, optimizer: Any) -> dict[str, Any]:
        return self._per_optimizer_states.setdefault(id(optimizer), _fresh_state())

    def _check_started(self, funcname: str) -> Tensor:
        if self._scale is None:
            raise AssertionError(
                f"Attempted {funcname} but _scale is None.  This may indicate your script did not use "
                "scaler.scale(loss or outputs) earlier in the iteration."
            )
        return self._scale

    def scale(self, outputs: Any) -> Any:
        """`outputs` multiplied by the current scale: a tensor, or the tensors in (nested)
        lists and tuples, which keep their type; another iterable gives an iterator."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = Tensor(np.array(self._init_scale, dtype=np.float32))
            self._growth_tracker = self._init_growth_tracker

        def apply(value: Any) -> Any:
            if isinstance(value, Tensor):
                return value * self._scale
            if isinstance(value, Iterable):
                scaled = map(apply, value)
                return type(value)(scaled) if isinstance(value, (list, tuple)) else scaled
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply(outputs)

    def unscale_(self, optimizer: Any) -> None:
        """Divides the gradients of the optimizer's parameters by the scale, in place, and
        notes whether any is inf or NaN. Call it before changing the gradients, e.g. clipping
        them; at most once per optimizer between two `update` calls."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        scale = self._check_started("unscale_")
        # 1 / scale computed in float64 and rounded to float32, as PyTorch does
        inv_scale = float(np.float32(1.0 / float(scale.item())))
        found_inf = None
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    if grad.dtype is dtypes.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    found_inf = bool(found_inf) or not bool(grad.isfinite().all())
                    grad.mul_(inv_scale)  # the gradients are unscaled even when a step is skipped
        state["found_inf"] = found_inf
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Unscales the gradients (unless `unscale_` already did) and calls
        `optimizer.step(*args, **kwargs)` if they are all finite; otherwise skips the step
        and returns None. A closure is not supported, as in PyTorch."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_started("step")
        state = self._state(optimizer)
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Sets the scale for the next iteration: `new_scale` if given; otherwise the scale
        times `backoff_factor` if a step of this iteration found inf or NaN gradients, times
        `growth_factor` after `growth_interval` good iterations in a row (kept if that would
        overflow float32), else unchanged."""
        if not self._enabled:
            return
        scale = self._check_started("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise AssertionError(
                        "new_scale should be a float or a 1-element ember.FloatTensor with requires_grad=False."
                    )
                new_scale = float(new_scale.item())
            scale.fill_(float(new_scale))
        else:
            checks = [
                s["found_inf"] for s in self._per_optimizer_states.values() if s["found_inf"] is not None
            ]
            if not checks:
                raise AssertionError("No inf checks were recorded prior to update.")
            found_inf = any(checks)
            current = float(scale.item())
            if found_inf:
                scale.fill_(float(np.float32(current * self._backoff_factor)))
                self._growth_tracker = 0
            elif self._growth_tracker + 1 == self._growth_interval:
                grown = np.float32(current * self._growth_factor)
                if np.isfinite(grown):
                    scale.fill_(float(grown))
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
        self._per_optimizer_states = {}

    def get_scale(self) -> float:
        """The current scale as a Python float (`init_scale` before the first `scale`), or 1.0
        if the scaler is disabled."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale.item())

    def get_growth_factor(self) -> float:
        """The factor the scale grows by after `growth_interval` good iterations."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Sets the factor the scale grows by."""
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        """The factor the scale shrinks by after an iteration with inf or NaN gradients."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Sets the factor the scale shrinks by."""
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        """How many good iterations in a row make the scale grow."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Sets how many good iterations in a row make the scale grow."""
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def is_enabled(self) -> bool:
        """Whether the scaler scales (False if made with enabled=False or for a device ember lacks)."""
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """The scale, the factors, the interval and the count of good iterations, PyTorch's
        keys; empty for a disabled scaler. Take it after `update`."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._get_growth_tracker(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores what `state_dict` returned (does nothing on a disabled scaler)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler."
            )
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale.fill_(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker = self._init_growth_tracker
