"""Every op of tests/op_table.py checked three ways: against PyTorch (forward values, dtypes,
requires_grad, and the gradient of a random weighted sum of the outputs, in float32), against
finite differences (gradcheck in float64), and for its second derivative (gradgradcheck, and
double backward compared with PyTorch)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from conftest import assert_close, requires_torch
from op_table import TABLE as CORE_TABLE
from op_table import OpSpec
from op_table_math import TABLE as MATH_TABLE
from op_table_reduce import TABLE as REDUCE_TABLE
from op_table_shape import TABLE as SHAPE_TABLE

# EMBER_OP_EXAMPLES=10 runs ten times more (and new random) examples: for hunting bugs.
_SCALE = int(os.environ.get("EMBER_OP_EXAMPLES", "1"))


def _settings(n: int) -> settings:
    return settings(
        max_examples=n * _SCALE,
        deadline=None,
        derandomize=_SCALE == 1,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


def _ids(spec: OpSpec) -> str:
    return spec.name


TABLE = CORE_TABLE + MATH_TABLE + SHAPE_TABLE + REDUCE_TABLE
DIFFERENTIABLE = [s for s in TABLE if s.differentiable and s.fd]
SECOND_ORDER = [s for s in TABLE if s.second_order]


# ---- drawing and building inputs -------------------------------------------------------------


def _draw(spec: OpSpec, data: Any, lo: int, hi: int) -> tuple[list, dict, np.random.Generator]:
    lo = max(lo, spec.min_side)
    shapes, kwargs = spec.case(data.draw, lo, max(hi, lo))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31), label="seed"))
    arrays = [spec.domain_of(k)(rng, s, k) for k, s in enumerate(shapes)]
    return arrays, kwargs, rng


def _build(T: Any, spec: OpSpec, arrays: list, kwargs: dict, dtype: Any, grad: bool) -> tuple[list, dict]:
    wanted = range(len(arrays)) if spec.grad_inputs is None else spec.grad_inputs
    xs = [
        T.tensor(a.astype(dtype), requires_grad=grad and spec.differentiable and k in wanted)
        for k, a in enumerate(arrays)
    ]
    kw = {k: T.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return xs, kw


def _outputs(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _dtype_name(t: Any) -> str:
    return str(t.dtype).split(".")[-1]


def _weighted_sum(T: Any, outs: list, weights: list) -> Any:
    """sum(out * w) over the outputs that carry a gradient; None when none does."""
    total = None
    for o, w in zip(outs, weights):
        if o.requires_grad:
            term = (o * T.tensor(w, dtype=o.dtype)).sum()
            total = term if total is None else total + term
    return total


def _numpy(t: Any) -> np.ndarray:
    """The values of a tensor; PyTorch's second derivatives may be lazy zero tensors."""
    return t.detach().numpy(force=True) if "torch" in type(t).__module__ else t.detach().numpy()


def _assert_grads(e_grads: list, t_grads: list, rtol: float, atol: float) -> None:
    """Compare gradients; a missing gradient (None) counts as zeros."""
    for i, (e, t) in enumerate(zip(e_grads, t_grads)):
        if e is None and t is None:
            continue
        if e is None or t is None:
            assert np.allclose(_numpy(e if t is None else t), 0, atol=atol), (
                f"input {i}: one gradient is None"
            )
            continue
        assert _dtype_name(e) == _dtype_name(t), f"input {i}: gradient dtype {e.dtype} != {t.dtype}"
        assert_close(e, _numpy(t), rtol=rtol, atol=atol)


# ---- against PyTorch ------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("spec", TABLE, ids=_ids)
@_settings(12)
@given(data=st.data())
def test_matches_torch(spec: OpSpec, data: Any) -> None:
    """Forward values, dtypes, requires_grad and first gradients equal PyTorch's (float32)."""
    import torch

    arrays, kwargs, rng = _draw(spec, data, 0, 4)
    e_in, e_kw = _build(ember, spec, arrays, kwargs, np.float32, True)
    t_in, t_kw = _build(torch, spec, arrays, kwargs, np.float32, True)
    e_out = _outputs(spec.call(ember, *e_in, **e_kw))
    t_out = _outputs(spec.call(torch, *t_in, **t_kw))
    assert len(e_out) == len(t_out)
    for e, t in zip(e_out, t_out):
        assert _dtype_name(e) == _dtype_name(t), f"dtype {e.dtype} != {t.dtype}"
        assert e.requires_grad == t.requires_grad
        assert_close(e, t, rtol=spec.rtol, atol=spec.atol)

    weights = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in t_out]
    t_loss = _weighted_sum(torch, t_out, weights)
    if t_loss is None:
        return
    _weighted_sum(ember, e_out, weights).backward()
    t_loss.backward()
    _assert_grads([x.grad for x in e_in], [x.grad for x in t_in], spec.rtol, spec.atol)


