"""ember.nn.attention against PyTorch 2.13: sdpa_kernel and SDPBackend (which calls each
allowed kernel set lets through, and PyTorch's errors for the others), the causal biases of
nn.attention.bias passed as attn_mask (values and gradients), and flex_attention with its
block masks: create_block_mask's block lists, create_mask, and_masks / or_masks / noop_mask,
and the outputs, log-sum-exps and gradients of flex_attention compared with PyTorch's eager
computation (PyTorch's CPU flex_attention refuses inputs that require grad, so the gradients
are compared with its math_attention, the function its eager path runs)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember.autograd import gradcheck
from ember.nn import functional as F
from ember.nn.attention import SDPBackend, sdpa_kernel
from ember.nn.attention import bias as ebias
from ember.nn.attention import flex_attention as eflex

pytestmark = requires_torch

QKV_SHAPES = [
    ((2, 3, 4, 8), (2, 3, 5, 8)),  # what the CPU flash kernel takes
    ((3, 4, 8), (3, 5, 8)),  # 3-d: the math kernel only
    ((2, 3, 4, 8), (1, 3, 5, 8)),  # a broadcast batch: the math kernel only
]
BACKEND_SETS = [
    ["MATH"],
    ["FLASH_ATTENTION"],
    ["EFFICIENT_ATTENTION"],
    ["CUDNN_ATTENTION", "OVERRIDEABLE"],
    ["FLASH_ATTENTION", "MATH"],
    ["ERROR"],
    [],
]


def _sdpa_outcome(lib, names, q_shape, kv_shape, kwargs):
    """('ok', sum of the output) or the error's type name, with the kernels named allowed."""
    import importlib

    attention = importlib.import_module(lib.__name__ + ".nn.attention")
    rng = np.random.default_rng(0)
    q, k, v = (lib.tensor(rng.standard_normal(s)) for s in (q_shape, kv_shape, kv_shape))
    kwargs = {key: lib.tensor(val) if isinstance(val, np.ndarray) else val for key, val in kwargs.items()}
    backends = [getattr(attention.SDPBackend, n) for n in names]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with attention.sdpa_kernel(backends[0] if len(backends) == 1 else backends):
                out = lib.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)
    except RuntimeError:
        return "RuntimeError"
    return "ok", round(float(out.sum()), 9) if "dropout_p" not in kwargs else None


@pytest.mark.parametrize("names", BACKEND_SETS)
def test_sdpa_kernel_allows_and_refuses_as_torch(names):
    import torch

    mask = np.random.default_rng(1).random((4, 5)) > 0.3
    for q_shape, kv_shape in QKV_SHAPES:
        for kwargs in (
            {},
            {"attn_mask": mask},
            {"is_causal": True},
            {"dropout_p": 0.5},
            {"attn_mask": mask, "is_causal": True},
            {"attn_mask": np.broadcast_to(mask, (3, 4, 5))},
        ):
            expected = _sdpa_outcome(torch, names, q_shape, kv_shape, kwargs)
            actual = _sdpa_outcome(ember, names, q_shape, kv_shape, kwargs)
            assert actual == expected, (names, q_shape, list(kwargs))


def test_sdpa_kernel_restores_and_checks_its_argument():
    q = ember.randn(3, 4, 8)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION) as context:
        assert context == {}
        with (
            pytest.raises(RuntimeError, match="No available kernel"),
            pytest.warns(UserWarning, match="4 dimensional"),
        ):
            F.scaled_dot_product_attention(q, q, q)
        with sdpa_kernel([SDPBackend.MATH]):
            F.scaled_dot_product_attention(q, q, q)
        with pytest.raises(RuntimeError):
            F.scaled_dot_product_attention(q, q, q)
    F.scaled_dot_product_attention(q, q, q)  # everything allowed again
    with pytest.raises(RuntimeError), sdpa_kernel([SDPBackend.MATH], set_priority=True):
        raise RuntimeError  # the state is restored when the block raises
    F.scaled_dot_product_attention(q, q, q, attn_mask=ember.ones(4, 4, dtype=ember.bool), is_causal=True)
    for bad in ("math", (SDPBackend.MATH,)):
        with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
            with sdpa_kernel(bad):
                pass


def test_sdpbackend_names_and_values():
    import torch.nn.attention as tattention

    for name, member in tattention.SDPBackend.__members__.items():
        ours = getattr(SDPBackend, name)
        assert int(ours) == int(member) and ours.name == member.name
        assert repr(ours) == repr(member) and str(ours) == str(member)
    assert ember.nn.attention.WARN_FOR_UNFUSED_KERNELS is False


