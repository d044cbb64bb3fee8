"""ember.optim.lr_scheduler against torch.optim.lr_scheduler: the same learning rates (and momenta),
step for step, and an interrupted run resumed from state dicts equals the uninterrupted one."""

from __future__ import annotations

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember import optim
from ember.optim import lr_scheduler

STEPS = 60


def _optimizer(lib, kind: str = "SGD"):
    a = lib.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    b = lib.tensor(np.ones(3, np.float32), requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if kind == "Adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def _sequential(S, opt):
    return S.SequentialLR(
        opt,
        [S.LinearLR(opt, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(opt, T_max=30, eta_min=0.001)],
        milestones=[5],
    )


def _sequential3(S, opt):
    return S.SequentialLR(
        opt,
        [S.ConstantLR(opt, factor=0.5, total_iters=4), S.ExponentialLR(opt, 0.9), S.StepLR(opt, 5, 0.5)],
        milestones=[10, 25],
    )


def _chained(S, opt):
    return S.ChainedScheduler([S.ConstantLR(opt, factor=0.1, total_iters=3), S.ExponentialLR(opt, gamma=0.9)])


SCHEDULERS = {
    "StepLR": (lambda S, o: S.StepLR(o, step_size=7, gamma=0.5), "SGD"),
    "MultiStepLR": (lambda S, o: S.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3), "SGD"),
    "ExponentialLR": (lambda S, o: S.ExponentialLR(o, gamma=0.93), "SGD"),
    "CosineAnnealingLR": (lambda S, o: S.CosineAnnealingLR(o, T_max=20, eta_min=0.001), "SGD"),
    "LambdaLR": (lambda S, o: S.LambdaLR(o, lambda e: 0.95**e), "SGD"),
    "LambdaLR-per-group": (lambda S, o: S.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9**e]), "SGD"),
    "MultiplicativeLR": (lambda S, o: S.MultiplicativeLR(o, lambda e: 0.97), "SGD"),
    "LinearLR-warmup": (lambda S, o: S.LinearLR(o, start_factor=0.25, total_iters=10), "SGD"),
    "LinearLR-decay": (lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=20), "SGD"),
    "ConstantLR": (lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=8), "SGD"),
    "PolynomialLR": (lambda S, o: S.PolynomialLR(o, total_iters=25, power=2.0), "SGD"),
    "CosineAnnealingWarmRestarts": (
        lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2, eta_min=0.01),
        "SGD",
    ),
    "OneCycleLR-cos": (lambda S, o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS), "SGD"),
    "OneCycleLR-linear": (
        lambda S, o: S.OneCycleLR(o, max_lr=0.8, epochs=6, steps_per_epoch=10, anneal_strategy="linear"),
        "SGD",
    ),
    "OneCycleLR-three-phase": (
        lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=STEPS, pct_start=0.25, three_phase=True),
        "SGD",
    ),
    "OneCycleLR-adam-betas": (lambda S, o: S.OneCycleLR(o, max_lr=0.01, total_steps=STEPS), "Adam"),
    "SequentialLR": (_sequential, "SGD"),
    "SequentialLR-three": (_sequential3, "SGD"),
    "ChainedScheduler": (_chained, "SGD"),
}


def _trace(lib, name: str, steps: int = STEPS) -> list:
    """(last lrs, group lrs, momenta) after construction and after each step."""
    make, kind = SCHEDULERS[name]
    opt = _optimizer(lib, kind)
    sched = make(lib.optim.lr_scheduler, opt)
    trace = [_snapshot(sched, opt)]
    for _ in range(steps - 1 if name.startswith("OneCycle") else steps):
        opt.step()
        sched.step()
        trace.append(_snapshot(sched, opt))
    return trace


def _snapshot(sched, opt) -> tuple:
    momenta = [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]
    return (list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups], momenta)


@requires_torch
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_sequence_matches_torch(name):
    import torch

    mine, theirs = _trace(ember, name), _trace(torch, name)
    assert len(mine) == len(theirs)
    for step, (a, b) in enumerate(zip(mine, theirs)):
        assert a == b, f"step {step}: {a} != {b}"


