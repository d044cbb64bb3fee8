"""The restricted unpickler that reads torch.save's pickles without running code.

A pickle is a small program: its GLOBAL opcode imports any name and REDUCE calls it, so
unpickling an untrusted file with the standard Unpickler can run any code (the reason
ember's own format has no pickle at all, see serialization.py). The reader here is the
Python implementation of pickle's Unpickler with three things narrowed:

- find_class answers from an explicit table of ember-side stand-ins for the few names
  torch.save writes (tensor and Parameter rebuilders, Size, device, dtypes, OrderedDict,
  set, NumPy's scalar and array rebuilders, ...); any other name fails with an error that
  names the file and the global;
- REDUCE calls only the callables of that table, and BUILD (which sets attributes) only
  fills an OrderedDict's `__dict__` (where a state dict keeps `_metadata`), or a NumPy
  dtype's byte order or a fresh array of numbers;
- the opcodes that create instances of arbitrary classes (INST, OBJ, NEWOBJ, the
  extension registry) are refused outright: torch.save never needs them;
- SETITEM(S), ADDITEMS and APPEND(S) fill only a dict, a set or a list;
- tuples nest at most as deeply as pickle.dump can write them, and the dict and set keys
  of a file may take only so long to hash (see RestrictedUnpickler._tuple).

The C Unpickler could not be narrowed this way: its BUILD sets attributes on whatever
object precedes it (a shared dtype object, a class) and its opcode table is fixed.

Storages come from a StorageSource (_torch_format.py: the zip's entries or a legacy
file's tail); tensors are NumPy views of a storage at their offset and strides.
"""

from __future__ import annotations

import pickle
import re
import reprlib
import struct
import warnings
from collections import Counter, OrderedDict
from typing import IO, Any

import numpy as np

from ember import dtypes
from ember._layout import strided
from ember._storage import UntypedStorage
from ember._tensor import CPU, Size, Tensor

# torch's storage classes, by the element type they hold ('untyped': bytes, torch.UntypedStorage)
_STORAGE_KINDS = {
    "FloatStorage": "float32",
    "DoubleStorage": "float64",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128",
    "ByteStorage": "uint8",
    "CharStorage": "int8",
    "ShortStorage": "int16",
    "IntStorage": "int32",
    "LongStorage": "int64",
    "BoolStorage": "bool",
    "UntypedStorage": "untyped",
}
# bfloat16's bits are read as uint16 and viewed as ml_dtypes' bfloat16 or, without ml_dtypes,
# widened to float32, which is exact
_NUMPY_OF_KIND = {"bfloat16": np.dtype(np.uint16), "untyped": np.dtype(np.uint8)}
_DTYPES = {name: value for name, value in vars(dtypes).items() if isinstance(value, dtypes.dtype)}
# torch dtypes ember lacks: named in the error instead of the generic "not allowed" one
_TORCH_ONLY_DTYPE = re.compile(
    r"bfloat16|complex32|chalf|float8_\w+|float4_\w+|q?u?int[1-7]|qint\w+|quint\w+|bits\w+"
)


_MOST_NESTED = 1000  # tuples in tuples: pickle.dump itself stops at Python's recursion limit
_HASH_BUDGET = 10**8  # what hashing a file's dict and set keys may cost, in tuple items
_HASHING = {id(set), id(frozenset), id(OrderedDict), id(Counter)}  # what REDUCE hashes the items of


class Refused(pickle.UnpicklingError):
    """A pickle that asks for something the restricted reader does not do."""


class _NotData(Exception):
    """Raised by the table's functions for a value ember does not load; the file is named where caught."""


