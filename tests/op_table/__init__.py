"""The op table: one ``OpInfo`` entry per op drives every generic op test (tests/test_ops.py).

An entry names the op, a function ``fn(lib, *args, **kwargs)`` that is called once with
``lib=nerve`` and once with ``lib=torch`` (so the same line checks API compatibility), and a sample
generator yielding ``Sample``s. Array arguments are NumPy arrays in the samples; the harness turns
them into nerve and torch tensors (floating ones require grad unless ``grad=False``).

Generic tests over every entry and sample: forward vs PyTorch, backward vs PyTorch, gradcheck in
float64 and gradgradcheck (second derivatives) where the entry allows.

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


def all_ops():
    from . import elementwise, linalg, reduce, shape  # noqa: PLC0415
    ops = []
    for mod in (elementwise, reduce, shape, linalg):
        ops.extend(mod.OPS)
    for extra in ("index", "nn", "sort", "join"):
        try:
            mod = __import__(f"{__name__}.{extra}", fromlist=["OPS"])
        except ImportError:
            continue
        ops.extend(mod.OPS)
    return ops
