"""fit(checkpoint_dir=..., resume=...): a run killed with SIGKILL and resumed ends bit-identical to an
uninterrupted one (weights, history, CSV log); damaged checkpoints give clear errors."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest

import nerve
from nerve import nn
from nerve.train import fit
from nerve.train import callbacks as C

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# 200 samples, validation_split=0.2 -> 160 training samples, batch 16 -> 10 steps per epoch, 3 epochs.
SCRIPT = textwrap.dedent('''
    import json, os, signal, sys
    import numpy as np
    import nerve
    from nerve import nn
    from nerve.train import fit, callbacks as C
    from nerve.utils.data import DataLoader, TensorDataset

    class Kill(C.Callback):
        """SIGKILLs this process after global step N ('step:N') or at the end of epoch E ('epoch:E')."""
        def __init__(self, spec):
            super().__init__()
            self.what, n = spec.split(":")
            self.n = int(n)
        def on_train_batch_end(self, batch, logs=None):
            if self.what == "step" and self.trainer.global_step == self.n:
                os.kill(os.getpid(), signal.SIGKILL)
        def on_epoch_end(self, epoch, logs=None):
            if self.what == "epoch" and epoch == self.n:
                os.kill(os.getpid(), signal.SIGKILL)

    def main(mode, kind, ckpt, out, kill):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(200, 12)).astype(np.float32)
        y = (X[:, :3].sum(1) > 0).astype(np.int64) + (X[:, 3] > 0.5)
        nerve.manual_seed(0)
        model = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 16), nn.ReLU(),
                              nn.Dropout(0.2), nn.Linear(16, 3))
        cbs = [C.EarlyStopping(monitor="val_loss", patience=10),
               C.ReduceLROnPlateau(monitor="val_loss", patience=1, factor=0.5, min_delta=10.0),
               C.CSVLogger(os.path.join(os.path.dirname(out), "log.csv"), append=(mode == "resume"))]
        if mode == "kill":
            cbs.append(Kill(kill))  # after CSVLogger: an 'epoch:E' kill leaves a CSV row the checkpoint lacks
        common = dict(loss="cross_entropy", metrics=["accuracy", "f1"], epochs=3, callbacks=cbs, verbose=0,
                      checkpoint_dir=ckpt, checkpoint_every=3, resume=ckpt if mode == "resume" else None)
        if kind == "arrays":
            opt = nerve.optim.Adam(model.parameters(), lr=1e-2)
            sched = nerve.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
            h = fit(model, (X, y), validation_split=0.2, optimizer=opt, scheduler=sched, batch_size=16, seed=123,
                    l2=1e-3, **common)
        else:
            # A user DataLoader shuffled by nerve's default generator (no seed of fit's involved).
            Xt, yt = nerve.from_numpy(X), nerve.from_numpy(y)
            train = DataLoader(TensorDataset(Xt[:160], yt[:160]), batch_size=16, shuffle=True)
            val = DataLoader(TensorDataset(Xt[160:], yt[160:]), batch_size=32)
            h = fit(model, train, val, optimizer="sgd", optimizer_kwargs={"lr": 0.05, "momentum": 0.9}, **common)
        np.savez(out, **{k: v.numpy() for k, v in model.state_dict().items()})
        with open(out + ".json", "w") as f:
            json.dump({"history": h.history, "epoch": h.epoch}, f)


    if __name__ == "__main__":
        main(*sys.argv[1:6])
''')


@pytest.fixture
def fast_dir(tmp_path):
    """A scratch directory on tmpfs when there is one: checkpoints fsync, which costs ~30 ms a save on disk."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        d = tempfile.mkdtemp(prefix="nerve-test-", dir="/dev/shm")
        yield type(tmp_path)(d)
        shutil.rmtree(d, ignore_errors=True)
    else:
        yield tmp_path


def _run(tmp_path, *args):
    script = tmp_path / "train_script.py"
    if not script.exists():
        script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, str(script), *map(str, args)], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=120)


