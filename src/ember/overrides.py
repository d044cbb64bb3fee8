"""`__torch_function__`: Tensor subclasses that keep their type, classes that stand in for
tensors, and modes that see every call (torch.overrides).

A class takes part in the protocol by having a `__torch_function__` classmethod: when one
of its instances is an argument of an ember function, of a method or operator of a tensor,
or of a tensor property, ember calls `cls.__torch_function__(func, types, args, kwargs)`
instead, and the class decides what happens (it may return NotImplemented). `Tensor` has a
default one: it runs `func` with subclass handling disabled and turns the Tensor results
back into the subclass, so `Sub` instances stay `Sub` through `s * 2`, `s.sum()`,
`F.relu(s)`. Parameters, Buffers and ember's other own subclasses opt out (they stand for
PyTorch's plain tensors). A `TorchFunctionMode` sees every call made while it is entered.

Nothing of this may cost a program that never uses it: ember's functions and Tensor
methods do not test for it. Instead, dispatching wrappers are swapped in on first use
(see docs/design.md, "`__torch_function__` swapped in on first use"):

- the public functions (`ember.*`, `ember.nn.functional.*`, `ember.linalg.*`,
  `ember.special.*`, `ember.fft.*`) are rebound to wrappers when the first class with a
  `__torch_function__` of its own is defined (for good) or a mode is entered (until the
  last one exits);
- a user's Tensor subclass gets wrappers of Tensor's methods, operators and properties in
  its own class dict, so that only its instances pay for them;
- while a mode is entered, Tensor itself gets them too, so that plain tensors' calls reach
  the mode.

A wrapper looks at its arguments (and one level into lists and tuples, as PyTorch does)
for an instance of such a class; finding none and no mode, it calls the original at once.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import re
import threading
import types as _types
from collections.abc import Callable, Iterable
from typing import Any

from ember._tensor import Tensor, _disabled_torch_function_impl
from ember.autograd.variable import is_tensor_like  # torch.autograd's, as in PyTorch

__all__ = [
    "BaseTorchFunctionMode",
    "TorchFunctionMode",
    "enable_reentrant_dispatch",
    "get_default_nowrap_functions",
    "get_ignored_functions",
    "get_overridable_functions",
    "get_testing_overrides",
    "handle_torch_function",
    "has_torch_function",
    "has_torch_function_unary",
    "has_torch_function_variadic",
    "is_tensor_like",
    "is_tensor_method_or_property",
    "resolve_name",
    "wrap_torch_function",
]


class _State(threading.local):
    """What the wrappers consult: the entered modes (innermost last) and whether argument
    handling is on (off inside DisableTorchFunctionSubclass and DisableTorchFunction). One
    per thread, as PyTorch's: a subclass's op that runs its function with subclass handling
    off, or a mode entered, in one thread leaves the other threads' calls alone."""

    def __init__(self) -> None:
        self.modes: list = []
        self.subclasses = True


_state = _State()

# ---- which arguments take part -------------------------------------------------------------


def _overrides(kind: type) -> bool:
    """Whether instances of `kind` have a __torch_function__ to call: plain tensors,
    Parameters and ember's own subclasses have the default or the disabled one, and
    PyTorch's classes have one for PyTorch's functions."""
    if kind is Tensor:
        return False
    handler = getattr(kind, "__torch_function__", _disabled_torch_function_impl)
    return handler is not _disabled_torch_function_impl and not _of_pytorch(kind)


def _of_pytorch(kind: type) -> bool:
    """Whether `kind` is PyTorch's or derives from one of its classes (a torch.Tensor and its
    subclasses, PyTorch's modes): its __torch_function__ serves torch's functions. A
    torch.Tensor handed to an ember function (`ember.from_dlpack(t)`) runs as it did
    without the protocol; its handler would call the function again with only PyTorch's
    own dispatch switched off, over and over."""
    return any(str(getattr(base, "__module__", "")).partition(".")[0] == "torch" for base in kind.__mro__)


def _any_override(values: Iterable) -> bool:
    """Whether one of `values`, or an element of a list or tuple among them, takes part."""
    for value in values:
        kind = type(value)
        if kind is Tensor:
            continue
        if kind is list or kind is tuple:
            for item in value:
                if type(item) is not Tensor and _overrides(type(item)):
                    return True
        elif _overrides(kind):
            return True
    return False


