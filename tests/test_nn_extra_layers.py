"""RMSNorm, LocalResponseNorm, EmbeddingBag and CTCLoss (modules and functions), compared
with PyTorch on the same inputs and weights: values, input and weight gradients (float32 and
float64), reprs, state_dict keys and errors; gradcheck in float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F

TOL = {"float64": (1e-9, 1e-10), "float32": (1e-4, 1e-5)}


def _pair(data: np.ndarray, requires_grad: bool = True) -> tuple:
    """The same array as an ember tensor and a torch tensor."""
    import torch

    return (
        ember.tensor(data.copy(), requires_grad=requires_grad),
        torch.tensor(data.copy(), requires_grad=requires_grad),
    )


def _backward_both(ye: Any, yt: Any, rng: np.random.Generator) -> None:
    """Backward of a random weighting of the outputs, the same in both frameworks."""
    import torch

    w = rng.normal(size=tuple(yt.shape)).astype(str(yt.dtype).replace("torch.", ""))
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()


def _raises(fn_e: Any, fn_t: Any) -> Exception:
    """Both raise the same exception type; ember's exception is returned for its message."""
    with pytest.raises(Exception) as te:
        fn_t()
    with pytest.raises(type(te.value)) as ee:
        fn_e()
    return ee.value


# ---- RMSNorm --------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "shape, normalized_shape, kwargs",
    [
        ((4, 5), 5, {}),
        ((2, 3, 4), (3, 4), {"eps": 1e-3}),
        ((2, 3, 4), [4], {"elementwise_affine": False}),
        ((6,), (6,), {}),
    ],
)
def test_rms_norm_module_matches_torch(dtype: str, shape: tuple, normalized_shape: Any, kwargs: dict) -> None:
    import torch

    rng = np.random.default_rng(0)
    t_mod = torch.nn.RMSNorm(normalized_shape, **kwargs)
    e_mod = nn.RMSNorm(normalized_shape, **kwargs)
    if dtype == "float64":
        t_mod, e_mod = t_mod.double(), e_mod.double()
    with torch.no_grad():
        for p in t_mod.parameters():
            p.copy_(torch.randn_like(p))
    e_mod.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in t_mod.state_dict().items()})
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    assert repr(e_mod) == repr(t_mod)
    xe, xt = _pair((rng.normal(size=shape) * 3 + 0.5).astype(dtype))
    ye, yt = e_mod(xe), t_mod(xt)
    assert str(ye.dtype) == str(yt.dtype).replace("torch", "ember")
    assert_close(ye, yt, *TOL[dtype])
    _backward_both(ye, yt, rng)
    assert_close(xe.grad, xt.grad, *TOL[dtype])
    for pe, pt in zip(e_mod.parameters(), t_mod.parameters()):
        assert_close(pe.grad, pt.grad, *TOL[dtype])


@requires_torch
def test_rms_norm_default_eps_is_the_dtypes_machine_epsilon() -> None:
    """eps=None: finfo(dtype).eps, which decides the result on an all-zero or tiny row."""
    import torch

    for dtype in ("float32", "float64"):
        data = np.full((2, 3), 1e-9, dtype=dtype)
        data[1] = 0
        xe, xt = _pair(data)
        assert_close(F.rms_norm(xe, [3]), torch.nn.functional.rms_norm(xt, [3]), *TOL[dtype])
        assert_close(ember.rms_norm(xe, [3], eps=0.5), torch.rms_norm(xt, [3], eps=0.5), *TOL[dtype])


def test_rms_norm_gradcheck() -> None:
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
    w = ember.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    assert gradcheck(lambda a, b: F.rms_norm(a, (3, 4), b, 1e-3), (x, w))
    assert gradgradcheck(lambda a, b: F.rms_norm(a, (3, 4), b, 1e-3), (x, w))
    assert gradgradcheck(lambda a: F.rms_norm(a, [4]), (x,))


