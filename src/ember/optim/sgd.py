"""Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember._layout import strided
from ember._tensor import Tensor
from ember.optim._fused import add_scaled
from ember.optim.optimizer import Optimizer, ParamsT, _check, _check_flags, _check_fused


class SGD(Optimizer):
    """Stochastic gradient descent (torch.optim.SGD).

    For each parameter p with gradient g (-g when `maximize`), with buffer b:

        g <- g + weight_decay * p
        b <- g                                    at the first step
        b <- momentum * b + (1 - dampening) * g   afterwards          (if momentum != 0)
        g <- g + momentum * b  if nesterov  else  b                    (if momentum != 0)
        p <- p - lr * g

    `weight_decay` adds weight_decay * p to the gradient, which is the gradient of the L2
    penalty weight_decay/2 * ||p||² added to the loss.

    A sparse gradient (`nn.Embedding(sparse=True)`) updates only its rows, as in PyTorch,
    momentum included: the buffer it starts is sparse and collects the entries of every
    step. Weight decay would make it dense, and raises PyTorch's error.
    """

    _sparse_error = None  # SGD steps sparse gradients (_sparse_update)
    _fused_sparse_error = "`_fused_sgd` does not support sparse gradients"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check(lr >= 0.0, "learning rate", lr)
        _check(momentum >= 0.0, "momentum value", momentum)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_flags(differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        _check_fused(fused, foreach)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        nesterov = group["nesterov"]
        maximize = group["maximize"]
        alpha = -lr
        state = self.state
        # the loop of _params_with_grad, written out: on small models the generator costs
        # as much as an update
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            data, g = p._data, grad._data
            if maximize:
                g = -g
            if weight_decay != 0:
                g = add_scaled(g, data, weight_decay)
            if momentum != 0:
                p_state = state[p]
                buf = p_state.get("momentum_buffer")
                if buf is None:
                    buf = p_state["momentum_buffer"] = Tensor(np.array(g, copy=True))
                else:
                    b = buf._data
                    b *= momentum
                    if dampening == 0:
                        b += g  # add_scaled's alpha == 1 case, without the call
                    else:
                        add_scaled(b, g, 1 - dampening, out=b)
                g = add_scaled(g, buf._data, momentum) if nesterov else buf._data
            add_scaled(data, g, alpha, out=data)
            p._version_cell[0] += 1

    def _update_group_checked(self, group: dict[str, Any]) -> None:
        """The base class's, refusing first a dense gradient that meets the sparse momentum
        buffer an earlier sparse gradient started, with PyTorch's error for the sum
        buffer + grad it would take (checked only once sparse gradients exist)."""
        if group["momentum"] != 0:
            for p in group["params"]:
                if p._grad is None or p._grad.layout is not strided or p not in self.state:
                    continue
                buf = self.state[p].get("momentum_buffer")
                if buf is not None and buf.layout is not strided:
                    raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        super()._update_group_checked(group)

    def _sparse_update(self, p: Tensor, group: dict[str, Any]) -> None:
        """One step of p with a sparse gradient, PyTorch's algorithm on sparse tensors."""
        from ember.sparse import _grad as sparse_grad

        g = p._grad
        if group["maximize"]:
            g = sparse_grad.scaled(g, -1.0)
        if group["weight_decay"] != 0:  # g + weight_decay * p: PyTorch's add(sparse, dense)
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        momentum = float(group["momentum"])
        if momentum != 0:
            p_state = self.state[p]
            buf = p_state.get("momentum_buffer")
            if buf is None:
                buf = p_state["momentum_buffer"] = g.detach().clone()
            elif buf.layout is strided:  # a dense buffer from dense gradients before
                b = buf._data
                b *= momentum
                sparse_grad.add_into(b, g, 1 - float(group["dampening"]))
            else:
                decayed = sparse_grad.scaled(buf, momentum)
                sparse_grad.assign(buf, sparse_grad.sum_scaled(decayed, g, 1 - float(group["dampening"])))
            if group["nesterov"]:
                if buf.layout is strided:
                    raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
                g = sparse_grad.sum_scaled(g, buf, momentum)
            else:
                g = buf
        sparse_grad.add_into(p._data, g, -float(group["lr"]))
        p._version_cell[0] += 1
