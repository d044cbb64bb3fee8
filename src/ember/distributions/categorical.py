"""Distributions over K categories: Categorical (an index), OneHotCategorical (a one-hot
vector) and Multinomial (the counts of n draws).

Each takes `probs` (normalized over the last dim) or `logits` (log-probabilities up to a
constant, normalized likewise), exactly one; the other is computed on first use and kept
(`lazy_property`), as in PyTorch. Draws are not differentiable; log_prob is.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import ember
from ember._tensor import Tensor
from ember.distributions import constraints
from ember.distributions.discrete import Binomial, _one_of, _ProbsOrLogits
from ember.distributions.distribution import Distribution
from ember.distributions.utils import float64_values
from ember.dtypes import to_numpy_dtype
from ember.nn import functional as F
from ember.random import rng

__all__ = ["Categorical", "Multinomial", "OneHotCategorical", "OneHotCategoricalStraightThrough"]


class Categorical(_ProbsOrLogits, Distribution):
    """One of K categories, with probabilities `probs` (normalized over the last dim) or
    log-probabilities `logits` (normalized likewise); samples are int64 indices
    (torch.distributions.Categorical)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True
    _binary = False

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        _one_of(probs, logits)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.__dict__["probs"] = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.__dict__["logits"] = logits - logits.logsumexp(-1, keepdim=True)
        param = self._param
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> Any:  # type: ignore[override]
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return ember.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return ember.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        # inverse-cdf sampling, all rows at once: the index is the number of cumulative
        # probabilities a uniform number exceeds
        shape = self._extended_shape(sample_shape)
        cdf = np.cumsum(float64_values(self.probs), axis=-1)
        cdf = np.broadcast_to(cdf, (*shape, self._num_events))
        u = rng(None).random((*shape, 1)) * cdf[..., -1:]
        index = np.minimum((u >= cdf).sum(-1), self._num_events - 1)
        return ember.from_numpy(np.asarray(index, dtype=np.int64))  # a 0-d index is a NumPy scalar

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = ember.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        # -inf logits (probability 0) are clamped so that 0 * logit is 0, not NaN
        logits = self.logits.clamp(min=ember.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = ember.arange(self._num_events).reshape(-1, *[1] * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values


class _OverCategorical:
    """What the distributions of K-vectors built on a Categorical share (OneHotCategorical,
    Multinomial, ExpRelaxedCategorical): its parameters, and event_shape (K,)."""

    def _init_categorical(self, probs: Any, logits: Any, validate_args: bool | None) -> None:
        self._categorical = Categorical(probs=probs, logits=logits)
        param_shape = self._categorical.param_shape
        Distribution.__init__(
            self, self._categorical.batch_shape, param_shape[-1:], validate_args=validate_args
        )

    def _expanded_names(self) -> list:
        return ["_categorical"]

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape


class OneHotCategorical(_OverCategorical, Distribution):
    """A Categorical whose draws are one-hot vectors of length K (event_shape (K,)) in the
    parameter's dtype (torch.distributions.OneHotCategorical)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        self._init_categorical(probs, logits, validate_args)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        return F.one_hot(self.probs.argmax(-1), self._event_shape[0]).to(self.probs.dtype)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        index = self._categorical.sample(sample_shape)
        return F.one_hot(index, self._event_shape[0]).to(self.probs.dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        k = self._event_shape[0]
        values = ember.eye(k, dtype=self._categorical._param.dtype)
        values = values.reshape(k, *[1] * len(self._batch_shape), k)
        return values.expand(k, *self._batch_shape, k) if expand else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """A OneHotCategorical whose `rsample` carries the straight-through gradient (Bengio et
    al. 2013): the value is a one-hot draw, the gradient that of `probs`
    (torch.distributions.OneHotCategoricalStraightThrough)."""

    has_rsample = True

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())


class Multinomial(_OverCategorical, Distribution):
    """The counts of each of K categories in `total_count` independent Categorical draws;
    event_shape is (K,), samples are floats (torch.distributions.Multinomial).
    `total_count` is one Python int, as in PyTorch."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(
        self, total_count: int = 1, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._init_categorical(probs, logits, validate_args)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)

    def _expanded_names(self) -> list:
        return ["_categorical", "_binomial"]  # the binomial's batch is this one's + (K,)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self) -> Any:  # type: ignore[override]
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        probs = float64_values(self.probs)
        probs = np.broadcast_to(probs / probs.sum(-1, keepdims=True), shape)
        counts = rng(None).multinomial(self.total_count, probs.reshape(-1, shape[-1])).reshape(shape)
        return ember.from_numpy(np.asarray(counts, dtype=to_numpy_dtype(self.probs.dtype)))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = ember.broadcast_tensors(self.logits, value)
        # a category of probability 0 (logit -inf) drawn 0 times contributes 0, not NaN
        logits = ember.where((value == 0) & (logits == -math.inf), ember.zeros_like(logits), logits)
        log_orderings = ember.lgamma(value.sum(-1) + 1) - ember.lgamma(value + 1).sum(-1)
        return log_orderings + (logits * value).sum(-1)

    def entropy(self) -> Tensor:
        # H = n H(categorical) - log n! + sum_i E[log x_i!], each count x_i binomial(n, p_i)
        n = ember.tensor(float(self.total_count), dtype=self.probs.dtype)
        counts = self._binomial.enumerate_support(False)  # (n + 1, 1, ..., 1)
        weights = self._binomial.log_prob(counts).exp()
        expected_log_factorials = (weights * ember.lgamma(counts + 1)).sum(0).sum(-1)
        return n * self._categorical.entropy() - ember.lgamma(n + 1) + expected_log_factorials
