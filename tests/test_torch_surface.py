"""The rest of torch's public surface, checked against PyTorch: the functions torch exposes
under their ATen names (torch.embedding, torch.convolution, torch.native_layer_norm, ...), the
*_copy forms of the view ops, and the Tensor methods and dtypes added with them."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from tests.conftest import outcome, requires_torch

import ember
from ember.autograd import gradcheck, gradgradcheck

pytestmark = requires_torch


def _pair(values, requires_grad=True, dtype=np.float64):
    import torch

    a = np.asarray(values, dtype=dtype)
    return ember.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def _close(e, t, atol=1e-6):
    if isinstance(t, (tuple, list)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            _close(a, b, atol)
        return
    te = t.detach().numpy()
    assert tuple(e.shape) == tuple(te.shape), (e.shape, te.shape)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(e.detach().numpy(), te, atol=atol, rtol=1e-6)


def _same_grads(fn_e, fn_t, inputs):
    """Run fn on both frameworks' copies of inputs, compare values and the gradients of a
    weighted sum of the first output."""
    import torch

    pairs = [_pair(x) for x in inputs]
    out_e, out_t = fn_e(*(p[0] for p in pairs)), fn_t(*(p[1] for p in pairs))
    _close(out_e, out_t)
    first_e = out_e[0] if isinstance(out_e, tuple) else out_e
    first_t = out_t[0] if isinstance(out_t, tuple) else out_t
    w = np.random.default_rng(1).standard_normal(tuple(first_t.shape))
    (first_e * ember.tensor(w)).sum().backward()
    (first_t * torch.tensor(w)).sum().backward()
    for e, t in pairs:
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=1e-6)


# ---- the *_copy functions ------------------------------------------------------------------

_COPIES = [
    ("alias_copy", (2, 3), ()),
    ("as_strided_copy", (2, 3), ([2, 2], [1, 2], 1)),
    ("diagonal_copy", (3, 4), (1,)),
    ("expand_copy", (1, 3), ([4, 3],)),
    ("permute_copy", (2, 3, 4), ([2, 0, 1],)),
    ("select_copy", (2, 3), (1, -1)),
    ("slice_copy", (4, 3), (0, 1, None, 2)),
    ("split_copy", (5, 2), (2,)),
    ("split_with_sizes_copy", (2, 5), ([1, 4], 1)),
    ("squeeze_copy", (2, 1, 3), ()),
    ("squeeze_copy", (2, 1, 3), (1,)),
    ("t_copy", (2, 3), ()),
    ("transpose_copy", (2, 3, 4), (0, 2)),
    ("unbind_copy", (3, 2), (1,)),
    ("unfold_copy", (2, 7), (1, 3, 2)),
    ("unsqueeze_copy", (2, 3), (-1,)),
    ("view_copy", (2, 6), ([3, 4],)),
]


@pytest.mark.parametrize("name, shape, args", _COPIES, ids=[c[0] + str(i) for i, c in enumerate(_COPIES)])
def test_copy_functions_match_torch(name, shape, args):
    import torch

    x = np.random.default_rng(0).standard_normal(shape)
    _same_grads(
        lambda a: getattr(ember, name)(a, *args),
        lambda a: getattr(torch, name)(a, *args),
        [x],
    )
    e = ember.tensor(x)
    out = getattr(ember, name)(e, *args)
    for o in out if isinstance(out, tuple) else (out,):  # new, contiguous memory
        assert o.is_contiguous() and not np.shares_memory(o.numpy(), e.numpy())


def test_copy_functions_errors_out_and_gradcheck():
    import torch

    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a: ember.transpose_copy(a, 0, 1), (x,))
    assert gradgradcheck(lambda a: ember.diagonal_copy(a) ** 2, (x,))
    with pytest.raises(RuntimeError, match="slice step must be positive"):
        ember.slice_copy(x, 0, 0, 2, 0)
    with pytest.raises(RuntimeError, match="slice step must be positive"):
        torch.slice_copy(torch.ones(3), 0, 0, 2, 0)
    out = ember.empty(4, 3)
    assert ember.t_copy(ember.ones(3, 4), out=out) is out and out.sum().item() == 12
    # detach_copy: outside the graph (torch marks it requires_grad, then cannot differentiate it)
    assert not ember.detach_copy(x).requires_grad
    assert (
        ember.view_copy(ember.ones(2), ember.int32).tolist()
        == torch.view_copy(torch.ones(2), torch.int32).tolist()
    )


# ---- the functions torch has under their ATen names ---------------------------------------


def test_embedding_and_renorm():
    import torch

    w = np.random.default_rng(0).standard_normal((6, 3))
    idx = [[1, 2], [5, 1]]
    _same_grads(
        lambda a: ember.embedding(a, ember.tensor(idx), 1),
        lambda a: torch.embedding(a, torch.tensor(idx), 1),
        [w],
    )
    we, wt = ember.tensor(w), torch.tensor(w)
    assert ember.embedding_renorm_(we, ember.tensor([1, 1, 3]), 1.0, 2.0) is we
    torch.embedding_renorm_(wt, torch.tensor([1, 1, 3]), 1.0, 2.0)
    _close(we, wt)


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("offsets", [[0, 4], [0, 0, 4]])
def test_embedding_bag_matches_torch(mode, offsets):
    import torch

    w = np.random.default_rng(0).standard_normal((10, 3))
    idx = [1, 2, 4, 5, 4, 3, 2, 9]
    out_e = ember.embedding_bag(ember.tensor(w), ember.tensor(idx), ember.tensor(offsets), False, mode)
    out_t = torch.embedding_bag(torch.tensor(w), torch.tensor(idx), torch.tensor(offsets), False, mode)
    _close(out_e, out_t)
    _same_grads(
        lambda a: ember.embedding_bag(a, ember.tensor(idx), ember.tensor(offsets), False, mode)[0],
        lambda a: torch.embedding_bag(a, torch.tensor(idx), torch.tensor(offsets), False, mode)[0],
        [w],
    )


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_losses_with_integer_reduction(reduction):
    import torch

    rng = np.random.default_rng(0)
    x, p = rng.standard_normal((3, 4)), rng.random((3, 4))
    _same_grads(
        lambda a, b: ember.kl_div(a, b, reduction, log_target=False),
        lambda a, b: torch.kl_div(a, b, reduction, log_target=False),
        [x, p],
    )
    pw = rng.random(4) + 0.5  # torch does not differentiate pos_weight
    _same_grads(
        lambda a, b: ember.binary_cross_entropy_with_logits(a, b, None, ember.tensor(pw), reduction),
        lambda a, b: torch.binary_cross_entropy_with_logits(a, b, None, torch.tensor(pw), reduction),
        [x, p],
    )
    lp = rng.standard_normal((5, 2, 4))
    targets, lengths = [[1, 2], [1, 1]], ([5, 4], [2, 2])
    _same_grads(
        lambda a: ember.ctc_loss(a.log_softmax(2), ember.tensor(targets), *lengths, 0, reduction),
        lambda a: torch.ctc_loss(a.log_softmax(2), torch.tensor(targets), *lengths, 0, reduction),
        [lp],
    )
    with pytest.raises(TypeError, match="must be int"):
        ember.kl_div(ember.tensor(x), ember.tensor(p), "mean")


def test_top_level_losses_reduce_nothing_by_default_as_torch():
    """ATen's schemas give these a Mean default, but PyTorch 2.13's Python functions reduce
    nothing unless told: ember averaged, a silently different result."""
    import torch

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(5), rng.random(5)
    t = np.array([1.0, -1, 1, 1, -1])
    lp = rng.standard_normal((6, 2, 4))
    calls = [
        lambda T, a: T.kl_div(a, T.tensor(y)),
        lambda T, a: T.binary_cross_entropy_with_logits(a, T.tensor(y)),
        lambda T, a: T.hinge_embedding_loss(a, T.tensor(t)),
        lambda T, a: T.margin_ranking_loss(a, T.tensor(y), T.tensor(t)),
        lambda T, a: T.cosine_embedding_loss(a.view(5, 1), T.tensor(y).view(5, 1), T.tensor(t)),
        lambda T, a: T.triplet_margin_loss(a.view(5, 1), T.tensor(y).view(5, 1), T.tensor(t).view(5, 1)),
        lambda T, a: T.ctc_loss(
            T.tensor(lp).log_softmax(2) + a.sum(), T.tensor([[1, 2], [1, 1]]), [6, 4], [2, 2]
        ),
    ]
    for call in calls:
        _same_grads(lambda a, call=call: call(ember, a), lambda a, call=call: call(torch, a), [x])
        assert call(ember, ember.tensor(x)).shape == call(torch, torch.tensor(x)).shape != ()


def test_constant_pad_nd_and_channel_shuffle():
    import torch
    import torch.nn.functional as TF

    import ember.nn.functional as F

    x = np.random.default_rng(0).standard_normal((2, 6, 3))
    _same_grads(
        lambda a: ember.constant_pad_nd(a, [1, -1, 2, 0], 2.5),
        lambda a: torch.constant_pad_nd(a, [1, -1, 2, 0], 2.5),
        [x],
    )
    # torch has no derivative for native_channel_shuffle; ember's is channel_shuffle's
    _close(F.native_channel_shuffle(ember.tensor(x), 3), TF.native_channel_shuffle(torch.tensor(x), 3))
    assert gradcheck(lambda a: ember.native_channel_shuffle(a, 2), (ember.tensor(x, requires_grad=True),))


@pytest.mark.parametrize(
    "xs, ws, stride, padding, dilation, transposed, output_padding, groups",
    [
        ((1, 2, 7), (4, 2, 3), [1], [1], [1], False, [0], 1),
        ((2, 4, 5, 6), (4, 2, 3, 2), [2, 1], [1, 0], [1, 2], False, [0, 0], 2),
        ((1, 2, 5), (2, 4, 3), [2], [1], [1], True, [1], 1),
        ((1, 2, 3, 3), (2, 3, 2, 2), [2], [0], [1], True, [1], 1),
        ((1, 2, 3, 3, 3), (3, 2, 2, 2, 2), [1], [0], [1], False, [0], 1),
    ],
)
def test_convolution_matches_torch(xs, ws, stride, padding, dilation, transposed, output_padding, groups):
    import torch

    rng = np.random.default_rng(0)
    bias_size = ws[1] * groups if transposed else ws[0]
    args = (stride, padding, dilation, transposed, output_padding, groups)
    _same_grads(
        lambda x, w, b: ember.convolution(x, w, b, *args),
        lambda x, w, b: torch.convolution(x, w, b, *args),
        [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(bias_size)],
    )


def test_convolution_and_conv_tbc_errors():
    import torch
    import torch.nn.functional as TF

    import ember.nn.functional as F

    x, w = ember.randn(1, 2, 5), ember.randn(4, 2, 3)
    with pytest.raises(TypeError, match="must be tuple of ints"):
        ember.convolution(x, w, None, 1, [1], [1], False, [0], 1)
    with pytest.raises(RuntimeError, match="output_padding to be a single integer value or a list of 1"):
        ember.convolution(x, w, None, [1], [1], [1], False, [], 1)
    rng = np.random.default_rng(0)
    _same_grads(
        lambda a, b, c: F.conv_tbc(a, b, c, 1),
        lambda a, b, c: TF.conv_tbc(a, b, c, 1),
        [rng.standard_normal((5, 2, 3)), rng.standard_normal((3, 3, 4)), rng.standard_normal(4)],
    )
    with pytest.raises(TypeError, match="'bias'"):
        ember.conv_tbc(ember.randn(5, 2, 3), ember.randn(3, 3, 4), None)
    with pytest.raises(TypeError, match="'bias'"):
        torch.conv_tbc(torch.randn(5, 2, 3), torch.randn(3, 3, 4), None)


def test_native_normalizations_return_their_statistics():
    import torch

    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal(4), rng.standard_normal(4)
    _same_grads(
        lambda a, c, d: ember.native_layer_norm(a, [4], c, d, 1e-5),
        lambda a, c, d: torch.native_layer_norm(a, [4], c, d, 1e-5),
        [x, w, b],
    )
    w3, b3 = rng.standard_normal(3), rng.standard_normal(3)
    for training in (True, False):
        re_, rt = ember.zeros(3, dtype=ember.float64), torch.zeros(3, dtype=torch.float64)
        ve, vt = ember.ones(3, dtype=ember.float64), torch.ones(3, dtype=torch.float64)
        args_e, args_t = (re_, ve, training, 0.1, 1e-5), (rt, vt, training, 0.1, 1e-5)
        _same_grads(
            lambda a, c, d, args=args_e: ember.native_batch_norm(a, c, d, *args),
            lambda a, c, d, args=args_t: torch.native_batch_norm(a, c, d, *args),
            [x, w3, b3],
        )
        _close(re_, rt)
        _close(ve, vt)
    x6 = rng.standard_normal((2, 6, 5))
    w6, b6 = rng.standard_normal(6), rng.standard_normal(6)
    _same_grads(
        lambda a, c, d: ember.native_group_norm(a, c, d, 2, 6, 5, 3, 1e-5),
        lambda a, c, d: torch.native_group_norm(a, c, d, 2, 6, 5, 3, 1e-5),
        [x6, w6, b6],
    )
    with pytest.raises(RuntimeError, match="do not describe input"):
        ember.native_group_norm(ember.tensor(x6), None, None, 2, 6, 4, 3, 1e-5)


def test_native_dropout_and_norm_except_dim():
    import torch

    x = ember.ones(1000)
    out, keep = ember.native_dropout(x, 0.25, True)
    assert keep.dtype == ember.bool and 650 < keep.sum().item() < 850
    np.testing.assert_allclose(out.numpy(), np.where(keep.numpy(), 4 / 3, 0), rtol=1e-6)
    out, keep = ember.native_dropout(x, 0.25, False)
    assert keep.all().item() and out.equal(x)
    v = np.random.default_rng(0).standard_normal((2, 3, 4))
    for p, dim in [(2, 0), (2, 1), (3, 2), (2, -1)]:
        _same_grads(
            lambda a, p=p, dim=dim: ember.norm_except_dim(a, p, dim),
            lambda a, p=p, dim=dim: torch.norm_except_dim(a, p, dim),
            [v],
        )


@pytest.mark.parametrize("interpolation, padding", [(0, 0), (1, 1), (2, 2)])
def test_grid_sampler_and_affine_grid_generator(interpolation, padding):
    import torch

    rng = np.random.default_rng(0)
    theta = rng.standard_normal((2, 2, 3)) * 0.6
    x = rng.standard_normal((2, 3, 4, 5))

    def run(T, a, th):
        grid = T.affine_grid_generator(th, [2, 3, 3, 4], False)
        return T.grid_sampler_2d(a, grid, interpolation, padding, False)

    _same_grads(lambda a, th: run(ember, a, th), lambda a, th: run(torch, a, th), [x, theta])
    with pytest.raises(RuntimeError, match="expected 5-D input"):
        ember.grid_sampler_3d(ember.tensor(x), ember.zeros(2, 3, 4, 2, dtype=ember.float64), 0, 0, False)


# ---- the recurrent functional forms --------------------------------------------------------


def _flat_weights(torch_module):
    return [p.detach().double().numpy() for p in torch_module._flat_weights]


@pytest.mark.parametrize(
    "name, layer, kwargs, batch_first",
    [
        ("rnn_tanh", "RNN", {"num_layers": 2}, False),
        ("rnn_relu", "RNN", {"nonlinearity": "relu", "bidirectional": True}, True),
        ("gru", "GRU", {"bias": False, "num_layers": 2, "bidirectional": True}, False),
        ("lstm", "LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 2}, True),
        ("lstm", "LSTM", {}, False),
    ],
)
def test_recurrent_functions_match_torch(name, layer, kwargs, batch_first):
    import torch

    module = getattr(torch.nn, layer)(3, 4, **kwargs)
    layers = module.num_layers * (2 if module.bidirectional else 1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    h_size = module.proj_size or 4
    states = [rng.standard_normal((layers, 2, h_size))]
    if name == "lstm":
        states.append(rng.standard_normal((layers, 2, 4)))
    weights = _flat_weights(module)
    opts = (bool(module.bias), module.num_layers, 0.0, True, module.bidirectional, batch_first)

    def call(T, x, *rest):
        hs, params = list(rest[: len(states)]), list(rest[len(states) :])
        return getattr(T, name)(x, hs if name == "lstm" else hs[0], params, *opts)

    _same_grads(lambda *a: call(ember, *a), lambda *a: call(torch, *a), [x, *states, *weights])


def test_recurrent_functions_packed_unbatched_and_errors():
    import torch

    module = torch.nn.GRU(3, 4)
    rng = np.random.default_rng(0)
    weights = _flat_weights(module)
    data, sizes, h = rng.standard_normal((6, 3)), [3, 2, 1], rng.standard_normal((1, 3, 4))
    _same_grads(
        lambda d, hx, *p: ember.gru(d, ember.tensor(sizes), hx, list(p), True, 1, 0.0, False, False),
        lambda d, hx, *p: torch.gru(d, torch.tensor(sizes), hx, list(p), True, 1, 0.0, False, False),
        [data, h, *weights],
    )
    x, h1 = rng.standard_normal((5, 3)), rng.standard_normal((1, 4))  # unbatched
    _same_grads(
        lambda a, hx, *p: ember.rnn_tanh(a, hx, list(p), True, 1, 0.0, False, False, False),
        lambda a, hx, *p: torch.rnn_tanh(a, hx, list(p), True, 1, 0.0, False, False, False),
        [x, h1, *_flat_weights(torch.nn.RNN(3, 4))],
    )
    params = [ember.tensor(w) for w in _flat_weights(torch.nn.GRU(3, 4, num_layers=2))]
    for T, ps in ((ember, params), (torch, [torch.tensor(p.numpy()) for p in params])):
        x3 = T.zeros(5, 2, 3, dtype=T.float64)
        with pytest.raises(RuntimeError, match="Expected more hidden states"):
            T.gru(x3, T.zeros(1, 2, 4, dtype=T.float64), ps, True, 2, 0.0, False, False, False)
    params = params[:4]
    with pytest.raises(RuntimeError, match="lstm expects two hidden states"):
        ember.lstm(ember.randn(5, 2, 3), [ember.zeros(1, 2, 4)], params, True, 1, 0.0, False, False, False)


@pytest.mark.parametrize(
    "name, gates", [("rnn_tanh_cell", 1), ("rnn_relu_cell", 1), ("gru_cell", 3), ("lstm_cell", 4)]
)
def test_recurrent_cells_match_torch(name, gates):
    import torch

    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    w_ih, w_hh, b_ih, b_hh = (
        rng.standard_normal(s) for s in [(gates * 4, 3), (gates * 4, 4), gates * 4, gates * 4]
    )

    def call(T, x, *rest):
        states, w = (rest[:2], rest[2:]) if name == "lstm_cell" else (rest[0], rest[1:])
        return getattr(T, name)(x, states, *w)

    states = [h, c] if name == "lstm_cell" else [h]
    _same_grads(lambda *a: call(ember, *a), lambda *a: call(torch, *a), [x, *states, w_ih, w_hh, b_ih, b_hh])
    bad = [ember.zeros(3, 4)] * len(states)
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        call(ember, ember.tensor(x), *bad, ember.tensor(w_ih), ember.tensor(w_hh))


# ---- cond and while_loop, run eagerly -------------------------------------------------------


def test_cond_runs_the_chosen_branch_with_gradients():
    import torch

    a = np.array([0.3, -1.2, 2.0])
    for pred in (True, False):
        _same_grads(
            lambda x, p=pred: ember.cond(p, lambda t: t.sin(), lambda t: t.cos() * 2, (x,)),
            lambda x, p=pred: torch.cond(p, lambda t: t.sin(), lambda t: t.cos() * 2, (x,)),
            [a],
        )
    x = ember.tensor(a)
    out = ember.cond(ember.tensor(False), lambda t, u: (t + u, t * u), lambda t, u: (t - u, t / u), [x, x])
    assert isinstance(out, tuple) and out[1].tolist() == [1.0, 1.0, 1.0]
    assert ember.cond(1, lambda: ember.ones(2), lambda: ember.zeros(2)).tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="Expected pred to be bool or single-element tensor"):
        ember.cond(ember.tensor([True, False]), lambda t: t, lambda t: t, (x,))
    with pytest.raises(RuntimeError, match="Expected pred to be bool or single-element tensor"):
        torch.cond(torch.tensor([True, False]), lambda t: t + 1, lambda t: t - 1, (torch.ones(2),))


def test_while_loop_runs_eagerly_and_checks_the_carried_values():

    def body(i, x):
        return i + 1, x * 1.5

    # torch compiles while_loop to check it (seconds a call): its eager result is x * 1.5**3
    x = ember.tensor([1.0, -2.0], dtype=ember.float64, requires_grad=True)
    out = ember.while_loop(lambda i, x: i < 3, body, (ember.tensor(0), x))
    assert out[0].item() == 3 and out[1].tolist() == [3.375, -6.75]
    assert gradcheck(lambda x: ember.while_loop(lambda i, x: i < 3, body, (ember.tensor(0), x))[1], (x,))
    # the structure of torch's results, noted from a run
    i = ember.tensor(0)
    assert isinstance(
        ember.while_loop(lambda i, x: i < 2, lambda i, x: [i + 1, x * 1], [i, ember.ones(2)]), list
    )
    assert ember.while_loop(lambda i: i < 3, lambda i: i + 1, (i,)).item() == 3
    assert ember.while_loop(lambda i, n: i < n, lambda i, n: (i + 1, n), (0, 3)) == (3, 3)
    x = ember.ones(2)
    with pytest.raises(RuntimeError, match="same metadata"):
        ember.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, ember.cat([x, x])), (ember.tensor(0), x))
    with pytest.raises(RuntimeError, match="same metadata"):
        ember.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x.double()), (ember.tensor(0), x))
    with pytest.raises(RuntimeError, match="same number of outputs"):
        ember.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1,), (ember.tensor(0), x))
    with pytest.raises(RuntimeError, match="bool or single-element"):
        ember.while_loop(lambda i, x: x < 10, lambda i, x: (i + 1, x * 2), (ember.tensor(0), x))
    with pytest.raises(RuntimeError, match="tuple or list"):
        ember.while_loop(lambda i: i < 3, lambda i: i + 1, ember.tensor(0))


# ---- Tensor methods ---------------------------------------------------------------------------


def test_resize_and_resize_as_copying_forms():
    import torch

    a = np.arange(6.0)
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        _same_grads(lambda x: x.resize(2, 3), lambda x: x.resize(2, 3), [a])
    with pytest.warns(UserWarning, match="non-inplace resize_as is deprecated"):
        _same_grads(lambda x: x.resize_as(ember.ones(3, 2)), lambda x: x.resize_as(torch.ones(3, 2)), [a])
    for T in (ember, torch):
        with (
            pytest.warns(UserWarning),
            pytest.raises(RuntimeError, match="autograd's resize can only change"),
        ):
            T.ones(6).resize(4, 2)
    x = ember.ones(2)
    assert ember.resize_as_(x, ember.ones(3)) is x and x.shape == (3,)


def test_set_and_is_set_to_share_memory():
    import torch

    for T in (ember, torch):
        y, z = T.zeros(2), T.ones(3, 2)
        assert y.set_(z) is y and y.shape == (3, 2) and y.is_set_to(z) and z.is_set_to(y)
        z[0, 0] = 5
        assert y[0, 0].item() == 5
        assert not T.ones(2).is_set_to(T.ones(2))
        w = T.zeros(1).set_(z, 1, (2,), (2,))
        assert w.tolist() == [1.0, 1.0] and not w.is_set_to(z)
        assert T.zeros(2).set_().shape == (0,)
        with pytest.raises(RuntimeError, match="Could not set tensor of type"):
            T.ones(2).set_(T.ones(2, dtype=T.int64))
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            T.zeros(2, requires_grad=True).set_(T.zeros(2))


def test_as_subclass_map2_and_removed_attributes():
    import torch

    class Marked(ember.Tensor):
        pass

    x = ember.ones(2, requires_grad=True)
    m = x.as_subclass(Marked)
    assert type(m) is Marked and not m.is_leaf and m.requires_grad
    (m * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="does not inherit from Tensor"):
        x.as_subclass(int)
    for T in (ember, torch):
        out = T.ones(2, 2).map2_(T.ones(2), T.ones(2, 1) * 3, lambda a, b, c: a + b * c)
        assert out.tolist() == [[4.0, 4.0], [4.0, 4.0]]
        with pytest.raises(TypeError, match="map2_: expected"):
            T.ones(2).map2_(T.ones(2, dtype=T.int64), T.ones(2), lambda a, b, c: a)
        t = T.ones(2)
        with pytest.warns(UserWarning, match="volatile was removed"):
            assert t.volatile is False
        with pytest.warns(UserWarning, match="volatile was removed"):
            t.volatile = True
        with pytest.raises(RuntimeError, match="reinforce\\(\\) was removed"):
            t.reinforce(1.0)
        assert t.name is None


# ---- histogramdd, frombuffer, empty_permuted ------------------------------------------------


@pytest.mark.parametrize(
    "bins, kwargs",
    [
        ([3, 4], {}),
        (3, {"range": [0.0, 1.0, 0.0, 2.0], "density": True}),
        (2, {"weight": "w"}),
        ("edges", {}),
    ],
)
def test_histogramdd_matches_torch(bins, kwargs):
    import torch

    points = np.random.default_rng(0).random((40, 2)).astype(np.float32)
    weight = np.random.default_rng(1).random(40).astype(np.float32)

    def run(T):
        kw = dict(kwargs)
        if kw.get("weight") == "w":
            kw["weight"] = T.tensor(weight)
        b = [T.tensor([0.0, 0.25, 1.0]), T.tensor([0.0, 0.5, 0.75, 1.0])] if bins == "edges" else bins
        return T.histogramdd(T.tensor(points), b, **kw)

    (he, ee), (ht, et) = run(ember), run(torch)
    _close(he, ht, atol=1e-5)
    _close(ee, et)


def test_histogramdd_errors_and_batched_points():
    import torch

    x = ember.rand(2, 5, 3)
    assert ember.histogramdd(x, 2).hist.shape == torch.histogramdd(torch.rand(2, 5, 3), 2).hist.shape
    for T in (ember, torch):
        pts = T.rand(20, 2)
        with pytest.raises(RuntimeError, match="The size of bins must be equal"):
            T.histogramdd(pts, [3])
        with pytest.raises(RuntimeError, match="range should have 4 elements, but got 2"):
            T.histogramdd(pts, 3, range=[0.0, 1.0])
        with pytest.raises(RuntimeError, match="at least 2 dimensions"):
            T.histogramdd(T.rand(5), 3)
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
            T.histogramdd(pts.long(), 3)
        with pytest.raises(RuntimeError, match="same shape as the input"):
            T.histogramdd(pts, 3, weight=T.ones(3))


def test_frombuffer_and_empty_permuted():
    import torch

    raw = bytearray(np.arange(4, dtype=np.int32).tobytes())
    for T in (ember, torch):
        t = T.frombuffer(raw, dtype=T.int32)
        assert t.tolist() == [0, 1, 2, 3]
        assert T.frombuffer(raw, dtype=T.int32, count=2, offset=4).tolist() == [1, 2]
        assert T.empty_permuted((2, 3, 4), (2, 0, 1)).stride() == (3, 1, 6)
        with pytest.raises(ValueError, match="must be a multiple of element size"):
            T.frombuffer(raw, dtype=T.int32, offset=2)
        with pytest.raises(ValueError, match="must not be greater than actual buffer length"):
            T.frombuffer(raw, dtype=T.int32, count=5)
        with pytest.raises(RuntimeError, match="Duplicate dim not allowed"):
            T.empty_permuted((2, 3), (0, 0))
    shared = ember.frombuffer(raw, dtype=ember.int32)
    raw[0] = 7  # the tensor reads the buffer's memory
    assert shared[0].item() == 7


# ---- uint16, uint32, uint64 ---------------------------------------------------------------

_WIDE_UNSIGNED = ["uint16", "uint32", "uint64"]


@pytest.mark.parametrize("name", _WIDE_UNSIGNED)
def test_wide_unsigned_dtypes_what_torch_supports(name):
    import torch

    for T in (ember, torch):
        dt = getattr(T, name)
        top = int(T.iinfo(dt).max)
        assert top == 2 ** (8 * dt.itemsize) - 1 and not dt.is_signed and not dt.is_floating_point
        a = T.tensor([1, 2, top], dtype=dt)
        b = T.tensor([3, 2, 1], dtype=dt)
        assert a.dtype == dt and a.tolist() == [1, 2, top] and a.numpy().dtype == np.dtype(name)
        assert T.zeros(2, dtype=dt).tolist() == [0, 0] and T.full((2,), 7, dtype=dt).tolist() == [7, 7]
        assert T.ones_like(a).dtype == dt and T.from_numpy(np.ones(2, name)).dtype == dt
        assert (a == b).tolist() == [False, True, False] and (a != b).tolist() == [True, False, True]
        assert (
            (a & b).tolist() == [1, 2, 1]
            and (a | b).tolist() == [3, 2, top]
            and (a ^ b).tolist() == [2, 0, top - 1]
        )
        assert (a * b).tolist() == [3, 4, top]
        assert a.to(T.float64).tolist() == [1.0, 2.0, float(top)]
        assert T.tensor([-1]).to(dt).item() == top  # wraps, as a C cast
        assert T.cat([a, b]).dtype == dt and a[1:].tolist() == [2, top] and T.stack([a, b]).shape == (2, 3)
        assert a.sort().values.tolist() == [1, 2, top] and a.sum().dtype == T.int64
        c = T.zeros(3, dtype=dt)
        c.copy_(T.tensor([1.0, 2.0, 3.0]))
        assert c.tolist() == [1, 2, 3]
        assert T.promote_types(dt, T.float32) == T.float32 and T.promote_types(dt, dt) == dt
        for other in (T.int32, T.uint8, T.bool):
            with pytest.raises(
                RuntimeError, match="Promotion for uint16, uint32, uint64 types is not supported"
            ):
                T.promote_types(dt, other)
        with pytest.raises(RuntimeError, match="Promotion for uint16, uint32, uint64 types is not supported"):
            a + T.tensor([1], dtype=T.int32)


def test_uint64_holds_values_beyond_int64():
    import torch

    for T in (ember, torch):
        assert T.tensor([2**64 - 1], dtype=T.uint64).tolist() == [2**64 - 1]
    with pytest.raises(ValueError, match="Overflow"):
        ember.tensor([2**64 - 1])  # with no dtype, an int64 as in PyTorch


# ---- segment_reduce and batch_norm_update_stats ---------------------------------------------


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "prod"])
@pytest.mark.parametrize("initial", [None, 0.5])
def test_segment_reduce_matches_torch(reduce, initial):
    import torch

    data = np.random.default_rng(0).standard_normal((6, 2))
    kw_e = {"lengths": ember.tensor([2, 0, 3, 1]), "initial": initial}
    kw_t = {"lengths": torch.tensor([2, 0, 3, 1]), "initial": initial}
    _close(
        ember.segment_reduce(ember.tensor(data), reduce, **kw_e),
        torch.segment_reduce(torch.tensor(data), reduce, **kw_t),
    )
    kw_e["lengths"], kw_t["lengths"] = ember.tensor([2, 3, 1]), torch.tensor([2, 3, 1])
    _same_grads(
        lambda d: ember.segment_reduce(d, reduce, **kw_e),
        lambda d: torch.segment_reduce(d, reduce, **kw_t),
        [data],
    )


def test_segment_reduce_offsets_rows_and_errors():
    import torch

    data = np.random.default_rng(0).standard_normal((2, 5))
    for T in (ember, torch):
        d = T.tensor(data)
        np.testing.assert_allclose(
            T.segment_reduce(d[0], "sum", offsets=T.tensor([0, 2, 5])).numpy(),
            [data[0, :2].sum(), data[0, 2:].sum()],
        )
        rows = T.segment_reduce(d, "max", lengths=T.tensor([[2, 3], [1, 4]]), axis=1)
        np.testing.assert_allclose(
            rows.numpy(), [[data[0, :2].max(), data[0, 2:].max()], [data[1, 0], data[1, 1:].max()]]
        )
        with pytest.raises(RuntimeError, match="to sum to data.size"):
            T.segment_reduce(d[0], "sum", lengths=T.tensor([2, 2]))
        with pytest.raises(
            RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin"
        ):
            T.segment_reduce(d[0], "foo", lengths=T.tensor([2, 3]))
        with pytest.raises(RuntimeError, match="Either lengths or offsets must be defined"):
            T.segment_reduce(d[0], "sum")


def test_batch_norm_update_stats_matches_torch():
    import torch

    x = np.random.default_rng(0).standard_normal((4, 3, 2)).astype(np.float32)
    re_, ve = ember.zeros(3), ember.ones(3)
    rt, vt = torch.zeros(3), torch.ones(3)
    _close(
        ember.batch_norm_update_stats(ember.tensor(x), re_, ve, 0.1),
        torch.batch_norm_update_stats(torch.tensor(x), rt, vt, 0.1),
    )
    _close(re_, rt)
    _close(ve, vt)
    _close(
        ember.batch_norm_update_stats(ember.tensor(x), None, None, 0.1),
        torch.batch_norm_update_stats(torch.tensor(x), None, None, 0.1),
    )


def test_hash_tensor_and_device_flags():
    import torch

    x = np.array([[1.5, -2.0], [0.0, 3.0]], dtype=np.float32)
    for args, kwargs in [((), {}), ((1,), {"keepdim": True}), ((0,), {})]:
        _close(
            ember.hash_tensor(ember.tensor(x), *args, **kwargs),
            torch.hash_tensor(torch.tensor(x), *args, **kwargs),
        )
    _close(ember.hash_tensor(ember.tensor(x).int()), torch.hash_tensor(torch.tensor(x).int()))
    _close(ember.hash_tensor(ember.tensor([True, False])), torch.hash_tensor(torch.tensor([True, False])))
    for T in (ember, torch):
        with pytest.raises(RuntimeError, match="Unknown hash_tensor mode: 1"):
            T.hash_tensor(T.ones(2), mode=1)
        with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
            T.hash_tensor(T.zeros(0))
        t = T.ones(2)
        assert not (t.is_xla or t.is_ipu or t.is_maia or t.is_mtia or t.is_vulkan)
        assert t.const_data_ptr() == t.data_ptr()


def test_embedding_bag_padding_weights_last_offset_and_2d_refused():
    import torch

    w = np.random.default_rng(0).standard_normal((10, 3))
    idx = [1, 2, 4, 5, 4, 3, 2, 9]
    for args in [
        ([0, 4], 2, None, False, 2),
        ([0, 3, 8], 1, None, True, None),
        ([0, 4], 0, "psw", False, None),
    ]:
        offsets, mode, psw, last, pad = args

        def run(T, weight, offsets=offsets, mode=mode, psw=psw, last=last, pad=pad):
            sample = T.tensor(np.arange(8.0)) if psw else None
            return T.embedding_bag(
                weight, T.tensor(idx), T.tensor(offsets), False, mode, False, sample, last, pad
            )

        _same_grads(lambda a, run=run: run(ember, a), lambda a, run=run: run(torch, a), [w])
    with pytest.raises(RuntimeError, match="indices must be 1-D"):
        ember.embedding_bag(ember.tensor(w), ember.tensor(idx).view(2, 4), ember.tensor([0]), False, 1)


def test_from_file_maps_a_file(tmp_path):
    import torch

    path = tmp_path / "values.bin"
    for T in (ember, torch):
        np.arange(4, dtype=np.float32).tofile(path)
        assert T.from_file(str(path), size=4).tolist() == [0.0, 1.0, 2.0, 3.0]
        private = T.from_file(str(path), shared=False, size=2, dtype=T.float32)
        private[0] = 9
        assert np.fromfile(path, np.float32)[0] == 0  # not written back
        shared = T.from_file(str(path), shared=True, size=4)
        shared[0] = 7
        assert np.fromfile(path, np.float32)[0] == 7
        made = tmp_path / f"made_{T.__name__}.bin"
        assert T.from_file(str(made), shared=True, size=3, dtype=T.int32).tolist() == [0, 0, 0]
        assert made.stat().st_size == 12
        with pytest.raises(RuntimeError, match="is smaller than the required mapping size <20>"):
            T.from_file(str(path), size=5)
        with pytest.raises(RuntimeError, match="unable to open file"):
            T.from_file(str(tmp_path / "absent.bin"), size=2)


def test_module_load():
    import torch

    for T in (ember, torch):
        p, value = T.nn.Parameter(T.zeros(2)), T.ones(2)
        with T.no_grad():
            loaded = p.module_load(value)
        assert not loaded.requires_grad and loaded.tolist() == p.tolist() == [1.0, 1.0]
        assert p.module_load(value * 2, assign=True).tolist() == [2.0, 2.0]
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            p.module_load(value)


def test_storages_are_the_memory_of_the_tensor():
    import torch

    for T in (ember, torch):
        x = T.arange(4.0)
        u = x.untyped_storage()
        assert (u.size(), u.nbytes(), len(u), u.element_size()) == (16, 16, 16, 1)
        assert u.data_ptr() == x.data_ptr() == x[1:].untyped_storage().data_ptr()
        assert u.tolist()[4:8] == [0, 0, 128, 63] and str(u.device) == "cpu"
        assert u.clone().data_ptr() != u.data_ptr() and u.untyped() is u
        if T is torch:  # PyTorch warns once a process: an earlier test may have had it
            torch.storage._reset_warn_typed_storage_removal()
        with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
            s = x[1:].storage()
        assert (s.size(), s.dtype, s[1], s.nbytes(), s.element_size()) == (4, T.float32, 1.0, 16, 4)
        assert s.tolist() == [0.0, 1.0, 2.0, 3.0] and s.untyped().data_ptr() == x.data_ptr()
        assert T.is_storage(u) and T.is_storage(s) and not T.is_storage(x)
        assert T.zeros(2).set_(u).tolist() == [0.0, 1.0, 2.0, 3.0]
        assert T.zeros(1).set_(u, 1, (2,), (1,)).tolist() == [1.0, 2.0]
        assert T.zeros(1).set_(s, 2, (2,)).tolist() == [2.0, 3.0]
        y = T.zeros(1).set_(u)
        u[7] = 0  # the storage's bytes are the tensors' memory
        assert x[1].item() != 1.0 and y[1].item() == x[1].item()
        assert T.ones(3, 4).t().untyped_storage().nbytes() == 48
        assert T.ones(3).expand(2, 3).untyped_storage().nbytes() == 12
        assert T.empty_strided((2, 2), (1, 2)).untyped_storage().nbytes() == 16


NUMBERS = [1.5, 2, True, np.float64(1.5), np.float32(2.5), np.int32(3), 1 + 2j]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "true_divide", "floor_divide"])
def test_arithmetic_of_two_numbers_is_a_tensor_as_torch(op):
    """torch.add(2, 3.5) is a 0-d tensor; ember's operand preparation swapped the two numbers
    back and forth until the recursion limit."""
    import torch

    for a in NUMBERS:
        for b in NUMBERS:
            theirs = outcome(torch, lambda T, a=a, b=b: getattr(T, op)(a, b))
            if theirs[0] == "raise":
                continue
            ours = getattr(ember, op)(a, b)
            assert str(ours.dtype).split(".")[1] == str(theirs[1].dtype).split(".")[1], (a, b)
            assert ours.item() == theirs[1].item(), (a, b)


@pytest.mark.parametrize("p", [-1.0, -2.5, -float("inf"), 0.5, 2.0, "0-d tensor"])
def test_dist_takes_negative_and_tensor_p_as_torch(p):
    """dist refused p < 0 (PyTorch 2.13 gives vector_norm's (sum |d|^p)^(1/p)) and a 0-d tensor p."""
    import torch

    a, b = np.array([3.0, 4.0, -1.0]), np.array([1.0, 1.0, 0.5])
    got = []
    for T in (ember, torch):
        x, y = T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True)
        d = T.dist(x, y, T.tensor(-1.0) if p == "0-d tensor" else p)
        d.backward()
        got.append([d.item(), *x.grad.tolist(), *y.grad.tolist()])
    np.testing.assert_allclose(got[0], got[1], rtol=1e-12, atol=1e-15)


