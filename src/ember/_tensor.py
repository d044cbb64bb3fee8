"""Tensor: a NumPy array plus the autograd state that records how it was computed.

The class holds only state, conversions and the autograd entry points; every
mathematical method is one of the public functions in `ember.ops.api`, attached at
the bottom of this file (`x.sum(1)` and `ember.sum(x, 1)` are the same code).
"""

from __future__ import annotations

import copy
import functools
import warnings
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from ember import _format, dtypes
from ember._meta import MetaArray
from ember.autograd import engine, function, grad_mode, views

_grad_state = grad_mode._state


class Size(tuple):
    """A tensor's shape: a tuple that prints as PyTorch's `torch.Size([2, 3])`."""

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))

    def __getitem__(self, index: Any) -> Any:
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    # joined or repeated, a shape is still a Size (a tuple on either side of + included)
    def __add__(self, other: Any) -> Any:
        result = tuple.__add__(self, other)
        return Size(result) if result is not NotImplemented else result

    def __radd__(self, other: Any) -> Any:
        return Size(tuple(other) + tuple(self)) if isinstance(other, tuple) else NotImplemented

    def __mul__(self, n: Any) -> Any:
        result = tuple.__mul__(self, n)
        return Size(result) if result is not NotImplemented else result

    __rmul__ = __mul__


# the device types PyTorch names, in the order its error message lists them
_DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip


class device:
    """A place for tensors (torch.device). ember computes on the CPU, and has PyTorch's
    'meta' device (shapes and dtypes without values, see ember/_meta.py); any of PyTorch's
    device types can be named, as in `torch.device('cuda').index is not None`, but putting
    a tensor or module on another device raises (see `cpu_only`). As a context manager it
    makes factories create tensors there."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:  # noqa: A002
        if index is not None and not isinstance(type, str):
            raise TypeError(
                f"device(): argument 'type' (position 1) must be str, not {type.__class__.__name__}"
            )
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        elif not isinstance(type, str):
            if isinstance(type, (int, np.integer)) and not isinstance(type, bool):  # the legacy `device(0)`
                if type < 0:
                    raise RuntimeError("Device index must not be negative")
                raise RuntimeError("Cannot access accelerator device when none is available.")
            raise TypeError(f"device() received an invalid combination of arguments - got ({type!r})")
        name, colon, number = type.partition(":")
        if name not in _DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: {type}"
            )
        if colon:
            if not number.isdigit() or index is not None:
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(number)
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(
                    f"device(): argument 'index' (position 2) must be int, not {index.__class__.__name__}"
                )
            index = int(index)
            if index < 0:
                raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = name, index

    def __eq__(self, other: object) -> bool:
        # ember also compares with a string ("cpu"), which PyTorch does not
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash(str(self))  # equal to a string it equals, as Python's rules require

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __enter__(self) -> device:
        _entered.append(default_device[0])
        default_device[0] = known_device(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        default_device[0] = _entered.pop()


_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
    "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
    "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf "
    "Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information."
)


def cpu_only(where: Any) -> device:
    """`where` (a device, or its name) as a device, if it is the CPU; ember's device error
    otherwise, which tells what to do instead."""
    dev = where if isinstance(where, device) else device(where)
    if dev.type != "cpu":
        raise RuntimeError(
            f"ember runs on the CPU only; device {str(where)!r} is not available "
            "(use 'cpu', or check torch.cuda.is_available() style code paths)"
        )
    return dev


def known_device(where: Any) -> device:
    """`where` as a device, if ember has it (the CPU, or 'meta'); ember's device error otherwise."""
    dev = where if isinstance(where, device) else device(where)
    return dev if dev.type == "meta" else cpu_only(dev)


CPU = device("cpu")
META = device("meta")
# where factories put tensors when no device is given (set_default_device, `with device(...)`)
default_device = [CPU]
_entered: list = []  # the defaults that the `with device(...)` blocks replaced, innermost last


def _check_grad_dtype(t: Tensor, value: Tensor) -> None:
    """A `.grad` assigned to t must have t's grad_dtype (t's dtype unless set; None: any)."""
    want = engine.grad_dtype(t) if t.grad_fn is None else t.dtype
    if want is not None and value._data.dtype != want.numpy:
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{dtypes.type_meta_name(value._data.dtype)}' "
            f"to a tensor with grad_dtype '{dtypes.scalar_type_name(want.numpy)}'. The gradient must "
            "match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's "
            "grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype "
            "with caution. Diverging the dtypes of a tensor and its gradient may break downstream "
            "systems that assume they match."
        )


