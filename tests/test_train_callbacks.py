"""nerve.train.callbacks: Keras semantics of each callback, hook order, stopping, progress display."""
import csv
import io
import math
import sys

import numpy as np
import pytest

import nerve
from nerve import nn
from nerve.train import History, ProgbarLogger, fit
from nerve.train import callbacks as C


def blobs(n=64, d=4, c=2, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    X = (rng.normal(0, 2, size=(c, d))[y] + rng.normal(0, 1, size=(n, d))).astype(np.float32)
    return X, y


def mlp(seed=0):
    nerve.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def run(callbacks, epochs=5, X=None, y=None, **kw):
    if X is None:
        X, y = blobs()
    model = kw.pop("model", None) or mlp()
    args = dict(loss="cross_entropy", optimizer="sgd", epochs=epochs, batch_size=16, verbose=0, seed=0)
    args.update(kw)
    return model, fit(model, (X, y), callbacks=callbacks, **args)


def scripted(key, values):
    """A callback that writes values[epoch] into the epoch logs under ``key`` (for the callbacks after it)."""
    return C.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__(key, values[epoch]))


class FakeModel:
    stop_training = False


def drive(cb, values, key="val_loss"):
    """Run a callback's epoch-end logic over ``values`` like fit would; returns the epochs it ran."""
    cb.set_model(FakeModel())
    cb.on_train_begin({})
    ran = []
    for epoch, v in enumerate(values):
        ran.append(epoch)
        cb.on_epoch_end(epoch, {key: v})
        if cb.model.stop_training:
            break
    cb.on_train_end({})
    return ran


# ------------------------------------------------------------------------------------ EarlyStopping
def test_early_stopping_keras_doc_example():
    """Keras' docstring: patience=3 on a loss that never improves runs 4 epochs."""
    _, h = run([C.EarlyStopping(monitor="loss", patience=3)], epochs=10, optimizer_kwargs={"lr": 0.0}, shuffle=False)
    assert len(h.history["loss"]) == 4


def test_early_stopping_patience_min_delta_mode():
    assert drive(C.EarlyStopping(patience=2), [5, 4, 4.5, 4.2, 3, 3, 3, 3]) == [0, 1, 2, 3]
    assert drive(C.EarlyStopping(patience=2, min_delta=0.5), [5, 4.6, 4.2, 3.0, 2.9, 2.8]) == [0, 1, 2, 3, 4, 5]
    assert drive(C.EarlyStopping(patience=1, min_delta=0.5), [5, 4.6, 4.2]) == [0, 1]
    assert drive(C.EarlyStopping(monitor="val_accuracy", patience=1), [0.5, 0.6, 0.55, 0.7],
                 key="val_accuracy") == [0, 1, 2]
    assert drive(C.EarlyStopping(monitor="val_accuracy", patience=1, mode="min"), [0.5, 0.6],
                 key="val_accuracy") == [0, 1]


def test_early_stopping_baseline_and_start_from_epoch():
    # Keras: improvements that do not beat the baseline do not reset the patience counter.
    assert drive(C.EarlyStopping(patience=2, baseline=1.0), [5, 4, 4.5, 3, 2]) == [0, 1, 2]
    assert drive(C.EarlyStopping(patience=2), [5, 4, 4.5, 3, 2]) == [0, 1, 2, 3, 4]
    assert drive(C.EarlyStopping(patience=1, start_from_epoch=3), [5, 6, 7, 8, 9, 10]) == [0, 1, 2, 3, 4]


def test_early_stopping_restores_best_weights():
    snapshots = {}
    snap = C.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.__setitem__(
        e, {k: v.numpy().copy() for k, v in model.state_dict().items()}))
    values = [3.0, 1.0, 2.0, 2.5, 2.7, 2.8]
    es = C.EarlyStopping(monitor="fake", mode="min", patience=2, restore_best_weights=True)
    model = mlp()
    _, h = run([scripted("fake", values), snap, es], epochs=6, model=model)
    assert h.epoch == [0, 1, 2, 3]
    assert es.best_epoch == 1 and es.stopped_epoch == 3
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), snapshots[1][k])


