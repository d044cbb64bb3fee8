"""Arithmetic, math functions and comparisons, with PyTorch's dtype promotion."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ember import _meta, dtypes
from ember._layout import SparseUnsupportedError, sparse_form
from ember._tensor import Tensor, _to_array
from ember.autograd import grad_mode, views
from ember.autograd.function import _FLOAT32, apply, apply_one
from ember.ops import elementwise as ew
from ember.ops import fastpath

_grad_state = grad_mode._state


def _tensor_of(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(_to_array(x, None))


# ---- dtype promotion, as PyTorch does it ---------------------------------------------------


def _result_dtype(a: Tensor, b: Tensor) -> np.dtype:
    """The dtype of an operation between two tensors, by PyTorch's rules: categories first
    (dtypes.promote_numpy), and a 0-d tensor only decides when its category is higher (a
    complex one with a float tensor only makes the result complex)."""
    da, db = a._data.dtype, b._data.dtype
    ca, cb = dtypes.category(da), dtypes.category(db)
    if ca == cb or ca + cb == 5:  # 5: floating point with complex
        if a._data.ndim == 0 and b._data.ndim:
            return db if ca <= cb else _complex_of(db)
        if b._data.ndim == 0 and a._data.ndim:
            return da if cb <= ca else _complex_of(da)
    return dtypes.promote_numpy(da, db)


def _complex_of(float_dtype: np.dtype) -> np.dtype:
    """The complex dtype with parts of float_dtype: a 0-d complex tensor with a float one keeps
    the float one's precision (float32 with a 0-d complex128 gives complex64, as in PyTorch)."""
    return np.result_type(float_dtype, np.complex64)


def _common_dtype(*tensors: Tensor) -> np.dtype:
    """_result_dtype for any number of tensors (clamp's input and bounds): the dimensioned
    tensors decide, unless the 0-d ones together are of a higher category."""
    dims = [t._data.dtype for t in tensors if t._data.ndim]
    zeros = [t._data.dtype for t in tensors if not t._data.ndim]
    dim = functools.reduce(dtypes.promote_numpy, dims) if dims else None
    zero = functools.reduce(dtypes.promote_numpy, zeros) if zeros else None
    if dim is None or (zero is not None and dtypes.category(zero) > dtypes.category(dim)):
        return zero if dim is None else dtypes.promote_numpy(dim, zero)
    return dim


def result_type(tensor: Any, other: Any) -> dtypes.dtype:
    """The dtype that arithmetic between tensor and other gives (torch.result_type)."""
    if isinstance(tensor, Tensor) and not isinstance(other, Tensor):
        tensor, other = other, tensor
    if isinstance(other, Tensor) and not isinstance(tensor, Tensor):
        a, _ = _binary(other, tensor)  # a number only matters when its category is higher
        if a._data.dtype == np.bool_ and isinstance(tensor, (int, np.integer)) and not _is_bool(tensor):
            return dtypes.int64  # bool + 2 is int64 (_binary leaves that to NumPy)
        return a.dtype
    return dtypes.from_numpy_dtype(_result_dtype(_tensor_of(tensor), _tensor_of(other)))


def _wrapped_number(x: Any) -> Tensor:
    """The first of two numbers as PyTorch takes it (torch.add(2, 3.5)): a 0-d tensor of its
    Python kind, float the default dtype, int int64; a NumPy scalar counts as the Python
    number it holds, as it does beside a tensor."""
    return _tensor_of(x.item() if isinstance(x, np.generic) else x)


def _binary(a: Any, b: Any) -> tuple[Any, Any]:
    """Prepare two operands: scalars stay Python scalars, tensors get a common dtype."""
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):  # two numbers (torch.add(2, 3))
            return _binary(_wrapped_number(a), b)
        a, b = _binary(b, a)[::-1]
        return a, b
    cls = b.__class__
    if cls is float:
        if a._data.dtype.kind not in "fcV":
            a = a.to(dtypes.get_default_dtype())
        return a, b
    if cls is int:
        return a, dtypes.wrap_int(b, a._data.dtype)
    if cls is bool:
        return a, b
    if isinstance(b, Tensor):
        if a._data.dtype != b._data.dtype:
            rt = _result_dtype(a, b)
            a = a if a._data.dtype == rt else a.to(rt)
            b = b if b._data.dtype == rt else b.to(rt)
        return a, b
    if isinstance(b, np.generic):
        return _binary(a, b.item())  # no silent float64 from NumPy scalars
    if isinstance(b, (int, float)):  # subclasses of int and float
        return _binary(a, float(b) if isinstance(b, float) else int(b))
    if isinstance(b, complex):
        kind = a._data.dtype.kind
        if kind != "c":  # a complex number makes a real tensor complex, of its precision if floating
            a = a.to(
                a.dtype.to_complex()
                if kind in "fV" and a.dtype.itemsize > 2
                else dtypes.default_complex_numpy()
            )
        return a, complex(b)
    return _binary(a, _tensor_of(b))


