"""Elementwise ops: arithmetic, math functions, activations, comparisons.

Each class is one node kind; its backward sits under its forward and returns one gradient
per input, in the broadcast shape: the engine sums it back to each input's shape. Inputs
may be Python scalars (they stay scalars: `x * 2` builds no tensor around the 2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.autograd.function import Function
from ember.autograd.saved import constant, field, field_tensor, saved_input, saved_number, saved_output
from ember.ops import _dual


class Op(Function):
    """Base of ember's built-in ops: forward and backward work on NumPy arrays."""

    raw = True


def row_major(a: np.ndarray) -> np.ndarray:
    """a, copied to row-major order if it is not in it. PyTorch gives the results of its ops
    that are not elementwise (softmax, cat, tril, an advanced index, ...) that layout whatever
    the input's, so that .view() of them works; NumPy keeps a transposed input's layout.
    (np.ascontiguousarray alone would make a 0-d array 1-d.)"""
    return a if a.flags.c_contiguous else a.copy()  # a meta array copies as one (ember/_meta.py)


# What an Elementwise op's backward reads: nothing, its first input, its output, or (Mul)
# each factor that the other factor's gradient needs.
NOTHING, INPUT, OUTPUT, FACTORS = "nothing", "input", "output", "factors"


class Elementwise(Op):
    """An op whose forward is one NumPy ufunc, `ufunc`, and whose backward reads what
    `saves` names.

    Declared rather than written out, because the operators record these ops without
    calling forward at all: `x * y`, `x + 0.1` and `x.exp()` are the commonest calls of a
    training loop on small tensors, and there the Python calls between the operator and
    NumPy cost more than NumPy's work (see ops/fastpath.py). This forward serves
    everything else: views, dtype promotion, `Mul.apply(...)`.
    """

    ufunc: Any = None
    saves = NOTHING

    @staticmethod
    def forward(ctx, *inputs):
        y = ctx.ufunc(*inputs)
        saves = ctx.saves
        if saves is OUTPUT:
            ctx.save_for_backward(y)
        elif saves is INPUT:
            ctx.save_for_backward(inputs[0])
        elif saves is FACTORS:
            # Keep each factor only if the other one needs a gradient, as PyTorch's
            # MulBackward0 does: a value kept but never used would make an in-place change
            # to it raise for nothing (`y[0] = y[0] * 2`). ctx._edges is () when nothing is
            # recorded.
            a, b = inputs
            da, db = ctx._edges or inputs
            if db is None:
                ctx.save_for_backward(b)
            elif da is None:
                ctx.save_for_backward(a)
            else:
                ctx.save_for_backward(a, b)
        return y


# ---- arithmetic ---------------------------------------------------------------------


class Add(Elementwise):
    ufunc, saves = np.add, NOTHING
    saved_attributes = {"alpha": constant(1)}

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Elementwise):
    ufunc, saves = np.subtract, NOTHING
    saved_attributes = {"alpha": constant(1)}

    @staticmethod
    def backward(ctx, grad):
        return grad, (None if ctx._edges[1] is None else -grad)


class Mul(Elementwise):
    ufunc, saves = np.multiply, FACTORS
    saved_attributes = {"self": saved_input(0), "other": saved_input(1)}

    @staticmethod
    def backward(ctx, grad):
        da, db = ctx._edges
        if db is None:
            (b,) = ctx.saved_tensors
            return grad * b, None
        if da is None:
            (a,) = ctx.saved_tensors
            return None, grad * a
        a, b = ctx.saved_tensors
        return grad * b, grad * a


class MulScalar(Op):
    """x * c for a Python number c, where PyTorch's own code multiplies by a Scalar
    (trapezoid's widths, lerp's weight, deg2rad): its MulBackward1 keeps c as a number, not
    a saved tensor, so a second backward through a freed graph runs again, as there. (`x * 2`
    is mul's tensor form, MulBackward0, which saves the wrapped 2 and raises.) For float x."""

    saved_attributes = {"other": field("c")}

    def name(self) -> str:
        return "MulBackward1"

    @staticmethod
    def forward(ctx, x, c):
        ctx.c = c
        return x * c  # a Python number keeps x's dtype

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.c


