"""RMSNorm, LocalResponseNorm, EmbeddingBag and CTCLoss (modules and functions), compared
with PyTorch on the same inputs and weights: values, input and weight gradients (float32 and
float64), reprs, state_dict keys and errors; gradcheck in float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F

TOL = {"float64": (1e-9, 1e-10), "float32": (1e-4, 1e-5)}


def _pair(data: np.ndarray, requires_grad: bool = True) -> tuple:
    """The same array as an ember tensor and a torch tensor."""
    import torch

    return (
        ember.tensor(data.copy(), requires_grad=requires_grad),
        torch.tensor(data.copy(), requires_grad=requires_grad),
    )


def _backward_both(ye: Any, yt: Any, rng: np.random.Generator) -> None:
    """Backward of a random weighting of the outputs, the same in both frameworks."""
    import torch

    w = rng.normal(size=tuple(yt.shape)).astype(str(yt.dtype).replace("torch.", ""))
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()


def _raises(fn_e: Any, fn_t: Any) -> Exception:
    """Both raise the same exception type; ember's exception is returned for its message."""
    with pytest.raises(Exception) as te:
        fn_t()
    with pytest.raises(type(te.value)) as ee:
        fn_e()
    return ee.value


# ---- RMSNorm --------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "shape, normalized_shape, kwargs",
    [
        ((4, 5), 5, {}),
        ((2, 3, 4), (3, 4), {"eps": 1e-3}),
        ((2, 3, 4), [4], {"elementwise_affine": False}),
        ((6,), (6,), {}),
    ],
)
def test_rms_norm_module_matches_torch(dtype: str, shape: tuple, normalized_shape: Any, kwargs: dict) -> None:
    import torch

    rng = np.random.default_rng(0)
    t_mod = torch.nn.RMSNorm(normalized_shape, **kwargs)
    e_mod = nn.RMSNorm(normalized_shape, **kwargs)
    if dtype == "float64":
        t_mod, e_mod = t_mod.double(), e_mod.double()
    with torch.no_grad():
        for p in t_mod.parameters():
            p.copy_(torch.randn_like(p))
    e_mod.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t_mod.state_dict().items()})
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    assert repr(e_mod) == repr(t_mod)
    xe, xt = _pair((rng.normal(size=shape) * 3 + 0.5).astype(dtype))
    ye, yt = e_mod(xe), t_mod(xt)
    assert str(ye.dtype) == str(yt.dtype).replace("torch", "ember")
    assert_close(ye, yt, *TOL[dtype])
    _backward_both(ye, yt, rng)
    assert_close(xe.grad, xt.grad, *TOL[dtype])
    for pe, pt in zip(e_mod.parameters(), t_mod.parameters()):
        assert_close(pe.grad, pt.grad, *TOL[dtype])


@requires_torch
def test_rms_norm_default_eps_is_the_dtypes_machine_epsilon() -> None:
    """eps=None: finfo(dtype).eps, which decides the result on an all-zero or tiny row."""
    import torch

    for dtype in ("float32", "float64"):
        data = np.full((2, 3), 1e-9, dtype=dtype)
        data[1] = 0
        xe, xt = _pair(data)
        assert_close(F.rms_norm(xe, [3]), torch.nn.functional.rms_norm(xt, [3]), *TOL[dtype])
        assert_close(ember.rms_norm(xe, [3], eps=0.5), torch.rms_norm(xt, [3], eps=0.5), *TOL[dtype])


def test_rms_norm_gradcheck() -> None:
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
    w = ember.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    assert gradcheck(lambda a, b: F.rms_norm(a, (3, 4), b, 1e-3), (x, w))
    assert gradgradcheck(lambda a, b: F.rms_norm(a, (3, 4), b, 1e-3), (x, w))
    assert gradgradcheck(lambda a: F.rms_norm(a, [4]), (x,))


@requires_torch
def test_rms_norm_weight_of_another_dtype_gives_the_inputs_dtype() -> None:
    import warnings

    import torch

    rng = np.random.default_rng(2)
    xe, xt = _pair(rng.normal(size=(2, 4)).astype("float32"))
    we, wt = _pair(rng.normal(size=4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = torch.nn.functional.rms_norm(xt, [4], wt)
    ye = F.rms_norm(xe, [4], we)
    assert ye.dtype == ember.float32
    assert_close(ye, yt, *TOL["float32"])
    _backward_both(ye, yt, rng)
    assert we.grad.dtype == ember.float64
    assert_close(we.grad, wt.grad, *TOL["float32"])


@requires_torch
def test_rms_norm_errors() -> None:
    import torch

    x = np.ones((2, 3, 4), dtype=np.float32)
    xe, xt = ember.tensor(x), torch.tensor(x)
    cases = [
        ((xe, [3]), (xt, [3]), "expected input with shape [*, 3]"),
        ((xe, [4], ember.ones(3)), (xt, [4], torch.ones(3)), "weight of shape [3]"),
        ((xe, []), (xt, []), "at least 1-dimensional"),
        ((xe.long(), [4]), (xt.long(), [4]), "not implemented"),
    ]
    for args_e, args_t, fragment in cases:
        err = _raises(lambda a=args_e: F.rms_norm(*a), lambda a=args_t: torch.nn.functional.rms_norm(*a))
        assert fragment in str(err)


# ---- LocalResponseNorm ----------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "shape, args",
    [
        ((2, 6, 5), (3,)),
        ((2, 5, 3, 4), (2, 0.5, 0.7, 2.0)),
        ((1, 4, 2, 3, 2), (5, 1e-2, 0.75, 1.0)),
        ((2, 3, 4), (8, 0.3, 1.5, 0.5)),  # a window wider than the channels
        ((2, 4, 3), (1, 1.0, 0.5, 1.0)),
    ],
)
def test_local_response_norm_matches_torch(dtype: str, shape: tuple, args: tuple) -> None:
    import torch

    rng = np.random.default_rng(3)
    e_mod, t_mod = nn.LocalResponseNorm(*args), torch.nn.LocalResponseNorm(*args)
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict()) == []
    xe, xt = _pair((rng.normal(size=shape) * 2).astype(dtype))
    ye, yt = e_mod(xe), t_mod(xt)
    assert str(ye.dtype) == str(yt.dtype).replace("torch", "ember")
    assert_close(ye, yt, *TOL[dtype])
    _backward_both(ye, yt, rng)
    assert_close(xe.grad, xt.grad, *TOL[dtype])
    assert_close(
        F.local_response_norm(xe, *args), torch.nn.functional.local_response_norm(xt, *args), *TOL[dtype]
    )


def test_local_response_norm_gradcheck_and_edge_cases() -> None:
    rng = np.random.default_rng(4)
    x = ember.tensor(rng.normal(size=(2, 4, 3)), requires_grad=True)
    assert gradcheck(lambda a: F.local_response_norm(a, 3, 0.5, 0.75, 1.0), (x,))
    assert gradgradcheck(lambda a: F.local_response_norm(a, 2, 0.5, 0.75, 1.0), (x,))
    empty = ember.zeros(0, 3, 4)
    assert F.local_response_norm(empty, 3).shape == (0, 3, 4)
    assert repr(nn.LocalResponseNorm(2, k=2)) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=2)"


@requires_torch
def test_local_response_norm_needs_a_channel_dimension() -> None:
    import torch

    err = _raises(
        lambda: F.local_response_norm(ember.ones(2, 3), 3),
        lambda: torch.nn.functional.local_response_norm(torch.ones(2, 3), 3),
    )
    assert "3D or higher" in str(err) and "[2, 3]" in str(err)