def _check_broadcast(a: Any, b: Any, op: str) -> None:
    sa = a._data.shape if isinstance(a, Tensor) else ()
    sb = b._data.shape if isinstance(b, Tensor) else ()
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        raise RuntimeError(
            f"{op}: the size of tensor a ({list(sa)}) must match the size of tensor b "
            f"({list(sb)}) at every non-singleton dimension (shapes {list(sa)} and {list(sb)} "
            "cannot be broadcast together)"
        ) from None


def _apply_binary(fn: Any, a: Any, b: Any, op: str) -> Tensor:
    a, b = _binary(a, b)
    try:
        return apply(fn, a, b)
    except ValueError:
        _check_broadcast(a, b, op)
        raise
    except SparseUnsupportedError:  # a sparse operand: see ember/sparse/_functions.py
        return sparse_form(op, (a, b), key=fn.__name__)


# The 0-d arrays that Python numbers become when they meet a float tensor, by dtype and value.
_FLOAT32_CONSTANTS: dict = {}
_CONSTANTS: dict = {_FLOAT32: _FLOAT32_CONSTANTS}


def _constant(value: float, dtype: np.dtype) -> np.ndarray:
    """`value` as a read-only 0-d array of `dtype`: the conversion NumPy would make itself on
    every call, made once. Converting costs as much as the arithmetic on a small tensor,
    and a loop passes the same few numbers (0.9, 0.5, 1) again and again; a lookup costs a
    fifth of it. Read-only, because nodes save it for backward. Zeros are not stored, since
    0.0 and -0.0 are one key."""
    table = _FLOAT32_CONSTANTS if dtype is _FLOAT32 else _CONSTANTS.get(dtype)  # hashing a dtype is slow
    if table is None:
        table = _CONSTANTS[dtype] = {}
    array = table.get(value)
    if array is None:
        array = np.array(value, dtype)
        if value:
            array.flags.writeable = False
            if len(table) >= 1024:  # a schedule of numbers that never repeat
                table.clear()
            table[value] = array
    return array


def _binary_op(fn: Any, name: str, check: Callable[[Any, Any], None] | None = None) -> Any:
    """The function `input <op> other` for an Elementwise op: the fast path (ops/fastpath.py)
    for float tensors of one dtype or a float tensor and a Python number, `_apply_binary`
    with PyTorch's promotion for the rest, after `check` (which the fast path's float
    operands never need).

    The number becomes a 0-d array of the tensor's dtype (`_constant`): NumPy's arithmetic
    with a Python number costs about twice its arithmetic with an array on small tensors,
    and Mul pays it again in backward."""

    def general(input: Any, other: Any) -> Tensor:
        if check is not None:
            check(input, other)
        return _apply_binary(fn, input, other, name)

    op = fastpath.binary(fn, general, _FLOAT32_CONSTANTS, _constant)
    op.__name__ = op.__qualname__ = name
    return op


def _is_bool(x: Any) -> bool:
    return x.__class__ is bool or (isinstance(x, Tensor) and x._data.dtype == np.bool_)


def _check_sub(input: Any, other: Any) -> None:
    """PyTorch refuses `-` with a bool operand (a bool tensor, or True/False)."""
    if _is_bool(input) and _is_bool(other):
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if _is_bool(input) or _is_bool(other):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


# the operators +, - and * call these directly (see _methods.py)
mul = _binary_op(ew.Mul, "mul")
add_op = _binary_op(ew.Add, "add")
sub_op = _binary_op(ew.Sub, "sub", _check_sub)