class _StorageType:
    """What a storage class named in the file (torch.FloatStorage, ...) stands for here."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind


class FileStorage(UntypedStorage):
    """One storage of the file: its bytes, a writable uint8 array, and its element type.

    An ember UntypedStorage, so that a storage saved as a value (torch.save(t.storage()))
    loads as one, sharing memory with the tensors that view it."""

    __slots__ = ("kind", "swapped")

    def __init__(self, data: np.ndarray, kind: str) -> None:
        super().__init__(data)  # shares the array
        self.kind, self.swapped = kind, False

    @property
    def data(self) -> np.ndarray:
        return self._bytes


def numpy_dtype(kind: str) -> np.dtype:
    return _NUMPY_OF_KIND.get(kind) or _DTYPES[kind].numpy


class RestrictedUnpickler(pickle._Unpickler):  # the Python implementation: its opcode table can be narrowed
    """Unpickles only what torch.save writes for data; see the module docstring."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file: IO[bytes], name: str, storages: StorageSource) -> None:
        super().__init__(file, encoding="utf-8")
        self.name = name
        self.source = storages
        self.storages: dict[str, FileStorage] = {}
        self.bfloat16 = False
        # the tuples built that hold tuples or large numbers: id -> (the tuple, what hashing it
        # costs, how deeply it nests tuples); see _tuple
        self.tuples: dict[int, tuple[tuple, int, int]] = {}
        self.hash_budget = _HASH_BUDGET
        # tensors (and Parameters of them) whose data is computed from their storage's:
        # id -> (those tensors, the storage, its element type, offset, size, stride, changes)
        self.copies: dict[int, tuple[list[Tensor], FileStorage, np.dtype, int, tuple, tuple, tuple]] = {}
        # sparse tensors, made once every tensor has its data (see finish_sparse): (the sparse
        # tensor handed to the pickle, its layout, the tensors and size it is made of)
        self.sparse: list[tuple[Any, Any, tuple]] = []
        self.globals: dict[tuple[str, str], Any] = {
            ("torch._utils", "_rebuild_tensor"): self._rebuild_tensor_v1,
            ("torch._utils", "_rebuild_tensor_v2"): self._rebuild_tensor_v2,
            ("torch._utils", "_rebuild_tensor_v3"): self._rebuild_tensor_v3,
            ("torch._utils", "_rebuild_parameter"): self._rebuild_parameter,
            ("torch._utils", "_rebuild_parameter_with_state"): self._rebuild_parameter_with_state,
            ("torch._tensor", "_rebuild_from_type_v2"): self._rebuild_from_type_v2,
            ("torch._utils", "_rebuild_sparse_tensor"): self._rebuild_sparse_tensor,
            ("torch.serialization", "_get_layout"): _layout,
            ("torch", "Size"): _size,
            ("torch", "device"): _device,
            ("collections", "OrderedDict"): OrderedDict,
            ("collections", "Counter"): Counter,
            ("builtins", "set"): set,
            ("builtins", "frozenset"): frozenset,
            ("builtins", "complex"): complex,
            ("builtins", "bytearray"): _bytearray,
            ("_codecs", "encode"): _encode,
            # classes that appear only as arguments (never called)
            ("torch", "Tensor"): Tensor,
            ("torch.nn.parameter", "Parameter"): _parameter_class(),
            ("numpy", "ndarray"): np.ndarray,
            # NumPy scalars and arrays of numbers (a checkpoint's best_acc = np.float64(...))
            ("numpy", "dtype"): _numpy_dtype_of,
        }
        for module in ("numpy.core.multiarray", "numpy._core.multiarray"):  # NumPy 1's and 2's names
            self.globals[module, "scalar"] = _numpy_scalar
            self.globals[module, "_reconstruct"] = _numpy_empty_array
        for module in ("numpy.core.numeric", "numpy._core.numeric"):
            self.globals[module, "_frombuffer"] = _numpy_frombuffer
        for module in ("torch", "torch.cuda", "torch.storage"):
            for cls, kind in _STORAGE_KINDS.items():
                self.globals[module, cls] = _StorageType(kind)
        for dtype_name, value in _DTYPES.items():
            self.globals["torch", dtype_name] = value
        never_called = (Tensor, self.globals["torch.nn.parameter", "Parameter"], np.ndarray)
        self.callables = {
            id(v)
            for v in self.globals.values()
            if callable(v)
            and not isinstance(v, (_StorageType, dtypes.dtype))
            and all(v is not c for c in never_called)
        }

    def load(self) -> Any:
        self.memo = {}  # each of a legacy file's pickles has its own memo
        return super().load()

    def fail(self, why: str) -> RuntimeError:
        return RuntimeError(f"ember.load: {self.name} is not a valid torch.save file ({why})")

    # ---- the narrowed pickle machine ----------------------------------------------------

    def find_class(self, module: str, name: str) -> Any:
        module = {"__builtin__": "builtins"}.get(module, module)  # protocol 2 writes Python 2's name
        found = self.globals.get((module, name))
        if found is not None:
            return found
        if module == "torch" and _TORCH_ONLY_DTYPE.fullmatch(name):
            raise self.fail(f"it holds the dtype torch.{name}, which ember does not have")
        if module in ("torch", "torch.cuda", "torch.storage") and name.endswith("Storage"):
            raise self.fail(f"it holds a torch.{name}, a kind of storage ember does not have")
        if module.startswith("torch") and name.startswith("_rebuild_"):
            raise self.fail(
                f"it holds a tensor that torch rebuilds with {module}.{name} (a quantized, nested "
                "or other special tensor), which ember does not have"
            )
        raise Refused(
            f"ember.load: {self.name} names the global {module}.{name}, which ember does not load. "
            "A torch.save file may hold tensors, Parameters, dicts, OrderedDicts, lists, tuples, "
            "sets, numbers, strings, bytes, None, torch.Size, dtypes, devices and NumPy numbers; "
            "loading any other object could run code from the file, and ember.load never does, "
            "whatever weights_only says. "
            "For a whole model saved with torch.save(model), load it with torch and save "
            "model.state_dict() instead."
            + (
                " (add_safe_globals does not change this in ember)"
                if _marked_name(f"{module}.{name}")
                else ""
            )
        )

    def persistent_load(self, pid: Any) -> FileStorage:
        if not isinstance(pid, tuple) or not pid or pid[0] not in ("storage", b"storage"):
            what = pid[0] if isinstance(pid, tuple) and pid else pid
            raise Refused(
                f"ember.load: {self.name} refers to a {brief(what)} outside the pickle; ember loads storages only"
            )
        if len(pid) not in (5, 6) or not isinstance(pid[1], _StorageType):
            raise self.fail(f"bad storage reference {brief(pid)}")
        kind, key, numel = pid[1].kind, as_text(pid[2]), pid[4]
        if not isinstance(numel, int) or numel < 0:
            raise self.fail(f"bad storage size {brief(numel)}")
        nbytes = numel * numpy_dtype(kind).itemsize
        storage = self.storages.get(key)
        if storage is None:
            storage = FileStorage(self.source.storage(key, nbytes, kind), kind)
            self.storages[key] = storage
        view = pid[5] if len(pid) == 6 else None
        if view is None:
            return storage
        # a legacy file's view of part of a storage: (key, offset, size) in elements
        view_key, offset, size = as_text(view[0]), view[1], view[2]
        if view_key not in self.storages:
            itemsize = numpy_dtype(kind).itemsize
            if not (isinstance(offset, int) and isinstance(size, int) and 0 <= offset and 0 <= size):
                raise self.fail(f"bad storage view {brief(view)}")
            if (offset + size) * itemsize > storage.data.size:
                raise self.fail(f"storage view {brief(view)} goes past its storage of {numel} elements")
            self.storages[view_key] = FileStorage(
                storage.data[offset * itemsize : (offset + size) * itemsize], kind
            )
        return self.storages[view_key]

    # Hashing a tuple hashes its items, recursively and without caching: a pickle can nest one
    # shared tuple 60 deep (2**60 items to hash) or 10**6 deep (C recursion, a crash), and use
    # it as a dict key. So tuples may nest no deeper than pickle.dump can write them, and
    # hashing the keys of a file's dicts and sets may cost at most _HASH_BUDGET items.

    def _tuple(self) -> None:
        built = self.stack[-1]
        cost, depth = len(built) + 1, 1
        for item in built:
            if type(item) is tuple:
                found = self.tuples.get(id(item))
                cost += found[1] - 1 if found else len(item)
                depth = max(depth, found[2] + 1 if found else 2)
            elif type(item) is int and item.bit_length() > 64:
                cost += item.bit_length() // 64
        if depth > _MOST_NESTED or cost > _HASH_BUDGET:
            raise self.fail(
                f"a tuple nested more than {_MOST_NESTED} deep or of more than {_HASH_BUDGET} items"
            )
        if depth > 1 or cost > len(built) + 1:  # (a flat tuple of small numbers costs its length)
            self.tuples[id(built)] = (built, cost, depth)  # (holding it keeps its id its own)

    def _hash_cost(self, value: Any) -> int:
        if type(value) is tuple:
            found = self.tuples.get(id(value))
            return found[1] if found else len(value) + 1
        if type(value) is int:
            return 1 + value.bit_length() // 64
        return 1

    def _charge(self, keys: Any) -> None:
        for key in keys:
            self.hash_budget -= self._hash_cost(key)
        if self.hash_budget < 0:
            raise self.fail(f"hashing its dict and set keys would take more than {_HASH_BUDGET} steps")

    # SETITEM(S), ADDITEMS and APPEND(S) fill a dict, a set or a list; pickle's own call
    # __setitem__, add or extend on whatever object is below them: a tensor's (t[()] = 0 or
    # t.add(1) on a view of 10**12 elements) would run for hours or allocate terabytes

    def _fills(self, below: list, kind: type, opcode: str) -> None:
        # below: the object the opcode fills, or nothing in a damaged pickle (pickle's own raises)
        for target in below:
            if not isinstance(target, kind):
                raise Refused(
                    f"ember.load: {self.name} uses the pickle opcode {opcode} on a {type(target).__name__}, "
                    f"which ember does not load (torch.save writes it for a {kind.__name__} only)"
                )

    def _below_mark(self) -> list:
        return self.metastack[-1][-1:] if self.metastack else []

    def _setitem(self) -> None:
        self._fills(self.stack[-3:-2], dict, "SETITEM")
        self._charge(self.stack[-2:-1])
        pickle._Unpickler.load_setitem(self)

    def _setitems(self) -> None:
        self._fills(self._below_mark(), dict, "SETITEMS")
        self._charge(self.stack[0::2])  # (what follows the mark: keys and values)
        pickle._Unpickler.load_setitems(self)

    def _additems(self) -> None:
        self._fills(self._below_mark(), set, "ADDITEMS")
        self._charge(self.stack)
        pickle._Unpickler.load_additems(self)

    def _append(self) -> None:
        self._fills(self.stack[-2:-1], list, "APPEND")
        pickle._Unpickler.load_append(self)

    def _appends(self) -> None:
        self._fills(self._below_mark(), list, "APPENDS")
        pickle._Unpickler.load_appends(self)

    def _frozenset(self) -> None:
        self._charge(self.stack)
        pickle._Unpickler.load_frozenset(self)

    def _reduce(self) -> None:
        args = self.stack.pop()
        func = self.stack[-1]
        if id(func) not in self.callables or not isinstance(args, tuple):
            raise Refused(f"ember.load: {self.name} calls {brief(func)}, which ember does not load")
        if args and id(func) in _HASHING:
            items = args[0]
            self._charge(
                items.keys() if isinstance(items, dict) else items if isinstance(items, (list, tuple)) else ()
            )
        try:
            self.stack[-1] = func(*args)
        except _NotData as e:
            raise Refused(f"ember.load: {self.name} holds {e}") from None

    def _build(self) -> None:
        # torch.save writes BUILD for an OrderedDict's attributes (a state dict's _metadata),
        # and NumPy for its dtypes and arrays; nothing else may set attributes
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is np.ndarray or isinstance(inst, np.dtype):
            self._build_numpy(inst, state)
            return
        if (
            type(inst) is not OrderedDict
            or not isinstance(state, dict)
            or not all(isinstance(k, str) and not hasattr(OrderedDict, k) for k in state)
        ):
            raise Refused(
                f"ember.load: {self.name} sets attributes of a {type(inst).__name__}, which ember does not load"
            )
        inst.__dict__.update(state)

    def _build_numpy(self, inst: Any, state: Any) -> None:
        if isinstance(inst, np.dtype):  # state: (version, byte order, ...)
            if not isinstance(state, tuple) or len(state) < 2 or state[1] not in ("<", ">", "|", "="):
                raise self.fail(f"bad NumPy dtype state {brief(state)}")
            if state[1] in "<>" and inst.itemsize > 1:
                # dtype objects are shared: never changed in place, replaced where the pickle holds them
                built = inst.newbyteorder(state[1])
                self.stack[-1] = built
                for key, value in list(self.memo.items()):
                    if value is inst:
                        self.memo[key] = built
            return
        # an array made empty by _reconstruct; state: (version, shape, dtype, is_fortran, raw bytes)
        if not (
            isinstance(state, tuple)
            and len(state) == 5
            and inst.size == 0
            and isinstance(state[2], np.dtype)
            and state[2].kind in _NUMPY_KINDS
            and isinstance(state[4], (bytes, bytearray))
        ):
            raise Refused(f"ember.load: {self.name} holds a NumPy array that is not plain numbers")
        inst.__setstate__(state)

    def _bytearray8(self) -> None:
        # pickle's own allocates the length the file states before reading: a damaged or hostile
        # file could ask for any amount of memory; reading first bounds it by the data there is
        (length,) = struct.unpack("<Q", self.read(8))
        data = self.read(length)
        if len(data) != length:
            raise pickle.UnpicklingError("pickle data was truncated")
        self.append(bytearray(data))

    dispatch[pickle.SETITEM[0]] = _setitem
    dispatch[pickle.SETITEMS[0]] = _setitems
    dispatch[pickle.ADDITEMS[0]] = _additems
    dispatch[pickle.APPEND[0]] = _append
    dispatch[pickle.APPENDS[0]] = _appends
    dispatch[pickle.FROZENSET[0]] = _frozenset
    dispatch[pickle.REDUCE[0]] = _reduce
    dispatch[pickle.BUILD[0]] = _build
    dispatch[pickle.BYTEARRAY8[0]] = _bytearray8

    # ---- what the table's names build -----------------------------------------------------

    # torch._utils' rebuilders, with their argument order (hooks: backward hooks, never saved)
    def _rebuild_tensor_v1(self, storage: Any, storage_offset: Any, size: Any, stride: Any) -> Tensor:
        # what PyTorch before 0.4 wrote (no requires_grad)
        return self._rebuild_tensor_v2(storage, storage_offset, size, stride, False, None)

    def _rebuild_tensor_v2(
        self,
        storage: Any,
        storage_offset: Any,
        size: Any,
        stride: Any,
        requires_grad: Any,
        hooks: Any,
        metadata: Any = None,
    ) -> Tensor:
        if not isinstance(storage, FileStorage):
            raise self.fail(f"a tensor's storage is a {type(storage).__name__}")
        return self._tensor(storage, storage.kind, storage_offset, size, stride, requires_grad, metadata)

    def _rebuild_tensor_v3(
        self,
        storage: Any,
        storage_offset: Any,
        size: Any,
        stride: Any,
        requires_grad: Any,
        hooks: Any,
        dtype: Any,
        metadata: Any = None,
    ) -> Tensor:
        if not isinstance(storage, FileStorage) or not isinstance(dtype, dtypes.dtype):
            raise self.fail(f"a tensor of {type(storage).__name__} and dtype {brief(dtype)}")
        return self._tensor(storage, dtype.name, storage_offset, size, stride, requires_grad, metadata)

    def _tensor(
        self,
        storage: FileStorage,
        kind: str,
        offset: Any,
        size: Any,
        stride: Any,
        requires_grad: Any,
        metadata: Any,
    ) -> Tensor:
        np_dtype = numpy_dtype(kind)
        if not (_is_ints(size) and _is_ints(stride) and len(size) == len(stride) and _is_ints((offset,))):
            raise self.fail(
                f"bad tensor layout: offset {brief(offset)}, size {brief(size)}, stride {brief(stride)}"
            )
        if self.source.swap and not storage.swapped:
            storage.data.view(np_dtype).byteswap(inplace=True)
            storage.swapped = True
        elements = storage.data.size // np_dtype.itemsize
        if 0 in size:  # no element to place: only the strides are kept
            offset = 0
        else:
            end = offset + sum((n - 1) * s for n, s in zip(size, stride))
            if end >= elements:
                raise self.fail(
                    f"a tensor of size {list(size)}, stride {list(stride)} and offset {offset} "
                    f"reaches past its storage of {elements} elements"
                )
        array = np.ndarray(
            tuple(size),
            np_dtype,
            buffer=storage.data,
            offset=offset * np_dtype.itemsize,
            strides=tuple(s * np_dtype.itemsize for s in stride),
        )
        changes = []
        if kind == "bfloat16" and dtypes.bfloat16_numpy() is not None:  # ml_dtypes: its own dtype
            array = array.view(dtypes.enable_bfloat16())
        elif kind == "bfloat16":
            changes.append(_widen_bfloat16)
            self.bfloat16 = True
        for flag, value in (metadata or {}).items():
            if flag in ("conj", "neg") and value is True:  # a conjugate or negative view, materialised
                changes.append(np.conj if flag == "conj" else np.negative)
            elif value:
                raise self.fail(f"a tensor has the property {brief(flag)}, which ember does not know")
        if not changes:
            return Tensor(array, requires_grad=requires_grad is True)
        # the data is a view of a changed copy of the storage (never of the view itself, which
        # can be far larger with zero strides), made once the storage's bytes are there (a
        # legacy file's come last): _torch_format._finish
        final = np.float32 if kind == "bfloat16" else np_dtype
        tensor = Tensor(
            np.broadcast_to(np.zeros((), final), array.shape), requires_grad=requires_grad is True
        )
        self.copies[id(tensor)] = ([tensor], storage, np_dtype, offset, size, stride, tuple(changes))
        return tensor

    def _rebuild_parameter(self, data: Any, requires_grad: Any, hooks: Any) -> Any:
        if not isinstance(data, Tensor):
            raise self.fail(f"a Parameter of a {type(data).__name__}")
        param = _parameter_class()(data, requires_grad=requires_grad is True)
        if id(data) in self.copies:  # it must get the data its tensor will get
            self.copies[id(data)][0].append(param)
        return param

    def _rebuild_parameter_with_state(self, data: Any, requires_grad: Any, hooks: Any, state: Any) -> Any:
        param = self._rebuild_parameter(data, requires_grad, hooks)
        self._set_attributes(param, state)
        return param

    def _rebuild_sparse_tensor(self, layout: Any, data: Any) -> Any:
        """A sparse COO or CSR tensor (ember.sparse). Its indices and values may get their data
        only when the file has been read (storages after the pickle, changed views), so the
        tensor handed back is filled in by `finish_sparse`, through the checked constructors."""
        from ember._layout import sparse_coo, sparse_csr
        from ember.sparse._tensor import _new

        # COO: (indices, values, size[, is_coalesced]); CSR: (crow_indices, col_indices, values, size)
        lengths = (4,) if layout is sparse_csr else (3, 4)
        if layout not in (sparse_coo, sparse_csr) or not isinstance(data, tuple) or len(data) not in lengths:
            raise self.fail(f"a sparse tensor of layout {brief(layout)} from {brief(data)}")
        parts = data[:3] if layout is sparse_csr else data[:2]
        if not all(isinstance(t, Tensor) for t in parts) or not isinstance(data[len(parts)], tuple):
            raise self.fail(f"a sparse tensor from {brief(data)}")
        values = parts[-1]
        shell = _new(layout, (), Tensor(np.zeros(0, values._data.dtype)), np.zeros((0, 0), np.int64), True)
        self.sparse.append((shell, layout, data))
        return shell

    def finish_sparse(self) -> None:
        """Make each sparse tensor from its parts, now that they hold their data, and move
        the result into the object the pickle holds."""
        from ember import sparse
        from ember._layout import sparse_csr

        for shell, layout, data in self.sparse:
            try:
                if layout is sparse_csr:
                    crow, col, values, size = data
                    made = sparse.sparse_csr_tensor(crow._data, col._data, values._data, size)
                else:
                    indices, values, size = data[:3]
                    coalesced = data[3] if len(data) == 4 and data[3] is True else None
                    made = sparse.sparse_coo_tensor(indices._data, values._data, size, is_coalesced=coalesced)
            except (RuntimeError, ValueError, TypeError) as e:
                raise self.fail(f"an inconsistent sparse tensor: {brief(str(e))}") from None
            for slot in ("_data", "_idx", "_vals", "_coalesced", "_version_cell"):
                setattr(shell, slot, getattr(made, slot))

    def _rebuild_from_type_v2(self, func: Any, new_type: Any, args: Any, state: Any) -> Any:
        parameter = _parameter_class()
        rebuilders = (self._rebuild_tensor_v1, self._rebuild_tensor_v2, self._rebuild_tensor_v3)
        if func not in rebuilders or new_type not in (Tensor, parameter):
            raise Refused(
                f"ember.load: {self.name} rebuilds a tensor as {brief(new_type)}, which ember does not load"
            )
        if not isinstance(args, tuple):
            raise self.fail("bad tensor arguments")
        tensor = func(*args)
        if new_type is parameter:
            tensor = self._rebuild_parameter(tensor, tensor.requires_grad, None)
        self._set_attributes(tensor, state)
        return tensor

    def _set_attributes(self, tensor: Tensor, state: Any) -> None:
        """The Python attributes torch saved with a tensor (t.foo = 3), when ember can hold them."""
        if isinstance(state, tuple) and len(state) == 2:  # (__dict__ entries, slot values)
            state = {**(state[0] or {}), **(state[1] or {})}
        if not state:
            return
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise self.fail(f"bad tensor attributes {brief(state)}")
        if not hasattr(tensor, "__dict__"):
            warnings.warn(
                f"ember.load: {self.name}: ember tensors cannot hold Python attributes; "
                f"{sorted(state)} of a saved tensor are dropped",
                UserWarning,
                stacklevel=4,
            )
            return
        for key in state:
            if hasattr(type(tensor), key):  # no data may shadow a method or property
                raise self.fail(f"a saved tensor attribute {key!r} would hide ember's Tensor.{key}")
        tensor.__dict__.update(state)


