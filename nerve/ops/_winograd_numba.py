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
from ._gemm_numba import MR, NR, _as_ptr, _micro

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
def input_transform(x, top, left, th, tw, Vb, ps, lo, hi):
    """V[:, c, t] = B^T d B for the 6x6 tile t = (n, i, j) of channel c (rows 4i - top ...).

    ``Vb``: V's memory as one flat array, plane ``k`` starting at ``k * ps`` (see ``flat``).
    """
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
        # The two passes index 1-d row views: loops over 2-d/3-d indexing did not vectorise (2x slower).
        for s in range(6):  # rows: E[a, s] = sum_r BT[a, r] D[r, s]
            _bt_rows(D[s], D[6 + s], D[12 + s], D[18 + s], D[24 + s], D[30 + s],
                     E[s], E[6 + s], E[12 + s], E[18 + s], E[24 + s], E[30 + s], T)
        for a in range(6):  # columns: V[a, b] = sum_s E[a, s] BT[b, s]
            k = 6 * a
            o = k * ps + c * T
            _bt_rows(E[k], E[k + 1], E[k + 2], E[k + 3], E[k + 4], E[k + 5],
                     Vb[o:o + T], Vb[o + ps:o + ps + T], Vb[o + 2 * ps:o + 2 * ps + T],
                     Vb[o + 3 * ps:o + 3 * ps + T], Vb[o + 4 * ps:o + 4 * ps + T], Vb[o + 5 * ps:o + 5 * ps + T], T)


@nb.njit(inline="always", **_opts)
def _bt_rows(r0, r1, r2, r3, r4, r5, w0, w1, w2, w3, w4, w5, T):
    """w = B^T r along the six rows, element-wise over ``T``."""
    f2 = w0.dtype.type(2)  # constants in the arrays' dtype: an int literal would promote float32 to float64
    f4 = w0.dtype.type(4)
    f5 = w0.dtype.type(5)
    for t in range(T):
        d0 = r0[t]
        d1 = r1[t]
        d2 = r2[t]
        d3 = r3[t]
        d4 = r4[t]
        d5 = r5[t]
        w0[t] = f4 * d0 - f5 * d2 + d4
        w1[t] = (d3 + d4) - f4 * (d1 + d2)
        w2[t] = f4 * (d1 - d2) + (d4 - d3)
        w3[t] = (d4 - d2) - f2 * (d1 - d3)
        w4[t] = (d4 - d2) + f2 * (d1 - d3)
        w5[t] = f4 * d1 - f5 * d3 + d5


@nb.njit(inline="always", **_opts)
def _at_rows(r0, r1, r2, r3, r4, r5, w0, w1, w2, w3, b, T):
    """w = A^T r (+ b) along the six rows, element-wise over ``T``."""
    f2 = w0.dtype.type(2)
    f4 = w0.dtype.type(4)
    f8 = w0.dtype.type(8)
    for t in range(T):
        m0 = r0[t]
        m1 = r1[t]
        m2 = r2[t]
        m3 = r3[t]
        m4 = r4[t]
        m5 = r5[t]
        w0[t] = m0 + (m1 + m2) + (m3 + m4) + b
        w1[t] = (m1 - m2) + f2 * (m3 - m4) + b
        w2[t] = (m1 + m2) + f4 * (m3 + m4) + b
        w3[t] = (m1 - m2) + f8 * (m3 - m4) + m5 + b


@nb.njit(inline="always", **_opts)
def _a_rows(r0, r1, r2, r3, w0, w1, w2, w3, w4, w5, T):
    """w = A r along the four rows, element-wise over ``T``."""
    f2 = w0.dtype.type(2)
    f4 = w0.dtype.type(4)
    for t in range(T):
        g0 = r0[t]
        g1 = r1[t]
        g2 = r2[t]
        g3 = r3[t]
        w0[t] = g0
        w1[t] = (g0 + g2) + (g1 + g3)
        w2[t] = (g0 + g2) - (g1 + g3)
        w3[t] = (g0 + f4 * g2) + f2 * (g1 + f4 * g3)
        w4[t] = (g0 + f4 * g2) - f2 * (g1 + f4 * g3)
        w5[t] = g3


