"""A progress bar: tqdm when it is installed (the `progress` extra), else a plain text line.

with progress_bar(total=n_bytes, desc="train-images", unit="B") as bar:
    bar.update(len(chunk))
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class _TextBar:
    """The fallback: one line on stderr, rewritten at most ten times a second."""

    def __init__(self, total: int | None, desc: str, unit: str, file: TextIO | None = None) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.file = file if file is not None else sys.stderr
        self.n = 0
        self._last = 0.0

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= 0.1:
            self._last = now
            self._draw()

    def _amount(self, value: float) -> str:
        if self.unit != "B":
            return f"{value:g}"
        for scale, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if value >= scale:
                return f"{value / scale:.1f} {name}"
        return f"{value:.0f} B"

    def _draw(self) -> None:
        if self.total:
            done = f"{100 * self.n / self.total:3.0f}% {self._amount(self.n)}/{self._amount(self.total)}"
        else:
            done = self._amount(self.n)
        self.file.write(f"\r{self.desc}: {done}")
        self.file.flush()

    def close(self) -> None:
        self._draw()
        self.file.write("\n")
        self.file.flush()

    def __enter__(self) -> _TextBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress_bar(total: int | None, desc: str, unit: str = "it", file: TextIO | None = None) -> Any:
    """A context-managed bar with `update(n)`: tqdm's if available, else a text line."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _TextBar(total, desc, unit, file)
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", unit_divisor=1024, file=file)
