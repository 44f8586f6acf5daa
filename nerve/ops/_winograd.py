"""Winograd F(4x4, 3x3) kernels for stride-1, undilated, ungrouped 3x3 convolutions (array level).

A 3x3 convolution computed on 4x4 output tiles needs 36 multiplies per (in, out) channel pair and
tile instead of 144 (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):

    Y_tile = A^T [ (G w G^T) (.) (B^T d B) ] A          d: the 6x6 input tile, w: the 3x3 filter

Summed over input channels, the element-wise product becomes 36 independent GEMMs
``M[k] (O, T) = U[k] (O, C) @ V[k] (C, T)`` over the T = N * tiles_h * tiles_w tiles, with
``U = G w G^T`` (36, O, C) and ``V = B^T d B`` (36, C, T). The same structure gives the two gradients:

- input gradient: a stride-1 3x3 convolution of the output gradient with the flipped, transposed
  filter, padded by ``2 - pad`` (so the forward kernel serves it);
- weight gradient: ``dU[k] = Mg[k] @ V[k]^T`` with ``Mg = A g A^T`` per output-gradient tile, then
  ``dw = G^T dU G``; the forward's V is reused.

With Numba installed, the transforms of NumPy arrays run as the kernels of _winograd_numba.py.
Otherwise (and for CuPy arrays) each is composed here: the small dense matrices applied along one
axis of large arrays are BLAS GEMMs with K = 6 (or 4) over long rows, and the tile gather/scatter
are strided copies. All arithmetic runs in the input's dtype; in float32 the results match a direct convolution to about
1e-5 relative to the output's scale (the transform points are 0, +-1, +-2, infinity).
"""
from __future__ import annotations

import numpy as np

from . import _gemm as _mm
from ._helpers import xp_of

try:  # optional: fused transform kernels (pip install numba); the NumPy composition below is the fallback
    from . import _winograd_numba as _nbk
except ImportError:  # pragma: no cover - depends on the install
    _nbk = None

USE_NUMBA = _nbk is not None
BLOCK_TILES = None  # tiles per block of the fully fused convolution: None picks by size (tests pin it)
# Below this many elements a kernel call's fixed costs (dispatch, handing channels to threads)
# outweigh its gain: gradgradcheck's thousands of tiny convolutions ran 100x slower through them.
NUMBA_MIN_SIZE = 1 << 15


def _numba_ok(*arrays):
    return USE_NUMBA and all(type(a) is np.ndarray and a.dtype in (np.float32, np.float64)
                             and a.size >= NUMBA_MIN_SIZE for a in arrays)


# Lavin & Gray's F(4x4, 3x3) matrices (points 0, 1, -1, 2, -2, infinity).
_BT = np.array([[4, 0, -5, 0, 1, 0],
                [0, -4, -4, 1, 1, 0],
                [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0],
                [0, 2, -1, -2, 1, 0],
                [0, 4, 0, -5, 0, 1]], dtype=np.float64)
_G = np.array([[1 / 4, 0, 0],
               [-1 / 6, -1 / 6, -1 / 6],
               [-1 / 6, 1 / 6, -1 / 6],
               [1 / 24, 1 / 12, 1 / 6],
               [1 / 24, -1 / 12, 1 / 6],
               [0, 0, 1]], dtype=np.float64)
_AT = np.array([[1, 1, 1, 1, 1, 0],
                [0, 1, -1, 2, -2, 0],
                [0, 1, 1, 4, 4, 0],
                [0, 1, -1, 8, -8, 1]], dtype=np.float64)

_cache: dict = {}


def _mats(xp, dtype):
    """(B^T, A^T, A, kron(G, G)) as arrays of ``xp`` in ``dtype``, made once per (xp, dtype)."""
    key = (xp.__name__, np.dtype(dtype).str)
    m = _cache.get(key)
    if m is None:
        m = _cache[key] = tuple(xp.asarray(a, dtype=dtype)
                                for a in (_BT, _AT, np.ascontiguousarray(_AT.T), np.kron(_G, _G)))
    return m


