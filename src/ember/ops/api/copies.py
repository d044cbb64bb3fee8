"""The `*_copy` functions (torch.t_copy, torch.select_copy, ...): each view op's result as a
new, contiguous tensor that shares no memory with its input.

They are made here from the view ops themselves, not written one by one: `_copying(view)`
runs the view and clones what it returns (one tensor, or each of a tuple), so the values,
the errors and the gradient are the view's, and the clone adds only an identity gradient.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ember import _layout
from ember._tensor import Tensor
from ember.ops.api import arrange, convert, shape
from ember.ops.api.indexing import getitem
from ember.ops.reduction import normalize_dim


def _copy(t: Tensor) -> Tensor:
    return convert.clone(t, memory_format=_layout.contiguous_format)


def _copying(view: Callable[..., Any], name: str, torch_name: str) -> Callable[..., Any]:
    """The function `name`: view(...), copied into new memory (torch.`name`, the copying
    form of torch.`torch_name`)."""

    def copied(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        out = view(input, *args, **kwargs)
        return tuple(_copy(t) for t in out) if isinstance(out, (tuple, list)) else _copy(out)

    copied.__name__ = copied.__qualname__ = name
    copied.__signature__ = inspect.signature(view)  # type: ignore[attr-defined]
    copied.__doc__ = f"The result of {torch_name} as a new contiguous tensor, not a view (torch.{name})."
    return copied


def _alias(input: Tensor) -> Tensor:
    return input


def _detach(input: Tensor) -> Tensor:
    return input.detach()


def _expand(input: Tensor, size: Any, *, implicit: bool = False) -> Tensor:
    return shape.expand(input, size)


def _view(input: Tensor, size: Any) -> Tensor:
    return shape.view(input, size)


def _slice(
    input: Tensor, dim: int = 0, start: int | None = None, end: int | None = None, step: int = 1
) -> Tensor:
    """input[..., start:end:step, ...] along dim, PyTorch's aten::slice."""
    d = normalize_dim(dim, input._data.ndim, "slice", scalar_ok=False)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return getitem(input, (slice(None),) * d + (slice(start, end, step),))


def _split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:
    return shape.split(input, list(split_sizes), dim)


def _split(input: Tensor, split_size: int, dim: int = 0) -> tuple:
    if not isinstance(split_size, int):
        raise TypeError(
            f"split_copy(): argument 'split_size' must be int, not {type(split_size).__name__} "
            "(split_with_sizes_copy takes a list of sizes)"
        )
    return shape.split(input, split_size, dim)


alias_copy = _copying(_alias, "alias_copy", "an alias (the tensor itself)")
as_strided_copy = _copying(shape.as_strided, "as_strided_copy", "as_strided")
detach_copy = _copying(_detach, "detach_copy", "detach")
diagonal_copy = _copying(arrange.diagonal, "diagonal_copy", "diagonal")
expand_copy = _copying(_expand, "expand_copy", "expand")
permute_copy = _copying(shape.permute, "permute_copy", "permute")
select_copy = _copying(shape.select, "select_copy", "select")
slice_copy = _copying(_slice, "slice_copy", "slicing along one dimension")
split_copy = _copying(_split, "split_copy", "split")
split_with_sizes_copy = _copying(_split_with_sizes, "split_with_sizes_copy", "split_with_sizes")
squeeze_copy = _copying(shape.squeeze, "squeeze_copy", "squeeze")
t_copy = _copying(shape.t, "t_copy", "t")
transpose_copy = _copying(shape.transpose, "transpose_copy", "transpose")
unbind_copy = _copying(shape.unbind, "unbind_copy", "unbind")
unfold_copy = _copying(arrange.unfold, "unfold_copy", "Tensor.unfold")
unsqueeze_copy = _copying(shape.unsqueeze, "unsqueeze_copy", "unsqueeze")
view_copy = _copying(_view, "view_copy", "view")

# the ones that take out= in PyTorch (the list-returning split/unbind ones write a list)
TAKE_OUT = """alias_copy as_strided_copy detach_copy diagonal_copy expand_copy permute_copy
select_copy slice_copy squeeze_copy t_copy transpose_copy unfold_copy unsqueeze_copy
view_copy""".split()
