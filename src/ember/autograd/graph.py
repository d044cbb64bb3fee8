"""The graph's public handles (torch.autograd.graph): `Node`, `GradientEdge`, hooks on what
nodes save, hooks on the gradients of several tensors at once, and `increment_version`.

Saved-tensor hooks (`saved_tensors_hooks`) let a program decide how the values a node keeps
for backward are stored: `pack_hook` runs when a node saves a tensor, and what it returns is
kept instead; `unpack_hook` runs each time backward reads it, and must give back a Tensor.
A node saves in several places, all of them hot (`ctx.save_for_backward`, and the lines of
`Function.apply`, `apply_one` and ops/fastpath.py that set `ctx._saved` directly), so none
of them tests for hooks. Instead, while a `saved_tensors_hooks` block is open, the class
attribute `Function._saved` is replaced by a data descriptor (`_PackOnSave`): every
assignment `ctx._saved = ...`, wherever it happens, goes through its setter, which packs the
values of a node that is being recorded and gives that node a subclass of its own class
whose `saved_tensors` unpacks them (`_packed_class`). When the last block closes, the plain
class attribute is put back, and the program runs exactly the code it ran before: no flag is
tested per op. A node packed inside a block keeps unpacking after the block is closed, as
in PyTorch.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
from numpy import ndarray

from ember.autograd import engine, grad_mode
from ember.autograd.function import (
    FREED_MESSAGE,
    PACK_INPLACE_MESSAGE,
    AccumulateGrad,
    Function,
    _accumulator,
)

__all__ = [
    "GradientEdge",
    "Node",
    "allow_mutation_on_saved_tensors",
    "disable_saved_tensors_hooks",
    "get_gradient_edge",
    "increment_version",
    "register_multi_grad_hook",
    "save_on_cpu",
    "saved_tensors_hooks",
]


# ---- Node and GradientEdge ------------------------------------------------------------------


class Node(abc.ABC):
    """The abstract type of a graph node (torch.autograd.graph.Node): `isinstance(t.grad_fn,
    Node)` holds for every ember node (a `Function` instance: in ember the ctx is the node)
    and for the `AccumulateGrad` of a leaf."""

    @abc.abstractmethod
    def name(self) -> str:
        """The node's name, such as `MulBackward0`."""

    @property
    @abc.abstractmethod
    def next_functions(self) -> tuple:
        """((node, output_nr), ...), one pair per input of the node."""

    @property
    @abc.abstractmethod
    def metadata(self) -> dict:
        """A dict for the program's own notes about the node."""

    @abc.abstractmethod
    def register_hook(self, fn: Callable[..., Any]) -> Any:
        """Call fn(grad_inputs, grad_outputs) after the node's backward."""

    @abc.abstractmethod
    def register_prehook(self, fn: Callable[..., Any]) -> Any:
        """Call fn(grad_outputs) before the node's backward."""

    @classmethod
    def __subclasshook__(cls, subclass: type) -> Any:
        if cls is Node and issubclass(subclass, (Function, AccumulateGrad)):
            return True
        return NotImplemented


class GradientEdge(NamedTuple):
    """Where a tensor's gradient enters the graph: output `output_nr` of `node`
    (torch.autograd.graph.GradientEdge). `autograd.grad` accepts one in `inputs`."""

    node: Any
    output_nr: int
    ownership_token: Any = None


def get_gradient_edge(tensor: Any) -> GradientEdge:
    """The GradientEdge of `tensor`: its grad_fn and output number, or for a leaf that
    requires grad, its AccumulateGrad node (torch.autograd.graph.get_gradient_edge)."""
    from ember.autograd import views

    if not tensor.requires_grad:
        raise RuntimeError(
            "It is not possible to get the gradient edge for a Tensor that does not require gradients"
        )
    views.current(tensor)
    if tensor.grad_fn is None:
        return GradientEdge(_accumulator(tensor), 0)
    return GradientEdge(tensor.grad_fn, tensor._out_nr)


