"""VonMises: the circular normal distribution of an angle (torch.distributions.VonMises)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import ember
from ember._tensor import Tensor
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.utils import broadcast_all, float64_values
from ember.dtypes import to_numpy_dtype
from ember.random import rng

__all__ = ["VonMises"]


def _log_i0(x: Tensor) -> Tensor:
    """log I_0(x) for x > 0, through the exponentially scaled i0e (finite for large x)."""
    return ember.special.i0e(x).log() + x


def _best_fisher(loc: np.ndarray, kappa: np.ndarray, shape: tuple) -> np.ndarray:
    """Draws of shape `shape` by Best and Fisher's rejection sampler (Applied Statistics,
    1979), in float64 throughout (in float32 it stalls for concentrations near 1e-4),
    wrapped into [-pi, pi)."""
    g = rng(None)
    loc, kappa = np.broadcast_to(loc, shape), np.broadcast_to(kappa, shape)
    tau = 1 + np.sqrt(1 + 4 * kappa**2)
    rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho**2) / (2 * rho))
    x = np.zeros(shape)
    done = np.zeros(shape, dtype=bool)
    while not done.all():
        u1, u2, u3 = g.random((3, *shape))
        z = np.cos(math.pi * u1)
        f = (1 + r * z) / (r + z)
        c = kappa * (r - f)
        with np.errstate(divide="ignore", invalid="ignore"):
            accept = ~done & (((c * (2 - c) - u2) > 0) | (np.log(c / u2) + 1 - c >= 0))
        x = np.where(accept, np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1, 1)), x)
        done |= accept
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """The von Mises distribution of an angle, density exp(concentration cos(x - loc)) /
    (2 pi I_0(concentration)) (torch.distributions.VonMises). loc and the values may be
    any real numbers, read modulo 2 pi; draws lie in [-pi, pi). The mean and variance are
    the circular ones. Draws are by rejection, not reparameterized (no rsample).

    log I_0 is computed from ember's i0e, to double precision; PyTorch uses a polynomial
    approximation good to about 1e-7, so float64 log_prob values agree with PyTorch's to
    that."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.size(), validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        # 1 - I_1(k) / I_0(k), the circular variance
        k = self.concentration
        return 1 - ember.special.i1e(k) / ember.special.i0e(k)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        loc = float64_values(self.loc)
        kappa = float64_values(self.concentration)
        out = _best_fisher(loc, kappa, shape)
        return ember.from_numpy(np.ascontiguousarray(out, dtype=to_numpy_dtype(self.loc.dtype)))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        k = self.concentration
        return k * ember.cos(value - self.loc) - math.log(2 * math.pi) - _log_i0(k)
