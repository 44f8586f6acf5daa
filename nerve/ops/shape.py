"""Shape ops that re-interpret or re-arrange memory: reshape/view, squeeze, expand, transpose, ...

Views share memory and the version counter with their base, as in PyTorch, so an in-place write
through a view is seen by every node that saved the base.
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import Tensor, wrap
from ..backend import dtypes as _dt
from ._helpers import attach, register_methods, wrap_dim, xp_of


def as_view(out: Tensor, base: Tensor, fn=None, arg=None) -> Tensor:
    """Mark ``out`` as a view of ``base`` (shared version counter).

    ``fn(t, arg)`` re-creates the view from any tensor ``t`` shaped like ``base`` (``take_key`` with
    the key, ``reshape`` with the shape, ...). ``out._view_fn = (fn, arg, parent)``, where parent is
    ``base`` when it is itself a view (None when it is the root), so that an in-place op on the view
    can rebase the root's history (see ``elementwise.rebase_view``). Views made without ``fn``
    (expand, dtype views) break the chain: recorded in-place ops on them keep raising.
    """
    out._vc = base._vc
    root = base._base
    if root is None:
        out._base = base
        if fn is not None:
            out._view_fn = (fn, arg, None)
    else:
        out._base = root
        if fn is not None and base._view_fn is not None:
            out._view_fn = (fn, arg, base)
    return out


def _sizes(args, op):
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(Size)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    try:
        return tuple(int(a) for a in args)
    except TypeError:
        raise TypeError(f"{op}: sizes must be integers, got {args!r}") from None


def infer_shape(shape, numel, op="view"):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known != 0:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


# ============================================================================ reshape family
class ReshapeBackward(Node):
    __slots__ = ("in_shape",)

    def apply(self, g):
        return (reshape(g, self.in_shape),)


def _record_reshape(out, input):
    if gm.enabled and input.requires_grad:
        n = ReshapeBackward(input)
        n.in_shape = input._data.shape
        attach(out, n)
    return out


def reshape(input, *shape):
    """Same data in a new shape (a view when the memory layout allows, else a copy)."""
    d = input._data
    shape = _sizes(shape, "reshape")
    if shape == d.shape:
        r = d.view()
    else:
        r = d.reshape(infer_shape(shape, d.size, "reshape"))
    out = wrap(r)
    if xp_of(d).may_share_memory(r, d):
        as_view(out, input, reshape, r.shape)
    return _record_reshape(out, input)


def view(input, *shape):
    """A view with a new shape; raises if the memory layout does not allow one (use reshape).

    ``view(dtype)`` re-interprets the bytes as another dtype.
    """
    if len(shape) == 1 and isinstance(shape[0], (_dt.dtype, np.dtype, type)) and not isinstance(shape[0], tuple):
        d = input._data
        return as_view(wrap(d.view(_dt.to_numpy_dtype(shape[0]))), input)
    d = input._data
    shape = infer_shape(_sizes(shape, "view"), d.size, "view")
    try:
        r = d.reshape(shape, copy=False) if type(d) is np.ndarray else d.view().reshape(shape)
    except (ValueError, AttributeError):
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (at least one dimension spans "
            f"across two contiguous subspaces): input {tuple(d.shape)} -> {shape}. Use .reshape(...) "
            "instead.") from None
    return _record_reshape(as_view(wrap(r), input, reshape, shape), input)


def view_as(input, other):
    return view(input, tuple(other.shape))


def reshape_as(input, other):
    return reshape(input, tuple(other.shape))


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one."""
    d = input._data
    if d.ndim == 0:
        return reshape(input, (1,))
    s = wrap_dim(start_dim, d.ndim, "flatten")
    e = wrap_dim(end_dim, d.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for k in d.shape[s:e + 1]:
        n *= k
    return reshape(input, d.shape[:s] + (n,) + d.shape[e + 1:])


def unflatten(input, dim, sizes):
    d = input._data
    dim = wrap_dim(dim, d.ndim, "unflatten")
    sizes = infer_shape(tuple(sizes), d.shape[dim], "unflatten")
    return reshape(input, d.shape[:dim] + sizes + d.shape[dim + 1:])


def squeeze(input, dim=None):
    """Remove size-1 dims (all, or those in ``dim``; non-1 dims named are kept, as PyTorch)."""
    d = input._data
    if dim is None:
        shape = tuple(s for s in d.shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        wrapped = [wrap_dim(int(k), d.ndim, "squeeze") for k in dims]
        dims = set(wrapped)
        if len(dims) != len(wrapped):
            rep = next(k for k in wrapped if wrapped.count(k) > 1)
            raise RuntimeError(f"squeeze: dim {rep} appears multiple times in the list of dims {tuple(dim)}")
        shape = tuple(s for i, s in enumerate(d.shape) if not (i in dims and s == 1))
    if shape == d.shape:
        return _alias(input)
    return reshape(input, shape)


def _alias(input):
    """A new tensor object on the same data (PyTorch returns a view for no-op shape ops)."""
    out = as_view(wrap(input._data.view()), input, _alias_of, None)
    return _record_reshape(out, input)


def _alias_of(input, _):
    return _alias(input)


def unsqueeze(input, dim):
    """Insert a size-1 dim at ``dim``."""
    d = input._data
    dim = wrap_dim(dim, d.ndim + 1, "unsqueeze")
    return reshape(input, d.shape[:dim] + (1,) + d.shape[dim:])


# ============================================================================ expand
class ExpandBackward(Node):
    """The engine sums the gradient back to the input's shape."""

    __slots__ = ()

    def apply(self, g):
        return (g,)


def expand(input, *sizes):
    """Broadcast to a larger shape without copying (``-1`` keeps a dim). Read-only view."""
    d = input._data
    sizes = _sizes(sizes, "expand")
    if len(sizes) < d.ndim:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({d.ndim})")
    lead = len(sizes) - d.ndim
    shape = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: the expanded size -1 isn't allowed in a leading, non-existing "
                                   f"dimension {i}")
            shape.append(s)
        else:
            cur = d.shape[i - lead]
            if s == -1:
                s = cur
            if cur != s and cur != 1:
                raise RuntimeError(
                    f"expand: the expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                    f"non-singleton dimension {i}. Target sizes: {list(sizes)}. Tensor sizes: {list(d.shape)}")
            shape.append(s)
    shape = tuple(shape)
    if shape == d.shape:
        return _alias(input)
    out = as_view(wrap(xp_of(d).broadcast_to(d, shape)), input)
    if gm.enabled and input.requires_grad:
        attach(out, ExpandBackward(input))
    return out


def expand_as(input, other):
    return expand(input, tuple(other.shape))


def broadcast_to(input, size):
    return expand(input, tuple(size))


def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to (a ``Size``), as ``torch.broadcast_shapes``."""
    from ..autograd.tensor import Size  # noqa: PLC0415
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"shapes {[tuple(s) for s in shapes]} cannot be broadcast together") from None


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


# ============================================================================ sum_to (used by engine)
class SumToBackward(Node):
    __slots__ = ("in_shape",)

    def apply(self, g):
        return (expand(g, self.in_shape),)


def sum_to(input, shape):
    """Sum ``input`` down to ``shape`` (the inverse of broadcasting). Gradient: expand back."""
    d = input._data
    shape = tuple(shape)
    if d.shape == shape:
        return input
    lead = d.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and d.shape[i + lead] != 1)
    r = d.sum(axis=axes, keepdims=True) if axes else d
    if lead:
        r = r.reshape(r.shape[lead:])
    out = wrap(r if r is not d else d.copy())
    if gm.enabled and input.requires_grad:
        n = SumToBackward(input)
        n.in_shape = d.shape
        attach(out, n)
    return out


# ============================================================================ transpose / permute
class PermuteBackward(Node):
    __slots__ = ("inv",)

    def apply(self, g):
        return (permute(g, self.inv),)


def permute(input, *dims):
    """Reorder dims (a view)."""
    d = input._data
    dims = _sizes(dims, "permute")
    if len(dims) != d.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {d.ndim} is not "
                           f"equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(k, d.ndim, "permute") for k in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute: repeated dim in {dims}")
    out = as_view(wrap(d.transpose(dims)), input, permute, dims)
    if gm.enabled and input.requires_grad:
        n = PermuteBackward(input)
        n.inv = tuple(np.argsort(dims).tolist())
        attach(out, n)
    return out


def transpose(input, dim0, dim1):
    """Swap two dims (a view)."""
    d = input._data
    if d.ndim == 0:
        return _alias(input)
    a = wrap_dim(dim0, d.ndim, "transpose")
    b = wrap_dim(dim1, d.ndim, "transpose")
    perm = list(range(d.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return permute(input, perm)


swapaxes = swapdims = transpose


def t(input):
    """Transpose a tensor of at most 2 dims."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    if input._data.ndim < 2:
        return _alias(input)
    return transpose(input, 0, 1)


def adjoint(input):
    return transpose(input, -2, -1)


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination`` (a view); the other dims keep their order."""
    d = input._data
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    src = [wrap_dim(int(s), d.ndim, "movedim") for s in src]
    dst = [wrap_dim(int(s), d.ndim, "movedim") for s in dst]
    for name, lst in (("source", src), ("destination", dst)):
        if len(set(lst)) != len(lst):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({lst})")
    order = [n for n in range(d.ndim) if n not in src]
    for dd, s in sorted(zip(dst, src)):
        order.insert(dd, s)
    return permute(input, order)


moveaxis = movedim


# ============================================================================ copies and casts
class CloneBackward(Node):
    __slots__ = ()

    def apply(self, g):
        return (g,)


def clone(input, *, memory_format=None):
    """A copy with its own memory, keeping a dense layout's strides (PyTorch's preserve_format).

    Gradient: g.
    """
    d = input._data
    order = "C" if memory_format is not None and "contiguous" in str(memory_format) else "K"
    out = wrap(d.copy(order=order))
    if gm.enabled and input.requires_grad:
        attach(out, CloneBackward(input))
    return out


def contiguous(input, memory_format=None):
    """``input`` itself if C-contiguous, else a contiguous copy."""
    d = input._data
    if d.flags.c_contiguous:
        return input
    out = wrap(xp_of(d).ascontiguousarray(d))
    if gm.enabled and input.requires_grad:
        attach(out, CloneBackward(input))
    return out


class CastBackward(Node):
    """The engine casts the gradient back to the input's dtype (and device)."""

    __slots__ = ()

    def apply(self, g):
        return (g,)


def cast(input, np_dtype):
    """Differentiable dtype conversion (NumPy dtype in). No copy when the dtype already matches."""
    d = input._data
    if d.dtype == np_dtype:
        return input
    out = wrap(d.astype(np_dtype))
    if gm.enabled and input.requires_grad and np_dtype.kind == "f":
        attach(out, CastBackward(input))
    return out


def _mT(t):
    if t._data.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{t._data.ndim}-D tensor.")
    return transpose(t, -2, -1)


def _H(t):
    if t._data.ndim not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {t._data.ndim}-D tensor. "
                           "For batches of matrices, consider using tensor.mH")
    return permute(t, tuple(range(t._data.ndim - 1, -1, -1)))


