"""torch.backends.mps for a CPU-only ember: Apple's GPU backend is neither built nor available."""


def is_available() -> bool:
    """Always False (torch.backends.mps.is_available)."""
    return False


def is_built() -> bool:
    """Always False (torch.backends.mps.is_built)."""
    return False
