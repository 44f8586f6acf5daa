"""The backward engine: ``backward`` and ``grad``.

Nodes get increasing sequence numbers at creation, and a node is always created after the nodes
of its inputs, so processing pending nodes in decreasing sequence order is a topological order:
when a node runs, every gradient contribution to it has arrived. This needs no recursion and no
dependency-counting pass, and its order is deterministic (PyTorch's engine orders the same way).

Broadcasting is undone here, once: a gradient whose shape differs from its input's recorded shape
is summed back to it (``sum_to``), and one whose dtype differs is cast.

Leaves: a gradient for a leaf whose ``.grad`` already exists is added into it in place at once (as
PyTorch's AccumulateGrad); otherwise contributions are summed and written when the graph is done,
so a tensor hook sees the total gradient once and the array can become ``.grad`` without a copy.
"""
from __future__ import annotations

import heapq
import weakref

import numpy as np

from .. import backend
from . import grad_mode
from .node import Node, PostAccumulateHook, describe_nonfinite, format_trace
from .tensor import Tensor, wrap

# Differentiable helpers the engine needs, provided by nerve.ops (one layer up) at import time.
_sum_to = None
_cast = None


def register_ops(sum_to, cast):
    global _sum_to, _cast
    _sum_to, _cast = sum_to, cast


def _root_key(arr):
    """Identity of the memory an array views (its ultimate base)."""
    base = arr.base
    while base is not None and not isinstance(base, bytes):
        arr = base
        base = arr.base
    return id(arr)


_ones_cache: dict = {}


def _ones_like(d):
    """The implicit root gradient: ones, shared read-only for NumPy scalars (copied if adopted)."""
    if type(d) is np.ndarray and d.ndim == 0:
        key = d.dtype
        g = _ones_cache.get(key)
        if g is None:
            g = np.ones((), dtype=d.dtype)
            g.flags.writeable = False
            _ones_cache[key] = g
        return g
    return backend.array_module(d).ones(d.shape, dtype=d.dtype)


def _make_roots(tensors, grad_tensors, what):
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
        if not (isinstance(grad_tensors, (list, tuple)) and len(grad_tensors) == 1
                and (grad_tensors[0] is None or isinstance(grad_tensors[0], Tensor))):
            grad_tensors = (grad_tensors,)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    else:
        grad_tensors = tuple(grad_tensors)
    tensors = tuple(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"{what}: got {len(grad_tensors)} gradients for {len(tensors)} tensors")
    roots = []
    foreign = set()
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}: expected Tensors, got {type(t).__name__} at position {i}")
        if not t.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn: it was computed "
                "without recording (under no_grad, from tensors that do not require grad, or detached). Call "
                ".requires_grad_() on the leaves you want gradients for before computing it.")
        d = t._data
        if g is None:
            if d.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, but output {i} has shape "
                    f"{tuple(d.shape)}: reduce it first (e.g. loss.sum() or loss.mean()) or pass "
                    f"gradient=... with that shape")
            if d.dtype.kind != "f":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{t.dtype}")
            g = wrap(_ones_like(d))
        else:
            if not isinstance(g, Tensor):
                g = wrap(backend.array_module(d).asarray(g, dtype=d.dtype))
            if g._data.shape != d.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and output[{i}] "
                    f"has a shape of {tuple(d.shape)}.")
            if g._data.dtype != d.dtype:
                g = wrap(g._data.astype(d.dtype))
            foreign.add(_root_key(g._data))
        roots.append((t.grad_fn if t.grad_fn is not None else t, g))
    return roots, foreign


def _needed(root_edges, targets):
    """Nodes from which some target (node or leaf) is reachable; only they need to run."""
    seen = set()
    order = []
    stack = [e for e in root_edges if isinstance(e, Node)]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        order.append(n)
        for e in n.next:
            if isinstance(e, Node) and e not in seen:
                stack.append(e)
    order.sort(key=lambda n: n.seq)
    needed = set()
    for n in order:
        for e in n.next:
            if e is not None and (e in targets or e in needed):
                needed.add(n)
                break
    return needed


