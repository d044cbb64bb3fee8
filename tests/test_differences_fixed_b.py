"""Differences from PyTorch 2.13 that docs/differences.md listed (its second half, from
"Spatial sampling" on) and that are now removed: each case runs in both frameworks and
must give the same exception class and message, or the same values."""

from __future__ import annotations

import array
import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import outcome, requires_torch


def _torch() -> Any:
    import torch

    return torch


def _same(call: Any, rtol: float = 1e-12) -> None:
    """call(ember) and call(torch) raise the same exception class with the same message
    (up to ember's added note in brackets), or return equal values."""
    (e_kind, e_value), (t_kind, t_value) = outcome(ember, call), outcome(_torch(), call)
    assert e_kind == t_kind, (e_value, t_value)
    if e_kind == "raise":
        assert type(e_value) is type(t_value), (e_value, t_value)
        torch_message = str(t_value).split("  (Could this error")[0].strip()
        assert str(e_value).startswith(torch_message), (e_value, t_value)
        return
    if isinstance(e_value, tuple):  # a summary of plain values
        assert e_value == t_value
        return
    e_arr = e_value.numpy() if hasattr(e_value, "numpy") else np.asarray(e_value)
    t_arr = t_value.numpy() if hasattr(t_value, "numpy") else np.asarray(t_value)
    assert str(e_arr.dtype) == str(t_arr.dtype)
    np.testing.assert_allclose(e_arr, t_arr, rtol=rtol, atol=1e-12)


# ---- the random fills' errors for bad probabilities and parameters --------------------------

FILL_ERRORS = {
    "Tensor.bernoulli": lambda T: T.tensor([0.5, 2.0]).bernoulli(),
    "bernoulli of a tensor": lambda T: T.bernoulli(T.tensor([0.5, -1.0])),
    "bernoulli of nan": lambda T: T.bernoulli(T.tensor([0.5, float("nan")])),
    "bernoulli with p": lambda T: T.bernoulli(T.ones(2), 1.5),
    "bernoulli_ number": lambda T: T.ones(3).bernoulli_(2.0),
    "bernoulli_ small": lambda T: T.ones(3).bernoulli_(-1e-7),
    "bernoulli_ tensor": lambda T: T.ones(3).bernoulli_(T.tensor([0.5, 2.0, 0.1])),
    "bernoulli of an int tensor": lambda T: T.bernoulli(T.tensor([1, 0])),
    "bernoulli of a bool tensor": lambda T: T.tensor([True]).bernoulli(),
    "bernoulli_ by an int tensor": lambda T: T.ones(2).bernoulli_(T.tensor([1, 0])),
    "exponential_ 0": lambda T: T.ones(2).exponential_(0.0),
    "geometric_ 1.5": lambda T: T.ones(2).geometric_(1.5),
    "log_normal_ std -1.5": lambda T: T.ones(2).log_normal_(0, -1.5),
    "cauchy_ sigma -2": lambda T: T.ones(2).cauchy_(0, -2.0),
}


@requires_torch
@pytest.mark.parametrize("name", list(FILL_ERRORS))
def test_fill_errors(name: str) -> None:
    _same(FILL_ERRORS[name])


# ---- asarray: what copy=False refuses, and buffers read as raw bytes --------------------------

ASARRAY = {
    "list, copy=False": lambda T: T.asarray([1, 2], copy=False),
    "tuple, copy=False": lambda T: T.asarray((1.0, 2.0), copy=False),
    "number, copy=False": lambda T: T.asarray(3.0, copy=False),
    "list of arrays, copy=False": lambda T: T.asarray([np.ones(2)], copy=False),
    "NumPy scalar, copy=False": lambda T: T.asarray(np.float64(3.0), copy=False),
    "array to another dtype, copy=False": lambda T: T.asarray(np.ones(2), dtype=T.float32, copy=False),
    "tensor to another dtype, copy=False": lambda T: T.asarray(T.ones(2), dtype=T.float64, copy=False),
    "array, copy=False": lambda T: T.asarray(np.arange(3.0), copy=False),
    "bytes": lambda T: T.asarray(b"\x00\x00\x80?\x00\x00\x00@"),
    "bytearray as uint8": lambda T: T.asarray(bytearray(b"ab"), dtype=T.uint8),
    "array.array of doubles": lambda T: T.asarray(array.array("d", [1.0, 2.0])),
    "array.array of ints as int32": lambda T: T.asarray(array.array("i", [1, 2]), dtype=T.int32),
    "list": lambda T: T.asarray([1, 2]),
    "empty bytearray": lambda T: T.asarray(bytearray()),
    "empty array.array": lambda T: T.asarray(array.array("d"), dtype=T.float64),
    "bytes not a multiple of the element size": lambda T: T.asarray(b"abc", dtype=T.int16),
}


