"""Functional image transforms (``torchvision.transforms.functional``).

Images are one of:

* a NumPy array, ``H x W`` or ``H x W x C`` (what nerve's vision datasets return);
* a PIL image, when Pillow is installed (what torchvision's datasets return);
* a ``nerve.Tensor`` of shape ``(..., C, H, W)`` (after ``to_tensor``); tensor transforms are built
  from nerve ops, so they are differentiable.

Geometric transforms return the same kind of image they were given.
"""
from __future__ import annotations

import enum
import numbers

import numpy as np

from ...autograd.tensor import Tensor, wrap
from ...backend import array_module
from ...backend import dtypes as _dt

__all__ = ["to_tensor", "normalize", "hflip", "vflip", "crop", "center_crop", "pad", "get_dimensions",
           "get_image_size", "get_image_num_channels", "to_pil_image", "InterpolationMode", "rotate", "affine",
           "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "rgb_to_grayscale", "erase",
           "gaussian_noise"]


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


# ============================================================================ augmentation
# The kernels below work on arrays laid out ``(N, C, H, W)``; ``_to_nchw`` brings any accepted image there
# and back, so one implementation serves the per-image functions and the transforms' batch path.
# Results are new arrays (wrapped into tensors for tensor inputs): they are not tracked by autograd.

class InterpolationMode(str, enum.Enum):
    """Interpolation for geometric transforms (``torchvision.transforms.InterpolationMode``)."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _interp_name(interpolation, op):
    if isinstance(interpolation, enum.Enum):
        interpolation = interpolation.value
    if isinstance(interpolation, int) and not isinstance(interpolation, bool):
        interpolation = {0: "nearest", 2: "bilinear"}.get(interpolation, interpolation)  # PIL's resample codes
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"{op}: interpolation mode {interpolation!r} is unsupported; use 'nearest' or 'bilinear' "
                         "(InterpolationMode.NEAREST / BILINEAR)")
    return interpolation


def _to_nchw(img, op):
    """``(array (N, C, H, W), back)``: ``back(out)`` turns a result array into the kind of image ``img`` was."""
    if isinstance(img, Tensor):
        arr = img._data
        if arr.ndim < 2:
            raise TypeError(f"{op}: a tensor image needs at least 2 dims (..., H, W), got shape {tuple(arr.shape)}")
        if arr.ndim == 2:
            return arr[None, None], lambda out: wrap(out[0, 0])
        lead = arr.shape[:-3]
        return arr.reshape((-1,) + arr.shape[-3:]), lambda out: wrap(out.reshape(lead + out.shape[1:]))
    if isinstance(img, np.ndarray):
        if img.ndim == 2:
            return img[None, None], lambda out: np.ascontiguousarray(out[0, 0])
        if img.ndim == 3:
            return img.transpose(2, 0, 1)[None], lambda out: np.ascontiguousarray(out[0].transpose(1, 2, 0))
        raise ValueError(f"{op}: a NumPy image must be H x W or H x W x C, got shape {img.shape}")
    if _is_pil_image(img):
        arr, back = _to_nchw(_pil_to_numpy(img), op)
        return arr, lambda out: _from_numpy_like_pil(back(out), img)
    raise _type_error(op, img)


def _max_value(dtype) -> float:
    """The value of a fully bright pixel: 1 for floats, the dtype's max for integers (torchvision's convention)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        return float(np.iinfo(dtype).max)
    return 1.0


def _work_dtype(dtype):
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" else np.dtype(np.float32)


def _cast_back(out, dtype, round_ints):
    """Cast a float result to the image dtype: integer images are rounded (grid sampling) or truncated (blends)."""
    dtype = np.dtype(dtype)
    if dtype == out.dtype:
        return out
    if dtype.kind in "uib" and round_ints:
        xp = array_module(out)
        out = xp.rint(out)
    return out.astype(dtype)


