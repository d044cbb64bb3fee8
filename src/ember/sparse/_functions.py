"""The sparse forms of ember's functions: what `ember.abs(s)`, `ember.add(d, s)`,
`ember.select(s, 0, 1)`, `ember.sum(s)`, ... compute when an argument is sparse.

A dense function runs its dense code without looking for sparse arguments: a sparse
tensor's stand-in for an array (`_SparseData`) makes that code raise
SparseUnsupportedError, and each function PyTorch also runs on sparse tensors catches it and
calls `call` (through `ember._layout.sparse_form`) with its name. `call` runs the sparse
implementation registered here under that name, the same code as the SparseTensor method
(`ember.abs(s)` is `s.abs()`), or raises an error naming the function when it has none. So
the dense path costs one NOP instruction (a CPython 3.11 `try` costs nothing more until
something is raised), and the list of sparse functions is this table.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from ember._layout import SparseUnsupportedError, strided
from ember._tensor import Tensor
from ember.dtypes import float64, promote_types, to_numpy_dtype
from ember.sparse import _ops
from ember.sparse._tensor import SparseTensor, sparse_coo


def _unary(name: str, coo_only: bool = False) -> Callable[..., Any]:
    method = getattr(SparseTensor, name)

    def function(input: Any) -> Any:
        if coo_only:
            _ops._coo_only(input, name)
        return method(input)

    return function


def _with_sparse_first(name: str, op: Callable[..., Any]) -> Callable[..., Any]:
    """op(input, ...) for a sparse input; a sparse argument elsewhere raises, naming `name`."""

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(input, SparseTensor):
            _unsupported(name, (input, *args))
        return op(input, *args, **kwargs)

    return function


def nan_to_num(
    input: SparseTensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> SparseTensor:
    if input.layout is not sparse_coo:
        raise NotImplementedError(
            f"nan_to_num: a {_ops._kind(input)} tensor has no nan_to_num, as in PyTorch (use .to_sparse_coo())"
        )
    return _ops._on_values(input, lambda v: v.nan_to_num(nan, posinf, neginf))


def nan_to_num_(
    input: SparseTensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> SparseTensor:
    """nan_to_num in place: the values replaced (COO only, as in PyTorch)."""
    return _ops._inplace(input, nan_to_num(input, nan, posinf, neginf))


def conj(input: SparseTensor) -> SparseTensor:
    """The complex conjugate, computed at once (PyTorch's sparse conj is not lazy either):
    each value conjugated, the pattern kept; real values are the tensor itself."""
    if not input.dtype.is_complex:
        return input
    return _ops._new(input.layout, input.shape, input._vals.conj(), input._idx, input._coalesced)


def conj_physical_(input: SparseTensor) -> SparseTensor:
    """conj in place, for the compressed layouts only: PyTorch's refuses a COO tensor."""
    if input.layout is sparse_coo:
        raise RuntimeError("conj_physical_: unsupported tensor layout: Sparse (a COO tensor; use conj())")
    return _ops._inplace(input, conj(input))


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """sparse + sparse is sparse; dense + sparse is dense; sparse + dense raises (PyTorch)."""
    if isinstance(input, SparseTensor):
        return _ops.add(input, other, alpha=alpha)
    return _ops._reflected(other if alpha == 1 else other * alpha, input, "add")


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    if isinstance(input, SparseTensor):
        return _ops.add(input, other, alpha=-alpha, name="SubBackward0")
    return _ops._reflected(other if alpha == 1 else other * alpha, input, "sub")


def _into(input: Any, other: Any, alpha: Any, op: str) -> Tensor:
    """`input.add_(other, alpha=alpha)` (op "add") or sub_ for a dense input and a sparse
    other, as PyTorch computes them outside the graph (the recorded form is add's, through
    `_record_inplace`): each specified value times alpha added to input's element at its
    index, a repeated index of an uncoalesced COO tensor once per repetition, in order. The
    sizes must be equal (no broadcasting, as in PyTorch); the sum's dtype must cast to
    input's; sub_ refuses the compressed layouts, as PyTorch's does."""
    if isinstance(input, SparseTensor):  # sparse.add_(...) reached through a dense function
        return (SparseTensor.add_ if op == "add" else SparseTensor.sub_)(input, other, alpha=alpha)
    if op == "sub" and other.layout is not sparse_coo:
        raise RuntimeError(
            f"unsupported tensor layout: {_ops._LAYOUT_NAMES[other.layout]} (dense.sub_(sparse) takes a COO "
            "tensor: convert with .to_sparse_coo())"
        )
    if tuple(input.shape) != tuple(other.shape):
        raise RuntimeError(
            f"add: expected 'self' and 'other' to have same size, but self has size {list(input.shape)} "
            f"while other has size {list(other.shape)} (FYI: dense-sparse addition does not currently "
            "support broadcasting)"
        )
    from ember.autograd import grad_mode
    from ember.ops.api import arith

    target = input._data.dtype
    result = to_numpy_dtype(promote_types(input.dtype, other.dtype))
    if not arith.castable(result, target):
        raise RuntimeError(
            f"Can't convert result type {_type_name(result)} to output {_type_name(target)} in add operation"
        )
    if grad_mode.is_grad_enabled() and other.requires_grad:  # recorded as dense + sparse is
        return arith._record_inplace(input, lambda x: getattr(arith, op)(x, other, alpha=alpha))
    coo = other if other.layout is sparse_coo else other.to_sparse_coo()
    values = coo._vals._data.astype(result, copy=False)
    if alpha != 1:
        values = values * np.asarray(alpha, result)  # alpha in the sum's dtype, as PyTorch
    if op == "sub":
        values = -values  # negated in the sum's dtype: uint8 wraps, as in PyTorch
    data, index = input._data, tuple(coo._idx)
    if not index:  # no sparse dim (a 0-d tensor): every value lands on the whole tensor
        data, index = data[np.newaxis], np.zeros(len(values), np.intp)
    np.add.at(data, index, values.astype(target, copy=False))
    input._version_cell[0] += 1
    return input


def _type_name(dtype: np.dtype) -> str:
    from ember.dtypes import scalar_type_name

    return scalar_type_name(dtype)


def mul(input: Any, other: Any) -> Tensor:
    """A product with a sparse factor is sparse, whichever side it is on."""
    sparse, factor = (input, other) if isinstance(input, SparseTensor) else (other, input)
    result = _ops.mul(sparse, factor)
    if result is NotImplemented:
        raise TypeError(
            f"mul(): a sparse tensor is multiplied by a tensor or a number, not {type(factor).__name__}"
        )
    return result


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """sparse / number (or 0-d tensor); zeros stay zeros, so only the values are divided."""
    if not isinstance(input, SparseTensor):
        _unsupported("div", (input, other))
    return _ops.div(input, other, rounding_mode=rounding_mode)


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001 (torch's name)
    if not isinstance(input, SparseTensor):
        return _ops._rpow(exponent, input)
    return _ops.pow(input, exponent)


def index_select(input: Any, dim: int, index: Any) -> Tensor:
    return _ops.index_select(input, dim, index)  # it checks the index first, as PyTorch


def sum(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    return _ops._sum_method(input, dim, keepdim, dtype)


def cat(tensors: Any, dim: int = 0) -> SparseTensor:
    """COO tensors joined along dim (torch.cat): along a sparse dimension each one's indices
    are shifted past the ones before; along a dense one each one's values are padded with
    zeros to the joined size. The result lists every element of every input: uncoalesced."""
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, SparseTensor):
            raise RuntimeError(f"Concatenating sparse tensors, but a dense tensor was found at position {i}.")
        if t.layout is not sparse_coo:
            raise RuntimeError(
                f"Sparse {_ops._kind(t)} tensors do not have strides (cat takes COO tensors: use .to_sparse_coo())"
            )
    first = tensors[0]
    sd, n = first.sparse_dim(), first._data.ndim
    d = _ops.normalize_dim(dim, n, "cat")
    for i, t in enumerate(tensors):
        if t.sparse_dim() != sd or t._data.ndim != n:
            raise RuntimeError(
                f"cat(): the tensors must have the same sparse and dense dimensions, got {sd} and "
                f"{t.sparse_dim()} sparse of {n} and {t._data.ndim} for tensor number {i}"
            )
        if builtins.any(a != b for j, (a, b) in enumerate(zip(t.shape, first.shape)) if j != d):
            raise RuntimeError(
                f"cat(): Sizes of tensors must match except in dimension {d}. Expected size "
                f"{list(first.shape)} but got size {list(t.shape)} for tensor number {i} in the list."
            )
    dtype = first.dtype
    for t in tensors[1:]:
        dtype = promote_types(dtype, t.dtype)
    parts = [t.to(dtype) for t in tensors]
    total = builtins.sum(t.shape[d] for t in parts)
    shape = tuple(total if j == d else size for j, size in enumerate(first.shape))
    indices, values, offset = [], [], 0
    for t in parts:
        idx, vals = t._idx, t._vals
        if d < sd:
            idx = idx.copy()
            idx[d] += offset
        else:  # a dense dimension: zeros before and after this tensor's slice of it
            before = offset
            after = total - offset - t.shape[d]
            widths = [0, 0] * (n - d - 1) + [before, after]
            vals = vals if before == after == 0 else _pad(vals, widths)
        indices.append(idx)
        values.append(vals)
        offset += t.shape[d]
    from ember.ops.api.shape import cat as dense_cat

    joined = _ops.named(dense_cat(values), "CatBackward0")
    return _ops._new(
        sparse_coo, shape, joined, np.concatenate(indices, axis=1), len(parts) == 1 and first._coalesced
    )


def _pad(values: Tensor, widths: list) -> Tensor:
    from ember.nn.functional import pad

    return pad(values, widths)


def stack(tensors: Any, dim: int = 0) -> SparseTensor:
    """COO tensors joined along a new dimension dim (torch.stack): cat of their unsqueezes."""
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, SparseTensor):
            raise RuntimeError(f"Concatenating sparse tensors, but a dense tensor was found at position {i}.")
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at entry 0 "
                f"and {list(t.shape)} at entry {i}"
            )
    d = _ops.normalize_dim(dim, tensors[0]._data.ndim + 1, "stack")
    return cat([_ops.unsqueeze(t.to_sparse_coo(), d) for t in tensors], d)


