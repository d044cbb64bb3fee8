"""Calling a module with other parameters and buffers than its own
(torch.nn.utils.stateless.functional_call).

The given tensors take the place of the module's for the duration of one call and the
module's own are put back afterwards, even when the call raises. The call is recorded as
usual, so gradients flow to the given tensors: this is how a loss is differentiated with
respect to weights that the module does not hold (meta-learning, per-example gradients,
a model's output as a function of its weights).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ember._tensor import Tensor
from ember.nn.module import Module

__all__ = ["functional_call"]

_MISSING = object()


def _untie(module: Module, values: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """values, extended to every other name of a tensor the module shares between names
    (tied weights), so that the tie holds in the call; two different values for one tied
    tensor raise."""
    names_of: dict[int, set[str]] = {}  # id(tensor) -> its names in the module
    for name, tensor in (
        *module.named_parameters(remove_duplicate=False),
        *module.named_buffers(remove_duplicate=False),
    ):
        names_of.setdefault(id(tensor), set()).add(name)
    untied = dict(values)
    for tied in (names for names in names_of.values() if len(names) > 1):
        given = tied & values.keys()
        if not given:
            continue
        if len({id(values[name]) for name in given}) > 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(tied)}, which are tied. "
                "Consider using tie_weights=False"
            )
        value = values[next(iter(given))]
        untied.update(dict.fromkeys(tied, value))
    return untied


def _check_keys(module: Module, values: Mapping[str, Tensor]) -> None:
    expected = [name for name, _ in module.named_parameters(remove_duplicate=False)]
    expected += [name for name, _ in module.named_buffers(remove_duplicate=False)]
    unexpected = [name for name in values if name not in set(expected)]
    missing = [name for name in expected if name not in values]
    messages = []
    if unexpected:
        messages.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        messages.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if messages:
        raise RuntimeError(
            f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(messages)
        )


def _owner(module: Module, name: str) -> tuple[Module, str]:
    """The submodule that holds the dotted `name`, and the name's last part."""
    *path, leaf = name.split(".")
    for part in path:
        child = module._modules.get(part)
        if child is None:
            raise AttributeError(f"{module._get_name()} has no attribute `{part}`")
        module = child
    return module, leaf


def _swap(module: Module, name: str, value: Any) -> Any:
    """Put value in the place of module.<name>, without the checks of assignment (a plain
    tensor may stand in for a Parameter); return what was there (_MISSING for nothing)."""
    for store in (module._parameters, module._buffers):
        if name in store:
            old = store[name]
            store[name] = value
            return old
    old = module.__dict__.get(name, _MISSING)
    if value is _MISSING:
        del module.__dict__[name]
    else:
        module.__dict__[name] = value
    return old


@contextmanager
def _reparametrize_module(
    module: Module,
    parameters_and_buffers: Mapping[str, Tensor],
    tie_weights: bool = False,
    strict: bool = False,
) -> Iterator[None]:
    """Inside the block, the module uses the given tensors in place of its own."""
    values = _untie(module, parameters_and_buffers) if tie_weights else dict(parameters_and_buffers)
    if strict:
        _check_keys(module, values)
    originals = []
    try:
        for name, value in values.items():
            owner, leaf = _owner(module, name)
            originals.append((owner, leaf, _swap(owner, leaf, value)))
        yield
    finally:
        for owner, leaf, original in reversed(originals):
            _swap(owner, leaf, original)


def _functional_call(
    module: Module,
    parameters_and_buffers: Mapping[str, Tensor],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights, strict=strict):
        return module(*args, **(kwargs or {}))


def functional_call(
    module: Module,
    parameters_and_buffers: Mapping[str, Tensor],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """module(*args, **kwargs) with the tensors of `parameters_and_buffers` (keys as in
    state_dict) in place of the module's own (torch.nn.utils.stateless.functional_call,
    deprecated there for torch.func.functional_call, and warns likewise).

    args that is not a tuple is the one argument. With tie_weights, a tensor the module
    shares between names is replaced under all of them; with strict, the keys must be
    exactly the module's parameters and buffers.
    """
    warnings.warn(
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed in a "
        "future version of PyTorch. Please use `torch.func.functional_call` instead which is a drop-in "
        "replacement.",
        FutureWarning,
        stacklevel=2,
    )
    return _functional_call(
        module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict
    )
