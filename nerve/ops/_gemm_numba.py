"""A float32 GEMM compiled by Numba for the host CPU (optional: used when numba is installed).

``C = A @ B`` (or ``C += A @ B``) in the BLIS layout: B is packed into ``KC x NR`` micro-panels and A
into ``MR x KC`` micro-panels, and a register-blocked micro-kernel multiplies one micro-panel pair
into an ``MR x NR`` block of C held in vector registers across the whole ``k`` loop.

The micro-kernel is written as LLVM IR through a Numba intrinsic (``<16 x float>`` vectors and
``llvm.fma``): Numba's own loops do not keep a 2-D accumulator block in registers (measured: 20
GFLOP/s, scalar and 4-wide code). LLVM compiles the IR for the host, so the same source runs as
AVX-512 (two 16-float registers per row), AVX2 (four 8-float ones) or SSE code.

Why it exists: NumPy's BLAS is picked by the environment; this machine's sets
OPENBLAS_CORETYPE=Haswell, so OpenBLAS runs its AVX2 kernels (about 100 GFLOP/s per core here),
while the host has AVX-512 (this micro-kernel: about 220 GFLOP/s per core). ``_gemm.py`` measures
both once and routes float32 matrix products to the faster one, so a machine whose BLAS is
already the better one keeps it.

Shortcuts measured to pay: B read in place (no packing) when it is shallow (k <= DIRECT_K) with
contiguous rows; a right operand packed once for many products (``pack``: recurrent weights); and
for small outputs of long products with both operands contiguous along k, 4x4 blocks of dot
products (``gemm_nt_batch``) instead of any packing.

Every kernel releases the GIL and works on a range of C's columns, rows or batch items, so ``run``
spreads one product over nerve's threads (see _winograd_numba.run).
"""
from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

MR = 12          # rows of the C block held in registers
NV = 2           # 16-float vectors per row of it
NR = 16 * NV     # its columns
KC = 256         # k-block: an A micro-panel (12 KiB) and a B micro-panel (32 KiB) stay in L1
MC = 144         # rows of A packed at once (144 KiB, in L2)
NC = 1024        # columns of B packed at once (1 MiB at KC=256)
DIRECT_K = 96    # up to this depth B is read in place, unpacked

_opts = {"cache": True, "error_model": "numpy", "boundscheck": False, "nogil": True}


def _vec_setup(builder):
    """The vector type, llvm.fma on it, zero / undef vectors and the broadcast mask."""
    i32 = ir.IntType(32)
    vt = ir.VectorType(ir.FloatType(), 16)
    fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vt, [vt, vt, vt]), "llvm.fma.v16f32")
    return vt, fma, ir.Constant(vt, None), ir.Constant(vt, ir.Undefined), ir.Constant(ir.VectorType(i32, 16), None)


def _fma_step(builder, vec, b_row, a_ptrs, acc):
    """One k of the register block: the NR floats at ``b_row`` times each A value (``a_ptrs``: MR pointers)
    added to ``acc`` (MR x NV vectors); returns the new block."""
    vt, fma, _, undef, splat = vec
    i64, i32 = ir.IntType(64), ir.IntType(32)
    b = [builder.load(builder.bitcast(builder.gep(b_row, [ir.Constant(i64, 16 * v)]), vt.as_pointer()), align=4)
         for v in range(NV)]
    new = []
    for r in range(MR):
        a = builder.load(a_ptrs[r])
        av = builder.shuffle_vector(builder.insert_element(undef, a, ir.Constant(i32, 0)), undef, splat)
        new.append([builder.call(fma, [av, b[v], acc[r][v]]) for v in range(NV)])
    return new


def _phis(builder, vt, incoming):
    """MR x NV vector phis, each with its first incoming value from ``incoming`` [(values, block), ...]."""
    out = [[builder.phi(vt) for _ in range(NV)] for _ in range(MR)]
    for values, block in incoming:
        for r in range(MR):
            for v in range(NV):
                out[r][v].add_incoming(values if not isinstance(values, list) else values[r][v], block)
    return out


