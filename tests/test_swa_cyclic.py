"""CyclicLR, the weight-averaging tools of ember.optim.swa_utils and the Adafactor and Muon
optimizers against PyTorch: the same learning rates and momenta step for step, the same
averaged weights, the same BatchNorm statistics from update_bn, the same parameter
trajectories."""

from __future__ import annotations

import pickle
import re

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


# ---- swa_utils: AveragedModel ------------------------------------------------------------------

AVERAGING = {
    "swa": {},
    "swa-buffers": {"use_buffers": True},
    "ema-multi": {"multi_avg_fn": ("get_ema_multi_avg_fn", 0.8)},
    "swa-multi": {"multi_avg_fn": ("get_swa_multi_avg_fn",)},
    "ema-multi-buffers": {"multi_avg_fn": ("get_ema_multi_avg_fn", 0.6), "use_buffers": True},
    "ema-one-buffers": {"avg_fn": ("get_ema_avg_fn", 0.7), "use_buffers": True},
    "swa-one": {"avg_fn": ("get_swa_avg_fn",)},
}

SHAPES = {
    "0.weight": (4, 3),
    "0.bias": (4,),
    "1.weight": (4,),
    "1.bias": (4,),
    "1.running_mean": (4,),
    "1.running_var": (4,),
}


def _averaged(lib, case: str, dtype: str, steps: list) -> dict:
    """The averaged model's state_dict after update_parameters on a model set to each step's values."""
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4)).to(getattr(lib, dtype))
    swa_utils = lib.optim.swa_utils
    kwargs = {}
    for key, value in AVERAGING[case].items():
        kwargs[key] = getattr(swa_utils, value[0])(*value[1:]) if isinstance(value, tuple) else value
    averaged = swa_utils.AveragedModel(model, **kwargs)
    for i, values in enumerate(steps):
        state = model.state_dict()
        with lib.no_grad():
            for name, value in values.items():
                state[name].copy_(lib.tensor(value))
            state["1.num_batches_tracked"].fill_(3 * i + 1)
        averaged.update_parameters(model)
    return {name: value.detach().numpy().copy() for name, value in averaged.state_dict().items()}


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(AVERAGING))
def test_averaged_model_matches_torch(case, dtype):
    import torch

    rng = np.random.default_rng(0)
    steps = [{k: rng.standard_normal(shape).astype(dtype) for k, shape in SHAPES.items()} for _ in range(6)]
    mine, theirs = _averaged(ember, case, dtype, steps), _averaged(torch, case, dtype, steps)
    assert list(mine) == list(theirs)
    assert list(mine)[0] == "n_averaged" and mine["n_averaged"] == 6
    for name in mine:
        assert mine[name].dtype == theirs[name].dtype, name
        if dtype == "float32":  # the same roundings as PyTorch's lerp
            np.testing.assert_array_equal(mine[name], theirs[name], err_msg=name)
        else:  # PyTorch's float64 lerp fuses the multiply-add: a last-bit difference
            np.testing.assert_allclose(mine[name], theirs[name], rtol=1e-14, atol=1e-15, err_msg=name)


def test_averaged_model_first_update_copies_and_buffers_follow_the_model():
    model = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.BatchNorm1d(3))
    averaged = ember.optim.swa_utils.AveragedModel(model)
    with ember.no_grad():
        model[0].weight.fill_(2.0)
        model[1].running_mean.fill_(5.0)
    averaged.update_parameters(model)
    assert averaged.module[0].weight is not model[0].weight
    np.testing.assert_array_equal(averaged.module[0].weight.detach().numpy(), 2.0)
    with ember.no_grad():
        model[0].weight.fill_(4.0)
        model[1].running_mean.fill_(7.0)
    averaged.update_parameters(model)
    np.testing.assert_array_equal(averaged.module[0].weight.detach().numpy(), 3.0)
    np.testing.assert_array_equal(averaged.module[1].running_mean.numpy(), 7.0)  # copied, not averaged
    assert int(averaged.n_averaged) == 2 and averaged.n_averaged.dtype == ember.int64
    x = ember.randn(4, 2)
    averaged.eval()
    assert ember.equal(averaged(x), averaged.module(x))


