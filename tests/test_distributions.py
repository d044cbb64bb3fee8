"""ember.distributions against torch.distributions on the same parameters: log_prob,
entropy, moments, cdf/icdf and KL divergences, and their gradients with respect to the
parameters (and the value), in float32 and float64, batched and broadcast; rsample's
gradients through the reparameterization with the noise held fixed; sample shapes, dtypes,
seeding and moments; reprs, expand, enumerate_support, register_kl and validation errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import ember
import ember.distributions as ED
from conftest import assert_close, requires_torch
from ember.autograd import gradcheck
from ember.distributions import constraints

pytestmark = requires_torch

TOL = {"float32": (2e-4, 1e-5), "float64": (1e-8, 1e-10)}


def _spd(rng: np.random.Generator, batch: tuple, k: int = 3) -> np.ndarray:
    a = rng.normal(size=(*batch, k, k))
    return a @ np.swapaxes(a, -1, -2) + k * np.eye(k)


def _tril(rng: np.random.Generator, batch: tuple, k: int = 3) -> np.ndarray:
    return np.linalg.cholesky(_spd(rng, batch, k))


# name -> (distribution, parameters from a generator, names of parameters without a gradient)
CASES: dict[str, tuple] = {
    "Normal": (
        "Normal",
        lambda r: {"loc": r.normal(size=(2, 3)), "scale": r.uniform(0.5, 2, size=(2, 3))},
        (),
    ),
    "Laplace": ("Laplace", lambda r: {"loc": r.normal(size=(3,)), "scale": r.uniform(0.5, 2, size=(3,))}, ()),
    "Uniform": ("Uniform", lambda r: {"low": r.normal(size=(3,)), "high": r.uniform(1.5, 3, size=(3,))}, ()),
    "Exponential": ("Exponential", lambda r: {"rate": r.uniform(0.5, 2, size=(2, 3))}, ()),
    "Gamma": (
        "Gamma",
        lambda r: {"concentration": r.uniform(0.5, 3, size=(3,)), "rate": r.uniform(0.5, 2, (3,))},
        (),
    ),
    "Beta": (
        "Beta",
        lambda r: {
            "concentration1": r.uniform(0.5, 3, size=(4,)),
            "concentration0": r.uniform(0.5, 3, size=(4,)),
        },
        (),
    ),
    "Bernoulli-probs": ("Bernoulli", lambda r: {"probs": r.uniform(0.1, 0.9, size=(2, 3))}, ()),
    "Bernoulli-logits": ("Bernoulli", lambda r: {"logits": r.normal(size=(3,))}, ()),
    "Categorical-probs": ("Categorical", lambda r: {"probs": r.uniform(0.1, 1, size=(2, 4))}, ()),
    "Categorical-logits": ("Categorical", lambda r: {"logits": r.normal(size=(3, 5))}, ()),
    "OneHotCategorical": ("OneHotCategorical", lambda r: {"logits": r.normal(size=(2, 4))}, ()),
    "Poisson": ("Poisson", lambda r: {"rate": r.uniform(0.5, 4, size=(3,))}, ()),
    "Binomial-probs": (
        "Binomial",
        lambda r: {"total_count": np.full(3, 7.0), "probs": r.uniform(0.1, 0.9, (3,))},
        ("total_count",),
    ),
    "Binomial-logits": (
        "Binomial",
        lambda r: {"total_count": np.full(2, 5.0), "logits": r.normal(size=(2,))},
        ("total_count",),
    ),
    "MultivariateNormal-cov": (
        "MultivariateNormal",
        lambda r: {"loc": r.normal(size=(2, 3)), "covariance_matrix": _spd(r, (2,))},
        (),
    ),
    "MultivariateNormal-tril": (
        "MultivariateNormal",
        lambda r: {"loc": r.normal(size=(3,)), "scale_tril": _tril(r, (2,))},
        (),
    ),
    "MultivariateNormal-precision": (
        "MultivariateNormal",
        lambda r: {"loc": r.normal(size=(2, 3)), "precision_matrix": _spd(r, ())},
        (),
    ),
    "Cauchy": ("Cauchy", lambda r: {"loc": r.normal(size=(3,)), "scale": r.uniform(0.5, 2, size=(3,))}, ()),
    "HalfNormal": ("HalfNormal", lambda r: {"scale": r.uniform(0.5, 2, size=(2, 3))}, ()),
    "LogNormal": (
        "LogNormal",
        lambda r: {"loc": r.normal(size=(3,)) * 0.5, "scale": r.uniform(0.3, 1, size=(3,))},
        (),
    ),
    "Chi2": ("Chi2", lambda r: {"df": r.uniform(1, 6, size=(3,))}, ()),
    "StudentT": (
        "StudentT",
        lambda r: {
            "df": r.uniform(2.5, 6, size=(3,)),
            "loc": r.normal(size=(3,)),
            "scale": r.uniform(0.5, 2, (3,)),
        },
        (),
    ),
    "Dirichlet": ("Dirichlet", lambda r: {"concentration": r.uniform(0.5, 3, size=(2, 3))}, ()),
    "Geometric-probs": ("Geometric", lambda r: {"probs": r.uniform(0.2, 0.9, size=(3,))}, ()),
    "Geometric-logits": ("Geometric", lambda r: {"logits": r.normal(size=(2, 3))}, ()),
    "Multinomial": ("Multinomial", lambda r: {"total_count": 6, "probs": r.uniform(0.1, 1, size=(2, 4))}, ()),
}
CONTINUOUS = {
    "Normal",
    "Laplace",
    "Uniform",
    "Exponential",
    "Gamma",
    "Beta",
    "MultivariateNormal",
    "Cauchy",
    "HalfNormal",
    "LogNormal",
    "Chi2",
    "StudentT",
    "Dirichlet",
}
NO_ENTROPY = {"Poisson"}


def _make(case: str, dtype: str, seed: int = 0) -> tuple:
    """(ember distribution, torch distribution, ember params, torch params), the parameters
    leaves that require grad (except those listed as without a gradient)."""
    import torch

    name, params, fixed = CASES[case]
    arrays = params(np.random.default_rng(seed))
    e_params, t_params = {}, {}
    for key, value in arrays.items():
        if isinstance(value, int):  # Multinomial's total_count
            e_params[key] = t_params[key] = value
            continue
        value = np.asarray(value, dtype=dtype)
        grad = key not in fixed
        e_params[key] = ember.tensor(value, requires_grad=grad)
        t_params[key] = torch.tensor(value, requires_grad=grad)
    return getattr(ED, name)(**e_params), getattr(torch.distributions, name)(**t_params), e_params, t_params


def _same_grads(e_params: dict, t_params: dict, tol: tuple) -> None:
    for key, pe in e_params.items():
        pt = t_params[key]
        if getattr(pt, "requires_grad", False):
            assert pt.grad is not None and pe.grad is not None, key
            assert_close(pe.grad, pt.grad, *tol)


def _e(t: Any) -> Any:
    return ember.tensor(t.detach().numpy().copy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(CASES))
def test_log_prob_entropy_and_moments_match_torch(case: str, dtype: str) -> None:
    import torch

    tol = TOL[dtype]
    e, t, e_params, t_params = _make(case, dtype)
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    torch.manual_seed(0)
    value_t = t.sample((2,))
    continuous = CASES[case][0] in CONTINUOUS
    value_t = value_t.clone().requires_grad_(continuous)
    value_e = ember.tensor(value_t.detach().numpy().copy(), requires_grad=continuous)
    lp_e, lp_t = e.log_prob(value_e), t.log_prob(value_t)
    assert str(lp_e.dtype) == str(lp_t.dtype).replace("torch", "ember")
    assert_close(lp_e, lp_t, *tol)
    w = np.random.default_rng(1).normal(size=tuple(lp_t.shape)).astype(dtype)
    loss_e, loss_t = (lp_e * ember.tensor(w)).sum(), (lp_t * torch.tensor(w)).sum()
    if case not in NO_ENTROPY:
        # PyTorch's Multinomial entropy takes lgamma(n + 1) of an int64 tensor, in float32
        assert_close(e.entropy(), t.entropy(), *((1e-6, 1e-7) if case == "Multinomial" else tol))
        loss_e, loss_t = loss_e + e.entropy().sum(), loss_t + t.entropy().sum()
    for attr in ("mean", "variance", "stddev"):
        a_e, a_t = getattr(e, attr), getattr(t, attr)
        np.testing.assert_allclose(
            a_e.detach().numpy(), a_t.detach().numpy(), *tol
        )  # NaN where torch has NaN
        if a_t.requires_grad:
            loss_e, loss_t = loss_e + a_e.sum(), loss_t + a_t.sum()
    if case == "Multinomial":  # no mode in either
        with pytest.raises(NotImplementedError):
            e.mode  # noqa: B018
    else:
        np.testing.assert_allclose(e.mode.detach().numpy(), t.mode.detach().numpy(), *tol)
    loss_e.backward()
    loss_t.backward()
    _same_grads(e_params, t_params, tol)
    if continuous and value_t.grad is not None:  # Uniform's density is constant in the value
        assert_close(value_e.grad, value_t.grad, *tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name", ["Normal", "Laplace", "Uniform", "Exponential", "Cauchy", "HalfNormal", "LogNormal"]
)
def test_cdf_and_icdf_match_torch(name: str, dtype: str) -> None:
    import torch

    tol = TOL[dtype]
    e, t, e_params, t_params = _make(name, dtype)
    torch.manual_seed(0)
    value = t.sample((3,))
    assert_close(e.cdf(_e(value)), t.cdf(value), *tol)
    q = torch.rand(3, *t.batch_shape, dtype=getattr(torch, dtype)) * 0.98 + 0.01
    assert_close(e.icdf(_e(q)), t.icdf(q), *tol)
    (e.cdf(_e(value)).sum() + e.icdf(_e(q)).sum()).backward()
    (t.cdf(value).sum() + t.icdf(q).sum()).backward()
    _same_grads(e_params, t_params, tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gamma_cdf_matches_torch_and_differentiates_in_the_concentration(dtype: str) -> None:
    import torch

    tol = TOL[dtype]
    e, t, e_params, t_params = _make("Gamma", dtype)
    torch.manual_seed(0)
    value = t.sample((3,)).requires_grad_(True)
    value_e = ember.tensor(value.detach().numpy().copy(), requires_grad=True)
    cdf_e, cdf_t = e.cdf(value_e), t.cdf(value)
    assert_close(cdf_e, cdf_t, *tol)
    assert cdf_e.grad_fn.name() == cdf_t.grad_fn.name() == "IgammaBackward0"
    cdf_e.sum().backward()
    cdf_t.sum().backward(inputs=[t_params["rate"], value])  # PyTorch has no gradient for concentration
    assert_close(e_params["rate"].grad, t_params["rate"].grad, *tol)
    assert_close(value_e.grad, value.grad, *tol)
    c = t_params["concentration"].detach().double()
    x = (t_params["rate"].detach() * value.detach()).double()
    h = 1e-6
    numeric = ((torch.special.gammainc(c + h, x) - torch.special.gammainc(c - h, x)) / (2 * h)).sum(0)
    assert_close(
        e_params["concentration"].grad.double(), numeric, rtol=1e-5 if dtype == "float64" else 1e-3, atol=1e-6
    )
    with pytest.raises(NotImplementedError):
        e.icdf(ember.tensor(0.5))


def test_gamma_cdf_gradcheck_and_ends() -> None:
    from ember.distributions._incomplete_gamma import Igamma

    a = ember.tensor([0.5, 2.0, 7.0, 40.0], dtype=ember.float64, requires_grad=True)
    x = ember.tensor([0.3, 3.0, 6.0, 50.0], dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a, x: Igamma.apply(a, x), (a, x), atol=1e-6)
    ends = ED.Gamma(2.0, 1.0).cdf(ember.tensor([0.0, float("inf")]))
    assert ends.tolist() == [0.0, 1.0]


KL_PAIRS = [
    "Normal",
    "Laplace",
    "Exponential",
    "Gamma",
    "Beta",
    "Bernoulli-probs",
    "Bernoulli-logits",
    "Categorical-probs",
    "Categorical-logits",
    "OneHotCategorical",
    "Poisson",
    "Binomial-probs",
    "MultivariateNormal-cov",
    "MultivariateNormal-tril",
    "MultivariateNormal-precision",
    "Cauchy",
    "HalfNormal",
    "LogNormal",
    "Chi2",
    "Dirichlet",
    "Geometric-probs",
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", KL_PAIRS)
def test_kl_divergence_matches_torch(case: str, dtype: str) -> None:
    tol = TOL[dtype]
    ep, tp, ep_params, tp_params = _make(case, dtype, seed=1)
    eq, tq, eq_params, tq_params = _make(case, dtype, seed=2)
    kl_e, kl_t = ED.kl_divergence(ep, eq), ED_torch().kl_divergence(tp, tq)
    assert_close(kl_e, kl_t, *tol)
    assert (kl_t >= 0).all()
    kl_e.sum().backward()
    kl_t.sum().backward()
    _same_grads(ep_params, tp_params, tol)
    _same_grads(eq_params, tq_params, tol)


def ED_torch() -> Any:
    import torch

    return torch.distributions


def test_kl_uniform_and_the_infinite_cases_match_torch() -> None:
    import torch

    TD = torch.distributions
    low, high = [0.0, 0.0, -1.0], [1.0, 2.0, 3.0]
    q_low, q_high = [-1.0, 0.5, -2.0], [2.0, 2.0, 4.0]
    assert_close(
        ED.kl_divergence(
            ED.Uniform(ember.tensor(low), ember.tensor(high)),
            ED.Uniform(ember.tensor(q_low), ember.tensor(q_high)),
        ),
        TD.kl_divergence(
            TD.Uniform(torch.tensor(low), torch.tensor(high)),
            TD.Uniform(torch.tensor(q_low), torch.tensor(q_high)),
        ),
    )
    p, q = [0.0, 0.3, 1.0, 0.5], [0.5, 0.0, 0.5, 1.0]
    assert_close(
        ED.kl_divergence(ED.Bernoulli(ember.tensor(p)), ED.Bernoulli(ember.tensor(q))),
        TD.kl_divergence(TD.Bernoulli(torch.tensor(p)), TD.Bernoulli(torch.tensor(q))),
    )
    p, q = [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], [[0.25, 0.75, 0.0], [0.5, 0.5, 0.0]]
    assert_close(
        ED.kl_divergence(ED.Categorical(ember.tensor(p)), ED.Categorical(ember.tensor(q))),
        TD.kl_divergence(TD.Categorical(torch.tensor(p)), TD.Categorical(torch.tensor(q))),
    )


def test_kl_independent_sums_the_reinterpreted_dims() -> None:
    import torch

    TD = torch.distributions
    rng = np.random.default_rng(3)
    arrays = [
        rng.normal(size=(2, 3)),
        rng.uniform(0.5, 2, (2, 3)),
        rng.normal(size=(2, 3)),
        rng.uniform(0.5, 2, (2, 3)),
    ]
    e = [ember.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    kl_e = ED.kl_divergence(
        ED.Independent(ED.Normal(e[0], e[1]), 1), ED.Independent(ED.Normal(e[2], e[3]), 1)
    )
    kl_t = TD.kl_divergence(
        TD.Independent(TD.Normal(t[0], t[1]), 1), TD.Independent(TD.Normal(t[2], t[3]), 1)
    )
    assert kl_e.shape == (2,)
    assert_close(kl_e, kl_t, 1e-10, 1e-12)
    kl_e.sum().backward()
    kl_t.sum().backward()
    for a, b in zip(e, t):
        assert_close(a.grad, b.grad, 1e-10, 1e-12)
    with pytest.raises(NotImplementedError):
        ED.kl_divergence(ED.Independent(ED.Normal(e[0], e[1]), 1), ED.Independent(ED.Normal(e[2], e[3]), 2))


def test_kl_of_a_pair_without_a_formula_raises_as_torch() -> None:
    with pytest.raises(
        NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type Cauchy"
    ):
        ED.kl_divergence(ED.Normal(0.0, 1.0), ED.Cauchy(0.0, 1.0))
    with pytest.raises(TypeError, match="Distribution subclass"):
        ED.register_kl(int, ED.Normal)


def test_register_kl_picks_the_closest_registered_pair() -> None:
    class MyNormal(ED.Normal):
        pass

    p, q = MyNormal(0.0, 1.0), MyNormal(1.0, 2.0)
    expected = ED.kl_divergence(ED.Normal(0.0, 1.0), ED.Normal(1.0, 2.0))
    assert_close(ED.kl_divergence(p, q), expected)  # inherits Normal's formula

    @ED.register_kl(MyNormal, ED.Normal)
    def _kl_mine(p: Any, q: Any) -> Any:
        return ember.tensor(-1.0)

    assert ED.kl_divergence(p, q).item() == -1.0
    assert ED.kl_divergence(ED.Normal(0.0, 1.0), q).item() == pytest.approx(expected.item())
    from ember.distributions import kl

    del kl._REGISTRY[MyNormal, ED.Normal]
    kl._CHOSEN.clear()


# ---- rsample: gradients through the reparameterization with the noise held fixed ----------------


def _noise_and_torch_sample(name: str, z: Any, e_params: dict, t_params: dict) -> Any:
    """The noise ember drew, recovered from its draw z, and torch's draw from that noise."""
    import torch

    z = z.detach().numpy()
    p = {k: v.detach().numpy() for k, v in e_params.items()}
    if name in ("Normal", "Laplace", "Cauchy"):
        eps = torch.tensor((z - p["loc"]) / p["scale"])
        return t_params["loc"] + t_params["scale"] * eps
    if name == "HalfNormal":
        return (t_params["scale"] * torch.tensor(z / p["scale"])).abs()
    if name == "LogNormal":
        eps = torch.tensor((np.log(z) - p["loc"]) / p["scale"])
        return (t_params["loc"] + t_params["scale"] * eps).exp()
    if name == "Uniform":
        u = torch.tensor((z - p["low"]) / (p["high"] - p["low"]))
        return t_params["low"] + u * (t_params["high"] - t_params["low"])
    if name == "Exponential":
        return torch.tensor(z * p["rate"]) / t_params["rate"]
    L = t_params["scale_tril"]
    eps = torch.linalg.solve_triangular(L.detach(), torch.tensor(z - p["loc"]).unsqueeze(-1), upper=False)
    return t_params["loc"] + (L @ eps).squeeze(-1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "case",
    [
        "Normal",
        "Laplace",
        "Uniform",
        "Exponential",
        "Cauchy",
        "HalfNormal",
        "LogNormal",
        "MultivariateNormal-tril",
    ],
)
def test_rsample_gradients_match_torch_for_the_same_noise(case: str, dtype: str) -> None:
    tol = TOL[dtype]
    e, _, e_params, t_params = _make(case, dtype)
    assert e.has_rsample
    z_e = e.rsample((4,))
    assert z_e.requires_grad and str(z_e.dtype) == f"ember.{dtype}"
    z_t = _noise_and_torch_sample(CASES[case][0], z_e, e_params, t_params)
    assert_close(z_e, z_t, *tol)
    (z_e.sin() * z_e).sum().backward()
    (z_t.sin() * z_t).sum().backward()
    _same_grads(e_params, t_params, tol)