def rsub(input: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """other - alpha * input (torch.rsub); `number - tensor` calls it. A Python number minus a
    float tensor is one node with one input, PyTorch's RsubBackward1."""
    if (
        alpha == 1
        and (other.__class__ is float or other.__class__ is int)
        and isinstance(input, Tensor)
        and input._data.dtype.kind in "fV"
    ):
        return apply_one(ew.Rsub, input, other)
    return sub(other, input, alpha=number_argument(alpha, "rsub"))


def scaled_by_alpha(input: Any, other: Any, alpha: Any) -> Any:
    """other * alpha for add and sub (and their in-place forms), in the dtype that input and
    other give: as in PyTorch, alpha takes no part in the promotion (int16 + alpha * bool
    stays int16), must fit that dtype (uint8 add(1, alpha=256) raises, while uint8 + 256
    wraps), may not be a float for integers nor a bool for numbers, and is True or False
    for bools. A list or tuple `other` (which add takes, as a tensor) is made a tensor first:
    `[1, 2] * 2` would repeat the list."""
    if isinstance(other, (list, tuple)):
        other = _tensor_of(other)
    if not (isinstance(input, Tensor) or isinstance(other, Tensor)):
        return other * alpha
    dtype = dtypes.to_numpy_dtype(result_type(input, other))
    if isinstance(alpha, (bool, np.bool_)):
        if dtype.kind != "b":
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif dtype.kind in "iub" and isinstance(alpha, (float, np.floating)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if dtype.kind == "b":
        return other & bool(alpha)
    alpha = dtypes.to_element(alpha, dtype)
    if isinstance(other, Tensor) and other._data.dtype != dtype:
        other = other.to(dtype)
    if isinstance(other, Tensor) and dtype.kind in "fV":
        try:  # MulBackward1: alpha kept as a number, as PyTorch's AddBackward0 keeps it
            return apply_one(ew.MulScalar, other, alpha)
        except SparseUnsupportedError:  # mul gives each sparse layout its sparse form
            pass
    return other * alpha


def fusable(input: Any, other: Any, alpha: Any) -> bool:
    """Whether `input + alpha * other` can be computed with one rounding, as PyTorch's float
    kernels compute add and sub with an alpha (a fused multiply-add): float tensors of one
    dtype and shape, a number alpha, and nothing to record (the graph records the product
    and the sum as two ops, rounded twice). A hand-written optimizer's
    `p.data.add_(p.grad, alpha=-lr)` is the case that matters: over an epoch the one-bit
    differences of the composed form add up."""
    return (
        isinstance(input, Tensor)
        and isinstance(other, Tensor)
        and input._data.dtype.kind in "fV"
        and other._data.dtype == input._data.dtype
        and other._data.shape == input._data.shape
        and isinstance(alpha, (int, float))
        and not isinstance(alpha, bool)
        and not (_grad_state[0] and (input._requires_grad or other._requires_grad))
    )


def add_scaled(y: np.ndarray, x: np.ndarray, alpha: float, out: np.ndarray | None = None) -> np.ndarray:
    """y + alpha * x rounded once (`ember.optim._fused`, imported here when first needed: optim
    sits above ops)."""
    from ember.optim._fused import add_scaled as fused

    return fused(y, x, alpha, out=out)


ABSENT = object()  # no third positional argument: the signature of today, not a deprecated one


def number_argument(value: Any, name: str, argument: str = "alpha") -> Any:
    """A Number argument (alpha, value) as a number: a 0-d tensor that does not require grad
    is one, as PyTorch's argument parser takes it (its item()); another tensor is refused."""
    if isinstance(value, Tensor):
        if value._data.ndim or value.requires_grad:
            raise TypeError(f"{name}(): argument '{argument}' must be Number, not Tensor")
        return value.item()
    return value


def alpha_first(name: str, alpha: Any, other: Any, args: str = "Tensor other", keyword: Any = 1) -> Any:
    """Check and warn about the overload torch deprecated but still accepts, with the scalar
    first: `add_(alpha, other)`, `addcmul_(value, tensor1, tensor2)`, as older code writes
    them (`p.data.add_(-lr, p.grad.data)`). `keyword` is the call's alpha= (value=): with the
    scalar given first it must be left out, as PyTorch refuses `add(2, b, alpha=3)`, rather
    than one of the two being silently dropped. Returns the scalar, a number (a 0-d tensor
    counts as one)."""
    if isinstance(alpha, Tensor):
        if alpha._data.ndim or alpha.requires_grad:
            raise TypeError(f"{name}() takes 1 positional argument but 2 were given")
        alpha = alpha.item()
    scalar = "value" if "tensor1" in args else "alpha"
    if keyword != 1 or keyword.__class__ is not int:
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got unrecognized keyword "
            f"arguments: {scalar} (the deprecated {name}(Number {scalar}, {args}) takes no {scalar}=)"
        )
    warnings.warn(
        f"This overload of {name} is deprecated:\n\t{name}(Number {scalar}, {args})\nConsider using "
        f"one of the following signatures instead:\n\t{name}({args}, *, Number {scalar} = 1)",
        UserWarning,
        stacklevel=3,
    )
    return alpha


def add(input: Any, other: Any, deprecated_other: Any = ABSENT, *, alpha: Any = 1) -> Tensor:
    """input + alpha * other (torch.add); `add(input, alpha, other)`, deprecated, works too."""
    if deprecated_other is not ABSENT:
        alpha, other = alpha_first("add", other, deprecated_other, keyword=alpha), deprecated_other
    if alpha != 1 or alpha.__class__ is bool:
        alpha = number_argument(alpha, "add")
        if fusable(input, other, alpha):
            try:
                return Tensor(add_scaled(input._data, other._data, float(alpha)))
            except SparseUnsupportedError:  # a sparse operand (see ember/sparse/_functions.py)
                return sparse_form("add", (input, other), {"alpha": alpha})
        other = scaled_by_alpha(input, other, alpha)
    return add_op(input, other)


def sub(input: Any, other: Any, deprecated_other: Any = ABSENT, *, alpha: Any = 1) -> Tensor:
    """input - alpha * other (torch.sub); `sub(input, alpha, other)`, deprecated, works too."""
    if deprecated_other is not ABSENT:
        alpha, other = alpha_first("sub", other, deprecated_other, keyword=alpha), deprecated_other
    if alpha != 1 or alpha.__class__ is bool:
        alpha = number_argument(alpha, "sub")
        _check_sub(input, other)
        if fusable(input, other, alpha):
            try:
                return Tensor(add_scaled(input._data, other._data, -float(alpha)))
            except SparseUnsupportedError:  # a sparse operand (see ember/sparse/_functions.py)
                return sparse_form("sub", (input, other), {"alpha": alpha})
        other = scaled_by_alpha(input, other, alpha)
    return sub_op(input, other)


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode == "floor":
        _not_for_bool("div_floor_cpu", input, other)
        return _apply_binary(ew.DivFloor, input, other, "div")
    if rounding_mode == "trunc":
        _not_for_bool("div_trunc_cpu", input, other)
        return _apply_binary(ew.DivTrunc, input, other, "div")
    if rounding_mode is not None:
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
        )
    if (
        input.__class__ in (int, float, bool)
        and isinstance(other, Tensor)
        and other._data.dtype.kind in "fcV"
    ):
        # a number over a tensor is PyTorch's reciprocal(b) * a (MulBackward0 over
        # ReciprocalBackward0): its node keeps 1 / b, not b, so changing b in place after is fine
        return mul(reciprocal(other), input)
    a, b = integers_to_float(input, other)
    return _apply_binary(ew.Div, a, b, "div")


