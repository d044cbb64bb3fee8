"""Regression tests from differential fuzzing of the nn.Module API against PyTorch 2.13:
get_parameter's errors, .to() on gradients, deepcopy of parameters, the global module hooks
(ember.nn.modules.module.register_module_*_hook), ModuleList.extend with a ModuleList, and
the dict methods of ParameterDict."""

from __future__ import annotations

import copy
import importlib

import ember
from conftest import requires_torch


def _frameworks():
    import torch

    return (torch, ember)


def _both():
    """Each framework with its module of global hooks (torch.nn.modules.module)."""
    return tuple((m, importlib.import_module(m.__name__ + ".nn.modules.module")) for m in _frameworks())


def _error(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the test compares whatever is raised
        return type(error).__name__, str(error).replace("torch", "ember")
    return None


# ---- Module methods -------------------------------------------------------------------------


@requires_torch
def test_get_parameter_errors_match_torch():
    def build(m):
        net = m.nn.Sequential(m.nn.Linear(2, 2), m.nn.BatchNorm1d(2))
        net[0].register_parameter("nothing", None)
        return net

    results = []
    for m in _frameworks():
        net = build(m)
        results.append(
            [
                _error(lambda t=t, net=net: net.get_parameter(t))
                for t in ["0.missing", "0.nothing", "", "1.running_mean", "0"]
            ]
        )
    assert results[0] == results[1]
    assert results[1][0] == ("AttributeError", "Linear has no attribute `missing`")
    assert results[1][1] == ("AttributeError", "`nothing` is not an nn.Parameter")


@requires_torch
def test_assigning_a_non_tensor_to_a_buffer_error_matches_torch():
    assert (
        len({_error(lambda m=m: setattr(m.nn.BatchNorm1d(2), "running_mean", 3)) for m in _frameworks()}) == 1
    )


def test_to_converts_the_gradient_in_place():
    # as torch's `param.grad.data = fn(param.grad)`: a reference to .grad sees the new dtype
    layer = ember.nn.Linear(2, 2)
    layer(ember.ones(1, 2)).sum().backward()
    grad = layer.weight.grad
    layer.double()
    assert layer.weight.grad is grad and grad.dtype == ember.float64
    assert grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]


@requires_torch
def test_deepcopy_of_a_module_drops_the_gradients_as_torch():
    for m in _frameworks():
        layer = m.nn.Linear(2, 2)
        layer(m.ones(1, 2)).sum().backward()
        clone = copy.deepcopy(layer)
        assert clone.weight.grad is None and clone.bias.grad is None
        assert clone.weight.requires_grad and layer.weight.grad is not None


# ---- global hooks ---------------------------------------------------------------------------


# ---- containers -----------------------------------------------------------------------------
