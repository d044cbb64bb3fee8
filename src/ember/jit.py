"""TorchScript's entry points (torch.jit) for code that calls them: ember has no compiler.

PyTorch's `torch.jit.script` and `torch.jit.trace` turn a model into a TorchScript program
that computes the same thing and can run without Python. ember runs Python only, so, like
`ember.compile`, `script` and `trace` hand back what they are given and
`model = torch.jit.script(model)` goes on computing the same results. The decorators that
steer the compiler (`ignore`, `unused`, `export`) leave their function as it is, and
`is_scripting()` and `is_tracing()` are False, so code that branches on them takes its eager
path. Only saving and loading a TorchScript program cannot be offered: `save` and `load`
raise and say how to save the weights instead, and so does `script(model).save(f)`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Final, TypeVar

from ember.futures import Future

_T = TypeVar("_T")

__all__ = [
    "Final",
    "Future",
    "annotate",
    "export",
    "fork",
    "freeze",
    "ignore",
    "interface",
    "is_scripting",
    "is_tracing",
    "load",
    "optimize_for_inference",
    "save",
    "script",
    "script_if_tracing",
    "trace",
    "trace_module",
    "unused",
    "wait",
]


def script(
    obj: _T, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None, example_inputs: Any = None
) -> _T:
    """The module, function or class itself, not compiled (torch.jit.script); a module's
    `save` then says what ember saves instead (see _with_save)."""
    return _with_save(obj)


def _with_save(obj: _T) -> _T:
    """A module given to script or trace, with PyTorch's ScriptModule method `save(f)`, which
    raises jit.save's NotImplementedError (how to save the weights) rather than a bare
    AttributeError; it is the module's own attribute, not in its state_dict. A module whose
    class has a `save` of its own keeps it: script returns that same object, whose method
    must go on working."""
    from ember.nn.module import Module  # nn sits above jit

    if isinstance(obj, Module) and not hasattr(obj, "save"):
        obj.__dict__["save"] = _scripted_save
    return obj


def _scripted_save(f: Any, _extra_files: Any = None) -> None:
    """`save` of a scripted module: see _with_save."""
    raise NotImplementedError(
        "ScriptModule.save: ember.jit.script and ember.jit.trace return the module itself, not a "
        "ScriptModule. " + _NO_TORCHSCRIPT.format(what="save")
    )


def trace(func: _T, example_inputs: Any = None, *args: Any, **kwargs: Any) -> _T:
    """The module or function itself (torch.jit.trace): it is not run on `example_inputs`
    and not recorded, so control flow that depends on the data keeps working, where a
    PyTorch trace would fix it to the branch the example took. The other options
    (check_trace, strict, ...) are accepted and ignored. A module's `save` raises, as
    script's."""
    return _with_save(func)


def trace_module(mod: _T, inputs: Any = None, *args: Any, **kwargs: Any) -> _T:
    """The module itself (torch.jit.trace_module); see `trace`."""
    return _with_save(mod)


def freeze(mod: _T, preserved_attrs: list[str] | None = None, optimize_numerics: bool = True) -> _T:
    """The module itself (torch.jit.freeze): there is no compiled graph to freeze."""
    return mod


def optimize_for_inference(mod: _T, other_methods: list[str] | None = None) -> _T:
    """The module itself (torch.jit.optimize_for_inference)."""
    return mod


def script_if_tracing(fn: _T) -> _T:
    """The function itself (torch.jit.script_if_tracing)."""
    return fn


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """Marks a function for the compiler to leave to Python (torch.jit.ignore); here the
    function itself, as `@ignore` and as `@ignore(drop=...)`."""
    if callable(drop):
        return drop
    if drop:
        warnings.warn(
            "ignore(True) has been deprecated. TorchScript will now drop the function call on "
            "compilation. Use torch.jit.unused now.",
            FutureWarning,
            stacklevel=2,
        )
    return lambda fn: fn


def unused(fn: _T) -> _T:
    """Marks a function or method for the compiler to skip (torch.jit.unused); here the
    function itself, which still runs when called."""
    return fn


def export(fn: _T) -> _T:
    """Marks a method for the compiler to compile too (torch.jit.export); here the method itself."""
    return fn


def interface(obj: _T) -> _T:
    """The class itself (torch.jit.interface)."""
    return obj


def annotate(the_type: Any, the_value: _T) -> _T:
    """`the_value` (torch.jit.annotate: a type hint for the compiler)."""
    return the_value


def is_scripting() -> bool:
    """Always False: no code runs compiled (torch.jit.is_scripting)."""
    return False


def is_tracing() -> bool:
    """Always False: nothing is being traced (torch.jit.is_tracing)."""
    return False


def fork(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Calls `func(*args, **kwargs)` now, not in parallel, and returns its result as a
    completed `ember.futures.Future` (torch.jit.fork runs it asynchronously in TorchScript)."""
    future: Future = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future: Future) -> Any:
    """The result of a `fork` (torch.jit.wait)."""
    return future.wait()


_NO_TORCHSCRIPT = (
    "ember has no TorchScript, so there is no compiled program to {what}. Save the model's "
    "weights with ember.save(model.state_dict(), f), and load them into a model built by its "
    "class with model.load_state_dict(ember.load(f))."
)


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    """Raises NotImplementedError: a TorchScript file cannot be written (torch.jit.save).
    Save `m.state_dict()` with `ember.save` instead."""
    raise NotImplementedError("ember.jit.save: " + _NO_TORCHSCRIPT.format(what="save"))


def load(f: Any, map_location: Any = None, _extra_files: Any = None) -> Any:
    """Raises NotImplementedError: a TorchScript file cannot be read (torch.jit.load). Load a
    state dict with `ember.load` and `Module.load_state_dict` instead."""
    raise NotImplementedError("ember.jit.load: " + _NO_TORCHSCRIPT.format(what="load"))
