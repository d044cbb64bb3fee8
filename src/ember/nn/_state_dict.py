"""The state-dict protocol behind Module.state_dict and Module.load_state_dict, as PyTorch's.

Saving walks the module tree: each module runs its pre-hooks, writes its own entries
(`_save_to_state_dict`: parameters, persistent buffers, and `_extra_state` when the class
defines `get_extra_state`), has its children write theirs under `name.`, then runs its
post-hooks. The result carries `_metadata`, one dict per module prefix holding the class's
state-dict `version`, so that a class whose format changed (BatchNorm's counter came in
version 2) can read older checkpoints.

Loading walks the tree the same way on a copy of the dict: each module receives the entries
under its prefix (children a filtered copy, which its pre-hooks may rewrite, e.g. to rename
old keys), and `_load_from_state_dict` runs the module's load pre-hooks, copies its own
entries, and reports its missing and unexpected keys; then the post-hooks run. Subclasses
override `_load_from_state_dict` with PyTorch's signature.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from typing import Any

from ember import __future__ as _future
from ember._tensor import Tensor
from ember.autograd import no_grad
from ember.nn.parameter import Parameter, is_lazy

EXTRA_STATE = "_extra_state"


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns: the keys it missed and the keys it did not use."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"

    __str__ = __repr__


def has_extra_state(module: Any, method: str) -> bool:
    """Whether the module's class defines its own get_extra_state (or set_extra_state)."""
    from ember.nn.module import Module

    return getattr(type(module), method) is not getattr(Module, method)


# ---- saving --------------------------------------------------------------------------------


def save(module: Any, destination: dict | None, prefix: str, keep_vars: bool) -> dict:
    """Module.state_dict: this module's entries, then its children's, with hooks and metadata."""
    if destination is None:
        destination = OrderedDict()
        destination._metadata = OrderedDict()  # type: ignore[attr-defined]
    local_metadata = {"version": type(module)._version}
    if hasattr(destination, "_metadata"):
        destination._metadata[prefix[:-1]] = local_metadata
    for hook in list(module._state_dict_pre_hooks.values()):
        hook(module, prefix, keep_vars)
    module._save_to_state_dict(destination, prefix, keep_vars)
    for name, child in module._modules.items():
        if child is not None:
            child.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
    for hook_id, hook in list(module._state_dict_hooks.items()):
        result = hook(module, destination, prefix, local_metadata)
        if hook_id in module._state_dict_hooks_public:
            if result is not None:
                raise RuntimeError("state_dict post-hook must return None")
        elif result is not None:  # the older private API: the hook may hand back a new dict
            destination = result
    return destination


def save_own(module: Any, destination: dict, prefix: str, keep_vars: bool) -> None:
    """Module._save_to_state_dict: parameters, persistent buffers and the extra state."""
    for name, param in module._parameters.items():
        if param is not None:
            destination[prefix + name] = param if keep_vars else param.detach()
    for name, buf in module._buffers.items():
        if buf is not None and name not in module._non_persistent_buffers_set:
            destination[prefix + name] = buf if keep_vars else buf.detach()
    if has_extra_state(module, "get_extra_state"):
        destination[prefix + EXTRA_STATE] = module.get_extra_state()


# ---- loading -------------------------------------------------------------------------------


