"""Numba kernels for the element-wise passes of a CNN step (optional: used when numba is installed).

BatchNorm's statistics and normalisation, ReLU and its gradient and the tiling max-pool (MaxPool2d(2))
are memory-bound passes that NumPy composes from several single-threaded sweeps with temporaries
(BatchNorm's forward: a sum, a sum of squares, a multiply and an add over the whole tensor). Each
kernel here does one sweep per result and handles a range of channels (or planes, or chunks) so
``run`` spreads it over nerve's threads, as the Winograd transforms (_winograd_numba.run).

The direct convolution kernels at the end serve few-tap first layers (see DIRECT_TAPS).

Only float32 arrays take these kernels (callers check ``usable``); float64 and other array modules
keep the NumPy composition, and tests/test_cnn_kernels.py checks the two agree.

Reductions accumulate in float64, element by element (``fastmath`` reassociation lets the compiler
vectorise them).
"""
from __future__ import annotations

import numba as nb
import numpy as np

# spread: always over nerve's threads (the compute-bound direct convolution kernels)
from ._winograd_numba import run as spread

_opts = {"cache": True, "error_model": "numpy", "boundscheck": False, "nogil": True}
_sum_opts = dict(_opts, fastmath={"reassoc", "contract", "nsz"})

MIN_SIZE = 1 << 15   # below this a kernel call's fixed costs outweigh its gain
CHUNK = 1 << 14      # elements per unit of work for the flat kernels
THREAD_SIZE = 1 << 19  # from this many elements a kernel is split over nerve's threads. Alone, on data
# hot in cache, one thread was faster (a (64, 32, 28, 28) ReLU gradient: 0.19 ms vs 0.26 on two); inside a
# training step two threads won (A/B: CNN benchmark (a) 49.7 -> 46.1 ms, (b) 99.0 -> 94.0 with 1 << 19
# instead of 1 << 22; 1 << 16 no different)


def run(kernel, n, *args):
    """``kernel(*args, lo, hi)`` over ``0:n``, split over threads when the first array is large."""
    if args[0].size >= THREAD_SIZE:
        spread(kernel, n, *args)
    else:
        kernel(*args, 0, n)


def usable(*arrays):
    """Whether these kernels take the arrays: NumPy float32, contiguous, large enough."""
    return all(type(a) is np.ndarray and a.dtype == np.float32 and a.flags.c_contiguous for a in arrays) \
        and arrays[0].size >= MIN_SIZE


# ---------------------------------------------------------------------------------------- BatchNorm
@nb.njit(**_opts)
def bn_apply(x3, scale, shift, y3, lo, hi):
    """``y = x * scale[c] + shift[c]`` for channels lo:hi (scale, shift in x's dtype)."""
    N, _, S = x3.shape
    for c in range(lo, hi):
        k = scale[c]
        b = shift[c]
        for n in range(N):
            src = x3[n, c]
            dst = y3[n, c]
            for i in range(S):
                dst[i] = src[i] * k + b


@nb.njit(**_sum_opts)
def channel_sums(a3, b3, s1, s2, lo, hi):
    """``s1[c] = sum a``, ``s2[c] = sum a * b`` over dims 0 and 2 of (N, C, S) arrays, for channels lo:hi.

    BatchNorm's statistics (a = b = x: sum and sum of squares) and its gradient's (a = g, b = x).
    """
    N, _, S = a3.shape
    for c in range(lo, hi):
        t = 0.0
        q = 0.0
        for n in range(N):
            ar = a3[n, c]
            br = b3[n, c]
            for i in range(S):
                v = np.float64(ar[i])
                t += v
                q += v * np.float64(br[i])
        s1[c] = t
        s2[c] = q


@nb.njit(**_opts)
def bn_grad_apply(g3, x3, a, b, k, gx3, lo, hi):
    """``gx = k[c] * (g - (x * a[c] + b[c]))`` for channels lo:hi (vectors in x's dtype)."""
    N, _, S = x3.shape
    for c in range(lo, hi):
        ac = a[c]
        bc = b[c]
        kc = k[c]
        for n in range(N):
            gr = g3[n, c]
            xr = x3[n, c]
            dst = gx3[n, c]
            for i in range(S):
                dst[i] = kc * (gr[i] - (xr[i] * ac + bc))


