"""The LSTM recurrence of one layer and direction as one compiled loop over time, on 1-N threads.

Used by ``rnn.py`` for float32 NumPy arrays while nerve's GEMM is the chosen backend (the per-step
products call its micro-kernel, ``_gemm_numba._micro``). Per time step the NumPy loop ran a
``h @ W^T`` product on one core (~100 us for 32 x 256 x 1024) and ~10 element-wise passes over the
gates (~70 us); here each thread owns a slice of the hidden units and does, per step:

    forward:  its gate columns of ``h_k @ W^T`` (4 x its units), the gate math for its units,
              and its units of ``h_{k+1}`` into the shared packed operand of the next product;
    backward: the gate gradients of its units (into ``dX`` and the shared packed ``dz``), then its
              units of ``dh = dz @ W``, which only it reads at the next step;

then waits at a barrier for the others (threads spin on per-thread counters: a pool wake-up costs
more than a step). One barrier per step: each thread's next step reads every thread's output.

The gate math uses a rational tanh (Eigen's and XLA's float32 minimax 13/6, a few ulp) that
compiles to vector code; the sigmoid gates are ``0.5 tanh(x / 2) + 0.5`` with the 1/2 folded into
the recurrent weights by the caller (rnn._lstm_consts). nan passes through.

Layouts. Part p owns units ``units[p]:units[p + 1]`` (nj of them). Forward B operand ``Wf``: per part,
NR-column panels ``[k][NR]`` (k = 0..H-1) of W^T's columns ``i | f | g | o`` for its units, padded to
whole panels. Backward B operand ``Wb``: per part, panels ``[k][NR]`` (k = 0..4H-1) of W's columns
for its units. The packed left operands (h by unit, dz by gate column) are ``[row panel][k][MR]``.
"""
from __future__ import annotations

import platform

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._gemm_numba import KC, MR, NR, _as_ptr, _micro

_opts = {"cache": True, "error_model": "numpy", "boundscheck": False, "nogil": True}
SPINS = 4000      # pause-spins at a barrier before yielding the core to other processes

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")


# ---------------------------------------------------------------------------------------- barrier
@intrinsic
def _load_acquire(typingctx, addr):
    """The int64 at ``addr``, an atomic load with acquire ordering."""
    sig = types.int64(types.intp)

    def codegen(context, builder, signature, args):
        ptr = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        return builder.load_atomic(ptr, "acquire", 8)

    return sig, codegen


@intrinsic
def _store_release(typingctx, addr, value):
    """Store the int64 ``value`` at ``addr``, atomically with release ordering."""
    sig = types.void(types.intp, types.int64)

    def codegen(context, builder, signature, args):
        ptr = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        builder.store_atomic(args[1], ptr, "release", 8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _relax(typingctx, spins):
    """One wait in a spin loop: the CPU's pause hint, or ``sched_yield`` once ``spins`` exceeds SPINS."""
    sig = types.void(types.int64)

    def codegen(context, builder, signature, args):
        over = builder.icmp_signed(">", args[0], ir.Constant(ir.IntType(64), SPINS))
        with builder.if_else(over) as (then, otherwise):
            with then:
                fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []),
                                                    "sched_yield")
                builder.call(fn, [])
            with otherwise:
                if _X86:
                    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                        "llvm.x86.sse2.pause")
                    builder.call(fn, [])
        return context.get_dummy_value()

    return sig, codegen


@nb.njit(**_opts)
def _barrier(flags, p, parts, target):
    """Part ``p`` has reached ``target``; wait until every part has (flags: one 128-byte slot per part)."""
    base = flags.ctypes.data
    _store_release(base + p * 128, target)
    for q in range(parts):
        if q != p:
            spins = 0
            while _load_acquire(base + q * 128) < target:
                spins += 1
                _relax(spins)


def flags(parts):
    """Fresh barrier counters for ``parts`` threads."""
    return np.zeros(parts * 16, np.int64)


# ---------------------------------------------------------------------------------------- math
_C = 7.90531110763549805   # tanh rounds to +-1 in float32 beyond this
_A = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
      1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03)
_B = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03)
f32 = np.float32
C_, A0, A1, A2, A3, A4, A5, A6 = f32(_C), *(f32(a) for a in _A)
B0, B1, B2, B3 = (f32(b) for b in _B)
ONE, HALF = f32(1), f32(0.5)


