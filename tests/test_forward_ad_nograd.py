"""Forward-mode AD and the grad modes, compared with torch: what a dual level gives under
no_grad and inference_mode, and (pinned) where ember differs: PyTorch's forward AD ignores
no_grad, while ember computes tangents from the recorded graph, which no_grad turns off
(docs/differences.md)."""

from __future__ import annotations

import pytest

import ember
from conftest import requires_torch


def _scenarios(T) -> dict:
    fw = T.autograd.forward_ad
    out = {}

    def tangent(t):
        u = fw.unpack_dual(t)
        return None if u.tangent is None else u.tangent.tolist()

    with fw.dual_level():
        x = fw.make_dual(T.tensor([1.0, 2.0]), T.tensor([1.0, -1.0]))
        y = x.sin() * 2
        with T.no_grad():  # unpacking under no_grad still computes the tangent
            out["unpack under no_grad"] = tangent(y)
        with T.inference_mode():  # inference mode drops tangents
            out["op under inference_mode"] = tangent(x * 3)
        out["detach"] = tangent(y.detach())
        with T.no_grad():  # a dual made under no_grad has its tangent
            d = fw.make_dual(T.tensor([3.0]), T.tensor([2.0]))
        out["make_dual under no_grad"] = tangent(d)
        out["op on it outside"] = tangent(d * d)
        with T.enable_grad():
            out["enable_grad"] = tangent(x.exp())
        with T.no_grad(), T.enable_grad():
            out["enable_grad inside no_grad"] = tangent(x * x)
        p = T.tensor([1.0, 2.0], requires_grad=True)
        with T.no_grad():  # reverse mode: no graph from no_grad, as in torch
            r = p * 2
        out["no_grad result requires_grad"] = r.requires_grad
    return out


@requires_torch
def test_grad_modes_as_torch():
    import torch

    got, want = _scenarios(ember), _scenarios(torch)
    assert got.keys() == want.keys()
    for key in want:
        if isinstance(want[key], list):
            assert got[key] == pytest.approx(want[key], rel=1e-6), key
        else:
            assert got[key] == want[key], key


def test_no_tangent_from_ops_under_no_grad():
    # the documented difference: PyTorch gives [3.0, -3.0] and [e, -e**2] here
    fw = ember.autograd.forward_ad
    with fw.dual_level():
        x = fw.make_dual(ember.tensor([1.0, 2.0]), ember.tensor([1.0, -1.0]))
        with ember.no_grad():
            q = x * 3
        assert fw.unpack_dual(q).tangent is None
        assert not q.requires_grad
    with ember.no_grad(), fw.dual_level():
        x = fw.make_dual(ember.tensor([1.0, 2.0]), ember.tensor([1.0, -1.0]))
        assert fw.unpack_dual(x).tangent.tolist() == [1.0, -1.0]
        assert fw.unpack_dual(x.exp()).tangent is None
