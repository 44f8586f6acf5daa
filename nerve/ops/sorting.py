"""Sorting and selection: sort, argsort, topk, kthvalue, msort, searchsorted, bucketize, unique.

Selected values are gathered from the input by ``_take_along`` (``np.take_along_axis``), whose
gradient scatters ``g`` back to the source positions with ``_scatter_add_along``; each is the
other's backward, so second derivatives work. Index outputs are int64 and not differentiable.

Sorting is always stable, so the indices of equal values come out in their original order
(descending sorts too), which matches PyTorch whenever PyTorch's order is defined.
"""
from __future__ import annotations

import collections
import functools

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import Tensor, wrap
from ._helpers import attach, register_methods, wrap_dim, xp_of
from .shape import reshape


def axis_alias(fn):
    """Accept ``axis=`` for ``dim=``, as PyTorch's argument parser does for every dim argument."""
    @functools.wraps(fn)
    def op(*args, axis=None, **kwargs):
        if axis is not None:
            if "dim" in kwargs:
                raise TypeError(f"{fn.__name__}(): pass either dim or axis, not both")
            kwargs["dim"] = axis
        return fn(*args, **kwargs)
    return op


# ============================================================================ named result tuples
class _ReturnTypes:
    """``nerve.return_types``: the named tuples returned by max/min/sort/topk/... (``.values``, ...)."""

    def __repr__(self):
        return "<nerve.return_types>"


return_types = _ReturnTypes()


def _return_type(name, fields):
    base = collections.namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"nerve.return_types.{name}(\n{body})"

    # Found by pickle as nerve.ops.sorting.return_types.<name>.
    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": __name__,
                               "__qualname__": f"return_types.{name}"})
    setattr(return_types, name, cls)
    return cls


for _name in ("sort", "topk", "kthvalue", "max", "min", "median", "nanmedian", "mode", "cummax",
              "cummin"):
    _return_type(_name, ("values", "indices"))
_return_type("aminmax", ("min", "max"))


# ============================================================================ gather / scatter primitives
def _full_index(idx, dim):
    """The tuple of index arrays addressing ``idx``'s targets along ``dim`` (others: own position)."""
    xp = xp_of(idx)
    grid = []
    for i, n in enumerate(idx.shape):
        if i == dim:
            grid.append(idx)
        else:
            shape = [1] * idx.ndim
            shape[i] = n
            grid.append(xp.arange(n).reshape(shape))
    return tuple(grid)


class TakeAlongBackward(Node):
    __slots__ = ("indices", "dim", "in_shape", "unique")

    def apply(self, g):
        return (_scatter_add_along(g, self.indices, self.dim, self.in_shape, self.unique),)


def _take_along(input, indices, dim, unique=False):
    """``np.take_along_axis(input, indices, dim)`` (``indices``: an int array of the output's shape).

    Gradient: ``g`` scatter-added back to the positions it was taken from. ``unique`` promises no
    position is taken twice, which lets the scatter overwrite instead of accumulate.
    """
    d = input._data
    out = wrap(xp_of(d).take_along_axis(d, indices, axis=dim))
    if gm.enabled and input.requires_grad:
        n = TakeAlongBackward(input)
        n.indices, n.dim, n.in_shape, n.unique = indices, dim, d.shape, unique
        attach(out, n)
    return out


class ScatterAddAlongBackward(Node):
    __slots__ = ("indices", "dim")

    def apply(self, g):
        return (_take_along(g, self.indices, self.dim),)


def _scatter_add_along(src, indices, dim, shape, unique=False):
    """Zeros of ``shape`` with ``src`` added at ``indices`` along ``dim``. Gradient: take_along."""
    s = src._data
    xp = xp_of(s)
    z = xp.zeros(shape, dtype=s.dtype)
    if s.shape != indices.shape:
        s = xp.broadcast_to(s, indices.shape)
    key = _full_index(indices, dim)
    if unique:
        z[key] = s
    elif xp is np:
        np.add.at(z, key, s)
    else:  # pragma: no cover - GPU
        import cupyx  # noqa: PLC0415
        cupyx.scatter_add(z, key, s)
    out = wrap(z)
    if gm.enabled and src.requires_grad:
        n = ScatterAddAlongBackward(src)
        n.indices, n.dim = indices, dim
        attach(out, n)
    return out


