"""torch.utils.tensorboard's SummaryWriter: training curves, histograms, images and text in
TensorBoard's event-file format, written without TensorBoard or protobuf installed.

    from ember.utils.tensorboard import SummaryWriter
    writer = SummaryWriter()                    # runs/<date>_<host>/events.out.tfevents...
    for step in range(100):
        writer.add_scalar("Loss/train", loss.item(), step)
    writer.close()

View them with `pip install tensorboard` and `tensorboard --logdir runs`.

The file is TensorBoard's: a sequence of records (the length, its masked CRC-32C, the data,
its masked CRC-32C), each an `Event` protocol buffer. The few messages needed are encoded by
hand below (`_Proto`): a protocol buffer is a list of (field number, wire type, value).
add_graph, add_embedding, add_hparams and the mesh/audio/video methods are not there.
"""

from __future__ import annotations

import functools
import os
import socket
import struct
import time
from datetime import datetime
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.utils.image import _png, make_grid

__all__ = ["SummaryWriter"]


# ---- CRC-32C (Castagnoli), which TFRecord framing uses; zlib only has the other CRC-32 ----------

_CRC_TABLE: list[int] = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def _crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _record(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", _masked_crc(length)) + data + struct.pack("<I", _masked_crc(data))


# ---- protocol buffers, by hand ------------------------------------------------------------------


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 values are ten-byte two's complement
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


class _Proto:
    """A message being built: each method appends one field."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def _key(self, field: int, wire: int) -> None:
        self.parts.append(_varint(field << 3 | wire))

    def int(self, field: int, value: int) -> _Proto:
        self._key(field, 0)
        self.parts.append(_varint(value))
        return self

    def double(self, field: int, value: float) -> _Proto:
        self._key(field, 1)
        self.parts.append(struct.pack("<d", value))
        return self

    def float(self, field: int, value: float) -> _Proto:
        self._key(field, 5)
        self.parts.append(struct.pack("<f", value))
        return self

    def bytes(self, field: int, value: bytes | str | _Proto) -> _Proto:
        data = (
            value.encode()
            if isinstance(value, str)
            else value.build()
            if isinstance(value, _Proto)
            else value
        )
        self._key(field, 2)
        self.parts += [_varint(len(data)), data]
        return self

    def doubles(self, field: int, values: Any) -> _Proto:
        """A packed repeated double field."""
        return self.bytes(field, np.asarray(values, "<f8").tobytes())

    def build(self) -> bytes:
        return b"".join(self.parts)


def _event(summary_value: _Proto, step: int | None, walltime: float | None) -> bytes:
    """Event{wall_time=1, step=2, summary=5{value=1}}."""
    event = _Proto().double(1, time.time() if walltime is None else walltime)
    if step is not None:
        event.int(2, int(step))
    return event.bytes(5, _Proto().bytes(1, summary_value)).build()


def _number(value: Any) -> float:
    """A scalar's value: a number, or a tensor or array of one element."""
    if isinstance(value, (Tensor, np.ndarray)):
        array = _array(value)
        if array.size != 1:
            raise ValueError(
                f"add_scalar: the value must be a single number, got a tensor of shape {list(array.shape)}"
            )
        return float(array.reshape(-1)[0])
    return float(value)


def _array(values: Any) -> np.ndarray:
    if isinstance(values, Tensor):
        return values.detach().numpy()
    return np.asarray(values)


@functools.cache
def _default_buckets() -> np.ndarray:
    """TensorBoard's default histogram bucket edges: +-1e-12 growing by 10% to 1e20, and 0
    (the same 1 549 edges for every histogram: made once, read-only)."""
    positive = []
    v = 1e-12
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    edges = np.array([-p for p in reversed(positive)] + [0.0] + positive)
    edges.flags.writeable = False
    return edges


class SummaryWriter:
    """Write TensorBoard event files under `log_dir` (torch.utils.tensorboard.SummaryWriter).

    log_dir defaults to runs/<month><day>_<hours>-<minutes>-<seconds>_<hostname><comment>.
    Events are written as they are added; flush() and close() are there for PyTorch code
    (and a with-block closes the writer)."""

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.filename_suffix = filename_suffix
        self._files: dict[str, Any] = {}
        self._file(self.log_dir)

    def get_logdir(self) -> str:
        return self.log_dir

    def _file(self, directory: str) -> Any:
        """The open event file of `directory`, made on first use with its file_version event."""
        f = self._files.get(directory)
        if f is None:
            os.makedirs(directory, exist_ok=True)
            name = (
                f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}."
                f"{len(self._files)}{self.filename_suffix}"
            )
            f = self._files[directory] = open(os.path.join(directory, name), "ab")  # noqa: SIM115
            f.write(_record(_Proto().double(1, time.time()).bytes(3, "brain.Event:2").build()))
        return f

    def _write(self, value: _Proto, step: Any, walltime: Any, directory: str | None = None) -> None:
        self._file(directory or self.log_dir).write(_record(_event(value, step, walltime)))

    # ---- what can be written ------------------------------------------------------------------

    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """One point of the curve `tag` (Summary.Value{tag, simple_value})."""
        self._write(_Proto().bytes(1, tag).float(2, _number(scalar_value)), global_step, walltime)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Several curves in one chart: each goes to its own run, log_dir/<main_tag>_<tag>, as
        in PyTorch."""
        for tag, value in tag_scalar_dict.items():
            run = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{tag}")
            self._write(_Proto().bytes(1, main_tag).float(2, _number(value)), global_step, walltime, run)

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: Any = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """The distribution of `values` (a weight tensor, say) at this step. bins is
        "tensorflow" (TensorBoard's exponential buckets) or anything np.histogram takes."""
        data = _array(values).astype(np.float64).reshape(-1)
        if data.size == 0:
            raise ValueError("add_histogram: the input has no element")
        counts, edges = np.histogram(data, bins=_default_buckets() if bins == "tensorflow" else bins)
        if max_bins is not None and len(counts) > max_bins:  # merge groups of neighbours, as PyTorch
            group = len(counts) // max_bins
            counts = np.pad(counts, (0, -len(counts) % group)).reshape(-1, group).sum(1)
            edges = np.append(edges[:-1:group], edges[-1])
        used = np.flatnonzero(counts)
        first, last = used[0], used[-1] + 1
        # TensorBoard reads only right edges: one empty bucket on the left keeps the first edge
        counts = np.concatenate([[0], counts[first:last]])
        edges = edges[first : last + 1]
        histo = (
            _Proto()
            .double(1, data.min())
            .double(2, data.max())
            .double(3, data.size)
            .double(4, data.sum())
            .double(5, data.dot(data))
            .doubles(6, edges)
            .doubles(7, counts)
        )
        self._write(_Proto().bytes(1, tag).bytes(5, histo), global_step, walltime)

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """One image, (C, H, W) by default (dataformats "HWC", "HW" too); floats in [0, 1]
        or uint8 0..255, as in PyTorch. Stored as PNG."""
        image = _array(img_tensor)
        order = {"CHW": (1, 2, 0), "HWC": (0, 1, 2), "HW": None}.get(dataformats.upper(), "bad")
        if isinstance(order, str):
            raise ValueError(f"add_image: dataformats must be 'CHW', 'HWC' or 'HW', not {dataformats!r}")
        image = image[..., None] if order is None else image.transpose(order)
        self._write_png(tag, image, global_step, walltime)

    def add_images(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """A batch of images, (N, C, H, W) by default or (N, H, W, C), tiled into one grid."""
        images = _array(img_tensor)
        if dataformats.upper() == "NHWC":
            images = images.transpose(0, 3, 1, 2)
        elif dataformats.upper() != "NCHW":
            raise ValueError(f"add_images: dataformats must be 'NCHW' or 'NHWC', not {dataformats!r}")
        grid = make_grid(Tensor(np.ascontiguousarray(images)), padding=0).numpy()
        self._write_png(tag, grid.transpose(1, 2, 0), global_step, walltime)

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """A matplotlib figure, drawn to an image."""
        figure.canvas.draw()
        image = np.asarray(figure.canvas.buffer_rgba())[..., :3]
        if close:
            import matplotlib.pyplot as plt

            plt.close(figure)
        self._write_png(tag, image, global_step, walltime)

    def _write_png(self, tag: str, image: np.ndarray, step: Any, walltime: Any) -> None:
        """image: (H, W, C) floats in [0, 1] or uint8."""
        if image.dtype != np.uint8:
            image = np.clip(image * 255.0, 0, 255).astype(np.uint8)
        height, width, channels = image.shape
        encoded = (
            _Proto().int(1, height).int(2, width).int(3, channels).bytes(4, _png(np.ascontiguousarray(image)))
        )
        self._write(_Proto().bytes(1, tag).bytes(4, encoded), step, walltime)

    def add_text(
        self, tag: str, text_string: str, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """Markdown text, shown in TensorBoard's Text tab."""
        metadata = _Proto().bytes(1, _Proto().bytes(1, "text"))  # SummaryMetadata{plugin_data{name}}
        tensor = _Proto().int(1, 7).bytes(2, _Proto().bytes(2, _Proto().int(1, 1))).bytes(8, text_string)
        self._write(
            _Proto().bytes(1, f"{tag}/text_summary").bytes(9, metadata).bytes(8, tensor),
            global_step,
            walltime,
        )

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False, **kwargs: Any) -> None:
        raise NotImplementedError(
            "SummaryWriter.add_graph is not in ember (it needs PyTorch's tracer); draw the graph of "
            "an output with ember.viz.draw_graph(output) instead"
        )

    # ---- files ---------------------------------------------------------------------------------

    def flush(self) -> None:
        for f in self._files.values():
            f.flush()

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
