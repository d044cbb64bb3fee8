"""The relaxed (Gumbel-softmax, or Concrete) distributions: continuous stand-ins for a
Bernoulli or a one-hot Categorical whose draws are differentiable in the probabilities.

A draw adds logistic (binary) or Gumbel (K categories) noise to the logits and divides by
a `temperature`: the sigmoid or softmax of that is near 0/1 or one-hot at low temperature
and smooth at high temperature (Maddison et al. 2017, Jang et al. 2017). The log-space
versions (LogitRelaxedBernoulli, ExpRelaxedCategorical) carry the densities, and
RelaxedBernoulli and RelaxedOneHotCategorical are them pushed through a sigmoid or exp,
as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import ember
from ember._tensor import Tensor
from ember.distributions import constraints
from ember.distributions.categorical import _OverCategorical
from ember.distributions.discrete import _ProbsOrLogits
from ember.distributions.distribution import Distribution
from ember.distributions.transformed_distribution import TransformedDistribution
from ember.distributions.transforms import ExpTransform, SigmoidTransform
from ember.distributions.utils import broadcast_all, clamp_probs, draw

__all__ = ["ExpRelaxedCategorical", "LogitRelaxedBernoulli", "RelaxedBernoulli", "RelaxedOneHotCategorical"]


def _temperature(temperature: Any, like: Tensor) -> Tensor:
    """The temperature as a tensor (a Python number becomes one of the parameter's dtype)."""
    return (
        temperature if isinstance(temperature, Tensor) else ember.tensor(float(temperature), dtype=like.dtype)
    )


class _RelaxedParameters:
    """The parameters a relaxed distribution reads from the log-space one it transforms."""

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


class LogitRelaxedBernoulli(_ProbsOrLogits, Distribution):
    """The logit of a RelaxedBernoulli draw: (logit(u) + logits) / temperature for u
    uniform, the logistic noise being what the Gumbel-max trick gives for two categories
    (torch.distributions.LogitRelaxedBernoulli)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        param, shape = self._store_param(probs, logits)
        self.temperature = _temperature(temperature, param)
        super().__init__(shape, validate_args=validate_args)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(*shape))
        u = clamp_probs(draw("uniform", shape, probs.dtype))
        return (u.log() - ember.log1p(-u) + probs.log() - ember.log1p(-probs)) / self.temperature

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # the logistic density of value * temperature - logits, times the temperature
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * ember.log1p(diff.exp())


class RelaxedBernoulli(_RelaxedParameters, TransformedDistribution):
    """A value in (0, 1) that tends to a Bernoulli draw as `temperature` goes to 0: the
    sigmoid of a LogitRelaxedBernoulli draw (torch.distributions.RelaxedBernoulli)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        base_dist = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base_dist, SigmoidTransform(), validate_args=validate_args)


class ExpRelaxedCategorical(_OverCategorical, Distribution):
    """The logarithm of a RelaxedOneHotCategorical draw: log_softmax((logits + g) /
    temperature) for g standard Gumbel noise; event_shape (K,)
    (torch.distributions.ExpRelaxedCategorical)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector  # the draws lie on a K - 1 dimensional part of it
    has_rsample = True

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        self._init_categorical(probs, logits, validate_args)
        self.temperature = _temperature(temperature, self._categorical._param)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = clamp_probs(draw("uniform", self._extended_shape(sample_shape), self.logits.dtype))
        gumbels = -ember.log(-u.log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        k = self._categorical._num_events
        logits, value = broadcast_all(self.logits, value)
        # log((K - 1)! t^(K - 1)) + sum_i log_softmax(logits - t value)_i
        log_scale = (
            ember.lgamma(ember.full_like(self.temperature, float(k))) + (k - 1) * self.temperature.log()
        )
        score = logits - value * self.temperature
        return (score - score.logsumexp(-1, keepdim=True)).sum(-1) + log_scale


class RelaxedOneHotCategorical(_RelaxedParameters, TransformedDistribution):
    """A point of the probability simplex that tends to a one-hot Categorical draw as
    `temperature` goes to 0 (Gumbel-softmax): the exp of an ExpRelaxedCategorical draw
    (torch.distributions.RelaxedOneHotCategorical)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        base_dist = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)
