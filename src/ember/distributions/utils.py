"""Helpers shared by the distributions (torch.distributions.utils): broadcasting the
parameters, converting probabilities to logits and back, cached properties, and drawing
the standard random numbers every sampler starts from."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

import ember
from ember._tensor import Tensor
from ember.dtypes import to_numpy_dtype
from ember.random import below, rng

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]

# the Euler-Mascheroni constant, -digamma(1) (torch.distributions.utils.euler_constant)
euler_constant = 0.57721566490153286060


def broadcast_all(*values: Any) -> tuple:
    """The values as tensors of one shape: Python numbers become tensors of the first
    tensor's dtype (the default dtype if there is none), then all are broadcast."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number or ember.Tensor.")
    first = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = first.dtype if first is not None else ember.get_default_dtype()
    if first is not None and not first.dtype.is_floating_point:
        dtype = ember.get_default_dtype()  # PyTorch makes numbers float when the tensor is an integer one
    tensors = [v if isinstance(v, Tensor) else ember.tensor(float(v), dtype=dtype) for v in values]
    return tuple(ember.broadcast_tensors(*tensors))


def clamp_probs(probs: Tensor) -> Tensor:
    """probs kept eps away from 0 and 1, so that their logarithms are finite."""
    eps = ember.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """sigmoid(logits) for a binary variable, softmax over the last dim otherwise."""
    return ember.sigmoid(logits) if is_binary else ember.softmax(logits, dim=-1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """The inverse of logits_to_probs: log(p) - log(1 - p) for a binary variable, log(p)
    otherwise, after clamping p away from 0 and 1."""
    p = clamp_probs(probs)
    return ember.log(p) - ember.log1p(-p) if is_binary else ember.log(p)


class lazy_property:
    """A property computed on first access and then stored on the instance, so that
    Bernoulli(probs=p).logits is computed once, and only if asked for. Being stored in the
    instance's __dict__ also makes it appear in the repr, as in PyTorch."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        with ember.enable_grad():
            value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


def _tril_positions(n: int, diag: int) -> tuple:
    """The row and column indices of the entries of an n x n matrix on or below its
    `diag`-th diagonal, row by row (the order PyTorch's boolean mask gives)."""
    return np.tril_indices(n, diag)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries of mat on or below its `diag`-th diagonal, row by row, as the last dim."""
    rows, cols = _tril_positions(mat.shape[-1], diag)
    flat = mat.reshape(*mat.shape[:-2], -1)
    return flat[..., ember.from_numpy((rows * mat.shape[-1] + cols).astype(np.int64))]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of tril_matrix_to_vec: an n x n matrix (zeros above the `diag`-th
    diagonal) whose lower part is vec, filled row by row; n is found from vec's length."""
    k = vec.shape[-1]
    n_float = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * k + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    n = round(n_float)
    if abs(n - n_float) > ember.finfo(vec.dtype).eps or len(_tril_positions(n, diag)[0]) != k:
        raise ValueError(f"vec_to_tril_matrix: the last dim ({k}) of vec is not a triangular number")
    rows, cols = _tril_positions(n, diag)
    source = np.full(n * n, k, dtype=np.int64)  # k: the zero appended to vec
    source[rows * n + cols] = np.arange(k)
    padded = ember.cat([vec, vec.new_zeros((*vec.shape[:-1], 1))], -1)
    return padded[..., ember.from_numpy(source)].reshape(*vec.shape[:-1], n, n)


def sum_rightmost(value: Tensor, dims: int) -> Tensor:
    """value summed over its `dims` rightmost dims."""
    return value.reshape(*value.shape[: value.dim() - dims], -1).sum(-1) if dims > 0 else value


def float64_values(t: Tensor) -> np.ndarray:
    """t's values as float64, for NumPy's samplers. Read from its array, as Tensor.numpy()
    refuses bfloat16 (NumPy has none); a meta tensor has no values, and gets numpy()'s
    error rather than a sample drawn from its placeholder array (on the CPU)."""
    if t.is_meta:
        t.detach().numpy()  # raises
    return np.asarray(t._data, np.float64)


def draw(kind: str, shape: Any, dtype: Any) -> Tensor:
    """A tensor of `shape` and `dtype` drawn from ember's generator: 'normal' (standard),
    'uniform' ([0, 1)) or 'exponential' (rate 1)."""
    g = rng(None)
    np_dtype = to_numpy_dtype(dtype)
    # NumPy draws float32 and float64 only: half-precision draws are float32 ones rounded
    native = np_dtype if np_dtype == np.float32 or np_dtype == np.float64 else np.dtype(np.float32)
    shape = tuple(shape)
    if kind == "normal":
        out = g.standard_normal(shape, dtype=native)
    elif kind == "uniform":
        out = g.random(shape, dtype=native)
    elif kind == "exponential":
        out = g.standard_exponential(shape, dtype=native)
    else:  # pragma: no cover - a programming error
        raise ValueError(f"draw: unknown kind {kind!r}")
    # np.asarray, not np.ascontiguousarray, which makes the 0-d draw of a sample of shape () 1-d
    out = np.asarray(out, dtype=np_dtype)
    if kind == "uniform" and native != np_dtype:
        out = below(out, 0.0, 1.0)  # rounding may have reached 1
    return ember.from_numpy(out)
