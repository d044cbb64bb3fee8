"""Small functions and methods PyTorch programs call: tests of a tensor (is_nonzero,
is_signed, typename), scalar_tensor, the in-place view changes (t_, transpose_, squeeze_,
unsqueeze_), compositions of existing ops (ravel, fliplr, vdot, addr, addbmm, diagflat,
sum_to_size, ...), whose gradients are those of the ops they are made of, integer and
floating-point functions (gcd, lcm, frexp, ldexp, nextafter) and the legacy `new`.
"""

from __future__ import annotations

import builtins
import numbers
from typing import Any

import numpy as np

from ember import _meta, creation, dtypes, return_types
from ember._layout import SparseUnsupportedError, sparse_form
from ember._tensor import Tensor
from ember.autograd import grad_mode, views
from ember.ops import special as sp
from ember.ops.api import arith, arrange, compat, convert, indexing, products, reduce, shape, special
from ember.ops.api.arith import _check_inplace_graph
from ember.ops.api.convert import type_

_grad_state = grad_mode._state

# ---- tests of a tensor ---------------------------------------------------------------------


def _tensor_argument(fn: str, name: str, position: int, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{fn}(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}"
        )


def is_nonzero(input: Tensor) -> bool:
    """Whether a one-element tensor is not zero (torch.is_nonzero)."""
    try:
        _tensor_argument("is_nonzero", "input", 1, input)
        if input._data.size == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if input._data.size > 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(input._data.reshape(()) != 0)
    except SparseUnsupportedError:
        return sparse_form("is_nonzero", (input,))


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether two tensors have the same shape (torch.is_same_size)."""
    _tensor_argument("is_same_size", "input", 1, input)
    _tensor_argument("is_same_size", "other", 2, other)
    return input._data.shape == other._data.shape


def is_signed(input: Tensor) -> bool:
    """Whether the dtype holds negative numbers: floats, complex numbers and signed integers
    (torch.is_signed)."""
    return input._data.dtype.kind in "fic"


def _assert(condition: Any, message: str) -> None:
    """Python's `assert condition, message` as a function (torch._assert): model code written
    for tracing (torchvision's ViT checks its input size with it) calls it; a one-element
    tensor is a condition through its truth value."""
    assert condition, message


def typename(obj: Any) -> str:
    """A tensor's type name ('ember.FloatTensor'), or any object's module and name
    (torch.typename)."""
    if isinstance(obj, Tensor):
        return type_(obj)
    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return name if module in ("", "builtins") else f"{module}.{name}"


def scalar_tensor(
    s: Any,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    pin_memory: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A 0-d tensor holding the number s, of the default dtype unless another is given, even
    for an int (torch.scalar_tensor)."""
    from ember._tensor import cpu_only

    if device is not None:
        cpu_only(device)
    if isinstance(s, Tensor) and s._data.size == 1:
        s = s._data.item()
    if not isinstance(s, numbers.Number):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not {type(s).__name__}")
    np_dtype = dtypes.to_numpy_dtype(dtype if dtype is not None else dtypes.get_default_dtype())
    value = dtypes.to_element(s, np_dtype)
    return Tensor(np.array(value).astype(np_dtype), requires_grad=requires_grad)


# ---- in-place view changes: t_, transpose_, swapdims_, swapaxes_, squeeze_, unsqueeze_, as_strided_


def _view_change(out_of_place: Any, name: str) -> Any:
    """`x.<name>(*args)`: x takes the shape and strides of `out_of_place(x, *args)`, a view of
    the same memory, and that view's place in the graph; its version counter moves on, so
    nodes that saved x raise, as in PyTorch. A base stays a base (its node becomes the view
    op of its old node); a view stays a view of its base, one view op further along."""

    def op(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        _check_inplace_graph(
            input,
            f"Use the out-of-place form, x = x.{name[:-1]}(...), or wrap it in `with ember.no_grad():`.",
            "Use the out-of-place form, or clone() the view.",
        )
        result = out_of_place(input, *args, **kwargs)  # checks the dims; a recorded view op
        input._data = result._data
        if input._base is None:
            if result._requires_grad:
                views.take_node(input, result)
        else:
            parent = input._view_fn
            if parent is not None and _grad_state[0]:
                input._view_fn = lambda t: out_of_place(parent(t), *args, **kwargs)
            else:
                input._view_fn = None
            views.take_node(input, result)
        input._version_cell[0] += 1
        input._view_at = input._version_cell[0]
        return input

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In-place {name[:-1]}: changes this tensor's shape (torch.Tensor.{name})."
    return op


def _t(input: Tensor) -> Tensor:
    if input._data.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return shape.t(input)


t_ = _view_change(_t, "t_")
transpose_ = _view_change(shape.transpose, "transpose_")
swapdims_ = _view_change(shape.swapdims, "swapdims_")
swapaxes_ = _view_change(shape.swapaxes, "swapaxes_")
squeeze_ = _view_change(shape.squeeze, "squeeze_")
unsqueeze_ = _view_change(shape.unsqueeze, "unsqueeze_")
as_strided_ = _view_change(shape.as_strided, "as_strided_")


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """nonzero() with exactly `size` rows: the first `size` indices, padded with rows of
    fill_value (torch.nonzero_static, for shapes known in advance)."""
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got {size}")
    found = indexing.nonzero(input)._data[:size]
    out = np.full((size, found.shape[1]), fill_value, np.int64)
    out[: len(found)] = found
    return Tensor(out)


def dim_order(input: Tensor, *, ambiguity_check: Any = False) -> tuple:
    """The dims from outermost to innermost in memory: (0, 1, ...) for a C-order tensor,
    (1, 0) for a transposed matrix (torch.Tensor.dim_order). Ties (dims of size 1) keep
    their order; ambiguity_check is accepted and not checked."""
    strides = input._data.strides
    return tuple(sorted(range(len(strides)), key=lambda d: -strides[d]))


def new_empty_strided(self: Tensor, size: Any, stride: Any, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    """empty_strided with this tensor's dtype unless another is given (torch.Tensor.new_empty_strided)."""
    return compat.empty_strided(size, stride, dtype=dtype or self.dtype, **kwargs)


def resize_(input: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """Give this tensor the shape `sizes` in place (torch.Tensor.resize_), its elements read
    in memory order: a smaller size keeps the first ones, a larger one adds zeros (PyTorch
    leaves them uninitialised). `t.resize_(0)` empties an `out=` tensor for reuse.
    `memory_format` is accepted and ignored (the result is in C order).

    A view becomes a tensor of its own, a copy of its base's memory from the view's first
    element on, resized, where PyTorch keeps it on its base's storage (docs/differences.md);
    of a base whose memory is not contiguous (from_numpy of a strided array), a copy of the
    view's own elements in C order."""
    size = creation._size(sizes)  # the factories' parsing: ints only, none negative
    if input._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    data = input._data
    if data.shape == size:
        return input
    # nodes that saved this tensor (or, for a view, its base: they share the counter, as in
    # PyTorch) now refuse to run
    input._version_cell[0] += 1
    base = None if input._base is None else input._base._data
    if base is None:
        flat = np.ravel(data, order="K")  # memory order: PyTorch reads the storage, not the strides
    elif base.flags.c_contiguous or base.flags.f_contiguous:
        # the base's memory from the view's first element on, as PyTorch reads the storage
        # from the view's offset (a strided view's gaps included)
        flat = np.ravel(base, order="K")[input.storage_offset() :].copy()
        input._base = None
        input._version_cell = input._version_cell.__class__(
            [input._version_cell[0]]
        )  # an inference one stays one
    else:
        flat = np.ravel(data).copy()
        input._base = None
        input._version_cell = input._version_cell.__class__(
            [input._version_cell[0]]
        )  # an inference one stays one
    n = builtins.int(np.prod(size))
    if n <= flat.size:
        input._data = flat[:n].reshape(size)
    else:
        grown = np.zeros(n, data.dtype)
        grown[: flat.size] = flat
        input._data = grown.reshape(size)
    return input


def resize_as_(input: Tensor, other: Tensor, *, memory_format: Any = None) -> Tensor:
    """resize_ to other's shape (torch.Tensor.resize_as_)."""
    return resize_(input, tuple(other.shape), memory_format=memory_format)


# ---- small functions composed of existing ops ------------------------------------------------


def ravel(input: Tensor) -> Tensor:
    """The elements in one dimension, a view when the memory allows (torch.ravel)."""
    return shape.reshape(input, -1)


def positive(input: Tensor) -> Tensor:
    """input itself, as `+input` (torch.positive); bool tensors have no `+`."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def fliplr(input: Tensor) -> Tensor:
    """The columns (dim 1) in reverse order (torch.fliplr)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return shape.flip(input, [1])


def flipud(input: Tensor) -> Tensor:
    """The rows (dim 0) in reverse order (torch.flipud)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return shape.flip(input, [0])


def msort(input: Tensor) -> Tensor:
    """Sorted along dim 0 (torch.msort)."""
    dtypes.refuse_complex("Sort does not support complex dtypes on CPU", input)
    return indexing.sort(input, dim=0).values


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-d tensors of one dtype, the first conjugated (torch.vdot)."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors"
        )
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{dtypes.scalar_type_name(input._data.dtype)} and {dtypes.scalar_type_name(other._data.dtype)}"
        )
    if input._data.dtype.kind == "c":
        from ember.ops.api.complex import conj

        input = conj(input)
    return products.dot(input, other)


def argwhere(input: Tensor) -> Tensor:
    """The indices of the non-zero elements, one row each (torch.argwhere)."""
    return indexing.nonzero(input)


def _check_integral_scalars(input: Tensor, alpha: Any, beta: Any) -> None:
    """An integer or bool input takes no float alpha or beta, as in PyTorch."""
    if input._data.dtype.kind in "iub":
        for name, value in (("alpha", alpha), ("beta", beta)):
            if isinstance(value, float):
                raise RuntimeError(
                    f"For integral input tensors, argument {name} must not be a floating point number."
                )


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2) (torch.addr); with beta = 0, input's NaNs are
    ignored. For bool tensors, `input or (vec1 and vec2)`."""
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v._data.ndim}-D")
    _check_integral_scalars(input, alpha, beta)
    product = products.outer(vec1, vec2)
    if product._data.dtype == np.bool_:  # PyTorch's bool addr: or, and
        keep = arith.logical_and(input, builtins.bool(beta)) if beta != 1 else input
        return arith.logical_or(keep, arith.logical_and(product, builtins.bool(alpha)))
    return products._scaled_sum(input, product, beta, alpha, "addr")


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * the sum over the batch of batch1[i] @ batch2[i] (torch.addbmm)."""
    for name, batch in (("batch1", batch1), ("batch2", batch2)):
        if batch._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor, got {batch._data.ndim}D")
    if batch1._data.shape[0] != batch2._data.shape[0]:
        raise RuntimeError(
            "batch1 and batch2 must have same number of batches, got "
            f"{batch1._data.shape[0]} and {batch2._data.shape[0]}"
        )
    _check_integral_scalars(input, alpha, beta)
    return products._scaled_sum(input, reduce.sum(products.bmm(batch1, batch2), 0), beta, alpha, "addbmm")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened input on diagonal `offset` of a square matrix (torch.diagflat)."""
    return arrange.diag(shape.reshape(input, -1), offset)


def _diagonal_filled(input: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """input with fill_value on its main diagonal (all dims of one length when more than two;
    with wrap, a tall matrix's diagonal starts again below, one row further down)."""
    s = input._data.shape
    if len(s) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(s) > 2 and len(set(s)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(s, np.bool_)
    np.fill_diagonal(mask, True, wrap=wrap)
    if isinstance(fill_value, float) and input._data.dtype.kind in "iu":
        fill_value = int(fill_value)  # stored as PyTorch stores it: truncated
    elif input._data.dtype == np.bool_ and not isinstance(fill_value, Tensor):
        fill_value = bool(fill_value)  # a bool tensor stores any nonzero number as True
    return arith.where(Tensor(mask), fill_value, input)


def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:
    """Pieces of the given sizes along dim (torch.split_with_sizes)."""
    return shape.split(input, list(split_sizes), dim)


def sum_to_size(input: Tensor, *size: Any) -> Tensor:
    """Summed over the dims where `size` is 1 (or absent in front) so that the result has
    that size, which must expand to input's (torch.Tensor.sum_to_size)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    s = input._data.shape
    lead = len(s) - len(size)
    if lead < 0 or any(n != 1 and n != s[lead + i] for i, n in enumerate(size)):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(s)}}}.")
    dims = list(range(lead)) + [lead + i for i, n in enumerate(size) if n == 1 and s[lead + i] != 1]
    if not dims:
        return input
    out = reduce.sum(input, dims, keepdim=True)
    return shape.reshape(out, tuple(size)) if lead else out


def where_method(input: Tensor, condition: Any, other: Any) -> Tensor:
    """`x.where(condition, y)`: x where condition holds, else y (torch.Tensor.where)."""
    return arith.where(condition, input, other)


# ---- integer and floating-point functions ----------------------------------------------------


def _integer_pair(name: str, input: Any, other: Any) -> tuple:
    """Two integer tensors (not bool) and their common dtype, or PyTorch's error."""
    _tensor_argument(name, "input", 1, input)
    _tensor_argument(name, "other", 2, other)
    common = dtypes.promote_numpy(input._data.dtype, other._data.dtype)
    if common.kind not in "iu":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{dtypes.scalar_type_name(common)}'")
    return input._data.astype(common), other._data.astype(common)


def gcd(input: Tensor, other: Tensor) -> Tensor:
    """Greatest common divisor, elementwise, of integer tensors (torch.gcd); gcd(0, 0) = 0."""
    a, b = _integer_pair("gcd", input, other)
    return Tensor(_meta.asarray(np.gcd(a, b)))


def lcm(input: Tensor, other: Tensor) -> Tensor:
    """Least common multiple, elementwise, of integer tensors (torch.lcm), never negative."""
    a, b = _integer_pair("lcm", input, other)
    return Tensor(_meta.asarray(np.lcm(a, b)))


def frexp(input: Tensor) -> Any:
    """Mantissa in [0.5, 1) (in absolute value) and int32 exponent with input = mantissa *
    2 ** exponent (torch.frexp). The mantissa's gradient is the gradient / 2 ** exponent."""
    if input._data.dtype.kind not in "fV":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    _, exponent = np.frexp(input._data)
    scale = np.ldexp(np.ones((), input._data.dtype), -exponent)  # exact: a power of two
    mantissa = arith.mul(input, Tensor(_meta.asarray(scale, input._data.dtype)))
    return return_types.return_type("frexp")(mantissa, Tensor(_meta.asarray(exponent, np.int32)))


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """input * 2 ** other, in a floating dtype (torch.ldexp)."""
    np_dtype = arith._result_dtype(input, other)  # a 0-d float64 exponent keeps float32
    if np_dtype.kind not in "fcV":
        np_dtype = dtypes.get_default_dtype().numpy
    target = dtypes.from_numpy_dtype(np_dtype)
    return arith.mul(input.to(target), special.exp2(other.to(target)))


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next floating-point number after input towards other (torch.nextafter); the
    gradient reaches input unchanged, other's is zeros, as in PyTorch."""
    _tensor_argument("nextafter", "input", 1, input)
    _tensor_argument("nextafter", "other", 2, other)
    common = dtypes.promote_numpy(input._data.dtype, other._data.dtype)
    if common.kind not in "fV":
        raise NotImplementedError(
            f"\"nextafter_cpu\" not implemented for '{dtypes.scalar_type_name(common)}'"
        )
    target = dtypes.from_numpy_dtype(common)
    return arith._apply_binary(sp.Nextafter, input.to(target), other.to(target), "nextafter")


bitwise_not_ = convert._inplace_form(arith.bitwise_not, "bitwise_not_")
gcd_ = convert._inplace_form(gcd, "gcd_")
lcm_ = convert._inplace_form(lcm, "lcm_")
ldexp_ = convert._inplace_form(ldexp, "ldexp_")
nextafter_ = convert._inplace_form(nextafter, "nextafter_")
addr_ = convert._inplace_form(addr, "addr_")
addbmm_ = convert._inplace_form(addbmm, "addbmm_")
fill_diagonal_ = convert._inplace_form(_diagonal_filled, "fill_diagonal_")


# ---- attributes and the legacy constructor -------------------------------------------------


def _output_nr(self: Tensor) -> int:
    """Which output of its node this tensor is (torch.Tensor.output_nr); 0 for a leaf."""
    return self._out_nr if self.grad_fn is not None else 0


def _itemsize(self: Tensor) -> int:
    return self._data.itemsize


def _nbytes(self: Tensor) -> int:
    """The bytes of this tensor's elements (a view counts its own elements only)."""
    return self._data.size * self._data.itemsize


def new(self: Tensor, *args: Any, device: Any = None) -> Tensor:
    """The legacy constructor (torch.Tensor.new): with sizes, an uninitialised tensor of that
    shape; with data, a tensor of it; with nothing, an empty tensor; always this tensor's dtype."""
    from ember import creation
    from ember._tensor import Size, cpu_only

    if device is not None:
        cpu_only(device)
    np_dtype = self._data.dtype
    if not args:
        return Tensor(np.empty((0,), np_dtype))
    if len(args) == 1 and isinstance(args[0], Tensor):
        if args[0]._data.dtype != np_dtype:
            raise TypeError(
                f"new(): expected a tensor of dtype {self.dtype}, but got one of dtype {args[0].dtype}"
            )
        return args[0].detach()
    if len(args) == 1 and isinstance(args[0], Size):
        args = tuple(args[0])
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, builtins.bool) for a in args):
        return Tensor(np.empty(tuple(int(a) for a in args), np_dtype))
    if len(args) == 1:
        if isinstance(args[0], (int, float, np.number)):
            raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
        return creation.tensor(np.asarray(args[0]).astype(np_dtype), dtype=self.dtype)
    raise TypeError(f"new(): expected sizes (ints) or one sequence of data, but got {args}")
