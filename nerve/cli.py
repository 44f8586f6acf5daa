"""The ``nerve`` command: train a model from a config, evaluate a run, predict with it.

    nerve train [NAME|CONFIG.yaml] [--out DIR] [--epochs N] [--set key=value ...] [--resume]
    nerve evaluate RUN_DIR
    nerve predict RUN_DIR INPUTS... [--text]  (images, .npy arrays, text files; texts with --text)
    nerve configs                           (list the built-in configs)

The config's dataset picks the task (image classification, character language model, topic
classification, seq2seq, forecasting: see nerve/tasks). A run directory holds: config.yaml,
task.json (vocabularies / scaling the model depends on), metrics.csv, best/ (the best checkpoint),
checkpoint/ (the latest resumable state), summary.json (final test metrics), training_curves.png,
report.md, and the task's own files (confusion matrix, generated samples, ...).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import config as _config


def _fail(msg: str, code: int = 2):
    print(f"nerve: error: {msg}", file=sys.stderr)
    raise SystemExit(code)


# ============================================================================ building blocks
# Image-task helpers, kept importable from here.
from .tasks.image import (  # noqa: E402, F401
    build_data, build_train_val, build_transform, class_names, evaluate_model,
)


def build_model(cfg, info=None):
    """The network of ``cfg.model`` for the dataset's task (``info``: a reloaded run's task.json)."""
    from . import tasks  # noqa: PLC0415
    return tasks.get(cfg, info).build_model()


def _build_model_or_fail(task):
    try:
        return task.build_model()
    except (TypeError, ValueError) as e:  # e.g. a zoo constructor refusing one of model.args
        _fail(f"model: {e}")


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


def count_parameters(model) -> int:
    return int(sum(p.numel() for p in model.parameters()))


# ============================================================================ commands
def _loss(cfg):
    from . import tasks  # noqa: PLC0415
    return tasks.get(cfg).loss()


def cmd_train(args) -> int:
    import nerve  # noqa: PLC0415
    nerve.backend.retain_freed_memory()  # a training process: reuse freed memory instead of re-faulting it
    from . import tasks  # noqa: PLC0415
    from .train import callbacks as C, fit  # noqa: PLC0415
    from .train.checkpoint import checkpoint_exists, load_checkpoint  # noqa: PLC0415
    from .train.report import plot_history, write_json, write_report  # noqa: PLC0415

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
    task = tasks.get(cfg)
    try:
        train_ds, val_ds, test_ds = task.build_data()
    except (FileNotFoundError, RuntimeError, ImportError) as e:
        _fail(str(e), 1)
    except ValueError as e:
        _fail(str(e))
    write_json(out / "task.json", task.info)  # what the model depends on besides its weights (vocabularies ...)
    model = _build_model_or_fail(task)
    optimizer = build_optimizer(cfg, model)
    steps = -(-len(train_ds) // cfg.train.batch_size)
    scheduler, interval = build_scheduler(cfg, optimizer, steps)
    monitor, mode = task.monitor(val_ds is not None)
    cbs = [C.CSVLogger(str(out / "metrics.csv"), append=resume is not None),
           C.ModelCheckpoint(str(out / "best"), monitor=monitor, mode=mode, save_best_only=True)]
    if cfg.train.early_stopping is not None:
        es = cfg.train.early_stopping
        cbs.append(C.EarlyStopping(monitor=es.monitor, patience=es.patience, min_delta=es.min_delta,
                                   restore_best_weights=es.restore_best_weights))
    t0 = time.perf_counter()
    history = fit(model, train_ds, val_ds, loss=task.loss(),
                  optimizer=optimizer, epochs=cfg.train.epochs, batch_size=cfg.train.batch_size,
                  metrics=task.metrics(), callbacks=cbs, scheduler=scheduler,
                  scheduler_interval=interval, l1=cfg.train.l1, l2=cfg.train.l2, grad_clip=cfg.train.grad_clip,
                  checkpoint_dir=str(ckpt_dir), checkpoint_every=cfg.train.checkpoint_every,
                  resume=str(resume) if resume else None, seed=cfg.train.seed, verbose=0 if args.quiet else 1,
                  validation_batch_size=task.eval_batch_size)
    train_seconds = time.perf_counter() - t0
    if (out / "best").exists():
        load_checkpoint(out / "best", model=model)
    res = task.evaluate(model, test_ds, out)
    report, extra_files = res.pop("_report", {}), res.pop("_files", [])
    res.pop("_confusion_matrix", None)
    hist = {k: list(v) for k, v in history.history.items()}
    summary = {"name": name, "task": task.name, **res, "epochs_run": len(hist.get("loss", [])),
               "train_seconds": train_seconds, "parameters": count_parameters(model), "best_checkpoint": "best",
               "final_train_loss": hist.get("loss", [None])[-1]}
    files = ["config.yaml", "task.json", "metrics.csv", "best/", "checkpoint/", "summary.json", "report.md"]
    if cfg.output.plots and plot_history(hist, out / "training_curves.png"):
        files.append("training_curves.png")
    files += extra_files
    write_report(out / "report.md", name=name, summary=summary, config=cfg_dict, files=files, **report)
    write_json(out / "summary.json", summary)
    shown = [k for k in summary if k.startswith("test_") and isinstance(summary[k], float)][:3]
    print("  ".join(f"{k} {summary[k]:.4f}" for k in shown) + f"  ({train_seconds:.1f} s training)  -> {out}")
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
    """(task, model) of a finished or unfinished run directory, the model in eval mode."""
    from . import tasks  # noqa: PLC0415
    run = Path(run_dir)
    if not (run / "config.yaml").exists():
        _fail(f"{run} is not a run directory (no config.yaml)")
    try:
        cfg = _config.load(str(run / "config.yaml"))
    except _config.ConfigError as e:
        _fail(str(e))
    info = json.loads((run / "task.json").read_text()) if (run / "task.json").exists() else None
    task = tasks.get(cfg, info)
    model = _build_model_or_fail(task)
    from .train.checkpoint import checkpoint_exists, load_checkpoint  # noqa: PLC0415
    src = run / "best" if checkpoint_exists(run / "best") else run / "checkpoint"
    if not checkpoint_exists(src):
        _fail(f"{run} has no checkpoint (looked for {run / 'best'} and {run / 'checkpoint'})")
    load_checkpoint(src, model=model)
    model.eval()
    return task, model


def cmd_evaluate(args) -> int:
    task, model = _load_run(args.run_dir)
    if args.data:
        task.cfg.data.root = args.data
    try:
        _, _, test = task.build_data()
    except (FileNotFoundError, RuntimeError, ImportError) as e:
        _fail(str(e), 1)
    res = task.evaluate(model, test)
    res.pop("_report", None)
    res.pop("_files", None)
    extra = {"confusion_matrix": res.pop("_confusion_matrix")} if "_confusion_matrix" in res else {}
    for k, v in res.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    from .train.report import write_json  # noqa: PLC0415
    write_json(Path(args.run_dir) / "evaluation.json", {**res, **extra})
    return 0


def cmd_predict(args) -> int:
    task, model = _load_run(args.run_dir)
    inputs = list(args.inputs)
    if not args.text:
        for f in inputs:
            if not Path(f).exists():
                _fail(f"{f}: no such file")
    try:
        rows = task.predict(model, inputs, text=args.text)
    except (ValueError, NotImplementedError) as e:
        _fail(str(e))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(task.format_row(r))
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
    pr = sub.add_parser("predict", help="use a trained run: classify images / .npy arrays or texts, translate, "
                                        "or generate text from prompts")
    pr.add_argument("run_dir")
    pr.add_argument("inputs", nargs="+", metavar="INPUT", help="files (or texts with --text)")
    pr.add_argument("--text", action="store_true", help="the inputs are texts (prompts, sentences), not files")
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
