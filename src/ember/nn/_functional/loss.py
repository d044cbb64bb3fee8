"""Loss functions (torch.nn.functional.mse_loss, cross_entropy, ...).

Each takes reduction='mean' | 'sum' | 'none' (and the deprecated size_average/reduce
pair, as PyTorch). The regression losses are a line of composed ops, except mse_loss;
it, cross_entropy, nll_loss and the binary cross-entropies are single fused nodes
(`ember.ops.losses`), which is why they validate their arguments here, with the shapes
in the message.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.autograd.grad_mode import is_grad_enabled, no_grad
from ember.creation import ones_like
from ember.dtypes import promote_types, refuse_complex, scalar_type_name, to_numpy_dtype
from ember.ops import losses
from ember.ops.api.arith import _check_broadcast
from ember.ops.api.products import log_softmax
from ember.ops.api.special import xlogy
from ember.ops.elementwise import where

_REDUCTIONS = ("mean", "sum", "none")


def _reduction(
    size_average: bool | None, reduce: bool | None, reduction: str, extra: tuple = (), legacy: bool = True
) -> str:
    """The reduction to apply: from the deprecated size_average/reduce pair when either is
    given, else `reduction` checked; `legacy` reads the old 'elementwise_mean' as 'mean', as
    PyTorch's losses do but for the three that check their reduction themselves."""
    if size_average is not None or reduce is not None:
        # read by truth, as PyTorch's legacy_get_string (size_average=0 sums), None counting as True
        reduce, size_average = reduce is None or reduce, size_average is None or size_average
        legacy_reduction = "none" if not reduce else "mean" if size_average else "sum"
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{legacy_reduction}' instead.",
            UserWarning,
            stacklevel=3,
        )
        return legacy_reduction
    if reduction not in _REDUCTIONS + extra:
        if legacy and isinstance(reduction, str) and reduction == "elementwise_mean":
            warnings.warn(
                "reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                UserWarning,
                stacklevel=3,
            )
            return "mean"
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _check_sizes(input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({target.shape!r}) that is different to the input size ({input.shape!r}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


def _weighted(
    loss: Tensor, input: Tensor, weight: Tensor | None, reduction: str, mean_over_weight: bool
) -> Tensor:
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError(
            f"Weights and input must have the same size (weight {list(weight.shape)}, input {list(input.shape)})."
        )
    loss = loss * weight
    if reduction == "mean" and mean_over_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# ---- regression ---------------------------------------------------------------------------------


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """(input - target)^2 (torch.nn.functional.mse_loss); with weight, 'mean' divides by weight.sum().

    Without weight one node, PyTorch's `MseLossBackward0`; with weight composed, as in PyTorch.
    """
    reduction = _reduction(size_average, reduce, reduction)
    _check_sizes(input, target)
    refuse_complex('"mse_cpu"', input, target)
    if weight is not None:
        diff = input - target
        return _weighted(diff * diff, input, weight, reduction, True)
    if input.shape != target.shape:
        _check_broadcast(input, target, "mse_loss")  # one node: NumPy would raise a ValueError
    dtype = promote_types(input.dtype, target.dtype)
    if not dtype.is_floating_point:
        raise NotImplementedError(
            f"\"mse_cpu\" not implemented for '{scalar_type_name(to_numpy_dtype(dtype))}'"
        )
    return losses.MseLoss.apply(input, target, reduction, to_numpy_dtype(dtype))


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """|input - target| (torch.nn.functional.l1_loss); with weight, 'mean' divides by weight.sum()."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_sizes(input, target)
    return _weighted((input - target).abs(), input, weight, reduction, True)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, for d = input - target
    (torch.nn.functional.smooth_l1_loss)."""
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _check_sizes(input, target)
    dtype = promote_types(input.dtype, target.dtype)
    if not dtype.is_floating_point:
        raise NotImplementedError(
            f"\"smooth_l1_cpu\" not implemented for '{scalar_type_name(to_numpy_dtype(dtype))}' "
            f"(smooth_l1_loss of {input.dtype} and {target.dtype}: convert them with .float())"
        )
    input, target = input.to(dtype), target.to(dtype)  # a bool operand is a number here
    if beta == 0:
        return _reduce((input - target).abs(), reduction)
    diff = input - target
    abs_diff = diff.abs()
    return _reduce(where(abs_diff < beta, 0.5 / beta * diff * diff, abs_diff - 0.5 * beta), reduction)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight: Tensor | None = None
) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), for d = input - target
    (torch.nn.functional.huber_loss); with weight, 'mean' is the mean of the weighted loss."""
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _check_sizes(input, target)
    if input._data.dtype.kind not in "fV":  # the loss takes the input's dtype, which must be a float
        if target._data.dtype.kind in "fV":
            raise RuntimeError(
                f"result type Float can't be cast to the desired output type "
                f"{scalar_type_name(input._data.dtype)} (huber_loss takes the input's dtype, {input.dtype}: "
                "convert the input with .float())"
            )
        raise NotImplementedError(
            f"\"huber_cpu\" not implemented for '{scalar_type_name(input._data.dtype)}' "
            f"(huber_loss of {input.dtype} and {target.dtype}: convert them with .float())"
        )
    target = _huber_target(input, target)
    diff = input - target
    abs_diff = diff.abs()
    loss = where(abs_diff < delta, 0.5 * diff * diff, delta * (abs_diff - 0.5 * delta))
    return _weighted(loss, input, weight, reduction, False)


def _huber_target(input: Tensor, target: Tensor) -> Tensor:
    """The target in the input's dtype: huber_loss has the input's dtype in PyTorch
    (smooth_l1_loss and the others promote instead). PyTorch's backward then fails for a
    float target of another dtype; ember's gives each its gradient (docs/differences.md)."""
    return target if target._data.dtype == input._data.dtype else target.to(input.dtype)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """target * (log(target) - input) for log-probabilities input (torch.nn.functional.kl_div).

    reduction='batchmean' divides the sum by the batch size (the KL divergence proper);
    'mean' divides by the number of elements, and warns, as PyTorch, when asked for by name
    (the legacy size_average/reduce pair warns about itself only).
    """
    legacy = size_average is not None or reduce is not None
    reduction = _reduction(size_average, reduce, reduction, ("batchmean",))
    if reduction == "mean" and not legacy:
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            UserWarning,
            stacklevel=2,
        )
    if any(isinstance(t, Tensor) and t._data.dtype.kind in "biu" for t in (input, target)):
        # PyTorch refuses an integer or bool input or target rather than promote it
        raise RuntimeError("kl_div: Integral inputs not supported. Convert them with .float()")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy: 0 log 0 is 0, as in PyTorch; so are its consequences, a nan gradient to a
        # target that is 0 (log 0 + 0/0) and a nan loss for a negative target
        loss = xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)