def _overloaded_args(values: Iterable) -> list:
    """One argument of each type that takes part, in PyTorch's order: left to right, except
    that an instance of a subclass goes before one of its base class."""
    found: list = []
    kinds: set = set()
    for value in values:
        items = value if type(value) in (list, tuple) else (value,)
        for item in items:
            kind = type(item)
            if kind in kinds or not _overrides(kind):
                continue
            kinds.add(kind)
            at = next((i for i, other in enumerate(found) if issubclass(kind, type(other))), len(found))
            found.insert(at, item)
    return found


def _flat_arguments(args: tuple, kwargs: dict) -> list:
    return [*args, *kwargs.values()] if kwargs else list(args)


# ---- dispatch --------------------------------------------------------------------------------


def _dispatch(
    func: Any, name: str, args: tuple, kwargs: dict, operator: bool = False, relevant: Iterable | None = None
) -> Any:
    """Call the innermost mode, then each overloading argument's class (among `relevant`,
    by default all the arguments), until one does not return NotImplemented; an operator
    then returns NotImplemented (so that Python raises its "unsupported operand"
    TypeError), any other call raises PyTorch's TypeError."""
    if relevant is None:
        relevant = _flat_arguments(args, kwargs)
    overloaded = _overloaded_args(relevant) if _state.subclasses else []
    kinds = tuple(type(arg) for arg in overloaded)
    modes = _state.modes
    if modes:
        mode = modes.pop()  # a mode's own calls go to the modes outside it, as in PyTorch
        try:
            result = mode.__torch_function__(func, kinds, args, kwargs)
        finally:
            modes.append(mode)
        if result is not NotImplemented:
            return result
    for arg in overloaded:
        result = type(arg).__torch_function__(func, kinds, args, kwargs)
        if result is not NotImplemented:
            return result
    if operator:
        return NotImplemented
    raise TypeError(
        f"no implementation found for '{name}' on types that implement __torch_function__: "
        f"{list(kinds)} (each __torch_function__ returned NotImplemented)"
    )


def _wrap(original: Callable, name: str, public: Callable | None = None, operator: bool = False) -> Callable:
    """A function that calls `original` unless an argument or a mode takes the call; `public`
    (a callable returning the object handed to __torch_function__ as `func`) defaults to the
    wrapper itself. (Named `wrapper`: the errors that name the function a user called,
    such as sparse tensors' in dense code, skip ember's inner functions by such names.)"""
    if name in _MODES_ONLY:
        return _wrap_for_modes(original)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _state.modes or (
            _state.subclasses and (_any_override(args) or (kwargs and _any_override(kwargs.values())))
        ):
            func = wrapper if public is None else public()
            return _dispatch(func, name, args, kwargs, operator)
        return original(*args, **kwargs)

    wrapper._torch_function_original = original  # type: ignore[attr-defined]
    return wrapper


def _wrap_for_modes(original: Callable) -> Callable:
    """A wrapper that only modes see: the functions of _MODES_ONLY. A subclass's instance
    among the arguments is read as a plain tensor (`as_tensor(s, dtype=...)` converts it
    with its methods, which would keep the subclass)."""

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _state.modes:
            return _dispatch(wrapper, "", args, kwargs, relevant=())
        if _state.subclasses and (_any_override(args) or (kwargs and _any_override(kwargs.values()))):
            with DisableTorchFunctionSubclass():
                return original(*args, **kwargs)
        return original(*args, **kwargs)

    wrapper._torch_function_original = original  # type: ignore[attr-defined]
    return wrapper


# The functions that make a tensor from data (numbers, lists, arrays, other tensors): a
# subclass's instance among their arguments is data to read, so the result is a plain
# tensor, as PyTorch's (`torch.tensor(s)`, `torch.arange(s[2])`); modes still see them
_MODES_ONLY = frozenset(
    f"ember.{name}" for name in "tensor as_tensor asarray scalar_tensor arange range full randint".split()
)


# ---- the default Tensor.__torch_function__ -------------------------------------------------


def _tensor_torch_function(
    cls: type, func: Any, types: tuple, args: tuple = (), kwargs: dict | None = None
) -> Any:
    """What `Tensor.__torch_function__` does: run func with subclass handling disabled (so
    that its own calls run as for plain tensors), then make each Tensor result an instance
    of cls (in tuples and lists too), except for the results of `get_default_nowrap_functions`."""
    if not all(issubclass(cls, kind) for kind in types):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        result = func(*args, **(kwargs or {}))
        if func in get_default_nowrap_functions():
            return result
        return _convert(result, cls)


