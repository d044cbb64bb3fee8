"""The state-dict protocol against PyTorch: `_metadata` and versions, the four kinds of
state-dict hooks (order, arguments, what they may change), extra state, overrides of
`_load_from_state_dict` with PyTorch's signature, the missing and unexpected keys of
non-strict loads, BatchNorm's format 1, and loading a classic weight_norm checkpoint into the
parametrization. Also Module.get_buffer and set_submodule."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch


def build(lib):
    """The same small model in either library (ember or torch), weights copied when both exist."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.bn = nn.BatchNorm1d(4)
            self.register_buffer("scratch", lib.zeros(2), persistent=False)

        def forward(self, x):
            return self.bn(self.fc(x))

    return nn.Sequential(Block(), nn.Linear(4, 2, bias=False))


def to_ember(sd):
    out = OrderedDict((k, ember.tensor(v.detach().numpy())) for k, v in sd.items())
    if hasattr(sd, "_metadata"):
        out._metadata = OrderedDict((k, dict(v)) for k, v in sd._metadata.items())
    return out


@requires_torch
def test_state_dict_metadata_as_torch():
    import torch

    e, t = build(ember).state_dict(), build(torch).state_dict()
    assert list(e) == list(t)
    assert dict(e._metadata) == dict(t._metadata)  # BatchNorm's format is version 2
    assert dict(build(ember).state_dict(prefix="m.")._metadata) == dict(
        build(torch).state_dict(prefix="m.")._metadata
    )


def record_hooks(lib, model):
    """Register one hook of each kind on the root and on the first block; return the log."""
    log = []
    for where, mod in (("root", model), ("block", model[0])):
        mod.register_state_dict_pre_hook(
            lambda m, prefix, keep_vars, w=where: log.append(("pre", w, prefix, keep_vars))
        )
        mod.register_state_dict_post_hook(
            lambda m, sd, prefix, meta, w=where: log.append(("post", w, prefix, sorted(sd), dict(meta)))
        )
        mod.register_load_state_dict_pre_hook(
            lambda m, sd, prefix, meta, strict, missing, unexpected, errors, w=where: log.append(
                ("load_pre", w, prefix, sorted(sd), dict(meta), strict, list(missing), list(unexpected))
            )
        )
        mod.register_load_state_dict_post_hook(
            lambda m, keys, w=where: log.append(
                ("load_post", w, list(keys.missing_keys), list(keys.unexpected_keys))
            )
        )
    return log


@requires_torch
def test_hooks_run_in_torch_order_with_torch_arguments():
    import torch

    em, tm = build(ember), build(torch)
    elog, tlog = record_hooks(ember, em), record_hooks(torch, tm)
    esd = em.state_dict(keep_vars=True)
    tsd = tm.state_dict(keep_vars=True)
    assert elog == tlog
    elog.clear()
    tlog.clear()
    del esd["1.weight"], tsd["1.weight"]
    esd["extra"] = ember.zeros(1)
    tsd["extra"] = torch.zeros(1)
    em.load_state_dict(esd, strict=False)
    tm.load_state_dict(tsd, strict=False)
    assert elog == tlog


@requires_torch
def test_what_hooks_may_change():
    import torch

    for lib in (ember, torch):
        model = build(lib)
        # a post-hook changes the state dict in place; one that returns something is an error
        model.register_state_dict_post_hook(lambda m, sd, prefix, meta: sd.__delitem__(prefix + "1.weight"))
        assert "1.weight" not in model.state_dict()
        handle = model[0].register_state_dict_post_hook(lambda m, sd, prefix, meta: {})
        with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
            model.state_dict()
        handle.remove()
        # the older private hook may hand back a new dict, which the root's call returns
        model._register_state_dict_hook(lambda m, sd, prefix, meta: OrderedDict(only=sd["0.fc.bias"]))
        assert list(model.state_dict()) == ["only"]

        # a load pre-hook renames old keys; a post-hook forgives a missing key
        model = build(lib)
        old = {k.replace("fc.", "linear."): v for k, v in model.state_dict().items()}
        model[0].register_load_state_dict_pre_hook(
            lambda m, sd, prefix, *rest: [
                sd.__setitem__(k.replace("linear.", "fc."), sd.pop(k)) for k in list(sd)
            ]
        )
        del old["1.weight"]
        with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1.weight"'):
            model.load_state_dict(old)
        model.register_load_state_dict_post_hook(lambda m, keys: keys.missing_keys.remove("1.weight"))
        result = model.load_state_dict(old)
        assert result.missing_keys == [] and result.unexpected_keys == []


