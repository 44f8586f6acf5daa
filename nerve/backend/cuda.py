"""``nerve.cuda``: the few ``torch.cuda`` functions scripts call, answered through CuPy.

Without CuPy or a GPU, ``is_available()`` is False and the seeding functions do nothing (random
numbers are drawn on the CPU by nerve's generators and moved, so ``nerve.manual_seed`` covers
every device); functions that need a GPU raise a RuntimeError that says to install CuPy.
"""
from __future__ import annotations

from .device import _get_cupy, cuda_available

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize", "empty_cache",
           "get_device_name", "manual_seed", "manual_seed_all", "seed", "seed_all", "is_initialized",
           "memory_allocated", "max_memory_allocated", "reset_peak_memory_stats"]


def _cupy():
    cp = _get_cupy()
    if cp is None or not cuda_available():
        raise RuntimeError("nerve.cuda needs CuPy and an NVIDIA GPU: install CuPy (pip install cupy-cuda12x) on a "
                           "machine with a GPU, or use device 'cpu'")
    return cp


def is_available() -> bool:
    """Whether a CUDA device can be used (CuPy installed and a GPU present)."""
    return cuda_available()


def is_initialized() -> bool:
    return cuda_available()


def device_count() -> int:
    if not cuda_available():
        return 0
    return int(_cupy().cuda.runtime.getDeviceCount())


def current_device() -> int:
    return int(_cupy().cuda.Device().id)


def set_device(device) -> None:
    idx = device if isinstance(device, int) else (getattr(device, "index", None) or 0)
    _cupy().cuda.Device(idx).use()


def synchronize(device=None) -> None:
    """Wait for all queued GPU work to finish (needed for honest timings)."""
    _cupy().cuda.Stream.null.synchronize()


def empty_cache() -> None:
    """Give cached GPU memory back to the driver (no-op without a GPU)."""
    if cuda_available():
        cp = _cupy()
        cp.get_default_memory_pool().free_all_blocks()
        cp.get_default_pinned_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    if not cuda_available():
        return 0
    return int(_cupy().get_default_memory_pool().used_bytes())


def max_memory_allocated(device=None) -> int:
    if not cuda_available():
        return 0
    return int(_cupy().get_default_memory_pool().total_bytes())


def reset_peak_memory_stats(device=None) -> None:
    return None


def get_device_name(device=None) -> str:
    cp = _cupy()
    idx = 0 if device is None else (device if isinstance(device, int) else (getattr(device, "index", None) or 0))
    name = cp.cuda.runtime.getDeviceProperties(idx)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def manual_seed(seed: int) -> None:
    """Accepted for compatibility: nerve draws random numbers with its CPU generators."""
    return None


def manual_seed_all(seed: int) -> None:
    return None


def seed() -> None:
    return None


def seed_all() -> None:
    return None
