"""The ``nerve`` command: train a model from a config, evaluate a run, predict with it.

    nerve train [NAME|CONFIG.yaml] [--out DIR] [--epochs N] [--set key=value ...] [--resume]
    nerve evaluate RUN_DIR
    nerve predict RUN_DIR FILES...          (images or .npy arrays)
    nerve configs                           (list the built-in configs)

A run directory holds: config.yaml, metrics.csv, best/ (the best checkpoint), checkpoint/ (the
latest resumable state), summary.json (final test metrics), training_curves.png,
confusion_matrix.png and report.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import config as _config


def _fail(msg: str, code: int = 2):
    print(f"nerve: error: {msg}", file=sys.stderr)
    raise SystemExit(code)


# ============================================================================ building blocks
_DATASETS = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}
# Mean and std of the training images (pixel values in [0, 1]).
_NORMALIZE = {"fashion-mnist": (0.2860, 0.3530), "mnist": (0.1307, 0.3081)}


def build_transform(cfg, augment: bool = False):
    """ToTensor, then (training only) the ``data.augment`` transforms on [0, 1] images, then Normalize.

    All of them run on whole batches (``MNIST.__getbatch__``): one NumPy pass per transform per batch.
    """
    from .vision import transforms  # noqa: PLC0415

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
    from .vision import datasets  # noqa: PLC0415

    d = cfg.data
    cls = getattr(datasets, _DATASETS[d.dataset])
    ds = cls(d.root, train=train, transform=build_transform(cfg, augment=augment and train))
    if train and d.limit:
        from .utils.data import Subset  # noqa: PLC0415
        ds = Subset(ds, range(min(d.limit, len(ds))))
    return ds


def build_train_val(cfg):
    """(train, val or None): augmentation on the training part only; the last ``validation_split``
    fraction is held out (as ``fit(validation_split=...)`` would) from an unaugmented copy."""
    from .utils.data import Subset  # noqa: PLC0415

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
    from .vision import datasets  # noqa: PLC0415
    return list(getattr(datasets, _DATASETS[cfg.data.dataset]).classes)


def build_model(cfg):
    """The network of ``cfg.model``, sized for the dataset's images (channels, height, width) and classes."""
    m = cfg.model
    c, h, w = _config.IMAGE_SHAPES[cfg.data.dataset]
    k = _config.NUM_CLASSES[cfg.data.dataset]
    if m.type == "mlp":
        from .models import MLP  # noqa: PLC0415
        return MLP(c * h * w, m.hidden, k, activation=m.activation, dropout=m.dropout, batch_norm=m.batch_norm)
    if m.type == "cnn":
        from .models import CNN  # noqa: PLC0415
        return CNN(c, m.channels, k, image_size=(h, w), hidden=m.hidden, pool_every=m.pool_every,
                   kernel_size=m.kernel_size, batch_norm=m.batch_norm, activation=m.activation, dropout=m.dropout)
    from .vision import models  # noqa: PLC0415
    if m.type == "resnet":
        fn = getattr(models, f"resnet{m.depth}")
        return fn(num_classes=k, in_channels=c, small_input=m.small_input, width=m.width,
                  zero_init_residual=m.zero_init_residual)
    return _config._zoo_constructor(m.name)(num_classes=k, in_channels=c, **m.args)


def _build_model_or_fail(cfg):
    try:
        return build_model(cfg)
    except (TypeError, ValueError) as e:  # e.g. a zoo constructor refusing one of model.args
        _fail(f"model: {e}")


def _eval_batch_size(cfg) -> int:
    # Convolutions expand their input (im2col: 9x the activations, Winograd: ~2.25x), so conv nets evaluate in
    # smaller batches.
    return 1000 if cfg.model.type == "mlp" else 250


