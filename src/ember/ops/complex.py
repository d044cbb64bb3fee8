"""The ops that are not holomorphic functions of complex numbers: conj, real, imag, abs,
angle, sgn, and the assembly of complex numbers from real ones (complex, view_as_real,
view_as_complex).

The engine passes complex gradients conjugated (see autograd/engine.py): an op receives
g = dL/dx - i dL/dy for its complex output z = x + iy, and returns the same for a complex
input; a real input or output gets its plain derivative. So a holomorphic op's backward is
its real formula, and only these ops need complex formulas of their own. Each backward
below says what it computes in that convention.
"""

from __future__ import annotations

import numpy as np

from ember import _meta
from ember.autograd.saved import saved_input
from ember.ops import _dual
from ember.ops.elementwise import Op


def _conj(a):
    """conj of an array, or (create_graph) of a Tensor, recorded."""
    return np.conj(a) if isinstance(a, np.ndarray) else a.conj()


def _real(a):
    return a.real


def _imag(a):
    return a.imag


class Conj(Op):
    """conj(z) = x - iy. Its conjugated gradient is the conjugate of the one it receives."""

    def name(self) -> str:
        return "ConjPhysicalBackward0"

    @staticmethod
    def forward(ctx, z):
        return np.conj(z)

    @staticmethod
    def backward(ctx, grad):
        return _conj(grad)


class Real(Op):
    """The real part x, a view. dL/dx is the real gradient itself, which is the conjugated
    gradient of z (the engine makes it complex)."""

    @staticmethod
    def forward(ctx, z):
        return z.real

    @staticmethod
    def backward(ctx, grad):
        return grad


class Imag(Op):
    """The imaginary part y, a view. z's conjugated gradient is -i dL/dy."""

    @staticmethod
    def forward(ctx, z):
        return z.imag

    @staticmethod
    def backward(ctx, grad):
        return grad * -1j


class Complex(Op):
    """real + i imag, from two real tensors: dL/dx = Re(g), dL/dy = -Im(g). The parts are
    saved, though the gradient needs neither, as PyTorch's ComplexBackward0 saves them: a
    second backward through the freed graph raises, and so does a change in place."""

    saved_attributes = {"real": saved_input(0), "imag": saved_input(1)}

    @staticmethod
    def forward(ctx, re, im):
        ctx.save_for_backward(re, im)
        dtype = np.result_type(re.dtype, np.complex64)
        # no parts to write for a meta part: a meta result (a CPU part beside it raises, as in PyTorch)
        meta = _meta.elementwise(dtype, re, im)
        if meta is not None:
            return meta
        z = np.empty(np.broadcast_shapes(re.shape, im.shape), dtype)
        z.real, z.imag = re, im
        return z

    @staticmethod
    def backward(ctx, grad):
        ctx.saved_tensors  # noqa: B018 - the freed-graph and in-place checks
        return _real(grad), -_imag(grad)


class Abs(Op):
    """|z| (a real result). dL/d|z| = g gives z's conjugated gradient g conj(z) / |z|, and
    0 at z = 0, as PyTorch."""

    @staticmethod
    def forward(ctx, z):
        r = np.abs(z)
        ctx.save_for_backward(z, r)
        return r

    @staticmethod
    def backward(ctx, grad):
        z, r = ctx.saved_tensors
        rv = _dual.value(r)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _dual.where(rv == 0, 0.0, grad * _conj(z) / r)


class Angle(Op):
    """arg z = atan2(y, x) (a real result). dL/d(arg z) = g gives z's conjugated gradient
    -i g conj(z) / |z|², and 0 at z = 0."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return np.angle(z)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        r2 = z.real**2 + z.imag**2  # of z itself (recorded under create_graph), not its value
        with np.errstate(divide="ignore", invalid="ignore"):
            return _dual.where(_dual.value(r2) == 0, 0.0, grad * _conj(z) * (-1j / r2))


class Sgn(Op):
    """z / |z| (0 at z = 0). With s = sgn z, ds/dz = 1 / (2|z|) and ds̄/dz = -s̄² / (2|z|), so
    z's conjugated gradient is (g - conj(g) s̄²) / (2|z|), and 0 at z = 0."""

    @staticmethod
    def forward(ctx, z):
        r = np.abs(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(r == 0, 0, z / r).astype(z.dtype)
        ctx.save_for_backward(z, s)  # not r: a second derivative needs it recorded, from z
        return s

    @staticmethod
    def backward(ctx, grad):
        z, s = ctx.saved_tensors
        r = np.abs(z) if _dual.is_array(z) else z.abs()
        rv = _dual.value(r)
        with np.errstate(divide="ignore", invalid="ignore"):
            sbar = _conj(s)
            return _dual.where(rv == 0, 0.0, (grad - _conj(grad) * sbar * sbar) / (2 * r))


class ViewAsReal(Op):
    """z as (..., 2) pairs (x, y), a view: z's conjugated gradient is g[..., 0] - i g[..., 1]."""

    @staticmethod
    def forward(ctx, z):
        parts = z.real  # the real parts, in z's layout: the imaginary ones follow each
        if z.__class__ is _meta.MetaArray:  # a meta view (as_strided made a CPU array), PyTorch's strides
            out = np.lib.stride_tricks.as_strided(parts, (*z.shape, 2), (0,) * z.ndim + (0,), subok=True)
            out._steps, out._offset = tuple(2 * s for s in z.logical_strides()) + (1,), 2 * z._offset
            return out
        return np.lib.stride_tricks.as_strided(
            parts, (*z.shape, 2), (*z.strides, parts.itemsize), writeable=z.flags.writeable
        )

    @staticmethod
    def backward(ctx, grad):
        return grad[..., 0] - 1j * grad[..., 1]  # (under create_graph, recorded)


class ViewAsComplex(Op):
    """(..., 2) pairs as complex numbers, a view: the pairs' gradient is (Re g, -Im g)."""

    @staticmethod
    def forward(ctx, x):
        dtype = np.result_type(x.dtype, np.complex64)
        if x.__class__ is _meta.MetaArray:  # zero strides: NumPy's view refuses; PyTorch's strides
            out = _meta.empty(x.shape[:-1], dtype)
            out._steps, out._offset = tuple(s // 2 for s in x.logical_strides()[:-1]), x._offset // 2
            return out
        return x.view(dtype)[..., 0]

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, np.ndarray):
            return np.stack([grad.real, -grad.imag], axis=-1)
        from ember.ops.api.shape import stack

        return stack([grad.real, -grad.imag], -1)
