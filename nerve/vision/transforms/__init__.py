"""Image transforms (``torchvision.transforms``): ToTensor, Normalize, Compose, Lambda, flips, crops, Pad.

Each transform works on one image (a NumPy ``H x W (x C)`` array, a PIL image if Pillow is
installed, or a ``(..., C, H, W)`` nerve.Tensor). Random transforms draw from nerve's default
generator, so ``nerve.manual_seed`` fixes them (and DataLoader workers seed it per worker).

Batch path: the built-in transforms (and a ``Compose`` of only those) can also transform a whole
batch of images at once. Datasets such as ``MNIST`` use it in ``__getbatch__``, so a DataLoader
applies ``Compose([ToTensor(), Normalize(...)])`` to 128 images in a few NumPy calls. Random
transforms then draw one value per image in one call: the same distribution as the per-image path
and reproducible under a seed, though not the same sequence of draws.

Example:
    >>> import nerve.vision.transforms as T
    >>> tf = T.Compose([T.RandomCrop(28, padding=2), T.ToTensor(), T.Normalize((0.2860,), (0.3530,))])
    >>> x = tf(np.zeros((28, 28), np.uint8))      # float32 tensor of shape (1, 28, 28)
"""
from __future__ import annotations

import numpy as np

from ...backend.random import rng
from . import functional  # noqa: F401
from . import functional as F
from .functional import _hwc_to_chw, _mean_std, _pad_array, _parse_padding, _setup_size

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "RandomHorizontalFlip", "RandomVerticalFlip",
           "RandomCrop", "CenterCrop", "Pad"]


class _Batch:
    """A batch of images as one array: ``N x H x W x C`` before ToTensor, ``N x C x H x W`` after (``chw``)."""

    __slots__ = ("arr", "chw")

    def __init__(self, arr, chw):
        self.arr = arr
        self.chw = chw

    @property
    def hw_axes(self):
        return (2, 3) if self.chw else (1, 2)


class _Transform:
    """Base of the built-in transforms: ``t(img)`` calls ``t.forward(img)``, like torchvision's nn.Module ones."""

    def __call__(self, img):
        return self.forward(img)

    def forward(self, img):
        raise NotImplementedError

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class Compose(_Transform):
    """Apply several transforms in sequence.

    Example:
        >>> Compose([ToTensor(), Normalize((0.5,), (0.5,))])
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    forward = __call__

    def _apply_batch(self, b):
        for t in self.transforms:
            b = t._apply_batch(b)
        return b

    def __repr__(self):
        s = self.__class__.__name__ + "("
        for t in self.transforms:
            s += f"\n    {t}"
        return s + "\n)"


class ToTensor(_Transform):
    """An image (PIL, or NumPy array / nerve.Tensor in ``H x W (x C)`` layout) -> float ``C x H x W`` tensor in [0, 1].

    uint8 data is divided by 255; other dtypes keep their values (as torchvision does).
    """

    def __call__(self, pic):
        return F.to_tensor(pic)

    forward = __call__

    def _apply_batch(self, b):
        if b.chw:
            raise TypeError("ToTensor: pic should be an image (H x W x C), but the batch is already a tensor "
                            "batch (ToTensor applied twice?)")
        return _Batch(_hwc_to_chw(b.arr), True)


class Normalize(_Transform):
    """``(x - mean[c]) / std[c]`` per channel of a float ``(..., C, H, W)`` tensor.

    Args:
        mean: per-channel means (a sequence, or one value for all channels).
        std: per-channel standard deviations.
        inplace: modify the input tensor in place.
    """

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def _apply_batch(self, b):
        if not b.chw:
            raise TypeError("img should be Tensor Image. Got an image batch: put ToTensor() before Normalize()")
        arr = b.arr
        if arr.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {arr.dtype}.")
        m, s = _mean_std(self.mean, self.std, arr.dtype, arr.shape[1])
        return _Batch((arr - m.reshape(1, -1, 1, 1)) / s.reshape(1, -1, 1, 1), True)

    def __repr__(self):
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"


class Lambda(_Transform):
    """A user function as a transform (``Lambda(lambda x: x * 2)``)."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    forward = __call__


class RandomHorizontalFlip(_Transform):
    """Mirror the image left to right with probability ``p``."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def forward(self, img):
        if rng(None).random() < self.p:
            return F.hflip(img)
        return img

    def _flip_axis(self, b):
        return b.hw_axes[1]

    def _apply_batch(self, b):
        arr = b.arr
        mask = rng(None).random(arr.shape[0]) < self.p
        if not mask.any():
            return b
        out = arr.copy()
        out[mask] = np.flip(arr[mask], axis=self._flip_axis(b))
        return _Batch(out, b.chw)

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror the image top to bottom with probability ``p``."""

    def forward(self, img):
        if rng(None).random() < self.p:
            return F.vflip(img)
        return img

    def _flip_axis(self, b):
        return b.hw_axes[0]


