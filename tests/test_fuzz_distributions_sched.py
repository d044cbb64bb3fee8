"""Regressions found by differential fuzzing of ember.distributions and ember.optim (the
optimizers and the lr schedulers) against PyTorch 2.13: each test pins one bug that was
fixed, compared with PyTorch where it is installed."""

from __future__ import annotations

import pytest

import ember
import ember.distributions as ED

# ---- distributions --------------------------------------------------------------------------------

# the distributions of a scalar event, with parameters that are 0-d tensors
_SCALAR = {
    "Normal": lambda: ED.Normal(ember.tensor(0.5), ember.tensor(2.0)),
    "Laplace": lambda: ED.Laplace(ember.tensor(0.5), ember.tensor(2.0)),
    "Cauchy": lambda: ED.Cauchy(ember.tensor(0.5), ember.tensor(2.0)),
    "Gumbel": lambda: ED.Gumbel(ember.tensor(0.5), ember.tensor(2.0)),
    "HalfNormal": lambda: ED.HalfNormal(ember.tensor(2.0)),
    "LogNormal": lambda: ED.LogNormal(ember.tensor(0.5), ember.tensor(2.0)),
    "Uniform": lambda: ED.Uniform(ember.tensor(0.5), ember.tensor(2.0)),
    "Exponential": lambda: ED.Exponential(ember.tensor(2.0)),
    "Pareto": lambda: ED.Pareto(ember.tensor(0.5), ember.tensor(2.0)),
    "Weibull": lambda: ED.Weibull(ember.tensor(0.5), ember.tensor(2.0)),
    "StudentT": lambda: ED.StudentT(ember.tensor(3.0)),
    "Gamma": lambda: ED.Gamma(ember.tensor(0.5), ember.tensor(2.0)),
    "Beta": lambda: ED.Beta(ember.tensor(0.5), ember.tensor(2.0)),
    "Bernoulli": lambda: ED.Bernoulli(ember.tensor(0.3)),
    "Geometric": lambda: ED.Geometric(ember.tensor(0.3)),
    "Poisson": lambda: ED.Poisson(ember.tensor(2.0)),
    "Binomial": lambda: ED.Binomial(3, ember.tensor(0.3)),
    "NegativeBinomial": lambda: ED.NegativeBinomial(ember.tensor(3.0), ember.tensor(0.3)),
    "Categorical": lambda: ED.Categorical(ember.tensor([0.2, 0.3, 0.5])),
    "RelaxedBernoulli": lambda: ED.RelaxedBernoulli(ember.tensor(0.5), probs=ember.tensor(0.3)),
    "Normal(floats)": lambda: ED.Normal(0.5, 2.0),
}


@pytest.mark.parametrize("name", sorted(_SCALAR))
def test_a_draw_of_a_scalar_distribution_is_0_d(name):
    # the draws went through np.ascontiguousarray, which makes a 0-d array 1-d: a
    # distribution with batch_shape () sampled shape [1] (PyTorch: []), and Categorical's
    # sample() raised a TypeError
    d = _SCALAR[name]()
    assert tuple(d.batch_shape) == ()
    assert tuple(d.sample().shape) == ()
    assert tuple(d.sample(()).shape) == ()
    assert tuple(d.sample((2,)).shape) == (2,)
    if d.has_rsample:
        x = d.rsample()
        assert tuple(x.shape) == ()
        assert x.requires_grad or not any(
            p.requires_grad for p in d.__dict__.values() if isinstance(p, ember.Tensor)
        )
