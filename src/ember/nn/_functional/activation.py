"""Activation functions (torch.nn.functional.relu, gelu, softmax, ...)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ember import dtypes, random
from ember._layout import SparseUnsupportedError, sparse_form
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.function import apply_one
from ember.creation import empty_like as ember_empty_like
from ember.creation import zeros_like as ember_zeros_like
from ember.dtypes import refuse_complex, scalar_type_name
from ember.ops import activations as act
from ember.ops import elementwise as ew
from ember.ops.api import arith, products
from ember.ops.api.convert import _inplace_unary, mul_

_FLOAT32 = np.dtype(np.float32)
_INT64 = np.dtype(np.int64)


def _tensor_input(input: Tensor, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input


def _float_input(input: Tensor, op: str) -> Tensor:
    dtype = _tensor_input(input, op)._data.dtype
    if dtype.kind not in "fV":
        # PyTorch's kernels have no integer version: NotImplementedError, as there
        raise NotImplementedError(
            f"\"{op}\" not implemented for '{scalar_type_name(dtype)}' (got {input.dtype}: use a floating point tensor)"
        )
    return input


def _inplace(input: Tensor, op: Any, *args: Any) -> Tensor:
    """`input` takes the values of `op.apply(input, *args)` (and, when recorded, its place in
    the graph): the inplace=True of the activations, as the Tensor methods relu_ and kin."""
    return _inplace_unary(lambda a: op.apply(input, *args)._data, lambda x: op.apply(x, *args), input)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) (torch.nn.functional.relu)."""
    # the common case, without the checking call; float32 tested by identity, since reading
    # dtype.kind costs as much as the rest of the line
    if not inplace and input.__class__ is Tensor:
        dtype = input._data.dtype
        if dtype is _FLOAT32 or dtype.kind in "fiu":
            return apply_one(ew.Relu, input)
    input = _tensor_input(input, "relu")
    if input._data.dtype.kind == "b":
        raise RuntimeError(
            f"Boolean inputs not supported for relu (relu: input of shape {list(input.shape)})"
        )
    # NumPy's maximum would order complex numbers lexicographically
    refuse_complex("clamp is not supported for complex types", input)
    try:
        return _inplace(input, ew.Relu) if inplace else apply_one(ew.Relu, input)
    except SparseUnsupportedError:  # a sparse tensor (see ember/sparse/_functions.py)
        return sparse_form("relu_" if inplace else "relu", (input,))


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise (torch.nn.functional.leaky_relu)."""
    input = _float_input(input, "leaky_relu")
    return (
        _inplace(input, act.LeakyRelu, negative_slope)
        if inplace
        else apply_one(act.LeakyRelu, input, negative_slope)
    )


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (exp(x) - 1) otherwise (torch.nn.functional.elu)."""
    input = _float_input(input, "elu")
    return _inplace(input, act.Elu, alpha, 1.0, 1.0) if inplace else act.Elu.apply(input, alpha, 1.0, 1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha), with the constants that keep activations normalised
    (torch.nn.functional.selu)."""
    input = _float_input(input, "selu")
    args = (_SELU_ALPHA, _SELU_SCALE, 1.0)
    return _inplace(input, act.Elu, *args) if inplace else act.Elu.apply(input, *args)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (exp(x / alpha) - 1) otherwise (torch.nn.functional.celu)."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    input = _float_input(input, "celu")
    args = (alpha, 1.0, 1.0 / alpha)
    return _inplace(input, act.Elu, *args) if inplace else act.Elu.apply(input, *args)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), exact (erf) or with the tanh approximation (torch.nn.functional.gelu)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return apply_one(act.Gelu, _float_input(input, "gelu"), approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (torch.nn.functional.silu); complex inputs too, as in PyTorch, which
    computes them but has no gradient for them."""
    if _tensor_input(input, "silu")._data.dtype.kind != "c":
        input = _float_input(input, "silu")
    elif input.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError("silu does not support automatic differentiation for outputs with complex dtype.")
    return _inplace(input, act.Silu) if inplace else apply_one(act.Silu, input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, linear past the threshold (torch.nn.functional.softplus)."""
    return apply_one(act.Softplus, _float_input(input, "softplus"), beta, threshold)


def _int_bounds(input: Tensor, min_val: float, max_val: float) -> tuple[int, int]:
    """hardtanh's bounds for an integer input, as PyTorch takes them: each truncated to an
    int64 (NaN or beyond it raises), a negative one refused for uint8, and each then one
    the input's type holds (else PyTorch's overflow error, not a bound clamped silently)."""
    bounds = [int(dtypes.to_element(v, _INT64)) for v in (min_val, max_val)]
    if input._data.dtype == np.uint8 and min(bounds) < 0:
        raise RuntimeError(
            f"cannot do hardtanh on an unsigned type with negative limits (min_val={min_val}, max_val={max_val})"
        )
    lo, hi = (dtypes.to_element(b, input._data.dtype) for b in bounds)
    return lo, hi


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val] (torch.nn.functional.hardtanh)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    kind = _tensor_input(input, "hardtanh")._data.dtype.kind
    if kind in "iu":  # a clamp in the integer type, the bounds truncated to it, as PyTorch
        min_val, max_val = _int_bounds(input, min_val, max_val)
    elif kind == "b":
        raise RuntimeError(f"Boolean inputs not supported for hardtanh (input of shape {list(input.shape)})")
    else:
        input = _float_input(input, "hardtanh")
    if inplace:
        return _inplace(input, act.Hardtanh, min_val, max_val)
    return apply_one(act.Hardtanh, input, min_val, max_val)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6 (torch.nn.functional.hardsigmoid)."""
    input = _float_input(input, "hardsigmoid")
    return _inplace(input, act.Hardsigmoid) if inplace else apply_one(act.Hardsigmoid, input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6 (torch.nn.functional.hardswish)."""
    input = _float_input(input, "hardswish")
    return _inplace(input, act.Hardswish) if inplace else apply_one(act.Hardswish, input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)) (torch.nn.functional.mish)."""
    input = _float_input(input, "mish")
    return _inplace(input, act.Mish) if inplace else apply_one(act.Mish, input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, value elsewhere (torch.nn.functional.threshold)."""
    input = _tensor_input(input, "threshold")
    if inplace:
        return _inplace(input, act.Threshold, threshold, value)
    return apply_one(act.Threshold, input, threshold, value)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, 0 elsewhere (torch.nn.functional.hardshrink)."""
    return apply_one(act.Hardshrink, _float_input(input, "hardshrink"), lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between (torch.nn.functional.softshrink)."""
    input = _float_input(input, "softshrink")
    if not lambd >= 0:
        largest = np.finfo(input._data.dtype).max
        dtype = scalar_type_name(input._data.dtype)
        raise RuntimeError(
            f"lambda must be in range [0, {largest:.6g}] for input dtype {dtype}, but found {lambd:g}"
        )
    return apply_one(act.Softshrink, input, lambd)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|) (torch.nn.functional.softsign)."""
    # composed, as in PyTorch: abs's gradient at 0 is 0, which gives the true slope 1 there
    return input / (_tensor_input(input, "softsign").abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x) (torch.nn.functional.tanhshrink)."""
    return input - _tensor_input(input, "tanhshrink").tanh()


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, weight * x otherwise, with one weight, or one per channel (dim 1)
    (torch.nn.functional.prelu)."""
    input = _float_input(input, "prelu")
    if weight.ndim > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}"
        )
    if weight.numel() == 1:
        return act.Prelu.apply(input, weight.reshape(()))
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != channels:
        raise RuntimeError(
            "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{weight.numel()} and channel size = {channels}."
        )
    # one slope per channel: weight (C,) as (C, 1, ..., 1), to broadcast along dim 1
    return act.Prelu.apply(input, weight.reshape((channels,) + (1,) * (input.ndim - 2)))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), a and b the two halves of x along dim (torch.nn.functional.glu)."""
    input = _float_input(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} is size {size}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) (torch.nn.functional.relu6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)) (torch.nn.functional.sigmoid); integer input gives float32, as torch.sigmoid."""
    return arith.sigmoid(_tensor_input(input, "sigmoid"))


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent (torch.nn.functional.tanh); integer input gives float32, as torch.tanh."""
    return arith.tanh(_tensor_input(input, "tanh"))


def _softmax_dim(input: Tensor, dim: int | None, name: str) -> int:
    if dim is not None:
        return dim
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim, computed stably (torch.nn.functional.softmax)."""
    return products.softmax(input, _softmax_dim(input, dim, "softmax"), dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along dim, computed stably (torch.nn.functional.log_softmax)."""
    return products.log_softmax(input, _softmax_dim(input, dim, "log_softmax"), dtype)


def gumbel_softmax(
    logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """Samples of the Gumbel-softmax (Concrete) distribution (torch.nn.functional.gumbel_softmax):
    softmax((logits + g) / tau) with g = -log(E), E ~ Exponential(1). With hard=True, the
    one-hot of each sample's largest entry in the forward pass, with the soft sample's
    gradient (the straight-through estimator). `eps` is unused, as in PyTorch."""
    gumbels = -ember_empty_like(logits).exponential_().log()
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = soft.max(dim, keepdim=True)[1]
    one_hot = ember_zeros_like(logits).scatter_(dim, index, 1.0)
    return one_hot - soft.detach() + soft


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(-x) along dim (torch.nn.functional.softmin)."""
    return products.softmax(-input, _softmax_dim(input, dim, "softmin"), dtype)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for large |x| (torch.nn.functional.logsigmoid)."""
    return -apply_one(act.Softplus, -_float_input(input, "logsigmoid"), 1.0, 20.0)


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky ReLU (torch.nn.functional.rrelu): x for x > 0, a * x otherwise.

    In training every element draws its own slope a ~ U(lower, upper) (so the gradient
    there is that slope); in evaluation a is the mean slope (lower + upper) / 2, which
    makes it leaky_relu.
    """
    input = _float_input(input, "rrelu")
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    dtype = input._data.dtype
    drawn = random.rng(None).uniform(lower, upper, input._data.shape).astype(dtype)
    # the slope is the drawn one where x <= 0 and 1 elsewhere; multiplying by it (a constant)
    # gives the values and, for free, the gradient and the second derivatives
    slopes = Tensor(np.where(input._data <= 0, drawn, dtype.type(1)))
    return mul_(input, slopes) if inplace else arith.mul(input, slopes)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """rrelu in place (torch.nn.functional.rrelu_)."""
    return rrelu(input, lower, upper, training, inplace=True)


# the in-place forms that torch.nn.functional spells with a trailing underscore


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """elu in place (torch.nn.functional.elu_)."""
    return elu(input, alpha, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """celu in place (torch.nn.functional.celu_)."""
    return celu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """selu in place (torch.nn.functional.selu_)."""
    return selu(input, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """hardtanh in place (torch.nn.functional.hardtanh_)."""
    return hardtanh(input, min_val, max_val, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """leaky_relu in place (torch.nn.functional.leaky_relu_)."""
    return leaky_relu(input, negative_slope, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """threshold in place (torch.nn.functional.threshold_)."""
    return _inplace(_tensor_input(input, "threshold"), act.Threshold, threshold, value)
