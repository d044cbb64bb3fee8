"""LinearCrossEntropyOptions (torch.nn.LinearCrossEntropyOptions): the settings of PyTorch's
chunked linear_cross_entropy, which computes the loss a slice of the batch at a time so that
the whole (N, C) logits never exist at once.

ember has one way to compute the loss (the linear layer, then cross_entropy), so these
options change nothing in what it computes; they are kept, checked as PyTorch checks them,
so that code which builds them runs unchanged (see docs/differences.md).
"""

from __future__ import annotations

import dataclasses

from ember.dtypes import float16, float32, float64

__all__ = ["LinearCrossEntropyOptions"]

_POLICIES = ("auto", "accurate", "balanced", "compact")


def _valid_chunking(method: str) -> bool:
    """'aspect_ratio' or 'aspect_ratio:N' for a positive integer N."""
    name, colon, factor = method.partition(":")
    if not colon:
        factor = "1"
    return name == "aspect_ratio" and factor.isdigit() and int(factor) > 0


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """How PyTorch's chunked linear_cross_entropy would split its work
    (torch.nn.LinearCrossEntropyOptions).

    allow_retain_graph: whether a second backward may follow; batch_chunk_size: rows per
    chunk (None: one chunk); chunking_method: 'auto', 'aspect_ratio', 'aspect_ratio:N' or
    None; acc_policy: 'auto', 'accurate', 'balanced' or 'compact'; acc_dtype: the dtype
    to accumulate in (a float dtype or None). ember checks them and otherwise computes
    the loss as with options=None.
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self) -> None:
        if self.acc_policy not in _POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method not in (None, "auto") and not _valid_chunking(str(self.chunking_method)):
            raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        size = self.batch_chunk_size
        if size is not None and not (isinstance(size, int) and size > 0):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_dtype is not None and self.acc_dtype not in (float16, float32, float64):
            raise ValueError(
                "acc_dtype must be one of {None, ember.float16, ember.float32, ember.float64}, got "
                f"{self.acc_dtype!r}. Pass acc_dtype=None to let the op pick automatically."
            )
