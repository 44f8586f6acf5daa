"""An LSTM layer (one direction) as one compiled loop over time, on 1-N threads.

Used by ``rnn.lstm_layer`` for float32 NumPy arrays while nerve's GEMM is the chosen backend (the
per-step products call its micro-kernel, ``_gemm_numba._micro``). The states are kept transposed,
batch along the rows (h^T: H x Bn, the batch padded to Bn, a multiple of NR), so that each step's
product is ``gates^T = [W_hh | W_ih | b] @ [h^T; x_t^T; 1]``: the packed weights are the left
operand (packed once per call) and the transposed states, as they lie, the right one. No operand is
packed per step, the batch of 32 fills one micro-kernel panel exactly (the row layout padded it to
36), and the input projection and bias come with the recurrent product instead of a separate GEMM
and an (T, B, 4H) array written and read back.

Each thread owns a slice of the hidden units and, per step,

    forward:  computes its gate rows (4 x its units) of the product, the gate math for its units
              (the activated gates, c, its rows of the next h^T), its units of the output h, and its
              share of the next step's x_t^T;
    backward: the gate gradients of its units (dz^T, the next product's right operand, kept by
              step for the weight gradients, and summed for the bias), then its rows of
              ``[dh^T; dx_t^T] = [W_hh^T; W_ih^T] @ dz^T``: its units of dh and its share of dx;

then waits at a barrier for the others (threads spin on per-thread counters: a pool wake-up costs
more than a step). One barrier per step: each thread's next step reads every thread's output.
The weight gradients are then one GEMM over all steps (``weight_grad``): the kept gate gradients
read in place against [x_t | h_{t-1}] packed from the layer's input and output (nothing extra is
written in the forward for it).

The gate math uses a rational tanh (Eigen's and XLA's float32 minimax 13/6, a few ulp) that
compiles to vector code; the sigmoid gates are ``0.5 tanh(x / 2) + 0.5`` with the 1/2 folded into
their packed weight rows. nan passes through.

Gate rows: the per-step gate blocks (Gt, Dz) hold part 0's rows, then part 1's, ...; a part's rows
are gate by gate (i, f, g, o), its units in order (``gate_rows`` maps them to W's rows).
"""
from __future__ import annotations

import platform

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._gemm_numba import (
    KC,
    MC,
    MR,
    NR,
    _as_ptr,
    _micro,
    _micro_into,
    _micro_rows32,
    _micro_rows64,
    _micro_rows96,
    _micro_rows128,
    _pack_b,
    tile_into,
)

_opts = {"cache": True, "error_model": "numpy", "boundscheck": False, "nogil": True}
SPINS = 4000      # pause-spins at a barrier before yielding the core to other processes
STEP_B_BYTES = 144 * 1024   # the most of a per-step product's right operand taken per k block

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


# ---------------------------------------------------------------------------------------- operands
def gate_rows(H, units):
    """The gate row (``q * H + unit``) of each row of the per-step gate blocks, whose rows are part by part
    (part p's block starts at row 4 units[p]), gate by gate within a part, its units in order."""
    rows = []
    for p in range(len(units) - 1):
        rows += [q * H + u for q in range(4) for u in range(units[p], units[p + 1])]
    return np.array(rows, np.int64)


@nb.njit(**_opts)
def _pack_forward(Wh, Wi, bias, scale, grows, A):
    """A (panels, H + I + 1, MR): the gate rows ``grows`` (this part's, see gate_rows) of
    ``[W_hh | W_ih | bias]`` times ``scale`` (per gate row) as MR-row panels; rows past them are zero."""
    H, I = Wh.shape[1], Wi.shape[1]
    for ip in range(A.shape[0]):
        for k in range(H + I + 1):
            dst = A[ip, k]
            for rr in range(MR):
                r = ip * MR + rr
                if r >= grows.size:
                    dst[rr] = 0.0
                    continue
                g = grows[r]
                if k < H:
                    dst[rr] = Wh[g, k] * scale[g]
                elif k < H + I:
                    dst[rr] = Wi[g, k - H] * scale[g]
                else:
                    dst[rr] = bias[g] * scale[g]