@nb.njit(**_opts)
def output_transform(Mb, ps, N, th, tw, bias, Y, lo, hi):
    """Y[n, o, 4i + a, 4j + b] = (A^T M_t A)[a, b] + bias[o] for tile t = (n, i, j), cropped to Y.

    ``Mb``: M's memory as one flat array, plane ``k`` (of ``O x T``) starting at ``k * ps``.
    """
    T = N * th * tw
    Ho, Wo = Y.shape[2], Y.shape[3]
    L = padded_len(T, Y.itemsize)
    E = np.empty((24, L), Y.dtype)
    F = np.empty((16, L), Y.dtype)
    zero = Y.dtype.type(0)
    for o in range(lo, hi):
        for s in range(6):  # rows: E[a, s] = sum_r AT[a, r] M[r, s]
            q = s * ps + o * T
            p = 6 * ps
            _at_rows(Mb[q:q + T], Mb[q + p:q + p + T], Mb[q + 2 * p:q + 2 * p + T], Mb[q + 3 * p:q + 3 * p + T],
                     Mb[q + 4 * p:q + 4 * p + T], Mb[q + 5 * p:q + 5 * p + T],
                     E[s], E[6 + s], E[12 + s], E[18 + s], zero, T)
        b0 = bias[o]
        for a in range(4):  # columns: F[a, b] = sum_s E[a, s] AT[b, s]
            k = 6 * a
            _at_rows(E[k], E[k + 1], E[k + 2], E[k + 3], E[k + 4], E[k + 5],
                     F[4 * a], F[4 * a + 1], F[4 * a + 2], F[4 * a + 3], b0, T)
        for a in range(4):
            f0 = F[4 * a]
            f1 = F[4 * a + 1]
            f2 = F[4 * a + 2]
            f3 = F[4 * a + 3]
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
                            dst[c0] = f0[base + j]
                            dst[c0 + 1] = f1[base + j]
                            dst[c0 + 2] = f2[base + j]
                            dst[c0 + 3] = f3[base + j]
                        else:
                            for b in range(Wo - c0):
                                dst[c0 + b] = F[4 * a + b, base + j]


@nb.njit(**_opts)
def grad_transform(g, th, tw, Mb, ps, lo, hi):
    """Mg[:, o, t] = A g_t A^T for the 4x4 output-gradient tile t of channel o (zeros outside g).

    ``Mb``: Mg's memory as one flat array, plane ``k`` starting at ``k * ps``.
    """
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
            _a_rows(D[b], D[4 + b], D[8 + b], D[12 + b], E[b], E[4 + b], E[8 + b], E[12 + b], E[16 + b], E[20 + b], T)
        for a in range(6):  # columns: Mg[a, b] = sum_s E[a, s] A[b, s]
            k = 4 * a
            q = 6 * a * ps + o * T
            _a_rows(E[k], E[k + 1], E[k + 2], E[k + 3], Mb[q:q + T], Mb[q + ps:q + ps + T],
                    Mb[q + 2 * ps:q + 2 * ps + T], Mb[q + 3 * ps:q + 3 * ps + T], Mb[q + 4 * ps:q + 4 * ps + T],
                    Mb[q + 5 * ps:q + 5 * ps + T], T)


