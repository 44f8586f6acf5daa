"""Image transforms (``torchvision.transforms``): ToTensor, Normalize, Compose, Lambda, flips, crops, Pad, and
augmentation: RandomRotation, RandomAffine, ColorJitter, RandomErasing, GaussianNoise, RandomApply/Choice/Order.

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

import math
import numbers
import warnings

import numpy as np

from ...backend.random import rng
from . import functional  # noqa: F401
from . import functional as F
from .functional import (
    InterpolationMode,
    _hwc_to_chw,
    _mean_std,
    _pad_array,
    _parse_padding,
    _setup_size,
)

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "RandomHorizontalFlip", "RandomVerticalFlip",
           "RandomCrop", "CenterCrop", "Pad", "RandomRotation", "RandomAffine", "ColorJitter", "RandomErasing",
           "GaussianNoise", "RandomApply", "RandomChoice", "RandomOrder", "InterpolationMode"]


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


# ============================================================================ augmentation
def _nchw(b):
    """The batch as an (N, C, H, W) array (a view when it is still N x H x W x C)."""
    return b.arr if b.chw else b.arr.transpose(0, 3, 1, 2)


def _from_nchw(arr, chw):
    return _Batch(arr if chw else np.ascontiguousarray(arr.transpose(0, 2, 3, 1)), chw)


def _check_sequence_input(x, name, req_sizes):
    msg = req_sizes[0] if len(req_sizes) < 2 else " or ".join(str(s) for s in req_sizes)
    if not isinstance(x, (list, tuple)):
        raise TypeError(f"{name} should be a sequence of length {msg}.")
    if len(x) not in req_sizes:
        raise ValueError(f"If {name} is a sequence its length should be one of {req_sizes}.")


def _setup_angle(x, name, req_sizes=(2,)):
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        x = [-x, x]
    else:
        _check_sequence_input(x, name, req_sizes)
    return [float(d) for d in x]


def _check_fill_arg(fill):
    if fill is None:
        return 0
    if not isinstance(fill, (numbers.Number, list, tuple)):
        raise TypeError("Fill should be either a sequence or a number.")
    return fill


def _run_groups(b, groups, op):
    """Apply ``fn`` to the rows ``sel`` of batch ``b`` for each ``(sel, fn)`` and reassemble the batch.

    Rows in no group stay as they are, so every group must keep the image shape, dtype and layout
    (otherwise the per-image results could not be collated either).
    """
    outs = []
    for sel, fn in groups:
        if sel.all():
            return fn(b)
        if sel.any():
            outs.append((sel, fn(_Batch(b.arr[sel], b.chw))))
    if not outs:
        return b
    out = b.arr.copy()
    for sel, sub in outs:
        if sub.chw != b.chw or sub.arr.shape[1:] != b.arr.shape[1:] or sub.arr.dtype != b.arr.dtype:
            raise ValueError(f"{op}: on a batch, the chosen transforms must keep the image shape, dtype and layout "
                             f"(got {sub.arr.shape[1:]} {sub.arr.dtype} from {b.arr.shape[1:]} {b.arr.dtype}); "
                             "put shape-changing transforms outside the random choice")
        out[sel] = sub.arr
    return _Batch(out, b.chw)


class RandomRotation(_Transform):
    """Rotate by an angle drawn uniformly from ``degrees`` (a number d means ``(-d, d)``), counter-clockwise.

    Args:
        degrees: range of angles in degrees.
        interpolation: 'nearest' (default) or 'bilinear', or an :class:`InterpolationMode`.
        expand: enlarge the output to hold the whole rotated image (such a transform runs per image).
        center: ``(x, y)`` pixel to rotate about; default the image centre.
        fill: value (or per-channel values) of the area outside the rotated image.

    Example:
        >>> RandomRotation(15)(nerve.rand(1, 28, 28)).shape
        nerve.Size([1, 28, 28])
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand: bool = False, center=None, fill=0):
        self.degrees = _setup_angle(degrees, "degrees", (2,))
        F._interp_name(interpolation, "RandomRotation")
        if center is not None:
            _check_sequence_input(center, "center", (2,))
        self.interpolation = interpolation
        self.expand = expand
        self.center = center
        self.fill = _check_fill_arg(fill)

    @staticmethod
    def get_params(degrees):
        """An angle drawn uniformly from ``[degrees[0], degrees[1]]``."""
        return float(rng(None).uniform(float(degrees[0]), float(degrees[1])))

    def forward(self, img):
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def _batch_ok(self):
        return not self.expand  # output sizes would differ per image

    def _apply_batch(self, b):
        x = _nchw(b)
        n, c, h, w = x.shape
        angles = rng(None).uniform(self.degrees[0], self.degrees[1], n)
        centre = np.broadcast_to(F._centre_offset(self.center, w, h), (n, 2))
        theta = F._inverse_affine_matrix(centre, -angles, np.zeros((n, 2)), np.ones(n), np.zeros((n, 2)))
        mode = F._interp_name(self.interpolation, "RandomRotation")
        return _from_nchw(F._warp(x, theta, h, w, mode, F._check_fill(self.fill, c, "RandomRotation")), b.chw)

    def __repr__(self):
        return (f"{self.__class__.__name__}(degrees={self.degrees}, interpolation={F._interp_name(self.interpolation, '')}"
                f", expand={self.expand}, fill={self.fill})")


