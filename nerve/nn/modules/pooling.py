"""Pooling layers: max, average and adaptive pools over 1 or 2 spatial dims.

Constructor arguments and ``repr`` are PyTorch's (``MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1,
ceil_mode=False)``); ``stride`` defaults to ``kernel_size``. The layers hold no parameters.
"""
from __future__ import annotations

from collections.abc import Iterable

from .. import functional as F
from .module import Module

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d",
    "MaxPool1d", "MaxPool2d",
]


def _single(x):
    return tuple(x) if isinstance(x, Iterable) else (x,)


def _check_dims(module, input, nd):
    """Raise naming the layer and its place in the model when ``input`` is not (N, C, *spatial) or (C, *spatial)."""
    data = getattr(input, "_data", None)
    if data is None:
        return  # not a Tensor: the functional op raises
    shape = tuple(data.shape)
    if len(shape) not in (nd + 1, nd + 2):
        sp = "L" if nd == 1 else "H, W"
        raise RuntimeError(f"{type(module).__name__}({module.extra_repr()}){module._path_suffix()} got input of "
                           f"shape {shape}: expected {nd + 2}-D (N, C, {sp}) or {nd + 1}-D (C, {sp}) input")


class _MaxPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"]

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return ("kernel_size={kernel_size}, stride={stride}, padding={padding}"
                ", dilation={dilation}, ceil_mode={ceil_mode}".format(**self.__dict__))


class MaxPool1d(_MaxPoolNd):
    """Maximum over sliding windows of (N, C, L) or (C, L) input.

    ``L_out = (L + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1``, rounded down (up with
    ``ceil_mode``). With ``return_indices`` also returns each maximum's position along L (for MaxUnpool).
    """

    def forward(self, input):
        _check_dims(self, input, 1)
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """Maximum over sliding windows of (N, C, H, W) or (C, H, W) input.

    ``H_out = (H + 2 * padding[0] - dilation[0] * (kernel_size[0] - 1) - 1) / stride[0] + 1``, rounded down
    (up with ``ceil_mode``; a window starting in the right padding is dropped). With ``return_indices``
    also returns each maximum's flat position in its H*W plane.

    Example:
        >>> nn.MaxPool2d(2)(nerve.randn(8, 32, 28, 28)).shape
        nerve.Size([8, 32, 14, 14])
    """

    def forward(self, input):
        _check_dims(self, input, 2)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class _AvgPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Average over sliding windows of (N, C, L) or (C, L) input.

    ``count_include_pad`` counts the zero padding in each window's divisor.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        _check_dims(self, input, 1)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Average over sliding windows of (N, C, H, W) or (C, H, W) input.

    ``count_include_pad`` counts the zero padding in each window's divisor; ``divisor_override``
    replaces the divisor.
    """

    __constants__ = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"]

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override=None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        _check_dims(self, input, 2)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class _AdaptiveMaxPoolNd(Module):
    __constants__ = ["output_size", "return_indices"]

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Maximum over ``output_size`` adaptive windows ``[floor(i*L/out), ceil((i+1)*L/out))`` of (N, C, L)."""

    def forward(self, input):
        _check_dims(self, input, 1)
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Maximum over adaptive windows of (N, C, H, W) input, giving (N, C, *output_size).

    ``output_size``: an int or a pair whose ``None`` entries keep the input size.
    """

    def forward(self, input):
        _check_dims(self, input, 2)
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class _AdaptiveAvgPoolNd(Module):
    __constants__ = ["output_size"]

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average over ``output_size`` adaptive windows ``[floor(i*L/out), ceil((i+1)*L/out))`` of (N, C, L)."""

    def forward(self, input):
        _check_dims(self, input, 1)
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average over adaptive windows of (N, C, H, W) input, giving (N, C, *output_size).

    ``output_size``: an int or a pair whose ``None`` entries keep the input size;
    ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Example:
        >>> nn.AdaptiveAvgPool2d((5, None))(nerve.randn(1, 64, 8, 9)).shape
        nerve.Size([1, 64, 5, 9])
    """

    def forward(self, input):
        _check_dims(self, input, 2)
        return F.adaptive_avg_pool2d(input, self.output_size)
