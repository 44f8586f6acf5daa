"""Neural-network primitives on Tensors: softmax, log_softmax and fused losses."""
from __future__ import annotations

__all__ = []
