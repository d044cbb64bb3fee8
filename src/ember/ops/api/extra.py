"""Repeating and writing by index or mask (repeat_interleave, masked_scatter, index_put),
bit shifts of integer tensors, and is_inference.

The differentiable ones are composed of indexing nodes (IndexSelect, Index, SetItem,
IndexAddInto) and where, whose gradients route each output element back to where it came
from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import _meta, dtypes
from ember._tensor import Tensor
from ember.ops import shape as shape_ops
from ember.ops.api.arith import _check_broadcast, _tensor_of, _write_inplace, add, result_type, where
from ember.ops.api.indexing import _bool_mask, _broadcasts_to
from ember.ops.api.shape import flatten, reshape
from ember.ops.reduction import normalize_dim

# ---- repeat_interleave -------------------------------------------------------------------------


def _repeat_counts(repeats: Any, n: int, axis: int) -> np.ndarray:
    """repeats (an int, or a 0-d or 1-d integer tensor) as one count per element along the axis."""
    if not isinstance(repeats, Tensor):
        return np.full(n, int(repeats), np.int64)
    r = repeats._data
    if r.dtype.kind not in "iu":
        raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for {repeats.dtype}')
    if r.ndim > 1:
        raise RuntimeError(f"repeats must be 0-dim or 1-dim tensor, got shape {list(r.shape)}")
    if r.size == 1:  # one count for every element
        return np.full(n, int(r.reshape(())), np.int64)
    if r.size != n:
        raise RuntimeError(
            "repeats must have the same size as input along dim, but got "
            f"repeats.size(0) = {r.size} and input.size({axis}) = {n}"
        )
    return r.astype(np.int64)


def _meta_output_size(output_size: Any) -> int:
    if output_size is None:
        raise RuntimeError("cannot repeat_interleave a meta tensor without output_size")
    return int(output_size)


def repeat_interleave(
    input: Tensor, repeats: Any = None, dim: int | None = None, *, output_size: int | None = None
) -> Tensor:
    """Each element (or slice along dim) repeated `repeats` times in place, the flattened input
    when dim is None (torch.repeat_interleave). With a 1-d integer tensor alone,
    repeat_interleave(repeats) gives each index i repeated repeats[i] times."""
    if repeats is None:
        r = input._data
        if r.ndim != 1 or r.dtype.kind not in "iu":
            raise RuntimeError(
                "repeat_interleave only accept 1D vector as repeat, got a tensor of shape "
                f"{list(r.shape)} and dtype {input.dtype}"
            )
        if r.__class__ is not np.ndarray:  # meta: the result's size is the repeats' sum
            return Tensor(_meta.empty((_meta_output_size(output_size),), r.dtype))
        if (r < 0).any():
            raise RuntimeError("repeat_interleave: repeats must be non-negative")
        return Tensor(np.repeat(np.arange(r.size, dtype=r.dtype), r))
    if dim is None or input.ndim == 0:
        input, axis = flatten(input), 0
    else:
        axis = normalize_dim(dim, input.ndim, "repeat_interleave")
    n = input.shape[axis]
    if isinstance(repeats, Tensor) and repeats.is_meta:  # its sum, the size, is not there to read
        if repeats._data.size != 1:
            _repeat_counts(repeats, n, axis)  # the checks of dtype and size
        index = _meta.empty((_meta_output_size(output_size),), np.intp)
        return shape_ops.IndexSelect.apply(input, (slice(None),) * axis + (index,))
    counts = _repeat_counts(repeats, n, axis)
    if (counts < 0).any():
        raise RuntimeError("repeat_interleave: repeats must be non-negative")
    total = int(counts.sum())
    if output_size is not None and output_size != total:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {total} but got {output_size}")
    index = np.repeat(np.arange(n), counts)
    # repeated by a number, PyTorch expands a view (its nodes save no tensor, so backward may
    # run again): Picks keeps the index; by a tensor it index_selects, saving the index
    select = shape_ops.IndexSelect if isinstance(repeats, Tensor) else shape_ops.Picks
    return select.apply(input, (slice(None),) * axis + (index,))


# ---- writing by mask and by index ---------------------------------------------------------------


def masked_scatter(input: Tensor, mask: Any, source: Tensor) -> Tensor:
    """input with the elements where mask holds replaced, in row-major order, by the first
    elements of source; mask broadcasts with input (torch.masked_scatter)."""
    m = _bool_mask(mask, "masked_scatter")
    if input._data.dtype != source._data.dtype:
        raise RuntimeError(
            f"masked_scatter: expected self and source to have same dtypes but got {input.dtype} "
            f"and {source.dtype}"
        )
    try:
        shape = np.broadcast_shapes(input.shape, m.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_scatter: the mask of shape {list(m.shape)} and the input of shape "
            f"{list(input.shape)} cannot be broadcast together"
        ) from None
    m = np.broadcast_to(m, shape)
    count = int(m.sum())
    if source._data.size < count:
        raise RuntimeError(
            f"masked_scatter: Number of elements of source ({source._data.size}) < number of "
            f"ones in mask ({count})"
        )
    if input.shape != shape:
        input = shape_ops.Expand.apply(input, shape)
    if count == 0:
        return where(m, input, input)  # a copy, as PyTorch makes one
    # the k-th True element of the mask reads source's k-th element; the others read source's
    # first, which where() then discards (with a zero gradient)
    order = np.maximum(np.cumsum(m.reshape(-1)) - 1, 0).reshape(shape)
    spread = shape_ops.Index.apply(reshape(source, (-1,)), order)
    return where(m, spread, input)


def masked_scatter_(input: Tensor, mask: Any, source: Tensor) -> Tensor:
    """In-place masked_scatter (torch.Tensor.masked_scatter_); mask must broadcast to input."""
    m = _bool_mask(mask, "masked_scatter_")
    if not _broadcasts_to(m.shape, input.shape):  # it must not grow input
        raise RuntimeError(
            f"masked_scatter_: the mask of shape {list(m.shape)} cannot be broadcast to the "
            f"input of shape {list(input.shape)}"
        )
    return _write_inplace(input, (source,), lambda x: masked_scatter(x, m, source))


def _index_arrays(indices: Any, ndim: int, op: str) -> tuple:
    """index_put's tuple of index tensors as a NumPy index; a boolean one stands for the
    positions where it holds, as in x[mask]."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    arrays: list = []
    for i in indices:
        # a copy: the node keeps the index for backward, and an index tensor changed in place
        # after the forward would otherwise change the gradient silently (PyTorch raises;
        # indexing does the same, ops/api/indexing.py's _index_array)
        a = np.array(i._data if isinstance(i, Tensor) else i)
        if a.dtype == np.bool_:
            arrays += np.nonzero(a)
        elif a.dtype.kind in "iu":
            arrays.append(a)
        else:
            raise IndexError(f"{op}(): tensors used as indices must be long, int, byte or bool tensors")
    if len(arrays) > ndim:
        raise IndexError(f"{op}(): too many indices for tensor of dimension {ndim} (got {len(arrays)})")
    return tuple(arrays)


