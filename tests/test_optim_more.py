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
    array, version = p._data, p._version[0]
    opt.step()
    assert p.dtype == ember.float64 and p._data is array and p._version[0] == version + 1
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
