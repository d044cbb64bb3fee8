"""How tensors and storages travel between processes (torch.multiprocessing.reductions).

`init_reductions()` registers these reductions with multiprocessing's `ForkingPickler`,
which pickles everything multiprocessing sends: items put on a Queue or SimpleQueue, a
Pipe's messages, a Pool's tasks and results, and the arguments of a Process started by
spawn or forkserver. A tensor is moved into shared memory first (`share_memory_()`, in
place, as PyTorch does), and what is pickled is a handle to that memory plus the tensor's
shape, strides and offset, so the receiver's tensor is a view of the same bytes: writes
on either side are seen on the other. `pickle.dumps` and `ember.save` are unaffected: they
still copy the values.

A tensor that is the result of recorded operations and requires grad is refused, as in
PyTorch: autograd's graph cannot cross processes (send `t.detach()`). The gradient
(`.grad`) is not sent.
"""

from __future__ import annotations

from multiprocessing import reduction
from typing import Any

import numpy as np

from ember._storage import TypedStorage, UntypedStorage
from ember._tensor import Tensor
from ember.multiprocessing import _memory
from ember.multiprocessing._memory import Segment


def share_memory_(self: Tensor) -> Tensor:
    """Move this tensor's memory into shared memory, unless it is there already, and return
    the tensor (torch.Tensor.share_memory_). Processes it is then sent to, and children
    forked afterwards, read and write the same numbers.

    The whole memory the tensor views moves (a view keeps its place in its base's memory),
    and the base it is a view of, if any, moves with it. Other tensors that view the same
    memory move into the same shared block when they are shared or sent in turn; until
    then they see the old memory (ember has no storage object that all the tensors of one
    memory point to, which PyTorch moves for all of them at once)."""
    data = self._data
    if _memory.segment_of(data) is not None:
        return self
    base = self._base
    if base is not None and _memory.segment_of(base._data) is None:
        base._data = _memory.to_shared(base._data)
    self._data = _memory.to_shared(data)
    return self


def is_shared(self: Tensor) -> bool:
    """Whether this tensor's memory is shared memory (torch.Tensor.is_shared)."""
    return _memory.segment_of(self._data) is not None


# ---- reductions --------------------------------------------------------------------------


def _reduce_segment(seg: Segment) -> tuple:
    # pickle memoizes the segment, so tensors sharing a block in one message send one handle
    if seg.fd is not None:
        return (_memory.attach_fd, (reduction.DupFd(seg.fd), len(seg), seg.key))
    return (_memory.attach_name, (_memory.name_to_send(seg), len(seg)))


def _check_leaf(t: Tensor) -> None:
    if t._requires_grad and t.grad_fn is not None:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does "
            "not support crossing process boundaries.  If you just want to transfer the data, call "
            "detach() on the tensor before serializing (e.g., putting it on the queue)."
        )


def _placed(t: Tensor) -> tuple:
    share_memory_(t)
    data = t._data
    seg, offset = _memory.placement(data)
    return (seg, data.shape, data.dtype, data.strides, offset)


def _rebuild_tensor(
    seg: Segment, shape: tuple, dtype: np.dtype, strides: tuple, offset: int, requires_grad: bool
) -> Tensor:
    return Tensor(_memory.view_of(seg, shape, dtype, strides, offset), requires_grad=requires_grad)


def _rebuild_parameter(placed: tuple, requires_grad: bool) -> Any:
    from ember.nn.parameter import Parameter

    return Parameter(_rebuild_tensor(*placed, False), requires_grad=requires_grad)


def _rebuild_buffer(placed: tuple, requires_grad: bool, persistent: bool) -> Any:
    from ember.nn.parameter import Buffer

    return Buffer(_rebuild_tensor(*placed, requires_grad), persistent=persistent)


def reduce_tensor(t: Tensor) -> tuple:
    """Tensor's reduction: a view of the same shared memory in the receiver."""
    _check_leaf(t)
    return (_rebuild_tensor, (*_placed(t), t._requires_grad))


def _reduce_parameter(p: Any) -> tuple:
    return (_rebuild_parameter, (_placed(p), p._requires_grad))


def _reduce_buffer(b: Any) -> tuple:
    _check_leaf(b)
    return (_rebuild_buffer, (_placed(b), b._requires_grad, b.persistent))


def reduce_storage(storage: UntypedStorage) -> tuple:
    """UntypedStorage's reduction: its bytes, moved to shared memory first (see
    UntypedStorage.share_memory_)."""
    storage.share_memory_()
    seg, offset = _memory.placement(storage._bytes)
    return (_rebuild_storage, (seg, offset, storage._bytes.size))


def _rebuild_storage(seg: Segment, offset: int, nbytes: int) -> UntypedStorage:
    return UntypedStorage(_memory.view_of(seg, (nbytes,), np.dtype(np.uint8), (1,), offset))


def _reduce_typed_storage(storage: TypedStorage) -> tuple:
    return (TypedStorage, (storage._untyped_storage, storage.dtype))


def init_reductions() -> None:
    """Register the reductions above with multiprocessing's ForkingPickler (done once, when
    ember.multiprocessing is imported)."""
    from ember.nn.parameter import Buffer, Parameter

    reduction.ForkingPickler.register(Segment, _reduce_segment)
    reduction.ForkingPickler.register(Tensor, reduce_tensor)
    reduction.ForkingPickler.register(Parameter, _reduce_parameter)
    reduction.ForkingPickler.register(Buffer, _reduce_buffer)
    reduction.ForkingPickler.register(UntypedStorage, reduce_storage)
    reduction.ForkingPickler.register(TypedStorage, _reduce_typed_storage)
