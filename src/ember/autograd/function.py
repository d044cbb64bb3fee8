"""Function: the one kind of graph node.

Every differentiable operation in ember, built-in or written by a user, is a subclass of
`Function` with two static methods side by side:

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = np.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

`Exp.apply(t)` runs `forward` and, if a gradient will be needed, makes the object `ctx`
the `grad_fn` of the result: the node that remembers the inputs' edges and what forward
saved. There is no separate context class: as in PyTorch, the ctx *is* the node.

Two flavours share this mechanism, chosen by the class attribute `raw`:

* `raw = False` (the default, what users write): forward and backward receive Tensors,
  exactly as with torch.autograd.Function.
* `raw = True` (ember's built-in ops): forward receives the NumPy arrays inside the
  tensors and returns arrays, so an op costs one NumPy call and no wrapping. Backward
  receives arrays during an ordinary backward pass and Tensors when the engine runs with
  `create_graph=True`; the formulas are written with operators and `ops._dual` helpers that
  work on both, so the same lines give first and higher-order gradients.
"""

from __future__ import annotations

import functools
import itertools
import types
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy import ndarray  # a global name: CPython 3.11 reads numpy's module attributes slowly

from ember.autograd import grad_mode

_grad_state = grad_mode._state

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)

PACK_INPLACE_MESSAGE = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack "
    "hook cannot be modified by in-place operations as this can lead to unexpected side-effects. "
    "Please open an issue if you need to perform in-place operations on the input to a pack hook."
)

# Filled in by ember._tensor to break the import cycle (Tensor's methods call Functions).
Tensor: Any = None


