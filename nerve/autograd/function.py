"""User-defined differentiable functions (``torch.autograd.Function``).

Example:
    >>> class Square(nerve.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * g
    >>> y = Square.apply(x)
"""
from __future__ import annotations

from . import grad_mode
from .node import Node
from .tensor import Tensor


class FunctionCtx:
    def save_for_backward(self, *tensors):
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = tensors

    def set_materialize_grads(self, value: bool):
        self.materialize_grads = value


class _FunctionNode(Node):
    def apply(self, g):
        ctx = self.ctx
        ctx.saved_tensors = self.saved_tensors if self.saved else ()
        ctx.needs_input_grad = tuple(e is not None for e in self.tensor_next)
        grads = self.fn_cls.backward(ctx, g)
        if not isinstance(grads, tuple):
            grads = (grads,)
        out = []
        it = iter(range(len(grads)))
        for i in it:
            if i in self.tensor_pos:
                out.append(grads[i])
        if len(out) < len(self.tensor_pos):
            raise RuntimeError(f"function {self.fn_cls.__name__}.backward returned {len(grads)} gradients, "
                               f"expected one per forward input")
        return tuple(out)

    def name(self):
        return f"{self.fn_cls.__name__}Backward"


class Function:
    """Base class for custom ops: define static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``."""

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        with grad_mode.no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        tensors = [a for a in args if isinstance(a, Tensor)]
        if not grad_mode.enabled or not any(t.requires_grad for t in tensors):
            return out
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a single Tensor in nerve")
        node = _FunctionNode(*tensors)
        node.fn_cls = cls
        node.ctx = ctx
        node.tensor_pos = {i for i, a in enumerate(args) if isinstance(a, Tensor)}
        node.tensor_next = node.next
        if getattr(ctx, "_to_save", None):
            node.save(*ctx._to_save)
        if out in getattr(ctx, "_non_diff", ()):
            return out
        if out.grad_fn is not None or out.requires_grad:
            out = out.detach()
        out.requires_grad = True
        out.grad_fn = node
        return out
