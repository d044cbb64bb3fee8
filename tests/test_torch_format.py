"""ember.load reading torch.save files (zip and legacy layouts), and refusing code.

The files are written by torch.save into tmp_path and compared with the objects saved;
the malicious ones are written by hand (no torch needed), each trying to run a command
that would leave a file behind.
"""

from __future__ import annotations

import io
import os
import pickle
import warnings
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import requires_torch

LAYOUTS = [pytest.param(False, id="zip"), pytest.param(True, id="legacy")]


def _torch():
    import torch

    return torch


def _roundtrip(obj, tmp_path, legacy=False, protocol=2, name="ckpt.pt"):
    torch = _torch()
    path = tmp_path / name
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy, pickle_protocol=protocol)
    return ember.load(path)


def _same_tensor(ours, theirs):
    assert type(ours) is (ember.nn.Parameter if type(theirs).__name__ == "Parameter" else ember.Tensor)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.stride() == theirs.stride()
    assert ours.requires_grad == theirs.requires_grad
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


# ---- what a checkpoint holds -----------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("legacy", LAYOUTS)
@pytest.mark.parametrize("protocol", [2, 5])
def test_tensors_of_every_dtype_and_layout(tmp_path, legacy, protocol):
    torch = _torch()
    base = torch.arange(24, dtype=torch.float64).reshape(2, 3, 4)
    tensors = [torch.tensor([1, -2, 3]).to(d) for d in (torch.int8, torch.int16, torch.int32, torch.int64)]
    tensors += [
        torch.tensor([0, 7, 255]).to(d) for d in (torch.uint8, torch.uint16, torch.uint32, torch.uint64)
    ]
    tensors += [torch.tensor([0.5, -1.25, 3e4]).to(d) for d in (torch.float16, torch.float32, torch.float64)]
    tensors += [torch.tensor([1 + 2j, -3.5j]).to(d) for d in (torch.complex64, torch.complex128)]
    tensors += [
        torch.tensor([True, False]),
        torch.tensor(3.5),  # 0-d
        torch.zeros(0, 3),  # empty
        torch.ones(2, 0, dtype=torch.int64),
        base.transpose(0, 2),  # non-contiguous
        base[:, 1:, ::2],  # offset and step
        base.expand(3, 2, 3, 4)[1],  # a zero stride
        torch.randn(3, requires_grad=True),
    ]
    loaded = _roundtrip(tensors, tmp_path, legacy, protocol)
    assert isinstance(loaded, list) and len(loaded) == len(tensors)
    for ours, theirs in zip(loaded, tensors):
        _same_tensor(ours, theirs)


@requires_torch
@pytest.mark.parametrize("legacy", LAYOUTS)
def test_views_and_one_tensor_saved_twice_keep_sharing(tmp_path, legacy):
    torch = _torch()
    base = torch.arange(12.0).reshape(3, 4)
    obj = {"base": base, "row": base[1], "t": base.t(), "again": base}
    loaded = _roundtrip(obj, tmp_path, legacy)
    assert loaded["again"] is loaded["base"]
    ptr = loaded["base"].untyped_storage().data_ptr()
    assert (
        loaded["row"].untyped_storage().data_ptr() == ptr and loaded["t"].untyped_storage().data_ptr() == ptr
    )
    loaded["base"][1, 2] = -1.0  # written through the shared memory, as in torch
    assert loaded["row"].tolist() == [4.0, 5.0, -1.0, 7.0] and loaded["t"][2, 1].item() == -1.0


@requires_torch
@pytest.mark.parametrize("legacy", LAYOUTS)
def test_a_storage_saved_as_a_value_loads_as_an_untyped_storage(tmp_path, legacy):
    torch = _torch()
    t = torch.tensor([1.0, 2.0])
    # t.storage() without its deprecation warning, which torch gives once per process (and
    # test_torch_surface expects)
    storage = torch.storage.TypedStorage(wrap_storage=t.untyped_storage(), dtype=t.dtype, _internal=True)
    typed = _roundtrip({"t": t, "s": storage}, tmp_path, legacy)
    untyped = _roundtrip(t.untyped_storage(), tmp_path, legacy)
    for storage in (typed["s"], untyped):
        assert isinstance(storage, ember.UntypedStorage) and storage.nbytes() == 8
        assert bytes(storage.tolist()) == t.numpy().tobytes()
    assert typed["s"].data_ptr() == typed["t"].untyped_storage().data_ptr()


