"""Switches for behaviour that PyTorch plans to change (torch.__future__): how
`nn.Module.to()`, `.float()`, `.double()` and the other conversions treat the parameters.

By default a conversion changes each parameter in place: the module keeps the same
Parameter objects (those an optimizer holds), with new values, and so do their gradients.

- `set_overwrite_module_params_on_conversion(True)` makes the conversions put new Parameter
  objects into the module instead (the old ones keep their old values), as PyTorch does;
  an optimizer built before the conversion then holds the old parameters.
- `set_swap_module_params_on_conversion(True)` asks PyTorch to swap each parameter's
  contents with its converted copy (`torch.utils.swap_tensors`), also when loading a state
  dict. For the conversions and a plain `load_state_dict`, what a program can see of that
  is what ember already does in place: the same Parameter and gradient objects with the
  new values, and a state dict copied into them in their own dtype. It changes one thing:
  `load_state_dict(..., assign=True)` keeps the module's Parameter and buffer objects,
  giving them the loaded tensors' memory and dtype (and no grad), instead of putting the
  loaded tensors in their place.
"""

from __future__ import annotations

__all__ = [
    "get_overwrite_module_params_on_conversion",
    "get_swap_module_params_on_conversion",
    "set_overwrite_module_params_on_conversion",
    "set_swap_module_params_on_conversion",
]

_overwrite_module_params_on_conversion: bool = False
_swap_module_params_on_conversion: bool = False


def set_overwrite_module_params_on_conversion(value: bool) -> None:
    """Whether converting a module (`to`, `float`, `double`, ...) gives it new Parameter
    objects rather than changing the existing ones in place
    (torch.__future__.set_overwrite_module_params_on_conversion)."""
    global _overwrite_module_params_on_conversion
    _overwrite_module_params_on_conversion = value


def get_overwrite_module_params_on_conversion() -> bool:
    """The value set by set_overwrite_module_params_on_conversion, False by default
    (torch.__future__.get_overwrite_module_params_on_conversion)."""
    return _overwrite_module_params_on_conversion


def set_swap_module_params_on_conversion(value: bool) -> None:
    """Whether module conversions and load_state_dict swap parameters' contents
    (torch.__future__.set_swap_module_params_on_conversion); in ember they already keep
    the objects and change their values, except load_state_dict(assign=True), which keeps
    them only under this flag."""
    global _swap_module_params_on_conversion
    _swap_module_params_on_conversion = value


def get_swap_module_params_on_conversion() -> bool:
    """The value set by set_swap_module_params_on_conversion, False by default
    (torch.__future__.get_swap_module_params_on_conversion)."""
    return _swap_module_params_on_conversion
