"""PIL images to and from tensors (torchvision's to_pil_image, pil_to_tensor, ToPILImage and
PILToTensor).

Pillow is an optional dependency: only these conversions need it, and they say so when it is
absent. The rest of ember.transforms reads a PIL image through `__array_interface__` and
never imports Pillow.

The rules are torchvision's: a tensor is C x H x W (or H x W), an array H x W x C (or H x W);
a float tensor becomes bytes by `mul(255)` and truncation unless the mode is 'F' (a float
array is not scaled); the mode follows from the channels and the dtype when none is given
(1 channel: uint8 'L', int16 / uint16 'I;16', int32 'I', float32 'F'; 2: 'LA'; 3: 'RGB';
4: 'RGBA', each of uint8), and a mode given must suit them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember._tensor import Tensor

# the modes each number of channels allows, the first the default for uint8 pixels
_MODES = {2: ("LA",), 3: ("RGB", "YCbCr", "HSV"), 4: ("RGBA", "CMYK", "RGBX")}
_ONE_CHANNEL = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.uint16): "I;16"}
_ONE_CHANNEL |= {np.dtype(np.int32): "I", np.dtype(np.float32): "F"}


def _image_module() -> Any:
    """PIL.Image, or an ImportError that names the package to install."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "converting to a PIL image needs Pillow, which is not installed: pip install pillow"
        ) from None
    return Image


def _is_pil_image(pic: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:
        return False  # without Pillow nothing is a PIL image
    return isinstance(pic, Image.Image)


def to_pil_image(pic: Any, mode: str | None = None) -> Any:
    """A tensor C x H x W or an array H x W x C (or H x W) as a PIL image
    (torchvision.transforms.functional.to_pil_image); see the module's docstring."""
    if not isinstance(pic, (Tensor, np.ndarray)):
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if isinstance(pic, Tensor):
        data = pic.detach()._data
        if data.ndim == 2:
            data = data[None]
        if data.shape[0] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {data.shape[0]} channels.")
        if data.dtype.kind in "fV" and mode != "F":
            # torchvision's pic.mul(255).byte(): the product in the tensor's dtype, then truncated
            data = (data * data.dtype.type(255)).astype(np.float64).astype(np.int64).astype(np.uint8)
        pixels = data.transpose(1, 2, 0)
    else:
        pixels = pic[:, :, None] if pic.ndim == 2 else pic
        if pixels.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {pixels.shape[-1]} channels.")
    mode = _mode_for(pixels, mode)
    if pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    return _image_module().frombytes(mode, (width, height), pixels.tobytes())


def _mode_for(pixels: np.ndarray, mode: str | None) -> str:
    """The PIL mode for H x W x C pixels: `mode` checked against them, or the one they imply."""
    channels = pixels.shape[2]
    if channels == 1:
        expected = _ONE_CHANNEL.get(pixels.dtype)
        if mode is not None and mode != expected:
            raise ValueError(
                f"Incorrect mode ({mode}) supplied for input type {pixels.dtype}. Should be {expected}"
            )
        mode = expected
    else:
        permitted = _MODES[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {list(permitted)} are supported for {channels}D inputs")
        if mode is None and pixels.dtype == np.uint8:
            mode = permitted[0]
        elif mode is not None and pixels.dtype != np.uint8:
            raise TypeError(f"Input type {pixels.dtype} is not supported for mode {mode} (it takes uint8)")
    if mode is None:
        raise TypeError(f"Input type {pixels.dtype} is not supported")
    return mode


def pil_to_tensor(pic: Any) -> Tensor:
    """A PIL image as a C x H x W tensor of its pixels' own dtype, not scaled: uint8 for 'L'
    and 'RGB', int32 for 'I', float32 for 'F', bool for '1'
    (torchvision.transforms.functional.pil_to_tensor)."""
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    pixels = np.array(pic, copy=True)
    width, height = pic.size
    channels = len(pic.getbands())
    return Tensor(pixels.reshape(height, width, channels)).permute(2, 0, 1)


class ToPILImage:
    """A tensor or array image as a PIL image (torchvision ToPILImage); see to_pil_image."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()" if self.mode is None else f"{type(self).__name__}(mode={self.mode})"


class PILToTensor:
    """A PIL image as a C x H x W tensor of its own dtype, not scaled (torchvision PILToTensor)."""

    def __call__(self, pic: Any) -> Tensor:
        return pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
