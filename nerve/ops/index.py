"""Indexing: tensor[...] get/set, gather, scatter, index_select, masked ops, nonzero.

Everything differentiable here rests on two adjoint primitives over a normalised NumPy index
(``_Key``):

* ``take(x, key)`` reads ``x[key]``. A basic key (ints, slices, None) gives a view sharing the
  version counter; an advanced key (full slices and integer arrays) gives a copy.
  Gradient: ``put_zeros(g, x.shape, key)``.
* ``put_zeros(g, shape, key)`` scatter-adds ``g`` into zeros of ``shape`` (repeated indices add up).
  Gradient: ``take(g2, key)``.

Each is the other's backward, so second derivatives of every indexing op come for free.
``_index_put(x, key, v)`` (out-of-place ``x[key] = v``) carries setitem, scatter, index_fill,
index_copy and masked_scatter; gather, index_select, take and masked_select are ``take`` with an
advanced key; scatter_add and index_add are ``x + put_zeros(src, ...)``.

PyTorch's order of evaluation is kept: integers, slices and None are applied first (a view), then
the index tensors on the result, whose broadcast dims go in place when they are adjacent and in
front otherwise (as NumPy). So ``x[0, :, [1, 2]]`` has shape (B, 2) as in PyTorch, not (2, B) as
in NumPy.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import Tensor, wrap
from ._helpers import as_tensor_like, attach, register_methods, wrap_dim, xp_of
from .elementwise import _check_inplace, apply_inplace, where
from .shape import as_view, cast, expand, reshape

try:  # optional (pip install numba)
    from . import _index_numba as _ixk
except ImportError:  # pragma: no cover - depends on the install
    _ixk = None


# ============================================================================ keys
class _Key:
    """A normalised NumPy index. ``basic``: ints/slices/None (+ a trailing Ellipsis) -> a view.
    Otherwise ``idx`` holds full slices and integer arrays (non-negative, bounds-checked)."""

    __slots__ = ("idx", "basic")

    def __init__(self, idx, basic):
        self.idx = idx
        self.basic = basic

    def __repr__(self):
        return f"_Key({self.idx!r}, basic={self.basic})"


_FULL = slice(None)
_INDEX_TYPES_MSG = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                    "indices (got {})")


def _is_full(s):
    return isinstance(s, slice) and s.start is None and s.stop is None and (s.step is None or s.step == 1)


def _seq_as_tuple(seq) -> bool:
    """PyTorch's (NumPy's legacy) rule: a short list holding slices, None, ..., tensors or sequences
    is read as a tuple of indices (``x[[0, [1, 2]]]`` is ``x[0, [1, 2]]``)."""
    if len(seq) >= 32:
        return False
    for it in seq:
        if it is None or it is Ellipsis or isinstance(it, (slice, Tensor, list, tuple, np.ndarray)):
            return True
    return False


def _as_index_array(it):
    """An index array from a Tensor / ndarray / list, or raise PyTorch's IndexError."""
    if isinstance(it, Tensor):
        arr = it._data
        k = arr.dtype.kind
        if k == "b" or arr.dtype == np.uint8:
            return arr.astype(bool, copy=False) if k != "b" else arr
        if k == "i" and arr.dtype.itemsize >= 4:
            return arr
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    arr = it if isinstance(it, np.ndarray) else np.asarray(
        [x.item() if isinstance(x, Tensor) else x for x in it] if isinstance(it, (list, tuple)) else it)
    if arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.int64)  # x[[]] selects nothing
    k = arr.dtype.kind
    if k in "iub":
        return arr
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


def _check_range(arr, size, dim):
    """Wrap negative indices; raise PyTorch's IndexError for out-of-range ones."""
    if arr.size == 0:
        return arr.astype(np.intp, copy=False) if arr.dtype.kind != "i" else arr
    xp = xp_of(arr)
    bad = (arr < -size) | (arr >= size)
    if bool(bad.any()):
        v = int(arr.ravel()[int(xp.argmax(bad.ravel()))])
        raise IndexError(f"index {v} is out of bounds for dimension {dim} with size {size}")
    if bool((arr < 0).any()):
        arr = xp.where(arr < 0, arr + size, arr)
    return arr


