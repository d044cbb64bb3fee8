"""ember.autograd.forward_ad (dual tensors, tangents computed from reverse mode) compared with
torch's forward AD: elementwise ops, reductions, matmul, indexing, nn layers, in-place ops
and views, levels and misuse errors; and the torch.func additions that build on the same
machinery (linearize) or sit beside it (stack_module_state, functionalize,
replace_all_batch_norm_modules_, jacfwd and hessian against torch)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

pytestmark = requires_torch

RNG = np.random.default_rng(0)


def _forward(T, fn, primals, tangents):
    """(primal, tangent) of fn at the duals of `primals` with `tangents`, as arrays."""
    fw = T.autograd.forward_ad
    with fw.dual_level():
        duals = [fw.make_dual(T.tensor(p), T.tensor(t)) for p, t in zip(primals, tangents)]
        out = fw.unpack_dual(fn(T, *duals))
        return out.primal.detach().numpy(), None if out.tangent is None else out.tangent.detach().numpy()


def _inplace(T, x):
    y = x.clone()
    y[0] = y[0] * 3
    y.mul_(x)
    return y


def _copy_into_view(T, x):
    b = T.zeros(3, 4)
    b[:2].copy_(x[:2])  # a tensor without tangent gets one through its view
    return b


CASES = {
    "elementwise": (lambda T, x, y: x * y + x.exp() / (1 + y**2), [(3,), (3,)]),
    "activations": (lambda T, x: T.relu(x) * x.sigmoid() + x.tanh() - T.nn.functional.gelu(x), [(3, 4)]),
    "reductions": (lambda T, x: (x**2).sum(1) + x.mean(1) * x.std(1) + x.amax(1), [(3, 4)]),
    "matmul": (lambda T, x, y: x @ y, [(3, 4), (4, 2)]),
    "indexing": (lambda T, x: x[1:, [0, 2]] * x[0, 1], [(3, 4)]),
    "views": (lambda T, x: x.view(12)[2:8].reshape(2, 3).t() * 2, [(3, 4)]),
    "softmax": (lambda T, x: T.softmax(x, -1) + T.logsumexp(x, 1, keepdim=True), [(3, 4)]),
    "layer_norm": (lambda T, x, w: T.nn.functional.layer_norm(x, (4,), w), [(3, 4), (4,)]),
    "linear": (lambda T, x, w, b: T.nn.functional.linear(x, w, b), [(3, 4), (2, 4), (2,)]),
    "conv2d": (lambda T, x, w: T.nn.functional.conv2d(x, w, padding=1), [(1, 2, 5, 5), (3, 2, 3, 3)]),
    "cross_entropy": (lambda T, x: T.nn.functional.cross_entropy(x, T.tensor([0, 1, 3])), [(3, 4)]),
    "inplace": (_inplace, [(3, 4)]),
    "copy_into_view": (_copy_into_view, [(3, 4)]),
    "zero_derivative": (lambda T, x: x.sign() + x.round(), [(3,)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tangents_match_torch(name):
    import torch

    fn, shapes = CASES[name]
    primals = [RNG.normal(size=s) for s in shapes]
    tangents = [RNG.normal(size=s) for s in shapes]
    value, tangent = _forward(ember, fn, primals, tangents)
    value_t, tangent_t = _forward(torch, fn, primals, tangents)
    np.testing.assert_allclose(value, value_t, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(tangent, tangent_t, rtol=1e-6, atol=1e-8)


def _network_tangent(T, x, t):
    fw = T.autograd.forward_ad
    net = T.nn.Sequential(T.nn.Linear(3, 5), T.nn.BatchNorm1d(5), T.nn.Tanh(), T.nn.Linear(5, 2))
    with T.no_grad():
        for p in net.parameters():
            p.copy_(T.tensor(np.linspace(-1, 1, p.numel(), dtype=np.float32).reshape(p.shape)))
    with fw.dual_level():
        primal, tangent = fw.unpack_dual(net(fw.make_dual(T.tensor(x), T.tensor(t))))
    assert primal.requires_grad  # the parameters require grad
    return tangent


def test_modules_and_parameters():
    import torch

    x, t = RNG.normal(size=(4, 3)).astype(np.float32), RNG.normal(size=(4, 3)).astype(np.float32)
    assert_close(_network_tangent(ember, x, t), _network_tangent(torch, x, t), rtol=1e-4, atol=1e-5)


def test_non_float_and_unrelated_results_have_no_tangent(T):
    fw = T.autograd.forward_ad
    with fw.dual_level():
        d = fw.make_dual(T.tensor([1.0, -2.0]), T.tensor([1.0, 1.0]))
        assert fw.unpack_dual(d.argmax()).tangent is None
        assert fw.unpack_dual(d > 0).tangent is None
        assert fw.unpack_dual(d.detach()).tangent is None
        assert fw.unpack_dual(T.tensor([3.0])).tangent is None
        primal = fw.unpack_dual(d * 2).primal
        assert fw.unpack_dual(primal * 3).tangent is None  # the primal has no tangent


def test_unpack_gives_back_the_tangent_and_levels(T):
    fw = T.autograd.forward_ad
    t = T.tensor([1.0, 2.0])
    with fw.dual_level() as level:
        assert level == 0
        d = fw.make_dual(T.tensor([3.0, 4.0]), t)
        unpacked = fw.unpack_dual(d)
        assert unpacked.tangent is t and isinstance(unpacked, fw.UnpackedDualTensor)
        assert not unpacked.primal.requires_grad
        primal, tangent = unpacked  # a named tuple
        with pytest.raises(RuntimeError, match="Nested forward mode AD"):
            fw.enter_dual_level()
    assert fw.unpack_dual(d).tangent is None  # exiting the level drops the tangents
    assert fw.enter_dual_level() == 0
    fw.exit_dual_level()
    with pytest.raises(RuntimeError, match="positive number"):
        fw.exit_dual_level()


def test_dual_level_as_decorator(T):
    fw = T.autograd.forward_ad

    @fw.dual_level()
    def jvp_of_square(x, t):
        return fw.unpack_dual(fw.make_dual(x, t) ** 2).tangent

    assert_close(jvp_of_square(T.tensor([1.0, 3.0]), T.tensor([1.0, 1.0])), T.tensor([2.0, 6.0]))
    with pytest.raises(RuntimeError, match="no level exists"):
        fw.make_dual(T.tensor([1.0]), T.tensor([1.0]))


def test_misuse_errors(T):
    fw = T.autograd.forward_ad
    x = T.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="no level exists"):
        fw.make_dual(x, T.ones(3))
    with fw.dual_level():
        with pytest.raises(
            RuntimeError, match=r"Tensor is of size \[3\] while the given forward gradient is of size \[2\]"
        ):
            fw.make_dual(x, T.ones(2))
        with pytest.raises(ValueError, match="Expected primal to be floating point"):
            fw.make_dual(T.arange(3), T.ones(3))
        with pytest.raises(ValueError, match="Expected tangent to be floating point"):
            fw.make_dual(x, T.arange(3))
        d = fw.make_dual(x, T.ones(3))
        with pytest.raises(RuntimeError, match="already has a forward gradient"):
            fw.make_dual(d, T.ones(3))
        with pytest.raises(RuntimeError, match="Invalid level"):
            fw.make_dual(x, T.ones(3), level=5)


def test_forward_over_reverse_hessian_vector_product(T):
    fw = T.autograd.forward_ad
    w = T.tensor([0.5, -1.0, 2.0], dtype=T.float64, requires_grad=True)
    v = T.tensor([1.0, 0.5, -1.0], dtype=T.float64)
    with fw.dual_level():
        wd = fw.make_dual(w, v)
        (g,) = T.autograd.grad((wd.sin() * wd).sum(), wd, create_graph=True)
        hvp = fw.unpack_dual(g).tangent
    x = w.detach()
    assert_close(hvp, (2 * x.cos() - x * x.sin()) * v)


def test_reverse_over_forward_matches_finite_differences():
    """A loss on the tangent, differentiated by reverse mode. PyTorch's answer through
    batch_norm is wrong here (its forward rule for batch_norm is not differentiated
    correctly, docs/differences.md); ember's agrees with finite differences."""
    fw = ember.autograd.forward_ad
    x, t, w0 = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3)), RNG.normal(size=(2, 3))

    def loss(w_array, backward):
        w = ember.tensor(w_array, requires_grad=True)
        with fw.dual_level():
            d = fw.make_dual(ember.tensor(x), ember.tensor(t))
            y = ember.nn.functional.batch_norm(d @ w.t(), None, None, training=True).tanh()
            value = (fw.unpack_dual(y).tangent ** 2).sum()
            if not backward:
                return value.item()
            value.backward()
            return w.grad.numpy()

    numeric = np.zeros_like(w0)
    for i in np.ndindex(w0.shape):
        e = np.zeros_like(w0)
        e[i] = 1e-6
        numeric[i] = (loss(w0 + e, False) - loss(w0 - e, False)) / 2e-6
    np.testing.assert_allclose(loss(w0, True), numeric, rtol=1e-5, atol=1e-6)


