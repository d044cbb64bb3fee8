"""ember.nn.utils against torch.nn.utils: weight_norm and remove_weight_norm (values, the
gradients of g and v, state_dict keys), spectral_norm (classic and parametrization, from
the same u and v), parametrize and parametrizations.weight_norm, the
BatchNorm fusions (the fused layer equals the layer followed by BatchNorm, and its weights
equal PyTorch's), stateless.functional_call, skip_init and the deprecated clip_grad_norm."""

from __future__ import annotations

import copy
import pickle
import types
import warnings

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember.nn.utils.weight_norm import WeightNorm

# ---- weight_norm ---------------------------------------------------------------------------------

LAYERS = {
    "linear": (lambda nn: nn.Linear(3, 4), (5, 3)),
    "conv2d": (lambda nn: nn.Conv2d(2, 3, (3, 2)), (2, 2, 5, 4)),
    "conv-transpose2d": (lambda nn: nn.ConvTranspose2d(2, 3, 2), (2, 2, 3, 3)),
}


def _weight_normed_run(lib, layer: str, dim, name: str, dtype: str, state: dict, x: np.ndarray) -> dict:
    make, _ = LAYERS[layer]
    module = make(lib.nn).to(getattr(lib, dtype))
    module.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        lib.nn.utils.weight_norm(module, name=name, dim=dim)
    out = module(lib.tensor(x))
    (out * out).sum().backward()
    result = {
        "state": {k: v.detach().numpy().copy() for k, v in module.state_dict().items()},
        "out": out.detach().numpy(),
        "grad_g": getattr(module, name + "_g").grad.numpy(),
        "grad_v": getattr(module, name + "_v").grad.numpy(),
    }
    with lib.no_grad():
        getattr(module, name + "_v").mul_(-1.5)  # the next forward recomputes the weight
    result["out_after_change"] = module(lib.tensor(x)).detach().numpy()
    lib.nn.utils.remove_weight_norm(module, name)
    result["keys_after_remove"] = list(module.state_dict())
    result["weight_after_remove"] = getattr(module, name).detach().numpy()
    result["is_parameter"] = type(getattr(module, name)).__name__ == "Parameter"
    return result


CASES = [
    ("linear", 0, "weight"),
    ("linear", 1, "weight"),
    ("linear", None, "weight"),
    ("linear", -1, "weight"),  # -1 means the whole tensor, as None (PyTorch's convention)
    ("linear", -2, "weight"),
    ("linear", 0, "bias"),
    ("conv2d", 0, "weight"),
    ("conv2d", 2, "weight"),
    ("conv2d", None, "bias"),
    ("conv-transpose2d", 1, "weight"),
]


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layer, dim, name", CASES)
def test_weight_norm_matches_torch(layer, dim, name, dtype):
    import torch

    make, shape = LAYERS[layer]
    state = {k: v.numpy().copy() for k, v in make(ember.nn).to(getattr(ember, dtype)).state_dict().items()}
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    mine = _weight_normed_run(ember, layer, dim, name, dtype, state, x)
    theirs = _weight_normed_run(torch, layer, dim, name, dtype, state, x)
    assert list(mine["state"]) == list(theirs["state"])
    assert mine["keys_after_remove"] == theirs["keys_after_remove"]
    assert mine["is_parameter"] and theirs["is_parameter"]
    tol = {"rtol": 2e-5, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-12}
    for key in mine["state"]:
        assert mine["state"][key].shape == theirs["state"][key].shape, key
        np.testing.assert_allclose(mine["state"][key], theirs["state"][key], **tol, err_msg=key)
    for key in ("out", "grad_g", "grad_v", "out_after_change", "weight_after_remove"):
        assert mine[key].dtype == theirs[key].dtype, key
        np.testing.assert_allclose(mine[key], theirs[key], **tol, err_msg=key)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_gradcheck(dim):
    rng = np.random.default_rng(1)
    v = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    g_shape = {0: (3, 1), 1: (1, 4), None: ()}[dim]
    g = ember.tensor(rng.standard_normal(g_shape), requires_grad=True)
    norm = WeightNorm("weight", dim)

    def weight(g, v):
        return norm.compute_weight(types.SimpleNamespace(weight_g=g, weight_v=v))

    assert ember.autograd.gradcheck(weight, (g, v))
    assert ember.autograd.gradgradcheck(weight, (g, v))


