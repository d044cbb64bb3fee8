"""Window functions under PyTorch's names (torch.signal.windows).

A window is a fixed sequence of M weights that tapers a signal's frame before a Fourier
transform (or shapes a filter). Each function here computes its window in float64 with
NumPy from its closed form and rounds it once to the requested dtype (float32 or float64,
the default dtype unless given), like the top-level `hann_window` family in
ops/api/numeric.py. Unlike those, these take the window's length first and a keyword `sym`:
`sym=True` (the default) gives the symmetric window used to design filters, `sym=False`
the periodic one used in spectral analysis, which is the symmetric window of M + 1 points
without its last point. The windows are constants, so `requires_grad=True` gives a leaf.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ember import dtypes
from ember._layout import strided
from ember._tensor import Tensor

__all__ = [
    "bartlett",
    "blackman",
    "cosine",
    "exponential",
    "gaussian",
    "general_cosine",
    "general_hamming",
    "hamming",
    "hann",
    "kaiser",
    "nuttall",
]


def _window(
    name: str,
    M: int,
    dtype: Any,
    layout: Any,
    device: Any,
    requires_grad: bool,
    values: Callable[[np.ndarray], np.ndarray],
    check: Callable[[], None] | None = None,
) -> Tensor:
    """The window `values(n)` at n = 0 .. M-1, after torch's checks: a non-negative length,
    the strided layout, a float32 or float64 dtype, then the window's own `check`. Empty
    for M = 0; `values` is only called for M >= 1."""
    try:
        M = operator.index(M)
    except TypeError:
        raise TypeError(f"{name}(): the window length M must be an int, got {type(M).__name__}") from None
    dtype = dtypes.get_default_dtype() if dtype is None else dtype
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype is not dtypes.float32 and dtype is not dtypes.float64:
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    if device is not None:
        from ember._tensor import cpu_only

        cpu_only(device)
    if check is not None:
        check()
    w = values(np.arange(M, dtype=np.float64)) if M else np.zeros(0)
    return Tensor(np.asarray(w).astype(dtypes.to_numpy_dtype(dtype)), requires_grad=requires_grad)


def _span(M: int, sym: bool) -> int:
    """The number of intervals the window spans: M - 1 when symmetric; M when periodic (the
    symmetric window of M + 1 points, cut), except for M = 1, which is symmetric either way."""
    return M if not sym and M > 1 else M - 1


def general_cosine(
    M: int,
    *,
    a: Iterable[float],
    sym: bool = True,
    dtype: Any = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The generalised cosine window, sum_k (-1)^k a[k] cos(2 pi k n / N), with N = M - 1
    when symmetric and N = M when periodic (torch.signal.windows.general_cosine)."""
    coefficients = list(a) if isinstance(a, Iterable) else a

    def check() -> None:
        if M > 1:  # torch checks the coefficients only where they are used
            if not isinstance(coefficients, list):
                raise TypeError("Coefficients must be a list/tuple")
            if not coefficients:
                raise ValueError("Coefficients cannot be empty")

    values = _cosine_sum(M, sym, coefficients)
    return _window("general_cosine", M, dtype, layout, device, requires_grad, values, check)


