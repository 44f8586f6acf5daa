"""Whole-sequence recurrences (LSTM, GRU, Elman RNN) as one autograd node per layer and direction.

``rnn_sequence`` runs the recurrence of one layer in one direction over a whole sequence whose input
projection ``xproj = x @ W_ih^T + b`` (all time steps, one GEMM, done by the caller with ``linear``)
is given. The forward loops over time on raw arrays: one ``h @ W_hh^T`` GEMM into a preallocated
buffer and a few in-place elementwise passes per step, saving the activated gates and states.
As a chain of per-step nerve ops the same work recorded about twenty nodes per step, and backward
walked them one by one (benchmarks/bench_seq_step.py).

``lstm_layer`` is the LSTM's entry point: for float32 NumPy arrays while nerve's GEMM is the backend it
runs the compiled layer (_rnn_numba: the input projection inside the per-step product, one node with
the input and the weights as inputs); otherwise ``linear`` and ``rnn_sequence``.

Backward is the usual backpropagation through time. Without ``create_graph`` it runs as a raw-array
loop too (one ``dz @ W_hh`` GEMM per step, and ``dW_hh`` as one GEMM over all steps at the end). Under
``create_graph`` (grad mode on inside backward, the convention of nnops.BatchNormBackward) the states are
recomputed from the saved inputs with nerve ops and the same BPTT is written with nerve ops, so second
derivatives are right.

The output is one tensor ``Y`` of shape (T + 1, B, H) (GRU, RNN) or (T + 2, B, H) (LSTM): ``Y[:T]`` are
the outputs by time, ``Y[T]`` the final hidden state and ``Y[T + 1]`` the final cell state (a node has
exactly one output; the caller takes views).

Packed sequences: ``batch_sizes[t]`` rows are active at time ``t`` (the batch is sorted by decreasing
length). Inactive rows keep their state unchanged and output zeros, so the forward direction ends each
row at its own last step and the reverse direction starts each row at its own last step from h0.

Gate order and formulas are PyTorch's: LSTM (i, f, g, o), ``c' = f c + i g``, ``h' = o tanh(c')``;
GRU (r, z, n), ``n = tanh(x_n + r (W_hn h + b_hn))``, ``h' = (1 - z) n + z h``; RNN ``h' = act(x + W h)``.
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import wrap
from . import _gemm
from ._helpers import attach

try:  # optional (pip install numba)
    from . import _rnn_numba as _rk
    from ._winograd_numba import run_together, threads
except ImportError:  # pragma: no cover - depends on the install
    _rk = None

__all__: list = []

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _order(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _lstm_consts(H, dt):
    # sigmoid(x) = 0.5 tanh(x / 2) + 0.5: one tanh over all four gates, scaled by s, then g -> a g + b
    s = np.full(4 * H, 0.5, dt)
    s[2 * H:3 * H] = 1.0
    b = np.full(4 * H, 0.5, dt)
    b[2 * H:3 * H] = 0.0
    q = np.zeros(4 * H, dt)  # derivative factor (1 - G)(G + q): sigmoid G(1-G), tanh (1-G)(1+G)
    q[2 * H:3 * H] = 1.0
    return s, b, q


# ============================================================================ compiled LSTM layer
# Below this many multiply-adds per step (B x H x 4H) the recurrence stays on one thread.
THREAD_MACS = 1 << 21
PARTS = None   # None: as many parts as threads (tests pin it)


def _kernel_parts(x, ws):
    """How many threads run the compiled LSTM layer (_rnn_numba) on input ``x`` with arrays ``ws`` (weights,
    states), 0 for the NumPy loop: float32 NumPy arrays while nerve's GEMM is the backend."""
    if _rk is None or any(type(a) is not np.ndarray or a.dtype != np.float32 for a in (x, *ws)) \
            or not _gemm.fused_ok():
        return 0
    B, H = x.shape[1], ws[1].shape[1]
    if PARTS is not None:
        return max(1, min(PARTS, H // 8))
    if B * H * 4 * H < THREAD_MACS:
        return 1
    return max(1, min(threads(), H // 32))


def _units(H, parts):
    """The parts' unit bounds: multiples of 8, as equal as that allows."""
    return np.array([0] + [min(H, (H * p // parts + 4) // 8 * 8) for p in range(1, parts)] + [H], np.int64)


def _split(n, parts):
    """``0:n`` in ``parts`` near-equal ranges (bounds)."""
    return np.array([n * p // parts for p in range(parts + 1)], np.int64)


def _active(bs, T, B):
    return np.full(T, B, np.int64) if bs is None else np.ascontiguousarray(bs, np.int64)


def _fwd_lstm_layer(x, Wi, Wh, bias, h0, c0, reverse, bs, parts):
    """One layer and direction by the compiled loop on ``parts`` threads: x (T, B, I) contiguous.
    Returns Y (T + 2, B, H) as rnn_sequence, and what the backward needs."""
    T, B, I = x.shape
    H = Wh.shape[1]
    dt = x.dtype
    Bn = -(-B // _rk.NR) * _rk.NR     # the batch padded to whole micro-kernel column panels
    units = _units(H, parts)
    s, _, _ = _lstm_consts(H, dt)
    grows = _rk.gate_rows(H, units)
    Af = np.empty((parts, -(-4 * int(np.diff(units).max()) // _rk.MR), H + I + 1, _rk.MR), dt)
    Cs = np.empty((T + 1, H, Bn), dt)
    Cs[0] = 0
    Cs[0, :, :B] = c0.T
    Gt = np.empty((T, 4 * H, Bn), dt)
    Bop = np.zeros((2, H + I + 1, Bn), dt)
    Bop[0, :H, :B] = h0.T
    Bop[:, H + I] = 1
    bias = np.zeros(4 * H, dt) if bias is None else bias
    Y = np.empty((T + 2, B, H), dt)
    run_together(_rk.lstm_forward, parts, x, Wh, Wi, bias, s, Af, units, _split(I, parts), grows, Y, Cs, Gt, Bop,
                 np.empty((parts, _rk.MR * Bn), dt), _active(bs, T, B), reverse, _rk.flags(parts))
    Y[T] = Bop[T % 2, :H, :B].T
    Y[T + 1] = Cs[T, :, :B].T
    return Y, (x, np.ascontiguousarray(h0), Cs, Gt, parts)


def _bwd_lstm_layer(gY, Y, Wi, Wh, saved, reverse, bs, need_dx):
    """The backward of _fwd_lstm_layer: (dx, dh0, dc0, dW_ih, dW_hh, db); the weight gradients as one GEMM
    over all steps (_rk.weight_grad) on the same threads, after the loop."""
    x, h0, Cs, Gt, parts = saved
    T, B = x.shape[0], x.shape[1]
    G4, I = Wi.shape
    H = G4 // 4
    Bn = Cs.shape[2]
    dt = x.dtype
    units = _units(H, parts)
    xlo = _split(I, parts) if need_dx else np.zeros(parts + 1, np.int64)
    grows = _rk.gate_rows(H, units)
    npan = -(-int((np.diff(units) + np.diff(xlo)).max()) // _rk.MR)
    dX = np.empty((T, B, I) if need_dx else (1, 1, 1), dt)
    Dz = np.empty((T, G4, Bn), dt)
    DB = np.zeros((G4, Bn), dt)
    dH = np.zeros((H, Bn), dt)
    dC = np.zeros((H, Bn), dt)
    dH[:, :B] = gY[T].T
    dC[:, :B] = gY[T + 1].T
    dW = np.empty((G4, I + H), dt)
    run_together(_rk.lstm_backward, parts, np.ascontiguousarray(gY), Wh, Wi, np.empty((parts, npan, G4, _rk.MR), dt),
                 units, xlo, grows, Cs, Gt, dX, DB, dH, dC, Dz, np.empty((parts, npan * _rk.MR * Bn), dt),
                 np.empty((parts, _rk.MR * Bn), dt), _active(bs, T, B), reverse, x, Y, h0, dW, _rk.flags(parts))
    order = np.argsort(grows)   # W's rows from the gate blocks' order
    db = DB.sum(1)[order]
    return (dX if need_dx else None), np.ascontiguousarray(dH[:, :B].T), np.ascontiguousarray(dC[:, :B].T), \
        dW[order, :I], dW[order, I:], db


# ============================================================================ raw forward
def _packed_step(Y, t, m, h, h_prev, c=None, c_prev=None):
    """Packed input: only the first ``m`` rows still run at step ``t``. The finished rows keep their
    previous state (so the final state is each sequence's last one) and output zeros."""
    if m < len(h):
        h[m:] = h_prev[m:]
        if c is not None:
            c[m:] = c_prev[m:]
        Y[t, :m] = h[:m]
        Y[t, m:] = 0
    else:
        Y[t] = h


def _fwd_lstm(X, W, h0, c0, reverse, bs):
    T, B, G4 = X.shape
    H = G4 // 4
    dt = X.dtype
    s, b, _ = _lstm_consts(H, dt)
    Xs = X * s
    WsT = _gemm.pack((W * s[:, None]).T)
    S = np.empty((T + 1, B, H), dt)
    Cs = np.empty((T + 1, B, H), dt)
    Gt = np.empty((T, B, G4), dt)
    TC = np.empty((T, B, H), dt)
    S[0] = h0
    Cs[0] = c0
    Y = np.empty((T + 2, B, H), dt)
    tmp = np.empty((B, H), dt)
    for k, t in enumerate(_order(T, reverse)):
        g = Gt[k]
        _gemm.matmul(S[k], WsT, out=g)
        g += Xs[t]
        np.tanh(g, out=g)
        g *= s
        g += b
        c = Cs[k + 1]
        np.multiply(g[:, H:2 * H], Cs[k], out=c)
        np.multiply(g[:, :H], g[:, 2 * H:3 * H], out=tmp)
        c += tmp
        tc = TC[k]
        np.tanh(c, out=tc)
        h = S[k + 1]
        np.multiply(g[:, 3 * H:], tc, out=h)
        if bs is not None:
            _packed_step(Y, t, bs[t], h, S[k], c, Cs[k])
    if bs is None:
        Y[:T] = S[:0:-1] if reverse else S[1:]
    Y[T] = S[T]
    Y[T + 1] = Cs[T]
    return Y, (S, Cs, Gt, TC)


def _fwd_gru(X, W, b_hh, h0, reverse, bs):
    T, B, G3 = X.shape
    H = G3 // 3
    dt = X.dtype
    WT = _gemm.pack(W.T)
    S = np.empty((T + 1, B, H), dt)
    HP = np.empty((T, B, G3), dt)
    RZ = np.empty((T, B, 2 * H), dt)
    N = np.empty((T, B, H), dt)
    S[0] = h0
    Y = np.empty((T + 1, B, H), dt)
    for k, t in enumerate(_order(T, reverse)):
        hp = HP[k]
        _gemm.matmul(S[k], WT, out=hp)
        if b_hh is not None:
            hp += b_hh
        rz = RZ[k]
        np.add(X[t, :, :2 * H], hp[:, :2 * H], out=rz)
        rz *= 0.5
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        n = N[k]
        np.multiply(rz[:, :H], hp[:, 2 * H:], out=n)
        n += X[t, :, 2 * H:]
        np.tanh(n, out=n)
        h = S[k + 1]
        np.subtract(S[k], n, out=h)
        h *= rz[:, H:]
        h += n
        if bs is not None:
            _packed_step(Y, t, bs[t], h, S[k])
    if bs is None:
        Y[:T] = S[:0:-1] if reverse else S[1:]
    Y[T] = S[T]
    return Y, (S, HP, RZ, N)


def _fwd_rnn(X, W, h0, reverse, bs, relu):
    T, B, H = X.shape
    dt = X.dtype
    WT = _gemm.pack(W.T)
    S = np.empty((T + 1, B, H), dt)
    S[0] = h0
    Y = np.empty((T + 1, B, H), dt)
    for k, t in enumerate(_order(T, reverse)):
        h = S[k + 1]
        _gemm.matmul(S[k], WT, out=h)
        h += X[t]
        if relu:
            np.maximum(h, 0, out=h)
        else:
            np.tanh(h, out=h)
        if bs is not None:
            _packed_step(Y, t, bs[t], h, S[k])
    if bs is None:
        Y[:T] = S[:0:-1] if reverse else S[1:]
    Y[T] = S[T]
    return Y, (S,)


# ============================================================================ raw backward
def _prev_by_time(S, reverse):
    """The state before each time step, indexed by time, as a contiguous (T, B, H) array."""
    return np.ascontiguousarray(S[-2::-1]) if reverse else S[:-1]


def _add_step_grad(dh, gY, t, bs):
    """Add step ``t``'s output gradient to ``dh`` for the rows still running (all without packing);
    returns their number."""
    m = len(dh) if bs is None else bs[t]
    if m == len(dh):
        dh += gY[t]
    else:
        dh[:m] += gY[t, :m]
    return m


def _bwd_lstm(gY, W, saved, reverse, bs):
    Wp = _gemm.pack(W)   # multiplied once per step
    S, Cs, Gt, TC = saved
    T, B, G4 = Gt.shape
    H = G4 // 4
    dt = Gt.dtype
    _, _, q = _lstm_consts(H, dt)
    dX = np.empty((T, B, G4), dt)
    dh = np.array(gY[T], dt)
    dc = np.array(gY[T + 1], dt)
    t1 = np.empty((B, G4), dt)
    tmp = np.empty((B, H), dt)
    for k in range(T - 1, -1, -1):
        t = T - 1 - k if reverse else k
        m = _add_step_grad(dh, gY, t, bs)
        g = Gt[k]
        dz = dX[t]
        tc = TC[k]
        # dc += dh * o * (1 - tanh(c)^2)
        np.multiply(tc, tc, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= g[:, 3 * H:]
        tmp *= dh
        if m < B:
            tmp[m:] = 0
        dc += tmp
        np.multiply(dh, tc, out=dz[:, 3 * H:])
        np.multiply(dc, g[:, 2 * H:3 * H], out=dz[:, :H])
        np.multiply(dc, Cs[k], out=dz[:, H:2 * H])
        np.multiply(dc, g[:, :H], out=dz[:, 2 * H:3 * H])
        np.subtract(1, g, out=t1)
        dz *= t1
        np.add(g, q, out=t1)
        dz *= t1
        if m < B:
            dz[m:] = 0
            dcn = dc * g[:, H:2 * H]
            dcn[m:] = dc[m:]
            dhn = _gemm.matmul(dz, Wp)
            dhn[m:] = dh[m:]
            dc, dh = dcn, dhn
        else:
            dc *= g[:, H:2 * H]
            _gemm.matmul(dz, Wp, out=dh)
    dW = _gemm.matmul(dX.reshape(T * B, G4).T, _prev_by_time(S, reverse).reshape(T * B, H))
    return dX, dh, dc, dW, None


def _bwd_gru(gY, W, saved, reverse, bs, need_b):
    Wp = _gemm.pack(W)   # multiplied once per step
    S, HP, RZ, N = saved
    T, B, G3 = HP.shape
    H = G3 // 3
    dt = HP.dtype
    dX = np.empty((T, B, G3), dt)
    dHP = np.empty((T, B, G3), dt)
    dh = np.array(gY[T], dt)
    t1 = np.empty((B, H), dt)
    t2 = np.empty((B, 2 * H), dt)
    for k in range(T - 1, -1, -1):
        t = T - 1 - k if reverse else k
        m = _add_step_grad(dh, gY, t, bs)
        rz, n, hp = RZ[k], N[k], HP[k]
        dx, dhp = dX[t], dHP[k]
        r, z = rz[:, :H], rz[:, H:]
        # dn_pre = dh (1 - z) (1 - n^2)
        dnp = dx[:, 2 * H:]
        np.multiply(n, n, out=t1)
        np.subtract(1, t1, out=t1)
        np.subtract(1, z, out=dnp)
        dnp *= t1
        dnp *= dh
        np.multiply(dnp, r, out=dhp[:, 2 * H:])
        # dr = dn_pre * hn, dz = dh (h - n); both times s (1 - s)
        np.multiply(dnp, hp[:, 2 * H:], out=dx[:, :H])
        np.subtract(S[k], n, out=dx[:, H:2 * H])
        dx[:, H:2 * H] *= dh
        np.subtract(1, rz, out=t2)
        t2 *= rz
        dx[:, :2 * H] *= t2
        if m < B:
            dx[m:] = 0
            dhp[m:] = 0
        dhp[:, :2 * H] = dx[:, :2 * H]
        if m < B:
            dhn = dh * z
            _gemm.matmul(dhp, Wp, out=dhn, accumulate=True)
            dhn[m:] = dh[m:]
            dh = dhn
        else:
            dh *= z
            _gemm.matmul(dhp, Wp, out=dh, accumulate=True)
    dHPt = dHP.reshape(T * B, G3)
    dW = _gemm.matmul(dHPt.T, S[:-1].reshape(T * B, H))
    db = dHPt.sum(0) if need_b else None
    return dX, dh, None, dW, db


def _bwd_rnn(gY, W, saved, reverse, bs, relu):
    Wp = _gemm.pack(W)   # multiplied once per step
    (S,) = saved
    T1, B, H = S.shape
    T = T1 - 1
    dt = S.dtype
    dX = np.empty((T, B, H), dt)
    dh = np.array(gY[T], dt)
    for k in range(T - 1, -1, -1):
        t = T - 1 - k if reverse else k
        m = _add_step_grad(dh, gY, t, bs)
        dz = dX[t]
        h = S[k + 1]
        if relu:
            np.multiply(dh, h > 0, out=dz)
        else:
            np.multiply(h, h, out=dz)
            np.subtract(1, dz, out=dz)
            dz *= dh
        if m < B:
            dz[m:] = 0
            dhn = _gemm.matmul(dz, Wp)
            dhn[m:] = dh[m:]
            dh = dhn
        else:
            _gemm.matmul(dz, Wp, out=dh)
    dW = _gemm.matmul(dX.reshape(T * B, H).T, _prev_by_time(S, reverse).reshape(T * B, H))
    return dX, dh, None, dW, None


# ============================================================================ composite (create_graph)
def _composite(mode, x, w, h0, c0, b, g, reverse, bs):
    """Gradients of ``sum(Y * g)`` w.r.t. (xproj, h0, c0, w_hh, b_hh) written with nerve ops.

    The forward states are recomputed with nerve ops, then BPTT runs on them; every value is a
    differentiable function of the inputs and of ``g``, for second derivatives.
    """
    from .creation import zeros_like
    from .elementwise import relu as _relu
    from .elementwise import sigmoid, tanh
    from .join import cat, stack
    from .linalg import matmul
    from .shape import transpose

    T, B = x.shape[0], x.shape[1]
    H = w.shape[1]
    wT = transpose(w, 0, 1)
    dt = x._data.dtype

    def mask(t):
        if bs is None or bs[t] == B:
            return None
        mk = np.zeros((B, 1), dt)
        mk[:bs[t]] = 1
        return wrap(mk)

    order = list(_order(T, reverse))
    hs, cs, cache = [h0], [c0], []
    for t in order:
        hp = matmul(hs[-1], wT)
        if b is not None:
            hp = hp + b
        mk = mask(t)
        if mode == "LSTM":
            z = x[t] + hp
            i, f, gg, o = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H]), tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c = f * cs[-1] + i * gg
            tc = tanh(c)
            h = o * tc
            cache.append((i, f, gg, o, tc))
            if mk is not None:
                c = mk * c + (1 - mk) * cs[-1]
            cs.append(c)
        elif mode == "GRU":
            rz = sigmoid(x[t][:, :2 * H] + hp[:, :2 * H])
            r, zz = rz[:, :H], rz[:, H:]
            n = tanh(x[t][:, 2 * H:] + r * hp[:, 2 * H:])
            h = n + zz * (hs[-1] - n)
            cache.append((r, zz, n, hp[:, 2 * H:]))
        else:
            h = x[t] + hp
            h = _relu(h) if mode == "RNN_RELU" else tanh(h)
            cache.append((h,))
        if mk is not None:
            h = mk * h + (1 - mk) * hs[-1]
        hs.append(h)

    dh = g[T]
    dc = g[T + 1] if mode == "LSTM" else None
    dxs = [None] * T
    dws = []
    dbs = []
    for k in range(T - 1, -1, -1):
        t = order[k]
        mk = mask(t)
        gt = g[t] if mk is None else g[t] * mk
        dh = dh + gt
        if mode == "LSTM":
            i, f, gg, o, tc = cache[k]
            dhm = dh if mk is None else dh * mk
            dcc = dc + dhm * o * (1 - tc * tc)
            if mk is not None:
                dcc = dc * (1 - mk) + dcc * mk
                dca = dcc * mk
            else:
                dca = dcc
            dz = cat([dca * gg * i * (1 - i), dca * cs[k] * f * (1 - f), dca * i * (1 - gg * gg),
                      dhm * tc * o * (1 - o)], 1)
            dhp = dz
            dxs[t] = dz
            dc_prev = dca * f if mk is None else dca * f + dcc * (1 - mk)
            dh_prev = matmul(dz, w) if mk is None else matmul(dz, w) + dh * (1 - mk)
            dc = dc_prev
        elif mode == "GRU":
            r, zz, n, hn = cache[k]
            dhm = dh if mk is None else dh * mk
            dnp = dhm * (1 - zz) * (1 - n * n)
            dr = dnp * hn * r * (1 - r)
            dzz = dhm * (hs[k] - n) * zz * (1 - zz)
            dxs[t] = cat([dr, dzz, dnp], 1)
            dhp = cat([dr, dzz, dnp * r], 1)
            dh_prev = dhm * zz + matmul(dhp, w)
            if mk is not None:
                dh_prev = dh_prev + dh * (1 - mk)
        else:
            (h,) = cache[k]
            dhm = dh if mk is None else dh * mk
            dz = dhm * (h > 0).to(h.dtype) if mode == "RNN_RELU" else dhm * (1 - h * h)
            dhp = dz
            dxs[t] = dz
            dh_prev = matmul(dz, w) if mk is None else matmul(dz, w) + dh * (1 - mk)
        dws.append(matmul(transpose(dhp, 0, 1), hs[k]))
        if b is not None:
            dbs.append(dhp.sum(0))
        dh = dh_prev
    dW = stack(dws, 0).sum(0) if dws else zeros_like(w)
    db = (stack(dbs, 0).sum(0) if dbs else zeros_like(b)) if b is not None else None
    return stack(dxs, 0), dh, dc, dW, db


# ============================================================================ node
class RnnSequenceBackward(Node):
    __slots__ = ("arrays", "bs", "mode", "reverse")

    def apply(self, g):
        x, h0, c0, w, b = self.saved_tensors
        if gm.enabled:
            grads = _composite(self.mode, x, w, h0, c0, b, g, self.reverse, self.bs)
        else:
            self.saved_values()
            gY = g._data
            W = w._data
            if self.mode == "LSTM":
                raw = _bwd_lstm(gY, W, self.arrays, self.reverse, self.bs)
            elif self.mode == "GRU":
                raw = _bwd_gru(gY, W, self.arrays, self.reverse, self.bs, self.next[4] is not None)
            else:
                raw = _bwd_rnn(gY, W, self.arrays, self.reverse, self.bs, self.mode == "RNN_RELU")
            grads = tuple(None if a is None else wrap(a) for a in raw)
        dx, dh, dc, dW, db = grads
        n = self.next
        return (dx if n[0] is not None else None, dh if n[1] is not None else None,
                dc if n[2] is not None else None, dW if n[3] is not None else None,
                db if n[4] is not None else None)

    def release(self):
        super().release()
        self.arrays = None


def rnn_sequence(mode, xproj, w_hh, h0, c0=None, b_hh=None, reverse=False, batch_sizes=None):
    """The recurrence of one layer and direction over a whole (T, B, G*H) input projection.

    ``xproj``: x @ W_ih^T plus the biases (LSTM, RNN: b_ih + b_hh; GRU: b_ih only, ``b_hh`` is passed
    because its n part is multiplied by r). ``h0``/``c0``: (B, H). ``batch_sizes``: NumPy int array of
    the active rows per time step (packed input) or None. Returns Y of shape (T + 1, B, H) (T + 2 for
    LSTM): outputs by time, then the final h (and c).
    Gradient: backpropagation through time (see the module docstring).
    """
    X = xproj._data
    W = w_hh._data
    if X.dtype != W.dtype or h0._data.dtype != X.dtype:
        raise RuntimeError(f"{mode}: expected input, hidden state and weights of the same dtype, got input "
                           f"{xproj.dtype}, hidden {h0.dtype}, weight {w_hh.dtype}")
    X = np.ascontiguousarray(X)
    h0d = h0._data
    if mode == "LSTM":
        Y, arrays = _fwd_lstm(X, W, h0d, c0._data, reverse, batch_sizes)
    elif mode == "GRU":
        Y, arrays = _fwd_gru(X, W, None if b_hh is None else b_hh._data, h0d, reverse, batch_sizes)
    else:
        Y, arrays = _fwd_rnn(X, W, h0d, reverse, batch_sizes, mode == "RNN_RELU")
    out = wrap(Y)
    if gm.enabled and any(t is not None and t.requires_grad for t in (xproj, w_hh, h0, c0, b_hh)):
        n = RnnSequenceBackward(xproj, h0, c0, w_hh, b_hh)
        n.save(xproj, h0, c0, w_hh, b_hh)
        n.mode, n.reverse, n.bs, n.arrays = mode, reverse, batch_sizes, arrays
        attach(out, n)
    return out


class LstmLayerBackward(Node):
    """The compiled LSTM layer's node: inputs (x, h0, c0, w_ih, w_hh, b_ih, b_hh)."""
    __slots__ = ("arrays", "bs", "reverse")

    def apply(self, g):
        x, h0, c0, w_ih, w_hh, b_ih, b_hh = self.saved_tensors
        n = self.next
        if gm.enabled:   # create_graph: the input projection and the recurrence written with nerve ops
            from .linalg import matmul
            from .nnops import linear
            from .shape import transpose
            T, B, I = x.shape
            xp = linear(x, w_ih, None if b_ih is None else b_ih + b_hh)
            dxp, dh, dc, dWh, _ = _composite("LSTM", xp, w_hh, h0, c0, None, g, self.reverse, self.bs)
            dxp2 = dxp.reshape(T * B, dxp.shape[2])
            dx = matmul(dxp2, w_ih).reshape(T, B, I)
            dWi = matmul(transpose(dxp2, 0, 1), x.reshape(T * B, I))
            # b_ih and b_hh get the same gradient, as two tensors (a leaf may adopt its gradient as .grad)
            db, db2 = (dxp2.sum(0), dxp2.sum(0)) if b_ih is not None else (None, None)
        else:
            Y = self.saved_output()._data   # the weight gradients read the states from it (version checked)
            Wi, Wh = np.ascontiguousarray(w_ih._data), np.ascontiguousarray(w_hh._data)
            raw = _bwd_lstm_layer(g._data, Y, Wi, Wh, self.arrays, self.reverse, self.bs, n[0] is not None)
            dx, dh, dc, dWi, dWh, db = (None if a is None else wrap(a) for a in raw)
            db2 = None if db is None else wrap(db._data.copy())
        return tuple(v if e is not None else None for v, e in zip((dx, dh, dc, dWi, dWh, db, db2), n))

    def release(self):
        super().release()
        self.arrays = None


def lstm_layer(x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=False, batch_sizes=None):
    """One LSTM layer and direction over a time-major (T, B, I) input: Y as rnn_sequence's (T + 2, B, H).

    float32 NumPy arrays while nerve's GEMM is the backend run the compiled loop (_rnn_numba), which does
    the input projection step by step with the recurrent product (one node, inputs x, h0, c0 and the
    weights); otherwise the input projection is one ``linear`` and the recurrence ``rnn_sequence``.
    """
    ws = [w_ih._data, w_hh._data, h0._data, c0._data] + [b._data for b in (b_ih, b_hh) if b is not None]
    parts = _kernel_parts(x._data, ws)
    if not parts:
        from .nnops import linear
        xp = linear(x, w_ih, None if b_ih is None else b_ih + b_hh)
        return rnn_sequence("LSTM", xp, w_hh, h0, c0, None, reverse, batch_sizes)
    xd = np.ascontiguousarray(x._data)
    bias = None if b_ih is None else b_ih._data + b_hh._data
    Wi, Wh = np.ascontiguousarray(w_ih._data), np.ascontiguousarray(w_hh._data)
    Y, arrays = _fwd_lstm_layer(xd, Wi, Wh, bias, h0._data, c0._data, reverse, batch_sizes, parts)
    out = wrap(Y)
    if gm.enabled and any(t is not None and t.requires_grad for t in (x, h0, c0, w_ih, w_hh, b_ih, b_hh)):
        n = LstmLayerBackward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        n.save(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        n.save_output(out)
        n.reverse, n.bs, n.arrays = reverse, batch_sizes, arrays
        attach(out, n)
    return out
