"""kl_divergence(p, q) = E_p[log p(x) - log q(x)], in closed form, and register_kl, which
adds a formula for a pair of distribution classes (torch.distributions.kl).

The formula for (type(p), type(q)) is the registered pair that matches most closely: among
the pairs (P, Q) with p an instance of P and q of Q, the one whose classes come first in
the method resolution orders of type(p) and type(q). A pair nothing matches raises
NotImplementedError. The pairs of one family are here, those of different families in
_kl_mixed.py; together they are the pairs PyTorch has.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ember
from ember._tensor import Tensor
from ember.distributions.categorical import Categorical, OneHotCategorical
from ember.distributions.continuous import (
    _EULER_GAMMA,
    Cauchy,
    Exponential,
    Gumbel,
    HalfNormal,
    Laplace,
    LogNormal,
    Normal,
    Pareto,
    Uniform,
)
from ember.distributions.continuous_bernoulli import ContinuousBernoulli
from ember.distributions.discrete import Bernoulli, Binomial, Geometric, Poisson
from ember.distributions.distribution import Distribution
from ember.distributions.exp_family import ExponentialFamily
from ember.distributions.gamma import Beta, Dirichlet, Gamma
from ember.distributions.multivariate import (
    Independent,
    LowRankMultivariateNormal,
    MultivariateNormal,
    _solve_lower,
)
from ember.distributions.transformed_distribution import TransformedDistribution
from ember.distributions.transforms import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    _InverseTransform,
)
from ember.distributions.utils import sum_rightmost
from ember.nn import functional as F

__all__ = ["kl_divergence", "register_kl"]

_REGISTRY: dict = {}  # (type_p, type_q) -> function
_CHOSEN: dict = {}  # (type(p), type(q)) -> the registered function that applies, found once


def register_kl(type_p: type, type_q: type) -> Callable:
    """Decorator registering a function (p, q) -> KL(p || q) for p of class type_p and q of
    class type_q (and their subclasses, unless a closer pair is registered)::

        @register_kl(Normal, Normal)
        def kl_normal_normal(p, q): ...
    """
    for name, cls in (("type_p", type_p), ("type_q", type_q)):
        if not (isinstance(cls, type) and issubclass(cls, Distribution)):
            raise TypeError(f"Expected {name} to be a Distribution subclass but got {cls}")

    def decorator(fun: Callable) -> Callable:
        _REGISTRY[type_p, type_q] = fun
        _CHOSEN.clear()  # a new pair may be a closer match for pairs already looked up
        return fun

    return decorator


def _closest(type_p: type, type_q: type) -> Any:
    """The registered function for the closest pair, or None."""
    matches = [(p, q) for p, q in _REGISTRY if issubclass(type_p, p) and issubclass(type_q, q)]
    if not matches:
        return None
    p, q = min(matches, key=lambda m: (type_p.__mro__.index(m[0]), type_q.__mro__.index(m[1])))
    return _REGISTRY[p, q]


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q), one number per element of the batch (torch.distributions.kl_divergence)."""
    key = type(p), type(q)
    if key not in _CHOSEN:
        _CHOSEN[key] = _closest(*key)
    fun = _CHOSEN[key]
    if fun is None:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {type(p).__name__} and q type {type(q).__name__}"
        )
    return fun(p, q)


def _infinite_where(value: Tensor, mask: Tensor) -> Tensor:
    return ember.where(mask, ember.full_like(value, math.inf), value)


