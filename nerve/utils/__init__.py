"""Utilities (``torch.utils``): ``nerve.utils.data`` holds datasets, samplers and the DataLoader."""
from . import data  # noqa: F401
