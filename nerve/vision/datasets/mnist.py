"""MNIST and Fashion-MNIST from IDX files (``torchvision.datasets.MNIST`` / ``FashionMNIST``).

The four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte``), gzipped or not, are looked for in this order:

1. ``root/<Name>/raw`` (torchvision's layout, where ``download=True`` writes), ``root/<Name>``, ``root``;
2. the same three under ``$NERVE_DATA``;
3. system folders: Debian's ``dataset-fashion-mnist`` package installs Fashion-MNIST into
   ``/usr/share/datasets/fashion-mnist``.

With ``download=True`` and no files found, they are downloaded from the mirrors, checked against
torchvision's MD5 checksums and written atomically into ``root/<Name>/raw``.

Unlike torchvision, samples are NumPy ``uint8`` arrays of shape ``28 x 28`` rather than PIL images
(Pillow is optional); ``transforms.ToTensor`` accepts both.
"""
from __future__ import annotations

import gzip
import os
import struct
import warnings
import zlib

import numpy as np

from ...autograd.tensor import Tensor, wrap
from ...utils.data.dataset import _index_array
from ..transforms import _apply_batch, _batchable
from .utils import download_url
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "read_idx_file", "read_image_file", "read_label_file"]

# IDX type codes -> big-endian NumPy dtypes (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
_IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class IDXFormatError(RuntimeError):
    """An IDX file is malformed: bad magic number, truncated, or sizes that do not add up."""


