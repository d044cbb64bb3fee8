"""The continuous distributions of one real number with location/scale or rate
parameters: Normal, Laplace, Uniform, Exponential, Cauchy and HalfCauchy, HalfNormal,
LogNormal, Gumbel, Weibull, Pareto, GeneralizedPareto. Each draw is the parameters applied to
standard noise (loc + scale * eps, ...), so all four have `rsample`, and every formula is
written with ember's differentiable ops: gradients reach the parameters (and the value)."""

from __future__ import annotations

import math
from typing import Any

import ember
from ember._tensor import Tensor
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.exp_family import ExponentialFamily
from ember.distributions.utils import broadcast_all, draw

__all__ = [
    "Cauchy",
    "Exponential",
    "GeneralizedPareto",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Laplace",
    "LogNormal",
    "Normal",
    "Pareto",
    "Uniform",
    "Weibull",
]

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
_EULER_GAMMA = 0.57721566490153286060


class _LocationScale(Distribution):
    """What the distributions of a real location `loc` and a positive `scale` share
    (Normal, Laplace, Cauchy, Gumbel): the parameters broadcast together, the support,
    rsample, and the mode at loc."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.size(), validate_args=validate_args)

    @property
    def mode(self):
        return self.loc


class Normal(_LocationScale, ExponentialFamily):
    """The normal (Gaussian) distribution with mean `loc` and standard deviation `scale`
    (torch.distributions.Normal)."""

    _mean_carrier_measure = 0

    @property
    def _natural_params(self) -> tuple:
        """(loc / scale^2, -1 / (2 scale^2)), the coefficients of x and x^2 in the log density."""
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        """log of the integral of exp(x t + y t^2) over t: -x^2 / (4 y) + log(pi / -y) / 2."""
        return -0.25 * x.pow(2) / y + 0.5 * ember.log(-math.pi / y)

    @property
    def mean(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        eps = draw("normal", self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.scale**2) - self.scale.log() - _LOG_SQRT_2PI

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ember.erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value: Tensor) -> Tensor:
        return self.loc + self.scale * ember.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + _LOG_SQRT_2PI + self.scale.log()


class Laplace(_LocationScale):
    """The Laplace distribution, density exp(-|x - loc| / scale) / (2 scale)
    (torch.distributions.Laplace)."""

    @property
    def mean(self):
        return self.loc

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        # u uniform on [eps - 1, 1): the inverse cdf of a symmetric exponential; the lower
        # end is moved in by eps so that log1p(-|u|) stays finite
        eps = ember.finfo(self.loc.dtype).eps
        u = draw("uniform", self._extended_shape(sample_shape), self.loc.dtype) * (2 - eps) + (eps - 1)
        return self.loc - self.scale * u.sign() * ember.log1p(-u.abs())

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -ember.log(2 * self.scale) - (value - self.loc).abs() / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return 0.5 - 0.5 * z.sign() * ember.expm1(-z.abs())

    def icdf(self, value: Tensor) -> Tensor:
        centred = value - 0.5
        return self.loc - self.scale * centred.sign() * ember.log1p(-2 * centred.abs())

    def entropy(self) -> Tensor:
        return 1 + ember.log(2 * self.scale)


class Uniform(Distribution):
    """The uniform distribution on [low, high) (torch.distributions.Uniform)."""

    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.size(), validate_args=validate_args)

    @property
    def arg_constraints(self) -> dict:  # type: ignore[override]
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> Any:  # type: ignore[override]
        return constraints.interval(self.low, self.high)

    def _expanded_names(self) -> list:
        return ["low", "high"]

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return math.nan * self.high  # every point of the interval is a mode

    @property
    def stddev(self):
        return (self.high - self.low) / math.sqrt(12)

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = draw("uniform", self._extended_shape(sample_shape), self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        inside = ((self.low <= value) & (value < self.high)).to(self.low.dtype)
        return ember.log(inside) - ember.log(self.high - self.low)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value: Tensor) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return ember.log(self.high - self.low)


class Exponential(ExponentialFamily):
    """The exponential distribution, density rate * exp(-rate * x) for x >= 0
    (torch.distributions.Exponential)."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.size(), validate_args=validate_args)

    _mean_carrier_measure = 0

    @property
    def _natural_params(self) -> tuple:
        """(-rate,), the coefficient of x in the log density."""
        return (-self.rate,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """log of the integral of exp(x t) over t >= 0: -log(-x)."""
        return -ember.log(-x)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return ember.zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return draw("exponential", self._extended_shape(sample_shape), self.rate.dtype) / self.rate

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 1 - ember.exp(-self.rate * value)

    def icdf(self, value: Tensor) -> Tensor:
        return -ember.log1p(-value) / self.rate

    def entropy(self) -> Tensor:
        return 1 - self.rate.log()


class Cauchy(_LocationScale):
    """The Cauchy (Lorentz) distribution, density 1 / (pi scale (1 + ((x - loc) / scale)^2)):
    its mean and variance do not exist (NaN and inf, as in PyTorch) (torch.distributions.Cauchy)."""

    @property
    def mean(self):
        return ember.full(self._extended_shape(), math.nan, dtype=self.loc.dtype)

    @property
    def variance(self):
        return ember.full(self._extended_shape(), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = draw("uniform", self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + self.scale * ember.tan(math.pi * (u - 0.5))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - ember.log1p(z**2)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ember.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value: Tensor) -> Tensor:
        return ember.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()


class _Folded(Distribution):
    """|X| for X with a distribution symmetric about 0 of scale `scale` (`_base`, made in
    __init__): HalfNormal and HalfCauchy. The density doubles on [0, inf), the cdf is
    2 F(x) - 1 and the entropy loses log 2. PyTorch builds both as transformed
    distributions; ember writes the formulas out, with the same results and repr."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _base: Any = None  # Normal or Cauchy

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        self.base_dist = self._base(0, scale, validate_args=False)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    def _expanded_names(self) -> list:
        return ["base_dist"]

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mode(self):
        return ember.zeros_like(self.scale)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return ember.where(value >= 0, log_prob, ember.full_like(log_prob, -math.inf))

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob: Tensor) -> Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_Folded):
    """|X| for X ~ Normal(0, scale) (torch.distributions.HalfNormal)."""

    _base = Normal

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)


class LogNormal(Distribution):
    """exp(X) for X ~ Normal(loc, scale) (torch.distributions.LogNormal). PyTorch builds it
    as a transformed Normal; ember writes its formulas out, with the same results and repr."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.base_dist = Normal(loc, scale, validate_args=validate_args)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    def _expanded_names(self) -> list:
        return ["base_dist"]

    @property
    def loc(self):
        return self.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self):
        return (self.loc - self.scale.pow(2)).exp()

    @property
    def variance(self):
        s2 = self.scale.pow(2)
        return ember.expm1(s2) * (2 * self.loc + s2).exp()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value: Tensor) -> Tensor:
        # the density of exp(X): the Normal's at log(value), over the Jacobian |d exp(x)/dx| = value
        if self._validate_args:
            self._validate_sample(value)
        x = value.log()
        return self.base_dist.log_prob(x) - x

    def cdf(self, value: Tensor) -> Tensor:
        # 0, the open end of the support, has cdf 0 (PyTorch checks log(value) against the
        # Normal's support, which -inf is in)
        if self._validate_args:
            self._validate_sample(value, constraints.nonnegative)
        return self.base_dist.cdf(value.log())

    def icdf(self, value: Tensor) -> Tensor:
        return self.base_dist.icdf(value).exp()

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc


def _uniform_open(shape: Any, dtype: Any) -> Tensor:
    """Uniform noise kept inside (0, 1): clamped to [tiny, 1 - eps], so that its
    logarithm and that of 1 - u are finite."""
    finfo = ember.finfo(dtype)
    return draw("uniform", shape, dtype).clamp(min=finfo.tiny, max=1 - finfo.eps)


class Gumbel(_LocationScale):
    """The Gumbel (type I extreme value) distribution, cdf exp(-exp(-(x - loc) / scale)):
    the law of the maximum of many light-tailed draws, and the noise of the Gumbel-max
    trick (torch.distributions.Gumbel)."""

    @property
    def mean(self):
        return self.loc + self.scale * _EULER_GAMMA

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = _uniform_open(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc - self.scale * ember.log(-u.log())

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (self.loc - value) / self.scale
        return z - z.exp() - self.scale.log()

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ember.exp(-ember.exp((self.loc - value) / self.scale))

    def icdf(self, value: Tensor) -> Tensor:
        return self.loc - self.scale * ember.log(-value.log())

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + _EULER_GAMMA)


class Weibull(Distribution):
    """The Weibull distribution, cdf 1 - exp(-(x / scale)^concentration) for x > 0: a draw
    is scale * E^(1 / concentration) for E exponential (torch.distributions.Weibull)."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.scale, self.concentration = broadcast_all(scale, concentration)
        super().__init__(self.scale.size(), validate_args=validate_args)

    @property
    def mean(self):
        return self.scale * ember.lgamma(1 + self.concentration.reciprocal()).exp()

    @property
    def mode(self):
        c = self.concentration
        return self.scale * ((c - 1) / c).pow(c.reciprocal())

    @property
    def variance(self):
        c = self.concentration
        second = ember.lgamma(1 + 2 / c).exp() - ember.lgamma(1 + c.reciprocal()).exp().pow(2)
        return self.scale.pow(2) * second

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        e = draw("exponential", self._extended_shape(sample_shape), self.scale.dtype)
        return self.scale * e.pow(self.concentration.reciprocal())

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        # log(c / s) + (c - 1) log(x / s) - (x / s)^c
        z = value / self.scale
        c = self.concentration
        return (c / self.scale).log() + (c - 1) * z.log() - z.pow(c)

    def cdf(self, value: Tensor) -> Tensor:
        # 0, the open end of the support, has cdf 0, as in PyTorch
        if self._validate_args:
            self._validate_sample(value, constraints.nonnegative)
        return -ember.expm1(-(value / self.scale).pow(self.concentration))

    def icdf(self, value: Tensor) -> Tensor:
        return self.scale * (-ember.log1p(-value)).pow(self.concentration.reciprocal())

    def entropy(self) -> Tensor:
        c = self.concentration
        return _EULER_GAMMA * (1 - c.reciprocal()) + ember.log(self.scale / c) + 1


class Pareto(Distribution):
    """The Pareto distribution, density alpha scale^alpha / x^(alpha + 1) for x >= scale:
    a draw is scale * exp(E / alpha) for E exponential (torch.distributions.Pareto). The
    mean is inf for alpha <= 1 and the variance for alpha <= 2, as in PyTorch."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True

    def __init__(self, scale: Any, alpha: Any, validate_args: bool | None = None) -> None:
        self.scale, self.alpha = broadcast_all(scale, alpha)
        super().__init__(self.scale.size(), validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> Any:  # type: ignore[override]
        return constraints.greater_than_eq(self.scale)

    def _expanded_names(self) -> list:
        return ["scale", "alpha"]

    @property
    def mean(self):
        a = self.alpha.clamp(min=1)  # a = 1 divides by 0: inf
        return a * self.scale / (a - 1)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        e = draw("exponential", self._extended_shape(sample_shape), self.scale.dtype)
        return self.scale * ember.exp(e / self.alpha)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self.alpha.log() - self.scale.log() - (self.alpha + 1) * (value / self.scale).log()

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -ember.expm1(-self.alpha * (value / self.scale).log())

    def icdf(self, value: Tensor) -> Tensor:
        return self.scale * ember.exp(-ember.log1p(-value) / self.alpha)

    def entropy(self) -> Tensor:
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())