def test_early_stopping_missing_monitor_warns():
    with pytest.warns(UserWarning, match="'val_loss', which is not available"):
        run([C.EarlyStopping()], epochs=1)


def test_monitor_mode_auto_needs_a_known_direction():
    with pytest.raises(ValueError, match="mode='min' or mode='max'"):
        C.EarlyStopping(monitor="weird_number")
    assert C.EarlyStopping(monitor="val_f1").mode == "max"
    assert C.EarlyStopping(monitor="val_mae").mode == "min"


# ------------------------------------------------------------------------------------ LR callbacks
def test_reduce_lr_on_plateau_keras_semantics():
    values = [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 0.5, 0.6, 0.7]
    cb = C.ReduceLROnPlateau(monitor="fake", mode="min", factor=0.5, patience=2, cooldown=1, min_lr=0.02,
                             min_delta=0.0)
    lrs = []
    rec = C.LambdaCallback(on_epoch_end=lambda e, logs: lrs.append(logs["lr"]))
    final = []
    end = C.LambdaCallback(on_train_end=lambda logs: final.append(cb.trainer.optimizer.param_groups[0]["lr"]))
    run([scripted("fake", values), cb, rec, end], epochs=10, optimizer_kwargs={"lr": 0.1})
    # Traced from Keras' code: best at epoch 1; waits 2, 3 -> cut after epoch 3; epoch 4 ends the
    # cooldown and waits (1), 5 waits (2) -> cut; 7 improves; 8, 9 wait -> cut, capped by min_lr.
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025])
    assert final == [pytest.approx(0.02)]


def test_lr_scheduler_callback_epoch_and_batch():
    model = mlp()
    opt = nerve.optim.SGD(model.parameters(), lr=0.1)
    sched = nerve.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    _, h = run([C.LRScheduler(sched)], epochs=3, model=model, optimizer=opt)
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.025])

    model = mlp()
    opt = nerve.optim.SGD(model.parameters(), lr=0.1)
    sched = nerve.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=8)
    ref_opt = nerve.optim.SGD(mlp().parameters(), lr=0.1)
    ref = nerve.optim.lr_scheduler.OneCycleLR(ref_opt, max_lr=0.3, total_steps=8)
    expected = []
    for _ in range(8):
        ref_opt.step()
        ref.step()
        expected.append(ref_opt.param_groups[0]["lr"])
    seen = []
    rec = C.LambdaCallback(on_batch_end=lambda b, logs: seen.append(opt.param_groups[0]["lr"]))
    run([C.LRScheduler(sched, interval="batch"), rec], epochs=2, model=model, optimizer=opt)
    assert seen == pytest.approx(expected)

    model = mlp()
    opt = nerve.optim.SGD(model.parameters(), lr=0.1)
    plateau = nerve.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, threshold=10.0, threshold_mode="abs")
    _, h = run([C.LRScheduler(plateau, monitor="loss")], epochs=3, model=model, optimizer=opt)
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.01])


def test_learning_rate_scheduler_keras_style():
    _, h = run([C.LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.1)], epochs=4,
               optimizer_kwargs={"lr": 0.1})
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.01, 0.001])
    _, h = run([C.LearningRateScheduler(lambda epoch: 0.5 / (epoch + 1))], epochs=2)
    assert h.history["lr"] == pytest.approx([0.5, 0.25])


