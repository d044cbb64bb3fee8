"""Muon: momentum whose update matrix is orthogonalised by a Newton-Schulz iteration."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.optim._fused import add_scaled, lerp_
from ember.optim.optimizer import Optimizer, ParamsT, _refuse_complex

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _round_to_bfloat16(x: np.ndarray) -> np.ndarray:
    """x rounded to bfloat16 (float32's top 16 bits, to nearest, ties to even), as float32.

    PyTorch runs the Newton-Schulz iteration in bfloat16; NumPy has no such type, but a
    bfloat16 number is a float32 whose low 16 bits are zero, so each operation computes in
    float32 and rounds its result here, as PyTorch's bfloat16 kernels do.
    """
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    ties_to_even = ((bits >> 16) & np.uint32(1)) + np.uint32(0x7FFF)
    return ((bits + ties_to_even) & np.uint32(0xFFFF0000)).view(np.float32)


def _zeropower_via_newtonschulz(
    grad: np.ndarray, ns_coefficients: tuple[float, float, float], ns_steps: int, eps: float
) -> np.ndarray:
    """Approximately U V^T for grad = U S V^T: the quintic iteration X <- aX + (bA + cA²)X,
    A = X X^T, pushes every singular value of the normalised grad towards 1 (to about
    0.5..1.5 with the default coefficients, which is all Muon needs). Computed on the wide
    orientation (fewer rows than columns), so that A is the smaller Gram matrix."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    bf16 = _round_to_bfloat16
    tall = grad.shape[0] > grad.shape[1]
    x = bf16(grad.T if tall else grad)
    norm = bf16(np.sqrt(np.sum(np.square(x, dtype=np.float64))))
    x = bf16(x / np.maximum(norm, bf16(np.float32(eps))))
    for _ in range(ns_steps):
        # float64 accumulation, then one rounding per product, as PyTorch's float accumulators give
        gram = bf16(x.astype(np.float64) @ x.T)
        poly = bf16(b * gram.astype(np.float64) + c * (gram.astype(np.float64) @ gram))
        x = bf16(a * x.astype(np.float64) + poly.astype(np.float64) @ x)
    return x.T if tall else x


def _adjust_lr(lr: float, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    """The lr scaled for the matrix's shape (A rows, B columns): sqrt(max(1, A/B)) ('original',
    Keller Jordan's), or 0.2 sqrt(max(A, B)) ('match_rms_adamw', Moonshot's, so that AdamW's
    lr and weight decay carry over)."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    """Muon (torch.optim.Muon), for the 2-d weights of hidden layers; give biases, embeddings
    and the output layer to another optimizer such as AdamW.

    For each weight W with gradient g:

        B <- lerp(B, g, 1 - momentum)                 (momentum buffer)
        u <- lerp(g, B, momentum) if nesterov else B
        O <- NewtonSchulz(u)                          (u with its singular values near 1)
        W <- W * (1 - lr * weight_decay) - adjusted_lr * O

    The Newton-Schulz iteration runs in bfloat16, as in PyTorch (see _round_to_bfloat16).
    State per parameter: 'momentum_buffer'.
    """

    _sparse_error = "Muon does not support sparse gradients"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
        eps: float = EPS,
        ns_steps: int = DEFAULT_NS_STEPS,
        adjust_lr_fn: str | None = None,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "nesterov": nesterov,
            "ns_coefficients": ns_coefficients,
            "eps": eps,
            "ns_steps": ns_steps,
            "adjust_lr_fn": adjust_lr_fn,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        f"Muon only supports 2D parameters whereas we found a parameter with size: {p.size()}"
                    )

    @staticmethod
    def _params_with_grad(group: dict[str, Any]) -> Any:
        # Muon has no `maximize` option, which the base class's version reads
        for p in group["params"]:
            if p._grad is not None:
                yield p, p._data, p._grad._data

    def _update_group(self, group: dict[str, Any]) -> None:
        _refuse_complex(group, "Muon")
        lr = float(group["lr"])
        weight_decay = float(group["weight_decay"])
        momentum = float(group["momentum"])
        for p, data, g in self._params_with_grad(group):
            if g.ndim != 2:
                raise ValueError("Param gradient must be a 2D matrix")
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = Tensor(np.zeros_like(g))
            buf = state["momentum_buffer"]._data
            lerp_(buf, g, 1 - momentum)
            if group["nesterov"]:
                update = g.copy()
                lerp_(update, buf, momentum)
            else:
                update = buf
            ortho = _zeropower_via_newtonschulz(
                update, group["ns_coefficients"], group["ns_steps"], group["eps"]
            )
            adjusted_lr = _adjust_lr(lr, group["adjust_lr_fn"], data.shape)
            data *= 1 - lr * weight_decay
            add_scaled(data, ortho.astype(data.dtype), -adjusted_lr, out=data)
            p._version_cell[0] += 1
