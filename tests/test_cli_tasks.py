"""``nerve train`` on the sequence tasks, each on a small slice of its real data: the run finishes, its
figures are sane and reproducible, and ``nerve evaluate`` / ``nerve predict`` reload the trained model."""
import json
import math
from pathlib import Path

import pytest

from nerve import config as C
from tests.test_cli import run_cli

FORTUNES = Path("/usr/share/games/fortunes")
needs_fortunes = pytest.mark.skipif(not (FORTUNES / "computers").exists(), reason="apt-get install fortunes")


def _fortune_slice(tmp_path, topics=("computers", "food", "startrek"), n=80):
    """A folder of the first ``n`` fortunes of a few real topic files (a user's own fortune files)."""
    root = tmp_path / "fortunes"
    root.mkdir()
    for t in topics:
        parts = (FORTUNES / t).read_text(encoding="utf-8", errors="replace").split("\n%\n")[:n]
        (root / t).write_text("\n%\n".join(parts) + "\n%\n")
    return root


def _summary(out):
    return json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize("name", ["fortunes-charlm", "fortunes-topic", "seq2seq", "timeseries", "fashion-vit"])
def test_builtin_configs_are_valid(name):
    cfg = C.load(name)
    assert cfg.name == name


@pytest.mark.parametrize("raw, pattern", [
    ({"data": {"dataset": "fortunes-chars"}, "model": {"type": "cnn"}},
     r"model\.type: 'cnn' does not fit dataset fortunes-chars .*char_rnn, gpt"),
    ({"data": {"dataset": "fortunes-chars", "topics": ["a"]}},
     r"data\.topics: unknown key for dataset 'fortunes-chars'.*belongs to dataset fortunes-topic"),
    ({"data": {"dataset": "seattle-weather", "target": ["snow"]}, "train": {"loss": "mse"}},
     r"data: .*target \['snow'\] must be among"),
    ({"data": {"dataset": "fortunes-chars"}, "model": {"type": "gpt", "n_heads": 3}},
     r"model\.n_heads: 3 heads must divide d_model=128"),
    ({"data": {"dataset": "seattle-weather"}}, r"train\.loss: 'cross_entropy' does not fit dataset seattle-weather"),
    ({"data": {"dataset": "fashion-mnist"}, "model": {"type": "vit", "patch_size": 5}},
     r"model\.patch_size: 5 must divide the 28x28 images"),
])
def test_sequence_config_errors_name_the_key(raw, pattern):
    with pytest.raises(C.ConfigError, match=pattern):
        C.validate(raw)


def test_overriding_the_model_type_drops_the_files_model_keys():
    cfg = C.load("fortunes-topic", {"model.type": "transformer_classifier", "model.d_model": 64})
    assert cfg.model.type == "transformer_classifier" and cfg.model.d_model == 64 and cfg.model.n_layers == 2


def test_model_type_defaults_to_the_tasks_first():
    assert C.validate({"data": {"dataset": "fortunes-topic"}}).model.type == "rnn_classifier"
    assert C.validate({"data": {"dataset": "dates"}}).model.type == "seq2seq_rnn"


@needs_fortunes
@pytest.mark.parametrize("model", ["char_rnn", "gpt"])
def test_fortunes_charlm_small(tmp_path, model):
    root = _fortune_slice(tmp_path)
    out = tmp_path / "run"
    size = (["--set", "model.hidden_size=48", "--set", "model.embed_dim=16", "--set", "model.num_layers=1"]
            if model == "char_rnn" else ["--set", "model.d_model=32", "--set", "model.n_layers=1",
                                         "--set", "model.n_heads=2"])
    run_cli("train", "fortunes-charlm", "--data", str(root), "--epochs", "2", "--set", f"model.type={model}", *size,
            "--set", "data.seq_len=48", "--set", "data.validation_split=0.1", "--set", "data.test_split=0.1",
            "--set", "output.samples=2", "--set", "output.sample_length=60", "--set", "output.plots=false",
            "--set", "train.optimizer.lr=0.01", "--quiet", "--out", str(out))
    s = _summary(out)
    vocab = len(json.loads((out / "task.json").read_text())["tokenizer"]["vocab"]["itos"])
    # Learned something: clearly better than a uniform guess over the characters.
    assert 0 < s["test_bits_per_char"] < 0.85 * math.log2(vocab)
    samples = (out / "samples.txt").read_text()
    assert samples.count("--- sample") == 2
    ev = run_cli("evaluate", str(out))
    bpc = float(next(line for line in ev.stdout.splitlines() if line.startswith("test_bits_per_char")).split()[-1])
    assert abs(bpc - s["test_bits_per_char"]) < 1e-4  # printed with 4 decimals
    rows = json.loads(run_cli("predict", str(out), "--text", "The computer ", "--json").stdout)
    assert rows[0]["text"].startswith("The computer ") and len(rows[0]["text"]) > len("The computer ")


