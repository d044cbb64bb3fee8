"""The random number generator: one default Generator, seeded by ember.manual_seed.

ember draws from NumPy's PCG64 generator, so sequences differ from PyTorch's for the same
seed (documented); what matters is that a seed reproduces ember's own runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from ember._tensor import cpu_only


class Generator:
    """A source of random numbers (torch.Generator): `manual_seed`, `seed`, `get_state`.
    It lives on the CPU, the only device ember has: naming another raises."""

    def __init__(self, device: Any = "cpu") -> None:
        if device is not None:  # None is the CPU too, as in PyTorch; another device raises
            cpu_only(device)
        self._seed = 67280421310721  # PyTorch's default seed
        self.rng = np.random.Generator(np.random.PCG64(self._seed))

    @property
    def device(self) -> Any:
        """The device whose draws it makes: the CPU (as PyTorch's, without an index)."""
        from ember._tensor import CPU

        return CPU

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy) % (2**63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Any:
        from ember._tensor import Tensor

        state = self.rng.bit_generator.state
        words = [state["state"]["state"], state["state"]["inc"], state["has_uint32"], state["uinteger"]]
        as_bytes = b"".join(int(w).to_bytes(16, "little") for w in words)
        return Tensor(np.frombuffer(as_bytes, dtype=np.uint8).copy())

    def set_state(self, new_state: Any) -> Generator:
        raw = bytes(np.asarray(new_state, dtype=np.uint8))
        if len(raw) != 64:
            raise RuntimeError("Generator.set_state: expected a state tensor from get_state()")
        words = [int.from_bytes(raw[i : i + 16], "little") for i in range(0, 64, 16)]
        self.rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": words[0], "inc": words[1]},
            "has_uint32": words[2],
            "uinteger": words[3],
        }
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (torch.manual_seed)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, device_type: str = "cuda") -> Iterator[None]:
    """A block whose draws from the default generator leave no trace (torch.random.fork_rng):
    its state and seed are saved on entry and restored on exit, so code after the block draws
    what it would have drawn without it and `initial_seed()` is unchanged by a `manual_seed` in
    it (PyTorch's state holds the seed; ember's `get_state` does not). `devices` and
    `device_type` name accelerators, of which ember has none; `enabled=False` makes the block
    an ordinary one."""
    if not enabled:
        yield
        return
    seed, state = default_generator._seed, default_generator.get_state()
    try:
        yield
    finally:
        default_generator._seed = seed
        default_generator.set_state(state)


def rng(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator to draw from: the given ember Generator's, or the default one."""
    return (generator or default_generator).rng


def _check_uniform(a: float, b: float, op: str = "uniform_") -> None:
    """PyTorch's RuntimeError for an empty range, which NumPy would report as a ValueError."""
    if a > b:
        raise RuntimeError(f"{op} expects to return a [from, to) range, but found from={a:g} > to={b:g}")


def below(values: np.ndarray, a: float, b: float) -> np.ndarray:
    """Draws from [a, b) rounded to a narrower float dtype, those that rounded up to b set to
    the largest value below it, in place (rounding sends about 1 draw of U(0, 1) in 4 096 to
    1 in float16, 1 in 512 in bfloat16, 1 in 3e7 in float32; PyTorch's uniform_ never gives
    b). A range of one point, a == b, is left."""
    if values.dtype == np.float64 or a == b:
        return values
    top = np.array(b, dtype=values.dtype)
    if (values >= top).any():
        below_top = np.nextafter(top, np.array(-np.inf, values.dtype))  # (ml_dtypes has bfloat16's)
        np.copyto(values, below_top, where=values >= top)
    return values


def _check_std(std: float, op: str = "normal") -> None:
    """PyTorch's RuntimeError for a negative standard deviation (NumPy's is a ValueError)."""
    if std < 0:
        raise RuntimeError(f"{op} expects std >= 0.0, but found std {std:g}")
