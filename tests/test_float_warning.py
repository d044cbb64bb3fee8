"""float() of a tensor that requires grad warns as PyTorch 2.13 does: only with grad mode on,
for float() and complex() (item(), int() and bool() stay silent), once per process; and
ember's own code (LBFGS) converts its losses where that warning does not fire, as PyTorch's
does. (tests/test_d2l_sweep.py checks the caller's line and the once-per-process flag.)"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import ember
from conftest import requires_torch

# Run in a fresh process for each library, as the warning is given once per process.
SCRIPT = """
import sys, warnings
lib = __import__(sys.argv[1])
warnings.simplefilter("always")
t = lib.tensor(2.0, requires_grad=True) * 3
steps = [
    ("no_grad float", lambda: float(t), lib.no_grad),
    ("int", lambda: int(t), None),
    ("bool", lambda: bool(t), None),
    ("item", lambda: t.item(), None),
    ("float", lambda: float(t), None),
    ("float again", lambda: float(t), None),
    ("complex", lambda: complex(t), None),
]
for name, convert, mode in steps:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if mode is None:
            convert()
        else:
            with mode():
                convert()
    print(name, sum("to a scalar" in str(w.message) for w in caught))
"""


@requires_torch
def test_converting_to_a_number_warns_as_torch():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = {
        lib: subprocess.run(
            [sys.executable, "-c", SCRIPT, lib], capture_output=True, text=True, env=env, check=True
        ).stdout
        for lib in ("ember", "torch")
    }
    assert out["ember"] == out["torch"]
    assert "float 1" in out["ember"]  # the comparison is not vacuous


def test_lbfgs_does_not_warn(monkeypatch):
    from ember import _tensor

    monkeypatch.setattr(_tensor, "_scalar_warning", [False])
    w = ember.nn.Parameter(ember.ones(3))
    for search in (None, "strong_wolfe"):
        opt = ember.optim.LBFGS([w], max_iter=5, line_search_fn=search)

        def closure(opt=opt):
            opt.zero_grad()
            loss = ((w - 2) ** 2).sum()
            loss.backward()
            return loss

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt.step(closure)
