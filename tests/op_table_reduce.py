"""Entries of the op table (see tests/op_table.py) for the reduce ops added after the core set."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from op_table import (
    E,
    OpSpec,
    S,
    Shape,
    broadcast,
    dim_of,
    distinct,
    positive,
    real,
    reduce_kw,
    same,
    small_ints,
    with_zeros,
)


def _dim_kw(draw, s: Shape) -> dict:
    return {"dim": dim_of(draw, len(s))}


def with_nans(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    """Distinct values with about a quarter of them NaN."""
    x = distinct(rng, shape, k)
    return np.where(rng.integers(0, 4, shape) == 0, np.nan, x)


def wide(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    """Values spread over [-60, 60]: exp of them overflows float32 in a naive logcumsumexp."""
    return rng.uniform(-60, 60, shape)


def _bits(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    """0s and 1s: repeated slices and runs are frequent."""
    return rng.integers(0, 2, shape).astype(np.float64)


def _search_case(draw, lo: int, hi: int) -> tuple:
    """A sequence sorted along its last dim and values: 1-D boundaries, or the same leading dims."""
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=lo, max_side=hi))
    v = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=lo, max_side=hi))
    if len(s) > 1:
        v = s[:-1] + (draw(st.integers(lo, hi)),)
    return (s, v), {"right": draw(st.booleans())}


def _quantile_kw(draw, s: Shape) -> dict:
    kw = reduce_kw(("absent", "none", "int"))(draw, s)
    kw["interpolation"] = draw(st.sampled_from(["linear", "lower", "higher", "nearest", "midpoint"]))
    if draw(st.booleans()):
        kw["q"] = draw(st.sampled_from([0.0, 0.25, 0.3, 0.5, 0.9, 1.0]))
    else:
        kw["q"] = np.asarray(draw(st.lists(st.floats(0, 1), min_size=1, max_size=3)))
    return kw


def _quantile(name: str):
    def call(T, x, q, **kw):
        if isinstance(q, float):
            return getattr(T, name)(x, q, **kw)
        return getattr(x, name)(q.to(x.dtype), **kw)

    return call


TABLE: list[OpSpec] = [
    # scans
    E("cumprod", lambda T, x, dim: T.cumprod(x, dim), same(kw=_dim_kw), domain=positive),
    E("cumprod(real)", lambda T, x, dim: x.cumprod(dim), same(kw=_dim_kw)),
    E("cumprod(zeros)", lambda T, x, dim: T.cumprod(x, dim=dim), same(kw=_dim_kw), domain=with_zeros),
    E("cummax", lambda T, x, dim: T.cummax(x, dim), same(kw=_dim_kw), domain=distinct),
    E("cummin", lambda T, x, dim: x.cummin(dim=dim), same(kw=_dim_kw), domain=distinct),
    S("cummax(ties)", lambda T, x, dim: x.cummax(dim), same(kw=_dim_kw), domain=small_ints, fd=False),
    S("cummin(ties)", lambda T, x, dim: T.cummin(x, dim), same(kw=_dim_kw), domain=small_ints, fd=False),
    E("logcumsumexp", lambda T, x, dim: T.logcumsumexp(x, dim), same(kw=_dim_kw)),
    E("logcumsumexp(wide)", lambda T, x, dim: x.logcumsumexp(dim), same(kw=_dim_kw), domain=wide, rtol=1e-3),
    # NaN-ignoring and paired reductions
    S("nansum", lambda T, x, **kw: T.nansum(x, **kw), same(kw=reduce_kw()), domain=with_nans, fd=False),
    E("nansum(real)", lambda T, x, **kw: x.nansum(**kw), same(kw=reduce_kw())),
    S("nanmean", lambda T, x, **kw: T.nanmean(x, **kw), same(kw=reduce_kw()), domain=with_nans, fd=False),
    E("nanmean(real)", lambda T, x, **kw: x.nanmean(**kw), same(kw=reduce_kw())),
    E(
        "var_mean",
        lambda T, x, **kw: T.var_mean(x, **kw),
        same(min_dims=1, kw=reduce_kw(correction=st.sampled_from([0, 1, 2]))),
        min_side=3,
    ),
    E(
        "std_mean",
        lambda T, x, **kw: T.std_mean(x, **kw),
        same(min_dims=1, kw=reduce_kw(unbiased=st.booleans())),
        min_side=3,
    ),
    S(
        "count_nonzero",
        lambda T, x, **kw: T.count_nonzero(x.round(), **kw),
        same(kw=reduce_kw(("absent", "none", "int", "tuple"), keepdim=False)),
        differentiable=False,
    ),
    E(
        "aminmax",
        lambda T, x, **kw: T.aminmax(x, **kw),
        same(kw=reduce_kw(("absent", "none", "int"))),
        domain=distinct,
        min_side=1,
    ),
    S(
        "aminmax(ties)",
        lambda T, x, **kw: x.aminmax(**kw),
        same(kw=reduce_kw(("absent", "int"))),
        domain=small_ints,
        fd=False,
        min_side=1,
    ),
    # order statistics
    E("median()", lambda T, x: T.median(x), domain=distinct, min_side=1),
    S("median(ties)", lambda T, x: x.median(), domain=small_ints, fd=False, min_side=1),
    E(
        "median(dim)",
        lambda T, x, **kw: T.median(x, **kw),
        same(kw=reduce_kw(("int",))),
        domain=distinct,
        min_side=1,
    ),
    S("nanmedian()", lambda T, x: x.nanmedian(), domain=with_nans, min_side=1, fd=False),
    E("nanmedian(real)", lambda T, x: T.nanmedian(x), domain=distinct, min_side=1),
    S(
        "nanmedian(dim)",
        lambda T, x, **kw: T.nanmedian(x, **kw),
        same(kw=reduce_kw(("int",))),
        domain=with_nans,
        min_side=1,
        fd=False,
    ),
    E(
        "nanmedian(dim, real)",
        lambda T, x, **kw: x.nanmedian(**kw),
        same(kw=reduce_kw(("int",))),
        domain=distinct,
        min_side=1,
    ),
    S(
        "mode",
        lambda T, x, **kw: T.mode(x, **kw),
        same(kw=reduce_kw(("absent", "int"))),
        domain=small_ints,
        min_side=1,
        fd=False,
    ),
    E(
        "quantile",
        _quantile("quantile"),
        same(kw=_quantile_kw),
        domain=distinct,
        min_side=1,
    ),
    S("nanquantile", _quantile("nanquantile"), same(kw=_quantile_kw), domain=with_nans, min_side=1, fd=False),
    E("nanquantile(real)", _quantile("nanquantile"), same(kw=_quantile_kw), domain=distinct, min_side=1),
    # counting and searching
    S(
        "unique",
        lambda T, x, **kw: T.unique(x, return_inverse=True, return_counts=True, **kw),
        same(kw=lambda d, s: {"sorted": d(st.booleans())}),
        domain=small_ints,
        differentiable=False,
    ),
    S(
        "unique(dim)",
        lambda T, x, dim: x.unique(dim=dim, return_inverse=True, return_counts=True),
        same(min_dims=1, kw=_dim_kw),
        domain=_bits,
        differentiable=False,
        min_side=1,
    ),
    S(
        "unique_consecutive",
        lambda T, x, **kw: T.unique_consecutive(x, return_inverse=True, return_counts=True, **kw),
        same(kw=lambda d, s: {"dim": d(st.sampled_from([None] + list(range(-len(s), len(s)))))}),
        domain=_bits,
        differentiable=False,
        min_side=1,
    ),
    S(
        "bincount",
        lambda T, x: T.bincount(x.abs().long().reshape(-1), minlength=3),
        domain=small_ints,
        differentiable=False,
    ),
    S(
        "bincount(weights)",
        lambda T, x, w: x.abs().long().reshape(-1).bincount(w.reshape(-1)),
        same(2),
        domain=(small_ints, real),
        differentiable=False,
    ),
    S(
        "histc",
        lambda T, x, **kw: T.histc(x, **kw),
        same(
            kw=lambda d, s: {"bins": d(st.integers(1, 6)), "min": d(st.sampled_from([0.0, -1.0])), "max": 1.0}
        ),
        differentiable=False,
    ),
    S("histc(range of data)", lambda T, x: x.histc(bins=5), differentiable=False),
    S(
        "searchsorted",
        lambda T, x, v, **kw: T.searchsorted(x.sort().values, v, **kw),
        _search_case,
        domain=small_ints,
        differentiable=False,
    ),
    S(
        "bucketize",
        lambda T, v, b, **kw: T.bucketize(v, b.reshape(-1).sort().values, **kw),
        broadcast(2),
        domain=small_ints,
        differentiable=False,
    ),
    S(
        "isin",
        lambda T, a, b: T.isin(a, b),
        broadcast(2),
        domain=small_ints,
        differentiable=False,
    ),
    S(
        "isin(invert)",
        lambda T, a, b: T.isin(a, b, invert=True),
        broadcast(2),
        domain=small_ints,
        differentiable=False,
    ),
]
