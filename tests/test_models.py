"""ember.models against torchvision's architectures, without torchvision.

Two kinds of checks:
- structure: the number of state-dict entries and of parameters, and hashes of the
  state-dict keys with their shapes and dtypes and of `print(model)`, for every builder.
  The expected values were recorded from torchvision 0.28.0 (with torch 2.13.0) in a
  scratch run: `str(model)` and "\n".join(f"{key} {tuple(shape)} {dtype}") hashed with
  sha256 (16 hex digits). Equal hashes mean a torchvision state dict loads with
  strict=True and the print is torchvision's, line for line.
- numbers: each family's forward and backward compared with a PyTorch model built in the
  test from the ember model: every leaf layer is PyTorch's layer built from its repr
  (so the reprs are valid PyTorch constructors), every block runs a forward written here
  with torch, and ember's state dict is loaded into it with strict=True.

VGG and AlexNet hold 60-140 M parameters, too many to draw in a fast test: their forward
(a Sequential, a pool and a Sequential) was compared with torchvision's in the scratch run
(relative error 5e-6), and here only their structure is checked.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import ember
import ember.models as models
from conftest import requires_torch
from ember import nn
from ember.models.resnet import BasicBlock, Bottleneck, ResNet
from ember.models.vgg import VGG, make_layers

# name: (state-dict entries, parameters, hash of keys/shapes/dtypes, hash of the print)
TORCHVISION = {
    "alexnet": (16, 61100840, "559fbdc7eb5c0bcc", "2891f54c81b8aa3e"),
    "mobilenet_v2": (314, 3504872, "b81dc3a9ed8f97d3", "e80e6fd178749cf5"),
    "resnet18": (122, 11689512, "11f76d8656482c93", "78a0ce552ae923a0"),
    "resnet34": (218, 21797672, "6adcd49f2178d075", "a60cf71e278ea118"),
    "resnet50": (320, 25557032, "14c3929c40dc540d", "11201e7f2419f050"),
    "resnet101": (626, 44549160, "0f13b66610123216", "72376a8a23df2e9b"),
    "resnet152": (932, 60192808, "027d8e7bddbac424", "de32e2bfc835d938"),
    "resnext50_32x4d": (320, 25028904, "e150f6efb9a46694", "d87d3de8a4f26dde"),
    "wide_resnet50_2": (320, 68883240, "62665e9100f197a8", "8dfeb5afc91029e6"),
    "squeezenet1_0": (52, 1248424, "59068e3bc908bbbf", "8b319b5bfbc68eec"),
    "squeezenet1_1": (52, 1235496, "5aef952c90026600", "db09563d9ff04db0"),
    "vgg11": (22, 132863336, "fd56df2a3d7de461", "b38617afb5581bf3"),
    "vgg11_bn": (62, 132868840, "362083fadc0d4121", "a45245226f1806de"),
    "vgg13": (26, 133047848, "4ee82791bdd98e55", "20ce33fda78f78a8"),
    "vgg13_bn": (76, 133053736, "64f0ccc032f2a705", "150a2ffa03c913c7"),
    "vgg16": (32, 138357544, "e44d8019af45b27a", "b628f277d195f69a"),
    "vgg16_bn": (97, 138365992, "e016cb3f386d85c1", "de68bea10f12c3b8"),
    "vgg19": (38, 143667240, "417d28c247cebea1", "d889f0547ed59fbd"),
    "vgg19_bn": (118, 143678248, "a332557a4c483966", "aca2e40c329146a8"),
}


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


INIT_FUNCTIONS = "uniform_ normal_ kaiming_uniform_ kaiming_normal_ constant_ ones_ zeros_".split()
LAYERS = {"Conv2d", "BatchNorm2d", "ReLU", "ReLU6", "MaxPool2d", "AdaptiveAvgPool2d", "Dropout", "Linear"}


def _skip_init(monkeypatch) -> None:
    for name in INIT_FUNCTIONS:
        monkeypatch.setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)


@pytest.fixture
def no_init(monkeypatch):
    """Parameters left as allocated: the structure tests build 2 G parameters in all."""
    _skip_init(monkeypatch)


def test_every_builder_is_listed():
    assert models.list_models() == sorted(TORCHVISION)
    assert models.list_models(module=models) == sorted(TORCHVISION)
    assert models.list_models(include="resnet*", exclude=["*50*"]) == [
        "resnet101",
        "resnet152",
        "resnet18",
        "resnet34",
    ]
    assert models.get_model_builder("ResNet18") is models.resnet18
    with pytest.raises(ValueError, match="Unknown model nope"):
        models.get_model("nope")


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_structure_and_print_are_torchvisions(name, no_init):
    model = models.get_model(name)
    state = model.state_dict()
    keys = "\n".join(f"{k} {tuple(v.shape)} {str(v.dtype).split('.')[1]}" for k, v in state.items())
    entries, params, keys_hash, print_hash = TORCHVISION[name]
    assert (len(state), sum(p.numel() for p in model.parameters())) == (entries, params)
    assert _hash(keys) == keys_hash
    assert _hash(str(model)) == print_hash


def test_weights_are_refused_with_the_way_out():
    with pytest.raises(NotImplementedError, match=r"resnet18\(weights='DEFAULT'\).*load_state_dict"):
        models.resnet18(weights="DEFAULT")
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        with pytest.raises(NotImplementedError, match="no pretrained weights"):
            models.squeezenet1_1(pretrained=True)
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        assert models.squeezenet1_1(pretrained=False, num_classes=3).classifier[1].out_channels == 3


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_pretrained_warning_names_the_callers_line(name, no_init):
    """The deprecation warning points at the line calling the builder; it pointed inside
    ember for the builders that refuse weights through a helper (_resnet, _vgg, ...)."""
    with pytest.warns(UserWarning, match="'pretrained' is deprecated") as record:
        getattr(models, name)(pretrained=False)
    assert [w.filename for w in record] == [__file__]


def test_constructor_arguments_and_errors(no_init):
    m = models.resnet18(num_classes=7)
    assert m.fc.out_features == 7
    with pytest.raises(ValueError, match="The parameter 'groups' expected value 32 but got 4 instead."):
        models.resnext50_32x4d(groups=4)
    with pytest.raises(ValueError, match="'width_per_group' expected value 128 but got 3"):
        models.wide_resnet50_2(width_per_group=3)
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1 and base_width=64"):
        models.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        models.resnet18(replace_stride_with_dilation=[True, False, False])
    with pytest.raises(ValueError, match="3-element tuple, got \\[True\\]"):
        models.resnet50(replace_stride_with_dilation=[True])
    with pytest.raises(ValueError, match="Unsupported SqueezeNet version 2_0"):
        models.SqueezeNet("2_0")
    with pytest.raises(ValueError, match="stride should be 1 or 2 instead of 3"):
        models.InvertedResidual(3, 3, 3, 1)
    with pytest.raises(ValueError, match="inverted_residual_setting should be non-empty"):
        models.MobileNetV2(inverted_residual_setting=[[1, 2, 3]])
    with pytest.raises(TypeError):
        models.resnet18(foo=1)
    assert models.alexnet(num_classes=3, dropout=0.1).classifier[0].p == 0.1
    assert models.mobilenet_v2(width_mult=0.5).last_channel == 1280
    assert models.mobilenet_v2(width_mult=1.4).last_channel == 1792
    assert models.vgg11(num_classes=4, dropout=0.25).classifier[6].out_features == 4


def test_initialisation_follows_torchvision():
    m = models.resnet18(zero_init_residual=True)
    assert all(float(block.bn2.weight.abs().sum()) == 0 for layer in (m.layer1, m.layer4) for block in layer)
    assert float(m.bn1.weight.sum()) == 64 and float(m.bn1.bias.abs().sum()) == 0
    # He normal with fan_out: std sqrt(2 / (64 * 7 * 7))
    assert abs(float(m.conv1.weight.std()) - (2 / (64 * 49)) ** 0.5) < 0.003
    s = models.squeezenet1_1(num_classes=10)
    final = s.classifier[1]
    assert abs(float(final.weight.std()) - 0.01) < 0.002 and float(final.bias.abs().sum()) == 0


# ---- numbers: a PyTorch twin built from the ember model ---------------------------------


def _torch_twin(module):
    """A torch module with the same children names whose forward is written here."""
    import torch

    kind = type(module).__name__
    if kind in LAYERS:
        return eval("torch.nn." + repr(module), {"torch": torch})  # the repr is a torch constructor
    twin = torch.nn.Sequential() if kind in ("Sequential", "Conv2dNormActivation") else torch.nn.Module()
    for name, child in module.named_children():
        twin.add_module(name, _torch_twin(child))
    if kind not in ("Sequential", "Conv2dNormActivation"):
        twin.forward = FORWARDS[kind].__get__(twin)
        twin.use_res_connect = getattr(module, "use_res_connect", None)
    return twin


def _block(self, x):
    layers = ["conv1", "bn1", "conv2", "bn2"] + (["conv3", "bn3"] if hasattr(self, "conv3") else [])
    out = x
    for i, name in enumerate(layers):
        out = getattr(self, name)(out)
        if i % 2 and i < len(layers) - 1:
            out = self.relu(out)
    downsample = getattr(self, "downsample", None)  # None is no child
    return self.relu(out + (x if downsample is None else downsample(x)))


def _resnet(self, x):
    x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
    for name in ("layer1", "layer2", "layer3", "layer4"):
        x = getattr(self, name)(x)
    return self.fc(self.avgpool(x).flatten(1))


def _fire(self, x):
    import torch

    x = self.squeeze_activation(self.squeeze(x))
    wide, tall = self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))
    return torch.cat([wide, tall], 1)


def _mobilenet(self, x):
    import torch

    return self.classifier(torch.nn.functional.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


FORWARDS = {
    "BasicBlock": _block,
    "Bottleneck": _block,
    "ResNet": _resnet,
    "Fire": _fire,
    "SqueezeNet": lambda self, x: self.classifier(self.features(x)).flatten(1),
    "InvertedResidual": lambda self, x: x + self.conv(x) if self.use_res_connect else self.conv(x),
    "MobileNetV2": _mobilenet,
    "VGG": lambda self, x: self.classifier(self.avgpool(self.features(x)).flatten(1)),
}


def _compare_with_torch(model, shape, rtol=2e-4):
    import torch

    twin = _torch_twin(model)
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for train in (True, False):
        model.train(train)
        twin.train(train)
        out, expected = model(ember.tensor(x)), twin(torch.from_numpy(x))
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=rtol, atol=1e-5)
    (out * out).mean().backward()  # the eval forward
    (expected * expected).mean().backward()
    theirs = dict(twin.named_parameters())
    scale = max(float(p.grad.abs().max()) for p in theirs.values())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs[name].grad.numpy(), rtol=rtol, atol=1e-4 * scale)
    for name, b in twin.named_buffers():  # running statistics after the training forward
        np.testing.assert_allclose(model.get_buffer(name).numpy(), b.numpy(), rtol=rtol, atol=1e-5)


@requires_torch
def test_resnet_basic_blocks_match_torch():
    """resnet18's blocks, one per stage. At 48 x 48 the last stage sees 2 x 2 positions: at
    1 x 1, batch norm of two values amplifies rounding differences past any tolerance."""
    _compare_with_torch(ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10), (2, 3, 48, 48))


@requires_torch
def test_resnext_bottleneck_dilation_matches_torch():
    model = ResNet(
        Bottleneck,
        [1, 1, 1, 2],
        num_classes=5,
        groups=4,
        width_per_group=8,
        replace_stride_with_dilation=[False, False, True],
    )
    _compare_with_torch(model, (2, 3, 32, 32))


@requires_torch
def test_squeezenet_matches_torch():
    _compare_with_torch(models.squeezenet1_0(num_classes=6, dropout=0.0), (1, 3, 40, 40))
    _compare_with_torch(models.squeezenet1_1(num_classes=6, dropout=0.0), (1, 3, 40, 40))


@requires_torch
def test_mobilenet_v2_matches_torch():
    """The first stages only (the whole default network is checked by structure above)."""
    stages = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2]]
    model = models.MobileNetV2(num_classes=5, width_mult=0.5, inverted_residual_setting=stages, dropout=0.0)
    _compare_with_torch(model, (2, 3, 32, 32))


@requires_torch
def test_vgg_forward_matches_torch():
    """VGG's forward on a small `features` (its classifier is always 25088 -> 4096 -> 4096)."""
    with pytest.MonkeyPatch.context() as mp:  # the 120 M parameters replaced below are not drawn
        _skip_init(mp)
        model = VGG(make_layers([8, "M", 16, "M"], batch_norm=True), num_classes=3, dropout=0.0)
    for m in model.features:
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    model.classifier[0], model.classifier[3], model.classifier[6] = (
        nn.Linear(16 * 7 * 7, 32),
        nn.Linear(32, 32),
        nn.Linear(32, 3),
    )
    _compare_with_torch(model, (2, 3, 16, 16))


