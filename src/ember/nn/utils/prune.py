"""Pruning: zero out parts of a parameter through a mask (torch.nn.utils.prune).

Pruning `weight` replaces the parameter by `weight_orig` (the same Parameter, still trained)
and a buffer `weight_mask` of ones and zeros; `weight` becomes a plain attribute,
`weight_orig * weight_mask`, recomputed by a forward pre-hook before every forward. Pruning
the same parameter again combines the masks: a PruningContainer hook asks the newest method
for a mask over the entries (or channels) still alive only. `remove` makes it permanent:
`weight` is a Parameter again, holding the pruned values.

Masks are constants: they are computed on NumPy arrays, outside the graph; the gradient
reaches `weight_orig` through the product with the mask.

Which entries a method picks among equal scores matters for reproducing PyTorch's masks.
PyTorch's topk on the CPU selects with the C++ standard library's partial_sort (small k)
or nth_element, which are not stable; `_torch_topk` below reproduces those algorithms
(libstdc++'s) step by step when, and only when, ties straddle the cut.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, TypeVar

import numpy as np

from ember._tensor import Tensor
from ember.nn.module import Module
from ember.random import rng

__all__ = [
    "BasePruningMethod",
    "CustomFromMask",
    "Identity",
    "L1Unstructured",
    "LnStructured",
    "PruningContainer",
    "RandomStructured",
    "RandomUnstructured",
    "custom_from_mask",
    "global_unstructured",
    "identity",
    "is_pruned",
    "l1_unstructured",
    "ln_structured",
    "random_structured",
    "random_unstructured",
    "remove",
]

_ModuleT = TypeVar("_ModuleT", bound=Module)


# ---- PyTorch's topk selection, ties included ---------------------------------------------------


def _torch_topk(values: np.ndarray, k: int, largest: bool) -> np.ndarray:
    """The indices of the k largest (or smallest) of the 1-d `values`, the same set that
    PyTorch's CPU topk picks. Without a tie at the cut the set is unique and NumPy finds it;
    with one, libstdc++'s selection is replayed to pick the same tied entries."""
    n = values.size
    if k == 0:
        return np.zeros(0, np.int64)
    if k == n:
        return np.arange(n)
    if not np.isnan(values).any():
        key = -values if largest else values
        order = np.argsort(key, kind="stable")
        if key[order[k - 1]] != key[order[k]]:  # the k-th and the (k+1)-th differ: no tie at the cut
            return np.sort(order[:k])
    return np.sort(_StdSelect(values, largest).top(k))


