"""ember runs on the CPU only; `ember.accelerator` answers PyTorch's device-agnostic questions
(torch.accelerator) so that code such as PyTorch's quickstart,
`device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"`,
runs unchanged."""

from __future__ import annotations

from typing import Any

_NONE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    """Always False: there is no accelerator (torch.accelerator.is_available)."""
    return False


def current_accelerator(check_available: bool = False) -> Any:
    """Always None: no accelerator (torch.accelerator.current_accelerator)."""
    return None


def device_count() -> int:
    """Always 0 (torch.accelerator.device_count)."""
    return 0


def current_device_index() -> int:
    """Raises RuntimeError, as PyTorch without an accelerator (torch.accelerator.current_device_index)."""
    raise RuntimeError(_NONE)


def set_device_index(device: Any) -> None:
    """Raises RuntimeError, as PyTorch without an accelerator (torch.accelerator.set_device_index)."""
    raise RuntimeError(_NONE)


def synchronize(device: Any = None) -> None:
    """Raises RuntimeError, as PyTorch without an accelerator (torch.accelerator.synchronize)."""
    raise RuntimeError(_NONE)


current_device_idx = current_device_index
set_device_idx = set_device_index
