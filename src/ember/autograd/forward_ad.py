"""Forward-mode automatic differentiation (torch.autograd.forward_ad), computed from reverse mode.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        value, jvp = forward_ad.unpack_dual(y)   # jvp is J_f(primal) @ tangent

PyTorch carries a tangent along with every operation, by a forward rule per op. ember has a
reverse rule (a backward) for every differentiable op and a way to differentiate those
rules again (create_graph), so it gets the tangents from them instead, when they are asked
for, without one more rule per op:

- `make_dual(x, t)` returns a tensor with x's values whose node has two inputs: x itself
  (so reverse mode through the dual reaches x as before) and a hidden leaf, the level's
  *seed* for this dual, that requires grad. The operations on the dual are then recorded as
  for any tensor that requires grad.
- `unpack_dual(y)` computes y's tangent, the sum over the level's duals of J_y(seed_i) t_i,
  by the "double vjp": with a cotangent u for y, the vector-Jacobian products
  g_i(u) = J_y(seed_i)^T u are linear in u, so the gradient with respect to u of
  sum_i <g_i(u), t_i> is sum_i J_y(seed_i) t_i. That is one backward pass from y with
  create_graph=True, and one backward pass through what it recorded.

What this gives: a tangent for every op whose gradient ember can differentiate again, with
views and in-place ops handled as reverse mode handles them, and nothing added to an
operation when forward AD is not in use. What it costs, and where it differs from PyTorch
(docs/differences.md): two backward passes per unpack_dual; the results of operations on
duals report requires_grad=True and have a grad_fn (they are recorded); operations run
under no_grad are not recorded, so their results have no tangent.

A custom Function with a `jvp` staticmethod gets its outputs' tangents from it, as in
PyTorch: while a level is open, `function._apply_user` (a user Function's apply, never a
built-in op's) is swapped for `_apply_user_with_jvp`, which calls `jvp` with the inputs'
tangents and makes each output a dual of its own, cut from the Function's backward during
tangent passes (`_Primal`), with jvp's result as its tangent. A custom Function without
`jvp` gets its tangents from its backward (PyTorch raises), which must then be
differentiable: unpack_dual raises if it is not (`_checked_backward`).
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple

import numpy as np

from ember.autograd import engine, function, grad_mode
from ember.autograd.function import Function

__all__ = [
    "UnpackedDualTensor",
    "dual_level",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
]


class _Level:
    """An open dual level: its duals' seeds and tangents, and each dual's own tangent (so that
    unpack_dual of a dual made by make_dual gives back the tangent object it was given).

    A seed is held weakly: only the graph of its dual holds it, so that once a dual and
    what was computed from it are gone, its seed, primal and tangent go too (a loop that
    makes a dual per step inside one level keeps only the live ones, and each unpack_dual
    differentiates with respect to those only)."""

    def __init__(self) -> None:
        self.duals: list = []  # (weakref of a dual's seed, its tangent)
        self.direct: dict = {}  # id(dual) -> (weakref of the dual, its tangent)

    def live(self) -> tuple[list, list]:
        """The seeds of the duals still alive and their tangents; the others are dropped."""
        seeds, tangents, kept = [], [], []
        for entry in self.duals:
            seed = entry[0]()
            if seed is not None:
                seeds.append(seed)
                tangents.append(entry[1])
                kept.append(entry)
        if len(kept) != len(self.duals):
            self.duals = kept
            self.direct = {k: v for k, v in self.direct.items() if v[0]() is not None}
        return seeds, tangents


# The open levels (PyTorch allows one at a time, numbered 0).
_levels: list = []


class UnpackedDualTensor(NamedTuple):
    """What unpack_dual returns: the primal, and the tangent (None if there is none)."""

    primal: Any
    tangent: Any


def enter_dual_level() -> int:
    """Open a dual level and return its number (torch.autograd.forward_ad.enter_dual_level).
    Only one can be open at a time, as in PyTorch."""
    if _levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.append(_Level())
    function._apply_user = _apply_user_with_jvp
    return len(_levels) - 1


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the current dual level; the tangents of its duals are gone
    (torch.autograd.forward_ad.exit_dual_level)."""
    current = len(_levels) - 1
    if level is None:
        level = current
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != current:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. This is not supported."
        )
    _levels.pop()
    function._apply_user = _plain_apply_user