class WithExtra(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = ember.nn.Linear(2, 2)
        self.steps = 0

    def get_extra_state(self):
        return {"steps": self.steps, "name": "block"}

    def set_extra_state(self, state):
        self.steps = state["steps"]


def test_extra_state_is_saved_loaded_and_checked(tmp_path):
    model = ember.nn.Sequential(WithExtra(), ember.nn.Linear(2, 1))
    model[0].steps = 7
    sd = model.state_dict()
    assert list(sd) == [
        "0._extra_state",
        "0.fc.weight",
        "0.fc.bias",
        "1.weight",
        "1.bias",
    ]  # own entries first
    assert sd["0._extra_state"] == {"steps": 7, "name": "block"}
    ember.save(sd, tmp_path / "m.pt")
    loaded = ember.load(tmp_path / "m.pt")
    assert dict(loaded._metadata) == dict(sd._metadata)  # ember.save keeps the format versions
    fresh = ember.nn.Sequential(WithExtra(), ember.nn.Linear(2, 1))
    fresh.load_state_dict(loaded)
    assert fresh[0].steps == 7
    del loaded["0._extra_state"]
    assert fresh.load_state_dict(loaded, strict=False).missing_keys == ["0._extra_state"]
    plain = ember.nn.Sequential(ember.nn.Module(), ember.nn.Linear(2, 1))
    result = plain.load_state_dict(
        {"0._extra_state": 1, "1.weight": ember.zeros(1, 2), "1.bias": ember.zeros(1)}, strict=False
    )
    assert result.unexpected_keys == ["0._extra_state"]
    with pytest.raises(RuntimeError, match="get_extra_state"):
        ember.nn.Module().get_extra_state()


@requires_torch
def test_non_strict_keys_as_torch():
    import torch

    base = to_ember(build(torch).state_dict())
    cases = [
        {},
        {"0.fc.weight": None},  # a value that is not a tensor
        {"0.scratch": ember.zeros(2)},  # a non-persistent buffer's key
        {"1.bias": ember.zeros(2)},  # the key of a parameter that is None
        {"0.nothing.weight": ember.zeros(1)},  # under a child that does not exist
        {"2.weight": ember.zeros(1)},
        {"0.bn.running_mean.x": ember.zeros(1)},
    ]
    for extra in cases:
        for drop in ([], ["0.bn.running_var"], ["0.bn.num_batches_tracked", "1.weight"]):
            sd = OrderedDict((k, v) for k, v in base.items() if k not in drop)
            sd._metadata = base._metadata
            sd.update({k: v for k, v in extra.items() if v is not None})
            tsd = OrderedDict((k, torch.tensor(v.numpy())) for k, v in sd.items())
            tsd._metadata = base._metadata
            if None in extra.values():
                sd["0.fc.weight"] = tsd["0.fc.weight"] = "not a tensor"
            e, t = build(ember), build(torch)
            try:
                expected = t.load_state_dict(tsd, strict=False)
            except RuntimeError as error:
                with pytest.raises(RuntimeError, match="expected torch.Tensor or Tensor-like"):
                    e.load_state_dict(sd, strict=False)
                assert "expected torch.Tensor or Tensor-like" in str(error)
                continue
            got = e.load_state_dict(sd, strict=False)
            assert got.missing_keys == expected.missing_keys, (extra, drop)
            assert got.unexpected_keys == expected.unexpected_keys, (extra, drop)


@requires_torch
def test_batchnorm_num_batches_tracked_by_format_version():
    import torch

    for version in (None, 1, 2):
        tb, eb = torch.nn.BatchNorm1d(3), ember.nn.BatchNorm1d(3)
        tsd = tb.state_dict()
        del tsd["num_batches_tracked"]
        if version is None:
            del tsd._metadata
        else:
            tsd._metadata[""]["version"] = version
        esd = to_ember(tsd)
        eb.num_batches_tracked.fill_(5)
        tb.num_batches_tracked.fill_(5)
        assert (
            eb.load_state_dict(esd, strict=False).missing_keys
            == tb.load_state_dict(tsd, strict=False).missing_keys
        )
        assert eb.num_batches_tracked.item() == tb.num_batches_tracked.item() == 5


class OldNames(ember.nn.Module):
    """A layer that renamed `w` to `weight`, and reads old checkpoints in its own
    _load_from_state_dict, with PyTorch's signature."""

    _version = 2

    def __init__(self):
        super().__init__()
        self.weight = ember.nn.Parameter(ember.zeros(3))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        if local_metadata.get("version", 1) < 2 and prefix + "w" in state_dict:
            state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)


