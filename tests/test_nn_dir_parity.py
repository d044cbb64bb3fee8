"""The public names of torch.nn, torch.nn.functional, torch.nn.utils (parametrize, rnn,
stateless, fusion), torch.nn.attention and torch.distributions against ember's: every
name PyTorch 2.13 has is there, but for a listed few (typing helpers, CUDA- and fp8-only
kernels); and the names this check added: nn.grad's convolution gradients, conv_tbc,
native_channel_shuffle, grid_sample's mode tables, factory_kwargs, common_types, and the
torch.nn.modules paths (batchnorm, instancenorm, channelshuffle, utils)."""

from __future__ import annotations

import importlib
import types

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember.nn import functional as F

pytestmark = requires_torch

# what ember leaves out on purpose, per module: names PyTorch imports for its own use
# (typing, numpy, torch-function dispatch, TorchScript), private-looking helpers, and
# kernels that exist only for CUDA or fp8 (see docs/differences.md)
NOT_THERE = {
    "nn.functional": {
        "BroadcastingList1",
        "BroadcastingList2",
        "BroadcastingList3",
        "Callable",
        "DType",
        "Optional",
        "TYPE_CHECKING",
        "Tensor",
        "importlib",
        "np",
        "assert_int_or_pair",
        "boolean_dispatch",
        "handle_torch_function",
        "has_torch_function",
        "has_torch_function_unary",
        "has_torch_function_variadic",
        "reproducibility_notes",
        "sparse_support_notes",
        "tf32_notes",
        "grouped_mm",
        "scaled_mm",
        "scaled_grouped_mm",
        "ScalingType",
        "SwizzleType",
    },
    "nn.utils.parametrize": {
        "OpaqueBase",
        "copyreg",
        "deepcopy",
        "get_swap_module_params_on_conversion",
        "is_opaque_reference_type",
        "is_traceable_wrapper_subclass",
    },
    "nn.utils.rnn": {
        "Callable",
        "Iterable",
        "NamedTuple",
        "PackedSequence_",
        "Self",
        "TypeVar",
        "bind",
        "copy_method_params",
    },
    "nn.utils.stateless": {"NamedMemberAccessor", "deprecated"},
    "nn.utils.fusion": {"ConvT", "LinearT"},
    "nn.attention": {
        "Iterable",
        "Union",
        "warn",
        "SDPAParams",
        "can_use_efficient_attention",
        "can_use_flash_attention",
        "activate_flash_attention_impl",
        "current_flash_attention_impl",
        "list_flash_attention_impls",
        "register_flash_attention_impl",
        "restore_flash_attention_impl",
    },
}


@pytest.mark.parametrize(
    "name",
    [
        "nn",
        "nn.functional",
        "nn.utils",
        "nn.utils.parametrize",
        "nn.utils.rnn",
        "nn.utils.stateless",
        "nn.utils.fusion",
        "nn.attention",
        "distributions",
    ],
)
def test_public_names_match_torch(name):
    theirs = importlib.import_module(f"torch.{name}")
    ours = importlib.import_module(f"ember.{name}")
    skip = ("quantiz", "qat", "intrinsic")
    wanted = {
        n
        for n in dir(theirs)
        if not n.startswith("_")
        and not any(word in n.lower() for word in skip)
        and not (
            isinstance(getattr(theirs, n), types.ModuleType)
            and getattr(theirs, n).__name__.split(".")[0] != "torch"
        )
        and n != "torch"
    }
    missing = wanted - set(dir(ours)) - NOT_THERE.get(name, set())
    assert missing == set()


def test_module_paths_of_the_norm_layers():
    from ember.nn.modules.batchnorm import BatchNorm2d, LazyBatchNorm1d, _BatchNorm, _NormBase
    from ember.nn.modules.channelshuffle import ChannelShuffle
    from ember.nn.modules.instancenorm import InstanceNorm1d, LazyInstanceNorm3d, _InstanceNorm

    assert BatchNorm2d is ember.nn.BatchNorm2d and LazyBatchNorm1d is ember.nn.LazyBatchNorm1d
    assert InstanceNorm1d is ember.nn.InstanceNorm1d and LazyInstanceNorm3d is ember.nn.LazyInstanceNorm3d
    assert ChannelShuffle is ember.nn.ChannelShuffle
    assert isinstance(ember.nn.BatchNorm1d(3), _BatchNorm) and isinstance(
        ember.nn.InstanceNorm2d(3), _NormBase
    )
    assert isinstance(ember.nn.InstanceNorm2d(3), _InstanceNorm)


def test_modules_utils_match_torch():
    import torch
    import torch.nn.modules.utils as tutils

    import ember.nn.modules.utils as eutils

    for name in ("_single", "_pair", "_triple", "_quadruple"):
        for value in (3, (1, 2), [4, 5, 6]):
            assert getattr(eutils, name)(value) == getattr(tutils, name)(value)
    assert eutils._reverse_repeat_tuple((1, 2, 3), 2) == tutils._reverse_repeat_tuple((1, 2, 3), 2)
    theirs = torch.nn.DataParallel(
        torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    ).state_dict()
    ours = ember.nn.DataParallel(
        ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.BatchNorm1d(2))
    ).state_dict()
    tutils.consume_prefix_in_state_dict_if_present(theirs, "module.")
    eutils.consume_prefix_in_state_dict_if_present(ours, "module.")
    assert list(ours) == list(theirs)
    assert list(ours._metadata) == list(theirs._metadata)
    ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.BatchNorm1d(2)).load_state_dict(ours)


