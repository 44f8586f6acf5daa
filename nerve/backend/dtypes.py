"""nerve dtypes: thin named wrappers over NumPy dtypes with PyTorch's names and promotion rules."""
from __future__ import annotations

import builtins

import numpy as np


class dtype:
    """A tensor element type, printed the PyTorch way (``nerve.float32``)."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_kind")

    def __init__(self, name, np_dtype, kind):
        self.name = name
        self.np = np.dtype(np_dtype)
        self._kind = kind  # 0 bool, 1 integer, 2 floating
        self.is_floating_point = kind == 2
        self.is_complex = False
        self.is_signed = kind == 2 or (kind == 1 and self.np.kind == "i")
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"nerve.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))

    def to_real(self):
        return self

    def to_complex(self):
        raise TypeError("nerve has no complex dtypes")


float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
uint8 = dtype("uint8", np.uint8, 1)
bool_ = dtype("bool", np.bool_, 0)
# NumPy has no bfloat16; it is stored as float32 so code naming it still runs.
bfloat16 = dtype("bfloat16", np.float32, 2)
half, float, double = float16, float32, float64  # noqa: A001 - PyTorch's aliases
short, int, long = int16, int32, int64  # noqa: A001

ALL_DTYPES = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)
_BY_NP = {d.np: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES + (bfloat16,)}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)


def from_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(npd) -> dtype:
    """The nerve dtype for a NumPy dtype (raises TypeError for unsupported ones)."""
    try:
        return _BY_NP[npd]
    except KeyError:
        pass
    npd = np.dtype(npd)
    if npd in _BY_NP:
        return _BY_NP[npd]
    # Types nerve does not model map to the nearest one it does.
    if npd.kind == "u":
        return int64
    raise TypeError(f"nerve does not support NumPy dtype {npd}")


def to_numpy_dtype(d) -> np.dtype:
    """Accepts a nerve dtype, a NumPy dtype or a Python type and returns the NumPy dtype."""
    if isinstance(d, dtype):
        return d.np
    if d is builtins.float:
        return np.dtype(np.float64)  # torch: dtype=float means float64
    if d is builtins.int:
        return np.dtype(np.int64)
    if d is builtins.bool:
        return np.dtype(np.bool_)
    if isinstance(d, str):
        return _BY_NAME[d.replace("torch.", "").replace("nerve.", "")].np
    return from_numpy_dtype(np.dtype(d)).np


_default = float32


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python floats (float32 unless changed)."""
    return _default


def set_default_dtype(d) -> None:
    """Set the default floating dtype (float16, float32 or float64), as ``torch.set_default_dtype``."""
    global _default
    d = from_numpy_dtype(to_numpy_dtype(d))
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype only supports floating point dtypes, got {d}")
    _default = d


def default_np_dtype() -> np.dtype:
    return _default.np


def is_float_np(npd) -> bool:
    return npd.kind == "f"


_promote_cache: dict = {}


def promote_types(a, b):
    """PyTorch's promotion of two dtypes of the same priority (result of ``torch.promote_types``).

    Unlike NumPy, integer with floating gives the floating type (int64 + float32 -> float32).
    Takes NumPy dtypes and returns a NumPy dtype (the ops' fast path), or nerve dtypes and returns
    a nerve dtype (``nerve.promote_types(nerve.int64, nerve.float32) -> nerve.float32``).
    """
    key = (a, b)
    r = _promote_cache.get(key)
    if r is not None:
        return r
    if isinstance(a, dtype) or isinstance(b, dtype):
        r = from_numpy_dtype(promote_types(to_numpy_dtype(a), to_numpy_dtype(b)))
        _promote_cache[key] = r
        return r
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        r = a if ka > kb else b
    else:
        r = np.promote_types(a, b)
    _promote_cache[key] = r
    return r


def _kind(npd):
    k = npd.kind
    return 2 if k == "f" else (0 if k == "b" else 1)


def can_cast(from_, to) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` -> ``to`` in ops with ``out=`` or in-place.

    Floating to integral or bool, and integral to bool, are not allowed (``torch.can_cast``).
    """
    kf, kt = _kind(to_numpy_dtype(from_)), _kind(to_numpy_dtype(to))
    return kf <= kt


class finfo:
    """Machine limits of a floating dtype (``torch.finfo``): eps, max, min, tiny, resolution, bits."""

    def __init__(self, type=None):  # noqa: A002 - PyTorch's argument name
        d = _default if type is None else from_numpy_dtype(to_numpy_dtype(type))
        if not d.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            f"'{d.name}'")
        fi = np.finfo(d.np)
        self.bits = fi.bits
        self.eps = builtins.float(fi.eps)
        self.max = builtins.float(fi.max)
        self.min = builtins.float(fi.min)
        self.tiny = self.smallest_normal = builtins.float(fi.tiny)
        self.resolution = 10.0 ** -fi.precision
        self.dtype = d.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (``torch.iinfo``): bits, min, max."""

    def __init__(self, type):  # noqa: A002
        d = from_numpy_dtype(to_numpy_dtype(type))
        if d.is_floating_point:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to handle '{d.name}'")
        ii = np.iinfo(d.np) if d is not bool_ else None
        self.bits = d.itemsize * 8 if ii is None else ii.bits
        self.min = 0 if ii is None else builtins.int(ii.min)
        self.max = 1 if ii is None else builtins.int(ii.max)
        self.dtype = d.name

    def __repr__(self):
        return f"iinfo(min={builtins.float(self.min):g}, max={builtins.float(self.max):g}, dtype={self.dtype})"
