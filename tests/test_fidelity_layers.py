"""F.linear with a 1-D weight or a broadcasting bias, and pooling of integer tensors, compared
with PyTorch (found by differential testing)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

# (input shape, weight shape, bias shape or None): forms PyTorch accepts besides the usual one
LINEAR_FORMS = [
    ((1, 2), (2,), None),
    ((4, 3), (3,), None),
    ((3,), (3,), None),
    ((3,), (3,), ()),
    ((2, 3, 4), (4,), None),
    ((2, 3, 4), (4,), ()),
    ((3,), (5, 3), (1,)),
    ((3,), (5, 3), ()),
    ((4, 3), (5, 3), (4, 5)),
    ((4, 3), (5, 3), (4, 1)),
]


def _data(shapes: tuple) -> list:
    """Float64 arrays of the shapes (None stays None), the same on every call."""
    r = np.random.default_rng(len(str(shapes)))
    return [None if s is None else r.normal(size=s) for s in shapes]


@requires_torch
@pytest.mark.parametrize("shapes", LINEAR_FORMS, ids=str)
def test_linear_forms_match_torch(shapes: tuple) -> None:
    import torch

    data = _data(shapes)
    results = []
    for T in (ember, torch):
        leaves = [None if a is None else T.tensor(a, requires_grad=True) for a in data]
        out = T.nn.functional.linear(*leaves)
        out.backward(T.ones_like(out))
        results.append((out, [leaf.grad for leaf in leaves if leaf is not None]))
    (e, e_grads), (t, t_grads) = results
    assert tuple(e.shape) == tuple(t.shape)
    assert_close(e, t, rtol=1e-10, atol=1e-12)
    for a, b in zip(e_grads, t_grads):
        assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shapes", LINEAR_FORMS[:6], ids=str)
def test_linear_with_a_1d_weight_gradcheck(shapes: tuple) -> None:
    leaves = [None if a is None else ember.tensor(a, requires_grad=True) for a in _data(shapes)]
    args = tuple(leaf for leaf in leaves if leaf is not None)
    assert ember.autograd.gradcheck(lambda *a: ember.nn.functional.linear(*a), args)


@requires_torch
@pytest.mark.parametrize(
    "shapes",
    [
        ((), (2,), None),
        ((2,), (), None),
        ((2,), (2, 2, 2), None),
        ((2,), (3,), None),
        ((4, 2), (3, 2), (5, 3)),
    ],
    ids=str,
)
def test_linear_errors_are_runtime_errors_as_in_torch(shapes: tuple) -> None:
    import torch

    data = _data(shapes)
    for T in (ember, torch):
        with pytest.raises(RuntimeError) as info:
            T.nn.functional.linear(*[None if a is None else T.tensor(a) for a in data])
        if not shapes[0] or not shapes[1]:
            assert "both arguments to linear need to be at least 1D" in str(info.value)
