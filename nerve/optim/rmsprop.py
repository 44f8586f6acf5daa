"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, wrap
from .optimizer import (Optimizer, _scalar, check_not_differentiable, grad_array, grad_for_update,
                        new_step_tensor)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, like ``torch.optim.RMSprop``.

    Algorithm, for each parameter :math:`\theta` with gradient :math:`g_t` at step ``t``
    (γ = lr, α = alpha, ε = eps, λ = weight_decay, μ = momentum; v_0 = b_0 = g^{ave}_0 = 0)::

        g_t = -g_t                                   if maximize
        g_t = g_t + λ θ_{t-1}                        if λ != 0
        v_t = α v_{t-1} + (1 - α) g_t²
        v~_t = v_t
        if centered:
            g^{ave}_t = α g^{ave}_{t-1} + (1 - α) g_t
            v~_t = v_t - (g^{ave}_t)²
        if μ > 0:
            b_t = μ b_{t-1} + g_t / (sqrt(v~_t) + ε)
            θ_t = θ_{t-1} - γ b_t
        else:
            θ_t = θ_{t-1} - γ g_t / (sqrt(v~_t) + ε)

    Args:
        params: iterable of parameters (or of param-group dicts) to optimize.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the squared-gradient average (default 0.99).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalize by an estimate of the gradient's variance instead of its second moment.
        maximize: maximize the objective instead of minimizing it.
        capturable, foreach: accepted for PyTorch compatibility; no effect.
        differentiable: not supported.

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0) and ``grad_avg``
    (centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= _scalar(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        check_not_differentiable("RMSprop", differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
            for p in group["params"]:
                st = self.state.get(p, None)
                if st and "step" in st and not isinstance(st["step"], Tensor):
                    st["step"] = new_step_tensor(float(st["step"]))

    def step(self, closure=None):
        """Perform one optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p._data
                g = grad_array(self, p)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_step_tensor()
                    state["square_avg"] = wrap(np.zeros_like(d))
                    if momentum > 0:
                        state["momentum_buffer"] = wrap(np.zeros_like(d))
                    if centered:
                        state["grad_avg"] = wrap(np.zeros_like(d))
                state["step"]._data += 1
                grad = grad_for_update(self, d, g, weight_decay, maximize)

                square_avg = state["square_avg"]._data
                avg = self._scratch(d, 1)
                np.multiply(square_avg, alpha, out=square_avg)
                np.multiply(grad, 1 - alpha, out=avg)
                np.multiply(avg, grad, out=avg)
                np.add(square_avg, avg, out=square_avg)
                if centered:
                    grad_avg = state["grad_avg"]._data
                    w = 1 - alpha  # grad_avg.lerp_(grad, 1 - alpha), as torch evaluates it
                    np.subtract(grad, grad_avg, out=avg)
                    if abs(w) < 0.5:
                        np.multiply(avg, w, out=avg)
                        np.add(grad_avg, avg, out=grad_avg)
                    else:
                        np.multiply(avg, 1 - w, out=avg)
                        np.subtract(grad, avg, out=grad_avg)
                    np.multiply(grad_avg, grad_avg, out=avg)
                    np.subtract(square_avg, avg, out=avg)
                    np.sqrt(avg, out=avg)
                else:
                    np.sqrt(square_avg, out=avg)
                np.add(avg, eps, out=avg)

                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    np.multiply(buf, momentum, out=buf)
                    np.divide(grad, avg, out=avg)
                    np.add(buf, avg, out=buf)
                    np.multiply(buf, -lr, out=avg)
                    np.add(d, avg, out=d)
                else:
                    upd = self._scratch(d, 0)
                    np.multiply(grad, -lr, out=upd)
                    np.divide(upd, avg, out=upd)
                    np.add(d, upd, out=d)
                p._vc[0] += 1
        return loss
