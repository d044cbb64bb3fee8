"""Users' own operators, as torch.library: `custom_op` turns a Python function into a named
operator (`mylib::crop`) with a schema read from its type hints, `register_autograd` gives
it a backward, `register_fake` a shape-and-dtype rule, `register_kernel` another
implementation, and `opcheck` tests the registrations.

In PyTorch an operator made this way enters the dispatcher, so that torch.compile, export
and FakeTensor tracing can treat it as one opaque node. ember has no dispatcher and no
compiler, so an operator here is a callable object that checks its arguments against the
schema, runs the kernel, checks that no output aliases an input, counts the declared
mutations in the version counters and, when a gradient is needed, records one node whose
backward is the registered one. The fake implementation has no tracer to serve: it is
kept for `opcheck`, which runs it on the real inputs and compares what it describes with
what the kernel returned. docs/design.md says why, docs/differences.md what differs.

    @ember.library.custom_op("mylib::scale", mutates_args=())
    def scale(x: ember.Tensor, k: float) -> ember.Tensor:
        return ember.from_numpy(x.numpy() * k)

    scale.register_autograd(lambda ctx, g: (g * ctx.k, None),
                            setup_context=lambda ctx, inputs, output: setattr(ctx, "k", inputs[1]))
"""

from __future__ import annotations

import collections.abc
import contextlib
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ember import dtypes as _dtypes
from ember._tensor import Tensor, device
from ember.autograd.function import Function
from ember.autograd.grad_mode import _state as _grad_state

__all__ = [
    "CustomOpDef",
    "OpCheckError",
    "custom_op",
    "infer_schema",
    "opcheck",
    "register_autograd",
    "register_fake",
    "register_kernel",
]

# ---- schemas: the type hints of the function, in the dispatcher's notation ----------------

_NONE = type(None)
# The scalar kinds a parameter can have, and what an argument of each may be.
_SCALARS: dict[Any, str] = {int: "SymInt", float: "float", bool: "bool", str: "str"}
_ACCEPTS: dict[str, tuple] = {
    "Tensor": (Tensor,),
    "SymInt": (int, np.integer),
    "int": (int, np.integer),  # as a schema given by hand writes it
    "float": (int, float, np.integer, np.floating, Tensor),
    "bool": (bool, int, np.bool_, np.integer),
    "str": (str,),
    "Scalar": (int, float, bool, complex, np.number, np.bool_),
    "ScalarType": (_dtypes.dtype,),
    "Device": (device, str, int),
}


def _union_args(hint: Any) -> tuple | None:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return None


def _is_sequence(hint: Any) -> bool:
    return typing.get_origin(hint) in (list, collections.abc.Sequence)


def _base_type(hint: Any) -> str | None:
    """The schema name of a hint that is not optional: None when the hint is not allowed."""
    if hint is Tensor:
        return "Tensor"
    if hint in _SCALARS:
        return _SCALARS[hint]
    if hint is _dtypes.dtype:
        return "ScalarType"
    if hint is device:
        return "Device"
    parts = _union_args(hint)
    if parts is not None and set(parts) == {int, float, bool}:
        return "Scalar"
    if _is_sequence(hint):
        (item,) = typing.get_args(hint) or (None,)
        inner = _union_args(item)
        if inner is not None and _NONE in inner and len(inner) == 2:
            (item,) = [p for p in inner if p is not _NONE]
            return "Tensor?[]" if item is Tensor else None
        name = _base_type(item)
        return None if name is None or name.endswith("]") else f"{name}[]"
    return None


def _param_type(hint: Any) -> str | None:
    parts = _union_args(hint)
    if parts is not None and _NONE in parts:
        rest = tuple(p for p in parts if p is not _NONE)
        if len(rest) == 1:
            name = _base_type(rest[0])
        else:
            name = "Scalar" if set(rest) == {int, float, bool} else None
        return None if name is None else f"{name}?"
    return _base_type(hint)


def _return_type(hint: Any) -> str | None:
    if hint is Tensor or _is_sequence(hint) and typing.get_args(hint) == (Tensor,):
        return "Tensor" if hint is Tensor else "Tensor[]"
    if hint in (int, float, bool):
        return _SCALARS[hint]
    parts = _union_args(hint)
    if parts is not None and set(parts) == {int, float, bool}:
        return "Scalar"
    return None


