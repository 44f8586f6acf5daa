"""Computer vision (``torchvision``): datasets, transforms and image utilities.

Code written for torchvision runs with ``import nerve.vision as torchvision``:

    >>> import nerve.vision as torchvision
    >>> import nerve.vision.transforms as transforms
    >>> ds = torchvision.datasets.FashionMNIST("data", train=True, transform=transforms.ToTensor())
    >>> torchvision.utils.save_image(ds.data[:64, None] / 255.0, "grid.png")
"""
from . import datasets, models, transforms, utils  # noqa: F401

__all__ = ["datasets", "models", "transforms", "utils"]