def integers_to_float(input: Any, other: Any) -> tuple[Any, Any]:
    """The operands of an op whose result is a float (true division, atan2, ...): when
    neither is a float, each tensor is converted to the default dtype by itself, as PyTorch
    converts each operand to the result dtype; promoting them to a common integer dtype first
    would wrap values (uint8 / tensor(-4, dtype=int8) divides by -4, not by 252)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = _wrapped_number(input)  # two numbers: torch.div(2, 3) is a float32 tensor
    a_int = not isinstance(input, Tensor) or input._data.dtype.kind not in "fcV"
    b_int = not isinstance(other, Tensor) or other._data.dtype.kind not in "fcV"
    if a_int and b_int:
        float_dtype = dtypes.get_default_dtype()
        if isinstance(input, Tensor):
            input = input.to(float_dtype)
        if isinstance(other, Tensor):
            other = other.to(float_dtype)
    return input, other


true_divide = divide = div
multiply, subtract = mul, sub


def _not_for_bool(kernel: str, *operands: Any) -> None:
    """PyTorch has no bool kernel for these ops: refuse when every operand is bool."""
    if all(_is_bool(x) for x in operands):
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def floor_divide(input: Any, other: Any) -> Tensor:
    dtypes.refuse_complex('"div_floor_cpu"', input, other)
    _not_for_bool("div_floor_cpu", input, other)
    return _apply_binary(ew.FloorDivide, input, other, "floor_divide")


def remainder(input: Any, other: Any) -> Tensor:
    dtypes.refuse_complex('"remainder_cpu"', input, other)
    _not_for_bool("remainder_cpu", input, other)
    return _apply_binary(ew.Remainder, input, other, "remainder")


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001
    cls = exponent.__class__
    if (cls is int or cls is float) and input.__class__ is Tensor and input._data.dtype is _FLOAT32:
        return fastpath.power(input, exponent)  # x ** 2, without the checks below
    try:
        return _pow(input, exponent)
    except SparseUnsupportedError:  # a sparse operand (see ember/sparse/_functions.py)
        return sparse_form("pow", (input, exponent))


def _pow(input: Any, exponent: Any) -> Tensor:
    """pow past its fast path: PyTorch's dtype rules for bools, integers and complex numbers."""
    if isinstance(exponent, np.generic):
        exponent = exponent.item()
    if _is_bool(input) and _is_bool(exponent):
        if isinstance(exponent, bool):  # x ** True is x, x ** False is True
            return Tensor(_meta.asarray(input._data | (not exponent)))  # 0-d: | gives a NumPy scalar
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if _is_bool(input) and exponent.__class__ is int:  # bool ** 2 is int64, as bool + 2
        input = input.long()
    if isinstance(exponent, complex) and isinstance(input, Tensor):
        input, exponent = _binary(input, exponent)  # complex, as x * 1j
        return apply_one(ew.Pow, input, exponent)
    if isinstance(input, Tensor) and isinstance(exponent, (int, float)):
        if isinstance(exponent, float) and input._data.dtype.kind not in "fcV":
            input = input.to(dtypes.get_default_dtype())
        if isinstance(exponent, int) and input._data.dtype.kind in "iu":
            if exponent < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            exponent = dtypes.to_element(exponent, input._data.dtype)  # uint8 ** 300 raises
        return apply_one(ew.Pow, input, exponent)
    if not isinstance(input, Tensor):  # number ** tensor: the base becomes a 0-d tensor of the result dtype
        if input.__class__ is int and _is_bool(exponent):
            exponent = exponent.long()  # 2 ** bool tensor is int64
        exponent, base = _binary(_tensor_of(exponent), input)
        input = Tensor(_meta.asarray(base, dtype=exponent._data.dtype))
        return _apply_binary(ew.PowScalarBase, input, exponent, "pow")
    return _apply_binary(ew.PowTensor, input, exponent, "pow")


def _neg(input: Tensor) -> Tensor:
    if input._data.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    try:
        return apply_one(ew.Neg, input)
    except SparseUnsupportedError:
        return sparse_form("neg", (input,))


neg = negative = fastpath.unary(ew.Neg, _neg)  # float tensors skip the check above
neg.__name__ = neg.__qualname__ = "neg"
neg.__doc__ = "Elementwise negation, -input (torch.neg)."


# The functions of one tensor that PyTorch computes for complex numbers: holomorphic, so that
# their real backward formulas serve (see autograd/engine.py). The others (erf, lgamma, ...)
# refuse complex tensors, as in PyTorch.
_HOLOMORPHIC = frozenset(
    """exp expm1 log log1p sqrt rsqrt sin cos tanh sigmoid reciprocal sinh cosh asin acos atan
    asinh acosh atanh exp2""".split()
)


def _unary(fn: Any, name: str, doc: str | None = None) -> Any:
    holomorphic = name in _HOLOMORPHIC

    def op(input: Tensor) -> Tensor:
        dtype = input._data.dtype
        if dtype is not _FLOAT32 and dtype.kind not in "fV":
            if dtype.kind != "c":
                input = input.to(dtypes.get_default_dtype())  # exp(int tensor) is float, as in torch
            elif not holomorphic:
                dtypes.refuse_complex(f'"{name}"', input)
        try:
            return apply_one(fn, input)
        except SparseUnsupportedError:
            return sparse_form(name, (input,))

    if issubclass(fn, ew.Elementwise):  # one ufunc: the fast path, with op for the rest
        op = fastpath.unary(fn, op)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f"Elementwise {name} (torch.{name})."
    return op


exp = _unary(ew.Exp, "exp")
expm1 = _unary(ew.Expm1, "expm1")
log = _unary(ew.Log, "log")
log1p = _unary(ew.Log1P, "log1p")
sqrt = _unary(ew.Sqrt, "sqrt")
rsqrt = _unary(ew.Rsqrt, "rsqrt")
sin = _unary(ew.Sin, "sin")
cos = _unary(ew.Cos, "cos")
tanh = _unary(ew.Tanh, "tanh")
sigmoid = _unary(ew.Sigmoid, "sigmoid")
reciprocal = _unary(ew.Reciprocal, "reciprocal")


def log2(input: Tensor) -> Tensor:
    return log(input) / float(np.log(2.0))


def log10(input: Tensor) -> Tensor:
    return log(input) / float(np.log(10.0))


def tan(input: Tensor) -> Tensor:
    try:
        return sin(input) / cos(input)
    except SparseUnsupportedError:
        return sparse_form("tan", (input,))


def _abs(input: Tensor) -> Tensor:
    _not_for_bool("abs_cpu", input)
    try:
        if input._data.dtype.kind == "c":
            from ember.ops.api.complex import complex_abs  # that module builds on this one

            return complex_abs(input)
        return ew.Abs.apply(input)
    except SparseUnsupportedError:  # complex values too (the sparse abs makes them real)
        return sparse_form("abs", (input,))


abs = absolute = fastpath.unary(ew.Abs, _abs)  # noqa: A001
abs.__name__ = abs.__qualname__ = "abs"
abs.__doc__ = "Elementwise absolute value (torch.abs)."


def sign(input: Tensor) -> Tensor:
    try:
        dtypes.refuse_complex(
            "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use torch.sgn instead.",
            input,
        )
        if input._data.dtype == np.bool_:
            return Tensor(input._data.copy())  # True and False are their own sign
        return ew.Sign.apply(input)
    except SparseUnsupportedError:
        return sparse_form("sign", (input,))


def relu(input: Tensor) -> Tensor:
    try:
        kind = input._data.dtype.kind
        if kind == "b" or kind == "c":
            dtypes.refuse_complex("clamp is not supported for complex types", input)
            raise RuntimeError("Boolean inputs not supported for relu")
        return apply_one(ew.Relu, input)
    except SparseUnsupportedError:
        return sparse_form("relu", (input,))


def square(input: Tensor) -> Tensor:
    try:
        if input._data.dtype == np.bool_:
            input = input.long()  # as bool ** 2
        return apply_one(ew.Pow, input, 2)
    except SparseUnsupportedError:
        return sparse_form("square", (input,))


def floor(input: Tensor) -> Tensor:
    try:
        dtypes.refuse_complex("floor is not supported for complex inputs", input)
        _not_for_bool("floor_vml_cpu", input)
        if input._data.dtype.kind not in "fV":
            return Tensor(input._data.copy())  # integers are their own floor, and keep their dtype
        return ew.Floor.apply(input)
    except SparseUnsupportedError:
        return sparse_form("floor", (input,))