def _edge_input(edge: GradientEdge) -> Any:
    """A Tensor standing for `edge` among autograd.grad's inputs: the leaf of an
    AccumulateGrad, or a tensor that the engine keys as (node, output_nr)."""
    node, nr = edge.node, edge.output_nr
    if isinstance(node, AccumulateGrad):
        return node.variable
    shape = node._shapes[nr] if node._n_outputs > 1 else node._shape
    dtype = node._dtypes[nr] if node._n_outputs > 1 else node._dtype
    t = engine.Tensor(np.zeros(shape, dtype))
    t.grad_fn, t._out_nr, t._requires_grad = node, nr, True
    return t


def increment_version(tensor: Any) -> None:
    """Count one in-place change of `tensor` (or of each tensor of an iterable) that autograd
    did not see, e.g. a write into `.numpy()`'s array, so that a node that saved it raises
    in backward (torch.autograd.graph.increment_version)."""
    tensors = [tensor] if isinstance(tensor, engine.Tensor) else list(tensor)
    for t in tensors:
        t._version_cell[0] += 1


# ---- hooks on a node --------------------------------------------------------------------------
#
# A node with hooks gets a subclass of its own class, same name, whose backward runs the
# pre-hooks on the incoming gradients, the class's backward, then the hooks on the result
# (as saved-tensor hooks do for saved_tensors): the engine and the nodes without hooks are
# unchanged.


def _register_node_hook(node: Any, fn: Callable, pre: bool) -> Any:
    from ember.utils.hooks import RemovableHandle

    name = "_node_prehooks" if pre else "_node_posthooks"
    hooks = node.__dict__.get(name)
    if hooks is None:
        hooks = node.__dict__[name] = {}
    if getattr(type(node), "_hooks_base", None) is None:
        node.__class__ = _hooked_class(type(node))
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle


