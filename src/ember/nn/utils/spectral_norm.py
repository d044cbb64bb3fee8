"""Spectral normalization by a forward pre-hook (torch.nn.utils.spectral_norm, the classic API).

w = w_orig / sigma, sigma the largest singular value of w_orig seen as a matrix (rows:
the `dim` axis, columns: everything else), so that the layer is 1-Lipschitz, as GAN
discriminators want (Miyato et al., 2018). sigma is estimated by power iteration: the
vectors u and v are buffers, and each forward in training mode refines them by
`n_power_iterations` steps, u <- normalize(W v), v <- normalize(W^T u), taking sigma = u^T W v.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.creation import empty
from ember.nn import functional as F
from ember.nn.module import Module
from ember.nn.modules.conv import _ConvTransposeNd
from ember.nn.parameter import Parameter
from ember.nn.utils.weight_norm import _hook_key, _remove_hook
from ember.ops.api.linalg import mv
from ember.ops.api.products import dot

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]

_ModuleT = TypeVar("_ModuleT", bound=Module)


def _as_matrix(weight: Tensor, dim: int) -> Tensor:
    """The weight as a matrix with the `dim` axis as rows and every other axis flattened into columns."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.dim()) if d != dim))
    return weight.reshape(weight.shape[0], -1)


def _random_unit_vector(n: int, like: Tensor, eps: float) -> Tensor:
    return F.normalize(empty(n, dtype=like.dtype).normal_(0, 1), dim=0, eps=eps)


def _default_dim(module: Module) -> int:
    """The output-channel axis: 1 for transposed convolutions, whose weight is (in, out, ...)."""
    return 1 if isinstance(module, _ConvTransposeNd) else 0


class SpectralNorm:
    """The forward pre-hook that sets `module.<name>` to `<name>_orig` / sigma."""

    # the format of the state dict entries, saved in its metadata as PyTorch saves it:
    # version 1 has `<name>_orig`, `<name>_u` and `<name>_v`; the format before it (PyTorch
    # 0.4) had `<name>_orig`, `<name>` and `<name>_u`
    _version: int = 1

    def __init__(
        self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.name = name
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        return _as_matrix(weight, self.dim)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    # in place: the buffers carry the estimate from one forward to the next
                    v.copy_(F.normalize(mv(weight_mat.t(), u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(mv(weight_mat, v), dim=0, eps=self.eps))
            # copies: the graph must not see the next forward's in-place updates
            u, v = u.clone(), v.clone()
        sigma = dot(u, mv(weight_mat, v))
        return weight / sigma

    def _solve_v_and_rescale(self, weight_mat: Tensor, u: Tensor, target_sigma: Tensor) -> Tensor:
        """A v for which u^T W v equals target_sigma: the least-squares solution of W v = u,
        rescaled (what an old checkpoint, which saved no v, implies)."""
        v = weight_mat.t().mm(weight_mat).pinverse().mm(weight_mat.t()).mv(u)
        return v.mul_(target_sigma / dot(u, mv(weight_mat, v)))

    def _save_version(self, module: Module, state_dict: Any, prefix: str, local_metadata: dict) -> None:
        """The state-dict hook: record the format's version in the module's metadata."""
        versions = local_metadata.setdefault("spectral_norm", {})
        key = self.name + ".version"
        if key in versions:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        versions[key] = self._version

    def _load_old_format(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        """The load pre-hook: turn a checkpoint of the format before version 1 (`<name>`
        and `<name>_u`, no `<name>_v`) into the current one, v solved from u and sigma =
        `<name>_orig` / `<name>`. A checkpoint without metadata that already has the
        current keys (and no `<name>`) is taken as it is."""
        version = local_metadata.get("spectral_norm", {}).get(self.name + ".version", None)
        if version is not None and version >= 1:
            return
        key = prefix + self.name
        if (
            version is None
            and key not in state_dict
            and all(key + s in state_dict for s in ("_orig", "_u", "_v"))
        ):
            return
        absent = [key + s for s in ("_orig", "", "_u") if key + s not in state_dict]
        if absent:
            if strict:
                missing_keys.extend(absent)
            return
        with no_grad():
            weight_orig = state_dict[key + "_orig"]
            sigma = (weight_orig / state_dict.pop(key)).mean()
            weight_mat = self.reshape_weight_to_matrix(weight_orig)
            state_dict[key + "_v"] = self._solve_v_and_rescale(weight_mat, state_dict[key + "_u"], sigma)

    def remove(self, module: Module) -> None:
        """Turn the weight back into one parameter, the normalised weight of the current u and v."""
        for handle in getattr(self, "_state_dict_handles", ()):
            handle.remove()
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        if _hook_key(module, SpectralNorm, name) is not None:
            raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with no_grad():
            height, width = fn.reshape_weight_to_matrix(weight).shape
            u = _random_unit_vector(height, weight, fn.eps)
            v = _random_unit_vector(width, weight, fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        # until the first forward, the weight is the original one (as in PyTorch)
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        fn._state_dict_handles = (
            module._register_state_dict_hook(fn._save_version),
            module._register_load_state_dict_pre_hook(fn._load_old_format),
        )
        return fn


def spectral_norm(
    module: _ModuleT,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> _ModuleT:
    """Divide the parameter `name` by its spectral norm, estimated by power iteration before
    every forward (torch.nn.utils.spectral_norm). The original becomes `name_orig`, the
    singular vectors the buffers `name_u` and `name_v`; dim (default: the output-channel
    axis) is the matrix's rows. Returns the module."""
    SpectralNorm.apply(module, name, n_power_iterations, _default_dim(module) if dim is None else dim, eps)
    return module


def remove_spectral_norm(module: _ModuleT, name: str = "weight") -> _ModuleT:
    """Undo spectral_norm: `name` becomes one parameter again (torch.nn.utils.remove_spectral_norm)."""
    return _remove_hook(module, SpectralNorm, name, "spectral_norm")
