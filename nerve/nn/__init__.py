"""Neural-network building blocks. ``nerve.nn.functional`` holds the stateless functions."""
from . import functional  # noqa: F401
from .parameter import Parameter  # noqa: F401