def _named_subclass(cache: dict, cls: type, attrs: dict) -> type:
    """A subclass of node class `cls` with `attrs`, made once per class and kept in `cache`.
    It carries cls's name, module and docstring, so that the node still reports as its op
    (`type(grad_fn).__name__`, `grad_fn.name()`); `_simple` is copied, since
    Function.__init_subclass__ would set it from `raw` alone."""
    sub = cache.get(cls)
    if sub is None:
        names = {"__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__}
        sub = cache[cls] = type(cls.__name__, (cls,), {**attrs, **names})
        sub._simple = cls._simple
    return sub


_HOOKED_CLASSES: dict = {}


def _hooked_class(cls: type) -> type:
    """A subclass of node class `cls`, with its name, whose backward runs the node's hooks."""
    attrs = {"backward": staticmethod(_backward_with_node_hooks), "_hooks_base": cls}
    return _named_subclass(_HOOKED_CLASSES, cls, attrs)


def _backward_with_node_hooks(ctx: Any, *grads: Any) -> Any:
    """The backward of a node with hooks (see `_register_node_hook`). The hooks see Tensors
    (a built-in op's backward works on arrays outside create_graph), and complex gradients
    as PyTorch shows them: a built-in op's are conjugated on the way in and out (see
    autograd/engine.py; a user Function's backward already has them so)."""
    arrays = any(isinstance(g, ndarray) for g in grads)
    public = _public_all if ctx.raw else tuple
    pre = ctx.__dict__.get("_node_prehooks")
    if pre:
        outs = public(_run_node_hooks(pre, (public(_as_tensors(grads)),), len(grads), check=True))
        grads = _as_arrays(outs) if arrays else outs
    result = type(ctx)._hooks_base.backward(ctx, *grads)
    post = ctx.__dict__.get("_node_posthooks")
    if not post:
        return result
    single = result.__class__ is not tuple
    results = list((result,) if single else result)
    # one per input as next_functions lists them (a custom Function's Tensor inputs only)
    skip = ctx._not_tensor_inputs
    where = [i for i in range(min(len(ctx._edges), len(results))) if i not in skip]
    ins = public(
        _run_node_hooks(
            post, (public(_as_tensors([results[i] for i in where])), public(_as_tensors(grads))), len(where)
        )
    )
    ins = _as_arrays(ins) if arrays else ins
    for i, value in zip(where, ins):
        results[i] = value
    return results[0] if single and len(results) == 1 else tuple(results)


def _run_node_hooks(hooks: dict, args: tuple, n: int, check: bool = False) -> tuple:
    """Each hook in order on args, the first of which it may replace (a tuple of n). With
    check (pre-hooks, given the gradients of the node's outputs), each Tensor replaced must
    keep its size and type, as PyTorch checks. (Post-hooks are not checked: the results of
    a built-in op's backward they see may still have the broadcast shape.)"""
    for hook in list(hooks.values()):
        out = hook(*args)
        if out is None:
            continue
        if not isinstance(out, tuple):
            raise TypeError(f"expected tuple, but hook returned '{type(out).__name__}'")
        if len(out) != n:
            name = getattr(hook, "__name__", type(hook).__name__)
            raise RuntimeError(
                f"hook '{name}' has returned an incorrect number of values (got {len(out)}, but expected {n})"
            )
        if check:
            for old, new in zip(args[0], out):
                if new is not None and isinstance(old, engine.Tensor):
                    engine._check_hook_result(hook, new, old._data.shape, old._data.dtype)
        args = (out, *args[1:])
    return args[0]


def _public_all(values: Sequence[Any]) -> tuple:
    """Gradients between the engine's convention and PyTorch's: complex ones conjugated."""
    return tuple(v if v is None else engine._public(v) for v in values)


def _as_tensors(values: Sequence[Any]) -> tuple:
    return tuple(engine.Tensor(v) if isinstance(v, (ndarray, np.generic)) else v for v in values)


def _as_arrays(values: Sequence[Any]) -> tuple:
    return tuple(v._data if isinstance(v, engine.Tensor) else v for v in values)


# ---- saved-tensor hooks ---------------------------------------------------------------------

_hooks: list = []  # the (pack, unpack) pairs of the open saved_tensors_hooks blocks, innermost last
_disabled: list = []  # the messages of the open disable_saved_tensors_hooks blocks
_unreleased: list = []  # nodes packed since the last recorded save: they still hold the originals


class _PackOnSave:
    """`Function._saved` while saved-tensor hooks are active (see the module's docstring).
    Reads give the node's own value; an assignment on a node being recorded packs it."""

    def __get__(self, node: Any, owner: type) -> Any:
        if node is None:
            return ()
        return node.__dict__.get("_saved", ())

    def __set__(self, node: Any, items: Any) -> None:
        d = node.__dict__
        if items is None:  # the engine frees the node after its backward
            d["_saved"] = None
            d.pop("_packed", None)
            return
        d["_saved"] = items
        if items and _being_recorded(node):
            _pack(node, items)


def _being_recorded(node: Any) -> bool:
    """Whether `node` is the ctx of an op that records a node: a built-in op gets its edges
    only then (an unrecorded forward saves on a throwaway ctx); a user Function always gets
    them, recorded when one is not None."""
    edges = node.__dict__.get("_edges")
    return bool(edges) and any(e is not None for e in edges)


def _pack(node: Any, items: tuple) -> None:
    _release()
    pack, unpack = _hooks[-1]
    leaves = [e for e in node.__dict__.get("_edges", ()) if isinstance(e, engine.Tensor)]
    packed = []
    for item in items:
        if isinstance(item, engine.Tensor):
            tensor = item
        elif isinstance(item, (ndarray, np.generic)):
            # a built-in op saves arrays; the hook sees a Tensor: the leaf itself for a
            # leaf's array, else a tensor holding the saved array
            tensor = next((e for e in leaves if e._data is item), None)
            if tensor is None:
                tensor = engine.Tensor(np.asanyarray(item))  # a meta array stays meta
        else:  # None, or a number: not a tensor, kept as it is
            packed.append((None, item))
            continue
        version = tensor._version_cell[0]
        value = pack(tensor)
        if tensor._version_cell[0] != version:  # the saved value would be silently wrong
            raise RuntimeError(PACK_INPLACE_MESSAGE)
        packed.append((unpack, value))
    node.__dict__["_packed"] = tuple(packed)
    if not node.raw and any(isinstance(item, engine.Tensor) and item._requires_grad for item in items):
        node.__dict__["_packed_links"] = tuple([_link(item) for item in items])
    node.__class__ = _packed_class(type(node))
    _unreleased.append(node)


def _release() -> None:
    """The nodes packed so far are complete (their ops have returned: a node saves during its
    op, and a block closes between ops): they need their original values no longer, only how
    many there were."""
    for done in _unreleased:
        if done.__dict__.get("_saved") is not None:
            done.__dict__["_saved"] = (None,) * len(done.__dict__["_saved"])
    _unreleased.clear()


def _link(item: Any) -> Any:
    """Where a Tensor that a custom Function saved is in the graph: the leaf itself, or its
    (node, output_nr); None when it is in none. What pack returns is not (a copy, a file
    name), so its unpacked value is put back there under create_graph (`_relinked`), as
    PyTorch does."""
    if not isinstance(item, engine.Tensor) or not item._requires_grad:
        return None
    return item if item.grad_fn is None else (item.grad_fn, item._out_nr)


class _Unpacked(Function):
    """A leaf's saved tensor, unpacked under create_graph: the unpacked values, with the
    gradient going to the leaf."""

    raw = True

    @staticmethod
    def forward(ctx: Any, leaf: ndarray, values: ndarray) -> ndarray:
        return values

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple:
        return grad, None

    def name(self) -> str:
        return "AliasBackward0"


def _relinked(value: Any, link: Any) -> Any:
    if link is None or not isinstance(value, engine.Tensor):
        return value
    if isinstance(link, engine.Tensor):
        return _Unpacked.apply(link, value._data)
    t = engine.Tensor(value._data)
    t.grad_fn, t._out_nr, t._requires_grad = link[0], link[1], True
    return t


_PACKED_CLASSES: dict = {}


def _packed_class(cls: type) -> type:
    """A subclass of node class `cls`, with its name, whose `saved_tensors` unpacks."""
    if getattr(cls, "_unpacks", False):
        return cls
    attrs = {"saved_tensors": property(_unpacked_saved_tensors), "_unpacks": True}
    return _named_subclass(_PACKED_CLASSES, cls, attrs)


def _unpacked_saved_tensors(node: Any) -> tuple:
    """`ctx.saved_tensors` of a node whose values were packed: each one unpacked. As in
    PyTorch, the version check is the hooks' business (a pack hook that copies makes a
    later in-place change harmless)."""
    if node._saved is None:
        raise RuntimeError(FREED_MESSAGE)
    values = []
    for unpack, packed in node._packed:
        if unpack is None:
            values.append(packed)
            continue
        value = unpack(packed)
        if not isinstance(value, engine.Tensor):
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                f"{type(value).__name__}"
            )
        values.append(value._data if node.raw else value)
    values = tuple(values)
    if grad_mode._state[0]:  # create_graph: connect them
        links = node.__dict__.get("_packed_links")
        if links is not None:
            values = tuple([_relinked(v, link) for v, link in zip(values, links)])
        if node._sources is not None:
            return node._attached_saved(values)
    return values


