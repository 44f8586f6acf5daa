"""Higher-level autograd helpers with ``torch.autograd.functional``'s API.

``vjp``, ``jvp`` (by the double-vjp trick), ``jacobian`` (one vjp per output element), ``hessian``,
``hvp`` and ``vhp``. Inputs are re-wrapped as fresh leaves, so the caller's tensors and their
``.grad`` are untouched; results are detached unless ``create_graph=True``.

Example:
    >>> f = lambda x: (x ** 3).sum()
    >>> nerve.autograd.functional.hessian(f, nerve.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
"""
from __future__ import annotations

import numpy as np

from .. import backend
from . import grad_mode
from .engine import grad as _grad
from .tensor import Tensor, wrap

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, what, fn_name):
    if isinstance(x, Tensor):
        return (x,), True
    if not isinstance(x, (tuple, list)):
        raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple of Tensors but the "
                        f"value given is of type {type(x).__name__}.")
    for i, t in enumerate(x):
        if not isinstance(t, Tensor):
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"element {i} is of type {type(t).__name__}.")
    return tuple(x), False


def _prepare(inputs, create_graph):
    """Fresh leaves (or graph-connected aliases under create_graph) that require grad."""
    out = []
    for x in inputs:
        if create_graph and x.requires_grad:
            out.append(x.view_as(x))  # keeps the link to the caller's graph
        else:
            out.append(x.detach().requires_grad_(True))
    return tuple(out)


def _finish(ts, create_graph):
    if create_graph:
        return ts
    return tuple(None if t is None else t.detach() for t in ts)


def _zeros_like(x):
    d = x._data
    return wrap(backend.array_module(d).zeros(d.shape, dtype=d.dtype))


def _grads(outputs, inputs, grad_outputs, create_graph, strict, what):
    outs = [o for o in outputs if o.requires_grad]
    gos = [g for o, g in zip(outputs, grad_outputs) if o.requires_grad] if grad_outputs is not None else None
    if not outs:
        if strict:
            raise RuntimeError(f"The output of the user-provided function is independent of the inputs "
                               f"({what}). This is not allowed in strict mode.")
        return tuple(_zeros_like(x) for x in inputs)
    gs = _grad(outs, inputs, gos, retain_graph=True, create_graph=create_graph, allow_unused=True)
    res = []
    for i, (g, x) in enumerate(zip(gs, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                                   "This is not allowed in strict mode.")
            g = _zeros_like(x)
        res.append(g)
    return tuple(res)


def _check_outputs(out, fn_name):
    outs, single = _as_tuple(out, "outputs of the user-provided function", fn_name)
    return outs, single


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """Vector-Jacobian product: ``(func(inputs), v^T J)``.

    Args:
        func: a function of tensors returning a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors.
        v: the vector(s), shaped like the outputs (may be omitted for a one-element output).
    """
    with grad_mode.enable_grad():
        ins, single_in = _as_tuple(inputs, "inputs", "vjp")
        ins = _prepare(ins, create_graph)
        outs, single_out = _check_outputs(func(*ins), "vjp")
        if v is None:
            for o in outs:
                if o._data.size != 1:
                    raise RuntimeError("The vector v can only be None if the user-provided function returns a "
                                       "single Tensor with a single element.")
            vs = None
        else:
            vs, _ = _as_tuple(v, "v", "vjp")
            if len(vs) != len(outs):
                raise RuntimeError(f"v has {len(vs)} tensors but the function returned {len(outs)} outputs")
            for i, (o, w) in enumerate(zip(outs, vs)):
                if tuple(o.shape) != tuple(w.shape):
                    raise RuntimeError(f"Mismatch in shape: v[{i}] has shape {tuple(w.shape)} but the output has "
                                       f"shape {tuple(o.shape)}")
        gs = _grads(outs, ins, vs, create_graph, strict, "vjp")
    outs = _finish(outs, create_graph)
    gs = _finish(gs, create_graph)
    return (outs[0] if single_out else outs), (gs[0] if single_in else gs)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """Jacobian-vector product ``(func(inputs), J v)``, by differentiating a vjp (double-vjp trick)."""
    with grad_mode.enable_grad():
        ins, single_in = _as_tuple(inputs, "inputs", "jvp")
        ins = _prepare(ins, create_graph)
        if v is None:
            if len(ins) != 1 or ins[0]._data.size != 1:
                raise RuntimeError("The vector v can only be None if the input to the user-provided function "
                                   "is a single Tensor with a single element.")
            vs = (wrap(np.ones_like(ins[0]._data)),)
        else:
            vs, _ = _as_tuple(v, "v", "jvp")
        outs, single_out = _check_outputs(func(*ins), "jvp")
        # u is a dummy cotangent; d(u^T J)/du . v = J v
        us = tuple(_zeros_like(o).requires_grad_(True) for o in outs)
        gs = _grads(outs, ins, us, True, strict, "jvp")
        pairs = [(g, w) for g, w in zip(gs, vs) if g.requires_grad]
        if pairs:
            jv = _grad([g for g, _ in pairs], us, [w for _, w in pairs], retain_graph=True,
                       create_graph=create_graph, allow_unused=True)
        else:
            jv = (None,) * len(us)
        jv = tuple(_zeros_like(o) if j is None else j for j, o in zip(jv, outs))
    outs = _finish(outs, create_graph)
    jv = _finish(jv, create_graph)
    return (outs[0] if single_out else outs), (jv[0] if single_out else jv)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: entry ``[i][j]`` has shape ``out_i.shape + in_j.shape``.

    Returns a Tensor for one input and one output, a tuple over inputs (or outputs) when one side
    is a tuple, and a tuple of tuples when both are. One backward pass per output element.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"Expected strategy to be either 'forward-mode' or 'reverse-mode', got {strategy!r}")
    with grad_mode.enable_grad():
        ins, single_in = _as_tuple(inputs, "inputs", "jacobian")
        ins = _prepare(ins, create_graph)
        outs, single_out = _check_outputs(func(*ins), "jacobian")
        jac = []
        for i, o in enumerate(outs):
            n = int(o._data.size)
            rows = [[] for _ in ins]
            for j in range(n):
                go = np.zeros(o._data.shape, dtype=o._data.dtype)
                go.reshape(-1)[j] = 1
                if o.requires_grad:
                    gs = _grad([o], ins, [wrap(backend.to_device(go, o.device))], retain_graph=True,
                               create_graph=create_graph, allow_unused=True)
                else:
                    gs = (None,) * len(ins)
                for k, (g, x) in enumerate(zip(gs, ins)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of "
                                               f"input {k}. This is not allowed in strict mode.")
                        g = _zeros_like(x)
                    rows[k].append(g)
            jac.append(tuple(_stack_rows(r, o, x, create_graph) for r, x in zip(rows, ins)))
    res = tuple(j[0] if single_in else j for j in jac)
    return res[0] if single_out else res