@requires_torch
@pytest.mark.parametrize("name", list(ASARRAY))
def test_asarray(name: str) -> None:
    _same(ASARRAY[name])


def test_asarray_shares_a_writable_buffer() -> None:
    buffer = bytearray(8)
    t = ember.asarray(buffer, dtype=ember.int32, copy=False)
    t[1] = 7
    assert bytes(buffer) == b"\x00" * 4 + b"\x07\x00\x00\x00"
    assert ember.asarray(b"\x01\x00", dtype=ember.int16).tolist() == [1]  # read-only bytes: copied


# ---- big-endian arrays are refused, as PyTorch refuses them ---------------------------------

BIG_ENDIAN = {
    "tensor": lambda T: T.tensor(np.arange(3, dtype=">f4")),
    "tensor with a dtype": lambda T: T.tensor(np.arange(3, dtype=">f4"), dtype=T.float64),
    "tensor of ints": lambda T: T.tensor(np.arange(3, dtype=">i8")),
    "from_numpy": lambda T: T.from_numpy(np.arange(3, dtype=">f8")),
    "as_tensor": lambda T: T.as_tensor(np.arange(3, dtype=">i4")),
    "little-endian bytes": lambda T: T.tensor(np.arange(3, dtype="<u1")),
    # inside a list PyTorch reads them element by element, keeping their dtype
    "a list of big-endian ints": lambda T: T.tensor([np.arange(3, dtype=">i4"), np.arange(3, dtype=">i4")]),
    "a list of big-endian floats": lambda T: T.tensor([np.arange(3, dtype=">f4")]),
    "a nested list of mixed orders": lambda T: T.tensor([[np.arange(2, dtype=">i2"), np.arange(2.0)]]),
}


@requires_torch
@pytest.mark.parametrize("name", list(BIG_ENDIAN))
def test_big_endian(name: str) -> None:
    _same(BIG_ENDIAN[name])


# ---- size and stride take axis for dim --------------------------------------------------------


@requires_torch
def test_size_and_stride_take_axis() -> None:
    _same(lambda T: T.ones(2, 3).size(axis=1))
    _same(lambda T: T.ones(2, 3).t().stride(axis=0))
    _same(lambda T: T.ones(2, 3).size(axis=2))
    # both names at once: PyTorch refuses, ember no longer takes axis over dim silently
    _same(lambda T: T.ones(2, 3).size(0, axis=1))
    _same(lambda T: T.ones(2, 3).size(dim=0, axis=1))
    _same(lambda T: T.ones(2, 3).stride(0, axis=1))


# ---- dropout3d of another rank warns and goes on ---------------------------------------------


@requires_torch
@pytest.mark.parametrize("shape", [(6,), (4, 5), (8, 4, 5), (2, 3, 4, 5, 6, 2), ()])
@pytest.mark.parametrize("inplace", [False, True])
def test_dropout3d_other_ranks(shape: tuple, inplace: bool) -> None:
    results = {}
    for T in (ember, _torch()):
        x = T.ones(shape)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            kind, y = outcome(T, lambda T, x=x: T.nn.functional.dropout3d(x, 0.5, inplace=inplace))
        messages = [str(w.message) for w in caught]
        if kind == "raise":
            results[T.__name__] = (kind, type(y), str(y).split(" (")[0], messages)  # less ember's note
            continue
        dropped = (y == 0).numpy()
        # one draw per element of dim 0 (each a channel of an unbatched sample)
        per_channel = len(shape) < 2 or all(len(set(dropped[i].ravel())) == 1 for i in range(shape[0]))
        values = set(np.unique(y.numpy()).tolist()) <= {0.0, 2.0}
        results[T.__name__] = (kind, tuple(y.shape), y is x, per_channel, values, messages)
    assert results["ember"] == results["torch"]


def test_dropout3d_of_a_0d_input_names_its_shape() -> None:
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match=r"got shape \[\];"):
        ember.nn.functional.dropout3d(ember.ones(()), 0.5)
    with pytest.warns(UserWarning):  # eval: returned as it is, as in PyTorch
        assert ember.nn.functional.dropout3d(ember.ones(()), 0.5, training=False).shape == ()


def test_dropout3d_other_ranks_gradient() -> None:
    x = ember.ones(8, 4, 5, requires_grad=True)
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        y = ember.nn.functional.dropout3d(x * 1, 0.5, inplace=True)
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), y.detach().numpy())


# ---- ln_structured with the nuclear norm of each channel's matrix ----------------------------