def _run(roots, foreign, retain_graph, create_graph, accumulate, targets):
    """Propagate gradients from ``roots`` [(edge, grad)].

    accumulate: write into ``.grad`` of leaves (restricted to ``targets`` when given).
    targets: dict key -> slot for ``grad()`` capture, or None.
    Returns the captured gradients (dict slot -> Tensor).

    Leaf gradients are summed in ``pending`` and written to ``.grad`` after the graph has run: a
    leaf hook sees its total gradient once, and a gradient array can be adopted as ``.grad``
    without copying when nothing else holds it (no node buffer is alive by then).
    """
    prev = grad_mode.enabled
    grad_mode.enabled = create_graph
    anomaly = grad_mode.anomaly
    captured = {}
    needed = _needed([e for e, _ in roots], targets) if targets is not None else None
    heap = []
    buffers = {}
    pending = {}
    owned = set()  # leaves whose pending sum was allocated here, so it can grow in place
    push = heapq.heappush
    pop = heapq.heappop
    try:
        for edge, g in roots:
            if isinstance(edge, Node):
                cur = buffers.get(edge)
                if cur is None:
                    buffers[edge] = g
                    push(heap, (-edge.seq, edge))
                else:
                    buffers[edge] = cur + g if create_graph else wrap(cur._data + g._data)
            else:
                cur = pending.get(edge)
                pending[edge] = g if cur is None else (cur + g if create_graph else wrap(cur._data + g._data))
        while heap:
            node = pop(heap)[1]
            g = buffers.pop(node)
            if node.pre_hooks:
                for h in tuple(node.pre_hooks):
                    r = h(g)
                    if r is not None:
                        g = r
            if targets is not None:
                slot = targets.get(node)
                if slot is not None:
                    captured[slot] = g
                    if accumulate:
                        _retain_nonleaf(node, g)
                if node not in needed:
                    continue  # not run, so not freed (as PyTorch: its saved values stay usable)
            grads = node.apply(g)
            if not retain_graph:
                node.release()
            if anomaly:
                _check_grads(node, g, grads)
            for edge, gi, meta in zip(node.next, grads, node.meta):
                if edge is None or gi is None:
                    continue
                d = gi._data
                if d.shape != meta[0]:
                    gi = _reduce_to(node, gi, meta[0])
                    d = gi._data
                if d.dtype is not meta[1] and d.dtype != meta[1]:
                    gi = _cast(gi, meta[1])
                    d = gi._data
                if isinstance(edge, Node):
                    if needed is not None and edge not in needed and edge not in targets:
                        continue
                    cur = buffers.get(edge)
                    if cur is None:
                        buffers[edge] = gi
                        push(heap, (-edge.seq, edge))
                    else:
                        buffers[edge] = cur + gi if create_graph else wrap(cur._data + gi._data)
                else:
                    if targets is not None:
                        if edge not in targets:
                            continue
                    elif not create_graph and not edge._hooks:
                        # .grad exists: add in place now, as PyTorch does (no extra copy held till the end)
                        cg = edge.grad
                        if cg is not None and not cg.requires_grad:
                            cd = cg._data
                            if cd.shape == d.shape and cd.dtype == d.dtype and cd.flags.writeable \
                                    and type(cd) is type(d):
                                cd += d
                                cg._vc[0] += 1
                                continue
                    cur = pending.get(edge)
                    if cur is None:
                        pending[edge] = gi
                    elif create_graph:
                        pending[edge] = cur + gi
                    elif edge in owned:
                        cur._data += d  # a sum this pass allocated: nobody else holds it
                    else:
                        pending[edge] = wrap(cur._data + d)
                        owned.add(edge)
        if pending:
            adopted = foreign
            for edge, g in pending.items():
                if targets is not None:
                    slot = targets.get(edge)
                    if slot is None:
                        continue
                hooks = edge._hooks
                post = False
                if hooks:
                    for h in tuple(hooks):
                        if type(h) is PostAccumulateHook:
                            post = True
                            continue
                        r = h(g)
                        if r is not None:
                            g = r
                if targets is not None:
                    prev_g = captured.get(slot)
                    captured[slot] = g if prev_g is None else prev_g + g
                    if not accumulate:
                        continue
                _accumulate(edge, g, create_graph, adopted)
                if post:
                    for h in tuple(hooks):
                        if type(h) is PostAccumulateHook:
                            h.fn(edge)
    finally:
        grad_mode.enabled = prev
    return captured


def _reduce_to(node, g, shape):
    """Sum a broadcast gradient back to its input's shape; a shape that cannot be is a bug in a backward."""
    gs = g._data.shape
    ok = len(shape) <= len(gs) and all(s == k or s == 1 for s, k in zip(reversed(shape), reversed(gs)))
    if not ok:
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient - got {list(gs)} but expected shape compatible "
            f"with {list(shape)} (the shape of the input of '{node.op_name()}'). This is a bug in that op's "
            "backward formula.")
    return _sum_to(g, shape)


def _retain_nonleaf(node, g):
    """backward(inputs=[non_leaf]) stores the gradient in that tensor's ``.grad``."""
    t = getattr(node, "_inputs_owner", None)
    t = t() if t is not None else None
    if t is not None and not t._retain:  # a retain_grad hook stores it already
        if t.grad is None:
            t.grad = g if grad_mode.enabled else wrap(g._data.copy())
        else:
            t.grad = t.grad + g