def test_vector_norm_takes_a_0d_tensor_ord_as_torch():
    import torch

    for T in (ember, torch):
        assert T.linalg.vector_norm(T.tensor([3.0, 4.0]), T.tensor(1.0)).item() == 7.0
        assert T.norm(T.tensor([3.0, 4.0]), T.tensor(1.0)).item() == 7.0
        for bad in (T.tensor([1.0, 2.0]), T.tensor(1.0, requires_grad=True)):
            with pytest.raises(TypeError, match="must be Number, not Tensor"):
                T.linalg.vector_norm(T.tensor([3.0, 4.0]), bad)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int64", "float16"])
@pytest.mark.parametrize("n", [0, 1, 2, 5, -1])
@pytest.mark.parametrize("shape", [(2, 2), (3, 2, 2), (2, 3)])
def test_matrix_power_of_integer_bool_and_half_matrices_as_torch(dtype, n, shape):
    """PyTorch multiplies them for n >= 0 (integers wrap); ember refused every non-float matrix."""
    import torch

    def call(T):
        a = T.arange(12).reshape(3, 2, 2)[: shape[0]] if len(shape) == 3 else T.arange(6)[: math.prod(shape)]
        return T.matrix_power((a.reshape(shape) % 5).to(getattr(T, dtype)), n)

    ours, theirs = outcome(ember, call), outcome(torch, call)
    assert ours[0] == theirs[0]
    if ours[0] == "ok":
        assert ours[1].tolist() == theirs[1].tolist()
        assert str(ours[1].dtype).split(".")[1] == str(theirs[1].dtype).split(".")[1]
    else:
        assert (type(ours[1]), str(ours[1])) == (type(theirs[1]), str(theirs[1]))