class AccumulateGrad:
    """The node that stores a leaf's gradient in `.grad` (torch's AccumulateGrad): what
    `next_functions` and `autograd.graph.get_gradient_edge` show for a leaf that requires
    grad; `.variable` is the leaf.

    ember's graph has no such node: an edge to a leaf is the leaf itself (see
    autograd/engine.py). An AccumulateGrad is made when asked for (`_accumulator`), one per
    leaf while anything holds it, so that asking twice gives the same object, as in PyTorch.
    Its hooks are kept among the leaf's gradient hooks (`_hooks`, marked `LeafNodeHook`),
    which the engine runs when the gradient arrives: a leaf without them costs nothing more.
    """

    __slots__ = ("variable", "_metadata", "__weakref__")

    def __init__(self, variable: Any) -> None:
        self.variable = variable
        self._metadata: dict | None = None

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    next_functions: tuple = ()

    @property
    def metadata(self) -> dict:
        """A dict for the program's own notes about this node."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def register_prehook(self, fn: Callable[..., Any]) -> Any:
        """Call fn((grad,)) with the leaf's whole gradient (after its tensor hooks) before it
        is added to `.grad`; fn may return a 1-tuple to replace it, of the same size and
        type ((None,): store nothing; returning None keeps it). Runs in backward only:
        autograd.grad stores no gradient, and skips it, as PyTorch."""
        return self._register(fn, True)

    def register_hook(self, fn: Callable[..., Any]) -> Any:
        """Call fn((), (grad,)) after the gradient was added to `.grad` (and after the leaf's
        post-accumulate hooks); fn must return None (the node has no inputs to replace)."""
        return self._register(fn, False)

    def _register(self, fn: Callable[..., Any], pre: bool) -> Any:
        from ember.autograd import engine
        from ember.utils.hooks import add_hook

        leaf = self.variable
        if leaf._hooks is None:
            leaf._hooks = {}
        return add_hook(leaf._hooks, engine.LeafNodeHook(fn, pre))

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


# id(leaf) -> weakref of its AccumulateGrad (which holds the leaf: the id stays its own)
_accumulators: dict = {}


def _accumulator(leaf: Any) -> AccumulateGrad:
    """The AccumulateGrad of `leaf`: the one already made if something still holds it."""
    key = id(leaf)
    ref = _accumulators.get(key)
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(leaf)

        def forget(r: Any, key: int = key) -> None:
            if _accumulators.get(key) is r:
                del _accumulators[key]

        _accumulators[key] = weakref.ref(acc, forget)
    return acc


class Function:
    """Base class of every differentiable op (torch.autograd.Function).

    Subclasses define static `forward(ctx, *args)` and `backward(ctx, *grad_outputs)`;
    callers use `Subclass.apply(*args)`. Inside forward: `ctx.save_for_backward(...)`,
    `ctx.mark_non_differentiable(...)`, `ctx.mark_dirty(...)` for inputs changed in place,
    and any attribute on `ctx`. Inside backward:
    `ctx.saved_tensors`, `ctx.needs_input_grad`.
    """

    raw = False

    # Per-node state lives in class-level defaults so that building a node sets only
    # what it uses. Every object a node allocates is one more object for Python's cyclic
    # garbage collector to walk while the graph is alive, so the state is kept flat:
    #
    # `_edges[i]`, one per input: None when input i needs no gradient; the leaf Tensor
    #     itself; the node that produced it; or (node, output_nr) when that node has
    #     several outputs.
    # `_shape`, `_dtype`: this node's output (`_shapes`, `_dtypes` when it has several),
    #     which the gradients arriving for it must match (the engine's unbroadcast).
    # `_seq`: creation order. A node is created after the nodes of its inputs, so the
    #     engine runs backward from the highest number down.
    # `_versions`: (version counter, value at save, counter, value, ...) of the saved
    #     tensors, flat; for a single saved tensor, its counter itself (a list), with the
    #     value in `_version_at`. `_sources`: where each saved array came from (raw ops).
    _edges: tuple = ()
    _is_node = True
    _seq = 0
    _shape: tuple = ()
    _dtype: Any = None
    _shapes: tuple = ()
    _dtypes: tuple = ()
    _saved: tuple | None = ()
    _sources: tuple | None = None
    _versions: tuple | list = ()
    _version_at = 0
    _n_outputs = 1
    _non_diff: tuple = ()
    _dirty: tuple = ()  # inputs a user's forward changed in place (mark_dirty)
    _retained: dict | None = None  # output_nr -> weakref of a tensor with retain_grad()
    _tensor_hooks: dict | None = None  # output_nr -> {handle id: hook} of Tensor.register_hook
    # `_simple`: a built-in op's node with one output, no retained gradient and no hook, whose
    # backward the engine runs inline. Set per class from `raw`, cleared per node.
    _simple = False
    # `_intermediates`: the names of the ctx attributes in which a built-in op keeps arrays
    # that only its backward reads (BatchNorm's normalised input, cross-entropy's
    # exponentials). The engine frees them with the saved tensors after the backward pass,
    # as PyTorch frees every buffer a node saved: a loss kept after backward
    # (`losses.append(loss)`) must not keep a copy of the activations alive. A node whose
    # intermediates are gone takes the engine's general path, which raises the freed-graph
    # error if it is run again. (Not a __getattr__ that raises it on reading one: a class
    # with __getattr__ makes every attribute read of its instances slower in CPython.)
    _intermediates: tuple = ()
    # `_outline`: for an op whose kept value also answers questions asked after backward
    # (the layout of an index, which `_saved_self_sym_sizes` and `_saved_dim` read), a
    # function giving, from the value, a stand-in without its arrays that the engine keeps
    # in its place when it frees it. None: the value is dropped.
    _outline: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._simple = bool(cls.raw)
        if "saved_attributes" in cls.__dict__:  # PyTorch's _saved_<name>: see autograd/saved.py
            from ember.autograd import saved

            saved.define(cls)
        for hook in subclass_hooks:
            hook(cls)

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define a static backward(ctx, ...)")

    # ---- what forward and backward call on ctx --------------------------------------

    def save_for_backward(self, *items: Any) -> None:
        """Keep tensors (arrays, in a raw op) for backward; freed after the backward pass."""
        self._saved = items

    def save_for_forward(self, *tensors: Any) -> None:
        """Keep tensors for a user Function's `jvp` (forward-mode AD), which reads them as
        `ctx.saved_tensors` (torch's ctx.save_for_forward)."""
        self._saved_forward = tensors

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Declare outputs that never require grad (e.g. the indices of max)."""
        self._non_diff = tuple(id(o) for o in outputs)

    def mark_dirty(self, *tensors: Any) -> None:
        """Declare inputs that forward changed in place and returns (torch's ctx.mark_dirty):
        each comes back as the same Tensor object, its history now this node."""
        self._dirty = tensors

    # A user Function's own state, read by the engine's general path (`_call_backward`):
    # whether backward gets zeros (True) or None for an output that received no gradient,
    # and the positions of the inputs that were not Tensors (a gradient for one is an error).
    _materialize_grads = True
    _not_tensor_inputs: tuple = ()

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None instead of zeros for an output that got no
        gradient (torch's ctx.set_materialize_grads). Built-in ops always receive None."""
        self._materialize_grads = bool(value)

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        return tuple(e is not None for e in self._edges)

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is None:
            raise RuntimeError(FREED_MESSAGE)
        versions = self._versions
        if versions.__class__ is not tuple:  # one saved tensor's counter (list, InferenceVersion)
            if versions[0] != self._version_at:
                self._modified(versions[0], self._version_at)
        elif versions:  # () when nothing saved is a tensor's (x * 2 keeps only the 2)
            if len(versions) == 4:  # two saved tensors (Mul's, Linear's): no loop to start
                if versions[0][0] != versions[1]:
                    self._modified(versions[0][0], versions[1])
                if versions[2][0] != versions[3]:
                    self._modified(versions[2][0], versions[3])
            else:
                for i in range(0, len(versions), 2):
                    if versions[i][0] != versions[i + 1]:
                        self._modified(versions[i][0], versions[i + 1])
        if _grad_state[0] and self._sources is not None:  # create_graph
            return self._attached_saved(saved)
        return saved

    def _modified(self, version: int, expected: int) -> None:
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified "
            f"by an inplace operation: it is an input or output of {self.name()}, "
            f"which is at version {version}; expected version {expected} instead. "
            "Hint: replace the in-place operation (e.g. `x += 1`, `x.add_(1)`, "
            "`x[0] = 0`) by its out-of-place form (`x = x + 1`)."
        )

    def _set_versions(self, versions: Any) -> None:
        if len(versions) == 2:  # one tensor: no tuple to allocate (see _versions)
            self._versions, self._version_at = versions
        else:
            self._versions = tuple(versions)

    def _attached_saved(self, saved: tuple) -> tuple:
        """For create_graph: give each saved array back as a Tensor connected to the graph.

        An input comes back attached to the node that produced it, an output attached to
        this node, so that the backward formula is itself differentiated correctly.
        """
        if not self.raw:  # a user's Function: only its saved outputs need attaching (see _track_saved)
            return tuple(
                [item if s is None else self._attached(item, -1 - s) for item, s in zip(saved, self._sources)]
            )
        result = []
        for item, source in zip(saved, self._sources):
            if source is None:
                if isinstance(item, (ndarray, np.generic)):
                    raise RuntimeError(
                        f"{self.name()} saved a value that is neither an input nor an output, "
                        "so its backward cannot be differentiated again (create_graph=True)"
                    )
                result.append(item)
                continue
            edge = self._edges[source] if source >= 0 else None
            if source >= 0 and edge is None:
                is_array = isinstance(item, (ndarray, np.generic))
                result.append(Tensor(np.asanyarray(item)) if is_array else item)
                continue
            if source >= 0 and isinstance(edge, Tensor):
                if item is edge._data:
                    result.append(edge)  # the leaf itself
                else:  # other values, from saved-tensor hooks (autograd/graph.py): the leaf's gradient path
                    from ember.autograd.graph import _Unpacked

                    result.append(_Unpacked.apply(edge, np.asanyarray(item)))
                continue
            node, nr = (self, -1 - source) if source < 0 else edge_target(edge)
            t = Tensor(np.asanyarray(item))  # a meta array stays meta
            t.grad_fn, t._out_nr, t._requires_grad = node, nr, True
            result.append(t)
        return tuple(result)

    def _attached(self, item: Any, nr: int) -> Any:
        """A user Function's saved Tensor `item`, its output `nr`, attached to this node."""
        t = Tensor(item._data)
        t.grad_fn, t._out_nr, t._requires_grad = self, nr, True
        return t

    # ---- introspection, as in PyTorch ---------------------------------------------------

    def name(self) -> str:
        """PyTorch's node name: `MulBackward0` for the built-in Mul, `MyReLUBackward` for a user's."""
        return type(self).__name__ + ("Backward0" if self.raw else "Backward")

    def __dir__(self) -> list[str]:
        """The node's attributes, with only those `_saved_<name>` / `_raw_saved_<name>` that
        this node has (see autograd/saved.py: a table names some that not every node of the
        class keeps, such as transpose's dims, which t() has not)."""
        from ember.autograd import saved

        return saved.listed(self, super().__dir__())

    @property
    def next_functions(self) -> tuple:
        """((node, output_nr), ...) for each input; AccumulateGrad for leaves, None for constants.
        A user Function lists its Tensor arguments only, as in PyTorch."""
        from ember.autograd.engine import NoGradViewHooks  # the engine builds on this module

        result = []
        for i, edge in enumerate(self._edges):
            if i in self._not_tensor_inputs:
                continue
            if edge is None:
                result.append((None, 0))
            elif isinstance(edge, Tensor):
                # a view made under no_grad requires grad but has no AccumulateGrad (views.py)
                no_grad_view = edge._hooks.__class__ is NoGradViewHooks
                result.append((None if no_grad_view else _accumulator(edge), 0))
            else:
                result.append(edge_target(edge))
        return tuple(result)

    @property
    def metadata(self) -> dict:
        """A dict for the program's own notes about this node (torch's Node.metadata)."""
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d

    def register_hook(self, fn: Callable[..., Any]) -> Any:
        """Call fn(grad_inputs, grad_outputs) after this node's backward; it may return new
        grad_inputs (torch's Node.register_hook). See autograd/graph.py."""
        from ember.autograd.graph import _register_node_hook

        return _register_node_hook(self, fn, pre=False)

    def register_prehook(self, fn: Callable[..., Any]) -> Any:
        """Call fn(grad_outputs) before this node's backward; it may return new grad_outputs
        (torch's Node.register_prehook). See autograd/graph.py."""
        from ember.autograd.graph import _register_node_hook

        return _register_node_hook(self, fn, pre=True)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    # ---- building the node --------------------------------------------------------------

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward; if any Tensor input requires grad (and grad mode is on), record a node.

        This is the hot path of every operation: one pass over the arguments, no work for
        the graph unless it will be used. Each line here costs every op in ember, so the
        rare cases (several outputs, user Functions) are in helpers below, and ember's
        operations call `apply_one` (below the class) where only the first argument is a
        Tensor.
        """
        if not cls.raw:
            return _apply_user(cls, args, kwargs)
        ctx = cls()  # a built-in op has no __init__; calling the class is cheaper than __new__
        inputs = []
        edges = []
        record = False
        if _grad_state[0]:
            for a in args:
                if isinstance(a, Tensor):
                    inputs.append(a._data)
                    if a._base is not None and a._version_cell[0] != a._view_at:
                        _refresh_view(a)  # its base changed in place since (autograd/views.py)
                    if a._requires_grad:
                        record = True
                        fn = a.grad_fn
                        edges.append(a if fn is None else fn if fn._n_outputs == 1 else (fn, a._out_nr))
                        continue
                else:
                    inputs.append(a)
                edges.append(None)
        else:
            for a in args:
                inputs.append(a._data if isinstance(a, Tensor) else a)
        if not record:
            return _unrecorded(cls.forward(ctx, *inputs, **kwargs) if kwargs else cls.forward(ctx, *inputs))
        ctx._edges = tuple(edges)  # before forward, which may keep only what the needed gradients use
        out = cls.forward(ctx, *inputs, **kwargs) if kwargs else cls.forward(ctx, *inputs)

        if out.__class__ is tuple:
            outputs = _record_outputs(ctx, out, ctx._edges)
        else:
            outputs = _output(ctx, out)
        saved = ctx._saved
        if saved:
            if saved[0] is out and len(saved) == 1:  # the common "save my output" case
                ctx._sources = _FIRST_OUTPUT
                ctx._versions, ctx._version_at = outputs._version_cell, 0
            else:
                ctx._track_saved(inputs, args, out, outputs)
        return outputs

    def _track_saved(self, inputs: Any, args: tuple, out: Any, outputs: Any) -> None:
        """Record where each saved value came from (an input's index, or -1 - k for output k:
        create_graph needs it) and the version of its tensor (in-place checks need it)."""
        saved = self._saved
        n = len(saved)
        if (
            n <= 2
            and inputs
            and saved[0] is inputs[0]
            and (n == 1 or (len(inputs) > 1 and saved[1] is inputs[1]))
        ):
            # the other common case, "save my first inputs" (Mul, Div, Linear, ...)
            self._sources = _IN_ORDER[n] if self.raw else None
            a = args[0]
            b = args[1] if n == 2 else None
            if isinstance(b, Tensor):
                if isinstance(a, Tensor):
                    self._versions = (
                        a._version_cell,
                        a._version_cell[0],
                        b._version_cell,
                        b._version_cell[0],
                    )
                else:
                    self._versions, self._version_at = b._version_cell, b._version_cell[0]
            elif isinstance(a, Tensor):
                self._versions, self._version_at = a._version_cell, a._version_cell[0]
            return
        if n == 1 and len(inputs) > 1 and saved[0] is inputs[1]:  # Mul's "only b" (x * 2)
            self._sources = _SECOND_INPUT if self.raw else None
            b = args[1]
            if isinstance(b, Tensor):
                self._versions, self._version_at = b._version_cell, b._version_cell[0]
            return
        if out.__class__ is tuple:
            out_arrays, out_tensors = out, outputs
        else:
            out_arrays, out_tensors = (out,), (outputs,)
        sources = []
        versions = []  # type: ignore[assignment]
        for item in saved:
            if item.__class__ in _SCALARS:  # a Python number: a constant, nothing to track
                sources.append(None)
                continue
            source = tensor = None
            for i, a in enumerate(inputs):
                if a is item:
                    source, tensor = i, args[i]
                    break
            else:
                for j, o in enumerate(out_arrays):
                    if o is item:
                        source, tensor = -1 - j, out_tensors[j]
                        break
            sources.append(source)
            if tensor is None and isinstance(item, Tensor):
                tensor = item  # a user Function saves tensors directly
            if isinstance(tensor, Tensor):
                versions += (tensor._version_cell, tensor._version_cell[0])
        if self.raw:
            self._sources = tuple(sources)
        else:
            # A user Function's saved inputs are the input Tensors, in the graph already; a
            # saved output is forward's own Tensor, not the recorded one: under create_graph,
            # saved_tensors attaches it to this node, as PyTorch does, or the second
            # derivative would miss the terms through it.
            attach = [
                s
                if s is not None and s < 0 and getattr(out_tensors[-1 - s], "_requires_grad", False)
                else None
                for s in sources
            ]
            self._sources = tuple(attach) if any(s is not None for s in attach) else None
        self._set_versions(versions)


_ABSENT: Any = object()  # apply_one's "no such argument"

# Called with each Function subclass defined from now on: ember/_bfloat16.py wraps the
# forward of ops defined after the first bfloat16 tensor.
subclass_hooks: list = []


def apply_one(cls: Any, t: Any, a: Any = _ABSENT, b: Any = _ABSENT) -> Any:
    """`cls.apply(t[, a[, b]])` for a built-in op whose only Tensor argument is the first one,
    `t`: the same result, without scanning the arguments for Tensors.

    ember's operations call it where they know the types (`x.sigmoid()`, `x ** 2`,
    `x.sum(dim, keepdim)`); `a` and `b` are numbers, arrays or dims, never a Tensor (its
    gradient would be lost). The arguments are spelt out rather than `*rest`, because
    Python 3.11 runs a call to a function with `*args` through a slower path. Skipping the
    scan saves about a tenth of an elementwise op.
    """
    ctx = cls()
    x = t._data
    record = False
    if _grad_state[0]:
        if t._base is not None and t._version_cell[0] != t._view_at:
            _refresh_view(t)  # its base changed in place since (autograd/views.py)
        if t._requires_grad:
            record = True
            fn = t.grad_fn
            edge = t if fn is None else fn if fn._n_outputs == 1 else (fn, t._out_nr)
            # An array `a` is an operand (the 2 of `x * 2`, made an array): it gets its own
            # None edge, as PyTorch lists (None, 0) for it and Mul's rule reads it. Numbers,
            # dims and flags (the exponent of `x ** 2`, `sum`'s axes) get none, as in PyTorch's
            # next_functions; the engine's zip over the edges never asks for their gradients.
            ctx._edges = (edge, None) if a.__class__ is ndarray else (edge,)
    out = (
        cls.forward(ctx, x)
        if a is _ABSENT
        else cls.forward(ctx, x, a)
        if b is _ABSENT
        else cls.forward(ctx, x, a, b)
    )
    if not record:
        return _unrecorded(out)

    if out.__class__ is tuple:
        outputs = _record_outputs(ctx, out, ctx._edges)
    else:
        outputs = _output(ctx, out)
    saved = ctx._saved
    if saved:
        if saved[0] is out and len(saved) == 1:
            ctx._sources = _FIRST_OUTPUT
            ctx._versions, ctx._version_at = outputs._version_cell, 0
        elif len(saved) == 1 and saved[0] is a:  # x * 2 keeps only the 2, no Tensor
            ctx._sources = _SECOND_INPUT
        elif len(saved) == 1 and saved[0] is x:  # x ** 2, log(x): the input
            ctx._sources = _IN_ORDER[1]
            ctx._versions, ctx._version_at = t._version_cell, t._version_cell[0]
        else:
            rest = () if a is _ABSENT else (a,) if b is _ABSENT else (a, b)
            ctx._track_saved((x, *rest), (t, *rest), out, outputs)
    return outputs


# ember's own operations call Function.apply through this name: calling a classmethod
# through its class first makes a bound method, which costs about a twentieth of a small op.
apply = Function.apply.__func__


_SCALARS = (int, float, bool, type(None))
_FIRST_OUTPUT = (-1,)
_SECOND_INPUT = (1,)
_new_object = object.__new__
# NumPy's one float32 dtype object: the hot paths test `dtype is _FLOAT32` before the dearer
# `dtype.kind` (an unpickled array can carry an equal but distinct object, hence the fallback)
_FLOAT32 = np.dtype(np.float32)
_IN_ORDER = ((), (0,), (0, 1))  # the sources of "saved my first n inputs"
_next_seq = itertools.count(1).__next__


# One tuple per distinct output shape, shared by the nodes: a tuple per node would be one
# more allocation for the garbage collector to count (see `Function._edges`).
_SHAPES: dict = {}


def _intern_shape(shape: tuple) -> tuple:
    if len(_SHAPES) >= 4096:
        _SHAPES.clear()
    return _SHAPES.setdefault(shape, shape)


def _refresh_view(view: Any) -> None:
    from ember.autograd import views  # views.py builds on this module

    views.refresh(view, used=True)


def _output(ctx: Function, out: Any) -> Any:
    """The Tensor of a recorded op's one result `out`, with `ctx` as its grad_fn (unless it
    is not a float, or forward marked it non-differentiable): Tensor.__init__'s fields, set
    here without the call."""
    data = out if out.__class__ is ndarray else _as_array(out)
    ctx._seq = _next_seq()
    t = _new_object(Tensor)
    t._data = data
    t._grad = t._hooks = t._base = None
    t._out_nr = 0
    t._version_cell = [0]
    dtype = data.dtype
    # `dtype.kind` costs as much as the rest of this line: float32 is tested by identity
    if (dtype is _FLOAT32 or dtype.kind in "fcV") and id(out) not in ctx._non_diff:  # V: bfloat16
        t._requires_grad = True
        t.grad_fn = ctx
        shape = data.shape
        interned = _SHAPES.get(shape)
        ctx._shape = interned if interned is not None else _intern_shape(shape)
        ctx._dtype = dtype
    else:
        t._requires_grad = False
        t.grad_fn = None
    return t


def _plain_tensor(data: ndarray) -> Any:
    """A Tensor of an op's result outside the graph: Tensor.__init__'s fields, set directly."""
    t = _new_object(Tensor)
    t._data = data
    t._requires_grad = False
    t._grad = t.grad_fn = t._hooks = t._base = None
    t._out_nr = 0
    t._version_cell = [0]
    return t


_INFERENCE_INPLACE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
    "clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details."
)


class InferenceVersion(list):
    """The version cell of a tensor made under inference_mode, whose `_version` raises as an
    inference tensor's does in PyTorch. It is a list like any other cell, so in-place changes
    inside the mode count in it as usual; its views share it (and are inference tensors too),
    while a view made under inference_mode of an ordinary tensor shares that tensor's ordinary
    cell, as in PyTorch.

    Outside the mode, PyTorch refuses to change an inference tensor in place. Every in-place
    change ends in its version bump (`cell[0] += 1`), so this cell's item assignment refuses
    it: ordinary tensors' cells are plain lists, and pay nothing. Most ops bump after they
    write, so a refused tensor may already hold the new values, as PyTorch's does (its check
    sits in its version bump too)."""

    def __setitem__(self, index: Any, value: Any) -> None:
        if not grad_mode._inference[0]:
            raise RuntimeError(_INFERENCE_INPLACE)
        list.__setitem__(self, index, value)


def bump_below_the_check(t: Any) -> None:
    """Count an in-place change that PyTorch makes inside a kernel, below its inference
    tensor check (batch_norm's running statistics, embedding's max_norm rows): an inference
    tensor changes unrefused outside inference_mode, as in PyTorch; others count it."""
    cell = t._version_cell
    if cell.__class__ is not InferenceVersion:
        cell[0] += 1


class CountedInferenceVersion(list):
    """The version cell of `detach()` or `.data` of an inference tensor taken outside
    inference_mode: PyTorch calls the result an inference tensor, yet it counts its own
    versions from 0 and may be changed in place (Tensor.detach)."""


# _plain_tensor as written, whatever make_inference_tensors swaps into it
_ordinary_plain_tensor = types.FunctionType(_plain_tensor.__code__, globals(), "_ordinary_plain_tensor")
_ORDINARY_CODE = _plain_tensor.__code__


def _plain_inference_tensor(data: ndarray) -> Any:
    """_plain_tensor under inference_mode: the same tensor, with an InferenceVersion cell."""
    t = _ordinary_plain_tensor(data)
    t._version_cell = InferenceVersion([0])
    return t


def make_inference_tensors(on: bool) -> None:
    """Make the tensors that ops outside the graph create from now on inference tensors
    (on) or ordinary ones (ember/_tensor.py's make_inference_tensors, its caller, does the
    same for Tensor.__init__).

    Those ops make their outputs with _plain_tensor; inference_mode swaps in its inference
    twin while it is on instead of having each creation test the mode, so that creating a
    tensor costs no more elsewhere (_plain_tensor also wraps every gradient in backward).
    The code object is swapped, not the name, because other modules hold _plain_tensor
    under their own names."""
    _plain_tensor.__code__ = _plain_inference_tensor.__code__ if on else _ORDINARY_CODE


def _unrecorded(out: Any) -> Any:
    """The Tensor (or tuple of Tensors) of a forward's result, outside the graph."""
    if out.__class__ is tuple:
        return tuple([_wrap(o) for o in out])
    return _plain_tensor(out if out.__class__ is ndarray else _as_array(out))


