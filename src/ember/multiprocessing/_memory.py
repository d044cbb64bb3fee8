"""Blocks of memory that several processes map at once: what `share_memory_()` moves a
tensor into, and what a tensor sent to another process arrives in.

A block is a `Segment`, a `mmap.mmap` of a shared-memory file that remembers how other
processes can reach the file. The sharing strategy in force when the block is made decides
how (torch's two strategies, same names):

- "file_descriptor" (the default on Linux): the file has no name (`memfd_create`, or a
  file in /dev/shm removed at once); the block keeps a descriptor of it open and sends a
  duplicate to the receiving process over a Unix socket (multiprocessing's `DupFd`). The
  memory is freed by the kernel when the last process holding a mapping or a descriptor
  of it lets go, so nothing can leak, even when a process is killed. The cost: one open
  descriptor (two, counting the one mmap keeps) per shared block, so sharing thousands of
  tensors can reach the process's limit on open files.
- "file_system": the file has a name in /dev/shm; no descriptor stays open. Each process
  that maps the block holds a name of its own, which it removes when its block is freed
  or it exits (the memory lives while any name or mapping does). A message carries a new
  name of the file (a hard link, `name_to_send`), which the receiver takes over by
  renaming it, so the sender may free the tensor as soon as it is sent, as in PyTorch; a
  name never received is removed when its sender exits, so the sender must stay alive
  until the receiver has the tensor, as with "file_descriptor".

A tensor's array is a NumPy view of its block (`np.ndarray(..., buffer=segment)`), so the
usual ndarray machinery (views, in-place ops, pickling of the bytes) works unchanged, and
`segment_of(array)` finds the block by following the array's bases.

Every process keeps a weak table of the blocks it maps, keyed by the file's identity, so
two tensors that share memory in the sender share it in the receiver too, and a tensor
sent back to its sender arrives in the sender's own memory.
"""

from __future__ import annotations

import mmap
import os
import sys
import weakref
from multiprocessing import util
from typing import Any

import numpy as np

_SHM_DIR = "/dev/shm"

if sys.platform == "linux":
    _strategies = {"file_descriptor", "file_system"}
    _strategy = ["file_descriptor"]
else:  # no descriptor passing without SCM_RIGHTS in every setting: names, as in PyTorch
    _strategies = {"file_system"}
    _strategy = ["file_system"]


class Segment(mmap.mmap):
    """A block of shared memory mapped into this process (read and write, MAP_SHARED).

    `fd` is the descriptor it is sent by (file_descriptor strategy), `name` the file's path
    (file_system strategy); `key` identifies the file in every process."""

    fd: int | None
    name: str | None
    key: Any


# the blocks this process maps, by file identity: a block received twice is mapped once
_blocks: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _map(fd: int, size: int, name: str | None, keep_fd: bool) -> Segment:
    seg = Segment(fd, size)
    st = os.fstat(fd)
    seg.key = (st.st_dev, st.st_ino)
    seg.name = name
    seg.fd = fd if keep_fd else None
    if not keep_fd:
        os.close(fd)
    _blocks[seg.key] = seg
    return seg


def _release(fd: int | None, name: str | None) -> None:
    """Undo what a block holds: close its descriptor; remove the name it created."""
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass
    if name is not None:
        try:
            os.unlink(name)
        except OSError:
            pass


def new_segment(nbytes: int) -> Segment:
    """A new zero-filled block of at least nbytes (one byte for an empty tensor: mmap
    refuses a length of 0), made by the current sharing strategy."""
    size = max(int(nbytes), 1)
    name = None
    if _strategy[0] == "file_descriptor":
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("ember-shared", os.MFD_CLOEXEC)
        else:
            fd, path = _named_file()
            os.unlink(path)
    else:
        fd, name = _named_file()
    try:
        os.ftruncate(fd, size)
        seg = _map(fd, size, name, keep_fd=name is None)
    except BaseException:
        _release(fd, name)
        raise
    if name is None:
        # closed with the block (at exit the system closes it)
        util.Finalize(seg, _release, (seg.fd, None), exitpriority=_EXIT_PRIORITY)
    else:
        _own(seg, name)
    return seg


# This process's exit (multiprocessing's finalizers also run in its child processes, which
# leave through os._exit) runs _at_exit after the queues' feeder threads are joined (-5):
# a feeder may still be sending then, making names that finalizers registered during the
# exit would miss.
_EXIT_PRIORITY = -10

