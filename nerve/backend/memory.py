"""Process memory settings for training runs.

NumPy takes every large array from malloc; glibc serves blocks above its mmap threshold (128 KiB,
rising with use up to 32 MiB) with fresh mappings and hands freed memory back to the kernel. A
training step allocates and frees the same large activations, gradients and convolution buffers
every time, so each step pays the kernel's page faults and zeroing again (about 10 thousand
faults per CNN step in benchmarks/bench_cnn_step.py, ~13% of its time).

``retain_freed_memory()`` tells glibc to serve them from the heap and keep freed memory for
reuse: the resident size then stays at the run's peak instead of falling between steps. It is
process-wide, so nerve never calls it on import; ``nerve train`` calls it (a training process
is the intended case) and a script can too. PyTorch users get the same effect from jemalloc or
tcmalloc preloaded with LD_PRELOAD.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["retain_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def retain_freed_memory(mmap_threshold: int = 1 << 30, trim_threshold: int = 1 << 32) -> bool:
    """Keep freed memory in the process for reuse (glibc only); returns whether it took effect.

    ``mmap_threshold``: blocks below this size come from the heap (glibc caps it at 32 MiB on
    64-bit systems unless set explicitly, as here). ``trim_threshold``: free heap above this size
    is returned to the kernel.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    cap = 2 ** 31 - 1
    ok = mallopt(_M_MMAP_THRESHOLD, min(int(mmap_threshold), cap)) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, min(int(trim_threshold), cap)) == 1 and ok
    return ok
