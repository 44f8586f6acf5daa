"""Linear algebra: matmul and its relatives (mm, bmm, mv, dot, outer, einsum, ...).

matmul follows ``torch.matmul``: 1-D operands are promoted to matrices and the added dim removed,
batch dims broadcast. Gradients: dA = g @ B^T, dB = A^T @ g (the engine sums broadcast batch dims).
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import Tensor, wrap
from . import _gemm
from ._helpers import as_tensor_like, attach, register_methods, xp_of
from .shape import expand, reshape, transpose, unsqueeze, squeeze


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
        if a_vec and b_vec:  # dot product: g is 0-d
            return (g * b if self.next[0] is not None else None, g * a if self.next[1] is not None else None)
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
    ka = ad.shape[-1]
    kb = bd.shape[-2] if bd.ndim >= 2 else bd.shape[0]
    if ka != kb:
        raise _mm_error("matmul", ad.shape, bd.shape)
    if ad.dtype != bd.dtype:
        # PyTorch does not promote here: a float64 tensor meeting float32 weights is usually a bug
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, but got {input.dtype} and "
                           f"{other.dtype} (cast one with .to(dtype))")
    try:
        if ad.ndim == 2 and bd.ndim == 2:
            r = _gemm.matmul(ad, bd)
        elif ad.ndim > 2 and bd.ndim == 2 and ad.flags.c_contiguous and type(ad) is np.ndarray:
            # (..., n, k) @ (k, m) as one (N*n, k) @ (k, m) product
            r = _gemm.matmul(ad.reshape(-1, ka), bd).reshape(ad.shape[:-1] + (bd.shape[1],))
        else:
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


def vdot(input, other):
    """Inner product of two 1-D tensors (real tensors: same as ``dot``)."""
    return dot(input, other)


def inner(input, other):
    """Sum of products over the last dim: shape ``input.shape[:-1] + other.shape[:-1]``.

    0-d operands multiply. Gradient: through matmul.
    """
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    if other.ndim == 1:
        return matmul(input, other)
    k = other.shape[-1]
    r = matmul(input, transpose(reshape(other, (-1, k)), 0, 1))
    return reshape(r, tuple(input.shape[:-1]) + tuple(other.shape[:-1]))


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


# ============================================================================ einsum
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class EinsumBackward(Node):
    """Gradient of operand k: an einsum of g with the other operands (see ``_einsum_grad``)."""

    __slots__ = ("terms", "out_term", "sizes")

    def apply(self, g):
        ops = self.saved_tensors
        return tuple(_einsum_grad(k, g, ops, self.terms, self.out_term, self.sizes) if self.next[k] is not None
                     else None for k in range(len(ops)))


def _einsum_core(terms, out_term, tensors):
    """The differentiable primitive: validated letter-only terms, no broadcasting left to do."""
    if len(tensors) == 1 and terms[0] == out_term:
        return tensors[0]
    arrays = [t._data for t in tensors]
    eq = ",".join(terms) + "->" + out_term
    xp = xp_of(arrays[0])
    # optimize=True routes contractions through BLAS (tensordot) and orders multi-operand products;
    # its path search costs ~20 us, more than a small contraction, so small inputs skip it
    big = len(arrays) > 1 and sum(a.size for a in arrays) > 4096
    r = xp.einsum(eq, *arrays, optimize=big)
    r = xp.asarray(r)
    if any(xp.may_share_memory(r, a) for a in arrays):
        r = r.copy()  # NumPy returns views for transposes/diagonals; an op result owns its memory
    out = wrap(r)
    if gm.enabled and any(t.requires_grad for t in tensors):
        n = EinsumBackward(*tensors)
        n.save(*tensors)
        n.terms, n.out_term = tuple(terms), out_term
        n.sizes = {c: k for t, term in zip(arrays, terms) for c, k in zip(term, t.shape)}
        attach(out, n)
    return out


def _einsum_grad(k, g, ops, terms, out_term, sizes):
    """d einsum / d operand k, built from einsums of nerve Tensors (so it is differentiable again).

    Letters of operand k that appear nowhere else were summed over: the gradient is computed
    without them and expanded back. A repeated letter (a diagonal, 'ii') gets its gradient on the
    diagonal only: the gradient over the unique letters is spread with identity matrices.
    """
    term = terms[k]
    others = [i for i in range(len(ops)) if i != k]
    elsewhere = set(out_term).union(*[terms[i] for i in others])
    unique = "".join(dict.fromkeys(term))
    keep = "".join(c for c in unique if c in elsewhere)
    h = _einsum_core([out_term] + [terms[i] for i in others], keep, [g] + [ops[i] for i in others])
    if keep != unique:  # letters summed inside operand k only: broadcast the gradient over them
        h = reshape(h, tuple(sizes[c] if c in keep else 1 for c in unique))
        h = expand(h, tuple(sizes[c] for c in unique))
    if unique == term:
        return h
    # repeated letters: give each repeat a fresh letter and tie it to the first with an identity matrix
    free = [c for c in _LETTERS if c not in sizes]
    fresh, ties, eyes = [], [], []
    seen = set()
    xp = xp_of(g._data)
    for c in term:
        if c in seen:
            f = free.pop()
            fresh.append(f)
            ties.append(c + f)
            eyes.append(wrap(xp.eye(sizes[c], dtype=g._data.dtype)))
        else:
            seen.add(c)
            fresh.append(c)
    return _einsum_core([unique] + ties, "".join(fresh), [h] + eyes)


def _einsum_error(equation, operands, msg):
    shapes = ", ".join(str(tuple(t.shape)) for t in operands)
    return RuntimeError(f"einsum(): {msg} (equation '{equation}', operand shapes {shapes})")


def _sublist_equation(args):
    """Convert ``einsum(op0, sublist0, op1, sublist1, ..., [out_sublist])`` to an equation string."""
    operands, subs = [], []
    args = list(args)
    out = None
    if len(args) % 2 == 1:
        out = args.pop()
    for i in range(0, len(args), 2):
        operands.append(args[i])
        subs.append(args[i + 1])

    def term(sub):
        parts = []
        for x in sub:
            if x is Ellipsis:
                parts.append("...")
            elif isinstance(x, int) and 0 <= x < 52:
                parts.append(_LETTERS[26 + x] if x < 26 else _LETTERS[x - 26])
            else:
                raise ValueError(f"einsum(): subscript in sublist must be Ellipsis or an int in [0, 52), got {x!r}")
        return "".join(parts)
    eq = ",".join(term(sub) for sub in subs)
    if out is not None:
        eq += "->" + term(out)
    return eq, operands


def einsum(equation, *operands):
    """Sum of products over labelled dims, in Einstein notation (``torch.einsum``).

    Supports implicit output (``'ij,jk'``: the labels seen once, sorted, after the broadcast
    ``...`` dims), explicit output (``'ij,jk->ik'``), ellipsis broadcasting (``'...ij,...jk->...ik'``),
    repeated labels (traces and diagonals: ``'ii'``, ``'ii->i'``), size-1 dims broadcasting against
    the same label, any number of operands (given as arguments or as one list), and the sublist
    form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.

    Gradient of operand k: the einsum of the output gradient with the other operands, producing
    operand k's labels (expanded over labels only it has, and placed on the diagonal for repeated
    labels). Forward contractions go through ``np.einsum(optimize=True)`` (BLAS).

    Example:
        >>> nerve.einsum('bij,bjk->bik', a, b)      # batched matmul
        >>> nerve.einsum('ii', m)                   # trace
    """
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = [t if isinstance(t, Tensor) else as_tensor_like(t, name="einsum") for t in operands]
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->", 1)
        explicit = True
        if "->" in out:
            raise _einsum_error(equation, operands, "more than one '->' in the equation")
    else:
        lhs, out, explicit = eq, "", False
    in_terms = lhs.split(",")
    if not operands:
        raise RuntimeError(f"einsum(): must provide at least one operand (equation '{equation}')")
    if len(in_terms) != len(operands):
        more = "fewer" if len(operands) < len(in_terms) else "more"
        raise _einsum_error(equation, operands, f"{more} operands were provided than specified in the equation "
                                                f"({len(operands)} given, {len(in_terms)} terms)")
    dtypes = {t._data.dtype for t in operands}
    if len(dtypes) > 1:
        raise _einsum_error(equation, operands, "operands must have the same dtype, got "
                                                + " and ".join(str(t.dtype) for t in operands))

    def split_term(term, where):
        """Labels of a term, with None standing for the ellipsis."""
        if term.count("...") > 1:
            raise _einsum_error(equation, operands, f"more than one ellipsis in {where}")
        labels = []
        rest = term.replace("...", "\0")
        for c in rest:
            if c == "\0":
                labels.append(None)
            elif c in _LETTERS:
                labels.append(c)
            elif c == ".":
                raise _einsum_error(equation, operands, f"found '.' for {where} that is not part of any ellipsis")
            else:
                raise _einsum_error(equation, operands, f"invalid subscript {c!r} in {where}: subscripts must be "
                                                        "in [a-zA-Z]")
        return labels

    parsed = [split_term(t, f"operand {i}") for i, t in enumerate(in_terms)]
    used = {c for labels in parsed for c in labels if c is not None}
    # the ellipsis dims of each operand, right-aligned and broadcast together
    ell_ndim = 0
    for i, (labels, t) in enumerate(zip(parsed, operands)):
        n_named = sum(c is not None for c in labels)
        has_ell = None in labels
        if t.ndim < n_named or (not has_ell and t.ndim != n_named):
            raise _einsum_error(equation, operands, f"the number of subscripts in the equation ({n_named}) does not "
                                                    f"match the number of dimensions ({t.ndim}) for operand {i}"
                                                    + ("" if has_ell else " and no ellipsis was given"))
        if has_ell:
            ell_ndim = max(ell_ndim, t.ndim - n_named)
    free = [c for c in _LETTERS if c not in used]
    if ell_ndim > len(free):
        raise _einsum_error(equation, operands, "too many dimensions: at most 52 labels in all")
    ell = "".join(free[:ell_ndim])

    terms = []
    for labels, t in zip(parsed, operands):
        n_ell = t.ndim - sum(c is not None for c in labels)
        terms.append("".join(ell[ell_ndim - n_ell:] if c is None else c for c in labels))

    # sizes per label: repeated labels within an operand must agree; across operands size 1 broadcasts
    sizes = {}
    for i, (term, t) in enumerate(zip(terms, operands)):
        local = {}
        for c, n in zip(term, t.shape):
            if local.setdefault(c, n) != n:
                raise _einsum_error(equation, operands, f"subscript {c} is repeated for operand {i} but the sizes "
                                                        f"don't match, {local[c]} != {n}")
        for c, n in local.items():
            cur = sizes.get(c)
            if cur is None or cur == 1:
                sizes[c] = n
            elif n != 1 and n != cur:
                what = "a dimension covered by the ellipsis" if c in ell else f"subscript {c}"
                raise _einsum_error(equation, operands, f"{what} has size {n} for operand {i} which does not "
                                                        f"broadcast with previously seen size {cur}")

    if explicit:
        out_labels = split_term(out, "the output")
        if None in out_labels and not ell_ndim and not any(None in p for p in parsed):
            raise _einsum_error(equation, operands, "ellipsis in the output but not in any input")
        out_term = "".join(ell if c is None else c for c in out_labels)
        for c in out_term:
            if c not in sizes:
                raise _einsum_error(equation, operands, f"output subscript {c} does not appear in the equation for "
                                                        "any input operand")
            if out_term.count(c) > 1:
                raise _einsum_error(equation, operands, f"output subscript {c} appears more than once in the output")
    else:
        counts = {}
        for term in terms:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        out_term = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))

    # a size-1 dim broadcast against a larger one is the same as that operand not having the label
    tensors = []
    for k, (term, t) in enumerate(zip(terms, operands)):
        drop = [j for j, c in enumerate(term) if t.shape[j] == 1 and sizes[c] != 1]
        if drop:
            t = reshape(t, tuple(n for j, n in enumerate(t.shape) if j not in drop))
            term = "".join(c for j, c in enumerate(term) if j not in drop)
            terms[k] = term
        tensors.append(t)
    if tensors[0]._data.dtype == np.bool_ and any(c not in out_term for term in terms for c in term):
        tensors = [t.long() for t in tensors]  # a sum over bools counts, as in PyTorch
    return _einsum_core(terms, out_term, tensors)


register_methods({
    "matmul": matmul, "__matmul__": matmul, "__rmatmul__": lambda s, o: matmul(o, s), "mm": mm, "bmm": bmm,
    "mv": mv, "dot": dot, "vdot": vdot, "inner": inner, "outer": outer, "ger": outer, "addmm": addmm,
})

__all__ = [
    "addmm", "bmm", "dot", "einsum", "ger", "inner", "matmul", "mm", "mv", "outer", "vdot",
]
