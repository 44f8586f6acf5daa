"""Image grids and PNG output (``torchvision.utils.make_grid`` / ``save_image``)."""
from __future__ import annotations

import math
import os
import struct
import zlib

import numpy as np

from ..autograd.tensor import Tensor, wrap

__all__ = ["make_grid", "save_image", "write_png"]


def _to_array(tensor, op) -> np.ndarray:
    if isinstance(tensor, Tensor):
        return tensor.numpy(force=True)
    if isinstance(tensor, np.ndarray):
        return tensor
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise ValueError(f"{op}: got an empty list of images")
        arrs = [_to_array(t, op) for t in tensor]
        shapes = {a.shape for a in arrs}
        if len(shapes) != 1:
            raise RuntimeError(f"{op}: all images must have the same shape to be stacked, got {sorted(shapes)}")
        return np.stack(arrs)
    raise TypeError(f"{op}: tensor should be a nerve.Tensor or a list of them, got {type(tensor).__name__}")


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False, value_range=None,
              scale_each: bool = False, pad_value: float = 0.0, **kwargs) -> Tensor:
    """Tile a batch of images ``B x C x H x W`` (or a list of ``C x H x W`` images) into one ``C x H' x W'`` image.

    ``nrow`` images per row, ``padding`` pixels of ``pad_value`` around each. One-channel images are
    repeated to three channels, as torchvision does. With ``normalize``, values are shifted and scaled
    into [0, 1] using ``value_range=(min, max)`` (default: the min and max of the batch, or of each
    image with ``scale_each``). The layout matches torchvision's: the grid is
    ``(pad + ymaps * (H + pad)) x (pad + xmaps * (W + pad))`` with ``xmaps = min(nrow, B)``.

    Example:
        >>> grid = make_grid(images[:64], nrow=8, normalize=True)   # (3, 242, 242) for 28 x 28 images
    """
    if "range" in kwargs:
        value_range = kwargs.pop("range")
    if kwargs:
        raise TypeError(f"make_grid() got an unexpected keyword argument {next(iter(kwargs))!r}")
    arr = _to_array(tensor, "make_grid")
    if arr.ndim == 2:  # a single H x W image
        arr = arr[None]
    if arr.ndim == 3:  # a single C x H x W image
        if arr.shape[0] == 1:
            arr = np.concatenate((arr, arr, arr), 0)
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"make_grid: expected a batch of images B x C x H x W (or C x H x W, or H x W), got shape "
                         f"{arr.shape}")
    if arr.shape[1] == 1:
        arr = np.concatenate((arr, arr, arr), 1)

    if normalize is True:
        arr = arr.astype(arr.dtype if arr.dtype.kind == "f" else np.float32, copy=True)
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")

        def norm_range(a):
            low, high = (float(a.min()), float(a.max())) if value_range is None else value_range
            np.clip(a, low, high, out=a)
            a -= low
            a /= max(high - low, 1e-5)

        if scale_each is True:
            for img in arr:
                norm_range(img)
        else:
            norm_range(arr)

    if arr.shape[0] == 1:
        return wrap(np.ascontiguousarray(arr[0]))
    nmaps = arr.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(arr.shape[2] + padding), int(arr.shape[3] + padding)
    num_channels = arr.shape[1]
    grid = np.full((num_channels, height * ymaps + padding, width * xmaps + padding), pad_value, dtype=arr.dtype)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            top, left = y * height + padding, x * width + padding
            grid[:, top:top + height - padding, left:left + width - padding] = arr[k]
            k += 1
    return wrap(grid)


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def write_png(fp, image: np.ndarray) -> None:
    """Write a uint8 ``H x W`` (gray), ``H x W x 3`` (RGB) or ``H x W x 4`` (RGBA) array as a PNG.

    Needs only zlib: 8-bit samples, no interlacing, filter type 0 on every row.
    """
    img = np.ascontiguousarray(image, dtype=np.uint8)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 2:
        color_type = 0
    elif img.ndim == 3 and img.shape[2] in (3, 4):
        color_type = 2 if img.shape[2] == 3 else 6
    else:
        raise ValueError(f"write_png: expected an H x W, H x W x 3 or H x W x 4 image, got shape {img.shape}")
    h, w = img.shape[:2]
    rows = img.reshape(h, -1)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()  # filter byte 0 per row
    png = (b"\x89PNG\r\n\x1a\n"
           + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
           + _png_chunk(b"IDAT", zlib.compress(raw, 6))
           + _png_chunk(b"IEND", b""))
    if hasattr(fp, "write"):
        fp.write(png)
        return
    path = os.fspath(fp)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(png)
    os.replace(tmp, path)


def save_image(tensor, fp, format: str | None = None, **kwargs) -> None:
    """Save a tensor (or a batch, tiled with :func:`make_grid`, whose keyword arguments it takes) as an image.

    Values are expected in [0, 1] (use ``normalize=True`` otherwise) and are written as
    ``round(255 * x)``, clamped. PNG is written with Pillow if installed, else with matplotlib if
    installed, else with a built-in zlib PNG writer; other formats need Pillow or matplotlib.

    Example:
        >>> save_image(fake_images, "samples.png", nrow=8, normalize=True)
    """
    grid = make_grid(tensor, **kwargs).numpy(force=True)
    ndarr = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8)
    ndarr = ndarr.transpose(1, 2, 0) if ndarr.ndim == 3 else ndarr
    fmt = format
    if fmt is None and not hasattr(fp, "write"):
        ext = os.path.splitext(os.fspath(fp))[1].lower().lstrip(".")
        fmt = ext or "png"
    fmt = (fmt or "png").lower()
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        Image.fromarray(ndarr[:, :, 0] if ndarr.ndim == 3 and ndarr.shape[2] == 1 else ndarr).save(fp, format=format)
        return
    if fmt == "png":
        write_png(fp, ndarr)
        return
    try:
        import matplotlib
        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError(f"save_image: format {fmt!r} needs Pillow or matplotlib (pip install Pillow); without them "
                         "only PNG can be written") from None
    plt.imsave(fp, ndarr[:, :, 0] if ndarr.ndim == 3 and ndarr.shape[2] == 1 else ndarr, format=fmt,
               cmap="gray" if ndarr.ndim == 2 or ndarr.shape[2] == 1 else None)
