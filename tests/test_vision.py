"""nerve.vision: IDX parsing, MNIST / FashionMNIST (synthetic files, download from a local mirror, the
Debian package's real data when installed), transforms (per image and batched), make_grid and save_image."""
from __future__ import annotations

import gzip
import hashlib
import os
import struct
import time
import zlib

import numpy as np
import pytest
import torch

import nerve
import nerve.utils.data as nud
import nerve.vision as tv
import nerve.vision.transforms as T
from nerve.vision.datasets.mnist import IDXFormatError

DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"


def idx_bytes(arr: np.ndarray, type_code: int = 0x08) -> bytes:
    dt = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[type_code]
    return (bytes([0, 0, type_code, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
            + np.ascontiguousarray(arr, dtype=dt).tobytes())


def write_split(folder, prefix, images, labels, gz=True):
    os.makedirs(folder, exist_ok=True)
    for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
        data = idx_bytes(arr)
        name = os.path.join(folder, f"{prefix}-{kind}-ubyte" + (".gz" if gz else ""))
        with open(name, "wb") as f:
            f.write(gzip.compress(data) if gz else data)


def synthetic(n, seed=0, h=28, w=28):
    r = np.random.default_rng(seed)
    return r.integers(0, 256, (n, h, w), dtype=np.uint8), r.integers(0, 10, n).astype(np.uint8)


@pytest.fixture
def mnist_root(tmp_path, monkeypatch):
    """A torchvision-style root with a small synthetic MNIST (train gzipped, test uncompressed)."""
    monkeypatch.delenv("NERVE_DATA", raising=False)
    tr, te = synthetic(50, 0), synthetic(20, 1)
    write_split(tmp_path / "MNIST" / "raw", "train", *tr, gz=True)
    write_split(tmp_path / "MNIST" / "raw", "t10k", *te, gz=False)
    return tmp_path, tr, te


# ---------------------------------------------------------------------------------------------- IDX files
@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("code,dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
                                        (0x0D, np.float32), (0x0E, np.float64)])
def test_read_idx_types(tmp_path, gz, code, dtype):
    arr = (np.arange(24).reshape(2, 3, 4) - (0 if code == 0x08 else 5)).astype(dtype)
    data = idx_bytes(arr, code)
    p = tmp_path / "f.idx"
    p.write_bytes(gzip.compress(data) if gz else data)
    out = tv.datasets.read_idx_file(p)
    assert out.dtype == dtype and out.dtype.isnative and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, arr)
    assert out.flags.writeable


def test_read_idx_errors(tmp_path):
    good = idx_bytes(np.zeros((3, 4, 4), np.uint8))
    cases = {
        "wrong_magic": (b"\x01\x02" + good[2:], "not an IDX file"),
        "bad_type": (b"\x00\x00\x07\x03" + good[4:], "not an IDX file"),
        "truncated_data": (good[:-5], r"truncated IDX file: shape \(3, 4, 4\) needs 48 bytes of data, found 43"),
        "truncated_header": (good[:9], "truncated IDX header"),
        "tiny": (b"\x00\x00", "too short"),
        "trailing": (good + b"\x00\x00", "2 unexpected bytes"),
        "bad_gzip": (gzip.compress(good)[:-12], "corrupt or truncated gzip"),
    }
    for name, (data, msg) in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(IDXFormatError, match=msg):
            tv.datasets.read_idx_file(p)
    p = tmp_path / "labels"
    p.write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(IDXFormatError, match="has 1 dims .* expected 3"):
        tv.datasets.read_image_file(p)
    assert tv.datasets.read_label_file(p).dtype == nerve.int64
    assert isinstance(IDXFormatError("x"), RuntimeError)


# ---------------------------------------------------------------------------------------------- MNIST
def test_mnist_synthetic_layout_and_samples(mnist_root):
    root, (tri, trl), (tei, tel) = mnist_root
    ds = tv.datasets.MNIST(str(root), train=True)
    assert len(ds) == 50 and ds.data.dtype == nerve.uint8 and tuple(ds.data.shape) == (50, 28, 28)
    assert ds.targets.dtype == nerve.int64
    np.testing.assert_array_equal(ds.data.numpy(), tri)
    np.testing.assert_array_equal(ds.targets.numpy(), trl)
    img, target = ds[3]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    assert type(target) is int and target == trl[3]
    img[:] = 0  # a copy: the dataset is untouched
    assert ds.data.numpy()[3].any()
    test = tv.datasets.MNIST(root, train=False)  # a pathlib root, uncompressed files
    assert len(test) == 20
    np.testing.assert_array_equal(test.data.numpy(), tei)
    assert ds.classes[0] == "0 - zero" and ds.class_to_idx["9 - nine"] == 9
    assert "Split: Train" in repr(ds) and "Number of datapoints: 50" in repr(ds)
    with pytest.raises(IndexError, match="index 50 is out of range for a dataset of 50 samples"):
        ds[50]
    # torchvision-style subsetting by assigning data/targets is honoured.
    ds.data, ds.targets = ds.data[:10], ds.targets[:10]
    assert len(ds) == 10 and len(list(nud.DataLoader(ds, batch_size=4))) == 3


def test_mnist_transforms_and_batch_path(mnist_root):
    root, (tri, trl), _ = mnist_root
    tf = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    ds = tv.datasets.MNIST(root, transform=tf, target_transform=None)
    x, y = ds[0]
    assert x.dtype == nerve.float32 and tuple(x.shape) == (1, 28, 28)
    ref = (torch.from_numpy(tri[0]).float().div(255).unsqueeze(0) - 0.1307) / 0.3081
    np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
    idx = [4, 0, 49, 7]
    fast = ds.__getbatch__(idx)
    slow = nud.default_collate([ds[i] for i in idx])
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # No transform: uint8 images, collated like the per-sample path.
    raw = tv.datasets.MNIST(root)
    a, b = raw.__getbatch__(idx), nud.default_collate([raw[i] for i in idx])
    assert a[0].dtype == b[0].dtype == nerve.uint8
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    # A transform that cannot run on a batch, or a target_transform, falls back to per-sample.
    assert tv.datasets.MNIST(root, transform=T.Lambda(lambda im: im)).__getbatch__(idx) is NotImplemented
    ds_t = tv.datasets.MNIST(root, transform=tf, target_transform=lambda t: t + 100)
    assert ds_t.__getbatch__(idx) is NotImplemented
    batches = list(nud.DataLoader(ds_t, batch_size=16))
    np.testing.assert_array_equal(batches[0][1].numpy(), trl[:16].astype(np.int64) + 100)
    # DataLoader with workers gives the same batches as in-process loading.
    ref = list(nud.DataLoader(ds, batch_size=16, shuffle=True, generator=nerve.Generator().manual_seed(0)))
    out = list(nud.DataLoader(ds, batch_size=16, shuffle=True, generator=nerve.Generator().manual_seed(0),
                              num_workers=2))
    assert len(ref) == len(out) == 4
    for (a, b), (c, d) in zip(ref, out):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())


def test_mnist_search_order_env_and_not_found(tmp_path, monkeypatch):
    monkeypatch.delenv("NERVE_DATA", raising=False)
    empty = tmp_path / "empty"
    with pytest.raises(RuntimeError) as ei:
        tv.datasets.MNIST(empty)
    msg = str(ei.value)
    assert msg.startswith("Dataset not found")
    for where in (f"{empty}/MNIST/raw", f"{empty}/MNIST (", f"{empty} (", "$NERVE_DATA (not set)", "download=True"):
        assert where in msg, where
    # Files straight in root, and under $NERVE_DATA/<Name>/raw.
    write_split(tmp_path / "flat", "train", *synthetic(5, 3), gz=False)
    assert len(tv.datasets.MNIST(tmp_path / "flat")) == 5
    write_split(tmp_path / "env" / "FashionMNIST" / "raw", "t10k", *synthetic(7, 4))
    monkeypatch.setenv("NERVE_DATA", str(tmp_path / "env"))
    fm = tv.datasets.FashionMNIST(empty, train=False)
    assert len(fm) == 7 and fm.classes[9] == "Ankle boot"
    assert fm._image_file.startswith(str(tmp_path / "env"))
    # Only one of the two files present: reported.
    write_split(tmp_path / "half", "train", *synthetic(3, 5), gz=True)
    os.remove(tmp_path / "half" / "train-labels-idx1-ubyte.gz")
    with pytest.raises(RuntimeError, match="has only train-images-idx3-ubyte"):
        tv.datasets.MNIST(tmp_path / "half")
    # The Debian hint is part of FashionMNIST's message.
    monkeypatch.setattr(tv.datasets.FashionMNIST, "system_dirs", (str(tmp_path / "nowhere"),))
    monkeypatch.delenv("NERVE_DATA")
    with pytest.raises(RuntimeError, match="apt-get install dataset-fashion-mnist"):
        tv.datasets.FashionMNIST(empty)


