"""ember.distributions: probability distributions with sampling, log-densities and
Kullback-Leibler divergences, under PyTorch's names (torch.distributions).

    from ember.distributions import Normal, kl_divergence
    q = Normal(mu, sigma)                  # parameters that require grad
    z = q.rsample()                        # differentiable in mu and sigma
    loss = -log_likelihood(z) + kl_divergence(q, Normal(0.0, 1.0)).sum()

Each distribution is a `Distribution` with `batch_shape` and `event_shape`; `sample`,
`rsample` (where a draw is a differentiable function of the parameters), `log_prob`,
`entropy`, `mean`, `mode`, `variance`, `stddev`, and `cdf`/`icdf` where PyTorch has them.
Draws use ember's generator (`ember.manual_seed`), so they differ from PyTorch's.
"""

from ember.distributions import constraints, transforms
from ember.distributions.categorical import Categorical, Multinomial, OneHotCategorical
from ember.distributions.continuous import (
    Cauchy,
    Exponential,
    Gumbel,
    HalfNormal,
    Laplace,
    LogNormal,
    Normal,
    Pareto,
    Uniform,
    Weibull,
)
from ember.distributions.discrete import Bernoulli, Binomial, Geometric, NegativeBinomial, Poisson
from ember.distributions.distribution import Distribution
from ember.distributions.gamma import Beta, Chi2, Dirichlet, Gamma, StudentT
from ember.distributions.kl import kl_divergence, register_kl
from ember.distributions.mixture import MixtureSameFamily
from ember.distributions.multivariate import Independent, LowRankMultivariateNormal, MultivariateNormal
from ember.distributions.relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from ember.distributions.transformed_distribution import TransformedDistribution
from ember.distributions.transforms import (  # also names of the package, as in PyTorch
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    PowerTransform,
    SigmoidTransform,
    TanhTransform,
    Transform,
)

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "Dirichlet",
    "Distribution",
    "ExpTransform",
    "Exponential",
    "Gamma",
    "Geometric",
    "Gumbel",
    "HalfNormal",
    "Independent",
    "Laplace",
    "LogNormal",
    "LowRankMultivariateNormal",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "NegativeBinomial",
    "Normal",
    "OneHotCategorical",
    "Pareto",
    "Poisson",
    "PowerTransform",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "SigmoidTransform",
    "StudentT",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "Uniform",
    "Weibull",
    "constraints",
    "kl_divergence",
    "register_kl",
    "transforms",
]
