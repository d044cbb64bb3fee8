"""Reading files written by torch.save, without ever running code from them.

torch.save pickles the object it is given, but keeps each tensor's memory (its *storage*)
out of the pickle: the pickle names a storage by a key, through pickle's "persistent id"
hook, and the bytes are stored apart. There are two layouts:

- zip (torch.save's default since PyTorch 1.6): a zip archive whose entries sit in one
  folder, `<name>/data.pkl` (the pickle), `<name>/data/<key>` (each storage's raw bytes),
  `<name>/byteorder` ("little" or "big") and `<name>/version`;
- legacy (`_use_new_zipfile_serialization=False`): five pickles one after the other (a
  magic number, a protocol version, a dict describing the machine, the object, and the list
  of storage keys), then each storage's bytes, preceded by its element count as 8 bytes.

The pickles are read by the restricted unpickler of _torch_pickle.py, which builds
tensors, containers and plain values and refuses anything else. Each storage becomes one
writable uint8 array; tensors are NumPy views of it at their offset and strides, so
tensors that shared memory when saved share it once loaded.
"""

from __future__ import annotations

import io
import pickle
import struct
import sys
import warnings
import zipfile
from typing import IO, Any

import numpy as np

from ember._torch_pickle import (
    FileStorage,
    Refused,
    RestrictedUnpickler,
    StorageSource,
    as_text,
    brief,
    marked_safe,
    numpy_dtype,
)

# what zipfile raises for a damaged archive besides BadZipFile (see serialization.py), and for
# a damaged local header (a name that is not UTF-8, an offset before the file's start)
_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError)
# the most bytes one byte of a zip entry can expand to, by compression method (deflate's
# limit is 1032); the other methods' entries are not bounded here
_MOST_EXPANSION = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: 1032}
# what a damaged pickle makes the unpickler or the table's functions raise
_DAMAGED = (
    pickle.UnpicklingError,
    EOFError,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    OverflowError,  # complex() of a huge int
    struct.error,
)


class _ZipStorages(StorageSource):
    """Storages of a zip-format file: the entry `<folder>/data/<key>` holds each one's bytes."""

    def __init__(self, archive: zipfile.ZipFile, folder: str, name: str, size: int) -> None:
        self.archive, self.folder, self.name = archive, folder, name
        self.size = size  # the archive's bytes: an entry states its size, and is allocated that much

    def storage(self, key: str, nbytes: int, kind: str) -> np.ndarray:
        entry = f"{self.folder}data/{key}"
        try:
            info = self.archive.getinfo(entry)
        except KeyError:
            raise RuntimeError(
                f"ember.load: {self.name} is not a valid torch.save file (missing {entry})"
            ) from None
        if info.file_size < nbytes:
            raise RuntimeError(
                f"ember.load: {self.name} is not a valid torch.save file "
                f"({entry} holds {info.file_size} bytes, the pickle expects {nbytes})"
            )
        expansion = _MOST_EXPANSION.get(info.compress_type)
        if expansion is not None and info.file_size > self.size * expansion:
            raise RuntimeError(
                f"ember.load: {self.name} is not a valid torch.save file "
                f"({entry} states {info.file_size} bytes, more than the file can hold)"
            )
        data = np.empty(info.file_size, np.uint8)
        try:
            with self.archive.open(info) as f:
                _read_into(f, data)
        except (*_ZIP_ERRORS, zipfile.LargeZipFile) as e:
            raise RuntimeError(f"ember.load: {self.name}: {entry} cannot be read ({e})") from None
        return data