def ceil(input: Tensor) -> Tensor:
    try:
        dtypes.refuse_complex("ceil is not supported for complex inputs", input)
        _not_for_bool("ceil_vml_cpu", input)
        if input._data.dtype.kind not in "fV":
            return Tensor(input._data.copy())
        return ew.Ceil.apply(input)
    except SparseUnsupportedError:
        return sparse_form("ceil", (input,))


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even, like PyTorch (and NumPy)."""
    try:
        dtypes.refuse_complex('"round_vml_cpu"', input)
        _not_for_bool("round_vml_cpu", input)
        if input._data.dtype.kind not in "fV":
            return Tensor(input._data.copy())
        return ew.Round.apply(input, decimals)
    except SparseUnsupportedError:
        return sparse_form("round", (input,), {"decimals": decimals})


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return _clamp(input, min, max, ew.Clamp)


def _clamp(input: Tensor, min: Any, max: Any, node: type) -> Tensor:  # noqa: A002
    """clamp, recording `node` for number bounds: Clamp, or ClampMin / ClampMax, which are
    the same op under the names PyTorch gives clamp_min and clamp_max."""
    dtypes.refuse_complex("clamp is not supported for complex types", input, min, max)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if input._data.dtype == np.bool_ and all(b is None or _is_bool(b) for b in (min, max)):
        _refuse_bool_clamp(min, max)
    if isinstance(min, Tensor) != isinstance(max, Tensor):
        min, max = _number_if_0d(min, max), _number_if_0d(max, min)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_by_tensors(input, min, max, node)
    if isinstance(min, float) or isinstance(max, float):
        if input._data.dtype.kind not in "fV":
            input = input.to(dtypes.get_default_dtype())
    dtype = input._data.dtype  # an int bound must fit an integer dtype, as in PyTorch
    return apply_one(node, input, dtypes.to_element(min, dtype), dtypes.to_element(max, dtype))


clip = clamp


def _number_if_0d(bound: Any, other: Any) -> Any:
    """A 0-d tensor bound that needs no gradient, beside a number: the number it holds, as
    PyTorch reads it there (its clamp takes two tensors or two numbers)."""
    if other is not None and isinstance(bound, Tensor) and bound._data.ndim == 0 and not bound.requires_grad:
        return bound.item()
    return bound


def _refuse_bool_clamp(min: Any, max: Any) -> None:  # noqa: A002
    """PyTorch has no bool kernel for clamp with bool bounds (numbers, or two tensors); one
    tensor bound is maximum or minimum there, which works."""
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is None or max is None:
            return
        kernel = "clamp_cpu"
    else:
        kernel = "clamp_scalar_cpu" if min is not None and max is not None else "clamp_min_scalar_cpu"
        kernel = "clamp_max_scalar_cpu" if min is None else kernel
    raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _clamp_by_tensors(input: Tensor, min: Any, max: Any, node: type) -> Tensor:  # noqa: A002
    """clamp with tensor bounds, PyTorch's one node (ClampBackward0, or ClampMinBackward1 /
    ClampMaxBackward1 for clamp_min / clamp_max; see ew.ClampByTensors for its gradient). The
    three are first converted to their common dtype, which also decides the comparisons (a
    uint8 input clamped to tensor(-5) compares with 251, as in PyTorch)."""
    dtype = _common_dtype(input, *(_tensor_of(b) for b in (min, max) if b is not None))
    input, min, max = (b.to(dtype) if isinstance(b, Tensor) else b for b in (input, min, max))
    min, max = (
        _tensor_of(b).to(dtype) if b is not None and not isinstance(b, Tensor) else b for b in (min, max)
    )
    if node is ew.ClampMin:
        return ew.ClampMinByTensor.apply(input, min)
    if node is ew.ClampMax:
        return ew.ClampMaxByTensor.apply(input, max)
    return ew.ClampByTensors.apply(input, min, max)


_NOTHING = object()  # tells where(condition) from where(condition, input, None)


def _has_meta(*args: Any) -> bool:
    """Whether one of args is a meta tensor: a loop, not any() of a generator, which costs
    where and masked_fill on the CPU a microsecond more."""
    for t in args:
        if isinstance(t, Tensor) and t._data.__class__ is _meta.MetaArray:
            return True
    return False


def _one_device(*args: Any) -> None:
    """PyTorch's error for tensors on the CPU and on 'meta' in one op (where, masked_fill):
    the first tensor's device is expected of the others, a 0-d CPU tensor excepted (it joins
    any device, as a number). Call it only where _has_meta(*args)."""
    tensors = [t for t in args if isinstance(t, Tensor)]
    devices = [t.device.type for t in tensors if t.is_meta or t._data.ndim]
    for other in devices[1:]:
        if other != devices[0]:
            raise RuntimeError(f"Tensor on device {other} is not on the expected device {devices[0]}!")


def where(condition: Any, input: Any = _NOTHING, other: Any = _NOTHING) -> Any:
    """Elements of input where condition holds, else of other (torch.where); input and
    other are promoted to a common dtype as in arithmetic. With condition alone, the
    indices where it holds, one tensor per dim: nonzero(condition, as_tuple=True)."""
    if input is _NOTHING and other is _NOTHING:
        from ember.ops.api.indexing import nonzero  # indexing imports this module

        return nonzero(condition, as_tuple=True)
    if input is _NOTHING or other is _NOTHING:
        raise TypeError("where() takes a condition alone, or a condition, input and other")
    if _has_meta(condition, input, other):
        _one_device(condition, input, other)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = _tensor_of(input)  # two numbers: float32 if either is a float, as in PyTorch
    # a number stored, not wrapped (ew.where makes one beside a bfloat16 tensor a bfloat16 array)
    if isinstance(input, Tensor) and not isinstance(other, Tensor):
        other = dtypes.to_element(other, input._data.dtype)
    elif isinstance(other, Tensor) and not isinstance(input, Tensor):
        input = dtypes.to_element(input, other._data.dtype)
    a, b = _binary(input, other)
    try:
        return ew.where(condition, a, b)
    except ValueError:
        shapes = [list(np.shape(x._data if isinstance(x, Tensor) else x)) for x in (condition, a, b)]
        raise RuntimeError(
            f"where: the shapes of condition {shapes[0]}, input {shapes[1]} and other {shapes[2]} "
            "cannot be broadcast together"
        ) from None


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return _clamp(input, min, None, ew.ClampMin)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return _clamp(input, None, max, ew.ClampMax)


def maximum(input: Any, other: Any) -> Tensor:
    dtypes.refuse_complex("maximum not implemented for complex tensors.", input, other)
    return _apply_binary(ew.Maximum, input, _tensor_of(other), "maximum")


def minimum(input: Any, other: Any) -> Tensor:
    dtypes.refuse_complex("minimum not implemented for complex tensors.", input, other)
    return _apply_binary(ew.Minimum, input, _tensor_of(other), "minimum")


# ---- comparisons and tests (no gradient) ------------------------------------------------------


def _as_bfloat16(number: float, np_dtype: np.dtype) -> np.ndarray:
    """A Python float as a 0-d bfloat16 array, through float32 as PyTorch converts it (beyond
    float32's range: inf)."""
    with np.errstate(over="ignore"):
        return np.asarray(number, np.float32).astype(np_dtype)


def _compare(ufunc: Any, name: str) -> Any:
    ordered = name in ("lt", "le", "gt", "ge")

    def op(input: Any, other: Any) -> Tensor:
        a, b = _binary(input, other)
        # NumPy would order complex numbers lexicographically; the operands now share a dtype
        if ordered and (a if isinstance(a, Tensor) else b)._data.dtype.kind == "c":
            dtypes.refuse_complex(f'"{name}_cpu"', a, b)
        a = a._data if isinstance(a, Tensor) else a
        b = b._data if isinstance(b, Tensor) else b
        # a number compared with bfloat16 is made a bfloat16 first, as in PyTorch (NumPy would
        # compare in float32: x == 1.001 false where x holds 1.0, which 1.001 rounds to)
        if b.__class__ is float and a.dtype.kind == "V":
            b = _as_bfloat16(b, a.dtype)
        elif a.__class__ is float and b.dtype.kind == "V":
            a = _as_bfloat16(a, b.dtype)
        try:
            return Tensor(np.asanyarray(ufunc(a, b)))
        except ValueError:
            _check_broadcast(_tensor_of(a), _tensor_of(b), name)
            raise

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}, a bool tensor (torch.{name})."
    return op


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")
greater, less, not_equal, greater_equal, less_equal = gt, lt, ne, ge, le