def _select(input, idx_keep, dim, keepdim):
    """Values of ``input`` at ``idx_keep`` (size 1 along ``dim``) and the indices, as reductions give them."""
    idx = idx_keep
    if not keepdim:
        shape = idx_keep.shape[:dim] + idx_keep.shape[dim + 1:]
        idx = idx_keep.reshape(shape)
    d = input._data
    if gm.enabled and input.requires_grad:
        values = _take_along(input, idx_keep, dim, unique=True)
        if not keepdim:
            values = reshape(values, shape)
    else:
        v = xp_of(d).take_along_axis(d, idx_keep, axis=dim)
        values = wrap(v if keepdim else v.reshape(shape))
    return values, wrap(idx.astype(np.int64, copy=False))


def _as_1d(input):
    """0-d inputs are handled as shape (1,); returns (tensor, was_0d)."""
    if input._data.ndim == 0:
        return reshape(input, (1,)), True
    return input, False


def _check_tensor(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")


# ============================================================================ sort / argsort
def _argsort(d, axis, descending):
    """Stable argsort; descending keeps equal values in their original order (NaN first, as PyTorch)."""
    xp = xp_of(d)
    if not descending:
        return xp.argsort(d, axis=axis, kind="stable")
    n = d.shape[axis]
    i = xp.argsort(xp.flip(d, axis), axis=axis, kind="stable")
    return (n - 1) - xp.flip(i, axis)


@axis_alias
def sort(input, dim=-1, descending=False, stable=False):
    """Sort along ``dim``; returns ``(values, indices)``. Stable whatever ``stable`` says.

    Gradient: ``g`` scattered back to the positions the values came from.

    Example:
        >>> v, i = nerve.sort(nerve.tensor([3., 1., 2.]))      # v = [1, 2, 3], i = [1, 2, 0]
    """
    _check_tensor(input, "sort")
    x, was0 = _as_1d(input)
    dim = wrap_dim(dim, x._data.ndim, "sort")
    idx = _argsort(x._data, dim, descending)
    values = _take_along(x, idx, dim, unique=True)
    idx = idx.astype(np.int64, copy=False)
    if was0:
        values, idx = reshape(values, ()), idx.reshape(())
    return return_types.sort(values, wrap(idx))


@axis_alias
def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim`` (int64, stable)."""
    _check_tensor(input, "argsort")
    d = input._data
    if d.ndim == 0:
        return wrap(xp_of(d).zeros((), dtype=np.int64))
    dim = wrap_dim(dim, d.ndim, "argsort")
    return wrap(_argsort(d, dim, descending).astype(np.int64, copy=False))


def msort(input):
    """``sort(input, dim=0).values``."""
    return sort(input, dim=0).values


# ============================================================================ topk / kthvalue
@axis_alias
def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
    """The ``k`` largest (or smallest) elements along ``dim``: ``(values, indices)``, best first.

    Gradient: ``g`` scattered back to the selected positions.
    """
    _check_tensor(input, "topk")
    x, was0 = _as_1d(input)
    d = x._data
    dim = wrap_dim(dim, d.ndim, "topk")
    n = d.shape[dim]
    k = int(k)
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k={k} out of range for dimension {dim} of size {n} "
                           f"(input shape {tuple(input.shape)}): k must be in [0, {n}]")
    xp = xp_of(d)
    sl = [slice(None)] * d.ndim
    if 0 < k and k * 8 < n and d.dtype.kind in "fiu":
        # Partition first (O(n)), then sort only the k chosen, best first, ties by position.
        kth = n - k if largest else k - 1
        part = xp.argpartition(d, kth, axis=dim)
        sl[dim] = slice(n - k, n) if largest else slice(0, k)
        cand = xp.sort(part[tuple(sl)], axis=dim)
        vals = xp.take_along_axis(d, cand, axis=dim)
        order = _argsort(vals, dim, largest)
        idx = xp.take_along_axis(cand, order, axis=dim)
    else:
        idx = _argsort(d, dim, largest)
        sl[dim] = slice(0, k)
        idx = idx[tuple(sl)]
    idx = xp.ascontiguousarray(idx)
    values = _take_along(x, idx, dim, unique=True)
    idx = idx.astype(np.int64, copy=False)
    if was0:
        values, idx = reshape(values, ()), idx.reshape(())
    return return_types.topk(values, wrap(idx))


def _kth_index(d, dim, k_idx):
    """Index (keepdim shape) of the element of rank ``k_idx`` (0-based) along ``dim``, in O(n).

    Among equal values the first occurrence is returned (PyTorch leaves that choice to its
    quickselect); NaN ranks last.
    """
    xp = xp_of(d)
    part = xp.argpartition(d, k_idx, axis=dim)
    v = xp.take_along_axis(d, xp.take(part, xp.asarray([k_idx]), axis=dim), axis=dim)
    same = d == v
    if d.dtype.kind == "f":
        same |= xp.isnan(d) & xp.isnan(v)
    return same.argmax(axis=dim, keepdims=True)


@axis_alias
def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element (1-based) along ``dim``: ``(values, indices)``.

    Gradient: ``g`` goes to the selected position.
    """
    _check_tensor(input, "kthvalue")
    x, was0 = _as_1d(input)
    d = x._data
    dim = wrap_dim(dim, d.ndim, "kthvalue")
    n = d.shape[dim]
    k = int(k)
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k={k} out of range for dimension {dim} of size {n} "
                           f"(input shape {tuple(input.shape)}): k must be in [1, {n}]")
    values, idx = _select(x, _kth_index(d, dim, k - 1), dim, keepdim or was0)
    if was0:
        values, idx = reshape(values, ()), reshape(idx, ())
    return return_types.kthvalue(values, idx)


