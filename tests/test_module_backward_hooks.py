"""Module.register_full_backward_hook and register_full_backward_pre_hook, compared with
PyTorch: what the hooks see (grad_input per positional argument, grad_output per output),
replacements of either, the call without any input that requires grad, and removal."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ember
from conftest import requires_torch


def _shapes(grads: tuple) -> list:
    return [
        None if g is None else [list(g.shape), np.round(g.detach().numpy().astype(float), 5).tolist()]
        for g in grads
    ]


def _linear(T: Any, log: list) -> None:
    T.manual_seed(0)
    m = T.nn.Linear(3, 2)
    with T.no_grad():
        m.weight.copy_(T.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]))
        m.bias.fill_(0.1)
    m.register_full_backward_pre_hook(lambda mod, go: (log.append(("pre", _shapes(go))), (go[0] * 2,))[1])
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", _shapes(gi), _shapes(go))))
    x = T.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], requires_grad=True)
    (m(x) * T.tensor([1.0, -1.0])).sum().backward()
    log += [("x.grad", x.grad.tolist()), ("w.grad", m.weight.grad.tolist())]


def _no_input_grad(T: Any, log: list) -> None:
    m = T.nn.Linear(3, 2)
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", gi, len(go))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m(T.ones(4, 3)).sum().backward()
    log.append(any("no inputs require gradients" in str(w.message) for w in caught))


class _Two:
    """A module of two tensor arguments around a number, with two outputs."""

    @staticmethod
    def make(T: Any) -> Any:
        class Two(T.nn.Module):
            def forward(self, a, k, b):
                return a * b * k, a + 1

        return Two()


def _several(T: Any, log: list) -> None:
    m = _Two.make(T)
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", _shapes(gi), _shapes(go))))
    a, b = T.tensor([1.0, 2.0], requires_grad=True), T.tensor([3.0, 4.0])
    first, _ = m(a, 3.0, b)
    first.sum().backward()
    log.append(a.grad.tolist())


def _replaced_input_grad(T: Any, log: list) -> None:
    m = _Two.make(T)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 100, None, gi[2]))
    a, b = T.tensor([1.0, 2.0], requires_grad=True), T.tensor([3.0, 4.0], requires_grad=True)
    first, second = m(a, 3.0, b)
    (first.sum() + second.sum()).backward()
    log += [a.grad.tolist(), b.grad.tolist()]


def _removed_and_nested(T: Any, log: list) -> None:
    net = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.Tanh(), T.nn.Linear(2, 1))
    with T.no_grad():
        for p in net.parameters():
            p.fill_(0.5)
    handle = net[0].register_full_backward_hook(lambda mod, gi, go: log.append("removed hook ran"))
    net[2].register_full_backward_hook(lambda mod, gi, go: log.append(("last", _shapes(gi), _shapes(go))))
    net.register_full_backward_hook(lambda mod, gi, go: log.append(("net", _shapes(gi))))
    handle.remove()
    x = T.tensor([[1.0, -1.0]], requires_grad=True)
    net(x).sum().backward()
    log.append(x.grad.tolist())


def _wrong_count(T: Any, log: list) -> None:
    m = _Two.make(T)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], None))
    a = T.tensor([1.0, 2.0], requires_grad=True)
    first, _ = m(a, 3.0, T.ones(2))
    try:
        first.sum().backward()
    except RuntimeError as error:
        log.append(str(error))


PROGRAMS = {
    "linear": _linear,
    "no input requires grad": _no_input_grad,
    "several arguments and outputs": _several,
    "grad_input replaced": _replaced_input_grad,
    "removed, nested": _removed_and_nested,
    "wrong number returned": _wrong_count,
}


@requires_torch
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_backward_hooks_as_torch(name: str) -> None:
    import torch

    mine: list = []
    theirs: list = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        PROGRAMS[name](ember, mine)
        PROGRAMS[name](torch, theirs)
    assert repr(mine) == repr(theirs)


def test_the_deprecated_backward_hook_points_to_the_full_one() -> None:
    with pytest.raises(NotImplementedError, match="register_full_backward_hook"):
        ember.nn.Linear(2, 2).register_backward_hook(lambda *a: None)


def test_without_grad_mode_no_hook_runs_and_nothing_is_recorded() -> None:
    m = ember.nn.Linear(2, 2)
    m.register_full_backward_hook(lambda *a: pytest.fail("no backward here"))
    with ember.no_grad():
        assert m(ember.ones(1, 2, requires_grad=True)).grad_fn is None
