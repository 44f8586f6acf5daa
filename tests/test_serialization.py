"""nerve.save / nerve.load: round trips, file objects, atomic writes, corrupt files, foreign files."""
import io
import json
import math
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import nerve
from nerve.serialization import SerializationError

safetensors_numpy = pytest.importorskip("safetensors.numpy")

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_]


def roundtrip(obj, **load_kw):
    buf = io.BytesIO()
    nerve.save(obj, buf)
    buf.seek(0)
    return nerve.load(buf, **load_kw)


def assert_same_tensor(a, b):
    assert isinstance(b, nerve.Tensor)
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def sample(dtype, shape):
    rng = np.random.default_rng(0)
    arr = rng.integers(-100, 100, size=shape) if np.dtype(dtype).kind in "iu" else rng.standard_normal(shape)
    if dtype is np.uint8:
        arr = np.abs(arr)
    return nerve.from_numpy(np.asarray(arr > 0 if dtype is np.bool_ else arr).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (5,), (2, 3, 4)], ids=str)
def test_tensor_roundtrip_dtypes_shapes(dtype, shape):
    t = sample(dtype, shape)
    out = roundtrip(t)
    assert_same_tensor(t, out)
    out.add_(1) if dtype is not np.bool_ else out.logical_not_()  # loaded arrays are writable


def test_non_contiguous_tensors():
    base = nerve.arange(24.0).reshape(2, 3, 4)
    views = [base.transpose(0, 2), base[:, ::2, 1:], base.permute(2, 0, 1)[1], base[..., 0]]
    assert not any(v.is_contiguous() for v in views[:3])
    out = roundtrip(views)
    for v, o in zip(views, out):
        assert_same_tensor(v, o)


def test_state_dict_roundtrip_and_load_into_model(tmp_path):
    nerve.manual_seed(0)
    m = nerve.nn.Sequential(nerve.nn.Linear(3, 4), nerve.nn.BatchNorm1d(4), nerve.nn.Linear(4, 2))
    sd = m.state_dict()
    p = tmp_path / "m.safetensors"
    nerve.save(sd, p)
    out = nerve.load(p)
    assert isinstance(out, OrderedDict) and list(out) == list(sd)
    assert out._metadata == sd._metadata
    for k in sd:
        assert_same_tensor(sd[k], out[k])
    assert out["1.num_batches_tracked"].dtype == nerve.int64
    m2 = nerve.nn.Sequential(nerve.nn.Linear(3, 4), nerve.nn.BatchNorm1d(4), nerve.nn.Linear(4, 2))
    m2.load_state_dict(nerve.load(str(p)))
    for k, v in m2.state_dict().items():
        assert_same_tensor(sd[k], v)
    # An ordinary safetensors state dict for other tools.
    plain = safetensors_numpy.load_file(p)
    assert sorted(plain) == sorted(sd)