@requires_torch
@pytest.mark.parametrize("spec", SECOND_ORDER, ids=_ids)
@_settings(5)
@given(data=st.data())
def test_second_derivative_matches_torch(spec: OpSpec, data: Any) -> None:
    """grad of <grad(<out, w>), v> with create_graph=True equals PyTorch's (float64)."""
    import torch

    arrays, kwargs, _ = _draw(spec, data, 1, 3)
    results = []
    for T in (ember, torch):
        xs, kw = _build(T, spec, arrays, kwargs, np.float64, True)
        outs = _outputs(spec.call(T, *xs, **kw))
        local = np.random.default_rng(1)  # the same weights for both libraries
        weights = [local.standard_normal(tuple(o.shape)) for o in outs]
        inputs = [x for x in xs if x.requires_grad]
        first = T.autograd.grad(_weighted_sum(T, outs, weights), inputs, create_graph=True)
        vs = [local.standard_normal(tuple(g.shape)) for g in first]
        total = _weighted_sum(T, list(first), vs)
        if total is None:
            results.append([None] * len(inputs))
        else:
            results.append(list(T.autograd.grad(total, inputs, allow_unused=True)))
    _assert_grads(results[0], results[1], rtol=1e-6, atol=1e-8)


# ---- against finite differences (no PyTorch needed) --------------------------------------------


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=_ids)
@_settings(3)
@given(data=st.data())
def test_gradcheck(spec: OpSpec, data: Any) -> None:
    arrays, kwargs, _ = _draw(spec, data, 1, 3)
    xs, kw = _build(ember, spec, arrays, kwargs, np.float64, True)
    for out in _outputs(spec.call(ember, *xs, **kw)):
        assert out.dtype in (ember.float64, ember.int64), f"float64 inputs gave {out.dtype}"
    assert ember.autograd.gradcheck(lambda *a: spec.call(ember, *a, **kw), xs)


@pytest.mark.parametrize("spec", SECOND_ORDER, ids=_ids)
@_settings(2)
@given(data=st.data())
def test_gradgradcheck(spec: OpSpec, data: Any) -> None:
    arrays, kwargs, _ = _draw(spec, data, 1, 3)
    xs, kw = _build(ember, spec, arrays, kwargs, np.float64, True)
    assert ember.autograd.gradgradcheck(lambda *a: spec.call(ember, *a, **kw), xs)


# ---- result dtypes: PyTorch's promotion rules ---------------------------------------------------


def _ints(T: Any) -> Any:
    return T.tensor([[1, -2, 3], [4, 5, -6]])


