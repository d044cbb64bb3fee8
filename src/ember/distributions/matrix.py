"""Distributions over matrices: LKJCholesky (Cholesky factors of correlation matrices) and
Wishart (positive definite matrices, the law of a sample covariance)."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import ember
from ember._tensor import Size, Tensor
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.exp_family import ExponentialFamily
from ember.distributions.gamma import Beta, Chi2
from ember.distributions.multivariate import _precision_to_scale_tril, _ScaleTril
from ember.distributions.utils import broadcast_all, draw, vec_to_tril_matrix

__all__ = ["LKJCholesky", "Wishart"]

_LOG_2 = math.log(2)


class LKJCholesky(Distribution):
    """The LKJ distribution of the lower Cholesky factor L of a `dim` x `dim` correlation
    matrix M = L L^T, density proportional to det(M)^(concentration - 1): uniform over
    correlation matrices at concentration 1 (torch.distributions.LKJCholesky). Draws use
    the onion method (Lewandowski, Kurowicka and Joe 2009); they are not reparameterized."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Any = 1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        marginal = self.concentration + 0.5 * (dim - 2)
        offset = ember.arange(dim - 1, dtype=self.concentration.dtype)
        offset = ember.cat([offset.new_zeros((1,)), offset])
        # the onion method: the squared norm of row i's off-diagonal part (i >= 1) is
        # Beta(i / 2, marginal - (i - 1) / 2). PyTorch 2.13 takes i / 2 + 1 / 2 from the third
        # row on, which makes those rows' correlations too spread (see docs/differences.md).
        self._beta = Beta((offset + 1) / 2, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.size(), (dim, dim), validate_args=validate_args)

    def _expanded_names(self) -> list:
        return ["concentration", "_beta"]

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with ember.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u = draw("normal", self._extended_shape(sample_shape), y.dtype).tril(-1)
            norm = u.norm(dim=-1, keepdim=True)
            first_row = ember.arange(self.dim).reshape(self.dim, 1) == 0
            u_sphere = ember.where(first_row, ember.zeros_like(u), u / norm)  # row 0: 0/0
            w = y.sqrt() * u_sphere
            diagonal = (1 - (w**2).sum(-1)).clamp(min=ember.finfo(w.dtype).tiny).sqrt()
            return w + ember.diag_embed(diagonal)

    def log_prob(self, value: Tensor) -> Tensor:
        # the density of L: prod_i L_ii^(2 (concentration - 1) + dim - i), i = 2..dim,
        # over the normalizer of Lewandowski et al., in the Cholesky parameterization
        if self._validate_args:
            self._validate_sample(value)
        diagonal = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = ember.arange(2, self.dim + 1, dtype=self.concentration.dtype)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diagonal.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalizer = (
            0.5 * dm1 * math.log(math.pi) + ember.mvlgamma(alpha - 0.5, dm1) - ember.lgamma(alpha) * dm1
        )
        return unnormalized - normalizer


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """sum_i digamma(x - i / 2), i = 0..p-1: the derivative of mvlgamma(x, p)."""
    halves = ember.arange(p, dtype=x.dtype) / 2
    return ember.digamma(x.unsqueeze(-1) - halves).sum(-1)