@needs_fortunes
@pytest.mark.parametrize("model", ["rnn_classifier", "transformer_classifier"])
def test_fortunes_topic_small(tmp_path, model):
    root = _fortune_slice(tmp_path, n=120)
    out = tmp_path / "run"
    run_cli("train", "fortunes-topic", "--data", str(root), "--epochs", "4", "--set", f"model.type={model}",
            "--set", "data.validation_split=0.15", "--set", "data.test_split=0.2", "--set", "data.baseline_epochs=4",
            "--set", "output.plots=false", "--set", "data.min_freq=1", "--quiet", "--out", str(out))
    s = _summary(out)
    assert s["test_samples"] > 30
    assert 0.0 <= s["test_accuracy"] <= 1.0 and 0.0 <= s["test_baseline_accuracy"] <= 1.0
    assert s["test_baseline_accuracy"] > 0.45  # three topics: chance is 1/3
    assert "bag-of-words" in (out / "report.md").read_text()
    rows = json.loads(run_cli("predict", str(out), "--text", "Beam me up, Scotty!", "--json").stdout)
    assert rows[0]["topic"] in ("computers", "food", "startrek")


@pytest.mark.parametrize("model, dataset", [("seq2seq_rnn", "number-words"), ("seq2seq_transformer", "dates")])
def test_seq2seq_small(tmp_path, model, dataset):
    out = tmp_path / "run"
    size = (["--set", "model.hidden_size=32", "--set", "model.embed_dim=16"] if model == "seq2seq_rnn" else
            ["--set", "model.d_model=32", "--set", "model.dim_feedforward=64", "--set", "model.num_encoder_layers=1",
             "--set", "model.num_decoder_layers=1"])
    run_cli("train", "seq2seq", "--epochs", "1", "--set", f"model.type={model}", "--set", f"data.dataset={dataset}",
            *size, "--set", "data.samples=600", "--set", "output.plots=false", "--quiet", "--out", str(out))
    s = _summary(out)
    assert s["test_samples"] == 60 and 0.0 <= s["test_exact_match"] <= 1.0 and s["test_loss"] > 0
    rows = json.loads(run_cli("predict", str(out), "--text", "twenty-one", "--json").stdout)
    assert rows[0]["source"] == "twenty-one" and isinstance(rows[0]["prediction"], str)


def test_seattle_weather_forecast_small(tmp_path):
    pytest.importorskip("vega_datasets")
    out = tmp_path / "run"
    run_cli("train", "timeseries", "--epochs", "3", "--set", "model.hidden_size=16", "--set", "model.num_layers=1",
            "--set", "output.plots=false", "--quiet", "--out", str(out))
    s = _summary(out)
    # 1461 days, 15% test with 30 days of context: 219 one-day-ahead windows.
    assert s["test_samples"] == 219
    assert s["test_naive_rmse"] > 1.0 and s["test_rmse"] > 0  # degrees C
    assert abs(s["test_skill"] - (1 - s["test_rmse"] / s["test_naive_rmse"])) < 1e-12
    ev = run_cli("evaluate", str(out))
    got = float(next(line for line in ev.stdout.splitlines() if line.startswith("test_rmse")).split()[-1])
    assert abs(got - s["test_rmse"]) < 1e-4


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").exists(),
                    reason="apt-get install dataset-fashion-mnist")
def test_fashion_vit_small(tmp_path):
    out = tmp_path / "run"
    run_cli("train", "fashion-vit", "--epochs", "2", "--limit", "1024", "--set", "model.d_model=32",
            "--set", "train.scheduler.warmup_epochs=0", "--set", "train.optimizer.lr=0.003", "--set", "model.dropout=0",
            "--set", "train.label_smoothing=0",
            "--set", "model.depth=1", "--set", "model.mlp_dim=32", "--set", "model.patch_size=7",
            "--set", "output.plots=false", "--quiet", "--out", str(out))
    s = _summary(out)
    assert s["test_samples"] == 10000 and s["test_accuracy"] > 0.3