DTYPE_CASES = {
    "int64 * 2.5": lambda T: _ints(T) * 2.5,
    "int64 * 2": lambda T: _ints(T) * 2,
    "int64 * True": lambda T: _ints(T) * True,
    "int64 / int64": lambda T: _ints(T) / _ints(T),
    "int64 / 2": lambda T: _ints(T) / 2,
    "2 / int64": lambda T: 2 / _ints(T),
    "int64 // 2": lambda T: _ints(T) // 2,
    "int64 % 4": lambda T: _ints(T) % 4,
    "int64 + float32": lambda T: _ints(T) + T.ones(2, 3),
    "float32 + int64": lambda T: T.ones(2, 3) + _ints(T),
    "int32 + int64": lambda T: _ints(T).int() + _ints(T),
    "uint8 + int8": lambda T: T.tensor([1, 2], dtype=T.uint8) + T.tensor([1, 2], dtype=T.int8),
    "float32 + float64 0-d": lambda T: T.ones(3) + T.tensor(2.0, dtype=T.float64),
    "int64 + float64 0-d": lambda T: _ints(T) + T.tensor(2.0, dtype=T.float64),
    "float32 + float64": lambda T: T.ones(3) + T.ones(3, dtype=T.float64),
    "float32 * numpy float64": lambda T: T.ones(3) * np.float64(2.5),
    "int64 * numpy float64": lambda T: _ints(T) * np.float64(2.5),
    "bool + bool": lambda T: T.tensor([True, False]) + T.tensor([True, True]),
    "bool * 2": lambda T: T.tensor([True, False]) * 2,
    "int64 ** 2": lambda T: _ints(T) ** 2,
    "int64 ** 0.5": lambda T: _ints(T).abs() ** 0.5,
    "2 ** int64": lambda T: 2 ** _ints(T).abs(),
    "2.5 ** int64": lambda T: 2.5 ** _ints(T),
    "-int64": lambda T: -_ints(T),
    "abs(int64)": lambda T: T.abs(_ints(T)),
    "sign(int64)": lambda T: T.sign(_ints(T)),
    "relu(int64)": lambda T: T.relu(_ints(T)),
    "square(int64)": lambda T: T.square(_ints(T)),
    "exp(int64)": lambda T: T.exp(_ints(T)),
    "sqrt(int64)": lambda T: T.sqrt(_ints(T).abs()),
    "sigmoid(int64)": lambda T: T.sigmoid(_ints(T)),
    "reciprocal(int64)": lambda T: T.reciprocal(_ints(T)),
    "clamp(int64, 0)": lambda T: T.clamp(_ints(T), 0),
    "clamp(int64, 0.5)": lambda T: T.clamp(_ints(T), 0.5),
    "maximum(int64, float32)": lambda T: T.maximum(_ints(T), T.zeros(3)),
    "where(bool, int64, 2.5)": lambda T: T.where(_ints(T) > 0, _ints(T), 2.5),
    "where(bool, int64, 0)": lambda T: T.where(_ints(T) > 0, _ints(T), 0),
    "where(bool, float32, int64)": lambda T: T.where(_ints(T) > 0, T.ones(2, 3), _ints(T)),
    "masked_fill(int64, 2.5)": lambda T: _ints(T).masked_fill(_ints(T) > 0, 2.5),
    "int64 == 1.5": lambda T: _ints(T) == 1.5,
    "isnan(int64)": lambda T: T.isnan(_ints(T)),
    "sum(bool)": lambda T: (_ints(T) > 0).sum(),
    "sum(int32)": lambda T: _ints(T).int().sum(1),
    "sum(int64, dtype=float32)": lambda T: _ints(T).sum(dtype=T.float32),
    "prod(int32)": lambda T: _ints(T).int().prod(),
    "prod(bool, dim)": lambda T: (_ints(T) > 0).prod(0),
    "max(int64)": lambda T: _ints(T).max(),
    "max(int64, dim)": lambda T: _ints(T).max(1),
    "amax(int64)": lambda T: _ints(T).amax(0),
    "argmax": lambda T: T.ones(2, 3).argmax(),
    "all(int64)": lambda T: _ints(T).all(),
    "any(float32, dim)": lambda T: T.ones(2, 3).any(1),
    "mean(float64)": lambda T: T.ones(2, 3, dtype=T.float64).mean(),
    "softmax(float64)": lambda T: T.ones(2, 3, dtype=T.float64).softmax(1),
    "softmax(int64, dtype)": lambda T: _ints(T).softmax(1, dtype=T.float32),
    "logsumexp(int64)": lambda T: _ints(T).logsumexp(1),
    "matmul(int64)": lambda T: _ints(T) @ _ints(T).T,
    "cat(int64, float32)": lambda T: T.cat([_ints(T), T.ones(1, 3)]),
    "cat(bool, int32)": lambda T: T.cat([_ints(T) > 0, _ints(T).int()]),
    "stack(int64, float32)": lambda T: T.stack([_ints(T), T.ones(2, 3)]),
    "getitem(int64)": lambda T: _ints(T)[0],
    "reshape(bool)": lambda T: (_ints(T) > 0).reshape(-1),
    "float64.float()": lambda T: T.ones(2, dtype=T.float64).float(),
    "floor(int64)": lambda T: T.floor(_ints(T)),
    "round(float64)": lambda T: T.ones(2, dtype=T.float64).round(),
    "cumsum(bool)": lambda T: (_ints(T) > 0).cumsum(1),
    "cumsum(int32)": lambda T: _ints(T).int().cumsum(0),
    "logical_and(int64, float32)": lambda T: T.logical_and(_ints(T), T.ones(2, 3)),
    "result_type(int64, 2.5)": lambda T: T.zeros(1, dtype=T.result_type(_ints(T), 2.5)),
    "result_type(int64, float64 0-d)": lambda T: T.zeros(
        1, dtype=T.result_type(_ints(T), T.tensor(1.0, dtype=T.float64))
    ),
    "result_type(uint8, -1)": lambda T: T.zeros(1, dtype=T.result_type(T.tensor([1], dtype=T.uint8), -1)),
    "result_type(2, 2.5)": lambda T: T.zeros(1, dtype=T.result_type(2, 2.5)),
}


