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

from ember.distributions import constraint_registry, constraints, transforms
from ember.distributions.categorical import (
    Categorical,
    Multinomial,
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
)
from ember.distributions.constraint_registry import biject_to, transform_to
from ember.distributions.continuous import (
    Cauchy,
    Exponential,
    GeneralizedPareto,
    Gumbel,
    HalfCauchy,
    HalfNormal,
    Laplace,
    LogNormal,
    Normal,
    Pareto,
    Uniform,
    Weibull,
)
from ember.distributions.continuous_bernoulli import ContinuousBernoulli
from ember.distributions.discrete import Bernoulli, Binomial, Geometric, NegativeBinomial, Poisson
from ember.distributions.distribution import Distribution
from ember.distributions.exp_family import ExponentialFamily
from ember.distributions.gamma import (
    Beta,
    Chi2,
    Dirichlet,
    FisherSnedecor,
    Gamma,
    InverseGamma,
    Kumaraswamy,
    StudentT,
)
from ember.distributions.kl import kl_divergence, register_kl
from ember.distributions.matrix import LKJCholesky, Wishart
from ember.distributions.mixture import MixtureSameFamily
from ember.distributions.multivariate import Independent, LowRankMultivariateNormal, MultivariateNormal
from ember.distributions.relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from ember.distributions.transformed_distribution import LogisticNormal, TransformedDistribution
from ember.distributions.transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from ember.distributions.von_mises import VonMises

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "CatTransform",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "ContinuousBernoulli",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "Dirichlet",
    "Distribution",
    "ExpTransform",
    "Exponential",
    "ExponentialFamily",
    "FisherSnedecor",
    "Gamma",
    "GeneralizedPareto",
    "Geometric",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "IndependentTransform",
    "InverseGamma",
    "Kumaraswamy",
    "LKJCholesky",
    "Laplace",
    "LogNormal",
    "LogisticNormal",
    "LowRankMultivariateNormal",
    "LowerCholeskyTransform",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "NegativeBinomial",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Pareto",
    "Poisson",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "StudentT",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "Uniform",
    "VonMises",
    "Weibull",
    "Wishart",
    "biject_to",
    "constraint_registry",
    "constraints",
    "identity_transform",
    "kl_divergence",
    "register_kl",
    "transform_to",
    "transforms",
]
