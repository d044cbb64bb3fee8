"""Regression tests from differential fuzzing of the nn.Module API against PyTorch 2.13:
get_parameter's errors, .to() on gradients, deepcopy of parameters, the global module hooks
(ember.nn.modules.module.register_module_*_hook), ModuleList.extend with a ModuleList, and
the dict methods of ParameterDict."""

from __future__ import annotations

import copy
import importlib

import pytest

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


@requires_torch
def test_global_forward_hooks_run_before_the_modules_own():
    logs = []
    for m, mm in _both():
        log = []
        handles = [
            mm.register_module_forward_pre_hook(
                lambda mod, a, log=log: log.append(("gpre", type(mod).__name__))
            ),
            mm.register_module_forward_hook(
                lambda mod, a, o, log=log: log.append(("gpost", type(mod).__name__))
            ),
            mm.register_module_forward_hook(
                lambda mod, a, k, o, log=log: log.append(("gkw", sorted(k))), with_kwargs=True
            ),
        ]
        try:
            net = m.nn.Sequential(m.nn.Linear(2, 2), m.nn.ReLU())
            net.register_forward_pre_hook(lambda mod, a, log=log: log.append("own pre"))
            net.register_forward_hook(lambda mod, a, o, log=log: log.append("own post"))
            net(m.ones(1, 2))
            m.nn.Linear(2, 2)(input=m.ones(1, 2))
        finally:
            for handle in handles:
                handle.remove()
        net(m.ones(1, 2))  # removed: only the module's own hooks
        logs.append(log)
    assert logs[0] == logs[1]
    assert logs[1][:3] == [("gpre", "Sequential"), "own pre", ("gpre", "Linear")]


@requires_torch
def test_global_forward_pre_hook_replaces_the_inputs_and_forward_hook_the_output():
    for m, mm in _both():
        handles = [
            mm.register_module_forward_pre_hook(lambda mod, a: (a[0] * 0,)),
            mm.register_module_forward_hook(lambda mod, a, o: o + 1),
        ]
        try:
            layer = m.nn.Linear(2, 3, bias=False)
            layer.register_forward_hook(lambda mod, a, o: o * 2)
            out = layer(m.ones(1, 2))
        finally:
            for handle in handles:
                handle.remove()
        assert out.tolist() == [[2.0, 2.0, 2.0]]


@requires_torch
def test_global_always_call_forward_hook_runs_when_forward_raises():
    logs = []
    for m, mm in _both():

        class Broken(m.nn.Module):
            def forward(self, x):
                raise ValueError("broken")

        log = []
        handles = [
            mm.register_module_forward_hook(
                lambda mod, a, o, log=log: log.append(("always", o)), always_call=True
            ),
            mm.register_module_forward_hook(lambda mod, a, o, log=log: log.append("normal")),
        ]
        try:
            module = Broken()
            module.register_forward_hook(lambda mod, a, o, log=log: log.append(("own", o)), always_call=True)
            with pytest.raises(ValueError, match="broken"):
                module(m.ones(1))
        finally:
            for handle in handles:
                handle.remove()
        logs.append(log)
    assert logs[0] == logs[1] == [("always", None), ("own", None)]


@requires_torch
def test_global_full_backward_hooks_see_every_module():
    logs, grads = [], []
    for m, mm in _both():
        log = []

        def post(mod, grad_input, grad_output, log=log):
            log.append(
                (
                    type(mod).__name__,
                    [tuple(g.shape) for g in grad_input],
                    [tuple(g.shape) for g in grad_output],
                )
            )

        handles = [
            mm.register_module_full_backward_pre_hook(
                lambda mod, go, log=log: log.append(("pre", type(mod).__name__))
            ),
            mm.register_module_full_backward_hook(post),
            mm.register_module_full_backward_hook(
                lambda mod, gi, go, m=m: (gi[0] * 0 + 1,) if isinstance(mod, m.nn.Tanh) else None
            ),
        ]
        try:
            net = m.nn.Sequential(m.nn.Linear(2, 3, bias=False), m.nn.Tanh())
            net[0].weight.data.fill_(0.5)
            x = m.ones(1, 2, requires_grad=True)
            net(x).sum().backward()
        finally:
            for handle in handles:
                handle.remove()
        logs.append(log)
        grads.append(x.grad.tolist())
    assert logs[0] == logs[1]
    assert grads[0] == grads[1] == [[1.5, 1.5]]  # the Tanh's grad_input replaced by ones


