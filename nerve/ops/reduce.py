"""Reductions: sum, mean, prod, var/std, max/min, amax/amin, argmax, logsumexp, norm, cumsum, ...

``dim`` is an int, a tuple or None (all dims) and ``keepdim`` keeps reduced dims as size 1, as in
PyTorch. Gradients expand ``g`` back over the reduced dims: reshape to the keepdim shape, then
``expand``. Every backward is written with nerve ops, so second derivatives work.

Value-selecting reductions with a ``dim`` (``max(x, dim)``, ``median(x, dim)``, ``mode``) return
``(values, indices)`` named tuples and send ``g`` to the selected index; value-only ones over ties
(``amax``, ``max()``, ``median()``) split ``g`` evenly among the tied elements, as PyTorch does.
"""
from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import Tensor, wrap
from ..backend import dtypes as _dt
from ._helpers import attach, register_methods, wrap_dim, wrap_dims, xp_of
from .elementwise import abs as _abs, exp, maximum, minimum, sign, where
from .shape import cast, expand, movedim, reshape, unsqueeze
from .sorting import _as_1d, _kth_index, _select, _take_along, axis_alias, return_types


def keepdim_shape(in_shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(in_shape))


def expand_back(g, in_shape, dims, keepdim):
    """Broadcast a reduced gradient ``g`` back to ``in_shape`` (differentiable)."""
    if not keepdim and dims:
        g = reshape(g, keepdim_shape(in_shape, dims))
    return expand(g, in_shape)


def _unreduce(t, in_shape, dims, keepdim):
    """``t`` reshaped to the keepdim shape (broadcasts against the input without expanding)."""
    if not keepdim and dims:
        return reshape(t, keepdim_shape(in_shape, dims))
    return t


def _dims_arg(dim, axis):
    if axis is not None:
        if dim is not None:
            raise TypeError("pass either dim or axis, not both")
        return axis
    return dim


def _dims(dim, ndim, op):
    """Reduced axes as a sorted tuple: None and () mean all dims; a 0-d input has none to reduce."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = wrap_dims(dim, ndim, op)
    return dims if ndim else ()


def _as_array(r, d):
    """NumPy returns scalars from full reductions; turn them back into (0-d) arrays."""
    return r if type(r) is type(d) else xp_of(d).asarray(r)


def _count(shape, dims):
    n = 1
    for i in dims:
        n *= shape[i]
    return n


def _int_to_long(d, dtype):
    """The accumulation dtype: ``dtype`` if given, int64 for integer/bool inputs, else None (keep)."""
    if dtype is not None:
        return _dt.to_numpy_dtype(dtype)
    if d.dtype.kind in "biu":
        return np.dtype(np.int64)
    return None


def _check_nonempty(d, dims, op):
    for i in dims:
        if d.shape[i] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {i} to have non-zero size (input shape "
                             f"{tuple(d.shape)}); the reduction has no identity")


# ============================================================================ sum / mean
class SumBackward(Node):
    __slots__ = ("in_shape", "dims", "keepdim")

    def apply(self, g):
        return (expand_back(g, self.in_shape, self.dims, self.keepdim),)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None):  # noqa: A001 - PyTorch's name
    """Sum over ``dim`` (all dims when None). Integer/bool inputs sum in int64, as PyTorch.

    Gradient: g broadcast back over the summed dims.
    """
    d = input._data
    dims = _dims(_dims_arg(dim, axis), d.ndim, "sum")
    r = d.sum(axis=dims, keepdims=keepdim, dtype=_int_to_long(d, dtype))
    if type(r) is not type(d):  # NumPy returns a scalar for full reductions
        r = xp_of(d).asarray(r)
    out = wrap(r)
    if gm.enabled and input.requires_grad:
        n = SumBackward(input)
        n.in_shape, n.dims, n.keepdim = d.shape, dims, keepdim
        attach(out, n)
    return out


class MeanBackward(Node):
    __slots__ = ("in_shape", "dims", "keepdim", "count")

    def apply(self, g):
        return (expand_back(g / self.count, self.in_shape, self.dims, self.keepdim),)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    """Arithmetic mean over ``dim``. Gradient: g / n broadcast back."""
    d = input._data
    if dtype is not None:
        d = d.astype(_dt.to_numpy_dtype(dtype))
    elif d.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {input.dtype.name.capitalize()}")
    dims = _dims(_dims_arg(dim, axis), d.ndim, "mean")
    count = _count(d.shape, dims)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = d.sum(axis=dims, keepdims=keepdim)
        r = r / count if count else r * np.nan
    out = wrap(xp_of(d).asarray(r, dtype=d.dtype))
    if gm.enabled and input.requires_grad:
        n = MeanBackward(input)
        n.in_shape, n.dims, n.keepdim, n.count = d.shape, dims, keepdim, count
        attach(out, n)
    return out


class NansumBackward(Node):
    __slots__ = ("dims", "keepdim")

    def apply(self, g):
        (x,) = self.saved_tensors
        xd = x._data
        ge = expand_back(g, xd.shape, self.dims, self.keepdim)
        # A product, not where(): an inf/nan g (nanmean of an all-NaN row) stays nan, as in PyTorch.
        return (ge * wrap(~xp_of(xd).isnan(xd)),)


@axis_alias
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as zero. Gradient: g broadcast back, 0 at the NaNs."""
    d = input._data
    dims = _dims(dim, d.ndim, "nansum")
    r = _as_array(xp_of(d).nansum(d, axis=dims, keepdims=keepdim, dtype=_int_to_long(d, dtype)), d)
    out = wrap(r)
    if gm.enabled and input.requires_grad:
        n = NansumBackward(input)
        n.save(input)
        n.dims, n.keepdim = dims, keepdim
        attach(out, n)
    return out


