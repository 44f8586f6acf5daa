"""Training checkpoints: exact resume, RNG states, atomic replacement, corrupt files."""
import json
import math
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nerve
from nerve.train.checkpoint import (
    CheckpointError,
    capture_rng_state,
    checkpoint_exists,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)

pytest.importorskip("safetensors")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make(seed):
    nerve.manual_seed(seed)
    model = nerve.nn.Sequential(nerve.nn.Linear(4, 8), nerve.nn.ReLU(), nerve.nn.Dropout(0.2), nerve.nn.Linear(8, 1))
    opt = nerve.optim.Adam(model.parameters(), lr=0.05)
    sched = nerve.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    return model, opt, sched


def train(model, opt, sched, steps):
    for _ in range(steps):
        x = nerve.randn(6, 4)  # drawn from the default generator, as is the dropout mask
        y = x.sum(1, keepdim=True) + float(np.random.rand()) + random.random()
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_resume_is_bit_identical(tmp_path):
    np.random.seed(1)
    random.seed(2)
    model, opt, sched = make(0)
    train(model, opt, sched, 5)
    save_checkpoint(tmp_path / "ckpt", model=model, optimizer=opt, scheduler=sched,
                    state={"epoch": 5, "history": [{"loss": 1.5}], "best": float("inf")})
    train(model, opt, sched, 5)
    expected = weights(model)

    model2, opt2, sched2 = make(123)  # other weights, other RNG states
    np.random.seed(99)
    random.seed(99)
    state = load_checkpoint(tmp_path / "ckpt", model=model2, optimizer=opt2, scheduler=sched2)
    assert state == {"epoch": 5, "history": [{"loss": 1.5}], "best": float("inf")}
    train(model2, opt2, sched2, 5)
    got = weights(model2)
    assert list(got) == list(expected)
    for k in expected:
        np.testing.assert_array_equal(got[k], expected[k], err_msg=k)
        assert got[k].dtype == expected[k].dtype
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert sched2.last_epoch == sched.last_epoch == 10
    assert opt2.state_dict()["state"][0]["step"].item() == 10


def test_checkpoint_layout(tmp_path):
    model, opt, sched = make(0)
    train(model, opt, sched, 1)
    path = tmp_path / "ckpt"
    save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, state={"epoch": 1})
    assert sorted(os.listdir(path)) == ["checkpoint.json", "model.safetensors", "optimizer.safetensors"]
    meta = json.loads((path / "checkpoint.json").read_text())
    assert meta["format"] == "nerve.checkpoint" and meta["version"] == 1 and meta["state"] == {"epoch": 1}
    assert meta["scheduler"]["step_size"] == 3 and isinstance(meta["timestamp"], float)
    assert set(meta["rng"]) == {"nerve", "numpy", "python"}
    # model.safetensors is an ordinary state dict file.
    sd = nerve.load(path / "model.safetensors")
    assert list(sd) == list(model.state_dict())
    assert [f.name for f in tmp_path.iterdir()] == ["ckpt"]  # no temp dirs left


def test_model_only_and_optimizer_mismatch(tmp_path):
    model, opt, _ = make(0)
    save_checkpoint(tmp_path / "c", model=model)
    assert load_checkpoint(tmp_path / "c", model=model) == {}
    with pytest.raises(CheckpointError, match="no optimizer state"):
        load_checkpoint(tmp_path / "c", model=model, optimizer=opt)
    with pytest.raises(RuntimeError, match="Missing key|Unexpected key"):
        load_checkpoint(tmp_path / "c", model=nerve.nn.Sequential(nerve.nn.Linear(4, 8)))


def test_scheduler_with_infinities_and_state_types(tmp_path):
    model = nerve.nn.Linear(2, 1)
    opt = nerve.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = nerve.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    assert sched.best == math.inf
    state = {"tuple": (1, 2), "int_keys": {1: "a"}, "nan": float("nan"), "np": np.float32(0.5), "s": "x"}
    save_checkpoint(tmp_path / "c", model=model, optimizer=opt, scheduler=sched, state=state)
    sched2 = nerve.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=5)
    out = load_checkpoint(tmp_path / "c", model=model, optimizer=opt, scheduler=sched2)
    assert sched2.best == math.inf and sched2.patience == 0
    assert out["tuple"] == (1, 2) and out["int_keys"] == {1: "a"} and math.isnan(out["nan"])
    assert type(out["np"]) is np.float32