def _parse_index(shape, index):
    """Turn a PyTorch index into (basic _Key or None, advanced _Key or None), applied in that order."""
    if not isinstance(index, tuple):
        index = tuple(index) if isinstance(index, list) and _seq_as_tuple(index) else (index,)
    # First pass: classify each item and count the input dims it consumes.
    items = []
    consumed = 0
    ellipsis = False
    for it in index:
        if it is None:
            items.append(("none", None))
        elif it is Ellipsis:
            if ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            ellipsis = True
            items.append(("ell", None))
        elif isinstance(it, (bool, np.bool_)):
            items.append(("bool", bool(it)))
        elif isinstance(it, (int, np.integer)):
            items.append(("int", int(it)))
            consumed += 1
        elif isinstance(it, slice):
            items.append(("slice", it))
            consumed += 1
        elif isinstance(it, (Tensor, np.ndarray, list, tuple, range)):
            arr = _as_index_array(list(it) if isinstance(it, range) else it)
            if arr.dtype.kind == "b":
                if arr.ndim == 0:
                    items.append(("bool", bool(arr)))
                else:
                    items.append(("mask", arr))
                    consumed += arr.ndim
            elif arr.ndim == 0:
                items.append(("int", int(arr)))  # a 0-d integer tensor acts as an int (a view)
                consumed += 1
            else:
                items.append(("arr", arr))
                consumed += 1
        else:
            raise IndexError(_INDEX_TYPES_MSG.format(type(it).__name__))
    ndim = len(shape)
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")

    basic = []
    adv = []  # (position in the intermediate result, array)
    dim = 0  # input dim
    odim = 0  # dim of the result of the basic step
    plain = True  # basic step is the identity (only full slices)
    for kind, v in items:
        if kind == "ell":
            n = ndim - consumed
            basic.extend([_FULL] * n)
            dim += n
            odim += n
        elif kind == "int":
            size = shape[dim]
            if not -size <= v < size:
                raise IndexError(f"index {v} is out of bounds for dimension {dim} with size {size}")
            basic.append(v + size if v < 0 else v)
            plain = False
            dim += 1
        elif kind == "slice":
            step = 1 if v.step is None else operator.index(v.step)
            if step == 0:
                raise ValueError("slice step cannot be zero")
            if step < 0:
                raise ValueError("step must be greater than zero")
            s = slice(None if v.start is None else operator.index(v.start),
                      None if v.stop is None else operator.index(v.stop), step)
            if not _is_full(s):
                plain = False
            basic.append(s)
            dim += 1
            odim += 1
        elif kind == "none":
            basic.append(None)
            plain = False
            odim += 1
        elif kind == "bool":
            # PyTorch: unsqueeze, then index the new dim with [0] (True) or [] (False).
            basic.append(None)
            plain = False
            adv.append((odim, np.zeros(1 if v else 0, dtype=np.intp)))
            odim += 1
        elif kind == "arr":
            arr = _check_range(v, shape[dim], len(adv))
            basic.append(_FULL)
            adv.append((odim, arr))
            dim += 1
            odim += 1
        else:  # mask: its true positions index the dims it covers
            k = v.ndim
            mshape = tuple(v.shape)
            tshape = tuple(shape[dim:dim + k])
            for j in range(k):
                if mshape[j] != tshape[j]:
                    raise IndexError(
                        f"The shape of the mask {list(mshape)} at index {j} does not match the shape of the "
                        f"indexed tensor {list(shape)} at index {dim + j}")
            for a in xp_of(v).nonzero(v):
                basic.append(_FULL)
                adv.append((odim, a))
                dim += 1
                odim += 1

    bkey = None if (plain and adv) else _Key(tuple(basic) + (Ellipsis,), True)
    akey = None
    if adv:
        try:
            np.broadcast_shapes(*[a.shape for _, a in adv])
        except ValueError:
            shapes = ", ".join(str(list(a.shape)) for _, a in adv)
            raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes "
                             f"{shapes}") from None
        idx = [_FULL] * (adv[-1][0] + 1)
        for p, a in adv:
            idx[p] = a
        akey = _Key(tuple(idx), False)
    return bkey, akey


def _dim_key(ndim, dim, arr):
    """Advanced key selecting ``arr`` (1-D, checked) along ``dim``."""
    return _Key((_FULL,) * dim + (arr,), False)


def _grid_key(index_arr, dim):
    """Advanced key for gather/scatter: ``index`` along ``dim``, the position itself elsewhere."""
    shape = index_arr.shape
    nd = len(shape)
    xp = xp_of(index_arr)
    idx = []
    for d in range(nd):
        if d == dim:
            idx.append(index_arr)
        else:
            r = [1] * nd
            r[d] = shape[d]
            idx.append(xp.arange(shape[d]).reshape(r))
    return _Key(tuple(idx), False)


# ============================================================================ the two primitives
class TakeBackward(Node):
    __slots__ = ("key", "in_shape")

    def apply(self, g):
        return (put_zeros(g, self.in_shape, self.key),)


def take_key(input, key: _Key) -> Tensor:
    """``input[key]`` for a normalised key: a view for basic keys, a copy for advanced ones.

    Gradient: ``put_zeros(g, input.shape, key)`` (scatter-add, so repeated indices accumulate).
    """
    d = input._data
    r = d[key.idx]
    if key.basic:
        out = as_view(wrap(r), input, take_key, key)
    else:
        out = wrap(r if type(r) is type(d) else xp_of(d).asarray(r))
    if gm.enabled and input.requires_grad:
        n = TakeBackward(input)
        n.key, n.in_shape = key, d.shape
        attach(out, n)
    return out


class PutZerosBackward(Node):
    __slots__ = ("key",)

    def apply(self, g):
        return (take_key(g, self.key),)


def _leading_range(key, shape):
    """(start, stop) when a basic key picks rows start:stop (step 1, or one row) of axis 0 and every
    remaining axis whole, else None."""
    idx = key.idx if isinstance(key.idx, tuple) else (key.idx,)
    if not idx or not shape or not all(_is_full(s) for s in idx[1:]) or len(idx) > len(shape):
        return None
    first = idx[0]
    if isinstance(first, slice):
        start, stop, step = first.indices(shape[0])
        return (start, max(start, stop)) if step == 1 else None
    if isinstance(first, (int, np.integer)) and not isinstance(first, bool):
        i = int(first) + (shape[0] if first < 0 else 0)
        return i, i + 1
    return None


