"""A pytest plugin (registered under the `pytest11` entry point in pyproject.toml) that keeps
ember's rule on NumPy's RuntimeWarnings in the tests people write for their ember code.

`import ember` tells Python's warnings machinery to ignore the RuntimeWarnings NumPy raises
for the inf and NaN made inside ember's ops, which PyTorch returns without a word. pytest
runs each test under its own warning filters and drops those added while it collected the
tests, which is where test modules import ember. Without this plugin a user's test run
would list warnings from ember's internals; the user's own NumPy code keeps its warnings.
"""

from __future__ import annotations

from typing import Any


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("filterwarnings", r"ignore::RuntimeWarning:ember\.")
