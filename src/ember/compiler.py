"""torch.compiler's functions for code that calls them: ember has no compiler.

`ember.compile` (ember/_compile.py) hands a model back unchanged, since compiling changes
how fast a model runs, never what it computes. This module is the rest of that story, as
torch.compiler behaves for code that runs eagerly: the decorators that steer the compiler
(`disable`, `allow_in_graph`, `assume_constant_result`, `nested_compile_region`,
`wrap_numpy`, the polyfills of `substitute_in_graph`) hand back the function they are given;
`is_compiling()`, `is_dynamo_compiling()` and `is_exporting()` are False, so code that
branches on them takes its eager path; `reset()`, `cudagraph_mark_step_begin()` and the
caches have nothing to act on. The settings (`set_stance`, the default backend,
`config`) are kept, so code that sets and reads them back sees its own values, and change
nothing. The guard filters (`skip_guard_on_globals_unsafe`, ...) compute PyTorch's answer
for the guard entries they are given; ember's compile never asks them.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ember._compile import compile  # noqa: A004 (torch.compiler.compile is torch.compile)

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "allow_in_graph",
    "assume_constant_result",
    "compile",
    "config",
    "cudagraph_mark_step_begin",
    "disable",
    "get_default_backend",
    "is_compiling",
    "is_dynamo_compiling",
    "is_exporting",
    "keep_portable_guards_unsafe",
    "keep_tensor_guards_unsafe",
    "list_backends",
    "load_cache_artifacts",
    "load_compiled_function",
    "nested_compile_region",
    "reset",
    "save_cache_artifacts",
    "set_default_backend",
    "set_enable_guard_collectives",
    "set_stance",
    "skip_all_guards_unsafe",
    "skip_guard_on_all_nn_modules_unsafe",
    "skip_guard_on_globals_unsafe",
    "skip_guard_on_inbuilt_nn_modules_unsafe",
    "substitute_in_graph",
    "wrap_numpy",
]


# ---- what is running: never compiled code ----------------------------------------------------


def is_compiling() -> bool:
    """Whether the caller runs inside a compiler's trace (torch.compiler.is_compiling):
    never in ember, which runs every function as written."""
    return False


def is_dynamo_compiling() -> bool:
    """Whether TorchDynamo traces the caller (torch.compiler.is_dynamo_compiling): never."""
    return False


def is_exporting() -> bool:
    """Whether torch.export traces the caller (torch.compiler.is_exporting): never."""
    return False


# ---- decorators that steer the compiler: the function itself ---------------------------------


def _callable(fn: Any, message: str) -> None:
    if not callable(fn):  # the AssertionError is torch's
        raise AssertionError(message)


def disable(
    fn: Callable[..., Any] | None = None, recursive: bool = True, *, reason: str | None = None
) -> Any:
    """Keeps fn out of compilation (torch.compiler.disable): in ember, fn itself. Without fn,
    a decorator that does the same (`@torch.compiler.disable(recursive=False)`)."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    _callable(fn, "fn must be callable")
    return fn


def allow_in_graph(fn: _F) -> _F:
    """Lets the compiler put fn into its graph uninspected (torch.compiler.allow_in_graph):
    in ember, fn itself; a list or tuple of functions comes back as given."""
    if isinstance(fn, (list, tuple)):
        for f in fn:
            allow_in_graph(f)
        return fn
    _callable(fn, "allow_in_graph expects a callable")
    return fn


def assume_constant_result(fn: _F) -> _F:
    """Lets the compiler treat fn's result as a constant (torch.compiler.assume_constant_result):
    in ember, fn itself, called each time."""
    _callable(fn, "fn must be callable")
    return fn


def wrap_numpy(fn: _F) -> _F:
    """Lets a compiled NumPy function take and return tensors (torch.compiler.wrap_numpy):
    eagerly, as in PyTorch outside compilation, fn itself, which sees what it is given."""
    return fn


def nested_compile_region(
    fn: Callable[..., Any] | None = None,
    *,
    options: Any = None,
    max_reuse_entries: int = 8,
    reuse_hash_fn: Any = None,
) -> Any:
    """Marks a region the compiler may compile once and reuse (torch.compiler.
    nested_compile_region): fn itself, or without fn a decorator that gives it back."""
    if fn is None:
        return lambda f: f
    return fn


