"""Helpers for tests (torch.testing): `assert_close`, `make_tensor` and the deprecated
`assert_allclose`.

`assert_close` compares tensors, NumPy arrays, numbers, and sequences and mappings of them
(recursively), with a tolerance chosen from the dtype unless one is given, and fails with
PyTorch's message: how many elements differ, the greatest absolute and relative
differences and where they are, and the item of a container where the failure occurred.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ember import dtypes
from ember import random as _random
from ember._tensor import Size, Tensor, cpu_only

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

# (rtol, atol) by NumPy dtype name when neither is given; a complex dtype takes its parts'
# tolerances; the integer and bool dtypes compare exactly. By name, so that bfloat16 (from
# ml_dtypes) has its entry without importing ml_dtypes here.
_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}
# what the deprecated assert_allclose uses instead
_ALLCLOSE_TOLERANCES = {
    "float16": (1e-3, 1e-3),
    "float32": (1e-4, 1e-5),
    "float64": (1e-5, 1e-8),
}
# the kinds of NumPy dtype compared with a tolerance: float, complex, and ml_dtypes' bfloat16
_INEXACT = "fcV"


class _Mismatch(Exception):
    """A failed comparison: the exception type to raise, its message, and where it occurred
    (the keys and indices leading to the item, outermost first)."""

    def __init__(self, kind: type, message: str) -> None:
        super().__init__(message)
        self.kind, self.message, self.path = kind, message, []


def _tolerances(rtol: Any, atol: Any, *np_dtypes: np.dtype, table: dict = _TOLERANCES) -> tuple:
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}.")
    if rtol is not None:
        return rtol, atol
    # the loosest of the two dtypes' tolerances (they differ only with check_dtype=False)
    pairs = [table.get(np.dtype(d).name, (0.0, 0.0)) for d in np_dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.number, np.bool_)) and not isinstance(x, np.datetime64)


def _as_number(x: Any) -> Any:
    return x.item() if isinstance(x, (np.number, np.bool_)) else x


def _differences(a: np.ndarray, e: np.ndarray) -> tuple:
    """|a - e| and |a - e| / |e|; integers and bools subtracted as int64, so that they
    cannot wrap around, and their relative difference in float32, as PyTorch computes them."""
    if a.dtype.kind not in _INEXACT:
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_diff = np.abs(a - e)
        rel_diff = abs_diff / np.abs(e)
    if a.dtype.kind not in _INEXACT:
        rel_diff = rel_diff.astype(np.float32)
    return abs_diff, rel_diff


def _matches(a: np.ndarray, e: np.ndarray, rtol: Any, atol: Any, equal_nan: bool) -> np.ndarray:
    if rtol == 0 and atol == 0 and not (equal_nan and a.dtype.kind in _INEXACT):
        return a == e
    with np.errstate(invalid="ignore", over="ignore"):
        return np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _allowed(tol: Any, exact: bool) -> str:
    return "" if exact else f" (up to {tol} allowed)"


def _compare_arrays(
    a: np.ndarray, e: np.ndarray, rtol: Any, atol: Any, equal_nan: bool, what: str, shown: Any = None
) -> None:
    """The values of two arrays of one shape and dtype; what: 'Tensor-likes' or 'Scalars'
    (shown: the two numbers as given, to quote in the message)."""
    matches = _matches(a, e, rtol, atol, equal_nan)
    if matches.all():
        return
    exact = rtol == 0 and atol == 0
    title = f"{what} are not {'equal' if exact else 'close'}!"
    abs_diff, rel_diff = _differences(a, e)
    if what == "Scalars":
        raise _Mismatch(
            AssertionError,
            f"{title}\n\nExpected {shown[1]} but got {shown[0]}.\n"
            f"Absolute difference: {abs_diff.item()}{_allowed(atol, exact)}\n"
            f"Relative difference: {rel_diff.item()}{_allowed(rtol, exact)}",
        )
    # the greatest differences among the elements that do not match
    abs_diff[matches] = 0
    rel_diff[matches] = 0
    wrong, total = int((~matches).sum()), matches.size
    lines = [title, "", f"Mismatched elements: {wrong} / {total} ({wrong / total:.1%})"]
    for name, diff, tol in (("absolute", abs_diff, atol), ("relative", rel_diff, rtol)):
        at = int(np.argmax(diff))  # the first NaN, if there is one, as NaN is greatest
        index = tuple(int(i) for i in np.unravel_index(at, diff.shape))
        lines.append(
            f"Greatest {name} difference: {diff.flat[at].item()} at index {index}{_allowed(tol, exact)}"
        )
    raise _Mismatch(AssertionError, "\n".join(lines))


def _attribute(name: str, actual: Any, expected: Any) -> None:
    if actual != expected:
        raise _Mismatch(
            AssertionError, f"The values for attribute '{name}' do not match: {actual!r} != {expected!r}."
        )


def _compare_tensors(actual: Any, expected: Any, options: dict) -> None:
    a = actual._data if isinstance(actual, Tensor) else actual
    e = expected._data if isinstance(expected, Tensor) else expected
    _attribute("shape", Size(a.shape), Size(e.shape))
    if options["check_dtype"]:
        _attribute("dtype", dtypes.from_numpy_dtype(a.dtype), dtypes.from_numpy_dtype(e.dtype))
    if options["check_stride"] and a.size > 1:
        _attribute("stride()", _strides(a), _strides(e))
    rtol, atol = _tolerances(options["rtol"], options["atol"], a.dtype, e.dtype)
    if a.dtype != e.dtype:  # compared in the dtype they promote to, as PyTorch does
        common = dtypes.promote_numpy(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    if a.ndim == 0:
        _compare_arrays(a, e, rtol, atol, options["equal_nan"], "Scalars", (a.item(), e.item()))
    else:
        _compare_arrays(a, e, rtol, atol, options["equal_nan"], "Tensor-likes")


def _strides(a: np.ndarray) -> tuple:
    return tuple(s // a.itemsize for s in a.strides)


def _compare_numbers(actual: Any, expected: Any, options: dict) -> None:
    actual, expected = _as_number(actual), _as_number(expected)
    if isinstance(actual, bool) and isinstance(expected, bool):
        if actual is not expected:
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
        return
    if options["check_dtype"] and type(actual) is not type(expected):
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.")
    # Python's numbers are int64 and float64 for the comparison
    a, e = np.asarray(actual), np.asarray(expected)
    a, e = a.astype(np.result_type(a, e)), e.astype(np.result_type(a, e))
    rtol, atol = _tolerances(
        options["rtol"], options["atol"], np.asarray(actual).dtype, np.asarray(expected).dtype
    )
    _compare_arrays(a, e, rtol, atol, options["equal_nan"], "Scalars", (actual, expected))


def _compare(actual: Any, expected: Any, options: dict) -> None:
    """One pair of items: containers are unpacked, the leaves compared."""
    if (
        isinstance(actual, Sequence)
        and isinstance(expected, Sequence)
        and not (isinstance(actual, (str, bytes)) or isinstance(expected, (str, bytes)))
    ):
        if len(actual) != len(expected):
            raise _Mismatch(
                AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}"
            )
        for i, (a, e) in enumerate(zip(actual, expected)):
            _at(i, a, e, options)
        return
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            raise _Mismatch(
                AssertionError,
                "The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(missing, key=repr)}\n"
                f"Additional keys in the actual mapping: {sorted(extra, key=repr)}",
            )
        for key in expected:
            _at(key, actual[key], expected[key], options)
        return
    if actual is None or expected is None:
        if actual is not expected:
            raise _Mismatch(AssertionError, f"None mismatch: {actual} is not {expected}")
        return
    if _is_number(actual) and _is_number(expected):
        return _compare_numbers(actual, expected, options)
    tensors = isinstance(actual, Tensor) and isinstance(expected, Tensor)
    arrays = isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray)
    if (tensors or arrays) and (options["allow_subclasses"] or type(actual) is type(expected)):
        return _compare_tensors(actual, expected, options)
    raise _Mismatch(
        TypeError,
        f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.",
    )


def _at(key: Any, actual: Any, expected: Any, options: dict) -> None:
    try:
        _compare(actual, expected, options)
    except _Mismatch as m:
        m.path.insert(0, key)
        raise


def assert_close(
    actual: Any,
    expected: Any,
    *,
    allow_subclasses: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg: str | Callable[[str], str] | None = None,
) -> None:
    """Check that `actual` and `expected` are close (torch.testing.assert_close).

    Elements match when |actual - expected| <= atol + rtol * |expected| (and where both are
    NaN, with `equal_nan`). Without `rtol` and `atol`, each dtype has its own: float16
    (1e-3, 1e-5), float32 (1.3e-6, 1e-5), float64 (1e-7, 1e-7); integers and bools must be
    equal. Tensors (or NumPy arrays) must also have the same shape and, unless
    `check_dtype=False`, the same dtype. Python numbers compare as float64 or int64;
    sequences and mappings are compared item by item. `check_device` and `check_layout`
    have nothing to check in ember. `msg` replaces the message, or, a callable, is given it
    and returns the replacement. Raises AssertionError (TypeError for inputs that cannot be
    compared).
    """
    options = {
        "allow_subclasses": allow_subclasses,
        "rtol": rtol,
        "atol": atol,
        "equal_nan": equal_nan,
        "check_dtype": check_dtype,
        "check_stride": check_stride,
    }
    try:
        _compare(actual, expected, options)
    except _Mismatch as m:
        message = m.message
        if m.path:
            message += "\n\nThe failure occurred for item " + "".join(f"[{k!r}]" for k in m.path)
        if callable(msg):
            message = msg(message)
        elif msg is not None:
            message = msg
        raise m.kind(message) from None


def assert_allclose(
    actual: Any,
    expected: Any,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = True,
    msg: str = "",
) -> None:
    """Deprecated (torch.testing.assert_allclose): assert_close with check_dtype=False,
    looser default tolerances (float32: rtol 1e-4, atol 1e-5), NaNs equal by default, and
    `expected` converted to a tensor of `actual`'s dtype when it is not a tensor."""
    warnings.warn(
        "`ember.testing.assert_allclose()` is deprecated, as `torch.testing.assert_allclose()` "
        "is since 1.12. Please use `ember.testing.assert_close()` instead.",
        FutureWarning,
        stacklevel=2,
    )
    from ember.creation import tensor

    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _tolerances(
            None, None, actual._data.dtype, expected._data.dtype, table=_ALLCLOSE_TOLERANCES
        )
    assert_close(
        actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False, msg=msg or None
    )