class RandomAffine(_Transform):
    """A random affine map keeping the centre fixed: rotation, translation, scale and shear drawn per image.

    Args:
        degrees: rotation range in degrees (a number d means ``(-d, d)``; 0 disables), clockwise as in torchvision.
        translate: ``(a, b)``: horizontal shift drawn from ``(-a * width, a * width)``, vertical from
            ``(-b * height, b * height)``, rounded to whole pixels.
        scale: ``(lo, hi)`` scale range; default 1.
        shear: a number s (x-shear in ``(-s, s)``), ``(lo, hi)`` (x-shear) or ``(xlo, xhi, ylo, yhi)``, in degrees.
        interpolation: 'nearest' (default) or 'bilinear'.
        fill: value (or per-channel values) of the area outside the transformed image.
        center: ``(x, y)`` pixel the map keeps fixed; default the image centre.
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None):
        self.degrees = _setup_angle(degrees, "degrees", (2,))
        if translate is not None:
            _check_sequence_input(translate, "translate", (2,))
            for t in translate:
                if not 0.0 <= t <= 1.0:
                    raise ValueError("translation values should be between 0 and 1")
        if scale is not None:
            _check_sequence_input(scale, "scale", (2,))
            for s in scale:
                if s <= 0:
                    raise ValueError("scale values should be positive")
        self.shear = _setup_angle(shear, "shear", (2, 4)) if shear is not None else None
        F._interp_name(interpolation, "RandomAffine")
        if center is not None:
            _check_sequence_input(center, "center", (2,))
        self.translate = translate
        self.scale = scale
        self.interpolation = interpolation
        self.fill = _check_fill_arg(fill)
        self.center = center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """``(angle, (tx, ty), scale, (shear_x, shear_y))`` for an image of ``img_size = [width, height]``."""
        r = rng(None)
        angle = float(r.uniform(float(degrees[0]), float(degrees[1])))
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (round(r.uniform(-max_dx, max_dx)), round(r.uniform(-max_dy, max_dy)))
        else:
            translations = (0, 0)
        scale = float(r.uniform(scale_ranges[0], scale_ranges[1])) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = float(r.uniform(shears[0], shears[1]))
            if len(shears) == 4:
                shear_y = float(r.uniform(shears[2], shears[3]))
        return angle, translations, scale, (shear_x, shear_y)

    def forward(self, img):
        _, h, w = F.get_dimensions(img)
        angle, tr, sc, sh = self.get_params(self.degrees, self.translate, self.scale, self.shear, [w, h])
        return F.affine(img, angle, list(tr), sc, list(sh), self.interpolation, self.fill, self.center)

    def _apply_batch(self, b):
        x = _nchw(b)
        n, c, h, w = x.shape
        r = rng(None)
        angle = r.uniform(self.degrees[0], self.degrees[1], n)
        tr = np.zeros((n, 2))
        if self.translate is not None:
            for k, lim in enumerate((self.translate[0] * w, self.translate[1] * h)):
                tr[:, k] = np.rint(r.uniform(-lim, lim, n))
        sc = r.uniform(self.scale[0], self.scale[1], n) if self.scale is not None else np.ones(n)
        sh = np.zeros((n, 2))
        if self.shear is not None:
            sh[:, 0] = r.uniform(self.shear[0], self.shear[1], n)
            if len(self.shear) == 4:
                sh[:, 1] = r.uniform(self.shear[2], self.shear[3], n)
        centre = np.broadcast_to(F._centre_offset(self.center, w, h), (n, 2))
        theta = F._inverse_affine_matrix(centre, angle, tr, sc, sh)
        mode = F._interp_name(self.interpolation, "RandomAffine")
        return _from_nchw(F._warp(x, theta, h, w, mode, F._check_fill(self.fill, c, "RandomAffine")), b.chw)

    def __repr__(self):
        return (f"{self.__class__.__name__}(degrees={self.degrees}, translate={self.translate}, scale={self.scale}, "
                f"shear={self.shear}, interpolation={F._interp_name(self.interpolation, '')}, fill={self.fill})")


def _check_jitter(value, name, center=1.0, bound=(0, float("inf")), clip_first_on_zero=True):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    if value[0] == value[1] == center:  # the identity: skip it
        return None
    return tuple(value)


class ColorJitter(_Transform):
    """Randomly change brightness, contrast, saturation and hue, in a random order per image.

    Each factor is drawn uniformly: a number v means ``[max(0, 1 - v), 1 + v]`` (hue: ``[-v, v]``, v <= 0.5),
    or give ``(min, max)``. 1-channel images skip saturation and hue (as torchvision does for grayscale).
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _check_jitter(brightness, "brightness")
        self.contrast = _check_jitter(contrast, "contrast")
        self.saturation = _check_jitter(saturation, "saturation")
        self.hue = _check_jitter(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """``(order, b, c, s, h)``: a permutation of the 4 adjustments and their factors (None where disabled)."""
        r = rng(None)
        fn_idx = r.permutation(4)
        fs = [None if v is None else float(r.uniform(v[0], v[1])) for v in (brightness, contrast, saturation, hue)]
        return (fn_idx, *fs)

    _FUNCS = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
    _KERNELS = (F._brightness, F._contrast, F._saturation, F._hue)

    def forward(self, img):
        fn_idx, *fs = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        for k in fn_idx:
            if fs[k] is not None:
                img = self._FUNCS[k](img, fs[k])
        return img

    def _apply_batch(self, b):
        x = _nchw(b)
        F._check_channels(x, "ColorJitter")
        n = x.shape[0]
        r = rng(None)
        order = np.argsort(r.random((n, 4)), axis=1)  # an independent random permutation per image
        fs = [None if v is None else r.uniform(v[0], v[1], n) for v in (self.brightness, self.contrast,
                                                                         self.saturation, self.hue)]
        out = x.copy()
        for pos in range(4):
            for k in range(4):
                if fs[k] is None:
                    continue
                sel = order[:, pos] == k
                if sel.all():
                    out = self._KERNELS[k](out, fs[k])
                elif sel.any():
                    out[sel] = self._KERNELS[k](out[sel], fs[k][sel])
        return _from_nchw(out, b.chw)

    def __repr__(self):
        return (f"{self.__class__.__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class RandomErasing(_Transform):
    """With probability ``p``, set a random box of a tensor image to ``value`` (Zhong et al., Random Erasing).

    The box covers a fraction of the area drawn from ``scale`` with an aspect ratio drawn log-uniformly from
    ``ratio``; up to 10 draws are tried until the box fits, else the image is left unchanged.
    ``value``: a number, one number per channel, or 'random' (standard normal noise).
    """

    def __init__(self, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace: bool = False):
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, (tuple, list)):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, (tuple, list)):
            raise TypeError("Ratio should be a sequence")
        if (scale[0] > scale[1]) or (ratio[0] > ratio[1]):
            warnings.warn("Scale and ratio should be of kind (min, max)")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p = p
        self.scale = scale
        self.ratio = ratio
        self.value = value
        self.inplace = inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        """``(i, j, h, w, v)`` of the box to erase in a ``(..., C, H, W)`` image; the whole image and ``img`` itself
        when no box fits in 10 tries."""
        img_c, img_h, img_w = F.get_dimensions(img)
        area = img_h * img_w
        r = rng(None)
        log_ratio = np.log(np.asarray(ratio, dtype=np.float64))
        for _ in range(10):
            erase_area = area * r.uniform(scale[0], scale[1])
            aspect = float(np.exp(r.uniform(log_ratio[0], log_ratio[1])))
            h = round(math.sqrt(erase_area * aspect))
            w = round(math.sqrt(erase_area / aspect))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = r.standard_normal((img_c, h, w), dtype=np.float32)
            else:
                v = np.asarray(value, dtype=np.float32)[:, None, None]
            i = int(r.integers(0, img_h - h + 1))
            j = int(r.integers(0, img_w - w + 1))
            return i, j, h, w, v
        return 0, 0, img_h, img_w, img

    def _value_list(self, nchan):
        if isinstance(self.value, str):
            return None
        value = [float(self.value)] if isinstance(self.value, numbers.Number) else [float(v) for v in self.value]
        if len(value) not in (1, nchan):
            raise ValueError(f"If value is a sequence, it should have either a single value or {nchan} (number of "
                             "input channels)")
        return value

    def forward(self, img):
        if rng(None).random() < self.p:
            value = self._value_list(F.get_dimensions(img)[0])
            i, j, h, w, v = self.get_params(img, scale=self.scale, ratio=self.ratio, value=value)
            if v is img:
                return img if self.inplace else F.erase(img, 0, 0, 0, 0, 0, False)
            if isinstance(img, np.ndarray):  # image layout: v as (h, w, C), or (h, w) for H x W images
                v = v.transpose(1, 2, 0)
                v = v[..., 0] if img.ndim == 2 else v
                v = v.astype(img.dtype) if np.issubdtype(img.dtype, np.integer) else v
            return F.erase(img, i, j, h, w, v, self.inplace)
        return img

    def _apply_batch(self, b):
        x = _nchw(b)
        n, c, img_h, img_w = x.shape
        value = self._value_list(c)
        r = rng(None)
        apply = r.random(n) < self.p
        log_ratio = np.log(np.asarray(self.ratio, dtype=np.float64))
        # All 10 tries at once; each image takes its first box that fits (torchvision's rejection sampling).
        erase_area = img_h * img_w * r.uniform(self.scale[0], self.scale[1], (n, 10))
        aspect = np.exp(r.uniform(log_ratio[0], log_ratio[1], (n, 10)))
        hs = np.rint(np.sqrt(erase_area * aspect)).astype(np.int64)
        ws = np.rint(np.sqrt(erase_area / aspect)).astype(np.int64)
        ok = (hs < img_h) & (ws < img_w)
        first = ok.argmax(axis=1)
        rows = np.arange(n)
        apply &= ok[rows, first]
        h = np.where(apply, hs[rows, first], 0)
        w = np.where(apply, ws[rows, first], 0)
        i = r.integers(0, img_h - h + 1)
        j = r.integers(0, img_w - w + 1)
        yy, xx = np.arange(img_h)[None, :, None], np.arange(img_w)[None, None, :]
        box = ((yy >= i[:, None, None]) & (yy < (i + h)[:, None, None]) &
               (xx >= j[:, None, None]) & (xx < (j + w)[:, None, None]))[:, None]
        if value is None:
            v = r.standard_normal(x.shape, dtype=np.float32)
        else:
            v = np.asarray(value, dtype=np.float64).reshape(1, -1, 1, 1)
        out = x if self.inplace else x.copy()
        np.copyto(out, np.broadcast_to(v, x.shape).astype(x.dtype), where=box)
        return _from_nchw(out, b.chw)

    def __repr__(self):
        return (f"{self.__class__.__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value}, "
                f"inplace={self.inplace})")


