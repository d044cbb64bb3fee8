"""Every layer of ember.nn against PyTorch: same weights in, same outputs and gradients out."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn


def copy_weights(torch_module, ember_module) -> None:
    state = {k: ember.tensor(v.detach().numpy().copy()) for k, v in torch_module.state_dict().items()}
    ember_module.load_state_dict(state)


def compare(make, inputs, rtol=1e-5, atol=1e-6, train=True):
    """Build the layer in both libraries, copy torch's weights, compare outputs and all gradients."""
    import torch

    theirs, ours = make(torch), make(ember)
    copy_weights(theirs, ours)
    theirs.train(train), ours.train(train)
    t_in = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    e_in = [ember.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    t_out, e_out = theirs(*t_in), ours(*e_in)
    assert_close(e_out, t_out, rtol, atol)
    weights = np.random.default_rng(1).standard_normal(t_out.shape).astype(np.float32)
    (t_out * torch.tensor(weights)).sum().backward()
    (e_out * ember.tensor(weights)).sum().backward()
    for t, e in zip(t_in, e_in):
        if t.requires_grad:
            assert_close(e.grad, t.grad, rtol, atol)
    for (name, tp), (_, ep) in zip(theirs.named_parameters(), ours.named_parameters()):
        assert ep.grad is not None, name
        assert_close(ep.grad, tp.grad, rtol, atol)
    for (_, tb), (_, eb) in zip(theirs.named_buffers(), ours.named_buffers()):
        assert_close(eb, tb, rtol, atol)
    return ours, theirs


def randn(*shape):
    return np.random.randn(*shape).astype(np.float32)


# ---- affine ------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 7), (2, 3, 7), (7,)])
def test_linear_matches_torch(bias, shape):
    compare(lambda lib: lib.nn.Linear(7, 4, bias=bias), [randn(*shape)])


@requires_torch
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_torch(bias):
    compare(lambda lib: lib.nn.Bilinear(3, 5, 4, bias=bias), [randn(6, 3), randn(6, 5)], rtol=1e-4, atol=1e-5)


def test_identity_passes_its_input_through():
    x = ember.randn(3)
    assert nn.Identity(54, unused="anything")(x) is x


def test_layers_pass_gradcheck_in_float64():
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    for layer in (
        nn.Linear(3, 2),
        nn.LayerNorm(3),
        nn.BatchNorm1d(3),
        nn.Sequential(nn.Linear(3, 5), nn.Tanh()),
    ):
        layer.double()
        params = list(layer.parameters())
        assert ember.autograd.gradcheck(lambda x, *p, layer=layer: layer(x), (x, *params))
    x2 = ember.randn(4, 2, dtype=ember.float64, requires_grad=True)
    bilinear = nn.Bilinear(3, 2, 2).double()
    assert ember.autograd.gradcheck(lambda a, b, *p: bilinear(a, b), (x, x2, *bilinear.parameters()))


# ---- activations -------------------------------------------------------------------------

ACTIVATIONS = [
    lambda lib: lib.nn.ReLU(),
    lambda lib: lib.nn.LeakyReLU(0.2),
    lambda lib: lib.nn.ELU(alpha=0.7),
    lambda lib: lib.nn.GELU(),
    lambda lib: lib.nn.GELU(approximate="tanh"),
    lambda lib: lib.nn.SiLU(),
    lambda lib: lib.nn.Tanh(),
    lambda lib: lib.nn.Sigmoid(),
    lambda lib: lib.nn.Softplus(),
    lambda lib: lib.nn.Softplus(beta=2.0, threshold=1.0),
    lambda lib: lib.nn.Hardtanh(-0.5, 0.8),
    lambda lib: lib.nn.Softmax(dim=1),
    lambda lib: lib.nn.Softmax(dim=-1),
    lambda lib: lib.nn.LogSoftmax(dim=1),
    lambda lib: lib.nn.LogSoftmax(dim=0),
]


@requires_torch
@pytest.mark.parametrize("make", ACTIVATIONS)
def test_activation_matches_torch(make):
    x = randn(4, 5, 3) * 3
    compare(make, [x], rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize(
    "make", [lambda lib: lib.nn.ReLU(inplace=True), lambda lib: lib.nn.LeakyReLU(0.1, True)]
)
def test_inplace_activation_overwrites_its_input(make):
    import torch

    x = randn(3, 4)
    theirs, ours = torch.tensor(x), ember.tensor(x)
    make(torch)(theirs), make(ember)(ours)
    assert_close(ours, theirs)


# ---- reshaping, lookup, dropout --------------------------------------------------------------


@requires_torch
def test_flatten_and_unflatten_match_torch():
    compare(lambda lib: lib.nn.Flatten(), [randn(2, 3, 4, 5)])
    compare(lambda lib: lib.nn.Flatten(0, 2), [randn(2, 3, 4, 5)])
    compare(lambda lib: lib.nn.Unflatten(1, (3, 4)), [randn(2, 12, 5)])
    compare(lambda lib: lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Unflatten(1, (4, 3))), [randn(2, 3, 4)])


@requires_torch
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    indices = np.array([[0, 2, 4], [2, 2, 9]], dtype=np.int64)
    ours, _ = compare(lambda lib: lib.nn.Embedding(10, 3, padding_idx=padding_idx), [indices])
    if padding_idx is not None:
        assert np.all(ours.weight.grad.numpy()[padding_idx] == 0)


def test_embedding_padding_row_starts_at_zero_and_from_pretrained_freezes():
    layer = nn.Embedding(6, 4, padding_idx=-2)
    assert layer.padding_idx == 4 and np.all(layer.weight.detach().numpy()[4] == 0)
    assert np.any(layer.weight.detach().numpy()[0] != 0)
    table = ember.randn(3, 2)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and np.array_equal(
        frozen(ember.tensor([1])).numpy(), table[1:2].numpy()
    )
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)