@axis_alias
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of the non-NaN elements (NaN where there are none). Gradient: through nansum / count."""
    d = input._data
    if dtype is not None:
        input = cast(input, _dt.to_numpy_dtype(dtype))
        d = input._data
    if d.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_dt.from_numpy_dtype(d.dtype)}")
    dims = _dims(dim, d.ndim, "nanmean")
    xp = xp_of(d)
    count = _as_array((~xp.isnan(d)).sum(axis=dims, keepdims=keepdim), d).astype(d.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return nansum(input, dims, keepdim) / wrap(count)


# ============================================================================ prod / cumsum / cumprod
class FlipBackward(Node):
    __slots__ = ("dim",)

    def apply(self, g):
        return (_flip(g, self.dim),)


def _flip(x, dim):
    """Reverse ``x`` along ``dim`` (a copy). Gradient: flip g back."""
    d = x._data
    out = wrap(xp_of(d).flip(d, dim).copy())
    if gm.enabled and x.requires_grad:
        n = FlipBackward(x)
        n.dim = dim
        attach(out, n)
    return out


class ShiftBackward(Node):
    __slots__ = ("dim", "step")

    def apply(self, g):
        return (_shift(g, self.dim, -self.step, 0),)


def _shift(x, dim, step, fill):
    """Move ``x`` by ``step`` (+1 or -1) positions along ``dim``, filling the vacated slot with ``fill``.

    Gradient: shift g back the other way (filling with 0).
    """
    d = x._data
    xp = xp_of(d)
    out = xp.full(d.shape, fill, dtype=d.dtype)
    n = d.shape[dim]
    src = [slice(None)] * d.ndim
    dst = [slice(None)] * d.ndim
    if step > 0:
        dst[dim], src[dim] = slice(step, n), slice(0, builtins.max(n - step, 0))
    else:
        dst[dim], src[dim] = slice(0, builtins.max(n + step, 0)), slice(-step, n)
    out[tuple(dst)] = d[tuple(src)]
    out = wrap(out)
    if gm.enabled and x.requires_grad:
        n_ = ShiftBackward(x)
        n_.dim, n_.step = dim, step
        attach(out, n_)
    return out


def _revcumsum(t, dim):
    """``out[i] = sum_{k >= i} t[k]`` along ``dim`` (differentiable)."""
    return _flip(cumsum(_flip(t, dim), dim), dim)


def _prod_others(x, dim):
    """``prod_{j != i} x[j]`` along ``dim`` without dividing, so zeros are safe (differentiable).

    The product of everything before i (an exclusive cumprod) times everything after i.
    """
    before = cumprod(_shift(x, dim, 1, 1), dim)
    after = _flip(cumprod(_shift(_flip(x, dim), dim, 1, 1), dim), dim)
    return before * after


class ProdBackward(Node):
    __slots__ = ("dim", "keepdim")

    def apply(self, g):
        (x,) = self.saved_tensors
        shape = x._data.shape
        dims = tuple(range(len(shape))) if self.dim is None else (self.dim,)
        ge = expand_back(g, shape, dims, self.keepdim)
        if not bool((x._data == 0).any()):
            return (ge * _unreduce(self.saved_output(), shape, dims, self.keepdim) / x,)
        # NOTE: out / x is 0/0 at a zero; the product of the others is the gradient there.
        if self.dim is None:
            return (ge * reshape(_prod_others(reshape(x, (-1,)), 0), shape),)
        return (ge * _prod_others(x, self.dim),)


@axis_alias
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of the elements (over one ``dim``, or all). Integer/bool inputs multiply in int64.

    Gradient: g * prod_{j != i} x_j, i.e. g * out / x when no element is zero; with zeros it is
    computed from exclusive cumulative products (exact for one or several zeros).
    """
    d = input._data
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod(): argument 'dim' must be an int (prod reduces one dim or all), got "
                        f"{type(dim).__name__} {dim!r}")
    axis = None if dim is None else wrap_dim(int(dim), d.ndim, "prod")
    if d.ndim == 0:
        axis = None
    npd = _int_to_long(d, dtype)
    out = wrap(_as_array(d.prod(axis=axis, keepdims=keepdim, dtype=npd), d))
    if gm.enabled and input.requires_grad:
        n = ProdBackward(input)
        n.save(input)
        n.save_output(out)
        n.dim, n.keepdim = axis, keepdim
        attach(out, n)
    return out


