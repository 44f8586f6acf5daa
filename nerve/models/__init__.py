"""Model zoo: networks built only from ``nerve.nn``."""
from .cnn import CNN  # noqa: F401
from .mlp import MLP  # noqa: F401

__all__ = ["CNN", "MLP"]
