"""The discrete Fourier transforms as graph nodes: complex to complex (FFTn), real to half
complex (RFFTn) and half complex to real (IRFFTn). ember.fft builds torch.fft's functions on
these three; hfft and ihfft are irfft and rfft of the conjugate, with the dual norm.

Each forward is NumPy's transform, which crops or zero-pads the input to `sizes` along
`axes` first, with its result cast back to the input's precision (complex64 for float32).

Backward, with the engine's conjugated complex gradients (autograd/engine.py): a linear map
y = A x sends gradient g back as Aᵀ g, the transpose without conjugation. The DFT matrix is
symmetric, so the backward of a transform is the same transform (same direction and norm),
followed by the adjoint of the crop or pad (zero-padding or cropping back). The real
transforms add two details:

* rfft keeps the first n//2 + 1 outputs of a real input's transform: its backward pads the
  gradient with zeros to n, transforms, and keeps the real part (the input is real).
* irfft reads the half spectrum y as the Hermitian full one, x_j = (1/n) Σ c_k Re(y_k wʲᵏ)
  with c_k = 2 for the bins whose mirror image it stands for and 1 for bin 0 and, for even
  n, the Nyquist bin n/2 (whose imaginary parts it ignores). So y's gradient is
  c_k conj(rfft(g))_k, with the dual norm for the scale.

The backward formulas call these same ops, so they are recorded under create_graph and
second derivatives work.
"""

from __future__ import annotations

import numpy as np

from ember.ops.elementwise import Op

DUAL_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _is_array(x):
    return isinstance(x, np.ndarray)


def _complex_dtype(real_or_complex: np.dtype) -> np.dtype:
    return np.result_type(real_or_complex, np.complex64)


def resize(x, axes, sizes):
    """x cropped or zero-padded at the end to `sizes` along `axes` (an array, or a Tensor
    under create_graph, where it is recorded)."""
    crop = [slice(None)] * x.ndim
    pads = [(0, 0)] * x.ndim
    for axis, n in zip(axes, sizes):
        have = x.shape[axis]
        if n < have:
            crop[axis] = slice(0, n)
        elif n > have:
            pads[axis] = (0, n - have)
    if any(s != slice(None) for s in crop):
        x = x[tuple(crop)]
    if any(p != (0, 0) for p in pads):
        if _is_array(x):
            return np.pad(x, pads)
        from ember.nn.functional import pad  # create_graph only: the nn layer above ops

        flat = [n for p in reversed(pads) for n in p]
        return pad(x, flat)
    return x


def _c2c(x, axes, norm, inverse):
    if _is_array(x):
        fn = np.fft.ifftn if inverse else np.fft.fftn
        return fn(x, axes=axes, norm=norm).astype(x.dtype, copy=False)
    return FFTn.apply(x, axes, tuple(x.shape[a] for a in axes), norm, inverse)


def _r2c(x, axes, sizes, norm):
    if _is_array(x):
        return np.fft.rfftn(x, s=sizes, axes=axes, norm=norm).astype(_complex_dtype(x.dtype), copy=False)
    return RFFTn.apply(x, axes, sizes, norm)


def _conj(x):
    return np.conj(x) if _is_array(x) else x.conj()


def _real(x):
    return x.real


class FFTn(Op):
    """fftn (or ifftn, `inverse`) over `axes`, the input cropped or padded to `sizes` first."""

    def name(self) -> str:
        return "FftC2CBackward0"

    @staticmethod
    def forward(ctx, x, axes, sizes, norm, inverse):
        ctx.axes, ctx.in_sizes, ctx.norm, ctx.inverse = axes, tuple(x.shape[a] for a in axes), norm, inverse
        fn = np.fft.ifftn if inverse else np.fft.fftn
        return fn(x, s=sizes, axes=axes, norm=norm).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        g = _c2c(grad, ctx.axes, ctx.norm, ctx.inverse)
        return resize(g, ctx.axes, ctx.in_sizes), None, None, None, None


class FFTnOfReal(FFTn):
    """FFTn of a real input made complex: PyTorch records it as FftR2CBackward0, which saves
    the input; this backward does not need it, so the input sizes stand for it and are freed
    with the graph, so that a second backward raises as there."""

    _intermediates = ("in_sizes",)

    def name(self) -> str:
        return "FftR2CBackward0"


class RFFTn(Op):
    """rfftn of a real input over `axes` (the last one halved), cropped or padded to `sizes`.
    PyTorch's node saves the input, which this backward does not need; the sizes are freed
    with the graph instead, so that a second backward raises as there."""

    _intermediates = ("sizes",)

    def name(self) -> str:
        return "FftR2CBackward0"

    @staticmethod
    def forward(ctx, x, axes, sizes, norm):
        ctx.axes, ctx.sizes, ctx.norm = axes, sizes, norm
        ctx.in_sizes = tuple(x.shape[a] for a in axes)
        return np.fft.rfftn(x, s=sizes, axes=axes, norm=norm).astype(_complex_dtype(x.dtype), copy=False)

    @staticmethod
    def backward(ctx, grad):
        full = resize(grad, ctx.axes[-1:], ctx.sizes[-1:])  # the dropped half: zeros
        g = _real(_c2c(full, ctx.axes, ctx.norm, False))
        return resize(g, ctx.axes, ctx.in_sizes), None, None, None


class IRFFTn(Op):
    """irfftn over `axes` to a real output of `sizes` (the half spectrum's last axis is
    cropped or padded to sizes[-1] // 2 + 1 first)."""

    def name(self) -> str:
        return "FftC2RBackward0"

    @staticmethod
    def forward(ctx, y, axes, sizes, norm):
        ctx.axes, ctx.sizes, ctx.norm = axes, sizes, norm
        ctx.in_sizes = tuple(y.shape[a] for a in axes)
        return np.fft.irfftn(y, s=sizes, axes=axes, norm=norm).astype(y.real.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        n = ctx.sizes[-1]
        weights = np.full(n // 2 + 1, 2.0)
        weights[0] = 1.0
        if n % 2 == 0:
            weights[-1] = 1.0  # the Nyquist bin stands for itself alone
        axis = ctx.axes[-1] % grad.ndim
        weights = weights.reshape((-1,) + (1,) * (grad.ndim - 1 - axis))
        spectrum = _r2c(grad, ctx.axes, ctx.sizes, DUAL_NORM[ctx.norm])
        g = _conj(spectrum) * weights.astype(grad.dtype if _is_array(grad) else grad._data.dtype)
        return resize(g, ctx.axes, ctx.in_sizes), None, None, None