def test_no_trace_outside_a_level():
    """Nothing of forward AD runs per op: an op's result outside a level is recorded as before."""
    a = ember.tensor([1.0, 2.0])
    assert not (a * 2).requires_grad
    assert ember.autograd.forward_ad._levels == []


# ---- torch.func additions ---------------------------------------------------------------------


def test_linearize(T):
    x = T.tensor(RNG.normal(size=3))
    out, jvp_fn = T.func.linearize(lambda a: a.sin() * 2, x)
    assert_close(out, x.sin() * 2)
    assert not out.requires_grad
    assert_close(jvp_fn(T.ones(3, dtype=T.float64)), 2 * x.cos())
    _, jvp_fn2 = T.func.linearize(lambda a, b: (a * b, a + b), x, x)
    prod, total = jvp_fn2(T.ones(3, dtype=T.float64), T.ones(3, dtype=T.float64))
    assert_close(prod, 2 * x)
    assert_close(total, T.full((3,), 2.0, dtype=T.float64))
    with pytest.raises(RuntimeError, match="doesn't match the shape"):
        jvp_fn(T.ones(2, dtype=T.float64))
    with pytest.raises(RuntimeError, match="doesn't match the dtype"):
        jvp_fn(T.ones(3))
    with pytest.raises(RuntimeError):
        jvp_fn(T.ones(3, dtype=T.float64), T.ones(3, dtype=T.float64))


