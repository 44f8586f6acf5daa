from . import OpInfo, Sample, make  # noqa: F401

OPS = []
