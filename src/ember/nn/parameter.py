"""Parameter: a tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember._tensor import Tensor, _to_array


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and that Modules collect (torch.nn.Parameter).

    `Parameter(t)` shares `t`'s memory. Assigning one to a Module attribute registers it in
    the module's `_parameters`, so that `parameters()` and `state_dict()` find it.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.empty(0, dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data._data
        else:
            array = _to_array(data, None)
        Tensor.__init__(self, array, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (Parameter, (Tensor(self._data), self._requires_grad))

    def __deepcopy__(self, memo: dict) -> Parameter:
        copy = Parameter(self._data.copy(), requires_grad=self._requires_grad)
        if self.grad is not None:
            copy.grad = Tensor(self.grad._data.copy())
        memo[id(self)] = copy
        return copy


class Buffer(Tensor):
    """A tensor that a Module registers as a buffer when assigned as an attribute (torch.nn.Buffer).

    `self.running = Buffer(t)` does what `self.register_buffer("running", t)` does: the tensor is
    saved in `state_dict()` (unless persistent=False), moved by `.to()`, but not trained. The
    buffer shares `t`'s memory and keeps its requires_grad, as `t.detach()` would.
    """

    persistent: bool

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        if data is None:
            data = Tensor(np.empty(0, dtype=np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f"nn.Buffer expects a Tensor, but got {type(data).__name__}")
        Tensor.__init__(self, data._data, requires_grad=data.requires_grad)
        self._version = data._version  # a view of `data`'s memory, as detach() gives
        self.persistent = persistent

    def __deepcopy__(self, memo: dict) -> Buffer:
        copy = Buffer(Tensor.__deepcopy__(self, memo), persistent=self.persistent)
        memo[id(self)] = copy
        return copy
