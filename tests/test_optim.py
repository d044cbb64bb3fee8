"""ember.optim against torch.optim: same parameters after the same gradients, state, reprs, errors."""

from __future__ import annotations

import copy
import inspect
import pickle

import numpy as np
import pytest

import ember
from conftest import assert_close, requires_torch
from ember import optim

SHAPES = [(4, 3), (3,), (2, 2, 2), ()]
STEPS = 50


def _gradients(steps: int = STEPS, seed: int = 0) -> list[list[np.ndarray | None]]:
    """One gradient per parameter per step; the third parameter has none every third step."""
    rng = np.random.RandomState(seed)
    sequence = []
    for t in range(steps):
        grads = [np.asarray(rng.randn(*s), dtype=np.float32) for s in SHAPES]
        if t % 3 == 1:
            grads[2] = None
        sequence.append(grads)
    return sequence


def _initial() -> list[np.ndarray]:
    rng = np.random.RandomState(1)
    return [np.asarray(rng.randn(*s), dtype=np.float32) for s in SHAPES]


def _groups(lib, params, cls_name: str, kwargs: dict) -> list[dict]:
    """Two groups: the second one overrides lr with half the first group's."""
    lr = kwargs.get("lr", inspect.signature(getattr(optim, cls_name)).parameters["lr"].default)
    return [{"params": params[:2]}, {"params": params[2:], "lr": lr / 2}]


def _run(lib, cls_name: str, kwargs: dict, grads: list, params=None, opt=None):
    if params is None:
        params = [lib.tensor(a.copy(), requires_grad=True) for a in _initial()]
    if opt is None:
        opt = getattr(lib.optim, cls_name)(_groups(lib, params, cls_name, kwargs), **kwargs)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else lib.tensor(g)
        opt.step()
    return params, opt


CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.5, "weight_decay": 0.01, "maximize": True}),
    ("SGD", {"lr": 0.05, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.6), "eps": 1e-3, "amsgrad": True, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.001, "centered": True}),
    ("RMSprop", {"lr": 0.001, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.001, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.001, "maximize": True, "eps": 1e-4}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "maximize": True, "eps": 1e-5}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "weight_decay": 0.1}),
    ("Adadelta", {"maximize": True, "eps": 1e-4}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.01, "betas": (0.2, 0.9), "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0.01, "maximize": True, "betas": (0.4, 0.8)}),
]


def _case_id(case) -> str:
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@requires_torch
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_torch(case):
    import torch

    name, kwargs = case
    grads = _gradients()
    params, opt = _run(ember, name, kwargs, grads)
    expected, torch_opt = _run(torch, name, kwargs, grads)
    for p, q in zip(params, expected):
        assert p.dtype == ember.float32
        assert_close(p, q, rtol=1e-5, atol=1e-6)
        if name == "SGD":  # small arrays reproduce PyTorch's fused multiply-adds (optim/_fused.py)
            np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())

    state, torch_state = opt.state_dict()["state"], torch_opt.state_dict()["state"]
    assert state.keys() == torch_state.keys()
    for index in state:
        assert list(state[index]) == list(torch_state[index])
        for key, value in state[index].items():
            assert value.dtype == ember.float32, key
            assert_close(value, torch_state[index][key], rtol=1e-5, atol=1e-6)
    saved_groups = opt.state_dict()["param_groups"]
    assert saved_groups == torch_opt.state_dict()["param_groups"]


