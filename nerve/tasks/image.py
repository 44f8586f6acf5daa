"""The image classification task: Fashion-MNIST / MNIST with MLPs, CNNs, ResNets, the zoo and ViTs."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import config as _config
from .base import Task

_DATASETS = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}
# Mean and std of the training images (pixel values in [0, 1]).
_NORMALIZE = {"fashion-mnist": (0.2860, 0.3530), "mnist": (0.1307, 0.3081)}


def build_transform(cfg, augment: bool = False):
    """ToTensor, then (training only) the ``data.augment`` transforms on [0, 1] images, then Normalize.

    All of them run on whole batches (``MNIST.__getbatch__``): one NumPy pass per transform per batch.
    """
    from ..vision import transforms  # noqa: PLC0415

    d = cfg.data
    _, h, w = _config.IMAGE_SHAPES[d.dataset]
    steps = [transforms.ToTensor()]
    if augment:
        steps += [_config.build_transform(spec, image_size=(h, w)) for spec in d.augment]
    if d.normalize:
        mean, std = _NORMALIZE[d.dataset]
        steps.append(transforms.Normalize((mean,), (std,)))
    return transforms.Compose(steps)


def build_data(cfg, train: bool, augment: bool = False):
    """The training (first ``data.limit`` samples) or test split; ``augment`` adds ``data.augment``."""
    from ..vision import datasets  # noqa: PLC0415

    d = cfg.data
    cls = getattr(datasets, _DATASETS[d.dataset])
    ds = cls(d.root, train=train, transform=build_transform(cfg, augment=augment and train))
    if train and d.limit:
        from ..utils.data import Subset  # noqa: PLC0415
        ds = Subset(ds, range(min(d.limit, len(ds))))
    return ds


def build_train_val(cfg):
    """(train, val or None): augmentation on the training part only; the last ``validation_split``
    fraction is held out (as ``fit(validation_split=...)`` would) from an unaugmented copy."""
    from ..utils.data import Subset  # noqa: PLC0415

    train = build_data(cfg, train=True, augment=True)
    split = cfg.data.validation_split
    if not split:
        return train, None
    n = len(train)
    n_val = int(n * split)
    if n_val == 0 or n_val == n:
        raise ValueError(f"data.validation_split={split} of {n} samples leaves {n - n_val} for training and "
                         f"{n_val} for validation; both must be non-empty")
    plain = build_data(cfg, train=True, augment=False) if cfg.data.augment else train
    return Subset(train, range(n - n_val)), Subset(plain, range(n - n_val, n))


def class_names(cfg):
    from ..vision import datasets  # noqa: PLC0415
    return list(getattr(datasets, _DATASETS[cfg.data.dataset]).classes)


def build_model(cfg):
    """The network of ``cfg.model``, sized for the dataset's images (channels, height, width) and classes."""
    m = cfg.model
    c, h, w = _config.IMAGE_SHAPES[cfg.data.dataset]
    k = _config.NUM_CLASSES[cfg.data.dataset]
    if m.type == "mlp":
        from ..models import MLP  # noqa: PLC0415
        return MLP(c * h * w, m.hidden, k, activation=m.activation, dropout=m.dropout, batch_norm=m.batch_norm)
    if m.type == "cnn":
        from ..models import CNN  # noqa: PLC0415
        return CNN(c, m.channels, k, image_size=(h, w), hidden=m.hidden, pool_every=m.pool_every,
                   kernel_size=m.kernel_size, batch_norm=m.batch_norm, activation=m.activation, dropout=m.dropout)
    from ..vision import models  # noqa: PLC0415
    if m.type == "resnet":
        fn = getattr(models, f"resnet{m.depth}")
        return fn(num_classes=k, in_channels=c, small_input=m.small_input, width=m.width,
                  zero_init_residual=m.zero_init_residual)
    if m.type == "vit":
        return models.VisionTransformer(image_size=h, patch_size=m.patch_size, in_channels=c, num_classes=k,
                                        d_model=m.d_model, depth=m.depth, n_heads=m.n_heads, mlp_dim=m.mlp_dim,
                                        dropout=m.dropout, pool=m.pool)
    return _config._zoo_constructor(m.name)(num_classes=k, in_channels=c, **m.args)


def evaluate_model(model, dataset, loss_fn, batch_size: int = 1000) -> dict:
    """Test loss, accuracy, macro precision/recall/F1, per-class scores and the confusion matrix."""
    from ..autograd import no_grad  # noqa: PLC0415
    from ..train import metrics as M, predict  # noqa: PLC0415

    logits = predict(model, dataset, batch_size=batch_size)
    y = _targets(dataset)
    with no_grad():
        loss = float(loss_fn(logits, y).item())
    num_classes = logits.shape[1]
    cm = M.confusion_matrix(logits, y, num_classes=num_classes)
    per_class = M.precision_recall_f1(logits, y, average=None, num_classes=num_classes)
    macro = M.precision_recall_f1(logits, y, average="macro", num_classes=num_classes)
    return {
        "test_loss": loss,
        "test_accuracy": float(M.accuracy(logits, y)),
        "test_precision_macro": float(macro[0]),
        "test_recall_macro": float(macro[1]),
        "test_f1_macro": float(macro[2]),
        "test_samples": int(len(y)),
        "_confusion_matrix": np.asarray(cm).tolist(),
        "_per_class": {k: np.asarray(v, dtype=float).tolist() for k, v in zip(("precision", "recall", "f1"), per_class)},
    }