def _record_outputs(ctx: Function, out: tuple, edges: tuple) -> tuple:
    """The node of an op with several outputs (split, max with indices, ...)."""
    ctx._edges = edges
    ctx._seq = _next_seq()
    ctx._n_outputs = len(out)
    ctx._simple = False
    outputs = tuple([_wrap_output(ctx, o, i) for i, o in enumerate(out)])
    ctx._shapes = tuple([None if o is None else o._data.shape for o in outputs])
    ctx._dtypes = tuple([None if o is None else o._data.dtype for o in outputs])
    ctx._shape, ctx._dtype = ctx._shapes[0], ctx._dtypes[0]
    return outputs


def _apply_user(cls: Any, args: tuple, kwargs: dict) -> Any:
    """Function.apply for a user's Function: forward receives and returns Tensors, and runs
    without recording (its inner operations are not part of the graph)."""
    ctx = _new_object(cls)
    # PyTorch 2's style: a Function with a static setup_context(ctx, inputs, output) has a
    # forward(*args) without ctx; setup_context saves what backward needs
    with_setup = getattr(cls, "setup_context", None) is not None
    if with_setup:  # setup_context sees every argument, defaults included, as in PyTorch
        args, kwargs = _bind_arguments(cls.forward, args, kwargs), {}
    # The edges are known before forward runs, so that ctx.needs_input_grad works there
    # too, as in PyTorch (where it follows requires_grad, whatever the grad mode).
    edges = ctx._edges = tuple([_edge(a) for a in args])
    record = _grad_state[0] and any(e is not None for e in edges)
    prev, _grad_state[0] = _grad_state[0], False
    try:
        if with_setup:
            out = cls.forward(*args)
            cls.setup_context(ctx, args, out)
        else:
            out = cls.forward(ctx, *args, **kwargs)
    finally:
        _grad_state[0] = prev
    if _RESERVED.intersection(ctx.__dict__) or ctx._edges is not edges:
        _reserved_error(cls, ctx, edges)
    single = out.__class__ is not tuple
    results = (out,) if single else out
    # Only Tensors are outputs of the node; anything else forward returns is handed back
    # as it is and has no gradient, as in PyTorch.
    dirty = ctx._dirty
    if not record:
        outputs = tuple(
            [
                Tensor(o._data) if isinstance(o, Tensor) and not (dirty and _is_dirty(o, dirty)) else o
                for o in results
            ]
        )
        return outputs[0] if single else outputs
    tensors = tuple([o if isinstance(o, Tensor) else None for o in results])
    outputs = _record_outputs(ctx, tensors, edges)
    outputs = tuple([t if t is not None else o for o, t in zip(results, outputs)])
    if dirty:
        outputs = tuple([_rebased(o, t, cls) if _is_dirty(o, dirty) else t for o, t in zip(results, outputs)])
    not_tensor = tuple([i for i, a in enumerate(args) if not isinstance(a, Tensor)])
    if not_tensor:
        ctx._not_tensor_inputs = not_tensor
    if ctx._saved:
        ctx._track_saved(args, args, out, outputs[0] if single else outputs)
    return outputs[0] if single else outputs