@requires_torch
@pytest.mark.parametrize(
    "name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam"]
)
def test_repr_matches_torch(name):
    import torch

    kwargs = {"lr": 0.1, "momentum": 0.9} if name == "SGD" else {}
    mine = getattr(optim, name)([ember.zeros(2, requires_grad=True)], **kwargs)
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    assert repr(mine) == repr(theirs)
    assert repr(mine).startswith("SGD (\nParameter Group 0\n    dampening: 0\n") or name != "SGD"
    groups = [
        {"params": [ember.zeros(2, requires_grad=True)]},
        {"params": [ember.zeros(3, requires_grad=True)]},
    ]
    torch_groups = [
        {"params": [torch.zeros(2, requires_grad=True)]},
        {"params": [torch.zeros(3, requires_grad=True)]},
    ]
    assert repr(getattr(optim, name)(groups, **kwargs)) == repr(
        getattr(torch.optim, name)(torch_groups, **kwargs)
    )


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "NAdam"])
def test_float64_parameters_stay_float64(name):
    p = ember.tensor(np.ones(3), dtype=ember.float64, requires_grad=True)
    opt = getattr(optim, name)([p], lr=0.1)
    p.grad = ember.tensor(np.full(3, 0.5), dtype=ember.float64)
    opt.step()
    assert p.dtype == ember.float64
    for key, value in opt.state[p].items():  # step counters stay float32, as in PyTorch
        assert value.dtype == (ember.float32 if key in ("step", "mu_product") else ember.float64), key


@requires_torch
@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam"])
def test_float64_moving_averages_match_torch_in_float64_precision(name):
    """lerp_ rounded its weight to float32 for float64 arrays too (1e-8 relative drift);
    AdamW and NAdam differ from torch's by one float64 rounding at most."""
    import torch

    results = []
    for T, package in ((ember, optim), (torch, torch.optim)):
        p = T.tensor([1.0, -2.0], dtype=T.float64, requires_grad=True)
        opt = getattr(package, name)([p], lr=0.1)
        for g in ([0.3, -0.7], [0.5, 0.2], [-0.1, 0.9]):
            p.grad = T.tensor(g, dtype=T.float64)
            opt.step()
        results.append([p.tolist(), opt.state[p]["exp_avg"].tolist()])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-15, atol=0)


def test_update_is_in_place_and_bumps_version():
    p = ember.ones(3, requires_grad=True)
    array, version = p._data, p._version_cell[0]
    opt = optim.Adam([p], lr=0.1)
    p.grad = ember.ones(3)
    opt.step()
    assert p._data is array
    assert p._version_cell[0] == version + 1
    assert p.grad_fn is None and p.requires_grad


def test_grad_none_is_skipped():
    a, b = ember.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = ember.ones(2)
    opt.step()
    assert b.tolist() == [1.0, 1.0]
    assert b not in opt.state and float(opt.state[a]["step"]) == 1.0


def test_zero_grad():
    p = ember.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_step_with_closure_records_graph_inside_no_grad():
    p = ember.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.tolist(), [0.8, -1.6], rtol=1e-6)


def test_param_groups_have_their_own_options():
    a, b = ember.ones(1, requires_grad=True), ember.ones(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0}], lr=0.1, momentum=0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    assert opt.param_groups[1]["momentum"] == 0.5
    a.grad, b.grad = ember.ones(1), ember.ones(1)
    opt.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.0)
    c = ember.ones(1, requires_grad=True)
    opt.add_param_group({"params": [c], "lr": 0.5})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["momentum"] == 0.5