def build_optimizer(cfg, model):
    from . import optim  # noqa: PLC0415
    o = cfg.train.optimizer
    params = model.parameters()
    if o.name == "sgd":
        return optim.SGD(params, lr=o.lr, momentum=o.momentum, nesterov=o.nesterov, weight_decay=o.weight_decay)
    if o.name == "adam":
        return optim.Adam(params, lr=o.lr, betas=o.betas, weight_decay=o.weight_decay)
    if o.name == "adamw":
        return optim.AdamW(params, lr=o.lr, betas=o.betas, weight_decay=o.weight_decay)
    if o.name == "rmsprop":
        return optim.RMSprop(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
    return optim.Adagrad(params, lr=o.lr, weight_decay=o.weight_decay)


def build_scheduler(cfg, optimizer, steps_per_epoch: int):
    """Returns (scheduler, interval) with interval 'batch' or 'epoch', or (None, None)."""
    from .optim import lr_scheduler as ls  # noqa: PLC0415
    s = cfg.train.scheduler
    epochs = cfg.train.epochs
    if s.name == "none":
        return None, None
    if s.name == "onecycle":
        max_lr = s.max_lr or cfg.train.optimizer.lr
        return ls.OneCycleLR(optimizer, max_lr=max_lr, epochs=epochs, steps_per_epoch=steps_per_epoch,
                             pct_start=s.pct_start), "batch"
    if s.name == "cosine":
        total = epochs * steps_per_epoch
        warmup = min(round(s.warmup_epochs * steps_per_epoch), total - 1)
        if warmup <= 0:
            return ls.CosineAnnealingLR(optimizer, T_max=total, eta_min=s.eta_min), "batch"
        return ls.SequentialLR(optimizer, [ls.LinearLR(optimizer, start_factor=0.01, total_iters=warmup),
                                           ls.CosineAnnealingLR(optimizer, T_max=total - warmup, eta_min=s.eta_min)],
                               milestones=[warmup]), "batch"
    if s.name == "step":
        return ls.StepLR(optimizer, step_size=s.step_size, gamma=s.gamma), "epoch"
    if s.name == "exponential":
        return ls.ExponentialLR(optimizer, gamma=s.gamma), "epoch"
    return ls.ReduceLROnPlateau(optimizer, patience=s.patience, factor=s.gamma), "epoch"


def _loss(cfg):
    from . import nn  # noqa: PLC0415
    return nn.CrossEntropyLoss(label_smoothing=cfg.train.label_smoothing)


def count_parameters(model) -> int:
    return int(sum(p.numel() for p in model.parameters()))


# ============================================================================ evaluation
def evaluate_model(model, dataset, loss_fn, batch_size: int = 1000) -> dict:
    """Test loss, accuracy, macro precision/recall/F1, per-class scores and the confusion matrix."""
    from .autograd import no_grad  # noqa: PLC0415
    from .train import metrics as M, predict  # noqa: PLC0415

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
    from . import tensor  # noqa: PLC0415
    from .utils.data import Subset  # noqa: PLC0415
    if isinstance(dataset, Subset):
        return _targets(dataset.dataset)[tensor(list(dataset.indices))]
    return dataset.targets


# ============================================================================ commands
def cmd_train(args) -> int:
    import nerve  # noqa: PLC0415
    nerve.backend.retain_freed_memory()  # a training process: reuse freed memory instead of re-faulting it
    from .train import callbacks as C, fit  # noqa: PLC0415
    from .train.checkpoint import checkpoint_exists, load_checkpoint  # noqa: PLC0415
    from .train.report import plot_confusion_matrix, plot_history, write_json, write_report  # noqa: PLC0415

    overrides = {}
    for item in args.set or []:
        if "=" not in item:
            _fail(f"--set expects key=value, got '{item}'")
        k, v = item.split("=", 1)
        overrides[k.strip()] = _config.parse_value(v)
    for flag, key in (("epochs", "train.epochs"), ("batch_size", "train.batch_size"), ("lr", "train.optimizer.lr"),
                      ("seed", "train.seed"), ("limit", "data.limit"), ("data", "data.root")):
        v = getattr(args, flag)
        if v is not None:
            overrides[key] = v
    try:
        cfg = _config.load(args.config, overrides)
    except _config.ConfigError as e:
        _fail(str(e))
    name = cfg.name
    out = Path(args.out or cfg.output.dir or f"runs/{name}-{time.strftime('%Y%m%d-%H%M%S')}")
    ckpt_dir = out / "checkpoint"
    if (out / "summary.json").exists() and not args.resume:
        _fail(f"{out} already holds a finished run; choose another --out")
    resume = None
    if checkpoint_exists(ckpt_dir):
        if not args.resume:
            _fail(f"{out} holds an unfinished run; continue it with --resume, or choose another --out")
        resume = ckpt_dir
    elif args.resume:
        print(f"nerve: no checkpoint in {ckpt_dir}; starting a new run", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    cfg_dict = _config.to_dict(cfg)
    _write_config(out / "config.yaml", cfg_dict)

    nerve.manual_seed(cfg.train.seed)
    try:
        train_ds, val_ds = build_train_val(cfg)
        test_ds = build_data(cfg, train=False)
    except (FileNotFoundError, RuntimeError) as e:
        _fail(str(e), 1)
    except ValueError as e:
        _fail(str(e))
    model = _build_model_or_fail(cfg)
    optimizer = build_optimizer(cfg, model)
    steps = -(-len(train_ds) // cfg.train.batch_size)
    scheduler, interval = build_scheduler(cfg, optimizer, steps)
    loss_fn = _loss(cfg)
    has_val = cfg.data.validation_split > 0
    monitor = "val_accuracy" if has_val else "accuracy"
    cbs = [C.CSVLogger(str(out / "metrics.csv"), append=resume is not None),
           C.ModelCheckpoint(str(out / "best"), monitor=monitor, mode="max", save_best_only=True)]
    if cfg.train.early_stopping is not None:
        es = cfg.train.early_stopping
        cbs.append(C.EarlyStopping(monitor=es.monitor, patience=es.patience, min_delta=es.min_delta,
                                   restore_best_weights=es.restore_best_weights))
    t0 = time.perf_counter()
    history = fit(model, train_ds, val_ds, loss=loss_fn,
                  optimizer=optimizer, epochs=cfg.train.epochs, batch_size=cfg.train.batch_size,
                  metrics=list(cfg.train.metrics), callbacks=cbs, scheduler=scheduler,
                  scheduler_interval=interval, l1=cfg.train.l1, l2=cfg.train.l2, grad_clip=cfg.train.grad_clip,
                  checkpoint_dir=str(ckpt_dir), checkpoint_every=cfg.train.checkpoint_every,
                  resume=str(resume) if resume else None, seed=cfg.train.seed, verbose=0 if args.quiet else 1)
    train_seconds = time.perf_counter() - t0
    if (out / "best").exists():
        load_checkpoint(out / "best", model=model)
    res = evaluate_model(model, test_ds, loss_fn, batch_size=_eval_batch_size(cfg))
    cm, per_class = res.pop("_confusion_matrix"), res.pop("_per_class")
    hist = {k: list(v) for k, v in history.history.items()}
    summary = {"name": name, **res, "epochs_run": len(hist.get("loss", [])), "train_seconds": train_seconds,
               "parameters": count_parameters(model), "best_checkpoint": "best",
               "final_train_loss": hist.get("loss", [None])[-1]}
    names = class_names(cfg)
    files = ["config.yaml", "metrics.csv", "best/", "checkpoint/", "summary.json", "report.md"]
    if cfg.output.plots:
        if plot_history(hist, out / "training_curves.png"):
            files.append("training_curves.png")
        if plot_confusion_matrix(cm, names, out / "confusion_matrix.png"):
            files.append("confusion_matrix.png")
    write_json(out / "confusion_matrix.json", {"classes": names, "matrix": cm})
    files.append("confusion_matrix.json")
    write_report(out / "report.md", name=name, summary=summary, config=cfg_dict, class_names=names,
                 per_class=per_class, files=files)
    write_json(out / "summary.json", summary)
    print(f"test_accuracy {summary['test_accuracy']:.4f}  test_loss {summary['test_loss']:.4f}  "
          f"({train_seconds:.1f} s training)  -> {out}")
    return 0


def _write_config(path, cfg_dict):
    from .train.report import atomic_write_text  # noqa: PLC0415
    try:
        import yaml  # noqa: PLC0415
        text = yaml.safe_dump(cfg_dict, sort_keys=False)
    except ImportError:  # pragma: no cover
        text = json.dumps(cfg_dict, indent=2)
    atomic_write_text(path, text)


def _load_run(run_dir):
    run = Path(run_dir)
    if not (run / "config.yaml").exists():
        _fail(f"{run} is not a run directory (no config.yaml)")
    try:
        cfg = _config.load(str(run / "config.yaml"))
    except _config.ConfigError as e:
        _fail(str(e))
    model = _build_model_or_fail(cfg)
    from .train.checkpoint import checkpoint_exists, load_checkpoint  # noqa: PLC0415
    src = run / "best" if checkpoint_exists(run / "best") else run / "checkpoint"
    if not checkpoint_exists(src):
        _fail(f"{run} has no checkpoint (looked for {run / 'best'} and {run / 'checkpoint'})")
    load_checkpoint(src, model=model)
    model.eval()
    return cfg, model


def cmd_evaluate(args) -> int:
    cfg, model = _load_run(args.run_dir)
    if args.data:
        cfg.data.root = args.data
    res = evaluate_model(model, build_data(cfg, train=False), _loss(cfg), batch_size=_eval_batch_size(cfg))
    res.pop("_per_class")
    cm = res.pop("_confusion_matrix")
    for k, v in res.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    from .train.report import write_json  # noqa: PLC0415
    write_json(Path(args.run_dir) / "evaluation.json", {**res, "confusion_matrix": cm})
    return 0


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


def cmd_predict(args) -> int:
    import nerve  # noqa: PLC0415
    cfg, model = _load_run(args.run_dir)
    names = class_names(cfg)
    mean, std = _NORMALIZE[cfg.data.dataset] if cfg.data.normalize else (0.0, 1.0)
    rows = []
    for f in args.files:
        p = Path(f)
        if not p.exists():
            _fail(f"{p}: no such file")
        try:
            x = _read_input(p)
        except ValueError as e:
            _fail(str(e))
        x = nerve.tensor((x - mean) / std).unsqueeze(1)  # (N, 1, 28, 28): every model type takes images
        bs = _eval_batch_size(cfg)
        with nerve.no_grad():
            probs = np.concatenate([nerve.softmax(model(x[i:i + bs]), dim=1).numpy() for i in range(0, len(x), bs)])
        for i, pr in enumerate(probs):
            k = int(pr.argmax())
            label = f"{p}[{i}]" if len(probs) > 1 else str(p)
            rows.append({"file": label, "class": k, "label": names[k], "probability": float(pr[k])})
            if not args.json:
                print(f"{label}: {names[k]} ({pr[k]:.3f})")
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


def cmd_configs(args) -> int:
    for n in _config.builtin_names():
        print(n)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nerve", description="Train, evaluate and use nerve models.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model from a built-in config or a YAML file")
    t.add_argument("config", nargs="?", default=None, help=f"built-in name or YAML path (default {_config.DEFAULT})")
    t.add_argument("--out", help="run directory (default runs/NAME-TIMESTAMP)")
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", dest="batch_size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--seed", type=int)
    t.add_argument("--limit", type=int, help="use only the first N training samples")
    t.add_argument("--data", help="folder with the dataset files")
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="override any config key")
    t.add_argument("--resume", action="store_true", help="continue the unfinished run in --out")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=cmd_train)
    e = sub.add_parser("evaluate", help="evaluate a run's best checkpoint on the test set")
    e.add_argument("run_dir")
    e.add_argument("--data", help="folder with the dataset files")
    e.set_defaults(func=cmd_evaluate)
    pr = sub.add_parser("predict", help="classify images or .npy arrays with a trained run")
    pr.add_argument("run_dir")
    pr.add_argument("files", nargs="+")
    pr.add_argument("--json", action="store_true", help="print the predictions as JSON only")
    pr.set_defaults(func=cmd_predict)
    c = sub.add_parser("configs", help="list built-in configs")
    c.set_defaults(func=cmd_configs)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
