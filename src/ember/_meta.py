"""The meta device: arrays with a shape and a dtype but no values (torch's device 'meta').

A meta tensor is an ordinary Tensor whose `_data` is a `MetaArray`: an ndarray subclass
whose every stride is 0, a view of one zero element, so that a (100000, 100000) float32
meta tensor costs a few bytes, not 40 GB. The CPU's hot paths test `out.__class__ is
ndarray` and pay nothing for this; a meta array takes their general branch.

Views (reshape, transpose, slicing, expand) are NumPy's own and stay zero-stride. What
computes goes through `__array_ufunc__` and `__array_function__`, which infer the result's
shape and dtype from NumPy's broadcasting and type rules and return a new meta array. A
function with no rule here runs on real zeros of its inputs' shapes when they are small
(`SMALL` elements in all) and raises NotImplementedError otherwise: a meta result never
has a guessed shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple
from numpy.lib.stride_tricks import as_strided

# inputs up to this many elements in all may be computed on real zeros (16 MB of float32)
SMALL = 1 << 22

NO_DATA = "Cannot copy out of meta tensor; no data!"


def empty(shape: Any, dtype: Any) -> MetaArray:
    """A meta array of that shape and dtype: one zero element, viewed with zero strides."""
    shape = tuple(int(s) for s in shape)
    one = np.zeros((), dtype).view(MetaArray)
    return as_strided(one, shape, (0,) * len(shape), subok=True)


def zeros(shape: tuple, dtype: Any, like: Any) -> Any:
    """np.zeros(shape, dtype), or a meta array of that shape when `like` is one: an op's
    scratch buffer on its input's device. Not np.zeros_like: on the CPU that follows like's
    memory order (a channels_last input gave a channels_last buffer), and it writes the
    zeros that np.zeros gets from calloc, microseconds more per call."""
    return empty(shape, dtype) if like.__class__ is MetaArray else np.zeros(shape, dtype)


def full(shape: tuple, value: Any, dtype: Any, like: Any) -> Any:
    """np.full(shape, value, dtype), or a meta array of that shape when `like` is one (see zeros)."""
    return empty(shape, dtype) if like.__class__ is MetaArray else np.full(shape, value, dtype)


def asarray(a: Any, dtype: Any = None) -> Any:
    """np.asarray(a, dtype), but a meta array stays meta: np.asarray would make it a CPU
    array of zeros (a silent change of device), and np.asanyarray with a new dtype would
    cast it into real memory of its full size."""
    if isinstance(a, MetaArray):
        return a if dtype is None or a.dtype == np.dtype(dtype) else empty(a.shape, dtype)
    return np.asarray(a, dtype)


def is_meta(a: Any) -> bool:
    return isinstance(a, MetaArray)


def elementwise(dtype: Any, *arrays: Any) -> MetaArray | None:
    """For an elementwise kernel that computes by masks and loops (the incomplete gamma
    function, zeta, the orthogonal polynomials): when an input is meta, the result, a meta
    array of the inputs' broadcast shape and that dtype, which the kernel returns at once;
    else None, and the kernel computes. (Run on the meta arrays themselves, its masked reads
    would depend on values a meta array does not have; its np.asarray made it a CPU result.)"""
    if not any(isinstance(a, MetaArray) for a in arrays):
        return None
    _same_device(arrays)
    return empty(_broadcast(arrays), dtype)


def like(a: Any) -> Any:
    """`a` as meta: an array of its shape and dtype (a number becomes a 0-d array)."""
    if isinstance(a, MetaArray):
        return a
    if isinstance(a, (np.ndarray, np.generic)):
        return empty(np.shape(a), a.dtype)
    if isinstance(a, tuple):
        return tuple(like(x) for x in a)
    if isinstance(a, list):
        return [like(x) for x in a]
    return a


def follow(a: Any, x: Any) -> Any:
    """An op's own constant `a` (weights, a matrix) made meta when its input x is meta, so
    that combining them is not taken for mixing devices."""
    return like(a) if isinstance(x, MetaArray) else a


def _zeros(a: Any) -> Any:
    """The real stand-in of a meta array, through lists and tuples: zeros of its shape, or
    for floating matrices identities (eye(m, n) in the last two dims), which LAPACK factors,
    inverts and decomposes without the singular zeros' LinAlgError. Only the result's shape
    and dtype are kept, so the values do not matter otherwise."""
    if isinstance(a, MetaArray):
        if a.ndim >= 2 and a.dtype.kind in "fc":
            return np.broadcast_to(np.eye(*a.shape[-2:], dtype=a.dtype), a.shape).copy()
        return np.zeros(a.shape, a.dtype)
    if isinstance(a, (tuple, list)):
        return type(a)(_zeros(x) for x in a)
    return a


def _tiny(a: Any) -> Any:
    """A one-element zero array of a meta array's dtype and rank: what NumPy's type
    resolution needs to see, without the size."""
    if isinstance(a, MetaArray):
        return np.zeros((1,) * a.ndim, a.dtype)
    return a


def _metas(args: Any, found: list) -> list:
    for a in args:
        if isinstance(a, MetaArray):
            found.append(a)
        elif isinstance(a, (tuple, list)):
            _metas(a, found)
        elif isinstance(a, dict):
            _metas(tuple(a.values()), found)
    return found


def on_zeros(func: Any, name: str, args: tuple, kwargs: dict) -> Any:
    """func run on real zeros in place of the meta arrays, its arrays made meta again: the
    fallback for what has no shape rule, for inputs of up to SMALL elements."""
    metas = _metas((args, kwargs), [])
    total = sum(m.size for m in metas)
    if total > SMALL:
        shapes = ", ".join(str(tuple(m.shape)) for m in metas)
        raise NotImplementedError(
            f"ember's meta device cannot infer the result of {name} on inputs of shapes {shapes} "
            f"without computing it, and computes it on zeros only up to {SMALL} elements; "
            "use smaller shapes on 'meta', or the CPU"
        )
    with np.errstate(all="ignore"):
        out = func(*_zeros(args), **{k: _zeros(v) for k, v in kwargs.items()})
    return like(out)


def _same_device(inputs: tuple) -> None:
    """PyTorch's error for a meta tensor and a CPU tensor in one op; a 0-d CPU array (a
    number) may join a meta one, as a CPU scalar tensor may in PyTorch (a 0-d meta one may
    not join CPU ones). The expected device is the first array's, as PyTorch's."""
    arrays = [a for a in inputs if isinstance(a, np.ndarray) and (a.ndim or isinstance(a, MetaArray))]
    if arrays and any(a.__class__ is np.ndarray for a in arrays):
        first, other = ("meta", "cpu") if isinstance(arrays[0], MetaArray) else ("cpu", "meta")
        raise RuntimeError(f"Tensor on device {other} is not on the expected device {first}!")


def _broadcast(inputs: tuple) -> tuple:
    return np.broadcast_shapes(*[np.shape(a) for a in inputs if isinstance(a, (np.ndarray, np.generic))])


def _matmul_shape(a: tuple, b: tuple) -> tuple:
    if not a or not b:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0 (size {b2[-2]} is "
            f"different from {a2[-1]})"
        )
    shape = np.broadcast_shapes(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
    if len(b) == 1:
        shape = shape[:-1]
    if len(a) == 1:
        shape = shape[:-2] + shape[-1:] if len(b) > 1 else shape[:-1]
    return shape


def _reduce_shape(shape: tuple, kwargs: dict) -> tuple:
    axis = kwargs.get("axis", 0)
    axes = tuple(range(len(shape))) if axis is None else normalize_axis_tuple(axis, len(shape))
    if kwargs.get("keepdims", False):
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _is_meta_mask(k: Any) -> bool:
    return isinstance(k, MetaArray) and k.dtype == bool


def data_dependent(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError(
        "the shape of this result depends on the values of a meta tensor, which has none "
        "(nonzero, unique, boolean masks: as in PyTorch, they do not run on 'meta')"
    )


def row_major_steps(shape: tuple) -> tuple:
    """The strides, in elements, of a C-ordered array of that shape (PyTorch's contiguous
    strides: a dim of size 0 or 1 steps as if it had size 1)."""
    steps, step = [], 1
    for n in reversed(shape):
        steps.append(step)
        step *= max(n, 1)
    return tuple(reversed(steps))


def probe(a: MetaArray) -> np.ndarray:
    """A stand-in with a's shape and its logical strides (those of PyTorch's meta tensor),
    over one real element: NumPy computes a view's strides on it without reading memory.
    Only its metadata may be used; its elements are never read (most lie outside its one)."""
    return as_strided(np.zeros(1, a.dtype), a.shape, tuple(s * a.itemsize for s in a.logical_strides()))


def _traced(out: Any, source: MetaArray, make: Any) -> Any:
    """out, a meta view of source, with the logical strides and storage offset of
    make(probe(source)), the same view of source's probe."""
    if isinstance(out, MetaArray):
        stand_in = probe(source)
        view = make(stand_in)
        size = max(view.itemsize, 1)
        out._steps = tuple(s // size for s in view.strides)
        moved = view.__array_interface__["data"][0] - stand_in.__array_interface__["data"][0]
        out._offset = source._offset + moved // size
    return out


class MetaArray(np.ndarray):
    """An array with a shape and a dtype but no values (see the module's docstring).

    Its strides are all zero, so that it needs one element of memory; `_steps` keeps the
    strides PyTorch's meta tensor would have (None: row-major), which the view methods
    below carry from an array to its views."""

    _steps: tuple | None = None
    _offset = 0  # where a view starts in its root meta array, in elements (storage_offset())

    def __array_finalize__(self, obj: Any) -> None:
        # a view starts where its source does unless a view method below says otherwise
        self._offset = getattr(obj, "_offset", 0)

    def logical_strides(self) -> tuple:
        """The strides, in elements, that the tensor's stride() reports."""
        return self._steps if self._steps is not None else row_major_steps(self.shape)

    # DLPack shares memory, and a meta array has none to share: PyTorch's errors, where
    # NumPy would export the one zero element behind the zero strides as a CPU array
    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        raise BufferError("Cannot pack tensors on meta")

    def __dlpack_device__(self) -> Any:
        raise ValueError("Unknown device type meta for Dlpack")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, out: Any = None, **kwargs: Any) -> Any:
        if method == "at":  # np.add.at(target, ...): in place, nothing to write
            return None
        if out is not None:
            # in place: a meta array holds no values to write, the target is the result, if
            # it can hold it (NumPy's error, which ember's in-place ops turn into PyTorch's)
            if method == "__call__" and ufunc.signature is None:
                shape = _broadcast(inputs)
                for o in out:
                    if np.broadcast_shapes(o.shape, shape) != o.shape:
                        raise ValueError(
                            f"non-broadcastable output operand with shape {o.shape} doesn't match "
                            f"the broadcast shape {shape}"
                        )
            return out[0] if len(out) == 1 else out
        tiny = [_tiny(a) for a in inputs]
        with np.errstate(all="ignore"):
            if method == "__call__" and ufunc.signature is None:
                _same_device(inputs)  # (PyTorch lets a matmul mix them, as here)
                shape = _broadcast(inputs)
                typed = ufunc(*tiny, **kwargs)
                if isinstance(typed, tuple):
                    return tuple(empty(shape, t.dtype) for t in typed)
                return empty(shape, np.result_type(typed))
            if method == "__call__" and ufunc is np.matmul and not kwargs:
                shape = _matmul_shape(np.shape(inputs[0]), np.shape(inputs[1]))
                return empty(shape, np.matmul(*[np.zeros((1, 1), np.result_type(t)) for t in tiny]).dtype)
            if method == "reduce":
                kw = {k: v for k, v in kwargs.items() if k != "where"}
                typed = ufunc.reduce(*tiny, **kw)
                return empty(_reduce_shape(np.shape(inputs[0]), kwargs), np.result_type(typed))
            if method == "accumulate":
                return empty(np.shape(inputs[0]), ufunc.accumulate(*tiny, **kwargs).dtype)
        return on_zeros(getattr(ufunc, method), f"numpy.{ufunc.__name__}.{method}", inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        rule = _RULES.get(func)
        if rule is not None:
            return rule(*args, **kwargs)
        if func in _VIEWS:  # NumPy's own code: views, and ufuncs that come back here
            return func._implementation(*args, **kwargs)
        return on_zeros(func, f"numpy.{func.__name__}", args, kwargs)

    # ---- methods of ndarray that compute without dispatching ---------------------------

    def __getitem__(self, key: Any) -> Any:
        keys = key if isinstance(key, tuple) else (key,)
        if all(k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice)) for k in keys):
            out = np.ndarray.__getitem__(self, key)  # a view, zero strides kept
            if not isinstance(out, MetaArray):  # one element: its 0-d view, which has an offset
                key = (*keys, ...)
                out = np.ndarray.__getitem__(self, key)
            return _traced(out, self, lambda p: p[key])
        # A meta mask selects no element here: ember's ops index with masks only to write the
        # selection back (y[mask] = f(x[mask])), which a meta array ignores; a user's x[mask]
        # reaches np.nonzero first, which raises as PyTorch does.
        keys = tuple(
            part for k in keys for part in ((np.zeros(0, np.intp),) * k.ndim if _is_meta_mask(k) else (k,))
        )
        stand_in = as_strided(np.zeros((), np.bool_), self.shape, (0,) * self.ndim)
        plain = tuple(np.zeros(k.shape, k.dtype) if isinstance(k, MetaArray) else k for k in keys)
        return empty(stand_in[plain].shape, self.dtype)

    # ---- views: their logical strides, computed on the probe ------------------------------

    def transpose(self, *axes: Any) -> Any:
        return _traced(np.ndarray.transpose(self, *axes), self, lambda p: p.transpose(*axes))

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        return _traced(np.ndarray.swapaxes(self, axis1, axis2), self, lambda p: p.swapaxes(axis1, axis2))

    def squeeze(self, axis: Any = None) -> Any:
        return _traced(np.ndarray.squeeze(self, axis), self, lambda p: p.squeeze(axis))

    def reshape(self, *shape: Any, **kwargs: Any) -> Any:
        out = np.ndarray.reshape(self, *shape, **kwargs)
        if self._steps is None or kwargs.get("order", "C") != "C" or not isinstance(out, MetaArray):
            return out  # row-major stays row-major
        try:  # copy=False: NumPy refuses, reading and allocating nothing, where a copy is needed
            return _traced(out, self, lambda p: np.reshape(p, out.shape, copy=False))
        except ValueError:  # PyTorch's reshape copies here: a new array (no view), row-major
            return empty(out.shape, out.dtype)
        except TypeError:  # NumPy < 2.1 has no copy=: taken for a view, row-major
            out._offset = 0
            return out

    def __setitem__(self, key: Any, value: Any) -> None:
        return None  # no values to write

    def fill(self, value: Any) -> None:
        return None

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> MetaArray:
        return empty(self.shape, dtype)

    def copy(self, order: Any = "C") -> MetaArray:
        return empty(self.shape, self.dtype)

    def ravel(self, order: Any = "C") -> MetaArray:
        return self.reshape(-1)

    flatten = ravel

    def argmax(self, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> MetaArray:
        return empty(_reduce_shape(self.shape, {"axis": axis, "keepdims": keepdims}), np.intp)

    argmin = argmax

    def nonzero(self) -> Any:
        return data_dependent()

    def item(self, *args: Any) -> Any:
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    def tolist(self) -> Any:
        # zeros, for ember's own small-array fast paths (an optimizer's few-element update,
        # written back into a meta array as nothing); Tensor.tolist raises PyTorch's error
        return on_zeros(np.ndarray.tolist, "tolist", (self,), {})

    def tobytes(self, order: Any = "C") -> bytes:
        raise NotImplementedError(NO_DATA)

    def __reduce__(self) -> Any:
        return (empty, (self.shape, self.dtype))

    def __repr__(self) -> str:
        return f"MetaArray(shape={self.shape}, dtype={self.dtype})"

    __str__ = __repr__


def _concatenate(
    arrays: Any, axis: Any = 0, out: Any = None, dtype: Any = None, casting: str = "same_kind"
) -> Any:
    arrays = list(arrays)
    _same_device(arrays)
    if axis is None:
        arrays = [np.reshape(a, -1) for a in arrays]
        axis = 0
    tiny = [np.zeros((1,) * np.ndim(a), np.result_type(a)) for a in arrays]
    typed = np.concatenate(tiny, axis=axis, dtype=dtype, casting=casting)
    first = list(np.shape(arrays[0]))
    ax = normalize_axis_tuple(axis, len(first))[0]
    for a in arrays[1:]:
        shape = list(np.shape(a))
        if len(shape) != len(first) or any(s != f for i, (s, f) in enumerate(zip(shape, first)) if i != ax):
            return on_zeros(np.concatenate, "numpy.concatenate", (arrays,), {"axis": axis})
    first[ax] = sum(np.shape(a)[ax] for a in arrays)
    return empty(first, typed.dtype)


def _where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        raise NotImplementedError(
            "nonzero of a meta tensor: the result's shape depends on values, which a meta tensor does not have"
        )
    dtype = np.where(True, _tiny(x), _tiny(y)).dtype
    return empty(np.broadcast_shapes(np.shape(condition), np.shape(x), np.shape(y)), dtype)


def _dot(a: Any, b: Any, out: Any = None) -> Any:
    if np.ndim(a) <= 2 and np.ndim(b) <= 2 and np.ndim(a) and np.ndim(b):
        return empty(
            _matmul_shape(np.shape(a), np.shape(b)),
            np.dot(_tiny(a).reshape(-1)[:1], _tiny(b).reshape(-1)[:1]).dtype,
        )
    return on_zeros(np.dot, "numpy.dot", (a, b), {})


def _einsum(*operands: Any, **kwargs: Any) -> Any:
    spec = operands[0]
    if not isinstance(spec, str) or "." in spec or kwargs.get("out") is not None:
        return on_zeros(np.einsum, "numpy.einsum", operands, kwargs)
    spec = spec.replace(" ", "")
    inputs, _, output = spec.partition("->")
    terms = inputs.split(",")
    sizes: dict = {}
    for term, a in zip(terms, operands[1:]):
        for letter, n in zip(term, np.shape(a)):
            sizes[letter] = max(sizes.get(letter, 1), n)
    if not _:
        output = "".join(sorted(c for c in sizes if inputs.count(c) == 1))
    tiny = [np.zeros((1,) * np.ndim(a), np.result_type(a)) for a in operands[1:]]
    kw = {k: v for k, v in kwargs.items() if k != "optimize"}
    return empty(tuple(sizes[c] for c in output), np.einsum(spec, *tiny, **kw).dtype)


def _copyto(dst: Any, src: Any, casting: str = "same_kind", where: Any = True) -> None:
    if not isinstance(dst, MetaArray):  # a meta array's zeros into a CPU one: PyTorch refuses
        raise NotImplementedError(NO_DATA)
    return None  # into a meta array: nothing to write


def _same(a: Any, *args: Any, dtype: Any = None, shape: Any = None, **kwargs: Any) -> Any:
    return empty(np.shape(a) if shape is None else shape, np.result_type(a) if dtype is None else dtype)


def _copy(a: Any, *args: Any, **kwargs: Any) -> Any:
    return empty(np.shape(a), np.result_type(a))


_RULES = {
    np.concatenate: _concatenate,
    np.where: _where,
    np.dot: _dot,
    np.einsum: _einsum,
    np.copyto: _copyto,
    np.zeros_like: _same,
    np.ones_like: _same,
    np.empty_like: _same,
    np.full_like: lambda a, fill_value, *args, **kwargs: _same(a, **kwargs),
    np.copy: _copy,
    np.count_nonzero: lambda a, axis=None, *, keepdims=False: empty(
        _reduce_shape(np.shape(a), {"axis": axis, "keepdims": keepdims}), np.intp
    ),
    np.nonzero: data_dependent,
    np.flatnonzero: data_dependent,
    np.argwhere: data_dependent,
    np.unique: data_dependent,
    np.extract: data_dependent,
    np.ascontiguousarray: _copy,
    np.ravel: lambda a, order="C": np.reshape(a, -1),
    # views, kept meta (NumPy's default makes them plain arrays)
    np.broadcast_to: lambda array, shape, subok=False: _traced(
        np.broadcast_to._implementation(array, shape, subok=True), array, lambda p: np.broadcast_to(p, shape)
    ),
    np.broadcast_arrays: lambda *args, subok=False: np.broadcast_arrays._implementation(*args, subok=True),
}

# functions NumPy writes with views, attributes and ufuncs, which come back to the rules above
_VIEWS = {
    np.reshape, np.transpose, np.moveaxis, np.swapaxes, np.squeeze, np.expand_dims,
    np.atleast_1d, np.atleast_2d, np.atleast_3d,
    np.ndim, np.shape, np.size, np.result_type, np.can_cast, np.may_share_memory,
    np.shares_memory, np.mean, np.var, np.std, np.sum, np.prod, np.max, np.min, np.amax,
    np.amin, np.any, np.all, np.real, np.imag, np.diagonal, np.flip, np.split, np.array_split,
    np.stack, np.hstack, np.vstack, np.iscomplexobj, np.isrealobj, np.clip, np.tensordot,
    np.unstack, np.rollaxis,
}  # fmt: skip
