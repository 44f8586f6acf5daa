"""Graph nodes: one ``Node`` per recorded op output, holding what its backward needs.

A node has exactly one output (multi-output ops such as ``split`` are built from single-output
views), so the gradient of a non-leaf tensor is the gradient arriving at its ``grad_fn``.

``next`` has one entry per differentiable input: that input's ``grad_fn`` node, the input tensor
itself when it is a leaf that requires grad, or ``None``. ``meta`` holds each input's (shape,
NumPy dtype) so that the engine, not every op, sums broadcast gradients back to the input shape
and casts them to the input dtype.

Subclasses implement ``apply(grad) -> tuple`` with nerve's differentiable Tensor ops, so running
backward under ``create_graph=True`` records a graph of the backward pass (second derivatives).
"""
from __future__ import annotations

import itertools
import os
import traceback

from . import grad_mode

_seq = itertools.count()
_FREED = ()  # marks saved values released after backward
_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Node:
    __slots__ = ("next", "meta", "seq", "saved", "pre_hooks", "trace", "__dict__", "__weakref__")

    def __init__(self, *inputs):
        """Create a node whose differentiable inputs are the tensors ``inputs`` (None allowed)."""
        nxt = []
        meta = []
        for t in inputs:
            if t is not None and t.requires_grad:
                fn = t.grad_fn
                nxt.append(t if fn is None else fn)
                d = t._data
                meta.append((d.shape, d.dtype))
            else:
                nxt.append(None)
                meta.append(None)
        self.next = nxt
        self.meta = meta
        self.seq = next(_seq)
        self.saved = None
        self.pre_hooks = None
        self.trace = _user_trace() if grad_mode.anomaly else None

    # -- name shown in repr, errors and anomaly reports ---------------------------------------
    @classmethod
    def op_name(cls) -> str:
        n = cls.__name__
        return n[:-8] if n.endswith("Backward") else n

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object>"

    @property
    def next_functions(self):
        """PyTorch-style view of the edges: ((node_or_AccumulateGrad_or_None, 0), ...)."""
        out = []
        for e in self.next:
            if e is None or isinstance(e, Node):
                out.append((e, 0))
            else:
                out.append((AccumulateGrad(e), 0))
        return tuple(out)

    def needs(self, i: int) -> bool:
        """Whether input ``i`` needs a gradient."""
        return self.next[i] is not None

    # -- saved tensors with in-place modification checks -----------------------------------
    def save(self, *tensors):
        """Save input tensors for backward, remembering their versions."""
        self.saved = tuple((t, t._vc[0]) if t is not None else (None, 0) for t in tensors)

    def save_output(self, out):
        """Save this node's own output without a reference cycle (data + version only).

        ``saved_output()`` rebuilds a tensor whose ``grad_fn`` is this node, so backward formulas
        that use the output (exp, tanh, sigmoid, ...) stay differentiable under ``create_graph``.
        """
        self.out_saved = (out._data, out._vc, out._vc[0])

    def saved_output(self):
        if self.saved is _FREED:
            self.saved_tensors  # raises the "backward a second time" error
        data, vc, ver = self.out_saved
        if vc[0] != ver:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: the output of {type(self).__name__} is at version {vc[0]}; expected version "
                f"{ver} instead. Hint: replace the in-place op that follows it by its out-of-place version.")
        from .tensor import wrap
        t = wrap(data)
        t._vc = vc
        t.requires_grad = True
        t.grad_fn = self
        return t

    @property
    def saved_tensors(self):
        s = self.saved
        if s is _FREED:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (in {type(self).__name__}), or to "
                "use saved tensors after they have been freed. Saved intermediate values of the graph "
                "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
                "you need to backward through the graph a second time.")
        out = []
        for t, ver in s:
            if t is not None and t._vc[0] != ver:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: [{t.dtype.name} {list(t.shape)}] is at version {t._vc[0]}; expected "
                    f"version {ver} instead (needed by {type(self).__name__}). Hint: replace the in-place "
                    "op (x.add_(...), x[idx] = ..., relu_) by its out-of-place version.")
            out.append(t)
        return out

    def saved_values(self):
        """Values stashed in attributes (non-tensor or raw arrays) must not be read after release."""
        if self.saved is _FREED:
            self.saved_tensors

    def release(self):
        """Free saved values (called after backward unless ``retain_graph``)."""
        self.saved = _FREED
        self.__dict__.pop("out_saved", None)

    def apply(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    def register_prehook(self, fn):
        if self.pre_hooks is None:
            self.pre_hooks = []
        self.pre_hooks.append(fn)
        return _Handle(self.pre_hooks, fn)

    def register_hook(self, fn):
        return self.register_prehook(fn)


class AccumulateGrad:
    """Stands for a leaf tensor in ``next_functions`` (the node that writes ``.grad``)."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad object>"

    next_functions = ()


class _Handle:
    """Returned by ``register_hook``; ``remove()`` takes the hook out."""

    __slots__ = ("_lst", "_fn")

    def __init__(self, lst, fn):
        self._lst, self._fn = lst, fn

    def remove(self):
        try:
            self._lst.remove(self._fn)
        except ValueError:
            pass


def _user_trace():
    """The innermost stack frames outside nerve, formatted for an anomaly report."""
    frames = traceback.extract_stack()[:-1]
    user = [f for f in frames if not os.path.abspath(f.filename).startswith(_PKG_DIR)]
    return user[-6:]


def format_trace(trace) -> str:
    if not trace:
        return "  (no user code location recorded)"
    last = trace[-1]
    lines = "".join(traceback.format_list(trace))
    return f'  File "{last.filename}", line {last.lineno}, in {last.name}: {last.line}\n' \
           f"Traceback of the forward call that created it:\n{lines}"
