"""`ember.Stream` and `ember.Event` (torch.Stream, torch.Event): PyTorch's device-generic
queues of work and markers in them, as they behave on PyTorch's CPU.

The CPU runs every operation at once, in order, so its stream is always idle (`query()` is
True, `synchronize()` returns at once) and waiting on an event or another stream has
nothing to wait for. PyTorch's CPU backend has no events, though: recording one
(`Event.record`, `Stream.record_event`, and `Stream.wait_stream`, which records one) raises
its RuntimeError, and so does asking for a native handle. Code that creates streams and
events for an accelerator and checks them on the CPU runs; code that records events on the
CPU fails as it does in PyTorch. Only the CPU (and the meta device) can be named.
"""

from __future__ import annotations

from typing import Any

from ember._tensor import device as _device

# c10's DeviceType numbers, which PyTorch's streams report as `device_type`
_DEVICE_TYPE_NUMBERS = {"cpu": 0, "meta": 14}
_NO_EVENTS = "cpu backend doesn't support events."


def _stream_device(device: Any, device_type: int | None) -> _device:
    if device is None:
        if device_type is None:
            return _device("cpu")
        names = {number: name for name, number in _DEVICE_TYPE_NUMBERS.items()}
        if device_type not in names:
            raise RuntimeError(f"ember streams live on the CPU, not on device type {device_type}")
        return _device(names[device_type])
    place = _device(device) if isinstance(device, (str, _device)) else None
    if place is None:
        raise TypeError(f"Stream(): device must be a str or ember.device, not {type(device).__name__}")
    if place.type not in _DEVICE_TYPE_NUMBERS:
        raise RuntimeError(f"ember is not built with support for {place.type} devices (streams: cpu only)")
    return place


class Stream:
    """A queue of work on a device (torch.Stream); on the CPU, always empty."""

    def __init__(
        self,
        device: Any = None,
        *,
        priority: int = 0,
        stream_id: int = 0,
        device_index: int | None = None,
        device_type: int | None = None,
    ) -> None:
        self.device = _stream_device(device, device_type)
        self.device_type = _DEVICE_TYPE_NUMBERS[self.device.type]
        index = self.device.index if device_index is None else device_index
        self.device_index = -1 if index is None else int(index)
        self.stream_id = int(stream_id)

    def query(self) -> bool:
        """Whether all the work queued on it is done: always, on the CPU."""
        return True

    def synchronize(self) -> None:
        """Waits for the stream's work: there is none left on the CPU."""

    def wait_event(self, event: Event) -> None:
        """Makes later work wait for `event`: nothing to wait for on the CPU."""

    def wait_stream(self, stream: Stream) -> None:
        """Makes later work wait for `stream`'s: raises, as it records an event, which
        PyTorch's CPU backend cannot."""
        raise RuntimeError(_NO_EVENTS)

    def record_event(self, event: Event | None = None) -> Event:
        """Records an event on the stream: raises, as on PyTorch's CPU."""
        raise RuntimeError(_NO_EVENTS)

    def is_capturing(self) -> bool:
        """Whether a graph capture is recording this stream's work: never."""
        return False

    @property
    def native_handle(self) -> int:
        raise RuntimeError("Backend doesn't support getting stream native handle.")

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def _key(self) -> tuple:
        return (self.device_type, self.device_index, self.stream_id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stream):
            return False
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"ember.Stream device_type={self.device.type}, device_index={self.device_index}, "
            f"stream_id={self.stream_id}"
        )


class Event:
    """A marker in a stream's work (torch.Event). On the CPU it can be made and asked
    about (`query()` True), but not recorded, as in PyTorch."""

    def __init__(
        self,
        device: Any = None,
        *,
        enable_timing: bool = False,
        blocking: bool = False,
        interprocess: bool = False,
    ) -> None:
        self.device = _stream_device(device, None)
        self._timing = bool(enable_timing)
        self.event_id = 0

    def record(self, stream: Stream | None = None) -> None:
        """Marks the point reached by `stream`'s work: raises, as on PyTorch's CPU."""
        raise RuntimeError(_NO_EVENTS)

    def query(self) -> bool:
        """Whether the work before the event is done: always, on the CPU."""
        return True

    def synchronize(self) -> None:
        """Waits for the work before the event: there is none left on the CPU."""

    def wait(self, stream: Stream | None = None) -> None:
        """Makes `stream`'s later work wait for the event: nothing to wait for on the CPU."""

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds between this event and `end_event`, both made with enable_timing=True
        and recorded: they cannot have been recorded on the CPU, so this raises."""
        if not (self._timing and end_event._timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        raise ValueError("Both events must be recorded before calculating elapsed time.")

    def ipc_handle(self) -> Any:
        raise NotImplementedError("ember.Event ipc is not supported (neither is torch.Event's)")

    @classmethod
    def from_ipc_handle(cls, device: Any, ipc_handle: Any) -> Event:
        raise NotImplementedError("ember.Event ipc is not supported (neither is torch.Event's)")

    def __repr__(self) -> str:
        index = -1 if self.device.index is None else self.device.index
        return (
            f"ember.Event device_type={self.device.type}, device_index={index}, "
            f"event_flag={int(self._timing)}, event_id={self.event_id}"
        )