def test_dropout_scales_kept_values_and_zeroes_about_p():
    layer = nn.Dropout(p=0.3)
    x = ember.ones(200, 500)
    y = layer(x).numpy()
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    layer.eval()
    assert layer(x) is x or np.array_equal(layer(x).numpy(), x.numpy())
    assert np.all(nn.Dropout(p=1.0)(x).numpy() == 0)
    assert np.array_equal(nn.Dropout(p=0.0)(x).numpy(), x.numpy())


def test_dropout_gradient_uses_the_same_mask():
    x = ember.ones(50, 40, requires_grad=True)
    y = nn.Dropout(0.5)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_dropout2d_drops_whole_channels():
    x = ember.ones(8, 50, 4, 4)
    y = nn.Dropout2d(0.5)(x).numpy()
    per_channel = y.reshape(8, 50, 16)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.35 < (per_channel[..., 0] == 0).mean() < 0.65
    assert np.array_equal(nn.Dropout2d().eval()(x).numpy(), x.numpy())


# ---- normalisation -----------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.LayerNorm(6),
        lambda lib: lib.nn.LayerNorm([4, 6], eps=1e-3),
        lambda lib: lib.nn.LayerNorm(6, elementwise_affine=False),
        lambda lib: lib.nn.LayerNorm(6, bias=False),
    ],
)
def test_layer_norm_matches_torch(make):
    import torch

    theirs, ours = make(torch), make(ember)
    if theirs.weight is not None:  # non-trivial affine parameters
        with torch.no_grad():
            theirs.weight.copy_(torch.randn(theirs.weight.shape))
            if theirs.bias is not None:
                theirs.bias.copy_(torch.randn(theirs.bias.shape))
    compare(lambda lib: theirs if lib is torch else ours, [randn(3, 4, 6) * 2 + 1], rtol=1e-4, atol=1e-5)


BATCH_NORMS = [
    (lambda lib: lib.nn.BatchNorm1d(4), (8, 4)),
    (lambda lib: lib.nn.BatchNorm1d(4, momentum=0.3), (8, 4, 5)),
    (lambda lib: lib.nn.BatchNorm1d(4, momentum=None), (8, 4)),
    (lambda lib: lib.nn.BatchNorm1d(4, affine=False), (8, 4)),
    (lambda lib: lib.nn.BatchNorm1d(4, track_running_stats=False), (8, 4)),
    (lambda lib: lib.nn.BatchNorm2d(3), (4, 3, 5, 5)),
    (lambda lib: lib.nn.BatchNorm2d(3, eps=1e-3, momentum=None), (4, 3, 2, 2)),
]


@requires_torch
@pytest.mark.parametrize("make, shape", BATCH_NORMS)
def test_batch_norm_training_steps_and_eval_match_torch(make, shape):
    """Three training steps (outputs, gradients, running stats incl. the unbiased variance), then eval."""
    import torch

    theirs, ours = make(torch), make(ember)
    for step in range(3):
        x = randn(*shape) * (step + 1) + step
        compare(lambda lib: theirs if lib is torch else ours, [x], rtol=1e-4, atol=1e-5)
        theirs.zero_grad(), ours.zero_grad()
    if theirs.track_running_stats:
        assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 3
    x = randn(*shape)
    compare(lambda lib: theirs if lib is torch else ours, [x], rtol=1e-4, atol=1e-5, train=False)