class Deg2Rad(MulScalar):
    """deg2rad and rad2deg of a float tensor, a product with pi / 180 or 180 / pi:
    PyTorch's Deg2RadBackward0 and Rad2DegBackward0, which save nothing."""

    saved_attributes: dict = {}

    def name(self) -> str:
        return "Deg2RadBackward0" if self.c < 1 else "Rad2DegBackward0"


class Div(Op):
    saved_attributes = {"self": saved_input(0), "other": saved_input(1)}

    @staticmethod
    def forward(ctx, a, b):
        if ctx._edges and ctx._edges[1] is None:  # b's gradient alone needs a (Mul's rule)
            ctx.save_for_backward(b)
        else:
            ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        da, db = ctx._edges
        if db is None:
            (b,) = ctx.saved_tensors
            return grad / b, None
        a, b = ctx.saved_tensors
        # d(a/b)/db = -a / b², taken as (a / b) / b: b * b overflows (or underflows to 0)
        # in float32 for |b| beyond about 1e19 (or below 1e-19) where the quotient does not
        return (grad / b if da is not None else None), -grad * (a / b / b)


class Neg(Elementwise):
    ufunc, saves = np.negative, NOTHING

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Rsub(Op):
    """c - x for a Python number c (`1 - x`): one input, as PyTorch's RsubBackward1 lists,
    where Sub would list the number as a second input."""

    saved_attributes = {"alpha": constant(1)}

    def name(self) -> str:
        return "RsubBackward1"

    @staticmethod
    def forward(ctx, x, c):
        return np.subtract(c, x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


def scalar_power(x: np.ndarray, p: Any) -> np.ndarray:
    """x ** p for a float array x and a Python-number exponent p, as PyTorch's CPU kernel
    computes it: exponents 3, -2 and -0.5 as x * x * x, 1 / (x * x) and 1 / sqrt(x) (to the
    bit PyTorch's), other whole exponents as |x| ** p with the sign put back for odd p.
    NumPy's power of a negative base takes the C library's slow path, about 100 times
    slower than a positive one (3 ms for 16 000 float32 elements), and a float32 base is
    raised in float64, then rounded: that agrees with PyTorch's results to the bit about
    98 % of the time, against 89 % for NumPy's float32 power (all within one ulp). A float64
    negative base gives up the C library's correctly rounded power for NumPy's vectorized
    one (AVX-512 machines): about 5 % of those results move by an ulp, and agree with
    PyTorch's 94 % of the time rather than 96 %, for a 30 times faster power."""
    if p == 2 or x.dtype.char not in "fd" or p.__class__ not in (int, float):
        return x**p
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if p == 3:
            return x * x * x
        if p == -2:
            return 1 / (x * x)
        if p == -0.5:
            return 1 / np.sqrt(x)
        if not float(p).is_integer():
            return x**p
        a = np.abs(x)
        y = (a.astype(np.float64) ** p).astype(np.float32) if x.dtype.char == "f" else a**p
        # the parity of p as raised: an int past 2 ** 53 is the float it rounds to, as in PyTorch
        return np.copysign(y, x) if float(p) % 2 else y  # not out=y: a 0-d x gives a NumPy scalar


class Pow(Op):
    """x ** p for a Python-number exponent p."""

    saved_attributes = {"self": saved_input(0), "exponent": field("p")}

    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        return scalar_power(x, p)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.p
        if p == 2:  # x + x is 2 * x exactly, without NumPy converting a Python 2
            return grad * (x + x), None
        if p == 0:  # x ** 0 is 1 everywhere: 0, not 0 * x ** -1 = NaN at x = 0 (as PyTorch)
            return _dual.zeros_like(grad), None
        # grad * (p * x ** (p - 1)), multiplied in PyTorch's order (pow_backward): the same bits
        if x.__class__ is np.ndarray:
            return grad * (p * scalar_power(x, p - 1)), None
        return grad * (p * x ** (p - 1)), None


class PowTensor(Op):
    """a ** b where the exponent is a tensor."""

    saved_attributes = {"self": saved_input(0), "exponent": saved_input(1), "result": saved_output()}

    def name(self) -> str:
        return "PowBackward1"

    @staticmethod
    def forward(ctx, a, b):
        y = _integer_power(a, b) if b.dtype.kind == "i" and a.dtype.kind in "iu" else a**b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        da, db = ctx._edges
        av, bv = _dual.value(a), _dual.value(b)
        ga = gb = None
        if da is not None:  # 0 where b == 0, even at a == 0 (where a ** (b - 1) is inf)
            with np.errstate(divide="ignore", invalid="ignore"):
                ga = _dual.where(bv == 0, 0.0, grad * b * a ** (b - 1))
        if db is not None:
            # d(a^b)/db = a^b log a; PyTorch defines it as 0 where a == 0 and b >= 0
            zero = (av == 0) & (bv >= 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = _dual.unary("log", _dual.where(zero, 1.0, a))
                gb = _dual.where(zero, 0.0, grad * y * log_a)
        return ga, gb


class PowScalarBase(PowTensor):
    """c ** x for a Python number c (`2 ** x`): PowTensor with the base made a 0-d array, listed
    in next_functions as PyTorch's PowBackward2 lists it, the exponent only."""

    _not_tensor_inputs = (0,)
    saved_attributes = {"self": saved_number(0), "exponent": saved_input(1), "result": saved_output()}

    def name(self) -> str:
        return "PowBackward2"


def _integer_power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ** b in integers, where NumPy refuses a negative b: as in PyTorch, a ** b = 1 / a ** -b
    truncated, which is 0 unless a is 1 or -1."""
    negative = b < 0
    if not negative.any():
        return a**b
    y = a ** np.abs(b)
    return np.where(negative & (np.abs(a) != 1), 0, y).astype(y.dtype, copy=False)


def _check_divisor(a: Any, b: Any) -> None:
    """An integer division by zero raises in PyTorch (NumPy gives 0 with a warning); an
    empty result divides nothing."""
    if np.result_type(a, b).kind in "iub" and np.size(a) and np.size(b) and not np.all(b):
        raise RuntimeError("ZeroDivisionError")


class FloorDivide(Op):
    """a // b; its gradient is zero almost everywhere, so nothing flows back."""

    @staticmethod
    def forward(ctx, a, b):
        _check_divisor(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        return None, None


class DivFloor(FloorDivide):
    """div(a, b, rounding_mode='floor'): a // b, exact for integers (which stay integers).
    Unlike floor_divide, which PyTorch does not differentiate, its gradient is zero for both
    inputs, as in PyTorch."""

    @staticmethod
    def backward(ctx, grad):
        return _dual.zeros_like(grad), _dual.zeros_like(grad)


class DivTrunc(DivFloor):
    """div(a, b, rounding_mode='trunc'): a / b rounded toward zero."""

    @staticmethod
    def forward(ctx, a, b):
        _check_divisor(a, b)
        if np.result_type(a, b).kind in "fV":
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.asanyarray(np.trunc(a / b))
        return np.asanyarray(truncated_quotient(a, b))


def truncated_quotient(a: Any, b: Any) -> Any:
    """a / b for integers, rounded toward zero as C divides (-5 / 2 is -2), not down as
    NumPy's floor_divide (-3)."""
    q = np.floor_divide(a, b)
    # rounded down instead of toward zero where the quotient is negative and inexact
    return q + ((q < 0) & (q * b != a))


class Remainder(Op):
    """a % b with the sign of b (Python's and PyTorch's convention). A zero remainder of
    floats has a's sign, as PyTorch computes it from fmod (NumPy gives it b's)."""

    @staticmethod
    def forward(ctx, a, b):
        _check_divisor(a, b)
        if (ctx._edges or (None, None))[1] is not None:  # only b's gradient reads them, as in
            ctx.save_for_backward(a, b)  # PyTorch: else changing a in place after is fine
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.remainder(a, b)
        if y.dtype.kind in "fV":
            y = np.where(y == 0, np.copysign(y, a), y)
        return y

    @staticmethod
    def backward(ctx, grad):
        da, db = ctx._edges
        if db is None:
            return (grad if da is not None else None), None
        a, b = ctx.saved_tensors
        # a % b = a - floor(a / b) * b
        return (grad if da is not None else None), -grad * (a // b)


# ---- math functions -----------------------------------------------------------------


class Exp(Elementwise):
    ufunc, saves = np.exp, OUTPUT
    saved_attributes = {"result": saved_output()}

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Expm1(Elementwise):
    ufunc, saves = np.expm1, OUTPUT
    saved_attributes = {"result": saved_output()}

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y + 1)


class Log(Elementwise):
    ufunc, saves = np.log, INPUT
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Log1P(Elementwise):
    ufunc, saves = np.log1p, INPUT
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1)


class Sqrt(Elementwise):
    ufunc, saves = np.sqrt, OUTPUT
    saved_attributes = {"result": saved_output()}

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y)


class Rsqrt(Op):
    saved_attributes = {"result": saved_output()}

    @staticmethod
    def forward(ctx, x):
        y = 1 / np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * -0.5 * y * y * y


class Reciprocal(Op):
    saved_attributes = {"result": saved_output()}

    @staticmethod
    def forward(ctx, x):
        y = 1 / x
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return -grad * (y * y)  # PyTorch's grouping, so that the float32 results are its own


class Abs(Elementwise):
    ufunc, saves = np.absolute, INPUT
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _dual.sign(x)  # 0 at NaN, as in PyTorch


class Sign(Op):
    @staticmethod
    def forward(ctx, x):
        return _dual.sign(x)  # sign(nan) is 0 in PyTorch, nan in NumPy

    @staticmethod
    def backward(ctx, grad):
        return _dual.zeros_like(grad)


class Sgn(Sign):
    """sgn() of a real tensor: sign's values and zero gradient, but PyTorch's SgnBackward0
    saves the input and the result (its formula serves complex inputs too), so a second
    backward through a freed graph raises, as there."""

    saved_attributes = {"self": saved_input(0), "result": saved_output(0)}

    @staticmethod
    def forward(ctx, x):
        out = _dual.sign(x)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        ctx.saved_tensors  # noqa: B018 - raises once the graph is freed
        return _dual.zeros_like(grad)


class Floor(Op):
    """floor, ceil: piecewise constant, so the gradient is zero (as in PyTorch, even where the
    incoming gradient is inf or NaN)."""

    @staticmethod
    def forward(ctx, x):
        return np.floor(x)

    @staticmethod
    def backward(ctx, grad):
        return _dual.zeros_like(grad)


class Ceil(Floor):
    @staticmethod
    def forward(ctx, x):
        return np.ceil(x)


class Round(Op):
    @staticmethod
    def forward(ctx, x, decimals):
        return np.round(x, decimals)

    @staticmethod
    def backward(ctx, grad):
        return _dual.zeros_like(grad), None


class Sin(Elementwise):
    ufunc, saves = np.sin, INPUT
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _dual.unary("cos", x)


class Cos(Elementwise):
    ufunc, saves = np.cos, INPUT
    saved_attributes = {"self": saved_input(0)}

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * _dual.unary("sin", x)


class Tanh(Elementwise):
    ufunc, saves = np.tanh, OUTPUT
    saved_attributes = {"result": saved_output()}

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) of an array without overflow: exp only ever sees -|x|. A complex x
    has no sign to split on, and takes the plain formula."""
    if x.dtype.kind == "c":
        return 1 / (1 + np.exp(-x))
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Sigmoid(Op):
    saved_attributes = {"result": saved_output()}

    @staticmethod
    def forward(ctx, x):
        y = sigmoid_array(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class Relu(Op):
    saved_attributes = {"result": saved_output()}

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # y is positive, 0 or NaN: the gradient passes wherever y is not 0 (at a NaN too, as
        # in PyTorch); y is PyTorch's second input to the backward node, hence source=y
        return _dual.keep(grad, y != 0, y)


class Clamp(Op):
    """clamp(x, min, max) with scalar bounds; the gradient passes where x is inside."""

    saved_attributes = {"self": saved_input(0), "min": field("lo"), "max": field("hi")}

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        # NumPy returns its second argument at a tie: x, as PyTorch does (-0.0 clamped to
        # min=0 stays -0.0), where np.clip may return the bound
        y = x if lo is None else np.maximum(lo, x)
        return y if hi is None else np.minimum(hi, y)

    @staticmethod
    def backward(ctx, grad):
        x = _dual.value(ctx.saved_tensors[0])
        inside = True
        if ctx.lo is not None:
            inside = x >= ctx.lo
        if ctx.hi is not None:
            inside = (x <= ctx.hi) & inside
        return _dual.keep(grad, inside), None, None

    def name(self) -> str:
        return "ClampBackward1"  # PyTorch's node for number bounds (ClampBackward0 takes tensors)


class ClampMin(Clamp):
    """clamp_min(x, min): Clamp without an upper bound, as PyTorch's node of that name."""

    saved_attributes = {"self": saved_input(0), "min": field("lo")}
    name = Op.name