# ---- classification: fused nodes --------------------------------------------------------------


def _float_logits(input: Tensor, op: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input._data.dtype.kind not in "fV":  # PyTorch's kernels have no integer version
        kernel = "log_softmax_lastdim_kernel_impl" if op == "cross_entropy" else "nll_loss_out_frame"
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{scalar_type_name(input._data.dtype)}' ({op}: expected a "
            f"floating point input tensor, got {input.dtype})"
        )
    if input.ndim == 0:  # PyTorch's nll_loss raises a ValueError, its cross_entropy a RuntimeError
        raise (ValueError if op == "nll_loss" else RuntimeError)(
            f"{op}: expected an input of shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor"
        )


def _class_weight(
    weight: Tensor | None, n_classes: int, dtype: np.dtype | None, op: str
) -> np.ndarray | None:
    """The class weights' array, checked against the number of classes and, unless dtype is
    None (class probabilities, where the weights take part in type promotion), against the
    input's dtype, which PyTorch requires for class indices."""
    if weight is None:
        return None
    if weight._data.shape != (n_classes,):
        raise RuntimeError(
            f"{op}: weight tensor should be defined either for all {n_classes} classes or no classes "
            f"but got weight tensor of shape: {list(weight.shape)}"
        )
    w = weight._data
    if dtype is not None and w.dtype != dtype:
        raise RuntimeError(
            f"expected scalar type {scalar_type_name(dtype)} but found {scalar_type_name(w.dtype)} "
            f"({op}: the weight is {weight.dtype}, the input {Tensor._dtype_of(dtype)}; convert the "
            "weight with .to(input.dtype))"
        )
    if w.dtype.kind not in "fV":
        raise RuntimeError(f"{op}: expected a floating point weight, got {weight.dtype}")
    return w


