"""The short-time Fourier transform and its inverse (torch.stft, torch.istft).

Both are compositions of differentiable ember ops, so their gradients need no formula of
their own: stft pads the signal (center), cuts it into overlapping frames (`unfold`, a
view), multiplies each by the window and transforms it (`ember.fft`); istft transforms the
frames back, windows them, adds the overlapping parts up (`fold`, col2im in one row) and
divides by the sum of the squared windows that overlap at each sample.
"""

from __future__ import annotations

import warnings

import numpy as np

from ember import dtypes
from ember._tensor import Tensor


def _window(window: Tensor | None, win_length: int, n_fft: int, op: str, like: Tensor) -> Tensor | None:
    """The window as n_fft samples, zero-padded on both sides when it is shorter (None:
    rectangular, nothing to multiply)."""
    from ember.nn.functional import pad

    if win_length <= 0 or win_length > n_fft:
        raise RuntimeError(f"{op}: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    if window is not None and (window.ndim != 1 or window.shape[0] != win_length):
        raise RuntimeError(
            f"{op}: expected a 1D window tensor of size equal to win_length={win_length}, but got "
            f"window with size {list(window.shape)}"
        )
    if window is None:
        if win_length == n_fft:
            return None
        window = Tensor(np.ones(win_length, like._data.real.dtype))
    left = (n_fft - win_length) // 2
    if left or win_length < n_fft:
        window = pad(window, (left, n_fft - win_length - left))
    return window


def stft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    pad_mode: str = "reflect",
    normalized: bool = False,
    onesided: bool | None = None,
    return_complex: bool | None = None,
) -> Tensor:
    """The Fourier transforms of overlapping frames of a signal (torch.stft): frames of
    n_fft samples, hop_length apart (n_fft // 4 by default), each multiplied by the window
    (rectangular by default; a shorter one is centred and zero-padded). With center, the
    signal is first padded by n_fft // 2 on both sides (pad_mode). Gives (n_fft // 2 + 1
    frequencies, or n_fft when not onesided) x frames, after a batch dim for a 2-d input."""
    from ember import fft
    from ember.nn.functional import pad
    from ember.ops.api.complex import view_as_real

    op = "stft"
    if input._data.ndim not in (1, 2):
        raise RuntimeError(f"{op}: expected a 1D or 2D tensor, but got {input._data.ndim}D")
    is_complex = input._data.dtype.kind == "c"
    if return_complex is None:
        if not is_complex and not (window is not None and window.is_complex()):
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will further "
                "require that return_complex=True in a future PyTorch release."
            )
        return_complex = True
    if not return_complex:
        warnings.warn(
            "stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
            "complex tensors for all inputs, and return_complex=False will raise an error.",
            UserWarning,
            stacklevel=2,
        )
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if n_fft <= 0 or hop_length <= 0:
        raise RuntimeError(
            f"{op}: expected n_fft > 0 and hop_length > 0, but got n_fft={n_fft}, hop_length={hop_length}"
        )
    x = input if input._data.ndim == 2 else input.unsqueeze(0)
    if x._data.dtype.kind not in "fcV":
        x = x.to(dtypes.get_default_dtype())
    if center:
        half = n_fft // 2
        x = pad(x.unsqueeze(1), (half, half), mode=pad_mode).squeeze(1)
    length = x.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"{op}: expected 0 < n_fft <= {length}, but got n_fft={n_fft}")
    frames = x.unfold(-1, n_fft, hop_length)  # (batch, frames, n_fft)
    w = _window(window, win_length, n_fft, op, x)
    if w is not None:
        frames = frames * w
    onesided = not (is_complex or (w is not None and w.is_complex())) if onesided is None else onesided
    if onesided and (is_complex or (w is not None and w.is_complex())):
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    spectrum = fft.rfft(frames, dim=-1, norm=norm) if onesided else fft.fft(frames, dim=-1, norm=norm)
    spectrum = spectrum.transpose(1, 2)  # (batch, frequencies, frames)
    if input._data.ndim == 1:
        spectrum = spectrum.squeeze(0)
    return spectrum if return_complex else view_as_real(spectrum)


def istft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    normalized: bool = False,
    onesided: bool | None = None,
    length: int | None = None,
    return_complex: bool = False,
) -> Tensor:
    """The inverse of stft (torch.istft): each frame transformed back and windowed, the
    overlapping frames added up and divided by the sum of the squared windows at each
    sample; the center padding is cut off, and the result cut or zero-padded to `length`."""
    from ember import fft
    from ember.nn.functional import fold, pad

    op = "istft"
    if input._data.dtype.kind != "c":
        raise RuntimeError("istft requires a complex-valued input tensor")
    if input._data.ndim not in (2, 3):
        raise RuntimeError(
            f"{op}: expected a tensor with 2 or 3 dimensions of complex, but got {input._data.ndim}D"
        )
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    spectrum = input if input._data.ndim == 3 else input.unsqueeze(0)
    n_freq, n_frames = spectrum.shape[1], spectrum.shape[2]
    onesided = n_freq != n_fft if onesided is None else onesided
    expected = n_fft // 2 + 1 if onesided else n_fft
    if n_freq != expected:
        raise RuntimeError(
            f"{op}: expected the frequency dimension (3rd to the last) of the input tensor to match "
            f"n_fft / 2 + 1 when onesided=True, but got {n_freq}"
            if onesided
            else f"{op}: expected the frequency dimension to be n_fft={n_fft} when onesided=False, but got {n_freq}"
        )
    if onesided and return_complex:
        raise RuntimeError("cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    frames = spectrum.transpose(1, 2)  # (batch, frames, frequencies)
    if not return_complex and window is not None and window._data.dtype.kind == "c":
        raise RuntimeError("Complex windows are incompatible with return_complex=False")
    if return_complex:
        frames = fft.ifft(frames, n=n_fft, dim=-1, norm=norm)
    else:  # a real signal's spectrum: its first half alone is read, as in PyTorch
        frames = fft.irfft(frames if onesided else frames[..., : n_fft // 2 + 1], n=n_fft, dim=-1, norm=norm)
    w = _window(window, win_length, n_fft, op, frames)
    real_dtype = frames._data.real.dtype
    if w is None:
        w_squared = Tensor(np.ones(n_fft, real_dtype))
    else:
        frames = frames * w
        # w², not |w|²: stft multiplied each frame by w, not by its conjugate. Recorded:
        # the envelope depends on the window too (its gradient, as torch's).
        w_squared = w * w
    total = n_fft + hop_length * (n_frames - 1)

    def overlap_add(columns: Tensor) -> Tensor:  # (batch, n_fft, frames) -> (batch, total)
        return fold(columns, (1, total), (1, n_fft), stride=(1, hop_length)).reshape(columns.shape[0], total)

    signal = overlap_add(frames.transpose(1, 2))
    # the squared windows, added up where the frames overlap
    envelope = overlap_add(w_squared.reshape(1, n_fft, 1).expand(1, n_fft, n_frames)).reshape(total)
    start = n_fft // 2 if center else 0
    end = total - (n_fft // 2 if center else 0) if length is None else start + length
    end = min(end, total)
    signal, envelope = signal[:, start:end], envelope[start:end]
    if np.any(np.abs(envelope._data) < 1e-11):
        raise RuntimeError(
            "istft: window overlap add min: the sum of the squared windows is zero at some samples "
            "(use a window and hop_length whose frames overlap everywhere)"
        )
    signal = signal / envelope
    if length is not None and signal.shape[-1] < length:
        signal = pad(signal, (0, length - signal.shape[-1]))
    return signal.squeeze(0) if input._data.ndim == 2 else signal