@requires_torch
@pytest.mark.parametrize("legacy", LAYOUTS)
def test_python_values_containers_and_torch_objects(tmp_path, legacy):
    torch = _torch()
    obj = {
        "none": None,
        "flags": [True, False],
        "numbers": (1, -(2**70), 2.5, float("inf"), 1 - 2j),
        "text": "ünïcode",
        "bytes": b"\x00\xff",
        "bytearray": bytearray(b"ab"),
        "set": {1, "a"},
        "frozenset": frozenset({(1, 2)}),
        "nested": {"a": [{"b": (torch.ones(1),)}], 3: "int key"},
        "size": torch.Size([2, 3]),
        "dtypes": [torch.float32, torch.int64, torch.bool, torch.complex64, torch.half],
        "device": torch.device("cpu"),
        "layout": torch.strided,
        "ordered": OrderedDict([("z", 1), ("a", 2)]),
    }
    loaded = _roundtrip(obj, tmp_path, legacy)
    assert list(loaded) == list(obj)
    for key in ("none", "flags", "text", "bytes", "bytearray", "set", "frozenset", "ordered"):
        assert loaded[key] == obj[key] and type(loaded[key]) is type(obj[key])
    assert loaded["numbers"][:3] == obj["numbers"][:3] and loaded["numbers"][3:] == obj["numbers"][3:]
    assert loaded["nested"]["a"][0]["b"][0].tolist() == [1.0] and loaded["nested"][3] == "int key"
    assert isinstance(loaded["size"], ember.Size) and loaded["size"] == (2, 3)
    assert loaded["dtypes"] == [ember.float32, ember.int64, ember.bool, ember.complex64, ember.float16]
    assert loaded["device"] == ember.device("cpu") and loaded["layout"] is ember.strided
    assert list(loaded["ordered"]) == ["z", "a"]


@requires_torch
@pytest.mark.parametrize("legacy", LAYOUTS)
def test_parameters_keep_requires_grad_and_attributes(tmp_path, legacy):
    torch = _torch()
    frozen = torch.nn.Parameter(torch.ones(2), requires_grad=False)
    tagged = torch.nn.Parameter(torch.zeros(3))
    tagged.tag = "decoder"
    loaded = _roundtrip(
        {"p": torch.nn.Parameter(torch.randn(2, 2)), "frozen": frozen, "tagged": tagged}, tmp_path, legacy
    )
    assert all(isinstance(p, ember.nn.Parameter) for p in loaded.values())
    assert loaded["p"].requires_grad and not loaded["frozen"].requires_grad
    assert loaded["tagged"].tag == "decoder"


