"""ember.signal.windows against torch.signal.windows: every window's values for symmetric
and periodic windows of lengths 0 to 12 in float32 and float64, the parameters (alpha,
beta, std, tau, center, the coefficients), the defaults, and the errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

pytestmark = requires_torch

NAMES = [
    "bartlett",
    "blackman",
    "cosine",
    "exponential",
    "gaussian",
    "general_cosine",
    "general_hamming",
    "hamming",
    "hann",
    "kaiser",
    "nuttall",
]

# keyword arguments per window beside the defaults (general_cosine has none for `a`)
PARAMS = {
    "general_cosine": [{"a": [0.5, 0.5]}, {"a": (0.3, 0.4, 0.2, 0.1)}, {"a": [1.0]}],
    "general_hamming": [{}, {"alpha": 0.6}, {"alpha": 0.5}],
    "kaiser": [{}, {"beta": 0.0}, {"beta": 3.5}],
    "gaussian": [{}, {"std": 0.4}, {"std": 7.0}],
    "exponential": [{}, {"tau": 3.0}],
}


def _pair(name: str):
    import torch

    return getattr(ember.signal.windows, name), getattr(torch.signal.windows, name)


def test_same_names_and_signatures() -> None:
    import torch

    assert sorted(torch.signal.windows.__all__) == NAMES == sorted(ember.signal.windows.__all__)
    for name in NAMES:
        ours, theirs = _pair(name)
        a, b = inspect.signature(ours).parameters, inspect.signature(theirs).parameters
        assert list(a) == list(b), name
        for p in a:
            assert a[p].kind == b[p].kind, (name, p)
            if p not in ("dtype", "layout", "device", "a"):
                assert a[p].default == b[p].default, (name, p)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values(name: str, dtype: str) -> None:
    import torch

    ours, theirs = _pair(name)
    for kwargs in PARAMS.get(name, [{}]):
        for M in range(13):
            for sym in (True, False):
                w = ours(M, sym=sym, dtype=getattr(ember, dtype), **kwargs)
                t = theirs(M, sym=sym, dtype=getattr(torch, dtype), **kwargs)
                assert str(w.dtype).split(".")[1] == str(t.dtype).split(".")[1]
                tol = 2e-6 if dtype == "float32" else 1e-12
                assert_close(w, t, rtol=tol, atol=tol)


def test_exponential_center_of_a_periodic_window() -> None:
    import torch

    for center in (0.0, 1.0, 3.7):
        assert_close(
            ember.signal.windows.exponential(9, center=center, sym=False, tau=2.0),
            torch.signal.windows.exponential(9, center=center, sym=False, tau=2.0),
        )


@pytest.mark.parametrize("name", ["hann", "kaiser", "gaussian"])
def test_default_dtype_and_requires_grad(name: str) -> None:
    ours, theirs = _pair(name)
    w = ours(6)
    assert w.dtype == ember.float32 and w.shape == (6,)
    ember.set_default_dtype(ember.float64)
    try:
        assert ours(6).dtype == ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    g = ours(6, requires_grad=True)
    assert g.requires_grad and theirs(6, requires_grad=True).requires_grad
    g.sum().backward()  # a leaf here (a non-leaf in torch, see differences.md)
    np.testing.assert_array_equal(g.grad.numpy(), np.ones(6, np.float32))
    assert ours(0, requires_grad=True).requires_grad


def _error(fn, *args, **kwargs):
    with pytest.raises(Exception) as info:
        fn(*args, **kwargs)
    return info.type, str(info.value)


@pytest.mark.parametrize("name", NAMES)
def test_common_errors(name: str) -> None:
    import torch

    ours, theirs = _pair(name)
    extra = {"a": [0.5, 0.5]} if name == "general_cosine" else {}
    cases = [
        ((-1,), {}, "requires non-negative window length, got M=-1"),
        ((4,), {"dtype": "int64"}, "expects float32 or float64 dtypes, got: torch.int64"),
        ((4,), {"dtype": "float16"}, "expects float32 or float64 dtypes, got: torch.float16"),
        ((4,), {"dtype": "complex64"}, "expects float32 or float64 dtypes, got: torch.complex64"),
    ]
    for args, kwargs, message in cases:
        ek = {k: getattr(ember, v) for k, v in kwargs.items()}
        tk = {k: getattr(torch, v) for k, v in kwargs.items()}
        e_type, e_msg = _error(ours, *args, **ek, **extra)
        t_type, t_msg = _error(theirs, *args, **tk, **extra)
        assert e_type is t_type is ValueError
        assert message in t_msg
        assert message.replace("torch.", "ember.") in e_msg and e_msg.startswith(name)
    with pytest.raises(ValueError, match="strided tensors only"):
        ours(4, layout="sparse", **extra)
    with pytest.raises(RuntimeError):
        ours(4, device="cuda", **extra)
    assert ours(4, device="cpu", **extra).shape == (4,)
    with pytest.raises(TypeError):
        ours(3.5, **extra)


def test_parameter_errors() -> None:
    import torch

    for name, kwargs in [
        ("gaussian", {"std": 0}),
        ("gaussian", {"std": -1.0}),
        ("exponential", {"tau": 0}),
        ("exponential", {"center": 1.0}),
        ("kaiser", {"beta": -1}),
        ("general_cosine", {"a": []}),
        ("general_cosine", {"a": 3}),
    ]:
        ours, theirs = _pair(name)
        assert _error(ours, 4, **kwargs) == _error(theirs, 4, **kwargs), (name, kwargs)
    # like torch, the coefficients are not looked at for windows of 0 or 1 point
    for M in (0, 1):
        assert_close(ember.signal.windows.general_cosine(M, a=3), torch.signal.windows.general_cosine(M, a=3))