class dual_level:
    """Context manager for a dual level: `with dual_level():` enters one and exits it at the
    end of the block (torch.autograd.forward_ad.dual_level)."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: object) -> None:
        exit_dual_level()

    def __call__(self, fn: Any) -> Any:
        """As a decorator: each call of fn runs inside a dual level of its own."""
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with dual_level():
                return fn(*args, **kwargs)

        return wrapper


def _level(level: int | None, where: str) -> _Level | None:
    current = len(_levels) - 1
    if level is None:
        return _levels[-1] if _levels else None
    if level != current or level < 0:
        raise RuntimeError(f"Invalid level given to {where}")
    return _levels[level]


class _MakeDual(Function):
    """The node of a dual: its value is the primal's; the gradient goes to the primal and to
    the level's seed for this dual."""

    raw = True

    @staticmethod
    def forward(ctx: Any, primal: np.ndarray, seed: np.ndarray) -> np.ndarray:
        return primal

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple:
        return grad, grad

    def name(self) -> str:
        return "MakeDualBackward0"


class _Primal(Function):
    """unpack_dual's primal: the dual's value, with reverse mode through it as through the
    dual. While unpack_dual computes tangents its edge is cut (`_tangent`), so that what was
    computed from a primal has no tangent, as in PyTorch."""

    raw = True

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad

    def name(self) -> str:
        return "AliasBackward0"


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A dual tensor: `tensor`'s values, with `tangent` as its forward gradient at the current
    dual level (torch.autograd.forward_ad.make_dual). It shares `tensor`'s memory and its
    version counter; reverse mode through it reaches `tensor`."""
    from ember._tensor import Tensor

    lvl = _level(level, "_make_dual")
    if lvl is None:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
            "enter_dual_level() first."
        )
    for what, t in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual(): expected the {what} to be a Tensor, got {type(t).__name__}")
        if t._data.dtype.kind not in "fcV":
            raise ValueError(f"Expected {what} to be floating point or complex, but got: {t.dtype}")
    if tangent.shape != tensor.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original "
            f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
            f"forward gradient is of size {list(tangent.shape)}."
        )
    known = lvl.direct.get(id(tensor))
    if known is not None and known[0]() is tensor:
        raise RuntimeError(
            "Making a dual Tensor based on a Tensor that already has a forward gradient at the same "
            f"level {len(_levels) - 1} is not supported."
        )
    return _new_dual(lvl, tensor, tangent)


def _new_dual(lvl: _Level, tensor: Any, tangent: Any) -> Any:
    """A dual of `tensor` with a new seed of `lvl` and `tangent`."""
    seed = engine.Tensor(tensor._data)
    seed._requires_grad = True
    with grad_mode.enable_grad():
        dual = _MakeDual.apply(tensor, seed)
    dual._version_cell = tensor._version_cell  # a view of the primal's memory, as in PyTorch
    lvl.duals.append((weakref.ref(seed), tangent))
    lvl.direct[id(dual)] = (weakref.ref(dual), tangent)
    return dual


# ---- custom Functions with a jvp ------------------------------------------------------------

_plain_apply_user = function._apply_user


class _JvpContext:
    """The ctx that a user Function's jvp receives: its node, except that `saved_tensors` are
    the tensors of ctx.save_for_forward."""

    def __init__(self, ctx: Any, saved: tuple) -> None:
        object.__setattr__(self, "_ctx", ctx)
        object.__setattr__(self, "saved_tensors", saved)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._ctx, name, value)


def _apply_user_with_jvp(cls: Any, args: tuple, kwargs: dict) -> Any:
    """A user Function's apply while a dual level is open: as always, and then, if the class
    has a `jvp` and an input has a tangent, the outputs become duals with jvp's tangents."""
    out = _plain_apply_user(cls, args, kwargs)
    jvp = getattr(cls, "jvp", None)
    lvl = _levels[-1] if _levels else None
    if jvp is None or lvl is None or not lvl.duals:
        return out
    from ember.creation import zeros_like

    tangents = []
    any_tangent = False
    for a in args:
        t = None
        if isinstance(a, engine.Tensor) and a._data.dtype.kind in "fcV":
            t = unpack_dual(a).tangent
            any_tangent = any_tangent or t is not None
            t = zeros_like(a) if t is None else t
        tangents.append(t)
    if not any_tangent:
        return out  # no input has a tangent: nor has any output
    single = out.__class__ is not tuple
    outputs = (out,) if single else out
    ctx = next((o.grad_fn for o in outputs if isinstance(o, engine.Tensor) and o.grad_fn is not None), None)
    if ctx is None:
        return out
    saved = ctx.__dict__.get("_saved_forward")
    # jvp's result is recorded only when it must be differentiable (as in `_tangent`)
    differentiable = any(t is not None and t.requires_grad for t in tangents) or any(
        isinstance(a, engine.Tensor) and a.requires_grad and _reaches_other_leaf(a, lvl) for a in args
    )
    with grad_mode.set_grad_enabled(differentiable):
        result = jvp(_JvpContext(ctx, saved) if saved is not None else ctx, *tangents)
    results = (result,) if result.__class__ is not tuple else result
    if len(results) != len(outputs):
        raise RuntimeError(
            f"{cls.__name__}.jvp returned {len(results)} tangents, expected one per output of forward "
            f"({len(outputs)})"
        )
    duals = []
    for o, t in zip(outputs, results):
        if t is None or not isinstance(o, engine.Tensor) or o._data.dtype.kind not in "fcV":
            duals.append(o)
            continue
        if t.shape != o.shape:
            raise RuntimeError(
                f"{cls.__name__}.jvp returned a tangent of shape {list(t.shape)} for an output of shape "
                f"{list(o.shape)}"
            )
        with grad_mode.enable_grad():
            cut = _Primal.apply(o)  # forward mode goes through jvp's tangent, not the backward
        cut._version_cell = o._version_cell
        duals.append(_new_dual(lvl, cut, t))
    return duals[0] if single else tuple(duals)


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent) of `tensor` at the current dual level
    (torch.autograd.forward_ad.unpack_dual): the tangent is the Jacobian of `tensor` with
    respect to the level's duals applied to their tangents, None when `tensor` does not
    depend on any dual (or no level is open). The primal has `tensor`'s values and no
    tangent; reverse mode goes through it as through `tensor`."""
    lvl = _level(level, "_fw_primal")
    if lvl is None or not lvl.duals or not tensor.requires_grad or tensor._data.dtype.kind not in "fcV":
        return UnpackedDualTensor(tensor, None)
    known = lvl.direct.get(id(tensor))
    if known is not None and known[0]() is tensor:
        return UnpackedDualTensor(_primal(tensor, lvl), known[1])
    found, borders, users = _seed_region(tensor, lvl)
    if not found:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_primal(tensor, lvl), _tangent(tensor, lvl, borders, users))


def _primal(tensor: Any, lvl: _Level) -> Any:
    """The primal: detached when nothing but the level's seeds requires grad behind `tensor`
    (PyTorch's primal then does not require grad), else a `_Primal` alias of it."""
    if not _reaches_other_leaf(tensor, lvl):
        return tensor.detach()
    with grad_mode.enable_grad():
        primal = _Primal.apply(tensor)
    primal._version_cell = tensor._version_cell
    return primal


def _reaches_other_leaf(tensor: Any, lvl: _Level) -> bool:
    """Whether the graph behind `tensor` reaches a leaf that requires grad other than the
    level's seeds."""
    live = lvl.live()[0]
    seeds = {id(s) for s in live}
    return _reaches(tensor, lambda leaf: id(leaf) not in seeds)


def _seed_region(tensor: Any, lvl: _Level) -> tuple[bool, list, dict]:
    """Whether the graph behind `tensor` reaches one of the level's seeds other than through
    a primal (`_Primal`), the primal nodes met, and the classes of the custom Functions met
    (whose backward gives their tangents: an iterative walk, no recursion in graph code)."""
    live = lvl.live()[0]
    seeds = {id(s) for s in live}
    if tensor.grad_fn is None:
        return id(tensor) in seeds, [], {}
    found = False
    borders = []
    users: dict = {}
    todo, seen = [tensor.grad_fn], {id(tensor.grad_fn)}
    while todo:
        node = todo.pop()
        if isinstance(node, _Primal):
            borders.append(node)
            continue
        if not node.raw:
            users[type(node)] = True
        for edge in node._edges:
            if edge is None:
                continue
            if isinstance(edge, engine.Tensor):
                found = found or id(edge) in seeds
                continue
            target = edge[0] if edge.__class__ is tuple else edge
            if id(target) not in seen:
                seen.add(id(target))
                todo.append(target)
    return found, borders, users


def _reaches(tensor: Any, wanted: Any) -> bool:
    """Whether the graph behind `tensor` reaches a leaf for which `wanted(leaf)` holds (an
    iterative walk: no recursion in graph code)."""
    fn = tensor.grad_fn
    if fn is None:
        return wanted(tensor)
    todo, seen = [fn], {id(fn)}
    while todo:
        node = todo.pop()
        for edge in node._edges:
            if edge is None:
                continue
            if isinstance(edge, engine.Tensor):
                if wanted(edge):
                    return True
                continue
            target = edge[0] if edge.__class__ is tuple else edge
            if id(target) not in seen:
                seen.add(id(target))
                todo.append(target)
    return False


def _tangent(tensor: Any, lvl: _Level, borders: list, users: dict) -> Any:
    """sum_i J_tensor(seed_i) t_i, by two backward passes (see the module's docstring), with
    the edges of the primal nodes in `borders` cut meanwhile: the passes do not go behind
    them (where a custom Function's backward, or a graph already freed, may be). When
    `users` (the custom Function classes met) is not empty, their backwards are checked
    meanwhile (`_check_backwards`)."""
    from ember.autograd.functional import grad
    from ember.creation import zeros_like

    seeds, tangents = lvl.live()
    differentiable = any(t.requires_grad for t in tangents) or _reaches_other_leaf(tensor, lvl)
    cut = [(node, node._edges) for node in borders]
    for node in borders:
        node._edges = (None,)
    swapped = _check_backwards([tensor], seeds) if users else []
    try:
        with grad_mode.enable_grad():
            u = zeros_like(tensor, requires_grad=True)
            vjps = grad(tensor, seeds, u, retain_graph=True, create_graph=True, allow_unused=True)
            # <g, t> as real vectors (a complex number is its two parts): the vjp g is the real
            # Jacobian's transpose applied to u, so that this inner product's gradient with
            # respect to u is the real Jacobian applied to t, PyTorch's tangent
            terms = [
                (g.conj() * t).real.sum() if g.is_complex() else (g * t).sum()
                for g, t in zip(vjps, tangents)
                if g is not None
            ]
            if not terms:
                return None
            total = terms[0]
            for term in terms[1:]:
                total = total + term
            if not total.requires_grad:  # the backward rules gave constants: a zero derivative
                return zeros_like(tensor)
            (result,) = grad(total, u, create_graph=differentiable, allow_unused=True, materialize_grads=True)
    finally:
        for node, edges in cut:
            node._edges = edges
        _restore_backwards(swapped)
    return result if differentiable else result.detach()


def _check_backwards(roots: list, targets: list) -> list:
    """Swap the backward of each custom Function class met behind `roots` on a path to one
    of the leaves `targets` for its checked version (`_checked_backward`), which checks the
    gradients of the inputs on such paths only; `_restore_backwards` of the result puts
    them back."""
    classes, reach = _paths_to(roots, {id(t) for t in targets})
    swapped = [(cls, cls.__dict__.get("backward")) for cls in classes]
    for cls, _ in swapped:
        cls.backward = staticmethod(_checked_backward(cls, cls.backward, reach))
    return swapped


def _restore_backwards(swapped: list) -> None:
    for cls, original in reversed(swapped):
        if original is None:
            del cls.backward
        else:
            cls.backward = original


def _paths_to(roots: list, targets: set) -> tuple[dict, set]:
    """The classes of the custom Function nodes behind `roots` from which one of the leaves
    whose ids are `targets` is reached, and the ids of those leaves and of every node from
    which one is (an iterative walk; a node's inputs are older nodes, `_seq`)."""
    nodes = []
    todo = [t.grad_fn for t in roots if t.grad_fn is not None]
    seen = {id(n) for n in todo}
    while todo:
        node = todo.pop()
        nodes.append(node)
        for edge in node._edges:
            if edge is None or isinstance(edge, engine.Tensor):
                continue
            target = edge[0] if edge.__class__ is tuple else edge
            if id(target) not in seen:
                seen.add(id(target))
                todo.append(target)
    reach = set(targets)
    for node in sorted(nodes, key=lambda n: n._seq):
        for edge in node._edges:
            if edge is not None and id(edge[0] if edge.__class__ is tuple else edge) in reach:
                reach.add(id(node))
                break
    classes = {type(node): True for node in nodes if not node.raw and id(node) in reach}
    return classes, reach


def _checked_backward(cls: type, backward: Any, reach: set) -> Any:
    """`backward` of custom Function class `cls`, checked while unpack_dual differentiates it
    again: a gradient it returns that does not depend on the gradient it received (computed
    from `.detach()`ed values or NumPy arrays) would make the tangent through it silently
    zero, so it raises instead (PyTorch raises for any custom Function without a jvp)."""

    def checked(ctx: Any, *grads: Any) -> Any:
        result = backward(ctx, *grads)
        if not any(isinstance(g, engine.Tensor) and g.requires_grad for g in grads):
            return result
        results = result if result.__class__ is tuple else (result,)
        for edge, r in zip(ctx._edges, results):
            if edge is None or id(edge[0] if edge.__class__ is tuple else edge) not in reach:
                continue  # an input on no path to the tangents' sources: its gradient is not used
            if r is not None and not (isinstance(r, engine.Tensor) and r.requires_grad):
                raise RuntimeError(
                    f"{cls.__name__}'s backward is not differentiable (a gradient it returns does not "
                    "depend on the gradient it receives), so forward mode cannot get its tangent from "
                    "it: give the Function a jvp staticmethod, or make its backward differentiable"
                )
        return result

    return checked
