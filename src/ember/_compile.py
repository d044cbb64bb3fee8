"""`ember.compile`: PyTorch's torch.compile speeds a model up without changing what it
computes; ember has no compiler, so it hands the model (or function) back unchanged, and
`model = torch.compile(model)` runs as written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def compile(model: Callable[..., Any] | None = None, **options: Any) -> Any:  # noqa: A001
    """The model or function itself, uncompiled (torch.compile); the options (fullgraph,
    dynamic, backend, mode, ...) are accepted and ignored. Without a model, a decorator:
    `@torch.compile(mode="max-autotune")` works as well as `@torch.compile`."""
    if model is None:
        return lambda fn: fn
    return model