def zeros_like(
    input: SparseTensor,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    *,
    layout: Any = None,
    **_: Any,
) -> Tensor:
    """A tensor of input's size with no element specified (torch.zeros_like of a sparse
    tensor), of its layout unless `layout` says strided (dense zeros then)."""
    from ember import creation

    dtype = input.dtype if dtype is None else dtype
    if layout is strided:
        return creation.zeros(*input.shape, dtype=dtype, requires_grad=requires_grad)
    sd = input.sparse_dim()
    values = Tensor(np.zeros((0, *input.shape[sd:]), to_numpy_dtype(dtype)))
    out = _ops._new(
        input.layout if layout is None else layout, input.shape, values, np.zeros((sd, 0), np.int64), True
    )
    return out.requires_grad_() if requires_grad else out


def _pattern_like(
    input: SparseTensor, op: str, values: Any, dtype: Any, requires_grad: bool, layout: Any, fill: Any = 1
) -> Tensor:
    """A tensor of input's size and compressed layout, with its pattern and `values(shape,
    dtype)` there (ones_like, full_like, empty_like, randn_like of a CSR or CSC tensor, as in PyTorch);
    a COO tensor has no such form (PyTorch's fill_ and normal_ have no sparse kernel), except
    as dense: layout=ember.strided."""
    from ember import creation

    dtype = input.dtype if dtype is None else dtype
    if layout is strided and input.layout is sparse_coo:
        return creation.full(tuple(input.shape), fill, dtype=dtype, requires_grad=requires_grad)
    if layout is not None and layout is not input.layout:
        raise RuntimeError(
            "empty_like with different sparse layout is not supported "
            f"(self is {_ops._LAYOUT_NAMES[input.layout]} but you requested "
            f"{'Strided' if layout is strided else layout}) ({op} of a {input.layout} tensor)"
        )
    if input.layout is sparse_coo:
        kernel = "normal_" if op == "randn_like" else "fill_.Scalar"
        raise SparseUnsupportedError(
            f"Could not run 'aten::{kernel}' with arguments from the 'SparseCPU' backend: {op}() of a "
            "sparse COO tensor is not there, as in PyTorch (use zeros_like, or layout=ember.strided)"
        )
    out = _ops._new(
        input.layout, input.shape, Tensor(values(input._vals.shape, dtype)), input._idx, input._coalesced
    )
    return out.requires_grad_() if requires_grad else out


