"""The functions behind nn.Linear, nn.Bilinear, the dropout layers and nn.Embedding, one_hot and pad."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ember import _bfloat16, _meta, random
from ember._layout import SparseUnsupportedError, sparse_form
from ember._tensor import Tensor
from ember.autograd.function import apply, apply_one, bump_below_the_check
from ember.autograd.saved import field, saved_input, shape_of
from ember.dtypes import scalar_type_name
from ember.ops import _dual
from ember.ops import activations as act
from ember.ops.api.arith import add, mul
from ember.ops.api.convert import add_, mul_
from ember.ops.api.products import matmul
from ember.ops.api.shape import pad as _pad
from ember.ops.elementwise import Op
from ember.ops.linalg import einsum
from ember.ops.padding import PadGather, source_index


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight^T + bias, one fused node (torch.nn.functional.linear).

    A 1-D weight (in_features,) gives one output without its dimension, and a bias that
    only broadcasts to the output is added after the product, as in PyTorch: those rare
    forms are composed in `_linear_composed`, so that the ordinary one keeps its fast path.
    """
    xs, ws = input._data.shape, weight._data.shape
    try:
        if (
            len(ws) != 2
            or not xs
            or xs[-1] != ws[1]
            or (input._data.dtype is not weight._data.dtype and input._data.dtype != weight._data.dtype)
            # a bias of another dtype goes the composed way, which refuses it (PyTorch raises;
            # the fused node would cast it silently)
            or (
                bias is not None
                and (bias._data.shape != ws[:1] or bias._data.dtype is not weight._data.dtype)
            )
        ):
            return _linear_composed(input, weight, bias)
        return apply(act.Linear, input, weight, bias)
    except SparseUnsupportedError:  # a sparse input or weight (see ember/sparse/_functions.py)
        return sparse_form("linear", (input, weight, bias))


def _linear_composed(input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """linear for a 1-D weight or a bias of another shape than (out_features,) that
    broadcasts to the output: matmul, then the bias added. Anything else (a bias of another
    dtype included) raises."""
    xs, ws = input._data.shape, weight._data.shape
    where = (
        f"(linear: input {list(xs)}, weight {list(ws)}{'' if bias is None else f', bias {list(bias.shape)}'})"
    )
    if not xs or not ws:
        raise RuntimeError(
            f"both arguments to linear need to be at least 1D, but they are {len(xs)}D and {len(ws)}D {where}"
        )
    if len(ws) > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {len(ws)}D {where} (the weight is "
            "(out_features, in_features), or (in_features,) for one output)"
        )
    if xs[-1] != ws[-1]:
        rows = int(np.prod(xs[:-1], dtype=np.int64))
        mat2 = f"{ws[0]}x1" if len(ws) == 1 else f"{ws[1]}x{ws[0]}"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{xs[-1]} and {mat2}) {where}")
    if _bfloat16.autocast[0] and len(ws) == 2 and (bias is None or bias._data.shape == ws[:1]):
        return apply(act.Linear, input, weight, bias)  # a bfloat16 autocast region: the op casts them all
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {input.dtype} and {weight.dtype} {where} "
            "(convert the input with .float(), or the layer with .double())"
        )
    if bias is not None and bias._data.dtype != weight._data.dtype:
        raise RuntimeError(
            f"linear: the bias is {bias.dtype} but the input and weight are {weight.dtype} {where}; "
            "convert the bias to the weight's dtype"
        )
    out = matmul(input, weight) if len(ws) == 1 else apply(act.Linear, input, weight, None)
    if bias is None:
        return out
    try:
        fits = np.broadcast_shapes(bias._data.shape, out._data.shape) == out._data.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"linear: bias of shape {list(bias.shape)} does not broadcast to the output of shape "
            f"{list(out.shape)} {where}"
        )
    return out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = input1^T weight[k] input2 + bias[k] (torch.nn.functional.bilinear)."""
    s1, s2, ws = input1._data.shape, input2._data.shape, weight._data.shape
    if len(ws) != 3 or s1[:-1] != s2[:-1] or s1[-1] != ws[1] or s2[-1] != ws[2]:
        raise RuntimeError(
            f"bilinear: input1 {list(s1)} and input2 {list(s2)} must agree in their leading dimensions "
            f"and match weight {list(ws)} (out_features, in1_features, in2_features)"
        )
    dtypes = [t._data.dtype for t in (input1, input2, weight) + (() if bias is None else (bias,))]
    if any(d != dtypes[0] for d in dtypes):
        named = zip(("input1", "input2", "weight", "bias"), (input1, input2, weight, bias))
        names = ", ".join(f"{n}: {t.dtype}" for n, t in named if t is not None)
        raise RuntimeError(f"bilinear: all tensors must have the same dtype, got {names}")
    if bias is not None and bias._data.shape != ws[:1]:
        raise RuntimeError(
            f"bilinear(): bias size does not match weight size: got {bias.numel()} but expected {ws[0]} "
            f"(bias {list(bias.shape)}, weight {list(ws)})"
        )
    # two matrix products (input1 with every weight[k], then each row with input2), as
    # PyTorch's _trilinear computes it: BLAS, where one three-operand einsum loops in C
    left = einsum("ni,kij->nkj", input1.reshape(-1, ws[1]), weight)
    out = einsum("nkj,nj->nk", left, input2.reshape(-1, ws[2]))
    if bias is not None:
        out = out + bias
    return out.reshape(s1[:-1] + (ws[0],))


# ---- dropout ----------------------------------------------------------------------------------


def _check_p(p: float) -> None:
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(input: Tensor, p: float, shape: tuple) -> Tensor:
    """Zeros with probability p, else 1 / (1 - p), drawn from ember's default generator."""
    dtype = input._data.dtype
    if input.is_meta:  # no values to drop: a meta mask, without drawing one of the full size
        return Tensor(_meta.empty(shape, dtype))
    if p == 1:
        return Tensor(np.zeros(shape, dtype=dtype))
    if dtype.kind not in "fcV":
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {scalar_type_name(dtype)} "
            f"(dropout scales what it keeps by 1/(1-p): give it a floating point input, not {input.dtype})"
        )
    keep = random.rng(None).random(shape, dtype=np.float32) >= p
    return Tensor(keep.astype(dtype) * dtype.type(1 / (1 - p)))


