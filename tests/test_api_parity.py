"""Names PyTorch code uses that ember lacked until the thirteenth session, against torch 2.13:
the numeric constants, memory formats and layouts, the in-place and deprecated functional
spellings, gumbel_softmax, the top-level layer functions, Tensor.prelu/hardshrink and
post-accumulate-grad hooks, and the modules SyncBatchNorm, CrossMapLRN2d, NLLLoss2d and
Container."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from conftest import assert_close, requires_torch


def both(shape, seed=0):
    import torch

    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return ember.tensor(a), torch.tensor(a)


@requires_torch
def test_constants():
    import torch

    for name in ("pi", "e", "inf", "nan", "newaxis"):
        a, b = getattr(ember, name), getattr(torch, name)
        assert a is b or a == b or (np.isnan(a) and np.isnan(b)), name
    assert ember.ones(3)[:, ember.newaxis].shape == (3, 1)


@requires_torch
def test_memory_formats_give_torch_strides():
    import torch

    formats = ("contiguous_format", "channels_last", "preserve_format")
    e, t = both((2, 3, 4, 5))
    cases = {
        "contiguous": (e, t),
        "transposed": (e.transpose(0, 3), t.transpose(0, 3)),
        "permuted": (e.permute(0, 2, 3, 1), t.permute(0, 2, 3, 1)),
        "sliced": (e[:, :, ::2], t[:, :, ::2]),
        "channels_last": (
            e.contiguous(memory_format=ember.channels_last),
            t.contiguous(memory_format=torch.channels_last),
        ),
    }
    for name, (ev, tv) in cases.items():
        for fmt in ("contiguous_format", "channels_last"):
            ef, tf = getattr(ember, fmt), getattr(torch, fmt)
            assert ev.is_contiguous(memory_format=ef) == tv.is_contiguous(memory_format=tf), (name, fmt)
            assert ev.contiguous(memory_format=ef).stride() == tv.contiguous(memory_format=tf).stride(), (
                name,
                fmt,
            )
        for fmt in formats:
            ef, tf = getattr(ember, fmt), getattr(torch, fmt)
            assert ember.clone(ev, memory_format=ef).stride() == torch.clone(tv, memory_format=tf).stride(), (
                name,
                fmt,
            )
            for like in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
                got = getattr(ember, like)(ev, memory_format=ef).stride()
                assert got == getattr(torch, like)(tv, memory_format=tf).stride(), (name, fmt, like)
            assert (
                ember.full_like(ev, 2.0, memory_format=ef).stride()
                == torch.full_like(tv, 2.0, memory_format=tf).stride()
            )
            assert ev.to(memory_format=ef).stride() == tv.to(memory_format=tf).stride(), (name, fmt)
        assert_close(ember.clone(ev, memory_format=ember.channels_last), tv)
    assert (
        ember.empty(2, 3, 4, 5, memory_format=ember.channels_last).stride()
        == torch.empty(2, 3, 4, 5, memory_format=torch.channels_last).stride()
    )
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        ember.ones(2, 3).contiguous(memory_format=ember.channels_last)
    with pytest.raises(RuntimeError, match="preserve memory format is unsupported"):
        ember.ones(2).is_contiguous(memory_format=ember.preserve_format)


def test_a_relayout_keeps_values_and_gradients():
    x = ember.randn(2, 3, 4, 5, requires_grad=True)
    y = x.contiguous(memory_format=ember.channels_last)
    assert y.is_contiguous(memory_format=ember.channels_last) and not y.is_contiguous()
    weights = ember.randn(2, 3, 4, 5)
    (y * weights).sum().backward()
    assert_close(y, x)
    assert_close(x.grad, weights)


def test_layout_and_pin_memory_arguments():
    assert ember.ones(2).layout is ember.strided and repr(ember.strided) == "ember.strided"
    for make in (
        lambda: ember.zeros(2, 3, layout=ember.strided, pin_memory=False),
        lambda: ember.ones(2, layout=ember.strided),
        lambda: ember.empty(2, layout=ember.strided),
        lambda: ember.full((2,), 1.0, layout=ember.strided),
        lambda: ember.arange(3, layout=ember.strided),
        lambda: ember.linspace(0, 1, 3, layout=ember.strided),
        lambda: ember.eye(2, layout=ember.strided),
        lambda: ember.rand(2, layout=ember.strided),
        lambda: ember.randn(2, layout=ember.strided),
        lambda: ember.randint(0, 3, (2,), layout=ember.strided),
        lambda: ember.tensor([1.0], pin_memory=False),
        lambda: ember.zeros_like(ember.ones(2), layout=ember.strided),
    ):
        assert make().layout is ember.strided
    with pytest.raises(RuntimeError, match="strided"):
        ember.zeros(2, layout="sparse_coo")
    x = ember.ones(2)
    assert x.pin_memory() is x and not x.is_pinned()
    assert not x.is_shared() and x.share_memory_() is x and x.is_shared()  # as PyTorch


@requires_torch
@pytest.mark.parametrize(
    "name,args",
    [
        ("elu_", (0.5,)),
        ("leaky_relu_", (0.2,)),
        ("hardtanh_", (-0.5, 0.5)),
        ("celu_", (2.0,)),
        ("selu_", ()),
        ("threshold_", (0.1, -3.0)),
    ],
)
def test_inplace_functional_spellings(name, args):
    import torch

    e, t = both((4, 5))
    out_e, out_t = getattr(F, name)(e, *args), getattr(torch.nn.functional, name)(t, *args)
    assert out_e is e and out_t is t
    assert_close(e, t)


@requires_torch
def test_deprecated_upsample_spellings():
    import torch

    e, t = both((1, 2, 3, 4))
    for name, kwargs in (
        ("upsample", {"scale_factor": 2, "mode": "bilinear", "align_corners": False}),
        ("upsample_nearest", {"size": (5, 7)}),
        ("upsample_bilinear", {"scale_factor": 2}),
    ):
        with pytest.warns(UserWarning, match="deprecated"):
            got = getattr(F, name)(e, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = getattr(torch.nn.functional, name)(t, **kwargs)
        assert_close(got, expected)


def test_gumbel_softmax_samples_and_straight_through_gradient():
    logits = ember.randn(6, 5, requires_grad=True)
    ember.manual_seed(3)
    soft = F.gumbel_softmax(logits, tau=0.7)
    assert_close(soft.sum(-1), ember.ones(6))
    weights = ember.randn(6, 5)
    (soft * weights).sum().backward()
    soft_grad = logits.grad.clone()
    logits.grad = None
    ember.manual_seed(3)  # the same noise
    hard = F.gumbel_softmax(logits, tau=0.7, hard=True)
    assert sorted(set(hard.detach().numpy().ravel().tolist())) == [0.0, 1.0]
    assert hard.argmax(-1).tolist() == soft.argmax(-1).tolist()
    (hard * weights).sum().backward()
    assert_close(logits.grad, soft_grad)  # the gradient of the soft sample


@requires_torch
def test_top_level_layer_functions():
    import torch

    x_e, x_t = both((4, 3, 5, 5))
    w_e, w_t = both((2, 3, 3, 3), seed=1)
    assert_close(ember.conv2d(x_e, w_e, None, 1, 1), torch.conv2d(x_t, w_t, None, 1, 1))
    assert_close(
        ember.conv_transpose2d(x_e, w_e.transpose(0, 1), stride=2),
        torch.conv_transpose2d(x_t, w_t.transpose(0, 1), stride=2),
    )
    g_e, g_t = both((3,), seed=2)
    b_e, b_t = both((3,), seed=3)
    rm_e, rm_t = ember.zeros(3), torch.zeros(3)
    rv_e, rv_t = ember.ones(3), torch.ones(3)
    assert_close(
        ember.batch_norm(x_e, g_e, b_e, rm_e, rv_e, True, 0.1, 1e-5, True),
        torch.batch_norm(x_t, g_t, b_t, rm_t, rv_t, True, 0.1, 1e-5, False),
    )
    assert_close(rm_e, rm_t)
    assert_close(
        ember.instance_norm(x_e, g_e, b_e, None, None, True, 0.1, 1e-5, True),
        torch.instance_norm(x_t, g_t, b_t, None, None, True, 0.1, 1e-5, False),
    )
    assert_close(
        ember.layer_norm(x_e, (5,), None, None, 1e-5, True),
        torch.layer_norm(x_t, (5,), None, None, 1e-5, True),
    )
    assert_close(
        ember.group_norm(x_e, 3, g_e, b_e, 1e-5, True), torch.group_norm(x_t, 3, g_t, b_t, 1e-5, True)
    )
    for name, args in (
        ("selu", ()),
        ("celu", (1.5,)),
        ("rrelu", (0.1, 0.3)),
        ("threshold", (0.2, -1.0)),
        ("hardshrink", (0.4,)),
    ):
        assert_close(getattr(ember, name)(x_e, *args), getattr(torch, name)(x_t, *args))
    assert_close(ember.prelu(x_e, g_e), torch.prelu(x_t, g_t))
    assert_close(x_e.prelu(g_e), x_t.prelu(g_t))
    assert_close(x_e.hardshrink(0.3), x_t.hardshrink(0.3))
    for name, args in (("selu_", ()), ("celu_", (0.5,)), ("threshold_", (0.0, 2.0)), ("rrelu_", ())):
        e, t = both((3, 4), seed=4)
        assert getattr(ember, name)(e, *args) is e
        getattr(torch, name)(t, *args)
        assert_close(e, t)
    p_e, p_t = both((2, 3, 4), seed=5)
    q_e, q_t = both((5, 3), seed=6)
    r_e, r_t = both((5, 4), seed=7)
    assert_close(ember.bilinear(q_e, r_e, p_e, None), torch.bilinear(q_t, r_t, p_t, None))
    assert ember.vmap is ember.func.vmap


@requires_torch
def test_post_accumulate_grad_hooks_as_torch():
    import torch

    logs = {}
    for lib in (ember, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        log = logs[lib.__name__] = []
        w.register_hook(lambda g: g * 2)
        handle = w.register_post_accumulate_grad_hook(lambda t, log=log: log.append(t.grad.tolist()))
        (w * w).sum().backward()
        (w * 3).sum().backward()
        lib.autograd.grad((w * w).sum(), w)  # no .grad is stored: no call
        handle.remove()
        (w * 1).sum().backward()
        log.append(w.grad.tolist())
        with pytest.raises(RuntimeError, match="non-leaf"):
            (w * 2).register_post_accumulate_grad_hook(print)
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            lib.ones(2).register_post_accumulate_grad_hook(print)
    assert logs["ember"] == logs["torch"]


@requires_torch
def test_sync_batchnorm_is_batchnorm_in_one_process():
    import torch

    e, t = ember.nn.SyncBatchNorm(3, momentum=0.3), torch.nn.SyncBatchNorm(3, momentum=0.3)
    assert repr(e) == repr(t)
    for shape in ((4, 3), (4, 3, 5), (2, 3, 4, 4)):
        x_e, x_t = both(shape)
        assert_close(e(x_e), t(x_t))
    assert_close(e.running_var, t.running_var)
    e.eval()
    t.eval()
    x_e, x_t = both((2, 3, 4))
    assert_close(e(x_e), t(x_t))
    with pytest.raises(ValueError, match="expected at least 2D input"):
        e(ember.ones(3))

    model = ember.nn.Sequential(ember.nn.Conv2d(1, 3, 3), ember.nn.BatchNorm2d(3), ember.nn.InstanceNorm2d(3))
    model[1].eval()
    weight = model[1].weight
    converted = ember.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    reference = torch.nn.SyncBatchNorm.convert_sync_batchnorm(
        torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.InstanceNorm2d(3))
    )
    assert repr(converted) == repr(reference)
    assert converted[1].weight is weight and not converted[1].training


@requires_torch
def test_crossmaplrn2d_nllloss2d_container():
    import torch

    x_e, x_t = both((2, 6, 3, 3))
    layer = ember.nn.CrossMapLRN2d(3, alpha=0.5, beta=0.75, k=1.0)
    assert repr(layer) == repr(torch.nn.CrossMapLRN2d(3, alpha=0.5, beta=0.75, k=1.0))
    # the documented formula, which torch's LocalResponseNorm computes (docs/differences.md)
    assert_close(layer(x_e), torch.nn.LocalResponseNorm(3, alpha=0.5, beta=0.75, k=1.0)(x_t))
    with pytest.raises(ValueError, match="Expected input to be 4D"):
        layer(ember.ones(2, 3, 4))

    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        loss = ember.nn.NLLLoss2d()
    target = np.random.default_rng(0).integers(0, 6, (2, 3, 3))
    expected = torch.nn.NLLLoss()(x_t.log_softmax(1), torch.tensor(target))
    assert_close(loss(x_e.log_softmax(1), ember.tensor(target)), expected)

    with pytest.warns(FutureWarning, match="Container"):
        box = ember.nn.Container(a=ember.nn.Linear(1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert repr(box) == repr(torch.nn.Container(a=torch.nn.Linear(1, 1)))
    assert list(dict(box.named_parameters())) == ["a.weight", "a.bias"]


@requires_torch
def test_view_as_another_dtype_as_torch():
    import torch

    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
    for name in ("int32", "float64", "int8", "uint8", "float16", "int16", "float32", "int64", "bool"):
        if name in ("float64", "int64") and data.shape[-1] % 2:
            continue
        e = ember.tensor(data).view(getattr(ember, name))
        t = torch.tensor(data).view(getattr(torch, name))
        assert e.shape == t.shape and not e.requires_grad
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    for make in (
        lambda lib: lib.ones(3).view(lib.float64),
        lambda lib: lib.tensor(1.0).view(lib.float64),
        lambda lib: lib.ones(4, 2).t().view(lib.int8),
    ):
        with pytest.raises(RuntimeError) as theirs:
            make(torch)
        with pytest.raises(
            RuntimeError, match=str(theirs.value).split(" (")[0].replace("(", r"\(").replace(")", r"\)")
        ):
            make(ember)
    # the same memory and version counter: a write through the view is seen, and counted
    w = ember.zeros(4, requires_grad=True)
    v = w.detach().view(ember.int32)
    v[0] = 1065353216  # the bits of 1.0
    assert w.tolist() == [1.0, 0.0, 0.0, 0.0] and w._version_cell[0] == 1


@requires_torch
def test_as_strided_windows_and_their_gradients_as_torch():
    import torch

    from ember.autograd import gradcheck, gradgradcheck

    data = np.random.default_rng(0).standard_normal((2, 1, 5, 5)).astype(np.float32)
    weights = np.random.default_rng(1).standard_normal(9).astype(np.float32)
    results = []
    for lib in (ember, torch):
        x = lib.tensor(data, requires_grad=True)
        # im2col by as_strided: every 3x3 window of each image, as a course writes a conv
        cols = x.as_strided((2, 3, 3, 3, 3), (25, 5, 1, 5, 1))
        out = (cols.reshape(2, 9, 9) * lib.tensor(weights[:9])).sum(-1)  # a 3x3 conv, a value per window
        (out * lib.arange(18.0).reshape(2, 9)).sum().backward()
        results.append((cols.detach().numpy(), x.grad.numpy()))
        row = lib.arange(10.0)
        assert row[2:].as_strided((3, 2), (2, 1)).tolist() == [[2, 3], [4, 5], [6, 7]]  # the view's offset
        assert row[2:].as_strided((2,), (3,), 1).tolist() == [1, 4]  # an offset given: into the storage
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
    x = ember.tensor(np.random.default_rng(2).standard_normal(7), requires_grad=True, dtype=ember.float64)
    assert gradcheck(lambda t: t.as_strided((3, 3), (2, 1)), (x,))
    assert gradgradcheck(lambda t: t.as_strided((3, 3), (2, 1)) ** 2, (x,))
    for make in (
        lambda lib: lib.arange(6.0).as_strided((3, 3), (2, 1)),
        lambda lib: lib.arange(6.0).as_strided((2, 2), (1, -1)),
        lambda lib: lib.arange(6.0).as_strided((3,), (2, 1)),
    ):
        with pytest.raises(RuntimeError) as theirs:
            make(torch)
        with pytest.raises(
            RuntimeError, match=str(theirs.value)[:40].replace("[", r"\[").replace("]", r"\]")
        ):
            make(ember)


@requires_torch
def test_as_strided_in_place_as_torch():
    import torch

    grads = []
    for lib in (ember, torch):
        x = lib.arange(12.0, requires_grad=True)
        y = x * 1
        assert y.as_strided_((3, 3), (3, 1), 1) is y
        assert y.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
        (y * lib.arange(9.0).reshape(3, 3)).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]