def _is_dirty(o: Any, dirty: tuple) -> bool:
    return any(o is d for d in dirty)


def _rebased(input: Any, output: Any, cls: Any) -> Any:
    """A dirty input returned by forward: the input object itself, taking the history of
    `output` (this node's output for it), as an in-place op's result does."""
    if input.grad_fn is None and input._requires_grad:
        raise RuntimeError(
            f"{cls.__name__}: a leaf Variable that requires grad is being used in an in-place operation "
            "(ctx.mark_dirty); clone() it first"
        )
    if input._base is not None:
        raise NotImplementedError(
            f"{cls.__name__}: ctx.mark_dirty on a view is not supported in ember; clone() the view "
            "first, or pass the tensor it views"
        )
    input.grad_fn, input._out_nr, input._requires_grad = output.grad_fn, output._out_nr, output._requires_grad
    return input


def _bind_arguments(forward: Any, args: tuple, kwargs: dict) -> tuple:
    """forward's arguments, keywords and defaults included, as the tuple of positional
    arguments that setup_context receives as `inputs` (as PyTorch binds them)."""
    code = getattr(forward, "__code__", None)
    if not kwargs and code is not None and len(args) == code.co_argcount and not code.co_flags & 0x0C:
        return args  # all given, positionally: nothing to bind (0x0C: *args or **kwargs)
    import inspect

    bound = inspect.signature(forward).bind(*args, **kwargs)
    bound.apply_defaults()
    return tuple(bound.args)


