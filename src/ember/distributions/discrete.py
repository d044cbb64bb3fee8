"""The distributions of counts: Bernoulli, Binomial, Geometric, NegativeBinomial, Poisson.

Bernoulli, Binomial and Geometric take `probs` or `logits` (exactly one): the other is
computed on first use and then kept (`lazy_property`), as in PyTorch, so the repr shows it
from then on. Their draws are not differentiable functions of the parameters (no rsample);
the score-function (REINFORCE) gradient goes through log_prob, which is.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

import ember
from ember._tensor import Size, Tensor
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.exp_family import ExponentialFamily
from ember.distributions.utils import (
    broadcast_all,
    draw,
    float64_values,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)
from ember.dtypes import to_numpy_dtype
from ember.nn import functional as F
from ember.ops.api.sampling import check_poisson_rates
from ember.random import rng

__all__ = ["Bernoulli", "Binomial", "Geometric", "NegativeBinomial", "Poisson"]


def _one_of(probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class _ProbsOrLogits:
    """What the distributions given `probs` or `logits` (exactly one) share: the other is
    computed on first use and then kept. `_binary`: one probability per entry (sigmoid and
    logit), or K over the last dim (softmax and log; Categorical)."""

    _binary = True

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=self._binary)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=self._binary)

    @property
    def _param(self):
        """The parameter given, probs or logits."""
        return self.__dict__["probs"] if "probs" in self.__dict__ else self.__dict__["logits"]

    @property
    def param_shape(self):
        return self._param.size()

    def _store_param(self, probs: Any, logits: Any) -> tuple:
        """The one given, as a tensor kept under its name, and the batch shape it makes
        (() for a Python number)."""
        _one_of(probs, logits)
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        self.__dict__["probs" if probs is not None else "logits"] = param
        return param, Size() if isinstance(given, numbers.Number) else param.size()

    def _store_param_and_count(self, total_count: Any, probs: Any, logits: Any) -> Tensor:
        """The one given, broadcast with `total_count` and kept under its name;
        total_count is kept in the parameter's dtype."""
        _one_of(probs, logits)
        total_count, param = broadcast_all(total_count, probs if probs is not None else logits)
        self.total_count = total_count.to(param.dtype)
        self.__dict__["probs" if probs is not None else "logits"] = param
        return param


class Bernoulli(_ProbsOrLogits, ExponentialFamily):
    """1 with probability `probs` (= sigmoid(`logits`)), else 0 (torch.distributions.Bernoulli).
    Samples are floats of the parameter's dtype."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        _, shape = self._store_param(probs, logits)
        super().__init__(shape, validate_args=validate_args)

    _mean_carrier_measure = 0

    @property
    def _natural_params(self) -> tuple:
        """(logits,), the log-odds of a 1."""
        return (ember.log(self.probs / (1 - self.probs)),)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """log(1 + exp(x)): the sum of exp(x t) over t in {0, 1}."""
        return ember.log1p(ember.exp(x))

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return ember.where(self.probs == 0.5, ember.full_like(mode, float("nan")), mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with ember.no_grad():
            return ember.bernoulli(self.probs.expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = ember.arange(2, dtype=self._param.dtype).reshape(-1, *[1] * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values


class Poisson(ExponentialFamily):
    """The number of events of a Poisson process with mean `rate`; samples are floats of the
    rate's dtype (torch.distributions.Poisson)."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        shape = Size() if isinstance(rate, numbers.Number) else self.rate.size()
        super().__init__(shape, validate_args=validate_args)

    @property
    def _natural_params(self) -> tuple:
        """(log rate,); the carrier measure -log(x!) has no closed mean, so entropy is not
        derived from these (as in PyTorch)."""
        return (ember.log(self.rate),)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """exp(x), the rate."""
        return ember.exp(x)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape: Any = ()) -> Tensor:
        check_poisson_rates(self.rate)
        shape = self._extended_shape(sample_shape)
        counts = rng(None).poisson(np.broadcast_to(float64_values(self.rate), shape))
        return ember.from_numpy(np.asarray(counts, dtype=to_numpy_dtype(self.rate.dtype)))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return ember.xlogy(value, rate) - rate - ember.lgamma(value + 1)


