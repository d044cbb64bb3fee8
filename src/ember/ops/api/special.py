"""The public functions of ops/special.py (erf, sinh, atan2, ...), interpolation (lerp,
addcmul, addcdiv) and their in-place forms."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import _meta, dtypes
from ember._layout import SparseUnsupportedError, sparse_form
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.function import apply_one
from ember.ops import elementwise as ew
from ember.ops import special as sp
from ember.ops.activations import Erf
from ember.ops.api import arith
from ember.ops.api.arith import (
    _apply_binary,
    _binary,
    _check_broadcast,
    _check_fits,
    _not_for_bool,
    _tensor_of,
    _unary,
    _write_inplace,
    add,
    div,
    ge,
    integers_to_float,
    isnan,
    mul,
    pow,
    sign,
    where,
)

# ---- error function, hyperbolic and inverse trigonometric functions ---------------------------

erf = _unary(Erf, "erf")
erfc = _unary(sp.Erfc, "erfc")
erfinv = _unary(sp.Erfinv, "erfinv")
sinh = _unary(sp.Sinh, "sinh")
cosh = _unary(sp.Cosh, "cosh")
asin = arcsin = _unary(sp.Asin, "asin")
acos = arccos = _unary(sp.Acos, "acos")
atan = arctan = _unary(sp.Atan, "atan")
asinh = arcsinh = _unary(sp.Asinh, "asinh")
acosh = arccosh = _unary(sp.Acosh, "acosh")
atanh = arctanh = _unary(sp.Atanh, "atanh")
exp2 = _unary(sp.Exp2, "exp2")


def trunc(input: Tensor) -> Tensor:
    """Round toward zero (torch.trunc); integer tensors are returned as a copy."""
    try:
        dtypes.refuse_complex("trunc is not supported for complex inputs", input)
        if input._data.dtype.kind not in "fV":
            return Tensor(input._data.copy())
        return sp.Trunc.apply(input)
    except SparseUnsupportedError:
        return sparse_form("trunc", (input,))


fix = trunc


def frac(input: Tensor) -> Tensor:
    """The fractional part x - trunc(x), with the sign of x (torch.frac)."""
    try:
        dtypes.refuse_complex('"frac_cpu"', input)
        if input._data.dtype.kind not in "fV":
            raise NotImplementedError(f'"frac_cpu" not implemented for {input.dtype} (frac needs floats)')
        return sp.Frac.apply(input)
    except SparseUnsupportedError:
        return sparse_form("frac", (input,))


def deg2rad(input: Tensor) -> Tensor:
    dtypes.refuse_complex("deg2rad is not supported for complex tensors.", input)
    return _angle(input, float(np.pi / 180))


def rad2deg(input: Tensor) -> Tensor:
    dtypes.refuse_complex("rad2deg is not supported for complex tensors.", input)
    return _angle(input, float(180 / np.pi))


def _angle(input: Tensor, c: float) -> Tensor:
    """input * c: Deg2RadBackward0 or Rad2DegBackward0 for a float tensor, which saves nothing
    as PyTorch's; mul for integers (which it makes float) and sparse tensors."""
    if input._data.dtype.kind in "fV":
        try:
            return apply_one(ew.Deg2Rad, input, c)
        except SparseUnsupportedError:  # mul gives each sparse layout its sparse form
            pass
    return mul(input, c)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] first when eps is given (torch.logit)."""
    dtypes.refuse_complex('"logit_cpu"', input)
    if input._data.dtype.kind not in "fV":
        input = input.to(dtypes.get_default_dtype())
    return sp.Logit.apply(input, None if eps is None else float(eps))


def sgn(input: Tensor) -> Tensor:
    """z / |z| for complex elements (0 at 0); for real tensors the same as sign (torch.sgn)."""
    if input._data.dtype.kind == "c":
        from ember.ops.api.complex import sgn as complex_sgn  # complex imports this module's kin

        try:
            return complex_sgn(input)
        except SparseUnsupportedError:  # a sparse tensor (see ember/sparse/_functions.py)
            return sparse_form("sgn", (input,))
    if input._data.dtype.kind in "fV":
        try:
            return ew.Sgn.apply(input)  # SgnBackward0, which saves its input, as PyTorch's
        except SparseUnsupportedError:  # a sparse tensor: sign's sparse form
            pass
    return sign(input)


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set, -0.0 included (torch.signbit)."""
    try:
        dtypes.refuse_complex("signbit is not implemented for complex tensors.", input)
        return Tensor(_meta.asarray(np.signbit(input._data)))
    except SparseUnsupportedError:
        return sparse_form("signbit", (input,))