@requires_torch
def test_rms_norm_weight_of_another_dtype_gives_the_inputs_dtype() -> None:
    import warnings

    import torch

    rng = np.random.default_rng(2)
    xe, xt = _pair(rng.normal(size=(2, 4)).astype("float32"))
    we, wt = _pair(rng.normal(size=4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = torch.nn.functional.rms_norm(xt, [4], wt)
    ye = F.rms_norm(xe, [4], we)
    assert ye.dtype == ember.float32
    assert_close(ye, yt, *TOL["float32"])
    _backward_both(ye, yt, rng)
    assert we.grad.dtype == ember.float64
    assert_close(we.grad, wt.grad, *TOL["float32"])


@requires_torch
def test_rms_norm_errors() -> None:
    import torch

    x = np.ones((2, 3, 4), dtype=np.float32)
    xe, xt = ember.tensor(x), torch.tensor(x)
    cases = [
        ((xe, [3]), (xt, [3]), "expected input with shape [*, 3]"),
        ((xe, [4], ember.ones(3)), (xt, [4], torch.ones(3)), "weight of shape [3]"),
        ((xe, []), (xt, []), "at least 1-dimensional"),
        ((xe.long(), [4]), (xt.long(), [4]), "not implemented"),
    ]
    for args_e, args_t, fragment in cases:
        err = _raises(lambda a=args_e: F.rms_norm(*a), lambda a=args_t: torch.nn.functional.rms_norm(*a))
        assert fragment in str(err)


# ---- LocalResponseNorm ----------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "shape, args",
    [
        ((2, 6, 5), (3,)),
        ((2, 5, 3, 4), (2, 0.5, 0.7, 2.0)),
        ((1, 4, 2, 3, 2), (5, 1e-2, 0.75, 1.0)),
        ((2, 3, 4), (8, 0.3, 1.5, 0.5)),  # a window wider than the channels
        ((2, 4, 3), (1, 1.0, 0.5, 1.0)),
    ],
)
def test_local_response_norm_matches_torch(dtype: str, shape: tuple, args: tuple) -> None:
    import torch

    rng = np.random.default_rng(3)
    e_mod, t_mod = nn.LocalResponseNorm(*args), torch.nn.LocalResponseNorm(*args)
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict()) == []
    xe, xt = _pair((rng.normal(size=shape) * 2).astype(dtype))
    ye, yt = e_mod(xe), t_mod(xt)
    assert str(ye.dtype) == str(yt.dtype).replace("torch", "ember")
    assert_close(ye, yt, *TOL[dtype])
    _backward_both(ye, yt, rng)
    assert_close(xe.grad, xt.grad, *TOL[dtype])
    assert_close(
        F.local_response_norm(xe, *args), torch.nn.functional.local_response_norm(xt, *args), *TOL[dtype]
    )


def test_local_response_norm_gradcheck_and_edge_cases() -> None:
    rng = np.random.default_rng(4)
    x = ember.tensor(rng.normal(size=(2, 4, 3)), requires_grad=True)
    assert gradcheck(lambda a: F.local_response_norm(a, 3, 0.5, 0.75, 1.0), (x,))
    assert gradgradcheck(lambda a: F.local_response_norm(a, 2, 0.5, 0.75, 1.0), (x,))
    empty = ember.zeros(0, 3, 4)
    assert F.local_response_norm(empty, 3).shape == (0, 3, 4)
    assert repr(nn.LocalResponseNorm(2, k=2)) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=2)"


@requires_torch
def test_local_response_norm_needs_a_channel_dimension() -> None:
    import torch

    err = _raises(
        lambda: F.local_response_norm(ember.ones(2, 3), 3),
        lambda: torch.nn.functional.local_response_norm(torch.ones(2, 3), 3),
    )
    assert "3D or higher" in str(err) and "[2, 3]" in str(err)


# ---- EmbeddingBag ---------------------------------------------------------------------------

