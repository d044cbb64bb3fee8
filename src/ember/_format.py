"""PyTorch's tensor printing: `tensor([[1., 2.]], requires_grad=True)`, `tensor(2.5000)`.

Floats share one format across the tensor: integers print as `1.`, others with four
decimals, and scientific notation when the magnitudes span more than 1000× or leave
[1e-4, 1e8]. Large tensors are summarised with `...` beyond 1000 elements.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

THRESHOLD, EDGE, LINEWIDTH = 1000, 3, 80


def _float_formatter(values: np.ndarray) -> Callable[[Any], str]:
    finite = values[np.isfinite(values)]
    nonzero = np.abs(finite[finite != 0]).astype(np.float64)
    if finite.size == 0 or nonzero.size == 0:
        int_mode = True
        sci = False
    else:
        int_mode = bool(np.all(np.ceil(finite) == finite))
        hi, lo = nonzero.max(), nonzero.min()
        if int_mode:
            sci = hi / lo > 1000.0 or hi > 1.0e8
        else:
            sci = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
    if sci:
        return lambda v: f"{v:.4e}" if np.isfinite(v) else _special(v)
    if int_mode:
        return lambda v: f"{v:.0f}." if np.isfinite(v) else _special(v)
    return lambda v: f"{v:.4f}" if np.isfinite(v) else _special(v)


def _special(v: float) -> str:
    return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")


def _summarize(a: np.ndarray) -> np.ndarray:
    """The elements that will actually be shown (edges of each dimension)."""
    if a.ndim == 0:
        return a.reshape(1)
    if a.shape[0] > 2 * EDGE:
        a = np.concatenate([a[:EDGE], a[-EDGE:]])
    return np.concatenate([_summarize(x).reshape(-1) for x in a]) if a.ndim > 1 else a


def format_array(a: np.ndarray, indent: int) -> str:
    summarize = a.size > THRESHOLD
    shown = _summarize(a) if summarize else a.reshape(-1)
    if a.dtype.kind == "f":
        fmt = _float_formatter(shown)
    elif a.dtype.kind == "b":

        def fmt(v: Any) -> str:
            return "True" if v else "False"
    else:

        def fmt(v: Any) -> str:
            return str(int(v))

    width = max((len(fmt(v)) for v in shown), default=1)

    def cell(v: Any) -> str:
        return fmt(v).rjust(width)

    if a.ndim == 0:
        return fmt(a.item())
    return _nested(a, cell, width, indent, summarize)


def _nested(a: np.ndarray, cell: Callable, width: int, indent: int, summarize: bool) -> str:
    if a.ndim == 1:
        items = [cell(v) for v in _edges(a, summarize)]
        per_line = max(1, (LINEWIDTH - indent - 1) // (width + 2))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = [
        r if isinstance(r, str) else _nested(r, cell, width, indent + 1, summarize)
        for r in _edges(a, summarize)
    ]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def _edges(a: np.ndarray, summarize: bool) -> list:
    if summarize and a.shape[0] > 2 * EDGE:
        return list(a[:EDGE]) + ["..."] + list(a[-EDGE:])
    return list(a)


def tensor_repr(t: Any, prefix: str = "tensor(") -> str:
    a = t._data
    suffixes = []
    if a.size == 0 and a.ndim != 1:
        body = "[]"
        suffixes.append(f"size={tuple(a.shape)}")
    else:
        body = format_array(a, len(prefix))
    name = a.dtype.name
    if name not in ("int64", "bool", _default_name()):
        suffixes.append(f"dtype=ember.{name}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffixes) + ")"


def _default_name() -> str:
    from ember.dtypes import get_default_dtype

    return get_default_dtype().name
