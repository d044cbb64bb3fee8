"""Shape functions: reshape, permute, expand, cat/stack, split, tril/triu, flip, roll, pad."""

from __future__ import annotations

import builtins
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from ember import _meta, dtypes
from ember._layout import SparseUnsupportedError, sparse_form
from ember._tensor import Size, Tensor
from ember.autograd.function import apply_one
from ember.autograd.views import as_view
from ember.ops import shape as shape_ops
from ember.ops.api.arith import _tensor_of
from ember.ops.api.indexing import gather, index_select, masked_fill, scatter, scatter_add  # noqa: F401
from ember.ops.reduction import normalize_dim, normalize_dims

# ---- shape -----------------------------------------------------------------------------------


def _shape_arg(shape: Sequence[Any]) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def reshape(input: Tensor, *shape: Any) -> Tensor:
    new = _shape_arg(shape)
    if new and min(new) < 0:
        _check_inferred(new)
    try:
        return shape_ops.View.apply(input, new)
    except ValueError:
        raise RuntimeError(
            f"shape '{list(new)}' is invalid for input of size {input._data.size} "
            f"(input shape {list(input._data.shape)})"
        ) from None


def view(input: Tensor, *shape: Any) -> Tensor:
    """reshape that must not copy: the result shares input's memory (torch.Tensor.view).
    Given a dtype instead, the same bytes read as that dtype (`_view_as_dtype`)."""
    if len(shape) == 1 and isinstance(shape[0], (dtypes.dtype, np.dtype)):
        return _view_as_dtype(input, dtypes.to_numpy_dtype(shape[0]))
    out = reshape(input, *shape)
    if out._base is None and out is not input and input._data.size > 1:  # (a meta copy is none either)
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (input shape "
            f"{list(input._data.shape)}, not in row-major order, e.g. after t() or permute()). "
            "Use .reshape(...) instead."
        )
    return out


def _view_as_dtype(input: Tensor, dtype: np.dtype) -> Tensor:
    """input's memory read as another dtype (torch.Tensor.view(dtype)): the last dimension
    scales by the ratio of the element sizes. As in PyTorch, the result shares the input's
    version counter and is not differentiable."""
    data = input._data
    meta = data.__class__ is _meta.MetaArray  # (its strides are zero: PyTorch's are kept aside)
    src, dst = dtypes.scalar_type_name(data.dtype), dtypes.scalar_type_name(dtype)
    if dtype.itemsize != data.itemsize:
        why = f"to view {src} as {dst} (different element sizes)"
        if data.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {why}")
        ratio = max(dtype.itemsize, data.itemsize) // min(dtype.itemsize, data.itemsize)
        if dtype.itemsize > data.itemsize and data.shape[-1] % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {why}, but got {data.shape[-1]}")
        last = data.logical_strides()[-1] if meta else data.strides[-1] // data.itemsize
        if data.shape[-1] != 1 and last != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {why}, but got {last}")
        if meta:  # the view NumPy refuses on zero strides: its shape, and PyTorch's strides
            return _meta_view_as_dtype(input, dtype)
    out = Tensor(data.view(dtype))
    out._version_cell = input._version_cell
    return out


