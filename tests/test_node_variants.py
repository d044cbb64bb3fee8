"""PyTorch numbers the overloads of an op's backward node: `x.sum()` records SumBackward0,
`x.sum(0)` SumBackward1, `x.max()` MaxBackward1. Students print these names (and the
`_saved_*` attributes that go with each), so ember's nodes show the same ones."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch

pytestmark = requires_torch

CALLS = [
    "x.sum()",
    "x.sum(0)",
    "x.sum((0, 1))",
    "x.sum(1, keepdim=True)",
    "x.double().sum()",
    "x.sum(dtype=T.float64)",
    "x.mean()",
    "x.mean(0)",
    "x.mean(1, True)",
    "x.prod()",
    "x.prod(0)",
    "x.prod(1, keepdim=True)",
    "x.max()",
    "x.min()",
    "x.amin(0)",
    "x.max(0).values",
    "x.clamp(0.1, 0.9)",
    "x.clamp(min=0.2)",
    "x.clamp(max=0.2)",
    "T.clip(x, 0.1, 0.9)",
    "x.clamp_min(0.3)",
    "x.clamp_max(0.3)",
    "T.clamp_min(x, 0.3)",
]


def _node(T, call: str):
    x = T.tensor(np.arange(1.0, 7.0).reshape(2, 3) / 7, dtype=T.float32, requires_grad=True)
    return eval(call, {"T": T, "x": x}).grad_fn


def _saved(node) -> dict:
    out = {}
    for name in dir(node):
        if name.startswith("_saved_"):
            value = getattr(node, name)
            out[name] = value.detach().numpy() if hasattr(value, "detach") else value
    return out


@pytest.mark.parametrize("call", CALLS)
def test_node_name_and_saved_attributes_match_torch(call: str) -> None:
    import torch

    ne, nt = _node(ember, call), _node(torch, call)
    assert ne.name() == nt.name()
    assert repr(ne).split(" object")[0] == repr(nt).split(" object")[0]
    se, st = _saved(ne), _saved(nt)
    assert se.keys() == st.keys()
    for name in st:
        if isinstance(st[name], np.ndarray):
            np.testing.assert_array_equal(se[name], st[name], err_msg=name)
        else:
            assert se[name] == st[name], name


@pytest.mark.parametrize("call", ["x.sum(())", "x.mean(())", "x.amax()", "x.mean(-1)"])
def test_names_match_where_the_saved_dims_are_written_differently(call: str) -> None:
    """`_saved_dim` holds every reduced dim where the call gave none (`()`), and dims
    non-negative (docs/differences.md); the names and the attributes listed are PyTorch's."""
    import torch

    ne, nt = _node(ember, call), _node(torch, call)
    assert ne.name() == nt.name()
    assert _saved(ne).keys() == _saved(nt).keys()


@pytest.mark.parametrize(
    "call", ["x.sum(0)", "x.mean()", "x.max()", "x.min()", "x.prod(1)", "x.clamp_min(0.3)"]
)
def test_the_variants_compute_as_before(call: str) -> None:
    """The names changed, not the numbers: values and gradients as PyTorch's."""
    import torch

    results = []
    for T in (ember, torch):
        x = T.tensor([[0.5, -1.0, 2.0], [2.0, 0.25, -3.0]], requires_grad=True)
        y = eval(call, {"T": T, "x": x})
        y.backward(T.ones_like(y))
        results.append((y.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_full_max_of_ties_shares_the_gradient_as_before() -> None:
    x = ember.tensor([[1.0, 3.0], [3.0, 0.0]], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [[0.0, 0.5], [0.5, 0.0]]
