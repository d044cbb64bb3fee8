"""Hooks of a Module: the slow path of Module.__call__, and the identity nodes through which
backward hooks see a call's gradients (registering them: ember.utils.hooks.add_hook)."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.autograd.grad_mode import is_grad_enabled
from ember.ops.elementwise import Op
from ember.utils.hooks import RemovableHandle

# ---- the global hooks, on every Module (torch.nn.modules.module.register_module_*_hook) ----
# They run before each module's own hooks. `_global_call_hooks` holds the ids of all the
# forward and backward ones, so that Module.__call__ sees with one look that there are none.

_global_call_hooks: dict = {}
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_with_kwargs: dict = {}
_global_forward_hooks_always_called: dict = {}
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()
_global_buffer_registration_hooks: OrderedDict = OrderedDict()
_global_parameter_registration_hooks: OrderedDict = OrderedDict()
_global_module_registration_hooks: OrderedDict = OrderedDict()


def _add_global(
    hooks: dict, hook: Callable[..., Any], flags: tuple = (), call: bool = True
) -> RemovableHandle:
    """Store a global hook as add_hook does; `call`: a forward or backward one."""
    handle = RemovableHandle(hooks, [side for side, _ in flags] + ([_global_call_hooks] if call else []))
    hooks[handle.id] = hook
    for side, on in flags:
        if on:
            side[handle.id] = True
    if call:
        _global_call_hooks[handle.id] = True
    return handle


def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call `hook(module, args)` before the forward of every module (before its own pre-hooks);
    a non-None result replaces the inputs."""
    return _add_global(_global_forward_pre_hooks, hook)


def register_module_forward_hook(
    hook: Callable[..., Any], *, with_kwargs: bool = False, always_call: bool = False
) -> RemovableHandle:
    """Call `hook(module, args, output)` (with_kwargs: `hook(module, args, kwargs, output)`)
    after the forward of every module, before its own forward hooks; a non-None result
    replaces the output. always_call=True calls it even when forward raises."""
    flags = (
        (_global_forward_hooks_with_kwargs, with_kwargs),
        (_global_forward_hooks_always_called, always_call),
    )
    return _add_global(_global_forward_hooks, hook, flags)


def register_module_full_backward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call `hook(module, grad_output)` in the backward of every module, before its own."""
    return _add_global(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call `hook(module, grad_input, grad_output)` in the backward of every module, before its own."""
    return _add_global(_global_backward_hooks, hook)