def _default(name: str, value: Any, where: str) -> str:
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return f'"{value}"'
    raise ValueError(
        f"{where}Parameter {name} has an unsupported default value type {type(value)}: custom ops take "
        "None, bool, int, float or str defaults"
    )


def _hints(fn: Callable) -> dict:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # a hint naming something out of the function's globals: take it as written
        return {k: v for k, v in getattr(fn, "__annotations__", {}).items() if not isinstance(v, str)}


def infer_schema(
    prototype_function: Callable,
    /,
    *,
    mutates_args: str | Iterable[str],
    op_name: str | None = None,
    tags: Any = None,
) -> str:
    """The operator schema of a function, read from its type hints (torch.library.infer_schema):
    `(Tensor x, float k=2.0) -> Tensor`, with `Tensor(a1!)` for a parameter it mutates.

    Parameters must be typed as Tensor, int, float, bool, str, dtype, device, a Sequence or
    list of one of them, or Optional of those; returns as Tensor, a list of Tensors, int,
    float, bool, None or a tuple of them. Raises ValueError otherwise."""
    signature = inspect.signature(prototype_function)
    where = "infer_schema(func): "
    suffix = f" Got func with signature {signature})"
    hints = _hints(prototype_function)
    if isinstance(mutates_args, str) and mutates_args != "unknown":
        raise ValueError(
            "mutates_args must either be a sequence of the names of the arguments that are mutated "
            "or the string 'unknown'. "
        )
    mutated = set() if mutates_args == "unknown" else set(mutates_args)
    params = []
    seen_keyword_only = False
    for index, (name, p) in enumerate(signature.parameters.items()):
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            raise ValueError(f"{where}We do not support positional-only args, varargs, or varkwargs.{suffix}")
        if name not in hints:
            raise ValueError(f"{where}Parameter {name} must have a type annotation.{suffix}")
        kind = _param_type(hints[name])
        if kind is None:
            raise ValueError(
                f"{where}Parameter {name} has unsupported type {hints[name]}: use Tensor, int, float, "
                f"bool, str, dtype or device, a Sequence of one of them, or Optional of those.{suffix}"
            )
        text = kind
        if mutates_args == "unknown" and kind.startswith("Tensor") or name in mutated:
            if not kind.startswith("Tensor"):
                raise ValueError(
                    f"{where}Parameter {name} is in mutable_args but only Tensors or collections of "
                    f"Tensors can be mutated{suffix}"
                )
            text = f"Tensor(a{index}!){kind[len('Tensor') :]}"
        if p.kind is p.KEYWORD_ONLY and not seen_keyword_only:
            params.append("*")
            seen_keyword_only = True
        text = f"{text} {name}"
        if p.default is not p.empty:
            text += "=" + _default(name, p.default, where)
        params.append(text)
    unknown = mutated - set(signature.parameters)
    if unknown:
        raise ValueError(
            f"{where}{unknown} in mutates_args were not found in the custom op's signature. "
            "mutates_args should contain the names of all args that the custom op mutates, or "
            f"just the string 'unknown' if you don't know.{suffix}"
        )
    if "return" not in hints:
        raise ValueError(f"{where}No return type annotation was provided. Please add one.{suffix}")
    result = hints["return"]
    if result is None or result is _NONE:
        returns = "()"
    else:
        items = typing.get_args(result) if typing.get_origin(result) is tuple else None
        names = [_return_type(h) for h in (items if items is not None else (result,))]
        if None in names:
            raise ValueError(
                f"{where}Return has unsupported type {result}: use Tensor, a list of Tensors, int, "
                f"float, bool, None, or a tuple of them.{suffix}"
            )
        returns = f"({', '.join(names)})" if items is not None else names[0]
    return f"({', '.join(params)}) -> {returns}"


# ---- the operator ---------------------------------------------------------------------------

_OPS: dict[str, CustomOpDef] = {}


class _Metadata:
    """The last argument of the node of a custom op: how the flat tensor inputs go back into
    the op's arguments (lists of tensors are spread so that each gets its gradient), and the
    keyword-only arguments. It is not a Tensor, so it never gets a gradient."""

    __slots__ = ("layout", "keyword_only")

    def __init__(self, layout: tuple, keyword_only: dict) -> None:
        self.layout, self.keyword_only = layout, keyword_only


