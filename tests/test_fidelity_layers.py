"""F.linear with a 1-D weight or a broadcasting bias, and pooling of integer tensors, compared
with PyTorch (found by differential testing)."""

from __future__ import annotations

from typing import Any

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


# ---- pooling integer tensors ----------------------------------------------------------------

POOL_OPTIONS = [
    {},
    {"stride": 1},
    {"padding": 1},
    {"stride": 2, "padding": 1, "ceil_mode": True},
]


def _ints(T: Any, dtype: str, shape: tuple) -> Any:
    data = np.random.default_rng(3).integers(-50 if dtype != "uint8" else 0, 100, size=shape)
    return T.tensor(data, dtype=getattr(T, dtype))


@requires_torch
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8"])
@pytest.mark.parametrize("options", POOL_OPTIONS, ids=str)
def test_max_pooling_of_integers_matches_torch(dtype: str, options: dict) -> None:
    import torch

    for nd, shape in ((1, (2, 3, 7)), (2, (2, 3, 5, 6))):
        name = f"max_pool{nd}d"
        # PyTorch's max_pool1d takes integers only with return_indices
        e_out, e_idx = getattr(ember.nn.functional, name)(
            _ints(ember, dtype, shape), 3, return_indices=True, **options
        )
        t_out, t_idx = getattr(torch.nn.functional, name)(
            _ints(torch, dtype, shape), 3, return_indices=True, **options
        )
        assert str(e_out.dtype) == str(t_out.dtype).replace("torch", "ember")
        assert e_out.tolist() == t_out.tolist() and e_idx.tolist() == t_idx.tolist()
        plain = getattr(ember.nn.functional, name)(_ints(ember, dtype, shape), 3, **options)
        assert plain.tolist() == t_out.tolist()
    module = ember.nn.MaxPool2d(2)(_ints(ember, dtype, (1, 4, 4)))
    assert module.tolist() == torch.nn.MaxPool2d(2)(_ints(torch, dtype, (1, 4, 4))).tolist()


@requires_torch
@pytest.mark.parametrize(
    "options",
    POOL_OPTIONS + [{"padding": 1, "count_include_pad": False}, {"divisor_override": 3}],
    ids=str,
)
def test_average_pooling_of_int64_truncates_as_torch(options: dict) -> None:
    import torch

    for nd, shape in ((1, (2, 3, 7)), (2, (2, 3, 5, 6))):
        if nd == 1 and "divisor_override" in options:
            continue
        name = f"avg_pool{nd}d"
        e = getattr(ember.nn.functional, name)(_ints(ember, "int64", shape), 3, **options)
        t = getattr(torch.nn.functional, name)(_ints(torch, "int64", shape), 3, **options)
        assert e.dtype == ember.int64 and e.tolist() == t.tolist()
    square = ember.arange(16).reshape(1, 1, 4, 4)
    assert ember.nn.functional.avg_pool2d(square, 2).tolist() == [[[[2, 4], [10, 12]]]]


@requires_torch
@pytest.mark.parametrize(
    "name,dtype",
    [
        ("max_pool2d", "bool"),
        ("avg_pool2d", "int32"),
        ("avg_pool1d", "uint8"),
        ("adaptive_avg_pool2d", "int64"),
    ],
)
def test_pooling_refuses_the_dtypes_torch_refuses(name: str, dtype: str) -> None:
    """NotImplementedError naming the dtype as PyTorch does (its 1-d functions name their
    2-d kernel, ember the function called)."""
    import torch

    messages = []
    for T in (ember, torch):
        x = T.arange(16).reshape(1, 4, 4).to(getattr(T, dtype))
        if name.endswith("1d"):
            x = x.flatten(0, 1)
        with pytest.raises(NotImplementedError) as info:
            getattr(T.nn.functional, name)(x, 2)
        messages.append(str(info.value))
    tail = messages[1].split('"')[-1]
    assert tail in messages[0], messages