def _check_fill(fill, nchan, op):
    if fill is None:
        return None
    if isinstance(fill, Tensor):
        fill = fill.tolist()
    if isinstance(fill, numbers.Number):
        return np.full(nchan, float(fill))
    if not isinstance(fill, (tuple, list)):
        raise TypeError(f"{op}: fill should be a number or a sequence of numbers, got {type(fill).__name__}")
    fill = [float(f) for f in fill]
    if len(fill) == 1:
        return np.full(nchan, fill[0])
    if len(fill) != nchan:
        raise ValueError(f"{op}: the number of elements in 'fill' cannot broadcast to match the number of channels of "
                         f"the image ({len(fill)} != {nchan})")
    return np.asarray(fill)


def _inverse_affine_matrix(center, angle, translate, scale, shear):
    """Inverse of ``T * C * R(angle) * S(scale) * Shy * Shx * C^-1`` as ``(..., 2, 3)`` (angles in degrees).

    Every argument may be an array of per-image values (``center``/``translate``/``shear``: ``(..., 2)``).
    The matrix maps output pixel positions to input positions, both relative to the image centre.
    """
    rot = np.radians(np.asarray(angle, dtype=np.float64))
    shear = np.radians(np.asarray(shear, dtype=np.float64))
    sx, sy = shear[..., 0], shear[..., 1]
    cx, cy = np.asarray(center, dtype=np.float64)[..., 0], np.asarray(center, dtype=np.float64)[..., 1]
    tx, ty = np.asarray(translate, dtype=np.float64)[..., 0], np.asarray(translate, dtype=np.float64)[..., 1]
    scale = np.asarray(scale, dtype=np.float64)
    cos_sy = np.cos(sy)
    if np.any(cos_sy == 0):
        raise ValueError("affine: zero division error, math.cos(shear_y) = 0")
    a = np.cos(rot - sy) / cos_sy
    b = -np.cos(rot - sy) * np.tan(sx) / cos_sy - np.sin(rot)
    c = np.sin(rot - sy) / cos_sy
    d = -np.sin(rot - sy) * np.tan(sx) / cos_sy + np.cos(rot)
    # The rotation-shear part has determinant 1, so its inverse is the adjugate.
    m00, m01, m10, m11 = d / scale, -b / scale, -c / scale, a / scale
    m02 = m00 * (-cx - tx) + m01 * (-cy - ty) + cx
    m12 = m10 * (-cx - tx) + m11 * (-cy - ty) + cy
    return np.stack([np.stack([m00, m01, m02], -1), np.stack([m10, m11, m12], -1)], -2)


def _warp(arr, theta, oh, ow, mode, fill):
    """Sample ``arr`` (N, C, H, W) at ``theta @ (x, y, 1)`` for each output pixel centre (x, y) relative to the centre.

    ``theta`` is ``(2, 3)`` or ``(N, 2, 3)``. Matches ``grid_sample(..., align_corners=False, padding_mode='zeros')``
    as torchvision uses it: nearest rounds half to even; outside pixels read 0, then ``fill`` (None, or one
    value per channel) is blended in with the sampled in-image mask.
    """
    xp = array_module(arr)
    n, c, h, w = arr.shape
    theta = np.broadcast_to(np.asarray(theta, dtype=np.float64), (n, 2, 3))
    xs = np.arange(ow) - ow * 0.5 + 0.5
    ys = np.arange(oh) - oh * 0.5 + 0.5
    t = theta[:, :, :, None, None]
    # Source positions in pixel-index units: centred coordinate + (size - 1) / 2.
    ix = t[:, 0, 0] * xs + t[:, 0, 1] * ys[:, None] + t[:, 0, 2] + (w * 0.5 - 0.5)
    iy = t[:, 1, 0] * xs + t[:, 1, 1] * ys[:, None] + t[:, 1, 2] + (h * 0.5 - 0.5)
    wdt = _work_dtype(arr.dtype)
    flat = arr.reshape(n, c, h * w)
    fill_arr = None if fill is None else xp.asarray(np.asarray(fill, dtype=wdt).reshape(1, c, 1))

    def gather(yi, xi):
        valid = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        idx = np.where(valid, yi.clip(0, h - 1) * w + xi.clip(0, w - 1), 0).reshape(n, 1, oh * ow)
        vals = xp.take_along_axis(flat, xp.asarray(idx), axis=2).astype(wdt, copy=False)
        return vals, xp.asarray(valid.reshape(n, 1, oh * ow))

    if mode == "nearest":
        vals, valid = gather(np.rint(iy).astype(np.int64), np.rint(ix).astype(np.int64))
        out = xp.where(valid, vals, xp.zeros((), wdt) if fill_arr is None else fill_arr)
    else:
        x0, y0 = np.floor(ix), np.floor(iy)
        fx, fy = (ix - x0).reshape(n, 1, -1), (iy - y0).reshape(n, 1, -1)
        x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
        out = xp.zeros((n, c, oh * ow), wdt)
        mask = xp.zeros((n, 1, oh * ow), wdt)
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                vals, valid = gather(y0 + dy, x0 + dx)
                wgt = xp.asarray((wy * wx).astype(wdt)) * valid
                out += wgt * vals
                mask += wgt
        if fill_arr is not None:
            out = out * mask + (1 - mask) * fill_arr
    return _cast_back(out.reshape(n, c, oh, ow), arr.dtype, round_ints=True)