def _read_bytes(path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file's name
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:
            raise IDXFormatError(f"{path}: corrupt or truncated gzip data ({e}); delete the file and download or "
                                 "copy it again") from None
    return raw


def read_idx_file(path, expected_ndim: int | None = None, expected_type: int | None = None) -> np.ndarray:
    """Parse an IDX file (gzipped or raw) into a NumPy array in native byte order.

    The header is ``0x00 0x00 <type code> <ndim>`` then ``ndim`` big-endian uint32 sizes; the data
    that follows must be exactly ``prod(sizes)`` items.

    Raises:
        IDXFormatError: bad magic number, unexpected dims or type, truncated data or trailing bytes.
    """
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IDXFormatError(f"{path}: file too short for an IDX header ({len(raw)} bytes; truncated?)")
    magic = struct.unpack(">I", raw[:4])[0]
    code, ndim = raw[2], raw[3]
    if raw[0] != 0 or raw[1] != 0 or code not in _IDX_TYPES or ndim == 0:
        raise IDXFormatError(f"{path}: not an IDX file (magic number 0x{magic:08X}; expected 0x0000TTDD with a "
                             f"type code TT in {{08, 09, 0B, 0C, 0D, 0E}} and DD >= 1 dims)")
    if expected_type is not None and code != expected_type:
        raise IDXFormatError(f"{path}: IDX type code 0x{code:02X} (magic 0x{magic:08X}), expected "
                             f"0x{expected_type:02X} (magic 0x{(expected_type << 8) | (expected_ndim or ndim):08X})")
    if expected_ndim is not None and ndim != expected_ndim:
        raise IDXFormatError(f"{path}: IDX file has {ndim} dims (magic 0x{magic:08X}), expected {expected_ndim} "
                             f"(magic 0x{((expected_type or code) << 8) | expected_ndim:08X}); is this the right file?")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{path}: truncated IDX header ({len(raw)} bytes, the header needs {header})")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    dt = _IDX_TYPES[code]
    count = int(np.prod(dims, dtype=np.int64))
    expected = count * dt.itemsize
    found = len(raw) - header
    if found < expected:
        raise IDXFormatError(f"{path}: truncated IDX file: shape {tuple(dims)} needs {expected} bytes of data, found "
                             f"{found}; delete the file and download or copy it again")
    if found > expected:
        raise IDXFormatError(f"{path}: corrupt IDX file: {found - expected} unexpected bytes after the {expected} "
                             f"bytes of data for shape {tuple(dims)}")
    arr = np.frombuffer(raw, dtype=dt, count=count, offset=header).reshape(dims)
    return arr.astype(dt.newbyteorder("="), copy=True)


def read_image_file(path) -> Tensor:
    """An IDX image file (type uint8, 3 dims) as a uint8 tensor ``N x H x W``."""
    return wrap(read_idx_file(path, expected_ndim=3, expected_type=0x08))


def read_label_file(path) -> Tensor:
    """An IDX label file (type uint8, 1 dim) as an int64 tensor ``N``."""
    return wrap(read_idx_file(path, expected_ndim=1, expected_type=0x08).astype(np.int64))


def _as_array(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.numpy(force=True)
    return np.asarray(x)


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28 x 28 grayscale, labels 0-9.

    Args:
        root: folder holding the data (see the module docstring for where files are looked for);
            None searches only ``$NERVE_DATA`` and the system folders.
        train: the training split (True) or the test split (False).
        transform: applied to each image (a ``28 x 28`` uint8 NumPy array), e.g. ``transforms.ToTensor()``.
        target_transform: applied to each label (an int).
        download: download the files into ``root/<Name>/raw`` if they are not found anywhere.

    Attributes:
        data: uint8 tensor ``N x 28 x 28``.  targets: int64 tensor ``N``.  classes: class names.

    Batches: when ``transform`` is None or built from ``ToTensor``, ``Normalize``, flips, crops and
    ``Pad`` (and ``target_transform`` is None), ``__getbatch__`` transforms a whole DataLoader batch
    in a few NumPy calls.

    Example:
        >>> ds = FashionMNIST("data", train=True, transform=T.Compose([T.ToTensor(), T.Normalize((0.286,), (0.353,))]))
        >>> img, label = ds[0]      # float32 tensor (1, 28, 28), int
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    system_dirs: tuple = ()
    install_hint: str | None = None

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None, download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        found = self._find_files()
        download_errors = None
        if found is None and download:
            download_errors = self.download()
            found = self._find_files()
        if found is None:
            raise RuntimeError(self._not_found_message(download, download_errors))
        self._image_file, self._label_file = found
        self.data, self.targets = self._load_data()

    # ------------------------------------------------------------------ locating the files
    @property
    def raw_folder(self) -> str:
        return os.path.join(os.fspath(self.root), self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(os.fspath(self.root), self.__class__.__name__, "processed")

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def _split_names(self):
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _search_dirs(self):
        """(folder, description) pairs in search order; folder is None where a variable is unset."""
        name = self.__class__.__name__
        dirs = []
        if self.root is not None:
            r = os.fspath(self.root)
            dirs += [(os.path.join(r, name, "raw"), None), (os.path.join(r, name), None), (r, None)]
        env = os.environ.get("NERVE_DATA")
        if env:
            env = os.path.expanduser(env)
            dirs += [(os.path.join(env, name, "raw"), "$NERVE_DATA"), (os.path.join(env, name), "$NERVE_DATA"),
                     (env, "$NERVE_DATA")]
        else:
            dirs.append((None, "$NERVE_DATA (not set)"))
        dirs += [(d, "system") for d in self.system_dirs]
        return dirs

    @staticmethod
    def _find_in(folder, base):
        # Uncompressed first (faster to read); also the '.idx3-ubyte' spelling of some unpacked copies.
        stem, _, kind = base.partition("-idx")
        for cand in (base, base + ".gz", f"{stem}.idx{kind}", f"{stem}.idx{kind}.gz"):
            p = os.path.join(folder, cand)
            if os.path.isfile(p):
                return p
        return None

    def _find_files(self):
        img_name, lbl_name = self._split_names()
        for folder, _ in self._search_dirs():
            if folder is None or not os.path.isdir(folder):
                continue
            img = self._find_in(folder, img_name)
            lbl = self._find_in(folder, lbl_name)
            if img and lbl:
                return img, lbl
        return None

    def _check_exists(self) -> bool:
        return self._find_files() is not None

    def _not_found_message(self, tried_download, download_errors) -> str:
        name = self.__class__.__name__
        img_name, lbl_name = self._split_names()
        split = "train" if self.train else "test"
        lines = [f"Dataset not found: {name} ({split} split) needs {img_name} and {lbl_name} (.gz or uncompressed) "
                 "in one folder. Looked in:"]
        for folder, desc in self._search_dirs():
            if folder is None:
                lines.append(f"  - {desc}")
                continue
            tag = f" [{desc}]" if desc and desc != "system" else ""
            if not os.path.isdir(folder):
                status = "does not exist"
            else:
                have = [n for n in (img_name, lbl_name) if self._find_in(folder, n)]
                status = f"has only {have[0]}" if have else "no IDX files"
            lines.append(f"  - {folder}{tag} ({status})")
        if download_errors:
            lines.append("Download failed:")
            lines += [f"  - {e}" for e in download_errors]
        lines.append("To get the data:")
        if self.install_hint:
            lines.append(f"  - {self.install_hint}")
        if not tried_download and self.root is not None:
            lines.append(f"  - pass download=True (needs network access) to download into {self.raw_folder}")
        lines.append(f"  - or copy the IDX files into one of the folders above (or set NERVE_DATA to a folder with "
                     f"a {name}/raw subfolder holding them); mirrors: {', '.join(self.mirrors)}")
        return "\n".join(lines)

    def download(self):
        """Download the four IDX files into ``root/<Name>/raw`` (MD5-checked); returns a list of errors."""
        if self.root is None:
            return ["download=True needs a root folder to download into (root is None)"]
        errors = []
        for filename, md5 in self.resources:
            last = []
            for mirror in self.mirrors:
                url = f"{mirror}{filename}"
                try:
                    download_url(url, self.raw_folder, filename=filename, md5=md5)
                    last = []
                    break
                except Exception as e:  # no network, HTTP error, checksum mismatch: try the next mirror
                    last.append(f"{url}: {type(e).__name__}: {e}")
            errors += last
        return errors

    # ------------------------------------------------------------------ loading
    def _load_data(self):
        images = read_idx_file(self._image_file, expected_ndim=3, expected_type=0x08)
        labels = read_idx_file(self._label_file, expected_ndim=1, expected_type=0x08)
        if images.shape[0] != labels.shape[0]:
            raise RuntimeError(f"{self.__class__.__name__}: {self._image_file} has {images.shape[0]} images but "
                               f"{self._label_file} has {labels.shape[0]} labels; the files do not belong together")
        if labels.size and int(labels.max()) >= len(self.classes):
            raise RuntimeError(f"{self.__class__.__name__}: {self._label_file} has label {int(labels.max())}, outside "
                               f"0..{len(self.classes) - 1}; is this the right file?")
        return wrap(images), wrap(labels.astype(np.int64))

    # ------------------------------------------------------------------ samples
    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        """``(image, target)``: a ``28 x 28`` uint8 NumPy array (then ``transform``) and an int label."""
        data = _as_array(self.data)
        n = len(data)
        i = int(index)
        if not -n <= i < n:
            raise IndexError(f"{self.__class__.__name__}: index {i} is out of range for a dataset of {n} samples")
        img, target = data[i].copy(), int(_as_array(self.targets)[i])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getbatch__(self, indices):
        """The collated batch ``[images, targets]`` for ``indices``, transformed as a whole (see the class doc)."""
        if self.target_transform is not None or (self.transform is not None and not _batchable(self.transform)):
            return NotImplemented
        data = _as_array(self.data)
        idx = _index_array(indices, len(data), self.__class__.__name__)
        images = data[idx]
        targets = _as_array(self.targets)[idx].astype(np.int64, copy=False)
        if self.transform is not None:
            images = _apply_batch(self.transform, images)
        return [wrap(images), wrap(targets)]

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"

    # torchvision's deprecated aliases
    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data", stacklevel=2)
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data", stacklevel=2)
        return self.data


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 60,000 + 10,000 grayscale 28 x 28 images of 10 kinds of clothing.

    Same interface as :class:`MNIST`. On Debian/Ubuntu, ``apt-get install dataset-fashion-mnist``
    installs the files into ``/usr/share/datasets/fashion-mnist``, which is searched automatically.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    system_dirs = ("/usr/share/datasets/fashion-mnist",)
    install_hint = ("on Debian/Ubuntu: apt-get install dataset-fashion-mnist (installs the files into "
                    "/usr/share/datasets/fashion-mnist, which is searched automatically)")
