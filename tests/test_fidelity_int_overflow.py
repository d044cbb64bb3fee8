"""A Python number that does not fit a small integer dtype: PyTorch wraps it in arithmetic
(uint8 + 300) but refuses to store it (fill_, x[i] = v, full, clamp's bounds, ** 300, ...)
with 'value cannot be converted to type uint8_t without overflow'. Found by differential
testing; ember's rule is dtypes.wrap_int for the first and dtypes.to_element for the second."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import requires_torch


def _setitem(x: Any, index: Any, value: Any) -> Any:
    x[index] = value
    return x


CASES = {
    # arithmetic wraps
    "uint8 + 300": lambda T, x: x + 300,
    "uint8 * 300": lambda T, x: x * 300,
    "300 - uint8": lambda T, x: 300 - x,
    "uint8 += 300": lambda T, x: x.add_(300),
    "uint8 == -255": lambda T, x: x == -255,
    "int8 + 200": lambda T, x: x.to(T.int8) + 200,
    "int32 + 2**40": lambda T, x: x.int() + 2**40,
    "uint8 // 300": lambda T, x: x // 300,
    # storing checks: a number that does not fit raises, -max..-1 wraps into an unsigned dtype
    "uint8 ** 300": lambda T, x: x**300,
    "uint8.pow_(300)": lambda T, x: x.pow_(300),
    "uint8 ** 2": lambda T, x: x**2,
    "fill_(300)": lambda T, x: x.fill_(300),
    "fill_(-1)": lambda T, x: x.fill_(-1),
    "fill_(-255)": lambda T, x: x.fill_(-255),
    "fill_(-256)": lambda T, x: x.fill_(-256),
    "fill_(300.0)": lambda T, x: x.fill_(300.0),
    "fill_(-1.5)": lambda T, x: x.fill_(-1.5),
    "fill_(nan)": lambda T, x: x.fill_(float("nan")),
    "fill_(2.5)": lambda T, x: x.fill_(2.5),
    "fill_(tensor(300))": lambda T, x: x.fill_(T.tensor(300)),
    "x[0] = 300": lambda T, x: _setitem(x, 0, 300),
    "x[0] = -1": lambda T, x: _setitem(x, 0, -1),
    "x[0] = tensor(300)": lambda T, x: _setitem(x, 0, T.tensor(300)),
    "x[:] = 300": lambda T, x: _setitem(x, slice(None), 300),
    "x[mask] = 300": lambda T, x: _setitem(x, x > 0, 300),
    "x[mask] = -1": lambda T, x: _setitem(x, x > 0, -1),
    "x[[0, 1]] = 300": lambda T, x: _setitem(x, [0, 1], 300),
    "masked_fill(m, 300)": lambda T, x: x.masked_fill(x > 0, 300),
    "masked_fill_(m, 300)": lambda T, x: x.masked_fill_(x > 0, 300),
    "masked_fill(m, tensor(300))": lambda T, x: x.masked_fill(x > 0, T.tensor(300)),
    "index_fill(300)": lambda T, x: x.index_fill(0, T.tensor([0]), 300),
    "index_fill(-1)": lambda T, x: x.index_fill(0, T.tensor([0]), -1),
    "scatter(value=300)": lambda T, x: x.scatter(0, T.tensor([0]), 300),
    "scatter_(value=-1)": lambda T, x: x.scatter_(0, T.tensor([0]), -1),
    "clamp(0, 300)": lambda T, x: x.clamp(0, 300),
    "clamp(-5, 100)": lambda T, x: x.clamp(-5, 100),
    "clamp_(min=300)": lambda T, x: x.clamp_(min=300),
    "where(c, x, 300)": lambda T, x: T.where(x > 0, x, 300),
    "where(c, -1, x)": lambda T, x: T.where(x > 0, -1, x),
    "add(1, alpha=300)": lambda T, x: x.add(1, alpha=300),
    "add(1, alpha=-1)": lambda T, x: x.add(1, alpha=-1),
    "add_(1, alpha=300)": lambda T, x: x.add_(1, alpha=300),
    "full((2,), 300)": lambda T, x: T.full((2,), 300, dtype=T.uint8),
    "full((2,), -1)": lambda T, x: T.full((2,), -1, dtype=T.uint8),
    "full_like(x, 300)": lambda T, x: T.full_like(x, 300),
    "new_full 300": lambda T, x: x.new_full((2,), 300),
    "tensor([300])": lambda T, x: T.tensor([300], dtype=T.uint8),
    "tensor([-255])": lambda T, x: T.tensor([-255], dtype=T.uint8),
    "tensor([1.5, -0.5])": lambda T, x: T.tensor([1.5, -0.5], dtype=T.uint8),
    "tensor(array([300]))": lambda T, x: T.tensor(np.array([300]), dtype=T.uint8),
    "int8 fill_(-200)": lambda T, x: x.to(T.int8).fill_(-200),
    "int8 x[0] = 200": lambda T, x: _setitem(x.to(T.int8), 0, 200),
    "int8 clamp(-200, 100)": lambda T, x: x.to(T.int8).clamp(-200, 100),
    "int8 full -128": lambda T, x: T.full((1,), -128, dtype=T.int8),
    "int8 tensor([128])": lambda T, x: T.tensor([128], dtype=T.int8),
    "int32 fill_(3e9)": lambda T, x: x.int().fill_(3e9),
    "bool fill_(300)": lambda T, x: x.bool().fill_(300),
}


@requires_torch
@pytest.mark.parametrize("name", list(CASES))
def test_numbers_into_small_integer_dtypes_as_torch(name: str) -> None:
    import torch

    results = []
    for T in (torch, ember):
        try:
            out = CASES[name](T, T.tensor([1, 0, 250], dtype=T.uint8))
            results.append((out.tolist(), str(out.dtype).split(".")[-1]))
        except RuntimeError as e:
            results.append(str(e).split(" (")[0].replace("type uint8 ", "type uint8_t "))
    assert results[1] == results[0]


@requires_torch
def test_an_int_beyond_64_bits_raises_overflow_error_in_arithmetic() -> None:
    for T in (ember, __import__("torch")):
        with pytest.raises(OverflowError):
            T.tensor([1]) + 2**64
    assert (ember.tensor([1]) + 2**63).tolist() == [-(2**63) + 1]


def test_the_message_names_the_value_and_the_dtype() -> None:
    with pytest.raises(RuntimeError, match=r"without overflow \(300 does not fit in ember.uint8\)"):
        ember.zeros(2, dtype=ember.uint8).fill_(300)
