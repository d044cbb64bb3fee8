"""torch.cond and torch.while_loop, run eagerly.

In PyTorch they are control-flow operators for torch.compile, which traces both branches
(or the loop body once) into a graph and checks that their outputs agree in structure,
shape and dtype. ember has no compiler (ember.compile returns its argument), so here they
are what they mean when run: cond calls the branch the predicate picks, while_loop runs the
body while the condition holds. The gradients are those of the operations run. The loop
still checks, at each step, that the body returns what it was given (same number of
values, shapes and dtypes), as PyTorch requires; cond checks only the branch it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ember._tensor import Tensor


def _truth(op: str, what: str, value: Any) -> bool:
    """A bool, or a one-element tensor's value, as the predicate; anything else is refused."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"Expected {what} to be bool or single-element tensor, but got {value}.")
        return bool(value.item())
    if isinstance(value, (bool, int)):
        return bool(value)
    raise RuntimeError(
        f"{op}: expected {what} to be a bool or a single-element tensor, got {type(value).__name__}"
    )


def _operands(op: str, name: str, operands: Any) -> tuple:
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(
            f"{op}: expected {name} to be a tuple or list of tensors, got {type(operands).__name__}"
        )
    return tuple(operands)


def cond(pred: Any, true_fn: Callable[..., Any], false_fn: Callable[..., Any], operands: Any = ()) -> Any:
    """true_fn(*operands) if pred is true, else false_fn(*operands); pred is a bool or a
    one-element tensor (torch.cond, run eagerly: only the chosen branch is called)."""
    if not (callable(true_fn) and callable(false_fn)):
        raise RuntimeError("cond: expected true_fn and false_fn to be callable")
    branch = true_fn if _truth("cond", "pred", pred) else false_fn
    if isinstance(operands, Tensor):  # PyTorch unpacks a tensor given as operands, as `*x` would
        return branch(*operands)
    return branch(*_operands("cond", "operands", operands))


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"Tensor(shape={list(value.shape)}, dtype={value.dtype})"
    return type(value).__name__


def _check_carried(given: tuple, returned: tuple) -> None:
    """The body must return as many values as it was given, each of the same kind, shape and dtype."""
    if len(returned) != len(given):
        raise RuntimeError(
            "Expected body_fn_output and carried_inputs to have same number of outputs but got "
            f"{len(returned)} and {len(given)}"
        )
    for k, (a, b) in enumerate(zip(returned, given)):
        same = isinstance(a, Tensor) == isinstance(b, Tensor) and (
            not isinstance(a, Tensor) or (a.shape == b.shape and a.dtype == b.dtype)
        )
        if not same:
            raise RuntimeError(
                f"Expected body_fn_output and carried_inputs to have same metadata but found: pair[{k}] "
                f"differ: {_describe(a)} vs {_describe(b)}"
            )


def while_loop(cond_fn: Callable[..., Any], body_fn: Callable[..., Any], carried_inputs: Any) -> Any:
    """Run carried = body_fn(*carried) while cond_fn(*carried) is true, and return the last
    carried values (the inputs themselves, as a tuple, when the condition is false at once).
    cond_fn returns a bool or a one-element tensor; body_fn returns as many values as it
    takes, with the same shapes and dtypes (torch.while_loop, run eagerly)."""
    carried = _operands("while_loop", "carried_inputs", carried_inputs)
    result: Any = carried
    while _truth("while_loop", "cond_fn's result", cond_fn(*carried)):
        result = body_fn(*carried)
        returned = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        _check_carried(carried, returned)
        carried = returned
    return result