def test_state_must_be_plain(tmp_path):
    model = nerve.nn.Linear(2, 1)
    with pytest.raises(TypeError, match=r"state\['history'\]\[0\]\['loss'\] is a tensor.*item"):
        save_checkpoint(tmp_path / "c", model=model, state={"history": [{"loss": nerve.tensor(1.0)}]})
    with pytest.raises(TypeError, match=r"state\['f'\] of type .*function"):
        save_checkpoint(tmp_path / "c", model=model, state={"f": lambda: 0})
    with pytest.raises(TypeError, match="state must be a dict"):
        save_checkpoint(tmp_path / "c", model=model, state=[1])
    assert not (tmp_path / "c").exists()


def test_rng_state_roundtrip():
    nerve.manual_seed(5)
    state = capture_rng_state()
    json.loads(json.dumps(state))  # JSON-serialisable as is
    a = (nerve.rand(4).tolist(), np.random.rand(3).tolist(), np.random.randn(), [random.random() for _ in range(3)])
    restore_rng_state(json.loads(json.dumps(state)))
    b = (nerve.rand(4).tolist(), np.random.rand(3).tolist(), np.random.randn(), [random.random() for _ in range(3)])
    assert a == b
    with pytest.raises(ValueError, match="malformed RNG state"):
        restore_rng_state({"numpy": {"keys": []}})
    with pytest.raises(TypeError):
        restore_rng_state([1])


def test_load_restores_rng(tmp_path):
    model = nerve.nn.Linear(2, 1)
    save_checkpoint(tmp_path / "c", model=model)
    a = (nerve.rand(3).tolist(), np.random.rand(), random.random())
    load_checkpoint(tmp_path / "c", model=model)
    assert (nerve.rand(3).tolist(), np.random.rand(), random.random()) == a


def test_resave_replaces_and_keeps_extra_files(tmp_path):
    model = nerve.nn.Linear(2, 1)
    path = tmp_path / "c"
    save_checkpoint(path, model=model, state={"epoch": 1})
    (path / "notes.txt").write_text("mine")
    with nerve.no_grad():
        model.weight.fill_(3.0)
    save_checkpoint(path, model=model, state={"epoch": 2})
    assert (path / "notes.txt").read_text() == "mine"
    m2 = nerve.nn.Linear(2, 1)
    assert load_checkpoint(path, model=m2) == {"epoch": 2}
    assert m2.weight.tolist() == [[3.0, 3.0]]
    assert [f.name for f in tmp_path.iterdir()] == ["c"]


def test_refuses_to_replace_foreign_directory(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "precious.csv").write_text("1,2")
    with pytest.raises(FileExistsError, match="not a nerve checkpoint"):
        save_checkpoint(d, model=nerve.nn.Linear(2, 1))
    assert (d / "precious.csv").read_text() == "1,2"
    (tmp_path / "f").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        save_checkpoint(tmp_path / "f", model=nerve.nn.Linear(2, 1))


