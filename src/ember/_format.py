"""PyTorch's tensor printing: `tensor([[1., 2.]], requires_grad=True)`, `tensor(2.5000)`.

One number format serves the whole tensor, chosen from its finite non-zero values: whole
numbers print as `1.`, others with four decimals, and scientific notation when the
magnitudes span more than 1000x or leave [1e-4, 1e8]. Every element is padded to the
widest. Past 1000 elements only the first and last three along each dimension are shown.
`set_printoptions` changes these numbers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class _Options:
    """What set_printoptions changes: digits after the point, the element count past which
    a tensor is summarized, the items shown at each edge then, the line width, and
    scientific notation forced on (True), off (False) or chosen from the values (None)."""

    precision, threshold, edgeitems, linewidth, sci_mode = 4, 1000, 3, 80, None


_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """How tensors print from now on (torch.set_printoptions). `profile` ("default",
    "short", "full") sets the first four at once; the other arguments then override it.
    sci_mode is set on every call: None (the default) chooses from the values."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(
                f"set_printoptions(): profile must be one of {sorted(_PROFILES)}, got {profile!r}"
            )
        _Options.precision, _Options.threshold, _Options.edgeitems, _Options.linewidth = _PROFILES[profile]
    for name, value in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if value is not None:
            setattr(_Options, name, value)
    _Options.sci_mode = sci_mode


class _Formatter:
    """The format of every element, decided once from the values that will be shown."""

    def __init__(self, shown: np.ndarray) -> None:
        self.floating = shown.dtype.kind in "fV"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = shown.reshape(-1)
        if not self.floating:
            self.width = max((len(str(v)) for v in flat.tolist()), default=1)
            return
        values = flat[np.isfinite(flat) & (flat != 0)]
        if values.size == 0:
            return
        magnitudes = np.abs(values.astype(np.float64))
        lo, hi = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(values == np.ceil(values)))
        self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or (not self.int_mode and lo < 1.0e-4)
        if _Options.sci_mode is not None:
            self.sci_mode = _Options.sci_mode
        if self.sci_mode:
            widths = (len(f"{v:.{_Options.precision}e}") for v in values.tolist())
        elif self.int_mode:
            widths = (len(f"{v:.0f}") + 1 for v in values.tolist())  # + 1 for the trailing "."
        else:
            widths = (len(f"{v:.{_Options.precision}f}") for v in values.tolist())
        self.width = max(widths)

    def format(self, v: Any) -> str:
        if not self.floating:
            text = str(v)
        elif self.sci_mode:
            text = f"{v:{self.width}.{_Options.precision}e}"
        elif self.int_mode:
            text = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            text = f"{v:.{_Options.precision}f}"
        return text.rjust(self.width)


class _ComplexFormatter:
    """Complex elements as PyTorch prints them: the real parts with one format and the
    imaginary parts with another, each chosen as for a real tensor (`1.0000+2.j`)."""

    def __init__(self, shown: np.ndarray) -> None:
        self.real, self.imag = _Formatter(shown.real), _Formatter(shown.imag)
        self.width = self.real.width + self.imag.width + 1  # the sign between them and the j, less one

    def format(self, v: Any) -> str:
        imag = (self.imag.format(v.imag) + "j").lstrip()
        return self.real.format(v.real) + (imag if imag[0] in "+-" else "+" + imag)


def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements that will be shown: the first and last `edgeitems` along every dimension."""
    if a.ndim == 0:
        return a
    edge = _Options.edgeitems
    if a.shape[0] > 2 * edge:
        a = np.concatenate([a[:edge], a[-edge:]])
    if a.ndim == 1:
        return a
    return np.stack([_summarized(row) for row in a])


def _vector(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    edge = _Options.edgeitems
    if summarize and a.shape[0] > 2 * edge:
        items = [fmt.format(v) for v in a[:edge].tolist()] + [" ..."]
        items += [fmt.format(v) for v in a[-edge:].tolist()]
    else:
        items = [fmt.format(v) for v in a.tolist()]
    per_line = max(1, (_Options.linewidth - indent) // (fmt.width + 2))
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    n = a.shape[0]
    edge = _Options.edgeitems
    if summarize and n > 2 * edge:
        rows = [_nested(a[i], indent + 1, summarize, fmt) for i in range(edge)] + ["..."]
        rows += [_nested(a[i], indent + 1, summarize, fmt) for i in range(n - edge, n)]
    else:
        rows = [_nested(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append `, dtype=...` and the like, starting a new line when one would pass the line width."""
    parts = [text]
    line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_len + len(suffix) + 2 > _Options.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_len += len(suffix) + 2
    return "".join(parts) + ")"


def tensor_repr(t: Any) -> str:
    """repr(t), character for character what PyTorch prints with 'torch.' read as 'ember.'."""
    from ember.dtypes import default_complex_numpy, get_default_dtype

    a = t._data
    plain = type(t).__dict__.get("_plain_repr", False)  # Tensor, Parameter, Buffer
    prefix = "tensor(" if plain else f"{type(t).__name__}("  # a user's subclass by its name
    default = get_default_dtype().name
    default_complex = default_complex_numpy().name
    suffixes = []
    if a.__class__ is not np.ndarray and t.is_meta:  # no values: PyTorch's form, its size given
        body = "..."
        suffixes += ["device='meta'", f"size={tuple(a.shape)}"]
        if a.dtype.name != default:
            suffixes.append(f"dtype=ember.{a.dtype.name}")
    elif a.size == 0:
        body = "[]"
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype.name != default:  # nothing printed shows the dtype, so name it
            suffixes.append(f"dtype=ember.{a.dtype.name}")
    else:
        if a.dtype.name not in (default, default_complex, "int64", "bool"):
            suffixes.append(f"dtype=ember.{a.dtype.name}")
        shown = a.astype(np.float32) if a.dtype == np.float16 else a
        summarize = a.size > _Options.threshold
        formatter = _ComplexFormatter if a.dtype.kind == "c" else _Formatter
        fmt = formatter(_summarized(shown) if summarize else shown)
        body = _nested(shown, len(prefix), summarize, fmt)
    if t.grad_fn is not None:
        # PyTorch shows its C++ nodes without their namespace (torch::autograd::NotImplemented)
        suffixes.append(f"grad_fn=<{t.grad_fn.name().removeprefix('torch::autograd::')}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    text = _with_suffixes(prefix + body, suffixes, len(prefix))
    return text if plain or not getattr(t, "_is_param", False) else f"Parameter({text})"
