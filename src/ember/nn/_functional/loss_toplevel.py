"""The losses under their top-level names (torch.margin_ranking_loss, torch.poisson_nll_loss,
...): PyTorch's native spellings of the functions in ember.nn.functional, which take the
reduction as an int, 0 'none', 1 'mean' or 2 'sum', and no size_average or reduce. Their
default is 0, no reduction: ATen's schemas say Mean, but PyTorch 2.13's Python functions
reduce nothing unless given 1 or 2 (measured; `torch.kl_div(x, y)` is elementwise). Code
normally calls the functional ones; these exist because PyTorch code calls them too."""

from __future__ import annotations

from ember._tensor import Tensor
from ember.nn._functional import loss, loss_margin

_ENUM = {0: "none", 1: "mean", 2: "sum"}


def _named(reduction: int, op: str) -> str:
    if not isinstance(reduction, int) or isinstance(reduction, bool):
        raise TypeError(
            f"{op}(): argument 'reduction' must be int, not {type(reduction).__name__} (0 'none', "
            f"1 'mean', 2 'sum'; ember.nn.functional.{op} takes the names)"
        )
    return _ENUM.get(reduction, "none")  # PyTorch reduces nothing for any other int


def margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 0
) -> Tensor:
    """torch.margin_ranking_loss: ember.nn.functional.margin_ranking_loss, reduction an int."""
    r = _named(reduction, "margin_ranking_loss")
    return loss_margin.margin_ranking_loss(input1, input2, target, margin, reduction=r)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: int = 0) -> Tensor:
    """torch.hinge_embedding_loss: ember.nn.functional.hinge_embedding_loss, reduction an int."""
    r = _named(reduction, "hinge_embedding_loss")
    return loss_margin.hinge_embedding_loss(input, target, margin, reduction=r)


def cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 0
) -> Tensor:
    """torch.cosine_embedding_loss: ember.nn.functional.cosine_embedding_loss, reduction an int."""
    r = _named(reduction, "cosine_embedding_loss")
    return loss_margin.cosine_embedding_loss(input1, input2, target, margin, reduction=r)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: int = 0,
) -> Tensor:
    """torch.triplet_margin_loss: ember.nn.functional.triplet_margin_loss, reduction an int,
    and, as in PyTorch, any margin (the functional form wants margin > 0)."""
    r = _named(reduction, "triplet_margin_loss")
    return loss_margin._triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, r, False)


def poisson_nll_loss(
    input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float, reduction: int
) -> Tensor:
    """torch.poisson_nll_loss: ember.nn.functional.poisson_nll_loss with every argument given,
    reduction an int."""
    r = _named(reduction, "poisson_nll_loss")
    return loss.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=r)