@requires_torch
def test_averaged_model_repr_and_state_dict_keys_as_torch():
    import torch

    mine = ember.optim.swa_utils.AveragedModel(
        ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.BatchNorm1d(3))
    )
    theirs = torch.optim.swa_utils.AveragedModel(
        torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    )
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    restored = ember.optim.swa_utils.AveragedModel(
        ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.BatchNorm1d(3))
    )
    mine.n_averaged.fill_(4)
    restored.load_state_dict(mine.state_dict())
    assert int(restored.n_averaged) == 4


def test_averaged_model_errors():
    swa_utils = ember.optim.swa_utils
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(
            ember.nn.Linear(2, 2),
            avg_fn=swa_utils.get_ema_avg_fn(),
            multi_avg_fn=swa_utils.get_ema_multi_avg_fn(),
        )
    for make in (swa_utils.get_ema_avg_fn, swa_utils.get_ema_multi_avg_fn):
        with pytest.raises(
            ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\]"
        ):
            make(1.5)


def test_swa_multi_avg_fn_averages_integer_buffers():
    # PyTorch's _foreach_addcdiv_ refuses integer tensors here; ember truncates the mean, as the
    # one-tensor get_swa_avg_fn does in both
    swa = ember.optim.swa_utils.get_swa_multi_avg_fn()
    averaged = [ember.tensor([4, -4, 7])]
    swa(averaged, [ember.tensor([1, 1, 8])], ember.tensor(2))
    assert averaged[0].tolist() == [3, -2, 7]


# ---- swa_utils: SWALR ----------------------------------------------------------------------------

SWALR_CASES = {
    "cos": {"swa_lr": 0.05},
    "linear-per-group": {"swa_lr": [0.05, 0.01], "anneal_epochs": 4, "anneal_strategy": "linear"},
    "no-annealing": {"swa_lr": 0.2, "anneal_epochs": 0},
    "one-epoch": {"swa_lr": 0.02, "anneal_epochs": 1},
}


def _swalr_trace(lib, case: str) -> list:
    """Five steps of ExponentialLR, then SWALR takes over from the lr reached."""
    opt = _optimizer(lib)
    before = lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
    for _ in range(5):
        opt.step()
        before.step()
    sched = lib.optim.swa_utils.SWALR(opt, **SWALR_CASES[case])
    trace = [_snapshot(sched, opt)]
    for _ in range(15):
        opt.step()
        sched.step()
        trace.append(_snapshot(sched, opt))
    return trace


@requires_torch
@pytest.mark.parametrize("case", list(SWALR_CASES))
def test_swalr_sequence_matches_torch(case):
    import torch

    mine, theirs = _swalr_trace(ember, case), _swalr_trace(torch, case)
    for step, (a, b) in enumerate(zip(mine, theirs)):
        assert a == b, f"step {step}: {a} != {b}"
    swa_lr = SWALR_CASES[case]["swa_lr"]
    assert mine[-1][0] == (swa_lr if isinstance(swa_lr, list) else [swa_lr] * 2)  # annealing is over


