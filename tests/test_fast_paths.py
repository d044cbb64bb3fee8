"""The fast paths give the slow paths' results: float arange / linspace / logspace against
their exact emulation (bit for bit, over random arguments and every dtype), recorded
setitem against its semantics, and the lazily imported submodules against eager ones.
Speed itself is not asserted here (bench/ measures it); which path ran is."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from ember import _spacing

FLOAT_DTYPES = [np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16)]


def _bits(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    return array.view(f"u{array.itemsize}")


def _same(fast: np.ndarray, exact: np.ndarray) -> None:
    assert fast.dtype == exact.dtype and fast.shape == exact.shape
    np.testing.assert_array_equal(_bits(fast), _bits(exact))


# arguments of every kind: short decimals (the common case), zeros of both signs, integers,
# halves, random doubles (which have no exact split), tiny and huge magnitudes
_number = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -8.0, 0.5, 16777216.5, 2.0**-30, 1e-7]),
    st.floats(-1000, 1000, allow_nan=False).map(lambda x: round(x, 3)),
    st.floats(-1e4, 1e4, allow_nan=False, allow_subnormal=False),
    st.floats(-1e-3, 1e-3, allow_nan=False, allow_subnormal=False),
    st.integers(-(2**20), 2**20).map(float),
)
_step = st.one_of(
    st.sampled_from([0.1, 0.01, 0.3, 1 / 3, 0.7, 2.5, 1e-3, 0.25, 1.0, 2.0**-20, 1e-9]),
    st.floats(1e-6, 100, allow_nan=False, allow_subnormal=False),
)


@settings(max_examples=300, deadline=None)
@given(
    start=_number,
    step=_step,
    sign=st.sampled_from([1, -1]),
    count=st.one_of(st.integers(0, 70), st.integers(0, 400)),
    dtype=st.sampled_from(FLOAT_DTYPES),
)
def test_arange_fast_path_bits(start, step, sign, count, dtype):
    step *= sign
    if dtype == np.float16:  # (the accumulate type's values, as creation.arange passes them)
        start, step = float(np.float32(start / 1000)), float(np.float32(step))
        if not math.isfinite(start + step * count) or abs(start) + abs(step) * count > 60000:
            return
    _same(
        _spacing.arange_floats(start, step, count, dtype),
        _spacing.arange_floats_exact(start, step, count, dtype),
    )


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize(
    "start, step", [(0.0, 0.001), (-3.3, 0.00037), (0.3, -0.0007), (-0.0, -1e-5), (-30.0, 0.001)]
)
def test_arange_fast_path_long_ranges(dtype, threads, start, step):
    """Past 32768 elements the range is cut into chunks, each with its blocks and tail."""
    saved = ember.get_num_threads()
    try:
        ember.set_num_threads(threads)
        count = 50_003 if dtype != np.float16 else 40_001
        if dtype == np.float16:
            start, step = float(np.float32(start)), float(np.float32(step))
        fast = _spacing.arange_floats(start, step, count, dtype)
        _same(fast, _spacing.arange_floats_exact(start, step, count, dtype))
    finally:
        ember.set_num_threads(saved)


@pytest.mark.parametrize(
    "start, step, count",
    [
        (-8.0, 0.1, 160),  # d2l: a block's head near zero, off the split's grid
        (16777216.5, 1.0, 100),  # every candidate on a float32 tie: the array emulation
        (1.0, 2.0**-25, 100),  # ties again, from a step below float32's resolution
        (-0.0, 0.25, 40),  # the zero's sign at index 0
        (-0.0, -0.25, 40),
        (0.0, -0.01, 100),
        (123.456, 0.001, 300),  # no exact split: checked candidates
        (0.0, 1e30, 50),  # beyond the fast path's magnitudes (float32 and float16 overflow to inf)
        (3e-29, 1e-30, 50),
    ],
)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_arange_fast_path_corners(start, step, count, dtype):
    if dtype == np.float16:
        start, step = float(np.float32(start / 1000)), float(np.float32(step))
    _same(
        _spacing.arange_floats(start, step, count, dtype),
        _spacing.arange_floats_exact(start, step, count, dtype),
    )


@settings(max_examples=250, deadline=None)
@given(
    start=_number,
    end=_number,
    steps=st.one_of(st.integers(2, 40), st.integers(2, 600)),
    dtype=st.sampled_from([np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex64)]),
)
def test_linspace_fast_path_bits(start, end, steps, dtype):
    if dtype.kind == "c":
        start, end = complex(start, end / 7), complex(end, -start)
    _same(
        _spacing.linspace_floats(start, end, steps, dtype),
        _spacing.linspace_floats_exact(start, end, steps, dtype),
    )


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(-(2**40), 2**40) | st.integers(-300, 300) | st.integers(-(2**63), 2**63 - 1),
    end=st.integers(-(2**40), 2**40) | st.integers(-300, 300) | st.integers(-(2**63), 2**63 - 1),
    steps=st.integers(2, 300),
)
def test_linspace_integers_fast_path(start, end, steps):
    fast = _spacing.linspace_integers(start, end, steps, np.dtype(np.int64))
    np.testing.assert_array_equal(
        fast, _spacing.linspace_integers_exact(start, end, steps, np.dtype(np.int64))
    )


@pytest.mark.parametrize("base", [10.0, 2.0, 0.5, 1.0, math.e, 1e300, 0.0, -2.0, math.inf])
def test_c_pow_is_the_c_librarys(base):
    exponents = np.concatenate([np.linspace(-400, 400, 257), [math.nan, math.inf, -math.inf, 0.0, -0.0, 0.5]])
    expected = np.empty(exponents.shape)
    for i, exponent in enumerate(exponents.tolist()):
        try:
            expected[i] = math.pow(base, exponent)
        except (OverflowError, ValueError):
            with np.errstate(all="ignore"):
                expected[i] = np.power(base, exponent)
    _same(_spacing.c_pow(base, exponents), expected)


def test_common_ranges_take_the_fast_path(monkeypatch):
    """The exact emulation is not what answers the common calls (arange with a decimal
    step, linspace), in any float dtype."""

    def refuse(*args, **kwargs):
        raise AssertionError("the exact emulation ran")

    expected = {
        dtype: (
            ember.arange(0.0, 1.0, 0.01, dtype=dtype).numpy(),
            ember.linspace(-1, 1, 100, dtype=dtype).numpy(),
        )
        for dtype in (ember.float32, ember.float64, ember.float16)
    }
    monkeypatch.setattr(_spacing, "arange_floats_exact", refuse)
    monkeypatch.setattr(_spacing, "linspace_floats_exact", refuse)
    monkeypatch.setattr(_spacing, "fma", refuse)
    monkeypatch.setattr(_spacing, "fma_single", refuse)
    for dtype in (ember.float32, ember.float64):
        _same(ember.arange(0.0, 1.0, 0.01, dtype=dtype).numpy(), expected[dtype][0])
        _same(ember.linspace(-1, 1, 100, dtype=dtype).numpy(), expected[dtype][1])
        assert int((ember.arange(-8.0, 8.0, 0.1, dtype=dtype) > 0).sum()) == 80  # (d2l's count)
    _same(ember.arange(0.0, 1.0, 0.01, dtype=ember.float16).numpy(), expected[ember.float16][0])


# ---- recorded setitem: one CopySlices node, the gradients of copy_ into the view ----------


def _torch():
    return pytest.importorskip("torch")


_SETITEM_CASES = [
    # (index, value shape or None for a number, value dtype)
    ((3,), (32,), "float32"),
    ((3,), (1, 32), "float32"),  # leading ones dropped
    ((3,), (), "float32"),  # a 0-d tensor broadcast along the row
    ((slice(None), 1), (64,), "float64"),  # another dtype: its gradient in its own dtype
    ((slice(1, 3),), (1,), "float32"),
    ((slice(None, None, 2), slice(4, 8)), (4,), "float32"),
    ((3, 4), (), "float32"),
    ((None, 2, Ellipsis), (32,), "float32"),
    ((3,), None, None),  # a number
    ((slice(10, 20),), None, None),
]


@pytest.mark.parametrize("index, shape, dtype", _SETITEM_CASES)
def test_recorded_setitem_matches_torch(index, shape, dtype):
    torch = _torch()
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((64, 32)).astype(np.float32)
    v0 = None if shape is None else rng.standard_normal(shape).astype(dtype)
    w0 = rng.standard_normal((64, 32)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        v = 2.5 if v0 is None else lib.tensor(v0, requires_grad=True)
        y = x * 2
        y[index] = v
        assert y.grad_fn.name().endswith("CopySlices")
        names = [f.name().split("::")[-1] if f is not None else None for f, _ in y.grad_fn.next_functions]
        (y * y * lib.tensor(w0)).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy(), None if v0 is None else v.grad.numpy(), names))
    (ey, ex, ev, enames), (ty, tx, tv, tnames) = results
    assert enames == tnames
    np.testing.assert_allclose(ey, ty, rtol=1e-6)
    np.testing.assert_allclose(ex, tx, rtol=1e-5)
    if v0 is not None:
        assert ev.dtype == tv.dtype and ev.shape == tv.shape
        np.testing.assert_allclose(ev, tv, rtol=1e-5, atol=1e-5)


def test_recorded_setitem_through_views_and_overlap():
    torch = _torch()
    results = []
    for lib in (ember, torch):
        x = lib.tensor(np.arange(24.0).reshape(4, 6), requires_grad=True)
        v = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * 1
        z = y[1:]  # a view: the write goes to y's history
        z[0, :3] = v
        y[2] = y[0]  # the value is a view of the base being written
        y[:, 1:] = y[:, :-1].clone()
        w = z.exp()  # z follows its base's new history
        (w.sum() + (y * y).sum()).backward()
        results.append((y.detach().numpy(), x.grad.numpy(), v.grad.numpy()))
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-6)


def test_recorded_setitem_double_backward():
    x = ember.randn(5, 4, dtype=ember.float64, requires_grad=True)
    v = ember.randn(4, dtype=ember.float64, requires_grad=True)

    def f(x, v):
        y = x * x
        y[2] = v * v
        return y.sin()

    assert ember.autograd.gradcheck(f, (x, v))
    assert ember.autograd.gradgradcheck(f, (x, v))


def test_recorded_setitem_errors():
    leaf = ember.zeros(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf[0] = 1.0
    base = leaf * 1
    with ember.no_grad():
        view = base[1:]
    with pytest.raises(RuntimeError, match="no_grad"):
        view[0] = ember.ones(2, requires_grad=True)
    expanded = ember.zeros(1, 3).expand(2, 3)
    with pytest.raises(RuntimeError, match="single memory location"):
        expanded[:, 1:] = ember.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        (leaf * 1)[0] = ember.ones(3, requires_grad=True)


# ---- import ember: the optional parts load on first use ---------------------------------

_LAZY = ["datasets", "distributions", "fft", "hub", "masked", "models", "profiler", "quasirandom"]
_LAZY += ["serialization", "signal", "testing", "transforms"]


def test_import_leaves_the_optional_parts_unloaded():
    """A fresh interpreter: `import ember` imports none of them (nor urllib's request or
    http, which only the downloads need), and each loads on its first use, in every form."""
    import subprocess
    import sys

    code = f"""
import sys
import ember
lazy = {_LAZY!r}
loaded = [m for m in sys.modules if any(m == "ember." + n or m.startswith("ember." + n + ".") for n in lazy)]
assert not loaded, loaded
assert "urllib.request" not in sys.modules and "http.client" not in sys.modules
assert set(lazy) <= set(dir(ember)) and set(lazy) <= set(ember.__all__)
assert {{"save", "load"}} <= set(dir(ember)) and {{"save", "load"}} <= set(ember.__all__)
assert ember.datasets.MNIST.__name__ == "MNIST"
from ember.datasets import MNIST
import ember.transforms
from ember import distributions, save, load
assert ember.transforms.ToTensor and distributions.Normal and MNIST is ember.datasets.MNIST
assert save is ember.serialization.save and load is ember.serialization.load
x, out = ember.arange(4.0), ember.empty(4, dtype=ember.complex64)
assert ember.fft.fft(x, out=out) is out  # fft's out= wrappers, installed by ember.fft itself
assert "ember.autograd.profiler" not in sys.modules and "profiler" in dir(ember.autograd)
with ember.autograd.profiler.record_function("step"):  # the legacy profiler, lazy as well
    pass
try:
    ember.no_such_name
except AttributeError as error:
    assert "no_such_name" in str(error)