def _meta_view_as_dtype(input: Tensor, dtype: np.dtype) -> Tensor:
    """view(dtype) of a meta tensor to another element size: the last dim, of stride 1,
    scales by the ratio of the sizes, the other strides inversely."""
    data = input._data
    steps = data.logical_strides()
    last = data.shape[-1] * data.itemsize // dtype.itemsize
    view = _meta.empty(data.shape[:-1] + (last,), dtype)
    view._steps = tuple(s * data.itemsize // dtype.itemsize for s in steps[:-1]) + (1,)
    out = Tensor(view)
    out._version_cell = input._version_cell
    return out


def as_strided(input: Tensor, size: Any, stride: Any, storage_offset: int | None = None) -> Tensor:
    """The view whose element i is at storage_offset + sum_k i_k * stride_k of input's
    storage (torch.as_strided): the memory of input's base (or of input, if it is no view),
    in elements. Default offset: input's own. Windows may overlap, e.g. for an im2col; the
    storage must be in C order (call .contiguous() on the base first)."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if builtins.any(s < 0 for s in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}"
        )
    owner = input if input._base is None else input._base
    storage = owner._data
    if not storage.flags.c_contiguous and storage.__class__ is np.ndarray:  # (meta: no memory)
        raise NotImplementedError(
            f"as_strided: ember reads a tensor's storage as its base's memory in C order, and this "
            f"one's (shape {list(storage.shape)}) is in another order; call .contiguous() on it first"
        )
    offset = input.storage_offset() if storage_offset is None else int(storage_offset)
    itemsize = storage.itemsize
    needed = offset + builtins.sum((n - 1) * s for n, s in zip(size, stride)) + 1 if builtins.all(size) else 0
    if offset < 0 or needed > storage.size:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and itemsize "
            f"{itemsize} requiring a storage size of {needed * itemsize} are out of bounds for storage of "
            f"size {storage.size * itemsize}"
        )
    return shape_ops.AsStrided.apply(owner, (size, stride, offset))


def _check_inferred(shape: tuple) -> None:
    """-1 may stand for one size; NumPy would also accept other negative numbers."""
    for i, n in enumerate(shape):
        if n < -1:
            raise RuntimeError(f"invalid shape dimension {n} at index {i} of shape {list(shape)}")
    if shape.count(-1) > 1:
        raise RuntimeError(f"only one dimension can be inferred (shape {list(shape)})")


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other._data.shape)


reshape_as = view_as


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    s = input._data.shape
    if not s:  # a 0-d tensor flattens to one element, its dims checked as if it had one
        normalize_dims(start_dim, 1, "flatten"), normalize_dims(end_dim, 1, "flatten")
        return reshape(input, (1,))
    start, end = (
        normalize_dims(start_dim, len(s), "flatten")[0],
        normalize_dims(end_dim, len(s), "flatten")[0],
    )
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:  # nothing to merge: the tensor itself, as in PyTorch
        return input
    return reshape(input, s[:start] + (int(np.prod(s[start : end + 1])),) + s[end + 1 :])


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    s = input._data.shape
    d = normalize_dim(dim, len(s), "unflatten", scalar_ok=False)
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError(f"unflatten: sizes must be non-empty (dim {dim} of shape {list(s)})")
    if -1 in sizes:
        known = int(np.prod([n for n in sizes if n != -1]))
        sizes = tuple(s[d] // known if n == -1 else n for n in sizes)
    if int(np.prod(sizes)) != s[d]:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({s[d]}) in the input tensor"
        )
    return reshape(input, s[:d] + sizes + s[d + 1 :])


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    s = input._data.shape
    if dim is None:
        new = tuple(n for n in s if n != 1)
    else:
        dims = normalize_dims(dim, len(s), "squeeze")
        new = tuple(n for i, n in enumerate(s) if not (i in dims and n == 1))
        n = max(1, len(s))  # the node shows the dims as the call named them, non-negative
        dim = int(dim) % n if isinstance(dim, (int, np.integer)) else tuple(int(d) % n for d in dim)
    return shape_ops.Squeeze.apply(input, new, dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    s = input._data.shape
    (d,) = normalize_dims(dim, len(s) + 1, "unsqueeze")
    try:
        return shape_ops.Unsqueeze.apply(input, s[:d] + (1,) + s[d:], d)
    except SparseUnsupportedError:
        return sparse_form("unsqueeze", (input, dim))


def permute(input: Tensor, *dims: Any) -> Tensor:
    dims = _shape_arg(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
            f"to len(dims) = {len(dims)}"
        )
    axes = tuple(normalize_dims(d, n, "permute")[0] for d in dims)
    if len(set(axes)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    try:
        return shape_ops.Permute.apply(input, axes)
    except SparseUnsupportedError:
        return sparse_form("permute", (input, dims))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    n = input._data.ndim
    if n < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return shape_ops.Transpose.apply(input, tuple(range(n)), (dim0, dim1))
    (a,), (b,) = normalize_dims(dim0, n, "transpose"), normalize_dims(dim1, n, "transpose")
    axes = list(range(n))
    axes[a], axes[b] = axes[b], axes[a]
    try:
        return shape_ops.Transpose.apply(input, tuple(axes), (dim0, dim1))
    except SparseUnsupportedError:
        return sparse_form("transpose", (input, dim0, dim1))


swapaxes = swapdims = transpose


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """The dims `source` (an int or a sequence) moved to the places `destination` names, the
    others keeping their order (torch.movedim)."""
    n = input._data.ndim
    src, dst = _movedim_dims(source, n), _movedim_dims(destination, n)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain "
            f"the same number of dims as destination ({list(dst)} dims)"
        )
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):  # by destination, so each lands where it is named
        order.insert(d, s)
    try:
        return shape_ops.Permute.apply(input, tuple(order) if n else ())
    except SparseUnsupportedError:  # a sparse tensor: its permute (see ember/sparse/_functions.py)
        return sparse_form("movedim", (input, tuple(order)), key="permute")


def _movedim_dims(dims: Any, n: int) -> tuple:
    """movedim's dims in their order (normalize_dims sorts them), each made non-negative."""
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    return tuple((normalize_dims(d, n, "movedim") or (0,))[0] for d in dims)


moveaxis = movedim


def t(input: Tensor) -> Tensor:
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    try:
        return shape_ops.Transpose.apply(input, tuple(range(input._data.ndim))[::-1])
    except SparseUnsupportedError:
        return sparse_form("t", (input,))


def expand(input: Tensor, *sizes: Any) -> Tensor:
    sizes = _shape_arg(sizes)
    s = input._data.shape
    if len(sizes) < len(s):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(s)})"
        )
    lead = len(sizes) - len(s)
    for i, n in enumerate(sizes):
        if n < 0 and (i < lead or n != -1):
            where = f"in a leading, non-existing dimension {i}" if i < lead else f"at dimension {i}"
            raise RuntimeError(
                f"The expanded size of the tensor ({n}) isn't allowed {where} (sizes {list(sizes)})"
            )
    target = tuple((s[i - lead] if n == -1 else n) if i >= lead else n for i, n in enumerate(sizes))
    for i, n in enumerate(s):
        if n != 1 and n != target[i + lead]:
            raise RuntimeError(
                f"The expanded size of the tensor ({target[i + lead]}) must match the existing "
                f"size ({n}) at non-singleton dimension {i + lead}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(s)}"
            )
    return shape_ops.Expand.apply(input, target)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


