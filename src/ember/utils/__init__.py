"""Utilities, as torch.utils: ember.utils.data (datasets, samplers, DataLoader),
ember.utils.hooks (RemovableHandle) and ember.utils.checkpoint (activation checkpointing)."""

from ember.utils import checkpoint, data, hooks

__all__ = ["checkpoint", "data", "hooks"]
