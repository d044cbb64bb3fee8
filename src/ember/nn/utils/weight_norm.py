"""Weight normalization by a forward pre-hook (torch.nn.utils.weight_norm, the classic API).

w = g * v / ||v||: the direction v and the magnitude g become the parameters, so that
gradient descent adjusts the length of each output unit's weights apart from their
direction (Salimans and Kingma, 2016). The norm is taken over every dimension but `dim`
(one magnitude per output channel for dim=0), or over the whole tensor for dim=None.
The weight itself becomes a plain tensor attribute, recomputed from g and v before each
forward.
"""

from __future__ import annotations

import warnings
from typing import Any, TypeVar

from ember._tensor import Tensor
from ember.linalg import vector_norm
from ember.nn.module import Module
from ember.nn.parameter import Parameter
from ember.ops.reduction import normalize_dim

__all__ = ["WeightNorm", "remove_weight_norm", "weight_norm"]

_ModuleT = TypeVar("_ModuleT", bound=Module)


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of v over every dimension but dim, kept as size-1 dims; dim=-1 means the
    whole tensor (a 0-d result), as in PyTorch's norm_except_dim."""
    if dim == -1:
        return vector_norm(v)
    dim = normalize_dim(dim, v.dim(), "weight_norm")
    others = tuple(d for d in range(v.dim()) if d != dim)
    return vector_norm(v, 2, others, keepdim=True) if others else v.abs()


def _hook_key(module: Module, kind: type, name: str) -> Any:
    """The key of module's forward pre-hook of class `kind` (WeightNorm, SpectralNorm) that
    recomputes `name`, or None: the classic normalizations are found by it."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and hook.name == name:
            return key
    return None


def _remove_hook(module: _ModuleT, kind: type, name: str, what: str) -> _ModuleT:
    """Undo the normalization `what` of `name`: its hook's remove(), then the hook itself."""
    key = _hook_key(module, kind, name)
    if key is None:
        raise ValueError(f"{what} of '{name}' not found in {module}")
    module._forward_pre_hooks[key].remove(module)
    del module._forward_pre_hooks[key]
    return module


class WeightNorm:
    """The forward pre-hook that recomputes `module.<name>` from `<name>_g` and `<name>_v`."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        warnings.warn(
            "`torch.nn.utils.weight_norm` is deprecated in favor of `torch.nn.utils.parametrizations.weight_norm`.",
            FutureWarning,
            stacklevel=3,
        )
        if _hook_key(module, WeightNorm, name) is not None:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        g = Parameter(_norm_except_dim(weight, fn.dim).detach())  # before any change: a bad dim raises here
        del module._parameters[name]
        module.register_parameter(name + "_g", g)
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        """Turn the weight back into one parameter holding its current value."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: _ModuleT, name: str = "weight", dim: int | None = 0) -> _ModuleT:
    """Replace the parameter `name` by a magnitude `name_g` and a direction `name_v`,
    w = g * v / ||v|| with the norm over every dim but `dim` (the whole tensor for None),
    recomputed before every forward (torch.nn.utils.weight_norm; deprecated there, and
    warns likewise). Returns the module."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: _ModuleT, name: str = "weight") -> _ModuleT:
    """Undo weight_norm: `name` becomes one parameter again, with its current value
    (torch.nn.utils.remove_weight_norm)."""
    return _remove_hook(module, WeightNorm, name, "weight_norm")
