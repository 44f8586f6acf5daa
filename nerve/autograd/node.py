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
import re
import traceback
import weakref

from .. import backend
from . import grad_mode

_seq = itertools.count()
_NOTHING = (None, 0)
_FREED = ()  # marks saved values released after backward
_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_OP_NAMES: dict = {}


class Node:
    __slots__ = ("next", "meta", "seq", "saved", "pre_hooks", "trace", "out_saved", "__dict__", "__weakref__")

    def __init__(self, *inputs):
        """Create a node whose differentiable inputs are the tensors ``inputs`` (None allowed)."""
        nxt = []
        meta = []
        for t in inputs:
            if t is not None and t.requires_grad:
                nxt.append(t.grad_fn or t)
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
    def op_name(self) -> str:
        """The forward op's name, PyTorch style: ``MatmulBackward`` -> ``matmul``, ``SumToBackward`` -> ``sum_to``."""
        n = type(self).__name__
        r = _OP_NAMES.get(n)
        if r is None:
            base = n[:-8] if n.endswith("Backward") else n
            r = _OP_NAMES[n] = _CAMEL.sub("_", base.lstrip("_")).lower()
        return r

    def name(self) -> str:
        """PyTorch's display name: ``MulBackward0`` (the overload index is always 0 here)."""
        n = type(self).__name__
        return n + "0" if n.endswith("Backward") else n

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
        self.saved = [(t, t._vc[0]) if t is not None else _NOTHING for t in tensors]

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
                f"operation: [{data.dtype} {list(data.shape)}], which is output 0 of {self.name()}, is at "
                f"version {vc[0]}; expected version {ver} instead. Hint: the output of '{self.op_name()}' is "
                "needed to compute its gradient; replace the in-place op applied to it afterwards (add_, mul_, "
                "relu_, x[idx] = ...) by its out-of-place version, or apply it to a clone().")
        t = _wrap(data)
        t._vc = vc
        t.requires_grad = True
        t.grad_fn = self
        return t

    @property
    def saved_tensors(self):
        s = self.saved
        if s is _FREED:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (in {self.name()}), or to "
                "use saved tensors after they have been freed. Saved intermediate values of the graph "
                "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
                "you need to backward through the graph a second time.")
        out = []
        for t, ver in s:
            if t is not None and t._vc[0] != ver:
                src = f", which is output 0 of {t.grad_fn.name()}," if t.grad_fn is not None else ""
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: [{t.dtype.name} {list(t.shape)}]{src} is at version {t._vc[0]}; expected "
                    f"version {ver} instead. It was saved by '{self.op_name()}' ({self.name()}) to compute "
                    "its gradient. Hint: replace the in-place op applied to it afterwards (add_, mul_, relu_, "
                    "x[idx] = ...) by its out-of-place version, or pass a clone() to the op.")
            out.append(t)
        return out

    def saved_values(self):
        """Values stashed in attributes (non-tensor or raw arrays) must not be read after release."""
        if self.saved is _FREED:
            self.saved_tensors

    def release(self):
        """Free saved values (called after backward unless ``retain_graph``)."""
        self.saved = _FREED
        self.out_saved = None

    def apply(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    def add_tensor_hook(self, fn):
        """Call ``fn(grad)`` before this node runs; a returned tensor replaces the gradient.

        This is how ``Tensor.register_hook`` works on a non-leaf (its gradient is the one arriving
        here). ``retain_grad`` hooks stay last, so a retained ``.grad`` sees what the other hooks made.
        """
        hooks = self.pre_hooks
        if hooks is None:
            hooks = self.pre_hooks = []
        i = len(hooks)
        while i and getattr(hooks[i - 1], "_retains_grad", False):
            i -= 1
        hooks.insert(i, fn)
        return _Handle(hooks, fn)

    def register_prehook(self, fn):
        """PyTorch's ``Node.register_prehook``: ``fn(grad_outputs) -> tuple or None`` before the node runs."""
        def hook(g):
            r = fn((g,))
            return None if r is None else r[0]
        return self.add_tensor_hook(hook)

    def register_hook(self, fn):
        """PyTorch's ``Node.register_hook``: ``fn(grad_inputs, grad_outputs) -> tuple or None`` after it runs.

        ``grad_inputs`` are the gradients this node computed for its inputs (None where not needed);
        a returned tuple replaces them.
        """
        hooks = self.__dict__.get("_post_hooks")
        if hooks is None:
            hooks = self.__dict__["_post_hooks"] = []
            cls_apply = type(self).apply
            ref = weakref.ref(self)  # not self: the node's own __dict__ holds this function

            def apply(g):  # an instance attribute shadows the class's apply: no cost in the engine
                node = ref()
                grads = cls_apply(node, g)
                for h in tuple(node.__dict__["_post_hooks"]):
                    r = h(grads, (g,))
                    if r is not None:
                        grads = tuple(r)
                return grads
            self.__dict__["apply"] = apply
        hooks.append(fn)
        return _Handle(hooks, fn)


def _wrap(data):
    """``tensor.wrap``, bound on first use (tensor.py imports this module)."""
    global _wrap
    from .tensor import wrap  # noqa: PLC0415
    _wrap = wrap
    return wrap(data)


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


class PostAccumulateHook:
    """A leaf hook that runs after ``.grad`` is written (kept in the leaf's hook list, marked by type)."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


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
    """The innermost stack frames outside nerve (where the user's code called the op)."""
    frames = traceback.extract_stack()[:-1]
    user = [f for f in frames if not os.path.abspath(f.filename).startswith(_PKG_DIR)]
    return user[-8:]


def format_trace(trace) -> str:
    """The user code location of a recorded op, innermost line first, then its call stack."""
    if not trace:
        return ("  (no location recorded: this part of the graph was built before anomaly detection was turned "
                "on; enable it before the forward pass)")
    last = trace[-1]
    lines = "".join(traceback.format_list(trace))
    return (f'  File "{last.filename}", line {last.lineno}, in {last.name}\n    {last.line}\n'
            f"Traceback of the forward call that created it (most recent call last):\n{lines}").rstrip("\n")


def describe_nonfinite(arr) -> str:
    """'1 nan and 2 inf among 6 values' for an array that has non-finite entries."""
    xp = backend.array_module(arr)
    n_nan = int(xp.isnan(arr).sum())
    n_pinf = int(xp.isposinf(arr).sum())
    n_ninf = int(xp.isneginf(arr).sum())
    parts = [f"{n} {w}" for n, w in ((n_nan, "nan"), (n_pinf, "+inf"), (n_ninf, "-inf")) if n]
    return f"{' and '.join(parts)} among {arr.size} values"
