"""Optimizer: the base class that holds parameter groups and per-parameter state.

An optimizer keeps `param_groups`, a list of dicts that each hold some parameters and the
options that apply to them (lr, momentum, ...), and `state`, a dict keyed by the parameter
tensor itself. Subclasses implement `_update_group(group)`, which reads the options of one
group and changes the arrays of its parameters in place; the base class's `step` evaluates
the closure and walks the groups.

Updates work on the NumPy arrays inside the tensors (`p._data`), so no graph is recorded
and a parameter stays the same object (a model's layers keep pointing at it). State values
are ember Tensors, so that `state_dict()` looks like PyTorch's.

Sparse gradients (`nn.Embedding(sparse=True)`) are stepped by SGD, Adagrad, SparseAdam and
LBFGS, and refused by the others with PyTorch's errors. The layout of each gradient is
checked only once a sparse gradient exists in the process (`sparse_grads_seen`, set where
one is stored): until then `step` runs `_update_group` as before, so dense training pays
nothing for them.

Hooks run as in PyTorch: step pre- and post-hooks (per optimizer, and global ones from
`register_optimizer_step_pre_hook`), state_dict and load_state_dict pre- and post-hooks.
The step hooks run in a wrapper around each optimizer class's own `step` (a subclass's
too), as PyTorch's; ember installs the wrappers only once a step hook is registered, so
that a training loop without hooks pays nothing for them.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any

import numpy as np

from ember import dtypes
from ember._layout import SparseUnsupportedError, strided
from ember._layout import sparse_grads_seen as _sparse_grads_seen
from ember._tensor import Tensor
from ember.autograd import engine
from ember.autograd.grad_mode import enable_grad
from ember.utils.hooks import RemovableHandle, add_hook

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class _RequiredParameter:
    """The default of an option that every parameter group must give (torch.optim.optimizer.required)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _check(ok: bool, what: str, value: Any) -> None:
    """Raise PyTorch's ValueError for an invalid optimizer option."""
    if not ok:
        raise ValueError(f"Invalid {what}: {value}")


def _check_betas(betas: tuple[float, float]) -> None:
    _check(0.0 <= betas[0] < 1.0, "beta parameter at index 0", betas[0])
    _check(0.0 <= betas[1] < 1.0, "beta parameter at index 1", betas[1])


def _check_flags(differentiable: bool) -> None:
    if differentiable:
        raise NotImplementedError(
            "ember's optimizers update parameters in place outside the graph; "
            "differentiable=True is not supported"
        )


def _check_fused(fused: bool | None, foreach: bool | None) -> None:
    """PyTorch's check of the optimizers that have a fused kernel (SGD, Adam, AdamW,
    Adagrad), made as it makes it, after the parameters are checked. ember has one way to
    compute each update, so both flags are otherwise ignored."""
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


_global_optimizer_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
_global_optimizer_post_hooks: OrderedDict[int, Callable] = OrderedDict()
_HOOK_DICTS = (
    "_optimizer_step_pre_hooks",
    "_optimizer_step_post_hooks",
    "_optimizer_state_dict_pre_hooks",
    "_optimizer_state_dict_post_hooks",
    "_optimizer_load_state_dict_pre_hooks",
    "_optimizer_load_state_dict_post_hooks",
)


_step_hooks_in_use = False  # set by the first step hook: from then on every step is wrapped


def register_optimizer_step_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Run hook(optimizer, args, kwargs) before every optimizer's step
    (torch.optim.optimizer.register_optimizer_step_pre_hook); it may return new (args, kwargs)."""
    _wrap_every_step()
    return add_hook(_global_optimizer_pre_hooks, hook, False)


def register_optimizer_step_post_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Run hook(optimizer, args, kwargs) after every optimizer's step
    (torch.optim.optimizer.register_optimizer_step_post_hook)."""
    _wrap_every_step()
    return add_hook(_global_optimizer_post_hooks, hook, False)


def _wrap_every_step() -> None:
    """Wrap the `step` of Optimizer and of every subclass that defines its own; classes made
    later are wrapped when their first instance is (Optimizer._patch_step_function)."""
    global _step_hooks_in_use
    _step_hooks_in_use = True
    classes = [Optimizer]
    while classes:
        cls = classes.pop()
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _with_step_hooks(step)  # type: ignore[method-assign]
        classes.extend(cls.__subclasses__())


