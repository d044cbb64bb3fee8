"""The stacklevel that makes a warning name the user's line.

A fixed `stacklevel=2` names the caller of the function that warns. Functions that take
`out=` are reached through the wrapper `ember._out` puts around them, one frame more, but
their Tensor methods call them directly; either way the line to blame is the first one
outside ember's own files. Walking the stack costs a few microseconds, paid only when a
warning is given.
"""

from __future__ import annotations

import os
import sys

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def outside_ember() -> int:
    """The `stacklevel` for a `warnings.warn` in the function calling this one."""
    frame = sys._getframe(1)  # the function that warns: stacklevel 1
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level