# (input, offsets) cases: 2-D bags; 1-D with offsets, empty bags among them; a last offset
BAGS = [
    ([[1, 2, 4], [4, 3, 9], [0, 0, 7]], None, False),
    ([1, 2, 4, 5, 4, 3, 3, 8], [0, 2, 2, 5], False),
    ([1, 2, 4, 5, 4, 3, 3, 8], [0, 3, 3, 8], True),
    ([6, 6, 2], [0, 0, 3], False),
]


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("case", range(len(BAGS)))
@pytest.mark.parametrize("padding_idx", [None, 4])
def test_embedding_bag_matches_torch(dtype: str, mode: str, case: int, padding_idx: Any) -> None:
    import torch

    rng = np.random.default_rng(case)
    indices, offsets, last = BAGS[case]
    table = rng.normal(size=(10, 3)).astype(dtype)
    we, wt = _pair(table)
    ie, it = ember.tensor(indices), torch.tensor(indices)
    oe = None if offsets is None else ember.tensor(offsets)
    ot = None if offsets is None else torch.tensor(offsets)
    kwargs = {"mode": mode, "include_last_offset": last, "padding_idx": padding_idx}
    ye = F.embedding_bag(ie, we, oe, **kwargs)
    yt = torch.nn.functional.embedding_bag(it, wt, ot, **kwargs)
    assert ye.dtype == ember.float64 if dtype == "float64" else ember.float32
    assert_close(ye, yt, *TOL[dtype])
    _backward_both(ye, yt, rng)
    assert_close(we.grad, wt.grad, *TOL[dtype])


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_bag_per_sample_weights_and_their_gradient(dtype: str) -> None:
    import torch

    rng = np.random.default_rng(5)
    we, wt = _pair(rng.normal(size=(10, 4)).astype(dtype))
    pe, pt = _pair(rng.normal(size=8).astype(dtype))
    indices, offsets = [1, 2, 4, 5, 4, 3, 3, 8], [0, 2, 2, 5]
    ye = F.embedding_bag(
        ember.tensor(indices), we, ember.tensor(offsets), mode="sum", per_sample_weights=pe, padding_idx=3
    )
    yt = torch.nn.functional.embedding_bag(
        torch.tensor(indices), wt, torch.tensor(offsets), mode="sum", per_sample_weights=pt, padding_idx=3
    )
    assert_close(ye, yt, *TOL[dtype])
    _backward_both(ye, yt, rng)
    assert_close(we.grad, wt.grad, *TOL[dtype])
    assert_close(pe.grad, pt.grad, *TOL[dtype])


@requires_torch
def test_embedding_bag_scale_grad_by_freq_and_max_norm() -> None:
    """scale_grad_by_freq divides each row's gradient by its count in the mini-batch, as
    torch's embedding does; torch's embedding_bag (2.13) miscounts whenever an index repeats
    (see docs/differences.md), so the reference is torch's embedding reduced per bag."""
    import torch

    rng = np.random.default_rng(6)
    table = rng.normal(size=(10, 3)) * 2
    we, wt = _pair(table)
    indices = [[1, 2, 1, 5], [1, 3, 3, 8]]
    for mode in ("sum", "mean"):
        ye = F.embedding_bag(ember.tensor(indices), we, mode=mode, scale_grad_by_freq=True)
        rows = torch.nn.functional.embedding(torch.tensor(indices), wt, scale_grad_by_freq=True)
        yt = rows.sum(1) if mode == "sum" else rows.mean(1)
        assert_close(ye, yt, *TOL["float64"])
        _backward_both(ye, yt, rng)
        assert_close(we.grad, wt.grad, *TOL["float64"])
    # max_norm: the looked-up rows renormalised in place, the others untouched
    e_bag, t_bag = (
        nn.EmbeddingBag(10, 3, max_norm=1.0, mode="sum"),
        torch.nn.EmbeddingBag(10, 3, max_norm=1.0, mode="sum"),
    )
    e_bag.load_state_dict({"weight": ember.tensor(table.astype("float32"))})
    with torch.no_grad():
        t_bag.weight.copy_(torch.tensor(table))
    inp = [[1, 2], [2, 7]]
    assert_close(e_bag(ember.tensor(inp)), t_bag(torch.tensor(inp)), *TOL["float32"])
    assert_close(e_bag.weight, t_bag.weight, *TOL["float32"])


def test_embedding_bag_gradcheck() -> None:
    rng = np.random.default_rng(7)
    w = ember.tensor(rng.normal(size=(6, 3)), requires_grad=True)
    psw = ember.tensor(rng.normal(size=6), requires_grad=True)
    idx, offsets = ember.tensor([1, 2, 4, 5, 4, 1]), ember.tensor([0, 2, 2])
    for mode in ("sum", "mean", "max"):
        assert gradcheck(lambda a, m=mode: F.embedding_bag(idx, a, offsets, mode=m, padding_idx=5), (w,))
    assert gradcheck(
        lambda a, p: F.embedding_bag(idx, a, offsets, mode="sum", per_sample_weights=p), (w, psw)
    )
    assert gradgradcheck(
        lambda a, p: F.embedding_bag(idx, a, offsets, mode="sum", per_sample_weights=p), (w, psw)
    )
    assert gradgradcheck(lambda a: F.embedding_bag(idx, a, offsets, mode="max"), (w,))


