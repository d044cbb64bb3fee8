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
  to the result dtype (that base is the block's first element, a -0.0 kept) and its other
  values are `base + k * step` from it.
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
product, Knuth's sum) and rounding to odd (Boldo and Melquiond), on whole arrays. That
emulation is the reference (the *_exact functions); the functions the creation ops call
take cheaper routes to the same bits where the arguments allow (an exact split of the
step, candidates checked against their rounding boundaries; see "Fast paths" below and
docs/design.md)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import itertools
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
    if not inexact_even.any():  # the common case in arange and linspace: nothing to move
        return value
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
    if np_dtype == np.float16 or np_dtype.kind == "V":  # bfloat16 too: made from a float
        return np_dtype.type(np.float32(value))
    return np_dtype.type(value)


def _fused(step: float, index: np.ndarray, start: Any, np_dtype: np.dtype) -> np.ndarray:
    """start + step * index with one rounding in the accumulate type of np_dtype."""
    if np_dtype == np.float16 or np_dtype.kind == "V":  # bfloat16's accumulate type is float32 too
        return fma_single(step, index.astype(np.float32), start)
    return fma(step, index.astype(np.float64), start)


# ---------------------------------------------------------------------------------------
# Fast paths. Each computes a candidate in plain float64 arithmetic (one or two roundings
# where the kernel has one), bounds its distance from the exact value, and rounds both ends
# of that interval to the result's type: where they agree, rounding is monotonic, so the
# exact value rounds to the same (almost every element); the few others, near a rounding
# boundary, are computed exactly. Outside the magnitudes where the bounds hold (and for
# which the exact emulation has no underflow), the callers use the exact emulation.

_SAFE_LOW, _SAFE_HIGH = 2.0**-90, 2.0**100  # |values| and bounds where the fast paths apply
_LANES = {n: np.arange(n, dtype=np.float64) for n in (4, 8, 16)}  # k in a block of n (read only)
_ROWS = 2048  # blocks arange's second stage works on at a time
# float64 blocks, fewer operations each: as many rows as keep a column of them (64 KiB)
# below the size at which the C allocator maps fresh pages for each temporary
_ROWS_FLOAT64 = 8192
_FEW = 16  # unsure elements computed one by one in Python; more go to the array emulation


def _exact_fma(a: float, b: float, c: float, single: bool) -> float:
    """a * b + c rounded once, to float64 or (single) to float32, from the exact rational;
    an exact zero gets the sign that a * b + c in float64 gives it (the emulation's rule)."""
    na, da = a.as_integer_ratio()
    nb, db = b.as_integer_ratio()
    nc, dc = c.as_integer_ratio()
    num, den = na * nb * dc + nc * da * db, da * db * dc
    if num == 0:
        return a * b + c
    value = num / den  # Python's int division rounds correctly
    if single:  # rounded to odd in float64 first, so that rounding to float32 is right
        nv, dv = value.as_integer_ratio()
        if nv * den != num * dv and int(np.float64(value).view(np.int64)) & 1 == 0:
            value = math.nextafter(value, math.inf if num * dv > nv * den else -math.inf)
        return float(np.float32(value))
    return value


def _settle(candidate: np.ndarray, error: float, exact: Any, to: Any) -> np.ndarray:
    """The roundings to dtype `to` of exact values that lie within error of candidate
    (float64): taken from candidate where both ends of [candidate - error, candidate +
    error] round alike, else from exact(flat indices)."""
    low = (candidate - error).astype(to)
    unsure = low != (candidate + error).astype(to)
    if np.count_nonzero(unsure):
        at = np.flatnonzero(unsure)
        low.reshape(-1)[at] = exact(at)
    return low


def _exact_many(a: Any, b: np.ndarray, c: Any, single: bool, to: Any) -> np.ndarray:
    """Exact a * b + c (fma or, single, fmaf) at a few or many points, in dtype to; a and c
    are numbers or arrays like b."""
    if b.size <= _FEW:
        a, c = (v.tolist() if isinstance(v, np.ndarray) else itertools.repeat(v) for v in (a, c))
        return np.array([_exact_fma(x, y, z, single) for x, y, z in zip(a, b.tolist(), c)]).astype(to)
    if single:
        return fma_single(a, b, c).astype(to)
    return fma(a, b, c).astype(to)


def _grain(value: float) -> float:
    """The place of value's lowest set bit (2**k for the largest k with value a multiple
    of 2**k); inf for zero."""
    if value == 0:
        return math.inf
    numerator, denominator = value.as_integer_ratio()
    return 2.0 ** ((numerator & -numerator).bit_length() - denominator.bit_length())


def _exact_sums(span: float, *operands: float) -> bool:
    """Whether every a + b * i (b * i the products of step and index) is exact in float64:
    each is a multiple of the smallest grain of the operands, and all stay below span, so
    they hold in 53 bits when span is below 2**53 grains."""
    return span < 2.0**53 * min(_grain(v) for v in operands)


def _fused_by_int(a: float, b: np.ndarray, c: Any) -> np.ndarray:
    """fma(a, b, c) in float64 for a scalar a and integers b below 2**26: a split in two
    halves of 26 bits times b is exact, so the product's error takes four operations."""
    t = _SPLIT * a
    a_high = t - (t - a)
    a_low = a - a_high
    with np.errstate(all="ignore"):
        product = a * b
        product_error = (a_high * b - product) + a_low * b  # Sterbenz, then a representable sum
        high, low = _two_sum(c, product)
        rest, rest_error = _two_sum(low, product_error)
        fused = high + _round_to_odd(rest, rest_error)
    zero = fused == 0
    if np.count_nonzero(zero):  # the sign of an exact zero: as a * b + c gives it
        fused[zero] = np.broadcast_to(a * b + c, fused.shape)[zero]
    return fused


def _safe(*magnitudes: float) -> bool:
    """Whether these bounds (nonzero ones) lie where the fast paths' error bounds hold."""
    return all(m == 0 or _SAFE_LOW <= abs(m) <= _SAFE_HIGH for m in magnitudes)


def _split_step(
    start: float, step: float, count: int, span: float, other: float = 0.0
) -> tuple[float, float] | None:
    """(high, low) with step == high + low, such that start + high * i and low * i are
    exact in float64 for every index i below max(count, 16), or None where there is none.
    Then (start + high * i) + low * i, rounded once, is the fma of step, i and start: with
    high a multiple of a grid of span / 2**52, start + high * i stays on that grid (if start
    is on it) and within 2**53 of its steps, and low * i has few enough bits. (other: a
    second start, also on the grid, as linspace's end.)"""
    grid = 2.0 ** (math.ceil(math.log2(span)) - 52)
    if _grain(start) < grid or _grain(other) < grid or max(count, 16) * grid > 2.0**54 * _grain(step):
        return None
    high = round(step / grid) * grid
    return high, step - high


def _arange_fast(start: float, step: float, count: int, np_dtype: np.dtype) -> np.ndarray | None:
    """arange_floats_exact's values without its per-element emulation, or None where the
    fast path does not apply (magnitudes outside the safe range, very long ranges)."""
    span = abs(start) + abs(step) * (count + 16)  # beyond every value the kernel computes
    if count >= 2**26 or not _SAFE_LOW <= span <= _SAFE_HIGH or abs(step) < _SAFE_LOW:
        return None
    if start != 0 and abs(start) < _SAFE_LOW:
        return None
    single = (
        np_dtype == np.float16 or np_dtype.kind == "V"
    )  # float32 accumulate type, one rounding to it (fmaf)
    split = None if single else _split_step(start, step, count, span)
    error = 2.0**-50 * span  # 8 units in the last place of span: twice the candidates' error
    lanes = _BLOCK_BYTES // np_dtype.itemsize
    tasks = 1 if count <= GRAIN else min(_settings.get_num_threads(), -(-count // GRAIN))
    if tasks == 1:
        spans, blocks = [(0, count)], [count // (2 * lanes) * 2]
    else:
        chunk = -(-count // tasks)
        spans = [(at, min(at + chunk, count)) for at in range(0, count, chunk)]
        blocks = [(stop - at) // (2 * lanes) * 2 for at, stop in spans]
    total = sum(blocks)
    # the first stage: each block's first element, and each element of the chunks' tails;
    # for a short range, every element (fewer operations, on few elements)
    every = tasks == 1 and count <= _PIECE
    if every:
        index = np.arange(count, dtype=np.float64)
    elif tasks == 1:
        index = np.arange(total + count - total * lanes, dtype=np.float64)
        index[:total] *= lanes
        index[total:] += total * (lanes - 1)
    else:
        index = np.concatenate(
            [np.arange(at, at + n * lanes, lanes) for (at, _), n in zip(spans, blocks)]
            + [np.arange(at + n * lanes, stop) for (at, stop), n in zip(spans, blocks)]
        ).astype(np.float64)
    if split is not None:  # (start + high * i) + low * i: exact parts, one rounding
        high, low = split
        values = index * high
        if start != 0:
            values += start
        if low != 0:
            values += index * low
        values[0] = step * 0.0 + start  # (index 0 comes first) the zero signed as C signs it
        base = values.astype(np_dtype, copy=False)
    elif np_dtype == np.float64:
        base = _fused_by_int(step, index, start)
    elif _exact_sums(span, start, step):  # exact sums and products: one rounding, the cast
        values = index * step
        values += start
        values[0] = step * 0.0 + start
        base = values.astype(np.float32).astype(np_dtype, copy=False)
    else:
        candidate = index * step
        candidate += start

        def exact_first(at: np.ndarray) -> np.ndarray:
            return _exact_many(step, index[at], start, single, np.float32)

        base = _settle(candidate, error, exact_first, np.float32).astype(np_dtype, copy=False)
    if every:  # the heads and the tail out of all the first stage's values
        heads, tails = base[: total * lanes : lanes], base[total * lanes :]
    else:
        heads, tails = base[:total], base[total:]
    out = np.empty(count, np_dtype)

    # the second stage: each block's elements, head + k * step (k = 0 .. lanes - 1), a piece
    # of rows at a time (the float64 temporaries stay in cache)
    def second(first: int, stop: int, one: bool) -> np.ndarray:
        rows = heads[first:stop]
        if np_dtype == np.float64:
            return _float64_block(rows, step)
        if split is not None:
            return _block_split(rows, lanes, split, step, start, span, error, first if one else None)
        return _block_checked(rows.astype(np.float64), lanes, step, error, single)

    at_head = at_tail = 0
    rows_at_once = _ROWS_FLOAT64 if np_dtype == np.float64 else _ROWS
    for (at, stop), n in zip(spans, blocks):
        blocked = out[at : at + n * lanes].reshape(n, lanes)
        for first in range(0, n, rows_at_once):
            last = min(first + rows_at_once, n)
            blocked[first:last] = second(at_head + first, at_head + last, len(spans) == 1)
        at_head += n
        tail = stop - at - n * lanes
        out[at + n * lanes : stop] = tails[at_tail : at_tail + tail]
        at_tail += tail
    return out


def _float64_block(heads: np.ndarray, step: float) -> np.ndarray:
    """The four values head + k * step (k = 0 .. 3) of each float64 block, each rounded once
    as the kernel's fma rounds it. Only k = 3 needs the emulation: step * 1 and step * 2 are
    exact, so fma(step, k, head) is the plain head + step * k there."""
    out = np.empty((heads.size, 4))
    out[:, 0] = heads
    np.add(heads, step, out=out[:, 1])
    np.add(heads, 2.0 * step, out=out[:, 2])
    out[:, 3] = _fused_by_int(step, _LANES[4][3], heads)
    return out


def _block_split(
    heads: np.ndarray,
    lanes: int,
    split: tuple,
    step: float,
    start: float,
    span: float,
    error: float,
    first: Any,
) -> np.ndarray:
    """(head + high * k) + low * k for each block's float32 head and k = 0 .. lanes - 1: the
    fma where head is on the split's grid (zero, or not far below span). first: the place of
    the first head among a single chunk's (at indices 0, lanes, 2 * lanes, ...), or None."""
    high, low = split
    lane = _LANES[lanes]
    rest = np.add(heads[:, None], lane * high)  # (in float64)
    if low != 0:
        rest += lane * low
    rest[:, 0] = heads  # the head itself (a -0.0 too, which head + 0 * high would make +0.0)
    # a nonzero head below 2**23 grid steps (only near a crossing of zero) is off the grid,
    # and head + high * k inexact: those rows are (high * k) + (head + low * k) where that
    # inner sum is exact, else by the checked candidates
    tiny = 2.0**23 * 2.0 ** (math.ceil(math.log2(span)) - 52)
    if first is None:
        rows = np.flatnonzero((np.abs(heads) < tiny) & (heads != 0)).tolist()
    else:  # the heads near the crossing, from its place: a few at most
        crossing, reach = -start / step, tiny / abs(step) + 1
        low_row = max(math.ceil((crossing - reach) / lanes), first)
        high_row = min(math.floor((crossing + reach) / lanes), first + heads.size - 1)
        rows = [j - first for j in range(low_row, high_row + 1) if 0 < abs(heads[j - first]) < tiny]
    for row in rows:
        head = float(heads[row])
        grain = min(_grain(head), _grain(low))
        if abs(head) + lanes * abs(low) < 2.0**53 * grain:
            rest[row] = lane * high + (head + lane * low)
        else:
            rest[row] = _block_checked(heads[row : row + 1].astype(np.float64), lanes, step, error, False)
    return rest


def _block_checked(heads: np.ndarray, lanes: int, step: float, error: float, single: bool) -> np.ndarray:
    """fl32(head + step * k) for each head (float64, nonzero) and k = 0 .. lanes - 1, fused
    (fmaf when single, else a float64 fma), from checked candidates for k > 0."""
    lane = np.arange(1, lanes, dtype=np.float64)
    candidate = heads[:, None] + lane * step

    def exact(at: np.ndarray) -> np.ndarray:
        row, k = np.divmod(at, lanes - 1)
        return _exact_many(step, lane[k], heads[row], single, np.float32)

    rest = np.empty((heads.size, lanes), np.float32)
    rest[:, 0] = heads  # the head itself (a -0.0 too, which head + 0 * step would make +0.0)
    rest[:, 1:] = _settle(candidate, error, exact, np.float32)
    return rest


def _points(first: float, last: float, step: float, steps: int, single: bool, to: Any) -> np.ndarray:
    """The points of a linspace rounded to `to`: first + step * i for the first half, last -
    step * (steps - 1 - i) for the second, each fused (fmaf when single, else a float64 fma)."""
    half = steps // 2
    index = np.arange(steps, dtype=np.float64)
    index[half:] -= steps - 1
    index[-1] = -0.0  # (-step) * 0 signs its zero as step * -0.0 does
    candidate = index * step  # exact when single (a float32 step times an index below 2**26)
    candidate[:half] += first
    candidate[half:] += last
    span = abs(first) + abs(last) + abs(step) * steps
    if _exact_sums(span, first, last, step):
        return candidate.astype(to)
    if single:
        inner = candidate
    else:  # truncated to integers: the ends are the bounds, which sit on a boundary of truncation
        inner = candidate[1:-1]

    def exact(at: np.ndarray) -> np.ndarray:
        at = at + (inner is not candidate)
        up = at < half
        b = np.where(up, at, steps - 1 - at).astype(np.float64)
        return _exact_many(np.where(up, step, -step), b, np.where(up, first, last), single, to)

    points = _settle(inner, 2.0**-50 * span, exact, to)
    if inner is candidate:
        return points
    return np.concatenate([np.array([first], to), points, np.array([last], to)])


def _linspace_fast(first: Any, last: Any, steps: int, np_dtype: np.dtype) -> np.ndarray | None:
    """linspace_floats_exact's float32 or float64 points (first and last already in the
    dtype), or None where the fast path does not apply."""
    with np.errstate(over="ignore", invalid="ignore"):
        step = (last - first) / np_dtype.type(steps - 1)
    first, last, step = float(first), float(last), float(step)
    span = abs(first) + abs(last) + abs(step) * steps
    if steps >= 2**26 or not (_safe(first, last, step) and _SAFE_LOW <= span <= _SAFE_HIGH):
        return None
    if np_dtype == np.float64:
        half = steps // 2
        index = np.arange(steps, dtype=np.float64)
        index[half:] -= steps - 1
        split = _split_step(first, step, steps, span, last)
        if split is not None:  # (end + high * i) + low * i: exact parts, one rounding
            high, low = split
            points = index * high
            points[:half] += first
            points[half:] += last
            if low != 0:
                points += index * low
            points[0], points[-1] = step * 0.0 + first, -step * 0.0 + last  # zeros signed as C signs them
            return points
        index[-1] = -0.0  # (-step) * 0 signs its zero as step * -0.0 does
        ends = np.empty(steps)
        ends[:half], ends[half:] = first, last
        return _fused_by_int(step, index, ends)
    return _points(first, last, step, steps, True, np.float32)


def _points_truncated(first: float, last: float, step: float, steps: int) -> np.ndarray | None:
    """An integer linspace's points as int64: the float64 fma of each, truncated; or None
    where the fast path does not apply. The two ends are the (integer) bounds themselves."""
    span = abs(first) + abs(last) + abs(step) * steps
    if steps >= 2**26 or not span <= 2.0**52:
        return None
    return _points(first, last, step, steps, False, np.int64)


def arange_floats(start: float, step: float, count: int, np_dtype: np.dtype) -> np.ndarray:
    """count values of a float arange as PyTorch's CPU kernel writes them (see the module
    docstring): start and step are already in the accumulate type's range. The same bits
    as arange_floats_exact, by the fast paths where they apply."""
    if count == 0:
        return np.empty(0, np_dtype)
    last = start + step * (count - 1)
    if (
        start.is_integer()
        and step.is_integer()
        and max(abs(start), abs(last)) <= _EXACT_INTEGERS[np_dtype.itemsize]
    ):
        return _integer_range(start, step, count, np_dtype)
    fast = _arange_fast(start, step, count, np_dtype)
    return arange_floats_exact(start, step, count, np_dtype) if fast is None else fast


def _integer_range(start: float, step: float, count: int, np_dtype: np.dtype) -> np.ndarray:
    """An arange whose values and partial sums are integers the dtype holds exactly
    (arange(n) in a float dtype, most often): all the kernel's roundings are exact, and so
    is this, made in place in float64 (whose partial results hold step * i exactly too)."""
    values = np.arange(count, dtype=np.float64)
    if step != 1:
        values *= step
    values += start  # also for a start of 0: arange(0.0, -2.0, -1.0) begins with 0.0, not -0.0
    return values.astype(np_dtype, copy=False)


def arange_floats_exact(start: float, step: float, count: int, np_dtype: np.dtype) -> np.ndarray:
    """arange_floats by the general emulation alone, element by element as the kernel's
    blocks and chunks prescribe: the reference the fast paths are tested against."""
    if count == 0:
        return np.empty(0, np_dtype)
    index = np.arange(count, dtype=np.int64)
    tasks = max(1, min(_settings.get_num_threads(), -(-count // GRAIN)))
    chunk = -(-count // tasks)
    first = index // chunk * chunk
    offset = index - first
    lanes = _BLOCK_BYTES // np_dtype.itemsize
    blocked = offset < (np.minimum(chunk, count - first) // (2 * lanes)) * (2 * lanes)
    lane = np.where(blocked, offset % lanes, 0)
    base = _fused(step, np.where(blocked, index - lane, index), start, np_dtype).astype(np_dtype)
    # a block's first lane and the tail are the first stage's values themselves: a -0.0 (a
    # value that underflows in the dtype) stays -0.0, where fma(step, 0, -0.0) would be +0.0
    return np.where(lane == 0, base, _fused(step, lane, base, np_dtype).astype(np_dtype))


def range_floats(start: float, step: float, count: int, np_dtype: np.dtype) -> np.ndarray:
    """count values of torch.range in a float dtype: start + i * step in the accumulate
    type, the product and the sum each rounded."""
    if np_dtype == np.float16 or np_dtype.kind == "V":  # and bfloat16
        index = np.arange(count, dtype=np.float32)
        return (np.float32(start) + index * np.float32(step)).astype(np_dtype)
    return (start + np.arange(count, dtype=np.float64) * step).astype(np_dtype)


def linspace_floats(start: Any, end: Any, steps: int, np_dtype: np.dtype) -> np.ndarray:
    """steps >= 2 points of a float or complex linspace, the bits of linspace_floats_exact
    by a fast path where one applies."""
    if np_dtype.kind == "c":
        return _complex_linspace(linspace_floats, start, end, steps, np_dtype)
    if np_dtype == np.float32 or np_dtype == np.float64:
        fast = _linspace_fast(scalar(start, np_dtype), scalar(end, np_dtype), steps, np_dtype)
        if fast is not None:
            return fast
    return linspace_floats_exact(start, end, steps, np_dtype)


def _complex_linspace(real_linspace: Any, start: Any, end: Any, steps: int, np_dtype: np.dtype) -> np.ndarray:
    """A complex linspace as two real ones (each made by real_linspace), as c10::complex
    divides and multiplies by a real number part by part."""
    part = np.dtype(np.float32 if np_dtype == np.complex64 else np.float64)
    real = real_linspace(complex(start).real, complex(end).real, steps, part)
    imag = real_linspace(complex(start).imag, complex(end).imag, steps, part)
    out = np.empty(steps, np_dtype)
    out.real, out.imag = real, imag  # (adding 1j * imag would turn a -0.0 real part into 0.0)
    return out


def linspace_floats_exact(start: Any, end: Any, steps: int, np_dtype: np.dtype) -> np.ndarray:
    """steps >= 2 points of a float or complex linspace as PyTorch's kernel computes them:
    step = (end - start) / (steps - 1) in the dtype, then start + step * i (fused) for the
    first half and end - step * (steps - 1 - i) for the second. A complex linspace is two
    real ones (each by this emulation too, not the fast paths)."""
    if np_dtype.kind == "c":
        return _complex_linspace(linspace_floats_exact, start, end, steps, np_dtype)
    first, last = scalar(start, np_dtype), scalar(end, np_dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        step = (last - first) / np_dtype.type(steps - 1)  # float16 rounds each operation, as c10::Half does
    half = steps // 2
    up, down = np.arange(half), np.arange(steps - half)[::-1]  # i, and steps - 1 - i
    if (
        np_dtype == np.float16 or np_dtype.kind == "V"
    ):  # c10::Half (BFloat16) arithmetic: each operation rounded
        return np.concatenate([first + step * up.astype(np_dtype), last - step * down.astype(np_dtype)])
    # start + step * i in the dtype itself (the kernel's step is a scalar_t, not the accumulate
    # type): one rounding to float32 for float32, as fmaf, not a float64 fma rounded again
    if np_dtype == np.float32:
        return np.concatenate([fma_single(step, up, first), fma_single(-step, down, last)])
    return np.concatenate([fma(step, up, first), fma(-step, down, last)])


def linspace_integers(start: int, end: int, steps: int, np_dtype: np.dtype) -> np.ndarray:
    """steps >= 2 points of an integer linspace, the values of linspace_integers_exact by a
    fast path where one applies."""
    step = (float(end) - float(start)) / (steps - 1)
    fast = _points_truncated(float(start), float(end), step, steps)
    return linspace_integers_exact(start, end, steps, np_dtype) if fast is None else fast.astype(np_dtype)


def linspace_integers_exact(start: int, end: int, steps: int, np_dtype: np.dtype) -> np.ndarray:
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
    half = steps // 2
    exponents = np.arange(steps, dtype=np.float64)  # i, then steps - 1 - i for the second half
    np.subtract(steps - 1, exponents[half:], out=exponents[half:])
    exponents *= step
    exponents[:half] += first
    np.subtract(last, exponents[half:], out=exponents[half:])
    return exponents


def c_pow(base: float, exponents: np.ndarray) -> np.ndarray:
    """base ** exponents in float64 by the C library's pow (Python's math.pow), which
    PyTorch's logspace calls; overflow and domain errors give C's inf and nan."""
    if 0 < base < math.inf:  # Python's float power, which calls pow, over an object array
        try:
            return np.power(base, exponents.astype(object)).astype(np.float64)
        except (OverflowError, ArithmeticError):  # (an overflow: element by element below)
            pass
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