def _zero_where(value: Tensor, mask: Tensor) -> Tensor:
    return ember.where(mask, ember.zeros_like(value), value)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    var_ratio = (p.scale / q.scale).pow(2)
    shift = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + shift - 1 - var_ratio.log())


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    scale_ratio = p.scale / q.scale
    distance = (p.loc - q.loc).abs()
    return -scale_ratio.log() + distance / q.scale + scale_ratio * ember.exp(-distance / p.scale) - 1


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    kl = ember.log((q.high - q.low) / (p.high - p.low))
    return _infinite_where(kl, (q.low > p.low) | (q.high < p.high))  # p has mass where q has none


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    rate_ratio = q.rate / p.rate
    return rate_ratio - rate_ratio.log() - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    cp, rp, cq, rq = p.concentration, p.rate, q.concentration, q.rate
    return (
        cq * ember.log(rp / rq)
        + ember.lgamma(cq)
        - ember.lgamma(cp)
        + (cp - cq) * ember.digamma(cp)
        + (rq - rp) * (cp / rp)
    )


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    a, b, c, d = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    total_p, total_q = a + b, c + d
    log_beta_p = ember.lgamma(a) + ember.lgamma(b) - ember.lgamma(total_p)
    log_beta_q = ember.lgamma(c) + ember.lgamma(d) - ember.lgamma(total_q)
    digamma_total = ember.digamma(total_p)
    return (
        log_beta_q
        - log_beta_p
        + (a - c) * (ember.digamma(a) - digamma_total)
        + (b - d) * (ember.digamma(b) - digamma_total)
    )


def _kl_binary(p_probs: Tensor, p_logits: Tensor, q_probs: Tensor, q_logits: Tensor) -> Tensor:
    """KL between two Bernoulli variables from their probabilities and logits:
    p log(p/q) + (1 - p) log((1 - p)/(1 - q)), the logarithms taken from the logits."""
    ones = p_probs * (F.softplus(-q_logits) - F.softplus(-p_logits))
    ones = _zero_where(_infinite_where(ones, q_probs == 0), p_probs == 0)
    zeros = (1 - p_probs) * (F.softplus(q_logits) - F.softplus(p_logits))
    zeros = _zero_where(_infinite_where(zeros, q_probs == 1), p_probs == 1)
    return ones + zeros


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    a, b = p.concentration, q.concentration
    total_a, total_b = a.sum(-1), b.sum(-1)
    log_ratio = ember.lgamma(total_a) - ember.lgamma(total_b) - (ember.lgamma(a) - ember.lgamma(b)).sum(-1)
    return log_ratio + ((a - b) * (ember.digamma(a) - ember.digamma(total_a).unsqueeze(-1))).sum(-1)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Cauchy, q: Cauchy) -> Tensor:
    # log(((s_p + s_q)^2 + (l_p - l_q)^2) / (4 s_p s_q)), a closed form of Chyzak and Nielsen
    spread = (p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)
    return (spread / (4 * p.scale * q.scale)).log()


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p: Gumbel, q: Gumbel) -> Tensor:
    # with x = loc_p + scale_p z, z standard Gumbel: E[z] = gamma and E[exp(-t z)] = Gamma(1 + t)
    ratio = p.scale / q.scale
    shift = (p.loc - q.loc) / q.scale
    expected_q_exponent = ember.exp(-shift + ember.lgamma(1 + ratio))
    return -ratio.log() + shift + ratio * _EULER_GAMMA + expected_q_exponent - (1 + _EULER_GAMMA)


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p: Pareto, q: Pareto) -> Tensor:
    # log(a_p / a_q) + a_q log(s_p / s_q) + a_q / a_p - 1, using E_p[log x] = log s_p + 1 / a_p
    alpha_ratio = q.alpha / p.alpha
    kl = q.alpha * (p.scale / q.scale).log() - alpha_ratio.log() + alpha_ratio - 1
    return _infinite_where(kl, p.scale < q.scale)  # p has mass below q's support


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p: HalfNormal, q: HalfNormal) -> Tensor:
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p: LogNormal, q: LogNormal) -> Tensor:
    return _kl_normal_normal(p.base_dist, q.base_dist)  # KL is unchanged by the map exp


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Geometric, q: Geometric) -> Tensor:
    return -p.entropy() - ember.log1p(-q.probs) / p.probs - q.logits


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    return _kl_binary(p.probs, p.logits, q.probs, q.logits)


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Binomial, q: Binomial) -> Tensor:
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError(
            "KL between Binomials where q.total_count > p.total_count is not implemented"
        )
    log_ratio = p.probs * (p.logits - q.logits) + ember.log1p(-p.probs) - ember.log1p(-q.probs)
    kl = p.total_count * log_ratio
    return _infinite_where(kl, p.total_count > q.total_count)


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    terms = p.probs * (p.logits - q.logits)
    terms = _infinite_where(terms, (q.probs == 0).expand_as(terms))
    return _zero_where(terms, (p.probs == 0).expand_as(terms)).sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p: OneHotCategorical, q: OneHotCategorical) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    # KL = 1/2 (tr(Sq^-1 Sp) + |Lq^-1 (mu_q - mu_p)|^2 - k) + log det Lq - log det Lp, and
    # tr(Sq^-1 Sp) = |Lq^-1 Lp|^2 (Frobenius), so only solves with Lq are needed
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two Multivariate Normals with different event shapes cannot be computed"
        )
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    trace = ember.linalg.solve(Lq.tril(), Lp).pow(2).sum((-2, -1))
    mahalanobis = _solve_lower(Lq, q.loc - p.loc).pow(2).sum(-1)
    k = p.event_shape[0]
    return 0.5 * (trace + mahalanobis - k) + q._half_log_det() - p._half_log_det()


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
@register_kl(LowRankMultivariateNormal, MultivariateNormal)
@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_gaussian_lowrank(p: Distribution, q: Distribution) -> Tensor:
    """The Gaussian pairs with a low-rank one, through the Cholesky factors of the dense
    covariances (PyTorch keeps q's Woodbury form; the values agree)."""

    def dense(d: Any) -> MultivariateNormal:
        return d if isinstance(d, MultivariateNormal) else MultivariateNormal(d.loc, scale_tril=d.scale_tril)

    return _kl_mvn_mvn(dense(p), dense(q))


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


