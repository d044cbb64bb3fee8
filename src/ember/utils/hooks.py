"""Removable hook handles (torch.utils.hooks), shared by tensor and module hooks."""

from __future__ import annotations

import itertools

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