else:
    raise AssertionError("no AttributeError")
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_numpy_names_check_reads_code_objects_as_signature_does():
    """_numpy_names.takes_torch_names reads a plain function's parameters from its code
    object: the same answer as from inspect.signature, for every kind of parameter."""
    import inspect

    from ember import _numpy_names

    def by_signature(fn):
        params = inspect.signature(fn).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return False
        return ("dim" in params or "keepdim" in params) and not ("axis" in params or "keepdims" in params)

    def a(x, dim=0): ...
    def b(x, *, keepdim=False): ...
    def c(x, *dim): ...
    def d(x, dim, **kwargs): ...
    def e(x, /, dim): ...
    def f(x, axis, dim): ...
    def g(x, y):
        dim = 1  # noqa: F841 - a local named dim is no parameter

    def h(x, *args, keepdim=False): ...

    for fn in (a, b, c, d, e, f, g, h, ember.sum, ember.Tensor.max, ember.softmax):
        assert _numpy_names.takes_torch_names(fn.__name__, fn) == by_signature(fn), fn


def test_arange_second_stage_tiny_heads():
    """A block head near zero is off the split's grid: its row is (high * k) + (head + low *
    k) where the inner sum is exact, else (a head with bits far below low's, which arange's
    own heads never have) the checked candidates; both give the fma of each element."""
    step, span = 0.01, 1.16
    high, low = _spacing._split_step(0.0, step, 100, span)
    for head in (3 * 2.0**-140, 1.5e-15, -(2.0**-60), 0.0):
        heads = np.array([head, 0.5], np.float32)
        rest = _spacing._block_split(heads, 8, (high, low), step, 0.0, span, 2.0**-50 * span, None)
        for row, h in enumerate(heads.tolist()):
            expected = [np.float32(_spacing._exact_fma(step, float(k), h, False)) for k in range(8)]
            if h == 0:  # (k = 0: the head's own zero)
                expected[0] = np.float32(h + step * 0.0)
            np.testing.assert_array_equal(
                rest[row].astype(np.float32).view(np.uint32), np.array(expected).view(np.uint32)
            )