def test_override_with_torch_signature_reads_an_old_format():
    model = ember.nn.Sequential(OldNames())
    old = OrderedDict({"0.w": ember.ones(3)})
    old._metadata = OrderedDict({"": {"version": 1}, "0": {"version": 1}})
    model.load_state_dict(old)
    assert model[0].weight.tolist() == [1.0, 1.0, 1.0]
    assert "0.w" in old  # the caller's dict is not changed
    assert model.state_dict()._metadata["0"] == {"version": 2}


@requires_torch
def test_parametrized_weight_norm_loads_a_classic_weight_norm_checkpoint():
    import torch

    classic = torch.nn.utils.weight_norm(torch.nn.Linear(3, 2))
    sd = classic.state_dict()
    assert {"weight_g", "weight_v"} <= set(sd)
    t = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(3, 2))
    e = ember.nn.utils.parametrizations.weight_norm(ember.nn.Linear(3, 2))
    t.load_state_dict(sd)
    e.load_state_dict(to_ember(sd))
    assert_close(e.weight, t.weight)
    assert_close(e.parametrizations.weight.original0, t.parametrizations.weight.original0)


@requires_torch
def test_get_buffer_and_set_submodule_as_torch():
    import torch

    for lib in (ember, torch):
        model = build(lib)
        assert model.get_buffer("0.bn.running_mean") is model[0].bn.running_mean
        with pytest.raises(AttributeError, match="`weight` is not a buffer"):
            model.get_buffer("0.fc.weight")
        with pytest.raises(AttributeError, match="BatchNorm1d has no attribute `nothing`"):
            model.get_buffer("0.bn.nothing")
        new = lib.nn.Linear(3, 4)
        model.set_submodule("0.fc", new)
        assert model[0].fc is new
        with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
            model.set_submodule("0.fc.weight", lib.nn.Linear(1, 1))
        with pytest.raises(AttributeError, match="has no attribute `other`"):
            model.set_submodule("0.other", lib.nn.Linear(1, 1), strict=True)
        model.set_submodule("0.other", lib.nn.Identity())
        assert isinstance(model[0].other, lib.nn.Identity)
        with pytest.raises(ValueError, match="without a target name"):
            model.set_submodule("", lib.nn.Identity())


def test_type_to_empty_and_the_no_op_methods():
    model = build(ember)
    assert model.type(ember.float64) is model and model[1].weight.dtype == ember.float64
    before = model[1].weight
    model.to_empty(device="cpu")
    assert model[1].weight is before and model[1].weight.shape == (2, 4)
    assert model.share_memory() is model and model.compile() is None
    assert ember.nn.Module.call_super_init is False and ember.nn.Module._version == 1
    np.testing.assert_array_equal(model.state_dict()["0.bn.num_batches_tracked"].numpy(), 0)