def _flatten(args: tuple, spread: tuple) -> tuple[list, tuple]:
    """The arguments with each list of tensors (`spread[i]`: its schema type is Tensor[] or
    Tensor?[]) spread out, and the layout that `_unflatten` needs to gather them again."""
    flat, layout = [], []
    for a, is_list in zip(args, spread):
        if is_list and a is not None:
            flat.extend(a)
            layout.append(len(a))
        else:
            flat.append(a)
            layout.append(None)
    return flat, tuple(layout)


def _unflatten(flat: Sequence, layout: tuple) -> tuple:
    args, i = [], 0
    for n in layout:
        if n is None:
            args.append(flat[i])
            i += 1
        else:
            args.append(list(flat[i : i + n]))
            i += n
    return tuple(args)


def _tensors(value: Any) -> list:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for t in value if isinstance(t, Tensor)]
    return []


class CustomOpDef:
    """An operator made by `custom_op` (torch.library.CustomOpDef): call it like the function
    it wraps; register its backward, fake and kernels with the methods below."""

    def __init__(self, namespace: str, name: str, schema: str, fn: Callable, device_types: Any) -> None:
        self._namespace, self._name = namespace, name
        self._qualname = f"{namespace}::{name}"
        self._schema = schema
        self._init_fn = fn
        self._signature = inspect.signature(fn)
        self._kinds, self._mutated = _schema_kinds(schema)  # the mutated: the schema's Tensor(a!)
        self._positional = [n for n, p in self._signature.parameters.items() if p.kind is not p.KEYWORD_ONLY]
        self._spread = tuple(_is_tensor_list(self._kinds.get(n)) for n in self._positional)
        self._device_types = None if device_types is None else _device_names(device_types)
        self._kernels: dict[str, Callable] = {}
        self._disabled: set[str] = set()
        self._fake: Callable | None = None
        self._backward: Callable | None = None
        self._setup_context: Callable | None = None
        self._node_class = _node_class(self)

    def __repr__(self) -> str:
        return f"<CustomOpDef({self._qualname})>"

    @property
    def _declaration(self) -> str:
        return f"{self._qualname}{self._schema}"

    # ---- registrations ----

    def register_autograd(self, backward: Callable, /, *, setup_context: Callable | None = None) -> None:
        """Give the op a gradient: `setup_context(ctx, inputs, output)` runs after the op
        (inputs are its positional arguments, defaults filled in) and saves what
        `backward(ctx, *grads)` needs; backward returns one gradient per positional argument
        (None for those that are not Tensors; a list for a list of Tensors)."""
        if not callable(backward) or setup_context is not None and not callable(setup_context):
            raise TypeError(
                f"{self._qualname}.register_autograd: backward and setup_context must be callables"
            )
        if self._mutated or not self._differentiable:  # PyTorch's "functional" schema
            raise RuntimeError(
                f"Cannot register autograd formula for non-functional operator {self!r} with schema "
                f"{self._declaration}. Please create a functional operator and register an autograd "
                "formula for that."
            )
        self._backward, self._setup_context = backward, setup_context

    def register_fake(self, fn: Callable, /) -> Callable:
        """Register the op's fake implementation: a function of the same arguments that
        returns tensors of the shapes and dtypes the op would return, without computing them
        (`x.new_empty(...)`). ember has no tracer: `opcheck` is what runs it."""
        self._fake = fn
        return fn

    def register_kernel(self, device_types: str | Sequence[str], fn: Callable | None = None, /) -> Callable:
        """Another implementation of the op for the given device types ("cpu" is the one
        ember runs); usable as a decorator."""

        def register(fn: Callable) -> Callable:
            for name in _device_names(device_types):
                self._kernels[name] = fn
            return fn

        return register if fn is None else register(fn)

    @contextlib.contextmanager
    def set_kernel_enabled(self, device_type: str, enabled: bool = True) -> Iterator[None]:
        """Inside the block, the kernel registered for `device_type` is (or is not) used; when
        it is not, the function given to custom_op runs."""
        was = device_type not in self._disabled
        (self._disabled.discard if enabled else self._disabled.add)(device_type)
        try:
            yield
        finally:
            (self._disabled.discard if was else self._disabled.add)(device_type)

    # ---- calling ----

    def _kernel(self) -> Callable:
        if "cpu" in self._kernels and "cpu" not in self._disabled:
            return self._kernels["cpu"]
        if self._device_types is None or "cpu" in self._device_types:
            return self._init_fn
        raise NotImplementedError(
            f"Could not run '{self._qualname}' with arguments from the 'CPU' backend: it was defined "
            f"for device_types {sorted(self._device_types)} only. Register a CPU implementation with "
            f"{self._name}.register_kernel('cpu')"
        )

    def _bind(self, args: tuple, kwargs: dict) -> inspect.BoundArguments:
        parameters = self._signature.parameters
        if len(args) + len(kwargs) > len(parameters) or set(kwargs) - set(parameters):
            raise RuntimeError(
                f"{self._qualname}() expected at most {len(parameters)} argument(s) but received "
                f"{len(args) + len(kwargs)} argument(s). Declaration: {self._declaration}"
            )
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError:
            missing = next(
                n for n in parameters if n not in self._signature.bind_partial(*args, **kwargs).arguments
            )
            raise RuntimeError(
                f"{self._qualname}() is missing value for argument '{missing}'. Declaration: {self._declaration}"
            ) from None
        bound.apply_defaults()
        for position, (name, value) in enumerate(bound.arguments.items()):
            kind = self._kinds.get(name)
            if not _accepts(kind, value):
                raise RuntimeError(
                    f"{self._qualname}() Expected a value of type '{kind.replace('SymInt', 'int')}' for argument "
                    f"'{name}' but instead found type '{type(value).__name__}'.\nPosition: {position}\n"
                    f"Value: {value!r}\nDeclaration: {self._declaration}"
                )
            bound.arguments[name] = _convert(kind, value)
        return bound

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound = self._bind(args, kwargs)
        positional = tuple(bound.arguments[n] for n in self._positional)
        keyword_only = {n: v for n, v in bound.arguments.items() if n not in self._positional}
        flat, layout = _flatten(positional, self._spread)
        if (
            self._differentiable
            and _grad_state[0]
            and any(isinstance(t, Tensor) and t._requires_grad for t in flat)
        ):
            out = self._node_class.apply(*flat, _Metadata(layout, keyword_only))
            return list(out) if self._returns_list else out
        return self._run(positional, keyword_only)

    @property
    def _returns_list(self) -> bool:
        return self._schema.endswith("-> Tensor[]")

    @property
    def _differentiable(self) -> bool:
        return not self._schema.endswith("-> ()")  # an op returning nothing has no node

    def _check_returns(self, out: Any) -> None:
        """The kernel returned what the schema says (PyTorch refuses anything else): a
        Tensor for `Tensor`, a list of them for `Tensor[]`, None for `()`, a tuple for `(...)`."""
        returns = self._schema[self._schema.index(") ->") + 5 :]
        if returns.startswith("("):
            kinds = [k for k in returns[1:-1].split(", ") if k]
            ok = (
                out is None
                if not kinds
                else isinstance(out, tuple) and len(out) == len(kinds) and all(map(_accepts, kinds, out))
            )
        else:
            ok = _accepts(returns, out) and (returns != "float" or not isinstance(out, Tensor))
        if not ok:
            raise RuntimeError(
                f"{self._qualname}: the function returned a {type(out).__name__}, which does not "
                f"match the schema's returns {returns!r}. Declaration: {self._declaration}"
            )

    def _run(self, positional: tuple, keyword_only: dict) -> Any:
        """Run the kernel with grad mode off (as PyTorch runs it below autograd: its tensors
        still say whether they require grad, and `x.numpy()` works), check its outputs, and
        count the declared mutations."""
        with _no_grad():
            out = self._kernel()(*positional, **keyword_only)
        self._check_returns(out)
        inputs = [t for a in (*positional, *keyword_only.values()) for t in _tensors(a)]
        outputs = [t for o in (out if isinstance(out, (tuple, list)) else (out,)) for t in _tensors(o)]
        for i, o in enumerate(outputs):
            others = inputs + outputs[:i]
            if any(o is t or np.may_share_memory(o._data, t._data) for t in others):
                raise RuntimeError(
                    f"{self._qualname}: an output of a custom op must be a new tensor: it may not be one "
                    "of the op's inputs, nor share memory with an input or with another output (the op "
                    "is one opaque node, which cannot return views). Return a copy instead, as in "
                    "`return x.clone()`."
                )
        values = dict(zip(self._signature.parameters, (*positional, *keyword_only.values())))
        for name in self._mutated:
            for t in _tensors(values[name]):
                t._version_cell[0] += 1
        return out


