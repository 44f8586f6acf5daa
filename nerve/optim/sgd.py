"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import wrap
from .optimizer import Optimizer, _scalar, check_not_differentiable, grad_array, grad_for_update, required

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), like ``torch.optim.SGD``.

    Algorithm, for each parameter :math:`\theta` with gradient :math:`g_t` at step ``t``
    (:math:`\gamma` = lr, :math:`\mu` = momentum, :math:`\tau` = dampening, :math:`\lambda` = weight_decay)::

        g_t = -g_t                      if maximize
        g_t = g_t + λ θ_{t-1}           if λ != 0
        if μ != 0:
            b_t = g_t                   at the first step
            b_t = μ b_{t-1} + (1 - τ) g_t   afterwards
            g_t = g_t + μ b_t           if nesterov
            g_t = b_t                   otherwise
        θ_t = θ_{t-1} - γ g_t

    Note the momentum form (as in PyTorch, unlike Sutskever et al.): the learning rate multiplies
    the whole buffer, ``v = μ v + g; θ = θ - γ v``.

    Args:
        params: iterable of parameters (or of param-group dicts) to optimize.
        lr: learning rate (default 1e-3).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: maximize the objective instead of minimizing it.
        foreach, fused: accepted for PyTorch compatibility; nerve always runs one in-place pass.
        differentiable: not supported (the update runs outside the autograd graph).

    State per parameter: ``momentum_buffer`` (only when momentum != 0).

    Example:
        >>> opt = nerve.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad()
        >>> loss_fn(model(x), y).backward()
        >>> opt.step()
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if lr is not required and _scalar(lr) < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        check_not_differentiable("SGD", differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def step(self, closure=None):
        """Perform one optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p._data
                g = grad_array(self, p)
                grad = grad_for_update(self, d, g, weight_decay, maximize)
                if momentum != 0:
                    state = self.state[p]
                    buf_t = state.get("momentum_buffer")
                    if buf_t is None:
                        buf = grad.copy()
                        state["momentum_buffer"] = wrap(buf)
                    else:
                        buf = buf_t._data
                        np.multiply(buf, momentum, out=buf)
                        if dampening == 0:
                            np.add(buf, grad, out=buf)
                        else:
                            tmp = self._scratch(d, 1)
                            np.multiply(grad, 1 - dampening, out=tmp)
                            np.add(buf, tmp, out=buf)
                    if nesterov:
                        tmp = self._scratch(d, 1)
                        np.multiply(buf, momentum, out=tmp)
                        np.add(grad, tmp, out=tmp)
                        grad = tmp
                    else:
                        grad = buf
                tmp = self._scratch(d, 1)
                np.multiply(grad, -lr, out=tmp)
                np.add(d, tmp, out=d)
                p._vc[0] += 1
        return loss
