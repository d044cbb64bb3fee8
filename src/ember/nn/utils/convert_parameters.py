"""Flatten parameters into one vector and back (torch.nn.utils.parameters_to_vector)."""

from __future__ import annotations

from collections.abc import Iterable

from ember._tensor import Tensor
from ember.ops.api.shape import cat


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable).

    Each parameter is flattened with `view(-1)`, as in PyTorch, so a non-contiguous one (a
    transposed or expanded tensor) raises rather than being copied.
    """
    return cat([p.view(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter's data the matching slice of `vec` (sharing its memory, as PyTorch).

    The parameters take the slices from the start of `vec` in turn; as in PyTorch, elements
    left over at the end are ignored (so the parameters of a model's first layers can be
    loaded from the vector of all its parameters). A `vec` too short for the parameters
    raises before any of them is changed.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    needed = sum(p.numel() for p in params)
    if vec.numel() < needed:
        raise RuntimeError(
            f"vector_to_parameters: vec has {vec.numel()} elements, the parameters need {needed}"
        )
    start = 0
    for param in params:
        count = param.numel()
        piece = vec._data[start : start + count]  # along the first dim, as PyTorch slices vec
        if piece.size != count:
            raise RuntimeError(
                f"vector_to_parameters: shape '{list(param.shape)}' is invalid for input of size "
                f"{piece.size}; pass vec as one 1-D tensor (vec.reshape(-1))"
            )
        param.data = piece.reshape(param.shape)
        start += count
