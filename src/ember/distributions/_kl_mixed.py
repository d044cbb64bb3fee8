"""kl_divergence between distributions of different families, the pairs PyTorch has.

Each finite divergence is KL(p || q) = -H(p) - E_p[log q(x)]: p's entropy, and the
expectation under p of q's log-density, which needs only a few moments of p. So the
formulas are grouped by q, each a cross-entropy written once from the moments it needs:

    Normal(mu, s)        E[x], Var[x]
    Exponential(rate)    E[x]
    Gamma(k, r)          E[x], E[log x]
    Gumbel(mu, b)        E[x], E[exp(-x / b)] (p's moment generating function at -1 / b)
    Beta(a, b)           E[log x], E[log(1 - x)]
    Pareto(s, alpha)     E[log x]
    Laplace(mu, b)       E[|x - mu|]
    Poisson(rate)        E[x] (p a Bernoulli: log x! is 0 on its support)

The divergence is infinite where p puts mass where q has none (a Normal against anything
on half a line, an Exponential against a bounded support, ...) or where a moment q needs
is infinite (a Pareto with alpha <= 1 has no mean, alpha <= 2 no variance); those entries
are inf, with a zero gradient. Imported by kl.py, whose registry it fills.
"""

from __future__ import annotations

import math

import ember
from ember._tensor import Tensor
from ember.distributions.continuous import _EULER_GAMMA, Exponential, Gumbel, Laplace, Normal, Pareto, Uniform
from ember.distributions.discrete import Bernoulli, Binomial, Poisson
from ember.distributions.distribution import Distribution
from ember.distributions.gamma import Beta, Gamma
from ember.distributions.kl import _infinite_like, _infinite_where, register_kl

# ---- the moments of p ----------------------------------------------------------------


def _uniform_mean_log(low: Tensor, high: Tensor) -> Tensor:
    """E[log x] for x uniform on [low, high] with low >= 0: (h log h - l log l) / (h - l) - 1."""
    return (ember.xlogy(high, high) - ember.xlogy(low, low)) / (high - low) - 1


def _mean_log(p: Distribution) -> Tensor:
    """E_p[log x] for the distributions on positive numbers that meet a Gamma, Beta or Pareto."""
    if isinstance(p, Beta):
        return ember.digamma(p.concentration1) - ember.digamma(p.concentration1 + p.concentration0)
    if isinstance(p, Exponential):
        return -_EULER_GAMMA - p.rate.log()
    if isinstance(p, Pareto):
        return p.scale.log() + p.alpha.reciprocal()
    return _uniform_mean_log(p.low, p.high)  # a Uniform


def _mean_exp(p: Distribution, t: Tensor) -> Tensor:
    """log E_p[exp(-t x)] for t > 0, the logarithm of p's moment generating function at -t."""
    if isinstance(p, Exponential):
        return (p.rate / (p.rate + t)).log()
    if isinstance(p, Gamma):
        return -p.concentration * ember.log1p(t / p.rate)
    if isinstance(p, Normal):
        return -t * p.loc + 0.5 * (t * p.scale).pow(2)
    # a Uniform: (exp(-t l) - exp(-t h)) / (t (h - l)), with exp(-t l) taken out
    width = p.high - p.low
    return -t * p.low + ember.log(-ember.expm1(-t * width)) - (t * width).log()


# ---- the cross-entropies -E_p[log q(x)], one per family of q ----------------------------


def _normal_cross_entropy(mean: Tensor, variance: Tensor, q: Normal) -> Tensor:
    return (
        0.5 * math.log(2 * math.pi)
        + q.scale.log()
        + (variance + (mean - q.loc).pow(2)) / (2 * q.scale.pow(2))
    )


def _exponential_cross_entropy(mean: Tensor, q: Exponential) -> Tensor:
    return q.rate * mean - q.rate.log()


def _gamma_cross_entropy(mean: Tensor, mean_log: Tensor, q: Gamma) -> Tensor:
    k, r = q.concentration, q.rate
    return ember.lgamma(k) - k * r.log() - (k - 1) * mean_log + r * mean


def _gumbel_cross_entropy(mean: Tensor, log_mean_exp: Tensor, q: Gumbel) -> Tensor:
    # log q(x) = -log b - z - exp(-z) with z = (x - mu) / b, and E[exp(-z)] = exp(mu / b) E[exp(-x / b)]
    return q.scale.log() + (mean - q.loc) / q.scale + ember.exp(q.loc / q.scale + log_mean_exp)


# ---- the pairs ---------------------------------------------------------------------------


@register_kl(Beta, Normal)
@register_kl(Exponential, Normal)
@register_kl(Gamma, Normal)
@register_kl(Gumbel, Normal)
@register_kl(Laplace, Normal)
@register_kl(Uniform, Normal)
def _kl_to_normal(p: Distribution, q: Normal) -> Tensor:
    return -p.entropy() + _normal_cross_entropy(p.mean, p.variance, q)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p: Pareto, q: Normal) -> Tensor:
    safe = ember.where(p.alpha > 2, p.alpha, ember.full_like(p.alpha, 3.0))  # finite moments
    kl = -p.entropy() + _normal_cross_entropy(
        safe * p.scale / (safe - 1), p.scale.pow(2) * safe / ((safe - 1).pow(2) * (safe - 2)), q
    )
    return _infinite_where(kl, p.alpha <= 2)  # no variance


