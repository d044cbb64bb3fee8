"""Tensor.register_hook on non-leaf tensors, compared with PyTorch: the hook sees the
tensor's whole gradient once per pass, may replace it, runs before retain_grad() and
autograd.grad's capture, and belongs to the value the tensor had when it was registered."""

from __future__ import annotations

import pytest

import ember
from conftest import requires_torch


def _scaled(T, log):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    x = a * 2
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    log.append(a.grad)


def _in_order(T, log):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    x = a * 2
    x.register_hook(lambda g: log.append(g.clone()))
    x.register_hook(lambda g: g + 1)
    x.register_hook(lambda g: log.append(g.clone()))
    (x * x).sum().backward()
    log.append(a.grad)


def _retained(T, log):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    x = a * 2
    x.retain_grad()
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    log += [x.grad, a.grad]


def _summed_once(T, log):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    x = a * 2
    x.register_hook(lambda g: log.append(g.clone()))
    (x * 3 + x).sum().backward()
    log.append(a.grad)


def _captured(T, log):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    x = a * 2
    x.register_hook(lambda g: g * 10)
    log += list(T.autograd.grad((x * x).sum(), x))


def _in_place(T, log):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    x = a * 2
    x.register_hook(lambda g: log.append(("before", g.clone())))
    x.mul_(3)
    x.register_hook(lambda g: log.append(("after", g.clone())))
    (x * x).sum().backward()
    log.append(a.grad)


def _split(T, log):
    a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x, y = (a * 2).split([1, 2])
    y.register_hook(lambda g: g * 0)
    x.register_hook(lambda g: log.append(g.clone()))
    (x * 5).sum().add((y * y).sum()).backward()
    log.append(a.grad)


def _removed(T, log):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    x = a * 2
    handle = x.register_hook(lambda g: g * 100)
    x.register_hook(lambda g: g + 1)
    handle.remove()
    x.sum().backward()
    log.append(a.grad)


def _in_place_in_hook(T, log):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    x = a * 2
    x.register_hook(lambda g: g.mul_(0))
    (x * x).sum().backward()
    log.append(a.grad)


def _second_order(T, log):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    x = a * a
    x.register_hook(lambda g: g * 3)
    (g,) = T.autograd.grad((x * x).sum(), a, create_graph=True)
    log.append(g)
    g.sum().backward()
    log.append(a.grad)


def _on_the_loss(T, log):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    loss = (a * a).sum()
    loss.register_hook(lambda g: g * 2)
    loss.backward()
    log.append(a.grad)


PROGRAMS = {
    "scaled": _scaled,
    "in order": _in_order,
    "before retain_grad": _retained,
    "summed once": _summed_once,
    "captured by autograd.grad": _captured,
    "in-place: each value its own hooks": _in_place,
    "an output of split": _split,
    "removed": _removed,
    "changed in place in the hook": _in_place_in_hook,
    "create_graph": _second_order,
    "on the loss": _on_the_loss,
}


@requires_torch
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_non_leaf_hooks_as_torch(name: str) -> None:
    import torch

    def plain(entries: list) -> list:
        return [(e[0], e[1].detach().tolist()) if isinstance(e, tuple) else e for e in entries]

    mine, theirs = [], []
    PROGRAMS[name](ember, mine)
    PROGRAMS[name](torch, theirs)
    assert _as_lists(plain(mine)) == _as_lists(plain(theirs))


def _as_lists(entries: list) -> list:
    return [e.detach().tolist() if hasattr(e, "detach") else e for e in entries]


def test_a_hook_that_changes_the_shape_raises() -> None:
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    x = a * 2
    x.register_hook(lambda g: g[:1])
    with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the size of value"):
        (x * x).sum().backward()


def test_a_tensor_without_grad_takes_no_hook() -> None:
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        (ember.ones(2) * 2).register_hook(lambda g: g)