def broadcast_to(input: Tensor, size: Sequence[int] | int) -> Tensor:
    """expand to `size` (torch.broadcast_to); one int is a 1-d size, as in PyTorch."""
    return expand(input, (size,) if isinstance(size, (int, np.integer)) else tuple(size))


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    sizes = _shape_arg(sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    if any(n < 0 for n in sizes):
        shape = [n * m for n, m in zip(sizes, (1,) * (len(sizes) - input._data.ndim) + input._data.shape)]
        bad = next(n for n in shape if n < 0)
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {bad}: {shape} (repeat {list(sizes)})"
        )
    return apply_one(shape_ops.Repeat, input, sizes)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = [_tensor_of(x) for x in tensors]
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    ref = tensors[0]._data
    for i, x in enumerate(tensors):
        if x._data.ndim == 0:
            raise RuntimeError(f"cat(): zero-dimensional tensor (at position {i}) cannot be concatenated")
    d = normalize_dim(dim, ref.ndim, "cat")
    for i, x in enumerate(tensors):
        s = x._data.shape
        if len(s) != ref.ndim:
            raise RuntimeError(
                f"cat(): Tensors must have same number of dimensions: got {ref.ndim} and {len(s)} "
                f"(shapes {list(ref.shape)} and {list(s)})"
            )
        if any(a != b for j, (a, b) in enumerate(zip(s, ref.shape)) if j != d):
            raise RuntimeError(
                f"cat(): Sizes of tensors must match except in dimension {d}. "
                f"Expected size {list(ref.shape)} but got size {list(s)} for tensor number {i} in the list."
            )
    try:
        return shape_ops.Cat.apply(d, *_common_dtype(tensors))
    except SparseUnsupportedError:  # sparse tensors (see ember/sparse/_functions.py)
        return sparse_form("cat", (tensors, dim))


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = [_tensor_of(x) for x in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, x in enumerate(tensors):
        if x._data.shape != tensors[0]._data.shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} "
                f"at entry 0 and {list(x.shape)} at entry {i}"
            )
    (d,) = normalize_dims(dim, tensors[0]._data.ndim + 1, "stack")
    try:
        return shape_ops.Stack.apply(d, *_common_dtype(tensors))
    except SparseUnsupportedError:  # sparse tensors (see ember/sparse/_functions.py)
        return sparse_form("stack", (tensors, dim))