class Wishart(_ScaleTril, ExponentialFamily):
    """The Wishart distribution of p x p positive definite matrices with `df` degrees of
    freedom (> p - 1) and scale matrix Sigma, given as one of `covariance_matrix`,
    `precision_matrix` (Sigma^-1) or `scale_tril` (its lower Cholesky factor L, the
    cheapest) (torch.distributions.Wishart). Draws use the Bartlett decomposition, so they
    are reparameterized in L and df (through the chi-squared draws).

    A draw that comes out singular (likely when df < p) is drawn again, up to
    `max_try_correction` times (10); PyTorch 2.13 tests the support the wrong way round
    and redraws the nonsingular ones instead."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self) -> dict:  # type: ignore[override]
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self._event_shape[-1] - 1),
        }

    def __init__(
        self,
        df: Any,
        covariance_matrix: Tensor | None = None,
        precision_matrix: Tensor | None = None,
        scale_tril: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        given = {
            name: value
            for name, value in (
                ("covariance_matrix", covariance_matrix),
                ("precision_matrix", precision_matrix),
                ("scale_tril", scale_tril),
            )
            if value is not None
        }
        if len(given) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified."
            )
        ((name, param),) = given.items()
        if param.dim() < 2:
            raise ValueError(
                "scale_tril must be at least two-dimensional, with optional leading batch dimensions"
            )
        if isinstance(df, numbers.Number):
            batch_shape = Size(param.shape[:-2])
            self.df = ember.tensor(float(df), dtype=param.dtype)
        else:
            batch_shape = ember.broadcast_shapes(param.shape[:-2], df.shape)
            self.df = df.expand(*batch_shape)
        event_shape = Size(param.shape[-2:])
        p = event_shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        self.__dict__[name] = param.expand(*batch_shape, -1, -1)
        if bool((self.df < p).any()):
            warnings.warn(
                "Low df values detected. Singular samples are highly likely to occur for ndim - 1 < df < ndim.",
                stacklevel=2,
            )
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = param
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = ember.linalg.cholesky(param)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(param)
        self._dist_chi2 = self._chi2()

    def _chi2(self) -> Chi2:
        """The chi-squared laws of the squared diagonal of the Bartlett factor: df - i."""
        p = self._event_shape[-1]
        steps = ember.arange(p, dtype=self._unbroadcasted_scale_tril.dtype).expand(*self._batch_shape, -1)
        return Chi2(df=self.df.unsqueeze(-1) - steps)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Wishart:
        batch_shape = Size(batch_shape)
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.__dict__.update(self.__dict__)
        matrix_shape = (*batch_shape, *self._event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(*matrix_shape)
        new.df = self.df.expand(*batch_shape)
        for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(*matrix_shape)
        new._batch_shape = batch_shape
        new._dist_chi2 = new._chi2()
        return new

    def _full(self, matrix: Tensor) -> Tensor:
        return matrix.expand(*self._batch_shape, *self._event_shape)

    def _df_matrix(self) -> Tensor:
        return self.df.reshape(*self._batch_shape, 1, 1)

    @property
    def mean(self):
        return self._df_matrix() * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = ember.where(factor <= 0, ember.full_like(factor, math.nan), factor)
        return factor.reshape(*self._batch_shape, 1, 1) * self.covariance_matrix

    @property
    def variance(self):
        V = self.covariance_matrix
        diagonal = V.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix() * (V.pow(2) + diagonal.unsqueeze(-1) * diagonal.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape: Any) -> Tensor:
        """L A A^T L^T, A lower triangular with sqrt(chi2(df - i)) on its diagonal and
        standard normal entries below it."""
        p = self._event_shape[-1]
        chi = self._dist_chi2.rsample(sample_shape).sqrt()
        chi = chi.clamp(min=ember.finfo(chi.dtype).eps)
        below = draw("normal", (*Size(sample_shape), *self._batch_shape, p * (p - 1) // 2), chi.dtype)
        noise = ember.diag_embed(chi) + vec_to_tril_matrix(below, diag=-1)
        chol = self._unbroadcasted_scale_tril @ noise
        return chol @ chol.mT

    def rsample(self, sample_shape: Any = (), max_try_correction: int | None = None) -> Tensor:
        max_try_correction = 10 if max_try_correction is None else max_try_correction
        sample = self._bartlett_sampling(sample_shape)
        singular = ~self.support.check(sample.detach())
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                sample = ember.where(singular[..., None, None], self._bartlett_sampling(sample_shape), sample)
                singular = ~self.support.check(sample.detach())
                if not bool(singular.any()):
                    break
        return sample

    def _half_log_det_times_2_plus(self) -> Tensor:
        """p log(2) / 2 + log det L."""
        p = self._event_shape[-1]
        return p * _LOG_2 / 2 + self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        trace = ember.cholesky_solve(value, self._unbroadcasted_scale_tril).diagonal(dim1=-2, dim2=-1).sum(-1)
        return (
            -nu * self._half_log_det_times_2_plus()
            - ember.mvlgamma(nu / 2, p)
            + (nu - p - 1) / 2 * ember.linalg.slogdet(value).logabsdet
            - trace / 2
        )

    def entropy(self) -> Tensor:
        nu, p = self.df, self._event_shape[-1]
        return (
            (p + 1) * self._half_log_det_times_2_plus()
            + ember.mvlgamma(nu / 2, p)
            - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
            + nu * p / 2
        )

    @property
    def _natural_params(self) -> tuple:
        nu, p = self.df, self._event_shape[-1]
        return -self.precision_matrix / 2, (nu - p - 1) / 2

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        p = self._event_shape[-1]
        return (y + (p + 1) / 2) * (-ember.linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p) + ember.mvlgamma(
            y + (p + 1) / 2, p
        )