def _install() -> None:
    Function._saved = _PackOnSave()  # type: ignore[assignment]


def _uninstall() -> None:
    _release()
    Function._saved = ()


class saved_tensors_hooks:
    """Inside this block, each tensor a recorded node saves for backward is passed to
    `pack_hook`, and what it returns is kept instead; when backward needs the tensor,
    `unpack_hook` gets that object back and returns the Tensor to use
    (torch.autograd.graph.saved_tensors_hooks). Blocks nest: the innermost pair applies.

    ember's built-in ops save arrays: `pack_hook` sees them as Tensors (a leaf input as the
    leaf itself, anything else as a new tensor holding the saved values).
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        if _disabled:
            raise RuntimeError(_disabled[-1])
        _hooks.append((self.pack_hook, self.unpack_hook))
        if len(_hooks) == 1:
            _install()
        return self

    def __exit__(self, *exc: object) -> None:
        _hooks.pop()
        if not _hooks:
            _uninstall()
        else:
            _release()


class save_on_cpu(saved_tensors_hooks):
    """Keep the saved tensors in CPU memory, moving them back to their device in backward
    (torch.autograd.graph.save_on_cpu). ember's tensors are all in CPU memory, so its hooks
    keep each tensor as it is; `pin_memory` and `device_type` are accepted for the same
    reason."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda t: t, lambda t: t)
        self.pin_memory = pin_memory
        self.device_type = device_type