class HalfCauchy(_Folded):
    """|X| for X ~ Cauchy(0, scale) (torch.distributions.HalfCauchy). Its mean is inf."""

    _base = Cauchy

    @property
    def mean(self):
        return ember.full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self):
        return self.base_dist.variance


class GeneralizedPareto(Distribution):
    """The generalized Pareto distribution, survival function (1 + c z)^(-1/c) for
    z = (x - loc) / scale and concentration c (exp(-z) at c = 0): the law of exceedances
    over a high threshold (torch.distributions.GeneralizedPareto). Its support is
    [loc, inf) for c >= 0 and [loc, loc - scale / c] for c < 0; draws are the icdf of
    uniform noise, so reparameterized. c is taken as 0 where isclose(c, 0), as in PyTorch."""

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(self.loc.size(), validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> Any:  # type: ignore[override]
        upper = ember.where(
            self.concentration < 0,
            self.loc - self.scale / self.concentration,
            ember.full_like(self.loc, math.inf),
        )
        return constraints.interval(self.loc, upper)

    def _expanded_names(self) -> list:
        return ["loc", "scale", "concentration"]

    def _safe_concentration(self) -> tuple:
        """Where c is (close to) 0, and c with those entries replaced by 1 so that the
        formulas dividing by c stay finite on the branch not taken."""
        c = self.concentration
        zero = ember.isclose(c, ember.zeros_like(c))
        return zero, ember.where(zero, ember.ones_like(c), c)

    @property
    def mean(self):
        c = self.concentration
        valid = c < 1
        safe = ember.where(valid, c, ember.full_like(c, 0.5))
        return ember.where(valid, self.loc + self.scale / (1 - safe), ember.full_like(c, math.nan))

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        c = self.concentration
        valid = c < 0.5
        safe = ember.where(valid, c, ember.full_like(c, 0.25))
        variance = self.scale**2 / ((1 - safe) ** 2 * (1 - 2 * safe))
        return ember.where(valid, variance, ember.full_like(c, math.nan))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.icdf(draw("uniform", self._extended_shape(sample_shape), self.loc.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        zero, c = self._safe_concentration()
        y = 1 / c + ember.ones_like(z)
        nonzero = ember.where(y == 0, y, y * ember.log1p(c * z))
        return -self.scale.log() - ember.where(zero, z, nonzero)

    def log_survival_function(self, value: Tensor) -> Tensor:
        """log(1 - cdf(value))."""
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        zero, c = self._safe_concentration()
        return ember.where(zero, -z, -ember.log1p(c * z) / c)

    def log_cdf(self, value: Tensor) -> Tensor:
        """log(cdf(value))."""
        return ember.log1p(-ember.exp(self.log_survival_function(value)))

    def cdf(self, value: Tensor) -> Tensor:
        return ember.exp(self.log_cdf(value))

    def icdf(self, value: Tensor) -> Tensor:
        zero, c = self._safe_concentration()
        log_u = ember.log1p(-value)
        return ember.where(
            zero, self.loc - self.scale * log_u, self.loc + self.scale / c * ember.expm1(-c * log_u)
        )

    def entropy(self) -> Tensor:
        return (self.scale.log() + self.concentration + 1).expand(*self._batch_shape)