# The node's own fields, which apply and the engine set and read. In ember the ctx is the
# node, so a user's forward that stored its own value under one of these names would have
# it overwritten (or would corrupt the node): a silently wrong backward, caught here.
_RESERVED = frozenset(
    (
        "_seq",
        "_n_outputs",
        "_simple",
        "_shapes",
        "_dtypes",
        "_shape",
        "_dtype",
        "_sources",
        "_versions",
        "_version_at",
        "_not_tensor_inputs",
        "_retained",
        "_tensor_hooks",
        "_is_node",
    )
)


def _reserved_error(cls: Any, ctx: Any, edges: tuple) -> None:
    names = sorted(_RESERVED.intersection(ctx.__dict__))
    if ctx._edges is not edges:
        names.append("_edges")
    raise RuntimeError(
        f"{cls.__name__}.forward set ctx.{', ctx.'.join(names)}: ember's ctx is the graph node "
        "itself, which uses these names; store the value under another attribute name"
    )


def _edge(a: Any) -> Any:
    """The edge to input `a` (see `Function._edges`)."""
    if not isinstance(a, Tensor):
        return None
    if a._base is not None and a._version_cell[0] != a._view_at:
        _refresh_view(a)
    if not a._requires_grad:
        return None
    fn = a.grad_fn
    if fn is None:
        return a
    return fn if fn._n_outputs == 1 else (fn, a._out_nr)


