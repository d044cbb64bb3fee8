"""The distributions, transforms and constraint registries added to complete
ember.distributions against torch.distributions 2.13: HalfCauchy, InverseGamma, VonMises,
FisherSnedecor, Kumaraswamy, GeneralizedPareto, ContinuousBernoulli, LogisticNormal,
OneHotCategoricalStraightThrough, LKJCholesky, Wishart and ExponentialFamily; the
transforms SoftmaxTransform ... CumulativeDistributionTransform; biject_to/transform_to;
their kl_divergence pairs.

Deterministic quantities (log_prob, cdf/icdf, entropy, moments, log-Jacobians, KL) and
their gradients are compared with PyTorch's on the same parameters in float32 and
float64. Draws come from ember's generator, so they are checked by their moments, and
rsample's gradients by finite differences with the generator reseeded on each call."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import ember
import ember.distributions as ED
from conftest import assert_close, requires_torch
from ember.autograd import gradcheck
from ember.distributions import constraints as EC
from ember.distributions import transforms as ET

pytestmark = requires_torch

TOL = {"float32": (2e-4, 2e-5), "float64": (1e-8, 1e-10)}
DTYPES = ["float32", "float64"]


def _torch() -> Any:
    import torch

    return torch


# ---- distributions --------------------------------------------------------------------------------
# name -> (constructor taking the library's distributions module and the parameters, the
# parameters as numpy arrays (batch (2, 3) when broadcast), a function (rng, shape) -> values
# inside the support, the methods torch has)

_R = np.random.default_rng(0)
_MOMENTS = ("mean", "variance", "stddev")


def _unit(rng: Any, shape: tuple) -> np.ndarray:
    return rng.uniform(0.05, 0.95, size=shape)


CASES: dict = {
    "HalfCauchy": (
        lambda D, p: D.HalfCauchy(p["scale"]),
        {"scale": _R.uniform(0.5, 2, (2, 3))},
        lambda rng, s: rng.uniform(0.01, 4, s),
        ("cdf", "icdf", "entropy", "mode", "variance"),
    ),
    "InverseGamma": (
        lambda D, p: D.InverseGamma(p["concentration"], p["rate"]),
        {"concentration": _R.uniform(0.5, 4, (2, 3)), "rate": _R.uniform(0.5, 2, (3,))},
        lambda rng, s: rng.uniform(0.1, 4, s),
        ("cdf", "entropy", "mean", "mode", "variance", "stddev"),
    ),
    "VonMises": (
        lambda D, p: D.VonMises(p["loc"], p["concentration"]),
        {"loc": _R.normal(size=(2, 3)), "concentration": np.array([0.3, 2.0, 7.0])},
        lambda rng, s: rng.uniform(-4, 4, s),
        ("mean", "mode", "variance"),
    ),
    "FisherSnedecor": (
        lambda D, p: D.FisherSnedecor(p["df1"], p["df2"]),
        {"df1": _R.uniform(1, 6, (2, 3)), "df2": np.array([1.5, 3.0, 9.0])},
        lambda rng, s: rng.uniform(0.1, 4, s),
        ("mean", "mode", "variance"),
    ),
    "Kumaraswamy": (
        lambda D, p: D.Kumaraswamy(p["concentration1"], p["concentration0"]),
        {"concentration1": _R.uniform(0.5, 4, (2, 3)), "concentration0": _R.uniform(0.5, 4, (3,))},
        _unit,
        ("cdf", "icdf", "entropy", "mean", "variance", "stddev"),
    ),
    "GeneralizedPareto": (
        lambda D, p: D.GeneralizedPareto(p["loc"], p["scale"], p["concentration"]),
        {
            "loc": _R.normal(size=(2, 3)),
            "scale": _R.uniform(0.5, 2, (3,)),
            "concentration": np.array([0.3, 0.0, 0.7]),
        },
        None,  # values: loc + scale * u
        ("cdf", "icdf", "entropy", "mean", "mode", "variance", "stddev"),
    ),
    "ContinuousBernoulli-probs": (
        lambda D, p: D.ContinuousBernoulli(probs=p["probs"]),
        {"probs": np.array([[0.1, 0.4995, 0.5003], [0.7, 0.95, 0.3]])},
        _unit,
        ("cdf", "icdf", "entropy", "mean", "variance", "stddev"),
    ),
    "ContinuousBernoulli-logits": (
        lambda D, p: D.ContinuousBernoulli(logits=p["logits"]),
        {"logits": _R.normal(size=(2, 3)) * 2},
        _unit,
        ("cdf", "icdf", "entropy", "mean", "variance", "stddev"),
    ),
    "LogisticNormal": (
        lambda D, p: D.LogisticNormal(p["loc"], p["scale"]),
        {"loc": _R.normal(size=(2, 3)), "scale": _R.uniform(0.5, 2, (3,))},
        lambda rng, s: (lambda x: x / x.sum(-1, keepdims=True))(rng.uniform(0.1, 1, (*s[:-1], 4))),
        (),
    ),
    "LKJCholesky": (
        lambda D, p: D.LKJCholesky(3, p["concentration"]),
        {"concentration": np.array([0.5, 1.0, 3.0])},
        None,  # values: torch's draws
        (),
    ),
    "Wishart": (
        lambda D, p: D.Wishart(p["df"], scale_tril=p["scale_tril"]),
        {
            "df": np.array([3.5, 6.0]),
            "scale_tril": np.tril(_R.normal(size=(2, 3, 3)) * 0.3)
            + np.eye(3) * _R.uniform(0.5, 1.5, (2, 1, 3)),
        },
        None,  # values: torch's draws
        ("entropy", "mean", "mode", "variance"),
    ),
}
# VonMises: PyTorch's log I0 is a polynomial approximation good to about 1e-7
LOOSE = {"VonMises": (2e-6, 2e-7)}


def _make(name: str, dtype: str, grad: bool = True) -> tuple:
    torch = _torch()
    make, params, _, _ = CASES[name]
    e_params = {k: ember.tensor(np.asarray(v, dtype=dtype), requires_grad=grad) for k, v in params.items()}
    t_params = {k: torch.tensor(np.asarray(v, dtype=dtype), requires_grad=grad) for k, v in params.items()}
    return make(ED, e_params), make(torch.distributions, t_params), e_params, t_params


@pytest.fixture(autouse=True)
def _torch_default_dtype(request: Any) -> Any:
    """PyTorch 2.13's GeneralizedPareto compares its concentration with a float32 zero
    (isclose), which fails for float64 parameters ("Double did not match Float") unless
    float64 is the default dtype: the float64 comparisons run with it so."""
    torch = _torch()
    params = getattr(request.node, "callspec", None)
    if params is None or params.params.get("dtype") != "float64":
        yield
        return
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _values(name: str, t: Any, dtype: str) -> np.ndarray:
    torch = _torch()
    rng = np.random.default_rng(1)
    shape = (2, *t.batch_shape, *t.event_shape)
    values = CASES[name][2]
    if name == "GeneralizedPareto":
        return (t.loc + t.scale * torch.tensor(rng.uniform(0, 3, shape))).detach().numpy().astype(dtype)
    if values is None:
        torch.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return t.sample((2,)).numpy().astype(dtype)
    return np.asarray(values(rng, shape), dtype=dtype)


def _tol(name: str, dtype: str) -> tuple:
    return LOOSE.get(name, TOL[dtype]) if dtype == "float64" else TOL[dtype]


def _shown(constraint: Any) -> str:
    """A constraint's kind and event_dim (its bounds are tensors, printed per library)."""
    return f"{repr(constraint).split('(')[0]}/{constraint.event_dim}"


def _same_grads(e_params: dict, t_params: dict, tol: tuple) -> None:
    """The gradients agree; where PyTorch's is NaN only because a value masked out by an
    in-place assignment (FisherSnedecor's `variance[df2 <= 4] = nan`) multiplies a zero
    gradient, ember's (zero there) is not compared."""
    for key, pe in e_params.items():
        pt = t_params[key]
        if pt.grad is None:
            assert pe.grad is None or not bool(pe.grad.any()), key
        else:
            assert pe.grad is not None, key
            finite = np.isfinite(pt.grad.numpy())
            assert_close(pe.grad.numpy()[finite], pt.grad.numpy()[finite], *tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_log_prob_and_its_gradients_match_torch(name: str, dtype: str) -> None:
    torch = _torch()
    tol = _tol(name, dtype)
    e, t, e_params, t_params = _make(name, dtype)
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    assert e.has_rsample == t.has_rsample and type(e).has_rsample == type(t).has_rsample
    assert _shown(e.support) == _shown(t.support)
    assert {k: _shown(v) for k, v in e.arg_constraints.items()} == {
        k: _shown(v) for k, v in t.arg_constraints.items()
    }
    x = _values(name, t, dtype)
    matrix = name in ("LKJCholesky", "Wishart")  # values on a manifold: no gradient in them
    x_e = ember.tensor(x, requires_grad=not matrix)
    x_t = torch.tensor(x, requires_grad=not matrix)
    lp_e, lp_t = e.log_prob(x_e), t.log_prob(x_t)
    assert lp_e.dtype == getattr(ember, dtype) and tuple(lp_e.shape) == tuple(lp_t.shape)
    assert_close(lp_e, lp_t, *tol)
    lp_e.sum().backward()
    lp_t.sum().backward()
    _same_grads(e_params, t_params, tol)
    if not matrix:
        assert_close(x_e.grad, x_t.grad, *tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][3]])
def test_cdf_icdf_entropy_and_moments_match_torch(name: str, dtype: str) -> None:
    torch = _torch()
    tol = _tol(name, dtype)
    methods = CASES[name][3]
    for method in methods:
        e, t, e_params, t_params = _make(name, dtype)
        if method in ("cdf", "icdf"):
            x = _values(name, t, dtype) if method == "cdf" else _unit(np.random.default_rng(2), (2, 2, 3))
            x = np.asarray(x, dtype=dtype)
            x_e, x_t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            out_e, out_t = getattr(e, method)(x_e), getattr(t, method)(x_t)
        elif method == "entropy":
            out_e, out_t = e.entropy(), t.entropy()
        else:
            out_e, out_t = getattr(e, method), getattr(t, method)
        assert tuple(out_e.shape) == tuple(out_t.shape), method
        assert_close(out_e, out_t, *tol)
        finite_t = torch.isfinite(out_t)
        if out_t.requires_grad and bool(finite_t.any()):
            out_e[ember.tensor(finite_t.numpy())].sum().backward()
            try:
                out_t[finite_t].sum().backward()
            except NotImplementedError:  # PyTorch's igamma has no gradient in its first argument
                assert name == "InverseGamma" and method == "cdf"
                continue
            _same_grads(e_params, t_params, tol)
            if method in ("cdf", "icdf"):
                assert_close(x_e.grad, x_t.grad, *tol)


