"""DataParallel, data_parallel and DistributedDataParallel (torch.nn.DataParallel, torch.nn.parallel.*).

ember runs on the CPU only, where PyTorch's DataParallel has no devices to spread a batch
over and simply calls the wrapped module. ember's does the same, so that code written for
several GPUs runs unchanged: `model = nn.DataParallel(model)` keeps working, and its
state_dict keys carry the `module.` prefix that checkpoints saved that way have.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ember.nn.module import Module


class DataParallel(Module):
    """Wraps `module`; calling it calls the module (torch.nn.DataParallel on a CPU-only machine).

    device_ids, output_device and dim are accepted for compatibility; with no GPUs,
    `device_ids` is empty and nothing is scattered or gathered.
    """

    def __init__(
        self,
        module: Module,
        device_ids: Sequence[Any] | None = None,
        output_device: Any = None,
        dim: int = 0,
    ) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list[Any] = []  # no accelerators: PyTorch leaves this empty as well

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def data_parallel(
    module: Module,
    inputs: Any,
    device_ids: Sequence[Any] | None = None,
    output_device: Any = None,
    dim: int = 0,
    module_kwargs: dict[str, Any] | None = None,
) -> Any:
    """DataParallel as one call (torch.nn.parallel.data_parallel): spread `inputs` over the
    GPUs of `device_ids`. It needs GPUs even for one device, so on ember, as in PyTorch on
    a CPU-only machine, it raises RuntimeError; programs call it only for CUDA input (the
    DCGAN example: `if input.is_cuda and self.ngpu > 1`)."""
    raise RuntimeError(
        "device type could not be determined: data_parallel runs on GPUs, and ember has none "
        "(call the module directly, or wrap it in nn.DataParallel, which calls it directly on the CPU)"
    )


class DistributedDataParallel(Module):
    """Multi-process data parallelism (torch.nn.parallel.DistributedDataParallel).

    It needs a process group (torch.distributed), which ember does not have; constructing one
    raises the error PyTorch gives when no process group was initialised.
    """

    def __init__(self, module: Module, *args: Any, **kwargs: Any) -> None:
        raise ValueError(
            "DistributedDataParallel: Default process group has not been initialized, please make sure "
            "to call init_process_group. ember has no torch.distributed: train in one process, or wrap "
            "the model in nn.DataParallel (which calls it directly on the CPU)."
        )
