"""Neural-network primitives on Tensors: softmax, log_softmax and fused losses.

The public ops are ``softmax`` and ``log_softmax`` (also Tensor methods). The private primitives
below exist because their composites are slow or numerically unstable; ``nerve.nn.functional``
builds the user-facing functions from them:

- ``softmax_cross_entropy``: log_softmax and a weighted pick of the log-probabilities in one node.
- ``bce_with_logits``: ``max(x, 0) - x*y + log1p(exp(-|x|))`` with an exact gradient at 0.
- ``softplus``: stable ``log1p(exp(beta x)) / beta`` with PyTorch's linear threshold region.
- ``pick``: ``take_along_axis`` with one index per slice (nll_loss).
- ``index_select`` / ``index_add``: rows by integer index and their transpose (embedding, pad).
- ``pad_constant``: constant padding, negative widths crop (pad, glu's halves).
- ``layer_norm``: normalisation over the trailing dims.
- ``batch_norm_train``: batch-statistics normalisation per channel and the affine in one node
  (four NumPy passes forward and six backward, where the composite took about twenty).
- ``linear``: ``x @ W^T + b`` in one node. As a composite (matmul of a transposed view, then add),
  backward produced ``dW`` as a transposed view that had to be copied into a contiguous ``.grad``
  (about 5 ms per 1024x1024 weight, a third of an MLP step; benchmarks/bench_core.py).

Each backward is written with nerve ops. Where a forward's intermediates (probabilities, the
normalised input) are reused by backward, they are taken from saved arrays when no graph is being
recorded, and recomputed with differentiable ops under ``create_graph`` so second derivatives are right.
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import Tensor, wrap
from ..backend import dtypes as _dt
from ._helpers import attach, cnn_kernels, register_methods, result_dtype, wrap_dim, xp_of
from .elementwise import exp, rsqrt, sigmoid, where
from .index import _scatter_add_into
from . import _gemm
from .linalg import matmul
from .shape import cast, reshape, transpose, unsqueeze


# ============================================================================ linear
class LinearBackward(Node):
    __slots__ = ("x2",)

    def apply(self, g):
        x, w = self.saved_tensors
        lead = g._data.shape[:-1]
        g2 = reshape(g, (-1, g._data.shape[-1])) if len(lead) != 1 else g
        gx = gw = gb = None
        if self.next[0] is not None:
            gx = matmul(g, w)
        if self.next[1] is not None:
            if self.x2 is not None and not gm.enabled:   # the forward's flattened copy of a strided input
                x2 = wrap(self.x2)
            else:
                x2 = reshape(x, (-1, x._data.shape[-1])) if len(lead) != 1 else x
            gw = matmul(transpose(g2, 0, 1), x2)  # (out, in): contiguous, no copy needed for .grad
        if self.next[2] is not None:
            gb = g2.sum(0)
        return gx, gw, gb

    def release(self):
        super().release()
        self.x2 = None


def linear(input, weight, bias=None):
    """``input @ weight^T + bias`` as one node (shapes already checked by nn.functional.linear).

    Gradients: dx = g @ W, dW = g^T @ x (over flattened leading dims), db = sum of g over them.
    """
    xd, wd = input._data, weight._data
    if xd.dtype != wd.dtype:
        raise RuntimeError(f"linear: expected input and weight to have the same dtype, but got {input.dtype} "
                           f"and {weight.dtype}")
    x2 = xd.reshape(-1, xd.shape[-1]) if xd.ndim != 2 else xd
    out = _gemm.matmul(x2, wd.T)
    if bias is not None:
        bd = bias._data
        if bd.dtype != out.dtype:
            raise RuntimeError(f"linear: expected bias of dtype {input.dtype}, got {bias.dtype}")
        out += bd
    if xd.ndim != 2:
        out = out.reshape(xd.shape[:-1] + (wd.shape[0],))
    res = wrap(out)
    if gm.enabled and (input.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)):
        n = LinearBackward(input, weight, bias)
        n.save(input if weight.requires_grad else None, weight if input.requires_grad else None)
        # flattening a strided input (a batch_first view, say) copied it: keep the copy for dW
        n.x2 = x2 if weight.requires_grad and xd.ndim != 2 and not np.may_share_memory(x2, xd) else None
        attach(res, n)
    return res


# ============================================================================ softmax family
def implicit_softmax_dim(ndim: int) -> int:
    """PyTorch's legacy choice of dim when none is given (deprecated there too)."""
    return 0 if ndim in (0, 1, 3) else 1