@pytest.mark.parametrize(("L", "S"), [(3, 5), (5, 5), (5, 3)])
@pytest.mark.parametrize("variant", ["causal_upper_left", "causal_lower_right"])
def test_causal_bias_values_and_gradients(L, S, variant):
    import torch
    import torch.nn.attention.bias as tbias

    rng = np.random.default_rng(L * 10 + S)
    arrays = [rng.standard_normal((2, 2, n, 4)) for n in (L, S, S)]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = [ember.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings(record=True) as caught_torch:
        warnings.simplefilter("always")
        tb = getattr(tbias, variant)(L, S)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eb = getattr(ebias, variant)(L, S)
    assert [str(w.message) for w in caught] == [str(w.message) for w in caught_torch]
    assert repr(eb) == repr(tb)
    assert eb.variant.name == tb.variant.name and (eb.seq_len_q, eb.seq_len_kv) == (L, S)
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs, tb, scale=0.7)
    actual = F.scaled_dot_product_attention(*ours, attn_mask=eb, scale=0.7)
    assert_close(actual, expected, 1e-10, 1e-12)
    (expected * expected).sum().backward()
    (actual * actual).sum().backward()
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad, 1e-10, 1e-12)
    with pytest.raises(ValueError, match="CausalBias should not be used with causal=True"):
        F.scaled_dot_product_attention(*ours, attn_mask=eb, is_causal=True)


def test_causal_bias_errors():
    with pytest.raises(AssertionError, match="only supports 2D"):
        ebias.causal_lower_right(2, 3, 4)
    with pytest.raises(AssertionError, match="must be a CausalVariant"):
        ebias.CausalBias(1, 2, 3)
    assert isinstance(ebias.causal_upper_left(2, 3), ember.Tensor)


def _causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def _even_keys_or_head_zero(b, h, q_idx, kv_idx):
    return (h == 0) | (kv_idx % 2 == 0)


def _mask_mods(lib_flex):
    return {
        "causal": _causal,
        "heads": _even_keys_or_head_zero,
        "and": lib_flex.and_masks(_causal, _even_keys_or_head_zero),
        "or": lib_flex.or_masks(_causal, _even_keys_or_head_zero),
        "noop": lib_flex.noop_mask,
    }


BLOCK_LISTS = [
    "kv_num_blocks",
    "kv_indices",
    "full_kv_num_blocks",
    "full_kv_indices",
    "q_num_blocks",
    "q_indices",
    "full_q_num_blocks",
    "full_q_indices",
]


@pytest.mark.parametrize("mask", ["causal", "heads", "and", "or", "noop"])
@pytest.mark.parametrize(("block", "separate"), [(2, True), ((2, 3), True), (128, True), (2, False)])
def test_create_block_mask_matches_torch(mask, block, separate):
    import torch.nn.attention.flex_attention as tflex

    theirs = tflex.create_block_mask(
        _mask_mods(tflex)[mask], 2, 3, 5, 7, device="cpu", BLOCK_SIZE=block, separate_full_blocks=separate
    )
    ours = eflex.create_block_mask(
        _mask_mods(eflex)[mask], 2, 3, 5, 7, BLOCK_SIZE=block, separate_full_blocks=separate
    )
    for name in BLOCK_LISTS:
        expected, actual = getattr(theirs, name), getattr(ours, name)
        if expected is None:
            assert actual is None, name
            continue
        assert actual.dtype == ember.int32, name
        np.testing.assert_array_equal(actual.numpy(), expected.numpy(), err_msg=name)
    assert ours.shape == theirs.shape and ours.BLOCK_SIZE == theirs.BLOCK_SIZE
    assert ours.seq_lengths == theirs.seq_lengths and ours.numel() == theirs.numel()
    np.testing.assert_array_equal(ours.to_dense().numpy(), theirs.to_dense().numpy())
    assert ours.to_string() == theirs.to_string()
    assert repr(ours).split("sparsity")[0].replace("ember.", "torch.") == repr(theirs).split("sparsity")[0]
    dense_mask = eflex.create_mask(_mask_mods(eflex)[mask], 2, 3, 5, 7)
    np.testing.assert_array_equal(
        dense_mask.numpy(), tflex.create_mask(_mask_mods(tflex)[mask], 2, 3, 5, 7, "cpu")
    )