def test_weight_norm_starts_from_the_same_weight_and_trains_g_and_v():
    ember.manual_seed(0)
    module = ember.nn.Linear(3, 2)
    before = module.weight.detach().numpy().copy()
    with pytest.warns(FutureWarning, match="`torch.nn.utils.weight_norm` is deprecated"):
        ember.nn.utils.weight_norm(module)
    np.testing.assert_allclose(module.weight.detach().numpy(), before, rtol=1e-6)
    np.testing.assert_allclose(
        module.weight_g.detach().numpy()[:, 0], np.linalg.norm(before, axis=1), rtol=1e-6
    )
    assert [n for n, _ in module.named_parameters()] == ["bias", "weight_g", "weight_v"]
    assert "weight" not in module.state_dict()
    opt = ember.optim.SGD(module.parameters(), lr=0.1)
    module(ember.ones(4, 3)).sum().backward()
    opt.step()
    stale = module.weight.detach().numpy().copy()  # the weight of the last forward ...
    module(ember.ones(1, 3))  # ... until the next one recomputes it from the updated g and v
    assert not np.allclose(module.weight.detach().numpy(), stale)
    expected = module.weight_v.detach().numpy() * (
        module.weight_g.detach().numpy()
        / np.linalg.norm(module.weight_v.detach().numpy(), axis=1, keepdims=True)
    )
    np.testing.assert_allclose(module.weight.detach().numpy(), expected, rtol=1e-6)
    # as in PyTorch, the weight computed with grad is a graph node, which deepcopy refuses ...
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(module)
    with ember.no_grad():
        module(ember.ones(1, 3))
    clone = copy.deepcopy(module)  # ... and a forward under no_grad makes it a leaf
    assert isinstance(next(iter(clone._forward_pre_hooks.values())), WeightNorm)


