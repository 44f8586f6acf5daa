"""Functional image transforms (``torchvision.transforms.functional``).

Images are one of:

* a NumPy array, ``H x W`` or ``H x W x C`` (what nerve's vision datasets return);
* a PIL image, when Pillow is installed (what torchvision's datasets return);
* a ``nerve.Tensor`` of shape ``(..., C, H, W)`` (after ``to_tensor``); tensor transforms are built
  from nerve ops, so they are differentiable.

Geometric transforms return the same kind of image they were given.
"""
from __future__ import annotations

import numbers

import numpy as np

from ...autograd.tensor import Tensor, wrap
from ...backend import array_module
from ...backend import dtypes as _dt

__all__ = ["to_tensor", "normalize", "hflip", "vflip", "crop", "center_crop", "pad", "get_dimensions",
           "get_image_size", "get_image_num_channels", "to_pil_image"]


def _pil_image_module():
    try:
        from PIL import Image
    except ImportError:  # Pillow is optional
        return None
    return Image


def _is_pil_image(img) -> bool:
    Image = _pil_image_module()
    return Image is not None and isinstance(img, Image.Image)


def _pil_to_numpy(pic) -> np.ndarray:
    arr = np.array(pic, copy=True)
    if pic.mode == "1":
        arr = arr.astype(np.uint8) * 255
    return arr


def _from_numpy_like_pil(arr: np.ndarray, like):
    Image = _pil_image_module()
    out = Image.fromarray(np.ascontiguousarray(arr))
    return out if out.mode == like.mode or like.mode not in ("L", "RGB", "RGBA") else out.convert(like.mode)


def _type_error(op, img):
    return TypeError(f"{op}: img should be a NumPy array (H x W or H x W x C), a PIL Image or a nerve.Tensor "
                     f"(..., C, H, W); got {type(img).__name__}")


def get_dimensions(img):
    """``[channels, height, width]`` of an image."""
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError(f"get_dimensions: a tensor image needs at least 2 dims, got shape {tuple(img.shape)}")
        c = 1 if img.ndim == 2 else img.shape[-3]
        return [c, img.shape[-2], img.shape[-1]]
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"get_dimensions: a NumPy image must be H x W or H x W x C, got shape {img.shape}")
        return [1 if img.ndim == 2 else img.shape[2], img.shape[0], img.shape[1]]
    if _is_pil_image(img):
        w, h = img.size
        return [len(img.getbands()), h, w]
    raise _type_error("get_dimensions", img)


def get_image_size(img):
    """``[width, height]`` of an image (torchvision's order)."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img) -> int:
    return get_dimensions(img)[0]


def to_tensor(pic) -> Tensor:
    """A ``C x H x W`` tensor from an image; uint8 data is scaled to float in ``[0, 1]``.

    Accepts a PIL image, a NumPy array or a ``nerve.Tensor`` laid out ``H x W`` or ``H x W x C``
    (image layout, as a decoded file is). Other dtypes keep their values and dtype, as in torchvision.

    Example:
        >>> to_tensor(np.zeros((28, 28), np.uint8)).shape
        nerve.Size([1, 28, 28])
    """
    if _is_pil_image(pic):
        arr = _pil_to_numpy(pic)
    elif isinstance(pic, Tensor):
        arr = pic.numpy(force=True)
    elif isinstance(pic, np.ndarray):
        arr = pic
    else:
        raise TypeError(f"to_tensor: pic should be a PIL Image, a NumPy array or a nerve.Tensor (H x W or "
                        f"H x W x C); got {type(pic).__name__}")
    if arr.ndim not in (2, 3):
        raise ValueError(f"to_tensor: pic should be 2 or 3 dimensional (H x W or H x W x C), got {arr.ndim} "
                         f"dimensions (shape {arr.shape})")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return wrap(_hwc_to_chw(arr))


def _hwc_to_chw(arr: np.ndarray) -> np.ndarray:
    """(..., H, W, C) -> (..., C, H, W), uint8 scaled into [0, 1] in the default float dtype."""
    nd = arr.ndim
    perm = tuple(range(nd - 3)) + (nd - 1, nd - 3, nd - 2)
    out = np.ascontiguousarray(arr.transpose(perm))
    if out.dtype == np.uint8:
        out = out.astype(_dt.default_np_dtype()) / 255
    elif out.dtype == np.bool_:
        out = out.astype(_dt.default_np_dtype())
    return out


def _mean_std(mean, std, np_dtype, nchan, op="normalize"):
    mean = np.asarray(mean.numpy(force=True) if isinstance(mean, Tensor) else mean, dtype=np_dtype).reshape(-1)
    std = np.asarray(std.numpy(force=True) if isinstance(std, Tensor) else std, dtype=np_dtype).reshape(-1)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {_dt.from_numpy_dtype(np_dtype)}, leading to "
                         "division by zero.")
    for name, v in (("mean", mean), ("std", std)):
        if v.size not in (1, nchan):
            raise ValueError(f"{op}: {name} has {v.size} values but the image has {nchan} channels "
                             "(give one value per channel, or one for all)")
    return mean, std


def normalize(tensor, mean, std, inplace: bool = False) -> Tensor:
    """``(tensor - mean[c]) / std[c]`` for each channel c of a float ``(..., C, H, W)`` tensor.

    Gradient: ``g / std[c]`` (it is built from nerve's differentiable sub and div).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tuple(tensor.shape)}")
    m, s = _mean_std(mean, std, tensor._data.dtype, tensor.shape[-3])
    xp = array_module(tensor._data)  # mean/std live on the tensor's device
    mt = wrap(xp.asarray(m.reshape(-1, 1, 1)))
    st = wrap(xp.asarray(s.reshape(-1, 1, 1)))
    if inplace:
        return tensor.sub_(mt).div_(st)
    return (tensor - mt) / st


def _hw_axes(img):
    """(H axis, W axis) of an image of any accepted kind."""
    return (-2, -1) if isinstance(img, Tensor) else (0, 1)


def hflip(img):
    """Mirror an image left to right."""
    if isinstance(img, Tensor):
        return img.flip(-1)
    if isinstance(img, np.ndarray):
        return np.ascontiguousarray(img[:, ::-1])
    if _is_pil_image(img):
        return _from_numpy_like_pil(_pil_to_numpy(img)[:, ::-1].copy(), img)
    raise _type_error("hflip", img)


def vflip(img):
    """Mirror an image top to bottom."""
    if isinstance(img, Tensor):
        return img.flip(-2)
    if isinstance(img, np.ndarray):
        return np.ascontiguousarray(img[::-1])
    if _is_pil_image(img):
        return _from_numpy_like_pil(_pil_to_numpy(img)[::-1].copy(), img)
    raise _type_error("vflip", img)


def _parse_padding(padding, op="pad"):
    """torchvision's padding: int, (lr, tb) or (left, top, right, bottom) -> (left, top, right, bottom)."""
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return p, p, p, p
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        return (padding[0],) * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return tuple(padding)
    raise ValueError(f"{op}: padding must be an int or a sequence of 1, 2 or 4 ints, got {len(padding)} values")


_NP_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}
_NERVE_MODES = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}