def ones_like(
    input: SparseTensor,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    *,
    layout: Any = None,
) -> Tensor:
    """Ones at the specified elements of a compressed (CSR or CSC) tensor (torch.ones_like)."""
    from ember import creation

    return _pattern_like(
        input,
        "ones_like",
        lambda shape, dtype: creation.ones(shape, dtype=dtype)._data,
        dtype,
        requires_grad,
        layout,
    )


def full_like(
    input: SparseTensor,
    fill_value: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    *,
    layout: Any = None,
) -> Tensor:
    """fill_value at the specified elements of a compressed (CSR or CSC) tensor (torch.full_like)."""
    from ember import creation

    def values(shape: tuple, dtype: Any) -> np.ndarray:
        return creation.full(shape, fill_value, dtype=dtype)._data

    return _pattern_like(input, "full_like", values, dtype, requires_grad, layout, fill_value)


def empty_like(
    input: SparseTensor,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    *,
    layout: Any = None,
) -> Tensor:
    """An empty COO tensor (no element specified), or a compressed one with input's pattern and
    values to be written (zeros in ember) (torch.empty_like)."""
    if input.layout is sparse_coo or layout is strided:
        return zeros_like(input, dtype, device, requires_grad, layout=layout)
    from ember import creation

    values = lambda shape, dtype: creation.zeros(shape, dtype=dtype)._data  # noqa: E731
    return _pattern_like(input, "empty_like", values, dtype, requires_grad, layout)