class _StdSelect:
    """The selection of PyTorch's CPU topk: pairs (value, index) in index order, ordered by a
    comparator on the value alone (NaN counts as the largest), then std::partial_sort when
    k * 64 <= n, else std::nth_element, as libstdc++ implements them."""

    def __init__(self, values: np.ndarray, largest: bool) -> None:
        self.a = [(float(v), i) for i, v in enumerate(values.tolist())]
        self.largest = largest

    def comp(self, x: tuple[float, int], y: tuple[float, int]) -> bool:
        """True when x must come before y."""
        xv, yv = x[0], y[0]
        if self.largest:
            return (xv != xv and yv == yv) or xv > yv
        return (xv == xv and yv != yv) or xv < yv

    def top(self, k: int) -> list[int]:
        n = len(self.a)
        if k * 64 <= n:
            self.heap_select(0, k, n)  # partial_sort's first step; its sort_heap keeps the set
        else:
            self.introselect(0, k - 1, n, 2 * (n.bit_length() - 1))
        return [i for _, i in self.a[:k]]

    # std::push_heap / __adjust_heap / make_heap / pop_heap over a[first:...]
    def push_heap(self, first: int, hole: int, top: int, value: tuple[float, int]) -> None:
        a = self.a
        parent = (hole - 1) // 2
        while hole > top and self.comp(a[first + parent], value):
            a[first + hole] = a[first + parent]
            hole = parent
            parent = (hole - 1) // 2
        a[first + hole] = value

    def adjust_heap(self, first: int, hole: int, length: int, value: tuple[float, int]) -> None:
        a = self.a
        top = hole
        child = hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if self.comp(a[first + child], a[first + child - 1]):
                child -= 1
            a[first + hole] = a[first + child]
            hole = child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            a[first + hole] = a[first + child - 1]
            hole = child - 1
        self.push_heap(first, hole, top, value)

    def make_heap(self, first: int, last: int) -> None:
        length = last - first
        if length < 2:
            return
        parent = (length - 2) // 2
        while True:
            self.adjust_heap(first, parent, length, self.a[first + parent])
            if parent == 0:
                return
            parent -= 1

    def heap_select(self, first: int, middle: int, last: int) -> None:
        a = self.a
        self.make_heap(first, middle)
        for i in range(middle, last):
            if self.comp(a[i], a[first]):
                value = a[i]
                a[i] = a[first]
                self.adjust_heap(first, 0, middle - first, value)

    def introselect(self, first: int, nth: int, last: int, depth: int) -> None:
        a = self.a
        while last - first > 3:
            if depth == 0:
                self.heap_select(first, nth + 1, last)
                a[first], a[nth] = a[nth], a[first]
                return
            depth -= 1
            cut = self.partition_pivot(first, last)
            if cut <= nth:
                first = cut
            else:
                last = cut
        # insertion sort of the rest: stable, so a sort keyed on the comparator's order
        part = a[first:last]
        for i in range(1, len(part)):
            value = part[i]
            j = i
            while j > 0 and self.comp(value, part[j - 1]):
                part[j] = part[j - 1]
                j -= 1
            part[j] = value
        a[first:last] = part

    def partition_pivot(self, first: int, last: int) -> int:
        a = self.a
        mid = first + (last - first) // 2
        self.median_to_first(first, first + 1, mid, last - 1)
        pivot = a[first]
        lo, hi = first + 1, last
        while True:
            while self.comp(a[lo], pivot):
                lo += 1
            hi -= 1
            while self.comp(pivot, a[hi]):
                hi -= 1
            if not lo < hi:
                return lo
            a[lo], a[hi] = a[hi], a[lo]
            lo += 1

    def median_to_first(self, result: int, x: int, y: int, z: int) -> None:
        a, comp = self.a, self.comp
        if comp(a[x], a[y]):
            if comp(a[y], a[z]):
                pick = y
            elif comp(a[x], a[z]):
                pick = z
            else:
                pick = x
        elif comp(a[x], a[z]):
            pick = x
        elif comp(a[y], a[z]):
            pick = z
        else:
            pick = y
        a[result], a[pick] = a[pick], a[result]


# ---- validation of `amount` ------------------------------------------------------------------


def _validate_amount_init(amount: Any) -> None:
    """amount: a fraction in [0, 1] (float) or a count >= 0 (int), as PyTorch checks it."""
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
        not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0
    ):
        raise ValueError(
            f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer"
        )


def _validate_amount(amount: Any, tensor_size: int) -> None:
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(
            f"amount={amount} should be smaller than the number of parameters to prune={tensor_size}"
        )


def _nparams_toprune(amount: Any, tensor_size: int) -> int:
    """An int amount is the count; a float the fraction, rounded half to even (Python's round)."""
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return round(amount * tensor_size)


def _validate_structured(t: Tensor) -> None:
    if t.dim() <= 1:
        raise ValueError(
            "Structured pruning can only be applied to multidimensional tensors. Found tensor of shape "
            f"{tuple(t.shape)} with {t.dim()} dims"
        )


def _validate_dim(t: Tensor, dim: int) -> None:
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")


def _like(values: Any, template: Tensor) -> Tensor:
    """A constant tensor of `values` with the template's dtype (masks have the weight's dtype)."""
    return Tensor(np.asarray(values, dtype=template._data.dtype))


def _channel_mask(t: Tensor, dim: int, keep: np.ndarray) -> np.ndarray:
    """Ones in the channels `keep` (indices or booleans) along dim, zeros elsewhere."""
    mask = np.zeros(t.shape, dtype=t._data.dtype)
    slc: list[Any] = [slice(None)] * t.dim()
    slc[dim] = keep
    mask[tuple(slc)] = 1
    return mask


# ---- the methods ---------------------------------------------------------------------------


