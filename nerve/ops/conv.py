"""Convolutions: conv1d, conv2d, conv_transpose1d, conv_transpose2d (PyTorch's signatures and semantics).

Three private 2-d primitives carry every derivative, and each one's gradients are the other two, so
derivatives of any order are themselves differentiable nerve ops:

- ``_conv``    y = conv(x, w):        dx = _conv_t(gy, w),  dw = _wgrad(x, gy),  db = sum(gy)
- ``_conv_t``  z = conv_t(g, w):      dg = _conv(gz, w),    dw = _wgrad(gz, g)
- ``_wgrad``   dw = wgrad(x, g):      dx = _conv_t(g, gdw), dg = _conv(x, gdw)

(``_conv_t`` is the adjoint of ``_conv`` in x, and ``_wgrad`` its adjoint in w: <g, conv(x, w)> is
trilinear, and each primitive is one of its three partial derivatives.)

The forward passes use im2col: a strided view of the padded input (no copy until one contiguous
copy of the columns) and one batched GEMM over the groups, which runs in BLAS. ``_conv_t`` is the
GEMM followed by col2im (one strided add per kernel offset). conv1d and conv_transpose1d are the
2-d ops on a unit height.

All channel layouts follow PyTorch: conv weight ``(out, in / groups, kH, kW)``, transposed-conv weight
``(in, out / groups, kH, kW)``; both are ``(G * A, B, kH, kW)`` with the GEMM contracting over ``B``.
"""
from __future__ import annotations

import numbers
import os

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import Tensor, wrap
from . import _gemm as _mm
from . import _winograd as wino
from ._helpers import attach, cnn_kernels, xp_of
from .reduce import sum as _sum
from .shape import squeeze, unsqueeze

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


# ============================================================================ array kernels
# "auto": Winograd F(4x4, 3x3) where it serves and pays (see _winograd.applicable), else im2col;
# "im2col" / "winograd" force one (Winograd still only where it applies: 3x3, stride 1, no dilation
# or groups). Read once from NERVE_CONV_ALGO; tests switch it to check both paths against PyTorch.
ALGO = os.environ.get("NERVE_CONV_ALGO", "auto")


def _use_wino(x, w_shape, stride, dilation, groups):
    # float16 keeps im2col: the transforms' coefficients (up to 8 and 1/24) cost it most of its 11 bits.
    if ALGO == "im2col" or x.dtype.itemsize < 4 or not wino.structural(w_shape, stride, dilation, groups):
        return False
    return ALGO == "winograd" or wino.applicable(x.shape, w_shape)


def _direct(x, w_shape, stride, dilation, groups):
    """The compiled direct kernels (nerve/ops/_cnn_numba.py) when they serve: stride 1, few input taps."""
    if ALGO != "auto" or tuple(stride) != (1, 1) or tuple(dilation) != (1, 1) or groups != 1:
        return None
    kern = cnn_kernels(x)
    return kern if kern is not None and w_shape[1] * w_shape[2] * w_shape[3] <= kern.DIRECT_TAPS else None


