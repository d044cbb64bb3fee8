"""dtype conversion, copies and in-place operations."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import _layout, _meta, dtypes
from ember import random as _random
from ember._layout import SparseUnsupportedError, sparse_form
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.ops import elementwise as ew
from ember.ops.api import arith, linalg, products, reduce, shape, special
from ember.ops.api.arith import (
    _check_fits,
    _check_inplace_leaf,
    _check_sub,
    _record_inplace,
    _tensor_of,
    _wants_grad,
    _write_inplace,
    add,
    castable,
    clamp,
    div,
    floor,
    mul,
    scaled_by_alpha,
    sub,
    where,
)
from ember.ops.api.indexing import _check_fill_value, masked_fill

_grad_state = grad_mode._state

# ---- dtype conversion and copies --------------------------------------------------------


class ToCopy(ew.Op):
    """x.to(dtype) (ToCopyBackward0): the gradient is cast back to the input's dtype."""

    @staticmethod
    def forward(ctx, x, np_dtype):
        if x.dtype.kind == "c" and np_dtype.kind != "c":
            return dtypes.astype(_real_part(x), np_dtype)
        return dtypes.astype(x, np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None  # the engine casts to the input dtype (a real one takes the real part)


def _real_part(x: np.ndarray) -> np.ndarray:
    """A complex array cast to a real dtype: its real part, with PyTorch's warning."""
    import warnings

    warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=4)
    return x.real


