"""ember.utils.tensorboard.SummaryWriter: the event files are read back here record by record
(lengths, masked CRC-32C, protocol buffers decoded by a small reader) and checked field by
field. (TensorBoard's own EventAccumulator read them too, and PyTorch's writer gave the same
histogram buckets: a scratch check, since neither TensorBoard nor its protobufs are
dependencies of the tests.)"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

import ember
from ember.utils.tensorboard import SummaryWriter, _crc32c, _masked_crc


def fields(data: bytes) -> list[tuple[int, object]]:
    """(field number, value) of a protocol buffer: ints, 8- and 4-byte values as bytes, and
    length-delimited values as bytes."""
    out, pos = [], 0
    while pos < len(data):
        key, pos = varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(data, pos)
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            length, pos = varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        out.append((field, value))
    return out


def varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def records(path: Path) -> list[bytes]:
    data, pos, out = path.read_bytes(), 0, []
    while pos < len(data):
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[pos + 8 : pos + 12])[0] == _masked_crc(header)
        body = data[pos + 12 : pos + 12 + length]
        assert struct.unpack("<I", data[pos + 12 + length : pos + 16 + length])[0] == _masked_crc(body)
        out.append(body)
        pos += 16 + length
    return out


def values(directory: Path) -> list[tuple[int, dict]]:
    """(step, {field: value} of the Summary.Value) of each summary event in the run's file."""
    (path,) = directory.glob("events.out.tfevents.*")
    events = [dict(fields(r)) for r in records(path)]
    assert events[0][3] == b"brain.Event:2"
    out = []
    for event in events[1:]:
        (value,) = [v for f, v in fields(event[5]) if f == 1]
        out.append((event.get(2), dict(fields(value))))
    return out


def test_crc32c_check_value():
    assert _crc32c(b"123456789") == 0xE3069283  # the standard check value of CRC-32C


def test_scalars_are_written_in_order(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalar("Loss/train", 1.0 / (step + 1), step)
        writer.add_scalar("acc", ember.tensor(0.75), 7)
    got = [(step, v[1].decode(), struct.unpack("<f", v[2])[0]) for step, v in values(tmp_path)]
    assert got == [
        (0, "Loss/train", 1.0),
        (1, "Loss/train", 0.5),
        (2, "Loss/train", np.float32(1 / 3)),
        (7, "acc", 0.75),
    ]
    with pytest.raises(ValueError, match="single number"):
        SummaryWriter(tmp_path / "b").add_scalar("x", ember.ones(2))
    with pytest.raises(ValueError, match="single number"):  # was a silent NaN
        SummaryWriter(tmp_path / "c").add_scalar("x", np.ones(2))


def test_add_scalars_writes_one_run_per_curve(tmp_path):
    writer = SummaryWriter(tmp_path)
    writer.add_scalars("loss", {"train": 1.0, "test": 2.0}, 5)
    writer.close()
    for tag, expected in (("train", 1.0), ("test", 2.0)):
        ((step, v),) = values(tmp_path / f"loss_{tag}")
        assert step == 5 and v[1] == b"loss" and struct.unpack("<f", v[2])[0] == expected


def test_histogram_fields(tmp_path):
    data = np.arange(10.0)
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("w", ember.tensor(data), 2, bins=5)
    ((step, v),) = values(tmp_path)
    histo = fields(v[5])
    doubles = {f: struct.unpack("<d", x)[0] for f, x in histo if f <= 5}
    assert step == 2 and doubles == {1: 0.0, 2: 9.0, 3: 10.0, 4: 45.0, 5: 285.0}
    limits = np.frombuffer(dict(histo)[6], "<f8")
    counts = np.frombuffer(dict(histo)[7], "<f8")
    np.testing.assert_allclose(limits, [0, 1.8, 3.6, 5.4, 7.2, 9.0])
    assert counts.tolist() == [0, 2, 2, 2, 2, 2]  # an empty first bucket keeps the left edge


def png_pixels(png: bytes) -> np.ndarray:
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        chunks[png[pos + 4 : pos + 8]] = (
            chunks.get(png[pos + 4 : pos + 8], b"") + png[pos + 8 : pos + 8 + length]
        )
        pos += 12 + length
    width, height, _, color, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {0: 1, 2: 3, 6: 4}[color]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, -1)
    return rows[:, 1:].reshape(height, width, channels)


def test_images_are_pngs_of_the_values(tmp_path):
    image = np.random.default_rng(0).random((3, 4, 5)).astype(np.float32)
    with SummaryWriter(tmp_path) as writer:
        writer.add_image("chw", ember.tensor(image), 0)
        writer.add_image("hwc", image.transpose(1, 2, 0), 1, dataformats="HWC")
        writer.add_images("batch", ember.tensor(np.stack([image, image])), 2)
        with pytest.raises(ValueError, match="dataformats"):
            writer.add_image("bad", image, 0, dataformats="CWH")
    expected = np.clip(image.transpose(1, 2, 0) * 255.0, 0, 255).astype(np.uint8)
    got = values(tmp_path)
    for _step, v in got[:2]:
        encoded = dict(fields(v[4]))
        assert (encoded[1], encoded[2], encoded[3]) == (4, 5, 3)
        np.testing.assert_array_equal(png_pixels(encoded[4]), expected)
    assert png_pixels(dict(fields(got[2][1][4]))[4]).shape == (4, 10, 3)


def test_text_goes_to_the_text_plugin(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_text("note", "hello **world**", 3)
    ((step, v),) = values(tmp_path)
    assert step == 3 and v[1] == b"note/text_summary"
    assert b"text" in v[9] and b"hello **world**" in v[8]
    with pytest.raises(NotImplementedError, match="draw_graph"):
        SummaryWriter(tmp_path / "g").add_graph(ember.nn.Linear(2, 2))


def test_default_log_dir_is_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    assert writer.get_logdir().startswith("runs") and writer.get_logdir().endswith("_lr0.1")
    writer.close()
    assert len(list((tmp_path / writer.get_logdir()).glob("events.out.tfevents.*"))) == 1
