"""Pooling, sliding windows and resampling: PyTorch's max/avg/adaptive pools, unfold/fold, interpolate.

Everything works on (N, C, H, W) arrays (1-D ops add a unit H, unbatched inputs a unit N) and rests
on three pairs of primitives whose backward is the other member of the pair, so second derivatives
come for free:

- ``_gather_windows`` / ``_scatter_windows``: copy (or sum) every sliding window of a zero-padded
  input, and its adjoint, which adds window values back to their positions (unfold/fold, avg pools).
- the max pools: values picked at argmax positions; backward scatters ``g`` to those positions
  (``sorting._scatter_add_along``), whose own backward gathers (``sorting._take_along``).
- interpolation: one spatial dim at a time, a matmul with a constant (out, in) weight matrix
  (or, for non-finite inputs, ``nnops.index_select`` of the two neighbours times their weights).
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from . import _helpers
from ._helpers import Node, Tensor, attach, cnn_kernels, gm, wrap, xp_of
from .nnops import index_select as _index_select
from .nnops import pad_constant as _pad_constant
from .sorting import _scatter_add_along

# torch.* holds only these; the rest are torch.nn.functional's, for nerve.nn.functional to import
__all__ = ["adaptive_avg_pool1d", "adaptive_max_pool1d", "avg_pool1d", "max_pool1d", "max_pool1d_with_indices",
           "max_pool2d"]


# ============================================================================ argument parsing
def _ntuple(v, n, name, op, allow_empty=False):
    """``v`` (an int or a sequence of 1 or ``n`` ints) as a tuple of ``n`` ints."""
    if isinstance(v, (numbers.Integral,)) and not isinstance(v, bool):
        return (int(v),) * n
    if isinstance(v, (tuple, list)):
        if allow_empty and len(v) == 0:
            return None
        if len(v) in (1, n) and all(isinstance(e, numbers.Integral) for e in v):
            return tuple(int(e) for e in v) * (n if len(v) == 1 else 1)
    kind = "a single int, or a tuple of two ints" if n == 2 else "a single int"
    raise RuntimeError(f"{op}: {name} must either be {kind}, got {v!r}")


def _check_tensor(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")


def _batched(input, n_spatial, op):
    """``input`` as a (N, C, *spatial) tensor, and whether a batch dim was added (unbatched input)."""
    _check_tensor(input, op)
    shape = tuple(input.shape)
    nd = n_spatial + 2
    if input.dim() not in (nd - 1, nd) or any(s == 0 for s in shape[-(nd - 1):]):
        raise RuntimeError(
            f"{op}: Expected {nd - 1}D or {nd}D (batch mode) tensor with optional 0 dim batch size for "
            f"input, but got input of shape {shape}: (C, *spatial) or (N, C, *spatial) with non-zero "
            f"C and spatial sizes")
    if input.dim() == nd - 1:
        return input.unsqueeze(0), True
    return input, False


def _unbatch(out, added):
    return out.squeeze(0) if added else out


def _check_float(input, op):
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"{op}" not implemented for {input.dtype}: pass a floating-point tensor')


def _pool_out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape: the last window must start inside the input or left padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode, n):
    k = _ntuple(kernel_size, n, "kernel_size", op)
    s = _ntuple(stride, n, "stride", op, allow_empty=True) if stride is not None else None
    s = k if s is None else s
    p = _ntuple(padding, n, "padding", op)
    d = _ntuple(dilation, n, "dilation", op)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got {k}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{op}: stride must be greater than zero, but got {s}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{op}: dilation must be greater than zero, but got {d}")
    if any(pi < 0 or pi > ki // 2 for pi, ki in zip(p, k)):
        raise RuntimeError(f"{op}: pad should be at most half of kernel size, but got pad={p} and "
                           f"kernel_size={k}")
    insz = tuple(x.shape[-n:])
    out = tuple(_pool_out_size(i, ki, si, pi, di, ceil_mode) for i, ki, si, pi, di in zip(insz, k, s, p, d))
    if any(o < 1 for o in out):
        raise RuntimeError(f"{op}: Given input size {tuple(x.shape)}, calculated output size {out} is too "
                           f"small (kernel_size={k}, stride={s}, padding={p}, dilation={d}): each output "
                           f"size must be at least 1")
    return k, s, p, d, out


# ============================================================================ sliding windows
class _Geom:
    """A sliding-window layout over an (H, W) plane: kernel, stride, padding, dilation, output size."""

    __slots__ = ("d", "hw", "k", "out", "p", "s")

    def __init__(self, hw, k, s, p, d, out):
        self.hw, self.k, self.s, self.p, self.d, self.out = hw, k, s, p, d, out


def _windows(a, g: _Geom, fill):
    """A strided (N, C, oH, oW, kH, kW) view of the windows of ``a`` padded with ``fill``."""
    xp = xp_of(a)
    (H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = g.hw, g.k, g.s, g.p, g.d, g.out
    # ceil_mode windows may run past the right padding: pad far enough for the last one
    hh = max((oh - 1) * sh + (kh - 1) * dh + 1, H + 2 * ph)
    ww = max((ow - 1) * sw + (kw - 1) * dw + 1, W + 2 * pw)
    if (hh, ww) != (H, W):
        b = xp.full(a.shape[:2] + (hh, ww), fill, dtype=a.dtype)
        b[:, :, ph:ph + H, pw:pw + W] = a
        a = b
    n0, n1, n2, n3 = a.strides
    shape, strides = a.shape[:2] + (oh, ow, kh, kw), (n0, n1, n2 * sh, n3 * sw, n2 * dh, n3 * dw)
    if xp is np:
        return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(a, shape, strides)  # pragma: no cover - GPU


def _spread(gd, g: _Geom, reduce):
    """Adjoint of the window view: add window values back to their (unpadded) positions."""
    xp = xp_of(gd)
    (H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = g.hw, g.k, g.s, g.p, g.d, g.out
    hh = max((oh - 1) * sh + (kh - 1) * dh + 1, H + 2 * ph)
    ww = max((ow - 1) * sw + (kw - 1) * dw + 1, W + 2 * pw)
    if (sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and (ph, pw) == (0, 0) and (oh * kh, ow * kw) == (H, W):
        # windows tile the plane exactly: the adjoint is a broadcast (or transpose) and a reshape
        N, C = gd.shape[:2]
        if reduce:
            t = xp.broadcast_to(gd[:, :, :, None, :, None], (N, C, oh, kh, ow, kw))
        else:
            t = gd.transpose(0, 1, 4, 2, 5, 3)
        return t.reshape(N, C, H, W)
    z = xp.zeros(gd.shape[:2] + (hh, ww), dtype=gd.dtype)
    for i in range(kh):
        for j in range(kw):
            v = gd if reduce else gd[:, :, i, j]
            z[:, :, i * dh:i * dh + (oh - 1) * sh + 1:sh, j * dw:j * dw + (ow - 1) * sw + 1:sw] += v
    return z[:, :, ph:ph + H, pw:pw + W]


class GatherWindowsBackward(Node):
    __slots__ = ("geom", "reduce")

    def apply(self, g):
        return (_scatter_windows(g, self.geom, self.reduce),)


class ScatterWindowsBackward(Node):
    __slots__ = ("geom", "reduce")

    def apply(self, g):
        return (_gather_windows(g, self.geom, self.reduce),)


def _gather_windows(x, geom: _Geom, reduce):
    """The zero-padded windows of a (N, C, H, W) tensor: (N, C, kH, kW, oH, oW), or their sums
    (N, C, oH, oW) when ``reduce``. Gradient: ``_scatter_windows(g)``."""
    d = x._data
    w = _windows(d, geom, 0)
    if reduce:
        r = w.sum(axis=(4, 5))
    else:
        r = w.transpose(0, 1, 4, 5, 2, 3).copy()
    out = wrap(r)
    if gm.enabled and x.requires_grad:
        n = GatherWindowsBackward(x)
        n.geom, n.reduce = geom, reduce
        attach(out, n)
    return out


def _scatter_windows(g, geom: _Geom, reduce):
    """Adjoint of ``_gather_windows``: window values (or one value per window, added to each of its
    positions when ``reduce``) summed into a (N, C, H, W) plane. Gradient: ``_gather_windows(g)``."""
    r = _spread(g._data, geom, reduce)
    out = wrap(np.ascontiguousarray(r) if xp_of(r) is np else r.copy())
    if gm.enabled and g.requires_grad:
        n = ScatterWindowsBackward(g)
        n.geom, n.reduce = geom, reduce
        attach(out, n)
    return out


# ============================================================================ max pools
class MaxPoolBackward(Node):
    __slots__ = ("idx", "in_shape", "mask", "unique")

    def apply(self, g):
        N, C, H, W = self.in_shape
        if self.mask is not None:  # windows wholly in the padding pass no gradient
            g = g * wrap(self.mask)
        gg = g.reshape(N, C, self.idx.shape[2])
        return (_scatter_add_along(gg, self.idx, 2, (N, C, H * W), self.unique).reshape(N, C, H, W),)


def _pick(x, vals, idx, unique, mask=None):
    """``vals`` (the input's values at the flat plane positions ``idx``, those where ``mask`` is 0
    excepted) as a differentiable result."""
    out = wrap(vals)
    if gm.enabled and x.requires_grad:
        n = MaxPoolBackward(x)
        n.mask = mask
        n.idx = idx.reshape(idx.shape[0], idx.shape[1], math.prod(idx.shape[2:]))
        n.in_shape, n.unique = tuple(x._data.shape), unique
        attach(out, n)
    return out


def _argmax(win):
    """Position and value of each window's maximum (last axis): the first maximum, or the last NaN
    when a window holds NaNs (PyTorch's scan keeps taking NaNs)."""
    xp = xp_of(win)
    am = win.argmax(axis=-1)
    vals = xp.take_along_axis(win, am[..., None], axis=-1)[..., 0]
    if win.dtype.kind == "f":
        nan = xp.isnan(vals)
        if nan.any():
            last = win.shape[-1] - 1 - xp.isnan(win[..., ::-1]).argmax(axis=-1)
            am = xp.where(nan, last, am)
    return am, vals


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else (np.iinfo(dtype).min if dtype.kind in "iu" else False)


# Tiling windows (stride == kernel, no padding or dilation: MaxPool2d(2)) take a faster path. The
# general one gathers a copy of every window, argmaxes it and scatters the gradient by flat index:
# 15 ms for a (64, 32, 28, 28) forward + backward against PyTorch's 4 (profile_cnn_parts.py).
# Here the max is taken in two stages, across each window's columns (W) then its rows (H), each
# a chain of np.maximum over strided slices that also records which slice won (a uint8 code; a
# later slice wins only when strictly greater, so ties go to the first in scan order, as PyTorch).
# Backward undoes the stages: each places g at the winning slice and interleaves the slices.
def _first_max(slices):
    """Elementwise max of ``slices`` and the index of the first slice holding it (uint8)."""
    xp = xp_of(slices[0])
    m = slices[0].copy() if len(slices) == 1 else xp.maximum(slices[0], slices[1])
    code = xp.less(slices[0], slices[1]).view(np.uint8) if len(slices) > 1 else xp.zeros(m.shape, np.uint8)
    for j, v in enumerate(slices[2:], 2):
        gt = xp.greater(v, m)
        xp.maximum(m, v, out=m)
        code[gt] = j
    return m, code


def _interleave(g, code, k, axis):
    """Adjoint of one stage: ``g`` at slice ``code`` of ``k`` slices interleaved along ``axis``."""
    xp = xp_of(g)
    if k == 1:
        return g
    # each slice multiplied straight into its strided place: np.stack of the products cost 7x more
    r = xp.empty(g.shape[:axis + 1] + (k,) + g.shape[axis + 1:], dtype=g.dtype)
    lead = (slice(None),) * (axis + 1)
    for j in range(k):
        mask = (xp.logical_not(code.view(bool)) if j == 0 else code.view(bool)) if k == 2 else code == j
        xp.multiply(g, mask, out=r[lead + (j,)])
    shape = list(g.shape)
    shape[axis] *= k
    return r.reshape(shape)


class TileMaxPoolBackward(Node):
    __slots__ = ("ch", "cw", "idx", "in_shape", "k")

    def _spread(self, gd):
        """The gradient array: ``gd`` (N, C, oH, oW) at each window's first maximum."""
        xp = xp_of(gd)
        N, C, H, W = self.in_shape
        kh, kw = self.k
        oh, ow = gd.shape[2:]
        if self.idx is not None:  # the compiled kernel's window positions
            kern = _helpers._cnk
            gd = np.ascontiguousarray(gd, dtype=np.float32)
            r = np.empty(self.in_shape, np.float32)
            P = N * C
            kern.run(kern.max_pool_tiles_grad, P, gd.reshape(P, oh, ow), self.idx.reshape(P, oh, ow), kh, kw,
                     r.reshape(P, H, W))
            return r
        r = _interleave(_interleave(gd, self.ch, kh, 2), self.cw[:, :, :oh * kh], kw, 3)
        if r.shape[2:] != (H, W):
            z = xp.zeros((N, C, H, W), dtype=gd.dtype)
            z[:, :, :oh * kh, :ow * kw] = r
            r = z
        return r

    def apply(self, g):
        if gm.enabled:  # create_graph: g times a constant 0/1 mask, with nerve ops (linear in g)
            N, C, H, W = self.in_shape
            kh, kw = self.k
            oh, ow = g._data.shape[2:]
            mask = self._spread(xp_of(g._data).ones(g._data.shape, dtype=g._data.dtype))
            mask = wrap(mask[:, :, :oh * kh, :ow * kw].reshape(N, C, oh, kh, ow, kw))
            r = (g.reshape(N, C, oh, 1, ow, 1).expand(N, C, oh, kh, ow, kw) * mask).reshape(N, C, oh * kh, ow * kw)
            if (oh * kh, ow * kw) != (H, W):
                r = _pad_constant(r, [(0, 0), (0, 0), (0, H - oh * kh), (0, W - ow * kw)], 0)
            return (r,)
        return (wrap(self._spread(g._data)),)

    def release(self):
        super().release()
        self.ch = self.cw = self.idx = None


def _tile_max_pool(x, k, out):
    """Max over tiling windows of (N, C, H, W) ``x``; None when a window holds NaN (general path)."""
    a = x._data
    xp = xp_of(a)
    (kh, kw), (oh, ow) = k, out
    kern = cnn_kernels(a)
    if kern is not None:  # one threaded pass; positions as one uint8 per window (PyTorch's nan rule)
        N, C, H, W = a.shape
        P = N * C
        m = np.empty((N, C, oh, ow), a.dtype)
        idx = np.empty((N, C, oh, ow), np.uint8)
        if (kh, kw) == (2, 2):
            kern.run(kern.max_pool2_tiles, P, a.reshape(P, H, W), m.reshape(P, oh, ow), idx.reshape(P, oh, ow))
        else:
            kern.run(kern.max_pool_tiles, P, a.reshape(P, H, W), kh, kw, m.reshape(P, oh, ow), idx.reshape(P, oh, ow))
        res = wrap(m)
        if gm.enabled and x.requires_grad:
            n = TileMaxPoolBackward(x)
            n.ch = n.cw = None
            n.idx, n.k, n.in_shape = idx, k, tuple(a.shape)
            attach(res, n)
        return res
    mw, cw = _first_max([a[:, :, :, j:j + ow * kw:kw] for j in range(kw)])
    m, ch = _first_max([mw[:, :, i:i + oh * kh:kh] for i in range(kh)])
    res = wrap(m)
    if not (gm.enabled and x.requires_grad):
        return res
    if bool(xp.isnan(m).any()):
        return None  # PyTorch's choice among NaNs (the last) is the general path's
    n = TileMaxPoolBackward(x)
    n.ch, n.cw, n.idx, n.k, n.in_shape = ch, cw, None, k, tuple(a.shape)
    attach(res, n)
    return res


def _max_pool(op, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, n):
    x, added = _batched(input, n, op)
    if n == 1:
        x = x.unsqueeze(2)
    k, s, p, d, out = _pool_geometry(op, input, kernel_size, stride, padding, dilation, ceil_mode, n)
    if n == 1:
        k, s, p, d, out = (1,) + k, (1,) + s, (0,) + p, (1,) + d, (1,) + out
    a = x._data
    xp = xp_of(a)
    N, C, H, W = a.shape
    if (not return_indices and s == k and p == (0, 0) and d == (1, 1) and out[0] * k[0] <= H
            and out[1] * k[1] <= W and a.size and a.dtype.kind == "f" and k[0] * k[1] < 256):
        res = _tile_max_pool(x, k, out)
        if res is not None:
            return _unbatch(res.squeeze(2) if n == 1 else res, added)
    geom = _Geom((H, W), k, s, p, d, out)
    win = _windows(a, geom, _lowest(a.dtype))
    if not return_indices and not (gm.enabled and x.requires_grad):  # no positions needed: no copy
        res = wrap(win.max(axis=(4, 5)))
        return _unbatch(res.squeeze(2) if n == 1 else res, added)
    am, vals = _argmax(win.reshape(N, C, out[0], out[1], k[0] * k[1]))
    hs, ws = xp.arange(out[0]) * s[0] - p[0], xp.arange(out[1]) * s[1] - p[1]
    rows = hs[:, None] + (am // k[1]) * d[0]
    cols = ws + (am % k[1]) * d[1]
    # PyTorch's first real position of each window: where a maximum found in the padding goes (a
    # window of -inf values, or one lying wholly in the padding, which dilation allows)
    h0 = xp.where(hs < 0, hs + (-hs + d[0] - 1) // d[0] * d[0], hs)
    w0 = xp.where(ws < 0, ws + (-ws + d[1] - 1) // d[1] * d[1], ws)
    oob = (rows < 0) | (rows >= H) | (cols < 0) | (cols >= W)
    mask = None
    if oob.any():
        rows = xp.where(oob, h0[:, None], rows)
        cols = xp.where(oob, w0, cols)
        valid = ((h0 < H) & (h0 <= hs + (k[0] - 1) * d[0]))[:, None] & (w0 < W) & (w0 <= ws + (k[1] - 1) * d[1])
        if not valid.all():
            mask = valid.astype(a.dtype)
    idx = (rows * W + cols).astype(np.int64)
    # windows that cannot overlap pick each input position at most once
    unique = all(si >= (ki - 1) * di + 1 for si, ki, di in zip(s, k, d))
    res = _pick(x, vals, idx if mask is None else xp.where(mask > 0, idx, 0), unique and mask is None, mask)
    if n == 1:
        res, idx = res.squeeze(2), idx[:, :, 0]
    res = _unbatch(res, added)
    if not return_indices:
        return res
    ind = wrap(idx[0] if added else idx)
    return res, ind


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W) input, padded with -inf.

    ``return_indices`` also returns the flat position ``h * W + w`` of each maximum in its plane.
    Gradient: ``g`` scattered (summed) to the argmax positions.

    >>> max_pool2d(x, 2)            # 2x2 windows, stride 2
    """
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L) input; see ``max_pool2d``."""
    return _max_pool("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool2d`` returning ``(values, indices)``."""
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, True, 2)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool1d`` returning ``(values, indices)``."""
    return _max_pool("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, True, 1)


# ============================================================================ average pools
def _avg_divisors(size, k, s, p, out, count_include_pad):
    """Per-output window sizes along one dim (PyTorch's avg_pool divisor rule, separable in H and W)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return (end - start).astype(np.float64)
    return (np.minimum(end, size) - np.maximum(start, 0)).astype(np.float64)


def _avg_pool(op, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, n):
    x, added = _batched(input, n, op)
    if input._data.dtype.kind not in "fiu":
        raise NotImplementedError(f'"{op}" not implemented for {input.dtype}')
    if n == 1:
        x = x.unsqueeze(2)
    k, s, p, d, out = _pool_geometry(op, input, kernel_size, stride, padding, 1, ceil_mode, n)
    if n == 1:
        k, s, p, d, out = (1,) + k, (1,) + s, (0,) + p, (1,) + d, (1,) + out
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    a = x._data
    xp = xp_of(a)
    H, W = a.shape[2:]
    summed = _gather_windows(x, _Geom((H, W), k, s, p, d, out), True)
    if divisor_override is not None:
        div = np.full(out, float(divisor_override))
    else:
        div = np.multiply.outer(_avg_divisors(H, k[0], s[0], p[0], out[0], count_include_pad),
                                _avg_divisors(W, k[1], s[1], p[1], out[1], count_include_pad))
    if a.dtype.kind != "f":  # PyTorch divides integer sums with truncation
        r = summed._data
        res = wrap((np.trunc(r / div)).astype(a.dtype) if xp is np else xp.trunc(r / xp.asarray(div)).astype(a.dtype))
    else:
        div = np.where(div > 0, div, 1.0)  # a window wholly in padding sums to 0
        res = summed / wrap(xp.asarray(div.astype(a.dtype)))
    if n == 1:
        res = res.squeeze(2)
    return _unbatch(res, added)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W) input (zero padding).

    The divisor is ``divisor_override`` if given, else the window's size clipped to the padded input
    (``count_include_pad``) or to the input. Gradient: ``g / divisor`` spread over each window.
    """
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L) input; see ``avg_pool2d``."""
    return _avg_pool("avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


# ============================================================================ adaptive pools
def _adaptive_size(output_size, in_sizes, op):
    n = len(in_sizes)
    if isinstance(output_size, numbers.Integral) and not isinstance(output_size, bool):
        output_size = (int(output_size),) * n
    elif not isinstance(output_size, (tuple, list)) or len(output_size) != n:
        raise RuntimeError(f"{op}: output_size must be an int or a tuple of {n} ints (None keeps the input "
                           f"size), got {output_size!r}")
    out = tuple(i if o is None else int(o) for o, i in zip(output_size, in_sizes))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0 but received "
                           f"{tuple(output_size)}")
    return out


def _adaptive_bounds(size, out):
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _adaptive_matrix(size, out, dtype):
    """(out, size) averaging matrix: row i holds 1/len over PyTorch's adaptive window i."""
    start, end = _adaptive_bounds(size, out)
    pos = np.arange(size)
    m = (pos >= start[:, None]) & (pos < end[:, None])
    return (m / (end - start)[:, None]).astype(dtype)


def _adaptive_prep(op, input, output_size, n):
    x, added = _batched(input, n, op)
    _check_float(input, op)
    if n == 1:
        x = x.unsqueeze(2)
    in_sizes = tuple(input.shape[-n:])
    out = _adaptive_size(output_size, in_sizes, op)
    if n == 1:
        out, in_sizes = (1,) + out, (1,) + in_sizes
    return x, added, in_sizes, out


def _empty_pool(x, out):
    """An empty (N, C, *out) result whose gradient (zeros) still reaches ``x``."""
    xp = xp_of(x._data)
    return _pick(x, xp.zeros(x._data.shape[:2] + out, dtype=x._data.dtype),
                 xp.zeros(x._data.shape[:2] + out, dtype=np.int64), True)


def _adaptive_avg(op, input, output_size, n):
    x, added, (H, W), out = _adaptive_prep(op, input, output_size, n)
    if 0 in out:
        res = _empty_pool(x, out)
    elif out == (1, 1):  # global average: one contiguous reduction (the matmul path costs 4x PyTorch)
        res = x.mean((2, 3), keepdim=True)
    elif H % out[0] == 0 and W % out[1] == 0 and H * W <= 16 * out[0] * out[1]:  # small equal windows
        k = (H // out[0], W // out[1])
        res = _gather_windows(x, _Geom((H, W), k, k, (0, 0), (1, 1), out), True) / float(k[0] * k[1])
    else:
        xp = xp_of(x._data)
        dt = x._data.dtype
        ah = wrap(xp.asarray(_adaptive_matrix(H, out[0], dt)))
        aw = wrap(xp.asarray(_adaptive_matrix(W, out[1], dt).T.copy()))
        res = ah.matmul(x.matmul(aw))
    if n == 1:
        res = res.squeeze(2)
    return _unbatch(res, added)


def adaptive_avg_pool2d(input, output_size):
    """Average over PyTorch's adaptive windows ``[floor(i*H/oH), ceil((i+1)*H/oH))`` (N, C, oH, oW).

    ``output_size``: an int, or a pair whose ``None`` entries keep the input size. Gradient: ``g``
    spread evenly over each window.
    """
    return _adaptive_avg("adaptive_avg_pool2d", input, output_size, 2)


def adaptive_avg_pool1d(input, output_size):
    """1-D ``adaptive_avg_pool2d`` over (N, C, L) or (C, L) input."""
    return _adaptive_avg("adaptive_avg_pool1d", input, output_size, 1)


def _adaptive_max(op, input, output_size, return_indices, n):
    x, added, (H, W), out = _adaptive_prep(op, input, output_size, n)
    if 0 in out:
        res, idx = _empty_pool(x, out), xp_of(x._data).zeros(x._data.shape[:2] + out, dtype=np.int64)
        if n == 1:
            res, idx = res.squeeze(2), idx[:, :, 0]
        res = _unbatch(res, added)
        return (res, wrap(idx[0] if added else idx)) if return_indices else res
    a = x._data
    xp = xp_of(a)
    N, C = a.shape[:2]
    idx_dims = []
    for size, o in ((H, out[0]), (W, out[1])):
        start, end = _adaptive_bounds(size, o)
        kmax = int((end - start).max())
        # pad short windows by repeating their last position (the first maximum stays the same)
        idx_dims.append(np.minimum(start[:, None] + np.arange(kmax), end[:, None] - 1))
    ih, iw = idx_dims
    kh, kw = ih.shape[1], iw.shape[1]
    ihx, iwx = xp.asarray(ih), xp.asarray(iw)
    win = a[:, :, ihx[:, None, :, None], iwx[None, :, None, :]].reshape(N, C, out[0], out[1], kh * kw)
    am, vals = _argmax(win)
    rows = ihx[xp.arange(out[0])[:, None], am // kw]
    cols = iwx[xp.arange(out[1]), am % kw]
    idx = (rows * W + cols).astype(np.int64)
    res = _pick(x, vals, idx, False)
    if n == 1:
        res, idx = res.squeeze(2), idx[:, :, 0]
    res = _unbatch(res, added)
    if not return_indices:
        return res
    return res, wrap(idx[0] if added else idx)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over PyTorch's adaptive windows (see ``adaptive_avg_pool2d``); ``return_indices``
    also returns flat plane positions. Gradient: ``g`` scattered to the argmax positions."""
    return _adaptive_max("adaptive_max_pool2d", input, output_size, return_indices, 2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-D ``adaptive_max_pool2d`` over (N, C, L) or (C, L) input."""
    return _adaptive_max("adaptive_max_pool1d", input, output_size, return_indices, 1)


# ============================================================================ unfold / fold
def _im2col_geometry(op, hw, kernel_size, dilation, padding, stride):
    k = _ntuple(kernel_size, 2, "kernel_size", op)
    d = _ntuple(dilation, 2, "dilation", op)
    p = _ntuple(padding, 2, "padding", op)
    s = _ntuple(stride, 2, "stride", op)
    if any(v <= 0 for v in k + d + s) or any(v < 0 for v in p):
        raise RuntimeError(f"{op}: kernel_size {k}, dilation {d} and stride {s} must be positive and padding "
                           f"{p} non-negative")
    blocks = tuple((i + 2 * pi - di * (ki - 1) - 1) // si + 1 for i, ki, di, pi, si in zip(hw, k, d, p, s))
    if any(b < 1 for b in blocks):
        raise RuntimeError(f"{op}: Given input with spatial size {tuple(hw)}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, calculated shape of the array of sliding blocks as {blocks}, but its "
                           f"components must be at least one.")
    return _Geom(tuple(hw), k, s, p, d, blocks)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C*kH*kW, L), L the number of blocks.

    Column ``l`` holds block ``l`` (row-major over block positions), channel-major then kernel
    row-major. Gradient: ``fold(g)`` (overlapping blocks summed).
    """
    _check_tensor(input, "unfold")
    if input.dim() not in (3, 4) or any(s == 0 for s in input.shape[-3:]):
        raise RuntimeError(f"unfold: Expected 3D or 4D (batch mode) tensor for input with possible 0 batch size "
                           f"and non-zero dimensions for input, but got input of shape {tuple(input.shape)}")
    _check_float(input, "im2col")
    x, added = (input.unsqueeze(0), True) if input.dim() == 3 else (input, False)
    N, C, H, W = x.shape
    geom = _im2col_geometry("unfold", (H, W), kernel_size, dilation, padding, stride)
    cols = _gather_windows(x, geom, False).reshape(N, C * geom.k[0] * geom.k[1], geom.out[0] * geom.out[1])
    return _unbatch(cols, added)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into a tensor (col2im), the adjoint of ``unfold``: overlapping
    values are summed. (N, C*kH*kW, L) -> (N, C, *output_size). Gradient: ``unfold(g)``."""
    _check_tensor(input, "fold")
    if input.dim() not in (2, 3) or any(s == 0 for s in input.shape[-2:]):
        raise RuntimeError(f"fold: Expected 2D or 3D (batch mode) tensor for input with possible 0 batch size "
                           f"and non-zero dimensions for input, but got input of shape {tuple(input.shape)}")
    _check_float(input, "col2im")
    x, added = (input.unsqueeze(0), True) if input.dim() == 2 else (input, False)
    hw = _ntuple(output_size, 2, "output_size", "fold")
    geom = _im2col_geometry("fold", hw, kernel_size, dilation, padding, stride)
    N, CK, L = x.shape
    kk = geom.k[0] * geom.k[1]
    if CK % kk:
        raise RuntimeError(f"fold: Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size {geom.k}, but got input.size(1)={CK} (input shape {tuple(input.shape)})")
    if L != geom.out[0] * geom.out[1]:
        raise RuntimeError(f"fold: Given output_size={hw}, kernel_size={geom.k}, dilation={geom.d}, "
                           f"padding={geom.p}, stride={geom.s}, expected size of input's dimension 2 to match "
                           f"the calculated number of sliding blocks {geom.out[0]} * {geom.out[1]} = "
                           f"{geom.out[0] * geom.out[1]}, but got input.size(2)={L} (input shape "
                           f"{tuple(input.shape)})")
    cols = x.reshape(N, CK // kk, geom.k[0], geom.k[1], geom.out[0], geom.out[1])
    return _unbatch(_scatter_windows(cols, geom, False), added)


# ============================================================================ interpolate
_LINEAR = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _nearest_index(in_size, out_size, scale, exact, dtype, shortcut):
    """Source index per output position, rounded like PyTorch's CPU kernel (``floorf`` of the
    product computed in the input's precision). ``shortcut``: PyTorch's 2-D kernel copies a dim of
    unchanged size and halves indices for a doubled one, whatever the scale factor."""
    if shortcut and not exact:
        if out_size == in_size:
            return np.arange(out_size)
        if out_size == 2 * in_size:
            return np.arange(out_size) >> 1
    ft = np.float32 if dtype == np.float32 else np.float64
    sc = ft(1.0 / scale) if scale is not None and scale > 0 else ft(in_size) / ft(out_size)
    dst = np.arange(out_size)
    if exact:
        src = np.floor(((dst + 0.5) * np.float64(sc)).astype(np.float32))
    else:
        src = np.floor((dst.astype(ft) * sc).astype(np.float32))
    return np.minimum(src.astype(np.int64), in_size - 1)


def _linear_weights(in_size, out_size, scale, align_corners, dtype):
    """(i0, i1, w0, w1): the two source indices and weights per output position (PyTorch's rule)."""
    ft = np.float32 if dtype == np.float32 else np.float64
    dst = np.arange(out_size).astype(ft)
    if align_corners:
        sc = ft(in_size - 1) / ft(out_size - 1) if out_size > 1 else ft(0)
        src = sc * dst
    else:
        sc = ft(1.0 / scale) if scale is not None and scale > 0 else ft(in_size) / ft(out_size)
        src = np.maximum(sc * (dst + ft(0.5)) - ft(0.5), ft(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    lam = np.clip(src - i0.astype(ft), 0, 1).astype(ft)
    i1 = i0 + (i0 < in_size - 1)
    return i0, i1, (ft(1) - lam).astype(dtype), lam.astype(dtype)


def _resample_dim(x, dim, idx_w, nd):
    """Linear combination of ``x`` taken at two index arrays along ``dim`` (one for nearest)."""
    d = x._data
    xp = xp_of(d)
    n_in, n_out = d.shape[dim], len(idx_w[0])
    if n_in * n_out <= (1 << 20) and bool(xp.isfinite(d).all()):
        # a (out, in) interpolation matrix: BLAS beats gathers, and its backward beats scatter-adds;
        # exact zeros leave the result unchanged (not so for inf/nan inputs, hence the check)
        m = np.zeros((n_out, n_in), dtype=d.dtype)
        rows = np.arange(n_out)
        if len(idx_w) == 1:
            m[rows, idx_w[0]] = 1
        else:
            np.add.at(m, (rows, idx_w[0]), idx_w[2])
            np.add.at(m, (rows, idx_w[1]), idx_w[3])
        if dim == nd - 1:
            return x.matmul(wrap(xp.asarray(m.T.copy())))
        return wrap(xp.asarray(m)).matmul(x)
    if len(idx_w) == 1:
        return _index_select(x, dim, xp.asarray(idx_w[0]))
    i0, i1, w0, w1 = idx_w
    shape = [1] * nd
    shape[dim] = len(i0)
    a = _index_select(x, dim, xp.asarray(i0)) * wrap(xp.asarray(w0.reshape(shape)))
    b = _index_select(x, dim, xp.asarray(i1)) * wrap(xp.asarray(w1.reshape(shape)))
    return a + b


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample (N, C, *spatial) input to ``size`` or by ``scale_factor``.

    Modes: 'nearest', 'nearest-exact', 'linear' (3-D input), 'bilinear' (4-D input) with
    ``align_corners``, and 'area' (adaptive average pooling). Each spatial dim is resampled by
    a constant (out, in) weight matrix ``M``: ``y = M x``, so the gradient is ``M^T g``.

    >>> interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    """
    _check_tensor(input, "interpolate")
    op = "interpolate"
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif mode in _LINEAR:
        align_corners = bool(align_corners) if align_corners is not None else False
    else:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported: expected 'nearest', "
                                  "'nearest-exact', 'linear', 'bilinear' or 'area'")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    nd = input.dim()
    dim = nd - 2
    if dim < 1:
        raise ValueError(f"interpolate: expected (N, C, *spatial) input with at least 3 dims, got input of "
                         f"shape {tuple(input.shape)}")
    in_sizes = tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(in_sizes)} and output size of {size}. "
                                 "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size "
                                 "in (o1, o2, ...,oK) format.")
            if not all(isinstance(s, numbers.Integral) for s in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] ..., but got size with types "
                                f"{[type(s) for s in size]}")
            out = tuple(int(s) for s in size)
        else:
            out = (int(size),) * dim
        scales = (None,) * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but "
                                 f"got input with spatial dimensions of {list(in_sizes)} and scale_factor of "
                                 f"shape {scale_factor}.")
            scales = tuple(float(s) for s in scale_factor)
        else:
            scales = (float(scale_factor),) * dim
        out = tuple(math.floor(i * s) for i, s in zip(in_sizes, scales))
        if recompute_scale_factor or mode == "area":
            scales = (None,) * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if mode == "area":
        if dim == 1:
            return adaptive_avg_pool1d(input, out)
        if dim == 2:
            return adaptive_avg_pool2d(input, out)
        raise NotImplementedError(f"interpolate: 'area' mode supports 3-D and 4-D input, got {nd}-D")
    if mode in _LINEAR and _LINEAR[mode] != dim:
        raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs {_LINEAR[mode] + 2}D input")
    if mode in ("bicubic", "trilinear"):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported: expected 'nearest', "
                                  "'nearest-exact', 'linear', 'bilinear' or 'area'")
    if dim > 2:
        raise NotImplementedError(f"interpolate: {nd}-D input is not supported (3-D and 4-D are)")
    if any(o <= 0 for o in out) or any(i <= 0 for i in in_sizes):
        raise RuntimeError(f"{op}: Input and output sizes should be greater than 0, but got input "
                           f"{tuple(input.shape)} and output size {out}")
    _check_float(input, f"upsample_{mode}")
    res = input
    for j in range(dim - 1, -1, -1):
        if mode in _LINEAR and in_sizes[j] == out[j]:
            continue  # PyTorch copies a dim whose size is unchanged, whatever the scale factor
        if mode in _LINEAR:
            iw = _linear_weights(in_sizes[j], out[j], scales[j], align_corners, input._data.dtype)
        else:
            iw = (_nearest_index(in_sizes[j], out[j], scales[j], mode == "nearest-exact", input._data.dtype,
                                 dim == 2),)
        res = _resample_dim(res, 2 + j, iw, nd)
    return input.clone() if res is input else res


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (PyTorch's ``F.upsample``)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """``interpolate(input, size, scale_factor, mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