def test_stack_module_state_ensemble(T):
    models = [T.nn.Linear(2, 3) for _ in range(3)]
    params, buffers = T.func.stack_module_state(models)
    assert buffers == {}
    assert params["weight"].shape == (3, 3, 2) and params["weight"].is_leaf and params["weight"].requires_grad
    base = T.nn.Linear(2, 3)
    x = T.randn(5, 2)
    outs = T.func.vmap(lambda p, b, xx: T.func.functional_call(base, (p, b), (xx,)), in_dims=(0, 0, None))(
        params, buffers, x
    )
    for i, m in enumerate(models):
        assert_close(outs[i], m(x))
    norms = [T.nn.BatchNorm1d(2) for _ in range(2)]
    _, buffers = T.func.stack_module_state(norms)
    assert sorted(buffers) == ["num_batches_tracked", "running_mean", "running_var"]
    assert buffers["running_mean"].shape == (2, 2) and not buffers["running_mean"].requires_grad
    with pytest.raises(RuntimeError, match="at least one model"):
        T.func.stack_module_state([])
    with pytest.raises(RuntimeError, match="same class"):
        T.func.stack_module_state([T.nn.Linear(2, 3), T.nn.ReLU()])
    norms[1].eval()
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        T.func.stack_module_state(norms)
    models[1].bias.requires_grad_(False)  # a frozen bias in one model only: not stacked silently
    with pytest.raises(RuntimeError, match="bias from each model to have the same .requires_grad"):
        T.func.stack_module_state(models)


def test_replace_all_batch_norm_modules_(T):
    net = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.BatchNorm1d(2))
    assert T.func.replace_all_batch_norm_modules_(net) is net
    bn = net[1]
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    assert not bn.track_running_stats
    net.eval()
    x = T.tensor([[1.0, 2.0], [3.0, 5.0]])
    h = net[0](x)
    assert_close(net(x), (h - h.mean(0)) / (h.var(0, unbiased=False) + 1e-5).sqrt())  # batch statistics


