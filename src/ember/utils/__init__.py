"""Utilities: ember.utils.data (datasets, samplers, DataLoader), as torch.utils."""

from ember.utils import data

__all__ = ["data"]
