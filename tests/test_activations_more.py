"""The less common activations (hardswish, mish, selu, shrinks, threshold, PReLU, GLU, ...)
against PyTorch: values and dtypes, gradients (at the kinks too), inplace=True, reprs, and
the float64 gradcheck."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from conftest import assert_close, requires_torch
from ember import nn
from ember.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(0)

# name and keyword arguments, the same for ember.nn.functional and torch.nn.functional
ELEMENTWISE = [
    ("hardswish", {}),
    ("hardsigmoid", {}),
    ("mish", {}),
    ("selu", {}),
    ("celu", {}),
    ("celu", {"alpha": 0.5}),
    ("elu", {"alpha": 1.5}),  # the op that selu and celu share
    ("softsign", {}),
    ("tanhshrink", {}),
    ("threshold", {"threshold": 0.5, "value": -2.0}),
    ("threshold", {"threshold": -1.0, "value": 20.0}),
    ("hardshrink", {}),
    ("hardshrink", {"lambd": 1.0}),
    ("softshrink", {}),
    ("softshrink", {"lambd": 1.0}),
]
IDS = [f"{name}-{kwargs}" for name, kwargs in ELEMENTWISE]

# every kink of the functions above (+-3, +-lambd, the thresholds, 0) and both tails
KINKS = [-3.0, 3.0, -1.0, 1.0, -0.5, 0.5, 0.0, -0.0]
TAILS = [30.0, -30.0, 1e4, -1e4]


def call(lib, name, kwargs, x):
    return getattr(lib.nn.functional, name)(x, **kwargs)


def run_both(fn, arrays, up=None):
    """fn(lib, *tensors) in ember and in torch, every array an input that requires grad;
    returns the two outputs and the two lists of gradients for the upstream gradient up."""
    import torch

    out, grads = [], []
    for lib in (ember, torch):
        inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = fn(lib, *inputs)
        g = up if up is not None else np.linspace(-1, 2, y.numel()).reshape(tuple(y.shape))
        y.backward(lib.tensor(g.astype(arrays[0].dtype)))
        out.append(y)
        grads.append([t.grad for t in inputs])
    return out, grads


def check_both(fn, arrays, rtol=1e-6, atol=1e-7, up=None):
    (ours, theirs), (our_grads, their_grads) = run_both(fn, arrays, up)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert_close(ours, theirs, rtol, atol)
    for e, t in zip(our_grads, their_grads):
        assert e.dtype == ours.dtype
        assert_close(e, t, rtol, atol)


# ---- elementwise: values, dtypes, gradients -----------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", ELEMENTWISE, ids=IDS)
def test_matches_torch(name, kwargs, dtype):
    x = np.concatenate([rng.standard_normal(40) * 3, KINKS, TAILS]).astype(dtype).reshape(4, 13)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from NumPy in the tails either
        check_both(
            lambda lib, t: call(lib, name, kwargs, t), [x], rtol=1e-5 if dtype == np.float32 else 1e-12
        )


@requires_torch
@pytest.mark.parametrize("name, kwargs", ELEMENTWISE, ids=IDS)
def test_gradient_at_the_kinks_matches_torch(name, kwargs):
    # an upstream gradient of ones shows each local slope: hardswish's is 0 at -3 and 1 at +3,
    # hardsigmoid's 0 at both, the shrinks' 0 at +-lambd, threshold's 0 at the threshold
    x = np.array(KINKS + [-2.0, 2.0, 2.9, -2.9], dtype=np.float32)
    check_both(lambda lib, t: call(lib, name, kwargs, t), [x], up=np.ones_like(x))


@requires_torch
def test_hardswish_and_hardsigmoid_slopes_at_the_kinks():
    x = ember.tensor([-3.0, 3.0], requires_grad=True)
    F.hardswish(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]
    x.grad = None
    F.hardsigmoid(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


@requires_torch
@pytest.mark.parametrize("name, kwargs", ELEMENTWISE, ids=IDS)
def test_nan_and_infinities_give_torch_values(name, kwargs):
    import torch

    x = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
    ours, theirs = call(ember, name, kwargs, ember.tensor(x)), call(torch, name, kwargs, torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)  # NaN where torch has NaN


@pytest.mark.parametrize("name, kwargs", ELEMENTWISE, ids=IDS)
def test_gradcheck_in_float64(name, kwargs):
    x = rng.uniform(-4, 4, (3, 5))
    for kink in (-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0):  # finite differences across a kink are meaningless
        x = np.where(np.abs(x - kink) < 0.05, kink + 0.2, x)
    t = ember.tensor(x, requires_grad=True)
    assert gradcheck(lambda a: call(ember, name, kwargs, a), (t,))


@pytest.mark.parametrize("name", ["hardswish", "mish", "selu", "celu", "softsign", "tanhshrink"])
def test_second_derivative(name):
    t = ember.tensor(rng.uniform(-2.5, 2.5, (2, 3)), requires_grad=True)
    assert gradgradcheck(lambda a: call(ember, name, {}, a), (t,))


@requires_torch
@pytest.mark.parametrize(
    "name", ["hardshrink", "softshrink", "threshold", "hardswish", "selu", "celu", "elu", "mish"]
)
def test_second_derivative_matches_torch(name):
    # torch has no double backward for hardsigmoid: not compared. At 0, elu's is torch's 0
    # and mish's the true 2 tanh'(softplus(0)) sigmoid(0) = 0.64
    import torch

    kwargs = {"threshold": 0.5, "value": -2.0} if name == "threshold" else {}
    x = np.array([-25.0, -2.0, -0.2, 0.0, 0.2, 2.0, 25.0])
    results = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad(call(lib, name, kwargs, t).pow(2).sum(), t, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), t)
        results.append(gg)
    assert_close(*results, rtol=1e-12, atol=1e-300)


@requires_torch
def test_threshold_of_integer_tensor_matches_torch():
    import torch

    x = np.array([1, 2, 3, -4])
    ours, theirs = F.threshold(ember.tensor(x), 2, 0), torch.nn.functional.threshold(torch.tensor(x), 2, 0)
    assert ours.dtype == ember.int64 and ours.tolist() == theirs.tolist()


@requires_torch
def test_softsign_and_tanhshrink_of_integer_tensor_give_float32_as_torch():
    import torch

    x = np.array([1, -2, 0])
    for name in ("softsign", "tanhshrink"):
        ours, theirs = call(ember, name, {}, ember.tensor(x)), call(torch, name, {}, torch.tensor(x))
        assert ours.dtype == ember.float32
        assert_close(ours, theirs)


# ---- inplace=True --------------------------------------------------------------------------

INPLACE = [
    ("hardswish", {}),
    ("hardsigmoid", {}),
    ("mish", {}),
    ("selu", {}),
    ("celu", {"alpha": 0.5}),
    ("threshold", {"threshold": 0.1, "value": 7.0}),
]


@requires_torch
@pytest.mark.parametrize("name, kwargs", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_overwrites_its_input_and_keeps_the_gradient(name, kwargs):
    import torch

    x = np.array([-4.0, -3.0, -1.0, 0.0, 0.5, 3.0, 4.0], dtype=np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    assert call(ember, name, {**kwargs, "inplace": True}, e) is e
    call(torch, name, {**kwargs, "inplace": True}, t)
    assert_close(e, t)

    def through_inplace(lib, leaf):
        y = leaf * 2
        out = call(lib, name, {**kwargs, "inplace": True}, y)
        assert out is y
        return y

    check_both(through_inplace, [x / 2])


@pytest.mark.parametrize("name, kwargs", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_on_a_leaf_that_requires_grad_is_an_error(name, kwargs):
    with pytest.raises(RuntimeError, match="leaf Variable"):
        call(ember, name, {**kwargs, "inplace": True}, ember.ones(2, requires_grad=True))


@requires_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.Hardswish(inplace=True),
        lambda lib: lib.nn.Hardsigmoid(True),
        lambda lib: lib.nn.Mish(inplace=True),
        lambda lib: lib.nn.SELU(True),
        lambda lib: lib.nn.CELU(0.5, True),
        lambda lib: lib.nn.Threshold(0.1, 20.0, True),
    ],
)
def test_inplace_module_overwrites_its_input(make):
    import torch

    x = rng.standard_normal((3, 4)).astype(np.float32) * 3
    e, t = ember.tensor(x), torch.tensor(x)
    assert make(ember)(e) is e
    make(torch)(t)
    assert_close(e, t)


# ---- modules ---------------------------------------------------------------------------------

MODULES = [
    lambda lib: lib.nn.Hardswish(),
    lambda lib: lib.nn.Hardsigmoid(),
    lambda lib: lib.nn.Mish(),
    lambda lib: lib.nn.SELU(),
    lambda lib: lib.nn.CELU(alpha=0.7),
    lambda lib: lib.nn.Softsign(),
    lambda lib: lib.nn.Tanhshrink(),
    lambda lib: lib.nn.Threshold(0.1, 20.0),
    lambda lib: lib.nn.Hardshrink(),
    lambda lib: lib.nn.Softshrink(0.3),
    lambda lib: lib.nn.LogSigmoid(),
    lambda lib: lib.nn.Softmin(dim=1),
    lambda lib: lib.nn.GLU(),
    lambda lib: lib.nn.GLU(dim=1),
]


@requires_torch
@pytest.mark.parametrize("make", MODULES)
def test_module_matches_torch(make):
    x = (rng.standard_normal((4, 6, 2)) * 3).astype(np.float32)
    check_both(lambda lib, t: make(lib)(t), [x], rtol=1e-5, atol=1e-6)


REPRS = [
    lambda lib: lib.nn.Hardswish(),
    lambda lib: lib.nn.Hardswish(inplace=True),  # torch's repr shows no inplace here
    lambda lib: lib.nn.Hardsigmoid(True),
    lambda lib: lib.nn.Mish(),
    lambda lib: lib.nn.Mish(True),
    lambda lib: lib.nn.SELU(),
    lambda lib: lib.nn.SELU(inplace=True),
    lambda lib: lib.nn.CELU(),
    lambda lib: lib.nn.CELU(2, True),
    lambda lib: lib.nn.Softsign(),
    lambda lib: lib.nn.Tanhshrink(),
    lambda lib: lib.nn.Threshold(0.1, 20),
    lambda lib: lib.nn.Threshold(0.1, 20.0, inplace=True),
    lambda lib: lib.nn.Hardshrink(),
    lambda lib: lib.nn.Hardshrink(1),
    lambda lib: lib.nn.Softshrink(),
    lambda lib: lib.nn.Softshrink(0.25),
    lambda lib: lib.nn.PReLU(),
    lambda lib: lib.nn.PReLU(3, 0.1),
    lambda lib: lib.nn.LogSigmoid(),
    lambda lib: lib.nn.Softmin(),
    lambda lib: lib.nn.Softmin(dim=1),
    lambda lib: lib.nn.GLU(),
    lambda lib: lib.nn.GLU(0),
    lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.PReLU(8), lib.nn.GLU(), lib.nn.Hardswish()),
]


@requires_torch
@pytest.mark.parametrize("make", REPRS)
def test_module_repr_matches_torch(make):
    import torch

    assert repr(make(ember)) == repr(make(torch))


@requires_torch
def test_every_new_activation_is_exported_like_torch():
    import torch

    modules = "CELU GLU Hardshrink Hardsigmoid Hardswish LogSigmoid Mish PReLU SELU Softmin".split()
    modules += "Softshrink Softsign Tanhshrink Threshold".split()
    functions = "celu glu hardshrink hardsigmoid hardswish mish prelu selu softshrink".split()
    functions += "softsign tanhshrink threshold".split()
    for name in modules:
        assert name in nn.__all__ and name in nn.modules.__all__ and hasattr(torch.nn, name), name
    for name in functions:
        assert name in F.__all__ and hasattr(torch.nn.functional, name), name


# ---- PReLU -------------------------------------------------------------------------------------


def test_prelu_module_has_one_learnable_weight_initialised_to_init():
    layer = nn.PReLU(4, init=0.1)
    (name, weight), *rest = layer.named_parameters()
    assert (name, rest) == ("weight", [])
    assert (
        weight.shape == (4,) and weight.dtype == ember.float32 and weight.tolist() == pytest.approx([0.1] * 4)
    )
    assert nn.PReLU().weight.tolist() == [0.25]
    assert nn.PReLU(dtype=ember.float64).weight.dtype == ember.float64


@requires_torch
@pytest.mark.parametrize(
    "num_parameters, shape",
    [(1, (6,)), (1, ()), (1, (4, 3)), (3, (4, 3)), (3, (2, 3, 5)), (3, (2, 3, 4, 5)), (1, (2, 3, 4, 5))],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_module_matches_torch_with_its_weight_gradient(num_parameters, shape, dtype):
    import torch

    x = rng.standard_normal(shape).astype(dtype)
    x.flat[0] = 0.0  # the kink: slope weight at 0, as in torch
    weight = rng.uniform(-0.5, 0.5, num_parameters).astype(dtype)
    results = []
    for lib in (ember, torch):
        layer = lib.nn.PReLU(num_parameters, dtype=lib.float64 if dtype == np.float64 else lib.float32)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(weight))
        t = lib.tensor(x, requires_grad=True)
        y = layer(t)
        y.backward(lib.tensor(np.linspace(-1, 2, y.numel()).reshape(tuple(y.shape)).astype(dtype)))
        results.append((y, t.grad, layer.weight.grad))
    for ours, theirs in zip(*results):
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
        assert_close(ours, theirs, rtol=1e-6, atol=1e-6)


@requires_torch
def test_functional_prelu_takes_a_0d_weight_like_torch():
    x = rng.standard_normal((2, 3)).astype(np.float32)
    check_both(lambda lib, t, w: lib.nn.functional.prelu(t, w), [x, np.array(0.3, dtype=np.float32)])


def test_prelu_gradcheck_in_float64():
    x = rng.uniform(-2, 2, (2, 3, 4))
    x = np.where(np.abs(x) < 0.05, 0.3, x)
    t = ember.tensor(x, requires_grad=True)
    for w in (ember.tensor([0.2, -0.1, 0.5], dtype=ember.float64), ember.tensor([0.3], dtype=ember.float64)):
        w.requires_grad_()
        assert gradcheck(F.prelu, (t, w))
        assert gradgradcheck(F.prelu, (t, w))


def test_prelu_rejects_a_weight_that_does_not_match_the_channels():
    with pytest.raises(RuntimeError, match="parameter numbers = 3 and channel size = 4"):
        F.prelu(ember.randn(2, 4), ember.randn(3))
    with pytest.raises(RuntimeError, match="parameter numbers = 4 and channel size = 1"):
        F.prelu(ember.randn(4), ember.randn(4))
    with pytest.raises(RuntimeError, match="scalar or 1D tensor"):
        F.prelu(ember.randn(2, 3), ember.randn(1, 3))


# ---- GLU ---------------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dim", [-1, 0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_glu_matches_torch(dim, dtype):
    x = rng.standard_normal((4, 6, 2)).astype(dtype) * 3
    check_both(lambda lib, t: lib.nn.functional.glu(t, dim), [x], rtol=1e-6)


def test_glu_gradcheck_in_float64():
    t = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda a: F.glu(a, 1), (t,))


def test_glu_needs_an_even_dimension():
    with pytest.raises(RuntimeError, match="dimension 1 is size 5"):
        F.glu(ember.randn(2, 5))
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(ember.tensor(1.0))


# ---- errors ------------------------------------------------------------------------------------


def test_errors_match_torch():
    x = ember.randn(3)
    with pytest.raises(
        RuntimeError, match=r"lambda must be in range \[0, 3.40282e\+38\] .* Float, but found -1"
    ):
        F.softshrink(x, -1.0)
    with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
        F.celu(x, 0.0)
    for name in ("hardswish", "hardsigmoid", "mish", "selu", "celu", "hardshrink", "softshrink"):
        with pytest.raises(RuntimeError, match=name):
            call(ember, name, {}, ember.tensor([1, 2]))