def test_exists_and_missing(tmp_path):
    assert not checkpoint_exists(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nope", model=nerve.nn.Linear(2, 1))
    save_checkpoint(tmp_path / "a" / "b", model=nerve.nn.Linear(2, 1))  # parents created
    assert checkpoint_exists(tmp_path / "a" / "b")


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_failed_replace_keeps_previous_checkpoint(tmp_path, monkeypatch, fail_at):
    """os.replace failing at its 1st call (old -> aside), 2nd (new -> in) or for good from the 2nd on."""
    model = nerve.nn.Linear(2, 1)
    path = tmp_path / "c"
    save_checkpoint(path, model=model, state={"epoch": 1})
    real_replace = os.replace
    calls = []

    def flaky(src, dst):
        calls.append((src, dst))
        if len(calls) == fail_at or (fail_at == 3 and len(calls) >= 2):
            raise OSError("simulated crash")
        return real_replace(src, dst)
    monkeypatch.setattr(os, "replace", flaky)
    with nerve.no_grad():
        model.weight.fill_(7.0)
    with pytest.raises(OSError, match="simulated crash"):
        save_checkpoint(path, model=model, state={"epoch": 2})
    monkeypatch.undo()
    assert checkpoint_exists(path)
    m2 = nerve.nn.Linear(2, 1)
    if fail_at == 3:  # the rollback failed too: the previous checkpoint waits beside the target
        with pytest.warns(RuntimeWarning, match="interrupted save_checkpoint"):
            assert load_checkpoint(path, model=m2) == {"epoch": 1}
    else:
        assert load_checkpoint(path, model=m2) == {"epoch": 1}
    assert m2.weight.tolist() != [[7.0, 7.0]]
    # The next save cleans up whatever was left.
    save_checkpoint(path, model=model, state={"epoch": 3})
    assert [f.name for f in tmp_path.iterdir()] == ["c"]
    assert load_checkpoint(path, model=m2) == {"epoch": 3}


KILLED_WRITER = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    import nerve
    from nerve.train.checkpoint import save_checkpoint
    model = nerve.nn.Linear(2, 1)
    path = sys.argv[1]
    save_checkpoint(path, model=model, state={{"epoch": 1}})
    real, n = os.replace, [0]
    def replace(src, dst):
        n[0] += 1
        if n[0] == int(sys.argv[2]):
            os._exit(9)  # killed: no exception handler, no cleanup
        return real(src, dst)
    os.replace = replace
    save_checkpoint(path, model=model, state={{"epoch": 2}})
""")


@pytest.mark.parametrize("kill_at,epoch", [(1, 1), (2, 2)])
def test_killed_writer_leaves_a_complete_checkpoint(tmp_path, kill_at, epoch):
    path = tmp_path / "c"
    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER.format(root=ROOT))
    r = subprocess.run([sys.executable, str(script), str(path), str(kill_at)], capture_output=True, text=True,
                       check=False)
    assert r.returncode == 9, r.stderr
    assert checkpoint_exists(path)
    model = nerve.nn.Linear(2, 1)
    if kill_at == 2:  # killed between the two renames: the new checkpoint is complete beside the target
        with pytest.warns(RuntimeWarning, match="interrupted"):
            assert load_checkpoint(path, model=model) == {"epoch": epoch}
    else:
        assert load_checkpoint(path, model=model) == {"epoch": epoch}
    save_checkpoint(path, model=model, state={"epoch": 3})
    assert sorted(f.name for f in tmp_path.iterdir()) == ["c", "writer.py"]


def _saved(tmp_path):
    model, opt, sched = make(0)
    train(model, opt, sched, 1)
    path = tmp_path / "c"
    save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, state={"epoch": 1})
    return path, model, opt, sched


def test_corrupt_json(tmp_path):
    path, model, opt, _ = _saved(tmp_path)
    (path / "checkpoint.json").write_text('{"format": "nerve.checkpoint", "version": 1, "state": ')
    before = weights(model)
    with pytest.raises(CheckpointError, match=r"checkpoint\.json.*JSON error"):
        load_checkpoint(path, model=model, optimizer=opt)
    (path / "checkpoint.json").write_text(json.dumps({"format": "nerve.checkpoint", "version": 99}))
    with pytest.raises(CheckpointError, match="version mismatch"):
        load_checkpoint(path, model=model)
    (path / "checkpoint.json").write_text("[]")
    with pytest.raises(CheckpointError, match="not a nerve checkpoint"):
        load_checkpoint(path, model=model)
    assert all(np.array_equal(before[k], v) for k, v in weights(model).items())


def test_truncated_and_modified_safetensors(tmp_path):
    path, model, opt, sched = _saved(tmp_path)
    mfile = path / "model.safetensors"
    data = mfile.read_bytes()
    before = weights(model)
    mfile.write_bytes(data[:-7])
    with pytest.raises(CheckpointError, match=r"model\.safetensors.*truncated"):
        load_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    # Without the recorded size, the safetensors reader itself reports it.
    meta = json.loads((path / "checkpoint.json").read_text())
    meta_no_sizes = dict(meta, files={"model": {"file": "model.safetensors"},
                                      "optimizer": {"file": "optimizer.safetensors"}})
    (path / "checkpoint.json").write_text(json.dumps(meta_no_sizes))
    with pytest.raises(CheckpointError, match=r"model\.safetensors.*truncated data"):
        load_checkpoint(path, model=model)
    mfile.write_bytes(data)
    (path / "checkpoint.json").write_text(json.dumps(meta))
    ofile = path / "optimizer.safetensors"
    odata = bytearray(ofile.read_bytes())
    odata[-1] ^= 1
    ofile.write_bytes(bytes(odata))
    with pytest.raises(CheckpointError, match=r"optimizer\.safetensors.*SHA-256"):
        load_checkpoint(path, model=model, optimizer=opt)
    ofile.unlink()
    with pytest.raises(CheckpointError, match=r"optimizer\.safetensors.*missing file"):
        load_checkpoint(path, model=model, optimizer=opt)
    assert all(np.array_equal(before[k], v) for k, v in weights(model).items())
