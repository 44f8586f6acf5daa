"""Matrix products of raw float32 CPU arrays: NumPy's BLAS or nerve's own GEMM, whichever is faster here.

``matmul(a, b, out=None, accumulate=False)`` is the entry for 2-D products inside nerve's ops
(linear, matmul, the recurrent loops, the convolutions' GEMMs). nerve's GEMM (_gemm_numba.py, needs
numba) is compiled for the host CPU; NumPy's BLAS is whatever the install and the environment
picked. The first large float32 product times both (medians of a few runs each, on 512^3) and
keeps the faster for the process; ``set_backend('numpy' | 'nerve' | 'auto')`` overrides the choice.
Other dtypes, small products, CuPy arrays and installs without numba always use NumPy/CuPy.

``pack(b)`` prepares a right operand that is multiplied many times (a recurrent weight, once per
time step), so that its packing is paid once.
"""
from __future__ import annotations

import time

import numpy as np

from ..backend.threads import get_num_threads
from ._helpers import xp_of

try:  # optional (pip install numba)
    from . import _gemm_numba as _nb
    from ._winograd_numba import run as _run
except ImportError:  # pragma: no cover - depends on the install
    _nb = None

# Below this many multiply-adds the packed kernel's fixed costs do not pay.
MIN_MACS = 1 << 18
# Below this many a second thread's wake-up costs more than its share saves (measured: a 32x256x1024
# product, 8M multiply-adds, 92 us on one thread, 110 us on two).
THREAD_MACS = 1 << 24
# Batched products with at most this many outputs per item and a depth of >= 4x their sides use the
# dot-product kernel (_gemm_numba._nt) when both operands run contiguously along the depth.
NT_MAX_OUT = 64 * 64
# Products at least this many times deeper than their longer side (weight gradients over a large batch:
# 100 x 256 x 2048) split k over the threads: each packs half of both operands instead of all of A.
DEPTH_SPLIT = 4
_EMPTY = np.empty(0, np.float32)
# nerve's GEMM is kept unless NumPy's BLAS multiplies this much faster: choosing it also turns on the
# kernels that call the micro-kernel themselves (the compiled LSTM layer, fused Winograd convolutions),
# which a plain product's timing does not see (measured: where OpenBLAS ran its AVX-512 kernels, the
# 512^3 product took 1.8 ms vs nerve's 2.0, so BLAS was picked and the LSTM step took 122 ms instead of 71).
BLAS_MARGIN = 1.5

_mode = "auto"
_use_nerve = None       # decided by the first measurement in 'auto' mode


def set_backend(mode: str) -> None:
    """Route float32 matrix products: 'nerve' (own kernel), 'numpy' (BLAS), or 'auto' (measure once)."""
    global _mode, _use_nerve
    if mode not in ("auto", "nerve", "numpy"):
        raise ValueError(f"set_backend: expected 'auto', 'nerve' or 'numpy', got {mode!r}")
    if mode == "nerve" and _nb is None:
        raise RuntimeError("set_backend('nerve') needs numba (pip install numba)")
    _mode = mode
    _use_nerve = None if mode == "auto" else mode == "nerve"
    if _use_nerve:
        _quiet_blas()
    else:
        _restore_blas()


def backend() -> str:
    """What float32 products use now: 'nerve', 'numpy', or 'auto' (not measured yet)."""
    if _nb is None or _mode == "numpy":
        return "numpy"
    if _use_nerve is None:
        return "auto"
    return "nerve" if _use_nerve else "numpy"


