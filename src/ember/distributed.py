"""torch.distributed as a single process sees it before `init_process_group`.

ember trains in one process and has no communication backend (gloo, nccl, mpi), so no
process group can be created: `is_available()` and `is_initialized()` are False and
`init_process_group` raises. Training scripts written for several processes, such as the
ImageNet example of pytorch/examples, import this module at the top and use it only when
asked to run distributed; with ember they run in their single-process mode. The functions
that need a process group raise the ValueError PyTorch raises before one is initialised.
"""

from __future__ import annotations

import enum
import os
from typing import Any

__all__ = [
    "ReduceOp",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_node_local_rank",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_torchelastic_launched",
    "reduce",
]

_NOT_INITIALIZED = (
    "Default process group has not been initialized, please make sure to call init_process_group."
)


class ReduceOp(enum.Enum):
    """How a collective combines the tensors of the processes (torch.distributed.ReduceOp)."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8


def is_available() -> bool:
    """False: ember has no distributed backend (torch.distributed.is_available)."""
    return False


def is_initialized() -> bool:
    """False: no default process group exists (torch.distributed.is_initialized)."""
    return False


def init_process_group(*args: Any, **kwargs: Any) -> None:
    """Raises RuntimeError: ember cannot create a process group (torch.distributed.init_process_group)."""
    raise RuntimeError(
        "ember.distributed.init_process_group: ember runs in one process and has no distributed "
        "backend; run the script without its distributed options (world size 1)"
    )


def _no_group() -> ValueError:
    return ValueError(_NOT_INITIALIZED)


def get_rank(group: Any = None) -> int:
    """Raises ValueError, as PyTorch before init_process_group (torch.distributed.get_rank)."""
    raise _no_group()


def get_world_size(group: Any = None) -> int:
    """Raises ValueError, as PyTorch before init_process_group (torch.distributed.get_world_size)."""
    raise _no_group()


def get_backend(group: Any = None) -> str:
    """Raises ValueError, as PyTorch before init_process_group (torch.distributed.get_backend)."""
    raise _no_group()


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> None:
    """Raises ValueError, as PyTorch before init_process_group (torch.distributed.barrier)."""
    raise _no_group()


def all_reduce(tensor: Any, op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> None:
    """Raises ValueError, as PyTorch before init_process_group (torch.distributed.all_reduce)."""
    raise _no_group()


def reduce(
    tensor: Any, dst: int = 0, op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> None:
    """Raises ValueError, as PyTorch before init_process_group (torch.distributed.reduce)."""
    raise _no_group()


def broadcast(tensor: Any, src: int = 0, group: Any = None, async_op: bool = False) -> None:
    """Raises ValueError, as PyTorch before init_process_group (torch.distributed.broadcast)."""
    raise _no_group()


def all_gather(tensor_list: list, tensor: Any, group: Any = None, async_op: bool = False) -> None:
    """Raises ValueError, as PyTorch before init_process_group (torch.distributed.all_gather)."""
    raise _no_group()


def destroy_process_group(group: Any = None) -> None:
    """Raises AssertionError, as PyTorch does before init_process_group: there is no group
    to destroy (torch.distributed.destroy_process_group)."""
    raise AssertionError("Process group cannot be None")


def is_torchelastic_launched() -> bool:
    """Whether the launcher set TORCHELASTIC_RUN_ID, as torchrun does
    (torch.distributed.is_torchelastic_launched)."""
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank on its machine: LOCAL_RANK from the environment, else
    `fallback_rank` (torch.distributed.get_node_local_rank)."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "get_node_local_rank: LOCAL_RANK is not in the environment; pass fallback_rank (0 for a "
        "single process) to run without a launcher"
    )