@requires_torch
def test_global_registration_hooks_see_and_may_replace_what_is_registered():
    logs = []
    for m, mm in _both():
        log = []
        handles = [
            mm.register_module_buffer_registration_hook(lambda mod, n, b, log=log: log.append(("buffer", n))),
            mm.register_module_parameter_registration_hook(
                lambda mod, n, p, log=log: log.append(("param", n))
            ),
            mm.register_module_module_registration_hook(lambda mod, n, s, log=log: log.append(("module", n))),
            mm.register_module_parameter_registration_hook(
                lambda mod, n, p, m=m: m.nn.Parameter(m.full((1,), 7.0)) if n == "p" else None
            ),
            mm.register_module_buffer_registration_hook(
                lambda mod, n, b, m=m: m.full((1,), 8.0) if n == "b" else None
            ),
        ]
        try:
            net = m.nn.Sequential(m.nn.Linear(2, 2), m.nn.BatchNorm1d(2))
            net[1].running_mean = m.zeros(2)  # assigning a registered buffer registers it again
            net.extra = m.nn.ReLU()
            net.extra = None
            net.add_module("more", None)
            net.p = m.nn.Parameter(m.zeros(1))
            net.register_buffer("b", m.zeros(1))
            net.register_parameter("none", None)  # not seen: torch skips None parameters
        finally:
            for handle in handles:
                handle.remove()
        logs.append((log, net.p.tolist(), net.b.tolist()))
    assert logs[0] == logs[1]
    assert logs[1][1:] == ([7.0], [8.0])


def test_deprecated_global_backward_hook_raises():
    with pytest.raises(NotImplementedError, match="register_module_full_backward_hook"):
        ember.nn.modules.module.register_module_backward_hook(lambda *a: None)


def test_removed_global_hooks_leave_the_fast_path():
    from ember.nn import _hooks

    handle = ember.nn.modules.module.register_module_forward_hook(lambda *a: None)
    assert _hooks._global_call_hooks
    handle.remove()
    assert not _hooks._global_call_hooks


# ---- containers -----------------------------------------------------------------------------


@requires_torch
def test_module_list_extends_with_module_lists_and_sequentials():
    reprs = []
    for m in _frameworks():
        layers = m.nn.ModuleList([m.nn.ReLU()])
        layers += m.nn.ModuleList([m.nn.Tanh()])
        layers.extend(m.nn.Sequential(m.nn.ELU()))
        seq = m.nn.Sequential(m.nn.ReLU())
        seq.extend(m.nn.ModuleList([m.nn.Sigmoid()]))
        reprs.append((repr(layers), repr(seq), _error(lambda m=m: m.nn.ModuleList().extend(m.nn.ReLU()))))
    assert reprs[0] == reprs[1]
    assert "(2): ELU" in reprs[1][0]


@requires_torch
def test_parameter_dict_dict_methods_match_torch():
    results = []
    for m in _frameworks():
        pd = m.nn.ParameterDict({"b": m.zeros(1), "a": m.nn.Parameter(m.zeros(2))})
        pd.update([("c", m.zeros(3))])
        first = pd.setdefault("a", m.zeros(9))
        pd.setdefault("e", m.zeros(5))
        copied = pd.copy()
        last = pd.popitem()
        keys = m.nn.ParameterDict().fromkeys(["x", "y"], m.zeros(1))
        merged = pd | {"q": m.zeros(1)}
        rmerged = {"z": m.zeros(1)} | pd
        pd |= m.nn.ParameterDict({"0": m.zeros(2)})
        results.append(
            (
                repr(pd),
                tuple(first.shape),
                copied["a"] is first,
                repr(copied),
                last[0],
                repr(keys),
                repr(merged),
                repr(rmerged),
                list(reversed(pd)),
                [n for n, _ in pd.named_parameters()],
                _error(lambda m=m: m.nn.ParameterDict().popitem()),
            )
        )
    torch_result, ember_result = results
    assert [r.replace("torch.", "ember.") if isinstance(r, str) else r for r in torch_result] == list(
        ember_result
    )


@requires_torch
def test_dict_container_update_errors_match_torch():
    for name in ("ModuleDict", "ParameterDict"):
        errors = [
            (
                _error(lambda m=m, name=name: getattr(m.nn, name)().update(3)),
                _error(lambda m=m, name=name: getattr(m.nn, name)().update([("a",)])),
            )
            for m in _frameworks()
        ]
        assert errors[0] == errors[1] or name == "ParameterDict"  # torch misspells "ParametersDict.update"
        assert errors[1][1] == (
            "ValueError",
            f"{name} update sequence element #0 has length 1; 2 is required",
        )


