"""ember.nn.Module, Parameter and the containers, compared with PyTorch where it has an answer."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn

# ---- helpers ------------------------------------------------------------------------------


def from_torch(torch_model, ember_model) -> None:
    """Copy every parameter and buffer of a torch model into the ember model of the same shape."""
    state = {k: ember.tensor(v.detach().numpy().copy()) for k, v in torch_model.state_dict().items()}
    ember_model.load_state_dict(state)


def build(lib):
    """The same nested architecture in ember or torch: Sequential, ModuleList, ModuleDict inside a Module."""

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Dropout(0.25))
            self.blocks = lib.nn.ModuleList([lib.nn.Linear(8, 8) for _ in range(3)] + [lib.nn.Tanh()])
            self.heads = lib.nn.ModuleDict({"cls": lib.nn.Linear(8, 3), "norm": lib.nn.BatchNorm1d(8)})
            self.scale = lib.nn.Parameter(lib.ones(1))
            self.register_buffer("offset", lib.zeros(1))

        def forward(self, x):
            x = self.features(x)
            for block in self.blocks:
                x = block(x)
            return self.heads["cls"](self.heads["norm"](x)) * self.scale + self.offset

    return Net()


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(ember.ones(2, 3))
        self.register_buffer("count", ember.zeros(1))

    def forward(self, x):
        return x @ self.weight


# ---- Parameter ---------------------------------------------------------------------------


@requires_torch
def test_parameter_repr_matches_torch():
    import torch

    p = nn.Parameter(ember.tensor([[1.0, 2.5], [3.0, -4.0]]))
    q = torch.nn.Parameter(torch.tensor([[1.0, 2.5], [3.0, -4.0]]))
    assert repr(p) == repr(q)
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_parameter_is_a_leaf_sharing_memory():
    t = ember.zeros(3)
    p = nn.Parameter(t)
    assert isinstance(p, ember.Tensor) and p.requires_grad and p.is_leaf
    p.data[0] = 5.0
    assert t[0].item() == 5.0
    assert not nn.Parameter(ember.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)


def test_parameter_deepcopy_keeps_type_and_values():
    p = nn.Parameter(ember.tensor([1.0, 2.0]))
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.requires_grad
    q.data[0] = 9.0
    assert p[0].item() == 1.0


# ---- attribute routing ------------------------------------------------------------------


def test_setattr_routes_parameters_modules_and_buffers():
    m = Plain()
    m.child = nn.Linear(2, 2)
    m.note = "plain attribute"
    assert list(m._parameters) == ["weight"]
    assert list(m._buffers) == ["count"]
    assert list(m._modules) == ["child"]
    assert "note" in m.__dict__ and "weight" not in m.__dict__
    m.count = ember.ones(1)  # re-assigning a buffer keeps it a buffer
    assert list(m._buffers) == ["count"] and m.count.item() == 1.0
    m.weight = None  # a parameter slot accepts None
    assert m._parameters["weight"] is None and m.weight is None


def test_getattr_typo_raises_attribute_error_never_none():
    m = Plain()
    with pytest.raises(AttributeError, match="'Plain' object has no attribute 'wieght'"):
        m.wieght  # noqa: B018
    assert not hasattr(m, "missing")


def test_delattr_removes_from_its_store():
    m = Plain()
    m.child = nn.ReLU()
    del m.weight, m.count, m.child
    assert not m._parameters and not m._buffers and not m._modules
    m.other = 3
    del m.other
    assert not hasattr(m, "other")


def test_reassigning_a_name_moves_it_between_stores():
    m = Plain()
    m.child = nn.Linear(1, 1)
    m.child = nn.Parameter(ember.ones(1))  # a module name becomes a parameter
    assert "child" in m._parameters and "child" not in m._modules
    m.count = nn.Parameter(ember.ones(1))  # so does a buffer name
    assert "count" in m._parameters and "count" not in m._buffers
    with pytest.raises(TypeError, match="as parameter 'weight'"):
        m.weight = nn.Linear(1, 1)  # but a parameter slot takes only Parameters or None, as PyTorch


@requires_torch
@pytest.mark.parametrize("kind", ["module", "parameters", "buffer"])
def test_assignment_before_init_raises_like_torch(kind):
    import torch

    def make(lib):
        class Early(lib.nn.Module):
            def __init__(self):
                if kind == "module":
                    self.layer = lib.nn.ReLU()
                elif kind == "parameters":
                    self.w = lib.nn.Parameter(lib.ones(1))
                else:
                    self.register_buffer("b", lib.ones(1))

        return Early()

    with pytest.raises(AttributeError) as theirs:
        make(torch)
    with pytest.raises(AttributeError) as ours:
        make(ember)
    assert str(ours.value) == str(theirs.value)
    assert "before Module.__init__() call" in str(ours.value)


@requires_torch
@pytest.mark.parametrize(
    "action",
    [
        lambda lib, m: setattr(m, "weight", lib.ones(2)),
        lambda lib, m: m.register_parameter("a.b", None),
        lambda lib, m: m.register_parameter("", None),
        lambda lib, m: m.register_parameter("training", None),
        lambda lib, m: m.register_parameter(3, None),
        lambda lib, m: m.register_parameter("x", lib.ones(2)),
        lambda lib, m: m.register_parameter("y", lib.nn.Parameter(lib.ones(2)) * 2),
        lambda lib, m: m.register_buffer("x", 3),
        lambda lib, m: m.register_buffer("a.b", None),
        lambda lib, m: m.add_module("m", 3),
        lambda lib, m: m.add_module("a.b", lib.nn.ReLU()),
        lambda lib, m: m.add_module("", lib.nn.ReLU()),
        lambda lib, m: m.add_module("weight", lib.nn.ReLU()),
        lambda lib, m: m.get_submodule("a.b"),
        lambda lib, m: lib.nn.Sequential(m).get_submodule("0.weight"),
        lambda lib, m: m.train("yes"),
        lambda lib, m: m.to(lib.int64),
        lambda lib, m: lib.nn.Module(3),
        lambda lib, m: lib.nn.Module(a=3),
        lambda lib, m: lib.nn.Module()(3),
        lambda lib, m: lib.nn.Sequential(m)[3],
        lambda lib, m: lib.nn.ModuleList([m])[-2],
        lambda lib, m: setattr(lib.nn.Sequential(m), "0", lib.ones(1)),
        lambda lib, m: m.load_state_dict({"weight": 3, "bias": lib.ones(3)}),
    ],
)
def test_errors_match_torch(action):
    import torch

    with pytest.raises(Exception) as theirs:
        action(torch, torch.nn.Linear(2, 3))
    with pytest.raises(Exception) as ours:
        action(ember, nn.Linear(2, 3))
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value).replace("ember.", "torch.") == str(theirs.value)


# ---- iteration ---------------------------------------------------------------------------


@requires_torch
def test_named_parameters_buffers_and_modules_match_torch():
    import torch

    ours, theirs = build(ember), build(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in ours.named_parameters(prefix="net")][0] == "net.scale"
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert len(list(ours.modules())) == len(list(ours.named_modules()))


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.modules())) == 3
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4
    model[1].weight = shared.weight  # tied weight on another module: still once
    assert len(list(model.parameters())) == 2
    # state_dict lists every name, as PyTorch does
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "2.weight", "2.bias"]


def test_get_submodule_get_parameter_and_apply():
    model = build(ember)
    assert model.get_submodule("heads.cls") is model.heads["cls"]
    assert model.get_submodule("") is model
    assert model.get_parameter("features.0.bias") is model.features[0].bias
    visited = []
    assert model.apply(lambda m: visited.append(type(m).__name__)) is model
    assert visited[-1] == "Net" and visited[0] == "Linear"  # children first
    assert len(visited) == len(list(model.modules()))


def test_dir_lists_registered_names():
    names = dir(build(ember))
    for name in ("features", "blocks", "scale", "offset", "forward", "training"):
        assert name in names
    assert "0" not in dir(nn.Sequential(nn.ReLU()))


# ---- modes, grads, conversions ------------------------------------------------------------


def test_train_and_eval_propagate():
    model = build(ember)
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.features.train(False)
    assert not model.features[2].training and model.blocks[0].training


def test_requires_grad_and_zero_grad():
    model = Plain()
    (ember.ones(4, 2) @ model.weight).sum().backward()
    assert model.weight.grad is not None
    model.zero_grad(set_to_none=False)
    assert np.all(model.weight.grad.numpy() == 0)
    model.zero_grad()
    assert model.weight.grad is None
    assert model.requires_grad_(False) is model and not model.weight.requires_grad


def test_to_double_float_and_cpu_convert_floating_tensors_in_place():
    model = nn.BatchNorm1d(3)
    weight = model.weight
    model.double()
    assert model.weight is weight and weight.dtype == ember.float64
    assert model.running_mean.dtype == ember.float64
    assert model.num_batches_tracked.dtype == ember.int64  # integers are left alone
    model.to(ember.float32).to("cpu").to(ember.device("cpu"))
    assert model.weight.dtype == ember.float32
    model.to(ember.zeros(1, dtype=ember.float64))
    assert model.running_var.dtype == ember.float64
    assert model.float().cpu() is model and model.weight.dtype == ember.float32
    with pytest.raises(RuntimeError, match="CPU only"):
        model.to("cuda")


# ---- hooks and calling -------------------------------------------------------------------


def test_call_without_hooks_is_forward():
    model = Plain()
    x = ember.ones(1, 2)
    assert ember.equal(model(x), model.forward(x))
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(x)


def test_forward_pre_hook_and_forward_hook_change_input_and_output():
    model = Plain()
    calls = []
    pre = model.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    post = model.register_forward_hook(lambda m, args, out: out + 1)
    model.register_forward_hook(lambda m, args, out: calls.append((m, args[0].shape, out.shape)))
    out = model(ember.ones(1, 2))
    assert np.allclose(out.numpy(force=True), 5.0)  # (2 + 2) + 1
    assert calls[0][0] is model and calls[0][1] == (1, 2)
    pre.remove()
    post.remove()
    assert np.allclose(model(ember.ones(1, 2)).numpy(force=True), 2.0)


def test_hook_options_prepend_kwargs_and_context_manager():
    model = nn.Identity()
    order = []
    model.register_forward_hook(lambda m, a, o: order.append("first"))
    model.register_forward_hook(lambda m, a, o: order.append("prepended"), prepend=True)
    with model.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] + 1,), kwargs), with_kwargs=True):
        assert model(ember.tensor(1.0)).item() == 2.0
    assert model(ember.tensor(1.0)).item() == 1.0  # removed on leaving the block
    assert order[:2] == ["prepended", "first"]
    seen = []
    model.register_forward_hook(lambda m, a, kw, o: seen.append(kw), with_kwargs=True)
    model(input=ember.tensor(1.0))
    assert list(seen[0]) == ["input"]


def _trace_always_call(lib, register, fail=True):
    """Call a module whose forward may raise, with the hooks `register` adds; list what ran."""
    import warnings

    trace = []

    class Scale(lib.nn.Module):
        def forward(self, x, scale=1):
            trace.append(("forward", float(x.sum()), scale))
            if fail:
                raise ValueError("forward failed")
            return x * scale

    def hook(name, returns=None, raises=False):
        def record(module, *args):
            trace.append((name, None if args[-1] is None else float(args[-1].sum()), len(args)))
            if raises:
                raise KeyError(f"{name} broke")
            return returns

        return record

    model = Scale()
    register(lib, model, hook)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            trace.append(("output", float(model(lib.ones(2), scale=3).sum())))
        except Exception as error:
            trace.append(("raised", type(error).__name__, str(error)))
    return trace + [str(w.message) for w in caught]


ALWAYS_CALL_CASES = {
    "forward raises: only always_call hooks run, with output None": (
        lambda lib, m, hook: (
            m.register_forward_hook(hook("plain")),
            m.register_forward_hook(hook("always"), always_call=True),
            m.register_forward_hook(hook("kwargs"), always_call=True, with_kwargs=True),
        ),
        True,
    ),
    "a failing always_call hook is a warning; a result replaces the output": (
        lambda lib, m, hook: (
            m.register_forward_hook(hook("broken", raises=True), always_call=True),
            m.register_forward_hook(hook("five", returns=lib.zeros(1) + 5), always_call=True),
            m.register_forward_hook(hook("after"), always_call=True),
        ),
        True,
    ),
    "a hook raises after forward: the always_call hooks not yet run are called": (
        lambda lib, m, hook: (
            m.register_forward_hook(hook("five", returns=lib.zeros(1) + 5), always_call=True),
            m.register_forward_hook(hook("broken", raises=True)),
            m.register_forward_hook(hook("after"), always_call=True),
            m.register_forward_hook(hook("first"), always_call=True, prepend=True),
        ),
        False,
    ),
    "a pre-hook raises: forward never runs": (
        lambda lib, m, hook: (
            m.register_forward_pre_hook(lambda m, args: (args[0] * 2,)),
            m.register_forward_pre_hook(lambda m, args: 1 / 0),
            m.register_forward_hook(hook("always"), always_call=True),
        ),
        True,
    ),
    "no error: always_call hooks run once, as the others": (
        lambda lib, m, hook: (
            m.register_forward_pre_hook(lambda m, args: (args[0] * 2,)),
            m.register_forward_hook(hook("always"), always_call=True),
        ),
        False,
    ),
    "a removed always_call hook is not called": (
        lambda lib, m, hook: m.register_forward_hook(hook("gone"), always_call=True).remove(),
        True,
    ),
}


@requires_torch
@pytest.mark.parametrize("case", list(ALWAYS_CALL_CASES))
def test_forward_hooks_with_always_call_run_as_in_torch(case):
    import torch

    register, fail = ALWAYS_CALL_CASES[case]
    assert _trace_always_call(ember, register, fail) == _trace_always_call(torch, register, fail)


# ---- state dict --------------------------------------------------------------------------


@requires_torch
def test_state_dict_keys_match_torch():
    import torch

    for make in (
        lambda lib: lib.nn.Linear(3, 2),
        lambda lib: lib.nn.BatchNorm1d(4),
        lambda lib: lib.nn.Sequential(
            lib.nn.Linear(2, 3), lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Linear(3, 1))
        ),
        build,
    ):
        ours, theirs = make(ember), make(torch)
        assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(nn.BatchNorm1d(2).state_dict())[-3:] == ["running_mean", "running_var", "num_batches_tracked"]


def test_state_dict_is_detached_shares_memory_and_skips_non_persistent():
    m = Plain()
    m.register_buffer("scratch", ember.zeros(2), persistent=False)
    state = m.state_dict()
    assert isinstance(state, OrderedDict) and list(state) == ["weight", "count"]
    assert not state["weight"].requires_grad
    state["weight"][0, 0] = 7.0
    assert m.weight[0, 0].item() == 7.0
    assert m.state_dict(keep_vars=True)["weight"] is m.weight
    assert "scratch" in dict(m.named_buffers())


@requires_torch
def test_load_state_dict_from_torch_gives_torch_outputs():
    import torch

    ours, theirs = build(ember), build(torch)
    from_torch(theirs, ours)
    ours.eval(), theirs.eval()
    x = np.random.randn(5, 4).astype(np.float32)
    assert_close(ours(ember.tensor(x)), theirs(torch.tensor(x)), rtol=1e-5, atol=1e-6)


@requires_torch
def test_load_state_dict_errors_and_non_strict_match_torch():
    import torch

    bad = {"weight": np.ones((4, 4), np.float32), "foo": np.ones(1, np.float32)}
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.Linear(2, 3).load_state_dict({k: torch.tensor(v) for k, v in bad.items()})
    with pytest.raises(RuntimeError) as ours:
        nn.Linear(2, 3).load_state_dict({k: ember.tensor(v) for k, v in bad.items()})
    assert str(ours.value).replace("ember.", "torch.") == str(theirs.value)
    assert "size mismatch for weight" in str(ours.value)

    result = nn.Linear(2, 3).load_state_dict({"extra": ember.ones(1)}, strict=False)
    assert result.missing_keys == ["weight", "bias"] and result.unexpected_keys == ["extra"]
    expected = torch.nn.Linear(2, 3).load_state_dict({"extra": torch.ones(1)}, strict=False)
    assert repr(result) == repr(expected)
    assert (
        repr(nn.Linear(2, 3).load_state_dict(nn.Linear(2, 3).state_dict()))
        == "<All keys matched successfully>"
    )


def test_load_state_dict_copies_values_and_casts_dtype():
    source, target = nn.Linear(3, 2), nn.Linear(3, 2)
    weight = target.weight
    target.load_state_dict({k: v.double() for k, v in source.state_dict().items()})
    assert target.weight is weight and target.weight.dtype == ember.float32
    assert ember.equal(target.weight, source.weight)
    target.weight.data[0, 0] = 100.0  # copied, not shared
    assert source.weight[0, 0].item() != 100.0
    assigned = nn.Linear(3, 2)
    assigned.load_state_dict(source.state_dict(), assign=True)
    assert isinstance(assigned.weight, nn.Parameter) and assigned.weight.requires_grad
    # a Parameter is assigned as it is (PyTorch), so an optimizer built over it stays linked
    weight = nn.Parameter(ember.ones(2, 3), requires_grad=False)
    assigned.load_state_dict({"weight": weight, "bias": ember.zeros(2)}, assign=True)
    assert assigned.weight is weight and weight.requires_grad  # the module's requires_grad wins
    assert isinstance(assigned.bias, nn.Parameter)


# ---- printing ----------------------------------------------------------------------------


@requires_torch
def test_repr_of_nested_model_matches_torch():
    import torch

    assert str(build(ember)) == str(build(torch))
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential())
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())

    class Inner(nn.Module):
        def extra_repr(self):
            return "first line\nsecond line"

    outer = nn.Sequential(Inner(), nn.Linear(1, 1))
    assert str(outer) == (
        "Sequential(\n  (0): Inner(\n    first line\n    second line\n  )\n"
        "  (1): Linear(in_features=1, out_features=1, bias=True)\n)"
    )


@requires_torch
def test_parameter_list_and_dict_repr_match_torch():
    import torch

    def make(lib):
        plist = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.ones(3)])
        pdict = lib.nn.ParameterDict(
            {"a": lib.nn.Parameter(lib.ones(2, 3)), "b": lib.ones(3, dtype=lib.float64)}
        )
        return plist, pdict, lib.nn.ParameterList([lib.nn.Parameter(lib.ones(()))])

    for ours, theirs in zip(make(ember), make(torch)):
        assert repr(ours) == repr(theirs).replace("torch.", "ember.")


# ---- containers --------------------------------------------------------------------------


def test_sequential_indexing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    sliced = seq[1:]
    assert isinstance(sliced, nn.Sequential) and list(sliced) == [b, c]
    assert list(sliced._modules) == ["1", "2"]  # slicing keeps the names, as PyTorch
    with pytest.raises(IndexError):
        seq[3]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    seq.append(nn.Sigmoid()).insert(0, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Identity", "Linear", "Tanh", "Linear", "Sigmoid"]
    seq.extend([nn.ReLU()])
    del seq[0]
    assert list(seq._modules) == [str(i) for i in range(5)]
    assert isinstance(seq.pop(-1), nn.ReLU) and len(seq) == 4
    assert len(seq + nn.Sequential(nn.ReLU())) == 5
    x = ember.ones(2, 2)
    assert seq(x).shape == (2, 1)


def test_sequential_times_an_int_repeats_the_same_layers():
    block = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    twice, thrice = block * 2, 3 * block
    assert len(twice) == 4 and len(thrice) == 6 and twice[0] is twice[2]  # shared, as in PyTorch
    assert len(block) == 2
    block *= 2
    assert len(block) == 4 and block[1] is block[3]
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
        block * 0
    with pytest.raises(TypeError, match="unsupported operand"):
        block * 1.5


def test_sequential_from_ordered_dict_uses_the_names():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(seq._modules) == ["fc", "act"]
    assert seq.fc is seq[0]
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]


def test_module_list_behaves_like_a_list():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    layers.append(nn.Tanh())
    layers.extend([nn.Sigmoid()])
    layers.insert(1, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Linear", "Identity", "ReLU", "Tanh", "Sigmoid"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    assert layers[-1] is layers[4]
    del layers[1]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    layers += [nn.ReLU()]
    assert len(layers) == 5 and len(list(layers.parameters())) == 2
    with pytest.raises(TypeError):
        layers.extend(nn.ReLU())


def test_module_dict_behaves_like_a_dict():
    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    heads["b"] = nn.ReLU()
    heads.update([("c", nn.Tanh())])
    assert list(heads) == ["a", "b", "c"] and list(heads.keys()) == ["a", "b", "c"]
    assert "b" in heads and len(heads) == 3
    assert isinstance(heads.pop("b"), nn.ReLU) and "b" not in heads
    assert [k for k, _ in heads.items()] == ["a", "c"]
    with pytest.raises(KeyError):
        heads["zzz"]
    heads.clear()
    assert len(heads) == 0


def test_parameter_list_and_dict_register_parameters():
    plist = nn.ParameterList([nn.Parameter(ember.ones(2)), ember.zeros(3)])
    assert isinstance(plist[1], nn.Parameter) and plist[1].requires_grad  # plain tensors are wrapped
    plist.append(ember.ones(1))
    assert len(plist) == 3 and [n for n, _ in plist.named_parameters()] == ["0", "1", "2"]
    pdict = nn.ParameterDict({"w": ember.ones(2)})
    pdict["b"] = nn.Parameter(ember.zeros(1))
    assert list(pdict) == ["w", "b"] and isinstance(pdict["w"], nn.Parameter)
    assert [n for n, _ in pdict.named_parameters()] == ["w", "b"]
    del pdict["w"]
    assert list(pdict.keys()) == ["b"] and len(list(pdict.parameters())) == 1


def test_deepcopy_of_a_model_is_independent_and_keeps_sharing():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, shared)
    clone = copy.deepcopy(model)
    assert clone[0] is clone[1] and clone[0] is not shared
    clone[0].weight.data[0, 0] = 42.0
    assert shared.weight[0, 0].item() != 42.0


@requires_torch
def test_state_dict_prefix_is_used_as_given_as_in_torch() -> None:
    """prefix="model." gave "model..0.weight" (a dot added after the prefix)."""
    import torch

    keys = []
    for T in (ember, torch):
        model = T.nn.Sequential(T.nn.Linear(1, 1), T.nn.Sequential(T.nn.BatchNorm1d(1)))
        keys.append((list(model.state_dict(prefix="model.")), list(model[0].state_dict(prefix="x"))))
    assert keys[0] == keys[1]


@requires_torch
def test_parameter_dict_orders_keys_as_torch() -> None:
    """A plain dict's keys are sorted (PyTorch's rule, which fixes parameters()' order);
    an OrderedDict, a list of pairs or another ParameterDict keeps its order."""
    import torch

    orders = []
    for T in (ember, torch):

        def p(T=T):
            return T.nn.Parameter(T.ones(1))

        plain = T.nn.ParameterDict({"w": p(), "b": p()})
        orders.append(
            (
                [name for name, _ in plain.named_parameters()],
                list(T.nn.ParameterDict(plain)),
                list(T.nn.ParameterDict(OrderedDict(w=p(), b=p()))),
                list(T.nn.ParameterDict([("w", p()), ("b", p())])),
            )
        )
    assert orders[0] == orders[1]


def test_module_dict_copies_another_in_order() -> None:
    """ModuleDict(ModuleDict) failed: the pairs helper took it for a sequence of pairs."""
    first = nn.ModuleDict({"w": nn.ReLU(), "b": nn.Tanh()})
    copy_ = nn.ModuleDict(first)
    assert list(copy_) == ["w", "b"] and copy_["b"] is first["b"]
