"""Reductions: sum, mean, ... over ``dim`` (int, tuple or None) with ``keepdim``.

Gradients expand ``g`` back over the reduced dims: reshape to the keepdim shape, then ``expand``.
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import wrap
from ..backend import dtypes as _dt
from ._helpers import attach, register_methods, wrap_dims, xp_of
from .shape import expand, reshape


def keepdim_shape(in_shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(in_shape))


def expand_back(g, in_shape, dims, keepdim):
    """Broadcast a reduced gradient ``g`` back to ``in_shape`` (differentiable)."""
    if not keepdim and dims:
        g = reshape(g, keepdim_shape(in_shape, dims))
    return expand(g, in_shape)


def _dims_arg(dim, axis):
    if axis is not None:
        if dim is not None:
            raise TypeError("pass either dim or axis, not both")
        return axis
    return dim


class SumBackward(Node):
    __slots__ = ("in_shape", "dims", "keepdim")

    def apply(self, g):
        return (expand_back(g, self.in_shape, self.dims, self.keepdim),)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None):  # noqa: A001 - PyTorch's name
    """Sum over ``dim`` (all dims when None). Integer/bool inputs sum in int64, as PyTorch.

    Gradient: g broadcast back over the summed dims.
    """
    d = input._data
    dim = _dims_arg(dim, axis)
    dims = wrap_dims(dim, d.ndim, "sum") if not (isinstance(dim, (tuple, list)) and len(dim) == 0) \
        else tuple(range(d.ndim))
    if dtype is not None:
        npd = _dt.to_numpy_dtype(dtype)
    elif d.dtype.kind in "bi" or d.dtype.kind == "u":
        npd = np.dtype(np.int64)
    else:
        npd = None
    r = d.sum(axis=dims, keepdims=keepdim, dtype=npd)
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
    dim = _dims_arg(dim, axis)
    dims = wrap_dims(dim, d.ndim, "mean") if not (isinstance(dim, (tuple, list)) and len(dim) == 0) \
        else tuple(range(d.ndim))
    count = 1
    for i in dims:
        count *= d.shape[i]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = d.sum(axis=dims, keepdims=keepdim)
        r = r / count if count else r * np.nan
    out = wrap(xp_of(d).asarray(r, dtype=d.dtype))
    if gm.enabled and input.requires_grad:
        n = MeanBackward(input)
        n.in_shape, n.dims, n.keepdim, n.count = d.shape, dims, keepdim, count
        attach(out, n)
    return out


register_methods({"sum": sum, "mean": mean})

__all__ = [
    "mean", "sum",
]