def _refuse_opcode(name: str) -> Any:
    def refuse(self: RestrictedUnpickler) -> None:
        raise Refused(
            f"ember.load: {self.name} uses the pickle opcode {name}, which makes objects of arbitrary "
            "classes; ember does not load it (torch.save never writes it for tensors and containers)"
        )

    return refuse


for _op in ("INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4"):
    RestrictedUnpickler.dispatch[getattr(pickle, _op)[0]] = _refuse_opcode(_op)


def _measured(load: Any) -> Any:
    def load_and_measure(self: RestrictedUnpickler) -> None:
        load(self)
        self._tuple()

    return load_and_measure


for _op in ("TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"):
    _code = getattr(pickle, _op)[0]
    RestrictedUnpickler.dispatch[_code] = _measured(RestrictedUnpickler.dispatch[_code])


def _parameter_class() -> type:
    from ember.nn.parameter import Parameter  # nn sits above this module

    return Parameter


def _is_ints(values: Any) -> bool:
    return isinstance(values, tuple) and all(type(v) is int and v >= 0 for v in values)


def as_text(value: Any) -> str:
    """A storage key: text, as torch.save writes it (never str() of any object: see brief)."""
    if isinstance(value, bytes):
        return value.decode("ascii")
    if not isinstance(value, str):
        raise pickle.UnpicklingError(f"a storage key of {brief(value)}")
    return value


