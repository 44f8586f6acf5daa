"""nerve.vision.transforms augmentation: rotate / affine / colour / erase / noise (functional, checked by hand and
against torch's grid_sample), the random transforms per image and on whole batches, and a FashionMNIST loader."""
from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pytest
import torch

import nerve
import nerve.utils.data as nud
import nerve.vision as tv
import nerve.vision.transforms as T
import nerve.vision.transforms.functional as F
from nerve.vision.transforms import _apply_batch, _Batch, _batchable

DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"


def tensor_batch(tf, arr):
    """Run the batch path on an (N, C, H, W) float batch (as after ToTensor in a dataset's __getbatch__)."""
    return tf._apply_batch(_Batch(arr, True)).arr


def asym(h=4, w=4, c=None, dtype=np.uint8):
    n = h * w * (c or 1)
    a = (np.arange(n) * 7 % 251 + 1).astype(dtype)
    return a.reshape((h, w) if c is None else (h, w, c))


# ---------------------------------------------------------------------------------------------- geometry
def test_rotate_90_is_rot90_nearest():
    img = asym(4, 4)
    np.testing.assert_array_equal(F.rotate(img, 90), np.rot90(img))
    np.testing.assert_array_equal(F.rotate(img, -90), np.rot90(img, -1))
    np.testing.assert_array_equal(F.rotate(img, 180), np.rot90(img, 2))
    np.testing.assert_array_equal(F.rotate(img, 0), img)
    rgb = asym(4, 4, 3)
    out = F.rotate(rgb, 90)
    assert out.dtype == np.uint8 and out.shape == (4, 4, 3)
    np.testing.assert_array_equal(out, np.rot90(rgb, axes=(0, 1)))
    # Tensors (..., C, H, W), and a non-square image with expand=True.
    t = nerve.from_numpy(np.stack([asym(2, 6), asym(2, 6) + 1]).astype(np.float32)[:, None])
    rt = F.rotate(t, 90, expand=True)
    assert tuple(rt.shape) == (2, 1, 6, 2)
    np.testing.assert_array_equal(rt.numpy(), np.rot90(t.numpy(), axes=(2, 3)))
    r3 = F.rotate(asym(3, 5), 90, expand=True)
    np.testing.assert_array_equal(r3, np.rot90(asym(3, 5)))
    # About a corner pixel: (0, 0) stays, the rest leaves the image and reads fill.
    rc = F.rotate(img.astype(np.float32), 90, center=[0.5, 0.5], fill=-1.0)
    assert rc[0, 0] == img[0, 0] and (rc[1:] == -1).all()


def test_affine_identity_and_translate():
    img = asym(5, 6).astype(np.float32)
    for mode in ("nearest", "bilinear", F.InterpolationMode.BILINEAR):
        np.testing.assert_array_equal(F.affine(img, 0.0, [0, 0], 1.0, [0.0, 0.0], interpolation=mode), img)
        np.testing.assert_array_equal(F.affine(asym(5, 6), 0, [0, 0], 1.0, 0, interpolation=mode), asym(5, 6))
    # Translate by whole pixels: out[y, x] = in[y - ty, x - tx], fill elsewhere.
    for mode in ("nearest", "bilinear"):
        out = F.affine(img, 0.0, [2, 1], 1.0, 0.0, interpolation=mode)
        ref = np.zeros_like(img)
        ref[1:, 2:] = img[:-1, :-2]
        np.testing.assert_array_equal(out, ref)
        out = F.affine(img, 0.0, [-1, -2], 1.0, 0.0, interpolation=mode, fill=9.0)
        ref = np.full_like(img, 9.0)
        ref[:-2, :-1] = img[2:, 1:]
        np.testing.assert_array_equal(out, ref)
    # Clockwise angle: affine(90) == rotate(-90).
    np.testing.assert_array_equal(F.affine(asym(4, 4), 90, [0, 0], 1.0, 0), np.rot90(asym(4, 4), -1))
    t = nerve.from_numpy(img[None])
    assert isinstance(F.affine(t, 10, [1, 0], 1.1, 5), nerve.Tensor)
    with pytest.raises(ValueError, match="scale should be positive"):
        F.affine(img, 0, [0, 0], 0.0, 0)
    with pytest.raises(ValueError, match="length 2"):
        F.affine(img, 0, [0, 0, 1], 1.0, 0)
    with pytest.raises(ValueError, match="interpolation"):
        F.rotate(img, 10, interpolation="bicubic")
    with pytest.raises(ValueError, match="fill"):
        F.rotate(asym(4, 4, 3), 10, fill=[1, 2])