def test_factory_kwargs_and_common_types():
    import torch

    for kwargs in (None, {}, {"device": "cpu"}, {"dtype": 1, "factory_kwargs": {"device": "cpu"}}):
        assert ember.nn.factory_kwargs(kwargs) == torch.nn.factory_kwargs(kwargs)
    for bad in ({"bias": True}, {"device": "cpu", "factory_kwargs": {"device": "cpu"}}):
        with pytest.raises(TypeError):
            torch.nn.factory_kwargs(bad)
        with pytest.raises(TypeError):
            ember.nn.factory_kwargs(bad)
    from ember.nn.common_types import _ratio_2_t, _size_2_t  # noqa: F401


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_nn_grad_matches_torch(nd):
    import torch

    rng = np.random.default_rng(nd)
    x = rng.standard_normal((2, 4, *(7,) * nd))
    w = rng.standard_normal((6, 2, *(3,) * nd))
    options = {"stride": 2, "padding": 1, "dilation": 1, "groups": 2}
    conv = getattr(torch.nn.functional, f"conv{nd}d")
    out = conv(torch.tensor(x), torch.tensor(w), **options)
    g = rng.standard_normal(tuple(out.shape))
    expected_input = getattr(torch.nn.grad, f"conv{nd}d_input")(
        x.shape, torch.tensor(w), torch.tensor(g), **options
    )
    expected_weight = getattr(torch.nn.grad, f"conv{nd}d_weight")(
        torch.tensor(x), w.shape, torch.tensor(g), **options
    )
    actual_input = getattr(ember.nn.grad, f"conv{nd}d_input")(
        x.shape, ember.tensor(w), ember.tensor(g), **options
    )
    actual_weight = getattr(F.grad, f"conv{nd}d_weight")(ember.tensor(x), w.shape, ember.tensor(g), **options)
    assert_close(actual_input, expected_input, 1e-10, 1e-12)
    assert_close(actual_weight, expected_weight, 1e-10, 1e-12)
    assert not actual_input.requires_grad
    with pytest.raises(RuntimeError, match="grad_output has shape"):
        ember.nn.grad.conv1d_input((1, 1, 5), ember.ones(1, 1, 2), ember.ones(1, 1, 9))


def test_conv_tbc_and_native_channel_shuffle_match_torch():
    import torch

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((6, 2, 3)), rng.standard_normal((3, 3, 4)), rng.standard_normal(4)]
    for pad in (0, 1, 2):
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        ours = [ember.tensor(a, requires_grad=True) for a in arrays]
        expected, actual = torch.conv_tbc(*theirs, pad), F.conv_tbc(*ours, pad)
        assert_close(actual, expected, 1e-10, 1e-12)
        (expected**2).sum().backward()
        (actual**2).sum().backward()
        for a, b in zip(ours, theirs):
            assert_close(a.grad, b.grad, 1e-10, 1e-12)
    assert ember.conv_tbc is F.conv_tbc
    x = rng.standard_normal((2, 6, 3))
    assert_close(
        ember.native_channel_shuffle(ember.tensor(x), 3), torch.native_channel_shuffle(torch.tensor(x), 3)
    )
    assert_close(
        F.native_channel_shuffle(ember.tensor(x), 2),
        torch.nn.functional.native_channel_shuffle(torch.tensor(x), 2),
    )
    assert F.GRID_SAMPLE_INTERPOLATION_MODES == torch.nn.functional.GRID_SAMPLE_INTERPOLATION_MODES
    assert F.GRID_SAMPLE_PADDING_MODES == torch.nn.functional.GRID_SAMPLE_PADDING_MODES


def _transferred(lib) -> list:
    """What transfer_parametrizations_and_params leaves in the modules it fills."""
    nn, parametrize = lib.nn, lib.nn.utils.parametrize

    class Symmetric(nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

    class Halves(nn.Module):
        def forward(self, a, b):
            return a + b

        def right_inverse(self, x):
            return x * 0.5, x * 0.5

    source, whole, one = nn.Linear(3, 3), nn.Linear(3, 3), nn.Module()
    with lib.no_grad():
        source.weight.copy_(lib.tensor(np.arange(9.0).reshape(3, 3), dtype=lib.float32))
    parametrize.register_parametrization(source, "weight", Symmetric())
    parametrize.register_parametrization(source, "bias", Halves())
    assert parametrize.transfer_parametrizations_and_params(source, whole) is whole
    parametrize.transfer_parametrizations_and_params(source, one, "weight")
    assert parametrize.transfer_parametrizations_and_params(nn.Linear(2, 2), one) is one
    return [
        whole.weight.detach().numpy().tolist(),
        sorted(name for name, _ in whole.named_parameters()),
        whole.parametrizations.weight.original is source.parametrizations.weight.original,
        whole.parametrizations.bias.original1 is source.parametrizations.bias.original1,
        sorted(name for name, _ in one.named_parameters()),
        one.weight.detach().numpy().tolist(),
        type(one).__name__,
    ]


def test_transfer_parametrizations_and_params_matches_torch():
    import torch

    assert _transferred(ember) == _transferred(torch)


@pytest.mark.parametrize(
    "name",
    [
        "nn.modules.activation",
        "nn.modules.linear",
        "nn.modules.conv",
        "nn.modules.sparse",
        "distributions.utils",
    ],
)
def test_reexports_of_torchs_modules(name):
    theirs = importlib.import_module(f"torch.{name}")
    ours = importlib.import_module(f"ember.{name}")
    for attribute in dir(theirs):
        value = getattr(theirs, attribute)
        if (
            attribute[0].isupper()
            and isinstance(value, type)
            and value.__module__.startswith("torch.nn.modules")
        ):
            assert getattr(ours, attribute) is getattr(ember.nn, attribute, getattr(ours, attribute)), (
                attribute
            )
    if name == "distributions.utils":
        assert ours.euler_constant == theirs.euler_constant
