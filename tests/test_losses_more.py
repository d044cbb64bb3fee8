"""The margin, embedding and likelihood losses (MarginRankingLoss ... GaussianNLLLoss), pdist,
cosine_similarity, pairwise_distance and their layers, compared with PyTorch: values and
the gradients of every input that takes one (kinks included: margins met exactly, ties,
zero vectors), every reduction and the legacy size_average/reduce, float32 and float64;
reprs, errors; gradcheck in float64."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F

pytestmark = requires_torch

REDUCTIONS = ("mean", "sum", "none")
TOL = {"float64": (1e-8, 1e-10), "float32": (1e-5, 1e-6)}


def f(data: Any, grad: bool = True) -> tuple:
    """A floating argument (of the test's dtype), which requires grad unless told."""
    return ("f", np.asarray(data, dtype=float), grad)


def i(data: Any) -> tuple:
    """An int64 argument (class indices)."""
    return ("i", np.asarray(data, dtype=np.int64))


def _make(lib: Any, arg: Any, dtype: str) -> Any:
    if not isinstance(arg, tuple):
        return arg
    if arg[0] == "i":
        return lib.tensor(arg[1])
    return lib.tensor(arg[1].astype(dtype), requires_grad=arg[2])


def _run(lib: Any, name: str, args: list, kwargs: Any, dtype: str, seed: int = 1) -> tuple:
    """The loss, and the gradients of a random weighting of its elements."""
    module = lib.nn.functional
    tensors = [_make(lib, a, dtype) for a in args]
    kw = kwargs(lib, dtype) if callable(kwargs) else kwargs
    out = getattr(module, name)(*tensors, **kw)
    w = np.random.default_rng(seed).normal(size=tuple(out.shape)).astype(dtype)
    (out * lib.tensor(w)).sum().backward()
    grads = [t.grad for t in tensors if hasattr(t, "requires_grad") and t.requires_grad]
    return out, grads


def compare(name: str, args: list, kwargs: Any = None, dtype: str = "float64", grads: bool = True) -> None:
    import torch

    kwargs = kwargs or {}
    oe, ge = _run(ember, name, args, kwargs, dtype)
    ot, gt = _run(torch, name, args, kwargs, dtype)
    rtol, atol = TOL[dtype]
    assert str(oe.dtype) == str(ot.dtype).replace("torch", "ember")
    assert_close(oe, ot, rtol, atol)
    if grads:
        assert len(ge) == len(gt)
        for a, b in zip(ge, gt):
            assert (a is None) == (b is None)
            if a is not None:
                assert_close(a, b, rtol, atol)


rng = np.random.default_rng(0)
X4, Y4, Z4 = (rng.normal(size=(4, 5)) for _ in range(3))
SIGNS = np.array([1.0, -1.0, -1.0, 1.0, 1.0, -1.0])

# (loss, arguments, keyword arguments); each runs with every reduction, in float32 and float64
CASES = [
    ("margin_ranking_loss", [f(rng.normal(size=6)), f(rng.normal(size=6)), f(SIGNS)], {}),
    ("margin_ranking_loss", [f(rng.normal(size=6)), f(rng.normal(size=6)), f(SIGNS)], {"margin": 0.7}),
    # kinks: -y (x1 - x2) + margin exactly 0, where PyTorch's clamp_min passes the gradient
    ("margin_ranking_loss", [f([0, 1, 2, 1, 0.5, 3]), f([0, 1, 1, 2, 0.5, 1]), f(SIGNS)], {}),
    ("margin_ranking_loss", [f([1, 1, 2]), f([0, 2, 2]), f([1, -1, 1])], {"margin": 1.0}),
    (
        "margin_ranking_loss",
        [f(rng.normal(size=(3, 1))), f(rng.normal(size=(1, 3))), f(rng.choice([-1, 1], (3, 3)))],
        {},
    ),
    ("margin_ranking_loss", [f(0.3), f(-0.2), f(-1.0)], {"margin": 0.1}),
    ("hinge_embedding_loss", [f(rng.normal(size=6) + 0.5), f(SIGNS, False)], {}),
    ("hinge_embedding_loss", [f([0, 1, 2, -1, 0.5, 1.5]), f([1, -1, -1, 1, 0, -1], False)], {"margin": 1.5}),
    ("hinge_embedding_loss", [f([1.0, 2.0, 0.0]), f([-1, -1, -1], False)], {"margin": 1.0}),  # kink at 1
    ("hinge_embedding_loss", [f(rng.normal(size=(2, 3))), f([[1], [-1]], False)], {}),
    ("cosine_embedding_loss", [f(X4), f(Y4), f([1, -1, -1, 1], False)], {}),
    ("cosine_embedding_loss", [f(X4), f(Y4), f([1, -1, -1, 1], False)], {"margin": -0.2}),
    # zero vectors, a cosine exactly 0 at margin 0 (a kink) and a target neither 1 nor -1
    (
        "cosine_embedding_loss",
        [f([[0, 0], [1, 0], [1, 2]]), f([[1, 2], [0, 1], [2, 4]]), f([-1, -1, 0], False)],
        {},
    ),
    ("cosine_embedding_loss", [f(X4[0]), f(Y4[0]), f(-1.0, False)], {"margin": -0.5}),
    ("cosine_embedding_loss", [f(X4), f(Y4[:1]), f([1, -1, -1, 1], False)], {}),
    ("triplet_margin_loss", [f(X4), f(Y4), f(Z4)], {}),
    ("triplet_margin_loss", [f(X4), f(Y4), f(Z4)], {"margin": 2.5, "p": 1}),
    ("triplet_margin_loss", [f(X4), f(Y4), f(Z4)], {"p": 3, "eps": 1e-3, "swap": True}),
    ("triplet_margin_loss", [f(X4), f(Y4 * 3), f(Z4)], {"swap": True, "margin": 4.0}),
    # positive equal to anchor: with swap, d(a, n) and d(p, n) tie, and minimum splits the gradient
    ("triplet_margin_loss", [f(X4), f(X4), f(Z4)], {"swap": True, "margin": 5.0}),
    ("triplet_margin_loss", [f(X4[0]), f(Y4[0]), f(Z4[0])], {"margin": 3.0}),
    ("triplet_margin_with_distance_loss", [f(X4), f(Y4), f(Z4)], {"margin": 2.0}),
    ("triplet_margin_with_distance_loss", [f(X4), f(Y4), f(Z4)], {"swap": True, "margin": 3.0}),
    (
        "triplet_margin_with_distance_loss",
        [f(X4), f(Y4), f(Z4)],
        lambda lib, dt: {
            "distance_function": lambda a, b: 1 - lib.nn.functional.cosine_similarity(a, b),
            "swap": True,
        },
    ),
    ("multi_margin_loss", [f(X4), i([0, 4, 2, 2])], {}),
    ("multi_margin_loss", [f(X4), i([0, 4, 2, 2])], {"p": 2, "margin": 0.5}),
    (
        "multi_margin_loss",
        [f(X4), i([1, 3, 2, 0])],
        lambda lib, dt: {"weight": lib.tensor(np.array([1.0, 2, 0.5, 3, 1.5], dt))},
    ),
    # kinks: margin - x[y] + x[j] exactly 0, which PyTorch's kernel does not count
    ("multi_margin_loss", [f([[0, 1, 2], [1, 1, 0], [3, 2, 2]]), i([1, 0, 0])], {}),
    ("multi_margin_loss", [f([[0, 1, 2], [1, 1, 0], [3, 2, 2]]), i([1, 0, 0])], {"p": 2}),
    ("multi_margin_loss", [f(X4[0]), i(3)], {"margin": 2.0}),
    ("multi_margin_loss", [f(X4[0]), i([3])], {"margin": 2.0}),
    ("multi_margin_loss", [f(0.5), i(0)], {}),
    ("multilabel_margin_loss", [f(X4[:3]), i([[3, 0, -1, 1, 2], [1, -1, 0, 0, 0], [4, 1, 1, -1, 3]])], {}),
    ("multilabel_margin_loss", [f(X4[:3]), i([[-1, 0, 1, 2, 3], [0, 1, 2, 3, 4], [2, 2, 2, 2, 2]])], {}),
    ("multilabel_margin_loss", [f([[0, 1, 2], [2, 1, 1]]), i([[1, -1, 0], [0, 2, -1]])], {}),  # kinks
    ("multilabel_margin_loss", [f(X4[0]), i([2, 4, -1, 0, 0])], {}),
    ("multilabel_margin_loss", [f(0.5), i([0])], {}),
    ("multilabel_soft_margin_loss", [f(X4), f(rng.integers(0, 2, (4, 5)).astype(float))], {}),
    ("multilabel_soft_margin_loss", [f(X4), f(rng.uniform(size=(4, 5))), f(rng.uniform(size=5))], {}),
    ("multilabel_soft_margin_loss", [f(X4[0]), f(rng.uniform(size=5))], {}),
    ("soft_margin_loss", [f(rng.normal(size=6) * 3), f(SIGNS, False)], {}),
    ("soft_margin_loss", [f(rng.normal(size=(2, 3))), f([[2.0, -0.5, 1]], False)], {}),
    ("soft_margin_loss", [f(-1.5), f(1.0, False)], {}),
    ("poisson_nll_loss", [f(rng.normal(size=6)), f([0, 1, 2, 3, 0.5, 7])], {}),
    ("poisson_nll_loss", [f(rng.uniform(0.1, 3, 6)), f([0, 1, 2, 3, 0.5, 7])], {"log_input": False}),
    (
        "poisson_nll_loss",
        [f(rng.uniform(0, 3, 6)), f([0, 1, 2, 3, 0.5, 7])],
        {"log_input": False, "eps": 0.1},
    ),
    # full: the Stirling term counts where target > 1 (target 0 is tested on its own below)
    ("poisson_nll_loss", [f(rng.normal(size=6)), f([1, 1.5, 2, 3, 0.5, 7])], {"full": True}),
    (
        "poisson_nll_loss",
        [f(rng.uniform(0.1, 3, 6)), f([1, 1.5, 2, 3, 0.5, 7])],
        {"full": True, "log_input": False},
    ),
    ("poisson_nll_loss", [f(rng.normal(size=(3, 1))), f(rng.uniform(0, 4, (1, 4)))], {"full": True}),
    ("gaussian_nll_loss", [f(X4), f(Y4), f(rng.uniform(0.1, 2, (4, 5)))], {}),
    ("gaussian_nll_loss", [f(X4), f(Y4), f(rng.uniform(0.1, 2, (4, 5)))], {"full": True}),
    ("gaussian_nll_loss", [f(X4), f(Y4), f(rng.uniform(0.1, 2, 4))], {}),  # var (N,): one per sample
    ("gaussian_nll_loss", [f(X4), f(Y4), f(rng.uniform(0.1, 2, (4, 1)))], {}),
    ("gaussian_nll_loss", [f(X4), f(Y4), f(rng.uniform(0.1, 2, (1, 5)))], {"full": True}),
    ("gaussian_nll_loss", [f(X4), f(Y4[:1]), f(rng.uniform(0.1, 2, (4, 5)))], {}),
    # var below eps (0 included): clamped, and the gradient is the formula's at the clamped value
    ("gaussian_nll_loss", [f(X4[:2, :3]), f(Y4[:2, :3]), f([[1e-9, 0.5, 2], [0, 1e-7, 3]])], {}),
    (
        "gaussian_nll_loss",
        [f(X4[:2, :3]), f(Y4[:2, :3]), f([[0.01, 0.5, 2], [0.1, 0.2, 0.05]])],
        {"eps": 0.15},
    ),
    ("gaussian_nll_loss", [f(X4), f(Y4), 0.7], {}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_match_torch(case: tuple, reduction: str, dtype: str) -> None:
    name, args, kwargs = case
    if callable(kwargs):
        compare(name, args, lambda lib, dt: {**kwargs(lib, dt), "reduction": reduction}, dtype=dtype)
    else:
        compare(name, args, {**kwargs, "reduction": reduction}, dtype=dtype)


@pytest.mark.parametrize(
    ("name", "args", "legacy"),
    [
        ("margin_ranking_loss", [f(X4[0]), f(Y4[0]), f(SIGNS[:5])], {"size_average": False}),
        ("hinge_embedding_loss", [f(X4[0]), f(SIGNS[:5], False)], {"reduce": False}),
        ("cosine_embedding_loss", [f(X4), f(Y4), f([1, -1, -1, 1], False)], {"size_average": True}),
        ("triplet_margin_loss", [f(X4), f(Y4), f(Z4)], {"size_average": False, "reduce": True}),
        ("multi_margin_loss", [f(X4), i([0, 4, 2, 2])], {"reduce": False, "size_average": True}),
        ("multilabel_margin_loss", [f(X4[:1]), i([[3, 0, -1, 1, 2]])], {"size_average": False}),
        ("multilabel_soft_margin_loss", [f(X4), f(np.ones((4, 5)))], {"reduce": False}),
        ("soft_margin_loss", [f(X4), f(np.sign(Y4), False)], {"size_average": False}),
        ("poisson_nll_loss", [f(X4), f(np.abs(Y4))], {"reduce": False}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_legacy_size_average_and_reduce(name: str, args: list, legacy: dict) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare(name, args, legacy)
    assert any("size_average and reduce" in str(w.message) for w in caught)


# ---- kinks and special values on their own ----------------------------------------------------


def test_poisson_full_target_zero_has_no_nan_gradient() -> None:
    """PyTorch's Stirling term gives a target of 0 a NaN gradient (0 * log 0 in its backward);
    ember's is 0, the term's derivative where it is not counted. The values agree."""
    import torch

    x, t = np.array([0.3, -0.2]), np.array([0.0, 4.0])
    te = ember.tensor(t, requires_grad=True)
    tt = torch.tensor(t, requires_grad=True)
    le = F.poisson_nll_loss(ember.tensor(x), te, full=True, reduction="sum")
    lt = torch.nn.functional.poisson_nll_loss(torch.tensor(x), tt, full=True, reduction="sum")
    assert_close(le, lt, 1e-12)
    le.backward()
    lt.backward()
    # the target's gradient, -input, without the Stirling term's NaN
    assert math.isnan(tt.grad[0]) and te.grad[0].item() == -0.3
    assert_close(te.grad[1], tt.grad[1], 1e-12)


def test_soft_margin_stays_finite_where_torch_overflows() -> None:
    """log1p(exp(800)) is inf in PyTorch; ember's -logsigmoid gives 800 and gradient -1."""
    x = ember.tensor([-800.0, 800.0], requires_grad=True)
    loss = F.soft_margin_loss(x, ember.tensor([1.0, -1.0]), reduction="none")
    loss.sum().backward()
    assert loss.tolist() == [800.0, 800.0]
    assert x.grad.tolist() == [-1.0, 1.0]


def test_hinge_and_cosine_targets_get_no_gradient() -> None:
    """The target only picks a branch: PyTorch leaves its grad None, and so does ember."""
    x, y = ember.tensor(X4, requires_grad=True), ember.tensor(Y4)
    t = ember.tensor([1.0, -1.0, 1.0, -1.0], requires_grad=True)
    (F.cosine_embedding_loss(x, y, t) + F.hinge_embedding_loss(x[0, :4], t)).backward()
    assert t.grad is None and x.grad is not None


def test_target_and_weight_that_torch_refuses_to_differentiate(T: Any) -> None:
    x = T.tensor(X4, requires_grad=True)
    t = T.tensor(np.sign(Y4), requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'target'"):
        T.nn.functional.soft_margin_loss(x, t)
    w = T.ones(5, dtype=T.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        T.nn.functional.multi_margin_loss(x, T.tensor([0, 1, 2, 3]), weight=w)
    with T.no_grad():  # no graph, no refusal
        T.nn.functional.soft_margin_loss(x, t)
        T.nn.functional.multi_margin_loss(x, T.tensor([0, 1, 2, 3]), weight=w)


def test_empty_batch() -> None:
    """PyTorch 2.13 returns uninitialised memory for the mean and the sum of an empty batch
    here; ember the mean and the sum of nothing."""
    x = ember.zeros(0, 3, requires_grad=True)
    t, ts = ember.zeros(0, dtype=ember.int64), ember.zeros(0, 3, dtype=ember.int64)
    assert math.isnan(F.multi_margin_loss(x, t).item())
    assert math.isnan(F.multilabel_margin_loss(x, ts).item())
    assert F.multi_margin_loss(x, t, reduction="sum").item() == 0.0
    assert F.multilabel_margin_loss(x, ts, reduction="sum").item() == 0.0
    assert F.multi_margin_loss(x, t, reduction="none").shape == (0,)
    assert F.multilabel_margin_loss(x, ts, reduction="none").shape == (0,)


def F_of(T: Any) -> Any:  # noqa: N802
    return T.nn.functional


# ---- distances ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 0, math.inf])
def test_pdist(p: float, dtype: str) -> None:
    # rows 0 and 3 are equal (distance 0, gradient 0 as in PyTorch); row 4 has tied coordinates
    x = np.array([[1, 2, 0.5], [0, -1, 2], [3, 1, 1], [1, 2, 0.5], [2, 2, -2.0]])
    compare("pdist", [f(x)], {"p": p}, dtype=dtype, grads=p != 0)
    compare("pdist", [f(rng.normal(size=(5, 4)))], {"p": p}, dtype=dtype, grads=p != 0)


def test_pdist_top_level_and_edge_shapes(T: Any) -> None:
    assert T.pdist(T.ones(1, 3)).shape == (0,)
    assert T.pdist(T.ones(0, 3)).shape == (0,)
    assert T.pdist(T.ones(3, 0)).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("x1", "x2", "kwargs"),
    [
        (X4, Y4, {}),
        (X4, Y4, {"dim": 0}),
        (X4, Y4[:1], {}),
        (X4[:, None], Y4[None], {}),  # broadcast first, then the norms (of the broadcast tensors)
        (X4[:, None], Y4[None], {"dim": -1}),
        # norms below eps: clamped, and the clamp is invisible to the gradient
        ([[1e-9, 0, 0, 0], [0, 0, 0, 0], [1, 2, 3, 4]], Y4[:3, :4], {}),
        (X4 * 0.1, Y4, {"eps": 0.5}),
        (X4[0], Y4[0], {"dim": 0}),
    ],
)
def test_cosine_similarity(x1: Any, x2: Any, kwargs: dict, dtype: str) -> None:
    compare("cosine_similarity", [f(x1), f(x2)], kwargs, dtype=dtype)


def test_cosine_similarity_dtypes(T: Any) -> None:
    a, b = T.tensor([[1, 2, 3]]), T.tensor([[1.0, 0.0, 1.0]])
    assert str(F_of(T).cosine_similarity(a, b).dtype).endswith("float32")
    assert str(F_of(T).cosine_similarity(a, b.double()).dtype).endswith("float64")
    with pytest.raises(RuntimeError, match="expected common dtype to be floating point"):
        F_of(T).cosine_similarity(a, a)
    assert_close(T.cosine_similarity(b, b), np.ones(1, dtype=np.float32))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("x1", "x2", "kwargs"),
    [
        (X4, Y4, {}),
        (X4, Y4, {"p": 1, "keepdim": True}),
        (X4, Y4, {"p": 3, "eps": 0.1}),
        (X4, Y4, {"p": math.inf}),
        (X4, Y4[0], {}),
        (X4[0], Y4, {"p": 1.5}),
        (X4[0, 0], Y4[0, 0], {}),
        (X4, X4, {"eps": 0.0}),  # zero differences: gradient 0
    ],
)
def test_pairwise_distance(x1: Any, x2: Any, kwargs: dict, dtype: str) -> None:
    compare("pairwise_distance", [f(x1), f(x2)], kwargs, dtype=dtype)


# ---- layers ------------------------------------------------------------------------------------


MODULES = [
    ("MarginRankingLoss", {"margin": 0.5}, [X4[0], Y4[0], SIGNS[:5]]),
    ("HingeEmbeddingLoss", {"margin": 2.0, "reduction": "sum"}, [X4, np.sign(Y4)]),
    ("CosineEmbeddingLoss", {"margin": 0.1}, [X4, Y4, np.array([1.0, -1, -1, 1])]),
    ("TripletMarginLoss", {"margin": 2.0, "p": 1.0, "swap": True}, [X4, Y4, Z4]),
    ("TripletMarginWithDistanceLoss", {"margin": 2.0, "reduction": "none"}, [X4, Y4, Z4]),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5}, [X4, np.array([0, 4, 2, 2])]),
    ("MultiLabelMarginLoss", {"reduction": "none"}, [X4[:1], np.array([[3, 0, -1, 1, 2]])]),
    ("MultiLabelSoftMarginLoss", {}, [X4, np.ones((4, 5))]),
    ("SoftMarginLoss", {"reduction": "sum"}, [X4, np.sign(Y4)]),
    ("PoissonNLLLoss", {"log_input": False, "full": True, "eps": 0.01}, [np.abs(X4), np.abs(Y4) * 3]),
    ("GaussianNLLLoss", {"full": True, "eps": 0.01}, [X4, Y4, np.abs(Z4)]),
    ("CosineSimilarity", {"dim": 0, "eps": 0.1}, [X4, Y4]),
    ("PairwiseDistance", {"p": 1.0, "eps": 0.1, "keepdim": True}, [X4, Y4]),
]


@pytest.mark.parametrize(("name", "kwargs", "inputs"), MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_torch(name: str, kwargs: dict, inputs: list) -> None:
    import torch

    for lib_kwargs in ({}, kwargs):
        e_mod, t_mod = getattr(nn, name)(**lib_kwargs), getattr(torch.nn, name)(**lib_kwargs)
        assert repr(e_mod) == repr(t_mod)
        xe = [ember.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
        xt = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
        if name in ("HingeEmbeddingLoss", "SoftMarginLoss", "CosineEmbeddingLoss"):
            xe[-1].requires_grad_(False)
            xt[-1].requires_grad_(False)
        ye, yt = e_mod(*xe), t_mod(*xt)
        assert_close(ye, yt, 1e-9, 1e-10)
        ye.sum().backward()
        yt.sum().backward()
        for a, b in zip(xe, xt):
            assert (a.grad is None) == (b.grad is None)
            if a.grad is not None:
                assert_close(a.grad, b.grad, 1e-9, 1e-10)


def test_module_attributes_buffers_and_submodules(T: Any) -> None:
    w = T.tensor([1.0, 2.0, 3.0])
    assert list(T.nn.MultiMarginLoss(weight=w).state_dict()) == ["weight"]
    assert list(T.nn.MultiLabelSoftMarginLoss(weight=w).state_dict()) == ["weight"]
    assert T.nn.PairwiseDistance(p=3.0).norm == 3.0
    loss = T.nn.TripletMarginWithDistanceLoss()
    assert [name for name, _ in loss.named_children()] == ["distance_function"]
    cos = T.nn.TripletMarginWithDistanceLoss(distance_function=T.nn.functional.cosine_similarity)
    assert list(cos.named_children()) == []
    assert repr(T.nn.TripletMarginWithDistanceLoss(distance_function=T.nn.PairwiseDistance(p=1))) == (
        "TripletMarginWithDistanceLoss(\n  (distance_function): PairwiseDistance()\n)"
    )


# ---- the top-level spellings --------------------------------------------------------------------


def test_top_level_losses_take_the_reduction_as_an_int() -> None:
    import torch

    calls = [
        ("margin_ranking_loss", [X4[0], Y4[0], SIGNS[:5]], (0.3,)),
        ("hinge_embedding_loss", [X4, np.sign(Y4)], (0.5,)),
        ("cosine_embedding_loss", [X4, Y4, np.array([1.0, -1, 1, -1])], (0.2,)),
        ("triplet_margin_loss", [X4, Y4, Z4], (1.5, 1.0, 1e-6, True)),
        ("poisson_nll_loss", [X4, np.abs(Y4)], (True, False, 1e-8)),
    ]
    for name, inputs, extra in calls:
        for reduction in (0, 1, 2):
            args_e = [ember.tensor(a) for a in inputs] + list(extra) + [reduction]
            args_t = [torch.tensor(a) for a in inputs] + list(extra) + [reduction]
            assert_close(getattr(ember, name)(*args_e), getattr(torch, name)(*args_t), 1e-12)
        with pytest.raises(TypeError, match="must be int, not str"):
            getattr(ember, name)(*([ember.tensor(a) for a in inputs] + list(extra) + ["mean"]))
    assert_close(
        ember.pairwise_distance(ember.tensor(X4), ember.tensor(Y4)),
        torch.pairwise_distance(torch.tensor(X4), torch.tensor(Y4)),
    )


# ---- errors ------------------------------------------------------------------------------------


def _errors(T: Any) -> list:
    """(call, exception type, a fragment of ember's message naming the loss or the rule)."""
    F = T.nn.functional  # noqa: N806
    x, y, s = T.tensor(X4), T.tensor(Y4), T.tensor(SIGNS[:4])
    idx = T.tensor([0, 4, 2, 2])
    return [
        (lambda: F.margin_ranking_loss(x[0], y[0, :2], s[:1]), RuntimeError, "margin_ranking_loss"),
        (lambda: F.margin_ranking_loss(x[0], y[0], s[:, None]), RuntimeError, "same dimension"),
        (lambda: F.margin_ranking_loss(x[0], y[0], s, reduction="avg"), ValueError, "avg is not a valid"),
        (lambda: F.hinge_embedding_loss(x, s[:2]), RuntimeError, "hinge_embedding_loss"),
        (lambda: F.cosine_embedding_loss(x, y, s[:, None]), RuntimeError, "multi-target not supported"),
        (lambda: F.cosine_embedding_loss(x[0], y, s), RuntimeError, "expects 2D input tensors"),
        (lambda: F.cosine_embedding_loss(x[0], y[0], s), RuntimeError, "expects 2D input tensors"),
        (lambda: F.cosine_embedding_loss(x, y[:, :2], s), RuntimeError, "cosine_embedding_loss"),
        (lambda: F.cosine_embedding_loss(x, y, s[:3]), RuntimeError, "cosine_embedding_loss"),
        (lambda: F.triplet_margin_loss(x, y, x, margin=0), ValueError, "margin must be greater than 0"),
        (lambda: F.triplet_margin_loss(x, y[0], x), RuntimeError, "same number of dimensions"),
        (lambda: F.triplet_margin_loss(x, y[:, :2], x), RuntimeError, "triplet_margin_loss"),
        (lambda: F.triplet_margin_with_distance_loss(x, y, x, margin=-1), ValueError, "greater than 0"),
        (lambda: F.triplet_margin_with_distance_loss(x, y[0], x), RuntimeError, "same number of dimensions"),
        (lambda: F.triplet_margin_with_distance_loss(x, y, x, reduction="x"), ValueError, "not a valid"),
        (lambda: F.multi_margin_loss(x, idx, p=3), ValueError, "only p == 1 and p == 2"),
        (lambda: F.multi_margin_loss(x, idx, weight=T.ones(1, 5)), ValueError, "one-dimensional"),
        (
            lambda: F.multi_margin_loss(x, idx, weight=T.ones(4, dtype=T.float64)),
            RuntimeError,
            "inconsistent weight size",
        ),
        (
            lambda: F.multi_margin_loss(x, idx, weight=T.ones(5)),
            RuntimeError,
            "expected scalar type Double but found Float",
        ),
        (lambda: F.multi_margin_loss(x, idx[:2]), RuntimeError, "Expected target size [4], but got [2]"),
        (lambda: F.multi_margin_loss(x, idx[:, None]), RuntimeError, "target tensor should be 1-D"),
        (lambda: F.multi_margin_loss(x, idx.int()), RuntimeError, "expected scalar type Long but found Int"),
        (
            lambda: F.multi_margin_loss(x, idx.double()),
            RuntimeError,
            "expected scalar type Long but found Double",
        ),
        (lambda: F.multi_margin_loss(x, idx + 1), RuntimeError, "target out of range"),
        (lambda: F.multi_margin_loss(x[:, None], idx), RuntimeError, "Expected non-empty vector or matrix"),
        (lambda: F.multi_margin_loss(x[:, :0], idx), RuntimeError, "Expected non-empty vector or matrix"),
        (lambda: F.multi_margin_loss(x.long(), idx), NotImplementedError, "Long"),
        (
            lambda: F.multilabel_margin_loss(x, idx),
            RuntimeError,
            "inconsistent target size: [4] for input of size: [4, 5]",
        ),
        (lambda: F.multilabel_margin_loss(x[0], idx[None]), RuntimeError, "inconsistent target size"),
        (lambda: F.multilabel_margin_loss(x, T.full((4, 5), 5)), RuntimeError, "'target' is out of range"),
        (lambda: F.multilabel_margin_loss(x, T.full((4, 5), -2)), RuntimeError, "'target' is out of range"),
        (
            lambda: F.multilabel_margin_loss(x, T.zeros(4, 5, dtype=T.int32)),
            RuntimeError,
            "expected scalar type Long but found Int",
        ),
        (
            lambda: F.multilabel_margin_loss(x, T.zeros(4, 5)),
            RuntimeError,
            "expected scalar type Long but found Float",
        ),
        (lambda: F.multilabel_soft_margin_loss(x, y[:, :2]), RuntimeError, "multilabel_soft_margin_loss"),
        (
            lambda: F.multilabel_soft_margin_loss(x, y, weight=T.ones(2)),
            RuntimeError,
            "multilabel_soft_margin_loss",
        ),
        (lambda: F.multilabel_soft_margin_loss(x[0, 0], y[0, 0]), IndexError, "Dimension specified as -1"),
        (lambda: F.multilabel_soft_margin_loss(x, y, reduction="x"), ValueError, "x is not"),
        (lambda: F.soft_margin_loss(x, y[:, :2]), RuntimeError, "soft_margin_loss"),
        (lambda: F.soft_margin_loss(x[:1], y), RuntimeError, "soft_margin_loss"),
        (lambda: F.soft_margin_loss(x.long(), y.long()), RuntimeError, ""),
        (lambda: F.poisson_nll_loss(x, y[:, :2]), RuntimeError, "poisson_nll_loss"),
        (lambda: F.poisson_nll_loss(x, y, reduction="x"), ValueError, "x is not a valid value for reduction"),
        (lambda: F.gaussian_nll_loss(x, y, T.ones(4, 4)), ValueError, "var is of incorrect size"),
        (lambda: F.gaussian_nll_loss(x, y, T.ones(1, 1)), ValueError, "var is of incorrect size"),
        (lambda: F.gaussian_nll_loss(x, y, T.ones(5)), ValueError, "var is of incorrect size"),
        (lambda: F.gaussian_nll_loss(x, y, -T.ones(4, 5)), ValueError, "var has negative entry"),
        (lambda: F.gaussian_nll_loss(x, y, -1.0), ValueError, "var has negative entry"),
        (lambda: F.gaussian_nll_loss(x, y, T.ones(4, 5), reduction="x"), ValueError, "x is not valid"),
        (lambda: F.gaussian_nll_loss(x, y[:, :2], T.ones(4, 5)), RuntimeError, "gaussian_nll_loss"),
        (lambda: F.pdist(x[0]), RuntimeError, "pdist only supports 2D tensors, got: 1D"),
        (lambda: F.pdist(x, p=-1), RuntimeError, "pdist only supports non-negative p values"),
        (lambda: F.pdist(x.long()), RuntimeError, "pdist only supports floating-point dtypes"),
        (lambda: T.nn.TripletMarginLoss(margin=0), ValueError, "TripletMarginLoss: expected margin"),
        (lambda: T.nn.TripletMarginWithDistanceLoss(margin=0), ValueError, "TripletMarginWithDistanceLoss"),
        (lambda: T.nn.MultiMarginLoss(p=3), ValueError, "only p == 1 and p == 2"),
        (lambda: T.nn.MultiMarginLoss(weight=T.ones(2, 2)), ValueError, "expected weight to be None or 1D"),
    ]


def test_errors_match_torch() -> None:
    """Each call raises the listed type in PyTorch and in ember, ember's message with the fragment."""
    import torch

    for (e_call, expected, fragment), (t_call, _, _) in zip(_errors(ember), _errors(torch)):
        with pytest.raises(Exception) as te:
            t_call()
        assert te.type is expected, (fragment, te.value)
        with pytest.raises(Exception) as ee:
            e_call()
        assert ee.type is expected, (fragment, ee.value)
        assert fragment in str(ee.value), (fragment, str(ee.value))


# ---- gradcheck ---------------------------------------------------------------------------------


def _t(a: Any, grad: bool = True) -> ember.Tensor:
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def test_gradcheck() -> None:
    x, y, z = _t(X4), _t(Y4), _t(Z4)
    s = ember.tensor([1.0, -1.0, -1.0, 1.0])
    checks = [
        (lambda a, b: F.margin_ranking_loss(a, b, s, margin=0.1, reduction="none"), (x[:, 0], y[:, 0])),
        (lambda a, b: F.cosine_embedding_loss(a, b, s, margin=-0.5), (x, y)),
        (lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=3.0, swap=True), (x, y, z)),
        (lambda a: F.multi_margin_loss(a, ember.tensor([0, 4, 2, 2]), p=2, reduction="none"), (x,)),
        (lambda a: F.multilabel_margin_loss(a, ember.tensor([[3, 0, -1, 1, 2]] * 4)), (x,)),
        (lambda a, b: F.multilabel_soft_margin_loss(a, b), (x, _t(np.abs(Y4) / 3))),
        (lambda a, b: F.poisson_nll_loss(a, b, full=True), (x, _t(np.abs(Y4) + 1.5))),
        (lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=True), (x, y, _t(np.abs(Z4) + 0.1))),
        (lambda a: F.pdist(a, p=3), (x,)),
        (lambda a, b: F.cosine_similarity(a, b), (x, y)),
    ]
    for fn, inputs in checks:
        assert gradcheck(fn, inputs)
    assert gradgradcheck(lambda a, b, v: F.gaussian_nll_loss(a, b, v), (x, y, _t(np.abs(Z4) + 0.1)))
    assert gradgradcheck(lambda a: F.multi_margin_loss(a, ember.tensor([0, 4, 2, 2]), p=2), (x,))
    assert gradgradcheck(lambda a, b: F.soft_margin_loss(a, b), (x, ember.tensor(np.sign(Y4))))
