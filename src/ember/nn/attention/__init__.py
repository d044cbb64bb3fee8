"""What changes how scaled_dot_product_attention computes (torch.nn.attention): the
kernels it may use (`SDPBackend`, `sdpa_kernel`), attention biases that are not tensors
(`bias`) and attention with score and mask functions (`flex_attention`).

ember has one way to compute attention, PyTorch's math kernel; `sdpa_kernel` records the
kernels allowed so that a call no allowed CPU kernel of PyTorch's would take raises
PyTorch's error (see ember.nn._functional.attention).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ember.nn._functional.attention import _BACKENDS, SDPBackend

__all__ = ["WARN_FOR_UNFUSED_KERNELS", "SDPBackend", "sdpa_kernel"]

# PyTorch warns, when this is True, why a CausalBias could not use a fused kernel; ember
# has no fused kernels, so it changes nothing.
WARN_FOR_UNFUSED_KERNELS = False


@contextlib.contextmanager
def sdpa_kernel(backends: list[SDPBackend] | SDPBackend, set_priority: bool = False) -> Iterator[dict]:
    """Allow only these kernels to scaled_dot_product_attention within the block
    (torch.nn.attention.sdpa_kernel); the previous set is restored on leaving it.

    Every ember call computes as PyTorch's math kernel; what the set changes is which calls
    raise: one that neither allowed CPU kernel (MATH, FLASH_ATTENTION for 4-D inputs without
    dropout) would take raises PyTorch's RuntimeError. set_priority is accepted (the order
    of the list cannot change ember's numbers).
    """
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(
            "Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
            f"{type(backends).__name__}"
        )
    chosen = [backends] if isinstance(backends, SDPBackend) else backends
    previous = _BACKENDS.enabled
    _BACKENDS.set(frozenset(b for b in chosen if b is not SDPBackend.ERROR))
    try:
        yield {}
    finally:
        _BACKENDS.set(previous)


# the submodules, as torch.nn.attention has them; they import the names above
from ember.nn.attention import bias as bias  # noqa: E402
from ember.nn.attention import flex_attention as flex_attention  # noqa: E402