@requires_torch
def test_embedding_bag_module_repr_state_dict_and_from_pretrained() -> None:
    import torch

    for args, kwargs in [
        ((5, 3), {}),
        ((5, 3), {"mode": "max", "padding_idx": 1, "max_norm": 1.0}),
        (
            (5, 3),
            {"max_norm": 1.0, "norm_type": 1.0, "scale_grad_by_freq": True, "mode": "sum", "padding_idx": -1},
        ),
        ((5, 3), {"include_last_offset": True}),
    ]:
        e_mod, t_mod = nn.EmbeddingBag(*args, **kwargs), torch.nn.EmbeddingBag(*args, **kwargs)
        assert repr(e_mod) == repr(t_mod)
        assert list(e_mod.state_dict()) == list(t_mod.state_dict())
        assert e_mod.padding_idx == t_mod.padding_idx
        if e_mod.padding_idx is not None:
            assert not e_mod.weight[e_mod.padding_idx].detach().numpy().any()
    table = np.arange(12.0).reshape(4, 3)
    e_mod = nn.EmbeddingBag.from_pretrained(ember.tensor(table), mode="sum", include_last_offset=True)
    t_mod = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), mode="sum", include_last_offset=True)
    assert repr(e_mod) == repr(t_mod) and not e_mod.weight.requires_grad
    args = ([0, 3, 3, 2], [0, 1, 4])
    assert_close(e_mod(*map(ember.tensor, args)), t_mod(*map(torch.tensor, args)))
    e_mod = nn.EmbeddingBag.from_pretrained(ember.tensor(table), freeze=False)
    assert e_mod.weight.requires_grad


@requires_torch
def test_embedding_bag_empty_inputs_give_zeros() -> None:
    import torch

    w = np.ones((4, 2), dtype=np.float32)
    for mode in ("sum", "mean", "max"):
        ye = F.embedding_bag(
            ember.tensor([], dtype=ember.int64), ember.tensor(w), ember.tensor([0, 0]), mode=mode
        )
        yt = torch.nn.functional.embedding_bag(
            torch.tensor([], dtype=torch.int64), torch.tensor(w), torch.tensor([0, 0]), mode=mode
        )
        assert_close(ye, yt)


@requires_torch
def test_embedding_bag_errors() -> None:
    import torch

    fe, ft = F.embedding_bag, torch.nn.functional.embedding_bag
    w = np.ones((6, 3), dtype=np.float32)
    i = [1, 2, 4, 5, 4, 3]
    E, T = ember, torch

    def both(args: Any, **kw: Any) -> Exception:
        def call(lib: Any, f: Any) -> Any:
            a = [lib.tensor(x) if isinstance(x, (list, np.ndarray)) else x for x in args]
            k = {n: lib.tensor(v) if isinstance(v, (list, np.ndarray)) else v for n, v in kw.items()}
            return f(*a, **k)

        return _raises(lambda: call(E, fe), lambda: call(T, ft))

    assert "offsets has to be a 1D Tensor" in str(both((i, w)))
    assert "offsets[0] has to be 0" in str(both((i, w, [1, 3])))
    assert "greater than input's length 6" in str(both((i, w, [0, 8])))
    assert "offsets has to be None" in str(both(([[1, 2]], w, [0])))
    assert "only supported for mode='sum'" in str(
        both((i, w, [0, 3]), mode="max", per_sample_weights=np.ones(6, "f"))
    )
    assert "same shape as the input" in str(
        both((i, w, [0, 3]), mode="sum", per_sample_weights=np.ones(5, "f"))
    )
    assert "mode has to be one of" in str(both((i, w, [0, 3]), mode="foo"))
    assert "frequency" in str(both((i, w, [0, 3]), mode="max", scale_grad_by_freq=True))
    assert "Long, Int" in str(both((np.array(i, "f"), w, [0, 3])))
    assert "not in the valid range [0, 6)" in str(both(([1, 7], w, [0, 1])))
    assert "padding_idx must be within" in str(both((i, w, [0, 3]), padding_idx=-7))
    assert "1D or 2D" in str(both(([[[1]]], w)))
    assert "2D Tensor" in str(both((i, w[0], [0, 3])))
    with pytest.raises(RuntimeError, match="non-decreasing"):
        fe(E.tensor(i), E.tensor(w), E.tensor([0, 4, 3]))
    with pytest.raises(AssertionError):
        nn.EmbeddingBag(5, 3, padding_idx=5)


# ---- CTCLoss --------------------------------------------------------------------------------