@requires_torch
def test_swalr_state_dict_as_torch():
    import torch

    mine = ember.optim.swa_utils.SWALR(_optimizer(ember), 0.05, anneal_strategy="linear")
    theirs = torch.optim.swa_utils.SWALR(_optimizer(torch), 0.05, anneal_strategy="linear")
    assert sorted(mine.state_dict()) == sorted(theirs.state_dict())
    other = ember.optim.swa_utils.SWALR(_optimizer(ember), 0.05)
    other.load_state_dict(pickle.loads(pickle.dumps(mine.state_dict())))
    assert other.anneal_func(0.25) == 0.25  # linear now


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        (
            {"swa_lr": 0.1, "anneal_strategy": "exp"},
            ValueError,
            "anneal_strategy must be one of 'cos' or 'linear'",
        ),
        ({"swa_lr": 0.1, "anneal_epochs": -1}, ValueError, "anneal_epochs must be equal or greater than 0"),
        ({"swa_lr": 0.1, "anneal_epochs": 2.5}, ValueError, "anneal_epochs"),
        ({"swa_lr": [0.1, 0.2, 0.3]}, ValueError, "swa_lr must have the same length"),
    ],
)
def test_swalr_errors(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        ember.optim.swa_utils.SWALR(_optimizer(ember), **kwargs)


# ---- swa_utils: update_bn ------------------------------------------------------------------------


def _bn_model(lib, dtype: str):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.BatchNorm2d(4, momentum=0.3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(36, 5),
        nn.BatchNorm1d(5),
    ).to(getattr(lib, dtype))


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_update_bn_matches_torch(dtype):
    import torch

    rng = np.random.default_rng(1)
    data = [(rng.standard_normal((6, 3, 5, 5)) * 2 + 1).astype(dtype) for _ in range(4)]
    mine = _bn_model(ember, dtype)
    theirs = _bn_model(torch, dtype)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    results = []
    for lib, model in ((ember, mine), (torch, theirs)):
        model.eval()
        # (input, target) pairs and bare tensors, as a loader may give
        loader = [(lib.tensor(x), lib.zeros(6)) for x in data[:2]] + [lib.tensor(x) for x in data[2:]]
        lib.optim.swa_utils.update_bn(loader, model)
        assert not model.training and model[1].momentum == 0.3 and model[5].momentum == 0.1
        results.append({k: v.numpy().copy() for k, v in model.state_dict().items()})
    for name in results[0]:
        tol = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(results[0][name], results[1][name], rtol=tol, atol=tol, err_msg=name)
    assert int(results[0]["1.num_batches_tracked"]) == 4


def test_update_bn_is_the_mean_over_batches_and_keeps_train_mode():
    model = ember.nn.Sequential(ember.nn.BatchNorm1d(2))
    with ember.no_grad():
        model[0].running_mean.fill_(100.0)
    batches = [ember.tensor([[0.0, 1.0], [2.0, 3.0]]), ember.tensor([[4.0, 5.0], [6.0, 7.0]])]
    ember.optim.swa_utils.update_bn(batches, model)
    assert model.training
    np.testing.assert_allclose(model[0].running_mean.numpy(), [3.0, 4.0])  # (1 + 5) / 2, (2 + 6) / 2
    np.testing.assert_allclose(model[0].running_var.numpy(), [2.0, 2.0])


def test_update_bn_leaves_models_without_batchnorm_and_instance_norm_alone():
    model = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.InstanceNorm1d(2, track_running_stats=True))
    model.eval()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    ember.optim.swa_utils.update_bn([ember.randn(3, 2, 4)], model)
    assert not model.training
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


@requires_torch
def test_swa_training_loop_matches_torch():
    """The recipe of PyTorch's documentation: train, then average with SWALR, then update_bn."""
    import torch

    rng = np.random.default_rng(2)
    xs = rng.standard_normal((8, 6, 3)).astype(np.float32)
    ys = rng.standard_normal((8, 6, 1)).astype(np.float32)
    ember.manual_seed(0)
    initial = None
    results = []
    for lib in (ember, torch):
        nn = lib.nn
        model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1))
        if initial is None:
            initial = {k: v.numpy().copy() for k, v in model.state_dict().items()}
        else:
            model.load_state_dict({k: lib.tensor(v) for k, v in initial.items()})
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        swa_model = lib.optim.swa_utils.AveragedModel(model)
        cosine = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        swa_sched = lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=2)
        loader = [(lib.tensor(x), lib.tensor(y)) for x, y in zip(xs, ys)]
        for epoch in range(6):
            for x, y in loader:
                opt.zero_grad()
                nn.functional.mse_loss(model(x), y).backward()
                opt.step()
            if epoch >= 3:
                swa_model.update_parameters(model)
                swa_sched.step()
            else:
                cosine.step()
        lib.optim.swa_utils.update_bn(loader, swa_model)
        swa_model.eval()
        results.append(swa_model(lib.tensor(xs[0])).detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-4, atol=1e-5)


