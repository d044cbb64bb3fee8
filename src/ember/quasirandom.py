"""Low-discrepancy (quasi-random) sequences: SobolEngine (torch.quasirandom).

A Sobol' sequence fills [0, 1)^d more evenly than independent uniform draws: any 2**m
consecutive points from the start put exactly one point in each of the 2**m intervals
[k / 2**m, (k + 1) / 2**m) of every coordinate. Each coordinate d has 30 direction numbers
v_d[0..29], 30-bit integers built from a primitive polynomial over GF(2) and its initial
values (the Joe-Kuo table in ember/_sobol_directions.py); point n is the XOR of the v_d[j]
for the bits j set in the Gray code of n, n ^ (n >> 1), divided by 2**30. Consecutive Gray
codes differ in one bit, so the sequence is usually generated one XOR a point; here every
point is computed from its index at once (a NumPy XOR-reduction over the set bits), which
gives the same integers.

Scrambling (scramble=True) multiplies each coordinate's direction numbers, as bit vectors,
by a random lower-triangular binary matrix with a unit diagonal, and XORs every point with
a random 30-bit shift: the points stay a net (the stratification above holds) but are
randomised. PyTorch scrambles the same way, drawing the matrices and shifts from its own
generator; ember draws them from NumPy's, so scrambled points differ from PyTorch's for the
same seed (docs/differences.md). Unscrambled points are PyTorch's exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import dtypes
from ember._tensor import Tensor
from ember.random import Generator

_BITS = 30
_DIRECTIONS: np.ndarray | None = None  # (1111, 30) int64, built on first use


def _direction_numbers() -> np.ndarray:
    """v[d, j] for every dimension of the table: m_j * 2**(29 - j) for the s initial ones, then
    v[j] = v[j - s] ^ (v[j - s] >> s) ^ XOR of a_k * v[j - k], a_k the polynomial's bits."""
    global _DIRECTIONS
    if _DIRECTIONS is None:
        from ember._sobol_directions import JOE_KUO

        rows = [[1] * _BITS]  # the first dimension: m_j = 1, the van der Corput sequence
        rows += [[int(t) for t in line.split()] for line in JOE_KUO.split("\n") if line]
        table = np.zeros((len(rows), _BITS), np.int64)
        table[0] = [1 << (_BITS - 1 - j) for j in range(_BITS)]
        for d, (s, a, *m) in enumerate(rows[1:], start=1):
            v = [m[j] << (_BITS - 1 - j) for j in range(s)]
            for j in range(s, _BITS):
                x = v[j - s] ^ (v[j - s] >> s)
                for k in range(1, s):
                    if (a >> (s - 1 - k)) & 1:
                        x ^= v[j - k]
                v.append(x)
            table[d] = v
        _DIRECTIONS = table
    return _DIRECTIONS


MAXDIM = 1111  # the dimensions of ember's direction table (PyTorch's has 21201)


class SobolEngine:
    """A generator of Sobol' points in [0, 1)^dimension (torch.quasirandom.SobolEngine).

    `draw(n)` returns the next n points as an (n, dimension) tensor, `draw_base2(m)` the next
    2**m, `fast_forward(n)` skips n, `reset()` starts again. With scramble=True the points
    are randomised (see the module's notes), reproducibly for a given seed.
    """

    MAXBIT = _BITS
    MAXDIM = MAXDIM

    def __init__(self, dimension: int, scramble: bool = False, seed: int | None = None) -> None:
        if not 1 <= dimension <= MAXDIM:
            raise ValueError(
                f"Supported range of dimensionality for SobolEngine is [1, {MAXDIM}] in ember (PyTorch's "
                "goes to 21201: ember ships the first 1111 dimensions of the Joe-Kuo table)"
            )
        self.dimension, self.scramble, self.seed = dimension, scramble, seed
        self._v = _direction_numbers()[:dimension].T.copy()  # (30, dimension): v[j] of every coordinate
        self._shift = np.zeros(dimension, np.int64)
        if scramble:
            self._scramble()
        self.num_generated = 0

    @property
    def sobolstate(self) -> Tensor:
        """The direction numbers, (dimension, MAXBIT) integers (scrambled, if scramble)."""
        return Tensor(self._v.T.copy())

    @property
    def shift(self) -> Tensor:
        """The digital shift XORed into every point, (dimension,) integers (zeros unscrambled)."""
        return Tensor(self._shift.copy())

    @property
    def quasi(self) -> Tensor:
        """The last point drawn as integers (the shift before the first draw)."""
        last = self._points(self.num_generated - 1, 1)[0] if self.num_generated else self._shift
        return Tensor(last.copy())

    def _scramble(self) -> None:
        """A random digital shift and a random lower-triangular (unit diagonal) matrix per
        coordinate applied to its direction numbers' bits, most significant bit first."""
        gen = Generator()
        if self.seed is not None:
            gen.manual_seed(self.seed)
        else:
            gen.seed()
        powers = 1 << np.arange(_BITS - 1, -1, -1, dtype=np.int64)  # bit i of a number, MSB first
        self._shift = gen.rng.integers(0, 2, (self.dimension, _BITS)) @ powers
        ltm = np.tril(gen.rng.integers(0, 2, (self.dimension, _BITS, _BITS)), -1) + np.eye(
            _BITS, dtype=np.int64
        )
        bits = (self._v.T[:, :, None] & powers) != 0  # (dimension, 30 numbers, 30 bits)
        scrambled = np.einsum("dik,djk->dji", ltm, bits.astype(np.int64)) % 2
        self._v = (scrambled @ powers).T.copy()

    def _points(self, start: int, n: int) -> np.ndarray:
        """The integer points start ... start + n - 1, (n, dimension)."""
        index = np.arange(start, start + n, dtype=np.int64)
        gray = index ^ (index >> 1)
        points = np.broadcast_to(self._shift, (n, self.dimension)).copy()
        for j in range(_BITS):
            on = ((gray >> j) & 1).astype(bool)
            if on.any():
                points[on] ^= self._v[j]
        return points

    def draw(self, n: int = 1, out: Tensor | None = None, dtype: Any = None) -> Tensor:
        """The next n points, (n, dimension), of dtype (default: the default float dtype);
        written into out when given."""
        dt = dtypes.get_default_dtype() if dtype is None else dtype
        np_dtype = dtypes.to_numpy_dtype(dt)
        if np_dtype.kind != "f" or np_dtype.itemsize < 4:
            raise NotImplementedError(
                f"\"_sobol_engine_draw\" not implemented for '{dtypes.scalar_type_name(np_dtype)}'"
            )
        values = self._points(self.num_generated, n) * (1.0 / (1 << _BITS))
        self.num_generated += n
        result = Tensor(values.astype(np_dtype))
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m: int, out: Tensor | None = None, dtype: Any = None) -> Tensor:
        """The next 2**m points; the total drawn must stay a power of 2, which keeps the
        sequence's balance."""
        n = 2**m
        total = self.num_generated + n
        if total & (total - 1):
            raise ValueError(
                "The balance properties of Sobol' points require n to be a power of 2. "
                f"{self.num_generated} points have been previously generated, then: {self.num_generated} "
                f"+ 2**{m} = {total}. If you still want to do this, please use 'SobolEngine.draw()' instead."
            )
        return self.draw(n, out=out, dtype=dtype)

    def reset(self) -> SobolEngine:
        """Start again from the first point."""
        self.num_generated = 0
        return self

    def fast_forward(self, n: int) -> SobolEngine:
        """Skip the next n points."""
        self.num_generated += n
        return self

    def __repr__(self) -> str:
        parts = [f"dimension={self.dimension}"]
        if self.scramble:
            parts.append("scramble=True")
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        return f"SobolEngine({', '.join(parts)})"
