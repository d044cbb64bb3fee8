"""ember.quasirandom.SobolEngine: unscrambled points equal PyTorch's exactly; scrambled ones
(drawn from ember's generator, so not PyTorch's) keep the net's stratification."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import requires_torch

import ember
from ember.quasirandom import SobolEngine


@requires_torch
def test_direction_numbers_are_pytorchs():
    import torch

    np.testing.assert_array_equal(
        SobolEngine(1111).sobolstate.numpy(), torch.quasirandom.SobolEngine(1111).sobolstate.numpy()
    )


@requires_torch
@pytest.mark.parametrize("dimension", [1, 2, 7, 300])
def test_unscrambled_points_equal_pytorchs(dimension):
    import torch

    a, b = SobolEngine(dimension), torch.quasirandom.SobolEngine(dimension)
    np.testing.assert_array_equal(a.draw(1).numpy(), b.draw(1).numpy())
    np.testing.assert_array_equal(a.draw(9).numpy(), b.draw(9).numpy())
    a.fast_forward(1000), b.fast_forward(1000)
    np.testing.assert_array_equal(
        a.draw(5, dtype=ember.float64).numpy(), b.draw(5, dtype=torch.float64).numpy()
    )
    np.testing.assert_array_equal(a.quasi.numpy(), b.quasi.numpy())
    assert a.num_generated == b.num_generated == 1015
    a.reset(), b.reset()
    a.fast_forward(3), b.fast_forward(3)
    np.testing.assert_array_equal(a.draw(1).numpy(), b.draw(1).numpy())
    np.testing.assert_array_equal(a.draw_base2(2).numpy(), b.draw_base2(2).numpy())


@requires_torch
def test_errors_out_and_repr_match_pytorch():
    import torch

    for engine in (SobolEngine, torch.quasirandom.SobolEngine):
        with pytest.raises(ValueError, match="Supported range of dimensionality"):
            engine(0)
        e = engine(2)
        e.draw(3)
        with pytest.raises(ValueError, match="require n to be a power of 2"):
            e.draw_base2(2)
        assert repr(engine(3)) == "SobolEngine(dimension=3)"
        assert repr(engine(3, scramble=True, seed=1)) == "SobolEngine(dimension=3, scramble=True, seed=1)"
    with pytest.raises(ValueError, match="Supported range"):
        SobolEngine(1112)  # ember's table stops at 1111 dimensions (PyTorch's at 21201)
    out = ember.empty(2, 3)
    assert SobolEngine(3).draw(2, out=out) is out and out[1].tolist() == [0.5, 0.5, 0.5]
    assert SobolEngine(3).draw(2).dtype == ember.float32
    with pytest.raises(NotImplementedError, match="not implemented for 'Half'"):
        SobolEngine(2).draw(2, dtype=ember.float16)


def test_scrambled_points_are_a_reproducible_net():
    m, d = 7, 5
    points = SobolEngine(d, scramble=True, seed=3).draw_base2(m).numpy()
    assert points.min() >= 0 and points.max() < 1
    # 2**m points: exactly one in each interval [k / 2**m, (k + 1) / 2**m) of every coordinate
    cells = np.sort(np.floor(points * 2**m).astype(int), axis=0)
    np.testing.assert_array_equal(cells, np.repeat(np.arange(2**m)[:, None], d, axis=1))
    # and in each 2-d projection, one point in each of the 2**m cells of (2**3, 2**4) rectangles
    pair = np.floor(points[:, :2] * [8, 16]).astype(int)
    assert len({tuple(p) for p in pair}) == 2**m
    again = SobolEngine(d, scramble=True, seed=3)
    np.testing.assert_array_equal(again.draw_base2(m).numpy(), points)
    other = SobolEngine(d, scramble=True, seed=4).draw_base2(m).numpy()
    assert not np.array_equal(other, points)
    assert not np.array_equal(points[0], np.zeros(d))  # the shift moves the first point off 0
    engine = SobolEngine(d, scramble=True, seed=3)
    engine.fast_forward(10)
    np.testing.assert_array_equal(engine.draw(4).numpy(), points[10:14])
    engine.reset()
    np.testing.assert_array_equal(engine.draw(1).numpy(), points[:1])