# ---- Adafactor ---------------------------------------------------------------------------------

ADAFACTOR = {
    "defaults": {},
    "weight-decay-clipping": {"lr": 0.05, "weight_decay": 0.1, "d": 1.5},
    "eps-beta2-maximize": {"eps": (1e-6, 1e-2), "beta2_decay": -0.5, "maximize": True},
}


def _adafactor_run(lib, kwargs: dict, dtype: str, steps: int = 20) -> tuple:
    """20 steps on a weighted quadratic over a matrix, a vector, a 3-d tensor and a scalar."""
    rng = np.random.default_rng(5)
    shapes = [(4, 3), (5,), (2, 3, 4), ()]
    params = [
        lib.tensor(np.asarray(rng.standard_normal(s)).astype(dtype), requires_grad=True) for s in shapes
    ]
    targets = [lib.tensor(np.asarray(rng.standard_normal(s)).astype(dtype)) for s in shapes]
    opt = lib.optim.Adafactor([{"params": params[:2]}, {"params": params[2:], "lr": 0.03}], **kwargs)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        loss = sum(((p - t) ** 2 * (i + 1)).sum() for i, (p, t) in enumerate(zip(params, targets)))
        loss.backward()
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory, opt


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(ADAFACTOR))
def test_adafactor_trajectory_matches_torch(case, dtype):
    import torch

    mine, opt = _adafactor_run(ember, ADAFACTOR[case], dtype)
    theirs, torch_opt = _adafactor_run(torch, ADAFACTOR[case], dtype)
    tol = {"rtol": 2e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}
    for step, (a, b) in enumerate(zip(mine, theirs)):
        for p_mine, p_theirs in zip(a, b):
            assert p_mine.dtype == p_theirs.dtype
            np.testing.assert_allclose(p_mine, p_theirs, **tol, err_msg=f"step {step}")
    state, torch_state = opt.state_dict(), torch_opt.state_dict()
    assert state["param_groups"] == torch_state["param_groups"]
    for index, entries in torch_state["state"].items():
        assert list(state["state"][index]) == list(entries)
        for key, value in entries.items():
            assert tuple(state["state"][index][key].shape) == tuple(value.shape), key
            np.testing.assert_allclose(state["state"][index][key].numpy(), value.numpy(), **tol)


@requires_torch
def test_adafactor_repr_as_torch():
    import torch

    assert repr(ember.optim.Adafactor([ember.zeros(2)], lr=0.1)) == repr(
        torch.optim.Adafactor([torch.zeros(2)], lr=0.1)
    )