def _convert(result: Any, cls: type) -> Any:
    if isinstance(result, Tensor):
        return result if isinstance(result, cls) else result.as_subclass(cls)
    if isinstance(result, (tuple, list)):
        items = [_convert(item, cls) for item in result]
        if all(a is b for a, b in zip(items, result)):
            return result
        return type(result)(*items) if hasattr(result, "_fields") else type(result)(items)
    return result


# ---- disabling ------------------------------------------------------------------------------


class DisableTorchFunctionSubclass:
    """Inside, arguments' __torch_function__ are not called (modes still are): what
    `Tensor.__torch_function__` runs its function in (torch._C.DisableTorchFunctionSubclass)."""

    def __enter__(self) -> DisableTorchFunctionSubclass:
        self._before = _state.subclasses
        _state.subclasses = False
        return self

    def __exit__(self, *exc: Any) -> None:
        _state.subclasses = self._before


class DisableTorchFunction:
    """Inside, neither arguments' __torch_function__ nor modes are called
    (torch._C.DisableTorchFunction)."""

    def __enter__(self) -> DisableTorchFunction:
        self._before = _state.subclasses, _state.modes
        _state.subclasses, _state.modes = False, []
        return self

    def __exit__(self, *exc: Any) -> None:
        _state.subclasses, _state.modes = self._before


def _is_torch_function_enabled() -> bool:
    return _state.subclasses


# ---- modes -----------------------------------------------------------------------------------


class TorchFunctionMode:
    """Sees every ember function, Tensor method, operator and property called while it is
    entered (`with mode:`), as `__torch_function__(func, types, args=(), kwargs=None)`
    (torch.overrides.TorchFunctionMode). Modes nest: the innermost is called first, and the
    calls its own __torch_function__ makes go to the ones outside it."""

    _is_torch_function_mode = True  # the class-statement watch leaves modes to __enter__

    def __torch_function__(
        self, func: Any, types: tuple, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        raise NotImplementedError

    def __enter__(self) -> TorchFunctionMode:
        with _Swapped.lock:  # the wrappers on Tensor serve every thread's modes
            if not _Swapped.modes_entered:
                _swap_in_for_modes()
            _Swapped.modes_entered += 1
        _state.modes.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        if not _state.modes or _state.modes[-1] is not self:
            raise RuntimeError("a TorchFunctionMode exited out of order: exit modes innermost first")
        _state.modes.pop()
        with _Swapped.lock:
            _Swapped.modes_entered -= 1
            if not _Swapped.modes_entered:
                _swap_out_after_modes()


class BaseTorchFunctionMode(TorchFunctionMode):
    """A mode that runs each call as it is (torch.overrides.BaseTorchFunctionMode): a base
    for modes that look at calls without changing them."""

    def __torch_function__(
        self, func: Any, types: tuple, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def enable_reentrant_dispatch() -> Any:
    """PyTorch's re-entry into its C++ dispatcher from Python; ember has no such dispatcher,
    so this does nothing (torch.overrides.enable_reentrant_dispatch)."""
    yield


# ---- what is wrapped --------------------------------------------------------------------------

# Functions that take no tensors and set or read global state: PyTorch does not dispatch them
_IGNORED = re.compile(
    r"(set|get|is|are|use|clear)_\w*(enabled|dtype|device|mode|precision|threads|state|"
    r"printoptions|type|always|denormal|algorithms|autocast_cache)$|autocast_\w+|"
    r"(manual_seed|seed|initial_seed|is_tensor|is_storage|typename|compile|vmap|cond|"
    r"broadcast_shapes|promote_types|can_cast|result_type)$"
)
# Tensor methods that do not dispatch: as_subclass, which converts results, the sparse
# conversions (their results are ember's sparse tensors), and those removed from PyTorch
_IGNORED_METHODS = frozenset(
    "as_subclass to_sparse_coo to_sparse_csr to_sparse_csc solve lstsq symeig eig reinforce".split()
)
# the dunders that dispatch; the others (__init__, __hash__, pickling, NumPy's and DLPack's
# protocols, __iter__) run as they are
_DUNDERS = frozenset(
    """repr format getitem setitem len bool float int index complex neg pos abs invert eq ne lt le gt ge
    add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow rpow matmul
    rmatmul and rand or ror xor rxor lshift rshift rlshift rrshift iadd isub imul itruediv
    ipow imod ifloordiv iand ior ixor ilshift irshift""".split()
)
# the operators with two operands: when no __torch_function__ takes one, it returns
# NotImplemented, and Python tries the other operand or raises its own TypeError
_BINARY = _DUNDERS - frozenset(
    "repr format getitem setitem len bool float int index complex neg pos abs invert".split()
)
# the method PyTorch names as `func` for an operator (x * 2 is Tensor.mul(x, 2)); the
# others are named by themselves (x // 2 is Tensor.__floordiv__)
_OPERATOR_FUNCS = {
    "__add__": "add",
    "__radd__": "add",
    "__sub__": "sub",
    "__mul__": "mul",
    "__rmul__": "mul",
    "__truediv__": "div",
    "__matmul__": "matmul",
    "__pow__": "pow",
    "__mod__": "remainder",
    "__neg__": "neg",
    "__pos__": "positive",
    "__abs__": "abs",
    "__lt__": "lt",
    "__le__": "le",
    "__gt__": "gt",
    "__ge__": "ge",
    "__ne__": "ne",
    "__iadd__": "add_",
    "__isub__": "sub_",
    "__imul__": "mul_",
    "__itruediv__": "div_",
    "__ipow__": "pow_",
    "__imod__": "remainder_",
    "__ifloordiv__": "floor_divide_",
}
# results that Tensor.__torch_function__ leaves as they are (a subclass's .grad is a plain tensor)
_NOWRAP_PROPERTIES = ("grad",)


def _namespaces() -> list:
    import ember
    import ember.autograd
    import ember.fft
    import ember.linalg
    import ember.nn.functional
    import ember.special

    return [ember, ember.nn.functional, ember.linalg, ember.special, ember.fft, ember.autograd]


# of ember.autograd, only the two functions that PyTorch's dispatch (its grad's results are
# then of the subclass, second derivatives included)
_AUTOGRAD_FUNCTIONS = ("grad", "backward")


def _public_functions(module: Any) -> dict[str, Callable]:
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, _types.FunctionType)
        and not name.startswith("_")
        and (module.__name__ != "ember.autograd" or name in _AUTOGRAD_FUNCTIONS)
        and value.__module__.startswith("ember")
        and not (module.__name__ == "ember" and _IGNORED.match(name))
        and not hasattr(value, "_torch_function_original")
    }


