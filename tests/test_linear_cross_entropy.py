"""F.linear_cross_entropy, nn.LinearCrossEntropyLoss and nn.LinearCrossEntropyOptions,
compared with PyTorch 2.13: values and the gradients of input, weight and bias for every
reduction, ignore_index, label smoothing, class weights, class probabilities, K-dimensional
out_features and unbatched input; the module's state dict, repr and errors; the options'
checks and the warning PyTorch gives where it ignores them; gradcheck and gradgradcheck."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F

pytestmark = requires_torch

# every out_features, bias and reduction, each plain and with every option at once; and
# each option alone on the 2-d case
CASES = [
    (out, bias, reduction, *options)
    for out, bias, reduction in itertools.product([(), (3,), (2, 2)], [False, True], ["mean", "sum", "none"])
    for options in ((0.0, False, None), (0.3, True, 1))
] + [((3,), True, "mean", *options) for options in ((0.3, False, None), (0.0, True, None), (0.0, False, 1))]


def _pair(array: np.ndarray) -> tuple:
    import torch

    return torch.tensor(array, requires_grad=True), ember.tensor(array, requires_grad=True)


@pytest.mark.parametrize(("out_features", "bias", "reduction", "smoothing", "weighted", "ignore"), CASES)
def test_values_and_gradients_match_torch(out_features, bias, reduction, smoothing, weighted, ignore):
    import torch

    rng = np.random.default_rng(len(out_features) * 7 + bias)
    x, w = _pair(rng.standard_normal((5, 4))), _pair(rng.standard_normal((6, *out_features, 4)))
    b = _pair(rng.standard_normal((6, *out_features)))
    target = rng.integers(0, 6, (5, *out_features))
    target.flat[0] = 1  # ignore_index 1 has something to ignore
    class_weight = rng.random(6) + 0.1 if weighted else None
    outputs = []
    for lib, k in ((torch, 0), (ember, 1)):
        outputs.append(
            lib.nn.functional.linear_cross_entropy(
                x[k],
                w[k],
                lib.tensor(target),
                linear_bias=b[k] if bias else None,
                weight=None if class_weight is None else lib.tensor(class_weight),
                reduction=reduction,
                ignore_index=ignore,
                label_smoothing=smoothing,
            )
        )
    expected, actual = outputs
    assert_close(actual, expected, 1e-10, 1e-12)
    expected.sum().backward()
    actual.sum().backward()
    for pair in (x, w, b) if bias else (x, w):
        assert_close(pair[1].grad, pair[0].grad, 1e-10, 1e-12)


@pytest.mark.parametrize("out_features", [(), (3,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_class_probabilities(out_features, reduction):
    import torch

    rng = np.random.default_rng(1)
    x, w = _pair(rng.standard_normal((3, 4))), _pair(rng.standard_normal((5, *out_features, 4)))
    probs = rng.random((3, 5, *out_features))
    probs /= probs.sum(1, keepdims=True)
    kw = {"reduction": reduction, "label_smoothing": 0.1}
    expected = torch.nn.functional.linear_cross_entropy(x[0], w[0], torch.tensor(probs), **kw)
    actual = F.linear_cross_entropy(x[1], w[1], ember.tensor(probs), **kw)
    assert_close(actual, expected, 1e-10, 1e-12)
    expected.sum().backward()
    actual.sum().backward()
    assert_close(x[1].grad, x[0].grad, 1e-10, 1e-12)
    assert_close(w[1].grad, w[0].grad, 1e-10, 1e-12)
    with pytest.raises(RuntimeError, match="ignore_index cannot be specified"):
        F.linear_cross_entropy(x[1], w[1], ember.tensor(probs), ignore_index=-100)


def test_unbatched_input():
    import torch

    rng = np.random.default_rng(2)
    x, w, b = _pair(rng.standard_normal(4)), _pair(rng.standard_normal((6, 4))), _pair(rng.standard_normal(6))
    expected = torch.nn.functional.linear_cross_entropy(x[0], w[0], torch.tensor(3), linear_bias=b[0])
    actual = F.linear_cross_entropy(x[1], w[1], ember.tensor(3), linear_bias=b[1])
    assert actual.shape == ()
    assert_close(actual, expected, 1e-10, 1e-12)
    expected.backward()
    actual.backward()
    for pair in (x, w, b):
        assert_close(pair[1].grad, pair[0].grad, 1e-10, 1e-12)


def test_float32_matches_torch():
    import torch

    rng = np.random.default_rng(3)
    x, w = (
        _pair(rng.standard_normal((8, 16), dtype=np.float32)),
        _pair(rng.standard_normal((10, 16), dtype=np.float32)),
    )
    target = rng.integers(0, 10, 8)
    expected = torch.nn.functional.linear_cross_entropy(x[0], w[0], torch.tensor(target))
    actual = F.linear_cross_entropy(x[1], w[1], ember.tensor(target))
    assert actual.dtype == ember.float32
    assert_close(actual, expected)
    expected.backward()
    actual.backward()
    assert_close(x[1].grad, x[0].grad)
    assert_close(w[1].grad, w[0].grad)


def test_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(4)
    x = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((5, 2, 4)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    target = ember.tensor(rng.integers(0, 5, (3, 2)))

    def loss(x, w, b):
        return F.linear_cross_entropy(x, w, target, linear_bias=b, label_smoothing=0.2)

    assert gradcheck(loss, (x, w, b))
    assert gradgradcheck(loss, (x, w, b))


def test_errors_match_torch():
    import torch

    x, w = np.zeros((2, 4)), np.zeros((5, 4))
    bad = [
        (np.zeros((2, 2, 4)), w, {}, "dimensionality 1 or 2"),
        (x, np.zeros(4), {}, "linear_weight with dimensionality at least 2"),
        (x, np.zeros((5, 3)), {}, "in_features"),
        (x, w, {"linear_bias": np.zeros(4)}, "linear_bias shape"),
        (np.zeros(4), np.zeros((5, 2, 4)), {}, "requires batched input"),
    ]
    for inp, weight, kw, message in bad:
        for lib in (torch, ember):
            extra = {k: lib.tensor(v) for k, v in kw.items()}
            with pytest.raises(RuntimeError, match=message):
                lib.nn.functional.linear_cross_entropy(
                    lib.tensor(inp), lib.tensor(weight), lib.tensor(np.zeros(2, dtype=np.int64)), **extra
                )


def test_module_matches_torch_state_dict_repr():
    import torch

    kw = {"out_features": (2, 3), "bias": True, "ignore_index": 2, "label_smoothing": 0.1}
    theirs = torch.nn.LinearCrossEntropyLoss(6, 5, **kw)
    ours = nn.LinearCrossEntropyLoss(6, 5, **kw)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    ours.load_state_dict({k: ember.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 6), dtype=np.float32)
    target = rng.integers(0, 5, (4, 2, 3))
    assert_close(ours(ember.tensor(x), ember.tensor(target)), theirs(torch.tensor(x), torch.tensor(target)))
    plain = nn.LinearCrossEntropyLoss(3, 4, weight=ember.ones(4), reduction="sum")
    reference = torch.nn.LinearCrossEntropyLoss(3, 4, weight=torch.ones(4), reduction="sum")
    assert repr(plain) == repr(reference)
    assert list(plain.state_dict()) == list(reference.state_dict()) == ["weight", "linear.weight"]
    assert plain.linear.weight.dtype == ember.float32
    assert nn.LinearCrossEntropyLoss(3, 4, dtype=ember.float64).linear.weight.dtype == ember.float64
    with pytest.raises(RuntimeError, match="expected weight shape"):
        nn.LinearCrossEntropyLoss(3, 4, weight=ember.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        nn.LinearCrossEntropyLoss(3, 4, label_smoothing=1.5)


def test_options_checked_and_accepted():
    import torch

    options = nn.LinearCrossEntropyOptions(batch_chunk_size=2, acc_dtype=ember.float32)
    assert repr(options) == (
        "LinearCrossEntropyOptions(allow_retain_graph=False, batch_chunk_size=2, chunking_method='auto', "
        "acc_policy='auto', acc_dtype=ember.float32)"
    )
    for bad in (
        {"acc_policy": "fast"},
        {"chunking_method": "aspect_ratio:0"},
        {"chunking_method": "square"},
        {"batch_chunk_size": 0},
        {"acc_dtype": ember.int32},
    ):
        with pytest.raises(ValueError):
            nn.LinearCrossEntropyOptions(**bad)
        torch_bad = {k: torch.int32 if k == "acc_dtype" else v for k, v in bad.items()}
        with pytest.raises(ValueError):
            torch.nn.LinearCrossEntropyOptions(**torch_bad)
    nn.LinearCrossEntropyOptions(chunking_method="aspect_ratio:4")
    rng = np.random.default_rng(6)
    x = ember.tensor(rng.standard_normal((7, 4)))
    w = ember.tensor(rng.standard_normal((9, 4)))
    target = ember.tensor(rng.integers(0, 9, 7))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a chunkable call does not warn
        chunked = F.linear_cross_entropy(x, w, target, options=options)
    assert_close(chunked, F.linear_cross_entropy(x, w, target), 0, 0)
    with pytest.warns(UserWarning, match="options` ignored"):
        F.linear_cross_entropy(x, w, target, label_smoothing=0.1, options=options)
    with pytest.warns(UserWarning, match="options` ignored"):
        F.linear_cross_entropy(x, w.reshape(3, 3, 4), target.reshape(7, 1).expand(7, 3) % 3, options=options)


def test_module_path_and_exports():
    from ember.nn.modules.linear_cross_entropy_options import LinearCrossEntropyOptions
    from ember.nn.modules.loss import LinearCrossEntropyLoss

    assert LinearCrossEntropyOptions is nn.LinearCrossEntropyOptions
    assert LinearCrossEntropyLoss is nn.LinearCrossEntropyLoss
    assert "linear_cross_entropy" in F.__all__