def _targets(dataset):
    """All labels of a (possibly Subset-wrapped) vision dataset, in order."""
    from .. import tensor  # noqa: PLC0415
    from ..utils.data import Subset  # noqa: PLC0415
    if isinstance(dataset, Subset):
        return _targets(dataset.dataset)[tensor(list(dataset.indices))]
    return dataset.targets


def _read_input(path: Path) -> np.ndarray:
    """An image file or .npy array -> float array (N, 28, 28) in [0, 1]."""
    if path.suffix == ".npy":
        a = np.load(path, allow_pickle=False)
    else:
        a = _read_image(path)
    a = np.asarray(a)
    if a.dtype == np.uint8 or a.max(initial=0) > 1.5:
        a = a.astype(np.float32) / 255.0
    a = a.astype(np.float32)
    if a.ndim == 1 and a.size == 784:
        a = a.reshape(1, 28, 28)
    elif a.ndim == 2:
        a = a[None]
    elif a.ndim == 3 and a.shape[-1] in (1, 3, 4) and a.shape[:2] == (28, 28):
        a = a[..., :3].mean(-1)[None] if a.shape[-1] != 1 else a[..., 0][None]
    elif a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 3 or a.shape[1:] != (28, 28):
        raise ValueError(f"{path}: expected a 28x28 image (or N x 28 x 28 array), got shape {a.shape}")
    return a


def _read_image(path: Path) -> np.ndarray:
    try:
        from PIL import Image  # noqa: PLC0415 - optional
        img = Image.open(path).convert("L")
        if img.size != (28, 28):
            img = img.resize((28, 28))
        return np.asarray(img)
    except ImportError:
        pass
    try:
        import matplotlib.image as mpimg  # noqa: PLC0415 - optional; reads PNG without Pillow
    except ImportError:
        raise ValueError(f"{path}: reading images needs Pillow or matplotlib (pip install pillow); "
                         ".npy arrays work without either") from None
    a = mpimg.imread(path)
    if a.ndim == 3:
        a = a[..., :3].mean(-1)
    return a

def eval_batch_size(cfg) -> int:
    # Convolutions expand their input (im2col: 9x the activations, Winograd: ~2.25x), so conv nets evaluate in
    # smaller batches.
    return 1000 if cfg.model.type == "mlp" else 250


class ImageTask(Task):
    """Classify images; scored by test accuracy, macro precision/recall/F1 and the confusion matrix."""

    name = "image"

    def __init__(self, cfg, info=None):
        super().__init__(cfg, info)
        self.eval_batch_size = eval_batch_size(cfg)

    def build_data(self):
        train, val = build_train_val(self.cfg)
        return train, val, build_data(self.cfg, train=False)

    def build_model(self):
        return build_model(self.cfg)

    def evaluate(self, model, test, out=None) -> dict:
        from ..train.report import plot_confusion_matrix, write_json  # noqa: PLC0415
        res = evaluate_model(model, test, self.loss(), batch_size=self.eval_batch_size)
        cm, per_class = res.pop("_confusion_matrix"), res.pop("_per_class")
        names = class_names(self.cfg)
        files = []
        if out is not None:
            if self.cfg.output.plots and plot_confusion_matrix(cm, names, out / "confusion_matrix.png"):
                files.append("confusion_matrix.png")
            write_json(out / "confusion_matrix.json", {"classes": names, "matrix": cm})
            files.append("confusion_matrix.json")
        res["_report"] = {"class_names": names, "per_class": per_class}
        res["_files"] = files
        res["_confusion_matrix"] = cm
        return res

    def predict(self, model, inputs, text=False):
        import nerve  # noqa: PLC0415
        names = class_names(self.cfg)
        mean, std = _NORMALIZE[self.cfg.data.dataset] if self.cfg.data.normalize else (0.0, 1.0)
        if text:
            raise ValueError("the image task predicts from image or .npy files, not --text")
        rows = []
        for f in inputs:
            p = Path(f)
            if not p.exists():
                raise ValueError(f"{p}: no such file")
            x = nerve.tensor((_read_input(p) - mean) / std).unsqueeze(1)  # (N, 1, 28, 28): every model takes images
            bs = self.eval_batch_size
            with nerve.no_grad():
                probs = np.concatenate([nerve.softmax(model(x[i:i + bs]), dim=1).numpy()
                                        for i in range(0, len(x), bs)])
            for i, pr in enumerate(probs):
                k = int(pr.argmax())
                rows.append({"file": f"{p}[{i}]" if len(probs) > 1 else str(p), "class": k, "label": names[k],
                             "probability": float(pr[k])})
        return rows

    def format_row(self, row) -> str:
        return f"{row['file']}: {row['label']} ({row['probability']:.3f})"


TASK = ImageTask
