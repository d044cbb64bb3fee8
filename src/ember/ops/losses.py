"""Loss functions as single nodes: cross-entropy, NLL, the binary cross-entropies and MSE.

Why fused. Composed as softmax, log, gather and mean, cross-entropy builds four nodes
and is unstable: exp overflows for logits near 100 and log(0) gives -inf. One node
subtracts each row's maximum before exp (exp never sees a positive number) and has a
closed-form gradient, softmax minus the target distribution, scaled by the reduction.
binary_cross_entropy_with_logits likewise uses log(1 + e^x) = max(x, 0) + log1p(e^-|x|),
finite for any logit, instead of log(sigmoid(x)). mse_loss is one node for a plainer
reason: it is the loss of most first programs, which print its `grad_fn` (PyTorch's
`MseLossBackward0`, whose inputs are the input and the target) and walk the graph from it.

cross_entropy and nll_loss are, per sample i, L_i = -sum_c q_ic z_ic for a target
distribution q (the one-hot of the class, times its weight, with label smoothing mixed
in) and log-probabilities z. The inputs of `forward` are validated by the public
functions in `ember.nn.functional`; class axis 1, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.autograd.saved import constant, field, field_tensor, saved_input, saved_none
from ember.ops import _dual
from ember.ops.activations import sigmoid, softplus
from ember.ops.elementwise import Op


def _reduce(loss: np.ndarray, reduction: str, denominator: float) -> Any:
    if reduction == "none":
        return loss
    total = np.add.reduce(loss, None, dtype=loss.dtype)  # loss.sum() without its Python wrapper
    if reduction == "sum":
        return total
    # nothing to average (every target ignored, or no element): nan, as PyTorch
    return total / denominator if denominator else np.full((), np.nan, loss.dtype)


def _dot_classes(q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """sum_c q_c z_c for each sample. A log-probability of -inf where q is 0 (a masked
    logit, log(0) of a zero probability) adds 0, as picking the target's entry would."""
    with np.errstate(invalid="ignore"):
        out = (q * z).sum(axis=1)
        if np.isnan(out).any():
            out = np.where(q != 0, q * z, 0).sum(axis=1)
    return out


def _upstream(grad: Any, reduction: str, denominator: float) -> Any:
    """The gradient reaching each sample's loss: divided by the count for 'mean'.

    With nothing to average (no element, or every target ignored) the loss is nan but, as
    in PyTorch, the gradient is zero: no sample is left to receive one. Targets that remain
    but whose class weights sum to 0 are another case, where PyTorch's gradient is
    weight / total = 0/0 = nan: `class_target` puts that nan into q for them."""
    if reduction != "mean":
        return grad
    return grad / denominator if denominator else grad * 0


def _over_classes(g: Any, reduction: str) -> Any:
    """With reduction='none', a gradient per sample (N, d...) gets the class axis 1 back."""
    return g.reshape(g.shape[:1] + (1,) + g.shape[1:]) if reduction == "none" else g


def class_target(
    target: np.ndarray,
    weight: np.ndarray | None,
    ignore_index: int,
    smoothing: float,
    shape: tuple,
    dtype: np.dtype,
    reduction: str,
) -> tuple[np.ndarray, float]:
    """The dense target distribution q of class indices, and the total weight of the
    samples not ignored (what reduction='mean' divides by, as PyTorch).

    q holds weight[target] at the target class and zeros elsewhere, and is zero for
    ignored samples; label smoothing s keeps (1 - s) of it and spreads s over the classes,
    each class c receiving s / C times weight[c].

    For 'mean' where targets remain but their weights sum to 0, PyTorch scales each one by
    weight / total = 0/0: q holds nan at those targets, so that the loss and the gradients
    of those samples are nan as in PyTorch (cross_entropy's whole row, through the softmax;
    nll_loss's target entry), and ignored samples still get 0.
    """
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    coef = valid.astype(dtype) if weight is None else weight[safe] * valid
    total = float(coef.sum())
    if reduction == "mean" and total == 0 and weight is not None:
        coef = np.where(valid, np.nan, 0).astype(dtype)
    q = np.zeros(shape, dtype=dtype)
    if len(shape) == 2:
        q[np.arange(shape[0]), safe] = coef
    else:
        np.put_along_axis(q, safe[:, None], coef[:, None], axis=1)
    if smoothing:
        n_classes = shape[1]
        spread = (
            np.full(n_classes, smoothing / n_classes, dtype)
            if weight is None
            else weight * (smoothing / n_classes)
        )
        q = q * (1 - smoothing) + spread.reshape((1, n_classes) + (1,) * (len(shape) - 2)) * valid[:, None]
    return q, total