class _Swapped:
    """The wrappers made so far (made once, so that a function's wrapper stays the same
    object) and where they are installed now."""

    functions: dict | None = None  # (module, name) -> (original, wrapper)
    methods: dict | None = None  # name -> wrapper, or property with a wrapped getter
    functions_in = False
    functions_for_good = False  # a class with __torch_function__ exists: never swapped out
    methods_in_tensor = False
    modes_entered = 0  # in all threads: Tensor has the wrappers while one is
    lock = threading.Lock()


def _function_wrappers() -> dict:
    if _Swapped.functions is None:
        made: dict = {}  # one wrapper per original, so that ember.exp is Tensor.exp's twin everywhere
        table = {}
        for module in _namespaces():
            for name, original in _public_functions(module).items():
                if original not in made:
                    made[original] = _wrap(original, f"{module.__name__}.{name}")
                table[module, name] = (original, made[original])
        _Swapped.functions = table
    return _Swapped.functions


def _functions_on() -> None:
    if not _Swapped.functions_in:
        for (module, name), (_, wrapper) in _function_wrappers().items():
            setattr(module, name, wrapper)
        _Swapped.functions_in = True


def _functions_off() -> None:
    if _Swapped.functions_in:
        for (module, name), (original, _) in _function_wrappers().items():
            setattr(module, name, original)
        _Swapped.functions_in = False


def _tensor_attribute(name: str) -> Callable:
    """What `Tensor.<name>` reads now: the object handed to __torch_function__ as func."""
    return lambda: getattr(Tensor, name)


