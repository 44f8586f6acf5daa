"""``set_num_threads`` / ``get_num_threads``: how many CPU threads nerve's kernels use (as torch's).

Two kinds of threads do nerve's CPU work: the BLAS library's (NumPy's OpenBLAS or MKL: matmul,
the convolutions' GEMMs) and nerve's own small pool for its Numba kernels (the Winograd
transforms). ``set_num_threads(n)`` sets both: the pool directly, the BLAS library through
threadpoolctl when it is installed (``pip install threadpoolctl``; without it BLAS keeps its own
setting, e.g. from OPENBLAS_NUM_THREADS).
"""
from __future__ import annotations

import numbers
import os

__all__ = ["get_num_threads", "set_num_threads"]

_threads = max(1, os.cpu_count() or 1)
_blas_limit = None


def get_num_threads() -> int:
    """The number of threads nerve's CPU kernels use (default: the number of CPUs)."""
    return _threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for nerve's CPU kernels and, with threadpoolctl installed, for BLAS."""
    global _threads, _blas_limit
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    _threads = int(n)
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - optional
    except ImportError:
        return
    if _blas_limit is not None:
        _blas_limit.restore_original_limits()
    _blas_limit = threadpool_limits(limits=_threads, user_api="blas")