def test_adjoint_of_a_0d_and_a_1d_tensor_as_torch():
    """A 0-d tensor's adjoint is its conjugate, with PyTorch's deprecation warning; a vector
    gets PyTorch's message (ember raised transpose's IndexError for both)."""
    import torch

    with pytest.warns(UserWarning, match="adjoint\\(\\) is deprecated on 0-D tensors"):
        assert ember.tensor(2.0 + 1j).adjoint().item() == 2.0 - 1j
    for T in (ember, torch):  # (torch warns once a process: an earlier test may have seen it)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert T.tensor(2.0 + 1j).adjoint().item() == 2.0 - 1j
        with pytest.raises(RuntimeError, match="only supported on matrices or batches of matrices. Got 1-D"):
            T.tensor([1.0, 2.0]).adjoint()


def test_broadcast_to_takes_one_int_as_torchs_method():
    import torch

    for T in (ember, torch):
        assert tuple(T.ones(1).broadcast_to(3).shape) == (3,)
        with pytest.raises(RuntimeError, match="number of sizes provided"):
            T.ones(2, 1).broadcast_to(3)


@pytest.mark.parametrize("shape, sparse_dim", [((0, 3), 1), ((2, 0), 1), ((0, 3, 2), 2)])
def test_to_sparse_of_an_empty_tensor_with_dense_dims_as_torch(shape, sparse_dim):
    """reshape(..., -1) cannot infer the -1 beside a 0: ember raised ValueError."""
    import torch

    got = [
        (tuple(s._indices().shape), tuple(s._values().shape), tuple(s.shape))
        for s in (T.zeros(*shape).to_sparse(sparse_dim) for T in (ember, torch))
    ]
    assert got[0] == got[1]