@requires_torch
@pytest.mark.parametrize("legacy", LAYOUTS)
def test_state_dict_with_metadata_loads_into_the_same_ember_model(tmp_path, legacy):
    torch = _torch()
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Flatten(), torch.nn.Linear(12, 4)
    )
    theirs(torch.randn(5, 2, 4, 4))  # running statistics and num_batches_tracked move
    theirs.eval()
    state = _roundtrip(theirs.state_dict(), tmp_path, legacy)
    assert type(state) is OrderedDict and state._metadata == theirs.state_dict()._metadata
    assert state["1.num_batches_tracked"].dtype == ember.int64
    ours = ember.nn.Sequential(
        ember.nn.Conv2d(2, 3, 3), ember.nn.BatchNorm2d(3), ember.nn.Flatten(), ember.nn.Linear(12, 4)
    )
    ours.load_state_dict(state, strict=True)
    ours.eval()
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 4)).astype(np.float32)
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(ember.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


@requires_torch
def test_checkpoint_with_optimizer_state_resumes_training_like_torch(tmp_path):
    torch = _torch()
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 1)).astype(np.float32)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()
    checkpoint = {"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(), "loss": 0.5}
    loaded = _roundtrip(checkpoint, tmp_path)
    assert loaded["epoch"] == 3 and loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    ours = ember.nn.Linear(3, 1)
    ours.load_state_dict(loaded["model"])
    our_opt = ember.optim.Adam(ours.parameters(), lr=0.01)
    our_opt.load_state_dict(loaded["optimizer"])
    for _ in range(2):  # training goes on from the same state in both
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()
        our_opt.zero_grad()
        ember.nn.functional.mse_loss(ours(ember.tensor(x)), ember.tensor(y)).backward()
        our_opt.step()
    np.testing.assert_allclose(
        ours.weight.detach().numpy(), model.weight.detach().numpy(), rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(ours.bias.detach().numpy(), model.bias.detach().numpy(), rtol=1e-5, atol=1e-7)


@requires_torch
@pytest.mark.parametrize("protocol", [2, 5])
def test_numpy_numbers_and_arrays_inside_a_checkpoint(tmp_path, protocol):
    # torch.load refuses them unless weights_only=False or allow-listed; they are plain data
    arrays = {"C": np.arange(6).reshape(2, 3), "F": np.asfortranarray(np.ones((2, 3), np.float32))}
    obj = {
        "acc": np.float64(0.75),
        "step": np.int32(-3),
        "flag": np.bool_(True),
        "z": np.complex64(1 - 2j),
        **arrays,
    }
    obj["again"] = obj["C"]
    loaded = _roundtrip(obj, tmp_path, protocol=protocol)
    for key, value in obj.items():
        assert type(loaded[key]) is type(value) and np.asarray(loaded[key]).dtype == np.asarray(value).dtype
        np.testing.assert_array_equal(loaded[key], value)
    assert loaded["again"] is loaded["C"] and loaded["F"].flags.f_contiguous


@requires_torch
@pytest.mark.parametrize(
    "value", [np.array(["text"]), np.array([None], dtype=object), np.zeros(2, [("a", "f4")])]
)
def test_numpy_values_that_are_not_numbers_are_refused(tmp_path, value):
    with pytest.raises(pickle.UnpicklingError, match=r"ckpt\.pt.*NumPy.*numbers only"):
        _roundtrip({"x": value}, tmp_path)


@requires_torch
def test_bfloat16_loads_as_float32_with_a_warning_without_ml_dtypes(tmp_path):
    from test_bfloat16 import without_ml_dtypes  # with ml_dtypes, they load as bfloat16 (there)

    torch = _torch()
    bf = torch.tensor([1.5, -2.0, 3.140625], dtype=torch.bfloat16)
    with without_ml_dtypes(), pytest.warns(UserWarning, match="bfloat16.*float32"):
        loaded = _roundtrip({"w": bf, "p": torch.nn.Parameter(bf.clone())}, tmp_path, legacy=True)
    assert loaded["w"].dtype == ember.float32 and loaded["w"].tolist() == bf.float().tolist()
    assert isinstance(loaded["p"], ember.nn.Parameter) and loaded["p"].tolist() == bf.float().tolist()


@requires_torch
def test_conjugate_view_is_saved_resolved(tmp_path):
    torch = _torch()
    z = torch.tensor([1 + 2j, 3 - 4j])
    assert _roundtrip(z.conj(), tmp_path).tolist() == [1 - 2j, 3 + 4j]


@requires_torch
def test_a_changed_view_with_zero_strides_stays_a_view(tmp_path):
    # a bfloat16 or negative view of one element, saved with a huge shape and zero strides
    # (a file of a few kB): the change is made to the storage, never to 10**12 elements
    torch = _torch()
    huge = (10**6, 10**6)
    bf = torch.tensor([2.5], dtype=torch.bfloat16).as_strided(huge, (0, 0))
    neg = torch.tensor([1.5, 3.0]).as_strided((10**12, 2), (0, 1))._neg_view()
    from test_bfloat16 import without_ml_dtypes  # bfloat16 widened: a changed view

    with without_ml_dtypes(), pytest.warns(UserWarning, match="bfloat16"):
        loaded = _roundtrip({"bf": bf, "neg": neg, "neg2": neg[:10]}, tmp_path)
    assert tuple(loaded["bf"].shape) == huge and loaded["bf"].stride() == bf.stride() == (0, 0)
    assert loaded["bf"][5, 7].item() == 2.5 and loaded["neg"][3, 1].item() == -3.0
    assert loaded["neg"].stride() == (0, 1) and loaded["neg2"][7].tolist() == [-1.5, -3.0]


@requires_torch
def test_attributes_of_a_plain_tensor_are_dropped_with_a_warning(tmp_path):
    torch = _torch()
    t = torch.ones(2)
    t.note = "x"
    with pytest.warns(UserWarning, match="note"):
        assert _roundtrip(t, tmp_path).tolist() == [1.0, 1.0]


@requires_torch
def test_map_location_and_file_objects(tmp_path):
    torch = _torch()
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buffer)
    for location in (None, "cpu", ember.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage):
        buffer.seek(0)
        assert ember.load(buffer, map_location=location, weights_only=True)["w"].tolist() == [1.0, 1.0]
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="CPU only"):
        ember.load(buffer, map_location="cuda")