def test_sparsity_counts_only_positions_within_the_lengths():
    import torch.nn.attention.flex_attention as tflex

    # multiples of the block size: PyTorch's figure
    theirs = tflex.create_block_mask(_causal, 1, 1, 8, 8, device="cpu", BLOCK_SIZE=2)
    ours = eflex.create_block_mask(_causal, 1, 1, 8, 8, BLOCK_SIZE=2)
    assert ours.sparsity() == pytest.approx(theirs.sparsity())
    # shorter than a block: PyTorch counts whole blocks and answers a negative percentage
    assert eflex.create_block_mask(_causal, 1, 1, 5, 7).sparsity() == 0.0
    assert eflex.create_block_mask(
        lambda b, h, q, k: q < 2, 1, 1, 5, 7, BLOCK_SIZE=2
    ).sparsity() == pytest.approx(100 * (1 - 14 / 35))


def _score_mods(lib, bias):
    table = lib.tensor(bias)
    return {
        "none": None,
        "relative": lambda s, b, h, q, k: s * 0.5 + (q - k) * 0.1,
        "table": lambda s, b, h, q, k: s + table[h, q, k],
        "softcap": lambda s, b, h, q, k: 3 * lib.tanh(s / 3),
    }


def _block_masks(lib_flex, kind, torch_device):
    if kind == "none":
        return None
    if kind == "causal":
        return lib_flex.create_block_mask(_causal, 2, 4, 5, 7, BLOCK_SIZE=2, **torch_device)
    # query 2 sees no key: its output is 0 and its log-sum-exp -inf
    return lib_flex.create_block_mask(lambda b, h, q, k: (q != 2) & (k < 6), None, None, 5, 7, **torch_device)


# PyTorch's public flex_attention runs its eager computation through torch.compile, some
# 0.7 s a call: three cases go through it, the others through math_attention, the
# function it runs (_torch_math_attention below)
THROUGH_PUBLIC_API = {("none", "none"), ("table", "causal"), ("softcap", "dead-row")}


@pytest.fixture
def _torch_validation_kept():
    """PyTorch's public flex_attention runs torch.compile, whose first call in a process turns
    torch.distributions' argument validation off for good (torch._dynamo's TorchPatcher):
    put it back, or test_distributions.py's comparisons of validation errors fail when they
    run after this test in one process."""
    import torch

    before = torch.distributions.Distribution._validate_args
    try:
        yield
    finally:
        torch.distributions.Distribution.set_default_validate_args(before)


@pytest.mark.usefixtures("_torch_validation_kept")
@pytest.mark.parametrize("score", ["none", "relative", "table", "softcap"])
@pytest.mark.parametrize("mask", ["none", "causal", "dead-row"])
def test_flex_attention_values_match_torch(score, mask):
    import torch
    import torch.nn.attention.flex_attention as tflex

    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 5, 8), (2, 2, 7, 8), (2, 2, 7, 3)))
    bias = rng.standard_normal((4, 5, 7)).astype(np.float32)
    theirs = [torch.tensor(a) for a in (q, k, v)]
    if (score, mask) in THROUGH_PUBLIC_API:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch: eager flex_attention is slow
            expected, expected_aux = tflex.flex_attention(
                *theirs,
                score_mod=_score_mods(torch, bias)[score],
                block_mask=_block_masks(tflex, mask, {"device": "cpu"}),
                enable_gqa=True,
                return_aux=tflex.AuxRequest(lse=True),
            )
        expected_lse = expected_aux.lse
    else:
        block_mask = _block_masks(tflex, mask, {"device": "cpu"})
        if block_mask is None:
            block_mask = tflex.create_block_mask(tflex.noop_mask, None, None, 5, 7, device="cpu")
        score_mod = _score_mods(torch, bias)[score] or (lambda s, b, h, i, j: s)
        expected, expected_lse = _torch_math_attention(*theirs, score_mod, block_mask, 1 / math.sqrt(8))
    actual, actual_aux = eflex.flex_attention(
        *(ember.tensor(a) for a in (q, k, v)),
        score_mod=_score_mods(ember, bias)[score],
        block_mask=_block_masks(eflex, mask, {}),
        enable_gqa=True,
        return_aux=eflex.AuxRequest(lse=True),
    )
    assert actual.dtype == ember.float32
    assert_close(actual, expected, 1e-5, 1e-6)
    assert_close(actual_aux.lse, expected_lse, 1e-5, 1e-6)
    assert actual_aux.max_scores is None


