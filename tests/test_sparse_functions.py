"""ember's function forms (`ember.abs(s)`, `ember.add(d, s)`, `ember.select(s, 0, 1)`, ...)
on sparse tensors, compared with PyTorch's: the same layout, shape, dtype and values where
PyTorch computes, the same exception class where it raises (ember's names the function).
Also indexing with None, '...' and 0-d tensors, and the checks of sparse index_select and
pow."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_sparse_call_as_torch, requires_torch


def S(T: Any, layout: str = "coo", dtype: str | None = None, hybrid: bool = False) -> Any:
    """A coalesced (3, 4) sparse tensor of four elements, or (3, 4, 2) with a dense dimension."""
    i = T.tensor([[0, 1, 1, 2], [1, 0, 3, 2]])
    v = (
        T.tensor([[1.5, 1.0], [-2.0, 3.0], [0.25, -1.0], [4.0, 0.5]])
        if hybrid
        else T.tensor([1.5, -2.0, 0.25, 4.0])
    )
    if dtype is not None:
        v = v.to(getattr(T, dtype))
    s = T.sparse_coo_tensor(i, v, (3, 4, 2) if hybrid else (3, 4)).coalesce()
    return s.to_sparse_csr() if layout == "csr" else s


def D(T: Any, *shape: int) -> Any:
    return T.arange(float(np.prod(shape))).reshape(shape) / 3 - 1


def U(T: Any, dtype: str | None = None) -> Any:
    """An uncoalesced (3, 4) COO tensor: (1, 3) and (2, 2) are listed twice, in no order."""
    i = T.tensor([[2, 1, 0, 1, 1, 2], [2, 3, 1, 0, 3, 2]])
    v = T.tensor([2.0, 0.5, 1.5, -2.0, -0.25, 2.0])
    return T.sparse_coo_tensor(i, v if dtype is None else v.to(getattr(T, dtype)), (3, 4))


CASES: dict[str, Any] = {}

# zero-preserving functions of one tensor: values only, the layout kept
for _name in """abs absolute neg negative sqrt square tanh sin sinh asin asinh atan atanh tan expm1 log1p
sign sgn ceil floor round trunc frac erf erfinv deg2rad rad2deg relu isnan isinf signbit nan_to_num
clone exp log cos sigmoid logit isfinite logical_not""".split():
    for _layout in ("coo", "csr"):
        CASES[f"{_name} {_layout}"] = (lambda n, lay: lambda T: getattr(T, n)(S(T, lay)))(_name, _layout)
CASES["abs int64"] = lambda T: T.abs(S(T, dtype="int64"))
CASES["neg int64"] = lambda T: T.neg(S(T, dtype="int64"))
CASES["sqrt int64"] = lambda T: T.sqrt(S(T, dtype="int64"))
# a sparse tensor's stand-in for an array refuses ==, which gave a 0-d False here
CASES["isposinf"] = lambda T: T.isposinf(S(T) / 0)
CASES["isneginf"] = lambda T: T.isneginf(S(T) / 0)
CASES["isposinf int64"] = lambda T: T.isposinf(S(T, dtype="int64"))
CASES["isneginf int64"] = lambda T: T.isneginf(S(T, dtype="int64"))
for _name in ("abs", "absolute", "sgn", "neg", "sqrt"):  # complex values: a dense path of their own
    CASES[f"{_name} complex64"] = (lambda n: lambda T: getattr(T, n)(S(T, dtype="complex64")))(_name)
CASES["round decimals"] = lambda T: T.round(S(T) * 0.123, decimals=1)
CASES["nan_to_num args"] = lambda T: T.nan_to_num(T.sqrt(S(T)), nan=7.0)
CASES["tanh hybrid"] = lambda T: T.tanh(S(T, hybrid=True))
CASES["F.relu"] = lambda T: T.nn.functional.relu(S(T))
CASES["F.relu csr"] = lambda T: T.nn.functional.relu(S(T, "csr"))
CASES["sin under no_grad"] = lambda T: (lambda s: T.sin(s))(S(T))

# arithmetic
CASES |= {
    "add s s": lambda T: T.add(S(T), S(T)),
    "add s s alpha": lambda T: T.add(S(T), S(T), alpha=2),
    "add d s": lambda T: T.add(D(T, 3, 4), S(T)),
    "add d s alpha": lambda T: T.add(D(T, 3, 4), S(T), alpha=2),
    "add s d": lambda T: T.add(S(T), D(T, 3, 4)),
    "add s number": lambda T: T.add(S(T), 2),
    "add d s of another size": lambda T: T.add(D(T, 1, 4), S(T)),
    "add csr csr": lambda T: T.add(S(T, "csr"), S(T, "csr")),
    "add d csr": lambda T: T.add(D(T, 3, 4), S(T, "csr")),
    "sub s s": lambda T: T.sub(S(T), S(T)),
    "sub s s alpha": lambda T: T.sub(S(T), S(T), alpha=2),
    "sub d s": lambda T: T.sub(D(T, 3, 4), S(T)),
    "sub s d": lambda T: T.sub(S(T), D(T, 3, 4)),
    "subtract s s": lambda T: T.subtract(S(T), S(T)),
    "mul s s": lambda T: T.mul(S(T), S(T)),
    "mul s number": lambda T: T.mul(S(T), 2),
    "mul s d": lambda T: T.mul(S(T), D(T, 3, 4)),
    "mul d s": lambda T: T.mul(D(T, 3, 4), S(T)),
    "mul s 0-d": lambda T: T.mul(S(T), T.tensor(2.0)),
    "multiply s s": lambda T: T.multiply(S(T), S(T)),
    "mul csr number": lambda T: T.mul(S(T, "csr"), 2),
    "mul csr csr": lambda T: T.mul(S(T, "csr"), S(T, "csr")),
    "div s number": lambda T: T.div(S(T), 2),
    "div s 0-d": lambda T: T.div(S(T), T.tensor(2.0)),
    "div s d": lambda T: T.div(S(T), D(T, 3, 4)),
    "div floor": lambda T: T.div(S(T), 2, rounding_mode="floor"),
    "div trunc": lambda T: T.div(S(T), 2, rounding_mode="trunc"),
    # rounding is not linear: the sums of repeated entries are rounded, not each entry
    "div floor uncoalesced": lambda T: T.div(U(T), 2, rounding_mode="floor"),
    "div trunc uncoalesced": lambda T: T.div(U(T), 3, rounding_mode="trunc"),
    "floor_divide uncoalesced": lambda T: T.floor_divide(U(T), 2),
    "// uncoalesced": lambda T: U(T) // 2,
    "div_ floor uncoalesced": lambda T: U(T).div_(2, rounding_mode="floor"),
    "floor_divide_ uncoalesced": lambda T: U(T).floor_divide_(2),
    "div uncoalesced": lambda T: T.div(U(T), 2),
    "divide": lambda T: T.divide(S(T), 2),
    "true_divide": lambda T: T.true_divide(S(T), 2),
    "floor_divide": lambda T: T.floor_divide(S(T), 2),
    "maximum": lambda T: T.maximum(S(T), S(T)),
    "clamp": lambda T: T.clamp(S(T), -1, 1),
    "eq": lambda T: T.eq(S(T), S(T)),
}
# pow: a number exponent, the values' dtype kept
for _label, _call in {
    "2": lambda T, s: T.pow(s, 2),
    "3.0": lambda T, s: T.pow(s, 3.0),
    "-1": lambda T, s: T.pow(s, -1),
    "0": lambda T, s: T.pow(s, 0),
    "0.0": lambda T, s: T.pow(s, 0.0),
    "a tensor": lambda T, s: T.pow(s, T.tensor(2.0)),
    "of a number": lambda T, s: T.pow(2, s),
    "complex": lambda T, s: T.pow(s, 1j),
    "operator 0.5": lambda T, s: s**0.5,
    "operator sparse": lambda T, s: s**s,
    "method": lambda T, s: s.pow(2),
    "float_power": lambda T, s: T.float_power(s, 2),
    "float_power method": lambda T, s: s.float_power(2),
}.items():
    for _dtype in ("float32", "int64", "bool"):
        CASES[f"pow {_label} {_dtype}"] = (lambda c, dt: lambda T: c(T, S(T, dtype=dt)))(_call, _dtype)
CASES["pow csr"] = lambda T: T.pow(S(T, "csr"), 2)

# dimensions
CASES |= {
    "t": lambda T: T.t(S(T)),
    "transpose": lambda T: T.transpose(S(T), 0, 1),
    "transpose dense dims": lambda T: T.transpose(S(T, hybrid=True), 2, -1),
    "transpose sparse with dense": lambda T: T.transpose(S(T, hybrid=True), 0, 2),
    "swapaxes": lambda T: T.swapaxes(S(T), 0, 1),
    "swapdims": lambda T: T.swapdims(S(T), 1, 0),
    "adjoint": lambda T: T.adjoint(S(T)),
    "permute": lambda T: T.permute(S(T), (1, 0)),
    "permute hybrid": lambda T: T.permute(S(T, hybrid=True), (1, 0, 2)),
    "permute mixing": lambda T: T.permute(S(T, hybrid=True), (2, 0, 1)),
    "permute method": lambda T: S(T).permute(1, 0),
    "unsqueeze 0": lambda T: T.unsqueeze(S(T), 0),
    "unsqueeze 1": lambda T: T.unsqueeze(S(T), 1),
    "unsqueeze -1": lambda T: T.unsqueeze(S(T), -1),
    "unsqueeze hybrid 3": lambda T: T.unsqueeze(S(T, hybrid=True), 3),
    "unsqueeze out of range": lambda T: T.unsqueeze(S(T), 4),
    "squeeze": lambda T: T.squeeze(S(T)),
    "reshape": lambda T: T.reshape(S(T), (4, 3)),
    "narrow": lambda T: T.narrow(S(T), 0, 1, 2),
    "select": lambda T: T.select(S(T), 0, 1),
    "select dim 1": lambda T: T.select(S(T), 1, -1),
    "select csr": lambda T: T.select(S(T, "csr"), 0, 1),
    "select dense dim": lambda T: T.select(S(T, hybrid=True), 2, 1),
    "select a 0-d tensor": lambda T: T.select(S(T), 0, T.tensor(1)),
    "select out of range": lambda T: T.select(S(T), 0, 3),
    # an element: the sum of its entries, in the values' dtype
    "select to an element int32": lambda T: T.select(T.select(S(T, dtype="int32"), 0, 1), 0, 3),
    "select to an element bool": lambda T: T.select(T.select(S(T, dtype="bool"), 0, 1), 0, 0),
    "select to an element int8 uncoalesced": lambda T: T.select(T.select(U(T, "int8"), 0, 2), 0, 2),
    "select to an element bool uncoalesced": lambda T: T.select(T.select(U(T, "bool"), 0, 1), 0, 3),
    "s[1, 3] int32": lambda T: S(T, dtype="int32")[1, 3],
    "s[0, 0] bool": lambda T: S(T, dtype="bool")[0, 0],
    "select dim out of range": lambda T: T.select(S(T), 2, 0),
    "sum": lambda T: T.sum(S(T)),
    "sum dim": lambda T: T.sum(S(T), 0),
    "sum dim 1": lambda T: T.sum(S(T), 1),
    "sum keepdim": lambda T: T.sum(S(T), 0, keepdim=True),
    "sum dtype": lambda T: T.sum(S(T), dtype=T.float64),
    "sum int64": lambda T: T.sum(S(T, dtype="int64")),
    "sum csr": lambda T: T.sum(S(T, "csr")),
    "sparse.sum": lambda T: T.sparse.sum(S(T)),
    "sparse.sum dim": lambda T: T.sparse.sum(S(T), 1),
    "mean": lambda T: T.mean(S(T)),
    "prod": lambda T: T.prod(S(T)),
    "amax": lambda T: T.amax(S(T)),
    "mm s d": lambda T: T.mm(S(T), D(T, 4, 2)),
    "mm d s": lambda T: T.mm(D(T, 2, 3), S(T)),
    "matmul s d": lambda T: T.matmul(S(T), D(T, 4, 2)),
    "sparse.mm": lambda T: T.sparse.mm(S(T), D(T, 4, 2)),
    "sparse.softmax": lambda T: T.sparse.softmax(S(T), 1),
    "sparse.log_softmax": lambda T: T.sparse.log_softmax(S(T), 0),
    "softmax": lambda T: T.softmax(S(T), 1),
    "where": lambda T: T.where(D(T, 3, 4) > 0, S(T), 0.0),
}
# methods whose arguments the functions share
CASES |= {
    "div method floor": lambda T: S(T).div(2, rounding_mode="floor"),
    "div_ trunc": lambda T: S(T).div_(3, rounding_mode="trunc"),
    "round method decimals": lambda T: S(T).round(decimals=1),
    "round method": lambda T: S(T).round(),
    "softmax method": lambda T: S(T).softmax(1),
    "log_softmax method": lambda T: S(T).log_softmax(0),
    "neg_": lambda T: S(T).neg_(),
    "abs_ csr": lambda T: S(T, "csr").abs_(),
    "mul_": lambda T: S(T).mul_(S(T)),
    "add_ alpha": lambda T: S(T).add_(S(T), alpha=2),
    "sub_": lambda T: S(T).sub_(S(T) * 3),
    "sub_ csr": lambda T: S(T, "csr").sub_(S(T, "csr")),
    "zero_": lambda T: S(T).zero_(),
    "relu_": lambda T: T.relu_(S(T)),
    "F.relu_": lambda T: T.nn.functional.relu_(S(T)),
    # the function forms of the in-place methods (ember.sin_(s) is s.sin_())
    **{
        f"{_name} function": (lambda n: lambda T: getattr(T, n)(S(T)))(_name)
        for _name in """sin_ sinh_ tan_ asin_ arcsin_ asinh_ atan_ atanh_ expm1_ log1p_ sign_ sgn_ floor_
        trunc_ fix_ frac_ erf_ erfinv_ deg2rad_ rad2deg_ zero_ abs_ neg_ sqrt_ ceil_ round_ exp_ cos_""".split()
    },
    "square_": lambda T: S(T).square_(),
    "pow_": lambda T: S(T).pow_(2),
    "add_ of a number": lambda T: S(T).add_(1),
}

# joining, creating like, narrowing, whole-tensor reductions, batched products
CASES |= {
    "cat": lambda T: T.cat([S(T), 2 * S(T)]),
    "cat dim 1": lambda T: T.cat([S(T), S(T)], 1),
    "cat dense dim": lambda T: T.cat([S(T, hybrid=True), S(T, hybrid=True) * 3], 2),
    "cat one": lambda T: T.cat([S(T)]),
    "cat dtypes": lambda T: T.cat([S(T), S(T).double()]),
    "cat with a dense tensor": lambda T: T.cat([S(T), D(T, 3, 4)]),
    "cat csr": lambda T: T.cat([S(T, "csr"), S(T, "csr")]),
    "cat sizes": lambda T: T.cat([S(T), S(T).t()], 0),
    "concat": lambda T: T.concat([S(T), S(T)], -1),
    "stack": lambda T: T.stack([S(T), S(T) * 2]),
    "stack dim 1": lambda T: T.stack([S(T), S(T)], 1),
    "stack dim -1": lambda T: T.stack([S(T), S(T)], -1),
    "stack sizes": lambda T: T.stack([S(T), S(T).t()]),
    "zeros_like": lambda T: T.zeros_like(S(T)),
    "zeros_like hybrid": lambda T: T.zeros_like(S(T, hybrid=True)),
    "zeros_like csr": lambda T: T.zeros_like(S(T, "csr")),
    "zeros_like dtype": lambda T: T.zeros_like(S(T), dtype=T.float64),
    "zeros_like strided": lambda T: T.zeros_like(S(T), layout=T.strided),
    "empty_like shape": lambda T: (lambda e: (str(e.layout)[-10:], tuple(e.shape), e._nnz()))(
        T.empty_like(S(T))
    ),
    "narrow_copy past the end": lambda T: T.narrow_copy(S(T), 1, 3, 2),
    "narrow_copy": lambda T: T.narrow_copy(S(T), 1, 1, 2),
    "narrow_copy negative start": lambda T: T.narrow_copy(S(T), 0, -2, 2),
    "narrow_copy dense dim": lambda T: T.narrow_copy(S(T, hybrid=True), 2, 1, 1),
    "narrow_copy csr": lambda T: T.narrow_copy(S(T, "csr"), 0, 1, 1),
    "norm": lambda T: T.norm(S(T)),
    "norm 1": lambda T: T.norm(S(T), 1),
    "norm inf": lambda T: T.norm(S(T), float("inf")),
    "norm 0": lambda T: T.norm(S(T), 0),
    "norm 3": lambda T: T.norm(S(T), 3),
    "norm all dims": lambda T: T.norm(S(T), dim=(0, 1)),
    "norm dim": lambda T: T.norm(S(T), dim=1),
    "norm csr": lambda T: T.norm(S(T, "csr")),
    "norm method": lambda T: S(T).norm(),
    "any": lambda T: T.any(S(T)),
    "any of zeros": lambda T: T.any(S(T) * 0),
    "any dim": lambda T: T.any(S(T), 0),
    "any keepdim": lambda T: T.any(S(T), keepdim=True),
    "any keepdim hybrid": lambda T: T.any(S(T, hybrid=True), keepdim=True),
    "any uncoalesced": lambda T: T.any(U(T)),
    "any csr": lambda T: T.any(S(T, "csr")),
    "is_nonzero": lambda T: T.is_nonzero(T.tensor([[0.0]]).to_sparse()),
    "is_nonzero one": lambda T: T.is_nonzero(T.tensor([[2.0]]).to_sparse()),
    "is_nonzero many": lambda T: T.is_nonzero(S(T)),
    "bmm": lambda T: T.bmm(T.stack([S(T), S(T) * 2]), D(T, 2, 4, 2)),
    "bmm batch sizes": lambda T: T.bmm(T.stack([S(T), S(T)]), D(T, 3, 4, 2)),
    "bmm dense dims": lambda T: T.bmm(T.stack([S(T, hybrid=True)] * 2)[..., 0], D(T, 2, 4, 2)),
}

# index_select: a 1-D int64 strided index only, COO input only
for _label, _index in {
    "": lambda T: T.tensor([2, 0, 2]),
    "negative": lambda T: T.tensor([-1, -3]),
    "empty": lambda T: T.tensor([], dtype=T.int64),
    "int32": lambda T: T.tensor([1], dtype=T.int32),
    "uint8": lambda T: T.tensor([1], dtype=T.uint8),
    "float": lambda T: T.tensor([1.0]),
    "0-d": lambda T: T.tensor(1),
    "2-d": lambda T: T.tensor([[1]]),
    "list": lambda T: [1],
    "sparse": lambda T: T.tensor([1]).to_sparse(),
    "out of range": lambda T: T.tensor([3]),
    "below range": lambda T: T.tensor([-4]),
}.items():
    CASES[f"index_select {_label}"] = (lambda i: lambda T: T.index_select(S(T), 0, i(T)))(_index)
    CASES[f"index_select method {_label}"] = (lambda i: lambda T: S(T).index_select(0, i(T)))(_index)
CASES["index_select dim 1"] = lambda T: T.index_select(S(T), 1, T.tensor([3, 1]))
CASES["index_select dense dim"] = lambda T: T.index_select(S(T, hybrid=True), 2, T.tensor([1, 1]))
CASES["index_select 0-d"] = lambda T: T.index_select(T.tensor(2.0).to_sparse(), 0, T.tensor([0]))
CASES["index_select csr"] = lambda T: T.index_select(S(T, "csr"), 0, T.tensor([1]))
CASES["index_select method csr"] = lambda T: S(T, "csr").index_select(0, T.tensor([1]))
CASES["index_select dense input, sparse index"] = lambda T: T.index_select(
    D(T, 3, 4), 0, T.tensor([1]).to_sparse()
)

# indexing
for _label, _key in {
    "None": lambda T: None,
    "None, 1": lambda T: (None, 1),
    "1, None": lambda T: (1, None),
    "None, None": lambda T: (None, None),
    "..., 1": lambda T: (..., 1),
    "1, ...": lambda T: (1, ...),
    "..., None": lambda T: (..., None),
    "1, ..., 2": lambda T: (1, ..., 2),
    "...": lambda T: ...,
    "..., ...": lambda T: (..., ...),
    "0-d tensor": lambda T: T.tensor(1),
    "0-d tensors": lambda T: (T.tensor(1), T.tensor(2)),
    "0-d tensor, ...": lambda T: (T.tensor(1), ...),
    "..., 0-d tensor": lambda T: (..., T.tensor(2)),
    "None, 0-d tensor, ...": lambda T: (None, T.tensor(1), ...),
    "1-d tensor, ...": lambda T: (T.tensor([1, 0]), ...),
    "0-d bool tensor, ...": lambda T: (T.tensor(True), ...),
    ":, 0-d tensor": lambda T: (slice(None), T.tensor(1)),
    "negative 0-d tensor": lambda T: T.tensor(-1),
    "0-d int32 tensor": lambda T: T.tensor(1, dtype=T.int32),
    "0-d tensor out of range": lambda T: T.tensor(5),
    "0-d float tensor": lambda T: T.tensor(1.0),
    "0-d bool tensor": lambda T: T.tensor(True),
    "True": lambda T: True,
    "1-d tensor": lambda T: T.tensor([1, 0]),
    "list": lambda T: [1, 0],
    "slice": lambda T: slice(1, 2),
    "numpy integer": lambda T: np.int64(1),
    "too many": lambda T: (1, 2, 3),
}.items():
    CASES[f"s[{_label}]"] = (lambda k: lambda T: S(T)[k(T)])(_key)
    if _label in ("None", "...", "0-d tensor", "1, ...", "..., 1", "0-d tensor, ...", "1-d tensor, ..."):
        CASES[f"csr[{_label}]"] = (lambda k: lambda T: S(T, "csr")[k(T)])(_key)
CASES["hybrid s[..., 1]"] = lambda T: S(T, hybrid=True)[..., 1]
CASES["hybrid s[None, 1]"] = lambda T: S(T, hybrid=True)[None, 1]
CASES["hybrid s[:, :, None]"] = lambda T: S(T, hybrid=True)[:, :, None]


@requires_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_as_torch(name: str) -> None:
    assert_sparse_call_as_torch(CASES[name])


# ---- ember's side only ---------------------------------------------------------------------------


def test_unsupported_functions_name_themselves() -> None:
    s = S(ember)
    for name, call in {
        "exp": lambda: ember.exp(s),
        "maximum": lambda: ember.maximum(s, s),
        "div": lambda: ember.div(D(ember, 3, 4), s),
        "mean": lambda: ember.mean(s),  # the dense code's own error, naming the function called
        "view": lambda: s.view(12),
        "gt": lambda: s > 0,
        "logit": lambda: ember.logit(s),
    }.items():
        with pytest.raises(NotImplementedError, match=rf"^{name}\(\) does not support sparse tensors"):
            call()


def test_function_and_method_forms_agree_with_gradients() -> None:
    """The function forms are the methods: the same values, and gradients for the values."""
    pairs = {
        "select": (lambda s: ember.select(s, 1, 3), lambda s: s.select(1, 3)),
        "index_select": (lambda s: ember.index_select(s, 0, ember.tensor([2, 1, 2])), None),
        "pow": (lambda s: ember.pow(s, 3), lambda s: s**3),
        "abs": (lambda s: ember.abs(s), lambda s: s.abs()),
        "neg": (lambda s: ember.neg(s), lambda s: -s),
        "None": (lambda s: s[None, :, 1], lambda s: ember.unsqueeze(s.select(1, 1), 0)),
        "permute": (lambda s: ember.permute(s, (1, 0)), lambda s: s.t()),
        "sum": (lambda s: ember.sum(s, 1), lambda s: s.sum(1)),
        "cat": (lambda s: ember.cat([s, s], 1), None),
        "stack": (lambda s: ember.stack([s, s]), None),
        "narrow_copy": (lambda s: ember.narrow_copy(s, 1, 1, 3), None),
        "norm": (lambda s: ember.norm(s), None),
    }
    for name, (function, method) in pairs.items():
        leaf = S(ember).requires_grad_()
        out = function(leaf)
        (out.to_dense() if out.layout is not ember.strided else out).pow(2).sum().backward()
        grad = leaf.grad.to_dense()
        if method is not None:
            other = S(ember).requires_grad_()
            out2 = method(other)
            np.testing.assert_allclose(out.to_dense().detach().numpy(), out2.to_dense().detach().numpy())
            (out2.to_dense() if out2.layout is not ember.strided else out2).pow(2).sum().backward()
            np.testing.assert_allclose(grad.numpy(), other.grad.to_dense().numpy(), err_msg=name)
        assert grad.shape == (3, 4), name


@pytest.mark.parametrize(
    "f",
    [
        lambda s: ember.select(s, 0, 1),
        lambda s: ember.index_select(s, 1, ember.tensor([3, 0, 3])),
        lambda s: ember.pow(s, 3),
        lambda s: s[None, ..., 2],
        lambda s: ember.permute(s, (1, 0)),
        lambda s: ember.add(ember.ones(3, 4, dtype=ember.float64), s, alpha=2),
        lambda s: ember.sin(s),
        lambda s: ember.cat([s, s * 2], 1),
        lambda s: ember.stack([s, s], 2),
        lambda s: ember.norm(s, 3),
        lambda s: ember.bmm(ember.stack([s, s]), ember.ones(2, 4, 2, dtype=ember.float64)),
    ],
)
def test_gradcheck(f: Any) -> None:
    s = ember.sparse_coo_tensor(
        ember.tensor([[0, 1, 1, 2], [1, 0, 3, 2]]),
        ember.tensor([1.5, -2.0, 0.25, 4.0], dtype=ember.float64),
        (3, 4),
    ).requires_grad_()
    assert ember.sparse.as_sparse_gradcheck(ember.autograd.gradcheck)(f, (s,))


def test_indexing_with_none_differentiates() -> None:
    """PyTorch's backward of s[None] raises ("Could not run 'aten::as_strided'"); ember's gives
    the gradient of the values, as its select and index_select do (docs/differences.md)."""
    s = S(ember).requires_grad_()
    s[None].to_dense().sum().backward()
    assert s.grad.to_dense().tolist() == [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]]


@pytest.mark.parametrize("name", ["isinf csr", "isnan csr", "signbit csr"])
def test_csr_predicates(name: str) -> None:
    out = CASES[name](ember)
    expected = getattr(ember, name.split()[0])(S(ember).to_dense())
    assert out.layout is ember.sparse_csr and out.dtype is ember.bool
    assert out.to_dense().tolist() == expected.tolist()  # the unspecified zeros are False for all three


def test_inplace_forms_bump_the_version_and_refuse_leaves() -> None:
    s = S(ember)
    version = s._version_cell[0]
    assert s.neg_() is s and s._version_cell[0] == version + 1
    assert s.to_dense().tolist() == (-S(ember)).to_dense().tolist()
    leaf = S(ember).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.abs_()
    with ember.no_grad():
        leaf.mul_(2)
    assert leaf.requires_grad and leaf.to_dense().tolist() == (S(ember) * 2).to_dense().tolist()


@pytest.mark.parametrize("name", ["sin_", "floor_", "trunc_", "erf_", "zero_", "abs_"])
def test_inplace_functions_are_the_methods(name: str) -> None:
    s, expected = S(ember), getattr(S(ember), name)()
    version = s._version_cell[0]
    assert getattr(ember, name)(s) is s and s._version_cell[0] == version + 1
    assert s.to_dense().tolist() == expected.to_dense().tolist()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(ember, name)(S(ember).requires_grad_())


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_zero_keeps_a_tensor_in_the_graph(layout: str) -> None:
    """zero_ of a tensor computed from a leaf leaves it in the graph (ZeroBackward0, a zero
    gradient), as in PyTorch; it used to drop requires_grad, so backward raised."""
    leaf = S(ember, layout).requires_grad_()
    t = leaf * 2
    assert t.zero_() is t and t.requires_grad and type(t.grad_fn).__name__ == "ZeroBackward0"
    assert t._nnz() == 0
    t.to_dense().sum().backward()
    assert leaf.grad.to_dense().tolist() == [[0.0] * 4] * 3


def test_stand_in_refuses_comparisons() -> None:
    """Dense code that compares a sparse tensor's array (`x._data == np.inf`) raises, rather
    than comparing the stand-in object and getting a Python False."""
    s = S(ember)
    for compare in (lambda d: d == 0, lambda d: d != 0, lambda d: 0 == d):
        with pytest.raises(NotImplementedError, match="does not support sparse tensors"):
            compare(s._data)
    assert {s._data: 1}[s._data] == 1  # still hashable