class ClampMax(Clamp):
    """clamp_max(x, max): Clamp without a lower bound, as PyTorch's node of that name."""

    saved_attributes = {"self": saved_input(0), "max": field("hi")}
    name = Op.name


class ClampByTensors(Op):
    """clamp(x, min, max) with tensor bounds (one may be None), all of one dtype: PyTorch's
    ClampBackward0. x gets the gradient where min <= x <= max (a tie stays with x, where
    maximum and minimum would split it), min where x < min < max, max where x > max or
    max < min (the result is then max); none of them where the result is NaN."""

    saved_attributes = {"self": saved_input(0), "min": saved_input(1), "max": saved_input(2)}

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        return _clamped(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        return _clamp_grads(grad, *ctx.saved_tensors)

    def name(self) -> str:
        return "ClampBackward0"


class ClampMinByTensor(ClampByTensors):
    """clamp_min(x, min) with a tensor min (ClampMinBackward1)."""

    saved_attributes = {"self": saved_input(0), "min": saved_input(1)}

    @staticmethod
    def forward(ctx, x, lo):
        ctx.save_for_backward(x, lo)
        return _clamped(x, lo, None)

    @staticmethod
    def backward(ctx, grad):
        return _clamp_grads(grad, *ctx.saved_tensors, None)[:2]

    def name(self) -> str:
        return "ClampMinBackward1"


class ClampMaxByTensor(ClampByTensors):
    """clamp_max(x, max) with a tensor max (ClampMaxBackward1)."""

    saved_attributes = {"self": saved_input(0), "max": saved_input(1)}

    @staticmethod
    def forward(ctx, x, hi):
        ctx.save_for_backward(x, hi)
        return _clamped(x, None, hi)

    @staticmethod
    def backward(ctx, grad):
        x, hi = ctx.saved_tensors
        grads = _clamp_grads(grad, x, None, hi)
        return grads[0], grads[2]

    def name(self) -> str:
        return "ClampMaxBackward1"


def _clamped(x: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    """x raised to lo and lowered to hi (either None), broadcast; NaN in any gives NaN. x
    is NumPy's second argument, which it returns at a tie, as PyTorch returns x."""
    y = x if lo is None else np.maximum(lo, x)
    return y if hi is None else np.minimum(hi, y)


def _clamp_grads(grad: Any, x: Any, lo: Any, hi: Any) -> tuple:
    """The gradients of x, lo and hi (None for an absent bound) of a clamp by tensors, in
    the broadcast shape (the engine sums each back to its input's)."""
    x, lo, hi = (None if t is None else _dual.value(t) for t in (x, lo, hi))
    if hi is None:
        return _dual.keep(grad, x >= lo), _dual.keep(grad, x < lo), None
    if lo is None:
        return _dual.keep(grad, x <= hi), None, _dual.keep(grad, x > hi)
    with np.errstate(invalid="ignore"):
        over = ((x > hi) | (hi < lo)) & ~np.isnan(_clamped(x, lo, hi))
    return (
        _dual.keep(grad, (x >= lo) & (x <= hi)),
        _dual.keep(grad, (x < lo) & (lo < hi)),
        _dual.keep(grad, over),
    )


class Maximum(Op):
    saved_attributes = {"self": saved_input(0), "other": saved_input(1)}

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(b, a)  # at a tie NumPy returns its second argument, PyTorch a (0.0 or -0.0)

    @staticmethod
    def backward(ctx, grad):
        a, b = map(_dual.value, ctx.saved_tensors)
        # all of the gradient to each input unless it is the smaller one (so to both where
        # either is NaN), half of it at a tie: PyTorch's rule
        half = (a == b) * 0.5
        return _dual.keep(grad, 1 - (a < b) - half), _dual.keep(grad, 1 - (b < a) - half)


class Minimum(Op):
    saved_attributes = {"self": saved_input(0), "other": saved_input(1)}

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(b, a)  # a at a tie, as in Maximum

    @staticmethod
    def backward(ctx, grad):
        a, b = map(_dual.value, ctx.saved_tensors)
        half = (a == b) * 0.5
        return _dual.keep(grad, 1 - (a > b) - half), _dual.keep(grad, 1 - (b > a) - half)


class Where(Op):
    _intermediates = ("cond",)
    _not_tensor_inputs = (0,)  # next_functions leaves out the condition, as PyTorch's lists
    saved_attributes = {"condition": field_tensor("cond")}

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        cond = ctx.cond
        _, da, db = ctx._edges
        return (
            None,
            _dual.where(cond, grad, 0.0) if da is not None else None,
            _dual.where(cond, 0.0, grad) if db is not None else None,
        )


class Copy(Where):
    """copy_ recorded, out of place: a where() whose condition never holds (x's gradient 0,
    value's the gradient, summed over its copies and cast to its dtype by the engine), in
    x's dtype, named as PyTorch's node. That node saves no tensor, so backward may run
    again: the condition (a broadcast False, no memory) is not freed with the graph."""

    _intermediates = ()

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        out = np.where(cond, a, b)
        return out if out.dtype == a.dtype else out.astype(a.dtype)

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"


class Fill(Copy):
    """fill_ with a 0-d tensor recorded (see Copy), named as PyTorch's node."""

    def name(self) -> str:
        return "FillBackward3"


class FillNumber(Copy):
    """fill_ with a number recorded (see Copy): PyTorch's node lists x alone."""

    _not_tensor_inputs = (0, 2)

    def name(self) -> str:
        return "FillBackward2"


class Keep(Op):
    """`_dual.keep` recorded, for backward formulas under create_graph: grad where mask holds
    (times mask, if it holds weights), 0 elsewhere. `source`, when not None, is an input with
    derivative 0 (see `_dual.keep`)."""

    _intermediates = ("mask",)

    @staticmethod
    def forward(ctx, grad, mask, source):
        ctx.mask = mask
        if source is not None:
            ctx.source_like = (source.shape, source.dtype)
        return np.where(mask, grad * mask, 0).astype(grad.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        source = None if ctx._edges[2] is None else np.zeros(*ctx.source_like)
        return _dual.keep(grad, ctx.mask), None, source


def where(condition: Any, input: Any, other: Any) -> Any:
    """Elements of input where condition holds, else of other (torch.where)."""
    from ember._tensor import Tensor

    # a copy: the node keeps the condition for backward, and a condition tensor changed in
    # place before backward would otherwise change the gradient silently (PyTorch raises)
    # (copy(order="K") as np.array copies, but a meta condition stays meta: np.array made it
    # CPU zeros, and where(meta_cond, 1.0, 2.0) a CPU tensor of 2.0s)
    cond = condition._data.copy(order="K") if isinstance(condition, Tensor) else np.array(condition)
    # a number beside a bfloat16 tensor becomes a bfloat16 0-d array: NumPy's where makes
    # float64 of a bfloat16 array and a Python float (for the public where, the internal
    # callers and _dual.where alike)
    if isinstance(input, Tensor) and not isinstance(other, Tensor) and input._data.dtype.kind == "V":
        other = np.asarray(other, input._data.dtype)
    elif isinstance(other, Tensor) and not isinstance(input, Tensor) and other._data.dtype.kind == "V":
        input = np.asarray(input, other._data.dtype)
    return Where.apply(cond, input, other)