def bias_vector(bias, o, dtype):
    """A kernel's per-channel bias: ``bias`` as a contiguous array of ``dtype``, or zeros."""
    return np.zeros(o, dtype) if bias is None else np.ascontiguousarray(bias, dtype=dtype)


def _fused_ok(a, planes=True):
    """Whether a convolution runs through the fused kernels: float32, nerve's GEMM the chosen backend, and
    for gemm_output (``planes``) a V made by ``planes`` (padded plane stride, spare floats at the end)."""
    return (_numba_ok(a) and a.dtype == np.float32 and (not planes or a.strides[0] > a.shape[1] * a.strides[1])
            and _mm.fused_ok())


def structural(w_shape, stride, dilation, groups):
    """Whether these kernels compute this convolution at all: 3x3, stride 1, no dilation, no groups."""
    return tuple(w_shape[2:]) == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1) and groups == 1


def applicable(x_shape, w_shape):
    """Whether they pay off against im2col (for a structurally valid convolution).

    Small channel counts give GEMMs too thin to win back the transforms (measured in
    benchmarks/bench_cnn_step.py), and a map smaller than one tile wastes most of it.
    """
    return w_shape[0] >= 16 and w_shape[1] >= 16 and x_shape[2] >= 4 and x_shape[3] >= 4


