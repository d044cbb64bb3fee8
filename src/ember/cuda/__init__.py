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


def seed() -> None:
    """Accepted and ignored, as PyTorch does without a GPU (torch.cuda.seed)."""


seed_all = seed


def is_initialized() -> bool:
    """Always False: there is no CUDA state to initialize (torch.cuda.is_initialized)."""
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Always False (torch.cuda.is_bf16_supported): programs that pick their autocast dtype
    with it choose float16 or full precision."""
    return False


def empty_cache() -> None:
    """Nothing to release (torch.cuda.empty_cache): training loops call it between epochs
    whatever the device, and PyTorch without a GPU returns at once too."""


def memory_allocated(device: object = None) -> int:
    """Always 0 bytes: nothing lives on a GPU (torch.cuda.memory_allocated)."""
    return 0


# the peak and reserved counters that memory reports print next to memory_allocated
max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


# isort: split
# torch.cuda.amp, deprecated in PyTorch for torch.amp
from ember.cuda import amp as amp  # noqa: E402
