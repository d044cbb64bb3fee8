"""The distributions whose densities carry a gamma function: Gamma, Chi2 and InverseGamma,
Beta, Kumaraswamy and Dirichlet, StudentT and FisherSnedecor.

All are reparameterized: a Gamma(a, rate) draw is x / rate with x a Gamma(a, 1) draw whose
gradient in a is the implicit one (_incomplete_gamma.py), and a Beta(a, b) draw is
X / (X + Y) of two such draws (a Dirichlet's, n of them normalized), so gradients go
through the gammas to every concentration.
"""

from __future__ import annotations

import math
from typing import Any

import ember
from ember._tensor import Tensor
from ember.autograd.function import apply_one
from ember.distributions import constraints
from ember.distributions._incomplete_gamma import Igamma, StandardGamma
from ember.distributions.distribution import Distribution
from ember.distributions.exp_family import ExponentialFamily
from ember.distributions.utils import broadcast_all, draw
from ember.nn import functional as F

__all__ = ["Beta", "Chi2", "Dirichlet", "FisherSnedecor", "Gamma", "InverseGamma", "Kumaraswamy", "StudentT"]

_EULER_GAMMA = 0.57721566490153286060


def _clamped(value: Tensor, low: float, high: float | None = None) -> Tensor:
    """value with entries outside [low, high] (a draw that underflowed to 0, or rounded to
    1) moved to the bound, where log_prob is finite. The gradient stays value's own: the
    move is left out of the graph, as PyTorch clamps the draw's data in place."""
    inside = value.detach().clamp(min=low, max=high)
    if bool((inside == value.detach()).all()):
        return value
    return value + (inside - value.detach())


class Gamma(ExponentialFamily):
    """The gamma distribution with shape `concentration` and inverse scale `rate`: density
    rate^c x^(c-1) exp(-rate x) / Gamma(c) (torch.distributions.Gamma)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.size(), validate_args=validate_args)

    _mean_carrier_measure = 0

    @property
    def _natural_params(self) -> tuple:
        """(concentration - 1, -rate), the coefficients of log x and x in the log density."""
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        """log Gamma(x + 1) - (x + 1) log(-y)."""
        return ember.lgamma(x + 1) + (x + 1) * ember.log(-y.reciprocal())

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
        if not isinstance(value, Tensor):  # PyTorch's Gamma also takes a number
            value = ember.tensor(value, dtype=self.rate.dtype)
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


class Beta(ExponentialFamily):
    """The beta distribution on [0, 1], density proportional to x^(concentration1 - 1)
    (1 - x)^(concentration0 - 1) (torch.distributions.Beta)."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        # kept under private names, so the repr is PyTorch's `Beta()`
        self._concentration1, self._concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self._concentration1.size(), validate_args=validate_args)

    @property
    def _natural_params(self) -> tuple:
        """(concentration1, concentration0); no carrier measure is given, as in PyTorch."""
        return (self._concentration1, self._concentration0)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        """The log of the beta function B(x, y)."""
        return ember.lgamma(x) + ember.lgamma(y) - ember.lgamma(x + y)

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
        # its end of the interval, and when both are below 1 the density grows fastest
        # towards the end of the larger one (1 when a >= b; PyTorch always answers 1, see
        # docs/differences.md)
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