def test_mnist_mismatched_or_corrupt_files(tmp_path, monkeypatch):
    monkeypatch.delenv("NERVE_DATA", raising=False)
    imgs, labels = synthetic(6)
    write_split(tmp_path, "train", imgs, labels[:5], gz=False)
    with pytest.raises(RuntimeError, match="has 6 images but .* has 5 labels"):
        tv.datasets.MNIST(tmp_path)
    write_split(tmp_path, "train", imgs, np.full(6, 12, np.uint8), gz=False)
    with pytest.raises(RuntimeError, match="label 12, outside 0..9"):
        tv.datasets.MNIST(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels)[:-2])
    with pytest.raises(IDXFormatError, match="truncated"):
        tv.datasets.MNIST(tmp_path)


def test_mnist_download_from_local_mirror(tmp_path, monkeypatch):
    """download=True against a file:// mirror: checksums verified, files written atomically."""
    monkeypatch.delenv("NERVE_DATA", raising=False)
    mirror = tmp_path / "mirror"
    tr, te = synthetic(8, 0), synthetic(4, 1)
    write_split(mirror, "train", *tr)
    write_split(mirror, "t10k", *te)
    resources = [(n, hashlib.md5((mirror / n).read_bytes()).hexdigest()) for n, _ in tv.datasets.MNIST.resources]
    monkeypatch.setattr(tv.datasets.MNIST, "mirrors", ["file:///nonexistent/", mirror.as_uri() + "/"])
    monkeypatch.setattr(tv.datasets.MNIST, "resources", resources)
    root = tmp_path / "root"
    ds = tv.datasets.MNIST(root, download=True)
    assert len(ds) == 8 and ds._image_file == str(root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz")
    assert sorted(os.listdir(root / "MNIST" / "raw")) == sorted(n for n, _ in resources)
    assert len(tv.datasets.MNIST(root, train=False)) == 4

    bad = [(n, "0" * 32) for n, _ in resources]
    monkeypatch.setattr(tv.datasets.MNIST, "resources", bad)
    root2 = tmp_path / "root2"
    with pytest.raises(RuntimeError) as ei:
        tv.datasets.MNIST(root2, download=True)
    msg = str(ei.value)
    assert "Download failed" in msg and "MD5 checksum mismatch" in msg and "/nonexistent/" in msg
    assert os.listdir(root2 / "MNIST" / "raw") == []  # no partial or unverified files left behind


@pytest.fixture(scope="module")
def fashion_train():
    if not os.path.isdir(DEBIAN_FASHION):
        pytest.skip("Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
    tf = T.Compose([T.ToTensor(), T.Normalize((0.2860,), (0.3530,))])
    return tv.datasets.FashionMNIST("/nonexistent-root", train=True, transform=tf)


def test_fashion_mnist_real_data(fashion_train):
    ds = fashion_train
    assert len(ds) == 60000 and tuple(ds.data.shape) == (60000, 28, 28) and ds.data.dtype == nerve.uint8
    t = ds.targets.numpy()
    assert t.dtype == np.int64 and t.min() == 0 and t.max() == 9
    np.testing.assert_array_equal(np.bincount(t), np.full(10, 6000))
    x, y = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and x.dtype == nerve.float32 and y == 9  # the first image: an ankle boot
    # A full epoch of ToTensor + Normalize through the DataLoader is well under a second of data time.
    dl = nud.DataLoader(ds, batch_size=128, shuffle=True)
    start = time.perf_counter()
    n = 0
    for xb, yb in dl:
        n += xb.shape[0]
    assert n == 60000 and time.perf_counter() - start < 1.0
    assert abs(float(xb.mean())) < 0.5
    test = tv.datasets.FashionMNIST(None, train=False)
    assert len(test) == 10000 and tuple(test.data.shape) == (10000, 28, 28)


# ---------------------------------------------------------------------------------------------- transforms
def test_to_tensor_inputs():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rgb = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    for img, ref in ((gray, torch.from_numpy(gray).float().div(255)[None]),
                     (rgb, torch.from_numpy(rgb).permute(2, 0, 1).float().div(255)),
                     (nerve.from_numpy(rgb), torch.from_numpy(rgb).permute(2, 0, 1).float().div(255))):
        out = T.ToTensor()(img)
        assert out.dtype == nerve.float32 and out.is_contiguous()
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    f = np.random.default_rng(0).random((2, 2, 1))
    out = T.ToTensor()(f)  # float data keeps its values and dtype, as in torchvision
    assert out.dtype == nerve.float64 and tuple(out.shape) == (1, 2, 2)
    np.testing.assert_array_equal(out.numpy()[0], f[:, :, 0])
    with pytest.raises(TypeError, match="pic should be a PIL Image, a NumPy array or a nerve.Tensor"):
        T.ToTensor()([1, 2])
    with pytest.raises(ValueError, match="should be 2 or 3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


def test_to_tensor_pil():
    Image = pytest.importorskip("PIL.Image")
    arr = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    out = T.ToTensor()(Image.fromarray(arr))
    np.testing.assert_array_equal(out.numpy(), arr.transpose(2, 0, 1) / np.float32(255))


def test_normalize_matches_reference_and_errors():
    x = nerve.rand(3, 4, 5)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    ref = (torch.from_numpy(x.numpy()) - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    np.testing.assert_allclose(T.Normalize(mean, std)(x).numpy(), ref.numpy(), rtol=1e-6)
    y = x.clone()
    out = T.Normalize(mean, std, inplace=True)(y)
    assert out is y
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-6)
    xg = nerve.rand(2, 1, 2, 2, requires_grad=True)  # differentiable: d/dx = 1/std
    T.Normalize((0.5,), (0.25,))(xg).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), np.full((2, 1, 2, 2), 4.0))
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        T.Normalize((0,), (1,))(nerve.zeros(1, 2, 2, dtype=nerve.uint8))
    with pytest.raises(ValueError, match="Expected tensor to be a tensor image of size"):
        T.Normalize((0,), (1,))(nerve.zeros(2, 2))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0,), (0,))(nerve.zeros(1, 2, 2))
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.Normalize((0,), (1,))(np.zeros((1, 2, 2), np.float32))
    assert repr(T.Normalize((0.5,), (0.5,))) == "Normalize(mean=(0.5,), std=(0.5,))"