def _schema_kinds(schema: str) -> tuple[dict[str, str], list[str]]:
    """The type of each parameter of a schema ("Tensor", "SymInt[]", "float?"...), and the
    names of those it marks as mutated (`Tensor(a1!) out`)."""
    kinds, mutated = {}, []
    for item in schema[1 : schema.index(") ->")].split(", "):
        if not item or item == "*":
            continue
        kind, _, name = item.partition(" ")
        name = name.split("=", 1)[0]
        if "!" in kind:
            mutated.append(name)
        kinds[name] = kind.split("(")[0] + kind.split(")")[-1] if "(" in kind else kind
    return kinds, mutated


def _check_schema_given(schema: str, fn: Callable, mutates_args: Any) -> None:
    """A schema given to custom_op must parse, use only types ember checks, name fn's
    parameters, and mark as mutated (`Tensor(a!)`) exactly the arguments in mutates_args, as
    PyTorch requires: otherwise arguments would go unchecked, or be counted as written."""
    if not schema.startswith("(") or ") ->" not in schema:
        raise RuntimeError(
            f"custom_op: the schema {schema!r} is not of the form '(Tensor x, float k) -> Tensor'"
        )
    kinds, mutated = _schema_kinds(schema)
    for name, kind in kinds.items():
        if kind.rstrip("?").removesuffix("[]").rstrip("?") not in _ACCEPTS:
            raise RuntimeError(
                f"custom_op: unknown type {kind!r} of argument {name!r} in the schema {schema!r}"
            )
    parameters = list(inspect.signature(fn).parameters)
    if list(kinds) != parameters:
        raise ValueError(
            f"custom_op: the schema {schema!r} names the arguments {list(kinds)}, but the function takes "
            f"{parameters}"
        )
    if mutates_args != "unknown" and set(mutated) != set(mutates_args):
        raise ValueError(
            f"Attempted to create a custom op with `mutates_args={mutates_args}` and `schema={schema}. The "
            f"schema suggests that the op mutates {set(mutated)} which is different from what was provided "
            "to us in `mutates_args`. Please make these consistent."
        )


