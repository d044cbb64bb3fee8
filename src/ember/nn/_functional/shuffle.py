"""pixel_shuffle, pixel_unshuffle and channel_shuffle: elements moved between the channel
dimension and the others, each a reshape, a permute and a reshape, so the gradient is the
same movement backwards, from those ops' own backwards."""

from __future__ import annotations

import numpy as np

from ember._tensor import Tensor


def _check_int(name: str, arg: str, value: object) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{name}(): argument '{arg}' (position 2) must be int, not {type(value).__name__}")


def _factor(op: str, arg: str, input: Tensor, factor: int) -> tuple[tuple, int]:
    """pixel_shuffle's and pixel_unshuffle's checks: an int factor > 0 and an input of at least
    3 dimensions; the input's shape and the factor."""
    _check_int(op, arg, factor)
    shape, r = tuple(input.shape), int(factor)
    if len(shape) < 3:
        raise RuntimeError(
            f"{op} expects input to have at least 3 dimensions, but got input with {len(shape)} dimension(s)"
        )
    if r <= 0:
        raise RuntimeError(f"{op} expects a positive {arg}, but got {r}")
    return shape, r


def _new(out: Tensor, input: Tensor) -> Tensor:
    """out in memory of its own, as PyTorch's result is also when nothing moved (a factor of 1)."""
    return out.clone() if np.may_share_memory(out._data, input._data) else out


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r) with r = upscale_factor: each group of r*r channels
    becomes an r x r block of pixels (torch.nn.functional.pixel_shuffle), the sub-pixel
    convolution's last step."""
    shape, r = _factor("pixel_shuffle", "upscale_factor", input, upscale_factor)
    *batch, c, h, w = shape
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r} (input of shape {list(shape)})"
        )
    n = len(batch)
    blocks = input.reshape(*batch, c // (r * r), r, r, h, w)  # (..., C, r_h, r_w, H, W)
    moved = blocks.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (..., C, H, r_h, W, r_w)
    return _new(moved.reshape(*batch, c // (r * r), h * r, w * r), input)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W) with r = downscale_factor, the inverse of
    pixel_shuffle: each r x r block of pixels becomes r*r channels
    (torch.nn.functional.pixel_unshuffle)."""
    shape, r = _factor("pixel_unshuffle", "downscale_factor", input, downscale_factor)
    *batch, c, h, w = shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but input.size({dim})="
                f"{size} is not divisible by {r} (input of shape {list(shape)})"
            )
    n = len(batch)
    blocks = input.reshape(*batch, c, h // r, r, w // r, r)  # (..., C, H, r_h, W, r_w)
    moved = blocks.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (..., C, r_h, r_w, H, W)
    return _new(moved.reshape(*batch, c * r * r, h // r, w // r), input)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, C, *): the C channels, seen as `groups` groups of C/groups, reordered to take one
    channel from each group in turn (torch.nn.functional.channel_shuffle, ShuffleNet's)."""
    _check_int("channel_shuffle", "groups", groups)
    shape, g = tuple(input.shape), int(groups)
    if len(shape) <= 2:
        raise RuntimeError(
            f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(shape)}"
        )
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{g}")
    n, c, *rest = shape
    if c % g:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {c} channels and {g} groups."
        )
    moved = input.reshape(n, g, c // g, *rest).transpose(1, 2)
    return _new(moved.reshape(shape), input)
