"""Adam: adaptive moment estimation (and, with decoupled weight decay, AdamW)."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, wrap
from .optimizer import (Optimizer, _scalar, check_not_differentiable, grad_array, grad_for_update,
                        new_step_tensor)

try:  # optional (pip install numba)
    from . import _adam_numba as _ak
except ImportError:  # pragma: no cover - depends on the install
    _ak = None

__all__ = ["Adam"]
# From this many elements a float32 parameter takes the compiled single-pass update (same numbers).
KERNEL_MIN = 1 << 12


def _check_adam_args(lr, betas, eps, weight_decay):
    if not 0.0 <= _scalar(lr):
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    if not 0.0 <= _scalar(betas[0]) < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= _scalar(betas[1]) < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
    if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
        raise ValueError("betas must be either both floats or both Tensors")


def adam_update(opt, p, state, group, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled):
    """One Adam/AdamW step of parameter ``p`` in place (PyTorch's single-tensor algorithm)."""
    d = p._data
    g = grad_array(opt, p)
    if len(state) == 0:
        state["step"] = new_step_tensor()
        state["exp_avg"] = wrap(np.zeros_like(d))
        state["exp_avg_sq"] = wrap(np.zeros_like(d))
        if amsgrad:
            state["max_exp_avg_sq"] = wrap(np.zeros_like(d))
    step_arr = state["step"]._data
    step_arr += 1
    step = float(step_arr)

    if weight_decay != 0 and decoupled:
        np.multiply(d, 1 - lr * weight_decay, out=d)
        grad = grad_for_update(opt, d, g, 0, maximize)
    else:
        grad = grad_for_update(opt, d, g, weight_decay, maximize)

    exp_avg = state["exp_avg"]._data
    exp_avg_sq = state["exp_avg_sq"]._data
    if _kernel_ok(d, grad, exp_avg, exp_avg_sq):
        _kernel_update(d, grad, exp_avg, exp_avg_sq, state["max_exp_avg_sq"]._data if amsgrad else None,
                       lr, beta1, beta2, eps, step)
        p._vc[0] += 1
        return
    tmp = opt._scratch(d, 1)
    # m = lerp(m, g, 1 - beta1), evaluated as torch.lerp does for the weight's side of 0.5
    w = 1 - beta1
    np.subtract(grad, exp_avg, out=tmp)
    if abs(w) < 0.5:
        np.multiply(tmp, w, out=tmp)
        np.add(exp_avg, tmp, out=exp_avg)
    else:
        np.multiply(tmp, 1 - w, out=tmp)
        np.subtract(grad, tmp, out=exp_avg)
    # v = beta2 v + (1 - beta2) g^2
    np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    np.multiply(grad, 1 - beta2, out=tmp)
    np.multiply(tmp, grad, out=tmp)
    np.add(exp_avg_sq, tmp, out=exp_avg_sq)

    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2 ** 0.5

    if amsgrad:
        max_sq = state["max_exp_avg_sq"]._data
        np.maximum(max_sq, exp_avg_sq, out=max_sq)
        np.sqrt(max_sq, out=tmp)
    else:
        np.sqrt(exp_avg_sq, out=tmp)
    np.divide(tmp, bias_correction2_sqrt, out=tmp)
    np.add(tmp, eps, out=tmp)
    # theta += -step_size * m / denom
    upd = opt._scratch(d, 0)
    np.multiply(exp_avg, -step_size, out=upd)
    np.divide(upd, tmp, out=upd)
    np.add(d, upd, out=d)
    p._vc[0] += 1


def _kernel_ok(*arrays):
    return _ak is not None and all(type(a) is np.ndarray and a.dtype == np.float32 and a.flags.c_contiguous
                                   for a in arrays) and arrays[0].size >= KERNEL_MIN


def _kernel_update(d, grad, exp_avg, exp_avg_sq, max_sq, lr, beta1, beta2, eps, step):
    """The NumPy passes below as one compiled pass (_adam_numba: the same float32 operations in order)."""
    f = np.float32
    w = 1 - beta1
    small = abs(w) < 0.5
    _ak.adam_f32(d.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
                 _ak._EMPTY if max_sq is None else max_sq.reshape(-1), f(w if small else 1 - w), small, f(beta2),
                 f(1 - beta2), f((1 - beta2 ** step) ** 0.5), f(eps), f(-(lr / (1 - beta1 ** step))))


class Adam(Optimizer):
    r"""Adam, like ``torch.optim.Adam``.

    Algorithm, for each parameter :math:`\theta` with gradient :math:`g_t` at step ``t = 1, 2, ...``
    (γ = lr, β1, β2 = betas, λ = weight_decay, ε = eps; m_0 = v_0 = v_0^max = 0)::

        g_t = -g_t                       if maximize
        θ_{t-1} = θ_{t-1} (1 - γ λ)      if decoupled_weight_decay (AdamW)
        g_t = g_t + λ θ_{t-1}            otherwise, if λ != 0
        m_t = β1 m_{t-1} + (1 - β1) g_t
        v_t = β2 v_{t-1} + (1 - β2) g_t²
        v_t^max = max(v_{t-1}^max, v_t)  if amsgrad, and v_t^max replaces v_t below
        θ_t = θ_{t-1} - γ / (1 - β1^t) · m_t / (sqrt(v_t) / sqrt(1 - β2^t) + ε)

    Args:
        params: iterable of parameters (or of param-group dicts) to optimize.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty (default 0).
        amsgrad: use the AMSGrad variant (normalize by the running maximum of v_t).
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: decay the weights directly (AdamW) instead of through the gradient.
        foreach, capturable, fused: accepted for PyTorch compatibility; no effect.
        differentiable: not supported (the update runs outside the autograd graph).

    State per parameter: ``step`` (0-d float tensor), ``exp_avg``, ``exp_avg_sq`` and, with amsgrad,
    ``max_exp_avg_sq``.

    Example:
        >>> opt = nerve.optim.Adam(model.parameters(), lr=1e-3)
    """

    _decoupled_default = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check_adam_args(lr, betas, eps, weight_decay)
        check_not_differentiable(type(self).__name__, differentiable)
        betas = tuple(_scalar(b) for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", self._decoupled_default)
            group.setdefault("fused", None)
            for p in group["params"]:
                st = self.state.get(p, None)
                if st and not isinstance(st.get("step"), Tensor) and "step" in st:
                    st["step"] = new_step_tensor(float(st["step"]))

    def step(self, closure=None):
        """Perform one optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._closure_loss(closure)
        state = self.state
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            beta1, beta2 = _scalar(beta1), _scalar(beta2)
            lr = _scalar(group["lr"])
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                adam_update(self, p, state[p], group, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
                            decoupled)
        return loss