def _common_dtype(tensors: list) -> list:
    """Convert tensors to their promoted dtype, as cat and stack do (int64 with float32 gives float32)."""
    rt = tensors[0]._data.dtype
    for x in tensors[1:]:
        rt = dtypes.promote_numpy(rt, x._data.dtype)
    return [x if x._data.dtype == rt else x.to(rt) for x in tensors]


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    return cat([x.reshape(1, -1) if x.ndim == 1 else x for x in tensors], 0)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    d = normalize_dim(dim, input._data.ndim, "narrow", scalar_ok=False)
    n = input._data.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    start = start + n if start < 0 else start
    if start + length > n:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return shape_ops.Slice.apply(input, (slice(None),) * d + (slice(start, start + length),))


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    d = normalize_dim(dim, tensor._data.ndim, "split", scalar_ok=False)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0 and n:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}"
            )
        if step == 0:
            return (narrow(tensor, d, 0, 0),)
        sizes = [builtins.min(step, n - i) for i in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.min(sizes, default=0) < 0:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes={sizes}"
            )
        if builtins.sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
    lead = (slice(None),) * d
    starts = np.cumsum([0, *sizes]).tolist()
    indices = tuple(lead + (slice(a, b),) for a, b in zip(starts, starts[1:]))
    if isinstance(split_size_or_sections, int):
        kind = ("SplitBackward0", split_size_or_sections)
    else:
        kind = "SplitWithSizesBackward0"
    return _pieces(tensor, indices, kind, shape_ops.Slice)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    chunks = operator.index(chunks)  # a NumPy integer too, as PyTorch takes it
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = normalize_dim(dim, input._data.ndim, "chunk", scalar_ok=False)
    n = input._data.shape[d]
    if n == 0:  # PyTorch gives `chunks` empty pieces, not one
        return split(input, [0] * chunks, d)
    return split(input, -(-n // chunks), d)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    d = normalize_dim(dim, input._data.ndim, "unbind", scalar_ok=False)
    lead = (slice(None),) * d
    indices = tuple(lead + (i,) for i in range(input._data.shape[d]))
    return _pieces(input, indices, "UnbindBackward0", shape_ops.Select)


def _pieces(input: Tensor, indices: tuple, kind: Any, piece: type) -> tuple:
    """input[index] for each index, as the outputs of one Split node (see ops/shape.py), each
    a view of input; `piece` (Slice or Select) remakes one from its base after an in-place
    change of the base (autograd/views.py)."""
    if not indices:
        return ()
    out = apply_one(shape_ops.Split, input, indices, kind)
    return tuple(
        as_view(t, input, lambda base, index=index: piece.apply(base, index))
        for t, index in zip(out, indices)
    )


def select(input: Tensor, dim: int, index: int) -> Tensor:
    d = normalize_dim(dim, input._data.ndim, "select", scalar_ok=False)
    try:
        return shape_ops.Select.apply(input, (slice(None),) * d + (index,))
    except SparseUnsupportedError:
        return sparse_form("select", (input, dim, index))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    _check_matrix(input, "tril")
    return apply_one(shape_ops.Tril, input, diagonal, False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    _check_matrix(input, "triu")
    return apply_one(shape_ops.Triu, input, diagonal, True)


def _check_matrix(input: Tensor, op: str) -> None:
    # NumPy's tril would turn a vector into a matrix; PyTorch refuses
    if input._data.ndim < 2:
        raise RuntimeError(
            f"{op}: input tensor must have at least 2 dimensions (got shape {list(input._data.shape)})"
        )


def flip(input: Tensor, dims: Any) -> Tensor:
    return apply_one(shape_ops.Flip, input, normalize_dims(dims, input._data.ndim, "flip"))


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    if dims is None:
        if isinstance(shifts, (list, tuple)):
            if len(shifts) != 1:  # NumPy would roll the flattened tensor by their sum
                raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: 0")
            shifts = shifts[0]
        return roll(input.flatten(), shifts, 0).view(input.shape)
    n = input._data.ndim
    if isinstance(dims, (list, tuple)):
        shifts = tuple(shifts) if isinstance(shifts, (list, tuple)) else (shifts,)
        if len(shifts) != len(dims):
            raise RuntimeError(
                f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}"
            )
        dims = tuple(normalize_dim(d, n, "roll", scalar_ok=False) for d in dims)
    else:
        dims = normalize_dim(dims, n, "roll", scalar_ok=False)
    return apply_one(shape_ops.Roll, input, shifts, dims)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding; `pad` lists (left, right) pairs from the last dimension backwards."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported (only 'constant')")
    if len(pad) % 2 or len(pad) // 2 > input._data.ndim:
        raise RuntimeError(
            f"Padding length must be divisible by 2 and at most twice the number of dimensions "
            f"of the input; got {len(pad)} for a {input._data.ndim}-d input"
        )
    widths = [(0, 0)] * input._data.ndim
    for i in range(len(pad) // 2):
        widths[-1 - i] = (pad[2 * i], pad[2 * i + 1])
    if builtins.any(w < 0 for pair in widths for w in pair):
        raise NotImplementedError("pad: negative padding (cropping) is not supported")
    return shape_ops.Pad.apply(input, tuple(widths), value)
