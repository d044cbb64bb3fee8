"""Loading a state dict into a Module: the checks and copies behind Module.load_state_dict."""

from __future__ import annotations

import itertools
from collections import namedtuple
from collections.abc import Mapping
from typing import Any

from ember._tensor import Tensor
from ember.autograd import no_grad
from ember.nn.parameter import Parameter


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns: the keys it missed and the keys it did not use."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"

    __str__ = __repr__


def load_own(
    module: Any, state_dict: Mapping[str, Any], prefix: str, assign: bool, missing: list, errors: list
) -> None:
    """Copy `prefix + name` entries into one module's own parameters and persistent buffers."""
    persistent = {k: v for k, v in module._buffers.items() if k not in module._non_persistent_buffers_set}
    for name, current in itertools.chain(module._parameters.items(), persistent.items()):
        if current is None:
            continue
        key = prefix + name
        if key not in state_dict:
            missing.append(key)
            continue
        value = state_dict[key]
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


def load(module: Any, state_dict: Mapping[str, Any], strict: bool, assign: bool) -> IncompatibleKeys:
    """Load into every sub-module, then report (or, when strict, raise on) the keys that did not match."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    missing: list[str] = []
    errors: list[str] = []
    expected = set(module.state_dict(keep_vars=True))
    for name, sub in module.named_modules(remove_duplicate=False):
        sub._load_from_state_dict(state_dict, name + "." if name else "", assign, missing, errors)
    unexpected = [key for key in state_dict if key not in expected]
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
