"""torch.utils.data.distributed: the module where PyTorch programs import DistributedSampler
from (`torch.utils.data.distributed.DistributedSampler(dataset)`); ember's lives in sampler.py."""

from ember.utils.data.sampler import DistributedSampler

__all__ = ["DistributedSampler"]