def _back_edge(acc, new, block):
    """The register block's phis ``acc`` take ``new`` when entered from ``block``."""
    for r in range(MR):
        for v in range(NV):
            acc[r][v].add_incoming(new[r][v], block)


def _store_block(builder, vt, final, c_ptr, ldc_v, beta_v):
    """``C = block`` (beta 0) or ``C += block`` (beta 1), C's rows ldc apart."""
    i64 = ir.IntType(64)
    add = builder.append_basic_block("micro.add")
    store = builder.append_basic_block("micro.store")
    out = builder.append_basic_block("micro.out")
    builder.cbranch(builder.icmp_signed("!=", beta_v, ir.Constant(i64, 0)), add, store)
    for block, accumulate in ((add, True), (store, False)):
        builder.position_at_end(block)
        for r in range(MR):
            c_row = builder.gep(c_ptr, [builder.mul(ldc_v, ir.Constant(i64, r))])
            for v in range(NV):
                ptr = builder.bitcast(builder.gep(c_row, [ir.Constant(i64, 16 * v)]), vt.as_pointer())
                val = final[r][v]
                if accumulate:
                    val = builder.fadd(builder.load(ptr, align=4), val)
                builder.store(val, ptr, align=4)
        builder.branch(out)
    builder.position_at_end(out)


@intrinsic
def _micro(typingctx, k, ap, bp, ldb, cp, ldc, beta):
    """``C[0:MR, 0:NR] (rows ldc apart) = beta * C + sum_k Ap[k, 0:MR]^T Bp[k, 0:NR]`` (beta 0 or 1, Bp's rows ldb apart)."""
    f32p = types.CPointer(types.float32)
    sig = types.void(types.int64, f32p, f32p, types.int64, f32p, types.int64, types.int64)

    def codegen(context, builder, signature, args):
        kk, a_ptr, b_ptr, ldb_v, c_ptr, ldc_v, beta_v = args
        i64 = ir.IntType(64)
        vec = _vec_setup(builder)
        vt, zero = vec[0], vec[2]
        entry = builder.block
        loop = builder.append_basic_block("micro.loop")
        done = builder.append_basic_block("micro.done")
        builder.cbranch(builder.icmp_signed(">", kk, ir.Constant(i64, 0)), loop, done)

        builder.position_at_end(loop)
        k = builder.phi(i64)
        k.add_incoming(ir.Constant(i64, 0), entry)
        acc = _phis(builder, vt, [(zero, entry)])
        a_col = builder.gep(a_ptr, [builder.mul(k, ir.Constant(i64, MR))])
        new = _fma_step(builder, vec, builder.gep(b_ptr, [builder.mul(k, ldb_v)]),
                        [builder.gep(a_col, [ir.Constant(i64, r)]) for r in range(MR)], acc)
        k_next = builder.add(k, ir.Constant(i64, 1))
        body_end = builder.block
        k.add_incoming(k_next, body_end)
        _back_edge(acc, new, body_end)
        builder.cbranch(builder.icmp_signed("<", k_next, kk), loop, done)

        builder.position_at_end(done)
        _store_block(builder, vt, _phis(builder, vt, [(zero, entry), (new, body_end)]), c_ptr, ldc_v, beta_v)
        return context.get_dummy_value()

    return sig, codegen