def test_compose_lambda_flips_crops():
    img = np.arange(20, dtype=np.uint8).reshape(4, 5)
    tf = T.Compose([T.Lambda(lambda a: a + 1), T.RandomHorizontalFlip(p=1.0), T.ToTensor()])
    np.testing.assert_array_equal(tf(img).numpy()[0], (img[:, ::-1] + 1) / np.float32(255))
    assert "Compose(\n    " in repr(tf)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(img), img)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(img), img[::-1])
    t = nerve.from_numpy(img.astype(np.float32))[None]
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(t).numpy()[0], img[:, ::-1])
    np.testing.assert_array_equal(T.CenterCrop(2)(img), img[1:3, 2:4])
    np.testing.assert_array_equal(T.CenterCrop((2, 3))(img), img[1:3, 1:4])
    np.testing.assert_array_equal(T.CenterCrop(6)(img)[1:5, 0:5], img)  # zero-padded when larger
    np.testing.assert_array_equal(T.Pad(1)(img)[1:-1, 1:-1], img)
    assert T.Pad((1, 2))(img).shape == (8, 7) and T.Pad((1, 2, 3, 4))(img).shape == (10, 9)
    np.testing.assert_array_equal(T.Pad(2, padding_mode="reflect")(img), np.pad(img, 2, mode="reflect"))
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        T.Lambda(3)
    # RandomCrop: each output is a window of the padded image; a seed fixes the choice.
    rc = T.RandomCrop(4, padding=2)
    padded = np.pad(img, 2)
    nerve.manual_seed(0)
    outs = [rc(img) for _ in range(20)]
    for o in outs:
        assert o.shape == (4, 4)
        assert any((padded[i:i + 4, j:j + 4] == o).all() for i in range(5) for j in range(6))
    nerve.manual_seed(0)
    assert all((rc(img) == o).all() for o in outs)
    with pytest.raises(ValueError, match=r"Required crop size \(9, 9\) is larger than input image size \(4, 5\)"):
        T.RandomCrop(9)(img)
    assert T.RandomCrop(7, pad_if_needed=True)(img).shape == (7, 7)
    tcrop = T.RandomCrop(3)(t)  # tensors: (..., H, W)
    assert tuple(tcrop.shape) == (1, 3, 3)


