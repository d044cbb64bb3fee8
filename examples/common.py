"""What every example shares: where the data is, where figures go, and the quick mode.

- data: `--data DIR` on the command line, else $EMBER_DATA, else ../shared/data beside the
  repository (the folder holds mnist/ and raisin/);
- figures and drawings: $EMBER_EXAMPLES_OUT, else examples/out/;
- EMBER_EXAMPLES_QUICK=1 shrinks the long examples to a few seconds (the tests use it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
QUICK = os.environ.get("EMBER_EXAMPLES_QUICK", "") not in ("", "0")


def data_root() -> Path:
    """The data folder: --data DIR, else $EMBER_DATA, else ../shared/data beside the repository."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--data")
    args, _ = parser.parse_known_args()  # a notebook's kernel has arguments of its own
    root = args.data or os.environ.get("EMBER_DATA") or EXAMPLES.parent.parent / "shared" / "data"
    return Path(root)


def require_data(path: Path, what: str) -> None:
    """Stop the example with a clear message (and exit status 0) when `path` is missing."""
    if not path.exists():
        print(f"SKIPPED: {what} not found at {path}. Pass --data DIR or set EMBER_DATA.")
        sys.exit(0)


def out_dir() -> Path:
    """The folder for figures and graph drawings, created if needed."""
    out = Path(os.environ.get("EMBER_EXAMPLES_OUT") or EXAMPLES / "out")
    out.mkdir(parents=True, exist_ok=True)
    return out
