"""MultivariateNormal, and Independent, which turns batch dims of any distribution into
event dims (a diagonal Gaussian over vectors is Independent(Normal(loc, scale), 1))."""

from __future__ import annotations

import math
from typing import Any

import ember
from ember._tensor import Tensor
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.utils import draw, lazy_property, sum_rightmost

__all__ = ["Independent", "LowRankMultivariateNormal", "MultivariateNormal"]

_MATRICES = ("covariance_matrix", "precision_matrix", "scale_tril")


def _solve_lower(L: Tensor, b: Tensor) -> Tensor:
    """L^-1 b for vectors b, broadcasting the batch dims of L and b. Only the lower
    triangle of L is read, so (as in PyTorch's triangular solve) its upper triangle gets
    no gradient."""
    return ember.linalg.solve(L.tril(), b.unsqueeze(-1)).squeeze(-1)


def _precision_to_scale_tril(P: Tensor) -> Tensor:
    """The Cholesky factor L of P^-1 without inverting P: reversing the order of the
    coordinates (J P J, J the flip) turns the Cholesky factor of J P J into an upper
    factor U of P = U U^T; then P^-1 = U^-T U^-1 and L = U^-T is lower triangular."""
    flipped = ember.linalg.cholesky(P.flip((-2, -1)))
    upper = flipped.flip((-2, -1))  # P = upper @ upper.mT, upper triangular
    return ember.linalg.inv(upper).mT


class _ScaleTril:
    """The three matrix parameters of a distribution kept as one lower Cholesky factor L,
    `_unbroadcasted_scale_tril` (MultivariateNormal, Wishart): L itself, L L^T and its
    inverse, expanded to the batch by the class's `_full`."""

    _unbroadcasted_scale_tril: Tensor
    _full: Any  # the class's own: MultivariateNormal's (from _Gaussian) or Wishart's

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._full(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return self._full(L @ L.mT)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        return self._full(ember.cholesky_inverse(self._unbroadcasted_scale_tril))


class _Gaussian(Distribution):
    """What the normal distributions of vectors share (MultivariateNormal,
    LowRankMultivariateNormal): the support, rsample, the mean and mode at `loc`, and
    matrices expanded to the batch."""

    support = constraints.real_vector
    has_rsample = True

    def _full(self, matrix: Tensor) -> Tensor:
        return matrix.expand(*self._batch_shape, *self._event_shape, *self._event_shape)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc


class MultivariateNormal(_ScaleTril, _Gaussian):
    """The normal distribution of vectors with mean `loc` and one of `covariance_matrix`
    (Sigma), `precision_matrix` (Sigma^-1) or `scale_tril` (the lower Cholesky factor L of
    Sigma = L L^T), the cheapest to give (torch.distributions.MultivariateNormal).
    All computations go through L: draws are loc + L eps, and log_prob solves with L."""

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }

    def __init__(
        self,
        loc: Tensor,
        covariance_matrix: Tensor | None = None,
        precision_matrix: Tensor | None = None,
        scale_tril: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = {
            k: v
            for k, v in zip(_MATRICES, (covariance_matrix, precision_matrix, scale_tril))
            if v is not None
        }
        if len(given) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified."
            )
        ((name, matrix),) = given.items()
        if matrix.dim() < 2:
            what = "scale_tril matrix" if name == "scale_tril" else name  # PyTorch's wording
            raise ValueError(
                f"{what} must be at least two-dimensional, with optional leading batch dimensions"
            )
        k = loc.shape[-1]
        if tuple(matrix.shape[-2:]) != (k, k):
            raise ValueError(
                f"MultivariateNormal: {name} must be a ({k}, {k}) matrix (or a batch of them) to match loc's "
                f"last dim {k}, but got shape {tuple(matrix.shape)}"
            )
        batch_shape = ember.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        self.__dict__[name] = matrix.expand(*batch_shape, -1, -1)
        self.loc = loc.expand(*batch_shape, -1)
        super().__init__(batch_shape, loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = ember.linalg.cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(*self._batch_shape, *self._event_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        eps = draw("normal", self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        """log sqrt(det Sigma) = sum of the logs of L's diagonal."""
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        # (x - mu)^T Sigma^-1 (x - mu) = |L^-1 (x - mu)|^2
        mahalanobis = _solve_lower(self._unbroadcasted_scale_tril, value - self.loc).pow(2).sum(-1)
        k = self._event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + mahalanobis) - self._half_log_det()

    def entropy(self) -> Tensor:
        k = self._event_shape[0]
        entropy = 0.5 * k * (1 + math.log(2 * math.pi)) + self._half_log_det()
        return entropy.expand(*self._batch_shape) if len(self._batch_shape) else entropy


class Independent(Distribution):
    """`base_distribution` with its `reinterpreted_batch_ndims` rightmost batch dims read as
    event dims: log_prob and entropy are summed over them (torch.distributions.Independent)."""

    arg_constraints: dict = {}

    def __init__(
        self,
        base_distribution: Distribution,
        reinterpreted_batch_ndims: int,
        validate_args: bool | None = None,
    ) -> None:
        batch = tuple(base_distribution.batch_shape)
        if reinterpreted_batch_ndims > len(batch):
            raise ValueError(
                "Expected reinterpreted_batch_ndims <= len(base_distribution.batch_shape), "
                f"actual {reinterpreted_batch_ndims} vs {len(batch)}"
            )
        shape = batch + tuple(base_distribution.event_shape)
        split = len(batch) - reinterpreted_batch_ndims
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        super().__init__(shape[:split], shape[split:], validate_args=validate_args)

    def _expanded_names(self) -> list:
        return ["base_dist"]  # its reinterpreted dims kept

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self) -> bool:  # type: ignore[override]
        return self.reinterpreted_batch_ndims == 0 and self.base_dist.has_enumerate_support

    @constraints.dependent_property
    def support(self) -> Any:  # type: ignore[override]
        base = self.base_dist.support
        return (
            constraints.independent(base, self.reinterpreted_batch_ndims)
            if self.reinterpreted_batch_ndims
            else base
        )

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def mode(self):
        return self.base_dist.mode

    @property
    def variance(self):
        return self.base_dist.variance

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value: Tensor) -> Tensor:
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self) -> Tensor:
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        if self.reinterpreted_batch_ndims > 0:
            raise NotImplementedError("Enumeration over cartesian product is not implemented")
        return self.base_dist.enumerate_support(expand=expand)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_dist!r}, {self.reinterpreted_batch_ndims})"


class LowRankMultivariateNormal(_Gaussian):
    """The normal distribution of vectors whose covariance is low rank plus diagonal,
    Sigma = W W^T + D with W = `cov_factor` (k x m) and D = diag(`cov_diag`)
    (torch.distributions.LowRankMultivariateNormal). Nothing k x k is factored: log_prob
    and the entropy go through the m x m "capacitance" matrix C = I + W^T D^-1 W (the
    Woodbury identity for Sigma^-1 and the determinant lemma det Sigma = det C det D), and
    draws are loc + W eps_m + sqrt(D) eps_k."""

    arg_constraints = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }

    def __init__(
        self, loc: Tensor, cov_factor: Tensor, cov_diag: Tensor, validate_args: bool | None = None
    ) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        k = loc.shape[-1]
        if cov_factor.dim() < 2:
            raise ValueError(
                "cov_factor must be at least two-dimensional, with optional leading batch dimensions"
            )
        if cov_factor.shape[-2] != k:
            raise ValueError(f"cov_factor must be a batch of matrices with shape {k} x m")
        if tuple(cov_diag.shape[-1:]) != (k,):
            raise ValueError(f"cov_diag must be a batch of vectors with shape {loc.shape[-1:]}")
        try:
            batch_shape = ember.broadcast_shapes(loc.shape[:-1], cov_factor.shape[:-2], cov_diag.shape[:-1])
        except RuntimeError as e:
            raise ValueError(
                f"Incompatible batch shapes: loc {loc.size()}, cov_factor {cov_factor.size()}, "
                f"cov_diag {cov_diag.size()}"
            ) from e
        self.loc = loc.expand(*batch_shape, k)
        self.cov_factor = cov_factor.expand(*batch_shape, k, cov_factor.shape[-1])
        self.cov_diag = cov_diag.expand(*batch_shape, k)
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        W_over_D = cov_factor / cov_diag.unsqueeze(-1)
        capacitance = W_over_D.mT @ cov_factor + ember.eye(cov_factor.shape[-1], dtype=cov_factor.dtype)
        self._capacitance_tril = ember.linalg.cholesky(capacitance)
        super().__init__(batch_shape, loc.shape[-1:], validate_args=validate_args)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        W = self._unbroadcasted_cov_factor
        return self._full(W @ W.mT + ember.diag_embed(self._unbroadcasted_cov_diag))

    @lazy_property
    def scale_tril(self) -> Tensor:
        return ember.linalg.cholesky(self.covariance_matrix)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        # Woodbury: Sigma^-1 = D^-1 - D^-1 W C^-1 W^T D^-1, with C^-1 W^T D^-1 = L^-T L^-1 W^T D^-1
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        A = ember.linalg.solve(self._capacitance_tril.tril(), (W / D.unsqueeze(-1)).mT)  # L^-1 W^T D^-1
        return self._full(ember.diag_embed(D.reciprocal()) - A.mT @ A)

    @property
    def variance(self):
        variance = self._unbroadcasted_cov_factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag
        return variance.expand(*self._batch_shape, *self._event_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        m = self._unbroadcasted_cov_factor.shape[-1]
        eps_w = draw("normal", (*shape[:-1], m), self.loc.dtype)
        eps_d = draw("normal", shape, self.loc.dtype)
        low_rank = (self._unbroadcasted_cov_factor @ eps_w.unsqueeze(-1)).squeeze(-1)
        return self.loc + low_rank + self._unbroadcasted_cov_diag.sqrt() * eps_d

    def _log_det(self) -> Tensor:
        """log det Sigma = log det C + log det D."""
        log_det_c = 2 * self._capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return log_det_c + self._unbroadcasted_cov_diag.log().sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        # x^T Sigma^-1 x = x^T D^-1 x - |L^-1 W^T D^-1 x|^2 (Woodbury), x = value - loc
        x = value - self.loc
        D = self._unbroadcasted_cov_diag
        projected = (self._unbroadcasted_cov_factor.mT @ (x / D).unsqueeze(-1)).squeeze(-1)
        mahalanobis = (x.pow(2) / D).sum(-1) - _solve_lower(self._capacitance_tril, projected).pow(2).sum(-1)
        k = self._event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + self._log_det() + mahalanobis)

    def entropy(self) -> Tensor:
        k = self._event_shape[0]
        entropy = 0.5 * (k * (1 + math.log(2 * math.pi)) + self._log_det())
        return entropy.expand(*self._batch_shape) if len(self._batch_shape) else entropy