class BasePruningMethod(ABC):
    """A way of choosing a mask. Subclasses set PRUNING_TYPE ("unstructured", "structured"
    with a `dim` attribute, or "global") and compute_mask(t, default_mask); an instance is
    the forward pre-hook that recomputes the pruned tensor."""

    _tensor_name: str

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask for t (same shape), given the mask already in place."""

    def apply_mask(self, module: Module) -> Tensor:
        """The pruned tensor, `<name>_orig * <name>_mask` (differentiable in the original)."""
        if getattr(self, "_tensor_name", None) is None:
            raise AssertionError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(
        cls, module: Module, name: str, *args: Any, importance_scores: Tensor | None = None, **kwargs: Any
    ) -> Any:
        """Prune `name` of module with cls(*args, **kwargs); a parameter pruned before gets a
        PruningContainer that combines the masks. Returns the method (hook) in place."""
        old_method = None
        found = 0
        for key, hook in list(module._forward_pre_hooks.items()):
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old_method = hook
                del module._forward_pre_hooks[key]
                found += 1
        if found > 1:
            raise AssertionError(
                f"Avoid adding multiple pruning hooks to the same tensor {name} of module {module}. "
                "Use a PruningContainer."
            )

        method = cls(*args, **kwargs)
        method._tensor_name = name
        if isinstance(old_method, PruningContainer):
            old_method.add_pruning_method(method)
            method = old_method
        elif isinstance(old_method, BasePruningMethod):
            container = PruningContainer(old_method)
            container.add_pruning_method(method)
            method = container

        orig = getattr(module, name)
        if importance_scores is not None:
            if importance_scores.shape != orig.shape:
                raise AssertionError(
                    f"importance_scores should have the same shape as parameter {name} of {module}"
                )
        else:
            importance_scores = orig

        if old_method is None:  # the first pruning: the parameter moves to <name>_orig
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = _like(np.ones(orig.shape), orig)
        else:
            default_mask = Tensor(getattr(module, name + "_mask")._data.copy())

        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if old_method is None:  # undo the move, as if nothing happened
                orig = getattr(module, name + "_orig")
                module.register_parameter(name, orig)
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(
        self, t: Tensor, default_mask: Tensor | None = None, importance_scores: Tensor | None = None
    ) -> Tensor:
        """t times the mask computed from importance_scores (t itself by default), without a module."""
        if importance_scores is not None and importance_scores.shape != t.shape:
            raise AssertionError("importance_scores should have the same shape as tensor t")
        scores = importance_scores if importance_scores is not None else t
        default_mask = default_mask if default_mask is not None else _like(np.ones(t.shape), t)
        return t * self.compute_mask(scores, default_mask=default_mask)

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: `name` becomes a Parameter holding orig * mask (the
        original Parameter object, its values replaced); `_orig` and `_mask` go."""
        if getattr(self, "_tensor_name", None) is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        if self._tensor_name in module.__dict__:
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.detach()
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """The successive pruning methods applied to one parameter. Its mask is the newest
    method's, computed on the part of the tensor that the masks so far left alive (the
    entries still 1, the channels not entirely zero, or all of it for a global method)."""

    def __init__(self, *args: Any) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod | None) -> None:
        if method is not None and not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and getattr(self, "_tensor_name", None) != method._tensor_name:
            raise ValueError(
                f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' "
                f"to PruningContainer {self}. Found '{method._tensor_name}'"
            )
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Any:
        return iter(self._pruning_methods)

    def __getitem__(self, idx: int) -> BasePruningMethod:
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        method = self._pruning_methods[-1]
        mask = default_mask._data
        new_mask = mask.astype(t._data.dtype)
        kind = method.PRUNING_TYPE
        if kind == "unstructured":
            slc: Any = mask == 1
        elif kind == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError(
                    "Pruning methods of PRUNING_TYPE 'structured' need to have the attribute `dim` defined."
                )
            n_dims = t.dim()
            dim = method.dim + n_dims if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {n_dims}")
            others = tuple(d for d in range(n_dims) if d != dim)
            keep = mask.sum(axis=others) != 0
            parts: list[Any] = [slice(None)] * n_dims
            parts[dim] = keep
            slc = tuple(parts)
        elif kind == "global":
            slc = (slice(None),) * t.dim()
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")
        partial = method.compute_mask(Tensor(t._data[slc]), default_mask=Tensor(mask[slc]))
        new_mask[slc] = partial._data.astype(new_mask.dtype)
        return Tensor(new_mask)


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones (a way to give a parameter the pruned layout)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Module, name: str) -> Any:  # type: ignore[override]
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Prunes `amount` entries (a count, or a fraction of them) chosen uniformly at random."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: int | float) -> None:
        _validate_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        size = t.numel()
        n = _nparams_toprune(self.amount, size)
        _validate_amount(n, size)
        mask = default_mask._data.copy()
        if n != 0:
            mask.reshape(-1)[rng(None).permutation(size)[:n]] = 0
        return Tensor(mask)

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float) -> Any:  # type: ignore[override]
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the `amount` entries of smallest absolute value (ties broken as PyTorch's topk)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: int | float) -> None:
        _validate_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        size = t.numel()
        n = _nparams_toprune(self.amount, size)
        _validate_amount(n, size)
        mask = default_mask._data.copy()
        if n != 0:
            mask.reshape(-1)[_torch_topk(np.abs(t._data).reshape(-1), n, largest=False)] = 0
        return Tensor(mask)

    @classmethod
    def apply(
        cls, module: Module, name: str, amount: int | float, importance_scores: Tensor | None = None
    ) -> Any:  # type: ignore[override]
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes `amount` whole channels along `dim` (slices t[..., i, ...]) chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, dim: int = -1) -> None:
        _validate_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        _validate_structured(t)
        _validate_dim(t, self.dim)
        channels = t.shape[self.dim]
        n = _nparams_toprune(self.amount, channels)
        _validate_amount(n, channels)
        if n == 0:
            return default_mask
        keep = np.ones(channels, bool)
        keep[rng(None).permutation(channels)[:n]] = False
        mask = _channel_mask(t, self.dim, keep)
        return Tensor(mask * default_mask._data.astype(mask.dtype))

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float, dim: int = -1) -> Any:  # type: ignore[override]
        return super().apply(module, name, amount=amount, dim=dim)