def _tensor_lr_trace(lib, name: str) -> list:
    """As _trace, with each group's lr a tensor: the scheduler must fill that very tensor."""
    make, kind = SCHEDULERS.get(name, (None, "SGD"))
    opt = _optimizer(lib, kind)
    for group in opt.param_groups:
        group["lr"] = lib.tensor(group["lr"])
    lrs = [group["lr"] for group in opt.param_groups]
    if name == "ReduceLROnPlateau":
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.3)
    elif name == "CyclicLR":
        sched = lib.optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4)
    else:
        sched = make(lib.optim.lr_scheduler, opt)
    trace = []
    for _ in range(STEPS - 1):
        opt.step()
        sched.step(1.0) if name == "ReduceLROnPlateau" else sched.step()
        assert all(g["lr"] is lr for g, lr in zip(opt.param_groups, lrs))
        last = sched.get_last_lr()
        assert all(a is not lr for a, lr in zip(last, lrs))  # a copy, not the live tensor
        trace.append([float(x) for x in last] + [float(lr) for lr in lrs])
    return trace


@requires_torch
@pytest.mark.parametrize("name", [*SCHEDULERS, "ReduceLROnPlateau", "CyclicLR"])
def test_tensor_learning_rates_are_filled_in_place_as_torch(name):
    # PyTorch fills an lr given as a tensor in place (and clones it for initial_lr and
    # get_last_lr); ember replaced it with a float or a new tensor, and its float32
    # rounding was lost, so the schedules drifted from PyTorch's in the last bits
    import torch

    assert _tensor_lr_trace(ember, name) == _tensor_lr_trace(torch, name)


def _metrics() -> list[float]:
    """A loss that falls, stalls, falls a little (below the threshold), jumps and falls again."""
    values = [1.0 - 0.05 * i for i in range(8)]
    values += [0.65] * 6 + [0.65 - 1e-6 * i for i in range(8)] + [0.9] * 5
    values += [0.6 - 0.02 * i for i in range(10)] + [0.4] * 23
    return values


PLATEAU = {
    "min-rel": {"patience": 3},
    "min-abs-cooldown": {"patience": 2, "threshold": 0.01, "threshold_mode": "abs", "cooldown": 3},
    "max-rel": {"mode": "max", "patience": 2, "factor": 0.5},
    "max-abs-min-lr": {"mode": "max", "threshold_mode": "abs", "patience": 1, "min_lr": [0.02, 0.001]},
    "min-lr-eps": {"patience": 0, "factor": 0.5, "min_lr": 0.01, "eps": 1e-3},
}


def _plateau_trace(lib, kwargs: dict) -> list:
    opt = _optimizer(lib)
    sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    values = _metrics()
    if kwargs.get("mode") == "max":
        values = [-v for v in values]
    trace = []
    for v in values:
        opt.step()
        sched.step(v)
        trace.append((list(sched.get_last_lr()), sched.num_bad_epochs, sched.cooldown_counter, sched.best))
    return trace


@requires_torch
@pytest.mark.parametrize("case", list(PLATEAU))
def test_reduce_lr_on_plateau_matches_torch(case):
    import torch

    mine, theirs = _plateau_trace(ember, PLATEAU[case]), _plateau_trace(torch, PLATEAU[case])
    assert mine == theirs
    assert len({tuple(t[0]) for t in mine}) > 1  # the schedule did reduce the learning rate


# ---- save and resume ----------------------------------------------------------------------------


def _train(name: str, steps: int, start=None) -> tuple:
    """SGD on a quadratic with the scheduler; optionally from saved (optimizer, scheduler, params)."""
    make, kind = SCHEDULERS[name]
    opt = _optimizer(ember, kind)
    params = [p for g in opt.param_groups for p in g["params"]]
    sched = make(lr_scheduler, opt)
    if start is not None:
        opt_state, sched_state, values = pickle.loads(start)
        for p, v in zip(params, values):
            p._data[...] = v
        opt.load_state_dict(opt_state)
        sched.load_state_dict(sched_state)
    lrs = []
    for _ in range(steps):
        opt.zero_grad()
        loss = sum(((p - 3.0) ** 2).sum() for p in params)
        loss.backward()
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    saved = pickle.dumps((opt.state_dict(), sched.state_dict(), [p.detach().numpy().copy() for p in params]))
    return lrs, [p.detach().numpy().copy() for p in params], saved


