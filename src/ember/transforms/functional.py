"""The deterministic image operations behind ember.transforms (torchvision.transforms.functional).

An image is a tensor (..., C, H, W), so one call transforms a whole batch, or, standing in
for a PIL image, a NumPy array H x W or H x W x C (the pixels of a dataset sample before
ToTensor); an array comes back as an array of the same layout. A PIL image itself
(anything with `__array_interface__`) is read as such an array and comes back as one.
The arithmetic follows torchvision's tensor code: integer images are computed in float32
and rounded back, grayscale uses the ITU-R 601-2 weights (0.2989, 0.587, 0.114) and
truncates, blurs pad by reflection. Only `resize` (through `nn.functional.interpolate`) and `normalize` are
recorded by autograd; the others work on the pixels.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ember import dtypes as _dtypes
from ember._tensor import Tensor


class InterpolationMode(enum.Enum):
    """Resampling filters for resize (torchvision InterpolationMode); strings are accepted too."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def _interpolation(mode: Any) -> InterpolationMode:
    try:
        return InterpolationMode(getattr(mode, "value", mode))
    except ValueError:
        names = ", ".join(m.value for m in InterpolationMode)
        raise ValueError(f"interpolation should be one of {names}, got {mode!r}") from None


# ---- images as (..., C, H, W) arrays --------------------------------------------------------


def _to_chw(img: Any, name: str) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """The pixels as an array (..., C, H, W), and the function that turns a result back."""
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError(f"{name}: expected a tensor image (..., C, H, W), got shape {list(img.shape)}")
        arr = img._data if img.ndim >= 3 else img._data[None]
        squeeze = img.ndim == 2  # torchvision accepts H x W tensors as one channel
        return arr, lambda out: Tensor(np.ascontiguousarray(out[0] if squeeze else out))
    if not isinstance(img, np.ndarray) and hasattr(img, "__array_interface__"):
        img = np.asarray(img)  # a PIL image: its pixels, as ToTensor reads them; arrays come back
    if isinstance(img, np.ndarray):
        if img.ndim == 2:
            return img[None], lambda out: np.ascontiguousarray(out[0])
        if img.ndim == 3:
            return img.transpose(2, 0, 1), lambda out: np.ascontiguousarray(out.transpose(1, 2, 0))
        raise TypeError(f"{name}: expected an image array H x W or H x W x C, got shape {img.shape}")
    raise TypeError(f"{name}: img should be a Tensor or a NumPy array image. Got {type(img)}")


def _max_value(dtype: np.dtype) -> float:
    """The value of full intensity: 1 for floating point images, the type's maximum for integers."""
    return 1.0 if dtype.kind == "f" else float(np.iinfo(dtype).max) if dtype.kind in "iu" else 1.0


def _back_to(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A float result cast to the image's dtype: rounded (half to even) for integer images."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(dtype)
    return out.astype(dtype, copy=False)


def _work_dtype(dtype: np.dtype) -> np.dtype:
    return dtype if dtype.kind == "f" else np.dtype(np.float32)


def get_dimensions(img: Any) -> list[int]:
    """[channels, height, width] of an image."""
    arr, _ = _to_chw(img, "get_dimensions")
    return list(arr.shape[-3:])


def get_image_size(img: Any) -> list[int]:
    """[width, height] of an image (torchvision's order)."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img: Any) -> int:
    return get_dimensions(img)[0]


# ---- geometry ---------------------------------------------------------------------------------


def hflip(img: Any) -> Any:
    """Mirror left-right."""
    arr, back = _to_chw(img, "hflip")
    return back(arr[..., ::-1])


def vflip(img: Any) -> Any:
    """Mirror top-bottom."""
    arr, back = _to_chw(img, "vflip")
    return back(arr[..., ::-1, :])


def _crop_array(arr: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    h, w = arr.shape[-2:]
    bottom, right = top + height, left + width
    if top < 0 or left < 0 or bottom > h or right > w:  # the part outside the image is zeros
        pads = [max(-top, 0), max(bottom - h, 0), max(-left, 0), max(right - w, 0)]
        widths = [(0, 0)] * (arr.ndim - 2) + [(pads[0], pads[1]), (pads[2], pads[3])]
        window = arr[..., max(top, 0) : min(bottom, h), max(left, 0) : min(right, w)]
        return np.pad(window, widths)
    return arr[..., top:bottom, left:right]


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The window of height x width whose top-left pixel is (top, left); outside is zero."""
    arr, back = _to_chw(img, "crop")
    return back(_crop_array(arr, int(top), int(left), int(height), int(width)))


def _size_pair(size: Any, name: str) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) in (1, 2):
        return (int(size[0]), int(size[-1]))
    raise ValueError(f"{name}: size should be an int or a sequence of one or two ints, got {size!r}")


