"""Joining and splitting: cat, stack, split, chunk, unbind, narrow, flip, roll, repeat, tril, ...

Splits return tuples of views, one single-output view op per piece (``take_key`` with a basic
key), so each piece's gradient flows back on its own. ``cat`` is a primitive whose backward
slices g with the same views. Most of the rest is composed from shape and index primitives and
gets its gradient free; ``flip``, ``roll``, ``tril``/``triu`` and ``diagonal`` (with its adjoint
``diagonal_scatter``) are primitives whose backward is the same kind of op.
"""
from __future__ import annotations

import builtins

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import Tensor, wrap
from ..backend import dtypes as _dt
from ._helpers import attach, register_methods, wrap_dim, xp_of
from .elementwise import _check_inplace, apply_inplace
from .index import _Key, index_select, take_key
from .reduce import sum as _sum
from .shape import _sizes, as_view, clone, expand, reshape, unsqueeze

_FULL = slice(None)


def _slice_key(dim, start, stop):
    return _Key((_FULL,) * dim + (slice(start, stop), Ellipsis), True)


def _select_key(dim, index):
    return _Key((_FULL,) * dim + (index, Ellipsis), True)


def _tensor_list(tensors, op):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, not Tensor")
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected a sequence of Tensors, but element {i} is {type(t).__name__}")
    return tensors


# ============================================================================ cat / stack
class CatBackward(Node):
    __slots__ = ("dim", "bounds")

    def apply(self, g):
        grads = []
        for i, b in enumerate(self.bounds):
            if self.next[i] is None:
                grads.append(None)
            elif b is None:  # a legacy empty (0,) input took no part
                grads.append(take_key(reshape(g, (-1,)), _Key((slice(0, 0), Ellipsis), True)))
            else:
                grads.append(take_key(g, _slice_key(self.dim, b[0], b[1])))
        return tuple(grads)


def cat(tensors, dim=0, *, out=None):
    """Concatenate tensors along ``dim`` (same shape elsewhere); dtypes are promoted.

    Legacy empty tensors of shape (0,) are skipped, as in PyTorch. Gradient: the matching
    slice of g for each input.

    Example:
        >>> nerve.cat([nerve.zeros(2, 3), nerve.ones(1, 3)]).shape   # (3, 3)
    """
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    rd = tensors[0]._data.dtype
    for t in tensors[1:]:
        if t._data.dtype != rd:
            rd = _dt.promote_types(rd, t._data.dtype)
    used = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)]
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    if not used:
        r = wrap(xp_of(tensors[0]._data).zeros((0,), dtype=rd))
        dim = wrap_dim(dim, 1, "cat")
        used_idx = []
    else:
        ref = used[0]._data
        dim = wrap_dim(dim, ref.ndim, "cat")
        used_idx = [i for i, t in enumerate(tensors) if not (t._data.ndim == 1 and t._data.shape[0] == 0)]
        for i in used_idx:
            s = tensors[i]._data.shape
            if len(s) != ref.ndim:
                raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {len(s)}")
            for k in range(ref.ndim):
                if k != dim and s[k] != ref.shape[k]:
                    raise RuntimeError(
                        f"Sizes of tensors must match except in dimension {dim}. Expected size {ref.shape[k]} but "
                        f"got size {s[k]} for tensor number {i} in the list.")
        arrs = [tensors[i]._data for i in used_idx]
        arrs = [a if a.dtype == rd else a.astype(rd) for a in arrs]
        r = wrap(xp_of(arrs[0]).concatenate(arrs, axis=dim))
    if gm.enabled and any(t.requires_grad for t in tensors) and rd.kind == "f":
        n = CatBackward(*tensors)
        n.dim = dim
        bounds = [None] * len(tensors)
        off = 0
        for i in used_idx:
            k = tensors[i]._data.shape[dim]
            bounds[i] = (off, off + k)
            off += k
        n.bounds = bounds
        attach(r, n)
    if out is not None:
        from .elementwise import _out  # noqa: PLC0415
        return _out(r, out)
    return r


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Join equally shaped tensors along a new dim ``dim``. Gradient: g's slices along it."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0 = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != s0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(s0)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    dim = wrap_dim(dim, len(s0) + 1, "stack")
    return cat([unsqueeze(t, dim) for t in tensors], dim, out=out)


