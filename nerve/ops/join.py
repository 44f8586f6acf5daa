"""Joining and splitting: cat, stack, split, chunk, unbind, narrow, flip, roll, repeat, tril, ..."""
from __future__ import annotations

__all__ = []