def test_a_0d_tensor_is_a_number_for_alpha_and_value_as_torch():
    """PyTorch's argument parser takes a 0-d tensor that does not require grad as a Number:
    add(a, alpha_tensor, b), rsub(a, b, alpha_tensor), add(a, b, alpha=tensor(2.)). ember
    refused every tensor there."""
    import torch

    calls = (
        lambda T, a, c, alpha: T.add(a, alpha, c),
        lambda T, a, c, alpha: T.sub(a, alpha, c),
        lambda T, a, c, alpha: T.rsub(a, c, alpha),
        lambda T, a, c, alpha: a.clone().add_(alpha, c),
        lambda T, a, c, alpha: T.add(a, c, alpha=alpha),
        lambda T, a, c, alpha: T.addcmul(a, alpha, c, c),
    )
    results = []
    for T in (ember, torch):
        row = []
        for alpha in (T.tensor(2.0), T.tensor(2.0, requires_grad=True), T.tensor([2.0]), 2):
            for call in calls:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    status, value = outcome(
                        T, lambda T, call=call, alpha=alpha: call(T, T.tensor(1.0), T.tensor(3.0), alpha)
                    )
                row.append(value.item() if status == "ok" else type(value))
        results.append(row)
    assert results[0] == results[1]


def test_addcdiv_of_complex_tensors_as_torch():
    """Complex tensors were taken for integer ones and refused."""
    import torch

    rng = np.random.default_rng(0)
    values = [rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)) for _ in range(3)]
    results = []
    for T in (ember, torch):
        x, y, z = (T.tensor(v, requires_grad=True) for v in values)
        out = T.addcdiv(x, y, z, value=0.5)
        out.abs().sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy(), y.grad.numpy(), z.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("weight", ["tensor", 0.3, 0.7, 0.5 + 0.2j])
