"""A VGG-style convolutional classifier: [Conv3x3 -> BatchNorm -> activation] x n with max-pools, then an MLP head."""
from __future__ import annotations

from .. import nn
from .mlp import _ACTIVATIONS


class CNN(nn.Sequential):
    """Stacked 3x3 convolutions with a 2x2 max-pool after every ``pool_every`` of them, then fully connected layers.

    Each entry of ``channels`` is ``Conv2d(k x k, padding k // 2, bias=not batch_norm) -> BatchNorm2d ->
    activation``; after every ``pool_every`` convolutions comes ``MaxPool2d(2)``. Then ``Flatten``, one
    ``Linear -> activation -> Dropout(dropout)`` per entry of ``hidden``, and a final ``Linear`` to
    ``num_classes``.

    Args:
        in_channels: image channels (1 for grey images).
        channels: output channels of each convolution, e.g. ``[32, 32, 64, 64]``.
        num_classes: number of outputs.
        image_size: ``(H, W)`` of the input images; fixes the size of the first Linear.
        hidden: widths of the hidden Linear layers (may be empty).
        pool_every: convolutions between max-pools (0: no pooling).
        kernel_size: odd convolution size (3 by default); padding keeps the spatial size.
        batch_norm: BatchNorm2d after each convolution (the convolutions then have no bias).
        activation: one of relu, gelu, silu, tanh, leaky_relu, elu.
        dropout: dropout probability after each hidden Linear (0 disables it).

    Shape: (N, in_channels, H, W) -> (N, num_classes).

    Example:
        >>> net = CNN(1, [32, 32, 64, 64], 10, image_size=(28, 28), hidden=[256], dropout=0.3)
        >>> net(nerve.randn(8, 1, 28, 28)).shape
        nerve.Size([8, 10])
    """

    def __init__(self, in_channels: int, channels, num_classes: int, image_size=(28, 28), hidden=(256,),
                 pool_every: int = 2, kernel_size: int = 3, batch_norm: bool = True, activation: str = "relu",
                 dropout: float = 0.0):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"CNN: unknown activation '{activation}' (choose from {sorted(_ACTIVATIONS)})")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"CNN: kernel_size must be a positive odd number, got {kernel_size}")
        channels = list(channels)
        if not channels:
            raise ValueError("CNN: channels must name at least one convolution")
        h, w = image_size
        layers = []
        c_in = in_channels
        for k, c in enumerate(channels, 1):
            layers.append(nn.Conv2d(c_in, c, kernel_size, padding=kernel_size // 2, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c))
            layers.append(_ACTIVATIONS[activation]())
            if pool_every and k % pool_every == 0:
                if h < 2 or w < 2:
                    raise ValueError(f"CNN: {k // pool_every} max-pools shrink a {tuple(image_size)} image below 1x1; "
                                     "use fewer channels entries or a larger pool_every")
                layers.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            c_in = c
        layers.append(nn.Flatten())
        width = c_in * h * w
        for hdim in hidden:
            layers.append(nn.Linear(width, hdim))
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hdim
        layers.append(nn.Linear(width, num_classes))
        super().__init__(*layers)
