"""The backward engine: ``backward`` and ``grad``.

Nodes get increasing sequence numbers at creation, and a node is always created after the nodes
of its inputs, so processing pending nodes in decreasing sequence order is a topological order:
when a node runs, every gradient contribution to it has arrived. This needs no recursion and no
dependency-counting pass, and its order is deterministic (PyTorch's engine orders the same way).

Broadcasting is undone here, once: a gradient whose shape differs from its input's recorded shape
is summed back to it (``sum_to``), and one whose dtype differs is cast.
"""
from __future__ import annotations

import heapq

from .. import backend
from . import grad_mode
from .node import Node, format_trace
from .tensor import Tensor, wrap

# Differentiable helpers the engine needs, provided by nerve.ops (one layer up) at import time.
_sum_to = None
_cast = None
_add = None


def register_ops(sum_to, cast, add):
    global _sum_to, _cast, _add
    _sum_to, _cast, _add = sum_to, cast, add


def _root_key(arr):
    while arr.base is not None and not isinstance(arr.base, bytes):
        arr = arr.base
    return id(arr)


def _make_roots(tensors, grad_tensors, what):
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    grad_tensors = list(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"{what}: got {len(grad_tensors)} gradients for {len(tensors)} tensors")
    roots = []
    foreign = set()
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}: expected Tensors, got {type(t).__name__} at position {i}")
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        d = t._data
        if g is None:
            if d.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs (output {i} has shape "
                    f"{tuple(d.shape)}); pass gradient=... of that shape")
            xp = backend.array_module(d)
            g = wrap(xp.ones(d.shape, dtype=d.dtype))
        else:
            if not isinstance(g, Tensor):
                xp = backend.array_module(d)
                g = wrap(xp.asarray(g, dtype=d.dtype))
            if tuple(g.shape) != tuple(d.shape):
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
    """
    prev = grad_mode.enabled
    grad_mode._set(create_graph)
    anomaly = grad_mode.anomaly
    captured = {}
    needed = _needed([e for e, _ in roots], targets) if targets is not None else None
    heap = []
    buffers = {}
    handed = foreign  # array ids given to a buffer or a leaf: a second holder must copy

    def dispatch(edge, g):
        if isinstance(edge, Node):
            if needed is not None and edge not in needed:
                if edge in targets:
                    pass  # still capture it below
                else:
                    return
            cur = buffers.get(edge)
            if cur is None:
                buffers[edge] = g
                handed.add(_root_key(g._data))
                heapq.heappush(heap, (-edge.seq, edge))
            else:
                buffers[edge] = cur + g if create_graph else wrap(cur._data + g._data)
            return
        # a leaf tensor
        if edge._hooks:
            for h in edge._hooks:
                r = h(g)
                if r is not None:
                    g = r
        if targets is not None:
            slot = targets.get(edge)
            if slot is not None:
                prev_g = captured.get(slot)
                captured[slot] = g if prev_g is None else prev_g + g
        if accumulate and (targets is None or edge in targets):
            _accumulate(edge, g, create_graph, handed)

    try:
        for edge, g in roots:
            dispatch(edge, g)
        while heap:
            _, node = heapq.heappop(heap)
            g = buffers.pop(node)
            if node.pre_hooks:
                for h in node.pre_hooks:
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
                    if not retain_graph:
                        node.release()
                    continue
            grads = node.apply(g)
            if not retain_graph:
                node.release()
            if anomaly:
                _check_grads(node, grads)
            for edge, gi, meta in zip(node.next, grads, node.meta):
                if edge is None or gi is None:
                    continue
                d = gi._data
                if d.shape != meta[0]:
                    gi = _sum_to(gi, meta[0])
                    d = gi._data
                if d.dtype != meta[1]:
                    gi = _cast(gi, meta[1])
                dispatch(edge, gi)
    finally:
        grad_mode._set(prev)
    return captured


def _retain_nonleaf(node, g):
    """backward(inputs=[non_leaf]) stores the gradient in that tensor's ``.grad``."""
    t = getattr(node, "_inputs_owner", None)
    t = t() if t is not None else None
    if t is not None:
        t.grad = g if t.grad is None else t.grad + g


def _accumulate(t, g, create_graph, handed):
    """Add gradient ``g`` into leaf ``t.grad`` the way PyTorch does."""
    cur = t.grad
    if cur is None:
        if create_graph:
            t.grad = g
            return
        d = g._data
        key = _root_key(d)
        if key in handed or not d.flags.writeable or not d.flags.c_contiguous:
            d = d.copy()
        else:
            handed.add(key)
        t.grad = wrap(d)
    elif create_graph or cur.requires_grad or g.requires_grad:
        t.grad = cur + g
    else:
        cd = cur._data
        if cd.flags.writeable and cd.shape == g._data.shape:
            cd += g._data
            cur._vc[0] += 1
        else:
            t.grad = wrap(cd + g._data)


def _check_grads(node, grads):
    for i, gi in enumerate(grads):
        if gi is None or gi._data.dtype.kind != "f":
            continue
        xp = backend.array_module(gi._data)
        if not bool(xp.isfinite(gi._data).all()):
            raise RuntimeError(
                f"Function '{node.name()}' returned nan or inf values in its {i}th output (the gradient "
                f"for input {i} of op '{node.op_name()}').\nThe op was created at:\n{format_trace(node.trace)}")


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
        targets = {}
        for i, t in enumerate(inputs):
            if t.grad_fn is not None:
                targets[t.grad_fn] = i
                t.grad_fn._inputs_owner = _weak(t)
            else:
                if not t.requires_grad:
                    raise RuntimeError(f"backward: input {i} does not require grad")
                targets[t] = i
    _run(roots, foreign, retain_graph, create_graph, True, targets)


def _weak(t):
    import weakref
    return weakref.ref(t)


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

