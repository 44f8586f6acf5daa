"""Linear algebra: matmul and its relatives (mm, bmm, mv, dot, outer, einsum, ...).

matmul follows ``torch.matmul``: 1-D operands are promoted to matrices and the added dim removed,
batch dims broadcast. Gradients: dA = g @ B^T, dB = A^T @ g (the engine sums broadcast batch dims).
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import Tensor, wrap
from ._helpers import as_tensor_like, attach, register_methods, result_dtype
from .shape import reshape, transpose, unsqueeze, squeeze


def _shape_str(s):
    return "x".join(str(k) for k in s) if len(s) else "scalar"


def _mm_error(op, sa, sb):
    ka = sa[-1] if len(sa) else None
    kb = sb[-2] if len(sb) >= 2 else (sb[0] if len(sb) else None)
    return RuntimeError(f"{op}: cannot multiply ({_shape_str(sa)}) by ({_shape_str(sb)}): {ka} != {kb}")


class MatmulBackward(Node):
    __slots__ = ("a_vec", "b_vec")

    def apply(self, g):
        a, b = self.saved_tensors
        a_vec, b_vec = self.a_vec, self.b_vec
        if a_vec:
            g = unsqueeze(g, -2)
        if b_vec:
            g = unsqueeze(g, -1)
        ga = gb = None
        if self.next[0] is not None:
            ga = matmul(g, transpose(unsqueeze(b, -1) if b_vec else b, -1, -2))
            if a_vec:
                ga = squeeze(ga, -2)
        if self.next[1] is not None:
            gb = matmul(transpose(unsqueeze(a, 0) if a_vec else a, -1, -2), g)
            if b_vec:
                gb = squeeze(gb, -1)
        return ga, gb


def matmul(input, other, *, out=None):
    """Matrix product with broadcasting (``torch.matmul``).

    Shape: (..., n, k) @ (..., k, m) -> (..., n, m); a 1-D left operand is a row, a 1-D right one a
    column. Errors name both shapes: ``matmul: cannot multiply (64x784) by (512x10): 784 != 512``.
    """
    if not isinstance(input, Tensor):
        input = as_tensor_like(input, other, "matmul")
    if not isinstance(other, Tensor):
        other = as_tensor_like(other, input, "matmul")
    ad, bd = input._data, other._data
    if ad.ndim == 0 or bd.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got {ad.ndim}D and {bd.ndim}D "
                           "(use * for scalars)")
    if ad.dtype != bd.dtype:
        rd = result_dtype(ad, bd)
        if ad.dtype.kind != bd.dtype.kind and not (ad.dtype.kind == "f" and bd.dtype.kind == "f"):
            raise RuntimeError(f"matmul: expected both operands to have the same dtype, but got "
                               f"{input.dtype} and {other.dtype}")
        ad, bd = ad.astype(rd), bd.astype(rd)
    ka = ad.shape[-1]
    kb = bd.shape[-2] if bd.ndim >= 2 else bd.shape[0]
    if ka != kb:
        raise _mm_error("matmul", ad.shape, bd.shape)
    try:
        r = ad @ bd
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of ({_shape_str(ad.shape)}) and ({_shape_str(bd.shape)}) "
                           "cannot be broadcast together") from None
    if type(r) is not type(ad):
        r = np.asarray(r)
    res = wrap(r)
    if gm.enabled and (input.requires_grad or other.requires_grad):
        n = MatmulBackward(input, other)
        n.save(input if other.requires_grad else None, other if input.requires_grad else None)
        n.a_vec, n.b_vec = ad.ndim == 1, bd.ndim == 1
        attach(res, n)
    if out is not None:
        from .elementwise import _out  # noqa: PLC0415
        return _out(res, out)
    return res


def mm(input, mat2, *, out=None):
    """2-D matrix product."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.ndim}D and {mat2.ndim}D")
    if input.shape[1] != mat2.shape[0]:
        raise _mm_error("mm", input.shape, mat2.shape)
    return matmul(input, mat2, out=out)


def bmm(input, mat2, *, out=None):
    """Batched 3-D matrix product (no broadcasting)."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {input.ndim}D and {mat2.ndim}D")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {tuple(input.shape)} and {tuple(mat2.shape)}")
    if input.shape[2] != mat2.shape[1]:
        raise _mm_error("bmm", input.shape, mat2.shape)
    return matmul(input, mat2, out=out)


def mv(input, vec):
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got {input.ndim}D and {vec.ndim}D")
    return matmul(input, vec)


def dot(input, other):
    """Inner product of two 1-D tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                           f"[{other.shape[0]}] to have the same number of elements, but got "
                           f"{input.shape[0]} and {other.shape[0]} elements respectively")
    return matmul(input, other)


inner = dot
vdot = dot


def outer(input, vec2):
    """Outer product of two 1-D tensors: (n,) x (m,) -> (n, m)."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got {input.ndim}D and {vec2.ndim}D")
    return reshape(input, (-1, 1)) * reshape(vec2, (1, -1))


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    p = mm(mat1, mat2)
    if alpha != 1:
        p = p * alpha
    return p + (input if beta == 1 else input * beta)


register_methods({
    "matmul": matmul, "__matmul__": matmul, "__rmatmul__": lambda s, o: matmul(o, s), "mm": mm, "bmm": bmm,
    "mv": mv, "dot": dot, "inner": inner, "outer": outer, "ger": outer, "addmm": addmm,
})

__all__ = [
    "addmm", "bmm", "dot", "ger", "inner", "matmul", "mm", "mv", "outer", "vdot",
]