def _torch_affine_reference(img, theta, mode, fill):
    """torchvision's tensor affine: a pixel-centre grid through ``theta``, grid_sample (align_corners=False), mask fill."""
    x = torch.from_numpy(img)
    dt = x.dtype if x.is_floating_point() else torch.float32
    n, c, h, w = x.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64) - h / 2 + 0.5,
                            torch.arange(w, dtype=torch.float64) - w / 2 + 0.5, indexing="ij")
    th = torch.from_numpy(theta)
    gx = (th[0, 0] * xs + th[0, 1] * ys + th[0, 2]) / (w / 2)
    gy = (th[1, 0] * xs + th[1, 1] * ys + th[1, 2]) / (h / 2)
    grid = torch.stack([gx, gy], -1).to(dt)[None].expand(n, h, w, 2)
    xf = x.to(dt)
    if fill is not None:
        xf = torch.cat([xf, torch.ones(n, 1, h, w, dtype=dt)], 1)
    o = torch.nn.functional.grid_sample(xf, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        m, o = o[:, -1:].expand(n, c, h, w), o[:, :-1]
        f = torch.tensor(fill, dtype=dt).view(1, -1, 1, 1).expand_as(o)
        o = torch.where(m < 0.5, f, o) if mode == "nearest" else o * m + (1 - m) * f
    if not x.is_floating_point():
        o = torch.round(o).to(x.dtype)
    return o.numpy()


def test_warp_matches_grid_sample():
    rs = np.random.default_rng(0)
    for trial in range(8):
        c, h, w = int(rs.integers(1, 4)), int(rs.integers(3, 9)), int(rs.integers(3, 9))
        img = (rs.random((2, c, h, w)).astype(np.float32) if trial % 2 else
               rs.integers(0, 256, (2, c, h, w)).astype(np.uint8))
        theta = F._inverse_affine_matrix([rs.normal(), rs.normal()], rs.uniform(-180, 180), [rs.normal() * 2, 1.0],
                                         rs.uniform(0.5, 1.5), [rs.uniform(-20, 20), rs.uniform(-20, 20)])
        for mode in ("nearest", "bilinear"):
            for fill in (None, [0.25] * c):
                out = F._warp(img, theta, h, w, mode, None if fill is None else np.array(fill))
                ref = _torch_affine_reference(img, theta, mode, fill)
                assert out.dtype == img.dtype
                diff = np.abs(out.astype(np.float64) - ref)
                tol = 1e-5 if img.dtype == np.float32 else 1
                # nearest may differ where a source position is within rounding of a half-pixel tie
                assert (diff > tol).mean() <= (0.03 if mode == "nearest" else 0), (trial, mode, fill)


# ---------------------------------------------------------------------------------------------- colour
def test_adjust_brightness_contrast_formulas():
    rs = np.random.default_rng(1)
    x = rs.random((3, 4, 5)).astype(np.float32)
    t = nerve.from_numpy(x)
    np.testing.assert_allclose(F.adjust_brightness(t, 1.5).numpy(), np.clip(1.5 * x, 0, 1), rtol=1e-6)
    np.testing.assert_array_equal(F.adjust_brightness(t, 0.0).numpy(), np.zeros_like(x))
    gray = 0.2989 * x[0] + 0.587 * x[1] + 0.114 * x[2]
    ref = np.clip(0.7 * x + 0.3 * gray.mean(), 0, 1)
    np.testing.assert_allclose(F.adjust_contrast(t, 0.7).numpy(), ref, rtol=1e-5, atol=1e-6)
    # 1 channel: the mean of the image itself; uint8 results are truncated after clamping.
    u = asym(4, 6)
    m = u.astype(np.float32).mean()
    np.testing.assert_array_equal(F.adjust_contrast(u, 2.0), np.clip(2.0 * u.astype(np.float32) - m, 0, 255)
                                  .astype(np.uint8))
    np.testing.assert_array_equal(F.adjust_brightness(u, 0.5), (u * np.float32(0.5)).astype(np.uint8))
    np.testing.assert_array_equal(F.adjust_contrast(t, 1.0).numpy(), x)
    # saturation: 0 is grayscale (3 equal channels), 1-channel images pass through; hue as well.
    s0 = F.adjust_saturation(t, 0.0).numpy()
    np.testing.assert_allclose(s0, np.broadcast_to(gray, x.shape), rtol=1e-5)
    np.testing.assert_array_equal(F.adjust_saturation(u, 0.0), u)
    np.testing.assert_array_equal(F.adjust_hue(u, 0.3), u)
    red = np.zeros((3, 2, 2), np.float32)
    red[0] = 1.0
    np.testing.assert_allclose(F.adjust_hue(nerve.from_numpy(red), 1 / 3).numpy(), np.roll(red, 1, axis=0), atol=1e-6)
    np.testing.assert_allclose(F.adjust_hue(t, 0.0).numpy(), x, atol=1e-6)
    np.testing.assert_allclose(F.rgb_to_grayscale(t).numpy(), gray[None], rtol=1e-6)
    with pytest.raises(ValueError, match="not non-negative"):
        F.adjust_brightness(t, -0.1)
    with pytest.raises(ValueError, match=r"not in \[-0.5, 0.5\]"):
        F.adjust_hue(t, 0.6)
    with pytest.raises(TypeError, match="permitted channel values"):
        F.adjust_contrast(nerve.rand(2, 3, 3), 0.5)


def test_erase_and_gaussian_noise_functional():
    t = nerve.zeros(2, 5, 6)
    out = F.erase(t, 1, 2, 3, 2, 1.0)
    ref = np.zeros((2, 5, 6), np.float32)
    ref[:, 1:4, 2:4] = 1
    np.testing.assert_array_equal(out.numpy(), ref)
    assert float(t.sum()) == 0  # not in place by default
    F.erase(t, 0, 0, 1, 1, 5.0, inplace=True)
    assert float(t[0, 0, 0]) == 5.0
    nerve.manual_seed(3)
    x = nerve.full((1, 50, 50), 0.5)
    n1 = F.gaussian_noise(x, sigma=0.2)
    nerve.manual_seed(3)
    np.testing.assert_array_equal(F.gaussian_noise(x, sigma=0.2).numpy(), n1.numpy())
    assert n1.dtype == nerve.float32 and 0 <= float(n1.min()) and float(n1.max()) <= 1
    assert abs(float(n1.std()) - 0.2) < 0.03
    unclipped = F.gaussian_noise(x, mean=1.0, sigma=0.1, clip=False)
    assert abs(float(unclipped.mean()) - 1.5) < 0.03
    with pytest.raises(ValueError, match="float dtype"):
        F.gaussian_noise(nerve.zeros(1, 2, 2, dtype=nerve.uint8))
    with pytest.raises(ValueError, match="negative"):
        T.GaussianNoise(sigma=-1)(x)


# ---------------------------------------------------------------------------------------------- random transforms
def test_random_erasing_box_within_bounds():
    scale, ratio = (0.05, 0.3), (0.5, 2.0)
    nerve.manual_seed(0)
    imgs = np.zeros((300, 1, 20, 24), np.float32)
    out = tensor_batch(T.RandomErasing(p=1.0, scale=scale, ratio=ratio, value=1.0), imgs)
    area = 20 * 24
    per_image = [T.RandomErasing(p=1.0, scale=scale, ratio=ratio, value=1)(nerve.zeros(1, 20, 24)).numpy()
                 for _ in range(50)]
    for o in list(out) + per_image:
        ys, xs = np.nonzero(o[0])
        assert len(ys) > 0
        h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        assert h * w == len(ys)  # one rectangle
        assert h < 20 and w < 24
        # h = round(sqrt(a * r)), w = round(sqrt(a / r)) with a in scale * area, r in ratio
        assert (h - 0.5) * (w - 0.5) <= scale[1] * area and (h + 0.5) * (w + 0.5) >= scale[0] * area
        assert (h - 0.5) / (w + 0.5) <= ratio[1] and (h + 0.5) / (w - 0.5) >= ratio[0]
    # Boxes that never fit leave the image unchanged; p=0 never erases.
    x = nerve.rand(1, 4, 4)
    np.testing.assert_array_equal(T.RandomErasing(p=1.0, scale=(0.99, 1.0), ratio=(1, 1))(x).numpy(), x.numpy())
    np.testing.assert_array_equal(tensor_batch(T.RandomErasing(p=0.0), imgs[:5]), imgs[:5])
    # value='random' and per-channel values; uint8 H x W images per sample.
    rgb = np.zeros((40, 3, 10, 10), np.float32)
    rv = tensor_batch(T.RandomErasing(p=1.0, value=(1, 2, 3)), rgb)
    for k in range(3):
        assert set(np.unique(rv[:, k])) == {0.0, k + 1.0}
    u = T.RandomErasing(p=1.0, value="random")(np.full((12, 12), 255, np.uint8))
    assert u.dtype == np.uint8 and u.shape == (12, 12)
    for bad, exc in (({"p": 1.5}, ValueError), ({"scale": (0.1, 1.5)}, ValueError), ({"value": "x"}, ValueError),
                     ({"value": {}}, TypeError)):
        with pytest.raises(exc):
            T.RandomErasing(**bad)
    with pytest.raises(ValueError, match="number of\n?.*channels|input channels"):
        T.RandomErasing(p=1.0, value=(1, 2))(nerve.zeros(3, 8, 8))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        T.RandomErasing(scale=(0.3, 0.1))
    assert any("(min, max)" in str(r.message) for r in rec)


RANDOM_TFS = [
    lambda: T.RandomRotation(30),
    lambda: T.RandomRotation((-20, 40), interpolation="bilinear", fill=0.5),
    lambda: T.RandomAffine(15, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=(-5, 5, -5, 5)),
    lambda: T.RandomAffine(0, shear=10, interpolation=T.InterpolationMode.BILINEAR),
    lambda: T.ColorJitter(0.4, 0.4, 0.4, 0.2),
    lambda: T.RandomErasing(p=1.0, value="random"),
    lambda: T.GaussianNoise(sigma=0.05),
    lambda: T.RandomApply([T.ColorJitter(brightness=0.5), T.RandomRotation(20)], p=0.5),
    lambda: T.RandomChoice([T.RandomRotation(20), T.GaussianNoise(), T.RandomVerticalFlip()], p=[1, 2, 1]),
    lambda: T.RandomOrder([T.ColorJitter(contrast=0.5), T.RandomAffine(10), T.RandomErasing(p=1.0)]),
]


@pytest.mark.parametrize("make", RANDOM_TFS)
def test_random_transforms_batch_and_per_image(make):
    tf = make()
    assert _batchable(tf)
    rs = np.random.default_rng(0)
    one = rs.random((3, 9, 10)).astype(np.float32)
    batch = np.repeat(one[None], 16, axis=0)
    nerve.manual_seed(5)
    out = tensor_batch(tf, batch)
    assert out.shape == batch.shape and out.dtype == batch.dtype
    # Independent parameters per sample: the copies of one image come out different...
    assert len({o.tobytes() for o in out}) > 1
    # ...and a seed reproduces them.
    nerve.manual_seed(5)
    np.testing.assert_array_equal(tensor_batch(tf, batch), out)
    # Per image: tensors keep shape and dtype, and so do uint8 H x W x C arrays (those before ToTensor).
    nerve.manual_seed(6)
    r = tf(nerve.from_numpy(one))
    assert isinstance(r, nerve.Tensor) and tuple(r.shape) == (3, 9, 10) and r.dtype == nerve.float32
    nerve.manual_seed(6)
    np.testing.assert_array_equal(tf(nerve.from_numpy(one)).numpy(), r.numpy())
    if not isinstance(tf, (T.GaussianNoise, T.RandomChoice)):  # GaussianNoise needs float images
        u = (one.transpose(1, 2, 0) * 255).astype(np.uint8)
        ru = tf(u)
        assert isinstance(ru, np.ndarray) and ru.shape == u.shape and ru.dtype == np.uint8
        ub = _apply_batch(tf, np.repeat(u[None], 4, axis=0))  # N x H x W x C batch, before ToTensor
        assert ub.shape == (4, 9, 10, 3) and ub.dtype == np.uint8


def test_batch_matches_per_image_for_fixed_parameters():
    rs = np.random.default_rng(2)
    imgs = rs.integers(0, 256, (5, 7, 8), dtype=np.uint8)
    cases = [
        (T.RandomRotation((90, 90)), lambda im: F.rotate(im, 90.0, fill=0)),
        (T.RandomRotation((25, 25), interpolation="bilinear", fill=3),
         lambda im: F.rotate(im, 25.0, interpolation="bilinear", fill=3)),
        (T.RandomAffine((30, 30), scale=(1.2, 1.2), shear=(10, 10)), lambda im: F.affine(im, 30.0, [0, 0], 1.2, [10, 0])),
        (T.ColorJitter(brightness=(0.5, 0.5)), lambda im: F.adjust_brightness(im, 0.5)),
        (T.ColorJitter(contrast=(1.7, 1.7)), lambda im: F.adjust_contrast(im, 1.7)),
    ]
    for tf, ref in cases:
        batch = _apply_batch(T.Compose([tf, T.ToTensor()]), imgs)
        per = np.stack([T.ToTensor()(ref(im)).numpy() for im in imgs])
        np.testing.assert_array_equal(batch, per)
        per_tf = np.stack([T.Compose([tf, T.ToTensor()])(im).numpy() for im in imgs])
        np.testing.assert_array_equal(per_tf, per)


def test_containers_and_params():
    x = nerve.rand(1, 6, 6)
    flip = T.RandomVerticalFlip(1.0)
    np.testing.assert_array_equal(T.RandomApply([flip], p=1.0)(x).numpy(), x.numpy()[:, ::-1])
    np.testing.assert_array_equal(T.RandomApply([flip], p=0.0)(x).numpy(), x.numpy())
    np.testing.assert_array_equal(T.RandomChoice([flip], p=[1.0])(x).numpy(), x.numpy()[:, ::-1])
    np.testing.assert_array_equal(T.RandomOrder([flip, flip])(x).numpy(), x.numpy())
    imgs = np.random.default_rng(0).integers(0, 256, (200, 5, 5), dtype=np.uint8)
    nerve.manual_seed(0)
    out = _apply_batch(T.RandomApply([T.RandomVerticalFlip(1.0)], p=0.3), imgs)
    flipped = np.array([(o != i).any() for o, i in zip(out, imgs)])
    assert 0.2 < flipped.mean() < 0.4
    np.testing.assert_array_equal(out[flipped], imgs[flipped][:, ::-1])
    with pytest.raises(ValueError, match="keep the image shape"):
        _apply_batch(T.RandomApply([T.CenterCrop(3)], p=0.5), imgs)
    with pytest.raises(TypeError, match="sequence"):
        T.RandomChoice([flip], p=0.5)
    # Parameter draws stay in range.
    nerve.manual_seed(1)
    for _ in range(50):
        assert -10 <= T.RandomRotation.get_params([-10, 10]) <= 10
        a, (tx, ty), s, (shx, shy) = T.RandomAffine.get_params([-5, 5], (0.1, 0.2), (0.9, 1.1), [-3, 3, 1, 2], [20, 10])
        assert -5 <= a <= 5 and abs(tx) <= 2 and abs(ty) <= 2 and isinstance(tx, int) and 0.9 <= s <= 1.1
        assert -3 <= shx <= 3 and 1 <= shy <= 2
        order, b, c, sat, h = T.ColorJitter.get_params((0.5, 1.5), None, (0, 2), (-0.1, 0.1))
        assert sorted(order) == [0, 1, 2, 3] and 0.5 <= b <= 1.5 and c is None and 0 <= sat <= 2 and abs(h) <= 0.1
    cj = T.ColorJitter(brightness=0.5, hue=0.1)
    assert cj.brightness == (0.5, 1.5) and cj.hue == (-0.1, 0.1) and cj.contrast is None
    assert T.ColorJitter(brightness=2).brightness == (0.0, 3.0)
    for bad in (lambda: T.RandomRotation(-1), lambda: T.RandomAffine(0, translate=(0.5, 1.5)),
                lambda: T.RandomAffine(0, scale=(0, 1)), lambda: T.ColorJitter(hue=0.6),
                lambda: T.ColorJitter(brightness=-1)):
        with pytest.raises(ValueError):
            bad()
    assert not _batchable(T.RandomRotation(10, expand=True))
    assert _batchable(T.Compose([T.RandomApply([T.RandomRotation(10)]), T.ToTensor(), T.GaussianNoise()]))
    assert not _batchable(T.RandomApply([T.Lambda(lambda v: v)]))
    assert "RandomRotation(degrees=[-10.0, 10.0]" in repr(T.RandomRotation(10))


# ---------------------------------------------------------------------------------------------- real data
def test_fashion_mnist_augmented_loader():
    if not os.path.isdir(DEBIAN_FASHION):
        pytest.skip("Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
    # value 0.5 = 127.5 / 255 never occurs in uint8 data, so erased pixels can be counted.
    tf = T.Compose([T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.RandomErasing(value=0.5)])
    ds = tv.datasets.FashionMNIST("/nonexistent-root", train=True, transform=tf)
    assert _batchable(tf)
    dl = nud.DataLoader(ds, batch_size=128, shuffle=True, generator=nerve.Generator().manual_seed(0))
    start = time.perf_counter()
    n = 0
    for k, (xb, yb) in enumerate(dl):
        assert tuple(xb.shape[1:]) == (1, 28, 28) and xb.dtype == nerve.float32
        n += xb.shape[0]
        if k == 49:
            break
    assert n == 50 * 128 and time.perf_counter() - start < 3.0
    x = xb.numpy()
    assert 0.0 <= x.min() and x.max() <= 1.0
    # About half the images (p=0.5) carry an erased box of at least 2% of the area.
    erased = (x[:, 0] == 0.5).sum(axis=(1, 2))
    assert 0.3 < np.mean(erased > 0) < 0.7 and erased.max() >= 0.02 * 784 * 0.9