class _LegacyStorages(StorageSource):
    """Storages of a legacy file: allocated when the pickle names them, filled after it."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit  # the file's size less the storages named so far: all lie in the file
        self.arrays: dict[str, FileStorage] = {}

    def storage(self, key: str, nbytes: int, kind: str) -> np.ndarray:
        if self.limit is not None:
            if nbytes > self.limit:
                raise EOFError(f"storage {key} of {nbytes} bytes is larger than what the file has left")
            self.limit -= nbytes
        self.arrays[key] = FileStorage(np.empty(nbytes, np.uint8), kind)
        return self.arrays[key].data


class _Capped:
    """A file for the unpickler, each large read capped at the bytes the file has left:
    pickle's reader asks for the length the file states (FRAME, BINBYTES8, ...), and a
    buffered file allocates what it is asked for before reading."""

    def __init__(self, f: IO[bytes], size: int | None) -> None:
        self.f, self.size = f, size
        self.readline = f.readline

    def read(self, n: int = -1) -> bytes:
        if n > 1 << 16 and self.size is not None:
            n = min(n, max(0, self.size - self.f.tell()))
        return self.f.read(n)


def _read_into(f: IO[bytes], data: np.ndarray) -> None:
    view = memoryview(data)
    done = 0
    while done < data.size:
        n = f.readinto(view[done:])
        if not n:
            raise EOFError(f"{data.size - done} bytes short")
        done += n


def _finish(unpickler: RestrictedUnpickler, result: Any) -> Any:
    changed: dict[tuple, np.ndarray] = {}  # (storage, element type, changes) -> the changed storage
    for tensors, storage, np_dtype, offset, size, stride, changes in unpickler.copies.values():
        key = (id(storage), np_dtype, changes)
        base = changed.get(key)
        if base is None:
            base = storage.data[: storage.data.size // np_dtype.itemsize * np_dtype.itemsize].view(np_dtype)
            for change in changes:
                base = change(base)
            changed[key] = base
        strides = tuple(s * base.itemsize for s in stride)
        array = np.lib.stride_tricks.as_strided(base[offset:], size, strides)
        for tensor in tensors:
            tensor._data = array
    unpickler.finish_sparse()
    if unpickler.bfloat16:
        warnings.warn(
            f"ember.load: {unpickler.name} holds bfloat16 tensors, which ember has only with ml_dtypes installed; "
            "they are loaded as float32 (every bfloat16 value is exactly a float32)",
            UserWarning,
            stacklevel=4,
        )
    return result


def load_zip(archive: zipfile.ZipFile, pickle_entry: str, name: str) -> Any:
    """The object of a zip-format torch.save file whose pickle is the entry pickle_entry."""
    folder = pickle_entry[: -len("data.pkl")]
    source = _ZipStorages(archive, folder, name, archive.fp.seek(0, io.SEEK_END))
    try:
        order = (
            archive.read(folder + "byteorder").decode().strip()
            if folder + "byteorder" in archive.namelist()
            else "little"
        )
        raw = archive.read(pickle_entry)
    except _ZIP_ERRORS as e:
        raise RuntimeError(f"ember.load: {name} is not a valid torch.save file ({e})") from None
    if order not in ("little", "big"):
        raise RuntimeError(f"ember.load: {name} is not a valid torch.save file (byte order {order!r})")
    source.swap = order != sys.byteorder
    unpickler = RestrictedUnpickler(io.BytesIO(raw), name, source)
    try:
        return _finish(unpickler, unpickler.load())
    except Refused:
        raise
    except _DAMAGED as e:
        raise unpickler.fail(f"damaged pickle: {type(e).__name__}: {e}") from None


def load_legacy(f: IO[bytes], name: str, size: int | None) -> Any:
    """The object of a torch.save file in the legacy (pre-zip) layout, read from f's start."""
    source = _LegacyStorages(size)
    unpickler = RestrictedUnpickler(_Capped(f, size), name, source)  # type: ignore[arg-type]
    try:
        magic = unpickler.load()
        if magic != 0x1950A86A20F9469CFC6C:  # torch.serialization.MAGIC_NUMBER
            raise unpickler.fail("wrong magic number")
        protocol = unpickler.load()
        if protocol != 1001:
            raise unpickler.fail(f"protocol version {brief(protocol)}, ember reads 1001")
        system = unpickler.load()
        little = system.get("little_endian", True) if isinstance(system, dict) else True
        result = unpickler.load()  # its tensors are views of storages not read yet
        keys = unpickler.load()
        if not isinstance(keys, list):
            raise unpickler.fail("bad list of storages")
        unlisted = source.arrays.keys() - {as_text(key) for key in keys}
        if unlisted:  # its bytes would be whatever the memory held before
            raise unpickler.fail(f"storage {min(unlisted)!r} used but not listed")
        for key in keys:
            storage = source.arrays.get(as_text(key))
            if storage is None:
                raise unpickler.fail(f"storage {brief(key)} listed but never used")
            count = f.read(8)
            if len(count) < 8:
                raise EOFError("the file ends before its storages")
            # the element count is not needed: the pickle said how many bytes to read
            _read_into(f, storage.data)
            if little != (sys.byteorder == "little"):
                storage.data.view(numpy_dtype(storage.kind)).byteswap(inplace=True)
        return _finish(unpickler, result)
    except Refused:
        raise
    except _DAMAGED as e:
        raise unpickler.fail(f"truncated or damaged: {type(e).__name__}: {e}") from None


