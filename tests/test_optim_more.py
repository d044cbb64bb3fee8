"""The later optimizers (RAdam, Rprop, ASGD, LBFGS) against torch.optim: the same parameters
after the same gradients, state dicts of the same structure, resuming, reprs and errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import optim

SHAPES = [(4, 3), (3,), (2, 2, 2), ()]
STEPS = 20


def _gradients(dtype, steps: int = STEPS, seed: int = 0) -> list[list[np.ndarray | None]]:
    """One gradient per parameter per step; the third parameter has none every third step."""
    rng = np.random.RandomState(seed)
    sequence = []
    for t in range(steps):
        grads = [np.asarray(rng.randn(*s), dtype=dtype) for s in SHAPES]
        if t % 3 == 1:
            grads[2] = None
        sequence.append(grads)
    return sequence


def _initial(dtype) -> list[np.ndarray]:
    rng = np.random.RandomState(1)
    return [np.asarray(rng.randn(*s), dtype=dtype) for s in SHAPES]


def _groups(params, kwargs: dict) -> list[dict]:
    """Two groups: the second one has its own, smaller lr."""
    return [{"params": params[:2]}, {"params": params[2:], "lr": kwargs.get("lr", 1e-2) / 4}]


def _run(lib, name: str, kwargs: dict, grads: list, dtype=np.float32, params=None, opt=None):
    if params is None:
        params = [lib.tensor(a.copy(), requires_grad=True) for a in _initial(dtype)]
    if opt is None:
        opt = getattr(lib.optim, name)(_groups(params, kwargs), **kwargs)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else lib.tensor(g)
        opt.step()
    return params, opt


CASES = [
    ("RAdam", {}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "betas": (0.5, 0.6), "eps": 1e-3, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (0.01, 0.2)}),
    ("Rprop", {"lr": 0.05, "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "t0": 5, "lambd": 0.01, "alpha": 0.5, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.02, "t0": 3, "maximize": True}),
]
NAMES = ["RAdam", "Rprop", "ASGD"]


def _case_id(case) -> str:
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_torch(case, dtype):
    import torch

    name, kwargs = case
    grads = _gradients(dtype)
    params, opt = _run(ember, name, kwargs, grads, dtype)
    expected, torch_opt = _run(torch, name, kwargs, grads, dtype)
    for p, q in zip(params, expected):
        assert p.dtype == (ember.float32 if dtype == np.float32 else ember.float64)
        if dtype == np.float32:  # PyTorch's roundings, one by one (optim/_fused.py)
            np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        else:  # PyTorch fuses float64 multiply-adds too: a rounding apart at most
            assert_close(p, q, rtol=1e-14, atol=1e-15)

    state, torch_state = opt.state_dict()["state"], torch_opt.state_dict()["state"]
    assert state.keys() == torch_state.keys()
    for index in state:
        assert list(state[index]) == list(torch_state[index])
        for key, value in state[index].items():
            theirs = torch_state[index][key]
            assert value.shape == tuple(theirs.shape), key
            assert str(value.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], key
            assert_close(value, theirs, rtol=1e-6, atol=1e-7)
    assert opt.state_dict()["param_groups"] == torch_opt.state_dict()["param_groups"]


@requires_torch
@pytest.mark.parametrize("name", NAMES)
def test_repr_and_defaults_match_torch(name):
    import inspect

    import torch

    mine = getattr(optim, name)([ember.zeros(2, requires_grad=True)])
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert repr(mine) == repr(theirs)
    assert mine.defaults == theirs.defaults
    ours = inspect.signature(getattr(optim, name)).parameters
    assert [(k, v.default, v.kind) for k, v in ours.items()] == [
        (k, v.default, v.kind) for k, v in inspect.signature(getattr(torch.optim, name)).parameters.items()
    ]


@requires_torch
@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "Adamax", "RAdam"])
def test_betas_given_as_a_list_are_stored_as_torch_stores_them(name):
    """Adam and AdamW make betas a tuple; NAdam, Adamax and RAdam keep what they are given."""
    import torch

    mine = getattr(optim, name)([ember.zeros(2, requires_grad=True)], betas=[0.8, 0.9])
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], betas=[0.8, 0.9])
    assert type(mine.param_groups[0]["betas"]) is type(theirs.param_groups[0]["betas"])
    assert mine.defaults == theirs.defaults


@pytest.mark.parametrize("case", CASES[::2], ids=[_case_id(c) for c in CASES[::2]])
def test_state_dict_resume_is_exact(case):
    """Stop after 8 steps, rebuild everything from the state dict (pickled), finish: same bits."""
    name, kwargs = case
    grads = _gradients(np.float32)
    straight, _ = _run(ember, name, kwargs, grads)

    params, opt = _run(ember, name, kwargs, grads[:8])
    saved = pickle.loads(pickle.dumps((opt.state_dict(), [p.detach().numpy().copy() for p in params])))
    opt_state, values = saved
    resumed = [ember.tensor(v, requires_grad=True) for v in values]
    new_opt = getattr(optim, name)(_groups(resumed, {}), **kwargs)
    new_opt.load_state_dict(opt_state)
    assert new_opt.param_groups[1]["lr"] == opt.param_groups[1]["lr"]
    _run(ember, name, kwargs, grads[8:], params=resumed, opt=new_opt)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("name", NAMES)
def test_float64_parameters_keep_float64_state(name):
    p = ember.tensor(np.ones(3), dtype=ember.float64, requires_grad=True)
    opt = getattr(optim, name)([p])
    p.grad = ember.tensor(np.full(3, 0.5), dtype=ember.float64)
    array, version = p._data, p._version_cell[0]
    opt.step()
    assert p.dtype == ember.float64 and p._data is array and p._version_cell[0] == version + 1
    for key, value in opt.state[p].items():  # scalar state stays float32, as in PyTorch
        assert value.dtype == (ember.float32 if value.ndim == 0 else ember.float64), key


ERRORS = [
    (lambda p: optim.RAdam([p], lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.RAdam([p], eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda p: optim.RAdam([p], betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.RAdam([p], betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (lambda p: optim.RAdam([p], weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (lambda p: optim.Rprop([p], lr=-0.5), "Invalid learning rate: -0.5"),
    (lambda p: optim.Rprop([p], etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
    (lambda p: optim.Rprop([p], etas=(0.5, 0.9)), "Invalid eta values: 0.5, 0.9"),
    (lambda p: optim.ASGD([p], lr=-0.5), "Invalid learning rate: -0.5"),
    (lambda p: optim.ASGD([p], weight_decay=-1), "Invalid weight_decay value: -1"),
]


@pytest.mark.parametrize("make, message", ERRORS)
def test_invalid_options_raise_like_torch(make, message):
    p = ember.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make(p)


@requires_torch
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RAdam", {"lr": 0.01, "weight_decay": 0.01}),
        ("Rprop", {"lr": 0.01}),
        ("ASGD", {"lr": 0.05, "t0": 10}),
    ],
)
def test_trains_an_nn_module_with_a_scheduler_like_torch(name, kwargs):
    import torch

    from ember import nn

    rng = np.random.RandomState(7)
    x, y = rng.randn(16, 3).astype(np.float32), rng.randn(16, 1).astype(np.float32)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    mine = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    for p, q in zip(mine.parameters(), theirs.parameters()):
        p._data[...] = q.detach().numpy()
    losses = []
    for lib, model in ((ember, mine), (torch, theirs)):
        opt = getattr(lib.optim, name)(model.parameters(), **kwargs)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        inputs, targets = lib.tensor(x), lib.tensor(y)
        history = []
        for _ in range(20):
            opt.zero_grad()
            loss = ((model(inputs) - targets) ** 2).mean()
            loss.backward()
            opt.step()
            sched.step()
            history.append(loss.item())
        losses.append(history)
        assert opt.param_groups[0]["lr"] == pytest.approx(kwargs["lr"] / 16)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)
    assert losses[0][-1] < losses[0][0]


def test_asgd_averages_the_iterates_after_t0():
    """With t0 = 2, ax is the mean of the iterates from step t0 + 2 = 4 on (PyTorch's count)."""
    p = ember.zeros(1, requires_grad=True)
    opt = optim.ASGD([p], lr=0.1, lambd=0.0, t0=2)
    iterates = []
    for _ in range(6):
        p.grad = ember.ones(1)
        opt.step()
        iterates.append(p.item())
    assert opt.state[p]["ax"].item() == pytest.approx(np.mean(iterates[3:]), rel=1e-6)
    assert opt.state[p]["mu"].item() == pytest.approx(1 / 4)


def test_rprop_steps_follow_the_sign_only():
    p = ember.zeros(2, requires_grad=True)
    opt = optim.Rprop([p], lr=0.1, etas=(0.5, 2.0), step_sizes=(0.01, 0.3))
    for g in ([5.0, -1e-3], [1.0, -2.0], [3.0, 4.0]):
        p.grad = ember.tensor(g)
        opt.step()
    # first element: 0.1, then 0.2, then 0.3 (clamped); second: -0.1, -0.2, then a sign change:
    # step size halved and no move
    np.testing.assert_allclose(p.tolist(), [-0.6, 0.3], rtol=1e-6)
    np.testing.assert_allclose(opt.state[p]["step_size"].tolist(), [0.3, 0.1], rtol=1e-6)
    assert opt.state[p]["prev"].tolist() == [3.0, 0.0]


# ---- LBFGS ---------------------------------------------------------------------------------


def _problem(lib, name: str, dtype):
    """The parameters and loss function of a small problem: Rosenbrock's banana from
    (-1.5, 2), or a linear regression of 20 points on 3 features."""
    if name == "rosenbrock":
        x = lib.tensor(np.array([-1.5, 2.0], dtype), requires_grad=True)
        return [x], lambda: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    rng = np.random.RandomState(0)
    inputs = lib.tensor(np.asarray(rng.randn(20, 3), dtype))
    targets = lib.tensor(np.asarray(rng.randn(20, 1), dtype))
    w = lib.tensor(np.asarray(rng.randn(3, 1), dtype), requires_grad=True)
    b = lib.tensor(np.zeros(1, dtype), requires_grad=True)
    return [w, b], lambda: ((inputs @ w + b - targets) ** 2).mean()


def _run_lbfgs(lib, problem: str, kwargs: dict, dtype, steps: int, opt=None, params=None):
    """Run `steps` LBFGS steps; the flat parameters after each, the losses step() returned."""
    fresh, loss_fn = _problem(lib, problem, dtype)
    if params is not None:
        for p, value in zip(fresh, params):
            p.detach().copy_(lib.tensor(value))
    params = fresh
    opt = opt(params) if opt is not None else lib.optim.LBFGS(params, **kwargs)

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    iterates, losses = [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure)))
        iterates.append(np.concatenate([p.detach().numpy().ravel() for p in params]).astype(np.float64))
    return np.array(iterates), losses, opt, params


