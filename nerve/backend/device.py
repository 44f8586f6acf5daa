"""Devices and the array library behind each: ``cpu`` is NumPy, ``cuda`` is CuPy when installed."""
from __future__ import annotations

import numpy as np

_cupy = None
_cupy_checked = False


def _get_cupy():
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy  # noqa: PLC0415 - optional GPU backend

            _cupy = cupy
        except Exception:  # pragma: no cover - depends on the machine
            _cupy = None
    return _cupy


def cuda_available() -> bool:
    cp = _get_cupy()
    if cp is None:
        return False
    try:
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:  # pragma: no cover
        return False


class device:
    """A place where tensor data lives: ``device('cpu')``, ``device('cuda')``, ``device('cuda', 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string like 'cpu' or 'cuda:0', got {type!r}")
        if ":" in type:
            type, idx = type.split(":", 1)
            if index is not None:
                raise ValueError("device(): index given twice")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        self.type = type
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        if self.type != other.type:
            return False
        return self.index == other.index or self.index is None or other.index is None

    def __hash__(self):
        return hash(self.type)

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def array_module(x):
    """The array library (``numpy`` or ``cupy``) that owns array ``x``."""
    if type(x) is np.ndarray:
        return np
    cp = _get_cupy()
    if cp is not None and isinstance(x, cp.ndarray):
        return cp
    return np


def device_of(x) -> device:
    if type(x) is np.ndarray:
        return CPU
    cp = _get_cupy()
    if cp is not None and isinstance(x, cp.ndarray):
        return device("cuda", x.device.id)
    return CPU


def to_device(x, dev: device):
    """Move array ``x`` to device ``dev`` (a copy only when the device changes)."""
    if dev.type == "cpu":
        if type(x) is np.ndarray:
            return x
        return x.get()
    cp = _get_cupy()
    if cp is None:
        raise RuntimeError(
            "device 'cuda' needs CuPy: install it (pip install cupy-cuda12x) on a machine with an NVIDIA GPU")
    with cp.cuda.Device(dev.index or 0):
        return cp.asarray(x)