def _nerve(a, b, c, beta, bfull=_EMPTY):
    """``c (=|+=) a @ b`` by nerve's kernel; C's columns (rows, for tall thin products) split over threads."""
    m, n = c.shape
    k = a.shape[1]
    parts = get_num_threads()
    if parts > 1 and bfull.size == 0 and k >= DEPTH_SPLIT * max(m, n) and m * n * k >= THREAD_MACS:
        parts = min(parts, k // 256)
        cs = np.empty((parts, m, n), np.float32)
        _run(_nb.gemm_depth, parts, a, b, cs)
        if beta:
            c += cs.sum(0)
        else:
            np.sum(cs, 0, out=c)
        return
    if n >= m or m < 2 * _nb.MR:
        _spread(m * n * k, _nb.gemm_cols, -(-n // _nb.NR), a, b, bfull, c, beta)
    else:
        _spread(m * n * k, _nb.gemm_rows, -(-m // _nb.MR), a, b, bfull, c, beta)


def _spread(macs, kernel, parts, *args):
    """``kernel(*args, lo, hi)`` over ``0:parts``: on nerve's threads when the product is large enough."""
    if get_num_threads() <= 1 or parts == 1 or macs < THREAD_MACS:
        kernel(*args, 0, parts)
    else:
        _run(kernel, parts, *args)


def _calibrate():
    """Time nerve's GEMM, then NumPy's, on a 512^3 product (medians of 7); keep nerve's unless NumPy's is
    more than BLAS_MARGIN times faster."""
    global _use_nerve
    a = np.full((512, 512), 0.5, np.float32)      # 1 MiB each: the measurement adds little to peak memory
    b = np.full((512, 512), 0.25, np.float32)
    c = np.empty((512, 512), np.float32)
    _nerve(a, b, c, 0)   # compiles, or loads the compiled kernels from Numba's cache

    def median(f):
        ts = []
        for _ in range(7):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
        return sorted(ts)[3]
    # nerve's first: right after a multi-threaded BLAS call, OpenBLAS's idle threads still spin
    # for a while and take the cores from any other threads (a state that routing the products
    # to nerve's kernel avoids)
    t_nerve = median(lambda: _nerve(a, b, c, 0))
    t_numpy = median(lambda: np.matmul(a, b))
    _use_nerve = t_nerve < t_numpy * BLAS_MARGIN
    if _use_nerve:
        _quiet_blas()


_blas_limit = None


def _quiet_blas():
    """One BLAS thread while nerve's kernel does the large products (needs threadpoolctl).

    OpenBLAS's idle threads spin for a while after each multi-threaded call; on a machine with as
    many cores as threads they take the cores from nerve's own threads (measured: a Transformer step
    363 ms with OPENBLAS_NUM_THREADS=1, 460 ms without). What is left for BLAS (float64, small
    products) then runs on one thread; ``nerve.set_num_threads`` sets the BLAS threads again.
    """
    global _blas_limit
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - optional
    except ImportError:  # pragma: no cover - depends on the install
        return
    if _blas_limit is None:
        _blas_limit = threadpool_limits(limits=1, user_api="blas")


def _restore_blas():
    global _blas_limit
    if _blas_limit is not None:
        _blas_limit.restore_original_limits()
        _blas_limit = None


def decided() -> str:
    """The backend float32 products use ('nerve' or 'numpy'), measuring first if not yet decided.

    fit's checkpoints record it and a resumed run uses the same, so that it ends with the same
    numbers (the two backends round differently).
    """
    return "nerve" if _nerve_on() else "numpy"


def _nerve_on():
    if _nb is None or _mode == "numpy":
        return False
    if _use_nerve is None:
        _calibrate()
    return _use_nerve


def fused_ok() -> bool:
    """Whether kernels that call nerve's micro-kernel themselves (fused Winograd) may: nerve is the backend."""
    return _nb is not None and _nerve_on()


def usable(a, b) -> bool:
    """Whether ``a @ b`` (2-D arrays) goes to nerve's GEMM."""
    if type(a) is not np.ndarray or a.dtype != np.float32 or a.ndim != 2:
        return False
    if type(b) is not np.ndarray or b.dtype != np.float32 or b.ndim != 2:
        return False
    return a.shape[0] * a.shape[1] * b.shape[1] >= MIN_MACS and _nerve_on()


class Packed:
    """A right operand packed once for nerve's kernel (``data`` None when NumPy does the products)."""
    __slots__ = ("b", "data")

    def __init__(self, b):
        self.b = b
        self.data = None
        if type(b) is np.ndarray and b.dtype == np.float32 and b.ndim == 2 and _nerve_on():
            self.data = np.empty(_nb.packed_size(*b.shape), np.float32)
            _nb.pack(b, self.data)


def pack(b):
    """``b`` ready for many ``matmul(a, packed)`` calls (float32 2-D arrays; other operands pass through)."""
    return Packed(b)


def matmul(a, b, out=None, accumulate=False):
    """``a @ b`` for 2-D arrays (``b`` may be ``pack``ed), into ``out`` when given (``out += a @ b`` with
    ``accumulate``)."""
    bfull = _EMPTY
    if isinstance(b, Packed):
        b, bfull = b.b, (_EMPTY if b.data is None else b.data)
    if usable(a, b) and (out is None or (out.dtype == np.float32 and out.ndim == 2 and out.strides[1] == 4)):
        if out is None:
            out = np.empty((a.shape[0], b.shape[1]), np.float32)
            accumulate = False
        _nerve(a, b, out, 1 if accumulate else 0, bfull)
        return out
    xp = np if type(a) is np.ndarray else xp_of(a)
    if out is None:
        return xp.matmul(a, b)
    if accumulate:
        out += xp.matmul(a, b)
    else:
        xp.matmul(a, b, out=out)
    return out


def bmm(a, b, out=None):
    """``a @ b`` for operands with the same leading (batch) dims, 3-D or 4-D, no broadcasting.

    ``out`` may be a strided view (the attention heads' outputs) with unit last-dim stride.
    """
    if (_nb is None or _mode == "numpy" or type(a) is not np.ndarray or type(b) is not np.ndarray
            or a.dtype != np.float32 or b.dtype != np.float32 or a.ndim not in (3, 4) or a.ndim != b.ndim
            or a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2]
            or (out is not None and not (out.dtype == np.float32 and out.strides[-1] == 4))
            or a.size * b.shape[-1] < MIN_MACS or not _nerve_on()):
        xp = np if type(a) is np.ndarray else xp_of(a)
        return xp.matmul(a, b) if out is None else xp.matmul(a, b, out=out)
    if out is None:
        out = np.empty(a.shape[:-1] + (b.shape[-1],), np.float32)
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    if m * n <= NT_MAX_OUT and k >= 4 * max(m, n) and a.strides[-1] == 4 and b.strides[-2] == 4:
        # small outputs of long products with both operands contiguous along k (a @ bt^T): dot products
        kernel, b = _nb.gemm_nt_batch, b.swapaxes(-1, -2)
    else:
        kernel = _nb.gemm_batch
    a4, b4, c4 = (x[None] if x.ndim == 3 else x for x in (a, b, out))
    _spread(a.size * n, kernel, c4.shape[0] * c4.shape[1], a4, b4, c4, 0)
    return out