class _Brief(reprlib.Repr):
    # the repr of a container, cut short; of other objects, only the reprs that do not walk
    # other objects (a tensor's or an OrderedDict's would)
    def repr_instance(self, x: Any, level: int) -> str:
        cheap = (type(None), bool, float, complex, bytes, bytearray, Size, np.generic, np.dtype, dtypes.dtype)
        if isinstance(x, (*cheap, type, _StorageType)) or callable(x):
            return super().repr_instance(x, level)
        return f"<{type(x).__name__}>"


_BRIEF = _Brief()
_BRIEF.maxstring = _BRIEF.maxother = 80


def brief(value: Any) -> str:
    """A value of the file as an error message shows it. Never repr(value): a pickle of a
    few hundred bytes can nest one shared list 60 deep, whose repr has 2**60 elements."""
    return _BRIEF.repr(value)


def _size(dims: Any = ()) -> Size:
    if not _is_ints(tuple(dims) if isinstance(dims, (tuple, list)) else None):
        raise pickle.UnpicklingError(f"torch.Size of {brief(dims)}")
    return Size(dims)


def _device(type: Any = "cpu", index: Any = None) -> Any:  # noqa: A002
    # every storage is loaded on the CPU, so a device saved as a value (torch.device('cuda')) is too
    if not isinstance(type, str) or not (index is None or isinstance(index, int)):
        raise pickle.UnpicklingError(f"torch.device({brief(type)}, {brief(index)})")
    return CPU