def _accumulate(t, g, create_graph, adopted):
    """Add gradient ``g`` into leaf ``t.grad`` the way PyTorch does.

    Without ``create_graph`` the first gradient's array is adopted as ``.grad`` unless something
    else may hold it (a user's gradient, another leaf's ``.grad``, a read-only or strided view),
    in which case it is copied; later gradients are added in place. With ``create_graph``,
    ``.grad`` is a graph node (sum of the gradients).
    """
    cur = t.grad
    if cur is None:
        if create_graph:
            t.grad = g
            return
        d = g._data
        key = _root_key(d)
        if key in adopted or not d.flags.writeable or not d.flags.c_contiguous:
            d = d.copy()
        else:
            adopted.add(key)
        t.grad = wrap(d)
    elif create_graph or cur.requires_grad or g.requires_grad:
        t.grad = cur + g
    else:
        cd = cur._data
        gd = g._data
        if cd.flags.writeable and cd.shape == gd.shape and cd.dtype == gd.dtype and type(cd) is type(gd):
            cd += gd
            cur._vc[0] += 1
        else:
            t.grad = wrap(cd + gd)


def _check_grads(node, g, grads):
    """Anomaly mode: the first node whose gradient has nan/inf raises, naming its forward call."""
    if not grad_mode.anomaly_check_nan:
        return
    for i, gi in enumerate(grads):
        if gi is None or node.next[i] is None:
            continue
        d = gi._data
        if d.dtype.kind != "f" or bool(backend.array_module(d).isfinite(d).all()):
            continue
        gd = g._data
        incoming = ("the gradient flowing into it was finite" if bool(backend.array_module(gd).isfinite(gd).all())
                    else f"the gradient flowing into it already had {describe_nonfinite(gd)}")
        kind = "nan" if bool(backend.array_module(d).isnan(d).any()) else "inf"
        op = node.op_name()
        raise RuntimeError(
            f"Function '{node.name()}' returned {kind} values in its {i}th output.\n"
            f"Anomaly detected in backward: the gradient of '{op}' with respect to its input {i} (shape "
            f"{tuple(d.shape)}) has {describe_nonfinite(d)}, while {incoming}.\n"
            f"The forward call of '{op}' that created {node.name()}:\n{format_trace(node.trace)}\n"
            f"Hint: the derivative is infinite or undefined at some input values (sqrt, log, pow or division at "
            f"0, acos/asin at +-1, ...). Keep inputs inside the domain (e.g. x.clamp_min(eps)) or add an epsilon.")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute the sum of gradients of ``tensors`` and accumulate them into the leaves' ``.grad``.

    Same contract as ``torch.autograd.backward``.
    """
    if retain_graph is None:
        retain_graph = create_graph
    roots, foreign = _make_roots(tensors, grad_tensors, "backward")
    targets = None
    if inputs is not None:
        if isinstance(inputs, Tensor):
            inputs = [inputs]
        if len(inputs) == 0:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        targets = {}
        for i, t in enumerate(inputs):
            if t.grad_fn is not None:
                targets[t.grad_fn] = i
                t.grad_fn._inputs_owner = weakref.ref(t)
            else:
                if not t.requires_grad:
                    raise RuntimeError(f"backward: input {i} does not require grad")
                targets[t] = i
    _run(roots, foreign, retain_graph, create_graph, True, targets)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` without touching ``.grad``.

    Args:
        outputs: tensor or sequence of tensors to differentiate.
        inputs: tensor or sequence of tensors to differentiate with respect to.
        grad_outputs: the vector in the vector-Jacobian product (defaults to ones for scalars).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the backward pass, so the result can be differentiated again.
        allow_unused: return None (instead of raising) for inputs the outputs do not depend on.
        materialize_grads: return zeros instead of None for unused inputs.

    Returns:
        A tuple with one gradient per input.

    Example:
        >>> x = nerve.tensor(3.0, requires_grad=True)
        >>> (g,) = nerve.autograd.grad(x ** 3, x, create_graph=True)   # 27
        >>> nerve.autograd.grad(g, x)                                  # (18.,)
    """
    if is_grads_batched:
        raise NotImplementedError("grad(is_grads_batched=True) is not supported")
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    roots, foreign = _make_roots(outputs, grad_outputs, "grad")
    targets = {}
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__} at position {i}")
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
        key = t.grad_fn if t.grad_fn is not None else t
        targets[key] = i
    captured = _run(roots, foreign, retain_graph, create_graph, False, targets)
    result = []
    for i, t in enumerate(inputs):
        key = t.grad_fn if t.grad_fn is not None else t
        g = captured.get(targets[key])
        if g is None:
            if materialize_grads:
                xp = backend.array_module(t._data)
                g = wrap(xp.zeros(t._data.shape, dtype=t._data.dtype))
            elif not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}, shape {tuple(t.shape)}) appears to not "
                    "have been used in the graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph and g.requires_grad:
            g = g.detach()
        result.append(g)
    return tuple(result)