def _channel_norms(t: np.ndarray, n: Any, dim: int) -> np.ndarray:
    """The n-norm of each channel along dim, over all the other dims ('fro' is the 2-norm)."""
    dim = dim % t.ndim
    flat = np.moveaxis(t, dim, 0).reshape(t.shape[dim], -1)
    if n == "fro":
        if t.ndim > 3:  # torch.norm's Frobenius norm is over 1 or 2 dims only
            raise RuntimeError(
                f"ln_structured: n='fro' takes the norm over 1 or 2 dims, but a {t.ndim}-d tensor has "
                f"{t.ndim - 1} besides dim; use n=2 (the same value) instead"
            )
        n = 2
    if n == "nuc":  # the sum of the singular values of each channel's matrix
        if t.ndim != 3:
            others = " ".join(str(d) for d in range(t.ndim) if d != dim)
            raise RuntimeError(
                f"linalg.matrix_norm: dim must be a 2-tuple. Got {others} (ln_structured: the nuclear "
                "norm ('nuc') needs a matrix per channel, a 3-d tensor; use a numeric n)"
            )
        mats = np.moveaxis(t, dim, 0)
        if mats.size == 0:
            return np.zeros(t.shape[dim], t.dtype)
        return np.linalg.svd(mats, compute_uv=False).sum(axis=-1)
    if isinstance(n, str):
        raise RuntimeError(
            f"ln_structured: norm order {n!r} not supported; use a number, inf, 'fro' or 'nuc'"
        )
    return np.linalg.norm(flat, ord=float(n), axis=1) if flat.shape[1] else np.zeros(t.shape[dim], t.dtype)


