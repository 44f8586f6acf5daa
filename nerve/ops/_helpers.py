"""Shared machinery of the op modules: operand coercion, PyTorch type promotion, recording nodes.

The pattern of every differentiable op::

    def exp(input):
        out = wrap(xp_of(input._data).exp(input._data))       # forward on raw arrays
        if gm.enabled and input.requires_grad:                 # record only when needed
            n = ExpBackward(input)                             # edges + input shapes/dtypes
            n.save_output(out)                                 # what backward needs
            attach(out, n)
        return out

    class ExpBackward(Node):
        def apply(self, g):                                    # nerve ops, so create_graph works
            return (g * self.saved_output(),)
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..backend import dtypes as _dt
from ..autograd import grad_mode as gm
from ..autograd.node import Node, format_trace  # noqa: F401 - re-exported for op modules
from ..autograd.tensor import Tensor, wrap  # noqa: F401

array_module = backend.array_module
_np_ndarray = np.ndarray

try:  # optional compiled kernels for a CNN's element-wise passes (pip install numba)
    from . import _cnn_numba as _cnk
except ImportError:  # pragma: no cover - depends on the install
    _cnk = None


def cnn_kernels(*arrays):
    """nerve/ops/_cnn_numba.py when its kernels take these arrays (NumPy float32, contiguous, large), else None."""
    return _cnk if _cnk is not None and _cnk.usable(*arrays) else None


def xp_of(arr):
    """NumPy or CuPy, whichever holds ``arr`` (fast path for NumPy)."""
    return np if type(arr) is _np_ndarray else array_module(arr)


def attach(out: Tensor, node: Node) -> Tensor:
    """Make ``node`` the ``grad_fn`` of ``out`` (and check it under anomaly mode)."""
    out.requires_grad = True
    out.grad_fn = node
    if gm.anomaly:
        check_forward(out, node.op_name(), node.trace)
    return out


def check_forward(out: Tensor, op: str, trace) -> None:
    d = out._data
    if gm.anomaly_check_nan and d.dtype.kind == "f" and not bool(xp_of(d).isfinite(d).all()):
        raise RuntimeError(
            f"Anomaly detected: op '{op}' produced nan or inf values in its forward output of shape "
            f"{tuple(d.shape)}.\nThe op was called at:\n{format_trace(trace)}")


def needs_grad(*tensors) -> bool:
    if not gm.enabled:
        return False
    for t in tensors:
        if t is not None and t.requires_grad:
            return True
    return False


# ---------------------------------------------------------------------------- conversion
def as_tensor_like(x, ref: Tensor | None = None, name: str = "input") -> Tensor:
    """Turn x (Tensor, scalar, sequence, ndarray) into a Tensor on ref's device."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, numbers.Number, np.generic)):
        if ref is not None:
            xp = xp_of(ref._data)
            return wrap(xp.asarray(x, dtype=scalar_result_dtype(ref._data.dtype, x)))
        return wrap(np.asarray(x, dtype=_scalar_np_dtype(x)))
    if isinstance(x, (list, tuple, np.ndarray)):
        arr = np.asarray(x)
        if arr.dtype.kind == "f" and not isinstance(x, np.ndarray):
            arr = arr.astype(_dt.default_np_dtype())
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{name}: cannot make a tensor from {type(x).__name__} of dtype {arr.dtype}")
        if ref is not None and type(ref._data) is not _np_ndarray:
            arr = xp_of(ref._data).asarray(arr)
        return wrap(arr)
    xp = array_module(x)
    if xp is not np:
        return wrap(x)
    raise TypeError(f"{name} must be a Tensor or a number, got {type(x).__name__}")