@requires_torch
@pytest.mark.parametrize(
    ("shape", "dim"),
    [((6, 3, 4), 0), ((6, 3, 4), 1), ((6, 3, 4), -1), ((6, 0, 4), 0), ((5, 3), 0), ((4, 2, 2, 2), 0)],
)
def test_ln_structured_nuclear(shape: tuple, dim: int) -> None:
    import torch.nn.utils.prune  # noqa: F401 - torch does not import it with torch.nn

    w = np.random.default_rng(0).standard_normal(shape).astype(np.float32)

    def call(T: Any) -> Any:
        m = T.nn.Module()
        m.weight = T.nn.Parameter(T.tensor(w))
        T.nn.utils.prune.ln_structured(m, "weight", 0.5, n="nuc", dim=dim)
        return m.weight_mask

    _same(call)


# ---- natural parameters and log normalizers of the exponential families ----------------------


def _family(T: Any, name: str) -> Any:
    D = T.distributions

    def t(*values: Any) -> Any:
        return T.tensor(*values, dtype=T.float64)

    return {
        "Normal": lambda: D.Normal(t([0.3, 1.0]), t([1.5, 0.2])),
        "Exponential": lambda: D.Exponential(t([0.3, 2.0])),
        "Gamma": lambda: D.Gamma(t([0.3, 2.0]), t([1.5, 0.7])),
        "Chi2": lambda: D.Chi2(t([0.3, 2.0])),
        "Beta": lambda: D.Beta(t([0.3, 2.0]), t([1.5, 0.7])),
        "Dirichlet": lambda: D.Dirichlet(t([[0.3, 2.0, 1.0], [1.0, 1.0, 4.0]])),
        "Bernoulli": lambda: D.Bernoulli(t([0.3, 0.9])),
        "Poisson": lambda: D.Poisson(t([0.3, 4.0])),
    }[name]()


FAMILIES = ["Normal", "Exponential", "Gamma", "Chi2", "Beta", "Dirichlet", "Bernoulli", "Poisson"]


@requires_torch
@pytest.mark.parametrize("name", FAMILIES)
def test_exponential_family_parts(name: str) -> None:
    for i in range(len(_family(ember, name)._natural_params)):
        _same(lambda T, i=i: _family(T, name)._natural_params[i].detach())
    _same(lambda T: _family(T, name)._log_normalizer(*_family(T, name)._natural_params).detach())
    # the Bregman entropy where PyTorch has a carrier measure, and its NotImplementedError elsewhere
    _same(lambda T: T.distributions.ExponentialFamily.entropy(_family(T, name)).detach())


@pytest.mark.parametrize("name", ["Normal", "Exponential", "Gamma", "Bernoulli"])
def test_bregman_entropy_is_the_closed_form(name: str) -> None:
    d = _family(ember, name)
    bregman = ember.distributions.ExponentialFamily.entropy(d)
    np.testing.assert_allclose(bregman.detach().numpy(), d.entropy().numpy(), rtol=1e-12)


# ---- BlockMask.sparsity is a Python float ------------------------------------------------------


@requires_torch
def test_block_mask_sparsity_is_a_float() -> None:
    for T in (ember, _torch()):
        flex = __import__(f"{T.__name__}.nn.attention.flex_attention", fromlist=["create_block_mask"])
        mask = flex.create_block_mask(lambda b, h, q, k: q >= k, None, None, 256, 256, device="cpu")
        assert type(mask.sparsity()) is float
    _same(
        lambda T: (
            __import__(f"{T.__name__}.nn.attention.flex_attention", fromlist=["x"])
            .create_block_mask(lambda b, h, q, k: q >= k, None, None, 256, 256, device="cpu")
            .sparsity()
        )
    )


# ---- zeros and empty with a sparse layout ------------------------------------------------------


def _sparse_summary(s: Any) -> tuple:
    return (
        str(s.layout).split(".")[-1],
        s._nnz(),
        str(s.dtype).split(".")[-1],
        tuple(s.shape),
        s.requires_grad,
    )


SPARSE_FACTORIES = {
    f"{name} {layout} {shape}": (name, layout, shape)
    for name in ("zeros", "empty")
    for layout in ("sparse_coo", "sparse_csr", "sparse_csc")
    for shape in ((2, 3), (2,), (0, 3))
}


@requires_torch
@pytest.mark.parametrize("case", list(SPARSE_FACTORIES))
def test_sparse_factories(case: str) -> None:
    name, layout, shape = SPARSE_FACTORIES[case]
    _same(lambda T: _sparse_summary(getattr(T, name)(*shape, layout=getattr(T, layout))))


