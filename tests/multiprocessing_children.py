"""What the child processes of tests/test_multiprocessing.py run.

A separate module, so that a child started by spawn imports only ember (the test module
imports pytest and, through conftest, torch, which would make every start slow).
"""

from __future__ import annotations

import os
import signal
import sys

import ember
import ember.nn.functional as F


def add_one(t, *more) -> None:
    """Add 1 in place to each tensor given."""
    for x in (t, *more):
        x.add_(1)


def add_one_and_reply(t, u, queue, done) -> None:
    """Add 1 to t and u, send t and a new tensor back, and stay alive until the parent has
    them (the file_descriptor strategy fetches the memory from the sender)."""
    t.add_(1)
    u.add_(1)
    queue.put((t, ember.full((2,), 7.0)))
    done.wait(30)


def check_parent_writes(queue, seen, done) -> None:
    """Send a new tensor, wait until the parent has changed it, report what this side sees."""
    t = ember.zeros(3)
    queue.put(t)
    done.wait(30)
    seen.put(t.tolist())


def receive_and_double(queue, done) -> None:
    """Double in place the tensor the parent sends after this process started."""
    t = queue.get(timeout=30)
    t.mul_(2)
    done.set()


def put_and_exit(queue) -> None:
    """Send a tensor made here, then exit at once."""
    queue.put(ember.ones(2))


def put_many_and_exit(queue) -> None:
    """Put tensors made here, which the queue's feeder thread may still be sending while
    this process exits."""
    for _ in range(20):
        queue.put(ember.ones(2))


def square(t):
    return t * t


def write_rank(i: int, t) -> None:
    t[i] = 10 + i


def fail_at_one(i: int) -> None:
    if i == 1:
        raise ValueError("child 1 went wrong")


def exit_with(i: int, code: int) -> None:
    sys.exit(code)


def kill_self(i: int) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def wait_for(i: int, event) -> None:
    event.wait(30)


def hogwild_train(rank: int, model, x, y, steps: int) -> None:
    """The mnist_hogwild loop: SGD on the shared model, on random minibatches."""
    ember.manual_seed(rank)
    opt = ember.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(steps):
        idx = ember.randint(0, x.shape[0], (16,))
        opt.zero_grad()
        F.mse_loss(model(x[idx]), y[idx]).backward()
        opt.step()