def _is_tensor_list(kind: str | None) -> bool:
    return kind is not None and kind.startswith("Tensor") and kind.rstrip("?").endswith("[]")


def _accepts(kind: str | None, value: Any) -> bool:
    if kind is None:  # a parameter the schema does not name
        return True
    if kind.endswith("?"):
        if value is None:
            return True
        kind = kind[:-1]
    if kind.endswith("[]"):
        return isinstance(value, (list, tuple)) and all(_accepts(kind[:-2], v) for v in value)
    return isinstance(value, _ACCEPTS[kind])


# What the kernel receives for a number argument, as PyTorch's dispatcher converts it: a
# float for `float` even when given 2 or a 0-d tensor, an int for `int`, a list for `int[]`.
_CONVERT: dict[str, Callable] = {"float": float, "SymInt": int, "int": int, "bool": bool}


def _convert(kind: str | None, value: Any) -> Any:
    if kind is None or value is None:
        return value
    kind = kind.rstrip("?")
    if kind.endswith("[]"):
        to = _CONVERT.get(kind[:-2])
        return value if to is None else [to(v) for v in value]
    to = _CONVERT.get(kind)
    return value if to is None else to(value)


def _device_names(device_types: str | Sequence[str]) -> set[str]:
    names = [device_types] if isinstance(device_types, str) else list(device_types)
    return {str(n).split(":")[0] for n in names}


