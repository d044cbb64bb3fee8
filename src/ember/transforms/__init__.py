"""Sample transforms: Compose, ToTensor, Normalize, Standardize and torchvision's augmentations.

torchvision.transforms' names, arguments and reprs. ember needs no image library: an image is
a NumPy array, H x W (grey) or H x W x C, uint8 like a PIL image's pixels; ToTensor turns it
into a float32 C x H x W tensor. The spatial augmentations accept such an array or a tensor
(..., H, W). Random transforms draw from ember's generator, so ember.manual_seed makes them
reproducible (in worker processes too: each worker is seeded). ToPILImage and PILToTensor
convert to and from PIL images where Pillow is installed (an optional dependency).

ToTensor, Normalize, Standardize, Flatten and a Compose of only those also transform a
whole stacked batch at once (`_apply_batch`), which datasets use for a batched read path;
the result equals stacking the per-sample results.

The image transforms of torchvision v1 (Resize, CenterCrop, Pad, RandomResizedCrop,
GaussianBlur, ColorJitter, RandomErasing, ...) take a tensor (..., C, H, W) or such an
array, and call the deterministic functions of `ember.transforms.functional`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ember import random as _random
from ember._tensor import Tensor
from ember.dtypes import get_default_dtype


class Compose:
    """Apply transforms one after the other (torchvision Compose)."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def _apply_batch(self, batch: Any) -> Any:
        for t in self.transforms:
            batch = t._apply_batch(batch)
        return batch

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class ToTensor:
    """uint8 H x W (x C) array -> float32 C x H x W tensor in [0, 1] (torchvision ToTensor).

    float32 is the default dtype: after `ember.set_default_dtype(ember.float64)` it is float64,
    as in torchvision.

    Arrays of other dtypes are only moved to C x H x W, not rescaled, as in torchvision
    (a float64 array gives a float64 tensor). Objects with `__array_interface__` (PIL
    images) are read as arrays.
    """

    def __call__(self, pic: Any) -> Tensor:
        arr = _picture_array(pic)
        if arr.ndim == 2:
            arr = arr[None]
        else:
            arr = arr.transpose(2, 0, 1)
        return Tensor(_to_float(arr))

    def _apply_batch(self, pics: np.ndarray) -> Tensor:
        arr = pics[:, None] if pics.ndim == 3 else pics.transpose(0, 3, 1, 2)
        return Tensor(_to_float(arr))

    def __repr__(self) -> str:
        return "ToTensor()"


def _picture_array(pic: Any) -> np.ndarray:
    if not isinstance(pic, np.ndarray):
        if isinstance(pic, Tensor) or not hasattr(pic, "__array_interface__"):
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
        pic = np.asarray(pic)
    if pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    return pic