def _micro_rows(lda):
    """A micro-kernel whose left operand is read in place, in segments: ``C[0:MR, 0:NR] = beta * C +
    sum_s sum_j A_s[0:MR, j] Bp[s seg + j, 0:NR]`` for ``s < k / seg``, ``j < seg``, where A_s's rows are
    ``lda`` floats apart (a constant: twelve run-time row offsets crowd out the accumulator registers,
    measured 2.4x slower) and A_{s+1} starts ``sa`` floats after A_s. The LSTM weight gradient reads
    its per-step gate-gradient blocks this way instead of packing them.

    Signature: ``(k, seg, ap, sa, bp, ldb, cp, ldc, beta)``.
    """
    @intrinsic
    def micro_rows(typingctx, k, seg, ap, sa, bp, ldb, cp, ldc, beta):
        f32p = types.CPointer(types.float32)
        i64t = types.int64
        sig = types.void(i64t, i64t, f32p, i64t, f32p, i64t, f32p, i64t, i64t)

        def codegen(context, builder, signature, args):
            kk, seg_v, a_ptr, sa_v, b_ptr, ldb_v, c_ptr, ldc_v, beta_v = args
            i64 = ir.IntType(64)
            vec = _vec_setup(builder)
            vt, zero = vec[0], vec[2]
            nseg = builder.sdiv(kk, seg_v)
            entry = builder.block
            outer = builder.append_basic_block("mrows.outer")
            loop = builder.append_basic_block("mrows.loop")
            latch = builder.append_basic_block("mrows.latch")
            done = builder.append_basic_block("mrows.done")
            builder.cbranch(builder.icmp_signed(">", nseg, ir.Constant(i64, 0)), outer, done)

            builder.position_at_end(outer)       # segment s: A_s and its B rows
            s = builder.phi(i64)
            s.add_incoming(ir.Constant(i64, 0), entry)
            oacc = _phis(builder, vt, [(zero, entry)])
            a_seg = builder.gep(a_ptr, [builder.mul(s, sa_v)])
            b_seg = builder.gep(b_ptr, [builder.mul(builder.mul(s, seg_v), ldb_v)])
            builder.branch(loop)

            builder.position_at_end(loop)        # column j of A_s
            j = builder.phi(i64)
            j.add_incoming(ir.Constant(i64, 0), outer)
            acc = _phis(builder, vt, [(oacc, outer)])
            a_col = builder.gep(a_seg, [j])
            new = _fma_step(builder, vec, builder.gep(b_seg, [builder.mul(j, ldb_v)]),
                            [builder.gep(a_col, [ir.Constant(i64, r * lda)]) for r in range(MR)], acc)
            j_next = builder.add(j, ir.Constant(i64, 1))
            inner_end = builder.block
            j.add_incoming(j_next, inner_end)
            _back_edge(acc, new, inner_end)
            builder.cbranch(builder.icmp_signed("<", j_next, seg_v), loop, latch)

            builder.position_at_end(latch)
            s_next = builder.add(s, ir.Constant(i64, 1))
            s.add_incoming(s_next, latch)
            _back_edge(oacc, new, latch)
            builder.cbranch(builder.icmp_signed("<", s_next, nseg), outer, done)

            builder.position_at_end(done)
            _store_block(builder, vt, _phis(builder, vt, [(zero, entry), (new, latch)]), c_ptr, ldc_v, beta_v)
            return context.get_dummy_value()

        return sig, codegen

    return micro_rows


# the LSTM's per-step gate-gradient blocks: rows of Bn (its padded batch) floats
_micro_rows32, _micro_rows64, _micro_rows96, _micro_rows128 = (_micro_rows(n) for n in (32, 64, 96, 128))


@nb.njit(**_opts)
def _pack_b(B, k0, kc, n0, nc, Bp):
    """B[k0:k0+kc, n0:n0+nc] as ceil(nc / NR) micro-panels ``[k][NR]``, zero-padded on the right."""
    panels = (nc + NR - 1) // NR
    full = nc // NR
    if B.strides[1] <= B.strides[0]:
        # row by row: B's rows are read in order (a panel at a time, 256 rows 4 KiB apart, defeated the
        # prefetcher: 5.5 ns per element); the writes scatter over the panels, which stay in L2
        for k in range(kc):
            for jp in range(full):
                o = (jp * kc + k) * NR
                c0 = n0 + jp * NR
                for j in range(NR):
                    Bp[o + j] = B[k0 + k, c0 + j]
            if full < panels:
                o = (full * kc + k) * NR
                c0 = n0 + full * NR
                w = n0 + nc - c0
                for j in range(w):
                    Bp[o + j] = B[k0 + k, c0 + j]
                for j in range(w, NR):
                    Bp[o + j] = 0.0
    else:  # a transposed view: read down its contiguous columns
        for jp in range(panels):
            c0 = n0 + jp * NR
            w = min(NR, n0 + nc - c0)
            base = jp * kc * NR
            for j in range(w):
                for k in range(kc):
                    Bp[base + k * NR + j] = B[k0 + k, c0 + j]
            for j in range(w, NR):
                for k in range(kc):
                    Bp[base + k * NR + j] = 0.0


