"""Vision datasets (``torchvision.datasets``): MNIST and Fashion-MNIST from IDX files."""
from .mnist import MNIST, FashionMNIST, read_idx_file, read_image_file, read_label_file  # noqa: F401
from .vision import StandardTransform, VisionDataset  # noqa: F401

__all__ = ["MNIST", "FashionMNIST", "VisionDataset", "StandardTransform", "read_idx_file", "read_image_file",
           "read_label_file"]