@requires_torch
def test_a_file_without_byteorder_record_and_a_non_leaf_tensor(tmp_path):
    torch = _torch()
    x = torch.ones(2, requires_grad=True)
    buffer = io.BytesIO()
    torch.save({"y": x * 2}, buffer, _disable_byteorder_record=True)
    buffer.seek(0)
    y = ember.load(buffer)["y"]
    assert y.tolist() == [2.0, 2.0] and y.requires_grad and y.is_leaf  # as torch.load gives it


@requires_torch
def test_a_big_endian_file_is_swapped(tmp_path):
    torch = _torch()
    path = tmp_path / "be.pt"
    torch.save({"f": torch.tensor([1.5, -2.0]), "i": torch.tensor([1, 256], dtype=torch.int32)}, path)
    with zipfile.ZipFile(path) as src:
        entries = {info.filename: src.read(info) for info in src.infolist()}
    entries["be/byteorder"] = b"big"
    entries["be/data/0"] = np.frombuffer(entries["be/data/0"], "<f4").astype(">f4").tobytes()
    entries["be/data/1"] = np.frombuffer(entries["be/data/1"], "<i4").astype(">i4").tobytes()
    with zipfile.ZipFile(path, "w") as out:
        for name, data in entries.items():
            out.writestr(name, data)
    loaded = ember.load(path)
    assert loaded["f"].tolist() == [1.5, -2.0] and loaded["i"].tolist() == [1, 256]


@requires_torch
@settings(max_examples=15, deadline=None)
@given(
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=3),
    dtype=st.sampled_from(["float32", "float64", "int64", "uint8", "bool", "complex64"]),
    transpose=st.booleans(),
    legacy=st.booleans(),
)
def test_random_shapes_and_strides(shape, dtype, transpose, legacy):
    torch = _torch()
    t = (torch.randn(shape) * 10).to(getattr(torch, dtype))
    if transpose and t.dim() >= 2:
        t = t.transpose(0, -1)
    part = t[1:] if t.dim() else t
    buffer = io.BytesIO()
    torch.save({"t": t, "part": part}, buffer, _use_new_zipfile_serialization=not legacy)
    buffer.seek(0)
    loaded = ember.load(buffer)
    _same_tensor(loaded["t"], t)
    _same_tensor(loaded["part"], part)


# ---- what must fail -------------------------------------------------------------------------


class _RunsCommand:
    """Pickles as a call of a dangerous function with one argument."""

    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return (self.function, (self.argument,))


def _torch_zip(path, pickle_bytes):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("evil/data.pkl", pickle_bytes)
        archive.writestr("evil/byteorder", "little")
        archive.writestr("evil/version", "3\n")


def _torch_legacy(path, pickle_bytes):
    header = b"".join(
        pickle.dumps(x, protocol=2) for x in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True})
    )
    path.write_bytes(header + pickle_bytes + pickle.dumps([], protocol=2))


@pytest.mark.parametrize("write", [_torch_zip, _torch_legacy], ids=["zip", "legacy"])
@pytest.mark.parametrize(
    ("function", "named"),
    [(os.system, "system"), (eval, "builtins.eval"), (exec, "builtins.exec"), (getattr, "builtins.getattr")],
    ids=["os.system", "eval", "exec", "getattr"],
)
def test_a_pickle_naming_another_global_is_refused_and_not_run(tmp_path, write, function, named):
    marker = tmp_path / "ran"
    argument = f"touch {marker}" if function is os.system else f"open({str(marker)!r}, 'w')"
    if function is getattr:
        argument = "os"
    payload = pickle.dumps({"weight": [1.0], "x": _RunsCommand(function, argument)}, protocol=2)
    path = tmp_path / "model.pt"
    write(path, payload)
    with pytest.raises(pickle.UnpicklingError, match=rf"model\.pt.*{named}"):
        ember.load(path, weights_only=False)
    assert not marker.exists()