# ---- state_dict ----------------------------------------------------------------------------


@requires_torch
def test_state_dict_takes_the_deprecated_positional_arguments():
    results = []
    for m in _frameworks():

        class Old(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = m.nn.Linear(1, 1)  # noqa: B023 - built within the loop

            def state_dict(self, destination=None, prefix="", keep_vars=False):  # an old override
                return super().state_dict(destination, prefix, keep_vars)

        destination = {}
        with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
            returned = Old().state_dict(destination, "p.", True)
        with pytest.warns(FutureWarning):
            nested = list(m.nn.Sequential(Old()).state_dict())
        results.append(
            (returned is destination, list(destination), type(destination["p.lin.weight"]).__name__, nested)
        )
    assert results[0] == results[1]


@requires_torch
def test_load_state_dict_takes_a_one_element_entry_for_a_0_dim_buffer():
    results = []
    for m in _frameworks():
        norm = m.nn.BatchNorm1d(2)
        state = norm.state_dict()
        state["num_batches_tracked"] = m.tensor([3])  # as saved before PyTorch 0.4
        result = norm.load_state_dict(state)
        results.append((repr(result), norm.num_batches_tracked.shape, norm.num_batches_tracked.item()))
        state["num_batches_tracked"] = m.tensor([[3]])
        results.append(_error(lambda norm=norm, state=state: norm.load_state_dict(state)))
    assert results[:2] == results[2:]
    assert results[2][1:] == ((), 3)


@requires_torch
def test_parameter_dict_non_string_key_error_matches_torch():
    errors = []
    for m in _frameworks():
        pd = m.nn.ParameterDict({"a": m.zeros(1)})
        errors.append(
            [
                _error(lambda pd=pd: pd.__setitem__(1, m.zeros(1))),  # noqa: B023 - called at once
                _error(lambda pd=pd: pd[2]),
                _error(lambda pd=pd: pd.__delitem__(3)),
            ]
        )
    assert errors[0] == errors[1]
    assert errors[1][0][0] == "TypeError" and "not a string (type is 'int')" in errors[1][0][1]


@requires_torch
def test_assignment_errors_name_the_type_as_torch_typename():
    class Custom:
        pass

    errors = []
    for m in _frameworks():
        layer = m.nn.Linear(1, 1)
        errors.append(
            [
                _error(lambda layer=layer, m=m: setattr(layer, "weight", m.nn.ReLU())),
                _error(lambda layer=layer: setattr(layer, "bias", Custom())),
                _error(lambda layer=layer: layer.register_parameter("p", 3)),
                _error(lambda layer=layer, m=m: layer.register_parameter("q", m.zeros(1))),
            ]
        )
    assert errors[0] == errors[1]
    assert "'ember.nn.modules.activation.ReLU' as parameter 'weight'" in errors[1][0][1]


@requires_torch
def test_full_backward_hooks_grad_output_has_an_entry_per_output_item():
    # torch: one entry per item of a tuple output, None for an item that is not a tensor or
    # got no gradient (LSTM's (h, c), MultiheadAttention's None weights)
    logs = []
    for m in _frameworks():
        log = []

        def shapes(grads):
            return [None if g is None else tuple(g.shape) for g in grads]

        lstm = m.nn.LSTM(2, 3, batch_first=True)
        attention = m.nn.MultiheadAttention(4, 2, batch_first=True)
        for module in (lstm, attention):
            module.register_full_backward_pre_hook(lambda mod, go, log=log: log.append(("pre", shapes(go))))
            module.register_full_backward_hook(
                lambda mod, gi, go, log=log: log.append((shapes(gi), shapes(go)))
            )
        out, _ = lstm(m.ones(1, 4, 2, requires_grad=True))
        out.sum().backward()
        query = m.ones(1, 3, 4, requires_grad=True)
        attention(query, query, query, need_weights=False)[0].sum().backward()
        logs.append(log)
    assert logs[0] == logs[1]
    assert logs[1][0] == ("pre", [(1, 4, 3), None])


@requires_torch
def test_backward_pre_hook_must_return_an_entry_per_output_item():
    for m in _frameworks():
        lstm = m.nn.LSTM(2, 3)
        lstm.register_full_backward_pre_hook(lambda mod, go: (go[0],))
        out, _ = lstm(m.ones(4, 2, requires_grad=True))
        with pytest.raises(RuntimeError, match="invalid number of grad_output, got 1, but expected 2"):
            out.sum().backward()
