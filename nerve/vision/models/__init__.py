"""Convolutional model zoo (``torchvision.models``), built only from ``nerve.nn``.

Each constructor takes ``num_classes`` and ``in_channels``, so one call gives a network for MNIST-sized
grey images or RGB photos. Where torchvision has the same network, the module tree and parameter names
are torchvision's (``conv1``, ``bn1``, ``layer1.0.conv1``, ``fc`` ...), so state dicts move between them.

    >>> from nerve.vision import models
    >>> net = models.resnet18(num_classes=10, small_input=True, width=16)
    >>> net(nerve.randn(2, 3, 32, 32)).shape
    nerve.Size([2, 10])

No pretrained weights are shipped: every model starts from its initialiser.
"""
from .inception import BasicConv2d, Inception, InceptionNet, inception_small
from .lenet import LeNet5
from .mobilenet import DepthwiseSeparableConv, MobileNetV1, mobilenet_small
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
from .vgg import VGG, AlexNetSmall, alexnet_small, make_layers, vgg_small
from .vit import VisionTransformer, vit_small

__all__ = [
    "VGG",
    "AlexNetSmall",
    "BasicBlock",
    "BasicConv2d",
    "Bottleneck",
    "DepthwiseSeparableConv",
    "Inception",
    "InceptionNet",
    "LeNet5",
    "MobileNetV1",
    "ResNet",
    "VisionTransformer",
    "alexnet_small",
    "inception_small",
    "make_layers",
    "mobilenet_small",
    "resnet18",
    "resnet34",
    "resnet50",
    "vgg_small",
    "vit_small",
]
