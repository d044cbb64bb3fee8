"""Utilities, as torch.utils: ember.utils.data (datasets, samplers, DataLoader),
ember.utils.hooks (RemovableHandle) and ember.utils.checkpoint (activation checkpointing);
torchvision.utils' make_grid and save_image (ember.utils.image), so that
`from torchvision.utils import make_grid` becomes `from ember.utils import make_grid`; and,
imported on its own as in PyTorch, ember.utils.tensorboard (SummaryWriter)."""

from ember.utils import checkpoint, data, hooks
from ember.utils.image import make_grid, save_image

__all__ = ["checkpoint", "data", "hooks", "make_grid", "save_image"]