class CumsumBackward(Node):
    __slots__ = ("dim",)

    def apply(self, g):
        if self.dim is None:
            return (g,)
        return (_revcumsum(g, self.dim),)


@axis_alias
def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``. Integer/bool inputs accumulate in int64.

    Gradient: reversed cumulative sum of g.
    """
    d = input._data
    axis = wrap_dim(dim, d.ndim, "cumsum")
    npd = _int_to_long(d, dtype)
    if d.ndim == 0:
        r, axis = d.astype(npd) if npd is not None else d.copy(), None
    else:
        r = xp_of(d).cumsum(d, axis=axis, dtype=npd)
    res = wrap(r)
    if gm.enabled and input.requires_grad:
        n = CumsumBackward(input)
        n.dim = axis
        attach(res, n)
    return res


class CumprodBackward(Node):
    __slots__ = ("dim",)

    def apply(self, g):
        (x,) = self.saved_tensors
        dim = self.dim
        xd = x._data
        if dim is None or xd.shape[dim] <= 1:
            return (g,)
        y = self.saved_output()
        zero = xd == 0
        if not bool(zero.any()):
            return (_revcumsum(g * y, dim) / x,)
        if not gm.enabled:
            return (_cumprod_grad_zeros(g, x, y, zero, dim),)
        return (_cumprod_grad_composite(g, x, dim),)


def _cumprod_grad_zeros(g, x, y, zero, dim):
    """First-order cumprod gradient with zeros in O(n) (as PyTorch, not twice differentiable).

    With z the first zero of a row: for i < z, g_i = revcumsum(g * y)_i / x_i; at z,
    g_z = prod_{j<z} x_j * sum_{k>=z} g_k prod_{z<j<=k} x_j; after z every term holds x_z = 0.
    """
    xp = xp_of(zero)
    n = zero.shape[dim]
    pshape = [1] * zero.ndim
    pshape[dim] = n
    pos = xp.arange(n).reshape(pshape)
    first = xp.where(zero.any(axis=dim, keepdims=True), zero.argmax(axis=dim, keepdims=True), n)
    before = wrap(pos < first)
    at = wrap(pos == first)
    xb = where(before, x, 1.0)
    a = _revcumsum(g * y, dim) / xb
    e = prod(xb, dim, keepdim=True)
    q = cumprod(where(wrap(pos <= first), 1.0, x), dim)
    b = e * _revcumsum(g * q, dim)
    return where(before, a, 0.0) + where(at, b, 0.0)


def _cumprod_grad_composite(g, x, dim):
    """Twice-differentiable cumprod gradient with zeros, O(n^2) per row (PyTorch does the same).

    ``C[i, k] = prod_{j <= k, j != i} x_j`` is the cumprod of x with x_i replaced by 1, and
    ``grad_i = sum_{k >= i} g_k C[i, k]``.
    """
    xp = xp_of(x._data)
    n = x._data.shape[dim]
    xm = movedim(x, dim, -1)
    gm_ = movedim(g, dim, -1)
    m = where(wrap(xp.eye(n, dtype=bool)), 1.0, unsqueeze(xm, -2))
    c = cumprod(m, -1)
    tri = wrap(xp.triu(xp.ones((n, n), dtype=c._data.dtype)))
    r = sum(c * unsqueeze(gm_, -2) * tri, -1)
    return movedim(r, -1, dim)


@axis_alias
def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim``. Integer/bool inputs accumulate in int64.

    Gradient: revcumsum(g * out) / x without zeros; exact formulas otherwise (see CumprodBackward).
    """
    d = input._data
    axis = wrap_dim(dim, d.ndim, "cumprod")
    npd = _int_to_long(d, dtype)
    if d.ndim == 0:
        r, axis = d.astype(npd) if npd is not None else d.copy(), None
    else:
        r = xp_of(d).cumprod(d, axis=axis, dtype=npd)
    res = wrap(r)
    if gm.enabled and input.requires_grad:
        n = CumprodBackward(input)
        n.save(input)
        n.save_output(res)
        n.dim = axis
        attach(res, n)
    return res


