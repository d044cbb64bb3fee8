"""The sparse forms of ember's functions: what `ember.abs(s)`, `ember.add(d, s)`,
`ember.select(s, 0, 1)`, `ember.sum(s)`, ... compute when an argument is sparse.

A dense function runs its dense code without looking for sparse arguments: a sparse
tensor's stand-in for an array (`_SparseData`) makes that code raise
SparseUnsupportedError, and each function PyTorch also runs on sparse tensors catches it and
calls `call` (through `ember._layout.sparse_form`) with its name. `call` runs the sparse
implementation registered here under that name, the same code as the SparseTensor method
(`ember.abs(s)` is `s.abs()`), or raises an error naming the function when it has none. So
the dense path costs nothing more (a CPython 3.11 `try` costs nothing until something is
raised), and the list of sparse functions is this table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ember._layout import SparseUnsupportedError
from ember._tensor import Tensor
from ember.dtypes import float64
from ember.sparse import _ops
from ember.sparse._tensor import SparseTensor, sparse_coo, sparse_csr


def _unary(name: str, coo_only: bool = False) -> Callable[..., Any]:
    method = getattr(SparseTensor, name)

    def function(input: Any) -> Any:
        if coo_only and input.layout is sparse_csr:
            raise RuntimeError(
                f"{name}: unsupported tensor layout: SparseCsr (convert with .to_sparse_coo())"
            )
        return method(input)

    return function


def _with_sparse_first(name: str, op: Callable[..., Any]) -> Callable[..., Any]:
    """op(input, ...) for a sparse input; a sparse argument elsewhere raises, naming `name`."""

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(input, SparseTensor):
            _unsupported(name, (input, *args))
        return op(input, *args, **kwargs)

    return function


def _on_values(input: SparseTensor, f: Callable[[Tensor], Tensor]) -> SparseTensor:
    """f applied to the values of the coalesced tensor, for an f that keeps zeros zero."""
    c = input.to_sparse_coo().coalesce()
    return _ops._like_layout(_ops._new(sparse_coo, c.shape, f(c._vals), c._idx, True), input.layout)


def round(input: SparseTensor, *, decimals: int = 0) -> SparseTensor:  # noqa: A001 (torch's name)
    if decimals:
        raise NotImplementedError("round(): decimals is not supported for sparse tensors, as in PyTorch")
    return _on_values(input, lambda v: v.round())


def nan_to_num(
    input: SparseTensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> SparseTensor:
    if input.layout is not sparse_coo:
        raise NotImplementedError(
            "nan_to_num: a CSR tensor has no nan_to_num, as in PyTorch (use .to_sparse_coo())"
        )
    return _on_values(input, lambda v: v.nan_to_num(nan, posinf, neginf))


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """sparse + sparse is sparse; dense + sparse is dense; sparse + dense raises (PyTorch)."""
    if isinstance(input, SparseTensor):
        return _ops.add(input, other, alpha=alpha)
    return _ops._reflected(other if alpha == 1 else other * alpha, input, "add")


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    if isinstance(input, SparseTensor):
        return _ops.add(input, other, alpha=-alpha, name="SubBackward0")
    return _ops._reflected(other if alpha == 1 else other * alpha, input, "sub")


def mul(input: Any, other: Any) -> Tensor:
    """A product with a sparse factor is sparse, whichever side it is on."""
    sparse, factor = (input, other) if isinstance(input, SparseTensor) else (other, input)
    result = _ops.mul(sparse, factor)
    if result is NotImplemented:
        raise TypeError(
            f"mul(): a sparse tensor is multiplied by a tensor or a number, not {type(factor).__name__}"
        )
    return result


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """sparse / number (or 0-d tensor); zeros stay zeros, so only the values are divided."""
    if not isinstance(input, SparseTensor):
        _unsupported("div", (input, other))
    if isinstance(other, SparseTensor) or (isinstance(other, Tensor) and other._data.ndim):
        raise RuntimeError(
            "Sparse division requires a scalar or zero-dim dense tensor divisor (got shape "
            f"{list(other.shape)} for divisor)"
        )
    if rounding_mode is None:
        return _ops.div(input, other)
    values = input._vals.div(other, rounding_mode=rounding_mode)
    return _ops._new(input.layout, input.shape, values, input._idx, input._coalesced)


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001 (torch's name)
    if not isinstance(input, SparseTensor):
        return _ops._rpow(exponent, input)
    return _ops.pow(input, exponent)


def index_select(input: Any, dim: int, index: Any) -> Tensor:
    return _ops.index_select(input, dim, index)  # it checks the index first, as PyTorch


def sum(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    return _ops._sum_method(input, dim, keepdim, dtype)


def adjoint(input: SparseTensor) -> SparseTensor:
    return _ops.transpose(input, -2, -1)


def _clone(input: SparseTensor, *, memory_format: Any = None) -> SparseTensor:
    return input.clone()


FUNCTIONS: dict[str, Callable[..., Any]] = {
    **{name: _unary(name) for name in _ops._UNARY if name not in ("square", "negative", "round")},
    "negative": _unary("neg"),
    "square": _unary("square", coo_only=True),
    "absolute": _unary("abs"),
    "round": _with_sparse_first("round", round),
    "nan_to_num": _with_sparse_first("nan_to_num", nan_to_num),
    "sgn": _unary("sgn"),
    "add": add,
    "sub": sub,
    "subtract": sub,
    "mul": mul,
    "multiply": mul,
    "div": div,
    "divide": div,
    "true_divide": div,
    "Add": add,
    "Sub": sub,
    "Mul": mul,
    "Div": div,
    "DivFloor": lambda a, b: div(a, b, rounding_mode="floor"),
    "DivTrunc": lambda a, b: div(a, b, rounding_mode="trunc"),
    "FloorDivide": lambda a, b: div(a, b, rounding_mode="floor"),
    "pow": pow,
    "float_power": lambda a, b: pow(a.to(float64), float(b)) if isinstance(a, SparseTensor) else pow(a, b),
    "select": _with_sparse_first("select", _ops.select),
    "index_select": index_select,
    "t": _with_sparse_first("t", _ops.t),
    "transpose": _with_sparse_first("transpose", _ops.transpose),
    "swapaxes": _with_sparse_first("swapaxes", _ops.transpose),
    "swapdims": _with_sparse_first("swapdims", _ops.transpose),
    "adjoint": _with_sparse_first("adjoint", adjoint),
    "unsqueeze": _with_sparse_first("unsqueeze", _ops.unsqueeze),
    "permute": _with_sparse_first("permute", lambda input, dims: _ops.permute(input, tuple(dims))),
    "sum": _with_sparse_first("sum", sum),
    "clone": _with_sparse_first("clone", _clone),
}


FUNCTIONS |= {name + "_": getattr(SparseTensor, name + "_") for name in _ops._INPLACE}


def call(op: str, args: tuple, kwargs: dict | None = None, key: str | None = None) -> Any:
    """The sparse form of function `op` (registered under `key`, op's name by default) applied
    to args; an error naming `op` where there is none."""
    function = FUNCTIONS.get(key or op)
    if function is None:
        _unsupported(op, args)
    return function(*args, **(kwargs or {}))


def _unsupported(op: str, args: tuple) -> None:
    layouts = sorted({str(a.layout) for a in args if isinstance(a, SparseTensor)}) or [str(sparse_coo)]
    raise SparseUnsupportedError(
        f"{op}() does not support sparse tensors here (got {', '.join(layouts)}), as in PyTorch: "
        "convert with .to_dense() first"
    )