def _apply_mask(input: Tensor, mask: Tensor, inplace: bool) -> Tensor:
    return mul_(input, mask) if inplace else mul(input, mask)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p); the identity when
    not training (torch.nn.functional.dropout)."""
    _check_p(p)
    if not training or p == 0:
        return input
    return _apply_mask(input, _dropout_mask(input, p, input._data.shape), inplace)


def _channel_dropout(
    input: Tensor, p: float, training: bool, inplace: bool, spatial: int, name: str
) -> Tensor:
    _check_p(p)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"{name}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched) input, "
            f"got shape {list(input.shape)}"
        )
    if not training or p == 0:
        return input
    shape = input._data.shape[:-spatial] + (1,) * spatial  # one draw per channel
    return _apply_mask(input, _dropout_mask(input, p, shape), inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) input (torch.nn.functional.dropout1d)."""
    return _channel_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) input (torch.nn.functional.dropout2d).

    Input of another rank than 3 or 4 is deprecated in PyTorch but still runs there (the
    mnist_rnn example of pytorch/examples feeds (N, C) to Dropout2d): it warns and zeroes
    along dimension 1 of (N, C, *), as `feature_dropout` does.
    """
    if input.ndim not in (3, 4):
        _check_p(p)
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this warning, "
            "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout "
            "on inputs with 2 spatial dimensions, a channel dimension, and an optional batch "
            "dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
        return feature_dropout(input, p, training, inplace)
    return _channel_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) input (torch.nn.functional.dropout3d).

    Input of another rank than 4 or 5 is deprecated in PyTorch but still runs there: it
    warns and, as for 4-D input, reads the input as one unbatched sample whose channels are
    dimension 0 (a 1-D input: each element is a channel).
    """
    if input.ndim not in (4, 5):
        _check_p(p)
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this warning, "
            "please use dropout instead. Note that dropout3d exists to provide channel-wise dropout "
            "on inputs with 3 spatial dimensions, a channel dimension, and an optional batch "
            "dimension (i.e. 4D or 5D inputs).",
            stacklevel=2,
        )
        # a 0-d input is not unsqueezed, so that feature_dropout's error names its own shape
        out = feature_dropout(input.unsqueeze(0) if input.ndim else input, p, training, inplace)
        return input if inplace else out.squeeze(0)
    return _channel_dropout(input, p, training, inplace, 3, "dropout3d")