def _equal(a: Any, b: Any) -> bool:
    """A transform's parameters are equal: numbers by value, tensors in every entry."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return a == b
    return bool((ember.as_tensor(a) == ember.as_tensor(b)).all())


def _same_transform(s: Transform, t: Transform) -> bool:
    """Whether two transforms are the same map, as PyTorch's Transform.__eq__ says (ember's
    transforms compare by identity): the same class with equal parameters."""
    if s is t:
        return True
    if type(s).__eq__ is not Transform.__eq__:  # a transform of the user's that defines it
        return bool(s == t)
    if type(s) is not type(t):
        return False
    if isinstance(s, _InverseTransform):
        return _same_transform(s._inv, t._inv)
    if isinstance(s, ComposeTransform):
        return len(s.parts) == len(t.parts) and all(map(_same_transform, s.parts, t.parts))
    if isinstance(s, AffineTransform):
        return _equal(s.loc, t.loc) and _equal(s.scale, t.scale)
    if isinstance(s, PowerTransform):
        return _equal(s.exponent, t.exponent)
    return type(s) in _PARAMETERLESS


# the transforms without parameters: any two of one of these classes are the same map
_PARAMETERLESS = (
    AbsTransform,
    ExpTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StickBreakingTransform,
    TanhTransform,
)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p: TransformedDistribution, q: TransformedDistribution) -> Tensor:
    # a bijection changes neither distribution's relative density: the bases' divergence
    same = len(p.transforms) == len(q.transforms) and all(map(_same_transform, p.transforms, q.transforms))
    if not same or p.event_shape != q.event_shape:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {type(p).__name__} and q type {type(q).__name__} "
            "with different transforms or event shapes"
        )
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p: ExponentialFamily, q: ExponentialFamily) -> Tensor:
    """The Bregman divergence of the log normalizer F between the natural parameters:
    F(theta_q) - F(theta_p) - <theta_q - theta_p, grad F(theta_p)>, for two distributions
    of one family that has no closed form registered (Wishart)."""
    if type(p) is not type(q):
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {type(p).__name__} and q type {type(q).__name__} "
            "(the Bregman divergence covers two distributions of one exponential family only)"
        )
    p_params = [param.detach().requires_grad_() for param in p._natural_params]
    q_params = q._natural_params
    with ember.enable_grad():
        log_normalizer = p._log_normalizer(*p_params)
        gradients = ember.autograd.grad(log_normalizer.sum(), p_params, create_graph=True)
    result = q._log_normalizer(*q_params) - log_normalizer
    for p_param, q_param, gradient in zip(p_params, q_params, gradients):
        result = result - sum_rightmost((q_param - p_param) * gradient, len(q.event_shape))
    return result


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p: ContinuousBernoulli, q: ContinuousBernoulli) -> Tensor:
    own = p._cont_bern_log_norm() + ember.log1p(-p.probs)
    other = -q._cont_bern_log_norm() - ember.log1p(-q.probs)
    return p.mean * (p.logits - q.logits) + own + other


def _cross_entropy_continuous_bernoulli(mean: Tensor, q: ContinuousBernoulli) -> Tensor:
    """-E_p[log q(x)] for q continuous Bernoulli, from p's mean."""
    return -mean * q.logits - ember.log1p(-q.probs) - q._cont_bern_log_norm()


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p: Beta, q: ContinuousBernoulli) -> Tensor:
    return -p.entropy() + _cross_entropy_continuous_bernoulli(p.mean, q)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p: Uniform, q: ContinuousBernoulli) -> Tensor:
    # infinite where p has mass outside [0, 1]; PyTorch 2.13 also where p.low == 0 or
    # p.high == 1, where the divergence is finite (see docs/differences.md)
    kl = -p.entropy() + _cross_entropy_continuous_bernoulli(p.mean, q)
    return _infinite_where(kl, (p.high > 1) | (p.low < 0))


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p: ContinuousBernoulli, q: Exponential) -> Tensor:
    return -p.entropy() - ember.log(q.rate) + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p: ContinuousBernoulli, q: Normal) -> Tensor:
    log_normalizer = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale).pow(2)) + ember.log(q.scale)
    quadratic = (p.variance + p.mean.pow(2) - 2.0 * q.loc * p.mean) / (2.0 * q.scale.pow(2))
    return -p.entropy() + log_normalizer + quadratic


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p: ContinuousBernoulli, q: Uniform) -> Tensor:
    # infinite where q misses part of [0, 1]; PyTorch 2.13 also where q.low == 0 or
    # q.high == 1, where the divergence is finite (see docs/differences.md)
    kl = -p.entropy() + (q.high - q.low).log()
    return _infinite_where(kl, (q.low > 0) | (q.high < 1))


