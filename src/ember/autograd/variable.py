"""`Variable`, PyTorch's old name for a tensor that takes part in autograd
(torch.autograd.variable). Since PyTorch 0.4 every tensor does; the name is kept so that old
programs run."""

from __future__ import annotations

from typing import Any

from ember.autograd import function

__all__ = ["Variable", "is_tensor_like"]


class _VariableMeta(type):
    def __instancecheck__(cls, other: Any) -> bool:
        return isinstance(other, function.Tensor)


class Variable(metaclass=_VariableMeta):
    """`Variable(t)` is a new tensor that shares `t`'s values, outside its graph, and
    requires grad when `requires_grad` is True (torch.autograd.Variable, deprecated there);
    `Variable()` is an empty tensor. Every Tensor is an instance of Variable."""

    def __new__(cls, data: Any = None, requires_grad: bool = False) -> Any:  # type: ignore[misc]
        Tensor = function.Tensor
        if data is None:
            data = Tensor([])
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        result = data.detach()
        if requires_grad:
            result.requires_grad_()
        return result


def is_tensor_like(inp: Any) -> bool:
    """Whether `inp` is a Tensor or an object that takes part in torch's function overrides
    (has `__torch_function__`) (torch.overrides.is_tensor_like, also in torch.autograd)."""
    return isinstance(inp, function.Tensor) or hasattr(inp, "__torch_function__")
