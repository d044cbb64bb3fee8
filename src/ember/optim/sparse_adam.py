"""SparseAdam: Adam for sparse gradients, which ember does not produce.

No ember op makes a sparse gradient for a dense parameter (`embedding(sparse=True)` raises),
so a step raises PyTorch's error for a dense gradient. The class exists so that programs
that build one (and never step it, or step it only without gradients) run, and so that
the error names the alternative, Adam.
"""

from __future__ import annotations

from typing import Any

from ember.optim.optimizer import Optimizer, ParamsT, _check, _check_betas


class SparseAdam(Optimizer):
    """SparseAdam (torch.optim.SparseAdam): its options, checks and repr; `step` raises
    for the dense gradients that are the only kind ember has."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        _check(0.0 < lr, "learning rate", lr)
        _check(0.0 < eps, "epsilon value", eps)
        _check_betas(betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        """Raise if any parameter of the group has a gradient (it is dense)."""
        if any(p._grad is not None for p in group["params"]):
            raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
