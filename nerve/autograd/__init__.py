"""Reverse-mode automatic differentiation: Tensor, graph nodes, the backward engine, grad modes."""
from . import grad_mode  # noqa: F401
from .engine import backward, grad  # noqa: F401
from .grad_mode import (  # noqa: F401
    detect_anomaly, enable_grad, inference_mode, is_anomaly_enabled, is_grad_enabled, no_grad,
    set_detect_anomaly, set_grad_enabled,
)
from .node import Node  # noqa: F401
from .tensor import Size, Tensor  # noqa: F401
from .function import Function, FunctionCtx, once_differentiable  # noqa: F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from . import functional  # noqa: F401


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802 - PyTorch's legacy name
    """Legacy ``torch.autograd.Variable``: returns ``data`` (a Tensor), with ``requires_grad`` set if asked."""
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    if requires_grad:
        data.requires_grad_(True)
    return data