def _torch_math_attention(q, k, v, score_mod, block_mask, scale):
    """PyTorch's eager flex_attention computation, which records a graph on the CPU too:
    the output and the log-sum-exp (returned by it in base 2)."""
    from torch._higher_order_ops.flex_attention import math_attention

    out, lse_base2, _ = math_attention(q, k, v, score_mod, block_mask.as_tuple(), scale, {})
    return out, lse_base2 * math.log(2)


@pytest.mark.parametrize("mask", ["causal", "dead-row"])
def test_flex_attention_gradients_match_torch(mask):
    import torch
    import torch.nn.attention.flex_attention as tflex

    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in ((2, 4, 5, 8), (2, 4, 7, 8), (2, 4, 7, 3))]
    bias = rng.standard_normal((4, 5, 7))
    theirs = [torch.tensor(a, requires_grad=True) for a in (*arrays, bias)]
    ours = [ember.tensor(a, requires_grad=True) for a in (*arrays, bias)]
    block_mask = _block_masks(tflex, mask, {"device": "cpu"})
    out, lse = _torch_math_attention(
        *theirs[:3], lambda s, b, h, q, k: s + theirs[3][h, q, k], block_mask, 0.4
    )
    actual, actual_lse = eflex.flex_attention(
        *ours[:3],
        score_mod=lambda s, b, h, q, k: s + ours[3][h, q, k],
        block_mask=_block_masks(eflex, mask, {}),
        scale=0.4,
        return_aux=eflex.AuxRequest(lse=True),
    )
    actual_lse = actual_lse.lse
    assert_close(actual, out, 1e-10, 1e-12)
    assert_close(actual_lse, lse, 1e-10, 1e-12)
    finite = torch.isfinite(lse)
    ((out * out).sum() + lse[finite].sum()).backward()
    ((actual * actual).sum() + actual_lse[ember.tensor(finite.numpy())].sum()).backward()
    for a, b in zip(ours, theirs):
        assert not np.isnan(a.grad.numpy()).any()
        assert_close(a.grad, b.grad, 1e-10, 1e-12)


def test_flex_attention_gradcheck():
    rng = np.random.default_rng(5)
    q, k, v = (
        ember.tensor(rng.standard_normal(s), requires_grad=True)
        for s in ((1, 2, 3, 4), (1, 2, 4, 4), (1, 2, 4, 2))
    )
    block_mask = eflex.create_block_mask(_causal, 1, 1, 3, 4, BLOCK_SIZE=2)

    def attend(q, k, v):
        out, aux = eflex.flex_attention(
            q,
            k,
            v,
            score_mod=lambda s, b, h, i, j: s - 0.2 * (i - j).abs(),
            block_mask=block_mask,
            return_aux=eflex.AuxRequest(lse=True, max_scores=True),
        )
        return out, aux.lse

    assert gradcheck(attend, (q, k, v))


def test_flex_attention_default_matches_sdpa_and_return_lse_warns():
    rng = np.random.default_rng(6)
    q, k, v = (ember.tensor(rng.standard_normal(s)) for s in ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)))
    assert_close(eflex.flex_attention(q, k, v), F.scaled_dot_product_attention(q, k, v), 1e-12, 1e-12)
    with pytest.warns(FutureWarning, match="return_lse is deprecated"):
        out, lse = eflex.flex_attention(q, k, v, return_lse=True)
    assert lse.shape == (2, 2, 3)
    _, aux = eflex.flex_attention(q, k, v, return_aux=eflex.AuxRequest(max_scores=True))
    scores = q @ k.transpose(-2, -1) / 2
    assert aux.lse is None
    assert_close(aux.max_scores, scores.amax(-1), 1e-12, 1e-12)


