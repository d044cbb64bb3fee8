"""ember.nn.functional (activations, layers, normalization) against PyTorch: values,
gradients, float64 gradcheck, and the errors users meet."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.nn.functional as F
from conftest import assert_close, requires_torch
from ember.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(0)


def compare_with_torch(ember_fn, torch_fn, arrays, grads=None, rtol=1e-5, atol=1e-6):
    """Run both functions on the same data; compare outputs and the gradients of every
    input marked in `grads` for a random upstream gradient."""
    import torch

    grads = grads if grads is not None else [a.dtype.kind == "f" for a in arrays]
    e_in = [ember.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    t_in = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    e_out, t_out = ember_fn(*e_in), torch_fn(*t_in)
    assert e_out.dtype.name == str(t_out.dtype).replace("torch.", "")
    assert_close(e_out, t_out, rtol, atol)
    if not any(grads):
        return
    up = rng.standard_normal(t_out.shape).astype(arrays[0].dtype)
    e_out.backward(ember.tensor(up))
    t_out.backward(torch.tensor(up))
    for e, t, g in zip(e_in, t_in, grads):
        if g:
            assert_close(e.grad, t.grad, rtol, atol)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# ---- activations --------------------------------------------------------------------------------

# name, ember call, torch call (same keyword arguments)
ACTIVATIONS = [
    ("relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("elu", {"alpha": 1.5}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("silu", {}),
    ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 3.0}),
    ("hardtanh", {"min_val": -0.5, "max_val": 0.7}),
    ("relu6", {}),
    ("sigmoid", {}),
    ("tanh", {}),
    ("logsigmoid", {}),
    ("softmax", {"dim": 1}),
    ("log_softmax", {"dim": 0}),
    ("softmin", {"dim": -1}),
]


def _activation_input():
    # spread over the kinks and the tails; exact zeros and the hardtanh bounds included
    x = np.concatenate([randn(30) * 3, [0.0, -0.5, 0.7, 6.0, 30.0, -30.0]]).astype(np.float32)
    return x.reshape(6, 6)


@requires_torch
@pytest.mark.parametrize("name, kwargs", ACTIVATIONS, ids=[f"{n}-{k}" for n, k in ACTIVATIONS])
def test_activation_matches_torch(name, kwargs):
    import torch

    compare_with_torch(
        lambda x: getattr(F, name)(x, **kwargs),
        lambda x: getattr(torch.nn.functional, name)(x, **kwargs),
        [_activation_input()],
    )


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS, ids=[f"{n}-{k}" for n, k in ACTIVATIONS])
def test_activation_gradcheck(name, kwargs):
    x = rng.uniform(-3, 3, (3, 4))
    x = np.where(np.abs(x) < 0.05, 0.3, x)  # finite differences across a kink are meaningless
    for bound in (-0.5, 0.7):
        x = np.where(np.abs(x - bound) < 0.05, bound + 0.2, x)
    t = ember.tensor(x, requires_grad=True)
    assert gradcheck(lambda a: getattr(F, name)(a, **kwargs), (t,))


@pytest.mark.parametrize(
    "name, kwargs", [a for a in ACTIVATIONS if a[0] in ("elu", "gelu", "silu", "softplus")]
)
def test_activation_second_derivative(name, kwargs):
    t = ember.tensor(rng.uniform(-3, 3, (2, 3)), requires_grad=True)
    assert gradgradcheck(lambda a: getattr(F, name)(a, **kwargs), (t,))


@requires_torch
def test_gelu_float64_matches_torch_to_double_precision():
    import torch

    x = np.concatenate([np.linspace(-8, 8, 401), [-1e-8, 0.0, 1e-8, 40.0, -40.0]])
    compare_with_torch(F.gelu, torch.nn.functional.gelu, [x], rtol=1e-13, atol=1e-15)


def test_erf_matches_math_erf():
    from ember.ops.activations import erf

    x = np.concatenate([np.linspace(-7, 7, 2001), [0.0, -0.0, 1e-300, np.inf, -np.inf]])
    np.testing.assert_allclose(erf(x), [math.erf(v) for v in x], rtol=0, atol=2e-15)
    assert erf(x.astype(np.float32)).dtype == np.float32
    assert np.isnan(erf(np.array([np.nan])))[0]


@requires_torch
def test_activations_stay_finite_for_large_inputs():
    import torch

    x = np.array([-1e4, -100.0, 100.0, 1e4], dtype=np.float32)
    for name in ("elu", "gelu", "silu", "softplus", "logsigmoid", "sigmoid"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow warnings from NumPy either
            compare_with_torch(getattr(F, name), getattr(torch.nn.functional, name), [x])


def test_relu_inplace():
    x = ember.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]
    leaf = ember.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.relu(leaf, inplace=True)
    y = leaf * 2
    out = F.leaky_relu(y, 0.5, inplace=True)
    assert out is y
    y.sum().backward()
    assert leaf.grad.tolist() == [1.0, 2.0]


def test_softmax_without_dim_warns_and_picks_torch_dim():
    x = ember.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.sum(1).numpy(), 1.0, rtol=1e-6)


def test_activation_of_integer_tensor_is_rejected():
    with pytest.raises(RuntimeError, match="gelu"):
        F.gelu(ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(ember.randn(2), approximate="fast")


# ---- linear and bilinear ------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("x_shape", [(5, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(x_shape, bias):
    import torch

    arrays = [randn(*x_shape), randn(3, 4)] + ([randn(3)] if bias else [])
    compare_with_torch(F.linear, torch.nn.functional.linear, arrays)


def test_linear_is_one_node_and_gradchecks():
    x, w, b = (ember.tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 3, 4), (5, 4), (5,)))
    y = F.linear(x, w, b)
    assert y.grad_fn.name() == "LinearBackward0"
    assert gradcheck(F.linear, (x, w, b))
    assert gradgradcheck(F.linear, (x, w, b))


def test_linear_only_computes_needed_gradients():
    x = ember.randn(4, 3)
    w = ember.randn(2, 3, requires_grad=True)
    F.linear(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (2, 3)


def test_linear_errors_name_the_shapes():
    with pytest.raises(RuntimeError, match=r"64x784 and 100x10"):
        F.linear(ember.randn(64, 784), ember.randn(10, 100))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(ember.randn(2, 3).double(), ember.randn(4, 3))
    with pytest.raises(RuntimeError, match="bias"):
        F.linear(ember.randn(2, 3), ember.randn(4, 3), ember.randn(5))


@requires_torch
def test_bilinear_matches_torch():
    import torch

    arrays = [randn(2, 3, 4), randn(2, 3, 5), randn(6, 4, 5), randn(6)]
    compare_with_torch(F.bilinear, torch.nn.functional.bilinear, arrays, rtol=1e-4, atol=1e-5)


@settings(max_examples=15, deadline=None)
@given(
    lead=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    n_in=st.integers(1, 4),
    n_out=st.integers(1, 4),
)
def test_linear_gradients_for_any_shape(lead, n_in, n_out):
    x = ember.tensor(rng.standard_normal((*lead, n_in)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((n_out, n_in)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(n_out), requires_grad=True)
    assert gradcheck(F.linear, (x, w, b))


# ---- dropout --------------------------------------------------------------------------------------


def test_dropout_statistics():
    ember.manual_seed(1)
    x = ember.ones(200, 500)
    y = F.dropout(x, p=0.3)
    zero = (y.numpy() == 0).mean()
    assert abs(zero - 0.3) < 0.01
    np.testing.assert_allclose(np.unique(y.numpy()), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(y.numpy().mean() - 1.0) < 0.02  # the scale keeps the expectation
    assert y.dtype == ember.float32


def test_dropout_gradient_is_the_mask():
    x = ember.randn(50, 40, requires_grad=True)
    y = F.dropout(x, p=0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (y.detach().numpy() != 0) * 2.0)


def test_dropout_edge_cases():
    x = ember.randn(10, 10)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)
    y = x.clone()
    assert F.dropout(y, 0.5, inplace=True) is y


def test_dropout_is_reproducible_with_manual_seed():
    ember.manual_seed(3)
    a = F.dropout(ember.ones(100))
    ember.manual_seed(3)
    b = F.dropout(ember.ones(100))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_dropout2d_zeroes_whole_channels():
    y = F.dropout2d(ember.ones(8, 16, 3, 3), p=0.5).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1)).all()
    assert 0 < (per_channel == 0).all(-1).mean() < 1


# ---- one_hot and embedding -----------------------------------------------------------------------


@requires_torch
def test_one_hot_matches_torch():
    import torch

    idx = np.array([[0, 3], [2, 1]])
    for n in (-1, 6):
        e, t = F.one_hot(ember.tensor(idx), n), torch.nn.functional.one_hot(torch.tensor(idx), n)
        assert e.dtype == ember.int64
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(ember.tensor([0, 5]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(ember.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match="index tensor"):
        F.one_hot(ember.tensor([0.0, 1.0]))


@requires_torch
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_embedding_matches_torch(padding_idx, scale_grad_by_freq):
    import torch

    idx = np.array([[1, 2, 1], [4, 2, 1]])  # repeated indices accumulate
    compare_with_torch(
        lambda i, w: F.embedding(i, w, padding_idx, scale_grad_by_freq=scale_grad_by_freq),
        lambda i, w: torch.nn.functional.embedding(i, w, padding_idx, scale_grad_by_freq=scale_grad_by_freq),
        [idx, randn(5, 3)],
        grads=[False, True],
    )


@requires_torch
def test_embedding_max_norm_renormalizes_rows_like_torch():
    import torch

    w = randn(5, 3) * 3
    e_w, t_w = ember.tensor(w), torch.tensor(w)
    F.embedding(ember.tensor([0, 2, 2]), e_w, max_norm=1.0)
    torch.nn.functional.embedding(torch.tensor([0, 2, 2]), t_w, max_norm=1.0)
    assert_close(e_w, t_w)


def test_embedding_errors():
    w = ember.randn(5, 3)
    with pytest.raises(IndexError, match="index 7 is out of range for 5 embeddings"):
        F.embedding(ember.tensor([1, 7]), w)
    with pytest.raises(RuntimeError, match="Long, Int"):
        F.embedding(ember.tensor([1.0]), w)


def test_embedding_gradcheck():
    w = ember.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    assert gradcheck(lambda w: F.embedding(ember.tensor([[0, 3], [3, 3]]), w), (w,))
    # the padding row is deliberately left out of the gradient (as in PyTorch)
    F.embedding(ember.tensor([[0, 3], [3, 3]]), w, padding_idx=0).sum().backward()
    assert w.grad.numpy()[0].tolist() == [0.0, 0.0] and w.grad.numpy()[3].tolist() == [3.0, 3.0]


# ---- normalization -------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("shape, normalized", [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5)), ((7,), 7)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(shape, normalized, affine):
    import torch

    wshape = (normalized,) if isinstance(normalized, int) else normalized
    arrays = [randn(*shape) * 3 + 1] + ([randn(*wshape), randn(*wshape)] if affine else [])
    compare_with_torch(
        lambda x, *wb: F.layer_norm(x, wshape, *wb, eps=1e-5),  # a sequence, as torch's F.layer_norm takes
        lambda x, *wb: torch.nn.functional.layer_norm(x, wshape, *wb, eps=1e-5),
        arrays,
        rtol=1e-4,
        atol=1e-5,
    )


def test_layer_norm_stable_for_large_offsets():
    # a one-pass E[x^2] - E[x]^2 loses every digit here: x^2 ~ 1e8 has a float32 spacing of 8
    x = (np.random.default_rng(5).standard_normal((4, 8)) + 1e4).astype(np.float32)
    x64 = x.astype(np.float64)
    exact = (x64 - x64.mean(1, keepdims=True)) / np.sqrt(x64.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(F.layer_norm(ember.tensor(x), (8,)).numpy(), exact, atol=1e-2)


def test_layer_norm_gradcheck_and_second_order():
    args = [ember.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 4), (4,), (4,))]
    fn = lambda x, w, b: F.layer_norm(x, (4,), w, b)  # noqa: E731
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


def test_layer_norm_shape_error():
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 10\]"):
        F.layer_norm(ember.randn(3, 5), (10,))


@requires_torch
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 4)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(shape, training):
    import torch

    stats = [np.abs(randn(3)) + 0.5, randn(3)]
    e_stats = [ember.tensor(stats[1]), ember.tensor(stats[0])]
    t_stats = [torch.tensor(stats[1]), torch.tensor(stats[0])]
    compare_with_torch(
        lambda x, w, b: F.batch_norm(x, *e_stats, w, b, training=training, momentum=0.2),
        lambda x, w, b: torch.nn.functional.batch_norm(x, *t_stats, w, b, training=training, momentum=0.2),
        [randn(*shape) * 2 + 1, randn(3), randn(3)],
        rtol=1e-4,
        atol=1e-5,
    )
    for e, t in zip(e_stats, t_stats):  # running statistics updated in place the same way
        assert_close(e, t)


def test_batch_norm_gradcheck_and_second_order():
    for training in (True, False):
        stats = (ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64))
        args = [ember.tensor(rng.standard_normal(s), requires_grad=True) for s in ((4, 3, 2), (3,), (3,))]

        def fn(x, w, b, training=training, stats=stats):
            return (
                F.batch_norm(x, None, None, w, b, training=True)
                if training
                else F.batch_norm(x, *stats, w, b)
            )

        assert gradcheck(fn, args)
        assert gradgradcheck(fn, args)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(ember.randn(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="3 channels"):
        F.batch_norm(ember.randn(4, 3), ember.zeros(4), ember.ones(4))


@requires_torch
def test_distances_match_torch():
    import torch

    tf = torch.nn.functional
    a, b = randn(4, 5), randn(4, 5)
    compare_with_torch(F.normalize, tf.normalize, [a])
    compare_with_torch(lambda x: F.normalize(x, p=1, dim=0), lambda x: tf.normalize(x, p=1, dim=0), [a])
    compare_with_torch(F.cosine_similarity, tf.cosine_similarity, [a, b])
    compare_with_torch(F.pairwise_distance, tf.pairwise_distance, [a, b])
    compare_with_torch(
        lambda x, y: F.pairwise_distance(x, y, p=1, keepdim=True),
        lambda x, y: tf.pairwise_distance(x, y, p=1, keepdim=True),
        [a, b],
    )


def test_pad_is_the_core_pad():
    assert F.pad(ember.ones(2, 2), (1, 1)).shape == (2, 4)


PADS = [(1, 2), (-1, 2), (-3, 3), (-3, 1), (-2, -1), (0, 0, -1, 0), (-1, -1, 1, 0), (1, -1, 0, 0, -1, 1)]


@requires_torch
@pytest.mark.parametrize("widths", PADS)
@pytest.mark.parametrize("value", [None, 2.5])
def test_pad_with_negative_widths_crops_like_torch(widths, value):
    import torch

    compare_with_torch(
        lambda x: F.pad(x, widths, value=value),
        lambda x: torch.nn.functional.pad(x, widths, value=value),
        [randn(2, 3, 3)],
    )


def test_pad_crops_into_a_copy_with_a_gradient():
    x = ember.tensor(randn(3, 4).astype(np.float64), requires_grad=True)
    assert gradcheck(lambda a: F.pad(a, (-1, 2, 1, -2), value=0.5), (x,))
    y = F.pad(x.detach(), (-1, 0))
    y[0, 0] = 100.0  # the result is new memory, as in PyTorch, not a view of the input
    assert (x.detach().numpy() != 100.0).all()


@requires_torch
@pytest.mark.parametrize("widths", [(-4, 1), (2, -4), (-2, -2), (0, 0, -3, 0)])
def test_pad_cropping_more_than_a_dimension_raises_like_torch(widths):
    import torch

    with pytest.raises(RuntimeError):
        torch.nn.functional.pad(torch.zeros(2, 3), widths)
    with pytest.raises(RuntimeError, match=r"pad: the negative padding .* crops more than its \d elements"):
        F.pad(ember.zeros(2, 3), widths)
