"""The op table: every public op, described once; tests/test_ops.py runs each entry.

An entry says how to call the op on a module `T` (`ember` or `torch`: the same lambda
serves both, since ember's API is PyTorch's), how to draw its inputs (a `case`: shapes and
keyword arguments, drawn with hypothesis), from which value domain (away from kinks, zeros
and ties where the op needs it), and whether it has a gradient. Keyword arguments that are
NumPy arrays (masks, indices) are turned into tensors of the module being tested.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

Shape = tuple[int, ...]
Draw = Callable[[st.SearchStrategy], Any]
Case = Callable[[Draw, int, int], tuple[tuple[Shape, ...], dict]]
Domain = Callable[[np.random.Generator, Shape, int], np.ndarray]

# ---- value domains: (rng, shape, k) -> float64 values of the k-th tensor input ----------------


def real(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    return rng.standard_normal(shape)


def positive(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    return np.abs(rng.standard_normal(shape)) + 0.5


def nonzero(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    """At least 0.3 away from 0: safe for division, abs, relu and sign."""
    x = rng.standard_normal(shape)
    return np.where(x < 0, x - 0.3, x + 0.3)


def above_minus_one(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    return rng.uniform(-0.7, 2.0, shape)


def distinct(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    """No ties, inside one input or between inputs: input k lives on the grid 0.25 Z + 0.1 k."""
    n = math.prod(shape)
    return ((rng.permutation(n) - n // 2) * 0.25 + 0.1 * k).reshape(shape)


def small_ints(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    """Whole numbers in [-2, 2]: equal elements (ties) are frequent."""
    return rng.integers(-2, 3, shape).astype(np.float64)


def with_zeros(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    """Real values with about a third of them exactly 0 (prod's gradient has a case for zeros)."""
    x = rng.standard_normal(shape)
    return np.where(rng.integers(0, 3, shape) == 0, 0.0, x)


def special(rng: np.random.Generator, shape: Shape, k: int) -> np.ndarray:
    x = rng.standard_normal(shape)
    picks = rng.integers(0, 5, shape)
    return np.select([picks == 0, picks == 1, picks == 2], [np.nan, np.inf, -np.inf], x)


# ---- cases: (draw, min_side, max_side) -> (input shapes, keyword arguments) ---------------------


def _shape(draw: Draw, lo: int, hi: int, min_dims: int = 0, max_dims: int = 3) -> Shape:
    return draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=lo, max_side=hi))


def same(n: int = 1, min_dims: int = 0, max_dims: int = 3, kw: Callable | None = None) -> Case:
    """n inputs of one shape; kw(draw, shape) draws keyword arguments."""

    def case(draw: Draw, lo: int, hi: int) -> tuple:
        s = _shape(draw, lo, hi, min_dims, max_dims)
        return (s,) * n, (kw(draw, s) if kw else {})

    return case


def broadcast(n: int = 2) -> Case:
    """n inputs of mutually broadcastable shapes (0-d included)."""

    def case(draw: Draw, lo: int, hi: int) -> tuple:
        shapes = hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=3, min_side=lo, max_side=hi)
        return tuple(draw(shapes).input_shapes), {}

    return case


def into_first(n: int = 2) -> Case:
    """n inputs whose shapes broadcast to the first one's (in-place style ops need it)."""

    def case(draw: Draw, lo: int, hi: int) -> tuple:
        shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=3, min_side=lo, max_side=hi))
        return (shapes.result_shape,) + tuple(shapes.input_shapes[1:]), {}

    return case


def fixed(*shapes: Shape, **kwargs: Any) -> Case:
    return lambda draw, lo, hi: (shapes, kwargs)


def dim_of(draw: Draw, ndim: int, extra: int = 0) -> int:
    """One dim in [-ndim - extra, ndim + extra); a 0-d tensor accepts 0 and -1."""
    r = max(ndim + extra, 1)
    return draw(st.integers(-r, r - 1))


def dims_of(draw: Draw, ndim: int) -> tuple[int, ...]:
    """Distinct dims, some written negative."""
    if ndim == 0:
        return (draw(st.sampled_from([0, -1])),)
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(d - ndim if draw(st.booleans()) else d for d in chosen)


