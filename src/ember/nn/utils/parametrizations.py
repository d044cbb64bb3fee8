"""Parametrizations built on ember.nn.utils.parametrize (torch.nn.utils.parametrizations):
weight_norm, the current form of weight normalization."""

from __future__ import annotations

from typing import TypeVar

from ember._tensor import Tensor
from ember.nn.module import Module
from ember.nn.utils import parametrize
from ember.nn.utils.weight_norm import _norm_except_dim

__all__ = ["weight_norm"]

_ModuleT = TypeVar("_ModuleT", bound=Module)


class _WeightNorm(Module):
    """w = g * v / ||v||, the norm over every dim but `dim` (the whole tensor for None)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        """The magnitude and direction that give `weight` back: (||weight||, weight)."""
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: _ModuleT, name: str = "weight", dim: int | None = 0) -> _ModuleT:
    """Weight normalization as a parametrization (torch.nn.utils.parametrizations.weight_norm):
    `module.<name>` becomes g * v / ||v||, computed on every access from
    `module.parametrizations.<name>.original0` (g) and `original1` (v); the norm is over every
    dim but `dim`, or the whole tensor for None. Undo it with
    `parametrize.remove_parametrizations(module, name)`."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module
