"""Losses (ember.nn.functional and the loss Modules) against PyTorch: every reduction,
weights, ignore_index, label smoothing, pos_weight, 1-D and K-dimensional inputs, large
logits; float64 gradcheck; and the errors for the usual target mistakes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.nn as nn
import ember.nn.functional as F
from conftest import assert_close, requires_torch
from ember.autograd import gradcheck, gradgradcheck

REDUCTIONS = ["mean", "sum", "none"]


def rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def labels(shape, n_classes, seed=1, ignore=None):
    t = np.random.default_rng(seed).integers(0, n_classes, shape)
    if ignore is not None:
        t.reshape(-1)[::3] = ignore  # every third target ignored
    return t


def compare(ember_loss, torch_loss, arrays, grads, rtol=1e-5, atol=1e-6, **kwargs):
    """Same loss in both libraries: values, and gradients of the inputs marked in grads."""
    import torch

    e_in = [ember.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    t_in = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    e_out = ember_loss(
        *e_in, **{k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    )
    t_out = torch_loss(
        *t_in, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    )
    assert_close(e_out, t_out, rtol, atol)
    assert e_out.dtype.name == str(t_out.dtype).replace("torch.", "")
    up = np.random.default_rng(9).standard_normal(t_out.shape).astype(arrays[0].dtype)
    e_out.backward(ember.tensor(up))
    t_out.backward(torch.tensor(up))
    for e, t, g in zip(e_in, t_in, grads):
        if g:
            assert_close(e.grad, t.grad, rtol, atol)
    return e_out


def torch_f(name):
    import torch

    return getattr(torch.nn.functional, name)


# ---- regression losses --------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("smooth_l1_loss", {}),
        ("smooth_l1_loss", {"beta": 0.5}),
        ("smooth_l1_loss", {"beta": 0.0}),
        ("huber_loss", {}),
        ("huber_loss", {"delta": 0.3}),
    ],
)
def test_regression_loss_matches_torch(name, kwargs, reduction):
    x, y = rand(5, 4, seed=1), rand(5, 4, seed=2)
    compare(getattr(F, name), torch_f(name), [x, y], [True, True], reduction=reduction, **kwargs)


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_loss_matches_torch(name, reduction):
    w = np.abs(rand(5, 4, seed=3))
    compare(
        getattr(F, name),
        torch_f(name),
        [rand(5, 4, seed=1), rand(5, 4)],
        [True, False],
        reduction=reduction,
        weight=w,
    )


@requires_torch
def test_broadcast_target_warns_as_torch():
    with pytest.warns(UserWarning, match="different to the input size"):
        compare(F.mse_loss, torch_f("mse_loss"), [rand(4, 1), rand(4)], [True, False])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_loss_gradcheck(name):
    x = ember.tensor(rand(3, 4, dtype=np.float64), requires_grad=True)
    y = ember.tensor(rand(3, 4, seed=4, dtype=np.float64), requires_grad=True)
    assert gradcheck(lambda a, b: getattr(F, name)(a, b, reduction="none"), (x, y))


def test_reduction_is_validated():
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.mse_loss(ember.randn(2), ember.randn(2), reduction="avg")


def test_legacy_size_average_and_reduce():
    x, y = ember.randn(3), ember.randn(3)
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert F.mse_loss(x, y, size_average=False).item() == pytest.approx(
            F.mse_loss(x, y, reduction="sum").item()
        )
    with pytest.warns(UserWarning):
        assert F.l1_loss(x, y, reduce=False).shape == (3,)


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    logp = np.log(np.random.default_rng(0).dirichlet(np.ones(5), 4)).astype(np.float32)
    q = np.random.default_rng(1).dirichlet(np.ones(5), 4).astype(np.float32)
    for zero in (False, True):
        if zero:
            q[0, 1] = 0.0  # 0 log 0 = 0; there PyTorch's target gradient is nan (log 0 + 0/0)
            q[1, 2] = 0.0
        # with log_target, a target of 0 is a probability of 1 and -inf one of 0: -inf gives nan
        with np.errstate(divide="ignore"):
            target = np.log(q).astype(np.float32) if log_target else q
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 'mean' warns in both libraries; NumPy warns of the nans
            compare(
                F.kl_div,
                torch_f("kl_div"),
                [logp, target],
                [True, True],
                reduction=reduction,
                log_target=log_target,
            )


@requires_torch
@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_kl_div_negative_and_zero_targets_give_torchs_nans(reduction):
    """A negative probability makes the loss nan (its log), a zero one the target's gradient."""
    logp = np.log(np.full((2, 3), 1 / 3, dtype=np.float32))
    target = np.array([[0.0, -0.5, 1.0], [0.0, 0.5, 0.5]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy warns of the nans it makes
        out = compare(F.kl_div, torch_f("kl_div"), [logp, target], [True, True], reduction=reduction)
    assert np.isnan(out.detach().numpy()).any()


# ---- cross_entropy and nll_loss ------------------------------------------------------------------

CE_CASES = [
    # input shape, weight?, ignore_index?, label_smoothing
    ((6, 5), False, False, 0.0),
    ((6, 5), True, False, 0.0),
    ((6, 5), False, True, 0.0),
    ((6, 5), True, True, 0.0),
    ((6, 5), False, False, 0.2),
    ((6, 5), True, True, 0.3),
    ((5,), False, False, 0.0),
    ((5,), True, False, 0.1),
    ((3, 4, 2, 3), False, True, 0.0),
    ((3, 4, 2, 3), True, True, 0.25),
    ((2, 4, 5), True, False, 0.0),
]


def _ce_arrays(shape, ignore):
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else shape[:1] + shape[2:]
    target = labels(tshape, n_classes, ignore=-100 if ignore and tshape else None)
    return rand(*shape) * 3, target, n_classes


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, weighted, ignore, smoothing", CE_CASES)
def test_cross_entropy_class_indices_matches_torch(shape, weighted, ignore, smoothing, reduction):
    x, target, n_classes = _ce_arrays(shape, ignore)
    weight = np.abs(rand(n_classes, seed=7)) + 0.1 if weighted else None
    compare(
        F.cross_entropy,
        torch_f("cross_entropy"),
        [x, target],
        [True, False],
        rtol=1e-5,
        atol=1e-6,
        weight=weight,
        reduction=reduction,
        label_smoothing=smoothing,
    )


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "shape, weighted, smoothing",
    [((6, 5), False, 0.0), ((6, 5), True, 0.2), ((2, 3, 4), True, 0.0), ((4,), False, 0.1)],
)
def test_cross_entropy_probability_targets_match_torch(shape, weighted, smoothing, reduction):
    class_axis = 0 if len(shape) == 1 else 1
    probs = np.random.default_rng(3).dirichlet(
        np.ones(shape[class_axis]), int(np.prod(shape)) // shape[class_axis]
    )
    probs = (
        np.moveaxis(probs.reshape((shape[0],) + shape[2:] + (shape[class_axis],)), -1, class_axis)
        if len(shape) > 1
        else probs[0]
    )
    weight = np.abs(rand(shape[class_axis], seed=7)) + 0.1 if weighted else None
    compare(
        F.cross_entropy,
        torch_f("cross_entropy"),
        [rand(*shape), probs.astype(np.float32)],
        [True, True],  # soft targets get a gradient too
        weight=weight,
        reduction=reduction,
        label_smoothing=smoothing,
    )


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, weighted, ignore, smoothing", [c for c in CE_CASES if c[3] == 0.0])
def test_nll_loss_matches_torch(shape, weighted, ignore, smoothing, reduction):
    x, target, n_classes = _ce_arrays(shape, ignore)
    weight = np.abs(rand(n_classes, seed=7)) + 0.1 if weighted else None
    compare(F.nll_loss, torch_f("nll_loss"), [x, target], [True, False], weight=weight, reduction=reduction)


@requires_torch
def test_cross_entropy_large_logits_are_finite_and_match_torch():
    x = np.array([[100.0, -100.0, 0.0], [-100.0, 100.0, 50.0], [1e4, -1e4, 0.0]], dtype=np.float32)
    for target in (np.array([0, 1, 2]), np.array([1, 0, 1])):
        for reduction in REDUCTIONS:
            out = compare(
                F.cross_entropy, torch_f("cross_entropy"), [x, target], [True, False], reduction=reduction
            )
            assert np.isfinite(out.detach().numpy()).all()


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_minus_inf_scores_outside_the_target_match_torch(reduction):
    x = rand(3, 4)
    x[0, 1] = x[2, 3] = -np.inf  # masked logits; for nll_loss, log(0) of a zero probability
    target = np.array([0, 2, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("cross_entropy", "nll_loss"):
            compare(getattr(F, name), torch_f(name), [x, target], [True, False], reduction=reduction)


@requires_torch
def test_cross_entropy_all_targets_ignored_gives_nan_like_torch():
    x, t = rand(3, 4), np.full(3, -100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no NumPy division warnings
        compare(F.cross_entropy, torch_f("cross_entropy"), [x, t], [True, False])  # nan loss, zero gradient
        compare(F.nll_loss, torch_f("nll_loss"), [x, t], [True, False])


def test_cross_entropy_is_one_node():
    x = ember.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, ember.tensor([0, 1, 2, 0]))
    assert loss.grad_fn.name() == "CrossEntropyBackward0"
    assert loss.grad_fn.next_functions[0][0].variable is x


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, weighted, ignore, smoothing", [CE_CASES[5], CE_CASES[7], CE_CASES[9]])
def test_cross_entropy_gradcheck_and_second_order(shape, weighted, ignore, smoothing, reduction):
    x, target, n_classes = _ce_arrays(shape, ignore)
    w = ember.tensor(np.abs(rand(n_classes, seed=7)) + 0.1) if weighted else None
    xt = ember.tensor(x.astype(np.float64), requires_grad=True)
    if w is not None:
        w = w.double()

    def fn(a):
        return F.cross_entropy(a, ember.tensor(target), w, reduction=reduction, label_smoothing=smoothing)

    assert gradcheck(fn, (xt,))
    assert gradgradcheck(fn, (xt,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_index_fast_path_gradcheck_and_second_order(name, reduction):
    # (N, C), no weight, nothing ignored: the direct nodes IndexCrossEntropy / IndexNllLoss
    xt = ember.tensor(rand(4, 3, dtype=np.float64), requires_grad=True)
    target = ember.tensor([0, 2, 1, 2])

    def fn(a):
        return getattr(F, name)(a, target, reduction=reduction)

    assert type(fn(xt).grad_fn).__name__.startswith("Index")
    assert gradcheck(fn, (xt,))
    assert gradgradcheck(fn, (xt,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_index_fast_path_agrees_with_the_dense_target_node(name, reduction):
    x = rand(6, 5)
    target = ember.tensor([0, 4, 1, 1, 3, 2])
    ones = ember.ones(5)  # a weight of ones takes the general node and means the same
    results = []
    for weight in (None, ones):
        xt = ember.tensor(x, requires_grad=True)
        loss = getattr(F, name)(xt, target, weight=weight, reduction=reduction)
        loss.sum().backward()
        results.append((loss.detach().numpy(), xt.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6, atol=1e-7)


@requires_torch
@pytest.mark.parametrize("targets", [[0, 2, 1, 2], [0, 1, 1, 3]])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_an_ignore_index_among_the_classes_matches_torch(name, targets):
    # ignore_index=2 is a class: ignored when present (general node), else the fast path
    compare(
        getattr(F, name),
        torch_f(name),
        [rand(4, 4), np.array(targets)],
        [True, False],
        ignore_index=2,
    )


def test_soft_cross_entropy_gradcheck_for_input_and_target():
    x = ember.tensor(rand(3, 4, dtype=np.float64), requires_grad=True)
    p = ember.tensor(np.random.default_rng(2).dirichlet(np.ones(4), 3), requires_grad=True)
    w = ember.tensor(np.array([0.5, 1.0, 2.0, 1.5]))

    def fn(a, b):
        return F.cross_entropy(a, b, w, label_smoothing=0.1)

    assert gradcheck(fn, (x, p))
    assert gradgradcheck(fn, (x, p))


def test_nll_loss_gradcheck():
    x = ember.tensor(rand(4, 3, dtype=np.float64), requires_grad=True)
    target = ember.tensor([0, 2, -100, 1])
    assert gradcheck(lambda a: F.nll_loss(a, target, ember.tensor([1.0, 2.0, 3.0]).double()), (x,))


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 4), c=st.integers(1, 5), spatial=st.lists(st.integers(1, 3), max_size=2))
def test_cross_entropy_gradient_is_softmax_minus_onehot(n, c, spatial):
    x = ember.tensor(rand(n, c, *spatial, seed=n * c), requires_grad=True)
    t = labels((n, *spatial), c)
    F.cross_entropy(x, ember.tensor(t), reduction="sum").backward()
    expected = F.softmax(x.detach(), dim=1).numpy() - np.moveaxis(np.eye(c, dtype=np.float32)[t], -1, 1)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-6)


@given(n=st.integers(1, 5), c=st.integers(1, 6), reduction=st.sampled_from(REDUCTIONS))
def test_cross_entropy_short_path_matches_the_general_one(n, c, reduction):
    """(N, C) logits with int64 class indices take a short path to the loss's node; a weight
    of ones sends the same loss through the general one: same values and gradients."""
    logits, t = rand(n, c, seed=n + c), ember.tensor(labels((n,), c))
    x1, x2 = ember.tensor(logits, requires_grad=True), ember.tensor(logits, requires_grad=True)
    short = F.cross_entropy(x1, t, reduction=reduction)
    general = F.cross_entropy(x2, t, weight=ember.ones(c), reduction=reduction)
    np.testing.assert_allclose(short.detach().numpy(), general.detach().numpy(), rtol=1e-6, atol=1e-7)
    short.sum().backward()
    general.sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_cross_entropy_target_errors():
    x = ember.randn(4, 3)
    with pytest.raises(RuntimeError, match=r"integer dtype .* got ember.float32 of shape \[4\]"):
        F.cross_entropy(x, ember.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(IndexError, match="target 7 is out of bounds for 3 classes"):
        F.cross_entropy(x, ember.tensor([0, 7, 2, 1]))
    with pytest.raises(IndexError, match="target -2 is out of bounds"):
        F.nll_loss(x, ember.tensor([0, -2, 2, 1]))
    with pytest.raises(
        ValueError, match=r"batch_size \(4\) to match target batch_size \(5\).*\[4, 3\].*\[5\]"
    ):
        F.cross_entropy(x, ember.tensor([0, 1, 2, 1, 0]))
    with pytest.raises(RuntimeError, match=r"expected target of shape \[2, 5\]"):
        F.cross_entropy(ember.randn(2, 3, 5), ember.tensor([[0, 1, 2, 1]] * 2))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 3 classes"):
        F.cross_entropy(x, ember.tensor([0, 1, 2, 1]), weight=ember.ones(4))
    with pytest.raises(RuntimeError, match="label_smoothing must be between"):
        F.cross_entropy(x, ember.tensor([0, 1, 2, 1]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="floating point input"):
        F.cross_entropy(ember.tensor([[1, 2]]), ember.tensor([0]))


def test_ignore_index_may_lie_outside_the_classes():
    loss = F.cross_entropy(ember.randn(3, 2), ember.tensor([0, -100, 1]), reduction="none")
    assert loss.numpy()[1] == 0.0


@requires_torch
@pytest.mark.parametrize("ignore_index", [0, 2, 4, 10])
def test_probability_targets_refuse_a_non_negative_ignore_index_like_torch(ignore_index):
    import torch

    x, probs = rand(3, 4), np.full((3, 4), 0.25, dtype=np.float32)
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(probs), ignore_index=ignore_index)
    with pytest.raises(
        RuntimeError, match=r"ignore_index is not supported for floating point target.*\[3, 4\]"
    ):
        F.cross_entropy(ember.tensor(x), ember.tensor(probs), ignore_index=ignore_index)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        nn.CrossEntropyLoss(ignore_index=ignore_index)(ember.tensor(x), ember.tensor(probs))


@requires_torch
@pytest.mark.parametrize("ignore_index", [-1, -100, -101])
def test_probability_targets_accept_a_negative_ignore_index_like_torch(ignore_index):
    probs = np.random.default_rng(3).dirichlet(np.ones(4), 3).astype(np.float32)
    compare(
        F.cross_entropy,
        torch_f("cross_entropy"),
        [rand(3, 4), probs],
        [True, True],
        ignore_index=ignore_index,
    )


# ---- binary cross-entropy ------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_torch(reduction, weighted):
    p = 1 / (1 + np.exp(-rand(4, 3)))
    p[0, 0], p[1, 1] = 0.0, 1.0  # the logs are clamped at -100, as in PyTorch
    t = (rand(4, 3, seed=2) > 0).astype(np.float32)
    t[2] = 0.3  # soft labels
    w = np.abs(rand(3, seed=3)) if weighted else None
    compare(
        F.binary_cross_entropy,
        torch_f("binary_cross_entropy"),
        [p, t],
        [False, True],
        weight=w,
        reduction=reduction,
    )
    p[0, 0], p[1, 1] = 0.1, 0.9  # input gradient away from the clamp
    compare(
        F.binary_cross_entropy,
        torch_f("binary_cross_entropy"),
        [p, t],
        [True, True],
        weight=w,
        reduction=reduction,
    )


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "weighted, pos_weighted", [(False, False), (True, False), (False, True), (True, True)]
)
def test_bce_with_logits_matches_torch(reduction, weighted, pos_weighted):
    x = rand(5, 3) * 4
    x[0] = [100.0, -100.0, 0.0]  # large logits stay finite
    t = (rand(5, 3, seed=2) > 0).astype(np.float32)
    t[1] = 0.25
    kwargs = {"reduction": reduction}
    if weighted:
        kwargs["weight"] = np.abs(rand(5, 1, seed=3))
    if pos_weighted:
        kwargs["pos_weight"] = np.abs(rand(3, seed=4)) * 3
    out = compare(
        F.binary_cross_entropy_with_logits,
        torch_f("binary_cross_entropy_with_logits"),
        [x, t],
        [True, True],
        **kwargs,
    )
    assert np.isfinite(out.detach().numpy()).all()


@requires_torch
def test_bce_with_logits_keeps_tiny_gradients_of_large_logits():
    import torch

    x = np.array([-100.0, -30.0, 30.0], dtype=np.float32)
    t = np.array([0.0, 0.0, 1.0], dtype=np.float32)
    e = ember.tensor(x, requires_grad=True)
    F.binary_cross_entropy_with_logits(e, ember.tensor(t), reduction="sum").backward()
    tt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.binary_cross_entropy_with_logits(tt, torch.tensor(t), reduction="sum").backward()
    np.testing.assert_allclose(e.grad.numpy(), tt.grad.numpy(), rtol=1e-5, atol=1e-40)  # ~1e-13, not 0


def test_binary_losses_gradcheck():
    x = ember.tensor(rand(3, 2, dtype=np.float64), requires_grad=True)
    t = ember.tensor(np.random.default_rng(5).uniform(0.1, 0.9, (3, 2)), requires_grad=True)
    w, pw = ember.tensor([[0.5], [1.0], [2.0]]).double(), ember.tensor([3.0, 0.5]).double()
    fn = lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, pos_weight=pw)  # noqa: E731
    assert gradcheck(fn, (x, t))
    assert gradgradcheck(fn, (x, t))
    p = ember.tensor(np.random.default_rng(6).uniform(0.1, 0.9, (3, 2)), requires_grad=True)
    fn = lambda a, b: F.binary_cross_entropy(a, b, w, reduction="sum")  # noqa: E731
    assert gradcheck(fn, (p, t))
    assert gradgradcheck(fn, (p, t))


def test_binary_loss_errors():
    with pytest.raises(ValueError, match="Target size"):
        F.binary_cross_entropy_with_logits(ember.randn(3, 1), ember.rand(3))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(ember.rand(3, 1), ember.rand(3))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match=r"\.float\(\)"):
        F.binary_cross_entropy_with_logits(ember.randn(3), ember.tensor([0, 1, 1]))


# ---- loss Modules ----------------------------------------------------------------------------------

MODULES = [
    "L1Loss",
    "MSELoss",
    "SmoothL1Loss",
    "HuberLoss",
    "NLLLoss",
    "CrossEntropyLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "KLDivLoss",
]


@pytest.mark.parametrize("name", MODULES)
def test_loss_module_repr(name):
    assert repr(getattr(nn, name)()) == f"{name}()"


def test_weights_are_buffers():
    w = ember.tensor([1.0, 2.0, 3.0])
    ce = nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1)
    assert ce.weight is w and list(ce.state_dict()) == ["weight"]
    assert list(dict(ce.named_parameters())) == []
    bce = nn.BCEWithLogitsLoss(pos_weight=ember.tensor([2.0]))
    assert list(bce.state_dict()) == ["pos_weight"] and bce.weight is None
    assert nn.NLLLoss().weight is None


def test_loss_modules_call_the_functions():
    x, t = ember.randn(4, 3), ember.tensor([0, 2, 1, 2])
    w = ember.tensor([1.0, 2.0, 3.0])
    ce = nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1, reduction="sum")
    assert (
        ce(x, t).item()
        == F.cross_entropy(x, t, w, ignore_index=1, label_smoothing=0.1, reduction="sum").item()
    )
    assert nn.NLLLoss(reduction="none")(x, t).shape == (4,)
    y = ember.randn(4, 3)
    assert nn.SmoothL1Loss(beta=0.5)(x, y).item() == F.smooth_l1_loss(x, y, beta=0.5).item()
    assert nn.HuberLoss(delta=2.0)(x, y).item() == F.huber_loss(x, y, delta=2.0).item()
    assert nn.MSELoss(reduction="sum")(x, y).item() == F.mse_loss(x, y, reduction="sum").item()
    assert nn.L1Loss()(x, y).item() == F.l1_loss(x, y).item()
    p, b = ember.rand(4, 3), ember.rand(4, 3)
    assert nn.BCELoss()(p, b).item() == F.binary_cross_entropy(p, b).item()
    pw = ember.tensor([1.0, 2.0, 0.5])
    assert (
        nn.BCEWithLogitsLoss(pos_weight=pw)(x, b).item()
        == F.binary_cross_entropy_with_logits(x, b, pos_weight=pw).item()
    )
    logp = F.log_softmax(x, 1)
    assert nn.KLDivLoss(reduction="batchmean")(logp, F.softmax(y, 1)).item() == pytest.approx(
        F.kl_div(logp, F.softmax(y, 1), reduction="batchmean").item()
    )


def test_legacy_module_arguments():
    with pytest.warns(UserWarning):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.CrossEntropyLoss(reduce=False).reduction == "none"


@requires_torch
@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((0,), {}),
        ((0,), {"reduction": "sum"}),
        ((2, 0), {}),
        ((2, 0, 3), {}),
        ((2, 0, 3), {"reduction": "none"}),
        ((2, 0), {"label_smoothing": 0.1}),
        ((0, 3), {}),
    ],
)
def test_cross_entropy_with_probabilities_and_no_classes_as_torch(shape, kwargs):
    """No classes divided by zero (the mean's number of samples) and took the maximum of an
    empty row; PyTorch gives nan for the mean and empty gradients."""
    import torch

    got = []
    for T in (ember, torch):
        x = T.zeros(*shape, requires_grad=True)
        y = T.nn.functional.cross_entropy(x, T.full(shape, 0.5), **kwargs)
        y.sum().backward()
        got.append((tuple(y.shape), str(y.detach().numpy().tolist()), tuple(x.grad.shape)))
    assert got[0] == got[1]