def _prepare(input, dim, dtype, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if dtype is not None:
        input = cast(input, _dt.to_numpy_dtype(dtype))
    d = input._data
    if d.dtype.kind != "f":
        # PyTorch raises NotImplementedError ("softmax_lastdim_kernel_impl" not implemented for 'Long').
        raise NotImplementedError(f"{op}: not implemented for {input.dtype} input; pass dtype=nerve.float32 or "
                                  "convert the input with .float()")
    if dim is None:
        dim = implicit_softmax_dim(d.ndim)
    return input, wrap_dim(int(dim), d.ndim, op)


def _shifted(d, axis):
    """``d - max(d)`` along ``axis``; a row of -inf gives nan, like PyTorch."""
    m = d.max(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        return d - m


def _softmax_fwd(d, axis):
    if d.ndim == 0:
        d = d.reshape(1)
        return _softmax_fwd(d, 0).reshape(())
    if d.size == 0:
        return d.copy()
    xp = xp_of(d)
    e = _shifted(d, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        xp.exp(e, out=e)
        e /= e.sum(axis=axis, keepdims=True)
    return e


def _log_softmax_fwd(d, axis):
    if d.ndim == 0:
        return _log_softmax_fwd(d.reshape(1), 0).reshape(())
    if d.size == 0:
        return d.copy()
    xp = xp_of(d)
    s = _shifted(d, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        lse = xp.log(xp.exp(s).sum(axis=axis, keepdims=True))
        s -= lse
    return s


def _sum_keep(t, dim):
    # Summing a 0-d tensor over its only "dim" is the identity.
    return t if t._data.ndim == 0 else t.sum(dim, keepdim=True)


class SoftmaxBackward(Node):
    __slots__ = ("dim",)

    def apply(self, g):
        out = self.saved_output()
        return (out * (g - _sum_keep(g * out, self.dim)),)


class LogSoftmaxBackward(Node):
    __slots__ = ("dim",)

    def apply(self, g):
        out = self.saved_output()
        return (g - exp(out) * _sum_keep(g, self.dim),)


def softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed with the row maximum subtracted.

    A row that is entirely -inf (fully masked attention) gives nan, as in PyTorch.
    Gradient: ``out * (g - sum(g * out, dim))``.

    Example:
        >>> nerve.softmax(nerve.tensor([[1., 2., 3.]]), dim=-1)
    """
    input, dim = _prepare(input, dim, dtype, "softmax")
    out = wrap(_softmax_fwd(input._data, dim))
    if gm.enabled and input.requires_grad:
        n = SoftmaxBackward(input)
        n.dim = dim
        n.save_output(out)
        attach(out, n)
    return out


def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    """``x - logsumexp(x)`` along ``dim`` (stable for large logits).

    Gradient: ``g - exp(out) * sum(g, dim)``.
    """
    input, dim = _prepare(input, dim, dtype, "log_softmax")
    out = wrap(_log_softmax_fwd(input._data, dim))
    if gm.enabled and input.requires_grad:
        n = LogSoftmaxBackward(input)
        n.dim = dim
        n.save_output(out)
        attach(out, n)
    return out


# ============================================================================ fused cross-entropy
def _class_mask(idx, dim, size):
    shape = [1] * idx.ndim
    shape[dim] = size
    return xp_of(idx).arange(size).reshape(shape) == idx


class SoftmaxCrossEntropyBackward(Node):
    __slots__ = ("dim", "w", "wsum", "idx", "wy", "probs")

    def apply(self, g):
        (x,) = self.saved_tensors
        # Under create_graph the probabilities must be a differentiable function of x.
        p = softmax(x, self.dim) if gm.enabled else wrap(self.probs)
        if self.idx is not None:
            gk = unsqueeze(g * self.wy, self.dim)
            if not gm.enabled and type(self.probs) is np.ndarray:
                # p * gk, then gk off at each row's class: two passes instead of a class mask and a where
                idx, gkd = self.idx, gk._data
                r = self.probs * gkd
                ok = (idx >= 0) & (idx < r.shape[self.dim])   # ignore_index rows have no class here
                ii = np.where(ok, idx, 0)
                np.put_along_axis(r, ii, np.take_along_axis(r, ii, self.dim) - np.where(ok, gkd, 0), self.dim)
                return (wrap(r),)
            return (gk * p - where(_class_mask(self.idx, self.dim, p._data.shape[self.dim]), gk, 0.0),)
        return (unsqueeze(g, self.dim) * (p * self.wsum - self.w),)

    def release(self):
        super().release()
        self.probs = self.w = self.wsum = self.idx = self.wy = None


def softmax_cross_entropy(input, dim, wmat=None, idx=None, wy=None):
    """Per-element cross-entropy ``-sum_c w_c log_softmax(input, dim)_c`` in one node.

    Either ``wmat``, a constant array of input's shape holding every weight (label smoothing,
    probability targets), or the sparse form: class indices ``idx`` (input's shape with size 1 at
    ``dim``) with per-element weights ``wy`` (the target's class weight, 0 where ignored).
    Gradient: ``g * (softmax(x) * sum_c w_c - w)``.
    """
    d = input._data
    xp = xp_of(d)
    dim = wrap_dim(dim, d.ndim, "cross_entropy")
    if d.size == 0:
        loss = d.sum(axis=dim)
        probs = d.copy()
    else:
        s = _shifted(d, dim)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            if idx is not None:
                picked = xp.take_along_axis(s, idx, axis=dim)
            e = xp.exp(s, out=s if idx is not None else None)
            ssum = e.sum(axis=dim, keepdims=True)
            lse = xp.log(ssum)
            if idx is not None:
                loss = ((lse - picked) * xp.expand_dims(wy, dim)).sum(axis=dim)
            else:
                # sum_c w (s - lse) without materialising log-probabilities
                loss = (lse * wmat.sum(axis=dim, keepdims=True)).sum(axis=dim) - (s * wmat).sum(axis=dim)
            if not bool(xp.isfinite(loss).all()):
                # -inf logits (masked classes) with zero weight contribute nothing, not nan.
                w = xp.expand_dims(wy, dim) * _class_mask(idx, dim, d.shape[dim]) if idx is not None else wmat
                logp = s - lse if idx is None else xp.log(e) - lse
                loss = -xp.where(w != 0, logp * w, 0).sum(axis=dim)
            e /= ssum
            probs = e
    out = wrap(xp.asarray(loss, dtype=d.dtype))
    if gm.enabled and input.requires_grad:
        n = SoftmaxCrossEntropyBackward(input)
        n.save(input)
        n.dim, n.idx, n.probs = dim, idx, probs
        if idx is not None:
            n.w = n.wsum = None
            n.wy = wy
        else:
            n.w, n.wsum, n.wy = wmat, wmat.sum(axis=dim, keepdims=True), None
        attach(out, n)
    return out


# ============================================================================ stable elementwise
def _softplus_arr(xp, z):
    """log(1 + e^z) without overflow."""
    return xp.log1p(xp.exp(-xp.abs(z))) + xp.maximum(z, 0)


class SoftplusBackward(Node):
    __slots__ = ("beta", "lin")

    def apply(self, g):
        (x,) = self.saved_tensors
        s = g * sigmoid(x * self.beta if self.beta != 1 else x)
        return (s if self.lin is None else where(self.lin, g, s),)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta x)) / beta``, and ``x`` where ``beta x > threshold`` (None: never).

    Gradient: ``g * sigmoid(beta x)`` (``g`` in the linear region).
    """
    d = input._data
    if d.dtype.kind != "f":
        d = d.astype(_dt.default_np_dtype())
    xp = xp_of(d)
    with np.errstate(over="ignore", invalid="ignore"):
        z = d * beta if beta != 1 else d
        r = _softplus_arr(xp, z)
        if beta != 1:
            r = r / beta
        lin = None
        if threshold is not None:
            lin = z > threshold
            r = xp.where(lin, d, r)
    out = wrap(xp.asarray(r, dtype=d.dtype))
    if gm.enabled and input.requires_grad:
        n = SoftplusBackward(input)
        n.save(input)
        n.beta, n.lin = beta, lin
        attach(out, n)
    return out


class BCEWithLogitsBackward(Node):
    __slots__ = ()

    def apply(self, g):
        x, y, pw = self.saved_tensors
        gx = gy = gpw = None
        if self.next[0] is not None:
            s = sigmoid(x)
            gx = g * (s - y) if pw is None else g * ((y * (pw - 1) + 1) * s - y * pw)
        if self.next[1] is not None or self.next[2] is not None:
            sp = softplus(-x, threshold=None)
            if self.next[1] is not None:
                gy = -g * x if pw is None else g * ((pw - 1) * sp - x)
            if self.next[2] is not None:
                gpw = g * y * sp
        return gx, gy, gpw


def bce_with_logits(input, target, pos_weight=None):
    """Unreduced ``(1 - y) x + (1 + (pw - 1) y) log(1 + e^-x)``, overflow-free for any x.

    Gradients: ``dx = (1 + (pw - 1) y) sigmoid(x) - pw y``, ``dy = (pw - 1) softplus(-x) - x``,
    ``dpw = y softplus(-x)`` (pw = 1 when absent).
    """
    xd, yd = input._data, target._data
    pd = pos_weight._data if pos_weight is not None else None
    rd = result_dtype(xd, yd)
    if pd is not None:
        rd = _dt.promote_types(rd, pd.dtype)
    if rd.kind != "f":
        rd = _dt.default_np_dtype()
    xd, yd = xd.astype(rd, copy=False), yd.astype(rd, copy=False)
    xp = xp_of(xd)
    with np.errstate(over="ignore", invalid="ignore"):
        sp = _softplus_arr(xp, -xd)
        if pd is None:
            r = (1 - yd) * xd + sp
        else:
            pd = pd.astype(rd, copy=False)
            r = (1 - yd) * xd + ((pd - 1) * yd + 1) * sp
    out = wrap(xp.asarray(r, dtype=rd))
    if gm.enabled and (input.requires_grad or target.requires_grad
                       or (pos_weight is not None and pos_weight.requires_grad)):
        n = BCEWithLogitsBackward(input, target, pos_weight)
        n.save(input, target, pos_weight)
        attach(out, n)
    return out


# ============================================================================ index primitives
class PickBackward(Node):
    __slots__ = ("idx", "dim", "size")

    def apply(self, g):
        xp = xp_of(self.idx)
        shape = [1] * self.idx.ndim
        shape[self.dim] = self.size
        mask = xp.arange(self.size).reshape(shape) == self.idx
        return (where(mask, g, 0.0),)


def pick(input, dim, idx):
    """``take_along_axis(input, idx, dim)`` for ``idx`` with size 1 along ``dim`` (keeps that dim).

    Gradient: ``g`` placed at the picked positions, zeros elsewhere (its own gradient is the pick).
    """
    d = input._data
    xp = xp_of(d)
    out = wrap(xp.take_along_axis(d, idx, axis=dim))
    if gm.enabled and input.requires_grad:
        n = PickBackward(input)
        n.idx, n.dim, n.size = idx, dim, d.shape[dim]
        attach(out, n)
    return out


def _scatter_add(xp, out, index_tuple, values):
    # Sort + reduceat / bincount instead of np.add.at: several times faster for embedding gradients.
    _scatter_add_into(out, index_tuple, values)


class IndexSelectBackward(Node):
    __slots__ = ("dim", "idx", "size", "gscale")

    def apply(self, g):
        if self.gscale is not None:
            g = g * self.gscale
        return (index_add(g, self.dim, self.idx, self.size),)


def index_select(input, dim, idx, gscale=None):
    """``input`` taken at the 1-D integer array ``idx`` along ``dim``.

    ``gscale`` (optional, broadcastable to the output) scales only the gradient: embedding uses it
    for ``padding_idx`` (0) and ``scale_grad_by_freq``. Gradient: ``index_add(g * gscale)``.
    """
    d = input._data
    xp = xp_of(d)
    out = wrap(xp.take(d, idx, axis=dim))
    if gm.enabled and input.requires_grad:
        n = IndexSelectBackward(input)
        n.dim, n.idx, n.size, n.gscale = dim, idx, d.shape[dim], gscale
        attach(out, n)
    return out


class IndexAddBackward(Node):
    __slots__ = ("dim", "idx")

    def apply(self, g):
        return (index_select(g, self.dim, self.idx),)


def index_add(src, dim, idx, size):
    """Zeros of ``src``'s shape with ``size`` along ``dim``, with ``src`` slices summed in at ``idx``.

    Repeated indices accumulate. Gradient: ``index_select(g, dim, idx)``.
    """
    d = src._data
    xp = xp_of(d)
    shape = list(d.shape)
    shape[dim] = size
    r = xp.zeros(shape, dtype=d.dtype)
    _scatter_add(xp, r, (slice(None),) * dim + (idx,), d)
    out = wrap(r)
    if gm.enabled and src.requires_grad:
        n = IndexAddBackward(src)
        n.dim, n.idx = dim, idx
        attach(out, n)
    return out


class PadConstantBackward(Node):
    __slots__ = ("widths",)

    def apply(self, g):
        return (pad_constant(g, [(-a, -b) for a, b in self.widths], 0),)


def pad_constant(input, widths, value=0):
    """Pad dim ``i`` by ``widths[i] = (before, after)`` with ``value``; negative widths crop.

    Gradient: ``pad_constant(g, -widths)`` (crop what was padded, zero-pad what was cropped).
    """
    d = input._data
    xp = xp_of(d)
    widths = [(int(a), int(b)) for a, b in widths]
    crop = tuple(slice(max(-a, 0), d.shape[i] - max(-b, 0)) for i, (a, b) in enumerate(widths))
    for i, (a, b) in enumerate(widths):
        if d.shape[i] + a + b < 0:
            raise RuntimeError(f"pad: the input size {d.shape[i]}, plus negative padding {a} and {b} resulted in a "
                               f"negative output size, which is invalid. Check dimension {i} of your input "
                               f"{tuple(d.shape)}.")
    r = d[crop]
    pos = [(max(a, 0), max(b, 0)) for a, b in widths]
    if any(a or b for a, b in pos):
        shape = tuple(s + a + b for s, (a, b) in zip(r.shape, pos))
        res = xp.full(shape, value, dtype=d.dtype)
        res[tuple(slice(a, a + s) for s, (a, _b) in zip(r.shape, pos))] = r
        r = res
    else:
        r = r.copy()
    out = wrap(r)
    if gm.enabled and input.requires_grad:
        n = PadConstantBackward(input)
        n.widths = widths
        attach(out, n)
    return out


class StraightThroughBackward(Node):
    __slots__ = ()

    def apply(self, g):
        return (g,)


def straight_through(input, values):
    """A tensor holding the array ``values`` whose gradient passes to ``input`` unchanged.

    For PyTorch's ``with no_grad(): t.clamp_(eps)`` idiom: the value is clamped, the gradient is not.
    """
    out = wrap(values)
    if gm.enabled and input.requires_grad:
        attach(out, StraightThroughBackward(input))
    return out


# ============================================================================ layer norm
class LayerNormBackward(Node):
    __slots__ = ("axes", "eps", "xhat", "rstd")

    def apply(self, g):
        x, w = self.saved_tensors
        axes = self.axes
        if gm.enabled:
            # Recompute the statistics with nerve ops so the double backward sees their dependence on x.
            xc = x - x.mean(axes, keepdim=True)
            rstd = rsqrt((xc * xc).mean(axes, keepdim=True) + self.eps)
            xhat = xc * rstd
        else:
            xhat, rstd = wrap(self.xhat), wrap(self.rstd)
        gx = gw = gb = None
        if self.next[0] is not None:
            gh = g if w is None else g * w
            gx = rstd * (gh - gh.mean(axes, keepdim=True) - xhat * (gh * xhat).mean(axes, keepdim=True))
        if self.next[1] is not None:
            gw = g * xhat
        if self.next[2] is not None:
            gb = g
        return gx, gw, gb

    def release(self):
        super().release()
        self.xhat = self.rstd = None


def layer_norm(input, k, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``k`` dims, then scale by ``weight`` and shift by ``bias``.

    ``y = (x - mean) / sqrt(var + eps) * w + b`` (biased variance).
    Gradient: ``dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat))`` with ``gh = g * w``;
    ``dw = sum(g * xhat)``, ``db = sum(g)`` over the leading dims (done by the engine).
    """
    d = input._data
    xp = xp_of(d)
    axes = tuple(range(d.ndim - k, d.ndim))
    M = K = 1
    for s in d.shape[:d.ndim - k]:
        M *= s
    for s in d.shape[d.ndim - k:]:
        K *= s
    d2 = d.reshape(M, K)
    if d2.size == 0:
        xc, rstd = d2.copy(), xp.zeros((M, 1), dtype=d.dtype)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            xc = d2 - d2.mean(axis=1, keepdims=True)
            # einsum: the sum of squares in one pass, without a temporary
            var = xp.einsum("ij,ij->i", xc, xc)[:, None] / K
            rstd = (1.0 / xp.sqrt(var + eps)).astype(d.dtype, copy=False)
            xc *= rstd
    xhat = xc.reshape(d.shape)
    rstd = rstd.reshape(d.shape[:d.ndim - k] + (1,) * k)
    if weight is not None:
        y = xhat * weight._data
        if bias is not None:
            y += bias._data
    elif bias is not None:
        y = xhat + bias._data
    else:
        y = xhat.copy()
    out = wrap(y)
    if gm.enabled and (input.requires_grad or (weight is not None and weight.requires_grad)
                       or (bias is not None and bias.requires_grad)):
        n = LayerNormBackward(input, weight, bias)
        n.save(input, weight)
        n.axes, n.eps, n.xhat, n.rstd = axes, eps, xhat, rstd
        attach(out, n)
    return out


# ============================================================================ batch norm
def _channel_rows(v, S, dtype):
    """A per-channel vector repeated over ``S`` positions as one contiguous (1, C*S) row.

    NumPy broadcasts a (C, 1) operand over (N, C, S) at about half the speed of a contiguous
    (1, C*S) operand over (N, C*S) (0.30 vs 0.16 ms on (64, 32, 28, 28) float32), and the row is small.
    """
    xp = xp_of(v)
    return xp.repeat(v.astype(dtype, copy=False), S).reshape(1, -1)


def _vecdot_channels(a3, b3):
    """``sum(a * b)`` over dims 0 and 2 of two (N, C, S) arrays, per channel, without a temporary."""
    xp = xp_of(a3)
    if hasattr(xp, "vecdot"):
        return xp.vecdot(a3, b3).sum(axis=0)
    return xp.einsum("ncs,ncs->c", a3, b3)  # pragma: no cover - array modules without vecdot


def _channel_sum(a3):
    return xp_of(a3).einsum("ncs->c", a3)


class BatchNormBackward(Node):
    __slots__ = ("axes", "eps", "invstd", "mean", "xc")

    def apply(self, g):
        x, w = self.saved_tensors
        axes = self.axes
        if gm.enabled:
            # create_graph: recompute the statistics with nerve ops so the double backward sees their
            # dependence on x, and express every gradient with nerve ops.
            xc = x - x.mean(axes, keepdim=True)
            rstd = rsqrt((xc * xc).mean(axes, keepdim=True) + self.eps)
            xhat = xc * rstd
            shape = (-1,) + (1,) * (x._data.ndim - 2)
            gx = gw = gb = None
            if self.next[0] is not None:
                gh = g if w is None else g * reshape(w, shape)
                gx = rstd * (gh - gh.mean(axes, keepdim=True) - xhat * (gh * xhat).mean(axes, keepdim=True))
            if self.next[1] is not None:
                gw = (g * xhat).sum(axes)
            if self.next[2] is not None:
                gb = g.sum(axes)
            return gx, gw, gb
        return self._raw(g._data, x._data, None if w is None else w._data)

    def _raw(self, gd, xd, wd):
        """The same gradients on arrays: two reductions and four elementwise passes."""
        xp = xp_of(gd)
        mean, invstd = self.mean, self.invstd  # (C,) float64
        N, C = xd.shape[:2]
        S = xd.size // (N * C)
        M = N * S
        dt = np.promote_types(xd.dtype, np.float32)
        if self.xc is not None:  # x - mean, kept by a badly conditioned forward (self.mean: its mean)
            x3 = self.xc
        else:
            x3 = xp.ascontiguousarray(xd, dtype=dt).reshape(N, C, S)
        g3 = xp.ascontiguousarray(gd, dtype=dt).reshape(N, C, S)
        kern = cnn_kernels(g3, x3)
        if kern is not None:  # both sums in one threaded pass
            sum_g, sum_gx = np.empty(C), np.empty(C)
            kern.run(kern.channel_sums, C, g3, x3, sum_g, sum_gx)
        else:
            sum_g = _channel_sum(g3).astype(np.float64)
            sum_gx = _vecdot_channels(g3, x3).astype(np.float64)
        # sum(g * (x - mean)) without materialising x - mean (when mean^2 <= var, so that the
        # subtraction loses at most about a bit; otherwise x3 is x - mean already)
        sum_gxc = sum_gx - mean * sum_g
        gx = gw = gb = None
        if self.next[0] is not None:
            k = invstd if wd is None else invstd * wd.astype(np.float64)
            # dx = k * (g - mean(g) - xhat * mean(g * xhat)) = k * (g - (x * a + c))
            a = invstd * invstd * sum_gxc / M
            c = sum_g / M - a * mean
            if kern is not None:
                r = np.empty((N, C, S), dt)
                kern.run(kern.bn_grad_apply, C, g3, x3, a.astype(dt), c.astype(dt), k.astype(dt), r)
            else:
                r = xp.multiply(x3.reshape(N, C * S), _channel_rows(a, S, dt))
                r += _channel_rows(c, S, dt)
                xp.subtract(g3.reshape(N, C * S), r, out=r)
                r *= _channel_rows(k, S, dt)
            gx = wrap(r.reshape(gd.shape).astype(xd.dtype, copy=False))
        if self.next[1] is not None:
            gw = wrap((sum_gxc * invstd).astype(xd.dtype if wd is None else wd.dtype))
        if self.next[2] is not None:
            gb = wrap(sum_g.astype(xd.dtype))
        return gx, gw, gb

    def release(self):
        super().release()
        self.mean = self.invstd = self.xc = None


def batch_norm_train(input, weight=None, bias=None, eps=1e-5):
    """Batch-statistics normalisation of (N, C, ...) input per channel, then the affine, in one node.

    ``y = (x - mean) * invstd * w + b`` with ``mean``/``var`` (biased) over all dims but 1.
    Returns ``(y, mean, var)``; ``mean`` and ``var`` are float64 arrays of shape (C,) for the
    caller's running-statistics update.
    Gradient: ``dx = invstd * w * (g - mean(g) - xhat * mean(g * xhat))``, ``dw = sum(g * xhat)``,
    ``db = sum(g)`` (means and sums over all dims but 1).

    The statistics take one pass each over x (sum, sum of squares) and y two more, x * scale + shift,
    never materialising x - mean. ``var = E[x^2] - mean^2`` cancels badly when mean^2 >> var, so
    when any channel has mean^2 > var they are recomputed from x - mean (corrected two-pass), and
    y and backward use that centred copy: float32 results then stay as accurate as PyTorch's.
    """
    d = input._data
    xp = xp_of(d)
    N, C = d.shape[:2]
    S = d.size // (N * C)
    M = N * S
    dt = np.promote_types(d.dtype, np.float32)  # float16 is computed in float32, as PyTorch's CPU kernel
    d2 = xp.ascontiguousarray(d, dtype=dt).reshape(N, C * S)
    d3 = d2.reshape(N, C, S)
    kern = cnn_kernels(d3)
    if kern is not None:  # both sums in one threaded pass, accumulated in float64
        s1, s2 = np.empty(C), np.empty(C)
        kern.run(kern.channel_sums, C, d3, d3, s1, s2)
        mean = s1 / M
        var = s2 / M - mean * mean
    else:
        mean = _channel_sum(d3).astype(np.float64) / M
        var = _vecdot_channels(d3, d3).astype(np.float64) / M - mean * mean
    xc, centre = None, mean  # centre: what the array y and backward are computed from holds as mean
    # The kernels' float64 sums keep E[x^2] - mean^2 accurate to float32 precision up to |mean| = 100 std
    # (float32 products are exact in float64; summation error ~1e-12 relative); y = x * scale + shift is
    # then PyTorch's own form. NumPy's float32 sums need |mean| <= std.
    if not bool((mean * mean <= (var * 1e4 if kern is not None else var)).all()):
        # corrected two-pass: x - mean, whose own (rounding) mean ``centre`` is removed from the variance
        xc = xp.subtract(d2, _channel_rows(mean, S, dt)).reshape(N, C, S)
        centre = _channel_sum(xc).astype(np.float64) / M
        var = _vecdot_channels(xc, xc).astype(np.float64) / M - centre * centre
        mean = mean + centre
    var = xp.maximum(var, 0.0)
    invstd = 1.0 / xp.sqrt(var + eps)
    scale = invstd if weight is None else invstd * weight._data.astype(np.float64)
    shift = -centre * scale
    if bias is not None:
        shift += bias._data
    if kern is not None and xc is None:
        y = np.empty((N, C * S), dt)
        kern.run(kern.bn_apply, C, d3, scale.astype(dt), shift.astype(dt), y.reshape(N, C, S))
    else:
        y = xp.multiply(d2 if xc is None else xc.reshape(N, C * S), _channel_rows(scale, S, dt))
        y += _channel_rows(shift, S, dt)
    out = wrap(y.reshape(d.shape).astype(d.dtype, copy=False))
    if gm.enabled and (input.requires_grad or (weight is not None and weight.requires_grad)
                       or (bias is not None and bias.requires_grad)):
        n = BatchNormBackward(input, weight, bias)
        n.save(input, weight)
        n.axes, n.eps, n.mean, n.invstd, n.xc = (0,) + tuple(range(2, d.ndim)), eps, centre, invstd, xc
        attach(out, n)
    return out, mean, var


register_methods({
    "softmax": lambda self, dim=None, dtype=None: softmax(self, dim, dtype),
    "log_softmax": lambda self, dim=None, dtype=None: log_softmax(self, dim, dtype),
})

__all__ = ["log_softmax", "softmax"]
