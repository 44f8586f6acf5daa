"""VGG-style (Simonyan & Zisserman, 2014) and AlexNet-style (Krizhevsky et al., 2012) networks.

``VGG`` and ``make_layers`` follow torchvision's layout (``features``, ``avgpool``, ``classifier``; a
config list of widths with ``'M'`` for max-pooling), so torchvision users recognise the module tree.
``vgg_small`` and ``alexnet_small`` are the same designs scaled for 28x28 / 32x32 images.
"""
from __future__ import annotations

from ... import nn
from ...ops.shape import flatten

__all__ = ["VGG", "AlexNetSmall", "alexnet_small", "make_layers", "vgg_small"]


def make_layers(cfg, batch_norm: bool = False, in_channels: int = 3) -> nn.Sequential:
    """Build VGG's ``features``: an int is a 3x3 conv (+ BN) + ReLU of that width, ``'M'`` a 2x2 max-pool.

    Example: ``make_layers([64, 'M', 128, 'M'], batch_norm=True, in_channels=1)``.
    """
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        v = int(v)
        conv = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
        layers += [conv, nn.BatchNorm2d(v), nn.ReLU(inplace=True)] if batch_norm else [conv, nn.ReLU(inplace=True)]
        in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """``features`` -> ``avgpool`` (adaptive, to ``pool_size``) -> flatten -> ``classifier``.

    Args:
        features: the convolutional trunk (see ``make_layers``); its last layer's width is ``out_channels``.
        out_channels: channels leaving ``features``.
        num_classes: outputs.
        hidden: width of the two hidden classifier layers (torchvision: 4096).
        dropout: dropout probability before each hidden classifier layer.
        pool_size: spatial size kept by the adaptive average pool (torchvision: (7, 7)).
        init_weights: torchvision's init (kaiming-normal fan_out convs, N(0, 0.01) linears, zero biases).
    """

    def __init__(self, features: nn.Module, out_channels: int = 512, num_classes: int = 1000, hidden: int = 4096,
                 dropout: float = 0.5, pool_size=(7, 7), init_weights: bool = True) -> None:
        super().__init__()
        ph, pw = (pool_size, pool_size) if isinstance(pool_size, int) else tuple(pool_size)
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((ph, pw))
        self.classifier = nn.Sequential(
            nn.Linear(out_channels * ph * pw, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = flatten(x, 1)
        return self.classifier(x)


def vgg_small(num_classes: int = 10, in_channels: int = 1, widths=(32, 64, 128), batch_norm: bool = True,
              dropout: float = 0.3, convs_per_stage: int = 2, hidden: int = 256, pool_size=(1, 1)) -> VGG:
    """A small VGG for 28x28 / 32x32 images: per width, ``convs_per_stage`` 3x3 convs then a 2x2 max-pool.

    With the defaults: [32, 32, M, 64, 64, M, 128, 128, M] -> global average pool -> 128 -> 256 -> 256
    -> num_classes (about 0.39M parameters).

    Example:
        >>> net = vgg_small(10, 1)
        >>> net(nerve.randn(2, 1, 28, 28)).shape
        nerve.Size([2, 10])
    """
    cfg = []
    for w in widths:
        cfg += [w] * convs_per_stage + ["M"]
    return VGG(make_layers(cfg, batch_norm=batch_norm, in_channels=in_channels), out_channels=widths[-1],
               num_classes=num_classes, hidden=hidden, dropout=dropout, pool_size=pool_size)


class AlexNetSmall(nn.Module):
    """AlexNet's design (5 convs, 3 max-pools, 3-layer classifier with dropout) for 28x28 / 32x32 images.

    Layout and names follow torchvision's ``AlexNet`` (``features``, ``avgpool``, ``classifier``), with
    the 11x11/stride-4 stem replaced by a 3x3/stride-1 conv, 2x2 pools, and widths
    ``widths`` (AlexNet's 64-192-384-256-256 halved by default) and ``hidden`` (AlexNet: 4096).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, widths=(32, 96, 192, 128, 128),
                 hidden: int = 512, dropout: float = 0.5, pool_size=(2, 2)) -> None:
        super().__init__()
        if len(widths) != 5:
            raise ValueError(f"AlexNetSmall: widths must list 5 conv widths, got {tuple(widths)}")
        c1, c2, c3, c4, c5 = (int(w) for w in widths)
        ph, pw = (pool_size, pool_size) if isinstance(pool_size, int) else tuple(pool_size)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(c1, c2, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((ph, pw))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(c5 * ph * pw, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = flatten(x, 1)
        return self.classifier(x)


def alexnet_small(num_classes: int = 10, in_channels: int = 1, **kwargs) -> AlexNetSmall:
    """``AlexNetSmall(num_classes, in_channels, **kwargs)``: AlexNet scaled for 28x28 / 32x32 images."""
    return AlexNetSmall(num_classes=num_classes, in_channels=in_channels, **kwargs)