def test_weight_norm_errors():
    module = ember.nn.Linear(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ember.nn.utils.weight_norm(module)
        with pytest.raises(
            RuntimeError, match="Cannot register two weight_norm hooks on the same parameter weight"
        ):
            ember.nn.utils.weight_norm(module)
        other = ember.nn.Linear(3, 2)
        with pytest.raises(
            IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"
        ):
            ember.nn.utils.weight_norm(other, dim=2)
    assert [n for n, _ in other.named_parameters()] == ["weight", "bias"]  # left as it was
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found in Linear"):
        ember.nn.utils.remove_weight_norm(module, "bias")
    ember.nn.utils.remove_weight_norm(module)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        ember.nn.utils.remove_weight_norm(module)


# ---- parametrize and parametrizations.weight_norm ----------------------------------------------


def _parametrized_weight_norm_run(lib, dim, dtype: str, state: dict, x: np.ndarray) -> dict:
    module = lib.nn.Linear(3, 4).to(getattr(lib, dtype))
    module.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    lib.nn.utils.parametrizations.weight_norm(module, dim=dim)
    originals = module.parametrizations.weight
    result = {
        "repr": repr(module),
        "keys": list(module.state_dict()),
        "weight": module.weight.detach().numpy().copy(),
        "g": originals.original0.detach().numpy().copy(),
    }
    out = module(lib.tensor(x))
    (out * out).sum().backward()
    result["grad_g"] = originals.original0.grad.numpy()
    result["grad_v"] = originals.original1.grad.numpy()
    module.weight = lib.tensor(np.full((4, 3), 2.0, dtype))  # stored through right_inverse
    result["g_after_set"] = originals.original0.detach().numpy().copy()
    lib.nn.utils.parametrize.remove_parametrizations(module, "weight")
    result["after_remove"] = (type(module).__name__, list(module.state_dict()), type(module.weight).__name__)
    result["weight_after_remove"] = module.weight.detach().numpy()
    return result


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_parametrizations_weight_norm_matches_torch(dim, dtype):
    import torch

    state = {
        k: v.numpy().copy() for k, v in ember.nn.Linear(3, 4).to(getattr(ember, dtype)).state_dict().items()
    }
    x = np.random.default_rng(6).standard_normal((5, 3)).astype(dtype)
    mine = _parametrized_weight_norm_run(ember, dim, dtype, state, x)
    theirs = _parametrized_weight_norm_run(torch, dim, dtype, state, x)
    tol = {"rtol": 2e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}
    for key, value in mine.items():
        if isinstance(value, np.ndarray):
            assert value.shape == theirs[key].shape, key
            np.testing.assert_allclose(value, theirs[key], **tol, err_msg=key)
        else:
            assert value == theirs[key], key
    np.testing.assert_allclose(mine["weight"], state["weight"], **tol)  # it starts from the same weight


def _custom_parametrizations(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    class Triple(lib.nn.Module):
        def forward(self, X):
            return X * 3

        def right_inverse(self, A):
            return A / 3

    class Double(lib.nn.Module):  # no right_inverse
        def forward(self, X):
            return X * 2

    class FirstRows(lib.nn.Module):  # changes the shape
        def forward(self, X):
            return X[:2]

    return Symmetric, Triple, Double, FirstRows


def _custom_run(lib) -> list:
    Symmetric, Triple, Double, FirstRows = _custom_parametrizations(lib)
    P = lib.nn.utils.parametrize
    module = lib.nn.Linear(3, 3)
    with lib.no_grad():
        module.weight.copy_(lib.tensor(np.arange(9.0, dtype=np.float32).reshape(3, 3)))
        module.bias.copy_(lib.tensor([1.0, -2.0, 0.5]))
    weight = module.weight
    P.register_parametrization(module, "weight", Symmetric())
    P.register_parametrization(module, "weight", Triple())  # chained after Symmetric
    original = module.parametrizations.weight.original
    trace = [original is weight, module.weight.detach().numpy().copy(), original.detach().numpy().copy()]
    trace += [repr(module), list(module.state_dict()), P.type_before_parametrizations(module).__name__]
    module.weight = lib.tensor(np.eye(3, dtype=np.float32) * 6)
    trace.append(original.detach().numpy().copy())
    P.register_parametrization(module, "bias", Double())
    trace.append(module.bias.detach().numpy().copy())
    with P.cached():
        trace.append(module.weight is module.weight)
    trace.append(module.weight is module.weight)
    errors = []
    for bad in (
        lambda: P.register_parametrization(module, "nothing", Triple()),
        lambda: P.register_parametrization(lib.nn.Linear(3, 3), "weight", FirstRows()),
        lambda: P.remove_parametrizations(module, "nothing"),
        lambda: setattr(module, "bias", lib.zeros(3)),
    ):
        with pytest.raises(Exception) as info:
            bad()
        errors.append((info.type.__name__, str(info.value).split("\n")[0]))
    trace.append(errors)
    trace.append(
        (P.is_parametrized(module), P.is_parametrized(module, "bias"), P.is_parametrized(module, "x"))
    )
    P.remove_parametrizations(module, "bias", leave_parametrized=False)
    trace.append(module.bias.detach().numpy().copy())
    P.remove_parametrizations(module, "weight")
    trace += [module.weight.detach().numpy().copy(), module.weight is weight, type(module).__name__]
    trace.append(P.is_parametrized(module))
    norm = lib.nn.BatchNorm1d(3)  # a buffer can be parametrized too
    P.register_parametrization(norm, "running_var", Triple())
    trace += [list(norm.state_dict()), norm.running_var.numpy().copy(), [n for n, _ in norm.named_buffers()]]
    return trace


@requires_torch
def test_parametrize_matches_torch():
    import torch

    for step, (a, b) in enumerate(zip(_custom_run(ember), _custom_run(torch))):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=f"item {step}")
        else:
            assert a == b, f"item {step}"


def test_parametrized_module_trains_copies_and_refuses_pickling():
    module = ember.nn.Linear(3, 2)
    ember.nn.utils.parametrizations.weight_norm(module)
    opt = ember.optim.SGD(module.parameters(), lr=0.1)
    before = module.weight.detach().numpy().copy()
    module(ember.ones(4, 3)).sum().backward()
    opt.step()
    assert not np.allclose(module.weight.detach().numpy(), before)  # g and v were trained
    clone = copy.deepcopy(module)
    assert type(clone) is type(module)
    assert clone.parametrizations.weight.original1 is not module.parametrizations.weight.original1
    np.testing.assert_array_equal(clone.weight.detach().numpy(), module.weight.detach().numpy())
    other = ember.nn.Linear(3, 2)
    assert type(other).__name__ == "Linear" and not hasattr(
        type(other), "weight"
    )  # other instances untouched
    with pytest.raises(
        RuntimeError, match="Serialization of parametrized modules is only supported through state_dict"
    ):
        pickle.dumps(module)


# ---- spectral_norm -------------------------------------------------------------------------------

SPECTRAL_LAYERS = {
    "linear": (lambda nn: nn.Linear(3, 5), (4, 3)),
    "conv2d": (lambda nn: nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
    "conv-transpose2d": (lambda nn: nn.ConvTranspose2d(2, 3, 3), (2, 2, 4, 4)),
}


def _spectral_run(lib, api: str, layer: str, kwargs: dict, dtype: str, start: dict, inputs: list) -> dict:
    """Three forwards and backwards (the last in eval mode) from the given weights, u and v."""
    make, _ = SPECTRAL_LAYERS[layer]
    module = make(lib.nn).to(getattr(lib, dtype))
    module.load_state_dict({k: lib.tensor(v) for k, v in start["state"].items()})
    normalize = (
        lib.nn.utils.spectral_norm if api == "classic" else lib.nn.utils.parametrizations.spectral_norm
    )
    normalize(module, **kwargs)
    with lib.no_grad():
        if "buffers" in start:  # PyTorch's random u and v replaced by ember's
            for name, buffer in module.named_buffers():
                buffer.copy_(lib.tensor(start["buffers"][name]))
        else:
            start["buffers"] = {name: b.numpy().copy() for name, b in module.named_buffers()}
    result = {"keys": list(module.state_dict())}
    for i, x in enumerate(inputs):
        if i == len(inputs) - 1:
            module.eval()  # no power iteration: u and v stay
        out = module(lib.tensor(x))
        (out**2).sum().backward()
        result[f"out{i}"] = out.detach().numpy()
    original = module.weight_orig if api == "classic" else module.parametrizations.weight.original
    result["grad"] = original.grad.numpy()
    result.update({name: b.numpy().copy() for name, b in module.named_buffers()})
    if api == "classic":
        lib.nn.utils.remove_spectral_norm(module)
    else:
        lib.nn.utils.parametrize.remove_parametrizations(module, "weight")
    result["weight_after_remove"] = module.weight.detach().numpy()
    result["keys_after_remove"] = list(module.state_dict())
    return result


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "layer, kwargs",
    [
        ("linear", {}),
        ("conv2d", {}),
        ("conv-transpose2d", {}),
        ("conv2d", {"n_power_iterations": 3, "dim": 1}),
    ],
    ids=["linear", "conv2d", "conv-transpose2d", "conv2d-3-iterations-dim-1"],
)
@pytest.mark.parametrize("api", ["classic", "parametrization"])
def test_spectral_norm_matches_torch(api, layer, kwargs, dtype):
    import torch

    make, shape = SPECTRAL_LAYERS[layer]
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
    start = {
        "state": {
            k: v.numpy().copy() for k, v in make(ember.nn).to(getattr(ember, dtype)).state_dict().items()
        }
    }
    mine = _spectral_run(ember, api, layer, kwargs, dtype, start, inputs)
    theirs = _spectral_run(torch, api, layer, kwargs, dtype, start, inputs)
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-11, "atol": 1e-12}
    for key, value in mine.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_allclose(value, theirs[key], **tol, err_msg=key)
        else:
            assert value == theirs[key], key