class Binomial(_ProbsOrLogits, Distribution):
    """The number of successes in `total_count` independent trials of probability `probs`
    (= sigmoid(`logits`)); samples are floats (torch.distributions.Binomial)."""

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(
        self, total_count: Any = 1, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        param = self._store_param_and_count(total_count, probs, logits)
        super().__init__(param.size(), validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> Any:  # type: ignore[override]
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        n = np.broadcast_to(float64_values(self.total_count).astype(np.int64), shape)
        p = np.broadcast_to(float64_values(self.probs), shape)
        counts = rng(None).binomial(n, p)
        return ember.from_numpy(np.asarray(counts, dtype=to_numpy_dtype(self._param.dtype)))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_choose = ember.lgamma(n + 1) - ember.lgamma(value + 1) - ember.lgamma(n - value + 1)
        # n log(1 + e^logits), written as n (max(logits, 0) + log1p(e^-|logits|)) to stay
        # finite for large logits; the max is the mean of two clamps so that its gradient
        # at 0 is 1/2, PyTorch's
        positive_part = (logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2
        log_normalizer = n * (positive_part + ember.log1p(ember.exp(-logits.abs())))
        return log_choose + value * logits - log_normalizer

    def entropy(self) -> Tensor:
        n = int(self.total_count.max())
        if not bool(self.total_count.min() == n):
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(ember.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = int(self.total_count.max())
        if not bool(self.total_count.min() == n):
            raise NotImplementedError("Inhomogeneous total count not supported by `enumerate_support`.")
        values = ember.arange(1 + n, dtype=self._param.dtype).reshape(-1, *[1] * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values

    def _expanded_names(self) -> list:
        return ["total_count", *[k for k in ("probs", "logits") if k in self.__dict__]]


class Geometric(_ProbsOrLogits, Distribution):
    """The number of failures before the first success in trials of probability `probs`
    (= sigmoid(`logits`)); samples are floats (torch.distributions.Geometric)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        param, shape = self._store_param(probs, logits)
        super().__init__(shape, validate_args=validate_args)
        if self._validate_args and probs is not None and not bool((param > 0).all()):
            # a success must be possible: the unit interval's 0 is excluded
            raise ValueError(
                f"Expected parameter probs ({type(param).__name__} of shape {tuple(param.shape)}) of distribution "
                f"{self!r} to be positive but found invalid values:\n{param[param <= 0]}"
            )

    @property
    def mean(self):
        return 1 / self.probs - 1

    @property
    def mode(self):
        return ember.zeros_like(self.probs)

    @property
    def variance(self):
        return (1 / self.probs - 1) / self.probs

    def sample(self, sample_shape: Any = ()) -> Tensor:
        # the inverse cdf: floor(log(u) / log(1 - p)) for u uniform in (0, 1]
        with ember.no_grad():
            u = draw("uniform", self._extended_shape(sample_shape), self.probs.dtype)
            u = (1 - u).clamp(min=ember.finfo(u.dtype).tiny)
            return (u.log() / ember.log1p(-self.probs)).floor()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # k log(1 - p) + log p, with 0 * log(0) = 0 when p = 1 (then k = 0 is certain); p is
        # replaced by 0 there before log1p, as in PyTorch, so that the gradient is 1/p, not nan
        probs = ember.where((probs == 1) & (value == 0), ember.zeros_like(probs), probs)
        return value * ember.log1p(-probs) + self.probs.log()

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs


class NegativeBinomial(_ProbsOrLogits, Distribution):
    """The number of successes, each of probability `probs` (= sigmoid(`logits`)), before
    the `total_count`-th failure; `total_count` may be any nonnegative real. Samples are
    floats, drawn as Poisson counts of a Gamma-distributed rate
    (torch.distributions.NegativeBinomial)."""

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(
        self, total_count: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        param = self._store_param_and_count(total_count, probs, logits)
        super().__init__(param.size(), validate_args=validate_args)

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / ember.sigmoid(-self.logits)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        # a Poisson count whose rate is Gamma(total_count, scale = p / (1 - p))
        shape = self._extended_shape(sample_shape)
        g = rng(None)
        n = np.broadcast_to(float64_values(self.total_count), shape)
        odds = np.broadcast_to(np.exp(float64_values(self.logits)), shape)
        rate = np.where(n > 0, g.gamma(np.where(n > 0, n, 1.0), odds), 0.0)
        counts = g.poisson(rate)
        return ember.from_numpy(np.asarray(counts, dtype=to_numpy_dtype(self._param.dtype)))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_unnormalized = n * F.logsigmoid(-logits) + value * F.logsigmoid(logits)
        # log C(n + k - 1, k) = lgamma(n + k) - lgamma(k + 1) - lgamma(n), 0 when n + k = 0
        log_choose = ember.lgamma(n + value) - ember.lgamma(1.0 + value) - ember.lgamma(n)
        log_choose = ember.where(n + value == 0, ember.zeros_like(log_choose), log_choose)
        return log_unnormalized + log_choose