def randn_like(
    input: SparseTensor, dtype: Any = None, *, layout: Any = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal samples at the specified elements of a compressed tensor
    (torch.randn_like; PyTorch has none for COO tensors, nor a sparse rand_like)."""
    from ember import creation

    values = lambda shape, dtype: creation.randn(shape, dtype=dtype)._data  # noqa: E731
    return _pattern_like(input, "randn_like", values, dtype, requires_grad, layout)


def randint_like(input: SparseTensor, low: int, high: int) -> Tensor:
    backend = "SparseCPU" if input.layout is sparse_coo else "SparseCsrCPU"
    raise SparseUnsupportedError(
        f"Could not run 'aten::random_.from' with arguments from the '{backend}' backend: randint_like() "
        "of a sparse tensor is not there, as in PyTorch (convert with .to_dense() first)"
    )


def narrow_copy(input: SparseTensor, dim: int, start: int, length: int) -> SparseTensor:
    """The elements of positions start .. start + length - 1 along dim, renumbered from 0
    (torch.narrow_copy; COO only, as in PyTorch)."""
    if input.layout is not sparse_coo:
        raise RuntimeError(
            f"Sparse {_ops._kind(input)} tensors do not have strides (narrow_copy takes COO tensors)"
        )
    d = _ops.normalize_dim(dim, input._data.ndim, "narrow_copy")
    size = input.shape[d]
    if not (0 <= start and length >= 0 and start + length <= size):  # a negative start too, as in PyTorch
        raise RuntimeError(
            f"Invalid range to narrow. range(start, start+length) must be a subset of range(0, {size}). "
            f"(narrow_copy of a sparse tensor: got start={start}, length={length})"
        )
    shape = tuple(length if j == d else n for j, n in enumerate(input.shape))
    sd = input.sparse_dim()
    if d >= sd:
        values = input._vals.narrow(d - sd + 1, start, length).clone()
        return _ops._new(sparse_coo, shape, values, input._idx, input._coalesced)
    keep = np.flatnonzero((input._idx[d] >= start) & (input._idx[d] < start + length))
    idx = input._idx[:, keep]
    idx[d] -= start
    values = input._vals.index_select(0, Tensor(keep.astype(np.int64)))
    return _ops._new(sparse_coo, shape, values, idx, input._coalesced)


def norm(
    input: SparseTensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> Tensor:
    """The p-norm of all the elements (torch.norm of a sparse tensor): that of the coalesced
    values, since the unspecified zeros add nothing (and count as 0 for p = inf)."""
    if input.layout is not sparse_coo:
        raise NotImplementedError(
            f"norm: a {_ops._kind(input)} tensor has no norm, as in PyTorch (use .to_sparse_coo())"
        )
    n = input._data.ndim
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if sorted(_ops.normalize_dim(x, n, "norm") for x in dims) != list(range(n)) and dims:
            raise RuntimeError(
                "norm_sparse currently only supports full reductions, so 'dim' must either be empty or "
                f"contain all dimensions of the input (got dim={dim} for {n} dimensions)"
            )
    values = input.coalesce()._vals.reshape(-1)
    order = 2 if p in ("fro", None) else p
    out = values.norm(order, dtype=dtype)
    return out.reshape((1,) * n) if keepdim else out


def any(input: SparseTensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether an element is not zero (torch.any of a sparse tensor, over all elements only)."""
    if input.layout is not sparse_coo or dim is not None:
        raise NotImplementedError(
            "any: a sparse tensor takes any() over all its elements only (COO), as in PyTorch"
        )
    out = input.coalesce()._vals.any()
    return out.reshape((1,) * input._data.ndim) if keepdim else out


def is_nonzero(input: SparseTensor) -> bool:
    if input.numel() != 1:
        raise RuntimeError(
            f"Boolean value of Tensor with {'no values' if input.numel() == 0 else 'more than one value'} is ambiguous"
        )
    return bool(input.to_dense().reshape(()).item() != 0)


def adjoint(input: SparseTensor) -> SparseTensor:
    return _ops.transpose(input, -2, -1)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """F.linear with a sparse input (COO, CSR or CSC; 1-D or 2-D) or a compressed sparse weight:
    input @ weight^T (+ bias), dense, by the sparse-dense product, as in PyTorch, which also
    gives a compressed input and weight without a bias their sparse (CSR) product and refuses
    a COO input with a compressed weight. Recorded as PyTorch's addmm (AddmmBackward0,
    MmBackward0 without a bias); the gradient of a sparse operand is sparse, with its pattern."""
    if isinstance(bias, SparseTensor):
        raise RuntimeError("expand is unsupported for Sparse tensors (the bias of linear must be dense)")
    if isinstance(weight, SparseTensor):
        if weight.layout is sparse_coo:
            raise RuntimeError(
                "addmm_sparse_dense: expected either 'mat1' to have sparse layout and 'mat2' to have strided "
                "layout, got 'mat1' with layout Strided and 'mat2' with layout Sparse (linear takes a CSR or "
                "CSC weight, or a sparse input)"
            )
        if isinstance(input, SparseTensor):
            if input.layout is sparse_coo:
                raise RuntimeError(
                    f"addmm: computation on CPU is not implemented for Sparse @ Sparse{_ops._kind(weight).title()} (linear of a "
                    "COO input with a compressed weight: convert one of them)"
                )
            if bias is None:  # the product of two compressed tensors, CSR, as PyTorch's
                return input @ weight.t()
            input = input.to_dense()
        rows = input.reshape(-1, input.shape[-1]) if input._data.ndim != 2 else input
        out = _ops._spmm(weight, rows.t()).t()
        if input._data.ndim != 2:
            out = out.reshape(*input.shape[:-1], weight.shape[0])
        vector = False
    else:
        vector = input._data.ndim == 1
        out = _ops._spmm(_ops.unsqueeze(input, 0) if vector else input, weight.t())
        out = out.squeeze(0) if vector else out
    if bias is None:
        return _ops.named(out, "SqueezeBackward4" if vector else "MmBackward0")
    if bias.dtype != out.dtype:
        raise RuntimeError(
            f"expected scalar type {out.dtype} but found {bias.dtype} (the bias of linear with a sparse operand)"
        )
    return out + bias if vector else _ops.named(out + bias, "AddmmBackward0")


def _clone(input: SparseTensor, *, memory_format: Any = None) -> SparseTensor:
    return input.clone()


FUNCTIONS: dict[str, Callable[..., Any]] = {
    **{name: _unary(name) for name in _ops._UNARY if name not in ("square", "negative", "round")},
    "negative": _unary("neg"),
    "square": _unary("square", coo_only=True),
    "absolute": _unary("abs"),
    "round": _with_sparse_first("round", _ops._round),
    "nan_to_num": _with_sparse_first("nan_to_num", nan_to_num),
    "nan_to_num_": _with_sparse_first("nan_to_num_", nan_to_num_),
    "conj": _with_sparse_first("conj", conj),
    "conj_physical_": _with_sparse_first("conj_physical_", conj_physical_),
    "sgn": _unary("sgn"),
    "add": add,
    "sub": sub,
    "subtract": sub,
    "mul": mul,
    "multiply": mul,
    "div": div,
    "divide": div,
    "true_divide": div,
    "Add": add,
    "Sub": sub,
    "Mul": mul,
    "Div": div,
    "DivFloor": lambda a, b: div(a, b, rounding_mode="floor"),
    "DivTrunc": lambda a, b: div(a, b, rounding_mode="trunc"),
    "FloorDivide": lambda a, b: div(a, b, rounding_mode="floor"),
    "pow": pow,
    "float_power": lambda a, b: pow(a.to(float64), float(b)) if isinstance(a, SparseTensor) else pow(a, b),
    "select": _with_sparse_first("select", _ops.select),
    "index_select": index_select,
    "t": _with_sparse_first("t", _ops.t),
    "transpose": _with_sparse_first("transpose", _ops.transpose),
    "swapaxes": _with_sparse_first("swapaxes", _ops.transpose),
    "swapdims": _with_sparse_first("swapdims", _ops.transpose),
    "adjoint": _with_sparse_first("adjoint", adjoint),
    "unsqueeze": _with_sparse_first("unsqueeze", _ops.unsqueeze),
    "permute": _with_sparse_first("permute", lambda input, dims: _ops.permute(input, tuple(dims))),
    "sum": _with_sparse_first("sum", sum),
    "clone": _with_sparse_first("clone", _clone),
    "cat": cat,
    "concat": cat,
    "concatenate": cat,
    "stack": stack,
    "zeros_like": _with_sparse_first("zeros_like", zeros_like),
    "empty_like": _with_sparse_first("empty_like", empty_like),
    "ones_like": _with_sparse_first("ones_like", ones_like),
    "full_like": _with_sparse_first("full_like", full_like),
    "randn_like": _with_sparse_first("randn_like", randn_like),
    "randint_like": randint_like,
    "narrow_copy": _with_sparse_first("narrow_copy", narrow_copy),
    "norm": _with_sparse_first("norm", norm),
    "any": _with_sparse_first("any", any),
    "is_nonzero": _with_sparse_first("is_nonzero", is_nonzero),
    "linear": linear,
    "add_into": lambda input, other, alpha=1: _into(input, other, alpha, "add"),
    "sub_into": lambda input, other, alpha=1: _into(input, other, alpha, "sub"),
}


FUNCTIONS |= {name + "_": getattr(SparseTensor, name + "_") for name in _ops._INPLACE}
FUNCTIONS["zero_"] = SparseTensor.zero_


def call(op: str, args: tuple, kwargs: dict | None = None, key: str | None = None) -> Any:
    """The sparse form of function `op` (registered under `key`, op's name by default) applied
    to args; an error naming `op` where there is none."""
    function = FUNCTIONS.get(key or op)
    if function is None:
        _unsupported(op, args)
    return function(*args, **(kwargs or {}))


def _unsupported(op: str, args: tuple) -> None:
    layouts = sorted({str(a.layout) for a in args if isinstance(a, SparseTensor)}) or [str(sparse_coo)]
    raise SparseUnsupportedError(
        f"{op}() does not support sparse tensors here (got {', '.join(layouts)}), as in PyTorch: "
        "convert with .to_dense() first"
    )
