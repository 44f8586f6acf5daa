"""Fused scaled dot-product attention: ``softmax(q k^T * scale + bias) v`` in one node.

As a composite (matmul, mul, add, softmax, mul, matmul) the attention core records six nodes and
keeps four (batch, heads, L, S) intermediates alive; this node keeps one, the probabilities, and its
backward does the two batched products per input directly:

    P  = softmax(q k^T * scale + bias)          A = P * keep          out = A v
    dv = A^T g      dA = g v^T      dP = dA * keep
    dS = P * (dP - sum(dP * P, -1))      dq = dS k * scale      dk = dS^T q * scale

``keep`` (optional, a constant array) is the dropout mask already divided by ``1 - p``, times zero
for rows with nothing to attend to (every bias entry -inf), which PyTorch's CPU kernel returns as
zeros with a zero gradient instead of nan. Without ``create_graph`` the backward reuses the saved
probabilities as arrays; under ``create_graph`` it recomputes them with nerve ops, so the double
backward sees their dependence on ``q`` and ``k``.
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import wrap
from . import _gemm
from ._helpers import attach, xp_of
from .join import cat
from .linalg import matmul
from .nnops import softmax
from .shape import transpose

__all__: list = []


def _probs(sd, bias, scale):
    """Softmax of ``sd * scale + bias`` along the last dim, in place on the score array ``sd``."""
    xp = xp_of(sd)
    if scale != 1.0:
        sd *= scale
    if bias is not None:
        sd += bias
    m = sd.max(axis=-1, keepdims=True)
    sd -= m
    xp.exp(sd, out=sd)
    sd /= sd.sum(axis=-1, keepdims=True)
    return sd


class AttentionBackward(Node):
    __slots__ = ("bias", "keep", "probs", "scale")

    def apply(self, g):
        q, k, v = self.saved_tensors
        keep = None if self.keep is None else wrap(self.keep)
        kt = transpose(k, -2, -1)
        if gm.enabled:
            s = matmul(q, kt)
            if self.scale != 1.0:
                s = s * self.scale
            if self.bias is not None:
                s = s + wrap(self.bias)
            p = softmax(s, -1)
        else:
            p = wrap(self.probs)
        a = p if keep is None else p * keep
        gq = gk = gv = None
        if self.next[2] is not None:
            gv = matmul(transpose(a, -2, -1), g)
        if self.next[0] is not None or self.next[1] is not None:
            dp = matmul(g, transpose(v, -2, -1))
            if keep is not None:
                dp = dp * keep
            ds = p * (dp - (dp * p).sum(-1, keepdim=True))
            if self.scale != 1.0:
                ds = ds * self.scale
            if self.next[0] is not None:
                gq = matmul(ds, k)
            if self.next[1] is not None:
                gk = matmul(transpose(ds, -2, -1), q)
        return gq, gk, gv

    def release(self):
        super().release()
        self.probs = self.bias = self.keep = None


def attention(query, key, value, bias=None, scale=1.0, keep=None):
    """``(softmax(q k^T * scale + bias) * keep) v`` over the last two dims, as one node.

    ``bias``: a constant float array broadcastable to (..., L, S) (masks as 0 / -inf), with no row
    entirely -inf (the caller zeroes such rows and puts 0 in ``keep`` instead).
    ``keep``: a constant array broadcastable to (..., L, S) multiplying the probabilities (dropout
    mask over ``1 - p``, row masks), or None. The batch dims of q, k and v must already agree.
    Gradients: see the module docstring.
    """
    qd, kd, vd = query._data, key._data, value._data
    sd = _gemm.bmm(qd, kd.swapaxes(-1, -2))
    p = _probs(sd, bias, scale)
    a = p if keep is None else p * keep
    out = wrap(np.asarray(_gemm.bmm(a, vd)) if type(qd) is np.ndarray else a @ vd)
    if gm.enabled and (query.requires_grad or key.requires_grad or value.requires_grad):
        n = AttentionBackward(query, key, value)
        n.save(query, key, value)
        n.scale, n.bias, n.keep, n.probs = scale, bias, keep, p
        attach(out, n)
    return out


def _split_heads(arr, H, bf):
    """(N, L, 3E) or (L, N, 3E) packed projection -> (3, N, H, L, D) view."""
    a, b, e3 = arr.shape
    r = arr.reshape(a, b, 3, H, e3 // (3 * H))
    return r.transpose(2, 0, 3, 1, 4) if bf else r.transpose(2, 1, 3, 0, 4)


def _out_heads(arr, H, bf):
    """(N, L, E) or (L, N, E) -> (N, H, L, D) view."""
    a, b, e = arr.shape
    r = arr.reshape(a, b, H, e // H)
    return r.transpose(0, 2, 1, 3) if bf else r.transpose(1, 2, 0, 3)


class PackedAttentionBackward(Node):
    __slots__ = ("bf", "bias", "heads", "keep", "probs", "scale")

    def apply(self, g):
        (proj,) = self.saved_tensors
        H, bf = self.heads, self.bf
        if gm.enabled:
            # create_graph: the same formulas on nerve ops (q, k, v as differentiable views of proj).
            a, b, e3 = proj._data.shape
            p5 = proj.reshape(a, b, 3, H, e3 // (3 * H))
            p5 = p5.permute(2, 0, 3, 1, 4) if bf else p5.permute(2, 1, 3, 0, 4)
            q, k, v = p5[0], p5[1], p5[2]
            e = e3 // 3
            g4 = g.reshape(a, b, H, e // H)
            g4 = g4.permute(0, 2, 1, 3) if bf else g4.permute(1, 2, 0, 3)
            n = AttentionBackward(q, k, v)
            n.save(q, k, v)
            n.scale, n.bias, n.keep = self.scale, self.bias, self.keep
            gq, gk, gv = n.apply(g4)
            gs = [t if t is not None else wrap(xp_of(g._data).zeros(q._data.shape, dtype=g._data.dtype))
                  for t in (gq, gk, gv)]
            st = cat([t.unsqueeze(0) for t in gs], 0)  # (3, N, H, L, D)
            st = st.permute(1, 3, 0, 2, 4) if bf else st.permute(3, 1, 0, 2, 4)
            return (st.reshape(a, b, e3),)
        gd = g._data
        xp = xp_of(gd)
        pd = proj._data
        q, k, v = _split_heads(pd, H, bf)
        g4 = _out_heads(gd, H, bf)
        p = self.probs
        a = p if self.keep is None else p * self.keep
        gp = xp.empty(pd.shape, dtype=pd.dtype)
        gq, gk, gv = _split_heads(gp, H, bf)
        _gemm.bmm(a.swapaxes(-1, -2), g4, out=gv)
        dp = _gemm.bmm(g4, v.swapaxes(-1, -2))
        if self.keep is not None:
            dp *= self.keep
        # dS = P * (dP - sum(dP * P)) * scale, in place in dp
        rs = xp.einsum("...ij,...ij->...i", dp, p)[..., None]
        dp -= rs
        dp *= p
        if self.scale != 1.0:
            dp *= self.scale
        _gemm.bmm(dp, k, out=gq)
        _gemm.bmm(dp.swapaxes(-1, -2), q, out=gk)
        return (wrap(gp),)

    def release(self):
        super().release()
        self.probs = self.bias = self.keep = None


def packed_attention(proj, num_heads, batch_first, bias=None, scale=1.0, keep=None):
    """Self-attention straight from a packed q|k|v projection, heads split and joined as views.

    ``proj``: (N, L, 3E) with ``batch_first`` else (L, N, 3E), the output of ``in_proj``; returns
    the heads' outputs joined, (N, L, E) / (L, N, E), written in place by the batched product (no
    transposed copies either way). ``bias``/``keep`` as in ``attention`` over (N, H, L, L).
    The gradient is one (N, L, 3E) array holding dq | dk | dv (formulas as ``attention``).
    """
    pd = proj._data
    xp = xp_of(pd)
    q, k, v = _split_heads(pd, num_heads, batch_first)
    p = _probs(_gemm.bmm(q, k.swapaxes(-1, -2)), bias, scale)
    a = p if keep is None else p * keep
    o = xp.empty(pd.shape[:2] + (pd.shape[2] // 3,), dtype=pd.dtype)
    _gemm.bmm(a, v, out=_out_heads(o, num_heads, batch_first))
    out = wrap(o)
    if gm.enabled and proj.requires_grad:
        n = PackedAttentionBackward(proj)
        n.save(proj)
        n.heads, n.bf, n.scale, n.bias, n.keep, n.probs = num_heads, batch_first, scale, bias, keep, p
        attach(out, n)
    return out


def mask_bias(mask, is_causal, L, S, dtype):
    """The ``(bias, keep)`` arrays of an attention mask for ``attention``/``packed_attention``.

    ``mask``: None, a bool array (True = attend) or a float array (added), broadcastable to (..., L, S);
    ``is_causal`` adds the top-left causal mask. Rows with every entry -inf get bias 0 and keep 0
    (zero output and gradient, as PyTorch's CPU kernels); ``keep`` is None when there are none.
    """
    bias = keep = None
    if mask is not None:
        xp = xp_of(mask)
        bias = xp.where(mask, 0.0, -xp.inf).astype(dtype) if mask.dtype == np.bool_ else mask.astype(dtype, copy=False)
    if is_causal:
        xp = np if mask is None else xp_of(mask)
        causal = xp.where(xp.tril(xp.ones((L, S), dtype=bool)), 0.0, -xp.inf).astype(dtype)
        bias = causal if bias is None else bias + causal
    if bias is not None and L and S:
        xp = xp_of(bias)
        full = xp.isneginf(bias).all(axis=-1, keepdims=True)
        if bool(full.any()):
            bias = xp.where(full, 0, bias).astype(dtype, copy=False)
            keep = (~full).astype(dtype)
    return bias, keep
