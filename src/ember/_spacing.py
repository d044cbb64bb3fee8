"""The values of arange, range, linspace and logspace, computed the way PyTorch's CPU kernels
compute them, so that the two agree to the bit.

Float ranges cannot simply be `start + step * i` in one precision: each PyTorch kernel has
its own order of roundings, and a last-bit difference is visible to a program (d2l counts
the positive entries of `arange(-8.0, 8.0, 0.1)`: 80 in PyTorch; NumPy's arange, rounded to
float32, gives 79). What the kernels do, read from their results on PyTorch 2.13:

- arange: the arithmetic runs in the accumulate type (float64 for float32 and float64,
  float32 for float16) with each `start + step * i` fused into one rounding (the kernel is
  compiled with FMA contraction). The range is cut into blocks of 32 bytes (8 float32 values,
  4 float64, 16 float16); for each pair of whole blocks the block's first value is rounded
  to the result dtype and its other values are `base + k * step` from that rounded base.
  The tail after the last pair of blocks is computed element by element. Past 32768
  elements the range is split among threads first, each chunk starting its own blocks, so
  the bits depend on the thread count: `ember.get_num_threads()` stands for PyTorch's.
- range: `start + i * step` in the accumulate type, each operation rounded (no fusing).
- linspace: the first half from start, the second half back from end, each point fused
  into one rounding in the result's dtype (fmaf for float32; no blocks).
- logspace: the exponents as linspace computes them, unfused, then the C library's pow in
  float64 (not NumPy's vectorized power, which differs from it in the last bit), or its
  cpow / cpowf for a complex dtype (which NumPy's complex power calls, except for small
  integer exponents, which it multiplies out).

A float64 reaches float16 through float32 in PyTorch (c10::Half is made from a float), so
results and bounds are rounded twice as there (`dtypes.astype`, `scalar`).

The fused multiply-add is emulated exactly with error-free transformations (Dekker's
product, Knuth's sum) and rounding to odd (Boldo and Melquiond), on whole arrays."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
from typing import Any

import numpy as np

from ember import _settings

_EXACT_INTEGERS = {2: 2.0**11, 4: 2.0**24, 8: 2.0**53}  # float16/32/64 hold every integer up to these
GRAIN = 32768  # the size below which PyTorch runs a kernel on one thread (at::internal::GRAIN_SIZE)
_BLOCK_BYTES = 32  # the width of the vector blocks PyTorch's arange kernel fills
_PIECE = 8192  # elements fma works on at a time
_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's constant, splits a float64 into two halves


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s, e with s = fl(a + b) and s + e == a + b exactly."""
    s = a + b
    b_virtual = s - a
    return s, (a - (s - b_virtual)) + (b - b_virtual)


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p, e with p = fl(a * b) and p + e == a * b exactly (no overflow assumed)."""
    p = a * b
    t = _SPLIT * a
    a_hi = t - (t - a)
    a_lo = a - a_hi
    t = _SPLIT * b
    b_hi = t - (t - b)
    b_lo = b - b_hi
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _round_to_odd(value: np.ndarray, error: np.ndarray) -> np.ndarray:
    """value (a rounded sum whose exact remainder is error) rounded to odd instead: when
    inexact, the neighbour with an odd last bit. A later rounding to fewer bits then sees no
    false tie, so two roundings give the one correct rounding."""
    inexact_even = (error != 0) & ((value.view(np.int64) & 1) == 0)
    towards = np.where(error > 0, np.inf, -np.inf)
    return np.where(inexact_even, np.nextafter(value, towards), value)


def _in_pieces(function: Any, a: np.ndarray, b: np.ndarray, c: np.ndarray, np_dtype: Any) -> np.ndarray:
    """function(a, b, c) on broadcast 1-d arrays, a piece at a time when they are long: the
    dozen temporaries of an emulated fma stay small (in cache, and below the size at which
    the C allocator maps fresh pages for each), which makes it twice as fast."""
    a, b, c = np.broadcast_arrays(*(np.asarray(v, np_dtype) for v in (a, b, c)))
    if a.ndim != 1 or a.size <= _PIECE:
        return function(a, b, c)
    out = np.empty(a.shape, np_dtype)
    for at in range(0, a.size, _PIECE):
        piece = slice(at, at + _PIECE)
        out[piece] = function(a[piece], b[piece], c[piece])
    return out


def fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """a * b + c in float64 with one rounding, elementwise (C's fma)."""
    return _in_pieces(_fma, a, b, c, np.float64)


def _fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        product, product_error = _two_product(a, b)
        high, low = _two_sum(c, product)
        rest, rest_error = _two_sum(low, product_error)
        fused = high + _round_to_odd(rest, rest_error)
        plain = a * b + c
    # plain where a splitting overflowed (the values are inf or nan anyway) and where the
    # result is zero, whose sign the emulation loses: -0.0 + -0.0 * 1 is -0.0
    return np.where(np.isfinite(fused) & (fused != 0), fused, plain)


def fma_single(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """a * b + c for float32 operands with one rounding to float32 (fmaf): the product is
    exact in float64, and the sum rounded to odd there rounds correctly to float32."""
    return _in_pieces(_fma_single, a, b, c, np.float32)


def _fma_single(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    a, b, c = (v.astype(np.float64) for v in (a, b, c))
    with np.errstate(all="ignore"):
        total, error = _two_sum(a * b, c)
        return _round_to_odd(total, error).astype(np.float32)


def scalar(value: Any, np_dtype: np.dtype) -> Any:
    """A Python number as PyTorch converts a Scalar to the dtype (float16 through float32)."""
    if np_dtype == np.float16:
        return np.float16(np.float32(value))
    return np_dtype.type(value)


def _fused(step: float, index: np.ndarray, start: Any, np_dtype: np.dtype) -> np.ndarray:
    """start + step * index with one rounding in the accumulate type of np_dtype."""
    if np_dtype == np.float16:
        return fma_single(step, index.astype(np.float32), start)
    return fma(step, index.astype(np.float64), start)


def arange_floats(start: float, step: float, count: int, np_dtype: np.dtype) -> np.ndarray:
    """count values of a float arange as PyTorch's CPU kernel writes them (see the module
    docstring): start and step are already in the accumulate type's range."""
    if count == 0:
        return np.empty(0, np_dtype)
    last = start + step * (count - 1)
    if (
        start.is_integer()
        and step.is_integer()
        and max(abs(start), abs(last)) <= _EXACT_INTEGERS[np_dtype.itemsize]
    ):
        # every value and partial sum is an integer the dtype holds exactly (arange(n) in a
        # float dtype, most often): all the kernel's roundings are exact, and so is this,
        # made in place in float64 (whose partial results hold step * i exactly too)
        values = np.arange(count, dtype=np.float64)
        if step != 1:
            values *= step
        values += start  # also for a start of 0: arange(0.0, -2.0, -1.0) begins with 0.0, not -0.0
        return values.astype(np_dtype, copy=False)
    index = np.arange(count, dtype=np.int64)
    tasks = max(1, min(_settings.get_num_threads(), -(-count // GRAIN)))
    chunk = -(-count // tasks)
    first = index // chunk * chunk
    offset = index - first
    lanes = _BLOCK_BYTES // np_dtype.itemsize
    blocked = offset < (np.minimum(chunk, count - first) // (2 * lanes)) * (2 * lanes)
    lane = np.where(blocked, offset % lanes, 0)
    base = _fused(step, np.where(blocked, index - lane, index), start, np_dtype).astype(np_dtype)
    return _fused(step, lane, base, np_dtype).astype(np_dtype)


def range_floats(start: float, step: float, count: int, np_dtype: np.dtype) -> np.ndarray:
    """count values of torch.range in a float dtype: start + i * step in the accumulate
    type, the product and the sum each rounded."""
    if np_dtype == np.float16:
        index = np.arange(count, dtype=np.float32)
        return (np.float32(start) + index * np.float32(step)).astype(np.float16)
    return (start + np.arange(count, dtype=np.float64) * step).astype(np_dtype)


def linspace_floats(start: Any, end: Any, steps: int, np_dtype: np.dtype) -> np.ndarray:
    """steps >= 2 points of a float or complex linspace as PyTorch's kernel computes them:
    step = (end - start) / (steps - 1) in the dtype, then start + step * i (fused) for the
    first half and end - step * (steps - 1 - i) for the second. A complex linspace is two
    real ones, as c10::complex divides and multiplies by a real number part by part."""
    if np_dtype.kind == "c":
        part = np.dtype(np.float32 if np_dtype == np.complex64 else np.float64)
        real = linspace_floats(complex(start).real, complex(end).real, steps, part)
        imag = linspace_floats(complex(start).imag, complex(end).imag, steps, part)
        out = np.empty(steps, np_dtype)
        out.real, out.imag = real, imag  # (adding 1j * imag would turn a -0.0 real part into 0.0)
        return out
    first, last = scalar(start, np_dtype), scalar(end, np_dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        step = (last - first) / np_dtype.type(steps - 1)  # float16 rounds each operation, as c10::Half does
    half = steps // 2
    up, down = np.arange(half), np.arange(steps - half)[::-1]  # i, and steps - 1 - i
    if np_dtype == np.float16:  # c10::Half arithmetic: the index made a Half, each operation rounded
        return np.concatenate([first + step * up.astype(np.float16), last - step * down.astype(np.float16)])
    # start + step * i in the dtype itself (the kernel's step is a scalar_t, not the accumulate
    # type): one rounding to float32 for float32, as fmaf, not a float64 fma rounded again
    if np_dtype == np.float32:
        return np.concatenate([fma_single(step, up, first), fma_single(-step, down, last)])
    return np.concatenate([fma(step, up, first), fma(-step, down, last)])


def linspace_integers(start: int, end: int, steps: int, np_dtype: np.dtype) -> np.ndarray:
    """steps >= 2 points of an integer linspace: step in float64 from the integer bounds,
    each point computed (fused) in float64 and truncated."""
    step = (float(end) - float(start)) / (steps - 1)
    index = np.arange(steps)
    up = index < steps // 2
    count = np.where(up, index, steps - 1 - index)
    values = np.where(up, fma(step, count, float(start)), fma(-step, count, float(end)))
    return values.astype(np_dtype)


def logspace_exponents(start: Any, end: Any, steps: int, np_dtype: np.dtype) -> np.ndarray:
    """The float64 exponents of a real logspace (steps >= 2): the bounds in the result's
    dtype, step = (end - start) / (steps - 1) in float64 from their difference in that
    dtype (as C++ ints for an integer dtype), and start + step * i / end - step * (steps - 1 - i), each operation rounded."""
    if np_dtype.kind in "iu":  # bounds already converted to the dtype; C++ subtracts them as ints
        span = float(int(end) - int(start))
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            span = float(scalar(end, np_dtype) - scalar(start, np_dtype))
    first, last = float(scalar(start, np_dtype)), float(scalar(end, np_dtype))
    step = span / (steps - 1)
    index = np.arange(steps)
    up = index < steps // 2
    count = np.where(up, index, steps - 1 - index).astype(np.float64)
    return np.where(up, first + step * count, last - step * count)


def c_pow(base: float, exponents: np.ndarray) -> np.ndarray:
    """base ** exponents in float64 by the C library's pow (Python's math.pow), which
    PyTorch's logspace calls; overflow and domain errors give C's inf and nan."""
    out = np.empty(exponents.shape, np.float64)
    for i, exponent in enumerate(exponents.tolist()):
        try:
            out[i] = math.pow(base, exponent)
        except (OverflowError, ValueError):
            with np.errstate(all="ignore"):
                out[i] = np.power(base, exponent)
    return out


@functools.cache
def _libm_cpow(np_dtype: np.dtype) -> Any:
    """The C library's cpowf or cpow (np_dtype complex64 or complex128), or None where no
    C math library can be loaded, or where it does not pass complex numbers as a struct."""
    name = ctypes.util.find_library("m")
    if name is None or ctypes.sizeof(ctypes.c_void_p) != 8:  # 32-bit x86 returns structs in memory
        return None
    try:
        function = getattr(ctypes.CDLL(name), "cpowf" if np_dtype == np.complex64 else "cpow")
    except (OSError, AttributeError):
        return None
    # C's float complex and double complex are laid out, and passed in registers, as a
    # struct of two floats or two doubles
    part = ctypes.c_float if np_dtype == np.complex64 else ctypes.c_double
    struct = type("Complex", (ctypes.Structure,), {"_fields_": [("real", part), ("imag", part)]})
    function.argtypes, function.restype = [struct, struct], struct
    square = function(struct(-3.0, 0.0), struct(2.0, 0.0))  # a check of the calling convention
    if not (abs(square.real - 9.0) < 1e-3 and abs(square.imag) < 1e-3):
        return None
    return function, struct


def complex_pow(base: complex, exponents: np.ndarray) -> np.ndarray:
    """base ** exponents in the exponents' complex dtype as the C library's cpow computes
    it: NumPy's power, except where NumPy takes a shortcut (a real integer exponent below
    100 in size, which it multiplies out; a zero base), which goes to cpow itself."""
    np_dtype = exponents.dtype
    with np.errstate(all="ignore"):
        out = np.power(np_dtype.type(base), exponents)
    real = exponents.real
    shortcut = (exponents.imag == 0) & (real == np.trunc(real)) & (np.abs(real) < 100)
    if base == 0 or base.real < 0:  # NumPy's other shortcut; and cpow's branch cut, to be sure
        shortcut[:] = True
    libm = _libm_cpow(np_dtype) if shortcut.any() else None
    if libm is not None:
        function, struct = libm
        for i in np.flatnonzero(shortcut):
            value = function(struct(base.real, base.imag), struct(exponents[i].real, exponents[i].imag))
            out[i] = complex(value.real, value.imag)
    return out