class GaussianNoise(_Transform):
    """Add ``mean + sigma * N(0, 1)`` noise to a float image, clamping to [0, 1] if ``clip`` (torchvision v2)."""

    def __init__(self, mean: float = 0.0, sigma: float = 0.1, clip: bool = True):
        self.mean = mean
        self.sigma = sigma
        self.clip = clip

    def forward(self, img):
        return F.gaussian_noise(img, mean=self.mean, sigma=self.sigma, clip=self.clip)

    def _apply_batch(self, b):
        if b.arr.dtype.kind != "f":
            raise ValueError(f"Input tensor is expected to be in float dtype, got dtype={b.arr.dtype} "
                             "(put GaussianNoise after ToTensor())")
        if self.sigma < 0:
            raise ValueError(f"sigma shouldn't be negative. Got {self.sigma}")
        return _Batch(F._gaussian_noise_arr(b.arr, self.mean, self.sigma, self.clip, rng(None)), b.chw)

    def __repr__(self):
        return f"{self.__class__.__name__}(mean={self.mean}, sigma={self.sigma}, clip={self.clip})"


class RandomApply(_Transform):
    """Apply a list of transforms together, with probability ``p``."""

    def __init__(self, transforms, p: float = 0.5):
        self.transforms = list(transforms)
        self.p = p

    def forward(self, img):
        if self.p < rng(None).random():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def _apply_batch(self, b):
        sel = rng(None).random(b.arr.shape[0]) <= self.p
        return _run_groups(b, [(sel, Compose(self.transforms)._apply_batch)], "RandomApply")

    def __repr__(self):
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}(\n    p={self.p}{body}\n)"


class RandomChoice(_Transform):
    """Apply one transform picked at random from a list (with weights ``p``, default uniform)."""

    def __init__(self, transforms, p=None):
        if p is not None and not isinstance(p, (list, tuple)):
            raise TypeError("Argument p should be a sequence")
        self.transforms = list(transforms)
        self.p = p

    def _probs(self):
        if self.p is None:
            return None
        w = np.asarray(self.p, dtype=np.float64)
        return w / w.sum()

    def forward(self, img):
        return self.transforms[int(rng(None).choice(len(self.transforms), p=self._probs()))](img)

    def _apply_batch(self, b):
        pick = rng(None).choice(len(self.transforms), size=b.arr.shape[0], p=self._probs())
        return _run_groups(b, [(pick == k, t._apply_batch) for k, t in enumerate(self.transforms)], "RandomChoice")

    def __repr__(self):
        return f"{self.__class__.__name__}(transforms={self.transforms}, p={self.p})"


class RandomOrder(_Transform):
    """Apply a list of transforms in a random order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def forward(self, img):
        for k in rng(None).permutation(len(self.transforms)):
            img = self.transforms[k](img)
        return img

    def _apply_batch(self, b):
        k = len(self.transforms)
        if k == 0:
            return b
        orders = np.argsort(rng(None).random((b.arr.shape[0], k)), axis=1)
        uniq, inv = np.unique(orders, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        groups = [(inv == g, Compose([self.transforms[t] for t in order])._apply_batch) for g, order in enumerate(uniq)]
        return _run_groups(b, groups, "RandomOrder")

    def __repr__(self):
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}({body}\n)"


_BATCHABLE = (Compose, ToTensor, Normalize, RandomHorizontalFlip, RandomVerticalFlip, Pad, CenterCrop, RandomCrop,
              RandomRotation, RandomAffine, ColorJitter, RandomErasing, GaussianNoise, RandomApply, RandomChoice,
              RandomOrder)
_CONTAINERS = (Compose, RandomApply, RandomChoice, RandomOrder)


def _batchable(transform) -> bool:
    """Whether ``transform`` can run on a whole batch (built-in transforms only, not subclasses)."""
    if type(transform) in _CONTAINERS:
        return all(_batchable(t) for t in transform.transforms)
    return type(transform) in _BATCHABLE and getattr(transform, "_batch_ok", lambda: True)()


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