class LnStructured(BasePruningMethod):
    """Prunes the `amount` channels along `dim` of smallest Ln norm (n: any order of
    torch.norm: int, float, inf, -inf, 'fro', and 'nuc' for a 3-d tensor)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, n: Any, dim: int = -1) -> None:
        _validate_amount_init(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        _validate_structured(t)
        _validate_dim(t, self.dim)
        channels = t.shape[self.dim]
        n_prune = _nparams_toprune(self.amount, channels)
        _validate_amount(n_prune, channels)
        # before the early return: an n that cannot be computed raises even when nothing is pruned (PyTorch)
        norms = _channel_norms(t._data, self.n, self.dim).astype(t._data.dtype)
        if n_prune == 0:
            return default_mask
        keep = _torch_topk(norms, channels - n_prune, largest=True)
        mask = _channel_mask(t, self.dim, keep)
        return Tensor(mask * default_mask._data.astype(mask.dtype))

    @classmethod
    def apply(  # type: ignore[override]
        cls,
        module: Module,
        name: str,
        amount: int | float,
        n: Any,
        dim: int,
        importance_scores: Tensor | None = None,
    ) -> Any:
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where a given mask is 0 (multiplied into the mask already in place)."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if default_mask.shape != self.mask.shape:
            raise AssertionError(
                f"custom_from_mask: the mask's shape {tuple(self.mask.shape)} differs from the "
                f"parameter's {tuple(default_mask.shape)}"
            )
        given = np.asarray(self.mask._data if isinstance(self.mask, Tensor) else self.mask)
        return Tensor(default_mask._data * given.astype(default_mask._data.dtype))

    @classmethod
    def apply(cls, module: Module, name: str, mask: Tensor) -> Any:  # type: ignore[override]
        return super().apply(module, name, mask=mask)


# ---- the functions ---------------------------------------------------------------------------


def identity(module: _ModuleT, name: str) -> _ModuleT:
    """Give `name` the pruned layout (`name_orig`, `name_mask` of ones) without pruning anything."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: _ModuleT, name: str, amount: int | float) -> _ModuleT:
    """Prune `amount` random entries of `name` (an int count or a float fraction)."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(
    module: _ModuleT, name: str, amount: int | float, importance_scores: Tensor | None = None
) -> _ModuleT:
    """Prune the `amount` entries of `name` of smallest |importance_scores| (the weight's own by default)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: _ModuleT, name: str, amount: int | float, dim: int) -> _ModuleT:
    """Prune `amount` random channels of `name` along dim."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(
    module: _ModuleT,
    name: str,
    amount: int | float,
    n: Any,
    dim: int,
    importance_scores: Tensor | None = None,
) -> _ModuleT:
    """Prune the `amount` channels of `name` along dim of smallest n-norm of importance_scores."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(
    parameters: Iterable[tuple[Module, str]],
    pruning_method: type[BasePruningMethod],
    importance_scores: dict[tuple[Module, str], Tensor] | None = None,
    **kwargs: Any,
) -> None:
    """Prune several (module, name) parameters together, as one vector: e.g. with
    L1Unstructured and amount=0.2, the 20% smallest entries over all of them. Each parameter
    then carries its share of the global mask (a CustomFromMask)."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")

    def flat(tensors: list[Tensor]) -> np.ndarray:
        return np.concatenate([t._data.reshape(-1) for t in tensors]) if tensors else np.zeros(0)

    scores = flat([importance_scores.get((m, n), getattr(m, n)) for m, n in parameters])
    default_mask = flat(
        [
            m._buffers[n + "_mask"] if n + "_mask" in m._buffers else Tensor(np.ones(getattr(m, n).shape))
            for m, n in parameters
        ]
    )
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(
            'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
            f"Found method {pruning_method} of type {method.PRUNING_TYPE}"
        )
    container = PruningContainer()
    container._tensor_name = "temp"
    container.add_pruning_method(method)
    final_mask = container.compute_mask(Tensor(scores), Tensor(default_mask.astype(scores.dtype)))._data

    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        count = param.numel()
        piece = final_mask[start : start + count].reshape(param.shape)
        custom_from_mask(module, name, mask=Tensor(piece))
        start += count


def custom_from_mask(module: _ModuleT, name: str, mask: Tensor) -> _ModuleT:
    """Prune `name` where `mask` is 0."""
    CustomFromMask.apply(module, name, mask=mask)
    return module


def remove(module: _ModuleT, name: str) -> _ModuleT:
    """Make the pruning of `name` permanent: it becomes a Parameter with the pruned values
    again, and `name_orig`, `name_mask` and the hook go."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module: Module) -> bool:
    """Whether module or any submodule has a pruning hook."""
    for _, sub in module.named_modules():
        for hook in sub._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False