def test_batch_norm_running_stats_use_momentum_and_unbiased_variance():
    layer = nn.BatchNorm1d(2, momentum=0.25)
    x = ember.tensor([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])
    layer(x)
    a = x.numpy()
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.25 * a.mean(0), rtol=1e-6)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.75 + 0.25 * a.var(0, ddof=1), rtol=1e-6)
    cumulative = nn.BatchNorm1d(2, momentum=None)
    cumulative(x), cumulative(x * 2)
    np.testing.assert_allclose(cumulative.running_mean.numpy(), (a.mean(0) + 2 * a.mean(0)) / 2, rtol=1e-6)


def test_batch_norm_eval_uses_running_stats_and_checks_dims():
    layer = nn.BatchNorm1d(3).eval()
    x = ember.randn(5, 3)
    np.testing.assert_allclose(layer(x).detach().numpy(), x.numpy() / math.sqrt(1 + 1e-5), rtol=1e-6)
    assert layer.num_batches_tracked.item() == 0 and np.all(layer.running_mean.numpy() == 0)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        layer(ember.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(ember.ones(2, 3))


@pytest.mark.filterwarnings("error")  # no NumPy warnings about empty means either
@pytest.mark.parametrize("shape", [(0, 2), (0, 2, 5)])
def test_batch_norm_of_an_empty_batch_is_empty_and_keeps_the_running_stats(shape):
    layer = nn.BatchNorm1d(2)
    x = ember.ones(*shape, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    assert y.shape == shape and x.grad.shape == shape  # as PyTorch: no error for an empty batch
    assert layer.running_mean.tolist() == [0.0, 0.0] and layer.running_var.tolist() == [1.0, 1.0]
    assert layer.num_batches_tracked.item() == 1 and layer.weight.grad.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(ember.ones(1, 2))  # one value per channel is still refused


def test_batch_norm_reset_and_state():
    layer = nn.BatchNorm2d(2)
    layer(ember.randn(3, 2, 2, 2) * 5 + 1)
    layer.reset_running_stats()
    assert layer.num_batches_tracked.item() == 0 and np.all(layer.running_var.numpy() == 1)
    assert nn.BatchNorm1d(2, affine=False).weight is None
    untracked = nn.BatchNorm1d(2, track_running_stats=False)
    assert untracked.running_mean is None and list(untracked.state_dict()) == ["weight", "bias"]


@requires_torch
def test_batch_norm_loads_a_state_dict_without_num_batches_tracked_like_torch():
    """Older checkpoints lack the counter: PyTorch loads them, keeps the counter, reports nothing."""
    import torch

    def run(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        model[1].num_batches_tracked.fill_(7)
        state = {k: v.clone() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
        state["1.running_mean"] = lib.ones(3)
        result = model.load_state_dict(state)
        lax = lib.nn.BatchNorm1d(3).load_state_dict({}, strict=False)
        return (result.missing_keys, result.unexpected_keys, sorted(state), lax.missing_keys), model[1]

    (ours, e_bn), (theirs, t_bn) = run(ember), run(torch)
    assert ours == theirs
    assert ours[0] == ours[1] == []
    assert "1.num_batches_tracked" not in ours[2]  # the caller's dict is left alone
    assert ours[3] == ["weight", "bias", "running_mean", "running_var"]
    assert e_bn.num_batches_tracked.item() == t_bn.num_batches_tracked.item() == 7
    assert_close(e_bn.running_mean, t_bn.running_mean)


# ---- reprs -------------------------------------------------------------------------------

REPRS = [
    lambda lib: lib.nn.Identity(),
    lambda lib: lib.nn.Linear(20, 10),
    lambda lib: lib.nn.Linear(2, 3, bias=False),
    lambda lib: lib.nn.Bilinear(2, 3, 4),
    lambda lib: lib.nn.ReLU(),
    lambda lib: lib.nn.ReLU(True),
    lambda lib: lib.nn.LeakyReLU(),
    lambda lib: lib.nn.LeakyReLU(0.2, True),
    lambda lib: lib.nn.ELU(alpha=2, inplace=True),
    lambda lib: lib.nn.GELU("tanh"),
    lambda lib: lib.nn.SiLU(),
    lambda lib: lib.nn.Tanh(),
    lambda lib: lib.nn.Sigmoid(),
    lambda lib: lib.nn.Softplus(),
    lambda lib: lib.nn.Softplus(2, 10),
    lambda lib: lib.nn.Softmax(),
    lambda lib: lib.nn.Softmax(dim=1),
    lambda lib: lib.nn.LogSoftmax(1),
    lambda lib: lib.nn.Hardtanh(),
    lambda lib: lib.nn.Hardtanh(-2, 2, True),
    lambda lib: lib.nn.Dropout(),
    lambda lib: lib.nn.Dropout(0.1, inplace=True),
    lambda lib: lib.nn.Dropout2d(0.2),
    lambda lib: lib.nn.Flatten(),
    lambda lib: lib.nn.Unflatten(1, (2, 3)),
    lambda lib: lib.nn.Embedding(10, 3),
    lambda lib: lib.nn.Embedding(10, 3, padding_idx=0, max_norm=1.0),
    lambda lib: lib.nn.LayerNorm(10),
    lambda lib: lib.nn.LayerNorm([3, 4], elementwise_affine=False),
    lambda lib: lib.nn.BatchNorm1d(20),
    lambda lib: lib.nn.BatchNorm2d(3, momentum=None, affine=False, track_running_stats=False),
]


@requires_torch
@pytest.mark.parametrize("make", REPRS)
def test_layer_repr_matches_torch(make):
    import torch

    assert repr(make(ember)) == repr(make(torch))


@requires_torch
@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((), {"min_value": -2.0, "max_value": 3.0}),
        ((-1, 1), {"min_value": -2.0}),
        ((), {"max_value": 0.5, "inplace": True}),
        ((0.0, 2.0, False, -1.0, None), {}),
    ],
)
def test_hardtanh_accepts_the_deprecated_min_value_and_max_value_like_torch(args, kwargs):
    import torch

    with pytest.warns(FutureWarning) as theirs_warned:
        theirs = torch.nn.Hardtanh(*args, **kwargs)
    with pytest.warns(FutureWarning) as ours_warned:
        ours = nn.Hardtanh(*args, **kwargs)
    assert [str(w.message) for w in ours_warned] == [str(w.message) for w in theirs_warned]
    assert ours_warned[0].filename == __file__  # the warning points at the caller
    assert repr(ours) == repr(theirs) and (ours.min_val, ours.max_val) == (theirs.min_val, theirs.max_val)
    x = randn(2, 5) * 3
    assert_close(ours(ember.tensor(x)), theirs(torch.tensor(x)))
    with pytest.raises(AssertionError, match=r"max_val \(1.0\) must be greater than min_val \(3.0\)"):
        with pytest.warns(FutureWarning):
            nn.Hardtanh(min_value=3.0, max_value=1.0)


@requires_torch
@pytest.mark.parametrize(
    "action",
    [
        lambda lib: lib.nn.Dropout(1.5),
        lambda lib: lib.nn.Dropout2d(-0.1),
        lambda lib: lib.nn.Hardtanh(1.0, 0.0),
        lambda lib: lib.nn.Embedding(3, 2, padding_idx=5),
        lambda lib: lib.nn.functional.embedding(lib.tensor([1]), lib.ones(3, 2), padding_idx=-4),
        lambda lib: lib.nn.functional.conv_transpose2d(
            lib.ones(1, 2, 3, 3), lib.ones(2, 2, 1, 1), padding="same"
        ),
        lambda lib: lib.nn.Unflatten(1, [2.0]),
        lambda lib: lib.nn.Linear(3, 2)(lib.ones(2, 4)),
    ],
)
def test_constructor_and_call_errors_match_torch_type(action):
    import torch

    with pytest.raises(Exception) as theirs:
        action(torch)
    with pytest.raises(Exception) as ours:
        action(ember)
    assert type(ours.value) is type(theirs.value)


# ---- training ------------------------------------------------------------------------------


def test_seed_mlp_trains_with_hand_written_sgd():
    """The course's MLP (784-20-10) learns a fixed batch: the loss falls step after step."""
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 20), nn.ReLU(), nn.Linear(20, 10))
    x = ember.randn(64, 784)
    y = ember.randint(0, 10, (64,))
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(20):
        loss = loss_fn(model(x), y)
        model.zero_grad()
        loss.backward()
        with ember.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        losses.append(loss.item())
    assert all(b < a for a, b in zip(losses, losses[1:]))
    assert losses[-1] < 0.5 * losses[0]


@requires_torch
def test_seed_mlp_matches_torch_step_by_step():
    import torch

    theirs = torch.nn.Sequential(torch.nn.Linear(784, 20), torch.nn.ReLU(), torch.nn.Linear(20, 10))
    ours = nn.Sequential(nn.Linear(784, 20), nn.ReLU(), nn.Linear(20, 10))
    copy_weights(theirs, ours)
    x, y = randn(32, 784), np.random.randint(0, 10, 32)
    for _ in range(3):
        t_loss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        e_loss = nn.functional.cross_entropy(ours(ember.tensor(x)), ember.tensor(y))
        assert e_loss.item() == pytest.approx(t_loss.item(), rel=1e-5)
        theirs.zero_grad(), ours.zero_grad()
        t_loss.backward(), e_loss.backward()
        with torch.no_grad(), ember.no_grad():
            for tp, ep in zip(theirs.parameters(), ours.parameters()):
                tp -= 0.5 * tp.grad
                ep -= 0.5 * ep.grad
    for tp, ep in zip(theirs.parameters(), ours.parameters()):
        assert_close(ep, tp, rtol=1e-4, atol=1e-5)
