"""ember.func (torch.func's transforms) compared with torch.func in float64: grad and
grad_and_value (argnums, has_aux, dict arguments), vjp, jacrev, jacfwd, hessian, vmap
(in_dims/out_dims with None and nested trees, randomness), functional_call (tied weights,
strict), the compositions grad(grad(f)), jacrev(grad(f)), vmap(grad(f)) and the
per-sample-gradients recipe; errors as torch raises them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

pytestmark = requires_torch

RNG = np.random.default_rng(0)
X = RNG.normal(size=3)
Y = RNG.normal(size=(2, 3))
B = RNG.normal(size=(4, 3))
W1, B1, W2 = RNG.normal(size=(4, 3)), RNG.normal(size=4), RNG.normal(size=(2, 4))


def _fw(name: str) -> Any:
    if name == "torch":
        import torch

        return torch
    return ember


def _t(M: Any, data: np.ndarray) -> Any:
    return M.tensor(data, dtype=M.float64)


def poly(M: Any):
    return lambda x: (x**3 - 2 * x**2 + x).sum()


def mlp_loss(M: Any):
    w1, b1, w2 = _t(M, W1), _t(M, B1), _t(M, W2)
    return lambda x: M.tanh(M.tanh(x @ w1.T + b1) @ w2.T).pow(2).sum()


def _compare(a: Any, b: Any) -> None:
    """Same tree (tuple / list / dict / Tensor), same values."""
    if isinstance(b, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), (type(a), type(b))
        for x, y in zip(a, b):
            _compare(x, y)
    elif isinstance(b, dict):
        assert isinstance(a, dict) and list(a) == list(b)
        for k in b:
            _compare(a[k], b[k])
    elif hasattr(b, "detach"):
        assert not isinstance(a, (tuple, list, dict))
        assert_close(a, b, rtol=1e-9, atol=1e-10)
    else:
        assert a == b


def _both(call: Any) -> None:
    _compare(call(ember), call(_fw("torch")))


def test_grad_and_grad_and_value() -> None:
    _both(lambda M: M.func.grad(poly(M))(_t(M, X)))
    _both(lambda M: M.func.grad(mlp_loss(M))(_t(M, X)))
    _both(lambda M: M.func.grad_and_value(mlp_loss(M))(_t(M, X)))
    f = lambda x, y: (x * y.sin()).sum()  # noqa: E731
    _both(lambda M: M.func.grad(f, argnums=1)(_t(M, X), _t(M, Y)))
    _both(lambda M: M.func.grad(f, argnums=(0, 1))(_t(M, X), _t(M, Y)))
    _both(lambda M: M.func.grad(f, argnums=-1)(_t(M, X), _t(M, Y)))


def test_grad_has_aux_and_trees() -> None:
    _both(lambda M: M.func.grad(lambda x: ((x**2).sum(), {"k": x * 3}), has_aux=True)(_t(M, X)))
    _both(lambda M: M.func.grad_and_value(lambda x: ((x**2).sum(), x.exp()), has_aux=True)(_t(M, X)))
    _both(lambda M: M.func.grad(lambda d: (d["a"] * d["b"][0] ** 2).sum())({"a": _t(M, X), "b": [_t(M, Y)]}))


def test_grad_of_independent_output_is_zeros_and_results_are_detached() -> None:
    _both(lambda M: M.func.grad(lambda x: _t(M, Y).sum())(_t(M, X)))
    g = ember.func.grad(poly(ember))(ember.tensor(X))
    assert not g.requires_grad


def test_nested_transforms() -> None:
    g = lambda x: (x**4).sum()  # noqa: E731
    _both(lambda M: M.func.grad(lambda x: M.func.grad(g)(x).sum())(_t(M, X)))
    _both(lambda M: M.func.jacrev(M.func.grad(mlp_loss(M)))(_t(M, X)))
    _both(lambda M: M.func.hessian(mlp_loss(M))(_t(M, X)))
    _both(lambda M: M.func.jacfwd(M.func.jacrev(poly(M)))(_t(M, X)))
    _both(lambda M: M.func.vmap(M.func.grad(mlp_loss(M)))(_t(M, B)))
    _both(lambda M: M.func.vmap(M.func.jacrev(lambda x: x.sin() * x))(_t(M, B)))
    # no perturbation confusion: the inner gradient is taken with respect to y, not x
    _both(lambda M: M.func.grad(lambda x: M.func.grad(lambda y: (x * y).sum())(x).sum())(_t(M, X)))


def test_grad_results_stay_differentiable_for_autograd() -> None:
    def call(M: Any):
        x = _t(M, X).requires_grad_()
        g = M.func.grad(lambda x: (x**3).sum())(x)
        assert g.requires_grad
        return M.autograd.grad(g.sum(), x)

    _both(call)


def test_vjp() -> None:
    def call(M: Any, has_aux: bool = False):
        f = (lambda x, y: ((x * y, y.exp()), x.sum())) if has_aux else (lambda x, y: (x * y, y.exp()))
        res = M.func.vjp(f, _t(M, X), _t(M, Y), has_aux=has_aux)
        out, fn = res[0], res[1]
        cot = (_t(M, Y * 2), _t(M, Y + 1))
        return (out, fn(cot), fn(cot), *res[2:])

    _both(call)
    _both(lambda M: call(M, has_aux=True))
    _both(lambda M: M.func.vjp(lambda x: x.tanh(), _t(M, X))[1](_t(M, X)))


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_jacobians(name: str) -> None:
    def jac(M: Any, *a: Any, **k: Any):
        return getattr(M.func, name)(*a, **k)

    _both(lambda M: jac(M, lambda x: x.sin() * x)(_t(M, X)))
    _both(lambda M: jac(M, lambda x, y: (x * y, y.sum()), argnums=(0, 1))(_t(M, X), _t(M, Y)))
    _both(lambda M: jac(M, lambda x: {"u": x**2, "v": x.sum()})(_t(M, X)))
    _both(lambda M: jac(M, lambda x: (x**2, x.cos()), has_aux=True)(_t(M, X)))
    _both(lambda M: jac(M, lambda d: d["a"] * 2)({"a": _t(M, X)}))


def test_hessian_argnums() -> None:
    f = lambda x, y: (x**2 * y.sum(0) ** 3).sum()  # noqa: E731
    _both(lambda M: M.func.hessian(f, argnums=1)(_t(M, X), _t(M, Y)))
    _both(lambda M: M.func.hessian(f, argnums=(0, 1))(_t(M, X), _t(M, Y)))


def test_vmap_in_dims_and_out_dims() -> None:
    _both(lambda M: M.func.vmap(lambda a: a.sum())(_t(M, Y)))
    _both(lambda M: M.func.vmap(lambda a, b: a * b, in_dims=(0, None))(_t(M, Y), _t(M, X)))
    _both(lambda M: M.func.vmap(lambda a, b: a * b, in_dims=(1, None))(_t(M, Y), _t(M, X[:2])))
    _both(lambda M: M.func.vmap(lambda a: a * 2, in_dims=-1, out_dims=-1)(_t(M, Y)))
    _both(lambda M: M.func.vmap(lambda a: (a * 2, a.sum()), out_dims=(1, 0))(_t(M, Y)))
    _both(
        lambda M: M.func.vmap(lambda d: d["a"] * d["b"], in_dims=({"a": 0, "b": None},))(
            {"a": _t(M, Y), "b": _t(M, X)}
        )
    )
    _both(lambda M: M.func.vmap(lambda p: p[0] + p[1][0], in_dims=((0, (1,)),))((_t(M, Y), (_t(M, Y.T),))))
    _both(lambda M: M.func.vmap(lambda a, s: a * s, in_dims=(0, None))(_t(M, Y), 2.0))
    _both(lambda M: M.func.vmap(lambda a: _t(M, X) * 2)(_t(M, Y)))  # an unbatched output is expanded
    _both(lambda M: M.func.vmap(lambda a: (a * 2, 3), out_dims=(0, None))(_t(M, Y)))
    _both(lambda M: M.func.vmap(M.func.vmap(lambda a, b: a * b), in_dims=(0, None))(_t(M, B[None]), _t(M, B)))
    _both(lambda M: M.func.vmap(lambda a: a.outer(a), chunk_size=1)(_t(M, B)))


def test_gradients_flow_through_vmap() -> None:
    def call(M: Any):
        x = _t(M, B).requires_grad_()
        out = M.func.vmap(lambda r: (r.tanh() * r).sum())(x)
        return M.autograd.grad((out * _t(M, np.arange(4.0))).sum(), x)

    _both(call)


@pytest.mark.parametrize("framework", ["ember", "torch"])
def test_vmap_randomness(framework: str) -> None:
    M = _fw(framework)
    x = M.zeros(3, 2)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        M.func.vmap(lambda a: a + M.randn(2))(x)
    same = M.func.vmap(lambda a: a + M.rand(2), randomness="same")(x)
    assert M.equal(same[0], same[1]) and M.equal(same[1], same[2])
    different = M.func.vmap(lambda a: a + M.rand(2), randomness="different")(x)
    assert not M.equal(different[0], different[1])
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        M.func.vmap(lambda a: a, randomness="bogus")


@pytest.mark.parametrize("framework", ["ember", "torch"])
def test_errors(framework: str) -> None:
    M = _fw(framework)
    f, x, y = M.func, _t(M, X), _t(M, Y)
    cases = [
        (RuntimeError, "scalar Tensor", lambda: f.grad(lambda a: a * 2)(x)),
        (RuntimeError, "to return a Tensor", lambda: f.grad(lambda a: 3.0)(x)),
        (
            RuntimeError,
            "should be a tuple: \\(output, aux\\)",
            lambda: f.grad(lambda a: a.sum(), has_aux=True)(x),
        ),
        (RuntimeError, "only 2 positional inputs", lambda: f.grad(lambda a, b: a.sum(), argnums=2)(x, y)),
        (RuntimeError, "argnums must be non-empty", lambda: f.grad(lambda a, b: a.sum(), argnums=())(x, y)),
        (RuntimeError, "argnums must be int or Tuple", lambda: f.grad(lambda a: a.sum(), argnums=1.0)(x)),
        (ValueError, "must be Tensor", lambda: f.grad(lambda a: a.sum())(3.0)),
        (RuntimeError, "Mismatch in shape", lambda: f.vjp(lambda a: a * 2, x)[1](M.ones(2, dtype=M.float64))),
        (ValueError, "same size in the mapped dimension", lambda: f.vmap(lambda a, b: a)(y, M.ones(3, 3))),
        (ValueError, "not compatible with the structure", lambda: f.vmap(lambda a: a, in_dims=(0, 0))(y)),
        (ValueError, "expected `in_dims` to be int", lambda: f.vmap(lambda a: a, in_dims=None)(y)),
        (ValueError, "must only return Tensors", lambda: f.vmap(lambda a: 3)(y)),
        (
            ValueError,
            "We cannot vmap over non-Tensor",
            lambda: f.vmap(lambda a, s: a, in_dims=(0, 0))(y, 2.0),
        ),
        (
            ValueError,
            "expected in_dim to satisfy -2 <= in_dim < 2",
            lambda: f.vmap(lambda a: a, in_dims=2)(y),
        ),
        (ValueError, "got no inputs", lambda: f.vmap(lambda: x)()),
        (
            ValueError,
            "chunk_size should be None or greater than 0",
            lambda: f.vmap(lambda a: a, chunk_size=0),
        ),
        (
            ValueError,
            "can not return a BatchedTensor when out_dim is None",
            lambda: f.vmap(lambda a: a, out_dims=None)(y),
        ),
    ]
    for kind, fragment, call in cases:
        with pytest.raises(kind, match=fragment):
            call()


# ---- functional_call ----------------------------------------------------------------------


def _net(M: Any):
    """Linear, BatchNorm1d (a buffer), tanh, Linear; weights from a fixed seed in both."""
    rng = np.random.default_rng(3)
    net = M.nn.Sequential(M.nn.Linear(3, 4), M.nn.BatchNorm1d(4), M.nn.Tanh(), M.nn.Linear(4, 2)).double()
    with M.no_grad():
        for p in net.parameters():
            p.copy_(_t(M, rng.normal(size=tuple(p.shape))))
    return net


def test_functional_call_substitutes_and_restores() -> None:
    def call(M: Any):
        net = _net(M)
        before = {k: v.clone() for k, v in net.state_dict().items()}
        params = {k: v.detach() * 0.5 for k, v in net.named_parameters()}
        out = M.func.functional_call(net, params, (_t(M, B),))
        partial = M.func.functional_call(net, {"3.bias": _t(M, np.ones(2))}, _t(M, B))
        by_kwargs = M.func.functional_call(
            net, ({"0.weight": params["0.weight"]}, {}), (), {"input": _t(M, B)}
        )
        for k, v in net.state_dict().items():  # restored (running stats update as in a normal call)
            if "running" not in k and "num_batches" not in k:
                assert M.equal(v, before[k]), k
        return out, partial, by_kwargs

    _both(call)


def test_functional_call_gradients_reach_the_given_tensors() -> None:
    def call(M: Any):
        net = _net(M).eval()
        params = {k: v.detach().requires_grad_() for k, v in net.named_parameters()}
        loss = M.func.functional_call(net, params, (_t(M, B),)).pow(2).sum()
        grads = M.autograd.grad(loss, list(params.values()))
        assert all(p.grad is None for p in net.parameters())
        return grads

    _both(call)


@pytest.mark.parametrize("framework", ["ember", "torch"])
def test_functional_call_tied_weights_and_strict(framework: str) -> None:
    M = _fw(framework)
    a, b = M.nn.Linear(2, 2, bias=False), M.nn.Linear(2, 2, bias=False)
    b.weight = a.weight
    net = M.nn.Sequential(a, b)
    w = M.eye(2) * 2
    x = M.ones(1, 2)
    assert M.equal(M.func.functional_call(net, {"0.weight": w}, (x,)), x * 4)  # both layers see w
    assert M.equal(
        M.func.functional_call(net, {"0.weight": w}, (x,), tie_weights=False), (x * 2) @ a.weight.T
    )
    with pytest.raises(ValueError, match="which are tied"):
        M.func.functional_call(net, {"0.weight": w, "1.weight": w * 2}, (x,))
    lin = M.nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'bias'"):
        M.func.functional_call(lin, {"weight": w}, (x,), strict=True)
    with pytest.raises(RuntimeError, match="Unexpected key\\(s\\): 'foo'"):
        M.func.functional_call(lin, {"weight": w, "bias": x[0], "foo": x}, (x,), strict=True)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        M.func.functional_call(lin, ({"weight": w}, {"weight": w}), (x,))


def test_per_sample_gradients_recipe() -> None:
    """torch.func's tutorial: vmap(grad(loss)) over a batch, with functional_call."""

    def call(M: Any):
        net = _net(M).eval()
        params = {k: v.detach() for k, v in net.named_parameters()}
        buffers = {k: v.detach() for k, v in net.named_buffers()}
        data, targets = _t(M, B), M.tensor([0, 1, 1, 0])

        def loss_fn(params: dict, buffers: dict, sample: Any, target: Any) -> Any:
            pred = M.func.functional_call(net, (params, buffers), (sample.unsqueeze(0),))
            return M.nn.functional.cross_entropy(pred, target.unsqueeze(0))

        per_sample = M.func.vmap(M.func.grad(loss_fn), in_dims=(None, None, 0, 0))(
            params, buffers, data, targets
        )
        # the same as one backward per sample
        for i in range(4):
            net.zero_grad()
            M.nn.functional.cross_entropy(net(data[i : i + 1]), targets[i : i + 1]).backward()
            for k, p in net.named_parameters():
                assert_close(
                    per_sample[k][i], p.grad.numpy() if M is ember else p.grad, rtol=1e-9, atol=1e-12
                )
        return per_sample

    _both(call)