def _scalar_np_dtype(s):
    if isinstance(s, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(s, (numbers.Integral,)):
        return np.dtype(np.int64)
    if isinstance(s, np.generic):
        return s.dtype if s.dtype.kind != "f" else _dt.default_np_dtype()
    return _dt.default_np_dtype()


def scalar_result_dtype(arr_dtype, s):
    """Dtype of ``tensor <op> python_scalar`` under PyTorch's rules."""
    k = arr_dtype.kind
    if isinstance(s, (bool, np.bool_)):
        return arr_dtype
    if isinstance(s, numbers.Integral):
        return np.dtype(np.int64) if k == "b" else arr_dtype
    # float (or other real)
    return arr_dtype if k == "f" else _dt.default_np_dtype()


_promo_cache: dict = {}


def result_dtype(a, b):
    """PyTorch's result dtype for two tensor arrays (0-dim tensors have lower priority)."""
    da, db = a.dtype, b.dtype
    za, zb = a.ndim == 0, b.ndim == 0
    key = (da, db, za, zb)
    r = _promo_cache.get(key)
    if r is not None:
        return r
    if za == zb:
        r = _dt.promote_types(da, db)
    else:
        dim_, zero = (db, da) if za else (da, db)
        kd, kz = _kind(dim_), _kind(zero)
        r = _dt.promote_types(dim_, zero) if kz > kd else dim_
    _promo_cache[key] = r
    return r


def _kind(d):
    k = d.kind
    return 2 if k == "f" else (0 if k == "b" else 1)


def binary_operands(a, b, op: str):
    """Coerce the operands of a binary op.

    Returns ``(ta, tb, da, db)``: the Tensor operands (None for a Python scalar) and the raw
    operands to compute with (arrays cast to the promoted dtype, or Python scalars).
    """
    if isinstance(a, Tensor):
        ad = a._data
        if isinstance(b, Tensor):
            bd = b._data
            if ad.dtype is not bd.dtype and ad.dtype != bd.dtype:
                rd = result_dtype(ad, bd)
                if ad.dtype != rd:
                    ad = ad.astype(rd)
                if bd.dtype != rd:
                    bd = bd.astype(rd)
            return a, b, ad, bd
        if isinstance(b, (float, int)):
            if type(b) is not float and type(b) is not int and isinstance(b, np.generic):
                b = b.item()  # np.float64 subclasses float, but must not upcast like a NumPy scalar
            if ad.dtype.kind != "f" and not (isinstance(b, int) and ad.dtype.kind != "b"):
                ad = ad.astype(scalar_result_dtype(ad.dtype, b))
            return a, None, ad, b
        if isinstance(b, np.generic) and b.ndim == 0 and b.dtype.kind in "fiub":
            return binary_operands(a, b.item(), op)
        return binary_operands(a, as_tensor_like(b, a, op), op)
    if isinstance(b, Tensor):
        if isinstance(a, (float, int, np.generic)):
            tb, ta, bd, ad = binary_operands(b, a, op)
            return ta, tb, ad, bd
        return binary_operands(as_tensor_like(a, b, op), b, op)
    raise TypeError(f"{op}: expected at least one Tensor operand, got {type(a).__name__} and "
                    f"{type(b).__name__}")


def broadcast_error(op: str, sa, sb):
    return RuntimeError(
        f"{op}: the shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast together: each dimension, "
        "counted from the last, must be equal or 1")


def float_operand(t: Tensor) -> np.ndarray:
    """The tensor's data, promoted to the default float dtype if it is integer/bool."""
    d = t._data
    if d.dtype.kind != "f":
        return d.astype(_dt.default_np_dtype())
    return d


def wrap_dim(dim: int, ndim: int, op: str = "op") -> int:
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


def wrap_dims(dim, ndim: int, op: str = "op"):
    """Normalise ``dim`` (None, int, or sequence) to a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (wrap_dim(int(dim), ndim, op),)
    dims = tuple(wrap_dim(int(d), ndim, op) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
    return tuple(sorted(dims))


def register_methods(mapping: dict) -> None:
    """Attach functions as Tensor methods (the op modules sit above the Tensor class)."""
    for name, fn in mapping.items():
        setattr(Tensor, name, fn)