def put_zeros(values, shape, key: _Key) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``key`` (the adjoint of ``take_key``).

    ``values`` must have the shape of ``zeros(shape)[key]``. Gradient: ``take_key(g, key)``.
    """
    d = values._data
    xp = xp_of(d)
    lead = _leading_range(key, shape) if key.basic else None
    if lead is not None:   # rows start:stop of axis 0: only the rows outside them are zero-filled
        out = xp.empty(shape, dtype=d.dtype)
        out[:lead[0]] = 0
        out[lead[1]:] = 0
        out[key.idx] = d
    elif key.basic:
        out = xp.zeros(shape, dtype=d.dtype)
        out[key.idx] = d
    else:
        out = xp.zeros(shape, dtype=d.dtype)
        _scatter_add_into(out, key.idx, d)
    r = wrap(out)
    if gm.enabled and values.requires_grad:
        n = PutZerosBackward(values)
        n.key = key
        attach(r, n)
    return r


def _scatter_add_into(out, idx, vals):
    """``out[idx] += vals`` with repeated indices accumulated (np.add.at semantics), in place.

    ``out`` must be C-contiguous. Float data takes a sort+reduceat path for one leading index
    array over wide rows (embedding gradients) and a bincount path otherwise; both are several
    times faster than np.add.at.
    """
    xp = xp_of(out)
    if xp is not np:  # pragma: no cover - GPU
        import cupyx  # noqa: PLC0415
        cupyx.scatter_add(out, idx, vals)
        return
    if out.size == 0 or vals.size == 0:
        return
    if out.dtype.kind != "f":
        np.add.at(out, idx, vals)
        return
    first = idx[0]
    lead = isinstance(first, np.ndarray) and first.ndim >= 1 and all(_is_full(s) for s in idx[1:])
    row = out.size // out.shape[0] if lead else 0
    if lead and row >= 16:
        i = first.ravel()
        v = np.broadcast_to(vals, first.shape + out.shape[1:]).reshape(i.size, row)
        if i.size:
            lo, hi = int(i.min()), int(i.max())
            if lo < -out.shape[0] or hi >= out.shape[0]:
                raise IndexError(f"index {hi if hi >= out.shape[0] else lo} is out of bounds for dimension 0 "
                                 f"with size {out.shape[0]}")
            if lo < 0:   # -1 and n - 1 are one row
                i = np.where(i < 0, i + out.shape[0], i)
            if _ixk is not None and out.dtype == v.dtype:   # one compiled pass, np.add.at's sums
                _ixk.scatter_rows(out.reshape(out.shape[0], row), i, v)
                return
        order = np.argsort(i, kind="stable")
        si = i[order]
        starts = np.flatnonzero(np.concatenate(([True], si[1:] != si[:-1])))
        out.reshape(out.shape[0], row)[si[starts]] += np.add.reduceat(v[order], starts, axis=0)
        return
    if out.size > 4 * vals.size + (1 << 16):  # the position table would dwarf the work
        np.add.at(out, idx, vals)
        return
    lin = np.asarray(np.arange(out.size).reshape(out.shape)[idx])
    w = np.broadcast_to(vals, lin.shape)
    acc = np.bincount(lin.ravel(), weights=w.ravel(), minlength=out.size)
    out += acc.reshape(out.shape).astype(out.dtype, copy=False)


def _take_keys(x, bkey, akey):
    if bkey is not None:
        x = take_key(x, bkey)
    if akey is not None:
        x = take_key(x, akey)
    return x


def _assign(arr, bkey, akey, vd, op):
    """``arr[bkey][akey] = vd`` on raw arrays, with PyTorch's error for bad value shapes."""
    tgt = arr[bkey.idx] if bkey is not None else arr
    try:
        if akey is not None:
            tgt[akey.idx] = vd
        else:
            tgt[...] = vd
    except ValueError:
        rshape = tgt[akey.idx].shape if akey is not None else tgt.shape
        raise RuntimeError(f"{op}: shape mismatch: value tensor of shape {list(np.shape(vd))} cannot be "
                           f"broadcast to indexing result of shape {list(rshape)}") from None


# ============================================================================ out-of-place index_put
class IndexPutBackward(Node):
    __slots__ = ("bkey", "akey", "in_shape", "v_ndim")

    def apply(self, g):
        gx = gv = None
        if self.next[0] is not None:
            gd = g._data
            keep = xp_of(gd).ones(self.in_shape, dtype=gd.dtype)
            _assign(keep, self.bkey, self.akey, 0, "index_put")
            gx = g * keep
        if self.next[1] is not None:
            gv = _take_keys(g, self.bkey, self.akey)
            extra = self.v_ndim - gv._data.ndim
            if extra > 0:  # the value had leading size-1 dims that assignment dropped
                gv = reshape(gv, (1,) * extra + gv._data.shape)
        return gx, gv


def _index_put(input, bkey, akey, values, op="index_put"):
    """Out of place ``input[bkey][akey] = values`` (values broadcast).

    Gradients: input gets g with the written positions zeroed; values get ``g[key]`` (summed back
    to their shape by the engine).
    """
    d = input._data
    vd = values._data
    out = d.copy()
    _assign(out, bkey, akey, vd, op)
    r = wrap(out)
    if gm.enabled and (input.requires_grad or values.requires_grad) and d.dtype.kind == "f":
        n = IndexPutBackward(input, values)
        n.bkey, n.akey, n.in_shape, n.v_ndim = bkey, akey, d.shape, vd.ndim
        attach(r, n)
    return r


def _value_tensor(value, ref: Tensor, op: str) -> Tensor:
    """A number or tensor written into ``ref``: a Tensor of ref's dtype (differentiable cast)."""
    if isinstance(value, Tensor):
        if value._data.dtype != ref._data.dtype:
            return cast(value, ref._data.dtype)
        return value
    if isinstance(value, (numbers.Number, np.generic)):
        return wrap(xp_of(ref._data).asarray(value, dtype=ref._data.dtype))
    t = as_tensor_like(value, ref, op)
    return cast(t, ref._data.dtype)