@pytest.mark.parametrize("api", ["classic", "parametrization"])
def test_spectral_norm_gives_a_unit_spectral_norm(api):
    module = ember.nn.Linear(6, 4)
    normalize = (
        ember.nn.utils.spectral_norm if api == "classic" else ember.nn.utils.parametrizations.spectral_norm
    )
    normalize(module, n_power_iterations=30)
    with ember.no_grad():
        module(ember.ones(1, 6))
    weight = module.weight.detach().numpy()
    assert np.linalg.norm(weight, 2) == pytest.approx(1.0, rel=1e-4)


def test_spectral_norm_errors():
    utils = ember.nn.utils
    module = utils.spectral_norm(ember.nn.Linear(3, 2))
    with pytest.raises(
        RuntimeError, match="Cannot register two spectral_norm hooks on the same parameter weight"
    ):
        utils.spectral_norm(module)
    with pytest.raises(
        ValueError, match="Expected n_power_iterations to be positive, but got n_power_iterations=0"
    ):
        utils.spectral_norm(ember.nn.Linear(3, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="`SpectralNorm` cannot be applied as parameter `bias` is None"):
        utils.spectral_norm(ember.nn.Linear(3, 2, bias=False), name="bias")
    with pytest.raises(ValueError, match="spectral_norm of 'bias' not found in Linear"):
        utils.remove_spectral_norm(module, "bias")
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'kernel'"):
        utils.parametrizations.spectral_norm(ember.nn.Linear(3, 2), name="kernel")
    with pytest.raises(
        IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\] but got 2\)"
    ):
        utils.parametrizations.spectral_norm(ember.nn.Linear(3, 2), dim=2)