class Clone(ew.Op):
    """A copy, in C order or in the memory format `order` (see ember._layout)."""

    @staticmethod
    def forward(ctx, x, order=None):
        return x.copy() if order is None else _layout.copy(x, order)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def to(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Convert the dtype (`x.to(ember.float64)`, `x.to(other)`) or move to the meta device
    (`x.to("meta")`); other devices than cpu and meta raise, and so does copying a meta
    tensor to the CPU, as in PyTorch (it has no values)."""
    target = kwargs.get("dtype")
    for a in args + tuple(v for k, v in kwargs.items() if k == "device"):
        if isinstance(a, Tensor):
            target = a.dtype
        elif isinstance(a, dtypes.dtype) or (isinstance(a, type) and a in (float, int, bool)):
            target = a
        elif isinstance(a, np.dtype):
            target = dtypes.from_numpy_dtype(a)
        elif a is not None:
            input = _to_device(input, a)
    np_dtype = None if target is None else dtypes.to_numpy_dtype(target)
    fmt = _layout.check_format(kwargs.get("memory_format", _layout.preserve_format), "to")
    if fmt is not _layout.preserve_format:
        # as in PyTorch, the tensor itself when nothing else changes and its strides already
        # follow the format (a transpose asked for contiguous_format is returned as it is)
        if (np_dtype is not None and np_dtype != input._data.dtype) or _layout.suggested(
            input._data
        ) is not fmt:
            input = contiguous(input, fmt)  # then the dtype below: astype keeps the layout
    if np_dtype is None:
        return input
    if np_dtype == input._data.dtype:
        return input
    if np_dtype.kind not in "fcV":
        data = input._data
        return Tensor((_real_part(data) if data.dtype.kind == "c" else data).astype(np_dtype))
    return ToCopy.apply(input, np_dtype)


def _to_device(input: Tensor, where: Any) -> Tensor:
    """input on the device `where` (the CPU or meta): a meta tensor of its shape and dtype,
    detached (a leaf that requires grad as input does), when it moves to meta."""
    from ember._tensor import known_device

    on_meta = known_device(where).type == "meta"
    if on_meta == input.is_meta:
        return input
    if not on_meta:
        raise NotImplementedError(_meta.NO_DATA)
    return Tensor(_meta.like(input._data), requires_grad=input.requires_grad)


def type_(input: Tensor, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
    """The type's name ('ember.FloatTensor'), or the tensor converted to a dtype, a legacy
    type (`ember.DoubleTensor`) or its name ('torch.DoubleTensor') (torch.Tensor.type)."""
    if dtype is None:
        return f"ember.{_TYPE_NAMES.get(input._data.dtype.name, 'Tensor')}"
    from ember._legacy import dtype_of

    return to(input, dtype_of(dtype) or dtype)


_TYPE_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "bool": "BoolTensor",
    "uint8": "ByteTensor",
    "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor",
}


def clone(input: Tensor, *, memory_format: Any = _layout.preserve_format) -> Tensor:
    try:
        order = _layout.target(input._data, _layout.check_format(memory_format, "clone"))
        return Clone.apply(input) if order is None else Clone.apply(input, order)
    except SparseUnsupportedError:
        return sparse_form("clone", (input,))


def contiguous(input: Tensor, memory_format: Any = _layout.contiguous_format) -> Tensor:
    """The tensor itself when it is laid out in `memory_format`, else a copy that is (a copy
    of a transpose must not alias the input, as in PyTorch)."""
    fmt = _layout.check_format(memory_format, "contiguous")
    data = input._data
    if data.__class__ is _meta.MetaArray:  # zero strides: PyTorch's are its probe's
        data = _meta.probe(data)
    return input if _layout.is_in(data, fmt) else clone(input, memory_format=fmt)


def is_contiguous(input: Tensor, memory_format: Any = _layout.contiguous_format) -> bool:
    data = input._data
    if data.__class__ is _meta.MetaArray:  # zero strides: PyTorch's are its probe's
        data = _meta.probe(data)
    return _layout.is_in(data, _layout.check_format(memory_format, "is_contiguous"))


def detach(input: Tensor) -> Tensor:
    return input.detach()


def numel(input: Tensor) -> int:
    return input.numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


# ---- in-place operations -----------------------------------------------------------------


def _inplace(ufunc: Any, out_of_place: Any, name: str, check: Any = None) -> Any:
    sign = {np.add: 1.0, np.subtract: -1.0}.get(ufunc)  # add_ and sub_ take an alpha

    def op(input: Tensor, other: Any, deprecated_other: Any = arith.ABSENT, *, alpha: Any = 1) -> Tensor:
        if deprecated_other is not arith.ABSENT:  # add_(alpha, other): deprecated, still accepted
            if sign is None:
                raise TypeError(f"{name}() takes 1 positional argument but 2 were given")
            alpha, other = arith.alpha_first(name, other, deprecated_other, keyword=alpha), deprecated_other
        if check is not None:
            check(input, other)
        if alpha != 1 or alpha.__class__ is bool:
            alpha = arith.number_argument(alpha, name)
            if sign is not None and arith.fusable(input, other, alpha):  # rounded once, as PyTorch
                _check_inplace_leaf(input)
                try:
                    arith.add_scaled(input._data, other._data, sign * float(alpha), out=input._data)
                except SparseUnsupportedError:  # dense.add_(sparse): ember/sparse/_functions.py
                    return sparse_form(name, (input, other), {"alpha": alpha}, key=name[:3] + "_into")
                input._version_cell[0] += 1
                return input
            other = scaled_by_alpha(input, other, alpha)
        _check_inplace_leaf(input)
        if _grad_state[0] and (input._requires_grad or _wants_grad(other)):
            return _record_inplace(input, lambda x: out_of_place(x, other))
        value = other._data if isinstance(other, Tensor) else other
        if isinstance(value, np.generic):
            value = value.item()
        value = dtypes.wrap_int(value, input._data.dtype)  # uint8 += -1 wraps, as in PyTorch
        try:
            ufunc(input._data, value, out=input._data, casting="same_kind")
        except SparseUnsupportedError:  # dense.add_(sparse) and sub_: ember/sparse/_functions.py
            if sign is None:  # mul_ and div_ have no sparse form here: the dense function's error
                raise
            return sparse_form(name, (input, other), key=name[:3] + "_into")
        except np._core._exceptions._UFuncOutputCastingError:  # type: ignore[attr-defined]
            wanted = out_of_place(input.detach(), other.detach() if isinstance(other, Tensor) else other)
            if not castable(wanted._data.dtype, input._data.dtype):
                raise RuntimeError(
                    f"{name}: result type {dtypes.scalar_type_name(wanted._data.dtype)} can't be cast to "
                    f"the desired output type {dtypes.scalar_type_name(input._data.dtype)}"
                ) from None
            input._data[...] = wanted._data  # uint8 += int16: PyTorch wraps, NumPy's same_kind refuses
        except ValueError:
            raise RuntimeError(
                f"{name}: output with shape {list(input._data.shape)} doesn't match the broadcast "
                f"shape of the inputs ({list(input._data.shape)} and {list(np.shape(value))})"
            ) from None
        input._version_cell[0] += 1
        return input

    op.__name__ = op.__qualname__ = name
    return op


add_ = _inplace(np.add, add, "add_")
sub_ = subtract_ = _inplace(np.subtract, sub, "sub_", check=_check_sub)
mul_ = multiply_ = _inplace(np.multiply, mul, "mul_")
_true_div_ = _inplace(np.true_divide, div, "div_")


def div_(input: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """In-place div (torch.Tensor.div_); with a rounding_mode, div's rounded quotient."""
    if rounding_mode is None:
        return _true_div_(input, other)
    return _rounded_div_(input, other, rounding_mode=rounding_mode)


divide_ = true_divide_ = div_


def _inplace_unary(compute: Any, out_of_place: Any, input: Tensor, constant: bool = False) -> Tensor:
    _check_inplace_leaf(input, constant)
    if _grad_state[0] and input._requires_grad:
        return _record_inplace(input, out_of_place)
    input._data[...] = compute(input._data)
    input._version_cell[0] += 1
    return input


def _replaced(x: Tensor, value: Any, node: type | None = None) -> Tensor:
    """`value` (a number or a tensor that broadcasts to x) in x's shape and dtype, recorded
    as replacing x: x's gradient is zero, value's the sum over its copies. The out-of-place
    form of fill_ and copy_; with where, because x * 0 + value gives nan where x is inf.
    `node` (ew.Copy, ew.Fill or ew.FillNumber, all where()s) gives the record PyTorch's name."""
    if isinstance(value, Tensor) and value._data.dtype != x._data.dtype:
        # node casts itself (value's edge stays value's, as PyTorch's), but not to float16
        # (through float32) or from complex to real (a warning): those as to() does
        if node is None or x._data.dtype == np.float16 or (value.is_complex() and not x.is_complex()):
            value = value.to(x.dtype)
    if node is None:
        return where(Tensor(np.zeros(x._data.shape, bool)), x, value)
    if not isinstance(value, Tensor):
        value = dtypes.to_element(value, x._data.dtype)
    return node.apply(np.broadcast_to(np.False_, x._data.shape), x, value)


def zero_(input: Tensor) -> Tensor:
    try:
        return fill_(input, 0)
    except SparseUnsupportedError:  # a sparse tensor (see ember/sparse/_functions.py)
        return sparse_form("zero_", (input,))


def fill_(input: Tensor, value: Any) -> Tensor:
    """Set every element to value (a number, or a 0-d tensor, whose gradient is the sum)."""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value._data.ndim} dimensions."
            )
        if _grad_state[0] and _wants_grad(value):
            _check_inplace_leaf(input)
            return _record_inplace(input, lambda x: _replaced(x, value, ew.Fill))
        value = dtypes.astype(value._data, input._data.dtype)  # a tensor is cast (wraps), not checked
        return _inplace_unary(lambda a: value, lambda x: _replaced(x, value, ew.Fill), input)
    if input._data.size != 1:  # PyTorch checks float16's and bfloat16's range except for one element
        dtypes.check_half_range(value, input._data.dtype)
    value = dtypes.to_element(value, input._data.dtype)
    return _inplace_unary(lambda a: value, lambda x: _replaced(x, value, ew.FillNumber), input, constant=True)