def nan_to_num(
    input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """nan, +inf and -inf replaced by nan, posinf and neginf; the infinities default to the
    largest and smallest finite values of the dtype (torch.nan_to_num). A complex number's
    real and imaginary parts are replaced each on its own."""
    try:
        kind = input._data.dtype.kind
        if kind not in "fcV":
            return Tensor(input._data.copy())
        if kind == "c" and input.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError(
                "nan_to_num does not support automatic differentiation for outputs with complex dtype."
            )
        if kind == "V":  # bfloat16, computed in float32, whose largest value would round to inf
            largest = dtypes.finfo(dtypes.bfloat16).max
            posinf = largest if posinf is None else posinf
            neginf = -largest if neginf is None else neginf
        return sp.NanToNum.apply(input, nan, posinf, neginf)
    except SparseUnsupportedError:
        return sparse_form("nan_to_num", (input,), {"nan": nan, "posinf": posinf, "neginf": neginf})


def sinc(input: Tensor) -> Tensor:
    """sin(pi x) / (pi x), and 1 at x = 0 (torch.sinc); integers are promoted to the default
    dtype. Its gradient keeps full precision near 0 (ops/special.py's Sinc)."""
    dtypes.complex_gap("sinc", input)
    if input._data.dtype.kind not in "fV":
        input = input.to(dtypes.get_default_dtype())
    return sp.Sinc.apply(input)


# ---- binary math ------------------------------------------------------------------------------


def _float_binary(fn: Any, input: Any, other: Any, name: str, ints: bool = True) -> Tensor:
    """A binary op whose result is a float: integer operands are promoted to the default dtype
    (ints=False: they are refused, as PyTorch refuses them for this op)."""
    a, b = _binary(input, other)
    if not any(isinstance(x, Tensor) and x._data.dtype.kind in "fV" for x in (a, b)):
        if not ints:
            dt = (a if isinstance(a, Tensor) else b).dtype
            raise NotImplementedError(f'"{name}_cpu" not implemented for {dt} ({name} needs floats)')
        a, b = _binary(*integers_to_float(input, other))
    # a number becomes a 0-d tensor of the other's dtype: NumPy would compute log(2.5) in float64
    if not isinstance(a, Tensor):
        a = Tensor(np.array(a, b._data.dtype))
    if not isinstance(b, Tensor):
        b = Tensor(np.array(b, a._data.dtype))
    return _apply_binary(fn, a, b, name)


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of the point (other, input), in (-pi, pi] (torch.atan2)."""
    dtypes.refuse_complex('"atan2_cpu"', input, other)
    return _float_binary(sp.Atan2, input, other, "atan2")


arctan2 = atan2


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """sqrt(input² + other²) without overflow (torch.hypot)."""
    dtypes.refuse_complex('"hypot_cpu"', input, other)
    return _float_binary(sp.Hypot, input, other, "hypot", ints=False)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """log(exp(input) + exp(other)), computed stably (torch.logaddexp)."""
    dtypes.complex_gap("logaddexp", input, other)
    return _float_binary(sp.LogAddExp, input, other, "logaddexp", ints=False)


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """log2(2**input + 2**other), computed stably (torch.logaddexp2)."""
    dtypes.refuse_complex('"logaddexp2_cpu"', input, other)
    return _float_binary(sp.LogAddExp2, input, other, "logaddexp2", ints=False)


def xlogy(input: Any, other: Any) -> Tensor:
    """input * log(other), and 0 where input is 0 unless other is nan (torch.xlogy)."""
    dtypes.refuse_complex('"xlogy_cpu"', input, other)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlogy: at least one of input and other must be a tensor")
    return _float_binary(sp.Xlogy, input, other, "xlogy")


def copysign(input: Tensor, other: Any) -> Tensor:
    """The magnitude of input with the sign of other, -0.0 counting as negative (torch.copysign)."""
    dtypes.refuse_complex('"copysign_cpu"', input, other)
    return _float_binary(sp.Copysign, input, other, "copysign")


def fmod(input: Tensor, other: Any) -> Tensor:
    """The remainder of input / other with the sign of input (torch.fmod; remainder takes
    other's sign)."""
    dtypes.refuse_complex('"fmod_cpu"', input, other)
    _not_for_bool("fmod_cpu", input, other)
    a, b = _binary(input, other)
    divisor = _data_of(b)
    if (
        isinstance(a, Tensor)
        and a._data.dtype.kind in "iub"
        and a._data.size
        and np.size(divisor)
        and not np.all(divisor)
    ):
        raise RuntimeError("fmod: ZeroDivisionError (integer division by zero)")
    return _apply_binary(sp.Fmod, a, b, "fmod")


def _nan_ignoring(input: Tensor, other: Tensor, name: str) -> tuple[Tensor, Tensor]:
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    a, b = _binary(input, other)
    _check_broadcast(a, b, name)
    return a, b


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum that ignores NaN: NaN only where both are (torch.fmax). As in
    PyTorch, the gradient goes to input where input >= other or other is NaN, else to other:
    a tie gives it all to input (maximum() halves it)."""
    dtypes.refuse_complex("fmax not implemented for complex tensors.", input, other)
    a, b = _nan_ignoring(input, other, "fmax")
    return where(ge(a, b) | isnan(b), a, b)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum that ignores NaN (torch.fmin); the gradient as in fmax."""
    dtypes.refuse_complex("fmin not implemented for complex tensors.", input, other)
    a, b = _nan_ignoring(input, other, "fmin")
    return where(ge(b, a) | isnan(b), a, b)


def _data_of(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def float_power(input: Any, exponent: Any) -> Tensor:
    """input ** exponent computed in float64, whatever the dtypes (torch.float_power)."""
    f64 = dtypes.float64
    if any(
        isinstance(x, complex) or getattr(x, "dtype", None) in (dtypes.complex64, dtypes.complex128)
        for x in (input, exponent)
    ):
        f64 = dtypes.complex128  # in double precision, complex if either is
    number = complex if f64 is dtypes.complex128 else float
    input = input.to(f64) if isinstance(input, Tensor) else number(input)
    exponent = exponent.to(f64) if isinstance(exponent, Tensor) else number(exponent)
    if not isinstance(input, Tensor):
        input = Tensor(_meta.asarray(input))
    return pow(input, exponent)


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """0 where input < 0, 1 where input > 0, and values where input == 0 (torch.heaviside).
    It has no gradient: a result of inputs that require grad requires grad too, as in
    PyTorch, and a backward through it raises."""
    dtypes.refuse_complex('"heaviside_cpu"', input, values)
    values = _tensor_of(values)
    if input._data.dtype != values._data.dtype:
        raise RuntimeError(
            f"heaviside is not yet implemented for tensors with different dtypes "
            f"(input {input.dtype}, values {values.dtype})"
        )
    try:
        return sp.Heaviside.apply(input, values)
    except ValueError:
        _check_broadcast(input, values, "heaviside")
        raise


# ---- interpolation and fused multiply-add ------------------------------------------------------


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """input + weight * (end - input); weight is a number or a tensor (torch.lerp). Complex
    tensors (and weights) too: the formula is ops that take them."""
    end = _tensor_of(end)
    if input._data.dtype.kind not in "fcV":
        raise NotImplementedError(f'"lerp_kernel" not implemented for {input.dtype} (lerp needs floats)')
    if end._data.dtype != input._data.dtype:
        raise RuntimeError(f"lerp: expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    if isinstance(weight, Tensor) and weight._data.dtype != input._data.dtype and weight.ndim:
        raise RuntimeError(f"lerp: expected dtype {input.dtype} for `weight` but got dtype {weight.dtype}")
    if isinstance(weight, Tensor):
        weight = weight.to(input.dtype)
    _check_all_broadcast("lerp", input, end, weight)
    if weight.__class__ is float or weight.__class__ is int:  # saved as a number, as PyTorch's
        return input + apply_one(ew.MulScalar, end - input, weight)
    return input + weight * (end - input)


def _check_all_broadcast(op: str, *xs: Any) -> None:
    shapes = [x._data.shape for x in xs if isinstance(x, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(
            f"{op}: the shapes {', '.join(str(list(s)) for s in shapes)} cannot be broadcast together"
        ) from None


def addcmul(
    input: Tensor, tensor1: Tensor, tensor2: Tensor, deprecated_tensor2: Any = arith.ABSENT, *, value: Any = 1
) -> Tensor:
    """input + value * tensor1 * tensor2 (torch.addcmul); `addcmul(input, value, tensor1,
    tensor2)`, deprecated, works too."""
    if deprecated_tensor2 is not arith.ABSENT:
        value = arith.alpha_first(
            "addcmul", tensor1, tensor2, "Tensor tensor1, Tensor tensor2", keyword=value
        )
        tensor1, tensor2 = tensor2, deprecated_tensor2
    _check_all_broadcast("addcmul", input, tensor1, tensor2)
    product = mul(tensor1, tensor2)
    if value != 1:
        product = product * value
    return add(input, product)


def addcdiv(
    input: Tensor, tensor1: Tensor, tensor2: Tensor, deprecated_tensor2: Any = arith.ABSENT, *, value: Any = 1
) -> Tensor:
    """input + value * tensor1 / tensor2 (torch.addcdiv); integer tensor1 and tensor2 are refused.
    `addcdiv(input, value, tensor1, tensor2)`, deprecated, works too."""
    if deprecated_tensor2 is not arith.ABSENT:
        value = arith.alpha_first(
            "addcdiv", tensor1, tensor2, "Tensor tensor1, Tensor tensor2", keyword=value
        )
        tensor1, tensor2 = tensor2, deprecated_tensor2
    t1, t2 = _tensor_of(tensor1), _tensor_of(tensor2)
    if t1._data.dtype.kind not in "fcV" and t2._data.dtype.kind not in "fcV":
        raise RuntimeError(
            "addcdiv: integer division is not supported: tensor1 and tensor2 are "
            f"{t1.dtype} and {t2.dtype}; use input + value * tensor1 / tensor2"
        )
    _check_all_broadcast("addcdiv", input, t1, t2)
    quotient = div(tensor1, tensor2)
    if value != 1:
        quotient = quotient * value
    return add(input, quotient)


# ---- in-place forms ------------------------------------------------------------------------------


def _write_back(input: Tensor, name: str, compute: Any, *others: Any) -> Tensor:
    """The in-place form of `compute(input, *others)`, refusing a result that input cannot
    hold (another shape, or a dtype it cannot be cast to)."""

    def checked(x: Tensor) -> Tensor:
        result = compute(x, *others)
        _check_fits(input, result, name)
        return result

    try:
        return _write_inplace(input, others, checked)
    except SparseUnsupportedError:  # a sparse tensor (see ember/sparse/_functions.py)
        return sparse_form(name, (input, *others))


def trunc_(input: Tensor) -> Tensor:
    return _write_back(input, "trunc_", trunc)


fix_ = trunc_


def frac_(input: Tensor) -> Tensor:
    return _write_back(input, "frac_", frac)


def nan_to_num_(
    input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    return _write_back(input, "nan_to_num_", nan_to_num, nan, posinf, neginf)


def _binary_inplace(out_of_place: Any, name: str) -> Any:
    """x.fmod_(y) and its kin: the out-of-place op, written back into x (checked)."""

    def op(input: Tensor, other: Any) -> Tensor:
        return _write_back(input, name, out_of_place, other)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In-place {name[:-1]} (torch.Tensor.{name}); a tensor operand gets its gradient."
    return op


fmod_ = _binary_inplace(fmod, "fmod_")
floor_divide_ = _binary_inplace(arith.floor_divide, "floor_divide_")
remainder_ = _binary_inplace(arith.remainder, "remainder_")
pow_ = _binary_inplace(arith.pow, "pow_")
bitwise_and_ = _binary_inplace(arith.bitwise_and, "bitwise_and_")
bitwise_or_ = _binary_inplace(arith.bitwise_or, "bitwise_or_")
bitwise_xor_ = _binary_inplace(arith.bitwise_xor, "bitwise_xor_")
atan2_ = _binary_inplace(atan2, "atan2_")
arctan2_ = atan2_


def lerp_(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    return _write_back(input, "lerp_", lerp, end, weight)


def addcmul_(
    input: Tensor, tensor1: Tensor, tensor2: Tensor, deprecated_tensor2: Any = arith.ABSENT, *, value: Any = 1
) -> Tensor:
    if deprecated_tensor2 is not arith.ABSENT:  # addcmul_(value, tensor1, tensor2), as in old optimizers
        value = arith.alpha_first(
            "addcmul_", tensor1, tensor2, "Tensor tensor1, Tensor tensor2", keyword=value
        )
        tensor1, tensor2 = tensor2, deprecated_tensor2
    return _write_back(input, "addcmul_", lambda x, a, b: addcmul(x, a, b, value=value), tensor1, tensor2)


def addcdiv_(
    input: Tensor, tensor1: Tensor, tensor2: Tensor, deprecated_tensor2: Any = arith.ABSENT, *, value: Any = 1
) -> Tensor:
    if deprecated_tensor2 is not arith.ABSENT:
        value = arith.alpha_first(
            "addcdiv_", tensor1, tensor2, "Tensor tensor1, Tensor tensor2", keyword=value
        )
        tensor1, tensor2 = tensor2, deprecated_tensor2
    return _write_back(input, "addcdiv_", lambda x, a, b: addcdiv(x, a, b, value=value), tensor1, tensor2)