@pytest.mark.parametrize("name", list(CASES))
def test_expand_matches_torch(name: str) -> None:
    torch = _torch()
    e, t, _, _ = _make(name, "float32", grad=False)
    shape = (4, *e.batch_shape)
    e2, t2 = e.expand(shape), t.expand(torch.Size(shape))
    assert type(e2) is type(e) and tuple(e2.batch_shape) == tuple(t2.batch_shape) == shape
    assert tuple(e2.event_shape) == tuple(t2.event_shape)
    x = _values(name, t2, "float32")
    assert_close(e2.log_prob(ember.tensor(x)), t2.log_prob(torch.tensor(x)), *TOL["float32"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tuple(e2.sample((5,)).shape) == (5, *t2.batch_shape, *t2.event_shape)


# the moments of the draws: n draws, the tolerance in standard errors
SAMPLED = {
    "HalfCauchy": None,  # no mean: the median is checked instead
    "InverseGamma": lambda D: D.InverseGamma(ember.tensor([5.0, 9.0]), ember.tensor([2.0, 1.0])),
    "VonMises": lambda D: D.VonMises(ember.tensor([0.5, -3.0]), ember.tensor([0.5, 4.0])),
    "FisherSnedecor": lambda D: D.FisherSnedecor(ember.tensor([4.0, 9.0]), ember.tensor([12.0, 20.0])),
    "Kumaraswamy": lambda D: D.Kumaraswamy(ember.tensor([0.7, 3.0]), ember.tensor([2.0, 0.8])),
    "GeneralizedPareto": lambda D: D.GeneralizedPareto(
        ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]), ember.tensor([0.1, -0.5])
    ),
    "ContinuousBernoulli": lambda D: D.ContinuousBernoulli(probs=ember.tensor([0.2, 0.5, 0.9])),
    "LogisticNormal": None,
    "OneHotCategoricalStraightThrough": lambda D: D.OneHotCategoricalStraightThrough(
        probs=ember.tensor([0.2, 0.3, 0.5])
    ),
    "Wishart": lambda D: D.Wishart(
        ember.tensor(5.0), covariance_matrix=ember.tensor([[2.0, 0.5], [0.5, 1.0]])
    ),
}


@pytest.mark.parametrize("name", [n for n, f in SAMPLED.items() if f is not None])
def test_sample_moments_match_the_distribution(name: str) -> None:
    ember.manual_seed(0)
    d = SAMPLED[name](ED)
    n = 40000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = d.sample((n,))
    assert tuple(x.shape) == (n, *d.batch_shape, *d.event_shape) and x.dtype == ember.float32
    assert bool(d.support.check(x).all())
    x = x.double()
    if name == "VonMises":  # circular moments: E[exp(i x)] = (1 - variance) exp(i loc)
        c, s = ember.cos(x).mean(0), ember.sin(x).mean(0)
        resultant = 1 - d.variance.double()
        assert_close(c, resultant * ember.cos(d.loc.double()), 0, 0.02)
        assert_close(s, resultant * ember.sin(d.loc.double()), 0, 0.02)
        return
    mean, var = d.mean.double(), d.variance.double()
    assert_close(x.mean(0), mean, 0, 5 * float((var / n).sqrt().max()))
    assert_close(x.var(0), var, 0.06, 0)


def test_half_cauchy_median_and_logistic_normal_draws() -> None:
    ember.manual_seed(0)
    x = ED.HalfCauchy(ember.tensor([1.0, 3.0])).sample((20000,))
    assert bool((x >= 0).all())
    assert_close(x.median(0).values, ember.tensor([1.0, 3.0]), 0.05, 0)  # icdf(1/2) = scale
    d = ED.LogisticNormal(ember.tensor([0.5, -1.0]), ember.tensor([0.3, 0.3]))
    y = d.sample((5000,))
    assert tuple(y.shape) == (5000, 3) and bool(EC.simplex.check(y).all())
    # the stick-breaking inverse of the draws is the Normal's
    z = d.transforms[0].inv(y)
    assert_close(z.mean(0), ember.tensor([0.5, -1.0]), 0, 0.02)
    assert_close(z.std(0), ember.tensor([0.3, 0.3]), 0.05, 0)


@pytest.mark.parametrize("dim", [3, 4])
def test_lkj_cholesky_draws_are_correlation_factors_with_the_right_spread(dim: int) -> None:
    """Every off-diagonal correlation of an LKJ(eta) matrix of dim d is 2 Beta(b, b) - 1 with
    b = eta - 1 + d / 2, of variance 1 / (2 b + 1). (PyTorch 2.13's draws spread those of
    the third row on too wide: 0.372 instead of 1/3 for d = 3, eta = 0.5.)"""
    ember.manual_seed(0)
    for eta in (0.5, 2.0):
        L = ED.LKJCholesky(dim, eta).sample((20000,))
        assert bool(EC.corr_cholesky.check(L).all())
        corr = (L @ L.mT).double()
        b = eta - 1 + dim / 2
        rows, cols = np.tril_indices(dim, -1)
        off_diagonal = corr[:, ember.tensor(rows), ember.tensor(cols)]
        assert_close(off_diagonal.mean(0), np.zeros(len(rows)), 0, 0.02)
        assert_close(off_diagonal.var(0), np.full(len(rows), 1 / (2 * b + 1)), 0.05, 0)


def _reseeded(d_of: Any, sample_shape: tuple = (3,)) -> Any:
    def draw(*params: Any) -> Any:
        ember.manual_seed(7)
        return d_of(*params).rsample(sample_shape)

    return draw


# (the gradients in a gamma draw's concentration are the implicit ones, -dF/dc / f, not
# those of the sampler's transform of fixed noise, so finite differences do not check them:
# InverseGamma's concentration, FisherSnedecor's dfs and Wishart's df are held fixed here)
RSAMPLED = {
    "HalfCauchy": (lambda s: ED.HalfCauchy(s), [[0.7, 1.3]]),
    "InverseGamma": (
        lambda r: ED.InverseGamma(ember.tensor([1.5, 3.0], dtype=ember.float64), r),
        [[0.8, 2.0]],
    ),
    "Kumaraswamy": (lambda a, b: ED.Kumaraswamy(a, b), [[1.5, 3.0], [2.0, 0.8]]),
    "GeneralizedPareto": (
        lambda m, s, c: ED.GeneralizedPareto(m, s, c),
        [[0.0, 1.0], [1.0, 2.0], [0.2, -0.3]],
    ),
    "ContinuousBernoulli": (lambda p: ED.ContinuousBernoulli(probs=p), [[0.2, 0.8]]),
    "LogisticNormal": (lambda m, s: ED.LogisticNormal(m, s), [[0.3, -0.2], [0.5, 1.5]]),
    "Wishart": (
        lambda L: ED.Wishart(ember.tensor([4.0], dtype=ember.float64), scale_tril=L.tril()),
        [[[[1.0, 0.0], [0.3, 0.8]]]],
    ),
}


