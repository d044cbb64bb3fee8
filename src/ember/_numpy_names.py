"""NumPy's argument names: `x.sum(axis=1, keepdims=True)` means `x.sum(dim=1, keepdim=True)`.

PyTorch's argument parser, which reads the arguments of every function written in C++,
accepts `axis` for a parameter named `dim` and `keepdims` for one named `keepdim`, so code
written with NumPy's habits (the Dive into Deep Learning book's `y_hat.argmax(axis=1)`, say)
runs unchanged. ember's functions are Python functions, whose own signatures name `dim` and
`keepdim` only; `install` wraps those that take either, as Tensor methods and in the `ember`
namespace, so that they accept the NumPy names as well.

The wrapper costs one Python call (0.1 to 0.2 µs; `loss.sum()` takes 1.7 µs without it), paid
only by functions that take a `dim` or a `keepdim` (the reductions, softmax, gather...): the
arithmetic operators, Linear, relu, cross_entropy and the optimizers' steps call none of them,
and the functions' own modules stay unwrapped for ember's internal calls.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

_ALIASES = {"axis": "dim", "keepdims": "keepdim"}

# size(0) and stride(0) are asked in loops and never with NumPy's names: they stay unwrapped
_UNWRAPPED = frozenset({"size", "stride"})

_WRAPPED: dict = {}  # function -> its wrapper, so that aliases (amax, max) stay one object


def takes_torch_names(name: str, fn: Any) -> bool:
    """Whether fn has a `dim` or `keepdim` parameter and none of NumPy's own names."""
    if name in _UNWRAPPED or not isinstance(fn, types.FunctionType):
        return False
    if not hasattr(fn, "__wrapped__") and not hasattr(fn, "__signature__"):
        # a plain function: its parameters' names straight from its code object, as
        # inspect.signature would list them (which costs 20 times as much, at import)
        code = fn.__code__
        flags = code.co_flags
        count = code.co_argcount + code.co_kwonlyargcount + bool(flags & inspect.CO_VARARGS)
        if flags & inspect.CO_VARKEYWORDS:
            return False
        names = code.co_varnames[:count]
        return ("dim" in names or "keepdim" in names) and not any(alias in names for alias in _ALIASES)
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return False
    return ("dim" in params or "keepdim" in params) and not any(alias in params for alias in _ALIASES)


def renamed(name: str, kwargs: dict) -> dict:
    """kwargs with `axis` and `keepdims` given their PyTorch names."""
    renamed = {}
    for key, value in kwargs.items():
        torch_name = _ALIASES.get(key, key)
        if torch_name in renamed or (torch_name != key and torch_name in kwargs):
            raise TypeError(
                f"{name}() got multiple values for argument '{torch_name}' (given as '{key}' too)"
            )
        renamed[torch_name] = value
    return renamed


def accepting_numpy_names(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """`fn`, which also takes `axis` for `dim` and `keepdims` for `keepdim`."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            kwargs = renamed(name, kwargs)
        return fn(*args, **kwargs)

    return call


def _wrapper(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    if fn not in _WRAPPED:
        _WRAPPED[fn] = accepting_numpy_names(fn, name)
    return _WRAPPED[fn]


def install_methods(cls: type) -> None:
    """Let the methods of `cls` that take `dim` or `keepdim` accept NumPy's names too."""
    for name, fn in list(vars(cls).items()):
        if not name.startswith("__") and takes_torch_names(name, fn):
            wrapper = _wrapper(fn, name)
            setattr(cls, name, wrapper)


def install(namespace: dict) -> None:
    """Let the public functions of `namespace` that take `dim` or `keepdim` accept NumPy's
    names too; each wrapper is found under the name it is installed as, for pickle. The
    functions `ember._out` wrapped already rename the keywords in that wrapper, and are left
    as they are: one wrapper per call, not two."""
    from ember import _out

    takes_out = {id(wrapper) for wrapper in _out._WRAPPED.values()}
    for name, fn in list(namespace.items()):
        if not name.startswith("_") and id(fn) not in takes_out and takes_torch_names(name, fn):
            wrapper = _wrapper(fn, name)
            if wrapper.__module__ != namespace["__name__"]:
                wrapper.__module__, wrapper.__qualname__ = namespace["__name__"], name
            namespace[name] = wrapper