def _affine_output_size(theta, w, h):
    """``(ow, oh)`` of the box holding the transformed image corners (``expand=True``), as torchvision computes it."""
    # float32 as torchvision computes it: the rounding below then gives the same sizes.
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    new = pts @ np.asarray(theta, dtype=np.float32).reshape(2, 3).T
    half = np.array([w * 0.5, h * 0.5], dtype=np.float32)
    lo, hi = new.min(0) + half, new.max(0) + half
    tol = np.float32(1e-4)  # so that 1e-7 above an integer does not ceil to the next one
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


def _centre_offset(center, w, h):
    if center is None:
        return [0.0, 0.0]
    if not isinstance(center, (list, tuple)) or len(center) != 2:
        raise TypeError(f"center should be a sequence of two numbers (x, y), got {center!r}")
    return [float(center[0]) - w * 0.5, float(center[1]) - h * 0.5]


def rotate(img, angle: float, interpolation="nearest", expand: bool = False, center=None, fill=None):
    """Rotate an image by ``angle`` degrees counter-clockwise about ``center`` (default: the image centre).

    Args:
        interpolation: 'nearest' or 'bilinear' (or an :class:`InterpolationMode`).
        expand: grow the output to hold the whole rotated image (otherwise it keeps the input size).
        center: ``(x, y)`` pixel position to rotate about.
        fill: value (or per-channel values) for pixels that come from outside the image; None reads 0.

    Example:
        >>> rotate(np.array([[1, 2], [3, 4]], np.uint8), 90)     # [[2, 4], [1, 3]], as np.rot90
    """
    if not isinstance(angle, numbers.Number):
        raise TypeError("rotate: argument angle should be int or float")
    mode = _interp_name(interpolation, "rotate")
    arr, back = _to_nchw(img, "rotate")
    _, c, h, w = arr.shape
    # rotate is counter-clockwise while affine's angle is clockwise, hence -angle (as torchvision does).
    theta = _inverse_affine_matrix(_centre_offset(center, w, h), -float(angle), [0.0, 0.0], 1.0, [0.0, 0.0])
    ow, oh = _affine_output_size(theta, w, h) if expand else (w, h)
    return back(_warp(arr, theta, oh, ow, mode, _check_fill(fill, c, "rotate")))


def _parse_shear(shear, op="affine"):
    if isinstance(shear, numbers.Number):
        return [float(shear), 0.0]
    if not isinstance(shear, (list, tuple)):
        raise TypeError(f"{op}: shear should be either a single value or a sequence of two values")
    if len(shear) == 1:
        return [float(shear[0])] * 2
    if len(shear) != 2:
        raise ValueError(f"{op}: shear should be a sequence containing two values. Got {shear}")
    return [float(s) for s in shear]


