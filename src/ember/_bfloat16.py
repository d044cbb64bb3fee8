"""bfloat16 tensors computed as PyTorch's CPU kernels compute them: in float32, rounded once.

A bfloat16 tensor stores an array of ml_dtypes' bfloat16 NumPy dtype. ml_dtypes' ufuncs
already compute each element in float32 and round the result, which is what PyTorch does
for one elementwise operation. An ember op is often several NumPy calls (sigmoid,
softmax, layer_norm), a reduction (whose sum NumPy would accumulate in bfloat16) or a
product (matmul, conv); run on bfloat16 arrays it would round after every step. So, once
the first bfloat16 tensor is made (`dtypes.enable_bfloat16`), `install` wraps the forward
of every built-in op: a bfloat16 array argument is widened to float32, the op runs as it
does for float32, and a float32 result is rounded to bfloat16 once, unless a float32 or
wider operand, or an explicit dtype argument, says the result is float32 (PyTorch's
promotion). Ops that move elements without computing (views, reshapes, indexing, `cat`,
conversions) keep their arrays as they are, since a widened copy would break views.

The node of an op that widened its inputs keeps the bfloat16 arrays as saved values (so the
in-place checks and double backward know them) and gets its own `backward` that widens the
incoming gradient and the saved values to float32; the engine rounds the input gradients
to bfloat16, as it casts every gradient to its input's dtype.

Before the first bfloat16 tensor none of this exists: the float32 ops run their own forward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_FLOAT32 = np.dtype(np.float32)
_BF16: list = [None]
# True while a CPU autocast region to bfloat16 is on (amp/autocast_mode.py keeps it in step)
autocast: list = [False]
# The ops PyTorch's CPU autocast runs in bfloat16 (its lower_precision_fp list: products,
# convolutions, linear, prelu) and those it runs in float32 (its fp32 list: losses, cdist,
# prod, grid_sample), by their ember classes
_AUTOCAST_LOWER = frozenset({"Linear", "Matmul", "Mm", "Bmm", "Dot", "Convolution", "ConvTranspose", "Prelu"})
_AUTOCAST_FLOAT32 = frozenset(
    {
        "CrossEntropy",
        "IndexCrossEntropy",
        "NllLoss",
        "IndexNllLoss",
        "MseLoss",
        "BinaryCrossEntropy",
        "BinaryCrossEntropyWithLogits",
        "CTCLoss",
        "Cdist",
        "Prod",
        "ProdOfScalar",
        "GridSample",
    }
)

# Ops that move or reinterpret elements rather than compute them: run on bfloat16 as they are
_AS_THEY_ARE_MODULES = (
    "ember.ops.shape",
    "ember.ops.padding",
    "ember.ops.complex",
    "ember.ops.api.convert",
    "ember.nn._hooks",
    "ember.sparse._tensor",
)
# (and Nextafter, whose step is one bfloat16 unit: in float32 the rounding would undo it)
_AS_THEY_ARE_NAMES = frozenset({"Copy", "Fill", "FillNumber", "Keep", "Where", "Nextafter"})
# Arithmetic whose number operand PyTorch first makes a bfloat16 (x + 0.1 adds 0.10009765625;
# x * 0.1 multiplies by 0.1 as a float32)
_ROUNDS_NUMBERS = frozenset({"Add", "Sub", "Rsub", "Remainder", "Fmod"})  # not Mul, Div: kept as floats


def install(np_dtype: np.dtype) -> None:
    """Wrap the forward of every built-in op class, those defined now and those defined
    later (lazily imported modules), to compute bfloat16 in float32."""
    from ember.autograd import function

    _BF16[0] = np_dtype
    stack = [function.Function]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        _wrap_class(cls)
    function.subclass_hooks.append(_wrap_class)


def _wrap_class(cls: Any) -> None:
    forward = cls.__dict__.get("forward")
    if (
        not cls.raw
        or forward is None
        or getattr(forward, "_bfloat16_wrapped", False)
        or cls.__module__.startswith("ember.autograd")
        or cls.__module__ in _AS_THEY_ARE_MODULES
        or cls.__name__ in _AS_THEY_ARE_NAMES
    ):
        return
    function = forward.__func__ if isinstance(forward, staticmethod) else forward
    cls.forward = staticmethod(_in_float32(function))


def _widen(a: Any, bf16: np.dtype) -> Any:
    if a.__class__ is np.ndarray and a.dtype is bf16:
        return a.astype(_FLOAT32)
    if a is bf16:  # the dtype an op is told to compute in
        return _FLOAT32
    if a.__class__ is list or a.__class__ is tuple:
        if any(x.__class__ is np.ndarray and x.dtype is bf16 for x in a):
            return a.__class__([_widen(x, bf16) for x in a])
    return a


def _has_bf16(a: Any, bf16: np.dtype) -> bool:
    if a.__class__ is np.ndarray:
        return a.dtype is bf16
    if a.__class__ is list or a.__class__ is tuple:
        return any(x.__class__ is np.ndarray and x.dtype is bf16 for x in a)
    return False


def _any_bf16(args: Any, bf16: np.dtype) -> bool:
    """Whether an argument is a bfloat16 array (or a list or tuple holding one): a loop
    rather than any() over a generator, since every op runs it once bfloat16 is in use."""
    for a in args:
        kind = a.__class__
        if kind is np.ndarray:
            if a.dtype is bf16:
                return True
        elif (kind is list or kind is tuple) and _has_bf16(a, bf16):
            return True
    return False


def _keeps_float32(args: tuple, kwargs: dict, bf16: np.dtype) -> bool:
    """Whether a result of these arguments is float32 in PyTorch: a float32 or wider
    floating operand, or a dtype asked for explicitly."""
    for a in (*args, *kwargs.values()):
        if a.__class__ is np.ndarray and a.ndim:  # 0-d arrays stand for numbers: weak
            if a.dtype is not bf16 and a.dtype.kind in "fc" and a.dtype.itemsize >= 4:
                return True
        elif isinstance(a, np.dtype) and a == _FLOAT32:  # asked for explicitly
            return True
        elif a.__class__ is list or a.__class__ is tuple:
            for x in a:
                if (
                    x.__class__ is np.ndarray
                    and x.dtype is not bf16
                    and x.dtype.kind in "fc"
                    and x.dtype.itemsize >= 4
                ):
                    return True
    return False


def _narrow(out: Any, bf16: np.dtype) -> Any:
    if out.__class__ is np.ndarray or isinstance(out, np.generic):
        return out.astype(bf16) if out.dtype == _FLOAT32 else out
    if out.__class__ is tuple or out.__class__ is list:
        return out.__class__([_narrow(o, bf16) for o in out])
    return out


def _rounded(a: Any, bf16: np.dtype) -> Any:
    """A number operand of arithmetic, rounded to bfloat16 as PyTorch converts it."""
    if a.__class__ is float or (a.__class__ is np.ndarray and a.ndim == 0 and a.dtype.kind == "f"):
        return _FLOAT32.type(np.asarray(a, _FLOAT32).astype(bf16))
    return a


def _in_float32(forward: Any) -> Any:
    def run(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        bf16 = _BF16[0]
        if autocast[0]:
            name = ctx.__class__.__name__
            if name in _AUTOCAST_LOWER:  # float32 operands made bfloat16, as autocast casts them
                args = tuple([_lowered(a, bf16) for a in args])
                ctx._autocast_lowered = True
            elif name in _AUTOCAST_FLOAT32:  # computed in float32, the result left float32
                if not _any_bf16(args, bf16):
                    return forward(ctx, *args, **kwargs)
                kwargs = {**kwargs, "_keep_float32": True}
        if not _any_bf16(args, bf16) and not (kwargs and _any_bf16(kwargs.values(), bf16)):
            return forward(ctx, *args, **kwargs)
        if ctx.__class__.__name__ in _ROUNDS_NUMBERS:  # the class, not forward's: Add shares Elementwise's
            args = tuple([_rounded(a, bf16) for a in args])
        keep = kwargs.pop("_keep_float32", False) if kwargs else False
        wide = tuple([_widen(a, bf16) for a in args])
        wide_kwargs = {k: _widen(v, bf16) for k, v in kwargs.items()}
        out = forward(ctx, *wide, **wide_kwargs)
        if ctx.__class__.__name__ == "Pow":
            out = _power(wide[0], args[1], bf16, out)
        result = out if keep or _keeps_float32(args, kwargs, bf16) else _narrow(out, bf16)
        saved = ctx._saved
        if saved:
            # keep the bfloat16 arrays themselves, not their widened copies, and the rounded
            # output (PyTorch's backward of tanh reads the bfloat16 output it returned)
            kept = {id(w): a for w, a in zip(wide, args) if w is not a}
            if result is not out:
                pairs = zip(out, result) if out.__class__ is tuple else ((out, result),)
                kept.update({id(o): r for o, r in pairs})
            ctx._saved = tuple([kept.get(id(s), s) for s in saved])
        if ctx._edges:
            ctx.backward = _pow_backward if ctx.__class__.__name__ == "Pow" else _backward_in_float32
        return result

    run._bfloat16_wrapped = True  # type: ignore[attr-defined]
    run.__wrapped__ = forward  # type: ignore[attr-defined]
    run.__doc__ = forward.__doc__
    return run


def _power(x: np.ndarray, p: Any, bf16: np.dtype, out: np.ndarray) -> np.ndarray:
    """x ** p (x a bfloat16 array widened to float32) before its rounding, as PyTorch's CPU
    kernel computes it for bfloat16: x * x * x and 1 / (x * x) for 3 and -2 multiply in
    bfloat16 (x * x rounded first); 2, 0.5, -0.5 and -1 are one float32 operation (`out`,
    the float32 forward's); any other number is first rounded to bfloat16 (0.3 is
    0.30078125) and raised in float32."""
    from ember.ops.elementwise import scalar_power

    if p.__class__ not in (int, float) or p in (2, 0.5, -0.5, -1):
        return out
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if p == 3:
            return (x * x).astype(bf16).astype(_FLOAT32) * x
        if p == -2:
            return _FLOAT32.type(1) / (x * x).astype(bf16).astype(_FLOAT32)
    rounded = float(np.asarray(p, _FLOAT32).astype(bf16))
    return scalar_power(x, int(rounded) if p.__class__ is int and rounded.is_integer() else rounded)


def _lowered(a: Any, bf16: np.dtype) -> Any:
    """An operand of an op that autocast runs in bfloat16: float32 and float16 arrays cast."""
    if a.__class__ is np.ndarray and a.dtype.kind == "f" and a.dtype.itemsize <= 4:
        return a.astype(bf16)
    if a.__class__ is list or a.__class__ is tuple:
        return a.__class__([_lowered(x, bf16) for x in a])
    return a


def _backward_in_float32(ctx: Any, *grads: Any) -> Any:
    """A node's backward with its bfloat16 gradients and saved arrays widened to float32
    (under create_graph, where they are Tensors, the class's own backward runs as it is)."""
    backward = type(ctx).backward
    if any(g is not None and not isinstance(g, (np.ndarray, np.generic)) for g in grads):
        return backward(ctx, *grads)
    bf16 = _BF16[0]
    saved = ctx._saved
    if saved:
        ctx._saved = tuple([_widen(s, bf16) for s in saved])
    try:
        result = backward(ctx, *[None if g is None else _widen(g, bf16) for g in grads])
        # an autocast op's gradients are bfloat16 ones, then cast to its float32 inputs' dtype
        return _narrow(result, bf16) if ctx.__dict__.get("_autocast_lowered") else result
    finally:
        if ctx._saved is not None:
            ctx._saved = saved


def _pow_backward(ctx: Any, grad: Any) -> Any:
    """Pow's backward for a bfloat16 x, as PyTorch's: grad * (p * x ** (p - 1)), each of the
    three operations rounded to bfloat16 (the power as _power computes it). Under
    create_graph, or for an exponent that is not a number, the float32 backward."""
    p = ctx.p
    if not isinstance(grad, np.ndarray) or p.__class__ not in (int, float) or p == 0:
        return _backward_in_float32(ctx, grad)
    from ember.ops.elementwise import scalar_power

    bf16 = _BF16[0]
    x = _widen(ctx.saved_tensors[0], bf16)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        power = _power(x, p - 1, bf16, scalar_power(x, p - 1)).astype(bf16).astype(_FLOAT32)
        local = (_FLOAT32.type(p) * power).astype(bf16).astype(_FLOAT32)
        return (_widen(grad, bf16) * local).astype(bf16), None


def is_bfloat16(np_dtype: np.dtype) -> bool:
    """Whether np_dtype is ml_dtypes' bfloat16 (False before any bfloat16 tensor exists)."""
    return _BF16[0] is not None and np_dtype == _BF16[0]
