"""torchvision v1 image transforms in ember.transforms and ember.transforms.functional.

torchvision is not installed: deterministic results are compared with the torch operations
torchvision's tensor code is made of (interpolate with antialias, pad, conv2d, the
grayscale weights) or with values worked out by hand; random transforms are checked for
their invariants, their distributions and their reproducibility under ember.manual_seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import transforms as T
from ember.transforms import functional as F


def _float_image(shape=(3, 10, 14), seed=0, dtype=np.float32) -> ember.Tensor:
    return ember.tensor(np.random.default_rng(seed).random(shape).astype(dtype))


def _uint8_image(shape=(3, 10, 14), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# ---- resize -----------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("size", "expected"), [(5, (5, 7)), ([4], (4, 5)), ((6, 20), (6, 20)), (20, (20, 28))]
)
def test_resize_matches_interpolate_with_antialias(dtype, size, expected):
    import torch

    x = _float_image((2, 3, 10, 14), dtype=dtype) if size != [4] else _float_image((3, 12, 16), dtype=dtype)
    out = T.Resize(size)(x)
    assert tuple(out.shape[-2:]) == expected and out.dtype == x.dtype
    ref_in = torch.tensor(x.numpy())
    ref = torch.nn.functional.interpolate(
        ref_in if ref_in.ndim == 4 else ref_in[None],
        size=expected,
        mode="bilinear",
        align_corners=False,
        antialias=True,
    )
    assert_close(out, ref if ref_in.ndim == 4 else ref[0], rtol=1e-5, atol=1e-6)


@requires_torch
def test_resize_uint8_bicubic_nearest_and_arrays():
    import torch

    img = _uint8_image((3, 9, 12))
    out = F.resize(ember.tensor(img), [5, 6], interpolation="bicubic")
    ref = torch.nn.functional.interpolate(
        torch.tensor(img)[None].float(), size=(5, 6), mode="bicubic", align_corners=False, antialias=True
    )
    ref = ref.clamp(0, 255).round().to(torch.uint8)[0]
    assert out.dtype == ember.uint8
    assert np.abs(out.numpy().astype(int) - ref.numpy().astype(int)).max() <= 1  # float32 rounding ties
    near = F.resize(ember.tensor(img), (18, 24), interpolation=T.InterpolationMode.NEAREST)
    assert np.array_equal(near.numpy(), img.repeat(2, axis=1).repeat(2, axis=2))
    # an H x W x C array (a dataset sample before ToTensor) stays an array of that layout
    hwc = img.transpose(1, 2, 0)
    arr = T.Resize((5, 6), interpolation="bicubic")(hwc)
    assert isinstance(arr, np.ndarray) and arr.shape == (5, 6, 3)
    assert np.array_equal(arr, out.numpy().transpose(1, 2, 0))
    batch = ember.tensor(_uint8_image((2, 2, 3, 9, 12)).astype(np.float32))
    assert T.Resize(3)(batch).shape == (2, 2, 3, 3, 4)


def test_resize_size_rules_and_autograd():
    x = _float_image((1, 10, 30))
    assert T.Resize(8, max_size=16)(x).shape == (1, 5, 16)  # the long edge capped, the short scaled
    assert T.Resize(8)(ember.zeros(1, 30, 10)).shape == (1, 24, 8)
    assert T.Resize(10)(x) is x  # already the right size
    with pytest.raises(ValueError, match="max_size = 8 must be strictly greater"):
        T.Resize(8, max_size=8)(x)
    with pytest.raises(ValueError, match="max_size should only be passed"):
        T.Resize((8, 8), max_size=20)(x)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(ValueError, match="interpolation should be one of"):
        T.Resize(3, interpolation="lanczos")
    leaf = _float_image((1, 6, 6)).requires_grad_()
    T.Resize(3)(leaf).sum().backward()
    assert leaf.grad is not None and abs(float(leaf.grad.sum()) - 9.0) < 1e-5


# ---- crops, pads, flips -----------------------------------------------------------------------


def test_center_crop_and_crop_exact():
    x = ember.arange(5 * 6, dtype=ember.float32).reshape(1, 5, 6)
    a = x.numpy()[0]
    assert np.array_equal(T.CenterCrop(3)(x).numpy()[0], a[1:4, 2:5])  # round(1.0), round(1.5) = 2
    assert np.array_equal(T.CenterCrop((2, 4))(x).numpy()[0], a[2:4, 1:5])  # round(1.5) = 2, round(1.0)
    big = T.CenterCrop((7, 9))(x).numpy()[0]  # padded with zeros: 1 above, 1 below, 1 left, 2 right
    assert (
        big.shape == (7, 9)
        and np.array_equal(big[1:6, 1:7], a)
        and big[0].sum() == 0
        and big[:, 7:].sum() == 0
    )
    assert np.array_equal(F.crop(x, 1, 2, 2, 3).numpy()[0], a[1:3, 2:5])
    outside = F.crop(x, -1, 4, 3, 4).numpy()[0]
    assert np.array_equal(outside, [[0, 0, 0, 0], [4, 5, 0, 0], [10, 11, 0, 0]])
    img = _uint8_image((5, 6, 3))
    assert np.array_equal(T.CenterCrop(3)(img), img[1:4, 2:5])


@requires_torch
@pytest.mark.parametrize(
    ("mode", "torch_mode"), [("constant", "constant"), ("edge", "replicate"), ("reflect", "reflect")]
)
@pytest.mark.parametrize("padding", [2, [1, 2], (1, 0, 2, 1)])
def test_pad_matches_torch_pad(mode, torch_mode, padding):
    import torch

    x = _float_image((2, 3, 4, 5))
    out = T.Pad(padding, fill=0 if mode != "constant" else 0.5, padding_mode=mode)(x)
    p = [padding] * 4 if isinstance(padding, int) else list(padding) * (2 if len(padding) == 2 else 1)
    left, top, right, bottom = p
    kwargs = {"value": 0.5} if mode == "constant" else {}
    ref = torch.nn.functional.pad(
        torch.tensor(x.numpy()), (left, right, top, bottom), mode=torch_mode, **kwargs
    )
    assert_close(out, ref, rtol=0, atol=0)


def test_pad_symmetric_negative_and_errors():
    x = ember.tensor([[[1.0, 2.0, 3.0]]])
    assert F.pad(x, [2, 0], padding_mode="symmetric").tolist() == [[[2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0]]]
    assert F.pad(x, [2, 0], padding_mode="reflect").tolist() == [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]
    assert F.pad(x, [-1, 0, 1, 0]).tolist() == [[[2.0, 3.0, 0.0]]]  # a negative side crops
    img = _uint8_image((4, 5, 3))
    assert T.Pad(1, fill=7)(img).shape == (6, 7, 3) and T.Pad(1, fill=7)(img)[0, 0, 0] == 7
    rgb = T.Pad([1, 0], fill=(10, 20, 30))(img)  # a colour per channel, as for a PIL image
    assert rgb.shape == (4, 7, 3) and rgb[0, 0].tolist() == [10, 20, 30] and np.array_equal(rgb[:, 1:6], img)
    with pytest.raises(ValueError, match="fill has 2 values for an image of 3 channels"):
        T.Pad(1, fill=(1, 2))(img)
    with pytest.raises(ValueError, match="Padding mode should be either"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="1, 2, or 4 element"):
        T.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="must be smaller than the image"):
        F.pad(x, 1, padding_mode="reflect")


def test_flips():
    x = _float_image((2, 3, 4, 5))
    assert np.array_equal(F.hflip(x).numpy(), x.numpy()[..., ::-1])
    assert np.array_equal(F.vflip(x).numpy(), x.numpy()[..., ::-1, :])
    assert np.array_equal(T.RandomVerticalFlip(p=1.0)(x).numpy(), x.numpy()[..., ::-1, :])
    assert T.RandomVerticalFlip(p=0.0)(x) is x
    ember.manual_seed(0)
    flips = sum(T.RandomVerticalFlip()(x) is not x for _ in range(400))
    assert 150 < flips < 250
    assert repr(T.RandomVerticalFlip()) == "RandomVerticalFlip(p=0.5)"


# ---- RandomResizedCrop ----------------------------------------------------------------------


def test_random_resized_crop_params_and_fallback():
    img = ember.zeros(3, 40, 60)
    ember.manual_seed(1)
    areas, ratios = [], []
    for _ in range(300):
        i, j, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i <= 40 - h and 0 <= j <= 60 - w and h > 0 and w > 0
        areas.append(h * w / 2400)
        ratios.append(w / h)
    assert min(areas) > 0.05 and max(areas) <= 1.0 and np.median(areas) > 0.3
    assert 0.6 < min(ratios) and max(ratios) < 1.6
    # an impossible scale: 10 failed draws, then the central crop of the nearest ratio
    assert T.RandomResizedCrop.get_params(img, (2.0, 3.0), (3 / 4, 4 / 3)) == (0, 3, 40, 53)
    tall = ember.zeros(1, 60, 20)
    assert T.RandomResizedCrop.get_params(tall, (2.0, 3.0), (3 / 4, 4 / 3)) == (16, 0, 27, 20)
    assert T.RandomResizedCrop.get_params(ember.zeros(1, 10, 10), (2.0, 3.0), (0.5, 2)) == (0, 0, 10, 10)


@requires_torch
def test_random_resized_crop_output_is_resized_crop():
    import torch

    x = _float_image((3, 20, 24))
    ember.manual_seed(5)
    i, j, h, w = T.RandomResizedCrop.get_params(x, (0.08, 1.0), (3 / 4, 4 / 3))
    ember.manual_seed(5)
    out = T.RandomResizedCrop((8, 10))(x)
    window = torch.tensor(x.numpy())[None, :, i : i + h, j : j + w]
    ref = torch.nn.functional.interpolate(window, size=(8, 10), mode="bilinear", antialias=True)[0]
    assert_close(out, ref, rtol=1e-5, atol=1e-6)
    ember.manual_seed(5)
    assert np.array_equal(T.RandomResizedCrop((8, 10))(x).numpy(), out.numpy())
    with pytest.warns(UserWarning, match="Scale and ratio should be of kind \\(min, max\\)"):
        T.RandomResizedCrop(8, scale=(1.0, 0.5))
    with pytest.raises(TypeError, match="Ratio should be a sequence"):
        T.RandomResizedCrop(8, ratio=1.0)
    assert repr(T.RandomResizedCrop(224)) == (
        "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
        "interpolation=bilinear, antialias=True)"
    )


# ---- RandomApply, RandomChoice, RandomOrder ----------------------------------------------


def test_random_apply_choice_order():
    add = lambda k: T.Lambda(lambda v: v + [k])
    assert T.RandomApply([add(1), add(2)], p=1.0)([]) == [1, 2]
    assert T.RandomApply([add(1)], p=0.0)([]) == []
    ember.manual_seed(0)
    chosen = [T.RandomChoice([add(0), add(1), add(2)], p=[0.5, 0.0, 0.5])([])[0] for _ in range(300)]
    assert set(chosen) == {0, 2} and 100 < chosen.count(0) < 200
    orders = {tuple(T.RandomOrder([add(0), add(1), add(2)])([])) for _ in range(200)}
    assert len(orders) == 6
    ember.manual_seed(3)
    first = [T.RandomOrder([add(0), add(1), add(2)])([]) for _ in range(5)]
    ember.manual_seed(3)
    assert first == [T.RandomOrder([add(0), add(1), add(2)])([]) for _ in range(5)]
    with pytest.raises(ValueError, match="Length of p"):
        T.RandomChoice([add(0)], p=[0.5, 0.5])
    assert (
        repr(T.RandomApply([T.Grayscale()], p=0.3))
        == "RandomApply(\n    p=0.3\n    Grayscale(num_output_channels=1)\n)"
    )
    assert (
        repr(T.RandomChoice([T.Grayscale()]))
        == "RandomChoice(\n    Grayscale(num_output_channels=1)\n)(p=None)"
    )
    assert repr(T.RandomOrder([T.Grayscale()])) == "RandomOrder(\n    Grayscale(num_output_channels=1)\n)"


# ---- grayscale and blur -----------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("kind", ["float32", "float64", "uint8"])
def test_grayscale_matches_itu_r_601_2(kind):
    import torch

    arr = (
        _uint8_image((2, 3, 5, 6))
        if kind == "uint8"
        else _float_image((2, 3, 5, 6), dtype=np.dtype(kind)).numpy()
    )
    ref_in = torch.tensor(arr)
    r, g, b = ref_in.unbind(-3)
    ref = (0.2989 * r + 0.587 * g + 0.114 * b).to(ref_in.dtype).unsqueeze(-3)
    out = T.Grayscale()(ember.tensor(arr))
    assert_close(out, ref, rtol=0, atol=0)
    three = T.Grayscale(num_output_channels=3)(ember.tensor(arr))
    assert_close(three, ref.expand(ref_in.shape), rtol=0, atol=0)
    assert_close(T.RandomGrayscale(p=1.0)(ember.tensor(arr)), ref.expand(ref_in.shape), rtol=0, atol=0)


def test_grayscale_arrays_and_errors():
    img = _uint8_image((4, 5, 3))
    gray = T.Grayscale()(img)
    assert gray.shape == (4, 5) and gray.dtype == np.uint8  # like a PIL image of mode 'L'
    assert T.Grayscale(3)(img).shape == (4, 5, 3)
    x = _float_image((3, 4, 5))
    assert T.RandomGrayscale(p=0.0)(x) is x
    with pytest.raises(TypeError, match="permitted channel values are \\[1, 3\\], but found 2"):
        T.Grayscale()(ember.zeros(2, 4, 4))
    with pytest.raises(ValueError, match="either 1 or 3"):
        F.rgb_to_grayscale(x, 2)
    assert repr(T.RandomGrayscale()) == "RandomGrayscale(p=0.1)"


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("kernel_size", "sigma"), [(3, None), ((5, 3), (1.5, 0.7)), (7, 2.0)])
def test_gaussian_blur_matches_conv2d(dtype, kernel_size, sigma):
    import torch

    x = _float_image((2, 3, 9, 11), dtype=dtype)
    out = F.gaussian_blur(x, kernel_size, sigma)
    kx, ky = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sx, sy = (
        (kx * 0.15 + 0.35, ky * 0.15 + 0.35)
        if sigma is None
        else (sigma, sigma)
        if isinstance(sigma, float)
        else sigma
    )
    tdtype = torch.float32 if dtype == np.float32 else torch.float64

    def kernel(k, s):  # a normalised Gaussian on k points centred at zero
        pts = torch.linspace(-(k - 1) / 2, (k - 1) / 2, k, dtype=tdtype)
        pdf = torch.exp(-0.5 * (pts / s) ** 2)
        return pdf / pdf.sum()

    k2d = (kernel(ky, sy)[:, None] * kernel(kx, sx)[None, :]).expand(3, 1, ky, kx)
    padded = torch.nn.functional.pad(
        torch.tensor(x.numpy()), (kx // 2, kx // 2, ky // 2, ky // 2), mode="reflect"
    )
    ref = torch.nn.functional.conv2d(padded, k2d, groups=3)
    assert_close(out, ref, rtol=1e-5, atol=1e-6)


def test_gaussian_blur_class_and_uint8():
    img = np.zeros((1, 7, 7), np.uint8)
    img[0, 3, 3] = 255
    out = F.gaussian_blur(ember.tensor(img), 3, 1.0).numpy()[0]
    k = np.exp(-0.5 * np.array([1.0, 0.0, 1.0]))
    k /= k.sum()
    assert out.dtype == np.uint8 and np.array_equal(
        out[2:5, 2:5], np.rint(255 * np.outer(k, k)).astype(np.uint8)
    )
    blur = T.GaussianBlur(3, sigma=(0.5, 1.5))
    ember.manual_seed(0)
    sigmas = [blur.get_params(0.5, 1.5) for _ in range(200)]
    assert 0.5 <= min(sigmas) and max(sigmas) <= 1.5 and abs(np.mean(sigmas) - 1.0) < 0.1
    assert repr(blur) == "GaussianBlur(kernel_size=(3, 3), sigma=(0.5, 1.5))"
    assert T.GaussianBlur(5, 2.0).sigma == (2.0, 2.0) and repr(T.GaussianBlur([3, 5], 1)).endswith(
        "(kernel_size=[3, 5], sigma=(1, 1))"
    )
    with pytest.raises(ValueError, match="odd and positive"):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="of the form \\(min, max\\)"):
        T.GaussianBlur(3, (2.0, 1.0))


# ---- erasing and dtypes -----------------------------------------------------------------------


def test_random_erasing():
    x = ember.ones(3, 20, 30)
    out = T.RandomErasing(p=1.0)(x)
    assert x.numpy().min() == 1.0  # not in place
    erased = out.numpy() == 0
    rows, cols = np.nonzero(erased[0])
    assert erased.any() and np.array_equal(erased[0], erased[1])
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert erased[0].sum() == h * w and h < 20 and w < 30  # one rectangle
    assert 0.02 * 600 * 0.8 < h * w < 0.33 * 600 * 1.2
    out = T.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3))(x).numpy()
    assert {float(v) for v in np.unique(out[1])} <= {1.0, np.float32(0.2)}
    ember.manual_seed(0)
    noisy = T.RandomErasing(p=1.0, value="random")(x).numpy()
    assert (noisy != 1.0).sum() > 0
    batch = ember.ones(2, 3, 8, 8)
    assert T.RandomErasing(p=1.0, inplace=True)(batch) is batch and batch.numpy().min() == 0
    assert T.RandomErasing(p=0.0)(x) is x
    with pytest.raises(ValueError, match="either a single value or 3"):
        T.RandomErasing(p=1.0, value=(1.0, 2.0))(x)
    with pytest.raises(ValueError, match="should be 'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(TypeError, match="Tensor Image"):
        T.RandomErasing()(np.zeros((3, 4, 4)))
    assert repr(T.RandomErasing()) == (
        "RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False)"
    )


def test_convert_image_dtype():
    u8 = ember.tensor(np.array([[[0, 1, 128, 255]]], np.uint8))
    f = T.ConvertImageDtype(ember.float32)(u8)
    assert f.dtype == ember.float32 and np.array_equal(
        f.numpy(), np.array([[[0, 1, 128, 255]]], np.float32) / 255
    )
    back = T.ConvertImageDtype(ember.uint8)(ember.tensor([[[0.0, 0.5, 0.999, 1.0]]]))
    assert back.tolist() == [[[0, 127, 255, 255]]]  # x * (256 - 0.001), truncated
    assert F.convert_image_dtype(u8, ember.int16).tolist() == [[[0, 128, 16384, 32640]]]
    assert F.convert_image_dtype(ember.tensor([[[32767, 256]]], dtype=ember.int16), ember.uint8).tolist() == [
        [[255, 2]]
    ]
    assert F.convert_image_dtype(f, ember.float64).dtype == ember.float64
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(f, ember.int32)
    assert repr(T.ConvertImageDtype(ember.float32)) == "ConvertImageDtype()"


# ---- colour -----------------------------------------------------------------------------------


def test_color_adjustments_by_hand():
    x = _float_image((3, 4, 5))
    a = x.numpy()
    assert_close(F.adjust_brightness(x, 0.5), np.clip(a * 0.5, 0, 1), rtol=1e-6, atol=1e-7)
    assert_close(F.adjust_brightness(x, 3.0), np.clip(a * 3.0, 0, 1), rtol=1e-6, atol=1e-7)
    gray = F.rgb_to_grayscale(x).numpy()
    assert_close(F.adjust_saturation(x, 0.0), np.broadcast_to(gray, a.shape), rtol=1e-6, atol=1e-7)
    assert_close(F.adjust_contrast(x, 0.0), np.full(a.shape, gray.mean()), rtol=1e-6, atol=1e-7)
    assert_close(F.adjust_hue(x, 0.0), a, rtol=1e-5, atol=1e-6)
    primaries = ember.tensor(np.eye(3, dtype=np.float32).reshape(3, 1, 3))  # red, green, blue pixels
    shifted = F.adjust_hue(primaries, 1 / 3).numpy()  # a third of a turn: red -> green -> blue -> red
    assert np.allclose(shifted[:, 0, :], [[0, 0, 1], [1, 0, 0], [0, 1, 0]], atol=1e-6)
    assert np.allclose(
        F.adjust_hue(primaries, -1 / 3).numpy()[:, 0, :], [[0, 1, 0], [0, 0, 1], [1, 0, 0]], atol=1e-6
    )
    u8 = ember.tensor(_uint8_image((3, 4, 5)))
    assert F.adjust_brightness(u8, 2.0).dtype == ember.uint8
    assert np.array_equal(
        F.adjust_brightness(u8, 2.0).numpy(),
        np.minimum(u8.numpy().astype(np.float32) * 2, 255).astype(np.uint8),
    )
    assert np.abs(F.adjust_hue(u8, 0.0).numpy().astype(int) - u8.numpy()).max() <= 1
    with pytest.raises(ValueError, match="not in \\[-0.5, 0.5\\]"):
        F.adjust_hue(x, 0.7)


def test_color_jitter():
    jitter = T.ColorJitter(brightness=0.4, contrast=0.4, saturation=(0.5, 1.5), hue=0.1)
    assert (
        repr(jitter)
        == "ColorJitter(brightness=[0.6, 1.4], contrast=[0.6, 1.4], saturation=[0.5, 1.5], hue=[-0.1, 0.1])"
    )
    assert repr(T.ColorJitter()) == "ColorJitter(brightness=None, contrast=None, saturation=None, hue=None)"
    assert T.ColorJitter(brightness=2.0).brightness == [0.0, 3.0]
    x = _float_image((2, 3, 6, 6))
    ember.manual_seed(0)
    out = jitter(x)
    assert out.shape == x.shape and 0 <= float(out.min()) and float(out.max()) <= 1
    ember.manual_seed(0)
    assert np.array_equal(jitter(x).numpy(), out.numpy())
    ember.manual_seed(0)
    order, b, c, s, h = T.ColorJitter.get_params([0.6, 1.4], None, [0.5, 1.5], [-0.1, 0.1])
    assert (
        sorted(order) == [0, 1, 2, 3]
        and 0.6 <= b <= 1.4
        and c is None
        and 0.5 <= s <= 1.5
        and -0.1 <= h <= 0.1
    )
    only_brightness = T.ColorJitter(brightness=(0.5, 0.5))
    assert_close(only_brightness(x), np.clip(x.numpy() * 0.5, 0, 1), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match="must be non negative"):
        T.ColorJitter(brightness=-1)
    assert T.ColorJitter(0.2, 0.2, 0.2, 0.05)(_uint8_image((5, 5, 3))).shape == (5, 5, 3)


# ---- reprs and the functional module ----------------------------------------------------------


def test_reprs_and_functional_exports():
    assert repr(T.Resize(256)) == "Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.Resize((32, 48), interpolation=T.InterpolationMode.NEAREST)) == (
        "Resize(size=(32, 48), interpolation=nearest, max_size=None, antialias=True)"
    )
    assert repr(T.CenterCrop(224)) == "CenterCrop(size=(224, 224))"
    assert repr(T.CenterCrop([3, 4])) == "CenterCrop(size=[3, 4])"  # a pair is kept as given
    assert repr(T.Pad(4, padding_mode="reflect")) == "Pad(padding=4, fill=0, padding_mode=reflect)"
    assert repr(T.Grayscale(3)) == "Grayscale(num_output_channels=3)"
    x = _float_image((3, 4, 4))
    assert_close(F.normalize(x, [0.5] * 3, [0.5] * 3), (x.numpy() - 0.5) / 0.5, rtol=1e-6, atol=1e-6)
    assert F.get_dimensions(x) == [3, 4, 4] and F.get_image_size(ember.zeros(1, 4, 6)) == [6, 4]
    assert F.to_tensor(_uint8_image((4, 4))).shape == (1, 4, 4)
    assert math.isclose(
        float(F.resized_crop(x, 0, 0, 2, 2, 1, antialias=True).mean()),
        float(x[:, :2, :2].mean()),
        rel_tol=1e-5,
    )
