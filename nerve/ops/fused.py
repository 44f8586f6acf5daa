"""Fused backward primitives for the hottest activations (as PyTorch's ``tanh_backward`` etc.).

Written as composites, ``g * (1 - out * out)`` costs three recorded ops and three temporaries per
backward step; on small tensors that Python overhead dominates (benchmarks/bench_core.py, chain).
Each fused op here computes the same value in one pass over NumPy buffers and is itself
differentiable (its own ``apply`` uses nerve ops), so ``create_graph=True`` still works.
tests/test_fused.py checks each one against its composite, values and gradients.
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import wrap
from ._helpers import attach, cnn_kernels, xp_of


def _record(out, node_cls, g, o):
    if gm.enabled and (g.requires_grad or o.requires_grad):
        n = node_cls(g, o)
        n.save(g, o)
        attach(out, n)
    return out


class TanhBackwardBackward(Node):
    __slots__ = ()

    def apply(self, gg):
        g, o = self.saved_tensors
        return (tanh_backward(gg, o) if self.next[0] is not None else None,
                gg * g * o * -2 if self.next[1] is not None else None)


def tanh_backward(g, out):
    """``g * (1 - out^2)``: the gradient of tanh given its output."""
    od = out._data
    r = 1 - od * od
    r *= g._data
    return _record(wrap(r), TanhBackwardBackward, g, out)


class SigmoidBackwardBackward(Node):
    __slots__ = ()

    def apply(self, gg):
        g, o = self.saved_tensors
        return (sigmoid_backward(gg, o) if self.next[0] is not None else None,
                gg * g * (1 - o * 2) if self.next[1] is not None else None)


def sigmoid_backward(g, out):
    """``g * out * (1 - out)``: the gradient of sigmoid given its output."""
    od = out._data
    r = 1 - od
    r *= od
    r *= g._data
    return _record(wrap(r), SigmoidBackwardBackward, g, out)


class ThresholdBackwardBackward(Node):
    __slots__ = ("mask",)

    def apply(self, gg):
        return (_masked(gg, self.mask), None)


def _masked(g, mask):
    r = wrap(g._data * mask)
    if gm.enabled and g.requires_grad:
        n = ThresholdBackwardBackward(g, None)
        n.mask = mask
        attach(r, n)
    return r


def threshold_backward(g, out, threshold=0.0):
    """``g`` where ``out <= threshold`` is false, else 0: the gradient of relu given its output.

    Written as PyTorch's ``out <= threshold ? 0 : g``, so a nan output passes ``g`` through.
    """
    od, gd = out._data, g._data
    kern = cnn_kernels(gd, od) if threshold == 0 and gd.shape == od.shape else None
    if kern is not None and not (gm.enabled and g.requires_grad):  # one threaded pass, no mask kept
        r = np.empty_like(gd)
        kern.run(kern.relu_grad, kern.chunks(gd.size), gd.reshape(-1), od.reshape(-1), r.reshape(-1))
        return wrap(r)
    xp = xp_of(od)
    m = xp.less_equal(od, threshold)
    return _masked(g, xp.logical_not(m, out=m) if m.ndim else ~m)


def relu_forward(xp, d):
    """``max(d, 0)`` as an array.

    ``np.maximum(d, 0)`` runs NumPy's scalar-operand loop, three times slower than the same max
    against a contiguous zero row broadcast over rows (0.52 vs 0.16 ms on 1.6M float32;
    benchmarks/profile_cnn_parts.py), so large contiguous float arrays are viewed as rows of at
    least 1024 elements (a trailing block of dims) and maxed against one zero row.
    """
    kern = cnn_kernels(d)
    if kern is not None:  # one pass, split over the threads when large
        r = np.empty_like(d)
        kern.run(kern.relu, kern.chunks(d.size), d.reshape(-1), r.reshape(-1))
        return r
    if d.dtype.kind == "f" and d.size >= 4096 and d.flags.c_contiguous:
        n = 1
        for s in reversed(d.shape):
            n *= s
            if n >= 1024:
                break
        if n <= (1 << 18):
            return xp.maximum(d.reshape(-1, n), xp.zeros((1, n), dtype=d.dtype)).reshape(d.shape)
    return xp.maximum(d, 0)