def test_lerp_of_complex_tensors_as_torch(weight):
    """ember refused complex tensors; its formula is ops that take them."""
    import torch

    rng = np.random.default_rng(0)
    a, b, w = (rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)) for _ in range(3))
    results = []
    for T in (ember, torch):
        x, y = T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True)
        wt = T.tensor(w, requires_grad=True) if weight == "tensor" else weight
        out = T.lerp(x, y, wt)
        out.abs().sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy(), y.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_pinv_and_matrix_rank_take_pytorchs_older_positional_forms_and_broadcast_tolerances():
    """pinv(A, rcond, hermitian) and matrix_rank(A, tol, hermitian) were refused; a tolerance
    tensor with more batch dims than A widens the batch, as in PyTorch."""
    import torch

    a = np.array([[1.0, 2.0], [2.0, 4.0001]])
    batch = np.random.default_rng(0).standard_normal((2, 3, 3))
    results = []
    for T in (ember, torch):
        A = T.tensor(a)
        results.append(
            (
                T.linalg.pinv(A, 1e-3).numpy().round(6).tolist(),
                T.linalg.pinv(A, 1e-3, True).numpy().round(6).tolist(),
                T.linalg.matrix_rank(A, 1e-3).item(),
                T.linalg.matrix_rank(A, 1e-3, True).item(),
                tuple(T.linalg.pinv(T.tensor(batch), T.tensor(np.full((4, 1), 0.1))).shape),
                tuple(T.linalg.matrix_rank(T.tensor(batch[0]), atol=T.tensor(np.full(5, 0.5))).shape),
                tuple(T.linalg.pinv(T.zeros(0, 3, dtype=T.float64), T.zeros(0, 3, dtype=T.float64)).shape),
            )
        )
    assert results[0] == results[1]
    with pytest.raises(TypeError, match="invalid combination"):
        ember.linalg.pinv(ember.tensor(a), 1e-3, rtol=0.1)