@requires_torch
def test_sparse_factory_arguments() -> None:
    _same(lambda T: _sparse_summary(T.zeros(2, 3, layout=T.sparse_coo, dtype=T.float64, requires_grad=True)))
    _same(lambda T: _sparse_summary(T.zeros(size=(2, 3), layout=T.sparse_csr, dtype=T.int64)))
    _same(lambda T: T.zeros(2, 3, layout=T.sparse_coo).is_coalesced())
    _same(lambda T: (T.zeros(2, 3, layout=T.sparse_coo) + T.eye(2, 3).to_sparse()).to_dense())
    _same(lambda T: T.empty(3, 2, layout=T.sparse_csc).to_dense())


# ---- spectral_norm's state-dict version and checkpoints of the format before it --------------


@requires_torch
def test_spectral_norm_state_dict_metadata() -> None:
    def metadata(T: Any) -> tuple:
        model = T.nn.Sequential(T.nn.utils.spectral_norm(T.nn.Linear(3, 2)), T.nn.Linear(2, 2))
        state = model.state_dict()
        removed = T.nn.utils.remove_spectral_norm(T.nn.utils.spectral_norm(T.nn.Linear(3, 2)))
        return tuple(sorted(state)), repr(dict(state._metadata)), repr(dict(removed.state_dict()._metadata))

    _same(metadata)


@requires_torch
def test_spectral_norm_loads_the_old_format() -> None:
    torch = _torch()
    torch.manual_seed(0)
    made = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 2))
    made(torch.ones(1, 3))
    # the format before version 1: `weight` (the normalised weight) instead of `weight_v`
    old = {k: v.detach().numpy().copy() for k, v in made.state_dict().items() if k != "weight_v"}
    old["weight"] = made.weight.detach().numpy().copy()

    def load(T: Any, drop: str = "", strict: bool = True) -> Any:
        layer = T.nn.utils.spectral_norm(T.nn.Linear(3, 2))
        result = layer.load_state_dict({k: T.tensor(v) for k, v in old.items() if k != drop}, strict=strict)
        layer.eval()
        return layer(T.ones(1, 3)).detach(), tuple(result.missing_keys), tuple(result.unexpected_keys)

    _same(lambda T: load(T)[0], rtol=1e-5)  # v is solved from u and sigma: the same normalised weight
    _same(lambda T: load(T)[1:])
    _same(lambda T: load(T, drop="weight_u", strict=False)[1:])
    _same(lambda T: load(T, drop="weight_u"))


# ---- isclose and allclose compare tensors of one dtype ---------------------------------------

CLOSE = {
    "allclose complex, real": lambda T: T.allclose(T.tensor([1 + 0j, 2]), T.tensor([1.0, 2.0])),
    "allclose real, complex": lambda T: T.tensor([1.0, 2.0]).allclose(T.tensor([1 + 0j, 2])),
    "isclose float32, float64": lambda T: T.isclose(T.ones(2), T.ones(2, dtype=T.float64)),
    "isclose float32, 0-d float64": lambda T: T.isclose(T.ones(2), T.tensor(1.0, dtype=T.float64)),
    "isclose float32, int64": lambda T: T.isclose(T.ones(2), T.tensor([1, 2])),
    "isclose complex64, complex128": lambda T: T.tensor([1 + 0j]).isclose(
        T.tensor([1 + 0j], dtype=T.complex128)
    ),
    "isclose one dtype": lambda T: T.isclose(T.tensor([1.0, 2.0]), T.tensor([1.0, 2.1])),
    "allclose bool": lambda T: T.allclose(T.tensor([True]), T.tensor([True])),
}


@requires_torch
@pytest.mark.parametrize("name", list(CLOSE))
def test_isclose_dtypes(name: str) -> None:
    _same(CLOSE[name])


# ---- new_zeros and new_empty keep a sparse tensor's layout -------------------------------------

NEW_SPARSE = {
    f"{conversion} {method} {form}": (conversion, method, form)
    for conversion in ("to_sparse", "to_sparse_csr", "to_sparse_csc")
    for method in ("new_zeros", "new_empty")
    for form in ("size", "float64 requires_grad", "strided")
}


@requires_torch
@pytest.mark.parametrize("case", list(NEW_SPARSE))
def test_new_zeros_of_sparse(case: str) -> None:
    conversion, method, form = NEW_SPARSE[case]

    def call(T: Any) -> tuple:
        s = getattr(T.tensor([[0.0, 1.0], [2.0, 0.0]]), conversion)()
        kwargs = {
            "size": {},
            "float64 requires_grad": {"dtype": T.float64, "requires_grad": True},
            "strided": {"layout": T.strided},
        }[form]
        out = getattr(s, method)((3, 2), **kwargs)
        if out.layout == T.strided:
            return str(out.layout).split(".")[-1], tuple(out.shape), str(out.dtype).split(".")[-1]
        return (*_sparse_summary(out), out.to_dense().sum().item())

    _same(call)