def test_flex_attention_errors_match_torch():
    import torch
    import torch.nn.attention.flex_attention as tflex

    def both(shapes, **kwargs):
        errors = []
        for lib, flex in ((torch, tflex), (ember, eflex)):
            tensors = [lib.zeros(*s) for s in shapes]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    extra = dict(kwargs)
                    if "block_mask" in extra:
                        device = {"device": "cpu"} if lib is torch else {}
                        extra["block_mask"] = flex.create_block_mask(_causal, *extra["block_mask"], **device)
                    flex.flex_attention(*tensors, **extra)
                    errors.append(None)
                except Exception as error:  # the type is compared
                    errors.append(type(error))
        return errors

    good = (2, 2, 4, 8)
    cases = [
        ((good[1:], good[1:], good[1:]), {}),
        ((good, (2, 2, 4, 6), (2, 2, 4, 6)), {}),
        ((good, (2, 1, 4, 8), (2, 1, 4, 8)), {}),
        (((2, 3, 4, 8), (2, 2, 4, 8), (2, 2, 4, 8)), {"enable_gqa": True}),
        ((good, (1, 2, 4, 8), (1, 2, 4, 8)), {}),
        ((good, good, good), {"block_mask": (2, 2, 8, 4)}),
        ((good, good, good), {"return_lse": True, "return_aux": (True,)}),
    ]
    for shapes, kwargs in cases:
        if "return_aux" in kwargs:
            kwargs = dict(kwargs)
            kwargs["return_aux"] = None
            for lib_flex in (tflex, eflex):
                with pytest.raises(ValueError, match="Cannot specify both"):
                    lib_flex.flex_attention(
                        *(ember.zeros(*s) if lib_flex is eflex else torch.zeros(*s) for s in shapes),
                        return_lse=True,
                        return_aux=lib_flex.AuxRequest(lse=True),
                    )
            continue
        expected, actual = both(shapes, **kwargs)
        assert expected is not None and actual is expected, (shapes, kwargs, expected, actual)
    for lib_flex in (eflex,):
        with pytest.raises(RuntimeError, match="callable"):
            lib_flex.and_masks(_causal, 3)
        with pytest.raises(AssertionError, match="requires a mask_mod"):
            lib_flex.create_block_mask(lambda s, b, h, q, k: s, 1, 1, 2, 2)


def test_module_paths():
    import ember.nn.attention.bias
    import ember.nn.attention.flex_attention

    assert ember.nn.attention.flex_attention.flex_attention is eflex.flex_attention
    assert ember.nn.attention.bias.CausalVariant.LOWER_RIGHT.name == "LOWER_RIGHT"
    assert set(eflex.__all__) >= {
        "flex_attention",
        "create_block_mask",
        "and_masks",
        "or_masks",
        "noop_mask",
        "BlockMask",
    }


def test_block_mask_slicing_matches_torch():
    import torch
    import torch.nn.attention.flex_attention as tflex

    def causal_but_head_one(b, h, q_idx, kv_idx):
        return (q_idx >= kv_idx) & (h != 1)

    theirs = tflex.create_block_mask(causal_but_head_one, 3, 2, 9, 8, device="cpu", BLOCK_SIZE=2)
    ours = eflex.create_block_mask(causal_but_head_one, 3, 2, 9, 8, BLOCK_SIZE=2)
    for index in (0, -1, (0, 1), (slice(0, 2), slice(1, 2)), (slice(0, 2), slice(1, 2), [1, 3])):
        torch_index = (
            tuple(torch.tensor(i) if isinstance(i, list) else i for i in index)
            if isinstance(index, tuple)
            else index
        )
        our_index = (
            tuple(ember.tensor(i) if isinstance(i, list) else i for i in index)
            if isinstance(index, tuple)
            else index
        )
        expected, actual = theirs[torch_index], ours[our_index]
        for name in BLOCK_LISTS:
            np.testing.assert_array_equal(
                getattr(actual, name).numpy(), getattr(expected, name).numpy(), err_msg=name
            )
        assert actual.shape == expected.shape and actual.to_string() == expected.to_string()
    q = ember.zeros(1, 1, 9, 4)
    with pytest.raises(RuntimeError, match="sliced BlockMask"):
        eflex.flex_attention(q, q[:, :, :8], q[:, :, :8], block_mask=ours[0:1, 0:1])


def test_block_mask_as_tuple_and_from_kv_blocks_match_torch():
    import torch.nn.attention.flex_attention as tflex

    theirs = tflex.create_block_mask(_causal, 1, 2, 6, 6, device="cpu", BLOCK_SIZE=2)
    ours = eflex.create_block_mask(_causal, 1, 2, 6, 6, BLOCK_SIZE=2)
    for flatten in (True, False):
        expected, actual = theirs.as_tuple(flatten), ours.as_tuple(flatten)
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            if hasattr(e, "numpy"):
                np.testing.assert_array_equal(a.numpy(), e.numpy())
            elif not callable(e):
                assert a == e
    rebuilt = eflex.BlockMask.from_kv_blocks(
        ours.kv_num_blocks, ours.kv_indices, BLOCK_SIZE=2, compute_q_blocks=False
    )
    assert (
        rebuilt.q_num_blocks is None and rebuilt.shape == (1, 2, 6, 6) and rebuilt.mask_mod is eflex.noop_mask
    )