# the names this process removes when their blocks are freed or it exits: name -> (pid,
# weak block)
_owned: dict = {}

# the names this process sent (file_system) that a receiver may not have taken yet, removed
# when it exits; [pid, names, size at which the taken ones are next dropped]
_sent: list = [None, set(), 64]


def _own(seg: Segment, name: str) -> None:
    """Remove name when seg is freed (or at exit: _at_exit)."""
    _owned[name] = (os.getpid(), weakref.ref(seg))
    util.Finalize(seg, _disown, (name,))


def _disown(name: str) -> None:
    _owned.pop(name, None)
    _release(None, name)


def _at_exit() -> None:
    pid = os.getpid()
    for name, (owner, _) in list(_owned.items()):
        if owner == pid:
            _disown(name)
    if _sent[0] == pid:
        for path in list(_sent[1]):
            _release(None, path)
        _sent[1].clear()


def _after_fork(_: Any) -> None:
    """A child's start, where multiprocessing clears the finalizers (fork and forkserver;
    a forkserver child after it has unpickled its Process's arguments): a forked child
    forgets its parent's names, and the blocks received while unpickling get theirs back."""
    pid = os.getpid()
    for name, (owner, ref) in list(_owned.items()):
        seg = ref()
        if owner != pid:
            del _owned[name]
        elif seg is not None:
            util.Finalize(seg, _disown, (name,))
    util.Finalize(None, _at_exit, exitpriority=_EXIT_PRIORITY)


util.register_after_fork(_after_fork, _after_fork)
util.Finalize(None, _at_exit, exitpriority=_EXIT_PRIORITY)


def name_to_send(seg: Segment) -> str:
    """A new name of seg's file for one message (file_system): the receiver renames it to a
    name of its own (attach_name), so the message does not depend on seg staying alive."""
    path = _new_path()
    try:
        os.link(seg.name, path)
    except FileNotFoundError:
        raise RuntimeError(
            f"shared memory {seg.name!r} no longer exists: with the 'file_system' sharing strategy a "
            "process that received a tensor can send it on only while the process it came from "
            "keeps it"
        ) from None
    if _sent[0] != os.getpid():  # the first in this process (a forked child starts afresh)
        _sent[:] = [os.getpid(), set(), 64]
    names = _sent[1]
    names.add(path)
    if len(names) >= _sent[2]:  # keep the set to the names not yet taken
        # (a snapshot: a queue's feeder thread may be sending at the same time)
        names.difference_update([n for n in list(names) if not os.path.lexists(n)])
        _sent[2] = max(64, 2 * len(names))
    return path


def _new_path() -> str:
    """A path no file has (64 random bits), in /dev/shm or else the temporary directory."""
    directory = _SHM_DIR if os.path.isdir(_SHM_DIR) else None
    if directory is None:
        import tempfile

        directory = tempfile.gettempdir()
    return os.path.join(directory, f"ember_{os.getpid()}_{os.urandom(8).hex()}")


def _named_file() -> tuple[int, str]:
    while True:
        path = _new_path()
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600), path
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue


def attach_fd(dup_fd: Any, size: int, key: Any) -> Segment:
    """The block a received descriptor (a multiprocessing DupFd) refers to, mapped once.

    The descriptor is fetched from the sending process, which must still be alive; if it has
    exited, a block this process maps already (one it sent there) is still found by key."""
    try:
        fd = dup_fd.detach()
    except (OSError, EOFError):
        seg = _blocks.get(key)
        if seg is not None:
            return seg
        raise RuntimeError(
            "a tensor in shared memory was received after the process that sent it exited: with the "
            "'file_descriptor' sharing strategy the sender must stay alive until the receiver has the "
            "tensor (e.g. wait on an Event before exiting)"
        ) from None
    st = os.fstat(fd)
    seg = _blocks.get((st.st_dev, st.st_ino))
    if seg is not None:
        os.close(fd)
        return seg
    seg = _map(fd, size, None, keep_fd=True)
    util.Finalize(seg, _release, (fd, None), exitpriority=_EXIT_PRIORITY)
    return seg