def _method_wrappers() -> dict:
    """Wrappers of Tensor's own methods, operators and properties, by name (made from the
    originals, whatever Tensor holds when this first runs)."""
    if _Swapped.methods is None:
        table: dict = {}
        for name, value in list(vars(Tensor).items()):
            dunder = name.startswith("__") and name.endswith("__")
            if dunder and name[2:-2] not in _DUNDERS:
                continue
            if (name.startswith("_") and not dunder) or name in _IGNORED_METHODS:
                continue
            label = f"ember.Tensor.{name}"
            if isinstance(value, _types.FunctionType):
                func = _tensor_attribute(_OPERATOR_FUNCS.get(name, name))
                wrapper = _wrap(value, label, func, operator=dunder and name[2:-2] in _BINARY)
                wrapper.__name__, wrapper.__qualname__ = name, f"Tensor.{name}"  # __getitem__, not getitem
                table[name] = wrapper
            elif isinstance(value, property) and value.fget is not None:
                table[name] = _wrapped_property(value, name)
        _Swapped.methods = table
    return _Swapped.methods


def _wrapped_property(prop: property, name: str) -> property:
    """prop with a dispatching getter and setter, whose func is `Tensor.<name>.__get__` or
    `.__set__` (as PyTorch's `Tensor.shape.__get__`)."""
    getter = _wrap(prop.fget, f"ember.Tensor.{name}.__get__", lambda: vars(Tensor)[name].__get__)
    setter = prop.fset
    if setter is not None:
        setter = _wrap(setter, f"ember.Tensor.{name}.__set__", lambda: vars(Tensor)[name].__set__)
    return property(getter, setter, prop.fdel, prop.__doc__)


def _swap_in_for_modes() -> None:
    _functions_on()
    if not _Swapped.methods_in_tensor:
        originals = {name: vars(Tensor)[name] for name in _method_wrappers()}
        _Swapped.originals = originals  # type: ignore[attr-defined]
        for name, wrapper in _method_wrappers().items():
            setattr(Tensor, name, wrapper)
        _Swapped.methods_in_tensor = True


def _swap_out_after_modes() -> None:
    if _Swapped.methods_in_tensor:
        for name, original in _Swapped.originals.items():  # type: ignore[attr-defined]
            setattr(Tensor, name, original)
        _Swapped.methods_in_tensor = False
    if not _Swapped.functions_for_good:
        _functions_off()


def _class_needs_dispatch() -> None:
    """A class with a __torch_function__ of its own now exists: the public functions
    dispatch from now on."""
    _Swapped.functions_for_good = True
    _functions_on()
    _stop_watching_class_statements()


def _watch_subclass(cls: type) -> None:
    """Called by Tensor.__init_subclass__ for a user's subclass: give it dispatching methods,
    operators and properties (those it does not define itself), and the functions."""
    _class_needs_dispatch()
    for name, wrapper in _method_wrappers().items():
        if any(name in vars(base) for base in cls.__mro__[: cls.__mro__.index(Tensor)]):
            continue  # its own (or a user base's, wrappers included)
        setattr(cls, name, wrapper)


# ---- non-Tensor classes: watched at their class statement -------------------------------------

_build_class = builtins.__build_class__


def _watching_build_class(func: Any, name: str, *bases: Any, **kwargs: Any) -> Any:
    """builtins.__build_class__ until a class needs dispatch: a class statement that defines
    __torch_function__ outside ember (the docs' ScalarTensor, not a Tensor subclass, which
    __init_subclass__ sees) swaps the function wrappers in. Classes made by type() directly
    are not seen: call ember.overrides.has_torch_function once, or define them after one."""
    cls = _build_class(func, name, *bases, **kwargs)
    if (
        isinstance(cls, type)
        and "__torch_function__" in vars(cls)
        and not getattr(cls, "_is_torch_function_mode", False)
        and str(getattr(cls, "__module__", "")).partition(".")[0] != "ember"
        and _overrides(cls)
    ):
        _class_needs_dispatch()
    return cls


def watch_class_statements() -> None:
    """Install the watch (ember/__init__.py does, once)."""
    if builtins.__build_class__ is _build_class:
        builtins.__build_class__ = _watching_build_class


def _stop_watching_class_statements() -> None:
    if builtins.__build_class__ is _watching_build_class:
        builtins.__build_class__ = _build_class


def _installed() -> bool:
    """Whether any wrapper is in place (tests check that `import ember` installs none)."""
    return _Swapped.functions_in or _Swapped.methods_in_tensor