class disable_saved_tensors_hooks:
    """Forbid saved-tensor hooks inside this block: opening a `saved_tensors_hooks` block
    raises RuntimeError(error_message), as does opening this one while hooks are active
    (torch.autograd.graph.disable_saved_tensors_hooks)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> disable_saved_tensors_hooks:
        if _hooks:
            raise RuntimeError(self.error_message)
        _disabled.append(self.error_message)
        return self

    def __exit__(self, *exc: object) -> None:
        _disabled.pop()

    def __call__(self, fn: Callable) -> Callable:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)

        return wrapper


@contextmanager
def allow_mutation_on_saved_tensors():
    """Inside this block, a tensor that a node saved may be changed in place: backward uses
    the value it had when it was saved (torch.autograd.graph.allow_mutation_on_saved_tensors).

    PyTorch copies a saved tensor when it is first changed; ember copies every saved tensor
    when it is saved (saved-tensor hooks whose pack copies), which gives the same gradients
    for more memory."""
    with saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        yield


# ---- hooks on several tensors ---------------------------------------------------------------


class _MultiHandle:
    """The handle of register_multi_grad_hook: `remove()` unregisters every tensor's hook."""

    def __init__(self, handles: Sequence[Any]) -> None:
        self.handles = tuple(handles)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def __enter__(self) -> _MultiHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_multi_grad_hook(tensors: Iterable[Any], fn: Callable, *, mode: str = "all") -> _MultiHandle:
    """Call `fn` once per backward pass that reaches any of `tensors`
    (torch.autograd.graph.register_multi_grad_hook).

    mode "all": at the end of the pass, `fn(grads)` with the gradient of each tensor, None
    for those the pass did not reach. mode "any": `fn(grad)` with the first gradient
    computed for one of them. Every tensor must require grad.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError(
                "register_multi_grad_hook: every tensor must require grad (one of shape "
                f"{list(t.shape)} does not)"
            )
    grads: list = [None] * len(tensors)

    def finish() -> None:
        result = list(grads)
        grads[:] = [None] * len(tensors)
        if mode == "all":
            fn(result)

    def make_hook(i: int) -> Callable:
        def hook(grad: Any) -> None:
            # the first gradient of a pass queues `finish`; the queue is the engine's, which
            # drops it if the pass fails, so that nothing of that pass is left here
            first = finish not in engine._final_callbacks
            if first:
                grads[:] = [None] * len(tensors)  # what a failed pass left
                engine.queue_callback(finish)
            if mode == "any":
                if first:
                    fn(grad)
                return
            grads[i] = grad

        return hook

    return _MultiHandle([t.register_hook(make_hook(i)) for i, t in enumerate(tensors)])