def _atleast(t, n):
    d = t._data
    if d.ndim >= n:
        return t
    if n == 1 or d.ndim == 0:
        shape = (1,) * (n - d.ndim) + d.shape
    elif n == 2:
        shape = (1,) + d.shape
    else:  # 3-D: (N,) -> (1, N, 1); (M, N) -> (M, N, 1)
        shape = (1,) + d.shape + (1,) if d.ndim == 1 else d.shape + (1,)
    return reshape(t, shape)


def hstack(tensors, *, out=None):
    """Concatenate column-wise: along dim 0 for 1-D tensors, dim 1 otherwise."""
    ts = [_atleast(t, 1) for t in _tensor_list(tensors, "hstack")]
    if not ts:
        raise RuntimeError("hstack expects a non-empty TensorList")
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Concatenate row-wise (1-D tensors become rows)."""
    ts = [_atleast(t, 2) for t in _tensor_list(tensors, "vstack")]
    if not ts:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return cat(ts, 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    """Concatenate depth-wise, along dim 2 (inputs made at least 3-D)."""
    ts = [_atleast(t, 3) for t in _tensor_list(tensors, "dstack")]
    if not ts:
        raise RuntimeError("dstack expects a non-empty TensorList")
    return cat(ts, 2, out=out)


def column_stack(tensors, *, out=None):
    """Stack as columns: 0-d and 1-D tensors become (N, 1) columns, then cat along dim 1."""
    ts = []
    for t in _tensor_list(tensors, "column_stack"):
        d = t._data
        ts.append(reshape(t, (d.size, 1)) if d.ndim <= 1 else t)
    if not ts:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    return cat(ts, 1, out=out)


# ============================================================================ splitting
def split(tensor, split_size_or_sections, dim=0):
    """Split into views of ``split_size`` along ``dim`` (the last may be smaller), or into the
    listed sizes. Each piece's gradient is scattered back to its slice."""
    d = tensor._data
    dim = wrap_dim(dim, d.ndim, "split")
    n = d.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)) or (
            isinstance(split_size_or_sections, Tensor) and split_size_or_sections._data.ndim == 0):
        s = int(split_size_or_sections)
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        if s == 0:
            if n != 0:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
            return (take_key(tensor, _slice_key(dim, 0, 0)),)
        sizes = [s] * (n // s) + ([n % s] if n % s else [])
        if not sizes:
            sizes = [0]
    else:
        sizes = [int(v) for v in split_size_or_sections]
        if builtins.sum(sizes) != n or any(v < 0 for v in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {dim}), but got split_sizes={sizes}")
    return _pieces(tensor, dim, sizes)


def _pieces(tensor, dim, sizes):
    out = []
    off = 0
    for s in sizes:
        out.append(take_key(tensor, _slice_key(dim, off, off + s)))
        off += s
    return tuple(out)


def split_with_sizes(input, split_sizes, dim=0):
    return split(input, list(split_sizes), dim)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` views of size ceil(n / chunks) along ``dim`` (maybe fewer pieces)."""
    chunks = int(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = input._data
    dim = wrap_dim(dim, d.ndim, "chunk")
    n = d.shape[dim]
    if n == 0:
        return tuple(take_key(input, _slice_key(dim, 0, 0)) for _ in range(chunks))
    size = -(-n // chunks)
    return split(input, size, dim)


def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``n`` nearly equal views (the first n % size one longer), or at the given indices."""
    d = input._data
    dim = wrap_dim(dim, d.ndim, "tensor_split")
    n = d.shape[dim]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype.kind not in "iu":
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have an integer dtype")
        ios = int(ios.item()) if ios._data.ndim == 0 else [int(v) for v in ios._data.tolist()]
    if isinstance(ios, (int, np.integer)):
        k = int(ios)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        return _pieces(input, dim, sizes)
    out = []
    prev = 0
    for i in list(ios) + [n]:
        i = builtins.min(builtins.max(int(i) if int(i) >= 0 else int(i) + n, 0), n)
        start = builtins.min(prev, n)
        stop = builtins.max(i, start)
        out.append(take_key(input, _slice_key(dim, start, stop)))
        prev = i
    return tuple(out)


def hsplit(input, indices_or_sections):
    return tensor_split(input, indices_or_sections, 0 if input._data.ndim == 1 else 1)


def vsplit(input, indices_or_sections):
    return tensor_split(input, indices_or_sections, 0)


def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple of views (the dim removed)."""
    d = input._data
    dim = wrap_dim(dim, d.ndim, "unbind")
    return tuple(take_key(input, _select_key(dim, i)) for i in range(d.shape[dim]))


def narrow(input, dim, start, length):
    """The view ``input[..., start:start + length, ...]`` along ``dim`` (start may be negative)."""
    d = input._data
    dim = wrap_dim(dim, d.ndim, "narrow")
    n = d.shape[dim]
    start = int(start.item()) if isinstance(start, Tensor) else int(start)
    length = int(length)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return take_key(input, _slice_key(dim, start, start + length))


def select(input, dim, index):
    """The view ``input[..., index, ...]`` along ``dim`` (that dim removed)."""
    d = input._data
    dim = wrap_dim(dim, d.ndim, "select")
    n = d.shape[dim]
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(d.shape)} at dimension {dim}")
    return take_key(input, _select_key(dim, index + n if index < 0 else index))


# ============================================================================ flip / roll
class FlipBackward(Node):
    __slots__ = ("dims",)

    def apply(self, g):
        return (flip(g, self.dims),)


def flip(input, dims):
    """Reverse the order along ``dims`` (a copy, as PyTorch). Gradient: flip(g, dims)."""
    d = input._data
    if isinstance(dims, (int, np.integer)):
        dims = (int(dims),)
    dims = tuple(dims)
    w = [wrap_dim(k, d.ndim, "flip") for k in dims]
    if len(set(w)) != len(w):
        dup = next(k for k in w if w.count(k) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    w = tuple(w)
    r = xp_of(d).flip(d, axis=w).copy() if w and d.ndim else d.copy()
    out = wrap(r)
    if gm.enabled and input.requires_grad:
        n = FlipBackward(input)
        n.dims = w
        attach(out, n)
    return out


def fliplr(input):
    """Flip left/right (dim 1); input must be at least 2-D."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """Flip up/down (dim 0); input must be at least 1-D."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class RollBackward(Node):
    __slots__ = ("shifts", "dims")

    def apply(self, g):
        return (roll(g, tuple(-s for s in self.shifts), self.dims),)


def roll(input, shifts, dims=None):
    """Shift elements cyclically along ``dims`` (the flattened tensor when None). Gradient: roll back."""
    d = input._data
    shifts = (int(shifts),) if isinstance(shifts, (int, np.integer)) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: with dims=None shifts must be a single int, got {shifts}")
        r = xp_of(d).roll(d, shifts[0])
        wdims = None
    else:
        dims = (int(dims),) if isinstance(dims, (int, np.integer)) else tuple(int(k) for k in dims)
        if len(shifts) != len(dims):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
        wdims = tuple(wrap_dim(k, d.ndim, "roll") for k in dims)
        r = xp_of(d).roll(d, shifts, axis=wdims) if d.ndim else d.copy()
    out = wrap(r)
    if gm.enabled and input.requires_grad:
        n = RollBackward(input)
        n.shifts, n.dims = shifts, wdims
        attach(out, n)
    return out


# ============================================================================ repeat / tile
def repeat(input, *sizes):
    """Tile the tensor ``sizes[i]`` times along each dim (leading sizes add dims). Always a copy.

    Built from reshape and expand, so the gradient sums g over the copies.
    """
    sizes = _sizes(sizes, "repeat")
    d = input._data
    if len(sizes) < d.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           f"tensor (repeat dims {list(sizes)}, tensor of shape {list(d.shape)})")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension: repeat({list(sizes)})")
    shape = (1,) * (len(sizes) - d.ndim) + d.shape
    inter = []
    big = []
    for s, n in zip(sizes, shape):
        inter += [1, n]
        big += [s, n]
    x = reshape(input, tuple(inter))
    x = expand(x, tuple(big))
    r = reshape(x, tuple(s * n for s, n in zip(sizes, shape)))
    if xp_of(d).may_share_memory(r._data, d):
        r = clone(r)
    return r


def tile(input, *dims):
    """Like ``repeat``, but ``dims`` shorter than the tensor's rank is padded with leading 1s."""
    dims = _sizes(dims, "tile")
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + tuple(dims)
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (int or one count per element) along ``dim``
    (the flattened tensor when None). ``repeat_interleave(counts)`` gives the repeated indices."""
    if repeats is None:
        counts = input._data
        if counts.ndim > 1 or counts.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be a 0-dim or 1-dim integer tensor")
        return wrap(xp_of(counts).repeat(xp_of(counts).arange(counts.size), counts.reshape(-1)))
    x = input
    if dim is None:
        x = reshape(x, (-1,))
        dim = 0
    d = x._data
    dim = wrap_dim(dim, d.ndim, "repeat_interleave")
    if isinstance(repeats, Tensor) and repeats._data.size == 1:
        repeats = int(repeats.item())
    if isinstance(repeats, (int, np.integer)):
        r = int(repeats)
        if r < 0:
            raise RuntimeError("repeat_interleave: repeats can not be negative")
        if d.ndim == 0:
            x, d = reshape(x, (1,)), d.reshape(1)
        shape = d.shape
        y = unsqueeze(x, dim + 1)
        y = expand(y, shape[:dim + 1] + (r,) + shape[dim + 1:])
        return reshape(y, shape[:dim] + (shape[dim] * r,) + shape[dim + 1:])
    counts = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    n = d.shape[dim] if d.ndim else 1
    if counts.ndim != 1 or counts.shape[0] != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{counts.shape[0] if counts.ndim else 0} and input.size({dim}) = {n}")
    if bool((counts < 0).any()):
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    idx = xp_of(counts).repeat(xp_of(counts).arange(n), counts)
    return index_select(x, dim, wrap(idx))


# ============================================================================ triangles and diagonals
class TriBackward(Node):
    __slots__ = ("lower", "k")

    def apply(self, g):
        return ((tril if self.lower else triu)(g, self.k),)


def _tri(input, diagonal, lower):
    d = input._data
    op = "tril" if lower else "triu"
    if d.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    k = int(diagonal)
    xp = xp_of(d)
    r = xp.tril(d, k) if lower else xp.triu(d, k)
    out = wrap(r)
    if gm.enabled and input.requires_grad:
        n = TriBackward(input)
        n.lower, n.k = lower, k
        attach(out, n)
    return out


def tril(input, diagonal=0):
    """The lower triangle of the last two dims (elements with j - i <= diagonal), zeros elsewhere.

    Gradient: tril(g, diagonal).
    """
    return _tri(input, diagonal, True)


def triu(input, diagonal=0):
    """The upper triangle of the last two dims (elements with j - i >= diagonal). Gradient: triu(g)."""
    return _tri(input, diagonal, False)


def tril_(self, diagonal=0):
    _check_inplace(self, "tril_")
    return apply_inplace(self, tril(self, diagonal), "tril_")


def triu_(self, diagonal=0):
    _check_inplace(self, "triu_")
    return apply_inplace(self, triu(self, diagonal), "triu_")


def _diag_view(d, offset, d1, d2):
    """A writable strided view of the ``offset`` diagonal of dims (d1, d2), appended as the last dim."""
    xp = xp_of(d)
    shape, strides = d.shape, d.strides
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        length = builtins.max(0, builtins.min(n1, n2 - offset))
        sub = d[(_FULL,) * d2 + (slice(offset, None),)] if length else d
    else:
        length = builtins.max(0, builtins.min(n1 + offset, n2))
        sub = d[(_FULL,) * d1 + (slice(-offset, None),)] if length else d
    keep = [i for i in range(d.ndim) if i not in (d1, d2)]
    new_shape = tuple(shape[i] for i in keep) + (length,)
    new_strides = tuple(strides[i] for i in keep) + (strides[d1] + strides[d2],)
    return xp.lib.stride_tricks.as_strided(sub, new_shape, new_strides, writeable=bool(d.flags.writeable))


def _diag_dims(ndim, offset, dim1, dim2, op):
    a = wrap_dim(dim1, ndim, op)
    b = wrap_dim(dim2, ndim, op)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return int(offset), a, b


class DiagonalBackward(Node):
    __slots__ = ("in_shape", "offset", "d1", "d2")

    def apply(self, g):
        return (_diagonal_scatter_zeros(g, self.in_shape, self.offset, self.d1, self.d2),)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The ``offset`` diagonal of dims (dim1, dim2) as a view, appended as the last dim.

    Gradient: g written on that diagonal of zeros.
    """
    d = input._data
    offset, a, b = _diag_dims(d.ndim, offset, dim1, dim2, "diagonal")
    out = as_view(wrap(_diag_view(d, offset, a, b)), input, _diagonal_of, (offset, a, b))
    if gm.enabled and input.requires_grad:
        n = DiagonalBackward(input)
        n.in_shape, n.offset, n.d1, n.d2 = d.shape, offset, a, b
        attach(out, n)
    return out


def _diagonal_of(input, arg):
    return diagonal(input, *arg)


class DiagonalScatterBackward(Node):
    __slots__ = ("offset", "d1", "d2")

    def apply(self, g):
        return (diagonal(g, self.offset, self.d1, self.d2),)


def _diagonal_scatter_zeros(values, shape, offset, d1, d2):
    """Zeros of ``shape`` with ``values`` on the diagonal (the adjoint of ``diagonal``)."""
    vd = values._data
    z = xp_of(vd).zeros(shape, dtype=vd.dtype)
    _diag_view(z, offset, d1, d2)[...] = vd
    out = wrap(z)
    if gm.enabled and values.requires_grad:
        n = DiagonalScatterBackward(values)
        n.offset, n.d1, n.d2 = offset, d1, d2
        attach(out, n)
    return out


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices (in dims dim1, dim2 of the result) with the last dim of ``input`` on the ``offset``
    diagonal. Gradient: the diagonal of g."""
    d = input._data
    if d.ndim == 0:
        raise RuntimeError("diag_embed: input must be at least 1-D")
    nd = d.ndim + 1
    offset, a, b = _diag_dims(nd, offset, dim1, dim2, "diag_embed")
    m = d.shape[-1] + abs(offset)
    rest = iter(d.shape[:-1])
    shape = tuple(m if i in (a, b) else next(rest) for i in range(nd))
    return _diagonal_scatter_zeros(input, shape, offset, a, b)


_diagonal = diagonal  # diag's argument is called ``diagonal`` too


def diag(input, diagonal=0):
    """1-D input: a square matrix with it on the ``diagonal``-th diagonal; 2-D: that diagonal (a copy)."""
    d = input._data
    k = int(diagonal)
    if d.ndim == 1:
        m = d.shape[0] + abs(k)
        return _diagonal_scatter_zeros(input, (m, m), k, 0, 1)
    if d.ndim == 2:
        return clone(_diagonal(input, k, 0, 1))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {d.ndim}D")


def diagflat(input, offset=0):
    """A matrix with the flattened input on the ``offset`` diagonal."""
    return diag(reshape(input, (-1,)), offset)


def trace(input):
    """Sum of the main diagonal of a matrix. Gradient: g on the diagonal of zeros."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    return _sum(diagonal(input))


# ============================================================================ grids
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D (or 0-d) tensors: expanded views, 'ij' (default) or 'xy' indexing."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = _tensor_list(tensors, "meshgrid")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor of "
                               f"shape {tuple(t._data.shape)}")
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    swap = indexing == "xy" and len(tensors) >= 2
    ts = list(tensors)
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    sizes = tuple(t._data.size for t in ts)
    nd = len(ts)
    grids = []
    for i, t in enumerate(ts):
        shape = [1] * nd
        shape[i] = sizes[i]
        grids.append(expand(reshape(t, tuple(shape)), sizes))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """All combinations of the 1-D inputs' elements, as rows of an (N, len(tensors)) tensor."""
    tensors = _tensor_list(tensors, "cartesian_prod")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def atleast_1d(*tensors):
    return _atleast_n(tensors, 1)


def atleast_2d(*tensors):
    return _atleast_n(tensors, 2)


def atleast_3d(*tensors):
    return _atleast_n(tensors, 3)


def _atleast_n(tensors, n):
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return _atleast(tensors[0], n)
    if len(tensors) == 1:
        tensors = tuple(tensors[0])
    return tuple(_atleast(t, n) for t in tensors)


def _split_method(self, split_size, dim=0):
    return split(self, split_size, dim)


def _repeat_method(self, *sizes):
    return repeat(self, *sizes)


def _flip_method(self, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return flip(self, dims)


register_methods({
    "split": _split_method, "split_with_sizes": split_with_sizes, "chunk": chunk, "tensor_split": tensor_split,
    "hsplit": hsplit, "vsplit": vsplit, "unbind": unbind, "narrow": narrow, "select": select,
    "flip": _flip_method, "fliplr": fliplr, "flipud": flipud, "roll": roll, "repeat": _repeat_method,
    "tile": tile, "repeat_interleave": repeat_interleave, "tril": tril, "triu": triu, "tril_": tril_,
    "triu_": triu_, "diagonal": diagonal, "diag": diag, "diag_embed": diag_embed, "diagflat": diagflat,
    "trace": trace,
})

__all__ = [
    "atleast_1d", "atleast_2d", "atleast_3d", "cartesian_prod", "cat", "chunk", "column_stack", "concat",
    "concatenate", "diag", "diag_embed", "diagflat", "diagonal", "dstack", "flip", "fliplr", "flipud", "hsplit",
    "hstack", "meshgrid", "narrow", "repeat_interleave", "roll", "row_stack", "select", "split", "stack",
    "tensor_split", "tile", "trace", "tril", "triu", "unbind", "vsplit", "vstack",
]
