"""CyclicLR and the weight-averaging tools of ember.optim.swa_utils against PyTorch: the same
learning rates and momenta step for step, the same averaged weights, the same BatchNorm
statistics from update_bn."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import ember
from conftest import requires_torch
from ember.optim import lr_scheduler

# ---- CyclicLR ------------------------------------------------------------------------------------


def _optimizer(lib, kind: str = "SGD"):
    a = lib.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    b = lib.tensor(np.ones(3, np.float32), requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if kind == "Adam":
        return lib.optim.Adam(groups, lr=0.1)
    if kind == "Adagrad":
        return lib.optim.Adagrad(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


class HalfPower:
    """A scale function that is a callable object: state_dict keeps its attributes."""

    def __init__(self) -> None:
        self.base = 0.5

    def __call__(self, x: float) -> float:
        return self.base**x


CYCLIC = {
    "triangular": (dict(base_lr=0.01, max_lr=0.1, step_size_up=7), "SGD"),
    "triangular-per-group-asymmetric": (
        dict(base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=5, step_size_down=9),
        "SGD",
    ),
    "triangular2": (dict(base_lr=0.01, max_lr=0.1, step_size_up=4, mode="triangular2"), "SGD"),
    "exp_range": (dict(base_lr=0.01, max_lr=0.1, step_size_up=6, mode="exp_range", gamma=0.97), "SGD"),
    "scale_fn-cycle": (dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda c: 1 / (c + 1)), "SGD"),
    "scale_fn-iterations": (
        dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda i: 0.99**i, scale_mode="iterations"),
        "SGD",
    ),
    "scale_fn-object-ignores-mode": (
        dict(base_lr=0.01, max_lr=0.1, step_size_up=2, mode="no such mode", scale_fn=HalfPower()),
        "SGD",
    ),
    "momenta-per-group": (
        dict(base_lr=0.01, max_lr=0.1, step_size_up=5, base_momentum=[0.7, 0.85], max_momentum=[0.9, 0.95]),
        "SGD",
    ),
    "adam-betas": (
        dict(base_lr=0.001, max_lr=0.01, step_size_up=5, base_momentum=0.85, max_momentum=0.95),
        "Adam",
    ),
    "no-cycle-momentum": (dict(base_lr=0.001, max_lr=0.01, step_size_up=5, cycle_momentum=False), "Adagrad"),
}


def _snapshot(sched, opt) -> tuple:
    momenta = [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]
    return (list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups], momenta)


def _cyclic_trace(lib, name: str, steps: int = 80) -> list:
    kwargs, kind = CYCLIC[name]
    opt = _optimizer(lib, kind)
    sched = lib.optim.lr_scheduler.CyclicLR(opt, **kwargs)
    trace = [_snapshot(sched, opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        trace.append(_snapshot(sched, opt))
    return trace


@requires_torch
@pytest.mark.parametrize("name", list(CYCLIC))
def test_cyclic_lr_sequence_matches_torch(name):
    import torch

    mine, theirs = _cyclic_trace(ember, name), _cyclic_trace(torch, name)
    for step, (a, b) in enumerate(zip(mine, theirs)):
        assert a == b, f"step {step}: {a} != {b}"


def test_cyclic_lr_triangle_shape():
    opt = _optimizer(ember)
    sched = lr_scheduler.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=2, step_size_down=4)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(7):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [0, 0.5, 1, 0.75, 0.5, 0.25, 0, 0.5], atol=1e-12)
    # momentum runs the other way: max_momentum at base_lr
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.85)


@requires_torch
def test_cyclic_lr_state_dict_as_torch():
    import torch

    for scale_fn, saved in ((None, None), (lambda x: 1.0, None), (HalfPower(), {"base": 0.5})):
        mine = lr_scheduler.CyclicLR(_optimizer(ember), 0.01, 0.1, scale_fn=scale_fn).state_dict()
        theirs = torch.optim.lr_scheduler.CyclicLR(
            _optimizer(torch), 0.01, 0.1, scale_fn=scale_fn
        ).state_dict()
        assert sorted(mine) == sorted(theirs)
        assert mine["_scale_fn_custom"] == theirs["_scale_fn_custom"] == saved
        pickle.dumps(mine)


def test_cyclic_lr_load_state_dict_restores_scale_fn_attributes():
    fn = HalfPower()
    fn.base = 0.25
    state = lr_scheduler.CyclicLR(_optimizer(ember), 0.01, 0.1, scale_fn=fn).state_dict()
    other = HalfPower()
    sched = lr_scheduler.CyclicLR(_optimizer(ember), 0.01, 0.1, scale_fn=other)
    sched.load_state_dict(state)
    assert other.base == 0.25 and "_scale_fn_custom" in state  # the caller's dict is left whole


def _train_cyclic(steps: int, start=None) -> tuple:
    opt = _optimizer(ember, "Adam")
    params = [p for g in opt.param_groups for p in g["params"]]
    sched = lr_scheduler.CyclicLR(opt, 0.01, [0.1, 0.2], step_size_up=4, mode="triangular2")
    if start is not None:
        opt_state, sched_state, values = pickle.loads(start)
        for p, v in zip(params, values):
            p._data[...] = v
        opt.load_state_dict(opt_state)
        sched.load_state_dict(sched_state)
    trace = []
    for _ in range(steps):
        opt.zero_grad()
        sum(((p - 3.0) ** 2).sum() for p in params).backward()
        opt.step()
        sched.step()
        trace.append(_snapshot(sched, opt))
    saved = pickle.dumps((opt.state_dict(), sched.state_dict(), [p.detach().numpy().copy() for p in params]))
    return trace, [p.detach().numpy().copy() for p in params], saved


def test_cyclic_lr_resume_from_state_dicts_gives_the_same_trajectory():
    trace, params, _ = _train_cyclic(30)
    first, _, saved = _train_cyclic(11)
    rest, resumed, _ = _train_cyclic(19, start=saved)
    assert first + rest == trace
    for a, b in zip(params, resumed):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make, error, fragment",
    [
        (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, mode="square"), ValueError, "mode is invalid"),
        (lambda o: lr_scheduler.CyclicLR(o, [0.01], 0.1), ValueError, "base_lr must have the same length"),
        (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, max_momentum=[0.9] * 3), ValueError, "max_momentum"),
        (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, last_epoch=5), KeyError, "initial_lr"),
        (lambda o: lr_scheduler.CyclicLR(None, 0.01, 0.1), TypeError, "is not an Optimizer"),
    ],
)
def test_cyclic_lr_errors(make, error, fragment):
    with pytest.raises(error, match=fragment):
        make(_optimizer(ember))


def test_cyclic_lr_needs_momentum_to_cycle_it():
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        lr_scheduler.CyclicLR(_optimizer(ember, "Adagrad"), 0.01, 0.1)
