"""torchvision.utils' make_grid and save_image: a batch of images tiled into one, and that
tile written to a PNG file, as the GAN and VAE tutorials show their samples.

    grid = make_grid(fake[:64], padding=2, normalize=True)
    plt.imshow(grid.permute(1, 2, 0))
    save_image(recon, "reconstruction.png", nrow=8)

The PNG is written with the standard library (zlib): no imaging package is needed. Both
work on values, not on the graph: the grid does not require grad (torchvision's grid is
recorded when its input requires grad; take `.detach()` before plotting in either).
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from typing import Any

import numpy as np

from ember._tensor import Tensor


def make_grid(
    tensor: Any,
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    value_range: tuple[float, float] | None = None,
    scale_each: bool = False,
    pad_value: float = 0.0,
) -> Tensor:
    """Tile a batch of images (B, C, H, W), or a list of (C, H, W) images, into one
    (C, rows * (H + padding) + padding, nrow * (W + padding) + padding) image, `nrow`
    images to a row (torchvision.utils.make_grid).

    One-channel images become three (RGB) channels, as in torchvision, and a batch of one
    image is returned without padding. With normalize=True, values are shifted and scaled
    into [0, 1] from `value_range` (clamped to it) or else from the batch's minimum and
    maximum (each image's own with scale_each=True).
    """
    images = _batch(tensor)
    if images.shape[0] == 0:
        raise ValueError("make_grid: the batch has no images")
    if normalize:
        images = _normalized(images, value_range, scale_each)
    if images.shape[0] == 1:
        return Tensor(images[0])
    n, channels, height, width = images.shape
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    step_y, step_x = height + padding, width + padding
    grid = np.full((channels, rows * step_y + padding, cols * step_x + padding), pad_value, images.dtype)
    for k in range(n):
        y, x = divmod(k, cols)
        top, left = y * step_y + padding, x * step_x + padding
        grid[:, top : top + height, left : left + width] = images[k]
    return Tensor(grid)


def _batch(tensor: Any) -> np.ndarray:
    """The images as one (B, C, H, W) array, one channel repeated to three."""
    if isinstance(tensor, (list, tuple)):
        if not tensor or not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError("make_grid: expected a tensor or a non-empty list of tensors")
        array = np.stack([t.detach().numpy() for t in tensor])
    elif isinstance(tensor, Tensor):
        array = tensor.detach().numpy()
    else:
        raise TypeError(f"make_grid: expected a tensor or a list of tensors, got {type(tensor).__name__}")
    if array.ndim == 2:  # one image, one channel: (H, W)
        array = array[None]
    if array.ndim == 3:  # one image: (C, H, W)
        array = array[None]
    if array.ndim != 4:
        raise ValueError(
            f"make_grid: expected images of shape (B, C, H, W), (C, H, W) or (H, W), got {list(array.shape)}"
        )
    if array.shape[1] == 1:
        array = np.repeat(array, 3, axis=1)
    return array.copy()


def _normalized(images: np.ndarray, value_range: Any, scale_each: bool) -> np.ndarray:
    images = images.astype(np.result_type(images.dtype, np.float32))
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("make_grid: value_range has to be a tuple (min, max) if specified")
    parts = images if scale_each else images[None]
    for part in parts:  # views: each image, or the whole batch
        low, high = (float(part.min()), float(part.max())) if value_range is None else value_range
        np.clip(part, low, high, out=part)
        part -= low
        part /= max(high - low, 1e-5)
    return images


def save_image(tensor: Any, fp: Any, format: str | None = None, **kwargs: Any) -> None:  # noqa: A002
    """Write `tensor` (an image or a batch, which make_grid tiles with `kwargs`) to `fp`, a
    path or a binary file, as an 8-bit PNG; values in [0, 1] map to 0..255
    (torchvision.utils.save_image). Only PNG is written: another format, by name or by the
    path's extension, raises."""
    name = format or (
        os.path.splitext(os.fspath(fp))[1].lstrip(".") if isinstance(fp, (str, os.PathLike)) else "png"
    )
    if name.lower() != "png":
        raise ValueError(
            f"save_image writes PNG only (no imaging package needed), not {name!r}: name the file "
            "*.png, or convert the PNG with an image library"
        )
    grid = make_grid(tensor, **kwargs).numpy()
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    data = _png(np.ascontiguousarray(pixels))
    if isinstance(fp, (str, os.PathLike)):
        with open(fp, "wb") as f:
            f.write(data)
    else:
        fp.write(data)


def _png(pixels: np.ndarray) -> bytes:
    """An (H, W, C) uint8 array as PNG bytes: C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA."""
    height, width, channels = pixels.shape
    color_types = {1: 0, 2: 4, 3: 2, 4: 6}
    if channels not in color_types:
        raise ValueError(f"save_image: images need 1 to 4 channels for PNG, got {channels}")

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, color_types[channels], 0, 0, 0)
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, -1)], axis=1)  # filter 0
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )
