"""Multi-head attention: ``MultiheadAttention`` and its functional form ``multi_head_attention_forward``.

Parameter names, layouts and initialisation follow ``torch.nn.MultiheadAttention``, so state dicts move
between the two: ``in_proj_weight`` (3E, E) packs the query/key/value projections (or
``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) when kdim/vdim
differ from embed_dim), ``in_proj_bias`` (3E,), ``out_proj`` (a Linear), ``bias_k``/``bias_v`` (1, 1, E).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ...autograd.tensor import Tensor, wrap
from ...ops import attention as _attn_ops
from ...ops._helpers import xp_of
from ...ops.creation import empty
from ...ops.join import cat
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear", "multi_head_attention_forward"]


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` (PyTorch uses the subclass to keep quantization away from ``out_proj``)."""


def _canonical_mask(mask, mask_name, other_type, other_name, target_dtype, check_other=True):
    """Bool masks (True = masked) become float masks of ``target_dtype`` (-inf where True)."""
    if mask is None:
        return None
    d = mask._data
    if d.dtype != np.bool_ and d.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and d.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    if d.dtype == np.bool_:
        xp = xp_of(d)
        return wrap(xp.where(d, -xp.inf, 0.0).astype(target_dtype))
    return mask


def _none_or_dtype(t):
    return None if t is None else t._data.dtype


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    qn, kn, vn = query._data.ndim, key._data.ndim, value._data.ndim
    if qn == 3:
        if kn != 3 or vn != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{kn}-D and {vn}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead")
        return True
    if qn == 2:
        if kn != 2 or vn != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{kn}-D and {vn}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query._data.shape[0], key._data.shape[0])
                if tuple(attn_mask._data.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                         f"{tuple(attn_mask._data.shape)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {qn}-D query tensor")


def _heads(t, lead, H, D, bf):
    """(lead..., H*D) projection in (S, N) or (N, S) order -> (N, H, S, D) view, no copy."""
    if bf:
        return t.reshape(lead + (H, D)).permute(0, 2, 1, 3)
    return t.reshape(lead + (H, D)).permute(1, 2, 0, 3)


def _mha(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
         add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True, key_padding_mask=None,
         need_weights=True, attn_mask=None, use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
         v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True, is_causal=False,
         batch_first=False):
    """``multi_head_attention_forward`` for inputs in (L, N, E) or, with ``batch_first``, (N, L, E) order.

    Working in the caller's order avoids copying transposed inputs: projections are computed in place
    order and split into heads as (N, H, L, D) views.
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    bf = batch_first
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
        bf = False
    qs, ks, vs = tuple(query._data.shape), tuple(key._data.shape), tuple(value._data.shape)
    if bf:
        bsz, tgt_len, embed_dim = qs
        src_len = ks[1]
    else:
        tgt_len, bsz, embed_dim = qs
        src_len = ks[0]
    dt = query._data.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask),
                                       "attn_mask", dt)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        # the hint alone: SDPA builds the causal mask itself
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", dt, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if ks[:2] != vs[:2]:
            raise AssertionError(f"key's sequence and batch dims {ks[:2]} do not match value's {vs[:2]}")
    elif ks != vs:
        raise AssertionError(f"key shape {ks} does not match value shape {vs}")

    # ---- in-projection
    E, H, D = embed_dim, num_heads, head_dim
    packed = None
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        if query is key and key is value:
            proj = F.linear(query, in_proj_weight, in_proj_bias)
            if (not need_weights and bias_k is None and bias_v is None and not add_zero_attn and static_k is None
                    and static_v is None and not (attn_mask is not None and attn_mask.requires_grad)
                    and not (key_padding_mask is not None and key_padding_mask.requires_grad)):
                packed = proj  # the fused path below takes the projection whole
                q = k = v = k_flat = v_flat = None
            else:
                lead = tuple(proj._data.shape[:2])
                p5 = proj.reshape(lead + (3, H, D))
                p5 = p5.permute(2, 0, 3, 1, 4) if bf else p5.permute(2, 1, 3, 0, 4)
                q, k, v = p5[0], p5[1], p5[2]
                k_flat = v_flat = None
        else:
            wq, wk, wv = in_proj_weight[:E], in_proj_weight[E:2 * E], in_proj_weight[2 * E:]
            bq = bk = bv = None
            if in_proj_bias is not None:
                bq, bk, bv = in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:]
            q = F.linear(query, wq, bq)
            k_flat, v_flat = F.linear(key, wk, bk), F.linear(value, wv, bv)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        bq = bk = bv = None
        if in_proj_bias is not None:
            bq, bk, bv = in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:]
        Eq, Ek, Ev = qs[-1], ks[-1], vs[-1]
        for what, w, want in (("query", q_proj_weight, (Eq, Eq)), ("key", k_proj_weight, (Eq, Ek)),
                              ("value", v_proj_weight, (Eq, Ev))):
            if tuple(w._data.shape) != want:
                raise AssertionError(f"expecting {what} weights shape of {want}, but got {tuple(w._data.shape)}")
        q = F.linear(query, q_proj_weight, bq)
        k_flat, v_flat = F.linear(key, k_proj_weight, bk), F.linear(value, v_proj_weight, bv)
    if k_flat is not None:
        q = _heads(q, tuple(q._data.shape[:2]), H, D, bf)

    # ---- masks to (L, S) or (N*H, L, S)
    if attn_mask is not None:
        ad = attn_mask._data
        if ad.ndim == 2:
            if tuple(ad.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(ad.shape)}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif ad.ndim == 3:
            if tuple(ad.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(ad.shape)}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {ad.ndim} is not supported")

    # ---- bias_k / bias_v: one more key/value position
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        if k_flat is None:  # packed self-attention: split the projection now
            k_flat = _unheads(k, bf)
            v_flat = _unheads(v, bf)
        sdim = 1 if bf else 0
        shape = (bsz, 1, E) if bf else (1, bsz, E)
        k_flat = cat([k_flat, bias_k.reshape(1, 1, E).expand(shape)], sdim)
        v_flat = cat([v_flat, bias_v.reshape(1, 1, E).expand(shape)], sdim)
        if attn_mask is not None:
            attn_mask = F.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = F.pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    if k_flat is not None:
        k = _heads(k_flat, tuple(k_flat._data.shape[:2]), H, D, bf)
        v = _heads(v_flat, tuple(v_flat._data.shape[:2]), H, D, bf)
    if static_k is not None:
        if static_k.size(0) != bsz * num_heads:
            raise AssertionError(f"expecting static_k.size(0) of {bsz * num_heads}, but got {static_k.size(0)}")
        if static_k.size(2) != head_dim:
            raise AssertionError(f"expecting static_k.size(2) of {head_dim}, but got {static_k.size(2)}")
        k = static_k.reshape(bsz, H, -1, D)
    if static_v is not None:
        if static_v.size(0) != bsz * num_heads:
            raise AssertionError(f"expecting static_v.size(0) of {bsz * num_heads}, but got {static_v.size(0)}")
        if static_v.size(2) != head_dim:
            raise AssertionError(f"expecting static_v.size(2) of {head_dim}, but got {static_v.size(2)}")
        v = static_v.reshape(bsz, H, -1, D)

    if add_zero_attn:
        z = wrap(np.zeros((bsz, H, 1, D), dtype=k._data.dtype))
        k = cat([k, z], 2)
        v = cat([v, z], 2)
        if attn_mask is not None:
            attn_mask = F.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = F.pad(key_padding_mask, (0, 1))
    if packed is None:
        src_len = k._data.shape[2]

    # ---- merge key padding into the attention mask, as a (N, H or 1, L or 1, S) float mask
    if attn_mask is not None:
        if attn_mask._data.shape[0] == 1:
            attn_mask = attn_mask.reshape(1, 1, tgt_len, src_len)
        else:
            attn_mask = attn_mask.reshape(bsz, H, tgt_len, src_len)
    if key_padding_mask is not None:
        kps = tuple(key_padding_mask._data.shape)
        if kps[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got {kps[0]}")
        if kps[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got {kps[1]}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    if need_weights:
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        scores = (q * math.sqrt(1.0 / float(D))).matmul(k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        w = scores.softmax(-1)
        if dropout_p > 0.0:
            w = F.dropout(w, p=dropout_p)
        out = w.matmul(v)
    elif packed is not None:
        # fused self-attention on the packed projection: output already (N, L, E) / (L, N, E)
        w = None
        dt = packed._data.dtype
        bias, keep = _attn_ops.mask_bias(None if attn_mask is None else attn_mask._data, is_causal, tgt_len,
                                         src_len, dt)
        if dropout_p > 0.0:
            drop = F._keep_mask(packed._data, (bsz, H, tgt_len, src_len), dropout_p)
            keep = drop if keep is None else keep * drop
        out = _attn_ops.packed_attention(packed, H, bf, bias, 1.0 / math.sqrt(D), keep)
    else:
        w = None
        out = F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    if packed is None:
        # (N, H, L, D) -> caller's order, heads joined
        out = out.permute(0, 2, 1, 3) if bf else out.permute(2, 0, 1, 3)
        out = out.reshape(out._data.shape[:2] + (E,))
    out = F.linear(out, out_proj_weight, out_proj_bias)
    if w is not None and average_attn_weights:
        w = w.mean(1)
    if not is_batched:
        out = out.squeeze(1)
        if w is not None:
            w = w.squeeze(0)
    return out, w


def _unheads(t, bf):
    """(N, H, S, D) view -> (S, N, E) or (N, S, E)."""
    _, h, _, d = t._data.shape
    t = t.permute(0, 2, 1, 3) if bf else t.permute(2, 0, 1, 3)
    return t.reshape(t._data.shape[:2] + (h * d,))


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on (L, N, E) inputs (or unbatched (L, E)), as ``torch.nn.functional``'s.

    ``out = concat_h(softmax(q_h k_h^T / sqrt(D) + mask) v_h) W_o^T + b_o`` with
    ``q = query W_q^T + b_q`` (likewise k, v) and ``D = E / num_heads``. Masks: ``key_padding_mask``
    (N, S) and ``attn_mask`` (L, S) or (N*num_heads, L, S), bool (True = not allowed) or float (added).
    Returns ``(attn_output (L, N, E), attn_weights or None)``; the weights are (N, L, S) averaged over
    heads, or (N, num_heads, L, S) with ``average_attn_weights=False``.
    """
    return _mha(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
                add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
                attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k,
                static_v, average_attn_weights, is_causal, batch_first=False)


class MultiheadAttention(Module):
    r"""Multi-head attention (Vaswani et al., "Attention Is All You Need").

    ``MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O`` with
    ``head_i = softmax(Q W_i^Q (K W_i^K)^T / sqrt(d) + mask) V W_i^V``, ``d = embed_dim / num_heads``.

    Args:
        embed_dim: model dim E (query features; output features).
        num_heads: parallel heads; must divide ``embed_dim``.
        dropout: dropout probability on the attention weights (training only).
        bias: in/out projection biases.
        add_bias_kv: learn ``bias_k``/``bias_v`` (1, 1, E), appended to the key/value sequences.
        add_zero_attn: append a zero key/value position (after the projections).
        kdim, vdim: key/value feature sizes (default ``embed_dim``); when they differ, separate
            ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` replace ``in_proj_weight``.
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).

    Forward: ``(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` -> ``(attn_output, attn_weights or None)``.
    ``key_padding_mask`` (N, S): True (or -inf) marks padding keys. ``attn_mask`` (L, S) or
    (N*num_heads, L, S): True marks forbidden pairs, a float mask is added to the scores.
    ``is_causal`` is a hint that ``attn_mask`` is the causal mask.

    Example:
        >>> mha = nn.MultiheadAttention(64, 8, batch_first=True)
        >>> x = nerve.randn(2, 10, 64)
        >>> out, w = mha(x, x, x)   # out (2, 10, 64), w (2, 10, 10)
    """

    __constants__ = ["batch_first"]

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **fk))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **fk))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **fk))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **fk))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **fk))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **fk)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **fk))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **fk))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's init: xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/bias_v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    reset_parameters = _reset_parameters

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"MultiheadAttention{self._path_suffix()}: {name} must be a Tensor, got "
                                f"{type(t).__name__}")
        qs = tuple(query._data.shape)
        if len(qs) in (2, 3) and qs[-1] != self.embed_dim:
            raise AssertionError(f"MultiheadAttention(embed_dim={self.embed_dim}){self._path_suffix()} got query of "
                                 f"shape {qs}: last dim must be {self.embed_dim}")
        for name, t, want in (("key", key, self.kdim), ("value", value, self.vdim)):
            s = tuple(t._data.shape)
            if len(s) in (2, 3) and s[-1] != want:
                raise AssertionError(f"MultiheadAttention({name[0]}dim={want}){self._path_suffix()} got {name} of "
                                     f"shape {s}: last dim must be {want}")
        is_batched = query._data.ndim == 3
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask),
                                           "attn_mask", query._data.dtype)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query._data.dtype, check_other=False)
        return _mha(query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
                    self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight,
                    self.out_proj.bias, training=self.training, key_padding_mask=key_padding_mask,
                    need_weights=need_weights, attn_mask=attn_mask,
                    use_separate_proj_weight=not self._qkv_same_embed_dim, q_proj_weight=self.q_proj_weight,
                    k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
                    average_attn_weights=average_attn_weights, is_causal=is_causal,
                    batch_first=self.batch_first and is_batched)

    def merge_masks(self, attn_mask, key_padding_mask, query):
        """Combine masks as PyTorch's fast path does: returns ``(merged_mask, mask_type)`` (0/1/2 or None)."""
        mask_type = merged = None
        if key_padding_mask is not None:
            mask_type, merged = 1, key_padding_mask
        if attn_mask is not None:
            batch_size, seq_len, _ = query.shape
            mask_type = 2
            if attn_mask.dim() == 3:
                merged = attn_mask.reshape(batch_size, -1, seq_len, seq_len)
            else:
                merged = attn_mask.reshape(1, 1, seq_len, seq_len).expand(batch_size, self.num_heads, -1, -1)
            if key_padding_mask is not None:
                merged = merged + key_padding_mask.reshape(batch_size, 1, 1, seq_len).expand(
                    -1, self.num_heads, -1, -1)
        return merged, mask_type