def _stack_rows(rows, out, x, create_graph):
    """Rows (one gradient per output element) -> a tensor of shape out.shape + x.shape."""
    shape = tuple(out._data.shape) + tuple(x._data.shape)
    n_in = int(x._data.size)
    if not rows:
        return wrap(backend.array_module(x._data).zeros(shape, dtype=x._data.dtype))
    if not create_graph or not any(r.requires_grad for r in rows):
        xp = backend.array_module(rows[0]._data)
        return wrap(xp.stack([r._data.reshape(n_in) for r in rows]).reshape(shape))
    # Differentiable stacking without a concat op: sum_j e_j (outer) row_j.
    n = len(rows)
    acc = None
    for j, r in enumerate(rows):
        e = np.zeros((n, 1), dtype=r._data.dtype)
        e[j, 0] = 1
        term = wrap(backend.to_device(e, r.device)) * r.reshape(1, n_in)
        acc = term if acc is None else acc + term
    return acc.reshape(shape)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: a Tensor for one input, a tuple of tuples for several."""
    ins, single_in = _as_tuple(inputs, "inputs", "hessian")

    def grad_fn(*xs):
        out = func(*xs)
        outs, _ = _check_outputs(out, "hessian")
        if len(outs) != 1 or outs[0]._data.size != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single element")
        return _grads(outs, xs, None, True, strict, "hessian")

    res = jacobian(grad_fn, ins, create_graph=create_graph, strict=strict)
    if single_in:
        return res[0][0]
    return res


def _hv(func, inputs, v, create_graph, strict, name):
    with grad_mode.enable_grad():
        ins, single_in = _as_tuple(inputs, "inputs", name)
        ins = _prepare(ins, create_graph)
        if v is None:
            if len(ins) != 1 or ins[0]._data.size != 1:
                raise RuntimeError("The vector v can only be None if the input to the user-provided function "
                                   "is a single Tensor with a single element.")
            vs = (wrap(np.ones_like(ins[0]._data)),)
        else:
            vs, _ = _as_tuple(v, "v", name)
        if len(vs) != len(ins):
            raise RuntimeError(f"v has {len(vs)} tensors but there are {len(ins)} inputs")
        outs, _ = _check_outputs(func(*ins), name)
        if len(outs) != 1 or outs[0]._data.size != 1:
            raise RuntimeError(f"The function given to {name} should return a single Tensor with a single element")
        gs = _grads(outs, ins, None, True, strict, name)
        pairs = [(g, w) for g, w in zip(gs, vs) if g.requires_grad]
        if pairs:
            hv = _grad([g for g, _ in pairs], ins, [w for _, w in pairs], retain_graph=True,
                       create_graph=create_graph, allow_unused=True)
        else:
            hv = (None,) * len(ins)
        hv = tuple(_zeros_like(x) if h is None else h for h, x in zip(hv, ins))
    out = _finish(outs, create_graph)[0]
    hv = _finish(hv, create_graph)
    return out, (hv[0] if single_in else hv)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """Hessian-vector product of a scalar function: ``(func(inputs), H v)``."""
    return _hv(func, inputs, v, create_graph, strict, "hvp")


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """Vector-Hessian product ``(func(inputs), v^T H)`` (equal to ``hvp`` for smooth functions)."""
    return _hv(func, inputs, v, create_graph, strict, "vhp")