def edge_target(edge: Any) -> tuple:
    """(node, output_nr) of an edge that points at a node."""
    return edge if edge.__class__ is tuple else (edge, 0)


def edge_meta(edge: Any) -> tuple:
    """(shape, dtype) of the input an edge points at: a leaf's own, or the node's output's."""
    if isinstance(edge, Tensor):
        return edge._data.shape, edge._data.dtype
    if edge.__class__ is tuple:
        node, nr = edge
        return node._shapes[nr], node._dtypes[nr]
    return edge._shape, edge._dtype


def _as_array(o: Any) -> ndarray:
    if isinstance(o, Tensor):
        return o._data
    if isinstance(o, ndarray):
        return o
    return np.asarray(o)


def _wrap(o: Any) -> Any:
    if o is None:
        return None
    return Tensor(_as_array(o))


def _wrap_output(ctx: Function, o: Any, i: int) -> Any:
    if o is None:
        return None
    data = _as_array(o)
    t = Tensor(data)
    if data.dtype.kind in "fcV" and id(o) not in ctx._non_diff:  # V: bfloat16
        t._requires_grad = True
        t.grad_fn = ctx
        t._out_nr = i
    return t


# ---- once_differentiable --------------------------------------------------------------------

ONCE_MESSAGE = "trying to differentiate twice a function that was marked with @once_differentiable"