@pytest.mark.parametrize(
    "start, step, count, dtype, zero_at",
    [
        (-0.3, 0.1, 6, np.float16, 3),  # (float32 -7.45e-9 becomes float16's -0.0 in the tail)
        (-(32 * 1e-4) - 1e-9, 1e-4, 70, np.float16, 32),  # a block's head
        (-1e-50, 0.1, 10, np.float32, 0),  # the tail's first element
        (-1e-50, 0.1, 100, np.float32, 0),  # the first block's head
        (-16.5e-46, 1e-46, 64, np.float32, 16),  # a later block's head
    ],
)
def test_arange_keeps_a_negative_zero_at_a_head_or_in_the_tail(start, step, count, dtype, zero_at):
    """A block's first element and the tail's elements are the first stage's values as they
    are: a value that underflows to -0.0 in the dtype stays -0.0, as in PyTorch (whose
    Vectorized::arange puts the base itself in the first lane), not fma(step, 0, -0.0) = +0.0."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        start, step = float(np.float32(start)), float(np.float32(step))
    for values in (
        _spacing.arange_floats(start, step, count, dtype),
        _spacing.arange_floats_exact(start, step, count, dtype),
    ):
        assert values[zero_at] == 0 and np.signbit(values[zero_at])
    torch = _torch()
    expected = torch.arange(start, start + step * count, step, dtype=getattr(torch, dtype.name)).numpy()
    _same(ember.arange(start, start + step * count, step, dtype=getattr(ember, dtype.name)).numpy(), expected)


def test_recorded_setitem_of_a_number_out_of_float16_range():
    """x[i] = 70000.0 into float16 gives inf, recorded or not, as PyTorch's setitem (which
    makes the number a tensor and copies it, with no fill_'s range check) for any region."""
    torch = _torch()
    for grad in (False, True):
        for index in (0, slice(0, 2), (Ellipsis, slice(None, None, 2))):
            values = []
            for lib in (ember, torch):
                x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float16, requires_grad=grad)
                y = x * 1 if grad else x.clone()
                y[index] = 70000.0
                y[1:] = -65519.0  # rounds to -65504
                values.append(y.detach().numpy())
            _same(*values)


def test_complex_linspace_reference_is_the_emulation(monkeypatch):
    """linspace_floats_exact of a complex dtype computes its two real linspaces by the
    emulation too: else test_linspace_fast_path_bits' complex cases would compare the fast
    path with itself."""
    expected = _spacing.linspace_floats(0.1 - 2j, 3.3 + 0.7j, 37, np.dtype(np.complex64))

    def refuse(*args, **kwargs):
        raise AssertionError("a fast path ran")

    monkeypatch.setattr(_spacing, "_linspace_fast", refuse)
    _same(_spacing.linspace_floats_exact(0.1 - 2j, 3.3 + 0.7j, 37, np.dtype(np.complex64)), expected)


def test_setitem_converts_a_tensor_value_as_to_does():
    """x[i] = v with v of another dtype, recorded or not, converts v as v.to(x.dtype): a
    float64 reaches float16 through float32 (1 + 2**-11 + 2**-40 is 1.0, not NumPy's
    1.0009765625), and a complex value warns with PyTorch's UserWarning."""
    import warnings

    torch = _torch()
    value = 1 + 2.0**-11 + 2.0**-40
    for grad in (False, True):
        results = []
        for lib in (ember, torch):
            x = lib.zeros(3, dtype=lib.float16, requires_grad=grad)
            y = x * 1 if grad else x.clone()
            y[0:2] = lib.tensor([value, value], dtype=lib.float64)
            results.append(y.detach().numpy())
        _same(*results)
        x = ember.zeros(2, 3, requires_grad=grad)
        y = x * 1 if grad else x.clone()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y[0] = ember.tensor([1 + 2j, 2, 3j])
        assert [w.category for w in caught] == [UserWarning], caught
        assert y[0].tolist() == [1.0, 2.0, 0.0]
