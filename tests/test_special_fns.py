"""The special functions (lgamma, digamma, polygamma, mvlgamma, the Bessel functions, erfcx,
ndtr, ndtri, log_ndtr, xlog1py, entr, zeta), the ember.special namespace, and atleast_nd,
isposinf/isneginf, cov, corrcoef and combinations: values against PyTorch and reference
values, special values, gradients (first and second) against PyTorch and gradcheck,
errors, methods and in-place forms."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ember
import ember.special as es
from conftest import assert_close, requires_torch

nan, inf = float("nan"), float("inf")
_RNG = np.random.default_rng(11)

# Wide float64 samples: (0, 3] closely, up to 1e6, tiny, and negative non-integers.
_POSITIVE = np.concatenate(
    [_RNG.uniform(0, 3, 200), _RNG.uniform(3, 40, 100), 10 ** _RNG.uniform(-300, 6, 100)]
)
_NEGATIVE = np.concatenate([-_RNG.uniform(0, 30, 200), -(10 ** _RNG.uniform(-300, 0, 30))])
_NEGATIVE = _NEGATIVE[_NEGATIVE != np.round(_NEGATIVE)]
_SPECIAL = [
    0.0,
    -0.0,
    -1.0,
    -2.0,
    -2.5,
    1.0,
    2.0,
    1e-300,
    -1e-300,
    inf,
    -inf,
    nan,
    1e6,
    1e305,
    1e306,
    -1e6 - 0.5,
]


def _close_or_same(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float = 0.0) -> None:
    """assert_allclose that also asks infinities (with their sign) and nans to agree."""
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def _torch_of(fn: str) -> Any:
    import torch

    obj: Any = torch
    for part in fn.split("."):
        obj = getattr(obj, part)
    return obj


# ---- lgamma, digamma, polygamma: values ----------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("name", ["lgamma", "digamma"])
def test_lgamma_digamma_match_torch_in_float64(name: str) -> None:
    import torch

    xs = np.concatenate([_POSITIVE, _NEGATIVE, _SPECIAL])
    e = getattr(ember, name)(ember.tensor(xs)).numpy()
    t = getattr(torch, name)(torch.tensor(xs)).numpy()
    # near the roots of lgamma and digamma on the negative axis, the relative error of any
    # reflection-based method grows; elsewhere it is a few ulps
    _close_or_same(e, t, rtol=1e-12, atol=1e-13)


def test_lgamma_matches_math_lgamma() -> None:
    xs = np.concatenate([_POSITIVE, _NEGATIVE, np.linspace(0.9, 1.1, 41), np.linspace(1.9, 2.1, 41)])
    expected = np.array([math.lgamma(x) for x in xs])
    e = ember.lgamma(ember.tensor(xs)).numpy()
    # near its roots (1, 2, and one in each unit interval below -2) the relative error of
    # glibc's lgamma itself reaches 4e-12 (ember's is 3e-16 near 1 and 2, checked with mpmath)
    near_roots = np.abs(expected) < 0.1
    _close_or_same(e[~near_roots], expected[~near_roots], rtol=2e-14)
    _close_or_same(e[near_roots], expected[near_roots], rtol=0, atol=1e-13)
    assert ember.lgamma(ember.tensor([1.0, 2.0])).tolist() == [0.0, 0.0]


def test_reference_values_in_float64() -> None:
    """Closed forms and 30-digit values (mpmath), including digamma near its positive root,
    where computing psi(x + 10) - sum 1/(x + k) would lose most digits."""
    zeta3 = 1.2020569031595942854
    x = ember.tensor([1.0, 0.5, 1.4616321449683622, 1.46, 1.47, 1e-8], dtype=ember.float64)
    expected = [
        -0.57721566490153286061,
        -1.9635100260214234794,
        -9.2412655217294274792e-17,  # digamma at the double nearest the root
        -0.0015805619870834521062,
        0.0080664890113648684423,
        -100000000.57721564636,
    ]
    _close_or_same(ember.digamma(x).numpy(), np.array(expected), rtol=1e-13)
    one = ember.tensor([1.0], dtype=ember.float64)
    _close_or_same(ember.polygamma(1, one).numpy(), [math.pi**2 / 6], rtol=1e-15)
    _close_or_same(ember.polygamma(2, one).numpy(), [-2 * zeta3], rtol=1e-15)
    _close_or_same(ember.polygamma(3, one).numpy(), [math.pi**4 / 15], rtol=1e-15)
    # trigamma(-1/2 - 10^6) = pi^2 - trigamma(3/2 + 10^6) by the reflection formula, and
    # trigamma(y) = 1/(y - 1/2) + O(y^-3)
    far = ember.polygamma(1, ember.tensor([-1e6 - 0.5], dtype=ember.float64)).numpy()
    _close_or_same(far, [math.pi**2 - 1 / (1e6 + 1.0)], rtol=1e-13)


@requires_torch
@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_polygamma_matches_torch_in_float64(n: int) -> None:
    import torch

    # PyTorch sums zeta(n + 1, x) term by term for x < 0, which takes |x| steps and loses
    # digits for large |x|, and its trigamma is good to about 1e-9: compare over [-30, 1e6]
    xs = np.concatenate([_POSITIVE, _NEGATIVE[_NEGATIVE > -30]])
    e = ember.polygamma(n, ember.tensor(xs)).numpy()
    t = torch.polygamma(n, torch.tensor(xs)).numpy()
    _close_or_same(e, t, rtol=1e-8 if n == 1 else 1e-11, atol=1e-300)


@requires_torch
def test_special_values_match_torch_where_it_is_defined() -> None:
    """Poles and infinities: inf/nan as in PyTorch; the differences are in docs/differences.md."""
    import torch

    xs = np.array([0.0, -0.0, -1.0, -3.0, inf, -inf, nan, 1e-300, -1e-300, 1e306])
    for name in ["lgamma", "digamma"]:
        e = getattr(ember, name)(ember.tensor(xs)).numpy()
        _close_or_same(e, getattr(torch, name)(torch.tensor(xs)).numpy(), rtol=1e-14)
    for n in [1, 2, 3]:
        e = ember.polygamma(n, ember.tensor(xs)).numpy()
        t = torch.polygamma(n, torch.tensor(xs)).numpy()
        # PyTorch: trigamma is finite (1e32) at the negative integers, and polygamma(n >= 2, inf)
        # is nan; ember gives the limits inf and 0
        differs = (xs == inf) if n > 1 else (xs < 0) & (xs == np.round(xs)) & np.isfinite(xs)
        _close_or_same(e[~differs], t[~differs], rtol=1e-8)
    assert ember.polygamma(2, ember.tensor([inf])).item() == 0.0
    assert ember.polygamma(1, ember.tensor([-1.0, -2.0])).tolist() == [inf, inf]


@requires_torch
@pytest.mark.parametrize("name", ["lgamma", "digamma", "polygamma1", "polygamma4", "mvlgamma3"])
def test_float32_and_integer_inputs_match_torch(name: str) -> None:
    import torch

    xs = np.concatenate([_RNG.uniform(-10, 10, 200), _RNG.uniform(0, 100, 50), [0.5, 1.5, 2.5]]).astype(
        np.float32
    )
    if name.startswith("mvlgamma"):
        xs = np.abs(xs) + 1.5
    ints = np.arange(1, 8)

    def call(mod: Any, x: Any) -> Any:
        if name.startswith("polygamma"):
            return mod.polygamma(int(name[-1]), x)
        if name.startswith("mvlgamma"):
            return mod.mvlgamma(x, p=int(name[-1]))
        return getattr(mod, name)(x)

    e, t = call(ember, ember.tensor(xs)), call(torch, torch.tensor(xs))
    assert e.dtype == ember.float32
    # PyTorch computes in float32, and its float32 trigamma is good to about 1e-4
    _close_or_same(e.numpy(), t.numpy(), rtol=2e-4 if name == "polygamma1" else 2e-5, atol=1e-5)
    e, t = call(ember, ember.tensor(ints)), call(torch, torch.tensor(ints))
    assert e.dtype == ember.float32
    _close_or_same(e.numpy(), t.numpy(), rtol=1e-5)
    assert call(ember, ember.tensor([True])).dtype == ember.float32


@requires_torch
def test_mvlgamma_matches_torch() -> None:
    import torch

    x = _RNG.uniform(2.5, 30, (3, 4))
    for p in [1, 2, 5]:
        _close_or_same(
            ember.mvlgamma(ember.tensor(x), p).numpy(), torch.mvlgamma(torch.tensor(x), p).numpy(), 1e-13
        )
    assert ember.mvlgamma(ember.tensor(3.0), 2).shape == ()


# ---- Bessel functions, erfcx, the normal distribution, entr, xlog1py, zeta -----------------------

_UNARY_SPECIAL = [
    "i0",
    "special.i0e",
    "special.i1",
    "special.i1e",
    "special.erfcx",
    "special.ndtr",
    "special.log_ndtr",
    "special.entr",
]


def _ember_of(fn: str) -> Any:
    return getattr(es, fn.split(".")[1]) if fn.startswith("special.") else getattr(ember, fn)


@requires_torch
@pytest.mark.parametrize("fn", [*_UNARY_SPECIAL, "special.ndtri"])
def test_unary_special_functions_match_torch(fn: str) -> None:
    import torch

    if fn == "special.ndtri":
        xs = np.concatenate(
            [_RNG.uniform(0, 1, 300), 10 ** _RNG.uniform(-300, -1, 50), 1 - 10 ** _RNG.uniform(-16, -1, 50)]
        )
        xs = np.concatenate([xs, [0.0, 1.0, 0.5, 0.25, 0.75, -0.5, 2.0, nan]])
    else:
        xs = np.concatenate(
            [_RNG.uniform(-40, 40, 300), 10 ** _RNG.uniform(-300, 3, 60), -(10 ** _RNG.uniform(-300, 3, 60))]
        )
        xs = np.concatenate([xs, [0.0, -0.0, 20.0, -20.0, 1e-9, inf, -inf, nan, 1e10, -1e10]])
    e = _ember_of(fn)(ember.tensor(xs)).numpy()
    t = _torch_of(fn)(torch.tensor(xs)).numpy()
    # exp(x^2) and erfc near x = 30 carry the rounding of x^2 (both libraries), 1e-13 relative;
    # PyTorch's ndtr is 1/2 (1 + erf(x / sqrt 2)), which loses the lower tail (0 below -8.3)
    _close_or_same(e, t, rtol=3e-13, atol=1e-15 if fn == "special.ndtr" else 1e-300)
    x32 = xs.astype(np.float32)
    e32 = _ember_of(fn)(ember.tensor(x32))
    assert e32.dtype == ember.float32
    # ember computes in float64 and rounds; PyTorch's float32 kernels are good to a few 1e-6
    _close_or_same(
        e32.numpy(),
        _torch_of(fn)(torch.tensor(x32)).numpy(),
        rtol=1e-5,
        atol=1e-7 if fn == "special.ndtr" else 1e-37,
    )
    assert _ember_of(fn)(ember.tensor([1, 0])).dtype == ember.float32


@requires_torch
@settings(max_examples=15, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_xlog1py_and_zeta_broadcast_like_torch(shapes: Any, seed: int) -> None:
    import torch

    rng = np.random.default_rng(seed)
    (sa, sb), result = shapes.input_shapes, shapes.result_shape
    a = rng.choice([0.0, 1.5, -2.0, 3.0, 0.5], size=sa)
    b = rng.choice([0.0, -1.0, -0.5, 2.0, 7.5, nan], size=sb)
    e = es.xlog1py(ember.tensor(a), ember.tensor(b))
    assert e.shape == result
    _close_or_same(e.numpy(), torch.special.xlog1py(torch.tensor(a), torch.tensor(b)).numpy(), 1e-14)
    s = rng.choice([1.0, 1.5, 2.0, 3.0, 0.5], size=sa)
    q = rng.choice([1.0, 0.25, 7.5, 0.0, -1.5, -2.0], size=sb)
    e = es.zeta(ember.tensor(s), ember.tensor(q))
    assert e.shape == result
    _close_or_same(e.numpy(), torch.special.zeta(torch.tensor(s), torch.tensor(q)).numpy(), 1e-13)


@requires_torch
def test_ndtr_keeps_the_lower_tail() -> None:
    x = ember.tensor([-8.0, -18.0, -38.0], dtype=ember.float64)
    expected = [6.2209605742717841e-16, 9.7409489189371505e-73, 2.8854283600687843e-316]  # mpmath
    _close_or_same(es.ndtr(x).numpy(), np.array(expected), rtol=1e-12, atol=1e-320)
    logs = [-35.013437159914549896, -165.81237325071418009, -726.5572160188201301]
    _close_or_same(es.log_ndtr(x).numpy(), np.array(logs), rtol=1e-14)


@requires_torch
def test_binary_special_functions_accept_numbers_and_integers() -> None:
    import torch

    y = [0.5, -0.5, 3.0]
    for a, b, ta, tb in [
        (2, ember.tensor(y), 2, torch.tensor(y)),
        (ember.tensor([1, 2, 0]), 3, torch.tensor([1, 2, 0]), 3),
    ]:
        assert_close(es.xlog1py(a, b), torch.special.xlog1py(ta, tb))
    assert_close(es.zeta(2.0, ember.tensor([1.0, 2.0])), torch.special.zeta(2.0, torch.tensor([1.0, 2.0])))
    z = es.zeta(ember.tensor([2]), ember.tensor([1]))
    assert z.dtype == ember.float32
    with pytest.raises(TypeError, match="at least one"):
        es.xlog1py(1.0, 2.0)


# ---- gradients -------------------------------------------------------------------------------------


def _grad_pair(fn_e: Any, fn_t: Any, xs: np.ndarray, create_graph: bool = False) -> None:
    """The gradient of sum(w * f(x)), and with create_graph the gradient of that gradient's
    weighted sum, ember against torch, in float64."""
    import torch

    w = _RNG.normal(size=xs.shape)
    xe = ember.tensor(xs, requires_grad=True)
    xt = torch.tensor(xs, requires_grad=True)
    (ge,) = ember.autograd.grad((fn_e(xe) * ember.tensor(w)).sum(), xe, create_graph=create_graph)
    (gt,) = torch.autograd.grad((fn_t(xt) * torch.tensor(w)).sum(), xt, create_graph=create_graph)
    _close_or_same(ge.detach().numpy(), gt.detach().numpy(), rtol=1e-8, atol=1e-12)
    if create_graph:
        (gge,) = ember.autograd.grad((ge * ember.tensor(w)).sum(), xe)
        (ggt,) = torch.autograd.grad((gt * torch.tensor(w)).sum(), xt)
        _close_or_same(gge.numpy(), ggt.numpy(), rtol=1e-8, atol=1e-12)


_GRAD_CASES = {
    "lgamma": (ember.lgamma, "lgamma", [0.3, 1.5, 4.0, -2.5, -0.7, 25.0]),
    "digamma": (ember.digamma, "digamma", [0.3, 1.5, 4.0, -2.5, -0.7, 25.0]),
    "polygamma2": (lambda x: ember.polygamma(2, x), "polygamma", [0.3, 1.5, 4.0, -2.5, 25.0]),
    "mvlgamma": (lambda x: ember.mvlgamma(x, 3), "mvlgamma", [1.2, 2.5, 7.0]),
    "i0": (ember.i0, "i0", [0.0, 0.5, -3.0, 25.0]),
    "i0e": (es.i0e, "special.i0e", [0.0, 0.5, -3.0, 25.0]),
    "i1": (es.i1, "special.i1", [0.0, 0.5, -3.0, 25.0]),
    "i1e": (es.i1e, "special.i1e", [0.0, 0.5, -3.0, 25.0]),
    "erfcx": (es.erfcx, "special.erfcx", [0.0, 0.5, -3.0, 25.0]),
    "ndtr": (es.ndtr, "special.ndtr", [0.0, 0.5, -3.0, 5.0]),
    "ndtri": (es.ndtri, "special.ndtri", [0.01, 0.5, 0.9, 1e-20]),
    "log_ndtr": (es.log_ndtr, "special.log_ndtr", [0.0, 0.5, -3.0, -30.0, 5.0]),
    "entr": (es.entr, "special.entr", [0.5, 3.0, 1e-3]),
}


def _torch_fn(case: str) -> Any:
    name = _GRAD_CASES[case][1]
    if name == "polygamma":
        return lambda x: _torch_of("polygamma")(2, x)
    if name == "mvlgamma":
        return lambda x: _torch_of("mvlgamma")(x, 3)
    return _torch_of(name)


@requires_torch
@pytest.mark.parametrize("case", list(_GRAD_CASES))
def test_gradients_and_second_derivatives_match_torch(case: str) -> None:
    fn, _, xs = _GRAD_CASES[case]
    _grad_pair(fn, _torch_fn(case), np.array(xs), create_graph=True)


@pytest.mark.parametrize("case", list(_GRAD_CASES))
def test_gradcheck(case: str) -> None:
    fn, _, xs = _GRAD_CASES[case]
    xs = [x for x in xs if abs(x) > 1e-6 and abs(x) < 20]  # finite differences need room
    x = ember.tensor(xs, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))


def test_third_derivative_of_lgamma_is_polygamma_2() -> None:
    x = ember.tensor([0.7, 3.0, -1.5], dtype=ember.float64, requires_grad=True)
    (g1,) = ember.autograd.grad(ember.lgamma(x).sum(), x, create_graph=True)
    (g2,) = ember.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = ember.autograd.grad(g2.sum(), x)
    _close_or_same(g3.numpy(), ember.polygamma(2, x.detach()).numpy(), rtol=1e-15)
    assert g1.grad_fn is not None


@requires_torch
def test_gradients_at_special_points_match_torch() -> None:
    import torch

    cases = [
        (ember.lgamma, torch.lgamma, [0.0, -2.5, 1e-300, inf, 2.0]),
        (es.i1, torch.special.i1, [0.0, -0.0, 1e-12]),
        (es.i1e, torch.special.i1e, [0.0, 1e-12, inf]),
        (es.i0e, torch.special.i0e, [0.0, inf, -inf]),
        (es.entr, torch.special.entr, [0.0, -1.0, inf, nan]),
        (es.ndtri, torch.special.ndtri, [0.0, 1.0, 2.0]),
        (es.log_ndtr, torch.special.log_ndtr, [-inf, inf]),
    ]
    for fn_e, fn_t, xs in cases:
        xe = ember.tensor(xs, dtype=ember.float64, requires_grad=True)
        xt = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
        fn_e(xe).sum().backward()
        fn_t(xt).sum().backward()
        _close_or_same(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@requires_torch
def test_xlog1py_gradients_match_torch() -> None:
    import torch

    pairs = [
        (0.0, -1.0),
        (0.0, -2.0),
        (0.0, 0.0),
        (1.0, -1.0),
        (0.0, nan),
        (2.0, 3.0),
        (0.0, 3.0),
        (-1.5, 0.25),
    ]
    for a, b in pairs:
        xe, ye = (
            ember.tensor(a, dtype=ember.float64, requires_grad=True),
            ember.tensor(b, dtype=ember.float64, requires_grad=True),
        )
        xt, yt = (
            torch.tensor(a, dtype=torch.float64, requires_grad=True),
            torch.tensor(b, dtype=torch.float64, requires_grad=True),
        )
        es.xlog1py(xe, ye).backward()
        torch.special.xlog1py(xt, yt).backward()
        _close_or_same([xe.grad.item(), ye.grad.item()], [xt.grad.item(), yt.grad.item()], rtol=1e-14)
    x = ember.tensor([0.5, 2.0], dtype=ember.float64, requires_grad=True)
    y = ember.tensor([0.25, 3.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(es.xlog1py, (x, y))
    assert ember.autograd.gradgradcheck(es.xlog1py, (x, y))


def test_zeta_has_no_derivative_as_in_torch() -> None:
    q = ember.tensor([1.0, 2.0], requires_grad=True)
    z = es.zeta(ember.tensor([2.0, 3.0]), q)
    with pytest.raises(NotImplementedError, match="zeta"):
        z.sum().backward()


# ---- errors, methods, in-place forms, node names ------------------------------------------------------


def test_errors() -> None:
    x = ember.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not support negative n"):
        ember.polygamma(-1, x)
    with pytest.raises(RuntimeError, match="does not support negative n"):
        x.clone().polygamma_(-1)
    with pytest.raises(TypeError, match="argument 'n' .* must be int, not float"):
        ember.polygamma(1.0, x)
    with pytest.raises(TypeError, match="must be int, not bool"):
        ember.polygamma(True, x)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        ember.mvlgamma(x, 0)
    with pytest.raises(TypeError, match="argument 'p' .* must be int"):
        ember.mvlgamma(x, 1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.tensor([1, 2]).lgamma_()


@requires_torch
def test_methods_and_inplace_forms_match_torch() -> None:
    import torch

    data = np.array([[0.3, 1.7, 4.0], [2.5, 0.9, 6.5]])
    for call in [
        lambda t: t.lgamma(),
        lambda t: t.digamma(),
        lambda t: t.polygamma(2),
        lambda t: t.mvlgamma(2),
        lambda t: t.i0(),
        lambda t: t.clone().lgamma_(),
        lambda t: t.clone().digamma_(),
        lambda t: t.clone().polygamma_(1),
        lambda t: t.clone().mvlgamma_(p=2),
        lambda t: t.clone().i0_(),
        lambda t: (t / 10).erf_(),
        lambda t: (t / 10).erfc_(),
        lambda t: (t / 10).erfinv_(),
        lambda t: (t / 10).logit_(),
        lambda t: (t / 10).logit_(eps=0.2),
        lambda t: t.clone().sinc_(),
        lambda t: t.clone().xlogy_(t + 1),
        lambda t: t.isposinf(),
        lambda t: t.isneginf(),
    ]:
        assert_close(call(ember.tensor(data)), call(torch.tensor(data)), rtol=1e-8, atol=1e-14)
    a = np.array([0.5, 2.0])
    assert_close(ember.i0_(ember.tensor(a)), torch.i0_(torch.tensor(a)), rtol=1e-14)
    assert_close(ember.xlogy_(ember.tensor(a), 3.0), torch.xlogy_(torch.tensor(a), 3.0), rtol=1e-14)
    # in-place with a gradient: through the recorded in-place op
    xe, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ye, yt = xe * 2, xt * 2
    ye.lgamma_().sum().backward()
    yt.lgamma_().sum().backward()
    assert_close(xe.grad, xt.grad, rtol=1e-12)


@requires_torch
def test_node_names_match_torch() -> None:
    import torch

    cases = [
        ("lgamma", lambda m, x: m.lgamma(x)),
        ("digamma", lambda m, x: m.digamma(x)),
        ("polygamma", lambda m, x: m.polygamma(2, x)),
        ("i0", lambda m, x: m.i0(x)),
        ("i0e", lambda m, x: m.special.i0e(x)),
        ("i1", lambda m, x: m.special.i1(x)),
        ("i1e", lambda m, x: m.special.i1e(x)),
        ("erfcx", lambda m, x: m.special.erfcx(x)),
        ("ndtri", lambda m, x: m.special.ndtri(x)),
        ("log_ndtr", lambda m, x: m.special.log_ndtr(x)),
        ("entr", lambda m, x: m.special.entr(x)),
        ("xlog1py", lambda m, x: m.special.xlog1py(x, x)),
    ]
    for name, call in cases:
        e = call(ember, ember.tensor([0.5], requires_grad=True)).grad_fn.name()
        t = call(torch, torch.tensor([0.5], requires_grad=True)).grad_fn.name()
        assert e == t, name


@requires_torch
def test_special_namespace_has_torch_names() -> None:
    import torch

    x = np.array([[0.2, 0.7, 1.5], [0.4, 2.5, 0.9]])
    for name in es.__all__:
        assert hasattr(torch.special, name), name
        if "bessel" in name or "airy" in name or "polynomial" in name:
            continue  # tests/test_special_family.py compares these (torch's Bessel values are rougher)
        fe, ft = getattr(es, name), getattr(torch.special, name)
        if name in {"polygamma"}:
            args: tuple = (2,)
            e, t = fe(*args, ember.tensor(x)), ft(*args, torch.tensor(x))
        elif name in {"multigammaln"}:
            e, t = fe(ember.tensor(x + 1), 2), ft(torch.tensor(x + 1), 2)
        elif name in {"logsumexp", "softmax", "log_softmax"}:
            e, t = fe(ember.tensor(x), 1), ft(torch.tensor(x), 1)
        elif name in {"xlogy", "xlog1py", "zeta", "gammainc", "gammaincc"}:
            e, t = fe(ember.tensor(x + 1), ember.tensor(x)), ft(torch.tensor(x + 1), torch.tensor(x))
        else:
            e, t = fe(ember.tensor(x)), ft(torch.tensor(x))
        assert_close(e, t, rtol=1e-12, atol=1e-14)
    assert es.expit is ember.sigmoid and es.gammaln is ember.lgamma and es.psi is ember.digamma


# ---- atleast_nd, isposinf/isneginf ------------------------------------------------------------------


@requires_torch
def test_atleast_nd_like_torch() -> None:
    import torch

    shapes = [(), (3,), (2, 3), (2, 3, 4), (1, 2, 3, 4)]
    for name in ["atleast_1d", "atleast_2d", "atleast_3d"]:
        for shape in shapes:
            a = np.arange(math.prod(shape), dtype=np.float64).reshape(shape)
            e, t = getattr(ember, name)(ember.tensor(a)), getattr(torch, name)(torch.tensor(a))
            assert_close(e, t)
        pair_e = getattr(ember, name)(ember.tensor(1.0), ember.ones(2))
        pair_t = getattr(torch, name)(torch.tensor(1.0), torch.ones(2))
        assert isinstance(pair_e, tuple) and [x.shape for x in pair_e] == [tuple(x.shape) for x in pair_t]
        listed = getattr(ember, name)([ember.ones(2)])
        assert isinstance(listed, tuple) and len(listed) == 1
        assert getattr(ember, name)() == ()
    b = ember.ones(3)
    assert ember.atleast_1d(b) is b
    with pytest.raises(TypeError, match="atleast_1d"):
        ember.atleast_1d(1.0)
    x = ember.tensor(2.0, requires_grad=True)
    (ember.atleast_3d(x) * 3).sum().backward()
    assert x.grad.item() == 3.0


def test_isposinf_isneginf() -> None:
    x = ember.tensor([inf, -inf, nan, 1.0])
    assert ember.isposinf(x).tolist() == [True, False, False, False]
    assert ember.isneginf(x).tolist() == [False, True, False, False]
    assert ember.isposinf(ember.tensor([1, 2])).tolist() == [False, False]
    assert ember.isneginf(ember.tensor([True])).dtype == ember.bool


# ---- cov, corrcoef, combinations ----------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"correction": 0},
        {"correction": 2},
        {"fweights": "f"},
        {"aweights": "a"},
        {"fweights": "f", "aweights": "a", "correction": 3},
    ],
)
def test_cov_and_corrcoef_match_torch(kwargs: dict) -> None:
    import torch

    x = _RNG.normal(size=(3, 5))
    f, a = np.array([1, 2, 0, 3, 1]), _RNG.uniform(0.1, 2, 5)

    def args(mod: Any) -> dict:
        out = dict(kwargs)
        if "fweights" in out:
            out["fweights"] = mod.tensor(f)
        if "aweights" in out:
            out["aweights"] = mod.tensor(a)
        return out

    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ce, ct = ember.cov(xe, **args(ember)), torch.cov(xt, **args(torch))
    assert_close(ce, ct, rtol=1e-12, atol=1e-14)
    w = _RNG.normal(size=ct.shape)
    (ce * ember.tensor(w)).sum().backward()
    (ct * torch.tensor(w)).sum().backward()
    assert_close(xe.grad, xt.grad, rtol=1e-10, atol=1e-12)
    assert ember.autograd.gradcheck(
        lambda v: ember.cov(v, **args(ember)), (ember.tensor(x, requires_grad=True),)
    )
    if not kwargs:
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ce, ct = ember.corrcoef(xe), torch.corrcoef(xt)
        assert_close(ce, ct, rtol=1e-12, atol=1e-14)
        (ce * ember.tensor(w)).sum().backward()
        (ct * torch.tensor(w)).sum().backward()
        assert_close(xe.grad, xt.grad, rtol=1e-9, atol=1e-12)


@requires_torch
def test_cov_corrcoef_shapes_dtypes_and_edge_cases() -> None:
    import torch

    for data in ([1, 2, 4], [[1, 2, 4]], [[1.0, 2.0, 4.0], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0]]):
        for name in ["cov", "corrcoef"]:
            e, t = getattr(ember, name)(ember.tensor(data)), getattr(torch, name)(torch.tensor(data))
            assert e.dtype == ember.float32 and e.shape == tuple(t.shape)
            _close_or_same(e.numpy(), t.numpy(), rtol=1e-6)
    x = [[1.0, 2.0, 4.0], [1.0, 0.0, 0.0]]
    mixed = ember.cov(ember.tensor(x), aweights=ember.tensor([0.5, 1.0, 2.0], dtype=ember.float64))
    assert mixed.dtype == ember.float64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kwargs in [{"correction": 5}, {}]:
            data = x if kwargs else [[1.0], [2.0]]
            e, t = ember.cov(ember.tensor(data), **kwargs), torch.cov(torch.tensor(data), **kwargs)
            _close_or_same(e.numpy(), t.numpy(), rtol=1e-6)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        ember.cov(ember.tensor(x), correction=3)
    assert ember.cov(ember.ones(0, 3)).shape == (0, 0)


def test_cov_corrcoef_errors() -> None:
    x = ember.ones(2, 3)
    cases = [
        (lambda: ember.cov(ember.ones(2, 2, 2)), "two or fewer dimensions"),
        (lambda: ember.corrcoef(ember.ones(2, 2, 2)), "corrcoef.*two or fewer"),
        (lambda: ember.cov(x, fweights=ember.tensor([1.0, 2, 3])), "integral dtype"),
        (lambda: ember.cov(x, fweights=ember.tensor([1, -2, 3])), "fweights cannot be negative"),
        (lambda: ember.cov(x, aweights=ember.tensor([1, 2, 3])), "floating point dtype"),
        (lambda: ember.cov(x, aweights=ember.tensor([1.0, -2, 3])), "aweights cannot be negative"),
        (lambda: ember.cov(x, aweights=ember.tensor([1.0, 2])), "2 != 3"),
        (lambda: ember.cov(x, fweights=ember.tensor([[1, 2, 3]])), "one or fewer dimensions"),
    ]
    for call, message in cases:
        with pytest.raises(RuntimeError, match=message):
            call()


@requires_torch
def test_combinations_match_torch() -> None:
    import torch

    data = np.array([1.5, -2.0, 3.0, 0.5])
    for r in [0, 1, 2, 3, 5]:
        for replace in [False, True]:
            e = ember.combinations(ember.tensor(data), r, with_replacement=replace)
            t = torch.combinations(torch.tensor(data), r, with_replacement=replace)
            assert e.shape == tuple(t.shape)
            assert_close(e, t)
    assert ember.combinations(ember.tensor([1, 2, 3])).dtype == ember.int64
    xe, xt = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    w = _RNG.normal(size=(10, 2))
    (ember.combinations(xe, with_replacement=True) * ember.tensor(w)).sum().backward()
    (torch.combinations(xt, with_replacement=True) * torch.tensor(w)).sum().backward()
    assert_close(xe.grad, xt.grad, rtol=1e-12)
    with pytest.raises(RuntimeError, match="Expect a 1D vector"):
        ember.combinations(ember.ones(2, 2))
    with pytest.raises(RuntimeError, match="non-negative"):
        ember.combinations(ember.ones(3), -1)