def _layout(name: Any) -> Any:
    from ember import _layout as layouts

    if name == "torch.strided":
        return strided
    if name in ("torch.sparse_coo", "torch.sparse_csr"):
        return getattr(layouts, name[len("torch.") :])
    if isinstance(name, str) and name.startswith("torch."):
        raise _NotData(f"a tensor of layout {name}, which ember does not have (strided, COO and CSR only)")
    raise pickle.UnpicklingError(f"the layout {brief(name)}")


_NUMPY_KINDS = "biufc"  # NumPy arrays and scalars of these kinds load: no objects, no records


def _numpy_dtype_of(spec: Any, align: Any = False, copy: Any = True) -> np.dtype:
    if not isinstance(spec, str):
        raise pickle.UnpicklingError(f"numpy.dtype({brief(spec)})")
    found = np.dtype(spec)
    if found.kind not in _NUMPY_KINDS or found.fields is not None:
        raise _NotData(f"a NumPy array or scalar of dtype {spec!r}; of NumPy values ember loads numbers only")
    return found


def _numpy_scalar(dtype: Any, data: Any) -> np.generic:
    if not isinstance(dtype, np.dtype) or not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise pickle.UnpicklingError(f"a NumPy scalar of {brief(dtype)}")
    return np.frombuffer(data, dtype, count=1)[0]