def _cum_extreme(input, dim, op, largest):
    x, was0 = _as_1d(input)
    d = x._data
    xp = xp_of(d)
    axis = wrap_dim(dim, d.ndim, op)
    vals = (xp.maximum if largest else xp.minimum).accumulate(d, axis=axis)
    pshape = [1] * d.ndim
    pshape[axis] = d.shape[axis]
    pos = xp.arange(d.shape[axis], dtype=np.int64).reshape(pshape)
    update = d == vals  # ties move the index forward, as PyTorch's >= (<=) does; so does NaN
    if d.dtype.kind == "f":
        update |= xp.isnan(d)
    idx = xp.maximum.accumulate(xp.where(update, pos, 0), axis=axis)
    values = _take_along(x, idx, axis)
    if was0:
        return reshape(values, ()), wrap(idx.reshape(()))
    return values, wrap(idx)


@axis_alias
def cummax(input, dim):
    """Running maximum along ``dim`` and the index where it was (last) attained: ``(values, indices)``.

    Gradient: g scatter-added to those indices.
    """
    return return_types.cummax(*_cum_extreme(input, dim, "cummax", True))


@axis_alias
def cummin(input, dim):
    """Running minimum along ``dim``: ``(values, indices)``. Gradient: g scatter-added to the indices."""
    return return_types.cummin(*_cum_extreme(input, dim, "cummin", False))


# ============================================================================ var / std
def _var_args(op, d, dim, unbiased, correction):
    if isinstance(dim, bool):  # legacy var(x, True): the second argument is `unbiased`
        if unbiased is not None:
            raise TypeError(f"{op}(): got unbiased twice")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass either unbiased= or correction=, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    if d.dtype.kind != "f":
        raise RuntimeError(f"{op}(): std and var only support floating point and complex dtypes, got "
                           f"{_dt.from_numpy_dtype(d.dtype)}")
    dims = _dims(dim, d.ndim, op)
    return dims, correction, _count(d.shape, dims) - correction


def _var_forward(d, dims, correction, dof, keepdim, op, std):
    if dof <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the "
                      "reduction factor (input numel divided by output numel).", stacklevel=3)
    # Two passes (mean, then squared deviations), like np.var but without its Python overhead.
    n = _count(d.shape, dims)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = d - d.sum(axis=dims, keepdims=True) / (n if n else np.nan)
        r = (c * c).sum(axis=dims, keepdims=keepdim) / builtins.max(dof, 0)
        if std:
            r = xp_of(d).sqrt(r)
    return _as_array(r, d).astype(d.dtype, copy=False)


class VarBackward(Node):
    __slots__ = ("dims", "keepdim", "dof")

    def apply(self, g):
        (x,) = self.saved_tensors
        ge = expand_back(g, x._data.shape, self.dims, self.keepdim)
        scale = 2.0 / self.dof if self.dof != 0 else math.inf
        return (ge * (x - mean(x, self.dims, keepdim=True)) * scale,)


@axis_alias
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim``: ``sum((x - mean)^2) / (N - correction)``, ``correction`` 1 by default.

    ``unbiased=False`` is the legacy spelling of ``correction=0``.
    Gradient: g * 2 (x - mean) / (N - correction).
    """
    d = input._data
    dims, correction, dof = _var_args("var", d, dim, unbiased, correction)
    out = wrap(_var_forward(d, dims, correction, dof, keepdim, "var", False))
    if gm.enabled and input.requires_grad:
        n = VarBackward(input)
        n.save(input)
        n.dims, n.keepdim, n.dof = dims, keepdim, dof
        attach(out, n)
    return out


class StdBackward(Node):
    __slots__ = ("dims", "keepdim", "dof")

    def apply(self, g):
        (x,) = self.saved_tensors
        out = self.saved_output()
        zero = out._data == 0
        if bool(zero.any()):
            # PyTorch's convention: 0 (not nan) where the std is 0.
            z = wrap(zero)
            gs = where(z, 0.0, g / where(z, 1.0, out))
        else:
            gs = g / out
        ge = expand_back(gs, x._data.shape, self.dims, self.keepdim)
        scale = 1.0 / self.dof if self.dof != 0 else math.inf
        return (ge * (x - mean(x, self.dims, keepdim=True)) * scale,)


@axis_alias
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: ``sqrt(var(input, dim, correction))``.

    Gradient: g * (x - mean) / ((N - correction) * std), 0 where std is 0.
    """
    d = input._data
    dims, correction, dof = _var_args("std", d, dim, unbiased, correction)
    out = wrap(_var_forward(d, dims, correction, dof, keepdim, "std", True))
    if gm.enabled and input.requires_grad:
        n = StdBackward(input)
        n.save(input)
        n.save_output(out)
        n.dims, n.keepdim, n.dof = dims, keepdim, dof
        attach(out, n)
    return out


@axis_alias
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var(input, ...), mean(input, ...))``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, _dims(dim, input._data.ndim, "var_mean"), keepdim))