@nb.njit(**_opts)
def _pack_a(A, m0, mc, k0, kc, Ap):
    """A[m0:m0+mc, k0:k0+kc] as ceil(mc / MR) micro-panels ``[k][MR]``, zero-padded at the bottom."""
    panels = (mc + MR - 1) // MR
    # 12 floats down the rows per k, written in order, for either layout of A (row-major, or a transposed
    # view such as the weight gradient's g^T): a constant trip count the compiler unrolls (row by row
    # with strided writes was 2.4x slower on a row-major 2048 x 1024 A: 1.5 vs 0.63 ms)
    for ip in range(panels):
        r0 = m0 + ip * MR
        h = min(MR, m0 + mc - r0)
        if h == MR:
            for k in range(kc):
                o = (ip * kc + k) * MR
                for r in range(MR):
                    Ap[o + r] = A[r0 + r, k0 + k]
        else:
            for k in range(kc):
                o = (ip * kc + k) * MR
                for r in range(h):
                    Ap[o + r] = A[r0 + r, k0 + k]
    for ip in range(panels):
        r0 = m0 + ip * MR
        h = min(MR, m0 + mc - r0)
        base = ip * kc * MR
        for r in range(h, MR):
            for k in range(kc):
                Ap[base + k * MR + r] = 0.0


