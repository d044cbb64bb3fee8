"""The ops of ops/api/extra.py and ops/api/linalg.py, and kthvalue, fmax/fmin, sinc, the
one-argument where and the dtype functions, compared with PyTorch: values, dtypes, shapes,
gradients (and gradcheck in float64), and errors."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch

nan, inf = float("nan"), float("inf")


def _leaves(*arrays: Any) -> tuple[list, list]:
    """The same float64 data as ember and torch leaves that require grad."""
    import torch

    data = [np.asarray(a, dtype=np.float64) for a in arrays]
    return (
        [ember.tensor(a, requires_grad=True) for a in data],
        [torch.tensor(a, requires_grad=True) for a in data],
    )


def _compare_grads(fn_ember: Any, fn_torch: Any, *arrays: Any, seed: int = 1) -> None:
    """Values and the gradients of a random weighting of the outputs, ember against torch."""
    import torch

    es, ts = _leaves(*arrays)
    e, t = fn_ember(*es), fn_torch(*ts)
    assert_close(e, t, rtol=1e-10, atol=1e-12)
    assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    w = np.random.default_rng(seed).normal(size=tuple(t.shape))
    (e * ember.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    for a, b in zip(es, ts):
        expected = b.grad if b.grad is not None else torch.zeros_like(b)
        assert_close(a.grad if a.grad is not None else ember.zeros_like(a), expected, rtol=1e-9, atol=1e-12)


# ---- where(condition), repeat_interleave --------------------------------------------------------


@requires_torch
def test_where_with_condition_alone_is_nonzero_as_tuple() -> None:
    import torch

    for c in ([[0, 1], [2, 0]], [[True, False, True]], 1, 0):
        e, t = ember.where(ember.tensor(c)), torch.where(torch.tensor(c))
        assert len(e) == len(t)
        for a, b in zip(e, t):
            assert a.dtype == ember.int64
            assert_close(a, b)
    with pytest.raises(TypeError, match="where"):
        ember.where(ember.tensor([True]), ember.tensor([1]))


@requires_torch
def test_repeat_interleave_values() -> None:
    import torch

    x = np.arange(6).reshape(2, 3)
    cases = [(2, None), (2, 0), (2, 1), ([1, 2], 0), ([0, 1, 3], -1), ([2], 0)]
    for repeats, dim in cases:
        re = ember.tensor(repeats) if isinstance(repeats, list) else repeats
        rt = torch.tensor(repeats) if isinstance(repeats, list) else repeats
        e = ember.repeat_interleave(ember.tensor(x), re, dim)
        t = torch.repeat_interleave(torch.tensor(x), rt, dim)
        assert e.dtype == ember.int64
        assert_close(e, t)
    assert_close(ember.tensor(5.0).repeat_interleave(3), torch.tensor(5.0).repeat_interleave(3))
    one = ember.repeat_interleave(ember.tensor([1, 0, 2], dtype=ember.int32))
    assert one.dtype == ember.int32
    assert_close(one, torch.repeat_interleave(torch.tensor([1, 0, 2], dtype=torch.int32)))
    assert ember.repeat_interleave(ember.tensor(x), 2, 0, output_size=4).shape == (4, 3)


@requires_torch
def test_repeat_interleave_gradient() -> None:
    import torch

    x = np.random.default_rng(0).normal(size=(2, 3))
    _compare_grads(
        lambda a: a.repeat_interleave(ember.tensor([3, 0, 1]), dim=1),
        lambda a: a.repeat_interleave(torch.tensor([3, 0, 1]), dim=1),
        x,
    )
    _compare_grads(lambda a: ember.repeat_interleave(a, 2), lambda a: torch.repeat_interleave(a, 2), x)
    a = ember.tensor(x, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: a.repeat_interleave(ember.tensor([2, 1]), dim=0), (a,))


def test_repeat_interleave_errors() -> None:
    x = ember.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"repeats.size\(0\) = 3 and input.size\(0\) = 2"):
        ember.repeat_interleave(x, ember.tensor([1, 2, 3]), dim=0)
    with pytest.raises(RuntimeError, match="non-negative"):
        ember.repeat_interleave(x, -1)
    with pytest.raises(RuntimeError, match="0-dim or 1-dim"):
        ember.repeat_interleave(x, ember.tensor([[1]]), dim=0)
    with pytest.raises(NotImplementedError, match="repeat_interleave"):
        ember.repeat_interleave(x, ember.tensor([1.0, 2.0]), dim=0)
    with pytest.raises(RuntimeError, match="Invalid output_size, expected 4 but got 3"):
        ember.repeat_interleave(x, 2, dim=0, output_size=3)
    with pytest.raises(RuntimeError, match="1D vector"):
        ember.repeat_interleave(ember.tensor(3))


# ---- inner, mv, dist, cdist, renorm --------------------------------------------------------------


@requires_torch
def test_inner_and_mv_values_and_gradients() -> None:
    import torch

    rng = np.random.default_rng(0)
    for sa, sb in [((3,), (3,)), ((2, 3), (4, 3)), ((2, 1, 3), (3,)), ((), (2, 3))]:
        _compare_grads(ember.inner, torch.inner, rng.normal(size=sa), rng.normal(size=sb))
    _compare_grads(lambda m, v: m.mv(v), lambda m, v: m.mv(v), rng.normal(size=(2, 3)), rng.normal(size=3))
    assert_close(ember.tensor([[1, 2], [3, 4]]).inner(ember.tensor([1, 1])), torch.tensor([3, 7]))
    a, b = (ember.tensor(rng.normal(size=s), requires_grad=True) for s in ((2, 3), (4, 3)))
    assert ember.autograd.gradcheck(ember.inner, (a, b))


def test_inner_and_mv_errors() -> None:
    with pytest.raises(RuntimeError, match=r"inner.*\[2, 3\] and \[4, 2\]"):
        ember.inner(ember.ones(2, 3), ember.ones(4, 2))
    with pytest.raises(RuntimeError, match="inner.*same dtype"):
        ember.inner(ember.ones(3, dtype=ember.int64), ember.ones(3))
    with pytest.raises(RuntimeError, match=r"mv.*\(2x3\), vec \(4\)"):
        ember.mv(ember.ones(2, 3), ember.ones(4))
    with pytest.raises(RuntimeError, match="mv.*2-D matrix and a 1-D vector, got 2-D and 2-D"):
        ember.mv(ember.ones(2, 3), ember.ones(3, 1))


@requires_torch
@pytest.mark.parametrize("p", [0, 0.5, 1, 1.5, 2, 3, inf])
def test_cdist_values_and_gradients_at_zero_distances_and_ties(p: float) -> None:
    import torch

    # pairs at distance 0, coordinates that tie for the largest, single zero differences
    x1 = [[1.0, 3.0, 0.0], [0.0, 0.0, 0.0]]
    x2 = [[0.0, 2.0, 1.0], [0.0, 0.0, 0.0], [1.0, 3.0, 0.0]]
    _compare_grads(lambda a, b: ember.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), x1, x2)


@requires_torch
@pytest.mark.parametrize("p", [1, 2, 3, inf])
def test_cdist_broadcasts_batches(p: float) -> None:
    import torch

    rng = np.random.default_rng(2)
    x1, x2 = rng.normal(size=(1, 4, 3)), rng.normal(size=(2, 5, 3))
    _compare_grads(lambda a, b: ember.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), x1, x2)
    e = ember.cdist(ember.ones(2, 3), ember.ones(4, 3, dtype=ember.float32).float())
    assert e.shape == (2, 4) and e.dtype == ember.float32


@pytest.mark.parametrize("p", [0.5, 1, 2, 3, inf])
def test_cdist_gradcheck(p: float) -> None:
    rng = np.random.default_rng(3)
    a = ember.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
    b = ember.tensor(rng.normal(size=(2, 2, 4)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: ember.cdist(a, b, p), (a, b))


@pytest.mark.parametrize("p", [1.5, 2, 3])
def test_cdist_second_derivative(p: float) -> None:
    """PyTorch has none (`_cdist_backward` is not differentiable): check ember's against
    finite differences of its first derivative."""
    rng = np.random.default_rng(4)
    a = ember.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    b = ember.tensor(rng.normal(size=(2, 2)), requires_grad=True)

    def gradient(a: Any, b: Any) -> Any:
        return ember.autograd.grad((ember.cdist(a, b, p) ** 2).sum(), (a, b), create_graph=True)

    assert ember.autograd.gradcheck(gradient, (a, b))


def test_cdist_errors() -> None:
    with pytest.raises(RuntimeError, match="at least 2D tensors, X1 got: 1D"):
        ember.cdist(ember.ones(3), ember.ones(3))
    with pytest.raises(RuntimeError, match="same number of columns. X1: 3 X2: 4"):
        ember.cdist(ember.ones(2, 3), ember.ones(2, 4))
    with pytest.raises(RuntimeError, match="floating-point dtypes, X1 got"):
        ember.cdist(ember.ones(2, 3, dtype=ember.int64), ember.ones(2, 3, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="non-negative p"):
        ember.cdist(ember.ones(2, 3), ember.ones(2, 3), p=-1)
    with pytest.raises(RuntimeError, match=r"cdist.*\[2, 2, 3\].*\[3, 2, 3\]"):
        ember.cdist(ember.ones(2, 2, 3), ember.ones(3, 2, 3))


@requires_torch
@pytest.mark.parametrize("p", [0, 0.5, 1, 2, 3, inf])
def test_dist_values_and_gradients(p: float) -> None:
    import torch

    x = [[1.0, -1.0, 0.0], [2.0, 1.0, -2.0]]
    y = [0.0, 0.0, 1.0]
    if p == 0:  # torch gives no gradient at all there; ember's is zeros
        e = ember.dist(ember.tensor(x), ember.tensor(y), 0)
        assert_close(e, torch.dist(torch.tensor(x), torch.tensor(y), 0))
        return
    _compare_grads(lambda a, b: a.dist(b, p), lambda a, b: a.dist(b, p), x, y)
    _compare_grads(lambda a, b: ember.dist(a, b, p), lambda a, b: torch.dist(a, b, p), y, y)
    a = ember.tensor(np.array(x), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: ember.dist(a, ember.tensor(y, dtype=ember.float64), p), (a,))


def test_dist_errors() -> None:
    with pytest.raises(RuntimeError, match="dist.*floating point"):
        ember.dist(ember.ones(3, dtype=ember.int64), ember.ones(3, dtype=ember.int64))
    with pytest.raises(RuntimeError, match=r"\[2, 3\].*\[4\]"):
        ember.dist(ember.ones(2, 3), ember.ones(4))


@requires_torch
@pytest.mark.parametrize(("p", "dim", "maxnorm"), [(2, 0, 1.0), (1, 1, 2.0), (3, -1, 0.5), (inf, 0, 1.5)])
def test_renorm_values_and_gradients(p: float, dim: int, maxnorm: float) -> None:
    import torch

    x = np.random.default_rng(5).normal(size=(3, 4)) * [[0.1], [1.0], [3.0]]
    _compare_grads(lambda a: a.renorm(p, dim, maxnorm), lambda a: a.renorm(p, dim, maxnorm), x)
    _compare_grads(lambda a: ember.renorm(a, p, 1, 0.5), lambda a: torch.renorm(a, p, 1, 0.5), x[:1])
    a = ember.tensor(x, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: ember.renorm(a, p, dim, maxnorm), (a,))


def test_renorm_errors() -> None:
    with pytest.raises(RuntimeError, match="renorm: non-positive-norm"):
        ember.renorm(ember.ones(2, 3), -1, 0, 1)
    with pytest.raises(RuntimeError, match="renorm: expected maxnorm to be >= 0"):
        ember.renorm(ember.ones(2, 3), 2, 0, -1)
    with pytest.raises(RuntimeError, match="renorm: input needs at least 2 dimensions, got 1"):
        ember.renorm(ember.ones(3), 2, 0, 1)
    with pytest.raises(RuntimeError, match="renorm.*floating point"):
        ember.renorm(ember.ones(2, 3, dtype=ember.int64), 2, 0, 1)


# ---- fmax, fmin, sinc, kthvalue -----------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_values_and_gradients(name: str) -> None:
    import torch

    a = [1.0, nan, 2.0, nan, 3.0, -1.0]
    b = [nan, 1.0, 2.0, nan, 1.0, 5.0]  # NaN either side, both, a tie, and ordinary pairs
    _compare_grads(getattr(ember, name), getattr(torch, name), a, b)
    _compare_grads(lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), [[1.0], [4.0]], b)
    e = getattr(ember, name)(ember.tensor([1, 2]), ember.tensor([1.5, nan]))
    t = getattr(torch, name)(torch.tensor([1, 2]), torch.tensor([1.5, nan]))
    assert e.dtype == ember.float32
    assert_close(e, t)
    assert getattr(ember, name)(ember.tensor([3]), ember.tensor([2])).dtype == ember.int64
    x, y = (
        ember.tensor(v, dtype=ember.float64, requires_grad=True) for v in ([1.0, 2.5, -1.0], [0.5, 3.0, 4.0])
    )
    assert ember.autograd.gradcheck(getattr(ember, name), (x, y))


def test_fmax_errors() -> None:
    with pytest.raises(TypeError, match="fmax.*must be Tensor, not int"):
        ember.fmax(ember.ones(2), 2)
    with pytest.raises(RuntimeError, match=r"fmin.*\[2\].*\[3\]"):
        ember.fmin(ember.ones(2), ember.ones(3))


@requires_torch
def test_sinc_values_and_gradients() -> None:
    import torch

    x = [0.0, 0.5, -1.0, 2.0, 1e-3, -3.25, 10.0]
    _compare_grads(ember.sinc, torch.sinc, x)
    _compare_grads(lambda a: a.sinc(), lambda a: a.sinc(), [[0.0, 0.25]])
    for data in ([0, 1, 2], np.linspace(-3, 3, 13, dtype=np.float32)):
        e, t = ember.sinc(ember.tensor(data)), torch.sinc(torch.tensor(data))
        assert e.dtype == ember.float32
        assert_close(e, t)
    a = ember.tensor([0.3, -1.7, 2.2], requires_grad=True, dtype=ember.float64)
    assert ember.autograd.gradcheck(ember.sinc, (a,))


@requires_torch
@pytest.mark.parametrize(("k", "dim", "keepdim"), [(1, -1, False), (3, 1, True), (2, 0, False)])
def test_kthvalue_values_indices_and_gradient(k: int, dim: int, keepdim: bool) -> None:
    import torch

    x = np.random.default_rng(6).permutation(12).reshape(3, 4).astype(np.float64)  # no ties
    e = ember.kthvalue(ember.tensor(x), k, dim, keepdim)
    t = torch.kthvalue(torch.tensor(x), k, dim, keepdim)
    assert_close(e.values, t.values)
    assert_close(e.indices, t.indices)
    assert e.indices.dtype == ember.int64
    _compare_grads(lambda a: a.kthvalue(k, dim, keepdim)[0], lambda a: a.kthvalue(k, dim, keepdim)[0], x)
    a = ember.tensor(x, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: ember.kthvalue(a, k, dim, keepdim).values, (a,))


@requires_torch
def test_kthvalue_nan_ties_and_scalars() -> None:
    import torch

    e = ember.kthvalue(ember.tensor([3.0, nan, 2.0]), 3)
    t = torch.kthvalue(torch.tensor([3.0, nan, 2.0]), 3)
    assert math.isnan(e.values.item()) and e.indices.item() == t.indices.item()
    # the value is PyTorch's among ties; the index may be another of the tied elements
    assert ember.kthvalue(ember.tensor([1, 1, 1, 1]), 2).values.item() == 1
    e = ember.kthvalue(ember.tensor(3.0), 1)
    assert e.values.shape == () and e.indices.item() == 0


def test_kthvalue_errors() -> None:
    for k in (0, 4):
        with pytest.raises(RuntimeError, match="kthvalue.*k out of range for dimension 0"):
            ember.kthvalue(ember.tensor([3.0, 1.0, 2.0]), k)
    with pytest.raises(IndexError, match="kthvalue"):
        ember.kthvalue(ember.ones(2, 3), 1, dim=2)


# ---- bit shifts, dtypes, is_inference ------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8"])
def test_shifts_match_torch_including_out_of_range_counts(dtype: str) -> None:
    import torch

    x = [1, 5, -8, 127, 0, -1, 3, 64] if dtype != "uint8" else [1, 5, 8, 127, 0, 255, 3, 64]
    n = [0, 1, 2, 3, 7, 8, 70, -1]
    et, tt = getattr(ember, dtype), getattr(torch, dtype)
    ex, tx = ember.tensor(x, dtype=et), torch.tensor(x, dtype=tt)
    en, tn = ember.tensor(n, dtype=et), torch.tensor(n, dtype=tt)
    for e, t in [
        (ex << en, tx << tn),
        (ex >> en, tx >> tn),
        (ex << 2, tx << 2),
        (ex >> 1, tx >> 1),
        (ember.bitwise_left_shift(ex, 9), torch.bitwise_left_shift(tx, 9)),
        (ex.bitwise_right_shift(70), tx.bitwise_right_shift(70)),
    ]:
        assert e.dtype == et
        assert_close(e, t)


@requires_torch
def test_shift_promotion_reflected_and_inplace() -> None:
    import torch

    assert_close(2 << ember.tensor([1, 3]), 2 << torch.tensor([1, 3]))
    assert_close(64 >> ember.tensor([1, 3]), 64 >> torch.tensor([1, 3]))
    e, t = ember.tensor([True, False]) << 1, torch.tensor([True, False]) << 1
    assert e.dtype == ember.int64
    assert_close(e, t)
    x = ember.tensor([1, 2], dtype=ember.int8)
    alias = x
    x <<= 2
    assert x is alias and x.tolist() == [4, 8] and x.dtype == ember.int8
    x >>= 1
    assert alias.tolist() == [2, 4]
    with pytest.raises(NotImplementedError, match="lshift_cpu.*Float"):
        ember.tensor([1.5]) << 1
    with pytest.raises(NotImplementedError, match="rshift_cpu.*Float"):
        ember.tensor([1]) >> 1.5


@requires_torch
def test_promote_types_and_can_cast_match_torch() -> None:
    import torch

    names = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
    for a, b in itertools.product(names, names):
        ea, eb, ta, tb = getattr(ember, a), getattr(ember, b), getattr(torch, a), getattr(torch, b)
        assert str(ember.promote_types(ea, eb)) == str(torch.promote_types(ta, tb)).replace("torch", "ember")
        assert ember.can_cast(ea, eb) == torch.can_cast(ta, tb), (a, b)
    assert ember.result_type(ember.tensor([1]), 1.0) == ember.float32
    assert (
        ember.result_type(ember.tensor([1], dtype=ember.uint8), ember.tensor([1], dtype=ember.int8))
        == ember.int16
    )


def test_is_inference_names_the_tensors_made_under_inference_mode() -> None:
    """Tensors made under inference_mode (and their views) are inference tensors."""
    assert not ember.ones(2).is_inference()
    with ember.inference_mode():
        t = ember.ones(2)
    assert t.is_inference() and ember.is_inference(t) and t[0].is_inference()
    assert not t.clone().is_inference()


# ---- masked_scatter, index_put ----------------------------------------------------------------


@requires_torch
def test_masked_scatter_values_and_gradients() -> None:
    import torch

    mask = np.array([[True, False, True], [False, False, True]])
    x, source = np.arange(6.0).reshape(2, 3), np.arange(10.0, 18.0).reshape(2, 4)
    for m in (mask, mask[0]):
        _compare_grads(
            lambda a, s, m=m: a.masked_scatter(ember.tensor(m), s),
            lambda a, s, m=m: a.masked_scatter(torch.tensor(m), s),
            x,
            source,
        )
    # the mask broadcasts the input too (out of place only)
    _compare_grads(
        lambda a, s: ember.masked_scatter(a, ember.tensor(mask), s),
        lambda a, s: torch.masked_scatter(a, torch.tensor(mask), s),
        x[0],
        source,
    )
    none = np.zeros((2, 3), bool)
    _compare_grads(
        lambda a, s: a.masked_scatter(ember.tensor(none), s),
        lambda a, s: a.masked_scatter(torch.tensor(none), s),
        x,
        source,
    )
    a = ember.tensor(x, requires_grad=True)
    s = ember.tensor(source, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, s: a.masked_scatter(ember.tensor(mask), s), (a, s))


@requires_torch
def test_masked_scatter_in_place() -> None:
    import torch

    mask = [True, False, True]
    e, t = ember.ones(2, 3), torch.ones(2, 3)
    e.masked_scatter_(ember.tensor(mask), ember.arange(9.0))
    t.masked_scatter_(torch.tensor(mask), torch.arange(9.0))
    assert_close(e, t)
    with pytest.raises(RuntimeError, match=r"masked_scatter_.*\[2, 3\].*\[3\]"):
        ember.ones(3).masked_scatter_(ember.tensor([mask, mask]), ember.arange(9.0))


def test_masked_scatter_errors() -> None:
    x = ember.ones(3)
    with pytest.raises(
        RuntimeError, match=r"Number of elements of source \(2\) < number of ones in mask \(3\)"
    ):
        x.masked_scatter(ember.tensor([True, True, True]), ember.tensor([5.0, 6.0]))
    with pytest.raises(RuntimeError, match="masked_scatter.*boolean masks"):
        x.masked_scatter(ember.tensor([1, 0, 1]), ember.tensor([5.0, 6.0, 7.0]))
    with pytest.raises(RuntimeError, match="masked_scatter.*same dtypes"):
        x.masked_scatter(ember.tensor([True, False, True]), ember.tensor([5, 6, 7]))


@requires_torch
@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_values_and_gradients(accumulate: bool) -> None:
    import torch

    x = np.arange(12.0).reshape(3, 4)
    rows, cols = [0, 2, 2], [1, 3, 0]
    index_e, index_t = (ember.tensor(rows), ember.tensor(cols)), (torch.tensor(rows), torch.tensor(cols))
    _compare_grads(
        lambda a, v: a.index_put(index_e, v, accumulate),
        lambda a, v: a.index_put(index_t, v, accumulate),
        x,
        [10.0, 20.0, 30.0],
    )
    # a row index only, a broadcast value, a boolean index
    _compare_grads(
        lambda a, v: ember.index_put(a, (ember.tensor([2, 0]),), v, accumulate=accumulate),
        lambda a, v: torch.index_put(a, (torch.tensor([2, 0]),), v, accumulate=accumulate),
        x,
        [1.0, 2.0, 3.0, 4.0],
    )
    mask = [True, False, True]
    _compare_grads(
        lambda a, v: a.index_put((ember.tensor(mask),), v, accumulate),
        lambda a, v: a.index_put((torch.tensor(mask),), v, accumulate),
        x,
        5.0,
    )
    a = ember.tensor(x, requires_grad=True)
    v = ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, v: a.index_put(index_e, v, accumulate), (a, v))


@requires_torch
def test_index_put_accumulates_repeated_indices_in_place() -> None:
    import torch

    e, t = ember.zeros(3), torch.zeros(3)
    out = e.index_put_((ember.tensor([0, 0, 2]),), ember.tensor(1.0), accumulate=True)
    t.index_put_((torch.tensor([0, 0, 2]),), torch.tensor(1.0), accumulate=True)
    assert out is e
    assert_close(e, t)
    leaf = ember.zeros(3, requires_grad=True)
    y = leaf * 1
    y.index_put_((ember.tensor([1]),), ember.tensor(7.0))
    y.sum().backward()
    assert leaf.grad.tolist() == [1.0, 0.0, 1.0]


def test_index_put_errors() -> None:
    x = ember.zeros(3)
    with pytest.raises(RuntimeError, match=r"index_put.*shape \[2\].*shape \[3\]"):
        x.index_put((ember.tensor([0, 0, 2]),), ember.tensor([1.0, 2.0]))
    with pytest.raises(IndexError, match="index_put.*5 is out of bounds"):
        x.index_put((ember.tensor([0, 5]),), ember.tensor(1.0))
    with pytest.raises(RuntimeError, match="index_put.*dtypes match"):
        x.index_put((ember.tensor([0]),), ember.tensor(1))
    with pytest.raises(IndexError, match="long, int, byte or bool"):
        x.index_put((ember.tensor([0.0]),), ember.tensor(1.0))
    with pytest.raises(TypeError, match="tuple of Tensors"):
        x.index_put(ember.tensor([0]), ember.tensor(1.0))


def test_masked_fill_with_a_tensor_value_of_another_dtype_keeps_the_inputs(T: Any) -> None:
    # a float64 0-d value that requires grad made ember's result float64; PyTorch's is the
    # input's dtype, and the value's gradient its own
    x = T.zeros(3, requires_grad=True)
    v = T.tensor(2.0, dtype=T.float64, requires_grad=True)
    mask = T.tensor([True, False, True])
    y = x.masked_fill(mask, v)
    assert y.dtype == T.float32 and x.index_fill(0, T.tensor([1]), v).dtype == T.float32
    y.sum().backward()
    assert v.grad.dtype == T.float64 and v.grad.item() == 2.0
    with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor"):
        x.masked_fill(mask, T.tensor([1.0, 2.0, 3.0]))


def test_scatter_and_scatter_add_refuse_a_src_of_another_dtype(T: Any) -> None:
    x, index = T.zeros(3), T.tensor([0, 2])
    src = T.ones(2, dtype=T.float64)
    for call in (lambda: x.scatter(0, index, src), lambda: x.scatter_add_(0, index, src)):
        with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
            call()


@pytest.mark.parametrize(
    "call",
    [
        lambda T, x: x.gather(0, T.tensor(0)),
        lambda T, x: x.gather(-1, T.tensor([0, 0])),
        lambda T, x: x.index_select(0, T.tensor([0])),
        lambda T, x: x.index_add(0, T.tensor([0]), T.tensor(2.0, dtype=T.float64), alpha=3),
        lambda T, x: x.index_copy(0, T.tensor([0]), T.tensor(2.0, dtype=T.float64)),
        lambda T, x: x.index_fill(0, T.tensor(0), 2.0),
        lambda T, x: x.scatter(0, T.tensor(0), T.tensor(2.0, dtype=T.float64)),
        lambda T, x: x.scatter(0, T.tensor([0]), 5.0),
        lambda T, x: x.scatter_add(0, T.tensor(0), T.tensor(2.0, dtype=T.float64)),
        lambda T, x: x.scatter_reduce(0, T.tensor([0]), T.tensor([2.0], dtype=T.float64), "amax"),
        lambda T, x: (x * 1).index_add_(0, T.tensor([0]), T.tensor(2.0, dtype=T.float64)),
    ],
)
@requires_torch
def test_gather_scatter_and_index_ops_take_a_0d_input_as_one_element(call: Any) -> None:
    # PyTorch takes a 0-d input (dim 0 or -1) as a vector of one element; ember refused it
    import torch

    results = []
    for T in (ember, torch):
        x = T.tensor(3.0, dtype=T.float64, requires_grad=True)
        y = call(T, x)
        y.sum().backward()
        results.append((tuple(y.shape), y.tolist(), x.grad.tolist()))
    assert results[0] == results[1]


@requires_torch
@pytest.mark.parametrize(
    "shapes", [((0,), (0,)), ((2, 0), (3, 0)), ((2, 3, 0), (0,)), ((0, 3), (2, 3)), ((0, 0), (0, 0))]
)
def test_inner_of_empty_operands_as_torch(shapes):
    """A last dim of 0 made inner's reshape(-1, 0) fail: it cannot infer -1 beside a 0."""
    import torch

    got = []
    for T in (ember, torch):
        a = T.ones(*shapes[0], dtype=T.float64, requires_grad=True)
        b = T.ones(*shapes[1], dtype=T.float64, requires_grad=True)
        y = T.inner(a, b)
        y.sum().backward()
        got.append((tuple(y.shape), y.detach().numpy().tolist(), tuple(a.grad.shape), tuple(b.grad.shape)))
    assert got[0] == got[1]