def test_optimizer_state_dict_roundtrip():
    nerve.manual_seed(0)
    m = nerve.nn.Linear(3, 2)
    opt = nerve.optim.Adam(m.parameters(), lr=0.01, amsgrad=True)
    m(nerve.randn(4, 3)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    out = roundtrip(sd)
    assert out["param_groups"] == sd["param_groups"]
    assert isinstance(out["param_groups"][0]["betas"], tuple)
    assert list(out["state"]) == [0, 1]
    for i in (0, 1):
        assert set(out["state"][i]) == set(sd["state"][i])
        for k, v in sd["state"][i].items():
            assert_same_tensor(v, out["state"][i][k])
    opt2 = nerve.optim.Adam(m.parameters(), lr=0.5)
    opt2.load_state_dict(out)
    assert opt2.param_groups[0]["lr"] == 0.01


def test_containers_and_scalars():
    t = nerve.randn(3)
    obj = {
        "list": [t, 1, 2.5, None, "s", True],
        "tuple": (t, (1, 2)),
        "nested": {"a": {"b": [t * 2]}},
        "int_keys": {0: "zero", 1: t, (2, 3): "tuple key", None: 1},
        "floats": [float("inf"), float("-inf"), float("nan"), -0.0, 1e-310, 0.1 + 0.2],
        "big_int": 2 ** 100,
        "np": [np.float32(1.5), np.int64(7), np.bool_(True), np.arange(3.0)],
        "__tensor__": "a user key that looks like a tag",
        "dtype": nerve.float16,
        "device": nerve.device("cpu"),
    }
    out = roundtrip(obj)
    assert out["list"][1:] == [1, 2.5, None, "s", True]
    assert_same_tensor(t, out["list"][0])
    assert isinstance(out["tuple"], tuple) and out["tuple"][1] == (1, 2)
    assert_same_tensor(t * 2, out["nested"]["a"]["b"][0])
    assert out["int_keys"][0] == "zero" and out["int_keys"][(2, 3)] == "tuple key" and out["int_keys"][None] == 1
    f = out["floats"]
    assert f[0] == math.inf and f[1] == -math.inf and math.isnan(f[2])
    assert math.copysign(1, f[3]) == -1 and f[4] == 1e-310 and f[5] == 0.1 + 0.2
    assert out["big_int"] == 2 ** 100
    assert type(out["np"][0]) is np.float32 and out["np"][0] == 1.5 and type(out["np"][1]) is np.int64
    assert type(out["np"][2]) is np.bool_
    assert isinstance(out["np"][3], np.ndarray) and out["np"][3].tolist() == [0.0, 1.0, 2.0]
    assert out["__tensor__"] == "a user key that looks like a tag"
    assert out["dtype"] == nerve.float16 and out["device"] == nerve.device("cpu")


@pytest.mark.parametrize("obj", [{}, [], (), None, 3, "s", OrderedDict()], ids=repr)
def test_objects_without_tensors(obj):
    out = roundtrip(obj)
    assert out == obj and type(out) is type(obj)


def test_shared_tensors_stored_once():
    w = nerve.randn(100, 10)
    buf = io.BytesIO()
    nerve.save({"a": w, "b": w, "c": w.detach(), "d": w[1:]}, buf)
    assert len(safetensors_numpy.load(buf.getvalue())) == 2  # w once, plus the slice (a different view)
    buf.seek(0)
    out = nerve.load(buf)
    assert out["a"] is out["b"]
    for k in "abc":
        assert_same_tensor(w, out[k])
    assert_same_tensor(w[1:], out["d"])


def test_parameter_and_requires_grad_kept():
    p = nerve.nn.Parameter(nerve.randn(2, 2))
    t = nerve.randn(3, requires_grad=True)
    out = roundtrip([p, t, t * 2])
    assert isinstance(out[0], nerve.nn.Parameter) and out[0].requires_grad
    assert out[1].requires_grad and out[1].is_leaf
    assert out[2].requires_grad and out[2].is_leaf  # a non-leaf loads as a leaf, as in PyTorch


def test_map_location_and_kwargs_accepted(tmp_path):
    t = nerve.randn(2)
    p = tmp_path / "t.safetensors"
    nerve.save(t, p, pickle_protocol=4)
    for loc in ("cpu", nerve.device("cpu"), {"cuda:0": "cpu"}, lambda tensor, loc: tensor):
        assert_same_tensor(t, nerve.load(p, map_location=loc, weights_only=False))
    assert_same_tensor(t, nerve.load(p, mmap=True))
    with pytest.raises(TypeError, match="map_location"):
        nerve.load(p, map_location=3)


@pytest.mark.skipif(nerve.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_tensor_on_cpu_only_machine(tmp_path):
    p = tmp_path / "gpu.safetensors"
    p.write_bytes(safetensors_numpy.save({"x": np.ones(2, np.float32)}, metadata={
        "nerve_format": "1", "nerve_structure": json.dumps({"w": {"__tensor__": "x", "device": "cuda:0"}})}))
    with pytest.raises(RuntimeError, match="CUDA device.*map_location='cpu'"):
        nerve.load(p)
    for loc in ("cpu", {"cuda:0": "cpu"}, {"cuda": "cpu"}):
        out = nerve.load(p, map_location=loc)["w"]
        assert out.device == nerve.device("cpu") and out.tolist() == [1.0, 1.0]


def test_mmap_loaded_tensors_are_private_copies(tmp_path):
    p = tmp_path / "t.safetensors"
    nerve.save({"x": nerve.zeros(4), "e": nerve.zeros(0)}, p)
    out = nerve.load(p, mmap=True)
    out["x"].add_(1)
    assert nerve.load(p)["x"].tolist() == [0.0] * 4
    with pytest.raises(ValueError, match="file path"):
        nerve.load(io.BytesIO(p.read_bytes()), mmap=True)


def test_file_object_position_and_real_file(tmp_path):
    buf = io.BytesIO(b"prefix")
    buf.seek(0, io.SEEK_END)
    nerve.save({"x": nerve.ones(2)}, buf)
    buf.seek(6)
    assert nerve.load(buf)["x"].tolist() == [1.0, 1.0]
    p = tmp_path / "f.safetensors"
    with open(p, "wb") as fh:
        nerve.save([nerve.ones(3)], fh)
    with open(p, "rb") as fh:
        assert nerve.load(fh)[0].tolist() == [1.0] * 3


def test_unsupported_objects_refused_without_pickling(tmp_path):
    with pytest.raises(TypeError, match="Module.*state_dict"):
        nerve.save(nerve.nn.Linear(2, 2), tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match=r"obj\['a'\]\[1\] of type .*set"):
        nerve.save({"a": [1, {2}]}, io.BytesIO())
    with pytest.raises(TypeError, match="path .* or a binary file object"):
        nerve.save({}, 3)
    assert not list(tmp_path.iterdir())


def test_plain_safetensors_file_loads_as_dict(tmp_path):
    p = tmp_path / "other.safetensors"
    arrays = {"b.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "a.count": np.array(3, dtype=np.int64),
              "u": np.array([1, 65535], dtype=np.uint16)}
    safetensors_numpy.save_file(arrays, p, metadata={"format": "pt"})
    out = nerve.load(p)
    assert set(out) == set(arrays)
    assert out["b.weight"].tolist() == arrays["b.weight"].tolist() and out["a.count"].dtype == nerve.int64
    assert out["a.count"].shape == () and out["u"].dtype == nerve.int32 and out["u"].tolist() == [1, 65535]


def test_bfloat16_file_loads_as_float32(tmp_path):
    vals = np.array([1.0, -2.5, 3.140625], dtype=np.float32)
    bf16 = (vals.view(np.uint32) >> 16).astype(np.uint16)
    header = json.dumps({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}).encode()
    p = tmp_path / "bf16.safetensors"
    p.write_bytes(len(header).to_bytes(8, "little") + header + bf16.tobytes())
    out = nerve.load(p)["w"]
    assert out.dtype == nerve.float32 and out.tolist() == vals.tolist()


def test_torch_pickles_refused(tmp_path):
    zp = tmp_path / "model.pt"
    with zipfile.ZipFile(zp, "w") as z:  # the layout torch.save writes
        z.writestr("archive/data.pkl", pickle.dumps({"x": 1}))
    with pytest.raises(SerializationError, match="never unpickles.*safetensors.torch.save_file"):
        nerve.load(zp)
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(pickle.dumps({"x": 1}, protocol=2))
    with pytest.raises(SerializationError, match="pickle.*never unpickles"):
        nerve.load(legacy)
    npy = tmp_path / "a.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(SerializationError, match="numpy.load"):
        nerve.load(npy)


def test_real_torch_file_refused(tmp_path):
    torch = pytest.importorskip("torch")
    p = tmp_path / "t.pt"
    torch.save({"w": torch.ones(2)}, p)
    with pytest.raises(SerializationError, match="PyTorch.*never unpickles"):
        nerve.load(p)


def test_torch_tensors_saved_as_nerve_tensors():
    torch = pytest.importorskip("torch")
    out = roundtrip({"w": torch.arange(4.0).reshape(2, 2).t()})
    assert isinstance(out["w"], nerve.Tensor) and out["w"].tolist() == [[0.0, 2.0], [1.0, 3.0]]


def test_atomic_write_crash_keeps_old_file(tmp_path, monkeypatch):
    p = tmp_path / "w.safetensors"
    nerve.save({"x": nerve.zeros(3)}, p)
    before = p.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed between temp write and replace")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        nerve.save({"x": nerve.ones(1000)}, p)
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert nerve.load(p)["x"].tolist() == [0.0] * 3
    assert [f.name for f in tmp_path.iterdir()] == ["w.safetensors"]  # the temp file was removed


def test_truncated_file_errors(tmp_path):
    p = tmp_path / "t.safetensors"
    nerve.save({"weight": nerve.randn(50)}, p)
    data = p.read_bytes()
    p.write_bytes(data[:-10])
    with pytest.raises(SerializationError, match=r"t\.safetensors.*truncated data.*'weight'"):
        nerve.load(p)
    # Through a non-seekable-size path too (file object without a known size).
    with pytest.raises(SerializationError, match="truncated data"):
        nerve.load(io.BufferedReader(io.BytesIO(data[:-10])))
    p.write_bytes(data[:40])
    with pytest.raises(SerializationError, match="truncated header"):
        nerve.load(p)
    p.write_bytes(data[:5])
    with pytest.raises(SerializationError, match="truncated file"):
        nerve.load(p)
    p.write_bytes(b"")
    with pytest.raises(SerializationError, match="truncated file"):
        nerve.load(p)
    with pytest.raises(FileNotFoundError):
        nerve.load(tmp_path / "missing.safetensors")
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):
        nerve.save({}, tmp_path / "no" / "dir.safetensors")


def test_corrupt_header_errors(tmp_path):
    p = tmp_path / "c.safetensors"
    nerve.save({"weight": nerve.randn(4)}, p)
    data = bytearray(p.read_bytes())
    bad = bytearray(data)
    bad[8] ^= 0xFF  # the opening brace of the JSON header
    p.write_bytes(bytes(bad))
    with pytest.raises(SerializationError, match=r"c\.safetensors.*bad header.*not valid JSON"):
        nerve.load(p)
    bad = bytearray(data)
    bad[7] = 0x7F  # an absurd header size
    p.write_bytes(bytes(bad))
    with pytest.raises(SerializationError, match="bad header.*header size"):
        nerve.load(p)
    # Data offsets that do not match dtype x shape.
    n = int.from_bytes(data[:8], "little")
    header = json.loads(bytes(data[8:8 + n]))
    header["weight"]["shape"] = [5]
    h = json.dumps(header).encode()
    p.write_bytes(len(h).to_bytes(8, "little") + h + bytes(data[8 + n:]))
    with pytest.raises(SerializationError, match="'weight'.*needs 20 bytes.*span 16"):
        nerve.load(p)


def test_missing_tensor_and_version_mismatch(tmp_path):
    p = tmp_path / "v.safetensors"
    data = safetensors_numpy.save({"a": np.zeros(2, np.float32)}, metadata={
        "nerve_format": "1", "nerve_structure": json.dumps({"x": {"__tensor__": "b"}})})
    p.write_bytes(data)
    with pytest.raises(SerializationError, match="missing tensor 'b'"):
        nerve.load(p)
    p.write_bytes(safetensors_numpy.save({"a": np.zeros(2, np.float32)}, metadata={
        "nerve_format": "99", "nerve_structure": "{}"}))
    with pytest.raises(SerializationError, match="version mismatch.*newer nerve"):
        nerve.load(p)
    p.write_bytes(safetensors_numpy.save({"a": np.zeros(2, np.float32)}, metadata={
        "nerve_format": "1", "nerve_structure": "{not json"}))
    with pytest.raises(SerializationError, match="nerve_structure is not valid JSON"):
        nerve.load(p)


def test_loading_never_unpickles(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("pickle used")
    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "Unpickler", boom)
    p = tmp_path / "x.safetensors"
    nerve.save({"a": [nerve.ones(2), {"b": (1, 2)}]}, p)
    assert nerve.load(p)["a"][1]["b"] == (1, 2)


def test_directory_gives_clear_error(tmp_path):
    with pytest.raises(IsADirectoryError, match="load_checkpoint"):
        nerve.load(tmp_path)