def center_crop(img: Any, output_size: int | Sequence[int]) -> Any:
    """The central output_size window; an image smaller than that is first padded with zeros."""
    arr, back = _to_chw(img, "center_crop")
    ch, cw = _size_pair(output_size, "center_crop")
    h, w = arr.shape[-2:]
    if ch > h or cw > w:
        widths = [(0, 0)] * (arr.ndim - 2)
        dh, dw = max(ch - h, 0), max(cw - w, 0)
        arr = np.pad(arr, widths + [(dh // 2, (dh + 1) // 2), (dw // 2, (dw + 1) // 2)])
        h, w = arr.shape[-2:]
        if (h, w) == (ch, cw):
            return back(arr)
    top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
    return back(arr[..., top : top + ch, left : left + cw])


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _padding_ltrb(padding: Any) -> list[int]:
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        return [int(padding)] * 4
    if isinstance(padding, Sequence) and len(padding) in (1, 2, 4):
        p = [int(v) for v in padding]
        return p * 4 if len(p) == 1 else p * 2 if len(p) == 2 else p
    raise ValueError(
        f"Padding must be an int or a 1, 2, or 4 element sequence, not {padding!r} "
        "(left/right and top/bottom for two values; left, top, right, bottom for four)"
    )


def pad(img: Any, padding: int | Sequence[int], fill: float = 0, padding_mode: str = "constant") -> Any:
    """Pad the borders: one int for all four, (left/right, top/bottom) or (left, top, right, bottom).

    padding_mode 'constant' fills with `fill`, 'edge' repeats the last pixel, 'reflect'
    mirrors without repeating it (d c b | a b c d) and 'symmetric' with it (b a | a b c d).
    Negative padding removes pixels, as for torchvision's tensors.
    """
    if padding_mode not in _PAD_MODES:
        raise ValueError(
            f"Padding mode should be either constant, edge, reflect or symmetric, got {padding_mode!r}"
        )
    left, top, right, bottom = _padding_ltrb(padding)
    arr, back = _to_chw(img, "pad")
    h, w = arr.shape[-2:]
    # negative sides crop first
    arr = arr[..., max(-top, 0) : h - max(-bottom, 0), max(-left, 0) : w - max(-right, 0)]
    top, bottom, left, right = (max(v, 0) for v in (top, bottom, left, right))
    h, w = arr.shape[-2:]
    if padding_mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise ValueError(
            f"pad: reflect padding ({left}, {top}, {right}, {bottom}) must be smaller than the image "
            f"size {h} x {w} on each side"
        )
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode != "constant":
        return back(np.pad(arr, widths, mode=padding_mode))
    if isinstance(fill, (int, float, np.number)):
        return back(np.pad(arr, widths, mode="constant", constant_values=fill))
    values = np.asarray(fill, dtype=arr.dtype).reshape(-1)  # one value per channel, as for a PIL image
    if values.size not in (1, arr.shape[-3]):
        raise ValueError(f"pad: fill has {values.size} values for an image of {arr.shape[-3]} channels")
    out = np.empty(arr.shape[:-2] + (h + top + bottom, w + left + right), dtype=arr.dtype)
    out[...] = values.reshape(-1, 1, 1)
    out[..., top : top + h, left : left + w] = arr
    return back(out)


def _resized_size(h: int, w: int, size: Any, max_size: int | None) -> tuple[int, int]:
    """torchvision's output size: an int (or one-element list) is the smaller edge."""
    if isinstance(size, (int, np.integer)) or (isinstance(size, Sequence) and len(size) == 1):
        requested = int(size if isinstance(size, (int, np.integer)) else size[0])
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(
                    f"max_size = {max_size} must be strictly greater than the requested "
                    f"size for the smaller edge size = {size}"
                )
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if isinstance(size, Sequence) and len(size) == 2:
        if max_size is not None:
            raise ValueError(
                "max_size should only be passed if size specifies the length of the smaller edge, "
                "i.e. size should be an int or a sequence of length 1 in torchscript mode."
            )
        return int(size[0]), int(size[1])
    raise TypeError(f"Size should be int or sequence of one or two ints. Got {size!r}")


def resize(
    img: Any,
    size: int | Sequence[int],
    interpolation: Any = InterpolationMode.BILINEAR,
    max_size: int | None = None,
    antialias: bool | None = True,
) -> Any:
    """Resize to size (h, w), or make the smaller edge `size` keeping the aspect ratio.

    torchvision's tensor resize: nn.functional.interpolate with align_corners=False and,
    for bilinear and bicubic, antialias (a wider filter when shrinking, as PIL does);
    integer images are resized in float32 and rounded back.
    """
    mode = _interpolation(interpolation)
    arr, back = _to_chw(img, "resize")
    h, w = arr.shape[-2:]
    out_h, out_w = _resized_size(h, w, size, max_size)
    if (out_h, out_w) == (h, w):
        return img
    from ember.nn import functional as nnf

    smooth = mode in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)

    def run(x: Tensor) -> Tensor:
        return nnf.interpolate(
            x,
            size=(out_h, out_w),
            mode=mode.value,
            align_corners=False if smooth else None,
            antialias=bool(antialias) and smooth,
        )

    if isinstance(img, Tensor) and arr.dtype.kind == "f":  # with tensor ops, so autograd records it
        y = run(img.reshape((-1,) + tuple(arr.shape[-3:])))
        return y.reshape(tuple(img.shape[:-2]) + (out_h, out_w))
    y = run(Tensor(arr.reshape((-1,) + arr.shape[-3:]).astype(_work_dtype(arr.dtype))))
    out = _back_to(y._data, arr.dtype).reshape(arr.shape[:-2] + (out_h, out_w))
    return back(out)


def resized_crop(
    img: Any,
    top: int,
    left: int,
    height: int,
    width: int,
    size: int | Sequence[int],
    interpolation: Any = InterpolationMode.BILINEAR,
    antialias: bool | None = True,
) -> Any:
    """crop, then resize to size."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


# ---- rotations and affine maps -----------------------------------------------------------------


def _inverse_affine(
    center: Sequence[float], angle: float, translate: Sequence[float], scale: float, shear: Sequence[float]
) -> list[float]:
    """The 2 x 3 matrix taking output pixel coordinates (relative to the image's centre) to
    input ones: the inverse of translate(center + translate) . rotate(angle) . shear . scale
    . translate(-center), as torchvision composes it (angles in degrees, clockwise for a
    positive angle in image coordinates, y pointing down)."""
    rot, sx, sy = (math.radians(a) for a in (angle, shear[0], shear[1]))
    cx, cy = center
    tx, ty = translate
    # the forward map's linear part, [[a, b], [c, d]], rotation with shear
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    # its inverse: the determinant of rotation with shear is 1, so the adjugate, divided by
    # the scale
    m = [v / scale for v in (d, -b, 0.0, -c, a, 0.0)]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def _expanded_size(matrix: list[float], w: int, h: int) -> tuple[int, int]:
    """The (width, height) that holds the whole rotated image (rotate's expand=True)."""
    corners = np.array(
        [
            [-0.5 * w, -0.5 * h, 1.0],
            [-0.5 * w, 0.5 * h, 1.0],
            [0.5 * w, 0.5 * h, 1.0],
            [0.5 * w, -0.5 * h, 1.0],
        ]
    )
    # in float32, and shifted to [0, w] x [0, h] before rounding out, as torchvision
    # computes it (centred, a 5 x 5 image turned by 90 degrees would need 6 x 6)
    moved = corners.astype(np.float32) @ np.array(matrix, dtype=np.float32).reshape(2, 3).T
    moved += np.array([0.5 * w, 0.5 * h], np.float32)
    tol = np.float32(1e-4)  # a corner a hair past a whole pixel does not add a pixel
    high = np.ceil(np.trunc(moved.max(axis=0) / tol) * tol)
    low = np.floor(np.trunc(moved.min(axis=0) / tol) * tol)
    size = high - low
    return int(size[0]), int(size[1])


def _warp(
    arr: np.ndarray, matrix: list[float], out_w: int, out_h: int, mode: InterpolationMode, fill: Any
) -> np.ndarray:
    """Sample the (..., C, H, W) image at the input points that `matrix` gives for each output
    pixel (grid_sample, zeros outside, align_corners=False), in float32 for integer images,
    then fill what came from outside with `fill` (a number or one per channel)."""
    if mode not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"Interpolation mode '{mode.value}' is unsupported with Tensor input")
    from ember.nn import functional as nnf

    work = _work_dtype(arr.dtype)
    h, w = arr.shape[-2:]
    # output pixel centres, relative to the output's centre, then through the matrix and
    # scaled to grid_sample's [-1, 1]
    xs = np.linspace(-out_w * 0.5 + 0.5, out_w * 0.5 - 0.5, out_w, dtype=work)
    ys = np.linspace(-out_h * 0.5 + 0.5, out_h * 0.5 - 0.5, out_h, dtype=work)
    base = np.ones((out_h, out_w, 3), work)
    base[..., 0] = xs
    base[..., 1] = ys[:, None]
    theta = np.array(matrix, dtype=work).reshape(2, 3).T / np.array([0.5 * w, 0.5 * h], dtype=work)
    grid = (base.reshape(-1, 3) @ theta).reshape(1, out_h, out_w, 2)
    images = arr.reshape((-1,) + arr.shape[-3:]).astype(work)
    n, channels = images.shape[:2]
    if fill is not None:  # a channel of ones shows which output pixels came from inside
        images = np.concatenate([images, np.ones((n, 1, h, w), work)], axis=1)
    out = nnf.grid_sample(
        Tensor(images),
        Tensor(np.broadcast_to(grid, (n, out_h, out_w, 2)).copy()),
        mode=mode.value,
        padding_mode="zeros",
        align_corners=False,
    )._data
    if fill is not None:
        inside, out = out[:, -1:], out[:, :-1]
        values = [float(v) for v in fill] if isinstance(fill, (list, tuple)) else [float(fill)]
        if len(values) not in (1, channels):
            raise ValueError(
                f"The number of elements in 'fill' does not match the number of channels of the image ({len(values)} != {channels})"
            )
        fill_img = np.array(values, work).reshape(1, -1, 1, 1)
        if mode is InterpolationMode.NEAREST:
            out = np.where(inside < 0.5, fill_img, out)
        else:
            out = out * inside + (1.0 - inside) * fill_img
    return _back_to(out, arr.dtype).reshape(arr.shape[:-2] + (out_h, out_w))


def rotate(
    img: Any,
    angle: float,
    interpolation: Any = InterpolationMode.NEAREST,
    expand: bool = False,
    center: Sequence[int] | None = None,
    fill: Any = None,
) -> Any:
    """Rotate by `angle` degrees counter-clockwise about `center` (the image's centre by
    default), sampling nearest or bilinear; pixels from outside the image are 0, or `fill`.
    expand=True enlarges the output to hold the whole rotated image. Integer images are
    computed in float32 and rounded back (torchvision's tensor rotate)."""
    mode = _interpolation(interpolation)
    arr, back = _to_chw(img, "rotate")
    h, w = arr.shape[-2:]
    center_f = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, (w, h))]
    matrix = _inverse_affine(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    out_w, out_h = _expanded_size(matrix, w, h) if expand else (w, h)
    return back(_warp(arr, matrix, out_w, out_h, mode, fill))


def affine(
    img: Any,
    angle: float,
    translate: Sequence[int],
    scale: float,
    shear: float | Sequence[float],
    interpolation: Any = InterpolationMode.NEAREST,
    fill: Any = None,
    center: Sequence[int] | None = None,
) -> Any:
    """Rotate by `angle` degrees (clockwise, about `center`, the image's centre by default),
    scale, shear (degrees along x, or (x, y)) and translate (pixels) the image, keeping its
    size; pixels from outside are 0, or `fill`. Integer images are computed in float32 and
    rounded back (torchvision's tensor affine)."""
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if isinstance(shear, (int, float)):
        shear = [float(shear), 0.0]
    elif isinstance(shear, (list, tuple)) and len(shear) in (1, 2):
        shear = [float(shear[0])] * 2 if len(shear) == 1 else [float(v) for v in shear]
    else:
        raise ValueError(f"Shear should be either a single value or a sequence of two values. Got {shear}")
    mode = _interpolation(interpolation)
    arr, back = _to_chw(img, "affine")
    h, w = arr.shape[-2:]
    center_f = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, (w, h))]
    matrix = _inverse_affine(center_f, angle, [float(t) for t in translate], float(scale), shear)
    return back(_warp(arr, matrix, w, h, mode, fill))