def _class_indices(input: Tensor, target: Tensor, ignore_index: int, op: str) -> tuple[np.ndarray, bool]:
    """The target's class indices as an array of shape (N, d1, ...), checked against the input,
    and whether any of them is ignore_index."""
    s, t = input._data.shape, target._data
    expected = () if len(s) == 1 else s[:1] + s[2:]
    batch = t.shape[0] if t.ndim else 0  # PyTorch counts a 0-d target as a batch of 0
    if len(s) > 1 and batch != s[0]:  # checked first, whatever the dtype, as PyTorch does
        raise ValueError(
            f"Expected input batch_size ({s[0]}) to match target batch_size ({batch}) "
            f"({op}: input {list(s)}, target {list(t.shape)})"
        )
    if t.dtype.kind in "iu" and t.dtype != np.int64 and t.dtype != np.uint8:
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {target.dtype} ({op}: use target.long())"
        )
    if t.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: expected a target of class indices with an integer dtype (int64), got {target.dtype} "
            f"of shape {list(t.shape)}; use target.long(), or give class probabilities of the input's shape {list(s)}"
        )
    if len(s) == 1 and t.shape == (1,):
        t = t.reshape(())  # one sample's class, given as a 1-element list: taken as PyTorch does
    if t.shape != expected:
        # (cross_entropy takes a target of the input's shape for probabilities, which must be floats)
        if len(s) == 1 and t.ndim == 1 and not (op == "cross_entropy" and t.shape == s):
            raise ValueError(
                f"For 1D input, 1D target must have size 1, but got target size: {t.shape[0]} "
                f"({op}: one sample of {s[0]} classes takes one class index)"
            )
        raise RuntimeError(
            f"{op}: expected target of shape {list(expected)} for input of shape {list(s)}, got {list(t.shape)}"
        )
    n_classes = s[0] if len(s) == 1 else s[1]
    ignored = False
    if t.size:
        # np.minimum.reduce is t.min() without ndarray's Python wrapper (one call less)
        out_of_range = np.minimum.reduce(t, None) < 0 or np.maximum.reduce(t, None) >= n_classes
        if out_of_range:
            bad = t[(t != ignore_index) & ((t < 0) | (t >= n_classes))]
            if bad.size:
                raise IndexError(
                    f"{op}: target {bad.flat[0]} is out of bounds for {n_classes} classes "
                    f"(expected 0 <= target < {n_classes}, or ignore_index={ignore_index})"
                )
        # past the check, a target out of range is ignore_index
        ignored = out_of_range or (0 <= ignore_index < n_classes and bool((t == ignore_index).any()))
    return (t.reshape((1,) + t.shape) if len(s) == 1 else t), ignored


def _as_kept(t: np.ndarray, target: Tensor) -> Tensor:
    """The class indices t (the target's array, or a reshape of it) as a Tensor sharing the
    target's version counter. The loss's node keeps it as a saved tensor, so that changing
    the target in place before backward raises, as in PyTorch, instead of silently giving
    the gradient of other targets."""
    return target if t is target._data else target.reshape(t.shape)


def _batched(input: Tensor) -> Tensor:
    """Unbatched (C,) input as a batch of one, (1, C)."""
    return input.reshape(1, -1) if input.ndim == 1 else input


def _unbatched(loss: Tensor, input: Tensor, reduction: str) -> Tensor:
    return loss.reshape(()) if input.ndim == 1 and reduction == "none" else loss


_INT64 = np.dtype(np.int64)


def _plain_classification(
    input: Any,
    target: Any,
    weight: Any,
    ignore_index: int,
    label_smoothing: float,
    size_average: Any,
    reduce: Any,
) -> bool:
    """Whether cross_entropy has what nearly every classifier gives it: (N, C) float logits,
    N int64 class indices from 0 to C - 1, and no weight, smoothing or ignored class. Then
    it goes straight to its node, without the general checks' dozen calls; anything else,
    errors included, takes the general path, which explains them."""
    if not (
        input.__class__ is Tensor
        and target.__class__ is Tensor
        and weight is None
        and not label_smoothing
        and size_average is None
        and reduce is None
        and ignore_index < 0
    ):
        return False
    x, t = input._data, target._data
    return (
        x.ndim == 2
        and x.dtype.kind in "fV"
        and t.dtype is _INT64
        and t.shape == x.shape[:1]
        and t.size > 0
        # np.minimum.reduce is t.min() without ndarray's Python wrapper (one call less)
        and np.minimum.reduce(t, None) >= 0
        and np.maximum.reduce(t, None) < x.shape[1]
    )


def _nll_kernel(input: Tensor) -> str:
    """The name of PyTorch's kernel for nll_loss of this input, which its errors show: the
    2-d one for inputs of three or more dims."""
    return "nll_loss2d_forward" if input.ndim > 2 else "nll_loss_forward"


def _soft_cross_entropy_composed(
    x: Tensor, t: Tensor, weight: Tensor | None, label_smoothing: float, reduction: str, samples: float
) -> Tensor:
    """cross_entropy with class probabilities composed of differentiable ops, as PyTorch
    computes it, for a class weight that requires grad: the weight then gets its gradient
    (the fused node treats the weights as constants). Also for inputs with no classes,
    whose row maximum the fused node could not take."""
    if label_smoothing and x.shape[1]:
        t = t * (1.0 - label_smoothing) + label_smoothing / x.shape[1]
    terms = log_softmax(x, 1) * t
    if weight is not None:
        terms = terms * weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    if reduction == "none":
        return -terms.sum(1)
    if reduction == "sum":
        return -terms.sum()
    return -terms.sum() / samples


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """log_softmax over the classes (dim 1) and the negative log-likelihood, one stable node
    (torch.nn.functional.cross_entropy).

    target holds class indices, shape (N,) or (N, d1, ...), or class probabilities of the
    input's shape. With class indices, 'mean' divides by the summed weight of the targets
    not ignored; with probabilities, by the number of samples, and ignore_index must stay
    negative (there is no class to ignore).
    """
    if _plain_classification(input, target, weight, ignore_index, label_smoothing, size_average, reduce):
        return losses.IndexCrossEntropy.apply(input, target, _reduction(None, None, reduction))
    reduction = _reduction(size_average, reduce, reduction)
    _float_logits(input, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    dtype = input._data.dtype
    x = _batched(input)
    if target._data.dtype.kind in "fV" and target.shape == input.shape:
        if ignore_index >= 0:  # as in PyTorch, a negative one cannot name a class and is let through
            raise RuntimeError(
                f"cross_entropy: ignore_index is not supported for floating point target (class "
                f"probabilities of shape {list(target.shape)}), got ignore_index={ignore_index}"
            )
        # the loss has the dtype of input, target and weight promoted together, as in PyTorch
        # (the node's arithmetic promotes; log-softmax stays in the input's dtype)
        w = _class_weight(weight, x.shape[1], None, "cross_entropy")
        t = _batched(target)
        # the mean divides by numel / classes, which is 0 / 0, nan, without classes (as PyTorch)
        samples = x._data.size / x.shape[1] if x.shape[1] else math.nan
        if (weight is not None and weight.requires_grad and is_grad_enabled()) or not x.shape[1]:
            loss = _soft_cross_entropy_composed(x, t, weight, label_smoothing, reduction, samples)
            return _unbatched(loss, input, reduction)
        if w is not None:  # broadcast along the class axis 1
            w = w.reshape((1, -1) + (1,) * (x.ndim - 2))
        loss = losses.SoftCrossEntropy.apply(x, t, w, label_smoothing, reduction, samples)
    else:
        w = _class_weight(weight, x.shape[1], dtype, "cross_entropy")
        if weight is not None:
            _not_differentiable(weight, _nll_kernel(input), "weight")
        t, ignored = _class_indices(input, target, ignore_index, "cross_entropy")
        indices = _as_kept(t, target)
        if w is None and not label_smoothing and not ignored and x.ndim == 2:
            loss = losses.IndexCrossEntropy.apply(x, indices, reduction)  # the common case, direct
        else:
            q, total_weight = losses.class_target(
                t, w, ignore_index, label_smoothing, x.shape, dtype, reduction
            )
            loss = losses.CrossEntropy.apply(x, q, None, 0.0, reduction, total_weight, indices)
            losses.keep_class_arguments(loss, t, w, ignore_index, total_weight)
    return _unbatched(loss, input, reduction)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-input[n, target[n]] for log-probabilities input (torch.nn.functional.nll_loss);
    with weight, 'mean' divides by the summed weight of the targets not ignored."""
    reduction = _reduction(size_average, reduce, reduction)
    _float_logits(input, "nll_loss")
    dtype = input._data.dtype
    x = _batched(input)
    w = _class_weight(weight, x.shape[1], dtype, "nll_loss")
    if weight is not None:
        _not_differentiable(weight, _nll_kernel(input), "weight")
    t, ignored = _class_indices(input, target, ignore_index, "nll_loss")
    indices = _as_kept(t, target)
    if w is None and not ignored and x.ndim == 2:
        loss = losses.IndexNllLoss.apply(x, indices, reduction)  # the common case, direct
    else:
        q, total_weight = losses.class_target(t, w, ignore_index, 0.0, x.shape, dtype, reduction)
        loss = losses.NllLoss.apply(x, q, reduction, total_weight, indices)
        losses.keep_class_arguments(loss, t, w, ignore_index, total_weight)
    return _unbatched(loss, input, reduction)


def _not_differentiable(t: Tensor | None, op: str, name: str) -> None:
    """PyTorch's refusal of an argument that its op has no gradient for."""
    if t is not None and t.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"The function '{op}' is not differentiable with respect to argument '{name}'. "
            f"This input cannot have requires_grad True (pass {name}.detach())."
        )