def _numpy_empty_array(cls: Any, shape: Any, typecode: Any) -> np.ndarray:
    # the first half of how an ndarray unpickles; BUILD fills it (RestrictedUnpickler._build_numpy)
    if cls is not np.ndarray:
        raise pickle.UnpicklingError(f"an array of class {brief(cls)}")
    return np.ndarray((0,), np.uint8)


def _numpy_frombuffer(data: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    # how protocol 5 writes an array: its bytes, dtype, shape and memory order
    if not isinstance(data, (bytes, bytearray)) or not isinstance(dtype, np.dtype) or order not in ("C", "F"):
        raise pickle.UnpicklingError("a NumPy array that is not plain numbers")
    if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)):
        raise pickle.UnpicklingError(f"a NumPy array of shape {brief(shape)}")
    return np.frombuffer(bytes(data), dtype).reshape(shape, order=order).copy(order="K")


def _bytearray(data: Any = b"") -> bytearray:
    if not isinstance(data, (bytes, bytearray)):
        raise pickle.UnpicklingError(f"bytearray of a {type(data).__name__}")
    return bytearray(data)


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # protocol 2 writes bytes as _codecs.encode(text, 'latin1')
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "ascii"):
        raise pickle.UnpicklingError(f"_codecs.encode of {type(text).__name__} as {brief(encoding)}")
    return text.encode(encoding)


# ---- where the storages' bytes come from (_torch_format.py) -------------------------------------


class StorageSource:
    """Hands out the bytes of a storage; `swap` says the file's byte order is not this machine's."""

    swap = False

    def storage(self, key: str, nbytes: int, kind: str) -> np.ndarray:
        raise NotImplementedError


def _widen_bfloat16(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


# ---- the globals add_safe_globals recorded (_torch_format.py) --------------------------------

marked_safe: list[Any] = []  # what add_safe_globals recorded (_torch_format.py)


def _marked_name(full: str) -> bool:
    """Whether add_safe_globals recorded the global named full (module.name)."""
    for marked in marked_safe:
        if isinstance(marked, tuple):  # (the object, the name to match)
            if marked[1] == full:
                return True
        elif f"{getattr(marked, '__module__', '')}.{getattr(marked, '__qualname__', '')}" == full:
            return True
    return False