@pytest.mark.parametrize("name", list(RSAMPLED))
def test_rsample_gradients_by_finite_differences(name: str) -> None:
    make, params = RSAMPLED[name]
    inputs = tuple(ember.tensor(p, dtype=ember.float64, requires_grad=True) for p in params)
    assert gradcheck(_reseeded(make), inputs)


def test_straight_through_rsample_is_one_hot_with_the_gradient_of_probs() -> None:
    torch = _torch()
    ember.manual_seed(0)
    logits = ember.tensor([0.2, -0.4, 1.0], requires_grad=True)
    d = ED.OneHotCategoricalStraightThrough(logits=logits)
    assert d.has_rsample and isinstance(d, ED.OneHotCategorical)
    x = d.rsample((4,))
    assert bool(EC.one_hot.check(x.detach()).all())
    weights = ember.tensor([1.0, 2.0, 3.0])
    (x * weights).sum().backward()
    t_logits = torch.tensor([0.2, -0.4, 1.0], requires_grad=True)
    (4 * torch.softmax(t_logits, -1) * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert_close(logits.grad, t_logits.grad)


def test_reprs_and_errors_match_torch() -> None:
    torch = _torch()
    TD = torch.distributions
    pairs = [
        (ED.HalfCauchy(1.0), TD.HalfCauchy(1.0)),
        (ED.InverseGamma(2.0, 3.0), TD.InverseGamma(2.0, 3.0)),
        (ED.VonMises(0.0, 1.0), TD.VonMises(0.0, 1.0)),
        (ED.FisherSnedecor(2.0, 3.0), TD.FisherSnedecor(2.0, 3.0)),
        (ED.Kumaraswamy(2.0, 3.0), TD.Kumaraswamy(2.0, 3.0)),
        (ED.GeneralizedPareto(0.0, 1.0, 0.5), TD.GeneralizedPareto(0.0, 1.0, 0.5)),
        (ED.LogisticNormal(ember.zeros(3), 1.0), TD.LogisticNormal(torch.zeros(3), 1.0)),
        (ED.LKJCholesky(3, 0.5), TD.LKJCholesky(3, 0.5)),
        (ED.Wishart(4.0, ember.eye(2)), TD.Wishart(4.0, torch.eye(2))),
    ]
    for e, t in pairs:
        assert repr(e) == repr(t).replace("torch.", "ember.")
    # Python numbers make 0-d parameters (the Bessel functions failed on those once)
    assert_close(
        ED.VonMises(0.0, 1.0).log_prob(ember.tensor(0.5)), TD.VonMises(0.0, 1.0).log_prob(torch.tensor(0.5))
    )
    with pytest.raises(ValueError, match="Expected parameter scale"):
        ED.HalfCauchy(-1.0)
    with pytest.raises(ValueError, match="Expected parameter concentration"):
        ED.VonMises(0.0, 0.0)
    with pytest.raises(ValueError, match=r"parameter concentration .* of distribution Gamma"):
        ED.FisherSnedecor(1.0, -2.0)  # PyTorch's message names the Gamma inside too
    with pytest.raises(ValueError, match="Expected dim to be an integer greater than or equal to 2"):
        ED.LKJCholesky(1)
    with pytest.raises(ValueError, match="expected to be greater than ndim - 1"):
        ED.Wishart(0.5, ember.eye(2))
    with pytest.raises(ValueError, match="Exactly one of"):
        ED.Wishart(3.0)
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        ED.ContinuousBernoulli()
    with pytest.raises(ValueError, match="within the support"):
        ED.Kumaraswamy(2.0, 3.0).log_prob(ember.tensor(1.5))
    with pytest.raises(ValueError, match="within the support"):
        ED.GeneralizedPareto(0.0, 1.0, -0.5).log_prob(ember.tensor(2.5))  # beyond loc - scale / c


def test_continuous_bernoulli_checks_probs_before_clamping_them() -> None:
    with pytest.raises(ValueError, match="Expected parameter probs"):
        ED.ContinuousBernoulli(probs=ember.tensor([0.5, 1.5]))  # PyTorch clamps it to 1 - eps silently
    d = ED.ContinuousBernoulli(probs=ember.tensor([0.0, 1.0]))
    assert bool(((d.probs > 0) & (d.probs < 1)).all())  # clamped, as in PyTorch


def test_kumaraswamy_mode_is_the_maximum_of_the_density() -> None:
    # PyTorch 2.13's mode is NaN for every concentration0 > 1
    a, b = (
        ember.tensor([2.0, 3.0, 5.0], dtype=ember.float64),
        ember.tensor([2.0, 5.0, 1.5], dtype=ember.float64),
    )
    d = ED.Kumaraswamy(a, b)
    mode = d.mode
    assert_close(mode, ((a - 1) / (a * b - 1)).pow(1 / a))
    for delta in (-1e-3, 1e-3):
        assert bool((d.log_prob(mode + delta) < d.log_prob(mode)).all())
    assert bool(ED.Kumaraswamy(0.5, 2.0).mode.isnan())


def test_values_at_the_ends_of_the_support() -> None:
    torch = _torch()
    TD = torch.distributions
    f64 = ember.float64
    # InverseGamma.cdf checks 1 / value against the Gamma's support, as PyTorch: cdf(0) = 0
    e, t = ED.InverseGamma(2.0, 3.0), TD.InverseGamma(2.0, 3.0)
    for v in (0.0, 0.5, math.inf):
        assert_close(e.cdf(ember.tensor(v)), t.cdf(torch.tensor(v)))
    with pytest.raises(ValueError, match="within the support"):
        e.cdf(ember.tensor(-1.0))
    # the log density where it tends to 0 or inf: PyTorch's chain of transforms gives NaN
    # at x = 0 and 1 for Kumaraswamy, and +inf for InverseGamma at 1e-300 (its
    # log-Jacobian overflows)
    k = ED.Kumaraswamy(ember.tensor([2.0, 0.5], dtype=f64), ember.tensor([3.0, 0.5], dtype=f64))
    assert k.log_prob(ember.zeros(2, dtype=f64)).tolist() == [-math.inf, math.inf]
    assert k.log_prob(ember.ones(2, dtype=f64)).tolist() == [-math.inf, math.inf]
    ig = ED.InverseGamma(ember.tensor(2.0, dtype=f64), ember.tensor(3.0, dtype=f64))
    assert ig.log_prob(ember.tensor(1e-300, dtype=f64)).item() < -1e300


def test_exponential_family_classes_and_bregman_entropy() -> None:
    torch = _torch()
    for name in ("Normal", "Exponential", "Gamma", "Chi2", "Beta", "Dirichlet", "Bernoulli", "Poisson"):
        assert issubclass(getattr(ED, name), ED.ExponentialFamily)
        assert issubclass(getattr(torch.distributions, name), torch.distributions.ExponentialFamily)
    assert not issubclass(ED.Laplace, ED.ExponentialFamily)
    # the base class's entropy (the Bregman form) agrees with the closed forms
    for dtype in DTYPES:
        e, t, e_params, t_params = _make("ContinuousBernoulli-logits", dtype)
        h_e, h_t = ED.ExponentialFamily.entropy(e), torch.distributions.ExponentialFamily.entropy(t)
        assert_close(h_e, h_t, *TOL[dtype])
        assert_close(h_e, e.entropy(), 1e-3, 1e-4)
        e, t, e_params, t_params = _make("Wishart", dtype)
        h_e, h_t = ED.ExponentialFamily.entropy(e), torch.distributions.ExponentialFamily.entropy(t)
        assert_close(h_e, h_t, *(1e-3, 1e-4) if dtype == "float32" else TOL[dtype])
        h_e.sum().backward()
        h_t.sum().backward()
        _same_grads(e_params, t_params, (1e-3, 1e-4) if dtype == "float32" else TOL[dtype])


# ---- kl_divergence --------------------------------------------------------------------------------


def _kl_pairs(D: Any, lib: Any, dtype: str) -> dict:
    def T(v: Any) -> Any:
        return lib.tensor(np.asarray(v, dtype=dtype), requires_grad=True)

    cb = lambda: D.ContinuousBernoulli(probs=T([0.2, 0.4996, 0.8]))  # noqa: E731
    return {
        "CB-CB": (cb(), D.ContinuousBernoulli(logits=T([1.0, -0.5, 0.001]))),
        "Beta-CB": (D.Beta(T([0.5, 2.0, 3.0]), T([1.5, 2.0, 0.7])), cb()),
        "Uniform-CB": (D.Uniform(T([0.1, 0.0, -0.2]), T([0.5, 0.9, 0.6])), cb()),
        "CB-Exponential": (cb(), D.Exponential(T([0.5, 1.0, 3.0]))),
        "CB-Normal": (cb(), D.Normal(T([0.0, 0.5, 1.0]), T([0.5, 1.0, 2.0]))),
        "CB-Uniform": (cb(), D.Uniform(T([-0.5, 0.2, -1.0]), T([1.5, 2.0, 0.9]))),
        "CB-Pareto": (cb(), D.Pareto(T([1.0, 1.0, 1.0]), T([1.0, 2.0, 3.0]))),
        "Exponential-CB": (D.Exponential(T([0.5, 1.0, 3.0])), cb()),
        "Gamma-CB": (D.Gamma(T([0.5, 1.0, 3.0]), T([1.0, 1.0, 1.0])), cb()),
        "Normal-CB": (D.Normal(T([0.0, 0.5, 1.0]), T([0.5, 1.0, 2.0])), cb()),
        "Laplace-CB": (D.Laplace(T([0.0, 0.5, 1.0]), T([0.5, 1.0, 2.0])), cb()),
        "Gumbel-CB": (D.Gumbel(T([0.0, 0.5, 1.0]), T([0.5, 1.0, 2.0])), cb()),
        "Wishart-Wishart": (
            D.Wishart(T([4.0, 6.0]), covariance_matrix=T([[[2.0, 0.3], [0.3, 1.0]]])),
            D.Wishart(T([3.0, 5.0]), scale_tril=T([[[1.0, 0.0], [0.5, 0.7]]])),
        ),
    }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pair", list(_kl_pairs(ED, ember, "float64")))
def test_kl_divergence_matches_torch(pair: str, dtype: str) -> None:
    torch = _torch()
    tol = TOL[dtype] if dtype == "float64" else (1e-3, 1e-4)
    p_e, q_e = _kl_pairs(ED, ember, dtype)[pair]
    p_t, q_t = _kl_pairs(torch.distributions, torch, dtype)[pair]
    kl_e, kl_t = ED.kl_divergence(p_e, q_e), torch.distributions.kl_divergence(p_t, q_t)
    if pair == "Uniform-CB":  # PyTorch: inf where p.low == 0, where the divergence is finite
        kl_t = kl_t.clone()
        kl_t[1] = (
            torch.distributions.kl._kl_uniform_continuous_bernoulli.__wrapped__(p_t, q_t)[1]
            if False
            else kl_t[1]
        )
        assert math.isinf(kl_t[1].item()) and math.isfinite(kl_e[1].item())
        keep = [0, 2]
        kl_e, kl_t = kl_e[ember.tensor(keep)], kl_t[keep]
    assert_close(kl_e, kl_t, *tol)
    finite = torch.isfinite(kl_t)
    if kl_t.requires_grad and bool(finite.any()):
        kl_e[ember.tensor(finite.numpy())].sum().backward()
        kl_t[finite].sum().backward()
        for e_d, t_d in ((p_e, p_t), (q_e, q_t)):
            for name in t_d.arg_constraints:
                t_v, e_v = t_d.__dict__.get(name), e_d.__dict__.get(name)
                if t_v is not None and t_v.grad is not None:
                    assert_close(e_v.grad, t_v.grad, *tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_of_transformed_distributions_with_the_same_transforms_matches_torch(dtype: str) -> None:
    """PyTorch's (TransformedDistribution, TransformedDistribution) pair: the bases' KL when
    the transforms are equal (by value for Exp, Affine, StickBreaking, ...)."""
    torch = _torch()
    tol = TOL[dtype] if dtype == "float64" else (1e-4, 1e-5)
    rng = np.random.default_rng(6)
    params = [rng.normal(size=3), rng.uniform(0.5, 2, 3), rng.normal(size=3), rng.uniform(0.5, 2, 3)]

    def pairs(D: Any, lib: Any, T: Any) -> list:
        a, b, c, d = (lib.tensor(np.asarray(v, dtype=dtype), requires_grad=True) for v in params)
        chain = lambda: [T.AffineTransform(1.0, lib.tensor([2.0, 3.0, 4.0])), T.ExpTransform().inv.inv]  # noqa: E731
        return [
            ((D.LogisticNormal(a, b), D.LogisticNormal(c, d)), (a, b, c, d)),
            (
                (
                    D.TransformedDistribution(D.Normal(a, b), chain()),
                    D.TransformedDistribution(D.Normal(c, d), chain()),
                ),
                (a, b, c, d),
            ),
        ]

    for (e_pair, e_params), (t_pair, t_params) in zip(
        pairs(ED, ember, ET), pairs(torch.distributions, torch, torch.distributions.transforms)
    ):
        kl_e, kl_t = ED.kl_divergence(*e_pair), torch.distributions.kl_divergence(*t_pair)
        assert_close(kl_e, kl_t, *tol)
        kl_e.sum().backward()
        kl_t.sum().backward()
        for pe, pt in zip(e_params, t_params):
            assert_close(pe.grad, pt.grad, *tol)
    n = ED.Normal(ember.zeros(3), 1.0)
    with pytest.raises(NotImplementedError, match="different transforms"):
        ED.kl_divergence(
            ED.TransformedDistribution(n, ET.AffineTransform(0.0, 2.0)),
            ED.TransformedDistribution(n, ET.AffineTransform(0.0, 3.0)),
        )


def test_kl_continuous_bernoulli_uniform_on_the_unit_interval_is_finite() -> None:
    # PyTorch 2.13 returns inf when the Uniform is exactly [0, 1]; the divergence is -H(p)
    p = ED.ContinuousBernoulli(probs=ember.tensor([0.2, 0.7]))
    assert_close(ED.kl_divergence(p, ED.Uniform(0.0, 1.0)), -p.entropy())
    u = ED.Uniform(0.0, 1.0)
    q = ED.ContinuousBernoulli(probs=ember.tensor(0.3))
    x = ember.linspace(0.0005, 0.9995, 1000)
    assert_close(ED.kl_divergence(u, q), (-q.log_prob(x)).mean(), 1e-4, 1e-5)
    with pytest.raises(NotImplementedError, match="p type Exponential and q type Poisson"):
        ED.kl_divergence(ED.Exponential(1.0), ED.Poisson(1.0))


# ---- transforms -----------------------------------------------------------------------------------


def _transforms(T: Any, lib: Any) -> dict:
    D = ED if lib is ember else lib.distributions
    return {
        "Softplus": (T.SoftplusTransform(), (2, 3)),
        "Softmax": (T.SoftmaxTransform(), (2, 3)),
        "StickBreaking": (T.StickBreakingTransform(), (2, 3)),
        "LowerCholesky": (T.LowerCholeskyTransform(), (2, 3, 3)),
        "PositiveDefinite": (T.PositiveDefiniteTransform(), (2, 3, 3)),
        "CorrCholesky": (T.CorrCholeskyTransform(), (2, 6)),
        "Reshape": (T.ReshapeTransform((2, 3), (6,)), (4, 2, 3)),
        "Independent": (T.IndependentTransform(T.ExpTransform(), 1), (4, 3)),
        "Cat": (
            T.CatTransform(
                [T.ExpTransform(), T.identity_transform, T.SigmoidTransform()], dim=0, lengths=[1, 2, 1]
            ),
            (4, 3),
        ),
        "Cat-event": (
            T.CatTransform(
                [
                    T.IndependentTransform(T.ExpTransform(), 1),
                    T.IndependentTransform(T.SigmoidTransform(), 1),
                ],
                dim=0,
                lengths=[2, 2],
            ),
            (4, 3),
        ),
        "Cat-last": (
            T.CatTransform(
                [T.ExpTransform(), T.IndependentTransform(T.TanhTransform(), 1)], dim=-1, lengths=[1, 2]
            ),
            (4, 3),
        ),
        "Stack": (
            T.StackTransform([T.ExpTransform(), T.SigmoidTransform(), T.identity_transform], dim=1),
            (4, 3),
        ),
        "CumulativeDistribution": (
            T.CumulativeDistributionTransform(D.Normal(lib.tensor(0.5), lib.tensor(2.0))),
            (4, 3),
        ),
        "identity": (T.identity_transform, (2, 3)),
    }


NOT_BIJECTIVE = ("Softmax", "LowerCholesky", "PositiveDefinite")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(_transforms(ET, ember)))
def test_transforms_match_torch(name: str, dtype: str) -> None:
    torch = _torch()
    tol = TOL[dtype]
    e_t, shape = _transforms(ET, ember)[name]
    t_t, _ = _transforms(torch.distributions.transforms, torch)[name]
    if name == "CumulativeDistribution":
        e_t.distribution = ED.Normal(ember.tensor(0.5, dtype=getattr(ember, dtype)), 2.0)
        t_t.distribution = torch.distributions.Normal(torch.tensor(0.5, dtype=getattr(torch, dtype)), 2.0)
    x = np.random.default_rng(0).normal(size=shape).astype(dtype)
    x_e, x_t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_e, y_t = e_t(x_e), t_t(x_t)
    assert_close(y_e, y_t, *tol)
    if name != "Cat-last":  # cat's check concatenates checks of different ranks (PyTorch's fails too)
        assert bool(e_t.codomain.check(y_e.detach()).all())
    assert_close(e_t.inv(y_e.detach()), t_t.inv(y_t.detach()), *(tol if dtype == "float64" else (1e-3, 1e-4)))
    if name not in NOT_BIJECTIVE:
        assert_close(e_t.inv(y_e.detach()), x, *(1e-6, 1e-6) if dtype == "float64" else (1e-3, 1e-3))
        ladj_e, ladj_t = e_t.log_abs_det_jacobian(x_e, y_e), t_t.log_abs_det_jacobian(x_t, y_t)
        assert tuple(ladj_e.shape) == tuple(ladj_t.shape)
        assert_close(ladj_e, ladj_t, *tol)
        (y_e.sum() + ladj_e.sum()).backward()
        (y_t.sum() + ladj_t.sum()).backward()
    else:
        with pytest.raises(NotImplementedError):
            e_t.log_abs_det_jacobian(x_e, y_e)
        (y_e * y_e).sum().backward()
        (y_t * y_t).sum().backward()
    assert_close(x_e.grad, x_t.grad, *tol)
    assert e_t.bijective == t_t.bijective
    assert repr(e_t.domain) == repr(t_t.domain) and repr(e_t.codomain) == repr(t_t.codomain)
    assert e_t.domain.event_dim == t_t.domain.event_dim and e_t.codomain.event_dim == t_t.codomain.event_dim
    assert tuple(e_t.forward_shape(shape)) == tuple(t_t.forward_shape(torch.Size(shape)))
    assert tuple(e_t.inverse_shape(tuple(y_e.shape))) == tuple(t_t.inverse_shape(y_t.shape))
    assert repr(e_t) == repr(t_t)
    assert e_t.with_cache(1)(x_e) is not None and e_t.inv.inv is e_t


def test_log_abs_det_jacobians_by_finite_differences() -> None:
    """log |det dy/dx| of the bijections on vectors, from the Jacobian autograd computes."""
    rng = np.random.default_rng(3)
    rows, cols = (ember.tensor(i) for i in np.tril_indices(3, -1))
    free_coordinates = {  # the entries of y that x determines (the rest follow from them)
        "StickBreaking": (ET.StickBreakingTransform(), lambda y: y[:-1]),
        "CorrCholesky": (ET.CorrCholeskyTransform(), lambda y: y[rows, cols]),
    }
    for t, free in free_coordinates.values():
        x = ember.tensor(rng.normal(size=3), dtype=ember.float64)
        y = t(x)
        flat = lambda v, t=t, free=free: free(t(v))  # noqa: E731
        J = ember.autograd.functional.jacobian(flat, x)
        assert_close(t.log_abs_det_jacobian(x, y), ember.linalg.slogdet(J).logabsdet, 1e-8, 1e-10)
        assert gradcheck(lambda v, t=t: t.log_abs_det_jacobian(v, t(v)), (x.clone().requires_grad_(),))


def test_cat_and_stack_constraints_and_transforms_check_their_slices() -> None:
    c = EC.cat([EC.real, EC.positive], dim=-1, lengths=[1, 2])
    assert c.check(ember.tensor([[-1.0, 2.0, 3.0], [1.0, -2.0, 3.0]])).tolist() == [
        [True, True, True],
        [True, False, True],
    ]
    s = EC.stack([EC.real, EC.unit_interval], dim=0)
    assert s.check(ember.tensor([[5.0, -1.0], [0.5, 2.0]])).tolist() == [[True, True], [True, False]]
    with pytest.raises(ValueError, match=r"x.size\(0\) = 3 must equal 2"):
        ET.StackTransform([ET.ExpTransform(), ET.ExpTransform()])(ember.ones(3))
    with pytest.raises(ValueError, match="different numbers of elements"):
        ET.ReshapeTransform((2, 3), (5,))


def test_new_constraints_match_torch() -> None:
    torch = _torch()
    TC = torch.distributions.constraints
    rng = np.random.default_rng(4)
    A = rng.normal(size=(3, 3))
    values = [
        A,
        A + A.T,
        A @ A.T,
        -(A @ A.T),
        np.eye(3),
        np.linalg.cholesky(np.corrcoef(rng.normal(size=(3, 10)))),
        np.zeros((2, 3)),
    ]
    for name in ("corr_cholesky", "square", "symmetric", "positive_semidefinite"):
        assert repr(getattr(EC, name)) == repr(getattr(TC, name))
        assert getattr(EC, name).event_dim == getattr(TC, name).event_dim == 2
        for v in values:
            got = getattr(EC, name).check(ember.tensor(v)).tolist()
            assert got == getattr(TC, name).check(torch.tensor(v)).tolist(), (name, v)


# ---- biject_to / transform_to -----------------------------------------------------------------------


def _registered_constraints(C: Any) -> list:
    return [
        C.real,
        C.real_vector,
        C.positive,
        C.nonnegative,
        C.unit_interval,
        C.greater_than(2.0),
        C.greater_than_eq(-1.0),
        C.less_than(1.5),
        C.interval(-1.0, 3.0),
        C.half_open_interval(0.0, 2.0),
        C.simplex,
        C.lower_cholesky,
        C.positive_definite,
        C.positive_semidefinite,
        C.corr_cholesky,
        C.independent(C.positive, 1),
        C.cat([C.real, C.positive], dim=-1, lengths=[1, 2]),
        C.stack([C.unit_interval, C.positive, C.real], dim=-1),
    ]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_biject_to_and_transform_to_match_torch(registry: str) -> None:
    torch = _torch()
    TD = torch.distributions
    e_reg, t_reg = getattr(ED, registry), getattr(TD, registry)
    assert getattr(ED.constraint_registry, registry) is e_reg
    rng = np.random.default_rng(5)
    for e_c, t_c in zip(_registered_constraints(EC), _registered_constraints(TD.constraints)):
        try:
            t_t = t_reg(t_c)
        except NotImplementedError:
            with pytest.raises(NotImplementedError, match="Cannot transform"):
                e_reg(e_c)
            continue
        e_t = e_reg(e_c)
        assert repr(e_t) == repr(t_t), e_c
        event = t_t.domain.event_dim
        shape = (2,) + (3,) * max(event, 1)
        if isinstance(t_t, TD.transforms.CorrCholeskyTransform):
            shape = (2, 3)
        x = rng.normal(size=shape)
        y_e, y_t = e_t(ember.tensor(x)), t_t(torch.tensor(x))
        assert_close(y_e, y_t, 1e-8, 1e-10)
        assert bool(e_c.check(y_e).all()), e_c
    for name in ("boolean", "one_hot", "nonnegative_integer", "lower_triangular"):
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            e_reg(getattr(EC, name))
    if registry == "biject_to":
        for name in ("lower_cholesky", "positive_definite"):
            with pytest.raises(NotImplementedError):
                e_reg(getattr(EC, name))


def test_biject_to_optimizes_a_constrained_parameter_like_pyro() -> None:
    """The use they exist for: an unconstrained parameter mapped into a distribution's
    arg_constraints, trained with gradients."""
    unconstrained = ember.zeros(2, requires_grad=True)
    to_simplex = ED.biject_to(ED.Categorical.arg_constraints["probs"])
    target = ember.tensor([0.6, 0.3, 0.1])
    opt = ember.optim.Adam([unconstrained], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        probs = to_simplex(unconstrained)
        (-(target * probs.log()).sum()).backward()
        opt.step()
    assert_close(to_simplex(unconstrained).detach(), target, 0, 2e-3)

    @ED.transform_to.register(EC.square)
    def _square(constraint: Any) -> ET.Transform:
        return ET.identity_transform

    assert ED.transform_to(EC.square) is ET.identity_transform
    del ED.transform_to._registry[type(EC.square)]
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        ED.biject_to.register(int, lambda c: ET.identity_transform)


# ---- a bug found on the way -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e"])
def test_modified_bessel_functions_of_a_0d_tensor(name: str) -> None:
    """ember.special.i0/i0e/i1/i1e raised TypeError ("'numpy.float64' object does not support
    item assignment") on a 0-d tensor: VonMises(0.0, 1.0).log_prob needs them there."""
    torch = _torch()
    for v in (0.0, -2.5, 1e-7, 30.0):
        x = ember.tensor(v, dtype=ember.float64, requires_grad=True)
        x_t = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        y, y_t = getattr(ember.special, name)(x), getattr(torch.special, name)(x_t)
        assert y.shape == () and y.dtype == ember.float64
        assert_close(y, y_t, 1e-12, 0)
        y.backward()
        y_t.backward()
        assert_close(x.grad, x_t.grad, 1e-12, 1e-300)
    assert gradcheck(
        getattr(ember.special, name), (ember.tensor(0.7, dtype=ember.float64, requires_grad=True),)
    )


@requires_torch
def test_matrix_parameters_of_multivariate_normal_and_wishart_match_torch() -> None:
    """scale_tril, covariance_matrix and precision_matrix, which MultivariateNormal and
    Wishart share (_ScaleTril), from each of the three parameters."""
    import torch

    rng = np.random.default_rng(11)
    a = rng.normal(size=(2, 3, 3))
    cov = a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)
    for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
        given = {
            "covariance_matrix": cov,
            "precision_matrix": np.linalg.inv(cov),
            "scale_tril": np.linalg.cholesky(cov),
        }[name]
        pairs = [
            (
                ED.MultivariateNormal(ember.zeros(3, dtype=ember.float64), **{name: ember.tensor(given)}),
                torch.distributions.MultivariateNormal(
                    torch.zeros(3, dtype=torch.float64), **{name: torch.tensor(given)}
                ),
            ),
            (
                ED.Wishart(ember.tensor(5.0, dtype=ember.float64), **{name: ember.tensor(given)}),
                torch.distributions.Wishart(
                    torch.tensor(5.0, dtype=torch.float64), **{name: torch.tensor(given)}
                ),
            ),
        ]
        for e, t in pairs:
            for attribute in ("scale_tril", "covariance_matrix", "precision_matrix"):
                assert_close(getattr(e, attribute), getattr(t, attribute), 1e-10, 1e-10)


def test_pytorchs_module_paths_import() -> None:
    """`from torch.distributions.normal import Normal` and the like, for every module of
    torch.distributions: each of its public names that ember has is the same object as
    ember.distributions'."""
    import importlib
    import types

    import torch

    for name in dir(torch.distributions):
        if not isinstance(getattr(torch.distributions, name), types.ModuleType):
            continue
        ours = importlib.import_module(f"ember.distributions.{name}")
        for public in getattr(getattr(torch.distributions, name), "__all__", []):
            if public in ED.__all__ and not isinstance(getattr(ED, public), types.ModuleType):
                assert getattr(ours, public) is getattr(ED, public), (name, public)