def _load(out):
    with np.load(str(out)) as z:
        weights = {k: z[k] for k in z.files}
    with open(str(out) + ".json") as f:
        return weights, json.load(f)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Uninterrupted runs, one per data kind (in this process: only the killed and resumed runs need their own)."""
    shm = os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK)
    ns = {"__name__": "train_script"}
    exec(compile(SCRIPT, "train_script.py", "exec"), ns)
    refs = {}
    state = nerve.get_rng_state()
    try:
        for kind in ("arrays", "loader"):
            d = tmp_path_factory.mktemp(f"ref_{kind}")
            ckpt = tempfile.mkdtemp(prefix="nerve-test-", dir="/dev/shm") if shm else str(d / "ckpt")
            try:
                ns["main"]("full", kind, os.path.join(ckpt, "c"), str(d / "out.npz"), "none")
            finally:
                if shm:
                    shutil.rmtree(ckpt, ignore_errors=True)
            refs[kind] = (*_load(d / "out.npz"), (d / "log.csv").read_text())
    finally:
        nerve.set_rng_state(state)
    return refs


@pytest.mark.parametrize("kind,kill", [
    ("arrays", "step:17"),   # mid-epoch 1; last checkpoint after step 15 (mid-epoch)
    ("arrays", "step:21"),   # first batch of epoch 2; last checkpoint: end of epoch 1
    ("arrays", "epoch:1"),   # inside on_epoch_end of epoch 1, after its CSV row, before its checkpoint
    ("loader", "step:14"),   # DataLoader order re-drawn from the epoch-start RNG state, 2 batches skipped
])
def test_sigkill_then_resume_is_bit_identical(tmp_path, fast_dir, reference, kind, kill):
    ckpt = fast_dir / "ckpt"
    r = _run(tmp_path, "kill", kind, ckpt, tmp_path / "out.npz", kill)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    assert not (tmp_path / "out.npz").exists()
    r = _run(tmp_path, "resume", kind, ckpt, tmp_path / "out.npz", "none")
    assert r.returncode == 0, r.stderr
    weights, hist = _load(tmp_path / "out.npz")
    ref_weights, ref_hist, ref_csv = reference[kind]
    assert weights.keys() == ref_weights.keys()
    for k in weights:
        assert np.array_equal(weights[k], ref_weights[k]), k
    assert hist == ref_hist
    assert hist["epoch"] == [0, 1, 2]
    assert (tmp_path / "log.csv").read_text() == ref_csv


# ---------------------------------------------------------------------------------------------- errors
def _small_run(ckpt, **kw):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.integers(0, 2, 64)
    nerve.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    args = dict(loss="cross_entropy", optimizer="adam", epochs=2, batch_size=16, verbose=0, checkpoint_dir=ckpt,
                seed=0)
    args.update(kw)
    return model, fit(model, (X, y), **args)


def test_truncated_checkpoint_file_is_a_clear_error(tmp_path):
    ckpt = tmp_path / "ckpt"
    _small_run(ckpt)
    f = ckpt / "model.safetensors"
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError, match="truncated") as info:
        _small_run(ckpt, resume=ckpt, epochs=3)
    assert "model.safetensors" in str(info.value)
    assert any("resuming fit" in n for n in getattr(info.value, "__notes__", []))


def test_corrupt_checkpoint_json_is_a_clear_error(tmp_path):
    ckpt = tmp_path / "ckpt"
    _small_run(ckpt)
    meta = ckpt / "checkpoint.json"
    meta.write_text(meta.read_text()[:100])
    with pytest.raises(RuntimeError, match="checkpoint.json.*JSON"):
        _small_run(ckpt, resume=ckpt, epochs=3)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        _small_run(tmp_path / "c2", resume=tmp_path / "nowhere")


def test_resume_true_starts_fresh_without_checkpoint_then_continues(tmp_path):
    ckpt = tmp_path / "ckpt"
    _, h = _small_run(ckpt, resume=True, epochs=1)
    assert h.epoch == [0]
    _, h2 = _small_run(ckpt, resume=True, epochs=3)
    assert h2.epoch == [0, 1, 2]
    assert h2.history["loss"][0] == h.history["loss"][0]
    _, h3 = _small_run(ckpt, resume=True, epochs=3)  # finished: nothing more to do
    assert h3.epoch == [0, 1, 2]


def test_resume_with_other_batch_size_is_refused(tmp_path):
    ckpt = tmp_path / "ckpt"
    _small_run(ckpt)
    with pytest.raises(ValueError, match="steps per epoch"):
        _small_run(ckpt, resume=ckpt, batch_size=32, epochs=3)


def test_resume_from_a_model_checkpoint_dir_is_refused(tmp_path):
    best = tmp_path / "best"
    _small_run(None, callbacks=[C.ModelCheckpoint(str(best), monitor="loss")])
    with pytest.raises(ValueError, match="not written by fit"):
        _small_run(None, resume=best, epochs=3)


def test_checkpoint_every_needs_dir():
    with pytest.raises(ValueError, match="checkpoint_dir"):
        _small_run(None, checkpoint_every=2)


def test_in_process_interrupt_and_resume_matches(tmp_path):
    """An exception mid-epoch (not a kill), then resume in the same process."""
    class Boom(Exception):
        pass

    class Crash(C.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.trainer.global_step == 6:
                raise Boom

    ref_model, ref = _small_run(tmp_path / "a", epochs=3, checkpoint_every=2, metrics=["accuracy"])
    with pytest.raises(Boom):
        _small_run(tmp_path / "b", epochs=3, checkpoint_every=2, metrics=["accuracy"], callbacks=[Crash()])
    model, h = _small_run(tmp_path / "b", epochs=3, checkpoint_every=2, metrics=["accuracy"],
                          resume=tmp_path / "b")
    assert h.history == ref.history
    for (k, a), (_, b) in zip(ref_model.state_dict().items(), model.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), k
