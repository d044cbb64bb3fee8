"""The public functions of ops/gamma.py and ops/specfun.py: lgamma, digamma, polygamma,
mvlgamma, the Bessel functions i0/i0e/i1/i1e, erfcx, ndtr, ndtri, log_ndtr, xlog1py, entr,
zeta, and their in-place forms (integer and bool tensors are promoted to the default dtype,
as PyTorch promotes them for these functions)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember import dtypes
from ember._tensor import Tensor
from ember.ops import gamma as gm
from ember.ops import specfun as sf
from ember.ops.api.arith import _unary
from ember.ops.api.special import _float_binary, _write_back, erf, erfc, erfinv, logit, sinc, xlogy

_SQRT_HALF = math.sqrt(0.5)
_LOG_PI = math.log(math.pi)


def _named(op: Any, name: str, doc: str) -> Any:
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


lgamma = _named(
    _unary(gm.Lgamma, "lgamma"),
    "lgamma",
    "log |Gamma(x)|; inf at 0 and the negative integers (torch.lgamma).",
)
digamma = _named(
    _unary(gm.Digamma, "digamma"),
    "digamma",
    "The derivative of lgamma, psi(x); -inf at +0, +inf at -0, nan at the negative integers (torch.digamma).",
)
i0 = _named(_unary(sf.I0, "i0"), "i0", "The modified Bessel function of the first kind, order 0 (torch.i0).")
i0e = _named(_unary(sf.SpecialI0E, "i0e"), "i0e", "exp(-|x|) i0(x), without overflow (torch.special.i0e).")
i1 = _named(_unary(sf.SpecialI1, "i1"), "i1", "The modified Bessel function of order 1 (torch.special.i1).")
i1e = _named(_unary(sf.SpecialI1E, "i1e"), "i1e", "exp(-|x|) i1(x), without overflow (torch.special.i1e).")
erfcx = _named(
    _unary(sf.SpecialErfcx, "erfcx"),
    "erfcx",
    "exp(x^2) erfc(x), precise where erfc underflows (torch.special.erfcx).",
)
ndtri = _named(
    _unary(sf.SpecialNdtri, "ndtri"),
    "ndtri",
    "The inverse of the standard normal CDF, the quantile of p (torch.special.ndtri).",
)
log_ndtr = _named(
    _unary(sf.SpecialLogNdtr, "log_ndtr"),
    "log_ndtr",
    "log of the standard normal CDF, without underflow in the lower tail (torch.special.log_ndtr).",
)
entr = _named(
    _unary(sf.SpecialEntr, "entr"),
    "entr",
    "-x log(x) elementwise, 0 at 0 and -inf for x < 0 (torch.special.entr).",
)


def _check_int(value: Any, op: str, name: str, position: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{op}(): argument '{name}' (position {position}) must be int, not {type(value).__name__}"
        )


def _float_input(input: Tensor) -> Tensor:
    return input if input._data.dtype.kind == "f" else input.to(dtypes.get_default_dtype())


def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of digamma; polygamma(0, x) is digamma(x) (torch.polygamma)."""
    _check_int(n, "polygamma", "n", 1)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return gm.Polygamma.apply(_float_input(input), int(n))


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension p,
    p (p - 1) / 4 log(pi) + sum_{j < p} lgamma(x - j / 2) (torch.mvlgamma). As in PyTorch
    2.13, arguments below (p - 1) / 2 are not refused."""
    _check_int(p, "mvlgamma", "p", 2)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = _float_input(input)
    offsets = Tensor(np.arange(p, dtype=x._data.dtype) / -2)
    return lgamma(x.unsqueeze(-1) + offsets).sum(-1) + p * (p - 1) / 4 * _LOG_PI


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF, erfc(-x / sqrt(2)) / 2 (torch.special.ndtr)."""
    return erfc(_float_input(input) * -_SQRT_HALF) * 0.5


def xlog1py(input: Any, other: Any) -> Tensor:
    """input * log1p(other), and 0 where input is 0 unless other is nan (torch.special.xlog1py)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlog1py: at least one of input and other must be a tensor")
    return _float_binary(sf.SpecialXlog1Py, input, other, "xlog1py")


def zeta(input: Any, other: Any) -> Tensor:
    """The Hurwitz zeta function sum_k (other + k)^-input (torch.special.zeta); like
    PyTorch's, it has no derivative."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("zeta: at least one of input and other must be a tensor")
    return _float_binary(sf.SpecialZeta, input, other, "zeta")


# ---- in-place forms --------------------------------------------------------------------------


def lgamma_(input: Tensor) -> Tensor:
    return _write_back(input, "lgamma_", lgamma)


def digamma_(input: Tensor) -> Tensor:
    return _write_back(input, "digamma_", digamma)


def polygamma_(input: Tensor, n: int) -> Tensor:
    """x.polygamma_(n): in-place polygamma(n, x); the tensor comes first, as in PyTorch."""
    return _write_back(input, "polygamma_", lambda x: polygamma(n, x))


def mvlgamma_(input: Tensor, p: int) -> Tensor:
    return _write_back(input, "mvlgamma_", lambda x: mvlgamma(x, p))


def i0_(input: Tensor) -> Tensor:
    return _write_back(input, "i0_", i0)


def erf_(input: Tensor) -> Tensor:
    return _write_back(input, "erf_", erf)


def erfc_(input: Tensor) -> Tensor:
    return _write_back(input, "erfc_", erfc)


def erfinv_(input: Tensor) -> Tensor:
    return _write_back(input, "erfinv_", erfinv)


def logit_(input: Tensor, eps: float | None = None) -> Tensor:
    return _write_back(input, "logit_", lambda x: logit(x, eps))


def sinc_(input: Tensor) -> Tensor:
    return _write_back(input, "sinc_", sinc)


def xlogy_(input: Tensor, other: Any) -> Tensor:
    return _write_back(input, "xlogy_", xlogy, other)


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    """x.polygamma(n) is polygamma(n, x) (torch.Tensor.polygamma)."""
    return polygamma(n, self)
