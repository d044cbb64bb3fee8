"""`add_at(out, index, values)`: NumPy's `np.add.at`, the unbuffered `out[index] += values`
where repeated indices add up, made fast for the arrays ops give it; `ufunc_at` the same for
another ufunc (`np.maximum.at`, `np.multiply.at`, ...).

`np.add.at` is fast (about 1.3 ns an element) only for a 1-D array indexed by one 1-D
integer array; indexing rows of a matrix, or a matrix by a tuple of index arrays, goes
through its general loop, about 30 times slower per element: 630 µs to add 100 rows of 256
floats, where the backward of `x[i]`, `gather` or an embedding spends most of its time.
So the index is turned into the flat position of every element it names, and one 1-D
`np.add.at` adds the values there. Each element of `out` receives the same additions in the
same order as before (the order of the index's elements), so the sums are the same to the bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# the flat positions are made with np.arange(out.size) only when out is at most this many
# times larger than the values added, so that a small update of a large array stays cheap
_RANGE_FACTOR = 8
# below this many values the general loop of ufunc.at costs less than the ~10 us of NumPy
# calls that make the flat positions (1.4 us against 10 us for 3 rows of 4)
MIN_VALUES = 512


def add_at(out: np.ndarray, index: Any, values: Any) -> None:
    """Add `values` to `out[index]` in place, repeated indices adding up (as np.add.at)."""
    ufunc_at(np.add, out, index, values)


def ufunc_at(ufunc: np.ufunc, out: np.ndarray, index: Any, values: Any) -> None:
    """`ufunc.at(out, index, values)`: out[index] = ufunc(out[index], values) in place, each
    repeated index applied in turn, through a 1-D index where that is faster."""
    flat = None
    n_values = np.size(values)
    if out.ndim > 1 and out.flags.c_contiguous and n_values >= MIN_VALUES:
        flat = _flat_positions(out, index, n_values)
    if flat is None:
        ufunc.at(out, index, values)
        return
    values = np.broadcast_to(values, flat.shape)
    ufunc.at(out.reshape(-1), flat.reshape(-1), values.reshape(-1))


def _flat_positions(out: np.ndarray, index: Any, n_values: int) -> np.ndarray | None:
    """The flat positions in `out` of the elements out[index] names, in the shape of
    out[index]; None where computing them would cost more than np.add.at saves."""
    rows = index
    if isinstance(index, tuple) and len(index) == 1:
        rows = index[0]
    if rows.__class__ is np.ndarray and rows.dtype.kind in "iu":  # whole rows: out[i] += v
        n = out.shape[0]
        if rows.size:
            low, high = rows.min(), rows.max()
            if low < -n or high >= n:
                return None  # np.add.at raises its IndexError
            if low < 0:
                rows = np.where(rows < 0, rows + n, rows)
        row = out.size // n if n else 0
        flat = rows.astype(np.intp, copy=False)[..., None] * row + np.arange(row)
        return flat.reshape(rows.shape + out.shape[1:])
    if out.size > _RANGE_FACTOR * max(n_values, 1):
        return None
    return np.asarray(np.arange(out.size).reshape(out.shape)[index])
