"""Numba kernels for the Winograd transforms (optional: used when numba is installed).

Each transform is one kernel per channel that gathers the channel's tiles into a small scratch
block (rows of ``T`` tiles), applies the two 1-d transform passes as loops over all ``T`` tiles
(long, contiguous loops that the compiler vectorises) and writes each output plane once. Compared
with the NumPy composition in _winograd.py (strided copy, two K=6 GEMMs, a transposing copy), the
data crosses memory about half as often.

Scratch rows and output planes use strides that are not multiples of 4 KiB: with 36 streams
whose addresses agree modulo 4 KiB, every access would hit the same L1 cache set (measured 3-4x
slower).

All loops index plain arrays (no per-element Python); ``x``/``g`` are contiguous NCHW arrays of
float32 or float64; ``V``/``M``/``Mg`` are (36, C, T) views from ``planes``.

Each kernel handles the channels ``lo:hi`` and releases the GIL; ``run`` splits the channels over
a small pool of Python threads. (Numba's own ``prange`` was slower here: its OpenMP threads spin
against OpenBLAS's on 2 cores, and an initialised OpenMP pool is unsafe in forked DataLoader
workers; plain threads block while idle and are re-made after a fork.)
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np

from ..backend.threads import get_num_threads

_opts = {"cache": True, "error_model": "numpy", "boundscheck": False, "nogil": True}


@nb.njit(**_opts)
def padded_len(n, itemsize):
    """A row or plane length (in elements) over ``n`` that is an odd number of 64-byte lines.

    Always more than ``n``: planes made with it are never contiguous, so every kernel call has the
    same Numba signature (layout 'A') and compiles once per dtype.
    """
    line = 64 // itemsize
    lines = n // line + 1
    return line * (lines + 1 - lines % 2)


@nb.njit(**_opts)
def input_transform(x, top, left, th, tw, V, lo, hi):
    """V[:, c, t] = B^T d B for the 6x6 tile t = (n, i, j) of channel c (rows 4i - top ...)."""
    N, _, H, W = x.shape
    T = N * th * tw
    L = padded_len(T, x.itemsize)
    D = np.empty((36, L), x.dtype)      # scratch made once per call: per channel it cost page faults
    E = np.empty((36, L), x.dtype)
    for c in range(lo, hi):
        for r in range(6):
            k = r * 6
            for n in range(N):
                for i in range(th):
                    row = 4 * i + r - top
                    base = (n * th + i) * tw
                    if row < 0 or row >= H:
                        for q in range(6):
                            for j in range(tw):
                                D[k + q, base + j] = 0
                        continue
                    src = x[n, c, row]
                    for j in range(tw):
                        c0 = 4 * j - left
                        if c0 >= 0 and c0 + 6 <= W:
                            D[k, base + j] = src[c0]
                            D[k + 1, base + j] = src[c0 + 1]
                            D[k + 2, base + j] = src[c0 + 2]
                            D[k + 3, base + j] = src[c0 + 3]
                            D[k + 4, base + j] = src[c0 + 4]
                            D[k + 5, base + j] = src[c0 + 5]
                        else:
                            for q in range(6):
                                cc = c0 + q
                                D[k + q, base + j] = src[cc] if (cc >= 0 and cc < W) else 0
        for s in range(6):  # rows: E[a, s] = sum_r BT[a, r] D[r, s]
            for t in range(T):
                d0 = D[s, t]
                d1 = D[6 + s, t]
                d2 = D[12 + s, t]
                d3 = D[18 + s, t]
                d4 = D[24 + s, t]
                d5 = D[30 + s, t]
                E[s, t] = 4 * d0 - 5 * d2 + d4
                E[6 + s, t] = (d3 + d4) - 4 * (d1 + d2)
                E[12 + s, t] = 4 * (d1 - d2) + (d4 - d3)
                E[18 + s, t] = (d4 - d2) - 2 * (d1 - d3)
                E[24 + s, t] = (d4 - d2) + 2 * (d1 - d3)
                E[30 + s, t] = 4 * d1 - 5 * d3 + d5
        for a in range(6):  # columns: V[a, b] = sum_s E[a, s] BT[b, s]
            k = 6 * a
            for t in range(T):
                d0 = E[k, t]
                d1 = E[k + 1, t]
                d2 = E[k + 2, t]
                d3 = E[k + 3, t]
                d4 = E[k + 4, t]
                d5 = E[k + 5, t]
                V[k, c, t] = 4 * d0 - 5 * d2 + d4
                V[k + 1, c, t] = (d3 + d4) - 4 * (d1 + d2)
                V[k + 2, c, t] = 4 * (d1 - d2) + (d4 - d3)
                V[k + 3, c, t] = (d4 - d2) - 2 * (d1 - d3)
                V[k + 4, c, t] = (d4 - d2) + 2 * (d1 - d3)
                V[k + 5, c, t] = 4 * d1 - 5 * d3 + d5


@nb.njit(**_opts)
def output_transform(M, N, th, tw, bias, Y, lo, hi):
    """Y[n, o, 4i + a, 4j + b] = (A^T M_t A)[a, b] + bias[o] for tile t = (n, i, j), cropped to Y."""
    T = M.shape[2]
    Ho, Wo = Y.shape[2], Y.shape[3]
    L = padded_len(T, M.itemsize)
    E = np.empty((24, L), M.dtype)
    F = np.empty((16, L), M.dtype)
    for o in range(lo, hi):
        for s in range(6):  # rows: E[a, s] = sum_r AT[a, r] M[r, s]
            for t in range(T):
                m0 = M[s, o, t]
                m1 = M[6 + s, o, t]
                m2 = M[12 + s, o, t]
                m3 = M[18 + s, o, t]
                m4 = M[24 + s, o, t]
                m5 = M[30 + s, o, t]
                E[s, t] = m0 + (m1 + m2) + (m3 + m4)
                E[6 + s, t] = (m1 - m2) + 2 * (m3 - m4)
                E[12 + s, t] = (m1 + m2) + 4 * (m3 + m4)
                E[18 + s, t] = (m1 - m2) + 8 * (m3 - m4) + m5
        b0 = bias[o]
        for a in range(4):  # columns: F[a, b] = sum_s E[a, s] AT[b, s]
            k = 6 * a
            for t in range(T):
                m0 = E[k, t]
                m1 = E[k + 1, t]
                m2 = E[k + 2, t]
                m3 = E[k + 3, t]
                m4 = E[k + 4, t]
                m5 = E[k + 5, t]
                F[4 * a, t] = m0 + (m1 + m2) + (m3 + m4) + b0
                F[4 * a + 1, t] = (m1 - m2) + 2 * (m3 - m4) + b0
                F[4 * a + 2, t] = (m1 + m2) + 4 * (m3 + m4) + b0
                F[4 * a + 3, t] = (m1 - m2) + 8 * (m3 - m4) + m5 + b0
        for a in range(4):
            for n in range(N):
                for i in range(th):
                    row = 4 * i + a
                    if row >= Ho:
                        continue
                    dst = Y[n, o, row]
                    base = (n * th + i) * tw
                    for j in range(tw):
                        c0 = 4 * j
                        if c0 + 4 <= Wo:
                            dst[c0] = F[4 * a, base + j]
                            dst[c0 + 1] = F[4 * a + 1, base + j]
                            dst[c0 + 2] = F[4 * a + 2, base + j]
                            dst[c0 + 3] = F[4 * a + 3, base + j]
                        else:
                            for b in range(Wo - c0):
                                dst[c0 + b] = F[4 * a + b, base + j]


@nb.njit(**_opts)
def grad_transform(g, th, tw, Mg, lo, hi):
    """Mg[:, o, t] = A g_t A^T for the 4x4 output-gradient tile t of channel o (zeros outside g)."""
    N, _, Ho, Wo = g.shape
    T = N * th * tw
    L = padded_len(T, g.itemsize)
    D = np.empty((16, L), g.dtype)
    E = np.empty((24, L), g.dtype)
    for o in range(lo, hi):
        for a in range(4):
            for n in range(N):
                for i in range(th):
                    row = 4 * i + a
                    base = (n * th + i) * tw
                    if row >= Ho:
                        for q in range(4):
                            for j in range(tw):
                                D[4 * a + q, base + j] = 0
                        continue
                    src = g[n, o, row]
                    for j in range(tw):
                        c0 = 4 * j
                        if c0 + 4 <= Wo:
                            D[4 * a, base + j] = src[c0]
                            D[4 * a + 1, base + j] = src[c0 + 1]
                            D[4 * a + 2, base + j] = src[c0 + 2]
                            D[4 * a + 3, base + j] = src[c0 + 3]
                        else:
                            for q in range(4):
                                D[4 * a + q, base + j] = src[c0 + q] if c0 + q < Wo else 0
        for b in range(4):  # rows: E[a, b] = sum_r A[a, r] D[r, b]
            for t in range(T):
                g0 = D[b, t]
                g1 = D[4 + b, t]
                g2 = D[8 + b, t]
                g3 = D[12 + b, t]
                E[b, t] = g0
                E[4 + b, t] = (g0 + g2) + (g1 + g3)
                E[8 + b, t] = (g0 + g2) - (g1 + g3)
                E[12 + b, t] = (g0 + 4 * g2) + 2 * (g1 + 4 * g3)
                E[16 + b, t] = (g0 + 4 * g2) - 2 * (g1 + 4 * g3)
                E[20 + b, t] = g3
        for a in range(6):  # columns: Mg[a, b] = sum_s E[a, s] A[b, s]
            k = 4 * a
            for t in range(T):
                g0 = E[k, t]
                g1 = E[k + 1, t]
                g2 = E[k + 2, t]
                g3 = E[k + 3, t]
                Mg[6 * a, o, t] = g0
                Mg[6 * a + 1, o, t] = (g0 + g2) + (g1 + g3)
                Mg[6 * a + 2, o, t] = (g0 + g2) - (g1 + g3)
                Mg[6 * a + 3, o, t] = (g0 + 4 * g2) + 2 * (g1 + 4 * g3)
                Mg[6 * a + 4, o, t] = (g0 + 4 * g2) - 2 * (g1 + 4 * g3)
                Mg[6 * a + 5, o, t] = g3


_pool = None
_pool_pid = None
_pool_size = 0
THREADS = None  # None: nerve.get_num_threads(); tests and benchmarks may pin it


def run(kernel, n, *args):
    """``kernel(*args, lo, hi)`` over channel ranges covering ``0:n``, on up to get_num_threads() threads."""
    global _pool, _pool_pid, _pool_size
    threads = THREADS if THREADS is not None else get_num_threads()
    parts = min(threads, n)
    if parts <= 1:
        kernel(*args, 0, n)
        return
    if _pool is None or _pool_pid != os.getpid() or _pool_size < parts - 1:  # threads do not survive fork()
        if _pool is not None and _pool_pid == os.getpid():
            _pool.shutdown(wait=False)
        _pool, _pool_pid, _pool_size = (ThreadPoolExecutor(max_workers=parts - 1, thread_name_prefix="nerve-wino"),
                                        os.getpid(), parts - 1)
    bounds = [n * i // parts for i in range(parts + 1)]
    futures = [_pool.submit(kernel, *args, bounds[i], bounds[i + 1]) for i in range(1, parts)]
    kernel(*args, bounds[0], bounds[1])
    for f in futures:
        f.result()


def planes(k, rows, cols, dtype):
    """An uninitialised (k, rows, cols) array whose planes start one 64-byte line apart modulo 4 KiB."""
    it = np.dtype(dtype).itemsize
    stride = padded_len(rows * cols, it)
    buf = np.empty(max(k * stride, 1), dtype)
    return np.lib.stride_tricks.as_strided(buf, (k, rows, cols), (stride * it, cols * it, it))
