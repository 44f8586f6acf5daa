"""Model zoo: networks built only from ``nerve.nn``."""
from .mlp import MLP  # noqa: F401

__all__ = ["MLP"]
