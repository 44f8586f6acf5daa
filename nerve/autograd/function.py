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

``backward`` runs under ``no_grad`` unless the caller asked for ``create_graph=True``; then the ops it
uses are recorded, so a ``backward`` written with nerve ops can be differentiated again.

A forward returning several tensors is recorded as one node fed by a packed gradient: output ``k``
is a slice of a virtual flat tensor, so each output's gradient lands in its own segment and
``backward`` receives them split back, zeros for outputs that got none.
"""
from __future__ import annotations

import functools
import weakref

from .. import backend
from . import grad_mode
from .node import Node, _user_trace
from .tensor import Tensor, wrap

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` passed to ``forward`` and ``backward``: saved tensors and flags.

    Attributes set on it in ``forward`` (``ctx.k = 3``) are there in ``backward``.
    """

    def __init__(self):
        self.to_save = ()
        self.needs_input_grad = ()
        self.materialize_grads = True
        self._node = None
        self._non_diff = ()
        self._dirty = ()

    def save_for_backward(self, *tensors):
        """Keep tensors (inputs, outputs or None) for ``backward``; read them with ``saved_tensors``.

        In-place changes to a saved tensor before backward are detected, as for built-in ops.
        """
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors (or None), but argument {i} is a "
                                f"{type(t).__name__}; store other values as ctx attributes (ctx.k = ...)")
        self.to_save = tensors

    save_for_forward = save_for_backward

    @property
    def saved_tensors(self):
        node = self._node() if self._node is not None else None
        if node is None:
            return tuple(self.to_save)
        return node.unpack_saved()

    def mark_non_differentiable(self, *tensors):
        """Outputs that are not differentiable (indices, masks): returned without ``grad_fn``."""
        self._non_diff = tensors

    def mark_dirty(self, *tensors):
        """Inputs that ``forward`` modified in place (and returns)."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool):
        self.materialize_grads = bool(value)


class _FunctionNode(Node):
    """The graph node of one ``Function.apply`` call."""

    def unpack_saved(self):
        tensors = self.saved_tensors  # checks versions, raises once freed
        out = list(tensors)
        for pos, k in self.saved_outputs:
            out[pos] = self._rebuild_output(k)
        return tuple(out)

    def _rebuild_output(self, k):
        data, vc, ver, node_ref = self.outs[k]
        if vc[0] != ver:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: output {k} of {self.fn_cls.__name__} is at version {vc[0]}; expected version "
                f"{ver} instead. Hint: replace the in-place op that follows it by its out-of-place version.")
        t = wrap(data)
        t._vc = vc
        t.requires_grad = True
        node = node_ref() if node_ref is not None else self
        if node is None:  # the output and its slice node are gone: make a fresh slice node
            node = _OutputNode(self, k)
        t.grad_fn = node
        return t

    def release(self):
        Node.release(self)
        self.outs = None

    def apply(self, g):
        ctx = self.ctx
        cls = self.fn_cls
        if self.n_out == 1:
            grads_in = (g,)
        else:
            grads_in = [None] * self.n_out
            for k, (start, stop, shape) in self.slots.items():
                grads_in[k] = _extract(g, start, stop, shape)
        grads = cls.backward(ctx, *grads_in)
        if not isinstance(grads, tuple):
            grads = (grads,)
        n_args = len(self.arg_pos)
        if len(grads) < n_args or any(x is not None for x in grads[n_args:]):
            raise RuntimeError(
                f"function {cls.__name__}Backward returned an incorrect number of gradients (expected "
                f"{n_args}, got {len(grads)}): backward must return one value per forward argument, None "
                "for non-tensor arguments and for inputs that need no gradient")
        out = []
        for j, (pos, meta) in enumerate(zip(self.arg_pos, self.meta)):
            gi = grads[pos]
            if gi is None or self.next[j] is None:
                out.append(None)
                continue
            if not isinstance(gi, Tensor):
                raise TypeError(f"function {cls.__name__}Backward returned a {type(gi).__name__} as gradient "
                                f"{pos}; expected a Tensor or None")
            if tuple(gi._data.shape) != tuple(meta[0]) and not _expandable(meta[0], gi._data.shape):
                raise RuntimeError(
                    f"Function {cls.__name__}Backward returned an invalid gradient at index {pos} - got "
                    f"{list(gi._data.shape)} but expected shape compatible with {list(meta[0])}")
            if not grad_mode.enabled and not isinstance(self.next[j], Node):
                # A user backward may return a tensor it keeps (ctx.some_tensor): a leaf must not adopt
                # that memory as its .grad, where later backward passes add in place.
                gi = wrap(gi._data.copy())
            out.append(gi)
        return tuple(out)

    def name(self):
        return f"{self.fn_cls.__name__}Backward"

    def op_name(self):
        return self.fn_cls.__name__


def _expandable(shape, grad_shape):
    """Whether ``shape`` broadcasts to ``grad_shape`` (the engine then sums the gradient back)."""
    if len(shape) > len(grad_shape):
        return False
    for s, gs in zip(reversed(shape), reversed(grad_shape)):
        if s != gs and s != 1:
            return False
    return True


class _OutputNode(Node):
    """Output ``k`` of a multi-output Function: puts its gradient into segment ``k`` of the packed one."""

    def __init__(self, fn_node, k):
        Node.__init__(self)
        self.next = [fn_node]
        start, stop, _ = fn_node.slots[k]
        self.meta = [((fn_node.total,), fn_node.dtype)]
        self.span = (start, stop, fn_node.total)

    def apply(self, g):
        start, stop, total = self.span
        return (_embed(g, start, stop, total),)

    def name(self):
        return "SliceBackward0"


class _EmbedBackward(Node):
    def apply(self, g):
        start, stop, shape = self.args
        return (_extract(g, start, stop, shape),)


class _ExtractBackward(Node):
    def apply(self, g):
        start, stop, total = self.args
        return (_embed(g, start, stop, total),)


def _embed(g, start, stop, total):
    """A zero vector of length ``total`` with ``g`` (flattened) in ``[start:stop]`` (differentiable)."""
    d = g._data
    xp = backend.array_module(d)
    buf = xp.zeros((total,), dtype=d.dtype)
    buf[start:stop] = d.reshape(-1)
    out = wrap(buf)
    if grad_mode.enabled and g.requires_grad:
        n = _EmbedBackward(g)
        n.args = (start, stop, d.shape)
        out.requires_grad = True
        out.grad_fn = n
    return out


def _extract(g, start, stop, shape):
    """``g[start:stop]`` reshaped to ``shape`` (differentiable)."""
    d = g._data
    out = wrap(d[start:stop].reshape(shape))
    if grad_mode.enabled and g.requires_grad:
        n = _ExtractBackward(g)
        n.args = (start, stop, d.shape[0])
        out.requires_grad = True
        out.grad_fn = n
    return out


class Function:
    """Base class for custom ops: define static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``.

    ``backward`` gets one gradient per output of ``forward`` and returns one value per argument of
    ``forward`` (None for non-tensor arguments and for inputs where ``ctx.needs_input_grad[i]`` is
    False). ``forward`` may instead be written without ``ctx`` together with a static
    ``setup_context(ctx, inputs, output)``, as in PyTorch 2.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grads):  # pragma: no cover - abstract
        raise NotImplementedError("You must implement the backward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        return _NO_SETUP

    def __init__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__}: call {type(self).__name__}.apply(...), do not instantiate "
                           "an autograd.Function")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        record = grad_mode.enabled
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad and record for a in args)
        with grad_mode.no_grad():
            if cls.setup_context is Function.setup_context:
                out = cls.forward(ctx, *args, **kwargs)
            else:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
        if not any(ctx.needs_input_grad):
            return out
        single = not isinstance(out, tuple)
        outs = [out] if single else list(out)
        arg_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        node = _FunctionNode(*(args[i] for i in arg_pos))
        node.fn_cls = cls
        node.ctx = ctx
        node.arg_pos = arg_pos
        ctx._node = weakref.ref(node)

        non_diff = {id(t) for t in ctx._non_diff}
        dirty = {id(t) for t in ctx._dirty}
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}
        diff = []  # (k, tensor) of outputs that get a grad_fn
        for k, o in enumerate(outs):
            if not isinstance(o, Tensor):
                continue
            if id(o) in non_diff or o._data.dtype.kind != "f":
                continue
            if id(o) in dirty:
                if o.requires_grad and o.grad_fn is None:
                    raise RuntimeError(f"{cls.__name__}: a leaf Variable that requires grad has been used in an "
                                       "in-place operation (marked dirty in forward)")
            elif id(o) in input_ids or o.requires_grad:
                o = outs[k] = o.detach()  # an input returned as is: a new tensor object on its data
            diff.append((k, o))
        node.n_out = len(outs)
        saved = list(ctx.to_save)
        ctx.to_save = ()
        out_index = {id(o): k for k, o in diff}
        saved_outputs = []
        for pos, t in enumerate(saved):
            k = out_index.get(id(t)) if t is not None else None
            if k is not None:
                saved_outputs.append((pos, k))
                saved[pos] = None  # stored by data below, so the node does not own its output
        node.save(*saved)
        node.saved_outputs = saved_outputs
        node.outs = {}
        if node.n_out == 1:
            node.slots = None
            for k, o in diff:
                _attach(o, node)
                node.outs[k] = (o._data, o._vc, o._vc[0], None)
        else:
            slots, start = {}, 0
            dtype = None
            for k, o in enumerate(outs):
                if isinstance(o, Tensor) and o._data.dtype.kind == "f":
                    stop = start + int(o._data.size)
                    slots[k] = (start, stop, o._data.shape)
                    start = stop
                    dtype = dtype or o._data.dtype
            node.slots, node.total, node.dtype = slots, start, dtype
            for k, o in diff:
                on = _OutputNode(node, k)
                _attach(o, on)
                node.outs[k] = (o._data, o._vc, o._vc[0], weakref.ref(on))
        if grad_mode.anomaly:
            from .node import format_trace
            trace = _user_trace()
            for k, o in diff:
                d = o._data
                if not bool(backend.array_module(d).isfinite(d).all()):
                    raise RuntimeError(
                        f"Anomaly detected: custom Function '{cls.__name__}' produced nan or inf values in its "
                        f"forward output {k} of shape {tuple(d.shape)}.\nThe function was called at:\n"
                        f"{format_trace(trace)}")
        return outs[0] if single else tuple(outs)


_NO_SETUP = object()


def _attach(t, node):
    t.requires_grad = True
    t.grad_fn = node


def once_differentiable(fn):
    """Decorator for ``backward``: run it without recording, so it cannot be differentiated twice."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            return fn(ctx, *args)
    return wrapper
