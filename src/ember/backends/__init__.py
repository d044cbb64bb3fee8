"""The flags PyTorch programs set or ask about in torch.backends, for a CPU-only ember:
`torch.backends.cudnn.benchmark = True`, `torch.backends.cuda.matmul.allow_tf32 = True` and
`torch.backends.mps.is_available()` run unchanged and change nothing."""

from ember.backends import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
