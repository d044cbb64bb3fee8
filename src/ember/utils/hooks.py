"""Removable hook handles (torch.utils.hooks) and the one way hooks are stored, shared by the
hooks of tensors, modules and optimizers."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

_ids = itertools.count()


class RemovableHandle:
    """Returned by `register_hook`, `register_forward_hook` and friends; `handle.remove()`
    unregisters the hook.

    The hooks live in a dict keyed by the handle's id, in calling order. Also a context
    manager: the hook is removed when the `with` block ends.
    """

    def __init__(self, hooks: dict, extra_dicts: list[dict] | tuple[dict, ...] = ()) -> None:
        self.id = next(_ids)
        self._hooks = hooks
        self._extra = tuple(extra_dicts)  # side dicts keyed by the same id (a hook's options)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)
        for extra in self._extra:
            extra.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def add_hook(
    hooks: dict, hook: Callable[..., Any], prepend: bool = False, flags: tuple[tuple[dict, bool], ...] = ()
) -> RemovableHandle:
    """Store the hook under a fresh id, first or last in calling order.

    As in PyTorch, the dict holds the hooks themselves (code that looks through
    `module._forward_pre_hooks` finds them there); an option such as with_kwargs is marked
    in a side dict keyed by the same id (`flags`: (side dict, option set) pairs), which the
    handle cleans up too.
    """
    handle = RemovableHandle(hooks, [side for side, _ in flags])
    hooks[handle.id] = hook
    for side, on in flags:
        if on:
            side[handle.id] = True
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle
