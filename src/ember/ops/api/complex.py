"""Complex numbers: their parts, conjugates and assembly (torch.real, torch.view_as_real, ...).

ember's complex dtypes are NumPy's complex64 and complex128. PyTorch's lazy conjugation
is not copied: conj() computes the conjugate at once (is_conj() is always False), so a
write into the result does not reach the input. real, imag, view_as_real and
view_as_complex are views, as in PyTorch. How gradients flow is in ops/complex.py.
"""

from __future__ import annotations

import numpy as np

from ember import _meta, dtypes
from ember._layout import SparseUnsupportedError, sparse_form
from ember._tensor import Tensor
from ember.autograd.function import apply, apply_one
from ember.autograd.views import as_view
from ember.ops import complex as cx
from ember.ops.api import convert


def _is_complex(t: Tensor) -> bool:
    return t._data.dtype.kind == "c"


def is_complex(input: Tensor) -> bool:
    """Whether input's dtype is complex (torch.is_complex)."""
    return input._data.dtype.kind == "c"


def is_conj(input: Tensor) -> bool:
    """False: ember computes conjugates at once, never as a lazy view (torch.is_conj)."""
    return False


def is_neg(input: Tensor) -> bool:
    """False: no tensor is a lazily negated view in ember (torch.is_neg)."""
    return False


def conj(input: Tensor) -> Tensor:
    """The complex conjugate x - iy (torch.conj); a real tensor is returned itself. Unlike
    PyTorch's lazy view, a new tensor."""
    if not _is_complex(input):
        return input
    try:
        return apply_one(cx.Conj, input)
    except SparseUnsupportedError:  # a sparse tensor (see ember/sparse/_functions.py)
        return sparse_form("conj", (input,))


conj_physical = conj


def conj_physical_(input: Tensor) -> Tensor:
    """Conjugate input in place (torch.conj_physical_)."""
    if _is_complex(input):
        try:
            convert.copy_(input, conj(input))
        except SparseUnsupportedError:  # a sparse tensor (see ember/sparse/_functions.py)
            return sparse_form("conj_physical_", (input,))
    return input


def resolve_conj(input: Tensor) -> Tensor:
    """input itself: no ember tensor is a lazy conjugate (torch.resolve_conj)."""
    return input


resolve_neg = resolve_conj


def real(input: Tensor) -> Tensor:
    """The real parts, a view that writes through to input (torch.real); a real tensor is
    returned itself."""
    if not _is_complex(input):
        return input
    return as_view(apply_one(cx.Real, input), input, real)


def imag(input: Tensor) -> Tensor:
    """The imaginary parts, a view that writes through to input (torch.imag); a real tensor
    has none."""
    if not _is_complex(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return as_view(apply_one(cx.Imag, input), input, imag)


def isreal(input: Tensor) -> Tensor:
    """Where the imaginary part is zero: everywhere for a real tensor (torch.isreal)."""
    if _is_complex(input):
        return Tensor(_meta.asarray(input._data.imag == 0))
    return Tensor(_meta.full(input._data.shape, True, np.bool_, input._data))


def angle(input: Tensor) -> Tensor:
    """The argument of each element, in (-pi, pi] (torch.angle). For a real tensor, pi for
    negative numbers, 0 otherwise, NaN for NaN, in the graph with a zero gradient."""
    if _is_complex(input):
        return apply_one(cx.Angle, input)
    x = input if input._data.dtype.kind in "fV" else convert.to(input, dtypes.get_default_dtype())
    values = np.where(x._data < 0, np.pi, 0.0)
    values = np.where(np.isnan(x._data), np.nan, values).astype(x._data.dtype)
    return convert._replaced(x, Tensor(values))


def complex_abs(input: Tensor) -> Tensor:
    """|z|, a real tensor (torch.abs of a complex tensor)."""
    return apply_one(cx.Abs, input)


def sgn(input: Tensor) -> Tensor:
    """z / |z|, 0 where z = 0 (torch.sgn); the sign for a real tensor."""
    if _is_complex(input):
        return apply_one(cx.Sgn, input)
    from ember.ops.api.arith import sign

    return sign(input)


def _check_parts(real: Tensor, imag: Tensor) -> None:
    a, b = real._data.dtype, imag._data.dtype
    if a.kind not in "fV" or b.kind not in "fV" or a == np.float16 or b == np.float16:
        raise RuntimeError(
            "Expected both inputs to be Half, Float or Double tensors but got "
            f"{dtypes.scalar_type_name(a)} and {dtypes.scalar_type_name(b)}"
        )
    if a != b:
        raise RuntimeError(
            f"Expected object of scalar type {dtypes.scalar_type_name(a)} but got scalar type "
            f"{dtypes.scalar_type_name(b)} for second argument"
        )


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001
    """real + i imag, from two float tensors of one dtype, broadcast (torch.complex);
    float32 parts give complex64, float64 complex128."""
    _check_parts(real, imag)
    try:
        return apply(cx.Complex, real, imag)
    except ValueError:
        raise RuntimeError(
            f"complex: the shapes of real {list(real.shape)} and imag {list(imag.shape)} cannot "
            "be broadcast together"
        ) from None


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002
    """abs * (cos(angle) + i sin(angle)), from two float tensors of one dtype (torch.polar)."""
    from ember.ops.api.arith import cos, mul, sin

    _check_parts(abs, angle)
    return complex(mul(abs, cos(angle)), mul(abs, sin(angle)))


def view_as_real(input: Tensor) -> Tensor:
    """A complex tensor's elements as pairs (real, imaginary) along a new last dim of size
    2, a view (torch.view_as_real)."""
    if not _is_complex(input):
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return as_view(apply_one(cx.ViewAsReal, input), input, view_as_real)


def view_as_complex(input: Tensor) -> Tensor:
    """Pairs (real, imaginary) along a last dim of size 2 read as complex numbers, a view
    (torch.view_as_complex): float32 gives complex64, float64 complex128."""
    data = input._data
    if data.dtype not in (np.float32, np.float64):
        raise RuntimeError(
            "view_as_complex is only supported for float and double tensors, but got a tensor "
            f"of scalar type: {dtypes.scalar_type_name(data.dtype)}"
        )
    if data.ndim == 0 or data.shape[-1] != 2:
        raise RuntimeError(f"Tensor must have a last dimension of size 2 (got shape {list(data.shape)})")
    strides = input.stride()  # in elements; PyTorch's own for a meta tensor, whose data has zero strides
    if strides[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s, n in zip(strides[:-1], data.shape[:-1]) if n > 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return as_view(apply_one(cx.ViewAsComplex, input), input, view_as_complex)
