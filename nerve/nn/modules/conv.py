"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``, and their sliding-window
relatives ``Unfold`` (im2col) and ``Fold`` (col2im).

Parameters, constructor arguments, default init and ``repr`` are PyTorch's, so state dicts move both
ways: a convolution's ``weight`` is ``(out_channels, in_channels / groups, *kernel_size)``, a transposed
convolution's ``(in_channels, out_channels / groups, *kernel_size)``; ``bias`` is ``(out_channels,)``.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from itertools import repeat

from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Fold", "Unfold"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(x, n):
    if isinstance(x, Iterable):
        return tuple(x)
    return tuple(repeat(x, n))


def _reverse_repeat_tuple(t, n):
    """``(a, b)`` -> ``(b, b, a, a)`` for n=2: per-dim padding in ``F.pad``'s last-dim-first order."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _spatial_names(nd):
    return ("L",) if nd == 1 else ("H", "W")


class _ConvNd(Module):
    __constants__ = ["stride", "padding", "dilation", "groups", "padding_mode", "output_padding", "in_channels",
                     "out_channels", "kernel_size"]
    _nd = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias, padding_mode, device=None, dtype=None) -> None:
        super().__init__()
        if not isinstance(groups, numbers.Integral) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's (last-dim-first) padding for the non-'zeros' padding modes.
        if isinstance(padding, str):
            pads = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    pads[2 * i], pads[2 * i + 1] = total // 2, total - total // 2
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = list(_reverse_repeat_tuple(padding, 2))
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        self.weight = Parameter(empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default init: kaiming_uniform_(a=sqrt(5)) weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias
        (``fan_in = weight.size(1) * prod(kernel_size)``)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input) -> None:
        """Raise naming this layer and its place in the model when ``input`` has the wrong rank or channels."""
        data = getattr(input, "_data", None)
        if data is None:
            return  # not a Tensor: the functional op raises PyTorch's TypeError
        shape = tuple(data.shape)
        nd = self._nd
        sp = ", ".join(_spatial_names(nd))
        if len(shape) not in (nd + 1, nd + 2) or shape[-nd - 1] != self.in_channels:
            c = self.in_channels
            raise RuntimeError(f"{type(self).__name__}(in_channels={c}){self._path_suffix()} got input of shape "
                               f"{shape}: expected (N, {c}, {sp}) or ({c}, {sp})")

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):
            self.padding_mode = "zeros"


class _ConvForward(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None) -> None:
        n = self._nd
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, n), _ntuple(stride, n),
                         padding if isinstance(padding, str) else _ntuple(padding, n), _ntuple(dilation, n),
                         False, _ntuple(0, n), groups, bias, padding_mode, device=device, dtype=dtype)

    def _padded_conv(self, conv, input, weight, bias):
        if self.padding_mode != "zeros":
            return conv(F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), weight, bias,
                        self.stride, _ntuple(0, self._nd), self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        self._check_input(input)
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_ConvForward):
    """1-d convolution (cross-correlation) over (N, C_in, L) or (C_in, L) input.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: ints or 1-tuples.
        padding: an int, a 1-tuple, ``'valid'`` or ``'same'`` (stride 1 only).
        groups: blocked connections; in_channels and out_channels must be divisible by it.
        bias: learn an additive bias.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shape: ``L_out = (L + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1``.

    Attributes:
        weight: (out_channels, in_channels / groups, kernel_size), U(-sqrt(k), sqrt(k)) with
            ``k = groups / (in_channels * kernel_size)``.
        bias: (out_channels,), same distribution.

    Example:
        >>> m = nn.Conv1d(16, 33, 3, stride=2)
        >>> m(nerve.randn(20, 16, 50)).shape
        nerve.Size([20, 33, 24])
    """

    _nd = 1

    def _conv_forward(self, input, weight, bias):
        return self._padded_conv(F.conv1d, input, weight, bias)


class Conv2d(_ConvForward):
    """2-d convolution (cross-correlation) over (N, C_in, H, W) or (C_in, H, W) input.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: ints or (h, w) pairs.
        padding: an int, a pair, ``'valid'`` or ``'same'`` (stride 1 only).
        groups: blocked connections; in_channels and out_channels must be divisible by it.
        bias: learn an additive bias.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shape: ``H_out = (H + 2 * padding[0] - dilation[0] * (kernel_size[0] - 1) - 1) // stride[0] + 1``
    (likewise W).

    Attributes:
        weight: (out_channels, in_channels / groups, kH, kW), U(-sqrt(k), sqrt(k)) with
            ``k = groups / (in_channels * kH * kW)``.
        bias: (out_channels,), same distribution.

    Example:
        >>> m = nn.Conv2d(1, 32, 3, padding=1)
        >>> m
        Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
        >>> m(nerve.randn(8, 1, 28, 28)).shape
        nerve.Size([8, 32, 28, 28])
    """

    _nd = 2

    def _conv_forward(self, input, weight, bias):
        return self._padded_conv(F.conv2d, input, weight, bias)


class _ConvTransposeNd(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        n = self._nd
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, n), _ntuple(stride, n),
                         _ntuple(padding, n), _ntuple(dilation, n), True, _ntuple(output_padding, n), groups,
                         bias, padding_mode, device=device, dtype=dtype)

    def _output_padding(self, input, output_size, stride, padding, kernel_size, num_spatial_dims, dilation=None):
        """The output padding that makes the output ``output_size`` (spatial, or with the N/C dims)."""
        if output_size is None:
            return tuple(self.output_padding)
        output_size = [int(s) for s in output_size]
        has_batch = input.dim() == num_spatial_dims + 2
        non_spatial = 2 if has_batch else 1
        if len(output_size) == non_spatial + num_spatial_dims:
            output_size = output_size[non_spatial:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(f"ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, output_size must have "
                             f"{num_spatial_dims} or {non_spatial + num_spatial_dims} elements "
                             f"(got {len(output_size)})")
        shape = tuple(input.shape)
        min_sizes = [(shape[d + non_spatial] - 1) * stride[d] - 2 * padding[d]
                     + (dilation[d] if dilation is not None else 1) * (kernel_size[d] - 1) + 1
                     for d in range(num_spatial_dims)]
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, stride)]
        for size, lo, hi in zip(output_size, min_sizes, max_sizes):
            if size < lo or size > hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from "
                                 f"{min_sizes} to {max_sizes} (for an input of {list(shape[non_spatial:])})")
        return tuple(s - m for s, m in zip(output_size, min_sizes))

    def forward(self, input, output_size=None):
        """``output_size`` (optional) picks among the output sizes a strided transposed conv can give."""
        self._check_input(input)
        output_padding = self._output_padding(input, output_size, self.stride, self.padding, self.kernel_size,
                                              self._nd, self.dilation)
        conv_t = F.conv_transpose1d if self._nd == 1 else F.conv_transpose2d
        return conv_t(input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                      self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution (the gradient of Conv1d in its input) over (N, C_in, L) or (C_in, L).

    Shape: ``L_out = (L - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1``.

    Attributes:
        weight: (in_channels, out_channels / groups, kernel_size), U(-sqrt(k), sqrt(k)) with
            ``k = groups / (out_channels * kernel_size)``.
        bias: (out_channels,), same distribution.

    Example:
        >>> down, up = nn.Conv1d(16, 16, 3, stride=2, padding=1), nn.ConvTranspose1d(16, 16, 3, stride=2, padding=1)
        >>> x = nerve.randn(1, 16, 12)
        >>> up(down(x), output_size=x.size()).shape
        nerve.Size([1, 16, 12])
    """

    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution (the gradient of Conv2d in its input) over (N, C_in, H, W) or (C_in, H, W).

    Shape: ``H_out = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kH - 1) + output_padding[0] + 1``
    (likewise W); ``forward(input, output_size)`` chooses ``output_padding`` to reach ``output_size``.

    Attributes:
        weight: (in_channels, out_channels / groups, kH, kW), U(-sqrt(k), sqrt(k)) with
            ``k = groups / (out_channels * kH * kW)``.
        bias: (out_channels,), same distribution.

    Example:
        >>> m = nn.ConvTranspose2d(16, 33, 3, stride=2)
        >>> m(nerve.randn(20, 16, 50, 100)).shape
        nerve.Size([20, 33, 101, 201])
    """

    _nd = 2


class Fold(Module):
    """Sum sliding local blocks (N, C * prod(kernel_size), L) back into an (N, C, *output_size) tensor (col2im).

    The adjoint of ``Unfold``: overlapping blocks add up.

    Example:
        >>> nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(nerve.randn(1, 3 * 2 * 2, 12)).shape
        nerve.Size([1, 3, 4, 5])
    """

    __constants__ = ["output_size", "kernel_size", "dilation", "padding", "stride"]

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return ("output_size={output_size}, kernel_size={kernel_size}, "
                "dilation={dilation}, padding={padding}, stride={stride}".format(**self.__dict__))


class Unfold(Module):
    """Extract sliding local blocks of (N, C, H, W) input as columns (N, C * prod(kernel_size), L) (im2col).

    ``L`` is the number of block positions; ``Conv2d`` equals ``weight.view(out, -1) @ unfold(x)`` reshaped.

    Example:
        >>> nn.Unfold(kernel_size=(2, 3))(nerve.randn(2, 5, 3, 4)).shape
        nerve.Size([2, 30, 4])
    """

    __constants__ = ["kernel_size", "dilation", "padding", "stride"]

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return ("kernel_size={kernel_size}, dilation={dilation}, padding={padding},"
                " stride={stride}".format(**self.__dict__))
