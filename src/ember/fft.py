"""Discrete Fourier transforms (torch.fft): fft, ifft, their 2-d and n-d forms, the real
transforms (rfft, irfft, ...), the Hermitian ones (hfft, ihfft, ...), fftfreq, rfftfreq,
fftshift and ifftshift.

The arguments are PyTorch's: `n` (or `s`, one size per dim) crops or zero-pads the input
along the transformed dims first, -1 keeping a size; `dim` names the dims (all of them, or
the last len(s), by default for the n-d forms); `norm` scales the forward transform by 1
("backward", the default), 1/sqrt(n) ("ortho") or 1/n ("forward"), and its inverse by the
rest. A real input of a complex transform is made complex first (float32 gives complex64,
an integer tensor the default complex dtype). The transforms are NumPy's, computed in the
input's precision; their gradients are in ops/fft.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ember import _out, dtypes
from ember._tensor import Tensor
from ember.autograd.function import apply
from ember.ops.api import complex as _complex
from ember.ops.api import convert, shape
from ember.ops.fft import DUAL_NORM, FFTn, FFTnOfReal, IRFFTn, RFFTn
from ember.ops.reduction import normalize_dim

__all__ = [
    "fft",
    "ifft",
    "fft2",
    "ifft2",
    "fftn",
    "ifftn",
    "rfft",
    "irfft",
    "rfft2",
    "irfft2",
    "rfftn",
    "irfftn",
    "hfft",
    "ihfft",
    "hfft2",
    "ihfft2",
    "hfftn",
    "ihfftn",
    "fftfreq",
    "rfftfreq",
    "fftshift",
    "ifftshift",
]

# ---- arguments ---------------------------------------------------------------------------------


def _norm(norm: str | None, op: str) -> str:
    if norm is None:
        return "backward"
    if norm not in DUAL_NORM:
        raise ValueError(f'{op}: Invalid normalization mode: "{norm}" (use "backward", "ortho" or "forward")')
    return norm


def _as_complex(input: Tensor) -> Tensor:
    """input for a complex transform: float32 becomes complex64, float64 complex128, integers
    and bools the default complex dtype."""
    kind = input._data.dtype.kind
    if kind == "c":
        return input
    if kind in "fV" and input._data.dtype.itemsize > 2:
        return convert.to(input, input.dtype.to_complex())
    return convert.to(input, dtypes.from_numpy_dtype(dtypes.default_complex_numpy()))


def _as_real(input: Tensor, op: str) -> Tensor:
    """input for a transform of real numbers: a complex tensor is refused, as in PyTorch."""
    kind = input._data.dtype.kind
    if kind == "c":
        raise RuntimeError(
            f"{op} expects a real input tensor, but got {dtypes.scalar_type_name(input._data.dtype)}"
        )
    if kind in "fV" and input._data.dtype.itemsize > 2:
        return input
    return convert.to(input, dtypes.get_default_dtype())


def _dims(input: Tensor, s: Any, dim: Any, op: str, default_all: bool = True) -> tuple[tuple, list]:
    """The transformed axes and their sizes (None where s keeps the input's) from PyTorch's
    s and dim: dim None means the last len(s) dims when s is given, else all (or the last
    two, for the 2-d forms, which pass dim themselves)."""
    ndim = input._data.ndim
    if isinstance(s, int):
        s = (s,)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None:
        dim = tuple(range(ndim - len(s), ndim)) if s is not None else tuple(range(ndim))
        if s is not None and len(s) > ndim:
            raise RuntimeError(
                f"{op}: got shape with {len(s)} values but input tensor only has {ndim} dimensions."
            )
    axes = tuple(normalize_dim(d, max(ndim, 1), op) for d in dim)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{op}: FFT dims must be unique, got {list(dim)}")
    if s is not None and len(s) != len(axes):
        raise RuntimeError(
            f"{op}: When given, dim and shape arguments must have the same length, got {len(axes)} dims "
            f"and {len(s)} sizes"
        )
    sizes = [None if s is None or s[i] == -1 else int(s[i]) for i in range(len(axes))]
    for n in sizes:
        if n is not None and n < 1:
            raise RuntimeError(f"{op}: Invalid number of data points ({n}) specified")
    if not axes and not default_all:
        raise RuntimeError(f"{op} must transform at least one axis")
    return axes, sizes


def _length(n: int | None, op: str) -> tuple | None:
    """The 1-d forms' n as s: unlike a size in s, n = -1 is refused, as in PyTorch."""
    if n is None:
        return None
    if n < 1:
        raise RuntimeError(f"{op}: Invalid number of data points ({n}) specified")
    return (n,)


def _filled(input: Tensor, axes: tuple, sizes: list) -> tuple:
    return tuple(input._data.shape[a] if n is None else n for a, n in zip(axes, sizes))


def _check_nonempty(sizes: tuple, op: str) -> None:
    """PyTorch's error for a transform of no points (an empty input, or irfft of one bin)."""
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"{op}: Invalid number of data points ({n}) specified")


# ---- complex to complex ------------------------------------------------------------------------


def _c2c(input: Tensor, s: Any, dim: Any, norm: str | None, inverse: bool, op: str) -> Tensor:
    norm = _norm(norm, op)
    axes, sizes = _dims(input, s, dim, op)
    x = _as_complex(input)
    if not axes:
        return convert.clone(x)
    full = _filled(x, axes, sizes)
    _check_nonempty(full, op)
    # PyTorch's fft and ifft of a real input are one r2c node, which saves the input; fft2,
    # fftn and their inverses convert it to complex first and save nothing
    real_1d = x is not input and op in ("fft", "ifft")
    return apply(FFTnOfReal if real_1d else FFTn, x, axes, full, norm, inverse)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The one-dimensional discrete Fourier transform along dim (torch.fft.fft)."""
    return _c2c(input, _length(n, "fft"), (dim,), norm, False, "fft")


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of fft along dim (torch.fft.ifft)."""
    return _c2c(input, _length(n, "ifft"), (dim,), norm, True, "ifft")


def fft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None
) -> Tensor:
    """fft over two dims, the last two by default (torch.fft.fft2)."""
    return _c2c(input, s, dim, norm, False, "fft2")


def ifft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None
) -> Tensor:
    """The inverse of fft2 (torch.fft.ifft2)."""
    return _c2c(input, s, dim, norm, True, "ifft2")


def fftn(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None, norm: str | None = None
) -> Tensor:
    """fft over several dims: all of them, or the last len(s), by default (torch.fft.fftn)."""
    return _c2c(input, s, dim, norm, False, "fftn")


def ifftn(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None, norm: str | None = None
) -> Tensor:
    """The inverse of fftn (torch.fft.ifftn)."""
    return _c2c(input, s, dim, norm, True, "ifftn")


# ---- real to half complex, and back --------------------------------------------------------------


def _r2c(input: Tensor, s: Any, dim: Any, norm: str | None, op: str) -> Tensor:
    norm = _norm(norm, op)
    axes, sizes = _dims(input, s, dim, op, default_all=False)
    x = _as_real(input, op)
    full = _filled(x, axes, sizes)
    _check_nonempty(full, op)
    return apply(RFFTn, x, axes, full, norm)


def _c2r(input: Tensor, s: Any, dim: Any, norm: str | None, op: str) -> Tensor:
    norm = _norm(norm, op)
    axes, sizes = _dims(input, s, dim, op, default_all=False)
    y = _as_complex(input)
    full = list(_filled(y, axes, sizes))
    if sizes[-1] is None:
        full[-1] = 2 * (y._data.shape[axes[-1]] - 1)  # the even length whose half spectrum y is
    _check_nonempty(full, op)
    return apply(IRFFTn, y, axes, tuple(full), norm)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """fft of a real input, without the redundant upper half: n // 2 + 1 frequencies
    (torch.fft.rfft)."""
    return _r2c(input, _length(n, "rfft"), (dim,), norm, "rfft")


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of rfft: a real signal of length n, 2 * (input.size(dim) - 1) by default,
    from its half spectrum (torch.fft.irfft)."""
    return _c2r(input, _length(n, "irfft"), (dim,), norm, "irfft")


def rfft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None
) -> Tensor:
    """rfftn over two dims, the last two by default (torch.fft.rfft2)."""
    return _r2c(input, s, dim, norm, "rfft2")


def irfft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None
) -> Tensor:
    """The inverse of rfft2 (torch.fft.irfft2)."""
    return _c2r(input, s, dim, norm, "irfft2")


def rfftn(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None, norm: str | None = None
) -> Tensor:
    """fftn of a real input, the last dim halved as in rfft (torch.fft.rfftn)."""
    return _r2c(input, s, dim, norm, "rfftn")


def irfftn(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None, norm: str | None = None
) -> Tensor:
    """The inverse of rfftn (torch.fft.irfftn)."""
    return _c2r(input, s, dim, norm, "irfftn")


# ---- Hermitian: a half spectrum in, real out, and back ----------------------------------------


def _hermitian(input: Tensor, s: Any, dim: Any, norm: str | None, op: str) -> Tensor:
    """hfft: the real signal whose ifft has input as its half spectrum, which is irfft of
    the conjugate with the dual norm."""
    norm = _norm(norm, op)
    return _c2r(_complex.conj(_as_complex(input)), s, dim, DUAL_NORM[norm], op)


def _inverse_hermitian(input: Tensor, s: Any, dim: Any, norm: str | None, op: str) -> Tensor:
    """ihfft: the half spectrum of ifft of a real signal, the conjugate of its rfft with the
    dual norm."""
    norm = _norm(norm, op)
    return _complex.conj(_r2c(input, s, dim, DUAL_NORM[norm], op))


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The fft of a signal with Hermitian symmetry given by its first half: a real result
    of length n, 2 * (input.size(dim) - 1) by default (torch.fft.hfft)."""
    return _hermitian(input, _length(n, "hfft"), (dim,), norm, "hfft")


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of hfft: ifft of a real signal, n // 2 + 1 frequencies (torch.fft.ihfft)."""
    return _inverse_hermitian(input, _length(n, "ihfft"), (dim,), norm, "ihfft")


def hfft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None
) -> Tensor:
    """hfftn over two dims, the last two by default (torch.fft.hfft2)."""
    return _hermitian(input, s, dim, norm, "hfft2")


def ihfft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None
) -> Tensor:
    """The inverse of hfft2 (torch.fft.ihfft2)."""
    return _inverse_hermitian(input, s, dim, norm, "ihfft2")


def hfftn(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None, norm: str | None = None
) -> Tensor:
    """hfft over several dims, the last one holding the half spectrum (torch.fft.hfftn)."""
    return _hermitian(input, s, dim, norm, "hfftn")


def ihfftn(
    input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None, norm: str | None = None
) -> Tensor:
    """The inverse of hfftn (torch.fft.ihfftn)."""
    return _inverse_hermitian(input, s, dim, norm, "ihfftn")


# ---- frequencies and shifts --------------------------------------------------------------------


def _frequencies(values: np.ndarray, dtype: Any, requires_grad: bool, device: Any, layout: Any) -> Tensor:
    from ember import creation

    np_dtype = dtypes.get_default_dtype().numpy if dtype is None else dtypes.to_numpy_dtype(dtype)
    return creation._finish(values.astype(np_dtype), requires_grad, device, layout)


def fftfreq(
    n: int,
    d: float = 1.0,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The frequencies of fft's n outputs for samples d apart: 0, 1, ..., then the negative
    ones, over n * d (torch.fft.fftfreq)."""
    k = np.concatenate([np.arange(0, (n - 1) // 2 + 1), np.arange(-(n // 2), 0)])
    return _frequencies(_scaled(k, n, d), dtype, requires_grad, device, layout)


def rfftfreq(
    n: int,
    d: float = 1.0,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The frequencies of rfft's n // 2 + 1 outputs for samples d apart (torch.fft.rfftfreq)."""
    return _frequencies(_scaled(np.arange(0, n // 2 + 1), n, d), dtype, requires_grad, device, layout)


def _scaled(k: np.ndarray, n: int, d: float) -> np.ndarray:
    """k / (n d) as NumPy's fftfreq computes it, but with PyTorch's results where n d is 0
    (NumPy raises ZeroDivisionError): fftfreq(0) is empty, rfftfreq(0) is [nan]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return k * (np.float64(1.0) / np.float64(n * d))


def _shifted(input: Tensor, dim: Any, inverse: bool) -> Tensor:
    ndim = input._data.ndim
    axes = tuple(range(ndim)) if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    axes = tuple(normalize_dim(a, max(ndim, 1), "fftshift") for a in axes)
    if not axes:
        return input
    shifts = tuple((-(input._data.shape[a] // 2) if inverse else input._data.shape[a] // 2) for a in axes)
    return shape.roll(input, shifts, axes)


def fftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Roll the zero frequency to the middle of dim (all dims by default), as fftfreq's
    order is read from most negative to most positive (torch.fft.fftshift)."""
    return _shifted(input, dim, False)


def ifftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of fftshift (torch.fft.ifftshift)."""
    return _shifted(input, dim, True)


# out=: these functions take an `out` argument, as torch.fft's do (ember/_out.py); installed
# here, once they are defined, rather than by the package, which imports this module only
# on first use
_out.install(globals(), _out.FFT)
