"""Inception (GoogLeNet, Szegedy et al., 2014) blocks and a small Inception network.

An Inception block runs four branches on the same input and concatenates them along channels:
1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max-pool -> 1x1. The 1x1 "reductions" keep the wide kernels cheap.
Names follow torchvision's ``GoogLeNet`` (``BasicConv2d`` with ``conv``/``bn``, ``branch1``..``branch4``).
"""
from __future__ import annotations

from ... import nn
from ...ops.join import cat
from ...ops.shape import flatten

__all__ = ["BasicConv2d", "Inception", "InceptionNet", "inception_small"]


class BasicConv2d(nn.Module):
    """Conv (no bias) -> BatchNorm (eps=0.001, as torchvision's) -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """Four parallel branches concatenated along channels; output has
    ``ch1x1 + ch3x3 + ch5x5 + pool_proj`` channels at the input's spatial size.

    Args:
        in_channels: input channels.
        ch1x1: width of the 1x1 branch.
        ch3x3red, ch3x3: reduction and output widths of the 1x1 -> 3x3 branch.
        ch5x5red, ch5x5: reduction and output widths of the 1x1 -> 5x5 branch.
        pool_proj: width of the 1x1 after the 3x3/stride-1 max-pool.
        kernel5: kernel of the wide branch: 5 (the paper) or 3 (torchvision's GoogLeNet, which uses a 3x3
            there to match the original pretrained weights).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int, kernel5: int = 5) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=kernel5, padding=kernel5 // 2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x):
        return cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionNet(nn.Module):
    """A GoogLeNet-shaped network for 28x28 / 32x32 images.

    ``conv1`` (3x3) -> ``conv2`` (3x3) -> ``maxpool1`` -> ``inception3a`` -> ``inception3b`` -> ``maxpool2``
    -> ``inception4a`` -> ``inception4b`` -> ``avgpool`` (global) -> ``dropout`` -> ``fc``.
    Spatial size: 28 -> 14 -> 7 (32 -> 16 -> 8). ``width`` scales every channel count (1.0: 32-wide stem,
    256-wide output, about 0.3M parameters). Init: convs kaiming-normal (fan_out, relu), BN weight 1 / bias 0,
    ``fc`` PyTorch's default Linear init.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: float = 1.0, dropout: float = 0.2,
                 kernel5: int = 5) -> None:
        super().__init__()

        def c(n):
            return max(1, round(n * width))

        self.conv1 = BasicConv2d(in_channels, c(32), kernel_size=3, padding=1)
        self.conv2 = BasicConv2d(c(32), c(64), kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(2, stride=2)
        self.inception3a = Inception(c(64), c(32), c(32), c(48), c(8), c(16), c(16), kernel5)
        self.inception3b = Inception(self.inception3a.out_channels, c(48), c(48), c(64), c(16), c(32), c(32),
                                     kernel5)
        self.maxpool2 = nn.MaxPool2d(2, stride=2)
        self.inception4a = Inception(self.inception3b.out_channels, c(64), c(48), c(96), c(16), c(32), c(32),
                                     kernel5)
        self.inception4b = Inception(self.inception4a.out_channels, c(80), c(56), c(112), c(16), c(32), c(32),
                                     kernel5)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(self.inception4b.out_channels, num_classes)

        # Kaiming (fan_out, relu) like ResNet rather than GoogLeNet's N(0, 0.01): trained from scratch, the
        # signal then keeps its scale through the depth even before BatchNorm's statistics settle.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.conv1(x)
        x = self.conv2(x)
        x = self.maxpool1(x)
        x = self.inception3a(x)
        x = self.inception3b(x)
        x = self.maxpool2(x)
        x = self.inception4a(x)
        x = self.inception4b(x)
        x = self.avgpool(x)
        x = flatten(x, 1)
        x = self.dropout(x)
        return self.fc(x)


def inception_small(num_classes: int = 10, in_channels: int = 1, width: float = 1.0,
                    dropout: float = 0.2) -> InceptionNet:
    """``InceptionNet(num_classes, in_channels, width, dropout)``: a small GoogLeNet for 28x28 / 32x32 images.

    Example:
        >>> net = inception_small(10, 1)
        >>> net(nerve.randn(2, 1, 28, 28)).shape
        nerve.Size([2, 10])
    """
    return InceptionNet(num_classes=num_classes, in_channels=in_channels, width=width, dropout=dropout)