class Chi2(Gamma):
    """The chi-squared distribution with `df` degrees of freedom, Gamma(df / 2, 1 / 2)
    (torch.distributions.Chi2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def _expanded_names(self) -> list:
        return ["concentration", "rate"]

    @property
    def df(self):
        return self.concentration * 2


class StudentT(Distribution):
    """Student's t distribution with `df` degrees of freedom, location `loc` and scale
    `scale` (torch.distributions.StudentT). A draw is loc + scale * X / sqrt(Z / df), X
    standard normal and Z chi-squared, so it is reparameterized through Z's gamma draw."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> StudentT:
        new = super().expand(batch_shape, _instance)
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    @property
    def mean(self):
        nan = ember.full_like(self.loc, math.nan)
        return ember.where(self.df > 1, self.loc, nan)  # no mean for df <= 1

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        # scale^2 df / (df - 2) for df > 2; infinite for 1 < df <= 2; undefined for df <= 1
        finite = self.scale.pow(2) * self.df / (self.df - 2)
        infinite = ember.full_like(finite, math.inf)
        return ember.where(self.df > 2, finite, ember.where(self.df > 1, infinite, infinite * math.nan))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = draw("normal", shape, self.df.dtype)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * x * ember.rsqrt(z / self.df)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        half_df = 0.5 * self.df
        log_normalizer = (
            self.scale.log()
            + 0.5 * self.df.log()
            + 0.5 * math.log(math.pi)
            + ember.lgamma(half_df)
            - ember.lgamma(half_df + 0.5)
        )
        return -0.5 * (self.df + 1) * ember.log1p(y**2 / self.df) - log_normalizer

    def entropy(self) -> Tensor:
        half_df = 0.5 * self.df
        log_beta = ember.lgamma(half_df) + math.lgamma(0.5) - ember.lgamma(half_df + 0.5)
        return (
            self.scale.log()
            + (half_df + 0.5) * (ember.digamma(half_df + 0.5) - ember.digamma(half_df))
            + 0.5 * self.df.log()
            + log_beta
        )


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution over probability vectors, density proportional to
    prod_i x_i^(concentration_i - 1) on the simplex; event_shape is concentration's last
    dim (torch.distributions.Dirichlet). Draws are normalized gamma draws, reparameterized."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Any, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    @property
    def _natural_params(self) -> tuple:
        """(concentration,); no carrier measure is given, as in PyTorch."""
        return (self.concentration,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """The log of the multivariate beta function of x, along its last dim."""
        return ember.lgamma(x).sum(-1) - ember.lgamma(x.sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        # (c - 1) / sum(c - 1) with the parts below 1 at 0; when every c_i < 1 the density
        # grows fastest towards the corner of the largest c_i (PyTorch's argmax over NaNs
        # always answers the first corner, see docs/differences.md)
        c = self.concentration
        above = (c - 1).clamp(min=0)
        mode = above / above.sum(-1, keepdim=True)
        corner = F.one_hot(c.argmax(-1), c.shape[-1]).to(c.dtype)
        return ember.where((c < 1).all(-1, keepdim=True), corner, mode)

    @property
    def variance(self):
        c = self.concentration
        total = c.sum(-1, keepdim=True)
        return c * (total - c) / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        gammas = apply_one(StandardGamma, self.concentration, shape)
        finfo = ember.finfo(gammas.dtype)
        return _clamped(gammas / gammas.sum(-1, keepdim=True), finfo.tiny, 1 - finfo.eps)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return ember.xlogy(c - 1, value).sum(-1) + ember.lgamma(c.sum(-1)) - ember.lgamma(c).sum(-1)

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.shape[-1]
        total = c.sum(-1)
        return (
            ember.lgamma(c).sum(-1)
            - ember.lgamma(total)
            - (k - total) * ember.digamma(total)
            - ((c - 1) * ember.digamma(c)).sum(-1)
        )


class InverseGamma(Distribution):
    """1 / X for X ~ Gamma(concentration, rate): density rate^c x^(-c-1) exp(-rate / x) /
    Gamma(c) (torch.distributions.InverseGamma). PyTorch builds it as a transformed Gamma;
    ember writes its formulas out, with the same results and repr."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.base_dist = Gamma(concentration, rate, validate_args=validate_args)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    def _expanded_names(self) -> list:
        return ["base_dist"]

    @property
    def concentration(self):
        return self.base_dist.concentration

    @property
    def rate(self):
        return self.base_dist.rate

    @property
    def mean(self):
        c = self.concentration
        return ember.where(c > 1, self.rate / (c - 1), ember.full_like(c, math.inf))

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        c = self.concentration
        variance = self.rate.pow(2) / ((c - 1).pow(2) * (c - 2))
        return ember.where(c > 2, variance, ember.full_like(c, math.inf))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape).reciprocal()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        return ember.xlogy(c, r) - (c + 1) * value.log() - r / value - ember.lgamma(c)

    def cdf(self, value: Tensor) -> Tensor:
        # 1 - the Gamma's cdf at 1 / value; as in PyTorch, it is 1 / value that is checked
        # (against the Gamma's support), so cdf(0) is 0
        return 1 - self.base_dist.cdf(value.reciprocal())

    def entropy(self) -> Tensor:
        c = self.concentration
        return c + self.rate.log() + ember.lgamma(c) - (1 + c) * ember.digamma(c)


class FisherSnedecor(Distribution):
    """The F distribution with `df1` and `df2` degrees of freedom: the ratio (X1 / df1) /
    (X2 / df2) of two chi-squared draws, reparameterized through their gamma draws
    (torch.distributions.FisherSnedecor). Mean, mode and variance are NaN where they do
    not exist (df2 <= 2, df1 <= 2, df2 <= 4)."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1: Any, df2: Any, validate_args: bool | None = None) -> None:
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        super().__init__(self.df1.size(), validate_args=validate_args)

    def _expanded_names(self) -> list:
        return ["df1", "df2", "_gamma1", "_gamma2"]

    @property
    def mean(self):
        df2 = self.df2
        return ember.where(df2 > 2, df2 / (df2 - 2), ember.full_like(df2, math.nan))

    @property
    def mode(self):
        df1, df2 = self.df1, self.df2
        mode = (df1 - 2) / df1 * df2 / (df2 + 2)
        return ember.where(df1 > 2, mode, ember.full_like(mode, math.nan))

    @property
    def variance(self):
        df1, df2 = self.df1, self.df2
        variance = 2 * df2.pow(2) * (df1 + df2 - 2) / (df1 * (df2 - 2).pow(2) * (df2 - 4))
        return ember.where(df2 > 4, variance, ember.full_like(variance, math.nan))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        tiny = ember.finfo(self.df1.dtype).tiny
        x1 = self._gamma1.rsample(sample_shape)
        x2 = self._gamma2.rsample(sample_shape).clamp(min=tiny)
        return (x1 / x2).clamp(min=tiny)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        half1, half2 = self.df1 * 0.5, self.df2 * 0.5
        ratio = self.df1 / self.df2
        log_beta = ember.lgamma(half1 + half2) - ember.lgamma(half1) - ember.lgamma(half2)
        return (
            log_beta
            + half1 * ratio.log()
            + (half1 - 1) * value.log()
            - (half1 + half2) * ember.log1p(ratio * value)
        )


def _kumaraswamy_moment(a: Tensor, b: Tensor, n: int) -> Tensor:
    """E[X^n] = b B(1 + n / a, b) of a Kumaraswamy(a, b) variable."""
    shifted = 1 + n / a
    return b * ember.exp(ember.lgamma(shifted) + ember.lgamma(b) - ember.lgamma(shifted + b))


class Kumaraswamy(Distribution):
    """The Kumaraswamy distribution on (0, 1), cdf 1 - (1 - x^a)^b for a = `concentration1`
    and b = `concentration0`: Beta-like, with a closed-form cdf, so a draw is
    (1 - u^(1/b))^(1/a) for u uniform (torch.distributions.Kumaraswamy). PyTorch builds it
    as a transformed Uniform; ember writes its formulas out, with the same results."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.size(), validate_args=validate_args)

    @property
    def mean(self):
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        # ((a - 1) / (a b - 1))^(1 / a), NaN where a < 1 or b < 1 (the density is highest
        # at an end of the interval there). PyTorch 2.13's formula, (1 - b)^(1/b) / (1 - a b),
        # is NaN for every b > 1 (see docs/differences.md).
        a, b = self.concentration1, self.concentration0
        log_mode = (ember.log(a - 1) - ember.log(a * b - 1)) / a
        return ember.where((b < 1) | (a < 1), ember.full_like(log_mode, math.nan), log_mode.exp())

    @property
    def variance(self):
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = draw("uniform", self._extended_shape(sample_shape), self.concentration1.dtype)
        return (1 - u.pow(self.concentration0.reciprocal())).pow(self.concentration1.reciprocal())

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return a.log() + b.log() + (a - 1) * value.log() + (b - 1) * ember.log1p(-value.pow(a))

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (1 - value.pow(self.concentration1)).pow(self.concentration0).clamp(min=0, max=1)

    def icdf(self, value: Tensor) -> Tensor:
        a, b = self.concentration1, self.concentration0
        return (1 - (1 - value).pow(b.reciprocal())).pow(a.reciprocal())

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        t1, t0 = 1 - a.reciprocal(), 1 - b.reciprocal()
        harmonic = ember.digamma(b + 1) + _EULER_GAMMA
        return t0 + t1 * harmonic - a.log() - b.log()