def _node_class(op: CustomOpDef) -> type:
    """The Function whose node a call of `op` records when a gradient is needed. Its inputs
    are the flat tensors (and other arguments) followed by a `_Metadata`, so a list of
    tensors gives each its own edge; its backward calls the registered one."""

    def forward(*flat: Any) -> Any:
        metadata = flat[-1]
        out = op._run(_unflatten(flat[:-1], metadata.layout), metadata.keyword_only)
        return tuple(out) if isinstance(out, list) else out

    def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
        if op._setup_context is None:
            return
        metadata = inputs[-1]
        positional = _unflatten(inputs[:-1], metadata.layout)
        output = list(output) if op._returns_list else output
        if "keyword_only_inputs" in inspect.signature(op._setup_context).parameters:
            op._setup_context(ctx, positional, metadata.keyword_only, output)
        else:
            op._setup_context(ctx, positional, output)

    def backward(ctx: Any, *grads: Any) -> tuple:
        name = type(ctx).__name__
        if op._backward is None:
            raise RuntimeError(
                f"Trying to backward through {op._namespace}.{op._name}.default but no autograd formula "
                "was registered. Please use register_autograd to add one."
            )
        result = op._backward(ctx, *([list(grads)] if op._returns_list else grads))
        n = len(op._positional)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != n:
            raise RuntimeError(
                f"function {name} returned an incorrect number of gradients (expected {n}, got {len(result)})"
            )
        layout = ctx._layout
        for i, (g, count) in enumerate(zip(result, layout)):
            if count is not None and not (isinstance(g, list) and len(g) == count) and g is not None:
                raise RuntimeError(
                    f"function {name}: the gradient for argument {i}, a list of {count} tensors, must be a "
                    f"list of {count} gradients (or None), got {type(g).__name__}"
                )
        flat: list = []
        for g, count in zip(result, layout):
            flat.extend(([None] * count if g is None else g) if count is not None else [g])
        return (*flat, None)

    def keep_layout(ctx: Any, inputs: tuple, output: Any) -> None:
        ctx._layout = inputs[-1].layout
        setup_context(ctx, inputs, output)

    def needs_input_grad(ctx: Any) -> tuple:
        """One flag per positional argument of the op, a list of flags for a list of tensors,
        as PyTorch's backward of a custom op reads it: not one per flat input of the node
        and none for its `_Metadata`, which are ember's way of recording the call."""
        return _unflatten(tuple(e is not None for e in ctx._edges[:-1]), ctx._layout)

    name = f"GeneratedBackwardFor_{op._namespace}_{op._name}_default"  # its node: ...Backward
    return type(
        name,
        (Function,),
        {
            "forward": staticmethod(forward),
            "setup_context": staticmethod(keep_layout),
            "backward": staticmethod(backward),
            "needs_input_grad": property(needs_input_grad),
            "__module__": __name__,
            "__qualname__": name,
        },
    )


def custom_op(
    name: str,
    fn: Callable | None = None,
    /,
    *,
    mutates_args: str | Iterable[str],
    device_types: str | Sequence[str] | None = None,
    schema: str | None = None,
    tags: Any = None,
) -> Any:
    """Make `fn` an operator named `name` ("namespace::op_name"), as torch.library.custom_op;
    usable as a decorator. `mutates_args` names the arguments fn writes into (or is
    "unknown"): their version counters count the write, and `opcheck` checks that no other
    is changed. `device_types` limits the devices fn serves. The schema is read from fn's
    type hints (`infer_schema`), or given as `schema` in the same notation, for a function
    without hints."""
    if isinstance(mutates_args, str) and mutates_args != "unknown":
        raise ValueError(
            "mutates_args must either be a sequence of the names of the arguments that are mutated "
            "or the string 'unknown'. "
        )
    namespace, sep, op_name = name.partition("::")
    if not sep or not namespace.isidentifier() or not op_name.isidentifier():
        raise ValueError(f"custom_op: expected a name of the form 'namespace::op_name', got {name!r}")

    def make(fn: Callable) -> CustomOpDef:
        if schema is None:
            op_schema = infer_schema(fn, mutates_args=mutates_args)
        else:  # PyTorch's form, as infer_schema writes it: "(Tensor x, float k=2.0) -> Tensor"
            op_schema = schema.strip()
            _check_schema_given(op_schema, fn, mutates_args)
        op = CustomOpDef(namespace, op_name, op_schema, fn, device_types)
        _OPS[op._qualname] = op  # as in PyTorch, defining a name again replaces the operator
        return op

    return make if fn is None else make(fn)


def _find(op: Any) -> CustomOpDef:
    if isinstance(op, CustomOpDef):
        return op
    if isinstance(op, str) and op in _OPS:
        return _OPS[op]
    raise ValueError(f"{op!r} is not an operator made by ember.library.custom_op")


def register_autograd(
    op: Any, backward: Callable, /, *, setup_context: Callable | None = None, lib: Any = None
) -> None:
    """`op.register_autograd(backward, setup_context=...)`, for an op given by object or name."""
    _find(op).register_autograd(backward, setup_context=setup_context)


def register_fake(op: Any, func: Callable | None = None, /, *, lib: Any = None, _stacklevel: int = 1) -> Any:
    """`op.register_fake(func)`, for an op given by object or name; usable as a decorator."""
    found = _find(op)
    return found.register_fake if func is None else found.register_fake(func)


def register_kernel(
    op: Any, device_types: str | Sequence[str], func: Callable | None = None, /, *, lib: Any = None
) -> Any:
    """`op.register_kernel(device_types, func)`, for an op given by object or name."""
    return _find(op).register_kernel(device_types, func)