def register_module_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Deprecated in PyTorch (it sees only a module's last operation); ember has none."""
    raise NotImplementedError(
        "ember has no register_module_backward_hook (deprecated in PyTorch, where it sees only "
        "the module's last operation); use register_module_full_backward_hook(hook)"
    )


def register_module_buffer_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call `hook(module, name, buffer)` whenever a module registers a buffer; a non-None
    result is registered instead."""
    return _add_global(_global_buffer_registration_hooks, hook, call=False)


def register_module_parameter_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call `hook(module, name, param)` whenever a module registers a parameter; a non-None
    result is registered instead."""
    return _add_global(_global_parameter_registration_hooks, hook, call=False)


def register_module_module_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call `hook(module, name, submodule)` whenever a module registers a submodule; a non-None
    result is registered instead."""
    return _add_global(_global_module_registration_hooks, hook, call=False)


def registered(hooks: dict, module: Any, name: str, value: Any) -> Any:
    """`value` after the global registration `hooks` (each may replace it)."""
    for hook in list(hooks.values()):
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


def call_with_hooks(module: Any, args: tuple, kwargs: dict) -> Any:
    """Pre-hooks may replace the inputs, then forward runs, then hooks may replace the output.

    If anything in there raises, the forward hooks registered with always_call=True that
    have not run yet are called (with the output so far: None when forward raised), then
    the error goes on; an error of such a hook is turned into a warning so as not to hide it.
    """
    output = None
    called = set()  # the always_call hooks already called
    try:
        for hook_id, hook in [*_global_forward_pre_hooks.items(), *module._forward_pre_hooks.items()]:
            if hook_id in module._forward_pre_hooks_with_kwargs:
                result = hook(module, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                            f"but got {result}."
                        )
                    args, kwargs = result
            else:
                result = hook(module, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward = (
            module._backward_hooks
            or module._backward_pre_hooks
            or _global_backward_hooks
            or _global_backward_pre_hooks
        ) and is_grad_enabled()
        if backward:
            args, state = wrap_inputs(module, args)
        output = module.forward(*args, **kwargs)
        for hook_id, hook in [*_global_forward_hooks.items(), *module._forward_hooks.items()]:
            if (
                hook_id in module._forward_hooks_always_called
                or hook_id in _global_forward_hooks_always_called
            ):
                called.add(hook_id)  # before the call: a hook that raises is not called again
            if hook_id in module._forward_hooks_with_kwargs or hook_id in _global_forward_hooks_with_kwargs:
                result = hook(module, args, kwargs, output)
            else:
                result = hook(module, args, output)
            if result is not None:
                output = result
        return wrap_outputs(state, output) if backward else output
    except Exception:
        for hook_id, hook in [*_global_forward_hooks.items(), *module._forward_hooks.items()]:
            always = module._forward_hooks_always_called
            if (
                hook_id in called
                or hook_id not in always
                and hook_id not in _global_forward_hooks_always_called
            ):
                continue
            try:
                if (
                    hook_id in module._forward_hooks_with_kwargs
                    or hook_id in _global_forward_hooks_with_kwargs
                ):
                    result = hook(module, args, kwargs, output)
                else:
                    result = hook(module, args, output)
            except Exception as error:
                warnings.warn(
                    "module forward hook with ``always_call=True`` raised an exception that was "
                    f"silenced as another error was raised in forward: {error}",
                    stacklevel=3,
                )
                continue
            if result is not None:
                output = result
        raise


# ---- backward hooks ------------------------------------------------------------------------


class BackwardHookState:
    """One call of a module with backward hooks (torch.nn.Module.register_full_backward_hook).

    The call's tensor arguments go through one identity node and its tensor outputs through
    another. In backward the outputs' node runs first: it hands grad_output to the backward
    pre-hooks (which may replace it) and keeps it; then the inputs' node gets grad_input and
    calls the hooks with both, which may replace grad_input. When no argument requires grad
    there is no inputs' node, and the hooks run at the outputs' node with grad_input all
    None, as in PyTorch.
    """

    def __init__(self, module: Any, n_args: int, tensor_positions: list[int]) -> None:
        self.module = module
        self.n_args = n_args
        self.tensor_positions = tensor_positions  # where in args the tensors are
        self.arg_meta: list = []  # (shape, dtype) of each of those tensors
        self.grad_output: tuple | None = None
        # the output's items (1 for a tensor) and where the wrapped tensors are among them:
        # grad_output has one entry per item, None for a non-tensor, as in PyTorch
        self.n_outputs = 0
        self.output_positions: list[int] = []
        self.wraps_inputs = False


def _as_tensors(grads: tuple) -> tuple:
    return tuple(g if g is None or isinstance(g, Tensor) else Tensor(g) for g in grads)


def _as_grads(tensors: tuple, like: tuple) -> tuple:
    """The hooks' tensors back in the engine's form: arrays, or Tensors under create_graph."""
    return tuple(
        t if t is None or not isinstance(t, Tensor) or isinstance(g, Tensor) else t._data
        for t, g in zip(tensors, like)
    )


def _checked(result: Any, expected: int, what: str) -> tuple:
    if not isinstance(result, (tuple, list)) or len(result) != expected:
        got = len(result) if isinstance(result, (tuple, list)) else type(result).__name__
        raise RuntimeError(
            f"Backward hook returned an invalid number of {what}, got {got}, but expected {expected}"
        )
    return tuple(result)


def _call_full_hooks(state: BackwardHookState, grad_input: tuple) -> tuple:
    for hook in [*_global_backward_hooks.values(), *state.module._backward_hooks.values()]:
        result = hook(state.module, grad_input, state.grad_output)
        if result is not None:
            grad_input = _checked(result, state.n_args, "grad_input")
    return grad_input


def _outputs_backward(state: BackwardHookState, grads: tuple) -> tuple:
    grad_output = [None] * state.n_outputs
    for position, g in zip(state.output_positions, _as_tensors(grads)):
        grad_output[position] = g
    grad_output = tuple(grad_output)
    for hook in [*_global_backward_pre_hooks.values(), *state.module._backward_pre_hooks.values()]:
        result = hook(state.module, grad_output)
        if result is not None:
            grad_output = _checked(result, state.n_outputs, "grad_output")
    state.grad_output = grad_output
    if not state.wraps_inputs and (state.module._backward_hooks or _global_backward_hooks):
        warnings.warn(
            "Full backward hook is firing when gradients are computed with respect to module "
            "outputs since no inputs require gradients.",
            stacklevel=2,
        )
        _call_full_hooks(state, (None,) * state.n_args)
    return _as_grads(tuple(grad_output[p] for p in state.output_positions), grads)


def _inputs_backward(state: BackwardHookState, grads: tuple) -> tuple:
    # a tensor argument that got no gradient (or does not require one) gets zeros, as in PyTorch
    grad_input = [None] * state.n_args
    for position, g, (shape, dtype) in zip(state.tensor_positions, _as_tensors(grads), state.arg_meta):
        grad_input[position] = Tensor(np.zeros(shape, dtype)) if g is None else g
    grad_input = _call_full_hooks(state, tuple(grad_input))
    return _as_grads(tuple(grad_input[p] for p in state.tensor_positions), grads)


class BackwardHookFunction(Op):
    """Tensors passed through unchanged; in backward, their gradients go through the
    module's hooks (`role` says which side of the module this node is on)."""

    @staticmethod
    def forward(ctx, state, role, requires, *arrays):
        ctx.state, ctx.role = state, role
        outputs = tuple(a.view() for a in arrays)  # new arrays on the same memory
        # an argument that did not require grad comes out as one that does not either
        ctx.mark_non_differentiable(*(o for o, r in zip(outputs, requires) if not r))
        return outputs

    @staticmethod
    def backward(ctx, *grads):
        run = _outputs_backward if ctx.role == "outputs" else _inputs_backward
        return (None, None, None, *run(ctx.state, grads))


def wrap_inputs(module: Any, args: tuple) -> tuple[tuple, BackwardHookState]:
    """args with its tensors passed through the inputs' identity node (when one of them
    requires grad), and the call's state."""
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    state = BackwardHookState(module, len(args), positions)
    state.arg_meta = [(args[i]._data.shape, args[i]._data.dtype) for i in positions]
    if any(args[i].requires_grad for i in positions):
        state.wraps_inputs = True
        passed = BackwardHookFunction.apply(
            state, "inputs", [args[i].requires_grad for i in positions], *[args[i] for i in positions]
        )
        args = list(args)
        for i, t in zip(positions, passed):
            args[i] = t
        args = tuple(args)
    return args, state


def wrap_outputs(state: BackwardHookState, output: Any) -> Any:
    """The module's output with its tensors (the output itself, or the items of a tuple or
    list) passed through the outputs' identity node."""
    single = isinstance(output, Tensor)
    items = [output] if single else list(output) if isinstance(output, (tuple, list)) else []
    positions = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
    if not positions:
        return output
    state.n_outputs, state.output_positions = len(items), positions
    passed = BackwardHookFunction.apply(
        state, "outputs", [True] * len(positions), *[items[i] for i in positions]
    )
    for i, t in zip(positions, passed):
        items[i] = t
    return items[0] if single else type(output)(items)
