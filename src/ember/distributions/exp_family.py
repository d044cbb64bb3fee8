"""ExponentialFamily: the base class of the distributions whose density has the form
exp(<t(x), theta> - F(theta) + k(x)) (torch.distributions.ExponentialFamily)."""

from __future__ import annotations

import ember
from ember._tensor import Tensor
from ember.distributions.distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """A distribution of an exponential family, density exp(<t(x), theta> - F(theta) + k(x))
    for natural parameters theta, sufficient statistic t, log normalizer F and carrier
    measure k. A subclass that defines `_natural_params`, `_log_normalizer` and
    `_mean_carrier_measure` gets `entropy` (and kl_divergence with another of its class)
    from the Bregman divergence of F, which autograd differentiates (Nielsen and Nock,
    Entropies and cross-entropies of exponential families)."""

    @property
    def _natural_params(self) -> tuple:
        """The natural parameters theta, a tuple of tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        """F(theta), one number per element of the batch."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        """E[k(x)], which the entropy needs."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """-E[k(x)] + F(theta) - <theta, grad F(theta)>."""
        result: Tensor | float = -self._mean_carrier_measure
        params = [p.detach().requires_grad_() for p in self._natural_params]
        with ember.enable_grad():
            log_normalizer = self._log_normalizer(*params)
            gradients = ember.autograd.grad(log_normalizer.sum(), params, create_graph=True)
        result = result + log_normalizer
        for param, gradient in zip(params, gradients):
            result = result - (param * gradient).reshape(*self._batch_shape, -1).sum(-1)
        return result
