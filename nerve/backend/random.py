"""Random number generation: a PyTorch-style ``Generator`` over NumPy's PCG64.

Random tensors are drawn on the CPU and moved to their device, so a seed gives the same numbers on
every device.
"""
from __future__ import annotations

import contextlib
import copy
import time

import numpy as np


class Generator:
    """A source of random numbers with its own seed and state (``torch.Generator``).

    Example:
        >>> g = Generator().manual_seed(0)
        >>> nerve.rand(3, generator=g)
    """

    def __init__(self, device="cpu"):
        from .device import device as _device  # noqa: PLC0415
        self.device = _device(device)
        self._seed = 67280421310721  # PyTorch's default seed
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        if seed < 0:
            seed &= 0xFFFFFFFFFFFFFFFF
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        s = time.time_ns() & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The generator state as a JSON-serialisable dict (a checkpoint stores it as is)."""
        return {"seed": self._seed, "bit_generator": copy.deepcopy(self._rng.bit_generator.state)}

    def set_state(self, state: dict) -> "Generator":
        if not isinstance(state, dict) or "bit_generator" not in state:
            raise TypeError("Generator.set_state expects a dict made by Generator.get_state()")
        self._seed = int(state.get("seed", self._seed))
        bg = np.random.PCG64()
        bg.state = copy.deepcopy(state["bit_generator"])
        self._rng = np.random.Generator(bg)
        return self

    @property
    def numpy(self) -> np.random.Generator:
        """The underlying ``numpy.random.Generator`` (used by nerve's random ops)."""
        return self._rng

    def __repr__(self):
        return f"<nerve.Generator device={self.device} seed={self._seed}>"


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed nerve's default generator (``torch.manual_seed``); returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def rng(generator=None) -> np.random.Generator:
    return (generator or default_generator)._rng


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, **_ignored):
    """Run a block with the default generator's state saved and restored afterwards (``torch.random.fork_rng``)."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
