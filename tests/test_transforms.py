"""ember.transforms: values against torch arithmetic, reprs as torchvision's, augmentations."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import transforms as T
from ember.transforms import batch_transform

MNIST_NORM = ((0.1307,), (0.3081,))


def _image(shape=(28, 28), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@requires_torch
@pytest.mark.parametrize("shape", [(28, 28), (5, 7, 3)])
def test_to_tensor_normalize_match_torchvision_arithmetic(shape):
    import torch

    img = _image(shape)
    mean, std = ((0.1307,), (0.3081,)) if len(shape) == 2 else ((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))
    ours = T.Compose([T.ToTensor(), T.Normalize(mean, std)])(img)
    # torchvision: from_numpy(HWC -> CHW).float().div(255), then sub_(mean).div_(std)
    chw = img[None] if img.ndim == 2 else img.transpose(2, 0, 1)
    ref = torch.from_numpy(np.ascontiguousarray(chw)).float().div(255)
    ref = ref.sub(torch.tensor(mean).view(-1, 1, 1)).div(torch.tensor(std).view(-1, 1, 1))
    assert ours.dtype == ember.float32 and ours.shape == tuple(ref.shape)
    assert_close(ours, ref, rtol=0, atol=0)


def test_to_tensor_rules():
    t = T.ToTensor()(_image((4, 6)))
    assert t.shape == (1, 4, 6) and float(t.max()) <= 1.0
    floats = np.full((2, 2, 3), 7.0)
    assert T.ToTensor()(floats).dtype == ember.float64 and T.ToTensor()(floats).tolist()[0][0] == [7.0, 7.0]
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()(ember.zeros(2, 2))
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros(3, np.uint8))


def test_normalize_errors_and_inplace():
    x = ember.ones(3, 2, 2)
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0.5,), (0.5,))(ember.ones(1, 2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match="size \\(..., C, H, W\\)"):
        T.Normalize((0.5,), (0.5,))(ember.ones(2, 2))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))(x)
    with pytest.raises(RuntimeError, match="2 values for an image of 3 channels"):
        T.Normalize((0.5, 0.5), (1.0, 1.0))(x)
    out = T.Normalize((0.5, 0.0, 1.0), (0.5, 1.0, 2.0), inplace=True)(x)
    assert out is x and x[:, 0, 0].tolist() == [1.0, 1.0, 0.0]
    grad_in = ember.ones(1, 2, 2, requires_grad=True)
    T.Normalize((0.5,), (0.25,))(grad_in).sum().backward()
    assert grad_in.grad.tolist() == [[[4.0, 4.0], [4.0, 4.0]]]


def test_reprs_match_torchvision():
    compose = T.Compose([T.ToTensor(), T.Normalize(*MNIST_NORM)])
    assert repr(compose) == "Compose(\n    ToTensor()\n    Normalize(mean=(0.1307,), std=(0.3081,))\n)"
    assert repr(T.Lambda(abs)) == "Lambda()"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert (
        repr(T.RandomRotation(10))
        == "RandomRotation(degrees=[-10.0, 10.0], interpolation=nearest, expand=False, fill=0)"
    )
    assert repr(T.Flatten()) == "Flatten()"
    assert repr(T.Standardize(mean=[1.0, 2.0], std=[3.0, 4.0])) == "Standardize(mean=[1, 2], std=[3, 4])"


def test_standardize_fits_like_standard_scaler():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((200, 3)) * [1.0, 5.0, 0.1] + [3.0, -2.0, 0.0]).astype(np.float32)
    x[:, 2] = 4.0  # a constant column: left unscaled, like scikit-learn
    scaler = T.Standardize().fit(ember.tensor(x))
    np.testing.assert_allclose(scaler.mean, x.astype(np.float64).mean(0))
    np.testing.assert_allclose(scaler.std[:2], x[:, :2].astype(np.float64).std(0))  # population std
    out = scaler(ember.tensor(x))
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy()[:, :2].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.numpy()[:, :2].std(0), 1, atol=1e-5)
    assert out.numpy()[:, 2].tolist() == [0.0] * 200
    assert scaler(x[0]).shape == (3,)  # one sample standardises the same way
    assert T.Standardize([1.0], [2.0])(np.array([5])).tolist() == [2.0]
    with pytest.raises(RuntimeError, match="not fitted"):
        T.Standardize()(x)


def test_lambda_and_flatten():
    assert T.Lambda(lambda v: v * 2)(3) == 6
    with pytest.raises(TypeError, match="should be callable"):
        T.Lambda(3)
    assert T.Flatten()(ember.zeros(1, 28, 28)).shape == (784,)
    assert T.Flatten(1)(ember.zeros(2, 3, 4)).shape == (2, 12)


def test_batch_transforms_equal_stacked_samples():
    images = np.stack([_image((6, 5), seed=s) for s in range(4)])
    pipeline = T.Compose([T.ToTensor(), T.Normalize(*MNIST_NORM), T.Flatten()])
    per_sample = np.stack([pipeline(img).numpy() for img in images])
    assert batch_transform(pipeline)(images).numpy().tobytes() == per_sample.tobytes()
    assert batch_transform(T.Compose([T.ToTensor(), T.RandomHorizontalFlip()])) is None
    assert batch_transform(T.Lambda(abs)) is None

    class MyNormalize(T.Normalize):
        pass

    assert batch_transform(MyNormalize((0.0,), (1.0,))) is None


# ---- random augmentations ---------------------------------------------------------------------


def test_horizontal_flip_on_arrays_and_tensors():
    img = _image((3, 4))
    assert (T.RandomHorizontalFlip(p=1.0)(img) == img[:, ::-1]).all()
    assert (T.RandomHorizontalFlip(p=0.0)(img) == img).all()
    t = ember.tensor(img[None].astype(np.float32))
    assert T.RandomHorizontalFlip(p=1.0)(t).numpy().tolist() == img[None, :, ::-1].tolist()
    ember.manual_seed(0)
    flips = [T.RandomHorizontalFlip()(img)[0, 0] != img[0, 0] for _ in range(200)]
    assert 60 < sum(flips) < 140


def test_random_crop_with_padding():
    img = _image((8, 8))
    ember.manual_seed(1)
    crops = [T.RandomCrop(8, padding=2)(img) for _ in range(30)]
    assert all(c.shape == (8, 8) and c.dtype == np.uint8 for c in crops)
    assert any((c == 0).sum() >= 8 for c in crops)  # some crops reach into the zero padding
    padded = np.pad(img, 2)
    assert all(
        any((padded[i : i + 8, j : j + 8] == c).all() for i in range(5) for j in range(5)) for c in crops
    )
    t = T.RandomCrop((2, 3))(ember.zeros(3, 5, 6))
    assert t.shape == (3, 2, 3)
    assert T.RandomCrop(10, pad_if_needed=True)(img).shape == (10, 10)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(9)(img)


def test_random_rotation_by_quarter_turn_is_rot90():
    img = _image((5, 5))
    assert (T.RandomRotation((90, 90))(img) == np.rot90(img)).all()
    assert (T.RandomRotation((0, 0))(img) == img).all()
    t = ember.tensor(np.stack([img, img]).astype(np.float32))
    assert T.RandomRotation((-90, -90))(t).numpy()[1].tolist() == np.rot90(img, -1).tolist()
    rotated = T.RandomRotation((45, 45), fill=255)(np.zeros((9, 9), np.uint8))
    assert rotated[0, 0] == 255 and rotated[4, 4] == 0
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-3)


def test_normalize_inplace_on_a_tensor_in_a_graph_changes_it_and_refuses_a_leaf() -> None:
    x = ember.ones(1, 2, 2, requires_grad=True)
    h = x * 1
    y = T.Normalize([0.5], [0.5], inplace=True)(h)
    assert y is h and h.tolist() == [[[1.0, 1.0], [1.0, 1.0]]]
    y.sum().backward()
    assert x.grad.tolist() == [[[2.0, 2.0], [2.0, 2.0]]]
    with pytest.raises(RuntimeError, match="leaf Variable"):
        T.Normalize([0.5], [0.5], inplace=True)(x)
