"""Parameter: a tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember._tensor import Tensor, _detached_cell


class _ParameterType(type):
    """Parameter's metaclass: `isinstance(x, Parameter)` is also true of an instance of a
    user's Tensor subclass made by `Parameter(x)`, which keeps its own class (as in PyTorch)
    and is only flagged `_is_param`."""

    def __instancecheck__(cls, instance: Any) -> bool:
        # every Tensor has _is_param (a class attribute, False): no getattr default needed
        if type.__instancecheck__(cls, instance):
            return True
        return cls is Parameter and isinstance(instance, Tensor) and instance._is_param is True


class Parameter(Tensor, metaclass=_ParameterType):
    """A leaf tensor that requires grad by default and that Modules collect (torch.nn.Parameter).

    `Parameter(t)` shares `t`'s memory; `data` must be a Tensor (or None, for an empty one):
    a list or an array raises, as in PyTorch. Assigning one to a Module attribute registers it
    in the module's `_parameters`, so that `parameters()` and `state_dict()` find it.
    `Parameter(t)` of an instance of a user's Tensor subclass returns a detached instance of
    that subclass flagged as a parameter (see _ParameterType), as PyTorch does.
    """

    _is_param = True
    _plain_repr = True  # printed as tensor(...), not as a subclass (see _format.tensor_repr)

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:  # subclasses take other arguments
        data = args[0] if args else kwargs.get("data")
        if cls is Parameter and isinstance(data, Tensor) and not _ember_class(type(data)):
            requires_grad = args[1] if len(args) > 1 else kwargs.get("requires_grad", True)
            # a user's subclass: a new instance of it on the same memory (what detach()
            # gives in PyTorch, where a subclass survives its ops), not a Parameter
            out = object.__new__(type(data))
            _detached_from(out, data, requires_grad)
            try:
                out._is_param = True
            except AttributeError:  # a subclass with __slots__ and no __dict__
                raise TypeError(
                    f"nn.Parameter({type(data).__name__}): the subclass has no __dict__ to flag its "
                    "instance as a parameter; leave '__dict__' in its __slots__"
                ) from None
            return out
        return super().__new__(cls)

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            data = Tensor(np.empty(0, dtype=np.float32))
        elif not isinstance(data, Tensor):  # PyTorch's error (it calls data.detach()), with the fix
            raise AttributeError(
                f"'{type(data).__name__}' object has no attribute 'detach' (nn.Parameter takes a "
                "Tensor: wrap the values with ember.tensor(...) first)"
            )
        _detached_from(self, data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (Parameter, (Tensor(self._data), self._requires_grad))

    def __deepcopy__(self, memo: dict) -> Parameter:
        # torch's Parameter.__deepcopy__ copies the data and requires_grad only: no .grad
        copy = Parameter(Tensor(self._data.copy()), requires_grad=self._requires_grad)
        memo[id(self)] = copy
        return copy


def _detached_from(out: Tensor, data: Tensor, requires_grad: bool) -> None:
    """Make `out` what PyTorch's Parameter is, data.detach() with requires_grad set: data's
    memory and version counter (of an inference tensor, an inference tensor, which refuses
    requires_grad=True outside inference_mode; see Tensor.detach)."""
    Tensor.__init__(out, data._data)
    out._version_cell = _detached_cell(data._version_cell)
    if requires_grad:
        out.requires_grad = True


def _ember_class(cls: type) -> bool:
    """Whether cls is Tensor or one of ember's own subclasses (Parameter, Buffer, sparse
    tensors, ...), which stand for PyTorch's plain tensors: not a user's subclass."""
    return cls is Tensor or cls.__module__.split(".")[0] == "ember"


class Buffer(Tensor):
    """A tensor that a Module registers as a buffer when assigned as an attribute (torch.nn.Buffer).

    `self.running = Buffer(t)` does what `self.register_buffer("running", t)` does: the tensor is
    saved in `state_dict()` (unless persistent=False), moved by `.to()`, but not trained. The
    buffer shares `t`'s memory and keeps its requires_grad, as `t.detach()` would.
    """

    persistent: bool
    _plain_repr = True

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        if data is None:
            data = Tensor(np.empty(0, dtype=np.float32))
        if not isinstance(data, Tensor):  # PyTorch's error (it calls data.detach()), with the fix
            raise AttributeError(
                f"'{type(data).__name__}' object has no attribute 'detach' (nn.Buffer takes a "
                "Tensor: wrap the values with ember.tensor(...) first)"
            )
        Tensor.__init__(self, data._data, requires_grad=data.requires_grad)
        self._version_cell = _detached_cell(data._version_cell)  # data.detach()'s: a view of its memory
        self.persistent = persistent

    def __deepcopy__(self, memo: dict) -> Buffer:
        copy = Buffer(Tensor.__deepcopy__(self, memo), persistent=self.persistent)
        memo[id(self)] = copy
        return copy


class UninitializedTensorMixin:
    """What UninitializedParameter and UninitializedBuffer share: a placeholder without a shape
    yet, which a lazy module `materialize`s once its first input tells the shape.

    Until then it holds an empty array that only carries the dtype (so `module.to(float64)`
    before the first forward gives float64 weights); asking for its shape raises.
    """

    cls_to_become: type

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Give the tensor (uninitialised) memory of `shape`; it becomes a `cls_to_become`."""
        from ember import creation

        dtype = self._data.dtype if dtype is None else dtype
        self._data = creation.empty(*tuple(shape), dtype=dtype, device=device)._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self) -> Any:
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually happens "
            "in `load_state_dict` when trying to load an uninitialized parameter into an initialized one. "
            "Call `forward` to initialize the parameters before accessing their attributes."
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (type(self), (self._requires_grad, None, self._data.dtype))

    def __deepcopy__(self, memo: dict) -> Any:
        copy = type(self)(self._requires_grad, None, self._data.dtype)
        memo[id(self)] = copy
        return copy


def is_lazy(param: Any) -> bool:
    """Whether `param` is an UninitializedParameter or UninitializedBuffer (torch.nn.parameter.is_lazy)."""
    return isinstance(param, UninitializedTensorMixin)


def _empty(dtype: Any, device: Any) -> Tensor:
    from ember import creation

    return creation.empty(0, dtype=dtype, device=device)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (torch.nn.UninitializedParameter).

    Lazy modules hold these until their first forward, which calls `materialize(shape)`;
    the object then becomes a plain Parameter in place, so an optimizer built before the
    first forward trains it.
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        Parameter.__init__(self, _empty(dtype, device), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Buffer):
    """A buffer whose shape is not known yet (torch.nn.UninitializedBuffer); `materialize(shape)`
    turns it into an nn.Buffer in place."""

    cls_to_become = Buffer

    def __init__(
        self, requires_grad: bool = False, device: Any = None, dtype: Any = None, persistent: bool = True
    ) -> None:
        Buffer.__init__(self, _empty(dtype, device).requires_grad_(requires_grad), persistent=persistent)