def _one_mask(indices: Any) -> bool:
    """Whether an index_put's indices hold one tensor (None aside), a bool mask."""
    given = indices if isinstance(indices, (tuple, list)) else (indices,)
    tensors = [i for i in given if i is not None]
    return len(tensors) == 1 and np.asarray(getattr(tensors[0], "_data", tensors[0])).dtype == np.bool_


def index_put(input: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    """input with input[indices] = values, or += values with accumulate=True (then repeated
    indices add up); indices is a tuple of integer or boolean tensors (torch.index_put)."""
    values = _tensor_of(values)
    if not accumulate and values._data.size == 1 and _one_mask(indices):
        # PyTorch makes one value under one bool mask a masked_fill: any shape, cast
        values = values.reshape(()) if values._data.ndim else values
        if values._data.dtype != input._data.dtype:
            values = values.to(input.dtype)
    elif values._data.dtype != input._data.dtype:
        raise RuntimeError(
            "index_put(): Index put requires the source and destination dtypes match, got "
            f"{dtypes.scalar_type_name(input._data.dtype)} for the destination and "
            f"{dtypes.scalar_type_name(values._data.dtype)} for the source (convert the "
            "values with .to(x.dtype))."
        )
    index = _index_arrays(indices, input.ndim, "index_put")
    try:
        target = input._data[index]
    except IndexError as e:
        raise IndexError(f"index_put(): {e} (tensor shape {list(input.shape)})") from None
    if not _broadcasts_to(values.shape, target.shape):
        raise RuntimeError(
            f"index_put(): shape mismatch: value tensor of shape {list(values.shape)} cannot be "
            f"broadcast to indexing result of shape {list(target.shape)}"
        )
    if accumulate:
        if values.shape != target.shape:
            values = shape_ops.Expand.apply(values, target.shape)
        return add(input, shape_ops.IndexAddInto.apply(values, input.shape, index))
    return shape_ops.SetItem.apply(input, index, values)


def index_put_(input: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    """In-place index_put (torch.Tensor.index_put_)."""
    return _write_inplace(input, (values,), lambda x: index_put(x, indices, values, accumulate))


# ---- bit shifts --------------------------------------------------------------------------------


def _shift(input: Any, other: Any, left: bool) -> Tensor:
    """x << n or x >> n for integers, with PyTorch's rule for n out of range (negative, or at
    least the number of bits): a left shift gives 0, a right shift the sign (0 or -1)."""
    name = "bitwise_left_shift" if left else "bitwise_right_shift"
    dtype = dtypes.to_numpy_dtype(result_type(input, other))  # a Python int takes input's dtype
    a, b = _tensor_of(input), _tensor_of(other)
    if dtype.kind not in "iu":
        kind = "Float" if dtype.kind in "fV" else "Bool"
        raise NotImplementedError(f"\"{'lshift' if left else 'rshift'}_cpu\" not implemented for '{kind}'")
    _check_broadcast(a, b, name)
    x, n = a._data.astype(dtype, copy=False), b._data.astype(dtype, copy=False)
    bits = x.dtype.itemsize * 8
    out_of_range = (n < 0) | (n >= bits)
    safe = np.where(out_of_range, 0, n).astype(x.dtype)
    if left:
        shifted = np.where(out_of_range, 0, np.left_shift(x, safe))
    else:
        sign = np.right_shift(x, bits - 1) if dtype.kind == "i" else 0
        shifted = np.where(out_of_range, sign, np.right_shift(x, safe))
    return Tensor(_meta.asarray(shifted.astype(dtype)))


def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    """input shifted left by other bits, for integer tensors (torch.bitwise_left_shift, `<<`)."""
    return _shift(input, other, True)


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    """input shifted right by other bits, with the sign kept (torch.bitwise_right_shift, `>>`)."""
    return _shift(input, other, False)


def bitwise_left_shift_(input: Tensor, other: Any) -> Tensor:
    """In place: `x <<= n`."""
    return _write_inplace(input, (), lambda x: bitwise_left_shift(x, other))


def bitwise_right_shift_(input: Tensor, other: Any) -> Tensor:
    """In place: `x >>= n`."""
    return _write_inplace(input, (), lambda x: bitwise_right_shift(x, other))


# ---- autograd state ----------------------------------------------------------------------------


def is_inference(input: Tensor) -> bool:
    """Whether input is an inference tensor (torch.is_inference): one made under
    inference_mode, a view of one, or its detach() (a version cell that is not a plain list:
    InferenceVersion or CountedInferenceVersion, autograd/function.py)."""
    return input._version_cell.__class__ is not list
