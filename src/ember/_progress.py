"""A progress bar: tqdm when it is installed (the `progress` extra), else a plain text line.

with progress_bar(total=n_bytes, desc="train-images", unit="B") as bar:
    bar.update(len(chunk))
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class _TextBar:
    """The fallback: one line on stderr, rewritten at most ten times a second. It takes
    tqdm's arguments and answers the calls training loops make on a tqdm bar (iterate over
    it, update, set_postfix, set_description, close), for it is also what `ember.hub.tqdm`
    is when tqdm is not installed; with disable=True it draws nothing."""

    def __init__(
        self,
        iterable: Any = None,
        desc: str | None = None,
        total: int | None = None,
        *,
        unit: str = "it",
        disable: bool = False,
        file: TextIO | None = None,
        **ignored: Any,
    ) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.total, self.desc, self.unit, self.disable = (
            iterable,
            total,
            desc or "",
            unit,
            disable,
        )
        self.file = file if file is not None else sys.stderr
        self.n = 0
        self.postfix = ""
        self._last = 0.0

    def __iter__(self) -> Any:
        for item in self.iterable:
            yield item
            self.update()
        self.close()

    def __len__(self) -> int:
        return self.total if self.total is not None else len(self.iterable)

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        self.desc = desc or ""

    def set_postfix(self, ordered_dict: Any = None, refresh: bool = True, **kwargs: Any) -> None:
        items = {**(ordered_dict or {}), **kwargs}
        self.postfix = ", ".join(f"{key}={value}" for key, value in items.items())

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
        if self.disable:
            return
        postfix = f", {self.postfix}" if self.postfix else ""
        self.file.write(f"\r{self.desc}: {done}{postfix}")
        self.file.flush()

    def close(self) -> None:
        if self.disable:
            return
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
        return _TextBar(desc=desc, total=total, unit=unit, file=file)
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", unit_divisor=1024, file=file)
