"""``Parameter``: a leaf tensor that a Module registers as a learnable weight; ``Buffer``: module state."""
from __future__ import annotations

from ..autograd.tensor import Tensor, init_tensor


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning it to a Module attribute registers it.

    ``Parameter(data, requires_grad=True)`` shares ``data``'s memory, like ``torch.nn.Parameter``.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            import numpy as np  # noqa: PLC0415
            from ..backend import dtypes  # noqa: PLC0415
            arr = np.empty((0,), dtype=dtypes.default_np_dtype())
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(f"Parameter expects a Tensor, got {type(data).__name__}")
        init_tensor(self, arr)
        if isinstance(data, Tensor):
            self._vc = data._vc
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce__(self):
        from ..autograd.tensor import _rebuild  # noqa: PLC0415
        return (_rebuild_parameter, (_rebuild(self.numpy(force=True), False), self.requires_grad))

    def __deepcopy__(self, memo):
        t = Parameter(Tensor.__deepcopy__(self, memo).detach(), self.requires_grad)
        if self.grad is not None:
            t.grad = self.grad.clone()
        memo[id(self)] = t
        return t


def _rebuild_parameter(t, requires_grad):
    return Parameter(t, requires_grad)


class Buffer(Tensor):
    """A tensor that a Module registers as a buffer when assigned to one of its attributes (``torch.nn.Buffer``).

    ``persistent=False`` keeps it out of ``state_dict``. Shares ``data``'s memory.

    Example:
        >>> self.running_max = nn.Buffer(nerve.zeros(3))     # same as register_buffer("running_max", ...)
    """

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent: bool = True):
        if data is None:
            import numpy as np  # noqa: PLC0415
            from ..backend import dtypes  # noqa: PLC0415
            arr = np.empty((0,), dtype=dtypes.default_np_dtype())
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(f"Buffer expects a Tensor, got {type(data).__name__}")
        init_tensor(self, arr)
        if isinstance(data, Tensor):
            self._vc = data._vc
            if data.requires_grad and data.grad_fn is None:
                self.requires_grad = True
        self.persistent = persistent