def test_named_parameters_keep_their_names():
    w = ember.ones(2, requires_grad=True)
    opt = optim.SGD([("weight", w)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight"]


ERRORS = [
    (lambda p: optim.SGD([p], lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
    (lambda p: optim.SGD([p], lr=0.1, weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), ValueError, "Nesterov momentum requires a momentum"),
    (
        lambda p: optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
        ValueError,
        "Nesterov momentum requires a momentum and zero dampening",
    ),
    (lambda p: optim.Adam([p], betas=(1.0, 0.9)), ValueError, "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.Adam([p], betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.Adam([p], eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
    (lambda p: optim.AdamW([p], weight_decay=-0.1), ValueError, "Invalid weight_decay value: -0.1"),
    (lambda p: optim.RMSprop([p], alpha=-0.1), ValueError, "Invalid alpha value: -0.1"),
    (lambda p: optim.Adagrad([p], lr_decay=-1), ValueError, "Invalid lr_decay value: -1"),
    (lambda p: optim.Adadelta([p], rho=1.5), ValueError, "Invalid rho value: 1.5"),
    (lambda p: optim.NAdam([p], momentum_decay=-1), ValueError, "Invalid momentum_decay value: -1"),
    (lambda p: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda p: optim.SGD(p, lr=0.1), TypeError, "should be an iterable of Tensors or dicts"),
    (lambda p: optim.SGD([{"params": {p}}], lr=0.1), TypeError, "ordered collections"),
    (lambda p: optim.SGD([p * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
    (
        lambda p: optim.SGD([p, 3], lr=0.1),
        TypeError,
        "optimizer can only optimize Tensors, but one of the params is int",
    ),
    (
        lambda p: optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1),
        ValueError,
        "some parameters appear in more than one parameter group",
    ),
    (lambda p: optim.SGD([p], lr=0.1, differentiable=True), NotImplementedError, "differentiable"),
]


@pytest.mark.parametrize("make, error, message", ERRORS)
def test_invalid_options_raise_like_torch(make, error, message):
    p = ember.ones(2, requires_grad=True)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        make(p)


@pytest.mark.parametrize("case", CASES[1::3], ids=[_case_id(c) for c in CASES[1::3]])
def test_state_dict_resume_is_exact(case):
    """Stop after 20 steps, rebuild everything from the state dict (pickled), finish: same bits."""
    name, kwargs = case
    grads = _gradients()
    straight, _ = _run(ember, name, kwargs, grads)

    params, opt = _run(ember, name, kwargs, grads[:20])
    saved = pickle.loads(pickle.dumps((opt.state_dict(), [p.detach().numpy().copy() for p in params])))
    opt_state, values = saved
    resumed = [ember.tensor(v, requires_grad=True) for v in values]
    new_opt = getattr(optim, name)(_groups(ember, resumed, name, {}), **kwargs)
    new_opt.load_state_dict(opt_state)
    _run(ember, name, kwargs, grads[20:], params=resumed, opt=new_opt)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_load_state_dict_copies_state():
    p = ember.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = ember.ones(2)
    opt.step()
    saved = opt.state_dict()
    q = ember.ones(2, requires_grad=True)
    other = optim.SGD([q], lr=0.5, momentum=0.9)
    other.load_state_dict(saved)
    assert other.param_groups[0]["lr"] == 0.1 and other.param_groups[0]["params"][0] is q
    buf = other.state[q]["momentum_buffer"]
    assert buf is not saved["state"][0]["momentum_buffer"]
    saved["state"][0]["momentum_buffer"]._data[:] = 100.0
    assert buf.tolist() == [1.0, 1.0]


def test_load_state_dict_rejects_mismatched_groups():
    a, b = ember.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
    saved = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([a], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)


def test_deepcopy_of_optimizer_state_is_independent():
    p = ember.ones(2, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = ember.ones(2)
    opt.step()
    snapshot = copy.deepcopy(opt.state_dict())
    opt.step()
    assert float(snapshot["state"][0]["step"]) == 1.0 and float(opt.state[p]["step"]) == 2.0


def test_adagrad_takes_each_groups_initial_accumulator_value():
    # PyTorch ignores a group's own value and uses the constructor's (docs/differences.md)
    a, b = ember.zeros(2, requires_grad=True), ember.zeros(3, requires_grad=True)
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 0.5}], lr=0.1)
    assert opt.state[a]["sum"].tolist() == [0.0, 0.0] and opt.state[b]["sum"].tolist() == [0.5] * 3
    c = ember.zeros(1, requires_grad=True)
    opt.add_param_group({"params": [c], "initial_accumulator_value": 0.25})
    c.grad = ember.ones(1)
    opt.step()
    assert opt.state[c]["sum"].tolist() == [1.25]


def _hooks_log(lib) -> tuple:
    """Every kind of optimizer hook, registered after a scheduler wrapped the step."""
    import importlib

    module = importlib.import_module(lib.__name__ + ".optim.optimizer")
    log = []
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    opt = lib.optim.SGD([p], lr=0.1)
    sched = lib.optim.lr_scheduler.StepLR(opt, 2)
    handles = [
        opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", len(a), sorted(k)))),
        opt.register_step_post_hook(lambda o, a, k: log.append(("post", len(a), sorted(k)))),
        module.register_optimizer_step_pre_hook(lambda o, a, k: log.append(("global pre", type(o).__name__))),
        module.register_optimizer_step_post_hook(lambda o, a, k: log.append(("global post",))),
    ]
    p.grad = lib.ones(2)
    opt.step()
    sched.step()

    def closure():
        log.append(("closure",))
        return lib.tensor(3.0)

    swap = opt.register_step_pre_hook(lambda o, a, k: ((a[0],), {"closure": closure}))
    log.append(("loss", float(opt.step())))
    swap.remove()
    bad = opt.register_step_pre_hook(lambda o, a, k: 5)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()
    bad.remove()

    class Mine(lib.optim.Optimizer):  # a subclass's own step, made after the hooks exist
        def __init__(self, params):
            super().__init__(params, {"lr": 0.5})

        def step(self, closure=None):
            log.append(("own step",))

    mine = Mine([lib.zeros(1, requires_grad=True)])
    mine.register_step_post_hook(lambda o, a, k: log.append(("own post",)))
    mine.step()
    for handle in handles:
        handle.remove()
    opt.step()
    opt.register_state_dict_pre_hook(lambda o: log.append(("state_dict pre",)))
    opt.register_state_dict_pre_hook(lambda o: log.append(("state_dict pre, prepended",)), prepend=True)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    saved = opt.state_dict()
    other = lib.optim.SGD([p], lr=0.3)
    other.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items() if k != "extra"})
    other.register_load_state_dict_post_hook(lambda o: log.append(("loaded", o.param_groups[0]["lr"])))
    other.load_state_dict(saved)
    log.append(("copy keeps no hooks", copy.deepcopy(other)._optimizer_load_state_dict_post_hooks == {}))
    return log, sorted(saved), p.detach().numpy().tolist()


@requires_torch
def test_optimizer_hooks_run_as_in_torch():
    import torch

    assert _hooks_log(ember) == _hooks_log(torch)


def test_explicit_l2_penalty_equals_weight_decay():
    """An L2 penalty lambda/2 * ||W||² added to the loss has gradient lambda * W, which is exactly
    what SGD's weight_decay=lambda adds to the gradient: both runs follow the same path.

        loss = mse(x @ W + b, y) + lam / 2 * (W ** 2).sum()      # penalty in the loss
        SGD([{"params": [W], "weight_decay": lam}, {"params": [b]}], lr=lr)   # or in the optimizer

    (the bias is not penalised in either run)."""
    lam, lr = 0.1, 0.05
    rng = np.random.RandomState(3)
    x = ember.tensor(rng.randn(32, 3).astype(np.float32))
    y = ember.tensor(rng.randn(32, 2).astype(np.float32))
    start_w, start_b = rng.randn(3, 2).astype(np.float32), rng.randn(2).astype(np.float32)

    def fit(penalty_in_loss: bool) -> tuple[np.ndarray, np.ndarray]:
        w = ember.tensor(start_w, requires_grad=True)
        b = ember.tensor(start_b, requires_grad=True)
        decay = 0.0 if penalty_in_loss else lam
        opt = optim.SGD([{"params": [w], "weight_decay": decay}, {"params": [b]}], lr=lr, momentum=0.9)
        for _ in range(40):
            opt.zero_grad()
            loss = ((x @ w + b - y) ** 2).mean()
            if penalty_in_loss:
                loss = loss + lam / 2 * (w**2).sum()
            loss.backward()
            opt.step()
        return w.detach().numpy().copy(), b.detach().numpy().copy()

    (w1, b1), (w2, b2) = fit(True), fit(False)
    np.testing.assert_allclose(w1, w2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b1, b2, rtol=1e-5, atol=1e-6)
    unregularised = ember.tensor(start_w)  # the penalty did pull the weights towards 0
    assert np.abs(w1).sum() < np.abs(unregularised.numpy()).sum()


@requires_torch
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
        ("Adam", {"lr": 0.01, "weight_decay": 0.01}),
        ("RMSprop", {"lr": 0.001, "centered": True, "momentum": 0.5}),
        ("Adadelta", {}),
    ],
)
def test_large_parameters_match_torch(name, kwargs):
    """Arrays above _fused.EXACT_MAX_SIZE take the float32 path: equal to float32 precision."""
    import torch

    rng = np.random.RandomState(5)
    start = np.asarray(rng.randn(100, 50), dtype=np.float32)
    grads = [np.asarray(rng.randn(100, 50), dtype=np.float32) for _ in range(20)]
    results = []
    for lib in (ember, torch):
        p = lib.tensor(start.copy(), requires_grad=True)
        opt = getattr(lib.optim, name)([p], **kwargs)
        for g in grads:
            p.grad = lib.tensor(g)
            opt.step()
        results.append(p)
    assert results[0].dtype == ember.float32
    assert_close(results[0], results[1], rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01})])
