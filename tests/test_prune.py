"""ember.nn.utils.prune against torch.nn.utils.prune: the same masks (ties included) for the
deterministic methods, the same layout (weight_orig, weight_mask, hook) and state_dict keys,
the same forward and gradients; counts and structure for the random methods. Also the
deprecated non-underscore aliases of nn.init."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember import nn
from ember.nn.utils import prune
from ember.nn.utils.prune import _torch_topk

torch = pytest.importorskip("torch")
tprune = pytest.importorskip("torch.nn.utils.prune")

pytestmark = requires_torch


def _pair(kind: str = "linear", dtype: str = "float32", ties: bool = False):
    """A torch module and an ember one with the same weights; with ties, weights take few
    distinct values (so that the choice among equal scores matters)."""
    if kind == "linear":
        t, e = torch.nn.Linear(7, 5), nn.Linear(7, 5)
    else:
        t, e = torch.nn.Conv2d(3, 6, 3), nn.Conv2d(3, 6, 3)
    t = t.to(getattr(torch, dtype))
    e = e.to(getattr(ember, dtype))
    if ties:
        with torch.no_grad():
            rs = np.random.RandomState(1)
            t.weight.copy_(torch.tensor(rs.randint(-2, 3, t.weight.shape) * 0.5))
    for name in ("weight", "bias"):
        getattr(e, name).data = ember.tensor(getattr(t, name).detach().numpy().copy())
    return t, e


def _same_mask(t, e, name="weight"):
    np.testing.assert_array_equal(getattr(e, name + "_mask").numpy(), getattr(t, name + "_mask").numpy())
    assert getattr(e, name + "_mask").dtype == getattr(ember, str(getattr(t, name + "_mask").dtype)[6:])


def _same_forward_and_grad(t, e):
    shape = (2, 7) if isinstance(t, torch.nn.Linear) else (2, 3, 6, 6)
    x = np.random.RandomState(2).randn(*shape)
    out_t = t(torch.tensor(x, dtype=t.bias.dtype))
    out_e = e(ember.tensor(x, dtype=e.bias.dtype))
    np.testing.assert_allclose(out_e.detach().numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-5)
    out_t.square().sum().backward()
    out_e.square().sum().backward()
    np.testing.assert_allclose(e.weight_orig.grad.numpy(), t.weight_orig.grad.numpy(), rtol=1e-4, atol=1e-5)


# ---- the topk selection ----------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 5, 8, 17, 64, 65, 130, 700])
@pytest.mark.parametrize("distinct", [1, 2, 3, 0])
def test_topk_selection_picks_torchs_entries_among_ties(n, distinct):
    rs = np.random.RandomState(n + distinct)
    x = rs.randint(0, max(distinct, 1), n).astype(np.float32)
    if distinct == 0:  # NaN counts as the largest
        x[rs.randint(0, n, 2)] = np.nan
    for k in sorted({1, 2, n // 64 + 1, n // 3, n // 2, n - 1, n} - {0}):
        for largest in (False, True):
            theirs = torch.topk(torch.tensor(x), k, largest=largest).indices.sort().values.numpy()
            np.testing.assert_array_equal(_torch_topk(x, k, largest), theirs)


# ---- deterministic methods: the same masks ----------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("amount", [0, 3, 0.3, 0.5, 1.0])
def test_l1_unstructured_matches_torch(dtype, ties, amount):
    t, e = _pair("conv", dtype, ties)
    assert tprune.l1_unstructured(t, "weight", amount) is t
    assert prune.l1_unstructured(e, "weight", amount) is e
    _same_mask(t, e)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == ["weight_mask"]
    assert "weight" not in e._parameters and isinstance(e.weight_orig, nn.Parameter)
    np.testing.assert_array_equal(e.weight.detach().numpy(), t.weight.detach().numpy())
    _same_forward_and_grad(t, e)


@pytest.mark.parametrize("n", [1, 2, 3, float("inf"), float("-inf"), "fro"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_ln_structured_matches_torch(n, dim, ties, kind):
    t, e = _pair(kind, "float32", ties)
    if n == "fro" and kind == "conv":  # a Frobenius norm over 3 dims: both refuse
        with pytest.raises(RuntimeError):
            tprune.ln_structured(t, "weight", amount=0.5, n=n, dim=dim)
        with pytest.raises(RuntimeError, match="'fro'"):
            prune.ln_structured(e, "weight", amount=0.5, n=n, dim=dim)
        return
    tprune.ln_structured(t, "weight", amount=0.5, n=n, dim=dim)
    prune.ln_structured(e, "weight", amount=0.5, n=n, dim=dim)
    _same_mask(t, e)
    _same_forward_and_grad(t, e)


def test_importance_scores_choose_the_mask():
    t, e = _pair("linear")
    scores = np.random.RandomState(3).randn(5, 7).astype(np.float32)
    tprune.l1_unstructured(t, "weight", 10, importance_scores=torch.tensor(scores))
    prune.l1_unstructured(e, "weight", 10, importance_scores=ember.tensor(scores))
    _same_mask(t, e)
    tprune.ln_structured(t, "weight", 2, 1, 0, importance_scores=torch.tensor(scores))
    prune.ln_structured(e, "weight", 2, 1, 0, importance_scores=ember.tensor(scores))
    _same_mask(t, e)
    with pytest.raises(AssertionError, match="same shape"):
        prune.l1_unstructured(e, "weight", 1, importance_scores=ember.ones(2, 2))


def test_custom_from_mask_and_identity():
    t, e = _pair("linear")
    mask = np.random.RandomState(4).rand(5, 7) > 0.5
    tprune.custom_from_mask(t, "weight", torch.tensor(mask))
    prune.custom_from_mask(e, "weight", ember.tensor(mask))
    _same_mask(t, e)
    tprune.identity(t, "bias")
    prune.identity(e, "bias")
    _same_mask(t, e, "bias")
    assert list(e.state_dict()) == list(t.state_dict())


@pytest.mark.parametrize("ties", [False, True])
def test_iterative_pruning_combines_masks_like_torch(ties):
    t, e = _pair("conv", "float64", ties)
    steps = [
        ("l1_unstructured", dict(amount=0.3)),
        ("ln_structured", dict(amount=2, n=2, dim=0)),
        ("l1_unstructured", dict(amount=5)),
        ("ln_structured", dict(amount=0.5, n=1, dim=1)),
        ("l1_unstructured", dict(amount=0.4)),
    ]
    for fn, kwargs in steps:
        getattr(tprune, fn)(t, "weight", **kwargs)
        getattr(prune, fn)(e, "weight", **kwargs)
        _same_mask(t, e)
    hooks = list(e._forward_pre_hooks.values())  # the hooks themselves, as in torch
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer) and len(hooks[0]) == len(steps)
    assert [type(m).__name__ for m in hooks[0]] == [
        type(m).__name__ for m in next(iter(t._forward_pre_hooks.values()))
    ]
    assert isinstance(hooks[0][-1], prune.L1Unstructured)
    _same_forward_and_grad(t, e)


@pytest.mark.parametrize("ties", [False, True])
def test_global_unstructured_matches_torch(ties):
    (t1, e1), (t2, e2) = _pair("linear", ties=ties), _pair("conv", ties=ties)
    tprune.l1_unstructured(t1, "weight", 4)  # a parameter pruned before keeps its zeros
    prune.l1_unstructured(e1, "weight", 4)
    tparams = [(t1, "weight"), (t2, "weight"), (t2, "bias")]
    eparams = [(e1, "weight"), (e2, "weight"), (e2, "bias")]
    tprune.global_unstructured(tparams, pruning_method=tprune.L1Unstructured, amount=0.4)
    prune.global_unstructured(eparams, pruning_method=prune.L1Unstructured, amount=0.4)
    for tm, em, name in [(t1, e1, "weight"), (t2, e2, "weight"), (t2, e2, "bias")]:
        _same_mask(tm, em, name)
    scores = {(t2, "weight"): torch.ones(6, 3, 3, 3)}
    tprune.global_unstructured(tparams[1:], tprune.L1Unstructured, importance_scores=scores, amount=7)
    scores = {(e2, "weight"): ember.ones(6, 3, 3, 3)}
    prune.global_unstructured(eparams[1:], prune.L1Unstructured, importance_scores=scores, amount=7)
    _same_mask(t2, e2)
    _same_mask(t2, e2, "bias")


def test_remove_makes_pruning_permanent():
    t, e = _pair("conv")
    tprune.l1_unstructured(t, "weight", 0.5)
    prune.l1_unstructured(e, "weight", 0.5)
    orig = e.weight_orig
    assert prune.is_pruned(nn.Sequential(e)) and not prune.is_pruned(nn.Linear(2, 2))
    assert tprune.remove(t, "weight") is t
    assert prune.remove(e, "weight") is e
    assert e.weight is orig and isinstance(e.weight, nn.Parameter)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    assert not e._forward_pre_hooks and not prune.is_pruned(e)
    np.testing.assert_array_equal(e.weight.detach().numpy(), t.weight.detach().numpy())
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(e, "weight")


def test_state_dict_loads_into_a_pruned_module():
    _, e = _pair("linear")
    prune.l1_unstructured(e, "weight", 0.5)
    other = nn.Linear(7, 5)
    prune.identity(other, "weight")
    other.load_state_dict(e.state_dict())
    other(ember.ones(1, 7))  # the hook recomputes weight from the loaded orig and mask
    np.testing.assert_array_equal(other.weight.detach().numpy(), e.weight.detach().numpy())


def test_prune_method_on_a_tensor():
    w = np.random.RandomState(5).randn(4, 5)
    ours = prune.L1Unstructured(amount=6).prune(ember.tensor(w))
    theirs = tprune.L1Unstructured(amount=6).prune(torch.tensor(w))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_custom_pruning_method_as_in_the_tutorial():
    class EveryOther(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    _, e = _pair("linear")
    EveryOther.apply(e, "bias")
    np.testing.assert_array_equal(e.bias_mask.numpy(), [0, 1, 0, 1, 0])
    EveryOther.apply(e, "bias")  # on the entries still alive: 1 and 3, of which 1 goes
    np.testing.assert_array_equal(e.bias_mask.numpy(), [0, 0, 0, 1, 0])


# ---- random methods: counts and structure ------------------------------------------------------


def test_random_unstructured_prunes_the_right_count():
    _, e = _pair("conv")
    prune.random_unstructured(e, "weight", amount=0.3)
    assert int((e.weight_mask.numpy() == 0).sum()) == round(0.3 * 162)
    prune.random_unstructured(e, "weight", amount=10)  # 10 more among those left
    assert int((e.weight_mask.numpy() == 0).sum()) == round(0.3 * 162) + 10
    np.testing.assert_array_equal(
        e.weight.detach().numpy(), e.weight_orig.detach().numpy() * e.weight_mask.numpy()
    )


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_random_structured_prunes_whole_channels(dim):
    _, e = _pair("conv")
    prune.random_structured(e, "weight", amount=0.5, dim=dim)
    mask = np.moveaxis(e.weight_mask.numpy(), dim, 0).reshape(e.weight.shape[dim], -1)
    per_channel = mask.sum(axis=1)
    assert set(per_channel.tolist()) <= {0.0, float(mask.shape[1])}
    assert int((per_channel == 0).sum()) == round(0.5 * e.weight.shape[dim])


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount,exc,fragment",
    [
        ("a", TypeError, "Invalid type for amount"),
        (-1, ValueError, "non-negative"),
        (1.5, ValueError, "range"),
    ],
)
def test_amount_validation(amount, exc, fragment):
    with pytest.raises(exc, match=fragment):
        prune.L1Unstructured(amount)
    with pytest.raises(exc):
        tprune.L1Unstructured(amount)


def test_errors_leave_the_module_as_it_was():
    _, e = _pair("linear")
    with pytest.raises(ValueError, match="should be smaller than the number of parameters to prune=35"):
        prune.l1_unstructured(e, "weight", 36)
    # as in PyTorch, the parameter is registered anew, after the others
    assert list(e.state_dict()) == ["bias", "weight"] and not e._forward_pre_hooks
    with pytest.raises(ValueError, match="Structured pruning can only be applied to multidimensional"):
        prune.ln_structured(e, "bias", 1, 2, 0)
    with pytest.raises(IndexError, match="Invalid index 2"):
        prune.random_structured(e, "weight", 1, 2)
    with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE'):
        prune.global_unstructured([(e, "weight")], prune.RandomStructured, amount=1)
    with pytest.raises(TypeError, match="importance_scores must be of type dict"):
        prune.global_unstructured([(e, "weight")], prune.L1Unstructured, importance_scores=[], amount=1)
    assert list(e.state_dict()) == ["bias", "weight"]


def test_pruning_container_checks_what_it_holds():
    first = prune.L1Unstructured(1)
    first._tensor_name = "weight"
    container = prune.PruningContainer(first)
    assert len(container) == 1 and container[0] is first
    with pytest.raises(TypeError, match="is not a BasePruningMethod subclass"):
        container.add_pruning_method("l1")
    other = prune.L1Unstructured(1)
    other._tensor_name = "bias"
    with pytest.raises(
        ValueError, match="Can only add pruning methods acting on the parameter named 'weight'"
    ):
        container.add_pruning_method(other)


def test_the_tutorials_look_at_the_hooks_works():
    """The tutorial finds the pruning hook in module._forward_pre_hooks, as the hook itself."""
    _, e = _pair("conv")
    prune.random_unstructured(e, "weight", amount=0.3)
    prune.ln_structured(e, "weight", amount=0.5, n=2, dim=0)
    for hook in e._forward_pre_hooks.values():
        if hook._tensor_name == "weight":
            break
    assert [type(m).__name__ for m in hook] == ["RandomUnstructured", "LnStructured"]


def test_a_removed_hook_leaves_no_options_behind():
    m = nn.Linear(2, 2)
    handle = m.register_forward_pre_hook(lambda mod, args, kwargs: None, with_kwargs=True)
    after = m.register_forward_hook(lambda mod, args, out: None, always_call=True)
    assert len(m._forward_pre_hooks_with_kwargs) == len(m._forward_hooks_always_called) == 1
    handle.remove()
    after.remove()
    assert not m._forward_pre_hooks and not m._forward_pre_hooks_with_kwargs
    assert not m._forward_hooks and not m._forward_hooks_always_called
