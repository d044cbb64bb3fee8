"""torch's linear algebra from before torch.linalg: frobenius_norm and nuclear_norm, kept in
PyTorch (with a deprecation warning) as other names for the linalg norms, and solve, lstsq,
symeig, eig and matrix_rank, removed in PyTorch 1.9, whose names PyTorch keeps only to raise
an error that says what replaces them. ember raises the same, so that old code stops at the
call with the fix in the message rather than at an AttributeError.

(torch.native_norm is not here: PyTorch 2.13 runs it on sparse tensors only, and a dense
one gets NotImplementedError.)
"""

from __future__ import annotations

import warnings
from typing import Any, NoReturn

from ember import dtypes
from ember._stacklevel import outside_ember
from ember._tensor import Tensor

# ---- the deprecated norms ----------------------------------------------------------------------


def frobenius_norm(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """The square root of the sum of squares over dim, one or two dims, every dim if dim is
    empty (torch.frobenius_norm, deprecated: linalg.vector_norm(input, 2, dim, keepdim))."""
    from ember import linalg

    warnings.warn(
        "frobenius_norm is deprecated and it is just left for JIT compatibility. It will be removed "
        "in a future PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` instead",
        UserWarning,
        stacklevel=outside_ember(),
    )
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead.")
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError(
            "norm(): input dtype should be either floating point or complex. Got "
            f"{dtypes.scalar_type_name(input._data.dtype)} instead."
        )
    return linalg.vector_norm(input, 2, dims or None, keepdim)


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The sum of the singular values of the matrices over the two dims `dim`, the last two
    by default (torch.nuclear_norm, deprecated: linalg.matrix_norm(input, 'nuc', dim,
    keepdim)). As in PyTorch, a bool second argument is keepdim: nuclear_norm(A, True)."""
    from ember import linalg

    warnings.warn(
        "nuclear_norm is deprecated and it is just left for JIT compatibility. It will be removed in "
        "a future PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead",
        UserWarning,
        stacklevel=outside_ember(),
    )
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


# ---- removed in PyTorch 1.9 ------------------------------------------------------------------------

_REMOVED = "This function was deprecated since version 1.9 and is now removed. "

_SOLVE = (
    _REMOVED + "`torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has "
    "its arguments reversed and does not return the LU factorization.\n\nTo get the LU factorization "
    "see `torch.lu`, which can be used with `torch.lu_solve` or `torch.lu_unpack`.\n"
    "X = torch.solve(B, A).solution should be replaced with:\nX = torch.linalg.solve(A, B)"
)
_LSTSQ = (
    _REMOVED + "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has "
    "reversed arguments and does not return the QR decomposition in the returned tuple (although it "
    "returns other information about the problem).\n\nTo get the QR decomposition consider using "
    "`torch.linalg.qr`.\n\nThe returned solution in `torch.lstsq` stored the residuals of the solution "
    "in the last m - n columns of the returned value whenever m > n. In torch.linalg.lstsq, the "
    "residuals are in the field 'residuals' of the returned named tuple.\n\nThe unpacking of the "
    "solution, as in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\n"
    "X = torch.linalg.lstsq(A, B).solution"
)
_SYMEIG = (
    _REMOVED + "The default behavior has changed from using the upper triangular portion of the matrix "
    "by default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) should be "
    "replaced with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\n"
    "L, V = torch.symeig(A, eigenvectors=True) should be replaced with:\n"
    "L, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')"
)
_EIG = (
    _REMOVED + "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than "
    "real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\n"
    "L_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) should be "
    "replaced with:\nL_complex, V_complex = torch.linalg.eig(A)"
)
_MATRIX_RANK = (
    _REMOVED.rstrip()
    + "\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter 'symmetric' "
    "was renamed in `torch.linalg.matrix_rank()` to 'hermitian'."
)


def solve(*args: Any, **kwargs: Any) -> NoReturn:
    """Removed in PyTorch 1.9 (torch.solve, Tensor.solve): raises RuntimeError pointing to
    linalg.solve(A, B), whose arguments are the other way round."""
    raise RuntimeError(_SOLVE)


def lstsq(*args: Any, **kwargs: Any) -> NoReturn:
    """Removed in PyTorch 1.9 (torch.lstsq, Tensor.lstsq): raises RuntimeError pointing to
    linalg.lstsq(A, B)."""
    raise RuntimeError(_LSTSQ)


def symeig(*args: Any, **kwargs: Any) -> NoReturn:
    """Removed in PyTorch 1.9 (torch.symeig, Tensor.symeig): raises RuntimeError pointing to
    linalg.eigh and linalg.eigvalsh."""
    raise RuntimeError(_SYMEIG)


def eig(*args: Any, **kwargs: Any) -> NoReturn:
    """Removed in PyTorch 1.9 (torch.eig, Tensor.eig): raises RuntimeError pointing to
    linalg.eig and linalg.eigvals."""
    raise RuntimeError(_EIG)


def matrix_rank(*args: Any, **kwargs: Any) -> NoReturn:
    """Removed in PyTorch 1.9 (torch.matrix_rank; there is no Tensor method): raises
    RuntimeError pointing to linalg.matrix_rank."""
    raise RuntimeError(_MATRIX_RANK)
