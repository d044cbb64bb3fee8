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

# PyTorch keeps each distribution in a module of its own, and code imports them by that path
# (`from torch.distributions.normal import Normal`). ember groups them by family instead
# (continuous.py, gamma.py, ...), so each of PyTorch's paths that ember's layout lacks is a
# small module object holding the same names, registered where `import` looks first.
_TORCH_MODULES = {
    "bernoulli": "Bernoulli",
    "beta": "Beta",
    "binomial": "Binomial",
    "cauchy": "Cauchy",
    "chi2": "Chi2",
    "dirichlet": "Dirichlet",
    "exponential": "Exponential",
    "fishersnedecor": "FisherSnedecor",
    "generalized_pareto": "GeneralizedPareto",
    "geometric": "Geometric",
    "gumbel": "Gumbel",
    "half_cauchy": "HalfCauchy",
    "half_normal": "HalfNormal",
    "independent": "Independent",
    "inverse_gamma": "InverseGamma",
    "kumaraswamy": "Kumaraswamy",
    "laplace": "Laplace",
    "lkj_cholesky": "LKJCholesky",
    "log_normal": "LogNormal",
    "logistic_normal": "LogisticNormal",
    "lowrank_multivariate_normal": "LowRankMultivariateNormal",
    "mixture_same_family": "MixtureSameFamily",
    "multinomial": "Multinomial",
    "multivariate_normal": "MultivariateNormal",
    "negative_binomial": "NegativeBinomial",
    "normal": "Normal",
    "one_hot_categorical": "OneHotCategorical OneHotCategoricalStraightThrough",
    "pareto": "Pareto",
    "poisson": "Poisson",
    "relaxed_bernoulli": "LogitRelaxedBernoulli RelaxedBernoulli",
    "relaxed_categorical": "ExpRelaxedCategorical RelaxedOneHotCategorical",
    "studentT": "StudentT",
    "uniform": "Uniform",
    "weibull": "Weibull",
    "wishart": "Wishart",
}


def _register_torch_module_paths() -> None:
    import sys
    import types

    from ember.distributions import relaxed  # the log-space bases, not exported here (as in PyTorch)

    for name, classes in _TORCH_MODULES.items():
        path = f"{__name__}.{name}"
        module = types.ModuleType(path, f"torch.distributions.{name}: {classes}, from ember.distributions")
        module.__all__ = classes.split()  # type: ignore[attr-defined]
        for cls in module.__all__:  # type: ignore[attr-defined]
            setattr(module, cls, globals()[cls] if cls in globals() else getattr(relaxed, cls))
        sys.modules[path] = module
        globals()[name] = module


_register_torch_module_paths()