def test_reparameterized_elbo_trains_a_gaussian() -> None:
    """The VAE pattern: rsample, log_prob and the KL to the prior in one loss; minimizing it
    moves q to the target."""
    ember.manual_seed(0)
    loc = ember.zeros(2, requires_grad=True)
    log_scale = ember.zeros(2, requires_grad=True)
    target = ED.Normal(ember.tensor([1.0, -2.0]), ember.tensor([0.5, 0.5]))
    opt = ember.optim.Adam([loc, log_scale], lr=0.05)
    for _ in range(300):
        q = ED.Normal(loc, log_scale.exp())
        z = q.rsample((64,))
        loss = (q.log_prob(z) - target.log_prob(z)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(loc.detach().numpy(), [1.0, -2.0], atol=0.15)
    np.testing.assert_allclose(log_scale.exp().detach().numpy(), [0.5, 0.5], atol=0.1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gamma_rsample_gradient_is_torchs_implicit_gradient(dtype: str) -> None:
    """With the draw x = z * rate held fixed, d z / d concentration is PyTorch's
    _standard_gamma_grad(concentration, x) / rate (PyTorch's is an approximation good to
    about 1e-4; ember's is within 1e-7 of the exact derivative)."""
    import torch

    e, _, e_params, t_params = _make("Gamma", dtype)
    z = e.rsample((50,))
    w = np.random.default_rng(1).normal(size=tuple(z.shape)).astype(dtype)
    (z * ember.tensor(w)).sum().backward()
    c, r = t_params["concentration"].detach(), t_params["rate"].detach()
    x = torch.tensor(z.detach().numpy()) * r
    dz_dc = torch._standard_gamma_grad(c.expand_as(x), x) / r
    expected_c = (torch.tensor(w) * dz_dc).sum(0)
    expected_r = -(torch.tensor(w) * x / r**2).sum(0)
    assert_close(e_params["concentration"].grad, expected_c, rtol=2e-3, atol=1e-4)
    assert_close(e_params["rate"].grad, expected_r, *TOL[dtype])


def test_gamma_family_rsample_gradients_are_unbiased() -> None:
    """The mean of many reparameterized draws has, on average, the gradient of the mean."""
    ember.manual_seed(0)
    c, r = (
        ember.tensor([0.3, 2.0, 20.0], requires_grad=True),
        ember.tensor([1.0, 0.5, 2.0], requires_grad=True),
    )
    ED.Gamma(c, r).rsample((40000,)).mean(0).sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), 1 / r.detach().numpy(), rtol=0.05)
    np.testing.assert_allclose(r.grad.numpy(), -(c / r**2).detach().numpy(), rtol=0.05)
    a, b = (
        ember.tensor([0.5, 2.0, 5.0], requires_grad=True),
        ember.tensor([1.0, 3.0, 0.7], requires_grad=True),
    )
    ED.Beta(a, b).rsample((40000,)).mean(0).sum().backward()
    total = (a + b).detach().numpy()
    np.testing.assert_allclose(a.grad.numpy(), b.detach().numpy() / total**2, rtol=0.05)
    np.testing.assert_allclose(b.grad.numpy(), -a.detach().numpy() / total**2, rtol=0.05)
    assert ED.Gamma(1.0, 1.0).has_rsample and ED.Beta(1.0, 1.0).has_rsample
    conc = ember.tensor([[0.5, 2.0, 4.0]], requires_grad=True)
    weights = ember.tensor([1.0, -2.0, 0.5])
    (ED.Dirichlet(conc).rsample((40000,)).mean(0) * weights).sum().backward()
    c = conc.detach().numpy()[0]
    total = c.sum()
    jacobian = (np.eye(3) * total - c[:, None]) / total**2  # [i, j]: d mean_i / d c_j
    np.testing.assert_allclose(conc.grad.numpy()[0], weights.numpy() @ jacobian, rtol=0.05, atol=0.005)
    df = ember.tensor([3.0, 9.0], requires_grad=True)
    ED.Chi2(df).rsample((40000,)).mean(0).sum().backward()
    np.testing.assert_allclose(df.grad.numpy(), [1.0, 1.0], rtol=0.05)
    loc, scale = ember.tensor([1.0], requires_grad=True), ember.tensor([2.0], requires_grad=True)
    ED.StudentT(ember.tensor([5.0]), loc, scale).rsample((40000,)).pow(2).mean().backward()
    # E[(loc + scale T)^2] = loc^2 + scale^2 df / (df - 2)
    np.testing.assert_allclose([loc.grad.item(), scale.grad.item()], [2.0, 2 * 2.0 * 5 / 3], rtol=0.1)