@axis_alias
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std(input, ...), mean(input, ...))``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, _dims(dim, input._data.ndim, "std_mean"), keepdim))


# ============================================================================ max / min family
class EvenlyDistributeBackward(Node):
    """Gradient of a value-only max/min/median: g split evenly among the elements equal to it."""

    __slots__ = ("dims", "keepdim", "nan_aware")

    def apply(self, g):
        (x,) = self.saved_tensors
        xd = x._data
        od = self.saved_output()._data
        if not self.keepdim:
            od = od.reshape(keepdim_shape(xd.shape, self.dims))
        mask = xd == od
        if self.nan_aware and xd.dtype.kind == "f":
            xp = xp_of(xd)
            mask |= xp.isnan(xd) & xp.isnan(od)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = (mask / mask.sum(axis=self.dims, keepdims=True)).astype(xd.dtype, copy=False)
        return (expand_back(g, xd.shape, self.dims, self.keepdim) * wrap(w),)


class AmaxBackward(EvenlyDistributeBackward):
    __slots__ = ()


class AminBackward(EvenlyDistributeBackward):
    __slots__ = ()


class MaxBackward(EvenlyDistributeBackward):
    __slots__ = ()


class MinBackward(EvenlyDistributeBackward):
    __slots__ = ()


class MedianBackward(EvenlyDistributeBackward):
    __slots__ = ()


def _record_even(out, input, node_cls, dims, keepdim, nan_aware):
    if gm.enabled and input.requires_grad:
        n = node_cls(input)
        n.save(input)
        n.save_output(out)
        n.dims, n.keepdim, n.nan_aware = dims, keepdim, nan_aware
        attach(out, n)
    return out


def _extreme(input, dim, keepdim, op, largest):
    d = input._data
    dims = _dims(dim, d.ndim, op)
    if d.size == 0 and (dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)):
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0 (input "
                           f"shape {tuple(d.shape)}). Specify the reduction dim with the 'dim' argument.")
    _check_nonempty(d, dims, op)
    r = _as_array(d.max(axis=dims, keepdims=keepdim) if largest else d.min(axis=dims, keepdims=keepdim), d)
    return wrap(r), dims


@axis_alias
def amax(input, dim=(), keepdim=False):
    """Maximum over ``dim`` (all dims by default). Gradient: g split evenly among tied maxima."""
    out, dims = _extreme(input, dim, keepdim, "amax", True)
    return _record_even(out, input, AmaxBackward, dims, keepdim, False)


@axis_alias
def amin(input, dim=(), keepdim=False):
    """Minimum over ``dim`` (all dims by default). Gradient: g split evenly among tied minima."""
    out, dims = _extreme(input, dim, keepdim, "amin", False)
    return _record_even(out, input, AminBackward, dims, keepdim, False)


def _max_dim(input, dim, keepdim, op, largest):
    d = input._data
    if not (gm.enabled and input.requires_grad) and d.ndim:
        axis = wrap_dim(dim, d.ndim, op)
        _check_nonempty(d, (axis,), op)
        if largest:
            v, i = d.max(axis=axis, keepdims=keepdim), d.argmax(axis=axis, keepdims=keepdim)
        else:
            v, i = d.min(axis=axis, keepdims=keepdim), d.argmin(axis=axis, keepdims=keepdim)
        return wrap(_as_array(v, d)), wrap(_as_array(i, d).astype(np.int64, copy=False))
    x, was0 = _as_1d(input)
    d = x._data
    axis = wrap_dim(dim, d.ndim, op)
    _check_nonempty(d, (axis,), op)
    idx = d.argmax(axis=axis, keepdims=True) if largest else d.argmin(axis=axis, keepdims=True)
    values, indices = _select(x, idx, axis, keepdim or was0)
    if was0:
        values, indices = reshape(values, ()), reshape(indices, ())
    return values, indices


@axis_alias
def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001 - PyTorch's name
    """``max(input)``: the largest element; ``max(input, dim, keepdim)``: ``(values, indices)``;
    ``max(input, other)``: elementwise ``maximum``.

    Gradient: to the selected index with ``dim``; split evenly among ties without.

    Example:
        >>> v, i = nerve.max(nerve.tensor([[1., 5.], [7., 2.]]), dim=1)   # v = [5, 7], i = [1, 0]
    """
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    if other is not None:
        return maximum(input, other)
    if dim is None:
        res, dims = _extreme(input, None, False, "max", True)
        return _record_even(res, input, MaxBackward, dims, False, True)
    return return_types.max(*_max_dim(input, dim, keepdim, "max", True))


@axis_alias
def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001 - PyTorch's name
    """``min(input)``, ``min(input, dim, keepdim) -> (values, indices)``, or ``minimum(input, other)``."""
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    if other is not None:
        return minimum(input, other)
    if dim is None:
        res, dims = _extreme(input, None, False, "min", False)
        return _record_even(res, input, MinBackward, dims, False, True)
    return return_types.min(*_max_dim(input, dim, keepdim, "min", False))