# ---- colour -----------------------------------------------------------------------------------


def _check_channels(arr: np.ndarray, allowed: tuple[int, ...], name: str) -> None:
    if arr.shape[-3] not in allowed:
        raise TypeError(
            f"{name}: input image tensor permitted channel values are {list(allowed)}, "
            f"but found {arr.shape[-3]}"
        )


def _grayscale(arr: np.ndarray) -> np.ndarray:
    """0.2989 R + 0.587 G + 0.114 B, keeping the channel axis, in the image's dtype (truncated)."""
    if arr.shape[-3] == 1:
        return arr.copy()
    work = _work_dtype(arr.dtype)
    r, g, b = (arr[..., c : c + 1, :, :].astype(work) for c in range(3))
    lum = work.type(0.2989) * r + work.type(0.587) * g + work.type(0.114) * b
    return lum.astype(arr.dtype)


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """Luma by ITU-R 601-2 (0.2989 R + 0.587 G + 0.114 B), on 1 or num_output_channels=3 channels."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    arr, back = _to_chw(img, "rgb_to_grayscale")
    _check_channels(arr, (1, 3), "rgb_to_grayscale")
    gray = _grayscale(arr)
    if num_output_channels == 3:
        gray = np.broadcast_to(gray, arr.shape[:-3] + (3,) + arr.shape[-2:])
    elif not isinstance(img, Tensor):
        return np.ascontiguousarray(gray[0])  # H x W, as a PIL image of mode 'L'
    return back(gray)


def _gaussian_kernel1d(size: int, sigma: float, dtype: np.dtype) -> np.ndarray:
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size).astype(dtype)
    pdf = np.exp(-0.5 * (x / dtype.type(sigma)) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(
    img: Any, kernel_size: int | Sequence[int], sigma: float | Sequence[float] | None = None
) -> Any:
    """Blur with a Gaussian kernel of kernel_size (kx, ky), odd, and sigma (sx, sy).

    sigma defaults to 0.3 * ((k - 1) * 0.5 - 1) + 0.8 = 0.15 k + 0.35 per direction, as in
    torchvision (and OpenCV); the borders are padded by reflection. The kernel is the outer
    product of two normalised 1-D Gaussians, applied one direction after the other.
    """
    ks = (
        [int(kernel_size)] * 2
        if isinstance(kernel_size, (int, np.integer))
        else [int(k) for k in kernel_size]
    )
    if len(ks) == 1:
        ks = ks * 2
    if len(ks) != 2 or any(k <= 0 or k % 2 == 0 for k in ks):
        raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sig = [k * 0.15 + 0.35 for k in ks]
    elif isinstance(sigma, (int, float)):
        sig = [float(sigma)] * 2
    else:
        sig = [float(s) for s in sigma] * (2 if len(sigma) == 1 else 1)
    if len(sig) != 2 or any(s <= 0 for s in sig):
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    arr, back = _to_chw(img, "gaussian_blur")
    work = _work_dtype(arr.dtype)
    kx, ky = (_gaussian_kernel1d(k, s, work) for k, s in zip(ks, sig))
    px, py = ks[0] // 2, ks[1] // 2
    h, w = arr.shape[-2:]
    if py >= h or px >= w:
        raise ValueError(
            f"gaussian_blur: kernel_size {ks} is too large for an image of {h} x {w} (reflect padding)"
        )
    x = np.pad(arr.astype(work), [(0, 0)] * (arr.ndim - 2) + [(py, py), (px, px)], mode="reflect")
    rows = sum(kx[t] * x[..., :, t : t + w] for t in range(ks[0]))
    out = sum(ky[t] * rows[..., t : t + h, :] for t in range(ks[1]))
    return back(_back_to(out, arr.dtype))


def _blend(a: np.ndarray, b: np.ndarray | float, ratio: float, dtype: np.dtype) -> np.ndarray:
    ratio = float(ratio)
    work = _work_dtype(dtype)
    mixed = work.type(ratio) * a.astype(work) + work.type(1.0 - ratio) * b
    mixed = np.clip(mixed, 0, _max_value(dtype))
    return mixed.astype(dtype)  # truncated for integer images, as torchvision's .to(dtype)


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    """Multiply by brightness_factor (0 gives black), clamped to the valid range."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    arr, back = _to_chw(img, "adjust_brightness")
    _check_channels(arr, (1, 3), "adjust_brightness")
    return back(_blend(arr, 0.0, brightness_factor, arr.dtype))


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    """Blend with the mean grey level of each image (0 gives a uniform grey image)."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    arr, back = _to_chw(img, "adjust_contrast")
    _check_channels(arr, (1, 3), "adjust_contrast")
    work = _work_dtype(arr.dtype)
    gray = _grayscale(arr) if arr.shape[-3] == 3 else arr
    mean = gray.astype(work).mean(axis=(-3, -2, -1), keepdims=True, dtype=work)
    return back(_blend(arr, mean, contrast_factor, arr.dtype))


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    """Blend with the grayscale image (0 gives grey, 2 doubles the saturation)."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    arr, back = _to_chw(img, "adjust_saturation")
    _check_channels(arr, (1, 3), "adjust_saturation")
    if arr.shape[-3] == 1:
        return back(arr)
    work = _work_dtype(arr.dtype)
    return back(_blend(arr, _grayscale(arr).astype(work), saturation_factor, arr.dtype))