def _to_float(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        # the default dtype (float32 unless set_default_dtype changed it), as in torchvision
        dtype = get_default_dtype().numpy
        out = arr.astype(dtype, order="C")
        # division (not a multiplication by 1/255) rounds exactly as torchvision's div(255)
        return np.divide(out, dtype.type(255), out=out)
    return np.ascontiguousarray(arr)


class Normalize:
    """(x - mean) / std per channel of a float tensor (..., C, H, W) (torchvision Normalize)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace
        self._cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def _stats(self, dtype: np.dtype, channels: int) -> tuple[np.ndarray, np.ndarray]:
        """mean and std as (C, 1, 1) arrays of the image's dtype, checked once per dtype and C."""
        key = (dtype, channels)
        if key not in self._cache:
            mean, std = np.asarray(self.mean, dtype=dtype), np.asarray(self.std, dtype=dtype)
            if np.any(std == 0):
                raise ValueError(
                    f"std evaluated to zero after conversion to {dtype}, leading to division by zero."
                )
            for name, stat in (("mean", mean), ("std", std)):
                if stat.ndim and stat.shape[0] not in (1, channels):
                    raise RuntimeError(
                        f"Normalize: {name} has {stat.shape[0]} values for an image of {channels} channels"
                    )
            as_column = lambda v: v.reshape(-1, 1, 1) if v.ndim == 1 else v  # one value per channel
            self._cache[key] = (as_column(mean), as_column(std))
        return self._cache[key]

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
        x = tensor._data
        if x.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if x.ndim < 3:
            raise ValueError(
                f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {tensor.size()}"
            )
        mean, std = self._stats(x.dtype, x.shape[-3])
        if tensor.requires_grad:  # recorded; in place it is refused on a leaf, as in torchvision
            if self.inplace:
                return tensor.sub_(Tensor(mean)).div_(Tensor(std))
            return (tensor - Tensor(mean)) / Tensor(std)
        if self.inplace:
            np.subtract(x, mean, out=x)
            np.divide(x, std, out=x)
            tensor._version_cell[0] += 1
            return tensor
        out = np.subtract(x, mean)
        return Tensor(np.divide(out, std, out=out))

    _apply_batch = __call__

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Standardize:
    """(x - mean) / std per feature, with mean and std fitted on data or given.

    `Standardize().fit(x_train)` computes the mean and the population standard deviation
    (ddof=0) over the first dimension, like scikit-learn's StandardScaler; a feature of
    zero spread is left unscaled (std 1), as there. Not in torchvision.
    """

    def __init__(self, mean: Any = None, std: Any = None) -> None:
        if (mean is None) != (std is None):
            raise ValueError("Standardize: give both mean and std, or neither and call fit(data)")
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.std = None if std is None else np.asarray(std, dtype=np.float64)
        if self.std is not None and np.any(self.std == 0):
            raise ValueError("Standardize: std must not contain zeros")

    def fit(self, data: Any) -> Standardize:
        x = np.asarray(data._data if isinstance(data, Tensor) else data, dtype=np.float64)
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError(f"Standardize.fit needs at least one sample, got data of shape {x.shape}")
        self.mean = x.mean(axis=0)
        std = x.std(axis=0)
        self.std = np.where(std == 0, 1.0, std)
        return self

    def fit_transform(self, data: Any) -> Tensor:
        return self.fit(data)(data)

    def __call__(self, x: Any) -> Tensor:
        if self.mean is None:
            raise RuntimeError("Standardize is not fitted: call .fit(data) first or pass mean and std")
        arr = x._data if isinstance(x, Tensor) else np.asarray(x)
        dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)
        mean, std = self.mean.astype(dtype), self.std.astype(dtype)
        if isinstance(x, Tensor) and x._requires_grad:
            return (x - Tensor(mean)) / Tensor(std)
        return Tensor((arr.astype(dtype, copy=False) - mean) / std)

    _apply_batch = __call__

    def __repr__(self) -> str:
        if self.mean is None:
            return f"{type(self).__name__}()"
        fmt = {"float_kind": lambda v: f"{v:.4g}"}
        mean = np.array2string(self.mean, separator=", ", threshold=8, formatter=fmt)
        std = np.array2string(self.std, separator=", ", threshold=8, formatter=fmt)
        return f"{type(self).__name__}(mean={mean}, std={std})"


