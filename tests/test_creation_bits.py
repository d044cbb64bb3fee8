"""arange, range, linspace and logspace give PyTorch's values to the bit: random arguments
(hypothesis) for every dtype the kernels support, compared by bit pattern; the counts and
the errors for bad bounds, steps and dtypes are PyTorch's too."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from conftest import requires_torch

pytestmark = requires_torch

torch = pytest.importorskip("torch")

FLOATS = ["float32", "float64", "float16"]
INTS = ["int64", "int32", "int16", "int8", "uint8"]


def _bits(array: np.ndarray) -> np.ndarray:
    """The bit patterns of array (of both parts for a complex one): -0.0 and NaNs count."""
    array = np.ascontiguousarray(array)
    width = array.itemsize // 2 if array.dtype.kind == "c" else array.itemsize
    return array.view(f"u{width}")


def _same_bits(e, t) -> None:
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(_bits(e.numpy()), _bits(t.numpy()))


def _both(name: str, *args, **kwargs):
    """ember's and torch's results of the same call, or both exceptions' types."""
    results = []
    for lib in (ember, torch):
        kw = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results.append(getattr(lib, name)(*args, **kw))
        except Exception as error:  # noqa: BLE001 - compared below
            results.append(type(error))
    return results


def _compare(name: str, *args, **kwargs) -> None:
    e, t = _both(name, *args, **kwargs)
    if isinstance(t, type) or isinstance(e, type):
        assert e == t, (name, args, kwargs, e, t)
    else:
        _same_bits(e, t)


_bound = st.floats(-1000, 1000, allow_nan=False).map(lambda x: round(x, 3))
_steps_float = st.sampled_from([0.1, 0.3, 0.01, 0.7, 1.0, 2.5, 1e-3, 1 / 3])


def test_d2l_relu_derivative_count():
    x = ember.arange(-8.0, 8.0, 0.1, requires_grad=True)
    ember.relu(x).sum().backward()
    assert x.grad.sum().item() == torch.arange(-8.0, 8.0, 0.1).gt(0).sum().item() == 80


@settings(max_examples=60, deadline=None)
@given(
    start=_bound,
    step=_steps_float,
    sign=st.sampled_from([1, -1]),
    count=st.integers(0, 150),
    jitter=st.sampled_from([0.0, 0.5, 1e-9, -1e-9]),
    dtype=st.sampled_from(FLOATS),
)
def test_arange_float_bits(start, step, sign, count, jitter, dtype):
    step *= sign
    end = start + step * (count + jitter)
    if dtype == "float16":
        start, end = start / 100, end / 100
    _compare("arange", start, end, step, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_arange_long_ranges_split_among_threads(dtype, threads):
    """Past 32768 elements PyTorch's kernel gives each thread a chunk with its own blocks."""
    saved_torch, saved_ember = torch.get_num_threads(), ember.get_num_threads()
    try:
        torch.set_num_threads(threads)
        ember.set_num_threads(threads)
        _compare("arange", -3.3, 40.7 if dtype != "float16" else 6.1, 0.00037, dtype=dtype)
    finally:
        torch.set_num_threads(saved_torch)
        ember.set_num_threads(saved_ember)


def test_arange_default_dtype():
    _compare("arange", -7.41, 8)
    _compare("arange", 5)
    _compare("arange", 1, 2.5, 0.25)
    _compare("arange", 0, 1, np.float32(0.1))  # a NumPy float is a float: float32, 10 values
    _compare("arange", 0, np.float16(1.5))
    _compare("arange", np.int32(5))
    ember.set_default_dtype(ember.float64)
    try:
        e = ember.arange(0.0, 1.0, 0.1)
    finally:
        ember.set_default_dtype(ember.float32)
    _same_bits(e, torch.arange(0.0, 1.0, 0.1, dtype=torch.float64))


@settings(max_examples=60, deadline=None)
@given(
    start=st.one_of(st.integers(-300, 300), _bound.map(lambda x: x / 3)),
    step=st.one_of(st.integers(1, 9), st.floats(0.6, 9).map(lambda x: round(x, 2))),
    sign=st.sampled_from([1, -1]),
    count=st.integers(0, 80),
    dtype=st.sampled_from(INTS),
)
def test_arange_int_bits(start, step, sign, count, dtype):
    step *= sign
    end = start + step * count + (0.5 if isinstance(start, float) else 0)
    _compare("arange", start, end, step, dtype=dtype)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((0, 10, 0), {}),  # zero step
        ((0, 1, math.nan), {}),  # a NaN step is no step
        ((0, math.inf), {}),
        ((math.nan, 1), {}),
        ((0, 10, -1), {}),  # sign
        ((10, 0, 1), {}),
        ((0, 1, 1e-20), {}),  # too many elements
        ((0, 1, 0.5), {"dtype": "int64"}),  # step truncates to zero: ValueError
        ((0, 1, 0.5), {"dtype": "int32"}),  # ... but two zeros for int32
        ((0.0, 2.0**70, 2.0**66), {"dtype": "int64"}),
        ((1e39, 2e39, 1e38), {"dtype": "float16"}),  # float16 works in float32
        ((0, 5), {"dtype": "bool"}),
        ((0, 5), {"dtype": "complex64"}),
        ((0, 5), {"dtype": "uint16"}),
        ((0, 5), {"dtype": "uint64"}),
        ((1 + 1j, 5 + 5j, 1 + 1j), {}),
        ((0, 0), {}),
        ((3, 3, -1), {}),
        ((-1, 5), {"dtype": "uint8"}),
        ((0, -300, -7), {"dtype": "uint8"}),
        ((0, 10.5), {"dtype": "int64"}),
        ((0, 10.5), {"dtype": "int32"}),
    ],
)
def test_arange_counts_and_errors(args, kwargs):
    _compare("arange", *args, **kwargs)


@settings(max_examples=50, deadline=None)
@given(
    start=_bound,
    step=_steps_float,
    sign=st.sampled_from([1, -1]),
    count=st.integers(0, 120),
    jitter=st.sampled_from([0.0, 0.5, 1e-12, -1e-12]),
    dtype=st.sampled_from(FLOATS + INTS),
)
def test_range_bits(start, step, sign, count, jitter, dtype):
    if dtype in INTS:
        step = float(max(1, round(step * 3)))
        if dtype == "uint8":
            start, sign = abs(start) % 100, 1
    step *= sign
    end = start + step * (count + jitter)
    if dtype == "float16":
        start, end = start / 100, end / 100
    _compare("range", start, end, step, dtype=dtype)


def test_range_errors():
    _compare("range", 0, 1, 0)
    _compare("range", 0, 1, -1)
    _compare("range", 0, math.inf)
    _compare("range", 0, 5, dtype="bool")
    _compare("range", 0, 5, dtype="complex64")
    # PyTorch's process dies (SIGFPE) when an integer step truncates to 0: ember raises
    with pytest.raises(RuntimeError, match="truncates to 0"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ember.range(0, 5, 0.5, dtype=ember.int64)


_complex_bound = st.builds(complex, _bound.map(lambda x: x / 100), _bound.map(lambda x: x / 300))


@settings(max_examples=80, deadline=None)
@given(
    start=_bound.map(lambda x: x / 100),
    end=_bound.map(lambda x: x / 100),
    steps=st.integers(0, 130),
    dtype=st.sampled_from(FLOATS + INTS + ["complex64", "complex128"]),
)
def test_linspace_bits(start, end, steps, dtype):
    if dtype in INTS:
        start, end = start * 100, end * 100
        if dtype == "uint8":
            start, end = abs(start) % 256, abs(end) % 256
        elif dtype == "int8":
            start, end = start % 128, -(end % 128)
    _compare("linspace", start, end, steps, dtype=dtype)


@settings(max_examples=30, deadline=None)
@given(
    start=_complex_bound,
    end=_complex_bound,
    steps=st.integers(0, 80),
    dtype=st.sampled_from(["complex64", "complex128"]),
)
def test_linspace_complex_bits(start, end, steps, dtype):
    _compare("linspace", start, end, steps, dtype=dtype)


@settings(max_examples=80, deadline=None)
@given(
    start=_bound.map(lambda x: x / 100),
    end=_bound.map(lambda x: x / 100),
    steps=st.integers(0, 130),
    base=st.sampled_from([10.0, 2.0, math.e, 1.5, 0.5]),
    dtype=st.sampled_from(FLOATS + INTS + ["complex64", "complex128"]),
)
def test_logspace_bits(start, end, steps, base, dtype):
    if dtype in INTS:
        start, end = abs(start) % 2, abs(end) % 2
    if dtype == "float16":
        start, end = start / 3, end / 3
    _compare("logspace", start, end, steps, base=base, dtype=dtype)


@settings(max_examples=30, deadline=None)
@given(
    start=_complex_bound,
    end=_complex_bound,
    steps=st.integers(0, 80),
    dtype=st.sampled_from(["complex64", "complex128"]),
)
def test_logspace_complex_bits(start, end, steps, dtype):
    _compare("logspace", start, end, steps, dtype=dtype)


def test_spaced_errors():
    for name in ("linspace", "logspace"):
        _compare(name, 0, 1, -1)
        _compare(name, 0, 1, 5, dtype="bool")
        _compare(name, 300, 1, 5, dtype="uint8")
        _compare(name, 300, 1, 1, dtype="int8")


# ---- numbers stored as float16 / float32 -------------------------------------------------

# doubles whose float16 value depends on rounding once or twice (PyTorch goes through float32)
_HALF_TIES = [
    1 + 2**-11 + 2**-40,
    -(1 + 2**-11 + 2**-40),
    1 - 2**-12 - 2**-45,
    1.5 * 2**-24 + 2**-60,
    0.1,
    65504.0,  # float16's largest (beyond it PyTorch raises or stores inf by the tensor's size)
]


def _stored(lib, value, how):
    half = lib.float16
    zeros = lib.zeros(3, dtype=half)
    if how == "full":
        return lib.full((2,), value, dtype=half)
    if how == "full_like":
        return lib.full_like(zeros, value)
    if how == "new_full":
        return zeros.new_full((2,), value)
    if how == "fill_":
        return zeros.fill_(value)
    if how == "fill_tensor":
        return zeros.fill_(lib.tensor(value, dtype=lib.float64))
    if how == "setitem":
        zeros[1] = value
        return zeros
    if how == "masked_fill":
        return zeros.masked_fill(lib.tensor([True, False, True]), value)
    if how == "tensor":
        return lib.tensor([value, value], dtype=half)
    if how == "new_tensor":
        return zeros.new_tensor([value])
    if how == "to":
        return lib.tensor([value], dtype=lib.float64).to(half)
    if how == "copy_":
        return zeros.copy_(lib.tensor([value] * 3, dtype=lib.float64))
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "full",
        "full_like",
        "new_full",
        "fill_",
        "fill_tensor",
        "setitem",
        "masked_fill",
        "tensor",
        "new_tensor",
        "to",
        "copy_",
    ],
)
def test_float16_from_double_rounds_through_float32(how):
    for value in _HALF_TIES:
        _same_bits(_stored(ember, value, how), _stored(torch, value, how))


def _stored_single(lib, value, how):
    """value stored into float32 by `how`, or RuntimeError where that raises."""
    try:
        if how == "full":
            return lib.full((2,), value)
        if how == "fill_":
            return lib.zeros(2).fill_(value)
        return lib.zeros(2).masked_fill(lib.tensor([True, False]), value)
    except RuntimeError:
        return RuntimeError


@pytest.mark.parametrize("value", [1e39, -1e39, 3.4028235e38, 3.4028234663852886e38, math.inf, 1e6])
def test_float_fill_values_beyond_float32(value):
    """A finite number beyond float32's range raises where it is stored into float32 (not
    where it is computed with, nor in float16, where it becomes inf)."""
    for how in ("full", "fill_", "masked_fill"):
        e, t = (_stored_single(lib, value, how) for lib in (ember, torch))
        if t is RuntimeError:
            assert e is RuntimeError, (how, value)
        else:
            _same_bits(e, t)
    _same_bits(ember.full((1,), value, dtype=ember.float16), torch.full((1,), value, dtype=torch.float16))
    _same_bits(ember.zeros(2) + value, torch.zeros(2) + value)


# ---- eye and the triangle indices ---------------------------------------------------------


@pytest.mark.parametrize("n, m", [(0, None), (3, None), (2, 4), (4, 2), (-1, None), (3, -2)])
@pytest.mark.parametrize("dtype", [None, "float16", "int64", "bool", "complex64"])
def test_eye(n, m, dtype):
    kwargs = {} if dtype is None else {"dtype": dtype}
    if m is None:
        _compare("eye", n, **kwargs)
    else:
        _compare("eye", n, m, **kwargs)


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize(
    "row, col, offset",
    [(0, 3, 0), (3, 0, 1), (3, 3, 0), (4, 2, -1), (2, 5, 2), (3, 4, 7), (-1, 3, 0), (3, -2, 0)],
)
@pytest.mark.parametrize("dtype", [None, "int32", "float32", "int16", "bool"])
def test_triangle_indices(name, row, col, offset, dtype):
    kwargs = {} if dtype is None else {"dtype": dtype}
    _compare(name, row, col, offset, **kwargs)


