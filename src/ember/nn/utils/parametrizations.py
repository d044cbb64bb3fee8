"""Parametrizations built on ember.nn.utils.parametrize (torch.nn.utils.parametrizations):
weight_norm and spectral_norm, the current forms of the two normalizations, and orthogonal."""

from __future__ import annotations

import functools
from typing import Any, TypeVar

import numpy as np

from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.nn import functional as F
from ember.nn.module import Module
from ember.nn.utils import parametrize
from ember.nn.utils.spectral_norm import _as_matrix, _default_dim, _random_unit_vector
from ember.nn.utils.weight_norm import _norm_except_dim
from ember.ops.api.linalg import mv
from ember.ops.api.products import dot

# isort: split
from ember.creation import randn
from ember.ops.api.matrix import matrix_exp, solve
from ember.ops.api.shape import cat

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]

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
    module._register_load_state_dict_pre_hook(functools.partial(_load_classic_weight_norm, name))
    return module


def _load_classic_weight_norm(name: str, state_dict: dict, prefix: str, *rest: Any) -> None:
    """A load pre-hook: a state dict saved with the classic nn.utils.weight_norm keeps g and v
    as `<name>_g` and `<name>_v`, which this parametrization calls original0 and original1."""
    g, v = f"{prefix}{name}_g", f"{prefix}{name}_v"
    if g in state_dict and v in state_dict:
        state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g)
        state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v)


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


# ---- orthogonal ----------------------------------------------------------------------------

_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _eye_like(x: Tensor, n: int, k: int) -> Tensor:
    """The n x k identity in x's dtype (it broadcasts over x's batch dimensions)."""
    return Tensor(np.eye(n, k, dtype=x._data.dtype))


def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T, where v_i is column i
    of the tall (..., n, k) A below the diagonal with a 1 on it (LAPACK's storage of a QR
    factor; torch.linalg.householder_product), composed of ember ops so that it is differentiable."""
    n, k = A.shape[-2], A.shape[-1]
    below = Tensor(np.tril(np.ones((n, k), dtype=bool), -1))
    V = A * below + _eye_like(A, n, k)  # the reflectors' vectors, one per column
    Q = _eye_like(A, n, n)
    for i in range(k):
        v = V[..., :, i]
        reflector = _eye_like(A, n, n) - tau[..., i, None, None] * (v.unsqueeze(-1) * v.unsqueeze(-2))
        Q = Q @ reflector
    return Q[..., :, :k]


def _make_orthogonal(A: np.ndarray) -> np.ndarray:
    """Q of A = QR (A tall), with the signs that make R's diagonal non-negative: the
    orthogonal matrix nearest to A's column space in the order of A's columns."""
    Q, R = np.linalg.qr(A)
    return Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[..., None, :]


def _is_orthogonal(Q: np.ndarray) -> bool:
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * np.finfo(Q.dtype).eps
    return bool(np.allclose(Q.swapaxes(-1, -2) @ Q, np.eye(k), rtol=1e-5, atol=eps))


class _Orthogonal(Module):
    """An orthogonal matrix (orthonormal columns, or rows if wide) from an unconstrained one.

    matrix_exp and cayley map the lower triangle X of the tall matrix to the skew-symmetric
    A = X - X^T and take exp(A), respectively (I + A/2)(I - A/2)^-1, both orthogonal, and
    keep the first k columns; householder reads the strictly lower triangle as Householder
    reflectors (their product is orthogonal) and the diagonal's signs as column signs. With
    use_trivialization, the result is multiplied by the buffer `base`, an orthogonal matrix
    set when a value is assigned, so that the original starts at the map's identity point
    and stays near it (Lezcano-Casado, 2019, "Trivializations for gradient-based optimization
    on manifolds").
    """

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        transposed = X.shape[-2] < X.shape[-1]
        if transposed:
            X = X.mT
        n, k = X.shape[-2], X.shape[-1]  # now tall: n >= k
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:  # square it with zero columns: only n k - k (k - 1) / 2 entries are used
                zeros = Tensor(np.zeros(X.shape[:-2] + (n, n - k), dtype=X._data.dtype))
                X = cat([X, zeros], dim=-1)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:
                eye = _eye_like(A, n, n)
                Q = solve(eye - 0.5 * A, eye + 0.5 * A)
            Q = Q[..., :, :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            # the diagonal's signs (not differentiated) flip the columns
            signs = Tensor(np.trunc(np.diagonal(X._data, axis1=-2, axis2=-1)).astype(X._data.dtype))
            Q = _householder_product(A, tau) * signs.unsqueeze(-2)
        if getattr(self, "base", None) is not None:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        """An original that gives Q back: with trivialization, Q (made orthogonal if it is not,
        and completed to a square one) becomes `base` and the original the map's identity
        point, -I; without, only householder can invert, from Q's QR factorisation."""
        if Q.shape != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape {Q.shape}."
            )
        with no_grad():
            q = Q._data
            transposed = q.shape[-2] < q.shape[-1]
            if transposed:
                q = q.swapaxes(-1, -2)
            n, k = q.shape[-2], q.shape[-1]
            if "base" not in self._buffers:
                if self.orthogonal_map != "householder":
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley parametrizations "
                        "when use_trivialization=False."
                    )
                # LAPACK's QR (geqrf): reflectors below the diagonal; the diagonal becomes the
                # signs that make R's diagonal positive (flipped where a reflection was skipped)
                raw, tau = np.linalg.qr(q, mode="raw")
                A = raw.swapaxes(-1, -2).copy()
                diagonal = np.sign(np.diagonal(A, axis1=-2, axis2=-1)) * np.where(tau == 0, -1, 1)
                idx = np.arange(k)
                A[..., idx, idx] = diagonal
                A = A.astype(Q._data.dtype)
                return Tensor(A.swapaxes(-1, -2).copy() if transposed else A)
            if n == k:
                base = q.copy() if _is_orthogonal(q) else _make_orthogonal(q)
            else:  # complete the columns to a square orthogonal matrix with random ones
                extra = np.asarray(randn(*q.shape[:-2], n, n - k, dtype=Q.dtype)._data)
                base = _make_orthogonal(np.concatenate([q, extra], axis=-1))
            self.base = Tensor(base.astype(Q._data.dtype))
            # -I is where every map gives the identity (householder reads the diagonal as signs)
            start = np.zeros(Q._data.shape, dtype=Q._data.dtype)
            idx = np.arange(min(Q._data.shape[-2:]))
            start[..., idx, idx] = -1
            return Tensor(start)


def orthogonal(
    module: _ModuleT,
    name: str = "weight",
    orthogonal_map: str | None = None,
    *,
    use_trivialization: bool = True,
) -> _ModuleT:
    """Constrain `module.<name>` (a matrix or a batch of them) to be orthogonal: orthonormal
    columns, or rows if it is wide (torch.nn.utils.parametrizations.orthogonal).

    orthogonal_map is "matrix_exp", "cayley" or "householder" (default: matrix_exp for
    square matrices, householder otherwise). The current value is kept (made orthogonal
    first, through its QR factorisation, if it is not). Training updates
    `module.parametrizations.<name>.original`; every access gives an orthogonal matrix.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ValueError(
            f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: {orthogonal_map}'
        )
    parametrization = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, parametrization, unsafe=True)
    return module