def flat(p):
    """(flat view, plane stride in elements) of a (k, rows, cols) array whose planes are each contiguous.

    The kernels index planes through 1-d row slices of this view (unit stride known to the compiler).
    """
    it = p.itemsize
    k, rows, cols = p.shape
    s0, s1, s2 = p.strides
    if not (s2 == it and (s1 == cols * it or rows == 1) and s0 % it == 0 and s0 >= rows * cols * it) or k == 0:
        p = np.ascontiguousarray(p)
        s0 = rows * cols * it
    return np.lib.stride_tricks.as_strided(p, ((k - 1) * (s0 // it) + rows * cols,), (it,)), s0 // it


_pool = None
_pool_pid = None
_pool_size = 0
THREADS = None  # None: nerve.get_num_threads(); tests and benchmarks may pin it


def threads():
    """The threads nerve's kernels use: THREADS when pinned, else nerve.get_num_threads()."""
    return THREADS if THREADS is not None else get_num_threads()


def _pool_of(workers):
    """nerve's thread pool with at least ``workers`` threads (made again after fork(): threads do not survive it)."""
    global _pool, _pool_pid, _pool_size
    if _pool is None or _pool_pid != os.getpid() or _pool_size < workers:
        if _pool is not None and _pool_pid == os.getpid():
            _pool.shutdown(wait=False)
        _pool, _pool_pid, _pool_size = (ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nerve-wino"),
                                        os.getpid(), workers)
    return _pool


def run(kernel, n, *args):
    """``kernel(*args, lo, hi)`` over channel ranges covering ``0:n``, on up to get_num_threads() threads."""
    parts = min(threads(), n)
    if parts <= 1:
        kernel(*args, 0, n)
        return
    pool = _pool_of(parts - 1)
    bounds = [n * i // parts for i in range(parts + 1)]
    futures = [pool.submit(kernel, *args, bounds[i], bounds[i + 1]) for i in range(1, parts)]
    kernel(*args, bounds[0], bounds[1])
    for f in futures:
        f.result()


def run_together(kernel, parts, *args):
    """``kernel(*args, i, i + 1)`` for i in ``0:parts``, each call on its own thread, all at once
    (kernels that wait for each other at barriers need that)."""
    if parts <= 1:
        kernel(*args, 0, 1)
        return
    pool = _pool_of(parts - 1)
    futures = [pool.submit(kernel, *args, i, i + 1) for i in range(1, parts)]
    kernel(*args, 0, 1)
    for f in futures:
        f.result()


def planes(k, rows, cols, dtype):
    """An uninitialised (k, rows, cols) array whose planes start one 64-byte line apart modulo 4 KiB."""
    it = np.dtype(dtype).itemsize
    stride = padded_len(rows * cols, it)
    buf = np.empty(k * stride + NR, dtype)  # NR spare: gemm_output's last block may read past a row's end
    return np.lib.stride_tricks.as_strided(buf, (k, rows, cols), (stride * it, cols * it, it))


# ---------------------------------------------------------------------------------------- fused GEMM + output
# The 36 products M[k] = U[k] @ V[k] and the output transform, a block of TB tiles at a time: the block's
# M (36 x O x TB, ~0.5 MB) stays in L2 between the GEMM that writes it and the transform that reads it,
# instead of a (36, O, T) array going out to memory and back (14 MB for the 28x28x32 benchmark layer).
# The products use nerve's float32 micro-kernel (_gemm_numba) with U prepacked once per call and V's
# rows read in place, so the results are the same numbers as the unfused GEMM's (same k order, C <= KC).
TB = 64  # tiles per block: two micro-kernel column panels


def pack_u(u):
    """U (36, O, C) float32 as the micro-kernel's A panels: (36, ceil(O / MR), C, MR), zero rows below O."""
    k, o, c = u.shape
    p = -(-o // MR)
    up = np.zeros((k, p * MR, c), np.float32)
    up[:, :o] = u
    return np.ascontiguousarray(up.reshape(k, p, MR, c).transpose(0, 1, 3, 2))


@nb.njit(inline="always", **_opts)
def _out_geometry(t0, tb, th, tw, O, Ho, Wo, toff, tfull, trow, tcol):
    """Where each tile t0:t0+tb lands in Y (its top-left, channel 0) and whether all of it is inside."""
    for u in range(tb):
        t = t0 + u
        n = t // (th * tw)
        r = t - n * (th * tw)
        i = r // tw
        trow[u] = 4 * i
        tcol[u] = 4 * (r - i * tw)
        toff[u] = n * O * Ho * Wo + trow[u] * Wo + tcol[u]
        tfull[u] = trow[u] + 4 <= Ho and tcol[u] + 4 <= Wo


@nb.njit(inline="always", **_opts)
def _products_output(vptr, kstride, ldb, Up, M, mld, E, F, tb, O, bias, Yf, Ho, Wo, toff, tfull, trow, tcol):
    """One block: M[k] = U[k] @ V[k] (V[k]'s rows at vptr + k * kstride, ldb apart; M's rows mld apart),
    then Y = A^T M A + bias."""
    P, C, MR = Up.shape[1], Up.shape[2], Up.shape[3]
    Opad = P * MR
    mbase = M.ctypes.data
    zero = np.float32(0)
    for k in range(36):
        for p in range(P):
            ap = Up[k, p]
            for jr in range(0, tb, NR):
                _micro(C, ap.ctypes, _as_ptr(vptr + (k * kstride + jr) * 4), ldb,
                       _as_ptr(mbase + ((k * Opad + p * MR) * mld + jr) * 4), mld, 0)
    p6 = 6 * Opad * mld
    for o in range(O):
        for s in range(6):  # rows: E[a, s] = sum_r AT[a, r] M[r, s]
            q = (s * Opad + o) * mld
            _at_rows(M[q:q + tb], M[q + p6:q + p6 + tb], M[q + 2 * p6:q + 2 * p6 + tb],
                     M[q + 3 * p6:q + 3 * p6 + tb], M[q + 4 * p6:q + 4 * p6 + tb], M[q + 5 * p6:q + 5 * p6 + tb],
                     E[s], E[6 + s], E[12 + s], E[18 + s], zero, tb)
        for a in range(4):  # columns: F[a, b] = sum_s E[a, s] AT[b, s]
            k6 = 6 * a
            _at_rows(E[k6], E[k6 + 1], E[k6 + 2], E[k6 + 3], E[k6 + 4], E[k6 + 5],
                     F[4 * a], F[4 * a + 1], F[4 * a + 2], F[4 * a + 3], bias[o], tb)
        yo = o * Ho * Wo
        for u in range(tb):
            d = yo + toff[u]
            if tfull[u]:
                for a in range(4):
                    Yf[d] = F[4 * a, u]
                    Yf[d + 1] = F[4 * a + 1, u]
                    Yf[d + 2] = F[4 * a + 2, u]
                    Yf[d + 3] = F[4 * a + 3, u]
                    d += Wo
            else:  # a tile at the bottom or right edge, cropped
                rows = min(4, Ho - trow[u])
                cols = min(4, Wo - tcol[u])
                for a in range(rows):
                    for b in range(cols):
                        Yf[d + b] = F[4 * a + b, u]
                    d += Wo


@nb.njit(**_opts)
def gemm_output(Up, Vb, ps, O, N, th, tw, bias, Y, lo, hi):
    """Y for the tile blocks lo:hi (units of TB tiles): M = U @ V per block, then A^T M A + bias, cropped.

    ``Up``: pack_u(U); ``Vb``/``ps``: V's flat memory and plane stride (V's rows are T long, T apart;
    ``planes`` leaves NR floats after the last one, so a block may read past T).
    """
    T = N * th * tw
    Opad = Up.shape[1] * Up.shape[3]
    M = np.empty(36 * Opad * TB, np.float32)
    E = np.empty((24, TB), np.float32)
    F = np.empty((16, TB), np.float32)
    Ho, Wo = Y.shape[2], Y.shape[3]
    toff, trow, tcol = np.empty(TB, np.int64), np.empty(TB, np.int64), np.empty(TB, np.int64)
    tfull = np.empty(TB, np.bool_)
    for blk in range(lo, hi):
        t0 = blk * TB
        tb = min(TB, T - t0)
        _out_geometry(t0, tb, th, tw, O, Ho, Wo, toff, tfull, trow, tcol)
        _products_output(Vb.ctypes.data + t0 * 4, ps, T, Up, M, TB, E, F, tb, O, bias, Y.reshape(-1), Ho, Wo,
                         toff, tfull, trow, tcol)


@nb.njit(**_opts)
def conv_blocks(x, top, left, Up, O, th, tw, bias, Y, bt, lo, hi):
    """The whole convolution for the blocks lo:hi of ``bt`` tiles (a multiple of NR; see ``block_tiles``):
    input transform, products and output transform per block, nothing but Y leaving the caches (for a V
    nobody keeps: the input gradient, inference)."""
    N, C, H, W = x.shape
    T = N * th * tw
    Opad = Up.shape[1] * Up.shape[3]
    V = np.empty(36 * C * bt, np.float32)   # the block's V[k][c] rows, bt apart
    D = np.empty((36, bt), np.float32)
    G = np.empty((36, bt), np.float32)
    M = np.empty(36 * Opad * bt, np.float32)
    E = np.empty((24, bt), np.float32)
    F = np.empty((16, bt), np.float32)
    Ho, Wo = Y.shape[2], Y.shape[3]
    xf = x.reshape(-1)
    toff, trow, tcol = np.empty(bt, np.int64), np.empty(bt, np.int64), np.empty(bt, np.int64)
    tfull = np.empty(bt, np.bool_)
    xoff, xrow, xcol = np.empty(bt, np.int64), np.empty(bt, np.int64), np.empty(bt, np.int64)
    xin = np.empty(bt, np.bool_)
    HW = H * W
    zero = np.float32(0)
    for blk in range(lo, hi):
        t0 = blk * bt
        tb = min(bt, T - t0)
        _out_geometry(t0, tb, th, tw, O, Ho, Wo, toff, tfull, trow, tcol)
        for u in range(tb):  # each tile's 6x6 input window: top-left in x (channel 0), wholly inside or not
            n = (t0 + u) // (th * tw)
            xrow[u] = trow[u] - top
            xcol[u] = tcol[u] - left
            xoff[u] = n * C * HW + xrow[u] * W + xcol[u]
            xin[u] = xrow[u] >= 0 and xrow[u] + 6 <= H and xcol[u] >= 0 and xcol[u] + 6 <= W
        for c in range(C):
            for u in range(tb):
                base = xoff[u] + c * HW
                if xin[u]:
                    for r in range(6):
                        rb = base + r * W
                        for q in range(6):
                            D[6 * r + q, u] = xf[rb + q]
                else:
                    for r in range(6):
                        row = xrow[u] + r
                        for q in range(6):
                            col = xcol[u] + q
                            D[6 * r + q, u] = xf[base + r * W + q] if (0 <= row < H and 0 <= col < W) else zero
            for s in range(6):  # rows: G[a, s] = sum_r BT[a, r] D[r, s]
                _bt_rows(D[s], D[6 + s], D[12 + s], D[18 + s], D[24 + s], D[30 + s],
                         G[s], G[6 + s], G[12 + s], G[18 + s], G[24 + s], G[30 + s], tb)
            for a in range(6):  # columns: V[a, b] = sum_s G[a, s] BT[b, s]
                k = 6 * a
                q0 = (k * C + c) * bt
                cs = C * bt
                _bt_rows(G[k], G[k + 1], G[k + 2], G[k + 3], G[k + 4], G[k + 5],
                         V[q0:q0 + tb], V[q0 + cs:q0 + cs + tb], V[q0 + 2 * cs:q0 + 2 * cs + tb],
                         V[q0 + 3 * cs:q0 + 3 * cs + tb], V[q0 + 4 * cs:q0 + 4 * cs + tb],
                         V[q0 + 5 * cs:q0 + 5 * cs + tb], tb)
        _products_output(V.ctypes.data, C * bt, bt, Up, M, bt, E, F, tb, O, bias, Y.reshape(-1), Ho, Wo,
                         toff, tfull, trow, tcol)


# conv_blocks' V and M of one block at most this large (else 32 tiles a block). Measured here (1 MB L2 a
# core): 64 tiles beat 32 up to 64 -> 64 channels (1.25 MB; (32, 64, 32, 32): 5.7 vs 6.5 ms).
BLOCK_BYTES = 3 << 19


def block_tiles(c, o):
    """Tiles per conv_blocks block: 64, or 32 when 64 would put its V and M over BLOCK_BYTES."""
    per_tile = 36 * (c + -(-o // MR) * MR) * 4
    return 64 if 64 * per_tile <= BLOCK_BYTES else 32