def reduce_kw(forms: tuple = ("none", "int", "tuple"), keepdim: bool = True, **extra: Any) -> Callable:
    """dim given as None, an int, a tuple, or left out ("absent"); keepdim; extra strategies."""

    def kw(draw: Draw, shape: Shape) -> dict:
        form = draw(st.sampled_from(forms))
        out: dict = {}
        if form != "absent":
            out["dim"] = None
            if form == "int":
                out["dim"] = dim_of(draw, len(shape))
            elif form == "tuple":
                out["dim"] = dims_of(draw, len(shape))
            if keepdim:
                out["keepdim"] = draw(st.booleans())
        out.update({k: draw(s) for k, s in extra.items()})
        return out

    return kw


def _index(draw: Draw, high: int, shape: Shape) -> np.ndarray:
    seed = draw(st.integers(0, 2**31))
    return np.asarray(np.random.default_rng(seed).integers(0, high, shape))


def _mask(draw: Draw, shape: Shape) -> np.ndarray:
    seed = draw(st.integers(0, 2**31))
    return np.asarray(np.random.default_rng(seed).random(shape) < 0.5)


# ---- the table entry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpSpec:
    """One public op. `fn(T, *tensors, **kwargs)` calls it on module T; `torch_fn` only where
    PyTorch spells it differently. `grad_inputs`: the inputs that require grad (all by
    default). `fd`: finite differences apply (False where the op has ties on purpose)."""

    name: str
    fn: Callable[..., Any]
    case: Case
    domain: Domain | tuple[Domain, ...] = real
    differentiable: bool = True
    second_order: bool = False
    grad_inputs: tuple[int, ...] | None = None
    fd: bool = True
    min_side: int = 0
    rtol: float = 1e-4
    atol: float = 1e-5
    torch_fn: Callable[..., Any] | None = None

    def call(self, T: Any, *args: Any, **kwargs: Any) -> Any:
        fn = self.torch_fn if (self.torch_fn is not None and T.__name__ == "torch") else self.fn
        return fn(T, *args, **kwargs)

    def domain_of(self, k: int) -> Domain:
        return self.domain[k] if isinstance(self.domain, tuple) else self.domain


_ONE_INPUT = same()


def S(name: str, fn: Callable, case: Case = _ONE_INPUT, **opts: Any) -> OpSpec:
    return OpSpec(name, fn, case, **opts)


def E(name: str, fn: Callable, case: Case = _ONE_INPUT, **opts: Any) -> OpSpec:
    """An entry whose second derivative is checked too."""
    return OpSpec(name, fn, case, second_order=True, **opts)


def _where_case(draw: Draw, lo: int, hi: int) -> tuple:
    c, a, b = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, min_side=lo, max_side=hi))[0]
    return (a, b), {"cond": _mask(draw, c)}


def _matmul_case(draw: Draw, lo: int, hi: int) -> tuple:
    n, k, m, b, c = (draw(st.integers(lo, hi)) for _ in range(5))
    kind = draw(st.sampled_from(["1x1", "1x2", "2x1", "2x2", "3x2", "2x3", "3x3", "bcast", "1x3", "3x1"]))
    return {
        "1x1": ((k,), (k,)),
        "1x2": ((k,), (k, m)),
        "2x1": ((n, k), (k,)),
        "2x2": ((n, k), (k, m)),
        "3x2": ((b, n, k), (k, m)),
        "2x3": ((n, k), (b, k, m)),
        "3x3": ((b, n, k), (b, k, m)),
        "bcast": ((b, 1, n, k), (c, k, m)),
        "1x3": ((k,), (b, k, m)),
        "3x1": ((b, n, k), (k,)),
    }[kind], {}


def einsum_case(equation: str) -> Case:
    """Shapes for an einsum equation: one size drawn per letter."""

    def case(draw: Draw, lo: int, hi: int) -> tuple:
        size = {c: draw(st.integers(max(lo, 1), hi)) for c in sorted(set(equation) - set(",->"))}
        return tuple(tuple(size[c] for c in part) for part in equation.split("->")[0].split(",")), {}

    return case


def _cat_case(draw: Draw, lo: int, hi: int) -> tuple:
    base = _shape(draw, lo, hi, min_dims=1)
    d = dim_of(draw, len(base))
    sizes = [draw(st.integers(lo, hi)) for _ in range(draw(st.integers(1, 3)))]
    return tuple(base[: d % len(base)] + (n,) + base[d % len(base) + 1 :] for n in sizes), {"dim": d}


def _stack_case(draw: Draw, lo: int, hi: int) -> tuple:
    s = _shape(draw, lo, hi)
    return (s,) * draw(st.integers(1, 3)), {"dim": dim_of(draw, len(s), extra=1)}