def test_batched_transforms_match_per_image():
    imgs = np.random.default_rng(0).integers(0, 256, (6, 7, 9), dtype=np.uint8)
    from nerve.vision.transforms import _apply_batch, _batchable
    deterministic = [
        T.Compose([T.ToTensor(), T.Normalize((0.4,), (0.2,))]),
        T.Compose([T.RandomHorizontalFlip(1.0), T.ToTensor()]),
        T.Compose([T.Pad((1, 2, 3, 0), fill=7), T.CenterCrop((5, 6)), T.ToTensor(), T.RandomVerticalFlip(1.0)]),
        T.Compose([T.CenterCrop(11), T.Pad(1, padding_mode="edge")]),
        T.ToTensor(),
    ]
    for tf in deterministic:
        assert _batchable(tf)
        batch = _apply_batch(tf, imgs)
        per = [tf(im) for im in imgs]
        ref = np.stack([p.numpy() if isinstance(p, nerve.Tensor) else p for p in per])
        assert batch.dtype == ref.dtype
        np.testing.assert_array_equal(batch, ref)
    # Random crops and flips on a batch: each image is a window of its own padded image.
    tf = T.Compose([T.RandomCrop((7, 9), padding=2), T.RandomHorizontalFlip(), T.ToTensor()])
    nerve.manual_seed(1)
    out = _apply_batch(tf, imgs)
    nerve.manual_seed(1)
    np.testing.assert_array_equal(_apply_batch(tf, imgs), out)
    assert out.shape == (6, 1, 7, 9)
    for k in range(6):
        padded = np.pad(imgs[k], 2) / np.float32(255)
        o = out[k, 0]
        wins = [padded[i:i + 7, j:j + 9] for i in range(5) for j in range(5)]
        assert any((w == o).all() or (w[:, ::-1] == o).all() for w in wins)
    flips = T.RandomHorizontalFlip(0.5)
    nerve.manual_seed(2)
    flipped = _apply_batch(flips, np.repeat(imgs[:1], 400, axis=0))
    frac = np.mean([(f != imgs[0]).any() for f in flipped])
    assert 0.4 < frac < 0.6
    assert not _batchable(T.Compose([T.ToTensor(), T.Lambda(lambda x: x)]))

    class MyCrop(T.RandomCrop):
        pass

    assert not _batchable(MyCrop(3))  # a subclass may change behaviour: per-image path


