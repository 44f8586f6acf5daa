"""The op table: one ``OpInfo`` entry per op drives every generic op test (tests/test_ops.py).

An entry names the op, a function ``fn(lib, *args, **kwargs)`` that is called once with
``lib=nerve`` and once with ``lib=torch`` (so the same line checks API compatibility), and a sample
generator yielding ``Sample``s. Array arguments are NumPy arrays in the samples; the harness turns
them into nerve and torch tensors (floating ones require grad unless ``grad=False``).

Generic tests over every entry and sample: forward vs PyTorch, backward vs PyTorch, gradcheck in
float64 and gradgradcheck (second derivatives) where the entry allows.

Outputs are compared strictly: the same type (Tensor or Python value), the same dtype as PyTorch's
result, exact equality for integer and bool outputs, ``allclose`` for floating ones. A ``Sample``
with ``raises=`` is an error case: both libraries must raise that exception type.

Adding an op is one entry in the family file (elementwise.py, reduce.py, shape.py, index.py,
linalg.py, nn.py) appended to that file's ``OPS`` list.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np


@dataclasses.dataclass
class Sample:
    """Arguments for one call: ``args`` may hold np.ndarrays (become tensors) and plain values."""

    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    # Which array args get requires_grad (default: every floating array).
    grad: tuple | None = None
    name: str = ""
    # An error sample: nerve and torch must both raise this exception type (and nerve's message
    # must contain ``match`` when given); forward/backward/gradcheck skip it.
    raises: type | None = None
    match: str | None = None

    def __repr__(self):
        parts = [f"{type(a).__name__}{tuple(a.shape)}" if isinstance(a, np.ndarray) else repr(a) for a in self.args]
        return f"Sample({self.name}: {', '.join(parts)}, {self.kwargs})"


@dataclasses.dataclass
class OpInfo:
    name: str
    fn: Callable[..., Any]  # fn(lib, *args, **kwargs)
    samples: Callable[[np.random.Generator, np.dtype], list]  # (rng, float dtype) -> [Sample]
    ref: Callable[..., Any] | None = None  # torch-side fn(torch, *args) if it differs from fn
    dtypes: tuple = (np.float32, np.float64)
    supports_grad: bool = True
    supports_gradgrad: bool = True
    gradcheck: bool = True  # finite differences (off for ops with kinks hit by samples)
    atol: float = 1e-5
    rtol: float = 1.3e-6
    grad_atol: float = 1e-4
    grad_rtol: float = 1e-4
    gradcheck_atol: float = 1e-5
    gradcheck_rtol: float = 1e-3
    # Integer outputs (argmax, indices of sort, ...) are compared exactly.
    skip: tuple = ()  # names of generic tests to skip for this entry, e.g. ("gradgrad",)

    def __repr__(self):
        return f"OpInfo({self.name})"


def noncontig(a: np.ndarray) -> np.ndarray:
    """The same values in a non-contiguous layout (a strided view into a larger array)."""
    if a.ndim == 0 or a.size == 0:
        return a
    big = np.zeros(a.shape[:-1] + (a.shape[-1] * 2,), dtype=a.dtype)
    big[..., ::2] = a
    v = big[..., ::2]
    assert not v.flags.c_contiguous or a.shape[-1] == 1
    return v


def transposed(a: np.ndarray) -> np.ndarray:
    """The same values, stored transposed (Fortran order): another non-contiguous layout."""
    return np.asfortranarray(a)


def make(rng, shape, dtype, low=-2.0, high=2.0, positive=False, away_from=None):
    """A random float array; ``positive`` for log/sqrt domains, ``away_from`` keeps |x - v| > 0.1."""
    a = rng.uniform(low, high, size=shape)
    if positive:
        a = np.abs(a) + 0.1
    if away_from is not None:
        near = np.abs(a - away_from) < 0.1
        a = np.where(near, a + 0.3, a)
    return np.asarray(a, dtype=dtype)


def ints(rng, shape, low=-3, high=4, dtype=np.int64) -> np.ndarray:
    """A random integer array with values in [low, high)."""
    return np.asarray(rng.integers(low, high, size=shape), dtype=dtype)


def bools(rng, shape) -> np.ndarray:
    """A random bool array."""
    return np.asarray(rng.random(size=shape) < 0.5)


def distinct(rng, shape, dtype, low=-2.0, high=2.0, gap=0.1) -> np.ndarray:
    """Random floats from about [low, high] whose pairwise gaps are at least ``gap`` (no ties: for
    max/sort/median-like ops, where finite differences must not straddle a tie)."""
    n = int(np.prod(shape, dtype=np.int64))
    step = max(2 * gap, (high - low) / max(n, 1))
    vals = low + (np.arange(n) + rng.uniform(0, 0.5, n)) * step
    return np.asarray(rng.permutation(vals).reshape(shape), dtype=dtype)


def all_ops():
    """Every entry of every family file; ``NERVE_OP_FAMILIES=elementwise,linalg`` restricts the families."""
    import importlib  # noqa: PLC0415
    import os  # noqa: PLC0415

    families = ("elementwise", "reduce", "shape", "linalg", "index", "nn", "sort", "join", "pool", "conv")
    only = os.environ.get("NERVE_OP_FAMILIES")
    if only:
        families = tuple(f for f in families if f in only.split(","))
    ops = []
    for fam in families:
        try:
            mod = importlib.import_module(f"{__name__}.{fam}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{fam}":
                raise
            continue
        ops.extend(mod.OPS)
    return ops
