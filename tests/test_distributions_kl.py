"""kl_divergence for every pair of distribution classes in PyTorch 2.13's registry, compared
with PyTorch: the registries hold the same pairs; values (infinite entries included) and
the gradients with respect to every parameter of both distributions; spot checks of the
finite formulas by numerical integration; and LogitRelaxedBernoulli and
ExpRelaxedCategorical under PyTorch's module paths; constraints.MixtureSameFamilyConstraint."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import distributions as D

pytestmark = requires_torch

# Parameters per class, four batch entries each, chosen so that the pairs meet both their
# finite and their infinite cases: the uniforms lie inside [0, 1] (entries 0 and 1), reach
# below 0 (entry 2) and lie above 1, beyond the paretos' scales (entry 3); the paretos'
# alpha is below 1, between 1 and 2, and above 2.
PARAMS = {
    "Normal": {"loc": [0.3, -1.0, 2.0, 0.5], "scale": [0.7, 1.3, 0.9, 2.0]},
    "Laplace": {"loc": [0.1, -0.4, 1.0, 0.0], "scale": [0.8, 1.5, 0.6, 1.1]},
    "Gumbel": {"loc": [0.2, -0.5, 1.5, 0.3], "scale": [0.9, 1.4, 0.7, 2.2]},
    "Exponential": {"rate": [0.7, 1.6, 2.5, 0.4]},
    "Gamma": {"concentration": [0.8, 2.5, 1.3, 4.0], "rate": [1.2, 0.6, 2.0, 0.9]},
    "Beta": {"concentration1": [0.7, 2.0, 3.5, 1.2], "concentration0": [1.5, 0.9, 2.2, 3.0]},
    "Uniform": {"low": [0.1, 0.3, -0.2, 1.7], "high": [0.8, 0.9, 0.5, 2.9]},
    "Pareto": {"scale": [0.5, 1.0, 1.2, 1.5], "alpha": [0.8, 1.5, 2.5, 3.5]},
    "Bernoulli": {"probs": [0.2, 0.5, 0.9, 0.05]},
    "Poisson": {"rate": [0.5, 2.0, 3.5, 0.1]},
    "Binomial": {"probs": [0.3, 0.6, 0.1, 0.8]},
}
DISCRETE = {"Bernoulli", "Poisson", "Binomial"}


def _torch_pairs() -> list[tuple[str, str]]:
    import torch.distributions.kl as tkl

    return sorted((p.__name__, q.__name__) for p, q in tkl._KL_REGISTRY)


def test_registry_holds_torchs_pairs():
    from ember.distributions import kl

    ours = {(p.__name__, q.__name__) for p, q in kl._REGISTRY}
    assert set(_torch_pairs()) - ours == set()


MIXED = [
    pair
    for pair in (
        [("Bernoulli", "Poisson"), ("Poisson", "Bernoulli"), ("Poisson", "Binomial")]
        + [(p, q) for p in PARAMS for q in PARAMS if p != q and p not in DISCRETE and q not in DISCRETE]
    )
]


def _make(lib, name: str, grad: bool):
    """The distribution of that class with PARAMS[name] (float64, requiring grad), and its
    parameter tensors."""
    params = {k: lib.tensor(v, dtype=lib.float64, requires_grad=grad) for k, v in PARAMS[name].items()}
    cls = getattr(lib.distributions, name)
    extra = {"total_count": 5} if name == "Binomial" else {}
    return cls(**params, **extra, validate_args=False), list(params.values())


def _kl_or_error(lib, p, q):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.distributions.kl_divergence(p, q)
    except NotImplementedError:
        return NotImplementedError


@pytest.mark.parametrize(("p_name", "q_name"), MIXED)
def test_mixed_pairs_match_torch(p_name, q_name):
    import torch

    tp, tparams = _make(torch, p_name, True)
    tq, tqparams = _make(torch, q_name, True)
    ep, eparams = _make(ember, p_name, True)
    eq, eqparams = _make(ember, q_name, True)
    expected, actual = _kl_or_error(torch, tp, tq), _kl_or_error(ember, ep, eq)
    if expected is NotImplementedError:
        assert actual is NotImplementedError
        return
    assert actual is not NotImplementedError, (p_name, q_name)
    assert actual.dtype == ember.float64
    assert_close(actual, expected, 1e-9, 1e-10)
    finite = np.isfinite(expected.detach().numpy())
    if not finite.any():
        return
    expected[torch.tensor(finite)].sum().backward()
    actual[ember.tensor(finite)].sum().backward()
    for e, t in zip(eparams + eqparams, tparams + tqparams):
        expected_grad = np.zeros(4) if t.grad is None else t.grad.numpy()
        actual_grad = np.zeros(4) if e.grad is None else e.grad.numpy()
        # PyTorch's gradient is NaN in an infinite entry whose formula takes the log of a
        # negative number, although that entry is not in the sum; ember's is 0 there
        known = ~np.isnan(expected_grad)
        assert not np.isnan(actual_grad).any() and (actual_grad[~known] == 0).all()
        np.testing.assert_allclose(actual_grad[known], expected_grad[known], rtol=1e-8, atol=1e-10)


def _log_density(dist, x: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dist.log_prob(ember.tensor(x)).numpy()


def _f64(cls, *params):
    return cls(*(ember.tensor(v, dtype=ember.float64) for v in params), validate_args=False)


@pytest.mark.parametrize(
    ("p", "q", "grid"),
    [
        (_f64(D.Gamma, 2.5, 1.5), _f64(D.Gumbel, 0.4, 1.3), np.linspace(1e-9, 40, 400001)),
        (_f64(D.Exponential, 1.7), _f64(D.Gumbel, -0.3, 0.8), np.linspace(0, 40, 400001)),
        (_f64(D.Uniform, 0.2, 1.4), _f64(D.Gumbel, 0.5, 0.9), np.linspace(0.2, 1.4, 200001)),
        (_f64(D.Normal, 0.3, 0.8), _f64(D.Laplace, -0.2, 1.2), np.linspace(-12, 12, 400001)),
        (_f64(D.Uniform, 1.2, 2.5), _f64(D.Pareto, 1.1, 2.2), np.linspace(1.2, 2.5, 200001)),
        (_f64(D.Uniform, 0.0, 0.6), _f64(D.Beta, 2.0, 3.0), np.linspace(1e-12, 0.6, 400001)),
        (_f64(D.Pareto, 1.0, 2.5), _f64(D.Normal, 1.0, 2.0), np.geomspace(1.0, 1e7, 2000001)),
    ],
)
def test_finite_formulas_agree_with_numerical_integration(p, q, grid):
    log_p = _log_density(p, grid)
    pdf = np.exp(log_p)
    integrand = np.where(pdf > 0, pdf * (log_p - _log_density(q, grid)), 0.0)
    numerical = np.trapezoid(integrand, grid)
    assert float(D.kl_divergence(p, q)) == pytest.approx(numerical, rel=2e-3, abs=2e-4)


def test_infinite_entries_have_zero_gradient():
    low = ember.tensor([0.2, -0.5], requires_grad=True)
    rate = ember.tensor([1.0, 2.0], requires_grad=True)
    kl = D.kl_divergence(D.Uniform(low, ember.tensor([0.9, 0.8])), D.Exponential(rate))
    assert math.isfinite(float(kl[0])) and float(kl[1]) == math.inf
    kl[0].backward()
    assert low.grad[1] == 0 and rate.grad[1] == 0
    alpha = ember.tensor([0.9, 3.0], requires_grad=True)
    kl = D.kl_divergence(D.Pareto(1.0, alpha), D.Gamma(2.0, 1.0))
    assert float(kl[0]) == math.inf
    kl[1].backward()
    assert alpha.grad[0] == 0 and not np.isnan(alpha.grad.numpy()).any()


def test_subclasses_use_their_parents_pairs():
    import torch

    expected = torch.distributions.kl_divergence(
        torch.distributions.Chi2(torch.tensor(3.0)), torch.distributions.Normal(1.0, 2.0)
    )
    assert_close(D.kl_divergence(D.Chi2(ember.tensor(3.0)), D.Normal(1.0, 2.0)), expected)


def test_log_space_relaxed_distributions_match_torch():
    import torch
    from ember.distributions.relaxed_bernoulli import LogitRelaxedBernoulli, RelaxedBernoulli
    from ember.distributions.relaxed_categorical import ExpRelaxedCategorical, RelaxedOneHotCategorical
    from torch.distributions.relaxed_bernoulli import LogitRelaxedBernoulli as TorchLogit
    from torch.distributions.relaxed_categorical import ExpRelaxedCategorical as TorchExp

    assert RelaxedBernoulli is D.RelaxedBernoulli and RelaxedOneHotCategorical is D.RelaxedOneHotCategorical
    rng = np.random.default_rng(0)
    probs = rng.random((3, 4))
    values = rng.standard_normal((2, 3, 4))
    for ours_cls, torch_cls, prm in (
        (LogitRelaxedBernoulli, TorchLogit, probs),
        (ExpRelaxedCategorical, TorchExp, probs / probs.sum(-1, keepdims=True)),
    ):
        for kind in ("probs", "logits"):
            tt, et = (lib.tensor(0.7, dtype=lib.float64, requires_grad=True) for lib in (torch, ember))
            tp, ep = (lib.tensor(prm, requires_grad=True) for lib in (torch, ember))
            theirs, ours = torch_cls(tt, **{kind: tp}), ours_cls(et, **{kind: ep})
            assert repr(ours).replace("ember", "torch") == repr(theirs)
            assert ours.batch_shape == theirs.batch_shape and ours.event_shape == theirs.event_shape
            assert tuple(ours.rsample((5,)).shape) == tuple(theirs.rsample((5,)).shape)
            x = values if ours_cls is LogitRelaxedBernoulli else theirs.rsample((2,)).detach().numpy()
            expected, actual = theirs.log_prob(torch.tensor(x)), ours.log_prob(ember.tensor(x))
            assert_close(actual, expected, 1e-10, 1e-12)
            expected.sum().backward()
            actual.sum().backward()
            assert_close(ep.grad, tp.grad, 1e-10, 1e-12)
            assert_close(et.grad, tt.grad, 1e-10, 1e-12)


def test_mixture_same_family_constraint_matches_torch():
    import torch

    outcomes = []
    for lib in (torch, ember):
        dist = lib.distributions
        mixture = dist.MixtureSameFamily(
            dist.Categorical(lib.ones(2, 3)),
            dist.Independent(dist.Uniform(lib.zeros(2, 3, 2), lib.ones(2, 3, 2)), 1),
        )
        support = mixture.support
        value = lib.tensor([[[0.5, 0.2], [0.5, 1.5]], [[0.1, 0.1], [0.3, 0.3]]])
        counts = dist.MixtureSameFamily(dist.Categorical(lib.ones(3)), dist.Poisson(lib.ones(3))).support
        outcomes.append(
            (
                type(support).__name__,
                support.event_dim,
                support.check(value).numpy().tolist(),
                repr(counts),
                counts.is_discrete,
                counts.check(lib.tensor([1.0, 1.5, -1.0])).numpy().tolist(),
            )
        )
        assert isinstance(support, dist.constraints.MixtureSameFamilyConstraint)
        with pytest.raises(AssertionError):
            dist.constraints.MixtureSameFamilyConstraint(3)
    assert outcomes[0] == outcomes[1]


def test_sample_n_and_get_checked_instance():
    normal = D.Normal(ember.zeros(3), ember.ones(3))
    with pytest.warns(FutureWarning, match="sample_n"):
        assert normal.sample_n(4).shape == (4, 3)

    class Shifted(D.Normal):
        """A user's distribution with PyTorch's way of writing expand."""

        def __init__(self, loc, validate_args=None):
            super().__init__(loc, ember.ones_like(loc), validate_args=validate_args)

        def expand(self, batch_shape, _instance=None):
            new = self._get_checked_instance(Shifted, _instance)
            D.Normal.expand(self, batch_shape, _instance=new)
            return new

    expanded = Shifted(ember.zeros(3)).expand((2, 3))
    assert type(expanded) is Shifted and expanded.batch_shape == (2, 3)
    with pytest.raises(NotImplementedError, match="must also define a custom .expand"):
        Shifted(ember.zeros(3))._get_checked_instance(D.Normal)