def _structure(value):
    """What a state value is made of: tensors by shape and dtype, lists element by element."""
    if isinstance(value, list):
        return [_structure(v) for v in value]
    if hasattr(value, "shape"):
        return tuple(value.shape), str(value.dtype).split(".")[-1]
    return type(value).__name__


LBFGS_CASES = [
    ("rosenbrock", {}),
    ("rosenbrock", {"line_search_fn": "strong_wolfe"}),
    ("rosenbrock", {"lr": 0.5, "max_iter": 5, "history_size": 3}),
    ("rosenbrock", {"history_size": 2, "max_iter": 7, "line_search_fn": "strong_wolfe"}),
    ("regression", {}),
    ("regression", {"max_iter": 4, "max_eval": 6, "line_search_fn": "strong_wolfe"}),
]


@requires_torch
@pytest.mark.parametrize("problem, kwargs", LBFGS_CASES, ids=[_case_id(c) for c in LBFGS_CASES])
def test_lbfgs_matches_torch_in_float64(problem, kwargs):
    """The same iterates (Rosenbrock amplifies the last-bit differences of the dot products
    from about the 40th iteration on: three steps stay within 1e-6), the same numbers of
    evaluations, and state dicts of the same structure."""
    import torch

    mine, my_losses, opt, _ = _run_lbfgs(ember, problem, kwargs, np.float64, steps=3)
    theirs, their_losses, torch_opt, _ = _run_lbfgs(torch, problem, kwargs, np.float64, steps=3)
    np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(my_losses, their_losses, rtol=1e-6)
    state, torch_state = opt.state_dict(), torch_opt.state_dict()
    assert state["param_groups"] == torch_state["param_groups"]
    assert state["state"].keys() == torch_state["state"].keys() == {0}
    mine_0, theirs_0 = state["state"][0], torch_state["state"][0]
    assert list(mine_0) == list(theirs_0)
    assert (mine_0["func_evals"], mine_0["n_iter"]) == (theirs_0["func_evals"], theirs_0["n_iter"])
    for key in mine_0:
        assert _structure(mine_0[key]) == _structure(theirs_0[key]), key