# ---- fusion --------------------------------------------------------------------------------------


def _layer_and_bn(lib, kind: str, dtype: str, bias: bool, affine: bool):
    nn = lib.nn
    if kind == "conv2d":
        layer, bn, shape = nn.Conv2d(3, 4, 3, bias=bias), nn.BatchNorm2d(4, affine=affine), (2, 3, 6, 6)
    elif kind == "conv1d":
        layer, bn, shape = nn.Conv1d(3, 4, 3, bias=bias), nn.BatchNorm1d(4, affine=affine), (2, 3, 7)
    elif kind == "conv-transpose2d":
        layer, bn, shape = (
            nn.ConvTranspose2d(4, 6, 3, bias=bias),
            nn.BatchNorm2d(6, affine=affine),
            (2, 4, 5, 5),
        )
    else:
        layer, bn, shape = nn.Linear(5, 4, bias=bias), nn.BatchNorm1d(4, affine=affine), (6, 5)
    return layer.to(getattr(lib, dtype)), bn.to(getattr(lib, dtype)), shape


FUSIONS = [
    ("conv2d", True, True),
    ("conv2d", False, True),
    ("conv2d", True, False),
    ("conv1d", False, False),
    ("conv-transpose2d", True, True),
    ("conv-transpose2d", False, False),
    ("linear", True, True),
    ("linear", False, True),
]


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind, bias, affine", FUSIONS)
def test_fuse_bn_eval_matches_torch(kind, bias, affine, dtype):
    import torch

    rng = np.random.default_rng(2)
    results = []
    for lib in (ember, torch):
        layer, bn, shape = _layer_and_bn(lib, kind, dtype, bias, affine)
        if lib is ember:
            with ember.no_grad():
                bn.running_mean.copy_(ember.tensor(rng.standard_normal(bn.num_features).astype(dtype)))
                bn.running_var.copy_(ember.tensor(rng.uniform(0.5, 2.0, bn.num_features).astype(dtype)))
                if affine:
                    bn.weight.copy_(ember.tensor(rng.standard_normal(bn.num_features).astype(dtype)))
                    bn.bias.copy_(ember.tensor(rng.standard_normal(bn.num_features).astype(dtype)))
            states = [{k: v.numpy().copy() for k, v in m.state_dict().items()} for m in (layer, bn)]
            x = rng.standard_normal(shape).astype(dtype)
        else:
            for module, state in zip((layer, bn), states):
                module.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
        layer.eval()
        bn.eval()
        weight_before = layer.weight.detach().numpy().copy()
        utils = lib.nn.utils
        if kind == "linear":
            fused = utils.fuse_linear_bn_eval(layer, bn)
        else:
            fused = utils.fuse_conv_bn_eval(layer, bn, transpose=kind == "conv-transpose2d")
        assert type(fused) is type(layer) and fused is not layer
        np.testing.assert_array_equal(layer.weight.detach().numpy(), weight_before)  # the original is kept
        inputs = lib.tensor(x)
        results.append(
            {
                "fused_out": fused(inputs).detach().numpy(),
                "two_layers_out": bn(layer(inputs)).detach().numpy(),
                "weight": fused.weight.detach().numpy(),
                "bias": fused.bias.detach().numpy(),
                "flags": (type(fused.weight).__name__, fused.weight.requires_grad, fused.bias.requires_grad),
            }
        )
    mine, theirs = results
    tol = 2e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(mine["fused_out"], mine["two_layers_out"], rtol=tol, atol=tol)
    np.testing.assert_allclose(mine["fused_out"], theirs["fused_out"], rtol=tol, atol=tol)
    np.testing.assert_array_equal(mine["weight"], theirs["weight"])  # the same operations, the same bits
    np.testing.assert_array_equal(mine["bias"], theirs["bias"])
    assert mine["weight"].dtype == theirs["weight"].dtype
    assert mine["flags"] == theirs["flags"]


