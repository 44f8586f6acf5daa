"""LeNet-5 (LeCun et al., 1998) in the form common PyTorch tutorials use."""
from __future__ import annotations

from ... import nn
from ...ops.shape import flatten

__all__ = ["LeNet5"]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}
_POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet5(nn.Module):
    """LeNet-5: conv5(6) - pool - conv5(16) - pool - fc120 - fc84 - fc(num_classes).

    The first convolution pads by 2, so a 28x28 image (MNIST) reaches the classifier as 16x5x5 exactly as
    a 32x32 image does in the 1998 paper. Other sizes (32x32, 64x64 ...) are brought to 5x5 by an
    ``AdaptiveAvgPool2d((5, 5))``, which is the identity at 28x28.

    Args:
        num_classes: outputs of the last layer.
        in_channels: 1 for grey images, 3 for RGB.
        activation: ``'relu'`` (default, as in most PyTorch versions) or ``'tanh'`` (the original).
        pool: ``'max'`` (default) or ``'avg'`` (the original's subsampling).

    Shape: (N, in_channels, H, W) with H, W >= 12 -> (N, num_classes).

    Example:
        >>> net = LeNet5()
        >>> net(nerve.randn(2, 1, 28, 28)).shape
        nerve.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "relu",
                 pool: str = "max") -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet5: unknown activation {activation!r} (choose from {sorted(_ACTIVATIONS)})")
        if pool not in _POOLS:
            raise ValueError(f"LeNet5: unknown pool {pool!r} (choose from {sorted(_POOLS)})")
        act, pool_cls = _ACTIVATIONS[activation], _POOLS[pool]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2),
            act(),
            pool_cls(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            act(),
            pool_cls(kernel_size=2, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((5, 5))
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            act(),
            nn.Linear(120, 84),
            act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = flatten(x, 1)
        return self.classifier(x)
