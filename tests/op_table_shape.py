"""Entries of the op table (see tests/op_table.py) for the shape ops added after the core set:
diagonals, tiling, grids, splits, index updates and products."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st

from op_table import (
    Case,
    Draw,
    E,
    OpSpec,
    S,
    Shape,
    _index,
    _mask,
    _scatter_add_case,
    _scatter_case,
    _shape,
    broadcast,
    dim_of,
    einsum_case,
    fixed,
    same,
)

# ---- cases -----------------------------------------------------------------------------------


def _two_dims(draw: Draw, ndim: int) -> tuple[int, int]:
    """Two distinct dims of an ndim-d tensor, each maybe written negative."""
    a, b = draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2, unique=True))
    return tuple(d - ndim if draw(st.booleans()) else d for d in (a, b))


def _offset(draw: Draw) -> int:
    return draw(st.integers(-3, 3))


def _diagonal_kw(draw: Draw, s: Shape) -> dict:
    dim1, dim2 = _two_dims(draw, len(s))
    return {"offset": _offset(draw), "dim1": dim1, "dim2": dim2}


def _diag_embed_kw(draw: Draw, s: Shape) -> dict:
    dim1, dim2 = _two_dims(draw, len(s) + 1)
    return {"offset": _offset(draw), "dim1": dim1, "dim2": dim2}


def _masked_select_case(draw: Draw, lo: int, hi: int) -> tuple:
    x, m = broadcast(2)(draw, lo, hi)[0]
    return (x,), {"mask": _mask(draw, m)}


def _take_kw(draw: Draw, s: Shape) -> dict:
    n = int(np.prod(s))
    seed = draw(st.integers(0, 2**31))
    shape = _shape(draw, 0, 3, max_dims=2)
    return {"index": np.random.default_rng(seed).integers(-n, n, shape)}


def _take_along_case(draw: Draw, lo: int, hi: int) -> tuple:
    """indices of the input's rank, broadcasting against it outside dim."""
    s = _shape(draw, max(lo, 1), hi, min_dims=1)
    d = dim_of(draw, len(s)) % len(s)
    shape = tuple(
        draw(st.integers(1, 3)) if i == d else draw(st.sampled_from([1, n])) for i, n in enumerate(s)
    )
    x = tuple(1 if i != d and draw(st.booleans()) else n for i, n in enumerate(s))
    return (x,), {"indices": _index(draw, s[d], shape), "dim": d - len(s) if draw(st.booleans()) else d}


def _grid_case(draw: Draw, lo: int, hi: int) -> tuple:
    return tuple((draw(st.integers(lo, hi)),) for _ in range(draw(st.integers(1, 3)))), {}


def _scaled_kw(draw: Draw) -> dict:
    return {"beta": draw(st.sampled_from([1, 0, 0.5])), "alpha": draw(st.sampled_from([1, 2.0, -0.5]))}


def _addmm_case(draw: Draw, lo: int, hi: int) -> tuple:
    n, k, p = (draw(st.integers(max(lo, 1), hi)) for _ in range(3))
    bias = draw(st.sampled_from([(n, p), (p,), (1, p), (n, 1), ()]))
    return (bias, (n, k), (k, p)), _scaled_kw(draw)


def _addmv_case(draw: Draw, lo: int, hi: int) -> tuple:
    n, k = (draw(st.integers(max(lo, 1), hi)) for _ in range(2))
    return (draw(st.sampled_from([(n,), (1,), ()])), (n, k), (k,)), _scaled_kw(draw)


def _baddbmm_case(draw: Draw, lo: int, hi: int) -> tuple:
    b, n, k, p = (draw(st.integers(max(lo, 1), hi)) for _ in range(4))
    bias = draw(st.sampled_from([(b, n, p), (n, p), (1, 1, p), ()]))
    return (bias, (b, n, k), (b, k, p)), _scaled_kw(draw)


def _cross_case(draw: Draw, lo: int, hi: int) -> tuple:
    s = list(_shape(draw, max(lo, 1), hi, min_dims=1))
    d = dim_of(draw, len(s)) % len(s)
    s[d] = 3
    t = [1 if i != d and draw(st.booleans()) else n for i, n in enumerate(s)]
    return (tuple(s), tuple(t)), {"dim": d - len(s) if draw(st.booleans()) else d}


def _kron_case(draw: Draw, lo: int, hi: int) -> tuple:
    return (_shape(draw, lo, hi, max_dims=3), _shape(draw, lo, hi, max_dims=2)), {}