def tiles(out_hw):
    return -(-out_hw[0] // 4), -(-out_hw[1] // 4)


def input_transform(x, top, left, out_hw):
    """V = B^T d B for every 6x6 input tile: ``(36, C, N * th * tw)``.

    The tile at (i, j) covers input rows ``4 i - top .. 4 i - top + 5`` (zeros outside the input).
    """
    n, c, h, w = x.shape
    th, tw = tiles(out_hw)
    if _numba_ok(x):
        v = _nbk.planes(36, c, n * th * tw, x.dtype)
        _nbk.run(_nbk.input_transform, c, np.ascontiguousarray(x), top, left, th, tw, *_nbk.flat(v))
        return v
    xp = xp_of(x)
    hp, wp = 4 * th + 2, 4 * tw + 2
    bt = _mats(xp, x.dtype)[0]
    # Zero-padded copy holding exactly the rows/cols the tiles read.
    pad = xp.zeros((n, c, hp, wp), dtype=x.dtype)
    r0, c0 = max(top, 0), max(left, 0)            # where the input starts in the padded frame
    s0, s1 = max(-top, 0), max(-left, 0)          # first input row/col inside the frame
    rh, rw = min(h - s0, hp - r0), min(w - s1, wp - c0)
    if rh > 0 and rw > 0:
        pad[:, :, r0:r0 + rh, c0:c0 + rw] = x[:, :, s0:s0 + rh, s1:s1 + rw]
    st = pad.strides
    v = xp.lib.stride_tricks.as_strided(pad, (6, 6, c, n, th, tw), (st[2], st[3], st[1], st[0], 4 * st[2], 4 * st[3]))
    d = xp.ascontiguousarray(v).reshape(6, -1)
    v1 = (bt @ d).reshape(6, 6, -1)                # rows transformed: (a, s, C*T)
    return xp.matmul(bt, v1).reshape(36, c, n * th * tw)


def weight_transform(w):
    """U = G w G^T: ``(36, O, C)`` from ``(O, C, 3, 3)``, as one GEMM with kron(G, G) (36 x 9)."""
    xp = xp_of(w)
    o, c = w.shape[:2]
    return (_mats(xp, w.dtype)[3] @ w.reshape(o * c, 9).T).reshape(36, o, c)


def output_transform(m, n, out_hw, bias=None):
    """Y = A^T M A per tile, laid out as ``(N, O, Ho, Wo)`` (+ bias)."""
    o = m.shape[1]
    th, tw = tiles(out_hw)
    ho, wo = out_hw
    if _numba_ok(m):
        y = np.empty((n, o, ho, wo), dtype=m.dtype)
        b = bias_vector(bias, o, m.dtype)
        _nbk.run(_nbk.output_transform, o, *_nbk.flat(m), n, th, tw, b, y)
        return y
    xp = xp_of(m)
    at = _mats(xp, m.dtype)[1]
    q = (at @ m.reshape(6, -1)).reshape(4, 6, -1)
    yt = xp.matmul(at, q).reshape(4, 4, o, n, th, tw).transpose(3, 2, 4, 0, 5, 1)   # (N, O, th, 4, tw, 4)
    y = xp.empty((n, o, ho, wo), dtype=m.dtype)
    if ho == 4 * th and wo == 4 * tw:
        y.reshape(n, o, th, 4, tw, 4)[...] = yt
    else:
        y[...] = yt.reshape(n, o, 4 * th, 4 * tw)[:, :, :ho, :wo]
    if bias is not None:
        y += bias.reshape(1, o, 1, 1)
    return y


def grad_transform(g):
    """Mg = A g A^T for every 4x4 output-gradient tile: ``(36, O, N * th * tw)``."""
    n, o, ho, wo = g.shape
    th, tw = tiles((ho, wo))
    if _numba_ok(g):
        mg = _nbk.planes(36, o, n * th * tw, g.dtype)
        _nbk.run(_nbk.grad_transform, o, np.ascontiguousarray(g), th, tw, *_nbk.flat(mg))
        return mg
    xp = xp_of(g)
    a = _mats(xp, g.dtype)[2]
    if ho != 4 * th or wo != 4 * tw:
        gp = xp.zeros((n, o, 4 * th, 4 * tw), dtype=g.dtype)
        gp[:, :, :ho, :wo] = g
        g = gp
    d = xp.ascontiguousarray(g.reshape(n, o, th, 4, tw, 4).transpose(3, 5, 1, 0, 2, 4)).reshape(4, -1)
    q = (a @ d).reshape(6, 4, -1)
    return xp.matmul(a, q).reshape(36, o, n * th * tw)


def conv(x, w, top, left, out_hw, bias=None, v=None):
    """Stride-1 3x3 cross-correlation with (top, left) padding producing ``out_hw``.

    ``v``: the input transform of ``x`` if the caller has it (it keeps it for the weight gradient).
    """
    u = weight_transform(w)
    whole = v is None and _fused_ok(x, False)  # nobody keeps V: the whole convolution block by block
    if v is None and not whole:
        v = input_transform(x, top, left, out_hw)
    if whole or _fused_ok(v):
        n, o = x.shape[0], u.shape[1]
        th, tw = tiles(out_hw)
        t = n * th * tw
        y = np.empty((n, o) + tuple(out_hw), np.float32)
        b, up = bias_vector(bias, o, np.float32), _nbk.pack_u(u)
        if whole:
            tb = BLOCK_TILES or _nbk.block_tiles(x.shape[1], o)
            _mm._spread(36 * o * x.shape[1] * t, _nbk.conv_blocks, -(-t // tb), np.ascontiguousarray(x), top, left,
                        up, o, th, tw, b, y, tb)
        else:
            _mm._spread(36 * o * x.shape[1] * t, _nbk.gemm_output, -(-t // _nbk.TB), up, *_nbk.flat(v), o, n, th, tw,
                        b, y)
        return y
    if _numba_ok(v):
        m = _nbk.planes(36, u.shape[1], v.shape[2], v.dtype)
        _mm.bmm(u, v, out=m)
    else:
        m = xp_of(x).matmul(u, v)
    return output_transform(m, x.shape[0], out_hw, bias)


def conv_t(g, w, top, left, out_hw, bias=None):
    """The adjoint of ``conv`` in x: correlation of g with the flipped, transposed filter."""
    wf = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    return conv(g, wf, 2 - top, 2 - left, out_hw, bias)


def wgrad(v, g):
    """dw = G^T (Mg @ V^T) G: the weight gradient from the forward's V and the output gradient."""
    xp = xp_of(g)
    o = g.shape[1]
    mg = grad_transform(g)
    du = _mm.bmm(mg, v.transpose(0, 2, 1))                  # (36, O, C)
    c = du.shape[2]
    dw = _mats(xp, g.dtype)[3].T @ du.reshape(36, o * c)          # (9, O*C): G^T dU G for every (o, c)
    return xp.ascontiguousarray(dw.T).reshape(o, c, 3, 3)
