"""Forward hooks of a Module: registering them, and the slow path of Module.__call__."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ember.utils.hooks import RemovableHandle


def add_hook(
    hooks: OrderedDict, hook: Callable[..., Any], prepend: bool, with_kwargs: bool
) -> RemovableHandle:
    """Store (hook, with_kwargs) under a fresh id, first or last in calling order."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = (hook, with_kwargs)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def call_with_hooks(module: Any, args: tuple, kwargs: dict) -> Any:
    """Pre-hooks may replace the inputs, then forward runs, then hooks may replace the output."""
    for hook, with_kwargs in list(module._forward_pre_hooks.values()):
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
    for hook, with_kwargs in list(module._forward_hooks.values()):
        result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
        if result is not None:
            output = result
    return output
