"""torch.nn.parallel: DataParallel, data_parallel and DistributedDataParallel (see ember.nn.modules.parallel)."""

from ember.nn.modules.parallel import DataParallel, DistributedDataParallel, data_parallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