def _swap_out_for_tests() -> None:
    """Back to what `import ember` leaves: the functions' originals, Tensor's own methods,
    no mode, the class-statement watch. tests/conftest.py calls it before each test, so
    that every test runs as a program that never defined such a class does, whatever a
    test or module defined before it. (The classes defined before keep the wrappers in
    their own dicts: their methods and operators still dispatch.)"""
    _state.modes.clear()
    _state.subclasses = True
    _Swapped.modes_entered = 0
    _Swapped.functions_for_good = False
    _swap_out_after_modes()
    watch_class_statements()


# ---- the public helpers of torch.overrides ------------------------------------------------------


def has_torch_function(relevant_args: Iterable) -> bool:
    """Whether a call with these arguments goes to a __torch_function__: one of them (or an
    element of a list or tuple among them) overrides it, or a mode is entered."""
    _class_needs_dispatch()  # a user of the protocol: the functions dispatch from now on
    return bool(_state.modes) or (_state.subclasses and _any_override(relevant_args))


def has_torch_function_unary(arg: Any) -> bool:
    return has_torch_function((arg,))


def has_torch_function_variadic(*args: Any) -> bool:
    return has_torch_function(args)


def handle_torch_function(public_api: Callable, relevant_args: Iterable, *args: Any, **kwargs: Any) -> Any:
    """Call the modes' and the relevant arguments' __torch_function__ for `public_api`, as
    ember's own functions do (torch.overrides.handle_torch_function): for a user's function
    that begins `if has_torch_function(args): return handle_torch_function(f, args, ...)`."""
    return _dispatch(public_api, str(resolve_name(public_api)), args, kwargs, relevant=list(relevant_args))


def wrap_torch_function(dispatcher: Callable) -> Callable:
    """A decorator that makes a function dispatch on the arguments `dispatcher` returns
    (torch.overrides.wrap_torch_function)."""

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            relevant = dispatcher(*args, **kwargs)
            if has_torch_function(relevant):
                return handle_torch_function(wrapped, relevant, *args, **kwargs)
            return func(*args, **kwargs)

        return wrapped

    return decorator


def is_tensor_method_or_property(func: Callable) -> bool:
    """Whether func is a Tensor method or a property's getter (torch.overrides.is_tensor_method_or_property)."""
    if getattr(func, "__name__", None) == "__get__":
        return True
    methods = _method_wrappers()
    original = getattr(func, "_torch_function_original", func)
    return any(
        func is wrapper or original is getattr(wrapper, "_torch_function_original", None)
        for wrapper in methods.values()
        if not isinstance(wrapper, property)
    )


def get_default_nowrap_functions() -> set:
    """The getters whose results Tensor.__torch_function__ returns unconverted."""
    return {vars(Tensor)[name].__get__ for name in _NOWRAP_PROPERTIES}


def get_ignored_functions() -> set:
    """The public functions and Tensor methods that never dispatch (torch.overrides.get_ignored_functions)."""
    import ember

    ignored = {
        value
        for name, value in vars(ember).items()
        if isinstance(value, _types.FunctionType) and _IGNORED.match(name)
    }
    return ignored | {vars(Tensor)[name] for name in _IGNORED_METHODS if name in vars(Tensor)}


def get_overridable_functions() -> dict:
    """Namespace -> the functions in it that dispatch (torch.overrides.get_overridable_functions);
    the functions are swapped in for good, so that the objects listed are the ones called."""
    _class_needs_dispatch()
    table: dict = {}
    for module, name in _function_wrappers():
        table.setdefault(module, []).append(getattr(module, name))
    table[Tensor] = [
        getattr(Tensor, name) for name in _method_wrappers() if not isinstance(vars(Tensor)[name], property)
    ]
    return table


def get_testing_overrides() -> dict:
    """Function -> a dummy that takes any arguments and returns -1, for each overridable
    function (torch.overrides.get_testing_overrides; PyTorch's dummies have each
    function's own signature)."""
    return {
        func: lambda *args, **kwargs: -1 for funcs in get_overridable_functions().values() for func in funcs
    }


def resolve_name(f: Callable) -> str | None:
    """The public name of f, such as 'ember.add' (torch.overrides.resolve_name)."""
    module, name = getattr(f, "__module__", None), getattr(f, "__qualname__", None)
    return f"{module}.{name}" if module and name else None