def _pad_array(arr, left, top, right, bottom, fill, padding_mode, h_axis, w_axis):
    widths = [(0, 0)] * arr.ndim
    widths[h_axis] = (top, bottom)
    widths[w_axis] = (left, right)
    if padding_mode == "constant":
        return np.pad(arr, widths, mode="constant", constant_values=fill)
    return np.pad(arr, widths, mode=_NP_MODES[padding_mode])


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad an image's borders. ``padding``: int, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.

    ``padding_mode``: 'constant' (with ``fill``), 'edge', 'reflect' or 'symmetric'.
    """
    if padding_mode not in _NP_MODES:
        raise ValueError(f"pad: padding_mode should be one of 'constant', 'edge', 'reflect' or 'symmetric', got "
                         f"{padding_mode!r}")
    left, top, right, bottom = _parse_padding(padding)
    if isinstance(img, Tensor):
        if padding_mode in _NERVE_MODES and min(left, top, right, bottom) >= 0:
            from ...nn import functional as F
            if padding_mode == "constant":
                return F.pad(img, (left, right, top, bottom), mode="constant", value=fill)
            return F.pad(img, (left, right, top, bottom), mode=_NERVE_MODES[padding_mode])
        return wrap(_pad_array(img.numpy(force=True), left, top, right, bottom, fill, padding_mode, -2, -1))
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"pad: a NumPy image must be H x W or H x W x C, got shape {img.shape}")
        return _pad_array(img, left, top, right, bottom, fill, padding_mode, 0, 1)
    if _is_pil_image(img):
        return _from_numpy_like_pil(_pad_array(_pil_to_numpy(img), left, top, right, bottom, fill, padding_mode,
                                               0, 1), img)
    raise _type_error("pad", img)


def crop(img, top: int, left: int, height: int, width: int):
    """The ``height x width`` region whose top-left corner is ``(top, left)``; zero-padded where it leaves the image."""
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        pads = (max(-left, 0), max(-top, 0), max(right - w, 0), max(bottom - h, 0))
        img = pad(img, pads, fill=0)
        top, left = top + pads[1], left + pads[0]
    if isinstance(img, Tensor):
        return img[..., top:top + height, left:left + width]
    if isinstance(img, np.ndarray):
        return np.ascontiguousarray(img[top:top + height, left:left + width])
    return _from_numpy_like_pil(np.ascontiguousarray(_pil_to_numpy(img)[top:top + height, left:left + width]), img)


def _setup_size(size, op):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"{op}: please provide only two dimensions (h, w) for size, got {size}")
    return size


def center_crop(img, output_size):
    """The central ``output_size`` (int or ``(h, w)``) region, zero-padded if the image is smaller."""
    th, tw = _setup_size(output_size, "center_crop")
    _, h, w = get_dimensions(img)
    top = int(round((h - th) / 2.0))
    left = int(round((w - tw) / 2.0))
    return crop(img, top, left, th, tw)


def to_pil_image(pic, mode=None):
    """A PIL image from a ``C x H x W`` tensor or an ``H x W (x C)`` array (needs Pillow)."""
    Image = _pil_image_module()
    if Image is None:
        raise ImportError("to_pil_image needs Pillow: pip install Pillow")
    if isinstance(pic, Tensor):
        arr = pic.numpy(force=True)
        if arr.ndim == 3:
            arr = arr.transpose(1, 2, 0)
        if arr.dtype.kind == "f":
            arr = (arr * 255).clip(0, 255).astype(np.uint8)
    else:
        arr = np.asarray(pic)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    img = Image.fromarray(np.ascontiguousarray(arr))
    return img if mode is None or img.mode == mode else img.convert(mode)