@register_kl(Beta, Exponential)
@register_kl(Gamma, Exponential)
def _kl_to_exponential(p: Distribution, q: Exponential) -> Tensor:
    return -p.entropy() + _exponential_cross_entropy(p.mean, q)


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p: Pareto, q: Exponential) -> Tensor:
    safe = ember.where(p.alpha > 1, p.alpha, ember.full_like(p.alpha, 2.0))
    kl = -p.entropy() + _exponential_cross_entropy(safe * p.scale / (safe - 1), q)
    return _infinite_where(kl, p.alpha <= 1)  # no mean


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p: Uniform, q: Exponential) -> Tensor:
    kl = -p.entropy() + _exponential_cross_entropy(p.mean, q)
    return _infinite_where(kl, p.low < 0)


@register_kl(Beta, Gamma)
@register_kl(Exponential, Gamma)
def _kl_to_gamma(p: Distribution, q: Gamma) -> Tensor:
    return -p.entropy() + _gamma_cross_entropy(p.mean, _mean_log(p), q)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p: Pareto, q: Gamma) -> Tensor:
    safe = ember.where(p.alpha > 1, p.alpha, ember.full_like(p.alpha, 2.0))
    kl = -p.entropy() + _gamma_cross_entropy(safe * p.scale / (safe - 1), _mean_log(p), q)
    return _infinite_where(kl, p.alpha <= 1)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p: Uniform, q: Gamma) -> Tensor:
    outside = p.low < 0
    low = ember.where(outside, ember.zeros_like(p.low), p.low)  # no log of a negative number
    kl = -p.entropy() + _gamma_cross_entropy(p.mean, _uniform_mean_log(low, p.high), q)
    return _infinite_where(kl, outside)


@register_kl(Exponential, Gumbel)
@register_kl(Gamma, Gumbel)
@register_kl(Normal, Gumbel)
@register_kl(Uniform, Gumbel)
def _kl_to_gumbel(p: Distribution, q: Gumbel) -> Tensor:
    return -p.entropy() + _gumbel_cross_entropy(p.mean, _mean_exp(p, q.scale.reciprocal()), q)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p: Normal, q: Laplace) -> Tensor:
    # E|x - mu| for x normal: s sqrt(2 / pi) exp(-d^2 / (2 s^2)) + d erf(d / (s sqrt 2)), d = loc - mu
    d = p.loc - q.loc
    mean_distance = p.scale * math.sqrt(2 / math.pi) * ember.exp(-0.5 * (d / p.scale).pow(2)) + d * ember.erf(
        d / (p.scale * math.sqrt(2))
    )
    return -p.entropy() + (2 * q.scale).log() + mean_distance / q.scale


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p: Uniform, q: Beta) -> Tensor:
    outside = (p.low < 0) | (p.high > 1)
    zeros, ones = ember.zeros_like(p.low), ember.ones_like(p.high)
    low, high = ember.where(outside, zeros, p.low), ember.where(outside, ones, p.high)
    mean_log = _uniform_mean_log(low, high)
    mean_log_complement = _uniform_mean_log(1 - high, 1 - low)  # 1 - x is uniform too
    a, b = q.concentration1, q.concentration0
    log_beta = ember.lgamma(a) + ember.lgamma(b) - ember.lgamma(a + b)
    kl = -p.entropy() + log_beta - (a - 1) * mean_log - (b - 1) * mean_log_complement
    return _infinite_where(kl, outside)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p: Uniform, q: Pareto) -> Tensor:
    outside = p.low < q.scale
    low = ember.where(outside, q.scale, p.low)
    # log q(x) = log alpha + alpha log s - (alpha + 1) log x, for x >= s
    cross = -q.alpha.log() - q.alpha * q.scale.log() + (q.alpha + 1) * _uniform_mean_log(low, p.high)
    return _infinite_where(-p.entropy() + cross, outside)


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p: Bernoulli, q: Poisson) -> Tensor:
    return -p.entropy() + q.rate - p.probs * q.rate.log()


# p has mass where q has none: beyond a bounded support, below zero or below a Pareto's scale
@register_kl(Beta, Pareto)
def _kl_beta_pareto(p: Beta, q: Pareto) -> Tensor:
    return _infinite_like(p.concentration1)


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p: Beta, q: Uniform) -> Tensor:
    kl = -p.entropy() + (q.high - q.low).log()
    return _infinite_where(kl, (q.low > 0) | (q.high < 1))


@register_kl(Exponential, Beta)
@register_kl(Exponential, Pareto)
@register_kl(Exponential, Uniform)
def _kl_exponential_infinite(p: Exponential, q: Distribution) -> Tensor:
    return _infinite_like(p.rate)


@register_kl(Gamma, Beta)
@register_kl(Gamma, Pareto)
@register_kl(Gamma, Uniform)
def _kl_gamma_infinite(p: Gamma, q: Distribution) -> Tensor:
    return _infinite_like(p.concentration)


@register_kl(Gumbel, Beta)
@register_kl(Gumbel, Exponential)
@register_kl(Gumbel, Gamma)
@register_kl(Gumbel, Pareto)
@register_kl(Gumbel, Uniform)
@register_kl(Laplace, Beta)
@register_kl(Laplace, Exponential)
@register_kl(Laplace, Gamma)
@register_kl(Laplace, Pareto)
@register_kl(Laplace, Uniform)
@register_kl(Normal, Beta)
@register_kl(Normal, Exponential)
@register_kl(Normal, Gamma)
@register_kl(Normal, Pareto)
@register_kl(Normal, Uniform)
def _kl_real_line_infinite(p: Distribution, q: Distribution) -> Tensor:
    return _infinite_like(p.loc)


@register_kl(Pareto, Beta)
@register_kl(Pareto, Uniform)
def _kl_pareto_infinite(p: Pareto, q: Distribution) -> Tensor:
    return _infinite_like(p.scale)


@register_kl(Poisson, Bernoulli)
@register_kl(Poisson, Binomial)
def _kl_poisson_infinite(p: Poisson, q: Distribution) -> Tensor:
    return _infinite_like(p.rate)
