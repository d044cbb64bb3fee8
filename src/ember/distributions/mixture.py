"""MixtureSameFamily: a mixture of K distributions of one family, with the mixing
weights given by a Categorical (torch.distributions.MixtureSameFamily).

    mix = Categorical(logits=w)                       # batch B, K components
    comp = Independent(Normal(mu, sigma), 1)          # batch B + (K,), event (d,)
    gmm = MixtureSameFamily(mix, comp)                # batch B, event (d,)

The component distribution's rightmost batch dim indexes the components; log_prob is the
logsumexp over it of log weight + log density, the moments follow from the laws of total
expectation and variance, and a draw picks a component per sample, then takes that
component's draw.
"""

from __future__ import annotations

from typing import Any

import ember
from ember._tensor import Tensor
from ember.distributions import constraints
from ember.distributions.categorical import Categorical
from ember.distributions.distribution import Distribution

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """The mixture of the components of `component_distribution` (its rightmost batch dim)
    with the weights of `mixture_distribution`, a Categorical over as many categories.
    No rsample: the choice of a component is discrete, as in PyTorch."""

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(
        self,
        mixture_distribution: Categorical,
        component_distribution: Distribution,
        validate_args: bool | None = None,
    ) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(
                "The Mixture distribution needs to be an instance of ember.distributions.Categorical"
            )
        if not isinstance(component_distribution, Distribution):
            raise ValueError(
                "The Component distribution needs to be an instance of ember.distributions.Distribution"
            )
        mixture_batch = mixture_distribution.batch_shape
        batch = component_distribution.batch_shape[:-1]
        for a, b in zip(reversed(mixture_batch), reversed(batch)):
            if a != 1 and b != 1 and a != b:
                raise ValueError(
                    f"`mixture_distribution.batch_shape` ({mixture_batch}) is not compatible with "
                    f"`component_distribution.batch_shape`({batch})"
                )
        k_mixture = mixture_distribution.logits.shape[-1]
        k_component = component_distribution.batch_shape[-1] if component_distribution.batch_shape else None
        if k_mixture != k_component:
            raise ValueError(
                f"`mixture_distribution component` ({k_mixture}) does not equal "
                f"`component_distribution.batch_shape[-1]` ({k_component})"
            )
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._num_component = k_mixture
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(batch, component_distribution.event_shape, validate_args=validate_args)

    @property
    def mixture_distribution(self) -> Categorical:
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        return self._component_distribution

    def _expanded_names(self) -> list:
        return ["_mixture_distribution", "_component_distribution"]  # the components' dim kept

    @constraints.dependent_property
    def support(self) -> Any:  # type: ignore[override]
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    def _weights(self) -> Tensor:
        """The mixing probabilities, with a trailing 1 per event dim so that they
        broadcast against the components' (..., K, *event) moments."""
        probs = self._mixture_distribution.probs
        return probs.reshape(*probs.shape, *[1] * self._event_ndims)

    def _pad(self, value: Tensor) -> Tensor:
        """value with a dim for the components inserted before its event dims."""
        return value.unsqueeze(-1 - self._event_ndims)

    @property
    def mean(self):
        return (self._weights() * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        # Var = E[Var(X | component)] + Var(E[X | component])
        weights, dim = self._weights(), -1 - self._event_ndims
        expected_variance = (weights * self._component_distribution.variance).sum(dim)
        spread = (self._component_distribution.mean - self._pad(self.mean)).pow(2)
        return expected_variance + (weights * spread).sum(dim)

    def cdf(self, value: Tensor) -> Tensor:
        component_cdfs = self._component_distribution.cdf(self._pad(value))
        return (component_cdfs * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_densities = self._component_distribution.log_prob(self._pad(value))  # (..., K)
        log_weights = ember.log_softmax(self._mixture_distribution.logits, -1)
        return (log_densities + log_weights).logsumexp(-1)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with ember.no_grad():
            gather_dim = len(tuple(sample_shape)) + len(self._batch_shape)
            sample_shape = tuple(sample_shape)
            chosen = self._mixture_distribution.sample(sample_shape)  # sample + the mixture's batch
            mixture_batch = tuple(self._mixture_distribution.batch_shape)
            missing = [1] * (
                len(self._batch_shape) - len(mixture_batch)
            )  # a mixture broadcast over the batch
            chosen = chosen.reshape(*sample_shape, *missing, *mixture_batch).expand(
                *sample_shape, *self._batch_shape
            )
            draws = self._component_distribution.sample(sample_shape)  # sample + batch + (K,) + event
            index = chosen.reshape(*chosen.shape, 1, *[1] * self._event_ndims)
            index = index.expand(*chosen.shape, 1, *self._event_shape)
            return draws.gather(gather_dim, index).squeeze(gather_dim)

    def __repr__(self) -> str:
        return f"MixtureSameFamily(\n  {self._mixture_distribution},\n  {self._component_distribution})"
