"""Parametrizations built on ember.nn.utils.parametrize (torch.nn.utils.parametrizations):
weight_norm and spectral_norm, the current forms of the two normalizations."""

from __future__ import annotations

from typing import TypeVar

from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.nn import functional as F
from ember.nn.module import Module
from ember.nn.utils import parametrize
from ember.nn.utils.spectral_norm import _as_matrix, _default_dim, _random_unit_vector
from ember.nn.utils.weight_norm import _norm_except_dim
from ember.ops.api.linalg import mv
from ember.ops.api.products import dot

__all__ = ["spectral_norm", "weight_norm"]

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


class _SpectralNorm(Module):
    """w / sigma, sigma the largest singular value of w as a matrix (rows: the `dim` axis),
    estimated by power iteration on the buffers _u and _v; a vector is just normalised."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = _as_matrix(weight, self.dim)
            height, width = weight_mat.shape
            self.register_buffer("_u", _random_unit_vector(height, weight, eps))
            self.register_buffer("_v", _random_unit_vector(width, weight, eps))
            self._power_method(weight_mat, 15)  # start from a good estimate

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """Refine u and v in place: u <- normalize(W v), then v <- normalize(W^T u)."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(mv(weight_mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(mv(weight_mat.t(), self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = _as_matrix(weight, self.dim)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # copies: the graph must not see the next forward's in-place updates
        u, v = self._u.clone(), self._v.clone()
        return weight / dot(u, mv(weight_mat, v))  # PyTorch: vdot, the same for real tensors

    def right_inverse(self, value: Tensor) -> Tensor:
        """Assigning a weight stores it as the original: any scale of it has the same normalised weight."""
        return value


def spectral_norm(
    module: _ModuleT,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> _ModuleT:
    """Spectral normalization as a parametrization (torch.nn.utils.parametrizations.spectral_norm):
    `module.<name>` becomes the original divided by its largest singular value, estimated by
    `n_power_iterations` steps of power iteration at each access in training mode (15 at
    registration); dim (default: the output-channel axis) is the matrix's rows."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    dim = _default_dim(module) if dim is None else dim
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
