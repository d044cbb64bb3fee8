"""ember.masked against torch.masked: every reduction and normalization with masks that
select some, all or none of a slice, masks that broadcast, each keyword (dim, keepdim,
dtype, ord, correction, eps), the dtypes of the results, the errors, and the gradients
(against torch's and by finite differences, second derivatives included)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import requires_torch

pytestmark = requires_torch


def test_argmax_without_dim_keeps_every_dim() -> None:
    """argmax/argmin(dim=None, keepdim=True) index the flattened input and keep each dim
    as size 1, as torch does (ember returned a 0-d tensor)."""
    import torch

    x = np.arange(24.0).reshape(2, 3, 4)[:, ::-1]
    for name in ("argmax", "argmin"):
        for keepdim in (False, True):
            ours = getattr(ember, name)(ember.tensor(x.copy()), None, keepdim)
            theirs = getattr(torch, name)(torch.tensor(x.copy()), None, keepdim)
            assert ours.shape == tuple(theirs.shape) and ours.tolist() == theirs.tolist()
            method = getattr(ember.tensor(x.copy()), name)(keepdim=keepdim)
            assert method.shape == tuple(theirs.shape)
    assert ember.argmax(ember.tensor(3.0), None, True).shape == ()


NAMES = [
    "amax",
    "amin",
    "argmax",
    "argmin",
    "cumprod",
    "cumsum",
    "log_softmax",
    "logaddexp",
    "logsumexp",
    "mean",
    "median",
    "norm",
    "normalize",
    "prod",
    "softmax",
    "softmin",
    "std",
    "sum",
    "var",
]


def test_same_functions_and_signatures() -> None:
    import torch

    assert sorted(ember.masked.__all__) == NAMES
    for name in NAMES:
        a = inspect.signature(getattr(ember.masked, name)).parameters
        b = inspect.signature(getattr(torch.masked, name)).parameters
        assert list(a) == list(b), name
        assert [(p.kind, p.default) for p in a.values()] == [(p.kind, p.default) for p in b.values()], name


def _masks() -> dict[str, np.ndarray | None]:
    rng = np.random.default_rng(0)
    some = rng.random((3, 4, 5)) < 0.5
    some[1, 2, :] = False  # a slice along the last dim wholly masked out
    some[0, :, 1] = False  # and one along dim 1
    return {
        "some": some,
        "broadcast": rng.random((4, 1)) < 0.6,
        "all": np.ones((3, 4, 5), bool),
        "none": np.zeros((3, 4, 5), bool),
        "absent": None,
    }


MASKS = _masks()
X = np.random.default_rng(1).standard_normal((3, 4, 5))

# (function, positional arguments after the input, keyword arguments)
CASES = [
    ("sum", (), {}),
    ("sum", (1,), {}),
    ("sum", ((0, 2),), {"keepdim": True}),
    ("sum", ((),), {}),
    ("prod", (1,), {}),
    ("prod", ((0, -1),), {}),
    ("amax", (2,), {}),
    ("amax", (), {"keepdim": True}),
    ("amin", ((0, 1),), {}),
    ("argmax", (1,), {}),
    ("argmax", (), {"keepdim": True}),
    ("argmin", (2,), {"keepdim": True}),
    ("argmin", (), {}),
    ("mean", (2,), {}),
    ("mean", (), {}),
    ("mean", ((0, 1),), {"keepdim": True}),
    ("median", (), {}),
    ("median", (1,), {"keepdim": True}),
    ("logsumexp", (2,), {}),
    ("logsumexp", ((0, 2),), {"keepdim": True}),
    ("norm", (2.0, 2), {}),
    ("norm", (1.0, (0, 2)), {}),
    ("norm", (float("inf"), 2), {}),
    ("norm", (float("-inf"), 1), {}),
    ("norm", (3.0,), {}),
    ("var", (2,), {}),
    ("var", ((1, 2),), {"unbiased": False}),
    ("var", (2,), {"keepdim": True, "correction": 0.5}),
    ("std", (2,), {"correction": 2}),
    ("std", (), {}),
    ("std", (1, True), {"keepdim": True}),
    ("softmax", (2,), {}),
    ("softmax", (0,), {"dtype": "float32"}),
    ("log_softmax", (1,), {}),
    ("softmin", (-1,), {}),
    ("normalize", (2.0, 2), {}),
    ("normalize", (1.0, 0), {"eps": 0.5}),
    ("cumsum", (2,), {}),
    ("cumprod", (1,), {}),
    ("cumsum", (0,), {"dtype": "float32"}),
]


def _run(T, name: str, args: tuple, kwargs: dict, mask: np.ndarray | None) -> tuple:
    """The result of masked.name and the input's gradient for a fixed random weighting of
    the finite results (None where the result does not require grad)."""
    kwargs = {k: getattr(T, v) if k == "dtype" else v for k, v in kwargs.items()}
    x = T.tensor(X, requires_grad=True)
    out = getattr(T.masked, name)(x, *args, mask=None if mask is None else T.tensor(mask), **kwargs)
    grad = None
    if out.requires_grad:
        weights = T.tensor(np.random.default_rng(2).standard_normal(tuple(out.shape)), dtype=out.dtype)
        finite = T.isfinite(out)
        (T.where(finite, out, T.zeros_like(out)) * weights).sum().backward()
        grad = x.grad
    return out, grad


@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}{c[1]}{sorted(c[2])}" for c in CASES])
def test_values_dtypes_and_gradients(case: tuple, mask: str) -> None:
    import torch

    name, args, kwargs = case
    ours, our_grad = _run(ember, name, args, kwargs, MASKS[mask])
    theirs, their_grad = _run(torch, name, args, kwargs, MASKS[mask])
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-6)
    if their_grad is not None:
        np.testing.assert_allclose(our_grad.numpy(), their_grad.numpy(), rtol=1e-6, atol=1e-6)


def test_logaddexp_with_a_mask_each() -> None:
    import torch

    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3, 4))
    ma, mb = rng.random((3, 4)) < 0.5, rng.random((4,)) < 0.5
    results = []
    for T in (ember, torch):
        x, y = T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True)
        out = T.masked.logaddexp(x, y, input_mask=T.tensor(ma), other_mask=T.tensor(mb), dtype=T.float32)
        T.where(T.isfinite(out), out, T.zeros_like(out)).sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy(), y.grad.numpy()])
        assert str(out.dtype).endswith("float32")
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


INTS = np.arange(12).reshape(3, 4)
INT_MASK = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]], bool)


INTEGER_CASES = [
    (name, dtype)
    for name in [
        "sum",
        "prod",
        "amax",
        "amin",
        "argmax",
        "argmin",
        "cumsum",
        "cumprod",
        "logsumexp",
        "median",
    ]
    for dtype in ["int32", "uint8", "int64", "bool", "float32"]
]


@pytest.mark.parametrize("name, dtype", INTEGER_CASES)
def test_integer_and_bool_inputs(name: str, dtype: str) -> None:
    """The result dtypes (sums and products widen small integers to int64, argmax keeps
    the input's dtype), the integer identities, and torch's refusals."""
    import torch

    def outcome(T):
        x = T.tensor(INTS % 3 if dtype == "bool" else INTS).to(getattr(T, dtype))
        try:
            r = getattr(T.masked, name)(x, 1, mask=T.tensor(INT_MASK))
        except (NotImplementedError, RuntimeError, ValueError) as error:
            return type(error)
        return (
            str(r.dtype).split(".")[1],
            tuple(r.shape),
            np.nan_to_num(r.numpy().astype(np.float64)).tolist(),
        )

    assert outcome(ember) == outcome(torch)


def test_dtype_argument_and_mean_of_integers() -> None:
    import torch

    for T in (ember, torch):
        x, m = T.tensor(INTS), T.tensor(INT_MASK)
        with pytest.raises(ValueError, match="Could not infer output dtype. Input dtype must be"):
            T.masked.mean(x, 1, mask=m)
        with pytest.raises(ValueError, match="Could not infer output dtype. Optional dtype must be"):
            T.masked.mean(x.float(), 1, dtype=T.int64)
    for name in ("mean", "var", "std", "sum", "amax", "argmax"):
        kwargs = {"dtype": "float64"}
        ours = getattr(ember.masked, name)(
            ember.tensor(INTS), 1, mask=ember.tensor(INT_MASK), dtype=ember.float64
        )
        theirs = getattr(torch.masked, name)(
            torch.tensor(INTS),
            1,
            mask=torch.tensor(INT_MASK),
            **{k: getattr(torch, v) for k, v in kwargs.items()},
        )
        assert str(ours.dtype) == "ember.float64" and theirs.dtype == torch.float64
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), equal_nan=True)


def test_masks_of_other_dtypes_and_shapes() -> None:
    import torch

    x = np.arange(12.0).reshape(3, 4)
    for mask in (
        INT_MASK.astype(np.int64),
        INT_MASK.astype(np.float32),
        np.array([1, 0, 1, 1]),
        np.array(True),
    ):
        ours = ember.masked.sum(ember.tensor(x), 1, mask=ember.tensor(mask))
        theirs = torch.masked.sum(torch.tensor(x), 1, mask=torch.tensor(mask))
        assert ours.tolist() == theirs.tolist()


def _error(fn, *args, **kwargs) -> type:
    with pytest.raises(Exception) as info:
        fn(*args, **kwargs)
    return info.type


def test_errors() -> None:
    import torch

    for T in (ember, torch):
        x, m = T.tensor(np.arange(12.0).reshape(3, 4)), T.tensor(INT_MASK)
        assert _error(T.masked.sum, x, (1, 1)) is RuntimeError  # a dim given twice
        assert _error(T.masked.amax, x, (1, -1), mask=m) is RuntimeError
        assert _error(T.masked.sum, x, 2) is IndexError
        assert _error(T.masked.amax, x, -3, mask=m) is IndexError
        assert _error(T.masked.softmax, x, 2, mask=m) is IndexError
        assert _error(T.masked.sum, x, 1, mask=m[None]) is IndexError  # more dims than the input
        assert _error(T.masked.sum, x, 1, mask=m[:2]) is RuntimeError  # does not broadcast
        assert _error(T.masked.var, x, 1, True, correction=1) is AssertionError
        assert _error(T.masked.median, x.long(), 1, mask=m) is ValueError  # a wholly masked-out row
        assert _error(T.masked.amax, x.bool(), 1, mask=m) is NotImplementedError
    with pytest.raises(TypeError, match="mask must be a Tensor"):
        ember.masked.sum(ember.ones(2), mask=[True, False])
    with pytest.raises(IndexError, match=r"masked.sum\(\).*\(1, 3, 4\).*\(3, 4\)"):
        ember.masked.sum(ember.ones(3, 4), mask=ember.ones(1, 3, 4, dtype=ember.bool))


def test_without_a_mask_each_function_is_its_plain_counterpart() -> None:
    x = ember.tensor(np.random.default_rng(4).standard_normal((3, 5)))
    assert ember.equal(ember.masked.sum(x, 1), x.sum(1))
    assert ember.equal(ember.masked.amax(x, 0, keepdim=True), x.amax(0, keepdim=True))
    assert ember.allclose(ember.masked.softmax(x, 1), ember.softmax(x, 1))
    assert ember.allclose(ember.masked.var(x, 1), x.var(1))
    assert ember.allclose(ember.masked.norm(x, 2.0, 1), ember.linalg.vector_norm(x, 2.0, 1))


@pytest.mark.parametrize(
    "name, args",
    [
        ("sum", (1,)),
        ("prod", (1,)),
        ("amax", (1,)),
        ("amin", (0,)),
        ("mean", (1,)),
        ("median", (1,)),
        ("logsumexp", (1,)),
        ("norm", (2.0, 1)),
        ("norm", (1.5, 0)),
        ("var", (1,)),
        ("std", (1,)),
        ("softmax", (1,)),
        ("log_softmax", (1,)),
        ("softmin", (0,)),
        ("normalize", (2.0, 1)),
        ("cumsum", (1,)),
        ("cumprod", (1,)),
    ],
)
def test_gradcheck_and_gradgradcheck(name: str, args: tuple) -> None:
    """First and second derivatives by finite differences, with a mask that leaves at least
    two elements in every slice (a wholly masked-out slice has no derivative to check)."""
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((3, 4)), dtype=ember.float64, requires_grad=True)
    mask = rng.random((3, 4)) < 0.5
    mask[:, 0] = mask[:, 2] = mask[0, :] = mask[2, :] = True
    mask[1, 1] = False
    m = ember.tensor(mask)

    def f(x):
        out = getattr(ember.masked, name)(x, *args, mask=m)
        return out.masked_fill(~m, 0.0) if name == "log_softmax" else out  # -inf where masked out

    assert ember.autograd.gradcheck(f, (x,))
    assert ember.autograd.gradgradcheck(f, (x,))


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    data=st.data(),
)
def test_random_shapes_and_broadcast_masks(shape: list[int], data) -> None:
    import torch

    ndim = len(shape)
    mask_ndim = data.draw(st.integers(0, ndim))
    mask_shape = [data.draw(st.sampled_from([1, s])) for s in shape[ndim - mask_ndim :]]
    dim = data.draw(st.integers(-ndim, ndim - 1))
    name = data.draw(st.sampled_from(["sum", "amax", "mean", "softmax", "logsumexp", "cumsum", "var"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x, mask = rng.standard_normal(shape), rng.random(mask_shape) < 0.6
    results = []
    for T in (ember, torch):
        results.append(getattr(T.masked, name)(T.tensor(x), dim, mask=T.tensor(mask)).numpy())
    assert results[0].shape == results[1].shape
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-9)


def test_complex_inputs() -> None:
    """sum, mean, var and std of complex inputs: var is |x - mean|^2 averaged, its count
    corrected in the real dtype, and the result stays complex as in torch."""
    import torch

    rng = np.random.default_rng(6)
    x = (rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))).astype(np.complex64)
    mask = rng.random((3, 4)) < 0.7
    mask[:, :2] = True
    for name in ("sum", "mean", "var", "std"):
        ours = getattr(ember.masked, name)(ember.tensor(x), 1, mask=ember.tensor(mask))
        theirs = getattr(torch.masked, name)(torch.tensor(x), 1, mask=torch.tensor(mask))
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1], name
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
