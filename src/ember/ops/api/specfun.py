"""The public functions of ops/gamma.py and ops/specfun.py: lgamma, digamma, polygamma,
mvlgamma, the Bessel functions i0/i0e/i1/i1e, erfcx, ndtr, ndtri, log_ndtr, xlog1py, entr,
zeta, and their in-place forms (integer and bool tensors are promoted to the default dtype,
as PyTorch promotes them for these functions); then a few small functions PyTorch has that
ember lacked: atleast_1d/2d/3d, isposinf, isneginf, cov, corrcoef and combinations, all
composed of differentiable ops."""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np

from ember import dtypes
from ember._tensor import Tensor
from ember.ops import gamma as gm
from ember.ops import igamma as ig
from ember.ops import specfun as sf
from ember.ops.api.arith import _unary
from ember.ops.api.special import _data_of, _float_binary, _write_back, erf, erfc, erfinv, logit, sinc, xlogy

_SQRT_HALF = math.sqrt(0.5)
_LOG_PI = math.log(math.pi)


lgamma = _unary(gm.Lgamma, "lgamma", "log |Gamma(x)|; inf at 0 and the negative integers (torch.lgamma).")
digamma = _unary(
    gm.Digamma,
    "digamma",
    "The derivative of lgamma, psi(x); -inf at +0, +inf at -0, nan at the negative integers (torch.digamma).",
)
i0 = _unary(sf.I0, "i0", "The modified Bessel function of the first kind, order 0 (torch.i0).")
i0e = _unary(sf.SpecialI0E, "i0e", "exp(-|x|) i0(x), without overflow (torch.special.i0e).")
i1 = _unary(sf.SpecialI1, "i1", "The modified Bessel function of order 1 (torch.special.i1).")
i1e = _unary(sf.SpecialI1E, "i1e", "exp(-|x|) i1(x), without overflow (torch.special.i1e).")
erfcx = _unary(
    sf.SpecialErfcx, "erfcx", "exp(x^2) erfc(x), precise where erfc underflows (torch.special.erfcx)."
)
ndtri = _unary(
    sf.SpecialNdtri,
    "ndtri",
    "The inverse of the standard normal CDF, the quantile of p (torch.special.ndtri).",
)
log_ndtr = _unary(
    sf.SpecialLogNdtr,
    "log_ndtr",
    "log of the standard normal CDF, without underflow in the lower tail (torch.special.log_ndtr).",
)
entr = _unary(
    sf.SpecialEntr, "entr", "-x log(x) elementwise, 0 at 0 and -inf for x < 0 (torch.special.entr)."
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


# ---- small functions: atleast_nd, isposinf/isneginf, cov, corrcoef, combinations ------------


def _at_least(name: str, ndim: int, tensors: tuple) -> Any:
    """One tensor, or a tuple for several (or for one tuple or list), each with at least
    `ndim` dimensions: new dimensions go in front, and atleast_3d puts a 1-d tensor's between
    two (as NumPy and PyTorch do)."""
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): expected Tensors, but got {type(t).__name__}")
    out = []
    for t in tensors:
        if t.ndim >= ndim:
            out.append(t)
        elif ndim == 3 and t.ndim == 1:
            out.append(t.reshape(1, -1, 1))
        elif ndim == 3 and t.ndim == 2:
            out.append(t.unsqueeze(-1))
        else:
            out.append(t.reshape((1,) * (ndim - t.ndim) + tuple(t.shape)))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors: Any) -> Any:
    """The tensor, made 1-d if it is 0-d; a tuple for several tensors (torch.atleast_1d)."""
    return _at_least("atleast_1d", 1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    """The tensor with at least 2 dimensions, new ones in front (torch.atleast_2d)."""
    return _at_least("atleast_2d", 2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    """The tensor with at least 3 dimensions: (n,) becomes (1, n, 1), (m, n) becomes
    (m, n, 1) (torch.atleast_3d)."""
    return _at_least("atleast_3d", 3, tensors)


def isposinf(input: Tensor) -> Tensor:
    """True where input is +inf (torch.isposinf)."""
    return Tensor(
        np.asarray(input._data == np.inf) if input._data.dtype.kind == "f" else np.zeros(input.shape, bool)
    )


def isneginf(input: Tensor) -> Tensor:
    """True where input is -inf (torch.isneginf)."""
    return Tensor(
        np.asarray(input._data == -np.inf) if input._data.dtype.kind == "f" else np.zeros(input.shape, bool)
    )


def _check_weights(w: Any, name: str, observations: int, integral: bool) -> Tensor:
    if not isinstance(w, Tensor):
        raise TypeError(f"cov(): argument '{name}' must be Tensor, not {type(w).__name__}")
    if w.ndim > 1:
        raise RuntimeError(
            f"cov(): expected {name} to have one or fewer dimensions but got {name} with {w.ndim} dimensions"
        )
    kind = w._data.dtype.kind
    if integral and kind not in "iub":
        raise RuntimeError(
            f"cov(): expected {name} to have integral dtype but got {name} with {w.dtype} dtype"
        )
    if not integral and kind != "f":
        raise RuntimeError(
            f"cov(): expected {name} to have floating point dtype but got {name} with {w.dtype} dtype"
        )
    if w.numel() != observations:
        raise RuntimeError(
            f"cov(): expected {name} to have the same numel as there are observations in the input "
            f"but got {w.numel()} != {observations}"
        )
    if (w._data < 0).any():
        raise RuntimeError(f"cov(): {name} cannot be negative")
    return w


def cov(
    input: Tensor, *, correction: int = 1, fweights: Tensor | None = None, aweights: Tensor | None = None
) -> Tensor:
    """The covariance matrix of the variables in the rows of input (one variable: a 1-d
    input, and a 0-d result), observations in the columns, optionally weighted by integer
    frequencies and float importances (torch.cov; NumPy's np.cov defines the same estimate).
    Composed of differentiable ops."""
    if input.ndim > 2:
        raise RuntimeError(
            f"cov(): expected input to have two or fewer dimensions but got an input with {input.ndim} dimensions"
        )
    x = _float_input(input)
    x = x.reshape(1, -1) if x.ndim < 2 else x
    observations = x.shape[1]
    w = None
    if fweights is not None:
        w = _check_weights(fweights, "fweights", observations, integral=True)
    if aweights is not None:
        aweights = _check_weights(aweights, "aweights", observations, integral=False)
        w = aweights if w is None else w * aweights
    if w is None:
        mean = x.mean(1, keepdim=True)
        norm: Any = observations - correction
    else:
        total = w.sum()
        mean = (x * w).sum(1, keepdim=True) / total
        if correction == 0:
            norm = total
        elif aweights is None:
            norm = total - correction
        else:
            norm = total - correction * (w * aweights).sum() / total
    if float(_data_of(norm)) <= 0:
        warnings.warn(
            "cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
            "observations.",
            UserWarning,
            stacklevel=2,
        )
        norm = 0.0
    centred = x - mean
    products = centred @ (centred if w is None else centred * w).t()
    with np.errstate(divide="ignore", invalid="ignore"):
        return (products / norm).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the rows of input: cov normalised by the standard
    deviations, clipped to [-1, 1] (torch.corrcoef)."""
    if input.ndim > 2:
        raise RuntimeError(
            f"corrcoef(): expected input to have two or fewer dimensions but got an input with {input.ndim} dimensions"
        )
    c = cov(input)
    with np.errstate(divide="ignore", invalid="ignore"):
        if c.ndim == 0:
            return c / c
        std = c.diagonal().sqrt()
        c = c / std.unsqueeze(1) / std.unsqueeze(0)
    return c.clamp(-1, 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The r-element combinations of a 1-d tensor's elements, one per row, in
    itertools.combinations order (torch.combinations); gathered by indexing, so differentiable."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor(np.empty(0, input._data.dtype))
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(choose(range(input.shape[0]), r))
    index = np.array(rows, dtype=np.int64).reshape(len(rows), r)
    return input[Tensor(index)]


# ---- the regularized incomplete gamma functions (ops/igamma.py) ----------------------------


def igamma(input: Tensor, other: Tensor) -> Tensor:
    """The regularized lower incomplete gamma function P(a, x), a = input, x = other
    (torch.igamma, torch.special.gammainc); differentiable in x only, as in PyTorch."""
    return _float_binary(ig.Igamma, input, other, "igamma", ints=False)


def igammac(input: Tensor, other: Tensor) -> Tensor:
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)
    (torch.igammac, torch.special.gammaincc)."""
    return _float_binary(ig.Igammac, input, other, "igammac", ints=False)


def igamma_(input: Tensor, other: Tensor) -> Tensor:
    return _write_back(input, "igamma_", igamma, other)


def igammac_(input: Tensor, other: Tensor) -> Tensor:
    return _write_back(input, "igammac_", igammac, other)