@nb.njit(inline="always", **_opts)
def tanh(x):
    """float32 tanh as a rational minimax approximation (vectorises; nan in, nan out)."""
    x = C_ if x > C_ else x     # not min/max: a nan must pass through
    x = -C_ if x < -C_ else x
    x2 = x * x
    p = A0 * x2 + A1
    p = p * x2 + A2
    p = p * x2 + A3
    p = p * x2 + A4
    p = p * x2 + A5
    p = p * x2 + A6
    q = B0 * x2 + B1
    q = q * x2 + B2
    q = q * x2 + B3
    return x * p / q


@nb.njit(fastmath={"contract"}, **_opts)
def tanh_array(x, out):
    """``out[:] = tanh(x)`` for 1-d float32 arrays (tests compare it with np.tanh)."""
    for i in range(x.size):
        out[i] = tanh(x[i])


# ---------------------------------------------------------------------------------------- packing
def panel_columns(H, units, gates):
    """For each part, its columns of the B operand (``gates`` blocks of H columns) in panel order:
    ``gate * H + unit`` for its units, gate by gate, then -1 (zero) up to whole NR-column panels.
    Returns (the column indices, the first panel of each part)."""
    cols, first = [], [0]
    for p in range(len(units) - 1):
        own = [q * H + u for q in range(gates) for u in range(units[p], units[p + 1])]
        own += [-1] * (-len(own) % NR)
        cols += own
        first.append(first[-1] + len(own) // NR)
    return np.array(cols, np.int64), np.array(first, np.int64)


@nb.njit(**_opts)
def pack_panels(B, cols, out):
    """``out[jp, k, j] = B[k, cols[jp * NR + j]]`` (0 where the column is -1): B's chosen columns as panels."""
    K = B.shape[0]
    if B.strides[1] <= B.strides[0]:   # rows contiguous: along them
        for jp in range(out.shape[0]):
            for k in range(K):
                row = out[jp, k]
                for j in range(NR):
                    c = cols[jp * NR + j]
                    row[j] = B[k, c] if c >= 0 else 0.0
    else:   # a transposed view: down its contiguous columns
        for jp in range(out.shape[0]):
            for j in range(NR):
                c = cols[jp * NR + j]
                for k in range(K):
                    out[jp, k, j] = B[k, c] if c >= 0 else 0.0


@nb.njit(**_opts)
def _pack_row(row, col0, ncol, b, K, Ap):
    """Columns ``col0:col0+ncol`` of row ``b`` (just computed, in L1) into the packed operand Ap (flat,
    ``[row panel][k][MR]``). Row by row right after the gate math: packing whole (B, 4H) blocks after
    the fact read 12 rows 16 KiB apart per k, ~1 ns an element."""
    base = (b // MR) * K * MR + b % MR
    for j in range(col0, col0 + ncol):
        Ap[base + j * MR] = row[j]


@nb.njit(**_opts)
def _product(K, a_addr, w_addr, p0, npan, rows, c_addr, ldc):
    """``C[0:rows_padded, 0:npan*NR] = A @ Wpanels[p0:p0+npan]``: A packed ``[row panel][K][MR]`` at
    ``a_addr``, the B panels ``[K][NR]`` at ``w_addr``, C with rows ``ldc`` floats apart."""
    rp = (rows + MR - 1) // MR
    for k0 in range(0, K, KC):
        kc = min(KC, K - k0)
        beta = 0 if k0 == 0 else 1
        for jp in range(npan):
            bp = _as_ptr(w_addr + ((p0 + jp) * K * NR + k0 * NR) * 4)
            for ip in range(rp):
                _micro(kc, _as_ptr(a_addr + (ip * K * MR + k0 * MR) * 4), bp, NR,
                       _as_ptr(c_addr + (ip * MR * ldc + jp * NR) * 4), ldc, beta)


@nb.njit(inline="always", **_opts)
def _raw(a):
    """``a`` (C-contiguous float32) as an array without a reference count: views of it made in the time
    loops then cost no atomic increments on a count that all threads share (measured: the gate math
    of two threads ran no faster than one thread's)."""
    return nb.carray(_as_ptr(a.ctypes.data), a.shape)


@nb.njit(inline="always", **_opts)
def _part(units, first, p):
    """Part p's first unit, its number of units and its number of B panels."""
    return units[p], units[p + 1] - units[p], first[p + 1] - first[p]


# ---------------------------------------------------------------------------------------- forward
# The element-wise passes are loops over one or two arrays each: with more, LLVM needs too many
# run-time overlap checks to vectorise and falls back to scalar code (measured 3x slower).
@nb.njit(fastmath={"contract"}, **_opts)
def _gates(gr, xr, ar, cp, cn, tr, hn, u0, nj, H):
    """One batch row of the gates of units u0:u0+nj: gr (4 nj: the product, by gate) plus the input
    projection xr (4H) becomes the activated gates, copied to ar (4H); then c (cn), tanh(c) (tr) and
    h (hn) from the previous c (cp)."""
    # every loop runs over views from index 0: an index Numba cannot prove non-negative gets a
    # wrap-around select that keeps LLVM from vectorising (measured 5x slower)
    for q in range(4):
        g, x, a = gr[q * nj:(q + 1) * nj], xr[q * H + u0:q * H + u0 + nj], ar[q * H + u0:q * H + u0 + nj]
        if q == 2:
            for jj in range(nj):
                g[jj] = tanh(g[jj] + x[jj])
        else:   # sigmoid(z) = 0.5 tanh(z / 2) + 0.5 (the product's weights come halved)
            for jj in range(nj):
                g[jj] = tanh(g[jj] + x[jj] * HALF) * HALF + HALF
        for jj in range(nj):
            a[jj] = g[jj]
    i, f, gg, o = gr[:nj], gr[nj:2 * nj], gr[2 * nj:3 * nj], gr[3 * nj:4 * nj]
    c, cprev, tc, h = cn[u0:u0 + nj], cp[u0:u0 + nj], tr[u0:u0 + nj], hn[u0:u0 + nj]
    for jj in range(nj):
        c[jj] = f[jj] * cprev[jj] + i[jj] * gg[jj]
    for jj in range(nj):
        tc[jj] = tanh(c[jj])
    for jj in range(nj):
        h[jj] = o[jj] * tc[jj]


@nb.njit(**_opts)
def lstm_forward(X, Wf, first, units, S, Cs, Gt, TC, Ap, G, bs, reverse, flags, lo, hi):
    """The forward recurrence for part ``lo`` (``hi == lo + 1``; one part does all with one thread).

    X (T, B, 4H): input projection; Wf: the recurrent weight, halved for the sigmoid gates (module doc);
    S, Cs (T + 1, B, H): states, [0] given;
    Gt (T, B, 4H): activated gates; TC (T, B, H): tanh(c); Ap (2, flat): the packed h operand, two
    buffers; G (parts, rows, ldc): product scratch; bs (T,): active rows per step.
    """
    parts, p = len(units) - 1, lo
    T, B, G4 = X.shape
    H = G4 // 4
    u0, nj, npan = _part(units, first, p)
    X, S, Cs, Gt, TC, Ap = _raw(X), _raw(S), _raw(Cs), _raw(Gt), _raw(TC), _raw(Ap)
    Gp = _raw(G[p])
    ldc = Gp.shape[1]
    for b in range(B):
        _pack_row(S[0, b], u0, nj, b, H, Ap[0])
    _barrier(flags, p, parts, 1)
    for k in range(T):
        t = T - 1 - k if reverse else k
        m = bs[t]
        _product(H, Ap[k % 2].ctypes.data, Wf.ctypes.data, first[p], npan, B, Gp.ctypes.data, ldc)
        An = Ap[(k + 1) % 2]
        for b in range(B):
            if b < m:
                _gates(Gp[b], X[t, b], Gt[k, b], Cs[k, b], Cs[k + 1, b], TC[k, b], S[k + 1, b], u0, nj, H)
            else:
                S[k + 1, b, u0:u0 + nj] = S[k, b, u0:u0 + nj]
                Cs[k + 1, b, u0:u0 + nj] = Cs[k, b, u0:u0 + nj]
            _pack_row(S[k + 1, b], u0, nj, b, H, An)
        _barrier(flags, p, parts, k + 2)


# ---------------------------------------------------------------------------------------- backward
@nb.njit(fastmath={"contract"}, **_opts)
def _gate_grads(yr, ar, tr, cr, dhr, dcr, dzr, u0, nj, H):
    """One batch row of the gate gradients of units u0:u0+nj (dzr, 4H) from dh (dhr, nj: becomes
    dh + this step's output gradient yr) and dc (dcr, nj: becomes the gradient of the previous c).
    Loops over views from index 0, as in _gates."""
    dh, dc, y, tc, cprev = dhr[:nj], dcr[:nj], yr[u0:u0 + nj], tr[u0:u0 + nj], cr[u0:u0 + nj]
    i, f, g, o = ar[u0:u0 + nj], ar[H + u0:H + u0 + nj], ar[2 * H + u0:2 * H + u0 + nj], ar[3 * H + u0:3 * H + u0 + nj]
    di, df = dzr[u0:u0 + nj], dzr[H + u0:H + u0 + nj]
    dg, do = dzr[2 * H + u0:2 * H + u0 + nj], dzr[3 * H + u0:3 * H + u0 + nj]
    for jj in range(nj):
        dh[jj] += y[jj]
    for jj in range(nj):   # dc += dh o (1 - tanh(c)^2)
        dc[jj] += dh[jj] * o[jj] * (ONE - tc[jj] * tc[jj])
    for jj in range(nj):   # o: dh tanh(c) o (1 - o)
        do[jj] = dh[jj] * tc[jj] * (ONE - o[jj]) * o[jj]
    for jj in range(nj):   # i: dc g i (1 - i)
        di[jj] = dc[jj] * g[jj] * (ONE - i[jj]) * i[jj]
    for jj in range(nj):   # f: dc c_prev f (1 - f)
        df[jj] = dc[jj] * cprev[jj] * (ONE - f[jj]) * f[jj]
    for jj in range(nj):   # g: dc i (1 - g^2)
        dg[jj] = dc[jj] * i[jj] * (ONE - g[jj]) * (ONE + g[jj])
    for jj in range(nj):
        dc[jj] *= f[jj]


@nb.njit(fastmath={"contract"}, **_opts)
def lstm_backward(gY, Wb, first, units, Cs, Gt, TC, dX, dh_out, dc_out, Dp, G, dh, dc, bs, reverse, flags,
                  lo, hi):
    """Backpropagation through time for part ``lo`` (see lstm_forward; ``hi == lo + 1``).

    gY (T + 2, B, H): output gradients, then the final h's and c's; dX (T, B, 4H): gradients of the
    gates' pre-activations; Cs, Gt, TC: saved by lstm_forward; Wb: W's columns as panels (module doc);
    Dp (2, flat): the packed dz operand; dh, dc (parts, B, nj_max): running state gradients;
    dh_out, dc_out (B, H): the gradients of h0 and c0.
    """
    parts, p = len(units) - 1, lo
    T, B, G4 = dX.shape
    H = G4 // 4
    u0, nj, npan = _part(units, first, p)
    gY, Cs, Gt, TC, dX, Dp = _raw(gY), _raw(Cs), _raw(Gt), _raw(TC), _raw(dX), _raw(Dp)
    Gp = _raw(G[p])
    ldc = Gp.shape[1]
    dhp, dcp = _raw(dh[p]), _raw(dc[p])
    for b in range(B):
        for jj in range(nj):
            dhp[b, jj] = gY[T, b, u0 + jj]
            dcp[b, jj] = gY[T + 1, b, u0 + jj]
    for k in range(T - 1, -1, -1):
        t = T - 1 - k if reverse else k
        m = bs[t]
        Dk = Dp[k % 2]
        for b in range(B):
            dzr = dX[t, b]
            if b < m:
                _gate_grads(gY[t, b], Gt[k, b], TC[k, b], Cs[k, b], dhp[b], dcp[b], dzr, u0, nj, H)
            else:
                for q in range(4):
                    dzr[q * H + u0:q * H + u0 + nj] = 0.0
            for q in range(4):
                _pack_row(dzr, q * H + u0, nj, b, G4, Dk)
        _barrier(flags, p, parts, T - k)
        _product(G4, Dk.ctypes.data, Wb.ctypes.data, first[p], npan, B, Gp.ctypes.data, ldc)
        for b in range(m):
            gr, dhr = Gp[b], dhp[b]
            for jj in range(nj):
                dhr[jj] = gr[jj]
    for b in range(B):
        for jj in range(nj):
            dh_out[b, u0 + jj] = dhp[b, jj]
            dc_out[b, u0 + jj] = dcp[b, jj]