# ============================================================================ __getitem__ / __setitem__
def getitem(input, index):
    """``input[index]`` with PyTorch's semantics.

    Ints (negative too), slices with positive steps, None, ``...``, bool masks and integer
    tensors/lists (advanced indexing, broadcast together). Ints, slices and None give a view;
    index tensors give a copy. Gradient: g scattered back (added) into zeros of the input's shape.

    Example:
        >>> x = nerve.arange(12.).reshape(3, 4)
        >>> x[1:, [0, 0, 3]].shape         # (2, 3)
        >>> x[x > 5]                       # the 6 values above 5, as a 1-D tensor
    """
    bkey, akey = _parse_index(input._data.shape, index)
    if bkey is None and akey is None:  # pragma: no cover - _parse_index always gives one
        bkey = _Key((Ellipsis,), True)
    return _take_keys(input, bkey, akey)


def setitem(self, index, value):
    """``self[index] = value`` in place (value: tensor, number or array, broadcast).

    Under grad mode, when self or value requires grad, the write is recorded: self takes the
    history of an out-of-place ``index_put`` (gradient to self: g zeroed where written; to value:
    ``g[index]`` summed to its shape). A leaf that requires grad cannot be written (PyTorch's rule).
    """
    d = self._data
    bkey, akey = _parse_index(d.shape, index)
    vt = value if isinstance(value, Tensor) else None
    if gm.enabled and (self.requires_grad or (vt is not None and vt.requires_grad)) and d.dtype.kind == "f":
        _check_inplace(self, "setitem")
        _setitem_recorded(self, bkey, akey, _value_tensor(value, self, "setitem"))
        return
    if not d.flags.writeable:
        raise RuntimeError("setitem: unsupported operation: the tensor is an expanded (read-only) view; "
                           "clone() it before writing")
    if vt is not None:
        vd = vt._data
    elif isinstance(value, (numbers.Number, np.generic)):
        vd = value
    else:
        vd = _value_tensor(value, self, "setitem")._data
    _assign(d, bkey, akey, vd, "setitem")
    self._vc[0] += 1


def _setitem_recorded(self, bkey, akey, v):
    """Recorded ``self[key] = v``: write only the indexed positions (no full copy, unlike
    ``apply_inplace``), then give self an IndexPut node whose edges hold self's previous history.
    The node saves nothing of self, so writing over self's memory is safe."""
    if self._base is not None:
        # A view (x[i][j] = v): the out-of-place result goes through apply_inplace, which rebases
        # the base's history (CopySlices). Costs a copy of the view, not of the base.
        apply_inplace(self, _index_put(self, bkey, akey, v, "setitem"), "setitem")
        return
    d = self._data
    if not d.flags.writeable:
        raise RuntimeError("setitem: unsupported operation: the tensor is an expanded (read-only) view; "
                           "clone() it before writing")
    n = IndexPutBackward(self, v)
    _assign(d, bkey, akey, v._data, "setitem")
    self._vc[0] += 1
    n.bkey, n.akey, n.in_shape, n.v_ndim = bkey, akey, d.shape, v._data.ndim
    attach(self, n)


# ============================================================================ helpers for dim ops
def _index_array(index, op, name="index"):
    if not isinstance(index, Tensor):
        index = as_tensor_like(index, name=op)
    d = index._data
    if d.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for {name}, got {index.dtype}")
    return d


def _inplace(name, fn):
    """In-place twin of an out-of-place op: compute, then write into self (recorded if needed)."""
    def op(self, *args, **kwargs):
        _check_inplace(self, name)
        return apply_inplace(self, fn(self, *args, **kwargs), name)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In-place version of ``{name[:-1]}``."
    return op


def _check_gather_shapes(op, in_shape, idx_shape, dim, src_shape=None):
    for d in range(len(idx_shape)):
        if d != dim and idx_shape[d] > in_shape[d]:
            if src_shape is None:
                raise RuntimeError(f"{op}: Size does not match at dimension {d} expected index {list(idx_shape)} "
                                   f"to be no larger than self {list(in_shape)} apart from dimension {dim}")
            raise RuntimeError(f"{op}: Expected index {list(idx_shape)} to be no larger than self {list(in_shape)} "
                               f"apart from dimension {dim} and to be no larger size than src {list(src_shape)}")
        if src_shape is not None and idx_shape[d] > src_shape[d]:
            raise RuntimeError(f"{op}: Expected index {list(idx_shape)} to be no larger than self {list(in_shape)} "
                               f"apart from dimension {dim} and to be no larger size than src {list(src_shape)}")


def _gather_key(op, input, dim, index, src_shape=None):
    """Validate gather/scatter arguments; returns (dim, key, index shape) on the (>=1-d) input."""
    d = input._data
    idx = _index_array(index, op)
    nd = max(d.ndim, 1)
    if max(idx.ndim, 1) != nd:
        raise RuntimeError(f"{op}: Index tensor must have the same number of dimensions as input tensor "
                           f"(index {tuple(idx.shape)}, input {tuple(d.shape)})")
    dim = wrap_dim(dim, d.ndim, op)
    in_shape = d.shape if d.ndim else (1,)
    idx = idx.reshape(idx.shape if idx.ndim else (1,))
    if src_shape is not None:
        src_shape = tuple(src_shape) if len(src_shape) else (1,)
        if len(src_shape) != nd:
            raise RuntimeError(f"{op}: Index tensor must have the same number of dimensions as src tensor "
                               f"(index {tuple(idx.shape)}, src {src_shape})")
    _check_gather_shapes(op, in_shape, idx.shape, dim, src_shape)
    size = in_shape[dim]
    if idx.size:
        xp = xp_of(idx)
        bad = (idx < 0) | (idx >= size)
        if bool(bad.any()):
            v = int(idx.ravel()[int(xp.argmax(bad.ravel()))])
            raise RuntimeError(f"{op}: index {v} is out of bounds for dimension {dim} with size {size}")
    return dim, _grid_key(idx, dim), idx.shape


