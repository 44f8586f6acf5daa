"""Higher-level autograd helpers: vjp, jvp (double-vjp trick), jacobian, hessian, hvp."""
from __future__ import annotations

from .engine import grad as _grad
from .tensor import Tensor


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    single = isinstance(inputs, Tensor)
    ins = (inputs,) if single else tuple(inputs)
    ins = tuple(x.detach().requires_grad_(True) for x in ins)
    out = func(*ins)
    gs = _grad(out, ins, v, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    gs = gs if create_graph else tuple(g.detach() for g in gs)
    return out.detach() if not create_graph else out, gs[0] if single else gs


def hvp(func, inputs, v, create_graph=False, strict=False):
    """Hessian-vector product of a scalar function: (func(inputs), H @ v)."""
    single = isinstance(inputs, Tensor)
    ins = (inputs,) if single else tuple(inputs)
    vs = (v,) if single else tuple(v)
    ins = tuple(x.detach().requires_grad_(True) for x in ins)
    out = func(*ins)
    gs = _grad(out, ins, create_graph=True)
    dot = sum((g * w).sum() for g, w in zip(gs, vs))
    hv = _grad(dot, ins, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    hv = hv if create_graph else tuple(h.detach() for h in hv)
    return out.detach(), hv[0] if single else hv


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False):
    """Full Jacobian d func(inputs) / d inputs, one row of vjps per output element."""
    from ..ops.shape import reshape  # noqa: PLC0415 - runtime import of the op layer's stacking
    import numpy as np
    from .tensor import wrap

    single = isinstance(inputs, Tensor)
    ins = (inputs,) if single else tuple(inputs)
    ins = tuple(x.detach().requires_grad_(True) for x in ins)
    out = func(*ins)
    n = out._data.size
    rows = [[] for _ in ins]
    for j in range(n):
        go = np.zeros(out._data.shape, dtype=out._data.dtype)
        go.reshape(-1)[j] = 1
        gs = _grad(out, ins, wrap(go), retain_graph=True, create_graph=create_graph, allow_unused=True,
                   materialize_grads=True)
        for k, g in enumerate(gs):
            rows[k].append(g._data)
    jac = tuple(wrap(np.stack(r).reshape(tuple(out.shape) + tuple(x.shape))) for r, x in zip(rows, ins))
    del reshape
    return jac[0] if single else jac


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False):
    """Hessian of a scalar function."""
    def grad_fn(*xs):
        out = func(*xs)
        (g,) = _grad(out, xs, create_graph=True)
        return g
    if not isinstance(inputs, Tensor):
        raise NotImplementedError("hessian supports a single input tensor")
    return jacobian(grad_fn, inputs, create_graph=create_graph)
