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

    __slots__ = ("_data", "requires_grad", "grad_fn", "grad", "_vc", "_base", "_view_fn", "_hooks",
                 "_retain", "__weakref__")
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            src = args[0]
            arr = np.asarray(src._data if isinstance(src, Tensor) else src)
            arr = arr.astype(dtype.np if dtype is not None else _dt.default_np_dtype())
        elif not args:
            arr = np.zeros((0,), dtype=dtype.np if dtype else _dt.default_np_dtype())
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
                f"only Tensors of floating point dtype can require gradients, but this one is {self.dtype}; "
                "convert it first, e.g. t.float().requires_grad_()")
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
        from .engine import backward as _backward  # noqa: PLC0415 - the engine imports this module
        _backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn.add_tensor_hook(hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _node._Handle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf after backward has accumulated into its ``.grad``.

        Lets an optimizer step run per parameter during backward (PyTorch 2.1's API).
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._hooks is None:
            self._hooks = []
        h = _node.PostAccumulateHook(hook)
        self._hooks.append(h)
        return _node._Handle(self._hooks, h)

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
                    # a copy (PyTorch clones): the engine may keep adding into g's array
                    t.grad = g if grad_mode.enabled else wrap(g._data.copy())
                else:
                    t.grad = t.grad + g
            return None
        hook._retains_grad = True
        self.grad_fn.add_tensor_hook(hook)

    @property
    def retains_grad(self) -> bool:
        return bool(self._retain)

    # ------------------------------------------------------------------ conversion
    def numpy(self, force: bool = False) -> np.ndarray:
        """The data as a NumPy array, sharing memory (CPU tensors).

        ``force=True`` also works for tensors that require grad or live on a GPU (then it copies).
        """
        d = self._data
        if force:
            return d if isinstance(d, np.ndarray) else d.get()
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if not isinstance(d, np.ndarray):
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy "
                            "the tensor to host memory first.")
        return d

    def __array__(self, dtype=None, copy=None):
        # Lenient where numpy() is strict (requires_grad, GPU): np.asarray(t) is for reading values.
        a = self._data
        if not isinstance(a, np.ndarray):
            a = a.get()
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

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

    def __contains__(self, element):
        if isinstance(element, Tensor):
            element = element._data
        elif not isinstance(element, (int, float, bool, np.generic)):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                               f"{type(element).__name__}.")
        return bool((self._data == element).any())

    # Hashing is object identity (object.__hash__, kept in C): ops attach __eq__ only after class
    # creation, so Python does not reset __hash__ to None, and the engine keys dicts by tensor.
    def __reduce__(self):
        # Data, requires_grad and device only: the graph and .grad are not pickled (as in PyTorch).
        dev = self.device
        return (_rebuild, (self.numpy(force=True), self.requires_grad, None if dev.type == "cpu" else str(dev)))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment. Detach it first: copy.deepcopy(t.detach()).")
        t = _new(type(self))
        init_tensor(t, self._data.copy())
        t.requires_grad = self.requires_grad
        memo[id(self)] = t
        if self.grad is not None:
            t.grad = self.grad.__deepcopy__(memo) if self.grad.grad_fn is None else wrap(self.grad._data.copy())
        d = getattr(self, "__dict__", None)
        if d:
            import copy  # noqa: PLC0415
            t.__dict__.update(copy.deepcopy(d, memo))
        return t

    def __format__(self, spec):
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return repr(self) if not spec else format(str(self), spec)

    def __repr__(self):
        from .printing import format_tensor  # noqa: PLC0415 - printing is off the hot path
        return format_tensor(self)

    __str__ = __repr__


def _rebuild(arr, requires_grad, device=None):
    arr = np.array(arr)
    if device is not None:
        arr = backend.to_device(arr, backend.device(device))
    t = wrap(arr)
    t.requires_grad = requires_grad
    return t


class Size(tuple):
    """A tensor shape: a tuple that prints as ``nerve.Size([2, 3])``; slicing and ``+`` keep the type."""

    __slots__ = ()

    def __repr__(self):
        return f"nerve.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        n = 1
        for s in self:
            n *= s
        return n

    def __reduce__(self):
        return (Size, (tuple(self),))


def init_tensor(t: Tensor, arr) -> Tensor:
    t._data = arr
    t.requires_grad = False
    t.grad_fn = None
    t.grad = None
    t._vc = [0]
    t._base = None
    t._view_fn = None
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
    t._view_fn = None
    t._hooks = None
    t._retain = False
    return t


def _wrap_dim(dim, ndim, op):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n
