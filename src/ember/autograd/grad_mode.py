"""Switches that turn graph recording off and on (torch.no_grad and friends).

The flag lives in a one-element list so that `Function.apply` reads it with a single
index, the cheapest check there is on the hot path.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# _state[0]: is gradient recording on?  Read by Function.apply on every op.
_state = [True]
_inference = [False]  # inside inference_mode(True)? Read off the hot paths (function.InferenceVersion).


def is_grad_enabled() -> bool:
    """Whether operations currently record a graph (torch.is_grad_enabled)."""
    return _state[0]


def is_inference_mode_enabled() -> bool:
    """Whether an inference_mode(True) block is active (torch.is_inference_mode_enabled)."""
    return _inference[0]


class _GradMode:
    """Base of the context managers: sets the flag on entry, restores it on exit.

    Each also works as a decorator, as in PyTorch: the decorated function (or each step of
    a decorated generator) runs in the mode. Those that need no argument decorate without
    parentheses too (`@no_grad` as well as `@no_grad()`).
    """

    mode = True

    def __new__(cls, mode: Any = None) -> Any:
        if mode is None or isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # `@no_grad`: Python called the class with the function

    def __enter__(self) -> None:
        self._prev = _state[0]
        _state[0] = self.mode

    def __exit__(self, *exc: object) -> None:
        _state[0] = self._prev

    def clone(self) -> _GradMode:
        """A new manager with the same setting: each call of a decorated function enters its own."""
        return self.__class__()

    def __call__(self, fn: F) -> F:
        clone = self.clone
        if inspect.isgeneratorfunction(fn):
            return _generator_in(clone, fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with clone():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _generator_in(make_context: Callable[[], _GradMode], fn: F) -> F:
    """A generator function whose body runs in a mode, one step at a time: the mode must not
    leak to the caller between steps, nor be missing from a step."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gen = fn(*args, **kwargs)
        step, value = gen.send, None  # send the caller's value, or throw its exception
        while True:
            try:
                with make_context():
                    item = step(value)
            except StopIteration as stop:
                return stop.value
            try:
                value, step = (yield item), gen.send
            except GeneratorExit:
                with make_context():
                    gen.close()
                raise
            except BaseException as exc:
                value, step = exc, gen.throw

    return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Disable graph recording inside the block (torch.no_grad)."""

    mode = False


class enable_grad(_GradMode):
    """Enable graph recording inside the block, even within no_grad (torch.enable_grad)."""

    mode = True


def _set_inference(on: bool) -> None:
    if on != _inference[0]:
        from ember import _tensor  # built on this module

        _tensor.make_inference_tensors(on)
        _inference[0] = on


class inference_mode(_GradMode):
    """Like no_grad (torch.inference_mode); the tensors made inside are inference tensors,
    whose `_version` raises as in PyTorch (autograd/function.py, InferenceVersion).

    `inference_mode(False)` turns recording on, as in PyTorch."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode

    def __enter__(self) -> None:
        super().__enter__()
        self._prev_inference = _inference[0]
        _set_inference(not self.mode)

    def __exit__(self, *exc: object) -> None:
        _set_inference(self._prev_inference)
        super().__exit__(*exc)

    def clone(self) -> inference_mode:
        return inference_mode(not self.mode)


class set_grad_enabled(_GradMode):
    """Set recording on or off; takes effect at once, or for a `with` block (torch.set_grad_enabled)."""

    def __new__(cls, mode: Any) -> Any:
        return object.__new__(cls)  # never a decorator without its mode: __init__ checks it

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):  # also catches `@set_grad_enabled` without a mode
            raise TypeError(
                f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not {type(mode).__name__}"
            )
        self.mode = mode
        self._prev = _state[0]
        _state[0] = self.mode

    def __enter__(self) -> None:
        pass  # the switch already happened in __init__, as in PyTorch

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self.mode)

    def __call__(self, fn: F) -> F:
        _state[0] = self._prev  # as a decorator, it switches nothing until fn is called
        return super().__call__(fn)


_multithreading = [True]


def is_multithreading_enabled() -> bool:
    """Whether backward may run on several threads (torch.autograd.is_multithreading_enabled).
    ember's engine always runs on the calling thread; the flag is kept for programs that set
    and read it."""
    return _multithreading[0]


class set_multithreading_enabled:
    """Switch the multithreaded backward on or off, at once or for a `with` block
    (torch.autograd.set_multithreading_enabled). ember's backward runs on one thread either
    way, so only `is_multithreading_enabled` sees the setting."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._prev = _multithreading[0]
        _multithreading[0] = self.mode

    def __enter__(self) -> None:
        pass  # set in __init__, as set_grad_enabled

    def __exit__(self, *exc: object) -> None:
        _multithreading[0] = self._prev

    def clone(self) -> set_multithreading_enabled:
        return set_multithreading_enabled(self.mode)


class enforce_grad_layout_policy:
    """Relax or keep (enable=True) the rule that an accumulated gradient takes its
    parameter's strides, for a `with` block or a decorated function
    (torch.autograd.enforce_grad_layout_policy, new in torch 2.13). ember's gradients are
    NumPy arrays that its engine always makes afresh or adds into, with no stride contract
    to relax, so the block runs as it would without it."""

    def __init__(self, enable: bool = True) -> None:
        self.mode = bool(enable)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        pass

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def clone(self) -> enforce_grad_layout_policy:
        return enforce_grad_layout_policy(self.mode)