class Lambda:
    """A user function as a transform (torchvision Lambda)."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Flatten:
    """Flatten a tensor's dims start_dim..end_dim (a C x H x W image becomes a vector).

    Not in torchvision, where the course writes Lambda(lambda x: x.view(-1)).
    """

    def __init__(self, start_dim: int = 0, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

    def __call__(self, x: Any) -> Tensor:
        t = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
        return t.flatten(self.start_dim, self.end_dim)

    def _apply_batch(self, batch: Tensor) -> Tensor:
        shift = lambda d: d + 1 if d >= 0 else d  # the batch dimension comes first
        return batch.flatten(shift(self.start_dim), shift(self.end_dim))

    def __repr__(self) -> str:
        if (self.start_dim, self.end_dim) == (0, -1):
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(start_dim={self.start_dim}, end_dim={self.end_dim})"


def batch_transform(transform: Any) -> Callable[[Any], Any] | None:
    """The whole-batch version of a transform, or None when it has none.

    Only ember's own deterministic transforms qualify (not subclasses, whose __call__ may
    differ); a transform of None is the identity.
    """
    if transform is None:
        return lambda batch: batch
    if type(transform) is Compose:
        if all(batch_transform(t) is not None for t in transform.transforms):
            return transform._apply_batch
        return None
    if type(transform) in (ToTensor, Normalize, Standardize, Flatten):
        return transform._apply_batch
    return None


# ---- random augmentations -----------------------------------------------------------------


def _spatial_axes(img: Any) -> tuple[np.ndarray, int, int]:
    """The pixels as an array, and the axes of height and width."""
    if isinstance(img, Tensor):
        if img._data.ndim < 2:
            raise ValueError(f"expected an image tensor (..., H, W), got shape {list(img.shape)}")
        return img._data, img._data.ndim - 2, img._data.ndim - 1
    arr = np.asarray(img)
    if arr.ndim not in (2, 3):
        raise ValueError(f"expected an image array H x W or H x W x C, got shape {arr.shape}")
    return arr, 0, 1


def _like_input(img: Any, arr: np.ndarray) -> Any:
    arr = np.ascontiguousarray(arr)
    return Tensor(arr) if isinstance(img, Tensor) else arr


def _pair(size: Any, name: str) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) in (1, 2):
        return (int(size[0]), int(size[0])) if len(size) == 1 else (int(size[0]), int(size[1]))
    raise ValueError(f"{name} should be an int or a sequence of one or two ints, got {size!r}")


class RandomHorizontalFlip:
    """Mirror the image left-right with probability p (torchvision RandomHorizontalFlip)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        if _random.rng(None).random() >= self.p:
            return img
        arr, _, w_axis = _spatial_axes(img)
        return _like_input(img, np.flip(arr, axis=w_axis))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


