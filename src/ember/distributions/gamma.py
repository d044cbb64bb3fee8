"""Gamma and Beta, the distributions whose densities carry a gamma function.

Both are reparameterized: a Gamma(a, rate) draw is x / rate with x a Gamma(a, 1) draw whose
gradient in a is the implicit one (_incomplete_gamma.py), and a Beta(a, b) draw is
X / (X + Y) of two such draws, so gradients go through the gammas to both concentrations.
"""

from __future__ import annotations

from typing import Any

import ember
from ember._tensor import Tensor
from ember.autograd.function import apply_one
from ember.distributions import constraints
from ember.distributions._incomplete_gamma import Igamma, StandardGamma
from ember.distributions.distribution import Distribution
from ember.distributions.utils import broadcast_all

__all__ = ["Beta", "Gamma"]


def _clamped(value: Tensor, low: float, high: float | None = None) -> Tensor:
    """value with entries outside [low, high] (a draw that underflowed to 0, or rounded to
    1) moved to the bound, where log_prob is finite. The gradient stays value's own: the
    move is left out of the graph, as PyTorch clamps the draw's data in place."""
    inside = value.detach().clamp(min=low, max=high)
    if bool((inside == value.detach()).all()):
        return value
    return value + (inside - value.detach())


class Gamma(Distribution):
    """The gamma distribution with shape `concentration` and inverse scale `rate`: density
    rate^c x^(c-1) exp(-rate x) / Gamma(c) (torch.distributions.Gamma)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.size(), validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        x = apply_one(StandardGamma, self.concentration, tuple(self._extended_shape(sample_shape)))
        return _clamped(x / self.rate, ember.finfo(self.rate.dtype).tiny)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        return ember.xlogy(c, r) + ember.xlogy(c - 1, value) - r * value - ember.lgamma(c)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c, x = ember.broadcast_tensors(self.concentration, self.rate * value)
        return Igamma.apply(c, x)

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - ember.log(self.rate) + ember.lgamma(c) + (1 - c) * ember.digamma(c)


class Beta(Distribution):
    """The beta distribution on [0, 1], density proportional to x^(concentration1 - 1)
    (1 - x)^(concentration0 - 1) (torch.distributions.Beta)."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        # kept under private names, so the repr is PyTorch's `Beta()`
        self._concentration1, self._concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self._concentration1.size(), validate_args=validate_args)

    def _expanded_names(self) -> list:
        return ["_concentration1", "_concentration0"]

    @property
    def concentration1(self):
        return self._concentration1

    @property
    def concentration0(self):
        return self._concentration0

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        # (a - 1) / (a + b - 2) when both exceed 1; a concentration below 1 puts the mode at
        # its end of the interval, and when both are below 1 the density is highest at the
        # end of the larger one (0 or 1), as PyTorch chooses
        a, b = self.concentration1, self.concentration0
        a1, b1 = (a - 1).clamp(min=0), (b - 1).clamp(min=0)
        both_below = (a < 1) & (b < 1)
        return ember.where(both_below, (a >= b).to(a.dtype), a1 / (a1 + b1))

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        x = apply_one(StandardGamma, self.concentration1, shape)
        y = apply_one(StandardGamma, self.concentration0, shape)
        finfo = ember.finfo(x.dtype)
        return _clamped(x / (x + y), finfo.tiny, 1 - finfo.eps)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        log_beta = ember.lgamma(a) + ember.lgamma(b) - ember.lgamma(a + b)
        return ember.xlogy(a - 1, value) + ember.xlogy(b - 1, 1 - value) - log_beta

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        total = a + b
        log_beta = ember.lgamma(a) + ember.lgamma(b) - ember.lgamma(total)
        return (
            log_beta
            - (a - 1) * ember.digamma(a)
            - (b - 1) * ember.digamma(b)
            + (total - 2) * ember.digamma(total)
        )