def test_torchvision_state_dict_names_load_strictly(no_init):
    """A state dict with torchvision's names (here ember's own, renamed nowhere) loads
    with strict=True into a fresh model, and a missing key is reported."""
    source = models.mobilenet_v2(num_classes=4)
    target = models.mobilenet_v2(num_classes=4)
    state = source.state_dict()
    assert not target.load_state_dict(state, strict=True).missing_keys
    del state["features.0.0.weight"]
    with pytest.raises(RuntimeError, match="features.0.0.weight"):
        target.load_state_dict(state, strict=True)


def test_basic_and_bottleneck_shapes():
    x = ember.randn(1, 8, 6, 6)
    assert BasicBlock(8, 8)(x).shape == (1, 8, 6, 6)
    down = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False), nn.BatchNorm2d(16))
    assert Bottleneck(8, 4, stride=2, downsample=down)(x).shape == (1, 16, 3, 3)


def test_resnet_forward_runs_forward_impl(no_init):
    """torchvision's ResNet.forward calls _forward_impl, which subclasses override."""

    class Features(ResNet):
        def _forward_impl(self, x):
            return self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x)))))

    model = Features(BasicBlock, [1, 1, 1, 1])
    assert model(ember.zeros(1, 3, 16, 16)).shape == (1, 64, 4, 4)