def test_gamma_rsample_second_derivative_raises() -> None:
    c = ember.tensor([1.5], requires_grad=True)
    z = ED.Gamma(c, 1.0).rsample()
    with pytest.raises(RuntimeError, match="Gamma.rsample and Beta.rsample: second derivatives"):
        ember.autograd.grad(z.sum(), c, create_graph=True)


def test_log_prob_gradcheck_in_float64() -> None:
    rng = np.random.default_rng(0)
    loc = ember.tensor(rng.normal(size=3), requires_grad=True)
    tril = ember.tensor(_tril(rng, ()), requires_grad=True)
    x = ember.tensor(rng.normal(size=(2, 3)))
    assert gradcheck(lambda m, L: ED.MultivariateNormal(m, scale_tril=L.tril()).log_prob(x), (loc, tril))
    a = ember.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    b = ember.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    assert gradcheck(
        lambda a, b: ED.Beta(a, b).log_prob(ember.tensor([0.2, 0.5, 0.9], dtype=ember.float64)), (a, b)
    )
    assert gradcheck(lambda a, b: ED.kl_divergence(ED.Gamma(a, b), ED.Gamma(b, a)), (a, b))


# ---- shapes, dtypes, broadcasting, sampling ------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_sample_shape_dtype_and_seed(case: str) -> None:
    e, t, _, _ = _make(case, "float64")
    ember.manual_seed(5)
    s = e.sample((5, 2))
    assert tuple(s.shape) == (5, 2, *t.batch_shape, *t.event_shape)
    assert str(s.dtype) == str(t.sample().dtype).replace("torch", "ember")
    assert not s.requires_grad
    assert tuple(e.sample().shape) == (*t.batch_shape, *t.event_shape)
    ember.manual_seed(5)
    assert np.array_equal(e.sample((5, 2)).numpy(), s.numpy())
    assert bool(e.support.check(s).all())