def _bitwise(ufunc: Any, name: str) -> Any:
    def op(input: Any, other: Any) -> Tensor:
        a, b = _binary(input, other)
        if any(isinstance(x, Tensor) and x._data.dtype.kind in "fV" for x in (a, b)):
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Float'")
        a = a._data if isinstance(a, Tensor) else a
        b = b._data if isinstance(b, Tensor) else b
        return Tensor(np.asanyarray(ufunc(a, b)))

    op.__name__ = op.__qualname__ = name
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def logical_not(input: Tensor) -> Tensor:
    return Tensor(np.asanyarray(np.logical_not(input._data)))


def bitwise_not(input: Tensor) -> Tensor:
    if input._data.dtype.kind in "fV":
        raise NotImplementedError("\"bitwise_not_cpu\" not implemented for 'Float'")
    return Tensor(np.asanyarray(np.invert(input._data)))


def isnan(input: Tensor) -> Tensor:
    try:
        return Tensor(np.asanyarray(np.isnan(input._data)))
    except SparseUnsupportedError:
        return sparse_form("isnan", (input,))


def isinf(input: Tensor) -> Tensor:
    try:
        return Tensor(np.asanyarray(np.isinf(input._data)))
    except SparseUnsupportedError:
        return sparse_form("isinf", (input,))


def isfinite(input: Tensor) -> Tensor:
    return Tensor(np.asanyarray(np.isfinite(input._data)))


def _same_dtype_for_isclose(input: Tensor, other: Any, op: str) -> np.ndarray:
    """other's array; a tensor of another dtype than input's, or of a shape that does not
    broadcast with it, raises PyTorch's RuntimeError (isclose and allclose do not promote).
    A Python number is taken as it is."""
    _check_broadcast(input, other, op)
    if isinstance(other, Tensor) and other._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"{dtypes.scalar_type_name(input._data.dtype)} did not match "
            f"{dtypes.scalar_type_name(other._data.dtype)} (isclose/allclose compare tensors of one "
            "dtype: convert one with .to(other.dtype))"
        )
    return _tensor_of(other)._data