def _mH(t):
    if t._data.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got "
                           f"{t._data.ndim}-D tensor.")
    return transpose(t, -2, -1)


register_methods({
    "reshape": reshape, "view": view, "view_as": view_as, "reshape_as": reshape_as, "flatten": flatten,
    "unflatten": unflatten, "squeeze": squeeze, "unsqueeze": unsqueeze, "expand": expand,
    "expand_as": expand_as, "broadcast_to": broadcast_to,
    "sum_to_size": lambda s, *size: sum_to(s, _sizes(size, "sum_to_size")),
    "permute": permute, "transpose": transpose, "swapaxes": transpose, "swapdims": transpose, "t": t,
    "adjoint": adjoint, "movedim": movedim, "moveaxis": movedim, "clone": clone, "contiguous": contiguous,
    "T": property(lambda s: permute(s, tuple(range(s._data.ndim - 1, -1, -1)))),
    "mT": property(_mT), "H": property(_H), "mH": property(_mH),
})

__all__ = [
    "adjoint", "broadcast_shapes", "broadcast_tensors", "broadcast_to", "clone", "contiguous", "expand",
    "expand_as", "flatten", "moveaxis", "movedim", "permute", "reshape", "reshape_as", "squeeze", "swapaxes",
    "swapdims", "t", "transpose", "unflatten", "unsqueeze", "view", "view_as",
]