# ============================================================================ searchsorted / bucketize
def _side(right, side, op):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{op}(): side can only be 'left' or 'right' but got '{side}'")
        if right and side == "left":
            raise RuntimeError(f"{op}(): side and right can't be set to opposites, got side of left while "
                               "right was True")
        return side
    return "right" if right else "left"


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices where ``input`` would be inserted into ``sorted_sequence`` to keep it sorted.

    ``sorted_sequence`` is 1-D, or N-D with the same leading dims as ``input`` (one search per row).
    ``right`` / ``side='right'`` returns the last valid position. Not differentiable.
    """
    _check_tensor(sorted_sequence, "searchsorted")
    side = _side(right, side, "searchsorted")
    seq = sorted_sequence._data
    xp = xp_of(seq)
    scalar = not isinstance(input, Tensor)
    vals = xp.asarray(input) if scalar else input._data
    srt = None if sorter is None else (sorter._data if isinstance(sorter, Tensor) else xp.asarray(sorter))
    if srt is not None and srt.shape != seq.shape:
        raise RuntimeError(f"searchsorted(): boundary and sorter must have the same size, but got boundary "
                           f"shape {tuple(seq.shape)} and sorter shape {tuple(srt.shape)}")
    odt = np.int32 if out_int32 else np.int64
    if seq.ndim == 1:
        r = xp.searchsorted(seq, vals, side=side, sorter=srt)
        return wrap(xp.asarray(r, dtype=odt))
    if scalar or vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]:
        raise RuntimeError(
            f"searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
            f"tensor and input value tensor must match, but we got boundaries tensor {list(seq.shape)} and "
            f"input value tensor {list(np.shape(vals))}")
    s2 = seq.reshape(-1, seq.shape[-1])
    v2 = vals.reshape(-1, vals.shape[-1])
    o2 = None if srt is None else srt.reshape(-1, srt.shape[-1])
    r = xp.empty(v2.shape, dtype=odt)
    for i in range(s2.shape[0]):
        r[i] = xp.searchsorted(s2[i], v2[i], side=side, sorter=None if o2 is None else o2[i])
    return wrap(r.reshape(vals.shape))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """Index of the bucket of each element: ``boundaries[i-1] < x <= boundaries[i]`` (``right=False``).

    ``right=True`` uses ``boundaries[i-1] <= x < boundaries[i]``. ``boundaries`` is 1-D.
    """
    _check_tensor(boundaries, "bucketize")
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries._data.ndim}) (shape {tuple(boundaries.shape)})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ============================================================================ unique
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (sorted), or distinct slices along ``dim``. Not differentiable.

    Returns a tensor, or a tuple ``(output, inverse_indices, counts)`` with what was asked for.
    """
    _check_tensor(input, "unique")
    d = input._data
    xp = xp_of(d)
    if dim is None:
        r = xp.unique(d.reshape(-1), return_inverse=return_inverse, return_counts=return_counts)
        inv_shape = d.shape
    else:
        dim = wrap_dim(dim, d.ndim, "unique")
        if d.shape[dim] == 0:
            r = (d,) + ((xp.zeros((0,), np.int64),) if return_inverse else ()) + \
                ((xp.zeros((0,), np.int64),) if return_counts else ())
        else:
            r = xp.unique(d, axis=dim, return_inverse=return_inverse, return_counts=return_counts)
        inv_shape = (d.shape[dim],)
    if not (return_inverse or return_counts):
        return wrap(r if not isinstance(r, tuple) else r[0])
    out = [wrap(r[0])]
    k = 1
    if return_inverse:
        out.append(wrap(r[k].reshape(inv_shape).astype(np.int64, copy=False)))
        k += 1
    if return_counts:
        out.append(wrap(r[k].astype(np.int64, copy=False)))
    return tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``). Not differentiable."""
    _check_tensor(input, "unique_consecutive")
    d = input._data
    xp = xp_of(d)
    if dim is None:
        a = d.reshape(-1)
        moved = a.reshape(-1, 1)
        inv_shape = d.shape
    else:
        dim = wrap_dim(dim, d.ndim, "unique_consecutive")
        a = d
        moved = xp.moveaxis(d, dim, 0).reshape(d.shape[dim], -1)
        inv_shape = (d.shape[dim],)
    n = moved.shape[0]
    if n == 0:
        starts = xp.zeros((0,), dtype=np.int64)
    else:
        change = (moved[1:] != moved[:-1]).any(axis=1)
        starts = xp.concatenate([xp.zeros((1,), dtype=np.int64), xp.nonzero(change)[0] + 1])
    vals = a[starts] if dim is None else xp.take(a, starts, axis=dim)
    if not (return_inverse or return_counts):
        return wrap(vals)
    out = [wrap(vals)]
    if return_inverse:
        inv = xp.zeros((n,), dtype=np.int64)
        if n:
            inv[starts[1:]] = 1
            inv = xp.cumsum(inv)
        out.append(wrap(inv.reshape(inv_shape)))
    if return_counts:
        out.append(wrap(xp.diff(xp.concatenate([starts, xp.asarray([n], dtype=np.int64)])).astype(np.int64)))
    return tuple(out)


register_methods({
    "sort": sort, "argsort": argsort, "msort": msort, "topk": topk, "kthvalue": kthvalue,
    "unique": unique, "unique_consecutive": unique_consecutive,
})

__all__ = [
    "argsort", "bucketize", "kthvalue", "msort", "return_types", "searchsorted", "sort", "topk", "unique",
    "unique_consecutive",
]