@pytest.mark.parametrize(
    "name",
    [
        "StepLR",
        "CosineAnnealingLR",
        "LambdaLR",
        "CosineAnnealingWarmRestarts",
        "OneCycleLR-adam-betas",
        "SequentialLR",
        "ChainedScheduler",
    ],
)
def test_resume_from_state_dicts_gives_the_same_trajectory(name):
    total, cut = STEPS - 1, 23
    lrs, params, _ = _train(name, total)
    first_lrs, _, saved = _train(name, cut)
    rest_lrs, resumed, _ = _train(name, total - cut, start=saved)
    assert first_lrs + rest_lrs == lrs
    for a, b in zip(params, resumed):
        np.testing.assert_array_equal(a, b)


def test_reduce_lr_on_plateau_resumes():
    values = _metrics()
    opt = _optimizer(ember)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=2)
    straight = []
    for v in values:
        sched.step(v)
        straight.append(sched.get_last_lr())

    opt = _optimizer(ember)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=2)
    resumed = []
    for v in values[:20]:
        sched.step(v)
        resumed.append(sched.get_last_lr())
    saved = copy.deepcopy((opt.state_dict(), sched.state_dict()))
    opt = _optimizer(ember)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=2)
    opt.load_state_dict(saved[0])
    sched.load_state_dict(saved[1])
    for v in values[20:]:
        sched.step(v)
        resumed.append(sched.get_last_lr())
    assert resumed == straight


# ---- behaviour ------------------------------------------------------------------------------------


def test_initial_lr_is_set_and_resuming_needs_it():
    opt = _optimizer(ember)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    assert sched.base_lrs == [0.1, 0.05] and sched.last_epoch == 0
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_optimizer(ember), step_size=2, last_epoch=3)


def test_warns_when_stepped_before_the_optimizer():
    sched = lr_scheduler.StepLR(_optimizer(ember), step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_no_warning_in_the_right_order():
    opt = _optimizer(ember)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [0.05, 0.025]


def test_step_with_epoch_uses_the_closed_form():
    opt = _optimizer(ember)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(5)
    assert sched.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi * 5 / 10)) / 2)


def test_lambda_state_dict_keeps_callable_objects_state():
    class Decay:
        def __init__(self) -> None:
            self.rate = 0.5

        def __call__(self, epoch: int) -> float:
            return self.rate**epoch

    decay = Decay()
    sched = lr_scheduler.LambdaLR(_optimizer(ember), [decay, lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    decay.rate = 0.1
    sched.load_state_dict(state)
    assert decay.rate == 0.5


ERRORS = [
    (lambda o: lr_scheduler.StepLR("sgd", 3), TypeError, "str is not an Optimizer"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=2.0), ValueError, "between 0 and 1"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "greater than 0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown!"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1), ValueError, "total_steps OR"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5), ValueError, "pct_start"),
    (lambda o: lr_scheduler.OneCycleLR(o, [0.1], total_steps=10), ValueError, "same length"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (
        lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], milestones=[3]),
        ValueError,
        "one more",
    ),
    (lambda o: lr_scheduler.ChainedScheduler([]), ValueError, "at least one scheduler"),
    (
        lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], milestones=[]),
        ValueError,
        "does not support `ReduceLROnPlateau`",
    ),
]


@pytest.mark.parametrize("make, error, message", ERRORS)
def test_invalid_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make(_optimizer(ember))


def test_one_cycle_refuses_to_step_past_total_steps():
    opt = _optimizer(ember)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    opt.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()


def test_public_names():
    assert lr_scheduler._LRScheduler is lr_scheduler.LRScheduler
    assert isinstance(lr_scheduler.ReduceLROnPlateau(_optimizer(ember)), lr_scheduler.LRScheduler)
    assert optim.lr_scheduler is lr_scheduler


def test_get_lr_outside_step_warns():
    sched = lr_scheduler.StepLR(_optimizer(ember), step_size=2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
