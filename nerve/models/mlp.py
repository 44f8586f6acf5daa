"""A multilayer perceptron: Flatten -> [Linear -> (BatchNorm) -> activation -> (Dropout)] x n -> Linear."""
from __future__ import annotations

from .. import nn

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh,
                "leaky_relu": nn.LeakyReLU, "elu": nn.ELU}


class MLP(nn.Sequential):
    """A fully connected classifier/regressor for flat or image inputs.

    Args:
        in_features: size of the flattened input (784 for 28x28 images).
        hidden: widths of the hidden layers, e.g. ``[512, 512]``.
        out_features: number of outputs (classes).
        activation: one of relu, gelu, silu, tanh, leaky_relu, elu.
        dropout: dropout probability after each hidden activation (0 disables it).
        batch_norm: insert BatchNorm1d after each hidden Linear.

    Shape: (N, *) with prod(*) == in_features -> (N, out_features).

    Example:
        >>> model = MLP(784, [512, 512], 10, dropout=0.2)
        >>> model(nerve.randn(64, 1, 28, 28)).shape
        nerve.Size([64, 10])
    """

    def __init__(self, in_features: int, hidden, out_features: int, activation: str = "relu",
                 dropout: float = 0.0, batch_norm: bool = False):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation '{activation}' (choose from {sorted(_ACTIVATIONS)})")
        layers = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
