"""make_grid and save_image (ember.utils.image), torchvision.utils' functions: the tiling
checked element by element, the PNG read back by zlib and, where installed, by Pillow."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest

import ember
from ember.utils import make_grid, save_image


def batch(n=5, c=3, h=4, w=6, seed=0):
    return ember.tensor(np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32))


def test_grid_places_each_image_in_row_major_order():
    x = batch()
    grid = make_grid(x, nrow=3, padding=2, pad_value=0.5).numpy()
    assert grid.shape == (3, 2 * (4 + 2) + 2, 3 * (6 + 2) + 2)
    for k in range(5):
        y, col = divmod(k, 3)
        top, left = 2 + y * 6, 2 + col * 8
        np.testing.assert_array_equal(grid[:, top : top + 4, left : left + 6], x[k].numpy())
    assert (grid[:, :2] == 0.5).all() and (grid[:, :, :2] == 0.5).all()
    assert (grid[:, 8:14, 18:24] == 0.5).all()  # the sixth cell is empty: padding only


def test_one_channel_becomes_three_and_a_single_image_loses_its_padding():
    gray = batch(n=2, c=1)
    grid = make_grid(gray, padding=0).numpy()
    assert grid.shape == (3, 4, 12)
    np.testing.assert_array_equal(grid[0], grid[2])
    one = make_grid(batch(n=1, c=1)).numpy()
    assert one.shape == (3, 4, 6)
    assert make_grid(ember.ones(4, 6)).shape == (3, 4, 6)  # (H, W)
    assert make_grid([ember.zeros(3, 4, 6), ember.ones(3, 4, 6)], padding=1).shape == (3, 6, 15)
    with pytest.raises(ValueError, match="no images"):
        make_grid(ember.zeros(0, 3, 4, 4))


def test_normalize_uses_the_range_given_or_found():
    x = batch() * 4 - 2
    grid = make_grid(x, normalize=True, padding=0, nrow=5).numpy()
    assert np.isclose(grid.min(), 0) and np.isclose(grid.max(), 1)
    clipped = make_grid(x, normalize=True, value_range=(-1.0, 1.0), padding=0, nrow=5).numpy()
    expected = (np.clip(x.numpy(), -1, 1) + 1) / 2
    np.testing.assert_allclose(clipped[:, :, :6], expected[0], rtol=1e-6)
    each = make_grid(x, normalize=True, scale_each=True, padding=0, nrow=5).numpy()
    for k in range(5):
        cell = each[:, :, 6 * k : 6 * k + 6]
        assert np.isclose(cell.min(), 0) and np.isclose(cell.max(), 1)
    assert x.min() < -1  # the input is untouched
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(x, normalize=True, value_range=[0, 1])


def read_png(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, color, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + width * channels)
    assert depth == 8 and (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, channels)


def test_save_image_writes_the_grid_as_an_8_bit_png(tmp_path):
    x = batch()
    path = tmp_path / "samples.png"
    save_image(x, path, nrow=3)
    pixels = read_png(path.read_bytes())
    grid = make_grid(x, nrow=3).numpy()
    expected = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(pixels, expected)
    buffer = io.BytesIO()
    save_image(x[0], buffer)  # a file object, one image
    assert read_png(buffer.getvalue()).shape == (4, 6, 3)
    try:
        from PIL import Image
    except ImportError:
        return
    np.testing.assert_array_equal(np.asarray(Image.open(path)), expected)


def test_save_image_refuses_other_formats(tmp_path):
    with pytest.raises(ValueError, match="writes PNG only"):
        save_image(batch(), tmp_path / "samples.jpg")
    with pytest.raises(ValueError, match="writes PNG only"):
        save_image(batch(), io.BytesIO(), format="JPEG")