# ---------------------------------------------------------------------------------------------- utils
def test_make_grid_layout():
    b = np.arange(5 * 1 * 2 * 3, dtype=np.float32).reshape(5, 1, 2, 3)
    grid = tv.utils.make_grid(nerve.from_numpy(b), nrow=2, padding=1, pad_value=-1.0)
    # 2 columns, 3 rows: height = 1 + 3 * (2 + 1) = 10, width = 1 + 2 * (3 + 1) = 9; gray -> 3 channels.
    g = grid.numpy()
    assert g.shape == (3, 10, 9)
    expected = np.full((3, 10, 9), -1.0, np.float32)
    for k in range(5):
        y, x = divmod(k, 2)
        expected[:, 1 + 3 * y: 3 + 3 * y, 1 + 4 * x: 4 + 4 * x] = b[k, 0]
    np.testing.assert_array_equal(g, expected)
    # A list of images; a single image is returned as is (3 channels); nrow larger than the batch.
    imgs = [nerve.ones(3, 2, 2), nerve.zeros(3, 2, 2)]
    g = tv.utils.make_grid(imgs, nrow=8, padding=0).numpy()
    assert g.shape == (3, 2, 4) and (g[:, :, :2] == 1).all() and (g[:, :, 2:] == 0).all()
    assert tuple(tv.utils.make_grid(nerve.ones(1, 4, 5)).shape) == (3, 4, 5)
    assert tuple(tv.utils.make_grid(nerve.ones(4, 5)).shape) == (3, 4, 5)


def test_make_grid_normalize():
    x = nerve.from_numpy(np.array([[[[0.0, 2.0]]], [[[4.0, 8.0]]]], np.float32))
    g = tv.utils.make_grid(x, padding=0, normalize=True).numpy()[0]
    np.testing.assert_allclose(g, [[0.0, 0.25, 0.5, 1.0]])
    g = tv.utils.make_grid(x, padding=0, normalize=True, scale_each=True).numpy()[0]
    np.testing.assert_allclose(g, [[0.0, 1.0, 0.0, 1.0]])
    g = tv.utils.make_grid(x, padding=0, normalize=True, value_range=(0.0, 4.0)).numpy()[0]
    np.testing.assert_allclose(g, [[0.0, 0.5, 1.0, 1.0]])
    np.testing.assert_array_equal(x.numpy()[1, 0, 0], [4.0, 8.0])  # the input is untouched
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        tv.utils.make_grid(x, normalize=True, value_range=[0, 1])


def read_png(data: bytes) -> np.ndarray:
    """A minimal PNG reader for 8-bit, non-interlaced images written with filter type 0."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, tag
        chunks.setdefault(tag, b"")
        chunks[tag] += body
        pos += 12 + n
    assert b"IEND" in chunks
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and interlace == 0
    ch = {0: 1, 2: 3, 6: 4}[ctype]
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + w * ch)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(h, w, ch)


def test_save_image_writes_valid_png(tmp_path):
    x = nerve.from_numpy(np.linspace(0, 1, 2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5))
    p = tmp_path / "grid.png"
    tv.utils.save_image(x, p, nrow=2, padding=1)
    grid = tv.utils.make_grid(x, nrow=2, padding=1).numpy()
    expected = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    data = p.read_bytes()
    try:
        from PIL import Image
        got = np.array(Image.open(p))
    except ImportError:
        got = read_png(data)
    np.testing.assert_array_equal(got, expected)
    # The built-in writer (used without Pillow): gray, RGB, RGBA and file objects.
    for shape in ((3, 4), (3, 4, 3), (3, 4, 4)):
        arr = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
        q = tmp_path / f"w{len(shape)}{shape[-1]}.png"
        tv.utils.write_png(q, arr)
        np.testing.assert_array_equal(read_png(q.read_bytes()).reshape(arr.shape), arr)
    import io
    buf = io.BytesIO()
    tv.utils.write_png(buf, np.zeros((2, 2), np.uint8))
    assert read_png(buf.getvalue()).shape == (2, 2, 1)
    with pytest.raises(ValueError, match="expected an H x W"):
        tv.utils.write_png(buf, np.zeros((2, 2, 2), np.uint8))


def test_torchvision_style_import():
    import nerve.vision as torchvision
    assert torchvision.datasets.FashionMNIST.classes[0] == "T-shirt/top"
    assert callable(torchvision.transforms.functional.hflip)
    assert torchvision.utils.make_grid is tv.utils.make_grid