def _feature_shape(input: Tensor) -> tuple:
    """(N, C, 1, ..., 1): the shape of one draw per channel of (N, C, *) input."""
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError(
            f"Feature dropout requires at least 2 dimensions in the input (got shape {list(shape)}; "
            "the channels are dimension 1 of (N, C, *))"
        )
    return shape[:2] + (1,) * (len(shape) - 2)


def feature_dropout(input: Tensor, p: float, training: bool, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, *) input of any rank (torch.feature_dropout; what
    dropout1d/2d/3d do to batched input)."""
    _check_p(p)
    if not training or p == 0 or input._data.size == 0:
        return input
    shape = input._data.shape if p == 1 else _feature_shape(input)  # p=1 zeros any input, as PyTorch
    return _apply_mask(input, _dropout_mask(input, p, shape), inplace)


# SELU's scale * alpha: -1.758... is the value SELU tends to for very negative inputs
_SELU_SATURATION = 1.7580993408473766


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool) -> Tensor:
    """Set the dropped elements (with feature: whole channels) to SELU's saturation value
    -1.758..., then map every element by one a * x + b, chosen so that an input of mean 0
    and variance 1 keeps them (the fixed point of self-normalising SELU networks): kept
    elements become a * x + 1.758 a p, dropped ones 1.758 a (p - 1)."""
    _check_p(p)
    if not training or p == 0 or input._data.size == 0:
        return input
    dtype = input._data.dtype
    if p == 1:  # nothing kept: zeros, as PyTorch multiplies by 0 here
        return _apply_mask(input, Tensor(np.zeros((), dtype=dtype)), inplace)
    shape = _feature_shape(input) if feature else input._data.shape
    if dtype.kind not in "fV":
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {scalar_type_name(dtype)} "
            "(alpha dropout takes floating point input)"
        )
    keep = random.rng(None).random(shape, dtype=np.float32) >= p
    a = 1 / np.sqrt((_SELU_SATURATION**2 * p + 1) * (1 - p))
    scale = Tensor((keep * a).astype(dtype))
    shift = Tensor((_SELU_SATURATION * a * (p - 1 + keep)).astype(dtype))
    y = _apply_mask(input, scale, inplace)
    return add_(y, shift) if inplace else add(y, shift)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks, keeping a mean of 0 and a variance of 1; the identity when
    not training, which is the default here, as in PyTorch (torch.nn.functional.alpha_dropout)."""
    return _alpha_dropout(input, p, training, inplace, feature=False)


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout of whole channels of (N, C, *) input; training defaults to False, as in
    PyTorch (torch.nn.functional.feature_alpha_dropout)."""
    return _alpha_dropout(input, p, training, inplace, feature=True)


# ---- embeddings and one-hot -----------------------------------------------------------------


class Embedding(Op):
    """Rows of the weight picked by index. Its gradient adds up over repeated indices; the
    padding row gets none, as in PyTorch. With `sparse` the gradient is a sparse COO tensor
    instead, one row per looked-up index (ember/sparse/_grad.py). (Kept here, next to its
    only user.)"""

    saved_attributes = {
        "indices": saved_input(1),
        "padding_idx": field("padding_idx", lambda i: -1 if i is None else i),
        "scale_grad_by_freq": field("freq", lambda freq: freq is not None),
        "sparse": field("sparse"),
        "weight_sym_argsize_0": field("shape", shape_of(0)),
    }

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq, sparse=False):
        ctx.shape, ctx.padding_idx, ctx.sparse = weight.shape, padding_idx, sparse
        # backward reads the indices from saved_tensors, as PyTorch's node does: changed in
        # place before backward they raise, and a saved-tensor hook's unpacked value is used
        ctx.save_for_backward(indices)
        ctx.freq = None
        if scale_grad_by_freq:
            ctx.freq = np.bincount(indices.ravel(), minlength=weight.shape[0])[indices].astype(weight.dtype)
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        indices = _dual.value(ctx.saved_tensors[0])  # a Tensor under create_graph
        if ctx.sparse:
            return _sparse_rows(ctx, indices, grad), None, None, None, None
        if ctx.freq is not None:
            grad = grad / ctx.freq[..., None]
        if ctx.padding_idx is not None:
            keep = indices != ctx.padding_idx
            indices, grad = indices[keep], grad[keep]
        return _dual.index_add(ctx.shape, indices, grad, grad.dtype), None, None, None, None


def _sparse_rows(ctx: Any, indices: Any, grad: Any) -> Any:
    """The sparse gradient of embedding(sparse=True): one row of grad per index, in the
    input's order, the padding index's left out (PyTorch's embedding_sparse_backward)."""
    from ember.sparse._grad import from_rows

    if ctx.freq is not None:  # raised here, in backward, as PyTorch does
        raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
    idx = (indices._data if isinstance(indices, Tensor) else np.asarray(indices)).reshape(-1)
    dim = ctx.shape[1]
    rows = grad.reshape(idx.size, dim)
    keep = None if ctx.padding_idx is None else idx != ctx.padding_idx
    if rows.size == 0:  # nothing looked up, or rows of no elements: no entry
        keep = np.zeros(idx.size, bool)
    if keep is not None:
        idx = idx[keep]
        rows = rows[Tensor(keep)] if isinstance(rows, Tensor) else rows[keep]
    elif not isinstance(rows, Tensor):
        rows = np.array(rows)  # the values are the gradient's own, not a view of another's
    return from_rows(ctx.shape, idx, rows)


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """weight[input]: look up one row per index (torch.nn.functional.embedding)."""
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype != np.int64 and idx.dtype != np.int32:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long, Int; but got {idx.dtype} instead (use .long())"
        )
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D (num_embeddings, dim), got {list(weight.shape)}")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings (valid: 0..{n - 1})")
    if padding_idx is not None:
        if not -n <= padding_idx < n:  # PyTorch asserts it
            raise AssertionError(
                f"Padding_idx must be within num_embeddings (got {padding_idx} for {n} embeddings)"
            )
        padding_idx %= n
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    indices = input if isinstance(input, Tensor) else idx  # a Tensor's version is checked in backward
    return Embedding.apply(weight, indices, padding_idx, scale_grad_by_freq, bool(sparse))


