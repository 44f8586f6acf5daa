"""Finite-difference checks of gradients (``gradcheck``) and second derivatives (``gradgradcheck``)."""
from __future__ import annotations

import numpy as np

from . import grad_mode
from .engine import grad as _grad
from .tensor import Tensor, wrap


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _flat_outputs(fn, inputs):
    outs = _as_tuple(fn(*inputs))
    return [o for o in outs if isinstance(o, Tensor) and o._data.dtype.kind == "f"]


def _numerical_jacobian(fn, inputs, diff_idx, eps):
    """J[k][i] : d out_k / d input_i, by central differences, shape (in_numel, out_numel)."""
    with grad_mode.no_grad():
        outs0 = _flat_outputs(fn, inputs)
        jac = [[np.zeros((inputs[i]._data.size, o._data.size)) for i in diff_idx] for o in outs0]
        for col, i in enumerate(diff_idx):
            x = inputs[i]._data
            for j, idx in enumerate(np.ndindex(x.shape)):  # C order, whatever the memory layout
                orig = x[idx].copy()
                x[idx] = orig + eps
                plus = [o._data.astype(np.float64).ravel().copy() for o in _flat_outputs(fn, inputs)]
                x[idx] = orig - eps
                minus = [o._data.astype(np.float64).ravel().copy() for o in _flat_outputs(fn, inputs)]
                x[idx] = orig
                for k in range(len(outs0)):
                    jac[k][col][j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def _analytical_jacobian(fn, inputs, diff_idx):
    outs = _flat_outputs(fn, inputs)
    diff = [inputs[i] for i in diff_idx]
    jac = [[np.zeros((inputs[i]._data.size, o._data.size)) for i in diff_idx] for o in outs]
    for k, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for j in range(o._data.size):
            go = np.zeros(o._data.shape, dtype=o._data.dtype)
            go.reshape(-1)[j] = 1
            gs = _grad([o], diff, [wrap(go)], retain_graph=True, allow_unused=True)
            for col, gi in enumerate(gs):
                if gi is not None:
                    jac[k][col][:, j] = gi._data.astype(np.float64).ravel()
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, fast_mode=False, **_ignored) -> bool:
    """Compare analytical gradients of ``func`` with central finite differences.

    Use float64 inputs with ``requires_grad=True``. Returns True, or raises (``raise_exception``)
    with the first mismatching Jacobian entry.
    """
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i in diff_idx:
        if inputs[i]._data.dtype != np.float64:
            import warnings
            warnings.warn(f"gradcheck input {i} is {inputs[i].dtype}, not float64: the check is likely to fail")
    analytical = _analytical_jacobian(func, inputs, diff_idx)
    numerical = _numerical_jacobian(func, inputs, diff_idx, eps)
    if not numerical:
        raise GradcheckError("gradcheck: the function returned no floating-point tensor output to check")
    for k, (a_row, n_row) in enumerate(zip(analytical, numerical)):
        for col, (a, n) in enumerate(zip(a_row, n_row)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                idx = np.unravel_index(np.argmax(np.abs(a - n)), a.shape)
                msg = (f"Jacobian mismatch for output {k} with respect to input {diff_idx[col]},\n"
                       f"numerical:{n}\nanalytical:{a}\nlargest difference at {idx}: numerical {n[idx]} vs "
                       f"analytical {a[idx]}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, **_ignored) -> bool:
    """Check second derivatives: gradcheck of the function ``inputs, v -> vjp(func, inputs, v)``."""
    inputs = _as_tuple(inputs)
    with grad_mode.no_grad():
        outs = _flat_outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [wrap(rng.standard_normal(o._data.shape)).requires_grad_(True) for o in outs]
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]

    def vjp(*args):
        # The numerical Jacobian calls this under no_grad; the vjp needs a graph to exist at all.
        with grad_mode.enable_grad():
            ins, gos = args[:n_in], args[n_in:]
            outs = _flat_outputs(func, ins)
            diff = [ins[i] for i in diff_idx]
            pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
            if not pairs:
                return tuple(wrap(np.zeros(d._data.shape, dtype=d._data.dtype)) for d in diff)
            return _grad([o for o, _ in pairs], diff, [g for _, g in pairs], create_graph=True,
                         allow_unused=True, materialize_grads=True)

    return gradcheck(vjp, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""
