"""Entries of the op table (see tests/op_table.py) for the math ops added after the core set."""

from __future__ import annotations

import numpy as np

from op_table import (
    E,
    OpSpec,
    S,
    Shape,
    broadcast,
    into_first,
    nonzero,
    positive,
    real,
    same,
    small_ints,
    special,
)


def inside_one(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    """Values in (-0.9, 0.9): the domain of asin, acos, atanh and erfinv, away from its ends."""
    return rng.uniform(-0.9, 0.9, shape)


def above_one(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    return np.abs(rng.standard_normal(shape)) + 1.2


def probability(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    return rng.uniform(0.05, 0.95, shape)


def away_from_ints(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    """Reals at least 0.1 away from the integers (trunc, frac and fmod jump there)."""
    x = rng.uniform(-3, 3, shape)
    return np.trunc(x) + np.sign(x) * (0.1 + 0.8 * np.abs(x - np.trunc(x)))


def signed_zeros(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    """Reals with some exact zeros of both signs."""
    x = rng.standard_normal(shape)
    picks = rng.integers(0, 4, shape)
    return np.select([picks == 0, picks == 1], [0.0, -0.0], x)


def _fmod_divisor(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    """Divisors for which a / b stays away from the integers (inputs from away_from_ints)."""
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0) * rng.choice([7.0, 9.0], shape)


TABLE: list[OpSpec] = [
    # error function
    E("erf", lambda T, x: T.erf(x)),
    E("erfc", lambda T, x: x.erfc()),
    S("erfc(tail)", lambda T, x: T.erfc(x * 3 + 3), rtol=1e-3),
    E("erfinv", lambda T, x: T.erfinv(x), domain=inside_one),
    # hyperbolic and inverse trigonometric
    E("sinh", lambda T, x: T.sinh(x)),
    E("cosh", lambda T, x: x.cosh()),
    E("asin", lambda T, x: T.asin(x), domain=inside_one),
    S("arcsin", lambda T, x: x.arcsin(), domain=inside_one),
    E("acos", lambda T, x: T.acos(x), domain=inside_one),
    S("arccos", lambda T, x: T.arccos(x), domain=inside_one),
    E("atan", lambda T, x: T.atan(x)),
    S("arctan", lambda T, x: x.arctan()),
    E("asinh", lambda T, x: T.asinh(x)),
    S("arcsinh", lambda T, x: T.arcsinh(x)),
    E("acosh", lambda T, x: T.acosh(x), domain=above_one),
    S("arccosh", lambda T, x: x.arccosh(), domain=above_one),
    E("atanh", lambda T, x: T.atanh(x), domain=inside_one),
    S("arctanh", lambda T, x: T.arctanh(x), domain=inside_one),
    # binary math
    E("atan2", lambda T, a, b: T.atan2(a, b), broadcast(), domain=nonzero),
    S("arctan2", lambda T, a, b: a.arctan2(b), broadcast(), domain=nonzero),
    E("hypot", lambda T, a, b: T.hypot(a, b), broadcast(), domain=nonzero),
    E("fmod", lambda T, a, b: T.fmod(a, b), broadcast(), domain=(away_from_ints, _fmod_divisor)),
    S("fmod_scalar", lambda T, x: x.fmod(0.7), domain=away_from_ints, fd=False),
    E("logaddexp", lambda T, a, b: T.logaddexp(a, b), broadcast()),
    E("logaddexp2", lambda T, a, b: a.logaddexp2(b), broadcast()),
    E("xlogy", lambda T, a, b: T.xlogy(a, b), broadcast(), domain=(real, positive)),
    S("xlogy(zeros)", lambda T, a, b: T.xlogy(a, b), broadcast(), domain=(signed_zeros, positive), fd=False),
    S("xlogy_scalar", lambda T, x: T.xlogy(x, 2.5)),
    E("copysign", lambda T, a, b: T.copysign(a, b), broadcast(), domain=nonzero),
    S("copysign(zeros)", lambda T, a, b: a.copysign(b), broadcast(), domain=signed_zeros, fd=False),
    S("copysign_scalar", lambda T, x: x.copysign(-1.0), domain=nonzero),
    E("exp2", lambda T, x: T.exp2(x)),
    S("trunc", lambda T, x: T.trunc(x), domain=away_from_ints),
    S("fix", lambda T, x: x.fix(), domain=away_from_ints),
    E("frac", lambda T, x: T.frac(x), domain=away_from_ints),
    # interpolation and fused multiply-add
    E("lerp", lambda T, a, b: T.lerp(a, b, 0.3), broadcast()),
    E("lerp(tensor)", lambda T, a, b, w: a.lerp(b, w), broadcast(3)),
    E("addcmul", lambda T, a, b, c: T.addcmul(a, b, c, value=0.5), broadcast(3)),
    S("addcmul(default)", lambda T, a, b, c: a.addcmul(b, c), broadcast(3)),
    E("addcdiv", lambda T, a, b, c: T.addcdiv(a, b, c, value=-2), broadcast(3), domain=(real, real, nonzero)),
    S("addcdiv(default)", lambda T, a, b, c: a.addcdiv(b, c), broadcast(3), domain=(real, real, nonzero)),
    E("logit", lambda T, x: T.logit(x), domain=probability),
    S("logit(eps)", lambda T, x: x.logit(eps=0.2), domain=probability, fd=False),
    E("deg2rad", lambda T, x: T.deg2rad(x)),
    E("rad2deg", lambda T, x: x.rad2deg()),
    # piecewise, special values, no gradient
    S("sgn", lambda T, x: T.sgn(x), domain=nonzero),
    S("signbit", lambda T, x: T.signbit(x), domain=signed_zeros, differentiable=False),
    S("heaviside", lambda T, a, b: T.heaviside(a, b), broadcast(), domain=small_ints, differentiable=False),
    S("nan_to_num", lambda T, x: T.nan_to_num(x), domain=special, fd=False),
    S("nan_to_num(values)", lambda T, x: x.nan_to_num(1.5, 2.0, -3.0), domain=special, fd=False),
    E("float_power", lambda T, a, b: T.float_power(a, b), broadcast(), domain=(positive, real)),
    S("float_power_scalar", lambda T, x: x.float_power(2)),
    # in-place forms, on a non-leaf so that they are recorded
    S("lerp_", lambda T, a, b: (a * 1).lerp_(b, 0.25), into_first()),
    S("addcmul_", lambda T, a, b, c: (a * 1).addcmul_(b, c, value=3), into_first(3)),
    S(
        "addcdiv_",
        lambda T, a, b, c: (a * 1).addcdiv_(b, c, value=0.5),
        into_first(3),
        domain=(real, real, nonzero),
    ),
    S("trunc_", lambda T, x: (x * 1).trunc_(), domain=away_from_ints),
    S("frac_", lambda T, x: (x * 1).frac_(), domain=away_from_ints),
    S("fmod_", lambda T, a, b: (a * 1).fmod_(b), into_first(), domain=(away_from_ints, _fmod_divisor)),
    S("atan2_", lambda T, a, b: (a * 1).atan2_(b), into_first(), domain=nonzero),
    S("nan_to_num_", lambda T, x: (x * 1).nan_to_num_(), domain=special, fd=False),
    S("erf(int)", lambda T, x: T.erf(x.long()), same(), domain=small_ints, differentiable=False),
]
