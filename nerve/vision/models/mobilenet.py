"""MobileNet V1 (Howard et al., 2017): depthwise-separable convolutions.

Each block is a depthwise 3x3 convolution (``groups = channels``: one filter per channel) + BN + ReLU6,
then a pointwise 1x1 convolution that mixes channels + BN + ReLU6. That costs
``9 C + C C'`` weights instead of a full 3x3 conv's ``9 C C'``.
"""
from __future__ import annotations

from ... import nn
from ...ops.shape import flatten

__all__ = ["DepthwiseSeparableConv", "MobileNetV1", "mobilenet_small"]

# (out_channels, stride) per depthwise-separable block; the paper's 224x224 network.
_CFG_IMAGENET = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                 (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
# Three strided stages for 28x28 / 32x32 images: 28 -> 14 -> 7 -> 4.
_CFG_SMALL = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1)]


def _make_divisible(v: float, divisor: int = 8, min_value=None) -> int:
    """Round a scaled width to a multiple of ``divisor`` without going more than 10% below it (torchvision's)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _conv_bn_relu6(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                   groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=(kernel_size - 1) // 2,
                  groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU6(inplace=True),
    )


class DepthwiseSeparableConv(nn.Module):
    """``pointwise(depthwise(x))``: depthwise 3x3 (stride ``stride``) + BN + ReLU6, then 1x1 + BN + ReLU6."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.depthwise = _conv_bn_relu6(in_channels, in_channels, 3, stride=stride, groups=in_channels)
        self.pointwise = _conv_bn_relu6(in_channels, out_channels, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class MobileNetV1(nn.Module):
    """Stem conv 3x3 + BN + ReLU6 -> depthwise-separable blocks -> global average pool -> dropout -> fc.

    Args:
        num_classes: outputs.
        in_channels: image channels.
        width_mult: scales every width (rounded to a multiple of 8), the paper's alpha.
        cfg: ``(out_channels, stride)`` per block before scaling; the paper's 13 blocks by default.
        stem_channels: stem width before scaling (32).
        stem_stride: 2 for 224x224 images, 1 for small ones.
        dropout: before the classifier.

    Modules: ``features`` (``features.0`` the stem, then ``DepthwiseSeparableConv`` blocks), ``avgpool``,
    ``classifier`` (``Dropout``, ``Linear``).
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, width_mult: float = 1.0, cfg=None,
                 stem_channels: int = 32, stem_stride: int = 2, dropout: float = 0.2) -> None:
        super().__init__()
        if width_mult <= 0:
            raise ValueError(f"MobileNetV1: width_mult must be positive, got {width_mult}")
        cfg = _CFG_IMAGENET if cfg is None else cfg
        channels = _make_divisible(stem_channels * width_mult)
        layers = [_conv_bn_relu6(in_channels, channels, 3, stride=stem_stride)]
        for out, stride in cfg:
            out = _make_divisible(out * width_mult)
            layers.append(DepthwiseSeparableConv(channels, out, stride))
            channels = out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(channels, num_classes))
        self.out_channels = channels

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = flatten(x, 1)
        return self.classifier(x)


def mobilenet_small(num_classes: int = 10, in_channels: int = 1, width_mult: float = 1.0,
                    dropout: float = 0.2) -> MobileNetV1:
    """MobileNetV1 for 28x28 / 32x32 images: stride-1 stem and 7 blocks in 3 strided stages (64-512 wide).

    Example:
        >>> net = mobilenet_small(10, 1, width_mult=0.5)
        >>> net(nerve.randn(2, 1, 28, 28)).shape
        nerve.Size([2, 10])
    """
    return MobileNetV1(num_classes=num_classes, in_channels=in_channels, width_mult=width_mult, cfg=_CFG_SMALL,
                       stem_stride=1, dropout=dropout)