# ---- fill values of other kinds --------------------------------------------------------------


def _fill(lib, how, value, dtype):
    dtype = None if dtype is None else getattr(lib, dtype)
    if how == "full":
        return lib.full((2,), value, dtype=dtype)
    if how == "full_like":
        return lib.full_like(lib.zeros(2, dtype=lib.float64), value, dtype=dtype)
    if how == "new_full":
        return lib.zeros(2, dtype=lib.int16).new_full((2,), value, dtype=dtype)
    return lib.zeros(2, dtype=dtype or lib.float32).fill_(value)


@pytest.mark.parametrize("how", ["full", "full_like", "new_full", "fill_"])
@pytest.mark.parametrize(
    "value",
    [
        1 + 2j,
        1 + 0j,
        2.5j,
        2**63,
        -(2**40),
        1e39,
        np.float32(0.1),
        np.float64(0.1),
        np.int32(7),
        np.complex128(1j),
    ],
    ids=repr,
)
@pytest.mark.parametrize("dtype", [None, "float32", "float64", "int64", "uint8", "bool", "complex64"])
def test_fill_values_of_every_kind(how, value, dtype):
    """A complex number with an imaginary part refuses a real dtype, a bool takes any
    number's truth, complex64 checks float32's range, a NumPy number picks the dtype a
    Python one would, as in PyTorch."""
    if isinstance(value, np.complex128) and dtype is None and how == "full":  # PyTorch drops 1j
        assert ember.full((2,), value).tolist() == [1j, 1j]  # (test_full_numpy_complex_and_bool)
        return
    results = []
    for lib in (ember, torch):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results.append(_fill(lib, how, value, dtype))
        except Exception as error:  # noqa: BLE001 - compared below
            results.append(type(error))
    e, t = results
    if isinstance(t, type) or isinstance(e, type):
        assert e == t, (e, t)
    else:
        _same_bits(e, t)


def test_full_numpy_complex_and_bool():
    """PyTorch makes full((2,), np.complex64(1 + 1j)) a float32 tensor of 1.0 (the imaginary
    part dropped with a warning) and full((2,), np.True_) float32; ember takes NumPy numbers
    as the Python numbers they hold: complex64 and bool (differences.md)."""
    assert ember.full((2,), np.complex64(1 + 1j)).dtype == ember.complex64
    assert ember.full((2,), np.complex64(1 + 1j)).tolist() == [1 + 1j, 1 + 1j]
    assert ember.full((2,), np.True_).dtype == ember.bool


@pytest.mark.parametrize(
    "start, end, steps",
    [(1e30, -364945.86101180327, 33), (-9.666187397688808e29, -500.8815486931544, 178), (1e30, -7.6, 100)],
)
@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_linspace_float32_rounds_once(start, end, steps, dtype):
    """float32 points are start + step * i fused with one rounding to float32 (fmaf): a
    float64 fma rounded again to float32 differs in the last bit for large bounds."""
    _compare("linspace", start, end, steps, dtype=dtype)


@pytest.mark.parametrize("name", ["linspace", "logspace"])
@pytest.mark.parametrize(
    "start, end, steps",
    [
        (65519.0, 0, 3),
        (65504.0, 0, 3),
        (0, 1e5, 3),
        (1e39, 0, 3),
        (-1e39, 0, 2),
        (1e39, 0, 1),
        (70000.0, 0, 1),
    ],
)
@pytest.mark.parametrize("dtype", ["float16", "float32", "complex64", "float64"])
def test_spaced_bounds_beyond_the_dtype(name, start, end, steps, dtype):
    """A finite bound beyond the result dtype's range raises, as PyTorch's checked
    conversion does, instead of giving inf and nan points."""
    if name == "logspace" and steps == 1:
        start = start / 1e3 if abs(start) < 1e30 else 100.0  # the power beyond the range
    _compare(name, start, end, steps, dtype=dtype)


@pytest.mark.parametrize("start", [400.0, 1e6, -400.0, complex(400, 1)])
@pytest.mark.parametrize("dtype", ["complex128", "complex64"])
def test_complex_logspace_one_point_overflow(start, dtype):
    """A one-point complex logspace whose power overflows is C's inf (PyTorch's inf+nanj),
    or PyTorch's RuntimeError for complex64, not Python's OverflowError."""
    _compare("logspace", start, 0, 1, dtype=dtype)


@pytest.mark.parametrize(
    "args",
    [
        (-2000, 2000, 1),
        (0, 4096, 2),
        (-2048, 2049, 3),
        (5, -2040, -1),
        (2**24 - 5, 2**24 + 1),
        (0, 100000),
        (0.0, -3.0, -1.0),
        (-0.0, 3.0),
    ],
)
@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_arange_integer_values_made_in_place(args, dtype):
    """Integer-valued ranges (the common case, kept fast: no temporaries of the full size)
    have PyTorch's values, also where i * step goes past what float16 holds exactly."""
    _compare("arange", *args, dtype=dtype)


@pytest.mark.parametrize("how", ["full", "fill_", "masked_fill"])
@pytest.mark.parametrize(
    "value", [np.float64(1e39), np.float64(-1e39), np.float64(0.1), np.float64(math.inf)]
)
def test_numpy_float64_fill_values_beyond_float32(how, value):
    """A NumPy float64 is stored as a Python float is: beyond float32's range it raises."""
    e, t = (_stored_single(lib, value, how) for lib in (ember, torch))
    if t is RuntimeError:
        assert e is RuntimeError, (how, value)
    else:
        _same_bits(e, t)


def test_complex_logspace_without_the_c_library(monkeypatch):
    """Where no C math library can be loaded, a complex logspace still works (NumPy's
    power, equal to the last bits or nearly)."""
    import ctypes.util

    from ember import _spacing

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    _spacing._libm_cpow.cache_clear()
    try:
        for dtype in ("complex64", "complex128"):
            e, t = _both("logspace", 0, 3, 4, base=-2, dtype=dtype)
            np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
    finally:
        _spacing._libm_cpow.cache_clear()


@pytest.mark.parametrize("name", ["linspace", "logspace"])
@pytest.mark.parametrize("start, end", [(0.1 + 1j, 2), (1, 2 - 3j), (1j, 0j)])
@pytest.mark.parametrize("steps", [0, 1, 2, 5])
@pytest.mark.parametrize("dtype", [None, "float32", "int64", "complex128"])
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_spaced_complex_bounds_infer_a_complex_dtype(name, start, end, steps, dtype, default):
    """A complex bound with no dtype gives the default dtype's complex counterpart, and a
    real dtype is refused with PyTorch's RuntimeError (a TypeError from NumPy before)."""
    for lib in (ember, torch):
        lib.set_default_dtype(getattr(lib, default))
    try:
        kwargs = {} if dtype is None else {"dtype": dtype}
        _compare(name, start, end, steps, **kwargs)
    finally:
        for lib in (ember, torch):
            lib.set_default_dtype(lib.float32)


@pytest.mark.parametrize("name", ["arange", "range"])
@pytest.mark.parametrize("args", [(5, 0, 1), (0, 5, -1), (0, 5, 0), (0, math.inf, 1)])
@pytest.mark.parametrize("dtype", ["bool", "complex64", "uint16"])
def test_range_dtype_checked_before_the_bounds(name, args, dtype):
    """A dtype without a kernel is PyTorch's NotImplementedError even with bad bounds."""
    _compare(name, *args, dtype=dtype)


_HALF_HOW = {
    "full": lambda lib, n, v: lib.full((n,), v, dtype=lib.float16),
    "full_like": lambda lib, n, v: lib.full_like(lib.zeros(n, dtype=lib.float16), v),
    "new_full": lambda lib, n, v: lib.zeros(1, dtype=lib.float16).new_full((n,), v),
    "fill_": lambda lib, n, v: lib.zeros(n, dtype=lib.float16).fill_(v),
    "masked_fill": lambda lib, n, v: lib.zeros(n, dtype=lib.float16).masked_fill(
        lib.ones(n, dtype=lib.bool), v
    ),
    "masked_fill_": lambda lib, n, v: lib.zeros(n, dtype=lib.float16).masked_fill_(
        lib.ones(n, dtype=lib.bool), v
    ),
    "setitem": lambda lib, n, v: _set_all(lib.zeros(n, dtype=lib.float16), v),
}


def _set_all(t, v):
    t[...] = v
    return t


@pytest.mark.parametrize("how", list(_HALF_HOW))
@pytest.mark.parametrize("n", [0, 1, 2])
@pytest.mark.parametrize("value", [7e4, -7e4, 65519.0, 65504.0, 70000, math.inf, 1e39])
def test_float16_fill_range_checked_as_pytorch(how, n, value):
    """float16's range is checked where PyTorch checks it: fill_ and the full family of
    other than one element, masked_fill; not x[...] = v or a one-element fill (inf)."""
    e, t = (_call_or_error(lambda lib=lib: _HALF_HOW[how](lib, n, value)) for lib in (ember, torch))
    if isinstance(t, type):
        assert e is t, (how, n, value, e)
    else:
        _same_bits(e, t)


def _call_or_error(function):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function()
    except RuntimeError:
        return RuntimeError


@pytest.mark.parametrize("how", ["full", "fill_", "masked_fill"])
@pytest.mark.parametrize("value", [1e39 + 0j, 1j * 1e39, -1e39 - 1j, 3.4e38 + 1j, complex(math.inf, 1)])
def test_complex_fill_values_beyond_complex64(how, value):
    """A Python complex stored into complex64 raises when a part is finite and beyond
    float32's range, as a float does (it became inf)."""
    results = []
    for lib in (ember, torch):
        zeros = lib.zeros(2, dtype=lib.complex64)
        results.append(
            _call_or_error(
                {
                    "full": lambda lib=lib: lib.full((2,), value, dtype=lib.complex64),
                    "fill_": lambda zeros=zeros: zeros.fill_(value),
                    "masked_fill": lambda lib=lib, zeros=zeros: zeros.masked_fill(
                        lib.tensor([True, False]), value
                    ),
                }[how]
            )
        )
    e, t = results
    if isinstance(t, type):
        assert e is t, (how, value, e)
    else:
        _same_bits(e, t)