# ---------------------------------------------------------------------------------------- ReLU
@nb.njit(**_opts)
def relu_grad(g, out, r, lo, hi):
    """``r = out <= 0 ? 0 : g`` (PyTorch's threshold_backward: a nan output passes g) over flat chunks lo:hi."""
    a = lo * CHUNK
    b = min(hi * CHUNK, g.size)
    gs, os_, rs = g[a:b], out[a:b], r[a:b]
    zero = r.dtype.type(0)
    for i in range(b - a):  # a select over 1-d views, compared in the arrays' dtype: vectorised, branch-free
        rs[i] = zero if os_[i] <= zero else gs[i]


@nb.njit(**_opts)
def relu(x, r, lo, hi):
    """``r = x < 0 ? 0 : x`` over flat chunks lo:hi (nan and -0.0 pass, as PyTorch's relu)."""
    a = lo * CHUNK
    b = min(hi * CHUNK, x.size)
    xs, rs = x[a:b], r[a:b]
    zero = r.dtype.type(0)
    for i in range(b - a):
        v = xs[i]
        rs[i] = zero if v < zero else v


def chunks(n):
    return -(-n // CHUNK)


# ---------------------------------------------------------------------------------------- max-pool
@nb.njit(**_opts)
def max_pool_tiles(x, kh, kw, y, idx, lo, hi):
    """Max over kh x kw tiling windows of (P, H, W) planes lo:hi into (P, oH, oW) ``y``; ``idx``: the window
    position (row-major) of the first maximum, or of the last nan (PyTorch's rule: ``v > max || isnan(v)``)."""
    _, oh, ow = y.shape
    for p in range(lo, hi):
        xp = x[p]
        for i in range(oh):
            for j in range(ow):
                best = xp[i * kh, j * kw]
                at = 0
                for a in range(kh):
                    row = xp[i * kh + a]
                    for b in range(kw):
                        v = row[j * kw + b]
                        if v > best or v != v:
                            best = v
                            at = a * kw + b
                y[p, i, j] = best
                idx[p, i, j] = at


@nb.njit(**_opts)
def max_pool2_tiles(x, y, idx, lo, hi):
    """``max_pool_tiles`` for 2x2 windows, a row pair at a time (the common MaxPool2d(2)): 3-5x faster than the
    general loop ((2048, 28, 28): 2.7 -> 0.48 ms)."""
    _, oh, ow = y.shape
    for p in range(lo, hi):
        for i in range(oh):
            r0 = x[p, 2 * i]
            r1 = x[p, 2 * i + 1]
            yr = y[p, i]
            ir = idx[p, i]
            for j in range(ow):
                v0 = r0[2 * j]
                v1 = r0[2 * j + 1]
                v2 = r1[2 * j]
                v3 = r1[2 * j + 1]
                best = v0
                at = 0
                if v1 > best or v1 != v1:
                    best = v1
                    at = 1
                if v2 > best or v2 != v2:
                    best = v2
                    at = 2
                if v3 > best or v3 != v3:
                    best = v3
                    at = 3
                yr[j] = best
                ir[j] = at


@nb.njit(**_opts)
def max_pool_tiles_grad(g, idx, kh, kw, gx, lo, hi):
    """The adjoint: ``gx`` (P, H, W) holds each window's gradient at its ``idx`` position, zeros elsewhere.

    Each plane is zero-filled (a vectorised sweep), then takes one store per window (a select per
    window position instead: 2-5x slower).
    """
    _, oh, ow = g.shape
    W = gx.shape[2]
    zero = gx.dtype.type(0)
    for p in range(lo, hi):
        flat = gx[p].reshape(-1)
        for q in range(flat.size):
            flat[q] = zero
        for i in range(oh):
            gi = g[p, i]
            ii = idx[p, i]
            base = kh * i * W
            for j in range(ow):
                at = np.int64(ii[j])
                if kw == 2:  # MaxPool2d(2): no integer division (0.9 -> 0.4 ms on (2048, 28, 28))
                    a, b = at >> 1, at & 1
                else:
                    a = at // kw
                    b = at - a * kw
                flat[base + a * W + kw * j + b] = gi[j]


# ---------------------------------------------------------------------------------------- direct convolution
# A stride-1 convolution with few input taps (C * kH * kW <= DIRECT_TAPS: the first layer of an image
# net) as shifted multiply-adds over whole planes. The padded plane is read flat: output position
# (h, w) sits at h * Wp + w in a "padded-pitch" row of L = (Ho - 1) * Wp + Wo elements, and tap (i, j)
# is the same row shifted by i * Wp + j, so every tap is one long contiguous vectorised loop (im2col
# there built a (C*9, N*H*W) copy and transposed the GEMM's (O, N*H*W) result: 1.8 ms vs 0.4 here for
# the (64, 1, 28, 28) -> 32 channel benchmark layer).
DIRECT_TAPS = 27


@nb.njit(**_opts)
def direct_conv(xp, w, b, y, lo, hi):
    """``y[n, o] = b[o] + sum w[o, c, i, j] * xp[n, c, h + i, w + j]`` for images lo:hi (``xp`` zero-padded)."""
    _, C, _, Wp = xp.shape
    O, _, KH, KW = w.shape
    Ho, Wo = y.shape[2], y.shape[3]
    L = (Ho - 1) * Wp + Wo
    acc = np.empty(L, y.dtype)
    for n in range(lo, hi):
        for o in range(O):
            for t in range(L):
                acc[t] = b[o]
            for c in range(C):
                xf = xp[n, c].reshape(-1)
                if KH == 3 and KW == 3:  # the nine taps in one loop: acc read and written once, not 9 times
                    _taps3(acc, xf, w[o, c], Wp, L)
                    continue
                for i in range(KH):
                    for j in range(KW):
                        wv = w[o, c, i, j]
                        off = i * Wp + j
                        src = xf[off:off + L]
                        for t in range(L):
                            acc[t] += wv * src[t]
            for h in range(Ho):
                row = y[n, o, h]
                for q in range(Wo):
                    row[q] = acc[h * Wp + q]


@nb.njit(inline="always", **_opts)
def _taps3(acc, xf, k, Wp, L):
    k0, k1, k2 = k[0, 0], k[0, 1], k[0, 2]
    k3, k4, k5 = k[1, 0], k[1, 1], k[1, 2]
    k6, k7, k8 = k[2, 0], k[2, 1], k[2, 2]
    r0 = xf[0:L + 2]
    r1 = xf[Wp:Wp + L + 2]
    r2 = xf[2 * Wp:2 * Wp + L + 2]
    for t in range(L):
        acc[t] += (k0 * r0[t] + k1 * r0[t + 1] + k2 * r0[t + 2]) + (k3 * r1[t] + k4 * r1[t + 1] + k5 * r1[t + 2]) \
            + (k6 * r2[t] + k7 * r2[t + 1] + k8 * r2[t + 2])


@nb.njit(**_sum_opts)
def direct_wgrad(xp, g, dw, lo, hi):
    """``dw[o, c, i, j] = sum g[n, o, h, w] * xp[n, c, h + i, w + j]`` for output channels lo:hi."""
    N, C, _, Wp = xp.shape
    _, _, KH, KW = dw.shape
    Ho, Wo = g.shape[2], g.shape[3]
    L = (Ho - 1) * Wp + Wo
    gb = np.zeros(L, g.dtype)      # g's plane at the padded pitch; the gaps between rows stay 0
    acc = np.empty((C, KH, KW))    # float64 over the batch; each image's dot product in float32
    for o in range(lo, hi):
        acc[:] = 0.0
        for n in range(N):
            for h in range(Ho):
                row = g[n, o, h]
                for q in range(Wo):
                    gb[h * Wp + q] = row[q]
            for c in range(C):
                xf = xp[n, c].reshape(-1)
                if KH == 3 and KW == 3:  # the nine dot products in one sweep of g's plane
                    _dots3(acc[c], gb, xf, Wp, L)
                    continue
                for i in range(KH):
                    for j in range(KW):
                        off = i * Wp + j
                        src = xf[off:off + L]
                        s = gb.dtype.type(0)
                        for t in range(L):
                            s += gb[t] * src[t]
                        acc[c, i, j] += s
        for c in range(C):
            for i in range(KH):
                for j in range(KW):
                    dw[o, c, i, j] = acc[c, i, j]


@nb.njit(inline="always", **_sum_opts)
def _dots3(acc, gb, xf, Wp, L):
    r0 = xf[0:L + 2]
    r1 = xf[Wp:Wp + L + 2]
    r2 = xf[2 * Wp:2 * Wp + L + 2]
    z = gb.dtype.type(0)
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = z
    for t in range(L):
        v = gb[t]
        s0 += v * r0[t]
        s1 += v * r0[t + 1]
        s2 += v * r0[t + 2]
        s3 += v * r1[t]
        s4 += v * r1[t + 1]
        s5 += v * r1[t + 2]
        s6 += v * r2[t]
        s7 += v * r2[t + 1]
        s8 += v * r2[t + 2]
    acc[0, 0] += s0
    acc[0, 1] += s1
    acc[0, 2] += s2
    acc[1, 0] += s3
    acc[1, 1] += s4
    acc[1, 2] += s5
    acc[2, 0] += s6
    acc[2, 1] += s7
    acc[2, 2] += s8
