"""torch.nn.parallel: DataParallel and DistributedDataParallel (see ember.nn.modules.parallel)."""

from ember.nn.modules.parallel import DataParallel, DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