@axis_alias
def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over ``dim`` (all dims when None). Gradients as amin and amax."""
    d = input._data
    dims = _dims(dim, d.ndim, "aminmax")
    if d.size == 0 and dim is None or builtins.any(d.shape[i] == 0 for i in dims):
        raise RuntimeError(f"aminmax(): cannot compute aminmax over an empty dimension (input shape "
                           f"{tuple(d.shape)}) as the operation has no identity.")
    if dim is None:
        dims = tuple(range(d.ndim))
    return return_types.aminmax(amin(input, dims, keepdim), amax(input, dims, keepdim))


def _arg(input, dim, keepdim, op, largest):
    d = input._data
    if d.dtype.kind == "b":
        raise RuntimeError(f"{op}(): does not support bool input; convert it with .int() or .float()")
    if dim is None:
        if d.size == 0:
            raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0 (input "
                             f"shape {tuple(d.shape)}).")
        r = d.argmax() if largest else d.argmin()
        r = xp_of(d).asarray(r, dtype=np.int64)
        if keepdim:
            r = r.reshape((1,) * d.ndim)
        return wrap(r)
    axis = wrap_dim(dim, d.ndim, op)
    if d.ndim == 0:
        return wrap(xp_of(d).zeros((), dtype=np.int64))
    _check_nonempty(d, (axis,), op)
    r = d.argmax(axis=axis, keepdims=keepdim) if largest else d.argmin(axis=axis, keepdims=keepdim)
    return wrap(_as_array(r, d).astype(np.int64, copy=False))


@axis_alias
def argmax(input, dim=None, keepdim=False):
    """Index of the maximum (flat index when ``dim`` is None; first one on ties). int64."""
    return _arg(input, dim, keepdim, "argmax", True)


@axis_alias
def argmin(input, dim=None, keepdim=False):
    """Index of the minimum (flat index when ``dim`` is None; first one on ties). int64."""
    return _arg(input, dim, keepdim, "argmin", False)


# ============================================================================ median / mode
def _median_all(input, op, ignore_nan):
    d = input._data
    xp = xp_of(d)
    flat = d.reshape(-1)
    isf = d.dtype.kind == "f"
    if isf and ignore_nan:
        flat = flat[~xp.isnan(flat)]
    if isf and not ignore_nan and bool(xp.isnan(flat).any()):
        v = np.nan
    elif flat.size == 0:
        v = np.nan if isf else np.iinfo(np.int64).min
    else:
        k = (flat.size - 1) // 2
        v = xp.partition(flat, k)[k]
    out = wrap(xp.asarray(v).astype(d.dtype).reshape(()))
    return _record_even(out, input, MedianBackward, tuple(range(d.ndim)), False, True)


def _median_dim(input, dim, keepdim, op, ignore_nan):
    x, was0 = _as_1d(input)
    d = x._data
    xp = xp_of(d)
    axis = wrap_dim(dim, d.ndim, op)
    _check_nonempty(d, (axis,), op)
    n = d.shape[axis]
    nan = xp.isnan(d) if d.dtype.kind == "f" else None
    if nan is not None and ignore_nan and bool(nan.any()):
        # The rank of the median differs per row: sort (NaNs last) and pick it per row.
        order = xp.argsort(d, axis=axis, kind="stable")
        k = n - nan.sum(axis=axis, keepdims=True)
        idx = xp.take_along_axis(order, xp.maximum(k - 1, 0) // 2, axis=axis)
    else:
        idx = _kth_index(d, axis, (n - 1) // 2)
        if nan is not None and not ignore_nan:
            idx = xp.where(nan.any(axis=axis, keepdims=True), nan.argmax(axis=axis, keepdims=True), idx)
    values, indices = _select(x, idx, axis, keepdim or was0)
    if was0:
        values, indices = reshape(values, ()), reshape(indices, ())
    return values, indices


@axis_alias
def median(input, dim=None, keepdim=False):
    """Median (the lower of the two middle values for even counts); NaN if there is a NaN.

    ``median(input)`` gives the value (gradient split among ties); ``median(input, dim)`` gives
    ``(values, indices)`` (gradient to the index).
    """
    if dim is None:
        return _median_all(input, "median", False)
    return return_types.median(*_median_dim(input, dim, keepdim, "median", False))


@axis_alias
def nanmedian(input, dim=None, keepdim=False):
    """``median`` ignoring NaNs (NaN only where a row has nothing else)."""
    if dim is None:
        return _median_all(input, "nanmedian", True)
    return return_types.nanmedian(*_median_dim(input, dim, keepdim, "nanmedian", True))


@axis_alias
def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest on ties) and the index of its last occurrence.

    Returns ``(values, indices)``. Gradient: to the index.
    """
    x, was0 = _as_1d(input)
    d = x._data
    xp = xp_of(d)
    axis = wrap_dim(dim, d.ndim, "mode")
    _check_nonempty(d, (axis,), "mode")
    n = d.shape[axis]
    dm = xp.moveaxis(d, axis, -1).reshape(-1, n)
    order = xp.argsort(dm, axis=-1, kind="stable")
    s = xp.take_along_axis(dm, order, axis=-1)
    pos = xp.broadcast_to(xp.arange(n), s.shape)
    new = xp.ones(s.shape, dtype=bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    run_start = xp.maximum.accumulate(xp.where(new, pos, 0), axis=-1)
    end = xp.ones(s.shape, dtype=bool)
    end[:, :-1] = new[:, 1:]
    run_end = (n - 1) - xp.maximum.accumulate(xp.where(end, n - 1 - pos, 0)[:, ::-1], axis=-1)[:, ::-1]
    count = run_end - run_start + 1
    best = count.argmax(axis=-1)[:, None]  # first maximal run: the smallest value
    rid = xp.cumsum(new, axis=-1)
    in_best = rid == xp.take_along_axis(rid, best, axis=-1)
    idx = xp.where(in_best, order, -1).max(axis=-1)
    lead = tuple(s_ for i, s_ in enumerate(d.shape) if i != axis)
    idx = xp.expand_dims(idx.reshape(lead), axis)
    values, indices = _select(x, idx, axis, keepdim or was0)
    if was0:
        values, indices = reshape(values, ()), reshape(indices, ())
    return return_types.mode(values, indices)


# ============================================================================ logsumexp
class LogsumexpBackward(Node):
    __slots__ = ("dims", "keepdim")

    def apply(self, g):
        (x,) = self.saved_tensors
        shape = x._data.shape
        out = _unreduce(self.saved_output(), shape, self.dims, self.keepdim)
        return (expand_back(g, shape, self.dims, self.keepdim) * exp(x - out),)


@axis_alias
def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim``, computed stably by subtracting the maximum.

    Rows that are all -inf give -inf. Gradient: g * exp(x - out) (the softmax).
    """
    d = input._data
    if d.dtype.kind != "f":
        input = cast(input, _dt.default_np_dtype())
        d = input._data
    dims = _dims(dim, d.ndim, "logsumexp")
    xp = xp_of(d)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if builtins.any(d.shape[i] == 0 for i in dims):
            r = xp.log(xp.exp(d).sum(axis=dims, keepdims=keepdim))
        else:
            m = d.max(axis=dims, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)
            r = xp.log(xp.exp(d - m).sum(axis=dims, keepdims=True)) + m
            if not keepdim:
                r = r.reshape(tuple(s for i, s in enumerate(d.shape) if i not in dims))
    out = wrap(_as_array(r, d).astype(d.dtype, copy=False))
    if gm.enabled and input.requires_grad:
        n = LogsumexpBackward(input)
        n.save(input)
        n.save_output(out)
        n.dims, n.keepdim = dims, keepdim
        attach(out, n)
    return out


# ============================================================================ norms
class VectorNormBackward(Node):
    __slots__ = ("ord", "dims", "keepdim")

    def apply(self, g):
        (x,) = self.saved_tensors
        xd = x._data
        shape = xd.shape
        p = self.ord
        dims, keepdim = self.dims, self.keepdim
        ge = _unreduce(g, shape, dims, keepdim)
        if p == 0:
            return (expand_back(g * 0, shape, dims, keepdim),)
        if p == 1:
            return (sign(x) * ge,)
        norm = _unreduce(self.saved_output(), shape, dims, keepdim)
        if math.isinf(p):
            od = norm._data
            mask = xp_of(xd).abs(xd) == od
            mask |= xp_of(xd).isnan(xd)
            with np.errstate(invalid="ignore", divide="ignore"):
                w = (mask / mask.sum(axis=dims, keepdims=True)).astype(xd.dtype, copy=False)
            return (sign(x) * ge * wrap(w),)
        nz = norm._data == 0
        # A zero norm means every x in its slice is 0, where the gradient is 0 (not 0/0).
        safe = where(wrap(nz), 1.0, norm) if bool(nz.any()) else norm
        if p == 2:
            return (x * (ge / safe),)
        if p < 1:
            xz = xd == 0
            ax = _abs(x)
            if bool(xz.any()):
                ax = where(wrap(xz), 1.0, ax)
            return (sign(x) * ax ** (p - 1) * ge * norm ** (1 - p),)
        if p < 2:
            return (sign(x) * _abs(x) ** (p - 1) * (ge / safe ** (p - 1)),)
        return (x * _abs(x) ** (p - 2) * (ge / safe ** (p - 1)),)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002 - PyTorch's name
    """``(sum |x|^ord)^(1/ord)`` over ``dim`` (all dims when None), as ``torch.linalg.vector_norm``.

    ``ord``: any real, ``inf`` (max |x|), ``-inf`` (min |x|), ``0`` (count of non-zeros).
    Gradient: PyTorch's formulas; for ord=2 it is g * x / norm, and 0 (not nan) where the norm is 0.
    """
    input = x
    if dtype is not None:
        input = cast(input, _dt.to_numpy_dtype(dtype))
    d = input._data
    if d.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_dt.from_numpy_dtype(d.dtype)}")
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    dims = _dims(dim, d.ndim, "linalg.vector_norm")
    p = float(ord)
    xp = xp_of(d)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if p == 2:
            r = xp.sqrt((d * d).sum(axis=dims, keepdims=keepdim))
        elif p == 1:
            r = xp.abs(d).sum(axis=dims, keepdims=keepdim)
        elif math.isinf(p):
            if d.size == 0 or builtins.any(d.shape[i] == 0 for i in dims):
                raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor (shape "
                                   f"{tuple(d.shape)}) because the operation does not have an identity")
            a = xp.abs(d)
            r = a.max(axis=dims, keepdims=keepdim) if p > 0 else a.min(axis=dims, keepdims=keepdim)
        elif p == 0:
            r = (d != 0).sum(axis=dims, keepdims=keepdim)
        else:
            r = (xp.abs(d) ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)
    out = wrap(_as_array(r, d).astype(d.dtype, copy=False))
    if gm.enabled and input.requires_grad:
        n = VectorNormBackward(input)
        n.save(input)
        n.save_output(out)
        n.ord, n.dims, n.keepdim = p, dims, keepdim
        attach(out, n)
    return out


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """Vector norm of ``input`` over ``dim`` (``torch.norm``): ``p='fro'`` is the 2-norm.

    Numeric ``p`` (incl. ``inf``, ``-inf``, ``0``) follows ``vector_norm``. Matrix norms
    (``p='nuc'``) are not provided here.
    """
    if out is not None:
        raise NotImplementedError("norm(out=...) is not supported; assign the result instead")
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, (int, np.integer)) or len(dim) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        raise NotImplementedError(f"norm(p={p!r}, dim={dim!r}): matrix norms (nuclear norm, 'fro' over more "
                                  "than 2 dims) are not supported; use p='fro' or a number")
    return vector_norm(input, 2.0 if p is None else p, dim, keepdim, dtype=dtype)


# ============================================================================ logical reductions
def _logical(input, dim, keepdim, op):
    d = input._data
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        r = d.astype(bool)  # PyTorch: an empty dim list reduces nothing for all/any
    else:
        dims = _dims(dim, d.ndim, op)
        r = _as_array(d.all(axis=dims, keepdims=keepdim) if op == "all" else
                      d.any(axis=dims, keepdims=keepdim), d)
    if d.dtype == np.uint8:
        r = r.astype(np.uint8)
    return wrap(r)


@axis_alias
def all(input, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Whether every element (over ``dim``) is non-zero. bool result (uint8 for uint8 input)."""
    return _logical(input, dim, keepdim, "all")


@axis_alias
def any(input, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Whether some element (over ``dim``) is non-zero. bool result (uint8 for uint8 input)."""
    return _logical(input, dim, keepdim, "any")


@axis_alias
def count_nonzero(input, dim=None):
    """Number of non-zero elements over ``dim`` (int64)."""
    d = input._data
    dims = _dims(dim, d.ndim, "count_nonzero")
    return wrap(_as_array((d != 0).sum(axis=dims, dtype=np.int64), d))


@axis_alias
def _max_method(self, dim=None, keepdim=False):
    return max(self, dim, keepdim)


@axis_alias
def _min_method(self, dim=None, keepdim=False):
    return min(self, dim, keepdim)


register_methods({
    "sum": sum, "mean": mean, "nansum": nansum, "nanmean": nanmean, "prod": prod, "cumsum": cumsum,
    "cumprod": cumprod, "cummax": cummax, "cummin": cummin, "var": var, "std": std, "max": _max_method, "min": _min_method, "amax": amax,
    "amin": amin, "aminmax": aminmax, "argmax": argmax, "argmin": argmin, "median": median,
    "nanmedian": nanmedian, "mode": mode, "logsumexp": logsumexp, "norm": norm, "all": all, "any": any,
    "count_nonzero": count_nonzero,
})

__all__ = [
    "all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "count_nonzero", "cummax", "cummin", "cumprod",
    "cumsum", "logsumexp", "max", "mean", "median", "min", "mode", "nanmean", "nanmedian", "nansum", "norm",
    "prod", "std", "std_mean", "sum", "var", "var_mean",
]