def _binary_args(input: Tensor, target: Tensor, weight: Tensor | None, op: str) -> tuple:
    if input._data.dtype.kind not in "fV" or target._data.dtype.kind not in "fV":
        # as PyTorch: NotImplementedError where its kernel has no integer version (an integer
        # input to the logits form, or integers for both), RuntimeError for a mix
        logits = op != "binary_cross_entropy"
        if input._data.dtype.kind not in "fV" and (logits or target._data.dtype.kind not in "fV"):
            raise NotImplementedError(
                f'"{"log_sigmoid_cpu" if logits else op}" not implemented for '
                f"'{scalar_type_name(input._data.dtype)}' ({op}: got {input.dtype} and {target.dtype}; "
                "convert them with .float())"
            )
        raise RuntimeError(
            f"{op}: expected floating point input and target, got {input.dtype} and {target.dtype} "
            "(convert the target with .float())"
        )
    if target._data.dtype != input._data.dtype and op == "binary_cross_entropy":
        # PyTorch refuses; the logits version gives a loss of the target's dtype
        raise RuntimeError(
            f"Found dtype {scalar_type_name(target._data.dtype)} but expected "
            f"{scalar_type_name(input._data.dtype)} ({op}: the target is {target.dtype}, the input "
            f"{input.dtype}; convert the target with .to(input.dtype))"
        )
    _not_differentiable(weight, op, "weight")
    w = None
    if weight is not None:  # it scales the loss, which has the target's dtype
        w = weight._data.astype(target._data.dtype, copy=False)
        try:
            shape = np.broadcast_shapes(w.shape, input._data.shape)
        except ValueError:  # NumPy's own error would not name the loss
            shape = None
        if shape != input._data.shape:
            raise RuntimeError(
                f"{op}: weight of shape {list(w.shape)} does not broadcast to input {list(input.shape)}"
            )
    return target, w


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p, logs clamped at -100
    (torch.nn.functional.binary_cross_entropy)."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape!r}) that is different to the input size ({input.shape!r}) "
            "is deprecated. Please ensure they have the same size."
        )
    target, w = _binary_args(input, target, weight, "binary_cross_entropy")
    for name, a in (("input", input._data), ("target", target._data)):
        # written so that a NaN fails too, as in PyTorch
        if a.size and not (a.min() >= 0 and a.max() <= 1):
            raise RuntimeError(
                f"all elements of {name} should be between 0 and 1 (binary_cross_entropy takes "
                "probabilities; for logits use binary_cross_entropy_with_logits)"
            )
    # the weight tensor itself, not w: the node saves it, so that changing it in place before
    # backward raises as in PyTorch
    return losses.BinaryCrossEntropy.apply(input, target, None if w is None else weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target), computed from the logits in one stable node
    (torch.nn.functional.binary_cross_entropy_with_logits); pos_weight weighs the positive
    term, per class (broadcast along the last dimension)."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape!r}) must be the same as input size ({input.shape!r})")
    target, w = _binary_args(input, target, weight, "binary_cross_entropy_with_logits")
    _not_differentiable(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    pw = None
    if pos_weight is not None:
        pw = pos_weight._data.astype(input._data.dtype, copy=False)
        try:
            shape = np.broadcast_shapes(pw.shape, input._data.shape)
        except ValueError:  # NumPy's own error would not name the loss
            shape = None
        if shape != input._data.shape:
            raise RuntimeError(
                f"binary_cross_entropy_with_logits: pos_weight of shape {list(pw.shape)} does not broadcast "
                f"to input {list(input.shape)} (it holds one weight per class, the last dimension)"
            )
    # the tensors themselves, not w and pw: see binary_cross_entropy
    return losses.BinaryCrossEntropyWithLogits.apply(
        input, target, None if w is None else weight, None if pw is None else pos_weight, reduction
    )


# ---- likelihoods --------------------------------------------------------------------------------


def _broadcast(op: str, **shapes: tuple) -> tuple:
    """The shape that the named shapes broadcast to; a RuntimeError naming op and every shape
    if they do not."""
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        named = [f"{name} {list(shape)}" for name, shape in shapes.items()]
        listed = ", ".join(named[:-1]) + " and " + named[-1]
        raise RuntimeError(
            f"{op}: the shapes of {listed} cannot be broadcast together (each dimension must match or be 1)"
        ) from None


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a count target under a Poisson distribution of rate
    exp(input) (log_input=True) or input (torch.nn.functional.poisson_nll_loss):
    exp(input) - target * input, or input - target * log(input + eps).

    full adds log(target!) by Stirling's approximation, t log t - t + log(2 pi t) / 2, where
    target > 1 (0 elsewhere, as in PyTorch); the term is computed only there, so a target of
    0 gets gradient 0 where PyTorch's gets NaN (docs/differences.md).
    """
    reduction = _reduction(size_average, reduce, reduction, legacy=False)
    _broadcast("poisson_nll_loss", input=input.shape, target=target.shape)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        counted = target > 1
        t = where(counted, target, 1.0)  # log(t) stays finite where the term is not counted
        stirling = t * t.log() - t + 0.5 * (2 * math.pi * t).log()
        loss = loss + where(counted, stirling, 0.0)
    return _reduce(loss, reduction)


def _gaussian_var(input: Tensor, var: Tensor | float) -> Tensor:
    """var as a tensor that broadcasts to input, checked as PyTorch checks it: of the input's
    shape, or that with the last dimension left out (then unsqueezed), or with exactly one
    dimension of size 1 where the input's is larger (one variance shared along it)."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError(f"var has negative entry/entries (gaussian_nll_loss: var={var})")
        return var * ones_like(input)
    if var._data.dtype.kind not in "fV":
        raise RuntimeError(f"gaussian_nll_loss: expected a floating point var, got {var.dtype}")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries (gaussian_nll_loss: a variance is never negative)")
    if var.shape == input.shape:
        return var
    if var.shape == input.shape[:-1]:
        return var.unsqueeze(-1)
    if var.ndim == input.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1:
        return var
    raise ValueError(
        f"var is of incorrect size (gaussian_nll_loss: var {list(var.shape)} for input "
        f"{list(input.shape)}; give var the input's shape, that without its last dimension, or "
        "that with one dimension of size 1)"
    )


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of target under a Gaussian of mean input and variance var
    (torch.nn.functional.gaussian_nll_loss): (log(var) + (input - target)^2 / var) / 2, plus
    log(2 pi) / 2 if full.

    var is clamped at eps for stability, but, as in PyTorch, the clamp is invisible to the
    gradient: var's gradient is that of the formula at the clamped value.
    """
    var = _gaussian_var(input, var)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not valid")
    _broadcast("gaussian_nll_loss", input=input.shape, target=target.shape, var=var.shape)
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