def _renorm_rows(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the looked-up rows whose norm exceeds max_norm, in place and unrecorded (as PyTorch)."""
    rows = np.unique(idx)
    w = weight._data
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    too_long = norms > max_norm
    w[rows[too_long]] *= (max_norm / (norms[too_long] + 1e-7))[:, None].astype(w.dtype)
    bump_below_the_check(weight)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor with a trailing dimension of num_classes, 1 at each index (torch.nn.functional.one_hot)."""
    idx = tensor._data
    if idx.dtype != np.int64:
        raise RuntimeError(
            f"one_hot is only applicable to index tensor of type LongTensor (got {tensor.dtype}; use .long())"
        )
    if idx.size == 0 and num_classes <= 0:  # PyTorch's rule: an empty input needs a positive count
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if idx.__class__ is not np.ndarray:  # meta: no values to count the classes in, or check
        if num_classes == -1:
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        return Tensor(_meta.empty(idx.shape + (num_classes,), np.int64))
    if num_classes == -1:
        num_classes = int(idx.max()) + 1
    if idx.size and idx.min() < 0:
        raise RuntimeError(f"Class values must be non-negative (got {int(idx.min())}).")
    if idx.size and idx.max() >= num_classes:
        raise RuntimeError(
            f"Class values must be smaller than num_classes (got {int(idx.max())} for {num_classes})."
        )
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return Tensor(out)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad with (left, right) pairs from the last dimension backwards (torch.nn.functional.pad).

    mode 'constant' fills with `value` (0 when None) and pads any number of dimensions;
    'reflect' mirrors about the edge (the edge itself not repeated), 'replicate' repeats the
    edge and 'circular' wraps around; these three pad the last 1, 2 or 3 dimensions of an
    input with one or two dimensions more (a batch and a channel dimension, or a channel
    only). A negative width crops instead: F.pad(x, (-1, 2)) drops the first column.
    """
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    for i, w in enumerate(pad):
        if not isinstance(w, (int, np.integer)) or isinstance(w, bool):
            raise TypeError(
                f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                f"{type(w).__name__} at pos {i}"
            )
    pad = [int(w) for w in pad]
    ndim = input._data.ndim
    if len(pad) % 2:
        raise RuntimeError(f"Padding length must be divisible by 2 (pad: got {len(pad)} widths)")
    if len(pad) // 2 > ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(pad)} and input of dimension {ndim}"
        )
    if mode != "constant":
        return _pad_by_index(input, pad, mode, value)
    value = 0.0 if value is None else value
    if all(w >= 0 for w in pad):
        return _pad(input, pad, mode, value)
    # crop with a slice (differentiable, zero gradient to what is cut), then pad what remains
    crop = [slice(None)] * ndim
    widths = []
    for i in range(len(pad) // 2):
        dim, (before, after) = ndim - 1 - i, pad[2 * i : 2 * i + 2]
        size = input._data.shape[dim]
        start, stop = max(-before, 0), size - max(-after, 0)
        if start > stop:
            raise RuntimeError(
                f"pad: the negative padding ({before}, {after}) of dimension {dim} crops more than its "
                f"{size} elements (input of shape {list(input._data.shape)})"
            )
        crop[dim] = slice(start, stop)
        widths += [max(before, 0), max(after, 0)]
    return _pad(input[tuple(crop)], widths, mode, value)  # a copy, never a view of input


_PAD_MODES = ("constant", "reflect", "replicate", "circular")
_PAD_NODES = {"reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}


def _pad_by_index(input: Tensor, pad: list[int], mode: str, value: float | None) -> Tensor:
    """F.pad's reflect, replicate and circular modes, checked as PyTorch checks them, then
    one gather per padded dimension (ember.ops.padding)."""
    shape, k = input._data.shape, len(pad) // 2
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if not 1 <= k <= 3 or len(shape) not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {len(shape)}D input tensor. Supported combinations "
            f"for non-constant padding (mode '{mode}'):\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    pairs = [(len(shape) - 1 - i, pad[2 * i], pad[2 * i + 1]) for i in range(k)]  # (dim, before, after)
    sizes = [shape[dim] + before + after for dim, before, after in pairs]
    if mode == "circular":
        _check_circular(shape, pairs, sizes)
    else:
        _check_reflect_replicate(input, mode, pairs, sizes)
    plan = tuple(
        (dim, source_index(mode, shape[dim], before, after), shape[dim]) for dim, before, after in pairs
    )
    return apply_one(PadGather, input, plan, f"{_PAD_NODES[mode]}{k}D")


def _check_reflect_replicate(input: Tensor, mode: str, pairs: list, sizes: list) -> None:
    shape, k = input._data.shape, len(pairs)
    if input._data.dtype == np.bool_:
        raise NotImplementedError(f"\"{_PAD_NODES[mode][:-3].lower()}_pad{k}d\" not implemented for 'Bool'")
    if 0 in shape[len(shape) - k - 1 :]:  # all but a batch dimension
        raise RuntimeError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {list(shape)} (pad, mode '{mode}')"
        )
    if mode == "reflect":
        for i, (dim, before, after) in enumerate(pairs):
            if before >= shape[dim] or after >= shape[dim]:
                raise RuntimeError(
                    f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input dimension, "
                    f"but got: padding ({before}, {after}) at dimension {dim} of input {list(shape)} "
                    "(reflect padding mirrors about the edge element, so it can add at most size - 1 elements)"
                )
    if min(sizes) < 0 or max(sizes) < 1:
        names = "DHW"[3 - k :]
        given = ", ".join(f"{n}: {shape[dim]}" for n, (dim, _, _) in zip(names, reversed(pairs)))
        got = ", ".join(f"{n}: {s}" for n, s in zip(names, reversed(sizes)))
        raise RuntimeError(f"input ({given}) is too small. Calculated output {got} (pad, mode '{mode}')")


def _check_circular(shape: tuple, pairs: list, sizes: list) -> None:
    for (dim, before, after), out in zip(pairs, sizes):
        if before > shape[dim] or after > shape[dim]:
            raise RuntimeError(
                f"Padding value causes wrapping around more than once. (circular pad: padding ({before}, "
                f"{after}) at dimension {dim} of input {list(shape)}; each width can be at most the size)"
            )
        if out < 0:
            raise RuntimeError(
                f"Negative padding value is resulting in an empty dimension (circular pad: padding ({before}, "
                f"{after}) at dimension {dim} of input {list(shape)})"
            )
        if out > 0 and shape[dim] - max(-before, 0) - max(-after, 0) <= 0:
            # PyTorch fills this with whatever memory held: nothing is left to wrap around
            raise RuntimeError(
                f"circular pad: the negative padding in ({before}, {after}) leaves nothing of dimension {dim} "
                f"of input {list(shape)} to wrap around"
            )