# ---- opcheck ---------------------------------------------------------------------------------

_TESTS = (
    "test_schema",
    "test_autograd_registration",
    "test_faketensor",
    "test_aot_dispatch_static",
    "test_aot_dispatch_dynamic",
)


class OpCheckError(Exception):
    """A test of `opcheck` failed."""


def _clone(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    return value


def _outputs(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _check_schema(op: CustomOpDef, args: tuple, kwargs: dict) -> None:
    """No argument is changed but those declared mutated."""
    args, kwargs = _clone(args), _clone(kwargs)
    bound = op._bind(args, kwargs).arguments
    before = {n: [t._data.copy() for t in _tensors(v)] for n, v in bound.items()}
    with _no_grad():
        op(*args, **kwargs)
    for name, copies in before.items():
        if name in op._mutated:
            continue
        for old, t in zip(copies, _tensors(bound[name])):
            if not np.array_equal(old, t._data, equal_nan=old.dtype.kind in "fc"):
                raise RuntimeError(f"Argument {name} is not defined as mutable but was mutated")


def _check_autograd(op: CustomOpDef, args: tuple, kwargs: dict) -> None:
    """With an input that requires grad, the floating outputs are in the graph."""
    args, kwargs = _clone(args), _clone(kwargs)
    needs = any(t.requires_grad for a in (*args, *kwargs.values()) for t in _tensors(a))
    out = op(*args, **kwargs)
    if needs and _grad_state[0]:
        for t in _tensors(out if isinstance(out, (list, tuple)) else [out]):
            if t.is_floating_point() and not t.requires_grad:
                raise RuntimeError(f"{op._qualname}: an output does not require grad although an input does")


def _check_fake(op: CustomOpDef, args: tuple, kwargs: dict) -> tuple:
    """The fake implementation describes the kernel's outputs: same structure, shapes and dtypes."""
    fake_impl = op._fake
    if fake_impl is None and not op._differentiable:
        fake_impl = _returns_nothing  # an op returning nothing needs no fake, as in PyTorch
    if fake_impl is None:
        raise RuntimeError(
            f"There was no fake impl registered for {op!r}. PyTorch needs it for torch.compile/export/fx "
            f"tracing. Please use `{op._name}.register_fake` to add a fake impl."
        )
    real_args, real_kwargs = _clone(args), _clone(kwargs)
    with _no_grad():
        real = op(*real_args, **real_kwargs)
        fake = fake_impl(*_clone(args), **_clone(kwargs))
    where = (
        f"When comparing the output of {op._namespace}.{op._name}.default on FakeTensor and concrete Tensors"
    )
    real_list, fake_list = _outputs(real), _outputs(fake)
    if len(real_list) != len(fake_list):
        raise RuntimeError(f"{where}, found {len(fake_list)} fake outputs and {len(real_list)} real ones")
    for r, f in zip(real_list, fake_list):
        if isinstance(r, Tensor) != isinstance(f, Tensor):
            raise RuntimeError(f"{where}, found a {type(f).__name__} for a {type(r).__name__}")
        if isinstance(r, Tensor):
            if r.shape != f.shape:
                raise RuntimeError(
                    f"{where}, found mismatched tensor metadata: Shapes {r.shape} and {f.shape} are not equal!"
                )
            if r.dtype != f.dtype:
                raise RuntimeError(
                    f"{where}, found mismatched tensor metadata: Dtypes {r.dtype} and {f.dtype} are not equal!"
                )
    return real_args, real_kwargs


def _returns_nothing(*args: Any, **kwargs: Any) -> None:
    return None


def _check_compiled(op: CustomOpDef, args: tuple, kwargs: dict) -> None:
    """What a compiler would need from the op: a fake implementation that agrees, and, when
    an input requires grad, a backward that runs and gives each input a gradient of its
    shape and dtype."""
    _check_fake(op, args, kwargs)
    args, kwargs = _clone(args), _clone(kwargs)
    inputs = [t for a in (*args, *kwargs.values()) for t in _tensors(a) if t.requires_grad]
    out = op(*args, **kwargs)
    outputs = [t for t in _tensors(out if isinstance(out, (list, tuple)) else [out]) if t.requires_grad]
    if not inputs or not outputs:
        return
    from ember.autograd import grad

    grads = grad(outputs, inputs, [t.detach() * 0 + 1 for t in outputs], allow_unused=True)
    for t, g in zip(inputs, grads):
        if g is not None and (g.shape != t.shape or g.dtype != t.dtype):
            raise RuntimeError(
                f"{op._qualname}: backward gave a gradient of shape {tuple(g.shape)} and dtype {g.dtype} "
                f"for an input of shape {tuple(t.shape)} and dtype {t.dtype}"
            )


@contextlib.contextmanager
def _no_grad() -> Iterator[None]:
    prev, _grad_state[0] = _grad_state[0], False
    try:
        yield
    finally:
        _grad_state[0] = prev


_CHECKS = {
    "test_schema": _check_schema,
    "test_autograd_registration": _check_autograd,
    "test_faketensor": _check_fake,
    "test_aot_dispatch_static": _check_compiled,
    "test_aot_dispatch_dynamic": _check_compiled,
}


def opcheck(
    op: Any,
    args: tuple,
    kwargs: dict | None = None,
    *,
    test_utils: str | Sequence[str] = (
        "test_schema",
        "test_autograd_registration",
        "test_faketensor",
        "test_aot_dispatch_dynamic",
    ),
    raise_exception: bool = True,
    atol: float | None = None,
    rtol: float | None = None,
) -> dict[str, Any]:
    """Test an operator's registrations on one example (torch.library.opcheck), each on
    copies of the arguments: `test_schema` (only the arguments declared mutated change),
    `test_autograd_registration` (outputs join the graph), `test_faketensor` (the fake
    implementation gives the kernel's shapes and dtypes), and the `test_aot_dispatch_*`
    pair, which ember, having no compiler, reads as: the fake agrees and the backward runs,
    giving gradients of the inputs' shapes and dtypes. Returns {test: "SUCCESS" or the
    exception}; raises OpCheckError at the first failure unless raise_exception=False.
    Like PyTorch's, it does not test that the gradients are right: use gradcheck."""
    tests = (test_utils,) if isinstance(test_utils, str) else tuple(test_utils)
    if not set(tests) <= set(_TESTS):
        raise ValueError(
            f"opcheck(op, ..., test_utils={tests}), expected test_utils to be subset of {_TESTS} but it was not"
        )
    if isinstance(op, _Overload):
        op = op._op
    op = _find(op)
    kwargs = {} if kwargs is None else kwargs
    results: dict[str, Any] = {}
    for test in tests:
        try:
            _CHECKS[test](op, tuple(args), dict(kwargs))
        except Exception as error:
            if raise_exception:
                raise OpCheckError(f"opcheck(op, ...): {test} failed with {error}") from error
            results[test] = error
        else:
            results[test] = "SUCCESS"
    return results


# ---- ember.ops.<namespace>.<name> ---------------------------------------------------------


class _Overload:
    """`ember.ops.mylib.crop` (and its `.default`): the op by PyTorch's path to it."""

    __slots__ = ("_op", "_overload")

    def __init__(self, op: CustomOpDef, overload: str | None) -> None:
        self._op, self._overload = op, overload

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._op(*args, **kwargs)

    @property
    def default(self) -> _Overload:
        if self._overload is not None:
            raise AttributeError(f"'{self}' has no attribute 'default'")
        return _Overload(self._op, "default")

    def __str__(self) -> str:
        name = f"{self._op._namespace}.{self._op._name}"
        return name if self._overload is None else f"{name}.{self._overload}"

    def __repr__(self) -> str:
        name = f"{self._op._namespace}.{self._op._name}"
        if self._overload is None:
            return f"<OpOverloadPacket(op='{name}')>"
        return f"<OpOverload(op='{name}', overload='{self._overload}')>"


class _Namespace:
    """`ember.ops.mylib`: the custom ops defined in namespace `mylib`."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, name: str) -> _Overload:
        op = _OPS.get(f"{self._name}::{name}")
        if op is None:
            raise AttributeError(f"'_OpNamespace' '{self._name}' object has no attribute '{name}'")
        return _Overload(op, None)

    def __repr__(self) -> str:
        return f"<ember.ops namespace {self._name!r}>"


def namespace(name: str) -> _Namespace:
    """The namespace object `ember.ops.<name>` (used by ember.ops' module __getattr__)."""
    if not any(q.startswith(f"{name}::") for q in _OPS):
        raise AttributeError(f"module 'ember.ops' has no attribute '{name}'")
    return _Namespace(name)
