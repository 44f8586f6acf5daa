"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter)."""
from __future__ import annotations

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""AdamW, like ``torch.optim.AdamW``: the weight decay shrinks the weights directly instead of
    entering the gradient, so it accumulates in neither moment.

    Algorithm, for each parameter :math:`\theta` with gradient :math:`g_t` at step ``t = 1, 2, ...``
    (γ = lr, β1, β2 = betas, λ = weight_decay, ε = eps; m_0 = v_0 = v_0^max = 0)::

        g_t = -g_t                       if maximize
        θ_{t-1} = θ_{t-1} (1 - γ λ)
        m_t = β1 m_{t-1} + (1 - β1) g_t
        v_t = β2 v_{t-1} + (1 - β2) g_t²
        v_t^max = max(v_{t-1}^max, v_t)  if amsgrad, and v_t^max replaces v_t below
        θ_t = θ_{t-1} - γ / (1 - β1^t) · m_t / (sqrt(v_t) / sqrt(1 - β2^t) + ε)

    Args:
        params: iterable of parameters (or of param-group dicts) to optimize.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: decoupled weight decay coefficient (default 1e-2).
        amsgrad: use the AMSGrad variant.
        maximize: maximize the objective instead of minimizing it.
        foreach, capturable, fused: accepted for PyTorch compatibility; no effect.
        differentiable: not supported.

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``.
    """

    _decoupled_default = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