@nb.njit(**_opts)
def _block(A, B, Bfull, C, beta, m_lo, m_hi, n_lo, n_hi):
    """C[m_lo:m_hi, n_lo:n_hi] (= or +=) A[m_lo:m_hi] @ B[:, n_lo:n_hi]; C has unit column stride.

    With a non-empty ``Bfull`` (B packed whole by ``pack``) B itself is not read.
    """
    K = A.shape[1]
    if K == 0 and beta == 0:
        C[m_lo:m_hi, n_lo:n_hi] = 0.0
    kc_max = min(KC, K)
    prepacked = Bfull.size > 0
    n_pad = ((B.shape[1] + NR - 1) // NR) * NR
    # B read in place (no packing) when its rows are contiguous and short in k: the Winograd GEMMs
    # (k = channels) would otherwise copy B, as large as the transformed input itself, for little reuse
    ldb_in = B.strides[0] // 4
    direct = not prepacked and K <= DIRECT_K and B.strides[1] == 4 and B.strides[0] % 4 == 0
    bp_len = kc_max * NR if direct else ((min(NC, n_hi - n_lo) + NR - 1) // NR) * NR * kc_max
    Bp = np.empty(0 if prepacked else bp_len, np.float32)
    Ap = np.empty(((min(MC, m_hi - m_lo) + MR - 1) // MR) * MR * kc_max, np.float32)
    tile = np.empty(MR * NR, np.float32)
    b_base = B.ctypes.data
    for jc in range(n_lo, n_hi, NC):
        nc = min(NC, n_hi - jc)
        for pc in range(0, K, KC):
            kc = min(KC, K - pc)
            b = beta if pc == 0 else 1
            if prepacked:
                Bblk = Bfull[pc * n_pad + (jc // NR) * kc * NR:]
            elif direct:
                Bblk = Bp
                if nc % NR:   # the ragged last panel, zero-padded
                    _pack_b(B, pc, kc, jc + nc - nc % NR, nc % NR, Bp)
            else:
                _pack_b(B, pc, kc, jc, nc, Bp)
                Bblk = Bp
            for ic in range(m_lo, m_hi, MC):
                mc = min(MC, m_hi - ic)
                _pack_a(A, ic, mc, pc, kc, Ap)
                for jr in range(0, nc, NR):
                    nr = min(NR, nc - jr)
                    if direct and nr == NR:
                        bp = _as_ptr(b_base + (pc * ldb_in + jc + jr) * 4)
                        ldb = ldb_in
                    elif direct:
                        bp = _as_ptr(Bp.ctypes.data)
                        ldb = NR
                    else:
                        bp = _as_ptr(Bblk.ctypes.data + (jr // NR) * kc * NR * 4)
                        ldb = NR
                    for ir in range(0, mc, MR):
                        _micro_into(kc, _as_ptr(Ap.ctypes.data + (ir // MR) * kc * MR * 4), bp, ldb, C, ic + ir,
                                    jc + jr, min(MR, mc - ir), nr, b, tile)


@nb.njit(inline="always", **_opts)
def _micro_into(kc, ap, bp, ldb, C, i, j, mr, nr, beta, tile):
    """``C[i:i+mr, j:j+nr] (= or +=) A-panel @ B-panel``: the micro-kernel straight into C (unit column
    stride) for a whole MR x NR block, through ``tile`` (MR x NR) at C's edges."""
    ldc = C.strides[0] // 4
    if mr == MR and nr == NR:
        _micro(kc, ap, bp, ldb, _as_ptr(C.ctypes.data + (i * ldc + j) * 4), ldc, beta)
    else:
        _micro(kc, ap, bp, ldb, tile.ctypes, NR, 0)
        tile_into(C, tile, i, j, mr, nr, beta)


@nb.njit(inline="always", **_opts)
def tile_into(C, tile, i, j, mr, nr, beta):
    """``C[i:i+mr, j:j+nr] (= or +=)`` the first mr x nr of ``tile`` (an MR x NR micro-kernel block)."""
    for r in range(mr):
        for c in range(nr):
            if beta:
                C[i + r, j + c] += tile[r * NR + c]
            else:
                C[i + r, j + c] = tile[r * NR + c]


@intrinsic
def _as_ptr(typingctx, addr):
    """An integer address as a float32 pointer."""
    sig = types.CPointer(types.float32)(types.intp)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(signature.return_type))

    return sig, codegen


@nb.njit(**_opts)
def pack(B, out):
    """All of B packed for ``_block``: per KC-row block, its NR-column micro-panels ``[k][NR]``."""
    K, N = B.shape
    n_pad = ((N + NR - 1) // NR) * NR
    for pc in range(0, K, KC):
        kc = min(KC, K - pc)
        _pack_b(B, pc, kc, 0, N, out[pc * n_pad:pc * n_pad + kc * n_pad])


def packed_size(k, n):
    return k * (-(-n // NR) * NR)


@nb.njit(**_opts)
def gemm_cols(A, B, Bfull, C, beta, lo, hi):
    """The product for C's column panels ``lo:hi`` (units of NR columns)."""
    _block(A, B, Bfull, C, beta, 0, A.shape[0], lo * NR, min(hi * NR, C.shape[1]))


@nb.njit(**_opts)
def gemm_rows(A, B, Bfull, C, beta, lo, hi):
    """The product for C's row panels ``lo:hi`` (units of MR rows)."""
    _block(A, B, Bfull, C, beta, lo * MR, min(hi * MR, A.shape[0]), 0, C.shape[1])


@nb.njit(**_opts)
def gemm_depth(A, B, Cs, lo, hi):
    """``Cs[p] = A[:, k_p] @ B[k_p]`` for the parts p in ``lo:hi`` of k (``Cs.shape[0]`` near-equal ranges):
    a deep product of small sides (weight gradients: k = the batch) split along k, each thread packing
    only its share of both operands; the caller sums the parts."""
    K, parts = A.shape[1], Cs.shape[0]
    for p in range(lo, hi):
        k0, k1 = K * p // parts, K * (p + 1) // parts
        _block(A[:, k0:k1], B[k0:k1], _EMPTY, Cs[p], 0, 0, A.shape[0], 0, Cs.shape[2])


@nb.njit(**_opts)
def gemm_batch(A, B, C, beta, lo, hi):
    """``C[i, j] (= or +=) A[i, j] @ B[i, j]`` (4-D operands) for the flat batch items ``lo:hi``."""
    inner = C.shape[1]
    for f in range(lo, hi):
        i, j = f // inner, f % inner
        _block(A[i, j], B[i, j], _EMPTY, C[i, j], beta, 0, A.shape[2], 0, C.shape[3])


_EMPTY = np.empty(0, np.float32)


# ---------------------------------------------------------------------------------------- A @ B^T, small out
# C = A @ Bt^T where the rows of A and of Bt are contiguous along k and the output is small: the
# Winograd weight gradient (O x C per tile point, k = every tile of the batch). Packing both long
# operands cost more than the arithmetic there (32x32x3136: 7.1 ms for 36 of them vs NumPy's 3.4);
# 4x4 blocks of dot products read both in place, 16 k-vector accumulators kept in registers.

@nb.njit(fastmath=True, **_opts)
def _row(X, i, K):
    """Row ``i`` of a 2-D array whose rows are contiguous, as a C-contiguous 1-D array."""
    return nb.carray(_as_ptr(X.ctypes.data + i * X.strides[0]), K)


@nb.njit(fastmath=True, **_opts)
def _nt(A, Bt, C, beta):
    m, K = A.shape
    n = Bt.shape[0]
    m4, n4 = m - m % 4, n - n % 4
    for i0 in range(0, m4, 4):
        a0, a1, a2, a3 = _row(A, i0, K), _row(A, i0 + 1, K), _row(A, i0 + 2, K), _row(A, i0 + 3, K)
        for j0 in range(0, n4, 4):
            b0, b1, b2, b3 = _row(Bt, j0, K), _row(Bt, j0 + 1, K), _row(Bt, j0 + 2, K), _row(Bt, j0 + 3, K)
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = np.float32(0)
            c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = np.float32(0)
            for k in range(K):
                x0, x1, x2, x3 = a0[k], a1[k], a2[k], a3[k]
                y0, y1, y2, y3 = b0[k], b1[k], b2[k], b3[k]
                c00 += x0 * y0
                c01 += x0 * y1
                c02 += x0 * y2
                c03 += x0 * y3
                c10 += x1 * y0
                c11 += x1 * y1
                c12 += x1 * y2
                c13 += x1 * y3
                c20 += x2 * y0
                c21 += x2 * y1
                c22 += x2 * y2
                c23 += x2 * y3
                c30 += x3 * y0
                c31 += x3 * y1
                c32 += x3 * y2
                c33 += x3 * y3
            _put4(C, i0, j0, c00, c01, c02, c03, beta)
            _put4(C, i0 + 1, j0, c10, c11, c12, c13, beta)
            _put4(C, i0 + 2, j0, c20, c21, c22, c23, beta)
            _put4(C, i0 + 3, j0, c30, c31, c32, c33, beta)
    for i in range(m):               # the ragged last rows and columns: one dot product each
        for j in range(n4 if i < m4 else 0, n):
            a, b = _row(A, i, K), _row(Bt, j, K)
            s = np.float32(0)
            for k in range(K):
                s += a[k] * b[k]
            C[i, j] = C[i, j] + s if beta else s


@nb.njit(**_opts)
def _put4(C, i, j, v0, v1, v2, v3, beta):
    if beta:
        C[i, j] += v0
        C[i, j + 1] += v1
        C[i, j + 2] += v2
        C[i, j + 3] += v3
    else:
        C[i, j] = v0
        C[i, j + 1] = v1
        C[i, j + 2] = v2
        C[i, j + 3] = v3


@nb.njit(**_opts)
def gemm_nt_batch(A, Bt, C, beta, lo, hi):
    """``C[i, j] (= or +=) A[i, j] @ Bt[i, j]^T`` (4-D; rows of A and Bt contiguous) for flat items ``lo:hi``."""
    inner = C.shape[1]
    for f in range(lo, hi):
        i, j = f // inner, f % inner
        _nt(A[i, j], Bt[i, j], C[i, j], beta)