def clamp_(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    def compute(a: np.ndarray) -> np.ndarray:
        # clamp's own rules for the bounds (an int bound must fit an integer dtype), on the
        # array; a result input cannot hold (a float for an int tensor, an int for a bool
        # one) raises, as in PyTorch
        result = clamp(Tensor(a), min, max)
        _check_fits(input, result, "clamp_")
        return result._data

    return _inplace_unary(compute, lambda x: clamp(x, min, max), input)


clip_ = clamp_


def floor_(input: Tensor) -> Tensor:
    try:
        return _inplace_unary(np.floor, floor, input)
    except SparseUnsupportedError:  # a sparse tensor (see ember/sparse/_functions.py)
        return sparse_form("floor_", (input,))


def _unary_inplace(out_of_place: Any, name: str) -> Any:
    """x.exp_() and its kin: the out-of-place op, written back into x."""

    def compute(input: Tensor, a: np.ndarray) -> np.ndarray:
        result = out_of_place(Tensor(a))
        _check_fits(input, result, name)  # exp_ of an integer tensor is an error, not a truncation
        return result._data

    def op(input: Tensor) -> Tensor:
        try:
            return _inplace_unary(lambda a: compute(input, a), out_of_place, input)
        except SparseUnsupportedError:  # a sparse tensor (see ember/sparse/_functions.py)
            return sparse_form(name, (input,))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In-place {name[:-1]} (torch.Tensor.{name})."
    return op


_abs_ = _unary_inplace(arith.abs, "abs_")


def abs_(input: Tensor) -> Tensor:
    """In-place abs (torch.Tensor.abs_); refused for complex tensors, as in PyTorch: |z| is real."""
    dtypes.refuse_complex("In-place abs is not supported for complex tensors.", input)
    return _abs_(input)


absolute_ = abs_
neg_ = negative_ = _unary_inplace(arith.neg, "neg_")
exp_ = _unary_inplace(arith.exp, "exp_")
log_ = _unary_inplace(arith.log, "log_")
sqrt_ = _unary_inplace(arith.sqrt, "sqrt_")
sigmoid_ = _unary_inplace(arith.sigmoid, "sigmoid_")
tanh_ = _unary_inplace(arith.tanh, "tanh_")
relu_ = _unary_inplace(arith.relu, "relu_")
square_ = _unary_inplace(arith.square, "square_")
reciprocal_ = _unary_inplace(arith.reciprocal, "reciprocal_")
ceil_ = _unary_inplace(arith.ceil, "ceil_")
round_ = _unary_inplace(arith.round, "round_")


def _inplace_form(out_of_place: Any, name: str) -> Any:
    """`x.<name>(*args)`: `out_of_place(x, *args)` written back into x. Its tensor operands
    get their gradients; a result x cannot hold (another shape, a float result for an integer
    tensor) raises before anything is written."""

    def op(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        def compute(x: Tensor) -> Tensor:
            result = out_of_place(x, *args, **kwargs)
            _check_fits(input, result, name)
            if _grad_state[0] and x.requires_grad and not result.requires_grad:
                # x.eq_(y) on a tensor in the graph stays in it, with a zero gradient, as in
                # PyTorch; the comparison's own result would cut the graph there
                result = _replaced(x, result)
            return result

        try:
            return _write_inplace(input, args + tuple(kwargs.values()), compute)
        except SparseUnsupportedError:  # a sparse tensor (see ember/sparse/_functions.py)
            return sparse_form(name, (input, *args), kwargs)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In-place {name[:-1]} (torch.Tensor.{name})."
    return op


def _float_power(input: Tensor, exponent: Any) -> Tensor:
    """float_power_ writes a float64 result (complex128 if either operand is complex), so
    only a tensor of that dtype can take it."""
    complex_exponent = np.iscomplexobj(exponent._data if isinstance(exponent, Tensor) else exponent)
    need = np.complex128 if input._data.dtype.kind == "c" or complex_exponent else np.float64
    if input._data.dtype != need:
        raise RuntimeError(
            f"the base given to float_power_ has dtype {dtypes.scalar_type_name(input._data.dtype)} "
            f"but the operation's result requires dtype {dtypes.scalar_type_name(np.dtype(need))}"
        )
    return special.float_power(input, exponent)


# The in-place forms of the functions in the other api modules, one line each. (abs_, exp_
# and the others above came first and keep their own quicker paths; the shape-changing
# squeeze_, unsqueeze_, t_, transpose_, swapaxes_, swapdims_ are not in-place writes: they
# are in ops/api/more.py.)
cos_ = _inplace_form(arith.cos, "cos_")
sin_ = _inplace_form(arith.sin, "sin_")
tan_ = _inplace_form(arith.tan, "tan_")
acos_ = arccos_ = _inplace_form(special.acos, "acos_")
asin_ = arcsin_ = _inplace_form(special.asin, "asin_")
atan_ = arctan_ = _inplace_form(special.atan, "atan_")
cosh_ = _inplace_form(special.cosh, "cosh_")
sinh_ = _inplace_form(special.sinh, "sinh_")
acosh_ = arccosh_ = _inplace_form(special.acosh, "acosh_")
asinh_ = arcsinh_ = _inplace_form(special.asinh, "asinh_")
atanh_ = arctanh_ = _inplace_form(special.atanh, "atanh_")
exp2_ = _inplace_form(special.exp2, "exp2_")
expm1_ = _inplace_form(arith.expm1, "expm1_")
log1p_ = _inplace_form(arith.log1p, "log1p_")
log2_ = _inplace_form(arith.log2, "log2_")
log10_ = _inplace_form(arith.log10, "log10_")
rsqrt_ = _inplace_form(arith.rsqrt, "rsqrt_")
sign_ = _inplace_form(arith.sign, "sign_")
sgn_ = _inplace_form(special.sgn, "sgn_")
deg2rad_ = _inplace_form(special.deg2rad, "deg2rad_")
rad2deg_ = _inplace_form(special.rad2deg, "rad2deg_")
clamp_min_ = _inplace_form(arith.clamp_min, "clamp_min_")
clamp_max_ = _inplace_form(arith.clamp_max, "clamp_max_")
copysign_ = _inplace_form(special.copysign, "copysign_")
hypot_ = _inplace_form(special.hypot, "hypot_")
heaviside_ = _inplace_form(special.heaviside, "heaviside_")
float_power_ = _inplace_form(_float_power, "float_power_")
eq_ = _inplace_form(arith.eq, "eq_")
ne_ = not_equal_ = _inplace_form(arith.ne, "ne_")
lt_ = less_ = _inplace_form(arith.lt, "lt_")
le_ = less_equal_ = _inplace_form(arith.le, "le_")
gt_ = greater_ = _inplace_form(arith.gt, "gt_")
ge_ = greater_equal_ = _inplace_form(arith.ge, "ge_")
logical_not_ = _inplace_form(arith.logical_not, "logical_not_")
logical_and_ = _inplace_form(arith.logical_and, "logical_and_")
logical_or_ = _inplace_form(arith.logical_or, "logical_or_")
logical_xor_ = _inplace_form(arith.logical_xor, "logical_xor_")
cumsum_ = _inplace_form(reduce.cumsum, "cumsum_")
tril_ = _inplace_form(shape.tril, "tril_")
triu_ = _inplace_form(shape.triu, "triu_")
renorm_ = _inplace_form(linalg.renorm, "renorm_")
addmm_ = _inplace_form(products.addmm, "addmm_")
addmv_ = _inplace_form(products.addmv, "addmv_")
baddbmm_ = _inplace_form(products.baddbmm, "baddbmm_")
_rounded_div_ = _inplace_form(div, "div_")


def uniform_(input: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with samples from the uniform distribution on [a, b) (torch.Tensor.uniform_)."""
    _random._check_uniform(a, b)
    sample = _random.rng(generator).uniform(a, b, input._data.shape).astype(input._data.dtype)
    sample = _random.below(sample, a, b)
    return _inplace_unary(lambda _: sample, lambda x: _replaced(x, Tensor(sample)), input)


def normal_(input: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with samples from a normal distribution (torch.Tensor.normal_)."""
    _random._check_std(std)
    sample = _random.rng(generator).normal(mean, std, input._data.shape).astype(input._data.dtype)
    return _inplace_unary(lambda _: sample, lambda x: _replaced(x, Tensor(sample)), input)


def type_as(input: Tensor, other: Tensor) -> Tensor:
    return to(input, other.dtype)


def copy_(input: Tensor, src: Any) -> Tensor:
    """Copy src's values into input (broadcasting), keeping input's dtype."""
    src = _tensor_of(src)
    if src._data.__class__ is not input._data.__class__ and src.is_meta:  # its zeros would be copied
        raise NotImplementedError(_meta.NO_DATA)
    _check_inplace_leaf(input)
    if _grad_state[0] and (input._requires_grad or _wants_grad(src)):
        return _record_inplace(input, lambda x: _replaced(x, src, ew.Copy))
    values = src._data
    if values.dtype == np.float64 and input._data.dtype == np.float16:
        values = dtypes.astype(values, input._data.dtype)
    try:
        np.copyto(input._data, values, casting="unsafe")
    except ValueError:
        raise RuntimeError(
            f"copy_: the source shape {list(src.shape)} cannot be broadcast to {list(input.shape)}"
        ) from None
    input._version_cell[0] += 1
    return input


def masked_fill_(input: Tensor, mask: Any, value: Any) -> Tensor:
    number = not isinstance(value, Tensor)  # unrecorded, it writes only the masked elements
    if number:
        _check_fill_value(value, "masked_fill_")
    _check_inplace_leaf(input, constant=number and not (_grad_state[0] and input._requires_grad))
    if _grad_state[0] and (input._requires_grad or _wants_grad(value)):
        return _record_inplace(input, lambda x: masked_fill(x, mask, value))
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    value = value.item() if isinstance(value, Tensor) else value
    dtypes.check_half_range(value, input._data.dtype)
    value = dtypes.to_element(value, input._data.dtype)
    input._data[np.broadcast_to(m, input._data.shape)] = value
    input._version_cell[0] += 1
    return input