def affine(img, angle: float, translate, scale: float, shear, interpolation="nearest", fill=None, center=None):
    """Rotate (clockwise, degrees), scale, shear (degrees) and translate (pixels) an image, keeping its centre fixed.

    Each output pixel is mapped through the inverse of ``T * C * R * S * Shear * C^-1`` and sampled
    ('nearest' or 'bilinear'); pixels from outside the image read ``fill`` (None: 0).
    """
    if not isinstance(angle, numbers.Number):
        raise TypeError("affine: argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("affine: argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("affine: argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("affine: argument scale should be positive")
    sh = _parse_shear(shear)
    mode = _interp_name(interpolation, "affine")
    arr, back = _to_nchw(img, "affine")
    _, c, h, w = arr.shape
    theta = _inverse_affine_matrix(_centre_offset(center, w, h), float(angle), [float(t) for t in translate],
                                   float(scale), sh)
    return back(_warp(arr, theta, h, w, mode, _check_fill(fill, c, "affine")))


# ---------------------------------------------------------------------------- colour
def _check_channels(arr, op):
    c = arr.shape[1]
    if c not in (1, 3):
        raise TypeError(f"{op}: input image permitted channel values are [1, 3], but found {c}")


def _blend(a, b, ratio):
    """``ratio * a + (1 - ratio) * b`` clamped to the image range and cast back (truncating, as torchvision)."""
    wdt = _work_dtype(a.dtype)
    # A per-image ratio (batch path) is an (N,) array.
    ratio = wdt.type(ratio) if isinstance(ratio, numbers.Number) else np.asarray(ratio, dtype=wdt).reshape(-1, 1, 1, 1)
    out = ratio * a.astype(wdt, copy=False) + (1 - ratio) * b
    return out.clip(0, _max_value(a.dtype)).astype(a.dtype, copy=False)


def _gray(arr):
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` of (N, 3, H, W) as (N, 1, H, W), in the image dtype."""
    wdt = _work_dtype(arr.dtype)
    x = arr.astype(wdt, copy=False)
    g = wdt.type(0.2989) * x[:, 0:1] + wdt.type(0.587) * x[:, 1:2] + wdt.type(0.114) * x[:, 2:3]
    return g.astype(arr.dtype, copy=False)


def _brightness(arr, f):
    return _blend(arr, array_module(arr).zeros((), _work_dtype(arr.dtype)), f)


def _contrast(arr, f):
    wdt = _work_dtype(arr.dtype)
    g = _gray(arr) if arr.shape[1] == 3 else arr
    mean = g.astype(wdt, copy=False).mean(axis=(1, 2, 3), keepdims=True)
    return _blend(arr, mean, f)


def _saturation(arr, f):
    return arr if arr.shape[1] == 1 else _blend(arr, _gray(arr), f)


def _rgb2hsv(x):
    xp = array_module(x)
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    maxc, minc = x.max(axis=1), x.min(axis=1)
    eqc = maxc == minc
    cr = maxc - minc
    one = xp.ones_like(maxc)
    s = cr / xp.where(eqc, one, maxc)
    crd = xp.where(eqc, one, cr)
    rc, gc, bc = (maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = xp.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return h.astype(x.dtype, copy=False), s, maxc


def _hsv2rgb(h, s, v):
    xp = array_module(h)
    i = xp.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int64) % 6
    p = (v * (1.0 - s)).clip(0.0, 1.0)
    q = (v * (1.0 - s * f)).clip(0.0, 1.0)
    t = (v * (1.0 - s * (1.0 - f))).clip(0.0, 1.0)
    r = xp.choose(i, [v, q, p, p, t, v])
    g = xp.choose(i, [t, v, v, q, p, p])
    b = xp.choose(i, [p, p, t, v, v, q])
    return xp.stack([r, g, b], axis=1).astype(h.dtype, copy=False)


def _hue(arr, f):
    if arr.shape[1] == 1:
        return arr
    dtype = arr.dtype
    x = arr.astype(np.float32) / np.float32(_max_value(dtype)) if dtype.kind != "f" else arr
    h, s, v = _rgb2hsv(x)
    f = f if isinstance(f, numbers.Number) else np.asarray(f, dtype=x.dtype).reshape(-1, 1, 1)
    out = _hsv2rgb((h + f) % 1.0, s, v)
    if dtype.kind != "f":  # torchvision's convert_image_dtype from float
        out = (out * np.float32(_max_value(dtype) + 1.0 - 1e-3)).astype(dtype)
    return out


def _color_op(img, op, fn, factor):
    arr, back = _to_nchw(img, op)
    _check_channels(arr, op)
    return back(fn(arr, float(factor)))


def adjust_brightness(img, brightness_factor: float):
    """``clamp(factor * img, 0, max)``: 0 gives black, 1 the original image."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    return _color_op(img, "adjust_brightness", _brightness, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    """``clamp(factor * img + (1 - factor) * mean(grayscale(img)), 0, max)``: 0 gives a uniform grey image."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    return _color_op(img, "adjust_contrast", _contrast, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    """Blend an RGB image with its grayscale version (0: grayscale, 1: original); 1-channel images are unchanged."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    return _color_op(img, "adjust_saturation", _saturation, saturation_factor)


def adjust_hue(img, hue_factor: float):
    """Shift the hue of an RGB image by ``hue_factor`` turns (in [-0.5, 0.5]); 1-channel images are unchanged."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    return _color_op(img, "adjust_hue", _hue, hue_factor)


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """``0.2989 R + 0.587 G + 0.114 B`` as 1 (or 3 identical) channels."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    arr, back = _to_nchw(img, "rgb_to_grayscale")
    _check_channels(arr, "rgb_to_grayscale")
    g = _gray(arr) if arr.shape[1] == 3 else arr.copy()
    if num_output_channels == 3:
        g = g.repeat(3, axis=1)
    return back(g)


# ---------------------------------------------------------------------------- erasing and noise
def erase(img, i: int, j: int, h: int, w: int, v, inplace: bool = False):
    """Set the ``h x w`` box at row ``i``, column ``j`` to ``v`` (a number, or values broadcastable to (C, h, w)).

    Tensors ``(..., C, H, W)``; NumPy images are ``H x W (x C)`` and ``v`` then broadcasts to ``(h, w, C)``.
    """
    if isinstance(img, Tensor):
        val = v._data if isinstance(v, Tensor) else np.asarray(v)
        if not inplace:
            out = img._data.copy()
            out[..., i:i + h, j:j + w] = val
            return wrap(out)
        img[..., i:i + h, j:j + w] = wrap(np.broadcast_to(val, img.shape[:-2] + (h, w)).astype(img._data.dtype))
        return img
    if isinstance(img, np.ndarray):
        out = img if inplace else img.copy()
        out[i:i + h, j:j + w] = v
        return out
    raise TypeError(f"erase: img should be a nerve.Tensor (..., C, H, W) or a NumPy image. Got {type(img)}")


def gaussian_noise(inpt, mean: float = 0.0, sigma: float = 0.1, clip: bool = True):
    """``inpt + mean + sigma * N(0, 1)`` (then clamped to [0, 1] if ``clip``) for float images (torchvision v2)."""
    from ...backend.random import rng
    if sigma < 0:
        raise ValueError(f"sigma shouldn't be negative. Got {sigma}")
    arr = inpt._data if isinstance(inpt, Tensor) else inpt
    if not isinstance(arr, np.ndarray) and not hasattr(arr, "dtype"):
        raise _type_error("gaussian_noise", inpt)
    if arr.dtype.kind != "f":
        raise ValueError(f"Input tensor is expected to be in float dtype, got dtype={arr.dtype}")
    out = _gaussian_noise_arr(arr, mean, sigma, clip, rng(None))
    return wrap(out) if isinstance(inpt, Tensor) else out


def _gaussian_noise_arr(arr, mean, sigma, clip, r):
    xp = array_module(arr)
    noise = xp.asarray(r.standard_normal(arr.shape, dtype=arr.dtype if arr.dtype in (np.float32, np.float64)
                                         else np.float32))
    out = arr + (arr.dtype.type(mean) + noise.astype(arr.dtype, copy=False) * arr.dtype.type(sigma))
    return out.clip(0, 1) if clip else out
