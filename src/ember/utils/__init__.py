"""Utilities, as torch.utils: ember.utils.data (datasets, samplers, DataLoader),
ember.utils.hooks (RemovableHandle), ember.utils.checkpoint (activation checkpointing) and
ember.utils.dlpack (zero-copy exchange with PyTorch, NumPy, JAX);
torchvision.utils' make_grid and save_image (ember.utils.image), so that
`from torchvision.utils import make_grid` becomes `from ember.utils import make_grid`; and,
imported on its own as in PyTorch, ember.utils.tensorboard (SummaryWriter) and
ember.utils.benchmark (Timer, Measurement, Compare)."""

from ember.utils import checkpoint, data, dlpack, hooks
from ember.utils.image import make_grid, save_image

__all__ = ["checkpoint", "data", "dlpack", "hooks", "make_grid", "save_image"]