# ------------------------------------------------------------------------------------ logging / saving
def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_logger(tmp_path):
    path = tmp_path / "logs" / "log.csv"
    run([C.CSVLogger(path)], epochs=2, metrics=["accuracy"])
    rows = read_csv(path)
    assert rows[0] == ["epoch", "accuracy", "loss", "lr"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    run([C.CSVLogger(path, append=True)], epochs=1, metrics=["accuracy"])
    rows = read_csv(path)
    assert len(rows) == 4 and rows[0][0] == "epoch" and rows[3][0] == "0"
    run([C.CSVLogger(path)], epochs=1, metrics=["accuracy"])
    assert len(read_csv(path)) == 2  # overwritten


def test_model_checkpoint_weights_only_best_and_epoch_format(tmp_path):
    from nerve.serialization import load

    snapshots = {}
    model = mlp()
    snap = C.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.__setitem__(
        e, {k: v.numpy().copy() for k, v in model.state_dict().items()}))
    values = [3.0, 1.0, 2.0, 0.5]
    ck = C.ModelCheckpoint(str(tmp_path / "w-{epoch:02d}.safetensors"), monitor="fake", mode="min",
                           save_best_only=True, save_weights_only=True)
    run([scripted("fake", values), snap, ck], epochs=4, model=model)
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved == ["w-01.safetensors", "w-02.safetensors", "w-04.safetensors"]
    sd = load(str(tmp_path / "w-02.safetensors"))
    for k, v in sd.items():
        np.testing.assert_array_equal(v.numpy(), snapshots[1][k])


def test_model_checkpoint_full_checkpoint_loads_back(tmp_path):
    from nerve.train.checkpoint import load_checkpoint

    model, h = run([C.ModelCheckpoint(tmp_path / "best", monitor="loss", save_best_only=True)], epochs=3,
                   optimizer="adam")
    fresh = mlp(seed=1)
    opt = nerve.optim.Adam(fresh.parameters())
    state = load_checkpoint(tmp_path / "best", model=fresh, optimizer=opt)
    best_epoch = int(np.argmin(h.history["loss"])) + 1
    assert state["epoch"] == best_epoch
    assert state["logs"]["loss"] == min(h.history["loss"])
    if best_epoch == 3:
        for k, v in model.state_dict().items():
            np.testing.assert_array_equal(fresh.state_dict()[k].numpy(), v.numpy())