class Pad(_Transform):
    """Pad the borders: ``padding`` is an int, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.

    ``padding_mode``: 'constant' (with ``fill``), 'edge', 'reflect' or 'symmetric'.
    """

    def __init__(self, padding, fill=0, padding_mode: str = "constant"):
        _parse_padding(padding, "Pad")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def _apply_batch(self, b):
        lf, tp, rt, bt = _parse_padding(self.padding, "Pad")
        ha, wa = b.hw_axes
        return _Batch(_pad_array(b.arr, lf, tp, rt, bt, self.fill, self.padding_mode, ha, wa), b.chw)

    def __repr__(self):
        return f"{self.__class__.__name__}(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class CenterCrop(_Transform):
    """The central ``size`` (int or ``(h, w)``) region; images smaller than that are zero-padded."""

    def __init__(self, size):
        self.size = _setup_size(size, "CenterCrop")

    def forward(self, img):
        return F.center_crop(img, self.size)

    def _apply_batch(self, b):
        th, tw = self.size
        ha, wa = b.hw_axes
        arr = b.arr
        h, w = arr.shape[ha], arr.shape[wa]
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        if top < 0 or left < 0 or top + th > h or left + tw > w:
            pads = (max(-left, 0), max(-top, 0), max(left + tw - w, 0), max(top + th - h, 0))
            arr = _pad_array(arr, *pads, 0, "constant", ha, wa)
            top, left = top + pads[1], left + pads[0]
        sl = [slice(None)] * arr.ndim
        sl[ha], sl[wa] = slice(top, top + th), slice(left, left + tw)
        return _Batch(np.ascontiguousarray(arr[tuple(sl)]), b.chw)

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size})"


class RandomCrop(_Transform):
    """Crop a random ``size`` (int or ``(h, w)``) region, after optional padding.

    Args:
        size: output size.
        padding: border padding applied first (int, 2 or 4 values, as in :class:`Pad`).
        pad_if_needed: pad images smaller than ``size`` (by the missing size on both sides, as torchvision does).
        fill, padding_mode: how to pad (see :class:`Pad`).
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0, padding_mode: str = "constant"):
        self.size = _setup_size(size, "RandomCrop")
        if padding is not None:
            _parse_padding(padding, "RandomCrop")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img, output_size):
        """``(top, left, h, w)`` of a random crop of ``output_size`` from ``img``."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        r = rng(None)
        i = int(r.integers(0, h - th + 1))
        j = int(r.integers(0, w - tw + 1))
        return i, j, th, tw

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, h, w = F.get_dimensions(img)
        if self.pad_if_needed and w < self.size[1]:
            img = F.pad(img, [self.size[1] - w, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and h < self.size[0]:
            img = F.pad(img, [0, self.size[0] - h], self.fill, self.padding_mode)
        i, j, th, tw = self.get_params(img, self.size)
        return F.crop(img, i, j, th, tw)

    def _apply_batch(self, b):
        ha, wa = b.hw_axes
        arr = b.arr
        if self.padding is not None:
            arr = _pad_array(arr, *_parse_padding(self.padding), self.fill, self.padding_mode, ha, wa)
        th, tw = self.size
        if self.pad_if_needed and arr.shape[wa] < tw:
            d = tw - arr.shape[wa]
            arr = _pad_array(arr, d, 0, d, 0, self.fill, self.padding_mode, ha, wa)
        if self.pad_if_needed and arr.shape[ha] < th:
            d = th - arr.shape[ha]
            arr = _pad_array(arr, 0, d, 0, d, self.fill, self.padding_mode, ha, wa)
        h, w = arr.shape[ha], arr.shape[wa]
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if h == th and w == tw:
            return _Batch(arr, b.chw)
        n = arr.shape[0]
        r = rng(None)
        i = r.integers(0, h - th + 1, size=n)
        j = r.integers(0, w - tw + 1, size=n)
        win = np.lib.stride_tricks.sliding_window_view(arr, (th, tw), axis=(ha, wa))
        rows = np.arange(n)
        if b.chw:  # win: (N, C, H', W', th, tw)
            c = np.arange(arr.shape[1])
            out = win[rows[:, None], c[None, :], i[:, None], j[:, None]]
        else:  # win: (N, H', W', C, th, tw) -> (N, C, th, tw) -> (N, th, tw, C)
            out = win[rows, i, j].transpose(0, 2, 3, 1)
        return _Batch(np.ascontiguousarray(out), b.chw)

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"


_BATCHABLE = (Compose, ToTensor, Normalize, RandomHorizontalFlip, RandomVerticalFlip, Pad, CenterCrop, RandomCrop)


def _batchable(transform) -> bool:
    """Whether ``transform`` can run on a whole batch (built-in transforms only, not subclasses)."""
    if type(transform) is Compose:
        return all(_batchable(t) for t in transform.transforms)
    return type(transform) in _BATCHABLE


def _apply_batch(transform, images: np.ndarray):
    """Apply a batchable transform to ``N x H x W`` or ``N x H x W x C`` images; returns an array.

    The result equals stacking ``transform(images[k])`` for each k (up to the order of random draws).
    """
    gray = images.ndim == 3
    b = _Batch(images[..., None] if gray else images, False)
    b = transform._apply_batch(b)
    arr = b.arr
    if not b.chw and gray:
        arr = arr[..., 0]
    return arr
