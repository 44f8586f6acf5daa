"""Tensor creation (tensor, zeros, arange, rand, ...), conversion (to, float, ...) and fills."""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from .. import backend
from ..autograd import grad_mode as gm
from ..autograd.tensor import Tensor, wrap
from ..backend import dtypes as _dt
from ..backend.random import rng
from ..autograd.node import Node
from ._helpers import attach, register_methods, xp_of
from .elementwise import _check_inplace, apply_inplace, reset_history
from .shape import cast, expand


def _to_np(dtype) -> np.dtype:
    """NumPy dtype for a dtype argument. Python's ``float`` means float64 there, as in PyTorch
    (``torch.zeros(2, dtype=float)`` is float64, whatever the default dtype)."""
    if dtype is builtins.float:
        return np.dtype(np.float64)
    return _dt.to_numpy_dtype(dtype)


def _np_dtype(dtype, default=None):
    if dtype is None:
        return default if default is not None else _dt.default_np_dtype()
    return _to_np(dtype)


def _float_dtype(dtype, op):
    """The NumPy dtype of a random floating tensor; integer dtypes are refused as in PyTorch."""
    npd = _np_dtype(dtype)
    if npd.kind != "f":
        raise NotImplementedError(f"{op}(): dtype {_dt.from_numpy_dtype(npd)} is not supported: random "
                                  "floating samples need a floating dtype (use randint for integers)")
    return npd


def _finish(arr, device, requires_grad):
    if device is not None:
        dev = backend.device(device)
        if dev.type != "cpu":
            arr = backend.to_device(arr, dev)
    t = wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _flatten_tensors(data):
    """Replace Tensors nested in lists by their values so NumPy can read them."""
    if isinstance(data, Tensor):
        return data.numpy(force=True) if data.ndim else data.item()
    if isinstance(data, (list, tuple)):
        return [_flatten_tensors(x) for x in data]
    return data


def _np_float_scalar_dtype(data):
    """The widest NumPy floating scalar type inside nested lists (None if there is none)."""
    best = None
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, np.floating) and (best is None or x.dtype.itemsize > best.itemsize):
            best = x.dtype
    return best


def _infer_np(data):
    try:
        arr = np.asarray(_flatten_tensors(data))
    except ValueError:
        raise ValueError(f"tensor(): expected a regular nested sequence (all rows of the same length), got "
                         f"{type(data).__name__} with rows of different lengths") from None
    if arr.dtype.kind == "f" and not isinstance(data, np.ndarray) and arr.dtype != _dt.default_np_dtype():
        if not isinstance(data, np.floating):
            # Python floats take the default dtype; NumPy float scalars keep theirs (PyTorch promotes both)
            npf = _np_float_scalar_dtype(data) if isinstance(data, (list, tuple)) else None
            target = _dt.default_np_dtype()
            if npf is not None and npf.itemsize > target.itemsize:
                target = npf
            arr = arr.astype(target)
    elif arr.dtype.kind in "OUS":
        raise TypeError(f"tensor(): cannot make a tensor from data of type {type(data).__name__}")
    elif arr.dtype.kind == "u" and arr.dtype != np.uint8:
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "i" and arr.dtype != np.int64 and not isinstance(data, (np.ndarray, np.generic)):
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "c":
        raise TypeError("nerve does not support complex tensors")
    return arr


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays, tensors).

    Python floats give ``get_default_dtype()`` (float32), ints give int64, bools give bool.

    Example:
        >>> nerve.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    """
    if isinstance(data, Tensor):
        arr = data._data.copy()
        if dtype is not None:
            arr = arr.astype(_to_np(dtype))
        return _finish(arr, device, requires_grad)
    arr = _infer_np(data)
    arr = np.array(arr, dtype=_to_np(dtype) if dtype is not None else arr.dtype, copy=True)
    return _finish(arr, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when dtype and device allow."""
    if isinstance(data, Tensor):
        out = data
        if dtype is not None:
            out = cast(out, _to_np(dtype))
        if device is not None:
            out = to(out, device)
        return out
    if isinstance(data, np.ndarray):
        arr = data if dtype is None else data.astype(_to_np(dtype), copy=False)
        return _finish(arr, device, False)
    arr = _infer_np(data)
    if dtype is not None:
        arr = arr.astype(_to_np(dtype), copy=False)
    return _finish(arr, device, False)


asarray = as_tensor


