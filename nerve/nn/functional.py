"""Stateless neural-network functions (``torch.nn.functional``)."""
from __future__ import annotations
