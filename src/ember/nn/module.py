"""Module: the base class of every layer and model (torch.nn.Module).

A Module keeps its learnable tensors, its persistent non-learnable tensors and its
sub-modules in three ordered dicts. `__setattr__` routes each assignment into the right
one, so that `self.fc = Linear(2, 3)` is all it takes for `parameters()`, `state_dict()`,
`train()` and `print(model)` to see the new layer.
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import numpy as np

from ember import __future__ as _future
from ember import _meta, dtypes
from ember._tensor import Tensor, known_device
from ember.nn import _hooks, _state_dict
from ember.nn._hooks import _global_call_hooks, call_with_hooks
from ember.nn.parameter import Buffer, Parameter
from ember.utils.hooks import RemovableHandle, add_hook

T_destination = TypeVar("T_destination", bound=dict)  # the type of a state_dict's destination


def _typename(value: Any) -> str:
    """torch.typename: a tensor's type(), else the dotted path of the object's class
    ("ember.nn.modules.activation.ReLU"), without "builtins." ("int")."""
    if isinstance(value, Tensor):
        return value.type()
    module = getattr(value, "__module__", "") or ""
    if hasattr(value, "__qualname__"):
        qualname = value.__qualname__
    elif hasattr(value, "__name__"):
        qualname = value.__name__
    else:
        module, qualname = type(value).__module__ or "", type(value).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def _indent(text: str, spaces: int) -> str:
    """Indent every line but the first (a child's repr continues after `(name): `)."""
    return text.replace("\n", "\n" + " " * spaces)


def _empty_on_cpu(t: Tensor) -> Tensor:
    """Uninitialised CPU storage for t: in t's memory layout, as PyTorch's to_empty keeps
    strides (a meta tensor's zero strides say none: row-major)."""
    return Tensor(np.empty(t._data.shape, t._data.dtype) if t.is_meta else np.empty_like(t._data))


def _to_cpu(t: Tensor) -> Tensor:
    """t on the CPU: itself, or for a meta tensor PyTorch's error, which names to_empty."""
    if t.is_meta:
        raise NotImplementedError(
            f"{_meta.NO_DATA} Please use ember.nn.Module.to_empty() instead of ember.nn.Module.to() "
            "when moving module from meta to a different device."
        )
    return t


class Module:
    """Base class of all layers and models (torch.nn.Module).

    Subclasses call `super().__init__()` first, assign Parameters and sub-Modules as
    attributes, and define `forward`. Calling the module runs `forward` (and any hooks).
    """

    training: bool
    T_destination = T_destination
    # PyTorch's class flags: call_super_init makes Module.__init__ call super().__init__();
    # dump_patches is a legacy serialization switch. Both False, and read by nothing here.
    call_super_init: bool = False
    dump_patches: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"Module.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
        if args:
            raise TypeError(f"Module.__init__() takes 1 positional argument but {len(args) + 1} were given")
        # object.__setattr__: our own __setattr__ needs these dicts to exist first
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", OrderedDict())
        setattr_(self, "_buffers", OrderedDict())
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", OrderedDict())
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_forward_hooks_always_called", OrderedDict())
        setattr_(self, "_backward_pre_hooks", OrderedDict())
        setattr_(self, "_backward_hooks", OrderedDict())
        setattr_(self, "_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_state_dict_hooks", OrderedDict())
        setattr_(self, "_state_dict_hooks_public", {})  # ids of the post-hooks that must return None
        setattr_(self, "_load_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_post_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it (call the module, not forward)."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ---- calling -----------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (
            self._forward_pre_hooks
            or self._forward_hooks
            or self._backward_hooks
            or self._backward_pre_hooks
            or _global_call_hooks
        ):
            return self.forward(*args, **kwargs)
        return call_with_hooks(self, args, kwargs)

    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call `hook(module, args)` before forward; a non-None result replaces the inputs."""
        return add_hook(
            self._forward_pre_hooks, hook, prepend, ((self._forward_pre_hooks_with_kwargs, with_kwargs),)
        )

    def register_forward_hook(
        self,
        hook: Callable[..., Any],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """Call `hook(module, args, output)` after forward; a non-None result replaces the output.

        with_kwargs=True calls `hook(module, args, kwargs, output)`. always_call=True calls the
        hook even when forward (or a hook) raises, with output None if forward did not finish.
        """
        flags = (
            (self._forward_hooks_with_kwargs, with_kwargs),
            (self._forward_hooks_always_called, always_call),
        )
        return add_hook(self._forward_hooks, hook, prepend, flags)

    def register_full_backward_pre_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Call `hook(module, grad_output)` in backward, before the gradients of the module's
        inputs are computed; a non-None result (a tuple like grad_output) replaces grad_output."""
        return add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """Call `hook(module, grad_input, grad_output)` in backward once the gradients of the
        module's positional arguments are known (None for those that are not tensors, zeros
        for a tensor that gets no gradient); a non-None result (a tuple like grad_input)
        replaces grad_input."""
        return add_hook(self._backward_hooks, hook, prepend)

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """PyTorch's deprecated form, whose grad_input is that of the module's last operation
        only: not in ember (see register_full_backward_hook)."""
        raise NotImplementedError(
            "ember has no Module.register_backward_hook (deprecated in PyTorch, where it sees "
            "only the module's last operation); use register_full_backward_hook(hook), which "
            "calls hook(module, grad_input, grad_output) with the gradients of the module's inputs"
        )

    # ---- attribute routing -------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' "
                    "(torch.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            modules = d.get("_modules")
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            modules[name] = _hooks.registered(_hooks._global_module_registration_hooks, self, name, value)
        elif name in d.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as child module '{name}' "
                    "(torch.nn.Module or None expected)"
                )
            d["_modules"][name] = _hooks.registered(
                _hooks._global_module_registration_hooks, self, name, value
            )
        elif isinstance(value, Buffer):
            if "_buffers" not in d:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self.register_buffer(name, value, persistent=value.persistent)
        elif name in d.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as buffer '{name}' "
                    "(torch.nn.Buffer, torch.Tensor or None expected)"
                )
            d["_buffers"][name] = _hooks.registered(
                _hooks._global_buffer_registration_hooks, self, name, value
            )
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str) -> None:
        """Remove `name` from the other stores before it is (re)registered in `keep`, where it keeps its place."""
        d = self.__dict__
        d.pop(name, None)
        for store in ("_parameters", "_buffers", "_modules"):
            if store != keep:
                d[store].pop(name, None)
        d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the three stores, never return None
        d = self.__dict__
        params = d.get("_parameters")
        if params is not None and name in params:  # the common case, `self.weight` in forward
            return params[name]
        for store in ("_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, ()):
                del self.__dict__[store][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        names = set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        return sorted(n for n in names if not n[0].isdigit())

    # ---- registration ------------------------------------------------------------------

    def _check_name(self, kind: str, name: Any, store: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."' + (f", got: {name}" if kind == "module" else ""))
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in self.__dict__[store]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder) under `name`."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name("parameter", name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                "(torch.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created "
                f"explicitly. To express '{name}' as a function of another Tensor, compute the value in "
                "the forward() method."
            )
        if param is not None:  # torch calls the registration hooks on real parameters only
            param = _hooks.registered(_hooks._global_parameter_registration_hooks, self, name, param)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a non-learnable tensor (e.g. running statistics); persistent ones go in state_dict."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name("buffer", name, "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' (torch Tensor or None required)"
            )
        self._buffers[name] = _hooks.registered(_hooks._global_buffer_registration_hooks, self, name, tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under `name` (same as assigning the attribute)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name("module", name, "_modules")
        self._modules[name] = _hooks.registered(_hooks._global_module_registration_hooks, self, name, module)

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at a dotted path such as `"encoder.0"`."""
        module = self
        for item in target.split(".") if target else ():
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path such as `"fc.weight"`."""
        owner, _, name = target.rpartition(".")
        module = self.get_submodule(owner)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path such as `"bn.running_mean"`."""
        owner, _, name = target.rpartition(".")
        module = self.get_submodule(owner)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put `module` at a dotted path such as `"encoder.0"`, replacing the module there;
        with strict=True the path must already exist."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        owner, _, name = target.rpartition(".")
        parent = self.get_submodule(owner)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    # ---- iteration ---------------------------------------------------------------------

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and all below it, depth first, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                child_prefix = prefix + ("." if prefix else "") + name
                yield from child.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and child not in seen:
                seen.add(child)
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Any]]:
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        seen = set()
        for module_prefix, module in modules:
            for name, value in module.__dict__[store].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) in definition order; a shared parameter appears once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn on every sub-module (children first) and then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and conversions ---------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and all below it (Dropout, BatchNorm read it)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for child in self.children():
            child.train(mode)  # each child's own train(), in case a layer overrides it
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (default) or to zeros in place."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.detach_()
                param.grad.zero_()

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Module:
        """Convert every parameter (in place, so optimizers keep them, unless
        ember.__future__.set_overwrite_module_params_on_conversion(True) asks for new
        Parameter objects and set_swap_module_params_on_conversion, which keeps them as
        the in-place conversion does, is off) and every buffer; with recurse=False only
        this module's own."""
        overwrite = (
            _future.get_overwrite_module_params_on_conversion()
            and not _future.get_swap_module_params_on_conversion()
        )
        for module in self.modules() if recurse else (self,):
            for name, param in module._parameters.items():
                if param is None:
                    continue
                if overwrite:
                    new = Parameter(fn(param).detach(), requires_grad=param.requires_grad)
                    if param.grad is not None:
                        new.grad = fn(param.grad).detach().requires_grad_(param.grad.requires_grad)
                    module._parameters[name] = new
                    continue
                param._data = fn(param)._data
                if param.grad is not None:  # in place too, as torch's `grad.data = ...`
                    param.grad._data = fn(param.grad)._data
            for name, buf in module._buffers.items():
                if buf is not None:
                    module._buffers[name] = fn(buf)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert floating-point parameters and buffers to a dtype; devices other than cpu raise."""
        target = kwargs.get("dtype")
        for arg in (*args, kwargs.get("device")):
            if isinstance(arg, Tensor):
                target = arg.dtype
            elif isinstance(arg, (dtypes.dtype, np.dtype)) or arg in (float, int, bool):
                target = arg
            elif arg is not None and known_device(arg).type == "meta":
                self._apply(lambda t: t.detach().to("meta"))
            elif arg is not None:
                self._apply(_to_cpu)
        if target is None:
            return self
        np_dtype = dtypes.to_numpy_dtype(target)
        if np_dtype.kind not in "fcV":
            raise TypeError(
                "nn.Module.to only accepts floating point or complex dtypes, but got desired "
                f"dtype=ember.{np_dtype.name}"
            )
        if np_dtype.kind == "c":
            warnings.warn(
                "Complex modules are a new feature under active development whose design may change, "
                "and some modules might not work as expected when using complex tensors as parameters "
                "or buffers.",
                UserWarning,
                stacklevel=2,
            )
        return self._apply(lambda t: t.detach().to(target) if t.is_floating_point() or t.is_complex() else t)

    def _float_to(self, dtype: Any) -> Module:
        """The floating point parameters and buffers cast to dtype; complex ones are left, as
        PyTorch's float(), double() and half() leave them (to() casts those too)."""
        return self._apply(lambda t: t.detach().to(dtype) if t.is_floating_point() else t)

    def float(self) -> Module:
        return self._float_to(dtypes.float32)

    def double(self) -> Module:
        return self._float_to(dtypes.float64)

    def half(self) -> Module:
        return self._float_to(dtypes.float16)

    def bfloat16(self) -> Module:
        """Converts floating point parameters and buffers to bfloat16, which needs the
        package ml_dtypes (without it this raises: see `ember.bfloat16`)."""
        return self._float_to(dtypes.bfloat16)

    def type(self, dst_type: Any) -> Module:
        """Cast every parameter and buffer to `dst_type` (a dtype, or a legacy type name)."""
        return self._apply(lambda t: t.type(dst_type))

    def to_empty(self, *, device: Any = None, recurse: bool = True) -> Module:
        """Give every parameter and buffer new storage of the same shape and dtype on `device`
        (the CPU by default, or 'meta'), uninitialised: the step after building a model on
        the meta device; with recurse=False, only this module's own, not its submodules'."""
        if device is not None and known_device(device).type == "meta":
            return self._apply(lambda t: Tensor(_meta.like(t._data)), recurse=recurse)
        return self._apply(_empty_on_cpu, recurse=recurse)

    def share_memory(self) -> Module:
        """Move every parameter, gradient and buffer into shared memory (Tensor.share_memory_),
        so that processes started afterwards, or sent the module, train the same weights
        (the Hogwild pattern)."""
        return self._apply(lambda t: t.share_memory_())

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """torch's in-place compile; ember has no compiler (see ember.compile), so calls run as written."""

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        return self.to("cuda")

    # ---- state dict --------------------------------------------------------------------

    # The format of this class's state dict, stored in the dict's `_metadata` ("version"), so
    # that `_load_from_state_dict` can read checkpoints of an older format (BatchNorm: 2).
    _version: int = 1

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """Write this module's own entries (not its children's); layers may override it."""
        _state_dict.save_own(self, destination, prefix, keep_vars)

    def state_dict(
        self, *args: Any, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, detached (sharing memory), and
        `_extra_state` entries of modules that define get_extra_state; with `_metadata`.

        As in PyTorch, `prefix` is put in front of the keys as it is ("model." gives
        "model.0.weight"), and the hooks registered with register_state_dict_pre_hook and
        register_state_dict_post_hook run before and after each module's entries.

        The deprecated positional form `state_dict(destination, prefix, keep_vars)` (which
        older code's overrides pass on) works with PyTorch's FutureWarning."""
        if args:
            warnings.warn(
                "Positional args are being deprecated, use kwargs instead. Refer to "
                "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.state_dict"
                " for details.",
                FutureWarning,
                stacklevel=2,
            )
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]
        return _state_dict.save(self, destination, prefix, keep_vars)  # type: ignore[return-value]

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        """Load this module's own entries (PyTorch's signature); layers with special needs
        override it. `state_dict` holds the entries under `prefix` and may be changed."""
        _state_dict.load_own(
            self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> _state_dict.IncompatibleKeys:
        """Copy values from a state dict into this module's parameters and buffers.

        Returns (missing_keys, unexpected_keys); with strict=True either raises. A shape
        mismatch always raises a RuntimeError naming the key and both shapes. assign=True
        makes the given tensors the new parameters instead of copying into the old ones.
        """
        return _state_dict.load(self, state_dict, strict, assign)

    def get_extra_state(self) -> Any:
        """Extra state for the state dict, stored under `_extra_state`: a module that has any
        overrides this and set_extra_state (the base class has none)."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. "
            "Override get_extra_state() in the module to give the extra state to save."
        )

    def set_extra_state(self, state: Any) -> None:
        """Restore what get_extra_state returned; override both together."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. "
            "Override set_extra_state() in the module to restore the extra state it saves."
        )

    def register_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call `hook(module, prefix, keep_vars)` before the module writes its state dict entries."""
        return add_hook(self._state_dict_pre_hooks, hook, False)

    def register_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call `hook(module, state_dict, prefix, local_metadata)` after the module and its
        children have written their entries; it may change state_dict in place and returns None."""
        return add_hook(self._state_dict_hooks, hook, False, ((self._state_dict_hooks_public, True),))

    def _register_state_dict_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """The older private form of register_state_dict_post_hook: a hook that returns a dict
        replaces the state dict of that call."""
        return add_hook(self._state_dict_hooks, hook, False)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call `hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)` before the module loads its entries; it may rewrite
        state_dict (the module's own copy), e.g. to rename the keys of an older format."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(
        self, hook: Callable[..., Any], with_module: bool = False
    ) -> RemovableHandle:
        """The private form: without with_module the hook is not given the module."""
        return add_hook(
            self._load_state_dict_pre_hooks, functools.partial(hook, self) if with_module else hook, False
        )

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call `hook(module, incompatible_keys)` after the module and its children are loaded;
        it may change incompatible_keys.missing_keys and .unexpected_keys in place (what
        strict=True raises on) and returns None."""
        return add_hook(self._load_state_dict_post_hooks, hook, False)

    # ---- printing ----------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside `Name(...)`; layers override it with their settings."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({name}): {_indent(repr(child), 2)}" for name, child in self._modules.items()]
        if len(lines) == 1 and not children:
            return f"{self._get_name()}({lines[0]})"
        lines += children
        if not lines:
            return f"{self._get_name()}()"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"