def _rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., c, :, :] for c in range(3))
    maxc, minc = rgb.max(axis=-3), rgb.min(axis=-3)
    same = maxc == minc
    spread = maxc - minc
    s = spread / np.where(same, 1, maxc)
    divisor = np.where(same, 1, spread)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    hue = np.where(maxc == r, bc - gc, np.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = np.fmod(hue / 6.0 + 1.0, 1.0).astype(rgb.dtype)
    return np.stack([hue, s, maxc], axis=-3)


def _hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    h, s, v = (hsv[..., c, :, :] for c in range(3))
    sector = np.floor(h * 6.0)
    frac = h * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * frac), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - frac)), 0.0, 1.0)
    # (r, g, b) of each of the six sectors of the hue circle
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    channels = [np.select([sector == k for k in range(6)], [table[k][c] for k in range(6)]) for c in range(3)]
    return np.stack(channels, axis=-3).astype(hsv.dtype)


def adjust_hue(img: Any, hue_factor: float) -> Any:
    """Rotate the hue by hue_factor turns of the colour circle, in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    arr, back = _to_chw(img, "adjust_hue")
    _check_channels(arr, (1, 3), "adjust_hue")
    if arr.shape[-3] == 1:
        return back(arr)
    # in float32 whatever the image's dtype, as torchvision
    hsv = _rgb_to_hsv(_convert_array(arr, np.dtype(np.float32)))
    hsv[..., 0, :, :] = np.mod(hsv[..., 0, :, :] + np.float32(hue_factor), np.float32(1.0))
    return back(_convert_array(_hsv_to_rgb(hsv), arr.dtype))


# ---- dtypes, erasing, normalising ---------------------------------------------------------


def _convert_array(image: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if image.dtype == dtype:
        return image
    if image.dtype.kind == "f":
        if dtype.kind == "f":
            return image.astype(dtype)
        if (image.dtype == np.float32 and dtype in (np.int32, np.int64)) or (
            image.dtype == np.float64 and dtype == np.int64
        ):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        # just below max + 1, so that 1.0 maps to max and each level gets an equal share
        eps = 1e-3
        scaled = image * image.dtype.type(_max_value(dtype) + 1.0 - eps)
        return scaled.astype(dtype)
    in_max = _max_value(image.dtype)
    if dtype.kind == "f":
        return (image.astype(dtype) / dtype.type(in_max)).astype(dtype)
    out_max = _max_value(dtype)
    if in_max > out_max:
        factor = int(in_max + 1) // int(out_max + 1)
        return (image // factor).astype(dtype)
    factor = int(out_max + 1) // int(in_max + 1)
    return image.astype(dtype) * dtype.type(factor)


def convert_image_dtype(image: Tensor, dtype: Any = None) -> Tensor:
    """Convert a tensor image's dtype, rescaling the values (torchvision convert_image_dtype).

    Integer images span 0..max of their type, floating point ones 0..1: uint8 -> float
    divides by 255; float -> uint8 multiplies by 256 - 0.001 and truncates.
    """
    if not isinstance(image, Tensor):
        raise TypeError(f"Input img should be Tensor Image. Got {type(image)}")
    target = _dtypes.to_numpy_dtype(dtype if dtype is not None else _dtypes.float32)
    return Tensor(_convert_array(image._data, target))


def erase(img: Tensor, i: int, j: int, h: int, w: int, v: Any, inplace: bool = False) -> Tensor:
    """Set the h x w window at (i, j) to v (a tensor broadcastable to (..., C, h, w))."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    value = v._data if isinstance(v, Tensor) else np.asarray(v)
    target = img if inplace else Tensor(img._data.copy())
    target._data[..., i : i + h, j : j + w] = value
    if inplace:
        target._version_cell[0] += 1
    return target


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """(x - mean) / std per channel of a float tensor (..., C, H, W)."""
    from ember.transforms import Normalize

    return Normalize(mean, std, inplace)(tensor)


def to_tensor(pic: Any) -> Tensor:
    """uint8 H x W (x C) array -> float32 C x H x W tensor in [0, 1] (see ToTensor)."""
    from ember.transforms import ToTensor

    return ToTensor()(pic)


# the PIL conversions, in a module of their own: Pillow is optional
from ember.transforms._pil import pil_to_tensor, to_pil_image  # noqa: E402, F401