class _WinoCols:
    """The forward's Winograd input transform, kept for the weight gradient."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v


def _as_strided(xp, a, shape, strides):
    if xp is np:
        return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def _pad(xp, x, pads):
    """Zero-pad the last two dims of ``x`` by (top, bottom, left, right)."""
    t, b, l, r = pads
    if not (t or b or l or r):
        return x
    n, c, h, w = x.shape
    out = xp.zeros((n, c, h + t + b, w + l + r), dtype=x.dtype)
    out[:, :, t:t + h, l:l + w] = x
    return out


def _cols(xp, xp_, groups, k, stride, dilation, out_hw):
    """im2col of an already padded ``(N, C, Hp, Wp)`` array: ``(G, C/G * kH * kW, N * Ho * Wo)``.

    Batch and space share the GEMM's long axis, so each group is one large 2-d GEMM, and the weight
    gradient needs no sum over per-sample products (np.matmul of a (1, O, K) weight broadcast against
    (N, 1, K, P) columns measured 25x slower than the same work as one 2-d GEMM).
    """
    n, c, _, _ = xp_.shape
    cg = c // groups
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = k, stride, dilation, out_hw
    s0, s1, s2, s3 = xp_.strides
    v = _as_strided(xp, xp_, (groups, cg, kh, kw, n, ho, wo),
                    (s1 * cg, s1, s2 * dh, s3 * dw, s0, s2 * sh, s3 * sw))
    return xp.ascontiguousarray(v).reshape(groups, cg * kh * kw, n * ho * wo)


def _gemm(a, b):
    """Per-group 2-d matmul of (G, M, K) and (G, K, P) stacks."""
    if a.shape[0] == 1:
        return _mm.matmul(a[0], b[0])[None]
    return _mm.bmm(a, b)


def _to_nchw(xp, y, n, hw, bias=None):
    """(C, N * H * W) -> a contiguous (N, C, H, W), adding the bias on the way."""
    c = y.shape[0]
    v = y.reshape(c, n, hw[0], hw[1]).transpose(1, 0, 2, 3)
    out = xp.empty((n, c, hw[0], hw[1]), dtype=y.dtype)
    if bias is None:
        out[...] = v
    else:
        xp.add(v, bias.reshape(1, c, 1, 1), out=out)
    return out


def _grouped_g(xp, g, groups):
    """(N, O, Ho, Wo) -> (G, O/G, N * Ho * Wo)."""
    n, o, ho, wo = g.shape
    return xp.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(groups, o // groups, n * ho * wo)


def _conv_arr(x, w, stride, pads, dilation, groups, out_hw, bias=None, cols=None):
    if isinstance(cols, _WinoCols) or (cols is None and _use_wino(x, w.shape, stride, dilation, groups)):
        return wino.conv(x, w, pads[0], pads[2], out_hw, bias, None if cols is None else cols.v)
    xp = xp_of(x)
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    kern = _direct(x, w.shape, stride, dilation, groups) if cols is None else None
    if kern is not None:
        y = np.empty((n, o) + tuple(out_hw), x.dtype)
        kern.spread(kern.direct_conv, n, _pad(xp, x, pads), np.ascontiguousarray(w), wino.bias_vector(bias, o, x.dtype),
                    y)
        return y
    if cols is None:
        cols = _cols(xp, _pad(xp, x, pads), groups, (kh, kw), stride, dilation, out_hw)
    y = _gemm(w.reshape(groups, o // groups, cg * kh * kw), cols)  # (G, O/G, N*Ho*Wo)
    return _to_nchw(xp, y.reshape(o, -1), n, out_hw, bias)


def _conv_t_arr(g, w, stride, pads, dilation, groups, out_hw, bias=None):
    """The adjoint of ``_conv_arr`` in x: GEMM into columns, then col2im (scatter-add per offset)."""
    if _use_wino(g, w.shape, stride, dilation, groups):
        return wino.conv_t(g, w, pads[0], pads[2], out_hw, bias)
    xp = xp_of(g)
    n, o, ho, wo = g.shape
    _, cg, kh, kw = w.shape
    (sh, sw), (dh, dw), (h, wd) = stride, dilation, out_hw
    t, _, l, _ = pads
    wt = xp.ascontiguousarray(w.reshape(groups, o // groups, cg * kh * kw).transpose(0, 2, 1))
    cols = _gemm(wt, _grouped_g(xp, g, groups)).reshape(groups * cg, kh, kw, n, ho, wo)
    hf = max(t + h, (ho - 1) * sh + dh * (kh - 1) + 1)
    wf = max(l + wd, (wo - 1) * sw + dw * (kw - 1) + 1)
    full = xp.zeros((groups * cg, n, hf, wf), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            full[:, :, i * dh:i * dh + (ho - 1) * sh + 1:sh, j * dw:j * dw + (wo - 1) * sw + 1:sw] += cols[:, i, j]
    return _to_nchw(xp, full[:, :, t:t + h, l:l + wd], n, out_hw, bias)


def _wgrad_arr(x, g, k, stride, pads, dilation, groups, cols=None):
    """dw[o, c, i, j] = sum over n, p, q of g[n, o, p, q] * x_padded[n, c, p*s + i*d, q*s + j*d]."""
    if isinstance(cols, _WinoCols):
        return wino.wgrad(cols.v, g)
    if cols is None and _use_wino(x, (g.shape[1], x.shape[1] // groups) + tuple(k), stride, dilation, groups):
        return wino.wgrad(wino.input_transform(x, pads[0], pads[2], g.shape[2:]), g)
    xp = xp_of(x)
    _, o, ho, wo = g.shape
    c = x.shape[1]
    kern = _direct(x, (o, c // groups) + tuple(k), stride, dilation, groups) if cols is None else None
    if kern is not None and g.dtype == x.dtype:
        dw = np.empty((o, c) + tuple(k), x.dtype)
        kern.spread(kern.direct_wgrad, o, _pad(xp, x, pads), np.ascontiguousarray(g), dw)
        return dw
    if cols is None:
        cols = _cols(xp, _pad(xp, x, pads), groups, k, stride, dilation, (ho, wo))
    # Computed as (cols @ g^T)^T: with the long N*Ho*Wo axis as the inner dim of both row-major operands,
    # OpenBLAS ran this 3x faster (and far steadier under load) than g @ cols^T.
    dwt = _gemm(cols, _grouped_g(xp, g, groups).transpose(0, 2, 1))  # (G, C/G*kH*kW, O/G)
    return xp.ascontiguousarray(dwt.transpose(0, 2, 1)).reshape(o, c // groups, k[0], k[1])


# ============================================================================ primitives
class _Conf:
    """stride, (top, bottom, left, right) padding, dilation, groups of one 2-d convolution."""

    __slots__ = ("dilation", "groups", "pads", "stride")

    def __init__(self, stride, pads, dilation, groups):
        self.stride, self.pads, self.dilation, self.groups = stride, pads, dilation, groups


def _hw(t):
    return tuple(t._data.shape[2:])


class ConvolutionBackward(Node):
    __slots__ = ("cols", "conf")

    def apply(self, g):
        x, w = self.saved_tensors
        c = self.conf
        gx = gw = gb = None
        # the weight gradient first: it frees the forward's kept columns before the input gradient
        # makes its own transforms (measured: the 4-conv benchmark step's peak 186 -> 177 MB)
        if self.next[1] is not None:
            gw = _wgrad(x, g, c, tuple(w._data.shape[2:]), self.cols)
        self.cols = None
        if self.next[0] is not None:
            gx = _conv_t(g, w, None, c, _hw(x))
        if self.next[2] is not None:
            gb = _sum(g, (0, 2, 3))
        return gx, gw, gb


class ConvolutionTransposeBackward(Node):
    __slots__ = ("conf",)

    def apply(self, g):
        x, w = self.saved_tensors
        c = self.conf
        gx = gw = gb = None
        if self.next[0] is not None:
            gx = _conv(g, w, None, c, _hw(x))
        if self.next[1] is not None:
            gw = _wgrad(g, x, c, tuple(w._data.shape[2:]))
        if self.next[2] is not None:
            gb = _sum(g, (0, 2, 3))
        return gx, gw, gb


class ConvolutionWeightBackward(Node):
    __slots__ = ("conf",)

    def apply(self, gdw):
        x, g = self.saved_tensors
        c = self.conf
        gx = gg = None
        if self.next[0] is not None:
            gx = _conv_t(g, gdw, None, c, _hw(x))
        if self.next[1] is not None:
            gg = _conv(x, gdw, None, c, _hw(g))
        return gx, gg


def _conv(x, w, bias, conf, out_hw, keep_cols=False):
    """Cross-correlation of 4-d ``x`` with 4-d ``w`` producing ``out_hw`` (checked by the callers)."""
    xd, wd = x._data, w._data
    cols = None
    if keep_cols and gm.enabled and w.requires_grad:
        # The forward's columns are the weight gradient's too: keep them rather than rebuild them.
        if _use_wino(xd, wd.shape, conf.stride, conf.dilation, conf.groups):
            cols = _WinoCols(wino.input_transform(xd, conf.pads[0], conf.pads[2], out_hw))
        elif _direct(xd, wd.shape, conf.stride, conf.dilation, conf.groups) is not None:
            pass  # the direct kernels read x itself
        else:
            xp = xp_of(xd)
            cols = _cols(xp, _pad(xp, xd, conf.pads), conf.groups, wd.shape[2:], conf.stride, conf.dilation,
                         out_hw)
    y = _conv_arr(xd, wd, conf.stride, conf.pads, conf.dilation, conf.groups, out_hw,
                  None if bias is None else bias._data, cols)
    out = wrap(y)
    if gm.enabled and (x.requires_grad or w.requires_grad or (bias is not None and bias.requires_grad)):
        n = ConvolutionBackward(x, w, bias)
        n.conf = conf
        n.cols = cols
        n.save(x, w)
        attach(out, n)
    return out


def _conv_t(g, w, bias, conf, out_hw):
    """The transpose (adjoint in the input) of ``_conv``, producing spatial size ``out_hw``."""
    y = _conv_t_arr(g._data, w._data, conf.stride, conf.pads, conf.dilation, conf.groups, out_hw,
                    None if bias is None else bias._data)
    out = wrap(y)
    if gm.enabled and (g.requires_grad or w.requires_grad or (bias is not None and bias.requires_grad)):
        n = ConvolutionTransposeBackward(g, w, bias)
        n.conf = conf
        n.save(g, w)
        attach(out, n)
    return out


def _wgrad(x, g, conf, k, cols=None):
    """The gradient of ``_conv`` in its weight, as a differentiable op of (x, g)."""
    dw = _wgrad_arr(x._data, g._data, k, conf.stride, conf.pads, conf.dilation, conf.groups, cols)
    out = wrap(dw)
    if gm.enabled and (x.requires_grad or g.requires_grad):
        n = ConvolutionWeightBackward(x, g)
        n.conf = conf
        n.save(x, g)
        attach(out, n)
    return out


# ============================================================================ argument checks
def _tuple(v, n, name, op):
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    if isinstance(v, numbers.Integral):
        return (int(v),) * n
    try:
        t = tuple(int(a) for a in v)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}") from None
    if len(t) == 1 and n > 1:
        t = t * n
    if len(t) != n:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of {n} values to match "
                           f"the convolution dimensions, but got {name}={list(t)}")
    return t


def _shape(a):
    return tuple(a._data.shape)


def _check_tensors(op, input, weight, bias, nd, transposed):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        bad = "input" if not isinstance(input, Tensor) else "weight"
        raise TypeError(f"{op}(): argument '{bad}' must be a Tensor, not "
                        f"{type(input if bad == 'input' else weight).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}(): argument 'bias' must be a Tensor or None, not {type(bias).__name__}")
    dims = "(N, C, H, W)" if nd == 2 else "(N, C, L)"
    udims = "(C, H, W)" if nd == 2 else "(C, L)"
    if input._data.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected input with {nd + 2} dims {dims} or {nd + 1} {udims}, got "
                           f"{_shape(input)}")
    if weight._data.ndim != nd + 2:
        wdims = ("(in_channels, out_channels/groups, " if transposed else "(out_channels, in_channels/groups, ") + \
            ("kH, kW)" if nd == 2 else "kL)")
        raise RuntimeError(f"{op}: expected weight with {nd + 2} dims {wdims}, got {_shape(weight)}")
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and t._data.dtype.kind != "f":
            raise RuntimeError(f"{op}: expected floating-point {name}, got {t.dtype} (convert it with .float())")
    if input._data.dtype != weight._data.dtype or (bias is not None and bias._data.dtype != input._data.dtype):
        who = ("weight", weight) if input._data.dtype != weight._data.dtype else ("bias", bias)
        raise RuntimeError(f"{op}: Input type ({input.dtype}) and {who[0]} type ({who[1].dtype}) should be the "
                           "same")


def _check_common(op, stride, dilation, groups, padding=None):
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported (groups={groups})")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: non-positive stride is not supported (stride={stride})")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}: dilation should be greater than zero (dilation={dilation})")
    if padding is not None and any(p < 0 for p in padding):
        raise RuntimeError(f"{op}: negative padding is not supported (padding={padding})")


def _fmt(s):
    return "[" + ", ".join(str(v) for v in s) + "]"


# ============================================================================ public ops
def _convnd(op, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_tensors(op, input, weight, bias, nd, False)
    stride = _tuple(stride, nd, "stride", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    same = False
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions "
                                   f"(stride={stride})")
            same, pad = True, None
        else:
            raise RuntimeError(f"{op}: Invalid padding string: '{padding}' (expected 'same' or 'valid')")
    else:
        pad = _tuple(padding, nd, "padding", op)
    _check_common(op, stride, dilation, groups, pad)
    unbatched = input._data.ndim == nd + 1
    x = unsqueeze(input, 0) if unbatched else input
    w = weight
    ws = _shape(weight)
    if ws[0] % groups:
        raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be divisible by {groups} at dimension "
                           f"0, but got weight of size {_fmt(ws)} instead")
    if x._data.shape[1] != ws[1] * groups:
        raise RuntimeError(f"{op}: Given groups={groups}, weight of size {_fmt(ws)}, expected input"
                           f"{_fmt(_shape(input))} to have {ws[1] * groups} channels, but got "
                           f"{x._data.shape[1]} channels instead")
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != ws[0]):
        raise RuntimeError(f"{op}: Given weight of size {_fmt(ws)}, expected bias to be 1-dimensional with "
                           f"{ws[0]} elements, but got bias of size {_fmt(_shape(bias))} instead")
    if nd == 1:  # a unit height: (N, C, L) -> (N, C, 1, L)
        x, w = unsqueeze(x, 2), unsqueeze(weight, 2)
        stride, dilation = (1,) + stride, (1,) + dilation
        pad = None if same else (0,) + pad
    k = tuple(w._data.shape[2:])
    if same:
        pads = []
        for kk, d in zip(k, dilation):
            total = d * (kk - 1)
            pads += [total // 2, total - total // 2]
    else:
        pads = [pad[0], pad[0], pad[1], pad[1]]
    hw = tuple(x._data.shape[2:])
    out_hw = tuple((hw[i] + pads[2 * i] + pads[2 * i + 1] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1
                   for i in range(2))
    if any(v <= 0 for v in out_hw):
        padded = tuple(hw[i] + pads[2 * i] + pads[2 * i + 1] for i in range(2))[2 - nd:]
        eff = tuple(dilation[i] * (k[i] - 1) + 1 for i in range(2))[2 - nd:]
        raise RuntimeError(f"{op}: Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                           f"Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual "
                           f"input size (input {_shape(input)}, weight {ws})")
    conf = _Conf(stride, tuple(pads), dilation, groups)
    out = _conv(x, w, bias, conf, out_hw, keep_cols=True)
    if nd == 1:
        out = squeeze(out, 2)
    return squeeze(out, 0) if unbatched else out


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation, as ``torch.nn.functional.conv2d``.

    Shapes: input ``(N, C_in, H, W)`` or ``(C_in, H, W)``, weight ``(C_out, C_in / groups, kH, kW)``,
    bias ``(C_out,)``; output ``(N, C_out, H_out, W_out)`` with
    ``H_out = (H + 2 * padding - dilation * (kH - 1) - 1) // stride + 1``. ``padding`` may be an int, a pair,
    ``'valid'`` (0) or ``'same'`` (output size = input size; stride 1; extra padding on the bottom/right).

    Gradients: d input = conv_transpose2d(g, weight) (same stride/padding/dilation/groups, output padding
    to the input's size); d weight = correlation of the input with g (dilated by the stride);
    d bias = g summed over (N, H, W). Each is a differentiable op, so higher derivatives work.

    Example::

        >>> y = conv2d(x, w, padding=1)          # x (64, 3, 28, 28), w (16, 3, 3, 3) -> (64, 16, 28, 28)
    """
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation, as ``torch.nn.functional.conv1d``: conv2d on a unit height.

    Shapes: input ``(N, C_in, L)`` or ``(C_in, L)``, weight ``(C_out, C_in / groups, k)``, bias ``(C_out,)``.
    Gradients as conv2d's.
    """
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    _check_tensors(op, input, weight, bias, nd, True)
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be an int or a tuple of ints, not str ({padding!r}); "
                        "transposed convolutions take no 'same'/'valid' padding")
    stride = _tuple(stride, nd, "stride", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    pad = _tuple(padding, nd, "padding", op)
    opad = _tuple(output_padding, nd, "output_padding", op)
    _check_common(op, stride, dilation, groups, pad)
    if any(p < 0 for p in opad):
        raise RuntimeError(f"{op}: negative output_padding is not supported (output_padding={opad})")
    for p, s, d in zip(opad, stride, dilation):
        if p >= s and p >= d:
            raise RuntimeError(f"{op}: output padding must be smaller than either stride or dilation, but got "
                               f"output_padding={opad}, stride={stride}, dilation={dilation}")
    unbatched = input._data.ndim == nd + 1
    x = unsqueeze(input, 0) if unbatched else input
    ws = _shape(weight)
    if x._data.shape[1] != ws[0]:
        raise RuntimeError(f"{op}: Given transposed=1, weight of size {_fmt(ws)}, expected input"
                           f"{_fmt(_shape(input))} to have {ws[0]} channels, but got {x._data.shape[1]} channels "
                           "instead")
    if ws[0] % groups:
        raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be divisible by {groups} at dimension "
                           f"0, but got weight of size {_fmt(ws)} instead")
    c_out = ws[1] * groups
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != c_out):
        raise RuntimeError(f"{op}: Given transposed=1, weight of size {_fmt(ws)}, expected bias to be 1-dimensional "
                           f"with {c_out} elements, but got bias of size {_fmt(_shape(bias))} instead")
    w = weight
    if nd == 1:
        x, w = unsqueeze(x, 2), unsqueeze(weight, 2)
        stride, dilation, pad, opad = (1,) + stride, (1,) + dilation, (0,) + pad, (0,) + opad
    k = tuple(w._data.shape[2:])
    hw = tuple(x._data.shape[2:])
    out_hw = tuple((hw[i] - 1) * stride[i] - 2 * pad[i] + dilation[i] * (k[i] - 1) + opad[i] + 1 for i in range(2))
    if any(v <= 0 for v in out_hw):
        raise RuntimeError(f"{op}: Given input size per channel: ({' x '.join(map(str, hw[2 - nd:]))}). Calculated "
                           f"output size per channel: ({' x '.join(map(str, out_hw[2 - nd:]))}). Output size is too "
                           f"small (weight {ws}, stride {stride[2 - nd:]}, padding {pad[2 - nd:]})")
    conf = _Conf(stride, (pad[0], pad[0], pad[1], pad[1]), dilation, groups)
    out = _conv_t(x, w, bias, conf, out_hw)
    if nd == 1:
        out = squeeze(out, 2)
    return squeeze(out, 0) if unbatched else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-d transposed convolution ("deconvolution"), as ``torch.nn.functional.conv_transpose2d``.

    The adjoint of conv2d in its input. Shapes: input ``(N, C_in, H, W)`` or ``(C_in, H, W)``, weight
    ``(C_in, C_out / groups, kH, kW)``, bias ``(C_out,)``; output ``H_out = (H - 1) * stride - 2 * padding
    + dilation * (kH - 1) + output_padding + 1``.

    Gradients: d input = conv2d(g, weight) (same stride/padding/dilation/groups); d weight = the
    correlation of g with the input; d bias = g summed over (N, H, W).
    """
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-d transposed convolution, as ``torch.nn.functional.conv_transpose1d``: conv_transpose2d on a unit
    height. Shapes: input ``(N, C_in, L)`` or ``(C_in, L)``, weight ``(C_in, C_out / groups, k)``."""
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)