@requires_torch
@pytest.mark.parametrize("problem, kwargs", LBFGS_CASES[::3], ids=[_case_id(c) for c in LBFGS_CASES[::3]])
def test_lbfgs_first_step_matches_torch_in_float32(problem, kwargs):
    import torch

    mine, _, opt, _ = _run_lbfgs(ember, problem, kwargs, np.float32, steps=1)
    theirs, _, torch_opt, _ = _run_lbfgs(torch, problem, kwargs, np.float32, steps=1)
    np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    mine_0, theirs_0 = opt.state_dict()["state"][0], torch_opt.state_dict()["state"][0]
    for key in mine_0:  # float32 problems keep float32 state, 0-d tensors included
        assert _structure(mine_0[key]) == _structure(theirs_0[key]), key


@pytest.mark.parametrize("kwargs", [{}, {"line_search_fn": "strong_wolfe", "history_size": 3}])
def test_lbfgs_resumes_exactly_from_a_state_dict(kwargs):
    straight, _, _, _ = _run_lbfgs(ember, "rosenbrock", kwargs, np.float64, steps=2)
    first, _, opt, params = _run_lbfgs(ember, "rosenbrock", kwargs, np.float64, steps=1)
    saved = pickle.loads(pickle.dumps(opt.state_dict()))

    def restored(params):
        new = optim.LBFGS(params, **kwargs)
        new.load_state_dict(saved)
        return new

    values = [p.detach().numpy().copy() for p in params]
    resumed, _, _, _ = _run_lbfgs(
        ember, "rosenbrock", kwargs, np.float64, steps=1, opt=restored, params=values
    )
    np.testing.assert_array_equal(resumed[0], straight[1])