def once_differentiable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a Function's backward as having no derivative of its own
    (torch.autograd.function.once_differentiable): it runs without recording, and under
    create_graph, if a gradient it received requires grad, its results are made to require
    grad through a node that raises when a second backward reaches it. Without this, the
    unrecorded results would be constants there: a silently missing second-derivative term.
    """

    class DelayedError(Function):
        """The node on the results of the backward: its own backward raises. (Local to this
        decorator: an implementation detail, not one of ember's classes.)"""

        @staticmethod
        def forward(ctx: Any, *tensors: Any) -> Any:
            outs = tuple(Tensor(t._data) for t in tensors)
            return outs[0] if len(outs) == 1 else outs

        @staticmethod
        def backward(ctx: Any, *grads: Any) -> Any:
            raise RuntimeError(ONCE_MESSAGE)

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not _grad_state[0] or not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            return outputs
        single = outputs.__class__ is not tuple
        results = (outputs,) if single else outputs
        where = [i for i, o in enumerate(results) if isinstance(o, Tensor)]
        if not where:
            return outputs
        # fresh leaves that require grad, so that the error node is recorded on them
        errs = DelayedError.apply(*[Tensor(results[i]._data, requires_grad=True) for i in where])
        errs = errs if errs.__class__ is tuple else (errs,)
        results = list(results)
        for i, e in zip(where, errs):
            results[i] = e
        return results[0] if single else tuple(results)

    return wrapper
