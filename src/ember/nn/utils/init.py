"""skip_init: build a module without spending random numbers on its initial weights
(torch.nn.utils.skip_init)."""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from ember.nn.module import Module
from ember.random import get_rng_state, set_rng_state

__all__ = ["skip_init"]

_ModuleT = TypeVar("_ModuleT", bound=Module)


def skip_init(module_cls: type[_ModuleT], *args: Any, **kwargs: Any) -> _ModuleT:
    """module_cls(*args, **kwargs) with weights left to be initialised by the caller
    (torch.nn.utils.skip_init).

    PyTorch builds the module on its 'meta' device, where initialisers do nothing, and then
    allocates uninitialised memory. ember has no meta device: it runs the constructor as
    usual and then restores the random generator, so that, as in PyTorch, the generator's
    stream is as if the module had not been built. The weights hold their usual initial
    values, which is one case of "uninitialised". Like PyTorch, the class must accept a
    `device` argument.
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    state = get_rng_state()
    try:
        return module_cls(*args, **kwargs)
    finally:
        set_rng_state(state)