def _as_1d(t):
    return reshape(t, (1,)) if t._data.ndim == 0 else t


def _src_block(src, shape):
    """The leading ``shape`` block of ``src`` (scatter uses only src[:i0, :i1, ...])."""
    s = src._data.shape
    if tuple(s) == tuple(shape):
        return src
    return take_key(src, _Key(tuple(slice(0, n) for n in shape) + (Ellipsis,), True))


# ============================================================================ gather / scatter
def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[index[i][j]][j]`` (dim=0): pick along ``dim`` by ``index``.

    ``index`` has input's number of dims and is no larger in the other dims; the result has
    index's shape. Gradient: scatter-add of g into zeros at the same positions.

    Example:
        >>> x = nerve.tensor([[1., 2.], [3., 4.]])
        >>> nerve.gather(x, 1, nerve.tensor([[0, 0], [1, 0]]))   # [[1, 1], [4, 3]]
    """
    dim, key, ishape = _gather_key("gather", input, dim, index)
    r = take_key(_as_1d(input), key)
    idx_nd = index._data.ndim if isinstance(index, Tensor) else np.ndim(index)
    return reshape(r, ()) if idx_nd == 0 else r


def _scatter_src(op, input, index, src, value):
    if src is not None and not isinstance(src, Tensor):
        value, src = src, None
    if src is None and value is None:
        raise TypeError(f"{op}() needs src or value")
    if src is not None and src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype ({input.dtype} vs {src.dtype})")
    return src, value


class _NoGradBackward(Node):
    def apply(self, g):
        raise RuntimeError(f"derivative for {self.what} is not implemented")


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Out-of-place ``input[..., index[i][j], ...] = src[i][j]`` along ``dim`` (src: tensor or number).

    ``reduce='add'|'multiply'`` combines instead of overwriting (no gradient, as PyTorch).
    Gradients: input gets g zeroed at the written positions; src gets ``g.gather(dim, index)``.
    """
    src, value = _scatter_src("scatter", input, index, src, value)
    d = input._data
    sshape = src._data.shape if src is not None else None
    dim, key, ishape = _gather_key("scatter", input, dim, index, sshape)
    x = _as_1d(input)
    if src is not None:
        v = _src_block(_as_1d(src), ishape)
    else:
        v = _value_tensor(value, input, "scatter")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
        out = x._data.copy()
        vals = np.broadcast_to(v._data, ishape) if xp_of(out) is np else v._data
        if reduce == "add":
            _scatter_add_into(out, key.idx, vals)
        else:
            (np.multiply.at if xp_of(out) is np else xp_of(out).multiply.at)(out, key.idx, vals)
        r = wrap(out.reshape(d.shape))
        if gm.enabled and (input.requires_grad or (src is not None and src.requires_grad)):
            n = _NoGradBackward(input, src)
            n.what = "scatter with reduce"
            attach(r, n)
        return r
    r = _index_put(x, None, key, v, "scatter")
    return reshape(r, d.shape) if d.ndim == 0 else r


def scatter_add(input, dim, index, src):
    """``input`` with ``src`` added along ``dim`` at ``index`` (repeated indices add up).

    Gradients: input gets g; src gets ``g.gather(dim, index)``.
    """
    if not isinstance(src, Tensor):
        raise TypeError("scatter_add(): src must be a Tensor")
    _scatter_src("scatter_add", input, index, src, None)
    d = input._data
    dim, key, ishape = _gather_key("scatter_add", input, dim, index, src._data.shape)
    x = _as_1d(input)
    r = x + put_zeros(_src_block(_as_1d(src), ishape), x._data.shape, key)
    return reshape(r, d.shape) if d.ndim == 0 else r


class ScatterExtremumBackward(Node):
    """amax/amin: the gradient is shared equally by every element equal to the result."""

    __slots__ = ("key", "w_self", "w_src")

    def apply(self, g):
        return (g * self.w_self if self.next[0] is not None else None,
                take_key(g, self.key) * self.w_src if self.next[1] is not None else None)