def test_a_whole_object_pickle_is_refused(tmp_path):
    path = tmp_path / "net.pt"
    _torch_zip(path, pickle.dumps({"model": OrderedDict(a=1), "cfg": zipfile.ZipInfo("x")}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"net\.pt.*zipfile\.ZipInfo.*state_dict"):
        ember.load(path)


@pytest.mark.parametrize(
    "payload",
    [
        # BUILD setting an attribute on the shared dtype object, or on a class
        b"\x80\x02ctorch\nfloat32\nN}X\x04\x00\x00\x00nameX\x01\x00\x00\x00xs\x86b.",
        b"\x80\x02ctorch\nTensor\nN}X\x07\x00\x00\x00__add__K\x01s\x86b.",
        # NEWOBJ of an allowed class, REDUCE of something the table holds but never calls
        b"\x80\x02c__builtin__\nset\n)\x81.",
        b"\x80\x02ctorch\nTensor\nK\x05\x85R.",
        # a persistent id that is not a storage
        b"\x80\x02X\x06\x00\x00\x00moduleX\x01\x00\x00\x00m\x86Q.",
        # BUILD giving an OrderedDict an attribute that hides its keys() method
        b"\x80\x02ccollections\nOrderedDict\n)R}X\x04\x00\x00\x00keysK\x01sb.",
    ],
    ids=["build-dtype", "build-class", "newobj", "reduce-class", "persid", "build-hides-method"],
)
def test_pickle_tricks_inside_the_allowed_names_are_refused(tmp_path, payload):
    path = tmp_path / "trick.pt"
    _torch_zip(path, payload)
    add = vars(ember.Tensor)["__add__"]
    with pytest.raises(pickle.UnpicklingError, match=r"trick\.pt.*(not load|storages only)"):
        ember.load(path)
    assert ember.float32.name == "float32" and vars(ember.Tensor)["__add__"] is add


def _shared_60_deep():
    # a list holding one list twice, 60 times over: 2**60 elements printed in full
    nested = []
    for _ in range(60):
        nested = [nested, nested]
    return pickle.dumps(nested, protocol=2)[2:-1]  # without PROTO and STOP


@pytest.mark.parametrize(
    ("payload", "legacy"),
    [
        (b"X\x07\x00\x00\x00storage" + _shared_60_deep() + b"\x86Q.", False),
        (_shared_60_deep() + b")R.", False),
        (b"ctorch\nSize\n" + _shared_60_deep() + b"\x85R.", False),
        (b"]" + _shared_60_deep() + b"a.", True),  # a legacy file's list of storage keys
    ],
    ids=["storage-reference", "reduce", "size", "storage-key"],
)
def test_errors_show_a_shared_nested_value_cut_short(tmp_path, payload, legacy):
    path = tmp_path / "nest.pt"
    if legacy:
        _torch_legacy(path, b"\x80\x02N.")
        path.write_bytes(path.read_bytes()[: -len(pickle.dumps([], protocol=2))] + b"\x80\x02" + payload)
    else:
        _torch_zip(path, b"\x80\x02" + payload)
    with pytest.raises((RuntimeError, pickle.UnpicklingError), match=r"nest\.pt.*\[\[\[") as info:
        ember.load(path)
    assert len(str(info.value)) < 2000


def _shared_tuple_60_deep():
    nested = ()
    for _ in range(60):
        nested = (nested, nested)
    return pickle.dumps(nested, protocol=2)[2:-1]


@pytest.mark.parametrize(
    "payload",
    [
        # a tuple nested 10**6 deep as a dict key: hashing it overflowed the C stack (a crash)
        b"}" + b")" + b"\x85" * 10**6 + b"Ns.",
        # a shared tuple 60 deep as a dict key or a set element: 2**60 items to hash
        b"}" + _shared_tuple_60_deep() + b"Ns.",
        b"c__builtin__\nset\n]" + _shared_tuple_60_deep() + b"a\x85R.",
        # one tuple of 10**5 numbers as a dict key 1100 times: 1.1 * 10**8 items to hash
        b"}"
        + pickle.dumps(tuple(range(100)) * 1000, protocol=2)[2:-1]
        + b"r\xff\x00\x00\x00Ns"
        + b"j\xff\x00\x00\x00Ns" * 1100
        + b".",
    ],
    ids=["deep", "shared-dict-key", "shared-set-element", "repeated-key"],
)
def test_dict_keys_that_take_forever_to_hash_are_refused(tmp_path, payload):
    path = tmp_path / "keys.pt"
    _torch_zip(path, b"\x80\x02" + payload)
    with pytest.raises(RuntimeError, match=r"keys\.pt.*(a tuple nested more than|hashing its dict)"):
        ember.load(path)


@requires_torch
@pytest.mark.parametrize(
    ("opcodes", "name"),
    [
        (b")K\x00s", "SETITEM"),
        (b"(K\x00K\x00u", "SETITEMS"),
        (b"(K\x01\x90", "ADDITEMS"),
        (b"K\x01a", "APPEND"),
    ],
)
def test_opcodes_that_fill_containers_fill_nothing_else(tmp_path, opcodes, name):
    # pickle's own call __setitem__, add or append on whatever is below them: on a tensor of
    # 10**12 elements (zero strides), t[()] = 0 ran for hours and t.add(1) allocated 3.6 TiB
    torch = _torch()
    path = tmp_path / "fill.pt"
    torch.save(torch.zeros(1).as_strided((10**6, 10**6), (0, 0)), path)
    with zipfile.ZipFile(path) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    entries["fill/data.pkl"] = entries["fill/data.pkl"][:-1] + opcodes + b"."
    with zipfile.ZipFile(path, "w") as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    with pytest.raises(pickle.UnpicklingError, match=rf"fill\.pt.*opcode {name} on a Tensor"):
        ember.load(path)


def test_a_dtype_ember_lacks_is_named(tmp_path):
    path = tmp_path / "bf.pt"
    _torch_zip(path, b"\x80\x02ctorch\nfloat8_e4m3fn\n.")
    with pytest.raises(RuntimeError, match=r"bf\.pt.*torch\.float8_e4m3fn"):
        ember.load(path)


@requires_torch
def test_a_sparse_layout_ember_lacks_is_named(tmp_path):
    torch = _torch()
    path = tmp_path / "sparse.pt"
    torch.save({"s": torch.eye(2).to_sparse_csc()}, path)
    with pytest.raises(
        pickle.UnpicklingError, match=r"sparse\.pt' holds a tensor of layout torch\.sparse_csc"
    ):
        ember.load(path)


@requires_torch
@pytest.mark.parametrize("legacy", LAYOUTS)
def test_torch_save_of_a_whole_module_is_refused(tmp_path, legacy):
    torch = _torch()
    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Linear(2, 2), path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(pickle.UnpicklingError, match=r"whole\.pt.*torch\.nn\.modules\.linear\.Linear"):
        ember.load(path)


@requires_torch
@pytest.mark.parametrize("legacy", LAYOUTS)
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_a_truncated_torch_file_raises_naming_it(tmp_path, legacy, keep):
    torch = _torch()
    path = tmp_path / "cut.pt"
    torch.save({"w": torch.ones(64), "b": torch.zeros(3)}, path, _use_new_zipfile_serialization=not legacy)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(RuntimeError, match=r"cut\.pt.*torch\.save file"):
        ember.load(path)


def test_a_tensor_as_pytorch_before_0_4_wrote_it(tmp_path):
    # torch._utils._rebuild_tensor(storage, offset, size, stride), legacy layout, a 2x2 view
    path = tmp_path / "old.pt"
    storage = b"(X\x07\x00\x00\x00storagectorch\nLongStorage\nX\x01\x00\x00\x00kX\x03\x00\x00\x00cpuK\x06NtQ"
    rebuild = b"ctorch._utils\n_rebuild_tensor\n(" + storage + b"K\x01K\x02K\x02\x86K\x03K\x01\x86tR."
    _torch_legacy(path, b"\x80\x02" + rebuild)
    data = path.read_bytes()[: -len(pickle.dumps([], protocol=2))] + pickle.dumps(["k"], protocol=2)
    path.write_bytes(data + (6).to_bytes(8, "little") + np.arange(6, dtype="<i8").tobytes())
    loaded = ember.load(path)
    assert loaded.dtype == ember.int64 and loaded.tolist() == [[1, 2], [4, 5]] and not loaded.requires_grad


def test_a_legacy_storage_used_but_not_listed_raises(tmp_path):
    # its bytes are never read: the tensor would show whatever the memory held before
    path = tmp_path / "unlisted.pt"
    storage = b"(X\x07\x00\x00\x00storagectorch\nLongStorage\nX\x01\x00\x00\x00kX\x03\x00\x00\x00cpuK\x06NtQ"
    _torch_legacy(
        path, b"\x80\x02ctorch._utils\n_rebuild_tensor\n(" + storage + b"K\x00K\x06\x85K\x01\x85tR."
    )
    path.write_bytes(path.read_bytes() + bytes(100))  # the file is larger than the storage
    with pytest.raises(RuntimeError, match=r"unlisted\.pt.*storage 'k' used but not listed"):
        ember.load(path)


def test_a_huge_stated_bytearray_is_not_allocated(tmp_path):
    # BYTEARRAY8 states its length; pickle's own reader allocates it before reading
    path = tmp_path / "big.pt"
    _torch_zip(path, b"\x80\x05\x96" + (1 << 60).to_bytes(8, "little") + b"ab.")
    with pytest.raises(RuntimeError, match=r"big\.pt.*truncated"):
        ember.load(path)


@requires_torch
@pytest.mark.parametrize("opcode", [b"\x8e", b"\x95"], ids=["BINBYTES8", "FRAME"])
def test_a_huge_stated_length_in_a_legacy_file_is_not_asked_of_it(tmp_path, opcode):
    # read from a buffered file, pickle's reader asks for the stated length, which the file
    # allocates before reading: 2**60 bytes raised a bare MemoryError
    path = tmp_path / "long.pt"
    _torch_legacy(path, b"\x80\x04" + opcode + (1 << 60).to_bytes(8, "little") + b"ab.")
    with pytest.raises(RuntimeError, match=r"long\.pt.*truncated or damaged"):
        ember.load(path)


@requires_torch
def test_a_zip_entry_stating_more_bytes_than_the_file_has_is_not_allocated(tmp_path):
    torch = _torch()
    path = tmp_path / "claims.pt"
    torch.save({"w": torch.ones(4)}, path)
    data = bytearray(path.read_bytes())
    header = data.index(b"PK\x01\x02")  # the central directory's entries
    while (
        data[header + 46 : header + 46 + int.from_bytes(data[header + 28 : header + 30], "little")]
        != b"claims/data/0"
    ):
        header = data.index(b"PK\x01\x02", header + 4)
    data[header + 20 : header + 28] = (0xFFFFFFF0).to_bytes(4, "little") * 2  # compressed and full sizes
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r"claims\.pt.*claims/data/0 states 4294967280 bytes, more than"):
        ember.load(path)