def test_adafactor_factors_the_second_moment_of_matrices():
    weight = ember.zeros(6, 4, requires_grad=True)
    opt = ember.optim.Adafactor([weight])
    weight.grad = ember.ones(6, 4)
    opt.step()
    state = opt.state[weight]
    assert tuple(state["row_var"].shape) == (6, 1) and tuple(state["col_var"].shape) == (1, 4)
    assert "variance" not in state and float(state["step"]) == 1.0
    # a zero parameter moves by eps2 * rho per element: the relative step has a floor
    np.testing.assert_allclose(weight.detach().numpy(), -1e-3 * 1e-2, rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"lr": -1.0}, "Learning rate should be >= 0 but is: -1.0"),
        ({"beta2_decay": 0.5}, "beta2_decay should be <= 0 but is: 0.5"),
        ({"eps": (-1.0, 1e-3)}, "epsilon1 should be >= 0 but is: -1.0"),
        ({"eps": (None, -1.0)}, "epsilon2 should be >= 0 but is: -1.0"),
        ({"d": 0.5}, "Clipping threshold d should be >= 1 but is: 0.5"),
        ({"weight_decay": -0.1}, "weight_decay should be >= 0 but is: -0.1"),
    ],
)
def test_adafactor_errors(kwargs, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        ember.optim.Adafactor([ember.zeros(2, requires_grad=True)], **kwargs)


# ---- Muon ----------------------------------------------------------------------------------------

MUON = {
    "defaults": {},
    "plain-momentum": {"lr": 0.02, "weight_decay": 0.0, "nesterov": False},
    "match-rms-adamw": {"lr": 0.01, "adjust_lr_fn": "match_rms_adamw", "momentum": 0.9, "ns_steps": 3},
    "own-coefficients": {"adjust_lr_fn": "original", "eps": 1e-3, "ns_coefficients": (2.0, -1.5, 0.5)},
}


def _muon_run(lib, kwargs: dict, dtype: str, steps: int = 20) -> tuple:
    """20 steps on a weighted quadratic over a tall, a wide and a square matrix."""
    rng = np.random.default_rng(8)
    shapes = [(4, 3), (3, 6), (8, 8)]
    params = [lib.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    targets = [lib.tensor(rng.standard_normal(s).astype(dtype)) for s in shapes]
    opt = lib.optim.Muon([{"params": params[:2]}, {"params": params[2:], "lr": 0.03}], **kwargs)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        sum(((p - t) ** 2 * (i + 1)).sum() for i, (p, t) in enumerate(zip(params, targets))).backward()
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory, opt


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(MUON))
def test_muon_trajectory_matches_torch(case, dtype):
    import torch

    mine, opt = _muon_run(ember, MUON[case], dtype)
    theirs, torch_opt = _muon_run(torch, MUON[case], dtype)
    for step, (a, b) in enumerate(zip(mine, theirs)):
        for p_mine, p_theirs in zip(a, b):
            if dtype == "float32":  # the bfloat16 iteration reproduced bit for bit
                np.testing.assert_array_equal(p_mine, p_theirs, err_msg=f"step {step}")
            else:  # PyTorch's float64 lerp and add round once
                np.testing.assert_allclose(p_mine, p_theirs, rtol=1e-13, atol=1e-14, err_msg=f"step {step}")
    assert opt.state_dict()["param_groups"] == torch_opt.state_dict()["param_groups"]
    assert repr(opt) == repr(torch_opt)
    for index, entries in torch_opt.state_dict()["state"].items():
        assert list(opt.state_dict()["state"][index]) == list(entries) == ["momentum_buffer"]


def test_muon_newton_schulz_orthogonalises():
    from ember.optim.muon import _round_to_bfloat16, _zeropower_via_newtonschulz

    grad = np.random.default_rng(9).standard_normal((6, 10)).astype(np.float32)
    ortho = _zeropower_via_newtonschulz(grad, (3.4445, -4.7750, 2.0315), 5, 1e-7)
    singular = np.linalg.svd(ortho, compute_uv=False)
    assert ortho.shape == grad.shape and np.all((singular > 0.5) & (singular < 1.5))
    assert np.array_equal(_round_to_bfloat16(ortho), ortho)  # bfloat16 values
    assert _round_to_bfloat16(np.float32(1 + 2**-8)) == 1.0  # a tie goes to the even neighbour
    assert _round_to_bfloat16(np.float32(1 + 3 * 2**-8)) == np.float32(1 + 2**-6)


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"lr": -1.0}, ValueError, "Learning rate should be >= 0 but is: -1.0"),
        ({"momentum": -0.5}, ValueError, "momentum should be >= 0 but is: -0.5"),
        ({"weight_decay": -0.1}, ValueError, "weight decay should be >= 0 but is: -0.1"),
        ({"adjust_lr_fn": "sqrt"}, ValueError, "Adjust learning rate function sqrt is not supported"),
    ],
)
def test_muon_errors(kwargs, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        ember.optim.Muon([ember.zeros(2, 2, requires_grad=True)], **kwargs)


def test_muon_refuses_what_is_not_a_matrix():
    with pytest.raises(
        ValueError, match=re.escape("Muon only supports 2D parameters whereas we found a parameter")
    ):
        ember.optim.Muon([ember.zeros(3, requires_grad=True)])
    weight = ember.zeros(2, 2, requires_grad=True)
    weight.grad = ember.ones(2, 2)
    with pytest.raises(ValueError, match="Number of steps must be less than 100"):
        ember.optim.Muon([weight], ns_steps=100).step()
