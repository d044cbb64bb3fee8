"""ember.fft against torch.fft: values, dtypes and gradients of every transform, for even
and odd lengths, lengths cropped and padded, each norm; frequencies, shifts and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from tests.conftest import HAVE_TORCH, requires_torch

import ember
from ember.autograd import gradcheck, gradgradcheck

if HAVE_TORCH:
    import torch

RNG = np.random.default_rng(11)
XR = RNG.standard_normal((4, 5, 6))
XC = XR + 1j * RNG.standard_normal((4, 5, 6))

ONE_DIM = "fft ifft rfft irfft hfft ihfft".split()
MANY_DIMS = "fft2 ifft2 rfft2 irfft2 hfft2 ihfft2 fftn ifftn rfftn irfftn hfftn ihfftn".split()


def _run(T, f, x0, dtype):
    """f's result and the gradient of a weighted sum of it (both parts, when complex)."""
    x = T.tensor(x0, dtype=getattr(T, dtype)).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = f(T, x)
    if y.is_complex():
        y = y.resolve_conj() if T is torch else y
        parts = T.view_as_real(y)
    else:
        parts = y
    weights = np.random.default_rng(3).standard_normal(tuple(parts.shape))
    (parts * T.tensor(weights, dtype=parts.dtype)).sum().backward()
    grad = x.grad.resolve_conj() if T is torch else x.grad
    return y.detach().numpy(), grad.numpy()


def _compare(f, x0, dtype="float64"):
    """Both raise, or both give the same values, dtype and gradient."""
    try:
        expected = _run(torch, f, x0, dtype)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            _run(ember, f, x0, dtype)
        return
    actual = _run(ember, f, x0, dtype)
    tol = 1e-5 if dtype in ("float32", "complex64") else 1e-10
    for a, e in zip(actual, expected):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol)


@requires_torch
@pytest.mark.parametrize("name", ONE_DIM)
def test_one_dim_transforms_match_torch(name):
    # even and odd lengths, cropped (n < 6) and padded (n > 6 along dim -1), each norm and dim
    settings = [
        (None, -1, None),
        (1, 0, "ortho"),
        (4, -1, "forward"),
        (5, 1, None),
        (7, -1, "ortho"),
        (8, 0, None),
        (11, -1, "forward"),
    ]
    for n, dim, norm in settings:
        for x0, dtype in ((XR, "float64"), (XC, "complex128")):
            _compare(
                lambda T, x, n=n, dim=dim, norm=norm: getattr(T.fft, name)(x, n=n, dim=dim, norm=norm),
                x0,
                dtype,
            )


@requires_torch
@pytest.mark.parametrize("name", MANY_DIMS)
def test_many_dim_transforms_match_torch(name):
    default = (-2, -1) if name.endswith("2") else None
    settings = [
        (None, default, None),
        ((3, 4), (0, 2), "ortho"),
        ((5, 7), (2, 0), "forward"),
        ((4, 10), default, None),
    ]
    for s, dim, norm in settings:
        for x0, dtype in ((XR, "float64"), (XC, "complex128")):
            _compare(
                lambda T, x, s=s, dim=dim, norm=norm: getattr(T.fft, name)(x, s=s, dim=dim, norm=norm),
                x0,
                dtype,
            )


@requires_torch
@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "ihfft", "hfft", "fft2", "rfftn"])
def test_single_precision_and_integers(name):
    for x0, dtype in ((XR, "float32"), (XC, "complex64"), (np.arange(12).reshape(3, 4), "int64")):
        if dtype == "int64":
            e, t = getattr(ember.fft, name)(ember.tensor(x0)), getattr(torch.fft, name)(torch.tensor(x0))
            assert e.dtype.name == str(t.dtype).split(".")[1]
            np.testing.assert_allclose(e.numpy(), t.resolve_conj().numpy(), rtol=1e-5, atol=1e-4)
        else:
            _compare(lambda T, x: getattr(T.fft, name)(x), x0, dtype)


def test_gradcheck_of_the_transforms():
    x = ember.tensor(XR[:2, :3, :4], requires_grad=True)
    z = ember.tensor(XC[:2, :3, :3], requires_grad=True)
    assert gradcheck(lambda x: ember.fft.rfft(x, n=5), (x,))
    assert gradcheck(lambda x: ember.fft.ihfft(x, n=6, norm="ortho"), (x,))
    assert gradcheck(lambda z: ember.fft.fftn(z, s=(3, 2), dim=(0, 2)), (z,))
    assert gradcheck(lambda z: ember.fft.irfft(z, n=5), (z,))
    assert gradcheck(lambda z: ember.fft.irfftn(z, s=(2, 4), norm="forward"), (z,))
    assert gradcheck(lambda z: ember.fft.hfft2(z), (z,))


def test_double_backward():
    x = ember.tensor(XR[0, :2, :5], requires_grad=True)
    z = ember.tensor(XC[0, :2, :3], requires_grad=True)
    assert gradgradcheck(lambda x: ember.fft.rfft(x).abs(), (x,))
    assert gradgradcheck(lambda z: ember.fft.irfft(z * z, n=5), (z,))
    assert gradgradcheck(lambda z: ember.view_as_real(ember.fft.fft2(z * z, s=(3, 2))), (z,))


@requires_torch
def test_frequencies_and_shifts():
    for n in (1, 4, 5):
        for d in (1.0, 0.25):
            e, t = ember.fft.fftfreq(n, d), torch.fft.fftfreq(n, d)
            assert e.dtype is ember.float32
            np.testing.assert_allclose(e.numpy(), t.numpy())
            e = ember.fft.rfftfreq(n, d, dtype=ember.float64)
            np.testing.assert_allclose(e.numpy(), torch.fft.rfftfreq(n, d, dtype=torch.float64).numpy())
    # n * d == 0: NumPy's fftfreq divides by zero, torch gives empty, nan and inf
    for n, d in ((0, 1.0), (3, 0.0)):
        for name in ("fftfreq", "rfftfreq"):
            e, t = getattr(ember.fft, name)(n, d), getattr(torch.fft, name)(n, d)
            np.testing.assert_array_equal(e.numpy(), t.numpy())
    for dim in (None, 0, (1, 2), -1):
        _compare(lambda T, x, dim=dim: T.fft.fftshift(x, dim=dim) * 2, XR)
        _compare(lambda T, x, dim=dim: T.fft.ifftshift(x, dim=dim) * 2, XC, "complex128")


def test_out_and_round_trips():
    x = ember.tensor(XR[0], dtype=ember.float32)
    out = ember.empty(0, dtype=ember.complex64)
    assert ember.fft.rfft(x, out=out) is out and out.shape == (5, 4)
    np.testing.assert_allclose(ember.fft.irfft(out, n=6).numpy(), x.numpy(), atol=1e-5)
    np.testing.assert_allclose(ember.fft.ifftn(ember.fft.fftn(x)).real.numpy(), x.numpy(), atol=1e-5)
    np.testing.assert_allclose(ember.fft.hfft(ember.fft.ihfft(x), n=6).numpy(), x.numpy(), atol=1e-5)
    freq = ember.empty(3, dtype=ember.float64)
    assert ember.fft.fftfreq(3, out=freq) is freq and freq.dtype is ember.float64


def test_errors():
    z = ember.tensor(XC)
    with pytest.raises(RuntimeError, match="rfft expects a real input tensor, but got ComplexDouble"):
        ember.fft.rfft(z)
    with pytest.raises(RuntimeError, match="ihfft expects a real input tensor"):
        ember.fft.ihfft(z)
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\)"):
        ember.fft.fft(z, n=0)
    for name in ONE_DIM:  # -1 keeps a size in s, not as n
        with pytest.raises(RuntimeError, match=r"Invalid number of data points \(-1\)"):
            getattr(ember.fft, name)(z.real if name in ("rfft", "ihfft") else z, n=-1)
    assert ember.fft.fftn(z, s=(2, -1)).shape == (4, 2, 6)
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\)"):
        ember.fft.irfft(ember.ones(1, dtype=ember.complex64))
    with pytest.raises(ValueError, match="Invalid normalization mode"):
        ember.fft.fft(z, norm="sideways")
    with pytest.raises(RuntimeError, match="same length"):
        ember.fft.fftn(z, s=(2, 2), dim=(0,))
    with pytest.raises(RuntimeError, match="unique"):
        ember.fft.fftn(z, dim=(0, 0))
    with pytest.raises(IndexError):
        ember.fft.fft(z, dim=3)


# ---- stft and istft ----------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize(
    "n_fft, hop, win, window, center, normalized, onesided",
    [
        (8, None, None, None, True, False, None),
        (8, 3, 6, "hann_window", True, True, None),
        (7, 2, None, "hamming_window", False, False, False),
        (16, 4, 12, "hann_window", True, False, False),
    ],
)
def test_stft_and_istft_match_torch(n_fft, hop, win, window, center, normalized, onesided):
    def window_of(T):
        return None if window is None else getattr(T, window)(win or n_fft, dtype=T.float64)

    def spectrum(T, x):
        return T.stft(
            x, n_fft, hop, win, window_of(T), center, "reflect", normalized, onesided, return_complex=True
        )

    def round_trip(T, x):
        s = spectrum(T, x)
        return T.istft(s, n_fft, hop, win, window_of(T), center, normalized, onesided, length=x.shape[-1] - 2)

    signal = RNG.standard_normal((2, 37))
    _compare(spectrum, signal)
    _compare(round_trip, signal)
    _compare(
        lambda T, x: x.stft(n_fft, hop, win, window_of(T), center, "constant", return_complex=True), signal[0]
    )
    complex_signal = signal[0] + 1j * signal[1]
    _compare(
        lambda T, x: T.istft(spectrum(T, x), n_fft, hop, win, window_of(T), center, return_complex=True),
        complex_signal,
        "complex128",
    )


@requires_torch
def test_istft_gradient_of_the_window():
    # the window is in the envelope that istft divides by, as well as in each frame
    x0, w0 = XR.reshape(-1)[:40], np.hanning(8) + 0.1
    results = []
    for T in (ember, torch):
        spectrum = T.stft(T.tensor(x0), 8, 2, window=T.tensor(w0), return_complex=True)
        w = T.tensor(w0, requires_grad=True)
        y = T.istft(spectrum * (1 + 0.1j), 8, 2, window=w, length=40)
        (y**2).sum().backward()
        results.append((y.detach().numpy(), w.grad.numpy()))
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-9)


@requires_torch
@pytest.mark.parametrize("complex_window, return_complex", [(True, True), (False, False)])
def test_istft_of_complex_windows_and_full_spectra(complex_window, return_complex):
    # a complex window divides by the sum of w² (stft multiplied by w), and a real result
    # reads only the first half of a full spectrum (irfft), as torch's istft
    x0 = XC.reshape(-1)[:30]
    w0 = np.hanning(6) + 0.2 + (0.3j * np.arange(6) if complex_window else 0)
    results = []
    for T in (ember, torch):
        spectrum = T.stft(T.tensor(x0), 8, 2, win_length=6, window=T.tensor(w0), return_complex=True)
        w = T.tensor(w0, requires_grad=True)
        y = T.istft(
            spectrum * (1 + 0.2j), 8, 2, 6, w, onesided=False, return_complex=return_complex, length=28
        )
        (y.abs() ** 2).sum().backward()
        results.append((y.detach().numpy(), w.grad.numpy()))
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-9)
    spectrum = ember.stft(ember.tensor(x0), 8, 2, 6, ember.tensor(w0), return_complex=True)
    if complex_window:
        y = ember.istft(spectrum, 8, 2, 6, ember.tensor(w0), return_complex=True, length=30)
        np.testing.assert_allclose(y.numpy(), x0, atol=1e-12)  # the inverse of stft
        with pytest.raises(RuntimeError, match="Complex windows are incompatible with return_complex=False"):
            ember.istft(spectrum, 8, 2, 6, ember.tensor(w0))


def test_stft_errors_and_round_trip():
    x = ember.tensor(RNG.standard_normal(64))
    with pytest.raises(RuntimeError, match="requires the return_complex parameter"):
        ember.stft(x, 16)
    with pytest.raises(RuntimeError, match="istft requires a complex-valued input tensor"):
        ember.istft(x.reshape(8, 8), 16)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        assert ember.stft(x, 16, return_complex=False).shape == (9, 17, 2)
    w = ember.hann_window(16, dtype=ember.float64)
    back = ember.istft(ember.stft(x, 16, 4, window=w, return_complex=True), 16, 4, window=w, length=64)
    np.testing.assert_allclose(back.numpy(), x.numpy(), atol=1e-12)