def _with_step_hooks(step: Callable[..., Any]) -> Callable[..., Any]:
    """step, running the step hooks around it when there are any (Optimizer.profile_hook_step)."""

    @functools.wraps(step)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        self = args[0]
        if not (
            self._optimizer_step_pre_hooks
            or self._optimizer_step_post_hooks
            or _global_optimizer_pre_hooks
            or _global_optimizer_post_hooks
        ):
            return step(*args, **kwargs)
        for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                    )
        out = step(*args, **kwargs)
        for post_hook in chain(
            self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()
        ):
            post_hook(self, args, kwargs)
        return out

    wrapper.hooked = True  # type: ignore[attr-defined]
    return wrapper


def _typename(obj: Any) -> str:
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


class Optimizer:
    """Base class of all optimizers (torch.optim.Optimizer).

    `params` is an iterable of tensors, of (name, tensor) pairs, or of dicts that each
    define a parameter group ({'params': [...], 'lr': ...}); options missing from a group
    are taken from `defaults`. The flags `foreach`, `fused` and `capturable` that PyTorch's
    optimizers take are accepted and stored (so reprs and state dicts match) but change
    nothing: ember has one implementation of each algorithm.
    """

    # PyTorch's error for a sparse gradient, or None in the optimizers that step them (which
    # define _sparse_update)
    _sparse_error: str | None = "this optimizer does not support sparse gradients"
    # and, in those, PyTorch's error for a sparse gradient with fused=True
    _fused_sparse_error = "`fused` does not support sparse gradients"

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {_typename(params)}"
            )
        self.defaults = defaults
        for name in _HOOK_DICTS:
            setattr(self, name, OrderedDict())
        if _step_hooks_in_use:
            self._patch_step_function()
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(dict(group))

    # ---- hooks -------------------------------------------------------------------------

    def _patch_step_function(self) -> None:
        cls = type(self)
        if not getattr(cls.step, "hooked", False):
            cls.step = _with_step_hooks(cls.step)  # type: ignore[method-assign]

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Run hook(optimizer, args, kwargs) before each step; it may return new (args, kwargs)
        (torch.optim.Optimizer.register_step_pre_hook)."""
        _wrap_every_step()
        return add_hook(self._optimizer_step_pre_hooks, hook, False)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Run hook(optimizer, args, kwargs) after each step (torch.optim.Optimizer.register_step_post_hook)."""
        _wrap_every_step()
        return add_hook(self._optimizer_step_post_hooks, hook, False)

    def register_state_dict_pre_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Run hook(optimizer) before `state_dict()` builds the dict."""
        return add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Run hook(optimizer, state_dict) on the dict `state_dict()` returns; a dict it returns replaces it."""
        return add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Run hook(optimizer, state_dict) before `load_state_dict` loads; a dict it returns is loaded instead."""
        return add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Run hook(optimizer) after `load_state_dict` has loaded."""
        return add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ---- parameter groups -------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (torch.optim.Optimizer.add_param_group)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering "
                "of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing"
                )
            param_group["param_names"] = names

        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}"
                )
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
            if p.layout is not strided:
                # a sparse tensor's gradient lives on its values, not in the `_grad` slot the
                # steps read: it would be skipped as having none, and never zeroed
                raise NotImplementedError(
                    f"ember's optimizers update dense (strided) parameters only, got one with layout "
                    f"{p.layout}; optimize the values of the sparse tensor instead"
                )

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)

        if len(params) != len(set(params)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; "
                "in future, this will cause an error",
                stacklevel=3,
            )
        seen: set[Tensor] = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if not seen.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- the training-loop API -----------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set `.grad` to None, or fill it with zeros (torch.optim.Optimizer.zero_grad)."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad  # the slot behind .grad: None needs no check
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    try:
                        grad._data.fill(0)
                    except SparseUnsupportedError:  # a sparse gradient: no entries any more
                        grad.zero_()
                        continue
                    grad._version_cell[0] += 1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return the closure's loss (torch.optim.Optimizer.step).

        The closure, if given, recomputes the loss (zero_grad, forward, backward) and runs with
        gradient recording on even inside `no_grad`.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        update = self._update_group_checked if _sparse_grads_seen[0] else self._update_group
        for group in self.param_groups:
            update(group)
        return loss

    def _update_group_checked(self, group: dict[str, Any]) -> None:
        """`_update_group`, once sparse gradients exist: a group with a sparse gradient raises
        PyTorch's error before anything is updated, or, in an optimizer that takes them, has
        its dense parameters stepped by `_update_group` and its sparse ones by
        `_sparse_update`."""
        sparse = [p for p in group["params"] if p._grad is not None and p._grad.layout is not strided]
        if not sparse:
            self._update_group(group)
            return
        if self._sparse_error is not None:
            raise RuntimeError(self._sparse_error)
        if group.get("fused"):
            raise RuntimeError(self._fused_sparse_error)
        ids = {id(p) for p in sparse}
        dense = [p for p in group["params"] if id(p) not in ids]
        if dense:
            self._update_group({**group, "params": dense})
        for p in sparse:
            self._sparse_update(p, group)

    def _sparse_update(self, p: Tensor, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not step sparse gradients")

    def _params_with_grad(self, group: dict[str, Any]) -> Iterator[tuple[Tensor, np.ndarray, np.ndarray]]:
        """(parameter, its array, its gradient's array) for each parameter of the group that
        has a gradient; the gradient negated when the group maximizes. A complex parameter is
        stepped as PyTorch's optimizers step one, through real views of shape (..., 2)
        (`_complex_step`)."""
        maximize = group["maximize"]
        for p in group["params"]:
            grad = p._grad
            if grad is not None:
                g = grad._data
                if g.dtype.kind == "c":
                    yield from self._complex_step(p, -g if maximize else g)
                    continue
                yield p, p._data, (-g if maximize else g)

    def _complex_step(self, p: Tensor, g: np.ndarray) -> Iterator[tuple[Tensor, np.ndarray, np.ndarray]]:
        """One step of a complex parameter: its real and imaginary parts updated as two real
        parameters (g * g, sqrt, sign, max mean nothing else for complex numbers), as
        PyTorch does through view_as_real. Its state is kept as PyTorch keeps it, complex
        and of the parameter's shape; for the step, each such state tensor holds its real
        view (..., 2) instead, and afterwards its own array again, and a state tensor the
        step made from the real views becomes complex. The real path never comes here."""
        shape = p._data.shape
        p_state = self.state.get(p)
        swapped = []
        if p_state:
            for t in p_state.values():
                if isinstance(t, Tensor) and t._data.dtype.kind == "c" and t._data.shape == shape:
                    swapped.append((t, t._data))
                    t._data = _real_view(t._data)
        try:
            yield p, _real_view(p._data), _real_view(g)
        finally:
            for t, array in swapped:
                t._data = array
            p_state = self.state.get(p)
            if p_state:
                pairs = (*shape, 2)
                for t in p_state.values():
                    if isinstance(t, Tensor) and t._data.dtype.kind == "f" and t._data.shape == pairs:
                        t._data = _as_complex(t._data, p._data.dtype)

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define step() or _update_group(group)")

    # ---- saving and resuming ---------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The options and state, with parameters replaced by their index (torch.optim.Optimizer.state_dict).

        `{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`. As in
        PyTorch the state tensors are the optimizer's own (not copies): save or deep-copy
        the result before training further if it must stay as it is.
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by `state_dict()` (torch.optim.Optimizer.load_state_dict).

        State tensors are copied (floating-point ones cast to their parameter's dtype, except
        'step'), so the loaded optimizer never shares memory with the dict.
        """
        state_dict = dict(state_dict)  # a shallow copy for the hooks, as PyTorch's
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )
        by_index = dict(
            zip(
                chain.from_iterable(s["params"] for s in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in by_index:
                param = by_index[k]
                state[param] = {key: _copy_state(param, key, value) for key, value in v.items()}
            else:
                state[k] = v
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in _HOOK_DICTS:  # an unpickled or deep-copied optimizer has no hooks
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        if _step_hooks_in_use:  # an unpickled optimizer of a class that has no instance yet
            self._patch_step_function()

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            if i:
                lines.append("")  # PyTorch separates the groups by a blank line
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"


def _real_view(a: np.ndarray) -> np.ndarray:
    """A real array, or a complex one's (real, imaginary) pairs along a new last dim of
    size 2, a view that writes through (what torch.view_as_real gives). A NumPy scalar
    (the engine's 0-d gradient) is made an array first: as_strided would view 2 parts of
    the 1 in the scalar's copy, reading memory past it."""
    if a.dtype.kind != "c":
        return a
    if not isinstance(a, np.ndarray):
        a = np.asarray(a)
    parts = a.real
    return np.lib.stride_tricks.as_strided(
        parts, (*a.shape, 2), (*a.strides, parts.itemsize), writeable=a.flags.writeable
    )


# ids of the leaves whose grad_dtype was ever set (autograd/engine.py): only those can hold a
# gradient of another dtype than their own, since Tensor.grad refuses one elsewhere
grad_dtypes = engine._grad_dtypes


def refuse_other_grad_dtypes(group: dict[str, Any]) -> None:
    """Refuse a gradient whose dtype differs from its parameter's, as PyTorch's optimizers
    that lerp the gradient into their state (Adam, AdamW, Adamax, NAdam, RAdam, a centered
    RMSprop) and its fused kernels (Adam, AdamW, Adagrad; not SGD's here, to keep its step
    free of the test) refuse it, with their messages, and before any parameter moves
    (PyTorch's AdamW has decayed the ones before by then). Their steps call this only while
    `grad_dtypes` is not empty, so an ordinary step pays one test of an empty dict. The
    others step such a gradient, as PyTorch's."""
    for p in group["params"]:
        grad = p._grad
        if grad is not None and id(p) in grad_dtypes and grad._data.dtype != p._data.dtype:
            raise RuntimeError(_other_grad_dtype_error(p._data.dtype, grad._data.dtype, group.get("fused")))


def _other_grad_dtype_error(want: np.dtype, got: np.dtype, fused: bool | None) -> str:
    """PyTorch's message for a gradient of dtype `got` beside a parameter of dtype `want`."""
    if fused:  # the fused kernels' checks: float16 gradients fail their grouping first
        if got == np.float16:
            return (
                "Tensors of the same index must be on the same device and the same dtype except "
                "`step` tensors that can be CPU and float32/64, and optimizer states that can be "
                "bfloat16 for mixed-precision training"
            )
        return (
            f"expected scalar type {dtypes.scalar_type_name(want)} but found {dtypes.scalar_type_name(got)}"
        )
    # lerp_'s, which steps a complex parameter through real views (_complex_step)
    want, got = (np.finfo(d).dtype if d.kind == "c" else d for d in (want, got))
    return (
        f"expected dtype {dtypes.type_meta_name(want)} for `end` but got dtype {dtypes.type_meta_name(got)}"
    )


def _refuse_complex(group: dict[str, Any], name: str) -> None:
    """Raise PyTorch's error if a parameter of the group about to be stepped is complex."""
    for p in group["params"]:
        if p._grad is not None and p._data.dtype.kind == "c":
            raise RuntimeError(f"{name} does not support complex parameters")


def _as_complex(pairs: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The complex array of `dtype` whose (real, imaginary) pairs are the last dim of `pairs`
    (what torch.view_as_complex gives; a view when `pairs` is contiguous)."""
    part = np.finfo(dtype).dtype
    pairs = np.ascontiguousarray(pairs, dtype=part)
    return pairs.view(dtype)[..., 0]


def _copy_state(param: Tensor, key: Any, value: Any) -> Any:
    """A deep copy of one state value; floating tensors take the parameter's dtype, except 'step'."""
    if isinstance(value, Tensor):
        data = value._data
        floating = key != "step" and data.dtype.kind == "f" and param._data.dtype.kind == "f"
        if value.layout is not strided:  # SGD's sparse momentum buffer
            copied = value.detach().clone()
            return copied.to(param.dtype) if floating else copied
        if floating:
            return Tensor(data.astype(param._data.dtype, copy=True))
        return Tensor(np.array(data, copy=True))
    if isinstance(value, dict):
        return {k: _copy_state(param, k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):  # LBFGS keeps its history as lists of tensors
        return type(value)(_copy_state(param, key, v) for v in value)
    return copy.deepcopy(value)


def _new_step() -> Tensor:
    """The step counter PyTorch keeps per parameter: a 0-d float32 tensor."""
    return Tensor(np.zeros((), dtype=np.float32))


def _advance(step: Tensor) -> float:
    """Add one to a step counter in place and return it as a Python float."""
    counter = step._data
    counter += 1
    return float(counter)
