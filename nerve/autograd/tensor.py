"""The Tensor: an array (NumPy or CuPy) plus what autograd needs to differentiate through it.

Only the structural part of Tensor lives here: attributes, conversion to Python/NumPy, printing,
hooks and ``backward``. Every math method (``__add__``, ``sum``, ``view``, ...) is attached by the
op modules in ``nerve.ops``, which sit one layer above.
"""
from __future__ import annotations

import weakref

import numpy as np

from .. import backend
from ..backend import dtypes as _dt
from . import grad_mode
from . import node as _node


class Tensor:
    """A multi-dimensional array that can record operations for automatic differentiation.

    Prefer ``nerve.tensor(data)`` to build one; ``Tensor(data)`` gives a float tensor, like
    ``torch.Tensor``.

    Attributes:
        grad: accumulated gradient (a Tensor) after ``backward``, for leaves that require grad.
        grad_fn: the node that created this tensor, or None for leaves.
        requires_grad: whether operations on this tensor are recorded.
    """

    __slots__ = ("_data", "requires_grad", "grad_fn", "grad", "_vc", "_base", "_hooks", "_retain",
                 "__weakref__")
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            arr = np.asarray(args[0].numpy() if isinstance(args[0], Tensor) else args[0])
            arr = arr.astype(dtype.np if dtype is not None else _dt.default_np_dtype())
        else:
            # Tensor(2, 3): an uninitialised (here: zero) float tensor of that shape.
            arr = np.zeros(tuple(int(a) for a in args), dtype=dtype.np if dtype else _dt.default_np_dtype())
        if device is not None:
            arr = backend.to_device(arr, backend.device(device))
        init_tensor(self, arr)
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ basic attributes
    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's memory but detached from the graph (``torch.Tensor.data``)."""
        t = wrap(self._data)
        return t

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            value = value._data
        self._data = value

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self):
        return _dt.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return backend.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def is_floating_point_(self):  # pragma: no cover - guard against a common typo
        raise AttributeError("use is_floating_point()")

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return False

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim, "stride")]

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        d = self._data
        return int(d.__array_interface__["data"][0]) if isinstance(d, np.ndarray) else int(d.data.ptr)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place (only on leaves; only floating tensors can require grad)."""
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")
        self.requires_grad = bool(requires_grad)
        return self

    # ------------------------------------------------------------------ graph
    def detach(self) -> "Tensor":
        """A new tensor sharing memory (and version counter) but cut from the graph."""
        t = wrap(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self.requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        Args:
            gradient: d(loss)/d(self); may be omitted when self has one element.
            retain_graph: keep saved values so backward can run again (default: ``create_graph``).
            create_graph: record the backward pass itself, for higher-order derivatives.
            inputs: accumulate only into these tensors.
        """
        from .engine import backward as _backward
        _backward([self], None if gradient is None else [gradient], retain_graph, create_graph,
                  inputs=inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn.register_prehook(hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _node._Handle(self._hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retain:
            return
        self._retain = True
        ref = weakref.ref(self)

        def hook(g):
            t = ref()
            if t is not None:
                if t.grad is None:
                    t.grad = g.detach() if not grad_mode.enabled else g
                    if t.grad._data is g._data and not grad_mode.enabled:
                        t.grad = wrap(g._data.copy())
                else:
                    t.grad = t.grad + g
            return None
        self.grad_fn.register_prehook(hook)

    @property
    def retains_grad(self) -> bool:
        return bool(self._retain)

    # ------------------------------------------------------------------ conversion
    def numpy(self, force: bool = False) -> np.ndarray:
        """The data as a NumPy array; shares memory on the CPU."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        d = self._data
        return d if isinstance(d, np.ndarray) else d.get()

    def __array__(self, dtype=None, copy=None):
        d = self._data
        a = d if isinstance(d, np.ndarray) else d.get()
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        return a

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item() if isinstance(self._data, np.ndarray) else self._data.item()

    def tolist(self):
        d = self._data
        return (d if isinstance(d, np.ndarray) else d.get()).tolist()

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __int__(self):
        return int(self.item())

    def __float__(self):
        return float(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous")
        return bool(self.item())

    def __complex__(self):
        return complex(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self):
        return id(self)

    def __reduce__(self):
        return (_rebuild, (self.numpy(force=True), self.requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support deepcopy")
        t = wrap(self._data.copy())
        t.requires_grad = self.requires_grad
        if self.grad is not None:
            t.grad = wrap(self.grad._data.copy())
        memo[id(self)] = t
        return t

    def __format__(self, spec):
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return repr(self) if not spec else format(str(self), spec)

    def __repr__(self):
        return format_tensor(self)

    __str__ = __repr__


def _rebuild(arr, requires_grad):
    t = wrap(np.array(arr))
    t.requires_grad = requires_grad
    return t


class Size(tuple):
    """A tensor shape: a tuple that prints as ``nerve.Size([2, 3])``."""

    def __repr__(self):
        return f"nerve.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


def init_tensor(t: Tensor, arr) -> Tensor:
    t._data = arr
    t.requires_grad = False
    t.grad_fn = None
    t.grad = None
    t._vc = [0]
    t._base = None
    t._hooks = None
    t._retain = False
    return t


_new = Tensor.__new__


_ndarray = np.ndarray


def wrap(arr) -> Tensor:
    """A new leaf tensor around array ``arr`` (no copy: the ops' fast path).

    NumPy returns scalars, not 0-d arrays, from ops on 0-d arrays; those are turned back into arrays.
    """
    if type(arr) is not _ndarray and not hasattr(arr, "__cuda_array_interface__"):
        arr = np.asarray(arr)
    t = _new(Tensor)
    t._data = arr
    t.requires_grad = False
    t.grad_fn = None
    t.grad = None
    t._vc = [0]
    t._base = None
    t._hooks = None
    t._retain = False
    return t


def _wrap_dim(dim, ndim, op):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


# ---------------------------------------------------------------------------- printing
def _fmt_floats(a: np.ndarray):
    finite = a[np.isfinite(a)]
    if finite.size and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8:
        return lambda v: (f"{v:.0f}." if np.isfinite(v) else _nonfinite(v))
    amax = np.abs(finite).max() if finite.size else 0.0
    amin = np.abs(finite[finite != 0]).min() if np.any(finite != 0) else 1.0
    if amax >= 1e8 or amin < 1e-4 or (amax / amin > 1e3 and amax >= 1e3):
        return lambda v: (f"{v:.4e}" if np.isfinite(v) else _nonfinite(v))
    return lambda v: (f"{v:.4f}" if np.isfinite(v) else _nonfinite(v))


def _nonfinite(v):
    return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")


def format_tensor(t: Tensor) -> str:
    a = t._data if isinstance(t._data, np.ndarray) else t._data.get()
    kind = a.dtype.kind
    if kind == "f":
        fmt = _fmt_floats(a.astype(np.float64))
    elif kind == "b":
        fmt = lambda v: "True" if v else "False"  # noqa: E731
    else:
        fmt = lambda v: str(int(v))  # noqa: E731
    summarize = a.size > 1000
    if a.size and not summarize:
        width = max(len(fmt(v)) for v in a.ravel())
        base_fmt = fmt
        fmt = lambda v: base_fmt(v).rjust(width)  # noqa: E731
    body = np.array2string(a, separator=", ", prefix="tensor(", threshold=1000 if summarize else a.size + 1,
                           edgeitems=3, formatter={"all": fmt}, max_line_width=80)
    extras = []
    default_np = _dt.default_np_dtype()
    if a.dtype != default_np and a.dtype != np.int64 and a.dtype != np.bool_:
        extras.append(f"dtype={t.dtype!r}")
    if a.size == 0 and a.ndim != 1:
        body = "[]"
        extras.insert(0, f"size={tuple(a.shape)}")
    dev = t.device
    if dev.type != "cpu":
        extras.insert(0, f"device='{dev}'")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