def test_damaged_files_raise_naming_the_file(tmp_path):
    # bytes changed at random in whole files and in the zip's pickle: a clear error every time
    torch = _torch()
    rng = np.random.default_rng(0)
    obj = {"w": torch.ones(3, 2).t(), "n": np.float64(2.0), "s": {1}, "b": b"x", "size": torch.Size([1])}
    sources = []
    for legacy, protocol in ((False, 2), (False, 5), (True, 2)):
        buffer = io.BytesIO()
        torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy, pickle_protocol=protocol)
        sources.append((legacy, buffer.getvalue()))
    for trial in range(150):
        legacy, data = sources[trial % len(sources)]
        if legacy or trial % 2:
            damaged = bytearray(data)
        else:  # a valid zip whose pickle is damaged
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                entries = {info.filename: archive.read(info) for info in archive.infolist()}
            damaged = bytearray(entries["archive/data.pkl"])
        for index in rng.integers(0, len(damaged), size=rng.integers(1, 4)):
            damaged[index] = rng.integers(0, 256)
        if not (legacy or trial % 2):
            entries["archive/data.pkl"] = bytes(damaged)
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as archive:
                for name, entry in entries.items():
                    archive.writestr(name, entry)
            damaged = out.getvalue()
        path = tmp_path / "damaged.pt"
        path.write_bytes(bytes(damaged))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ember.load(path)
        except (RuntimeError, pickle.UnpicklingError) as e:
            assert "damaged.pt" in str(e)