def allclose(
    input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> bool:
    """Whether every element of input is within atol + rtol * |other| of other's
    (torch.allclose); both tensors must have one dtype."""
    other_data = _same_dtype_for_isclose(input, other, "allclose")
    # bool() would read a meta array's zeros
    if input.is_meta or (isinstance(other, Tensor) and other.is_meta):
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")
    return bool(np.allclose(input._data, other_data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(
    input: Tensor, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> Tensor:
    """Elementwise |input - other| <= atol + rtol * |other| (torch.isclose); both tensors
    must have one dtype."""
    other_data = _same_dtype_for_isclose(input, other, "isclose")
    close = np.isclose(input._data, other_data, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return Tensor(np.asanyarray(close))


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and elements (torch.equal)."""
    if input.is_meta or other.is_meta:  # bool() would read a meta array's zeros
        raise NotImplementedError(
            "aten::equal: the values of meta tensors cannot be compared (they have none)"
        )
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


def _check_inplace_graph(
    input: Tensor,
    leaf_fix: str = "Wrap the update in `with ember.no_grad():`, or update `x.data`.",
    view_fix: str = "Wrap the update in `with ember.no_grad():`, or clone() the view.",
) -> None:
    """What autograd forbids of an in-place change of input (its data or, for t_() and its
    kin, its shape): a leaf that requires grad, a view of one, or a view made under no_grad
    of a base that requires grad. The messages end with the fix for the caller's kind."""
    if not _grad_state[0]:
        return
    views.current(input)
    base = input._base
    if base is not None and input._view_fn is None and base._requires_grad:
        views.no_grad_view_error()
    if input.grad_fn is None and input._requires_grad:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation. ({leaf_fix})"
        )
    if base is not None and base.grad_fn is None and base._requires_grad:
        raise RuntimeError(
            f"a view of a leaf Variable that requires grad is being used in an in-place operation. ({view_fix})"
        )


def _check_inplace_leaf(input: Tensor, constant: bool = False) -> None:
    """The checks every in-place op makes before it writes into input's memory. An op that
    writes one number to the elements it writes (`constant`: fill_, zero_, and unrecorded
    masked_fill_ with a number and x[i] = 2.0, which write only those elements) may write
    through an expanded tensor, as in PyTorch: repeated elements all get that number."""
    _check_inplace_graph(input)
    _check_writable(input._data, constant)


def _check_writable(data: np.ndarray, constant: bool = False) -> None:
    """That an in-place op may write into data: not read-only, and (unless it writes one
    number, see `_check_inplace_leaf`) no two of its elements in one memory location."""
    if (
        not constant
        and 0 in data.strides
        and data.__class__ is np.ndarray  # a meta array's zero strides hold no values to clash
        and data.size > 1
        and any(s == 0 and n > 1 for s, n in zip(data.strides, data.shape))
    ):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers "
            "to a single memory location (an expand()ed tensor). Please clone() the tensor "
            "before performing the operation."
        )
    if not data.flags.writeable:
        raise RuntimeError(
            "the tensor's memory is read-only (it was made from a read-only NumPy array); "
            "clone() it before changing it in place"
        )


def _wants_grad(t: Any) -> bool:
    """Whether t is a tensor that requires grad (a view's node made current first): the
    test of an in-place op's other operands."""
    return isinstance(t, Tensor) and views.current(t)._requires_grad


def _write_inplace(input: Tensor, others: tuple, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """An in-place op from its out-of-place form `compute(input)`: make input hold the
    result, as a recorded in-place op (see `_record_inplace`) when a gradient is wanted through input
    or one of `others`, else by writing into input's array and bumping its version."""
    _check_inplace_leaf(input)
    if _grad_state[0] and (input._requires_grad or any(_wants_grad(o) for o in others)):
        return _record_inplace(input, compute)
    with grad_mode.no_grad():
        result = compute(input)
    _check_fits(input, result)
    input._data[...] = result._data
    input._version_cell[0] += 1
    return input


def _check_fits(input: Tensor, result: Tensor, name: str = "") -> None:
    """Refuse an in-place result that input cannot hold: another shape, or a dtype it cannot
    be cast to. `name` (the op's, e.g. "fmod_") starts the message when given."""
    op = f"{name}: " if name else ""
    if result._data.shape != input._data.shape:
        raise RuntimeError(
            f"{op}output with shape {list(input._data.shape)} doesn't match the broadcast shape "
            f"{list(result._data.shape)}"
        )
    if not castable(result._data.dtype, input._data.dtype):
        raise RuntimeError(
            f"{op}result type {dtypes.scalar_type_name(result._data.dtype)} can't be cast to the "
            f"desired output type {dtypes.scalar_type_name(input._data.dtype)}"
        )


def castable(result: np.dtype, output: np.dtype) -> bool:
    """Whether an in-place op may store a result of dtype `result` in a tensor of dtype
    `output`: PyTorch's can_cast, never a float into integers nor a number into bools, but
    any integer into any other (an int16 result into uint8 wraps), which NumPy's same_kind
    casting refuses."""
    return dtypes.category(result) <= dtypes.category(output)


def _record_inplace(input: Tensor, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """A recorded in-place op (see docs/design.md): the result of `compute`, made out of place
    from a copy of input's values, is written into input's memory, and input (and its base,
    when it is a view) now stands for the result's node."""
    result = compute(views.stand_in(input))
    _check_fits(input, result)
    input._data[...] = result._data
    input._version_cell[0] += 1
    if input._base is None:
        views.take_node(input, result)
    else:
        views.rebase(input, result)
    return input