def attach_name(name: str, size: int) -> Segment:
    """The block a received file name (made by name_to_send for this message) refers to,
    mapped once; the name becomes this process's own, removed with its block."""
    own = _new_path()
    try:
        os.rename(name, own)
    except FileNotFoundError:
        raise RuntimeError(
            f"shared memory {name!r} no longer exists: with the 'file_system' sharing strategy the "
            "process that sent a tensor must stay alive until the receiver has it"
        ) from None
    try:
        fd = os.open(own, os.O_RDWR)
    except BaseException:
        _release(None, own)
        raise
    st = os.fstat(fd)
    seg = _blocks.get((st.st_dev, st.st_ino))
    if seg is not None:
        _release(fd, own)
        return seg
    try:
        seg = _map(fd, size, own, keep_fd=False)
    except BaseException:
        _release(fd, own)
        raise
    _own(seg, own)
    return seg


def segment_of(array: np.ndarray) -> Segment | None:
    """The shared block whose memory array views, or None when it is ordinary memory."""
    base: Any = array
    while base is not None:
        if isinstance(base, Segment):
            return base
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    return None


def view_of(seg: Segment, shape: tuple, dtype: np.dtype, strides: tuple, offset: int) -> np.ndarray:
    """An array of the block's memory, offset bytes in. Its base is an array of the whole
    block, so that untyped_storage() of any tensor in it is the whole block, as in PyTorch
    (not kept on the block: that would be a reference cycle, freed late)."""
    whole = np.frombuffer(seg, np.uint8)
    return np.ndarray(shape, dtype, buffer=whole, offset=offset, strides=strides)


def placement(array: np.ndarray) -> tuple[Segment, int]:
    """The block array lives in and its offset there, moving nothing (array must be shared)."""
    seg = segment_of(array)
    start = np.frombuffer(seg, np.uint8, count=0).__array_interface__["data"][0]
    return seg, array.__array_interface__["data"][0] - start


# the memory to_shared moved, by its owner array's id: (the owner, its block, the owner's
# offset there), weakly, so that other views of the old memory move into the same block
_moved: dict[int, tuple[weakref.ref, weakref.ref, int]] = {}


def to_shared(array: np.ndarray) -> np.ndarray:
    """An array equal to array, of the same shape and strides, in shared memory.

    The whole memory that array views is copied into a new block (a view keeps its place
    in it, as PyTorch moves a tensor's whole storage), and the move is remembered: another
    view of the same memory moved later lands in the same block, so the two stay views of
    one memory (without the values written through it in between). Memory that is not one
    block (a strided view NumPy made of memory ember does not own) is copied alone, as a
    contiguous array."""
    from ember._storage import _root

    if not isinstance(array, np.ndarray):  # a NumPy scalar (the engine's 0-d gradient)
        array = np.asarray(array)
    root = _root(array)
    address = array.__array_interface__["data"][0]
    moved = _moved.get(id(root))
    if moved is not None and moved[0]() is root:
        seg = moved[1]()
        if seg is not None:
            offset = moved[2] + address - root.__array_interface__["data"][0]
            return view_of(seg, array.shape, array.dtype, array.strides, offset)
    if not (root.flags.c_contiguous or root.flags.f_contiguous) or array.size == 0:
        seg = new_segment(array.nbytes)
        out = view_of(seg, array.shape, array.dtype, _contiguous_strides(array), 0)
        out[...] = array
        return out
    seg = new_segment(root.nbytes)
    # a one-block owner has positive strides: its first element is its first byte
    flat = root.ravel(order="K").view(np.uint8)
    np.frombuffer(seg, np.uint8, count=flat.size)[...] = flat
    key = id(root)
    _moved[key] = (weakref.ref(root, lambda _, key=key: _moved.pop(key, None)), weakref.ref(seg), 0)
    return view_of(
        seg, array.shape, array.dtype, array.strides, address - root.__array_interface__["data"][0]
    )


def _contiguous_strides(array: np.ndarray) -> tuple:
    strides, step = [], array.itemsize
    for n in reversed(array.shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def get_sharing_strategy() -> str:
    """The strategy new shared memory is made by (torch.multiprocessing.get_sharing_strategy)."""
    return _strategy[0]


def set_sharing_strategy(new_strategy: str) -> None:
    """Make later shared memory by new_strategy, one of get_all_sharing_strategies()
    (torch.multiprocessing.set_sharing_strategy); memory already shared keeps its own."""
    if new_strategy not in _strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of {_strategies}")
    _strategy[0] = new_strategy


def get_all_sharing_strategies() -> set[str]:
    """The sharing strategies this system supports (torch.multiprocessing.get_all_sharing_strategies)."""
    return set(_strategies)