@requires_torch
@pytest.mark.parametrize("name", list(DTYPE_CASES))
def test_result_dtype(name: str) -> None:
    import torch

    make = DTYPE_CASES[name]
    e_out, t_out = _outputs(make(ember)), _outputs(make(torch))
    for e, t in zip(e_out, t_out):
        assert _dtype_name(e) == _dtype_name(t), f"{name}: {e.dtype} != {t.dtype}"
        assert_close(e, t)


REJECTED_DTYPES = {
    "mean(int64)": lambda T: _ints(T).mean(),
    "var(int64)": lambda T: _ints(T).var(),
    "softmax(int64)": lambda T: _ints(T).softmax(0),
    "int64 ** -1": lambda T: _ints(T) ** -1,
    "-bool": lambda T: -T.tensor([True]),
    "float32 & float32": lambda T: T.ones(2) & T.ones(2),
    "matmul(float32, float64)": lambda T: T.ones(2, 3) @ T.ones(3, dtype=T.float64),
    "matmul(int64, float32)": lambda T: _ints(T) @ T.ones(3),
    "norm(int64)": lambda T: _ints(T).norm(),
}


@requires_torch
@pytest.mark.parametrize("name", list(REJECTED_DTYPES))
def test_rejected_dtype(name: str) -> None:
    """Where PyTorch refuses a dtype, ember raises the same exception type."""
    import torch

    make = REJECTED_DTYPES[name]
    with pytest.raises(Exception) as t_err:
        make(torch)
    with pytest.raises(t_err.type):
        make(ember)


# ---- named edge cases ----------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("p", [1, 2, 3, "fro"])
def test_norm_of_zero_vector_has_zero_gradient(p: Any) -> None:
    """PyTorch's subgradient at 0 (not 0/0 = nan): gradient clipping of zero gradients stays finite."""
    import torch

    grads = []
    for T in (ember, torch):
        x = T.zeros(2, 3, requires_grad=True)
        (T.norm(x, p=p, dim=1) * T.tensor([1.0, 2.0])).sum().backward()
        grads.append(x.grad)
    assert_close(grads[0], grads[1])


def test_python_numbers_keep_sign_precision_and_value() -> None:
    """A number meeting a float tensor becomes a 0-d array that ember keeps for reuse
    (arith._constant); reusing it must never change a result."""
    x = ember.tensor([1.0, -2.0])
    assert np.signbit((x * -0.0).numpy()).tolist() == [True, False]
    assert np.signbit((x * 0.0).numpy()).tolist() == [False, True]  # 0.0 is not -0.0
    d = ember.tensor([1.0, 3.0], dtype=ember.float64)
    (x * 0.1).sum()  # 0.1 as float32 first
    assert (d * 0.1).numpy().tolist() == [0.1, 3.0 * 0.1]  # then in full float64 precision
    assert (x * 2).numpy().tolist() == (x * 2.0).numpy().tolist() == [2.0, -4.0]
    w = ember.tensor([1.5, 2.0], requires_grad=True)
    (w * 0.25).sum().backward()
    (w * 0.25).sum().backward()  # the saved constant is the same array both times
    assert w.grad.tolist() == [0.5, 0.5]
    for i in range(3000):  # more distinct numbers than are kept
        assert (x + float(i)).tolist() == [1.0 + i, -2.0 + i]