# ---- make_tensor ---------------------------------------------------------------------------


def _shape_of(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"make_tensor(): the shape must be integers, but got {s!r} in {shape}")
    return tuple(int(s) for s in shape)


def _bounds(low: Any, high: Any, default: tuple, lowest: Any, highest: Any) -> tuple:
    """low and high, the defaults where None, clamped into the dtype's range."""
    low = default[0] if low is None else low
    high = default[1] if high is None else high
    if math.isnan(low) or math.isnan(high):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low > high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    return max(low, lowest), min(high, highest)


def make_tensor(
    *shape: Any,
    dtype: Any,
    device: Any,
    low: float | None = None,
    high: float | None = None,
    requires_grad: bool = False,
    noncontiguous: bool = False,
    exclude_zero: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """A tensor of the given shape filled with random values in [low, high)
    (torch.testing.make_tensor).

    By default floating values lie in [-9, 9), integers in [-9, 9] ([0, 9] for uint8) and
    bools are either; bounds outside the dtype's range are clamped to it, and integer
    bounds rounded up. `exclude_zero` replaces zeros by 1 (integers) or by the smallest
    normal number (floats); `noncontiguous` returns a strided view; `memory_format` is
    accepted and ignored (ember's tensors are row-major).
    """
    cpu_only(device)
    shape = _shape_of(shape)
    np_dtype = dtypes.to_numpy_dtype(dtype)
    if requires_grad and np_dtype.kind not in "fV":
        raise ValueError(
            "`requires_grad=True` is not supported for boolean and integral dtypes, "
            f"but got dtype={dtypes.from_numpy_dtype(np_dtype)}"
        )
    gen = _random.rng(None)
    full_shape = (*shape[:-1], 2 * shape[-1]) if noncontiguous and math.prod(shape) > 1 else shape
    if np_dtype.kind == "b":
        lo = 0 if low is None else low
        hi = 2 if high is None else high
        if lo < 0 or hi > 2:
            raise ValueError(
                f"The value interval specified by `low` and `high` is [{lo}, {hi}), "
                f"but {dtypes.from_numpy_dtype(np_dtype)} only supports [0, 2)"
            )
        data = gen.integers(math.ceil(lo), math.ceil(hi), full_shape) > 0
    elif np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        default = (0 if np_dtype.kind == "u" else -9, 10)
        lo, hi = _bounds(low, high, default, int(info.min), int(info.max) + 1)
        lo, hi = math.ceil(lo), math.ceil(hi)
        if lo >= hi:
            raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
        data = gen.integers(lo, hi, full_shape, dtype=np.int64).astype(np_dtype)
        if exclude_zero:
            data[data == 0] = 1
    else:
        info = np.finfo(np_dtype)
        lo, hi = _bounds(low, high, (-9, 9), float(info.min), float(info.max))
        if lo == hi:
            warnings.warn(
                "Passing `low==high` to make_tensor for floating types is deprecated (as in "
                "torch.testing): use ember.full(...) instead.",
                FutureWarning,
                stacklevel=2,
            )
            data = np.full(full_shape, lo, np_dtype)
        else:
            # lo + (hi - lo) * u overflows for the whole float range: mix the bounds instead
            u = gen.random(full_shape)
            data = (lo * (1 - u) + hi * u).astype(np_dtype)
        if exclude_zero:
            data[data == 0] = info.tiny
    if full_shape != shape:
        data = data[..., ::2]
    return Tensor(data, requires_grad=requires_grad)