@requires_torch
def test_fuse_weights_functions_match_torch():
    import torch

    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((4, 3, 2, 2), (4,), (4,), (4,), (4,), (4,))]
    arrays[3] = np.abs(arrays[3]) + 0.5  # a variance
    mine = ember.nn.utils.fuse_conv_bn_weights(*(ember.tensor(a) for a in arrays[:4]), 1e-3, None, None)
    theirs = torch.nn.utils.fuse_conv_bn_weights(*(torch.tensor(a) for a in arrays[:4]), 1e-3, None, None)
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    linear = [arrays[0].reshape(4, 12), *arrays[1:]]
    mine = ember.nn.utils.fuse_linear_bn_weights(
        *(ember.tensor(a) for a in linear[:4]), 1e-5, *(ember.tensor(a) for a in linear[4:])
    )
    theirs = torch.nn.utils.fuse_linear_bn_weights(
        *(torch.tensor(a) for a in linear[:4]), 1e-5, *(torch.tensor(a) for a in linear[4:])
    )
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_fuse_errors():
    utils, nn = ember.nn.utils, ember.nn
    conv, bn = nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        utils.fuse_conv_bn_eval(conv, bn)
    conv.eval()
    untracked = nn.BatchNorm2d(3, track_running_stats=False).eval()
    with pytest.raises(AssertionError, match="bn.running_mean and bn.running_var must not be None"):
        utils.fuse_conv_bn_eval(conv, untracked)
    linear, bn = nn.Linear(2, 3).eval(), nn.BatchNorm1d(4).eval()
    with pytest.raises(
        AssertionError, match=r"linear.out_features == bn.num_features or bn.num_features == 1"
    ):
        utils.fuse_linear_bn_eval(linear, bn)
    single = nn.BatchNorm1d(1).eval()  # one feature broadcasts over all outputs
    fused = utils.fuse_linear_bn_eval(linear, single)
    x = ember.randn(5, 2)
    np.testing.assert_allclose(
        fused(x).detach().numpy(), single(linear(x).reshape(-1, 1)).reshape(5, 3).detach().numpy(), rtol=1e-6
    )


# ---- skip_init and clip_grad_norm ------------------------------------------------------------


def test_skip_init_leaves_the_random_stream_alone(T):
    T.manual_seed(0)
    expected = T.rand(3)
    T.manual_seed(0)
    module = T.nn.utils.skip_init(T.nn.Linear, 5, out_features=2, bias=False)
    assert T.equal(T.rand(3), expected)
    assert type(module) is T.nn.Linear and tuple(module.weight.shape) == (2, 5) and module.bias is None
    assert module.weight.requires_grad


def test_skip_init_errors(T):
    with pytest.raises(RuntimeError, match="Expected a Module"):
        T.nn.utils.skip_init(int)

    class NoDevice(T.nn.Module):
        def __init__(self, n):
            super().__init__()

    with pytest.raises(RuntimeError, match="Module must support a 'device' arg to skip initialization"):
        T.nn.utils.skip_init(NoDevice, 3)