class RandomCrop:
    """Crop a random size[0] x size[1] window, after optional padding (torchvision RandomCrop)."""

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float = 0,
        padding_mode: str = "constant",
    ) -> None:
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"padding_mode should be one of {list(_PAD_MODES)}, got {padding_mode!r}")
        self.size = _pair(size, "size")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = (
            padding,
            pad_if_needed,
            fill,
            padding_mode,
        )

    def _pad(self, arr: np.ndarray, h_axis: int, w_axis: int, left: int, top: int, right: int, bottom: int):
        widths = [(0, 0)] * arr.ndim
        widths[h_axis], widths[w_axis] = (top, bottom), (left, right)
        if self.padding_mode == "constant":
            return np.pad(arr, widths, mode="constant", constant_values=self.fill)
        return np.pad(arr, widths, mode=_PAD_MODES[self.padding_mode])

    def __call__(self, img: Any) -> Any:
        arr, h_axis, w_axis = _spatial_axes(img)
        if self.padding is not None:
            p = [self.padding] * 4 if isinstance(self.padding, int) else list(self.padding)
            left, top, right, bottom = p * 2 if len(p) == 2 else p
            arr = self._pad(arr, h_axis, w_axis, left, top, right, bottom)
        th, tw = self.size
        if self.pad_if_needed and (arr.shape[h_axis] < th or arr.shape[w_axis] < tw):
            dh, dw = max(th - arr.shape[h_axis], 0), max(tw - arr.shape[w_axis], 0)
            arr = self._pad(arr, h_axis, w_axis, dw, dh, dw, dh)
        h, w = arr.shape[h_axis], arr.shape[w_axis]
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        rng = _random.rng(None)
        i, j = int(rng.integers(0, h - th + 1)), int(rng.integers(0, w - tw + 1))
        window = [slice(None)] * arr.ndim
        window[h_axis], window[w_axis] = slice(i, i + th), slice(j, j + tw)
        return _like_input(img, arr[tuple(window)])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomRotation:
    """Rotate by an angle drawn uniformly from degrees, counter-clockwise, about the centre.

    torchvision RandomRotation with nearest-neighbour sampling, expand=False and the
    centre of the image ((H-1)/2, (W-1)/2) unless `center=(x, y)` is given; pixels from
    outside the image take `fill`. Results may differ from torchvision's by a pixel where
    a source position falls halfway between pixels.
    """

    def __init__(
        self,
        degrees: float | Sequence[float],
        interpolation: str = "nearest",
        expand: bool = False,
        center: Sequence[float] | None = None,
        fill: float = 0,
    ) -> None:
        if isinstance(degrees, (int, float)):
            if degrees < 0:
                raise ValueError("If degrees is a single number, it must be positive.")
            degrees = (-degrees, degrees)
        if len(degrees) != 2:
            raise ValueError("If degrees is a sequence, it must be of len 2.")
        if str(getattr(interpolation, "value", interpolation)) != "nearest" or expand:
            raise NotImplementedError("ember's RandomRotation supports interpolation='nearest', expand=False")
        self.degrees = [float(degrees[0]), float(degrees[1])]
        self.interpolation, self.expand, self.center, self.fill = "nearest", expand, center, fill

    def __call__(self, img: Any) -> Any:
        angle = np.deg2rad(_random.rng(None).uniform(self.degrees[0], self.degrees[1]))
        arr, h_axis, w_axis = _spatial_axes(img)
        pixels = np.moveaxis(arr, (h_axis, w_axis), (0, 1))
        h, w = pixels.shape[:2]
        cx, cy = self.center if self.center is not None else ((w - 1) / 2, (h - 1) / 2)
        dy, dx = np.mgrid[0:h, 0:w]
        dx, dy = dx - cx, dy - cy
        # each output pixel reads the input pixel that the rotation carries onto it
        src_x = np.rint(np.cos(angle) * dx - np.sin(angle) * dy + cx).astype(np.int64)
        src_y = np.rint(np.sin(angle) * dx + np.cos(angle) * dy + cy).astype(np.int64)
        inside = (src_x >= 0) & (src_x < w) & (src_y >= 0) & (src_y < h)
        out = np.full_like(pixels, self.fill)
        out[inside] = pixels[src_y[inside], src_x[inside]]
        return _like_input(img, np.moveaxis(out, (0, 1), (h_axis, w_axis)))

    def __repr__(self) -> str:
        center = "" if self.center is None else f", center={self.center}"
        return (
            f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation}, "
            f"expand={self.expand}{center}, fill={self.fill})"
        )


# the image transforms of torchvision v1, on tensors (..., C, H, W) or H x W (x C) arrays
from ember.transforms import functional  # noqa: E402
from ember.transforms._image import (  # noqa: E402
    CenterCrop,
    ColorJitter,
    ConvertImageDtype,
    GaussianBlur,
    Grayscale,
    Pad,
    RandomApply,
    RandomChoice,
    RandomErasing,
    RandomGrayscale,
    RandomOrder,
    RandomResizedCrop,
    RandomTransforms,
    RandomVerticalFlip,
    Resize,
)
from ember.transforms._pil import PILToTensor, ToPILImage  # noqa: E402
from ember.transforms.functional import InterpolationMode  # noqa: E402

__all__ = [
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "ConvertImageDtype",
    "Flatten",
    "GaussianBlur",
    "Grayscale",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "PILToTensor",
    "Pad",
    "RandomApply",
    "RandomChoice",
    "RandomCrop",
    "RandomErasing",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomOrder",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomTransforms",
    "RandomVerticalFlip",
    "Resize",
    "Standardize",
    "ToPILImage",
    "ToTensor",
    "batch_transform",
    "functional",
]