def _index_update_case(distinct: bool) -> Case:
    """x, source and a 1-d index along dim (distinct positions where the op overwrites)."""

    def case(draw: Draw, lo: int, hi: int) -> tuple:
        s = _shape(draw, max(lo, 1), hi, min_dims=1)
        d = dim_of(draw, len(s)) % len(s)
        rng = np.random.default_rng(draw(st.integers(0, 2**31)))
        if distinct:
            index = rng.permutation(s[d])[: draw(st.integers(0, s[d]))]
        else:
            index = rng.integers(0, s[d], draw(st.integers(0, 4)))
        src = s[:d] + (len(index),) + s[d + 1 :]
        return (s, src), {"dim": d - len(s) if draw(st.booleans()) else d, "index": index}

    return case


def _index_fill_case(draw: Draw, lo: int, hi: int) -> tuple:
    (s, _), kw = _index_update_case(False)(draw, lo, hi)
    return (s,), kw


def _rot90_kw(draw: Draw, s: Shape) -> dict:
    return {"k": draw(st.integers(-5, 5)), "dims": list(_two_dims(draw, len(s)))}


def _diff_kw(draw: Draw, s: Shape) -> dict:
    return {"n": draw(st.integers(0, 3)), "dim": dim_of(draw, len(s))}


def _diff_ends_case(draw: Draw, lo: int, hi: int) -> tuple:
    s = _shape(draw, lo, hi, min_dims=1)
    d = dim_of(draw, len(s)) % len(s)
    ends = [s[:d] + (draw(st.integers(0, 2)),) + s[d + 1 :] for _ in range(2)]
    return (s, *ends), {"dim": d, "n": draw(st.integers(1, 2))}


def _tensor_split_kw(draw: Draw, s: Shape) -> dict:
    d = dim_of(draw, len(s))
    n = s[d]
    if draw(st.booleans()):
        return {"cuts": draw(st.integers(1, 4)), "dim": d}
    cuts = draw(st.lists(st.integers(-n - 1, n + 1), max_size=3))
    return {"cuts": cuts, "dim": d}


def _even_split_kw(axis: int) -> Callable:
    def kw(draw: Draw, s: Shape) -> dict:
        n = s[axis if len(s) > 1 else 0]
        sections = [k for k in range(1, n + 1) if n % k == 0] or [1]
        if draw(st.booleans()) and n:
            return {"cuts": draw(st.sampled_from(sections))}
        return {"cuts": sorted(draw(st.lists(st.integers(0, n), max_size=3)))}

    return kw


def _block_diag_case(draw: Draw, lo: int, hi: int) -> tuple:
    return tuple(_shape(draw, lo, hi, max_dims=2) for _ in range(draw(st.integers(1, 3)))), {}


def _unfold_kw(draw: Draw, s: Shape) -> dict:
    d = dim_of(draw, len(s))
    n = s[d] if s else 1
    return {"dimension": d, "size": draw(st.integers(0, n)), "step": draw(st.integers(1, 3))}


def _tri_indices_case(draw: Draw, lo: int, hi: int) -> tuple:
    return (), {
        "row": draw(st.integers(0, 5)),
        "col": draw(st.integers(0, 5)),
        "offset": draw(st.integers(-6, 6)),
    }


# ---- entries --------------------------------------------------------------------------------------

