"""The flags PyTorch programs set or ask about in torch.backends, for a CPU-only ember:
`torch.backends.cudnn.benchmark = True` and `torch.backends.mps.is_available()` run
unchanged and change nothing."""

from ember.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