def test_debug_unwrap():
    """ember's transforms hand the function plain tensors: nothing to unwrap (inside vmap it
    is the element, where torch's is the whole batch)."""
    x = ember.tensor([1.0, 2.0])
    assert ember.func.debug_unwrap(x) is x
    seen = []
    ember.func.vmap(lambda row: seen.append(ember.func.debug_unwrap(row)) or row)(x)
    assert_close(seen[1], ember.tensor(2.0))


def test_functionalize(T):
    f = T.func.functionalize(lambda a: a.add_(1) * 2)
    y = T.zeros(2)
    assert_close(f(y), T.full((2,), 2.0))
    assert_close(y, T.ones(2))  # the input's mutation is kept, as in torch
    assert_close(T.func.functionalize(lambda a: a * 3, remove="mutations_and_views")(y), T.full((2,), 3.0))
    with pytest.raises(RuntimeError, match="invalid argument for remove"):
        T.func.functionalize(lambda a: a, remove="views")


def test_jacfwd_and_hessian_match_torch():
    import torch

    x = RNG.normal(size=3)

    def f(a):
        return (a.sin() * a.sum()).exp()

    def g(a, b):
        return (a * b.sum()).tanh().sum()

    assert_close(ember.func.jacfwd(f)(ember.tensor(x)), torch.func.jacfwd(f)(torch.tensor(x)))
    for ours, theirs in zip(
        ember.func.jacfwd(g, argnums=(0, 1))(ember.tensor(x), ember.tensor(x[:2])),
        torch.func.jacfwd(g, argnums=(0, 1))(torch.tensor(x), torch.tensor(x[:2])),
    ):
        assert_close(ours, theirs)
    assert_close(
        ember.func.hessian(g)(ember.tensor(x), ember.tensor(x[:2])),
        torch.func.hessian(g)(torch.tensor(x), torch.tensor(x[:2])),
    )


def test_gradcheck_checks_forward_mode():
    x = ember.tensor(RNG.normal(size=(3, 2)), requires_grad=True)
    w = ember.tensor(RNG.normal(size=(2, 2)), requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda a, b: ((a @ b).tanh(), a.sum(0)), (x, w), check_forward_ad=True, check_backward_ad=False
    )
    assert ember.autograd.gradgradcheck(lambda a, b: (a @ b).sin(), (x, w), check_fwd_over_rev=True)

    class WrongBackward(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 3 * a * g  # should be 2 * a * g

    with pytest.raises(ember.autograd.GradcheckError, match="forward mode mismatch"):
        ember.autograd.gradcheck(WrongBackward.apply, (x,), check_forward_ad=True, check_backward_ad=False)

    # complex inputs and outputs: each element's two parts, as the backward check counts them
    z = ember.tensor(RNG.normal(size=3) + 1j * RNG.normal(size=3), requires_grad=True)
    r = ember.tensor(RNG.normal(size=2), requires_grad=True)
    for f, args in ((lambda a: a * a.exp(), (z,)), (lambda a: a.abs(), (z,)), (lambda a: a * (1 + 2j), (r,))):
        assert ember.autograd.gradcheck(f, args, check_forward_ad=True)
    with pytest.raises(ember.autograd.GradcheckError, match="forward mode mismatch"):
        ember.autograd.gradcheck(WrongBackward.apply, (z,), check_forward_ad=True, check_backward_ad=False)


def test_custom_function_jvp(T):
    fw = T.autograd.forward_ad

    class SinScale(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_forward(x)
            ctx.k = k
            return x * k, x.sin()

        @staticmethod
        def jvp(ctx, tx, tk):
            assert tk is None  # not a tensor
            (x,) = ctx.saved_tensors
            return tx * ctx.k, tx * x.cos()

        @staticmethod
        def backward(ctx, g1, g2):
            raise RuntimeError("forward mode must not call backward")

    x = T.tensor([1.0, 2.0])
    t = T.tensor([1.0, -1.0])
    with fw.dual_level():
        d = fw.make_dual(x, t)
        scaled, sine = SinScale.apply(d.exp(), 3.0)
        assert_close(fw.unpack_dual(scaled).tangent, 3 * x.exp() * t)
        assert_close(fw.unpack_dual((sine * 2).sum()).tangent, (2 * x.exp().cos() * x.exp() * t).sum())
        plain, _ = SinScale.apply(x, 3.0)  # no tangent in, none out, jvp not called
        assert fw.unpack_dual(plain).tangent is None


def test_custom_function_without_jvp_uses_its_backward():
    """PyTorch raises for a custom Function without jvp in forward mode; ember differentiates
    its backward (docs/differences.md)."""
    fw = ember.autograd.forward_ad

    class Double(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with fw.dual_level():
        d = fw.make_dual(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 3.0]))
        assert_close(fw.unpack_dual(Double.apply(d)).tangent, ember.tensor([2.0, 6.0]))
    assert ember.autograd.function._apply_user is ember.autograd.forward_ad._plain_apply_user


def test_a_long_loop_in_one_level_keeps_only_the_live_duals():
    """The level holds its duals' seeds weakly: a dual per step, dropped after the step,
    leaves nothing behind (memory, and the work of each unpack_dual, stay flat)."""
    import gc
    import weakref

    fw = ember.autograd.forward_ad
    with fw.dual_level():
        level = fw._levels[-1]
        kept = fw.make_dual(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 0.0]))
        refs = []
        for step in range(20):
            primal, tangent = ember.tensor([float(step), 1.0]), ember.tensor([1.0, 1.0])
            refs += [weakref.ref(primal._data), weakref.ref(tangent)]
            d = fw.make_dual(primal, tangent)
            assert_close(fw.unpack_dual((d * d).sum()).tangent, 2 * primal.sum())
            del d, primal, tangent
        gc.collect()
        seeds, tangents = level.live()  # (dead entries are dropped when the level is next used)
        assert len(seeds) == 1 and len(level.direct) == 1
        assert all(r() is None for r in refs)  # the level keeps nothing of the steps
        assert_close(fw.unpack_dual(kept * 3).tangent, ember.tensor([3.0, 0.0]))