@pytest.mark.parametrize(
    "dist",
    [
        lambda: ED.Normal(ember.tensor([1.0, -2.0]), ember.tensor([0.5, 2.0])),
        lambda: ED.Laplace(ember.tensor([1.0, -2.0]), ember.tensor([0.5, 2.0])),
        lambda: ED.Uniform(ember.tensor([0.0, -1.0]), ember.tensor([1.0, 3.0])),
        lambda: ED.Exponential(ember.tensor([0.5, 3.0])),
        lambda: ED.Gamma(ember.tensor([0.5, 4.0]), ember.tensor([1.0, 2.0])),
        lambda: ED.Beta(ember.tensor([0.5, 4.0]), ember.tensor([2.0, 2.0])),
        lambda: ED.Bernoulli(ember.tensor([0.2, 0.7])),
        lambda: ED.Poisson(ember.tensor([0.5, 6.0])),
        lambda: ED.Binomial(10, ember.tensor([0.2, 0.7])),
        lambda: ED.OneHotCategorical(ember.tensor([0.2, 0.5, 0.3])),
        lambda: ED.MultivariateNormal(ember.tensor([1.0, -1.0]), ember.tensor([[2.0, 0.6], [0.6, 1.0]])),
        lambda: ED.HalfNormal(ember.tensor([0.5, 2.0])),
        lambda: ED.LogNormal(ember.tensor([0.0, 1.0]), ember.tensor([0.3, 0.2])),
        lambda: ED.Chi2(ember.tensor([1.0, 5.0])),
        lambda: ED.StudentT(ember.tensor([12.0]), 1.0, 2.0),
        lambda: ED.Dirichlet(ember.tensor([0.5, 2.0, 4.0])),
        lambda: ED.Geometric(ember.tensor([0.3, 0.8])),
        lambda: ED.Multinomial(10, ember.tensor([0.2, 0.5, 0.3])),
    ],
)
def test_sample_moments(dist: Any) -> None:
    d = dist()
    s = d.sample((40000,)).double()
    mean, var = d.mean.double(), d.variance.double()
    np.testing.assert_allclose(
        s.mean(0).numpy(), mean.numpy(), atol=4 * np.sqrt(var.numpy().max() / 40000) + 1e-3
    )
    np.testing.assert_allclose(s.var(0).numpy(), var.numpy(), rtol=0.08, atol=1e-3)