def substitute_in_graph(
    original_fn: Callable[..., Any],
    *,
    can_constant_fold_through: bool = False,
    skip_signature_check: bool = False,
) -> Callable[[_F], _F]:
    """A decorator registering its function as the compiler's stand-in for original_fn
    (torch.compiler.substitute_in_graph). The stand-in is only traced; what the decorator
    returns calls original_fn, as in PyTorch outside compiled code, so in ember it returns
    original_fn itself. As in PyTorch, original_fn must be a function and the two
    signatures must agree unless skip_signature_check is set: the same parameter names
    and defaults, annotations and positional-only markers aside, or either one taking
    only *args and **kwargs."""
    if not callable(original_fn):
        raise TypeError(f"substitute_in_graph expects a function but got {type(original_fn)!r}")

    def register(polyfill: _F) -> _F:
        if not callable(polyfill):
            raise TypeError(f"@substitute_in_graph(...) expects a function but got {type(polyfill)!r}")
        if not skip_signature_check:
            try:
                ours, theirs = inspect.signature(original_fn), inspect.signature(polyfill)
            except (TypeError, ValueError):  # a builtin without a signature: nothing to compare
                return original_fn  # type: ignore[return-value]
            keys = (_signature_key(ours), _signature_key(theirs))
            if keys[0] != keys[1] and _WILDCARD_KEY not in keys:
                raise TypeError(
                    f"Signature mismatch between {original_fn} and {polyfill}: {ours} != {theirs}; "
                    "pass skip_signature_check=True to register it anyway"
                )
        return original_fn  # type: ignore[return-value]

    return register


def _signature_key(signature: inspect.Signature) -> tuple[Any, ...]:
    """What PyTorch's substitute_in_graph compares of two signatures: the names of the
    positional parameters, those of the keyword-only ones, and the defaults; not the
    annotations, the positional-only marker, or the names of *args and **kwargs."""
    named = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return (
        tuple(p.name for p in named if p.kind != p.KEYWORD_ONLY),
        {p.name for p in named if p.kind == p.KEYWORD_ONLY},
        {p.name: p.default for p in named},
    )


# the signature `(*args, **kwargs)`, which PyTorch lets either side have
_WILDCARD_KEY = _signature_key(inspect.signature(lambda *args, **kwargs: None))


# ---- state with nothing to act on --------------------------------------------------------------


def reset() -> None:
    """Clears the compiler's caches and compiled code (torch.compiler.reset): none to clear."""


def cudagraph_mark_step_begin() -> None:
    """Marks the start of a training or inference step for CUDA graphs
    (torch.compiler.cudagraph_mark_step_begin): there are none on the CPU."""


def save_cache_artifacts() -> None:
    """The compiler's cache, serialised (torch.compiler.save_cache_artifacts): None, as
    PyTorch returns when nothing was compiled."""
    return None


def load_cache_artifacts(serialized_artifacts: bytes) -> None:
    """Fills the compiler's caches from save_cache_artifacts' bytes
    (torch.compiler.load_cache_artifacts): nothing to fill; None."""
    return None


def load_compiled_function(
    file: Any, *, f_globals: Any = None, external_data: Any = None
) -> Callable[..., Any]:
    """Loads a function that torch.compile saved precompiled (torch.compiler.
    load_compiled_function): ember cannot, as it never saves one."""
    raise NotImplementedError(
        "ember.compiler.load_compiled_function: ember has no compiler and no precompiled "
        "functions to load; define the function in Python (ember.compile returns it unchanged)"
    )


_guard_collectives = [False]


def set_enable_guard_collectives(enabled: bool) -> bool:
    """Sets whether ranks agree on recompiles during guard evaluation
    (torch.compiler.set_enable_guard_collectives); kept, unused. Returns the previous value."""
    previous, _guard_collectives[0] = _guard_collectives[0], bool(enabled)
    return previous


# "inductor" is torch.compile's default backend; ember keeps the name it is given
_DEFAULT_BACKEND = "inductor"
_backend: list[Any] = [_DEFAULT_BACKEND]

# the one backend ember has is running eagerly, tagged "debug" as PyTorch tags its "eager"
_BACKENDS = {"eager": ("debug",)}


def list_backends(exclude_tags: tuple[str, ...] | None = ("debug", "experimental")) -> list[str]:
    """The names of the compiler backends, without those tagged with exclude_tags
    (torch.compiler.list_backends). ember's one backend is "eager", tagged "debug" as in
    PyTorch, so the default listing is empty."""
    excluded = set(exclude_tags or ())
    return sorted(name for name, tags in _BACKENDS.items() if not excluded.intersection(tags))


def set_default_backend(backend: str | Callable[..., Any] | None) -> None:
    """Sets the backend torch.compile uses when given none (torch.compiler.set_default_backend);
    None restores "inductor". Kept, so get_default_backend returns it; ember.compile uses none."""
    _backend[0] = _DEFAULT_BACKEND if backend is None else backend


def get_default_backend() -> str | Callable[..., Any]:
    """The backend set by set_default_backend, "inductor" initially
    (torch.compiler.get_default_backend)."""
    return _backend[0]


_stance = ["default"]


