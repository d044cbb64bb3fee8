"""torch.backends.cudnn for a CPU-only ember: the flags can be set and read, and change nothing."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """Always False: no cuDNN (torch.backends.cudnn.is_available)."""
    return False


def version() -> None:
    """None, as PyTorch without cuDNN (torch.backends.cudnn.version)."""
    return None