def _reshape_kw(draw: Draw, s: Shape) -> dict:
    n = math.prod(s)
    options = [(-1,), (n,), s[::-1], (1,) + s + (1,)]
    if s and s[-1]:
        options.append((-1, s[-1]))
    return {"shape": draw(st.sampled_from(options))}


def _view_as_case(draw: Draw, lo: int, hi: int) -> tuple:
    s = _shape(draw, lo, hi)
    target = _reshape_kw(draw, s)["shape"]
    known = math.prod(n for n in target if n != -1)
    return (s, tuple(math.prod(s) // known if n == -1 else n for n in target)), {}


def _flatten_kw(draw: Draw, s: Shape) -> dict:
    r = max(len(s), 1)
    a, b = sorted([draw(st.integers(0, r - 1)), draw(st.integers(0, r - 1))])
    return {"start_dim": a - r if draw(st.booleans()) else a, "end_dim": b - r if draw(st.booleans()) else b}


def _unflatten_kw(draw: Draw, s: Shape) -> dict:
    d = dim_of(draw, len(s))
    n = s[d]
    options = [(1, n), (n, 1), (-1, 1)] + ([(2, -1)] if n % 2 == 0 and n else [])
    return {"dim": d, "sizes": draw(st.sampled_from(options))}


def _two_dims(draw: Draw, s: Shape) -> dict:
    return {"a": dim_of(draw, len(s)), "b": dim_of(draw, len(s))}


def _select_kw(draw: Draw, s: Shape) -> dict:
    dim = dim_of(draw, len(s))
    return {"dim": dim, "index": draw(st.integers(-s[dim], s[dim] - 1))}


def _sort_kw(draw: Draw, s: Shape) -> dict:
    return {"dim": dim_of(draw, len(s)), "descending": draw(st.booleans())}


def _topk_kw(draw: Draw, s: Shape) -> dict:
    dim = dim_of(draw, len(s))
    return {"k": draw(st.integers(0, s[dim])), "dim": dim, "largest": draw(st.booleans())}


def _permute_kw(draw: Draw, s: Shape) -> dict:
    order = draw(st.permutations(range(len(s))))
    return {"dims": tuple(d - len(s) if draw(st.booleans()) else d for d in order)}


def _expand_kw(draw: Draw, s: Shape) -> dict:
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    sizes = tuple(
        draw(st.sampled_from([-1, 1, 2, 3])) if n == 1 else draw(st.sampled_from([-1, n])) for n in s
    )
    return {"sizes": lead + sizes}


def _expand_as_case(draw: Draw, lo: int, hi: int) -> tuple:
    s = _shape(draw, 1, 2)
    target = _expand_kw(draw, s)["sizes"]
    lead = len(target) - len(s)
    target = tuple(s[i - lead] if n == -1 else n for i, n in enumerate(target))
    return (s, target), {}


def _split_kw(draw: Draw, s: Shape) -> dict:
    d = dim_of(draw, len(s))
    n = s[d]
    if draw(st.booleans()):
        return {"split_size_or_sections": draw(st.integers(1, max(n, 1))), "dim": d}
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    return {"split_size_or_sections": [b - a for a, b in zip([0] + cuts, cuts + [n])], "dim": d}


def _narrow_kw(draw: Draw, s: Shape) -> dict:
    d = dim_of(draw, len(s))
    start = draw(st.integers(0, s[d]))
    length = draw(st.integers(0, s[d] - start))
    return {"dim": d, "start": start - s[d] if start and draw(st.booleans()) else start, "length": length}


def _gather_kw(draw: Draw, s: Shape) -> dict:
    d = dim_of(draw, len(s))
    shape = tuple(
        draw(st.integers(1, 4)) if i == d % len(s) else draw(st.integers(1, n)) for i, n in enumerate(s)
    )
    return {"dim": d, "index": _index(draw, s[d], shape)}


def _scatter_kw(draw: Draw, s: Shape) -> dict:
    """Distinct target positions along dim (scatter with duplicates is unspecified)."""
    d = dim_of(draw, len(s)) % len(s)
    shape = tuple(draw(st.integers(1, n)) for n in s)
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    perms = np.argsort(rng.random(shape[:d] + (s[d],) + shape[d + 1 :]), axis=d)
    index = np.take(perms, range(shape[d]), axis=d)
    return {"dim": d - len(s) if draw(st.booleans()) else d, "index": index}


def _scatter_case(draw: Draw, lo: int, hi: int) -> tuple:
    s = _shape(draw, max(lo, 1), hi, min_dims=1)
    kw = _scatter_kw(draw, s)
    return (s, kw["index"].shape), kw


def _scatter_add_case(draw: Draw, lo: int, hi: int) -> tuple:
    s = _shape(draw, max(lo, 1), hi, min_dims=1)
    kw = _gather_kw(draw, s)
    kw["index"] = _index(draw, s[kw["dim"]], tuple(min(a, b) for a, b in zip(kw["index"].shape, s)))
    return (s, kw["index"].shape), kw


def _masked_fill_case(draw: Draw, lo: int, hi: int) -> tuple:
    (x, m), _ = into_first(2)(draw, lo, hi)
    return (x,), {"mask": _mask(draw, m)}


def _mask_index_case(draw: Draw, lo: int, hi: int) -> tuple:
    """A boolean mask over the leading dims of x (indexing does not broadcast masks)."""
    s = _shape(draw, lo, hi, min_dims=1)
    return (s,), {"mask": _mask(draw, s[: draw(st.integers(1, len(s)))])}


def _flip_kw(draw: Draw, s: Shape) -> dict:
    return {"dims": dims_of(draw, len(s))}


def _roll_kw(draw: Draw, s: Shape) -> dict:
    if draw(st.booleans()) or not s:
        return {"shifts": draw(st.integers(-5, 5)), "dims": None if not s or draw(st.booleans()) else 0}
    dims = dims_of(draw, len(s))
    return {"shifts": tuple(draw(st.integers(-5, 5)) for _ in dims), "dims": dims}


# ---- the table -------------------------------------------------------------------------------

_away = (real, nonzero)

TABLE: list[OpSpec] = [
    # arithmetic, tensor with tensor (broadcasting) and tensor with Python numbers
    E("add", lambda T, a, b: a + b, broadcast()),
    S("add(alpha)", lambda T, a, b: T.add(a, b, alpha=2.5), broadcast()),
    E("sub", lambda T, a, b: a - b, broadcast()),
    E("mul", lambda T, a, b: a * b, broadcast()),
    E("div", lambda T, a, b: a / b, broadcast(), domain=_away),
    S("floordiv", lambda T, a, b: a // b, broadcast(), domain=_away, differentiable=False),
    S("remainder", lambda T, a, b: a % b, broadcast(), domain=_away),
    E("add_scalar", lambda T, x: x + 2.5),
    E("radd", lambda T, x: 2 + x),
    S("sub_scalar", lambda T, x: x - 1),
    E("rsub", lambda T, x: 2.5 - x),
    S("mul_scalar", lambda T, x: x * 3),
    E("rmul", lambda T, x: 0.5 * x),
    S("div_scalar", lambda T, x: x / 4),
    E("rdiv", lambda T, x: 2 / x, domain=nonzero),
    S("floordiv_scalar", lambda T, x: x // 0.7, differentiable=False),
    S("rfloordiv", lambda T, x: 5 // x, domain=nonzero, differentiable=False),
    S("remainder_scalar", lambda T, x: x % 0.7),
    S("rremainder", lambda T, x: 5.5 % x, domain=nonzero, differentiable=False),  # no torch gradient
    E("pow2", lambda T, x: x**2),
    E("pow3", lambda T, x: x**3),
    E("pow_half", lambda T, x: x**0.5, domain=positive),
    E("pow_negative", lambda T, x: x**-1.5, domain=positive),
    S("pow0", lambda T, x: x**0),
    S("pow(fn)", lambda T, x: T.pow(x, 3)),
    E("pow_tensor", lambda T, a, b: a**b, broadcast(), domain=(positive, real)),
    E("rpow", lambda T, x: 2**x),
    E("rpow_float", lambda T, x: 1.5**x),
    E("neg", lambda T, x: -x),
    E("neg(fn)", lambda T, x: T.neg(x)),
    # math functions and activations
    E("exp", lambda T, x: T.exp(x)),
    E("log", lambda T, x: T.log(x), domain=positive),
    E("log1p", lambda T, x: T.log1p(x), domain=above_minus_one),
    E("expm1", lambda T, x: T.expm1(x)),
    E("sqrt", lambda T, x: T.sqrt(x), domain=positive),
    E("rsqrt", lambda T, x: T.rsqrt(x), domain=positive),
    E("abs", lambda T, x: T.abs(x), domain=nonzero),
    E("abs(op)", lambda T, x: abs(x), domain=nonzero),
    S("sign", lambda T, x: T.sign(x), domain=nonzero),
    E("sin", lambda T, x: T.sin(x)),
    E("cos", lambda T, x: T.cos(x)),
    E("tanh", lambda T, x: T.tanh(x)),
    E("sigmoid", lambda T, x: T.sigmoid(x)),
    E("relu", lambda T, x: T.relu(x), domain=nonzero),
    E("reciprocal", lambda T, x: T.reciprocal(x), domain=nonzero),
    E("square", lambda T, x: T.square(x)),
    E("clamp", lambda T, x: T.clamp(x, -0.6, 0.7), domain=distinct),
    S("clamp(min)", lambda T, x: x.clamp(min=-0.6), domain=distinct),
    S("clamp(max)", lambda T, x: x.clamp(max=0.7), domain=distinct),
    S("clip", lambda T, x: T.clip(x, -0.6, 0.7), domain=distinct),
    S("clamp(tensors)", lambda T, x, lo, hi: T.clamp(x, lo, hi), into_first(3), domain=distinct),
    E("maximum", lambda T, a, b: T.maximum(a, b), broadcast(), domain=distinct),
    E("minimum", lambda T, a, b: T.minimum(a, b), broadcast(), domain=distinct),
    E("where", lambda T, a, b, cond: T.where(cond, a, b), _where_case),
    S("where(scalar)", lambda T, x, mask: T.where(mask, x, 0.0), _masked_fill_case),
    E("log2", lambda T, x: T.log2(x), domain=positive),
    E("log10", lambda T, x: x.log10(), domain=positive),
    E("tan", lambda T, x: T.tan(x * 0.5)),
    S("floor", lambda T, x: T.floor(x)),
    S("ceil", lambda T, x: x.ceil()),
    S("round", lambda T, x: T.round(x)),
    # comparisons and tests: no gradient
    S("eq", lambda T, a, b: a == b, broadcast(), domain=small_ints, differentiable=False),
    S("ne", lambda T, a, b: a != b, broadcast(), domain=small_ints, differentiable=False),
    S("lt", lambda T, a, b: a < b, broadcast(), domain=small_ints, differentiable=False),
    S("le", lambda T, a, b: T.le(a, b), broadcast(), domain=small_ints, differentiable=False),
    S("gt", lambda T, a, b: T.gt(a, b), broadcast(), domain=small_ints, differentiable=False),
    S("ge", lambda T, a, b: a >= b, broadcast(), domain=small_ints, differentiable=False),
    S("gt_scalar", lambda T, x: x > 0, domain=small_ints, differentiable=False),
    S("isnan", lambda T, x: T.isnan(x), domain=special, differentiable=False),
    S("isinf", lambda T, x: x.isinf(), domain=special, differentiable=False),
    S("logical_and", lambda T, a, b: T.logical_and(a > 0, b > 0), broadcast(), differentiable=False),
    S("logical_or", lambda T, a, b: (a > 0).logical_or(b > 0), broadcast(), differentiable=False),
    S("logical_xor", lambda T, a, b: T.logical_xor(a > 0, b > 0), broadcast(), differentiable=False),
    S("logical_not", lambda T, x: T.logical_not(x > 0), differentiable=False),
    S("isclose", lambda T, a, b: T.isclose(a, b), broadcast(), domain=small_ints, differentiable=False),
    S("isfinite", lambda T, x: T.isfinite(x), domain=special, differentiable=False),
    # reductions
    E("sum", lambda T, x, **kw: T.sum(x, **kw), same(kw=reduce_kw())),
    E("sum()", lambda T, x: x.sum()),
    E("mean", lambda T, x, **kw: T.mean(x, **kw), same(kw=reduce_kw())),
    E("prod", lambda T, x, **kw: T.prod(x, **kw), same(kw=reduce_kw(("absent", "int")))),
    E(
        "prod(zeros)",
        lambda T, x, **kw: T.prod(x, **kw),
        same(kw=reduce_kw(("absent", "int"))),
        domain=with_zeros,
    ),
    E("max()", lambda T, x: x.max(), domain=distinct, min_side=1),
    E("min()", lambda T, x: T.min(x), domain=distinct, min_side=1),
    E(
        "max(dim)",
        lambda T, x, **kw: T.max(x, **kw),
        same(kw=reduce_kw(("int",))),
        domain=distinct,
        min_side=1,
    ),
    E("min(dim)", lambda T, x, **kw: x.min(**kw), same(kw=reduce_kw(("int",))), domain=distinct, min_side=1),
    S("max(ties)", lambda T, x: x.max(), domain=small_ints, fd=False, min_side=1),
    E(
        "amax",
        lambda T, x, **kw: T.amax(x, **kw),
        same(kw=reduce_kw(("int", "tuple"))),
        domain=distinct,
        min_side=1,
    ),
    E(
        "amin",
        lambda T, x, **kw: T.amin(x, **kw),
        same(kw=reduce_kw(("absent", "int", "tuple"))),
        domain=distinct,
        min_side=1,
    ),
    S(
        "amax(ties)",
        lambda T, x, **kw: T.amax(x, **kw),
        same(kw=reduce_kw(("int", "tuple"))),
        domain=small_ints,
        fd=False,
        min_side=1,
    ),
    S(
        "argmax",
        lambda T, x, **kw: T.argmax(x, **kw),
        same(kw=reduce_kw(("absent", "int"))),
        domain=distinct,
        min_side=1,
        differentiable=False,
    ),
    S(
        "argmin",
        lambda T, x, **kw: x.argmin(**kw),
        same(kw=reduce_kw(("absent", "int"))),
        domain=distinct,
        min_side=1,
        differentiable=False,
    ),
    E(
        "var",
        lambda T, x, **kw: T.var(x, **kw),
        same(min_dims=1, kw=reduce_kw(unbiased=st.booleans())),
        min_side=3,
    ),
    E(
        "var(correction)",
        lambda T, x, **kw: x.var(**kw),
        same(min_dims=1, kw=reduce_kw(correction=st.sampled_from([0, 1, 2]))),
        min_side=3,
    ),
    E(
        "std",
        lambda T, x, **kw: T.std(x, **kw),
        same(min_dims=1, kw=reduce_kw(unbiased=st.booleans())),
        min_side=3,
    ),
    E(
        "std(correction)",
        lambda T, x, **kw: x.std(**kw),
        same(min_dims=1, kw=reduce_kw(correction=st.sampled_from([0, 1, 2]))),
        min_side=3,
    ),
    E("logsumexp", lambda T, x, **kw: T.logsumexp(x, **kw), same(kw=reduce_kw(("int", "tuple"))), min_side=1),
    E(
        "norm",
        lambda T, x, **kw: T.norm(x, **kw),
        same(kw=reduce_kw(p=st.sampled_from([2, 1, 3, 2.5]))),
        domain=nonzero,
        min_side=1,
    ),
    E("norm(fro)", lambda T, x, **kw: x.norm("fro", **kw), same(kw=reduce_kw(("none", "int"))), min_side=1),
    S(
        "norm(inf)",
        lambda T, x, **kw: x.norm(p=float("inf"), **kw),
        same(kw=reduce_kw()),
        domain=distinct,
        min_side=1,
    ),
    S(
        "all",
        lambda T, x, **kw: T.all(x > 0, **kw),
        same(kw=reduce_kw(("absent", "int", "tuple"))),
        differentiable=False,
    ),
    S(
        "any",
        lambda T, x, **kw: (x > 0).any(**kw),
        same(kw=reduce_kw(("absent", "int", "tuple"))),
        differentiable=False,
    ),
    E("cumsum", lambda T, x, dim: T.cumsum(x, dim), same(kw=lambda d, s: {"dim": dim_of(d, len(s))})),
    S("sort", lambda T, x, **kw: x.sort(**kw), same(kw=_sort_kw), domain=distinct),
    S(
        "argsort",
        lambda T, x, **kw: x.argsort(**kw),
        same(kw=_sort_kw),
        domain=distinct,
        differentiable=False,
    ),
    S("topk", lambda T, x, **kw: x.topk(**kw), same(min_dims=1, kw=_topk_kw), domain=distinct),
    S("nonzero", lambda T, x: (x > 0).nonzero(), differentiable=False),
    S(
        "nonzero(as_tuple)",
        lambda T, x: (x > 0).nonzero(as_tuple=True),
        same(min_dims=1),
        differentiable=False,
    ),
    E("softmax", lambda T, x, dim: T.softmax(x, dim), same(kw=lambda d, s: {"dim": dim_of(d, len(s))})),
    E(
        "log_softmax",
        lambda T, x, dim: x.log_softmax(dim=dim),
        same(kw=lambda d, s: {"dim": dim_of(d, len(s))}),
    ),
    # shapes and indexing
    S("reshape", lambda T, x, shape: T.reshape(x, shape), same(kw=_reshape_kw)),
    S("view", lambda T, x, shape: x.view(*shape) if shape else x.view(shape), same(kw=_reshape_kw)),
    S("view_as", lambda T, x, y: x.view_as(y), _view_as_case, grad_inputs=(0,)),
    S("flatten", lambda T, x, **kw: T.flatten(x, **kw), same(kw=_flatten_kw)),
    S("unflatten", lambda T, x, **kw: x.unflatten(**kw), same(min_dims=1, kw=_unflatten_kw)),
    S(
        "squeeze",
        lambda T, x, **kw: T.squeeze(x, **kw),
        same(kw=reduce_kw(("absent", "int", "tuple"), keepdim=False)),
    ),
    S(
        "unsqueeze",
        lambda T, x, dim: x.unsqueeze(dim),
        same(kw=lambda d, s: {"dim": dim_of(d, len(s), extra=1) if s else d(st.sampled_from([0, -1]))}),
    ),
    S(
        "transpose",
        lambda T, x, a, b: T.transpose(x, a, b),
        same(kw=lambda d, s: {"a": dim_of(d, len(s)), "b": dim_of(d, len(s))}),
    ),
    S("permute", lambda T, x, dims: x.permute(*dims) if dims else x.permute(dims), same(kw=_permute_kw)),
    S("permute(fn)", lambda T, x, dims: T.permute(x, dims), same(kw=_permute_kw)),
    S("t", lambda T, x: x.t(), same(max_dims=2)),
    S("T", lambda T, x: x.T, same(min_dims=2, max_dims=2)),
    S("mT", lambda T, x: x.mT, same(min_dims=2)),
    S("swapaxes", lambda T, x, a, b: x.swapaxes(a, b), same(min_dims=1, kw=_two_dims)),
    S("movedim", lambda T, x, a, b: T.movedim(x, a, b), same(min_dims=1, kw=_two_dims)),
    S("select", lambda T, x, **kw: T.select(x, **kw), same(min_dims=1, kw=_select_kw), min_side=1),
    S(
        "unbind",
        lambda T, x, dim: T.unbind(x, dim),
        same(min_dims=1, kw=lambda d, s: {"dim": dim_of(d, len(s))}),
    ),
    S("broadcast_to", lambda T, x, sizes: T.broadcast_to(x, sizes), same(kw=_expand_kw), min_side=1),
    S("hstack", lambda T, *xs: T.hstack(xs), same(n=2, min_dims=1)),
    S("vstack", lambda T, *xs: T.vstack(xs), same(n=2, min_dims=1, max_dims=2)),
    S(
        "expand",
        lambda T, x, sizes: x.expand(*sizes) if sizes else x.expand(sizes),
        same(kw=_expand_kw),
        min_side=1,
    ),
    S("expand_as", lambda T, x, y: x.expand_as(y), _expand_as_case, grad_inputs=(0,)),
    S(
        "repeat",
        lambda T, x, reps: x.repeat(*reps) if reps else x.repeat(reps),
        same(
            kw=lambda d, s: {
                "reps": tuple(d(st.lists(st.integers(1, 3), min_size=len(s), max_size=len(s) + 2)))
            }
        ),
    ),
    S("cat", lambda T, *xs, dim: T.cat(xs, dim=dim), _cat_case),
    S("stack", lambda T, *xs, dim: T.stack(xs, dim), _stack_case),
    S("split", lambda T, x, **kw: T.split(x, **kw), same(min_dims=1, kw=_split_kw)),
    S(
        "chunk",
        lambda T, x, **kw: x.chunk(**kw),
        same(min_dims=1, kw=lambda d, s: {"chunks": d(st.integers(1, 4)), "dim": dim_of(d, len(s))}),
        min_side=1,
    ),
    S("narrow", lambda T, x, **kw: T.narrow(x, **kw), same(min_dims=1, kw=_narrow_kw)),
    S("gather", lambda T, x, **kw: T.gather(x, **kw), same(min_dims=1, kw=_gather_kw), min_side=1),
    S("scatter", lambda T, x, src, **kw: x.scatter(src=src, **kw), _scatter_case),
    S(
        "scatter(value)",
        lambda T, x, **kw: T.scatter(x, value=1.5, **kw),
        same(min_dims=1, kw=_scatter_kw),
        min_side=1,
    ),
    S("scatter_add", lambda T, x, src, **kw: x.scatter_add(src=src, **kw), _scatter_add_case),
    S(
        "index_select",
        lambda T, x, **kw: T.index_select(x, **kw),
        same(
            min_dims=1,
            kw=lambda d, s: (lambda dim: {"dim": dim, "index": _index(d, s[dim], (d(st.integers(0, 5)),))})(
                dim_of(d, len(s))
            ),
        ),
        min_side=1,
    ),
    S("masked_fill", lambda T, x, mask: x.masked_fill(mask, -1.5), _masked_fill_case),
    S("masked_fill(0-d)", lambda T, x, mask: T.masked_fill(x, mask, T.tensor(2.0)), _masked_fill_case),
    S("tril", lambda T, x, k: T.tril(x, k), same(min_dims=2, kw=lambda d, s: {"k": d(st.integers(-2, 2))})),
    S(
        "triu",
        lambda T, x, k: x.triu(diagonal=k),
        same(min_dims=2, kw=lambda d, s: {"k": d(st.integers(-2, 2))}),
    ),
    S("flip", lambda T, x, dims: T.flip(x, dims), same(kw=_flip_kw)),
    S("roll", lambda T, x, **kw: T.roll(x, **kw), same(kw=_roll_kw)),
    S("getitem[int]", lambda T, x: x[1], fixed((3, 4, 2))),
    S("getitem[slices]", lambda T, x: x[-1, 1:3, ::2], fixed((3, 4, 5))),
    S("getitem[None, ...]", lambda T, x: x[None, ..., 1, None], fixed((3, 4, 5))),
    S("getitem[list]", lambda T, x: x[[0, 2, 0, 0]], fixed((3, 4))),
    S("getitem[lists]", lambda T, x: x[[0, 1, 1], [2, 2, 0]], fixed((3, 4))),
    S("getitem[slice, list]", lambda T, x: x[1:, [3, 0, 3]], fixed((3, 4, 2))),
    S("getitem[tensor]", lambda T, x, i: x[i], fixed((4, 3), i=np.array([[3, 0], [3, 3]]))),
    S(
        "getitem[mask]",
        lambda T, x, m: x[m],
        fixed((3, 4), m=np.array([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 0, 1]], bool)),
    ),
    S("getitem[mask]", lambda T, x, mask: x[mask], _mask_index_case),
    S("getitem[mask rows]", lambda T, x, m: x[m], fixed((3, 4), m=np.array([True, False, True]))),
    S("getitem[..., mask]", lambda T, x, m: x[..., m], fixed((2, 4), m=np.array([True, False, True, True]))),
    S("setitem[slice]=tensor", lambda T, x, v: _set(x, (slice(1, 3), 0), v), fixed((3, 4, 2), (2,))),
    S("setitem[int]=number", lambda T, x: _set(x, 1, 2.5), fixed((3, 4))),
    S("setitem[list]=tensor", lambda T, x, v: _set(x, [2, 0], v), fixed((3, 4), (4,))),
    S("setitem[mask]=number", lambda T, x, mask: _set(x, mask, 0.0), _mask_index_case),
    # products
    E("matmul", lambda T, a, b: T.matmul(a, b), _matmul_case),
    E("@", lambda T, a, b: a @ b, _matmul_case),
    E("mm", lambda T, a, b: T.mm(a, b), einsum_case("ij,jk->ik")),
    E("bmm", lambda T, a, b: a.bmm(b), einsum_case("bij,bjk->bik")),
    E("dot", lambda T, a, b: T.dot(a, b), einsum_case("i,i->")),
    E("outer", lambda T, a, b: T.outer(a, b), einsum_case("i,j->ij")),
    *(
        E(f"einsum[{eq}]", lambda T, *xs, eq=eq: T.einsum(eq, *xs), einsum_case(eq))
        for eq in ("ij,jk->ik", "bij,bjk->bik", "i,i->", "ij->ji", "ij->j", "i,j->ij", "bi,i->b")
    ),
]


def _set(x: Any, index: Any, value: Any) -> Any:
    """x[index] = value on a copy that is part of the graph (setitem is recorded)."""
    y = x * 1
    y[index] = value
    return y
