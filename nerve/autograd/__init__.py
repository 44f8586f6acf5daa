"""Reverse-mode automatic differentiation: Tensor, graph nodes, the backward engine, grad modes."""
from . import grad_mode  # noqa: F401
from .engine import backward, grad  # noqa: F401
from .grad_mode import (  # noqa: F401
    detect_anomaly, enable_grad, inference_mode, is_anomaly_enabled, is_grad_enabled, no_grad,
    set_detect_anomaly, set_grad_enabled,
)
from .node import Node  # noqa: F401
from .tensor import Size, Tensor  # noqa: F401
from .function import Function  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
from . import functional  # noqa: F401