def from_numpy(ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray`` (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dt.from_numpy_dtype(ndarray.dtype)  # validates the dtype
    return wrap(ndarray)


def _size(size, op, kw=None):
    """Accept f(2, 3), f((2, 3)), f([2, 3]), f(Size) and f(size=(2, 3))."""
    if kw is not None:
        if size:
            raise TypeError(f"{op}(): pass the size either positionally or as size=, not both")
        size = (kw,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        out = tuple(builtins.int(s) for s in size)
    except TypeError:
        raise TypeError(f"{op}(): size must be a sequence of ints, got {size!r}") from None
    if any(s < 0 for s in out):
        raise RuntimeError(f"{op}(): Dimension size must be non-negative, got size {out}")
    return out


def zeros(*sizes, out=None, dtype=None, layout=None, device=None, requires_grad=False, size=None) -> Tensor:
    """A tensor of zeros of the given size."""
    arr = np.zeros(_size(sizes, "zeros", size), dtype=_np_dtype(dtype))
    return _finish(arr, device, requires_grad)


def ones(*sizes, out=None, dtype=None, layout=None, device=None, requires_grad=False, size=None) -> Tensor:
    """A tensor of ones of the given size."""
    arr = np.ones(_size(sizes, "ones", size), dtype=_np_dtype(dtype))
    return _finish(arr, device, requires_grad)


def empty(*sizes, out=None, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
          size=None):
    """An uninitialised tensor (its values are whatever memory held)."""
    arr = np.empty(_size(sizes, "empty", size), dtype=_np_dtype(dtype))
    return _finish(arr, device, requires_grad)


def _fill_dtype(value):
    if isinstance(value, bool):
        return np.dtype(np.bool_)
    if isinstance(value, numbers.Integral):
        return np.dtype(np.int64)
    return _dt.default_np_dtype()


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of the given size filled with ``fill_value`` (dtype inferred from it)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    arr = np.full(_size((size,), "full"), fill_value, dtype=_np_dtype(dtype, _fill_dtype(fill_value)))
    return _finish(arr, device, requires_grad)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d = input._data
    arr = xp_of(d).zeros_like(d, dtype=_np_dtype(dtype, d.dtype))  # keeps the layout (preserve_format)
    return _finish(arr, device, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d = input._data
    arr = xp_of(d).ones_like(d, dtype=_np_dtype(dtype, d.dtype))  # keeps the layout (preserve_format)
    return _finish(arr, device, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d = input._data
    arr = xp_of(d).empty_like(d, dtype=_np_dtype(dtype, d.dtype))  # keeps the layout (preserve_format)
    return _finish(arr, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    d = input._data
    arr = xp_of(d).full_like(d, fill_value, dtype=_np_dtype(dtype, d.dtype))
    return _finish(arr, device, requires_grad)


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) in steps; int64 unless a bound is a float."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, (Tensor, np.generic)) else v for v in (start, end, step)]
    if dtype is None:
        dtype_np = np.dtype(np.int64) if all(isinstance(v, numbers.Integral) for v in vals) \
            else _dt.default_np_dtype()
    else:
        dtype_np = _to_np(dtype)
    if dtype_np.kind in "iub":
        vals = [builtins.int(v) for v in vals]  # PyTorch truncates the bounds of an integer arange
    start, end, step = vals
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign (start={start}, "
                           f"end={end}, step={step})")
    n = builtins.max(0, builtins.int(np.ceil((end - start) / step)))
    arr = (start + np.arange(n, dtype=np.float64) * step).astype(dtype_np) if dtype_np.kind == "f" \
        else np.arange(start, end, step, dtype=dtype_np)
    return _finish(arr, device, requires_grad)


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated ``torch.range``: includes ``end``."""
    return arange(start, end + step / 2 if end is not None else None, step, dtype=dtype or _dt.get_default_dtype(),
                  device=device, requires_grad=requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if builtins.int(steps) < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    arr = np.linspace(float(start), float(end), builtins.int(steps)).astype(_np_dtype(dtype))
    return _finish(arr, device, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    if builtins.int(steps) < 0:
        raise RuntimeError(f"logspace: number of steps must be non-negative, got {steps}")
    arr = np.logspace(float(start), float(end), builtins.int(steps), base=base).astype(_np_dtype(dtype))
    return _finish(arr, device, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The identity matrix (n x m)."""
    arr = np.eye(builtins.int(n), builtins.int(m) if m is not None else None, dtype=_np_dtype(dtype))
    return _finish(arr, device, requires_grad)


# ============================================================================ random
def rand(*sizes, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, size=None):
    """Uniform samples on [0, 1)."""
    npd = _float_dtype(dtype, "rand")
    arr = rng(generator).random(_size(sizes, "rand", size), dtype=np.float64 if npd == np.float16 else npd)
    return _finish(arr.astype(npd, copy=False), device, requires_grad)


def randn(*sizes, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          size=None):
    """Standard normal samples."""
    npd = _float_dtype(dtype, "randn")
    arr = rng(generator).standard_normal(_size(sizes, "randn", size), dtype=np.float64 if npd == np.float16 else npd)
    return _finish(arr.astype(npd, copy=False), device, requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    """Integers uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size'")
    if high is None:
        low, high = 0, low
    low, high = builtins.int(low), builtins.int(high)
    if low >= high:
        raise RuntimeError(f"randint: random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    arr = rng(generator).integers(low, high, size=_size((size,), "randint"))
    return _finish(arr.astype(_np_dtype(dtype, np.dtype(np.int64))), device, requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64)."""
    arr = rng(generator).permutation(builtins.int(n))
    return _finish(arr.astype(_np_dtype(dtype, np.dtype(np.int64))), device, requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return rand(tuple(input.shape), dtype=dtype or input.dtype, generator=generator,
                device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return randn(tuple(input.shape), dtype=dtype or input.dtype, generator=generator,
                 device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, generator=generator,
                   device=device or input.device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Normal samples; ``mean``/``std`` may be tensors (broadcast) or numbers with ``size``."""
    g = rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        md = mean._data if isinstance(mean, Tensor) else mean
        sd = std._data if isinstance(std, Tensor) else std
        if bool(np.any(np.asarray(sd) < 0)):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        ref = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(np.shape(md), np.shape(sd))
        z = g.standard_normal(shape).astype(ref._data.dtype if ref._data.dtype.kind == "f"
                                            else _dt.default_np_dtype())
        return wrap(np.asarray(md + sd * z, dtype=z.dtype))
    if size is None:
        raise TypeError("normal(): with float mean and std, pass size=")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    npd = _float_dtype(dtype, "normal")
    arr = (mean + std * g.standard_normal(_size((size,), "normal"))).astype(npd)
    return _finish(arr, device, requires_grad)


def bernoulli(input, p=None, *, generator=None, out=None):
    """Samples 1 with probability ``input`` (elementwise), else 0; same dtype as input."""
    d = input._data
    probs = np.asarray(d if p is None else np.full(d.shape, p))
    if probs.size and not bool(((probs >= 0) & (probs <= 1)).all()):
        raise RuntimeError("bernoulli: expected all probabilities p to be in [0, 1] (p_in >= 0 && p_in <= 1)")
    arr = (rng(generator).random(d.shape) < probs).astype(d.dtype)
    return wrap(arr)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Sample category indices with probabilities proportional to the rows of ``input``."""
    d = np.asarray(input._data, dtype=np.float64)
    single = d.ndim == 1
    rows = d[None] if single else d
    g = rng(generator)
    out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for i, row in enumerate(rows):
        if (row < 0).any() or not np.isfinite(row).all() or row.sum() <= 0:
            raise RuntimeError("multinomial: probability tensor contains either inf, nan or element < 0, or "
                               "the rows sum to zero")
        if not replacement and num_samples > np.count_nonzero(row):
            raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        out[i] = g.choice(row.size, size=num_samples, replace=replacement, p=row / row.sum())
    return wrap(out[0] if single else out)


# ============================================================================ in-place fills
def _fill_inplace(t, values, op):
    """Write raw ``values`` into t (random inits, fills): never recorded, but checked."""
    if gm.enabled and t.requires_grad and t.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation. "
                           "Wrap it in `with nerve.no_grad():` (as nerve.nn.init does).")
    d = t._data
    d[...] = values
    t._vc[0] += 1
    if gm.enabled and (t.grad_fn is not None or t._base is not None):
        reset_history(t, op)  # the old history no longer describes the values
    return t


def zero_(self):
    """Fill with zeros in place."""
    return _fill_inplace(self, 0, "zero_")


def fill_(self, value):
    """Fill with ``value`` in place."""
    if isinstance(value, Tensor):
        value = value.item()
    return _fill_inplace(self, value, "fill_")


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples from N(mean, std^2) in place."""
    z = rng(generator).standard_normal(self._data.shape)
    return _fill_inplace(self, mean + std * z, "normal_")


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with samples from U[a, b) in place."""
    u = rng(generator).random(self._data.shape)
    return _fill_inplace(self, a + (b - a) * u, "uniform_")


def bernoulli_(self, p=0.5, *, generator=None):
    pd = p._data if isinstance(p, Tensor) else p
    return _fill_inplace(self, rng(generator).random(self._data.shape) < pd, "bernoulli_")


def exponential_(self, lambd=1.0, *, generator=None):
    return _fill_inplace(self, rng(generator).exponential(1.0 / lambd, self._data.shape), "exponential_")


def random_(self, low=0, high=None, *, generator=None):
    if high is None:
        low, high = 0, low if low else 2 ** 31
    return _fill_inplace(self, rng(generator).integers(low, high, self._data.shape), "random_")


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast) into this tensor in place; differentiable with respect to ``src``."""
    if not isinstance(src, Tensor):
        src = tensor(src)
    record = _check_inplace(self, "copy_") and src.requires_grad
    if not record:
        d = self._data
        sd = src._data
        if type(sd) is not type(d):
            sd = backend.to_device(sd, backend.device_of(d))
        try:
            d[...] = sd
        except ValueError:
            raise RuntimeError(f"copy_: the source of shape {tuple(src.shape)} cannot be broadcast to "
                               f"{tuple(self.shape)}") from None
        self._vc[0] += 1
        if gm.enabled and (self.grad_fn is not None or self._base is not None):
            reset_history(self, "copy_")
        return self
    r = cast(expand(src, tuple(self.shape)), self._data.dtype)
    return apply_inplace(self, r, "copy_")


def set_(self, source):
    self._data = source._data
    self._vc[0] += 1
    return self


# ============================================================================ conversion
def _parse_to(args, kwargs):
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dev, dtype = a.device, a.dtype
        elif isinstance(a, (_dt.dtype, np.dtype)) or a in (builtins.float, builtins.int, builtins.bool):
            dtype = a
        elif isinstance(a, (str, backend.device)):
            dev = a
        elif isinstance(a, builtins.bool):
            pass  # non_blocking / copy positional
        elif a is None:
            pass
        else:
            raise TypeError(f"to() received an invalid argument {a!r}")
    return dev, dtype, copy


def to(self, *args, **kwargs):
    """Convert dtype and/or move device: ``to(dtype)``, ``to('cuda')``, ``to(other)``, ``to(dev, dtype)``.

    Returns ``self`` when nothing changes (unless ``copy=True``). Differentiable.
    """
    dev, dtype, copy = _parse_to(args, dict(kwargs))
    out = self
    if dtype is not None:
        out = cast(out, _to_np(dtype))
    if dev is not None:
        dev = backend.device(dev)
        if backend.device_of(out._data).type != dev.type:
            out = _move(out, dev)
    if copy and out is self:
        from .shape import clone  # noqa: PLC0415
        out = clone(self)
    return out


class ToCopyBackward(Node):
    """Moves the gradient back to the input's device."""

    def apply(self, g):
        return (_move(g, self.src),)


def _move(t, dev):
    out = wrap(backend.to_device(t._data, dev))
    if gm.enabled and t.requires_grad:
        n = ToCopyBackward(t)
        n.src = backend.device_of(t._data)
        attach(out, n)
    return out


def _type(self, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        return _type_name(self)
    if isinstance(dtype, str):
        dtype = _TYPE_NAMES.get(dtype.split(".")[-1], dtype)
    return cast(self, _to_np(dtype))


_TYPE_NAMES = {"FloatTensor": "float32", "DoubleTensor": "float64", "HalfTensor": "float16",
               "LongTensor": "int64", "IntTensor": "int32", "ShortTensor": "int16", "CharTensor": "int8",
               "ByteTensor": "uint8", "BoolTensor": "bool"}


def _type_name(t):
    inv = {v: k for k, v in _TYPE_NAMES.items()}
    return "nerve." + inv.get(t.dtype.name, "FloatTensor")


def _conv(np_dtype):
    def f(self, memory_format=None):
        return cast(self, np.dtype(np_dtype))
    return f


def _new_factory(fn):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad, **kw)
    return method


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


register_methods({
    "to": to, "type": _type, "float": _conv(np.float32), "double": _conv(np.float64), "half": _conv(np.float16),
    "long": _conv(np.int64), "int": _conv(np.int32), "short": _conv(np.int16), "char": _conv(np.int8),
    "byte": _conv(np.uint8), "bool": _conv(np.bool_), "bfloat16": _conv(np.float32),
    "type_as": lambda s, other: cast(s, other._data.dtype),
    "cpu": lambda s, memory_format=None: to(s, "cpu"),
    "cuda": lambda s, device=None, non_blocking=False, memory_format=None: to(s, backend.device("cuda", device)
                                                                          if isinstance(device, builtins.int)
                                                                          else (device or "cuda")),
    "zero_": zero_, "fill_": fill_, "normal_": normal_, "uniform_": uniform_, "bernoulli_": bernoulli_,
    "exponential_": exponential_, "random_": random_, "copy_": copy_, "set_": set_,
    "new_zeros": _new_factory(zeros), "new_ones": _new_factory(ones), "new_empty": _new_factory(empty),
    "new_full": new_full, "new_tensor": new_tensor,
    "bernoulli": lambda s, p=None, generator=None: bernoulli(s, p, generator=generator),
    "multinomial": multinomial,
})

__all__ = [
    "arange", "as_tensor", "asarray", "bernoulli", "empty", "empty_like", "eye", "from_numpy", "full",
    "full_like", "linspace", "logspace", "multinomial", "normal", "ones", "ones_like", "rand", "rand_like",
    "randint", "randint_like", "randn", "randn_like", "randperm", "tensor", "zeros", "zeros_like",
]
