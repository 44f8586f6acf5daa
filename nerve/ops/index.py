"""Indexing: tensor[...] get/set, gather, scatter, index_select, masked ops, nonzero."""
from __future__ import annotations

__all__ = []