TABLE: list[OpSpec] = [
    E(
        "diag(vector)",
        lambda T, x, **kw: T.diag(x, **kw),
        same(min_dims=1, max_dims=1, kw=lambda d, s: {"diagonal": _offset(d)}),
    ),
    E(
        "diag(matrix)",
        lambda T, x, **kw: x.diag(**kw),
        same(min_dims=2, max_dims=2, kw=lambda d, s: {"diagonal": _offset(d)}),
    ),
    E("diagonal", lambda T, x, **kw: T.diagonal(x, **kw), same(min_dims=2, max_dims=4, kw=_diagonal_kw)),
    E("diag_embed", lambda T, x, **kw: x.diag_embed(**kw), same(min_dims=1, max_dims=3, kw=_diag_embed_kw)),
    E("trace", lambda T, x: x.trace(), same(min_dims=2, max_dims=2)),
    E(
        "tile",
        lambda T, x, reps: T.tile(x, reps),
        same(kw=lambda d, s: {"reps": tuple(d(st.lists(st.integers(0, 3), max_size=4)))}),
    ),
    E("masked_select", lambda T, x, mask: T.masked_select(x, mask), _masked_select_case),
    E("take", lambda T, x, index: x.take(index), same(kw=_take_kw), min_side=1),
    E("take_along_dim", lambda T, x, **kw: T.take_along_dim(x, **kw), _take_along_case),
    E(
        "take_along_dim(None)",
        lambda T, x, indices: x.take_along_dim(indices),
        same(min_dims=1, kw=lambda d, s: {"indices": _index(d, int(np.prod(s)), (d(st.integers(0, 4)),))}),
        min_side=1,
    ),
    E("meshgrid(ij)", lambda T, *xs: T.meshgrid(*xs, indexing="ij"), _grid_case),
    E("meshgrid(xy)", lambda T, *xs: T.meshgrid(list(xs), indexing="xy"), _grid_case),
    E("tensordot(int)", lambda T, a, b: T.tensordot(a, b, dims=2), einsum_case("ijk,jkl->il")),
    E(
        "tensordot(lists)",
        lambda T, a, b: T.tensordot(a, b, dims=([2, 0], [0, 1])),
        einsum_case("ijk,kil->jl"),
    ),
    E("tensordot(0)", lambda T, a, b: T.tensordot(a, b, dims=0), einsum_case("ij,k->ijk")),
    E("addmm", lambda T, c, a, b, **kw: T.addmm(c, a, b, **kw), _addmm_case),
    E("addmv", lambda T, c, a, b, **kw: c.addmv(a, b, **kw), _addmv_case),
    E("baddbmm", lambda T, c, a, b, **kw: T.baddbmm(c, a, b, **kw), _baddbmm_case),
    E("cross", lambda T, a, b, dim: T.cross(a, b, dim=dim), _cross_case),
    E("cross(method)", lambda T, a, b: a.cross(b, dim=-1), fixed((2, 3), (2, 3))),
    E("kron", lambda T, a, b: T.kron(a, b), _kron_case),
    E(
        "index_add",
        lambda T, x, src, **kw: T.index_add(x, source=src, alpha=1.5, **kw),
        _index_update_case(False),
    ),
    E(
        "index_add_",
        lambda T, x, src, **kw: (x * 1).index_add_(kw["dim"], kw["index"], src),
        _index_update_case(False),
    ),
    E(
        "index_copy",
        lambda T, x, src, **kw: x.index_copy(kw["dim"], kw["index"], src),
        _index_update_case(True),
    ),
    E(
        "index_copy_",
        lambda T, x, src, **kw: (x * 1).index_copy_(kw["dim"], kw["index"], src),
        _index_update_case(True),
    ),
    E("index_fill", lambda T, x, **kw: T.index_fill(x, value=-2.0, **kw), _index_fill_case),
    E("index_fill_", lambda T, x, **kw: (x * 1).index_fill_(kw["dim"], kw["index"], 3.0), _index_fill_case),
    S("scatter_", lambda T, x, src, **kw: (x * 1).scatter_(src=src, **kw), _scatter_case),
    S("scatter_add_", lambda T, x, src, **kw: (x * 1).scatter_add_(src=src, **kw), _scatter_add_case),
    E("rot90", lambda T, x, **kw: T.rot90(x, **kw), same(min_dims=2, kw=_rot90_kw)),
    E("rot90(default)", lambda T, x: x.rot90(), same(min_dims=2)),
    E("diff", lambda T, x, **kw: x.diff(**kw), same(min_dims=1, kw=_diff_kw)),
    E(
        "diff(prepend, append)",
        lambda T, x, p, a, **kw: T.diff(x, prepend=p, append=a, **kw),
        _diff_ends_case,
    ),
    E(
        "tensor_split",
        lambda T, x, cuts, dim: T.tensor_split(x, cuts, dim),
        same(min_dims=1, kw=_tensor_split_kw),
    ),
    E("hsplit", lambda T, x, cuts: T.hsplit(x, cuts), same(min_dims=1, kw=_even_split_kw(1))),
    E("vsplit", lambda T, x, cuts: x.vsplit(cuts), same(min_dims=2, kw=_even_split_kw(0))),
    E("column_stack", lambda T, *xs: T.column_stack(xs), same(n=2, max_dims=2)),
    E("dstack", lambda T, *xs: T.dstack(xs), same(n=2, max_dims=3)),
    E("row_stack", lambda T, *xs: T.row_stack(xs), same(n=2, min_dims=1, max_dims=2)),
    E("broadcast_tensors", lambda T, *xs: T.broadcast_tensors(*xs), broadcast(3)),
    # min_side=1: PyTorch's backward misplaces the gradient after an empty block (its forward is right)
    E("block_diag", lambda T, *xs: T.block_diag(*xs), _block_diag_case, min_side=1),
    E("cartesian_prod", lambda T, *xs: T.cartesian_prod(*xs), _grid_case),
    S("tril_indices", lambda T, **kw: T.tril_indices(**kw), _tri_indices_case, differentiable=False),
    S("triu_indices", lambda T, **kw: T.triu_indices(**kw), _tri_indices_case, differentiable=False),
    E("unfold", lambda T, x, **kw: x.unfold(**kw), same(kw=_unfold_kw)),
]