def _shifted_exp(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's logits minus the row's maximum (so exp never sees a positive number), their
    exp, and the sum of that over the classes (axis 1): softmax is e / s, log-softmax
    shifted - log(s)."""
    # the ufuncs' reduce rather than x.max() and e.sum(): the same reductions without
    # ndarray's Python wrappers, one Python call each
    shifted = x - np.maximum.reduce(x, 1, keepdims=True)
    e = np.exp(shifted)
    return shifted, e, np.add.reduce(e, 1, keepdims=True)


_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def _reduction_number(name: str) -> int:
    """A loss's reduction as PyTorch saves it: its number (0 none, 1 mean, 2 sum)."""
    return _REDUCTIONS[name]


class CrossEntropy(Op):
    """log_softmax over axis 1 and the loss -sum_c q_c log p_c in one node.

    Fused for stability and speed (see the module docstring): the row maximum is
    subtracted before exp, and the gradient is the closed form softmax * sum(q) - q.

    `target` is the dense class distribution q built by `class_target`, already weighted
    and smoothed (weight None, smoothing 0 here). SoftCrossEntropy takes probabilities t
    of the input's shape instead, which may require grad: it builds
    q = weight * ((1 - s) t + s / C) itself, so that the gradient for t can be formed.
    """

    _intermediates = ("e", "s", "logp")

    # with class indices, the call's arguments are shown as PyTorch's NllLossBackward0 shows
    # them (kept on the node by `keep_class_arguments`; backward reads the dense q instead)
    saved_attributes = {
        "self": saved_input(0),
        "target": field_tensor("classes", hooks=False),
        "weight": field_tensor("class_weight", hooks=False),
        "total_weight": field_tensor("total_weight", hooks=False),
        "reduction": field("reduction", _reduction_number),
        "ignore_index": field("ignore_index"),
    }

    soft = False

    @staticmethod
    def forward(ctx, x, target, weight, smoothing, reduction, denominator, indices=None):
        shifted, e, s = _shifted_exp(x)
        logp = shifted - np.log(s)
        q = _soft_target(target, weight, smoothing) if ctx.soft else target
        # q of class indices is built from them: they are kept too, so that changing them in
        # place before backward raises (saved_tensors checks their version), as in PyTorch
        ctx.save_for_backward(x, target) if indices is None else ctx.save_for_backward(x, target, indices)
        ctx.e, ctx.s, ctx.logp = e, s, logp
        ctx.weight, ctx.smoothing, ctx.reduction, ctx.denominator = weight, smoothing, reduction, denominator
        return _reduce(-_dot_classes(q, logp), reduction, denominator)

    @staticmethod
    def backward(ctx, grad):
        x, target = ctx.saved_tensors[:2]
        dx, dt = ctx._edges[0], ctx._edges[1]
        if _dual.is_array(grad):
            p = ctx.e / ctx.s
            logp = ctx.logp
        else:  # create_graph: softmax recomputed as ops, so that it is differentiated too
            logp = x.log_softmax(1)
            p = logp.exp()
        q = _soft_target(target, ctx.weight, ctx.smoothing) if ctx.soft else target
        g = _over_classes(_upstream(grad, ctx.reduction, ctx.denominator), ctx.reduction)
        # d/dx_c of -sum_k q_k log p_k  =  p_c sum_k q_k - q_c
        gx = (p * _dual.sum(q, 1) - q) * g if dx is not None else None
        gt = None
        if dt is not None:
            gt = -logp * g * (1 - ctx.smoothing)
            if ctx.weight is not None:
                gt = gt * ctx.weight
        return gx, gt, None, None, None, None, None


class SoftCrossEntropy(CrossEntropy):
    """cross_entropy with class-probability targets (the same node, q built from t)."""

    soft = True


def _soft_target(t: Any, weight: np.ndarray | None, smoothing: float) -> Any:
    q = t * (1 - smoothing) + smoothing / t.shape[1] if smoothing else t
    return q * weight if weight is not None else q


class NllLoss(Op):
    """-sum_c q_c x_c for log-probabilities x and the dense class distribution q."""

    _intermediates = ("q",)

    _not_tensor_inputs = (1, 2, 3, 4)  # next_functions lists the input only, as PyTorch's

    saved_attributes = {  # as CrossEntropy's, but the input is not kept
        "target": field_tensor("classes", hooks=False),
        "weight": field_tensor("class_weight", hooks=False),
        "total_weight": field_tensor("total_weight", hooks=False),
        "reduction": field("reduction", _reduction_number),
        "ignore_index": field("ignore_index"),
    }

    @staticmethod
    def forward(ctx, x, q, reduction, denominator, indices):
        ctx.q, ctx.reduction, ctx.denominator = q, reduction, denominator
        ctx.save_for_backward(indices)  # q's class indices: see CrossEntropy.forward
        return _reduce(-_dot_classes(q, x), reduction, denominator)

    @staticmethod
    def backward(ctx, grad):
        ctx.saved_tensors  # noqa: B018 (raises if the indices changed in place since forward)
        g = _over_classes(_upstream(grad, ctx.reduction, ctx.denominator), ctx.reduction)
        return -ctx.q * g, None, None, None, None


def keep_class_arguments(
    loss: Any, target: np.ndarray, weight: np.ndarray | None, ignore_index: int, total_weight: float
) -> None:
    """Keep on the node of `loss` (a CrossEntropy or NllLoss of class indices) the arguments
    its dense q was built from, for its saved attributes: the target indices, the class
    weight, ignore_index, and the total weight PyTorch saves (0 for reduction='none')."""
    node = loss.grad_fn
    if node is None:
        return
    total = 0.0 if node.reduction == "none" else total_weight
    node.classes, node.class_weight, node.ignore_index = target, weight, ignore_index
    node.total_weight = np.asarray(total, dtype=loss._data.dtype)


# ---- the common case of class indices, picked instead of a dense q ----------------------


def _one_hot(rows: np.ndarray, target: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    q = np.zeros(shape, dtype)
    q[rows, target] = 1
    return q


class IndexCrossEntropy(Op):
    """CrossEntropy for (N, C) logits and class indices, with no weight, no label smoothing
    and no target ignored: what nearly every classifier uses.

    The formulas are CrossEntropy's with q one-hot, but each sample's target entry is picked
    out of its row instead of multiplying by a dense q, which takes half the NumPy calls
    (the loss is a small share of a step's work but many of its calls).
    """

    saved_attributes = {
        "self": saved_input(0),
        "target": saved_input(1),
        "weight": saved_none(),
        "reduction": field("reduction", _reduction_number),
        "ignore_index": constant(-100),
    }

    _intermediates = ("e", "s", "rows")

    def name(self) -> str:
        return "CrossEntropyBackward0"  # to the user, the same op as CrossEntropy

    @staticmethod
    def forward(ctx, x, target, reduction):
        shifted, e, s = _shifted_exp(x)
        rows = np.arange(len(x))
        nll = np.log(s[:, 0]) - shifted[rows, target]  # -log p of each sample's target
        # backward reads the target from saved_tensors, as PyTorch's node does: changed in
        # place before backward it raises, and a saved-tensor hook's unpacked value is used
        ctx.save_for_backward(x, target)
        ctx.e, ctx.s, ctx.rows, ctx.reduction = e, s, rows, reduction
        return _reduce(nll, reduction, len(x))

    @staticmethod
    def backward(ctx, grad):
        x, target = ctx.saved_tensors
        target = _dual.value(target)  # a Tensor under create_graph
        g = _over_classes(_upstream(grad, ctx.reduction, len(ctx.rows)), ctx.reduction)
        if _dual.is_array(grad):
            p = ctx.e / ctx.s
            p[ctx.rows, target] -= 1  # softmax minus the one-hot target
            return p * g, None, None
        # create_graph: softmax recomputed as ops, so that it is differentiated too
        q = _one_hot(ctx.rows, target, ctx.e.shape, ctx.e.dtype)
        return (x.softmax(1) - q) * g, None, None


class IndexNllLoss(Op):
    """NllLoss for (N, C) log-probabilities and class indices, with no weight and no target
    ignored: -x[n, target[n]], picked rather than multiplied by a dense q."""

    saved_attributes = {
        "target": saved_input(1),
        "weight": saved_none(),
        "reduction": field("reduction", _reduction_number),
        "ignore_index": constant(-100),
    }

    _not_tensor_inputs = (1, 2)  # next_functions lists the input only, as PyTorch's

    def name(self) -> str:
        return "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, reduction):
        rows = np.arange(len(x))
        ctx.shape, ctx.dtype, ctx.rows, ctx.reduction = x.shape, x.dtype, rows, reduction
        ctx.save_for_backward(target)  # read back in backward: see IndexCrossEntropy
        return _reduce(-x[rows, target], reduction, len(x))

    @staticmethod
    def backward(ctx, grad):
        target = _dual.value(ctx.saved_tensors[0])  # a Tensor under create_graph
        g = _upstream(grad, ctx.reduction, len(ctx.rows))
        if _dual.is_array(grad):
            gx = np.zeros(ctx.shape, ctx.dtype)
            gx[ctx.rows, target] = -g
            return gx, None, None
        q = _one_hot(ctx.rows, target, ctx.shape, ctx.dtype)  # create_graph
        return -q * _over_classes(g, ctx.reduction), None, None


# ---- binary cross-entropy ----------------------------------------------------------------


def _clamped_log(x: Any) -> Any:
    """log with PyTorch's floor of -100, so that log(0) gives a finite loss."""
    if _dual.is_array(x):
        with np.errstate(divide="ignore"):
            return np.maximum(np.log(x), -100)
    return x.log().clamp(min=-100)


def _clamped_log1p_neg(x: np.ndarray) -> np.ndarray:
    """log(1 - x) as log1p(-x), with PyTorch's floor of -100: for x near 0 (a sigmoid's
    output for a confident 'no') 1 - x would round away the digits that the loss is made of."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log1p(-x), -100)


class BinaryCrossEntropy(Op):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x, logs clamped at -100.

    Computed as PyTorch's kernel computes it, (t - 1) max(log1p(-x), -100) - t max(log x,
    -100): log1p keeps the loss of a probability near 0 exact to float32 (log(1 - x) is 1%
    off at x = 1e-6), and the order of the terms gives +0 for x = t = 0."""

    _not_tensor_inputs = (2, 3)  # next_functions lists input and target, as PyTorch's

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        # the weight is saved and backward reads it from there, as PyTorch's node: changed in
        # place before backward it raises, and under saved-tensor hooks the unpacked value counts
        ctx.save_for_backward(x, t, weight)
        loss = (t - 1) * _clamped_log1p_neg(x) - t * _clamped_log(x)
        if weight is not None:  # it scales the loss, which has the target's dtype
            loss = loss * weight.astype(t.dtype, copy=False)
        ctx.reduction, ctx.denominator = reduction, loss.size
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        x, t, weight = ctx.saved_tensors
        dx, dt = ctx._edges[0], ctx._edges[1]
        g = _upstream(grad, ctx.reduction, ctx.denominator)
        if weight is not None:
            g = g * _dual.value(weight).astype(_dual.value(t).dtype, copy=False)
        gx = gt = None
        if dx is not None:
            # (x - t) / (x (1 - x)), with the denominator kept away from 0 as PyTorch does
            denom = x * (1 - x)
            denom = np.maximum(denom, 1e-12) if _dual.is_array(denom) else denom.clamp(min=1e-12)
            gx = g * (x - t) / denom
        if dt is not None:  # -logit(x), unclamped as PyTorch's: infinite at x = 0 or 1
            with np.errstate(divide="ignore"):
                gt = g * -_dual.unary("log", x / (1 - x))
        return gx, gt, None, None


class BinaryCrossEntropyWithLogits(Op):
    """BCE of sigmoid(x) computed from the logit x, in one node so that it is stable for any
    |x|: never a log of a sigmoid that rounded to 0 or 1.

    With l = 1 + (pos_weight - 1) t, the loss is w ((1 - t) x + l softplus(-x)), since
    -log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = x + softplus(-x).
    """

    saved_attributes = {
        "self": saved_input(0),
        "target": saved_input(1),
        "weight": saved_input(2),
        "pos_weight": saved_input(3),
        "reduction": field("reduction", _reduction_number),
    }

    _not_tensor_inputs = (2, 3, 4)  # next_functions lists input and target, as PyTorch's

    @staticmethod
    def forward(ctx, x, t, weight, pos_weight, reduction):
        # the weights are saved and read back in backward, as in BinaryCrossEntropy
        ctx.save_for_backward(x, t, weight, pos_weight)
        if weight is not None:  # it scales the loss, which has the target's dtype
            weight = weight.astype(t.dtype, copy=False)
        if pos_weight is not None:
            pos_weight = pos_weight.astype(x.dtype, copy=False)
        sp = softplus(-x)
        loss = (1 - t) * x + (sp if pos_weight is None else (1 + (pos_weight - 1) * t) * sp)
        if loss.dtype != t.dtype:
            # input and target of different float dtypes: softplus in the input's dtype, the
            # rest promoted, and the loss in the target's dtype, as PyTorch (which computes
            # it in place in 1 - target) gives it
            loss = loss.astype(t.dtype)
        if weight is not None:
            loss = loss * weight
        ctx.reduction, ctx.denominator = reduction, loss.size
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        x, t, weight, pw = ctx.saved_tensors
        dx, dt = ctx._edges[0], ctx._edges[1]
        if pw is not None:  # in the input's dtype, as forward used it
            pw = _dual.value(pw).astype(_dual.value(x).dtype, copy=False)
        g = _upstream(grad, ctx.reduction, ctx.denominator)
        if weight is not None:
            g = g * _dual.value(weight).astype(_dual.value(t).dtype, copy=False)
        gx = gt = None
        if dx is not None:
            # derivative l sigmoid(x) - pos_weight t: with pos_weight 1 it is sigmoid(x) - t,
            # written so that no 1 - sigmoid(x) rounds a tiny gradient to zero
            s = sigmoid(x)
            gx = g * (s - t) if pw is None else g * ((1 + (pw - 1) * t) * s - pw * t)
        if dt is not None:
            gt = -g * x if pw is None else g * ((pw - 1) * softplus(-x) - x)
        return gx, gt, None, None, None


# ---- mean squared error --------------------------------------------------------------------


class MseLoss(Op):
    """(x - t)^2, reduced, computed in `dtype`, the one input and target promote to."""

    saved_attributes = {
        "self": saved_input(0),
        "target": saved_input(1),
        "reduction": field("reduction", _reduction_number),
    }

    _not_tensor_inputs = (2, 3)  # next_functions lists input and target, as PyTorch's

    @staticmethod
    def forward(ctx, x, t, reduction, dtype):
        diff = x.astype(dtype, copy=False) - t.astype(dtype, copy=False)
        loss = diff * diff
        ctx.save_for_backward(x, t)
        ctx.reduction, ctx.denominator = reduction, loss.size
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        dx, dt = ctx._edges[0], ctx._edges[1]
        # inputs of two dtypes: NumPy may subtract in a wider one, and the engine casts each
        # gradient to its input's dtype; a broadcast target's gradient it sums to its shape
        gx = 2 * _upstream(grad, ctx.reduction, ctx.denominator) * (x - t)
        return gx if dx is not None else None, -gx if dt is not None else None, None, None