# ---- torch.serialization's allow-list functions ---------------------------------------------


def add_safe_globals(safe_globals: list[Any]) -> None:
    """Record globals as trusted (torch.serialization.add_safe_globals).

    torch.load then builds objects of those classes in weights-only mode. ember.load never
    builds objects of a class outside its own table, marked or not: the list is kept so that
    code that calls this runs, and a checkpoint holding such objects still fails to load,
    with an error that says so.
    """
    marked_safe.extend(g for g in safe_globals if g not in marked_safe)


def get_safe_globals() -> list[Any]:
    """The globals recorded by add_safe_globals (torch.serialization.get_safe_globals)."""
    return list(marked_safe)


def clear_safe_globals() -> None:
    """Forget the globals recorded by add_safe_globals (torch.serialization.clear_safe_globals)."""
    marked_safe.clear()


class safe_globals:  # noqa: N801 (torch's name)
    """A with-block during which the globals are recorded as trusted, as add_safe_globals does
    (torch.serialization.safe_globals); see add_safe_globals for what that changes in ember."""

    def __init__(self, safe_globals: list[Any]) -> None:
        self.safe_globals = safe_globals

    def __enter__(self) -> None:
        self.added = [g for g in self.safe_globals if g not in marked_safe]
        marked_safe.extend(self.added)

    def __exit__(self, *exc: Any) -> None:
        for g in self.added:
            if g in marked_safe:  # (clear_safe_globals in the block may have removed it)
                marked_safe.remove(g)


def globals_in_pickle(data: bytes) -> set[str]:
    """The globals a pickle names (module.name), read with pickletools: nothing is run.

    STACK_GLOBAL takes its module and name from the stack, so the stack is followed (strings
    known, other values as None) with each opcode's documented effect: POP, DUP, the memo
    and marks cannot hide a name. A name that is not a known string shows as '?'."""
    import pickletools

    found: set[str] = set()
    mark = object()
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    for opcode, arg, _ in pickletools.genops(data):
        name, before, after = opcode.name, opcode.stack_before, opcode.stack_after
        if name in ("GLOBAL", "INST"):
            found.add(arg.replace(" ", "."))
        elif name == "STACK_GLOBAL":
            parts = [p if isinstance(p, str) else "?" for p in ([None, None] + stack)[-2:]]
            found.add(".".join(parts))
        if name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = stack[-1] if stack else None
            continue
        if name == "MEMOIZE":
            memo[len(memo)] = stack[-1] if stack else None
            continue
        if name == "DUP":
            stack.append(stack[-1] if stack else None)
            continue
        popped = len(before)
        if pickletools.markobject in before:  # what follows the mark, the mark, then what is below
            while stack and stack.pop() is not mark:
                pass
            popped -= 2
        del stack[len(stack) - min(popped, len(stack)) :]
        if name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo.get(arg))
        elif name == "MARK":
            stack.append(mark)
        else:
            text = arg if name.endswith("UNICODE") and isinstance(arg, str) else None
            stack.extend([text] * len(after))
    return found


def unsafe_globals(data: bytes) -> list[str]:
    """The globals of a torch.save pickle that ember.load would refuse, sorted."""
    table = RestrictedUnpickler(io.BytesIO(), "", StorageSource()).globals
    known = {f"{module}.{name}" for module, name in table}
    known |= {f"__builtin__.{name}" for module, name in table if module == "builtins"}
    return sorted(found for found in globals_in_pickle(data) if found not in known)
