"""The CPU as a device (torch.cpu): ember's only one. Device-agnostic code that asks
`torch.cpu.is_available()` or calls `torch.cpu.synchronize()` runs unchanged, and the
deprecated `torch.cpu.amp.autocast` and `GradScaler` are in `ember.cpu.amp`."""


def is_available() -> bool:
    """Always True (torch.cpu.is_available)."""
    return True


def device_count() -> int:
    """Always 1 (torch.cpu.device_count)."""
    return 1


def current_device() -> str:
    """Always 'cpu' (torch.cpu.current_device)."""
    return "cpu"


def synchronize(device: object = None) -> None:
    """Does nothing: ember's operations finish before they return (torch.cpu.synchronize)."""


# isort: split
# torch.cpu.amp, deprecated in PyTorch for torch.amp
from ember.cpu import amp as amp  # noqa: E402
