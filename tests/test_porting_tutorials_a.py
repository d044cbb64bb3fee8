"""PyTorch's beginner, autograd and recipe tutorials redone as small programs of the library
module `T`, run with `T = torch` and `T = ember` from the same weights (the harness of
test_porting_programs): Learning PyTorch with Examples (gradients by hand, a custom
Function, a custom Module, a graph that changes each step), What is torch.nn really?
(its chain of refactors up to a wrapped loader), the Learn-the-Basics pages on building a
model, autograd and optimization loops, the saving and loading recipes (a checkpoint of two
models and optimizers, warm starts, map_location, mmap and assign), reasoning about shapes,
zeroing gradients, the default device, mixed precision on the CPU and profiling. Each
program is written afresh at tiny sizes; the programs of test_porting_programs and
test_tutorials_sweep are not repeated."""

from __future__ import annotations

import pytest

import ember
from conftest import requires_torch

pytestmark = requires_torch


def test_mmap_options_and_their_errors(T, tmp_path) -> None:
    """torch.serialization's mmap settings, and what load(mmap=True) refuses, in both."""
    import mmap

    import torch

    serialization = T.serialization
    assert serialization.get_default_mmap_options() == mmap.MAP_PRIVATE
    with serialization.set_default_mmap_options(mmap.MAP_SHARED):
        assert serialization.get_default_mmap_options() == mmap.MAP_SHARED
    assert serialization.get_default_mmap_options() == mmap.MAP_PRIVATE
    with pytest.raises(ValueError, match="expected mmap.MAP_PRIVATE or mmap.MAP_SHARED, but got 7"):
        serialization.set_default_mmap_options(7)
    path = str(tmp_path / "t.pt")
    T.save({"w": T.ones(2)}, path)
    with open(path, "rb") as f, pytest.raises(ValueError, match="f must be a file path"):
        T.load(f, mmap=True, weights_only=True)
    legacy = str(tmp_path / "legacy.pt")
    torch.save({"w": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match=f"torch.save\\({legacy}, _use_new_zipfile_serialization=True"):
        T.load(legacy, mmap=True, weights_only=True)
    assert T.load(legacy, weights_only=True)["w"].tolist() == [1.0, 1.0]


def test_a_shared_mapping_is_refused_rather_than_ignored(tmp_path) -> None:
    """ember reads a checkpoint into memory: a private mapping's behaviour; a shared one would
    write changes back to the file, which ember cannot do, so it refuses rather than differ."""
    import mmap

    path = str(tmp_path / "t.pt")
    ember.save({"w": ember.ones(2)}, path)
    with ember.serialization.set_default_mmap_options(mmap.MAP_SHARED):
        with pytest.raises(NotImplementedError, match="MAP_SHARED"):
            ember.load(path, mmap=True, weights_only=True)
        assert ember.load(path, weights_only=True)["w"].tolist() == [1.0, 1.0]  # without mmap
