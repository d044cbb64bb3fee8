"""Switches that turn graph recording off and on (torch.no_grad and friends).

The flag lives in a one-element list so that `Function.apply` reads it with a single
index, the cheapest check there is on the hot path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# _state[0]: is gradient recording on?  Read by Function.apply on every op.
_state = [True]


def is_grad_enabled() -> bool:
    """Whether operations currently record a graph (torch.is_grad_enabled)."""
    return _state[0]


class _GradMode:
    """Base of the context managers: sets the flag on entry, restores it on exit.

    Each also works as a decorator, as in PyTorch.
    """

    mode = True

    def __enter__(self) -> None:
        self._prev = _state[0]
        _state[0] = self.mode

    def __exit__(self, *exc: object) -> None:
        _state[0] = self._prev

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Disable graph recording inside the block (torch.no_grad)."""

    mode = False


class enable_grad(_GradMode):
    """Enable graph recording inside the block, even within no_grad (torch.enable_grad)."""

    mode = True


class inference_mode(_GradMode):
    """Like no_grad (torch.inference_mode). ember has no separate inference tensors."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(not mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class set_grad_enabled(_GradMode):
    """Set recording on or off; takes effect at once, or for a `with` block (torch.set_grad_enabled)."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._prev = _state[0]
        _state[0] = self.mode

    def __enter__(self) -> None:
        pass  # the switch already happened in __init__, as in PyTorch

    def __call__(self, fn: F) -> F:
        _state[0] = self._prev
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