def test_trains_an_nn_module_like_torch(name, kwargs):
    """nn.Parameter is a Tensor: a model's parameters() go straight into an optimizer."""
    import torch

    nn = pytest.importorskip("ember.nn")
    rng = np.random.RandomState(7)
    x, y = rng.randn(16, 3).astype(np.float32), rng.randn(16, 1).astype(np.float32)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    mine = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    for p, q in zip(mine.parameters(), theirs.parameters()):
        p._data[...] = q.detach().numpy()
    losses = []
    for lib, model in ((ember, mine), (torch, theirs)):
        opt = getattr(lib.optim, name)(model.parameters(), **kwargs)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
        inputs, targets = lib.tensor(x), lib.tensor(y)
        history = []
        for _ in range(30):
            opt.zero_grad()
            loss = ((model(inputs) - targets) ** 2).mean()
            loss.backward()
            opt.step()
            sched.step()
            history.append(loss.item())
        losses.append(history)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)
    assert losses[0][-1] < losses[0][0]


def test_memoised_float32_factors_keep_their_value_and_the_sign_of_zero():
    from ember.optim import _fused

    for alpha in (0.1, -0.01, 1e-8, 3.0, 1e300):
        with np.errstate(over="ignore"):  # 1e300 rounds to inf
            expected = float(np.float32(alpha))
            for _ in range(2):  # computed, then the memoised value
                factor = _fused._factor(alpha)
                assert factor.dtype == np.float64 and factor.shape == () and float(factor) == expected
    assert np.copysign(1, _fused._factor(0.0)) == 1
    assert np.copysign(1, _fused._factor(-0.0)) == -1  # not the memo of 0.0
    for i in range(1100):
        _fused._factor(1.0 + i * 1e-3)
    assert len(_fused._FACTORS) <= 1024


