"""Entries of the op table (see tests/op_table.py) for the reduce ops added after the core set."""

from __future__ import annotations

from op_table import OpSpec

TABLE: list[OpSpec] = []
