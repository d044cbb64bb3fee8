"""Forward hooks of a Module: registering them, and the slow path of Module.__call__."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ember.utils.hooks import RemovableHandle


def add_hook(
    hooks: OrderedDict,
    hook: Callable[..., Any],
    prepend: bool,
    with_kwargs: bool,
    always_call: bool = False,
) -> RemovableHandle:
    """Store (hook, with_kwargs, always_call) under a fresh id, first or last in calling order."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = (hook, with_kwargs, always_call)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def call_with_hooks(module: Any, args: tuple, kwargs: dict) -> Any:
    """Pre-hooks may replace the inputs, then forward runs, then hooks may replace the output.

    If anything in there raises, the forward hooks registered with always_call=True that
    have not run yet are called (with the output so far: None when forward raised), then
    the error goes on; an error of such a hook is turned into a warning so as not to hide it.
    """
    output = None
    called = set()  # the always_call hooks already called
    try:
        for hook, with_kwargs, _ in list(module._forward_pre_hooks.values()):
            if with_kwargs:
                result = hook(module, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                            f"but got {result}."
                        )
                    args, kwargs = result
            else:
                result = hook(module, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        output = module.forward(*args, **kwargs)
        for hook_id, (hook, with_kwargs, always_call) in list(module._forward_hooks.items()):
            if always_call:
                called.add(hook_id)  # before the call: a hook that raises is not called again
            result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
            if result is not None:
                output = result
        return output
    except Exception:
        for hook_id, (hook, with_kwargs, always_call) in list(module._forward_hooks.items()):
            if not always_call or hook_id in called:
                continue
            try:
                result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
            except Exception as error:
                warnings.warn(
                    "module forward hook with ``always_call=True`` raised an exception that was "
                    f"silenced as another error was raised in forward: {error}",
                    stacklevel=3,
                )
                continue
            if result is not None:
                output = result
        raise