def test_a_complex_of_a_huge_int_raises_naming_the_file(tmp_path):
    path = tmp_path / "huge.pt"
    _torch_zip(path, b"\x80\x02c__builtin__\ncomplex\n" + pickle.dumps(10**400, protocol=2)[2:-1] + b"\x85R.")
    with pytest.raises(RuntimeError, match=r"huge\.pt.*OverflowError"):
        ember.load(path)


def test_a_storage_record_shorter_than_its_tensor_raises(tmp_path):
    path = tmp_path / "short.pt"
    storage = b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ"
    rebuild = (
        b"ctorch._utils\n_rebuild_tensor_v2\n("
        + storage
        + b"K\x00K\x04\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR."
    )
    _torch_zip(path, b"\x80\x02" + rebuild)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("evil/data/0", b"\x00" * 8)  # 2 floats of the 4 the pickle expects
    with pytest.raises(RuntimeError, match=r"short\.pt.*evil/data/0 holds 8 bytes"):
        ember.load(path)


def test_ember_checkpoints_still_load_and_save_is_unchanged(tmp_path):
    path = tmp_path / "e.pt"
    ember.save({"w": ember.ones(2)}, path)
    with zipfile.ZipFile(path) as archive:
        assert "index.json" in archive.namelist() and not any(n.endswith(".pkl") for n in archive.namelist())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.load(path)["w"].tolist() == [1.0, 1.0]