class Tensor:
    """A multi-dimensional array that can record the operations applied to it (torch.Tensor).

    `Tensor([1, 2])` converts Python data like `torch.Tensor` (float32) and `Tensor(2, 3)` is
    uninitialised; an ndarray is wrapped as it is (no copy, its dtype kept). Prefer
    `ember.tensor(...)`.
    """

    __slots__ = (
        "_data",
        "_requires_grad",
        "_grad",
        "grad_fn",
        "_out_nr",
        "_version_cell",
        "_hooks",
        "_base",
        "_view_fn",
        "_view_at",
        "__weakref__",
    )

    _is_node = False  # for the engine: an edge to a Tensor is an edge to a leaf
    _plain_repr = True  # repr says tensor(...); a user's subclass is printed by its name
    _is_param = False  # True on a Parameter, and on a subclass's instance made by Parameter(t)

    # numpy must defer to us in `ndarray + Tensor`, so that __radd__ runs
    __array_priority__ = 1000

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """ember's own subclasses (Parameter, Buffer, sparse tensors...) stand for PyTorch's
        plain tensors: they opt out of __torch_function__. A user's subclass makes the
        public functions dispatch and gets dispatching methods (ember/overrides.py), unless
        it opts out too (`__torch_function__ = ember._C._disabled_torch_function_impl`)."""
        super().__init_subclass__(**kwargs)
        if cls.__module__.partition(".")[0] == "ember":
            if "__torch_function__" not in vars(cls):
                cls.__torch_function__ = staticmethod(_disabled_torch_function_impl)  # type: ignore[assignment]
        elif cls.__torch_function__ is not _disabled_torch_function_impl:
            from ember import overrides

            overrides._watch_subclass(cls)

    @classmethod
    def __torch_function__(cls, func: Any, types: tuple, args: tuple = (), kwargs: dict | None = None) -> Any:
        """Run func with subclass handling disabled and make its Tensor results instances of
        cls (torch.Tensor.__torch_function__): what keeps a subclass's type through its ops.
        A subclass overrides it to change what its ops do (see ember.overrides)."""
        from ember import overrides

        return overrides._tensor_torch_function(cls, func, types, args, kwargs)

    def __init__(self, data: Any = (), *sizes: int, requires_grad: bool = False) -> None:
        if data.__class__ is not np.ndarray and data.__class__ is not MetaArray:
            if sizes or (isinstance(data, int) and not isinstance(data, bool)):
                # torch.Tensor(2, 3): an uninitialised tensor of that size
                data = np.empty((data, *sizes), dtype=dtypes.get_default_dtype().numpy)
            else:
                # a NumPy complex scalar is kept, as a complex array is: the engine wraps
                # 0-d gradients, which NumPy gives as scalars
                numpy_scalar = isinstance(data, np.generic)
                data = _to_array(data, None)
                if data.dtype.kind == "c" and not numpy_scalar:
                    raise TypeError("must be real number, not complex (use ember.tensor for complex data)")
                if data.dtype.kind not in "fc":  # torch.Tensor(...) is always floating point
                    data = data.astype(dtypes.get_default_dtype().numpy)
        # Function.apply and autograd.function._plain_tensor set these same fields directly
        # on the outputs of ops: keep in step
        self._data = data
        self._requires_grad = False
        self._grad = None  # `grad`, checked when assigned; the engine writes it directly
        self.grad_fn = None
        self._out_nr = 0
        self._version_cell = [0]  # shared with detach(): counts in-place changes of the array
        self._hooks = None
        self._base = None  # the tensor whose memory this one views (see autograd/views.py)
        if requires_grad:
            self.requires_grad = True

    # ---- state -------------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        return views.current(self)._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag and self._data.dtype.kind not in "fcV":  # V: bfloat16
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients "
                f"(this tensor is {self.dtype}; convert it with .float() first)"
            )
        if flag and self._version_cell.__class__ is not list and not grad_mode._inference[0]:
            raise RuntimeError(
                "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed."
            )
        if not flag and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if self._hooks.__class__ is engine.NoGradViewHooks:
            # a view made under no_grad of a tensor that requires grad (autograd/views.py):
            # it requires grad while its base does, whatever it is told; told to require
            # grad, it becomes a leaf that gets its own gradient, as in PyTorch
            if not flag:
                return
            self._hooks = None
        if flag and self._base is not None and views.current(self).grad_fn is None:
            # A view made a leaf (`torch.linspace(0, 1, 4).reshape(-1, 1).requires_grad_()`)
            # becomes its own base: otherwise the next in-place change of its memory (an
            # optimizer's step) would remake its node from the old base, which requires no
            # grad, and the parameter would silently stop requiring it.
            self._base = self._view_fn = None
        self._requires_grad = bool(flag)
        if flag and self._hooks is None and (self._data.dtype.kind == "c" or id(self) in engine._grad_dtypes):
            self._hooks = {}  # keeps the leaf off the engine's inline path (see autograd/engine.py)

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward (None until one arrives). Reading None on a
        non-leaf that does not retain its gradient warns with PyTorch's text: backward fills a
        non-leaf's only after retain_grad() (or, ember's extra, when it is the root)."""
        grad = self._grad
        if grad is None and (self.grad_fn is not None or self._base is not None):  # a plain leaf: no more
            if not self.is_leaf and not self.retains_grad:
                warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}"
                )
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor "
                    f"of size '{list(self._data.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size"
                )
            if value._data.dtype != self._data.dtype or engine._grad_dtypes:
                _check_grad_dtype(self, value)
            if value._data.__class__ is not self._data.__class__ and (value.is_meta or self.is_meta):
                raise RuntimeError(
                    f"attempting to assign a gradient with device type '{value.device.type}' to a tensor "
                    f"with device type '{self.device.type}'. Please ensure that the gradient and the "
                    "tensor are on the same device"
                )
            if value._data.__class__ is not np.ndarray and not value.is_meta:  # a sparse gradient
                from ember._layout import sparse_grads_seen

                sparse_grads_seen[0] = True  # the optimizers check layouts from now on
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None  # `del p.grad` forgets the gradient, as in PyTorch

    @property
    def grad_dtype(self) -> dtypes.dtype | None:
        """The dtype backward stores this leaf's gradient in: its own dtype unless set to
        another, or to None (any dtype: a `.grad` of another dtype may be assigned). The
        engine casts each gradient arriving at the leaf to it, before the leaf's hooks."""
        if views.current(self).grad_fn is not None:
            raise RuntimeError("grad_dtype can only be accessed on leaf tensors.")
        return engine.grad_dtype(self)

    @grad_dtype.setter
    def grad_dtype(self, value: dtypes.dtype | None) -> None:
        if views.current(self).grad_fn is not None:
            raise RuntimeError("grad_dtype can only be set on leaf tensors.")
        if value is not None and not isinstance(value, dtypes.dtype):
            raise RuntimeError(f"grad_dtype must be a torch.dtype or None, but got {type(value).__name__}")
        grad = self._grad
        if value is not None and grad is not None and grad._data.dtype != value.numpy:
            raise RuntimeError(
                f"Cannot set grad_dtype to '{dtypes.scalar_type_name(value.numpy)}' because there is "
                f"already a gradient with dtype '{dtypes.type_meta_name(grad._data.dtype)}'. Please "
                "clear the gradient (.grad = None) before changing grad_dtype, or ensure the new "
                "grad_dtype matches the existing gradient's dtype."
            )
        engine.set_grad_dtype(self, value)

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's memory, detached and with its own version counter:
        an inference tensor where this one is one, wherever it is made (as in PyTorch), one
        that counts its versions when made outside inference_mode (see detach)."""
        t = Tensor(self._data)
        cell = self._version_cell
        t._version_cell = [0] if cell.__class__ is list else _detached_cell(cell).__class__([0])
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None, *, axis: int | None = None) -> Any:
        """The shape, or its length along dim (`axis` is NumPy's name for it, accepted as
        PyTorch accepts it)."""
        if axis is not None:
            if dim is not None:
                raise TypeError(
                    "size() got an unexpected keyword argument 'axis' (dim and axis name one "
                    "argument: give one of them)"
                )
            dim = axis
        if dim is None:
            return Size(self._data.shape)
        n = self._data.ndim
        if not -max(n, 1) <= dim < max(n, 1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], but got {dim})"
            )
        return self._data.shape[dim] if n else 1

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def device(self) -> device:
        return META if self._data.__class__ is MetaArray else CPU

    @property
    def is_meta(self) -> bool:
        """Whether this tensor is on the meta device: a shape and a dtype, no values."""
        return self._data.__class__ is MetaArray

    @property
    def is_leaf(self) -> bool:
        return views.current(self).grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind in "fV"  # V: bfloat16, the only such dtype ember stores

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place (torch's `x._version`).
        ember keeps the count in `_version_cell`, a one-element list that views and
        `detach()` share with their base, so that one increment reaches them all. A tensor
        made under inference_mode has none to show (autograd/function.py, InferenceVersion)."""
        cell = self._version_cell
        if cell.__class__ is function.InferenceVersion:
            raise RuntimeError("Inference tensors do not track version counter.")
        return cell[0]

    # ---- autograd ----------------------------------------------------------------------

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad.__class__ is not bool:  # PyTorch takes a bool only (so does Module's)
            raise TypeError(
                "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not "
                f"{type(requires_grad).__name__}"
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf after backward (leaves keep theirs anyway)."""
        if views.current(self).grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        node = self.grad_fn
        if node._retained is None:
            node._retained = {}
            node._simple = False  # the engine's general path stores retained gradients
        node._retained[self._out_nr] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        node = self.grad_fn
        return node is not None and node._retained is not None and self._out_nr in node._retained

    def register_hook(self, hook: Any) -> Any:
        """Call hook(grad) with this tensor's whole gradient in each backward pass (or
        autograd.grad); it may return a replacement of the same shape and dtype.
        `handle.remove()` on the result unregisters it.

        A non-leaf's hooks belong to the node that made it (the gradient of the value it
        has now: hooks registered before an in-place change see the old value's gradient,
        as in PyTorch) and run before retain_grad() stores the gradient."""
        from ember.utils.hooks import add_hook  # ember.utils imports the data tools

        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node = views.current(self).grad_fn
        if self._data.dtype.kind == "c" or node is None:  # a real leaf's grad_dtype may be complex
            hook = _conjugated(hook)
        if node is None:
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        else:
            if node._tensor_hooks is None:
                node._tensor_hooks = {}
                node._simple = False  # the engine's general path runs the hooks
            hooks = node._tensor_hooks.setdefault(self._out_nr, {})
        return add_hook(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Any) -> Any:
        """Call hook(tensor) on this leaf once backward has accumulated its gradient into
        `.grad` (not for autograd.grad, which stores none); e.g. to update a parameter while
        the backward pass goes on. `handle.remove()` on the result unregisters it."""
        from ember.utils.hooks import add_hook

        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._hooks is None:
            self._hooks = {}
        return add_hook(self._hooks, engine.PostAccumulate(hook))

    def detach(self) -> Tensor:
        """A tensor sharing memory and version counter with this one, out of the graph. An
        inference tensor's, taken outside inference_mode, is an inference tensor that counts
        its own versions and may be changed in place, as in PyTorch."""
        t = Tensor(self._data)
        cell = self._version_cell
        t._version_cell = cell if cell.__class__ is list else _detached_cell(cell)
        return t

    def detach_(self) -> Tensor:
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's `.grad` (torch.Tensor.backward);
        `ember.autograd.backward` with this one root.

        Unlike PyTorch, the tensor itself also receives its gradient in `.grad`
        (`e.backward(); e.grad` gives `tensor(1.)`), as the course material expects.
        """
        if self._base is not None:
            views.current(self)  # a view whose base changed: its current node
        if (
            gradient is None
            and inputs is None
            and self._requires_grad
            and self._data.size == 1
            and self._data.dtype.kind != "c"  # refused by the general path, as in PyTorch
            and self._data.__class__ is not MetaArray  # its seed is meta: ones_like, below
        ):
            # The usual `loss.backward()`, without the general checks. np.array(1), reshaped
            # unless the root is 0-d (a reshaped array is a view, which the root's own .grad
            # would copy): a quarter of np.ones_like's cost, which is a Python function.
            g = np.array(1, self._data.dtype)
            if self._data.ndim:
                g = g.reshape(self._data.shape)
            retain = create_graph if retain_graph is None else retain_graph
            engine.run_backward([self], [g], retain, create_graph)
            return
        from ember.autograd.functional import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ---- conversions -------------------------------------------------------------------

    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.item()

    def tolist(self) -> Any:
        if self._data.__class__ is MetaArray:
            raise NotImplementedError("Cannot copy out of meta tensor; no data!")
        if self._data.dtype.kind == "V":  # bfloat16: ml_dtypes' scalars, as Python floats
            return self._data.astype(np.float32).tolist()
        return self._data.tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        """The underlying array, shared (changes show on both sides). As in PyTorch, a
        tensor that requires grad refuses while grad mode is on (the array would silently
        leave the graph); under no_grad, and in a custom Function's forward, it answers."""
        if self._requires_grad and not force and _grad_state[0]:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        if self._data.__class__ is MetaArray:
            raise TypeError(
                "can't convert meta device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                "to host memory first."
            )
        if self._data.dtype.kind == "V":  # bfloat16, which NumPy itself lacks
            raise TypeError(
                "Got unsupported ScalarType BFloat16 (NumPy has no bfloat16: convert with .float() first)"
            )
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """What NumPy calls on a Tensor (np.asarray(t), np.exp(t)). As in PyTorch, a tensor
        that requires grad refuses while grad mode is on: NumPy's result would silently
        leave the graph."""
        data = self.numpy()
        return data if dtype is None else data.astype(dtype)

    def __array_wrap__(self, array: np.ndarray, context: Any = None, return_scalar: bool = False) -> Tensor:
        """What NumPy makes of its result when a function it ran on a Tensor returns an array
        (np.exp(t), np.transpose(t, axes), np.clip(t, 0, 1)): a Tensor again, as PyTorch's,
        even for a 0-d result. PyTorch turns a bool result into uint8 (a workaround from
        before it had bool tensors); ember keeps it bool."""
        return Tensor(np.asarray(array))

    def __dlpack__(self, **kwargs: Any) -> Any:
        """A DLPack capsule of this tensor's memory (np.from_dlpack(t), torch.from_dlpack(t));
        see ember/utils/dlpack.py. A tensor that requires grad refuses, as in PyTorch."""
        if views.current(self)._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._data.__dlpack_device__()  # (1, 0), DLPack's CPU device; a meta array raises

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} values is ambiguous")
        return bool(self._data.item())

    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        _refuse_complex(self, "double")
        if not _scalar_warning[0] and self.requires_grad and _grad_state[0]:
            _warn_scalar_of_grad_tensor()
        return float(self._data.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        _refuse_complex(self, "long")
        return int(self._data.item())

    def __complex__(self) -> complex:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        if not _scalar_warning[0] and self.requires_grad and _grad_state[0]:
            _warn_scalar_of_grad_tensor()
        return complex(self._data.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    __hash__ = object.__hash__  # identity: == is elementwise

    def __repr__(self) -> str:
        return _format.tensor_repr(self)

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its number (f"{loss:.3f}", and f"{loss}" gives 0.25 as in
        PyTorch); any other takes no format spec."""
        if self._data.ndim == 0 and self._data.__class__ is not MetaArray:  # meta: its repr, as torch
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol: Any) -> Any:
        cls = type(self)
        if cls is Tensor or cls.__module__.split(".")[0] == "ember":
            return (_rebuild, (self._data, self._requires_grad))
        # a user's subclass keeps its class and attributes (nn.Parameter(t)'s flag), as in PyTorch
        return (_rebuild_subclass, (cls, self._data, self._requires_grad, getattr(self, "__dict__", None)))

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment"
            )
        t = type(self).__new__(type(self))
        Tensor.__init__(t, self._data.copy(), requires_grad=self._requires_grad)
        if self.grad is not None:
            t.grad = Tensor(self.grad._data.copy())
        memo[id(self)] = t
        if hasattr(t, "__dict__"):  # a subclass's own attributes (a Parameter's flag...)
            t.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return t

    @staticmethod
    def _dtype_of(np_dtype: np.dtype) -> dtypes.dtype:
        return dtypes.from_numpy_dtype(np_dtype)


def _disabled_torch_function_impl(
    func: Any, types: tuple, args: tuple = (), kwargs: dict | None = None
) -> Any:
    """The __torch_function__ of a class that opts out of the protocol
    (torch._C._disabled_torch_function_impl): Parameter's, so that its ops give plain
    tensors. Called directly, it runs func with the protocol off."""
    from ember.overrides import DisableTorchFunctionSubclass

    with DisableTorchFunctionSubclass():
        return func(*args, **(kwargs or {}))


def _conjugated(hook: Any) -> Any:
    """A gradient hook of a complex tensor or of a leaf, run on the engine's conjugated
    gradients (see autograd/engine.py): it sees, and may return, the gradient as PyTorch
    shows it. A leaf's gradient is complex where the leaf is, or where its grad_dtype is."""

    @functools.wraps(hook)
    def conjugated(grad: Tensor) -> Any:
        if grad._data.dtype.kind != "c":
            return hook(grad)  # a real gradient is its own conjugate
        out = hook(grad.conj())
        return None if out is None else out.conj()

    if not hasattr(hook, "__name__"):  # a callable object: errors name its class, not the wrapper
        conjugated.__name__ = type(hook).__name__
    return conjugated


_scalar_warning = [False]  # given yet: PyTorch warns once per process (TORCH_WARN_ONCE)


def _warn_scalar_of_grad_tensor() -> None:
    """float(t) or complex(t) of a tensor that requires grad, with grad mode on: PyTorch's
    warning, once per process, naming the caller's line (the number leaves the graph;
    item() and int() do not warn, as in PyTorch)."""
    _scalar_warning[0] = True
    warnings.warn(
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
        "Consider using tensor.detach() first.",
        UserWarning,
        stacklevel=3,
    )


def _refuse_complex(t: Tensor, c_type: str) -> None:
    """float(t) and int(t) of a complex tensor: PyTorch's error (the imaginary part would be lost)."""
    if t._data.dtype.kind == "c":
        raise RuntimeError(
            f"value cannot be converted to type {c_type} without overflow (a complex number; "
            "use complex(t), or t.real / t.abs() first)"
        )


def _rebuild(data: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(data, requires_grad=requires_grad)


def _rebuild_subclass(cls: type, data: np.ndarray, requires_grad: bool, state: dict | None) -> Tensor:
    """An unpickled instance of a user's Tensor subclass (its __init__ is not run, as in
    PyTorch, whose unpickling re-types a plain tensor), with its attributes."""
    t = object.__new__(cls)
    Tensor.__init__(t, data, requires_grad=requires_grad)
    if state:
        t.__dict__.update(state)
    return t


def _native_order(x: Any) -> Any:
    """x, or a big-endian array x in native byte order: PyTorch refuses a big-endian array
    given as the data but reads one inside a list element by element, keeping its dtype."""
    if isinstance(x, np.ndarray) and x.dtype.byteorder not in "=|":
        return x.astype(x.dtype.newbyteorder("="))
    return x


def _to_array(data: Any, dtype: np.dtype | None) -> np.ndarray:
    """Convert Python data (nested lists, numbers, tensors, arrays) into an ndarray.

    Python floats become the default dtype (float32), ints int64, bools bool; NumPy arrays
    keep their dtype unless one is given.
    """
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        # a user's subclass (np.matrix, a masked array) as a plain view of its memory, as
        # PyTorch reads it: inside ember, arrays are plain ndarrays or meta ones (ember/_meta.py),
        # and ops that keep their input's class must not carry np.matrix's `*` or a mask along
        arr = data if data.__class__ is np.ndarray or data.__class__ is MetaArray else np.asarray(data)
    elif isinstance(data, (list, tuple)) and _has_typed(data):
        # a tensor's or NumPy object's own dtype counts, a Python float is the default dtype,
        # and they promote as in PyTorch: [tensor(1), 2.5] is float32, [2.5, np.float64(1)]
        # float64 (NumPy's promotion would say float64 and float32)
        kinds = {type(x) for x in data}
        if all(issubclass(k, (np.generic, int, float)) for k in kinds):  # numbers only: fast
            common = functools.reduce(dtypes.promote_numpy, map(_number_dtype, kinds))
            try:
                arr = np.asarray(data, common)
            except OverflowError:  # an int beyond int64
                raise ValueError("Overflow when unpacking long long") from None
        else:
            parts = [
                _scalar_of(x) if isinstance(x, Tensor) else _to_array(_native_order(x), None) for x in data
            ]
            common = functools.reduce(dtypes.promote_numpy, {part.dtype for part in parts})
            arr = np.array([part.astype(common, copy=False) for part in parts])
    else:
        try:
            arr = np.asarray(data)
        except ValueError as error:  # NumPy's "inhomogeneous shape": lists of unequal lengths
            raise _python_data_error(data, error, dtype) from None
        if arr.dtype.kind in "US":  # strings where numbers belong: PyTorch's error for the data
            error = _python_data_error(data, None, dtype)
            if error is None:  # no cause found in the data: name NumPy's string type instead
                dtypes.from_numpy_dtype(arr.dtype)  # raises, as for np.array(["a"])
            raise error
        if (dtype is None or (dtype.kind != "f" and dtype != np.uint64)) and (
            arr.dtype == np.uint64 or (arr.dtype.kind in "fO" and _int_overflow(data))
        ):  # an int beyond int64 (and not asked for as uint64): NumPy would wrap or round it
            raise ValueError("Overflow when unpacking long long")
        if (
            dtype is None
            and arr.dtype == np.complex128
            and not isinstance(_first_scalar(data), np.complex128)
        ):
            arr = arr.astype(dtypes.python_complex_numpy())  # Python complex numbers, as floats below
        elif dtype is None and arr.dtype == np.float64 and not isinstance(_first_scalar(data), np.float64):
            # Python floats: the default dtype, unless a dtype is asked for (a detour through
            # float32 would round tensor([0.3], dtype=float64) to 0.30000001192...)
            arr = arr.astype(dtypes.get_default_dtype().numpy)
        elif arr.dtype.kind == "O" and dtype is not None and dtype.kind == "f" and _int_overflow(data):
            arr = np.asarray(data, dtype)  # ints beyond uint64, asked for as floats
        elif dtype == np.uint64 and arr.dtype.kind in "fO" and _int_overflow(data):
            arr = np.asarray(data, dtype)  # ints beyond int64 read directly (NumPy's mix is float64)
        elif arr.dtype.kind == "O":
            raise _python_data_error(
                data,
                TypeError(f"can't convert {type(data).__name__} of mixed or ragged data to a tensor"),
                dtype,
            )
    # a big-endian array (PyTorch refuses to convert it) is never of a dtype ember has, so it
    # is refused below, off the path of the arrays ember takes as they are
    if dtype is not None and arr.dtype != dtype:
        if not arr.dtype.isnative:
            dtypes.from_numpy_dtype(arr.dtype)  # PyTorch's ValueError
        if arr is not data and not isinstance(data, Tensor):  # Python numbers must fit, as in torch
            dtypes.check_elements(arr, dtype)
        arr = dtypes.astype(arr, dtype)
    if arr.dtype.kind not in "fiubc" or arr.dtype not in dtypes._BY_NUMPY:
        if not arr.dtype.isnative:
            dtypes.from_numpy_dtype(arr.dtype)  # PyTorch's ValueError
        if arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        else:
            dtypes.from_numpy_dtype(arr.dtype)  # raises the clear TypeError
    return arr


def _python_data_error(data: Any, fallback: Exception | None, dtype: np.dtype | None) -> Exception | None:
    """The error PyTorch gives for Python data that is not a rectangular nest of numbers, found
    in PyTorch's order (the shape along first elements, then every element's type unless a
    dtype is given, then each list's length and each element's conversion to the dtype, given
    or inferred); `fallback` when the data shows none. Only called once NumPy has failed."""
    if isinstance(data, (str, bytes)):
        return TypeError(f"new(): invalid data type '{type(data).__name__}'")
    sizes, first = [], data
    while isinstance(first, (list, tuple, range, str)):
        if isinstance(first, str):  # a string is a sequence of strings, without end
            return ValueError("too many dimensions 'str'")
        sizes.append(len(first))
        if not first:
            break
        first = first[0]
    if dtype is not None:  # PyTorch infers no dtype: a None or a string fails its conversion
        return _unequal_length(data, sizes, 0, dtype.kind if dtype.kind in "fcb" else "i") or fallback
    kind = "c" if _has_float(data) else "i"  # floating and complex: the same words, complex leaves fit
    return _untyped_element(data) or _unequal_length(data, sizes, 0, kind) or fallback


def _untyped_element(x: Any) -> Exception | None:
    if isinstance(x, (str, bytes)):
        return TypeError(f"new(): invalid data type '{type(x).__name__}'")
    if isinstance(x, (list, tuple, range)):
        return next(filter(None, map(_untyped_element, x)), None)
    if not isinstance(x, (bool, int, float, complex, np.generic, np.ndarray, Tensor)):
        return RuntimeError(f"Could not infer dtype of {type(x).__name__}")
    return None


def _unequal_length(x: Any, sizes: list, dim: int, kind: str) -> Exception | None:
    """The first list of the wrong length, or element that does not convert to a number of
    `kind` ("f", "c", "i" or "b": floating, complex, integer, bool), in PyTorch's walk."""
    if isinstance(x, (np.ndarray, Tensor)):
        return None
    if dim == len(sizes):
        if isinstance(x, (bool, int, float, np.generic)) or (kind in "cb" and isinstance(x, complex)):
            return None
        if kind in "fc":  # a list (or, with a dtype given, None, a string...) where a number belongs
            return TypeError(f"must be real number, not {type(x).__name__}")
        return TypeError(f"'{type(x).__name__}' object cannot be interpreted as an integer")
    if not isinstance(x, (list, tuple, range)):
        return TypeError("not a sequence")
    if len(x) != sizes[dim]:
        return ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(x)})")
    return next(filter(None, (_unequal_length(item, sizes, dim + 1, kind) for item in x)), None)


def _has_float(x: Any) -> bool:
    """Whether the inferred dtype is floating or complex (PyTorch's conversion words are one)."""
    if isinstance(x, (list, tuple)):
        return any(map(_has_float, x))
    return isinstance(x, (float, complex))


_TYPED = (Tensor, np.ndarray, np.generic)  # elements with a dtype of their own
_PLAIN = {float, int, bool}


def _scalar_of(t: Tensor) -> np.ndarray:
    """A tensor inside a list is one number, as in PyTorch: `tensor([t1, t2])` of 1-element
    tensors has shape (2,), and a longer tensor there is an error (stack them instead)."""
    if t._data.size != 1:
        raise ValueError(
            "only one element tensors can be converted to Python scalars "
            f"(a tensor of shape {list(t._data.shape)} inside a list: use torch.stack to join tensors)"
        )
    return t._data.reshape(())


def _has_typed(data: Any) -> bool:
    """Whether nested lists hold a Tensor or a NumPy array or scalar (a type check of each
    list's elements at C speed first: Python numbers alone are the common case)."""
    kinds = set(map(type, data))
    if kinds <= _PLAIN:
        return False
    return any(isinstance(x, _TYPED) or (isinstance(x, (list, tuple)) and _has_typed(x)) for x in data)


def _number_dtype(kind: type) -> np.dtype:
    """The dtype PyTorch gives a number of this type: a NumPy scalar's own, bool, int64, or
    the default dtype for a Python float."""
    if issubclass(kind, np.generic):
        return np.dtype(kind)
    if issubclass(kind, bool):
        return np.dtype(np.bool_)
    if issubclass(kind, complex):
        return dtypes.python_complex_numpy()
    return np.dtype(np.int64) if issubclass(kind, int) else dtypes.get_default_dtype().numpy


def _int_overflow(data: Any) -> bool:
    """Whether Python data that NumPy made float64 or object holds an int beyond int64 and no
    float (then PyTorch refuses it; [1.5, 2**63] is a float tensor in both)."""
    if not isinstance(data, (list, tuple)):
        return isinstance(data, int) and not -(2**63) <= data < 2**63
    if isinstance(_first_scalar(data), float):
        return False
    values = list(_flat(data))
    return not any(isinstance(v, (float, np.floating)) for v in values) and any(
        isinstance(v, int) and not -(2**63) <= v < 2**63 for v in values
    )


def _first_scalar(data: Any) -> Any:
    """The first number in nested lists: a NumPy float64 there keeps float64, as in torch."""
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _flat(data: Any) -> Iterator[Any]:
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


function.Tensor = Tensor
engine.Tensor = Tensor

_ordinary_init = Tensor.__init__


def _detached_cell(cell: list) -> list:
    """The version cell of detach() (or, its class, of `.data`) of a tensor whose cell is
    this: outside inference_mode, an inference tensor's gets a counting cell of its own."""
    if cell.__class__ is function.InferenceVersion and not grad_mode._inference[0]:
        return function.CountedInferenceVersion([0])
    return cell


def _inference_init(self: Tensor, *args: Any, **kwargs: Any) -> None:
    """Tensor.__init__ under inference_mode: an inference tensor (see _version)."""
    _ordinary_init(self, *args, **kwargs)
    self._version_cell = function.InferenceVersion([0])


def make_inference_tensors(on: bool) -> None:
    """Make the tensors created from now on inference tensors (on) or ordinary ones: swap
    Tensor.__init__ (factories) and _plain_tensor (ops outside the graph) for their twins,
    so that no creation tests the mode (autograd/grad_mode.py's inference_mode calls this)."""
    Tensor.__init__ = _inference_init if on else _ordinary_init  # type: ignore[method-assign]
    function.make_inference_tensors(on)


from ember.ops.api import _methods  # noqa: E402  (methods are the public functions)

_methods.attach_methods(Tensor)
