"""The optimizers' state for complex parameters is PyTorch's: complex tensors of the
parameter's shape (not the real (..., 2) views that the step works on), so that state_dict()
has torch's shapes and dtypes, a torch state dict loads and steps on as in torch, and the
steps give torch's numbers; compared with torch side by side."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from conftest import requires_torch

pytestmark = requires_torch

CONFIGS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    ("AdamW", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "lr_decay": 0.01}),
    ("Adadelta", {"lr": 1.0, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.1}),
    ("ASGD", {"lr": 0.1, "t0": 1}),
    ("NAdam", {"lr": 0.1, "decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Rprop", {"lr": 0.1}),
]

P0 = np.array([[1 + 2j, -0.5 + 1j, 3 - 1j], [0.1 + 0.2j, 2 - 2j, -1 + 0j]], dtype=np.complex64)
W0 = np.array([0.5, -1.5], dtype=np.float32)


def _loss(T, p, w):
    return (
        (p * p.conj()).real.sum()
        + (p.real * 3 - p.imag).sum()
        + (w * w * w).sum()
        + (p.sum() * w.sum()).abs()
    )


def _state_as_numpy(state: dict) -> dict:
    return {
        i: {k: (v.detach().numpy() if hasattr(v, "detach") else v) for k, v in s.items()}
        for i, s in state.items()
    }


def _run(T, name, kw, steps, state_dict=None):
    p = T.tensor(P0, requires_grad=True)
    w = T.tensor(W0, requires_grad=True)
    opt = getattr(T.optim, name)([p, w], **kw)
    if state_dict is not None:
        opt.load_state_dict(state_dict)
    for _ in range(steps):
        opt.zero_grad()
        _loss(T, p, w).backward()
        opt.step()
    return p, w, opt


def _compare(e_opt, t_opt, e_params, t_params):
    for a, b in zip(e_params, t_params):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=2e-5, atol=2e-6)
    es, ts = _state_as_numpy(e_opt.state_dict()["state"]), _state_as_numpy(t_opt.state_dict()["state"])
    assert es.keys() == ts.keys()
    for i in ts:
        assert es[i].keys() == ts[i].keys()
        for k, tv in ts[i].items():
            ev = es[i][k]
            if isinstance(tv, np.ndarray):
                assert (ev.shape, ev.dtype) == (tv.shape, tv.dtype), (i, k)
                np.testing.assert_allclose(ev, tv, rtol=2e-5, atol=2e-6)
            else:
                assert ev == tv


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_steps_and_state_as_torch(name, kw):
    import torch

    ep, ew, eo = _run(ember, name, kw, 3)
    tp, tw, to = _run(torch, name, kw, 3)
    _compare(eo, to, (ep, ew), (tp, tw))
    # a torch state dict loads into ember, and both go on the same way
    sd = to.state_dict()
    converted = {
        "state": {
            i: {k: ember.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v for k, v in s.items()}
            for i, s in sd["state"].items()
        },
        "param_groups": sd["param_groups"],
    }
    ep, ew, eo = _run(ember, name, kw, 2, converted)
    tp, tw, to = _run(torch, name, kw, 2, sd)
    _compare(eo, to, (ep, ew), (tp, tw))


def test_state_between_steps_is_complex_and_shared():
    p = ember.tensor(P0, requires_grad=True)
    opt = ember.optim.Adam([p], lr=0.1)
    _loss(ember, p, ember.tensor(W0)).backward()
    opt.step()
    m = opt.state[p]["exp_avg"]
    assert m.dtype == ember.complex64 and m.shape == p.shape
    before = m.numpy().copy()
    opt.step()  # the same Tensor object is updated in place
    assert opt.state[p]["exp_avg"] is m
    assert not np.allclose(m.numpy(), before)


def test_adagrad_state_before_any_step():
    import torch

    e = ember.optim.Adagrad([ember.tensor(P0, requires_grad=True)], initial_accumulator_value=0.25)
    t = torch.optim.Adagrad([torch.tensor(P0, requires_grad=True)], initial_accumulator_value=0.25)
    es, ts = e.state_dict()["state"][0]["sum"], t.state_dict()["state"][0]["sum"]
    np.testing.assert_array_equal(es.numpy(), ts.numpy())
    assert es.numpy().dtype == ts.numpy().dtype


def test_old_real_pair_state_still_loads():
    # a state dict saved by an earlier ember, with (..., 2) real state, becomes complex
    p = ember.tensor(P0, requires_grad=True)
    opt = ember.optim.Adam([p], lr=0.1)
    pairs = np.zeros((*P0.shape, 2), np.float32)
    state = {
        "step": ember.tensor(np.float32(0)),
        "exp_avg": ember.tensor(pairs),
        "exp_avg_sq": ember.tensor(pairs),
    }
    opt.load_state_dict({"state": {0: state}, "param_groups": opt.state_dict()["param_groups"]})
    p.sum().abs().backward()
    opt.step()
    assert opt.state[p]["exp_avg"].shape == p.shape and opt.state[p]["exp_avg"].dtype == ember.complex64


@pytest.mark.parametrize("name", ["Adafactor", "Muon"])
def test_optimizers_without_complex_support_refuse(name):
    import torch

    for T in (ember, torch):
        p = T.tensor(P0, requires_grad=True)
        opt = getattr(T.optim, name)([p])
        p.abs().sum().backward()
        with pytest.raises(RuntimeError, match=f"{name} does not support complex parameters"):
            opt.step()


@pytest.mark.parametrize("name", ["Adam", "Rprop"])
def test_zero_dim_complex_parameter_as_torch(name):
    # a 0-d parameter's gradient is a NumPy scalar in ember: its real view once read the
    # imaginary part from past the scalar's memory
    import torch

    def run(T):
        z = T.tensor(np.complex64(1 + 1j), requires_grad=True)
        opt = getattr(T.optim, name)([z], lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            ((z * z.conj()).real + z.imag * 2).backward()
            opt.step()
        return z.detach().numpy(), _state_as_numpy(opt.state_dict()["state"])

    (ez, es), (tz, ts) = run(ember), run(torch)
    np.testing.assert_allclose(ez, tz, rtol=2e-5, atol=2e-6)
    for k, tv in ts[0].items():
        np.testing.assert_allclose(es[0][k], tv, rtol=2e-5, atol=2e-6)
        assert es[0][k].dtype == tv.dtype and es[0][k].shape == tv.shape