class ScatterProdBackward(Node):
    """prod: d out / d v = out / v for every factor v written (so those must be nonzero)."""

    __slots__ = ("key", "untouched", "include_self")

    def apply(self, g):
        x, src = self.saved_tensors
        out = self.saved_output()
        gi = gs = None
        if self.next[0] is not None:
            if self.include_self:
                # positions nothing was written to pass g through; keep x = 0 there out of the division
                safe_x = where(self.untouched, 1.0, x)
                gi = where(self.untouched, g, g * out / safe_x)
            else:
                gi = g * self.untouched.astype(g._data.dtype)
        if self.next[1] is not None:
            gs = take_key(g * out, self.key) / src
        return gi, gs


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into ``input`` along ``dim`` at ``index``: 'sum', 'prod', 'mean', 'amax', 'amin'.

    With ``include_self=False`` the values of ``input`` at written positions are left out.
    Gradients: sum/mean as scatter_add (divided by the counts); amax/amin share g equally among
    the elements equal to the result; prod: g * out / x (inputs must be nonzero).
    """
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    _scatter_src("scatter_reduce", input, index, src, None)
    d = input._data
    dim, key, ishape = _gather_key("scatter_reduce", input, dim, index, src._data.shape)
    x = _as_1d(input)
    s1 = _as_1d(src)
    xd = x._data
    xp = xp_of(xd)
    hits = xp.zeros(xd.shape, dtype=np.int64)
    _scatter_add_into(hits, key.idx, xp.ones(ishape, dtype=np.int64))
    untouched = hits == 0
    blk = _src_block(s1, ishape)
    if reduce in ("sum", "mean"):
        base = x if include_self else x * untouched.astype(xd.dtype)
        r = base + put_zeros(blk, xd.shape, key)
        if reduce == "mean":
            cnt = hits + (1 if include_self else 0)
            cnt = xp.where(cnt == 0, 1, cnt).astype(xd.dtype if xd.dtype.kind == "f" else np.int64)
            r = r / cnt if xd.dtype.kind == "f" else wrap((r._data // cnt).astype(xd.dtype))
    elif reduce in ("amax", "amin"):
        ufunc = np.maximum if reduce == "amax" else np.minimum
        out = xd.copy()
        if not include_self:
            fill = -np.inf if reduce == "amax" else np.inf
            if xd.dtype.kind != "f":
                info = np.iinfo(xd.dtype) if xd.dtype.kind in "iu" else None
                fill = (info.min if reduce == "amax" else info.max) if info else (reduce == "amin")
            out[~untouched] = fill
        vals = np.broadcast_to(blk._data, ishape)
        if xp is np:
            ufunc.at(out, key.idx, vals)
        else:  # pragma: no cover - GPU
            import cupyx  # noqa: PLC0415
            (cupyx.scatter_max if reduce == "amax" else cupyx.scatter_min)(out, key.idx, vals)
        r = wrap(out)
        if gm.enabled and (input.requires_grad or src.requires_grad) and xd.dtype.kind == "f":
            eq_self = (xd == out) & (untouched | include_self)
            eq_src = vals == out[key.idx]
            cnt = eq_self.astype(xd.dtype)
            _scatter_add_into(cnt, key.idx, eq_src.astype(xd.dtype))
            n = ScatterExtremumBackward(x, blk)
            n.key = key
            n.w_self = eq_self / xp.where(cnt == 0, 1, cnt)
            n.w_src = eq_src / cnt[key.idx]
            attach(r, n)
    else:  # prod
        out = xd.copy()
        if not include_self:
            out[~untouched] = 1
        vals = np.broadcast_to(blk._data, ishape)
        if xp is np:
            np.multiply.at(out, key.idx, vals)
        else:  # pragma: no cover - GPU
            raise NotImplementedError("scatter_reduce(prod) on GPU")
        r = wrap(out)
        if gm.enabled and (input.requires_grad or src.requires_grad) and xd.dtype.kind == "f":
            n = ScatterProdBackward(x, blk)
            n.save(x, blk)
            n.save_output(r)
            n.key, n.untouched, n.include_self = key, untouched, include_self
            attach(r, n)
    return reshape(r, d.shape) if d.ndim == 0 else r


# ============================================================================ index_* ops
def _vector_index(op, index, in_shape, dim, oob="index out of range in self"):
    idx = _index_array(index, op)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {tuple(idx.shape)}")
    idx = idx.reshape(-1)
    size = in_shape[dim]
    if idx.size and bool(((idx < 0) | (idx >= size)).any()):
        raise IndexError(f"{op}(): {oob} (index values must be in [0, {size}) for dimension {dim} of size {size})")
    return idx


def index_select(input, dim, index):
    """The slices of ``input`` at positions ``index`` (1-D) along ``dim`` (a copy).

    Gradient: index_add of g into zeros along ``dim``.
    """
    d = input._data
    dim = wrap_dim(dim, d.ndim, "index_select")
    x = _as_1d(input)
    idx = _vector_index("index_select", index, x._data.shape, dim)
    r = take_key(x, _dim_key(x._data.ndim, dim, idx))
    return reshape(r, ()) if d.ndim == 0 else r


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added along ``dim`` at ``index`` (repeats accumulate).

    Gradients: input gets g; source gets ``alpha * g.index_select(dim, index)``.
    """
    d = input._data
    dim = wrap_dim(dim, d.ndim, "index_add")
    x = _as_1d(input)
    s = _as_1d(source)
    idx = _vector_index("index_add", index, x._data.shape, dim)
    xs, ss = x._data.shape, s._data.shape
    if len(xs) != len(ss) or ss[dim] != idx.size or any(a != b for i, (a, b) in enumerate(zip(xs, ss)) if i != dim):
        raise RuntimeError(f"index_add_(): source {list(ss)} must match self {list(xs)} except along dim {dim}, where "
                           f"its size must equal the number of indices ({idx.size})")
    if alpha != 1:
        s = s * alpha
    r = x + put_zeros(cast(s, x._data.dtype), xs, _dim_key(len(xs), dim, idx))
    return reshape(r, ()) if d.ndim == 0 else r