def _infinite_like(value: Tensor) -> Tensor:
    return ember.full_like(value, math.inf)


@register_kl(ContinuousBernoulli, Pareto)
def _kl_continuous_bernoulli_pareto(p: ContinuousBernoulli, q: Pareto) -> Tensor:
    return _infinite_like(p.probs)  # q has no mass below its scale, which is > 0


@register_kl(Exponential, ContinuousBernoulli)
def _kl_exponential_continuous_bernoulli(p: Exponential, q: ContinuousBernoulli) -> Tensor:
    return _infinite_like(p.rate)  # p has mass above 1, q none


@register_kl(Gamma, ContinuousBernoulli)
def _kl_gamma_continuous_bernoulli(p: Gamma, q: ContinuousBernoulli) -> Tensor:
    return _infinite_like(p.concentration)


@register_kl(Gumbel, ContinuousBernoulli)
@register_kl(Laplace, ContinuousBernoulli)
@register_kl(Normal, ContinuousBernoulli)
def _kl_real_line_continuous_bernoulli(p: Distribution, q: ContinuousBernoulli) -> Tensor:
    return _infinite_like(p.loc)


@register_kl(Pareto, ContinuousBernoulli)
def _kl_pareto_continuous_bernoulli(p: Pareto, q: ContinuousBernoulli) -> Tensor:
    return _infinite_like(p.scale)


# the pairs of different families (registered on import)
from ember.distributions import _kl_mixed  # noqa: E402, F401