def general_hamming(
    M: int,
    *,
    alpha: float = 0.54,
    sym: bool = True,
    dtype: Any = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The generalised Hamming window, alpha - (1 - alpha) cos(2 pi n / N): general_cosine
    with coefficients (alpha, 1 - alpha) (torch.signal.windows.general_hamming)."""
    return _cosine_family(
        "general_hamming", M, (alpha, 1.0 - alpha), sym, dtype, layout, device, requires_grad
    )


def hamming(
    M: int,
    *,
    sym: bool = True,
    dtype: Any = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Hamming window, 0.54 - 0.46 cos(2 pi n / N) (torch.signal.windows.hamming)."""
    return _cosine_family("hamming", M, (0.54, 0.46), sym, dtype, layout, device, requires_grad)


def hann(
    M: int,
    *,
    sym: bool = True,
    dtype: Any = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Hann window, 1/2 - 1/2 cos(2 pi n / N) = sin^2(pi n / N)
    (torch.signal.windows.hann)."""
    return _cosine_family("hann", M, (0.5, 0.5), sym, dtype, layout, device, requires_grad)


def blackman(
    M: int,
    *,
    sym: bool = True,
    dtype: Any = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Blackman window, 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)
    (torch.signal.windows.blackman)."""
    return _cosine_family("blackman", M, (0.42, 0.5, 0.08), sym, dtype, layout, device, requires_grad)


def nuttall(
    M: int,
    *,
    sym: bool = True,
    dtype: Any = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Nuttall's minimum 4-term Blackman-Harris window: general_cosine with coefficients
    (0.3635819, 0.4891775, 0.1365995, 0.0106411) (torch.signal.windows.nuttall)."""
    coefficients = (0.3635819, 0.4891775, 0.1365995, 0.0106411)
    return _cosine_family("nuttall", M, coefficients, sym, dtype, layout, device, requires_grad)


def _cosine_family(
    name: str,
    M: int,
    a: tuple[float, ...],
    sym: bool,
    dtype: Any,
    layout: Any,
    device: Any,
    requires_grad: bool,
) -> Tensor:
    """general_cosine with fixed coefficients, its errors naming the window asked for."""
    return _window(name, M, dtype, layout, device, requires_grad, _cosine_sum(M, sym, a))


def _cosine_sum(M: int, sym: bool, a: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The values(n) of general_cosine's window: sum_k (-1)^k a[k] cos(2 pi k n / N), and
    1 for M = 1."""

    def values(n: np.ndarray) -> np.ndarray:
        if M == 1:
            return np.ones(1)
        phase = 2 * math.pi * n / _span(M, sym)
        return sum((-1) ** k * float(c) * np.cos(k * phase) for k, c in enumerate(a))

    return values


def bartlett(
    M: int,
    *,
    sym: bool = True,
    dtype: Any = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Bartlett (triangular) window, 1 - |2 n / N - 1|, rising linearly from 0 to 1 and
    back (torch.signal.windows.bartlett)."""

    def values(n: np.ndarray) -> np.ndarray:
        if M == 1:
            return np.ones(1)
        return 1 - np.abs(2 * n / _span(M, sym) - 1)

    return _window("bartlett", M, dtype, layout, device, requires_grad, values)


def cosine(
    M: int,
    *,
    sym: bool = True,
    dtype: Any = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The cosine (sine) window, sin(pi (n + 1/2) / (N + 1)), half a period of a sine
    (torch.signal.windows.cosine)."""
    return _window(
        "cosine",
        M,
        dtype,
        layout,
        device,
        requires_grad,
        lambda n: np.sin(math.pi * (n + 0.5) / (_span(M, sym) + 1)),
    )


def exponential(
    M: int,
    *,
    center: float | None = None,
    tau: float = 1.0,
    sym: bool = True,
    dtype: Any = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The exponential (Poisson) window, exp(-|n - center| / tau); center defaults to the
    window's middle, N / 2, and may be given only for a periodic window
    (torch.signal.windows.exponential)."""

    def check() -> None:
        if tau <= 0:
            raise ValueError(f"Tau must be positive, got: {tau} instead.")
        if sym and center is not None:
            raise ValueError("Center must be None for symmetric windows")

    def values(n: np.ndarray) -> np.ndarray:
        c = _span(M, sym) / 2.0 if center is None else center
        return np.exp(-np.abs(n - c) / tau)

    return _window("exponential", M, dtype, layout, device, requires_grad, values, check)


def gaussian(
    M: int,
    *,
    std: float = 1.0,
    sym: bool = True,
    dtype: Any = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Gaussian window, exp(-(n - N/2)^2 / (2 std^2)), std in samples
    (torch.signal.windows.gaussian)."""

    def check() -> None:
        if std <= 0:
            raise ValueError(f"Standard deviation must be positive, got: {std} instead.")

    def values(n: np.ndarray) -> np.ndarray:
        return np.exp(-((n - _span(M, sym) / 2.0) ** 2) / (2.0 * std * std))

    return _window("gaussian", M, dtype, layout, device, requires_grad, values, check)


def kaiser(
    M: int,
    *,
    beta: float = 12.0,
    sym: bool = True,
    dtype: Any = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Kaiser window, I0(beta sqrt(1 - (2 n / N - 1)^2)) / I0(beta), I0 the modified
    Bessel function of the first kind of order 0; beta >= 0 sets the trade-off between
    main-lobe width and side-lobe level (torch.signal.windows.kaiser)."""

    def check() -> None:
        if beta < 0:
            raise ValueError(f"beta must be non-negative, got: {beta} instead.")

    def values(n: np.ndarray) -> np.ndarray:
        if M == 1:
            return np.ones(1)
        r = 2 * n / (M - 1 if sym else M) - 1
        return np.i0(beta * np.sqrt(np.clip(1 - r * r, 0, None))) / np.i0(beta)

    return _window("kaiser", M, dtype, layout, device, requires_grad, values, check)