def test_add_scaled_on_a_few_elements_rounds_as_the_numpy_path():
    """Up to FEW elements add_scaled computes with Python floats (float64, like the NumPy
    path's products): the results must be identical, inf and nan included."""
    from ember.optim import _fused

    rng = np.random.default_rng(3)
    specials = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 3.4e38, 1e-45], np.float32)
    for n in range(1, _fused.FEW + 1):
        for _ in range(300):
            y = (rng.standard_normal(n) * 10.0 ** rng.integers(-6, 6)).astype(np.float32)
            x = (rng.standard_normal(n) * 10.0 ** rng.integers(-6, 6)).astype(np.float32)
            if rng.random() < 0.2:
                y[rng.integers(n)] = rng.choice(specials)
                x[rng.integers(n)] = rng.choice(specials)
            alpha = float(rng.choice([-0.01, 0.9, -1e-3, 0.1 + rng.random()]))
            with np.errstate(over="ignore", invalid="ignore"):
                expected = (x * _fused._factor(alpha) + y).astype(np.float32)  # the NumPy path
                fresh = _fused.add_scaled(y, x, alpha)
                inplace = y.copy()
                _fused.add_scaled(inplace, x, alpha, out=inplace)
            np.testing.assert_array_equal(fresh, expected)
            np.testing.assert_array_equal(inplace, expected)
            assert fresh.dtype == np.float32
