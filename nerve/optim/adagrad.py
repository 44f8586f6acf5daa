"""Adagrad: per-coordinate learning rates scaled by the accumulated squared gradients."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, wrap
from .optimizer import (Optimizer, _scalar, check_not_differentiable, grad_array, grad_for_update,
                        new_step_tensor)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, like ``torch.optim.Adagrad``.

    Algorithm, for each parameter :math:`\theta` with gradient :math:`g_t` at step ``t = 1, 2, ...``
    (γ = lr, η = lr_decay, λ = weight_decay, ε = eps, s_0 = initial_accumulator_value)::

        g_t = -g_t                          if maximize
        g_t = g_t + λ θ_{t-1}               if λ != 0
        γ~ = γ / (1 + (t - 1) η)
        s_t = s_{t-1} + g_t²
        θ_t = θ_{t-1} - γ~ g_t / (sqrt(s_t) + ε)

    Args:
        params: iterable of parameters (or of param-group dicts) to optimize.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: starting value of the sum of squared gradients (default 0).
        eps: added to the denominator for numerical stability (default 1e-10).
        maximize: maximize the objective instead of minimizing it.
        foreach, fused: accepted for PyTorch compatibility; no effect.
        differentiable: not supported.

    State per parameter (created in the constructor, as in PyTorch): ``step`` and ``sum``. As in
    PyTorch, the constructor's ``initial_accumulator_value`` is used for all groups given to it.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= _scalar(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_not_differentiable("Adagrad", differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        # NOTE: like PyTorch, the constructor's initial_accumulator_value fills every group's sum,
        # even a group that sets its own; only groups added later use their own value.
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    def _init_state(self, p, init_value):
        state = self.state[p]
        state["step"] = new_step_tensor()
        state["sum"] = wrap(np.full_like(p._data, init_value))

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
            for p in group["params"]:
                st = self.state.get(p, None)
                if st and "step" in st and not isinstance(st["step"], Tensor):
                    st["step"] = new_step_tensor(float(st["step"]))

    def share_memory(self):
        """Kept for PyTorch compatibility (multiprocessing); NumPy state needs nothing here."""

    def step(self, closure=None):
        """Perform one optimization step; returns ``closure()``'s loss when a closure is given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p._data
                g = grad_array(self, p)
                state = self.state[p]
                if len(state) == 0:  # a param group added after construction
                    self._init_state(p, group["initial_accumulator_value"])
                step_arr = state["step"]._data
                step_arr += 1
                step = float(step_arr)
                grad = grad_for_update(self, d, g, weight_decay, maximize)
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum = state["sum"]._data
                std = self._scratch(d, 1)
                np.multiply(grad, grad, out=std)
                np.add(state_sum, std, out=state_sum)
                np.sqrt(state_sum, out=std)
                np.add(std, eps, out=std)
                upd = self._scratch(d, 0)
                np.multiply(grad, -clr, out=upd)
                np.divide(upd, std, out=upd)
                np.add(d, upd, out=d)
                p._vc[0] += 1
        return loss
