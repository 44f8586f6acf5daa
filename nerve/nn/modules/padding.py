"""Padding layers over the last 1, 2 or 3 dims: constant (zero), reflection, replication, circular.

``padding`` is an int (all sides) or a tuple ``(left, right[, top, bottom[, front, back]])``, as in
``nerve.nn.functional.pad``.
"""
from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat

from .. import functional as F
from .module import Module

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]


def _ntuple(x, n):
    return tuple(x) if isinstance(x, Iterable) else tuple(repeat(x, n))


class _PadNd(Module):
    __constants__ = ["padding"]
    _mode = "constant"
    _nd = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._nd)

    def _check_input_dim(self, input) -> None:
        nd = input.dim()
        if nd not in (self._nd + 1, self._nd + 2):
            raise ValueError(f"expected {self._nd + 1}D or {self._nd + 2}D input (got {nd}D input)")

    def forward(self, input):
        if self._mode == "circular":
            self._check_input_dim(input)
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    __constants__ = ["padding", "value"]

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``."""

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with ``value``."""

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with ``value``."""

    _nd = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dims with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dims with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad the last dim with the reflection of the input (edge not repeated)."""

    _mode, _nd = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pad the last 2 dims with the reflection of the input."""

    _mode, _nd = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Pad the last 3 dims with the reflection of the input."""

    _mode, _nd = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating the edge values."""

    _mode, _nd = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pad the last 2 dims by repeating the edge values."""

    _mode, _nd = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Pad the last 3 dims by repeating the edge values."""

    _mode, _nd = "replicate", 3


class CircularPad1d(_PadNd):
    """Pad the last dim by wrapping around."""

    _mode, _nd = "circular", 1


class CircularPad2d(_PadNd):
    """Pad the last 2 dims by wrapping around."""

    _mode, _nd = "circular", 2


class CircularPad3d(_PadNd):
    """Pad the last 3 dims by wrapping around."""

    _mode, _nd = "circular", 3