def test_lbfgs_state_loaded_into_float64_parameters_is_float64():
    """load_state_dict casts the floating state to each parameter's dtype, the tensors in
    LBFGS's history lists too, as PyTorch's does."""
    x = ember.tensor([1.5, 2.0], requires_grad=True)
    opt = optim.LBFGS([x], history_size=3, max_iter=4)

    def closure():
        opt.zero_grad()
        loss = ((x - 3) ** 4).sum()
        loss.backward()
        return loss

    opt.step(closure)
    y = ember.tensor([1.5, 2.0], dtype=ember.float64, requires_grad=True)
    loaded = optim.LBFGS([y], history_size=3, max_iter=4)
    loaded.load_state_dict(opt.state_dict())
    state = loaded.state[y]
    assert state["old_dirs"] and state["old_stps"]
    for t in [state["d"], *state["old_dirs"], *state["old_stps"]]:
        assert t.dtype == ember.float64


def test_lbfgs_returns_the_first_loss_and_stops_at_a_minimum():
    x = ember.tensor([1.0, 1.0], dtype=ember.float64, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe")
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0 and len(calls) == 1  # the gradient is 0 already
    x.detach().copy_(ember.tensor([-1.0, 1.0], dtype=ember.float64))
    version = x._version_cell[0]
    loss = opt.step(closure)
    assert float(loss) == pytest.approx(4.0) and x._version_cell[0] > version
    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(x.tolist(), [1.0, 1.0], atol=1e-4)  # PyTorch stops there too


@requires_torch
def test_lbfgs_repr_signature_and_defaults_match_torch():
    import inspect

    import torch

    mine = optim.LBFGS([ember.zeros(2, requires_grad=True)], max_iter=8)
    theirs = torch.optim.LBFGS([torch.zeros(2, requires_grad=True)], max_iter=8)
    assert repr(mine) == repr(theirs) and mine.defaults == theirs.defaults
    assert mine.defaults["max_eval"] == 10
    ours = inspect.signature(optim.LBFGS).parameters.values()
    assert [(v.name, v.default, v.kind) for v in ours] == [
        (v.name, v.default, v.kind) for v in inspect.signature(torch.optim.LBFGS).parameters.values()
    ]


def test_lbfgs_errors():
    p = ember.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.LBFGS([p], lr=-1)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [ember.ones(1, requires_grad=True)]}])
    opt = optim.LBFGS([p])
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        opt.add_param_group({"params": [ember.ones(1, requires_grad=True)]})
    assert len(opt.param_groups) == 1
    with pytest.raises(TypeError):
        opt.step()  # the closure is required

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        optim.LBFGS([p], line_search_fn="wolfe").step(closure)


@requires_torch
def test_lbfgs_with_a_scheduler_like_torch():
    import torch

    results = []
    for lib in (ember, torch):
        params, loss_fn = _problem(lib, "regression", np.float64)
        opt = lib.optim.LBFGS(params, lr=0.8, max_iter=3)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        def closure(opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        losses = []
        for _ in range(5):
            losses.append(float(opt.step(closure)))
            sched.step()
        results.append(losses)
        assert opt.param_groups[0]["lr"] == pytest.approx(0.2)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10)


# ---- SparseAdam ----------------------------------------------------------------------------


@requires_torch
def test_sparse_adam_checks_and_rejects_dense_gradients_like_torch():
    import torch

    for lib in (ember, torch):
        p = lib.ones(2, requires_grad=True)
        for kwargs, message in (
            ({"lr": 0.0}, "Invalid learning rate: 0.0"),
            ({"eps": 0.0}, "Invalid epsilon value: 0.0"),
            ({"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
        ):
            with pytest.raises(ValueError, match=message.replace("(", r"\(")):
                lib.optim.SparseAdam([p], **kwargs)
        opt = lib.optim.SparseAdam([p])
        assert opt.step(lambda: 3.0) == 3.0  # no gradient yet: nothing to do
        p.grad = lib.ones(2)
        with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
            opt.step()
    assert repr(optim.SparseAdam([ember.ones(2, requires_grad=True)])) == repr(
        torch.optim.SparseAdam([torch.ones(2, requires_grad=True)])
    )
