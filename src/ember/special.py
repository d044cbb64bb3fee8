"""ember.special: PyTorch's torch.special namespace, the special functions by their SciPy-style
names. Most are ember's functions under a second name (expit is sigmoid, gammaln is lgamma,
psi is digamma, multigammaln is mvlgamma, gammainc and gammaincc are igamma and igammac);
the rest are in ops/api/specfun.py."""

from ember.ops.api.arith import expm1, log1p, round, sigmoid
from ember.ops.api.products import log_softmax, softmax
from ember.ops.api.reduce import logsumexp
from ember.ops.api.specfun import (
    digamma,
    entr,
    erfcx,
    i0,
    i0e,
    i1,
    i1e,
    igamma,
    igammac,
    lgamma,
    log_ndtr,
    mvlgamma,
    ndtr,
    ndtri,
    polygamma,
    xlog1py,
    zeta,
)
from ember.ops.api.special import erf, erfc, erfinv, exp2, logit, sinc, xlogy

expit = sigmoid
gammainc = igamma
gammaincc = igammac
gammaln = lgamma
psi = digamma
multigammaln = mvlgamma

__all__ = [
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfcx",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammainc",
    "gammaincc",
    "gammaln",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "round",
    "sinc",
    "softmax",
    "xlog1py",
    "xlogy",
    "zeta",
]