@requires_torch
def test_complex_duals_match_torch():
    """A complex dual's tangent (the real Jacobian applied to the tangent, as PyTorch's),
    through holomorphic ops, non-holomorphic ones and complex sums."""
    import torch

    rng = np.random.default_rng(0)
    p = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    t = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    fns = [
        lambda z: z * z,
        lambda z: z.exp() / (z + 3),
        lambda z: z.abs(),
        lambda z: z * z.conj(),
        lambda z: z.angle() + z.real,
        lambda z: (z * z).sum(),
    ]
    for f in fns:
        got = []
        for T in (ember, torch):
            fw = T.autograd.forward_ad
            with fw.dual_level():
                d = fw.make_dual(T.tensor(p), T.tensor(t))
                got.append(np.asarray(fw.unpack_dual(f(d)).tangent.detach().numpy()))
        np.testing.assert_allclose(got[0], got[1], rtol=1e-6)


def test_custom_function_whose_backward_is_not_differentiable_raises():
    """A backward computed from detached values gives no tangent: unpack_dual must raise,
    not report a zero (or partial) tangent; the class is left as it was."""
    fw = ember.autograd.forward_ad

    class Detached(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.detach() * 2

    backward = Detached.__dict__["backward"]
    with fw.dual_level():
        d = fw.make_dual(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 3.0]))
        with pytest.raises(RuntimeError, match="Detached's backward is not differentiable"):
            fw.unpack_dual(Detached.apply(d))
        with pytest.raises(RuntimeError, match="not differentiable"):
            fw.unpack_dual(Detached.apply(d) + d)  # not d's tangent alone
    assert Detached.__dict__["backward"] is backward

    class Scale(ember.autograd.Function):  # the weight's gradient is not differentiable
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w, (g * x).detach()

    w = ember.tensor([3.0, 4.0], requires_grad=True)
    with fw.dual_level():  # no tangent goes through the weight: no error
        d = fw.make_dual(ember.tensor([1.0, 2.0]), ember.ones(2))
        assert_close(fw.unpack_dual(Scale.apply(d, w)).tangent, w.detach())

    # func.jvp and linearize take tangents from backwards the same way: checked the same way
    x = ember.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Detached's backward is not differentiable"):
        ember.func.jvp(Detached.apply, (x,), (ember.ones(2),))
    with pytest.raises(RuntimeError, match="not differentiable"):
        ember.func.linearize(Detached.apply, x)[1](ember.ones(2))
    assert Detached.__dict__["backward"] is backward
    assert_close(ember.func.jvp(lambda a: Scale.apply(a, w), (x,), (ember.ones(2),))[1], w.detach())
