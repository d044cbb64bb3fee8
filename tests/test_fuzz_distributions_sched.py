"""Regressions found by differential fuzzing of ember.distributions and ember.optim (the
optimizers and the lr schedulers) against PyTorch 2.13: each test pins one bug that was
fixed, compared with PyTorch where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as ED
from conftest import requires_torch

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


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_cdf_of_lognormal_and_weibull_at_zero(dtype):
    # 0 is outside the (open) support of LogNormal and Weibull, but their cdf is 0 there,
    # and PyTorch returns it; ember's cdf raised the support's ValueError
    import torch

    value = np.array([0.0, 0.5, 2.0], dtype=dtype)
    for make in (
        lambda lib: lib.distributions.LogNormal(lib.tensor(0.3, dtype=getattr(lib, dtype)), 1.5),
        lambda lib: lib.distributions.Weibull(lib.tensor(1.3, dtype=getattr(lib, dtype)), 0.7),
    ):
        got = make(ember).cdf(ember.tensor(value))
        want = make(torch).cdf(torch.tensor(value))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
        assert got.dtype == getattr(ember, dtype)
        # a negative value is still outside what the cdf takes
        with pytest.raises(ValueError, match="support"):
            make(ember).cdf(ember.tensor([-1.0], dtype=getattr(ember, dtype)))


@requires_torch
def test_gamma_log_prob_takes_a_number():
    # PyTorch's Gamma (and Chi2) convert the value with as_tensor; ember's raised "The value
    # argument to log_prob must be a Tensor"
    import torch

    for e, t in (
        (
            ED.Gamma(ember.tensor([0.5, 2.0]), ember.tensor(1.5)),
            torch.distributions.Gamma(torch.tensor([0.5, 2.0]), 1.5),
        ),
        (
            ED.Chi2(ember.tensor(3.0, dtype=ember.float64)),
            torch.distributions.Chi2(torch.tensor(3.0, dtype=torch.float64)),
        ),
    ):
        got, want = e.log_prob(1.25), t.log_prob(1.25)
        assert got.dtype == ember.float64 if want.dtype == torch.float64 else got.dtype == ember.float32
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@requires_torch
def test_as_tensor_of_a_tensor_keeps_it_in_the_graph():
    # ember.as_tensor(t, dtype=...) made a detached copy, even for t's own dtype, so the
    # gradient through it was silently lost (PyTorch returns t itself, or t.to(dtype))
    import torch

    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        assert lib.as_tensor(x) is x
        assert lib.as_tensor(x, dtype=lib.float32) is x
        y = lib.as_tensor(x, dtype=lib.float64)
        assert y.dtype == lib.float64 and y.requires_grad
        (y * y).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
        assert x.grad.dtype == lib.float32


# ---- optimizers -----------------------------------------------------------------------------------


@requires_torch
def test_asgd_after_loading_a_float64_state_rounds_eta_and_mu_as_pytorch():
    # load_state_dict casts ASGD's eta and mu to a float64 parameter's dtype; PyTorch then
    # still stores each new eta and mu through as_tensor (float32), but ember stored them at
    # float64 precision, so the runs drifted apart after a checkpoint was loaded
    import torch

    def run(lib):
        w = lib.nn.Parameter(lib.tensor(np.cos(np.arange(6.0)), dtype=lib.float64))
        opt = lib.optim.ASGD([w], lr=0.03, lambd=0.1, alpha=0.5, t0=3)
        for step in range(12):
            w.grad = lib.tensor(np.sin(np.arange(6.0) + step), dtype=lib.float64)
            opt.step()
            if step == 4:
                saved = opt.state_dict()
                opt = lib.optim.ASGD([w], lr=0.03, lambd=0.1, alpha=0.5, t0=3)
                opt.load_state_dict(saved)
        state = opt.state[w]
        return w.detach().numpy(), state["eta"].item(), state["mu"].item(), state["ax"].numpy()

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_geometric_log_prob_gradient_where_probs_is_one(dtype):
    # log_prob(0) at probs = 1 is 0, but the masked k * log1p(-p) term still carried
    # 0 * inf into the backward pass: the gradient was nan where PyTorch's is 1 / p = 1
    import torch

    probs = np.array([1.0, 1.0, 0.25], dtype=dtype)
    value = np.array([0.0, 0.0, 3.0], dtype=dtype)
    grads = []
    for lib in (ember, torch):
        p = lib.tensor(probs, requires_grad=True)
        lp = lib.distributions.Geometric(probs=p).log_prob(lib.tensor(value))
        lp.sum().backward()
        grads.append((lp.detach().numpy(), p.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-6)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-6)
    assert np.isfinite(grads[0][1]).all()
    # logits large enough that sigmoid rounds to 1 in float32
    logits = ember.tensor(np.array([50.0, 2.0], dtype=dtype), requires_grad=True)
    ED.Geometric(logits=logits).log_prob(ember.tensor(np.zeros(2, dtype=dtype))).sum().backward()
    assert np.isfinite(logits.grad.numpy()).all()


@requires_torch
def test_kl_divergence_of_two_transformed_distributions():
    # PyTorch registers (TransformedDistribution, TransformedDistribution): with the same
    # transforms (by its ==, class and parameters), the divergence is the bases'; ember
    # raised NotImplementedError for every such pair
    import torch

    loc_p, scale_p = np.array([0.3, -1.0]), np.array([0.5, 2.0])
    loc_q, scale_q = np.array([1.0, 0.2]), np.array([1.5, 0.7])

    def transforms(lib, kind):
        T = lib.distributions.transforms
        if kind == "exp":
            return [T.ExpTransform()]
        if kind == "affine-tanh":
            return [T.AffineTransform(lib.tensor([1.0, 2.0]), 0.5), T.TanhTransform()]
        if kind == "compose":
            return [T.ComposeTransform([T.ExpTransform(), T.PowerTransform(2.0)]), T.SigmoidTransform().inv]
        if kind == "other affine":
            return [T.AffineTransform(1.0, 3.0)]
        return [T.AffineTransform(1.0, 2.0)]

    for kind_p, kind_q in [
        ("exp", "exp"),
        ("affine-tanh", "affine-tanh"),
        ("compose", "compose"),
        ("affine", "other affine"),
        ("exp", "affine"),
    ]:
        results = []
        for lib in (ember, torch):
            params = [lib.tensor(v, requires_grad=True) for v in (loc_p, scale_p, loc_q, scale_q)]
            D = lib.distributions
            p = D.TransformedDistribution(D.Normal(params[0], params[1]), transforms(lib, kind_p))
            q = D.TransformedDistribution(D.Normal(params[2], params[3]), transforms(lib, kind_q))
            try:
                kl = D.kl_divergence(p, q)
            except NotImplementedError:
                results.append(None)
                continue
            grads = lib.autograd.grad(kl.sum(), params)
            results.append([kl.detach().numpy()] + [g.numpy() for g in grads])
        if results[1] is None:
            assert results[0] is None, (kind_p, kind_q)
            continue
        for got, want in zip(results[0], results[1]):
            np.testing.assert_allclose(got, want, rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_and_foreach_together_raise(name):
    # PyTorch refuses fused=True with foreach=True; ember accepted the pair silently
    import torch

    for lib in (ember, torch):
        params = [lib.nn.Parameter(lib.ones(2))]
        with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
            getattr(lib.optim, name)(params, lr=0.1, fused=True, foreach=True)
        getattr(lib.optim, name)(params, lr=0.1, fused=True, foreach=False)  # either alone is fine
        getattr(lib.optim, name)(params, lr=0.1, fused=False, foreach=True)


@requires_torch
def test_the_transforms_are_names_of_the_distributions_package():
    # torch.distributions.ExpTransform, TanhTransform, ... (PyTorch re-exports its
    # transforms); ember had them only under ember.distributions.transforms
    import torch

    for name in ember.distributions.transforms.__all__:
        assert name in torch.distributions.__all__
        assert getattr(ember.distributions, name) is getattr(ember.distributions.transforms, name)
        assert name in ember.distributions.__all__
    d = ED.TransformedDistribution(ED.Normal(0.0, 1.0), [ED.AffineTransform(1.0, 2.0), ED.TanhTransform()])
    assert tuple(d.sample((3,)).shape) == (3,)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rprop_leaves_a_parameter_with_a_nan_gradient_alone(dtype):
    # PyTorch's Rprop steps by torch.sign(grad), which is 0 for NaN, so a NaN entry of the
    # gradient moves nothing; ember used np.sign, whose NaN made the parameter NaN
    import torch

    results = []
    for lib in (ember, torch):
        w = lib.nn.Parameter(lib.tensor(np.linspace(-1.0, 1.0, 4), dtype=getattr(lib, dtype)))
        opt = lib.optim.Rprop([w], lr=0.1)
        for step in range(4):
            grad = np.array([np.nan, 1.0, -2.0, 0.5]) * (-1) ** step
            grad[2] = np.nan if step == 2 else grad[2]
            w.grad = lib.tensor(grad, dtype=getattr(lib, dtype))
            opt.step()
        results.append((w.detach().numpy(), opt.state[w]["step_size"].numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
    assert not np.isnan(results[0][0]).any()