def test_categorical_sample_frequencies_and_covariance_of_mvn() -> None:
    ember.manual_seed(0)
    probs = ember.tensor([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]])
    s = ED.Categorical(probs).sample((20000,)).numpy()
    for row in range(2):
        np.testing.assert_allclose(
            np.bincount(s[:, row], minlength=3) / 20000, probs[row].numpy(), atol=0.015
        )
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    z = (
        ED.MultivariateNormal(ember.zeros(2, dtype=ember.float64), ember.tensor(cov))
        .sample((40000,))
        .double()
        .numpy()
    )
    np.testing.assert_allclose(np.cov(z.T), cov, atol=0.06)


def test_parameters_broadcast_and_keep_their_dtype() -> None:
    import torch

    loc = np.random.default_rng(0).normal(size=(3, 1))
    e = ED.Normal(ember.tensor(loc), ember.tensor([1.0, 2.0, 3.0, 4.0], dtype=ember.float64))
    t = torch.distributions.Normal(torch.tensor(loc), torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
    assert e.batch_shape == (3, 4) and e.loc.dtype == ember.float64
    assert_close(
        e.log_prob(ember.zeros(2, 1, 4, dtype=ember.float64)),
        t.log_prob(torch.zeros(2, 1, 4, dtype=torch.float64)),
    )
    assert ED.Normal(ember.zeros(2), 1.0).scale.dtype == ember.float32
    assert ED.Normal(0.0, 1.0).batch_shape == () and ED.Normal(0.0, 1.0).loc.dtype == ember.float32
    assert ED.Normal(ember.zeros(2, dtype=ember.float64), 1.0).scale.dtype == ember.float64
    assert ED.Exponential(2.0).sample((3,)).shape == (3,)


def test_expand_is_a_view_of_the_parameters() -> None:
    import torch

    e = ED.Normal(ember.zeros(1, 3), ember.ones(1, 3)).expand((4, 3))
    t = torch.distributions.Normal(torch.zeros(1, 3), torch.ones(1, 3)).expand((4, 3))
    assert e.batch_shape == (4, 3) and e.sample().shape == (4, 3)
    assert repr(e) == repr(t).replace("torch", "ember")
    c = ED.Categorical(logits=ember.zeros(3)).expand((2,))
    assert c.batch_shape == (2,) and c.logits.shape == (2, 3) and c.sample((5,)).shape == (5, 2)
    m = ED.MultivariateNormal(ember.zeros(2), ember.eye(2)).expand((3,))
    assert m.batch_shape == (3,) and m.log_prob(ember.zeros(3, 2)).shape == (3,)
    o = ED.OneHotCategorical(ember.tensor([0.5, 0.5])).expand((4,))
    assert o.sample().shape == (4, 2)
    for d in [
        ED.HalfNormal(ember.ones(3)),
        ED.LogNormal(ember.zeros(3), 1.0),
        ED.StudentT(ember.ones(3) * 3),
        ED.Chi2(ember.ones(3)),
        ED.Dirichlet(ember.ones(3, 2)),
        ED.Geometric(ember.full((3,), 0.5)),
    ]:
        x = d.expand((4, 3))
        assert x.batch_shape == (4, 3) and x.sample().shape == (4, 3, *d.event_shape)
        assert x.log_prob(x.sample()).shape == (4, 3)
    m = ED.Multinomial(5, ember.ones(3)).expand((2,))
    assert m.sample().shape == (2, 3) and m.log_prob(m.sample()).shape == (2,) and m.entropy().shape == (2,)


def test_enumerate_support_matches_torch() -> None:
    import torch

    TD = torch.distributions
    pairs = [
        (ED.Bernoulli(ember.full((2, 3), 0.5)), TD.Bernoulli(torch.full((2, 3), 0.5))),
        (ED.Categorical(ember.ones(2, 4)), TD.Categorical(torch.ones(2, 4))),
        (ED.OneHotCategorical(ember.ones(2, 3)), TD.OneHotCategorical(torch.ones(2, 3))),
        (ED.Binomial(4, ember.full((3,), 0.5)), TD.Binomial(4, torch.full((3,), 0.5))),
    ]
    for e, t in pairs:
        for expand in (True, False):
            assert_close(e.enumerate_support(expand), t.enumerate_support(expand))


# ---- reprs and validation ----------------------------------------------------------------------


def test_reprs_match_torch() -> None:
    import torch

    TD = torch.distributions
    for make in [
        lambda D, T: D.Normal(T.zeros(2), T.ones(2)),
        lambda D, T: D.Normal(0.0, 1.0),
        lambda D, T: D.Uniform(T.tensor(0.0), 2.0),
        lambda D, T: D.Bernoulli(logits=T.zeros(3)),
        lambda D, T: D.Bernoulli(probs=0.25),
        lambda D, T: D.Categorical(probs=T.ones(3, 4)),
        lambda D, T: D.OneHotCategorical(logits=T.ones(3, 4)),
        lambda D, T: D.Exponential(T.ones(3)),
        lambda D, T: D.Gamma(T.ones(3), 2.0),
        lambda D, T: D.Beta(T.ones(3), 2.0),
        lambda D, T: D.Laplace(T.ones(3), 2.0),
        lambda D, T: D.Poisson(T.ones(3)),
        lambda D, T: D.Binomial(10, T.ones(3) * 0.5),
        lambda D, T: D.MultivariateNormal(T.zeros(2), T.eye(2)),
        lambda D, T: D.MultivariateNormal(T.zeros(2), scale_tril=T.eye(2)),
        lambda D, T: D.MultivariateNormal(T.zeros(2), precision_matrix=T.eye(2)),
        lambda D, T: D.Independent(D.Normal(T.zeros(3, 2), 1.0), 1),
        lambda D, T: D.Cauchy(T.zeros(2), 1.0),
        lambda D, T: D.HalfNormal(T.ones(2)),
        lambda D, T: D.LogNormal(T.zeros(2), 1.0),
        lambda D, T: D.Chi2(T.ones(2)),
        lambda D, T: D.StudentT(T.ones(2) * 3),
        lambda D, T: D.Dirichlet(T.ones(2, 3)),
        lambda D, T: D.Geometric(logits=T.zeros(2)),
        lambda D, T: D.Multinomial(4, T.ones(3)),
        lambda D, T: D.Multinomial(4, T.ones(3)).support,
    ]:
        assert repr(make(ED, ember)) == repr(make(TD, torch)).replace("torch", "ember")
    b_e, b_t = ED.Bernoulli(probs=ember.tensor([0.5])), TD.Bernoulli(probs=torch.tensor([0.5]))
    b_e.logits, b_t.logits  # noqa: B018 - computing the lazy parameter adds it to the repr
    assert repr(b_e) == repr(b_t).replace("torch", "ember")
    for name in [
        "real",
        "positive",
        "nonnegative",
        "unit_interval",
        "simplex",
        "boolean",
        "real_vector",
        "one_hot",
    ]:
        assert repr(getattr(constraints, name)) == repr(getattr(TD.constraints, name))
    assert repr(constraints.interval(0, 1)) == repr(TD.constraints.interval(0, 1))
    assert repr(constraints.integer_interval(0, 3)) == repr(TD.constraints.integer_interval(0, 3))


def _raises_like_torch(make: Any) -> str:
    """make(D, T) raises the same error type and message in ember and torch."""
    import torch

    with pytest.raises(Exception) as t_info:
        make(torch.distributions, torch)
    with pytest.raises(type(t_info.value)) as e_info:
        make(ED, ember)
    assert str(e_info.value) == str(t_info.value).replace("torch", "ember")
    return str(e_info.value)


def test_validation_errors_match_torch() -> None:
    message = _raises_like_torch(lambda D, T: D.Normal(0.0, -1.0))
    assert "to satisfy the constraint GreaterThan(lower_bound=0.0)" in message
    _raises_like_torch(lambda D, T: D.Normal(T.zeros(2), T.tensor([1.0, -1.0])))
    _raises_like_torch(lambda D, T: D.Normal(0.0, 1.0).log_prob(T.tensor([float("nan")])))
    _raises_like_torch(lambda D, T: D.Bernoulli(probs=T.tensor([0.3, 0.2])).log_prob(T.tensor([0.5, 1.0])))
    _raises_like_torch(lambda D, T: D.Bernoulli(probs=T.tensor([1.5])))
    _raises_like_torch(lambda D, T: D.Bernoulli(probs=T.tensor([0.3]), logits=T.tensor([0.3])))
    _raises_like_torch(lambda D, T: D.Categorical(probs=T.tensor([0.3, 0.2])).log_prob(T.tensor([2])))
    _raises_like_torch(lambda D, T: D.Categorical(probs=T.tensor(0.3)))
    _raises_like_torch(lambda D, T: D.Exponential(T.ones(3)).log_prob(T.tensor([-1.0, 1.0, 1.0])))
    _raises_like_torch(lambda D, T: D.Normal(T.zeros(3), 1.0).log_prob(T.zeros(2)))
    _raises_like_torch(lambda D, T: D.Normal(0.0, 1.0).log_prob(0.5))
    _raises_like_torch(lambda D, T: D.Uniform(1.0, 0.0))
    with pytest.raises(ValueError, match="parameter concentration0 .* of distribution Beta"):
        ED.Beta(ember.tensor([1.0]), ember.tensor([0.0]))  # PyTorch names its inner Dirichlet
    _raises_like_torch(lambda D, T: D.Gamma(1.0, 1.0).log_prob(T.tensor([-1.0])))
    _raises_like_torch(lambda D, T: D.Poisson(T.ones(2)).log_prob(T.tensor([0.5, 1.0])))
    _raises_like_torch(lambda D, T: D.MultivariateNormal(T.zeros(2), T.tensor([[1.0, 2.0], [2.0, 1.0]])))
    _raises_like_torch(
        lambda D, T: D.MultivariateNormal(T.zeros(2), scale_tril=T.tensor([[1.0, 1.0], [0.0, 1.0]]))
    )
    _raises_like_torch(lambda D, T: D.MultivariateNormal(T.zeros(2)))
    _raises_like_torch(lambda D, T: D.MultivariateNormal(T.zeros(2), T.zeros(2)))
    _raises_like_torch(lambda D, T: D.MultivariateNormal(T.zeros(2), scale_tril=T.zeros(2)))
    _raises_like_torch(lambda D, T: D.MultivariateNormal(T.zeros(()), T.eye(2)))
    _raises_like_torch(lambda D, T: D.Categorical(probs=T.tensor([0.3, 0.2])).log_prob(T.tensor(2)))
    _raises_like_torch(lambda D, T: D.Normal(0.0, 1.0).log_prob(T.tensor(float("nan"))))
    with pytest.raises(
        ValueError, match=r"covariance_matrix must be a \(2, 2\) matrix .* got shape \(3, 3\)"
    ):
        ED.MultivariateNormal(ember.zeros(2), ember.eye(3))  # PyTorch fails later, in a reshape
    _raises_like_torch(lambda D, T: D.MultivariateNormal(T.zeros(2), T.eye(2)).log_prob(T.zeros(3)))
    _raises_like_torch(lambda D, T: D.Independent(D.Normal(T.zeros(2), 1.0), 2))
    _raises_like_torch(lambda D, T: D.Geometric(T.tensor([0.0, 0.5])))
    _raises_like_torch(lambda D, T: D.Geometric(T.tensor([0.5])).log_prob(T.tensor([-1.0])))
    _raises_like_torch(lambda D, T: D.Multinomial(2.5, T.ones(3)))
    _raises_like_torch(lambda D, T: D.Multinomial(2, T.ones(3)).log_prob(T.tensor([1.0, -1.0, 0.0])))
    _raises_like_torch(lambda D, T: D.Dirichlet(T.tensor(1.0)))
    _raises_like_torch(lambda D, T: D.Dirichlet(T.ones(3)).log_prob(T.tensor([0.5, 0.6, 0.1])))
    _raises_like_torch(lambda D, T: D.LogNormal(0.0, 1.0).log_prob(T.tensor([-1.0])))
    _raises_like_torch(lambda D, T: D.HalfNormal(T.tensor([-1.0])))
    _raises_like_torch(lambda D, T: D.StudentT(T.tensor([-1.0])))
    _raises_like_torch(lambda D, T: D.Chi2(T.tensor([0.0])))


def test_validation_can_be_turned_off() -> None:
    d = ED.Normal(0.0, -1.0, validate_args=False)  # no error
    assert math.isnan(d.log_prob(ember.tensor(0.0)).item())
    ED.Distribution.set_default_validate_args(False)
    try:
        ED.Bernoulli(ember.tensor([2.0]))
        assert ED.Exponential(1.0).log_prob(ember.tensor(-1.0)).item() == pytest.approx(1.0)
    finally:
        ED.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        ED.Bernoulli(ember.tensor([2.0]))
    with pytest.raises(ValueError):
        ED.Distribution.set_default_validate_args("yes")


def test_binomial_entropy_needs_one_total_count() -> None:
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
        ED.Binomial(ember.tensor([2.0, 3.0]), ember.tensor([0.5, 0.5])).entropy()


def test_ember_distributions_is_exported() -> None:
    assert ember.distributions is ED
    assert set(ED.__all__) <= set(dir(ED))