def index_copy(input, dim, index, source):
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``'s."""
    d = input._data
    dim = wrap_dim(dim, d.ndim, "index_copy")
    x = _as_1d(input)
    s = _as_1d(source)
    idx = _vector_index("index_copy", index, x._data.shape, dim)
    xs, ss = x._data.shape, s._data.shape
    if len(xs) != len(ss) or ss[dim] != idx.size or any(a != b for i, (a, b) in enumerate(zip(xs, ss)) if i != dim):
        raise RuntimeError(f"index_copy_(): source {list(ss)} must match self {list(xs)} except along dim {dim}, "
                           f"where its size must equal the number of indices ({idx.size})")
    r = _index_put(x, None, _dim_key(len(xs), dim, idx), _value_tensor(s, x, "index_copy"), "index_copy")
    return reshape(r, ()) if d.ndim == 0 else r


def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (number or 0-d tensor).

    Gradients: input gets g zeroed there; a tensor value gets the sum of g there.
    """
    d = input._data
    dim = wrap_dim(dim, d.ndim, "index_fill")
    idx = _index_array(index, "index_fill")
    if idx.ndim > 1:
        raise RuntimeError(f"index_fill_(): Index has to be a vector/scalar, got shape {tuple(idx.shape)}")
    x = _as_1d(input)
    size = x._data.shape[dim]
    idx = _check_range(idx.reshape(-1), size, dim)
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"index_fill_(): only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    r = _index_put(x, None, _dim_key(x._data.ndim, dim, idx), _value_tensor(value, x, "index_fill"), "index_fill")
    return reshape(r, ()) if d.ndim == 0 else r


def index_put(input, indices, values, accumulate=False):
    """``input[indices] = values`` out of place (``accumulate=True`` adds, repeats accumulate).

    ``indices`` is a tuple of index tensors (None for a full slice), as ``torch.index_put``.
    """
    idx = tuple(_FULL if i is None else i for i in indices)
    bkey, akey = _parse_index(input._data.shape, idx)
    v = _value_tensor(values, input, "index_put")
    if not accumulate:
        return _index_put(input, bkey, akey, v, "index_put")
    # accumulate: input + scatter-add of values (broadcast to the indexing result) into zeros
    d = input._data
    mid = d[bkey.idx] if bkey is not None else d
    rshape = mid[akey.idx].shape if akey is not None else mid.shape
    try:
        vb = expand(v, rshape) if tuple(v._data.shape) != tuple(rshape) else v
    except RuntimeError:
        raise RuntimeError(f"index_put: shape mismatch: value tensor of shape {list(v._data.shape)} cannot be "
                           f"broadcast to indexing result of shape {list(rshape)}") from None
    if bkey is not None:
        if akey is not None:
            vb = put_zeros(vb, mid.shape, akey)
        add = put_zeros(vb, d.shape, bkey)
    else:
        add = put_zeros(vb, d.shape, akey)
    return input + add


# ============================================================================ masked ops
def _bool_mask(mask, op):
    if not isinstance(mask, Tensor):
        mask = as_tensor_like(mask, name=op)
    m = mask._data
    if m.dtype.kind != "b":
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {mask.dtype}")
    return m


def _broadcast(op, a, b):
    try:
        return tuple(np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        raise RuntimeError(f"{op}: the mask of shape {tuple(b)} cannot be broadcast to the input of shape "
                           f"{tuple(a)}") from None


def masked_fill(input, mask, value):
    """``input`` with ``value`` (number or 0-d tensor) where ``mask`` (bool, broadcast) is True.

    Gradients: input gets g where mask is False; a tensor value gets the sum of g where True.
    """
    m = _bool_mask(mask, "masked_fill_")
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    _broadcast("masked_fill", input._data.shape, m.shape)
    v = _value_tensor(value, input, "masked_fill")
    return where(wrap(m), v, input)


def masked_fill_(self, mask, value):
    """In-place ``masked_fill`` (mask must broadcast to self's shape)."""
    m = _bool_mask(mask, "masked_fill_")
    d = self._data
    if _broadcast("masked_fill_", d.shape, m.shape) != d.shape:
        raise RuntimeError(f"masked_fill_: the mask of shape {tuple(m.shape)} cannot be broadcast to the "
                           f"tensor of shape {tuple(d.shape)}")
    if _check_inplace(self, "masked_fill_") and (self.requires_grad or (isinstance(value, Tensor)
                                                                         and value.requires_grad)):
        return apply_inplace(self, masked_fill(self, wrap(m), value), "masked_fill_")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        value = value._data
    if not d.flags.writeable:
        raise RuntimeError("masked_fill_: the tensor is an expanded (read-only) view; clone() it before writing")
    xp_of(d).copyto(d, xp_of(d).asarray(value).astype(d.dtype), where=m, casting="unsafe")
    self._vc[0] += 1
    return self


def _nonzero_key(m):
    return _Key(tuple(xp_of(m).nonzero(m)), False)


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (both broadcast).

    Gradient: g scattered back to the True positions.
    """
    m = _bool_mask(mask, "masked_select")
    shape = _broadcast("masked_select", input._data.shape, m.shape)
    x = expand(input, shape) if tuple(input._data.shape) != shape else input
    if m.shape != shape:
        m = xp_of(m).broadcast_to(m, shape)
    if len(shape) == 0:
        return take_key(reshape(x, (1,)), _Key((xp_of(m).nonzero(m.reshape(1))[0],), False))
    return take_key(x, _nonzero_key(m))


def masked_scatter(input, mask, source):
    """``input`` with the True positions of ``mask`` filled, in order, by the first values of ``source``.

    Gradients: input gets g where mask is False; source gets g[mask] in its first positions, 0 after.
    """
    m = _bool_mask(mask, "masked_scatter")
    shape = _broadcast("masked_scatter", input._data.shape, m.shape)
    x = expand(input, shape) if tuple(input._data.shape) != shape else input
    if m.shape != shape:
        m = xp_of(m).broadcast_to(m, shape)
    count = int(m.sum())
    if source._data.size < count:
        raise RuntimeError(f"masked_scatter: Number of elements of source ({source._data.size}) < number of ones "
                           f"in mask ({count})")
    flat = reshape(_value_tensor(source, x, "masked_scatter"), (-1,))
    vals = take_key(flat, _Key((slice(0, count), Ellipsis), True))
    if len(shape) == 0:
        r = _index_put(reshape(x, (1,)), None, _Key(tuple(np.nonzero(m.reshape(1))), False), vals,
                       "masked_scatter")
        return reshape(r, ())
    return _index_put(x, None, _nonzero_key(m), vals, "masked_scatter")


# ============================================================================ take / nonzero
def take(input, index):
    """The elements of flattened ``input`` at ``index`` (negative counts from the end); index's shape."""
    d = input._data
    idx = _index_array(index, "take")
    n = d.size
    if idx.size and bool(((idx < -n) | (idx >= n)).any()):
        bad = idx.ravel()[int(xp_of(idx).argmax(((idx < -n) | (idx >= n)).ravel()))]
        raise IndexError(f"take(): out of range: tried to access index {int(bad)} on a tensor of {n} elements.")
    idx = xp_of(idx).where(idx < 0, idx + n, idx) if idx.size else idx
    flat = reshape(input, (-1,))
    return take_key(flat, _Key((idx,), False))


def take_along_dim(input, indices, dim=None):
    """Pick values along ``dim`` at ``indices`` (broadcast with input except along dim), as numpy's
    ``take_along_axis``; ``dim=None`` works on the flattened input."""
    if dim is None:
        return take(reshape(input, (-1,)), reshape(indices, (-1,)) if isinstance(indices, Tensor)
                    else np.ravel(indices))
    d = input._data
    idx = _index_array(indices, "take_along_dim", "indices")
    if idx.ndim != d.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {d.ndim} dimensions for input, and {idx.ndim} dimensions for indices")
    dim = wrap_dim(dim, d.ndim, "take_along_dim")
    ishape, xshape = list(idx.shape), list(d.shape)
    ishape[dim] = xshape[dim] = 1
    try:
        b = list(np.broadcast_shapes(tuple(ishape), tuple(xshape)))
    except ValueError:
        raise RuntimeError(f"take_along_dim: indices {tuple(idx.shape)} and input {tuple(d.shape)} cannot be "
                           f"broadcast together apart from dim {dim}") from None
    xs = tuple(b[:dim] + [d.shape[dim]] + b[dim + 1:])
    js = tuple(b[:dim] + [idx.shape[dim]] + b[dim + 1:])
    x = expand(input, xs) if xs != d.shape else input
    idx = xp_of(idx).broadcast_to(idx, js)
    idx = xp_of(idx).where(idx < 0, idx + d.shape[dim], idx) if idx.size else idx
    return gather(x, dim, wrap(idx))


def nonzero(input, *, as_tuple=False):
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
    d = input._data
    xp = xp_of(d)
    nz = xp.nonzero(d.reshape(1) if d.ndim == 0 else d)
    if as_tuple:
        return tuple(wrap(a.astype(np.int64, copy=False)) for a in nz)
    if d.ndim == 0:
        return wrap(xp.zeros((len(nz[0]), 0), dtype=np.int64))
    return wrap(xp.stack(nz, axis=1).astype(np.int64, copy=False) if nz else xp.zeros((0, 0), dtype=np.int64))


def argwhere(input):
    """``nonzero(input)``: an (n, ndim) tensor of the indices of the nonzero elements."""
    return nonzero(input)


scatter_ = _inplace("scatter_", scatter)
scatter_add_ = _inplace("scatter_add_", scatter_add)
scatter_reduce_ = _inplace("scatter_reduce_", scatter_reduce)
index_add_ = _inplace("index_add_", index_add)
index_copy_ = _inplace("index_copy_", index_copy)
index_fill_ = _inplace("index_fill_", index_fill)
index_put_ = _inplace("index_put_", index_put)
masked_scatter_ = _inplace("masked_scatter_", masked_scatter)

register_methods({
    "__getitem__": getitem, "__setitem__": setitem,
    "gather": gather, "scatter": scatter, "scatter_": scatter_, "scatter_add": scatter_add,
    "scatter_add_": scatter_add_, "scatter_reduce": scatter_reduce, "scatter_reduce_": scatter_reduce_,
    "index_select": index_select, "index_add": index_add, "index_add_": index_add_, "index_copy": index_copy,
    "index_copy_": index_copy_, "index_fill": index_fill, "index_fill_": index_fill_, "index_put": index_put,
    "index_put_": index_put_, "masked_fill": masked_fill, "masked_fill_": masked_fill_,
    "masked_select": masked_select, "masked_scatter": masked_scatter, "masked_scatter_": masked_scatter_,
    "take": take, "take_along_dim": take_along_dim, "nonzero": nonzero, "argwhere": argwhere,
})

__all__ = [
    "argwhere", "gather", "index_add", "index_copy", "index_fill", "index_put", "index_put_", "index_select",
    "masked_fill", "masked_scatter", "masked_select", "nonzero", "scatter", "scatter_add", "scatter_reduce",
    "take", "take_along_dim",
]