def _ctc_case(rng: np.random.Generator, t_max: int, n: int, c: int, blank: int, dtype: str) -> dict:
    """Random log-probabilities with targets that repeat labels, an empty target, and
    (in the last sample) usually more labels than its frames can hold."""
    labels = [k for k in range(c) if k != blank]
    target_lengths = rng.integers(1, t_max // 2 + 1, size=n)
    target_lengths[0] = 0
    input_lengths = rng.integers(t_max // 2, t_max + 1, size=n)
    input_lengths[1] = t_max
    if n > 2:
        target_lengths[-1], input_lengths[-1] = t_max // 2 + 1, 2
    s = int(target_lengths.max())
    targets = rng.choice(labels, size=(n, s))
    targets[1, 1:] = targets[1, 0]  # repeated labels: each pair needs a blank in between
    logits = rng.normal(size=(t_max, n, c)) * 2
    log_probs = logits - np.log(np.exp(logits).sum(2, keepdims=True))
    return {
        "log_probs": log_probs.astype(dtype),
        "targets": targets,
        "input_lengths": input_lengths,
        "target_lengths": target_lengths,
    }


def _ctc_both(case: dict, targets: str = "padded", lengths: str = "tensor", **kwargs: Any) -> tuple:
    """ember's and torch's ctc_loss, log_probs and loss, on the case's data (targets padded
    or concatenated, the lengths as tensors or tuples)."""
    import torch

    le, lt = _pair(case["log_probs"])
    tg = case["targets"]
    if targets == "concatenated":
        tg = np.concatenate([row[:k] for row, k in zip(tg, case["target_lengths"])])
    args_e, args_t = [le, ember.tensor(tg)], [lt, torch.tensor(tg)]
    for key in ("input_lengths", "target_lengths"):
        if lengths == "tensor":
            args_e.append(ember.tensor(case[key]))
            args_t.append(torch.tensor(case[key]))
        else:
            args_e.append(tuple(int(v) for v in case[key]))
            args_t.append(tuple(int(v) for v in case[key]))
    ye = F.ctc_loss(*args_e, **kwargs)
    yt = torch.nn.functional.ctc_loss(*args_t, **kwargs)
    return le, lt, ye, yt


def _assert_same_with_nans(actual: Any, expected: Any, tol: tuple) -> None:
    a, e = actual.detach().numpy(), expected.detach().numpy()
    assert np.array_equal(np.isnan(a), np.isnan(e)) and np.array_equal(np.isinf(a), np.isinf(e))
    finite = np.isfinite(e)
    np.testing.assert_allclose(a[finite], e[finite], *tol)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_ctc_loss_matches_torch(dtype: str, reduction: str, zero_infinity: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    blank = [0, 3][seed]
    case = _ctc_case(rng, t_max=7, n=4, c=5, blank=blank, dtype=dtype)
    targets, lengths = ["padded", "concatenated"][seed], ["tensor", "tuple"][seed]
    kwargs = {"blank": blank, "reduction": reduction, "zero_infinity": zero_infinity}
    le, lt, ye, yt = _ctc_both(case, targets, lengths, **kwargs)
    assert str(ye.dtype) == str(yt.dtype).replace("torch", "ember")
    _assert_same_with_nans(ye, yt, TOL[dtype])
    _backward_both(ye, yt, rng)
    _assert_same_with_nans(le.grad, lt.grad, TOL[dtype])


@requires_torch
def test_ctc_loss_possible_alignments_and_unbatched_input() -> None:
    """A batch where every alignment exists (finite loss and gradient everywhere), and the
    unbatched (T, C) form with its lengths as ints, 1-element tensors or 0-d tensors."""
    import torch

    rng = np.random.default_rng(8)
    case = _ctc_case(rng, t_max=9, n=2, c=4, blank=0, dtype="float64")
    le, lt, ye, yt = _ctc_both(case, reduction="none")
    assert np.isfinite(yt.detach().numpy()).all()
    assert_close(ye, yt, *TOL["float64"])
    _backward_both(ye, yt, rng)
    assert_close(le.grad, lt.grad, *TOL["float64"])
    single = case["log_probs"][:, 1]
    target, t_len, i_len = case["targets"][1], int(case["target_lengths"][1]), int(case["input_lengths"][1])
    for reduction in ("none", "mean", "sum"):
        for wrap_e, wrap_t in [
            (lambda v: ember.tensor(v), lambda v: torch.tensor(v)),
            (lambda v: ember.tensor([v]), lambda v: torch.tensor([v])),
        ]:
            xe, xt = _pair(single)
            ye = F.ctc_loss(xe, ember.tensor(target), wrap_e(i_len), wrap_e(t_len), reduction=reduction)
            yt = torch.nn.functional.ctc_loss(
                xt, torch.tensor(target), wrap_t(i_len), wrap_t(t_len), reduction=reduction
            )
            assert tuple(ye.shape) == tuple(yt.shape)
            assert_close(ye, yt, *TOL["float64"])
            ye.backward()
            yt.backward()
            assert_close(xe.grad, xt.grad, *TOL["float64"])


@requires_torch
def test_ctc_loss_module_and_target_length_zero() -> None:
    import torch

    for kwargs in ({}, {"blank": 2, "zero_infinity": True}, {"reduction": "sum"}):
        e_mod, t_mod = nn.CTCLoss(**kwargs), torch.nn.CTCLoss(**kwargs)
        assert repr(e_mod) == repr(t_mod)
        assert list(e_mod.state_dict()) == list(t_mod.state_dict()) == []
    # an empty target: -log of the probability of blank at every frame; mean divides by 1
    rng = np.random.default_rng(9)
    logits = rng.normal(size=(4, 2, 3))
    log_probs = logits - np.log(np.exp(logits).sum(2, keepdims=True))
    args = (np.zeros((2, 0), dtype=np.int64), [4, 0], [0, 0])
    ye = nn.CTCLoss()(ember.tensor(log_probs), ember.tensor(args[0]), args[1], args[2])
    yt = torch.nn.CTCLoss()(torch.tensor(log_probs), torch.tensor(args[0]), args[1], args[2])
    assert_close(ye, yt, *TOL["float64"])
    assert abs(float(ye) - (-log_probs[:, 0, 0].sum() / 2)) < 1e-12


def test_ctc_loss_gradcheck_through_log_softmax_and_no_double_backward() -> None:
    """The gradient, PyTorch's, is that of the logits once carried through log_softmax:
    there gradcheck must hold. As in PyTorch, the loss can be differentiated only once."""
    rng = np.random.default_rng(10)
    logits = ember.tensor(rng.normal(size=(5, 2, 4)), requires_grad=True)
    targets, i_len, t_len = ember.tensor([[1, 1], [2, 3]]), [5, 4], [2, 1]
    for reduction in ("none", "mean"):
        assert gradcheck(
            lambda x, r=reduction: F.ctc_loss(x.log_softmax(2), targets, i_len, t_len, reduction=r), (logits,)
        )
    loss = F.ctc_loss(logits.log_softmax(2), targets, i_len, t_len)
    (g,) = ember.autograd.grad(loss, logits, create_graph=True)
    with pytest.raises(RuntimeError, match="differentiate the CTC loss once"):
        g.sum().backward()


@requires_torch
def test_ctc_loss_errors() -> None:
    import torch

    rng = np.random.default_rng(11)
    lp = rng.normal(size=(5, 2, 4))
    good = ([[1, 2], [1, 1]], [5, 5], [2, 2])

    def both(
        log_probs: Any = lp, targets: Any = good[0], il: Any = good[1], tl: Any = good[2], **kw: Any
    ) -> Exception:
        return _raises(
            lambda: F.ctc_loss(ember.tensor(log_probs), ember.tensor(targets), il, tl, **kw),
            lambda: torch.nn.functional.ctc_loss(
                torch.tensor(log_probs), torch.tensor(targets), il, tl, **kw
            ),
        )

    assert "at most 5" in str(both(il=[5, 6]))
    assert "input_lengths must be of size batch_size" in str(both(il=[5]))
    assert "target_lengths must be of size batch_size" in str(both(tl=[2]))
    assert "size 4 at dimension 0" in str(both(targets=[1, 2, 1], tl=[2, 2]))
    assert "size at least 3 at dimension 1" in str(both(tl=[2, 3]))
    assert "blank must be in label range" in str(both(blank=4))
    assert "blank must be in label range" in str(both(blank=-1))
    assert "at least 0" in str(both(il=[-1, 5]))
    assert "at least 0" in str(both(tl=[-1, 2]))
    assert "not a valid value for reduction" in str(both(reduction="foo"))
    assert "not implemented" in str(both(log_probs=lp.astype(np.int64)))
    assert "must not be empty" in str(both(log_probs=np.zeros((0, 2, 4)), il=[0, 0]))
    with pytest.raises(RuntimeError, match=r"targets must be classes in \[0, 4\)"):
        F.ctc_loss(ember.tensor(lp), ember.tensor([[1, 2], [1, 5]]), [5, 5], [2, 2])