@nb.njit(**_opts)
def _pack_backward(Wh, Wi, u0, nj, i0, nx, grows, A):
    """A (panels, 4H, MR): rows ``W_hh^T[this part's units]`` then ``W_ih^T[its input features i0:i0+nx]`` as
    MR-row panels, over k = the per-step gate rows (``grows``: their row in W); rows past nj + nx are zero."""
    for ip in range(A.shape[0]):
        for k in range(grows.size):
            wh, wi, dst = Wh[grows[k]], Wi[grows[k]], A[ip, k]
            for rr in range(MR):
                r = ip * MR + rr
                dst[rr] = wh[u0 + r] if r < nj else (wi[i0 + r - nj] if r < nj + nx else 0.0)


@nb.njit(**_opts)
def _panels(A, npan, K, b_addr, ldb, ncols, C, c0, rows, ldc, tile):
    """``C[c0 + r ldc + j] = sum_k A[r // MR, k, r % MR] B[k, j]`` for r < rows, j < ncols (a multiple of NR;
    B's rows ldb floats apart at ``b_addr``). A: contiguous (npan, K, MR) panels; a last partial panel goes
    through ``tile`` (MR rows ldc apart). k in near-equal blocks of at most STEP_B_BYTES of B (kept in L2;
    one block for the LSTM's products at Bn = 32: C's tiles are then read and written once, where blocks
    that kept B in L1 (KC) re-read them, measured 2-5% slower)."""
    nch = (K + STEP_B_BYTES // (4 * ncols) - 1) // (STEP_B_BYTES // (4 * ncols))
    kcs = (K + nch - 1) // nch
    full = rows // MR
    a_addr, c_addr, t_addr = A.ctypes.data, C.ctypes.data + c0 * 4, tile.ctypes.data
    for k0 in range(0, K, kcs):
        kc = min(kcs, K - k0)
        beta = 0 if k0 == 0 else 1
        for jp in range(ncols // NR):
            bp = _as_ptr(b_addr + (k0 * ldb + jp * NR) * 4)
            for ip in range(npan):
                ap = _as_ptr(a_addr + (ip * K + k0) * MR * 4)
                if ip < full:
                    _micro(kc, ap, bp, ldb, _as_ptr(c_addr + (ip * MR * ldc + jp * NR) * 4), ldc, beta)
                else:
                    _micro(kc, ap, bp, ldb, _as_ptr(t_addr + jp * NR * 4), ldc, beta)
    if full < npan:
        r0 = full * MR
        for r in range(rows - r0):
            src, dst = tile[r * ldc:r * ldc + ncols], C[c0 + (r0 + r) * ldc:c0 + (r0 + r) * ldc + ncols]
            for j in range(ncols):
                dst[j] = src[j]


@nb.njit(inline="always", **_opts)
def _raw(a):
    """``a`` (C-contiguous float32) as an array without a reference count: views of it made in the time
    loops then cost no atomic increments on a count that all threads share (measured: the gate math
    of two threads ran no faster than one thread's)."""
    return nb.carray(_as_ptr(a.ctypes.data), a.shape)


@nb.njit(inline="always", **_opts)
def _flat(a):
    """``a`` (C-contiguous float32) as a flat reference-free array (see _raw)."""
    return nb.carray(_as_ptr(a.ctypes.data), a.size)


# ---------------------------------------------------------------------------------------- forward
# The element-wise passes run over flat views from index 0 (an index Numba cannot prove non-negative
# gets a wrap-around select that keeps LLVM from vectorising: measured 5x slower), one or two arrays
# read per pass where possible, over UB units (UB x Bn floats per array, in L1) at a time.
UB = 16


@nb.njit(fastmath={"contract"}, **_opts)
def _gates(gi, gf, gg, go, cp, c, h, n):
    """n elements of the gate blocks: the products (gi, gf, gg, go; sigmoid rows halved) become the
    activated gates in place; then c from the previous c (cp), and h."""
    for j in range(n):   # sigmoid(z) = 0.5 tanh(z / 2) + 0.5
        gi[j] = tanh(gi[j]) * HALF + HALF
    for j in range(n):
        gf[j] = tanh(gf[j]) * HALF + HALF
    for j in range(n):
        gg[j] = tanh(gg[j])
    for j in range(n):
        go[j] = tanh(go[j]) * HALF + HALF
    for j in range(n):
        c[j] = gf[j] * cp[j] + gi[j] * gg[j]
    for j in range(n):   # tanh(c) is not kept: backward computes it again from c, in cache there
        h[j] = go[j] * tanh(c[j])


@nb.njit(**_opts)
def _x_rows(x, t, i0, nx, Bop, row0, Bn):
    """Input features ``i0:i0+nx`` of ``x[t]`` transposed into rows ``row0 + i`` of the flat operand Bop."""
    B = x.shape[1]
    for i in range(nx):
        dst = Bop[(row0 + i) * Bn:(row0 + i) * Bn + B]
        for b in range(B):
            dst[b] = x[t, b, i0 + i]


@nb.njit(fastmath={"contract"}, **_opts)
def lstm_forward(x, Wh, Wi, bias, scale, Af, units, xlo, grows, Y, Cs, Gt, Bop, tile, bs, reverse, flags, lo, hi):
    """The forward recurrence of one layer and direction for part ``lo`` (``hi == lo + 1``).

    x (T, B, I): the input; Wh, Wi, bias: the weights; scale: per gate row (the sigmoid rows' 1/2);
    Af (parts, panels, H + I + 1, MR): scratch for each part's packed gate rows (_pack_forward); grows:
    the gate rows' row in W (gate_rows); Y (T + 2, B, H): the output by time (zero for finished rows; Y[T] and
    Y[T + 1] are the caller's); Cs (T + 1, H, Bn): c^T by step, [0] given; Gt (T, 4H, Bn): activated
    gates by step (rows as grows); Bop (2, H + I + 1, Bn): the product's right operand ``[h^T; x_t^T; 1]``,
    two buffers, [0]'s h^T and both ones rows given; tile (parts, MR Bn): scratch; bs (T,): active rows by
    time; flags: barrier counters.
    """
    parts, p = len(units) - 1, lo
    T, B, I = x.shape
    H, Bn = Cs.shape[1], Cs.shape[2]
    K = H + I + 1
    u0, nj, i0, nx = units[p], units[p + 1] - units[p], xlo[p], xlo[p + 1] - xlo[p]
    rows = 4 * nj
    npan = (rows + MR - 1) // MR
    HB, GB, KB = H * Bn, 4 * H * Bn, K * Bn
    x, Y, A = _raw(x), _raw(Y), _raw(Af[p])
    Cs1, Gt1, Bop1, tl = _flat(Cs), _flat(Gt), _flat(Bop), _flat(tile[p])
    _pack_forward(Wh, Wi, bias, scale, grows[4 * u0:4 * (u0 + nj)], A)
    _x_rows(x, T - 1 if reverse else 0, i0, nx, Bop1, H + i0, Bn)
    _barrier(flags, p, parts, 1)
    for k in range(T):
        t = T - 1 - k if reverse else k
        m = bs[t]
        cur, nxt = (k % 2) * KB, ((k + 1) % 2) * KB
        g0 = k * GB + 4 * u0 * Bn
        _panels(A, npan, K, Bop.ctypes.data + cur * 4, Bn, Bn, Gt1, g0, rows, Bn, tl)
        for ua in range(0, nj, UB):
            n = min(UB, nj - ua) * Bn
            o = g0 + ua * Bn
            s = (u0 + ua) * Bn
            _gates(Gt1[o:o + n], Gt1[o + nj * Bn:o + nj * Bn + n], Gt1[o + 2 * nj * Bn:o + 2 * nj * Bn + n],
                   Gt1[o + 3 * nj * Bn:o + 3 * nj * Bn + n], Cs1[k * HB + s:k * HB + s + n],
                   Cs1[(k + 1) * HB + s:(k + 1) * HB + s + n], Bop1[nxt + s:nxt + s + n], n)
        if m < B:   # finished rows keep their state
            for u in range(u0, u0 + nj):
                for b in range(m, B):
                    Cs1[(k + 1) * HB + u * Bn + b] = Cs1[k * HB + u * Bn + b]
                    Bop1[nxt + u * Bn + b] = Bop1[cur + u * Bn + b]
        yr = Y[t]
        for b in range(B):
            for u in range(u0, u0 + nj):
                yr[b, u] = Bop1[nxt + u * Bn + b] if b < m else 0.0
        if k + 1 < T:
            t2 = T - 2 - k if reverse else k + 1
            _x_rows(x, t2, i0, nx, Bop1[nxt:], H + i0, Bn)
        _barrier(flags, p, parts, k + 2)


# ---------------------------------------------------------------------------------------- backward
@nb.njit(fastmath={"contract"}, **_opts)
def _gate_grads(ai, af, ag, ao, cn, tc, cp, dh, dc, di, df, dg, do, n):
    """n elements: the gate gradients (di, df, dg, do) from the activated gates, c (cn; tc: scratch for
    its tanh), the previous c and the state gradients dh, dc; dc becomes the previous c's gradient."""
    for j in range(n):
        tc[j] = tanh(cn[j])
    for j in range(n):   # dc += dh o (1 - tanh(c)^2)
        dc[j] += dh[j] * ao[j] * (ONE - tc[j] * tc[j])
    for j in range(n):   # o: dh tanh(c) o (1 - o)
        do[j] = dh[j] * tc[j] * (ONE - ao[j]) * ao[j]
    for j in range(n):   # i: dc g i (1 - i)
        di[j] = dc[j] * ag[j] * (ONE - ai[j]) * ai[j]
    for j in range(n):   # f: dc c_prev f (1 - f)
        df[j] = dc[j] * cp[j] * (ONE - af[j]) * af[j]
    for j in range(n):   # g: dc i (1 - g^2)
        dg[j] = dc[j] * ai[j] * (ONE - ag[j]) * (ONE + ag[j])
    for j in range(n):
        dc[j] *= af[j]


@nb.njit(fastmath={"contract"}, **_opts)
def lstm_backward(gY, Wh, Wi, Ab, units, xlo, grows, Cs, Gt, dX, DB, dH, dC, Dz, Cb, tile, bs, reverse,
                  X, Yo, h0, dW, flags, lo, hi):
    """Backpropagation through time for part ``lo`` (see lstm_forward; ``hi == lo + 1``).

    gY (T + 2, B, H): output gradients, then the final h's and c's; Wh, Wi: the weights; Ab: scratch for
    each part's packed rows (_pack_backward); grows: the gate rows' row in W (gate_rows);
    dX (T, B, I): the input's gradient (features xlo[p]:xlo[p + 1] by part p); DB (4H, Bn): the gate
    gradients summed over steps (rows as Gt); dH, dC (H, Bn): the running state gradients (given: the
    final states'); Dz (T, 4H, Bn): the gate gradients by time, rows as Gt (each step's product's right
    operand, then weight_grad's left); Cb, tile (parts, ...): scratch. Then, once every part is done,
    this part's share of the weight gradients (weight_grad's row panels, into dW (4H, I + H); X, Yo, h0:
    the layer's input, output and initial state), on the same threads (a second hand-over to the pool
    cost 30-80 us).
    """
    parts, p = len(units) - 1, lo
    T, B, H = gY.shape[0] - 2, gY.shape[1], gY.shape[2]
    Bn = Cs.shape[2]
    G4 = 4 * H
    u0, nj, i0, nx = units[p], units[p + 1] - units[p], xlo[p], xlo[p + 1] - xlo[p]
    rows = nj + nx
    npan = (rows + MR - 1) // MR
    HB, GB, nB = H * Bn, G4 * Bn, nj * Bn
    gY, dX, A = _raw(gY), _raw(dX), _raw(Ab[p])
    Cs1, Gt1, Dz1, DB1, dH1, dC1 = _flat(Cs), _flat(Gt), _flat(Dz), _flat(DB), _flat(dH), _flat(dC)
    C1, tl = _flat(Cb[p]), _flat(tile[p])
    tc = np.empty(UB * Bn, np.float32)   # tanh(c) of a block
    _pack_backward(Wh, Wi, u0, nj, i0, nx, grows, A)
    for k in range(T - 1, -1, -1):
        t = T - 1 - k if reverse else k
        m = bs[t]
        d0 = t * GB + 4 * u0 * Bn
        g0 = k * GB + 4 * u0 * Bn
        s0 = u0 * Bn
        for b in range(m):   # this step's output gradient
            for u in range(nj):
                dH1[s0 + u * Bn + b] += gY[t, b, u0 + u]
        blocks = nj if m < B else (nj + UB - 1) // UB
        for ub in range(blocks):   # row by row over the running columns when some have finished
            o = ub * Bn if m < B else ub * UB * Bn
            n = m if m < B else min(UB, nj - ub * UB) * Bn
            _gate_grads(Gt1[g0 + o:g0 + o + n], Gt1[g0 + nB + o:g0 + nB + o + n],
                        Gt1[g0 + 2 * nB + o:g0 + 2 * nB + o + n], Gt1[g0 + 3 * nB + o:g0 + 3 * nB + o + n],
                        Cs1[(k + 1) * HB + s0 + o:(k + 1) * HB + s0 + o + n], tc[:n],
                        Cs1[k * HB + s0 + o:k * HB + s0 + o + n],
                        dH1[s0 + o:s0 + o + n], dC1[s0 + o:s0 + o + n], Dz1[d0 + o:d0 + o + n],
                        Dz1[d0 + nB + o:d0 + nB + o + n], Dz1[d0 + 2 * nB + o:d0 + 2 * nB + o + n],
                        Dz1[d0 + 3 * nB + o:d0 + 3 * nB + o + n], n)
            if m < B:
                for q in range(4):
                    z = Dz1[d0 + q * nB + o:d0 + q * nB + o + Bn]
                    for b in range(m, Bn):
                        z[b] = 0.0
        db, dz = DB1[4 * s0:4 * s0 + 4 * nB], Dz1[d0:d0 + 4 * nB]
        for j in range(4 * nB):
            db[j] += dz[j]
        _barrier(flags, p, parts, T - k)
        _panels(A, npan, G4, Dz.ctypes.data + t * GB * 4, Bn, Bn, C1, 0, rows, Bn, tl)
        for u in range(nj):   # dh of the previous step (finished rows pass theirs through)
            src, dst = C1[u * Bn:u * Bn + m], dH1[s0 + u * Bn:s0 + u * Bn + m]
            for b in range(m):
                dst[b] = src[b]
        for b in range(B):    # dx at time t
            for i in range(nx):
                dX[t, b, i0 + i] = C1[(nj + i) * Bn + b]
    _barrier(flags, p, parts, T + 1)   # every step's gate gradients are in Dz
    npw = (G4 + MR - 1) // MR
    weight_grad(Dz, X, Yo, h0, bs, reverse, dW, npw * p // parts, npw * (p + 1) // parts)


# ---------------------------------------------------------------------------------------- weight gradient
@nb.njit(inline="always", **_opts)
def _rows_product(Bn, kc, B, ap, sa, bp, cp, ldc, beta):
    """The micro-kernel on gate-gradient blocks read in place (rows Bn floats apart, one segment of B columns
    per step, sa floats apart); False when Bn has no such kernel."""
    if Bn == 32:
        _micro_rows32(kc, B, ap, sa, bp, NR, cp, ldc, beta)
    elif Bn == 64:
        _micro_rows64(kc, B, ap, sa, bp, NR, cp, ldc, beta)
    elif Bn == 96:
        _micro_rows96(kc, B, ap, sa, bp, NR, cp, ldc, beta)
    elif Bn == 128:
        _micro_rows128(kc, B, ap, sa, bp, NR, cp, ldc, beta)
    else:
        return False
    return True


@nb.njit(**_opts)
def _pack_dz(Dz1, R, Bn, B, t0, t1, r0, h, dst):
    """The left-operand micro-panel of Dz's rows r0:r0+h (h <= MR; zero below) over steps t0:t1: each
    step's 12 x B block transposed."""
    for t in range(t0, t1):
        d = dst[(t - t0) * B * MR:(t - t0 + 1) * B * MR]
        src = Dz1[(t * R + r0) * Bn:(t * R + r0 + h) * Bn]
        if h == MR:
            for b in range(B):
                for rr in range(MR):
                    d[b * MR + rr] = src[rr * Bn + b]
        else:
            for b in range(B):
                for rr in range(MR):
                    d[b * MR + rr] = src[rr * Bn + b] if rr < h else 0.0


@nb.njit(**_opts)
def _pack_prev(Y, h0, bs, reverse, t0, t1, Bp):
    """Each step's previous state (the weight gradients' right operand for W_hh) over steps t0:t1 as
    micro-panels ``[k][NR]`` (k = (t - t0) B + b; zero-padded on the right): the output of the step before
    (after, in reverse) where that row was running, else h0."""
    T, B, H = Y.shape[0] - 2, Y.shape[1], Y.shape[2]
    kc = (t1 - t0) * B
    full = H // NR
    for t in range(t0, t1):
        tp = t + 1 if reverse else t - 1
        mp = bs[tp] if 0 <= tp < T else 0
        for b in range(B):
            src = Y[tp, b] if b < mp else h0[b]
            k = (t - t0) * B + b
            for jp in range(full):
                d, r = Bp[(jp * kc + k) * NR:(jp * kc + k + 1) * NR], src[jp * NR:(jp + 1) * NR]
                for j in range(NR):
                    d[j] = r[j]
            if full * NR < H:
                d = Bp[(full * kc + k) * NR:(full * kc + k + 1) * NR]
                for j in range(NR):
                    d[j] = src[full * NR + j] if full * NR + j < H else 0.0


@nb.njit(**_opts)
def weight_grad(Dz, X, Y, h0, bs, reverse, C, lo, hi):
    """``C[r] = sum_t Dz[t, r, :B] @ [X[t] | Hp[t]]`` for C's row panels ``lo:hi`` (units of MR rows): the
    gradient of ``[W_ih | W_hh]`` (rows as Dz's) over all steps, one GEMM. X (T, B, I): the layer's input;
    Hp[t]: the state before step t, from the output Y (T + 2, B, H) and h0 (B, H) (see _pack_prev); bs
    (T,): running rows by step. The left operand is Dz's per-step blocks, read in place by a micro-kernel
    that steps from one step's 12 x B block to the next (a padded batch Bn of 32-128; packing them cost
    ~15% of this GEMM), else packed from them."""
    T, R, Bn = Dz.shape
    B, I, H = X.shape[1], X.shape[2], Y.shape[2]
    Dz1, X2, Yr, h0r = _flat(Dz), _raw(X).reshape(T * B, I), _raw(Y), _raw(h0)
    m0, m1 = lo * MR, min(hi * MR, R)
    steps = max(1, KC // B)   # time steps per k block
    in_place = Bn == 32 or Bn == 64 or Bn == 96 or Bn == 128
    px, ph = (I + NR - 1) // NR, (H + NR - 1) // NR   # column panels of X and of Hp
    Bp = np.empty((px + ph) * NR * steps * B, np.float32)
    Ap = np.empty((MR if in_place else (min(MC, m1 - m0) + MR - 1) // MR * MR) * steps * B, np.float32)
    tile = np.empty(MR * NR, np.float32)
    ldc = C.strides[0] // 4
    for t0 in range(0, T, steps):
        t1 = min(T, t0 + steps)
        kc = (t1 - t0) * B
        beta = 0 if t0 == 0 else 1
        _pack_b(X2, t0 * B, kc, 0, I, Bp)
        _pack_prev(Yr, h0r, bs, reverse, t0, t1, Bp[px * kc * NR:])
        for ic in range(m0, m1, MC):
            mc = min(MC, m1 - ic)
            if not in_place:
                for ip in range((mc + MR - 1) // MR):
                    r0 = ic + ip * MR
                    _pack_dz(Dz1, R, Bn, B, t0, t1, r0, min(MR, m1 - r0), Ap[ip * kc * MR:(ip + 1) * kc * MR])
            elif ic + mc > R - R % MR:   # the partial last panel is packed (reading it in place would run off Dz)
                r0 = R - R % MR
                _pack_dz(Dz1, R, Bn, B, t0, t1, r0, R - r0, Ap)
            for q in range(px + ph):
                bp = _as_ptr(Bp.ctypes.data + q * kc * NR * 4)
                col = q * NR if q < px else I + (q - px) * NR
                w = min(NR, I - col) if q < px else min(NR, I + H - col)
                for i_r in range(0, mc, MR):
                    r0, h = ic + i_r, min(MR, mc - i_r)
                    if not in_place:
                        _micro_into(kc, _as_ptr(Ap.ctypes.data + (i_r // MR) * kc * MR * 4), bp, NR, C, r0, col, h, w,
                                    beta, tile)
                    elif h < MR:
                        _micro_into(kc, Ap.ctypes, bp, NR, C, r0, col, h, w, beta, tile)
                    else:
                        ap = _as_ptr(Dz.ctypes.data + (t0 * R + r0) * Bn * 4)
                        if w == NR:   # straight into C
                            cp, ld, b = _as_ptr(C.ctypes.data + (r0 * ldc + col) * 4), ldc, beta
                        else:         # C's last columns, through the tile
                            cp, ld, b = tile.ctypes, NR, 0
                        if Bn == 32:
                            _micro_rows32(kc, B, ap, R * Bn, bp, NR, cp, ld, b)
                        elif Bn == 64:
                            _micro_rows64(kc, B, ap, R * Bn, bp, NR, cp, ld, b)
                        elif Bn == 96:
                            _micro_rows96(kc, B, ap, R * Bn, bp, NR, cp, ld, b)
                        else:
                            _micro_rows128(kc, B, ap, R * Bn, bp, NR, cp, ld, b)
                        if w < NR:
                            tile_into(C, tile, r0, col, MR, w, beta)
