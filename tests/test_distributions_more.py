"""ember.distributions.transforms, TransformedDistribution (the tanh-squashed Normal of SAC
policies above all), Gumbel, Weibull, Pareto, NegativeBinomial and the relaxed
(Gumbel-softmax) distributions against PyTorch's on the same parameters: values and
gradients of log_prob, cdf/icdf, moments, entropy and the log-Jacobians, in float32 and
float64, with broadcast parameters; rsample's gradients with the noise held fixed; sample
shapes and moments; reprs, expand and errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import ember
import ember.distributions as ED
from conftest import assert_close, requires_torch
from ember.autograd import gradcheck
from ember.distributions import transforms as ET
from test_distributions import _same_grads

pytestmark = requires_torch

TOL = {"float32": (2e-4, 1e-5), "float64": (1e-8, 1e-10)}
DTYPES = ["float32", "float64"]


def _pair(value: np.ndarray, dtype: str, grad: bool = True) -> tuple:
    import torch

    value = np.asarray(value, dtype=dtype)
    return ember.tensor(value, requires_grad=grad), torch.tensor(value, requires_grad=grad)


# ---- transforms -----------------------------------------------------------------------------------


# name -> (ember transform, torch transform, x inside the domain)
def _transforms(dtype: str) -> dict:
    import torch
    from torch.distributions import transforms as TT

    rng = np.random.default_rng(0)
    loc, scale = rng.normal(size=(3,)).astype(dtype), rng.uniform(-2, 2, size=(3,)).astype(dtype)
    x_real, x_pos = rng.normal(size=(2, 3)), rng.uniform(0.2, 2, size=(2, 3))
    return {
        "Exp": (ET.ExpTransform(), TT.ExpTransform(), x_real),
        "Sigmoid": (ET.SigmoidTransform(), TT.SigmoidTransform(), x_real),
        "Tanh": (ET.TanhTransform(), TT.TanhTransform(), x_real * 3),
        "Power": (ET.PowerTransform(ember.tensor(-1.5)), TT.PowerTransform(torch.tensor(-1.5)), x_pos),
        "Affine-number": (ET.AffineTransform(1.0, -2.0), TT.AffineTransform(1.0, -2.0), x_real),
        "Affine-tensor": (
            ET.AffineTransform(ember.tensor(loc), ember.tensor(scale)),
            TT.AffineTransform(torch.tensor(loc), torch.tensor(scale)),
            x_real,
        ),
        "Affine-event": (
            ET.AffineTransform(ember.tensor(loc), ember.tensor(scale), event_dim=1),
            TT.AffineTransform(torch.tensor(loc), torch.tensor(scale), event_dim=1),
            x_real,
        ),
        "Compose": (
            ET.ComposeTransform([ET.TanhTransform(), ET.AffineTransform(2.0, 3.0), ET.ExpTransform()]),
            TT.ComposeTransform([TT.TanhTransform(), TT.AffineTransform(2.0, 3.0), TT.ExpTransform()]),
            x_real,
        ),
        "Compose-event": (
            ET.ComposeTransform([ET.ExpTransform(), ET.AffineTransform(ember.tensor(loc), 2.0, event_dim=1)]),
            TT.ComposeTransform([TT.ExpTransform(), TT.AffineTransform(torch.tensor(loc), 2.0, event_dim=1)]),
            x_real,
        ),
        "Inverse": (ET.ExpTransform().inv, TT.ExpTransform().inv, x_pos),
    }


TRANSFORMS = list(_transforms("float64"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", TRANSFORMS)
def test_transform_values_inverse_and_log_jacobian_match_torch(name: str, dtype: str) -> None:
    tol = TOL[dtype]
    e_t, t_t, x = _transforms(dtype)[name]
    x_e, x_t = _pair(x, dtype)
    y_e, y_t = e_t(x_e), t_t(x_t)
    assert_close(y_e, y_t, *tol)
    assert_close(e_t.inv(y_e.detach()), t_t.inv(y_t.detach()), *(1e-4, 1e-5) if dtype == "float32" else tol)
    ladj_e, ladj_t = e_t.log_abs_det_jacobian(x_e, y_e), t_t.log_abs_det_jacobian(x_t, y_t)
    assert_close(ladj_e, ladj_t, *tol)
    assert repr(e_t.domain) == repr(t_t.domain) and repr(e_t.codomain) == repr(t_t.codomain)
    assert e_t.bijective == t_t.bijective
    assert tuple(e_t.forward_shape((4, 2, 3))) == tuple(t_t.forward_shape((4, 2, 3)))
    (y_e.sum() + ladj_e.sum()).backward()
    (y_t.sum() + ladj_t.sum()).backward()
    assert_close(x_e.grad, x_t.grad, *tol)
    assert e_t.inv.inv is e_t


def test_transform_signs_reprs_and_abs() -> None:
    import torch
    from torch.distributions import transforms as TT

    assert ET.ExpTransform().sign == 1 and ET.AffineTransform(0.0, -3.0).sign == -1
    assert ET.ComposeTransform([ET.ExpTransform(), ET.AffineTransform(0.0, -1.0)]).sign == -1
    assert_close(ET.PowerTransform(ember.tensor(-2.0)).sign, torch.tensor(-1.0))
    for e_t, t_t in [
        (ET.ExpTransform(), TT.ExpTransform()),
        (ET.AffineTransform(1.0, 2.0), TT.AffineTransform(1.0, 2.0)),
        (ET.TanhTransform().inv, TT.TanhTransform().inv),
        (
            ET.ComposeTransform([ET.ExpTransform(), ET.SigmoidTransform()]),
            TT.ComposeTransform([TT.ExpTransform(), TT.SigmoidTransform()]),
        ),
    ]:
        assert repr(e_t) == repr(t_t)
    x = ember.tensor([-2.0, 3.0])
    assert ET.AbsTransform()(x).tolist() == [2.0, 3.0] and ET.AbsTransform().inv(x).tolist() == [-2.0, 3.0]
    assert not ET.AbsTransform().bijective


def test_transform_cache_returns_the_same_tensors() -> None:
    t = ET.TanhTransform(cache_size=1)
    x = ember.tensor([30.0, -0.5])
    y = t(x)
    assert t(x) is y and t.inv(y) is x  # atanh of 1.0 would be inf
    assert ET.TanhTransform().inv(y)[0].item() == math.inf
    u = ET.ExpTransform(cache_size=1).inv
    z = u(ember.tensor([2.0]))
    assert u.inv(z) is not None and u(ember.tensor([2.0])) is not z
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        ET.ExpTransform(cache_size=2)


def test_transform_gradcheck_in_float64() -> None:
    x = ember.tensor(np.random.default_rng(0).normal(size=(2, 3)), requires_grad=True)
    for t in (ET.TanhTransform(), ET.SigmoidTransform(), ET.ExpTransform()):
        assert gradcheck(lambda x, t=t: t(x) + t.log_abs_det_jacobian(x, t(x)), (x,))


# ---- TransformedDistribution ------------------------------------------------------------------------


def _tanh_normal(lib: Any, loc: Any, scale: Any) -> Any:
    tr = ET if lib is ember else __import__("torch").distributions.transforms
    D = ED if lib is ember else __import__("torch").distributions
    return D.TransformedDistribution(D.Normal(loc, scale), [tr.TanhTransform(cache_size=1)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_squashed_normal_log_prob_matches_torch(dtype: str) -> None:
    """The SAC policy: a = tanh(mu + sigma eps), log pi(a) through the cached pre-image."""
    tol = TOL[dtype]
    rng = np.random.default_rng(0)
    loc_e, loc_t = _pair(rng.normal(size=(4, 2)) * 3, dtype)
    scale_e, scale_t = _pair(rng.uniform(0.5, 2, size=(2,)), dtype)
    eps = rng.normal(size=(5, 4, 2)).astype(dtype)
    eps[0, 0, 0] = 8.0  # tanh(x) rounds to 1: only the cache keeps log_prob finite
    e, t = _tanh_normal(ember, loc_e, scale_e), _tanh_normal(__import__("torch"), loc_t, scale_t)
    assert tuple(e.batch_shape) == tuple(t.batch_shape) == (4, 2) and e.has_rsample and e.event_shape == ()
    x_e, x_t = loc_e + scale_e * ember.tensor(eps), loc_t + scale_t * __import__("torch").tensor(eps)
    a_e, a_t = e.transforms[0](x_e), t.transforms[0](x_t)
    lp_e, lp_t = e.log_prob(a_e), t.log_prob(a_t)
    assert bool(ember.isfinite(lp_e).all())
    assert_close(lp_e, lp_t, *tol)
    (lp_e.sum() + a_e.pow(2).sum()).backward()
    (lp_t.sum() + a_t.pow(2).sum()).backward()
    _same_grads({"loc": loc_e, "scale": scale_e}, {"loc": loc_t, "scale": scale_t}, tol)
    # an action given from outside (a replay buffer) goes through atanh
    a = np.asarray(rng.uniform(-0.9, 0.9, size=(4, 2)), dtype=dtype)
    assert_close(e.log_prob(ember.tensor(a)), t.log_prob(__import__("torch").tensor(a)), *tol)
    assert_close(e.cdf(ember.tensor(a)), t.cdf(__import__("torch").tensor(a)), *tol)


def test_tanh_normal_rsample_trains_through_the_cache() -> None:
    ember.manual_seed(0)
    loc = ember.zeros(3, requires_grad=True)
    scale = ember.ones(3, requires_grad=True)
    policy = _tanh_normal(ember, loc, scale)
    action = policy.rsample((64,))
    assert tuple(action.shape) == (64, 3) and bool((action.abs() < 1).all())
    (policy.log_prob(action).mean() - action.mean()).backward()
    assert loc.grad is not None and bool(ember.isfinite(scale.grad).all())


@pytest.mark.parametrize("dtype", DTYPES)
def test_transformed_distribution_event_dims_and_decreasing_maps_match_torch(dtype: str) -> None:
    import torch
    from torch.distributions import transforms as TT

    tol = TOL[dtype]
    rng = np.random.default_rng(1)
    loc_e, loc_t = _pair(rng.normal(size=(2, 3)), dtype)
    scale_e, scale_t = _pair(rng.uniform(0.5, 2, size=(2, 3)), dtype)
    shift = rng.normal(size=(4, 1, 3)).astype(dtype)
    cases = [
        # a vector map makes the base's last batch dim an event dim; its parameter widens the batch
        (
            [ET.ExpTransform(), ET.AffineTransform(ember.tensor(shift), -2.0, event_dim=1)],
            [TT.ExpTransform(), TT.AffineTransform(torch.tensor(shift), -2.0, event_dim=1)],
        ),
        (
            [ET.AffineTransform(1.0, -0.5), ET.SigmoidTransform()],
            [TT.AffineTransform(1.0, -0.5), TT.SigmoidTransform()],
        ),
        (
            [ET.ExpTransform(), ET.PowerTransform(ember.tensor(2.0))],
            [TT.ExpTransform(), TT.PowerTransform(torch.tensor(2.0))],
        ),
        ([], []),
    ]
    for e_ts, t_ts in cases:
        e = ED.TransformedDistribution(ED.Normal(loc_e, scale_e), e_ts)
        t = torch.distributions.TransformedDistribution(torch.distributions.Normal(loc_t, scale_t), t_ts)
        assert (tuple(e.batch_shape), tuple(e.event_shape)) == (tuple(t.batch_shape), tuple(t.event_shape))
        assert repr(e.support) == repr(t.support) and repr(e) == repr(t)
        torch.manual_seed(0)
        y_t = t.sample((2,))
        y_e = ember.tensor(y_t.numpy().copy())
        lp_e, lp_t = e.log_prob(y_e), t.log_prob(y_t)
        assert_close(lp_e, lp_t, *tol)
        loss_e, loss_t = lp_e.sum(), lp_t.sum()
        if not e.event_shape:  # cdf and icdf, flipped for the decreasing affine map
            q = np.asarray(rng.uniform(0.05, 0.95, size=(2, 3)), dtype=dtype)
            assert_close(e.cdf(y_e), t.cdf(y_t), *tol)
            assert_close(e.icdf(ember.tensor(q)), t.icdf(torch.tensor(q)), *tol)
            loss_e, loss_t = loss_e + e.cdf(y_e).sum(), loss_t + t.cdf(y_t).sum()
        loss_e.backward()
        loss_t.backward()
        _same_grads({"loc": loc_e, "scale": scale_e}, {"loc": loc_t, "scale": scale_t}, tol)
        for p in (loc_e, scale_e, loc_t, scale_t):
            p.grad = None
        assert tuple(e.sample((5,)).shape) == tuple(t.sample((5,)).shape)
        assert tuple(e.expand((7, *e.batch_shape)).sample().shape) == (7, *t.batch_shape, *t.event_shape)


def test_transformed_distribution_errors_match_torch() -> None:
    base = ED.Normal(ember.zeros(3), ember.ones(3))
    with pytest.raises(ValueError, match="transforms must be a Transform or list, but was"):
        ED.TransformedDistribution(base, (ET.ExpTransform(),))
    with pytest.raises(ValueError, match="transforms must be a Transform or a list of Transforms"):
        ED.TransformedDistribution(base, [ET.ExpTransform(), "exp"])
    with pytest.raises(ValueError, match="needs to have shape with size at least 2"):
        ED.TransformedDistribution(base, ET.AffineTransform(0.0, 1.0, event_dim=2))
    d = ED.TransformedDistribution(base, ET.ExpTransform())
    with pytest.raises(ValueError, match="to be within the support"):
        d.log_prob(ember.tensor([-1.0, 1.0, 1.0]))


# ---- Gumbel, Weibull, Pareto, NegativeBinomial ----------------------------------------------------

# name -> (parameters from a generator, values from a generator, parameters without a gradient)
CASES: dict[str, tuple] = {
    "Gumbel": (
        lambda r: {"loc": r.normal(size=(2, 3)), "scale": r.uniform(0.5, 2, size=(3,))},
        lambda r: r.normal(size=(2, 3)),
        (),
    ),
    "Weibull": (
        lambda r: {"scale": r.uniform(0.5, 2, size=(2, 3)), "concentration": r.uniform(0.5, 3, size=(3,))},
        lambda r: r.uniform(0.1, 3, size=(2, 3)),
        (),
    ),
    "Pareto": (
        lambda r: {"scale": r.uniform(0.5, 2, size=(3,)), "alpha": np.array([0.7, 1.5, 3.0])},
        lambda r: r.uniform(2.1, 4, size=(2, 3)),
        (),
    ),
    "NegativeBinomial-probs": (
        lambda r: {"total_count": r.uniform(0.5, 5, size=(3,)), "probs": r.uniform(0.1, 0.9, size=(2, 3))},
        lambda r: r.integers(0, 6, size=(2, 3)).astype(float),
        ("total_count",),
    ),
    "NegativeBinomial-logits": (
        lambda r: {"total_count": r.uniform(0.5, 5, size=(2, 3)), "logits": r.normal(size=(3,))},
        lambda r: r.integers(0, 6, size=(2, 3)).astype(float),
        (),
    ),
}


def _make(case: str, dtype: str) -> tuple:
    import torch

    params, _, fixed = CASES[case]
    name = case.split("-")[0]
    e_params, t_params = {}, {}
    for key, value in params(np.random.default_rng(0)).items():
        e_params[key], t_params[key] = _pair(value, dtype, grad=key not in fixed)
    return getattr(ED, name)(**e_params), getattr(torch.distributions, name)(**t_params), e_params, t_params


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CASES))
def test_log_prob_moments_entropy_cdf_match_torch(case: str, dtype: str) -> None:
    import torch

    tol = TOL[dtype]
    e, t, e_params, t_params = _make(case, dtype)
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and repr(e) == repr(t).replace("torch", "ember")
    value = CASES[case][1](np.random.default_rng(1))
    value_e, value_t = _pair(value, dtype, grad=not case.startswith("Negative"))
    lp_e, lp_t = e.log_prob(value_e), t.log_prob(value_t)
    assert_close(lp_e, lp_t, *tol)
    loss_e, loss_t = lp_e.sum(), lp_t.sum()
    for attr in ("mean", "mode", "variance", "stddev"):
        a_e, a_t = getattr(e, attr), getattr(t, attr)
        np.testing.assert_allclose(a_e.detach().numpy(), a_t.detach().numpy(), *tol)  # inf where torch's is
        finite = ember.tensor(np.isfinite(a_t.detach().numpy()))
        loss_e = loss_e + ember.where(finite, a_e, ember.zeros_like(a_e)).sum()
        loss_t = loss_t + torch.where(torch.tensor(finite.numpy()), a_t, torch.zeros_like(a_t)).sum()
    if not case.startswith("Negative"):  # PyTorch's NegativeBinomial has neither
        assert_close(e.entropy(), t.entropy(), *tol)
        q = np.asarray(np.random.default_rng(2).uniform(0.05, 0.95, size=(2, 3)), dtype=dtype)
        assert_close(e.cdf(value_e), t.cdf(value_t), *tol)
        assert_close(e.icdf(ember.tensor(q)), t.icdf(torch.tensor(q)), *tol)
        loss_e = loss_e + e.entropy().sum() + e.cdf(value_e).sum() + e.icdf(ember.tensor(q)).sum()
        loss_t = loss_t + t.entropy().sum() + t.cdf(value_t).sum() + t.icdf(torch.tensor(q)).sum()
    loss_e.backward()
    loss_t.backward()
    _same_grads(e_params, t_params, tol)
    if value_t.grad is not None:
        assert_close(value_e.grad, value_t.grad, *tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["Gumbel", "Weibull", "Pareto"])
def test_rsample_is_icdf_of_its_noise_with_torchs_gradients(case: str, dtype: str) -> None:
    """A draw z is icdf(u) for the uniform u = cdf(z): torch's icdf at that u gives the same
    draw, and the same gradients with u held fixed."""
    import torch

    tol = (1e-3, 1e-4) if dtype == "float32" else (1e-7, 1e-9)
    e, t, e_params, t_params = _make(case, dtype)
    z_e = e.rsample((4,))
    assert (
        z_e.requires_grad and str(z_e.dtype) == f"ember.{dtype}" and tuple(z_e.shape) == (4, *t.batch_shape)
    )
    u = torch.tensor(e.cdf(z_e).detach().numpy()).clamp(1e-6, 1 - 1e-6)
    z_t = t.icdf(u)
    assert_close(z_e, z_t, *tol)
    (z_e.sin() * z_e).sum().backward()
    (z_t.sin() * z_t).sum().backward()
    _same_grads(e_params, t_params, tol)


@pytest.mark.parametrize(
    "dist",
    [
        ED.Gumbel(ember.tensor([0.0, 2.0]), ember.tensor([1.0, 0.5])),
        ED.Weibull(ember.tensor([1.0, 2.0]), ember.tensor([1.5, 3.0])),
        ED.Pareto(ember.tensor([1.0, 2.0]), ember.tensor([6.0, 8.0])),
        ED.NegativeBinomial(ember.tensor([3.0, 0.5]), probs=ember.tensor([0.4, 0.7])),
        ED.NegativeBinomial(ember.tensor([0.0, 4.0]), logits=ember.tensor([0.3, -1.0])),
    ],
    ids=["Gumbel", "Weibull", "Pareto", "NegativeBinomial", "NegativeBinomial-zero"],
)
def test_sample_moments(dist: Any) -> None:
    ember.manual_seed(0)
    x = dist.sample((20000,)).double().numpy()
    assert x.shape == (20000, 2) and not dist.sample().requires_grad
    np.testing.assert_allclose(x.mean(0), dist.mean.double().numpy(), rtol=0.05, atol=0.02)
    np.testing.assert_allclose(x.var(0), dist.variance.double().numpy(), rtol=0.12, atol=0.02)


def test_validation_and_expand() -> None:
    with pytest.raises(ValueError, match="Expected parameter scale"):
        ED.Weibull(ember.tensor([-1.0]), ember.tensor([1.0]))
    with pytest.raises(ValueError, match="Expected parameter probs"):
        ED.NegativeBinomial(2.0, probs=ember.tensor([1.0]))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified"):
        ED.NegativeBinomial(2.0)
    with pytest.raises(ValueError, match="within the support"):
        ED.Pareto(ember.tensor([2.0]), ember.tensor([1.0])).log_prob(ember.tensor([1.0]))
    with pytest.raises(ValueError, match="within the support"):
        ED.NegativeBinomial(2.0, probs=0.5).log_prob(ember.tensor([1.5]))
    p = ED.Pareto(ember.tensor([1.0, 2.0]), ember.tensor([3.0, 5.0])).expand((4, 2))
    assert tuple(p.scale.shape) == (4, 2) and tuple(p.rsample().shape) == (4, 2)
    nb = ED.NegativeBinomial(ember.tensor([3.0, 0.5]), logits=ember.tensor([0.4, 0.7])).expand((3, 2))
    assert tuple(nb.total_count.shape) == (3, 2) and tuple(nb.sample().shape) == (3, 2)


def test_log_prob_gradcheck_in_float64() -> None:
    rng = np.random.default_rng(3)
    a = ember.tensor(rng.uniform(0.5, 2, size=(3,)), requires_grad=True)
    b = ember.tensor(rng.uniform(0.5, 2, size=(3,)), requires_grad=True)
    x = ember.tensor(rng.uniform(2.1, 3, size=(3,)), requires_grad=True)
    for name in ("Gumbel", "Weibull", "Pareto"):
        assert gradcheck(lambda a, b, x, name=name: getattr(ED, name)(a, b).log_prob(x), (a, b, x))
    k = ember.tensor([0.0, 2.0, 5.0])
    assert gradcheck(lambda n, logits: ED.NegativeBinomial(n, logits=logits).log_prob(k), (a, b - 1))


# ---- relaxed distributions -------------------------------------------------------------------------


def _relaxed(name: str, given: str, dtype: str) -> tuple:
    import torch.distributions.relaxed_bernoulli as RB
    import torch.distributions.relaxed_categorical as RC

    rng = np.random.default_rng(4)
    binary = "Bernoulli" in name
    shape = (2, 3) if binary else (2, 4)
    raw = rng.uniform(0.1, 0.9, size=shape) if given == "probs" else rng.normal(size=shape)
    if given == "probs" and not binary:
        raw = raw / raw.sum(-1, keepdims=True)
    p_e, p_t = _pair(raw, dtype)
    temp_e, temp_t = _pair(np.array(0.7), dtype)
    e = getattr(ED.relaxed, name)(temp_e, **{given: p_e})
    t = (getattr(RB, name, None) or getattr(RC, name))(temp_t, **{given: p_t})
    return e, t, {given: p_e, "temperature": temp_e}, {given: p_t, "temperature": temp_t}


RELAXED = ["RelaxedBernoulli", "LogitRelaxedBernoulli", "RelaxedOneHotCategorical", "ExpRelaxedCategorical"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("given", ["probs", "logits"])
@pytest.mark.parametrize("name", RELAXED)
def test_relaxed_log_prob_matches_torch(name: str, given: str, dtype: str) -> None:
    tol = TOL[dtype]
    e, t, e_params, t_params = _relaxed(name, given, dtype)
    assert (tuple(e.batch_shape), tuple(e.event_shape)) == (tuple(t.batch_shape), tuple(t.event_shape))
    assert repr(e) == repr(t).replace("torch", "ember") and repr(e.support) == repr(t.support)
    rng = np.random.default_rng(5)
    if "Bernoulli" in name:
        value = rng.uniform(0.05, 0.95, size=(5, 2, 3))
    else:
        value = rng.dirichlet(np.ones(4), size=(5, 2))
    if name.startswith(("Logit", "Exp")):
        value = np.log(value) - (np.log1p(-value) if "Bernoulli" in name else 0)
    value_e, value_t = _pair(value, dtype)
    lp_e, lp_t = e.log_prob(value_e), t.log_prob(value_t)
    assert_close(lp_e, lp_t, *tol)
    lp_e.sum().backward()
    lp_t.sum().backward()
    _same_grads(e_params, t_params, tol)
    assert_close(value_e.grad, value_t.grad, *tol)


@pytest.mark.parametrize("name", RELAXED)
def test_relaxed_rsample_is_differentiable_and_in_the_support(name: str) -> None:
    ember.manual_seed(0)
    e, t, e_params, _ = _relaxed(name, "logits", "float64")
    z = e.rsample((7,))
    assert tuple(z.shape) == (7, *t.batch_shape, *t.event_shape) and z.requires_grad
    assert bool(e.support.check(z).all()) and not e.sample().requires_grad
    (z * ember.arange(z.shape[-1], dtype=z.dtype)).sum().backward()
    assert all(p.grad is not None and bool(ember.isfinite(p.grad).all()) for p in e_params.values())
    assert tuple(e.expand((4, *t.batch_shape)).rsample().shape) == (4, *t.batch_shape, *t.event_shape)


def test_gumbel_softmax_draws_follow_the_probabilities_and_harden_when_cold() -> None:
    ember.manual_seed(0)
    probs = ember.tensor([0.1, 0.2, 0.7], dtype=ember.float64)
    z = ED.RelaxedOneHotCategorical(ember.tensor(0.05, dtype=ember.float64), probs=probs).sample((4000,))
    np.testing.assert_allclose(z.sum(-1).numpy(), 1.0, rtol=1e-12)
    assert float(z.max(-1)[0].mean()) > 0.95  # nearly one-hot at a low temperature
    np.testing.assert_allclose(
        np.bincount(z.argmax(-1).numpy(), minlength=3) / 4000, probs.numpy(), atol=0.03
    )
    b = ED.RelaxedBernoulli(
        ember.tensor(0.05, dtype=ember.float64), probs=ember.tensor(0.3, dtype=ember.float64)
    )
    np.testing.assert_allclose(float((b.sample((4000,)) > 0.5).double().mean()), 0.3, atol=0.03)
    # a Python number is accepted as temperature (PyTorch needs a tensor)
    assert ED.RelaxedBernoulli(0.5, logits=ember.zeros(2)).temperature.dtype == ember.float32


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["Gumbel", "Pareto"])
def test_kl_divergence_matches_torch(name: str, dtype: str) -> None:
    import torch

    tol = TOL[dtype]
    rng = np.random.default_rng(6)
    first = rng.normal(size=(4,)) if name == "Gumbel" else np.array([1.0, 2.0, 0.5, 1.5])
    other = rng.normal(size=(4,)) if name == "Gumbel" else np.array([0.8, 2.5, 0.5, 1.0])  # one has q above p
    params = [(first, rng.uniform(0.5, 2, size=(4,))), (other, rng.uniform(0.5, 2, size=(4,)))]
    pairs = [[_pair(a, dtype) for a in ab] for ab in params]
    e = [getattr(ED, name)(*(x[0] for x in ab)) for ab in pairs]
    t = [getattr(torch.distributions, name)(*(x[1] for x in ab)) for ab in pairs]
    kl_e, kl_t = ED.kl_divergence(*e), torch.distributions.kl_divergence(*t)
    assert_close(kl_e, kl_t, *tol)
    finite = np.isfinite(kl_t.detach().numpy())
    kl_e[ember.tensor(finite)].sum().backward()
    kl_t[torch.tensor(finite)].sum().backward()
    for ab_e, ab_t in zip([[x[0] for x in ab] for ab in pairs], [[x[1] for x in ab] for ab in pairs]):
        for pe, pt in zip(ab_e, ab_t):
            assert_close(pe.grad, pt.grad, *tol)


# ---- LowRankMultivariateNormal and MixtureSameFamily ------------------------------------------------


def _lowrank(dtype: str, seed: int = 0) -> tuple:
    import torch

    rng = np.random.default_rng(seed)
    arrays = {
        "loc": rng.normal(size=(2, 4)),
        "cov_factor": rng.normal(size=(3, 1, 4, 2)),
        "cov_diag": rng.uniform(0.5, 2, (4,)),
    }
    e_params, t_params = {}, {}
    for key, value in arrays.items():
        e_params[key], t_params[key] = _pair(value, dtype)
    e = ED.LowRankMultivariateNormal(**e_params)
    return e, torch.distributions.LowRankMultivariateNormal(**t_params), e_params, t_params


@pytest.mark.parametrize("dtype", DTYPES)
def test_lowrank_mvn_matches_torch(dtype: str) -> None:
    tol = TOL[dtype]
    e, t, e_params, t_params = _lowrank(dtype)
    assert (
        (tuple(e.batch_shape), tuple(e.event_shape))
        == ((3, 2), (4,))
        == (tuple(t.batch_shape), tuple(t.event_shape))
    )
    assert repr(e) == repr(t).replace("torch", "ember")
    x_e, x_t = _pair(np.random.default_rng(1).normal(size=(5, 3, 2, 4)), dtype)
    lp_e, lp_t = e.log_prob(x_e), t.log_prob(x_t)
    assert_close(lp_e, lp_t, *tol)
    loss_e, loss_t = lp_e.sum(), lp_t.sum()
    for attr in (
        "entropy",
        "mean",
        "mode",
        "variance",
        "covariance_matrix",
        "precision_matrix",
        "scale_tril",
    ):
        a_e, a_t = getattr(e, attr), getattr(t, attr)
        a_e, a_t = (a_e(), a_t()) if callable(a_e) else (a_e, a_t)
        assert_close(a_e, a_t, *tol)
        loss_e, loss_t = loss_e + a_e.sum(), loss_t + a_t.sum()
    loss_e.backward()
    loss_t.backward()
    _same_grads(e_params, t_params, tol)
    assert_close(x_e.grad, x_t.grad, *tol)


def test_lowrank_mvn_rsample_moments_expand_and_errors() -> None:
    ember.manual_seed(0)
    e, *_ = _lowrank("float64")
    z = e.rsample((20000,))
    assert tuple(z.shape) == (20000, 3, 2, 4) and z.requires_grad
    centred = (z - e.loc).detach().numpy()[:, 1, 0]
    np.testing.assert_allclose(
        centred.T @ centred / 20000, e.covariance_matrix[1, 0].detach().numpy(), atol=0.15
    )
    assert tuple(e.expand((5, 3, 2)).sample().shape) == (5, 3, 2, 4)
    loc, W, D = ember.zeros(3), ember.ones(3, 2), ember.ones(3)
    with pytest.raises(ValueError, match="loc must be at least one-dimensional"):
        ED.LowRankMultivariateNormal(ember.tensor(0.0), W, D)
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices with shape 3 x m"):
        ED.LowRankMultivariateNormal(loc, ember.ones(2, 2), D)
    with pytest.raises(ValueError, match="cov_diag must be a batch of vectors"):
        ED.LowRankMultivariateNormal(loc, W, ember.ones(2))
    with pytest.raises(ValueError, match="Incompatible batch shapes"):
        ED.LowRankMultivariateNormal(ember.zeros(2, 3), ember.ones(4, 3, 2), D)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_with_a_lowrank_mvn_matches_torch(dtype: str) -> None:
    import torch

    tol = TOL[dtype]
    p_e, p_t, pe_params, pt_params = _lowrank(dtype, 1)
    q_e, q_t, qe_params, qt_params = _lowrank(dtype, 2)
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T + 4 * np.eye(4)
    m_e = ED.MultivariateNormal(
        ember.tensor(rng.normal(size=4).astype(dtype)), ember.tensor(cov.astype(dtype))
    )
    m_t = torch.distributions.MultivariateNormal(
        torch.tensor(m_e.loc.numpy()), torch.tensor(cov.astype(dtype))
    )
    total_e = ember.tensor(0.0, dtype=getattr(ember, dtype))
    total_t = torch.tensor(0.0, dtype=getattr(torch, dtype))
    for (pe, pt), (qe, qt) in [((p_e, p_t), (q_e, q_t)), ((p_e, p_t), (m_e, m_t)), ((m_e, m_t), (q_e, q_t))]:
        kl_e, kl_t = ED.kl_divergence(pe, qe), torch.distributions.kl_divergence(pt, qt)
        assert_close(kl_e, kl_t, *(1e-3, 1e-4) if dtype == "float32" else tol)
        total_e, total_t = total_e + kl_e.sum(), total_t + kl_t.sum()
    total_e.backward()
    total_t.backward()
    _same_grads(
        {**pe_params, **{k + "q": v for k, v in qe_params.items()}},
        {**pt_params, **{k + "q": v for k, v in qt_params.items()}},
        (1e-3, 1e-4) if dtype == "float32" else (1e-7, 1e-9),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("vector", [False, True], ids=["scalar", "vector"])
def test_mixture_same_family_matches_torch(vector: bool, dtype: str) -> None:
    import torch

    tol = TOL[dtype]
    rng = np.random.default_rng(7)
    arrays = [rng.normal(size=(2, 3)), rng.normal(size=(2, 3, 4)), rng.uniform(0.5, 2, size=(2, 3, 4))]
    if not vector:
        arrays = [arrays[0], arrays[1][..., 0], arrays[2][..., 0]]
    (lg_e, lg_t), (mu_e, mu_t), (sd_e, sd_t) = (_pair(a, dtype) for a in arrays)

    def build(D: Any, logits: Any, loc: Any, scale: Any) -> Any:
        component = D.Normal(loc, scale)
        return D.MixtureSameFamily(
            D.Categorical(logits=logits), D.Independent(component, 1) if vector else component
        )

    e, t = build(ED, lg_e, mu_e, sd_e), build(torch.distributions, lg_t, mu_t, sd_t)
    assert (tuple(e.batch_shape), tuple(e.event_shape)) == (tuple(t.batch_shape), tuple(t.event_shape))
    assert repr(e) == repr(t).replace("torch", "ember") and not e.has_rsample
    x_e, x_t = _pair(rng.normal(size=(5, 2, 4) if vector else (5, 2)), dtype)
    lp_e, lp_t = e.log_prob(x_e), t.log_prob(x_t)
    assert_close(lp_e, lp_t, *tol)
    loss_e, loss_t = (
        lp_e.sum() + e.mean.sum() + e.variance.sum(),
        lp_t.sum() + t.mean.sum() + t.variance.sum(),
    )
    assert_close(e.mean, t.mean, *tol)
    assert_close(e.variance, t.variance, *tol)
    if not vector:
        assert_close(e.cdf(x_e), t.cdf(x_t), *tol)
        loss_e, loss_t = loss_e + e.cdf(x_e).sum(), loss_t + t.cdf(x_t).sum()
    loss_e.backward()
    loss_t.backward()
    _same_grads({"l": lg_e, "m": mu_e, "s": sd_e}, {"l": lg_t, "m": mu_t, "s": sd_t}, tol)
    assert_close(x_e.grad, x_t.grad, *tol)


def test_mixture_same_family_samples_expand_and_errors() -> None:
    ember.manual_seed(0)
    probs = ember.tensor([0.2, 0.8], dtype=ember.float64)
    component = ED.Normal(
        ember.tensor([[-5.0, 5.0], [0.0, 10.0]], dtype=ember.float64), ember.ones(2, 2, dtype=ember.float64)
    )
    gmm = ED.MixtureSameFamily(ED.Categorical(probs), component)  # the mixture broadcast over the batch
    x = gmm.sample((20000,))
    assert tuple(x.shape) == (20000, 2) and tuple(gmm.expand((3, 2)).sample((4,)).shape) == (4, 3, 2)
    np.testing.assert_allclose(x.numpy().mean(0), gmm.mean.numpy(), atol=0.1)
    np.testing.assert_allclose(x.numpy().var(0), gmm.variance.numpy(), rtol=0.05)
    with pytest.raises(ValueError, match="needs to be an instance of ember.distributions.Categorical"):
        ED.MixtureSameFamily(ED.Bernoulli(probs), component)
    with pytest.raises(ValueError, match="needs to be an instance of ember.distributions.Distribution"):
        ED.MixtureSameFamily(ED.Categorical(probs), "normal")
    with pytest.raises(ValueError, match=r"`mixture_distribution component` \(3\) does not equal"):
        ED.MixtureSameFamily(ED.Categorical(ember.ones(3)), component)
    with pytest.raises(ValueError, match="is not compatible with"):
        ED.MixtureSameFamily(ED.Categorical(ember.ones(3, 2)), component)
