"""ember runs on the CPU only; `ember.cuda` answers the usual questions so that PyTorch code
written as `device = "cuda" if torch.cuda.is_available() else "cpu"` runs unchanged."""


def is_available() -> bool:
    """Always False (torch.cuda.is_available)."""
    return False


def device_count() -> int:
    """Always 0 (torch.cuda.device_count)."""
    return 0


def manual_seed(seed: int) -> None:
    """Accepted and ignored, as PyTorch does without a GPU (torch.cuda.manual_seed)."""


manual_seed_all = manual_seed


# isort: split
# torch.cuda.amp, deprecated in PyTorch for torch.amp
from ember.cuda import amp as amp  # noqa: E402