def test_terminate_on_nan(capsys):
    calls = []

    def bad_loss(out, y):
        calls.append(1)
        loss = nn.functional.cross_entropy(out, y)
        return loss * float("nan") if len(calls) == 2 else loss

    _, h = run([C.TerminateOnNaN()], epochs=3, loss=bad_loss)
    assert len(calls) == 2  # stopped right after the second batch
    assert h.epoch == [0]
    assert math.isnan(h.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


# ------------------------------------------------------------------------------------ mechanics
def test_hook_order_and_counts():
    events = []

    class Rec(C.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_batch_begin(self, batch, logs=None):  # Keras' old name still works
            events.append(f"batch_begin {batch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append(f"batch_end {batch} {sorted(logs)}")

        def on_test_begin(self, logs=None):
            events.append("test_begin")

        def on_test_batch_end(self, batch, logs=None):
            events.append(f"test_batch_end {batch}")

        def on_test_end(self, logs=None):
            events.append(f"test_end {sorted(logs)}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {list(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    X, y = blobs(n=48)
    run([Rec()], epochs=2, X=X, y=y, validation_split=0.25, metrics=["accuracy"])
    batch = ["batch_begin {b}", "batch_end {b} ['accuracy', 'loss']"]
    epoch = (["epoch_begin {e}"] + [s.format(b=b) for b in range(3) for s in batch]
             + ["test_begin", "test_batch_end 0", "test_end ['val_accuracy', 'val_loss']",
                "epoch_end {e} ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr']"])
    expected = ["train_begin"] + [s.format(e=e) for e in range(2) for s in epoch] + ["train_end"]
    assert events == expected


def test_callback_sees_model_params_and_trainer():
    seen = {}

    class Look(C.Callback):
        def on_train_begin(self, logs=None):
            seen["params"] = dict(self.params)
            seen["model"] = self.model
            seen["opt"] = self.trainer.optimizer

        def on_train_batch_end(self, batch, logs=None):
            seen["step"] = self.trainer.global_step

    model, _ = run([Look()], epochs=2, optimizer="adam")
    assert seen["params"] == {"epochs": 2, "steps": 4, "verbose": 0}
    assert seen["model"] is model
    assert isinstance(seen["opt"], nerve.optim.Adam)
    assert seen["step"] == 8


def test_stop_training_mid_epoch_still_validates_and_ends():
    steps = []

    class StopAt(C.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append(batch)
            if self.trainer.global_step == 6:
                self.model.stop_training = True

    _, h = run([StopAt()], epochs=5, validation_split=0.25)
    assert steps == [0, 1, 2, 0, 1, 2]  # 48 training samples: 3 batches per epoch; stops at the end of epoch 1
    assert h.epoch == [0, 1] and len(h.history["val_loss"]) == 2

    steps.clear()

    class StopEarly(C.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append(batch)
            if batch == 1:
                self.model.stop_training = True

    _, h = run([StopEarly()], epochs=5, validation_split=0.25)
    assert steps == [0, 1] and h.epoch == [0] and len(h.history["val_loss"]) == 1


def test_lambda_callback_validates_hooks():
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_ends'"):
        C.LambdaCallback(on_epoch_ends=print)
    with pytest.raises(TypeError, match="must be callable"):
        C.LambdaCallback(on_epoch_end=3)
    got = []
    run([C.LambdaCallback(on_train_batch_end=lambda b, logs: got.append(b))], epochs=1)
    assert got == [0, 1, 2, 3]


def test_batch_logs_are_running_averages_and_skipped_when_unneeded():
    losses, logs_seen = [], []

    def loss_fn(out, y):
        loss = nn.functional.cross_entropy(out, y)
        losses.append((loss.item(), y.shape[0]))
        return loss

    run([C.LambdaCallback(on_batch_end=lambda b, logs: logs_seen.append(logs["loss"]))], epochs=1,
        X=blobs(n=40)[0], y=blobs(n=40)[1], loss=loss_fn)
    for i, v in enumerate(logs_seen):
        tot = sum(l * n for l, n in losses[:i + 1])
        cnt = sum(n for _, n in losses[:i + 1])
        assert v == pytest.approx(tot / cnt)

    empty = []

    class NoLogs(C.Callback):
        def wants_batch_logs(self):
            return False

        def on_train_batch_end(self, batch, logs=None):
            empty.append(logs)

    run([NoLogs()], epochs=1)
    assert empty == [{}] * 4


def test_callback_state_dicts_roundtrip():
    es = C.EarlyStopping(patience=3)
    drive(es, [3.0, 2.0, 2.5])
    es2 = C.EarlyStopping(patience=3)
    es2.load_state_dict(es.state_dict())
    assert (es2.wait, es2.best, es2.best_epoch) == (1, 2.0, 1)
    r = C.ReduceLROnPlateau()
    assert C.ReduceLROnPlateau().state_dict() == r.state_dict()
    assert r.state_dict()["best"] == math.inf


# ------------------------------------------------------------------------------------ progress
class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(monkeypatch):
    out = FakeTTY()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr("nerve.train.progress._REFRESH", 0.0)
    run([], epochs=2, verbose=1, metrics=["accuracy"])
    text = out.getvalue()
    if "tqdm" in sys.modules:  # pragma: no cover - depends on the environment
        return
    assert "\r" in text and "[" in text
    lines = [ln.split("\r")[-1].rstrip() for ln in text.split("\n") if ln]
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2 - ") and " - accuracy: " in lines[0] and lines[0].endswith("lr: 0.01")


def test_verbose_2_prints_lines_even_on_a_terminal(monkeypatch):
    out = FakeTTY()
    monkeypatch.setattr(sys, "stdout", out)
    run([], epochs=2, verbose=2)
    assert "\r" not in out.getvalue()
    assert len(out.getvalue().splitlines()) == 2


def test_progbar_formats_small_values():
    from nerve.train.progress import format_logs
    assert format_logs({"loss": 0.5, "tiny": 1e-6, "lr": 3e-4, "cm": [1, 2]}) == \
        "loss: 0.5000 - tiny: 1.0000e-06 - lr: 0.0003"


def test_history_and_progbar_are_public():
    assert issubclass(History, C.Callback) and issubclass(ProgbarLogger, C.Callback)