# ---- torch.serialization's allow-list functions -----------------------------------------------


@requires_torch
@pytest.mark.parametrize("protocol", [2, 5])
def test_get_unsafe_globals_in_checkpoint_lists_what_load_refuses(tmp_path, protocol):
    torch = _torch()
    path = tmp_path / "mixed.pt"
    torch.save(
        {"model": torch.nn.Linear(2, 2), "state": torch.nn.ReLU().state_dict()},
        path,
        pickle_protocol=protocol,
    )
    assert ember.serialization.get_unsafe_globals_in_checkpoint(path) == ["torch.nn.modules.linear.Linear"]
    if protocol == 2:  # torch's own reader stops at protocol 4's FRAME opcode
        assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == [
            "torch.nn.modules.linear.Linear"
        ]
    clean = tmp_path / "clean.pt"
    torch.save({"w": torch.ones(2), "n": collections_counter()}, clean, pickle_protocol=protocol)
    assert ember.serialization.get_unsafe_globals_in_checkpoint(clean) == []
    ember.save({"w": ember.ones(2)}, tmp_path / "ember.pt")
    assert ember.serialization.get_unsafe_globals_in_checkpoint(tmp_path / "ember.pt") == []
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="checkpoint returned by torch.save"):
        ember.serialization.get_unsafe_globals_in_checkpoint(tmp_path / "text.pt")


@pytest.mark.parametrize("protocol", range(6))
def test_unsafe_globals_are_found_in_every_protocol(tmp_path, protocol):
    # protocol 4+ names a global by two strings, which the memo may hold from earlier data
    obj = {"od": OrderedDict(), "f": os.getcwd, "strings": ["zipfile", "ZipInfo"], "cls": zipfile.ZipInfo}
    path = tmp_path / "p.pt"
    _torch_zip(path, pickle.dumps(obj, protocol=protocol))
    unsafe = ember.serialization.get_unsafe_globals_in_checkpoint(path)
    assert unsafe == sorted([f"{os.getcwd.__module__}.getcwd", "zipfile.ZipInfo"])


@pytest.mark.parametrize(
    "payload",
    [
        b"\x8c\x02os\x8c\x04junk0\x8c\x06system\x93.",  # a string pushed and popped between
        b"\x8c\x02os(\x8c\x04junk1\x8c\x06system\x93.",  # ... and a mark
        b"\x8c\x02os2\x8c\x06system\x93.",  # the module duplicated
    ],
    ids=["pop", "pop-mark", "dup"],
)
def test_a_stack_global_behind_stack_tricks_is_found(tmp_path, payload):
    path = tmp_path / "t.pt"
    _torch_zip(path, b"\x80\x04" + payload)
    assert ember.serialization.get_unsafe_globals_in_checkpoint(path) == ["os.system"]


def collections_counter():
    from collections import Counter

    return Counter("aab")


def test_safe_globals_are_recorded_but_build_nothing(tmp_path):
    S = ember.serialization
    path = tmp_path / "zi.pt"
    _torch_zip(path, pickle.dumps({"info": zipfile.ZipInfo("x")}, protocol=2))
    assert S.get_safe_globals() == []
    with S.safe_globals([zipfile.ZipInfo, (os.getcwd, "posix.getcwd")]):
        assert S.get_safe_globals() == [zipfile.ZipInfo, (os.getcwd, "posix.getcwd")]
        with pytest.raises(pickle.UnpicklingError, match="zipfile.ZipInfo.*add_safe_globals does not change"):
            ember.load(path)
    assert S.get_safe_globals() == []
    S.add_safe_globals([zipfile.ZipInfo])
    try:
        assert S.get_safe_globals() == [zipfile.ZipInfo]
    finally:
        S.clear_safe_globals()
    assert S.get_safe_globals() == []
    with S.safe_globals([zipfile.ZipInfo]):  # leaving the block after a clear, as torch does
        S.clear_safe_globals()
    assert S.get_safe_globals() == []


@requires_torch
def test_serialization_names_match_torch():
    import inspect

    torch = _torch()
    for name in (
        "add_safe_globals",
        "clear_safe_globals",
        "get_safe_globals",
        "get_unsafe_globals_in_checkpoint",
    ):
        ours = inspect.signature(getattr(ember.serialization, name)).parameters
        assert list(ours) == list(inspect.signature(getattr(torch.serialization, name)).parameters), name