def load(module: Any, state_dict: Mapping[str, Any], strict: bool, assign: bool) -> IncompatibleKeys:
    """Module.load_state_dict: load every module of the tree, then report (or, when strict,
    raise on) the keys that did not match."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    metadata = getattr(state_dict, "_metadata", None)
    state_dict = OrderedDict(state_dict)  # the hooks may rewrite it: not the caller's dict
    missing: list[str] = []
    unexpected: list[str] = []
    errors: list[str] = []

    def load_tree(mod: Any, local: dict, prefix: str) -> None:
        local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
        if assign:
            local_metadata["assign_to_params_buffers"] = True
        mod._load_from_state_dict(local, prefix, local_metadata, True, missing, unexpected, errors)
        for name, child in mod._modules.items():
            if child is not None:
                child_prefix = prefix + name + "."
                load_tree(child, {k: v for k, v in local.items() if k.startswith(child_prefix)}, child_prefix)
        keys = IncompatibleKeys(missing, unexpected)
        for hook in list(mod._load_state_dict_post_hooks.values()):
            if hook(mod, keys) is not None:  # PyTorch asserts it, so an AssertionError
                raise AssertionError(
                    "Hooks registered with ``register_load_state_dict_post_hook`` are not expected to "
                    "return new values, if incompatible_keys need to be modified, it should be done "
                    "inplace."
                )

    load_tree(module, state_dict, "")
    if strict:
        if unexpected:
            keys = ", ".join(f'"{k}"' for k in unexpected)
            errors.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
        if missing:
            keys = ", ".join(f'"{k}"' for k in missing)
            errors.insert(0, f"Missing key(s) in state_dict: {keys}. ")
    if errors:
        details = "\n\t".join(errors)
        raise RuntimeError(f"Error(s) in loading state_dict for {type(module).__name__}:\n\t{details}")
    return IncompatibleKeys(missing, unexpected)


def load_own(
    module: Any,
    state_dict: Mapping[str, Any],
    prefix: str,
    local_metadata: dict,
    strict: bool,
    missing: list,
    unexpected: list,
    errors: list,
) -> None:
    """Module._load_from_state_dict: run the load pre-hooks, copy `prefix + name` entries into
    the module's own parameters and persistent buffers, and note its missing and (when
    strict) unexpected keys."""
    for hook in list(module._load_state_dict_pre_hooks.values()):
        hook(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)
    assign = local_metadata.get("assign_to_params_buffers", False)
    persistent = {k: v for k, v in module._buffers.items() if k not in module._non_persistent_buffers_set}
    own = {k: v for k, v in itertools.chain(module._parameters.items(), persistent.items()) if v is not None}
    for name, current in own.items():
        key = prefix + name
        if key not in state_dict:
            if strict:
                missing.append(key)
            continue
        _load_one(module, name, current, key, state_dict[key], assign, errors)
    extra = prefix + EXTRA_STATE
    if has_extra_state(module, "set_extra_state"):
        if extra in state_dict:
            module.set_extra_state(state_dict[extra])
        elif strict:
            missing.append(extra)
    elif strict and extra in state_dict:
        unexpected.append(extra)
    if strict:
        for key in state_dict:
            if not key.startswith(prefix) or key == extra:
                continue
            first, dot, _ = key[len(prefix) :].partition(".")
            if (dot and first not in module._modules) or (not dot and first not in own):
                unexpected.append(key)


def _load_one(
    module: Any, name: str, current: Tensor, key: str, value: Any, assign: bool, errors: list
) -> None:
    if isinstance(value, Tensor) and value.shape == (1,) and not is_lazy(current) and current.ndim == 0:
        value = value[0]  # a 0-dim entry saved as one element (before PyTorch 0.4), as torch
    if not isinstance(value, Tensor):
        errors.append(
            f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like '
            f"object from checkpoint but received {type(value)}"
        )
    elif value.shape != current.shape:
        errors.append(
            f"size mismatch for {key}: copying a param with shape {value.shape!r} from checkpoint, "
            f"the shape in current model is {current.shape!r}."
        )
    elif not assign:
        with no_grad():
            current.copy_(value)  # in place: optimizers holding the parameter see the new values
    elif _future.get_swap_module_params_on_conversion():
        # PyTorch swaps the loaded tensor into the current object (torch.utils.swap_tensors):
        # the same Parameter or buffer, sharing the loaded memory and dtype, without a grad
        current._data = value._data
        current.grad = None
    elif isinstance(current, Parameter):
        # a Parameter is assigned as it is (an optimizer built over it stays linked), with
        # the current one's requires_grad; a plain tensor is wrapped, as in PyTorch
        if isinstance(value, Parameter):
            value.requires_grad_(current.requires_grad)
        else:
            value = Parameter(value, requires_grad=current.requires_grad)
        module._parameters[name] = value
    else:
        module._buffers[name] = value
