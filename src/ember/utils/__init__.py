"""Utilities, as torch.utils: ember.utils.data (datasets, samplers, DataLoader) and
ember.utils.hooks (RemovableHandle)."""

from ember.utils import data, hooks

__all__ = ["data", "hooks"]