class set_stance(contextlib.ContextDecorator):  # noqa: N801 (torch's name)
    """Sets how torch.compile behaves ("default", "force_eager", "eager_on_recompile",
    "fail_on_recompile", ...) (torch.compiler.set_stance): at once when called, for a
    `with` block, or for each call of a decorated function, restoring the previous stance
    after the block or call. ember runs eagerly whatever the stance; it is only kept."""

    def __init__(
        self,
        stance: str = "default",
        *,
        skip_guard_eval_unsafe: bool = False,
        force_backend: str | Callable[..., Any] | None = None,
    ) -> None:
        if force_backend is not None and stance != "default":
            raise RuntimeError("non-default stance cannot have force_backend set")
        self.stance = stance
        self.prev = _stance[0]
        _stance[0] = stance

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        _stance[0] = self.prev

    def __call__(self, fn: _F) -> _F:  # type: ignore[override]
        _stance[0] = self.prev  # decorating does not change the stance, only each call does

        @functools.wraps(fn)
        def in_stance(*args: Any, **kwargs: Any) -> Any:
            previous, _stance[0] = _stance[0], self.stance
            try:
                return fn(*args, **kwargs)
            finally:
                _stance[0] = previous

        return in_stance  # type: ignore[return-value]


# ---- guard filters: PyTorch's answers for the entries given -----------------------------------


def skip_all_guards_unsafe(guard_entries: list[Any]) -> list[bool]:
    """A guard filter keeping no guard (torch.compiler.skip_all_guards_unsafe)."""
    return [False for _ in guard_entries]


def skip_guard_on_globals_unsafe(guard_entries: list[Any]) -> list[bool]:
    """A guard filter dropping the guards on globals (torch.compiler.skip_guard_on_globals_unsafe)."""
    return [not entry.is_global for entry in guard_entries]


def skip_guard_on_all_nn_modules_unsafe(guard_entries: list[Any]) -> list[bool]:
    """A guard filter dropping the guards on modules' attributes
    (torch.compiler.skip_guard_on_all_nn_modules_unsafe)."""
    return [not entry.orig_guard.source.is_unspecialized_nn_module() for entry in guard_entries]


def skip_guard_on_inbuilt_nn_modules_unsafe(guard_entries: list[Any]) -> list[bool]:
    """A guard filter dropping the guards on the attributes of torch's own modules
    (torch.compiler.skip_guard_on_inbuilt_nn_modules_unsafe)."""
    return [not entry.orig_guard.source.is_unspecialized_builtin_nn_module() for entry in guard_entries]


def keep_tensor_guards_unsafe(guard_entries: list[Any], keep_parameters: bool = False) -> list[bool]:
    """A guard filter keeping only the guards on tensors, and on parameters only when
    keep_parameters is set (torch.compiler.keep_tensor_guards_unsafe)."""
    from ember.nn.parameter import Parameter

    return [
        entry.guard_type == "TENSOR_MATCH" and (keep_parameters or not isinstance(entry.value, Parameter))
        for entry in guard_entries
    ]


def keep_portable_guards_unsafe(guard_entries: list[Any]) -> list[bool]:
    """A guard filter keeping the guards that make sense outside Python: the global state
    (grad mode, autocast, ...), the shapes, and the tensors that are not globals
    (torch.compiler.keep_portable_guards_unsafe)."""
    return [
        entry.guard_type in ("GLOBAL_STATE", "SHAPE_ENV")
        or (entry.guard_type == "TENSOR_MATCH" and not entry.is_global)
        for entry in guard_entries
    ]


# ---- torch.compiler.config -------------------------------------------------------------------


class _Config:
    """torch.compiler.config's settings, kept and unused: the names PyTorch 2.13 has, their
    defaults, and its AttributeError for any other name."""

    _DEFAULTS: dict[str, Any] = {
        "job_id": None,
        "pgo_extra_read_key": None,
        "pgo_extra_write_key": None,
        "cache_key_tag": "",
        "force_disable_caches": False,
        "dynamic_sources": "",
        "dynamic_values": "",
        "unbacked_sources": "",
        "force_cudagraph_gc": False,
    }

    def __init__(self) -> None:
        object.__setattr__(self, "_values", dict(self._DEFAULTS))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"ember.compiler.config.{name} does not exist") from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._values:
            raise AttributeError(f"ember.compiler.config.{name} does not exist")
        self._values[name] = value

    def get_config_copy(self) -> dict[str, Any]:
        """The settings as a new dict."""
        return dict(self._values)

    @contextlib.contextmanager
    def patch(self, changes: dict[str, Any] | None = None, **kwargs: Any) -> Iterator[None]:
        """Sets some settings for a `with` block, restoring them after."""
        changes = {**(changes or {}), **kwargs}
        saved = {name: getattr(self, name) for name in changes}
        for name, value in changes.items():
            setattr(self, name, value)
        try:
            yield
        finally:
            self._values.update(saved)


config = _Config()
