"""Gradient clipping (torch.nn.utils.clip_grad_norm_ and friends)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np

from ember import dtypes
from ember._layout import SparseUnsupportedError, strided
from ember._tensor import Tensor

_Parameters = Tensor | Iterable[Tensor]


def _grads(parameters: _Parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def get_total_norm(
    tensors: _Parameters,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The norm of all the tensors together, as if concatenated into one vector."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor(np.array(0.0, dtype=np.float32))
    dtype = np.result_type(*(t._data.dtype for t in tensors))
    if dtype.kind == "c":  # the norm of complex gradients is real, of their parts' precision
        dtype = np.dtype(dtype.type(0).real.dtype)
    for t in tensors:
        if t._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {t.dtype}"
            )
    if norm_type == math.inf:
        total = max(float(np.abs(t._data).max(initial=0)) for t in tensors)
    else:
        # the norm of the per-tensor norms equals the norm of the concatenation
        # (np.abs first: a cast of complex numbers to float64 would drop their imaginary parts)
        norms = [np.linalg.norm(_as_float64(t._data.reshape(-1)), ord=norm_type) for t in tensors]
        total = float(np.linalg.norm(np.array(norms), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
            "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return Tensor(np.array(total, dtype=dtype))


def _as_float64(a: np.ndarray) -> np.ndarray:
    """The elements' magnitudes in float64: |z| for complex ones."""
    return (np.abs(a) if a.dtype.kind == "c" else a).astype(np.float64)


def clip_grads_with_norm_(
    parameters: _Parameters, max_norm: float, total_norm: Tensor, foreach: bool | None = None
) -> None:
    """Scale the gradients in place by max_norm / (total_norm + 1e-6) when that is below 1.

    The factor is computed as PyTorch computes it, in the norm's dtype: `max_norm / tensor`
    is the tensor's reciprocal times max_norm, each step rounded (in float64 and rounded
    once, the factor would be off by one bit in about a fifth of the cases, and so would the
    clipped gradients).
    """
    norm = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    real = norm.dtype.type if norm.dtype.kind == "f" else np.float32
    one = real(1)
    coef = min(one / (real(norm) + real(1e-6)) * real(max_norm), one)
    for grad in _grads(parameters):
        try:
            grad._data *= grad._data.dtype.type(coef)
        except SparseUnsupportedError:  # a sparse gradient: its values scaled, as in PyTorch
            grad._vals._data = grad._vals._data * grad._data.dtype.type(coef)
        grad._version_cell[0] += 1


def clip_grad_norm_(
    parameters: _Parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Rescale the gradients so that their total norm is at most max_norm; returns the norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    total_norm = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_norm(
    parameters: _Parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The deprecated name of clip_grad_norm_ (torch.nn.utils.clip_grad_norm): warns, then clips."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: _Parameters, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    grads = _grads(parameters)
    for grad in grads:  # refused before any gradient is clamped, as PyTorch's (foreach) refuses
        if grad.layout is not strided:
            raise SparseUnsupportedError(
                f"clip_grad_value_() does not support sparse gradients (layout={grad.layout!r}), "
                "as PyTorch's does not"
            )
    for grad in grads:
        dtypes.refuse_complex("clamp is not supported for complex types", grad)
        np.clip(grad._data, -clip_value, clip_value, out=grad._data)
        grad._version_cell[0] += 1