@requires_torch
def test_clip_grad_norm_is_the_deprecated_name_of_clip_grad_norm_():
    import torch

    rng = np.random.default_rng(4)
    grads = [rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal(4).astype(np.float32)]
    results = []
    for lib in (ember, torch):
        params = [lib.zeros(*g.shape, requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g)
        with pytest.warns(FutureWarning, match="`torch.nn.utils.clip_grad_norm` is now deprecated"):
            total = lib.nn.utils.clip_grad_norm(params, max_norm=1.0, norm_type=3.0)
        results.append((total.numpy(), [p.grad.numpy() for p in params]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_grad_norm_scales_by_pytorchs_factor_bit_for_bit(dtype):
    # the infinity norm is exact in both, so the clipped gradients must agree to the bit: the
    # factor max_norm / (norm + 1e-6) is PyTorch's reciprocal-times-max_norm in the norm's
    # dtype (rounded once in float64, it was one bit off for about a fifth of these)
    import torch

    rng = np.random.default_rng(11)
    for _ in range(40):
        grads = [rng.standard_normal(s).astype(dtype) for s in [(3, 4), (5,), ()]]
        max_norm = float(rng.uniform(0.01, 2.0))
        results = []
        for lib in (ember, torch):
            params, others = (
                [lib.zeros(g.shape, dtype=getattr(lib, dtype), requires_grad=True) for g in grads]
                for _ in range(2)
            )
            for p, q, g in zip(params, others, grads):
                p.grad, q.grad = lib.tensor(g), lib.tensor(g)
            total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=float("inf"))
            lib.nn.utils.clip_grads_with_norm_(others, max_norm, lib.tensor(np.array(0.75, dtype)))
            results.append(
                (total.numpy(), [p.grad.numpy() for p in params], [q.grad.numpy() for q in others])
            )
        (e_total, e_grads, e_others), (t_total, t_grads, t_others) = results
        assert e_total.dtype == t_total.dtype and e_total == t_total
        for a, b in zip(e_grads + e_others, t_grads + t_others):
            np.testing.assert_array_equal(a, b)


@requires_torch
def test_vector_to_parameters_ignores_elements_left_over_as_pytorch():
    import torch

    results = []
    for lib in (ember, torch):
        params = [lib.nn.Parameter(lib.ones(2, 3)), lib.nn.Parameter(lib.zeros(4))]
        vec = lib.nn.utils.parameters_to_vector(params)
        (vec * lib.arange(10.0)).sum().backward()
        # a longer vector loads its first elements: here the first parameter from both
        lib.nn.utils.vector_to_parameters(lib.arange(12.0, dtype=lib.float64), params[:1])
        lib.nn.utils.vector_to_parameters(lib.arange(10.0).reshape(10, 1), params[1:])
        results.append([params[0].grad.numpy(), params[0].detach().numpy(), params[1].detach().numpy()])
        for bad in (lib.arange(8.0), lib.arange(10.0).reshape(2, 5)):
            with pytest.raises(RuntimeError):
                lib.nn.utils.vector_to_parameters(bad, params)
    for a, b in zip(*results):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


# ---- stateless.functional_call -----------------------------------------------------------------


def _functional_call_run(lib) -> list:
    call = lib.nn.utils.stateless.functional_call
    linear = lib.nn.Linear(2, 2)
    with lib.no_grad():
        linear.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
        linear.bias.copy_(lib.tensor([0.5, -0.5]))
    x = lib.ones(1, 2)
    weight = lib.zeros(2, 2, requires_grad=True)
    trace = [call(linear, {"weight": weight, "extra": lib.ones(1)}, x).detach().numpy()]
    trace.append((hasattr(linear, "extra"), type(linear.weight).__name__))  # all put back
    for values, strict in (({"weight": weight, "extra": lib.ones(1)}, True), ({"nope.x": weight}, False)):
        with pytest.raises(Exception) as info:
            call(linear, values, x, strict=strict)
        trace.append((info.type.__name__, str(info.value)))

    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(2, 2)
            self.b = lib.nn.Linear(2, 2)
            self.b.weight = self.a.weight
            self.register_buffer("scale", lib.tensor(2.0))

        def forward(self, x):
            return self.b(self.a(x)) * self.scale

    tied = Tied()
    with lib.no_grad():
        for p in tied.parameters():
            p.fill_(0.1)
    trace.append(call(tied, {"a.weight": lib.eye(2), "scale": lib.tensor(3.0)}, (x,)).detach().numpy())
    trace.append(tied.b.weight is tied.a.weight and float(tied.scale) == 2.0)
    trace.append(call(tied, {"a.weight": lib.eye(2)}, x, tie_weights=False).detach().numpy())
    with pytest.raises(ValueError) as info:
        call(tied, {"a.weight": lib.eye(2), "b.weight": lib.zeros(2, 2)}, x)
    trace.append(str(info.value))
    out = call(linear, {"weight": weight}, args=(), kwargs={"input": x})
    out.sum().backward()  # the gradient goes to the given tensor, not to the module's
    trace += [weight.grad.numpy(), linear.weight.grad]
    return trace


@requires_torch
def test_functional_call_matches_torch():
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        mine, theirs = _functional_call_run(ember), _functional_call_run(torch)
    for step, (a, b) in enumerate(zip(mine, theirs)):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=f"item {step}")
        else:
            assert a == b, f"item {step}"


def test_functional_call_warns_and_restores_after_an_error():
    linear = ember.nn.Linear(2, 2)
    weight = linear.weight
    with pytest.warns(FutureWarning, match="`torch.nn.utils.stateless.functional_call` is deprecated"):
        with pytest.raises(RuntimeError):
            ember.nn.utils.stateless.functional_call(linear, {"weight": ember.zeros(3, 3)}, ember.ones(1, 2))
    assert linear.weight is weight
