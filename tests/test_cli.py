"""The ``nerve`` command: config validation, a short real training run, evaluate, predict, resume."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nerve import config as C

ROOT = Path(__file__).resolve().parent.parent
DEBIAN = Path("/usr/share/datasets/fashion-mnist")
needs_data = pytest.mark.skipif(not DEBIAN.exists(), reason="apt-get install dataset-fashion-mnist")


def run_cli(*args, env=None, check=True, timeout=300):
    e = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    e.update(env or {})
    p = subprocess.run([sys.executable, "-m", "nerve", *args], capture_output=True, text=True, env=e,
                       timeout=timeout, cwd=ROOT)
    if check and p.returncode != 0:
        raise AssertionError(f"nerve {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def test_builtin_default_config_is_valid():
    cfg = C.load(None)
    assert cfg.name == "fashion-mlp"
    assert "fashion-mlp" in C.builtin_names()


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(C.ConfigError, match=r"model\.foo: unknown key"):
        C.load(None, {"model.foo": 1})
    with pytest.raises(C.ConfigError, match=r"train\.optimizer\.lr: Input should be greater than 0"):
        C.load(None, {"train.optimizer.lr": -0.5})
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochs: many\n")
    with pytest.raises(C.ConfigError, match=r"train\.epochs"):
        C.load(str(bad))
    with pytest.raises(C.ConfigError, match="unknown config 'nope'"):
        C.load("nope")
    p = run_cli("train", "--set", "train.batch_size=0", "--out", str(tmp_path / "r"), check=False)
    assert p.returncode == 2 and "train.batch_size" in p.stderr


def test_yaml_config_file(tmp_path):
    f = tmp_path / "tiny.yaml"
    f.write_text("name: tiny\nmodel: {hidden: [16]}\ntrain: {epochs: 1, batch_size: 64}\n")
    cfg = C.load(str(f))
    assert cfg.model.hidden == [16] and cfg.train.epochs == 1 and cfg.name == "tiny"


@needs_data
def test_train_evaluate_predict(tmp_path):
    out = tmp_path / "run"
    p = run_cli("train", "--epochs", "2", "--limit", "2000", "--set", "model.hidden=[64]",
                "--set", "data.validation_split=0.1", "--out", str(out))
    assert "test_accuracy" in p.stdout
    for name in ("config.yaml", "metrics.csv", "summary.json", "report.md", "training_curves.png",
                 "confusion_matrix.png"):
        assert (out / name).exists(), name
    assert (out / "best" / "model.safetensors").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_accuracy"] > 0.6 and summary["test_samples"] == 10000
    assert (out / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = (out / "metrics.csv").read_text().strip().splitlines()
    assert rows[0].split(",")[:1] == ["epoch"] and len(rows) == 3 and "val_accuracy" in rows[0]

    ev = run_cli("evaluate", str(out))
    acc = float(next(line for line in ev.stdout.splitlines() if line.startswith("test_accuracy")).split()[-1])
    assert abs(acc - summary["test_accuracy"]) < 1e-9

    from nerve.vision.datasets import FashionMNIST
    ds = FashionMNIST(None, train=False)
    np.save(tmp_path / "three.npy", ds.data[:3].numpy())
    pr = run_cli("predict", str(out), str(tmp_path / "three.npy"), "--json")
    rows = json.loads(pr.stdout)
    assert len(rows) == 3 and all(0 <= r["class"] < 10 and 0 < r["probability"] <= 1 for r in rows)
    # a finished run is not overwritten
    again = run_cli("train", "--out", str(out), check=False)
    assert again.returncode == 2 and "finished run" in again.stderr


@needs_data
def test_killed_run_resumes_to_the_same_result(tmp_path):
    """SIGKILL mid-run, `nerve train --resume`: the final weights equal an uninterrupted run's."""
    args = ["--epochs", "2", "--limit", "1200", "--set", "model.hidden=[32]", "--set", "train.checkpoint_every=5",
            "--batch-size", "100", "--quiet"]
    full = tmp_path / "full"
    run_cli("train", *args, "--out", str(full))

    part = tmp_path / "part"
    e = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "nerve", "train", *args, "--out", str(part)], env=e, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = part / "checkpoint" / "checkpoint.json"
    import time
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if ckpt.exists() and json.loads(ckpt.read_text()).get("state", {}).get("global_step", 0) >= 10:
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.skip("the run finished before it could be killed (machine too fast for this test)")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (part / "summary.json").exists()
    refused = run_cli("train", *args, "--out", str(part), check=False)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    run_cli("train", *args, "--out", str(part), "--resume")

    import nerve
    a = nerve.load(str(full / "checkpoint" / "model.safetensors"))
    b = nerve.load(str(part / "checkpoint" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k].numpy(), b[k].numpy()), k
    sa = json.loads((full / "summary.json").read_text())
    sb = json.loads((part / "summary.json").read_text())
    assert sa["test_accuracy"] == sb["test_accuracy"]


@needs_data
def test_fashion_cnn_train_evaluate_predict(tmp_path):
    """The fashion-cnn config end to end (narrowed to keep it fast): train, then evaluate and predict reload
    the CNN from the run directory's config.yaml."""
    out = tmp_path / "cnn"
    p = run_cli("train", "fashion-cnn", "--epochs", "1", "--limit", "256", "--set", "model.channels=[4, 8]",
                "--set", "model.hidden=[16]", "--set", "data.validation_split=0.25", "--batch-size", "64",
                "--set", "output.plots=false", "--quiet", "--out", str(out))
    assert "test_accuracy" in p.stdout
    import yaml
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["model"]["type"] == "cnn" and saved["model"]["channels"] == [4, 8]
    assert [a["name"] for a in saved["data"]["augment"]] == ["random_crop", "random_horizontal_flip"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_samples"] == 10000 and summary["parameters"] > 0
    rows = (out / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 2 and "val_accuracy" in rows[0]

    ev = run_cli("evaluate", str(out))
    acc = float(next(line for line in ev.stdout.splitlines() if line.startswith("test_accuracy")).split()[-1])
    assert abs(acc - summary["test_accuracy"]) < 1e-9

    from nerve.vision.datasets import FashionMNIST
    np.save(tmp_path / "two.npy", FashionMNIST(None, train=False).data[:2].numpy())
    rows = json.loads(run_cli("predict", str(out), str(tmp_path / "two.npy"), "--json").stdout)
    assert len(rows) == 2 and all(0 <= r["class"] < 10 for r in rows)


def test_train_config_errors_for_new_keys(tmp_path, capsys):
    from nerve import cli
    for setting, messages in (
            ("data.augment=[{name: flip}]", ["data.augment.0.name: unknown transform name", "random_horizontal_flip"]),
            ("model.hidden_size=3", ["model.hidden_size: unknown key for model type 'cnn'", "channels"])):
        with pytest.raises(SystemExit) as e:
            cli.main(["train", "fashion-cnn", "--set", setting, "--out", str(tmp_path / "r")])
        err = capsys.readouterr().err
        assert e.value.code == 2 and all(m in err for m in messages), err
    assert not (tmp_path / "r").exists()
